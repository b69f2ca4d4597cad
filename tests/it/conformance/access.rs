//! Access and upload settings as they reach the server: checked at the logging proxy on every
//! server, and as stored where the server keeps them (moto).

use futures_util::TryStreamExt;
use s3io::UploadOptions;

use super::target::Target;
use crate::proxy::{FaultProxy, Seen};

/// The settings of a KMS-demanding corporate bucket, and a few headers, in a storage class
/// the server takes (s3s-fs knows only STANDARD).
fn corporate(class: &str) -> UploadOptions {
    UploadOptions::new()
        .sse_kms("alias/s3io-test")
        .bucket_key(true)
        .storage_class(class)
        .metadata("owner", "data-team")
        .tag("project", "sales 2024")
        .tag("tier", "gold")
        .cache_control("no-cache")
        .content_disposition("attachment; filename=\"report.csv\"")
}

/// The requests that create objects: PutObject, CreateMultipartUpload and CopyObject.
fn creations(seen: &[Seen]) -> Vec<&Seen> {
    seen.iter()
        .filter(|s| {
            (s.method == "PUT" && !s.path_and_query.contains("partNumber="))
                || (s.method == "POST" && s.path_and_query.ends_with("?uploads"))
        })
        .collect()
}

pub async fn upload_options_reach_the_server(t: &Target) {
    let class = match t.can.stores_upload_settings {
        true => "STANDARD_IA",
        false => "STANDARD",
    };
    let proxy = FaultProxy::start(t.endpoint_url());
    let s3 = t
        .builder()
        .endpoint_url(proxy.endpoint_url())
        .upload_options(corporate(class))
        .build()
        .await
        .unwrap()
        .with_transfer(super::transfer::small_parts());
    let df = s3io::polars::prelude::df!("a" => [1i64, 2]).unwrap();
    s3.upload(t.bucket(), "kms/small.csv", &df).await.unwrap();
    let big = crate::support::patterned((11 << 20) + 1);
    s3.upload(t.bucket(), "kms/big.bin", big).await.unwrap();
    s3.copy(t.bucket(), "kms/small.csv", t.bucket(), "kms/copy.csv")
        .await
        .unwrap();

    let seen = proxy.seen();
    let made = creations(&seen);
    assert_eq!(
        made.len(),
        3,
        "PutObject, CreateMultipartUpload, CopyObject: {made:#?}"
    );
    for request in &made {
        let header = |name| request.header(name);
        let what = format!("{} {}", request.method, request.path_and_query);
        assert_eq!(
            header("x-amz-server-side-encryption"),
            Some("aws:kms"),
            "{what}"
        );
        assert_eq!(
            header("x-amz-server-side-encryption-aws-kms-key-id"),
            Some("alias/s3io-test"),
            "{what}"
        );
        assert_eq!(
            header("x-amz-server-side-encryption-bucket-key-enabled"),
            Some("true"),
            "{what}"
        );
        assert_eq!(header("x-amz-storage-class"), Some(class), "{what}");
        assert_eq!(header("x-amz-meta-owner"), Some("data-team"), "{what}");
        assert_eq!(
            header("x-amz-tagging"),
            Some("project=sales%202024&tier=gold"),
            "{what}"
        );
        assert_eq!(header("cache-control"), Some("no-cache"), "{what}");
    }
    // A copy replaces metadata and tags only because the options give new ones.
    let copy = made
        .iter()
        .find(|s| s.header("x-amz-copy-source").is_some())
        .unwrap();
    assert_eq!(copy.header("x-amz-metadata-directive"), Some("REPLACE"));
    assert_eq!(copy.header("x-amz-tagging-directive"), Some("REPLACE"));
    assert_eq!(copy.header("content-type"), Some("text/csv; charset=utf-8"));

    if !t.able(
        t.can.stores_upload_settings,
        "the server does not keep SSE, classes or tags",
    ) {
        return;
    }
    for key in ["kms/small.csv", "kms/big.bin", "kms/copy.csv"] {
        let meta = s3.head(t.bucket(), key).await.unwrap();
        assert_eq!(
            meta.encryption.as_deref(),
            Some("aws:kms"),
            "{key}: {meta:?}"
        );
        assert!(
            meta.kms_key_id
                .as_deref()
                .is_some_and(|k| k.contains("s3io-test")),
            "{key}: {meta:?}"
        );
        assert_eq!(meta.storage_class.as_deref(), Some("STANDARD_IA"), "{key}");
        assert_eq!(
            meta.metadata.get("owner").map(String::as_str),
            Some("data-team")
        );
        assert_eq!(meta.cache_control.as_deref(), Some("no-cache"), "{key}");
        let tags = s3.tags(t.bucket(), key).await.unwrap();
        assert_eq!(
            tags,
            [
                ("project".to_owned(), "sales 2024".to_owned()),
                ("tier".to_owned(), "gold".to_owned())
            ],
            "{key}"
        );
    }
    assert_eq!(
        s3.head(t.bucket(), "kms/copy.csv")
            .await
            .unwrap()
            .content_type
            .as_deref(),
        Some("text/csv; charset=utf-8"),
        "the copy keeps its source's Content-Type"
    );
}

