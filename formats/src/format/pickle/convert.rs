//! Reads the object graph of [`machine`](super::machine) as values, numpy arrays and pandas
//! objects, and maps those to polars (the table in docs/formats.md is the spec).
//!
//! Every size the pickle declares (an array's shape and dtype, pyarrow offsets, block
//! placements) is checked against the bytes actually present before anything is built, and
//! what is built is charged to the call's output budget first. Walking the graph counts
//! depth and refuses an object that contains itself.

use std::borrow::Cow;

use bytes::Bytes;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use polars::prelude::*;
use polars_arrow::array::{PrimitiveArray, Utf8ViewArray, View};
use polars_arrow::bitmap::Bitmap;
use polars_arrow::types::NativeType;
use polars_buffer::Buffer;

use super::machine::{Global, Graph, Node, V};
use crate::data::{PickleValue, PyTimeZone};
use crate::error::{Error, ErrorKind, Result};
use crate::limits::exceeded;
use crate::settings::ReadSettings;

/// What a pickle decodes to.
pub(crate) enum Decoded {
    /// A DataFrame, Series or numpy array, as a frame.
    Frame(DataFrame),
    /// Any other value.
    Value(PickleValue),
}

/// Reads the graph's root.
pub(crate) fn read(graph: &Graph, settings: &ReadSettings) -> Result<Decoded> {
    let mut r = Reader {
        g: graph,
        on_path: vec![false; graph.nodes.len()],
        depth: 0,
        max_depth: settings.limits.pickle_depth(),
        settings,
    };
    let root = &graph.root;
    match r.class(root) {
        Some("DataFrame") => r.dataframe(root).map(Decoded::Frame),
        Some("Series") => r.series_frame(root).map(Decoded::Frame),
        Some("np._reconstruct" | "np._frombuffer") => r.array_frame(root).map(Decoded::Frame),
        _ => r.value(root).map(Decoded::Value),
    }
}

fn bad(why: impl Into<String>) -> Error {
    Error::new(
        ErrorKind::Decode,
        format!(
            "not a valid pickle of pandas or numpy objects: {}",
            why.into()
        ),
    )
}

fn unsupported(why: impl Into<String>) -> Error {
    Error::new(ErrorKind::Unsupported, why.into())
}

fn polars_error(e: PolarsError) -> Error {
    bad(format!("the columns do not make a frame: {e}"))
}

/// A BlockManager's axes, and each block's values and placement.
type Manager = (Vec<V>, Vec<(V, V)>);

/// A recorded call: its class, arguments, state and SETITEMS.
struct Obj<'g> {
    class: Global,
    args: &'g [V],
    state: Option<&'g V>,
    items: &'g [(V, V)],
}

/// A numpy dtype, as far as s3io reads it.
#[derive(Debug, Clone, Copy)]
struct Dtype {
    kind: u8,
    size: usize,
    big_endian: bool,
    unit: Option<Unit>,
}

/// The unit of a datetime64 or timedelta64.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Ns,
    Us,
    Ms,
    S,
    D,
}

impl Unit {
    fn from_name(name: &str) -> Option<Unit> {
        Some(match name {
            "ns" => Unit::Ns,
            "us" => Unit::Us,
            "ms" => Unit::Ms,
            "s" => Unit::S,
            "D" => Unit::D,
            _ => return None,
        })
    }

    /// pandas' NPY_DATETIMEUNIT codes, as Timestamp and Timedelta pickles give `reso`.
    fn from_reso(code: i64) -> Option<Unit> {
        Some(match code {
            4 => Unit::D,
            7 => Unit::S,
            8 => Unit::Ms,
            9 => Unit::Us,
            10 => Unit::Ns,
            _ => return None,
        })
    }

    /// The polars unit and the factor from this unit to it.
    fn polars(self) -> (TimeUnit, i64) {
        match self {
            Unit::Ns => (TimeUnit::Nanoseconds, 1),
            Unit::Us => (TimeUnit::Microseconds, 1),
            Unit::Ms => (TimeUnit::Milliseconds, 1),
            Unit::S => (TimeUnit::Milliseconds, 1_000),
            Unit::D => (TimeUnit::Milliseconds, 86_400_000),
        }
    }

    fn nanos(self) -> i64 {
        match self {
            Unit::Ns => 1,
            Unit::Us => 1_000,
            Unit::Ms => 1_000_000,
            Unit::S => 1_000_000_000,
            Unit::D => 86_400_000_000_000,
        }
    }
}

/// The elements of an array: raw bytes, or the items of an object array.
enum Elements<'g> {
    Raw(Bytes),
    Objects(&'g [V]),
}

/// A numpy array whose declared sizes have been checked against its bytes.
struct Array<'g> {
    dtype: Dtype,
    shape: Vec<usize>,
    fortran: bool,
    data: Elements<'g>,
    /// The bytes are a lifted payload ([`V::Held`]): a buffer of their own, aligned to 8
    /// bytes, which columns may share instead of copying. (A slice of a whole pickle is
    /// copied: sharing it would keep the whole pickle for as long as the frame.)
    own: bool,
}

impl Array<'_> {
    fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Rows and columns of a 1-D (n × 1) or 2-D array.
    fn dims(&self) -> Result<(usize, usize)> {
        match self.shape[..] {
            [] => Ok((1, 1)),
            [n] => Ok((n, 1)),
            [r, c] => Ok((r, c)),
            _ => Err(unsupported(format!(
                "the pickle holds a numpy array of {} dimensions; s3io reads 1 and 2",
                self.shape.len()
            ))),
        }
    }

    /// The elements of column `col`, one a row.
    fn column(&self, col: usize) -> Result<Sel> {
        let (rows, cols) = self.dims()?;
        Ok(if self.fortran {
            Sel {
                start: col * rows,
                stride: 1,
                len: rows,
            }
        } else {
            Sel {
                start: col,
                stride: cols,
                len: rows,
            }
        })
    }

    /// The elements of row `row` (a block's column).
    fn row(&self, row: usize) -> Result<Sel> {
        let (rows, cols) = self.dims()?;
        Ok(if self.fortran {
            Sel {
                start: row,
                stride: rows,
                len: cols,
            }
        } else {
            Sel {
                start: row * cols,
                stride: 1,
                len: cols,
            }
        })
    }
}

/// Elements `start`, `start + stride`, ... of an array, `len` of them: a column of a 2-D
/// array, without a list of indices.
#[derive(Debug, Clone, Copy)]
struct Sel {
    start: usize,
    stride: usize,
    len: usize,
}

impl Sel {
    fn all(len: usize) -> Sel {
        Sel {
            start: 0,
            stride: 1,
            len,
        }
    }

    fn iter(self) -> impl Iterator<Item = usize> {
        (0..self.len).map(move |k| self.start + k * self.stride)
    }
}

/// How one column's values turn into polars: a plain numpy column, or a pandas extension.
enum Wrap {
    Plain,
    /// DatetimeArray with a zone.
    Zoned(String),
}

/// An index: a range, or values.
enum Index {
    Range {
        start: i64,
        step: i64,
        len: usize,
        name: Option<String>,
    },
    Values {
        column: Series,
        name: Option<String>,
    },
}

impl Index {
    fn len(&self) -> usize {
        match self {
            Index::Range { len, .. } => *len,
            Index::Values { column, .. } => column.len(),
        }
    }

    /// The labels, as text.
    fn labels(&self) -> Result<Vec<String>> {
        match self {
            Index::Range {
                start, step, len, ..
            } => Ok((0..*len as i64)
                .map(|i| start.saturating_add(i.saturating_mul(*step)).to_string())
                .collect()),
            Index::Values { column, .. } => label_texts(column),
        }
    }

    /// The column `reset_index()` would add, if any.
    fn into_column(self) -> Result<Option<Column>> {
        match self {
            Index::Range { name: None, .. } => Ok(None),
            Index::Range {
                start,
                step,
                len,
                name,
            } => {
                let values: Vec<i64> = (0..len as i64)
                    .map(|i| start.saturating_add(i.saturating_mul(step)))
                    .collect();
                let name = name.unwrap_or_else(|| "index".into());
                Ok(Some(Series::new(name.into(), values).into_column()))
            }
            Index::Values { column, name } => {
                let name = name.unwrap_or_else(|| "index".into());
                Ok(Some(column.with_name(name.into()).into_column()))
            }
        }
    }
}

/// Elements `sel` of `a` read in place, sharing its bytes: the contiguous little-endian
/// elements of a lifted payload (`a.own`), whose buffer is aligned for any of them. `None`
/// where they must be copied.
fn in_place<T: bytemuck::Pod>(a: &Array<'_>, raw: &Bytes, sel: Sel) -> Option<Buffer<T>> {
    let n = std::mem::size_of::<T>();
    let native = cfg!(target_endian = "little") && !a.dtype.big_endian;
    if !a.own || !native || sel.stride != 1 || a.dtype.size != n {
        return None;
    }
    let bytes = raw.slice(sel.start * n..(sel.start + sel.len) * n);
    bytemuck::try_cast_slice::<u8, T>(&bytes).ok()?;
    Some(Buffer::from_owner(InPlace::<T> {
        bytes,
        of: std::marker::PhantomData,
    }))
}

