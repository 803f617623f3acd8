"""Render speed of the synthetic dataset, per style, on one core.

Usage::

    python benchmarks/synth.py [--seconds 30] [--repeats 5] [--min-speed 50]

Prints, per style and overall, the median wall time to render one clip and the speed as a
multiple of real time; exits with status 1 when the overall median is below ``--min-speed``
(the course needs 50x: a 30 s clip in under 0.6 s).
"""

from __future__ import annotations

import argparse
import os
import sys

# one core: keep numpy / scipy from using a thread pool (must happen before importing numpy)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from musiclib import synth  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="clip length (s)")
    ap.add_argument("--repeats", type=int, default=5, help="renders per style")
    ap.add_argument("--min-speed", type=float, default=50.0, help="required x real time")
    args = ap.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        except OSError:
            pass

    synth.render_clip(synth.style_names()[0], 1.0)  # warm-up: imports, FFT plans
    all_times = []
    print(f"{'style':22s} {'audio':>8s}  {'median':>8s}  {'speed':>8s}")
    for style in synth.style_names():
        times = []
        for i in range(args.repeats):
            t0 = time.perf_counter()
            synth.render_clip(style, args.seconds, seed=0, index=i)
            times.append(time.perf_counter() - t0)
        med = float(np.median(times))
        all_times += times
        print(f"{style:22s} {args.seconds:6.1f} s  median {med:5.3f} s  {args.seconds / med:6.0f}x real time")
    med = float(np.median(all_times))
    speed = args.seconds / med
    print(f"{'overall':22s} {args.seconds:6.1f} s  median {med:5.3f} s  {speed:6.0f}x real time"
          f"  (slowest clip {args.seconds / max(all_times):.0f}x)")
    if speed < args.min_speed:
        print(f"FAIL: {speed:.0f}x real time is below the required {args.min_speed:.0f}x", file=sys.stderr)
        return 1
    print(f"ok: at least {args.min_speed:.0f}x real time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
