//! What s3io uploads, s3io downloads back equal, in every format.

use polars::prelude::*;
use s3io::{Data, Format};
use serde_json::json;

use super::target::Target;
use crate::support::*;

/// A frame with every dtype the cell formats carry, nulls in each column, and awkward text.
fn mixed_frame() -> DataFrame {
    let days = Int32Chunked::from_slice_options("day".into(), &[Some(19737), None, Some(-1)])
        .into_date()
        .into_series();
    let stamps = Int64Chunked::from_slice_options(
        "stamp".into(),
        &[Some(1_705_326_330_000_000), Some(0), None],
    )
    .into_datetime(TimeUnit::Microseconds, None)
    .into_series();
    DataFrame::new(
        3,
        vec![
            Column::new("id".into(), [Some(1i64), None, Some(-3)]),
            Column::new("x".into(), [Some(0.5f64), Some(-1e-7), None]),
            Column::new("name".into(), [Some("a, \"b\"\nc"), None, Some("Zoë 🚀")]),
            Column::new("ok".into(), [Some(true), Some(false), None]),
            days.into(),
            stamps.into(),
        ],
    )
    .unwrap()
}

pub async fn frames_round_trip_through_xlsx_json_and_pickle(t: &Target) {
    let df = mixed_frame();
    for key in ["t/frame.xlsx", "t/frame.json", "t/frame.pkl"] {
        t.s3.upload(t.bucket(), key, &df).await.unwrap();
        let back = t.s3.download_frame(t.bucket(), key).await.unwrap();
        assert_eq!(back.get_column_names(), df.get_column_names(), "{key}");
        assert_eq!(ints(&back, "id"), ints(&df, "id"), "{key}");
        assert_eq!(floats(&back, "x"), floats(&df, "x"), "{key}");
        assert_eq!(strs(&back, "name"), strs(&df, "name"), "{key}");
        assert_eq!(bools(&back, "ok"), bools(&df, "ok"), "{key}");
        if key.ends_with(".xlsx") || key.ends_with(".pkl") {
            // Excel keeps real dates; a frame is pickled as a pandas DataFrame, every dtype kept.
            assert!(back.equals_missing(&df), "{key}: {back}");
        } else {
            // JSON has no date type: ISO 8601 text.
            assert_eq!(
                strs(&back, "day"),
                owned(&[Some("2024-01-15"), None, Some("1969-12-31")])
            );
            assert_eq!(
                strs(&back, "stamp"),
                owned(&[
                    Some("2024-01-15T13:45:30"),
                    Some("1970-01-01T00:00:00"),
                    None
                ])
            );
        }
    }
}

pub async fn frames_round_trip_through_csv(t: &Target) {
    let df = mixed_frame().drop_many(["day", "stamp"]);
    t.s3.upload(t.bucket(), "t/frame.csv", &df).await.unwrap();
    let back =
        t.s3.download_frame(t.bucket(), "t/frame.csv")
            .await
            .unwrap();
    assert!(back.equals_missing(&df), "{back}");
}

