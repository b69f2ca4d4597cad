//! `.pkl` / `.pickle`: Python pickles, protocols 0 to 5, read by s3io's own machine.
//!
//! A pickle can name any Python callable (`os.system`, `pandas.DataFrame`) and ask the reader
//! to call it. s3io never runs anything. First [`scan::check`] bounds how deep the values nest
//! and how much memory they take. Then [`machine`] follows the opcodes, refuses every global
//! outside an allow-list by module and attribute ([`machine::allowed`]: a few builtins,
//! stdlib datetimes and Decimals, numpy arrays and dtypes, pandas DataFrames, Series,
//! indexes and arrays, pyarrow string arrays), naming the one it refused, and records calls
//! instead of making them. Then [`convert`] reads the recorded objects as values, or as a
//! polars frame for a pickled DataFrame, Series or numpy array (docs/formats.md has the
//! dtype table). A pickle of builtin values only, once scanned, is read in one pass by
//! [`tree`] instead, straight into values; what it cannot read goes to the machine.

use bytes::Bytes;
use polars::prelude::DataFrame;
use serde_pickle::SerOptions;

use super::codec::{Codec, DecodeParts, Fed, PartsInto, encode_error};
use super::table::{Cell, Columns, FrameBuilder, FrameCells, frame_from_records};
use crate::data::{Data, PickleValue};
use crate::error::{Error, ErrorKind, Result};
use crate::limits::OutputBudget;
use crate::settings::{PickleLayout, ReadSettings, WriteSettings};

mod convert;
mod machine;
mod parts;
mod scan;
mod tree;
mod write;

use convert::Decoded;
use parts::{Lifted, Lifter};

