//! How the command line prints things on standard output: times, sizes, listing lines,
//! decoded data, and the lines that say what a copy did.

use std::io::{self, Write};
use std::time::SystemTime;

use s3io::polars::prelude::{DataFrame, DataType, TimeUnit};
use s3io::{Data, ObjectInfo, PickleValue, S3Connector, S3Uri};

use crate::arguments::ReportArgs;
use crate::failure::{Outcome, stdout_failed};
use crate::progress::Bars;

/// The frame as polars can print it without its `timezones` feature (s3io leaves it off:
/// see formats/Cargo.toml): a column of zoned datetimes shows its instants in UTC, its header
/// naming the zone, as in `ts (UTC; Europe/Oslo)`.
fn printable(mut df: DataFrame) -> DataFrame {
    let zoned: Vec<(String, TimeUnit, String)> = df
        .columns()
        .iter()
        .filter_map(|c| match c.dtype() {
            DataType::Datetime(unit, Some(zone)) => {
                Some((c.name().to_string(), *unit, zone.to_string()))
            }
            _ => None,
        })
        .collect();
    for (name, unit, zone) in zoned {
        let Ok(column) = df.column(&name) else {
            continue;
        };
        let utc = column
            .to_physical_repr()
            .cast(&DataType::Datetime(unit, None));
        if let Ok(utc) = utc
            && df.replace(&name, utc).is_ok()
        {
            let _ = df.rename(&name, format!("{name} (UTC; {zone})").into());
        }
    }
    df
}

/// `2024-01-15 13:45:30`, in UTC; blanks of the same width when unknown.
pub fn time(at: Option<SystemTime>) -> String {
    at.map(s3io::utc_time).unwrap_or_else(|| " ".repeat(19))
}

/// A size in bytes, or in powers of 1024 as `--human-readable` asks (`1.5 KiB`).
pub fn size(bytes: u64, human: bool) -> String {
    if human {
        s3io::human_size(bytes)
    } else {
        bytes.to_string()
    }
}

/// One object of a listing, as `aws s3 ls` prints it: time, size, name.
pub fn object_line(object: &ObjectInfo, name: &str, human: bool) -> String {
    format!(
        "{} {:>10} {name}",
        time(object.last_modified),
        size(object.size, human)
    )
}

/// A folder (common prefix) of a listing, as `aws s3 ls` prints it.
pub fn folder_line(name: &str) -> String {
    format!("{:>30} {name}", "PRE")
}

/// The beginning of decoded data: a frame's first `n` rows, a list's first `n` items (a
/// dict whole), a text's first `n` lines. What was left out is said on standard error.
pub fn data_head(out: &mut impl Write, data: Data, n: usize) -> io::Result<()> {
    let (shown, total, what) = match data {
        Data::Frame(df) => {
            frame_head(out, &df, n)?;
            return Ok(());
        }
        Data::Json(mut value) => {
            let total = match &mut value {
                serde_json::Value::Array(items) => cut(items, n),
                _ => 0,
            };
            writeln!(out, "{value:#}")?;
            (n, total, "items")
        }
        Data::Pickle(mut value) => {
            let total = match &mut value {
                PickleValue::List(items) | PickleValue::Tuple(items) => cut(items, n),
                _ => 0,
            };
            writeln!(out, "{value}")?;
            (n, total, "items")
        }
        Data::Text(text) => {
            for line in text.lines().take(n) {
                writeln!(out, "{line}")?;
            }
            (n, text.lines().count(), "lines")
        }
        other => {
            writeln!(out, "{other}")?;
            (0, 0, "")
        }
    };
    if total > shown {
        out.flush()?;
        note(&format!("(the first {shown} of {total} {what})"));
    }
    Ok(())
}

/// A frame's first `n` rows, as polars prints them.
pub fn frame_head(out: &mut impl Write, df: &DataFrame, n: usize) -> io::Result<()> {
    writeln!(out, "{}", printable(df.head(Some(n))))?;
    if df.height() > n {
        out.flush()?;
        note(&format!("(the first {n} of {} rows)", df.height()));
    }
    Ok(())
}

