"""Benchmark of musiclib.streaming: peak memory of training from disk vs. from memory.

    python benchmarks/streaming.py [--clips-per-style N] [--seconds S] [--epochs E]
                                   [--data-dir DIR] [--batch-size B] [--model auto|mel_cnn|inline]

Defaults: the ``full`` profile (100 clips x 30 s x 10 styles = 1000 clips, GTZAN-sized),
2 epochs, batch 32, data under ``$TMPDIR/musiclib-streaming``. Steps:

1. render the synthetic dataset (``musiclib.datasets.synthetic``, 2 processes; ~4 min the
   first time, reused afterwards) and split it by recording (70 / 15 / 15);
2. extract the mel spectrograms (``musiclib.features.extract_dataset``, 2 processes; cached);
3. write every log-mel segment (130 x 128 float32, 66.5 KB each) into one ``.npy`` with
   ``musiclib.streaming.segments_to_disk(..., transform="log")``;
4. train the mel-spectrogram CNN (``musiclib.models.mel_cnn`` when it exists, else a small
   inline CNN) for E epochs, twice, each in a fresh Python process so that the peaks do not
   mix:

   - ``streaming``: ``SegmentSequence`` over the train and validation rows of the memmap,
     ``fit_streaming``; the model's normalisation adapted on 512 sampled training segments;
   - ``in memory``: what ``musiclib.experiments.run`` does today: the whole array read into
     memory (``np.array`` of the file), the sides sliced out of it, ``musiclib.train.fit`` on
     numpy arrays; same model, same sample for the normalisation.

Each child samples its resident memory every 50 ms in a thread (``psutil`` RSS, and the
anonymous / file-backed split of ``/proc/self/status``) and reports the peak during
``fit`` and the process's lifetime peak (``ru_maxrss``). File-backed pages of the memmap
count in RSS while they are mapped, but they are clean page cache, which the kernel
reclaims under pressure; anonymous memory is what the process really needs.

Timings on a shared 2-core box wander by 10-20%; segments/s include the first epoch's
graph tracing and the validation passes, in both modes alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TARGET_BYTES = 3 * 10**9  # "peak memory under 3 GB"
SAMPLE_FOR_NORMALISATION = 512
MB = 1e6


# ---------------------------------------------------------------------------- memory sampler


def _proc_status() -> dict[str, int]:
    """VmRSS, RssAnon, RssFile, RssShmem of this process in bytes (Linux), else {}."""
    out = {}
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                    out[key] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    return out


class PeakMemory:
    """Samples this process's RSS every ``interval`` seconds in a daemon thread."""

    def __init__(self, interval: float = 0.05):
        import psutil

        self._proc = psutil.Process()
        self.interval = interval
        self.samples = 0
        self.reset()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def reset(self) -> None:
        self.peak = {"rss": 0, "anon": 0, "file": 0}

    def sample(self) -> None:
        rss = self._proc.memory_info().rss
        st = _proc_status()
        p = self.peak
        p["rss"] = max(p["rss"], rss)
        p["anon"] = max(p["anon"], st.get("RssAnon", 0))
        p["file"] = max(p["file"], st.get("RssFile", 0) + st.get("RssShmem", 0))
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        self.sample()
        return dict(self.peak)


def _ru_maxrss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) * (1 if sys.platform == "darwin" else 1024)


# ---------------------------------------------------------------------------- the model


def _inline_cnn(x_sample: np.ndarray, n_classes: int):
    """A small CNN on log-mel segments (used only when musiclib.models.mel_cnn is absent)."""
    import keras

    from musiclib.models import normalization_layer

    inputs = keras.Input(shape=x_sample.shape[1:], name="logmel_segments")
    x = normalization_layer(x_sample, axis=-1)(inputs)
    x = keras.layers.Reshape(x_sample.shape[1:] + (1,))(x)
    x = keras.layers.AveragePooling2D(2, padding="same")(x)
    for width in (8, 16, 32):
        x = keras.layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        x = keras.layers.BatchNormalization(momentum=0.9)(x)
        x = keras.layers.MaxPooling2D(2, padding="same")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="inline_mel_cnn")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_model(choice: str, x_sample: np.ndarray, n_classes: int):
    from musiclib import models

    if choice in ("auto", "mel_cnn") and hasattr(models, "mel_cnn"):
        return models.mel_cnn(x_sample, n_classes), "musiclib.models.mel_cnn"
    if choice == "mel_cnn":
        raise SystemExit("musiclib.models.mel_cnn does not exist (yet): use --model inline")
    return _inline_cnn(x_sample, n_classes), "inline CNN (benchmarks/streaming.py)"


# ---------------------------------------------------------------------------- one child run


