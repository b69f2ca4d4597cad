//! [`Limits`]: how much a downloaded object may cost to decode.
//!
//! Every object is untrusted input. These bounds keep a hostile or broken file from
//! exhausting memory, stack or time: past one, the call fails with an
//! [`ErrorKind::LimitExceeded`] error that names the limit, the value seen and how to raise
//! it. Set them on the connector (`S3ConnectorBuilder::limits` (in s3io),
//! `S3Connector::with_limits` (in s3io)) or per call
//! ([`ReadOptions::limits`](crate::ReadOptions::limits)); a limit set per call wins over the
//! connector's, and unset ones keep their defaults.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, ErrorKind};

/// Bounds on what decoding one object may cost, each with a default that real data stays far
/// below.
///
/// | limit | default | guards against |
/// |---|---|---|
/// | [`max_object_size`](Self::max_object_size) | 4 GiB | decoding an object too large for memory; checked before the download |
/// | [`max_decompressed_size`](Self::max_decompressed_size) | 100 × the object (at least 64 MiB) | gzip/zstd/bz2/xz and workbook zip bombs |
/// | [`max_decoded_size`](Self::max_decoded_size) | 100 × the objects a call decodes (1,000 × for Parquet and Arrow IPC), at least 256 MiB | what decoding *produces*: shared strings copied into many cells, records whose fresh keys multiply columns, very wide CSVs, `.xls`/`.ods` text copied into cells, pickles whose shared references expand, Parquet and Arrow metadata declaring huge sizes |
/// | [`max_sheet_cells`](Self::max_sheet_cells) | 50,000,000 | workbooks that declare or span absurd sheets |
/// | [`max_pickle_depth`](Self::max_pickle_depth) | 1,000 (Python's own recursion limit) | pickles nested deep enough to overflow the stack |
///
/// JSON documents (`.json`, each line of `.jsonl`) may nest at most 128 levels, serde_json's
/// fixed limit.
///
/// ```
/// use s3io_formats::{ErrorKind, Format, Limits, ReadOptions};
///
/// let big = "x".repeat(2 << 20);
/// let small = ReadOptions::new().limits(Limits::new().max_object_size(1 << 20));
/// let err = Format::TEXT.decode_with(big.clone(), &small).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::LimitExceeded);
/// assert!(err.to_string().contains("max_object_size"));
///
/// // A trusted object may go further, per call.
/// let trusted = ReadOptions::new().limits(Limits::new().max_object_size(8 << 20));
/// assert!(Format::TEXT.decode_with(big, &trusted).is_ok());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub struct Limits {
    object_size: Option<u64>,
    decompressed_size: Option<u64>,
    decoded_size: Option<u64>,
    sheet_cells: Option<u64>,
    pickle_depth: Option<u32>,
}

impl Limits {
    /// The default [`max_object_size`](Self::max_object_size): 4 GiB.
    pub const DEFAULT_MAX_OBJECT_SIZE: u64 = 4 << 30;
    /// The default [`max_sheet_cells`](Self::max_sheet_cells): 50 million.
    pub const DEFAULT_MAX_SHEET_CELLS: u64 = 50_000_000;
    /// By default, decompression may produce this many times the object's size
    /// ([`max_decompressed_size`](Self::max_decompressed_size))...
    pub const DECOMPRESSED_MAX_RATIO: u64 = 100;
    /// ...and at least this many bytes (64 MiB), so small objects are never refused.
    pub const DEFAULT_MIN_DECOMPRESSED_SIZE: u64 = 64 << 20;
    /// By default, decoding may produce this many times the bytes of the objects a call
    /// decodes ([`max_decoded_size`](Self::max_decoded_size))...
    pub const DECODED_MAX_RATIO: u64 = 100;
    /// ...or, for Parquet and Arrow IPC, whose dictionary and run-length encodings
    /// legitimately shrink a constant column a hundredfold and more, this many times...
    pub const DECLARED_MAX_RATIO: u64 = 1_000;
    /// ...and at least this many bytes in all: 256 MiB.
    pub const DEFAULT_MIN_DECODED_SIZE: u64 = 256 << 20;

