//! Files written by pandas, openpyxl, xlsxwriter, json and pickle decode to the values those
//! tools wrote, cell by cell. See fixtures/README.md for how each file was made.

use polars::prelude::DataType;
use s3io::{Data, ErrorKind};
use serde_json::json;

use crate::support::*;

/// The `name` column of pandas' sample frame.
fn sample_names() -> Vec<Option<String>> {
    owned(&[
        Some("Smith, John"),
        Some("He said \"hi\""),
        Some("line1\nline2"),
        Some("Zoë 東京 🚀"),
        None,
    ])
}

const SAMPLE_PRICES: [Option<f64>; 5] = [Some(19.99), Some(5.0), None, Some(0.1), Some(-1234.5)];
const SAMPLE_ACTIVE: [Option<bool>; 5] =
    [Some(true), Some(false), Some(true), Some(true), Some(false)];

fn sample_days() -> Vec<Option<String>> {
    all(&[
        "2024-01-15",
        "2024-02-29",
        "2024-03-31",
        "2024-12-31",
        "2025-01-01",
    ]
    .map(String::from))
}

#[tokio::test]
async fn pandas_csv_with_quotes_newlines_unicode_and_nulls() {
    let t = start().await;
    t.put_fixture("csv/sample.csv", "in/sample.csv").await;
    let df = t.s3.download_frame(BUCKET, "in/sample.csv").await.unwrap();
    assert_eq!(df.shape(), (5, 5));
    assert_eq!(ints(&df, "id"), all(&[1, 2, 3, 4, 5]));
    assert_eq!(floats(&df, "price"), SAMPLE_PRICES);
    assert_eq!(strs(&df, "name"), sample_names());
    assert_eq!(bools(&df, "active"), SAMPLE_ACTIVE);
    // Like pandas.read_csv, dates stay text unless asked otherwise.
    assert_eq!(strs(&df, "day"), sample_days());
    // `download` gives the same frame.
    let Data::Frame(same) = t.s3.download(BUCKET, "in/sample.csv").await.unwrap() else {
        panic!("csv downloads as a frame");
    };
    assert!(same.equals_missing(&df));
}

#[tokio::test]
async fn upper_case_extension_and_unicode_key() {
    let t = start().await;
    t.put_fixture("csv/UPPER.CSV", "UPPER.CSV").await;
    let df = t.s3.download_frame(BUCKET, "UPPER.CSV").await.unwrap();
    assert_eq!(strs(&df, "code"), all(&["A", "B", "C"].map(String::from)));
    assert_eq!(ints(&df, "qty"), all(&[1, 2, 3]));

    let key = "2024 data/월별 매출.csv";
    t.put_fixture("csv/2024 data/월별 매출.csv", key).await;
    let df = t.s3.download_frame(BUCKET, key).await.unwrap();
    assert_eq!(ints(&df, "월"), all(&[1, 2, 3]));
    assert_eq!(floats(&df, "매출"), all(&[1000.5, 2000.25, 0.0]));
}

#[tokio::test]
async fn empty_csv_fields_are_nulls() {
    let t = start().await;
    t.put_fixture("csv/empty_values.csv", "e.csv").await;
    let df = t.s3.download_frame(BUCKET, "e.csv").await.unwrap();
    assert_eq!(df.height(), 4, "the all-empty row is a row");
    // pandas turns this column into float64 to hold NaN; polars keeps integers with nulls.
    assert_eq!(ints(&df, "id"), vec![Some(1), None, Some(3), None]);
    assert_eq!(
        strs(&df, "label"),
        owned(&[Some("x"), None, None, Some("z")])
    );
    assert_eq!(floats(&df, "value"), vec![Some(0.5), None, None, Some(2.0)]);
}

#[tokio::test]
async fn pandas_openpyxl_workbook_first_sheet_with_dates_and_empty_cells() {
    let t = start().await;
    t.put_fixture("xlsx/openpyxl_multi.xlsx", "in/multi.xlsx")
        .await;
    let df = t.s3.download_frame(BUCKET, "in/multi.xlsx").await.unwrap();
    assert_eq!(
        df.get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>(),
        ["id", "price", "name", "active", "day", "ts"],
        "the first sheet, Sales, not Notes"
    );
    assert_eq!(ints(&df, "id"), all(&[1, 2, 3, 4, 5]));
    assert_eq!(floats(&df, "price"), SAMPLE_PRICES);
    assert_eq!(strs(&df, "name"), sample_names());
    assert_eq!(bools(&df, "active"), SAMPLE_ACTIVE);
    assert_eq!(df.column("day").unwrap().dtype(), &DataType::Date);
    assert_eq!(temporal(&df, "day"), sample_days());
    assert!(matches!(
        df.column("ts").unwrap().dtype(),
        DataType::Datetime(..)
    ));
    assert_eq!(
        temporal(&df, "ts"),
        owned(&[
            Some("2024-01-15 13:45:30"),
            None,
            Some("2024-03-31 00:00:00"),
            Some("2024-12-31 23:59:59"),
            Some("2025-01-01 08:00:00"),
        ])
    );
}

