//! Moving bytes between S3 and memory or files. Knows nothing about formats.
//!
//! Downloads start with one ranged GET of the first part. Small objects end there; larger
//! ones fetch the remaining parts in parallel, while the first answer's body is read,
//! pinned with `If-Match` to the first answer's
//! ETag so a concurrent overwrite cannot mix two versions, straight into one buffer of the
//! object's size. A body that breaks off mid-read is resumed from the byte it reached (the AWS
//! SDK retries requests, but not bodies). Uploads above a threshold go as a multipart upload
//! with parallel parts, aborted on failure so no parts are left behind.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod file_part;
mod get;
mod put;
mod upload_options;

pub(crate) use get::{
    End, Fetched, Piece, get_bytes, get_end, get_parts, get_ranges, get_to_path, get_to_writer,
    local_file_error,
};
pub(crate) use put::{Destination, MadePart, multipart, put_bytes, put_from_path, put_stream};
pub(crate) use upload_options::apply_upload_options;
pub use upload_options::{Checksum, Encryption, UploadOptions};

/// What S3 reported about an object it stored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadInfo {
    /// The number of bytes stored.
    pub size: u64,
    /// The entity tag S3 assigned, with its quotes.
    pub etag: Option<String>,
    /// The version id, when the bucket has versioning on.
    pub version_id: Option<String>,
}

/// How far a transfer has come, as passed to a progress callback.
///
/// Each report names what it is about: the object (`bucket` and `key`, as in boto3's
/// `call_args`) and, for a transfer to or from a local file, the file (`path`), so that one
/// callback can follow several transfers at once. The files of
/// [`S3Connector::upload_dir`](crate::S3Connector::upload_dir) and
/// [`S3Connector::download_dir`](crate::S3Connector::download_dir) move several at a time and
/// their reports interleave; theirs also say how far the whole folder has come (`folder`).
///
/// A transfer reports as bytes move, up to `bytes == total` once every byte has moved; an
/// empty object or file reports that once, as soon as its size is known, so every transfer
/// reports at least once. Parts move in parallel, so reports may arrive slightly out of
/// order, and a part that is fetched again takes back its bytes first.
///
/// ```
/// use s3io::TransferConfig;
///
/// let config = TransferConfig::new().on_progress(|p| {
///     eprintln!("s3://{}/{}: {} of {:?} bytes", p.bucket, p.key, p.bytes, p.total);
///     if let Some(all) = p.folder {
///         let (files, bytes) = (all.files_done, all.bytes);
///         eprintln!("{files} of {} files, {bytes} of {} bytes", all.files, all.total);
///     }
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes moved so far.
    pub bytes: u64,
    /// The object's size, when known.
    pub total: Option<u64>,
    /// Time since the transfer started.
    pub elapsed: Duration,
    /// The bucket of the object being read or written.
    pub bucket: String,
    /// The key of the object being read or written, in full.
    pub key: String,
    /// The local file being read or written, by `upload_from_path` and `download_to_path`
    /// (and so by `upload_dir` and `download_dir`), as it was given or found in the folder;
    /// `None` for transfers from or to memory or a writer.
    pub path: Option<PathBuf>,
    /// For each file of `upload_dir` and `download_dir`: how far the whole folder has come.
    /// `None` for a transfer of its own.
    pub folder: Option<FolderProgress>,
}

/// How far a folder transfer ([`S3Connector::upload_dir`](crate::S3Connector::upload_dir),
/// [`S3Connector::download_dir`](crate::S3Connector::download_dir)) has come as a whole, as
/// the AWS CLI's `Completed 12.0 MiB/40.0 MiB ... with 3 file(s) remaining`; part of each
/// file's [`Progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FolderProgress {
    /// Bytes moved so far, all files together.
    pub bytes: u64,
    /// The size of all the files together, as listed (downloads) or found on disk (uploads)
    /// before the first byte moved.
    pub total: u64,
    /// The files whose every byte has moved.
    pub files_done: usize,
    /// The files of the transfer.
    pub files: usize,
}

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// How bytes move: part sizes, parallelism, resumes and progress reports.
///
/// ```
/// use s3io::TransferConfig;
///
/// let config = TransferConfig::new()
///     .part_size(16 << 20)
///     .concurrency(16)
///     .on_progress(|p| eprintln!("{} of {:?} bytes", p.bytes, p.total));
/// ```
#[derive(Clone)]
#[must_use]
pub struct TransferConfig {
    pub(crate) part_size: u64,
    pub(crate) concurrency: usize,
    pub(crate) multipart_threshold: u64,
    pub(crate) resume_attempts: u32,
    pub(crate) read_idle_timeout: Duration,
    pub(crate) payload_signing: PayloadSigning,
    pub(crate) progress: Option<ProgressFn>,
    /// The folder transfer whose files this config moves, set by `upload_dir` and
    /// `download_dir` on a config of their own.
    pub(crate) folder: Option<Arc<FolderMeter>>,
}

