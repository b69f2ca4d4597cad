//! Faults on the wire: every scenario against every operation, through the fault-injecting
//! proxy. Each result must be byte-exact or a typed error, never wrong bytes; the table it
//! prints (run with `--nocapture`) is the one in the reliability notes.

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt;
use s3io::{ErrorKind, S3Connector, TransferConfig};

use crate::proxy::{Fault, FaultProxy, Matches};
use crate::support::*;

/// What an operation must end with under a fault.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// The right bytes (or listing), whatever happened underneath.
    Exact,
    /// An error of this kind.
    Fails(ErrorKind),
}

/// One cell of the table: the outcome, and how many HTTP requests the proxy must see (a
/// range where parallel parts may or may not have started before a failure stops them).
#[derive(Debug, Clone, Copy)]
struct Cell {
    expect: Expect,
    requests: (usize, usize),
}

/// Exact bytes after exactly `n` requests.
const fn exact(n: usize) -> Option<Cell> {
    Some(Cell {
        expect: Expect::Exact,
        requests: (n, n),
    })
}

/// An error of `kind` after `min` to `max` requests.
const fn fails(kind: ErrorKind, min: usize, max: usize) -> Option<Cell> {
    Some(Cell {
        expect: Expect::Fails(kind),
        requests: (min, max),
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    DownloadSmall,
    DownloadLarge,
    UploadSmall,
    UploadLarge,
    List,
}

const SMALL: usize = 1500;
const LARGE: usize = (11 << 20) + 3;
/// How long one operation may take before it counts as hung: far more than any retry or
/// resume here needs, far less than the stall the proxy injects.
const PATIENCE: Duration = Duration::from_secs(15);

struct Bench {
    t: TestS3,
    proxy: FaultProxy,
    s3: S3Connector,
    small: Bytes,
    large: Bytes,
    /// Every key the bucket must hold, as uploads succeed.
    keys: std::sync::Mutex<BTreeSet<String>>,
}

async fn bench() -> Bench {
    let t = start().await;
    let proxy = FaultProxy::start(&t.server.endpoint_url());
    let transfer = TransferConfig::new()
        .part_size(TransferConfig::MIN_PART_SIZE)
        .multipart_threshold(TransferConfig::MIN_PART_SIZE)
        .concurrency(2)
        .resume_attempts(3)
        .read_idle_timeout(Duration::from_millis(400));
    let s3 = t
        .server
        .builder()
        .endpoint_url(proxy.endpoint_url())
        .transfer(transfer)
        .initial_backoff(Duration::from_millis(20))
        .build()
        .await
        .unwrap();
    let (small, large) = (patterned(SMALL), patterned(LARGE));
    t.s3.upload(BUCKET, "small.bin", small.clone())
        .await
        .unwrap();
    t.s3.upload(BUCKET, "large.bin", large.clone())
        .await
        .unwrap();
    let keys = ["small.bin", "large.bin"].map(str::to_owned).into();
    Bench {
        t,
        proxy,
        s3,
        small,
        large,
        keys: std::sync::Mutex::new(keys),
    }
}

/// `base` with its first bytes replaced by `tag`, so that every scenario uploads content of
/// its own.
fn tagged(base: &Bytes, tag: usize) -> Bytes {
    let mut bytes = base.to_vec();
    let tag = (tag as u64 + 1).to_le_bytes();
    bytes[..tag.len()].copy_from_slice(&tag);
    bytes.into()
}

impl Bench {
    /// Runs `op` through the proxy, for scenario number `n`; `Ok` only when the result is
    /// exactly right. An upload goes to a key of its own that must be absent before, and
    /// hold exactly what was sent after (or, when it failed, still be absent).
    async fn run(&self, op: Op, n: usize) -> Result<(), s3io::Error> {
        let s3 = &self.s3;
        let check = |got: Bytes, want: &Bytes| {
            assert!(
                got == *want,
                "{op:?} returned {} bytes that differ from the {} stored",
                got.len(),
                want.len()
            );
        };
        match op {
            Op::DownloadSmall => check(s3.download_bytes(BUCKET, "small.bin").await?, &self.small),
            Op::DownloadLarge => check(s3.download_bytes(BUCKET, "large.bin").await?, &self.large),
            Op::UploadSmall | Op::UploadLarge => {
                let (key, body) = match op {
                    Op::UploadSmall => (format!("up-{n}-small.bin"), tagged(&self.small, n)),
                    _ => (format!("up-{n}-large.bin"), tagged(&self.large, n)),
                };
                let direct = &self.t.s3;
                assert!(!direct.exists(BUCKET, &key).await.unwrap(), "{key} before");
                let sent = s3.upload(BUCKET, &key, body.clone()).await;
                if let Err(e) = sent {
                    assert!(
                        !direct.exists(BUCKET, &key).await.unwrap(),
                        "{key} exists after a failed upload"
                    );
                    return Err(e);
                }
                check(direct.download_bytes(BUCKET, &key).await.unwrap(), &body);
                self.keys.lock().unwrap().insert(key);
            }
            Op::List => {
                let listed: Vec<s3io::ObjectInfo> =
                    s3.list_objects(BUCKET, "").try_collect().await?;
                let mut keys: Vec<String> = listed.into_iter().map(|o| o.key).collect();
                keys.sort();
                let expected: Vec<String> = self.keys.lock().unwrap().iter().cloned().collect();
                assert_eq!(
                    keys, expected,
                    "the listing is every key, once, and no other"
                );
            }
        }
        Ok(())
    }
}

/// One row of the fault table: the fault, where it strikes, how often, and the outcome each
/// operation must have (`None`: the fault does not apply to it).
struct Scenario {
    name: &'static str,
    which: Matches,
    fault: Fault,
    times: usize,
    cells: [Option<Cell>; 5],
    /// A request the row's mechanism must have sent, per operation (a resume's range).
    proof: Option<fn(Op) -> Option<&'static str>>,
    /// How long each operation may take before it counts as hung.
    patience: Duration,
}

const OPS: [Op; 5] = [
    Op::DownloadSmall,
    Op::DownloadLarge,
    Op::UploadSmall,
    Op::UploadLarge,
    Op::List,
];

/// The range a body resumed from byte 1,000 asks for, per download.
fn resumed_from_1000(op: Op) -> Option<&'static str> {
    match op {
        Op::DownloadSmall => Some("bytes=1000-1499"),
        Op::DownloadLarge => Some("bytes=1000-5242879"),
        _ => None,
    }
}

fn scenarios() -> Vec<Scenario> {
    use ErrorKind::*;
    let row = |name, which, fault, times, cells| Scenario {
        name,
        which,
        fault,
        times,
        cells,
        proof: None,
        patience: PATIENCE,
    };
    // A large download ends with a HEAD that asks for its full-object checksum.
    let retried_twice = [exact(3), exact(6), exact(3), exact(7), exact(3)];
    let retried_once = [exact(2), exact(5), exact(2), exact(6), exact(2)];
    let resumed = [exact(2), exact(5), None, None, None];
    vec![
        row(
            "503 SlowDown, twice",
            Matches::Any,
            Fault::Status(503, "SlowDown"),
            2,
            retried_twice,
        ),
        row(
            "500 InternalError, twice",
            Matches::Any,
            Fault::Status(500, "InternalError"),
            2,
            retried_twice,
        ),
        row(
            "429 TooManyRequests, twice",
            Matches::Any,
            Fault::Status(429, "TooManyRequests"),
            2,
            retried_twice,
        ),
        row(
            "503 SlowDown, always",
            Matches::Any,
            Fault::Status(503, "SlowDown"),
            1000,
            [fails(Service, 3, 3); 5],
        ),
        row(
            "200 with an error body",
            Matches::Complete,
            Fault::ErrorIn200,
            1,
            [None, None, None, exact(6), None],
        ),
        row(
            "reset before the response",
            Matches::Any,
            Fault::ResetBeforeResponse,
            1,
            retried_once,
        ),
        Scenario {
            proof: Some(resumed_from_1000),
            ..row(
                "reset mid-body",
                Matches::GetObject,
                Fault::ResetMidBody(1000),
                1,
                resumed,
            )
        },
        row(
            "reset mid-body, listing",
            Matches::List,
            Fault::ResetMidBody(100),
            1,
            [None, None, None, None, exact(2)],
        ),
        // The first part's four tries (one GET, three resumes) fail; the other parts and the
        // checksum HEAD, in flight beside it, may have been tried too.
        row(
            "reset mid-body, always",
            Matches::GetObject,
            Fault::ResetMidBody(100),
            1000,
            [
                fails(Transport, 4, 4),
                fails(Transport, 4, 9),
                None,
                None,
                None,
            ],
        ),
        Scenario {
            proof: Some(resumed_from_1000),
            ..row(
                "truncated body, full Content-Length",
                Matches::GetObject,
                Fault::Truncate(1000),
                1,
                resumed,
            )
        },
        // Silent for a minute: only stall detection (the 400 ms read_idle_timeout here)
        // and a resume from byte 1,000 finish within 3 s. The SDK's own stalled-stream
        // protection would notice too, but only after its 5 s grace period.
        Scenario {
            proof: Some(resumed_from_1000),
            patience: Duration::from_secs(3),
            ..row(
                "stalled body",
                Matches::GetObject,
                Fault::Stall(1000, Duration::from_secs(60)),
                1,
                resumed,
            )
        },
        row(
            "HTML error page from a proxy",
            Matches::Any,
            Fault::HtmlPage,
            1,
            retried_once,
        ),
        row(
            "HTML error page, always",
            Matches::Any,
            Fault::HtmlPage,
            1000,
            [fails(Service, 3, 3); 5],
        ),
        // The first GET, the later parts (the third may not start), and the checksum HEAD,
        // which goes out beside the parts and may have left before the conflict stops them.
        row(
            "object replaced between ranged reads (If-Match ignored)",
            Matches::LaterRange,
            Fault::OtherEtag,
            1,
            [None, fails(Conflict, 3, 4), None, None, None],
        ),
        row(
            "object replaced between ranged reads (412)",
            Matches::LaterRange,
            Fault::Status(412, "PreconditionFailed"),
            1,
            [None, fails(Conflict, 2, 4), None, None, None],
        ),
        // Create, the first failing part's three tries, the abort; the part in flight beside
        // it (and a third, if it started) may be cut short after 0 to 3 tries when the
        // first failure stops the rest.
        row(
            "upload part fails, always",
            Matches::UploadPart,
            Fault::Status(500, "InternalError"),
            1000,
            [None, None, None, fails(Service, 5, 11), None],
        ),
    ]
}

#[tokio::test]
async fn fault_table_every_result_exact_or_typed() {
    let b = bench().await;
    let mut table = vec![
        "| scenario | download small | download large | upload small | upload large | list |"
            .to_owned(),
        "|---|---|---|---|---|---|".to_owned(),
    ];
    for (n, scenario) in scenarios().into_iter().enumerate() {
        let mut row = format!("| {} |", scenario.name);
        for (op, cell) in OPS.iter().zip(scenario.cells) {
            let Some(cell) = cell else {
                row.push_str(" n/a |");
                continue;
            };
            let at = format!("{} / {op:?}", scenario.name);
            b.proxy.reset();
            b.proxy
                .inject(scenario.which, scenario.fault.clone(), scenario.times);
            let patience = scenario.patience;
            let result = tokio::time::timeout(patience, b.run(*op, n))
                .await
                .unwrap_or_else(|_| panic!("{at}: hung for {patience:?}"));
            let seen = b.proxy.seen();
            let requests = seen.len();
            let outcome = match (&result, cell.expect) {
                (Ok(()), Expect::Exact) => format!("exact, {requests} req"),
                (Err(e), Expect::Fails(kind)) if e.kind() == kind => {
                    let message = e.to_string();
                    assert!(
                        message.contains("s3://") && !message.contains('\n'),
                        "{at}: {message}"
                    );
                    format!("{kind:?} error, {requests} req")
                }
                _ => panic!("{at}: expected {:?}, got {result:?}", cell.expect),
            };
            let (min, max) = cell.requests;
            assert!(
                (min..=max).contains(&requests),
                "{at}: {requests} requests, expected {min} to {max}: {seen:#?}"
            );
            // The uploads' own checks go around the proxy, so every request it saw was the
            // operation's; a fault that never struck proves nothing.
            assert!(b.proxy.struck(), "{at}: the fault never struck");
            if let Some(range) = scenario.proof.and_then(|proof| proof(*op)) {
                assert!(
                    seen.iter().any(|s| s.range.as_deref() == Some(range)),
                    "{at}: no request resumed with {range}: {seen:#?}"
                );
            }
            row.push_str(&format!(" {outcome} |"));
        }
        table.push(row);
    }
    let table = table.join("\n");
    eprintln!("{table}");
    let out = format!("{}/target/fault-table.md", env!("CARGO_MANIFEST_DIR"));
    let _ = std::fs::write(out, &table);
}

#[tokio::test]
async fn failed_multipart_upload_is_aborted() {
    let b = bench().await;
    b.proxy.inject(
        Matches::UploadPart,
        Fault::Status(500, "InternalError"),
        1000,
    );
    let err =
        b.s3.upload(BUCKET, "doomed.bin", b.large.clone())
            .await
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Service);
    let seen = b.proxy.seen();
    let aborted = seen
        .iter()
        .any(|s| s.method == "DELETE" && s.path_and_query.contains("uploadId="));
    assert!(aborted, "an AbortMultipartUpload was sent: {seen:#?}");
    assert!(!b.t.s3.exists(BUCKET, "doomed.bin").await.unwrap());
}

#[tokio::test]
async fn a_resumed_download_asks_only_for_the_missing_bytes() {
    let b = bench().await;
    b.proxy
        .inject(Matches::GetObject, Fault::ResetMidBody(1000), 1);
    b.run(Op::DownloadLarge, 0).await.unwrap();
    let ranges: Vec<String> = b.proxy.seen().into_iter().filter_map(|s| s.range).collect();
    // Three parts, and one resume of the first from the byte where its body broke off.
    assert_eq!(ranges.len(), 4, "{ranges:?}");
    assert_eq!(ranges[0], "bytes=0-5242879");
    assert!(
        ranges.contains(&"bytes=1000-5242879".to_owned()),
        "{ranges:?}"
    );
}
