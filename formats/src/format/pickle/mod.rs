//! `.pkl` / `.pickle`: Python pickles of builtin values, protocols 0 to 5.
//!
//! A pickle can name any Python callable (`os.system`, `pandas.DataFrame`) and ask the reader
//! to call it. s3io never runs anything: before decoding, [`refused_global`] walks the opcode
//! stream and refuses every global except the handful serde-pickle maps to builtins (`set`,
//! `frozenset`, `bytearray`, ...), naming the one it refused. Then [`scan::check`] bounds how
//! deep the values nest and how much memory they take, so that serde-pickle, which recurses
//! once per level, never meets a pickle that could overflow its stack or exhaust memory.

use std::error::Error as _;

use bytes::Bytes;
use polars::prelude::DataFrame;
use serde_pickle::{DeOptions, HashableValue, SerOptions, Value};

use serde::de::DeserializeSeed;

use super::codec::{Codec, decode_error, encode_error};
use super::table::{Cell, Columns, FrameBuilder, FrameCells, TableSeed, frame_from_records};
use crate::data::Data;
use crate::error::{Error, ErrorKind, Result};
use crate::limits::OutputBudget;
use crate::settings::{ReadSettings, WriteSettings};

mod scan;

/// Stack size of the thread that decodes pickles, at least. serde-pickle recurses once per
/// nesting level (twice through a memo reference); the depth limit keeps it far inside.
const DECODE_STACK: usize = 64 << 20;
/// Stack bytes allowed per level of nesting on top of that, generously: a debug build uses
/// about 1 KiB per level.
const STACK_PER_LEVEL: usize = 16 << 10;

pub(crate) struct Pickle;

impl Codec for Pickle {
    fn name(&self) -> &'static str {
        "pickle"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["pkl", "pickle"]
    }

    fn content_type(&self) -> &'static str {
        "application/octet-stream"
    }

    fn decode(&self, bytes: Bytes, options: &ReadSettings) -> Result<Data> {
        decode_value(&bytes, options).map(Data::Pickle)
    }

    /// Reads tables in the pickle's own column order (serde-pickle's `Value::Dict` sorts its
    /// keys), falling back to the value route for cells a frame must keep as text, such as
    /// big ints.
    fn decode_frame(&self, bytes: Bytes, options: &ReadSettings) -> Result<DataFrame> {
        let budget = options.budget();
        let breach = std::sync::Mutex::new(None);
        let table = unpickle(&bytes, options, |b| {
            let mut de = serde_pickle::Deserializer::new(b, DeOptions::new());
            let seed = TableSeed {
                budget: &budget,
                breach: &breach,
            };
            let df = seed.deserialize(&mut de)?;
            de.end()?;
            Ok(df)
        });
        if let Ok(Some(breach)) = breach.into_inner() {
            return Err(breach);
        }
        match table {
            Ok(df) => Ok(df),
            Err(e) if e.kind() != ErrorKind::Decode || e.source().is_none() => Err(e),
            Err(_) => frame_from_value(&decode_value(&bytes, options)?, &budget),
        }
    }

    fn encode(&self, data: &Data, _: &WriteSettings) -> Result<Vec<u8>> {
        let options = SerOptions::new();
        let written = match data {
            Data::Pickle(value) => serde_pickle::value_to_vec(value, options),
            Data::Json(value) => serde_pickle::to_vec(value, options),
            Data::Text(text) => serde_pickle::to_vec(text, options),
            Data::Frame(df) => {
                let cells =
                    FrameCells::new(df).map_err(|m| Error::new(ErrorKind::Unsupported, m))?;
                serde_pickle::to_vec(&Columns(&cells), options)
            }
            _ => {
                return Err(super::codec::cannot_encode(
                    data,
                    "pickle",
                    "a pickle value, a JSON value, text or a frame",
                ));
            }
        };
        written.map_err(|e| encode_error("cannot write the pickle", e))
    }
}

/// The pickle's value, built by serde-pickle.
fn decode_value(bytes: &[u8], options: &ReadSettings) -> Result<Value> {
    unpickle(bytes, options, |b| {
        serde_pickle::value_from_slice(b, DeOptions::new())
    })
}

