//! Compression named by a second suffix (`events.jsonl.gz`, `sales.csv.zst`), around any
//! format.
//!
//! The suffix decides, never the object's Content-Encoding: S3 objects named `.gz` are
//! routinely stored with a wrong or missing Content-Encoding, and one that says `gzip` makes
//! some HTTP clients inflate the body behind your back. Uploads therefore get the codec's
//! Content-Type (`application/gzip`, ...) and no Content-Encoding.
//!
//! Decompression is bounded: it stops with an [`ErrorKind::LimitExceeded`] error as soon as
//! the output passes a limit, so a decompression bomb costs at most the limit in memory.

use std::io::{self, Read, Write};

use crate::error::{Error, ErrorKind, Result};

/// The largest LZMA dictionary an `.xz` object may ask for (`xz -9` uses 64 MiB), so a
/// hostile header cannot make the decoder allocate gigabytes before producing a byte.
const XZ_MEMORY_LIMIT_KIB: u32 = 256 << 10;

/// A compression codec, chosen by the key's last suffix.
///
/// ```
/// use s3io_formats::{Compression, Format};
///
/// assert_eq!(Compression::from_key("logs/events.jsonl.gz"), Some(Compression::Gzip));
/// assert_eq!(Format::from_key("logs/events.jsonl.gz"), Format::NDJSON);
/// assert_eq!(Compression::from_key("sales.csv"), None);
///
/// let packed = Compression::Zstd.compress(b"a,b\n1,2\n").unwrap();
/// let unpacked = Compression::Zstd.decompress(&packed, 1 << 20).unwrap();
/// assert_eq!(unpacked, b"a,b\n1,2\n");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// gzip (`.gz`), as `gzip` and pandas write it; concatenated members are read in full.
    Gzip,
    /// Zstandard (`.zst`).
    Zstd,
    /// bzip2 (`.bz2`).
    Bzip2,
    /// xz (`.xz`), LZMA2 in the xz container.
    Xz,
}

impl Compression {
    /// Every codec, in the order suffixes are matched.
    pub const ALL: [Compression; 4] = [
        Compression::Gzip,
        Compression::Zstd,
        Compression::Bzip2,
        Compression::Xz,
    ];

