//! [`PickleValue`]: a Python value from a pickle, builtins plus the stdlib values that cached
//! results hold (datetimes, dates, times, timedeltas, Decimals), none of them turned into
//! text.

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use num_bigint::BigInt;
use serde_pickle::{HashableValue, Value};

use crate::error::{Error, ErrorKind, Result};

/// A Python value decoded from a pickle, without running any code.
///
/// The builtins of `serde_pickle::Value`, in the pickle's own order (a dict keeps its keys in
/// insertion order, as Python does), plus `datetime.datetime`, `date`, `time`, `timedelta`
/// and `decimal.Decimal`, which serde-pickle cannot hold. numpy scalars become the builtin
/// number they hold; `collections.OrderedDict` becomes a [`PickleValue::Dict`]; pandas
/// `Timestamp`s and `Timedelta`s become [`PickleValue::Datetime`] and
/// [`PickleValue::Timedelta`] with their nanoseconds.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PickleValue {
    /// `None` (also pandas' `NA`).
    None,
    /// `True` or `False`.
    Bool(bool),
    /// An int that fits 64 bits.
    I64(i64),
    /// A larger int.
    Int(BigInt),
    /// A float.
    F64(f64),
    /// A str.
    String(String),
    /// bytes or bytearray.
    Bytes(Vec<u8>),
    /// A list.
    List(Vec<PickleValue>),
    /// A tuple.
    Tuple(Vec<PickleValue>),
    /// A set, in the pickle's order.
    Set(Vec<PickleValue>),
    /// A frozenset, in the pickle's order.
    FrozenSet(Vec<PickleValue>),
    /// A dict (or OrderedDict), its items in the pickle's order.
    Dict(Vec<(PickleValue, PickleValue)>),
    /// A `datetime.datetime` or pandas `Timestamp`: the wall-clock time, and its zone.
    Datetime(NaiveDateTime, Option<PyTimeZone>),
    /// A `datetime.date`.
    Date(NaiveDate),
    /// A `datetime.time`, and its zone.
    Time(NaiveTime, Option<PyTimeZone>),
    /// A `datetime.timedelta` or pandas `Timedelta`.
    Timedelta(TimeDelta),
    /// A `decimal.Decimal`, as Python writes it (`"12.30"`, `"-1E-30"`, `"Infinity"`).
    Decimal(String),
}

/// The time zone of a pickled datetime or time.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PyTimeZone {
    /// UTC (`datetime.timezone.utc`, `pytz.utc`).
    Utc,
    /// A fixed offset from UTC, east positive (`datetime.timezone(timedelta(hours=2))`),
    /// with its name if it has one.
    Fixed {
        /// Seconds east of UTC.
        offset_seconds: i32,
        /// The zone's own name, if given.
        name: Option<String>,
    },
    /// A zone of the tz database (`zoneinfo.ZoneInfo("Europe/Oslo")`, pytz). pytz pickles
    /// carry the offset in force for the value; zoneinfo ones do not.
    Named {
        /// The zone's key, e.g. `Europe/Oslo`.
        key: String,
        /// Seconds east of UTC for this value, when the pickle says.
        offset_seconds: Option<i32>,
    },
}

impl PyTimeZone {
    /// The zone's name as polars and pandas write it: `UTC`, `Europe/Oslo`, `+05:30`.
    pub fn name(&self) -> String {
        match self {
            PyTimeZone::Utc => "UTC".into(),
            PyTimeZone::Named { key, .. } => key.clone(),
            PyTimeZone::Fixed { offset_seconds, .. } => offset_text(*offset_seconds),
        }
    }

    /// Seconds east of UTC, when known without a tz database.
    pub fn offset_seconds(&self) -> Option<i32> {
        match self {
            PyTimeZone::Utc => Some(0),
            PyTimeZone::Fixed { offset_seconds, .. } => Some(*offset_seconds),
            PyTimeZone::Named { offset_seconds, .. } => *offset_seconds,
        }
    }
}

/// `+05:30`, `-01:00`, `+00:00:30`.
fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    if sec == 0 {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}:{m:02}:{sec:02}")
    }
}

