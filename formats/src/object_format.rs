//! How the bytes of one object become data and back: a [`Format`] with the compression
//! around it ([`ObjectFormat`]), chosen from the key, the Content-Type and the call's
//! options, and the text encoding, output budget and panic guard around every codec.

use bytes::Bytes;
use polars::prelude::DataFrame;

use crate::data::Data;
use crate::error::{Error, ErrorKind, Operation, Result};
use crate::format::Format;
use crate::format::codec::{Codec, DecodeParts, Fed, PartsInto, hand_on, unless_it_panics};
use crate::format::compression::Compression;
use crate::format::encoding::{self, Encoding};
use crate::limits::{Limits, OutputBudget};
use crate::options::{ReadOptions, WriteOptions};
use crate::settings::{ReadSettings, Sheets};

/// Decoding and encoding in memory, with options.
impl Format {
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
            _ => self.encoded(options, |codec| codec.encode(data, &options.settings)),
        }
    }

    /// Whether [`ObjectFormat::encode_to`] writes `data` as it encodes it (a frame as CSV,
    /// TSV or Parquet, uncompressed), so that an upload can send its first part before the
    /// last row is encoded.
    pub fn encodes_in_parts(self, data: &Data) -> bool {
        self.compression.is_none()
            && self.format.codec().writes_in_parts()
            && matches!(data, Data::Frame(_))
    }

    /// Encodes `data` with `options` into `out`, as [`ObjectFormat::encode`] encodes it into
    /// one buffer. A writer that fails (an upload that stopped) stops the encoding.
    pub fn encode_to(
        self,
        data: &Data,
        options: &WriteOptions,
        out: &mut dyn std::io::Write,
    ) -> Result<()> {
        if !self.encodes_in_parts(data) {
            let body = self.encode(data, options)?;
            return hand_on(&body, out).map_err(|e| self.label(e));
        }
        guarded(ErrorKind::Encode, || {
            self.format.codec().encode_to(data, &options.settings, out)
        })
        .map_err(|e| self.label(e))
    }

    /// Encodes frames as the sheets of one workbook, then compresses.
    pub fn encode_sheets(
        self,
        sheets: &[(String, DataFrame)],
        options: &WriteOptions,
    ) -> Result<Vec<u8>> {
        self.encoded(options, |codec| {
            codec.encode_sheets(sheets, &options.settings)
        })
    }

    /// Decompresses, turns text into UTF-8, then runs `decode` on the codec, guarded.
    fn decoded<T>(
        self,
        bytes: Bytes,
        options: &ReadOptions,
        decode: impl FnOnce(&dyn Codec, Bytes, &ReadSettings) -> Result<T>,
    ) -> Result<T> {
        let codec = self.format.codec();
        // One output budget per call: a call that decodes several objects (or sheets) shares
        // the one it passes in; a single object gets its own.
        let limits = options.settings.limits;
        let budget = options
            .settings
            .budget
            .clone()
            .unwrap_or_else(|| OutputBudget::new(&limits));
        budget.admit(bytes.len(), codec.output_ratio());
        let settings = &ReadSettings {
            budget: Some(budget),
            ..options.settings.clone()
        };
        guarded(ErrorKind::Decode, || {
            limits.check_object_size(bytes.len() as u64)?;
            let bytes = match self.compression {
                Some(c) => {
                    let limit = limits.decompression_limit(bytes.len());
                    Bytes::from(c.decompress(&bytes, limit)?)
                }
                None => bytes,
            };
            let bytes = if codec.is_text() {
                encoding::to_utf8(bytes, options.encoding)?
            } else {
                bytes
            };
            decode(codec, bytes, settings)
        })
        .map_err(|e| self.label(e))
    }

    /// Runs `encode` on the codec, guarded, then compresses at the options' level.
    fn encoded(
        self,
        options: &WriteOptions,
        encode: impl FnOnce(&dyn Codec) -> Result<Vec<u8>>,
    ) -> Result<Vec<u8>> {
        guarded(ErrorKind::Encode, || {
            let body = encode(self.format.codec())?;
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
    pub(crate) fn label(self, e: Error) -> Error {
        let e = e.with_format(self.format);
        match self.compression {
            Some(c) => e.with_compression(c),
            None => e,
        }
    }
}

/// Runs a codec, turning a panic inside a third-party decoder into a typed error.
/// Decodes an object from its bytes given in parts, in order, while later parts are still
/// on their way. It gives the frame that decoding the
/// whole object with the same options gives, or says to decode the whole object instead
/// (text it cannot vouch for, a column type that must be inferred again from every row).
/// Each part is admitted to the call's output budget as it comes, and what decoding makes is
/// charged to it, as for a whole object.
///
/// ```
/// use s3io_formats::{Format, PartDecoder, ReadOptions};
///
/// let text = "a,b\n1,x\n2,y\n";
/// let mut decoder = PartDecoder::new("t.csv", &ReadOptions::new()).expect("CSV decodes in parts");
/// for part in text.as_bytes().chunks(5) {
///     assert!(decoder.push(bytes::Bytes::copy_from_slice(part))?);
/// }
/// let df = decoder.finish()?.expect("no reason to decode it whole");
/// assert_eq!(df, Format::CSV.decode_frame(text)?);
/// # Ok::<(), s3io_formats::Error>(())
/// ```
pub struct PartDecoder {
    format: ObjectFormat,
    inner: Box<dyn DecodeParts>,
    budget: OutputBudget,
    ratio: u64,
    limits: Limits,
    /// The bytes received so far, held to the limits' largest object.
    received: u64,
    /// The first bytes of a text object, held until there are enough to see a byte-order mark.
    start: Option<Vec<u8>>,
}

impl std::fmt::Debug for PartDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartDecoder")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl PartDecoder {
    /// A decoder that takes a plain (uncompressed, UTF-8) object at `key`, read with
    /// `options`, in parts as they arrive, and gives the frame [`ObjectFormat::decode_frame`]
    /// gives, when its format and the options allow one: CSV and TSV without `columns`,
    /// `n_rows`, `infer_schema_length` or skipped lines; NDJSON without `n_rows`; a JSON list
    /// of records without `columns` or `n_rows`; any pickle (its large payloads are kept
    /// in buffers of their own as they arrive, and the parts let go).
    pub fn new(key: &str, options: &ReadOptions) -> Option<PartDecoder> {
        Self::with_target(key, options, PartsInto::Frame)
    }

    /// A decoder like [`PartDecoder::new`] that gives what [`ObjectFormat::decode`] gives
    /// ([`PartDecoder::finish_data`]): for JSON, a top-level list as a
    /// [`Data::Json`] value.
    ///
    /// ```
    /// use s3io_formats::{Data, PartDecoder, ReadOptions};
    ///
    /// let mut decoder = PartDecoder::for_data("t.json", &ReadOptions::new()).expect("a list");
    /// for part in br#"[{"a": 1}, [2, 3], "x"]"#.chunks(4) {
    ///     assert!(decoder.push(bytes::Bytes::copy_from_slice(part))?);
    /// }
    /// let data = decoder.finish_data()?.expect("no reason to decode it whole");
    /// let Data::Json(value) = data else { panic!("JSON decodes to a value") };
    /// assert_eq!(value, serde_json::json!([{"a": 1}, [2, 3], "x"]));
    /// # Ok::<(), s3io_formats::Error>(())
    /// ```
    pub fn for_data(key: &str, options: &ReadOptions) -> Option<PartDecoder> {
        Self::with_target(key, options, PartsInto::Data)
    }

    fn with_target(key: &str, options: &ReadOptions, into: PartsInto) -> Option<PartDecoder> {
        let format = options.plain_format(key)?;
        if !matches!(options.encoding, None | Some(Encoding::Utf8)) {
            return None;
        }
        let codec = format.codec();
        let budget = options
            .settings
            .budget
            .clone()
            .unwrap_or_else(|| OutputBudget::new(&options.settings.limits));
        let settings = ReadSettings {
            budget: Some(budget.clone()),
            ..options.settings.clone()
        };
        Some(PartDecoder {
            format: format.with_compression(None),
            inner: codec.part_decoder(&settings, into)?,
            budget,
            ratio: codec.output_ratio(),
            limits: options.settings.limits,
            received: 0,
            start: codec.is_text().then(Vec::new),
        })
    }

    /// Takes the object's next part. `Ok(false)`: stop sending parts and decode the whole
    /// object instead.
    pub fn push(&mut self, part: Bytes) -> Result<bool> {
        self.received = self.received.saturating_add(part.len() as u64);
        self.limits
            .check_object_size(self.received)
            .map_err(|e| self.format.label(e))?;
        self.budget.admit(part.len(), self.ratio);
        let part = match self.start.take() {
            None => part,
            Some(mut start) => {
                start.extend_from_slice(&part);
                if start.len() < 3 {
                    self.start = Some(start);
                    return Ok(true);
                }
                match Self::without_bom(start) {
                    Some(part) => part,
                    None => return Ok(false),
                }
            }
        };
        self.feed(part)
    }

    /// The frame, after the last part; `None` when the whole object is to be decoded instead.
    pub fn finish(self) -> Result<Option<DataFrame>> {
        self.finish_data()?.map(Data::into_frame).transpose()
    }

    /// What the parts decode to, after the last part: a frame from [`PartDecoder::new`],
    /// what [`ObjectFormat::decode`] gives from [`PartDecoder::for_data`]; `None` when the
    /// whole object is to be decoded instead.
    pub fn finish_data(mut self) -> Result<Option<Data>> {
        if let Some(start) = self.start.take() {
            match Self::without_bom(start) {
                Some(part) => {
                    if !self.feed(part)? {
                        return Ok(None);
                    }
                }
                None => return Ok(None),
            }
        }
        let (format, inner) = (self.format, self.inner);
        guarded(ErrorKind::Decode, || inner.finish()).map_err(|e| format.label(e))
    }

    /// Hands a part to the format's decoder, which may give up.
    fn feed(&mut self, part: Bytes) -> Result<bool> {
        let inner = &mut self.inner;
        guarded(ErrorKind::Decode, || inner.push(part))
            .map(|fed| fed == Fed::More)
            .map_err(|e| self.format.label(e))
    }

    /// The object's first bytes without a UTF-8 byte-order mark; `None` after a UTF-16 one
    /// (text to transcode whole).
    fn without_bom(start: Vec<u8>) -> Option<Bytes> {
        match start.as_slice() {
            [0xEF, 0xBB, 0xBF, ..] => Some(Bytes::from(start).slice(3..)),
            [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..] => None,
            _ => Some(Bytes::from(start)),
        }
    }
}

/// Runs a codec, turning a panic in it (a bug in s3io or in a library under it) into an
/// error of `kind` (`Decode` or `Encode`) that keeps the panic's first line.
fn guarded<T>(kind: ErrorKind, f: impl FnOnce() -> Result<T>) -> Result<T> {
    unless_it_panics(f).unwrap_or_else(|panic| {
        let failed = match kind {
            ErrorKind::Encode => "the encoder failed on this data",
            _ => "the decoder failed on this input",
        };
        Err(Error::new(kind, format!("{failed}: {panic}")))
    })
}