/// Bytes read as elements of `T`, for a column's buffer ([`in_place`]).
struct InPlace<T> {
    bytes: Bytes,
    of: std::marker::PhantomData<fn() -> T>,
}

impl<T: bytemuck::Pod> AsRef<[T]> for InPlace<T> {
    fn as_ref(&self) -> &[T] {
        bytemuck::cast_slice(&self.bytes)
    }
}

/// A numeric column of `values`, null where `validity` says.
fn numbers<T: PolarsNumericType>(
    name: PlSmallStr,
    values: Buffer<T::Native>,
    validity: Option<Bitmap>,
) -> ChunkedArray<T> {
    let dtype = <T::Native as NativeType>::PRIMITIVE.into();
    ChunkedArray::with_chunk(name, PrimitiveArray::new(dtype, values, validity))
}

fn label_texts(column: &Series) -> Result<Vec<String>> {
    if let Ok(ca) = column.str() {
        return Ok(ca.iter().map(|s| s.unwrap_or("None").to_owned()).collect());
    }
    Ok((0..column.len())
        .map(|i| match column.get(i) {
            Ok(AnyValue::Null) | Err(_) => "None".to_owned(),
            Ok(v) => v.to_string(),
        })
        .collect())
}

struct Reader<'g> {
    g: &'g Graph,
    on_path: Vec<bool>,
    depth: u32,
    max_depth: u32,
    settings: &'g ReadSettings,
}

impl<'g> Reader<'g> {
    // ---- the graph ----

    /// Held payload `id` ([`V::Held`]).
    fn held(&self, id: u32) -> Result<Bytes> {
        self.g
            .held(id)
            .ok_or_else(|| bad("a bytes payload read again after its last use"))
    }