impl Default for TransferConfig {
    fn default() -> Self {
        TransferConfig {
            part_size: 8 << 20,
            concurrency: 8,
            multipart_threshold: 16 << 20,
            resume_attempts: 5,
            read_idle_timeout: Duration::from_secs(60),
            payload_signing: PayloadSigning::Auto,
            progress: None,
            folder: None,
        }
    }
}

impl TransferConfig {
    /// S3's smallest part, except the last one of an upload.
    pub const MIN_PART_SIZE: u64 = 5 << 20;

    /// The defaults: 8 MiB parts, 8 in flight, multipart uploads above 16 MiB, 5 resumes
    /// per part, 60 s of silence before a body read counts as stalled, and upload bodies
    /// signed over plain HTTP only ([`PayloadSigning::Auto`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The size of each ranged GET and each uploaded part (at least 5 MiB; AWS recommends
    /// 8 to 16 MiB).
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes.max(Self::MIN_PART_SIZE);
        self
    }

    /// How many parts move at once (at least 1).
    pub fn concurrency(mut self, parts: usize) -> Self {
        self.concurrency = parts.max(1);
        self
    }

    /// Uploads larger than this go as multipart uploads (at least the part size).
    pub fn multipart_threshold(mut self, bytes: u64) -> Self {
        self.multipart_threshold = bytes;
        self
    }

    /// How many times one part's body may be resumed after the connection breaks.
    pub fn resume_attempts(mut self, attempts: u32) -> Self {
        self.resume_attempts = attempts;
        self
    }

    /// How long a body may send nothing before the read counts as stalled and is resumed.
    pub fn read_idle_timeout(mut self, timeout: Duration) -> Self {
        self.read_idle_timeout = timeout;
        self
    }

    /// Whether upload bodies are part of their requests' signatures; see [`PayloadSigning`].
    pub fn payload_signing(mut self, signing: PayloadSigning) -> Self {
        self.payload_signing = signing;
        self
    }

    /// Calls `f` as bytes arrive or leave, with the running total.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Prints progress to stderr for transfers that take more than two seconds, a line
    /// rewritten in place about twice a second; quick calls stay quiet. The blocking
    /// connector turns this on by itself inside evcxr notebooks.
    pub fn report_progress(self) -> Self {
        let last = std::sync::Mutex::new(Duration::ZERO);
        self.on_progress(move |p| {
            let done = p.total == Some(p.bytes);
            if p.elapsed < Duration::from_secs(2) {
                return;
            }
            let Ok(mut last) = last.lock() else { return };
            if !done && p.elapsed.saturating_sub(*last) < Duration::from_millis(500) {
                return;
            }
            *last = p.elapsed;
            let mib = |b: u64| b as f64 / (1 << 20) as f64;
            let rate = mib(p.bytes) / p.elapsed.as_secs_f64().max(1e-3);
            let line = match p.total {
                Some(total) if total > 0 => format!(
                    "{:5.1}%  {:.1} of {:.1} MiB  {rate:.1} MiB/s",
                    100.0 * p.bytes as f64 / total as f64,
                    mib(p.bytes),
                    mib(total)
                ),
                _ => format!("{:.1} MiB  {rate:.1} MiB/s", mib(p.bytes)),
            };
            eprint!("\r{line}{}", if done { "\n" } else { "" });
        })
    }

    /// These settings for the files of one folder transfer, whose reports then say how far
    /// the folder has come; unchanged when nobody listens to progress.
    pub(crate) fn for_folder(&self, files: usize, total: u64) -> Self {
        let mut config = self.clone();
        if config.progress.is_some() {
            config.folder = Some(Arc::new(FolderMeter {
                files,
                total,
                bytes: AtomicU64::new(0),
                files_done: AtomicUsize::new(0),
            }));
        }
        config
    }

    /// Whether an upload of `size` bytes goes as a multipart upload.
    pub(crate) fn goes_multipart(&self, size: u64) -> bool {
        size > self.multipart_threshold.max(self.part_size)
    }

    /// Parts for an upload or download of `size` bytes: (start, length) pairs.
    pub(crate) fn parts(&self, from: u64, size: u64) -> impl Iterator<Item = (u64, u64)> {
        let part = self.part_size;
        (from..size)
            .step_by(usize::try_from(part).unwrap_or(usize::MAX))
            .map(move |start| (start, part.min(size - start)))
    }
}

