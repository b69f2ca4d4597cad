//! `.arrow`, `.feather`, `.ipc`: the Arrow IPC file format (Feather v2), read and written by
//! polars. pyarrow's `feather.write_feather` (lz4 or zstd compressed) and polars'
//! `write_ipc` files are read, and Arrow IPC streams too (told apart by the file magic).
//! Dtypes travel as they are, like Parquet's.

use std::io::Cursor;

use bytes::Bytes;
use polars::prelude::*;

use super::{Codec, cannot_encode, decode_error, encode_error};
use crate::data::Data;
use crate::error::Result;
use crate::options::{ReadOptions, WriteOptions};

/// The first bytes of an Arrow IPC file; streams start otherwise.
const FILE_MAGIC: &[u8] = b"ARROW1";

pub(crate) struct Ipc;

impl Codec for Ipc {
    fn name(&self) -> &'static str {
        "arrow"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["arrow", "feather", "ipc"]
    }

    fn content_type(&self) -> &'static str {
        "application/vnd.apache.arrow.file"
    }

    fn other_content_types(&self) -> &'static [&'static str] {
        &[
            "application/vnd.apache.arrow.stream",
            "application/x-feather",
        ]
    }

    fn decode(&self, bytes: Bytes, options: &ReadOptions) -> Result<Data> {
        self.decode_frame(bytes, options).map(Data::Frame)
    }

    fn decode_frame(&self, bytes: Bytes, _: &ReadOptions) -> Result<DataFrame> {
        if bytes.starts_with(FILE_MAGIC) {
            IpcReader::new(Cursor::new(bytes))
                .finish()
                .map_err(|e| decode_error("not a valid Arrow IPC file", e))
        } else {
            IpcStreamReader::new(Cursor::new(bytes))
                .finish()
                .map_err(|e| decode_error("not a valid Arrow IPC file or stream", e))
        }
    }

    /// Writes an uncompressed IPC file at the oldest compatibility level (large strings
    /// rather than string views), which every Arrow reader since pyarrow 1.0 accepts.
    fn encode(&self, data: &Data, _: &WriteOptions) -> Result<Vec<u8>> {
        let Data::Frame(df) = data else {
            return Err(cannot_encode(data, "arrow", "a frame"));
        };
        let mut out = Vec::new();
        IpcWriter::new(&mut out)
            .with_compat_level(CompatLevel::oldest())
            .finish(&mut df.clone())
            .map_err(|e| encode_error("cannot write Arrow IPC", e))?;
        Ok(out)
    }
}