    /// For each block of `blocks` (values and placement), the held payloads it is the last
    /// block to use, found by walking the graph once from the last block back.
    fn last_uses(&self, blocks: &[(V, V)]) -> Vec<Vec<u32>> {
        let mut seen_nodes = vec![false; self.g.nodes.len()];
        let mut seen_tuples = std::collections::HashSet::new();
        let mut seen_held = std::collections::HashSet::new();
        let mut out = vec![Vec::new(); blocks.len()];
        for (k, (values, placement)) in blocks.iter().enumerate().rev() {
            let mut todo: Vec<&V> = vec![values, placement];
            while let Some(v) = todo.pop() {
                match v {
                    V::Held(id) if seen_held.insert(*id) => out[k].push(*id),
                    V::Tuple(items)
                        if seen_tuples.insert(std::rc::Rc::as_ptr(items).cast::<V>()) =>
                    {
                        todo.extend(items.iter())
                    }
                    V::Node(id) => {
                        let Some(seen) = seen_nodes.get_mut(*id as usize) else {
                            continue;
                        };
                        if std::mem::replace(seen, true) {
                            continue;
                        }
                        match &self.g.nodes[*id as usize] {
                            Node::List(items) | Node::Set { items, .. } => todo.extend(items),
                            Node::Dict(pairs) => {
                                todo.extend(pairs.iter().flat_map(|(a, b)| [a, b]))
                            }
                            Node::Object {
                                args, state, items, ..
                            } => {
                                todo.push(args);
                                todo.extend(state);
                                todo.extend(items.iter().flat_map(|(a, b)| [a, b]));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// Enters node `v` (if it is one) for `f`, refusing one already being read (an object
    /// inside itself) and nesting deeper than the limit.
    fn enter<T>(&mut self, v: &V, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.depth += 1;
        if self.depth > self.max_depth {
            self.depth -= 1;
            return Err(exceeded(
                "max_pickle_depth",
                format!(
                    "the pickle nests values more than {} levels deep",
                    self.max_depth
                ),
            ));
        }
        let id = match v {
            V::Node(id) => Some(*id as usize),
            _ => None,
        };
        if let Some(id) = id {
            if self.on_path[id] {
                self.depth -= 1;
                return Err(unsupported(
                    "the pickle holds a recursive structure (an object inside itself, made \
                     with a memo reference), which s3io cannot represent",
                ));
            }
            self.on_path[id] = true;
        }
        let out = f(self);
        if let Some(id) = id {
            self.on_path[id] = false;
        }
        self.depth -= 1;
        out
    }

    fn node(&self, v: &V) -> Option<&'g Node> {
        match v {
            V::Node(id) => self.g.nodes.get(*id as usize),
            _ => None,
        }
    }

    fn obj(&self, v: &V) -> Option<Obj<'g>> {
        match self.node(v)? {
            Node::Object {
                class,
                args,
                state,
                items,
            } => Some(Obj {
                class,
                args: match args {
                    V::Tuple(t) => t,
                    _ => &[],
                },
                state: state.as_ref(),
                items,
            }),
            _ => None,
        }
    }

    fn class(&self, v: &V) -> Option<Global> {
        self.obj(v).map(|o| o.class)
    }

    /// The object of class `class`, or an error saying what was expected.
    fn expect_obj(&self, v: &V, class: &[&str], what: &str) -> Result<Obj<'g>> {
        match self.obj(v) {
            Some(o) if class.contains(&o.class) => Ok(o),
            Some(o) => Err(bad(format!("expected {what}, found `{}`", o.class))),
            None => Err(bad(format!("expected {what}"))),
        }
    }

    /// Items of a dict node, or of an object's SETITEMS.
    fn dict(&self, v: &V) -> Option<&'g [(V, V)]> {
        match self.node(v)? {
            Node::Dict(items) => Some(items),
            _ => None,
        }
    }

    fn get(&self, v: &V, key: &str) -> Option<&'g V> {
        self.dict(v)?.iter().find_map(|(k, value)| match k {
            V::Str(s) if &**s == key => Some(value),
            _ => None,
        })
    }

    fn list(&self, v: &'g V) -> Option<&'g [V]> {
        match v {
            V::Tuple(t) => Some(t),
            _ => match self.node(v)? {
                Node::List(items) => Some(items),
                _ => None,
            },
        }
    }

    // ---- plain values ----

    fn value(&mut self, v: &V) -> Result<PickleValue> {
        self.enter(v, |r| r.value_inner(v))
    }

    fn value_inner(&mut self, v: &V) -> Result<PickleValue> {
        Ok(match v {
            V::None => PickleValue::None,
            V::Bool(b) => PickleValue::Bool(*b),
            V::Int(i) => PickleValue::I64(*i),
            V::Big(b) => PickleValue::Int((**b).clone()),
            V::Float(f) => PickleValue::F64(*f),
            V::Str(s) => PickleValue::String(s.to_string()),
            V::Bytes(b) => PickleValue::Bytes(b.to_vec()),
            V::Held(id) => PickleValue::Bytes(self.held(*id)?.to_vec()),
            V::Tuple(items) => PickleValue::Tuple(self.values(items)?),
            V::Global("NA") => PickleValue::None,
            V::Global(g) => {
                return Err(unsupported(format!(
                    "the pickle holds the Python global `{g}` as a value, which s3io cannot \
                     represent"
                )));
            }
            V::Node(id) => match &self.g.nodes[*id as usize] {
                Node::List(items) => PickleValue::List(self.values(items)?),
                Node::Set { items, frozen } => {
                    let items = self.values(items)?;
                    if *frozen {
                        PickleValue::FrozenSet(items)
                    } else {
                        PickleValue::Set(items)
                    }
                }
                Node::Dict(items) => PickleValue::Dict(self.pairs(items)?),
                Node::Object { .. } => self.object_value(v)?,
            },
        })
    }

    fn values(&mut self, items: &[V]) -> Result<Vec<PickleValue>> {
        items.iter().map(|v| self.value(v)).collect()
    }

    fn pairs(&mut self, items: &[(V, V)]) -> Result<Vec<(PickleValue, PickleValue)>> {
        items
            .iter()
            .map(|(k, v)| Ok((self.value(k)?, self.value(v)?)))
            .collect()
    }

    fn object_value(&mut self, v: &V) -> Result<PickleValue> {
        let o = self.obj(v).ok_or_else(|| bad("expected an object"))?;
        let arg = |i: usize| o.args.get(i);
        Ok(match o.class {
            "datetime.datetime" => {
                let raw = state_bytes(arg(0))?;
                let tz = self.tz_arg(arg(1))?;
                PickleValue::Datetime(datetime_from(&raw)?, tz)
            }
            "datetime.date" => {
                let raw = state_bytes(arg(0))?;
                let [hi, lo, month, day] = raw[..] else {
                    return Err(bad("a datetime.date state that is not 4 bytes"));
                };
                let year = i32::from(hi) * 256 + i32::from(lo);
                PickleValue::Date(
                    NaiveDate::from_ymd_opt(year, month.into(), day.into())
                        .ok_or_else(|| bad("a datetime.date out of range"))?,
                )
            }
            "datetime.time" => {
                let raw = state_bytes(arg(0))?;
                let [h, m, s, u1, u2, u3] = raw[..] else {
                    return Err(bad("a datetime.time state that is not 6 bytes"));
                };
                let micros = u32::from(u1) << 16 | u32::from(u2) << 8 | u32::from(u3);
                let t =
                    NaiveTime::from_hms_micro_opt((h & 0x7f).into(), m.into(), s.into(), micros)
                        .ok_or_else(|| bad("a datetime.time out of range"))?;
                PickleValue::Time(t, self.tz_arg(arg(1))?)
            }
            "datetime.timedelta" => PickleValue::Timedelta(self.timedelta(v)?),
            "Decimal" => match arg(0) {
                Some(V::Str(s)) => PickleValue::Decimal(s.to_string()),
                _ => return Err(bad("a Decimal without its text")),
            },
            "OrderedDict" => {
                let mut items = Vec::new();
                if let Some(first) = arg(0) {
                    for pair in self.list(first).unwrap_or(&[]) {
                        match self.list(pair) {
                            Some([k, value]) => items.push((self.value(k)?, self.value(value)?)),
                            _ => return Err(bad("an OrderedDict item that is not a pair")),
                        }
                    }
                }
                items.extend(self.pairs(o.items)?);
                PickleValue::Dict(items)
            }
            "np.scalar" => {
                let dtype =
                    self.dtype(arg(0).ok_or_else(|| bad("a numpy scalar without dtype"))?)?;
                match arg(1) {
                    Some(V::Bytes(raw)) => scalar(&dtype, raw)?,
                    Some(V::Held(id)) => scalar(&dtype, &self.held(*id)?)?,
                    Some(V::Str(text)) => scalar(&dtype, &latin1(text)?)?,
                    Some(other) if dtype.kind == b'O' => self.value(other)?,
                    _ => return Err(bad("a numpy scalar without its bytes")),
                }
            }
            "_unpickle_timestamp" => {
                let value = int(arg(0)).ok_or_else(|| bad("a Timestamp without its value"))?;
                let unit = match arg(3) {
                    Some(V::Int(code)) => Unit::from_reso(*code)
                        .ok_or_else(|| unsupported(format!("a Timestamp in unit code {code}")))?,
                    _ => Unit::Ns,
                };
                let tz = self.tz_arg(arg(2))?;
                if value == i64::MIN {
                    return Ok(PickleValue::None);
                }
                let utc = DateTime::from_timestamp_nanos(
                    value
                        .checked_mul(unit.nanos())
                        .ok_or_else(|| bad("a Timestamp out of range"))?,
                )
                .naive_utc();
                match tz {
                    None => PickleValue::Datetime(utc, None),
                    Some(tz) => match tz.offset_seconds() {
                        Some(offset) if !matches!(tz, PyTimeZone::Named { .. }) => {
                            PickleValue::Datetime(utc + TimeDelta::seconds(offset.into()), Some(tz))
                        }
                        // A named zone's offset needs the tz database: keep the instant, in UTC.
                        _ => PickleValue::Datetime(utc, Some(PyTimeZone::Utc)),
                    },
                }
            }
            "_timedelta_unpickle" => {
                let value = int(arg(0)).ok_or_else(|| bad("a Timedelta without its value"))?;
                let unit = match arg(1) {
                    Some(V::Int(code)) => Unit::from_reso(*code)
                        .ok_or_else(|| unsupported(format!("a Timedelta in unit code {code}")))?,
                    _ => Unit::Ns,
                };
                if value == i64::MIN {
                    return Ok(PickleValue::None);
                }
                PickleValue::Timedelta(TimeDelta::nanoseconds(
                    value
                        .checked_mul(unit.nanos())
                        .ok_or_else(|| bad("a Timedelta out of range"))?,
                ))
            }
            "DataFrame" | "Series" | "np._reconstruct" | "np._frombuffer" => {
                return Err(unsupported(
                    "the pickle holds a pandas or numpy object inside a dict, list or tuple; \
                     s3io reads these only as the whole pickle",
                ));
            }
            other => {
                return Err(unsupported(format!(
                    "the pickle builds a `{other}` where s3io expects a plain value"
                )));
            }
        })
    }

    fn timedelta(&mut self, v: &V) -> Result<TimeDelta> {
        let o = self.expect_obj(v, &["datetime.timedelta"], "a datetime.timedelta")?;
        let part = |i: usize| int(o.args.get(i)).unwrap_or(0);
        TimeDelta::try_days(part(0))
            .and_then(|d| d.checked_add(&TimeDelta::try_seconds(part(1))?))
            .and_then(|d| d.checked_add(&TimeDelta::microseconds(part(2))))
            .ok_or_else(|| bad("a timedelta out of range"))
    }

    /// A tzinfo argument: None, or a zone.
    fn tz_arg(&mut self, v: Option<&V>) -> Result<Option<PyTimeZone>> {
        match v {
            None | Some(V::None) => Ok(None),
            Some(v) => self.enter(v, |r| r.tz(v)).map(Some),
        }
    }

    fn tz(&mut self, v: &V) -> Result<PyTimeZone> {
        let o = self
            .obj(v)
            .ok_or_else(|| bad("a time zone that is not an object"))?;
        let text = |i: usize| match o.args.get(i) {
            Some(V::Str(s)) => Some(s.to_string()),
            _ => None,
        };
        Ok(match o.class {
            "datetime.timezone" => {
                let offset = match o.args.first() {
                    Some(delta) => self.timedelta(delta)?,
                    None => return Err(bad("a datetime.timezone without its offset")),
                };
                let seconds = i32::try_from(offset.num_seconds())
                    .map_err(|_| bad("a time zone offset out of range"))?;
                match (seconds, text(1)) {
                    (0, None) => PyTimeZone::Utc,
                    (offset_seconds, name) => PyTimeZone::Fixed {
                        offset_seconds,
                        name,
                    },
                }
            }
            "ZoneInfo._unpickle" | "ZoneInfo" => match text(0) {
                Some(key) if key == "UTC" => PyTimeZone::Utc,
                Some(key) => PyTimeZone::Named {
                    key,
                    offset_seconds: None,
                },
                None => return Err(bad("a ZoneInfo without its key")),
            },
            "pytz._UTC" => PyTimeZone::Utc,
            "pytz._p" => match text(0) {
                Some(key) if key == "UTC" => PyTimeZone::Utc,
                Some(key) => PyTimeZone::Named {
                    key,
                    offset_seconds: int(o.args.get(1)).and_then(|s| i32::try_from(s).ok()),
                },
                None => return Err(bad("a pytz zone without its name")),
            },
            other => {
                return Err(unsupported(format!(
                    "`{other}` is not a time zone s3io reads"
                )));
            }
        })
    }

    // ---- numpy ----

    fn dtype(&mut self, v: &V) -> Result<Dtype> {
        let o = self.expect_obj(v, &["np.dtype"], "a numpy dtype")?;
        let Some(V::Str(name)) = o.args.first() else {
            return Err(bad("a numpy dtype without its name"));
        };
        let state = o.state.and_then(|s| self.list(s)).unwrap_or(&[]);
        let order = match state.get(1) {
            Some(V::Str(s)) => s.to_string(),
            _ => "|".into(),
        };
        let kind = *name
            .as_bytes()
            .first()
            .ok_or_else(|| bad("an empty dtype name"))?;
        let digits: usize = name[1..].parse().unwrap_or(0);
        let elsize = match state.get(5) {
            Some(V::Int(n)) if *n > 0 => Some(*n as usize),
            _ => None,
        };
        let size = match kind {
            b'U' => elsize.unwrap_or(digits.saturating_mul(4)),
            b'O' => 8,
            _ => elsize.unwrap_or(digits),
        };
        let mut unit = None;
        if matches!(kind, b'M' | b'm') {
            // The metadata is the last item of a version 4 state: (dict, (unit, num, den, events)).
            let meta = state.last().and_then(|m| self.list(m));
            let spec = meta.and_then(|m| m.get(1)).and_then(|s| self.list(s));
            let unit_name = match spec.and_then(|s| s.first()) {
                Some(V::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
                Some(V::Str(s)) => s.to_string(),
                _ => "generic".into(),
            };
            let num = spec.and_then(|s| int(s.get(1))).unwrap_or(1);
            unit = Some(Unit::from_name(&unit_name).filter(|_| num == 1).ok_or_else(|| {
                unsupported(format!(
                    "the pickle holds a numpy {} array in unit {num}{unit_name}; s3io reads \
                     D, s, ms, us and ns",
                    if kind == b'M' { "datetime64" } else { "timedelta64" }
                ))
            })?);
        }
        Ok(Dtype {
            kind,
            size,
            big_endian: order == ">",
            unit,
        })
    }

    fn array(&mut self, v: &V) -> Result<Array<'g>> {
        self.enter(v, |r| r.array_inner(v))
    }

    fn array_inner(&mut self, v: &V) -> Result<Array<'g>> {
        let o = self.expect_obj(v, &["np._reconstruct", "np._frombuffer"], "a numpy array")?;
        let (shape_v, dtype_v, fortran, data_v) = if o.class == "np._frombuffer" {
            let [buf, dtype, shape, order] = o.args else {
                return Err(bad("numpy _frombuffer takes 4 arguments"));
            };
            let fortran = matches!(order, V::Str(s) if &**s == "F");
            let buf = match self.obj(buf) {
                Some(p) if p.class == "pa.py_buffer" => p.args.first().unwrap_or(buf),
                _ => buf,
            };
            (shape, dtype, fortran, buf)
        } else {
            let state = o
                .state
                .and_then(|s| self.list(s))
                .ok_or_else(|| bad("a numpy array without its state"))?;
            let state = match state {
                [_version, rest @ ..] if rest.len() == 4 => rest,
                rest => rest,
            };
            let [shape, dtype, fortran, data] = state else {
                return Err(bad("a numpy array state of the wrong length"));
            };
            (
                shape,
                dtype,
                matches!(fortran, V::Bool(true) | V::Int(1)),
                data,
            )
        };
        let dtype = self.dtype(dtype_v)?;
        let shape: Vec<usize> = match shape_v {
            V::Int(n) => vec![*n],
            other => self
                .list(other)
                .ok_or_else(|| bad("a numpy shape that is not a tuple"))?
                .iter()
                .map(|d| int(Some(d)))
                .collect::<Option<Vec<i64>>>()
                .ok_or_else(|| bad("a numpy shape that is not made of ints"))?,
        }
        .into_iter()
        .map(|d| usize::try_from(d).map_err(|_| bad(format!("a numpy shape with {d} in it"))))
        .collect::<Result<_>>()?;
        let count = shape
            .iter()
            .try_fold(1usize, |acc, d| acc.checked_mul(*d))
            .ok_or_else(|| {
                bad(format!(
                    "the numpy shape {shape:?} overflows: more elements than can exist"
                ))
            })?;
        if dtype.size == 0 {
            // Zero-byte items would let a shape of any size pass the check against the bytes.
            return Err(bad(format!(
                "a numpy array of the zero-byte dtype '{}0'",
                char::from(dtype.kind)
            )));
        }
        let own = matches!(data_v, V::Held(_));
        let data = if dtype.kind == b'O' {
            let items = self
                .list(data_v)
                .ok_or_else(|| bad("an object array whose items are not a list"))?;
            if items.len() != count {
                return Err(bad(format!(
                    "an object array of shape {shape:?} holds {} items",
                    items.len()
                )));
            }
            Elements::Objects(items)
        } else {
            let raw = match data_v {
                V::Bytes(b) => b.clone(),
                V::Held(id) => self.held(*id)?,
                V::Str(s) => Bytes::from(latin1(s)?),
                _ => return Err(bad("a numpy array without its bytes")),
            };
            let declared = count.checked_mul(dtype.size).ok_or_else(|| {
                bad(format!(
                    "the numpy shape {shape:?} × itemsize {} overflows",
                    dtype.size
                ))
            })?;
            if declared != raw.len() {
                return Err(bad(format!(
                    "a numpy array declares shape {shape:?} of {}-byte items ({declared} bytes) \
                     but holds {} bytes",
                    dtype.size,
                    raw.len()
                )));
            }
            Elements::Raw(raw)
        };
        if !matches!(
            dtype.kind,
            b'b' | b'i' | b'u' | b'f' | b'M' | b'm' | b'O' | b'U' | b'S'
        ) {
            return Err(unsupported(format!(
                "the pickle holds a numpy array of dtype kind '{}' ({} bytes an item), which \
                 s3io does not read",
                char::from(dtype.kind),
                dtype.size
            )));
        }
        Ok(Array {
            dtype,
            shape,
            fortran,
            data,
            own,
        })
    }

    /// One polars column from elements `sel` of `a`.
    fn series(&mut self, name: &str, a: &Array<'g>, sel: Sel, wrap: &Wrap) -> Result<Series> {
        let d = a.dtype;
        let n = sel.len;
        self.settings
            .charge_output((n as u64).saturating_mul(d.size.max(8) as u64 + 1), || {
                format!("column {name:?} of the pickled frame")
            })?;
        let name = PlSmallStr::from(name);
        let raw = match &a.data {
            Elements::Raw(raw) => raw.clone(),
            Elements::Objects(items) => {
                let items: Vec<&V> = sel.iter().map(|i| &items[i]).collect();
                return self.object_series(name, &items);
            }
        };
        let at = |i: usize| &raw[i * d.size..(i + 1) * d.size];
        // Contiguous elements (a 1-D array, a row of a C-order block) are read straight
        // from their bytes; the sizes were checked against the buffer when the array was read,
        // and the dtype's size is the type's (matched below). Little-endian elements, the
        // common case, in a loop the compiler makes a copy of.
        macro_rules! num {
            ($t:ty) => {{
                const N: usize = std::mem::size_of::<$t>();
                let from = |b: &[u8]| {
                    let b: [u8; N] = b.try_into().expect("itemsize checked");
                    if d.big_endian {
                        <$t>::from_be_bytes(b)
                    } else {
                        <$t>::from_le_bytes(b)
                    }
                };
                if let Some(values) = in_place::<$t>(a, &raw, sel) {
                    values
                } else if sel.stride == 1 {
                    let bytes = &raw[sel.start * N..(sel.start + n) * N];
                    if d.big_endian {
                        bytes.chunks_exact(N).map(from).collect()
                    } else {
                        bytes
                            .chunks_exact(N)
                            .map(|b| <$t>::from_le_bytes(b.try_into().expect("N bytes")))
                            .collect()
                    }
                } else {
                    sel.iter().map(|i| from(at(i))).collect()
                }
            }};
        }
        // Floats: NaN is null, with a validity mask only when there is one.
        macro_rules! float {
            ($t:ty, $ca:ty) => {{
                let values = num!($t);
                let validity = values
                    .iter()
                    .any(|f| f.is_nan())
                    .then(|| values.iter().map(|f| !f.is_nan()).collect());
                numbers::<$ca>(name, values, validity).into_series()
            }};
        }
        // The values' buffer becomes the column's: `Series::new` would copy it, holding a
        // block's column twice at the peak.
        Ok(match (d.kind, d.size) {
            (b'b', 1) => Series::new(name, sel.iter().map(|i| raw[i] != 0).collect::<Vec<_>>()),
            (b'i', 1) => numbers::<Int8Type>(name, num!(i8), None).into_series(),
            (b'i', 2) => numbers::<Int16Type>(name, num!(i16), None).into_series(),
            (b'i', 4) => numbers::<Int32Type>(name, num!(i32), None).into_series(),
            (b'i', 8) => numbers::<Int64Type>(name, num!(i64), None).into_series(),
            (b'u', 1) => numbers::<UInt8Type>(name, num!(u8), None).into_series(),
            (b'u', 2) => numbers::<UInt16Type>(name, num!(u16), None).into_series(),
            (b'u', 4) => numbers::<UInt32Type>(name, num!(u32), None).into_series(),
            (b'u', 8) => numbers::<UInt64Type>(name, num!(u64), None).into_series(),
            (b'f', 4) => float!(f32, Float32Type),
            (b'f', 8) => float!(f64, Float64Type),
            (b'M' | b'm', 8) => {
                let unit = d.unit.ok_or_else(|| bad("a datetime64 without a unit"))?;
                let (tu, factor) = unit.polars();
                let values = num!(i64);
                let ca = if factor == 1 {
                    // NaT is i64::MIN: null, over the value it keeps.
                    let validity = values
                        .contains(&i64::MIN)
                        .then(|| values.iter().map(|v| *v != i64::MIN).collect());
                    numbers::<Int64Type>(name, values, validity)
                } else {
                    Int64Chunked::from_iter_options(
                        name,
                        values.iter().map(|&v| {
                            if v == i64::MIN {
                                None
                            } else {
                                v.checked_mul(factor)
                            }
                        }),
                    )
                };
                match (d.kind, wrap) {
                    (b'M', Wrap::Plain) => ca.into_datetime(tu, None).into_series(),
                    (b'M', Wrap::Zoned(tz)) => ca.into_datetime(tu, zone(tz)?).into_series(),
                    _ => ca.into_duration(tu).into_series(),
                }
            }
            (b'U', _) => {
                let mut out = Vec::with_capacity(n);
                for i in sel.iter() {
                    let mut text = String::new();
                    for ch in at(i).chunks_exact(4) {
                        let b: [u8; 4] = ch.try_into().expect("chunks of 4");
                        let code = if d.big_endian {
                            u32::from_be_bytes(b)
                        } else {
                            u32::from_le_bytes(b)
                        };
                        if code == 0 {
                            break;
                        }
                        text.push(
                            char::from_u32(code)
                                .ok_or_else(|| bad("a numpy str that is not Unicode"))?,
                        );
                    }
                    out.push(text);
                }
                Series::new(name, out)
            }
            (b'S', _) => {
                let out: Vec<Vec<u8>> = sel
                    .iter()
                    .map(|i| {
                        let b = at(i);
                        let end = b.iter().rposition(|c| *c != 0).map_or(0, |p| p + 1);
                        b[..end].to_vec()
                    })
                    .collect();
                Series::new(name, out)
            }
            (kind, size) => {
                return Err(unsupported(format!(
                    "the pickle holds a numpy array of dtype '{}{size}', which s3io does not read",
                    char::from(kind)
                )));
            }
        })
    }

    /// A column from the items of an object array: str with None/NaN/NA as text; all
    /// bools, ints or floats as those; dates, naive datetimes and timedeltas as such; any
    /// other mix as the items' Python-like text.
    fn object_series(&mut self, name: PlSmallStr, items: &[&V]) -> Result<Series> {
        // Text with None / NaN, the common case, straight from the machine's strings: the
        // same column the general path below gives, without a PickleValue per item. (Items
        // are leaves, one level down: the depth check value() makes, made once.)
        let missing = |v: &V| match v {
            V::None | V::Global("NA") => true,
            V::Float(f) => f.is_nan(),
            _ => false,
        };
        if self.depth < self.max_depth
            && items.iter().any(|v| matches!(v, V::Str(_)))
            && items.iter().all(|v| matches!(v, V::Str(_)) || missing(v))
        {
            let texts = items.iter().map(|v| match v {
                V::Str(s) => Some(&**s),
                _ => None,
            });
            return Ok(StringChunked::from_iter_options(name, texts).into_series());
        }
        let values: Vec<PickleValue> =
            items.iter().map(|v| self.value(v)).collect::<Result<_>>()?;
        let missing = |v: &PickleValue| match v {
            PickleValue::None => true,
            PickleValue::F64(f) => f.is_nan(),
            _ => false,
        };
        let present: Vec<&PickleValue> = values.iter().filter(|v| !missing(v)).collect();
        let all = |f: fn(&PickleValue) -> bool| present.iter().all(|v| f(v));
        if !present.is_empty() && all(|v| matches!(v, PickleValue::Bool(_))) {
            let out: Vec<Option<bool>> = values
                .iter()
                .map(|v| (!missing(v)).then_some(matches!(v, PickleValue::Bool(true))))
                .collect();
            return Ok(Series::new(name, out));
        }
        if !present.is_empty() && all(|v| matches!(v, PickleValue::I64(_))) {
            let out: Vec<Option<i64>> = values
                .iter()
                .map(|v| match v {
                    PickleValue::I64(i) => Some(*i),
                    _ => None,
                })
                .collect();
            return Ok(Series::new(name, out));
        }
        if !present.is_empty() && all(|v| matches!(v, PickleValue::I64(_) | PickleValue::F64(_))) {
            let out: Vec<Option<f64>> = values
                .iter()
                .map(|v| match v {
                    PickleValue::I64(i) => Some(*i as f64),
                    PickleValue::F64(f) if !f.is_nan() => Some(*f),
                    _ => None,
                })
                .collect();
            return Ok(Series::new(name, out));
        }
        if !present.is_empty() && all(|v| matches!(v, PickleValue::Date(_))) {
            let out: Vec<Option<i32>> = values
                .iter()
                .map(|v| match v {
                    PickleValue::Date(d) => Some(super::days_since_epoch(*d)),
                    _ => None,
                })
                .collect();
            return Series::new(name, out)
                .cast(&DataType::Date)
                .map_err(polars_error);
        }
        if !present.is_empty() && all(|v| matches!(v, PickleValue::Datetime(_, None))) {
            let out: Vec<Option<i64>> = values
                .iter()
                .map(|v| match v {
                    PickleValue::Datetime(at, None) => Some(at.and_utc().timestamp_micros()),
                    _ => None,
                })
                .collect();
            return Series::new(name, out)
                .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
                .map_err(polars_error);
        }
        let out: Vec<Option<String>> = values
            .iter()
            .map(|v| match v {
                _ if missing(v) => None,
                PickleValue::String(s) => Some(s.clone()),
                PickleValue::Decimal(s) => Some(s.clone()),
                other => Some(other.to_string()),
            })
            .collect();
        Ok(Series::new(name, out))
    }

    /// `pd.DataFrame(arr)`: columns "0", "1", ... of a 1-D or 2-D array.
    fn array_frame(&mut self, v: &V) -> Result<DataFrame> {
        let a = self.array(v)?;
        let (_, cols) = a.dims()?;
        let mut columns = Vec::with_capacity(cols);
        for c in 0..cols {
            let sel = a.column(c)?;
            columns.push(
                self.series(&c.to_string(), &a, sel, &Wrap::Plain)?
                    .into_column(),
            );
        }
        let height = a.dims()?.0;
        DataFrame::new(height, columns).map_err(polars_error)
    }

    // ---- pandas ----

    /// The columns an array-like holds, as a block (2-D: one column per row) or an index or
    /// Series (1-D): numpy arrays and pandas' extension arrays.
    fn columns_of(&mut self, v: &V, names: &[String]) -> Result<Vec<Series>> {
        self.enter(v, |r| r.columns_inner(v, names))
    }

    fn columns_inner(&mut self, v: &V, names: &[String]) -> Result<Vec<Series>> {
        let o = self
            .obj(v)
            .ok_or_else(|| bad("a column that is not an array"))?;
        match o.class {
            "np._reconstruct" | "np._frombuffer" => {
                let a = self.array_inner(v)?;
                self.split(&a, names, &Wrap::Plain)
            }
            "__pyx_unpickle_NDArrayBacked" => {
                let Some(V::Global(cls)) = o.args.first() else {
                    return Err(bad("an NDArrayBacked without its class"));
                };
                let state = match (o.args.get(2), o.state) {
                    (Some(s), _) if !matches!(s, V::None) => s,
                    (_, Some(s)) => s,
                    _ => return Err(bad("an NDArrayBacked without its state")),
                };
                let parts = self
                    .list(state)
                    .ok_or_else(|| bad("an NDArrayBacked state that is not a tuple"))?;
                let [dtype, data, ..] = parts else {
                    return Err(bad("an NDArrayBacked state without dtype and data"));
                };
                match *cls {
                    "DatetimeArray" | "TimedeltaArray" => {
                        let wrap = self.datetime_wrap(dtype)?;
                        let a = self.array(data)?;
                        self.split(&a, names, &wrap)
                    }
                    "Categorical" => {
                        let codes = self.array(data)?;
                        self.categorical(&codes, dtype, names)
                    }
                    "StringArray" => {
                        let a = self.array(data)?;
                        self.split(&a, names, &Wrap::Plain)
                    }
                    other => Err(unsupported(format!(
                        "the pickle holds a pandas `{other}` array, which s3io does not read"
                    ))),
                }
            }
            "IntegerArray" | "FloatingArray" | "BooleanArray" => {
                // pandas' pickle: BUILD {"_data": ..., "_mask": ...}; s3io's: the public
                // constructor, IntegerArray(values, mask).
                let (data, mask) = match (o.state, o.args) {
                    (Some(state), _) => (
                        self.get(state, "_data")
                            .ok_or_else(|| bad("a masked array without _data"))?,
                        self.get(state, "_mask")
                            .ok_or_else(|| bad("a masked array without _mask"))?,
                    ),
                    (None, [data, mask, ..]) => (data, mask),
                    _ => return Err(bad("a masked array without its values and mask")),
                };
                let data = self.array(data)?;
                let mask = self.array(mask)?;
                if mask.dtype.kind != b'b' || mask.shape != data.shape {
                    return Err(bad("a masked array whose mask does not match its data"));
                }
                let values = self.split(&data, names, &Wrap::Plain)?;
                let masks = self.split(&mask, names, &Wrap::Plain)?;
                values
                    .into_iter()
                    .zip(masks)
                    .map(|(s, m)| {
                        let keep = !m.bool().map_err(polars_error)?;
                        let nulls = Series::full_null(s.name().clone(), s.len(), s.dtype());
                        s.zip_with(&keep, &nulls).map_err(polars_error)
                    })
                    .collect()
            }
            "ArrowStringArray" | "ArrowStringArrayNumpySemantics" => {
                let state = o
                    .state
                    .ok_or_else(|| bad("an ArrowStringArray without its state"))?;
                let pa = self
                    .get(state, "_pa_array")
                    .or_else(|| self.get(state, "_data"))
                    .ok_or_else(|| bad("an ArrowStringArray without its pyarrow array"))?;
                let name = names.first().map_or("0", |s| s.as_str());
                Ok(vec![self.arrow_strings(pa, name)?])
            }
            "Categorical" => Err(unsupported(
                "the pickle holds a Categorical in a layout older than pandas 1.3, which s3io \
                 does not read",
            )),
            other => Err(unsupported(format!(
                "the pickle holds a pandas `{other}` where s3io expects an array"
            ))),
        }
    }

    /// The columns of a 1-D array (one) or a 2-D block (one per row).
    fn split(&mut self, a: &Array<'g>, names: &[String], wrap: &Wrap) -> Result<Vec<Series>> {
        let name = |i: usize| names.get(i).map_or_else(|| i.to_string(), |s| s.clone());
        if a.shape.len() <= 1 {
            return Ok(vec![self.series(&name(0), a, Sel::all(a.len()), wrap)?]);
        }
        let (rows, _) = a.dims()?;
        let mut out = Vec::with_capacity(rows);
        for r in 0..rows {
            let sel = a.row(r)?;
            out.push(self.series(&name(r), a, sel, wrap)?);
        }
        Ok(out)
    }

    /// A numpy datetime64/timedelta64 dtype, or pandas' DatetimeTZDtype.
    fn datetime_wrap(&mut self, dtype: &V) -> Result<Wrap> {
        match self.class(dtype) {
            Some("np.dtype") => Ok(Wrap::Plain),
            Some("DatetimeTZDtype") => {
                let o = self.obj(dtype).expect("an object");
                // s3io writes DatetimeTZDtype(unit, "Europe/Oslo"); pandas a BUILD state.
                if let (None, [_, V::Str(zone), ..]) = (o.state, o.args) {
                    return Ok(Wrap::Zoned(zone.to_string()));
                }
                let state = o
                    .state
                    .ok_or_else(|| bad("a DatetimeTZDtype without its state"))?;
                let tz = self
                    .get(state, "tz")
                    .ok_or_else(|| bad("a DatetimeTZDtype without tz"))?;
                let tz = self.tz(tz)?;
                Ok(Wrap::Zoned(tz.name()))
            }
            _ => Err(bad("a datetime array whose dtype s3io does not know")),
        }
    }

    fn categorical(
        &mut self,
        codes: &Array<'g>,
        dtype: &V,
        names: &[String],
    ) -> Result<Vec<Series>> {
        let o = self.expect_obj(dtype, &["CategoricalDtype"], "a CategoricalDtype")?;
        let labels = match (o.state, o.args) {
            (Some(state), _) => {
                let cats = self
                    .get(state, "categories")
                    .ok_or_else(|| bad("a CategoricalDtype without categories"))?;
                self.index(cats)?.labels()?
            }
            // s3io writes CategoricalDtype([categories], ordered).
            (None, [cats, ..]) => {
                let cats = self
                    .list(cats)
                    .ok_or_else(|| bad("CategoricalDtype categories that are not a list"))?;
                cats.iter()
                    .map(|c| self.label(c))
                    .collect::<Result<Vec<_>>>()?
            }
            _ => return Err(bad("a CategoricalDtype without categories")),
        };
        let code_cols = self.split(codes, names, &Wrap::Plain)?;
        code_cols
            .into_iter()
            .map(|s| {
                let s = s.cast(&DataType::Int64).map_err(polars_error)?;
                let values: Vec<Option<&str>> = s
                    .i64()
                    .map_err(polars_error)?
                    .iter()
                    .map(|c| match c {
                        Some(c) if c >= 0 => labels
                            .get(c as usize)
                            .map(|l| l.as_str())
                            .ok_or(())
                            .map(Some),
                        _ => Ok(None),
                    })
                    .collect::<std::result::Result<_, ()>>()
                    .map_err(|_| bad("a categorical code past its categories"))?;
                Series::new(s.name().clone(), values)
                    .cast(&DataType::from_categories(Categories::global()))
                    .map_err(polars_error)
            })
            .collect()
    }

    /// A pyarrow string array (`_restore_array`): type alias, validity, offsets, data.
    fn arrow_strings(&mut self, v: &V, name: &str) -> Result<Series> {
        let o = self.expect_obj(v, &["pa._restore_array"], "a pyarrow array")?;
        let state = o
            .args
            .first()
            .and_then(|s| self.list(s))
            .ok_or_else(|| bad("a pyarrow array without its state"))?;
        let [ty, length, _null_count, offset, buffers, ..] = state else {
            return Err(bad("a pyarrow array state of the wrong length"));
        };
        let ty = self.expect_obj(ty, &["pa.type_for_alias"], "a pyarrow type")?;
        let width = match ty.args.first() {
            Some(V::Str(s)) if &**s == "string" || &**s == "utf8" => 4,
            Some(V::Str(s)) if &**s == "large_string" || &**s == "large_utf8" => 8,
            Some(V::Str(s)) => {
                return Err(unsupported(format!(
                    "the pickle holds a pyarrow `{s}` array; s3io reads strings"
                )));
            }
            _ => return Err(bad("a pyarrow type without its alias")),
        };
        let len = int(Some(length))
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| bad("a pyarrow array length"))?;
        let offset = int(Some(offset))
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| bad("a pyarrow array offset"))?;
        let buffers = self
            .list(buffers)
            .ok_or_else(|| bad("pyarrow buffers that are not a list"))?;
        // Each buffer, and whether it is a lifted payload (a buffer of its own).
        let buffer = |i: usize| -> Result<Option<(Bytes, bool)>> {
            match buffers.get(i) {
                None | Some(V::None) => Ok(None),
                Some(b) => match self.obj(b) {
                    Some(p) if p.class == "pa.py_buffer" => match p.args.first() {
                        Some(V::Bytes(b)) => Ok(Some((b.clone(), false))),
                        Some(V::Held(id)) => self.held(*id).map(|b| Some((b, true))),
                        _ => Err(bad("a pyarrow buffer without bytes")),
                    },
                    _ => Err(bad("a pyarrow buffer that is not a py_buffer")),
                },
            }
        };
        let validity = buffer(0)?.map(|(bits, _)| bits);
        let (offsets, _) =
            buffer(1)?.ok_or_else(|| bad("a pyarrow string array without offsets"))?;
        let (data, own_data) = buffer(2)?.unwrap_or_default();
        let end = offset
            .checked_add(len)
            .ok_or_else(|| bad("a pyarrow array past any size"))?;
        let need = end
            .checked_add(1)
            .and_then(|n| n.checked_mul(width))
            .ok_or_else(|| bad("pyarrow offsets past any size"))?;
        if offsets.len() < need {
            return Err(bad(format!(
                "pyarrow offsets: {} bytes for {len} strings at offset {offset} need {need}",
                offsets.len()
            )));
        }
        if let Some(bits) = &validity
            && bits.len() * 8 < end
        {
            return Err(bad("a pyarrow validity bitmap shorter than its array"));
        }
        let read = |b: &[u8]| -> i64 {
            if width == 4 {
                i64::from(i32::from_le_bytes(b.try_into().expect("4 bytes")))
            } else {
                i64::from_le_bytes(b.try_into().expect("8 bytes"))
            }
        };
        // Each string's start and end offsets, in order (an exact-size iterator, so that the
        // column is allocated once).
        let start = read(&offsets[offset * width..(offset + 1) * width]);
        let bounds = || {
            offsets[offset * width..(end + 1) * width]
                .windows(2 * width)
                .step_by(width)
                .map(|w| (read(&w[..width]), read(&w[width..])))
        };
        self.settings.charge_output(
            (len as u64)
                .saturating_mul(24)
                .saturating_add(data.len() as u64),
            || format!("column {name:?} of the pickled frame"),
        )?;
        // Every offset first: monotone, within the data.
        for (i, (a, b)) in (offset..).zip(bounds()) {
            if a < 0 || b < a || b as u64 > data.len() as u64 {
                return Err(bad(format!(
                    "pyarrow offsets {a}..{b} of string {i} are not monotone within its {} data bytes",
                    data.len()
                )));
            }
        }
        let valid = |i: usize| {
            validity
                .as_ref()
                .is_none_or(|bits| bits[i / 8] >> (i % 8) & 1 == 1)
        };
        // A lifted data buffer becomes the column's: each string a view into it.
        if own_data && u32::try_from(data.len()).is_ok() {
            let views: Vec<View> = (offset..)
                .zip(bounds())
                .map(|(i, (a, b))| match valid(i) {
                    true => View::new_from_bytes(&data[a as usize..b as usize], 0, a as u32),
                    false => View::default(),
                })
                .collect();
            let nulls = validity
                .is_some()
                .then(|| (offset..end).map(valid).collect());
            let strings = Buffer::from_owner(InPlace::<u8> {
                bytes: data,
                of: std::marker::PhantomData,
            });
            // Checks every string that is not null as UTF-8.
            let array = Utf8ViewArray::try_new(
                ArrowDataType::Utf8View,
                views.into(),
                Buffer::from(vec![strings]),
                nulls,
            )
            .map_err(|_| bad("a pyarrow string that is not UTF-8"))?;
            return Ok(StringChunked::with_chunk(name.into(), array).into_series());
        }
        // The strings' bytes are checked as UTF-8 in one go, and each string must then start
        // and end on a character boundary: the same as checking each string on its own. Where
        // the whole is not UTF-8 (a null entry may cover bytes that are not), each string that
        // is not null is checked on its own. A string that fails stops nothing while the
        // column is built, but the column is then refused.
        let first = start as usize;
        let last = read(&offsets[end * width..(end + 1) * width]) as usize;
        let whole = std::str::from_utf8(&data[first..last]).ok();
        let mut utf8 = true;
        let mut text = |(a, b): (i64, i64)| {
            let (a, b) = (a as usize, b as usize);
            let text = match whole {
                Some(whole) => whole.get(a - first..b - first),
                None => std::str::from_utf8(&data[a..b]).ok(),
            };
            text.unwrap_or_else(|| {
                utf8 = false;
                ""
            })
        };
        let ca = match &validity {
            None => StringChunked::from_iter_values(name.into(), bounds().map(&mut text)),
            Some(_) => {
                let texts = (offset..)
                    .zip(bounds())
                    .map(|(i, ab)| valid(i).then(|| text(ab)));
                StringChunked::from_iter_options(name.into(), texts)
            }
        };
        if !utf8 {
            return Err(bad("a pyarrow string that is not UTF-8"));
        }
        Ok(ca.into_series())
    }

