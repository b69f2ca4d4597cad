//! Every pickle of `fixtures/pandas-pickles/<environment>/`, written by pandas 1.5, 2.x and
//! 3.x (with and without pyarrow) and numpy 1.x and 2.x with protocols 2, 4 and 5, decoded by
//! s3io and compared with what pandas itself read from the same file (the `.json` beside it),
//! column by column, dtype by dtype and value by value. The expected values come from pandas,
//! never from s3io; the dtype each pandas dtype must become is the table in docs/formats.md.

use std::path::{Path, PathBuf};

use s3io_formats::polars::prelude::*;
use s3io_formats::{Data, Format, PickleValue};
use serde_json::Value as J;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/pandas-pickles")
}

fn environments() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root())
        .expect("fixtures/pandas-pickles")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("VERSIONS.txt").exists())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 5,
        "expected five environments, found {dirs:?}"
    );
    dirs
}

/// The polars dtype a pandas dtype becomes: the table in docs/formats.md.
fn expected_dtype(pandas: &str) -> Option<DataType> {
    let unit = |u: &str| match u {
        "ns" => TimeUnit::Nanoseconds,
        "us" => TimeUnit::Microseconds,
        _ => TimeUnit::Milliseconds, // ms, and s (polars has no seconds)
    };
    let pandas = pandas.trim_start_matches(['<', '>', '=', '|']);
    let pandas = match pandas {
        "i4" => "int32",
        other => other,
    };
    Some(match pandas {
        "int8" | "Int8" => DataType::Int8,
        "int16" | "Int16" => DataType::Int16,
        "int32" | "Int32" => DataType::Int32,
        "int64" | "Int64" => DataType::Int64,
        "uint8" | "UInt8" => DataType::UInt8,
        "uint16" | "UInt16" => DataType::UInt16,
        "uint32" | "UInt32" => DataType::UInt32,
        "uint64" | "UInt64" => DataType::UInt64,
        "float32" | "Float32" => DataType::Float32,
        "float64" | "Float64" => DataType::Float64,
        "bool" | "boolean" => DataType::Boolean,
        "object" | "string" | "str" => DataType::String,
        "category" => DataType::from_categories(Categories::global()),
        other => {
            let (base, args) = other.strip_suffix(']')?.split_once('[')?;
            let (u, tz) = match args.split_once(", ") {
                Some((u, tz)) => (u, Some(tz)),
                None => (args, None),
            };
            match base {
                "datetime64" => {
                    DataType::Datetime(unit(u), TimeZone::opt_try_new(tz).expect("a time zone"))
                }
                "timedelta64" => DataType::Duration(unit(u)),
                _ => return None,
            }
        }
    })
}

/// A polars value rendered as generate.py renders pandas' (nanoseconds for times).
fn canonical(s: &Series, i: usize) -> J {
    let v = s.get(i).expect("in range");
    let ns = |x: i64, tu: &TimeUnit| {
        x * match tu {
            TimeUnit::Nanoseconds => 1,
            TimeUnit::Microseconds => 1_000,
            TimeUnit::Milliseconds => 1_000_000,
        }
    };
    match v {
        AnyValue::Null => J::Null,
        AnyValue::Boolean(b) => J::from(b),
        AnyValue::Int8(x) => J::from(x),
        AnyValue::Int16(x) => J::from(x),
        AnyValue::Int32(x) => J::from(x),
        AnyValue::Int64(x) => J::from(x),
        AnyValue::UInt8(x) => J::from(x),
        AnyValue::UInt16(x) => J::from(x),
        AnyValue::UInt32(x) => J::from(x),
        AnyValue::UInt64(x) => J::from(x),
        AnyValue::Float32(x) => J::from(f64::from(x)),
        AnyValue::Float64(x) => J::from(x),
        AnyValue::String(x) => J::from(x),
        AnyValue::StringOwned(x) => J::from(x.as_str()),
        AnyValue::Datetime(x, tu, _) | AnyValue::DatetimeOwned(x, tu, _) => J::from(ns(x, &tu)),
        AnyValue::Duration(x, tu) => J::from(ns(x, &tu)),
        AnyValue::Date(d) => {
            let day = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()
                + chrono::TimeDelta::days(d.into());
            J::from(day.to_string())
        }
        other => {
            let text = s.cast(&DataType::String).expect("as text");
            match text.str().unwrap().get(i) {
                Some(t) => J::from(t),
                None => J::from(format!("{other:?}")),
            }
        }
    }
}

