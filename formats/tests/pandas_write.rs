//! pandas reads what s3io pickles: frames of every dtype the write slice of issue #13 names,
//! pickled by s3io into a temporary folder, then unpickled by `pickle.loads` and
//! `pd.read_pickle` in each pandas environment and held to the frames pandas itself builds
//! for the same data with `assert_frame_equal(check_dtype=True)`
//! (`fixtures/pandas-pickles/check_written.py`, the cases by name).
//!
//! The environments are the venvs `fixtures/pandas-pickles/run.sh` makes under
//! `target/pickle-venvs/` (or `S3IO_PICKLE_VENVS`): pandas 2.2 + numpy 1.26, and pandas 3.x +
//! numpy 2.x with and without pyarrow. A missing venv prints `SKIP ...` and passes, unless
//! `S3IO_REQUIRE_PICKLE_VENVS` is set (1/true/yes/on).
//!
//! Without Python, the frames still go through s3io's own reader and must come back equal.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use s3io_formats::polars::prelude::*;
use s3io_formats::{Data, Format, PickleLayout, WriteOptions};

const REQUIRED_VENVS: &[&str] = &["pd22-np126", "pd3-np2", "pd3-np2-arrow"];

fn datetimes(name: &str, values: &[Option<i64>], unit: TimeUnit, zone: Option<&str>) -> Column {
    Int64Chunked::from_slice_options(name.into(), values)
        .into_datetime(
            unit,
            zone.map(|z| TimeZone::opt_try_new(Some(z)).unwrap().unwrap()),
        )
        .into_column()
}

/// `STAMPS` of check_written.py in `unit` (2024-01-15T13:45:30.123456, NaT,
/// 1969-12-31T23:59:59, 2262-04-11T00:00:00), the first `n`.
fn stamps(unit: TimeUnit, n: usize) -> Vec<Option<i64>> {
    let micros = [
        Some(1_705_326_330_123_456i64),
        None,
        Some(-1_000_000),
        Some(9_223_286_400_000_000),
    ];
    micros[..n]
        .iter()
        .map(|m| {
            m.map(|m| match unit {
                TimeUnit::Nanoseconds => m * 1000,
                TimeUnit::Microseconds => m,
                TimeUnit::Milliseconds => m.div_euclid(1000),
            })
        })
        .collect()
}

fn durations(name: &str, values: &[Option<i64>], unit: TimeUnit) -> Column {
    Int64Chunked::from_slice_options(name.into(), values)
        .into_duration(unit)
        .into_column()
}

fn days(name: &str) -> Column {
    Int32Chunked::from_slice_options(name.into(), &[Some(19737), None, Some(-1)])
        .into_date()
        .into_column()
}

fn categorical(name: &str, values: &[Option<&str>]) -> Column {
    Column::new(name.into(), values)
        .cast(&DataType::from_categories(Categories::global()))
        .unwrap()
}

fn frame(height: usize, columns: Vec<Column>) -> DataFrame {
    DataFrame::new(height, columns).unwrap()
}

