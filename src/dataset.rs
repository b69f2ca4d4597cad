//! Datasets: one frame as many files under `col=value/` folders, laid out as Hive, Spark,
//! Athena, Trino, DuckDB, pyarrow and awswrangler lay them out, and read back into one frame.
//!
//! Writing groups the frame by its partition columns and uploads each group as
//! `prefix/col=value/.../part-NNNNN-<uuid>.parquet` through [`S3Connector::upload_with`];
//! overwriting lists what it replaces first, writes every new file, and only then deletes the
//! old ones with [`S3Connector::delete_many`]. Reading lists the prefix, applies the partition
//! filter to the keys, downloads the files left concurrently under one output budget (as
//! [`S3Connector::download_many`] does) and stacks them, partition columns last.

mod hive;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::{StreamExt, TryStreamExt, stream};
use polars::prelude::*;

use crate::connector::{S3Connector, check_bucket};
use crate::listing::ObjectInfo;
use crate::location::KeyPattern;
use crate::many::{stack_frames, stacked_shape};
use s3io_formats::{Data, Error, ErrorKind, Format, Operation, ReadOptions, Result, WriteOptions};

pub use hive::{HIVE_NULL, Partition};

/// What [`S3Connector::upload_dataset`] does with the files already under the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DatasetMode {
    /// Adds files; nothing is deleted (awswrangler's `append`).
    #[default]
    Append,
    /// Replaces everything under the prefix (`overwrite`).
    Overwrite,
    /// Replaces only the partitions the frame has rows for (`overwrite_partitions`).
    OverwritePartitions,
}

/// How [`S3Connector::upload_dataset`] writes a dataset: partition columns, rows per file, a
/// mode and a format (Parquet unless set).
///
/// ```
/// use s3io::{DatasetMode, DatasetOptions, Format};
///
/// let options = DatasetOptions::new()
///     .partition_by(["year", "city"])
///     .max_rows_per_file(1_000_000)
///     .mode(DatasetMode::OverwritePartitions)
///     .format(Format::PARQUET);
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct DatasetOptions {
    partition_by: Vec<String>,
    max_rows_per_file: Option<usize>,
    mode: DatasetMode,
    format: Format,
    write: WriteOptions,
    concurrency: usize,
}

impl Default for DatasetOptions {
    fn default() -> Self {
        DatasetOptions {
            partition_by: Vec::new(),
            max_rows_per_file: None,
            mode: DatasetMode::Append,
            format: Format::PARQUET,
            write: WriteOptions::new(),
            concurrency: crate::ManyOptions::DEFAULT_CONCURRENCY,
        }
    }
}

impl DatasetOptions {
    /// The defaults: no partitions, one file, `Append`, Parquet, 16 uploads at once.
    pub fn new() -> Self {
        Self::default()
    }

    /// The columns that become `col=value/` folders, outermost first. They are left out of
    /// the files, as Hive, Spark, pyarrow and awswrangler leave them out.
    pub fn partition_by<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.partition_by = columns.into_iter().map(Into::into).collect();
        self
    }

    /// At most this many rows in one file (at least 1); a partition with more is split.
    pub fn max_rows_per_file(mut self, rows: usize) -> Self {
        self.max_rows_per_file = Some(rows.max(1));
        self
    }

    /// Append (the default), Overwrite, or OverwritePartitions.
    pub fn mode(mut self, mode: DatasetMode) -> Self {
        self.mode = mode;
        self
    }

    /// The files' format: [`Format::PARQUET`] (the default), [`Format::CSV`],
    /// [`Format::NDJSON`] (`.jsonl` files) or [`Format::IPC`] (`.arrow` files).
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Options for encoding each file (a CSV separator, compression, ...).
    pub fn write_options(mut self, options: impl Into<WriteOptions>) -> Self {
        self.write = options.into();
        self
    }

    /// How many files to upload at once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }
}

/// What [`S3Connector::upload_dataset`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DatasetWrite {
    /// The keys written, in the order of the partitions' first rows.
    pub keys: Vec<String>,
    /// The partitions written, as folders below the prefix (`year=2024/city=Oslo/`); empty
    /// for a dataset without partition columns.
    pub partitions: Vec<String>,
    /// The keys deleted by `Overwrite` or `OverwritePartitions`.
    pub deleted: Vec<String>,
}

