//! Lazy scans and sinks (feature `lazy`): polars' own cloud reader and writer, configured by
//! the connector, read what the eager API reads, push projections down (counted in bytes the
//! server sent, at the logging proxy), and write results through multipart uploads.

use s3io::polars::prelude::*;
use s3io::{Data, ReadOptions};

use super::Target;

/// `rows` trips: a city out of four, a fare (in quarters, so that sums in any order agree
/// exactly), a row number.
fn trips(rows: usize, first: usize) -> DataFrame {
    let cities = ["Oslo", "Lima", "Pune", "Kyiv"];
    let hash = |i: usize| {
        (i as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(17)
    };
    df!(
        "city" => (first..first + rows).map(|i| cities[i % 4]).collect::<Vec<_>>(),
        "fare" => (first..first + rows).map(|i| (hash(i) % 10_000) as f64 / 4.0).collect::<Vec<_>>(),
        "n" => (first..first + rows).map(|i| i as i64).collect::<Vec<_>>(),
    )
    .unwrap()
}

/// Total fare per city, sorted by city: the query every scan below answers.
fn fares(frame: LazyFrame) -> LazyFrame {
    frame
        .group_by([col("city")])
        .agg([col("fare").sum(), col("n").count().alias("trips")])
        .sort(["city"], SortMultipleOptions::default())
}

fn sorted(df: DataFrame) -> DataFrame {
    df.sort(["n"], SortMultipleOptions::default()).unwrap()
}

pub async fn lazy_scans_and_sinks_read_and_write_what_the_eager_api_does(t: &Target) {
    let (s3, bucket) = (&t.s3, t.bucket());
    let parts = [trips(3_000, 0), trips(2_000, 3_000)];
    let all = parts[0].vstack(&parts[1]).unwrap();
    for (i, part) in parts.iter().enumerate() {
        s3.upload(bucket, &format!("trips/part-{i}.parquet"), part)
            .await
            .unwrap();
    }
    for key in ["one.csv", "one.ndjson", "one.arrow"] {
        s3.upload(bucket, &format!("trips-{key}"), &all)
            .await
            .unwrap();
    }
    let expected = s3.collect(fares(all.clone().lazy())).await.unwrap();
    assert_eq!(expected.height(), 4);

    // A glob of Parquet objects, and each other format's scan, answer the query as the frame
    // itself does, and hold the same rows.
    let scans = [
        ("parquet glob", s3.scan_parquet(bucket, "trips/*.parquet")),
        ("csv", s3.scan_csv(bucket, "trips-one.csv")),
        ("ndjson", s3.scan_ndjson(bucket, "trips-one.ndjson")),
        ("ipc", s3.scan_ipc(bucket, "trips-one.arrow")),
    ];
    for (name, scan) in scans {
        let scan = scan.unwrap_or_else(|e| panic!("{}: scan {name}: {e}", t.name()));
        let answer = s3.collect(fares(scan.clone())).await;
        let answer = answer.unwrap_or_else(|e| panic!("{}: {name}: {e:?}", t.name()));
        assert!(answer.equals(&expected), "{name}: {answer} vs {expected}");
        let rows = sorted(s3.collect(scan).await.unwrap());
        assert!(rows.equals(&all), "{name}: {rows}");
    }

    // Sinks write the result through polars' multipart upload; the eager API reads it back.
    let filtered = s3
        .scan_parquet(bucket, "trips/*.parquet")
        .unwrap()
        .filter(col("fare").gt(lit(1_250.0)));
    // polars' own collect() blocks in place, which a current-thread runtime forbids.
    let want = all.clone().lazy().filter(col("fare").gt(lit(1_250.0)));
    let want = sorted(s3.collect(want).await.unwrap());
    s3.sink_parquet(filtered.clone(), bucket, "out/dear.parquet")
        .await
        .unwrap();
    let back = s3.download_frame(bucket, "out/dear.parquet").await.unwrap();
    assert!(sorted(back).equals(&want));
    s3.sink_csv(filtered, bucket, "out/dear.csv").await.unwrap();
    let back = s3
        .download_frame_with(bucket, "out/dear.csv", ReadOptions::csv())
        .await
        .unwrap();
    assert!(sorted(back).equals(&want));

    // A missing object is an error when the query runs, not a panic.
    let missing = s3.scan_parquet(bucket, "nothing-here.parquet").unwrap();
    let err = s3.collect(missing).await.unwrap_err();
    eprintln!("{}: a scan of a missing object: {err}", t.name());
    assert_eq!(err.kind(), s3io::ErrorKind::NotFound, "{err}");
    assert_eq!(err.operation(), Some(s3io::Operation::Scan));
}

pub async fn lazy_parquet_scans_fetch_only_the_columns_asked_for(t: &Target) {
    // Three columns of about the same size; selecting one reads about a third.
    let rows = 400_000;
    let hash = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
    let df = df!(
        "a" => (0..rows).map(|i| hash(i) as i64).collect::<Vec<_>>(),
        "b" => (0..rows).map(|i| hash(i + rows) as i64).collect::<Vec<_>>(),
        "c" => (0..rows).map(|i| hash(i + 2 * rows) as i64).collect::<Vec<_>>(),
    )
    .unwrap();
    let file = crate::support::parquet_file(&df, 100_000);
    let size = file.len() as u64;
    let (bucket, key) = (t.bucket(), "wide.parquet");
    t.s3.upload(bucket, key, Data::Bytes(file.into()))
        .await
        .unwrap();

    let (proxy, s3) = t.through_proxy().await;
    proxy.reset();
    let a = s3.scan_parquet(bucket, key).unwrap().select([col("a")]);
    let a = s3.collect(a).await.unwrap();
    assert!(a.equals(&df.select(["a"]).unwrap()));
    let read = proxy.bytes_sent();
    eprintln!(
        "{}: scan_parquet(..).select([a]) of a {size}-byte object read {read} bytes in {} \
         requests",
        t.name(),
        proxy.seen().len()
    );
    assert!(
        read < size / 2,
        "{read} of {size} bytes read for one column of three"
    );
    // Every request was signed by the connector's credentials, through polars' hook.
    assert!(proxy.seen().iter().all(|s| s.signed()));
}
