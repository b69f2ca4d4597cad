//! [`S3Connector`]: the public verbs. Thin by design: it checks arguments, moves bytes with
//! [`transfer`](crate::transfer), converts them with a [`Format`], and names the operation,
//! bucket and key in every error.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use bytes::Bytes;
use polars::prelude::{DataFrame, Schema};
use serde::Serialize;
use serde::de::DeserializeOwned;

use std::borrow::Borrow;

use crate::listing::{BucketInfo, Listing, ObjectMeta};
#[cfg(feature = "lazy")]
use crate::session::Addressing;
use crate::session::{PerCopy, S3ConnectorBuilder, Sdk, run_blocking};
use crate::transfer::{TransferConfig, UploadInfo, UploadOptions};
use s3io_formats::Data;
use s3io_formats::Limits;
use s3io_formats::for_s3io::owned_sheets;
use s3io_formats::{Error, ErrorKind, Operation, Result};
use s3io_formats::{ReadOptions, Sheets, WriteOptions};

/// A connection to S3 that reads and writes data by file extension.
///
/// Cheap to clone: clones share one HTTP connection pool and credentials cache.
///
/// In a notebook it works across cells: evcxr gives every cell its own copy of s3io, tokio
/// and the AWS SDK, and a connector built in one cell makes its SDK client again, from the
/// settings it was built with, the first time a later cell's copy uses it. A plain program
/// has one copy and pays one comparison per call for this. A connector made from your own
/// client or SDK configuration ([`from_client`](Self::from_client),
/// [`from_sdk_config`](Self::from_sdk_config)) cannot be remade: in another cell its verbs
/// return an error saying so. Build it with [`builder`](Self::builder) there.
///
/// ```no_run
/// # async fn demo() -> s3io::Result<()> {
/// use s3io::S3Connector;
///
/// let s3 = S3Connector::from_env().await?;
/// let df = s3.download_frame("my-bucket", "2024/sales.csv").await?;
/// s3.upload("my-bucket", "2024/sales.xlsx", &df).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct S3Connector {
    shared: Arc<Shared>,
    transfer: Arc<TransferConfig>,
    limits: Limits,
    upload: Arc<UploadOptions>,
}

/// What clones of a connector share: how to make the SDK client, and the one made for each
/// copy of the code so far (see [`CodeCopy`](crate::session::CodeCopy)).
struct Shared {
    recipe: Recipe,
    sdk: PerCopy<Sdk>,
}

/// How the connector was made, which says whether it can be made again in another copy.
enum Recipe {
    /// From a builder: loaded again, with the copy's own tokio and SDK, on first use there.
    Builder(Box<S3ConnectorBuilder>),
    /// From the caller's own client or SDK configuration, made with one copy's tokio.
    Given,
}

/// What a connector made from someone else's client says in another copy of the code.
const CANNOT_REMAKE: &str = "this S3Connector was made from an aws_sdk_s3::Client or SdkConfig \
    of your own (from_client, from_sdk_config) in another copy of the code (in a notebook: \
    another cell), and s3io cannot remake it here; build it with S3Connector::builder() (or \
    from_env), which works across cells, or in the cell that uses it";

impl S3Connector {
    /// A builder for region, endpoint, credentials and profile; unset values come from the
    /// environment.
    pub fn builder() -> S3ConnectorBuilder {
        S3ConnectorBuilder::default()
    }

    /// A connector configured entirely from the environment, like `boto3.client("s3")`.
    pub async fn from_env() -> Result<S3Connector> {
        Self::builder().build().await
    }

    /// A connector from an AWS SDK configuration you loaded yourself. It cannot be remade in
    /// another notebook cell (see [`S3Connector`]); [`builder`](Self::builder) can.
    pub fn from_sdk_config(config: &SdkConfig) -> S3Connector {
        Self::made(Recipe::Given, Sdk::new(config.clone(), None, false))
    }

    /// A connector around an S3 client you built yourself. It cannot be remade in another
    /// notebook cell: there its verbs return an error (see [`S3Connector`]).
    pub fn from_client(client: Client) -> S3Connector {
        Self::made(Recipe::Given, Sdk::given(client, None))
    }

    /// A connector from a builder and what it loaded, with the copy of the code running now.
    pub(crate) fn from_builder(builder: S3ConnectorBuilder, sdk: Sdk) -> S3Connector {
        Self::made(Recipe::Builder(Box::new(builder)), sdk)
    }

    fn made(recipe: Recipe, sdk: Sdk) -> S3Connector {
        S3Connector {
            shared: Arc::new(Shared {
                recipe,
                sdk: PerCopy::with_current(sdk),
            }),
            transfer: Arc::default(),
            limits: Limits::default(),
            upload: Arc::default(),
        }
    }

