//! [`S3Object`]: one object (or one version of it) and everything you can do to it.
//!
//! The connector's `(bucket, key)` methods are shorthands for these; the handle adds what
//! they cannot say in two strings: `s3://` URIs and versions.

use crate::listing::ObjectMeta;
use std::path::Path;
use std::time::SystemTime;

use bytes::Bytes;
use polars::prelude::DataFrame;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::connector::{S3Connector, check_location, off_runtime};
use crate::location::S3Uri;
use crate::transfer::{self, Fetched, UploadInfo};
use s3io_formats::Data;
use s3io_formats::{Compression, Format, ObjectFormat};
use s3io_formats::{Error, ErrorKind, Operation, Result};
use s3io_formats::{ReadOptions, Sheets, WriteOptions};

/// An object in a bucket, optionally pinned to one version.
///
/// ```no_run
/// # async fn demo(s3: s3io::S3Connector) -> s3io::Result<()> {
/// let df = s3.object_at("s3://my-bucket/2024/sales.csv")?.download_frame().await?;
/// let old = s3.object("my-bucket", "cfg.json").version("3HL4kqtJlcpXroDTDmJ").download_json().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct S3Object {
    s3: S3Connector,
    bucket: String,
    key: String,
    version: Option<String>,
}

impl S3Connector {
    /// A handle on the object at `bucket`/`key`.
    pub fn object(&self, bucket: &str, key: &str) -> S3Object {
        S3Object {
            s3: self.clone(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version: None,
        }
    }

    /// A handle on the object an `s3://bucket/key` URI names.
    ///
    /// ```
    /// # async fn demo(s3: s3io::S3Connector) -> s3io::Result<()> {
    /// let object = s3.object_at("s3://bucket/2024 data/월별 매출.csv")?;
    /// assert_eq!(object.key(), "2024 data/월별 매출.csv");
    /// # Ok(()) }
    /// ```
    pub fn object_at(&self, uri: &str) -> Result<S3Object> {
        let uri = S3Uri::parse(uri)?;
        Ok(self.object(uri.bucket(), uri.key()))
    }
}

impl S3Object {
    /// The same object pinned to one version.
    pub fn version(mut self, version_id: impl Into<String>) -> Self {
        self.version = Some(version_id.into());
        self
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The version this handle is pinned to, if any.
    pub fn version_id(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The `s3://bucket/key` URI.
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    /// The connector this handle was made by.
    pub(crate) fn connector(&self) -> &S3Connector {
        &self.s3
    }

    /// The format the key's extension selects.
    pub fn format(&self) -> Format {
        Format::from_key(&self.key)
    }

    /// Downloads the object and decodes it by its key's extension; a compression suffix
    /// (`.gz`, `.zst`, `.bz2`, `.xz`) is decompressed first, and a key with no known extension
    /// is decoded by its Content-Type.
    pub async fn download(&self) -> Result<Data> {
        self.download_with(ReadOptions::new()).await
    }

    /// Downloads the object and decodes it with `options`; see
    /// [`S3Connector::download_with`].
    pub async fn download_with(&self, options: impl Into<ReadOptions>) -> Result<Data> {
        let options = options.into();
        if let Some(read) = self.read_less(&options).await {
            return read.map(Data::Frame);
        }
        if let Some(read) = self.data_in_parts(&options).await {
            return read;
        }
        self.decode_with(options, |layers, bytes, options| {
            layers.decode(bytes, options)
        })
        .await
    }

    /// Downloads the object as a polars `DataFrame`.
    pub async fn download_frame(&self) -> Result<DataFrame> {
        self.download_frame_with(ReadOptions::new()).await
    }

    /// Downloads the object as a polars `DataFrame`, decoded with `options`.
    pub async fn download_frame_with(&self, options: impl Into<ReadOptions>) -> Result<DataFrame> {
        let options = options.into();
        if let Some(read) = self.read_less(&options).await {
            return read;
        }
        if let Some(read) = self.frame_in_parts(&options).await {
            return read;
        }
        self.decode_with(options, |layers, bytes, options| {
            layers.decode_frame(bytes, options)
        })
        .await
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
    pub async fn download_sheets(&self) -> Result<Sheets> {
        self.download_sheets_with(ReadOptions::excel()).await
    }

    /// Downloads a workbook and reads every sheet, in order, with `options` applied to each
    /// (`header_row`, `skip_rows_after_header`, `has_header`).
    pub async fn download_sheets_with(&self, options: impl Into<ReadOptions>) -> Result<Sheets> {
        self.decode_with(options.into(), |layers, bytes, options| {
            layers.decode_sheets(bytes, options)
        })
        .await
    }

    /// Downloads a `.json` object (or a `.pkl` that JSON can hold) as a `serde_json::Value`.
    pub async fn download_json(&self) -> Result<serde_json::Value> {
        self.download_as(Data::into_json).await
    }

    /// Downloads a `.json` or `.pkl` object into any type that implements `Deserialize`.
    pub async fn download_value<T: DeserializeOwned>(&self) -> Result<T> {
        self.download_as(Data::deserialize).await
    }

    /// Downloads the object as text, whatever its extension (decompressed when its key has a
    /// compression suffix); fails on bytes that are not UTF-8 (or UTF-16 with a byte-order
    /// mark).
    pub async fn download_text(&self) -> Result<String> {
        self.download_with(ReadOptions::new().format(Format::TEXT))
            .await
            .and_then(Data::into_text)
            .map_err(|e| self.context(e, Operation::Download))
    }

    /// Downloads the object's bytes unchanged.
    pub async fn download_bytes(&self) -> Result<Bytes> {
        self.fetch(|_| Ok(())).await.map(|fetched| fetched.bytes)
    }

    /// Downloads the object to a local file, bounded in memory; see
    /// [`S3Connector::download_to_path`].
    pub async fn download_to_path(&self, path: impl AsRef<Path>) -> Result<u64> {
        check_location(&self.bucket, &self.key)
            .map_err(|e| self.context(e, Operation::Download))?;
        let (version, config) = (self.version.as_deref(), self.s3.transfer_config());
        let (bucket, key) = (&self.bucket, &self.key);
        transfer::get_to_path(
            self.s3.client(),
            config,
            bucket,
            key,
            version,
            path.as_ref(),
        )
        .await
        .map_err(|e| self.context(e, Operation::Download))
    }

    /// Streams the object's bytes, unchanged, into `writer`; see
    /// [`S3Connector::download_to_writer`].
    pub async fn download_to_writer<W>(&self, writer: W) -> Result<u64>
    where
        W: std::io::Write + Send + 'static,
    {
        check_location(&self.bucket, &self.key)
            .map_err(|e| self.context(e, Operation::Download))?;
        let (version, config) = (self.version.as_deref(), self.s3.transfer_config());
        let (bucket, key) = (&self.bucket, &self.key);
        transfer::get_to_writer(self.s3.client(), config, bucket, key, version, writer)
            .await
            .map_err(|e| self.context(e, Operation::Download))
    }

    /// Uploads a local file unchanged; see [`S3Connector::upload_from_path`]. The
    /// Content-Type is the key's format's (or compression's), or `application/octet-stream`.
    pub async fn upload_from_path(&self, path: impl AsRef<Path>) -> Result<UploadInfo> {
        check_location(&self.bucket, &self.key).map_err(|e| self.context(e, Operation::Upload))?;
        let known = Format::from_key_extension(&self.key).is_some()
            || Compression::from_key(&self.key).is_some();
        let content_type = match ObjectFormat::for_write(&self.key, &WriteOptions::new()) {
            Ok(layers) if known => layers.content_type(),
            _ => "application/octet-stream",
        };
        let (bucket, key, config) = (&self.bucket, &self.key, self.s3.transfer_config());
        let path = path.as_ref();
        let options = self.s3.upload_options();
        transfer::put_from_path(
            self.s3.client(),
            config,
            options,
            bucket,
            key,
            path,
            content_type,
        )
        .await
        .map_err(|e| self.context(e, Operation::Upload))
    }

    /// Encodes `data` in the key's format (compressed if the key says so) and uploads it.
    /// [`Data::Bytes`] upload unchanged.
    pub async fn upload(&self, data: impl Into<Data>) -> Result<UploadInfo> {
        self.upload_with(data, WriteOptions::new()).await
    }

    /// Encodes `data` with `options` and uploads it; see [`S3Connector::upload_with`].
    pub async fn upload_with(
        &self,
        data: impl Into<Data>,
        options: impl Into<WriteOptions>,
    ) -> Result<UploadInfo> {
        let (data, options) = (data.into(), options.into());
        if let Ok(layers) = ObjectFormat::for_write(&self.key, &options)
            && layers.encodes_in_parts(&data)
        {
            return self.upload_in_parts(layers, data, options).await;
        }
        self.encode_with(options, move |layers, options| {
            let content_type = match &data {
                Data::Bytes(_) => "application/octet-stream",
                _ => layers.content_type(),
            };
            layers
                .encode(&data, options)
                .map(|body| (body, content_type))
        })
        .await
    }

    /// Writes frames as the sheets of one workbook; see [`S3Connector::upload_sheets`].
    pub async fn upload_sheets_with(
        &self,
        sheets: Vec<(String, DataFrame)>,
        options: impl Into<WriteOptions>,
    ) -> Result<UploadInfo> {
        self.encode_with(options.into(), move |layers, options| {
            layers
                .encode_sheets(&sheets, options)
                .map(|body| (body, layers.content_type()))
        })
        .await
    }

    /// Fetches the object's bytes and Content-Type, after `check_size` accepts its size.
    async fn fetch(&self, check_size: impl FnOnce(u64) -> Result<()>) -> Result<Fetched> {
        check_location(&self.bucket, &self.key)
            .map_err(|e| self.context(e, Operation::Download))?;
        let (version, config) = (self.version.as_deref(), self.s3.transfer_config());
        let (bucket, key) = (&self.bucket, &self.key);
        transfer::get_bytes(self.s3.client(), config, bucket, key, version, check_size)
            .await
            .map_err(|e| self.context(e, Operation::Download))
    }

    /// Fetches the object, unless it is larger than the limits allow, picks its format and
    /// compression layers, and decodes it off the async runtime.
    pub(crate) async fn decode_with<T: Send + 'static>(
        &self,
        mut options: ReadOptions,
        decode: impl FnOnce(ObjectFormat, Bytes, &ReadOptions) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let context = |e| self.context(e, Operation::Download);
        options = options.with_fallback_limits(self.s3.limits());
        let limits = options.limits_in_effect();
        let fetched = self.fetch(|size| limits.check_object_size(size)).await?;
        let layers = ObjectFormat::for_read(&self.key, fetched.content_type.as_deref(), &options)
            .map_err(context)?;
        off_runtime(move || decode(layers, fetched.bytes, &options))
            .await
            .map_err(context)
    }

    /// Picks the layers for the key, encodes off the async runtime and uploads.
    async fn encode_with(
        &self,
        options: WriteOptions,
        encode: impl FnOnce(ObjectFormat, &WriteOptions) -> Result<(Vec<u8>, &'static str)>
        + Send
        + 'static,
    ) -> Result<UploadInfo> {
        let context = |e| self.context(e, Operation::Upload);
        check_location(&self.bucket, &self.key).map_err(context)?;
        let layers = ObjectFormat::for_write(&self.key, &options).map_err(context)?;
        let (body, content_type) = off_runtime(move || encode(layers, &options))
            .await
            .map_err(context)?;
        let (bucket, key, config) = (&self.bucket, &self.key, self.s3.transfer_config());
        transfer::put_bytes(
            self.s3.client(),
            config,
            self.s3.upload_options(),
            bucket,
            key,
            body.into(),
            content_type,
        )
        .await
        .map_err(context)
    }

    /// Serializes any `Serialize` value as `.pkl` when the key says so, else as JSON.
    pub async fn upload_value<T: Serialize + ?Sized>(&self, value: &T) -> Result<UploadInfo> {
        let converted = if self.format() == Format::PICKLE {
            serde_pickle::to_value(value)
                .map(|v| Data::Pickle(v.into()))
                .map_err(encode_failure)
        } else {
            serde_json::to_value(value)
                .map(Data::Json)
                .map_err(encode_failure)
        };
        let data = converted.map_err(|e| self.context(e, Operation::Upload))?;
        self.upload(data).await
    }

    /// The object's metadata; a missing object is a [`ErrorKind::NotFound`] error.
    pub async fn head(&self) -> Result<ObjectMeta> {
        let context = |e| self.context(e, Operation::Head);
        check_location(&self.bucket, &self.key).map_err(context)?;
        let head = self
            .s3
            .client()
            .head_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .set_version_id(self.version.clone())
            .send()
            .await
            .map_err(|e| context(crate::sdk_error::from_sdk(e)))?;
        Ok(ObjectMeta {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            size: head
                .content_length()
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0),
            content_type: head.content_type().map(str::to_owned),
            etag: head.e_tag().map(str::to_owned),
            last_modified: head
                .last_modified()
                .and_then(|d| SystemTime::try_from(*d).ok()),
            version_id: head.version_id().map(str::to_owned),
            metadata: head.metadata().cloned().unwrap_or_default(),
            storage_class: head.storage_class().map(|c| c.as_str().to_owned()),
            encryption: head.server_side_encryption().map(|e| e.as_str().to_owned()),
            kms_key_id: head.ssekms_key_id().map(str::to_owned),
            cache_control: head.cache_control().map(str::to_owned),
            content_disposition: head.content_disposition().map(str::to_owned),
        })
    }

    /// The object's tags, in S3's order (GetObjectTagging).
    pub async fn tags(&self) -> Result<Vec<(String, String)>> {
        let context = |e| self.context(e, Operation::Head);
        check_location(&self.bucket, &self.key).map_err(context)?;
        let tagging = self
            .s3
            .client()
            .get_object_tagging()
            .bucket(&self.bucket)
            .key(&self.key)
            .set_version_id(self.version.clone())
            .send()
            .await
            .map_err(|e| context(crate::sdk_error::from_sdk(e)))?;
        Ok(tagging
            .tag_set()
            .iter()
            .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
            .collect())
    }

    /// Whether the object exists. Only a "not found" answer is `false`; any other failure,
    /// such as denied access, is an error.
    pub async fn exists(&self) -> Result<bool> {
        match self.head().await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes the object, or the pinned version. Deleting a missing key succeeds, as in S3.
    pub async fn delete(&self) -> Result<()> {
        let context = |e| self.context(e, Operation::Delete);
        check_location(&self.bucket, &self.key).map_err(context)?;
        self.s3
            .client()
            .delete_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .set_version_id(self.version.clone())
            .send()
            .await
            .map_err(|e| context(crate::sdk_error::from_sdk(e)))?;
        Ok(())
    }

    /// Downloads, decodes, then converts the data with `convert`.
    async fn download_as<T>(&self, convert: impl FnOnce(Data) -> Result<T>) -> Result<T> {
        self.download()
            .await
            .and_then(convert)
            .map_err(|e| self.context(e, Operation::Download))
    }

    /// Adds this object's location and the operation to an error.
    pub(crate) fn context(&self, err: Error, operation: Operation) -> Error {
        err.with_operation(operation)
            .with_location(&self.bucket, &self.key)
    }
}

fn encode_failure(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::new(ErrorKind::Encode, format!("cannot convert the value: {e}")).with_source(e)
}
