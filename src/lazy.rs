//! Lazy polars scans and sinks over S3 (feature `lazy`), on polars' own cloud reader and
//! writer, fed with the connector's settings: region, endpoint, addressing style, and the
//! credentials of the AWS configuration chain (profiles, SSO, assumed roles, web identity)
//! through polars' credential-provider hook.
//!
//! Projection and predicate pushdown, row-group pruning and the streaming engine then work on
//! objects larger than memory. The price: these reads go through polars' readers directly,
//! without s3io's hostile-input scans and output budgets. Keep the eager API
//! ([`S3Connector::download`]) for objects you do not trust.

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use polars::io::cloud::credential_provider::{
    AwsCredential, ObjectStoreCredential, PlCredentialProvider,
};
use polars::io::cloud::{AmazonS3ConfigKey, CloudOptions, PolarsObjectStoreError};
use polars::prelude::{
    DataFrame, Engine, FileWriteFormat, IpcScanOptions, LazyCsvReader, LazyFileListReader,
    LazyFrame, LazyJsonLineReader, ParquetWriteOptions, PlRefPath, PolarsError, ScanArgsParquet,
    SinkDestination, SinkTarget, UnifiedScanArgs, UnifiedSinkArgs,
};
use polars_core::query_result::QueryResult;

use crate::connector::S3Connector;
use crate::session::{Addressing, DEFAULT_REGION, custom_endpoint};
use s3io_formats::{Error, ErrorKind, Operation, Result};

/// Why a connector made from a client of the caller's own cannot scan.
const NO_SETTINGS: &str = "lazy scans need the connector's settings (endpoint, addressing \
    style), which a connector made with S3Connector::from_client does not know; build it with \
    S3Connector::builder(), from_env() or from_sdk_config()";

impl S3Connector {
    /// polars' [`CloudOptions`] that reach `bucket` as this connector does, for polars calls
    /// s3io does not wrap (`LazyCsvReader::with_cloud_options`, ...). Credentials are not
    /// copied in: polars asks the connector's credential chain each time they expire.
    pub fn polars_cloud_options(&self, bucket: &str) -> Result<CloudOptions> {
        let fail = |e: Error| e.with_operation(Operation::Scan).with_bucket(bucket);
        let (Some(config), Some(addressing)) = (self.sdk_config(), self.addressing()) else {
            return Err(fail(Error::new(ErrorKind::Unsupported, NO_SETTINGS)));
        };
        let region = self
            .client()
            .config()
            .region()
            .map_or(DEFAULT_REGION.to_owned(), ToString::to_string);
        let mut settings = vec![(AmazonS3ConfigKey::Region, region)];
        if let Some(endpoint) = custom_endpoint(config) {
            // object_store's client setting, named as in its configuration strings.
            if let Ok(allow_http) = "aws_allow_http".parse() {
                settings.push((allow_http, http(&endpoint).to_string()));
            }
            settings.push((
                AmazonS3ConfigKey::Endpoint,
                endpoint_for(&endpoint, bucket, addressing),
            ));
        }
        settings.push((
            AmazonS3ConfigKey::VirtualHostedStyleRequest,
            (!addressing.path_style).to_string(),
        ));
        if addressing.request_payer {
            settings.push((AmazonS3ConfigKey::RequestPayer, "true".to_owned()));
        }
        let provider = config.credentials_provider();
        if provider.is_none() {
            settings.push((AmazonS3ConfigKey::SkipSignature, "true".to_owned()));
        }
        Ok(CloudOptions::default()
            .with_aws(settings)
            .with_credential_provider(provider.map(credentials_for_polars)))
    }

    /// A lazy scan of one Parquet object, or of every key matching a glob
    /// (`data/year=*/*.parquet`, hive partitions included), as `pl.scan_parquet("s3://...")`.
    ///
    /// ```no_run
    /// # fn demo(s3: s3io::S3Connector) -> Result<(), Box<dyn std::error::Error>> {
    /// use polars::prelude::*;
    ///
    /// let totals = s3
    ///     .scan_parquet("lake", "trips/*.parquet")?
    ///     .filter(col("fare").gt(lit(10.0)))
    ///     .group_by([col("city")])
    ///     .agg([col("fare").sum()])
    ///     .collect_with_engine(Engine::Streaming)?;
    /// # Ok(()) }
    /// ```
    pub fn scan_parquet(&self, bucket: &str, key_or_glob: &str) -> Result<LazyFrame> {
        let args = ScanArgsParquet {
            cloud_options: Some(self.polars_cloud_options(bucket)?),
            ..ScanArgsParquet::default()
        };
        scanned(
            LazyFrame::scan_parquet(s3_path(bucket, key_or_glob), args),
            bucket,
            key_or_glob,
        )
    }

    /// A lazy scan of Arrow IPC (Feather v2) objects, as `pl.scan_ipc("s3://...")`.
    pub fn scan_ipc(&self, bucket: &str, key_or_glob: &str) -> Result<LazyFrame> {
        let args = UnifiedScanArgs {
            cloud_options: Some(self.polars_cloud_options(bucket)?),
            ..UnifiedScanArgs::default()
        };
        let path = s3_path(bucket, key_or_glob);
        let scan = LazyFrame::scan_ipc(path, IpcScanOptions::default(), args);
        scanned(scan, bucket, key_or_glob)
    }

