"""Writes the dataset of the lazy group_by benchmark straight into the folder s3s-fs serves
(a subfolder is a bucket), once: 20 Parquet files of about 100 MB (2 GB in all), polars'
default compression (zstd) and row groups, a fixed seed.

    python gen_data.py ROOT        # ROOT/lazy/groupby/part-NN.parquet and ROOT/lazy/tiny/part-00.parquet

Beside each file goes the sidecar s3s-fs writes on a PUT (its ETag, the file's MD5): without
it, s3s-fs 0.14.1 hashes the whole file again on every GET and HEAD, ranged ones included,
which would time the server rather than the readers.
"""

import base64
import hashlib
import json
import os
import sys

BUCKET = "lazy"
PREFIX = "groupby"  # the 2 GB dataset: groupby/part-NN.parquet
TINY = "tiny/part-00.parquet"  # same columns, TINY_ROWS rows: the baseline's query
# 2.7 MB: s3s-fs 0.14.1 answers 500 to a suffix range longer than the object (it seeks before
# the start), and polars reads a Parquet footer with one.
TINY_ROWS = 100_000
FILES = 20
ROWS_PER_FILE = 3_700_000  # about 27 bytes a row once compressed: ~100 MB a file
KEYS = 1000  # distinct values of the group_by column
SEED = 15
VERSION = "1"  # bump when anything above changes, so the cached files are remade


def frame(rows, seed):
    """A sales-like frame: a string key with KEYS distinct values, three floats, three ints."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng([SEED, seed])
    names = pl.Series("customer", [f"customer-{i:04d}" for i in range(KEYS)])
    return pl.DataFrame(
        {
            "customer": names.gather(rng.integers(0, KEYS, rows)),
            "amount": rng.normal(100.0, 40.0, rows),
            "price": rng.uniform(0.0, 500.0, rows),
            "discount": rng.uniform(0.0, 1.0, rows).astype(np.float32),
            "quantity": rng.integers(1, 100, rows, dtype=np.int32),
            "order_id": np.arange(seed * rows, (seed + 1) * rows, dtype=np.int64),
            "ts_ms": rng.integers(1_700_000_000_000, 1_735_000_000_000, rows),
        }
    )


def sidecar(root, key, path):
    """The internal-info file s3s-fs keeps for an object it received, with the ETag."""
    b64 = lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")  # noqa: E731
    md5 = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            md5.update(chunk)
    name = f".bucket-{b64(BUCKET)}.object-{b64(key)}.internal.json"
    with open(os.path.join(root, name), "w") as f:
        json.dump({"e_tag": md5.hexdigest()}, f)


def write(root, key, rows, seed):
    path = os.path.join(root, BUCKET, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    frame(rows, seed).write_parquet(path + ".tmp")
    os.replace(path + ".tmp", path)
    sidecar(root, key, path)
    return os.path.getsize(path)


def keys():
    return [f"{PREFIX}/part-{i:02d}.parquet" for i in range(FILES)]


def generate(root):
    """Makes the files unless ROOT/VERSION says they are there; returns the dataset's bytes."""
    stamp = os.path.join(root, "VERSION")
    if not (os.path.exists(stamp) and open(stamp).read() == VERSION):
        os.makedirs(root, exist_ok=True)
        if os.path.exists(stamp):
            os.remove(stamp)
        for i, key in enumerate(keys()):
            size = write(root, key, ROWS_PER_FILE, i)
            print(f"   {key}: {size / 1e6:.1f} MB", flush=True)
        write(root, TINY, TINY_ROWS, FILES)
        with open(stamp, "w") as f:
            f.write(VERSION)
    return sum(os.path.getsize(os.path.join(root, BUCKET, k)) for k in keys())


if __name__ == "__main__":
    total = generate(sys.argv[1])
    rows = FILES * ROWS_PER_FILE
    print(f"dataset: {FILES} files, {rows:,} rows, {total:,} bytes ({total / 1e9:.2f} GB)")
