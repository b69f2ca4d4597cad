//! Decoding while the parts arrive: a CSV, TSV, NDJSON or JSON-list object of several parts
//! decodes, part by part, to what the whole-object decoder gives, reading the object once; where the
//! decoder must give up (a later value that does not fit the types of the first rows), the
//! object is read again whole and gives that frame too. Counted at the logging proxy. A frame
//! uploaded as CSV, TSV or Parquet leaves in parts while it is encoded.

use bytes::Bytes;
use s3io::polars::prelude::*;
use s3io::{ErrorKind, Format, Limits, ReadOptions};

use super::Target;
use super::transfer::small_parts;
use crate::proxy::{Fault, Matches};

/// A table of some 32 bytes a row, as users' exports are: CRLF line ends, quoted
/// fields with commas, doubled quotes and line breaks, non-ASCII text, pandas' NA tokens in
/// a float column. `odd_row` holds `1.5` in the integer column `id`.
fn table(rows: usize, separator: char, odd_row: Option<usize>) -> Bytes {
    let mut text = format!("id{separator}name{separator}note{separator}price\r\n");
    for i in 0..rows {
        let id = match odd_row {
            Some(odd) if odd == i => "1.5".to_owned(),
            _ => i.to_string(),
        };
        let name = match i % 5 {
            0 => "\"Smith, J\"".to_owned(),
            1 => "Zoë Łódź".to_owned(),
            2 => "日本語".to_owned(),
            3 => format!("\"say \"\"{i}\"\"\""),
            _ => String::new(),
        };
        let note = match i % 7 {
            0 => "\"two\nlines\"",
            3 => "\"crlf\r\ninside\"",
            _ => "plain",
        };
        let price = match i % 13 {
            0 => "NA".to_owned(),
            6 => "n/a".to_owned(),
            _ => format!("{}.25", i % 1000),
        };
        text.push_str(&format!(
            "{id}{separator}{name}{separator}{note}{separator}{price}\r\n"
        ));
    }
    Bytes::from(text)
}

fn assert_same(got: &DataFrame, want: &DataFrame, context: &str) {
    assert_eq!(got.schema(), want.schema(), "{context}");
    assert!(got.equals_missing(want), "{context}: frames differ");
}

pub async fn csv_and_tsv_decode_while_their_parts_arrive(t: &Target) {
    let (proxy, s3) = t.through_proxy().await;
    let s3 = s3.with_transfer(small_parts());
    for (key, format, separator) in [
        ("in_parts/t.csv", Format::CSV, ','),
        ("in_parts/t.tsv", Format::TSV, '\t'),
    ] {
        let text = table(400_000, separator, None);
        let size = text.len() as u64;
        assert!(
            size > 2 * s3io::TransferConfig::MIN_PART_SIZE,
            "{size} bytes: several parts"
        );
        s3.upload(t.bucket(), key, s3io::Data::Bytes(text.clone()))
            .await
            .unwrap();
        let want = format.decode_frame(text.clone()).unwrap();
        assert_eq!(want.column("price").unwrap().dtype(), &DataType::Float64);

        proxy.reset();
        let got = s3.download_frame(t.bucket(), key).await.unwrap();
        assert_same(&got, &want, key);
        assert_eq!(proxy.bytes_sent(), size, "{key}: read once");

        // A later part that breaks off is resumed: the same frame.
        proxy.reset();
        proxy.inject(Matches::LaterRange, Fault::ResetMidBody(1000), 1);
        let got = s3.download(t.bucket(), key).await.unwrap().into_frame();
        assert_same(&got.unwrap(), &want, &format!("{key}, resumed"));
        assert!(proxy.struck());
    }

    // A value past the first 10,000 rows that does not fit their types: the object is read
    // again whole, and the column is what the whole-object decoder infers from every row.
    let text = table(400_000, ',', Some(300_000));
    let size = text.len() as u64;
    s3.upload(
        t.bucket(),
        "in_parts/odd.csv",
        s3io::Data::Bytes(text.clone()),
    )
    .await
    .unwrap();
    let want = Format::CSV.decode_frame(text).unwrap();
    assert_eq!(want.column("id").unwrap().dtype(), &DataType::Float64);
    proxy.reset();
    let got = s3.download_frame(t.bucket(), "in_parts/odd.csv").await;
    assert_same(&got.unwrap(), &want, "odd.csv");
    assert!(proxy.bytes_sent() > size, "read again whole");

    // The output budget holds part by part: over it, a typed error.
    let tight = ReadOptions::new().limits(Limits::new().max_decoded_size(4 << 20));
    let err = s3
        .download_frame_with(t.bucket(), "in_parts/t.csv", tight)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
    assert_eq!(err.key(), Some("in_parts/t.csv"), "{err}");
}