pub async fn unsigned_requests_carry_no_signature(t: &Target) {
    use aws_sdk_s3::types::{BucketCannedAcl, ObjectCannedAcl};
    t.s3.upload(t.bucket(), "public/open.txt", "open data")
        .await
        .unwrap();
    // Public, as open-data buckets are (where the server keeps ACLs).
    if t.can.anonymous_reads {
        let client = t.s3.client();
        let bucket = client.put_bucket_acl().bucket(t.bucket());
        bucket
            .acl(BucketCannedAcl::PublicRead)
            .send()
            .await
            .unwrap();
        let object = client
            .put_object_acl()
            .bucket(t.bucket())
            .key("public/open.txt");
        object
            .acl(ObjectCannedAcl::PublicRead)
            .send()
            .await
            .unwrap();
    }
    let proxy = FaultProxy::start(t.endpoint_url());
    // A profile that does not exist: an anonymous connector never looks for credentials.
    let anonymous = t
        .builder()
        .endpoint_url(proxy.endpoint_url())
        .profile("s3io-no-such-profile")
        .anonymous()
        .build()
        .await
        .unwrap();
    let read = anonymous.download_text(t.bucket(), "public/open.txt").await;
    let listed: s3io::Result<Vec<s3io::ObjectInfo>> = anonymous
        .list_objects(t.bucket(), "public/")
        .try_collect()
        .await;
    let seen = proxy.seen();
    assert!(seen.len() >= 2, "{seen:#?}");
    for request in &seen {
        assert!(!request.signed(), "signed: {request:#?}");
        assert!(
            request.header("x-amz-security-token").is_none(),
            "{request:#?}"
        );
    }
    if t.able(
        t.can.anonymous_reads,
        "the server refuses unsigned requests to this bucket",
    ) {
        assert_eq!(read.unwrap(), "open data");
        assert_eq!(listed.unwrap().len(), 1);
        anonymous_read_with_a_broken_aws_profile(t, &proxy);
    } else {
        let err = read.unwrap_err();
        assert!(
            matches!(
                err.kind(),
                s3io::ErrorKind::PermissionDenied | s3io::ErrorKind::Credentials
            ),
            "{err:?}"
        );
    }
}

/// `AWS_PROFILE` naming a profile whose credentials cannot be had (a `credential_process`
/// that does not exist): an anonymous connector still reads, unsigned. The variable is global
/// to the process, so the read runs in a child process (this binary, the ignored test
/// `session::anonymous_env_child`), through `proxy`.
fn anonymous_read_with_a_broken_aws_profile(t: &Target, proxy: &FaultProxy) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let broken = "[profile s3io-broken]\ncredential_process = /nonexistent/s3io-no-such-tool\n";
    std::fs::write(&config, broken).unwrap();
    proxy.reset();
    crate::support::run_child_test("session::anonymous_env_child", |child| {
        child
            .env("AWS_PROFILE", "s3io-broken")
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env(
                "S3IO_ANONYMOUS_CHILD",
                format!("{} {}", proxy.endpoint_url(), t.bucket()),
            )
    });
    let seen = proxy.seen();
    assert!(
        !seen.is_empty() && seen.iter().all(|r| !r.signed()),
        "{seen:#?}"
    );
}