#[tokio::test]
async fn pandas_xlsxwriter_workbook() {
    let t = start().await;
    t.put_fixture("xlsx/xlsxwriter.xlsx", "xw.xlsx").await;
    let df = t.s3.download_frame(BUCKET, "xw.xlsx").await.unwrap();
    assert_eq!(df.shape(), (5, 5));
    assert_eq!(ints(&df, "id"), all(&[1, 2, 3, 4, 5]));
    assert_eq!(floats(&df, "price"), SAMPLE_PRICES);
    assert_eq!(strs(&df, "name"), sample_names());
    assert_eq!(bools(&df, "active"), SAMPLE_ACTIVE);
    // Midnight datetimes are dates.
    assert_eq!(temporal(&df, "day"), sample_days());
}

#[tokio::test]
async fn openpyxl_workbook_with_gaps() {
    let t = start().await;
    t.put_fixture("xlsx/openpyxl_direct.xlsx", "direct.xlsx")
        .await;
    let df = t.s3.download_frame(BUCKET, "direct.xlsx").await.unwrap();
    assert_eq!(df.shape(), (4, 6));
    assert_eq!(ints(&df, "n"), vec![Some(1), Some(2), None, Some(4)]);
    assert_eq!(
        floats(&df, "x"),
        vec![Some(1.5), None, Some(-0.25), Some(1e10)]
    );
    assert_eq!(
        strs(&df, "label"),
        owned(&[Some("alpha"), Some("béta"), None, Some("δ 🚀")])
    );
    assert_eq!(
        bools(&df, "flag"),
        vec![Some(true), Some(false), Some(true), None]
    );
    assert_eq!(
        temporal(&df, "d"),
        owned(&[
            Some("2024-01-15"),
            Some("2024-02-29"),
            None,
            Some("1999-12-31")
        ])
    );
    assert_eq!(
        temporal(&df, "dt"),
        owned(&[
            Some("2024-01-15 13:45:30"),
            None,
            Some("2024-12-31 23:59:59"),
            Some("2000-01-01 00:00:00"),
        ])
    );
}

#[tokio::test]
async fn json_records_as_value_and_as_frame() {
    let t = start().await;
    t.put_fixture("json/records.json", "records.json").await;
    let value = t.s3.download_json(BUCKET, "records.json").await.unwrap();
    assert_eq!(value[0]["name"], "Zoë");
    assert_eq!(value[2]["note"], "quote \" and backslash \\");
    assert!(value[3].get("score").is_none());

    let df = t.s3.download_frame(BUCKET, "records.json").await.unwrap();
    assert_eq!(
        df.get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>(),
        ["id", "name", "score", "active", "note"]
    );
    assert_eq!(ints(&df, "id"), all(&[1, 2, 3, 4]));
    assert_eq!(
        strs(&df, "name"),
        owned(&[
            Some("Zoë"),
            Some("東京"),
            Some("rocket 🚀"),
            Some("no score")
        ])
    );
    assert_eq!(
        floats(&df, "score"),
        vec![Some(9.5), Some(-0.25), Some(2.0), None]
    );
    assert_eq!(bools(&df, "active"), all(&[true, false, true, false]));
    assert_eq!(
        strs(&df, "note"),
        owned(&[
            None,
            Some("second"),
            Some("quote \" and backslash \\"),
            Some("score key missing")
        ])
    );
}

#[tokio::test]
async fn pandas_to_json_records_as_frame() {
    let t = start().await;
    t.put_fixture("json/pandas_records.json", "p.json").await;
    let df = t.s3.download_frame(BUCKET, "p.json").await.unwrap();
    assert_eq!(ints(&df, "id"), all(&[1, 2, 3, 4, 5]));
    assert_eq!(floats(&df, "price"), SAMPLE_PRICES);
    assert_eq!(strs(&df, "name"), sample_names());
    assert_eq!(bools(&df, "active"), SAMPLE_ACTIVE);
}

