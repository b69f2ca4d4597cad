//! s3io's own pickle writer: a polars frame as a pickled pandas DataFrame, which
//! `pickle.loads` and `pd.read_pickle` give back as a DataFrame under pandas 2.x with numpy 1.x
//! and pandas 3.x with numpy 2.x.
//!
//! serde-pickle writes only builtins; a DataFrame needs the GLOBAL / REDUCE / BUILD sequences
//! pandas' own pickles are made of. Every global named here was checked to import under
//! pandas 2.2 + numpy 1.26 and pandas 3.1 + numpy 2.5 (with and without pyarrow), and every
//! one is on the reader's allow-list, so s3io reads back what it wrote.
//!
//! The layout (protocol 4): `pandas.DataFrame({name: column, ...})`, a call of pandas' own
//! constructor with one array per column:
//!
//! | polars | pickled as | pandas 2.x | pandas 3.x |
//! |---|---|---|---|
//! | ints, floats, bool without nulls | a numpy array (`numpy.core.multiarray._reconstruct`) | the same dtype | the same dtype |
//! | ints, bool with nulls | `pandas.arrays.IntegerArray` / `BooleanArray` (values, mask) | `Int64`, `boolean` ... | the same |
//! | floats with nulls | numpy float, nulls as NaN | `float64` | `float64` |
//! | String | a numpy object array of str and None | `object` | `str` |
//! | Date | an object array of `datetime.date` | `object` | `object` |
//! | Datetime, Duration | numpy `datetime64` / `timedelta64` in the same unit, null as NaT | the same | the same |
//! | Datetime with a zone | `DatetimeArray` (`__pyx_unpickle_NDArrayBacked`) of `DatetimeTZDtype(unit, zone)` | the same | the same |
//! | Categorical, Enum | `Categorical` (`__pyx_unpickle_NDArrayBacked`) of `CategoricalDtype(categories)` | `category` | `category` |
//! | Time, Binary, Decimal | object arrays of `datetime.time`, bytes, `decimal.Decimal` | `object` | `object` |
//!
//! The constructor rather than a pickled BlockManager, because that is what lets one file be
//! native to both pandas: pandas 3 gives a column of text the `str` dtype and column labels a
//! `str` index, pandas 2 `object`, and a pickled BlockManager fixes one of the two (a frame
//! pickled by pandas 2 comes back to pandas 3 with `object` columns and labels, which
//! `assert_frame_equal` tells apart from pandas 3's own frame).

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, Timelike};
use polars::prelude::*;

use crate::error::{Error, ErrorKind, Result};

mod builtins;

pub(crate) use builtins::value;

/// The checksum pandas' Cython `__pyx_unpickle_NDArrayBacked` checks: the one pandas 2.x and
/// 3.x both write (the layout of `NDArrayBacked`'s fields).
const NDARRAY_BACKED_CHECKSUM: i32 = 82_904_607;

/// Items per APPENDS / SETITEMS batch, as CPython's pickler writes them.
const BATCH: usize = 1000;

fn unsupported(why: impl Into<String>) -> Error {
    Error::new(ErrorKind::Unsupported, why.into())
}

/// The pickle of `pd.DataFrame` holding `df`'s columns, in order.
pub(crate) fn dataframe(df: &DataFrame) -> Result<Vec<u8>> {
    let mut w = Writer::default();
    // About what the values take, so the buffer grows rarely.
    w.out.reserve(df.estimated_size() + 64 * df.width() + 64);
    w.out.extend_from_slice(&[0x80, 4]);
    w.global("pandas", "DataFrame");
    w.op(b'}');
    for chunk in df.columns().chunks(BATCH) {
        w.op(b'(');
        for column in chunk {
            w.str(column.name());
            w.column(column.as_materialized_series())?;
        }
        w.op(b'u');
    }
    w.op(0x85);
    w.op(b'R');
    w.op(b'.');
    Ok(w.out)
}

#[derive(Default)]
struct Writer {
    out: Vec<u8>,
    /// Memo ids of the globals and dtypes written so far.
    memo: HashMap<String, u32>,
    /// Memo ids of the dict keys written so far (see `builtins`), apart from `memo`, whose
    /// keys are names s3io makes up.
    keys: HashMap<Box<str>, u32>,
    next_memo: u32,
}

