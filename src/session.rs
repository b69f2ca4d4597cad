//! Building an [`S3Connector`]: region, endpoint, credentials, profile and addressing style,
//! on top of the AWS SDK's own configuration chain; and what is made once per copy of the
//! code ([`CodeCopy`], [`PerCopy`]): the SDK client, and the blocking connector's runtime.

use std::fmt;
use std::future::Future;
use std::sync::atomic::AtomicU8;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_runtime::client::retries::classifiers::HttpStatusCodeClassifier;

use crate::connector::S3Connector;
use crate::transfer::{TransferConfig, UploadOptions};
use s3io_formats::Limits;
use s3io_formats::{Error, ErrorKind, Result};

/// The region used when neither the builder nor the environment names one, as boto3 does.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Configures an [`S3Connector`]. Anything left unset comes from the environment, exactly as
/// the AWS CLI finds it: `AWS_REGION`, `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_S3`,
/// `AWS_PROFILE`, access keys, `~/.aws/config` and `credentials`, SSO and assumed roles.
///
/// ```no_run
/// # async fn demo() -> s3io::Result<()> {
/// let s3 = s3io::S3Connector::builder()
///     .region("us-east-1")
///     .endpoint_url("http://127.0.0.1:9000")
///     .credentials("AKID", "SECRET")
///     .force_path_style(true)
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
///
/// `Debug` never shows the secret key or the session token:
///
/// ```
/// let builder = s3io::S3Connector::builder().credentials("AKID", "wJalrXUtnFEMI");
/// assert!(!format!("{builder:?}").contains("wJalrXUtnFEMI"));
/// ```
#[derive(Default, Clone)]
#[must_use]
pub struct S3ConnectorBuilder {
    region: Option<String>,
    endpoint_url: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
    profile: Option<String>,
    force_path_style: Option<bool>,
    transfer: Option<TransferConfig>,
    limits: Option<Limits>,
    upload: Option<UploadOptions>,
    anonymous: bool,
    request_payer: bool,
    max_attempts: Option<u32>,
    initial_backoff: Option<Duration>,
    connect_timeout: Option<Duration>,
    attempt_timeout: Option<Duration>,
    operation_timeout: Option<Duration>,
}