    fn index(&mut self, v: &V) -> Result<Index> {
        self.enter(v, |r| r.index_inner(v))
    }

    fn index_inner(&mut self, v: &V) -> Result<Index> {
        let o = self.expect_obj(v, &["_new_Index", "_new_DatetimeIndex"], "a pandas Index")?;
        let [V::Global(cls), d, ..] = o.args else {
            return Err(bad("an Index without its class and data"));
        };
        let name = match self.get(d, "name") {
            None | Some(V::None) => None,
            Some(n) => Some(self.label(n)?),
        };
        if *cls == "RangeIndex" {
            let field = |k: &str| self.get(d, k).and_then(|v| int(Some(v)));
            let (start, stop, step) = (
                field("start").unwrap_or(0),
                field("stop").unwrap_or(0),
                field("step").unwrap_or(1),
            );
            if step == 0 {
                return Err(bad("a RangeIndex with step 0"));
            }
            let span = i128::from(stop) - i128::from(start);
            let len = if (span > 0) == (step > 0) && span != 0 {
                ((span.abs() + i128::from(step).abs() - 1) / i128::from(step).abs()) as u128
            } else {
                0
            };
            let len = usize::try_from(len).map_err(|_| bad("a RangeIndex too long"))?;
            // Its labels or values may be made: charge them before they are.
            self.settings
                .charge_output((len as u64).saturating_mul(24), || {
                    format!("a RangeIndex of {len} entries")
                })?;
            return Ok(Index::Range {
                start,
                step,
                len,
                name,
            });
        }
        if !matches!(
            *cls,
            "Index"
                | "DatetimeIndex"
                | "Int64Index"
                | "UInt64Index"
                | "Float64Index"
                | "NumericIndex"
        ) {
            return Err(unsupported(format!(
                "the pickle holds a pandas `{cls}`, which s3io does not read"
            )));
        }
        let data = self
            .get(d, "data")
            .ok_or_else(|| bad("an Index without data"))?;
        let mut column = self
            .columns_of(data, &["index".to_owned()])?
            .pop()
            .ok_or_else(|| bad("an Index without values"))?;
        // pandas 1.x DatetimeIndex: naive UTC values and the zone beside them.
        if let (Some(tz), DataType::Datetime(tu, None)) =
            (self.get(d, "tz"), column.dtype().clone())
            && !matches!(tz, V::None)
        {
            let tz = self.tz(tz)?.name();
            let physical = column.to_physical_repr().into_owned();
            column = physical
                .i64()
                .map_err(polars_error)?
                .clone()
                .into_datetime(tu, zone(&tz)?)
                .into_series();
        }
        Ok(Index::Values { column, name })
    }

