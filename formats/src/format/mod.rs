//! File formats, chosen by the key's extension, with compression by a second suffix.
//!
//! Each format is one module here implementing the small [`Codec`] trait: bytes in, [`Data`]
//! out, and back. Codecs know nothing about S3. [`CODECS`] is the one place a format is
//! registered; the extensions it claims live in its own module. [`ObjectFormat`] puts the
//! compression of [`compression`] and the text encodings of [`encoding`] around a codec.
//!
//! What each extension downloads to and uploads from: the table in the README's "Formats"
//! section (its one copy).

use std::fmt;

use polars::prelude::DataFrame;

use crate::data::Data;
use crate::error::{Error, ErrorKind, Result};

pub(crate) mod codec;
pub(crate) mod compression;
pub(crate) mod csv;
pub(crate) mod encoding;
mod excel;
pub(crate) mod ipc;
pub(crate) mod json;
pub(crate) mod naming;
mod ndjson;
pub(crate) mod parquet;
pub(crate) mod pickle;
#[doc(hidden)]
pub mod table;
mod text;

use codec::Codec;
use compression::Compression;
use naming::{extension, media_type};

/// Every format s3io knows, in the order extensions are matched. The last one, text, is also
/// the fallback for keys whose extension no format claims.
static CODECS: &[&dyn Codec] = &[
    &csv::CSV,
    &csv::TSV,
    &ndjson::Ndjson,
    &parquet::Parquet,
    &ipc::Ipc,
    &excel::XLSX,
    &excel::XLSM,
    &excel::XLSB,
    &excel::XLS,
    &excel::ODS,
    &json::Json,
    &pickle::Pickle,
    &text::Text,
];

/// A file format: which codec reads and writes an object.
///
/// ```
/// use s3io_formats::Format;
///
/// assert_eq!(Format::from_key("2024/report.XLSX"), Format::EXCEL);
/// assert_eq!(Format::from_key("model.pickle").name(), "pickle");
/// assert_eq!(Format::from_key("README"), Format::TEXT);
/// // A compression suffix is not the format: see [`Compression::from_key`].
/// assert_eq!(Format::from_key("sales.csv.zst"), Format::CSV);
/// ```
#[derive(Clone, Copy)]
pub struct Format(&'static dyn Codec);

impl Format {
    /// Comma-separated values with a header row (`.csv`).
    pub const CSV: Format = Format(&csv::CSV);
    /// Tab-separated values with a header row (`.tsv`, `.tab`).
    pub const TSV: Format = Format(&csv::TSV);
    /// Newline-delimited JSON, one record per line (`.jsonl`, `.ndjson`).
    pub const NDJSON: Format = Format(&ndjson::Ndjson);
    /// Apache Parquet (`.parquet`, `.pq`).
    pub const PARQUET: Format = Format(&parquet::Parquet);
    /// Arrow IPC files, also known as Feather v2 (`.arrow`, `.feather`, `.ipc`); Arrow IPC
    /// streams are read too.
    pub const IPC: Format = Format(&ipc::Ipc);
    /// Excel workbooks (`.xlsx`).
    pub const EXCEL: Format = Format(&excel::XLSX);
    /// Macro-enabled Excel workbooks (`.xlsm`), read only.
    pub const XLSM: Format = Format(&excel::XLSM);
    /// Excel binary workbooks (`.xlsb`), read only.
    pub const XLSB: Format = Format(&excel::XLSB);
    /// Excel 97–2003 workbooks (`.xls`), read only.
    pub const XLS: Format = Format(&excel::XLS);
    /// OpenDocument spreadsheets (`.ods`) from LibreOffice, read only.
    pub const ODS: Format = Format(&excel::ODS);
    /// Every workbook format; [`Format::EXCEL`] is the one s3io writes.
    pub const WORKBOOKS: [Format; 5] = [
        Format::EXCEL,
        Format::XLSM,
        Format::XLSB,
        Format::XLS,
        Format::ODS,
    ];
    /// JSON documents (`.json`).
    pub const JSON: Format = Format(&json::Json);
    /// Python pickles of builtin values (`.pkl`, `.pickle`).
    pub const PICKLE: Format = Format(&pickle::Pickle);
    /// UTF-8 text: any other extension, or none.
    pub const TEXT: Format = Format(&text::Text);

    /// The format a key's extension selects, ignoring case and a compression suffix
    /// (`sales.csv.gz` is CSV). Keys with no extension, or one no format claims, are text.
    pub fn from_key(key: &str) -> Format {
        Format::from_key_extension(key).unwrap_or(Format::TEXT)
    }

    /// The format the key's extension (before any compression suffix) names, if any.
    pub fn from_key_extension(key: &str) -> Option<Format> {
        inner_extension(key).and_then(|ext| Format::from_extension(&ext))
    }

    /// The format a Content-Type names (`text/csv`, `application/vnd.apache.parquet`, ...),
    /// if any. Parameters such as `charset` are ignored.
    ///
    /// ```
    /// use s3io_formats::Format;
    ///
    /// assert_eq!(Format::from_content_type("text/csv; charset=utf-8"), Some(Format::CSV));
    /// assert_eq!(Format::from_content_type("application/octet-stream"), None);
    /// ```
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        let essence = media_type(content_type);
        // Says "bytes", which is what a pickle is uploaded as, but names no format.
        if essence == "application/octet-stream" || essence == "binary/octet-stream" {
            return None;
        }
        CODECS
            .iter()
            .find(|codec| {
                media_type(codec.content_type()) == essence
                    || codec.other_content_types().contains(&essence.as_str())
            })
            .map(|codec| Format(*codec))
    }

    /// The format registered for `ext` (without the dot, any case), if any.
    pub fn from_extension(ext: &str) -> Option<Format> {
        let ext = ext.to_ascii_lowercase();
        CODECS
            .iter()
            .find(|codec| codec.extensions().contains(&ext.as_str()))
            .map(|codec| Format(*codec))
    }

    /// Every registered format.
    pub fn all() -> impl Iterator<Item = Format> {
        CODECS.iter().map(|codec| Format(*codec))
    }

    /// The short name, e.g. `csv`.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The extensions, lower case and without the dot, that select this format.
    pub fn extensions(self) -> &'static [&'static str] {
        self.0.extensions()
    }

    /// The Content-Type set on uploads in this format.
    pub fn content_type(self) -> &'static str {
        self.0.content_type()
    }

    /// The codec that reads and writes this format.
    pub(crate) fn codec(self) -> &'static dyn Codec {
        self.0
    }
}