/// How long to wait for a connection unless told otherwise: patient enough for a notebook on
/// a slow link (the SDK's own default is 3.1 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl S3ConnectorBuilder {
    /// The AWS region, such as `eu-west-1`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// A custom endpoint: MinIO, Garage, moto, s3s, or a VPC endpoint. Setting one turns on
    /// path-style addressing unless [`force_path_style`](Self::force_path_style) says otherwise.
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    /// Static credentials: an access key id and its secret.
    pub fn credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        self.access_key_id = Some(access_key_id.into());
        self.secret_access_key = Some(secret_access_key.into());
        self
    }

    /// The session token that goes with temporary [`credentials`](Self::credentials).
    pub fn session_token(mut self, token: impl Into<String>) -> Self {
        self.session_token = Some(token.into());
        self
    }

    /// A named profile from `~/.aws/config` and `~/.aws/credentials`.
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }

    /// Path-style URLs (`http://host/bucket/key`) instead of virtual-hosted ones
    /// (`http://bucket.host/key`). Most self-hosted S3 servers need this.
    pub fn force_path_style(mut self, yes: bool) -> Self {
        self.force_path_style = Some(yes);
        self
    }

    /// Transfer settings: part size, parallelism, resumes, progress reports.
    pub fn transfer(mut self, config: TransferConfig) -> Self {
        self.transfer = Some(config);
        self
    }

    /// Limits on what decoding a downloaded object may cost: its size, decompression, sheet
    /// cells, pickle nesting. See [`Limits`].
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// What to store with every object uploaded or copied: encryption (SSE-S3, SSE-KMS),
    /// storage class, metadata, tags, headers. See [`UploadOptions`].
    pub fn upload_options(mut self, options: UploadOptions) -> Self {
        self.upload = Some(options);
        self
    }

    /// Sends requests unsigned, for public buckets such as the AWS open data registry: no
    /// credentials are looked up, so a broken profile or missing keys do not matter (the AWS
    /// CLI's `--no-sign-request`).
    pub fn anonymous(mut self) -> Self {
        self.anonymous = true;
        self
    }

    /// Agrees to pay for the requests and transfer on requester-pays buckets: every request
    /// carries `x-amz-request-payer: requester` (the AWS CLI's `--request-payer requester`).
    pub fn request_payer(mut self, pays: bool) -> Self {
        self.request_payer = pays;
        self
    }

    /// How many times a request is tried before its error is returned (default 3, as in the
    /// AWS SDK: throttling, 5xx answers, timeouts and broken connections are retried).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts.max(1));
        self
    }

    /// The first pause before a retry; later ones grow exponentially, with jitter (default
    /// 1 s).
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = Some(backoff);
        self
    }

    /// How long to wait for a TCP (and TLS) connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long one attempt of a request may take before it is retried (default: no limit,
    /// since large uploads take as long as they take). Reading a download's body is not
    /// part of it; see [`TransferConfig::read_idle_timeout`].
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// How long a request may take in all, retries included (default: no limit).
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = Some(timeout);
        self
    }

    /// Loads the configuration and builds the connector. Credentials are resolved lazily, on
    /// the first request, so a missing key shows up there as an
    /// [`ErrorKind::Credentials`](crate::ErrorKind::Credentials) error.
    pub async fn build(self) -> Result<S3Connector> {
        // In an evcxr notebook, the runtime a cell awaits on may have been made by an earlier
        // cell's copy of tokio; plain programs pay nothing for this.
        let sdk = self
            .load(std::env::var_os("EVCXR_IS_RUNTIME").is_some())
            .await;
        let (transfer, limits, upload) = (self.transfer.clone(), self.limits, self.upload.clone());
        let connector = S3Connector::from_builder(self, sdk);
        let connector = match transfer {
            Some(config) => connector.with_transfer(config),
            None => connector,
        };
        let connector = match upload {
            Some(options) => connector.with_upload_options(options),
            None => connector,
        };
        Ok(match limits {
            Some(limits) => connector.with_limits(limits),
            None => connector,
        })
    }

    /// Loads the AWS configuration and makes the SDK client, with whatever copy of tokio and
    /// the SDK is running this code.
    /// Its requests run on a runtime of its own when `on_own_runtime` (see
    /// [`Sdk::on_own_runtime`]).
    pub(crate) async fn load(&self, on_own_runtime: bool) -> Sdk {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if self.anonymous {
            loader = loader.no_credentials();
        } else if let (Some(id), Some(secret)) = (&self.access_key_id, &self.secret_access_key) {
            let credentials =
                Credentials::new(id, secret, self.session_token.clone(), None, "s3io-builder");
            loader = loader.credentials_provider(credentials);
        }
        let mut timeouts = TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT));
        if let Some(timeout) = self.attempt_timeout {
            timeouts = timeouts.operation_attempt_timeout(timeout);
        }
        if let Some(timeout) = self.operation_timeout {
            timeouts = timeouts.operation_timeout(timeout);
        }
        let sdk_config = loader.timeout_config(timeouts.build()).load().await;
        // The retry settings of the environment (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE, a
        // profile's max_attempts and retry_mode), as the AWS CLI reads them; the builder's
        // own values win.
        let sdk_config = if self.max_attempts.is_some() || self.initial_backoff.is_some() {
            let mut retry = sdk_config
                .retry_config()
                .cloned()
                .unwrap_or_else(RetryConfig::standard);
            if let Some(attempts) = self.max_attempts {
                retry = retry.with_max_attempts(attempts);
            }
            if let Some(backoff) = self.initial_backoff {
                retry = retry.with_initial_backoff(backoff);
            }
            sdk_config.into_builder().retry_config(retry).build()
        } else {
            sdk_config
        };
        if on_own_runtime {
            Sdk::on_own_runtime(sdk_config, self.force_path_style, self.request_payer)
        } else {
            Sdk::new(sdk_config, self.force_path_style, self.request_payer)
        }
    }
}

/// The builder's settings, each listed once with its arguments: from this table
/// `blocking::S3ConnectorBuilder` gets its twin of each, so the two builders cannot drift
/// apart (a test checks the table against the methods above). The macro named by the caller
/// receives the list.
macro_rules! builder_settings {
    ($generate:ident) => {
        $generate! {
            region(region: impl Into<String>);
            endpoint_url(url: impl Into<String>);
            credentials(access_key_id: impl Into<String>, secret_access_key: impl Into<String>);
            session_token(token: impl Into<String>);
            profile(name: impl Into<String>);
            force_path_style(yes: bool);
            transfer(config: TransferConfig);
            limits(limits: Limits);
            upload_options(options: UploadOptions);
            anonymous();
            request_payer(pays: bool);
            max_attempts(attempts: u32);
            initial_backoff(backoff: Duration);
            connect_timeout(timeout: Duration);
            attempt_timeout(timeout: Duration);
            operation_timeout(timeout: Duration);
        }
    };
}
pub(crate) use builder_settings;