/// The cases of check_written.py, by name, built in polars.
fn cases() -> Vec<(&'static str, DataFrame)> {
    use TimeUnit::*;
    let name = [Some("a, \"b\"\nc"), None, Some("Zoë 🚀")];
    vec![
        (
            "ints",
            frame(
                3,
                vec![
                    Column::new("int8".into(), [i8::MIN, 0, i8::MAX]),
                    Column::new("int16".into(), [i16::MIN, 1, i16::MAX]),
                    Column::new("int32".into(), [i32::MIN, 2, i32::MAX]),
                    Column::new("int64".into(), [i64::MIN, 3, i64::MAX]),
                    Column::new("uint8".into(), [0u8, 1, u8::MAX]),
                    Column::new("uint16".into(), [0u16, 2, u16::MAX]),
                    Column::new("uint32".into(), [0u32, 3, u32::MAX]),
                    Column::new("uint64".into(), [0u64, 4, u64::MAX]),
                ],
            ),
        ),
        (
            "floats",
            frame(
                3,
                vec![
                    Column::new("f32".into(), [Some(1.5f32), None, Some(-2.25)]),
                    Column::new("f64".into(), [Some(0.1f64), Some(-1e300), Some(f64::NAN)]),
                ],
            ),
        ),
        (
            "nullable_ints",
            frame(
                3,
                vec![
                    Column::new("Int64".into(), [Some(1i64), None, Some(-3)]),
                    Column::new("Int8".into(), [None, Some(127i8), Some(-128)]),
                    Column::new("UInt32".into(), [Some(0u32), None, Some(u32::MAX)]),
                ],
            ),
        ),
        (
            "bools",
            frame(
                3,
                vec![
                    Column::new("bool".into(), [true, false, true]),
                    Column::new("boolean".into(), [Some(true), None, Some(false)]),
                ],
            ),
        ),
        (
            "strings",
            frame(
                3,
                vec![
                    Column::new("name".into(), name),
                    Column::new("all".into(), ["x", "y", "z"]),
                ],
            ),
        ),
        ("dates", frame(3, vec![days("day")])),
        (
            "datetimes",
            frame(
                4,
                vec![
                    datetimes("ns", &stamps(Nanoseconds, 4), Nanoseconds, None),
                    datetimes("us", &stamps(Microseconds, 4), Microseconds, None),
                    datetimes("ms", &stamps(Milliseconds, 4), Milliseconds, None),
                ],
            ),
        ),
        (
            "zoned",
            frame(
                3,
                vec![
                    datetimes("utc", &stamps(Nanoseconds, 3), Nanoseconds, Some("UTC")),
                    datetimes(
                        "oslo",
                        &stamps(Microseconds, 3),
                        Microseconds,
                        Some("Europe/Oslo"),
                    ),
                    datetimes(
                        "tokyo_ms",
                        &stamps(Milliseconds, 3),
                        Milliseconds,
                        Some("Asia/Tokyo"),
                    ),
                ],
            ),
        ),
        (
            "durations",
            frame(
                3,
                vec![
                    durations(
                        "ns",
                        &[Some(1), None, Some(-1_000_000_000_000_000)],
                        Nanoseconds,
                    ),
                    durations("us", &[Some(86_400_000_000), Some(0), None], Microseconds),
                    durations("ms", &[None, Some(5), Some(-5)], Milliseconds),
                ],
            ),
        ),
        (
            "categoricals",
            frame(
                4,
                vec![
                    categorical("cat", &[Some("x"), Some("y"), None, Some("x")]),
                    categorical("letters", &[Some("b"), Some("a"), Some("c"), Some("b")]),
                ],
            ),
        ),
        (
            "empty",
            frame(
                0,
                vec![
                    Column::new("i".into(), Vec::<i64>::new()),
                    Column::new("f".into(), Vec::<f64>::new()),
                ],
            ),
        ),
        (
            "mixed",
            frame(
                3,
                vec![
                    Column::new("id".into(), [Some(1i64), None, Some(-3)]),
                    Column::new("x".into(), [Some(0.5f64), Some(-1e-7), None]),
                    Column::new("name".into(), name),
                    Column::new("ok".into(), [Some(true), Some(false), None]),
                    days("day"),
                    datetimes("stamp", &stamps(Microseconds, 3), Microseconds, None),
                    datetimes(
                        "oslo",
                        &stamps(Nanoseconds, 3),
                        Nanoseconds,
                        Some("Europe/Oslo"),
                    ),
                    durations("took", &[Some(1), None, Some(3)], Milliseconds),
                    categorical("kind", &[Some("x"), Some("y"), None]),
                    Column::new("u8".into(), [1u8, 2, 3]),
                ],
            ),
        ),
    ]
}

fn pickled(df: &DataFrame) -> Vec<u8> {
    Format::PICKLE
        .encode(&Data::Frame(df.clone()))
        .expect("the frame pickles")
}

