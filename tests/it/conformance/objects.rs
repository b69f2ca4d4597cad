//! Object operations: listings, globs, many-key reads and writes, deletes, copies, buckets,
//! waiters and presigned URLs, against the embedded server.

use std::time::{Duration, SystemTime};

use futures_util::TryStreamExt;
use polars::prelude::*;
use s3io::{
    CopyOptions, Data, DeleteOptions, ErrorKind, ListOptions, ManyOptions, ObjectInfo, Operation,
    Wait,
};

use super::target::Target;
use crate::support::all;
use crate::support::*;

async fn keys(t: &Target, prefix: &str, options: ListOptions) -> Vec<String> {
    let listed: Vec<ObjectInfo> =
        t.s3.list_objects_with(t.bucket(), prefix, options)
            .try_collect()
            .await
            .unwrap();
    listed.into_iter().map(|o| o.key).collect()
}

/// Uploads each key with its own name as the bytes.
async fn put_texts(t: &Target, keys: &[&str]) {
    let items = keys.iter().map(|k| (*k, bytes::Bytes::from(k.to_string())));
    t.s3.upload_many(t.bucket(), items).await.unwrap();
}

pub async fn listing_pages_past_a_thousand_keys(t: &Target) {
    let names: Vec<String> = (0..1050).map(|i| format!("many/{i:04}.txt")).collect();
    let uploaded =
        t.s3.upload_many_with(
            t.bucket(),
            names.iter().map(|k| (k.as_str(), "x")),
            ManyOptions::new().concurrency(32),
        )
        .await
        .unwrap();
    assert_eq!(uploaded.len(), 1050);
    let listed = keys(t, "many/", ListOptions::new()).await;
    assert_eq!(listed, names, "every key, in order, across two pages");
    let limited = keys(t, "many/", ListOptions::new().max_items(1010)).await;
    assert_eq!(limited.len(), 1010);
    let after = keys(t, "many/", ListOptions::new().start_after("many/1040.txt")).await;
    assert_eq!(after, names[1041..]);
}

pub async fn listing_filters_and_folders(t: &Target) {
    put_texts(
        t,
        &[
            "d/a.csv",
            "d/b.json",
            "d/sub/c.csv",
            "d/sub/deep/d.csv",
            "e/x.csv",
        ],
    )
    .await;
    assert_eq!(
        keys(t, "d/", ListOptions::new().suffix(".csv")).await,
        ["d/a.csv", "d/sub/c.csv", "d/sub/deep/d.csv"]
    );
    assert_eq!(
        keys(t, "d/", ListOptions::new().delimiter("/")).await,
        ["d/a.csv", "d/b.json"]
    );
    assert_eq!(t.s3.list_dirs(t.bucket(), "d/").await.unwrap(), ["d/sub/"]);
    assert_eq!(t.s3.list_dirs(t.bucket(), "").await.unwrap(), ["d/", "e/"]);

    let future = SystemTime::now() + Duration::from_secs(3600);
    let past = SystemTime::now() - Duration::from_secs(3600);
    assert!(
        keys(t, "d/", ListOptions::new().modified_since(future))
            .await
            .is_empty()
    );
    assert_eq!(
        keys(t, "d/", ListOptions::new().modified_since(past))
            .await
            .len(),
        4
    );
    assert!(
        keys(t, "d/", ListOptions::new().modified_until(past))
            .await
            .is_empty()
    );
    assert_eq!(
        keys(t, "d/", ListOptions::new().modified_until(future))
            .await
            .len(),
        4
    );

    let frame = t.s3.list_frame(t.bucket(), "d/").await.unwrap();
    assert_eq!(frame.shape(), (4, 5));
    assert_eq!(
        strs(&frame, "key"),
        all(&["d/a.csv", "d/b.json", "d/sub/c.csv", "d/sub/deep/d.csv"].map(String::from))
    );
    assert_eq!(ints(&frame, "size"), all(&[7, 8, 11, 16]));
    assert!(matches!(
        frame.column("last_modified").unwrap().dtype(),
        DataType::Datetime(..)
    ));
    // s3s-fs lists no ETags; the moto tests check that they come through.
    assert_eq!(frame.column("etag").unwrap().dtype(), &DataType::String);
}