    /// The SDK client and configuration of the copy of the code running now, made on its
    /// first use in that copy. Never fails: what cannot be made is a client that answers
    /// every request with an error saying why.
    #[inline]
    fn sdk(&self) -> &Sdk {
        self.shared.sdk.get_or_make(|| self.shared.make_here())
    }

    /// The same connector with other transfer settings: part size, parallelism, resumes,
    /// progress reports.
    ///
    /// ```no_run
    /// # async fn demo(s3: s3io::S3Connector) -> s3io::Result<()> {
    /// let s3 = s3.with_transfer(s3io::TransferConfig::new().concurrency(32));
    /// # Ok(()) }
    /// ```
    pub fn with_transfer(&self, config: TransferConfig) -> S3Connector {
        S3Connector {
            transfer: Arc::new(config),
            ..self.clone()
        }
    }

    /// The same connector with other [`Limits`] on what decoding a downloaded object may
    /// cost; [`ReadOptions::limits`](crate::ReadOptions::limits) overrides them per call.
    ///
    /// ```no_run
    /// # async fn demo(s3: s3io::S3Connector) -> s3io::Result<()> {
    /// let s3 = s3.with_limits(s3io::Limits::new().max_object_size(1 << 30));
    /// # Ok(()) }
    /// ```
    pub fn with_limits(&self, limits: Limits) -> S3Connector {
        S3Connector {
            limits,
            ..self.clone()
        }
    }

    /// The same connector storing `options` (encryption, storage class, metadata, tags,
    /// headers) with every object it uploads or copies; see [`UploadOptions`].
    pub fn with_upload_options(&self, options: UploadOptions) -> S3Connector {
        S3Connector {
            upload: Arc::new(options),
            ..self.clone()
        }
    }

    /// The upload settings in use.
    pub fn upload_options(&self) -> &UploadOptions {
        &self.upload
    }

    /// The limits in use.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The transfer settings in use.
    pub fn transfer_config(&self) -> &TransferConfig {
        &self.transfer
    }

    /// The AWS configuration the connector was built from, if it was.
    pub(crate) fn sdk_config(&self) -> Option<&SdkConfig> {
        self.sdk().config.as_ref()
    }

    /// How the client reaches S3, if the connector was built from configuration.
    #[cfg(feature = "lazy")]
    pub(crate) fn addressing(&self) -> Option<Addressing> {
        self.sdk().addressing
    }

    /// The AWS SDK client underneath, for any S3 call s3io does not wrap (like boto3's
    /// `resource.meta.client`). In a notebook, take it in the cell that uses it: each cell's
    /// copy of the code has its own (see [`S3Connector`]).
    pub fn client(&self) -> &Client {
        &self.sdk().client
    }

    /// Lists the buckets the credentials can see.
    pub async fn list_buckets(&self) -> Result<Listing<BucketInfo>> {
        let context = |e: Error| e.with_operation(Operation::ListBuckets);
        let mut buckets = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client()
                .list_buckets()
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| context(crate::sdk_error::from_sdk(e)))?;
            buckets.extend(page.buckets().iter().map(|b| {
                BucketInfo {
                    name: b.name().unwrap_or_default().to_owned(),
                    created: b
                        .creation_date()
                        .and_then(|d| SystemTime::try_from(*d).ok()),
                }
            }));
            match page.continuation_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => return Ok(Listing(buckets)),
            }
        }
    }

    /// Creates a bucket in the connector's region. A bucket you already own is not an error.
    pub async fn create_bucket(&self, bucket: &str) -> Result<()> {
        let context = |e: Error| {
            e.with_operation(Operation::CreateBucket)
                .with_bucket(bucket)
        };
        check_bucket(bucket).map_err(context)?;
        let client = self.client();
        let mut request = client.create_bucket().bucket(bucket);
        if let Some(region) = client.config().region().map(|r| r.as_ref())
            && region != "us-east-1"
        {
            let constraint = BucketLocationConstraint::from(region);
            request = request.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(constraint)
                    .build(),
            );
        }
        match request.send().await.map_err(crate::sdk_error::from_sdk) {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => Ok(()),
            // Some servers answer BucketAlreadyExists for your own buckets too; if we can
            // reach it, it is ours.
            Err(e) if e.code() == Some("BucketAlreadyExists") => {
                match client.head_bucket().bucket(bucket).send().await {
                    Ok(_) => Ok(()),
                    Err(_) => Err(context(e)),
                }
            }
            Err(e) => Err(context(e)),
        }
    }

    /// Downloads a `.json` or `.pkl` object into any type that implements `Deserialize`.
    pub async fn download_value<T: DeserializeOwned>(&self, bucket: &str, key: &str) -> Result<T> {
        self.object(bucket, key).download_value().await
    }

    /// Downloads one version of an object and decodes it; for typed variants use
    /// `s3.object(bucket, key).version(id).download_frame()` and friends.
    pub async fn download_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<Data> {
        self.object(bucket, key)
            .version(version_id)
            .download()
            .await
    }

    /// Serializes any `Serialize` value to `.json` or `.pkl`, as the key's extension says.
    pub async fn upload_value<T: Serialize + ?Sized>(
        &self,
        bucket: &str,
        key: &str,
        value: &T,
    ) -> Result<UploadInfo> {
        self.object(bucket, key).upload_value(value).await
    }

    /// Streams an object's bytes, unchanged and in order, into `writer` (standard output, a
    /// pipe, a socket, a file), like `aws s3 cp s3://bucket/key -`. Parts are fetched in
    /// parallel a few ahead of the one being written, so memory stays bounded by the part
    /// size times the concurrency, and a blocking thread does the writing. Returns the
    /// number of bytes written.
    ///
    /// Unlike [`download_to_path`](Self::download_to_path), what was written before a
    /// failure stays written. When the writer fails (a closed pipe, a full disk) the download
    /// stops, and the error has the `std::io::Error` as its
    /// [`source`](std::error::Error::source).
    ///
    /// ```no_run
    /// # async fn demo(s3: s3io::S3Connector) -> s3io::Result<()> {
    /// let bytes = s3.download_to_writer("my-bucket", "logs/big.log", std::io::stdout()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn download_to_writer<W>(&self, bucket: &str, key: &str, writer: W) -> Result<u64>
    where
        W: std::io::Write + Send + 'static,
    {
        self.object(bucket, key).download_to_writer(writer).await
    }

    /// Deletes one version of an object (or a delete marker).
    pub async fn delete_version(&self, bucket: &str, key: &str, version_id: &str) -> Result<()> {
        self.object(bucket, key).version(version_id).delete().await
    }
}