/// NaN and null are one missing value in pandas, and s3io reads NaN as null.
fn nan_as_null(df: &DataFrame) -> DataFrame {
    let columns = df
        .columns()
        .iter()
        .map(|c| {
            let s = c.as_materialized_series();
            match s.dtype() {
                DataType::Float32 | DataType::Float64 => {
                    let nan = s.is_nan().unwrap();
                    let nulls = Series::full_null(s.name().clone(), s.len(), s.dtype());
                    s.zip_with(&!nan, &nulls).unwrap().into_column()
                }
                _ => c.clone(),
            }
        })
        .collect();
    DataFrame::new(df.height(), columns).unwrap()
}

#[test]
fn s3io_reads_back_the_dataframes_it_pickles() {
    for (name, df) in cases() {
        let back = Format::PICKLE.decode_frame(pickled(&df)).expect(name);
        let want = nan_as_null(&df);
        assert_eq!(back.schema(), want.schema(), "{name}");
        assert!(back.equals_missing(&want), "{name}:\n{back}\n{want}");
    }
}

#[test]
fn the_dict_of_lists_layout_stays_a_choice() {
    let df = frame(
        2,
        vec![
            Column::new("a".into(), [1i64, 2]),
            Column::new("b".into(), ["x", "y"]),
        ],
    );
    let options = WriteOptions::pickle().layout(PickleLayout::DictOfLists);
    let bytes = Format::PICKLE
        .encode_with(&Data::Frame(df.clone()), options)
        .unwrap();
    let Data::Pickle(value) = Format::PICKLE.decode(bytes).unwrap() else {
        panic!("a dict of lists is a value, not a frame")
    };
    assert_eq!(value.to_string(), r#"{"a": [1, 2], "b": ["x", "y"]}"#);
    // The default is the DataFrame.
    assert!(matches!(
        Format::PICKLE.decode(pickled(&df)).unwrap(),
        Data::Frame(_)
    ));
}

#[test]
fn columns_pandas_has_no_dtype_for_are_refused_by_name() {
    let df = frame(
        1,
        vec![Column::new(
            "xs".into(),
            [Series::new("".into(), [1i64, 2])],
        )],
    );
    let err = Format::PICKLE.encode(&Data::Frame(df)).unwrap_err();
    assert!(
        err.message().contains("\"xs\"") && err.message().contains("DictOfLists"),
        "{err}"
    );
}

fn required() -> bool {
    let name = "S3IO_REQUIRE_PICKLE_VENVS";
    match std::env::var(name)
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "1" | "true" | "yes" | "on" => true,
        "" | "0" | "false" | "no" | "off" => false,
        other => panic!("{name}={other:?}: use 1/true/yes/on or 0/false/no/off"),
    }
}

fn venvs() -> PathBuf {
    std::env::var_os("S3IO_PICKLE_VENVS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/pickle-venvs"),
        PathBuf::from,
    )
}

#[test]
fn pandas_unpickles_them_as_its_own_frames() {
    // S3IO_PICKLE_WRITTEN_DIR keeps the files, to try them in other environments by hand.
    let keep = std::env::var_os("S3IO_PICKLE_WRITTEN_DIR").map(PathBuf::from);
    let dir = keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("s3io-pandas-write-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).unwrap();
    for (name, df) in cases() {
        std::fs::write(dir.join(format!("{name}.pkl")), pickled(&df)).unwrap();
    }
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/pandas-pickles/check_written.py");
    let mut failures = Vec::new();
    for venv in REQUIRED_VENVS {
        let python = venvs().join(venv).join("bin/python");
        if !python.exists() {
            let why = format!(
                "no venv {} (fixtures/pandas-pickles/run.sh makes it)",
                python.display()
            );
            if required() {
                failures.push(why);
            } else {
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "SKIP pandas_unpickles_them_as_its_own_frames [{venv}]: {why}"
                );
            }
            continue;
        }
        let out = Command::new(&python)
            .arg(&script)
            .arg(&dir)
            .output()
            .expect("python runs");
        let text = String::from_utf8_lossy(&out.stdout);
        eprintln!("[{venv}]\n{text}{}", String::from_utf8_lossy(&out.stderr));
        if !out.status.success() {
            failures.push(format!("[{venv}]\n{text}"));
        }
    }
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
