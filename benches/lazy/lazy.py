"""Side-by-side lazy group_by over 2 GB of Parquet on one local S3 server (issue #15): s3io's
scan_parquet + streaming collect (examples/lazy_group_by.rs) against polars-python's
scan_parquet(...).collect(engine="streaming") (polars_side.py).

Run through run.sh, which builds everything this needs; by hand:

    python lazy.py --example PATH --s3s-fs PATH [--reps N] [--out FILE]

Every measurement is its own process under /usr/bin/time: wall time of scan + collect as the
process reports it, peak RSS as time's %M (the whole process, nothing subtracted). Each
repetition runs both contenders, in an order that alternates, each on the full dataset and
on a 100,000-row object of the same columns (the baseline: runtime, libraries, connection).
"""

import argparse
import datetime
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import gen_data  # noqa: E402

ACCESS_KEY = "bench-access-key"
SECRET_KEY = "bench-secret-key-0123456789"
TARGET_MB = 600  # issue #15: s3io's peak RSS on this query
LINE = re.compile(r"shape=\((\d+), (\d+)\) total=(\S+) seconds=(\S+)")


def log(msg):
    print(msg, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(s3s_fs, root):
    """s3s-fs over the data folder; returns (process, endpoint)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            s3s_fs, "--host", "127.0.0.1", "--port", str(port),
            "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY, root,
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(os.path.dirname(root), "lazy-server.log"), "w"),
    )  # fmt: skip
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"s3s-fs exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    sys.exit("s3s-fs did not start listening")


def measure(argv, env, timeout):
    """One run under /usr/bin/time: (seconds, peak RSS KiB, shape, total) or an error text."""
    try:
        done = subprocess.run(
            ["/usr/bin/time", "-f", "peak_rss_kib=%M", *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return f"timeout after {timeout} s"
    rss = re.search(r"peak_rss_kib=(\d+)", done.stderr)
    found = LINE.search(done.stdout)
    if done.returncode != 0 or not found or not rss:
        lines = [line for line in done.stderr.splitlines() if "peak_rss_kib" not in line]
        return (lines or [f"exit {done.returncode}"])[-1][:400] + f" (exit {done.returncode})"
    rows, cols, total, seconds = found.groups()
    return float(seconds), int(rss.group(1)), (int(rows), int(cols)), float(total)


def polars_crate():
    """The polars crate version s3io is built with, from Cargo.lock."""
    lock = open(os.path.join(REPO, "Cargo.lock")).read()
    found = re.search(r'name = "polars"\nversion = "([^"]+)"', lock)
    return found.group(1) if found else "?"


def machine():
    mem = open("/proc/meminfo").readline().split()[1]
    return {
        "nproc": os.cpu_count(),
        "ram": f"{int(mem) / 2**20:.1f} GiB",
        "kernel": platform.release(),
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--example", required=True, help="the lazy_group_by example binary")
    parser.add_argument("--s3s-fs", required=True, help="the s3s-fs 0.14.1 binary")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=900, help="seconds per run")
    parser.add_argument("--out", default=os.path.join(HERE, "results.md"))
    parser.add_argument("--command", default=" ".join(sys.argv))
    args = parser.parse_args()

    root = os.path.join(REPO, "target", "lazy-data")
    log(f"== dataset (cached in {root})")
    t0 = time.time()
    total_bytes = gen_data.generate(root)
    rows = gen_data.FILES * gen_data.ROWS_PER_FILE
    took = time.time() - t0
    log(f"   {gen_data.FILES} files, {rows:,} rows, {total_bytes:,} bytes ({took:.0f} s)")
    for key in gen_data.keys():  # into the page cache, so no contender pays the first read
        with open(os.path.join(root, gen_data.BUCKET, key), "rb") as f:
            while f.read(1 << 24):
                pass

    proc, endpoint = start_server(args.s3s_fs, root)
    log(f"== s3s-fs 0.14.1 at {endpoint}")
    env = dict(os.environ, S3_ACCESS_KEY=ACCESS_KEY, S3_SECRET_KEY=SECRET_KEY,
               S3_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")  # fmt: skip
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        env.pop(var, None)
    glob = f"{gen_data.PREFIX}/*.parquet"
    python = [sys.executable, os.path.join(HERE, "polars_side.py")]
    contenders = [
        ("s3io", [args.example, endpoint, gen_data.BUCKET]),
        ("polars-python", python + [endpoint, gen_data.BUCKET]),
    ]
    results = {}  # (contender, "full" | "baseline") -> [(seconds, rss), ...]
    errors = {}
    totals = {}
    try:
        for rep in range(args.reps):
            log(f"== repetition {rep + 1}")
            order = contenders if rep % 2 == 0 else contenders[::-1]
            for name, argv in order:
                for case, key in (("baseline", gen_data.TINY), ("full", glob)):
                    r = measure(argv + [key], env, args.timeout)
                    if isinstance(r, str):
                        errors[(name, case)] = r
                        log(f"   {name:<14} {case:<8} FAILED: {r}")
                        continue
                    results.setdefault((name, case), []).append(r[:2])
                    totals.setdefault(case, []).append((r[2], r[3]))
                    log(f"   {name:<14} {case:<8} {r[0]:8.2f} s {r[1] * 1024 / 1e6:7.0f} MB  "
                        f"shape {r[2]} total {r[3]:.3f}")  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    meta = machine()
    meta["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = report(args, meta, total_bytes, rows, results, errors, totals)
    with open(args.out, "w") as f:
        f.write(text)
    log("")
    log(text)
    log(f"(written to {args.out})")


def report(args, meta, total_bytes, rows, results, errors, totals):
    import polars

    med = lambda xs: statistics.median(xs)  # noqa: E731
    stats = {}
    for (name, case), runs in results.items():
        t = [r[0] for r in runs]
        m = [r[1] * 1024 / 1e6 for r in runs]  # MB, as the target
        stats[(name, case)] = (med(t), min(t), med(m), len(runs))
    out = [
        f"Lazy group_by over {total_bytes / 1e9:.2f} GB of Parquet ({gen_data.FILES} files, "
        f"{rows:,} rows): `group_by(customer).agg(sum(amount))`, streaming engine.",
        "",
        f"Date {meta['date']}; {meta['nproc']} cores, {meta['ram']} RAM, kernel "
        f"{meta['kernel']}, load average at the end {meta['load']}; server s3s-fs 0.14.1 "
        f"(binary, loopback); polars crate {polars_crate()} (s3io), polars-python "
        f"{polars.__version__}; {args.reps} repetitions, interleaved.",
        "",
        f"Command: `{args.command}`",
        "",
        "| contender | median time | min time | peak RSS (median) | baseline peak RSS "
        "| RSS minus baseline | time ratio vs polars-python | RSS ratio vs polars-python |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    ref = stats.get(("polars-python", "full"))
    for name in ("s3io", "polars-python"):
        full, base = stats.get((name, "full")), stats.get((name, "baseline"))
        if not full:
            out.append(f"| {name} | FAILED: {errors.get((name, 'full'), '?')} | | | | | | |")
            continue
        base_rss = f"{base[2]:.0f} MB" if base else "failed"
        minus = f"{full[2] - base[2]:.0f} MB" if base else "?"
        t_ratio = f"{full[0] / ref[0]:.2f}×" if ref else "?"
        m_ratio = f"{full[2] / ref[2]:.2f}×" if ref else "?"
        out.append(
            f"| {name} | {full[0]:.2f} s | {full[1]:.2f} s | {full[2]:.0f} MB | {base_rss} "
            f"| {minus} | {t_ratio} | {m_ratio} |"
        )
    out.append("")
    out.append(
        "Time: scan + collect as each process reports it (excludes process start, imports and "
        "building the connector). Peak RSS: `/usr/bin/time -f %M` of the whole process, in MB "
        "(10^6 bytes, as the target). "
        f"Baseline: the same query on a {gen_data.TINY_ROWS:,}-row object ({gen_data.TINY}). "
        "Ratios: the contender's median over polars-python's (below 1: faster, smaller)."
    )
    full = totals.get("full") or [((0, 0), 0.0)]
    spread = max(abs(t - full[0][1]) for _, t in full)
    agree = len({shape for shape, _ in full}) == 1 and spread <= 1e-9 * abs(full[0][1])
    if not all((name, "full") in results for name in ("s3io", "polars-python")):
        verdict = "not checked, a contender failed"
    else:
        verdict = "yes" if agree else "NO: " + str(sorted(set(full)))
    out.append(f"Results agree between contenders (shape, total of the sums): {verdict}.")
    s3io = stats.get(("s3io", "full"))
    if s3io:
        met = "yes" if s3io[2] < TARGET_MB else "NO"
        out.append(f"Target, s3io's peak RSS under {TARGET_MB} MB: {met} ({s3io[2]:.0f} MB).")
    for (name, case), err in sorted(errors.items()):
        out.append(f"Error, {name} {case}: {err}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