/// The verbs on one object, each listed once. Every one is a method of [`S3Object`]; from this
/// table `S3Connector` gets a shorthand that takes the bucket and key first
/// (`s3.download(b, k)` is `s3.object(b, k).download()`), and `blocking::S3Connector` the
/// blocking twin of that shorthand, so the three cannot drift apart. The macro named by the
/// caller receives the list.
///
/// [`S3Object`]: crate::S3Object
macro_rules! object_verbs {
    ($generate:ident) => {
        $generate! {
            download() -> Data;
            download_frame() -> DataFrame;
            download_json() -> serde_json::Value;
            download_text() -> String;
            download_bytes() -> Bytes;
            download_with(options: impl Into<ReadOptions> + Send) -> Data;
            download_frame_with(options: impl Into<ReadOptions> + Send) -> DataFrame;
            download_sheets() -> Sheets;
            download_sheets_with(options: impl Into<ReadOptions> + Send) -> Sheets;
            download_to_path(path: impl AsRef<Path> + Send) -> u64;
            schema() -> Schema;
            schema_with(options: impl Into<ReadOptions> + Send) -> Schema;
            upload(data: impl Into<Data> + Send) -> UploadInfo;
            upload_with(data: impl Into<Data> + Send, options: impl Into<WriteOptions> + Send) -> UploadInfo;
            upload_from_path(path: impl AsRef<Path> + Send) -> UploadInfo;
            head() -> ObjectMeta;
            tags() -> Vec<(String, String)>;
            exists() -> bool;
            delete() -> ();
        }
    };
}
pub(crate) use object_verbs;

/// The connector's shorthand for each verb of [`object_verbs`].
macro_rules! connector_shorthands {
    ($( $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty; )*) => {
        impl S3Connector {
            $(
                #[doc = concat!(
                    "[`S3Object::", stringify!($name), "`](crate::S3Object::", stringify!($name),
                    ") on the object at `bucket`/`key`: `s3.object(bucket, key).",
                    stringify!($name), "(..)`."
                )]
                pub async fn $name(&self, bucket: &str, key: &str $(, $arg: $ty)*) -> Result<$ret> {
                    self.object(bucket, key).$name($($arg),*).await
                }
            )*
        }
    };
}

object_verbs!(connector_shorthands);