    /// The default [`max_pickle_depth`](Self::max_pickle_depth): 1,000 levels, as deep as
    /// Python itself can pickle with its default recursion limit.
    pub const DEFAULT_MAX_PICKLE_DEPTH: u32 = 1_000;
    /// The deepest [`max_pickle_depth`](Self::max_pickle_depth) accepted; larger values are
    /// lowered to it, since values this deep overflow stacks in any code that walks them.
    pub const MAX_PICKLE_DEPTH: u32 = 10_000;

    /// The defaults, as in the table above.
    pub fn new() -> Self {
        Self::default()
    }

    /// The largest object, in bytes, that is downloaded to be decoded. A larger one is
    /// refused after the first response says its size, before its body is read.
    /// `S3Connector::download_bytes` (in s3io) and
    /// `download_to_path` are not bounded by it.
    pub fn max_object_size(mut self, bytes: u64) -> Self {
        self.object_size = Some(bytes);
        self
    }

    /// The most bytes decompression may produce: a `.gz`, `.zst`, `.bz2` or `.xz` layer, and
    /// the zip entries of a workbook. By default 100 times the object's size, and at least
    /// 64 MiB. What decoding then builds from those bytes is bounded by
    /// [`max_decoded_size`](Self::max_decoded_size).
    pub fn max_decompressed_size(mut self, bytes: u64) -> Self {
        self.decompressed_size = Some(bytes);
        self
    }

    /// The most memory, in bytes, that decoding may produce in one call, charged by every
    /// decoder before it allocates: text copied into cells (a shared string used by many
    /// cells is charged once per cell), cells × their width, columns × rows of records
    /// whose keys differ, the columns of a wide CSV, a pickle's values (shared references
    /// counted once per use), and what Parquet and Arrow IPC metadata declare their pages
    /// and buffers decode to. One call has one budget: every sheet of
    /// `download_sheets` (in s3io) and every object of
    /// `download_many` (in s3io) charge the same one.
    ///
    /// By default [`DECODED_MAX_RATIO`](Self::DECODED_MAX_RATIO) (100) times the bytes of
    /// the objects decoded ([`DECLARED_MAX_RATIO`](Self::DECLARED_MAX_RATIO), 1,000, for
    /// Parquet and Arrow IPC), and at least
    /// [`DEFAULT_MIN_DECODED_SIZE`](Self::DEFAULT_MIN_DECODED_SIZE) (256 MiB).
    ///
    /// ```
    /// use s3io_formats::{ErrorKind, Format, Limits, ReadOptions};
    ///
    /// // Three records, each with a key no other has: a 3 × 3 frame of mostly nulls.
    /// let ndjson = "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n";
    /// let tight = ReadOptions::new().limits(Limits::new().max_decoded_size(64));
    /// let err = Format::NDJSON.decode_with(ndjson, &tight).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::LimitExceeded);
    /// assert!(err.to_string().contains("max_decoded_size"));
    /// assert_eq!(Format::NDJSON.decode_frame(ndjson)?.shape(), (3, 3));
    /// # Ok::<(), s3io_formats::Error>(())
    /// ```
    pub fn max_decoded_size(mut self, bytes: u64) -> Self {
        self.decoded_size = Some(bytes);
        self
    }

    /// The most cells (rows × columns of the area used) a worksheet may span, and declare.
    /// An `.xls` or `.ods` workbook is read whole, every sheet at once, so for those it also
    /// bounds the cells of all sheets together.
    pub fn max_sheet_cells(mut self, cells: u64) -> Self {
        self.sheet_cells = Some(cells);
        self
    }

    /// The deepest nesting of lists, tuples, dicts and sets a pickle may hold (at most
    /// [`Limits::MAX_PICKLE_DEPTH`]).
    pub fn max_pickle_depth(mut self, levels: u32) -> Self {
        self.pickle_depth = Some(levels.min(Self::MAX_PICKLE_DEPTH));
        self
    }

