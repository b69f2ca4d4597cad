//! The same API without `async`: for scripts, plain `fn main`, and notebooks.
//!
//! Every type of the async API with async methods has its twin here, with the same methods
//! blocking until done, in the style of `reqwest::blocking`: [`S3Connector`], its
//! [`S3ConnectorBuilder`] (whose `build()` returns the blocking connector) and [`S3Object`].
//! Listings that are streams in the async API are collected into a
//! [`Listing`] here. The connector owns a small tokio runtime. It works
//! everywhere: in a plain `fn main`, in a Jupyter notebook under evcxr (across cells, and
//! whether or not a cell already runs inside a tokio runtime), and when called from async
//! code on a current-thread or multi-thread runtime, with no "cannot start a runtime from
//! within a runtime" panic.
//!
//! ```
//! use polars::prelude::*;
//!
//! # fn main() -> s3io::Result<()> {
//! let server = s3io::local::LocalS3::start()?;
//! let s3 = s3io::blocking::S3Connector::builder()     // or S3Connector::from_env()?
//!     .endpoint_url(server.endpoint_url())
//!     .credentials(s3io::local::ACCESS_KEY_ID, s3io::local::SECRET_ACCESS_KEY)
//!     .build()?;
//! s3.create_bucket("notebook")?;
//! let df = df!("x" => [1, 2, 3]).unwrap();
//! s3.upload("notebook", "x.csv", &df)?;
//! assert!(s3.download_frame("notebook", "x.csv")?.equals(&df));
//! let names: Vec<String> = s3.list_buckets()?.into_iter().map(|b| b.name).collect();
//! assert_eq!(names, ["notebook"]);
//! let object = s3.object_at("s3://notebook/x.csv")?;
//! assert_eq!(object.head()?.size, 8);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt;
use polars::prelude::{DataFrame, Schema};
#[cfg(feature = "lazy")]
use polars::prelude::{LazyCsvReader, LazyFrame};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::admin::{CallerIdentity, CopyOptions, DeleteOptions, PresignedUrl, Wait};
use crate::connector::object_verbs;
use crate::dataset::{DatasetOptions, DatasetReadOptions, DatasetWrite};
use crate::list::ListOptions;
use crate::listing::{BucketInfo, Listing, ObjectInfo, ObjectMeta, VersionInfo};
use crate::many::ManyOptions;
use crate::session::{OwnRuntime, PerCopy, builder_settings, run_blocking};
use crate::transfer::{TransferConfig, UploadInfo, UploadOptions};
use s3io_formats::Data;
use s3io_formats::{Format, Limits, Result};
use s3io_formats::{ReadOptions, Sheets, WriteOptions};

/// A blocking S3 connector; see the [module docs](self). Cheap to clone: clones share the
/// async connector inside (its clients and pools) and the runtimes.
#[derive(Clone, Debug)]
pub struct S3Connector {
    inner: crate::S3Connector,
    /// One runtime per copy of the code (see the async [`S3Connector`](crate::S3Connector)
    /// on notebooks): a runtime made by one copy's tokio cannot run another copy's futures.
    runtimes: Arc<PerCopy<OwnRuntime>>,
}

/// Configures a blocking [`S3Connector`]: the settings of the async
/// [`S3ConnectorBuilder`](crate::S3ConnectorBuilder), each with the same name, and a
/// [`build`](Self::build) that blocks.
///
/// ```no_run
/// # fn main() -> s3io::Result<()> {
/// let s3 = s3io::blocking::S3Connector::builder()
///     .region("eu-west-1")
///     .profile("dev")
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct S3ConnectorBuilder {
    inner: crate::S3ConnectorBuilder,
}

/// One object, optionally pinned to a version: the blocking twin of
/// [`S3Object`](crate::S3Object), from [`S3Connector::object`] or [`S3Connector::object_at`].
///
/// ```no_run
/// # fn demo(s3: s3io::blocking::S3Connector) -> s3io::Result<()> {
/// let df = s3.object_at("s3://my-bucket/2024/sales.csv")?.download_frame()?;
/// let old = s3.object("my-bucket", "cfg.json").version("3HL4kqtJlcpXroDTDmJ").download_json()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct S3Object {
    s3: S3Connector,
    inner: crate::S3Object,
}

