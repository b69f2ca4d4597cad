//! Many keys at once: concurrent downloads into one frame, and concurrent uploads.

use futures_util::{StreamExt, TryStreamExt, stream};
use polars::prelude::*;

use crate::connector::S3Connector;
use crate::listing::ObjectInfo;
use crate::transfer::UploadInfo;
use s3io_formats::Data;
use s3io_formats::ReadOptions;
use s3io_formats::{Error, ErrorKind, Operation, Result};

/// How [`S3Connector::download_many_with`] and friends work.
///
/// ```
/// let options = s3io::ManyOptions::new().concurrency(32).include_file_paths("file");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ManyOptions {
    concurrency: usize,
    include_file_paths: Option<String>,
}

impl Default for ManyOptions {
    fn default() -> Self {
        ManyOptions {
            concurrency: ManyOptions::DEFAULT_CONCURRENCY,
            include_file_paths: None,
        }
    }
}

impl ManyOptions {
    /// Transfers in flight at once unless set otherwise.
    pub const DEFAULT_CONCURRENCY: usize = 16;

    /// The defaults: 16 at a time, no source column.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many objects to transfer at once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Adds a column with this name holding each row's source key (polars'
    /// `include_file_paths`, which names it the same way).
    pub fn include_file_paths(mut self, name: impl Into<String>) -> Self {
        self.include_file_paths = Some(name.into());
        self
    }
}

impl S3Connector {
    /// Downloads every object under a prefix or matching a glob (see
    /// [`KeyPattern`](crate::KeyPattern)) and stacks them into one frame, each decoded by its
    /// own extension, so one call can mix `.csv`, `.xlsx` and `.json` records. Columns are
    /// aligned by name; a column missing from a file is null there, and columns whose types
    /// differ between files get a type that holds both. Like awswrangler's
    /// `read_csv(path=prefix)`.
    ///
    /// ```no_run
    /// # async fn demo(s3: s3io::S3Connector) -> s3io::Result<()> {
    /// let all_2024 = s3.download_many("my-bucket", "sales/2024-*/part-*.csv").await?;
    /// # Ok(()) }
    /// ```
    pub async fn download_many(&self, bucket: &str, prefix_or_glob: &str) -> Result<DataFrame> {
        self.download_many_with(bucket, prefix_or_glob, ManyOptions::new())
            .await
    }

    /// [`download_many`](Self::download_many) with concurrency and a source-key column.
    pub async fn download_many_with(
        &self,
        bucket: &str,
        prefix_or_glob: &str,
        options: ManyOptions,
    ) -> Result<DataFrame> {
        let keys = self.matching_keys(bucket, prefix_or_glob).await?;
        let read = self.budgeted_read();
        let frames: Vec<(String, DataFrame)> = stream::iter(keys)
            .map(|key| {
                let read = read.clone();
                async move {
                    let df = self.download_frame_with(bucket, &key, read).await?;
                    Ok::<_, Error>((key, df))
                }
            })
            .buffered(options.concurrency)
            .try_collect()
            .await?;
        let context = |e: Error| {
            e.with_operation(Operation::Download)
                .with_prefix(bucket, prefix_or_glob)
        };
        let (width, height) = stacked_shape(&frames);
        read.charge_output(width.saturating_mul(height).saturating_mul(16), || {
            format!("{width} columns × {height} rows once the frames are stacked")
        })
        .map_err(context)?;
        stack_frames(frames, options.include_file_paths.as_deref()).map_err(|e| {
            context(Error::new(
                ErrorKind::Decode,
                format!("cannot stack the downloaded frames: {e}"),
            ))
        })
    }

    /// Downloads every object under a prefix or matching a glob, concurrently, and returns
    /// each key with its decoded data, in key order.
    pub async fn download_each(
        &self,
        bucket: &str,
        prefix_or_glob: &str,
    ) -> Result<Vec<(String, Data)>> {
        self.download_each_with(bucket, prefix_or_glob, ManyOptions::new())
            .await
    }

    /// [`download_each`](Self::download_each) with a concurrency limit.
    pub async fn download_each_with(
        &self,
        bucket: &str,
        prefix_or_glob: &str,
        options: ManyOptions,
    ) -> Result<Vec<(String, Data)>> {
        let keys = self.matching_keys(bucket, prefix_or_glob).await?;
        let read = self.budgeted_read();
        stream::iter(keys)
            .map(|key| {
                let read = read.clone();
                async move {
                    let data = self.download_with(bucket, &key, read).await?;
                    Ok((key, data))
                }
            })
            .buffered(options.concurrency)
            .try_collect()
            .await
    }