/// A numpy dtype as the writer names it: its `dtype(...)` name, byte order and flags, and a
/// datetime unit.
#[derive(Clone, Copy)]
struct NpDtype {
    name: &'static str,
    order: &'static str,
    flags: u8,
    unit: Option<&'static str>,
}

const fn np(name: &'static str, order: &'static str) -> NpDtype {
    NpDtype {
        name,
        order,
        flags: 0,
        unit: None,
    }
}

const OBJECT: NpDtype = NpDtype {
    name: "O8",
    order: "|",
    flags: 63,
    unit: None,
};
const BOOL: NpDtype = np("b1", "|");

impl Writer {
    fn op(&mut self, op: u8) {
        self.out.push(op);
    }

    fn memoize(&mut self, key: String) {
        let id = self.memoized();
        self.memo.insert(key, id);
    }

    /// MEMOIZE: the value on top of the stack takes the next memo id, which is returned.
    fn memoized(&mut self) -> u32 {
        self.op(0x94);
        self.next_memo += 1;
        self.next_memo - 1
    }

    /// Pushes the memoized value `key`, if there is one.
    fn recall(&mut self, key: &str) -> bool {
        let Some(&id) = self.memo.get(key) else {
            return false;
        };
        self.get(id);
        true
    }

    /// BINGET / LONG_BINGET: pushes memo entry `id`.
    fn get(&mut self, id: u32) {
        match u8::try_from(id) {
            Ok(id) => self.out.extend_from_slice(&[b'h', id]),
            Err(_) => {
                self.op(b'j');
                self.out.extend_from_slice(&id.to_le_bytes());
            }
        }
    }

    fn global(&mut self, module: &str, name: &str) {
        let key = format!("{module}\n{name}");
        if self.recall(&key) {
            return;
        }
        self.str(module);
        self.str(name);
        self.op(0x93);
        self.memoize(key);
    }

    fn str(&mut self, text: &str) {
        let n = text.len();
        if n < 256 {
            self.out.extend_from_slice(&[0x8c, n as u8]);
        } else if let Ok(n) = u32::try_from(n) {
            self.op(b'X');
            self.out.extend_from_slice(&n.to_le_bytes());
        } else {
            self.op(0x8d);
            self.out.extend_from_slice(&(n as u64).to_le_bytes());
        }
        self.out.extend_from_slice(text.as_bytes());
    }

    /// The header of a bytes object of `n` bytes; the caller writes them.
    fn bytes_header(&mut self, n: usize) {
        if n < 256 {
            self.out.extend_from_slice(&[b'C', n as u8]);
        } else if let Ok(n) = u32::try_from(n) {
            self.op(b'B');
            self.out.extend_from_slice(&n.to_le_bytes());
        } else {
            self.op(0x8e);
            self.out.extend_from_slice(&(n as u64).to_le_bytes());
        }
    }

    fn bytes(&mut self, raw: &[u8]) {
        self.bytes_header(raw.len());
        self.out.extend_from_slice(raw);
    }

    fn int(&mut self, v: i64) {
        if let Ok(b) = u8::try_from(v) {
            self.out.extend_from_slice(&[b'K', b]);
        } else if let Ok(b) = u16::try_from(v) {
            self.op(b'M');
            self.out.extend_from_slice(&b.to_le_bytes());
        } else if let Ok(b) = i32::try_from(v) {
            self.op(b'J');
            self.out.extend_from_slice(&b.to_le_bytes());
        } else {
            self.out.extend_from_slice(&[0x8a, 8]);
            self.out.extend_from_slice(&v.to_le_bytes());
        }
    }

    fn bool(&mut self, b: bool) {
        self.op(if b { 0x88 } else { 0x89 });
    }

    /// `numpy.dtype(name, False, True)` with its state, memoized by name and unit.
    fn dtype(&mut self, d: NpDtype) {
        let key = format!("dtype {} {}", d.name, d.unit.unwrap_or(""));
        if self.recall(&key) {
            return;
        }
        self.global("numpy", "dtype");
        self.str(d.name);
        self.bool(false);
        self.bool(true);
        self.op(0x87);
        self.op(b'R');
        self.op(b'(');
        self.int(if d.unit.is_some() { 4 } else { 3 });
        self.str(d.order);
        self.op(b'N');
        self.op(b'N');
        self.op(b'N');
        self.int(-1);
        self.int(-1);
        self.int(i64::from(d.flags));
        if let Some(unit) = d.unit {
            // The datetime metadata: (unit, num, den, events).
            self.op(b'}');
            self.op(b'(');
            self.bytes(unit.as_bytes());
            self.int(1);
            self.int(1);
            self.int(1);
            self.op(b't');
            self.op(0x86);
        }
        self.op(b't');
        self.op(b'b');
        self.memoize(key);
    }