    /// A column label or index name as text.
    fn label(&mut self, v: &V) -> Result<String> {
        Ok(match self.value(v)? {
            PickleValue::String(s) => s,
            other => other.to_string(),
        })
    }

    /// Axes and blocks of a BlockManager / SingleBlockManager, in either pickle layout.
    fn manager(&mut self, v: &V) -> Result<Manager> {
        let o = self.expect_obj(
            v,
            &["BlockManager", "SingleBlockManager"],
            "a pandas BlockManager",
        )?;
        if let [blocks, axes, ..] = o.args {
            // New layout: BlockManager((_unpickle_block(values, placement, ndim), ...), axes).
            let axes = self
                .list(axes)
                .ok_or_else(|| bad("BlockManager axes that are not a list"))?
                .to_vec();
            let mut out = Vec::new();
            for b in self
                .list(blocks)
                .ok_or_else(|| bad("BlockManager blocks that are not a tuple"))?
            {
                let block = self.expect_obj(b, &["_unpickle_block"], "a pandas block")?;
                let [values, placement, ..] = block.args else {
                    return Err(bad("a block without values and placement"));
                };
                out.push((values.clone(), placement.clone()));
            }
            return Ok((axes, out));
        }
        // Old layout: BUILD with (axes, values, items, {"0.14.1": {"axes": ..., "blocks": [...]}}).
        let state = o
            .state
            .and_then(|s| self.list(s))
            .ok_or_else(|| bad("a BlockManager without its state"))?;
        let extra = state
            .get(3)
            .and_then(|d| self.get(d, "0.14.1"))
            .ok_or_else(|| unsupported("the pickle holds a DataFrame from pandas older than 0.14.1, which s3io does not read"))?;
        let axes = self
            .get(extra, "axes")
            .and_then(|a| self.list(a))
            .ok_or_else(|| bad("a BlockManager without axes"))?;
        let blocks = self
            .get(extra, "blocks")
            .and_then(|b| self.list(b))
            .ok_or_else(|| bad("a BlockManager without blocks"))?;
        let mut out = Vec::new();
        for b in blocks {
            let values = self
                .get(b, "values")
                .ok_or_else(|| bad("a block without values"))?;
            let locs = self
                .get(b, "mgr_locs")
                .ok_or_else(|| bad("a block without mgr_locs"))?;
            out.push((values.clone(), locs.clone()));
        }
        Ok((axes.to_vec(), out))
    }

