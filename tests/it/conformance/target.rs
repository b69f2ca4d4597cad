//! The servers the conformance suite runs against, and what each test gets: a connector, an
//! empty bucket of its own, and what the server can do.
//!
//! - **embedded**: [`s3io::local::LocalS3`] (s3s-fs), always; a fresh server per test.
//! - **moto**: moto's server (PyPI `moto[server]`), one per test binary, started on first use
//!   with the Python of `S3IO_PYTHON` (else `python3`), and only in a version known to work:
//!   at least the one `.ci/requirements.txt` pins (5.2.1, for one, answers
//!   CompleteMultipartUpload wrongly). Whatever `moto_server` is on the PATH is not used.
//! - **garage**: any S3 server named by `S3IO_GARAGE_ENDPOINT`, with
//!   `S3IO_GARAGE_ACCESS_KEY_ID`, `S3IO_GARAGE_SECRET_ACCESS_KEY` and `S3IO_GARAGE_REGION`
//!   (default `garage`); meant for a Garage cluster.
//!
//! A server that is missing or not configured makes each of its tests print
//! `SKIP <test>: <why>` and pass, unless `S3IO_REQUIRE_<SERVER>` (`MOTO`, `GARAGE`) is set,
//! which turns the skip into a failure.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use s3io::local::LocalS3;
use s3io::{S3Connector, S3ConnectorBuilder};

use crate::support::{python, required, skip};

/// A kind of S3 server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Embedded,
    Moto,
    Garage,
}

/// What a server does that not every server does. A case that needs one of these on a server
/// without it says so with a `SKIP` line, or checks the documented difference.
#[derive(Debug, Clone, Copy)]
pub struct Abilities {
    /// Answers NoSuchBucket for a missing bucket and refuses writes to one, as AWS does
    /// (s3s-fs answers NoSuchKey and stores the write).
    pub strict_buckets: bool,
    /// Sends an `x-amz-request-id` with errors.
    pub request_ids: bool,
    /// Keeps object versions.
    pub versioning: bool,
    /// Answers STS GetCallerIdentity at the same endpoint.
    pub sts: bool,
    /// Lists a storage class and an ETag with each object.
    pub listing_details: bool,
    /// Lists the multipart uploads in progress.
    pub list_uploads: bool,
    /// Stores keys with `..` and empty path segments (a server on a file system cannot).
    pub dot_segments: bool,
    /// Keeps SSE settings, storage classes and tags given on upload.
    pub stores_upload_settings: bool,
    /// Answers unsigned requests to a test bucket (moto checks no signatures).
    pub anonymous_reads: bool,
    /// Sends the object's checksum with a GET that asks for it.
    pub get_checksums: bool,
    /// Names a multipart upload's full-object checksum (`ChecksumType: FULL_OBJECT`) on HEAD.
    pub full_object_checksums: bool,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Embedded => "embedded",
            Server::Moto => "moto",
            Server::Garage => "garage",
        }
    }

    fn abilities(self) -> Abilities {
        match self {
            Server::Embedded => Abilities {
                strict_buckets: false,
                request_ids: false,
                versioning: false,
                sts: false,
                listing_details: false,
                list_uploads: false,
                dot_segments: false,
                stores_upload_settings: false,
                anonymous_reads: false,
                get_checksums: true,
                full_object_checksums: false,
            },
            Server::Moto => Abilities {
                strict_buckets: true,
                request_ids: true,
                versioning: true,
                sts: true,
                listing_details: true,
                list_uploads: true,
                dot_segments: true,
                stores_upload_settings: true,
                anonymous_reads: true,
                get_checksums: true,
                full_object_checksums: true,
            },
            Server::Garage => Abilities {
                strict_buckets: true,
                request_ids: false,
                versioning: false,
                sts: false,
                listing_details: true,
                list_uploads: true,
                dot_segments: true,
                stores_upload_settings: false,
                anonymous_reads: false,
                get_checksums: false,
                full_object_checksums: false,
            },
        }
    }
}

/// Where a server listens and how to sign for it.
#[derive(Debug, Clone)]
struct Endpoint {
    url: String,
    region: String,
    access_key: String,
    secret_key: String,
}

