//! `.json`: JSON documents, kept as `serde_json::Value`; frames travel as records.

use bytes::Bytes;
use polars::prelude::DataFrame;
use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

use super::codec::{
    Codec, DecodeParts, Fed, PIECE_BYTES, PartsInto, PieceWorkers, cannot_encode, decode_error,
    encode_error,
};
use super::table::{
    Cell, FrameBuilder, FrameCells, RecordColumns, Records, StackedRecords, TypedPiece,
    frame_from_records,
};
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
        let budget = options.budget();
        let starts = bytes.iter().find(|b| !b" \t\r\n".contains(b));
        if starts != Some(&b'[') {
            return frame_from_value(&parse(&bytes)?, &budget);
        }
        // A list of records goes straight into columns, never through a `Value`.
        let mut table = RecordColumns::new(&budget);
        read_records(&bytes, &mut table)?;
        table.finish()
    }

    /// A top-level list, cut between its items as the parts arrive: into a frame, a list of
    /// records; into a value, any list. Without `columns` or `n_rows`, which the
    /// whole-object decode does not apply either.
    fn part_decoder(
        &'static self,
        options: &ReadSettings,
        into: PartsInto,
    ) -> Option<Box<dyn DecodeParts>> {
        (options.n_rows.is_none() && options.columns.is_none())
            .then(|| Box::new(ListParts::new(options, into, PIECE_BYTES)) as Box<dyn DecodeParts>)
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

/// Reads the list of records `text` holds into `table`.
fn read_records<'de>(text: &'de [u8], table: &mut RecordColumns<'de, '_>) -> Result<()> {
    let (mut failure, mut item) = (None, 0);
    let mut json = serde_json::Deserializer::from_slice(text);
    let seed = RecordList {
        table,
        failure: &mut failure,
        item: &mut item,
    };
    let parsed = seed.deserialize(&mut json).and_then(|()| json.end());
    match (failure, parsed) {
        (Some(failure), _) => Err(failure),
        // Text that parses, of the wrong type: a list item that is not an object.
        (None, Err(e)) if is_type_error(&e) => Err(not_a_table(&format!(
            "item {item} of the list is not an object"
        ))),
        (None, Err(e)) => Err(decode_error("not valid JSON", e)),
        (None, Ok(())) => Ok(()),
    }
}

/// Follows a JSON document across its parts to find where the items of its top-level list
/// part: the commas between them, outside strings, one level deep.
#[derive(Debug, Default)]
struct ListScan {
    /// How deep in brackets and braces: 0 before the list opens, 1 between its items.
    depth: usize,
    in_string: bool,
    /// The last byte was a backslash inside a string.
    escaped: bool,
    /// The list has closed; only whitespace may follow.
    closed: bool,
}

/// What [`ListScan::scan`] found in a part.
#[derive(Debug, Default, PartialEq)]
struct Found {
    /// The offset just past the list's opening bracket, when it opened in this part.
    opened: Option<usize>,
    /// Where to cut, in order: a comma between items about every so many bytes, and the
    /// last comma between items or the closing bracket.
    cuts: Vec<usize>,
}

impl ListScan {
    /// Scans the next part, to cut it about `every` bytes; `None` when the text is not a
    /// list, or not one the scan can vouch for (the whole-object decode then says what is
    /// wrong).
    fn scan(&mut self, part: &[u8], every: usize) -> Option<Found> {
        let mut found = Found::default();
        let (mut last, mut next) = (None, every);
        let mut i = 0;
        while i < part.len() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    i += 1;
                    continue;
                }
                let Some(at) = memchr::memchr2(b'"', b'\\', &part[i..]) else {
                    break;
                };
                i += at;
                if part[i] == b'\\' {
                    self.escaped = true;
                } else {
                    self.in_string = false;
                }
                i += 1;
                continue;
            }
            let byte = part[i];
            let blank = b" \t\r\n".contains(&byte);
            if self.closed || self.depth == 0 {
                match byte {
                    _ if blank => {}
                    b'[' if !self.closed => {
                        self.depth = 1;
                        found.opened = Some(i + 1);
                    }
                    _ => return None,
                }
                i += 1;
                continue;
            }
            match byte {
                b'"' => self.in_string = true,
                b'[' | b'{' => self.depth += 1,
                b']' | b'}' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        self.closed = true;
                        last = None;
                        found.cuts.push(i);
                    }
                }
                b',' if self.depth == 1 => {
                    last = Some(i);
                    if i >= next {
                        found.cuts.push(i);
                        next = i + every;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        if let Some(last) = last.filter(|&last| found.cuts.last() != Some(&last)) {
            found.cuts.push(last);
        }
        Some(found)
    }
}