def child(args) -> dict:
    """Train once in this process (mode ``stream`` or ``memory``) and report memory and speed."""
    monitor = PeakMemory(0.05)
    import keras  # noqa: F401  (TensorFlow's own memory belongs to the baseline)

    from musiclib import streaming, train

    sides = np.load(args.sides)
    y = sides["y"]
    rows = {"train": sides["train"], "valid": sides["valid"]}
    n_classes = int(sides["n_classes"])
    mm = np.load(args.array, mmap_mode="r")
    x_sample = streaming.sample_rows(mm, indices=rows["train"], n=SAMPLE_FOR_NORMALISATION, seed=0)

    if args.child == "memory":
        x_all = np.array(mm)  # what fs.segments() without out= gives experiments.prepare
        del mm
        x_train, x_valid = x_all[rows["train"]], x_all[rows["valid"]]  # prepare's per-side copies
        del x_all
        y_train, y_valid = y[rows["train"]], y[rows["valid"]]

    train.set_seed(0)
    model, model_name = build_model(args.model, x_sample, n_classes)
    before_fit = monitor._proc.memory_info().rss
    monitor.reset()
    t0 = time.perf_counter()
    if args.child == "stream":
        seq_train = streaming.SegmentSequence(mm, y, batch_size=args.batch_size, shuffle=True, seed=0,
                                              indices=rows["train"])
        seq_valid = streaming.SegmentSequence(mm, y, batch_size=256, shuffle=False, indices=rows["valid"])
        result = streaming.fit_streaming(model, seq_train, validation=seq_valid, epochs=args.epochs,
                                         patience=args.epochs, seed=0)
    else:
        result = train.fit(model, x_train, y_train, validation=(x_valid, y_valid), epochs=args.epochs,
                           batch_size=args.batch_size, patience=args.epochs, seed=0)
    seconds = time.perf_counter() - t0
    peak_fit = monitor.stop()
    n_train = len(rows["train"])
    return {
        "mode": args.child,
        "model": model_name,
        "parameters": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
        "rss_before_fit": before_fit,
        "peak_fit": peak_fit,
        "ru_maxrss": _ru_maxrss_bytes(),
        "fit_seconds": seconds,
        "segments_per_s": n_train * result.epochs / seconds,
        "epochs": result.epochs,
        "train_accuracy": float(result.history["accuracy"][-1]),
        "val_accuracy": float(result.history["val_accuracy"][-1]),
        "samples": monitor.samples,
    }


# ---------------------------------------------------------------------------- the parent


def prepare_data(args) -> tuple[Path, Path, dict]:
    from musiclib import config, datasets, features, splits, streaming

    s = config.settings(profile="full", data_dir=args.data_dir, seed=0)
    prof = s.profile
    default = args.clips_per_style == prof.clips_per_style and args.seconds == prof.clip_seconds
    folder = (s.synthetic_dir if default else
              s.data_dir / "synthetic" / f"full-{args.clips_per_style}x{args.seconds:g}s-seed{s.seed}")
    t0 = time.perf_counter()
    ds = datasets.synthetic(s, out_dir=folder, jobs=2, clips_per_style=args.clips_per_style,
                            clip_seconds=args.seconds)
    t_render = time.perf_counter() - t0
    manifest = splits.assign_splits(ds.manifest, valid_size=0.15, test_size=0.15, seed=s.seed)
    t0 = time.perf_counter()
    fs = features.extract_dataset(manifest, features.FeatureConfig(), cache_dir=s.cache_dir / "features",
                                  jobs=2, progress=False, features=["mel"])
    t_features = time.perf_counter() - t0
    work = s.data_dir / "streaming"
    array = work / f"logmel-{folder.name}-{fs.config.config_hash}.npy"
    t0 = time.perf_counter()
    X, meta = streaming.segments_to_disk(fs, "mel", array, transform="log")
    t_disk = time.perf_counter() - t0
    labels = sorted(meta["label"].unique())
    y = meta["label"].map({c: i for i, c in enumerate(labels)}).to_numpy(np.int64)
    split = meta["split"].to_numpy()
    sides = work / f"sides-{folder.name}.npz"
    np.savez(sides, y=y, n_classes=len(labels), train=np.flatnonzero(split == "train"),
             valid=np.flatnonzero(split == "valid"), test=np.flatnonzero(split == "test"))
    info = {
        "clips": len(fs), "segments": int(X.shape[0]), "shape": tuple(X.shape[1:]),
        "bytes": int(array.stat().st_size), "n_train": int((split == "train").sum()),
        "n_valid": int((split == "valid").sum()), "n_test": int((split == "test").sum()),
        "render_s": t_render, "features_s": t_features, "to_disk_s": t_disk,
        "features_stats": fs.stats,
    }
    del X
    return array, sides, info