impl fmt::Debug for S3ConnectorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |secret: &Option<String>| secret.as_ref().map(|_| "** redacted **");
        f.debug_struct("S3ConnectorBuilder")
            .field("region", &self.region)
            .field("endpoint_url", &self.endpoint_url)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &redacted(&self.secret_access_key))
            .field("session_token", &redacted(&self.session_token))
            .field("profile", &self.profile)
            .field("force_path_style", &self.force_path_style)
            .field("transfer", &self.transfer)
            .field("limits", &self.limits)
            .field("upload", &self.upload)
            .field("anonymous", &self.anonymous)
            .field("request_payer", &self.request_payer)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff", &self.initial_backoff)
            .field("connect_timeout", &self.connect_timeout)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("operation_timeout", &self.operation_timeout)
            .finish()
    }
}

/// The S3 client configuration for an SDK configuration: the default region when none is
/// set, and path-style addressing for custom endpoints unless told otherwise.
pub(crate) fn s3_config(
    sdk: &SdkConfig,
    force_path_style: Option<bool>,
    request_payer: bool,
) -> aws_sdk_s3::Config {
    let mut config = aws_sdk_s3::config::Builder::from(sdk);
    if sdk.region().is_none() {
        config = config.region(Region::new(DEFAULT_REGION));
    }
    let path_style = path_style(sdk, force_path_style);
    // The SDK retries 500, 502, 503 and 504; S3-compatible servers and gateways also
    // throttle with 429, which deserves the same patience.
    let too_many_requests = HttpStatusCodeClassifier::new_from_codes(vec![429]);
    let config = config
        .force_path_style(path_style)
        .retry_classifier(too_many_requests);
    match request_payer {
        true => config.interceptor(RequestPayer).build(),
        false => config.build(),
    }
}

/// Whether requests name the bucket in the path (`http://host/bucket/key`) rather than the
/// host name: as asked, else for custom endpoints, which rarely resolve bucket host names.
pub(crate) fn path_style(sdk: &SdkConfig, force_path_style: Option<bool>) -> bool {
    let custom_endpoint = custom_endpoint(sdk).is_some();
    force_path_style.unwrap_or(custom_endpoint)
}

/// The endpoint the configuration names instead of AWS's own, if any: its endpoint URL, or
/// `AWS_ENDPOINT_URL_S3`, the S3-only setting of the environment.
pub(crate) fn custom_endpoint(sdk: &SdkConfig) -> Option<String> {
    sdk.endpoint_url()
        .map(str::to_owned)
        .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok())
}

/// Adds `x-amz-request-payer: requester` to every request, before it is signed.
#[derive(Debug)]
struct RequestPayer;

impl aws_sdk_s3::config::Intercept for RequestPayer {
    fn name(&self) -> &'static str {
        "s3io::RequestPayer"
    }

    fn modify_before_signing(
        &self,
        context: &mut aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _runtime: &aws_sdk_s3::config::RuntimeComponents,
        _cfg: &mut aws_sdk_s3::config::ConfigBag,
    ) -> std::result::Result<(), aws_sdk_s3::error::BoxError> {
        context
            .request_mut()
            .headers_mut()
            .insert("x-amz-request-payer", "requester");
        Ok(())
    }
}

/// The AWS SDK's side of a connector: the S3 client, and the configuration it came from (for
/// other AWS services, such as STS) when known. Both hold tokio-driven parts (the sleep used
/// for timeouts, the HTTP connector and its pool), so each copy of the code gets its own.
#[derive(Clone, Debug)]
pub(crate) struct Sdk {
    pub(crate) client: aws_sdk_s3::Client,
    pub(crate) config: Option<SdkConfig>,
    /// How the client reaches S3, for other clients to do the same (lazy scans); unknown for a
    /// client of the caller's own.
    #[cfg_attr(not(feature = "lazy"), allow(dead_code))]
    pub(crate) addressing: Option<Addressing>,
    /// The runtime the client's requests run on, when they run on one of s3io's own.
    _runtime: Option<Arc<OwnRuntime>>,
}

