//! A Garage cluster of three nodes loses one, then two, while s3io works against it.
//!
//! Runs where `scripts/garage-cluster.sh start` made the cluster and its `env` set
//! `S3IO_GARAGE_*`, including `S3IO_GARAGE_CLUSTER` (the script, to kill and restart nodes);
//! elsewhere it prints `SKIP`. The client talks to node 1 through the logging proxy, so the
//! attempts it made are counted.

use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use polars::prelude::*;
use s3io::{ErrorKind, S3Connector};

use super::target::{Server, Target};
use crate::proxy::FaultProxy;
use crate::support::{patterned, required, skip};

const OBJECTS: usize = 200;

/// The cluster script, or `None` after a printed reason.
fn cluster_script(test: &str) -> Option<String> {
    match std::env::var("S3IO_GARAGE_CLUSTER") {
        Ok(script) if !script.is_empty() => Some(script),
        _ if required("GARAGE") => {
            panic!("{test}: S3IO_REQUIRE_GARAGE is set, but S3IO_GARAGE_CLUSTER is not")
        }
        _ => {
            skip(
                test,
                "S3IO_GARAGE_CLUSTER is not set (scripts/garage-cluster.sh env sets it)",
            );
            None
        }
    }
}

fn cluster(script: &str, args: &[&str]) {
    let status = Command::new("bash")
        .arg(script)
        .args(args)
        .status()
        .expect("the cluster script runs");
    assert!(status.success(), "garage-cluster.sh {args:?}: {status}");
}

/// Object `i`: its key and what it holds, in sizes from 1 KiB to 6 MiB (multipart with the
/// small parts below) and as bytes, CSV frames and JSON values.
fn object(i: usize) -> (String, Bytes) {
    match i % 4 {
        0 => (format!("mixed/{i}.bin"), patterned(1024 + i * 997)),
        1 => {
            let n = 10 + i as i64;
            let df = df!("i" => (0..n).collect::<Vec<_>>(), "x" => (0..n).map(|v| v as f64 / 3.0).collect::<Vec<_>>()).unwrap();
            let bytes = s3io::Format::CSV.encode(&df.into()).unwrap();
            (format!("mixed/{i}.csv"), bytes.into())
        }
        2 => {
            let value = serde_json::json!({"i": i, "tags": ["a", "b"], "ok": true});
            (
                format!("mixed/{i}.json"),
                serde_json::to_vec(&value).unwrap().into(),
            )
        }
        _ if i % 20 == 3 => (format!("mixed/{i}.big"), patterned((6 << 20) + i)),
        _ => (format!("mixed/{i}.bin"), patterned(300 * 1024 + i)),
    }
}

/// Uploads and downloads every object, 8 at a time, checking each read against what was
/// written; the number of bytes verified.
async fn round_trip(s3: &S3Connector, bucket: &str, objects: &[(String, Bytes)]) -> u64 {
    futures_util::stream::iter(objects)
        .map(|(key, body)| async move {
            s3.upload(bucket, key, body.clone())
                .await
                .unwrap_or_else(|e| panic!("upload {key}: {e:?}"));
            verify(s3, bucket, key, body).await
        })
        .buffer_unordered(8)
        .fold(0, |sum, n| async move { sum + n })
        .await
}

/// Waits until restarted nodes have rejoined: until `key` reads again, for at most a minute
/// (the nodes reconnect to each other some seconds after they start; a fixed pause raced it).
async fn healed(s3: &S3Connector, bucket: &str, key: &str) {
    let started = Instant::now();
    loop {
        match s3.download_bytes(bucket, key).await {
            Ok(_) => break,
            Err(e) if started.elapsed() > Duration::from_secs(60) => {
                panic!("the cluster did not heal within a minute: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
    eprintln!(
        "the cluster answered again {:.1?} after the restart",
        started.elapsed()
    );
}

async fn verify(s3: &S3Connector, bucket: &str, key: &str, body: &Bytes) -> u64 {
    let back = s3
        .download_bytes(bucket, key)
        .await
        .unwrap_or_else(|e| panic!("download {key}: {e:?}"));
    assert!(
        back == *body,
        "{key}: read back differs from what was written"
    );
    back.len() as u64
}

#[tokio::test]
async fn garage_keeps_working_when_nodes_die() {
    let test = "node_failure::garage_keeps_working_when_nodes_die";
    let Some(script) = cluster_script(test) else {
        return;
    };
    let Some(t) = Target::start(Server::Garage, "garage_keeps_working_when_nodes_die").await else {
        return;
    };
    let proxy = FaultProxy::start(t.endpoint_url());
    let s3 = t
        .builder()
        .endpoint_url(proxy.endpoint_url())
        .max_attempts(5)
        .operation_timeout(Duration::from_secs(20))
        .build()
        .await
        .unwrap()
        .with_transfer(super::transfer::small_parts());
    let bucket = t.bucket();
    let objects: Vec<(String, Bytes)> = (0..OBJECTS).map(object).collect();

    // Node 3 dies with SIGKILL a moment into the batch; every operation must still succeed.
    let (first, rest) = objects.split_at(OBJECTS / 4);
    let mut verified = round_trip(&s3, bucket, first).await;
    cluster(&script, &["kill", "3"]);
    let started = Instant::now();
    verified += round_trip(&s3, bucket, rest).await;
    let degraded = started.elapsed();
    let attempts = proxy.seen().len();
    eprintln!(
        "node 3 killed: {OBJECTS} objects written and read back, {verified} bytes verified, \
         {attempts} requests through the proxy, the last {} in {degraded:.1?}",
        rest.len()
    );

    // Node 3 comes back; everything is still there.
    cluster(&script, &["restart", "3"]);
    healed(&s3, bucket, &objects[0].0).await;
    for (key, body) in &objects {
        verify(&s3, bucket, key, body).await;
    }

    // Without a quorum, writes and reads fail with a typed error within 30 s, never a hang.
    cluster(&script, &["kill", "2"]);
    cluster(&script, &["kill", "3"]);
    let started = Instant::now();
    let err = s3
        .upload(bucket, "no-quorum.txt", "x")
        .await
        .expect_err("a write without a quorum fails");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(30), "the write took {took:?}");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Service | ErrorKind::Transport | ErrorKind::Timeout
        ),
        "{err:?}"
    );
    let started = Instant::now();
    let read = s3.download_bytes(bucket, &objects[0].0).await;
    let read_took = started.elapsed();
    assert!(
        read_took < Duration::from_secs(30),
        "the read took {read_took:?}"
    );
    eprintln!(
        "nodes 2 and 3 killed: the write failed in {took:.1?} ({}: {err}); the read {} in {read_took:.1?}",
        err.kind(),
        if read.is_ok() {
            "succeeded (one replica answers reads)"
        } else {
            "failed"
        },
    );
    if let Err(e) = &read {
        assert!(
            matches!(
                e.kind(),
                ErrorKind::Service | ErrorKind::Transport | ErrorKind::Timeout
            ),
            "{e:?}"
        );
    }

    // Back to three nodes: nothing written before is lost or corrupted.
    cluster(&script, &["restart", "2"]);
    cluster(&script, &["restart", "3"]);
    healed(&s3, bucket, &objects[0].0).await;
    let mut after = 0;
    for (key, body) in &objects {
        after += verify(&s3, bucket, key, body).await;
    }
    let listed: Vec<s3io::ObjectInfo> = s3
        .list_objects(bucket, "mixed/")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), OBJECTS);
    eprintln!("healed: {OBJECTS} objects, {after} bytes verified again");
    t.finish().await;
}
