"""The polars-python side of the lazy group_by benchmark: the same query as
examples/lazy_group_by.rs, through polars' own S3 scan, on its streaming engine.

    python polars_side.py ENDPOINT BUCKET GLOB [GROUP SUM]   # keys: S3_ACCESS_KEY, S3_SECRET_KEY

Prints the same line as the example: shape, total of the sums, seconds of scan + collect.
"""

import os
import sys
import time

import polars as pl


def main():
    endpoint, bucket, glob = sys.argv[1:4]
    group, total_of = (sys.argv[4:6] + ["customer", "amount"][len(sys.argv[4:6]) :])[:2]
    options = {
        "aws_endpoint_url": endpoint,
        "aws_access_key_id": os.environ["S3_ACCESS_KEY"],
        "aws_secret_access_key": os.environ["S3_SECRET_KEY"],
        "aws_region": os.environ.get("S3_REGION", "us-east-1"),
        "aws_allow_http": "true",
    }
    start = time.perf_counter()
    result = (
        pl.scan_parquet(f"s3://{bucket}/{glob}", storage_options=options)
        .group_by(group)
        .agg(pl.col(total_of).sum())
        .collect(engine="streaming")
    )
    seconds = time.perf_counter() - start
    total = result[total_of].sum()
    rows, cols = result.shape
    print(f"shape=({rows}, {cols}) total={total:.6f} seconds={seconds:.3f}")


if __name__ == "__main__":
    main()
