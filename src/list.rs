//! Listing verbs: objects and versions as streams that page transparently, as polars frames,
//! and filtered by prefix, glob, suffix and modification time. What they return lives in
//! [`listing`](crate::listing).

use std::future::Future;
use std::time::SystemTime;

use futures_util::{Stream, StreamExt, TryStreamExt, stream};
use polars::prelude::*;

use crate::connector::{S3Connector, check_bucket};
use crate::listing::{ObjectInfo, VersionInfo};
use crate::location::KeyPattern;
use s3io_formats::{Error, Operation, Result};

/// Which objects a listing returns. All filters combine.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use s3io::ListOptions;
///
/// let recent_csvs = ListOptions::new()
///     .suffix(".csv")
///     .modified_since(SystemTime::now() - Duration::from_secs(86_400))
///     .max_items(100);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ListOptions {
    delimiter: Option<String>,
    start_after: Option<String>,
    max_items: Option<usize>,
    suffixes: Vec<String>,
    modified_since: Option<SystemTime>,
    modified_until: Option<SystemTime>,
}

impl ListOptions {
    /// Everything under the prefix.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lists one level only: keys containing `delimiter` after the prefix are left out (use
    /// [`S3Connector::list_dirs`] for those "folders").
    pub fn delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = Some(delimiter.into());
        self
    }

    /// Starts after this key, in S3's lexicographic order.
    pub fn start_after(mut self, key: impl Into<String>) -> Self {
        self.start_after = Some(key.into());
        self
    }

    /// Stops after this many objects in all (after filtering), as the AWS CLI's
    /// `--max-items`. S3's own `MaxKeys` is a page size, which s3io leaves to S3.
    pub fn max_items(mut self, n: usize) -> Self {
        self.max_items = Some(n);
        self
    }

    /// The old name of [`ListOptions::max_items`]: a total, not S3's `MaxKeys` page size.
    #[deprecated(note = "renamed `max_items`, as the AWS CLI's `--max-items`")]
    pub fn max_keys(self, n: usize) -> Self {
        self.max_items(n)
    }

    /// Keeps keys ending with `suffix`; several calls keep keys ending with any of them.
    pub fn suffix(mut self, suffix: impl Into<String>) -> Self {
        self.suffixes.push(suffix.into());
        self
    }

    /// Keeps objects last modified at or after `time` (awswrangler's `last_modified_begin`).
    pub fn modified_since(mut self, time: SystemTime) -> Self {
        self.modified_since = Some(time);
        self
    }

    /// Keeps objects last modified at or before `time` (awswrangler's `last_modified_end`).
    pub fn modified_until(mut self, time: SystemTime) -> Self {
        self.modified_until = Some(time);
        self
    }

    fn keeps(&self, object: &ObjectInfo) -> bool {
        let suffix_ok =
            self.suffixes.is_empty() || self.suffixes.iter().any(|s| object.key.ends_with(s));
        let since_ok = match (self.modified_since, object.last_modified) {
            (Some(since), Some(at)) => at >= since,
            (Some(_), None) => false,
            (None, _) => true,
        };
        let until_ok = match (self.modified_until, object.last_modified) {
            (Some(until), Some(at)) => at <= until,
            (Some(_), None) => false,
            (None, _) => true,
        };
        suffix_ok && since_ok && until_ok
    }
}