/// Generates blocking twins of async connector methods.
macro_rules! blocking {
    ($( fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty; )*) => {
        $(
            #[doc = concat!("Blocks on [`S3Connector::", stringify!($name), "`](crate::S3Connector::", stringify!($name), ").")]
            pub fn $name(&self $(, $arg: $ty)*) -> $ret {
                self.run(self.inner.$name($($arg),*))
            }
        )*
    };
}

/// The blocking twin of each builder setting of the table in `session.rs`.
macro_rules! blocking_settings {
    ($( $name:ident($($arg:ident: $ty:ty),* $(,)?); )*) => {
        impl S3ConnectorBuilder {
            $(
                #[doc = concat!(
                    "As [`S3ConnectorBuilder::", stringify!($name), "`](crate::S3ConnectorBuilder::",
                    stringify!($name), ")."
                )]
                pub fn $name(self $(, $arg: $ty)*) -> Self {
                    S3ConnectorBuilder { inner: self.inner.$name($($arg),*) }
                }
            )*
        }
    };
}

builder_settings!(blocking_settings);

impl S3ConnectorBuilder {
    /// Loads the configuration and builds the blocking connector, as
    /// [`S3ConnectorBuilder::build`](crate::S3ConnectorBuilder::build) does the async one.
    pub fn build(self) -> Result<S3Connector> {
        let runtimes = Arc::new(PerCopy::new());
        let runtime = runtimes.get_or_try_make(new_runtime)?.get()?;
        let inner = run_blocking(Some(runtime), self.inner.build())??;
        // In a notebook, long transfers say how far they are.
        let quiet = inner.transfer_config().progress.is_none();
        let inner = if std::env::var_os("EVCXR_IS_RUNTIME").is_some() && quiet {
            inner.with_transfer(inner.transfer_config().clone().report_progress())
        } else {
            inner
        };
        Ok(S3Connector { inner, runtimes })
    }

    /// The async builder with the same settings.
    pub fn into_async(self) -> crate::S3ConnectorBuilder {
        self.inner
    }
}

impl From<crate::S3ConnectorBuilder> for S3ConnectorBuilder {
    /// The blocking builder with the async one's settings, such as
    /// [`LocalS3::builder`](crate::local::LocalS3::builder)'s.
    fn from(inner: crate::S3ConnectorBuilder) -> Self {
        S3ConnectorBuilder { inner }
    }
}

impl S3Connector {
    /// A blocking connector from a configured builder, blocking or async:
    /// `S3Connector::new(builder)` is `builder.build()`.
    pub fn new(builder: impl Into<S3ConnectorBuilder>) -> Result<S3Connector> {
        builder.into().build()
    }

    /// A blocking connector configured from the environment, like the AWS CLI.
    pub fn from_env() -> Result<S3Connector> {
        Self::builder().build()
    }

    /// A builder for region, endpoint, credentials and profile, whose `build()` returns a
    /// blocking connector.
    pub fn builder() -> S3ConnectorBuilder {
        S3ConnectorBuilder::default()
    }

    /// Wraps an async connector. It works across notebook cells when the async one does:
    /// one built with a builder, not one from your own client (see
    /// [`S3Connector`](crate::S3Connector)).
    pub fn from_async(inner: crate::S3Connector) -> Result<S3Connector> {
        let connector = S3Connector {
            inner,
            runtimes: Arc::new(PerCopy::new()),
        };
        connector.runtime()?;
        Ok(connector)
    }

    /// A blocking connector over an AWS SDK client, as
    /// [`S3Connector::from_client`](crate::S3Connector::from_client); it cannot be remade in
    /// another notebook cell.
    pub fn from_client(client: aws_sdk_s3::Client) -> Result<S3Connector> {
        Self::from_async(crate::S3Connector::from_client(client))
    }

    /// A blocking connector from an SDK configuration, as
    /// [`S3Connector::from_sdk_config`](crate::S3Connector::from_sdk_config); it cannot be
    /// remade in another notebook cell.
    pub fn from_sdk_config(config: &aws_config::SdkConfig) -> Result<S3Connector> {
        Self::from_async(crate::S3Connector::from_sdk_config(config))
    }