pub async fn globs_match_keys_and_list_only_the_literal_prefix(t: &Target) {
    put_texts(
        t,
        &[
            "data/2024-01/part-1.csv",
            "data/2024-01/part-2.csv",
            "data/2024-01/part-10.csv",
            "data/2024-02/part-1.csv",
            "data/2024-02/sub/part-1.csv",
            "data/2023-12/part-1.csv",
            "other/2024-01/part-1.csv",
        ],
    )
    .await;
    let k = |p: &'static str| keys(t, p, ListOptions::new());
    assert_eq!(
        k("data/2024-*/part-?.csv").await,
        [
            "data/2024-01/part-1.csv",
            "data/2024-01/part-2.csv",
            "data/2024-02/part-1.csv"
        ]
    );
    assert_eq!(k("data/**/part-1.csv").await.len(), 4);
    assert_eq!(k("data/202[3]-*/*.csv").await, ["data/2023-12/part-1.csv"]);
    assert_eq!(
        k("*/2024-01/part-1.csv").await,
        ["data/2024-01/part-1.csv", "other/2024-01/part-1.csv"]
    );
}

pub async fn uris_name_keys_with_spaces_unicode_and_symbols(t: &Target) {
    for key in [
        "a b/c d.txt",
        "월별/매출 2024.txt",
        "x+y=z%20.txt",
        "k=v/p+q.txt",
    ] {
        let object =
            t.s3.object_at(&format!("s3://{}/{key}", t.bucket()))
                .unwrap();
        assert_eq!(object.key(), key);
        object.upload(key).await.unwrap();
        assert_eq!(t.s3.download_text(t.bucket(), key).await.unwrap(), key);
        assert!(object.exists().await.unwrap());
        assert_eq!(object.head().await.unwrap().size, key.len() as u64);
    }
    let err = t.s3.object_at("http://bucket/key").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

pub async fn download_many_stacks_mixed_formats_by_column_name(t: &Target) {
    let a = df!("id" => [1i64, 2], "name" => ["a", "b"]).unwrap();
    let b = df!("id" => [3i64], "score" => [0.5]).unwrap();
    let c = df!("name" => ["c"], "id" => [4.5]).unwrap();
    t.s3.upload_many(
        t.bucket(),
        [("mix/1.csv", &a), ("mix/2.xlsx", &b), ("mix/3.json", &c)],
    )
    .await
    .unwrap();
    t.s3.upload(
        t.bucket(),
        "mix/notes/readme.csv",
        &df!("id" => [9i64]).unwrap(),
    )
    .await
    .unwrap();

    let df =
        t.s3.download_many_with(
            t.bucket(),
            "mix/*",
            ManyOptions::new()
                .concurrency(2)
                .include_file_paths("source"),
        )
        .await
        .unwrap();
    assert_eq!(
        df.get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>(),
        ["id", "name", "score", "source"]
    );
    assert_eq!(
        floats(&df, "id"),
        all(&[1.0, 2.0, 3.0, 4.5]),
        "ints and floats stack as floats"
    );
    assert_eq!(
        strs(&df, "name"),
        owned(&[Some("a"), Some("b"), None, Some("c")])
    );
    assert_eq!(floats(&df, "score"), vec![None, None, Some(0.5), None]);
    assert_eq!(
        strs(&df, "source"),
        owned(&[
            Some("mix/1.csv"),
            Some("mix/1.csv"),
            Some("mix/2.xlsx"),
            Some("mix/3.json")
        ])
    );

    // A prefix takes everything under it, sub-folders too.
    assert_eq!(
        t.s3.download_many(t.bucket(), "mix/")
            .await
            .unwrap()
            .height(),
        5
    );

    let each = t.s3.download_each(t.bucket(), "mix/*.json").await.unwrap();
    assert_eq!(each.len(), 1);
    assert_eq!(each[0].0, "mix/3.json");
    assert!(matches!(&each[0].1, Data::Json(v) if v[0]["name"] == "c"));

    let err =
        t.s3.download_many(t.bucket(), "nothing/here/*.csv")
            .await
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string()
            .contains(&format!("s3://{}/nothing/here/*.csv", t.bucket())),
        "{err}"
    );
}

