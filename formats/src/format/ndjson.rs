//! `.jsonl`, `.ndjson`: newline-delimited JSON, one record (a JSON object) per line, as
//! pandas' `to_json(orient="records", lines=True)`, polars' `write_ndjson` and most log
//! pipelines write it. Frames are built and read with the same cell rules as `.json`.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::codec::{Codec, cannot_encode, decode_error, encode_error};
use super::json;
use super::table::{FrameCells, Row, frame_from_records, in_asked_order};
use crate::data::Data;
use crate::error::{Error, ErrorKind, Result};
use crate::settings::{ReadSettings, WriteSettings};

pub(crate) struct Ndjson;

impl Codec for Ndjson {
    fn name(&self) -> &'static str {
        "ndjson"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["jsonl", "ndjson"]
    }

    fn content_type(&self) -> &'static str {
        "application/x-ndjson"
    }

    fn other_content_types(&self) -> &'static [&'static str] {
        &[
            "application/jsonl",
            "application/ndjson",
            "application/jsonlines",
        ]
    }

    fn is_text(&self) -> bool {
        true
    }

    /// Every non-blank line must be a JSON object; columns appear in the order their keys are
    /// first seen, and a record without a key has a null there.
    fn decode(&self, bytes: Bytes, options: &ReadSettings) -> Result<Data> {
        let mut records: Vec<Map<String, Value>> = Vec::new();
        let limit = options.n_rows.unwrap_or(usize::MAX);
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            if records.len() >= limit {
                break;
            }
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let value: Value = serde_json::from_slice(line)
                .map_err(|e| decode_error(&format!("line {} is not valid JSON", i + 1), e))?;
            let Value::Object(record) = value else {
                return Err(Error::new(
                    ErrorKind::Decode,
                    format!("line {} is not a JSON object (a record)", i + 1),
                ));
            };
            records.push(record);
        }
        let columns = options.columns.as_deref();
        let kept = |key: &String| columns.is_none_or(|names| names.contains(key));
        let rows = records.iter().map(|record| {
            let cells = record.iter().filter(|(k, _)| kept(k));
            cells.map(|(k, v)| (k.clone(), json::cell(v)))
        });
        let df = frame_from_records(rows, &options.budget())?;
        in_asked_order(df, columns).map(Data::Frame)
    }

    /// A frame writes one record per row; a JSON array writes one line per item.
    fn encode(&self, data: &Data, _: &WriteSettings) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let line = |out: &mut Vec<u8>, written: serde_json::Result<()>| {
            out.push(b'\n');
            written.map_err(|e| encode_error("cannot write JSON", e))
        };
        match data {
            Data::Frame(df) => {
                let cells =
                    FrameCells::new(df).map_err(|m| Error::new(ErrorKind::Unsupported, m))?;
                for row in 0..cells.height() {
                    let written = serde_json::to_writer(&mut out, &Row(&cells, row));
                    line(&mut out, written)?;
                }
            }
            Data::Json(Value::Array(items)) => {
                for item in items {
                    let written = serde_json::to_writer(&mut out, item);
                    line(&mut out, written)?;
                }
            }
            _ => return Err(cannot_encode(data, "ndjson", "a frame or a JSON array")),
        }
        Ok(out)
    }
}