    /// `_reconstruct(ndarray, (0,), b'b')` then BUILD `(1, (n,), dtype, False, data)`; the
    /// caller writes the data (bytes, or a list for object arrays) between `start` and `end`.
    fn array_start(&mut self, n: usize, d: NpDtype) {
        self.global("numpy.core.multiarray", "_reconstruct");
        self.global("numpy", "ndarray");
        self.int(0);
        self.op(0x85);
        self.bytes(b"b");
        self.op(0x87);
        self.op(b'R');
        self.op(b'(');
        self.int(1);
        self.int(n as i64);
        self.op(0x85);
        self.dtype(d);
        self.bool(false);
    }

    fn array_end(&mut self) {
        self.op(b't');
        self.op(b'b');
    }

    /// A 1-D numpy array of `values`, each written as `size` little-endian bytes by `put`.
    fn numeric<T: Copy>(
        &mut self,
        d: NpDtype,
        size: usize,
        values: impl ExactSizeIterator<Item = T>,
        put: impl Fn(&mut Vec<u8>, T),
    ) {
        let n = values.len();
        self.array_start(n, d);
        self.bytes_header(n * size);
        let before = self.out.len();
        for v in values {
            put(&mut self.out, v);
        }
        debug_assert_eq!(self.out.len() - before, n * size);
        self.array_end();
    }

    /// A numpy object array; `item` writes item `i`.
    fn objects(
        &mut self,
        n: usize,
        mut item: impl FnMut(&mut Self, usize) -> Result<()>,
    ) -> Result<()> {
        self.array_start(n, OBJECT);
        self.op(b']');
        let mut i = 0;
        while i < n {
            let end = (i + BATCH).min(n);
            self.op(b'(');
            for j in i..end {
                item(self, j)?;
            }
            self.op(b'e');
            i = end;
        }
        self.array_end();
        Ok(())
    }

    /// `pandas.arrays.<class>(values, mask)`: a masked array, for ints and bools with nulls.
    fn masked(&mut self, class: &str, s: &Series) -> Result<()> {
        self.global("pandas.arrays", class);
        // plain() writes a null as 0 / false.
        self.plain(s)?;
        let mask = s.is_null();
        self.numeric(BOOL, 1, mask.iter(), |o, b| {
            o.push(u8::from(b == Some(true)))
        });
        self.op(0x86);
        self.op(b'R');
        Ok(())
    }

    /// `__pyx_unpickle_NDArrayBacked(class, checksum, None)`, BUILD `(dtype, ndarray, {})`:
    /// how pandas pickles its DatetimeArray and Categorical; the caller writes dtype and
    /// array between `start` and `end`.
    fn backed_start(&mut self, module: &str, class: &str) {
        self.global("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked");
        self.global(module, class);
        self.int(i64::from(NDARRAY_BACKED_CHECKSUM));
        self.op(b'N');
        self.op(0x87);
        self.op(b'R');
        self.op(b'(');
    }

    fn backed_end(&mut self) {
        self.op(b'}');
        self.op(b'(');
        self.str("_freq");
        self.op(b'N');
        self.op(b'u');
        self.op(b't');
        self.op(b'b');
    }