/// One test's view of one server: a connector and an empty bucket of its own.
pub struct Target {
    pub server: Server,
    pub can: Abilities,
    pub s3: S3Connector,
    test: String,
    bucket: String,
    /// The other buckets handed out, removed with the test's own.
    others: Mutex<Vec<String>>,
    endpoint: Endpoint,
    /// The embedded server, stopped when the test ends.
    _local: Option<LocalS3>,
}

impl Target {
    /// Connects `test` to `server` and makes its bucket; `None`, after a printed `SKIP`, when
    /// the server is not available.
    pub async fn start(server: Server, test: &str) -> Option<Target> {
        let test = format!("{}::{test}", server.name());
        let (endpoint, local) = match server {
            Server::Embedded => {
                let local = LocalS3::start().expect("the embedded server starts");
                let endpoint = Endpoint {
                    url: local.endpoint_url(),
                    region: "us-east-1".into(),
                    access_key: s3io::local::ACCESS_KEY_ID.into(),
                    secret_key: s3io::local::SECRET_ACCESS_KEY.into(),
                };
                (endpoint, Some(local))
            }
            Server::Moto => match shared_moto() {
                Ok(url) => (
                    Endpoint {
                        url: url.clone(),
                        region: "us-east-1".into(),
                        access_key: "testing".into(),
                        secret_key: "testing".into(),
                    },
                    None,
                ),
                Err(why) => return unavailable(&test, "MOTO", why),
            },
            Server::Garage => match garage_from_env() {
                Ok(endpoint) => (endpoint, None),
                Err(why) => return unavailable(&test, "GARAGE", &why),
            },
        };
        let s3 = builder(&endpoint)
            .build()
            .await
            .expect("the connector builds");
        let bucket = unique_bucket();
        s3.create_bucket(&bucket)
            .await
            .unwrap_or_else(|e| panic!("{test}: creating bucket {bucket}: {e}"));
        Some(Target {
            server,
            can: server.abilities(),
            s3,
            test,
            bucket,
            others: Mutex::default(),
            endpoint,
            _local: local,
        })
    }

    /// This test's bucket, empty when the test starts.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Another bucket name of this test's own, made from `suffix` (not created).
    pub fn other_bucket(&self, suffix: &str) -> String {
        let name = format!("{}-{suffix}", self.bucket);
        self.others.lock().unwrap().push(name.clone());
        name
    }

    /// A builder set up for this server, for connectors with other settings.
    pub fn builder(&self) -> S3ConnectorBuilder {
        builder(&self.endpoint)
    }

    /// A logging fault proxy in front of the server, and a connector with this server's
    /// settings that talks through it: what a test counts requests and bytes with.
    pub async fn through_proxy(&self) -> (crate::proxy::FaultProxy, s3io::S3Connector) {
        let proxy = crate::proxy::FaultProxy::start(self.endpoint_url());
        let s3 = self.builder().endpoint_url(proxy.endpoint_url()).build();
        (proxy, s3.await.unwrap())
    }

    /// Asserts that the bucket holds no open multipart upload, where the server can list
    /// them (s3s-fs cannot; the SKIP line says so).
    pub async fn assert_no_upload_left_open(&self) {
        if !self.able(
            self.can.list_uploads,
            "the server cannot list multipart uploads",
        ) {
            return;
        }
        let open = self
            .s3
            .client()
            .list_multipart_uploads()
            .bucket(self.bucket())
            .send()
            .await
            .unwrap();
        assert!(open.uploads().is_empty(), "{:?}", open.uploads());
    }

    /// The server's endpoint, e.g. to put a proxy in front of it.
    pub fn endpoint_url(&self) -> &str {
        &self.endpoint.url
    }

    /// The access key, secret key and region the connector signs with, for other clients
    /// (pyarrow, awswrangler) pointed at [`endpoint_url`](Self::endpoint_url).
    pub fn signing(&self) -> (&str, &str, &str) {
        let e = &self.endpoint;
        (&e.access_key, &e.secret_key, &e.region)
    }

