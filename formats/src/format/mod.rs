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

use bytes::Bytes;
use polars::prelude::DataFrame;

use crate::data::Data;
use crate::error::{Error, ErrorKind, Operation, Result};
use crate::limits::OutputBudget;
use crate::options::{ReadOptions, Sheets, WriteOptions};

pub(crate) mod compression;
mod csv;
pub(crate) mod encoding;
mod excel;
mod ipc;
pub(crate) mod json;
mod ndjson;
mod parquet;
pub(crate) mod pickle;
#[doc(hidden)]
pub mod table;
mod text;

pub use compression::Compression;
pub use encoding::Encoding;

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

/// What a format module implements: decoding bytes into [`Data`] and encoding it back.
pub(crate) trait Codec: Sync {
    /// The short name shown in messages, e.g. `csv`.
    fn name(&self) -> &'static str;
    /// The lower-case extensions, without the dot, that select this format.
    fn extensions(&self) -> &'static [&'static str];
    /// The Content-Type uploads get.
    fn content_type(&self) -> &'static str;
    /// Other media types (without parameters) that name this format in a Content-Type.
    fn other_content_types(&self) -> &'static [&'static str] {
        &[]
    }
    /// Whether the format is text, so that byte-order marks and [`Encoding`]s apply.
    fn is_text(&self) -> bool {
        false
    }
    /// How many times its size an object in this format may decode to by default (see
    /// [`Limits::max_decoded_size`](crate::Limits::max_decoded_size)).
    fn output_ratio(&self) -> u64 {
        crate::limits::Limits::DECODED_MAX_RATIO
    }
    /// Decodes a whole object.
    fn decode(&self, bytes: Bytes, options: &ReadOptions) -> Result<Data>;
    /// Decodes a whole object into a frame.
    fn decode_frame(&self, bytes: Bytes, options: &ReadOptions) -> Result<DataFrame> {
        self.decode(bytes, options)?.into_frame()
    }
    /// Decodes every sheet of a workbook.
    fn decode_sheets(&self, _bytes: Bytes, _options: &ReadOptions) -> Result<Sheets> {
        Err(not_a_workbook(self.name()))
    }
    /// Encodes `data` into one buffer.
    fn encode(&self, data: &Data, options: &WriteOptions) -> Result<Vec<u8>>;
    /// Encodes frames as the sheets of one workbook.
    fn encode_sheets(
        &self,
        _sheets: &[(String, DataFrame)],
        _options: &WriteOptions,
    ) -> Result<Vec<u8>> {
        Err(not_a_workbook(self.name()))
    }
}

fn not_a_workbook(name: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!("{name} has no sheets; only workbooks (xlsx, xlsm, xlsb, xls, ods) do"),
    )
}

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

    /// Decodes bytes that are already in memory.
    ///
    /// ```
    /// use s3io_formats::{Data, Format};
    ///
    /// let data = Format::CSV.decode("a,b\n1,x\n2,y\n").unwrap();
    /// let Data::Frame(df) = data else { panic!("a csv is a frame") };
    /// assert_eq!(df.shape(), (2, 2));
    /// ```
    pub fn decode(self, bytes: impl Into<Bytes>) -> Result<Data> {
        self.decode_with(bytes, ReadOptions::default())
    }

    /// Decodes bytes that are already in memory with `options` (any kind of read options, or
    /// a reference to them). There is no key, so only a
    /// [`ReadOptions::compression`] set explicitly decompresses.
    pub fn decode_with(
        self,
        bytes: impl Into<Bytes>,
        options: impl Into<ReadOptions>,
    ) -> Result<Data> {
        let options = &options.into();
        self.with_compression(options.compression.flatten())
            .decode(bytes.into(), options)
            .map_err(|e| e.with_operation(Operation::Decode))
    }

    /// Decodes bytes that are already in memory into a frame.
    pub fn decode_frame(self, bytes: impl Into<Bytes>) -> Result<DataFrame> {
        self.decode_frame_with(bytes, ReadOptions::default())
    }

    /// Decodes bytes that are already in memory into a frame, with `options`; as
    /// [`decode_with`](Self::decode_with), only a [`ReadOptions::compression`] set explicitly
    /// decompresses.
    pub fn decode_frame_with(
        self,
        bytes: impl Into<Bytes>,
        options: impl Into<ReadOptions>,
    ) -> Result<DataFrame> {
        let options = &options.into();
        self.with_compression(options.compression.flatten())
            .decode_frame(bytes.into(), options)
            .map_err(|e| e.with_operation(Operation::Decode))
    }

    /// Decodes every sheet of a workbook that is already in memory, with `options`; one
    /// output budget covers them all.
    ///
    /// ```
    /// use s3io_formats::{Format, ReadOptions};
    ///
    /// let df = s3io_formats::polars::df!("a" => [1, 2])?;
    /// let book = Format::EXCEL.encode(&df.into())?;
    /// let sheets = Format::EXCEL.decode_sheets_with(book, &ReadOptions::new())?;
    /// assert_eq!(sheets["Sheet1"].shape(), (2, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn decode_sheets_with(
        self,
        bytes: impl Into<Bytes>,
        options: impl Into<ReadOptions>,
    ) -> Result<Sheets> {
        let options = &options.into();
        self.with_compression(options.compression.flatten())
            .decode_sheets(bytes.into(), options)
            .map_err(|e| e.with_operation(Operation::Decode))
    }

    /// Encodes `data` into the bytes an upload in this format would carry.
    ///
    /// ```
    /// use s3io_formats::{Data, Format};
    ///
    /// let bytes = Format::JSON.encode(&Data::from(serde_json::json!({"a": 1}))).unwrap();
    /// assert_eq!(bytes, br#"{"a":1}"#);
    /// ```
    pub fn encode(self, data: &Data) -> Result<Vec<u8>> {
        self.encode_with(data, WriteOptions::default())
    }

    /// Encodes `data` with `options`; only a [`WriteOptions::compression`] set explicitly
    /// compresses.
    pub fn encode_with(self, data: &Data, options: impl Into<WriteOptions>) -> Result<Vec<u8>> {
        let options = &options.into();
        self.with_compression(options.compression.flatten())
            .encode(data, options)
            .map_err(|e| e.with_operation(Operation::Encode))
    }

    /// This format inside `compression`.
    pub fn with_compression(self, compression: Option<Compression>) -> ObjectFormat {
        ObjectFormat {
            format: self,
            compression,
        }
    }
}

