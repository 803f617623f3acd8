"""Features of a whole manifest, in parallel, into the cache: :func:`extract_dataset`.

Each row is one task for :func:`_extract_one`, run in this process, in joblib (loky)
worker processes or on a Dask cluster; workers write the cache entries and return small
records, never arrays.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .. import safe_write
from ..errors import AudioFileError, MusiclibError
from .cache import (
    FeatureSet,
    _read_entry,
    _save_npy,
    _write_record,
    cache_key,
    clean_stale_tmp,
    file_identity,
)
from .config import (
    FEATURES_VERSION,
    FRAME_FEATURES,
    FeatureConfig,
    as_feature_config,
    resolve_features,
)
from .frames import frame_features
from .summaries import _summarised_features, clip_summary, summary_columns

ENV_DASK_SCHEDULER = "MUSICLIB_DASK_SCHEDULER"


def _augment_of(row: Mapping) -> dict | None:
    """The augmentation of a manifest row (``augment`` / ``augment_seed`` columns), or None.

    None, NaN and ``""`` in ``augment`` mean "not augmented". Returns
    :func:`musiclib.augment.augment_identity` (strength, seed, recipe hash).
    """
    strength = row.get("augment")
    if strength is None or (not isinstance(strength, str) and pd.isna(strength)):
        return None
    if not str(strength).strip():
        return None
    seed = row.get("augment_seed")
    if seed is None or pd.isna(seed):
        raise MusiclibError(
            f"manifest: track_id {row['track_id']!r} has augment={strength!r} but no augment_seed"
        )
    from .. import augment

    return augment.augment_identity(str(strength).strip(), int(seed))


def _computed_features(stored: Iterable[str], cfg: FeatureConfig) -> list[str]:
    """The frame features a worker computes: those it stores and those :func:`clip_summary` uses."""
    needed = set(stored) | set(_summarised_features(cfg))
    return [name for name in FRAME_FEATURES if name in needed]


def _extract_one(task: dict) -> dict:
    """Worker: features of one manifest row into its cache entry. Returns a small record.

    Runs in loky worker processes, Dask workers or in-process; never returns arrays.
    """
    from librosa.util.exceptions import ParameterError

    from .. import audio

    cfg = FeatureConfig.from_dict(task["config"])
    entry = Path(task["entry"])
    wanted = task["features"]
    base = {"track_id": task["track_id"], "path": task["path"]}
    record = _read_entry(entry, wanted)
    if record is not None:  # another worker or run got there first
        return {**base, "status": "cached", "record": record}
    try:
        y = audio.load(
            task["path"], sr=cfg.sample_rate, offset_s=task["offset_s"], duration_s=task["duration_s"]
        )
        if y.size == 0:
            raise AudioFileError(task["path"], f"empty: no samples at offset {task['offset_s']:g} s")
        if task.get("augment"):  # an augmented copy of a training row (musiclib.augment)
            from .. import augment

            aug = task["augment"]
            y = augment.augment_signal(
                y, sr=cfg.sample_rate, strength=aug["strength"], seed=aug["seed"]
            )
        # only what is stored or summarised: the 1025-row log-spectrogram is often neither
        feats = frame_features(y, cfg, features=_computed_features(wanted, cfg))
    except AudioFileError as err:
        return {**base, "status": "skipped", "reason": err.reason}
    except (MusiclibError, ParameterError, ValueError, FloatingPointError) as err:
        return {**base, "status": "skipped", "reason": f"features failed: {' '.join(str(err).split())}"}
    summary = clip_summary(feats, cfg)
    entry.mkdir(parents=True, exist_ok=True)
    old = _read_entry(entry, []) or {}
    stored = {k: v for k, v in old.get("stored", {}).items() if (entry / f"{k}.npy").is_file()}
    for name in wanted:
        arr = feats[name]
        stored[name] = {"shape": list(arr.shape), "bytes": _save_npy(entry / f"{name}.npy", arr)}
    record = {
        "features_version": FEATURES_VERSION,
        "config_hash": cfg.config_hash,
        "identity": task["identity"],
        "n_samples": int(y.size),
        "n_frames": int(next(iter(feats.values())).shape[1]),
        "stored": stored,
        "summary": summary,
    }
    _write_record(entry, record)  # written last: marks the entry complete
    return {**base, "status": "computed", "record": record}


def _scheduler_address(scheduler):
    if scheduler is None:
        scheduler = os.environ.get(ENV_DASK_SCHEDULER, "").strip() or None
    return scheduler


def _run_local(tasks: list[dict], jobs: int, bar) -> Iterator[dict]:
    if jobs == 1 or len(tasks) <= 1:
        for task in tasks:
            yield _extract_one(task)
            bar.update(1)
        return
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")
    for result in parallel(delayed(_extract_one)(t) for t in tasks):
        yield result
        bar.update(1)


def _run_dask(tasks: list[dict], scheduler, bar) -> Iterator[dict]:
    from dask.distributed import Client, as_completed

    own = not isinstance(scheduler, Client)
    client = Client(scheduler) if own else scheduler
    try:
        futures = client.map(_extract_one, tasks, pure=False)
        for future in as_completed(futures):
            yield future.result()
            bar.update(1)
    finally:
        if own:
            client.close()


def extract_dataset(
    manifest: pd.DataFrame,
    config: FeatureConfig | None = None,
    *,
    cache_dir: str | os.PathLike,
    jobs: int = 1,
    progress: bool = True,
    scheduler=None,
    features: str | Iterable[str] | None = ("all",),
) -> FeatureSet:
    """Frame features and summaries of every row of a manifest, cached on disk.

    Each row is loaded with ``audio.load(path, sr=config.sample_rate, offset_s=...,
    duration_s=...)``, its :func:`frame_features` are computed and the asked-for ones saved
    as float32 ``.npy`` files (memory-mappable), with its :func:`clip_summary` in a small
    ``summary.json`` written last. Every file is written under a temporary name and renamed
    into place, so an interrupted run leaves no half-written entry and the next run
    resumes; temporary files that killed runs left are removed.

    Cache layout: ``<cache_dir>/features-<config_hash>/<key>/`` where ``key`` hashes the
    file's absolute path, size, modification time and the part read (:func:`cache_key`):
    editing a file or a setting never serves stale features.

    Augmented rows (from :func:`musiclib.augment.augment_manifest`): a row whose optional
    ``augment`` column is set (a strength; None, NaN or ``""`` mean "not augmented") is
    loaded as usual and then passed through ``augment.augment_signal(y, sr=...,
    strength=row.augment, seed=row.augment_seed)`` before its features are computed. Its
    file identity gains an ``"augment"`` entry (:func:`musiclib.augment.augment_identity`:
    strength, seed, recipe hash), so its cache entry never collides with the original's;
    rows without augmentation keep exactly the identity, hence the cache entry, they had
    before. ``summaries`` keeps the ``augment`` and ``augment_seed`` columns.

    Parameters
    ----------
    manifest : pandas.DataFrame
        From :mod:`musiclib.datasets` (``track_id``, ``path``, ``label``, ``duration_s``,
        ``group``, ``offset_s``, ``split``); ``track_id`` must be unique.
    config : FeatureConfig, optional
    cache_dir : path
        Where the cache lives (shared by every config; each has its own folder).
    jobs : int
        Worker processes (joblib, loky backend); ``-1`` for every core; 1 runs in this
        process.
    progress : bool
        Show progress: a tqdm bar in a terminal, a few text lines in a notebook or a log
        (:func:`musiclib.progress.progress`).
    scheduler : str or dask.distributed.Client, optional
        Run on a Dask cluster instead (default ``$MUSICLIB_DASK_SCHEDULER``): the workers
        must see ``cache_dir`` and the audio files at the same paths, and have musiclib
        installed. ``jobs`` is then ignored.
    features : str or list of str, optional
        Frame features to store (names, :data:`FEATURE_GROUPS` keys or ``"all"``; default
        all); ``None`` or ``()`` stores none (summaries only). Workers compute only the
        features stored or summarised (:func:`clip_summary`). The log-spectrogram is by far the
        biggest (1025 rows: 5.3 MB per 30 s clip).

    Returns
    -------
    FeatureSet

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    from ..progress import progress as tqdm  # a bar in a terminal, text lines elsewhere

    t0 = time.perf_counter()
    cfg = as_feature_config(config)
    wanted = [] if features is None or not len(features) else resolve_features(features)
    manifest = manifest.reset_index(drop=True)
    if manifest["track_id"].duplicated().any():
        dup = manifest.loc[manifest["track_id"].duplicated(), "track_id"].iloc[0]
        raise MusiclibError(f"manifest: track_id {dup!r} appears more than once")
    folder = Path(cache_dir).expanduser().absolute() / f"features-{cfg.config_hash}"
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "config.json").is_file():
        safe_write.write_json(folder / "config.json", {"features_version": FEATURES_VERSION, **cfg.to_dict()})
    clean_stale_tmp(folder)

    records: dict[str, dict] = {}
    entries: dict[str, Path] = {}
    skipped: list[dict] = []
    tasks: list[dict] = []
    cached = computed = 0
    for row in manifest.to_dict("records"):
        offset = float(row.get("offset_s") or 0.0)
        duration = row.get("duration_s")
        duration = None if duration is None or pd.isna(duration) else float(duration)
        try:
            identity = file_identity(row["path"], offset_s=offset, duration_s=duration)
        except OSError as err:
            skipped.append({"track_id": row["track_id"], "path": str(row["path"]),
                            "reason": f"file not found: {err.strerror or err}"})
            continue
        augment = _augment_of(row)
        if augment is not None:  # only augmented rows get the extra key: old caches stay valid
            identity["augment"] = augment
        entry = folder / cache_key(identity)
        entries[row["track_id"]] = entry
        record = _read_entry(entry, wanted)
        if record is not None:
            records[row["track_id"]] = record
            cached += 1
            continue
        tasks.append({
            "track_id": row["track_id"], "path": identity["path"], "offset_s": offset,
            "duration_s": duration, "identity": identity, "entry": str(entry),
            "features": wanted, "config": cfg.to_dict(), "augment": augment,
        })

    address = _scheduler_address(scheduler)
    with tqdm(total=len(manifest), initial=len(manifest) - len(tasks), desc="features",
              unit="clip", disable=not progress) as bar:
        results = _run_dask(tasks, address, bar) if address is not None else _run_local(tasks, jobs, bar)
        for res in results:
            if res["status"] == "skipped":
                skipped.append({"track_id": res["track_id"], "path": res["path"], "reason": res["reason"]})
                continue
            records[res["track_id"]] = res["record"]
            if res["status"] == "cached":
                cached += 1
            else:
                computed += 1

    ok = manifest[manifest["track_id"].isin(records)].reset_index(drop=True)
    columns = summary_columns("all", cfg)
    values = np.array(
        [[records[t]["summary"].get(c, np.nan) for c in columns] for t in ok["track_id"]],
        dtype=np.float64,
    ).reshape(len(ok), len(columns))
    summaries = pd.concat([ok, pd.DataFrame(values, columns=columns)], axis=1)
    skipped_df = pd.DataFrame(skipped, columns=["track_id", "path", "reason"])
    order = {t: i for i, t in enumerate(manifest["track_id"])}
    skipped_df = skipped_df.sort_values("track_id", key=lambda s: s.map(order)).reset_index(drop=True)
    return FeatureSet(
        config=cfg,
        summaries=summaries,
        skipped=skipped_df,
        stats={"cached": cached, "computed": computed, "skipped": len(skipped_df),
               "seconds": time.perf_counter() - t0},
        folder=folder,
        features=wanted,
        _entries={t: (entries[t], int(records[t]["n_frames"])) for t in ok["track_id"]},
    )
