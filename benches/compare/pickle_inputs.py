#!/usr/bin/env python3
"""The pickles of the issue #13 speed slice, into DIR (default target/pickle-speed):

- dict500k.pkl: pickle.dump(make_dict(500_000, seed=11)), compare.py's dict of records;
- frame1m.pkl: a 1M-row DataFrame (4 int64, 4 float64, 2 datetime64[ns], 2 text columns,
  about 120 MB) written with df.to_pickle.

Needs numpy and pandas (e.g. target/pickle-venvs/pd3-np2/bin/python). Then, for s3io:
S3IO_PICKLE_SPEED=DIR/dict500k.pkl,DIR/frame1m.pkl cargo test --release -p s3io-formats
--test pickle_speed -- --ignored --nocapture; and for Python: this script with --time.
"""

import io
import os
import pickle
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    args = [a for a in sys.argv[1:] if a != "--time"]
    out = args[0] if args else os.path.join(os.path.dirname(__file__), "../../target/pickle-speed")
    os.makedirs(out, exist_ok=True)
    import pandas as pd

    from compare import make_dict, make_pandas_frame

    dict_path, frame_path = os.path.join(out, "dict500k.pkl"), os.path.join(out, "frame1m.pkl")
    if not os.path.exists(dict_path):
        with open(dict_path, "wb") as f:
            pickle.dump(make_dict(500_000, seed=11), f)
    if not os.path.exists(frame_path):
        make_pandas_frame(1_000_000).to_pickle(frame_path)
    if "--time" in sys.argv:
        for path, load in ((dict_path, pickle.loads), (frame_path, lambda b: pd.read_pickle(io.BytesIO(b)))):
            data, times = open(path, "rb").read(), []
            for _ in range(5):
                start = time.perf_counter()
                obj = load(data)
                times.append(time.perf_counter() - start)
                del obj
            times.sort()
            print(f"{path}: {len(data) // 10**6} MB: median {times[2]:.3f} s, min {times[0]:.3f} s")


if __name__ == "__main__":
    main()
