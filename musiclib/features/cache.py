"""The on-disk feature cache: entry names, entry files, and :class:`FeatureSet`.

Layout: ``<cache_dir>/features-<config_hash>/<key>/`` holds one manifest row's frame
features as float32 ``<name>.npy`` files and ``summary.json`` (its clip summary and what
the entry stores), written last: an entry without it is incomplete. ``key`` is
:func:`cache_key` of the row's :func:`file_identity`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import safe_write
from .config import FeatureConfig
from .summaries import _cut_segments, segment_starts

_HOST = safe_write.HOST  # kept for code that built temporary names with it


def clean_stale_tmp(folder: str | os.PathLike) -> int:
    """Remove the temporary files that killed runs left in a feature cache.

    A temporary file (``.<name>.tmp-<host>-<pid>-<random>``) counts as abandoned when its
    writer's process on this host is gone, or, from another host, after a day
    (:func:`musiclib.safe_write.clean_stale`); a live writer's files are kept.

    Parameters
    ----------
    folder : path
        A cache folder (or any folder); searched recursively. Missing: nothing to do.

    Returns
    -------
    int
        How many files and folders were removed.

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    return safe_write.clean_stale(folder)


def file_identity(path: str | os.PathLike, *, offset_s: float = 0.0, duration_s: float | None = None) -> dict:
    """What identifies the audio a manifest row stands for: the file's absolute path,
    size and modification time (ns), and the part read (seconds).

    Editing the file changes its size or modification time, hence its :func:`cache_key`:
    the cache never serves features of an older version of a file.

    Parameters
    ----------
    path : path
        The audio file (must exist; made absolute).
    offset_s : float
        Start of the part read, in seconds.
    duration_s : float, optional
        Length of the part read, in seconds; None (or NaN): to the end of the file.

    Returns
    -------
    dict
        ``path`` (str), ``size`` (bytes), ``mtime_ns`` (ns since the epoch),
        ``offset_s`` (float, s) and ``duration_s`` (float in s, or None).

    Raises
    ------
    OSError
        When the file cannot be found or read (``stat``).

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    p = Path(path).expanduser().absolute()
    st = p.stat()
    return {
        "path": str(p),
        "size": int(st.st_size),
        "mtime_ns": int(st.st_mtime_ns),
        "offset_s": float(offset_s or 0.0),
        "duration_s": None if duration_s is None or pd.isna(duration_s) else float(duration_s),
    }


def cache_key(identity: Mapping) -> str:
    """24 hex digits of sha256 over a :func:`file_identity`: the name of its cache entry.

    Parameters
    ----------
    identity : dict
        A :func:`file_identity`, possibly with extra keys (an augmented row adds
        ``"augment"``); key order does not matter.

    Returns
    -------
    str
        24 lowercase hex digits, the same in every process and on every machine.

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    text = json.dumps(dict(identity), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


_SUMMARY_FILE = "summary.json"


def _read_entry(entry: Path, wanted: Sequence[str]) -> dict | None:
    """The entry's summary record if the entry holds everything ``wanted``, else None."""
    try:
        with open(entry / _SUMMARY_FILE, encoding="utf-8") as fh:
            record = json.load(fh)
    except (OSError, ValueError):
        return None
    stored = record.get("stored", {})
    for name in wanted:
        info = stored.get(name)
        if info is None:
            return None
        try:
            if os.stat(entry / f"{name}.npy").st_size != info["bytes"]:
                return None
        except OSError:
            return None
    return record


def _save_npy(path: Path, array: np.ndarray) -> int:
    """Save one frame feature of an entry (all or nothing); returns the file's size in bytes."""
    safe_write.write_file(path, lambda fh: np.save(fh, array, allow_pickle=False))
    return path.stat().st_size


def _write_record(entry: Path, record: dict) -> None:
    """Write the entry's ``summary.json``: last, since its presence marks the entry complete."""
    safe_write.write_json(entry / _SUMMARY_FILE, record)


@dataclass
class FeatureSet:
    """Features of a dataset, backed by the on-disk cache.

    Attributes
    ----------
    config : FeatureConfig
    summaries : pandas.DataFrame
        One row per extracted manifest row: the manifest columns, then the
        :func:`clip_summary` columns (see :func:`summary_columns`).
    skipped : pandas.DataFrame
        Columns ``track_id``, ``path``, ``reason``: rows that could not be extracted.
    stats : dict
        ``cached``, ``computed``, ``skipped`` (row counts) and ``seconds`` (wall time).
    folder : Path
        The cache folder of this config (``<cache_dir>/features-<config_hash>``).
    features : list of str
        Frame features stored for every extracted row.

    Taught in ``notebooks/02_spectral_features.ipynb`` and
    ``notebooks/03_mfcc_chroma_mel.ipynb``.
    """

    config: FeatureConfig
    summaries: pd.DataFrame
    skipped: pd.DataFrame
    stats: dict
    folder: Path
    features: list[str]
    _entries: dict[str, tuple[Path, int]] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.summaries)

    @property
    def track_ids(self) -> list[str]:
        """The ``track_id`` of every extracted row, in ``summaries`` order."""
        return list(self.summaries["track_id"])

    def n_frames(self, track_id: str) -> int:
        """Frames of one row's features (``FeatureConfig.n_frames`` of its samples).

        Parameters
        ----------
        track_id : str
            A row of ``summaries``.

        Returns
        -------
        int
            Frames (columns) of every frame feature of that row.
        """
        return self._entry(track_id)[1]

    def _entry(self, track_id: str) -> tuple[Path, int]:
        try:
            return self._entries[track_id]
        except KeyError:
            raise KeyError(f"no features for track_id {track_id!r}") from None

    def frames(self, track_id: str, name: str = "mfcc") -> np.ndarray:
        """One row's frame feature, memory-mapped read-only from the cache.

        Parameters
        ----------
        track_id : str
            A row of ``summaries``.
        name : str
            A stored frame feature (see :attr:`features`).

        Returns
        -------
        np.memmap, float32, shape (rows, n_frames)
            Units as in :func:`~musiclib.features.frame_features`.

        Raises
        ------
        KeyError
            When the row was not extracted or ``name`` was not stored.

        Taught in ``notebooks/03_mfcc_chroma_mel.ipynb``.
        """
        self._check_stored(name)
        entry, _ = self._entry(track_id)
        return np.load(entry / f"{name}.npy", mmap_mode="r")

    def _check_stored(self, name: str) -> None:
        if name not in self.features:
            raise KeyError(
                f"feature {name!r} was not stored (stored: {', '.join(self.features) or 'none'}); "
                f"extract with features=[{name!r}]"
            )

    def segments(
        self,
        name: str = "mfcc",
        *,
        track_ids: Iterable[str] | None = None,
        out: str | os.PathLike | None = None,
        hop_seconds: float | None = None,
    ) -> tuple[np.ndarray, pd.DataFrame]:
        """Segment matrices of every row (see :func:`segment_matrices`), streamed from disk.

        Each row's array is memory-mapped and copied into one preallocated float32 array,
        so memory holds the result and one clip at a time.

        Parameters
        ----------
        name : str
            Frame feature, e.g. ``"mfcc"`` or ``"mel"``.
        track_ids : list of str, optional
            Only these rows (default all, in ``summaries`` order).
        out : path, optional
            Write the result to this ``.npy`` file (memory-mapped, for data larger than
            memory) instead of memory.
        hop_seconds : float, optional
            Seconds between segment starts (default: the segment length, no overlap); see
            :func:`segment_starts`.

        Returns
        -------
        X : np.ndarray, float32, shape (n_segments, frames_per_segment, rows)
        meta : pandas.DataFrame
            One row per segment: ``track_id``, ``label``, ``group``, ``split``,
            ``augment`` (only if the manifest had it), ``segment`` (index within its clip)
            and ``start_s``.

        Taught in ``notebooks/03_mfcc_chroma_mel.ipynb``.
        """
        self._check_stored(name)
        cfg = self.config
        table = self.summaries
        if track_ids is not None:
            table = table.set_index("track_id").loc[list(track_ids)].reset_index()
        starts = [segment_starts(self.n_frames(t), cfg, hop_seconds=hop_seconds) for t in table["track_id"]]
        total = int(sum(len(s) for s in starts))
        shape = (total, cfg.frames_per_segment, cfg.n_rows(name))
        if out is not None:
            X = np.lib.format.open_memmap(Path(out), mode="w+", dtype=np.float32, shape=shape)
        else:
            X = np.empty(shape, dtype=np.float32)
        pos = 0
        for track_id, s in zip(table["track_id"], starts):
            if len(s):
                _cut_segments(self.frames(track_id, name), cfg, out=X[pos : pos + len(s)], hop_seconds=hop_seconds)
                pos += len(s)
        cols = [c for c in ("track_id", "label", "group", "split", "augment") if c in table]
        counts = [len(s) for s in starts]
        meta = table[cols].loc[table.index.repeat(counts)].reset_index(drop=True)
        meta["segment"] = np.concatenate([np.arange(len(s)) for s in starts]) if total else []
        meta["start_s"] = (
            np.concatenate(starts).astype(np.float64) * cfg.hop_length / cfg.sample_rate if total else []
        )
        if out is not None:
            X.flush()
        return X, meta