fn same(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Number(x), J::Number(y)) => x
            .as_i64()
            .zip(y.as_i64())
            .map(|(x, y)| x == y)
            .or_else(|| x.as_u64().zip(y.as_u64()).map(|(x, y)| x == y))
            .unwrap_or_else(|| x.as_f64() == y.as_f64()),
        _ => a == b,
    }
}

/// What is wrong with s3io's frame against pandas' reading, if anything.
fn compare_frame(df: &DataFrame, want: &J) -> Vec<String> {
    let mut problems = Vec::new();
    let shape = [df.height() as u64, df.width() as u64];
    let want_shape: Vec<u64> = want["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    if shape[..] != want_shape[..] {
        problems.push(format!("shape {shape:?}, pandas {want_shape:?}"));
        return problems;
    }
    for (i, col) in want["columns"].as_array().unwrap().iter().enumerate() {
        let s = df.columns()[i].as_materialized_series();
        let name = col["name"].as_str().unwrap();
        if s.name().as_str() != name {
            problems.push(format!("column {i} is {:?}, pandas {name:?}", s.name()));
        }
        let pandas_dtype = col["dtype"].as_str().unwrap();
        match expected_dtype(pandas_dtype) {
            Some(dt) if &dt == s.dtype() => {}
            Some(dt) => problems.push(format!(
                "column {name:?}: polars {:?} for pandas {pandas_dtype}, the table says {dt:?}",
                s.dtype()
            )),
            None => problems.push(format!(
                "column {name:?}: pandas {pandas_dtype} is not in the table"
            )),
        }
        for (row, want) in col["values"].as_array().unwrap().iter().enumerate() {
            let got = canonical(s, row);
            if !same(&got, want) {
                problems.push(format!(
                    "column {name:?} row {row}: s3io {got}, pandas {want}"
                ));
            }
        }
    }
    problems
}

/// s3io's value rendered as generate.py's `tagged` renders pandas'.
fn tagged(v: &PickleValue) -> J {
    match v {
        PickleValue::None => J::Null,
        PickleValue::Bool(b) => J::from(*b),
        PickleValue::I64(i) => J::from(*i),
        PickleValue::F64(f) => J::from(*f),
        PickleValue::String(s) => J::from(s.as_str()),
        PickleValue::List(items) => J::Array(items.iter().map(tagged).collect()),
        PickleValue::Dict(items) => serde_json::json!({
            "dict": items.iter().map(|(k, v)| J::Array(vec![tagged(k), tagged(v)])).collect::<Vec<_>>()
        }),
        PickleValue::Date(d) => serde_json::json!({"date": d.to_string()}),
        PickleValue::Decimal(d) => serde_json::json!({"decimal": d}),
        PickleValue::Timedelta(t) => serde_json::json!({"timedelta": t.num_nanoseconds()}),
        PickleValue::Datetime(at, tz) => serde_json::json!({
            "datetime": at.to_string(),
            "tz": tz.as_ref().map(|t| t.name()),
            "offset": tz.as_ref().and_then(|t| t.offset_seconds()),
        }),
        PickleValue::Time(at, tz) => serde_json::json!({
            "time": at.to_string(),
            "tz": tz.as_ref().map(|t| t.name()),
        }),
        other => J::from(format!("unexpected {other}")),
    }
}