/// Conversions of [`Data`] that only the formats know: tables in JSON and pickles into frames,
/// pickled values into JSON.
impl Data {
    /// The data as a frame. JSON and pickles become frames when they hold a list of records
    /// (`[{"a": 1}, ...]`) or a dict of equal-length columns (`{"a": [1, 2]}`), which is what
    /// pandas' `to_json(orient="records")` and `df.to_dict("list")` produce.
    pub fn into_frame(self) -> Result<DataFrame> {
        match self {
            Data::Frame(df) => Ok(df),
            Data::Json(value) => json::frame_from_held(&value),
            Data::Pickle(value) => pickle::frame_from_held(&value),
            other => Err(Error::new(
                ErrorKind::Unsupported,
                format!("{} cannot become a frame", other.kind_name()),
            )),
        }
    }

    /// The data as a JSON value. Pickle values convert when JSON can hold them.
    pub fn into_json(self) -> Result<serde_json::Value> {
        match self {
            Data::Json(value) => Ok(value),
            Data::Pickle(value) => pickle::value_to_json(value),
            other => Err(Error::new(
                ErrorKind::Unsupported,
                format!("{} is not a JSON value", other.kind_name()),
            )),
        }
    }
}

/// The context only the format registry can add to an [`Error`].
impl Error {
    /// Sets the bucket and key, unless they are set already. The format and compression follow
    /// from the key's extensions unless a format is set already.
    pub fn with_location(self, bucket: &str, key: &str) -> Self {
        let e = self.with_prefix(bucket, key);
        if key.is_empty() || e.format().is_some() {
            return e;
        }
        let e = e.with_format(Format::from_key(key));
        match Compression::from_key(key) {
            Some(c) => e.with_compression(c),
            None => e,
        }
    }

    /// Sets the format, replacing the one guessed from the key.
    pub fn with_format(self, format: Format) -> Self {
        self.with_format_name(format.name())
    }

    /// Sets the compression around the format, shown as in `csv+gz`.
    pub fn with_compression(self, compression: Compression) -> Self {
        self.with_compression_name(compression.extension())
    }
}

/// The extension of `key` before a compression suffix: `csv` for `a.csv.gz` and `a.csv`.
fn inner_extension(key: &str) -> Option<String> {
    let ext = extension(key)?;
    if Compression::from_extension(&ext).is_none() {
        return Some(ext);
    }
    extension(&key[..key.len() - ext.len() - 1])
}

impl PartialEq for Format {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Format {}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Format({})", self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_select_formats() {
        assert_eq!(extension("a/b.CSV").as_deref(), Some("csv"));
        assert_eq!(extension("dir.v2/notes"), None);
        assert_eq!(extension(".hidden"), None);
        assert_eq!(extension("trailing."), None);
        assert_eq!(Format::from_key("x.PKL"), Format::PICKLE);
        assert_eq!(Format::from_key("x.json"), Format::JSON);
        assert_eq!(Format::from_key("x.log"), Format::TEXT);
        assert_eq!(Format::from_key("a/b.CSV.GZ"), Format::CSV);
        assert_eq!(Format::from_key("events.jsonl.zst"), Format::NDJSON);
        assert_eq!(Format::from_key("x.gz"), Format::TEXT);
        assert_eq!(Format::from_key("dir.csv/x.gz"), Format::TEXT);
        assert_eq!(Compression::from_key("x.tsv.bz2"), Some(Compression::Bzip2));
        assert_eq!(Compression::from_key("x.tsv"), None);
    }

    #[test]
    fn content_types_select_formats() {
        for format in Format::all().filter(|f| *f != Format::PICKLE) {
            assert_eq!(
                Format::from_content_type(format.content_type()),
                Some(format),
                "{format}"
            );
        }
        assert_eq!(Format::from_content_type(" Text/TSV "), None);
        assert_eq!(
            Format::from_content_type("text/tab-separated-values"),
            Some(Format::TSV)
        );
    }

    #[test]
    fn every_extension_belongs_to_one_format() {
        let mut seen = std::collections::HashSet::new();
        for format in Format::all() {
            for ext in format.extensions() {
                assert!(seen.insert(*ext), "{ext} registered twice");
            }
        }
    }
}