    /// The limits on decoding, as [`S3Connector::limits`](crate::S3Connector::limits).
    pub fn limits(&self) -> Result<crate::Limits> {
        Ok(self.inner.limits())
    }

    /// The transfer settings, as
    /// [`S3Connector::transfer_config`](crate::S3Connector::transfer_config).
    pub fn transfer_config(&self) -> Result<TransferConfig> {
        Ok(self.inner.transfer_config().clone())
    }

    /// The async connector inside, for anything async.
    pub fn as_async(&self) -> Result<crate::S3Connector> {
        Ok(self.inner.clone())
    }

    /// The AWS SDK client underneath, for the copy of the code running now.
    pub fn client(&self) -> Result<aws_sdk_s3::Client> {
        Ok(self.inner.client().clone())
    }

    /// The same connector with other transfer settings.
    pub fn with_transfer(&self, config: TransferConfig) -> S3Connector {
        S3Connector {
            inner: self.inner.with_transfer(config),
            runtimes: self.runtimes.clone(),
        }
    }

    /// The same connector with other limits on decoding.
    pub fn with_limits(&self, limits: crate::Limits) -> S3Connector {
        S3Connector {
            inner: self.inner.with_limits(limits),
            runtimes: self.runtimes.clone(),
        }
    }

    /// The upload settings in use.
    pub fn upload_options(&self) -> &crate::UploadOptions {
        self.inner.upload_options()
    }

    /// The same connector storing `options` with every object it uploads or copies.
    pub fn with_upload_options(&self, options: crate::UploadOptions) -> S3Connector {
        S3Connector {
            inner: self.inner.with_upload_options(options),
            runtimes: self.runtimes.clone(),
        }
    }

    /// A handle on the object at `bucket`/`key`, as
    /// [`S3Connector::object`](crate::S3Connector::object).
    pub fn object(&self, bucket: &str, key: &str) -> S3Object {
        S3Object {
            s3: self.clone(),
            inner: self.inner.object(bucket, key),
        }
    }

    /// A handle on the object an `s3://bucket/key` URI names, as
    /// [`S3Connector::object_at`](crate::S3Connector::object_at).
    pub fn object_at(&self, uri: &str) -> Result<S3Object> {
        Ok(S3Object {
            s3: self.clone(),
            inner: self.inner.object_at(uri)?,
        })
    }

    /// Runs any future to completion on the connector's runtime, from any context: for the
    /// async API's extras, such as
    /// `s3.block_on(s3.as_async()?.list_objects(bucket, "").try_next())`.
    pub fn block_on<F>(&self, future: F) -> Result<F::Output>
    where
        F: Future + Send,
        F::Output: Send,
    {
        run_blocking(Some(self.runtime()?), future)
    }

    /// The runtime of the copy of the code running now, made on first use.
    fn runtime(&self) -> Result<&tokio::runtime::Runtime> {
        self.runtimes.get_or_try_make(new_runtime)?.get()
    }

    /// Blocks on one of the async API's verbs.
    fn run<T: Send>(&self, future: impl Future<Output = Result<T>> + Send) -> Result<T> {
        self.block_on(future)?
    }

