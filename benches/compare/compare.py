"""Side-by-side: s3io against boto3 + pandas, polars (Python) and awswrangler, on one local
S3 server, with the limits (a bare GET/PUT of the same bytes, and the in-memory codec alone).

Run through run.sh, which builds everything this needs; by hand:

    python compare.py --rust-bin PATH [--s3s-fs PATH] [--quick] [--with-1g] [--reps N]
                      [--no-scaling] [--out FILE] [--plots DIR]

Every measurement is its own process (peak RSS per operation: VmHWM). Within a
repetition the cases run in order and each case's contenders round-robin, starting one later
in every repetition; the table shows medians. The concurrency sweep (parts in flight 1, 2, 4,
8, 16 for the 100 MB CSV; 10 MB with --quick) is cases of the same loop, after the others.

Writes the results markdown (--out; default benches/compare/results.md, with --quick
target/compare-quick/results.md): the table, the targets of issue 14, the earlier targets
and the scaling tables; and the scaling plots, scaling-size.png and scaling-concurrency.png
(--plots; default benches/, with --quick, --out or --only beside the results markdown).

Every contender builds its client and warms it (one tiny GET and PUT of WARMUP_KEY through
the API it is then timed on) before its clock starts: s3io_bench.rs and contenders.py.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUCKET = "bench"
ACCESS_KEY = "bench-access-key"
SECRET_KEY = "bench-secret-key-0123456789"
DATA_VERSION = "1"  # bump when the generator changes, so cached objects are remade
WARMUP_KEY = "warmup/tiny.csv"  # the object every contender's warm-up GETs, untimed


def log(msg):
    print(msg, flush=True)


# --- data ---------------------------------------------------------------------------------

WORDS = [
    "delivered", "late", "refund", 'said "thanks"', "box, damaged", "ok", "call back",
    "naïve", "line one\nline two", "10% off",
]  # fmt: skip
CITIES = ["Berlin", "São Paulo", "New York, NY", "Zürich", "東京", "Lagos", "O'Fallon",
          'Paris "Centre"']  # fmt: skip
FIRST = ["Ana", "Bo", "Chen", "Dara", "Émile", "Femi"]
LAST = ["Smith", "O'Neil", "Ng", "Müller", "Okafor", '"Jr"']


def make_frame(rows, seed):
    """Ten columns of mixed types: ints, floats and ints with nulls, bools with nulls, dates,
    date-times, strings with quotes, commas, newlines and non-ASCII, empty strings as nulls."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)

    def pick(values, n):
        return pl.Series(values).gather(rng.integers(0, len(values), n))

    comments = pick(WORDS, rows)
    more = rng.random(rows) < 0.4
    comments = pl.Series(
        np.where(more, (comments + " " + pick(WORDS, rows)).to_numpy(), comments.to_numpy())
    )
    frame = pl.DataFrame(
        {
            "id": np.arange(1_000_000, 1_000_000 + rows, dtype=np.int64),
            "customer": pick(FIRST, rows) + " " + pick(LAST, rows),
            "city": pick(CITIES, rows),
            "amount": np.round(rng.random(rows) * 1000.0, 2),
            "qty": rng.integers(0, 500, rows),
            "paid": rng.random(rows) < 0.7,
            "day": (np.datetime64("2015-01-01") + rng.integers(0, 3650, rows)).astype(
                "datetime64[D]"
            ),
            "at": (
                np.datetime64("2020-01-01T00:00:00", "ms")
                + rng.integers(0, 157_680_000_000, rows)
            ).astype("datetime64[ms]"),
            "comment": comments,
            "code": "SKU-" + pl.Series(rng.integers(0, 100_000, rows)).cast(pl.String).str.zfill(5),
        }
    )
    nulls = lambda p: pl.Series(rng.random(rows) < p)  # noqa: E731
    return frame.with_columns(
        pl.when(nulls(0.05)).then(None).otherwise(pl.col("amount")).alias("amount"),
        pl.when(nulls(0.03)).then(None).otherwise(pl.col("qty")).alias("qty"),
        pl.when(nulls(0.02)).then(None).otherwise(pl.col("paid")).alias("paid"),
        pl.when(nulls(0.2)).then(None).otherwise(pl.col("comment")).alias("comment"),
    )


def write_csv_of_size(path, target_bytes, seed):
    """Appends chunks of rows until the file reaches `target_bytes`."""
    rows_per_chunk = 200_000
    with open(path + ".tmp", "wb") as f:
        chunk = 0
        while f.tell() < target_bytes:
            df = make_frame(rows_per_chunk, seed + chunk)
            if chunk == 0:
                # The first chunk measures the row size, so the file lands near the target.
                sample = df.write_csv().encode()
                per_row = len(sample) / rows_per_chunk
                rows_left = int(target_bytes / per_row)
                df = df.head(min(rows_left, rows_per_chunk))
            else:
                rows_left = int((target_bytes - f.tell()) / per_row) + 1
                df = df.head(min(rows_left, rows_per_chunk))
            df = df.with_columns(
                __import__("polars").col("id") + chunk * rows_per_chunk
            )
            df.write_csv(f, include_header=(chunk == 0))
            chunk += 1
    os.replace(path + ".tmp", path)