/// Stack size of the thread that decodes pickles, at least. Reading the object graph recurses
/// once per nesting level; the depth limit keeps it far inside.
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

    /// A pickled DataFrame, Series or numpy array is a frame; anything else a value.
    fn decode(&self, bytes: Bytes, options: &ReadSettings) -> Result<Data> {
        decoded_data(unpickle(Lifted::whole(bytes), options)?)
    }

    /// A pickled DataFrame, Series or numpy array, or a table of builtins: a dict of
    /// equal-length lists or a list of dicts, in the pickle's own order.
    fn decode_frame(&self, bytes: Bytes, options: &ReadSettings) -> Result<DataFrame> {
        decoded_frame(unpickle(Lifted::whole(bytes), options)?, options)
    }

    /// Every pickle: its large bytes payloads are lifted into buffers of their own as the
    /// parts arrive ([`parts`]), so a pickled DataFrame is never held whole beside its frame.
    fn part_decoder(
        &'static self,
        options: &ReadSettings,
        into: PartsInto,
    ) -> Option<Box<dyn DecodeParts>> {
        Some(Box::new(PickleParts {
            lifter: Lifter::default(),
            options: options.clone(),
            into,
        }))
    }

    /// A frame as a pandas DataFrame (or a dict of lists, as the settings say), a pickle value
    /// as Python pickles it; JSON values and text through serde-pickle.
    fn encode(&self, data: &Data, settings: &WriteSettings) -> Result<Vec<u8>> {
        if let (Data::Frame(df), PickleLayout::DataFrame) = (data, settings.pickle_layout) {
            return write::dataframe(df);
        }
        let options = SerOptions::new();
        let written = match data {
            // s3io's own writer: serde-pickle's value sorts dict keys and has no datetime.
            Data::Pickle(value) => return write::value(value),
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

/// What [`Codec::decode`] gives for what the pickle decoded to.
fn decoded_data(decoded: Decoded) -> Result<Data> {
    Ok(match decoded {
        Decoded::Frame(df) => Data::Frame(df),
        Decoded::Value(value) => Data::Pickle(value),
    })
}

/// What [`Codec::decode_frame`] gives for what the pickle decoded to.
fn decoded_frame(decoded: Decoded, options: &ReadSettings) -> Result<DataFrame> {
    match decoded {
        Decoded::Frame(df) => Ok(df),
        Decoded::Value(value) => frame_from_value(&value, &options.budget()),
    }
}

/// A pickle decoded from its parts: lifted as they arrive, decoded after the last.
struct PickleParts {
    lifter: Lifter,
    options: ReadSettings,
    into: PartsInto,
}

impl DecodeParts for PickleParts {
    fn push(&mut self, part: Bytes) -> Result<Fed> {
        self.lifter.push(&part);
        Ok(Fed::More)
    }

    fn finish(self: Box<Self>) -> Result<Option<Data>> {
        let decoded = unpickle(self.lifter.finish(), &self.options)?;
        match self.into {
            PartsInto::Data => decoded_data(decoded),
            PartsInto::Frame => decoded_frame(decoded, &self.options).map(Data::Frame),
        }
        .map(Some)
    }
}

/// A frame from a pickled value already in memory, which may make up to
/// [`DECODED_MAX_RATIO`](crate::Limits::DECODED_MAX_RATIO) times the cells it holds.
pub(crate) fn frame_from_held(value: &PickleValue) -> Result<DataFrame> {
    let held = match value {
        PickleValue::List(rows) | PickleValue::Tuple(rows) => rows
            .iter()
            .map(|row| match row {
                PickleValue::Dict(row) => row.len(),
                _ => 0,
            })
            .sum(),
        _ => 0,
    };
    frame_from_value(value, &OutputBudget::for_held_cells(held))
}

/// Decodes the pickle after checking it against the limits ([`scan`]), on a thread with a
/// stack sized for the depth allowed. A pickle of builtin values is then read in one pass by
/// [`tree`]; any other (or one `tree` leaves) is run by [`machine`], which refuses any global
/// it names outside the allow-list, and read by [`convert`].
fn unpickle(input: Lifted, options: &ReadSettings) -> Result<Decoded> {
    // Lifted payloads count as what they are: bytes the values hold.
    let lifted = input.payload_len();
    let bounds = scan::Bounds {
        max_depth: options.limits.pickle_depth(),
        max_memory: options.output_remaining().saturating_sub(lifted),
    };
    let memory = scan::check_at(&input.skeleton, bounds, |at| input.origin(at))? + lifted;
    options.charge_output(memory, || "the pickle's values".into())?;
    let stack = DECODE_STACK + STACK_PER_LEVEL * bounds.max_depth as usize;
    let decoded = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("s3io-unpickle".into())
            .stack_size(stack)
            .spawn_scoped(scope, || {
                if input.payloads.is_empty()
                    && let Some(value) =
                        tree::build(&input.skeleton, bounds.max_depth, bounds.max_memory)
                {
                    return Ok(Decoded::Value(value));
                }
                let graph = machine::run_lifted(input)?;
                convert::read(&graph, options)
            })
            .map(|thread| thread.join())
    });
    match decoded {
        Ok(Ok(result)) => result,
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

/// Days from 1970-01-01 to `day`.
pub(crate) fn days_since_epoch(day: chrono::NaiveDate) -> i32 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
    (day - epoch).num_days() as i32
}

/// A pickle's memo: slots by id. Picklers number them 0, 1, 2, ... (MEMOIZE takes the next
/// one), so slots live in a vector; an id far past the end (a hostile `LONG_BINPUT
/// 4000000000`) goes to a map instead, so no id allocates more than a few slots.
struct Memo<T> {
    dense: Vec<Option<T>>,
    sparse: std::collections::HashMap<u32, T>,
    len: usize,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo {
            dense: Vec::new(),
            sparse: std::collections::HashMap::new(),
            len: 0,
        }
    }
}

impl<T> Memo<T> {
    /// Slots a PUT may add in one go past the end of the vector.
    const GAP: usize = 64;

    /// How many slots are filled: the id MEMOIZE gives next.
    fn len(&self) -> usize {
        self.len
    }

    fn insert(&mut self, id: u32, value: T) {
        let at = id as usize;
        if at < self.dense.len() + Self::GAP && !self.sparse.contains_key(&id) {
            if at >= self.dense.len() {
                self.dense.resize_with(at + 1, || None);
            }
            if self.dense[at].replace(value).is_none() {
                self.len += 1;
            }
        } else if self.sparse.insert(id, value).is_none() {
            self.len += 1;
        }
    }

