#![no_main]
//! The compression layer: the first byte picks gzip, zstd, bzip2 or xz (modulo 4); the rest
//! is decompressed under the 64 MiB limit and read as CSV.

use libfuzzer_sys::fuzz_target;
use s3io_formats::Format;

fuzz_target!(|data: &[u8]| {
    if let Some((compression, rest)) = s3io_fuzz::compression(data) {
        s3io_fuzz::decode(Format::CSV, Some(compression), rest);
    }
});
