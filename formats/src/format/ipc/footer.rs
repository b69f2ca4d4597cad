//! An Arrow IPC file's footer, read on its own from the object's end: where the dictionary
//! and record batches are, so that the first rows can come from a prefix of the file.
//!
//! An IPC file is the magic `ARROW1` and two bytes of padding, then an IPC stream (the
//! schema message, dictionary batches, record batches), then the footer, its length and the
//! magic again. A prefix that ends after the k-th record batch is therefore, past its first 8
//! bytes, a stream of the first k batches once the end-of-stream marker follows.

use bytes::{BufMut, Bytes};
use polars_arrow_format::ipc as fb;
use polars_arrow_format::ipc::planus::ReadAsRoot;

use crate::error::{Error, ErrorKind, Result};
use crate::limits::Limits;

use super::FILE_MAGIC;

/// Where the stream inside an IPC file starts: after the magic and its padding.
const STREAM_START: u64 = 8;
/// What follows the footer: its length (4 bytes) and the magic (6).
const TRAILER: u64 = 10;
/// The end-of-stream marker: the continuation marker and a zero length.
const END_OF_STREAM: [u8; 8] = [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0];

/// The record batch blocks of an Arrow IPC file's footer, checked against the object's size.
#[derive(Debug, Clone)]
pub struct IpcFooter {
    /// Where each record batch's message (metadata and body) ends, in file order; `None`
    /// when the blocks are not in file order after the dictionaries, so no prefix holds the
    /// first batches alone.
    batch_ends: Option<Vec<u64>>,
    /// How many record batches the footer lists.
    batches: usize,
}

impl IpcFooter {
    /// The bytes first fetched from the object's end: the footer of any file with fewer than
    /// a few thousand batches.
    pub const FIRST_READ: u64 = 64 << 10;

    /// The length of the footer with what follows it (its length and the magic), from the
    /// object's last bytes `tail`, checked against the object's size `total`.
    pub fn len(tail: &[u8], total: u64) -> Result<u64> {
        let invalid = |why: String| {
            Error::new(
                ErrorKind::Decode,
                format!("not a valid Arrow IPC file: {why}"),
            )
        };
        if !tail.ends_with(FILE_MAGIC) || tail.len() < TRAILER as usize {
            return Err(invalid("no footer (it does not end with ARROW1)".into()));
        }
        let at = tail.len() - TRAILER as usize;
        let declared = i32::from_le_bytes(tail[at..at + 4].try_into().unwrap_or_default());
        let len = u64::try_from(declared)
            .ok()
            .map(|n| n + TRAILER)
            .filter(|&n| n + STREAM_START <= total)
            .ok_or_else(|| {
                invalid(format!(
                    "a footer of {declared} bytes in an object of {total} bytes"
                ))
            })?;
        Ok(len)
    }