/// A partition filter: takes a file's partition, says whether to read it.
type PartitionFilter = Arc<dyn Fn(&Partition) -> bool + Send + Sync>;

/// How [`S3Connector::download_dataset`] reads a dataset: which columns and rows, the
/// partition columns' dtypes, a partition filter, the options each file is read with.
///
/// ```
/// use s3io::DatasetReadOptions;
/// use s3io::polars::prelude::DataType;
///
/// let options = DatasetReadOptions::new()
///     .columns(["city", "temp", "year"])
///     .n_rows(1000)
///     .partition_schema([("year", DataType::Int64)])
///     .partition_filter(|p| p.get("year").is_some_and(|y| y >= "2023"));
/// # let _ = options;
/// ```
#[derive(Clone)]
#[must_use]
pub struct DatasetReadOptions {
    columns: Option<Vec<String>>,
    n_rows: Option<usize>,
    partition_schema: Vec<(String, DataType)>,
    filter: Option<PartitionFilter>,
    read: ReadOptions,
    concurrency: usize,
}

impl Default for DatasetReadOptions {
    fn default() -> Self {
        DatasetReadOptions {
            columns: None,
            n_rows: None,
            partition_schema: Vec::new(),
            filter: None,
            read: ReadOptions::new(),
            concurrency: crate::ManyOptions::DEFAULT_CONCURRENCY,
        }
    }
}

impl fmt::Debug for DatasetReadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatasetReadOptions")
            .field("columns", &self.columns)
            .field("n_rows", &self.n_rows)
            .field("partition_schema", &self.partition_schema)
            .field("filter", &self.filter.as_ref().map(|_| "<fn>"))
            .field("read", &self.read)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

impl DatasetReadOptions {
    /// The defaults: every column and row, partition types inferred, 16 downloads at once.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only these columns, in this order; partition columns may be among them. A column
    /// that no file and no partition has is an [`ErrorKind::InvalidInput`] error.
    pub fn columns<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.columns = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// At most this many rows: files are read in key order, and none after the one that
    /// completes them.
    pub fn n_rows(mut self, n: usize) -> Self {
        self.n_rows = Some(n);
        self
    }

    /// The dtypes of these partition columns, instead of inferring them (pyarrow's way:
    /// `Int32` when every value is a 32-bit integer, else `String`). A value that does not
    /// convert is an [`ErrorKind::Decode`] error naming its key.
    pub fn partition_schema<S: Into<String>>(
        mut self,
        schema: impl IntoIterator<Item = (S, DataType)>,
    ) -> Self {
        self.partition_schema = schema.into_iter().map(|(n, t)| (n.into(), t)).collect();
        self
    }

    /// Reads only the files whose [`Partition`] `keep` accepts; it sees the keys' unescaped
    /// text values before anything is downloaded (awswrangler's `partition_filter`).
    pub fn partition_filter(
        mut self,
        keep: impl Fn(&Partition) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.filter = Some(Arc::new(keep));
        self
    }

    /// Options for decoding each file (CSV separators, limits, ...).
    pub fn read_options(mut self, options: impl Into<ReadOptions>) -> Self {
        self.read = options.into();
        self
    }

    /// How many files to download at once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }
}

/// One file to write: its key and its rows.
struct Planned {
    key: String,
    frame: DataFrame,
}

