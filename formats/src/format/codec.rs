//! What a format module implements ([`Codec`]), and the errors codecs share.
//!
//! A codec turns bytes into [`Data`] and back, told only its [`ReadSettings`] or
//! [`WriteSettings`]; it knows nothing about S3, keys or the registry that lists it.

use bytes::Bytes;
use polars::prelude::DataFrame;

use crate::data::Data;
use crate::error::{Error, ErrorKind, Result};
use crate::settings::{ReadSettings, Sheets, WriteSettings};

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
    fn decode(&self, bytes: Bytes, options: &ReadSettings) -> Result<Data>;
    /// Decodes a whole object into a frame.
    fn decode_frame(&self, bytes: Bytes, options: &ReadSettings) -> Result<DataFrame> {
        self.decode(bytes, options)?.into_frame()
    }
    /// Decodes every sheet of a workbook.
    fn decode_sheets(&self, _bytes: Bytes, _options: &ReadSettings) -> Result<Sheets> {
        Err(not_a_workbook(self.name()))
    }
    /// A decoder that takes the object in parts, in order, as they arrive, when this format
    /// and `options` allow one (see [`DecodeParts`]), decoding what [`Codec::decode_frame`]
    /// or [`Codec::decode`] gives, as `into` says; `None` when the object is to be decoded
    /// whole.
    fn part_decoder(
        &'static self,
        _options: &ReadSettings,
        _into: PartsInto,
    ) -> Option<Box<dyn DecodeParts>> {
        None
    }
    /// Encodes `data` into one buffer.
    fn encode(&self, data: &Data, options: &WriteSettings) -> Result<Vec<u8>>;
    /// Whether [`Codec::encode_to`] writes as it encodes, so that an upload can send the
    /// first bytes before the last are encoded.
    fn writes_in_parts(&self) -> bool {
        false
    }
    /// Encodes `data` into `out`; by default, into one buffer first.
    fn encode_to(
        &self,
        data: &Data,
        options: &WriteSettings,
        out: &mut dyn std::io::Write,
    ) -> Result<()> {
        hand_on(&self.encode(data, options)?, out)
    }
    /// Encodes frames as the sheets of one workbook.
    fn encode_sheets(
        &self,
        _sheets: &[(String, DataFrame)],
        _options: &WriteSettings,
    ) -> Result<Vec<u8>> {
        Err(not_a_workbook(self.name()))
    }
}

/// [`Codec::encode`] for a codec that writes as it encodes ([`Codec::writes_in_parts`]):
/// its [`Codec::encode_to`] into one buffer.
pub(crate) fn encode_into_buffer<C: Codec + ?Sized>(
    codec: &C,
    data: &Data,
    options: &WriteSettings,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    codec.encode_to(data, options, &mut out)?;
    Ok(out)
}

/// Writes encoded bytes to `out`.
pub(crate) fn hand_on(body: &[u8], out: &mut dyn std::io::Write) -> Result<()> {
    out.write_all(body).map_err(|e| {
        Error::new(
            ErrorKind::Encode,
            format!("cannot hand the encoded bytes on: {e}"),
        )
    })
}

/// Decodes an object from its bytes given in parts, in order, while later parts are still
/// on their way: what lets a download parse while it transfers. What it gives is what
/// decoding the whole object gives, or nothing: where the parts cannot promise that, the
/// decoder says so, and the caller decodes the whole object instead.
pub(crate) trait DecodeParts: Send {
    /// Takes the next part; [`Fed::WholeObject`] when the object is to be decoded whole.
    fn push(&mut self, part: Bytes) -> Result<Fed>;
    /// The decoded object, after the last part; `None` when it is to be decoded whole.
    fn finish(self: Box<Self>) -> Result<Option<Data>>;
}

/// What a [`DecodeParts`] is to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PartsInto {
    /// A frame, as [`Codec::decode_frame`] gives.
    Frame,
    /// What [`Codec::decode`] gives.
    Data,
}

/// What a [`DecodeParts`] says after a part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fed {
    /// Send the next part.
    More,
    /// Stop: decode the whole object instead.
    WholeObject,
}

fn not_a_workbook(name: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!("{name} has no sheets; only workbooks (xlsx, xlsm, xlsb, xls, ods) do"),
    )
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

/// The error of a polars reader: a column asked for that the data lacks is the caller's
/// mistake (`InvalidInput`); anything else is a [`decode_error`].
pub(crate) fn read_error(what: &str, e: polars::prelude::PolarsError) -> Error {
    match e {
        polars::prelude::PolarsError::ColumnNotFound(name) => Error::new(
            ErrorKind::InvalidInput,
            format!("cannot select the columns: no column {name}"),
        ),
        e => decode_error(what, e),
    }
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
            .decode_frame(bytes.into(), &ReadSettings::default())
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert!(err.message().contains(says), "should say {says:?}: {err}");
    }
}
