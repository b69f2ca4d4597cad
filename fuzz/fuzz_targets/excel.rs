#![no_main]
//! Every workbook kind: the first byte picks xlsx, xlsm, xlsb, xls or ods (in the order of
//! `Format::WORKBOOKS`, modulo 5); the rest is the workbook.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((format, workbook)) = s3io_fuzz::workbook(data) {
        s3io_fuzz::decode(format, None, workbook);
    }
});