impl S3Connector {
    /// Writes `df` as a dataset under `prefix`: one folder level per partition column
    /// (`year=2024/`), values escaped as Hive escapes them (`a/b` as `a%2Fb`, a null as
    /// `__HIVE_DEFAULT_PARTITION__`), files named `part-NNNNN-<uuid>.parquet`. Spark, Athena,
    /// Trino, DuckDB, pyarrow and awswrangler read the result; so does
    /// [`download_dataset`](Self::download_dataset).
    ///
    /// `Overwrite` and `OverwritePartitions` list what they replace, write every new file,
    /// and only then delete the old ones: a failure while writing deletes the new files it
    /// wrote and leaves the old data as it was. They touch only keys below `prefix/`, never
    /// a sibling such as `prefix2/`.
    ///
    /// ```no_run
    /// # async fn demo(s3: s3io::S3Connector, df: polars::prelude::DataFrame) -> s3io::Result<()> {
    /// use s3io::{DatasetMode, DatasetOptions};
    ///
    /// let options = DatasetOptions::new().partition_by(["year"]).mode(DatasetMode::Overwrite);
    /// let written = s3.upload_dataset("lake", "sales", &df, options).await?;
    /// println!("{} files", written.keys.len());
    /// # Ok(()) }
    /// ```
    pub async fn upload_dataset(
        &self,
        bucket: &str,
        prefix: &str,
        df: &DataFrame,
        options: DatasetOptions,
    ) -> Result<DatasetWrite> {
        let context = |e: Error| {
            e.with_operation(Operation::Upload)
                .with_prefix(bucket, prefix)
        };
        check_bucket(bucket).map_err(context)?;
        let root = dataset_root(prefix).map_err(context)?;
        let (planned, partitions) = plan(df, &options, &root)
            .map_err(|e| context(e).with_format_name(options.format.name()))?;

        // What an overwrite replaces, listed before anything new is there.
        let replaced: Vec<String> = match options.mode {
            DatasetMode::Append => Vec::new(),
            DatasetMode::OverwritePartitions if !options.partition_by.is_empty() => {
                let folders: Vec<String> =
                    partitions.iter().map(|p| format!("{root}{p}")).collect();
                let lists: Vec<Vec<String>> = stream::iter(folders)
                    .map(|folder| async move { self.keys_below(bucket, &folder).await })
                    .buffered(options.concurrency)
                    .try_collect()
                    .await
                    .map_err(context)?;
                lists.into_iter().flatten().collect()
            }
            DatasetMode::Overwrite | DatasetMode::OverwritePartitions => {
                self.keys_below(bucket, &root).await.map_err(context)?
            }
        };

        // Every new file, before anything old goes. After a failure no new upload starts,
        // the ones under way finish, and the files written are deleted again.
        let failed = AtomicBool::new(false);
        let write = options.write.clone();
        let results: Vec<Result<String>> = stream::iter(planned)
            .map(|file| {
                let (failed, write) = (&failed, write.clone());
                async move {
                    if failed.load(Ordering::Relaxed) {
                        return Err(None);
                    }
                    let key = file.key;
                    match self
                        .upload_with(bucket, &key, Data::Frame(file.frame), write)
                        .await
                    {
                        Ok(_) => Ok(key),
                        Err(e) => {
                            failed.store(true, Ordering::Relaxed);
                            Err(Some(e))
                        }
                    }
                }
            })
            .buffered(options.concurrency)
            .filter_map(|r: std::result::Result<String, Option<Error>>| async move {
                match r {
                    Ok(key) => Some(Ok(key)),
                    Err(Some(e)) => Some(Err(e)),
                    Err(None) => None,
                }
            })
            .collect()
            .await;
        let (written, errors): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
        let written: Vec<String> = written.into_iter().filter_map(Result::ok).collect();
        if let Some(Err(first)) = errors.into_iter().next() {
            let note = match self.delete_many(bucket, &written).await {
                Ok(_) => format!(
                    "; the dataset under s3://{bucket}/{root} is as it was: the {} new files \
                     written before the failure were deleted again",
                    written.len()
                ),
                Err(cleanup) => format!(
                    "; {} new files written before the failure could not all be deleted \
                     ({cleanup}); they are the keys under s3://{bucket}/{root} with this \
                     write's uuid in their names",
                    written.len()
                ),
            };
            return Err(first.with_operation(Operation::Upload).with_note(&note));
        }

        let deleted = if replaced.is_empty() {
            Vec::new()
        } else {
            self.delete_many(bucket, &replaced).await.map_err(|e| {
                e.with_operation(Operation::Upload).with_note(&format!(
                    "; the new files were all written, but the old ones under s3://{bucket}/{root} \
                     were not all deleted, so the dataset holds both until they are"
                ))
            })?
        };
        Ok(DatasetWrite {
            keys: written,
            partitions,
            deleted,
        })
    }