#[tokio::test]
async fn nested_json_keeps_exact_integers_and_key_order() {
    let t = start().await;
    t.put_fixture("json/config.json", "config.json").await;
    let cfg = t.s3.download_json(BUCKET, "config.json").await.unwrap();
    assert_eq!(
        cfg["limits"]["max_bytes"].as_u64(),
        Some(9_007_199_254_740_993)
    );
    assert_eq!(cfg["limits"]["min_i64"].as_i64(), Some(i64::MIN));
    assert_eq!(cfg["limits"]["max_u64"].as_u64(), Some(u64::MAX));
    assert_eq!(cfg["limits"]["huge"].as_f64(), Some(1e300));
    assert_eq!(
        cfg["servers"][1],
        json!({"host": "b.example", "port": 9001, "tags": []})
    );
    assert_eq!(cfg["escaped"], "tab\there \"quoted\" back\\slash\nnewline");
    let keys: Vec<&str> = cfg
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys[..3], ["name", "version", "enabled"]);

    #[derive(serde::Deserialize)]
    struct Server {
        host: String,
        port: u16,
    }
    #[derive(serde::Deserialize)]
    struct Config {
        version: u32,
        servers: Vec<Server>,
    }
    let typed: Config = t.s3.download_value(BUCKET, "config.json").await.unwrap();
    assert_eq!(typed.version, 3);
    assert_eq!(
        (typed.servers[0].host.as_str(), typed.servers[0].port),
        ("a.example", 9000)
    );
}

/// The object pickled in fixtures/pickle/builtins_p*.pkl, as Python prints it.
const BUILTINS_REPR: &[(&str, &str)] = &[
    ("str", "\"Zoë 東京 🚀\""),
    ("int_small", "42"),
    ("int_neg", "-7"),
    ("big_pos", "1267650600228229401496703205376"),
    ("big_neg", "-1180591620717411303424"),
    ("float", "3.14159"),
    ("true", "True"),
    ("false", "False"),
    ("none", "None"),
    ("tuple", "(1, \"a\", None)"),
    ("set", "{1, 2, 3}"),
];

#[tokio::test]
async fn builtin_pickles_of_every_protocol() {
    use s3io::PickleValue as Value;
    let t = start().await;
    for protocol in [0, 2, 4, 5] {
        let key = format!("builtins_p{protocol}.pkl");
        t.put_fixture(&format!("pickle/{key}"), &key).await;
        let Data::Pickle(dict @ Value::Dict(_)) = t.s3.download(BUCKET, &key).await.unwrap() else {
            panic!("protocol {protocol}: a pickled dict");
        };
        let Value::Dict(items) = &dict else {
            unreachable!()
        };
        assert_eq!(items.len(), 14, "protocol {protocol}");
        let get = |k: &str| dict.get(k).unwrap();
        for (name, repr) in BUILTINS_REPR {
            let shown = get(name).to_string();
            assert_eq!(&shown, repr, "protocol {protocol}, key {name}");
        }
        assert_eq!(
            get("bytes"),
            &Value::Bytes(b"\x00\xffabc".to_vec()),
            "protocol {protocol}"
        );
        #[allow(clippy::approx_constant)] // the value pickled, not an attempt at pi
        let pickled_float = 3.14159;
        assert_eq!(get("float"), &Value::F64(pickled_float));
        assert_eq!(
            get("list"),
            &Value::List(vec![
                Value::I64(1),
                Value::String("two".into()),
                Value::F64(3.0)
            ])
        );
        let Value::Dict(nested) = get("nested") else {
            panic!("nested dict")
        };
        assert_eq!(nested.len(), 3);
    }
}

#[tokio::test]
async fn pickled_tables_become_frames_in_python_column_order() {
    let t = start().await;
    for name in ["columns.pkl", "records.pkl"] {
        t.put_fixture(&format!("pickle/{name}"), name).await;
        let df = t.s3.download_frame(BUCKET, name).await.unwrap();
        assert_eq!(
            df.get_column_names()
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>(),
            ["id", "score", "name", "ok"],
            "{name}"
        );
        assert_eq!(ints(&df, "id"), all(&[1, 2, 3]), "{name}");
        assert_eq!(
            floats(&df, "score"),
            vec![Some(1.5), None, Some(3.25)],
            "{name}"
        );
        assert_eq!(
            strs(&df, "name"),
            all(&["a", "b", "c"].map(String::from)),
            "{name}"
        );
        assert_eq!(bools(&df, "ok"), all(&[true, false, true]), "{name}");
    }
}