/// Uploads `body` in two parts with CRC32 checksums and `ChecksumType: FULL_OBJECT`, through
/// the SDK client itself.
async fn full_object_crc32_upload(t: &Target, key: &str, body: &[u8]) {
    use aws_sdk_s3::primitives::ByteStream;
    use aws_sdk_s3::types::{
        ChecksumAlgorithm, ChecksumType, CompletedMultipartUpload, CompletedPart,
    };
    let client = t.s3.client();
    let upload = client
        .create_multipart_upload()
        .bucket(t.bucket())
        .key(key)
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .checksum_type(ChecksumType::FullObject)
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let mut parts = Vec::new();
    for (i, chunk) in body.chunks(6 << 20).enumerate() {
        let number = i as i32 + 1;
        let part = client
            .upload_part()
            .bucket(t.bucket())
            .key(key)
            .upload_id(id)
            .part_number(number)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(ByteStream::from(chunk.to_vec()))
            .send()
            .await
            .unwrap();
        let done = CompletedPart::builder()
            .part_number(number)
            .set_e_tag(part.e_tag().map(str::to_owned))
            .set_checksum_crc32(part.checksum_crc32().map(str::to_owned));
        parts.push(done.build());
    }
    let all = CompletedMultipartUpload::builder()
        .set_parts(Some(parts))
        .build();
    client
        .complete_multipart_upload()
        .bucket(t.bucket())
        .key(key)
        .upload_id(id)
        .checksum_type(ChecksumType::FullObject)
        .multipart_upload(all)
        .send()
        .await
        .unwrap();
}

pub async fn requester_pays_is_sent_with_every_request(t: &Target) {
    let proxy = FaultProxy::start(t.endpoint_url());
    let s3 = t
        .builder()
        .endpoint_url(proxy.endpoint_url())
        .request_payer(true)
        .build()
        .await
        .unwrap();
    s3.upload(t.bucket(), "rp/a.txt", "paid").await.unwrap();
    assert_eq!(
        s3.download_text(t.bucket(), "rp/a.txt").await.unwrap(),
        "paid"
    );
    let seen = proxy.seen();
    assert!(seen.len() >= 2);
    for request in &seen {
        assert_eq!(
            request.header("x-amz-request-payer"),
            Some("requester"),
            "{request:#?}"
        );
        assert!(request.signed());
    }
}

