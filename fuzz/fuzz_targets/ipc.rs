#![no_main]
//! `Format::IPC.decode_with` on arbitrary bytes.

use libfuzzer_sys::fuzz_target;
use s3io::Format;

fuzz_target!(|data: &[u8]| s3io_fuzz::decode(Format::IPC, None, data));
