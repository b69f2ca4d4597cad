//! A [`PickleValue`] as Python pickles it (protocol 4): builtins, and the `datetime` and
//! `decimal` objects the reader gives back, each as the same REDUCE CPython's own pickler
//! writes for it. Dicts keep their order.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};

use super::{BATCH, Writer, unsupported};
use crate::data::{PickleValue, PyTimeZone};
use crate::error::Result;

/// How many distinct dict keys the writer memoizes: enough for the columns of any table of
/// records, few enough that a dict of a million distinct keys costs no more than that.
const MEMO_KEYS: usize = 1 << 16;

/// The pickle of `value`.
pub(crate) fn value(value: &PickleValue) -> Result<Vec<u8>> {
    let mut w = Writer::default();
    w.out.extend_from_slice(&[0x80, 4]);
    w.value(value)?;
    w.op(b'.');
    Ok(w.out)
}

/// Whether Python can hash `value`: what a dict key or a set item must be.
fn hashable(value: &PickleValue) -> bool {
    match value {
        PickleValue::List(_) | PickleValue::Dict(_) | PickleValue::Set(_) => false,
        PickleValue::Tuple(items) | PickleValue::FrozenSet(items) => items.iter().all(hashable),
        _ => true,
    }
}

/// The time of day in the state of a Python `time` or `datetime`: hour, minute, second and
/// three bytes of microseconds. Refused where chrono holds a leap second or a part of a
/// microsecond (a pandas `Timestamp`'s nanoseconds), which Python's objects cannot hold:
/// nothing is rounded away unasked.
fn clock(t: &(impl Timelike + std::fmt::Display)) -> Result<[u8; 6]> {
    let us = micros(t.nanosecond(), t)?;
    Ok([
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        (us >> 16) as u8,
        (us >> 8) as u8,
        us as u8,
    ])
}

/// An error unless every one of `keys` can be a dict key or set item.
fn all_hashable<'v>(mut keys: impl Iterator<Item = &'v PickleValue>) -> Result<()> {
    match keys.find(|k| !hashable(k)) {
        Some(k) => Err(unsupported(format!(
            "the pickle value {k} cannot be a dict key or set item"
        ))),
        None => Ok(()),
    }
}

/// The microseconds of `nanos`, unless they hold a part of one or a leap second.
fn micros(nanos: u32, what: &dyn std::fmt::Display) -> Result<u32> {
    match nanos {
        0..1_000_000_000 if nanos.is_multiple_of(1000) => Ok(nanos / 1000),
        0..1_000_000_000 => Err(unsupported(format!(
            "{what} has nanoseconds, which Python's datetime objects cannot hold; round it to \
             microseconds first"
        ))),
        _ => Err(unsupported(format!(
            "{what} is a leap second, which Python's datetime objects cannot hold"
        ))),
    }
}

