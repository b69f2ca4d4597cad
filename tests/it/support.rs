//! Shared test helpers: a fresh server and bucket per test, fixtures, and column readers.

use bytes::Bytes;
use s3io::S3Connector;
use s3io::local::LocalS3;
use s3io::polars::prelude::*;

/// The bucket every test gets.
pub const BUCKET: &str = "s3io-test";

/// A running server, a connector to it, and an empty bucket.
pub struct TestS3 {
    pub server: LocalS3,
    pub s3: S3Connector,
}

/// Starts a server and creates [`BUCKET`].
pub async fn start() -> TestS3 {
    let server = LocalS3::start().expect("local S3 server starts");
    let s3 = server.connect().await.expect("connector builds");
    s3.create_bucket(BUCKET).await.expect("bucket is created");
    TestS3 { server, s3 }
}

/// The bytes of a file under the repository's `fixtures/` (found from this package's folder
/// upwards, so the command line's tests, which share this file, find it too).
pub fn fixture(path: &str) -> Bytes {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest
        .ancestors()
        .find(|dir| dir.join("fixtures").is_dir())
        .unwrap_or(manifest);
    let full = format!("{}/fixtures/{path}", root.display());
    std::fs::read(&full)
        .unwrap_or_else(|e| panic!("fixture {full}: {e}"))
        .into()
}

impl TestS3 {
    /// Uploads a fixture's bytes unchanged under `key`.
    pub async fn put_fixture(&self, path: &str, key: &str) {
        self.s3
            .upload(BUCKET, key, fixture(path))
            .await
            .unwrap_or_else(|e| panic!("uploading fixture {path}: {e}"));
    }
}

fn column<'a>(df: &'a DataFrame, name: &str) -> &'a Column {
    df.column(name).unwrap_or_else(|e| {
        panic!(
            "column {name}: {e}; columns are {:?}",
            df.get_column_names()
        )
    })
}

pub fn ints(df: &DataFrame, name: &str) -> Vec<Option<i64>> {
    column(df, name)
        .i64()
        .expect("Int64 column")
        .iter()
        .collect()
}

pub fn floats(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    column(df, name)
        .f64()
        .expect("Float64 column")
        .iter()
        .collect()
}

pub fn strs(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    let col = column(df, name);
    col.str()
        .unwrap_or_else(|e| panic!("{name} is {}, not String: {e}", col.dtype()))
        .iter()
        .map(|s| s.map(str::to_owned))
        .collect()
}

pub fn bools(df: &DataFrame, name: &str) -> Vec<Option<bool>> {
    column(df, name)
        .bool()
        .expect("Boolean column")
        .iter()
        .collect()
}

/// A Date or Datetime column as text: `2024-01-15` or `2024-01-15 13:45:30`.
pub fn temporal(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    let col = column(df, name);
    assert!(
        matches!(col.dtype(), DataType::Date | DataType::Datetime(..)),
        "{name} is {}, not a date",
        col.dtype()
    );
    let text = col.cast(&DataType::String).expect("dates format as text");
    text.str()
        .expect("String after cast")
        .iter()
        .map(|s| s.map(|s| s.trim_end_matches(".000000").to_owned()))
        .collect()
}

/// `Some(x)` for every value: the expected column without nulls.
pub fn all<T: Clone>(values: &[T]) -> Vec<Option<T>> {
    values.iter().cloned().map(Some).collect()
}

pub fn owned(values: &[Option<&str>]) -> Vec<Option<String>> {
    values.iter().map(|v| v.map(str::to_owned)).collect()
}

/// Whether `S3IO_REQUIRE_<what>` turns a skip into a failure: `1`, `true`, `yes`, `on` (any
/// case) say yes; unset, empty, `0`, `false`, `no`, `off` say no; anything else stops the
/// test, so a typo cannot turn a requirement off.
pub fn required(what: &str) -> bool {
    let name = format!("S3IO_REQUIRE_{what}");
    let Some(value) = std::env::var_os(&name) else {
        return false;
    };
    match value.to_string_lossy().trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => true,
        "" | "0" | "false" | "no" | "off" => false,
        other => panic!("{name}={other:?}: use 1/true/yes/on or 0/false/no/off"),
    }
}

/// The Python that the read-back and moto tests run: `S3IO_PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("S3IO_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Says that `test` skipped and why, where `cargo test` shows it even though the test
/// passes: straight to the process's stderr, past the harness's capture of `eprintln!`.
pub fn skip(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "SKIP {test}: {why}");
}

/// Bytes whose every position differs from its neighbours', so a misplaced part shows.
pub fn patterned(len: usize) -> Bytes {
    (0..len)
        .map(|i| (i * 7 % 251) as u8)
        .collect::<Vec<u8>>()
        .into()
}

/// Runs `test`, an ignored test of this binary, in a child process whose environment
/// `environment` sets (for variables global to a process, such as `AWS_PROFILE`), and fails
/// unless it ran and passed.
pub fn run_child_test(
    test: &str,
    environment: impl FnOnce(&mut std::process::Command) -> &mut std::process::Command,
) {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child.args(["--ignored", "--exact", test, "--nocapture"]);
    let output = environment(&mut child).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the child {test} did not pass: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `df` as a Parquet file with row groups of `rows_per_group` rows.
pub fn parquet_file(df: &DataFrame, rows_per_group: usize) -> Vec<u8> {
    let mut file = Vec::new();
    ParquetWriter::new(&mut file)
        .with_row_group_size(Some(rows_per_group))
        .finish(&mut df.clone())
        .unwrap();
    file
}