    blocking! {
        fn list_buckets(&self) -> Result<Listing<BucketInfo>>;
        fn create_bucket(&self, bucket: &str) -> Result<()>;
        fn delete_bucket(&self, bucket: &str) -> Result<()>;
        fn delete_bucket_force(&self, bucket: &str) -> Result<()>;
        fn bucket_exists(&self, bucket: &str) -> Result<bool>;
        fn list_dirs(&self, bucket: &str, prefix: &str) -> Result<Vec<String>>;
        fn list_frame(&self, bucket: &str, prefix: &str) -> Result<DataFrame>;
        fn list_frame_with(&self, bucket: &str, prefix: &str, options: ListOptions) -> Result<DataFrame>;
        fn list_versions_frame(&self, bucket: &str, prefix: &str) -> Result<DataFrame>;
        fn download_version(&self, bucket: &str, key: &str, version_id: &str) -> Result<Data>;
        fn download_many(&self, bucket: &str, prefix_or_glob: &str) -> Result<DataFrame>;
        fn download_many_with(&self, bucket: &str, prefix_or_glob: &str, options: ManyOptions) -> Result<DataFrame>;
        fn upload_dataset(&self, bucket: &str, prefix: &str, df: &DataFrame, options: DatasetOptions) -> Result<DatasetWrite>;
        fn download_dataset(&self, bucket: &str, prefix: &str, options: DatasetReadOptions) -> Result<DataFrame>;
        fn download_each(&self, bucket: &str, prefix_or_glob: &str) -> Result<Vec<(String, Data)>>;
        fn download_each_with(&self, bucket: &str, prefix_or_glob: &str, options: ManyOptions) -> Result<Vec<(String, Data)>>;
        fn delete_version(&self, bucket: &str, key: &str, version_id: &str) -> Result<()>;
        fn delete_prefix(&self, bucket: &str, prefix_or_glob: &str) -> Result<Vec<String>>;
        fn delete_prefix_with(&self, bucket: &str, prefix_or_glob: &str, options: DeleteOptions) -> Result<Vec<String>>;
        fn copy(&self, src_bucket: &str, src_key: &str, dst_bucket: &str, dst_key: &str) -> Result<UploadInfo>;
        fn copy_with(&self, src_bucket: &str, src_key: &str, dst_bucket: &str, dst_key: &str, options: CopyOptions) -> Result<UploadInfo>;
        fn rename(&self, src_bucket: &str, src_key: &str, dst_bucket: &str, dst_key: &str) -> Result<UploadInfo>;
        fn copy_prefix(&self, src_bucket: &str, src_prefix_or_glob: &str, dst_bucket: &str, dst_prefix: &str) -> Result<Vec<(String, String)>>;
        fn wait_for_object(&self, bucket: &str, key: &str, wait: Wait) -> Result<ObjectMeta>;
        fn wait_for_object_gone(&self, bucket: &str, key: &str, wait: Wait) -> Result<()>;
        fn wait_for_bucket(&self, bucket: &str, wait: Wait) -> Result<()>;
        fn whoami(&self) -> Result<CallerIdentity>;
        fn presign_get(&self, bucket: &str, key: &str, expires_in: Duration) -> Result<PresignedUrl>;
        fn presign_put(&self, bucket: &str, key: &str, expires_in: Duration) -> Result<PresignedUrl>;
    }

    /// Blocks on [`S3Connector::list_objects`](crate::S3Connector::list_objects), collecting
    /// the whole listing.
    pub fn list_objects(&self, bucket: &str, prefix: &str) -> Result<Listing<ObjectInfo>> {
        self.run(self.inner.list_objects(bucket, prefix).try_collect())
    }

    /// Blocks on [`S3Connector::list_objects_with`](crate::S3Connector::list_objects_with),
    /// collecting the whole listing.
    pub fn list_objects_with(
        &self,
        bucket: &str,
        prefix: &str,
        options: ListOptions,
    ) -> Result<Listing<ObjectInfo>> {
        self.run(
            self.inner
                .list_objects_with(bucket, prefix, options)
                .try_collect(),
        )
    }

    /// Blocks on [`S3Connector::list_versions`](crate::S3Connector::list_versions),
    /// collecting every version.
    pub fn list_versions(&self, bucket: &str, prefix: &str) -> Result<Listing<VersionInfo>> {
        self.run(self.inner.list_versions(bucket, prefix).try_collect())
    }

    /// Blocks on [`S3Connector::download_value`](crate::S3Connector::download_value).
    pub fn download_value<T: DeserializeOwned + Send>(&self, bucket: &str, key: &str) -> Result<T> {
        self.run(self.inner.download_value(bucket, key))
    }

    /// Blocks on [`S3Connector::upload_sheets`](crate::S3Connector::upload_sheets).
    pub fn upload_sheets<K, F>(
        &self,
        bucket: &str,
        key: &str,
        sheets: impl IntoIterator<Item = (K, F)>,
    ) -> Result<UploadInfo>
    where
        K: AsRef<str>,
        F: std::borrow::Borrow<DataFrame>,
    {
        let sheets = s3io_formats::for_s3io::owned_sheets(sheets);
        self.run(self.inner.upload_sheets(bucket, key, sheets))
    }