impl S3Connector {
    /// The objects under `prefix` (`""` for all), as a stream that pages through
    /// `ListObjectsV2` as you consume it. A prefix holding `*`, `?` or `[` is a glob (see
    /// [`KeyPattern`]): only its literal part is listed and keys are matched against it.
    ///
    /// ```no_run
    /// # async fn demo(s3: s3io::S3Connector) -> s3io::Result<()> {
    /// use futures_util::TryStreamExt;
    ///
    /// let all: Vec<_> = s3.list_objects("my-bucket", "2024/").try_collect().await?;
    /// let parts: Vec<_> = s3.list_objects("my-bucket", "2024-*/part-?.csv").try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Stream<Item = Result<ObjectInfo>> + Send + 'static {
        self.list_objects_with(bucket, prefix, ListOptions::new())
    }

    /// [`list_objects`](Self::list_objects) with filters and limits.
    pub fn list_objects_with(
        &self,
        bucket: &str,
        prefix: &str,
        options: ListOptions,
    ) -> impl Stream<Item = Result<ObjectInfo>> + Send + 'static {
        let pattern = KeyPattern::is_glob(prefix).then(|| KeyPattern::new(prefix));
        let list_prefix = pattern
            .as_ref()
            .map_or_else(|| prefix.to_owned(), KeyPattern::literal_prefix);
        let limit = options.max_items.unwrap_or(usize::MAX);
        let client = self.client().clone();
        let bucket = bucket.to_owned();
        let request_options = options.clone();
        let pages = paginate(None::<String>, move |token| {
            let (client, bucket, prefix) = (client.clone(), bucket.clone(), list_prefix.clone());
            let options = request_options.clone();
            async move {
                let context = |e: Error| {
                    e.with_operation(Operation::ListObjects)
                        .with_prefix(&bucket, &prefix)
                };
                check_bucket(&bucket).map_err(context)?;
                let page = client
                    .list_objects_v2()
                    .bucket(&bucket)
                    .prefix(&prefix)
                    .set_delimiter(options.delimiter)
                    .set_start_after(options.start_after)
                    .set_continuation_token(token)
                    .send()
                    .await
                    .map_err(|e| context(crate::sdk_error::from_sdk(e)))?;
                let objects = page.contents().iter().map(|o| ObjectInfo {
                    key: o.key().unwrap_or_default().to_owned(),
                    size: o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                    last_modified: o
                        .last_modified()
                        .and_then(|d| SystemTime::try_from(*d).ok()),
                    etag: o.e_tag().map(str::to_owned),
                    storage_class: o.storage_class().map(|c| c.as_str().to_owned()),
                });
                let next = match (page.is_truncated(), page.next_continuation_token()) {
                    (Some(true), Some(next)) => Some(Some(next.to_owned())),
                    _ => None,
                };
                Ok((objects.collect(), next))
            }
        });
        pages
            .try_filter(move |o| {
                let keep = options.keeps(o) && pattern.as_ref().is_none_or(|p| p.matches(&o.key));
                std::future::ready(keep)
            })
            .take(limit)
    }

    /// The "folders" directly under `prefix`: the common prefixes up to the next `/`, like
    /// awswrangler's `list_directories`.
    pub async fn list_dirs(&self, bucket: &str, prefix: &str) -> Result<Vec<String>> {
        let context = |e: Error| {
            e.with_operation(Operation::ListObjects)
                .with_prefix(bucket, prefix)
        };
        check_bucket(bucket).map_err(context)?;
        let client = self.client();
        let mut dirs = Vec::new();
        let mut token = None;
        loop {
            let page = client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .delimiter("/")
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| context(crate::sdk_error::from_sdk(e)))?;
            dirs.extend(
                page.common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix().map(str::to_owned)),
            );
            match (page.is_truncated(), page.next_continuation_token()) {
                (Some(true), Some(next)) => token = Some(next.to_owned()),
                _ => return Ok(dirs),
            }
        }
    }

    /// The listing as a polars frame with columns `key`, `size`, `last_modified` (UTC),
    /// `etag` and `storage_class`, ready to filter and sort.
    pub async fn list_frame(&self, bucket: &str, prefix: &str) -> Result<DataFrame> {
        self.list_frame_with(bucket, prefix, ListOptions::new())
            .await
    }

    /// [`list_frame`](Self::list_frame) with filters and limits.
    pub async fn list_frame_with(
        &self,
        bucket: &str,
        prefix: &str,
        options: ListOptions,
    ) -> Result<DataFrame> {
        let objects: Vec<ObjectInfo> = self
            .list_objects_with(bucket, prefix, options)
            .try_collect()
            .await?;
        let frame = DataFrame::new(
            objects.len(),
            vec![
                Column::new(
                    "key".into(),
                    objects.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "size".into(),
                    objects.iter().map(|o| o.size as i64).collect::<Vec<_>>(),
                ),
                timestamps("last_modified", objects.iter().map(|o| o.last_modified)),
                Column::new(
                    "etag".into(),
                    objects
                        .iter()
                        .map(|o| o.etag.as_deref())
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    "storage_class".into(),
                    objects
                        .iter()
                        .map(|o| o.storage_class.as_deref())
                        .collect::<Vec<_>>(),
                ),
            ],
        );
        frame.map_err(|e| listing_frame_error(e, bucket, prefix))
    }

    /// Every version and delete marker under `prefix`, newest first within each key, as a
    /// stream that pages through `ListObjectVersions`.
    pub fn list_versions(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Stream<Item = Result<VersionInfo>> + Send + 'static {
        let client = self.client().clone();
        let (bucket, prefix) = (bucket.to_owned(), prefix.to_owned());
        paginate(None::<(String, Option<String>)>, move |markers| {
            let (client, bucket, prefix) = (client.clone(), bucket.clone(), prefix.clone());
            async move {
                let context = |e: Error| {
                    e.with_operation(Operation::ListVersions)
                        .with_prefix(&bucket, &prefix)
                };
                check_bucket(&bucket).map_err(context)?;
                let (key_marker, version_marker) = markers.unzip();
                let page = client
                    .list_object_versions()
                    .bucket(&bucket)
                    .prefix(&prefix)
                    .set_key_marker(key_marker)
                    .set_version_id_marker(version_marker.flatten())
                    .send()
                    .await
                    .map_err(|e| context(crate::sdk_error::from_sdk(e)))?;
                let when = |d: Option<&aws_sdk_s3::primitives::DateTime>| {
                    d.and_then(|d| SystemTime::try_from(*d).ok())
                };
                let versions = page.versions().iter().map(|v| VersionInfo {
                    key: v.key().unwrap_or_default().to_owned(),
                    version_id: v.version_id().unwrap_or("null").to_owned(),
                    is_latest: v.is_latest().unwrap_or(false),
                    is_delete_marker: false,
                    size: v.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                    last_modified: when(v.last_modified()),
                    etag: v.e_tag().map(str::to_owned),
                });
                let markers = page.delete_markers().iter().map(|m| VersionInfo {
                    key: m.key().unwrap_or_default().to_owned(),
                    version_id: m.version_id().unwrap_or("null").to_owned(),
                    is_latest: m.is_latest().unwrap_or(false),
                    is_delete_marker: true,
                    size: 0,
                    last_modified: when(m.last_modified()),
                    etag: None,
                });
                let mut items: Vec<VersionInfo> = versions.chain(markers).collect();
                // Newest first within a key; the current version leads even when timestamps tie.
                items.sort_by(|a, b| {
                    (a.key.cmp(&b.key))
                        .then(b.is_latest.cmp(&a.is_latest))
                        .then(b.last_modified.cmp(&a.last_modified))
                });
                let next = match (page.is_truncated(), page.next_key_marker()) {
                    (Some(true), Some(key)) => Some(Some((
                        key.to_owned(),
                        page.next_version_id_marker().map(str::to_owned),
                    ))),
                    _ => None,
                };
                Ok((items, next))
            }
        })
    }

    /// The versions under `prefix` as a polars frame: `key`, `version_id`, `is_latest`,
    /// `is_delete_marker`, `size`, `last_modified` (UTC), `etag`.
    pub async fn list_versions_frame(&self, bucket: &str, prefix: &str) -> Result<DataFrame> {
        let versions: Vec<VersionInfo> = self.list_versions(bucket, prefix).try_collect().await?;
        let frame = DataFrame::new(
            versions.len(),
            vec![
                Column::new(
                    "key".into(),
                    versions.iter().map(|v| v.key.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "version_id".into(),
                    versions
                        .iter()
                        .map(|v| v.version_id.as_str())
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    "is_latest".into(),
                    versions.iter().map(|v| v.is_latest).collect::<Vec<_>>(),
                ),
                Column::new(
                    "is_delete_marker".into(),
                    versions
                        .iter()
                        .map(|v| v.is_delete_marker)
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    "size".into(),
                    versions.iter().map(|v| v.size as i64).collect::<Vec<_>>(),
                ),
                timestamps("last_modified", versions.iter().map(|v| v.last_modified)),
                Column::new(
                    "etag".into(),
                    versions
                        .iter()
                        .map(|v| v.etag.as_deref())
                        .collect::<Vec<_>>(),
                ),
            ],
        );
        frame.map_err(|e| listing_frame_error(e, bucket, prefix))
    }
}