/// A JSON list decoded from its parts as they arrive: the text is cut at commas between
/// items, about every [`PIECE_BYTES`] and at the last of each part, and each piece is
/// parsed on its own thread
/// ([`PieceWorkers`]), into typed columns stacked at the end ([`StackedRecords`]) or into
/// values. Anything the pieces cannot vouch for (a piece that does not parse, an empty
/// item, a column typed differently across pieces) sends the object to the whole-object
/// decode, which gives the answer.
struct ListParts {
    settings: ReadSettings,
    into: PartsInto,
    scan: ListScan,
    /// The list's text since the last cut.
    pending: Vec<u8>,
    /// The pieces cut so far.
    pieces: usize,
    /// About how many bytes a piece holds.
    every: usize,
    workers: PieceWorkers<Option<Piece>>,
    items: Items,
}

/// What the pieces of a [`ListParts`] become.
enum Items {
    /// Records, for a frame.
    Records(StackedRecords),
    /// The list's items, for a JSON value.
    Values(Vec<Value>),
}

/// One piece, parsed.
enum Piece {
    Records(TypedPiece),
    Values(Vec<Value>),
}

/// Parses `text`, a list holding one piece's items; `None` when it does not parse.
fn parse_piece(text: &[u8], into: PartsInto, budget: &OutputBudget) -> Option<Piece> {
    match into {
        PartsInto::Frame => {
            let mut table = RecordColumns::new(budget);
            read_records(text, &mut table).ok()?;
            Some(Piece::Records(table.into_piece()))
        }
        PartsInto::Data => match parse(text).ok()? {
            Value::Array(items) => Some(Piece::Values(items)),
            _ => None,
        },
    }
}

impl ListParts {
    fn new(settings: &ReadSettings, into: PartsInto, every: usize) -> Self {
        ListParts {
            every,
            settings: settings.clone(),
            into,
            scan: ListScan::default(),
            pending: Vec::new(),
            pieces: 0,
            workers: PieceWorkers::new(),
            items: match into {
                PartsInto::Frame => Items::Records(StackedRecords::new()),
                PartsInto::Data => Items::Values(Vec::new()),
            },
        }
    }

    /// Starts reading the items between two cuts: `head`, the text held from earlier parts,
    /// then `tail`.
    fn read_piece(&mut self, head: &[u8], tail: &[u8]) -> Fed {
        let blank = |text: &[u8]| text.iter().all(|b| b" \t\r\n".contains(b));
        // `[,` `,,` and `,]` are not JSON; `[ ]` is the empty list.
        if blank(head) && blank(tail) && (self.pieces > 0 || !self.scan.closed) {
            return Fed::WholeObject;
        }
        self.pieces += 1;
        let mut text = Vec::with_capacity(head.len() + tail.len() + 2);
        text.push(b'[');
        text.extend_from_slice(head);
        text.extend_from_slice(tail);
        text.push(b']');
        let (into, budget) = (self.into, self.settings.budget());
        match self
            .workers
            .start(move || parse_piece(&text, into, &budget))
        {
            Some(done) => self.take(done),
            None => Fed::More,
        }
    }

    /// Adds a parsed piece to the items, in order.
    fn take(&mut self, parsed: Result<Option<Piece>>) -> Fed {
        let added = match (&mut self.items, parsed) {
            (Items::Records(stacked), Ok(Some(Piece::Records(piece)))) => stacked.push(piece),
            (Items::Values(values), Ok(Some(Piece::Values(piece)))) => {
                values.extend(piece);
                true
            }
            _ => false,
        };
        if added { Fed::More } else { Fed::WholeObject }
    }
}