pub async fn checksums_are_chosen_and_corrupt_bodies_are_caught(t: &Target) {
    use crate::proxy::{Fault, Matches};
    use s3io::Checksum;
    let proxy = FaultProxy::start(t.endpoint_url());
    let through_proxy = |checksum| {
        t.builder()
            .endpoint_url(proxy.endpoint_url())
            .upload_options(UploadOptions::new().checksum(checksum))
            .build()
    };
    for (checksum, header) in [
        (Checksum::Crc32c, "x-amz-checksum-crc32c"),
        (Checksum::Crc64Nvme, "x-amz-checksum-crc64nvme"),
        (Checksum::Sha256, "x-amz-checksum-sha256"),
    ] {
        let s3 = through_proxy(checksum)
            .await
            .unwrap()
            .with_transfer(super::transfer::small_parts());
        for put in small_and_parted_upload(t, &s3, &proxy, &format!("sum/{header}")).await {
            // The SDK sends the checksum as a header, or as a trailer it announces.
            let named = put.header(header).is_some() || put.header("x-amz-trailer") == Some(header);
            assert!(named, "{checksum:?}: {put:#?}");
        }
    }

    // A body changed on the way is caught by its checksum: once, and the part is fetched
    // again; every time, and the download fails rather than return wrong bytes.
    let s3 = t
        .builder()
        .endpoint_url(proxy.endpoint_url())
        .build()
        .await
        .unwrap();
    let text = "hello world\n".repeat(100);
    s3.upload(t.bucket(), "sum/corrupt.txt", text.clone())
        .await
        .unwrap();
    if !t.able(
        t.can.get_checksums,
        "the server sends no checksums with GETs",
    ) {
        return;
    }
    proxy.reset();
    proxy.inject(Matches::GetObject, Fault::Rewrite("hello", "jello"), 1);
    assert_eq!(
        s3.download_text(t.bucket(), "sum/corrupt.txt")
            .await
            .unwrap(),
        text
    );
    assert!(proxy.struck());
    proxy.reset();
    proxy.inject(Matches::GetObject, Fault::Rewrite("hello", "jello"), 100);
    let err = s3
        .download_text(t.bucket(), "sum/corrupt.txt")
        .await
        .unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("checksum"),
        "{err:?}"
    );

    // An object larger than a part comes in ranges, which carry no checksum: the assembled
    // bytes are checked against the object's full-object checksum, from a HEAD.
    if !t.able(
        t.can.full_object_checksums,
        "the server names no full-object checksum type on HEAD",
    ) {
        return;
    }
    // Made with the SDK: a CRC32 multipart upload of type FULL_OBJECT, as the AWS CLI makes
    // them (s3io asks for that type with CRC64NVME, whose value moto 5.2.5 gets wrong).
    let text = "hello world\n".repeat(1 << 20); // 12 MiB, in two parts
    let key = "sum/full-object.txt";
    full_object_crc32_upload(t, key, text.as_bytes()).await;
    let s3 = t
        .builder()
        .endpoint_url(proxy.endpoint_url())
        .build()
        .await
        .unwrap()
        .with_transfer(super::transfer::small_parts());
    proxy.reset();
    assert_eq!(s3.download_text(t.bucket(), key).await.unwrap(), text);
    let seen = proxy.seen();
    assert!(
        seen.iter()
            .any(|r| r.method == "HEAD" && r.header("x-amz-checksum-mode") == Some("ENABLED")),
        "the full-object checksum was asked for: {seen:#?}"
    );
    proxy.reset();
    proxy.inject(Matches::LaterRange, Fault::Rewrite("hello", "jello"), 100);
    let err = s3.download_text(t.bucket(), key).await.unwrap_err();
    assert!(proxy.struck());
    assert!(
        err.to_string().contains("full-object CRC32 checksum"),
        "{err:?}"
    );
    // A table decoded while its parts arrive: the error, and no frame.
    full_object_crc32_upload(t, "sum/full-object.csv", text.as_bytes()).await;
    proxy.reset();
    proxy.inject(Matches::LaterRange, Fault::Rewrite("hello", "jello"), 100);
    let err = s3
        .download_frame(t.bucket(), "sum/full-object.csv")
        .await
        .unwrap_err();
    assert!(proxy.struck());
    assert!(
        err.to_string().contains("full-object CRC32 checksum"),
        "{err:?}"
    );
    // To a file: refused before the file takes its name.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full-object.txt");
    let object = s3.object(t.bucket(), key);
    let err = object.download_to_path(&path).await.unwrap_err();
    assert!(err.to_string().contains("full-object CRC32"), "{err:?}");
    assert!(!path.exists(), "no file under the real name");
    proxy.reset();
    assert_eq!(
        object.download_to_path(&path).await.unwrap(),
        text.len() as u64
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

/// Upload bodies are in their signatures or not, as `PayloadSigning` says: over the plain
/// HTTP of these servers the default signs them (as boto3 does); `Never` sends
/// `UNSIGNED-PAYLOAD` (as polars does), still signed in its headers and still with a checksum
/// header; and the server stores the same bytes either way, whole and in parts.
pub async fn upload_bodies_are_signed_as_asked_and_the_server_takes_them(t: &Target) {
    use s3io::PayloadSigning;
    let (proxy, s3) = t.through_proxy().await;
    for signing in [
        PayloadSigning::Auto,
        PayloadSigning::Always,
        PayloadSigning::Never,
    ] {
        let s3 = s3.with_transfer(super::transfer::small_parts().payload_signing(signing));
        let key = format!("signing/{signing:?}");
        for put in small_and_parted_upload(t, &s3, &proxy, &key).await {
            let sha = put.header("x-amz-content-sha256").unwrap_or_default();
            let hex = sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit());
            match signing {
                PayloadSigning::Never => assert_eq!(sha, "UNSIGNED-PAYLOAD", "{put:#?}"),
                _ => assert!(hex, "{signing:?} over http signs the body: {put:#?}"),
            }
            assert!(put.signed(), "{put:#?}");
            assert!(put.header("x-amz-checksum-crc32").is_some(), "{put:#?}");
        }
    }
}

/// Uploads `key.txt` (one PutObject) and an 11 MiB `key.bin` (a multipart upload, with a
/// connector of 5 MiB parts) through `proxy`, checks that both read back as sent, and returns
/// the PUTs the proxy saw: the PutObject and the three parts.
async fn small_and_parted_upload(
    t: &Target,
    s3: &s3io::S3Connector,
    proxy: &FaultProxy,
    key: &str,
) -> Vec<Seen> {
    let big = crate::support::patterned((11 << 20) + 5);
    let (small, parted) = (format!("{key}.txt"), format!("{key}.bin"));
    proxy.reset();
    s3.upload(t.bucket(), &small, "small").await.unwrap();
    s3.upload(t.bucket(), &parted, big.clone()).await.unwrap();
    let puts: Vec<Seen> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.method == "PUT")
        .collect();
    assert!(puts.len() >= 4, "a PutObject and 3 parts: {puts:#?}");
    assert_eq!(s3.download_text(t.bucket(), &small).await.unwrap(), "small");
    assert!(s3.download_bytes(t.bucket(), &parted).await.unwrap() == big);
    puts
}
