//! Hive-partitioned datasets: the layout written, the round trip, partition types, filters,
//! columns and rows, overwrites that never touch a sibling prefix and leave the old data
//! readable when they fail, bounds per file and per call, and the same files read and
//! written by pyarrow and awswrangler (fixtures/dataset_interop.py).

use std::process::Command;

use futures_util::TryStreamExt;
use polars::prelude::*;
use s3io::{
    DatasetMode, DatasetOptions, DatasetReadOptions, ErrorKind, Format, Limits, ObjectInfo,
    Operation,
};

use super::target::{Server, Target};
use crate::proxy::{Fault, Matches};
use crate::support::*;

/// Partition values that need escaping: a space, `/`, `=`, `%`, Unicode and null; the same
/// as fixtures/dataset_interop.py's REGIONS.
const REGIONS: [Option<&str>; 7] = [
    Some("north"),
    Some("a b"),
    Some("x/y"),
    Some("k=v"),
    Some("100%"),
    Some("Zürich ☃"),
    None,
];

/// 28 rows: every region in both years, twice; the same as dataset_interop.py's table.
fn sales() -> DataFrame {
    let n = 28;
    df!(
        "id" => (0..n as i64).collect::<Vec<_>>(),
        "amount" => (0..n).map(|i| i as f64 * 1.5).collect::<Vec<_>>(),
        "name" => (0..n).map(|i| (i % 5 != 0).then(|| format!("n{i}"))).collect::<Vec<_>>(),
        "region" => (0..n).map(|i| REGIONS[i % 7]).collect::<Vec<_>>(),
        "year" => (0..n).map(|i| 2023 + (i % 2) as i64).collect::<Vec<_>>(),
    )
    .unwrap()
}

fn by_id(df: &DataFrame) -> DataFrame {
    df.sort(["id"], SortMultipleOptions::default()).unwrap()
}

/// `got` holds `expected`'s rows and columns (in any order), each column of `got` cast to
/// the expected dtype first (pyarrow types a partition of years Int32).
fn assert_same_rows(got: &DataFrame, expected: &DataFrame, what: &str) {
    let (got, expected) = (by_id(got), by_id(expected));
    let mut names: Vec<String> = got
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let mut want: Vec<String> = expected
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    names.sort();
    want.sort();
    assert_eq!(names, want, "{what}: columns");
    assert_eq!(got.height(), expected.height(), "{what}: rows");
    for column in expected.columns() {
        let mine = got
            .column(column.name())
            .unwrap()
            .cast(column.dtype())
            .unwrap();
        assert!(
            mine.as_materialized_series()
                .equals_missing(column.as_materialized_series()),
            "{what}: column {}:\n{mine:?}\nexpected\n{column:?}",
            column.name()
        );
    }
}

async fn keys(t: &Target, prefix: &str) -> Vec<String> {
    let listed: Vec<ObjectInfo> =
        t.s3.list_objects(t.bucket(), prefix)
            .try_collect()
            .await
            .unwrap();
    listed.into_iter().map(|o| o.key).collect()
}