/// A frame from a pickled value already in memory, which may make up to
/// [`DECODED_MAX_RATIO`](crate::Limits::DECODED_MAX_RATIO) times the cells it holds.
pub(crate) fn frame_from_held(value: &Value) -> Result<DataFrame> {
    let held = match value {
        Value::List(rows) | Value::Tuple(rows) => rows
            .iter()
            .map(|row| match row {
                Value::Dict(row) => row.len(),
                _ => 0,
            })
            .sum(),
        _ => 0,
    };
    frame_from_value(value, &OutputBudget::for_held_cells(held))
}

/// Runs `decode` on the pickle after refusing any global it names and checking it against
/// the limits, on a thread with a stack sized for the depth allowed.
fn unpickle<T: Send>(
    bytes: &[u8],
    options: &ReadSettings,
    decode: impl FnOnce(&[u8]) -> serde_pickle::Result<T> + Send,
) -> Result<T> {
    if let Some(global) = refused_global(bytes) {
        return Err(refusal(&global));
    }
    let bounds = scan::Bounds {
        max_depth: options.limits.pickle_depth(),
        max_memory: options.output_remaining(),
    };
    let memory = scan::check(bytes, bounds)?;
    options.charge_output(memory, || "the pickle's values".into())?;
    let stack = DECODE_STACK + STACK_PER_LEVEL * bounds.max_depth as usize;
    let decoded = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("s3io-unpickle".into())
            .stack_size(stack)
            .spawn_scoped(scope, || decode(bytes))
            .map(|thread| thread.join())
    });
    match decoded {
        Ok(Ok(Ok(value))) => Ok(value),
        Ok(Ok(Err(e))) => Err(decode_error("not a valid pickle of builtin values", e)),
        Ok(Err(_panic)) => Err(Error::new(
            ErrorKind::Decode,
            "the pickle decoder failed on this input",
        )),
        Err(e) => Err(Error::new(
            ErrorKind::Decode,
            format!("cannot start the pickle decoder: {e}"),
        )
        .with_source(e)),
    }
}

/// The error for a pickle that names a global s3io will not resolve.
fn refusal(global: &str) -> Error {
    let hint = if global.starts_with("pandas") || global.starts_with("numpy") {
        "; pickled pandas and numpy objects need their libraries' code to load. In Python, save \
         df.to_dict(\"list\") or use .csv/.json instead"
    } else {
        ""
    };
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "the pickle refers to the Python global `{global}`; s3io never runs pickle code and \
             decodes only builtin values{hint}"
        ),
    )
}

/// Globals that serde-pickle turns into plain values rather than calls.
const ALLOWED_GLOBALS: &[&str] = &[
    "builtins.set",
    "builtins.frozenset",
    "builtins.list",
    "builtins.bytearray",
    "builtins.int",
    "__builtin__.set",
    "__builtin__.frozenset",
    "__builtin__.list",
    "__builtin__.bytearray",
    "__builtin__.int",
    "_codecs.encode",
    "copy_reg._reconstructor",
    "copyreg._reconstructor",
];