    /// These limits, with the ones left unset taken from `fallback`.
    pub fn or(self, fallback: Limits) -> Limits {
        Limits {
            object_size: self.object_size.or(fallback.object_size),
            decompressed_size: self.decompressed_size.or(fallback.decompressed_size),
            decoded_size: self.decoded_size.or(fallback.decoded_size),
            sheet_cells: self.sheet_cells.or(fallback.sheet_cells),
            pickle_depth: self.pickle_depth.or(fallback.pickle_depth),
        }
    }

    /// The object size limit in effect.
    pub(crate) fn object_size(&self) -> u64 {
        self.object_size.unwrap_or(Self::DEFAULT_MAX_OBJECT_SIZE)
    }

    /// The decompression limit for an object of `len` bytes: the one set, else
    /// [`DECOMPRESSED_MAX_RATIO`](Self::DECOMPRESSED_MAX_RATIO) times `len` and at least
    /// [`DEFAULT_MIN_DECOMPRESSED_SIZE`](Self::DEFAULT_MIN_DECOMPRESSED_SIZE).
    pub(crate) fn decompression_limit(&self, len: usize) -> u64 {
        self.decompressed_size.unwrap_or_else(|| {
            (len as u64)
                .saturating_mul(Self::DECOMPRESSED_MAX_RATIO)
                .max(Self::DEFAULT_MIN_DECOMPRESSED_SIZE)
        })
    }

    /// The sheet cell limit in effect.
    pub(crate) fn sheet_cells(&self) -> u64 {
        self.sheet_cells.unwrap_or(Self::DEFAULT_MAX_SHEET_CELLS)
    }

    /// The pickle depth limit in effect.
    pub(crate) fn pickle_depth(&self) -> u32 {
        self.pickle_depth.unwrap_or(Self::DEFAULT_MAX_PICKLE_DEPTH)
    }

    /// An error if an object of `size` bytes is too large to decode
    /// ([`max_object_size`](Self::max_object_size)).
    pub fn check_object_size(&self, size: u64) -> Result<(), Error> {
        let limit = self.object_size();
        if size > limit {
            return Err(exceeded(
                "max_object_size",
                format!(
                    "the object is {size} bytes, more than the {limit}-byte limit for decoding"
                ),
            ));
        }
        Ok(())
    }
}

/// The error for a breached limit: what was seen, and how to raise the limit.
pub(crate) fn exceeded(limit: &str, what: String) -> Error {
    Error::new(
        ErrorKind::LimitExceeded,
        format!(
            "{what}; if the object is trusted, raise Limits::{limit} (S3Connector::with_limits, \
             or ReadOptions::limits for one call)"
        ),
    )
}

/// The bytes one table cell takes while a frame is built cell by cell.
pub(crate) const CELL_BYTES: u64 = 32;

/// What one call's decoding may still produce, under [`Limits::max_decoded_size`].
///
/// Made once per call and shared by every object and sheet the call decodes (clones share
/// it; charges from threads decoding in parallel add up). Each object [`admit`](Self::admit)s
/// its size, which raises the default allowance; each decoder
/// [`charge`](Self::charge)s what it is about to build, before it allocates.
#[derive(Debug, Clone)]
pub(crate) struct OutputBudget(Arc<BudgetState>);

#[derive(Debug)]
struct BudgetState {
    /// [`Limits::max_decoded_size`], when set: then the allowance is ignored.
    set: Option<u64>,
    /// The default limit before its floor: the ratio times each admitted object's size.
    allowance: AtomicU64,
    /// Bytes charged so far.
    used: AtomicU64,
}

impl OutputBudget {
    /// A budget for one call under `limits`, with nothing admitted or charged yet.
    pub(crate) fn new(limits: &Limits) -> Self {
        OutputBudget(Arc::new(BudgetState {
            set: limits.decoded_size,
            allowance: AtomicU64::new(0),
            used: AtomicU64::new(0),
        }))
    }