pub async fn ndjson_decodes_while_its_parts_arrive(t: &Target) {
    let (proxy, s3) = t.through_proxy().await;
    let s3 = s3.with_transfer(small_parts());
    let df = Format::CSV.decode_frame(table(300_000, ',', None)).unwrap();
    let text = Bytes::from(Format::NDJSON.encode(&df.into()).unwrap());
    let size = text.len() as u64;
    assert!(
        size > 2 * s3io::TransferConfig::MIN_PART_SIZE,
        "{size} bytes: several parts"
    );
    s3.upload(
        t.bucket(),
        "in_parts/t.ndjson",
        s3io::Data::Bytes(text.clone()),
    )
    .await
    .unwrap();
    let want = Format::NDJSON.decode_frame(text.clone()).unwrap();
    proxy.reset();
    let got = s3
        .download_frame(t.bucket(), "in_parts/t.ndjson")
        .await
        .unwrap();
    assert_same(&got, &want, "t.ndjson");
    assert_eq!(proxy.bytes_sent(), size, "t.ndjson: read once");

    // Text in a column of numbers, far from its first part: read again whole, and the
    // column spells its numbers as the whole-object decoder does.
    let mut odd = text.to_vec();
    odd.extend_from_slice(b"{\"id\": \"seven\"}\n");
    let odd = Bytes::from(odd);
    s3.upload(
        t.bucket(),
        "in_parts/odd.ndjson",
        s3io::Data::Bytes(odd.clone()),
    )
    .await
    .unwrap();
    let want = Format::NDJSON.decode_frame(odd.clone()).unwrap();
    assert_eq!(want.column("id").unwrap().dtype(), &DataType::String);
    proxy.reset();
    let got = s3.download_frame(t.bucket(), "in_parts/odd.ndjson").await;
    assert_same(&got.unwrap(), &want, "odd.ndjson");
    assert!(proxy.bytes_sent() > odd.len() as u64, "read again whole");
}