def run_child(mode: str, array: Path, sides: Path, args) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--array", str(array), "--sides", str(sides),
           "--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--model", args.model]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"the {mode} run failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(info: dict, runs: dict, args) -> None:
    import keras
    import tensorflow as tf

    print(f"machine : {platform.machine()}, {os.cpu_count()} cpus, python {sys.version.split()[0]}, "
          f"tensorflow {tf.__version__}, keras {keras.__version__}")
    print(f"data    : synthetic, {args.clips_per_style} clips x {args.seconds:g} s x 10 styles = "
          f"{info['clips']} clips -> {info['segments']} log-mel segments of "
          f"{info['shape'][0]} x {info['shape'][1]} float32 "
          f"(train {info['n_train']} / valid {info['n_valid']} / test {info['n_test']}, split by recording)")
    print(f"prepare : render {info['render_s']:.0f} s, features {info['features_s']:.0f} s "
          f"({info['features_stats']['cached']} cached, {info['features_stats']['computed']} computed), "
          f"segments_to_disk {info['to_disk_s']:.1f} s")
    s, m = runs["stream"], runs["memory"]
    print(f"model   : {s['model']}, {s['parameters']} trainable parameters; {args.epochs} epochs, "
          f"batch {args.batch_size}\n")
    print(f"segment array on disk: {info['bytes'] / MB:,.0f} MB "
          f"(train side alone {info['bytes'] * info['n_train'] / info['segments'] / MB:,.0f} MB)\n")
    rows = [
        ("peak RSS during fit (psutil, 50 ms)", "rss"),
        ("  of which anonymous (RssAnon)", "anon"),
        ("  of which file-backed (RssFile)", "file"),
    ]
    print(f"{'':<40}{'streaming':>12}{'in memory':>12}{'ratio':>8}")
    for label, key in rows:
        a, b = s["peak_fit"][key], m["peak_fit"][key]
        ratio = f"{b / a:.2f}x" if a else "-"
        print(f"{label:<40}{a / MB:>9,.0f} MB{b / MB:>9,.0f} MB{ratio:>8}")
    print(f"{'RSS before fit (model built)':<40}{s['rss_before_fit'] / MB:>9,.0f} MB"
          f"{m['rss_before_fit'] / MB:>9,.0f} MB")
    print(f"{'peak RSS of the process (ru_maxrss)':<40}{s['ru_maxrss'] / MB:>9,.0f} MB"
          f"{m['ru_maxrss'] / MB:>9,.0f} MB{m['ru_maxrss'] / s['ru_maxrss']:>7.2f}x")
    print(f"{'training throughput':<40}{s['segments_per_s']:>7,.0f} seg/s{m['segments_per_s']:>7,.0f} seg/s"
          f"{s['segments_per_s'] / m['segments_per_s']:>7.2f}x")
    print(f"{'fit wall time':<40}{s['fit_seconds']:>10.1f} s{m['fit_seconds']:>10.1f} s")
    print(f"{'accuracy after last epoch (train/valid)':<40}{s['train_accuracy']:>6.2f}/{s['val_accuracy']:.2f}"
          f"{m['train_accuracy']:>7.2f}/{m['val_accuracy']:.2f}")
    peak = max(s["ru_maxrss"], s["peak_fit"]["rss"])
    verdict = "PASS" if peak < TARGET_BYTES else "MISS"
    print(f"\ntarget: streaming peak < 3 GB: {verdict} ({peak / 1e9:.2f} GB, ru_maxrss of the whole "
          f"streaming process)")


def main(argv=None) -> int:
    from musiclib.config import PROFILES

    full = PROFILES["full"]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips-per-style", type=int, default=full.clips_per_style)
    parser.add_argument("--seconds", type=float, default=full.clip_seconds)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--model", choices=("auto", "mel_cnn", "inline"), default="auto")
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "musiclib-streaming"))
    parser.add_argument("--keep", action="store_true", help="keep the segment .npy afterwards")
    parser.add_argument("--child", choices=("stream", "memory"), help=argparse.SUPPRESS)
    parser.add_argument("--array", help=argparse.SUPPRESS)
    parser.add_argument("--sides", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(child(args)))
        return 0

    t0 = time.perf_counter()
    array, sides, info = prepare_data(args)
    print(f"data ready in {time.perf_counter() - t0:.0f} s: {array} ({info['bytes'] / MB:,.0f} MB); "
          f"training twice ({args.epochs} epochs each) ...", flush=True)
    runs = {}
    for mode in ("stream", "memory"):
        runs[mode] = run_child(mode, array, sides, args)
        print(f"  {mode}: {runs[mode]['fit_seconds']:.0f} s", flush=True)
    print()
    report(info, runs, args)
    if not args.keep:
        array.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
