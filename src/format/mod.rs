//! File formats, chosen by the key's extension.
//!
//! Each format is one module here implementing the small [`Codec`] trait: bytes in, [`Data`]
//! out, and back. Codecs know nothing about S3. [`CODECS`] is the one place a format is
//! registered; the extensions it claims live in its own module.
//!
//! | extension | download gives | upload accepts |
//! |---|---|---|
//! | `.csv` | [`Data::Frame`] | a frame |
//! | `.xlsx` | [`Data::Frame`] from the first sheet | a frame |
//! | `.json` | [`Data::Json`] | a JSON value, a pickle value, a frame (as records) |
//! | `.pkl`, `.pickle` | [`Data::Pickle`] | a pickle value, a JSON value, text, a frame (as a dict of lists) |
//! | anything else | [`Data::Text`] | text |
//!
//! [`Data::Bytes`] upload unchanged under any extension.

use std::fmt;

use bytes::Bytes;
use polars::prelude::DataFrame;

use crate::data::Data;
use crate::error::{Error, ErrorKind, Operation, Result};

mod csv;
mod excel;
pub(crate) mod json;
pub(crate) mod pickle;
pub(crate) mod table;
mod text;

/// Every format s3io knows, in the order extensions are matched. The last one, text, is also
/// the fallback for keys whose extension no format claims.
static CODECS: &[&dyn Codec] = &[
    &csv::Csv,
    &excel::Excel,
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
    /// Decodes a whole object.
    fn decode(&self, bytes: Bytes) -> Result<Data>;
    /// Decodes a whole object into a frame.
    fn decode_frame(&self, bytes: Bytes) -> Result<DataFrame> {
        self.decode(bytes)?.into_frame()
    }
    /// Encodes `data` into one buffer.
    fn encode(&self, data: &Data) -> Result<Vec<u8>>;
}

/// A file format: which codec reads and writes an object.
///
/// ```
/// use s3io::Format;
///
/// assert_eq!(Format::from_key("2024/report.XLSX"), Format::EXCEL);
/// assert_eq!(Format::from_key("model.pickle").name(), "pickle");
/// assert_eq!(Format::from_key("README"), Format::TEXT);
/// ```
#[derive(Clone, Copy)]
pub struct Format(&'static dyn Codec);

impl Format {
    /// Comma-separated values with a header row (`.csv`).
    pub const CSV: Format = Format(&csv::Csv);
    /// Excel workbooks (`.xlsx`).
    pub const EXCEL: Format = Format(&excel::Excel);
    /// JSON documents (`.json`).
    pub const JSON: Format = Format(&json::Json);
    /// Python pickles of builtin values (`.pkl`, `.pickle`).
    pub const PICKLE: Format = Format(&pickle::Pickle);
    /// UTF-8 text: any other extension, or none.
    pub const TEXT: Format = Format(&text::Text);

    /// The format a key's extension selects, ignoring case. Keys with no extension, or one no
    /// format claims, are text.
    pub fn from_key(key: &str) -> Format {
        extension(key)
            .and_then(|ext| Format::from_extension(&ext))
            .unwrap_or(Format::TEXT)
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
    /// use s3io::{Data, Format};
    ///
    /// let data = Format::CSV.decode("a,b\n1,x\n2,y\n").unwrap();
    /// let Data::Frame(df) = data else { panic!("a csv is a frame") };
    /// assert_eq!(df.shape(), (2, 2));
    /// ```
    pub fn decode(self, bytes: impl Into<Bytes>) -> Result<Data> {
        self.decode_data(bytes.into())
            .map_err(|e| e.with_operation(Operation::Decode))
    }

    /// Decodes bytes that are already in memory into a frame.
    pub fn decode_frame(self, bytes: impl Into<Bytes>) -> Result<DataFrame> {
        self.decode_frame_data(bytes.into())
            .map_err(|e| e.with_operation(Operation::Decode))
    }

    /// Encodes `data` into the bytes an upload in this format would carry.
    ///
    /// ```
    /// use s3io::{Data, Format};
    ///
    /// let bytes = Format::JSON.encode(&Data::from(serde_json::json!({"a": 1}))).unwrap();
    /// assert_eq!(bytes, br#"{"a":1}"#);
    /// ```
    pub fn encode(self, data: &Data) -> Result<Vec<u8>> {
        self.encode_data(data)
            .map_err(|e| e.with_operation(Operation::Encode))
    }

    /// Decodes without setting an operation, for callers that set their own.
    pub(crate) fn decode_data(self, bytes: Bytes) -> Result<Data> {
        guarded(|| self.0.decode(bytes)).map_err(|e| e.with_format(self))
    }

    /// Decodes into a frame without setting an operation.
    pub(crate) fn decode_frame_data(self, bytes: Bytes) -> Result<DataFrame> {
        guarded(|| self.0.decode_frame(bytes)).map_err(|e| e.with_format(self))
    }

    /// Encodes without setting an operation. Bytes pass through unchanged in every format.
    pub(crate) fn encode_data(self, data: &Data) -> Result<Vec<u8>> {
        match data {
            Data::Bytes(b) => Ok(b.to_vec()),
            _ => guarded(|| self.0.encode(data)).map_err(|e| e.with_format(self)),
        }
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
            format!("the decoder failed on this input: {what}"),
        ))
    })
}

/// The lower-case extension of the last path segment of `key`, without the dot.
pub(crate) fn extension(key: &str) -> Option<String> {
    let name = key.rsplit('/').next().unwrap_or(key);
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
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

/// A decode error with the decoder's own message.
pub(crate) fn decode_error(
    what: &str,
    source: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    Error::new(ErrorKind::Decode, format!("{what}: {source}")).with_source(source)
}

/// An encode error with the encoder's own message.
pub(crate) fn encode_error(
    what: &str,
    source: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    Error::new(ErrorKind::Encode, format!("{what}: {source}")).with_source(source)
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