pub async fn head_exists_and_user_metadata(t: &Target) {
    assert!(!t.s3.exists(t.bucket(), "m.csv").await.unwrap());
    let err = t.s3.head(t.bucket(), "m.csv").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.operation(), Some(Operation::Head));
    t.s3.client()
        .put_object()
        .bucket(t.bucket())
        .key("m.csv")
        .content_type("text/csv")
        .metadata("owner", "data-team")
        .body(b"a\n1\n".to_vec().into())
        .send()
        .await
        .unwrap();
    assert!(t.s3.exists(t.bucket(), "m.csv").await.unwrap());
    let meta = t.s3.head(t.bucket(), "m.csv").await.unwrap();
    assert_eq!(meta.size, 4);
    assert_eq!(meta.content_type.as_deref(), Some("text/csv"));
    assert_eq!(
        meta.metadata.get("owner").map(String::as_str),
        Some("data-team")
    );
    assert!(meta.etag.is_some() && meta.last_modified.is_some());
}

pub async fn deletes_one_many_and_by_prefix_with_dry_run(t: &Target) {
    put_texts(t, &["del/a.txt", "del/b.txt", "del/c/d.txt", "keep/e.txt"]).await;
    t.s3.delete(t.bucket(), "del/a.txt").await.unwrap();
    t.s3.delete(t.bucket(), "del/never-existed.txt")
        .await
        .unwrap();
    assert!(!t.s3.exists(t.bucket(), "del/a.txt").await.unwrap());

    let would =
        t.s3.delete_prefix_with(t.bucket(), "del/", DeleteOptions::new().dry_run(true))
            .await
            .unwrap();
    assert_eq!(would, ["del/b.txt", "del/c/d.txt"]);
    assert!(
        t.s3.exists(t.bucket(), "del/b.txt").await.unwrap(),
        "a dry run deletes nothing"
    );
    let mut gone = t.s3.delete_prefix(t.bucket(), "del/").await.unwrap();
    gone.sort();
    assert_eq!(gone, ["del/b.txt", "del/c/d.txt"]);
    assert!(keys(t, "del/", ListOptions::new()).await.is_empty());
    assert_eq!(keys(t, "", ListOptions::new()).await, ["keep/e.txt"]);

    // More than one DeleteObjects batch.
    let names: Vec<String> = (0..1203).map(|i| format!("bulk/{i}")).collect();
    t.s3.upload_many_with(
        t.bucket(),
        names.iter().map(|k| (k.as_str(), "x")),
        ManyOptions::new().concurrency(32),
    )
    .await
    .unwrap();
    let deleted = t.s3.delete_many(t.bucket(), &names).await.unwrap();
    assert_eq!(deleted.len(), 1203);
    assert!(keys(t, "bulk/", ListOptions::new()).await.is_empty());
}