pub async fn json_lists_decode_while_their_parts_arrive(t: &Target) {
    let (proxy, s3) = t.through_proxy().await;
    let s3 = s3.with_transfer(small_parts());
    let df = Format::CSV.decode_frame(table(300_000, ',', None)).unwrap();
    let text = Bytes::from(Format::JSON.encode(&df.into()).unwrap());
    let size = text.len() as u64;
    assert!(
        size > 2 * s3io::TransferConfig::MIN_PART_SIZE,
        "{size} bytes: several parts"
    );
    let key = "in_parts/t.json";
    s3.upload(t.bucket(), key, s3io::Data::Bytes(text.clone()))
        .await
        .unwrap();
    let want = Format::JSON.decode_frame(text.clone()).unwrap();
    proxy.reset();
    let got = s3.download_frame(t.bucket(), key).await.unwrap();
    assert_same(&got, &want, "t.json");
    assert_eq!(proxy.bytes_sent(), size, "t.json: read once");

    // `download` gives the JSON value, in parts too.
    let want: serde_json::Value = serde_json::from_slice(&text).unwrap();
    proxy.reset();
    match s3.download(t.bucket(), key).await.unwrap() {
        s3io::Data::Json(value) => assert!(value == want, "t.json: the value differs"),
        other => panic!("t.json downloads as a JSON value, not {other:?}"),
    }
    assert_eq!(proxy.bytes_sent(), size, "t.json value: read once");

    // Text in a column of numbers, far from its first part: read again whole, and the
    // column spells its numbers as the whole-object decoder does.
    let mut odd = text[..text.len() - 1].to_vec();
    odd.extend_from_slice(b",{\"id\": \"seven\"}]");
    let odd = Bytes::from(odd);
    let key = "in_parts/odd.json";
    s3.upload(t.bucket(), key, s3io::Data::Bytes(odd.clone()))
        .await
        .unwrap();
    let want = Format::JSON.decode_frame(odd.clone()).unwrap();
    assert_eq!(want.column("id").unwrap().dtype(), &DataType::String);
    proxy.reset();
    let got = s3.download_frame(t.bucket(), key).await;
    assert_same(&got.unwrap(), &want, "odd.json");
    assert!(proxy.bytes_sent() > odd.len() as u64, "read again whole");

    // A broken list: read again whole, which names the fault.
    let broken = Bytes::from(odd[..odd.len() - 1].to_vec());
    let key = "in_parts/broken.json";
    s3.upload(t.bucket(), key, s3io::Data::Bytes(broken))
        .await
        .unwrap();
    let err = s3.download(t.bucket(), key).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert_eq!(err.key(), Some(key), "{err}");

    // A document that is not a list, whole in its first part: decoded from that part, not
    // read again.
    let columns = Bytes::from_static(br#"{"a": [1, 2], "b": ["x", "y"]}"#);
    let key = "in_parts/columns.json";
    s3.upload(t.bucket(), key, s3io::Data::Bytes(columns.clone()))
        .await
        .unwrap();
    proxy.reset();
    let df = s3.download_frame(t.bucket(), key).await.unwrap();
    assert_eq!(df.shape(), (2, 2), "{df}");
    assert_eq!(
        proxy.bytes_sent(),
        columns.len() as u64,
        "columns.json: read once"
    );
    proxy.reset();
    match s3.download(t.bucket(), key).await.unwrap() {
        s3io::Data::Json(value) => {
            assert_eq!(value, serde_json::json!({"a": [1, 2], "b": ["x", "y"]}))
        }
        other => panic!("columns.json downloads as a JSON value, not {other:?}"),
    }
    assert_eq!(
        proxy.bytes_sent(),
        columns.len() as u64,
        "columns.json value: read once"
    );
    let key = "in_parts/bad.json";
    s3.upload(
        t.bucket(),
        key,
        s3io::Data::Bytes(Bytes::from_static(b"{\"a\": ")),
    )
    .await
    .unwrap();
    proxy.reset();
    let err = s3.download(t.bucket(), key).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert_eq!(proxy.bytes_sent(), 6, "bad.json: read once");
}

pub async fn csv_and_parquet_uploads_leave_in_parts_while_encoding(t: &Target) {
    let (proxy, s3) = t.through_proxy().await;
    let s3 = s3.with_transfer(small_parts());
    let df = Format::CSV.decode_frame(table(400_000, ',', None)).unwrap();
    // Floats of random bits, which no compression shrinks: a Parquet file of several parts.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let noise: Vec<f64> = (0..1_600_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            f64::from_bits(state)
        })
        .collect();
    let noisy = DataFrame::new(noise.len(), vec![Column::new("x".into(), noise)]).unwrap();
    for (key, df) in [
        ("in_parts/up.csv", &df),
        ("in_parts/up.tsv", &df),
        ("in_parts/up.parquet", &noisy),
    ] {
        let want = Format::from_key(key).encode(&df.clone().into()).unwrap();
        assert!(want.len() as u64 > 2 * s3io::TransferConfig::MIN_PART_SIZE);
        proxy.reset();
        let info = s3.upload(t.bucket(), key, df.clone()).await.unwrap();
        assert_eq!(info.size, want.len() as u64, "{key}");
        let parts = proxy
            .seen()
            .iter()
            .filter(|r| r.method == "PUT" && r.path_and_query.contains("partNumber="))
            .count();
        let expected = want
            .len()
            .div_ceil(s3io::TransferConfig::MIN_PART_SIZE as usize);
        assert_eq!(parts, expected, "{key}: one request per part");
        let back = s3.download_bytes(t.bucket(), key).await.unwrap();
        assert!(
            back == want,
            "{key}: the bytes the whole-body encoder writes"
        );
    }

    // A small frame: one PutObject.
    let small = df.head(Some(10));
    proxy.reset();
    s3.upload(t.bucket(), "in_parts/small.csv", small.clone())
        .await
        .unwrap();
    assert!(
        proxy
            .seen()
            .iter()
            .all(|r| !r.path_and_query.contains("uploads")),
        "no multipart upload"
    );
    let back = s3.download_frame(t.bucket(), "in_parts/small.csv").await;
    assert!(back.unwrap().equals_missing(&small));

    // A part that always fails: a typed error, the upload aborted, no object.
    proxy.reset();
    proxy.inject(
        Matches::UploadPart,
        Fault::Status(500, "InternalError"),
        1000,
    );
    let err = s3
        .upload(t.bucket(), "in_parts/failed.csv", df.clone())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Service, "{err}");
    assert!(
        proxy
            .seen()
            .iter()
            .any(|r| r.method == "DELETE" && r.path_and_query.contains("uploadId=")),
        "the upload was aborted"
    );
    assert!(
        !t.s3
            .object(t.bucket(), "in_parts/failed.csv")
            .exists()
            .await
            .unwrap()
    );
    t.assert_no_upload_left_open().await;

    // An encoder that fails (a column CSV cannot hold): nothing is made.
    let lists = [
        Series::new("".into(), [1i64]),
        Series::new("".into(), [2i64]),
    ];
    let nested = DataFrame::new(2, vec![Series::new("list".into(), lists).into()]).unwrap();
    let err = s3
        .upload(t.bucket(), "in_parts/nested.csv", nested)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode, "{err}");
    assert!(
        !t.s3
            .object(t.bucket(), "in_parts/nested.csv")
            .exists()
            .await
            .unwrap()
    );
}