def make_pandas_frame(n, seed=1):
    """The DataFrame of frame1m.pkl (n = 1M): 4 int64, 4 float64, 2 datetime64[ns] and 2 text
    columns. pickle_inputs.py writes it too."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            **{f"i{k}": rng.integers(-(10**9), 10**9, n) for k in range(4)},
            **{f"f{k}": rng.random(n) * 1000 for k in range(4)},
            "t0": pd.to_datetime(rng.integers(0, 2 * 10**18, n)),
            "t1": pd.to_datetime(rng.integers(0, 2 * 10**18, n)),
            "s0": [f"customer {i % 97} {i}" for i in range(n)],
            "s1": [f"product-{i % 1013}-{i * 7}" for i in range(n)],
        }
    )


def make_dict(n, seed):
    """A dict of `n` small records of builtins: the shape of a cache a program pickles."""
    import random

    rnd = random.Random(seed)
    return {
        f"user:{i:07}": {
            "id": i,
            "name": f"user {rnd.randrange(1_000_000)} {rnd.choice(WORDS)}",
            "score": rnd.random() * 100.0,
            "active": rnd.random() < 0.5,
            "tags": [f"t{rnd.randrange(50)}" for _ in range(rnd.randrange(4))],
            "parent": None if rnd.random() < 0.3 else rnd.randrange(n),
            "ratio": rnd.random(),
        }
        for i in range(n)
    }


def write_parquet_of_csv(csv_path, path):
    """The CSV's table as Parquet, read and written by pyarrow (its defaults: snappy)."""
    import pyarrow.parquet as pq
    from pyarrow import csv

    table = csv.read_csv(csv_path, parse_options=csv.ParseOptions(newlines_in_values=True))
    pq.write_table(table, path + ".tmp")
    os.replace(path + ".tmp", path)


def generate(data_dir, with_1g, quick):
    """Writes every object the run needs into data_dir (cached across runs): new objects are
    made when missing, the ones there are kept. Returns the objects' names:
    {csvs, tname, pname, parquet, parquet_source, frame_pkl}."""
    import polars as pl

    os.makedirs(data_dir, exist_ok=True)
    stamp = os.path.join(data_dir, "VERSION")
    if not os.path.exists(stamp) or open(stamp).read() != DATA_VERSION:
        for name in os.listdir(data_dir):
            os.remove(os.path.join(data_dir, name))
        with open(stamp, "w") as f:
            f.write(DATA_VERSION)

    def need(name):
        path = os.path.join(data_dir, name)
        if os.path.exists(path):
            return None
        log(f"  generating {name}")
        return path

    sizes = {"csv10.csv": 10_000_000}
    if not quick:
        sizes["csv100.csv"] = 100_000_000
    if with_1g:
        sizes["csv1g.csv"] = 1_000_000_000
    for i, (name, size) in enumerate(sizes.items()):
        if path := need(name):
            write_csv_of_size(path, size, seed=100 + i)

    table_rows = 10_000 if quick else 100_000
    tname = f"table{table_rows // 1000}k"
    if need(f"{tname}.csv") or need(f"{tname}.xlsx") or need(f"{tname}.json"):
        df = make_frame(table_rows, seed=7)
        df.write_csv(os.path.join(data_dir, f"{tname}.csv"))
        # An xlsx as a Python user would have it: real date cells, written by xlsxwriter.
        df.write_excel(os.path.join(data_dir, f"{tname}.xlsx"), autofit=False)
        # JSON records as pandas/json write them: dates as ISO text.
        records = df.with_columns(pl.col("day").cast(pl.String), pl.col("at").cast(pl.String))
        with open(os.path.join(data_dir, f"{tname}.json"), "w") as f:
            json.dump(records.to_dicts(), f, ensure_ascii=False)
    if path := need(f"{tname}.ndjson"):
        # The same records as {tname}.json (the same frame: seed 7), one per line.
        df = make_frame(table_rows, seed=7)
        records = df.with_columns(pl.col("day").cast(pl.String), pl.col("at").cast(pl.String))
        with open(path + ".tmp", "w") as f:
            for record in records.iter_rows(named=True):
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        os.replace(path + ".tmp", path)

    # Parquet: the table of the 100 MB CSV (10 MB with --quick), written by pyarrow.
    parquet_source = "csv10.csv" if quick else "csv100.csv"
    parquet = parquet_source.replace(".csv", ".parquet")
    if path := need(parquet):
        write_parquet_of_csv(os.path.join(data_dir, parquet_source), path)

    # A pickled pandas DataFrame: pickle_inputs.py's frame1m.pkl (100k rows with --quick).
    frame_pkl = "frame100k.pkl" if quick else "frame1m.pkl"
    if path := need(frame_pkl):
        make_pandas_frame(100_000 if quick else 1_000_000).to_pickle(path + ".tmp")
        os.replace(path + ".tmp", path)

    keys = 50_000 if quick else 500_000
    pname = f"dict{keys // 1000}k.pkl"
    if path := need(pname):
        import pickle

        with open(path + ".tmp", "wb") as f:
            pickle.dump(make_dict(keys, seed=11), f)  # default protocol
        os.replace(path + ".tmp", path)
    return {
        "csvs": sorted(sizes),
        "tname": tname,
        "pname": pname,
        "parquet": parquet,
        "parquet_source": parquet_source,
        "frame_pkl": frame_pkl,
    }


# --- server -------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the S3 server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit("the S3 server did not start listening")