    /// A lazy scan of CSV objects with polars' defaults, as `pl.scan_csv("s3://...")`. These
    /// are polars' settings, not the eager reader's pandas ones: the pandas NA tokens are
    /// not nulls unless you pass them ([`scan_csv_with`](Self::scan_csv_with)).
    pub fn scan_csv(&self, bucket: &str, key_or_glob: &str) -> Result<LazyFrame> {
        self.scan_csv_with(bucket, key_or_glob, |reader| reader)
    }

    /// A lazy scan of CSV objects, with polars' own reader settings changed by `settings`.
    ///
    /// ```no_run
    /// # fn demo(s3: s3io::S3Connector) -> s3io::Result<()> {
    /// let lf = s3.scan_csv_with("lake", "eu/*.csv", |reader| reader.with_separator(b';'))?;
    /// # Ok(()) }
    /// ```
    pub fn scan_csv_with(
        &self,
        bucket: &str,
        key_or_glob: &str,
        settings: impl FnOnce(LazyCsvReader) -> LazyCsvReader,
    ) -> Result<LazyFrame> {
        let reader = LazyCsvReader::new(s3_path(bucket, key_or_glob))
            .with_cloud_options(Some(self.polars_cloud_options(bucket)?));
        scanned(settings(reader).finish(), bucket, key_or_glob)
    }

    /// A lazy scan of newline-delimited JSON objects, as `pl.scan_ndjson("s3://...")`.
    pub fn scan_ndjson(&self, bucket: &str, key_or_glob: &str) -> Result<LazyFrame> {
        let reader = LazyJsonLineReader::new(s3_path(bucket, key_or_glob))
            .with_cloud_options(Some(self.polars_cloud_options(bucket)?));
        scanned(reader.finish(), bucket, key_or_glob)
    }

    /// Runs `frame` on polars' streaming engine, on a blocking thread: what async code calls
    /// instead of `frame.collect()`, which blocks its thread (and panics on a current-thread
    /// runtime).
    pub async fn collect(&self, frame: LazyFrame) -> Result<DataFrame> {
        let run = tokio::task::spawn_blocking(move || run_query(frame));
        run.await
            .map_err(|e| Error::new(ErrorKind::Decode, format!("the query stopped: {e}")))?
            .map_err(|e| polars_error(e).with_operation(Operation::Scan))
    }

    /// Runs `frame` on polars' streaming engine and writes the result to `key` as Parquet,
    /// through a multipart upload: results larger than memory never stand whole in it.
    pub async fn sink_parquet(&self, frame: LazyFrame, bucket: &str, key: &str) -> Result<()> {
        let format = FileWriteFormat::Parquet(Arc::new(ParquetWriteOptions::default()));
        self.sink(frame, format, bucket, key).await
    }

    /// Runs `frame` on polars' streaming engine and writes the result to `key` as CSV with
    /// polars' defaults (a header row, `,`), through a multipart upload.
    pub async fn sink_csv(&self, frame: LazyFrame, bucket: &str, key: &str) -> Result<()> {
        let format = FileWriteFormat::Csv(Default::default());
        self.sink(frame, format, bucket, key).await
    }

    /// Runs the sink on a blocking thread: polars' engine blocks while it works.
    async fn sink(
        &self,
        frame: LazyFrame,
        format: FileWriteFormat,
        bucket: &str,
        key: &str,
    ) -> Result<()> {
        let plan = self.sink_plan(frame, format, bucket, key)?;
        let run = tokio::task::spawn_blocking(move || run_sink(plan));
        let outcome = run.await.map_err(|e| {
            Error::new(ErrorKind::Encode, format!("the sink stopped: {e}"))
                .with_operation(Operation::Sink)
                .with_location(bucket, key)
        })?;
        outcome.map_err(|e| sink_error(e, bucket, key))
    }

    /// `frame` with a sink to `s3://bucket/key` on top.
    pub(crate) fn sink_plan(
        &self,
        frame: LazyFrame,
        format: FileWriteFormat,
        bucket: &str,
        key: &str,
    ) -> Result<LazyFrame> {
        let options = self
            .polars_cloud_options(bucket)
            .map_err(|e| e.with_operation(Operation::Sink))?;
        let target = SinkTarget::Path(s3_path(bucket, key));
        let args = UnifiedSinkArgs {
            cloud_options: Some(Arc::new(options)),
            ..UnifiedSinkArgs::default()
        };
        frame
            .sink(SinkDestination::File { target }, format, args)
            .map_err(|e| sink_error(e, bucket, key))
    }
}

/// Runs a plan that ends in a sink, on the streaming engine.
pub(crate) fn run_sink(plan: LazyFrame) -> std::result::Result<(), PolarsError> {
    plan.collect_with_engine(Engine::Streaming).map(drop)
}