impl DecodeParts for ListParts {
    fn push(&mut self, part: Bytes) -> Result<Fed> {
        let was_closed = self.scan.closed;
        let Some(found) = self.scan.scan(&part, self.every) else {
            return Ok(Fed::WholeObject);
        };
        if was_closed || self.scan.depth == 0 && !self.scan.closed {
            // Whitespace around the list.
            return Ok(Fed::More);
        }
        let mut start = found.opened.unwrap_or(0);
        for cut in found.cuts {
            let head = std::mem::take(&mut self.pending);
            if self.read_piece(&head, &part[start..cut]) == Fed::WholeObject {
                return Ok(Fed::WholeObject);
            }
            start = cut + 1;
        }
        if !self.scan.closed {
            self.pending.extend_from_slice(&part[start..]);
        }
        Ok(Fed::More)
    }

    fn finish(mut self: Box<Self>) -> Result<Option<Data>> {
        if !self.scan.closed {
            return Ok(None);
        }
        let workers = std::mem::replace(&mut self.workers, PieceWorkers::new());
        for parsed in workers.finish() {
            if self.take(parsed) == Fed::WholeObject {
                return Ok(None);
            }
        }
        Ok(Some(match self.items {
            Items::Records(stacked) => Data::Frame(stacked.finish(&self.settings.budget())?),
            Items::Values(values) => Data::Json(Value::Array(values)),
        }))
    }
}

/// A JSON document. serde_json's recursion limit (128) stays on: deep documents fail, never
/// overflow.
fn parse(bytes: &[u8]) -> Result<Value> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let value = SizedValue::new(&mut [0; SIZE_HINTS])
        .deserialize(&mut json)
        .and_then(|value| json.end().map(|()| value));
    value.map_err(|e| decode_error("not valid JSON", e))
}

/// How many levels of nesting [`SizedValue`] remembers an object's size for.
const SIZE_HINTS: usize = 4;

/// A JSON value, the one `serde_json::Value`'s own deserializer makes, with each object's
/// map made at once as large as the last object at its depth: the records of a table
/// repeat their keys, and a map grown key by key spends more on growing than on its keys.
struct SizedValue<'h> {
    /// The key count of the last object seen at each depth.
    hints: &'h mut [usize; SIZE_HINTS],
    depth: usize,
}

impl<'h> SizedValue<'h> {
    fn new(hints: &'h mut [usize; SIZE_HINTS]) -> Self {
        SizedValue { hints, depth: 0 }
    }

    fn deeper(&mut self) -> SizedValue<'_> {
        SizedValue {
            hints: self.hints,
            depth: self.depth + 1,
        }
    }
}

impl<'de> DeserializeSeed<'de> for SizedValue<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SizedValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Number(i.into()))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(Value::Number(u.into()))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut items: A) -> Result<Value, A::Error> {
        let mut list = Vec::with_capacity(items.size_hint().unwrap_or(0));
        while let Some(item) = items.next_element_seed(self.deeper())? {
            list.push(item);
        }
        Ok(Value::Array(list))
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut entries: A) -> Result<Value, A::Error> {
        let hint = self.hints.get(self.depth).copied().unwrap_or(0);
        let mut map = serde_json::Map::with_capacity(hint);
        while let Some(key) = entries.next_key::<String>()? {
            let value = entries.next_value_seed(self.deeper())?;
            map.insert(key, value);
        }
        if let Some(hint) = self.hints.get_mut(self.depth) {
            *hint = map.len();
        }
        Ok(Value::Object(map))
    }
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
fn not_a_table(why: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!("this JSON is not a table: {why}"),
    )
}

pub(crate) fn frame_from_value(value: &Value, budget: &OutputBudget) -> Result<DataFrame> {
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

/// The list of records a JSON document holds, parsed straight into `table`.
struct RecordList<'t, 'de, 'b> {
    table: &'t mut RecordColumns<'de, 'b>,
    /// Why parsing stopped, when it was not the JSON text's fault.
    failure: &'t mut Option<Error>,
    /// The item being read, counted from 0.
    item: &'t mut usize,
}