    /// The column positions a block's placement names, each checked against `ncols`.
    fn placement(&mut self, v: &V, ncols: usize) -> Result<Vec<usize>> {
        let out_of_range = |p: i64| bad(format!("a block placed at column {p} of {ncols}"));
        if let Some(o) = self.obj(v)
            && o.class == "slice"
        {
            let part = |i: usize| match o.args.get(i) {
                Some(V::Int(n)) => Some(*n),
                _ => None,
            };
            let start = part(0).unwrap_or(0);
            let stop = part(1).ok_or_else(|| bad("a block placement without its end"))?;
            let step = part(2).unwrap_or(1);
            if step <= 0 || start < 0 || stop > ncols as i64 {
                return Err(out_of_range(stop));
            }
            return Ok((start..stop.max(start))
                .step_by(step as usize)
                .map(|p| p as usize)
                .collect());
        }
        let a = self.array(v)?;
        let s = self
            .split(&a, &["placement".to_owned()], &Wrap::Plain)?
            .pop()
            .ok_or_else(|| bad("an empty placement"))?;
        let s = s.cast(&DataType::Int64).map_err(polars_error)?;
        s.i64()
            .map_err(polars_error)?
            .iter()
            .map(|p| match p {
                Some(p) if p >= 0 && (p as usize) < ncols => Ok(p as usize),
                Some(p) => Err(out_of_range(p)),
                None => Err(bad("a missing block placement")),
            })
            .collect()
    }