pub async fn copies_and_renames_server_side(t: &Target) {
    let other = &t.other_bucket("other");
    let df = df!("a" => [1i64, 2]).unwrap();
    t.s3.upload(t.bucket(), "src/data 1.csv", &df)
        .await
        .unwrap();
    t.s3.create_bucket(other).await.unwrap();
    t.s3.copy(t.bucket(), "src/data 1.csv", other, "copies/월 1.csv")
        .await
        .unwrap();
    assert!(
        t.s3.download_frame(other, "copies/월 1.csv")
            .await
            .unwrap()
            .equals(&df)
    );

    t.s3.rename(t.bucket(), "src/data 1.csv", t.bucket(), "dst/data.csv")
        .await
        .unwrap();
    assert!(!t.s3.exists(t.bucket(), "src/data 1.csv").await.unwrap());
    assert!(
        t.s3.download_frame(t.bucket(), "dst/data.csv")
            .await
            .unwrap()
            .equals(&df)
    );

    let err =
        t.s3.copy(t.bucket(), "src/missing.csv", t.bucket(), "x.csv")
            .await
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.operation(), Some(Operation::Copy));
    assert!(
        err.to_string()
            .contains(&format!("s3://{}/src/missing.csv", t.bucket())),
        "{err}"
    );
    let to = format!("to s3://{}/x.csv", t.bucket());
    assert!(err.to_string().contains(&to), "{err}");
}

pub async fn prefixes_copy_server_side_keeping_relative_paths(t: &Target) {
    let backup = &t.other_bucket("backup");
    for key in [
        "data/a.csv",
        "data/2024/b.csv",
        "data/2024/c.txt",
        "database.txt",
    ] {
        let body = bytes::Bytes::from(format!("body of {key}"));
        t.s3.upload(t.bucket(), key, body).await.unwrap();
    }
    t.s3.create_bucket(backup).await.unwrap();
    let copied =
        t.s3.copy_prefix(t.bucket(), "data/", backup, "snap/")
            .await
            .unwrap();
    let pairs: Vec<(&str, &str)> = copied
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("data/2024/b.csv", "snap/2024/b.csv"),
            ("data/2024/c.txt", "snap/2024/c.txt"),
            ("data/a.csv", "snap/a.csv"),
        ]
    );
    for (src, dst) in &pairs {
        assert_eq!(
            t.s3.download_bytes(backup, dst).await.unwrap(),
            format!("body of {src}").as_bytes()
        );
    }
    // A glob copies what it matches, relative to its literal prefix's last folder.
    let copied =
        t.s3.copy_prefix(t.bucket(), "data/**/*.csv", t.bucket(), "csv-only/")
            .await
            .unwrap();
    let targets: Vec<&str> = copied.iter().map(|(_, b)| b.as_str()).collect();
    assert_eq!(targets, ["csv-only/2024/b.csv", "csv-only/a.csv"]);
    // A missing destination bucket names the copy that failed.
    let err =
        t.s3.copy_prefix(t.bucket(), "data/", "no-such-bucket", "x/")
            .await
            .unwrap_err();
    assert_eq!(err.operation(), Some(Operation::Copy));
    let from = format!("s3://{}/data/", t.bucket());
    assert!(err.to_string().contains(&from), "{err}");
    assert!(err.to_string().contains("NoSuchBucket"), "{err}");
}

pub async fn large_copies_go_in_parts(t: &Target) {
    // 11 MiB of bytes that differ along the way, so a misplaced part would show.
    let body: Vec<u8> = (0..11u32 << 20).map(|i| (i % 251) as u8).collect();
    t.s3.upload(t.bucket(), "big.bin", bytes::Bytes::from(body.clone()))
        .await
        .unwrap();
    let options = CopyOptions::new()
        .multipart_threshold(1 << 20)
        .part_size(5 << 20);
    let info =
        t.s3.copy_with(t.bucket(), "big.bin", t.bucket(), "big-copy.bin", options)
            .await
            .unwrap();
    assert_eq!(info.size, body.len() as u64);
    let copied =
        t.s3.download_bytes(t.bucket(), "big-copy.bin")
            .await
            .unwrap();
    assert_eq!(copied.len(), body.len());
    assert!(copied == body, "the parts reassemble byte for byte");
    // A multipart object's ETag ends in its part count: three 5 MiB parts, not one
    // CopyObject.
    let head = t.s3.head(t.bucket(), "big-copy.bin").await.unwrap();
    let etag = head.etag.unwrap_or_default();
    assert!(etag.trim_matches('"').ends_with("-3"), "{etag}");
}