    /// Blocks on [`S3Connector::upload_value`](crate::S3Connector::upload_value).
    pub fn upload_value<T: Serialize + Sync + ?Sized>(
        &self,
        bucket: &str,
        key: &str,
        value: &T,
    ) -> Result<UploadInfo> {
        self.run(self.inner.upload_value(bucket, key, value))
    }

    /// Blocks on [`S3Connector::upload_many`](crate::S3Connector::upload_many).
    pub fn upload_many<K, D>(
        &self,
        bucket: &str,
        items: impl IntoIterator<Item = (K, D)>,
    ) -> Result<Vec<UploadInfo>>
    where
        K: AsRef<str> + Send,
        D: Into<Data>,
    {
        let items: Vec<(K, Data)> = items.into_iter().map(|(k, d)| (k, d.into())).collect();
        self.run(self.inner.upload_many(bucket, items))
    }

    /// Blocks on [`S3Connector::upload_many_with`](crate::S3Connector::upload_many_with).
    pub fn upload_many_with<K, D>(
        &self,
        bucket: &str,
        items: impl IntoIterator<Item = (K, D)>,
        options: ManyOptions,
    ) -> Result<Vec<UploadInfo>>
    where
        K: AsRef<str> + Send,
        D: Into<Data>,
    {
        let items: Vec<(K, Data)> = items.into_iter().map(|(k, d)| (k, d.into())).collect();
        self.run(self.inner.upload_many_with(bucket, items, options))
    }

    /// Blocks on [`S3Connector::delete_many`](crate::S3Connector::delete_many).
    pub fn delete_many<K: AsRef<str>>(
        &self,
        bucket: &str,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<Vec<String>> {
        let keys: Vec<String> = keys.into_iter().map(|k| k.as_ref().to_owned()).collect();
        self.run(self.inner.delete_many(bucket, keys))
    }

    /// Blocks on [`S3Connector::download_to_writer`](crate::S3Connector::download_to_writer).
    pub fn download_to_writer<W>(&self, bucket: &str, key: &str, writer: W) -> Result<u64>
    where
        W: std::io::Write + Send + 'static,
    {
        self.run(self.inner.download_to_writer(bucket, key, writer))
    }

    /// Blocks on [`S3Connector::download_dir`](crate::S3Connector::download_dir).
    pub fn download_dir(
        &self,
        bucket: &str,
        prefix_or_glob: &str,
        dir: impl AsRef<Path>,
    ) -> Result<Vec<PathBuf>> {
        self.run(
            self.inner
                .download_dir(bucket, prefix_or_glob, dir.as_ref()),
        )
    }

    /// Blocks on [`S3Connector::upload_dir`](crate::S3Connector::upload_dir).
    pub fn upload_dir(
        &self,
        dir: impl AsRef<Path>,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<(String, UploadInfo)>> {
        self.run(self.inner.upload_dir(dir.as_ref(), bucket, prefix))
    }
}

/// The blocking twin of each connector shorthand of the object verbs' table.
/// Lazy scans and sinks (feature `lazy`): a scan only plans, so it is the async connector's
/// own; a sink blocks until the result is written.
#[cfg(feature = "lazy")]
impl S3Connector {
    blocking! {
        fn sink_parquet(&self, frame: LazyFrame, bucket: &str, key: &str) -> Result<()>;
        fn sink_csv(&self, frame: LazyFrame, bucket: &str, key: &str) -> Result<()>;
        fn collect(&self, frame: LazyFrame) -> Result<DataFrame>;
    }

    /// As [`S3Connector::polars_cloud_options`](crate::S3Connector::polars_cloud_options).
    pub fn polars_cloud_options(&self, bucket: &str) -> Result<polars::io::cloud::CloudOptions> {
        self.inner.polars_cloud_options(bucket)
    }

    /// As [`S3Connector::scan_parquet`](crate::S3Connector::scan_parquet).
    pub fn scan_parquet(&self, bucket: &str, key_or_glob: &str) -> Result<LazyFrame> {
        self.inner.scan_parquet(bucket, key_or_glob)
    }

    /// As [`S3Connector::scan_ipc`](crate::S3Connector::scan_ipc).
    pub fn scan_ipc(&self, bucket: &str, key_or_glob: &str) -> Result<LazyFrame> {
        self.inner.scan_ipc(bucket, key_or_glob)
    }

    /// As [`S3Connector::scan_csv`](crate::S3Connector::scan_csv).
    pub fn scan_csv(&self, bucket: &str, key_or_glob: &str) -> Result<LazyFrame> {
        self.inner.scan_csv(bucket, key_or_glob)
    }

    /// As [`S3Connector::scan_csv_with`](crate::S3Connector::scan_csv_with).
    pub fn scan_csv_with(
        &self,
        bucket: &str,
        key_or_glob: &str,
        settings: impl FnOnce(LazyCsvReader) -> LazyCsvReader,
    ) -> Result<LazyFrame> {
        self.inner.scan_csv_with(bucket, key_or_glob, settings)
    }

    /// As [`S3Connector::scan_ndjson`](crate::S3Connector::scan_ndjson).
    pub fn scan_ndjson(&self, bucket: &str, key_or_glob: &str) -> Result<LazyFrame> {
        self.inner.scan_ndjson(bucket, key_or_glob)
    }
}

macro_rules! blocking_shorthands {
    ($( $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty; )*) => {
        impl S3Connector {
            $(
                #[doc = concat!(
                    "Blocks on [`S3Connector::", stringify!($name), "`](crate::S3Connector::",
                    stringify!($name), ")."
                )]
                pub fn $name(&self, bucket: &str, key: &str $(, $arg: $ty)*) -> Result<$ret> {
                    self.run(self.inner.$name(bucket, key $(, $arg)*))
                }
            )*
        }
    };
}