pub async fn values_round_trip(t: &Target) {
    let value = json!({"b": [1, 2.5, null, "x"], "a": {"nested": true}, "big": u64::MAX});
    t.s3.upload(t.bucket(), "v.json", &value).await.unwrap();
    assert_eq!(
        t.s3.download_json(t.bucket(), "v.json").await.unwrap(),
        value
    );

    // A JSON value pickles, and comes back the same through JSON.
    let small = json!({"b": [1, 2.5, null, "x"], "a": {"nested": true}});
    t.s3.upload(t.bucket(), "v.pkl", &small).await.unwrap();
    assert_eq!(
        t.s3.download_json(t.bucket(), "v.pkl").await.unwrap(),
        small
    );

    // Pickle values, including what JSON cannot hold.
    let Data::Pickle(original) = Format::PICKLE
        .decode(fixture("pickle/builtins_p5.pkl"))
        .unwrap()
    else {
        panic!("a pickle value");
    };
    t.s3.upload(t.bucket(), "b.pkl", original.clone())
        .await
        .unwrap();
    let Data::Pickle(back) = t.s3.download(t.bucket(), "b.pkl").await.unwrap() else {
        panic!("a pickle value");
    };
    assert_eq!(back, original);

    // Any Serialize type, to either format.
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Run {
        name: String,
        scores: Vec<f64>,
        tags: Option<Vec<String>>,
    }
    let run = Run {
        name: "r1".into(),
        scores: vec![0.5, 0.25],
        tags: None,
    };
    for key in ["run.json", "run.pkl"] {
        t.s3.upload_value(t.bucket(), key, &run).await.unwrap();
        let back: Run = t.s3.download_value(t.bucket(), key).await.unwrap();
        assert_eq!(back, run, "{key}");
    }

    t.s3.upload(t.bucket(), "n.txt", "line 1\nZoë\n")
        .await
        .unwrap();
    assert_eq!(
        t.s3.download_text(t.bucket(), "n.txt").await.unwrap(),
        "line 1\nZoë\n"
    );
}

pub async fn uploads_carry_the_formats_content_type_and_bytes_stay_unchanged(t: &Target) {
    let df = df!("a" => [1, 2]).unwrap();
    t.s3.upload(t.bucket(), "c.csv", &df).await.unwrap();
    t.s3.upload(t.bucket(), "c.xlsx", &df).await.unwrap();
    t.s3.upload(t.bucket(), "c.json", &json!([1]))
        .await
        .unwrap();
    t.s3.upload(t.bucket(), "c.txt", "x").await.unwrap();
    let raw = bytes::Bytes::from_static(b"\x00\x01 not csv");
    t.s3.upload(t.bucket(), "raw.csv", raw.clone())
        .await
        .unwrap();
    for (key, content_type) in [
        ("c.csv", "text/csv; charset=utf-8"),
        (
            "c.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("c.json", "application/json"),
        ("c.txt", "text/plain; charset=utf-8"),
        ("raw.csv", "application/octet-stream"),
    ] {
        let head =
            t.s3.client()
                .head_object()
                .bucket(t.bucket())
                .key(key)
                .send()
                .await
                .unwrap();
        assert_eq!(head.content_type(), Some(content_type), "{key}");
    }
    assert_eq!(
        t.s3.download_bytes(t.bucket(), "raw.csv").await.unwrap(),
        raw
    );
    assert_eq!(
        t.s3.download_bytes(t.bucket(), "c.csv").await.unwrap(),
        "a\n1\n2\n"
    );
}

pub async fn buckets_and_objects_are_listed(t: &Target) {
    use futures_util::TryStreamExt;
    let second = &t.other_bucket("second");
    t.s3.create_bucket(second).await.unwrap();
    // Creating a bucket you own already is fine.
    t.s3.create_bucket(second).await.unwrap();
    let names: Vec<String> =
        t.s3.list_buckets()
            .await
            .unwrap()
            .into_iter()
            .map(|b| b.name)
            .collect();
    // Other tests' buckets may share the server, and s3s-fs lists in its folder's order.
    let mut ours: Vec<&String> = names
        .iter()
        .filter(|n| n.as_str() == t.bucket() || *n == second)
        .collect();
    ours.sort();
    assert_eq!(ours, [t.bucket(), second.as_str()]);

    for key in ["a/1.txt", "a/2.txt", "b/3.txt"] {
        t.s3.upload(t.bucket(), key, "x").await.unwrap();
    }
    let listed: Vec<s3io::ObjectInfo> =
        t.s3.list_objects(t.bucket(), "a/")
            .try_collect()
            .await
            .unwrap();
    let keys: Vec<&str> = listed.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, ["a/1.txt", "a/2.txt"]);
    assert!(
        listed
            .iter()
            .all(|o| o.size == 1 && o.last_modified.is_some())
    );
}
