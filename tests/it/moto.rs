//! The same connector against an independent S3 implementation: moto's server (PyPI
//! `moto[server]`), started on a free port of 127.0.0.1 for each test.
//!
//! moto sends request ids and the codes AWS sends (NoSuchBucket), which s3s-fs does not.
//! moto runs as `python -m moto.server` with the Python of `S3IO_PYTHON` (else `python3`), and
//! only in a version known to work: at least the one `.ci/requirements.txt` pins (5.2.1, for
//! one, answers CompleteMultipartUpload wrongly). Whatever `moto_server` is on the PATH is not
//! used. Without a usable moto the tests print why they skipped, unless
//! `S3IO_REQUIRE_MOTO` is set.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use polars::prelude::*;
use s3io::{ErrorKind, S3Connector};

use crate::support::{python, required, skip};

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

/// The oldest moto the tests trust: the version `.ci/requirements.txt` pins.
fn pinned_moto() -> Vec<u32> {
    let requirements = include_str!("../../.ci/requirements.txt");
    let pin = requirements
        .lines()
        .find_map(|line| line.strip_prefix("moto[server]=="))
        .expect(".ci/requirements.txt pins moto[server]");
    version(pin)
}

/// `5.2.5` as `[5, 2, 5]`; a part that is not a number ends it.
fn version(text: &str) -> Vec<u32> {
    text.trim()
        .split('.')
        .map_while(|part| part.parse().ok())
        .collect()
}

/// Checks that `python` has a moto at least as new as the pinned one.
fn check_moto_version(python: &str) -> Result<(), String> {
    let out = Command::new(python)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('moto'))",
        ])
        .output()
        .map_err(|e| format!("cannot run {python}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{python} has no moto (pip install -r .ci/requirements.txt)"
        ));
    }
    let found = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let pinned = pinned_moto();
    if version(&found) < pinned {
        return Err(format!(
            "{python} has moto {found}, older than the {} that .ci/requirements.txt pins",
            pinned
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(".")
        ));
    }
    Ok(())
}

/// Starts moto's server and waits until it answers, or says why it could not.
fn start_moto() -> Result<Moto, String> {
    let python = python();
    check_moto_version(&python)?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let child = Command::new(&python)
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {python} -m moto.server: {e}"))?;
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
        Err(why) if required("MOTO") => {
            panic!("{test}: moto is required: {why}")
        }
        Err(why) => {
            skip(test, &why);
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

#[tokio::test]
async fn moto_versions_listed_downloaded_and_deleted() {
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
    use futures_util::TryStreamExt;
    let Some((_moto, s3)) = connect("moto_versions_listed_downloaded_and_deleted").await else {
        return;
    };
    s3.create_bucket("versioned").await.unwrap();
    s3.client()
        .put_bucket_versioning()
        .bucket("versioned")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let v1 = s3
        .upload("versioned", "cfg.json", &serde_json::json!({"v": 1}))
        .await
        .unwrap();
    let v2 = s3
        .upload("versioned", "cfg.json", &serde_json::json!({"v": 2}))
        .await
        .unwrap();
    let (v1, v2) = (
        v1.version_id.expect("a version id"),
        v2.version_id.expect("a version id"),
    );
    assert_ne!(v1, v2);

    let versions: Vec<s3io::VersionInfo> = s3
        .list_versions("versioned", "")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(
        (versions[0].version_id.as_str(), versions[0].is_latest),
        (v2.as_str(), true)
    );
    assert_eq!(
        (versions[1].version_id.as_str(), versions[1].is_latest),
        (v1.as_str(), false)
    );
    assert!(versions[0].etag.is_some());

    let old = s3
        .download_version("versioned", "cfg.json", &v1)
        .await
        .unwrap();
    assert!(
        matches!(old, s3io::Data::Json(ref v) if v["v"] == 1),
        "{old:?}"
    );
    let old = s3
        .object("versioned", "cfg.json")
        .version(&v1)
        .download_json()
        .await
        .unwrap();
    assert_eq!(old["v"], 1);
    assert_eq!(
        s3.download_json("versioned", "cfg.json").await.unwrap()["v"],
        2
    );

    // A plain delete leaves a delete marker on top.
    s3.delete("versioned", "cfg.json").await.unwrap();
    assert!(!s3.exists("versioned", "cfg.json").await.unwrap());
    let frame = s3.list_versions_frame("versioned", "cfg").await.unwrap();
    assert_eq!(frame.height(), 3);
    assert_eq!(
        crate::support::bools(&frame, "is_delete_marker"),
        [Some(true), Some(false), Some(false)]
    );
    assert_eq!(
        crate::support::bools(&frame, "is_latest"),
        [Some(true), Some(false), Some(false)]
    );
    let marker = crate::support::strs(&frame, "version_id")[0]
        .clone()
        .unwrap();

    // Deleting the marker brings the object back; deleting a version removes it for good.
    s3.delete_version("versioned", "cfg.json", &marker)
        .await
        .unwrap();
    assert_eq!(
        s3.download_json("versioned", "cfg.json").await.unwrap()["v"],
        2
    );
    s3.delete_version("versioned", "cfg.json", &v2)
        .await
        .unwrap();
    assert_eq!(
        s3.download_json("versioned", "cfg.json").await.unwrap()["v"],
        1
    );

    // Not empty: a clear error; force removes every version first.
    let err = s3.delete_bucket("versioned").await.unwrap_err();
    assert_eq!(err.code(), Some("BucketNotEmpty"), "{err}");
    assert!(err.to_string().contains("delete_bucket_force"), "{err}");
    s3.delete_bucket_force("versioned").await.unwrap();
    assert!(!s3.bucket_exists("versioned").await.unwrap());
}

#[tokio::test]
async fn moto_identity_and_listing_details() {
    use futures_util::TryStreamExt;
    let Some((_moto, s3)) = connect("moto_identity_and_listing_details").await else {
        return;
    };
    let me = s3.whoami().await.unwrap();
    assert_eq!(me.account, "123456789012");
    assert!(me.arn.starts_with("arn:aws:"), "{me:?}");
    assert!(!me.user_id.is_empty());

    s3.create_bucket("listing").await.unwrap();
    s3.upload("listing", "a.txt", "abc").await.unwrap();
    let listed: Vec<s3io::ObjectInfo> = s3.list_objects("listing", "").try_collect().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].size, 3);
    assert_eq!(
        listed[0].etag.as_deref(),
        Some("\"900150983cd24fb0d6963f7d28e17f72\""),
        "md5 of abc"
    );
    assert_eq!(listed[0].storage_class.as_deref(), Some("STANDARD"));
}