    /// Reads the dataset under `prefix` into one frame: every file below it (except names
    /// starting with `_` or `.`, such as `_SUCCESS`), each decoded by its extension, with a
    /// column for each `col=value/` folder level. Partition columns come last, typed as
    /// pyarrow infers them (`Int32` when every value is a 32-bit integer, else `String`;
    /// `__HIVE_DEFAULT_PARTITION__` is null) or as
    /// [`partition_schema`](DatasetReadOptions::partition_schema) says. Columns are aligned
    /// by name across files, as in [`download_many`](Self::download_many). The partition
    /// filter runs on the keys before any file is downloaded; every file is scanned before it
    /// is decoded, and the whole call shares one output budget (see
    /// [`Limits`](crate::Limits)).
    ///
    /// ```no_run
    /// # async fn demo(s3: s3io::S3Connector) -> s3io::Result<()> {
    /// use s3io::DatasetReadOptions;
    ///
    /// let options = DatasetReadOptions::new().partition_filter(|p| p.get("year") == Some("2024"));
    /// let df = s3.download_dataset("lake", "sales", options).await?;
    /// # Ok(()) }
    /// ```
    pub async fn download_dataset(
        &self,
        bucket: &str,
        prefix: &str,
        options: DatasetReadOptions,
    ) -> Result<DataFrame> {
        let context = |e: Error| {
            e.with_operation(Operation::Download)
                .with_prefix(bucket, prefix)
        };
        check_bucket(bucket).map_err(context)?;
        let root = dataset_root(prefix).map_err(context)?;
        let keys: Vec<String> = self
            .keys_below(bucket, &root)
            .await
            .map_err(context)?
            .into_iter()
            .filter(|key| !hidden(&key[root.len()..]))
            .collect();
        if keys.is_empty() {
            return Err(context(Error::new(
                ErrorKind::NotFound,
                "no dataset files under this prefix",
            )));
        }
        let files: Vec<(String, Partition)> = keys
            .into_iter()
            .map(|key| {
                let partition = Partition::of_key(&key[root.len()..]);
                (key, partition)
            })
            .collect();
        let columns = partition_columns(&files, &options.partition_schema);
        let selected: Vec<(String, Partition)> = match &options.filter {
            Some(keep) => files.into_iter().filter(|(_, p)| keep(p)).collect(),
            None => files,
        };

        let read = options
            .read
            .clone()
            .with_fallback_limits(self.limits())
            .with_shared_budget();
        let columns = &columns;
        let mut fetched = stream::iter(selected)
            .map(|(key, partition)| {
                let read = read.clone();
                async move {
                    let df = self.download_frame_with(bucket, &key, read).await?;
                    let df = with_partition_columns(df, &partition, columns).map_err(|e| {
                        e.with_operation(Operation::Download)
                            .with_location(bucket, &key)
                    })?;
                    Ok::<_, Error>((key, df))
                }
            })
            .buffered(options.concurrency);
        let mut frames: Vec<(String, DataFrame)> = Vec::new();
        let mut rows = 0usize;
        while let Some(file) = fetched.next().await {
            let (key, df) = file?;
            rows += df.height();
            frames.push((key, df));
            if options.n_rows.is_some_and(|n| rows >= n) {
                break;
            }
        }
        drop(fetched);

        let (width, height) = stacked_shape(&frames);
        read.charge_output(width.saturating_mul(height).saturating_mul(16), || {
            format!("{width} columns × {height} rows once the frames are stacked")
        })
        .map_err(context)?;
        let stacked = if frames.is_empty() {
            // Nothing passed the filter: the partition columns, typed, and no rows.
            DataFrame::new(
                0,
                columns
                    .iter()
                    .map(|(name, dtype)| Column::full_null(name.as_str().into(), 0, dtype))
                    .collect(),
            )
        } else {
            stack_frames(frames, None)
        }
        .map_err(|e| {
            context(Error::new(
                ErrorKind::Decode,
                format!("cannot stack the dataset's files: {e}"),
            ))
        })?;
        finish(stacked, columns, &options).map_err(context)
    }

