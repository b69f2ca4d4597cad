//! Every failure is a typed error that names the operation, bucket, key and format.

use polars::prelude::*;
use s3io::{Data, ErrorKind, Operation};

use crate::support::*;

/// Asserts the error's kind and that its one-line message names where it happened.
#[track_caller]
fn assert_error(err: &s3io::Error, kind: ErrorKind, op: Operation, bucket: &str, key: &str) {
    let message = err.to_string();
    assert_eq!(err.kind(), kind, "{message}");
    assert_eq!(err.operation(), Some(op), "{message}");
    assert!(
        message.contains(&format!("s3://{bucket}/{key}")),
        "{message}"
    );
    assert!(!message.contains('\n'), "one line: {message}");
    assert_eq!(err.bucket(), Some(bucket));
    assert_eq!(err.key(), Some(key));
    assert!(err.format().is_some());
}

#[tokio::test]
async fn missing_key_keeps_the_s3_code_and_request_id() {
    let t = start().await;
    let err = t.s3.download(BUCKET, "nope/a.csv").await.unwrap_err();
    assert_error(
        &err,
        ErrorKind::NotFound,
        Operation::Download,
        BUCKET,
        "nope/a.csv",
    );
    assert_eq!(err.code(), Some("NoSuchKey"));
    assert_eq!(
        err.to_string(),
        "download s3://s3io-test/nope/a.csv (csv): NoSuchKey: The specified key does not exist."
    );
    // Debug carries the whole chain, down to the SDK's error.
    let debug = format!("{err:?}");
    assert!(
        debug.contains("caused_by") && debug.contains("NoSuchKey"),
        "{debug}"
    );
}

#[tokio::test]
async fn missing_bucket() {
    let t = start().await;
    let err =
        t.s3.download_frame("no-such-bucket", "a.xlsx")
            .await
            .unwrap_err();
    assert_error(
        &err,
        ErrorKind::NotFound,
        Operation::Download,
        "no-such-bucket",
        "a.xlsx",
    );
    // AWS and moto say NoSuchBucket (see the moto tests); s3s-fs says NoSuchKey.
    assert!(
        matches!(err.code(), Some("NoSuchBucket" | "NoSuchKey")),
        "{err}"
    );
}

#[tokio::test]
async fn wrong_secret_is_a_credentials_error() {
    let t = start().await;
    let s3 = t
        .server
        .builder()
        .credentials(s3io::local::ACCESS_KEY_ID, "not-the-secret")
        .build()
        .await
        .unwrap();
    let err = s3.download(BUCKET, "a.json").await.unwrap_err();
    assert_error(
        &err,
        ErrorKind::Credentials,
        Operation::Download,
        BUCKET,
        "a.json",
    );
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
    assert!(!format!("{err:?}").contains("not-the-secret"));
    let err = s3.list_buckets().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Credentials);
    assert_eq!(err.operation(), Some(Operation::ListBuckets));
}

#[tokio::test]
async fn unreachable_server_is_a_transport_error() {
    let t = start().await;
    let endpoint = t.server.endpoint_url();
    let s3 = t.server.builder().build().await.unwrap();
    drop(t);
    let err = s3.download(BUCKET, "a.txt").await.unwrap_err();
    assert_error(
        &err,
        ErrorKind::Transport,
        Operation::Download,
        BUCKET,
        "a.txt",
    );
    assert!(err.to_string().contains("could not reach S3"), "{err}");
    // The server really is gone: nothing listens where it did.
    let address = endpoint.trim_start_matches("http://");
    assert!(std::net::TcpStream::connect(address).is_err(), "{address}");
}

#[tokio::test]
async fn corrupt_files_are_decode_errors() {
    let t = start().await;
    for (fixture_path, key) in [
        ("xlsx/truncated.xlsx", "bad.xlsx"),
        ("pickle/truncated.pkl", "bad.pkl"),
        ("text/latin1.txt", "latin1.txt"),
        ("text/latin1.txt", "latin1.json"),
        ("xlsx/openpyxl_multi.xlsx", "wrong.csv"),
    ] {
        t.put_fixture(fixture_path, key).await;
        let err = t.s3.download(BUCKET, key).await.unwrap_err();
        assert_error(&err, ErrorKind::Decode, Operation::Download, BUCKET, key);
    }
    let err = t.s3.download_text(BUCKET, "latin1.txt").await.unwrap_err();
    assert!(
        err.to_string().contains("download_bytes"),
        "points to the way out: {err}"
    );
    assert!(err.to_string().contains("offset 3"), "{err}");
}

#[tokio::test]
async fn unsupported_value_and_extension_pairs() {
    let t = start().await;
    let df = df!("a" => [1]).unwrap();
    let text = Data::from("hello");
    for (key, data) in [
        ("s.xlsx", text.clone()),
        ("s.csv", text.clone()),
        ("s.json", text.clone()),
        ("f.txt", Data::from(&df)),
        ("j.csv", Data::from(serde_json::json!({"a": 1}))),
    ] {
        let err = t.s3.upload(BUCKET, key, data).await.unwrap_err();
        assert_error(&err, ErrorKind::Unsupported, Operation::Upload, BUCKET, key);
    }
    // Frames of dtypes no format can hold name the column.
    let nested = DataFrame::new(
        1,
        vec![Column::new("l".into(), [Series::new("".into(), [1i64, 2])])],
    );
    let nested = nested.expect("a frame with a list column");
    let err = t.s3.upload(BUCKET, "n.xlsx", &nested).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("\"l\""), "{err}");
    // Values that are not tables do not become frames.
    t.s3.upload(BUCKET, "scalar.json", &serde_json::json!(42))
        .await
        .unwrap();
    let err =
        t.s3.download_frame(BUCKET, "scalar.json")
            .await
            .unwrap_err();
    assert_error(
        &err,
        ErrorKind::Unsupported,
        Operation::Download,
        BUCKET,
        "scalar.json",
    );
    t.s3.upload(BUCKET, "t.txt", "x").await.unwrap();
    let err = t.s3.download_json(BUCKET, "t.txt").await.unwrap_err();
    assert_error(
        &err,
        ErrorKind::Unsupported,
        Operation::Download,
        BUCKET,
        "t.txt",
    );
}

#[tokio::test]
async fn empty_names_are_invalid_input() {
    let t = start().await;
    let err = t.s3.download(BUCKET, "").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = t.s3.upload("", "k.txt", "x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("k.txt"), "{err}");
}