impl fmt::Debug for TransferConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransferConfig")
            .field("part_size", &self.part_size)
            .field("concurrency", &self.concurrency)
            .field("multipart_threshold", &self.multipart_threshold)
            .field("resume_attempts", &self.resume_attempts)
            .field("read_idle_timeout", &self.read_idle_timeout)
            .field("payload_signing", &self.payload_signing)
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .finish()
    }
}

/// Whether an upload's body is part of its SigV4 signature: the SHA-256 of every byte in the
/// `x-amz-content-sha256` header, which s3io computes and the server computes again. Either
/// way each body (each part) carries a checksum header the server checks it against
/// ([`Checksum`]).
///
/// ```
/// use s3io::{PayloadSigning, TransferConfig};
///
/// // As polars sends uploads: unsigned even over plain HTTP, to a trusted local server.
/// let config = TransferConfig::new().payload_signing(PayloadSigning::Never);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PayloadSigning {
    /// As boto3 and the AWS CLI do: signed over plain HTTP; unsigned (`UNSIGNED-PAYLOAD`)
    /// over HTTPS, where TLS guards the body in transit and the checksum guards it at rest.
    #[default]
    Auto,
    /// Always signed, as the AWS SDK for Rust does by default.
    Always,
    /// Never signed, as polars sends uploads. Over plain HTTP the checksum still catches
    /// corruption, but nothing stops someone on the path from changing body and checksum
    /// together.
    Never,
}

impl PayloadSigning {
    /// Whether a body sent to `url` is signed.
    pub(crate) fn signs(self, url: &str) -> bool {
        let https = url
            .get(..6)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https:"));
        match self {
            PayloadSigning::Auto => !https,
            PayloadSigning::Always => true,
            PayloadSigning::Never => false,
        }
    }
}

/// Leaves the body of a PutObject or UploadPart out of its signature where the
/// [`PayloadSigning`] says so, decided on the request as it goes out (its URL says whether
/// TLS carries it, whoever made the client). Bodies s3io sends are in memory, so their
/// checksum goes in a header, signed.
#[derive(Debug)]
pub(crate) struct SignBody(pub(crate) PayloadSigning);

impl aws_sdk_s3::config::Intercept for SignBody {
    fn name(&self) -> &'static str {
        "s3io::SignBody"
    }

    fn modify_before_signing(
        &self,
        context: &mut aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _runtime: &aws_sdk_s3::config::RuntimeComponents,
        cfg: &mut aws_sdk_s3::config::ConfigBag,
    ) -> std::result::Result<(), aws_sdk_s3::error::BoxError> {
        let request = context.request();
        if !self.0.signs(request.uri()) && request.body().bytes().is_some() {
            cfg.interceptor_state()
                .store_put(aws_runtime::auth::PayloadSigningOverride::unsigned_payload());
        }
        Ok(())
    }
}

/// The running totals of a folder transfer, shared by the meters of its files.
pub(crate) struct FolderMeter {
    files: usize,
    total: u64,
    bytes: AtomicU64,
    files_done: AtomicUsize,
}

impl FolderMeter {
    fn now(&self) -> FolderProgress {
        FolderProgress {
            bytes: self.bytes.load(Ordering::Relaxed),
            total: self.total,
            files_done: self.files_done.load(Ordering::Relaxed),
            files: self.files,
        }
    }
}

/// Counts bytes moved and reports them to the progress callback.
pub(crate) struct Meter {
    started: Instant,
    done: AtomicU64,
    total: std::sync::OnceLock<u64>,
    callback: Option<ProgressFn>,
    bucket: String,
    key: String,
    path: Option<PathBuf>,
    folder: Option<Arc<FolderMeter>>,
    /// Whether this file counts as done in its folder: once, even if a part is fetched again.
    counted: AtomicBool,
}