    /// Every key below `folder` (which ends with `/`), folder placeholders left out.
    async fn keys_below(&self, bucket: &str, folder: &str) -> Result<Vec<String>> {
        let objects: Vec<ObjectInfo> = self.list_objects(bucket, folder).try_collect().await?;
        Ok(objects
            .into_iter()
            .filter(|o| !(o.key.ends_with('/') && o.size == 0))
            .map(|o| o.key)
            .collect())
    }
}

/// The dataset's folder: `prefix` with one `/` at its end, so that `sales` never reaches
/// `sales2/`. An empty prefix or a glob is an [`ErrorKind::InvalidInput`] error: a dataset
/// is a literal folder.
fn dataset_root(prefix: &str) -> Result<String> {
    let trimmed = prefix.trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "a dataset needs a prefix (a folder such as `sales`), not the bucket's root",
        ));
    }
    if KeyPattern::is_glob(trimmed) {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "a dataset's prefix is a folder, not a glob: {trimmed:?} holds `*`, `?` or `[`"
            ),
        ));
    }
    Ok(format!("{trimmed}/"))
}

/// Whether a key below the dataset's folder is left out, as pyarrow leaves it out: a name
/// starting with `_` or `.` at any level (`_SUCCESS`, `_common_metadata`, `.tmp/`).
fn hidden(relative: &str) -> bool {
    relative
        .split('/')
        .any(|segment| segment.starts_with('_') || segment.starts_with('.'))
}

