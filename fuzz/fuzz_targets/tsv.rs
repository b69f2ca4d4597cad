#![no_main]
//! `Format::TSV.decode_with` on arbitrary bytes.

use libfuzzer_sys::fuzz_target;
use s3io_formats::Format;

fuzz_target!(|data: &[u8]| s3io_fuzz::decode(Format::TSV, None, data));
