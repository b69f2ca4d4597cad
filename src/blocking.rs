//! The same connector without `async`: for scripts, plain `fn main`, and notebooks.
//!
//! Every method of [`crate::S3Connector`] is here, blocking until done, in the style of
//! `reqwest::blocking`. The connector owns a small tokio runtime. It works everywhere: in a
//! plain `fn main`, in a Jupyter notebook under evcxr (whose cells may already run inside a
//! tokio runtime), and when called from async code on a current-thread or multi-thread
//! runtime, with no "cannot start a runtime from within a runtime" panic.
//!
//! ```
//! use polars::prelude::*;
//!
//! # fn main() -> s3io::Result<()> {
//! let server = s3io::local::LocalS3::start()?;
//! let s3 = s3io::blocking::S3Connector::new(server.builder())?;   // or ::from_env()?
//! s3.create_bucket("notebook")?;
//! let df = df!("x" => [1, 2, 3]).unwrap();
//! s3.upload("notebook", "x.csv", &df)?;
//! assert!(s3.download_frame("notebook", "x.csv")?.equals(&df));
//! let names: Vec<String> = s3.list_buckets()?.into_iter().map(|b| b.name).collect();
//! assert_eq!(names, ["notebook"]);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU8;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt;
use polars::prelude::DataFrame;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::admin::{CallerIdentity, CopyOptions, DeleteOptions, PresignedUrl, Wait};
use crate::connector::object_verbs;
use crate::list::ListOptions;
use crate::listing::{BucketInfo, Listing, ObjectInfo, ObjectMeta, VersionInfo};
use crate::many::ManyOptions;
use crate::session::S3ConnectorBuilder;
use crate::transfer::{TransferConfig, UploadInfo};
use s3io_formats::Data;
use s3io_formats::{Error, ErrorKind, Result};
use s3io_formats::{ReadOptions, Sheets, WriteOptions};

/// A blocking S3 connector; see the [module docs](self). Cheap to clone.
#[derive(Clone, Debug)]
pub struct S3Connector {
    shared: Arc<Shared>,
}

/// How to make the async connector, and the ones made so far.
#[derive(Debug)]
struct Shared {
    recipe: Recipe,
    /// One live connector and runtime per copy of this code in the process; see
    /// [`copy_marker`].
    live: Mutex<Vec<(usize, Arc<Live>)>>,
}

#[derive(Debug, Clone)]
enum Recipe {
    /// Build from this configuration, once per copy of the code.
    Builder(Box<S3ConnectorBuilder>),
    /// Use this connector as it is.
    Async(Box<crate::S3Connector>),
}

/// An async connector with the runtime that drives it.
#[derive(Debug)]
struct Live {
    runtime: OwnRuntime,
    inner: crate::S3Connector,
}

impl Live {
    fn run<F>(&self, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        S3Connector::drive(&self.runtime, future)
    }
}

/// An address unique to this copy of s3io's code. A Jupyter kernel such as evcxr compiles
/// every cell into its own library with its own copy of s3io and tokio; a runtime and a client
/// made by one cell's copy panic ("no reactor running") when a later cell's copy drives them,
/// because each copy has its own thread-local runtime context. So each copy gets its own.
fn copy_marker() -> usize {
    static MARKER: AtomicU8 = AtomicU8::new(0);
    &MARKER as *const AtomicU8 as usize
}

/// The connector's own runtime. Dropped without blocking, so a connector may be dropped
/// anywhere, async code included.
#[derive(Debug)]
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Generates blocking twins of async connector methods.
macro_rules! blocking {
    ($( fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty; )*) => {
        $(
            #[doc = concat!("Blocks on [`S3Connector::", stringify!($name), "`](crate::S3Connector::", stringify!($name), ").")]
            pub fn $name(&self $(, $arg: $ty)*) -> $ret {
                let live = self.live()?;
                live.run(live.inner.$name($($arg),*))
            }
        )*
    };
}

impl S3Connector {
    /// A blocking connector from a configured builder.
    pub fn new(builder: S3ConnectorBuilder) -> Result<S3Connector> {
        let connector = Self::from_recipe(Recipe::Builder(Box::new(builder)));
        connector.live()?;
        Ok(connector)
    }

    /// A blocking connector configured from the environment, like the AWS CLI.
    pub fn from_env() -> Result<S3Connector> {
        Self::new(crate::S3Connector::builder())
    }

    /// A builder for region, endpoint, credentials and profile; pass it to [`new`](Self::new).
    pub fn builder() -> S3ConnectorBuilder {
        crate::S3Connector::builder()
    }