impl PickleValue {
    /// The value of a dict's string key `key`.
    ///
    /// ```
    /// use s3io_formats::PickleValue;
    ///
    /// let dict = PickleValue::Dict(vec![(PickleValue::String("a".into()), PickleValue::I64(1))]);
    /// assert_eq!(dict.get("a"), Some(&PickleValue::I64(1)));
    /// assert_eq!(dict.get("b"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<&PickleValue> {
        match self {
            PickleValue::Dict(items) => items.iter().find_map(|(k, v)| match k {
                PickleValue::String(k) if k == key => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }

    /// The value as serde-pickle's, when serde-pickle can hold it: everything but datetimes,
    /// dates, times, timedeltas and Decimals, and dict keys that are not hashable.
    pub fn to_serde_pickle(&self) -> Result<Value> {
        self.to_serde(false)
    }

    /// As serde-pickle's value, with datetimes and Decimals as ISO 8601 / Decimal text when
    /// `text` (for deserializing into types), refused otherwise.
    pub(crate) fn to_serde(&self, text: bool) -> Result<Value> {
        let all = |items: &[PickleValue]| -> Result<Vec<Value>> {
            items.iter().map(|v| v.to_serde(text)).collect()
        };
        let hashable = |v: &PickleValue| -> Result<HashableValue> {
            v.to_serde(text)?.into_hashable().map_err(|_| {
                Error::new(
                    ErrorKind::Unsupported,
                    format!("the pickle value {v} cannot be a dict key or set item"),
                )
            })
        };
        Ok(match self {
            PickleValue::None => Value::None,
            PickleValue::Bool(b) => Value::Bool(*b),
            PickleValue::I64(i) => Value::I64(*i),
            PickleValue::Int(i) => Value::Int(i.clone()),
            PickleValue::F64(f) => Value::F64(*f),
            PickleValue::String(s) => Value::String(s.clone()),
            PickleValue::Bytes(b) => Value::Bytes(b.clone()),
            PickleValue::List(items) => Value::List(all(items)?),
            PickleValue::Tuple(items) => Value::Tuple(all(items)?),
            PickleValue::Set(items) => {
                Value::Set(items.iter().map(hashable).collect::<Result<_>>()?)
            }
            PickleValue::FrozenSet(items) => {
                Value::FrozenSet(items.iter().map(hashable).collect::<Result<_>>()?)
            }
            PickleValue::Dict(items) => Value::Dict(
                items
                    .iter()
                    .map(|(k, v)| Ok((hashable(k)?, v.to_serde(text)?)))
                    .collect::<Result<_>>()?,
            ),
            other if text => Value::String(other.to_string()),
            other => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "the pickle value {other} has no builtin equivalent that serde-pickle \
                         can write"
                    ),
                ));
            }
        })
    }
}

/// Equality as Python's: dicts and sets are equal whatever the order of their items (a
/// value that went through [`PickleValue::to_serde_pickle`] comes back with its dict keys
/// sorted).
impl PartialEq for PickleValue {
    fn eq(&self, other: &Self) -> bool {
        use PickleValue as P;
        fn same_items<T: PartialEq>(a: &[T], b: &[T]) -> bool {
            a.len() == b.len() && a.iter().all(|x| b.contains(x))
        }
        match (self, other) {
            (P::None, P::None) => true,
            (P::Bool(a), P::Bool(b)) => a == b,
            (P::I64(a), P::I64(b)) => a == b,
            (P::Int(a), P::Int(b)) => a == b,
            (P::F64(a), P::F64(b)) => a == b,
            (P::String(a), P::String(b)) | (P::Decimal(a), P::Decimal(b)) => a == b,
            (P::Bytes(a), P::Bytes(b)) => a == b,
            (P::List(a), P::List(b)) | (P::Tuple(a), P::Tuple(b)) => a == b,
            (P::Set(a), P::Set(b)) | (P::FrozenSet(a), P::FrozenSet(b)) => same_items(a, b),
            (P::Dict(a), P::Dict(b)) => same_items(a, b),
            (P::Datetime(a, x), P::Datetime(b, y)) => a == b && x == y,
            (P::Date(a), P::Date(b)) => a == b,
            (P::Time(a, x), P::Time(b, y)) => a == b && x == y,
            (P::Timedelta(a), P::Timedelta(b)) => a == b,
            _ => false,
        }
    }
}

impl From<Value> for PickleValue {
    fn from(value: Value) -> Self {
        let all = |items: Vec<Value>| items.into_iter().map(PickleValue::from).collect();
        let keys = |items: std::collections::BTreeSet<HashableValue>| {
            items
                .into_iter()
                .map(|k| PickleValue::from(k.into_value()))
                .collect()
        };
        match value {
            Value::None => PickleValue::None,
            Value::Bool(b) => PickleValue::Bool(b),
            Value::I64(i) => PickleValue::I64(i),
            Value::Int(i) => PickleValue::Int(i),
            Value::F64(f) => PickleValue::F64(f),
            Value::String(s) => PickleValue::String(s),
            Value::Bytes(b) => PickleValue::Bytes(b),
            Value::List(items) => PickleValue::List(all(items)),
            Value::Tuple(items) => PickleValue::Tuple(all(items)),
            Value::Set(items) => PickleValue::Set(keys(items)),
            Value::FrozenSet(items) => PickleValue::FrozenSet(keys(items)),
            Value::Dict(items) => PickleValue::Dict(
                items
                    .into_iter()
                    .map(|(k, v)| (PickleValue::from(k.into_value()), PickleValue::from(v)))
                    .collect(),
            ),
        }
    }
}

