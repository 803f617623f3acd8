"""Benchmark of musiclib.models: how fast each segment model trains and predicts on this CPU.

    python benchmarks/training.py [--segments N] [--epochs E] [--notebooks]

For each segment model of the course (source 002's ANN, regularised ANN, CNN and LSTM;
source 000's two-convolution CNN, experiments 1 and 2), on random float32 inputs shaped like
the course's segments (N segments of 130 frames x 13 MFCC, 10 classes; default N=2000):

- training throughput, segments per second: one warm-up epoch (graph tracing), then E timed
  epochs at batch size 32, in one ``fit`` call; the median epoch is reported;
- prediction throughput, segments per second: one warm-up ``predict``, then the median of
  three at batch size 256;

and each model's ratio to the fastest. Random inputs are fine here: the cost of a step does
not depend on the values. Every model is built and trained under ``musiclib.train.set_seed``
(so TensorFlow's op determinism is on, as it is in the course).

With ``--notebooks``, also execute ``notebooks/04_*.ipynb`` and ``notebooks/05_*.ipynb`` in the
``fast`` profile (skipped with a message when absent) and print each one's wall time.

Timings on a shared 2-core box wander by 10-20%; compare ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up notes out of the table

FRAMES, N_MFCC, N_CLASSES = 130, 13, 10
TRAIN_BATCH, PREDICT_BATCH = 32, 256

# (label, builder name, options): every segment model the course teaches
MODELS = [
    ("ann", "ann", {}),
    ("ann regularised", "ann", {"dropout": 0.3, "l2": 1e-4}),
    ("cnn_mfcc", "cnn_mfcc", {}),
    ("cnn2_mfcc exp1", "cnn2_mfcc", {"variant": "exp1"}),
    ("cnn2_mfcc exp2", "cnn2_mfcc", {"variant": "exp2"}),
    ("lstm_mfcc", "lstm_mfcc", {}),
]


def machine_facts() -> list[str]:
    import keras
    import tensorflow as tf

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count()
    return [
        f"machine : {platform.machine()} {platform.processor() or ''}".rstrip(),
        f"cpus    : {os.cpu_count()} (usable by this process: {usable})",
        f"python  : {sys.version.split()[0]}; tensorflow {tf.__version__}; keras {keras.__version__} "
        f"(backend {keras.backend.backend()})",
        f"threads : intra-op {tf.config.threading.get_intra_op_parallelism_threads() or 'auto'}, "
        f"inter-op {tf.config.threading.get_inter_op_parallelism_threads() or 'auto'}",
    ]


class EpochTimer:
    """A Keras callback that keeps each epoch's wall time."""

    def __new__(cls):
        import keras

        class _Timer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.seconds: list[float] = []

            def on_epoch_begin(self, epoch, logs=None):
                self._t0 = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.seconds.append(time.perf_counter() - self._t0)

        return _Timer()


def measure(name: str, options: dict, x: np.ndarray, y: np.ndarray, epochs: int, seed: int) -> dict:
    from musiclib import models, train

    train.set_seed(seed)
    model = models.build(name, x, N_CLASSES, **options)
    timer = EpochTimer()
    model.fit(x, y, epochs=1 + epochs, batch_size=TRAIN_BATCH, shuffle=True, verbose=0, callbacks=[timer])
    train_s = statistics.median(timer.seconds[1:])  # the first epoch traces the graph
    model.predict(x, batch_size=PREDICT_BATCH, verbose=0)  # warm-up
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        model.predict(x, batch_size=PREDICT_BATCH, verbose=0)
        times.append(time.perf_counter() - t0)
    return {
        "parameters": models.count_parameters(model),
        "train": len(x) / train_s,
        "predict": len(x) / statistics.median(times),
        "warmup_s": timer.seconds[0],
    }


def run_notebooks(out_dir: Path) -> None:
    from musiclib.course import execute_notebook

    os.environ["MUSICLIB_PROFILE"] = "fast"  # the kernels inherit it
    print("\nnotebooks (fast profile, fresh kernel each):")
    for pattern in ("04_*.ipynb", "05_*.ipynb"):
        found = sorted((ROOT / "notebooks").glob(pattern))
        if not found:
            print(f"  notebooks/{pattern}: absent, skipped")
            continue
        for path in found:
            run = execute_notebook(path, out_dir)
            extra = f"  {run.error}" if run.error else ""
            print(f"  {path.name:<40} {run.status:<6} {run.seconds:8.1f} s  ({run.cells} code cells){extra}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=2000, help="training segments (default 2000)")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs after one warm-up (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--notebooks", action="store_true", help="also time notebooks 04 and 05")
    parser.add_argument("--only", nargs="*", help="labels of the models to run (default all)")
    args = parser.parse_args(argv)
    if args.segments < 1 or args.epochs < 1:
        parser.error("--segments and --epochs must be at least 1")

    for line in machine_facts():
        print(line)
    print(
        f"data    : {args.segments} random segments of {FRAMES} x {N_MFCC}, {N_CLASSES} classes; "
        f"train batch {TRAIN_BATCH} (median of {args.epochs} epochs after 1 warm-up), "
        f"predict batch {PREDICT_BATCH} (median of 3)\n"
    )
    rng = np.random.default_rng(args.seed)
    x = rng.normal(size=(args.segments, FRAMES, N_MFCC)).astype(np.float32)
    y = rng.integers(0, N_CLASSES, size=args.segments)

    chosen = [m for m in MODELS if not args.only or m[0] in args.only]
    rows = []
    for label, name, options in chosen:
        r = measure(name, options, x, y, args.epochs, args.seed)
        rows.append((label, r))
        print(f"  measured {label:<16} (first epoch, with tracing: {r['warmup_s']:.1f} s)", flush=True)

    best_train = max(r["train"] for _, r in rows)
    best_predict = max(r["predict"] for _, r in rows)
    header = f"{'model':<16} {'parameters':>11} {'train seg/s':>12} {'vs fastest':>10} {'predict seg/s':>14} {'vs fastest':>10}"
    print("\n" + header + "\n" + "-" * len(header))
    for label, r in rows:
        print(
            f"{label:<16} {r['parameters']:>11,} {r['train']:>12,.0f} {r['train'] / best_train:>9.2f}x "
            f"{r['predict']:>14,.0f} {r['predict'] / best_predict:>9.2f}x"
        )
    print(
        "\n'vs fastest': this model's throughput over the fastest model's (1.00x = fastest). "
        f"One epoch of the full profile's segments takes segments / (train seg/s) seconds."
    )

    if args.notebooks:
        with tempfile.TemporaryDirectory(prefix="musiclib-bench-") as out:
            run_notebooks(Path(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