impl Meter {
    /// A meter for the transfer of `bucket`/`key`, from or to the local file `path` if any.
    pub(crate) fn new(
        config: &TransferConfig,
        bucket: &str,
        key: &str,
        path: Option<&Path>,
    ) -> Meter {
        Meter {
            started: Instant::now(),
            done: AtomicU64::new(0),
            total: std::sync::OnceLock::new(),
            callback: config.progress.clone(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            path: path.map(Path::to_path_buf),
            folder: config.folder.clone(),
            counted: AtomicBool::new(false),
        }
    }

    /// Records the transfer's size once it is known; a transfer of nothing is then done.
    pub(crate) fn set_total(&self, total: u64) {
        if self.total.set(total).is_ok() && total == 0 {
            self.report(0);
        }
    }

    /// Takes back bytes that have to be fetched again.
    pub(crate) fn retract(&self, bytes: u64) {
        self.done.fetch_sub(bytes, Ordering::Relaxed);
        if let Some(folder) = &self.folder {
            folder.bytes.fetch_sub(bytes, Ordering::Relaxed);
        }
    }

    pub(crate) fn add(&self, bytes: u64) {
        if bytes == 0 {
            return;
        }
        let done = self.done.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if let Some(folder) = &self.folder {
            folder.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
        self.report(done);
    }

    fn report(&self, done: u64) {
        let total = self.total.get().copied();
        if let Some(folder) = &self.folder
            && total == Some(done)
            && !self.counted.swap(true, Ordering::Relaxed)
        {
            folder.files_done.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(callback) = &self.callback {
            callback(Progress {
                bytes: done,
                total,
                elapsed: self.started.elapsed(),
                bucket: self.bucket.clone(),
                key: self.key.clone(),
                path: self.path.clone(),
                folder: self.folder.as_deref().map(FolderMeter::now),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PayloadSigning;

    #[test]
    fn bodies_are_signed_over_http_only_by_default_as_boto3_signs_them() {
        let (http, https) = ("http://127.0.0.1:9000/b/k", "https://s3.amazonaws.com/b/k");
        assert!(PayloadSigning::Auto.signs(http));
        assert!(PayloadSigning::Auto.signs("HTTP://minio:9000/b/k"));
        assert!(!PayloadSigning::Auto.signs(https));
        assert!(!PayloadSigning::Auto.signs("HTTPS://S3.AMAZONAWS.COM/b/k"));
        assert!(PayloadSigning::Always.signs(https));
        assert!(!PayloadSigning::Never.signs(http));
    }

    /// Stops a request once it is signed, keeping its `x-amz-content-sha256`.
    #[derive(Debug, Default, Clone)]
    struct SignedAs(std::sync::Arc<std::sync::Mutex<Option<String>>>);

    impl aws_sdk_s3::config::Intercept for SignedAs {
        fn name(&self) -> &'static str {
            "SignedAs"
        }

        fn read_before_transmit(
            &self,
            context: &aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
            _runtime: &aws_sdk_s3::config::RuntimeComponents,
            _cfg: &mut aws_sdk_s3::config::ConfigBag,
        ) -> std::result::Result<(), aws_sdk_s3::error::BoxError> {
            let sent = context.request().headers().get("x-amz-content-sha256");
            *self.0.lock().unwrap() = sent.map(str::to_owned);
            Err("signed; not sent".into())
        }
    }

    /// The header a PutObject to `endpoint` is signed with under `signing`, as the SDK sends
    /// it: the endpoint is resolved and the request signed before the interceptor stops it,
    /// so no server (and no TLS) is needed.
    async fn content_sha256(endpoint: &str, signing: PayloadSigning) -> String {
        use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("id", "secret", None, None, "test"))
            .endpoint_url(endpoint)
            .force_path_style(true)
            .build();
        let seen = SignedAs::default();
        let put = aws_sdk_s3::Client::from_conf(config)
            .put_object()
            .bucket("b")
            .key("k")
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"hello"))
            .customize()
            .interceptor(super::SignBody(signing))
            .interceptor(seen.clone())
            .send();
        assert!(put.await.is_err(), "the interceptor stops every request");
        let header = seen.0.lock().unwrap().clone();
        header.expect("the request was signed before it was stopped")
    }

    #[tokio::test]
    async fn https_bodies_go_unsigned_by_default_and_http_ones_signed() {
        let hash = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        let unsigned = "UNSIGNED-PAYLOAD";
        let (http, https) = ("http://127.0.0.1:9", "https://127.0.0.1:9");
        assert_eq!(content_sha256(https, PayloadSigning::Auto).await, unsigned);
        assert_eq!(content_sha256(http, PayloadSigning::Auto).await, hash);
        assert_eq!(content_sha256(https, PayloadSigning::Always).await, hash);
        assert_eq!(content_sha256(http, PayloadSigning::Never).await, unsigned);
    }
}