/// The files to write: `df` grouped by its partition columns in the order of their first
/// rows, each group split at `max_rows_per_file`.
fn plan(
    df: &DataFrame,
    options: &DatasetOptions,
    root: &str,
) -> Result<(Vec<Planned>, Vec<String>)> {
    let format = options.format;
    if ![Format::PARQUET, Format::CSV, Format::NDJSON, Format::IPC].contains(&format) {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "a dataset's files are parquet, csv, ndjson or ipc, not {}",
                format.name()
            ),
        ));
    }
    let extension = format.extensions()[0];
    let partition_by = &options.partition_by;
    let mut text_columns = Vec::with_capacity(partition_by.len());
    for name in partition_by {
        if name.is_empty() || partition_by.iter().filter(|n| *n == name).count() > 1 {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("partition columns must be named, each once: {partition_by:?}"),
            ));
        }
        let column = df.column(name).map_err(|_| {
            Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "no partition column {name:?}; the frame's columns are {:?}",
                    df.get_column_names()
                ),
            )
        })?;
        if column.dtype().is_nested() || matches!(column.dtype(), DataType::Binary) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "partition column {name:?} is {}: a folder name needs a number, text, a \
                     boolean or a date",
                    column.dtype()
                ),
            ));
        }
        let text = column.cast(&DataType::String).map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("partition column {name:?} cannot be written as text: {e}"),
            )
        })?;
        text_columns.push(text);
    }
    if df.width() == partition_by.len() && !partition_by.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "every column is a partition column: the files would have no columns",
        ));
    }
    let data = df.drop_many(partition_by.iter().map(String::as_str));

    // Row numbers by partition, in the order of each partition's first row.
    let mut groups: Vec<(String, Vec<IdxSize>)> = Vec::new();
    if partition_by.is_empty() {
        groups.push((String::new(), (0..df.height() as IdxSize).collect()));
    } else {
        let texts = text_columns
            .iter()
            .map(|c| {
                c.str()
                    .map_err(|e| Error::new(ErrorKind::InvalidInput, e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut index: HashMap<String, usize> = HashMap::new();
        for row in 0..df.height() {
            let folder: String = partition_by
                .iter()
                .zip(&texts)
                .map(|(name, text)| {
                    format!(
                        "{}={}/",
                        hive::escape(Some(name)),
                        hive::escape(text.get(row))
                    )
                })
                .collect();
            let at = *index.entry(folder.clone()).or_insert_with(|| {
                groups.push((folder, Vec::new()));
                groups.len() - 1
            });
            groups[at].1.push(row as IdxSize);
        }
    }

    let run = uuid::Uuid::new_v4();
    let partitions: Vec<String> = groups
        .iter()
        .map(|(folder, _)| folder.clone())
        .filter(|folder| !folder.is_empty())
        .collect();
    let mut planned = Vec::new();
    for (folder, rows) in groups {
        let frame = if partition_by.is_empty() {
            data.clone()
        } else {
            data.take(&IdxCa::from_vec("rows".into(), rows))
                .map_err(|e| {
                    Error::new(ErrorKind::Encode, format!("cannot split the frame: {e}"))
                })?
        };
        let per_file = options.max_rows_per_file.unwrap_or(usize::MAX);
        let mut offset = 0usize;
        loop {
            let len = per_file.min(frame.height() - offset);
            let part = planned.len();
            planned.push(Planned {
                key: format!("{root}{folder}part-{part:05}-{run}.{extension}"),
                frame: frame.slice(offset as i64, len),
            });
            offset += len;
            if offset >= frame.height() {
                break;
            }
        }
    }
    Ok((planned, partitions))
}

/// The partition columns of the files, in the order first seen, with their dtypes: from
/// `schema` where it names them, else inferred from every file's value.
fn partition_columns(
    files: &[(String, Partition)],
    schema: &[(String, DataType)],
) -> Vec<(String, DataType)> {
    let mut names: Vec<&str> = Vec::new();
    for (_, partition) in files {
        for (name, _) in partition.iter() {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
        .into_iter()
        .map(|name| {
            let dtype = match schema.iter().find(|(n, _)| n == name) {
                Some((_, dtype)) => dtype.clone(),
                None => hive::infer_dtype(files.iter().map(|(_, p)| p.get(name))),
            };
            (name.to_owned(), dtype)
        })
        .collect()
}

/// `df` with a column for each partition column, holding the file's value (null where its
/// key has none), typed; a column of the file with a partition column's name is replaced.
fn with_partition_columns(
    mut df: DataFrame,
    partition: &Partition,
    columns: &[(String, DataType)],
) -> Result<DataFrame> {
    let height = df.height();
    for (name, dtype) in columns {
        let value = partition.get(name);
        let text = Column::new(name.as_str().into(), vec![value; height]);
        let typed = text.strict_cast(dtype).map_err(|e| {
            Error::new(
                ErrorKind::Decode,
                format!("partition value {name}={value:?} is not a {dtype}: {e}"),
            )
        })?;
        if df.column(name).is_ok() {
            df = df
                .drop(name)
                .map_err(|e| Error::new(ErrorKind::Decode, e.to_string()))?;
        }
        df.with_column(typed)
            .map_err(|e| Error::new(ErrorKind::Decode, e.to_string()))?;
    }
    Ok(df)
}

/// The stacked frame with partition columns last, then only the columns asked for, and at
/// most `n_rows` rows.
fn finish(
    df: DataFrame,
    partitions: &[(String, DataType)],
    options: &DatasetReadOptions,
) -> Result<DataFrame> {
    let is_partition = |name: &str| partitions.iter().any(|(n, _)| n == name);
    let order: Vec<String> = match &options.columns {
        Some(columns) => {
            if let Some(missing) = columns
                .iter()
                .find(|c| df.column(c).is_err() && !is_partition(c))
            {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "no column {missing:?} in the dataset; its columns are {:?}",
                        df.get_column_names()
                    ),
                ));
            }
            columns
                .iter()
                .filter(|c| df.column(c).is_ok())
                .cloned()
                .collect()
        }
        None => {
            let names = df.get_column_names();
            let data = names.iter().filter(|n| !is_partition(n.as_str()));
            let parts = partitions
                .iter()
                .map(|(n, _)| n)
                .filter(|n| df.column(n).is_ok());
            data.map(|n| n.to_string()).chain(parts.cloned()).collect()
        }
    };
    let df = df
        .select(order)
        .map_err(|e| Error::new(ErrorKind::Decode, e.to_string()))?;
    Ok(match options.n_rows {
        Some(n) => df.slice(0, n),
        None => df,
    })
}

/// docs/datasets.md's Rust examples, compiled as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../docs/datasets.md")]
pub struct DatasetsDoctests;