    /// A column without nulls, or with nulls where numpy has a value for them.
    fn plain(&mut self, s: &Series) -> Result<()> {
        macro_rules! num {
            ($get:ident, $t:ty, $name:expr, $order:expr) => {{
                let ca = s.$get().map_err(polars_error)?;
                let d = np($name, $order);
                let size = std::mem::size_of::<$t>();
                let values = ca.iter().map(|v| v.unwrap_or_default());
                self.numeric(d, size, values, |o, v: $t| {
                    o.extend_from_slice(&v.to_le_bytes())
                });
            }};
        }
        match s.dtype() {
            DataType::Int8 => num!(i8, i8, "i1", "|"),
            DataType::Int16 => num!(i16, i16, "i2", "<"),
            DataType::Int32 => num!(i32, i32, "i4", "<"),
            DataType::Int64 => num!(i64, i64, "i8", "<"),
            DataType::UInt8 => num!(u8, u8, "u1", "|"),
            DataType::UInt16 => num!(u16, u16, "u2", "<"),
            DataType::UInt32 => num!(u32, u32, "u4", "<"),
            DataType::UInt64 => num!(u64, u64, "u8", "<"),
            DataType::Float32 => {
                let ca = s.f32().map_err(polars_error)?;
                let values = ca.iter().map(|v| v.unwrap_or(f32::NAN));
                self.numeric(np("f4", "<"), 4, values, |o, v| {
                    o.extend_from_slice(&v.to_le_bytes())
                });
            }
            DataType::Float64 => {
                let ca = s.f64().map_err(polars_error)?;
                let values = ca.iter().map(|v| v.unwrap_or(f64::NAN));
                self.numeric(np("f8", "<"), 8, values, |o, v| {
                    o.extend_from_slice(&v.to_le_bytes())
                });
            }
            DataType::Boolean => {
                let ca = s.bool().map_err(polars_error)?;
                let values = ca.iter().map(|v| v.unwrap_or(false));
                self.numeric(BOOL, 1, values, |o, v| o.push(u8::from(v)));
            }
            other => {
                return Err(unsupported(format!(
                    "cannot pickle a {other} column as a numpy array"
                )));
            }
        }
        Ok(())
    }

    /// A `datetime64` / `timedelta64` array of the physical values, nulls as NaT.
    fn times(&mut self, s: &Series, kind: &str, unit: TimeUnit) -> Result<()> {
        let (name, unit) = match (kind, unit) {
            ("M", TimeUnit::Nanoseconds) => ("M8", "ns"),
            ("M", TimeUnit::Microseconds) => ("M8", "us"),
            ("M", TimeUnit::Milliseconds) => ("M8", "ms"),
            (_, TimeUnit::Nanoseconds) => ("m8", "ns"),
            (_, TimeUnit::Microseconds) => ("m8", "us"),
            (_, TimeUnit::Milliseconds) => ("m8", "ms"),
        };
        let physical = s.to_physical_repr();
        let ca = physical.i64().map_err(polars_error)?;
        let d = NpDtype {
            name,
            order: "<",
            flags: 0,
            unit: Some(unit),
        };
        let values = ca.iter().map(|v| v.unwrap_or(i64::MIN));
        self.numeric(d, 8, values, |o, v| o.extend_from_slice(&v.to_le_bytes()));
        Ok(())
    }

