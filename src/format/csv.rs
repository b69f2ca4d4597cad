//! `.csv`: comma-separated values with a header row, read and written by polars.

use std::io::Cursor;

use bytes::Bytes;
use polars::prelude::*;

use super::{Codec, cannot_encode, decode_error, encode_error};
use crate::data::Data;
use crate::error::Result;

/// Rows read to infer column types before parsing. When a later row does not fit, the file
/// is read again with every row inferred, so the result matches pandas' whole-file inference.
const INFER_ROWS: usize = 10_000;

pub(crate) struct Csv;

impl Codec for Csv {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["csv"]
    }

    fn content_type(&self) -> &'static str {
        "text/csv; charset=utf-8"
    }

    fn decode(&self, bytes: Bytes) -> Result<Data> {
        self.decode_frame(bytes).map(Data::Frame)
    }

    fn decode_frame(&self, bytes: Bytes) -> Result<DataFrame> {
        read(bytes.clone(), Some(INFER_ROWS))
            .or_else(|_| read(bytes, None))
            .map_err(|e| decode_error("not a valid CSV table", e))
    }

    fn encode(&self, data: &Data) -> Result<Vec<u8>> {
        let Data::Frame(df) = data else {
            return Err(cannot_encode(data, "csv", "a frame"));
        };
        let mut out = Vec::new();
        CsvWriter::new(&mut out)
            .include_header(true)
            .with_datetime_format(Some("%Y-%m-%d %H:%M:%S%.f".into()))
            .finish(&mut df.clone())
            .map_err(|e| encode_error("cannot write CSV", e))?;
        Ok(out)
    }
}

/// Parses a whole CSV held in memory, inferring types from the first `infer_rows` rows (all
/// rows with `None`).
fn read(bytes: Bytes, infer_rows: Option<usize>) -> PolarsResult<DataFrame> {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(infer_rows)
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
}