#[tokio::test]
async fn moto_multipart_uploads_complete_and_leave_nothing_open() {
    let Some((_moto, s3)) = connect("moto_multipart_uploads_complete_and_leave_nothing_open").await
    else {
        return;
    };
    let s3 = s3.with_transfer(crate::transfer::small_parts());
    s3.create_bucket("parts").await.unwrap();
    let body = crate::support::patterned((11 << 20) + 3);
    let info = s3.upload("parts", "big.bin", body.clone()).await.unwrap();
    assert!(
        info.etag.as_deref().is_some_and(|e| e.ends_with("-3\"")),
        "a 3-part ETag: {info:?}"
    );
    assert!(s3.download_bytes("parts", "big.bin").await.unwrap() == body);
    let open = s3
        .client()
        .list_multipart_uploads()
        .bucket("parts")
        .send()
        .await
        .unwrap();
    assert!(open.uploads().is_empty(), "{:?}", open.uploads());
}

#[tokio::test]
async fn moto_keys_that_escape_a_download_folder_are_refused() {
    let Some((_moto, s3)) = connect("moto_keys_that_escape_a_download_folder_are_refused").await
    else {
        return;
    };
    s3.create_bucket("evil").await.unwrap();
    s3.upload("evil", "exports/fine.txt", "ok").await.unwrap();
    for key in [
        "exports/../../escape.txt",
        "exports/a/../../../escape.txt",
        "exports/a\\..\\..\\evil.txt",
        "exports/C:/Windows/win.ini",
        "exports//etc/passwd",
    ] {
        s3.upload("evil", key, "x").await.unwrap();
        let target = tempfile::tempdir().unwrap();
        let err = s3
            .download_dir("evil", "exports/", target.path().join("out"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{key}: {err}");
        assert!(
            err.to_string().contains(&format!("{key:?}")),
            "names the key: {err}"
        );
        assert!(
            !target.path().join("out").exists(),
            "{key}: nothing was written"
        );
        assert!(!target.path().join("escape.txt").exists());
        s3.delete("evil", key).await.unwrap();
    }
    let target = tempfile::tempdir().unwrap();
    let files = s3
        .download_dir("evil", "exports/", target.path())
        .await
        .unwrap();
    assert_eq!(files, [target.path().join("fine.txt")]);
}
