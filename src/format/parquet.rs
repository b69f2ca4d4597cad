//! `.parquet`: Apache Parquet, read and written by polars. Dtypes travel as they are: integers
//! of every width, floats, strings, booleans, dates, datetimes with their time zone,
//! decimals, lists and structs.

use std::io::Cursor;

use bytes::Bytes;
use polars::prelude::*;

use super::{Codec, cannot_encode, decode_error, encode_error};
use crate::data::Data;
use crate::error::Result;
use crate::options::{ReadOptions, WriteOptions};

pub(crate) struct Parquet;

impl Codec for Parquet {
    fn name(&self) -> &'static str {
        "parquet"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["parquet", "pq"]
    }

    fn content_type(&self) -> &'static str {
        "application/vnd.apache.parquet"
    }

    fn other_content_types(&self) -> &'static [&'static str] {
        &["application/x-parquet", "application/parquet"]
    }

    fn decode(&self, bytes: Bytes, options: &ReadOptions) -> Result<Data> {
        self.decode_frame(bytes, options).map(Data::Frame)
    }

    fn decode_frame(&self, bytes: Bytes, _: &ReadOptions) -> Result<DataFrame> {
        ParquetReader::new(Cursor::new(bytes))
            .finish()
            .map_err(|e| decode_error("not a valid Parquet file", e))
    }

    /// Writes zstd-compressed pages with statistics, as polars does by default; pandas,
    /// pyarrow, DuckDB and Spark read them.
    fn encode(&self, data: &Data, _: &WriteOptions) -> Result<Vec<u8>> {
        let Data::Frame(df) = data else {
            return Err(cannot_encode(data, "parquet", "a frame"));
        };
        let mut out = Vec::new();
        ParquetWriter::new(&mut out)
            .finish(&mut df.clone())
            .map_err(|e| encode_error("cannot write Parquet", e))?;
        Ok(out)
    }
}