def start_server(args, root):
    """Starts the one S3 server every contender talks to; returns (process, env, name)."""
    os.makedirs(root, exist_ok=True)
    if args.server == "s3s-fs":
        port = free_port()
        proc = subprocess.Popen(
            [
                args.s3s_fs, "--host", "127.0.0.1", "--port", str(port),
                "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY, root,
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(os.path.dirname(root), "server.log"), "w"),
        )  # fmt: skip
        wait_for_port(port, proc)
        endpoint, key, secret = f"http://127.0.0.1:{port}", ACCESS_KEY, SECRET_KEY
        name = f"s3s-fs 0.14.1 binary ({args.s3s_fs})"
    else:
        proc = subprocess.Popen(
            [args.rust_bin, "serve", "--root", root],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        endpoint, key, secret = proc.stdout.readline().split()
        name = "s3s-fs 0.14.1 embedded (s3io::local::LocalS3 in the compare binary)"
    env = dict(os.environ)
    env.update(
        S3_ENDPOINT=endpoint, S3_BUCKET=BUCKET, S3_ACCESS_KEY=key, S3_SECRET_KEY=secret,
        S3_WARMUP_KEY=WARMUP_KEY, AWS_EC2_METADATA_DISABLED="true",
    )  # fmt: skip
    # Nothing from the user's AWS configuration leaks in.
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        env.pop(var, None)
    return proc, env, name


def stop_server(proc):
    if proc.poll() is None:
        if proc.stdin:
            proc.stdin.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- measurements -------------------------------------------------------------------------


def measure(argv, env, timeout):
    """Runs one measurement process; returns (its JSON line: wall_s, vm_hwm_kb (peak RSS in
    KiB), and where the process has them engine (xlsx) and frame_bytes, None) or (None, why).

    Both come from the process itself: wall time around the operation, peak RSS as VmHWM from
    /proc/self/status. (wait4's ru_maxrss would count the orchestrator's memory too, which a
    forked child holds until it execs.)"""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + timeout
    while True:
        pid, status, _usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.time() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            return None, "timeout"
        time.sleep(0.02)
    out = proc.stdout.read().decode()
    err = proc.stderr.read().decode()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        return None, (err.strip().splitlines() or [f"exit {code}"])[-1][:200]
    return json.loads(out.strip().splitlines()[-1]), None


BASELINE = "baseline: start, imports, client, warm-up (no operation)"
SWEEP_PARTS = (1, 2, 4, 8, 16)
SWEEP_ROWS = ("s3io get", "s3io get-bytes", "s3io put-bytes", "boto3 get-bytes",
              "boto3 put-bytes")  # fmt: skip


def sweep_label(key, n):
    return f"scaling: {key}, {n} parts in flight"


def plan(args, data_dir, o):
    """The cases: (case, size in bytes, [(contender, argv), ...])."""
    csvs, tname, pname = o["csvs"], o["tname"], o["pname"]
    rust = args.rust_bin
    py = [sys.executable, os.path.join(HERE, "contenders.py")]
    f = lambda name: os.path.join(data_dir, name)  # noqa: E731
    cases = []

    def read_case(label, key, frame=True, contenders=("pandas", "polars", "wrangler")):
        fr = ["--frame"] if frame else []
        rows = [("s3io", [rust, "get", "--key", key] + fr)]
        rows += [(c, py + [c, "get", "--key", key]) for c in contenders]
        rows += [
            ("limit: bare GET", [rust, "get-bytes", "--key", key]),
            ("limit: decode only", [rust, "decode", "--key", key, "--file", f(key)] + fr),
        ]
        if key.endswith(".csv"):
            rows.append(("limit: boto3 parallel GET", py + ["python", "get-bytes", "--key", key]))
        cases.append((label, os.path.getsize(f(key)), rows))

    def write_case(label, key, source, contenders=("pandas", "polars", "wrangler"), extra=()):
        out = f"out/{key}"
        rows = [("s3io", [rust, "put", "--key", out, "--file", f(source)])]
        rows += [
            (c, py + [c, "put", "--key", f"out/{c}/{key}", "--file", f(source)])
            for c in contenders
        ]
        rows += [
            (name, py + [c, "put", "--key", f"out/{name}/{key}", "--file", f(source)] + more)
            for name, c, more in extra
        ]
        rows += [
            ("limit: bare PUT", [rust, "put-bytes", "--key", f"out/bare/{key}", "--file", f(key)]),
            ("limit: encode only", [rust, "encode", "--key", out, "--file", f(source)]),
        ]  # fmt: skip
        if key.endswith(".csv"):
            # polars sends upload bodies unsigned even over this plain-HTTP server; s3io and
            # boto3 sign them there by default (PayloadSigning::Auto). The same setting as a
            # row beside the default, which stays the one the targets use.
            rows.append(
                ("s3io, unsigned body (as polars)",
                 [rust, "put", "--key", f"out/unsigned/{key}", "--file", f(source),
                  "--unsigned-payload"])
            )  # fmt: skip
            rows.append(
                ("limit: boto3 multipart PUT",
                 py + ["python", "put-bytes", "--key", f"out/boto3/{key}", "--file", f(key)])
            )  # fmt: skip
        cases.append((label, os.path.getsize(f(key)), rows))

    for key in csvs:
        read_case(f"{key} download+decode", key)
        write_case(f"{key} encode+upload", key, key)
    read_case(f"{tname}.xlsx download+decode", f"{tname}.xlsx")
    # pandas' default xlsx writer is xlsxwriter (installed here); openpyxl as a second row.
    write_case(
        f"{tname}.xlsx encode+upload", f"{tname}.xlsx", f"{tname}.csv",
        extra=[("pandas+openpyxl", "pandas", ["--engine", "openpyxl"])],
    )  # fmt: skip
    read_case(f"{tname}.json records download+decode to a frame", f"{tname}.json")
    write_case(f"{tname}.json records encode+upload", f"{tname}.json", f"{tname}.csv")
    read_case(f"{tname}.ndjson records download+decode to a frame", f"{tname}.ndjson")
    read_case(
        f"{tname}.json download+decode to a value", f"{tname}.json", frame=False,
        contenders=("python",),
    )  # fmt: skip
    parquet = o["parquet"]
    read_case(f"{parquet} download+decode", parquet, contenders=("pandas", "polars", "pyarrow"))
    write_case(
        f"{parquet} encode+upload", parquet, o["parquet_source"],
        contenders=("pandas", "polars", "pyarrow"),
    )  # fmt: skip
    read_case(f"{pname} download+decode", pname, frame=False, contenders=("python",))
    write_case(f"{pname} encode+upload", pname, pname, contenders=("python",))
    # In-memory decode of the pickle alone: the "at least as fast as pickle.loads" target.
    cases.append(
        (
            f"{pname} decode only (in memory)",
            os.path.getsize(f(pname)),
            [
                ("s3io", [rust, "decode", "--key", pname, "--file", f(pname)]),
                ("python", py + ["python", "decode", "--key", pname, "--file", f(pname)]),
            ],
        )
    )
    # A pickled pandas DataFrame, against pd.read_pickle.
    read_case(f"{o['frame_pkl']} (pandas DataFrame) download+decode", o["frame_pkl"],
              contenders=("pandas",))  # fmt: skip
    return cases


def baseline_case(args):
    py = [sys.executable, os.path.join(HERE, "contenders.py")]
    return (
        BASELINE,
        0,
        [("s3io", [args.rust_bin, "noop", "--key", "x"])]
        + [(c, py + [c, "noop", "--key", "x"])
           for c in ("pandas", "polars", "wrangler", "pyarrow")],
    )  # fmt: skip


def sweep_cases(args, data_dir, key):
    """The concurrency sweep over `key`: one case per number of parts in flight, each with
    s3io's download+decode, bare GET and bare PUT (--concurrency N) and boto3's transfer
    manager (TransferConfig(max_concurrency=N))."""
    rust = args.rust_bin
    py = [sys.executable, os.path.join(HERE, "contenders.py")]
    path = os.path.join(data_dir, key)
    cases = []
    for n in SWEEP_PARTS:
        c = ["--concurrency", str(n)]
        argvs = (
            [rust, "get", "--key", key, "--frame"] + c,
            [rust, "get-bytes", "--key", key] + c,
            [rust, "put-bytes", "--key", f"out/scaling/{n}/{key}", "--file", path] + c,
            py + ["python", "get-bytes", "--key", key] + c,
            py + ["python", "put-bytes", "--key", f"out/scaling-boto3/{n}/{key}",
                  "--file", path] + c,
        )  # fmt: skip
        cases.append((sweep_label(key, n), os.path.getsize(path), list(zip(SWEEP_ROWS, argvs))))
    return cases


def upload_objects(env, data_dir, names):
    import boto3
    from botocore.config import Config

    s3 = boto3.client(
        "s3", endpoint_url=env["S3_ENDPOINT"], aws_access_key_id=env["S3_ACCESS_KEY"],
        aws_secret_access_key=env["S3_SECRET_KEY"], region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )  # fmt: skip
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=WARMUP_KEY, Body=b"a,b\n1,2\n")
    for name in names:
        s3.upload_file(os.path.join(data_dir, name), BUCKET, name)


