"""The Python contenders of the side-by-side comparison: one operation per process.

    python contenders.py CONTENDER OP --key KEY [--file PATH] [--engine ENGINE]
                         [--concurrency N]

with S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY and S3_WARMUP_KEY (a tiny CSV the
orchestrator uploads) set. The format is the key's extension. Only the operation itself is
timed. Before the clock, and untimed, every contender (like the s3io side, s3io_bench.rs):
imports its libraries, including the xlsx engine the operation will use; builds its client;
and warms it with one tiny GET and one tiny PUT through the same API it is then timed on
(boto3: head_object + get_object + put_object; polars: pl.read_csv / write_csv on s3:// with
the same storage options, which polars caches its object store by; awswrangler:
wr.s3.read_csv / to_csv with the same boto3 session; pyarrow: a tiny read and write through
its S3FileSystem). The input of a `put` or `put-bytes` is loaded from the local file untimed,
and then the peak RSS is reset to the current RSS (after glibc's malloc_trim(0); `5` into
/proc/self/clear_refs, as s3io_bench.rs does), so that a put's peak is the operation's with
its input in memory.
Prints one JSON line:
{"wall_s": ..., "amount": ..., "vm_hwm_kb": peak RSS of the process, "engine": xlsx engine}.

Contenders
  pandas    boto3 + pandas, the code users replace: get_object -> read() -> pd.read_csv /
            pd.read_excel / pd.read_json (lines=True for .ndjson) / pd.read_parquet /
            pd.read_pickle (a pickled DataFrame); to_csv / to_excel / to_json / to_parquet
            into a buffer -> put_object. xlsx with pandas' default engine (openpyxl to read,
            xlsxwriter to write when installed), or --engine.
  polars    polars (Python): reads and writes s3:// directly where it can (CSV, NDJSON
            reads, Parquet: pl.read_parquet / write_parquet with storage_options); xlsx and
            JSON through boto3 bytes (pl.read_excel with calamine, write_excel with
            xlsxwriter).
  pyarrow   pyarrow's Parquet on pyarrow.fs.S3FileSystem (endpoint_override, scheme http):
            pq.read_table / pq.write_table of "bucket/key"; a put's table is read from the
            CSV file with pyarrow.csv, untimed.
  wrangler  awswrangler: wr.s3.read_csv / read_excel / read_json (lines=True for .ndjson),
            to_csv / to_excel / to_json (xlsx: pandas' default engine, or --engine). It
            makes a new boto3 client from the session inside every call; that part stays in
            its time (its API takes no client), but the session's botocore models are
            loaded by the warm-up.
  python    the standard library on boto3 bytes: pickle.loads / pickle.dumps, json.loads;
            and get-bytes / put-bytes through boto3's transfer manager (parallel ranged
            GETs, multipart upload; 8 MiB parts, 10 threads, or --concurrency N threads:
            TransferConfig(max_concurrency=N)), a second measure of what the server can move.

Operations
  get       download and decode
  put       encode and upload (input: the local --file, decoded untimed)
  decode    decode the local --file's bytes, no S3 (timed: decode only)
  get-bytes, put-bytes   (python only) the transfer alone, no decoding
  noop      imports, client and warm-up only: the baseline peak RSS of the contender
"""

import argparse
import io
import json
import os
import pickle
import sys
import time


def fail(message):
    print(f"contenders.py: {message}", file=sys.stderr)
    sys.exit(2)


def ext_of(key):
    return key.rsplit(".", 1)[-1].lower()


def boto3_client():
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=os.environ["S3_ENDPOINT"],
        aws_access_key_id=os.environ["S3_ACCESS_KEY"],
        aws_secret_access_key=os.environ["S3_SECRET_KEY"],
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )


def boto3_session():
    import boto3

    return boto3.Session(
        aws_access_key_id=os.environ["S3_ACCESS_KEY"],
        aws_secret_access_key=os.environ["S3_SECRET_KEY"],
        region_name="us-east-1",
    )


WARM_BODY = b"a,b\n1,2\n"


def warm_boto3(s3, bucket, contender):
    """One tiny request of each kind the timed boto3 calls make, so that botocore's models,
    the operations' handlers and a pooled connection are ready before the clock."""
    key = os.environ["S3_WARMUP_KEY"]
    s3.head_object(Bucket=bucket, Key=key)
    s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=f"warmup/out-{contender}.csv", Body=WARM_BODY)


