//! # s3io: S3 as a data scientist's own disk
//!
//! Name a bucket and a key; s3io fetches the object, looks at the key's extension and hands
//! back a polars [`DataFrame`](polars::prelude::DataFrame) or a value. Going the other way, it
//! encodes a frame or value in the format the key asks for and uploads it.
//!
//! The `s3io` command (`ls`, `cat`, `head`, `schema`, `cp`, `convert`, `rm`, `presign`,
//! `whoami`, `mb`, `rb`) is a thin layer over this API, in the crate `s3io-cli`; the formats
//! alone, without S3, are the crate [`s3io_formats`].
//!
//! ## A tour
//!
//! Connect with the same configuration the AWS CLI uses ([`S3Connector::from_env`]), or set
//! region, endpoint and credentials yourself ([`S3Connector::builder`]). This tour runs
//! against the embedded server of `local::LocalS3` (feature `local-server`), so it needs no
//! AWS account:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> s3io::Result<()> {
//! use polars::prelude::*;
//! use s3io::{Data, ErrorKind};
//!
//! let server = s3io::local::LocalS3::start()?;
//! let s3 = server.connect().await?;     // or S3Connector::from_env().await?
//! s3.create_bucket("lab").await?;
//!
//! // A frame goes up as CSV, Excel, JSON records or a pickled dict of columns...
//! let df = df!("city" => ["Oslo", "Lima"], "temp" => [4.5, 19.0]).unwrap();
//! s3.upload("lab", "weather.csv", &df).await?;
//! s3.upload("lab", "weather.xlsx", &df).await?;
//!
//! // ...and comes back as a frame.
//! let back = s3.download_frame("lab", "weather.xlsx").await?;
//! assert!(back.equals(&df));
//!
//! // Values: JSON, pickles of Python builtins, text.
//! s3.upload("lab", "cfg.json", &serde_json::json!({"threads": 8})).await?;
//! let cfg = s3.download_json("lab", "cfg.json").await?;
//! assert_eq!(cfg["threads"], 8);
//! s3.upload("lab", "notes.txt", "remember the milk").await?;
//!
//! // `download` returns whatever the extension says.
//! match s3.download("lab", "notes.txt").await? {
//!     Data::Text(text) => assert_eq!(text, "remember the milk"),
//!     other => panic!("expected text, got {}", other.kind_name()),
//! }
//!
//! // Errors say what failed, where, and why; S3's code and request id are kept.
//! let err = s3.download("lab", "missing.csv").await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::NotFound);
//! assert!(err.to_string().starts_with("download s3://lab/missing.csv (csv): NoSuchKey"));
//! # Ok(()) }
//! ```
//!
//! ## Object operations
//!
//! What boto3 and awswrangler users reach for: listings as streams or frames, globs, many
//! keys at once, deletes, server-side copies, buckets, waiters and presigned URLs. Versions
//! ([`S3Connector::list_versions`], [`S3Object::version`]) and [`S3Connector::whoami`] work
//! the same way against servers that support them.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> s3io::Result<()> {
//! use std::time::Duration;
//! use futures_util::TryStreamExt;
//! use polars::prelude::*;
//! use s3io::{DeleteOptions, ListOptions, ManyOptions, Wait};
//!
//! # let server = s3io::local::LocalS3::start()?;
//! # let s3 = server.connect().await?;
//! s3.create_bucket("lake").await?;
//! for month in ["01", "02", "03"] {
//!     let df = df!("month" => [month], "sales" => [100i64]).unwrap();
//!     s3.upload("lake", &format!("sales/2024-{month}/part-0.csv"), &df).await?;
//! }
//!
//! // Listings page transparently; filter them, or take them as a polars frame.
//! let csvs: Vec<s3io::ObjectInfo> = s3
//!     .list_objects_with("lake", "sales/", ListOptions::new().suffix(".csv"))
//!     .try_collect()
//!     .await?;
//! assert_eq!(csvs.len(), 3);
//! assert_eq!(s3.list_frame("lake", "sales/").await?.height(), 3);
//! assert_eq!(s3.list_dirs("lake", "sales/").await?.len(), 3);
//!
//! // A glob lists only its literal prefix, then matches; many keys become one frame.
//! let q1 = s3
//!     .download_many_with("lake", "sales/2024-0[12]/*.csv", ManyOptions::new().include_file_paths("file"))
//!     .await?;
//! assert_eq!(q1.shape(), (2, 3));
//!
//! // Metadata, server-side copies and renames, s3:// URIs.
//! assert!(s3.exists("lake", "sales/2024-01/part-0.csv").await?);
//! s3.copy("lake", "sales/2024-01/part-0.csv", "lake", "backup/jan.csv").await?;
//! s3.rename("lake", "backup/jan.csv", "lake", "backup/2024-01.csv").await?;
//! let meta = s3.object_at("s3://lake/backup/2024-01.csv")?.head().await?;
//! assert_eq!(meta.content_type.as_deref(), Some("text/csv; charset=utf-8"));
//!
//! // Waiters poll like boto3's; presigned URLs work with any HTTP client.
//! let quick = Wait { delay: Duration::from_millis(50), max_attempts: 10 };
//! s3.wait_for_object("lake", "backup/2024-01.csv", quick).await?;
//! let url = s3.presign_get("lake", "backup/2024-01.csv", Duration::from_secs(600)).await?;
//! assert!(url.as_str().contains("X-Amz-Signature"));
//!
//! // Deletes batch 1,000 keys a request; a dry run says what would go.
//! let would = s3.delete_prefix_with("lake", "sales/", DeleteOptions::new().dry_run(true)).await?;
//! assert_eq!(would.len(), 3);
//! assert_eq!(s3.delete_prefix("lake", "sales/").await?.len(), 3);
//! # Ok(()) }
//! ```
//!
//! ## Formats
//!
//! The key's last extension, in any case, picks the [`Format`]; a compression suffix after it
//! picks a [`Compression`] around it:
//!
//! The table of what each extension downloads to and uploads from is in the README's
//! "Formats" section, its one copy.
//!
//! [`Data::Bytes`] upload unchanged under any key. Decompression stops with an
//! [`ErrorKind::LimitExceeded`] error past 100 times the object's size (at least 64 MiB), or
//! the limit you set with [`ReadOptions::max_decompressed_size`]. [`Limits`] bound everything
//! decoding a download may cost: its size, decompression, what decoding produces (one output
//! budget per call), sheet cells, pickle nesting. Text formats honour a UTF-8 or UTF-16
//! byte-order mark, and read Latin-1 or Windows-1252 when asked ([`Encoding`]).
//!
//! ## Options per call
//!
//! [`S3Connector::download_with`] and [`S3Connector::upload_with`] take [`ReadOptions`] and
//! [`WriteOptions`]: CSV separators, null values, dtype overrides, header rows, sheets, text
//! encodings, a format for keys with no or a misleading extension, and Excel styling.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> s3io::Result<()> {
//! use polars::prelude::*;
//! use s3io::{Format, ReadOptions, WriteOptions};
//!
//! let server = s3io::local::LocalS3::start()?;
//! let s3 = server.connect().await?;
//! s3.create_bucket("lab").await?;
//! let df = df!("zip" => ["01234", "98765"], "n" => [1i64, 2]).unwrap();
//!
//! // Compressed by suffix, with a European separator.
//! s3.upload_with("lab", "out/zips.csv.gz", &df, WriteOptions::csv().separator(b';')).await?;
//! let options = ReadOptions::csv()
//!     .separator(b';')
//!     .schema_overrides([("zip", DataType::String)]);
//! let back = s3.download_with("lab", "out/zips.csv.gz", options).await?.into_frame()?;
//! assert!(back.equals(&df));
//!
//! // Columnar formats keep dtypes; a key without extension names its format in the options.
//! s3.upload_with("lab", "snapshot", &df, WriteOptions::new().format(Format::PARQUET)).await?;
//! let snap = s3.download_with("lab", "snapshot", ReadOptions::new().format(Format::PARQUET));
//! assert!(snap.await?.into_frame()?.equals(&df));
//!
//! // Workbooks with several sheets, in order.
//! s3.upload_sheets("lab", "book.xlsx", [("Zips", &df), ("Again", &df)]).await?;
//! let sheets = s3.download_sheets("lab", "book.xlsx").await?;
//! assert_eq!(sheets.keys().collect::<Vec<_>>(), ["Zips", "Again"]);
//! # Ok(()) }
//! ```
//!
//! A pickle never runs code here: one that names a Python global (`os.system`,
//! `pandas.DataFrame`) is refused with an [`ErrorKind::Unsupported`] error that names it.
//!
//! ## Transfers, limits, scripts and notebooks
//!
//! Large objects move in parallel parts ([`TransferConfig`]): ranged GETs pinned to one ETag
//! and resumed where a body broke off, multipart uploads aborted on failure, files in and out
//! with bounded memory ([`S3Connector::download_to_path`], [`S3Connector::download_dir`]).
//! [`Limits`] bound what decoding an untrusted object may cost. [`blocking::S3Connector`] has
//! every method without `async`, for scripts and Jupyter notebooks (evcxr), where [`Data`],
//! [`Listing`] and [`ObjectMeta`] show as HTML tables.
//!
//! ```
//! # fn main() -> s3io::Result<()> {
//! use s3io::{Limits, TransferConfig};
//!
//! let server = s3io::local::LocalS3::start()?;
//! let s3 = s3io::blocking::S3Connector::new(
//!     server.builder().transfer(TransferConfig::new().concurrency(16)).limits(Limits::new().max_pickle_depth(200)),
//! )?;
//! s3.create_bucket("scripts")?;
//! s3.upload("scripts", "hello.txt.gz", "compressed on the way up")?;
//! assert_eq!(s3.download_text("scripts", "hello.txt.gz")?, "compressed on the way up");
//! # Ok(()) }
//! ```
//!
//! ## Reading less, and lazily
//!
//! A Parquet object's [`S3Object::schema`] comes from its footer alone; `columns` and
//! `n_rows` of [`ReadOptions::parquet`], [`ReadOptions::ipc`], [`ReadOptions::csv`] and
//! [`ReadOptions::ndjson`] fetch only the byte ranges or the prefix that hold them. With the
//! feature `lazy`, `S3Connector::scan_parquet` (and `scan_csv`, `scan_ndjson`, `scan_ipc`)
//! hands polars' lazy and streaming engines a scan with the connector's credentials,
//! endpoint and profile, and `sink_parquet` writes a result larger than memory
//! (docs/lazy.md).
//!
//! ## Errors
//!
//! Every call returns [`Result`]; an [`Error`] has a [`kind`](Error::kind) to match on and
//! names the [`Operation`], bucket, key and format. Decoder panics on hostile bytes come back
//! as [`ErrorKind::Decode`] errors instead of unwinding into your code.