    /// The test's name, as `SKIP` lines show it: `<server>::<case>`.
    pub fn name(&self) -> &str {
        &self.test
    }

    /// Prints `SKIP <test>: <why>` and returns false when `able` is false: for a case, or part
    /// of one, that the server cannot run.
    pub fn able(&self, able: bool, why: &str) -> bool {
        if !able {
            skip(&self.test, why);
        }
        able
    }

    /// Removes what the test left on a server that outlives it.
    pub async fn finish(self) {
        if self.server != Server::Embedded {
            let others = std::mem::take(&mut *self.others.lock().unwrap());
            for bucket in others.iter().chain([&self.bucket]) {
                let _ = self.s3.delete_bucket_force(bucket).await;
            }
        }
    }
}

fn builder(endpoint: &Endpoint) -> S3ConnectorBuilder {
    S3Connector::builder()
        .endpoint_url(&endpoint.url)
        .region(&endpoint.region)
        .credentials(&endpoint.access_key, &endpoint.secret_key)
        .force_path_style(true)
}

/// Skips, or fails when `S3IO_REQUIRE_<what>` is set.
fn unavailable(test: &str, what: &str, why: &str) -> Option<Target> {
    if required(what) {
        panic!("{test}: S3IO_REQUIRE_{what} is set, but: {why}");
    }
    skip(test, why);
    None
}

/// A bucket name no other test of any run uses: servers outlive test binaries.
fn unique_bucket() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    format!(
        "s3io-{}-{:x}-{}",
        NEXT.fetch_add(1, Ordering::Relaxed),
        stamp,
        std::process::id()
    )
}

fn garage_from_env() -> Result<Endpoint, String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let url =
        var("S3IO_GARAGE_ENDPOINT").ok_or("S3IO_GARAGE_ENDPOINT is not set (docs/testing.md)")?;
    let key = |name: &str| var(name).ok_or_else(|| format!("{name} is not set"));
    Ok(Endpoint {
        url,
        region: var("S3IO_GARAGE_REGION").unwrap_or_else(|| "garage".into()),
        access_key: key("S3IO_GARAGE_ACCESS_KEY_ID")?,
        secret_key: key("S3IO_GARAGE_SECRET_ACCESS_KEY")?,
    })
}

/// The moto server every moto test of this binary shares, started on first use. It lives
/// as long as the test binary: it exits when its stdin, held here, closes.
fn shared_moto() -> Result<&'static String, &'static str> {
    static MOTO: OnceLock<Result<(String, Mutex<MotoProcess>), String>> = OnceLock::new();
    MOTO.get_or_init(|| start_moto().map(|(url, moto)| (url, Mutex::new(moto))))
        .as_ref()
        .map(|(url, _)| url)
        .map_err(String::as_str)
}

/// moto's process and the pipe that keeps it alive.
struct MotoProcess {
    _child: Child,
    _stdin: ChildStdin,
}

/// Runs moto's threaded server until stdin closes, which happens when the test binary exits,
/// however it exits.
const MOTO_LAUNCHER: &str = r#"
import os, sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
print("ready", flush=True)
sys.stdin.read()
os._exit(0)
"#;

fn start_moto() -> Result<(String, MotoProcess), String> {
    let python = python();
    check_moto_version(&python)?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let mut child = Command::new(&python)
        .args(["-c", MOTO_LAUNCHER, &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {python}: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut ready = String::new();
    let stdout = child.stdout.take().expect("piped stdout");
    // moto prints "ready" once it listens, or exits; a hang is the harness's timeout.
    BufReader::new(stdout)
        .read_line(&mut ready)
        .map_err(|e| e.to_string())?;
    if ready.trim() != "ready" {
        let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
        return Err(format!("moto's server did not start ({status})"));
    }
    let _ = stdin.flush();
    Ok((
        format!("http://127.0.0.1:{port}"),
        MotoProcess {
            _child: child,
            _stdin: stdin,
        },
    ))
}

/// The oldest moto the tests trust: the version `.ci/requirements.txt` pins.
fn pinned_moto() -> Vec<u32> {
    let requirements = include_str!("../../../.ci/requirements.txt");
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