    fn column(&mut self, s: &Series) -> Result<()> {
        let nulls = s.null_count() > 0;
        match s.dtype() {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
                if nulls =>
            {
                self.masked("IntegerArray", s)?
            }
            DataType::Boolean if nulls => self.masked("BooleanArray", s)?,
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float32
            | DataType::Float64
            | DataType::Boolean => self.plain(s)?,
            DataType::String => {
                let ca = s.str().map_err(polars_error)?;
                self.objects(ca.len(), |w, i| {
                    match ca.get(i) {
                        Some(text) => w.str(text),
                        None => w.op(b'N'),
                    }
                    Ok(())
                })?;
            }
            DataType::Binary => {
                let ca = s.binary().map_err(polars_error)?;
                self.objects(ca.len(), |w, i| {
                    match ca.get(i) {
                        Some(raw) => w.bytes(raw),
                        None => w.op(b'N'),
                    }
                    Ok(())
                })?;
            }
            DataType::Date => {
                let physical = s.to_physical_repr();
                let ca = physical.i32().map_err(polars_error)?;
                let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
                self.objects(ca.len(), |w, i| {
                    let Some(days) = ca.get(i) else {
                        w.op(b'N');
                        return Ok(());
                    };
                    let day = epoch
                        .checked_add_signed(chrono::TimeDelta::days(days.into()))
                        .filter(|d| (1..=9999).contains(&d.year()))
                        .ok_or_else(|| {
                            unsupported(format!(
                                "column {:?} holds a date outside Python's years 1 to 9999",
                                s.name()
                            ))
                        })?;
                    w.date(day)
                })?;
            }
            DataType::Time => {
                let physical = s.to_physical_repr();
                let ca = physical.i64().map_err(polars_error)?;
                self.objects(ca.len(), |w, i| {
                    let Some(nanos) = ca.get(i) else {
                        w.op(b'N');
                        return Ok(());
                    };
                    let t = chrono::NaiveTime::from_num_seconds_from_midnight_opt(
                        (nanos / 1_000_000_000) as u32,
                        (nanos % 1_000_000_000) as u32,
                    )
                    .ok_or_else(|| unsupported("a time of day out of range"))?;
                    // A column's nanoseconds are cut to microseconds, as pandas' own
                    // `Series.dt.time` objects hold them.
                    let t = t
                        .with_nanosecond(t.nanosecond() / 1000 * 1000)
                        .ok_or_else(|| unsupported("a time of day out of range"))?;
                    w.time(t, None)
                })?;
            }
            DataType::Decimal(..) => {
                let text = s.cast(&DataType::String).map_err(polars_error)?;
                let ca = text.str().map_err(polars_error)?;
                self.objects(ca.len(), |w, i| {
                    match ca.get(i) {
                        Some(t) => {
                            w.global("decimal", "Decimal");
                            w.str(t);
                            w.op(0x85);
                            w.op(b'R');
                        }
                        None => w.op(b'N'),
                    }
                    Ok(())
                })?;
            }
            DataType::Datetime(unit, None) => self.times(s, "M", *unit)?,
            DataType::Duration(unit) => self.times(s, "m", *unit)?,
            DataType::Datetime(unit, Some(zone)) => {
                self.backed_start("pandas.arrays", "DatetimeArray");
                self.global("pandas", "DatetimeTZDtype");
                self.str(match unit {
                    TimeUnit::Nanoseconds => "ns",
                    TimeUnit::Microseconds => "us",
                    TimeUnit::Milliseconds => "ms",
                });
                self.str(zone.as_str());
                self.op(0x86);
                self.op(b'R');
                self.times(s, "M", *unit)?;
                self.backed_end();
            }
            DataType::Categorical(..) | DataType::Enum(..) => self.categorical(s)?,
            DataType::Null => {
                self.objects(s.len(), |w, _| {
                    w.op(b'N');
                    Ok(())
                })?;
            }
            other => {
                return Err(unsupported(format!(
                    "column {:?} is {other}, which s3io cannot pickle as a pandas column; \
                     cast it, or write the frame as a dict of lists \
                     (WriteOptions::pickle().layout(PickleLayout::DictOfLists))",
                    s.name()
                )));
            }
        }
        Ok(())
    }

    /// `Categorical` of `CategoricalDtype(categories, False)` and its codes, categories
    /// sorted as pandas sorts the ones it finds (an Enum keeps its own order).
    fn categorical(&mut self, s: &Series) -> Result<()> {
        let text = s.cast(&DataType::String).map_err(polars_error)?;
        let ca = text.str().map_err(polars_error)?;
        let categories: Vec<&str> = match s.dtype() {
            DataType::Enum(frozen, _) => frozen.categories().values_iter().collect(),
            _ => {
                let mut cats: Vec<&str> = ca.iter().flatten().collect();
                cats.sort_unstable();
                cats.dedup();
                cats
            }
        };
        let code: HashMap<&str, i64> = categories
            .iter()
            .enumerate()
            .map(|(i, c)| (*c, i as i64))
            .collect();
        self.backed_start("pandas", "Categorical");
        self.global("pandas", "CategoricalDtype");
        self.op(b']');
        for chunk in categories.chunks(BATCH) {
            self.op(b'(');
            for c in chunk {
                self.str(c);
            }
            self.op(b'e');
        }
        self.bool(matches!(s.dtype(), DataType::Enum(..)));
        self.op(0x86);
        self.op(b'R');
        let codes = ca.iter().map(|v| v.map_or(-1, |v| code[v]));
        // pandas' own choice of code width (coerce_indexer_dtype).
        match categories.len() {
            n if n < i8::MAX as usize => {
                self.numeric(np("i1", "|"), 1, codes, |o, c| o.push(c as i8 as u8))
            }
            n if n < i16::MAX as usize => self.numeric(np("i2", "<"), 2, codes, |o, c| {
                o.extend_from_slice(&(c as i16).to_le_bytes())
            }),
            n if n < i32::MAX as usize => self.numeric(np("i4", "<"), 4, codes, |o, c| {
                o.extend_from_slice(&(c as i32).to_le_bytes())
            }),
            _ => self.numeric(np("i8", "<"), 8, codes, |o, c| {
                o.extend_from_slice(&c.to_le_bytes())
            }),
        }
        self.backed_end();
        Ok(())
    }
}

fn polars_error(e: PolarsError) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!("cannot pickle the frame: {e}"),
    )
}
