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

#[test]
fn schema_and_columns_have_blocking_twins() {
    let server = LocalS3::start().unwrap();
    let s3 = S3Connector::new(server.builder()).unwrap();
    s3.create_bucket("nbk").unwrap();
    let df = df!("city" => ["Oslo", "Lima"], "temp" => [4.5, 19.0]).unwrap();
    s3.upload("nbk", "weather.parquet", &df).unwrap();
    assert_eq!(
        &s3.schema("nbk", "weather.parquet").unwrap(),
        df.schema().as_ref()
    );
    let object = s3.object("nbk", "weather.parquet");
    let temp = s3io::ReadOptions::parquet().columns(["temp"]).n_rows(1);
    let got = object.download_frame_with(temp).unwrap();
    assert!(got.equals(&df.select(["temp"]).unwrap().head(Some(1))));
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

/// The `pub fn` names of every `impl <ty> { ... }` block in `source`, and with
/// `macro_entries` the `fn` lines of the blocking twins' table too.
fn methods_of(ty: &str, source: &str, macro_entries: bool) -> Vec<String> {
    let opening = format!("impl {ty} {{");
    let mut names = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(&opening) {
        let body = &rest[at + opening.len() - 1..];
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
                // `pub async fn $name(` in a macro: a table's entry, whose twins are generated
                // from the same table (read by `table_entries`).
                if !name.is_empty() {
                    names.push(name);
                }
            }
        }
        rest = &body[end..];
    }
    names
}

/// The names in the table of `macro_rules! <table>`: lines such as `name(args) -> T;`.
fn table_entries(table: &str, source: &str) -> Vec<String> {
    let at = source
        .find(&format!("macro_rules! {table}"))
        .unwrap_or_else(|| panic!("no table {table}"));
    let body = &source[at..];
    let body = &body[..body.find("\n}\n").unwrap_or(body.len())];
    body.lines()
        .map(str::trim)
        .filter(|line| line.ends_with(';') && line.contains('('))
        .map(|line| {
            line.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .filter(|name: &String| !name.is_empty())
        .collect()
}

/// The names of the types in `source` with an `impl` block holding an `async fn` or
/// returning a stream: the async API's types, each of which needs a blocking twin.
fn async_types(source: &str) -> Vec<String> {
    let mut types = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("\nimpl ") {
        let header = &rest[at + "\nimpl ".len()..];
        let name: String = header
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let next = header.find("\nimpl ").unwrap_or(header.len());
        let body = &header[..next];
        let is_async = body.contains("pub async fn") || body.contains("impl Stream<");
        if is_async && header[name.len()..].starts_with(" {") && !types.contains(&name) {
            types.push(name);
        }
        rest = header;
    }
    types
}

/// Every verb and type of the async API, wherever it is written, has its blocking twin, so
/// the two cannot drift apart: the connector, its builder and the object handle, by name and
/// by method, with the methods the shared tables generate on both sides.
#[test]
fn every_async_verb_has_a_blocking_twin() {
    let connector = include_str!("../../src/connector.rs");
    let session = include_str!("../../src/session.rs");
    let async_sources = [
        connector,
        include_str!("../../src/object.rs"),
        include_str!("../../src/list.rs"),
        include_str!("../../src/many.rs"),
        include_str!("../../src/dataset.rs"),
        include_str!("../../src/dirs.rs"),
        include_str!("../../src/admin.rs"),
        include_str!("../../src/lazy.rs"),
        session,
    ];
    let blocking = include_str!("../../src/blocking.rs");

    // Types: each async type has a blocking one of the same name.
    let mut types: Vec<String> = async_sources.iter().flat_map(|s| async_types(s)).collect();
    types.sort();
    types.dedup();
    assert_eq!(types, ["S3Connector", "S3ConnectorBuilder", "S3Object"]);
    for ty in &types {
        assert!(
            blocking.contains(&format!("pub struct {ty} {{")),
            "no blocking twin of the type {ty}"
        );
    }

    // Methods: the tables generate twins on both sides; the rest are written by hand.
    let object_table = table_entries("object_verbs", connector);
    let settings_table = table_entries("builder_settings", session);
    assert!(object_table.len() >= 16 && settings_table.len() >= 13);
    for generated in [
        "object_verbs!(blocking_shorthands);",
        "object_verbs!(blocking_object_verbs);",
        "builder_settings!(blocking_settings);",
    ] {
        assert!(
            blocking.contains(generated),
            "blocking.rs lacks {generated}"
        );
    }
    let tables = |ty: &str| match ty {
        "S3Connector" | "S3Object" => object_table.clone(),
        _ => settings_table.clone(),
    };
    let mut missing = Vec::new();
    for ty in &types {
        let mut twins = methods_of(ty, blocking, true);
        twins.extend(tables(ty));
        for name in async_sources.iter().flat_map(|s| methods_of(ty, s, false)) {
            if !twins.contains(&name) {
                missing.push(format!("{ty}::{name}"));
            }
        }
    }
    // The builder's table lists every setting the async builder has.
    for name in methods_of("S3ConnectorBuilder", session, false) {
        if name != "build" && !settings_table.contains(&name) {
            missing.push(format!("builder_settings! lacks {name}"));
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "async verbs without a blocking twin: {missing:?}"
    );
    // The walk really read the files.
    let connector_twins = methods_of("S3Connector", blocking, true).len() + object_table.len();
    assert!(
        connector_twins > 60,
        "the walk found {connector_twins} twins"
    );
}

/// The blocking builder chain gives a blocking connector, and the blocking object handle
/// mirrors the async one.
#[test]
fn the_builder_chain_and_object_handles_block() {
    let server = LocalS3::start().unwrap();
    let s3 = S3Connector::builder()
        .endpoint_url(server.endpoint_url())
        .region("us-east-1")
        .credentials(s3io::local::ACCESS_KEY_ID, s3io::local::SECRET_ACCESS_KEY)
        .max_attempts(2)
        .build()
        .unwrap();
    s3.create_bucket("chain").unwrap();
    let object = s3.object("chain", "a/b.json");
    object.upload(serde_json::json!({"n": 1})).unwrap();
    assert_eq!(object.download_json().unwrap()["n"], 1);
    assert!(object.exists().unwrap());
    let at = s3.object_at("s3://chain/a/b.json").unwrap();
    assert_eq!(at.uri(), "s3://chain/a/b.json");
    assert_eq!(at.head().unwrap().key, "a/b.json");
    at.delete().unwrap();
    assert!(!object.exists().unwrap());
    let err = s3.object_at("http://nope").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}