/// A format with the compression around it: how the bytes of one object become data, and
/// back. Errors name both, as in `csv+gz`.
///
/// ```
/// use s3io_formats::{Compression, Format, ObjectFormat, ReadOptions};
///
/// let chosen = ObjectFormat::for_read("sales/2024.csv.gz", None, &ReadOptions::new())?;
/// assert_eq!((chosen.format, chosen.compression), (Format::CSV, Some(Compression::Gzip)));
/// # Ok::<(), s3io_formats::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ObjectFormat {
    /// The format of the bytes once decompressed.
    pub format: Format,
    /// The compression around them, if any.
    pub compression: Option<Compression>,
}

impl ObjectFormat {
    /// The layers for reading `key`. The format is, in order: the options' format, the key's
    /// extension, the options' family, the Content-Type, text. The compression is the
    /// options', else the key's suffix, else the Content-Type's when the key names no format.
    pub fn for_read(
        key: &str,
        content_type: Option<&str>,
        options: &ReadOptions,
    ) -> Result<ObjectFormat> {
        let from_key = Format::from_key_extension(key);
        let format = options
            .format
            .or(from_key)
            .or(options.family.map(|f| f.default_format()))
            .or_else(|| content_type.and_then(Format::from_content_type))
            .unwrap_or(Format::TEXT);
        let compression = match options.compression {
            Some(compression) => compression,
            None => Compression::from_key(key).or_else(|| {
                from_key
                    .is_none()
                    .then(|| content_type.and_then(Compression::from_content_type))
                    .flatten()
            }),
        };
        options.check_family(format)?;
        Ok(format.with_compression(compression))
    }

    /// The layers for writing `key`: the options' format, else the key's extension, else the
    /// options' family, else text; the options' compression, else the key's suffix.
    pub fn for_write(key: &str, options: &WriteOptions) -> Result<ObjectFormat> {
        let format = options
            .format
            .or(Format::from_key_extension(key))
            .or(options.family.map(|f| f.default_format()))
            .unwrap_or(Format::TEXT);
        let compression = options
            .compression
            .unwrap_or_else(|| Compression::from_key(key));
        options.check_family(format)?;
        Ok(format.with_compression(compression))
    }

