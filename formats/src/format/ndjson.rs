//! `.jsonl`, `.ndjson`: newline-delimited JSON, one record (a JSON object) per line, as
//! pandas' `to_json(orient="records", lines=True)`, polars' `write_ndjson` and most log
//! pipelines write it. Frames are built and read with the same cell rules as `.json`.

use bytes::Bytes;
use serde_json::Value;

use super::codec::{
    Codec, DecodeParts, Fed, PIECE_BYTES, PartsInto, PieceWorkers, cannot_encode, decode_error,
    encode_error,
};
use super::json;
use super::json::Record;
use super::table::{FrameCells, RecordColumns, Row, StackedRecords, TypedPiece, in_asked_order};
use crate::data::Data;
use crate::error::{Error, ErrorKind, Result};
use crate::settings::{ReadSettings, WriteSettings};
use serde::de::DeserializeSeed;

pub(crate) struct Ndjson;

/// Reads the records of `text`, whose first line is line `first_line + 1`, into `table`, up
/// to `limit` records; the lines it began, for the next piece's numbering.
fn read_lines<'a>(
    text: &'a [u8],
    first_line: usize,
    table: &mut RecordColumns<'a, '_>,
    columns: Option<&[String]>,
    limit: usize,
) -> Result<usize> {
    let mut rows = 0;
    let mut lines = 0;
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        lines = i;
        if rows >= limit {
            break;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let number = first_line + i + 1;
        let mut failure = None;
        let record = Record {
            table: &mut *table,
            failure: &mut failure,
            columns,
        };
        let mut json = serde_json::Deserializer::from_slice(line);
        let parsed = record.deserialize(&mut json).and_then(|()| json.end());
        match (failure, parsed) {
            (Some(failure), _) => return Err(failure),
            (None, Err(e)) if json::is_type_error(&e) => {
                return Err(Error::new(
                    ErrorKind::Decode,
                    format!("line {number} is not a JSON object (a record)"),
                ));
            }
            (None, Err(e)) => {
                return Err(decode_error(&format!("line {number} is not valid JSON"), e));
            }
            (None, Ok(())) => rows += 1,
        }
    }
    Ok(lines)
}

/// NDJSON decoded from its parts as they arrive: each piece of whole lines (cut at a line
/// break about every [`PIECE_BYTES`] and at the last of each part) becomes typed columns
/// on its own thread ([`PieceWorkers`]),
/// and the pieces are stacked at the end ([`StackedRecords`]), which gives up where the
/// stacked frame could differ.
struct NdjsonParts {
    settings: ReadSettings,
    /// The text after the last line break so far.
    pending: Vec<u8>,
    /// The lines in the pieces cut so far.
    lines: usize,
    /// About how many bytes a piece holds.
    every: usize,
    workers: PieceWorkers<Result<TypedPiece>>,
    stacked: StackedRecords,
}

impl NdjsonParts {
    fn new(settings: &ReadSettings, every: usize) -> Self {
        NdjsonParts {
            settings: settings.clone(),
            pending: Vec::new(),
            lines: 0,
            every,
            workers: PieceWorkers::new(),
            stacked: StackedRecords::new(),
        }
    }

    /// Starts reading a piece of whole lines.
    fn read_piece(&mut self, piece: Bytes) -> Result<Fed> {
        let (budget, first_line) = (self.settings.budget(), self.lines);
        let columns = self.settings.columns.clone();
        self.lines += memchr::memchr_iter(b'\n', &piece).count();
        let parse = move || {
            let mut table = RecordColumns::new(&budget);
            read_lines(
                &piece,
                first_line,
                &mut table,
                columns.as_deref(),
                usize::MAX,
            )?;
            Ok(table.into_piece())
        };
        match self.workers.start(parse) {
            Some(done) => self.take(done),
            None => Ok(Fed::More),
        }
    }

    /// Stacks a parsed piece, in order.
    fn take(&mut self, parsed: Result<Result<TypedPiece>>) -> Result<Fed> {
        Ok(if self.stacked.push(parsed??) {
            Fed::More
        } else {
            Fed::WholeObject
        })
    }
}