impl<'de> DeserializeSeed<'de> for RecordList<'_, 'de, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RecordList<'_, 'de, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        loop {
            let record = Record {
                table: &mut *self.table,
                failure: &mut *self.failure,
                columns: None,
            };
            if items.next_element_seed(record)?.is_none() {
                return Ok(());
            }
            *self.item += 1;
        }
    }
}

/// Whether a parse failed on a value of the wrong type (a list item or a line that is not
/// an object) rather than on the text: serde_json's data category, which also holds the
/// errors a visitor raises itself (those leave their own `failure`, read first).
pub(crate) fn is_type_error(e: &serde_json::Error) -> bool {
    e.classify() == serde_json::error::Category::Data
}

/// One record (a JSON object), added to `table` as one row. Keys outside `columns`, when
/// given, are skipped.
pub(crate) struct Record<'t, 'de, 'b> {
    pub(crate) table: &'t mut RecordColumns<'de, 'b>,
    pub(crate) failure: &'t mut Option<Error>,
    pub(crate) columns: Option<&'t [String]>,
}

impl<'de> DeserializeSeed<'de> for Record<'_, 'de, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Record<'_, 'de, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record (an object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut record: A) -> Result<(), A::Error> {
        let mut stop = |e: Error| {
            let text = e.to_string();
            *self.failure = Some(e);
            de::Error::custom(text)
        };
        while let Some(Key(name)) = record.next_key()? {
            if self
                .columns
                .is_some_and(|names| !names.iter().any(|n| *n == name))
            {
                record.next_value::<IgnoredAny>()?;
                continue;
            }
            let col = self.table.column(&name).map_err(&mut stop)?;
            let CellValue(cell) = record.next_value()?;
            self.table.put(col, cell);
        }
        self.table.end_row().map_err(stop)
    }
}

/// A key, borrowed from the text unless it holds escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// One JSON value as a table cell, by the rules of [`cell`]: text borrowed from the input
/// where it can be, nested lists and objects kept as their JSON text.
struct CellValue<'de>(Cell<'de>);