    /// The Content-Type of an upload: the compression's, else the format's.
    pub fn content_type(self) -> &'static str {
        match self.compression {
            Some(c) => c.content_type(),
            None => self.format.content_type(),
        }
    }

    /// Decompresses and decodes one object's bytes.
    pub fn decode(self, bytes: Bytes, options: &ReadOptions) -> Result<Data> {
        self.decoded(bytes, options, |codec, bytes, options| {
            codec.decode(bytes, options)
        })
    }

    /// Decompresses and decodes one object's bytes into a frame.
    pub fn decode_frame(self, bytes: Bytes, options: &ReadOptions) -> Result<DataFrame> {
        self.decoded(bytes, options, |codec, bytes, options| {
            codec.decode_frame(bytes, options)
        })
    }

    /// Decompresses and decodes every sheet of a workbook, under one output budget.
    pub fn decode_sheets(self, bytes: Bytes, options: &ReadOptions) -> Result<Sheets> {
        self.decoded(bytes, options, |codec, bytes, options| {
            codec.decode_sheets(bytes, options)
        })
    }

    /// Encodes, then compresses. Bytes pass through unchanged in every format.
    pub fn encode(self, data: &Data, options: &WriteOptions) -> Result<Vec<u8>> {
        match data {
            Data::Bytes(b) => Ok(b.to_vec()),
            _ => self.encoded(options, |codec| codec.encode(data, options)),
        }
    }

    /// Encodes frames as the sheets of one workbook, then compresses.
    pub fn encode_sheets(
        self,
        sheets: &[(String, DataFrame)],
        options: &WriteOptions,
    ) -> Result<Vec<u8>> {
        self.encoded(options, |codec| codec.encode_sheets(sheets, options))
    }

    /// Decompresses, turns text into UTF-8, then runs `decode` on the codec, guarded.
    fn decoded<T>(
        self,
        bytes: Bytes,
        options: &ReadOptions,
        decode: impl FnOnce(&dyn Codec, Bytes, &ReadOptions) -> Result<T>,
    ) -> Result<T> {
        let codec = self.format.0;
        // One output budget per call: a call that decodes several objects (or sheets) shares
        // the one it passes in; a single object gets its own.
        let budget = options
            .budget
            .clone()
            .unwrap_or_else(|| OutputBudget::new(&options.limits));
        budget.admit(bytes.len(), codec.output_ratio());
        let options = &ReadOptions {
            budget: Some(budget),
            ..options.clone()
        };
        guarded(|| {
            options.limits.check_object_size(bytes.len() as u64)?;
            let bytes = match self.compression {
                Some(c) => {
                    let limit = options.limits.decompression_limit(bytes.len());
                    Bytes::from(c.decompress(&bytes, limit)?)
                }
                None => bytes,
            };
            let bytes = if codec.is_text() {
                encoding::to_utf8(bytes, options.encoding)?
            } else {
                bytes
            };
            decode(codec, bytes, options)
        })
        .map_err(|e| self.label(e))
    }

    /// Runs `encode` on the codec, guarded, then compresses at the options' level.
    fn encoded(
        self,
        options: &WriteOptions,
        encode: impl FnOnce(&dyn Codec) -> Result<Vec<u8>>,
    ) -> Result<Vec<u8>> {
        guarded(|| {
            let body = encode(self.format.0)?;
            match self.compression {
                Some(c) => c.compress_at(
                    &body,
                    options.compression_level.unwrap_or(c.default_level()),
                ),
                None => Ok(body),
            }
        })
        .map_err(|e| self.label(e))
    }

    /// Names the format and compression in an error.
    fn label(self, e: Error) -> Error {
        let e = e.with_format(self.format);
        match self.compression {
            Some(c) => e.with_compression(c),
            None => e,
        }
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

/// Runs a codec, turning a panic inside a third-party decoder into a typed error.
fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        Err(Error::new(
            ErrorKind::Decode,
            // Panic messages such as assert_eq!'s run over several lines; keep the first.
            format!(
                "the decoder failed on this input: {}",
                what.lines().next().unwrap_or_default()
            ),
        ))
    })
}

/// The lower-case extension of the last path segment of `key`, without the dot.
pub(crate) fn extension(key: &str) -> Option<String> {
    let name = key.rsplit('/').next().unwrap_or(key);
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// The extension of `key` before a compression suffix: `csv` for `a.csv.gz` and `a.csv`.
fn inner_extension(key: &str) -> Option<String> {
    let ext = extension(key)?;
    if Compression::from_extension(&ext).is_none() {
        return Some(ext);
    }
    extension(&key[..key.len() - ext.len() - 1])
}

/// The lower-case media type of a Content-Type, without parameters.
pub(crate) fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
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

/// The error for a value a format cannot take, naming what it does take.
pub(crate) fn cannot_encode(data: &Data, format: &str, accepts: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "cannot write {} as {format}; {format} takes {accepts}",
            data.kind_name()
        ),
    )
}

/// A decode error with the first line of the decoder's own message (polars explains its
/// errors over several lines; `Debug` keeps them all).
pub(crate) fn decode_error(
    what: &str,
    source: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    let text = source.to_string();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    Error::new(ErrorKind::Decode, format!("{what}: {}", first.trim())).with_source(source)
}

/// An encode error with the encoder's own message.
pub(crate) fn encode_error(
    what: &str,
    source: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    Error::new(ErrorKind::Encode, format!("{what}: {source}")).with_source(source)
}

/// What the codecs' unit tests share.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A file of `fixtures/`, by its path there.
    pub(crate) fn fixture(path: &str) -> Bytes {
        // The fixtures live at the workspace root, beside the s3io crate.
        let path = format!("{}/../fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .into()
    }

    /// The error `codec` gives on `bytes` with the default options, which must be of `kind`
    /// and say `says`.
    pub(crate) fn refused(codec: &dyn Codec, bytes: impl Into<Bytes>, kind: ErrorKind, says: &str) {
        let err = codec
            .decode_frame(bytes.into(), &ReadOptions::new())
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert!(err.message().contains(says), "should say {says:?}: {err}");
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