/// The first global (`module.name`) the pickle refers to that is not a builtin serde-pickle
/// handles, found by walking the opcodes without executing them. Extension codes and
/// persistent ids name code too and are refused the same way. Malformed streams return `None`
/// and are left to the decoder to reject.
pub(crate) fn refused_global(bytes: &[u8]) -> Option<String> {
    let mut ops = Opcodes { bytes, pos: 0 };
    // The last strings pushed, for STACK_GLOBAL, which takes its module and name from the
    // stack, and the memo, where protocol 4 pickles keep those strings for reuse.
    let mut strings: Vec<String> = Vec::new();
    let mut memo: std::collections::HashMap<u64, String> = std::collections::HashMap::new();
    let check = |global: String| (!ALLOWED_GLOBALS.contains(&global.as_str())).then_some(global);
    while let Some(op) = ops.byte() {
        match op {
            b'c' | b'i' => {
                let module = ops.line()?;
                let name = ops.line()?;
                let global = format!("{}.{}", lossy(module), lossy(name));
                if let Some(refused) = check(global) {
                    return Some(refused);
                }
            }
            0x93 => {
                // STACK_GLOBAL
                let name = strings.pop().unwrap_or_else(|| "?".into());
                let module = strings.pop().unwrap_or_else(|| "?".into());
                if let Some(refused) = check(format!("{module}.{name}")) {
                    return Some(refused);
                }
            }
            0x82..=0x84 => return Some("<extension registry code>".into()),
            b'P' | b'Q' => return Some("<persistent id>".into()),
            b'.' => return None,
            // Strings: remember them for STACK_GLOBAL.
            b'X' => strings.push(lossy(ops.counted(4)?)),
            0x8c => strings.push(lossy(ops.counted(1)?)),
            0x8d => strings.push(lossy(ops.counted(8)?)),
            b'V' | b'S' => strings.push(lossy(ops.line()?)),
            b'T' => strings.push(lossy(ops.counted(4)?)),
            b'U' => strings.push(lossy(ops.counted(1)?)),
            // Memo: MEMOIZE, PUT, BINPUT, LONG_BINPUT store the top; GETs push it back.
            0x94 => {
                if let Some(top) = strings.last() {
                    memo.insert(memo.len() as u64, top.clone());
                }
            }
            b'p' => {
                let idx = ascii_int(ops.line()?)?;
                if let Some(top) = strings.last() {
                    memo.insert(idx, top.clone());
                }
            }
            b'q' | b'r' => {
                let idx = ops.uint(if op == b'q' { 1 } else { 4 })?;
                if let Some(top) = strings.last() {
                    memo.insert(idx, top.clone());
                }
            }
            b'g' | b'h' | b'j' => {
                let idx = match op {
                    b'g' => ascii_int(ops.line()?)?,
                    b'h' => ops.uint(1)?,
                    _ => ops.uint(4)?,
                };
                if let Some(s) = memo.get(&idx) {
                    strings.push(s.clone());
                }
            }
            // Everything else only needs its argument skipped.
            b'F' | b'I' | b'L' => {
                ops.line()?;
            }
            b'K' | 0x80 => {
                ops.take(1)?;
            }
            b'M' => {
                ops.take(2)?;
            }
            b'J' => {
                ops.take(4)?;
            }
            b'G' | 0x95 => {
                ops.take(8)?;
            }
            0x8a => {
                ops.counted(1)?;
            }
            0x8b | b'B' => {
                ops.counted(4)?;
            }
            b'C' => {
                ops.counted(1)?;
            }
            0x8e | 0x96 => {
                ops.counted(8)?;
            }
            _ => {}
        }
    }
    None
}

/// A cursor over pickle opcodes and their arguments.
struct Opcodes<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Opcodes<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let slice = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(slice)
    }

    /// A little-endian unsigned integer of `n` bytes.
    fn uint(&mut self, n: usize) -> Option<u64> {
        let raw = self.take(n)?;
        Some(
            raw.iter()
                .rev()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
        )
    }

    /// A byte string preceded by its length in `n` little-endian bytes.
    fn counted(&mut self, n: usize) -> Option<&'a [u8]> {
        let len = usize::try_from(self.uint(n)?).ok()?;
        self.take(len)
    }

    /// Bytes up to a newline, which is consumed.
    fn line(&mut self) -> Option<&'a [u8]> {
        let rest = self.bytes.get(self.pos..)?;
        let end = rest.iter().position(|b| *b == b'\n')?;
        self.pos += end + 1;
        Some(&rest[..end])
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ascii_int(bytes: &[u8]) -> Option<u64> {
    std::str::from_utf8(bytes).ok()?.trim().parse().ok()
}

