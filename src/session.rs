//! Building an [`S3Connector`]: region, endpoint, credentials, profile and addressing style,
//! on top of the AWS SDK's own configuration chain.

use std::fmt;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

use crate::connector::S3Connector;
use crate::error::Result;
use crate::transfer::TransferConfig;

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
}

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
        let sdk_config = loader.load().await;
        let connector = S3Connector::from_sdk_config_with(&sdk_config, self.force_path_style);
        Ok(match self.transfer {
            Some(config) => connector.with_transfer(config),
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
    config.force_path_style(path_style).build()
}