impl fmt::Debug for S3Connector {
    /// Shows where the connector points; never credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The first copy's client: Debug never makes one.
        let region = self
            .shared
            .sdk
            .first()
            .and_then(|sdk| sdk.client.config().region());
        f.debug_struct("S3Connector")
            .field("region", &region.map(|r| r.as_ref().to_owned()))
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// The SDK client for a copy of the code that has none yet.
    #[cold]
    fn make_here(&self) -> Sdk {
        let region = self
            .sdk
            .first()
            .and_then(|sdk| sdk.client.config().region().cloned());
        match &self.recipe {
            // Loading is async (profiles, credential sources); this copy's own short-lived
            // runtime does it, and nothing it made outlives it but plain configuration and
            // this copy's client.
            Recipe::Builder(builder) => match run_blocking(None, builder.load(true)) {
                Ok(sdk) => sdk,
                Err(e) => Sdk::refusing(
                    region,
                    format!("could not remake the S3 client in this copy of the code: {e}"),
                ),
            },
            Recipe::Given => Sdk::refusing(region, CANNOT_REMAKE.to_owned()),
        }
    }
}

/// Runs CPU-bound decoding or encoding on tokio's blocking pool, off the async workers.
pub(crate) async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
        Err(Error::new(
            ErrorKind::Decode,
            format!("the worker converting the data stopped: {e}"),
        ))
    })
}

pub(crate) fn check_bucket(bucket: &str) -> Result<()> {
    if bucket.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "the bucket name is empty",
        ));
    }
    Ok(())
}

pub(crate) fn check_location(bucket: &str, key: &str) -> Result<()> {
    check_bucket(bucket)?;
    if key.is_empty() {
        return Err(Error::new(ErrorKind::InvalidInput, "the key is empty"));
    }
    Ok(())
}

/// Verbs that take per-call options or work on workbooks.
impl S3Connector {
    /// Writes several frames as the sheets of one xlsx workbook, in order, with a bold header
    /// row, fitted column widths and the header row frozen.
    ///
    /// ```no_run
    /// # async fn demo(s3: s3io::S3Connector, sales: polars::prelude::DataFrame,
    /// #     costs: polars::prelude::DataFrame) -> s3io::Result<()> {
    /// s3.upload_sheets("bucket", "q1.xlsx", [("Sales", &sales), ("Costs", &costs)]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn upload_sheets<K, F>(
        &self,
        bucket: &str,
        key: &str,
        sheets: impl IntoIterator<Item = (K, F)>,
    ) -> Result<UploadInfo>
    where
        K: AsRef<str>,
        F: Borrow<DataFrame>,
    {
        let sheets = owned_sheets(sheets);
        self.object(bucket, key)
            .upload_sheets_with(sheets, WriteOptions::excel())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::CodeCopy;

    impl S3Connector {
        /// The SDK as a copy of the code at `copy` would get it.
        fn sdk_in(&self, copy: CodeCopy) -> &Sdk {
            let made = self
                .shared
                .sdk
                .get_or_try_make_in(copy, || Ok::<_, Error>(self.shared.make_here()));
            made.unwrap_or_else(|e| panic!("{e}"))
        }
    }

    /// A made-up copy of the code, as a later notebook cell would be.
    fn another_copy(n: usize) -> CodeCopy {
        CodeCopy::made_up(n)
    }

    /// A builder for a server that is never reached: nothing here sends a request that
    /// gets past the client.
    fn offline() -> S3ConnectorBuilder {
        S3Connector::builder()
            .endpoint_url("http://127.0.0.1:9")
            .region("eu-north-1")
            .credentials("AKID", "SECRET")
    }

    fn address(client: &Client) -> String {
        format!("{:p}", client.config())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_built_connector_remakes_its_client_in_another_copy() {
        let s3 = offline().build().await.unwrap();
        let first = address(s3.client());
        let other = s3.sdk_in(another_copy(1));
        // A client of its own, from the same settings...
        assert_ne!(address(&other.client), first);
        let region = other.client.config().region().map(|r| r.to_string());
        assert_eq!(region.as_deref(), Some("eu-north-1"));
        assert!(other.config.is_some(), "and the SDK configuration for STS");
        // ...made once per copy, and the running copy's is still the first.
        assert_eq!(
            address(&s3.sdk_in(another_copy(1)).client),
            address(&other.client)
        );
        assert_eq!(address(s3.client()), first);
        assert_eq!(s3.shared.sdk.copies(), 2);
        s3.sdk_in(another_copy(2));
        // Clones and with_* share them.
        let strict = s3.with_limits(Limits::new().max_object_size(1));
        assert_eq!(strict.shared.sdk.copies(), 3);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_connector_from_a_client_says_it_cannot_be_remade() {
        let built = offline().build().await.unwrap();
        let s3 = S3Connector::from_client(built.client().clone());
        assert_eq!(address(s3.client()), address(built.client()));
        let refusing = s3.sdk_in(another_copy(3)).client.clone();
        let err = refusing
            .list_buckets()
            .send()
            .await
            .map_err(crate::sdk_error::from_sdk)
            .unwrap_err();
        assert!(err.to_string().contains("cannot remake it here"), "{err}");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(format!("{s3:?}").contains("eu-north-1"), "{s3:?}");
    }
}