/// pandas' tagged value in the shape `tagged` gives s3io's.
fn normalize(want: &J) -> J {
    use chrono::{DateTime, NaiveDateTime};
    match want {
        J::Array(items) => J::Array(items.iter().map(normalize).collect()),
        J::Object(o) if o.contains_key("dict") => serde_json::json!({
            "dict": o["dict"].as_array().unwrap().iter().map(normalize).collect::<Vec<_>>()
        }),
        J::Object(o) if o.contains_key("timestamp_ns") => {
            let ns = o["timestamp_ns"].as_i64().unwrap();
            let at = DateTime::from_timestamp_nanos(ns).naive_utc();
            let tz = o["tz"].as_str();
            serde_json::json!({"datetime": at.to_string(), "tz": tz, "offset": tz.map(|_| 0)})
        }
        J::Object(o) if o.contains_key("timedelta_ns") => {
            serde_json::json!({"timedelta": o["timedelta_ns"]})
        }
        J::Object(o) if o.contains_key("timedelta_us") => {
            serde_json::json!({"timedelta": o["timedelta_us"].as_i64().unwrap() * 1000})
        }
        J::Object(o) if o.contains_key("datetime") => {
            let at: NaiveDateTime = o["datetime"].as_str().unwrap().parse().unwrap();
            let offset = o["utcoffset_s"].as_i64();
            let tz = o["tz"].as_str().map(|t| match (t, offset) {
                ("UTC", _) => "UTC".to_owned(),
                (t, Some(s)) if t.starts_with("UTC") => {
                    let a = s.unsigned_abs();
                    format!(
                        "{}{:02}:{:02}",
                        if s < 0 { '-' } else { '+' },
                        a / 3600,
                        a / 60 % 60
                    )
                }
                (t, _) => t.to_owned(),
            });
            // zoneinfo zones carry no offset in the pickle; pytz ones do.
            serde_json::json!({"datetime": at.to_string(), "tz": tz, "offset": offset})
        }
        J::Object(o) if o.contains_key("time") => {
            let at: chrono::NaiveTime = o["time"].as_str().unwrap().parse().unwrap();
            serde_json::json!({"time": at.to_string(), "tz": o["tz"].as_str().map(|_| "UTC")})
        }
        other => other.clone(),
    }
}

/// The offsets s3io cannot know without a tz database (zoneinfo) are left out of the check.
fn drop_unknown_offsets(got: &mut J, want: &J) {
    match (got, want) {
        (J::Array(g), J::Array(w)) => g
            .iter_mut()
            .zip(w)
            .for_each(|(g, w)| drop_unknown_offsets(g, w)),
        (J::Object(g), J::Object(w)) => {
            if g.get("offset") == Some(&J::Null) {
                g.insert("offset".into(), w.get("offset").cloned().unwrap_or(J::Null));
            }
            for (k, v) in g.iter_mut() {
                if let Some(w) = w.get(k) {
                    drop_unknown_offsets(v, w);
                }
            }
        }
        _ => {}
    }
}