def xlsx_engine(contender, op, engine):
    """The xlsx engine the operation will use, resolved as the library resolves it."""
    if contender == "polars":
        return "calamine" if op == "get" else "xlsxwriter"
    if engine:
        return engine
    from pandas.io.excel._util import get_default_engine

    return get_default_engine("xlsx", mode="reader" if op in ("get", "decode") else "writer")


def import_engine(engine):
    """Imports the engine's module before the clock (pandas and polars import it lazily,
    inside the call)."""
    import importlib

    importlib.import_module({"calamine": "fastexcel"}.get(engine, engine))


def polars_storage_options():
    return {
        "aws_endpoint_url": os.environ["S3_ENDPOINT"],
        "aws_access_key_id": os.environ["S3_ACCESS_KEY"],
        "aws_secret_access_key": os.environ["S3_SECRET_KEY"],
        "aws_region": "us-east-1",
        "aws_allow_http": "true",
    }


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def reset_peak_rss():
    """Resets VmHWM to the current RSS (Linux 4.0 and later): after a put's untimed input
    load, so that the peak is the operation's. First hands the memory the load freed back to
    the OS (glibc's malloc_trim(0), as s3io_bench.rs does): glibc keeps freed arena pages
    resident otherwise."""
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def pyarrow_fs():
    from pyarrow import fs

    scheme, host = os.environ["S3_ENDPOINT"].split("://", 1)
    return fs.S3FileSystem(
        access_key=os.environ["S3_ACCESS_KEY"],
        secret_key=os.environ["S3_SECRET_KEY"],
        region="us-east-1",
        endpoint_override=host,
        scheme=scheme,
    )


def pyarrow_load(path):
    from pyarrow import csv

    return csv.read_csv(path, parse_options=csv.ParseOptions(newlines_in_values=True))


# --- pandas (boto3 + pandas) -------------------------------------------------------------


def pandas_decode(ext, body, engine=None):
    import pandas as pd

    if ext == "csv":
        return pd.read_csv(io.BytesIO(body))
    if ext == "xlsx":
        return pd.read_excel(io.BytesIO(body), engine=engine)
    if ext == "json":
        return pd.read_json(io.BytesIO(body), orient="records")
    if ext == "ndjson":
        return pd.read_json(io.BytesIO(body), lines=True)
    if ext == "parquet":
        return pd.read_parquet(io.BytesIO(body))
    if ext == "pkl":
        return pd.read_pickle(io.BytesIO(body))
    fail(f"pandas does not read .{ext} here")


def pandas_encode(ext, df, engine=None):
    buf = io.BytesIO()
    if ext == "csv":
        df.to_csv(buf, index=False)
    elif ext == "xlsx":
        df.to_excel(buf, index=False, engine=engine)
    elif ext == "json":
        df.to_json(buf, orient="records")
    elif ext == "parquet":
        df.to_parquet(buf, index=False)
    else:
        fail(f"pandas does not write .{ext} here")
    return buf.getvalue()


def pandas_load(path):
    import pandas as pd

    return pd.read_csv(path)


# --- polars (Python) ---------------------------------------------------------------------


def polars_decode(ext, body):
    import polars as pl

    if ext == "csv":
        return pl.read_csv(io.BytesIO(body))
    if ext == "xlsx":
        return pl.read_excel(io.BytesIO(body), engine="calamine")
    if ext == "json":
        return pl.read_json(io.BytesIO(body))
    if ext == "ndjson":
        return pl.read_ndjson(io.BytesIO(body))
    if ext == "parquet":
        return pl.read_parquet(io.BytesIO(body))
    fail(f"polars does not read .{ext} here")


def polars_encode(ext, df):
    buf = io.BytesIO()
    if ext == "csv":
        df.write_csv(buf)
    elif ext == "xlsx":
        df.write_excel(buf)
    elif ext == "json":
        df.write_json(buf)
    elif ext == "parquet":
        df.write_parquet(buf)
    else:
        fail(f"polars does not write .{ext} here")
    return buf.getvalue()


def polars_load(path):
    import polars as pl

    return pl.read_csv(path)


# --- the operations ----------------------------------------------------------------------