/// How a connector's requests reach S3, beyond its SDK configuration.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(feature = "lazy"), allow(dead_code))]
pub(crate) struct Addressing {
    /// Path-style addressing: `http://host/bucket/key`.
    pub(crate) path_style: bool,
    /// Every request says the requester pays.
    pub(crate) request_payer: bool,
}

impl Sdk {
    /// The S3 client for an SDK configuration.
    pub(crate) fn new(
        config: SdkConfig,
        force_path_style: Option<bool>,
        request_payer: bool,
    ) -> Sdk {
        Sdk {
            client: aws_sdk_s3::Client::from_conf(s3_config(
                &config,
                force_path_style,
                request_payer,
            )),
            addressing: Some(Addressing {
                path_style: path_style(&config, force_path_style),
                request_payer,
            }),
            config: Some(config),
            _runtime: None,
        }
    }

    /// The S3 client for an SDK configuration, whose HTTP requests (and the connection tasks
    /// they spawn) run on a runtime of this copy of the code, made here.
    ///
    /// In evcxr the runtime a cell's code awaits on was made by an earlier cell's copy of
    /// tokio: its worker threads know only that copy. Tasks spawned there by this copy's code,
    /// such as the HTTP client's connection tasks, then find no runtime of theirs and stall.
    /// On a runtime made by this copy, everything the request spawns runs with this copy's
    /// tokio; the caller only awaits the answer, which works from any runtime.
    pub(crate) fn on_own_runtime(
        config: SdkConfig,
        force_path_style: Option<bool>,
        request_payer: bool,
    ) -> Sdk {
        let Ok(runtime) = OwnRuntime::new("s3io-requests", 1) else {
            return Sdk::new(config, force_path_style, request_payer);
        };
        let runtime = Arc::new(runtime);
        let http = OwnRuntimeHttp {
            inner: aws_smithy_http_client::Builder::new()
                .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                    aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
                ))
                .build_https(),
            runtime: runtime.clone(),
        };
        let s3 = s3_config(&config, force_path_style, request_payer)
            .to_builder()
            .http_client(http)
            .sleep_impl(ThisCopySleep)
            .build();
        Sdk {
            client: aws_sdk_s3::Client::from_conf(s3),
            addressing: Some(Addressing {
                path_style: path_style(&config, force_path_style),
                request_payer,
            }),
            config: Some(config),
            _runtime: Some(runtime),
        }
    }

    /// The SDK side of a client of the caller's own.
    pub(crate) fn given(client: aws_sdk_s3::Client, config: Option<SdkConfig>) -> Sdk {
        Sdk {
            client,
            config,
            addressing: None,
            _runtime: None,
        }
    }

    /// A client that answers every request with an error saying `why`, for a copy of the code
    /// that cannot have a working one. It shares nothing with any other copy's client (only
    /// the region, plain data), so using it cannot panic, and the error reaches the caller as
    /// an s3io error from the verb.
    pub(crate) fn refusing(region: Option<Region>, why: String) -> Sdk {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(region.unwrap_or_else(|| Region::new(DEFAULT_REGION)))
            .sleep_impl(ThisCopySleep)
            .interceptor(Refuse(why))
            .build();
        Sdk {
            client: aws_sdk_s3::Client::from_conf(config),
            config: None,
            addressing: None,
            _runtime: None,
        }
    }
}

/// A runtime of s3io's own. Dropped without blocking, so what holds it may be dropped
/// anywhere, async code included.
#[derive(Debug)]
pub(crate) struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl OwnRuntime {
    /// A multi-thread runtime with `workers` threads named `name`.
    pub(crate) fn new(name: &str, workers: usize) -> Result<OwnRuntime> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name(name)
            .enable_all()
            .build()
            .map(|runtime| OwnRuntime(Some(runtime)))
            .map_err(|e| {
                Error::new(
                    ErrorKind::Transport,
                    format!("cannot start a tokio runtime: {e}"),
                )
                .with_source(e)
            })
    }

    /// The runtime, until it is dropped.
    pub(crate) fn get(&self) -> Result<&tokio::runtime::Runtime> {
        self.0
            .as_ref()
            .ok_or_else(|| Error::new(ErrorKind::Transport, "the runtime has shut down"))
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// The SDK's HTTP client, run on a runtime of s3io's own; see [`Sdk::on_own_runtime`].
#[derive(Debug)]
struct OwnRuntimeHttp {
    inner: aws_smithy_runtime_api::client::http::SharedHttpClient,
    runtime: Arc<OwnRuntime>,
}

impl aws_smithy_runtime_api::client::http::HttpClient for OwnRuntimeHttp {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &aws_sdk_s3::config::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        use aws_smithy_runtime_api::client::http::SharedHttpConnector;
        SharedHttpConnector::new(OwnRuntimeConnector {
            inner: self.inner.http_connector(settings, components),
            runtime: self.runtime.clone(),
        })
    }
}