    fn get(&self, id: u32) -> Option<&T> {
        // An id sent to the map stays there even once the vector grows past it.
        match self.dense.get(id as usize).and_then(Option::as_ref) {
            Some(value) => Some(value),
            None => self.sparse.get(&id),
        }
    }
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

/// A frame from a pickled table: a dict of equal-length lists (`df.to_dict("list")`) or a
/// list of dicts (`df.to_dict("records")`).
pub(crate) fn frame_from_value(value: &PickleValue, budget: &OutputBudget) -> Result<DataFrame> {
    let not_a_table = |why: &str| {
        Error::new(
            ErrorKind::Unsupported,
            format!("this pickle is not a table: {why}"),
        )
    };
    let mut builder = FrameBuilder::default();
    match value {
        PickleValue::Dict(columns) => {
            for (name, column) in columns {
                let name = key_name(name);
                let (PickleValue::List(items) | PickleValue::Tuple(items)) = column else {
                    return Err(not_a_table(&format!("column {name:?} is not a list")));
                };
                builder
                    .push(&name, items.iter().map(cell).collect())
                    .map_err(|m| not_a_table(&m))?;
            }
        }
        PickleValue::List(rows) | PickleValue::Tuple(rows) => {
            let dicts: Option<Vec<_>> = rows
                .iter()
                .map(|row| match row {
                    PickleValue::Dict(row) => Some(row),
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
fn key_name(key: &PickleValue) -> String {
    match key {
        PickleValue::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One pickled value as a table cell: dates and naive datetimes stay dates; big ints,
/// Decimals, zoned datetimes and containers keep their Python-like text.
fn cell(value: &PickleValue) -> Cell<'_> {
    match value {
        PickleValue::None => Cell::Null,
        PickleValue::Bool(b) => Cell::Bool(*b),
        PickleValue::I64(i) => Cell::Int(*i),
        PickleValue::F64(f) => Cell::Float(*f),
        PickleValue::String(s) => Cell::Str(s.as_str().into()),
        PickleValue::Decimal(s) => Cell::Str(s.as_str().into()),
        PickleValue::Date(day) => Cell::Date(days_since_epoch(*day)),
        PickleValue::Datetime(at, None) => Cell::Datetime(at.and_utc().timestamp_micros()),
        other => Cell::Str(other.to_string().into()),
    }
}

/// A pickle value as JSON: dicts need string keys, and ints must fit 64 bits. JSON has no
/// dates or decimals: datetimes, dates, times and timedeltas become ISO 8601 text, Decimals
/// their text.
pub(crate) fn value_to_json(value: PickleValue) -> Result<serde_json::Value> {
    use serde_json::Value as J;
    let unsupported = |what: String| {
        Error::new(
            ErrorKind::Unsupported,
            format!("JSON cannot hold {what} from the pickle"),
        )
    };
    Ok(match value {
        PickleValue::None => J::Null,
        PickleValue::Bool(b) => J::Bool(b),
        PickleValue::I64(i) => J::from(i),
        PickleValue::Int(big) => return Err(unsupported(format!("the integer {big}"))),
        PickleValue::F64(f) => J::from(f),
        PickleValue::String(s) | PickleValue::Decimal(s) => J::String(s),
        PickleValue::Bytes(b) => return Err(unsupported(format!("{} bytes", b.len()))),
        PickleValue::List(items)
        | PickleValue::Tuple(items)
        | PickleValue::Set(items)
        | PickleValue::FrozenSet(items) => J::Array(
            items
                .into_iter()
                .map(value_to_json)
                .collect::<Result<_>>()?,
        ),
        PickleValue::Dict(map) => {
            let mut object = serde_json::Map::new();
            for (key, value) in map {
                let PickleValue::String(key) = key else {
                    return Err(unsupported(format!("the dict key {key}")));
                };
                object.insert(key, value_to_json(value)?);
            }
            J::Object(object)
        }
        PickleValue::Timedelta(span) => J::String(span.to_string()),
        other => J::String(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    fn refused(bytes: &[u8]) -> Option<String> {
        match machine::run(&Bytes::copy_from_slice(bytes)) {
            Err(e) if e.kind() == ErrorKind::Unsupported => Some(e.message().to_owned()),
            _ => None,
        }
    }

    #[test]
    fn globals_are_refused_by_name_in_every_protocol_shape() {
        // Protocol 0: GLOBAL 'os system', REDUCE.
        let p0 = refused(b"cos\nsystem\n(S'echo'\ntR.").unwrap();
        assert!(p0.contains("`os.system`"), "{p0}");
        // Protocol 4: SHORT_BINUNICODE module, MEMOIZE, SHORT_BINUNICODE name, MEMOIZE, STACK_GLOBAL.
        let p4 = refused(b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x94.").unwrap();
        assert!(p4.contains("`os.system`"), "{p4}");
        // A MultiIndex is refused by name, with what to do instead.
        let multi =
            refused(b"\x80\x04\x8c\x19pandas.core.indexes.multi\x94\x8c\nMultiIndex\x94\x93\x94.")
                .unwrap();
        assert!(
            multi.contains("MultiIndex") && multi.contains("reset_index"),
            "{multi}"
        );
        // Builtins pass.
        assert_eq!(refused(b"c__builtin__\nset\n(]tR."), None);
        assert_eq!(refused(b"\x80\x02]q\x00K\x01a."), None);
    }

    /// Every pickle fixture (pandas' in each environment too) and every pickle of the
    /// hostile corpus.
    fn pickle_files() -> Vec<std::path::PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
        let mut files = Vec::new();
        let environments = std::fs::read_dir(root.join("pandas-pickles")).unwrap();
        for dir in ["pickle", "hostile"].iter().map(|d| root.join(d)).chain(
            environments
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_dir()),
        ) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path
                    .extension()
                    .is_some_and(|e| e == "pkl" || e == "pickle")
                {
                    files.push(path);
                }
            }
        }
        assert!(files.len() > 350, "{} pickles", files.len());
        files
    }

    /// `value` written by s3io's writer and decoded again.
    fn written_back(value: &PickleValue) -> Result<PickleValue> {
        let data = Data::Pickle(value.clone());
        let bytes = Pickle.encode(&data, &WriteSettings::default())?;
        match unpickle(Lifted::whole(Bytes::from(bytes)), &ReadSettings::default())? {
            Decoded::Value(back) => Ok(back),
            Decoded::Frame(_) => panic!("{value} came back as a frame"),
        }
    }

    /// `value` with its named zones as s3io writes them, `zoneinfo.ZoneInfo(key)`: a pytz
    /// zone's offset at that moment is not kept (zoneinfo works it out from the key).
    fn as_zoneinfo(value: &mut PickleValue) {
        match value {
            PickleValue::Datetime(_, Some(crate::PyTimeZone::Named { offset_seconds, .. }))
            | PickleValue::Time(_, Some(crate::PyTimeZone::Named { offset_seconds, .. })) => {
                *offset_seconds = None;
            }
            PickleValue::List(items)
            | PickleValue::Tuple(items)
            | PickleValue::Set(items)
            | PickleValue::FrozenSet(items) => items.iter_mut().for_each(as_zoneinfo),
            PickleValue::Dict(entries) => entries.iter_mut().for_each(|(k, v)| {
                as_zoneinfo(k);
                as_zoneinfo(v);
            }),
            _ => {}
        }
    }

    /// Every pickle that decodes to a value is written back by s3io's writer and decodes to
    /// the same value, dicts in the same order (the `Debug` text shows it; `==` does not).
    /// The entries of a dict holding nanoseconds (pandas' Timestamp and Timedelta), which
    /// Python's datetime objects cannot hold, are refused saying so, and left out.
    #[test]
    fn values_written_back_decode_as_they_were_read() {
        let (mut written, mut refused) = (0, 0);
        for path in pickle_files() {
            let bytes = Bytes::from(std::fs::read(&path).unwrap());
            let Ok(Decoded::Value(mut value)) =
                unpickle(Lifted::whole(bytes), &ReadSettings::default())
            else {
                continue;
            };
            if let PickleValue::Dict(entries) = &mut value {
                entries.retain(|(_, v)| match written_back(v) {
                    Ok(_) => true,
                    Err(e) => {
                        assert_eq!(e.kind(), ErrorKind::Unsupported, "{path:?}: {e}");
                        assert!(e.to_string().contains("nanoseconds"), "{path:?}: {e}");
                        refused += 1;
                        false
                    }
                });
            }
            let back = written_back(&value).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            as_zoneinfo(&mut value);
            assert_eq!(format!("{back:?}"), format!("{value:?}"), "{path:?}");
            written += 1;
        }
        assert!(
            written >= 30 && refused > 0,
            "{written} written, {refused} refused"
        );
    }

    /// What a pickle decodes to, or its error's kind and message.
    type Outcome = std::result::Result<Decoded, String>;

    fn outcome(input: Lifted) -> Outcome {
        unpickle(input, &ReadSettings::default())
            .map_err(|e| format!("{:?}: {}", e.kind(), e.message()))
    }

    /// Frames compare by schema and values (their Debug text needs polars' timezones).
    fn alike(a: &Outcome, b: &Outcome) -> bool {
        match (a, b) {
            (Ok(Decoded::Frame(x)), Ok(Decoded::Frame(y))) => {
                x.schema() == y.schema() && x.equals_missing(y)
            }
            (Ok(Decoded::Value(x)), Ok(Decoded::Value(y))) => x == y,
            (Err(x), Err(y)) => x == y,
            _ => false,
        }
    }

    /// Every pickle fixture, and every pickle of the hostile corpus, decodes from its parts,
    /// with its payloads lifted, to what the whole object decodes to, errors alike: parts
    /// of several sizes, every bytes payload lifted or only the longer ones.
    #[test]
    fn lifted_parts_decode_as_the_whole_pickle_does() {
        let mut lifted = 0;
        for path in pickle_files() {
            let bytes = std::fs::read(&path).unwrap();
            let whole = outcome(Lifted::whole(Bytes::from(bytes.clone())));
            for (lift, part) in [(1, 7), (1, 4096), (64, 1000)] {
                let mut lifter = parts::Lifter::lifting(lift);
                for chunk in bytes.chunks(part) {
                    lifter.push(chunk);
                }
                let input = lifter.finish();
                lifted += input.payloads.len();
                let got = outcome(input);
                assert!(
                    alike(&got, &whole),
                    "{} lifting from {lift}: {:?} / {:?}",
                    path.display(),
                    got.as_ref().err(),
                    whole.as_ref().err()
                );
            }
        }
        assert!(lifted > 300, "{lifted} payloads lifted");
    }

    /// Malformed pickles too: bit flips, cuts and repeated spans of pandas fixtures decode
    /// from lifted parts to what the whole object decodes to, or fail alike, so the lifter
    /// never reads a hostile stream otherwise than the machine does.
    #[test]
    fn mutated_pickles_decode_alike_lifted_or_whole() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
        let mut seed = 0x11f7_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as usize
        };
        let mut differed = Vec::new();
        for name in [
            "pd3-np2-arrow/frame_p5",
            "pd15-np124/frame_p2",
            "pd22-np126/series_tz_p4",
            "pd2-np2/array_fortran_p5",
            "pd3-np2/values_p5",
        ] {
            let original = std::fs::read(root.join(format!("pandas-pickles/{name}.pkl"))).unwrap();
            for _ in 0..200 {
                let mut bytes = original.clone();
                match next() % 3 {
                    0 => {
                        for _ in 0..1 + next() % 4 {
                            let i = next() % bytes.len();
                            bytes[i] ^= 1 << (next() % 8);
                        }
                    }
                    1 => bytes.truncate(next() % bytes.len()),
                    _ => {
                        let a = next() % bytes.len();
                        let b = (a + next() % 64).min(bytes.len());
                        let span = bytes[a..b].to_vec();
                        bytes.splice(a..a, span);
                    }
                }
                let whole = outcome(Lifted::whole(Bytes::from(bytes.clone())));
                let part = 1 + next() % 300;
                let mut lifter = parts::Lifter::lifting(1 + (next() % 64) as u64);
                for chunk in bytes.chunks(part) {
                    lifter.push(chunk);
                }
                let lifted = outcome(lifter.finish());
                if !alike(&lifted, &whole) {
                    differed.push(format!("{name}: {:?} / {:?}", lifted.err(), whole.err()));
                }
            }
        }
        assert!(differed.is_empty(), "{}", differed.join("\n"));
    }

    #[test]
    fn numpy_scalars_of_any_width_never_panic() {
        // numpy.core.multiarray.scalar(dtype(name, ...), bytes) for sizes past 8 bytes.
        let scalar = |name: &str, raw: &[u8]| {
            let mut p = b"\x80\x02cnumpy.core.multiarray\nscalar\ncnumpy\ndtype\n".to_vec();
            p.push(b'X');
            p.extend((name.len() as u32).to_le_bytes());
            p.extend(name.as_bytes());
            p.extend(b"\x89\x88\x87R");
            p.push(b'B');
            p.extend((raw.len() as u32).to_le_bytes());
            p.extend(raw);
            p.extend(b"\x86R.");
            Format::PICKLE.decode(p)
        };
        let err = scalar("i16", &[0; 16]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        let Data::Pickle(text) = scalar("U2", b"a\0\0\0b\0\0\0").unwrap() else {
            panic!("a value")
        };
        assert_eq!(text, PickleValue::String("ab".into()));
        let Data::Pickle(n) = scalar("i2", &[0xfe, 0xff]).unwrap() else {
            panic!("a value")
        };
        assert_eq!(n, PickleValue::I64(-2));
    }
}
