//! `.json`: JSON documents, kept as `serde_json::Value`; frames travel as records.

use bytes::Bytes;
use polars::prelude::DataFrame;
use serde_json::Value;

use super::codec::{Codec, cannot_encode, decode_error, encode_error};
use super::table::{Cell, FrameBuilder, FrameCells, Records, frame_from_records};
use crate::data::Data;
use crate::error::{Error, ErrorKind, Result};
use crate::limits::OutputBudget;
use crate::settings::{ReadSettings, WriteSettings};

pub(crate) struct Json;

impl Codec for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["json"]
    }

    fn content_type(&self) -> &'static str {
        "application/json"
    }

    fn other_content_types(&self) -> &'static [&'static str] {
        &["text/json"]
    }

    fn is_text(&self) -> bool {
        true
    }

    fn decode(&self, bytes: Bytes, _: &ReadSettings) -> Result<Data> {
        parse(&bytes).map(Data::Json)
    }

    fn decode_frame(&self, bytes: Bytes, options: &ReadSettings) -> Result<DataFrame> {
        frame_from_value(&parse(&bytes)?, &options.budget())
    }

    fn encode(&self, data: &Data, _: &WriteSettings) -> Result<Vec<u8>> {
        let written = match data {
            Data::Json(value) => serde_json::to_vec(value),
            Data::Pickle(value) => {
                serde_json::to_vec(&super::pickle::value_to_json(value.clone())?)
            }
            Data::Frame(df) => {
                let cells =
                    FrameCells::new(df).map_err(|m| Error::new(ErrorKind::Unsupported, m))?;
                serde_json::to_vec(&Records(&cells))
            }
            Data::Text(_) => {
                return Err(cannot_encode(
                    data,
                    "json",
                    "a serde_json::Value, a pickle value or a frame; parse JSON text with \
                     serde_json::from_str first, or upload Bytes to store it unchanged",
                ));
            }
            _ => {
                return Err(cannot_encode(
                    data,
                    "json",
                    "a JSON value, a pickle value or a frame",
                ));
            }
        };
        written.map_err(|e| encode_error("cannot write JSON", e))
    }
}

/// A JSON document. serde_json's recursion limit (128) stays on: deep documents fail, never
/// overflow.
fn parse(bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|e| decode_error("not valid JSON", e))
}

/// A frame from a JSON value already in memory, which may make up to
/// [`DECODED_MAX_RATIO`](crate::Limits::DECODED_MAX_RATIO) times the cells it holds.
pub(crate) fn frame_from_held(value: &Value) -> Result<DataFrame> {
    let held = match value {
        Value::Array(rows) => rows
            .iter()
            .filter_map(Value::as_object)
            .map(|r| r.len())
            .sum(),
        _ => 0,
    };
    frame_from_value(value, &OutputBudget::for_held_cells(held))
}

/// A frame from JSON holding a table in one of pandas' layouts: records
/// (`[{"a": 1}, {"a": 2}]`, `orient="records"`), a dict of columns (`{"a": [1, 2]}`), or a
/// dict of dicts keyed by row label (`{"a": {"0": 1, "1": 2}}`, pandas' default `to_json`).
pub(crate) fn frame_from_value(value: &Value, budget: &OutputBudget) -> Result<DataFrame> {
    let not_a_table = |why: &str| {
        Error::new(
            ErrorKind::Unsupported,
            format!("this JSON is not a table: {why}"),
        )
    };
    let mut builder = FrameBuilder::default();
    match value {
        Value::Array(rows) => {
            if let Some(i) = rows.iter().position(|row| !row.is_object()) {
                return Err(not_a_table(&format!(
                    "item {i} of the list is not an object"
                )));
            }
            let records = rows
                .iter()
                .filter_map(Value::as_object)
                .map(|row| row.iter().map(|(name, value)| (name.clone(), cell(value))));
            return frame_from_records(records, budget);
        }
        Value::Object(columns) => {
            for (name, column) in columns {
                let cells = match column {
                    Value::Array(items) => items.iter().map(cell).collect(),
                    Value::Object(by_label) => by_label.values().map(cell).collect(),
                    _ => return Err(not_a_table(&format!("column {name:?} is not a list"))),
                };
                builder.push(name, cells).map_err(|m| not_a_table(&m))?;
            }
        }
        _ => {
            return Err(not_a_table(
                "expected a list of records or an object of columns",
            ));
        }
    }
    builder.finish().map_err(|m| not_a_table(&m))
}

/// One JSON value as a table cell; nested arrays and objects keep their JSON text.
pub(crate) fn cell(value: &Value) -> Cell<'_> {
    match value {
        Value::Null => Cell::Null,
        Value::Bool(b) => Cell::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.is_u64()) {
            (Some(i), _) => Cell::Int(i),
            // Integers past i64 keep every digit as text rather than round to a float.
            (None, true) => Cell::Str(n.to_string().into()),
            (None, false) => n.as_f64().map_or(Cell::Null, Cell::Float),
        },
        Value::String(s) => Cell::Str(s.as_str().into()),
        nested => Cell::Str(nested.to_string().into()),
    }
}