#[tokio::test]
async fn text_objects() {
    let t = start().await;
    t.put_fixture("text/notes.txt", "notes.txt").await;
    t.put_fixture("text/no_extension", "docs/no_extension")
        .await;
    assert_eq!(
        t.s3.download_text(BUCKET, "notes.txt").await.unwrap(),
        "s3io notes\nZoë visited 東京 🚀\nÜnïcödé line with tab\tand trailing spaces  \n\nlast line\n"
    );
    let Data::Text(text) = t.s3.download(BUCKET, "docs/no_extension").await.unwrap() else {
        panic!("no extension is text");
    };
    assert_eq!(text, "plain UTF-8 text without an extension: ✓\n");
    // Bytes are never decoded.
    let raw = t.s3.download_bytes(BUCKET, "notes.txt").await.unwrap();
    assert_eq!(raw, fixture("text/notes.txt"));
}

/// A pickled pandas DataFrame and numpy array download as frames (issue #13's read slice;
/// the dtype-by-dtype checks against pandas are in formats/tests/pandas_pickles.rs).
#[tokio::test]
async fn pickled_pandas_frames_and_numpy_arrays_download_as_frames() {
    let t = start().await;
    for (file, shape) in [("pandas_frame.pkl", (5, 5)), ("numpy_array.pkl", (2, 3))] {
        t.put_fixture(&format!("pickle/{file}"), file).await;
        let Data::Frame(df) = t.s3.download(BUCKET, file).await.unwrap() else {
            panic!("{file}: a frame");
        };
        assert_eq!(df.shape(), shape, "{file}");
        let again = t.s3.download_frame(BUCKET, file).await.unwrap();
        assert!(again.equals_missing(&df), "{file}");
    }
}

/// A pickled frame of several parts, with blocks far past the 64 KiB from which a download
/// lifts them into buffers of their own (and shares them with the frame's columns), downloads
/// cell for cell as the frame it was written from, and as decoding the whole object gives.
#[tokio::test]
async fn a_pickled_frame_of_many_parts_downloads_as_written() {
    use s3io::TransferConfig;
    use s3io::polars::prelude::*;
    let t = start().await;
    let rows = 700_000i64;
    let df = df!(
        "id" => (0..rows).collect::<Vec<_>>(),
        "score" => (0..rows).map(|i| (i % 7 != 0).then_some(i as f64 / 4.0)).collect::<Vec<_>>(),
        "small" => (0..rows).map(|i| (i % 100) as i32).collect::<Vec<_>>(),
        "word" => (0..rows).map(|i| (i % 5 != 0).then(|| format!("w{}", i % 13))).collect::<Vec<_>>(),
    )
    .unwrap();
    let s3 = t
        .server
        .builder()
        .transfer(TransferConfig::new().part_size(TransferConfig::MIN_PART_SIZE))
        .build()
        .await
        .unwrap();
    s3.upload(BUCKET, "big.pkl", &df).await.unwrap();
    let bytes = s3.download_bytes(BUCKET, "big.pkl").await.unwrap();
    assert!(
        bytes.len() as u64 > 2 * TransferConfig::MIN_PART_SIZE,
        "{} bytes: not several parts",
        bytes.len()
    );
    let got = s3.download_frame(BUCKET, "big.pkl").await.unwrap();
    assert_eq!(got.schema(), df.schema());
    assert!(got.equals_missing(&df), "{got}\n!=\n{df}");
    assert_eq!(floats(&got, "score")[6..9], [Some(1.5), None, Some(2.0)]);
    let whole = s3io::Format::PICKLE.decode_frame(bytes).unwrap();
    assert!(whole.equals_missing(&got));
}

#[tokio::test]
async fn pickles_that_name_code_are_refused_by_name() {
    let t = start().await;
    for (file, global) in [
        ("os_system.pkl", "posix.system"),
        ("os_system_p0.pkl", "os.system"),
    ] {
        t.put_fixture(&format!("pickle/{file}"), file).await;
        let err = t.s3.download(BUCKET, file).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{file}: {err}");
        let message = err.to_string();
        assert!(message.contains(global), "{file}: {message}");
        assert!(
            message.contains(&format!("s3://{BUCKET}/{file}")),
            "{message}"
        );
    }
}