impl fmt::Display for PyTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Python-like text, as serde-pickle's values print: `{"a": [1, 2.5, None]}`; datetimes in
/// ISO 8601 with their zone (`2024-05-17T12:30:45.123456+02:00[Europe/Oslo]`), Decimals as
/// `Decimal("12.30")`.
impl fmt::Display for PickleValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items = |f: &mut fmt::Formatter<'_>,
                     items: &[PickleValue],
                     open: &str,
                     close: &str,
                     one: bool| {
            f.write_str(open)?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{item}")?;
            }
            if one && items.len() == 1 {
                f.write_str(",")?;
            }
            f.write_str(close)
        };
        match self {
            PickleValue::None => f.write_str("None"),
            PickleValue::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            PickleValue::I64(i) => write!(f, "{i}"),
            PickleValue::Int(i) => write!(f, "{i}"),
            PickleValue::F64(v) => write!(f, "{v}"),
            PickleValue::String(s) => write!(f, "{s:?}"),
            PickleValue::Bytes(b) => write!(f, "b{b:?}"),
            PickleValue::List(v) => items(f, v, "[", "]", false),
            PickleValue::Tuple(v) => items(f, v, "(", ")", true),
            PickleValue::Set(v) if v.is_empty() => f.write_str("set()"),
            PickleValue::Set(v) => items(f, v, "{", "}", false),
            PickleValue::FrozenSet(v) => items(f, v, "frozenset([", "])", false),
            PickleValue::Dict(v) => {
                f.write_str("{")?;
                for (i, (k, value)) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {value}")?;
                }
                f.write_str("}")
            }
            PickleValue::Datetime(at, tz) => {
                write!(f, "{}", at.format("%Y-%m-%dT%H:%M:%S%.f"))?;
                write_zone(f, tz.as_ref())
            }
            PickleValue::Date(day) => write!(f, "{}", day.format("%Y-%m-%d")),
            PickleValue::Time(at, tz) => {
                write!(f, "{}", at.format("%H:%M:%S%.f"))?;
                write_zone(f, tz.as_ref())
            }
            PickleValue::Timedelta(span) => write!(f, "{span}"),
            PickleValue::Decimal(text) => write!(f, "Decimal({text:?})"),
        }
    }
}

fn write_zone(f: &mut fmt::Formatter<'_>, tz: Option<&PyTimeZone>) -> fmt::Result {
    match tz {
        None => Ok(()),
        Some(PyTimeZone::Utc) => f.write_str("+00:00"),
        Some(PyTimeZone::Fixed { offset_seconds, .. }) => {
            f.write_str(&offset_text(*offset_seconds))
        }
        Some(PyTimeZone::Named {
            key,
            offset_seconds,
        }) => {
            if let Some(offset) = offset_seconds {
                f.write_str(&offset_text(*offset))?;
            }
            write!(f, "[{key}]")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_like_python_and_converts_to_serde_pickle() {
        let v = PickleValue::Dict(vec![
            (
                PickleValue::String("b".into()),
                PickleValue::Tuple(vec![PickleValue::I64(1)]),
            ),
            (
                PickleValue::String("a".into()),
                PickleValue::Decimal("12.30".into()),
            ),
        ]);
        assert_eq!(v.to_string(), r#"{"b": (1,), "a": Decimal("12.30")}"#);
        assert!(v.to_serde_pickle().is_err());
        let Value::Dict(d) = v.to_serde(true).unwrap() else {
            panic!()
        };
        assert_eq!(d.len(), 2);
        let zoned = PickleValue::Datetime(
            NaiveDate::from_ymd_opt(2024, 5, 17)
                .unwrap()
                .and_hms_micro_opt(12, 30, 45, 123_456)
                .unwrap(),
            Some(PyTimeZone::Fixed {
                offset_seconds: -19_800,
                name: None,
            }),
        );
        assert_eq!(zoned.to_string(), "2024-05-17T12:30:45.123456-05:30");
    }
}