    /// The frame of a pandas DataFrame: index columns (unless a plain RangeIndex), then its
    /// columns in order.
    fn dataframe(&mut self, v: &V) -> Result<DataFrame> {
        self.enter(v, |r| {
            let o = r.obj(v).expect("a DataFrame object");
            if let (None, [data]) = (o.state, o.args) {
                return r.dataframe_of_dict(data);
            }
            let mgr = r.pandas_state(v, "DataFrame")?;
            let (axes, blocks) = r.manager(mgr)?;
            let [cols_axis, rows_axis, ..] = &axes[..] else {
                return Err(bad("a DataFrame with fewer than two axes"));
            };
            let labels = r.index(cols_axis)?.labels()?;
            let index = r.index(rows_axis)?;
            let nrows = index.len();
            let ncols = labels.len();
            let mut columns: Vec<Option<Series>> = vec![None; ncols];
            // The frame is the pickle's root: nothing reads a payload after its last block.
            let last_uses = if r.depth == 1 {
                r.last_uses(&blocks)
            } else {
                vec![Vec::new(); blocks.len()]
            };
            for ((values, placement), done) in blocks.iter().zip(last_uses) {
                let places = r.placement(placement, ncols)?;
                let names: Vec<String> = places.iter().map(|&p| labels[p].clone()).collect();
                let series = r.columns_of(values, &names)?;
                if series.len() != places.len() {
                    return Err(bad(format!(
                        "a block of {} columns placed at {} positions",
                        series.len(),
                        places.len()
                    )));
                }
                for (p, s) in places.into_iter().zip(series) {
                    if columns[p].is_some() {
                        return Err(bad(format!("two blocks are placed at column {p}")));
                    }
                    if s.len() != nrows {
                        return Err(bad(format!(
                            "column {p} has {} rows, the index {nrows}",
                            s.len()
                        )));
                    }
                    columns[p] = Some(s);
                }
                for id in done {
                    r.g.release(id);
                }
            }
            let mut out: Vec<Column> = Vec::with_capacity(ncols + 1);
            if let Some(c) = index.into_column()? {
                out.push(c);
            }
            for (p, c) in columns.into_iter().enumerate() {
                let c =
                    c.ok_or_else(|| bad(format!("no block holds column {p} ({:?})", labels[p])))?;
                out.push(c.into_column());
            }
            DataFrame::new(nrows, out).map_err(polars_error)
        })
    }