impl Writer {
    fn value(&mut self, value: &PickleValue) -> Result<()> {
        match value {
            PickleValue::None => self.op(b'N'),
            PickleValue::Bool(b) => self.bool(*b),
            PickleValue::I64(i) => self.int(*i),
            PickleValue::Int(i) => match i64::try_from(i) {
                Ok(i) => self.int(i),
                Err(_) => {
                    let raw = i.to_signed_bytes_le();
                    match u8::try_from(raw.len()) {
                        Ok(n) => self.out.extend_from_slice(&[0x8a, n]),
                        Err(_) => {
                            let n = u32::try_from(raw.len())
                                .map_err(|_| unsupported("an integer of more than 2^32 bytes"))?;
                            self.op(0x8b);
                            self.out.extend_from_slice(&n.to_le_bytes());
                        }
                    }
                    self.out.extend_from_slice(&raw);
                }
            },
            PickleValue::F64(f) => {
                self.op(b'G');
                self.out.extend_from_slice(&f.to_be_bytes());
            }
            PickleValue::String(s) => self.str(s),
            PickleValue::Bytes(b) => self.bytes(b),
            PickleValue::List(items) => {
                self.op(b']');
                self.batches(items, b'e')?;
            }
            PickleValue::Tuple(items) => match items.len() {
                0 => self.op(b')'),
                n @ 1..=3 => {
                    for item in items {
                        self.value(item)?;
                    }
                    self.op(0x84 + n as u8);
                }
                _ => {
                    self.op(b'(');
                    for item in items {
                        self.value(item)?;
                    }
                    self.op(b't');
                }
            },
            PickleValue::Set(items) => {
                all_hashable(items.iter())?;
                self.op(0x8f);
                self.batches(items, 0x90)?;
            }
            PickleValue::FrozenSet(items) => {
                all_hashable(items.iter())?;
                self.op(b'(');
                for item in items {
                    self.value(item)?;
                }
                self.op(0x91);
            }
            PickleValue::Dict(entries) => {
                all_hashable(entries.iter().map(|(k, _)| k))?;
                self.op(b'}');
                for batch in entries.chunks(BATCH) {
                    self.op(b'(');
                    for (k, v) in batch {
                        match k {
                            PickleValue::String(k) => self.key(k),
                            k => self.value(k)?,
                        }
                        self.value(v)?;
                    }
                    self.op(b'u');
                }
            }
            PickleValue::Datetime(at, zone) => self.datetime(at, zone.as_ref())?,
            PickleValue::Date(day) => self.date(*day)?,
            PickleValue::Time(t, zone) => self.time(*t, zone.as_ref())?,
            PickleValue::Timedelta(span) => self.timedelta(*span)?,
            PickleValue::Decimal(text) => {
                self.global("decimal", "Decimal");
                self.str(text);
                self.op(0x85);
                self.op(b'R');
            }
        }
        Ok(())
    }

    /// A dict key: written once and memoized, then recalled, as CPython's pickler does with
    /// the one string object the keys of many records share (a list of 500k records of the
    /// same keys is a fifth smaller). Keys past [`MEMO_KEYS`] distinct ones are written out.
    fn key(&mut self, key: &str) {
        if let Some(&id) = self.keys.get(key) {
            return self.get(id);
        }
        self.str(key);
        if self.keys.len() < MEMO_KEYS {
            let id = self.memoized();
            self.keys.insert(key.into(), id);
        }
    }

    /// `items` after the empty list or set, in batches of MARK, items, `op` (APPENDS or
    /// ADDITEMS), as CPython writes them.
    fn batches(&mut self, items: &[PickleValue], op: u8) -> Result<()> {
        for batch in items.chunks(BATCH) {
            self.op(b'(');
            for item in batch {
                self.value(item)?;
            }
            self.op(op);
        }
        Ok(())
    }

    /// `datetime.date(year, month, day)`, as its 4-byte state.
    pub(super) fn date(&mut self, day: NaiveDate) -> Result<()> {
        let year = u16::try_from(day.year())
            .ok()
            .filter(|y| (1..=9999).contains(y))
            .ok_or_else(|| unsupported(format!("{day} is outside Python's years 1 to 9999")))?;
        self.global("datetime", "date");
        self.bytes(&[
            (year >> 8) as u8,
            year as u8,
            day.month() as u8,
            day.day() as u8,
        ]);
        self.op(0x85);
        self.op(b'R');
        Ok(())
    }

    fn datetime(&mut self, at: &NaiveDateTime, zone: Option<&PyTimeZone>) -> Result<()> {
        let year = u16::try_from(at.year())
            .ok()
            .filter(|y| (1..=9999).contains(y))
            .ok_or_else(|| unsupported(format!("{at} is outside Python's years 1 to 9999")))?;
        let clock = clock(at)?;
        let day = [
            (year >> 8) as u8,
            year as u8,
            at.month() as u8,
            at.day() as u8,
        ];
        self.global("datetime", "datetime");
        self.bytes(&[day.as_slice(), &clock].concat());
        self.zone_and_reduce(zone)
    }