# --- report -------------------------------------------------------------------------------


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "free": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load": open("/proc/loadavg").read().split()[:3],
    }


def fmt_s(s):
    return f"{s:.3f}" if s < 10 else f"{s:.1f}"


def summarize(cases, results):
    """(case, contender) -> {t: median wall s, rss_mib: the largest peak RSS of the reps,
    size: the object's bytes, frame: the frame's estimated_size() where the process gave it},
    for every row that has a measurement."""
    summary = {}
    for label, size, rows in cases:
        for contender, _ in rows:
            r = results.get((label, contender))
            if r and r["t"]:
                summary[(label, contender)] = {
                    "t": statistics.median(r["t"]),
                    "rss_mib": max(r["rss"]) / 1024,
                    "size": size,
                    "frame": r["frame"][-1] if r["frame"] else None,
                    "views": r["views"][-1] if r.get("views") else None,
                }
    return summary


def report(cases, results, errors, meta, engines):
    lines = []
    lines.append(f"Date: {meta['date']}  ")
    lines.append(f"Command: `{meta['command']}`  ")
    lines.append(f"Server: {meta['server']}  ")
    m = meta["machine"]
    lines.append(
        f"Machine: {m['nproc']} cores ({m['cpu']}), kernel {m['kernel']}, Python "
        f"{m['python']}, load average at start {' '.join(m['load'])}  "
    )
    lines.append(f"Memory (`free -g`): {m['free'].splitlines()[1].split()[1]} GiB total  ")
    lines.append(f"Repetitions: {meta['reps']} (median shown; 1 GB: {meta['reps_1g']})  ")
    lines.append(
        "Timing: every contender's client is built and warmed (one tiny GET and PUT through "
        "the API it is timed on) before its clock starts; see benches/README.md  "
    )
    lines.append(
        "Peak RSS: each process's VmHWM; a put, put-bytes or encode loads its input from the "
        "local file first, hands freed memory back (glibc malloc_trim) and then resets the peak "
        "to the current RSS (/proc/self/clear_refs),"
        " so its peak is the operation's with the input in memory"
    )
    lines.append("")
    lines.append(
        "| case | contender | wall s (median) | MB/s | peak RSS MiB | time ÷ s3io's |"
    )
    lines.append("|---|---|---:|---:|---:|---:|")
    summary = summarize(cases, results)
    for label, size, rows in cases:
        s3io = summary.get((label, "s3io"))
        s3io_t = s3io["t"] if s3io else None
        for contender, _ in rows:
            r = summary.get((label, contender))
            if not r:
                err = errors.get((label, contender), "no result")
                lines.append(f"| {label} | {contender} | failed: {err} | | | |")
                continue
            t, rss = r["t"], r["rss_mib"]
            mbs = f"{size / 1e6 / t:.0f}" if size and t > 0 else ""
            ratio = f"{t / s3io_t:.2f}" if size and s3io_t and contender != "s3io" else ""
            lines.append(
                f"| {label} | {contender} | {fmt_s(t)} | {mbs} | {rss:.0f} | {ratio} |"
            )
        get = summary.get((label, "limit: bare GET"))
        dec = summary.get((label, "limit: decode only"))
        put = summary.get((label, "limit: bare PUT"))
        enc = summary.get((label, "limit: encode only"))
        for name, a, b in (("bare GET + decode", get, dec), ("encode + bare PUT", enc, put)):
            if a and b:
                t = a["t"] + b["t"]
                ratio = f"{t / s3io_t:.2f}" if s3io_t else ""
                summary[(label, "limit: " + name)] = {"t": t, "size": size}
                mbs = f"{size / 1e6 / t:.0f}" if size else ""
                lines.append(f"| {label} | limit: {name} (sum) | {fmt_s(t)} | {mbs} | | {ratio} |")
    if engines:
        lines.append("")
        lines.append("xlsx engines, as each process resolved them:")
        lines.append("")
        for (label, contender), names in sorted(engines.items()):
            lines.append(f"- {label}, {contender}: {', '.join(sorted(names))}")
    return "\n".join(lines), summary