def run(contender, op, key, path, engine=None, concurrency=None):
    """Returns (timed seconds, amount). Everything before `t = time.perf_counter()` is set-up:
    imports, the client, its warm-up, the input of a put."""
    bucket = os.environ["S3_BUCKET"]
    ext = ext_of(key)
    uri = f"s3://{bucket}/{key}"
    warm_uri = f"s3://{bucket}/{os.environ.get('S3_WARMUP_KEY', '')}"
    warm_out_uri = f"s3://{bucket}/warmup/out-{contender}.csv"
    if ext == "xlsx" and contender in ("pandas", "polars", "wrangler"):
        resolved = xlsx_engine(contender, op, engine)
        import_engine(resolved)
        # The engine pandas (and so awswrangler) will pick: passed on only when asked for.
        RESOLVED["engine"] = resolved

    if contender == "pandas":
        import pandas as pd  # noqa: F401  (imported before the clock starts)

        s3 = boto3_client()
        if op != "decode":
            warm_boto3(s3, bucket, contender)
        if op == "noop":
            return 0, 0
        if op == "get":
            t = time.perf_counter()
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            df = pandas_decode(ext, body, engine)
            return time.perf_counter() - t, len(df)
        if op == "decode":
            body = read_file(path)
            t = time.perf_counter()
            df = pandas_decode(ext, body, engine)
            return time.perf_counter() - t, len(df)
        if op == "put":
            df = pandas_load(path)
            reset_peak_rss()
            t = time.perf_counter()
            body = pandas_encode(ext, df, engine)
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            return time.perf_counter() - t, len(body)

    if contender == "python":
        s3 = boto3_client()
        if op != "decode":
            warm_boto3(s3, bucket, contender)
        if op == "noop":
            return 0, 0
        # boto3's transfer manager: 8 MiB parts, 10 threads unless --concurrency says.
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(**({"max_concurrency": concurrency} if concurrency else {}))
        if op == "get-bytes":
            # Parallel ranged GETs.
            buf = io.BytesIO()
            t = time.perf_counter()
            s3.download_fileobj(bucket, key, buf, Config=config)
            return time.perf_counter() - t, len(buf.getbuffer())
        if op == "put-bytes":
            # Multipart upload.
            body = read_file(path)
            reset_peak_rss()
            t = time.perf_counter()
            s3.upload_fileobj(io.BytesIO(body), bucket, key, Config=config)
            return time.perf_counter() - t, len(body)
        loads = {"pkl": pickle.loads, "json": json.loads}.get(ext) or fail(f"no .{ext}")
        if op == "get":
            t = time.perf_counter()
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            value = loads(body)
            return time.perf_counter() - t, len(value)
        if op == "decode":
            body = read_file(path)
            t = time.perf_counter()
            value = loads(body)
            return time.perf_counter() - t, len(value)
        if op == "put" and ext == "pkl":
            value = pickle.loads(read_file(path))
            reset_peak_rss()
            t = time.perf_counter()
            body = pickle.dumps(value)
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            return time.perf_counter() - t, len(body)

    if contender == "polars":
        import polars as pl

        s3 = boto3_client()
        options = polars_storage_options()
        if op != "decode":
            # Both clients polars uses here: boto3 (xlsx, json) and its own object store
            # (csv on s3://), which it caches by URL and options: the timed calls reuse it.
            warm_boto3(s3, bucket, contender)
            pl.read_csv(warm_uri, storage_options=options)
            pl.DataFrame({"a": [1], "b": [2]}).write_csv(warm_out_uri, storage_options=options)
        if op == "noop":
            return 0, 0
        if op == "get":
            t = time.perf_counter()
            if ext == "csv":
                df = pl.read_csv(uri, storage_options=options)
            elif ext == "ndjson":
                df = pl.read_ndjson(uri, storage_options=options)
            elif ext == "parquet":
                df = pl.read_parquet(uri, storage_options=options)
            else:
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                df = polars_decode(ext, body)
            return time.perf_counter() - t, df.height
        if op == "decode":
            body = read_file(path)
            t = time.perf_counter()
            df = polars_decode(ext, body)
            return time.perf_counter() - t, df.height
        if op == "put":
            df = polars_load(path)
            reset_peak_rss()
            t = time.perf_counter()
            if ext == "csv":
                df.write_csv(uri, storage_options=options)
                size = 0
            elif ext == "parquet":
                df.write_parquet(uri, storage_options=options)
                size = 0
            else:
                body = polars_encode(ext, df)
                s3.put_object(Bucket=bucket, Key=key, Body=body)
                size = len(body)
            return time.perf_counter() - t, size

    if contender == "pyarrow":
        import pyarrow as pa
        import pyarrow.parquet as pq

        if ext != "parquet" and op != "noop":
            fail(f"pyarrow is a contender for .parquet only, not .{ext}")
        s3fs = pyarrow_fs()
        if op != "decode":
            # One tiny read and write through the same file system (its client, a pooled
            # connection) before the clock.
            with s3fs.open_input_stream(f"{bucket}/{os.environ['S3_WARMUP_KEY']}") as f:
                f.read()
            with s3fs.open_output_stream(f"{bucket}/warmup/out-{contender}.csv") as f:
                f.write(WARM_BODY)
        if op == "noop":
            return 0, 0
        if op == "get":
            t = time.perf_counter()
            table = pq.read_table(f"{bucket}/{key}", filesystem=s3fs)
            return time.perf_counter() - t, table.num_rows
        if op == "decode":
            body = read_file(path)
            t = time.perf_counter()
            table = pq.read_table(pa.BufferReader(body))
            return time.perf_counter() - t, table.num_rows
        if op == "put":
            table = pyarrow_load(path)
            reset_peak_rss()
            t = time.perf_counter()
            pq.write_table(table, f"{bucket}/{key}", filesystem=s3fs)
            return time.perf_counter() - t, table.num_rows

    if contender == "wrangler":
        import awswrangler as wr

        import pandas as pd

        wr.config.s3_endpoint_url = os.environ["S3_ENDPOINT"]
        session = boto3_session()
        # awswrangler takes a session, not a client, and makes the client from it inside
        # each call; one warm call of each kind loads the session's models before the clock.
        wr.s3.read_csv(warm_uri, boto3_session=session)
        wr.s3.to_csv(pd.DataFrame({"a": [1], "b": [2]}), warm_out_uri, index=False,
                     boto3_session=session)  # fmt: skip
        kw = {"engine": engine} if engine else {}
        if op == "noop":
            return 0, 0
        if op == "get":
            t = time.perf_counter()
            if ext == "csv":
                df = wr.s3.read_csv(uri, boto3_session=session)
            elif ext == "xlsx":
                df = wr.s3.read_excel(uri, boto3_session=session, **kw)
            elif ext == "json":
                df = wr.s3.read_json(uri, boto3_session=session, orient="records")
            elif ext == "ndjson":
                df = wr.s3.read_json(uri, boto3_session=session, lines=True)
            else:
                fail(f"awswrangler does not read .{ext}")
            return time.perf_counter() - t, len(df)
        if op == "put":
            df = pandas_load(path)
            reset_peak_rss()
            t = time.perf_counter()
            if ext == "csv":
                wr.s3.to_csv(df, uri, index=False, boto3_session=session)
            elif ext == "xlsx":
                wr.s3.to_excel(df, uri, index=False, boto3_session=session, **kw)
            elif ext == "json":
                wr.s3.to_json(df, uri, orient="records", boto3_session=session)
            else:
                fail(f"awswrangler does not write .{ext}")
            return time.perf_counter() - t, len(df)

    fail(f"{contender} cannot {op} .{ext}")


RESOLVED = {}


def vm_hwm_kb():
    """This process's peak resident set, from /proc/self/status (unlike ru_maxrss it does not
    carry over what the parent held before exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("contender")
    parser.add_argument("op")
    parser.add_argument("--key", required=True)
    parser.add_argument("--file")
    parser.add_argument("--engine", help="xlsx engine for pandas / awswrangler (default: theirs)")
    parser.add_argument(
        "--concurrency", type=int, help="python get-bytes / put-bytes: boto3's max_concurrency"
    )
    args = parser.parse_args()
    wall, amount = run(
        args.contender, args.op, args.key, args.file, args.engine, args.concurrency
    )
    out = {"wall_s": round(wall, 6), "amount": amount, "vm_hwm_kb": vm_hwm_kb()}
    if "engine" in RESOLVED:
        out["engine"] = RESOLVED["engine"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