    /// `pandas.DataFrame({name: array, ...})`, as s3io writes a frame: one 1-D array (numpy
    /// or a pandas extension array) per column, of equal lengths, under a RangeIndex.
    fn dataframe_of_dict(&mut self, data: &V) -> Result<DataFrame> {
        let items = self
            .dict(data)
            .ok_or_else(|| bad("a DataFrame(...) call whose argument is not a dict"))?;
        let mut out: Vec<Column> = Vec::with_capacity(items.len());
        let mut height = None;
        for (key, values) in items {
            let name = self.label(key)?;
            let mut series = self.columns_of(values, std::slice::from_ref(&name))?;
            let (Some(s), true) = (series.pop(), series.is_empty()) else {
                return Err(bad(format!("column {name:?} is not one 1-D array")));
            };
            if *height.get_or_insert(s.len()) != s.len() {
                return Err(bad(format!(
                    "column {name:?} has {} rows, the first column {}",
                    s.len(),
                    height.unwrap_or(0)
                )));
            }
            out.push(s.into_column());
        }
        DataFrame::new(height.unwrap_or(0), out).map_err(polars_error)
    }

    /// A pandas Series as a one-column frame, its index first as for a DataFrame.
    fn series_frame(&mut self, v: &V) -> Result<DataFrame> {
        self.enter(v, |r| {
            let o = r.obj(v).expect("a Series object");
            let state = o.state.ok_or_else(|| bad("a Series without its state"))?;
            let name = match r.get(state, "_name").or_else(|| r.get(state, "name")) {
                None | Some(V::None) => "0".to_owned(),
                Some(n) => r.label(n)?,
            };
            let mgr = r.pandas_state(v, "Series")?;
            let (axes, blocks) = r.manager(mgr)?;
            let [rows_axis, ..] = &axes[..] else {
                return Err(bad("a Series without its index"));
            };
            let index = r.index(rows_axis)?;
            let [(values, _)] = &blocks[..] else {
                return Err(bad("a Series with other than one block"));
            };
            let s = r
                .columns_of(values, std::slice::from_ref(&name))?
                .pop()
                .ok_or_else(|| bad("a Series without values"))?;
            if s.len() != index.len() {
                return Err(bad("a Series whose values and index differ in length"));
            }
            let nrows = s.len();
            let mut out = Vec::with_capacity(2);
            if let Some(c) = index.into_column()? {
                out.push(c);
            }
            out.push(s.into_column());
            DataFrame::new(nrows, out).map_err(polars_error)
        })
    }

    /// The manager in a DataFrame's or Series' state (`_mgr`, or `_data` before pandas 1.1).
    fn pandas_state(&self, v: &V, what: &str) -> Result<&'g V> {
        let o = self
            .obj(v)
            .ok_or_else(|| bad(format!("a {what} that is not an object")))?;
        let state = o
            .state
            .ok_or_else(|| bad(format!("a {what} without its state")))?;
        self.get(state, "_mgr")
            .or_else(|| self.get(state, "_data"))
            .ok_or_else(|| bad(format!("a {what} without its BlockManager")))
    }
}

/// A polars time zone from its name; without polars' `timezones` feature no name is refused.
fn zone(name: &str) -> Result<Option<TimeZone>> {
    TimeZone::opt_try_new(Some(name)).map_err(polars_error)
}

fn int(v: Option<&V>) -> Option<i64> {
    match v? {
        V::Int(i) => Some(*i),
        V::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

fn latin1(text: &str) -> Result<Vec<u8>> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).map_err(|_| bad("bytes given as text beyond Latin-1")))
        .collect()
}

/// The packed bytes of a datetime/date/time state (bytes, or Latin-1 text in protocol 0-2
/// pickles written by Python 2).
fn state_bytes(v: Option<&V>) -> Result<Cow<'_, [u8]>> {
    match v {
        Some(V::Bytes(b)) => Ok(Cow::Borrowed(b)),
        Some(V::Str(s)) => Ok(Cow::Owned(latin1(s)?)),
        _ => Err(bad("a datetime value without its packed state")),
    }
}

fn datetime_from(raw: &[u8]) -> Result<NaiveDateTime> {
    let [hi, lo, month, day, h, m, s, u1, u2, u3] = raw[..] else {
        return Err(bad("a datetime.datetime state that is not 10 bytes"));
    };
    let year = i32::from(hi) * 256 + i32::from(lo);
    let micros = u32::from(u1) << 16 | u32::from(u2) << 8 | u32::from(u3);
    NaiveDate::from_ymd_opt(year, u32::from(month & 0x7f), day.into())
        .and_then(|d| d.and_hms_micro_opt(h.into(), m.into(), s.into(), micros))
        .ok_or_else(|| bad("a datetime.datetime out of range"))
}

/// A numpy scalar from its raw bytes.
fn scalar(d: &Dtype, raw: &[u8]) -> Result<PickleValue> {
    if raw.len() != d.size {
        return Err(bad(format!(
            "a numpy scalar of {} bytes for a {}-byte dtype",
            raw.len(),
            d.size
        )));
    }
    match d.kind {
        b'U' => {
            let mut text = String::new();
            for ch in raw.chunks_exact(4) {
                let b: [u8; 4] = ch.try_into().expect("chunks of 4");
                let code = if d.big_endian {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                };
                if code == 0 {
                    break;
                }
                text.push(
                    char::from_u32(code).ok_or_else(|| bad("a numpy str that is not Unicode"))?,
                );
            }
            return Ok(PickleValue::String(text));
        }
        b'S' => {
            let end = raw.iter().rposition(|c| *c != 0).map_or(0, |p| p + 1);
            return Ok(PickleValue::Bytes(raw[..end].to_vec()));
        }
        _ if d.size > 8 => {
            return Err(unsupported(format!(
                "the pickle holds a numpy scalar of dtype '{}{}', which s3io does not read",
                char::from(d.kind),
                d.size
            )));
        }
        _ => {}
    }
    let b8 = |raw: &[u8]| -> [u8; 8] {
        let mut b = [0u8; 8];
        if d.big_endian {
            b[8 - raw.len()..].copy_from_slice(raw);
            b.reverse();
        } else {
            b[..raw.len()].copy_from_slice(raw);
        }
        b
    };
    let bits = u64::from_le_bytes(b8(raw));
    Ok(match (d.kind, d.size) {
        (b'b', 1) => PickleValue::Bool(raw[0] != 0),
        (b'i', n @ (1 | 2 | 4 | 8)) => {
            let shift = 64 - 8 * n as u32;
            PickleValue::I64(((bits << shift) as i64) >> shift)
        }
        (b'u', 1 | 2 | 4) => PickleValue::I64(bits as i64),
        (b'u', 8) => match i64::try_from(bits) {
            Ok(i) => PickleValue::I64(i),
            Err(_) => PickleValue::Int(bits.into()),
        },
        (b'f', 4) => PickleValue::F64(f64::from(f32::from_bits(bits as u32))),
        (b'f', 8) => PickleValue::F64(f64::from_bits(bits)),
        (b'M', 8) | (b'm', 8) => {
            let v = bits as i64;
            let unit = d
                .unit
                .ok_or_else(|| bad("a datetime64 scalar without a unit"))?;
            if v == i64::MIN {
                return Ok(PickleValue::None);
            }
            let nanos = v
                .checked_mul(unit.nanos())
                .ok_or_else(|| bad("a datetime64 out of range"))?;
            if d.kind == b'M' {
                PickleValue::Datetime(DateTime::from_timestamp_nanos(nanos).naive_utc(), None)
            } else {
                PickleValue::Timedelta(TimeDelta::nanoseconds(nanos))
            }
        }
        (kind, size) => {
            return Err(unsupported(format!(
                "the pickle holds a numpy scalar of dtype '{}{size}', which s3io does not read",
                char::from(kind)
            )));
        }
    })
}