def targets(summary, csvs, tname, pname, engines):
    """Checks the earlier issues' targets against the summary; returns markdown lines."""
    out = ["", "## Earlier targets", "", "| target | measured | met |", "|---|---|---|"]

    def t(label, contender):
        v = summary.get((label, contender))
        return v["t"] if v else None

    def row(name, value, ok):
        out.append(f"| {name} | {value} | {'yes' if ok else 'NO'} |")

    for key in csvs:
        g = f"{key} download+decode"
        p = f"{key} encode+upload"
        s = t(g, "s3io")
        if s is None:
            continue
        for contender, want in (("pandas", 3.0), ("polars", 1.2)):
            c = t(g, contender)
            if c:
                row(f"{key} get: ≥ {want}× {contender}", f"{c / s:.2f}×", c / s >= want)
        lim = t(g, "limit: bare GET + decode")
        if lim:
            row(f"{key} get: within 1.2× of bare GET + decode", f"{s / lim:.2f}×", s / lim <= 1.2)
        size = summary[(g, "s3io")]["size"]
        rss = summary[(g, "s3io")]["rss_mib"] * 1024 * 1024
        row(f"{key} get: peak RSS ≤ 2.5× object", f"{rss / size:.2f}×", rss / size <= 2.5)
        sp, pp = t(p, "s3io"), t(p, "pandas")
        if sp and pp:
            row(f"{key} put: ≥ 20× pandas", f"{pp / sp:.2f}×", pp / sp >= 20)
        if key == "csv1g.csv":
            bg, bp = t(g, "limit: bare GET"), t(p, "limit: bare PUT")
            # Two readings of "≥ 80% of bare-transfer throughput": s3io's download+decode
            # (upload) against its own bare GET (PUT); and s3io's bare transfer against the
            # best raw transfer seen on this server (itself or boto3's transfer manager).
            if bg and s:
                row("1 GB download+decode ≥ 80% of bare GET throughput", f"{bg / s:.0%}",
                    bg / s >= 0.8)  # fmt: skip
            if bp and sp:
                row("1 GB encode+upload ≥ 80% of bare PUT throughput", f"{bp / sp:.0%}",
                    bp / sp >= 0.8)  # fmt: skip
            for name, mine, other in (
                ("download", bg, t(g, "limit: boto3 parallel GET")),
                ("upload", bp, t(p, "limit: boto3 multipart PUT")),
            ):
                if mine and other:
                    best = min(mine, other)
                    row(f"1 GB bare {name}: s3io ≥ 80% of the best raw transfer",
                        f"{best / mine:.0%}", best / mine >= 0.8)  # fmt: skip
    for op in ("download+decode", "encode+upload"):
        label = f"{tname}.xlsx {op}"
        s = t(label, "s3io")
        default = ", ".join(sorted(engines.get((label, "pandas"), {"?"})))
        for contender, name in (("pandas", f"pandas (its default engine: {default})"),
                                ("pandas+openpyxl", "pandas+openpyxl")):  # fmt: skip
            p = t(label, contender)
            if s and p:
                row(f"xlsx {op}: ≥ 10× {name}", f"{p / s:.2f}×", p / s >= 10)
    label = f"{pname} decode only (in memory)"
    s, p = t(label, "s3io"), t(label, "python")
    if s and p:
        row("pickle decode ≥ pickle.loads", f"{p / s:.2f}× pickle.loads' speed", p / s >= 1)
    return out


CSV_SIZES = {"csv10.csv": "10 MB", "csv100.csv": "100 MB", "csv1g.csv": "1 GB"}
# s3io's default TransferConfig: what an upload may hold in flight beside the frame.
PART_SIZE, PARTS_IN_FLIGHT = 8 << 20, 8
MIB = 1 << 20


