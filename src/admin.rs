//! Managing objects and buckets: batch deletes, server-side copies, buckets, waiters,
//! identity and presigned URLs.

use std::fmt;
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::types::{CompletedPart, Delete, ObjectIdentifier};
use futures_util::{StreamExt, TryStreamExt};

use crate::connector::{S3Connector, check_bucket, check_location};
use crate::listing::{ObjectInfo, ObjectMeta, VersionInfo};
use crate::transfer::UploadInfo;
use aws_sdk_s3::types::{MetadataDirective, TaggingDirective};
use s3io_formats::{Error, ErrorKind, Operation, Result};

/// Keys per DeleteObjects request: S3's limit.
const DELETE_BATCH: usize = 1000;
/// S3's largest single CopyObject.
const MAX_SINGLE_COPY: u64 = 5 << 30;

/// How a prefix delete runs.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct DeleteOptions {
    dry_run: bool,
}

impl DeleteOptions {
    /// Deletes for real.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lists what would be deleted and deletes nothing.
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.dry_run = yes;
        self
    }
}

/// How a copy runs. Objects above the threshold are copied in parts, server-side.
#[derive(Debug, Clone)]
#[must_use]
pub struct CopyOptions {
    multipart_threshold: u64,
    part_size: u64,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            multipart_threshold: MAX_SINGLE_COPY,
            part_size: 512 << 20,
        }
    }
}

impl CopyOptions {
    /// One CopyObject up to 5 GiB, parts of 512 MiB above.
    pub fn new() -> Self {
        Self::default()
    }

    /// Copies objects larger than this many bytes in parts (at most 5 GiB).
    pub fn multipart_threshold(mut self, bytes: u64) -> Self {
        self.multipart_threshold = bytes.min(MAX_SINGLE_COPY);
        self
    }

    /// The size of each copied part (S3 allows 5 MiB to 5 GiB, except the last part).
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes.clamp(5 << 20, MAX_SINGLE_COPY);
        self
    }
}

/// How long a waiter polls: `max_attempts` checks, `delay` apart. The default is boto3's:
/// 20 attempts, 5 seconds apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    /// The pause between checks.
    pub delay: Duration,
    /// How many checks before giving up (at least 1).
    pub max_attempts: u32,
}

impl Default for Wait {
    fn default() -> Self {
        Wait {
            delay: Duration::from_secs(5),
            max_attempts: 20,
        }
    }
}

/// Who the connector's credentials belong to, from STS `GetCallerIdentity`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallerIdentity {
    /// The AWS account id.
    pub account: String,
    /// The ARN of the user or role.
    pub arn: String,
    /// The unique id of the user or role.
    pub user_id: String,
}

/// A presigned URL: anyone holding it can do one request until it expires. `Debug` hides the
/// signature; call [`as_str`](Self::as_str) for the whole URL.
#[derive(Clone)]
pub struct PresignedUrl {
    url: String,
    method: String,
    expires_in: Duration,
}

impl PresignedUrl {
    /// The whole URL, signature included. Treat it as a secret.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The HTTP method it allows: `GET` or `PUT`.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// How long after signing it works.
    pub fn expires_in(&self) -> Duration {
        self.expires_in
    }
}