    /// Uploads many `(key, data)` pairs concurrently, each encoded by its key's extension.
    /// Returns what S3 reported for each, in the order given; the first failure stops the rest.
    ///
    /// ```no_run
    /// # async fn demo(s3: s3io::S3Connector, a: polars::prelude::DataFrame, b: polars::prelude::DataFrame) -> s3io::Result<()> {
    /// s3.upload_many("my-bucket", [("out/a.csv", a), ("out/b.xlsx", b)]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn upload_many<K, D>(
        &self,
        bucket: &str,
        items: impl IntoIterator<Item = (K, D)>,
    ) -> Result<Vec<UploadInfo>>
    where
        K: AsRef<str>,
        D: Into<Data>,
    {
        self.upload_many_with(bucket, items, ManyOptions::new())
            .await
    }

    /// [`upload_many`](Self::upload_many) with a concurrency limit.
    pub async fn upload_many_with<K, D>(
        &self,
        bucket: &str,
        items: impl IntoIterator<Item = (K, D)>,
        options: ManyOptions,
    ) -> Result<Vec<UploadInfo>>
    where
        K: AsRef<str>,
        D: Into<Data>,
    {
        stream::iter(items)
            .map(|(key, data)| {
                let data = data.into();
                async move { self.upload(bucket, key.as_ref(), data).await }
            })
            .buffered(options.concurrency)
            .try_collect()
            .await
    }

    /// Read options whose output budget one call that decodes many objects shares: under
    /// the connector's limits, every object adds its allowance and charges what it makes.
    fn budgeted_read(&self) -> ReadOptions {
        ReadOptions::new()
            .with_fallback_limits(self.limits())
            .with_shared_budget()
    }

    /// The keys under a prefix or matching a glob, without "folder" placeholders; none is
    /// a [`ErrorKind::NotFound`] error.
    async fn matching_keys(&self, bucket: &str, prefix_or_glob: &str) -> Result<Vec<String>> {
        let objects: Vec<ObjectInfo> = self
            .list_objects(bucket, prefix_or_glob)
            .try_collect()
            .await?;
        let keys: Vec<String> = objects
            .into_iter()
            .filter(|o| !(o.key.ends_with('/') && o.size == 0))
            .map(|o| o.key)
            .collect();
        if keys.is_empty() {
            return Err(Error::new(ErrorKind::NotFound, "no objects match")
                .with_operation(Operation::Download)
                .with_prefix(bucket, prefix_or_glob));
        }
        Ok(keys)
    }
}

/// A dtype that holds values of both: the same one, a wider number, a datetime for dates
/// and datetimes, and text for anything else.
fn common_dtype(a: &DataType, b: &DataType) -> DataType {
    match (a, b) {
        (a, b) if a == b => a.clone(),
        (DataType::Null, other) | (other, DataType::Null) => other.clone(),
        (a, b) if a.is_integer() && b.is_integer() => DataType::Int64,
        (a, b) if a.is_primitive_numeric() && b.is_primitive_numeric() => DataType::Float64,
        (DataType::Datetime(unit, tz), DataType::Date)
        | (DataType::Date, DataType::Datetime(unit, tz)) => DataType::Datetime(*unit, tz.clone()),
        _ => DataType::String,
    }
}

/// The columns (by name) and rows of the frames once stacked.
pub(crate) fn stacked_shape(frames: &[(String, DataFrame)]) -> (u64, u64) {
    let names: std::collections::HashSet<&str> = frames
        .iter()
        .flat_map(|(_, df)| df.get_column_names().into_iter().map(|n| n.as_str()))
        .collect();
    let height = frames.iter().map(|(_, df)| df.height() as u64).sum();
    (names.len() as u64, height)
}

/// Stacks frames vertically, aligning columns by name in first-seen order. Missing columns
/// are null; differing dtypes are cast to a common supertype.
pub(crate) fn stack_frames(
    frames: Vec<(String, DataFrame)>,
    source: Option<&str>,
) -> PolarsResult<DataFrame> {
    let mut schema: Vec<(PlSmallStr, DataType)> = Vec::new();
    for (_, df) in &frames {
        for column in df.columns() {
            match schema.iter_mut().find(|(name, _)| name == column.name()) {
                Some((_, dtype)) => *dtype = common_dtype(dtype, column.dtype()),
                None => schema.push((column.name().clone(), column.dtype().clone())),
            }
        }
    }
    let mut stacked: Option<DataFrame> = None;
    for (key, df) in frames {
        let height = df.height();
        let mut columns = schema
            .iter()
            .map(|(name, dtype)| match df.column(name) {
                Ok(column) => column.cast(dtype),
                Err(_) => Ok(Column::full_null(name.clone(), height, dtype)),
            })
            .collect::<PolarsResult<Vec<_>>>()?;
        if let Some(source) = source {
            columns.push(Column::new(source.into(), vec![key.as_str(); height]));
        }
        let aligned = DataFrame::new(height, columns)?;
        match &mut stacked {
            Some(all) => {
                all.vstack_mut_owned(aligned)?;
            }
            None => stacked = Some(aligned),
        }
    }
    let mut stacked = stacked.unwrap_or_default();
    stacked.rechunk_mut();
    Ok(stacked)
}
