//! s3io's file formats, on their own: bytes in, polars `DataFrame`s and values out, and back.
//!
//! Each format is one module of [`format`] implementing a small codec trait, registered on one
//! line; the key's extension picks it ([`Format::from_key`]), and a second suffix picks the
//! compression around it ([`Compression`]). Every decoder treats its bytes as hostile: it
//! scans what the file declares before a third-party reader allocates for it, and charges what
//! it builds to one output budget per call ([`Limits`]).
//!
//! This crate knows nothing about S3 and needs no async runtime: the `s3io` crate moves the
//! bytes and re-exports everything here. Use it alone to decode and encode bytes you already
//! hold, or to fuzz and benchmark the codecs.
//!
//! ```
//! use s3io_formats::{Data, Format};
//!
//! let Data::Frame(df) = Format::CSV.decode("a,b\n1,x\n2,y\n")? else { unreachable!() };
//! assert_eq!(df.shape(), (2, 2));
//! let bytes = Format::PARQUET.encode(&Data::Frame(df.clone()))?;
//! assert_eq!(Format::PARQUET.decode_frame(bytes)?, df);
//! # Ok::<(), s3io_formats::Error>(())
//! ```
//!
//! Inside, `error` is at the bottom, then `limits`, then the formats (`format/`: one module
//! per format, the registry, compression, text encodings), [`Data`], the options and the
//! display of data; see `docs/architecture.md` in the repository.

#![warn(missing_docs)]

mod data;
mod display;
mod error;
mod format;
mod limits;
mod object_format;
mod options;
mod settings;

pub use data::{Data, PickleValue, PyTimeZone};
pub use error::{Error, ErrorKind, Operation, Result};
pub use format::Format;
pub use format::compression::Compression;
pub use format::encoding::Encoding;
pub use limits::Limits;
pub use object_format::{ObjectFormat, PartDecoder};
pub use options::{
    CsvReadOptions, CsvWriteOptions, ExcelReadOptions, ExcelWriteOptions, IpcReadOptions,
    NdjsonReadOptions, ParquetReadOptions, PickleWriteOptions, ReadOptions, RowPrefix,
    WriteOptions,
};
pub use settings::{PickleLayout, Sheets};

/// The polars version the codecs are built with, re-exported so your frames match theirs.
pub use polars;

/// What the `s3io` crate shares with its formats beyond the public API: table helpers for
/// its listings, and the output budget its many-object calls share. Not a stable API.
#[doc(hidden)]
pub mod for_s3io {
    pub use crate::display::{evcxr_emit, html_table, text_table};
    pub use crate::format::ipc::footer::IpcFooter;
    pub use crate::format::parquet::footer::{ParquetFooter, ParquetPlan};
    pub use crate::format::table::{iso_date, iso_datetime};
    pub use crate::options::owned_sheets;
}