pub async fn buckets_exist_empty_and_force_delete(t: &Target) {
    let doomed = &t.other_bucket("doomed");
    assert!(t.s3.bucket_exists(t.bucket()).await.unwrap());
    assert!(
        !t.s3
            .bucket_exists(&t.other_bucket("never-made"))
            .await
            .unwrap()
    );
    t.s3.create_bucket(doomed).await.unwrap();
    t.s3.upload(t.bucket(), "x.txt", "keep").await.unwrap();
    t.s3.upload(doomed, "a/b.txt", "x").await.unwrap();
    // s3s-fs deletes non-empty buckets; the BucketNotEmpty error is tested against moto.
    t.s3.delete_bucket_force(doomed).await.unwrap();
    assert!(!t.s3.bucket_exists(doomed).await.unwrap());
    assert!(t.s3.exists(t.bucket(), "x.txt").await.unwrap());
}

pub async fn waiters_see_objects_arrive_and_leave(t: &Target) {
    let wait = Wait {
        delay: Duration::from_millis(100),
        max_attempts: 50,
    };
    let s3 = t.s3.clone();
    let bucket = t.bucket().to_owned();
    let writer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(350)).await;
        s3.upload(&bucket, "later.json", &serde_json::json!({"ready": true}))
            .await
            .unwrap();
    });
    let meta =
        t.s3.wait_for_object(t.bucket(), "later.json", wait)
            .await
            .unwrap();
    assert_eq!(meta.key, "later.json");
    writer.await.unwrap();

    let s3 = t.s3.clone();
    let bucket = t.bucket().to_owned();
    let deleter = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(250)).await;
        s3.delete(&bucket, "later.json").await.unwrap();
    });
    t.s3.wait_for_object_gone(t.bucket(), "later.json", wait)
        .await
        .unwrap();
    deleter.await.unwrap();
    t.s3.wait_for_bucket(t.bucket(), wait).await.unwrap();

    let short = Wait {
        delay: Duration::from_millis(20),
        max_attempts: 3,
    };
    let err =
        t.s3.wait_for_object(t.bucket(), "never.csv", short)
            .await
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(err.operation(), Some(Operation::Wait));
    assert!(
        err.to_string()
            .contains("waited 0.0 s (3 checks, 0.0 s apart)"),
        "{err}"
    );
}

pub async fn presigned_urls_work_with_plain_http(t: &Target) {
    let csv = bytes::Bytes::from_static(b"a,b\n1,2\n");
    t.s3.upload(t.bucket(), "shared/report.csv", csv)
        .await
        .unwrap();
    let get =
        t.s3.presign_get(t.bucket(), "shared/report.csv", Duration::from_secs(300))
            .await
            .unwrap();
    assert_eq!(get.method(), "GET");
    assert!(
        !format!("{get:?}").contains("Signature="),
        "Debug hides the signature: {get:?}"
    );
    let (status, body) = http_request("GET", get.as_str(), b"");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(body, b"a,b\n1,2\n");

    let put =
        t.s3.presign_put(t.bucket(), "shared/upload.txt", Duration::from_secs(300))
            .await
            .unwrap();
    let (status, body) = http_request("PUT", put.as_str(), "from curl".as_bytes());
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        t.s3.download_text(t.bucket(), "shared/upload.txt")
            .await
            .unwrap(),
        "from curl"
    );
}

/// One HTTP/1.1 request with no client library: what `curl` would do with the URL.
fn http_request(method: &str, url: &str, body: &[u8]) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_at(rest.find('/').expect("a path"));
    let mut stream = std::net::TcpStream::connect(host).expect("server reachable");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let status_line = String::from_utf8_lossy(&response[..split]).to_string();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response[split + 4..].to_vec())
}