/// A note for people on standard error, after what went to standard output; never a panic
/// when stderr is closed.
fn note(text: &str) {
    let _ = writeln!(io::stderr(), "{text}");
}

/// Keeps the first `n` items; returns how many there were.
fn cut<T>(items: &mut Vec<T>, n: usize) -> usize {
    let total = items.len();
    items.truncate(n);
    total
}

/// A frame's columns and dtypes, one a line, names aligned.
pub fn schema(out: &mut impl Write, df: &DataFrame) -> io::Result<()> {
    let names = df.get_column_names();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    for (name, dtype) in names.iter().zip(df.dtypes()) {
        let pad = width - name.chars().count();
        writeln!(out, "{name}{}  {dtype}", " ".repeat(pad))?;
    }
    Ok(())
}

/// Streams an object to standard output, bytes unchanged (`s3io cat`, and `s3io cp` to `-`).
pub async fn write_to_stdout(s3: &S3Connector, bars: &Bars, uri: &S3Uri) -> Outcome {
    let s3 = bars.beside_stdout().connector(s3, uri.to_string());
    s3.download_to_writer(uri.bucket(), uri.key(), io::stdout())
        .await?;
    Ok(())
}

/// `s3://bucket/key` for messages.
pub fn s3_text(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// Lines like `upload: a.csv to s3://b/a.csv` and `delete: s3://b/k` on standard output,
/// one as each object is done, `(dryrun) ` before each in a dry run; none when quiet.
pub struct CopyReport {
    silent: bool,
    dry: &'static str,
    out: io::Stdout,
}

impl CopyReport {
    pub fn new(report: &ReportArgs) -> CopyReport {
        CopyReport {
            silent: report.silent(),
            dry: if report.dryrun { "(dryrun) " } else { "" },
            out: io::stdout(),
        }
    }

    /// `VERB: FROM to TO`.
    pub fn line(
        &mut self,
        verb: &str,
        from: impl std::fmt::Display,
        to: impl std::fmt::Display,
    ) -> Outcome {
        if self.silent {
            return Ok(());
        }
        writeln!(self.out, "{}{verb}: {from} to {to}", self.dry).map_err(stdout_failed)
    }

    /// `delete: WHAT`.
    pub fn deleted(&mut self, what: impl std::fmt::Display) -> Outcome {
        if self.silent {
            return Ok(());
        }
        writeln!(self.out, "{}delete: {what}", self.dry).map_err(stdout_failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn times_are_utc_calendar_dates() {
        let at = |s: u64| time(Some(UNIX_EPOCH + Duration::from_secs(s)));
        assert_eq!(at(0), "1970-01-01 00:00:00");
        assert_eq!(at(1_705_326_330), "2024-01-15 13:45:30");
        assert_eq!(at(1_709_164_800), "2024-02-29 00:00:00");
        assert_eq!(at(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(at(4_102_444_799), "2099-12-31 23:59:59");
        assert_eq!(
            time(Some(UNIX_EPOCH - Duration::from_secs(1))),
            "1969-12-31 23:59:59"
        );
        assert_eq!(time(None).len(), 19);
    }

    #[test]
    fn sizes_read_like_the_aws_cli() {
        assert_eq!(size(1536, false), "1536");
        assert_eq!(size(312, true), "312 B");
        assert_eq!(size(1536, true), "1.5 KiB");
        assert_eq!(size(5 << 30, true), "5.0 GiB");
    }

    #[test]
    fn heads_cut_lists_and_lines() {
        let mut out = Vec::new();
        let json = Data::Json(serde_json::json!([1, 2, 3, 4]));
        data_head(&mut out, json, 2).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "[\n  1,\n  2\n]\n");
        let mut out = Vec::new();
        data_head(&mut out, Data::Text("a\nb\nc\n".into()), 2).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a\nb\n");
    }
}