def targets14(summary, o, quick):
    """The targets of issue 14, every row yes / NO / not measured; returns markdown lines."""
    tname, pname, parquet, frame_pkl = o["tname"], o["pname"], o["parquet"], o["frame_pkl"]
    out = ["", "## Targets of issue 14", ""]
    out.append(
        "s = s3io's median time; \"≥ k× X\" means X's time ÷ s3io's time ≥ k. Peak RSS: s3io's "
        f"peak minus its own no-op baseline (the `{BASELINE}` row); frame = the frame's "
        "`estimated_size()` as the s3io process printed it; uploads may hold "
        f"{PART_SIZE // MIB} MiB parts × {PARTS_IN_FLIGHT} in flight (s3io's defaults). The "
        "downloads to a value (JSON value, dict pickle) hold no frame: no peak RSS row."
    )
    if quick:
        out += ["", "Quick run: csv10.csv stands in for the 100 MB and 1 GB CSV rows."]
    out += ["", "| target | measured | met |", "|---|---|---|"]

    def get(label, contender, field="t"):
        v = summary.get((label, contender))
        return v.get(field) if v else None

    def row(name, value, ok):
        met = "not measured" if ok is None else ("yes" if ok else "NO")
        out.append(f"| {name} | {value if ok is not None else '—'} | {met} |")

    def faster_than(label, contender, want, name=None):
        """Contender's time ÷ s3io's ≥ want."""
        s, c = get(label, "s3io"), get(label, contender)
        name = name or contender
        if s and c:
            row(f"{label}: ≥ {want}× {name}", f"{c / s:.2f}×", c / s >= want)
        else:
            row(f"{label}: ≥ {want}× {name}", None, None)

    def near_limits(label, lim_a, lim_b):
        """s3io's time ≤ 1.1 × max(the two limits)."""
        s, a, b = get(label, "s3io"), get(label, lim_a), get(label, lim_b)
        name = f"{label}: s ≤ 1.1 × max({lim_a}, {lim_b})"
        if s and a and b:
            m = max(a, b)
            row(name, f"{s / m:.2f}× (s {fmt_s(s)} s, max {fmt_s(m)} s)", s / m <= 1.1)
        else:
            row(name, None, None)

    baseline = get(BASELINE, "s3io", "rss_mib")

    def rss_row(label, extra_bytes, extra_name):
        """s3io's peak RSS − its baseline ≤ frame + extra."""
        name = f"{label}: peak RSS − baseline ≤ frame + {extra_name}"
        rss, frame = get(label, "s3io", "rss_mib"), get(label, "s3io", "frame")
        if rss is None or frame is None or baseline is None:
            row(name, None, None)
            return
        used, limit = rss - baseline, (frame + extra_bytes) / MIB
        # polars' estimated_size() counts a string column as its strings' bytes, not the
        # 16-byte view each row also holds: shown beside the verdict, which keeps the
        # issue's definition.
        views = get(label, "s3io", "views")
        aside = (f"; string views it leaves out {views / MIB:.0f} MiB, limit with them "
                 f"{limit + views / MIB:.0f} MiB") if views else ""  # fmt: skip
        row(name, f"{used:.0f} MiB (limit {limit:.0f} MiB; frame {frame / MIB:.0f} MiB{aside})",
            used <= limit)  # fmt: skip

    csv_keys = (["csv10.csv"] if quick else []) + ["csv100.csv", "csv1g.csv"]
    for key in csv_keys:
        g, p = f"{key} download+decode", f"{key} encode+upload"
        faster_than(g, "polars", 1.3)
        faster_than(g, "pandas", 2.5, "pandas (boto3+pandas)")
        near_limits(g, "limit: bare GET", "limit: decode only")
    for key in csv_keys:
        p = f"{key} encode+upload"
        faster_than(p, "polars", 1.3)
        near_limits(p, "limit: bare PUT", "limit: encode only")
    faster_than(f"{tname}.ndjson records download+decode to a frame", "polars", 1.3)
    faster_than(f"{tname}.json records download+decode to a frame", "polars", 1.3)
    faster_than(f"{tname}.json download+decode to a value", "python", 1.5, "python json.loads")
    faster_than(f"{tname}.xlsx download+decode", "polars", 1.5)
    faster_than(f"{tname}.xlsx encode+upload", "polars", 5)
    for op in ("download+decode", "encode+upload"):
        label = f"{parquet} {op}"
        name = f"{label}: ≥ 1.2× the faster of polars and pyarrow"
        s = get(label, "s3io")
        others = {c: get(label, c) for c in ("polars", "pyarrow")}
        measured = {c: v for c, v in others.items() if v}
        if s and measured:
            best = min(measured, key=measured.get)
            missing = [c for c in others if c not in measured]
            note = f" ({', '.join(missing)}: not measured)" if missing else ""
            value = f"{measured[best] / s:.2f}× {best}{note}"
            row(name, value, measured[best] / s >= 1.2)
        else:
            row(name, None, None)

    # Peak RSS, every download of a frame and every upload of one.
    csv_all = [k for k in CSV_SIZES if k in csv_keys or k in o["csvs"]]
    downloads = [f"{k} download+decode" for k in csv_all] + [
        f"{tname}.xlsx download+decode",
        f"{tname}.json records download+decode to a frame",
        f"{tname}.ndjson records download+decode to a frame",
        f"{parquet} download+decode",
        f"{frame_pkl} (pandas DataFrame) download+decode",
    ]
    for label in downloads:
        size = get(label, "s3io", "size")
        if size is None:
            row(f"{label}: peak RSS − baseline ≤ frame + 0.5 × object", None, None)
        else:
            rss_row(label, size / 2, "0.5 × object")
    uploads = [f"{k} encode+upload" for k in csv_all] + [
        f"{tname}.xlsx encode+upload",
        f"{tname}.json records encode+upload",
        f"{parquet} encode+upload",
    ]
    for label in uploads:
        rss_row(label, PART_SIZE * PARTS_IN_FLIGHT,
                f"{PART_SIZE // MIB} MiB × {PARTS_IN_FLIGHT}")  # fmt: skip

    # Pickles (issue 13): at least as fast as Python, peak RSS within 2× the object.
    def within_twice(label):
        rss, size = get(label, "s3io", "rss_mib"), get(label, "s3io", "size")
        name = f"{label}: s3io's peak RSS (the whole process) ≤ 2× file size"
        if rss is not None and size:
            row(name, f"{rss * MIB / size:.2f}× ({rss:.0f} MiB)", rss * MIB / size <= 2)
        else:
            row(name, None, None)

    label = f"{pname} decode only (in memory)"
    faster_than(label, "python", 1, "python pickle.loads")
    within_twice(label)
    label = f"{frame_pkl} (pandas DataFrame) download+decode"
    faster_than(label, "pandas", 1, "pandas pd.read_pickle")
    within_twice(label)
    return out


SIZE_CONTENDERS = ("s3io", "pandas", "polars", "wrangler")