    /// Reads the footer from `bytes`, the object's last [`len`](Self::len) bytes, of an
    /// object of `total` bytes. Every block must lie within the object, before the footer.
    pub fn parse(bytes: &[u8], total: u64, limits: &Limits) -> Result<IpcFooter> {
        let len = bytes.len() as u64;
        limits.check_object_size(len)?;
        let invalid = |why: String| {
            Error::new(
                ErrorKind::Decode,
                format!("not a valid Arrow IPC file: the footer {why}"),
            )
        };
        let body = bytes
            .get(..bytes.len().saturating_sub(TRAILER as usize))
            .unwrap_or_default();
        let footer = fb::FooterRef::read_as_root(body)
            .map_err(|e| invalid(format!("is unreadable: {e}")))?;
        let footer_start = total.saturating_sub(len);
        let span = |block: fb::BlockRef<'_>| -> Result<(u64, u64)> {
            let (offset, meta, body) = (
                block.offset(),
                block.meta_data_length(),
                block.body_length(),
            );
            let start = u64::try_from(offset).ok().filter(|&o| o >= STREAM_START);
            let meta = u64::try_from(meta).ok();
            let body = u64::try_from(body).ok();
            let end = match (start, meta, body) {
                (Some(start), Some(meta), Some(body)) => start
                    .checked_add(meta)
                    .and_then(|e| e.checked_add(body))
                    .filter(|&e| e <= footer_start),
                _ => None,
            };
            match (start, end) {
                (Some(start), Some(end)) => Ok((start, end)),
                _ => Err(invalid(format!(
                    "lists a block ({offset}, {meta:?}, {body:?}) outside the file's \
                     {footer_start} bytes of batches"
                ))),
            }
        };
        let unreadable = |e: fb::planus::Error| invalid(format!("has unreadable blocks: {e}"));
        let dictionaries = footer.dictionaries().map_err(unreadable)?;
        let records = footer.record_batches().map_err(unreadable)?;
        let dictionaries: Vec<(u64, u64)> = dictionaries
            .into_iter()
            .flatten()
            .map(span)
            .collect::<Result<_>>()?;
        let records: Vec<(u64, u64)> = records
            .into_iter()
            .flatten()
            .map(span)
            .collect::<Result<_>>()?;
        // A prefix holds the first k batches alone when the dictionaries come first and the
        // batches follow one another in file order.
        let dictionaries_end = dictionaries.iter().map(|&(_, end)| end).max();
        let first = records.first().map(|&(start, _)| start);
        let dictionaries_first = match (dictionaries_end, first) {
            (Some(end), Some(first)) => end <= first,
            _ => true,
        };
        let in_order = records.windows(2).all(|w| w[0].1 <= w[1].0);
        Ok(IpcFooter {
            batches: records.len(),
            batch_ends: (dictionaries_first && in_order)
                .then(|| records.iter().map(|&(_, end)| end).collect()),
        })
    }

    /// How many record batches the file holds.
    pub fn batches(&self) -> usize {
        self.batches
    }

    /// Where a prefix of the file holding its schema, dictionaries and first `k` record
    /// batches ends (all of them when `k` is larger), or `None` when the file's blocks are
    /// not laid out so that one does.
    pub fn prefix_end(&self, k: usize) -> Option<u64> {
        let ends = self.batch_ends.as_ref()?;
        match k.min(ends.len()) {
            0 => ends.first().copied(),
            k => Some(ends[k - 1]),
        }
    }

    /// The IPC stream a prefix of the file holds: what follows the magic and its padding,
    /// then the end-of-stream marker.
    pub fn stream(prefix: &[u8]) -> Bytes {
        let body = prefix.get(STREAM_START as usize..).unwrap_or_default();
        let mut stream = Vec::with_capacity(body.len() + END_OF_STREAM.len());
        stream.put_slice(body);
        stream.put_slice(&END_OF_STREAM);
        stream.into()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use polars::prelude::*;

    use super::*;

    fn file(rows: i64, batch: usize) -> (DataFrame, Vec<u8>) {
        let df = df!(
            "n" => (0..rows).collect::<Vec<_>>(),
            "s" => (0..rows).map(|i| format!("row {i}")).collect::<Vec<_>>(),
        )
        .unwrap();
        // One record batch per chunk.
        let mut chunks = df.slice(0, batch);
        for start in (batch..rows as usize).step_by(batch) {
            chunks.vstack_mut(&df.slice(start as i64, batch)).unwrap();
        }
        let mut bytes = Vec::new();
        IpcWriter::new(&mut bytes).finish(&mut chunks).unwrap();
        (df, bytes)
    }

    #[test]
    fn prefixes_of_a_file_are_streams_of_its_first_batches() {
        let (df, bytes) = file(1_000, 100);
        let total = bytes.len() as u64;
        let len = IpcFooter::len(&bytes, total).unwrap();
        let footer =
            IpcFooter::parse(&bytes[(total - len) as usize..], total, &Limits::new()).unwrap();
        assert_eq!(footer.batches(), 10);
        for k in [1, 3, 10, 11] {
            let end = footer.prefix_end(k).unwrap() as usize;
            let stream = IpcFooter::stream(&bytes[..end]);
            let read = IpcStreamReader::new(Cursor::new(stream)).finish().unwrap();
            assert!(read.equals(&df.head(Some(100 * k.min(10)))), "k = {k}");
        }
    }

    #[test]
    fn footers_that_lie_are_refused() {
        let (_, bytes) = file(10, 5);
        let total = bytes.len() as u64;
        // A footer longer than the object.
        let mut long = bytes.clone();
        let at = long.len() - 10;
        long[at..at + 4].copy_from_slice(&i32::MAX.to_le_bytes());
        let e = IpcFooter::len(&long, total).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
        // No magic at the end.
        let e = IpcFooter::len(&bytes[..bytes.len() - 1], total - 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
        // A block past the end of the batches.
        let len = IpcFooter::len(&bytes, total).unwrap();
        let e = IpcFooter::parse(&bytes[(total - len) as usize..], total / 2, &Limits::new());
        assert_eq!(e.unwrap_err().kind(), ErrorKind::Decode);
    }
}