impl fmt::Debug for PresignedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let without_query = self.url.split('?').next().unwrap_or_default();
        f.debug_struct("PresignedUrl")
            .field("method", &self.method)
            .field("url", &format!("{without_query}?<signature redacted>"))
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl S3Connector {
    /// Deletes many keys with `DeleteObjects`, 1,000 per request, and returns the keys
    /// deleted. Keys S3 could not delete make the whole call an error that lists them (and
    /// keeps the first one's S3 code); S3 answers 200 even then, so nothing fails silently.
    pub async fn delete_many<K: AsRef<str>>(
        &self,
        bucket: &str,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<Vec<String>> {
        let context = |e: Error| e.with_operation(Operation::Delete).with_bucket(bucket);
        check_bucket(bucket).map_err(context)?;
        let keys: Vec<String> = keys.into_iter().map(|k| k.as_ref().to_owned()).collect();
        let mut deleted = Vec::with_capacity(keys.len());
        let mut failed: Vec<(String, Option<String>, Option<String>)> = Vec::new();
        for batch in keys.chunks(DELETE_BATCH) {
            let ids = batch
                .iter()
                .map(|key| ObjectIdentifier::builder().key(key).build())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| context(invalid_request(e)))?;
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .quiet(false)
                .build()
                .map_err(|e| context(invalid_request(e)))?;
            let output = self
                .client()
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| context(crate::sdk_error::from_sdk(e)))?;
            deleted.extend(
                output
                    .deleted()
                    .iter()
                    .filter_map(|d| d.key().map(str::to_owned)),
            );
            failed.extend(output.errors().iter().map(|e| {
                (
                    e.key().unwrap_or_default().to_owned(),
                    e.code().map(str::to_owned),
                    e.message().map(str::to_owned),
                )
            }));
        }
        if failed.is_empty() {
            return Ok(deleted);
        }
        let first_code = failed[0].1.clone();
        let listed: Vec<String> = failed
            .iter()
            .take(10)
            .map(|(key, code, message)| {
                format!(
                    "{key} ({}: {})",
                    code.as_deref().unwrap_or("error"),
                    message.as_deref().unwrap_or("no message")
                )
            })
            .collect();
        let more = failed.len().saturating_sub(listed.len());
        let message = format!(
            "{} of {} keys were not deleted: {}{}",
            failed.len(),
            keys.len(),
            listed.join(", "),
            if more > 0 {
                format!(", and {more} more")
            } else {
                String::new()
            }
        );
        Err(context(
            Error::new(ErrorKind::for_s3_code(first_code.as_deref(), None), message)
                .with_service_details(first_code, None),
        ))
    }

    /// Deletes every object under a prefix or matching a glob; returns the keys deleted.
    pub async fn delete_prefix(&self, bucket: &str, prefix_or_glob: &str) -> Result<Vec<String>> {
        self.delete_prefix_with(bucket, prefix_or_glob, DeleteOptions::new())
            .await
    }

    /// [`delete_prefix`](Self::delete_prefix), or with `dry_run(true)` the keys it would delete.
    pub async fn delete_prefix_with(
        &self,
        bucket: &str,
        prefix_or_glob: &str,
        options: DeleteOptions,
    ) -> Result<Vec<String>> {
        let objects: Vec<ObjectInfo> = self
            .list_objects(bucket, prefix_or_glob)
            .try_collect()
            .await?;
        let keys: Vec<String> = objects.into_iter().map(|o| o.key).collect();
        if options.dry_run {
            return Ok(keys);
        }
        self.delete_many(bucket, keys).await
    }

    /// Copies an object server-side; the bytes never leave S3. Objects over 5 GiB are copied
    /// in parts.
    pub async fn copy(
        &self,
        src_bucket: &str,
        src_key: &str,
        dst_bucket: &str,
        dst_key: &str,
    ) -> Result<UploadInfo> {
        self.copy_with(src_bucket, src_key, dst_bucket, dst_key, CopyOptions::new())
            .await
    }

    /// [`copy`](Self::copy) with the multipart threshold and part size set.
    pub async fn copy_with(
        &self,
        src_bucket: &str,
        src_key: &str,
        dst_bucket: &str,
        dst_key: &str,
        options: CopyOptions,
    ) -> Result<UploadInfo> {
        let context = |e: Error| {
            e.with_operation(Operation::Copy)
                .with_location(src_bucket, src_key)
                .with_note(&format!(" (copying to s3://{dst_bucket}/{dst_key})"))
        };
        check_location(src_bucket, src_key).map_err(context)?;
        check_location(dst_bucket, dst_key).map_err(context)?;
        let source = self.head(src_bucket, src_key).await.map_err(context)?;
        let copy_source = copy_source(src_bucket, src_key);
        if source.size <= options.multipart_threshold {
            let options = self.upload_options();
            let mut request = self
                .client()
                .copy_object()
                .bucket(dst_bucket)
                .key(dst_key)
                .copy_source(&copy_source);
            // A copy keeps its source's metadata and tags unless the options give new ones;
            // then S3 must be told to replace them, and the source's Content-Type carries over
            // unless the options give one.
            if options.replaces_metadata() {
                request = request
                    .metadata_directive(MetadataDirective::Replace)
                    .set_content_type(source.content_type.clone());
            }
            if options.tagging().is_some() {
                request = request.tagging_directive(TaggingDirective::Replace);
            }
            let output = crate::transfer::apply_upload_options!(request, options)
                .send()
                .await
                .map_err(|e| context(crate::sdk_error::from_sdk(e)))?;
            return Ok(UploadInfo {
                size: source.size,
                etag: output
                    .copy_object_result()
                    .and_then(|r| r.e_tag())
                    .map(str::to_owned),
                version_id: output.version_id().map(str::to_owned),
            });
        }
        self.copy_in_parts(
            &source,
            &copy_source,
            dst_bucket,
            dst_key,
            options.part_size,
        )
        .await
        .map_err(context)
    }

    /// A multipart copy with UploadPartCopy, aborted on any failure so no parts are left.
    async fn copy_in_parts(
        &self,
        source: &ObjectMeta,
        copy_source: &str,
        dst_bucket: &str,
        dst_key: &str,
        part_size: u64,
    ) -> Result<UploadInfo> {
        let client = self.client();
        let step = usize::try_from(part_size).unwrap_or(usize::MAX);
        let parts = (0..source.size)
            .step_by(step)
            .map(|start| (start, part_size.min(source.size - start)))
            .collect();
        let part = |upload_id: String, number: i32, (start, len): (u64, u64)| async move {
            let copied = client
                .upload_part_copy()
                .bucket(dst_bucket)
                .key(dst_key)
                .upload_id(upload_id)
                .part_number(number)
                .copy_source(copy_source)
                .copy_source_range(format!("bytes={start}-{}", start + len - 1))
                .send()
                .await
                .map_err(crate::sdk_error::from_sdk)?;
            let etag = copied
                .copy_part_result()
                .and_then(|r| r.e_tag())
                .map(str::to_owned);
            Ok(CompletedPart::builder()
                .part_number(number)
                .set_e_tag(etag)
                .build())
        };
        let content_type = source.content_type.as_deref();
        let concurrency = self.transfer_config().concurrency;
        let to = crate::transfer::Destination {
            client,
            bucket: dst_bucket,
            key: dst_key,
            content_type,
            options: self.upload_options(),
            checksum: None,
            payload_signing: crate::PayloadSigning::Always,
        };
        crate::transfer::multipart(&to, parts, concurrency, part).await
    }

    /// Copies every object under a prefix (or matching a glob) server-side to `dst_prefix`,
    /// several at once, like `aws s3 cp --recursive s3://a/data/ s3://b/backup/`. Each key
    /// keeps its path below the source prefix's last `/` (as in
    /// [`download_dir`](Self::download_dir)): `data/2024/a.csv` under `data/` goes to
    /// `backup/2024/a.csv`. Returns (source key, destination key) pairs in key order; the
    /// first failure stops the copy and names the object.
    ///
    /// ```no_run
    /// # async fn demo(s3: s3io::S3Connector) -> s3io::Result<()> {
    /// let copied = s3.copy_prefix("lake", "raw/2024-*/", "archive", "raw-2024/").await?;
    /// # Ok(()) }
    /// ```
    pub async fn copy_prefix(
        &self,
        src_bucket: &str,
        src_prefix_or_glob: &str,
        dst_bucket: &str,
        dst_prefix: &str,
    ) -> Result<Vec<(String, String)>> {
        check_bucket(dst_bucket).map_err(|e| {
            e.with_operation(Operation::Copy)
                .with_prefix(dst_bucket, dst_prefix)
        })?;
        let objects: Vec<ObjectInfo> = self
            .list_objects(src_bucket, src_prefix_or_glob)
            .try_collect()
            .await?;
        let literal = crate::location::KeyPattern::new(src_prefix_or_glob).literal_prefix();
        let base = &literal[..literal.rfind('/').map_or(0, |i| i + 1)];
        let pairs: Vec<(String, String)> = objects
            .into_iter()
            .map(|o| {
                let relative = o.key.strip_prefix(base).unwrap_or(&o.key);
                let target = format!("{dst_prefix}{relative}");
                (o.key, target)
            })
            .collect();
        futures_util::stream::iter(pairs)
            .map(|(src_key, dst_key)| async move {
                self.copy(src_bucket, &src_key, dst_bucket, &dst_key)
                    .await?;
                Ok((src_key, dst_key))
            })
            .buffered(crate::many::ManyOptions::DEFAULT_CONCURRENCY)
            .try_collect()
            .await
    }

    /// Moves an object: a server-side copy, then a delete of the source.
    pub async fn rename(
        &self,
        src_bucket: &str,
        src_key: &str,
        dst_bucket: &str,
        dst_key: &str,
    ) -> Result<UploadInfo> {
        let copied = self.copy(src_bucket, src_key, dst_bucket, dst_key).await?;
        self.delete(src_bucket, src_key).await?;
        Ok(copied)
    }

    /// Whether a bucket exists and these credentials can reach it.
    pub async fn bucket_exists(&self, bucket: &str) -> Result<bool> {
        let context = |e: Error| e.with_operation(Operation::HeadBucket).with_bucket(bucket);
        check_bucket(bucket).map_err(context)?;
        match self.client().head_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = context(crate::sdk_error::from_sdk(e));
                if e.kind() == ErrorKind::NotFound {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Deletes an empty bucket. A bucket with objects gives an error saying so; see
    /// [`delete_bucket_force`](Self::delete_bucket_force).
    pub async fn delete_bucket(&self, bucket: &str) -> Result<()> {
        let context = |e: Error| {
            e.with_operation(Operation::DeleteBucket)
                .with_bucket(bucket)
        };
        check_bucket(bucket).map_err(context)?;
        match self.client().delete_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = crate::sdk_error::from_sdk(e);
                let e = if e.code() == Some("BucketNotEmpty") {
                    e.with_note(" (empty it first, or use delete_bucket_force)")
                } else {
                    e
                };
                Err(context(e))
            }
        }
    }

    /// Empties a bucket (every object, and every version and delete marker where the server
    /// keeps versions), then deletes it.
    pub async fn delete_bucket_force(&self, bucket: &str) -> Result<()> {
        self.delete_prefix(bucket, "").await?;
        let versions: Result<Vec<VersionInfo>> = self.list_versions(bucket, "").try_collect().await;
        // Servers without versioning reject the listing; there is nothing more to remove then.
        if let Ok(versions) = versions {
            for v in versions {
                self.delete_version(bucket, &v.key, &v.version_id).await?;
            }
        }
        self.delete_bucket(bucket).await
    }

    /// Waits until the object exists (boto3's `object_exists` waiter) and returns its
    /// metadata, or gives up with an [`ErrorKind::Timeout`] error saying how long it waited.
    pub async fn wait_for_object(&self, bucket: &str, key: &str, wait: Wait) -> Result<ObjectMeta> {
        let object = self.object(bucket, key);
        poll(wait, "to exist", || async {
            match object.head().await {
                Ok(meta) => Ok(Some(meta)),
                Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await
        .map_err(|e| e.with_operation(Operation::Wait).with_location(bucket, key))
    }

    /// Waits until the object is gone (boto3's `object_not_exists` waiter).
    pub async fn wait_for_object_gone(&self, bucket: &str, key: &str, wait: Wait) -> Result<()> {
        let object = self.object(bucket, key);
        poll(wait, "to be deleted", || async {
            Ok(if object.exists().await? {
                None
            } else {
                Some(())
            })
        })
        .await
        .map_err(|e| e.with_operation(Operation::Wait).with_location(bucket, key))
    }

    /// Waits until the bucket exists (boto3's `bucket_exists` waiter).
    pub async fn wait_for_bucket(&self, bucket: &str, wait: Wait) -> Result<()> {
        poll(wait, "to exist", || async {
            Ok(self.bucket_exists(bucket).await?.then_some(()))
        })
        .await
        .map_err(|e| e.with_operation(Operation::Wait).with_bucket(bucket))
    }

    /// Who the credentials belong to, through STS `GetCallerIdentity` with the connector's
    /// credentials, region and endpoint (`aws sts get-caller-identity`).
    pub async fn whoami(&self) -> Result<CallerIdentity> {
        let sts = match self.sdk_config() {
            Some(sdk) => aws_sdk_sts::Client::new(sdk),
            // A connector made from a bare client: the default chain, in the client's region.
            None => {
                let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
                if let Some(region) = self.client().config().region() {
                    loader = loader.region(region.clone());
                }
                aws_sdk_sts::Client::new(&loader.load().await)
            }
        };
        let identity = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| crate::sdk_error::from_sdk(e).with_operation(Operation::WhoAmI))?;
        Ok(CallerIdentity {
            account: identity.account().unwrap_or_default().to_owned(),
            arn: identity.arn().unwrap_or_default().to_owned(),
            user_id: identity.user_id().unwrap_or_default().to_owned(),
        })
    }

    /// A URL that downloads the object with a plain HTTP GET until it expires (at most 7
    /// days), like boto3's `generate_presigned_url("get_object", ...)`.
    pub async fn presign_get(
        &self,
        bucket: &str,
        key: &str,
        expires_in: Duration,
    ) -> Result<PresignedUrl> {
        let config = presigning(bucket, key, expires_in)?;
        let request = self
            .client()
            .get_object()
            .bucket(bucket)
            .key(key)
            .presigned(config)
            .await;
        presigned_url(request, bucket, key, expires_in)
    }

    /// A URL that uploads the object with a plain HTTP PUT of the body until it expires.
    pub async fn presign_put(
        &self,
        bucket: &str,
        key: &str,
        expires_in: Duration,
    ) -> Result<PresignedUrl> {
        let config = presigning(bucket, key, expires_in)?;
        let request = self
            .client()
            .put_object()
            .bucket(bucket)
            .key(key)
            .presigned(config)
            .await;
        presigned_url(request, bucket, key, expires_in)
    }
}

/// The signing settings for a presigned URL, after checking the location.
fn presigning(bucket: &str, key: &str, expires_in: Duration) -> Result<PresigningConfig> {
    let context = |e: Error| {
        e.with_operation(Operation::Presign)
            .with_location(bucket, key)
    };
    check_location(bucket, key).map_err(context)?;
    PresigningConfig::expires_in(expires_in).map_err(|e| {
        context(
            Error::new(
                ErrorKind::InvalidInput,
                format!("cannot presign for {expires_in:?}: {e}"),
            )
            .with_source(e),
        )
    })
}

/// A presigned URL from the SDK's signed request.
fn presigned_url<E>(
    request: std::result::Result<PresignedRequest, SdkError<E, HttpResponse>>,
    bucket: &str,
    key: &str,
    expires_in: Duration,
) -> Result<PresignedUrl>
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let request = request.map_err(|e| {
        crate::sdk_error::from_sdk(e)
            .with_operation(Operation::Presign)
            .with_location(bucket, key)
    })?;
    Ok(PresignedUrl {
        url: request.uri().to_owned(),
        method: request.method().to_owned(),
        expires_in,
    })
}