impl DecodeParts for NdjsonParts {
    fn push(&mut self, part: Bytes) -> Result<Fed> {
        let Some(end) = memchr::memrchr(b'\n', &part) else {
            self.pending.extend_from_slice(&part);
            return Ok(Fed::More);
        };
        let mut start = 0;
        while start <= end {
            // The first line break `every` bytes on, or the part's last.
            let on = part.get(start + self.every..=end).unwrap_or_default();
            let cut = memchr::memchr(b'\n', on).map_or(end, |at| start + self.every + at);
            let piece = if self.pending.is_empty() {
                part.slice(start..=cut)
            } else {
                let mut piece = std::mem::take(&mut self.pending);
                piece.extend_from_slice(&part[start..=cut]);
                Bytes::from(piece)
            };
            if self.read_piece(piece)? == Fed::WholeObject {
                return Ok(Fed::WholeObject);
            }
            start = cut + 1;
        }
        self.pending = part[end + 1..].to_vec();
        Ok(Fed::More)
    }

    fn finish(mut self: Box<Self>) -> Result<Option<Data>> {
        let last = Bytes::from(std::mem::take(&mut self.pending));
        if self.read_piece(last)? == Fed::WholeObject {
            return Ok(None);
        }
        let workers = std::mem::replace(&mut self.workers, PieceWorkers::new());
        for parsed in workers.finish() {
            if self.take(parsed)? == Fed::WholeObject {
                return Ok(None);
            }
        }
        let df = self.stacked.finish(&self.settings.budget())?;
        in_asked_order(df, self.settings.columns.as_deref()).map(|df| Some(Data::Frame(df)))
    }
}

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
        let mut table = RecordColumns::new(&budget);
        let limit = options.n_rows.unwrap_or(usize::MAX);
        read_lines(&bytes, 0, &mut table, options.columns.as_deref(), limit)?;
        in_asked_order(table.finish()?, options.columns.as_deref()).map(Data::Frame)
    }

    /// Lines are whole in every piece cut at a line break: a JSON line holds no raw line
    /// break. Without `n_rows`. A frame either way.
    fn part_decoder(
        &'static self,
        options: &ReadSettings,
        _: PartsInto,
    ) -> Option<Box<dyn DecodeParts>> {
        options
            .n_rows
            .is_none()
            .then(|| Box::new(NdjsonParts::new(options, PIECE_BYTES)) as Box<dyn DecodeParts>)
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
    use crate::format::codec::parts_for_tests::*;

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

    #[test]
    fn parts_cut_anywhere_give_the_whole_frame() {
        let text = "\u{feff}{\"a\": 1, \"s\": \"\u{e9}t\u{e9} \u{6771}\u{4eac}\"}\r\n\n\
                    {\"s\": null, \"a\": 2.5, \"late\": true}\n   \n\
                    {\"a\": null, \"n\": {\"x\": [1, 2]}, \"s\": \"q\\\"\\n\"}\n\
                    {\"a\": 7, \"late\": null, \"z\": null}\r\n\
                    {\"s\": \"last\"}";
        let whole = assert_every_cut_gives_the_whole_frame("t.ndjson", text);
        assert_eq!(whole.shape(), (5, 5), "{whole}");
        let settings = ReadSettings::default();
        let text = text.trim_start_matches('\u{feff}');
        assert_every_piece_size_gives_the_whole_frame("t.ndjson", text, |every| {
            Box::new(NdjsonParts::new(&settings, every))
        });
    }

    #[test]
    fn parts_give_up_where_numbers_and_text_share_a_column() {
        let text = "{\"a\": 1}\n{\"a\": 2}\n{\"a\": \"x\"}\n";
        let whole = crate::Format::NDJSON.decode_frame(text).unwrap();
        assert_eq!(whole.column("a").unwrap().str().unwrap().get(0), Some("1"));
        // Cut after the first line, the number and the text are in different pieces.
        assert!(
            frame_in_parts("t.ndjson", text.as_bytes(), 9)
                .unwrap()
                .is_none()
        );
        // In one piece, the piece spells its numbers as the whole decode does.
        let df = frame_in_parts("t.ndjson", text.as_bytes(), text.len())
            .unwrap()
            .unwrap();
        assert!(df.equals_missing(&whole));
    }

    #[test]
    fn errors_in_parts_name_the_line_of_the_object() {
        let text = "{\"a\": 1}\n{\"a\": 2}\n\n{\"a\": }\n";
        for size in [1, 4, 10, 100] {
            let error = frame_in_parts("t.ndjson", text.as_bytes(), size).unwrap_err();
            assert!(
                error.to_string().contains("line 4 is not valid JSON"),
                "{size}: {error}"
            );
        }
    }
}
