//! The same connector against an independent S3 implementation: moto_server (PyPI
//! `moto[server]`), started on a free port of 127.0.0.1 for each test.
//!
//! moto sends request ids and the codes AWS sends (NoSuchBucket), which s3s-fs does not.
//! Without moto_server the tests print why they skipped, unless `S3IO_REQUIRE_MOTO=1`.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use polars::prelude::*;
use s3io::{ErrorKind, S3Connector};

/// A moto_server process, killed on drop.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts moto_server and waits until it answers, or says why it could not.
fn start_moto() -> Result<Moto, String> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run moto_server: {e}"))?;
    let mut moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(moto);
        }
        if let Ok(Some(status)) = moto.child.try_wait() {
            return Err(format!("moto_server exited with {status}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err("moto_server did not start listening within 30 s".into())
}

/// A connector to a fresh moto server, or `None` (with a printed reason) when moto is missing.
async fn connect(test: &str) -> Option<(Moto, S3Connector)> {
    match start_moto() {
        Ok(moto) => {
            let s3 = S3Connector::builder()
                .endpoint_url(&moto.endpoint)
                .region("us-east-1")
                .credentials("testing", "testing")
                .build()
                .await
                .expect("connector builds");
            Some((moto, s3))
        }
        Err(why) if std::env::var("S3IO_REQUIRE_MOTO").is_ok_and(|v| v == "1") => {
            panic!("{test}: moto is required: {why}")
        }
        Err(why) => {
            eprintln!("SKIP {test}: {why}");
            None
        }
    }
}

#[tokio::test]
async fn moto_errors_keep_codes_and_request_ids() {
    let Some((_moto, s3)) = connect("moto_errors_keep_codes_and_request_ids").await else {
        return;
    };
    let err = s3.download("no-such-bucket", "a.csv").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(err.code(), Some("NoSuchBucket"));
    let id = err
        .request_id()
        .expect("moto sends a request id")
        .to_owned();
    assert!(
        err.to_string().contains(&id),
        "the id is in the message: {err}"
    );

    // s3s-fs stores uploads to a missing bucket anyway; moto refuses them, as AWS does.
    let err = s3.upload("no-such-bucket", "a.txt", "x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(
        err.to_string()
            .starts_with("upload s3://no-such-bucket/a.txt (text): NoSuchBucket"),
        "{err}"
    );

    s3.create_bucket("moto-bucket").await.unwrap();
    s3.create_bucket("moto-bucket").await.unwrap();
    let err = s3
        .download("moto-bucket", "dir/missing.xlsx")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.code(), Some("NoSuchKey"));
    assert!(err.request_id().is_some());
    assert!(
        err.to_string()
            .starts_with("download s3://moto-bucket/dir/missing.xlsx (xlsx): NoSuchKey"),
        "{err}"
    );
}

#[tokio::test]
async fn moto_round_trips_frames_and_values() {
    let Some((_moto, s3)) = connect("moto_round_trips_frames_and_values").await else {
        return;
    };
    s3.create_bucket("data").await.unwrap();
    let df = df!("k" => ["a", "b"], "v" => [1.5, -2.0]).unwrap();
    for key in ["f.csv", "f.xlsx", "f.json", "f.pkl"] {
        s3.upload("data", key, &df).await.unwrap();
        let back = s3.download_frame("data", key).await.unwrap();
        assert!(back.equals_missing(&df), "{key}: {back}");
    }
    s3.upload("data", "n.txt", "über").await.unwrap();
    assert_eq!(s3.download_text("data", "n.txt").await.unwrap(), "über");
    let names: Vec<String> = s3
        .list_buckets()
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, ["data"]);
}
