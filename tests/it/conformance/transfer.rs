//! Transfers: parallel ranged downloads reassemble byte for byte, multipart uploads with odd
//! sizes, files in and out with bounded memory, progress reports.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use s3io::{ErrorKind, Progress, TransferConfig};

use super::target::Target;
use crate::proxy::{Fault, FaultProxy, Matches};
use crate::support::*;

/// Small parts so a test object of a few MiB needs several of them.
pub fn small_parts() -> TransferConfig {
    TransferConfig::new()
        .part_size(TransferConfig::MIN_PART_SIZE)
        .multipart_threshold(TransferConfig::MIN_PART_SIZE)
        .concurrency(3)
}

pub async fn ranged_parallel_download_and_multipart_upload_are_byte_exact(t: &Target) {
    let s3 = t.s3.with_transfer(small_parts());
    // Sizes around part boundaries: one byte, exactly one part, one part and a byte, many.
    for len in [1usize, 5 << 20, (5 << 20) + 1, (21 << 20) + 7] {
        let body = patterned(len);
        let key = format!("sizes/{len}.bin");
        let info = s3.upload(t.bucket(), &key, body.clone()).await.unwrap();
        assert_eq!(info.size, len as u64);
        let back = s3.download_bytes(t.bucket(), &key).await.unwrap();
        assert_eq!(back.len(), len, "{key}");
        assert!(back == body, "{key}: bytes differ");
        assert_eq!(s3.head(t.bucket(), &key).await.unwrap().size, len as u64);
    }
    // s3s-fs cannot list multipart uploads; the moto tests check none is left open.
}

pub async fn empty_objects_download_as_empty(t: &Target) {
    t.s3.upload(t.bucket(), "empty.bin", Bytes::new())
        .await
        .unwrap();
    assert!(
        t.s3.download_bytes(t.bucket(), "empty.bin")
            .await
            .unwrap()
            .is_empty()
    );
    t.s3.upload(t.bucket(), "empty.txt", "").await.unwrap();
    assert_eq!(
        t.s3.download_text(t.bucket(), "empty.txt").await.unwrap(),
        ""
    );
}

/// What a progress callback saw: bytes so far and the total.
type Reported = (u64, Option<u64>);

pub async fn progress_reports_every_byte_once(t: &Target) {
    let seen: Arc<Mutex<Vec<Reported>>> = Arc::default();
    let log = seen.clone();
    let s3 = t.s3.with_transfer(
        small_parts().on_progress(move |p| log.lock().unwrap().push((p.bytes, p.total))),
    );
    let body = patterned((12 << 20) + 5);
    s3.upload(t.bucket(), "p.bin", body.clone()).await.unwrap();
    let uploads = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(
        uploads.last(),
        Some(&(body.len() as u64, Some(body.len() as u64)))
    );
    assert!(
        uploads.windows(2).all(|w| w[0].0 < w[1].0),
        "upload progress only grows"
    );

    s3.download_bytes(t.bucket(), "p.bin").await.unwrap();
    let downloads = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(
        downloads.last(),
        Some(&(body.len() as u64, Some(body.len() as u64)))
    );
    assert!(
        downloads.len() > 3,
        "reported along the way, not just at the end"
    );
}

/// Checks the reports of a folder transfer of `files` (name below the folder, bytes): every
/// file is named by its key under `prefix` and by its local path under `dir`, each ends with
/// every byte, and each carries the whole folder's progress, which ends complete.
fn check_folder_reports(
    bucket: &str,
    reports: &[Progress],
    files: &[(&str, Bytes)],
    prefix: &str,
    dir: &std::path::Path,
) {
    let total: u64 = files.iter().map(|(_, body)| body.len() as u64).sum();
    let mut keys: Vec<&str> = reports.iter().map(|p| p.key.as_str()).collect();
    keys.sort();
    keys.dedup();
    let mut expected: Vec<String> = files.iter().map(|(n, _)| format!("{prefix}{n}")).collect();
    expected.sort();
    assert_eq!(keys, expected, "every file reports, under its key");
    for (name, body) in files {
        let key = format!("{prefix}{name}");
        let of_file: Vec<&Progress> = reports.iter().filter(|p| p.key == key).collect();
        let size = body.len() as u64;
        assert!(
            of_file
                .iter()
                .any(|p| p.bytes == size && p.total == Some(size)),
            "{key}: {of_file:?}"
        );
        for p in of_file {
            assert_eq!(p.bucket, bucket);
            assert_eq!(p.path.as_deref(), Some(dir.join(name).as_path()), "{key}");
            let folder = p.folder.expect("a folder's file reports on the folder");
            assert_eq!((folder.files, folder.total), (files.len(), total));
        }
    }
    let folders = reports.iter().filter_map(|p| p.folder);
    let most = folders.fold((0, 0), |(b, f), x| (x.bytes.max(b), x.files_done.max(f)));
    assert_eq!(most, (total, files.len()), "the folder ends complete");
}