#![warn(missing_docs)]

mod admin;
pub mod blocking;
mod connector;
mod dataset;
mod dirs;
mod in_parts;
#[cfg(feature = "lazy")]
mod lazy;
mod list;
mod listing;
mod location;
mod many;
mod object;
mod read_less;
mod sdk_error;
mod session;
mod transfer;

#[cfg(feature = "local-server")]
pub mod local;

pub use admin::{CallerIdentity, CopyOptions, DeleteOptions, PresignedUrl, Wait};
pub use connector::S3Connector;
pub use dataset::{
    DatasetMode, DatasetOptions, DatasetReadOptions, DatasetWrite, HIVE_NULL, Partition,
};
pub use dirs::safe_join;
pub use list::ListOptions;
pub use listing::{
    BucketInfo, Listing, ObjectInfo, ObjectMeta, Row, VersionInfo, human_size, utc_time,
};
pub use location::{KeyPattern, S3Uri};
pub use many::ManyOptions;
pub use object::S3Object;
pub use session::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_REGION, S3ConnectorBuilder};
pub use transfer::{
    Checksum, Encryption, FolderProgress, PayloadSigning, Progress, ProgressFn, TransferConfig,
    UploadInfo, UploadOptions,
};

/// The formats, on their own: the crate `s3io-formats`, which knows nothing about S3.
pub use s3io_formats as formats;
pub use s3io_formats::{
    Compression, CsvReadOptions, CsvWriteOptions, Data, Encoding, Error, ErrorKind,
    ExcelReadOptions, ExcelWriteOptions, Format, IpcReadOptions, Limits, NdjsonReadOptions,
    ObjectFormat, Operation, ParquetReadOptions, PickleLayout, PickleValue, PickleWriteOptions,
    PyTimeZone, ReadOptions, Result, Sheets, WriteOptions,
};

/// The polars version s3io is built with, re-exported so your frames match its frames.
pub use polars;

/// The README's programs, compiled as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// docs/servers.md's settings, compiled as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../docs/servers.md")]
pub struct ServersDoctests;