    /// The suffix, without the dot, that uploads use: `gz`, `zst`, `bz2`, `xz`.
    pub fn extension(self) -> &'static str {
        match self {
            Compression::Gzip => "gz",
            Compression::Zstd => "zst",
            Compression::Bzip2 => "bz2",
            Compression::Xz => "xz",
        }
    }

    /// The Content-Type uploads get.
    pub fn content_type(self) -> &'static str {
        match self {
            Compression::Gzip => "application/gzip",
            Compression::Zstd => "application/zstd",
            Compression::Bzip2 => "application/x-bzip2",
            Compression::Xz => "application/x-xz",
        }
    }

    /// The codec a suffix (without the dot, any case) names: `gz`/`gzip`, `zst`/`zstd`,
    /// `bz2`, `xz`.
    pub fn from_extension(ext: &str) -> Option<Compression> {
        match ext.to_ascii_lowercase().as_str() {
            "gz" | "gzip" => Some(Compression::Gzip),
            "zst" | "zstd" => Some(Compression::Zstd),
            "bz2" => Some(Compression::Bzip2),
            "xz" => Some(Compression::Xz),
            _ => None,
        }
    }

    /// The codec named by the key's last suffix, if any.
    pub fn from_key(key: &str) -> Option<Compression> {
        super::naming::extension(key).and_then(|ext| Compression::from_extension(&ext))
    }

    /// The codec a Content-Type names, for keys without a telling suffix.
    pub(crate) fn from_content_type(content_type: &str) -> Option<Compression> {
        let essence = super::naming::media_type(content_type);
        Compression::ALL.into_iter().find(|c| {
            c.content_type() == essence
                || matches!(
                    (c, essence.as_str()),
                    (Compression::Gzip, "application/x-gzip")
                        | (Compression::Zstd, "application/x-zstd")
                )
        })
    }

    /// Decompresses `bytes`, failing with an [`ErrorKind::LimitExceeded`] error once the
    /// output would pass `limit` bytes. Memory use stays within about twice the limit.
    pub fn decompress(self, bytes: &[u8], limit: u64) -> Result<Vec<u8>> {
        let read = match self {
            Compression::Gzip => read_bounded(flate2::read::MultiGzDecoder::new(bytes), limit),
            Compression::Zstd => {
                zstd::stream::read::Decoder::new(bytes).and_then(|r| read_bounded(r, limit))
            }
            Compression::Bzip2 => read_bounded(bzip2::read::MultiBzDecoder::new(bytes), limit),
            Compression::Xz => read_bounded(
                lzma_rust2::XzReader::new_mem_limit(bytes, true, XZ_MEMORY_LIMIT_KIB),
                limit,
            ),
        };
        match read {
            Ok(Some(out)) => Ok(out),
            Ok(None) => Err(crate::limits::exceeded(
                "max_decompressed_size",
                format!(
                    "the {} data inflates past {limit} bytes, the decompression limit for this \
                     {}-byte object",
                    self.name(),
                    bytes.len()
                ),
            )),
            Err(e) => Err(Error::new(
                ErrorKind::Decode,
                format!("not valid {} data: {e}", self.name()),
            )
            .with_source(e)),
        }
    }

    /// Compresses `bytes` at the codec's usual default level (gzip 6, zstd 3, bzip2 9,
    /// xz 6), as the command-line tools and pandas do.
    pub fn compress(self, bytes: &[u8]) -> Result<Vec<u8>> {
        self.compress_at(bytes, self.default_level())
    }

    /// The level [`compress`](Self::compress) uses: gzip 6, zstd 3, bzip2 9, xz 6.
    pub fn default_level(self) -> u32 {
        match self {
            Compression::Gzip | Compression::Xz => 6,
            Compression::Zstd => 3,
            Compression::Bzip2 => 9,
        }
    }

    /// The levels the codec takes: gzip and bzip2 1–9, zstd 1–22, xz 0–9. Higher is
    /// smaller and slower.
    pub fn levels(self) -> std::ops::RangeInclusive<u32> {
        match self {
            Compression::Gzip | Compression::Bzip2 => 1..=9,
            Compression::Zstd => 1..=22,
            Compression::Xz => 0..=9,
        }
    }

    /// Compresses `bytes` at `level`; a level outside [`levels`](Self::levels) is an
    /// [`ErrorKind::InvalidInput`] error.
    ///
    /// ```
    /// use s3io_formats::Compression;
    ///
    /// let text = b"id,name\n1,a\n".repeat(1000);
    /// let fast = Compression::Zstd.compress_at(&text, 1).unwrap();
    /// let small = Compression::Zstd.compress_at(&text, 19).unwrap();
    /// assert!(small.len() <= fast.len());
    /// assert!(Compression::Gzip.compress_at(&text, 10).is_err());
    /// ```
    pub fn compress_at(self, bytes: &[u8], level: u32) -> Result<Vec<u8>> {
        if !self.levels().contains(&level) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "compression level {level} is out of range for {}, which takes {}–{}",
                    self.name(),
                    self.levels().start(),
                    self.levels().end()
                ),
            ));
        }
        let written = match self {
            Compression::Gzip => {
                let mut w =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
                w.write_all(bytes).and_then(|()| w.finish())
            }
            // zstd's levels go up to 22; the range check above keeps the cast exact.
            Compression::Zstd => zstd::stream::encode_all(bytes, level as i32),
            Compression::Bzip2 => {
                let mut w =
                    bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(level));
                w.write_all(bytes).and_then(|()| w.finish())
            }
            Compression::Xz => {
                lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(level))
                    .and_then(|mut w| w.write_all(bytes).and_then(|()| w.finish()))
            }
        };
        written.map_err(|e| {
            Error::new(
                ErrorKind::Encode,
                format!("cannot compress with {}: {e}", self.name()),
            )
            .with_source(e)
        })
    }

    /// The codec's name in messages: `gzip`, `zstd`, `bzip2`, `xz`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
        }
    }
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.extension())
    }
}

/// Reads everything `reader` gives, up to `limit` bytes; `None` when there is more.
fn read_bounded(reader: impl Read, limit: u64) -> io::Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut out)?;
    Ok((out.len() as u64 <= limit).then_some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_codec_round_trips_and_respects_its_limit() {
        let text = "id,name\n1,Zoë\n".repeat(1000);
        for c in Compression::ALL {
            let packed = c.compress(text.as_bytes()).unwrap();
            assert!(packed.len() < text.len(), "{c} compresses");
            assert_eq!(
                c.decompress(&packed, text.len() as u64).unwrap(),
                text.as_bytes()
            );
            let err = c.decompress(&packed, text.len() as u64 - 1).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::LimitExceeded);
            assert!(err.message().contains("decompression limit"), "{err}");
            let err = c
                .decompress(&packed[..packed.len() / 2], u64::MAX)
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode, "{c}: truncated input");
            assert_eq!(Compression::from_extension(c.extension()), Some(c));
            assert_eq!(Compression::from_content_type(c.content_type()), Some(c));
        }
    }
}
