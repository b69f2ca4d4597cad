//! `.arrow`, `.feather`, `.ipc`: the Arrow IPC file format (Feather v2), read and written by
//! polars. pyarrow's `feather.write_feather` (lz4 or zstd compressed) and polars'
//! `write_ipc` files are read, and Arrow IPC streams too (told apart by the file magic).
//! Dtypes travel as they are, like Parquet's.
//!
//! polars trusts the lengths an IPC file declares: a compressed buffer says how large it
//! inflates, and polars allocates that much before inflating it; an allocation that fails
//! aborts the process, past any `catch_unwind`. So [`check`] walks the messages polars will
//! read, before polars sees the bytes, and refuses buffers outside their message and batches
//! that would take more than `max_decoded_size`.

use std::io::Cursor;

use bytes::Bytes;
use polars::prelude::*;
use polars_arrow_format::ipc as fb;
use polars_arrow_format::ipc::planus::ReadAsRoot;

pub(crate) mod footer;

use super::codec::{Codec, cannot_encode, encode_error, read_error};
use super::table::in_asked_order;
use crate::data::Data;
use crate::error::{Error, ErrorKind, Result};
use crate::limits::exceeded;
use crate::settings::{ReadSettings, WriteSettings};

/// The first bytes of an Arrow IPC file; streams start otherwise.
const FILE_MAGIC: &[u8] = b"ARROW1";

/// The most dictionary batches a stream may hold in a row (normally one per
/// dictionary-encoded column). polars-arrow reads each one a level deeper in recursion,
/// 3 to 5 KiB of stack apiece in a debug build: 700 in a row overflow a 2 MiB stack, which
/// aborts the process.
const MAX_DICTIONARY_RUN: usize = 256;

/// The deepest nesting of types (struct, list, map and union children) a schema may hold,
/// as in Arrow C++'s reader. polars-arrow reads schemas and columns recursively, about 20 KiB
/// of stack a level in a debug build: a schema 120 levels deep overflows a 2 MiB stack.
const MAX_NESTING: usize = 64;

/// The stack of the thread polars reads on, enough for [`MAX_NESTING`] levels and
/// [`MAX_DICTIONARY_RUN`] dictionaries at once in a debug build (about 3 MiB), whatever the
/// caller's thread has.
const DECODE_STACK: usize = 8 << 20;

pub(crate) struct Ipc;

impl Codec for Ipc {
    fn name(&self) -> &'static str {
        "arrow"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["arrow", "feather", "ipc"]
    }

    fn content_type(&self) -> &'static str {
        "application/vnd.apache.arrow.file"
    }

    fn other_content_types(&self) -> &'static [&'static str] {
        &[
            "application/vnd.apache.arrow.stream",
            "application/x-feather",
        ]
    }

    fn decode(&self, bytes: Bytes, options: &ReadSettings) -> Result<Data> {
        self.decode_frame(bytes, options).map(Data::Frame)
    }

    fn output_ratio(&self) -> u64 {
        crate::limits::Limits::DECLARED_MAX_RATIO
    }

    fn decode_frame(&self, bytes: Bytes, options: &ReadSettings) -> Result<DataFrame> {
        let declared = check(&bytes, options.output_remaining())?;
        options.charge_output(declared, || "what its metadata declares".into())?;
        let (columns, n_rows) = (options.columns.clone(), options.n_rows);
        let read = move || {
            let df = if bytes.starts_with(FILE_MAGIC) {
                IpcReader::new(Cursor::new(bytes))
                    .with_columns(columns.clone())
                    .with_n_rows(n_rows)
                    .finish()
                    .map_err(|e| read_error("not a valid Arrow IPC file", e))
            } else {
                IpcStreamReader::new(Cursor::new(bytes))
                    .with_columns(columns.clone())
                    .with_n_rows(n_rows)
                    .finish()
                    .map_err(|e| read_error("not a valid Arrow IPC file or stream", e))
            };
            in_asked_order(df?, columns.as_deref())
        };
        std::thread::scope(|scope| {
            let thread = std::thread::Builder::new()
                .name("s3io-ipc".into())
                .stack_size(DECODE_STACK)
                .spawn_scoped(scope, read)
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Decode,
                        format!("cannot start the Arrow IPC reader: {e}"),
                    )
                    .with_source(e)
                })?;
            // A panic goes on to the caller's guard, as if polars had run there.
            thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// Writes an uncompressed IPC file at the oldest compatibility level (large strings
    /// rather than string views), which every Arrow reader since pyarrow 1.0 accepts.
    fn encode(&self, data: &Data, _: &WriteSettings) -> Result<Vec<u8>> {
        let Data::Frame(df) = data else {
            return Err(cannot_encode(data, "arrow", "a frame"));
        };
        let mut out = Vec::new();
        IpcWriter::new(&mut out)
            .with_compat_level(CompatLevel::oldest())
            .finish(&mut df.clone())
            .map_err(|e| encode_error("cannot write Arrow IPC", e))?;
        Ok(out)
    }
}