    /// Wraps an async connector. In notebooks prefer [`new`](Self::new): a wrapped connector
    /// cannot be rebuilt for each cell's copy of the code.
    pub fn from_async(inner: crate::S3Connector) -> Result<S3Connector> {
        let connector = Self::from_recipe(Recipe::Async(Box::new(inner)));
        connector.live()?;
        Ok(connector)
    }

    fn from_recipe(recipe: Recipe) -> S3Connector {
        S3Connector {
            shared: Arc::new(Shared {
                recipe,
                live: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The connector and runtime for the copy of the code running now, made on first use.
    fn live(&self) -> Result<Arc<Live>> {
        let marker = copy_marker();
        let mut live = self
            .shared
            .live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, existing)) = live.iter().find(|(m, _)| *m == marker) {
            return Ok(existing.clone());
        }
        let runtime = OwnRuntime(Some(new_runtime()?));
        let inner = match &self.shared.recipe {
            Recipe::Async(inner) => (**inner).clone(),
            Recipe::Builder(builder) => {
                let inner = Self::drive(&runtime, (**builder).clone().build())?;
                // In a notebook, long transfers say how far they are.
                let quiet = inner.transfer_config().progress.is_none();
                if std::env::var_os("EVCXR_IS_RUNTIME").is_some() && quiet {
                    inner.with_transfer(inner.transfer_config().clone().report_progress())
                } else {
                    inner
                }
            }
        };
        let made = Arc::new(Live { runtime, inner });
        live.push((marker, made.clone()));
        Ok(made)
    }

    /// A blocking connector over an AWS SDK client, as
    /// [`S3Connector::from_client`](crate::S3Connector::from_client).
    pub fn from_client(client: aws_sdk_s3::Client) -> Result<S3Connector> {
        Self::from_async(crate::S3Connector::from_client(client))
    }

    /// A blocking connector from an SDK configuration, as
    /// [`S3Connector::from_sdk_config`](crate::S3Connector::from_sdk_config).
    pub fn from_sdk_config(config: &aws_config::SdkConfig) -> Result<S3Connector> {
        Self::from_async(crate::S3Connector::from_sdk_config(config))
    }

    /// The limits on decoding, as [`S3Connector::limits`](crate::S3Connector::limits).
    pub fn limits(&self) -> Result<crate::Limits> {
        Ok(self.live()?.inner.limits())
    }

    /// The transfer settings, as
    /// [`S3Connector::transfer_config`](crate::S3Connector::transfer_config).
    pub fn transfer_config(&self) -> Result<TransferConfig> {
        Ok(self.live()?.inner.transfer_config().clone())
    }

    /// The async connector inside, for anything async.
    pub fn as_async(&self) -> Result<crate::S3Connector> {
        Ok(self.live()?.inner.clone())
    }

    /// The AWS SDK client underneath.
    pub fn client(&self) -> Result<aws_sdk_s3::Client> {
        Ok(self.live()?.inner.client().clone())
    }

    /// The same connector with other transfer settings.
    pub fn with_transfer(&self, config: TransferConfig) -> S3Connector {
        Self::from_recipe(match &self.shared.recipe {
            Recipe::Builder(builder) => {
                Recipe::Builder(Box::new((**builder).clone().transfer(config)))
            }
            Recipe::Async(inner) => Recipe::Async(Box::new(inner.with_transfer(config))),
        })
    }

    /// The same connector with other limits on decoding.
    pub fn with_limits(&self, limits: crate::Limits) -> S3Connector {
        Self::from_recipe(match &self.shared.recipe {
            Recipe::Builder(builder) => {
                Recipe::Builder(Box::new((**builder).clone().limits(limits)))
            }
            Recipe::Async(inner) => Recipe::Async(Box::new(inner.with_limits(limits))),
        })
    }

    /// Runs any future to completion on the connector's runtime, from any context: for the
    /// async API's extras, such as
    /// `s3.block_on(s3.as_async()?.object_at(uri)?.head())`.
    pub fn block_on<F>(&self, future: F) -> Result<F::Output>
    where
        F: Future + Send,
        F::Output: Send,
    {
        Ok(self.live()?.run(future))
    }

    fn drive<F>(runtime: &OwnRuntime, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        let Some(runtime) = runtime.0.as_ref() else {
            unreachable!("the runtime lives as long as the connector");
        };
        let Ok(current) = tokio::runtime::Handle::try_current() else {
            return runtime.block_on(future);
        };
        // Already inside a runtime (an evcxr cell after an await, or async code): drive the
        // future from a helper thread, where blocking is allowed, and wait for it here,
        // telling a multi-thread runtime that this worker is about to block.
        let on_helper = || {
            std::thread::scope(|scope| {
                scope
                    .spawn(|| runtime.block_on(future))
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
        };
        match current.runtime_flavor() {
            tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(on_helper),
            _ => on_helper(),
        }
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
        let live = self.live()?;
        live.run(live.inner.list_objects(bucket, prefix).try_collect())
    }

    /// Blocks on [`S3Connector::list_objects_with`](crate::S3Connector::list_objects_with),
    /// collecting the whole listing.
    pub fn list_objects_with(
        &self,
        bucket: &str,
        prefix: &str,
        options: ListOptions,
    ) -> Result<Listing<ObjectInfo>> {
        let live = self.live()?;
        live.run(
            live.inner
                .list_objects_with(bucket, prefix, options)
                .try_collect(),
        )
    }

    /// Blocks on [`S3Connector::list_versions`](crate::S3Connector::list_versions),
    /// collecting every version.
    pub fn list_versions(&self, bucket: &str, prefix: &str) -> Result<Listing<VersionInfo>> {
        let live = self.live()?;
        live.run(live.inner.list_versions(bucket, prefix).try_collect())
    }

    /// Blocks on [`S3Connector::download_value`](crate::S3Connector::download_value).
    pub fn download_value<T: DeserializeOwned + Send>(&self, bucket: &str, key: &str) -> Result<T> {
        let live = self.live()?;
        live.run(live.inner.download_value(bucket, key))
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
        let live = self.live()?;
        live.run(live.inner.upload_sheets(bucket, key, sheets))
    }

    /// Blocks on [`S3Connector::upload_value`](crate::S3Connector::upload_value).
    pub fn upload_value<T: Serialize + Sync + ?Sized>(
        &self,
        bucket: &str,
        key: &str,
        value: &T,
    ) -> Result<UploadInfo> {
        let live = self.live()?;
        live.run(live.inner.upload_value(bucket, key, value))
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
        let live = self.live()?;
        live.run(live.inner.upload_many(bucket, items))
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
        let live = self.live()?;
        live.run(live.inner.upload_many_with(bucket, items, options))
    }

    /// Blocks on [`S3Connector::delete_many`](crate::S3Connector::delete_many).
    pub fn delete_many<K: AsRef<str>>(
        &self,
        bucket: &str,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<Vec<String>> {
        let keys: Vec<String> = keys.into_iter().map(|k| k.as_ref().to_owned()).collect();
        let live = self.live()?;
        live.run(live.inner.delete_many(bucket, keys))
    }

    /// Blocks on [`S3Connector::download_to_writer`](crate::S3Connector::download_to_writer).
    pub fn download_to_writer<W>(&self, bucket: &str, key: &str, writer: W) -> Result<u64>
    where
        W: std::io::Write + Send + 'static,
    {
        let live = self.live()?;
        live.run(live.inner.download_to_writer(bucket, key, writer))
    }

    /// Blocks on [`S3Connector::download_dir`](crate::S3Connector::download_dir).
    pub fn download_dir(
        &self,
        bucket: &str,
        prefix_or_glob: &str,
        dir: impl AsRef<Path>,
    ) -> Result<Vec<PathBuf>> {
        let live = self.live()?;
        live.run(
            live.inner
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
        let live = self.live()?;
        live.run(live.inner.upload_dir(dir.as_ref(), bucket, prefix))
    }
}

/// The blocking twin of each connector shorthand of the object verbs' table.
macro_rules! blocking_shorthands {
    ($( $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty; )*) => {
        impl S3Connector {
            $(
                #[doc = concat!(
                    "Blocks on [`S3Connector::", stringify!($name), "`](crate::S3Connector::",
                    stringify!($name), ")."
                )]
                pub fn $name(&self, bucket: &str, key: &str $(, $arg: $ty)*) -> Result<$ret> {
                    let live = self.live()?;
                    live.run(live.inner.$name(bucket, key $(, $arg)*))
                }
            )*
        }
    };
}

object_verbs!(blocking_shorthands);

fn new_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("s3io-blocking")
        .enable_all()
        .build()
        .map_err(|e| {
            Error::new(
                ErrorKind::Transport,
                format!("cannot start the blocking runtime: {e}"),
            )
            .with_source(e)
        })
}