/// Runs a query on the streaming engine: its one frame.
fn run_query(frame: LazyFrame) -> std::result::Result<DataFrame, PolarsError> {
    match frame.collect_with_engine(Engine::Streaming)? {
        QueryResult::Single(df) => Ok(df),
        QueryResult::Multiple(_) => Err(PolarsError::InvalidOperation(
            "the query has several sinks; run it with sink_parquet or sink_csv".into(),
        )),
    }
}

/// The error of a sink, with its context.
pub(crate) fn sink_error(e: PolarsError, bucket: &str, key: &str) -> Error {
    polars_error(e)
        .with_operation(Operation::Sink)
        .with_location(bucket, key)
}

/// `s3://bucket/key`, as polars names objects.
fn s3_path(bucket: &str, key: &str) -> PlRefPath {
    PlRefPath::new(format!("s3://{bucket}/{key}"))
}

/// The scan, or its error with context.
fn scanned(
    scan: std::result::Result<LazyFrame, PolarsError>,
    bucket: &str,
    key: &str,
) -> Result<LazyFrame> {
    scan.map_err(|e| {
        polars_error(e)
            .with_operation(Operation::Scan)
            .with_location(bucket, key)
    })
}

/// A polars error as an s3io error: what S3 answered (a missing object is `NotFound`, refused
/// credentials `Credentials`, ...), a missing column `NotFound`, a bad argument
/// `InvalidInput`, anything else in reading `Decode`.
fn polars_error(e: PolarsError) -> Error {
    let kind = match &e {
        PolarsError::ColumnNotFound(_) => ErrorKind::NotFound,
        PolarsError::IO { error, .. } => io_error_kind(error),
        PolarsError::InvalidOperation(_) => ErrorKind::InvalidInput,
        _ => ErrorKind::Decode,
    };
    Error::new(kind, e.to_string())
}

/// The kind of an I/O error of polars' cloud reader or writer: object_store's answer from S3
/// when it holds one, else a transport failure.
fn io_error_kind(error: &std::io::Error) -> ErrorKind {
    let store = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<PolarsObjectStoreError>());
    match store.map(|e| &e.source) {
        Some(object_store::Error::NotFound { .. }) => ErrorKind::NotFound,
        Some(object_store::Error::PermissionDenied { .. }) => ErrorKind::PermissionDenied,
        Some(object_store::Error::Unauthenticated { .. }) => ErrorKind::Credentials,
        Some(object_store::Error::Precondition { .. }) => ErrorKind::Conflict,
        _ if error.kind() == std::io::ErrorKind::NotFound => ErrorKind::NotFound,
        _ => ErrorKind::Transport,
    }
}

/// Whether an endpoint speaks plain HTTP, which object_store refuses unless told.
fn http(endpoint: &str) -> bool {
    endpoint.starts_with("http://")
}

/// The endpoint object_store wants: as given for path-style requests; with the bucket in the
/// host name for virtual-hosted ones (`https://bucket.host`).
fn endpoint_for(endpoint: &str, bucket: &str, addressing: Addressing) -> String {
    if addressing.path_style {
        return endpoint.to_owned();
    }
    match endpoint.split_once("://") {
        Some((scheme, host)) => format!("{scheme}://{bucket}.{host}"),
        None => format!("{bucket}.{endpoint}"),
    }
}

/// The AWS configuration chain's credentials, as polars' credential hook asks for them: the
/// key, secret and token, and when they expire (in seconds since 1970; never, for static
/// keys). polars calls it again once they have.
fn credentials_for_polars(provider: SharedCredentialsProvider) -> PlCredentialProvider {
    PlCredentialProvider::from_func(move || {
        let provider = provider.clone();
        Box::pin(async move {
            // The chain's future is Send but not Sync, as polars' hook must be: run it as a
            // task of polars' own runtime and wait for its answer.
            let asked = tokio::spawn(async move { provider.provide_credentials().await });
            let credentials = asked
                .await
                .map_err(|e| credentials_failed(&e))?
                .map_err(|e| credentials_failed(&e))?;
            let expiry = credentials
                .expiry()
                .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
                .map_or(u64::MAX, |since| since.as_secs());
            let credential = AwsCredential {
                key_id: credentials.access_key_id().to_owned(),
                secret_key: credentials.secret_access_key().to_owned(),
                token: credentials.session_token().map(str::to_owned),
            };
            Ok((ObjectStoreCredential::Aws(Arc::new(credential)), expiry))
        })
    })
}

/// A failure of the credential chain, for polars.
fn credentials_failed(e: &dyn std::error::Error) -> PolarsError {
    let mut message = format!("the AWS credential chain failed: {e}");
    let mut cause = e.source();
    while let Some(inner) = cause {
        message.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    PolarsError::ComputeError(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_hosted_endpoints_carry_the_bucket() {
        let path = Addressing {
            path_style: true,
            request_payer: false,
        };
        let hosted = Addressing {
            path_style: false,
            ..path
        };
        let url = "https://s3.example.com:9000";
        assert_eq!(endpoint_for(url, "lab", path), url);
        assert_eq!(
            endpoint_for(url, "lab", hosted),
            "https://lab.s3.example.com:9000"
        );
        assert!(http("http://127.0.0.1:9000") && !http(url));
    }
}
