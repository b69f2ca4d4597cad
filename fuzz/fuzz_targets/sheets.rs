#![no_main]
//! `Format::decode_sheets_with`: every sheet of a workbook, under one output budget. The
//! first byte picks the kind, as in the `excel` target.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((format, workbook)) = s3io_fuzz::workbook(data) {
        s3io_fuzz::decode_sheets(format, workbook);
    }
});