impl<'de> Deserialize<'de> for CellValue<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct CellVisitor;
        impl<'de> Visitor<'de> for CellVisitor {
            type Value = CellValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(CellValue(Cell::Null))
            }
            fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
                Ok(CellValue(Cell::Bool(b)))
            }
            fn visit_i64<E>(self, i: i64) -> Result<Self::Value, E> {
                Ok(CellValue(Cell::Int(i)))
            }
            fn visit_u64<E>(self, u: u64) -> Result<Self::Value, E> {
                // Past i64, keep every digit as text rather than round to a float.
                let cell =
                    i64::try_from(u).map_or_else(|_| Cell::Str(u.to_string().into()), Cell::Int);
                Ok(CellValue(cell))
            }
            fn visit_f64<E>(self, f: f64) -> Result<Self::Value, E> {
                Ok(CellValue(Cell::Float(f)))
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(CellValue(Cell::Str(Cow::Borrowed(s))))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(CellValue(Cell::Str(Cow::Owned(s.to_owned()))))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(CellValue(Cell::Str(Cow::Owned(s))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, items: A) -> Result<Self::Value, A::Error> {
                let nested = Value::deserialize(SeqAccessDeserializer::new(items))?;
                Ok(CellValue(Cell::Str(nested.to_string().into())))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let nested = Value::deserialize(MapAccessDeserializer::new(map))?;
                Ok(CellValue(Cell::Str(nested.to_string().into())))
            }
        }
        d.deserialize_any(CellVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::codec::parts_for_tests::*;
    use crate::limits::Limits;

    /// The frame the streaming path makes, and the one made through a parsed `Value`.
    fn both(text: &str) -> (Result<DataFrame>, Result<DataFrame>) {
        let options = ReadSettings::default();
        let streamed = Json.decode_frame(Bytes::from(text.to_owned()), &options);
        let through_value =
            parse(text.as_bytes()).and_then(|value| frame_from_value(&value, &options.budget()));
        (streamed, through_value)
    }

    #[test]
    fn sized_values_are_serde_json_values() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let texts = [
            r#"[{"a": 1, "b": [1, 2.5, -3, 18446744073709551615], "c": {"z": null, "a": true}}]"#,
            r#"[{"k": 1, "k": 2, "j": 3}, {}, {"x": {"y": {"z": {"w": {"v": [{}]}}}}}]"#,
            r#"{"b": "\u00e9\ud83d\ude00\n", "a": [], "": 1e-7, "n": -0, "f": 1.0}"#,
            r#""text""#,
            "12",
            "[1, 2,]",
            "{\"a\": 1} x",
            "1e400",
            &deep,
        ];
        for text in texts {
            let ours = parse(text.as_bytes());
            let theirs = serde_json::from_str::<Value>(text);
            match (ours, theirs) {
                (Ok(ours), Ok(theirs)) => {
                    assert_eq!(ours, theirs, "{text}");
                    let text_of = |v: &Value| serde_json::to_string(v).unwrap();
                    assert_eq!(text_of(&ours), text_of(&theirs), "key order: {text}");
                }
                (Err(ours), Err(theirs)) => {
                    assert_eq!(ours.kind(), ErrorKind::Decode, "{text}");
                    assert!(ours.to_string().contains(&theirs.to_string()), "{ours}");
                }
                (ours, theirs) => panic!("{text}: {ours:?} / {theirs:?}"),
            }
        }
    }

    #[test]
    fn records_stream_into_the_frame_a_parsed_value_gives() {
        let texts = [
            r#"[]"#,
            " \n\t[{\"a\": 1}]",
            r#"[{"a": 1, "b": "x"}, {"b": "y", "a": 2}, {"c": null}]"#,
            r#"[{"a": 1, "a": 2, "b": 3}, {"b": 4, "a": 5, "a": 6}]"#,
            r#"[{"n": [1, {"k": "v"}], "o": {"z": 1, "a": [true]}}, {"n": "t"}]"#,
            r#"[{"big": 18446744073709551615, "neg": -9223372036854775808, "f": 1.5e300}]"#,
            r#"[{"i": 1}, {"i": 2.5}, {"i": null}, {"i": -0}]"#,
            r#"[{"k\"ey": "tab\there", "\u00e9": "\ud83d\ude00"}, {"k\"ey": "plain"}]"#,
            r#"[{"b": true}, {"b": false}, {"b": "mixed"}]"#,
            r#"[{}, {}, {"late": 1}]"#,
        ];
        for text in texts {
            let (streamed, through_value) = both(text);
            let (streamed, through_value) = (streamed.unwrap(), through_value.unwrap());
            assert!(
                streamed.equals_missing(&through_value),
                "{text}\n{streamed}\n{through_value}"
            );
            assert_eq!(streamed.schema(), through_value.schema(), "{text}");
        }
    }

    #[test]
    fn a_list_item_that_is_not_a_record_is_named() {
        for (text, item) in [
            (r#"[{"a": 1}, 2]"#, 1),
            (r#"[[1]]"#, 0),
            (r#"[{"a":1},{"a":2},"x"]"#, 2),
        ] {
            let error = both(text).0.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Unsupported, "{text}");
            let why = format!("item {item} of the list is not an object");
            assert!(error.to_string().contains(&why), "{text}: {error}");
        }
    }

    #[test]
    fn bad_text_is_a_decode_error() {
        for text in [
            r#"[{"a": 1}"#,
            r#"[{"a": 1}] x"#,
            r#"[{"a" 1}]"#,
            r#"[{1: 2}]"#,
        ] {
            let error = both(text).0.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Decode, "{text}: {error}");
            assert!(
                error.to_string().contains("not valid JSON"),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn parts_cut_anywhere_give_the_whole_frame() {
        let texts = [
            "\u{feff} \r\n[{\"a\": 1, \"s\": \"\u{e9}t\u{e9}, \u{6771}\u{4eac}]}\"},\n\
             {\"s\": \"q\\\"],{\\\\\", \"a\": 2.5, \"late\": true} ,\
             {\"a\": null, \"n\": {\"x\": [1, {\"y\": \",\"}]}, \"s\": \"\\\\\"},\
             {\"a\": 7, \"late\": null, \"z\": null},{},\
             {\"s\": \"last\", \"n\": [\"]\"]}\r\n] \n",
            "[]",
            " [ ] ",
            "[{\"only\": \"one\"}]",
        ];
        let shapes = [(6, 5), (0, 0), (0, 0), (1, 1)];
        let settings = ReadSettings::default();
        for (text, shape) in texts.into_iter().zip(shapes) {
            let whole = assert_every_cut_gives_the_whole_frame("t.json", text);
            assert_eq!(whole.shape(), shape, "{text}: {whole}");
            let text = text.trim_start_matches('\u{feff}');
            assert_every_piece_size_gives_the_whole_frame("t.json", text, |every| {
                Box::new(ListParts::new(&settings, PartsInto::Frame, every))
            });
        }
    }

    #[test]
    fn parts_of_any_list_give_its_value() {
        let settings = ReadSettings::default();
        let texts = [
            " [1, \"x,]\\\"\", [2, [3]], {\"a\": {\"b\": [\"}\"]}}, null, -0, 18446744073709551616] ",
            "[1, 2, 1e400, 3]",
            "[]",
            "[{\"z\": 1, \"a\": 2}, {\"a\": 1, \"z\": 2}]",
        ];
        for text in texts {
            // Numbers past f64 fail in both, or both keep them.
            let whole = parse(text.as_bytes());
            for every in [1, 7, 40] {
                for size in 1..=text.len() {
                    let mut parts = ListParts::new(&settings, PartsInto::Data, every);
                    let fed = text.as_bytes().chunks(size).try_for_each(|part| {
                        match parts.push(Bytes::copy_from_slice(part)).unwrap() {
                            Fed::More => Ok(()),
                            Fed::WholeObject => Err(()),
                        }
                    });
                    if fed.is_err() {
                        assert!(whole.is_err(), "{text}: {size}, {every} gave up");
                        continue;
                    }
                    match (Box::new(parts).finish().unwrap(), &whole) {
                        (Some(Data::Json(value)), Ok(whole)) => {
                            assert_eq!(&value, whole, "{text}: {size}, {every}");
                            let keys = |v: &Value| serde_json::to_string(v).unwrap();
                            assert_eq!(keys(&value), keys(whole), "key order: {size}, {every}");
                        }
                        (None, Err(_)) => {}
                        (got, whole) => panic!("{text}: {size}, {every}: {got:?} / {whole:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn parts_leave_what_they_cannot_vouch_for_to_the_whole_decode() {
        let texts = [
            // Not JSON, or not a list of records: the whole decode names the fault.
            "[{\"a\": 1},,{\"a\": 2}]",
            "[,{\"a\": 1}]",
            "[{\"a\": 1},]",
            "[{\"a\": 1}] x",
            "[{\"a\": 1}, {\"a\": 2}",
            "[{\"a\": 1}, 2]",
            "[{\"a\": 1]}",
            "{\"a\": [1, 2]}",
            // Numbers and text in one column: the whole decode spells the numbers.
            "[{\"a\": 1}, {\"a\": 2}, {\"a\": \"x\"}]",
        ];
        for text in texts {
            let whole = crate::Format::JSON.decode_frame(text);
            for size in 1..=text.len() {
                match frame_in_parts("t.json", text.as_bytes(), size).unwrap() {
                    None => {}
                    Some(df) => {
                        let whole = whole.as_ref().unwrap_or_else(|e| {
                            panic!("{text}: parts of {size} gave a frame, the whole {e}")
                        });
                        assert!(df.equals_missing(whole), "{text}: {size}");
                        assert_eq!(df.schema(), whole.schema(), "{text}: {size}");
                    }
                }
            }
        }
    }

    #[test]
    fn streamed_records_are_charged_before_they_are_made() {
        // Every record brings one new key: the frame grows with the square of the records.
        let records: Vec<String> = (0..3000).map(|i| format!("{{\"k{i}\": {i}}}")).collect();
        let text = format!("[{}]", records.join(","));
        let options = ReadSettings {
            limits: Limits::new().max_decoded_size(1 << 20),
            ..ReadSettings::default()
        };
        let error = Json.decode_frame(Bytes::from(text), &options).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::LimitExceeded, "{error}");
    }
}