/// An error if polars could not read the Arrow IPC file or stream in `bytes` without
/// risking an abort, checked on its metadata before polars sees it:
///
/// - every buffer lies inside its message body and the object (`Decode`);
/// - each compressed buffer starts with a possible decompressed length: -1 (stored as is)
///   or not negative (`Decode`);
/// - all batches together take at most `limit` bytes (`LimitExceeded`,
///   `max_decoded_size`): the decompressed lengths compressed buffers declare, a bit per
///   row of every field node (polars builds bitmaps of that size for null columns, whatever
///   their buffers), and buffers stored as they are past the object's own size (a footer
///   may list one block many times);
/// - the walk visits no more fields, field nodes and buffers than the object has bytes, so
///   shared flatbuffer tables and repeated blocks cannot make it, or polars, go exponential
///   (`Decode`);
/// - the schema nests at most [`MAX_NESTING`] levels, and a stream holds at most
///   [`MAX_DICTIONARY_RUN`] dictionary batches in a row (`Unsupported`): polars recurses on
///   both, and a stack overflow aborts.
///
/// The walk follows the messages polars reads: for a file, the schema and the blocks its
/// footer lists; for a stream, each message in turn up to the end-of-stream marker or the
/// object's end. Only metadata is read, and the 8-byte length prefix of compressed buffers.
fn check(bytes: &[u8], limit: u64) -> Result<u64> {
    let mut scan = Scan::new(bytes, limit);
    if bytes.starts_with(FILE_MAGIC) {
        scan.file()?;
    } else {
        scan.stream()?;
    }
    Ok(scan.total())
}

/// The walk of [`check`]: what the batches seen so far ask polars to allocate.
struct Scan<'a> {
    bytes: &'a [u8],
    limit: u64,
    /// "file" or "stream", for messages.
    kind: &'static str,
    /// The decompressed lengths that compressed buffers declare, and the row bitmaps.
    inflated: u64,
    /// The lengths of buffers stored as they are.
    copied: u64,
    /// How many more fields, field nodes and buffers the walk may visit. Each takes 8 bytes
    /// or more in the object, so a walk that visits more than the object's size in them has
    /// been sent around the same metadata again and again (flatbuffer tables may be shared,
    /// and footer blocks repeated), which would take polars exponential or quadratic time.
    work: u64,
}

/// Which batch of the file or stream a message is, for errors.
#[derive(Clone, Copy)]
enum Batch {
    Record(usize),
    Dictionary(usize),
}

impl std::fmt::Display for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Batch::Record(i) => write!(f, "record batch {i}"),
            Batch::Dictionary(i) => write!(f, "dictionary batch {i}"),
        }
    }
}

impl<'a> Scan<'a> {
    fn new(bytes: &'a [u8], limit: u64) -> Self {
        Scan {
            bytes,
            limit,
            kind: if bytes.starts_with(FILE_MAGIC) {
                "file"
            } else {
                "stream"
            },
            inflated: 0,
            copied: 0,
            work: bytes.len() as u64,
        }
    }

