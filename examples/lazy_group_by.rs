//! A lazy `group_by` over Parquet objects on S3, on polars' streaming engine: the s3io side
//! of `benches/lazy/run.sh` (issue #15), usable on its own against any S3 endpoint.
//!
//! ```sh
//! cargo run --release --features lazy --example lazy_group_by -- \
//!     http://127.0.0.1:9000 lazy 'groupby/*.parquet'
//! ```
//!
//! Arguments: endpoint, bucket, key or glob, group column, sum column; each falls back to
//! `S3_ENDPOINT`, `S3_BUCKET`, `S3_GLOB`, `S3_GROUP_BY`, `S3_SUM` and then to the benchmark's
//! values. Keys: `S3_ACCESS_KEY` and `S3_SECRET_KEY` (else `AWS_ACCESS_KEY_ID` and
//! `AWS_SECRET_ACCESS_KEY`); region `S3_REGION` (else `us-east-1`). Prints the result's
//! shape, the total of the sums (to check it against another reader) and the seconds taken
//! by the scan and the collect.

use std::time::Instant;

use s3io::blocking::S3Connector;
use s3io::polars::prelude::*;

/// Argument `index`, else the environment variable `var`, else `default`.
fn setting(index: usize, var: &str, default: &str) -> String {
    std::env::args()
        .nth(index)
        .or_else(|| std::env::var(var).ok())
        .unwrap_or_else(|| default.to_owned())
}

/// The first of the environment variables `vars` that is set.
fn secret(vars: &[&str]) -> String {
    vars.iter()
        .find_map(|var| std::env::var(var).ok())
        .unwrap_or_else(|| panic!("set {}", vars.join(" or ")))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = setting(1, "S3_ENDPOINT", "http://127.0.0.1:9000");
    let bucket = setting(2, "S3_BUCKET", "lazy");
    let glob = setting(3, "S3_GLOB", "groupby/*.parquet");
    let group = setting(4, "S3_GROUP_BY", "customer");
    let sum = setting(5, "S3_SUM", "amount");

    let s3 = S3Connector::builder()
        .endpoint_url(endpoint)
        .credentials(
            secret(&["S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID"]),
            secret(&["S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"]),
        )
        .region(std::env::var("S3_REGION").unwrap_or_else(|_| "us-east-1".to_owned()))
        .build()?;

    let start = Instant::now();
    let query = s3
        .scan_parquet(&bucket, &glob)?
        .group_by([col(group.as_str())])
        .agg([col(sum.as_str()).sum()]);
    let result = s3.collect(query)?;
    let seconds = start.elapsed().as_secs_f64();

    let total = result.column(&sum)?.f64()?.sum().unwrap_or(0.0);
    let (rows, cols) = result.shape();
    println!("shape=({rows}, {cols}) total={total:.6} seconds={seconds:.3}");
    Ok(())
}