pub async fn folder_transfers_report_each_file_by_key_and_path(t: &Target) {
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let log = seen.clone();
    let s3 =
        t.s3.with_transfer(small_parts().on_progress(move |p| log.lock().unwrap().push(p)));
    // One file in parts, a small one, and an empty one, which reports too.
    let files = [
        ("big.bin", patterned((6 << 20) + 1)),
        ("sub/small.txt", Bytes::from("small")),
        ("sub/empty.txt", Bytes::new()),
    ];
    let up = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(up.path().join("sub")).unwrap();
    for (name, body) in &files {
        std::fs::write(up.path().join(name), body).unwrap();
    }
    s3.upload_dir(up.path(), t.bucket(), "reported/")
        .await
        .unwrap();
    let uploads = std::mem::take(&mut *seen.lock().unwrap());
    check_folder_reports(t.bucket(), &uploads, &files, "reported/", up.path());

    let down = tempfile::tempdir().unwrap();
    let written = s3
        .download_dir(t.bucket(), "reported/", down.path())
        .await
        .unwrap();
    let downloads = std::mem::take(&mut *seen.lock().unwrap());
    check_folder_reports(t.bucket(), &downloads, &files, "reported/", down.path());
    assert_eq!(written.len(), files.len());

    // A transfer of its own names its object, and no file or folder.
    s3.upload(t.bucket(), "alone.txt", "x").await.unwrap();
    let alone = std::mem::take(&mut *seen.lock().unwrap());
    assert!(!alone.is_empty());
    assert!(
        alone
            .iter()
            .all(|p| p.key == "alone.txt" && p.path.is_none() && p.folder.is_none())
    );
}

pub async fn files_go_up_and_down_whole(t: &Target) {
    let s3 = t.s3.with_transfer(small_parts());
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.bin");
    let body = patterned((13 << 20) + 3);
    std::fs::write(&source, &body).unwrap();

    let info = s3
        .upload_from_path(t.bucket(), "files/data.bin", &source)
        .await
        .unwrap();
    assert_eq!(info.size, body.len() as u64);
    let target = dir.path().join("target.bin");
    let written = s3
        .download_to_path(t.bucket(), "files/data.bin", &target)
        .await
        .unwrap();
    assert_eq!(written, body.len() as u64);
    assert!(std::fs::read(&target).unwrap() == body);

    // A file upload gets its key's Content-Type.
    std::fs::write(dir.path().join("a.csv"), "a\n1\n").unwrap();
    s3.upload_from_path(t.bucket(), "files/a.csv", dir.path().join("a.csv"))
        .await
        .unwrap();
    let head = s3.head(t.bucket(), "files/a.csv").await.unwrap();
    assert_eq!(
        head.content_type.as_deref(),
        Some("text/csv; charset=utf-8")
    );

    // A failed download leaves neither the file nor a partial one behind.
    let missing = dir.path().join("missing.bin");
    let err = s3
        .download_to_path(t.bucket(), "files/nope.bin", &missing)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left.len(),
        3,
        "only source.bin, target.bin and a.csv: {left:?}"
    );
}

/// A writer the test can read afterwards, which fails with a broken pipe past `limit` bytes.
#[derive(Clone)]
struct Sink {
    written: Arc<Mutex<Vec<u8>>>,
    writes: Arc<Mutex<usize>>,
    limit: usize,
}

