//! Faults on the wire: every scenario against every operation, through the fault-injecting
//! proxy. Each result must be byte-exact or a typed error, never wrong bytes; the table it
//! prints (run with `--nocapture`) is the one in the reliability notes.

use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt;
use s3io::{ErrorKind, S3Connector, TransferConfig};

use crate::proxy::{Fault, FaultProxy, Matches};
use crate::support::*;
use crate::transfer::patterned;

/// What an operation must end with under a fault.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// The right bytes (or listing), whatever happened underneath.
    Exact,
    /// An error of this kind.
    Fails(ErrorKind),
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

struct Bench {
    _t: TestS3,
    proxy: FaultProxy,
    s3: S3Connector,
    small: Bytes,
    large: Bytes,
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
    Bench {
        _t: t,
        proxy,
        s3,
        small,
        large,
    }
}

impl Bench {
    /// Runs `op` through the proxy; `Ok` only when the result is exactly right.
    async fn run(&self, op: Op) -> Result<(), s3io::Error> {
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
            Op::UploadSmall => {
                s3.upload(BUCKET, "up-small.bin", self.small.clone())
                    .await?;
                check(
                    self._t
                        .s3
                        .download_bytes(BUCKET, "up-small.bin")
                        .await
                        .unwrap(),
                    &self.small,
                );
            }
            Op::UploadLarge => {
                s3.upload(BUCKET, "up-large.bin", self.large.clone())
                    .await?;
                check(
                    self._t
                        .s3
                        .download_bytes(BUCKET, "up-large.bin")
                        .await
                        .unwrap(),
                    &self.large,
                );
            }
            Op::List => {
                let listed: Vec<s3io::ObjectInfo> =
                    s3.list_objects(BUCKET, "").try_collect().await?;
                let keys: Vec<&str> = listed.iter().map(|o| o.key.as_str()).collect();
                assert!(
                    keys.contains(&"small.bin") && keys.contains(&"large.bin"),
                    "{keys:?}"
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
    expect: [Option<Expect>; 5],
}

const OPS: [Op; 5] = [
    Op::DownloadSmall,
    Op::DownloadLarge,
    Op::UploadSmall,
    Op::UploadLarge,
    Op::List,
];

fn scenarios() -> Vec<Scenario> {
    use Expect::*;
    let all_exact = [Some(Exact); 5];
    let gets = [Some(Exact), Some(Exact), None, None, None];
    vec![
        Scenario {
            name: "503 SlowDown, twice",
            which: Matches::Any,
            fault: Fault::Status(503, "SlowDown"),
            times: 2,
            expect: all_exact,
        },
        Scenario {
            name: "500 InternalError, twice",
            which: Matches::Any,
            fault: Fault::Status(500, "InternalError"),
            times: 2,
            expect: all_exact,
        },
        Scenario {
            name: "429 TooManyRequests, twice",
            which: Matches::Any,
            fault: Fault::Status(429, "TooManyRequests"),
            times: 2,
            expect: all_exact,
        },
        Scenario {
            name: "503 SlowDown, always",
            which: Matches::Any,
            fault: Fault::Status(503, "SlowDown"),
            times: 1000,
            expect: [Some(Fails(ErrorKind::Service)); 5],
        },
        Scenario {
            name: "200 with an error body",
            which: Matches::Complete,
            fault: Fault::ErrorIn200,
            times: 1,
            expect: [None, None, None, Some(Exact), None],
        },
        Scenario {
            name: "reset before the response",
            which: Matches::Any,
            fault: Fault::ResetBeforeResponse,
            times: 1,
            expect: all_exact,
        },
        Scenario {
            name: "reset mid-body",
            which: Matches::GetObject,
            fault: Fault::ResetMidBody(1000),
            times: 1,
            expect: gets,
        },
        Scenario {
            name: "reset mid-body, listing",
            which: Matches::List,
            fault: Fault::ResetMidBody(100),
            times: 1,
            expect: [None, None, None, None, Some(Exact)],
        },
        Scenario {
            name: "reset mid-body, always",
            which: Matches::GetObject,
            fault: Fault::ResetMidBody(100),
            times: 1000,
            expect: [
                Some(Fails(ErrorKind::Transport)),
                Some(Fails(ErrorKind::Transport)),
                None,
                None,
                None,
            ],
        },
        Scenario {
            name: "truncated body, full Content-Length",
            which: Matches::GetObject,
            fault: Fault::Truncate(1000),
            times: 1,
            expect: gets,
        },
        Scenario {
            name: "stalled body",
            which: Matches::GetObject,
            fault: Fault::Stall(1000, Duration::from_secs(3)),
            times: 1,
            expect: gets,
        },
        Scenario {
            name: "wrong checksum header",
            which: Matches::GetObject,
            fault: Fault::WrongChecksum,
            times: 1,
            expect: gets,
        },
        Scenario {
            name: "HTML error page from a proxy",
            which: Matches::Any,
            fault: Fault::HtmlPage,
            times: 1,
            expect: all_exact,
        },
        Scenario {
            name: "HTML error page, always",
            which: Matches::Any,
            fault: Fault::HtmlPage,
            times: 1000,
            expect: [Some(Fails(ErrorKind::Service)); 5],
        },
        Scenario {
            name: "object replaced between ranged reads (If-Match ignored)",
            which: Matches::LaterRange,
            fault: Fault::OtherEtag,
            times: 1,
            expect: [None, Some(Fails(ErrorKind::Conflict)), None, None, None],
        },
        Scenario {
            name: "object replaced between ranged reads (412)",
            which: Matches::LaterRange,
            fault: Fault::Status(412, "PreconditionFailed"),
            times: 1,
            expect: [None, Some(Fails(ErrorKind::Conflict)), None, None, None],
        },
        Scenario {
            name: "upload part fails, always",
            which: Matches::UploadPart,
            fault: Fault::Status(500, "InternalError"),
            times: 1000,
            expect: [None, None, None, Some(Fails(ErrorKind::Service)), None],
        },
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
    for scenario in scenarios() {
        let mut row = format!("| {} |", scenario.name);
        for (op, expect) in OPS.iter().zip(scenario.expect) {
            let Some(expect) = expect else {
                row.push_str(" n/a |");
                continue;
            };
            b.proxy.reset();
            b.proxy
                .inject(scenario.which, scenario.fault.clone(), scenario.times);
            let result = b.run(*op).await;
            let requests = b.proxy.seen().len();
            let outcome = match (&result, expect) {
                (Ok(()), Expect::Exact) => format!("exact, {requests} req"),
                (Err(e), Expect::Fails(kind)) if e.kind() == kind => {
                    let message = e.to_string();
                    assert!(
                        message.contains("s3://") && !message.contains('\n'),
                        "{message}"
                    );
                    format!("{kind:?} error, {requests} req")
                }
                _ => panic!(
                    "{} / {op:?}: expected {expect:?}, got {result:?}",
                    scenario.name
                ),
            };
            assert!(
                b.proxy.all_faults_used() || scenario.times > 1,
                "{} / {op:?}: the fault never struck",
                scenario.name
            );
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
    assert!(!b._t.s3.exists(BUCKET, "doomed.bin").await.unwrap());
}

#[tokio::test]
async fn a_resumed_download_asks_only_for_the_missing_bytes() {
    let b = bench().await;
    b.proxy
        .inject(Matches::GetObject, Fault::ResetMidBody(1000), 1);
    b.run(Op::DownloadLarge).await.unwrap();
    let ranges: Vec<String> = b.proxy.seen().into_iter().filter_map(|s| s.range).collect();
    // Three parts, and one resume of the first from the byte where its body broke off.
    assert_eq!(ranges.len(), 4, "{ranges:?}");
    assert_eq!(ranges[0], "bytes=0-5242879");
    assert!(
        ranges.contains(&"bytes=1000-5242879".to_owned()),
        "{ranges:?}"
    );
}