#[test]
fn every_pandas_and_numpy_pickle_decodes_as_pandas_reads_it() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for env in environments() {
        let versions = std::fs::read_to_string(env.join("VERSIONS.txt")).unwrap();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&env)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "pkl"))
            .collect();
        files.sort();
        for pkl in files {
            let want: J =
                serde_json::from_str(&std::fs::read_to_string(pkl.with_extension("json")).unwrap())
                    .unwrap();
            let label = format!(
                "{}/{} ({})",
                env.file_name().unwrap().to_string_lossy(),
                pkl.file_name().unwrap().to_string_lossy(),
                versions.trim().replace('\n', ", ")
            );
            let bytes = std::fs::read(&pkl).unwrap();
            checked += 1;
            let stem = pkl.file_stem().unwrap().to_string_lossy().into_owned();
            if let Some(word) = want.get("refused").and_then(J::as_str) {
                match Format::PICKLE.decode(bytes) {
                    Err(e)
                        if e.kind() == s3io_formats::ErrorKind::Unsupported
                            && e.to_string().contains(word) => {}
                    Err(e) => failures.push(format!("{label}: refused without naming {word}: {e}")),
                    Ok(data) => failures.push(format!("{label}: decoded as {}", data.kind_name())),
                }
                continue;
            }
            if stem.starts_with("values_") {
                match Format::PICKLE.decode(bytes) {
                    Ok(Data::Pickle(value)) => {
                        let mut got = tagged(&value);
                        let want = normalize(&want);
                        drop_unknown_offsets(&mut got, &want);
                        if got != want {
                            failures.push(format!("{label}:\n  s3io   {got}\n  pandas {want}"));
                        }
                    }
                    Ok(other) => {
                        failures.push(format!("{label}: decoded as {}", other.kind_name()))
                    }
                    Err(e) => failures.push(format!("{label}: {e}")),
                }
                continue;
            }
            match Format::PICKLE.decode_frame(bytes) {
                Ok(df) => {
                    for p in compare_frame(&df, &want) {
                        failures.push(format!("{label}: {p}"));
                    }
                }
                Err(e) => failures.push(format!("{label}: {e}")),
            }
        }
    }
    assert!(checked >= 335, "only {checked} fixtures");
    assert!(
        failures.is_empty(),
        "{} problems in {checked} fixtures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The pandas/numpy files of the hostile corpus (fixtures/hostile/generate.py): each gives
/// a typed error naming what is wrong, before anything is allocated for it. (tests/it's
/// hostile.rs runs them through S3 too, under memory and time bounds.)
#[test]
fn hostile_pandas_and_numpy_pickles_give_typed_errors() {
    use s3io_formats::ErrorKind::{Decode, Unsupported};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/hostile");
    for (file, kind, says) in [
        (
            "pickle_numpy_shape_mismatch.pkl",
            Decode,
            "declares shape [4] of 8-byte items (32 bytes) but holds 8",
        ),
        ("pickle_numpy_shape_overflow.pkl", Decode, "overflows"),
        (
            "pickle_numpy_void_dtype.pkl",
            Decode,
            "1000000000-byte items",
        ),
        (
            "pickle_arrow_offsets_backwards.pkl",
            Decode,
            "pyarrow offsets 5..2",
        ),
        (
            "pickle_arrow_offsets_past_data.pkl",
            Decode,
            "pyarrow offsets 3..99",
        ),
        (
            "pickle_arrow_not_utf8.pkl",
            Decode,
            "a pyarrow string that is not UTF-8",
        ),
        (
            "pickle_blocks_overlap.pkl",
            Decode,
            "two blocks are placed at column 0",
        ),
        (
            "pickle_blocks_missing_column.pkl",
            Decode,
            "no block holds column 1",
        ),
        ("pickle_next_buffer.pkl", Decode, "NEXT_BUFFER"),
        (
            "pickle_self_containing_series.pkl",
            Unsupported,
            "recursive structure",
        ),
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        for frame in [false, true] {
            let err = if frame {
                Format::PICKLE.decode_frame(bytes.clone()).unwrap_err()
            } else {
                Format::PICKLE.decode(bytes.clone()).unwrap_err()
            };
            assert_eq!(err.kind(), kind, "{file}: {err}");
            assert!(err.to_string().contains(says), "{file}: {err}");
        }
    }
}

/// A fuzz smoke test that runs everywhere (the libFuzzer targets need cargo-fuzz): every
/// pandas fixture of two environments, each mutated a few hundred ways (bytes flipped,
/// truncated, a span repeated), decodes or fails with an ordinary error, never a panic
/// (which the decoder's guard would turn into "the pickle decoder failed").
#[test]
fn mutated_pandas_pickles_never_panic() {
    let mut seed = 0x5eed_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut runs = 0;
    for env in ["pd15-np124", "pd3-np2-arrow"] {
        let dir = root().join(env);
        for name in [
            "frame_p2",
            "frame_p5",
            "series_tz_p4",
            "array_fortran_p5",
            "values_p5",
        ] {
            let original = std::fs::read(dir.join(format!("{name}.pkl"))).unwrap();
            for _ in 0..150 {
                let mut bytes = original.clone();
                match next() % 3 {
                    0 => {
                        for _ in 0..1 + next() % 4 {
                            let i = (next() as usize) % bytes.len();
                            bytes[i] ^= 1 << (next() % 8);
                        }
                    }
                    1 => bytes.truncate((next() as usize) % bytes.len()),
                    _ => {
                        let a = (next() as usize) % bytes.len();
                        let b = (a + (next() as usize) % 64).min(bytes.len());
                        let span = bytes[a..b].to_vec();
                        bytes.splice(a..a, span);
                    }
                }
                runs += 1;
                for frame in [false, true] {
                    let outcome = if frame {
                        Format::PICKLE.decode_frame(bytes.clone()).map(|_| ())
                    } else {
                        Format::PICKLE.decode(bytes.clone()).map(|_| ())
                    };
                    if let Err(e) = outcome {
                        assert!(
                            !e.to_string().contains("decoder failed"),
                            "{env}/{name}: a panic: {e}"
                        );
                    }
                }
            }
        }
    }
    assert_eq!(runs, 1500);
}
