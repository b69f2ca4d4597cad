//! [`Limits`]: how much a downloaded object may cost to decode.
//!
//! Every object is untrusted input. These bounds keep a hostile or broken file from
//! exhausting memory, stack or time: past one, the call fails with an
//! [`ErrorKind::LimitExceeded`] error that names the limit, the value seen and how to raise
//! it. Set them on the connector ([`S3ConnectorBuilder::limits`](crate::S3ConnectorBuilder::limits),
//! [`S3Connector::with_limits`](crate::S3Connector::with_limits)) or per call
//! ([`ReadOptions::limits`](crate::ReadOptions::limits)); a limit set per call wins over the
//! connector's, and unset ones keep their defaults.

use crate::error::{Error, ErrorKind};

/// Bounds on what decoding one object may cost, each with a default that real data stays far
/// below.
///
/// | limit | default | guards against |
/// |---|---|---|
/// | [`max_object_size`](Self::max_object_size) | 4 GiB | decoding an object too large for memory; checked before the download |
/// | [`max_decompressed_size`](Self::max_decompressed_size) | 100 × the object (at least 64 MiB); for pickles 200 × (at least 1 GiB); for what Parquet and Arrow IPC metadata declare 1,000 × (at least 256 MiB) | gzip/zstd/bz2/xz and workbook zip bombs; `.xls` and `.ods` text copied into every cell; pickles whose shared references expand exponentially; Arrow IPC buffers declaring huge lengths; Parquet pages and column chunks declaring huge (or negative) counts |
/// | [`max_sheet_cells`](Self::max_sheet_cells) | 50,000,000 | workbooks that declare or span absurd sheets |
/// | [`max_pickle_depth`](Self::max_pickle_depth) | 1,000 (Python's own recursion limit) | pickles nested deep enough to overflow the stack |
///
/// JSON documents (`.json`, each line of `.jsonl`) may nest at most 128 levels, serde_json's
/// fixed limit.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> s3io::Result<()> {
/// use s3io::{ErrorKind, Limits, ReadOptions};
///
/// let server = s3io::local::LocalS3::start()?;
/// let s3 = server
///     .connect()
///     .await?
///     .with_limits(Limits::new().max_object_size(1 << 20).max_pickle_depth(100));
/// s3.create_bucket("lab").await?;
/// s3.upload("lab", "big.txt", "x".repeat(2 << 20)).await?;
///
/// let err = s3.download("lab", "big.txt").await.unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::LimitExceeded);
/// assert!(err.to_string().contains("max_object_size"));
///
/// // A trusted object may go past the connector's limits, per call.
/// let trusted = ReadOptions::new().limits(Limits::new().max_object_size(8 << 20));
/// assert!(s3.download_with("lab", "big.txt", trusted).await.is_ok());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub struct Limits {
    object_size: Option<u64>,
    decompressed_size: Option<u64>,
    sheet_cells: Option<u64>,
    pickle_depth: Option<u32>,
}

impl Limits {
    /// The default [`max_object_size`](Self::max_object_size): 4 GiB.
    pub const DEFAULT_MAX_OBJECT_SIZE: u64 = 4 << 30;
    /// The default [`max_sheet_cells`](Self::max_sheet_cells): 50 million.
    pub const DEFAULT_MAX_SHEET_CELLS: u64 = 50_000_000;
    /// By default, Parquet and Arrow IPC files may declare that they decode to this many
    /// times their size ([`max_decompressed_size`](Self::max_decompressed_size))...
    pub const DECLARED_MAX_RATIO: u64 = 1_000;
    /// ...and at least this many bytes: 256 MiB.
    pub const DEFAULT_MIN_DECLARED_SIZE: u64 = 256 << 20;

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
    /// [`S3Connector::download_bytes`](crate::S3Connector::download_bytes) and
    /// `download_to_path` are not bounded by it.
    pub fn max_object_size(mut self, bytes: u64) -> Self {
        self.object_size = Some(bytes);
        self
    }

    /// The most bytes decompression may produce; for pickles, also the most memory their
    /// decoded values may take, as estimated before decoding; for Arrow IPC, the most its
    /// batches' buffers may take once decompressed, as their metadata declares; for Parquet,
    /// the most its pages may take once decompressed and decoded, as its footer and page
    /// headers declare (uncompressed page sizes, validity bitmaps, each column chunk's values
    /// at their decoded width); for `.xls`
    /// and `.ods` workbooks, the most text their cells may hold once shared strings,
    /// repeated cells and rows, and repeated spaces are copied out. By default 100 times
    /// the object's size and at least 64 MiB for decompression, 200 times and at least
    /// 1 GiB for pickles, and 1,000 times and at least 256 MiB for what Parquet and Arrow IPC
    /// metadata declare.
    pub fn max_decompressed_size(mut self, bytes: u64) -> Self {
        self.decompressed_size = Some(bytes);
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
    pub(crate) fn or(self, fallback: Limits) -> Limits {
        Limits {
            object_size: self.object_size.or(fallback.object_size),
            decompressed_size: self.decompressed_size.or(fallback.decompressed_size),
            sheet_cells: self.sheet_cells.or(fallback.sheet_cells),
            pickle_depth: self.pickle_depth.or(fallback.pickle_depth),
        }
    }

    /// The object size limit in effect.
    pub(crate) fn object_size(&self) -> u64 {
        self.object_size.unwrap_or(Self::DEFAULT_MAX_OBJECT_SIZE)
    }

    /// The decompressed size limit set, if any; each decoder has its own default.
    pub(crate) fn decompressed_size(&self) -> Option<u64> {
        self.decompressed_size
    }

    /// The decompression limit for an object of `len` bytes: the one set, else
    /// [`DEFAULT_MAX_RATIO`](crate::format::compression::DEFAULT_MAX_RATIO) times `len` and at
    /// least 64 MiB.
    pub(crate) fn decompression_limit(&self, len: usize) -> u64 {
        self.decompressed_size
            .unwrap_or_else(|| crate::format::compression::default_limit(len))
    }

    /// The limit on what a columnar file (Parquet, Arrow IPC) of `len` bytes declares it
    /// decodes to: the one set, else [`DECLARED_MAX_RATIO`](Self::DECLARED_MAX_RATIO) times
    /// `len` and at least [`DEFAULT_MIN_DECLARED_SIZE`](Self::DEFAULT_MIN_DECLARED_SIZE).
    /// Dictionary and run-length encodings legitimately shrink a constant column a hundredfold
    /// and more, so the ratio is higher than for gzip and friends; what it stops is a few
    /// kilobytes declaring gigabytes or terabytes, which would exhaust or abort the process.
    pub(crate) fn declared_size_limit(&self, len: usize) -> u64 {
        self.decompressed_size.unwrap_or_else(|| {
            (len as u64)
                .saturating_mul(Self::DECLARED_MAX_RATIO)
                .max(Self::DEFAULT_MIN_DECLARED_SIZE)
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

    /// An error if an object of `size` bytes is too large to decode.
    pub(crate) fn check_object_size(&self, size: u64) -> Result<(), Error> {
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
        assert_eq!(merged.decompressed_size(), None);
        assert_eq!(
            Limits::new().max_pickle_depth(u32::MAX).pickle_depth(),
            Limits::MAX_PICKLE_DEPTH
        );
        let err = merged.check_object_size(21).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded);
        assert!(err.message().contains("21 bytes"), "{err}");
        assert!(err.message().contains("Limits::max_object_size"), "{err}");
    }
}