/// Checks up to `wait.max_attempts` times, `wait.delay` apart, until `check` gives a value.
async fn poll<T, F, Fut>(wait: Wait, state: &str, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let attempts = wait.max_attempts.max(1);
    for attempt in 1..=attempts {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if attempt < attempts {
            tokio::time::sleep(wait.delay).await;
        }
    }
    let waited = wait.delay * (attempts - 1);
    Err(Error::new(
        ErrorKind::Timeout,
        format!(
            "waited {:.1} s ({attempts} checks, {:.1} s apart) {state}, in vain",
            waited.as_secs_f64(),
            wait.delay.as_secs_f64()
        ),
    ))
}

fn invalid_request(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::new(ErrorKind::InvalidInput, format!("invalid request: {e}")).with_source(e)
}

/// The `x-amz-copy-source` value: bucket and key, the key percent-encoded except for `/`.
fn copy_source(bucket: &str, key: &str) -> String {
    let mut encoded = String::with_capacity(bucket.len() + key.len() + 1);
    encoded.push_str(bucket);
    encoded.push('/');
    for byte in key.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                encoded.push(byte as char)
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    #[test]
    fn copy_source_encodes_everything_but_slashes() {
        assert_eq!(
            super::copy_source("b", "2024 data/월 a+b=c%.csv"),
            "b/2024%20data/%EC%9B%94%20a%2Bb%3Dc%25.csv"
        );
    }
}
