//! Building an [`S3Connector`]: region, endpoint, credentials, profile and addressing style,
//! on top of the AWS SDK's own configuration chain.

use std::fmt;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_runtime::client::retries::classifiers::HttpStatusCodeClassifier;

use crate::connector::S3Connector;
use crate::transfer::TransferConfig;
use s3io_formats::Limits;
use s3io_formats::Result;

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
        if let (Some(id), Some(secret)) = (&self.access_key_id, &self.secret_access_key) {
            let credentials =
                Credentials::new(id, secret, self.session_token.clone(), None, "s3io-builder");
            loader = loader.credentials_provider(credentials);
        }
        let mut retry = RetryConfig::standard();
        if let Some(attempts) = self.max_attempts {
            retry = retry.with_max_attempts(attempts);
        }
        if let Some(backoff) = self.initial_backoff {
            retry = retry.with_initial_backoff(backoff);
        }
        let mut timeouts = TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT));
        if let Some(timeout) = self.attempt_timeout {
            timeouts = timeouts.operation_attempt_timeout(timeout);
        }
        if let Some(timeout) = self.operation_timeout {
            timeouts = timeouts.operation_timeout(timeout);
        }
        let sdk_config = loader
            .retry_config(retry)
            .timeout_config(timeouts.build())
            .load()
            .await;
        let connector = S3Connector::from_sdk_config_with(&sdk_config, self.force_path_style);
        let connector = match self.transfer {
            Some(config) => connector.with_transfer(config),
            None => connector,
        };
        Ok(match self.limits {
            Some(limits) => connector.with_limits(limits),
            None => connector,
        })
    }
}

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
pub(crate) fn s3_config(sdk: &SdkConfig, force_path_style: Option<bool>) -> aws_sdk_s3::Config {
    let mut config = aws_sdk_s3::config::Builder::from(sdk);
    if sdk.region().is_none() {
        config = config.region(Region::new(DEFAULT_REGION));
    }
    let custom_endpoint =
        sdk.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
    let path_style = force_path_style.unwrap_or(custom_endpoint);
    // The SDK retries 500, 502, 503 and 504; S3-compatible servers and gateways also
    // throttle with 429, which deserves the same patience.
    let too_many_requests = HttpStatusCodeClassifier::new_from_codes(vec![429]);
    config
        .force_path_style(path_style)
        .retry_classifier(too_many_requests)
        .build()
}