/// A stream of items fetched page by page: `fetch(state)` returns a page and the state for
/// the next one, or `None` after the last page. The first call gets `first`.
pub(crate) fn paginate<T, S, F, Fut>(
    first: S,
    mut fetch: F,
) -> impl Stream<Item = Result<T>> + Send + 'static
where
    T: Send + 'static,
    S: Send + 'static,
    F: FnMut(S) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(Vec<T>, Option<S>)>> + Send + 'static,
{
    // The state is `Some(page state)` until the last page is in.
    stream::try_unfold(Some(first), move |state| {
        let page = state.map(&mut fetch);
        async move {
            let Some(page) = page else {
                return Ok(None);
            };
            let (items, next) = page.await?;
            Ok(Some((stream::iter(items.into_iter().map(Ok)), next)))
        }
    })
    .try_flatten()
}

/// A Datetime column (milliseconds, UTC) from optional timestamps.
fn timestamps(name: &str, times: impl Iterator<Item = Option<SystemTime>>) -> Column {
    let millis = times.map(|t| {
        t.map(|t| match t.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(after) => after.as_millis() as i64,
            Err(before) => -(before.duration().as_millis() as i64),
        })
    });
    Int64Chunked::from_iter_options(name.into(), millis)
        .into_datetime(TimeUnit::Milliseconds, None)
        .into_column()
}

fn listing_frame_error(e: PolarsError, bucket: &str, prefix: &str) -> Error {
    Error::new(
        crate::ErrorKind::Decode,
        format!("cannot build the listing frame: {e}"),
    )
    .with_operation(Operation::ListObjects)
    .with_prefix(bucket, prefix)
}