object_verbs!(blocking_shorthands);

/// The blocking twin of each verb of the object verbs' table, on [`S3Object`].
macro_rules! blocking_object_verbs {
    ($( $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty; )*) => {
        impl S3Object {
            $(
                #[doc = concat!(
                    "Blocks on [`S3Object::", stringify!($name), "`](crate::S3Object::",
                    stringify!($name), ")."
                )]
                pub fn $name(&self $(, $arg: $ty)*) -> Result<$ret> {
                    self.s3.run(self.inner.$name($($arg),*))
                }
            )*
        }
    };
}

object_verbs!(blocking_object_verbs);

impl S3Object {
    /// The same object pinned to one version.
    pub fn version(self, version_id: impl Into<String>) -> Self {
        S3Object {
            s3: self.s3,
            inner: self.inner.version(version_id),
        }
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        self.inner.bucket()
    }

    /// The key.
    pub fn key(&self) -> &str {
        self.inner.key()
    }

    /// The version this handle is pinned to, if any.
    pub fn version_id(&self) -> Option<&str> {
        self.inner.version_id()
    }

    /// The `s3://bucket/key` URI.
    pub fn uri(&self) -> String {
        self.inner.uri()
    }

    /// The format the key's extension selects.
    pub fn format(&self) -> Format {
        self.inner.format()
    }

    /// The async handle on the same object.
    pub fn as_async(&self) -> crate::S3Object {
        self.inner.clone()
    }

    /// Blocks on [`S3Object::download_value`](crate::S3Object::download_value).
    pub fn download_value<T: DeserializeOwned + Send>(&self) -> Result<T> {
        self.s3.run(self.inner.download_value())
    }

    /// Blocks on [`S3Object::download_to_writer`](crate::S3Object::download_to_writer).
    pub fn download_to_writer<W>(&self, writer: W) -> Result<u64>
    where
        W: std::io::Write + Send + 'static,
    {
        self.s3.run(self.inner.download_to_writer(writer))
    }

    /// Blocks on [`S3Object::upload_value`](crate::S3Object::upload_value).
    pub fn upload_value<T: Serialize + Sync + ?Sized>(&self, value: &T) -> Result<UploadInfo> {
        self.s3.run(self.inner.upload_value(value))
    }

    /// Blocks on [`S3Object::upload_sheets_with`](crate::S3Object::upload_sheets_with).
    pub fn upload_sheets_with(
        &self,
        sheets: Vec<(String, DataFrame)>,
        options: impl Into<WriteOptions> + Send,
    ) -> Result<UploadInfo> {
        self.s3.run(self.inner.upload_sheets_with(sheets, options))
    }
}

fn new_runtime() -> Result<OwnRuntime> {
    OwnRuntime::new("s3io-blocking", 2)
}