def size_points(summary, csvs):
    """{(op, contender): [(MB, wall s, peak RSS MiB), ...]} of the CSV rows measured."""
    points = {}
    for op in ("download+decode", "encode+upload"):
        for c in SIZE_CONTENDERS:
            for key in CSV_SIZES:
                v = summary.get((f"{key} {op}", c)) if key in csvs else None
                if v:
                    points.setdefault((op, c), []).append((v["size"] / 1e6, v["t"], v["rss_mib"]))
    return points


def scaling_size_table(summary, csvs):
    out = ["", "## Scaling with object size (CSV)", ""]
    out.append(
        "From the rows above (no extra runs): 10 MB, 100 MB and, with --with-1g, 1 GB."
    )
    out += ["", "| operation | contender | object | wall s | MB/s | peak RSS MiB |",
            "|---|---|---|---:|---:|---:|"]  # fmt: skip
    for op in ("download+decode", "encode+upload"):
        for c in SIZE_CONTENDERS:
            for key, name in CSV_SIZES.items():
                v = summary.get((f"{key} {op}", c)) if key in csvs else None
                if v:
                    mbs = v["size"] / 1e6 / v["t"]
                    out.append(f"| {op} | {c} | {name} | {fmt_s(v['t'])} | {mbs:.0f} | "
                               f"{v['rss_mib']:.0f} |")  # fmt: skip
                else:
                    out.append(f"| {op} | {c} | {name} | not measured | | |")
    return out


def sweep_points(summary, key):
    """{row: [(parts in flight, MB/s), ...]} of the concurrency sweep."""
    points = {}
    for name in SWEEP_ROWS:
        for n in SWEEP_PARTS:
            v = summary.get((sweep_label(key, n), name))
            if v and v["t"] > 0:
                points.setdefault(name, []).append((n, v["size"] / 1e6 / v["t"]))
    return points


def scaling_concurrency_table(summary, key, size):
    out = ["", f"## Scaling with parts in flight ({key}, {size / 1e6:.0f} MB)", ""]
    out.append(
        "MB/s (median). s3io: `--concurrency N`, `TransferConfig::new().concurrency(N)` on the "
        "connector (8 MiB parts; `get` is download+decode to a frame, `get-bytes` and "
        "`put-bytes` the bare transfer; uploads below 16 MiB are one PUT). boto3: "
        "`download_fileobj` / `upload_fileobj` with `TransferConfig(max_concurrency=N)` "
        "(8 MiB parts, multipart from 8 MiB)."
    )
    out += ["", "| parts in flight | " + " | ".join(SWEEP_ROWS) + " |",
            "|---:|" + "---:|" * len(SWEEP_ROWS)]  # fmt: skip
    for n in SWEEP_PARTS:
        cells = []
        for name in SWEEP_ROWS:
            v = summary.get((sweep_label(key, n), name))
            cells.append(f"{v['size'] / 1e6 / v['t']:.0f}" if v and v["t"] > 0 else "not measured")
        out.append(f"| {n} | " + " | ".join(cells) + " |")
    return out


