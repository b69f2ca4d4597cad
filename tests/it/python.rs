//! Python reads what s3io wrote: pandas, pickle and json load the objects s3io uploaded and
//! compare them with the original fixtures (fixtures/readback.py).
//!
//! Needs python3 with pandas, openpyxl, pyarrow and boto3; `.ci/run` installs them. Without them the
//! test prints why it skipped, unless `S3IO_REQUIRE_PYTHON=1`, which turns a skip into a
//! failure.

use std::process::Command;

use s3io::{Data, Format, PickleValue, ReadOptions, WriteOptions};

use crate::support::*;

#[tokio::test]
async fn python_reads_what_s3io_wrote() {
    let t = start().await;
    let prefix = "readback";
    let csv_frame = Format::CSV.decode_frame(fixture("csv/sample.csv")).unwrap();
    let sheet = Format::EXCEL
        .decode_frame(fixture("xlsx/openpyxl_multi.xlsx"))
        .unwrap();
    let config = Format::JSON.decode(fixture("json/config.json")).unwrap();
    let builtins = Format::PICKLE
        .decode(fixture("pickle/builtins_p5.pkl"))
        .unwrap();
    let notes = Format::TEXT.decode(fixture("text/notes.txt")).unwrap();
    let s3 = &t.s3;
    s3.upload(BUCKET, &format!("{prefix}/sample.csv"), &csv_frame)
        .await
        .unwrap();
    s3.upload(BUCKET, &format!("{prefix}/sample.xlsx"), &sheet)
        .await
        .unwrap();
    s3.upload(BUCKET, &format!("{prefix}/sample.json"), &csv_frame)
        .await
        .unwrap();
    s3.upload(BUCKET, &format!("{prefix}/sample.pkl"), &csv_frame)
        .await
        .unwrap();
    s3.upload(BUCKET, &format!("{prefix}/config.json"), config)
        .await
        .unwrap();
    s3.upload(BUCKET, &format!("{prefix}/builtins.pkl"), builtins)
        .await
        .unwrap();
    // Records that share their keys: s3io writes each key once, then recalls it.
    let records = Format::PICKLE
        .decode(fixture("pickle/records.pkl"))
        .unwrap();
    s3.upload(BUCKET, &format!("{prefix}/records.pkl"), records)
        .await
        .unwrap();
    // datetime, zoneinfo and Decimal objects pandas pickled, less the two entries that hold
    // nanoseconds (readback.py's NANOSECOND_KEYS), which s3io refuses to write.
    let Data::Pickle(PickleValue::Dict(mut values)) = Format::PICKLE
        .decode(fixture("pandas-pickles/pd3-np2/values_p4.pkl"))
        .unwrap()
    else {
        panic!("values_p4.pkl is not a dict");
    };
    values.retain(
        |(k, _)| !matches!(k, PickleValue::String(k) if k == "timestamp" || k == "timedelta"),
    );
    assert_eq!(values.len(), 17);
    let values = Data::Pickle(PickleValue::Dict(values));
    s3.upload(BUCKET, &format!("{prefix}/values.pkl"), values)
        .await
        .unwrap();
    s3.upload(BUCKET, &format!("{prefix}/notes.txt"), notes)
        .await
        .unwrap();
    let typed = Format::PARQUET
        .decode_frame(fixture("parquet/pyarrow_typed.parquet"))
        .unwrap();
    for name in ["typed.parquet", "typed.feather"] {
        s3.upload(BUCKET, &format!("{prefix}/{name}"), &typed)
            .await
            .unwrap();
    }
    for name in ["sample.jsonl", "sample.tsv"] {
        s3.upload(BUCKET, &format!("{prefix}/{name}"), &csv_frame)
            .await
            .unwrap();
    }
    // Compressed by the key's suffix; Python's own gzip, bz2, lzma and zstandard read them.
    for suffix in ["gz", "zst", "bz2", "xz"] {
        let csv = format!("{prefix}/sample.csv.{suffix}");
        s3.upload(BUCKET, &csv, &csv_frame).await.unwrap();
        let parquet = format!("{prefix}/typed.parquet.{suffix}");
        s3.upload(BUCKET, &parquet, &typed).await.unwrap();
    }
    let european = ReadOptions::csv().separator(b';').decimal_comma(true);
    let european = Format::CSV
        .decode_with(fixture("csv/european_decimal_comma.csv"), &european)
        .unwrap();
    let european_out = WriteOptions::csv().separator(b';').decimal_comma(true);
    s3.upload_with(
        BUCKET,
        &format!("{prefix}/european.csv"),
        &european,
        european_out,
    )
    .await
    .unwrap();
    t.put_fixture("xlsx/openpyxl_multi.xlsx", "in/multi.xlsx")
        .await;
    let sheets = s3.download_sheets(BUCKET, "in/multi.xlsx").await.unwrap();
    s3.upload_sheets(BUCKET, &format!("{prefix}/sheets.xlsx"), &sheets)
        .await
        .unwrap();

    let python = python();
    let script = format!("{}/fixtures/readback.py", env!("CARGO_MANIFEST_DIR"));
    let endpoint = t.server.endpoint_url();
    let output = Command::new(&python)
        .args([
            &script,
            "--endpoint",
            &endpoint,
            "--bucket",
            BUCKET,
            "--prefix",
            prefix,
        ])
        .args(["--access-key", s3io::local::ACCESS_KEY_ID])
        .args(["--secret-key", s3io::local::SECRET_ACCESS_KEY])
        .arg("--strict-column-order")
        .output();
    let required = required("PYTHON");
    let output = match output {
        Ok(output) => output,
        Err(e) if !required => {
            skip(
                "python_reads_what_s3io_wrote",
                &format!("cannot run {python}: {e}"),
            );
            return;
        }
        Err(e) => panic!("cannot run {python}: {e}"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(3) && !required {
        skip("python_reads_what_s3io_wrote", stdout.trim());
        return;
    }
    assert!(
        output.status.success(),
        "Python could not read back what s3io wrote:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("23 passed, 0 failed"), "{stdout}");
}