#[derive(Debug)]
struct OwnRuntimeConnector {
    inner: aws_smithy_runtime_api::client::http::SharedHttpConnector,
    runtime: Arc<OwnRuntime>,
}

impl aws_smithy_runtime_api::client::http::HttpConnector for OwnRuntimeConnector {
    fn call(
        &self,
        request: aws_sdk_s3::config::http::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        use aws_smithy_runtime_api::client::http::HttpConnectorFuture;
        use aws_smithy_runtime_api::client::result::ConnectorError;
        let inner = self.inner.clone();
        let task = match self.runtime.get() {
            Ok(runtime) => runtime.spawn(async move { inner.call(request).await }),
            Err(e) => {
                return HttpConnectorFuture::ready(Err(ConnectorError::other(e.into(), None)));
            }
        };
        HttpConnectorFuture::new(async move {
            task.await
                .unwrap_or_else(|e| Err(ConnectorError::other(e.into(), None)))
        })
    }
}

/// The SDK's sleep (timeouts, retry back-off) on the tokio of the copy of the code that made it.
#[derive(Debug)]
struct ThisCopySleep;

impl aws_sdk_s3::config::AsyncSleep for ThisCopySleep {
    fn sleep(&self, duration: Duration) -> aws_sdk_s3::config::Sleep {
        aws_sdk_s3::config::Sleep::new(tokio::time::sleep(duration))
    }
}

/// Fails every request before it is sent, saying why.
#[derive(Debug)]
struct Refuse(String);

impl aws_sdk_s3::config::Intercept for Refuse {
    fn name(&self) -> &'static str {
        "s3io::Refuse"
    }

    fn read_before_execution(
        &self,
        _context: &aws_sdk_s3::config::interceptors::BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut aws_sdk_s3::config::ConfigBag,
    ) -> std::result::Result<(), aws_sdk_s3::error::BoxError> {
        Err(self.0.clone().into())
    }
}

/// Which copy of s3io's code is running.
///
/// A program normally holds one copy. A Jupyter kernel such as evcxr compiles every cell into
/// its own library, each with its own copy of s3io, tokio and the AWS SDK, while values (an
/// `S3Connector` made in cell 1) live on into later cells. Anything that captured cell 1's
/// tokio (its thread-local runtime context) then panics with "there is no reactor running"
/// when cell 2's code drives it. So what captures tokio is made once per copy, and this names
/// the copy: the address of a static, which every copy has its own of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CodeCopy(usize);

impl CodeCopy {
    /// The copy this call is running in.
    #[inline]
    pub(crate) fn current() -> CodeCopy {
        static MARKER: AtomicU8 = AtomicU8::new(0);
        CodeCopy(&MARKER as *const AtomicU8 as usize)
    }

    /// A copy that is not running, for tests: small numbers are never a static's address.
    #[cfg(test)]
    pub(crate) fn made_up(n: usize) -> CodeCopy {
        CodeCopy(n)
    }
}

/// One value per [`CodeCopy`], each made on first use in its copy and kept as long as this
/// lives. The first copy's value is read with one atomic load and one comparison, which is
/// all a program with a single copy ever pays; later copies walk a short chain.
pub(crate) struct PerCopy<T> {
    first: Slot<T>,
    /// Held while a value is made, so each copy makes its value once.
    making: Mutex<()>,
}

struct Slot<T> {
    made: OnceLock<(CodeCopy, T)>,
    next: OnceLock<Box<Slot<T>>>,
}

impl<T> Slot<T> {
    fn empty() -> Slot<T> {
        Slot {
            made: OnceLock::new(),
            next: OnceLock::new(),
        }
    }
}

