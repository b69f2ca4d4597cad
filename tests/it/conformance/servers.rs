//! What differs between servers, checked where the server does it as AWS does: error codes
//! and request ids, versions, identity, multipart bookkeeping, and keys a file system could
//! not hold.

use s3io::ErrorKind;

use super::target::Target;

pub async fn errors_keep_codes_and_request_ids(t: &Target) {
    let s3 = &t.s3;
    let missing = &t.other_bucket("missing");
    let err = s3.download(missing, "a.csv").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    if t.can.strict_buckets {
        assert_eq!(err.code(), Some("NoSuchBucket"), "{err}");
        // s3s-fs stores uploads to a missing bucket anyway; AWS refuses them.
        let err = s3.upload(missing, "a.txt", "x").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        let start = format!("upload s3://{missing}/a.txt (text): NoSuchBucket");
        assert!(err.to_string().starts_with(&start), "{err}");
    } else {
        assert_eq!(err.code(), Some("NoSuchKey"), "{err}");
    }
    if t.able(t.can.request_ids, "the server sends no request ids") {
        let id = err.request_id().expect("a request id").to_owned();
        assert!(
            err.to_string().contains(&id),
            "the id is in the message: {err}"
        );
    }

    let err = s3
        .download(t.bucket(), "dir/missing.xlsx")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.code(), Some("NoSuchKey"));
    assert_eq!(err.request_id().is_some(), t.can.request_ids, "{err:?}");
    let start = format!(
        "download s3://{}/dir/missing.xlsx (xlsx): NoSuchKey",
        t.bucket()
    );
    assert!(err.to_string().starts_with(&start), "{err}");
}

pub async fn versions_listed_downloaded_and_deleted(t: &Target) {
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
    use futures_util::TryStreamExt;
    let s3 = &t.s3;
    if !t.can.versioning {
        // A server without versions says so with a typed error, not a panic or an empty list.
        let listed: s3io::Result<Vec<s3io::VersionInfo>> =
            s3.list_versions(t.bucket(), "").try_collect().await;
        let err = listed.expect_err("a server without versions refuses to list them");
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        assert_eq!(err.code(), Some("NotImplemented"), "{err}");
        return;
    }
    let versioned = &t.other_bucket("versioned");
    s3.create_bucket(versioned).await.unwrap();
    s3.client()
        .put_bucket_versioning()
        .bucket(versioned)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let v1 = s3
        .upload(versioned, "cfg.json", &serde_json::json!({"v": 1}))
        .await
        .unwrap();
    let v2 = s3
        .upload(versioned, "cfg.json", &serde_json::json!({"v": 2}))
        .await
        .unwrap();
    let (v1, v2) = (
        v1.version_id.expect("a version id"),
        v2.version_id.expect("a version id"),
    );
    assert_ne!(v1, v2);

    let versions: Vec<s3io::VersionInfo> =
        s3.list_versions(versioned, "").try_collect().await.unwrap();
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
        .download_version(versioned, "cfg.json", &v1)
        .await
        .unwrap();
    assert!(
        matches!(old, s3io::Data::Json(ref v) if v["v"] == 1),
        "{old:?}"
    );
    let old = s3
        .object(versioned, "cfg.json")
        .version(&v1)
        .download_json()
        .await
        .unwrap();
    assert_eq!(old["v"], 1);
    assert_eq!(
        s3.download_json(versioned, "cfg.json").await.unwrap()["v"],
        2
    );

    // A plain delete leaves a delete marker on top.
    s3.delete(versioned, "cfg.json").await.unwrap();
    assert!(!s3.exists(versioned, "cfg.json").await.unwrap());
    let frame = s3.list_versions_frame(versioned, "cfg").await.unwrap();
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
    s3.delete_version(versioned, "cfg.json", &marker)
        .await
        .unwrap();
    assert_eq!(
        s3.download_json(versioned, "cfg.json").await.unwrap()["v"],
        2
    );
    s3.delete_version(versioned, "cfg.json", &v2).await.unwrap();
    assert_eq!(
        s3.download_json(versioned, "cfg.json").await.unwrap()["v"],
        1
    );

    // Not empty: a clear error; force removes every version first.
    let err = s3.delete_bucket(versioned).await.unwrap_err();
    assert_eq!(err.code(), Some("BucketNotEmpty"), "{err}");
    assert!(err.to_string().contains("delete_bucket_force"), "{err}");
    s3.delete_bucket_force(versioned).await.unwrap();
    assert!(!s3.bucket_exists(versioned).await.unwrap());
}

pub async fn identity_and_listing_details(t: &Target) {
    use futures_util::TryStreamExt;
    let s3 = &t.s3;
    if t.able(t.can.sts, "the server answers no STS GetCallerIdentity") {
        let me = s3.whoami().await.unwrap();
        assert_eq!(me.account, "123456789012");
        assert!(me.arn.starts_with("arn:aws:"), "{me:?}");
        assert!(!me.user_id.is_empty());
    }

    s3.upload(t.bucket(), "a.txt", "abc").await.unwrap();
    let listed: Vec<s3io::ObjectInfo> =
        s3.list_objects(t.bucket(), "").try_collect().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].size, 3);
    if !t.able(
        t.can.listing_details,
        "the server lists no ETag or storage class",
    ) {
        return;
    }
    assert_eq!(
        listed[0].etag.as_deref(),
        Some("\"900150983cd24fb0d6963f7d28e17f72\""),
        "md5 of abc"
    );
    assert_eq!(listed[0].storage_class.as_deref(), Some("STANDARD"));
}

pub async fn multipart_uploads_complete_and_leave_nothing_open(t: &Target) {
    let s3 = t.s3.with_transfer(super::transfer::small_parts());
    let body = crate::support::patterned((11 << 20) + 3);
    let info = s3
        .upload(t.bucket(), "big.bin", body.clone())
        .await
        .unwrap();
    assert!(
        info.etag.as_deref().is_some_and(|e| e.ends_with("-3\"")),
        "a 3-part ETag: {info:?}"
    );
    assert!(s3.download_bytes(t.bucket(), "big.bin").await.unwrap() == body);
    t.assert_no_upload_left_open().await;
}

/// Keys with `..` segments, which a server on a file system cannot store (the embedded one
/// gets them through the fault proxy instead, in `transfer.rs`).
pub async fn keys_that_escape_a_download_folder_are_refused(t: &Target) {
    if !t.able(
        t.can.dot_segments,
        "the server cannot store keys with `..` segments",
    ) {
        return;
    }
    let s3 = &t.s3;
    let evil = t.bucket();
    s3.upload(evil, "exports/fine.txt", "ok").await.unwrap();
    for key in [
        "exports/../../escape.txt",
        "exports/a/../../../escape.txt",
        "exports/a\\..\\..\\evil.txt",
        "exports/C:/Windows/win.ini",
        "exports//etc/passwd",
    ] {
        s3.upload(evil, key, "x").await.unwrap();
        let target = tempfile::tempdir().unwrap();
        let err = s3
            .download_dir(evil, "exports/", target.path().join("out"))
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
        s3.delete(evil, key).await.unwrap();
    }
    let target = tempfile::tempdir().unwrap();
    let files = s3
        .download_dir(evil, "exports/", target.path())
        .await
        .unwrap();
    assert_eq!(files, [target.path().join("fine.txt")]);
}