pub async fn datasets_round_trip_with_escaped_hive_partitions(t: &Target) {
    let (s3, b) = (&t.s3, t.bucket());
    let df = sales();
    let options = DatasetOptions::new().partition_by(["region", "year"]);
    let written = s3.upload_dataset(b, "sales", &df, options).await.unwrap();
    assert_eq!(written.keys.len(), 14, "{written:?}");
    assert_eq!(written.partitions.len(), 14);
    assert!(written.deleted.is_empty());
    assert_eq!(written.partitions[0], "region=north/year=2023/");
    let listed = keys(t, "sales/").await;
    assert_eq!(listed.len(), 14);
    for folder in [
        "sales/region=north/year=2023/",
        "sales/region=a b/year=2024/",
        "sales/region=x%2Fy/year=2023/",
        "sales/region=k%3Dv/year=2024/",
        "sales/region=100%25/year=2023/",
        "sales/region=Zürich ☃/year=2024/",
        "sales/region=__HIVE_DEFAULT_PARTITION__/year=2023/",
    ] {
        assert!(
            listed.iter().any(|k| k.starts_with(folder)),
            "{folder} in {listed:?}"
        );
    }
    for key in &listed {
        let name = key.rsplit('/').next().unwrap();
        let (part, rest) = name.split_at(11);
        assert!(
            part.starts_with("part-") && part[5..10].parse::<u32>().is_ok(),
            "{key}"
        );
        assert_eq!(
            rest.len(),
            36 + ".parquet".len(),
            "part-NNNNN-<uuid>.parquet: {key}"
        );
    }

    // Partition columns come last, typed as pyarrow infers them.
    let back = s3
        .download_dataset(b, "sales", DatasetReadOptions::new())
        .await
        .unwrap();
    assert_eq!(
        back.get_column_names(),
        ["id", "amount", "name", "region", "year"]
    );
    assert_eq!(back.column("year").unwrap().dtype(), &DataType::Int32);
    assert_eq!(back.column("region").unwrap().dtype(), &DataType::String);
    assert_same_rows(&back, &df, "round trip");

    // ...or as a schema says; `sales/` is the same dataset as `sales`.
    let typed = s3
        .download_dataset(
            b,
            "sales/",
            DatasetReadOptions::new().partition_schema([("year", DataType::Int64)]),
        )
        .await
        .unwrap();
    assert_eq!(typed.column("year").unwrap().dtype(), &DataType::Int64);
    assert!(by_id(&typed).equals_missing(&by_id(&df)));
    let wrong = DatasetReadOptions::new().partition_schema([("region", DataType::Int64)]);
    let err = s3.download_dataset(b, "sales", wrong).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("partition value region="), "{err}");
    assert_eq!(err.bucket(), Some(b));
    assert!(
        err.key().is_some_and(|k| k.starts_with("sales/region=")),
        "{err}"
    );

    // Filters see unescaped values and nulls.
    let slashed = DatasetReadOptions::new().partition_filter(|p| p.get("region") == Some("x/y"));
    let slashed = s3.download_dataset(b, "sales", slashed).await.unwrap();
    assert_eq!(strs(&slashed, "region"), vec![Some("x/y".to_owned()); 4]);
    let nulls = DatasetReadOptions::new().partition_filter(|p| p.is_null("region"));
    let nulls = s3.download_dataset(b, "sales", nulls).await.unwrap();
    assert_eq!(strs(&nulls, "region"), vec![None; 4]);
    let none = DatasetReadOptions::new().partition_filter(|_| false);
    let none = s3.download_dataset(b, "sales", none).await.unwrap();
    assert_eq!(none.shape(), (0, 2), "the partition columns, no rows");

    // Columns, partition ones included, in the order asked; rows up to n_rows.
    let some = DatasetReadOptions::new()
        .columns(["year", "amount"])
        .n_rows(5);
    let some = s3.download_dataset(b, "sales", some).await.unwrap();
    assert_eq!(some.get_column_names(), ["year", "amount"]);
    assert_eq!(some.height(), 5);
    let err = s3
        .download_dataset(b, "sales", DatasetReadOptions::new().columns(["nope"]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("\"nope\""), "{err}");

    // Other formats, files split by rows, no partitions.
    for (format, extension) in [(Format::CSV, ".csv"), (Format::NDJSON, ".jsonl")] {
        let prefix = format!("as-{}", format.name());
        let options = DatasetOptions::new()
            .partition_by(["year"])
            .max_rows_per_file(5)
            .format(format);
        let written = s3.upload_dataset(b, &prefix, &df, options).await.unwrap();
        assert_eq!(
            written.keys.len(),
            6,
            "14 rows a year, 5 a file: {written:?}"
        );
        assert!(
            written.keys.iter().all(|k| k.ends_with(extension)),
            "{written:?}"
        );
        let back = s3
            .download_dataset(b, &prefix, DatasetReadOptions::new())
            .await
            .unwrap();
        assert_same_rows(&back, &df, format.name());
    }
    let options = DatasetOptions::new().max_rows_per_file(10);
    let written = s3.upload_dataset(b, "flat", &df, options).await.unwrap();
    assert_eq!(written.keys.len(), 3);
    assert!(written.partitions.is_empty());
    let back = s3
        .download_dataset(b, "flat", DatasetReadOptions::new())
        .await
        .unwrap();
    assert!(by_id(&back).equals_missing(&df));

    // What is refused before anything is written.
    let err = s3
        .upload_dataset(b, "", &df, DatasetOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = s3
        .upload_dataset(b, "sales/*", &df, DatasetOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = s3
        .upload_dataset(b, "bad", &df, DatasetOptions::new().partition_by(["nope"]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(err.operation(), Some(Operation::Upload));
    assert!(err.to_string().contains(&format!("s3://{b}/bad")), "{err}");
    let err = s3
        .upload_dataset(b, "bad", &df, DatasetOptions::new().format(Format::EXCEL))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(keys(t, "bad").await.is_empty());
    let err = s3
        .download_dataset(b, "missing", DatasetReadOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");

    // The blocking twins, from inside async code as in a notebook.
    let blocking = s3io::blocking::S3Connector::new(t.builder()).unwrap();
    let options = DatasetOptions::new()
        .partition_by(["region"])
        .mode(DatasetMode::Overwrite);
    let written = blocking.upload_dataset(b, "twin", &df, options).unwrap();
    assert_eq!(written.keys.len(), 7);
    let back = blocking
        .download_dataset(b, "twin", DatasetReadOptions::new())
        .unwrap();
    assert_same_rows(&back, &df, "blocking");
}

pub async fn dataset_overwrites_replace_only_their_own_prefix(t: &Target) {
    let (s3, b) = (&t.s3, t.bucket());
    let frame = |ids: std::ops::Range<i64>, regions: &[&str]| {
        df!(
            "id" => ids.clone().collect::<Vec<_>>(),
            "region" => ids.map(|i| regions[i as usize % regions.len()]).collect::<Vec<_>>(),
        )
        .unwrap()
    };
    // Siblings that share the prefix's first letters, and a marker inside it.
    for key in ["sales2/keep.txt", "salesman.txt", "sales/_SUCCESS"] {
        s3.upload(b, key, "keep").await.unwrap();
    }
    let by_region = || DatasetOptions::new().partition_by(["region"]);
    let ids = |df: &DataFrame| {
        let mut ids: Vec<i64> = df
            .column("id")
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        ids.sort();
        ids
    };
    let read = || s3.download_dataset(b, "sales", DatasetReadOptions::new());

    let v1 = frame(0..6, &["north", "south", "west"]);
    s3.upload_dataset(b, "sales", &v1, by_region())
        .await
        .unwrap();
    s3.upload_dataset(b, "sales", &v1, by_region().mode(DatasetMode::Append))
        .await
        .unwrap();
    assert_eq!(read().await.unwrap().height(), 12, "appended twice");

    let v2 = frame(100..104, &["north", "south"]);
    let written = s3
        .upload_dataset(b, "sales", &v2, by_region().mode(DatasetMode::Overwrite))
        .await
        .unwrap();
    assert_eq!(
        written.deleted.len(),
        7,
        "6 files and the marker: {written:?}"
    );
    assert_eq!(ids(&read().await.unwrap()), [100, 101, 102, 103]);
    for key in ["sales2/keep.txt", "salesman.txt"] {
        assert!(s3.exists(b, key).await.unwrap(), "{key} is left alone");
    }
    assert!(!s3.exists(b, "sales/_SUCCESS").await.unwrap());

    // Only the partitions the frame has rows for.
    let v3 = frame(200..202, &["south", "east"]);
    let written = s3
        .upload_dataset(
            b,
            "sales/",
            &v3,
            by_region().mode(DatasetMode::OverwritePartitions),
        )
        .await
        .unwrap();
    assert_eq!(written.partitions, ["region=south/", "region=east/"]);
    assert_eq!(written.deleted.len(), 1, "south's old file: {written:?}");
    let now = read().await.unwrap();
    assert_eq!(ids(&now), [100, 102, 200, 201]);
    let north = DatasetReadOptions::new().partition_filter(|p| p.get("region") == Some("north"));
    assert_eq!(
        ids(&s3.download_dataset(b, "sales", north).await.unwrap()),
        [100, 102]
    );
    assert!(s3.exists(b, "sales2/keep.txt").await.unwrap());

    // A sibling dataset overwritten leaves this one alone.
    s3.upload_dataset(b, "sales2", &v1, by_region().mode(DatasetMode::Overwrite))
        .await
        .unwrap();
    assert_eq!(ids(&read().await.unwrap()), [100, 102, 200, 201]);
    assert!(!s3.exists(b, "sales2/keep.txt").await.unwrap());
    assert!(s3.exists(b, "salesman.txt").await.unwrap());
}

pub async fn dataset_overwrite_failing_part_way_leaves_the_old_data(t: &Target) {
    let b = t.bucket();
    let (proxy, s3) = t.through_proxy().await;
    let v1 = df!("id" => [1i64, 2, 3], "region" => ["north", "south", "west"]).unwrap();
    let by_region = DatasetOptions::new().partition_by(["region"]);
    s3.upload_dataset(b, "sales", &v1, by_region.clone())
        .await
        .unwrap();
    let before = keys(t, "sales/").await;

    // The second file's PUT is refused: the first was written, the third never starts.
    let v2 = df!("id" => [7i64, 8, 9], "region" => ["north", "south", "west"]).unwrap();
    proxy.inject(
        Matches::PutObjectContaining("south"),
        Fault::Status(403, "AccessDenied"),
        1,
    );
    let overwrite = by_region
        .clone()
        .mode(DatasetMode::Overwrite)
        .concurrency(1);
    let err = s3
        .upload_dataset(b, "sales", &v2, overwrite)
        .await
        .unwrap_err();
    assert!(proxy.struck());
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    assert_eq!(err.operation(), Some(Operation::Upload));
    assert_eq!(err.bucket(), Some(b));
    assert!(
        err.key()
            .is_some_and(|k| k.starts_with("sales/region=south/part-00001-")),
        "{err}"
    );
    assert!(err.to_string().contains("is as it was"), "{err}");
    assert_eq!(
        keys(t, "sales/").await,
        before,
        "the new file was deleted again"
    );
    let back = s3
        .download_dataset(b, "sales", DatasetReadOptions::new())
        .await
        .unwrap();
    assert_same_rows(&back, &v1, "the old data");

    // The partition filter runs on the listing: one GET, for north's one file.
    proxy.reset();
    let north = DatasetReadOptions::new().partition_filter(|p| p.get("region") == Some("north"));
    let back = s3.download_dataset(b, "sales", north).await.unwrap();
    assert_eq!(back.height(), 1);
    let gets: Vec<_> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.method == "GET" && s.path_and_query.contains("/sales/"))
        .collect();
    assert_eq!(gets.len(), 1, "{gets:?}");
    assert!(
        gets[0].path_and_query.contains("region%3Dnorth")
            || gets[0].path_and_query.contains("region=north")
    );
}

pub async fn dataset_reads_are_bounded_per_file_and_per_call(t: &Target) {
    let (s3, b) = (&t.s3, t.bucket());
    let n = 20_000;
    let df = df!(
        "id" => (0..n).collect::<Vec<i64>>(),
        "part" => (0..n).map(|i| i % 8).collect::<Vec<i64>>(),
    )
    .unwrap();
    let written = s3
        .upload_dataset(b, "big", &df, DatasetOptions::new().partition_by(["part"]))
        .await
        .unwrap();
    assert_eq!(written.keys.len(), 8);
    // L, the smallest power of two one file's decoding fits in: eight files take more
    // than 4 L. The limit below is 2 L and what stacking one file's rows charges.
    let one = &written.keys[0];
    let mut fits = 1u64 << 10;
    while s3
        .with_limits(Limits::new().max_decoded_size(fits))
        .download_frame(b, one)
        .await
        .is_err()
    {
        fits <<= 1;
        assert!(fits < 1 << 40, "one file fits in some limit");
    }
    let stacking_one = 2 * (n as u64 / 8) * 16;
    let bounded = s3.with_limits(Limits::new().max_decoded_size(2 * fits + stacking_one));
    let err = bounded
        .download_dataset(b, "big", DatasetReadOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
    assert!(err.to_string().contains("output budget"), "{err}");
    let one_part = DatasetReadOptions::new().partition_filter(|p| p.get("part") == Some("0"));
    assert!(bounded.download_dataset(b, "big", one_part).await.is_ok());

    // A hostile file among good ones is refused by its scan, and named.
    let evil = "big/part=9/part-00000-evil.parquet";
    s3.upload(
        b,
        evil,
        fixture("hostile/parquet_fuzz_page_validity_huge.parquet"),
    )
    .await
    .unwrap();
    let err = s3
        .download_dataset(b, "big", DatasetReadOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert_eq!(err.key(), Some(evil), "{err}");
    assert_eq!(err.operation(), Some(Operation::Download));
}

/// Runs fixtures/dataset_interop.py with `python`; `None` after a `SKIP` line when the
/// Python or its modules are missing and `require` is false.
fn interop(t: &Target, python: &str, command: &str, prefix: &str, require: bool) -> Option<String> {
    let script = format!("{}/fixtures/dataset_interop.py", env!("CARGO_MANIFEST_DIR"));
    let (access, secret, region) = t.signing();
    let output = Command::new(python)
        .args([
            &script,
            command,
            "--endpoint",
            t.endpoint_url(),
            "--bucket",
            t.bucket(),
        ])
        .args([
            "--prefix",
            prefix,
            "--access-key",
            access,
            "--secret-key",
            secret,
        ])
        .args(["--region", region])
        .output();
    let output = match output {
        Ok(output) => output,
        Err(e) if !require => {
            skip(t.name(), &format!("cannot run {python}: {e}"));
            return None;
        }
        Err(e) => panic!("{}: cannot run {python}: {e}", t.name()),
    };
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(3) && !require {
        skip(t.name(), stdout.trim());
        return None;
    }
    assert!(
        output.status.success(),
        "{command} failed:\n{stdout}\n{stderr}"
    );
    Some(stdout)
}

pub async fn pyarrow_reads_what_s3io_wrote_and_s3io_reads_pyarrow(t: &Target) {
    let (s3, b) = (&t.s3, t.bucket());
    let df = sales();
    let options = DatasetOptions::new().partition_by(["region", "year"]);
    s3.upload_dataset(b, "from-s3io", &df, options)
        .await
        .unwrap();
    s3.upload(b, "from-s3io.expected.parquet", &df)
        .await
        .unwrap();
    if !t.able(
        t.server != Server::Embedded,
        "s3s-fs answers pyarrow's HeadObject on a folder name with a 500",
    ) {
        return;
    }
    let python = python();
    let require = required("PYTHON");
    let Some(out) = interop(t, &python, "pyarrow-read", "from-s3io", require) else {
        return;
    };
    assert!(
        out.contains("ok pyarrow.dataset read 28 rows, 14 files"),
        "{out}"
    );
    assert!(out.contains("region=string, year=int32"), "{out}");

    interop(t, &python, "pyarrow-write", "from-pyarrow", true).unwrap();
    // pyarrow escapes as a URI does, Unicode and spaces too.
    let listed = keys(t, "from-pyarrow/").await;
    for folder in [
        "region=x%2Fy/",
        "region=Z%C3%BCrich%20%E2%98%83/",
        "region=__HIVE_DEFAULT_PARTITION__/",
    ] {
        assert!(
            listed.iter().any(|k| k.contains(folder)),
            "{folder} in {listed:?}"
        );
    }
    let back = s3
        .download_dataset(b, "from-pyarrow", DatasetReadOptions::new())
        .await
        .unwrap();
    let expected = s3
        .download_frame(b, "from-pyarrow.expected.parquet")
        .await
        .unwrap();
    assert_eq!(back.column("year").unwrap().dtype(), &DataType::Int32);
    assert_same_rows(&back, &expected, "written by pyarrow");
    assert_same_rows(&back, &df, "written by pyarrow, against s3io's frame");
}

pub async fn s3io_reads_what_awswrangler_wrote(t: &Target) {
    let require = required("WRANGLER");
    let python = match std::env::var("S3IO_WRANGLER_PYTHON") {
        Ok(python) if !python.is_empty() => python,
        _ if require => panic!("S3IO_REQUIRE_WRANGLER is set, but S3IO_WRANGLER_PYTHON is not"),
        _ => {
            skip(
                t.name(),
                "S3IO_WRANGLER_PYTHON names no Python with awswrangler (.ci/requirements-awswrangler.txt)",
            );
            return;
        }
    };
    let Some(out) = interop(t, &python, "wrangler-write", "from-wrangler", require) else {
        return;
    };
    assert!(out.contains("ok awswrangler wrote 16 rows"), "{out}");
    let (s3, b) = (&t.s3, t.bucket());
    let back = s3
        .download_dataset(b, "from-wrangler", DatasetReadOptions::new())
        .await
        .unwrap();
    let expected = s3
        .download_frame(b, "from-wrangler.expected.parquet")
        .await
        .unwrap();
    assert_eq!(back.column("year").unwrap().dtype(), &DataType::Int32);
    let mut regions = strs(&back, "region");
    regions.sort();
    regions.dedup();
    assert_eq!(
        regions,
        owned(&[Some("Zürich ☃"), Some("a b"), Some("k=v"), Some("north")])
    );
    assert_same_rows(&back, &expected, "written by awswrangler");
}