    /// `datetime.time`, as its 6-byte state, with its zone.
    pub(super) fn time(&mut self, t: NaiveTime, zone: Option<&PyTimeZone>) -> Result<()> {
        let clock = clock(&t)?;
        self.global("datetime", "time");
        self.bytes(&clock);
        self.zone_and_reduce(zone)
    }

    /// Ends the arguments of a `datetime` or `time` after its state: the zone, if any, then
    /// the call.
    fn zone_and_reduce(&mut self, zone: Option<&PyTimeZone>) -> Result<()> {
        match zone {
            None => self.op(0x85),
            Some(zone) => {
                self.zone(zone)?;
                self.op(0x86);
            }
        }
        self.op(b'R');
        Ok(())
    }

    /// `datetime.timezone(offset[, name])`, or `zoneinfo.ZoneInfo(key)` as it pickles itself.
    fn zone(&mut self, zone: &PyTimeZone) -> Result<()> {
        match zone {
            PyTimeZone::Utc => {
                self.global("datetime", "timezone");
                self.timedelta(TimeDelta::zero())?;
                self.op(0x85);
            }
            PyTimeZone::Fixed {
                offset_seconds,
                name,
            } => {
                self.global("datetime", "timezone");
                self.timedelta(TimeDelta::seconds((*offset_seconds).into()))?;
                match name {
                    Some(name) => {
                        self.str(name);
                        self.op(0x86);
                    }
                    None => self.op(0x85),
                }
            }
            PyTimeZone::Named { key, .. } => {
                self.global("zoneinfo", "ZoneInfo._unpickle");
                self.str(key);
                self.int(1);
                self.op(0x86);
            }
        }
        self.op(b'R');
        Ok(())
    }

    /// `datetime.timedelta(days, seconds, microseconds)`, normalized as Python holds it.
    fn timedelta(&mut self, span: TimeDelta) -> Result<()> {
        const DAY_US: i128 = 86_400_000_000;
        if span.subsec_nanos() % 1000 != 0 {
            return Err(unsupported(format!(
                "{span} has nanoseconds, which Python's timedelta cannot hold; round it to \
                 microseconds first"
            )));
        }
        let us =
            i128::from(span.num_seconds()) * 1_000_000 + i128::from(span.subsec_nanos() / 1000);
        let days = us.div_euclid(DAY_US);
        let rest = us.rem_euclid(DAY_US);
        let days = i64::try_from(days)
            .ok()
            .filter(|d| d.abs() <= 999_999_999)
            .ok_or_else(|| unsupported(format!("{span} is beyond Python's timedelta")))?;
        self.global("datetime", "timedelta");
        self.int(days);
        self.int((rest / 1_000_000) as i64);
        self.int((rest % 1_000_000) as i64);
        self.op(0x87);
        self.op(b'R');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::pickle::{Decoded, Lifted, unpickle};
    use crate::settings::ReadSettings;

    /// The keys records share are written once and recalled after, and the records read
    /// back as they were, keys in order.
    #[test]
    fn dict_keys_are_written_once() {
        let record = |i: i64| {
            PickleValue::Dict(vec![
                (PickleValue::String("zeta".into()), PickleValue::I64(i)),
                (
                    PickleValue::String("alpha".into()),
                    PickleValue::String(format!("r{i}")),
                ),
            ])
        };
        let records = PickleValue::List((0..3).map(record).collect());
        let bytes = value(&records).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert_eq!(text.matches("zeta").count(), 1, "{bytes:?}");
        assert_eq!(text.matches("alpha").count(), 1, "{bytes:?}");
        let back = unpickle(Lifted::whole(bytes.into()), &ReadSettings::default()).unwrap();
        let Decoded::Value(back) = back else {
            panic!("a frame");
        };
        assert_eq!(format!("{back:?}"), format!("{records:?}"));
    }
}