    /// A `Decode` error; objects without the file magic may be broken files too.
    fn invalid(&self, why: impl std::fmt::Display) -> Error {
        let what = if self.kind == "file" {
            "file"
        } else {
            "file or stream"
        };
        Error::new(
            ErrorKind::Decode,
            format!("not a valid Arrow IPC {what}: {why}"),
        )
    }

    /// Counts `n` more visits against [`Scan::work`].
    fn visit(&mut self, n: u64) -> Result<()> {
        self.work = self.work.checked_sub(n).ok_or_else(|| {
            self.invalid(format!(
                "its metadata lists more fields, field nodes and buffers than its {} bytes can \
                 hold (tables shared, or blocks repeated)",
                self.len()
            ))
        })?;
        Ok(())
    }

    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// The `N` bytes at `at`, if the object holds them.
    fn array<const N: usize>(&self, at: u64) -> Option<[u8; N]> {
        let at = usize::try_from(at).ok()?;
        self.bytes.get(at..at.checked_add(N)?)?.try_into().ok()
    }

    fn i32_at(&self, at: u64) -> Option<i32> {
        self.array(at).map(i32::from_le_bytes)
    }

    /// The bytes from `start` to `end`, or to the object's end if it comes first.
    fn slice(&self, start: u64, end: u64) -> &'a [u8] {
        let len = self.bytes.len();
        let start = usize::try_from(start).unwrap_or(len).min(len);
        let end = usize::try_from(end).unwrap_or(len).clamp(start, len);
        self.bytes.get(start..end).unwrap_or_default()
    }

    /// The message whose length prefix (after an optional 0xFFFFFFFF continuation marker) is
    /// at `at`, read as polars-arrow reads it: its metadata is what follows the prefix, cut
    /// at the object's end. Returns the message and where its metadata ends; `None` when the
    /// prefix says 0 (a stream's end).
    fn message(&self, at: u64) -> Result<Option<(fb::MessageRef<'a>, u64)>> {
        let cut = || self.invalid(format!("the object ends inside a message prefix at {at}"));
        let mut start = at.saturating_add(4);
        let mut meta_len = self.i32_at(at).ok_or_else(cut)?;
        if meta_len == -1 {
            meta_len = self.i32_at(start).ok_or_else(cut)?;
            start = start.saturating_add(4);
        }
        let meta_len = u64::try_from(meta_len)
            .map_err(|_| self.invalid(format!("a negative message length ({meta_len}) at {at}")))?;
        if meta_len == 0 {
            return Ok(None);
        }
        let end = start.saturating_add(meta_len);
        let message = fb::MessageRef::read_as_root(self.slice(start, end))
            .map_err(|e| self.invalid(format!("the message at {at} is unreadable: {e}")))?;
        Ok(Some((message, end.min(self.len()))))
    }

    /// The header of a message polars reads.
    fn header(&self, message: fb::MessageRef<'a>, at: u64) -> Result<fb::MessageHeaderRef<'a>> {
        message
            .header()
            .ok()
            .flatten()
            .ok_or_else(|| self.invalid(format!("the message at {at} has no readable header")))
    }

    /// An error if the schema nests types deeper than [`MAX_NESTING`].
    fn schema(&mut self, schema: fb::SchemaRef<'a>) -> Result<()> {
        let fields = schema
            .fields()
            .map_err(|e| self.invalid(format!("the schema is unreadable: {e}")))?;
        self.fields(fields, 1)
    }

    /// The fields at `depth` (1 for a schema's columns), and their children; recursive, at
    /// most [`MAX_NESTING`] levels deep.
    fn fields(
        &mut self,
        fields: Option<
            fb::planus::Vector<'a, std::result::Result<fb::FieldRef<'a>, fb::planus::Error>>,
        >,
        depth: usize,
    ) -> Result<()> {
        let Some(fields) = fields else {
            return Ok(());
        };
        if depth > MAX_NESTING && !fields.is_empty() {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "the Arrow IPC {}'s schema nests types more than {MAX_NESTING} levels \
                     deep, more than polars can read safely",
                    self.kind
                ),
            ));
        }
        for field in fields {
            self.visit(1)?;
            let children = field
                .and_then(|field| field.children())
                .map_err(|e| self.invalid(format!("the schema is unreadable: {e}")))?;
            self.fields(children, depth + 1)?;
        }
        Ok(())
    }

    /// An IPC file: the schema in its footer, and the dictionary and record batch blocks
    /// the footer lists.
    fn file(&mut self) -> Result<()> {
        // The footer, then its length (4 bytes) and the magic (6) end the file.
        let (end, footer_len) = match self.len().checked_sub(10) {
            Some(end) if self.bytes.ends_with(FILE_MAGIC) => (end, self.i32_at(end)),
            _ => (0, None),
        };
        let footer_len =
            footer_len.ok_or_else(|| self.invalid("no footer (it does not end with ARROW1)"))?;
        let start = u64::try_from(footer_len)
            .ok()
            .and_then(|n| end.checked_sub(n))
            .ok_or_else(|| self.invalid(format!("a footer length of {footer_len} bytes")))?;
        let footer = fb::FooterRef::read_as_root(self.slice(start, end))
            .map_err(|e| self.invalid(format!("the footer is unreadable: {e}")))?;
        let schema = footer
            .schema()
            .map_err(|e| self.invalid(format!("the footer's schema is unreadable: {e}")))?;
        if let Some(schema) = schema {
            self.schema(schema)?;
        }
        let blocks = |list: std::result::Result<Option<_>, _>| {
            list.map_err(|e| self.invalid(format!("the footer's blocks are unreadable: {e}")))
        };
        let dictionaries: Option<fb::planus::Vector<'a, fb::BlockRef<'a>>> =
            blocks(footer.dictionaries())?;
        let records: Option<fb::planus::Vector<'a, fb::BlockRef<'a>>> =
            blocks(footer.record_batches())?;
        for (i, block) in dictionaries.into_iter().flatten().enumerate() {
            self.block(block, Batch::Dictionary(i))?;
        }
        for (i, block) in records.into_iter().flatten().enumerate() {
            self.block(block, Batch::Record(i))?;
        }
        Ok(())
    }

    /// One block of a file's footer: the message at its offset, whose body starts after the
    /// block's metadata length (as polars-arrow computes it) and is the block's body length.
    fn block(&mut self, block: fb::BlockRef<'a>, which: Batch) -> Result<()> {
        let (offset, meta_len, body_len) = (
            block.offset(),
            block.meta_data_length(),
            block.body_length(),
        );
        let (Ok(at), Ok(meta), Ok(body_len)) = (
            u64::try_from(offset),
            u64::try_from(meta_len),
            u64::try_from(body_len),
        ) else {
            return Err(self.invalid(format!(
                "the footer's block for {which} has a negative offset or length \
                 ({offset}, {meta_len}, {body_len})"
            )));
        };
        let (message, _) = self
            .message(at)?
            .ok_or_else(|| self.invalid(format!("no message at {at}, where {which} should be")))?;
        let batch = match (self.header(message, at)?, which) {
            (fb::MessageHeaderRef::RecordBatch(batch), Batch::Record(_)) => Some(batch),
            (fb::MessageHeaderRef::DictionaryBatch(dict), Batch::Dictionary(_)) => dict
                .data()
                .map_err(|e| self.invalid(format!("{which} is unreadable: {e}")))?,
            _ => return Err(self.invalid(format!("the message at {at} is not {which}"))),
        };
        match batch {
            Some(batch) => self.batch(batch, which, at.saturating_add(meta), body_len),
            None => Ok(()),
        }
    }

    /// An IPC stream: the schema message, then batches up to the end-of-stream marker or the
    /// object's end.
    fn stream(&mut self) -> Result<()> {
        let (schema, mut at) = self
            .message(0)?
            .ok_or_else(|| self.invalid("no schema message"))?;
        match self.header(schema, 0)? {
            fb::MessageHeaderRef::Schema(schema) => self.schema(schema)?,
            _ => return Err(self.invalid("the first message is not a schema")),
        }
        let (mut records, mut dictionaries, mut run) = (0, 0, 0);
        // polars-arrow stops quietly where fewer than 4 bytes are left.
        while self.len().saturating_sub(at) >= 4 {
            let Some((message, meta_end)) = self.message(at)? else {
                break;
            };
            let body_len = message
                .body_length()
                .ok()
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| self.invalid(format!("the message at {at} has no body length")))?;
            match self.header(message, at)? {
                fb::MessageHeaderRef::RecordBatch(batch) => {
                    self.batch(batch, Batch::Record(records), meta_end, body_len)?;
                    records += 1;
                    run = 0;
                }
                fb::MessageHeaderRef::DictionaryBatch(dict) => {
                    let which = Batch::Dictionary(dictionaries);
                    run += 1;
                    if run > MAX_DICTIONARY_RUN {
                        return Err(Error::new(
                            ErrorKind::Unsupported,
                            format!(
                                "the Arrow IPC stream holds more than {MAX_DICTIONARY_RUN} \
                                 dictionary batches in a row, which polars cannot read safely \
                                 (write it as an IPC file instead)"
                            ),
                        ));
                    }
                    let data = dict
                        .data()
                        .map_err(|e| self.invalid(format!("{which} is unreadable: {e}")))?;
                    if let Some(batch) = data {
                        self.batch(batch, which, meta_end, body_len)?;
                    }
                    dictionaries += 1;
                }
                _ => {
                    return Err(self.invalid(format!(
                        "the message at {at} is neither a record batch nor a dictionary batch"
                    )));
                }
            }
            at = meta_end.saturating_add(body_len);
        }
        Ok(())
    }

    /// The buffers of one batch, whose body is `body_len` bytes from `body_start`.
    fn batch(
        &mut self,
        batch: fb::RecordBatchRef<'a>,
        which: Batch,
        body_start: u64,
        body_len: u64,
    ) -> Result<()> {
        let unreadable = |e| self.invalid(format!("{which} is unreadable: {e}"));
        // polars-arrow allocates for a compressed buffer before it looks at the codec.
        let compressed = batch.compression().map_err(unreadable)?.is_some();
        let nodes = batch.nodes().map_err(unreadable)?;
        let buffers = batch.buffers().map_err(unreadable)?;
        for (i, buffer) in buffers.into_iter().flatten().enumerate() {
            self.visit(1)?;
            let (offset, length) = (buffer.offset(), buffer.length());
            let (Ok(off), Ok(n)) = (u64::try_from(offset), u64::try_from(length)) else {
                return Err(self.invalid(format!(
                    "buffer {i} of {which} has a negative offset or length ({offset}, {length})"
                )));
            };
            let start = body_start.saturating_add(off);
            let end = start.saturating_add(n);
            if off.checked_add(n).is_none_or(|e| e > body_len) {
                return Err(self.invalid(format!(
                    "buffer {i} of {which} ({n} bytes at offset {off}) does not fit in its \
                     {body_len}-byte message body"
                )));
            }
            if end > self.len() {
                return Err(self.invalid(format!(
                    "buffer {i} of {which} ({n} bytes at {start}) runs past the object's end \
                     ({} bytes)",
                    self.len()
                )));
            }
            if !compressed {
                self.copied = self.copied.saturating_add(n);
            } else if n > 0 {
                let prefix = self.array(start).filter(|_| n >= 8).map(i64::from_le_bytes);
                match prefix {
                    // -1: stored uncompressed after the prefix.
                    Some(-1) => self.copied = self.copied.saturating_add(n - 8),
                    Some(declared) if declared >= 0 => {
                        self.inflated = self.inflated.saturating_add(declared.unsigned_abs());
                    }
                    Some(declared) => {
                        return Err(self.invalid(format!(
                            "compressed buffer {i} of {which} declares a decompressed length \
                             of {declared} bytes"
                        )));
                    }
                    None => {
                        return Err(self.invalid(format!(
                            "compressed buffer {i} of {which} is {n} bytes, too short for its \
                             8-byte length prefix"
                        )));
                    }
                }
            }
            self.within_limit(which)?;
        }
        // polars-arrow builds a bitmap of a bit a row for every column of type Null,
        // whatever its buffers (none), and for other columns with nulls.
        for (i, node) in nodes.into_iter().flatten().enumerate() {
            self.visit(1)?;
            let rows = u64::try_from(node.length()).map_err(|_| {
                self.invalid(format!(
                    "field node {i} of {which} has a negative length ({})",
                    node.length()
                ))
            })?;
            self.inflated = self.inflated.saturating_add(rows.div_ceil(8));
        }
        self.within_limit(which)
    }

    /// An error if the batches seen so far, up to `which`, take more than the limit.
    /// What the batches seen so far take, beyond the bytes of the object itself.
    fn total(&self) -> u64 {
        self.inflated
            .saturating_add(self.copied.saturating_sub(self.len()))
    }

    fn within_limit(&self, which: Batch) -> Result<()> {
        let total = self.total();
        if total > self.limit {
            return Err(exceeded(
                "max_decoded_size",
                format!(
                    "the Arrow IPC {}'s batches take {total} bytes or more once decompressed \
                     (at {which}), more than the {} bytes left of this call's output budget, \
                     for a {}-byte object",
                    self.kind,
                    self.limit,
                    self.len()
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::codec::testing::fixture;

    fn decode(bytes: impl Into<Bytes>) -> Result<DataFrame> {
        Ipc.decode_frame(bytes.into(), &ReadSettings::default())
    }

    /// The error `bytes` give, which must be of `kind` and say `says`.
    fn refused(bytes: impl Into<Bytes>, kind: ErrorKind, says: &str) {
        crate::format::codec::testing::refused(&Ipc, bytes, kind, says);
    }

    /// `rows` rows of numbers, strings and categories (dictionary batches), with nulls.
    fn frame(rows: i64) -> DataFrame {
        let ints: Vec<Option<i64>> = (0..rows).map(|i| (i % 7 != 0).then_some(i * 3)).collect();
        let strs: Vec<Option<String>> = (0..rows)
            .map(|i| (i % 5 != 0).then(|| format!("s{}", i % 11)))
            .collect();
        let categories = DataType::from_categories(Categories::global());
        let cats = Series::new("c".into(), &strs).cast(&categories).unwrap();
        df!("i" => ints, "s" => strs, "c" => cats).unwrap()
    }

    fn ipc_file(df: &DataFrame, compression: Option<IpcCompression>) -> Vec<u8> {
        let mut out = Vec::new();
        IpcWriter::new(&mut out)
            .with_compression(compression)
            .finish(&mut df.clone())
            .unwrap();
        out
    }

    fn ipc_stream(df: &DataFrame, compression: Option<IpcCompression>) -> Vec<u8> {
        let mut out = Vec::new();
        IpcStreamWriter::new(&mut out)
            .with_compression(compression)
            .finish(&mut df.clone())
            .unwrap();
        out
    }

    /// The first record batch of an IPC file: where its list of buffers is in the file, where
    /// its body starts, and its buffers (offset, length).
    fn first_batch(bytes: &[u8]) -> (usize, usize, Vec<(i64, i64)>) {
        let end = bytes.len() - 10;
        let footer_len = i32::from_le_bytes(bytes[end..end + 4].try_into().unwrap()) as usize;
        let footer = fb::FooterRef::read_as_root(&bytes[end - footer_len..end]).unwrap();
        let block = footer.record_batches().unwrap().unwrap().get(0).unwrap();
        let scan = Scan::new(bytes, 0);
        let (message, _) = scan.message(block.offset() as u64).unwrap().unwrap();
        let Ok(Some(fb::MessageHeaderRef::RecordBatch(batch))) = message.header() else {
            panic!("not a record batch");
        };
        let buffers: Vec<(i64, i64)> = (batch.buffers().unwrap().unwrap().iter())
            .map(|b| (b.offset(), b.length()))
            .collect();
        let list: Vec<u8> = buffers
            .iter()
            .flat_map(|(offset, len)| [offset.to_le_bytes(), len.to_le_bytes()])
            .flatten()
            .collect();
        let at = bytes.windows(list.len()).position(|w| w == list).unwrap();
        let body = block.offset() as usize + block.meta_data_length() as usize;
        (at, body, buffers)
    }

    /// The messages of a stream: where each starts, and where its body ends.
    fn stream_messages(bytes: &[u8]) -> Vec<(usize, usize)> {
        let scan = Scan::new(bytes, 0);
        let (mut at, mut out) = (0, Vec::new());
        while let Ok(Some((message, meta_end))) = scan.message(at) {
            let end = meta_end + message.body_length().unwrap() as u64;
            out.push((at as usize, end as usize));
            at = end;
        }
        out
    }

    /// Runs `f` on a thread with a stack of `size` bytes.
    fn on_stack<T: Send>(size: usize, f: impl FnOnce() -> T + Send) -> T {
        std::thread::scope(|scope| {
            let thread = std::thread::Builder::new().stack_size(size);
            thread.spawn_scoped(scope, f).unwrap().join().unwrap()
        })
    }

    #[test]
    fn valid_files_and_streams_pass_the_scan() {
        for path in [
            "arrow/polars_typed.arrow",
            "arrow/pyarrow_stream.arrow",
            "arrow/pyarrow_typed.feather",
        ] {
            decode(fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
        let df = frame(5_000);
        for compression in [
            None,
            Some(IpcCompression::LZ4),
            Some(IpcCompression::ZSTD(Default::default())),
        ] {
            for bytes in [ipc_file(&df, compression), ipc_stream(&df, compression)] {
                let back = decode(bytes).unwrap_or_else(|e| panic!("{compression:?}: {e}"));
                assert!(back.equals_missing(&df), "{compression:?}");
            }
        }
        // Without its end-of-stream marker, a stream reads as far as it goes, as in polars.
        let stream = fixture("arrow/pyarrow_stream.arrow");
        let whole = decode(stream.clone()).unwrap();
        let cut = decode(stream[..stream.len() - 8].to_vec()).unwrap();
        assert!(cut.equals_missing(&whole));
        // Cut inside a batch's body, it is refused: polars would fail to read it too.
        let (start, end) = *stream_messages(&stream).last().unwrap();
        assert!(end > start + 16);
        refused(
            stream[..end - 8].to_vec(),
            ErrorKind::Decode,
            "runs past the object's end",
        );
    }

    #[test]
    fn compressed_buffers_declaring_too_much_are_refused() {
        // Found by fuzzing: a validity bitmap declaring 34 PB, which polars allocated.
        refused(
            fixture("hostile/arrow_fuzz_compressed_bitmap_huge_len.arrow"),
            ErrorKind::LimitExceeded,
            "max_decoded_size",
        );
        let good = ipc_file(
            &frame(5_000),
            Some(IpcCompression::ZSTD(Default::default())),
        );
        let (list, body, buffers) = first_batch(&good);
        let i = buffers.iter().position(|&(_, len)| len >= 8).unwrap();
        let prefix = body + buffers[i].0 as usize;
        let declaring = |len: i64| {
            let mut bytes = good.clone();
            bytes[prefix..prefix + 8].copy_from_slice(&len.to_le_bytes());
            bytes
        };
        let huge = declaring(1 << 40);
        let err = decode(huge.clone()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
        assert!(err.message().contains("(at record batch 0)"), "{err}");
        assert!(err.message().contains("Limits::max_decoded_size"), "{err}");
        // The limit is the one given (not decoded: polars would allocate the terabyte).
        assert!(check(&huge, 1 << 41).is_ok());
        assert!(check(&huge, 1 << 40).is_err());
        // -1 means stored as is; other negative lengths are impossible.
        assert!(check(&declaring(-1), 64 << 20).is_ok());
        refused(
            declaring(-2),
            ErrorKind::Decode,
            "declares a decompressed length of -2 bytes",
        );
        // A compressed buffer too short for its length prefix.
        let mut short = good.clone();
        short[list + 16 * i + 8..list + 16 * i + 16].copy_from_slice(&4i64.to_le_bytes());
        refused(
            short,
            ErrorKind::Decode,
            "too short for its 8-byte length prefix",
        );
    }

    #[test]
    fn buffers_outside_their_message_body_are_refused() {
        let good = ipc_file(&frame(5_000), None);
        let (list, _, buffers) = first_batch(&good);
        let i = buffers.iter().rposition(|&(_, len)| len > 0).unwrap();
        let (offset, len) = buffers[i];
        let moved = |offset: i64, len: i64| {
            let mut bytes = good.clone();
            let at = list + 16 * i;
            bytes[at..at + 8].copy_from_slice(&offset.to_le_bytes());
            bytes[at + 8..at + 16].copy_from_slice(&len.to_le_bytes());
            bytes
        };
        decode(moved(offset, len)).unwrap();
        // Past the body's end; a terabyte, which polars would allocate for as many rows.
        refused(
            moved(offset + 64, len),
            ErrorKind::Decode,
            &format!(
                "buffer {i} of record batch 0 ({len} bytes at offset {})",
                offset + 64
            ),
        );
        refused(
            moved(offset, 1 << 40),
            ErrorKind::Decode,
            "does not fit in its",
        );
        refused(
            moved(i64::MAX, i64::MAX),
            ErrorKind::Decode,
            "does not fit in its",
        );
        refused(
            moved(-8, len),
            ErrorKind::Decode,
            "negative offset or length",
        );
    }

    #[test]
    fn schemas_nest_at_most_64_levels() {
        let nested = |levels: usize| {
            on_stack(64 << 20, move || {
                let mut column = Series::new("x".into(), [1i64, 2, 3]);
                for _ in 1..levels {
                    let fields = [column];
                    column = StructChunked::from_series("s".into(), 3, fields.iter())
                        .unwrap()
                        .into_series();
                }
                ipc_file(&df!("s" => column).unwrap(), None)
            })
        };
        let deepest = nested(MAX_NESTING);
        // polars reads on its own thread, whatever the caller's stack.
        let df = on_stack(256 << 10, move || decode(deepest)).unwrap();
        assert_eq!(df.shape(), (3, 1));
        let too_deep = nested(MAX_NESTING + 1);
        refused(too_deep, ErrorKind::Unsupported, "more than 64 levels deep");
    }

    #[test]
    fn streams_hold_at_most_256_dictionary_batches_in_a_row() {
        let categories = DataType::from_categories(Categories::global());
        let column = Series::new("c".into(), ["a", "b", "a"])
            .cast(&categories)
            .unwrap();
        let stream = ipc_stream(&df!("c" => column).unwrap(), None);
        let [schema, dictionary, ..] = stream_messages(&stream)[..] else {
            panic!("a schema and a dictionary batch first");
        };
        let repeated = |times: usize| {
            let mut out = stream[..schema.1].to_vec();
            for _ in 0..times {
                out.extend_from_slice(&stream[dictionary.0..dictionary.1]);
            }
            out.extend_from_slice(&stream[dictionary.1..]);
            out
        };
        let df = decode(repeated(MAX_DICTIONARY_RUN)).unwrap();
        assert_eq!(df.shape(), (3, 1));
        refused(
            repeated(MAX_DICTIONARY_RUN + 1),
            ErrorKind::Unsupported,
            "more than 256 dictionary batches in a row",
        );
    }
}
