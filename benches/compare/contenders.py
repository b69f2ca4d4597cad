"""The Python contenders of the side-by-side comparison: one operation per process.

    python contenders.py CONTENDER OP --key KEY [--file PATH] [--engine ENGINE]

with S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY and S3_WARMUP_KEY (a tiny CSV the
orchestrator uploads) set. The format is the key's extension. Only the operation itself is
timed. Before the clock, and untimed, every contender (like the s3io side, s3io_bench.rs):
imports its libraries, including the xlsx engine the operation will use; builds its client;
and warms it with one tiny GET and one tiny PUT through the same API it is then timed on
(boto3: head_object + get_object + put_object; polars: pl.read_csv / write_csv on s3:// with
the same storage options, which polars caches its object store by; awswrangler:
wr.s3.read_csv / to_csv with the same boto3 session). The input of a `put` is loaded from
the local file untimed. Prints one JSON line:
{"wall_s": ..., "amount": ..., "vm_hwm_kb": peak RSS of the process, "engine": xlsx engine}.

Contenders
  pandas    boto3 + pandas, the code users replace: get_object -> read() -> pd.read_csv /
            pd.read_excel / pd.read_json / pickle.loads; to_csv / to_excel / to_json /
            pickle.dumps into a buffer -> put_object. xlsx with pandas' default engine
            (openpyxl to read, xlsxwriter to write when installed), or --engine.
  polars    polars (Python): reads and writes s3:// directly where it can (CSV); xlsx and
            JSON through boto3 bytes (pl.read_excel with calamine, write_excel with
            xlsxwriter).
  wrangler  awswrangler: wr.s3.read_csv / read_excel / read_json, to_csv / to_excel / to_json
            (xlsx: pandas' default engine, or --engine). It makes a new boto3 client from
            the session inside every call; that part stays in its time (its API takes no
            client), but the session's botocore models are loaded by the warm-up.
  python    the standard library on boto3 bytes: pickle.loads / pickle.dumps, json.loads;
            and get-bytes / put-bytes through boto3's transfer manager (parallel ranged
            GETs, multipart upload), a second measure of what the server can move.

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


# --- pandas (boto3 + pandas) -------------------------------------------------------------


def pandas_decode(ext, body, engine=None):
    import pandas as pd

    if ext == "csv":
        return pd.read_csv(io.BytesIO(body))
    if ext == "xlsx":
        return pd.read_excel(io.BytesIO(body), engine=engine)
    if ext == "json":
        return pd.read_json(io.BytesIO(body), orient="records")
    fail(f"pandas does not read .{ext} here")


def pandas_encode(ext, df, engine=None):
    buf = io.BytesIO()
    if ext == "csv":
        df.to_csv(buf, index=False)
    elif ext == "xlsx":
        df.to_excel(buf, index=False, engine=engine)
    elif ext == "json":
        df.to_json(buf, orient="records")
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
    fail(f"polars does not read .{ext} here")


def polars_encode(ext, df):
    buf = io.BytesIO()
    if ext == "csv":
        df.write_csv(buf)
    elif ext == "xlsx":
        df.write_excel(buf)
    elif ext == "json":
        df.write_json(buf)
    else:
        fail(f"polars does not write .{ext} here")
    return buf.getvalue()


def polars_load(path):
    import polars as pl

    return pl.read_csv(path)


# --- the operations ----------------------------------------------------------------------


def run(contender, op, key, path, engine=None):
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
        if op == "get-bytes":
            # boto3's transfer manager: parallel ranged GETs (8 MiB parts, 10 threads).
            buf = io.BytesIO()
            t = time.perf_counter()
            s3.download_fileobj(bucket, key, buf)
            return time.perf_counter() - t, len(buf.getbuffer())
        if op == "put-bytes":
            # boto3's transfer manager: multipart upload (8 MiB parts, 10 threads).
            body = read_file(path)
            t = time.perf_counter()
            s3.upload_fileobj(io.BytesIO(body), bucket, key)
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
            t = time.perf_counter()
            if ext == "csv":
                df.write_csv(uri, storage_options=options)
                size = 0
            else:
                body = polars_encode(ext, df)
                s3.put_object(Bucket=bucket, Key=key, Body=body)
                size = len(body)
            return time.perf_counter() - t, size

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
            else:
                fail(f"awswrangler does not read .{ext}")
            return time.perf_counter() - t, len(df)
        if op == "put":
            df = pandas_load(path)
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
    args = parser.parse_args()
    wall, amount = run(args.contender, args.op, args.key, args.file, args.engine)
    out = {"wall_s": round(wall, 6), "amount": amount, "vm_hwm_kb": vm_hwm_kb()}
    if "engine" in RESOLVED:
        out["engine"] = RESOLVED["engine"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
