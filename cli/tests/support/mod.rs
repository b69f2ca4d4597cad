//! Helpers for the command line's tests, copied from the library's tests/it/support.rs
//! (those the CLI tests use): a fresh server and bucket per test, fixtures, column readers.

pub mod proxy;

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

/// The bytes of a file under the repository's `fixtures/`.
pub fn fixture(path: &str) -> Bytes {
    let full = format!("{}/../fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
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

/// Bytes whose every position differs from its neighbours', so a misplaced part shows
/// (from the library's tests/it/transfer.rs).
pub fn patterned(len: usize) -> Bytes {
    (0..len)
        .map(|i| (i * 7 % 251) as u8)
        .collect::<Vec<u8>>()
        .into()
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

pub fn strs(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    let col = column(df, name);
    col.str()
        .unwrap_or_else(|e| panic!("{name} is {}, not String: {e}", col.dtype()))
        .iter()
        .map(|s| s.map(str::to_owned))
        .collect()
}

/// `Some(x)` for every value: the expected column without nulls.
pub fn all<T: Clone>(values: &[T]) -> Vec<Option<T>> {
    values.iter().cloned().map(Some).collect()
}

pub fn owned(values: &[Option<&str>]) -> Vec<Option<String>> {
    values.iter().map(|v| v.map(str::to_owned)).collect()
}
