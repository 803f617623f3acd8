"""Benchmark of musiclib.features: ratios measured side by side in one run.

    python benchmarks/features.py [--quick] [--full] [--jobs N] [--work DIR]

(a) the full feature set of one 10 s clip: musiclib.features.frame_features (one STFT, one
    tuning estimate) against the plain way (each librosa feature from the waveform, chroma
    with its own tuning estimate); one process. Target 3x.
(b) extract_dataset on the synthetic ``fast`` profile (100 clips of 10 s; --quick: 80):
    2 worker processes against 1. Target 1.6x.
(c) a second extract_dataset served from the cache against the first. Target 20x.
(d) --full only (minutes): peak memory of the process and its workers (psutil, sampled
    every 0.1 s, plus getrusage's maxrss) while extracting the full synthetic profile
    (100 clips x 30 s x 10 styles) and streaming its MFCC segments. Target < 2 GB.

Every time is the median of several repeats: the course's reference machine is a shared
2-core box whose timings wander. Output: one line per measurement, each ratio with its
target and PASS or MISS.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import librosa  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from musiclib import datasets, synth  # noqa: E402
from musiclib import features as F  # noqa: E402

SR = 22050


def plain_features(y: np.ndarray, cfg: F.FeatureConfig) -> dict[str, np.ndarray]:
    """The plain way: every librosa feature called on its own from the waveform."""
    kw = dict(n_fft=cfg.n_fft, hop_length=cfg.hop_length)
    sr = cfg.sample_rate
    return {
        "zcr": librosa.feature.zero_crossing_rate(y=y, frame_length=cfg.n_fft, hop_length=cfg.hop_length),
        "rms": librosa.feature.rms(y=y, frame_length=cfg.n_fft, hop_length=cfg.hop_length),
        "spectral_centroid": librosa.feature.spectral_centroid(y=y, sr=sr, **kw),
        "spectral_bandwidth": librosa.feature.spectral_bandwidth(y=y, sr=sr, **kw),
        "spectral_rolloff": librosa.feature.spectral_rolloff(y=y, sr=sr, roll_percent=cfg.roll_percent, **kw),
        "spectral_flatness": librosa.feature.spectral_flatness(y=y, **kw),
        "contrast": librosa.feature.spectral_contrast(
            y=y, sr=sr, fmin=cfg.contrast_fmin, n_bands=cfg.n_bands, **kw
        ),
        "mel": librosa.feature.melspectrogram(y=y, sr=sr, n_mels=cfg.n_mels, **kw),
        "mfcc": librosa.feature.mfcc(y=y, sr=sr, n_mfcc=cfg.n_mfcc, n_mels=cfg.n_mels, **kw),
        "chroma": librosa.feature.chroma_stft(y=y, sr=sr, n_chroma=cfg.n_chroma, **kw),
        "logspec": librosa.amplitude_to_db(np.abs(librosa.stft(y, **kw)), ref=1.0, top_db=None),
    }


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def verdict(ratio: float, target: float, *, higher_is_better: bool = True) -> str:
    ok = ratio >= target if higher_is_better else ratio <= target
    return "PASS" if ok else "MISS"


def report(label: str, ratio: float, target: float, detail: str) -> None:
    print(f"{label:<58s} {ratio:7.2f}x  target {target:g}x  {verdict(ratio, target)}   ({detail})")


# ----------------------------------------------------------------------------------- (a)


def bench_per_clip(repeats: int) -> None:
    cfg = F.FeatureConfig()
    y = synth.render_clip("epiano_jazz", 10.0, seed=0)
    F.frame_features(y, cfg), plain_features(y, cfg)  # warm-up: numba, FFT plans
    ours = median_time(lambda: F.frame_features(y, cfg), repeats)
    plain = median_time(lambda: plain_features(y, cfg), repeats)
    report("(a) per clip, musiclib vs plain librosa (default BLAS)", plain / ours, 3.0,
           f"10 s clip: {ours * 1e3:.0f} ms vs {plain * 1e3:.0f} ms, median of {repeats}")
    # The same with BLAS single-threaded for both: what sharing the STFT and tuning alone buys.
    with threadpool_limits(limits=1, user_api="blas"):
        ours1 = median_time(lambda: F.frame_features(y, cfg), repeats)
        plain1 = median_time(lambda: plain_features(y, cfg), repeats)
    report("(a') per clip, both with single-threaded BLAS", plain1 / ours1, 3.0,
           f"{ours1 * 1e3:.0f} ms vs {plain1 * 1e3:.0f} ms")


# ------------------------------------------------------------------------------- (b), (c)


def render(work: Path, *, profile: str, clips_per_style: int | None, jobs: int) -> datasets.Dataset:
    folder = work / f"synthetic-{profile}-{clips_per_style or 'all'}"
    t0 = time.perf_counter()
    synth.write_dataset(folder, profile=profile, seed=0, clips_per_style=clips_per_style, jobs=jobs)
    ds = datasets.from_folder(folder, check=False, name="synthetic", kind="synthetic")
    print(f"    dataset: {len(ds)} clips of {ds.manifest['duration_s'].median():g} s "
          f"({profile} profile) ready in {time.perf_counter() - t0:.1f} s: {folder}")
    return ds


def bench_dataset(work: Path, *, quick: bool, jobs: int, repeats: int) -> None:
    ds = render(work, profile="fast", clips_per_style=8 if quick else None, jobs=jobs)
    manifest = ds.manifest
    caches = work / "caches"
    shutil.rmtree(caches, ignore_errors=True)
    count = iter(range(10**6))

    def run(n_jobs: int, cache: Path | None = None):
        cache = cache or caches / f"run{next(count)}"
        t0 = time.perf_counter()
        fs = F.extract_dataset(manifest, cache_dir=cache, jobs=n_jobs, progress=False)
        return time.perf_counter() - t0, fs, cache

    run(1, caches / "warm-up")  # numba and imports of this process
    serial = [run(1) for _ in range(repeats)]
    t1 = statistics.median(t for t, _, _ in serial)
    # The first parallel run starts the loky workers (imports, numba in each); joblib keeps
    # them for later calls, as a notebook's second call finds them.
    cold, _, _ = run(jobs)
    warm = statistics.median(run(jobs)[0] for _ in range(repeats))
    report(f"(b) dataset, {jobs} worker processes vs 1 (workers started)", t1 / warm, 1.6,
           f"{len(manifest)} clips: {t1:.2f} s vs {warm:.2f} s, median of {repeats}")
    print(f"    {'(b) the same, first call: starting the workers included':<58s} {t1 / cold:7.2f}x"
          f"  (informative: {cold:.2f} s)")

    _, fs, cache = serial[0]
    first = statistics.median(t for t, _, _ in serial)
    again = [run(1, cache) for _ in range(max(3, repeats))]
    assert all(fs2.stats["cached"] == len(fs) and fs2.stats["computed"] == 0 for _, fs2, _ in again)
    t_cached = statistics.median(t for t, _, _ in again)
    report("(c) second run from the cache vs first run", first / t_cached, 20.0,
           f"{first:.2f} s vs {t_cached * 1e3:.0f} ms")


# ----------------------------------------------------------------------------------- (d)


class PeakMemory:
    """Peak resident memory of this process plus its children, sampled in a thread."""

    def __init__(self, interval: float = 0.1):
        import psutil

        self.proc = psutil.Process()
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except Exception:  # the process ended between listing and reading
                pass
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


def bench_memory(work: Path, *, jobs: int) -> None:
    ds = render(work, profile="full", clips_per_style=None, jobs=jobs)
    cache = work / "caches" / "full"
    shutil.rmtree(cache, ignore_errors=True)
    t0 = time.perf_counter()
    with PeakMemory() as mem:
        fs = F.extract_dataset(ds.manifest, cache_dir=cache, jobs=jobs, progress=True)
        t_extract = time.perf_counter() - t0
        X, meta = fs.segments("mfcc")
    self_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    child_max = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    gb = 1024**3
    print(f"    extracted {fs.stats['computed']} clips in {t_extract:.0f} s; segments {X.shape} "
          f"({X.nbytes / 2**20:.0f} MiB)")
    print(f"{'(d) peak memory, full profile (process + workers, sampled)':<58s} {mem.peak / gb:7.2f} GB"
          f"  target < 2 GB  {'PASS' if mem.peak < 2 * gb else 'MISS'}"
          f"   (maxrss: this process {self_max / gb:.2f} GB, largest child {child_max / gb:.2f} GB)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and 80 clips for (b) and (c)")
    parser.add_argument("--full", action="store_true", help="also (d): the full profile, minutes")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for (b) and (d) (default 2)")
    parser.add_argument("--work", type=Path, help="keep rendered data and caches here (default: a temp dir)")
    args = parser.parse_args(argv)

    blas = ", ".join(f"{i['internal_api']} {i['num_threads']} threads" for i in threadpool_info()
                     if i["user_api"] == "blas")
    print(f"musiclib.features benchmark: {platform.node()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, librosa {librosa.__version__}, numpy {np.__version__}, {blas}")
    print(f"config {F.FeatureConfig().config_hash} (FEATURES_VERSION {F.FEATURES_VERSION})")
    work = args.work or Path(tempfile.mkdtemp(prefix="musiclib-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        bench_per_clip(repeats=7 if args.quick else 15)
        bench_dataset(work, quick=args.quick, jobs=args.jobs, repeats=2 if args.quick else 3)
        if args.full:
            bench_memory(work, jobs=args.jobs)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