impl Sink {
    fn new(limit: usize) -> Sink {
        Sink {
            written: Arc::default(),
            writes: Arc::default(),
            limit,
        }
    }
}

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut written = self.written.lock().unwrap();
        if written.len() + buf.len() > self.limit {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        *self.writes.lock().unwrap() += 1;
        written.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub async fn downloads_stream_into_a_writer_in_order(t: &Target) {
    let s3 = t.s3.with_transfer(small_parts());
    // Three parts fetched at once must still be written in order.
    let body = patterned((11 << 20) + 7);
    s3.upload(t.bucket(), "stream/big.bin", body.clone())
        .await
        .unwrap();
    let sink = Sink::new(usize::MAX);
    let n = s3
        .download_to_writer(t.bucket(), "stream/big.bin", sink.clone())
        .await
        .unwrap();
    assert_eq!(n, body.len() as u64);
    assert!(*sink.written.lock().unwrap() == body, "bytes differ");
    assert_eq!(*sink.writes.lock().unwrap(), 3, "one write per part");

    s3.upload(t.bucket(), "stream/empty.bin", Bytes::new())
        .await
        .unwrap();
    let sink = Sink::new(usize::MAX);
    let n = s3
        .download_to_writer(t.bucket(), "stream/empty.bin", sink.clone())
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert!(sink.written.lock().unwrap().is_empty());

    // A writer that fails stops the download; its io::Error is the source.
    let sink = Sink::new(6 << 20);
    let err = s3
        .download_to_writer(t.bucket(), "stream/big.bin", sink.clone())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let io = std::error::Error::source(&err)
        .and_then(|e| e.downcast_ref::<std::io::Error>())
        .expect("the io::Error is the source");
    assert_eq!(io.kind(), std::io::ErrorKind::BrokenPipe);
    assert!(
        err.to_string()
            .starts_with(&format!("download s3://{}/stream/big.bin", t.bucket())),
        "{err}"
    );
    assert!(
        *sink.written.lock().unwrap() == body[..5 << 20],
        "the first part only"
    );

    // A missing object writes nothing.
    let sink = Sink::new(usize::MAX);
    let err = s3
        .download_to_writer(t.bucket(), "stream/nope.bin", sink.clone())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(sink.written.lock().unwrap().is_empty());
}

pub async fn folders_go_up_and_down_and_keys_cannot_escape(t: &Target) {
    let up = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(up.path().join("2024/월별")).unwrap();
    std::fs::write(up.path().join("top.txt"), "top").unwrap();
    std::fs::write(up.path().join("2024/월별/a b.csv"), "a\n1\n").unwrap();
    let uploaded =
        t.s3.upload_dir(up.path(), t.bucket(), "exports/")
            .await
            .unwrap();
    let keys: Vec<&str> = uploaded.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["exports/2024/월별/a b.csv", "exports/top.txt"]);

    let down = tempfile::tempdir().unwrap();
    let files =
        t.s3.download_dir(t.bucket(), "exports/", down.path())
            .await
            .unwrap();
    assert_eq!(
        files,
        [
            down.path().join("2024/월별/a b.csv"),
            down.path().join("top.txt")
        ]
    );
    assert_eq!(
        std::fs::read_to_string(down.path().join("2024/월별/a b.csv")).unwrap(),
        "a\n1\n"
    );

    // s3s-fs cannot store keys that climb out of a folder; a proxy renames one in the
    // listing, as a hostile or buggy server could. Nothing may be written, anywhere.
    for hostile in [
        "exports/../../evil.txt",
        "exports//etc/evil.txt",
        "exports/a\\..\\..\\evil.txt",
    ] {
        let proxy = FaultProxy::start(t.endpoint_url());
        let to: &'static str = Box::leak(format!("<Key>{hostile}</Key>").into_boxed_str());
        proxy.inject(
            Matches::List,
            Fault::Rewrite("<Key>exports/top.txt</Key>", to),
            1,
        );
        let s3 = t
            .builder()
            .endpoint_url(proxy.endpoint_url())
            .build()
            .await
            .unwrap();
        let target = tempfile::tempdir().unwrap();
        let out = target.path().join("a/b/out");
        let err = s3
            .download_dir(t.bucket(), "exports/", &out)
            .await
            .unwrap_err();
        assert!(proxy.struck(), "the listing went through the proxy");
        assert!(
            err.to_string()
                .contains(&format!("refusing key {hostile:?}")),
            "{err}"
        );
        let written: Vec<_> = walk(target.path());
        assert!(written.is_empty(), "{hostile}: wrote {written:?}");
    }
}

/// Every file below `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
