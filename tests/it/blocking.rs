//! The blocking connector works in plain code and inside running tokio runtimes of both
//! flavours, the situations a notebook kernel creates.

use polars::prelude::*;
use s3io::ErrorKind;
use s3io::blocking::S3Connector;
use s3io::local::LocalS3;

/// A round of typical notebook calls, checking the values that come back.
fn notebook_session(s3: &S3Connector) {
    s3.create_bucket("nbk").unwrap();
    let df = df!("city" => ["Oslo", "Lima"], "temp" => [4.5, 19.0]).unwrap();
    s3.upload("nbk", "weather.csv", &df).unwrap();
    s3.upload("nbk", "weather.xlsx", &df).unwrap();
    assert!(
        s3.download_frame("nbk", "weather.xlsx")
            .unwrap()
            .equals(&df)
    );
    let names: Vec<String> = s3
        .list_buckets()
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, ["nbk"]);
    let keys: Vec<String> = s3
        .list_objects("nbk", "")
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(keys, ["weather.csv", "weather.xlsx"]);
    assert_eq!(s3.list_frame("nbk", "").unwrap().height(), 2);
    let err = s3.download("nbk", "missing.csv").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        "download s3://nbk/missing.csv (csv): NoSuchKey: The specified key does not exist."
    );
    assert!(
        format!("{err:?}").contains("caused_by"),
        "Debug shows the chain"
    );
}

#[test]
fn works_in_plain_code() {
    let server = LocalS3::start().unwrap();
    let s3 = S3Connector::new(server.builder()).unwrap();
    notebook_session(&s3);
}

#[tokio::test(flavor = "current_thread")]
async fn works_inside_a_current_thread_runtime() {
    let server = LocalS3::start().unwrap();
    let s3 = S3Connector::new(server.builder()).unwrap();
    notebook_session(&s3);
    // Dropping it here, inside the runtime, must not panic either.
    drop(s3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_inside_a_multi_thread_runtime_like_evcxr() {
    let server = LocalS3::start().unwrap();
    let s3 = S3Connector::new(server.builder()).unwrap();
    notebook_session(&s3);
    // The async API stays at hand through the same connector.
    let object = s3
        .as_async()
        .unwrap()
        .object_at("s3://nbk/weather.csv")
        .unwrap();
    let head = s3.block_on(object.head()).unwrap().unwrap();
    assert!(head.size > 0);
    drop(s3);
}

#[test]
fn settings_carry_over_to_new_connectors() {
    let server = LocalS3::start().unwrap();
    let s3 = S3Connector::new(server.builder()).unwrap();
    s3.create_bucket("limits").unwrap();
    s3.upload("limits", "big.txt", "0123456789".repeat(100))
        .unwrap();
    let strict = s3.with_limits(s3io::Limits::new().max_object_size(10));
    let err = strict.download("limits", "big.txt").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
    let text = s3.download_text("limits", "big.txt").unwrap();
    assert_eq!(text.len(), 1000, "the original keeps its limits");
}

/// The `pub fn` names of every `impl S3Connector { ... }` block in `source`, and with
/// `macro_entries` the `fn` lines of the blocking twins' table too.
fn connector_methods(source: &str, macro_entries: bool) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("impl S3Connector {") {
        let body = &rest[at + "impl S3Connector ".len()..];
        let mut depth = 0;
        let end = body
            .char_indices()
            .find_map(|(i, c)| {
                depth += match c {
                    '{' => 1,
                    '}' => -1,
                    _ => 0,
                };
                (depth == 0).then_some(i)
            })
            .unwrap_or(body.len());
        for line in body[..end].lines() {
            let line = line.trim_start();
            let signature = line
                .strip_prefix("pub async fn ")
                .or_else(|| line.strip_prefix("pub fn "))
                .or_else(|| line.strip_prefix("fn ").filter(|_| macro_entries));
            if let Some(signature) = signature {
                let name: String = signature
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                // `pub async fn $name(` in a macro: the object verbs' table, whose shorthands
                // and blocking twins are generated from one list, so twins by construction.
                if !name.is_empty() {
                    names.push(name);
                }
            }
        }
        rest = &body[end..];
    }
    names
}

/// Every verb of the async connector, wherever it is written, has its blocking twin, so the
/// two cannot drift apart. The exceptions are listed with their reason.
#[test]
fn every_async_verb_has_a_blocking_twin() {
    let async_sources = [
        include_str!("../../src/connector.rs"),
        include_str!("../../src/object.rs"),
        include_str!("../../src/list.rs"),
        include_str!("../../src/many.rs"),
        include_str!("../../src/dirs.rs"),
        include_str!("../../src/admin.rs"),
        include_str!("../../src/session.rs"),
    ];
    let blocking = connector_methods(include_str!("../../src/blocking.rs"), true);
    // Handles that return the async `S3Object`: a blocking `S3Object` is issue #19's. Until
    // then, `block_on(s3.as_async()?.object(..).verb())` reaches them.
    let not_yet = ["object", "object_at"];
    // Async-only by nature: the SDK client is `client()` on both; these return async types.
    let by_nature = ["client", "with_transfer", "with_limits", "builder"];
    let mut missing: Vec<String> = async_sources
        .iter()
        .flat_map(|source| connector_methods(source, false))
        .filter(|name| !blocking.contains(name))
        .filter(|name| !not_yet.contains(&name.as_str()) && !by_nature.contains(&name.as_str()))
        .collect();
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "async verbs without a blocking twin: {missing:?}"
    );
    // The walk really read the files: the hand-written and listed twins, besides the ones
    // the object verbs' table generates (55 when this was written).
    assert!(
        blocking.len() > 40,
        "the walk found {} twins",
        blocking.len()
    );
}