    /// A budget for turning values already in memory into a frame: at least 256 MiB, and
    /// [`Limits::DECODED_MAX_RATIO`] times the `cells` they hold.
    pub(crate) fn for_held_cells(cells: usize) -> Self {
        let budget = OutputBudget::new(&Limits::new());
        budget.admit(
            cells.saturating_mul(CELL_BYTES as usize),
            Limits::DECODED_MAX_RATIO,
        );
        budget
    }

    /// An object of `len` bytes is about to be decoded in a format whose output may be
    /// `ratio` times its size by default.
    pub(crate) fn admit(&self, len: usize, ratio: u64) {
        let more = (len as u64).saturating_mul(ratio);
        let _ = self
            .0
            .allowance
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |a| {
                Some(a.saturating_add(more))
            });
    }

    /// The limit in effect now.
    pub(crate) fn limit(&self) -> u64 {
        self.0.set.unwrap_or_else(|| {
            self.0
                .allowance
                .load(Ordering::Relaxed)
                .max(Limits::DEFAULT_MIN_DECODED_SIZE)
        })
    }

    /// The bytes that may still be charged.
    pub(crate) fn remaining(&self) -> u64 {
        self.limit()
            .saturating_sub(self.0.used.load(Ordering::Relaxed))
    }

    /// Charges `bytes` that decoding is about to produce, or fails, with `what` saying what
    /// they are, if the call would then pass its limit. A failed charge stays charged: the
    /// call is over.
    pub(crate) fn charge(&self, bytes: u64, what: impl FnOnce() -> String) -> Result<(), Error> {
        let before = self
            .0
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                Some(u.saturating_add(bytes))
            })
            .unwrap_or(u64::MAX);
        let used = before.saturating_add(bytes);
        let limit = self.limit();
        if used > limit {
            return Err(exceeded(
                "max_decoded_size",
                format!(
                    "decoding would produce {used} bytes or more ({}), more than the \
                     {limit}-byte output budget of this call",
                    what()
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_call_limits_win_and_unset_ones_fall_back() {
        let connector = Limits::new().max_object_size(10).max_pickle_depth(5);
        let call = Limits::new().max_object_size(20);
        let merged = call.or(connector);
        assert_eq!(merged.object_size(), 20);
        assert_eq!(merged.pickle_depth(), 5);
        assert_eq!(merged.sheet_cells(), Limits::DEFAULT_MAX_SHEET_CELLS);
        assert_eq!(merged.decompressed_size, None);
        assert_eq!(
            Limits::new().max_pickle_depth(u32::MAX).pickle_depth(),
            Limits::MAX_PICKLE_DEPTH
        );
        let err = merged.check_object_size(21).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded);
        assert!(err.message().contains("21 bytes"), "{err}");
        assert!(err.message().contains("Limits::max_object_size"), "{err}");
    }

    #[test]
    fn one_budget_per_call_admits_objects_and_refuses_past_its_limit() {
        let budget = OutputBudget::new(&Limits::new());
        assert_eq!(budget.limit(), Limits::DEFAULT_MIN_DECODED_SIZE);
        budget.admit(10 << 20, Limits::DECODED_MAX_RATIO);
        assert_eq!(budget.limit(), 1000 << 20);
        let shared = budget.clone();
        shared.charge(600 << 20, || "a".into()).unwrap();
        assert_eq!(budget.remaining(), 400 << 20);
        let err = budget
            .charge(401 << 20, || "cells × width".into())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded);
        assert!(err.message().contains("cells × width"), "{err}");
        assert!(err.message().contains("Limits::max_decoded_size"), "{err}");
        let set = OutputBudget::new(&Limits::new().max_decoded_size(100));
        set.admit(1 << 30, Limits::DECLARED_MAX_RATIO);
        assert_eq!(set.limit(), 100);
        assert!(set.charge(100, String::new).is_ok());
        assert!(set.charge(1, String::new).is_err());
        assert!(set.charge(u64::MAX, String::new).is_err());
    }
}
