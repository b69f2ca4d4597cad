#![no_main]
//! `Format::TEXT.decode_with` on arbitrary bytes.

use libfuzzer_sys::fuzz_target;
use s3io_formats::Format;

fuzz_target!(|data: &[u8]| s3io_fuzz::decode(Format::TEXT, None, data));