impl<T> PerCopy<T> {
    /// Nothing made yet.
    pub(crate) fn new() -> PerCopy<T> {
        PerCopy {
            first: Slot::empty(),
            making: Mutex::new(()),
        }
    }

    /// With the value of the copy running now already made.
    pub(crate) fn with_current(value: T) -> PerCopy<T> {
        let made = PerCopy::new();
        let _ = made.first.made.set((CodeCopy::current(), value));
        made
    }

    /// The value made first, by whichever copy.
    pub(crate) fn first(&self) -> Option<&T> {
        self.first.made.get().map(|(_, value)| value)
    }

    /// How many copies have made their value.
    pub(crate) fn copies(&self) -> usize {
        let mut count = 0;
        let mut slot = Some(&self.first);
        while let Some(at) = slot.filter(|s| s.made.get().is_some()) {
            count += 1;
            slot = at.next.get().map(|next| &**next);
        }
        count
    }

    /// The value of the copy running now, made by `make` if this copy has none yet.
    #[inline]
    pub(crate) fn get_or_make(&self, make: impl FnOnce() -> T) -> &T {
        match self.get_or_try_make_in(CodeCopy::current(), || {
            Ok::<T, std::convert::Infallible>(make())
        }) {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// As [`get_or_make`](Self::get_or_make), for a `make` that may fail; a failure is
    /// returned and nothing is kept, so the next call tries again.
    #[inline]
    pub(crate) fn get_or_try_make<E>(
        &self,
        make: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<&T, E> {
        self.get_or_try_make_in(CodeCopy::current(), make)
    }

    /// The value for `copy`; tests pass made-up copies.
    #[inline]
    pub(crate) fn get_or_try_make_in<E>(
        &self,
        copy: CodeCopy,
        make: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<&T, E> {
        match self.first.made.get() {
            Some((made_by, value)) if *made_by == copy => Ok(value),
            _ => self.find_or_make(copy, make),
        }
    }

    #[cold]
    fn find_or_make<E>(
        &self,
        copy: CodeCopy,
        make: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<&T, E> {
        let _making = self.making.lock().unwrap_or_else(|e| e.into_inner());
        let mut slot = &self.first;
        loop {
            match slot.made.get() {
                Some((made_by, value)) if *made_by == copy => return Ok(value),
                Some(_) => slot = slot.next.get_or_init(|| Box::new(Slot::empty())),
                None => {
                    // Empty, and only this thread (holding `making`) fills slots.
                    let value = make()?;
                    return Ok(&slot.made.get_or_init(|| (copy, value)).1);
                }
            }
        }
    }
}

impl<T> fmt::Debug for PerCopy<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerCopy")
            .field("copies", &self.copies())
            .finish()
    }
}

/// Runs `future` to completion from any context (plain code, or inside a tokio runtime of
/// either flavour, as in an evcxr cell) without the "cannot start a runtime from within a
/// runtime" panic: on `runtime` when given, else on a short-lived runtime of its own. A
/// panic inside becomes an error, so a dependency's panic is not what the caller sees.
pub(crate) fn run_blocking<F>(
    runtime: Option<&tokio::runtime::Runtime>,
    future: F,
) -> Result<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let work = move || -> Result<F::Output> {
        let run = move || match runtime {
            Some(runtime) => Ok(runtime.block_on(future)),
            None => {
                let own = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| {
                        Error::new(
                            ErrorKind::Transport,
                            format!("cannot start a tokio runtime: {e}"),
                        )
                        .with_source(e)
                    })?;
                Ok(own.block_on(future))
            }
        };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
            .unwrap_or_else(|panic| Err(panicked(panic)))
    };
    let Ok(current) = tokio::runtime::Handle::try_current() else {
        return work();
    };
    // Already inside a runtime: blocking here is not allowed, so drive the future from a
    // helper thread and wait for it, telling a multi-thread runtime this worker will block.
    let on_helper = || {
        std::thread::scope(|scope| {
            scope
                .spawn(work)
                .join()
                .unwrap_or_else(|panic| Err(panicked(panic)))
        })
    };
    match current.runtime_flavor() {
        tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(on_helper),
        _ => on_helper(),
    }
}

/// A panic caught from a dependency, as an error.
fn panicked(panic: Box<dyn std::any::Any + Send>) -> Error {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned());
    Error::new(
        ErrorKind::Transport,
        format!("a dependency of s3io panicked: {message}"),
    )
}
