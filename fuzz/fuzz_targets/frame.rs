#![no_main]
//! `Format::decode_frame_with` on JSON, NDJSON and pickles: the first byte picks the format
//! (0 JSON, 1 NDJSON, 2 pickle, modulo 3); records and dicts of columns become frames.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((format, table)) = s3io_fuzz::table(data) {
        s3io_fuzz::decode_frame(format, table);
    }
});