def plot(summary, csvs, sweep_key, plots_dir, out_path):
    """Draws scaling-size.png and scaling-concurrency.png into plots_dir (those with data);
    returns markdown lines that link them from out_path."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib import ticker
    except ImportError as e:
        log(f"   no plots: {e}")
        return ["", f"(No plots: {e}.)"]
    os.makedirs(plots_dir, exist_ok=True)
    written = []
    points = size_points(summary, csvs)
    if points:
        sizes = {}  # MB -> tick label
        for pts in points.values():
            for mb, _t, _rss in pts:
                sizes[mb] = f"{mb:.0f} MB" if mb < 1000 else f"{mb / 1000:.0f} GB"
        sizes = dict(sorted(sizes.items()))
        fig, axes = plt.subplots(2, 2, figsize=(11, 8), sharex=True)
        for i, op in enumerate(("download+decode", "encode+upload")):
            for j, (field, unit) in enumerate(((1, "wall s (median)"), (2, "peak RSS MiB"))):
                ax = axes[i][j]
                for c in SIZE_CONTENDERS:
                    pts = points.get((op, c))
                    if pts:
                        ax.plot([p[0] for p in pts], [p[field] for p in pts], marker="o", label=c)
                ax.set_xscale("log")
                ax.set_yscale("log")
                ax.set_xticks(list(sizes), list(sizes.values()))
                ax.xaxis.set_minor_formatter(ticker.NullFormatter())
                ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))
                ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
                ax.yaxis.set_minor_formatter(ticker.NullFormatter())
                ax.set_title(f"CSV {op}: {unit.split(' (')[0]}")
                ax.set_ylabel(unit)
                ax.grid(True, which="both", alpha=0.3)
                if i == 1:
                    ax.set_xlabel("object size, MB")
                ax.legend(fontsize=8)
        fig.suptitle("s3io and the Python contenders against object size (one local S3 server)")
        fig.tight_layout()
        path = os.path.join(plots_dir, "scaling-size.png")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(("time and peak RSS against object size", path))
    points = sweep_points(summary, sweep_key) if sweep_key else {}
    if points:
        fig, ax = plt.subplots(figsize=(8, 5))
        for name in SWEEP_ROWS:
            pts = points.get(name)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
        ax.set_xscale("log", base=2)
        ax.set_xticks(SWEEP_PARTS, [str(n) for n in SWEEP_PARTS])
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_ylim(bottom=0)
        ax.set_xlabel("parts in flight")
        ax.set_ylabel("MB/s (median)")
        ax.set_title(f"Throughput against parts in flight ({sweep_key})")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = os.path.join(plots_dir, "scaling-concurrency.png")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(("throughput against parts in flight", path))
    if not written:
        return []
    out = ["", "Plots:", ""]
    for what, path in written:
        rel = os.path.relpath(path, os.path.dirname(os.path.abspath(out_path)))
        out.append(f"- {what}: [{os.path.basename(path)}]({rel})")
        log(f"   plot: {path}")
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rust-bin", required=True)
    parser.add_argument("--s3s-fs", help="the s3s-fs binary; without it, the embedded server")
    parser.add_argument("--quick", action="store_true", help="small objects, one repetition")
    parser.add_argument("--with-1g", action="store_true", help="add the 1 GB CSV")
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--reps-1g", type=int, default=1)
    parser.add_argument(
        "--only",
        help="run only cases whose label contains this text (and the no-op baseline, which "
        "the peak RSS targets need)",
    )
    parser.add_argument("--no-scaling", action="store_true",
                        help="skip the sweep over parts in flight")  # fmt: skip
    parser.add_argument("--timeout", type=int, default=900, help="seconds per measurement")
    parser.add_argument(
        "--out",
        help="the results markdown (default benches/compare/results.md; with --quick "
        "target/compare-quick/results.md)",
    )
    parser.add_argument(
        "--plots",
        help="where the scaling PNGs go (default benches/; with --quick, --out or --only: "
        "beside the results markdown)",
    )
    parser.add_argument("--command", default=" ".join(sys.argv))
    args = parser.parse_args()
    args.server = "s3s-fs" if args.s3s_fs else "embedded"
    reps = args.reps or (1 if args.quick else 3)
    # A quick run checks that everything runs: it leaves the committed results alone.
    quick_dir = os.path.join(REPO, "target", "compare-quick")
    out_path = args.out or (
        os.path.join(quick_dir, "results.md") if args.quick else os.path.join(HERE, "results.md")
    )
    # The committed plots come from a full run only: a run with --out or --only draws beside
    # its results instead.
    partial = args.out or args.only
    plots_dir = args.plots or (
        os.path.dirname(os.path.abspath(out_path))
        if args.quick or partial
        else os.path.join(REPO, "benches")
    )

    work = os.path.join(REPO, "target", "compare-work")
    data_dir = os.path.join(REPO, "target", "compare-data" + ("-quick" if args.quick else ""))
    started = machine()
    t0 = time.time()
    log("== generating the objects (cached in %s)" % data_dir)
    # Quick: 10 MB CSV only, small table, dict and DataFrame pickle.
    o = generate(data_dir, args.with_1g and not args.quick, args.quick)
    csvs, tname, pname = o["csvs"], o["tname"], o["pname"]
    log(f"   done in {time.time() - t0:.0f} s")
    sweep_key = None if args.no_scaling else ("csv10.csv" if args.quick else "csv100.csv")

    shutil.rmtree(work, ignore_errors=True)
    root = os.path.join(work, "s3")
    proc, env, server_name = start_server(args, root)
    log(f"== server: {server_name} at {env['S3_ENDPOINT']}")
    try:
        t0 = time.time()
        names = csvs + [f"{tname}.xlsx", f"{tname}.json", f"{tname}.ndjson", pname,
                        o["parquet"], o["frame_pkl"]]  # fmt: skip
        upload_objects(env, data_dir, names)
        log(f"== uploaded {len(names)} objects in {time.time() - t0:.0f} s")
        cases = plan(args, data_dir, o)
        sweep = sweep_cases(args, data_dir, sweep_key) if sweep_key else []
        if args.only:
            cases = [c for c in cases if args.only in c[0]]
            sweep = [c for c in sweep if args.only in c[0]]
        cases.append(baseline_case(args))
        results, errors, engines = {}, {}, {}
        for rep in range(max(reps, args.reps_1g)):
            log(f"== repetition {rep + 1}")
            for label, _size, rows in cases + sweep:
                n = args.reps_1g if "csv1g" in label else reps
                if rep >= n:
                    continue
                shift = rep % len(rows)
                for contender, argv in rows[shift:] + rows[:shift]:
                    r, err = measure(argv, env, args.timeout)
                    entry = results.setdefault(
                        (label, contender), {"t": [], "rss": [], "frame": []}
                    )
                    if r:
                        entry["t"].append(r["wall_s"])
                        entry["rss"].append(r["vm_hwm_kb"])
                        if r.get("frame_bytes") is not None:
                            entry["frame"].append(r["frame_bytes"])
                            entry.setdefault("views", []).append(r.get("frame_views") or 0)
                        if r.get("engine"):
                            engines.setdefault((label, contender), set()).add(r["engine"])
                        log(f"   {label:<52} {contender:<26} {r['wall_s']:8.3f} s "
                            f"{r['vm_hwm_kb'] / 1024:7.0f} MiB")  # fmt: skip
                    else:
                        errors[(label, contender)] = err
                        log(f"   {label:<52} {contender:<26} FAILED: {err}")
    finally:
        stop_server(proc)
        shutil.rmtree(work, ignore_errors=True)

    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": args.command,
        "server": server_name.split(" (")[0] if args.server == "s3s-fs" else server_name,
        "machine": started,
        "reps": reps,
        "reps_1g": args.reps_1g,
    }
    table, summary = report(cases, results, errors, meta, engines)
    sweep_summary = summarize(sweep, results)
    sections = targets14(summary, o, args.quick)
    sections += targets(summary, csvs, tname, pname, engines)
    sections += scaling_size_table(summary, csvs)
    if sweep:
        sections += scaling_concurrency_table(sweep_summary, sweep_key, sweep[0][1])
        failed = [f"{label}, {c}: {errors[(label, c)]}" for label, _s, rows in sweep
                  for c, _a in rows if (label, c) in errors]  # fmt: skip
        if failed:
            sections += ["", "Failed in the sweep:", ""] + [f"- {f}" for f in failed]
    sections += plot(summary | sweep_summary, csvs, sweep_key if sweep else None, plots_dir,
                     out_path)  # fmt: skip
    text = table + "\n" + "\n".join(sections) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as f:
        f.write(text)
    log("")
    log(text)
    log(f"(written to {out_path})")


if __name__ == "__main__":
    main()
