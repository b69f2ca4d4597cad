//! A tour of s3io with no AWS account: an S3 server on loopback, a bucket, every format
//! uploaded and downloaded back.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! To try the same against real S3, MinIO or Garage, replace `server.connect()` with
//! `S3Connector::from_env()` and set the usual AWS variables.

use futures_util::TryStreamExt;
use polars::prelude::*;
use s3io::S3Connector;
use s3io::local::LocalS3;
use serde_json::json;

#[tokio::main]
async fn main() -> s3io::Result<()> {
    let server = LocalS3::start()?;
    println!(
        "S3 server listening on {} (data in {})",
        server.endpoint_url(),
        server.root().display()
    );
    let s3: S3Connector = server.connect().await?;

    let bucket = "quickstart";
    s3.create_bucket(bucket).await?;

    let sales = df!(
        "region" => ["North", "South", "East, \"coastal\""],
        "units" => [120i64, 85, 42],
        "price" => [9.99, 12.5, 7.25],
        "promo" => [true, false, true],
    )
    .expect("a valid frame");

    // One frame in every table format (and one compressed); one value, two formats; text.
    for key in [
        "sales/2024.csv",
        "sales/2024.tsv",
        "sales/2024.jsonl",
        "sales/2024.parquet",
        "sales/2024.arrow",
        "sales/2024.xlsx",
        "sales/2024.json",
        "sales/2024.pkl",
        "sales/2024.csv.gz",
    ] {
        s3.upload(bucket, key, &sales).await?;
    }
    let config = json!({"model": "baseline", "threshold": 0.75, "features": ["units", "price"]});
    s3.upload(bucket, "config/run.json", &config).await?;
    s3.upload(bucket, "config/run.pkl", &config).await?;
    s3.upload(
        bucket,
        "notes/README.txt",
        "Sales figures for 2024.\nUnits are boxes.",
    )
    .await?;

    println!("\nbuckets:");
    for b in s3.list_buckets().await? {
        println!("  {}", b.name);
    }

    println!("\nobjects in s3://{bucket}:");
    let objects: Vec<s3io::ObjectInfo> = s3.list_objects(bucket, "").try_collect().await?;
    for o in &objects {
        println!("  {:>6} B  {}", o.size, o.key);
    }

    for o in &objects {
        let data = s3.download(bucket, &o.key).await?;
        println!("\ns3://{bucket}/{} -> {}", o.key, data.kind_name());
        println!("{data}");
    }

    // A frame from any of the table formats, ready for polars.
    let df = s3.download_frame(bucket, "sales/2024.xlsx").await?;
    let promo = df
        .filter(
            &df.column("promo")
                .expect("promo column")
                .bool()
                .expect("bools")
                .clone(),
        )
        .expect("filter");
    println!("\npromo rows from the xlsx:\n{promo}");

    // Errors name the operation, the object and the cause.
    let err = s3.download(bucket, "sales/2025.csv").await.unwrap_err();
    println!("\na missing key gives: {err}");
    Ok(())
}
