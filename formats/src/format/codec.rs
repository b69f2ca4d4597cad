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

/// About how many bytes of text a part decoder parses as one piece: small enough that the
/// last part's pieces are parsed on every core, large enough that what each piece costs
/// (a thread, its own columns to stack) stays small.
pub(crate) const PIECE_BYTES: usize = 2 << 20;

/// Pieces of one object parsed each on its own thread, as many at once as the machine has
/// cores, their results taken in the pieces' order: what lets a part decoder parse the
/// pieces that arrive faster than one core reads them.
pub(crate) struct PieceWorkers<T> {
    running: std::collections::VecDeque<std::thread::JoinHandle<T>>,
    at_once: usize,
}

impl<T: Send + 'static> PieceWorkers<T> {
    /// No pieces yet.
    pub(crate) fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        PieceWorkers {
            running: std::collections::VecDeque::new(),
            at_once: cores.max(2),
        }
    }

    /// Starts parsing a piece; the oldest piece's result, when as many are already running
    /// as may run at once.
    pub(crate) fn start(
        &mut self,
        parse: impl FnOnce() -> T + Send + 'static,
    ) -> Option<Result<T>> {
        self.running.push_back(std::thread::spawn(parse));
        (self.running.len() > self.at_once).then(|| self.oldest())
    }

    /// The results of the pieces still running, in order.
    pub(crate) fn finish(mut self) -> impl Iterator<Item = Result<T>> {
        std::iter::from_fn(move || (!self.running.is_empty()).then(|| self.oldest()))
    }

    fn oldest(&mut self) -> Result<T> {
        let worker = self.running.pop_front().expect("a piece is running");
        worker.join().map_err(|_| {
            Error::new(
                ErrorKind::Decode,
                "the decoder failed on this input: a piece's parser panicked",
            )
        })
    }
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

/// Runs `f`, giving the first line of its panic's message (`Err`) if it panics.
pub(crate) fn unless_it_panics<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        // Panic messages such as assert_eq!'s run over several lines; keep the first.
        what.lines().next().unwrap_or_default().to_owned()
    })
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

/// Part decoders, driven as a download drives them, for the formats' tests.
#[cfg(test)]
pub(crate) mod parts_for_tests {
    use super::{DecodeParts, Fed};
    use crate::data::Data;
    use crate::format::Format;
    use crate::{PartDecoder, ReadOptions};
    use bytes::Bytes;
    use polars::prelude::DataFrame;

    /// The frame a part decoder for `key` gives for `text` cut into parts of `size` bytes,
    /// or `None` where it asks for the whole object.
    pub(crate) fn frame_in_parts(
        key: &str,
        text: &[u8],
        size: usize,
    ) -> crate::Result<Option<DataFrame>> {
        let mut decoder =
            PartDecoder::new(key, &ReadOptions::new()).expect("the format decodes in parts");
        for part in text.chunks(size) {
            if !decoder.push(Bytes::copy_from_slice(part))? {
                return Ok(None);
            }
        }
        decoder.finish()
    }

    /// Asserts that `text`, cut into parts of every size, gives the frame decoding it whole
    /// gives, values and schema.
    pub(crate) fn assert_every_cut_gives_the_whole_frame(key: &str, text: &str) -> DataFrame {
        let whole = Format::from_key(key).decode_frame(text.to_owned()).unwrap();
        for size in 1..=text.len() {
            let df = frame_in_parts(key, text.as_bytes(), size).unwrap();
            let df = df.unwrap_or_else(|| panic!("{text}: parts of {size} bytes gave up"));
            assert!(
                df.equals_missing(&whole),
                "{text}: parts of {size} bytes:\n{df}\n{whole}"
            );
            assert_eq!(df.schema(), whole.schema(), "{text}: parts of {size} bytes");
        }
        whole
    }

    /// Asserts that `text` (without a byte-order mark), cut into parts of every size and
    /// read by `decoder(every)` in pieces of about `every` bytes for a few sizes, gives the
    /// frame decoding it whole gives.
    pub(crate) fn assert_every_piece_size_gives_the_whole_frame(
        key: &str,
        text: &str,
        decoder: impl Fn(usize) -> Box<dyn DecodeParts>,
    ) {
        let whole = Format::from_key(key).decode_frame(text.to_owned()).unwrap();
        for every in [1, 7, 40] {
            for size in 1..=text.len() {
                let mut parts = decoder(every);
                for part in text.as_bytes().chunks(size) {
                    let fed = parts.push(Bytes::copy_from_slice(part)).unwrap();
                    assert_eq!(fed, Fed::More, "{text}: parts of {size}, pieces of {every}");
                }
                let Some(Data::Frame(df)) = parts.finish().unwrap() else {
                    panic!("{text}: parts of {size}, pieces of {every}: no frame");
                };
                assert!(
                    df.equals_missing(&whole),
                    "{text}: parts of {size}, pieces of {every}:\n{df}\n{whole}"
                );
                assert_eq!(df.schema(), whole.schema(), "{text}: {size}, {every}");
            }
        }
    }
}
