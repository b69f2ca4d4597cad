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
use polars::prelude::DataFrame;
use serde::Serialize;
use serde::de::DeserializeOwned;

use std::borrow::Borrow;

use crate::listing::{BucketInfo, Listing, ObjectMeta};
use crate::session::{S3ConnectorBuilder, s3_config};
use crate::transfer::{TransferConfig, UploadInfo};
use s3io_formats::Data;
use s3io_formats::Limits;
use s3io_formats::for_s3io::owned_sheets;
use s3io_formats::{Error, ErrorKind, Operation, Result};
use s3io_formats::{ReadOptions, Sheets, WriteOptions};

/// A connection to S3 that reads and writes data by file extension.
///
/// Cheap to clone: clones share one HTTP connection pool and credentials cache.
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
    client: Client,
    /// The configuration the client came from, when known, for other AWS services (STS).
    sdk_config: Option<SdkConfig>,
    transfer: Arc<TransferConfig>,
    limits: Limits,
}

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

    /// A connector from an AWS SDK configuration you loaded yourself.
    pub fn from_sdk_config(config: &SdkConfig) -> S3Connector {
        Self::from_sdk_config_with(config, None)
    }

    pub(crate) fn from_sdk_config_with(
        config: &SdkConfig,
        force_path_style: Option<bool>,
    ) -> S3Connector {
        S3Connector {
            client: Client::from_conf(s3_config(config, force_path_style)),
            sdk_config: Some(config.clone()),
            transfer: Arc::default(),
            limits: Limits::default(),
        }
    }

    /// A connector around an S3 client you built yourself.
    pub fn from_client(client: Client) -> S3Connector {
        S3Connector {
            client,
            sdk_config: None,
            transfer: Arc::default(),
            limits: Limits::default(),
        }
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
        self.sdk_config.as_ref()
    }

    /// The AWS SDK client underneath, for any S3 call s3io does not wrap (like boto3's
    /// `resource.meta.client`).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Lists the buckets the credentials can see.
    pub async fn list_buckets(&self) -> Result<Listing<BucketInfo>> {
        let context = |e: Error| e.with_operation(Operation::ListBuckets);
        let mut buckets = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
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
        let mut request = self.client.create_bucket().bucket(bucket);
        if let Some(region) = self.client.config().region().map(|r| r.as_ref())
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
                match self.client.head_bucket().bucket(bucket).send().await {
                    Ok(_) => Ok(()),
                    Err(_) => Err(context(e)),
                }
            }
            Err(e) => Err(context(e)),
        }
    }

    /// Downloads an object and decodes it by its key's extension (see [`Format`](crate::Format)).
    pub async fn download(&self, bucket: &str, key: &str) -> Result<Data> {
        self.object(bucket, key).download().await
    }

    /// Downloads an object as a polars `DataFrame`: `.csv` and `.xlsx` directly, `.json` and
    /// `.pkl` when they hold records or columns.
    pub async fn download_frame(&self, bucket: &str, key: &str) -> Result<DataFrame> {
        self.object(bucket, key).download_frame().await
    }

    /// Downloads a `.json` object (or a `.pkl` that JSON can hold) as a `serde_json::Value`.
    pub async fn download_json(&self, bucket: &str, key: &str) -> Result<serde_json::Value> {
        self.object(bucket, key).download_json().await
    }

    /// Downloads a `.json` or `.pkl` object into any type that implements `Deserialize`.
    pub async fn download_value<T: DeserializeOwned>(&self, bucket: &str, key: &str) -> Result<T> {
        self.object(bucket, key).download_value().await
    }

    /// Downloads a text object as a `String`; fails on bytes that are not UTF-8.
    pub async fn download_text(&self, bucket: &str, key: &str) -> Result<String> {
        self.object(bucket, key).download_text().await
    }

    /// Downloads an object's bytes unchanged, whatever its extension.
    pub async fn download_bytes(&self, bucket: &str, key: &str) -> Result<Bytes> {
        self.object(bucket, key).download_bytes().await
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

    /// Encodes `data` in the format the key's extension names and uploads it, with that
    /// format's Content-Type. [`Data::Bytes`] upload unchanged.
    ///
    /// ```no_run
    /// # async fn demo(s3: s3io::S3Connector, df: polars::prelude::DataFrame) -> s3io::Result<()> {
    /// s3.upload("my-bucket", "out/data.xlsx", &df).await?;
    /// s3.upload("my-bucket", "out/cfg.json", &serde_json::json!({"a": 1})).await?;
    /// s3.upload("my-bucket", "out/notes.txt", "hello").await?;
    /// # Ok(()) }
    /// ```
    pub async fn upload(
        &self,
        bucket: &str,
        key: &str,
        data: impl Into<Data>,
    ) -> Result<UploadInfo> {
        self.object(bucket, key).upload(data).await
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

    /// The object's metadata (size, content type, etag, last modified, version, user
    /// metadata); a missing object is an [`ErrorKind::NotFound`] error.
    pub async fn head(&self, bucket: &str, key: &str) -> Result<ObjectMeta> {
        self.object(bucket, key).head().await
    }

    /// Whether the object exists; errors other than "not found" are errors.
    pub async fn exists(&self, bucket: &str, key: &str) -> Result<bool> {
        self.object(bucket, key).exists().await
    }

    /// Deletes one object. Deleting a missing key succeeds, as in S3.
    pub async fn delete(&self, bucket: &str, key: &str) -> Result<()> {
        self.object(bucket, key).delete().await
    }

    /// Downloads an object to a local file (boto3's `download_file`), streaming with memory
    /// bounded by the part size times the concurrency, so objects larger than RAM work. The
    /// file appears under its name only once complete. Returns the number of bytes written.
    pub async fn download_to_path(
        &self,
        bucket: &str,
        key: &str,
        path: impl AsRef<Path>,
    ) -> Result<u64> {
        self.object(bucket, key).download_to_path(path).await
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

    /// Uploads a local file unchanged (boto3's `upload_file`), in parallel parts when large,
    /// reading at most the part size times the concurrency into memory at once.
    pub async fn upload_from_path(
        &self,
        bucket: &str,
        key: &str,
        path: impl AsRef<Path>,
    ) -> Result<UploadInfo> {
        self.object(bucket, key).upload_from_path(path).await
    }

    /// Deletes one version of an object (or a delete marker).
    pub async fn delete_version(&self, bucket: &str, key: &str, version_id: &str) -> Result<()> {
        self.object(bucket, key).version(version_id).delete().await
    }
}

impl fmt::Debug for S3Connector {
    /// Shows where the connector points; never credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = self.client.config();
        f.debug_struct("S3Connector")
            .field("region", &config.region().map(|r| r.as_ref().to_owned()))
            .finish_non_exhaustive()
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
    /// Downloads an object and decodes it with `options`.
    ///
    /// The format is, in order: [`ReadOptions::format`], the key's extension, the family of
    /// the options ([`ReadOptions::csv`] → CSV), the object's Content-Type, and text. A
    /// compression suffix (`.gz`, `.zst`, `.bz2`, `.xz`) is decompressed first.
    ///
    /// ```no_run
    /// # async fn demo(s3: s3io::S3Connector) -> s3io::Result<()> {
    /// use s3io::{Encoding, Format, ReadOptions};
    ///
    /// let euro = ReadOptions::csv().separator(b';').encoding(Encoding::Windows1252);
    /// let df = s3.download_with("bucket", "exports/2024.csv", euro).await?.into_frame()?;
    /// let raw = s3.download_with("bucket", "dump", ReadOptions::new().format(Format::NDJSON)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn download_with(
        &self,
        bucket: &str,
        key: &str,
        options: impl Into<ReadOptions>,
    ) -> Result<Data> {
        self.object(bucket, key).download_with(options).await
    }

    /// [`download_with`](Self::download_with), then the data as a frame.
    pub async fn download_frame_with(
        &self,
        bucket: &str,
        key: &str,
        options: impl Into<ReadOptions>,
    ) -> Result<DataFrame> {
        self.object(bucket, key).download_frame_with(options).await
    }

    /// Downloads a workbook (xlsx, xlsm, xlsb, xls, ods) and reads every worksheet into a
    /// frame, in the workbook's order.
    ///
    /// ```no_run
    /// # async fn demo(s3: s3io::S3Connector) -> s3io::Result<()> {
    /// let sheets = s3.download_sheets("bucket", "budget.xlsx").await?;
    /// for (name, df) in &sheets {
    ///     println!("{name}: {} rows", df.height());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn download_sheets(&self, bucket: &str, key: &str) -> Result<Sheets> {
        self.download_sheets_with(bucket, key, ReadOptions::excel())
            .await
    }

    /// [`download_sheets`](Self::download_sheets) with options applied to every sheet
    /// (`header_row`, `skip_rows_after_header`, `has_header`).
    pub async fn download_sheets_with(
        &self,
        bucket: &str,
        key: &str,
        options: impl Into<ReadOptions>,
    ) -> Result<Sheets> {
        self.object(bucket, key).download_sheets_with(options).await
    }

    /// Encodes `data` with `options` and uploads it. The format is [`WriteOptions::format`],
    /// else the key's extension, else the family of the options, else text; a compression
    /// suffix compresses with that codec.
    ///
    /// ```no_run
    /// # async fn demo(s3: s3io::S3Connector, df: polars::prelude::DataFrame) -> s3io::Result<()> {
    /// use s3io::WriteOptions;
    ///
    /// s3.upload_with("bucket", "out/report.xlsx", &df, WriteOptions::excel().sheet_name("Report"))
    ///     .await?;
    /// s3.upload_with("bucket", "out/data.csv.gz", &df, WriteOptions::csv().separator(b';'))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn upload_with(
        &self,
        bucket: &str,
        key: &str,
        data: impl Into<Data>,
        options: impl Into<WriteOptions>,
    ) -> Result<UploadInfo> {
        self.object(bucket, key).upload_with(data, options).await
    }

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
