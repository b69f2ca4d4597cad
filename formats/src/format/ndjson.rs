//! `.jsonl`, `.ndjson`: newline-delimited JSON, one record (a JSON object) per line, as
//! pandas' `to_json(orient="records", lines=True)`, polars' `write_ndjson` and most log
//! pipelines write it. Frames are built and read with the same cell rules as `.json`.

use bytes::Bytes;
use serde_json::Value;

use super::codec::{Codec, cannot_encode, decode_error, encode_error};
use super::json;
use super::json::Record;
use super::table::{FrameCells, RecordColumns, Row, in_asked_order};
use crate::data::Data;
use crate::error::{Error, ErrorKind, Result};
use crate::settings::{ReadSettings, WriteSettings};
use serde::de::DeserializeSeed;

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
        let budget = options.budget();
        let columns = options.columns.as_deref();
        let mut table = RecordColumns::new(&budget);
        let limit = options.n_rows.unwrap_or(usize::MAX);
        let mut rows = 0;
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            if rows >= limit {
                break;
            }
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let mut failure = None;
            let record = Record {
                table: &mut table,
                failure: &mut failure,
                columns,
            };
            let mut text = serde_json::Deserializer::from_slice(line);
            let parsed = record.deserialize(&mut text).and_then(|()| text.end());
            match (failure, parsed) {
                (Some(failure), _) => return Err(failure),
                (None, Err(e)) if json::is_type_error(&e) => {
                    return Err(Error::new(
                        ErrorKind::Decode,
                        format!("line {} is not a JSON object (a record)", i + 1),
                    ));
                }
                (None, Err(e)) => {
                    return Err(decode_error(
                        &format!("line {} is not valid JSON", i + 1),
                        e,
                    ));
                }
                (None, Ok(())) => rows += 1,
            }
        }
        in_asked_order(table.finish()?, columns).map(Data::Frame)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(text: &str, options: &ReadSettings) -> Result<polars::prelude::DataFrame> {
        match Ndjson.decode(Bytes::from(text.to_owned()), options)? {
            Data::Frame(df) => Ok(df),
            other => panic!("ndjson decodes to a frame, not {other:?}"),
        }
    }

    #[test]
    fn lines_stream_into_columns_as_json_records_do() {
        let lines =
            "{\"a\": 1, \"b\": \"x\"}\r\n\n  \n{\"b\": \"y\", \"a\": 2, \"a\": 3}\n{\"c\": [1]}";
        let listed = "[{\"a\": 1, \"b\": \"x\"}, {\"b\": \"y\", \"a\": 3}, {\"c\": [1]}]";
        let options = ReadSettings::default();
        let expected = super::json::frame_from_value(
            &serde_json::from_str(listed).unwrap(),
            &options.budget(),
        )
        .unwrap();
        let df = frame(lines, &options).unwrap();
        assert!(df.equals_missing(&expected), "{df}\n{expected}");

        let first_two = ReadSettings {
            n_rows: Some(2),
            columns: Some(vec!["b".into(), "a".into()]),
            ..ReadSettings::default()
        };
        let df = frame(lines, &first_two).unwrap();
        assert_eq!(df.shape(), (2, 2));
        assert_eq!(df.get_column_names(), ["b", "a"]);
        assert_eq!(df.column("a").unwrap().i64().unwrap().get(1), Some(3));
    }

    #[test]
    fn a_bad_line_is_named() {
        let options = ReadSettings::default();
        let error = frame("{\"a\": 1}\n[1, 2]\n", &options).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Decode);
        assert!(
            error.to_string().contains("line 2 is not a JSON object"),
            "{error}"
        );
        let error = frame("{\"a\": 1}\n\n{\"a\": }\n", &options).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Decode);
        assert!(
            error.to_string().contains("line 3 is not valid JSON"),
            "{error}"
        );
    }
}
