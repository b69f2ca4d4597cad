//! [`S3Connector`]: the public verbs. Thin by design: it checks arguments, moves bytes with
//! [`transfer`](crate::transfer), converts them with a [`Format`], and names the operation,
//! bucket and key in every error.

use std::fmt;
use std::time::SystemTime;

use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use bytes::Bytes;
use futures_util::{Stream, TryStreamExt, stream};
use polars::prelude::DataFrame;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::data::Data;
use crate::error::{Error, ErrorKind, Operation, Result};
use crate::format::Format;
use crate::options::{ReadOptions, WriteOptions};
use crate::session::{S3ConnectorBuilder, s3_config};
use crate::transfer::{self, UploadInfo};

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
}

/// A bucket, as [`S3Connector::list_buckets`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BucketInfo {
    /// The bucket's name.
    pub name: String,
    /// When the bucket was created, if the server says.
    pub created: Option<SystemTime>,
}

/// An object, as [`S3Connector::list_objects`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectInfo {
    /// The object's key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last written.
    pub last_modified: Option<SystemTime>,
    /// Its entity tag, with quotes, as S3 sends it.
    pub etag: Option<String>,
    /// Its storage class, such as `STANDARD`.
    pub storage_class: Option<String>,
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
        }
    }

    /// A connector around an S3 client you built yourself.
    pub fn from_client(client: Client) -> S3Connector {
        S3Connector { client }
    }

    /// The AWS SDK client underneath, for any S3 call s3io does not wrap (like boto3's
    /// `resource.meta.client`).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Lists the buckets the credentials can see.
    pub async fn list_buckets(&self) -> Result<Vec<BucketInfo>> {
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
                .map_err(|e| context(Error::from_sdk(e)))?;
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
                _ => return Ok(buckets),
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
        match request.send().await.map_err(Error::from_sdk) {
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

    /// The objects under `prefix` (`""` for all), as a stream that pages through
    /// `ListObjectsV2` as you consume it.
    ///
    /// ```no_run
    /// # async fn demo(s3: s3io::S3Connector) -> s3io::Result<()> {
    /// use futures_util::TryStreamExt;
    ///
    /// let objects: Vec<_> = s3.list_objects("my-bucket", "2024/").try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Stream<Item = Result<ObjectInfo>> + Send + 'static {
        let client = self.client.clone();
        let (bucket, prefix) = (bucket.to_owned(), prefix.to_owned());
        // State: the continuation token, or None once the last page is in.
        let pages = stream::try_unfold(Some(None::<String>), move |state| {
            let (client, bucket, prefix) = (client.clone(), bucket.clone(), prefix.clone());
            async move {
                let Some(token) = state else {
                    return Ok(None);
                };
                let context = |e: Error| {
                    e.with_operation(Operation::ListObjects)
                        .with_location(&bucket, &prefix)
                };
                check_bucket(&bucket).map_err(context)?;
                let page = client
                    .list_objects_v2()
                    .bucket(&bucket)
                    .prefix(&prefix)
                    .set_continuation_token(token)
                    .send()
                    .await
                    .map_err(|e| context(Error::from_sdk(e)))?;
                let objects: Vec<Result<ObjectInfo>> = page
                    .contents()
                    .iter()
                    .map(|o| {
                        Ok(ObjectInfo {
                            key: o.key().unwrap_or_default().to_owned(),
                            size: o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                            last_modified: o
                                .last_modified()
                                .and_then(|d| SystemTime::try_from(*d).ok()),
                            etag: o.e_tag().map(str::to_owned),
                            storage_class: o.storage_class().map(|c| c.as_str().to_owned()),
                        })
                    })
                    .collect();
                let next = match (page.is_truncated(), page.next_continuation_token()) {
                    (Some(true), Some(next)) => Some(Some(next.to_owned())),
                    _ => None,
                };
                Ok(Some((stream::iter(objects), next)))
            }
        });
        pages.try_flatten()
    }

    /// Downloads an object and decodes it by its key's extension (see [`Format`]); a
    /// compression suffix (`.gz`, `.zst`, `.bz2`, `.xz`) is decompressed first, and a key
    /// with no known extension is decoded by its Content-Type.
    pub async fn download(&self, bucket: &str, key: &str) -> Result<Data> {
        self.download_with(bucket, key, ReadOptions::new()).await
    }

    /// Downloads an object as a polars `DataFrame`: `.csv`, `.tsv`, `.jsonl`, `.parquet`,
    /// `.arrow` and workbooks directly, `.json` and `.pkl` when they hold records or columns.
    pub async fn download_frame(&self, bucket: &str, key: &str) -> Result<DataFrame> {
        self.download_frame_with(bucket, key, ReadOptions::new())
            .await
    }

    /// Downloads a `.json` object (or a `.pkl` that JSON can hold) as a `serde_json::Value`.
    pub async fn download_json(&self, bucket: &str, key: &str) -> Result<serde_json::Value> {
        self.download_as(bucket, key, Data::into_json).await
    }

    /// Downloads a `.json` or `.pkl` object into any type that implements `Deserialize`.
    pub async fn download_value<T: DeserializeOwned>(&self, bucket: &str, key: &str) -> Result<T> {
        self.download_as(bucket, key, Data::deserialize).await
    }

    /// Downloads any object as a `String`, decompressed when its key has a compression
    /// suffix; fails on bytes that are not UTF-8 (or UTF-16 with a byte-order mark).
    pub async fn download_text(&self, bucket: &str, key: &str) -> Result<String> {
        let as_text = ReadOptions::new().format(Format::TEXT);
        self.download_with(bucket, key, as_text)
            .await
            .and_then(Data::into_text)
            .map_err(|e| {
                e.with_operation(Operation::Download)
                    .with_location(bucket, key)
            })
    }

    /// Downloads an object's bytes unchanged, whatever its extension.
    pub async fn download_bytes(&self, bucket: &str, key: &str) -> Result<Bytes> {
        self.get(bucket, key).await
    }

    /// Encodes `data` in the format the key's extension names and uploads it, with that
    /// format's Content-Type; a compression suffix compresses it and sets the codec's
    /// Content-Type instead. [`Data::Bytes`] upload unchanged.
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
        self.upload_with(bucket, key, data, WriteOptions::new())
            .await
    }

    /// Serializes any `Serialize` value to `.json` or `.pkl`, as the key's extension says.
    pub async fn upload_value<T: Serialize + ?Sized>(
        &self,
        bucket: &str,
        key: &str,
        value: &T,
    ) -> Result<UploadInfo> {
        let data = if Format::from_key(key) == Format::PICKLE {
            serde_pickle::to_value(value)
                .map(Data::Pickle)
                .map_err(|e| {
                    Error::new(ErrorKind::Encode, format!("cannot convert the value: {e}"))
                        .with_source(e)
                })
        } else {
            serde_json::to_value(value).map(Data::Json).map_err(|e| {
                Error::new(ErrorKind::Encode, format!("cannot convert the value: {e}"))
                    .with_source(e)
            })
        };
        let data = data.map_err(|e| {
            e.with_operation(Operation::Upload)
                .with_location(bucket, key)
        })?;
        self.upload(bucket, key, data).await
    }

    /// Downloads, decodes, then converts the data with `convert`.
    async fn download_as<T>(
        &self,
        bucket: &str,
        key: &str,
        convert: impl FnOnce(Data) -> Result<T>,
    ) -> Result<T> {
        self.download(bucket, key)
            .await
            .and_then(convert)
            .map_err(|e| {
                e.with_operation(Operation::Download)
                    .with_location(bucket, key)
            })
    }

    /// Fetches an object's bytes, with the download context on errors.
    pub(crate) async fn get(&self, bucket: &str, key: &str) -> Result<Bytes> {
        let context = |e: Error| {
            e.with_operation(Operation::Download)
                .with_location(bucket, key)
        };
        check_location(bucket, key).map_err(context)?;
        transfer::get_bytes(&self.client, bucket, key)
            .await
            .map_err(context)
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