/// A frame from a pickled table: a dict of equal-length lists (`df.to_dict("list")`) or a
/// list of dicts (`df.to_dict("records")`).
pub(crate) fn frame_from_value(value: &Value, budget: &OutputBudget) -> Result<DataFrame> {
    let not_a_table = |why: &str| {
        Error::new(
            ErrorKind::Unsupported,
            format!("this pickle is not a table: {why}"),
        )
    };
    let mut builder = FrameBuilder::default();
    match value {
        Value::Dict(columns) => {
            for (name, column) in columns {
                let name = key_name(name);
                let (Value::List(items) | Value::Tuple(items)) = column else {
                    return Err(not_a_table(&format!("column {name:?} is not a list")));
                };
                builder
                    .push(&name, items.iter().map(cell).collect())
                    .map_err(|m| not_a_table(&m))?;
            }
        }
        Value::List(rows) | Value::Tuple(rows) => {
            let dicts: Option<Vec<_>> = rows
                .iter()
                .map(|row| match row {
                    Value::Dict(row) => Some(row),
                    _ => None,
                })
                .collect();
            let Some(dicts) = dicts else {
                return Err(not_a_table("an item of the list is not a dict"));
            };
            let records = dicts.into_iter().map(|row| {
                row.iter()
                    .map(|(name, value)| (key_name(name), cell(value)))
            });
            return frame_from_records(records, budget);
        }
        _ => return Err(not_a_table("expected a dict of lists or a list of dicts")),
    }
    builder.finish().map_err(|m| not_a_table(&m))
}

/// A dict key as a column name.
fn key_name(key: &HashableValue) -> String {
    match key {
        HashableValue::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One pickled value as a table cell; big ints and containers keep their Python text.
fn cell(value: &Value) -> Cell<'_> {
    match value {
        Value::None => Cell::Null,
        Value::Bool(b) => Cell::Bool(*b),
        Value::I64(i) => Cell::Int(*i),
        Value::F64(f) => Cell::Float(*f),
        Value::String(s) => Cell::Str(s.as_str().into()),
        other => Cell::Str(other.to_string().into()),
    }
}

/// A pickle value as JSON: dicts need string keys, and ints must fit 64 bits.
pub(crate) fn value_to_json(value: Value) -> Result<serde_json::Value> {
    use serde_json::Value as J;
    let unsupported = |what: String| {
        Error::new(
            ErrorKind::Unsupported,
            format!("JSON cannot hold {what} from the pickle"),
        )
    };
    Ok(match value {
        Value::None => J::Null,
        Value::Bool(b) => J::Bool(b),
        Value::I64(i) => J::from(i),
        Value::Int(big) => return Err(unsupported(format!("the integer {big}"))),
        Value::F64(f) => J::from(f),
        Value::String(s) => J::String(s),
        Value::Bytes(b) => return Err(unsupported(format!("{} bytes", b.len()))),
        Value::List(items) | Value::Tuple(items) => J::Array(
            items
                .into_iter()
                .map(value_to_json)
                .collect::<Result<_>>()?,
        ),
        Value::Set(items) | Value::FrozenSet(items) => J::Array(
            items
                .into_iter()
                .map(|item| value_to_json(item.into_value()))
                .collect::<Result<_>>()?,
        ),
        Value::Dict(map) => {
            let mut object = serde_json::Map::new();
            for (key, value) in map {
                let HashableValue::String(key) = key else {
                    return Err(unsupported(format!("the dict key {key}")));
                };
                object.insert(key, value_to_json(value)?);
            }
            J::Object(object)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globals_are_found_in_every_protocol_shape() {
        // Protocol 0: GLOBAL 'os system', REDUCE.
        assert_eq!(
            refused_global(b"cos\nsystem\n(S'echo'\ntR.").as_deref(),
            Some("os.system")
        );
        // Protocol 4: SHORT_BINUNICODE module, MEMOIZE, SHORT_BINUNICODE name, MEMOIZE, STACK_GLOBAL.
        let p4 = b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x94.";
        assert_eq!(refused_global(p4).as_deref(), Some("os.system"));
        // Builtins that serde-pickle handles pass.
        assert_eq!(refused_global(b"c__builtin__\nset\n(]tR."), None);
        assert_eq!(refused_global(b"\x80\x02]q\x00K\x01a."), None);
    }
}
