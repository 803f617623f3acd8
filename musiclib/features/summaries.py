"""What is made of a clip's frame features: per-clip summaries, segment matrices, dB.

:func:`clip_summary` (mean and standard deviation of every feature row, named by
:func:`summary_columns`), :func:`segment_starts` / :func:`segment_matrices` (fixed-length
frame matrices such as the ``130 x 13`` MFCC of 3 s segments) and :func:`power_to_db`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from ..errors import MusiclibError
from .config import FEATURE_GROUPS, FeatureConfig, as_feature_config, resolve_features
from .frames import frame_features

SUMMARY_STATS = ("mean", "std")

POWER_FLOOR = 1e-10  # power -> dB floor: -100 dB


def power_to_db(
    x: np.ndarray, *, out: np.ndarray | None = None, chunk_rows: int = 1024
) -> np.ndarray:
    """Power to decibels, ``10 * log10(max(x, 1e-10))`` (reference 1.0), as a new array.

    The reference is absolute rather than each clip's maximum, so levels stay comparable
    across clips (a quiet and a loud segment keep their difference); values at or below
    1e-10 become -100 dB. ``x`` is left unchanged unless it is passed as ``out``. The work
    goes a block of ``chunk_rows`` rows (first axis) at a time, so with ``out=x`` a
    ``np.memmap`` of segments on disk is converted in place while memory holds one block.

    Parameters
    ----------
    x : np.ndarray, shape (n, ...)
        Power values, e.g. mel segments ``(n_segments, frames, n_mels)``; any real dtype.
    out : np.ndarray, optional
        Writable float32 array of ``x``'s shape to write the result into (``out=x``: in
        place, e.g. on a ``np.memmap``). Default: a new float32 array.
    chunk_rows : int
        Rows of the first axis per block.

    Returns
    -------
    np.ndarray, float32, shape of ``x``
        The values in dB (``out`` when given).

    Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """
    source = x if isinstance(x, np.ndarray) else np.asarray(x)
    if out is None:
        out = np.empty(source.shape, dtype=np.float32)
    elif not (isinstance(out, np.ndarray) and out.dtype == np.float32 and out.flags.writeable
              and out.shape == source.shape):
        raise MusiclibError(
            f"power_to_db: out must be a writable float32 array of shape {source.shape}, got "
            f"{getattr(out, 'dtype', type(out).__name__)} {getattr(out, 'shape', '')}"
        )
    step = max(1, int(chunk_rows))
    blocks = [...] if out.ndim == 0 else [slice(i, i + step) for i in range(0, len(out), step)]
    for rows in blocks:
        block = out[rows]
        if out is not source:
            block[...] = source[rows]  # to float32 before the floor, as always
        np.maximum(block, np.float32(POWER_FLOOR), out=block)
        np.log10(block, out=block)
        block *= np.float32(10.0)
    return out


def _row_names(name: str, n_rows: int) -> list[str]:
    if n_rows == 1:
        return [name]
    width = len(str(n_rows))
    return [f"{name}_{i:0{width}d}" for i in range(1, n_rows + 1)]


def _summary_rows(name: str, config: FeatureConfig) -> int:
    if name == "mel" and config.mel_bins_summary is not None:
        return config.mel_bins_summary
    return config.n_rows(name)


def _summarised_features(config: FeatureConfig) -> list[str]:
    names = FEATURE_GROUPS["spectral"] + ["mfcc", "chroma", "mel"]
    if config.logspec_summary:
        names.append("logspec")
    return names


def summary_columns(
    group: str | Iterable[str] = "all", config: FeatureConfig | None = None
) -> list[str]:
    """Column names that :func:`clip_summary` gives a feature group.

    Parameters
    ----------
    group : str or list of str
        A key of :data:`FEATURE_GROUPS` (``"spectral"``, ``"mfcc"``, ``"chroma"``,
        ``"mel"``, ``"logspec"``), a feature name, ``"all"``, or a list of these.
    config : FeatureConfig, optional
        Gives the row counts (``n_mfcc``, ``mel_bins_summary``, ...).

    Returns
    -------
    list of str
        E.g. ``["zcr_mean", "zcr_std", "rms_mean", ..., "contrast_7_std"]`` for
        ``"spectral"``; ``mfcc_01_mean`` ... ``mfcc_13_std`` for ``"mfcc"``.

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    cfg = as_feature_config(config)
    summarised = _summarised_features(cfg)
    names = [name for name in resolve_features(group) if name in summarised]
    return [
        f"{row}_{stat}"
        for name in names
        for row in _row_names(name, _summary_rows(name, cfg))
        for stat in SUMMARY_STATS
    ]


def _pool_mel_db(mel: np.ndarray, n_groups: int | None) -> np.ndarray:
    """dB of the mel power, after averaging contiguous bands into ``n_groups`` groups."""
    import librosa

    mel = np.asarray(mel, dtype=np.float64)
    if n_groups is not None and n_groups != mel.shape[0]:
        mel = np.stack([part.mean(axis=0) for part in np.array_split(mel, n_groups, axis=0)])
    return librosa.power_to_db(mel, ref=1.0, top_db=None)


def clip_summary(
    features: Mapping[str, np.ndarray], config: FeatureConfig | None = None
) -> dict[str, float]:
    """Per-clip mean and standard deviation of every row of every frame feature.

    The table GTZAN's ``features_30_sec.csv`` is made of (with std instead of variance).
    Summarised: the spectral group, MFCC, chroma, mel (and the log-spectrogram if
    ``config.logspec_summary``); features missing from ``features`` are left out.

    The mel spectrogram is summarised in dB (``power_to_db``, ref 1.0) after averaging its
    power over ``config.mel_bins_summary`` contiguous groups of bands (12 groups: the
    "12-bin means" of source 001; ``None``: every band), because the mean of raw power is
    dominated by the loudest frames.

    Parameters
    ----------
    features : dict of str to np.ndarray
        From :func:`frame_features`, arrays of shape ``(rows, n_frames)``.
    config : FeatureConfig, optional

    Returns
    -------
    dict of str to float
        Keys ``<feature>[_<row>]_<stat>`` in :func:`summary_columns` order, e.g.
        ``zcr_mean``, ``zcr_std``, ``spectral_centroid_mean``, ``contrast_3_mean``,
        ``mfcc_01_mean``, ``chroma_12_std``, ``mel_01_mean``. Units as in
        :func:`frame_features` (mel: dB).

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    cfg = as_feature_config(config)
    summary: dict[str, float] = {}
    for name in _summarised_features(cfg):
        if name not in features:
            continue
        values = np.asarray(features[name], dtype=np.float64)
        if name == "mel":
            values = _pool_mel_db(values, cfg.mel_bins_summary)
        means = values.mean(axis=-1)
        stds = values.std(axis=-1)
        for row, mean, std in zip(_row_names(name, values.shape[0]), means, stds):
            summary[f"{row}_mean"] = float(mean)
            summary[f"{row}_std"] = float(std)
    return summary


def segment_starts(n_frames: int, config: FeatureConfig | None = None, *,
                   hop_seconds: float | None = None) -> np.ndarray:
    """First frame of every whole segment of a clip of ``n_frames`` frames.

    Segment ``k`` starts at the frame of time ``k * segment_seconds``
    (``floor(k * segment_seconds * sample_rate / hop_length)``) and holds
    :attr:`FeatureConfig.frames_per_segment` frames. Only segments that fit entirely in
    the clip are kept: nothing is padded and no segment reaches into another clip. Because
    3 s is not a whole number of hops (129.2 at the defaults), neighbouring segments may
    share one frame; a 30 s clip (1292 frames) gives 10 segments of 130 frames, as cutting
    the waveform into 3 s pieces first would.

    Parameters
    ----------
    n_frames : int
        Frames of the clip (:meth:`FeatureConfig.n_frames`).
    config : FeatureConfig, optional
        Gives ``segment_seconds``, ``sample_rate`` and ``hop_length``.
    hop_seconds : float, optional
        Seconds between the starts of neighbouring segments (default ``segment_seconds``:
        segments side by side, as the sources cut them). A shorter hop makes segments
        **overlap**: at 1 s, 3 s segments share 2 s with each neighbour and a 10 s clip
        gives 8 of them instead of 3 (``notebooks/04_segments_leakage_balance.ipynb``
        uses this to make the leak of a random split visible).

    Returns
    -------
    np.ndarray of int, shape (n_segments,)
        Frame indices; segment ``k`` covers frames ``starts[k]`` to
        ``starts[k] + frames_per_segment - 1``, i.e. from ``starts[k] * hop_length /
        sample_rate`` seconds.

    Taught in ``notebooks/03_mfcc_chroma_mel.ipynb``.
    """
    cfg = as_feature_config(config)
    if hop_seconds is None:
        hop_seconds = cfg.segment_seconds
    elif not float(hop_seconds) > 0:
        raise MusiclibError(f"hop_seconds must be positive, got {hop_seconds!r}")
    step = float(hop_seconds) * cfg.sample_rate / cfg.hop_length  # frames between starts, real
    fps = cfg.frames_per_segment
    if n_frames < fps:
        return np.zeros(0, dtype=np.int64)
    n_max = int((n_frames - fps) / step) + 2
    starts = np.floor(np.arange(n_max) * step + 1e-9).astype(np.int64)
    return starts[starts + fps <= n_frames]


def segment_matrices(
    features_or_y: Mapping[str, np.ndarray] | np.ndarray,
    config: FeatureConfig | None = None,
    feature: str = "mfcc",
) -> np.ndarray:
    """Cut one clip's frame feature into fixed-length segment matrices.

    Parameters
    ----------
    features_or_y : dict or np.ndarray
        The output of :func:`frame_features`, one feature's array of shape
        ``(rows, n_frames)``, or a mono signal of shape ``(n,)`` (its features are computed).
    config : FeatureConfig, optional
    feature : str
        Which frame feature (``"mfcc"``, ``"mel"``, ``"logspec"``, ...).

    Returns
    -------
    np.ndarray, float32, shape (n_segments, frames_per_segment, rows)
        Time first, as Keras layers expect: ``(10, 130, 13)`` for the MFCC of a 30 s clip at
        the defaults. See :func:`segment_starts` for where segments begin.

    Taught in ``notebooks/03_mfcc_chroma_mel.ipynb``.
    """
    cfg = as_feature_config(config)
    if isinstance(features_or_y, Mapping):
        frames = np.asarray(features_or_y[feature])
    else:
        arr = np.asarray(features_or_y)
        frames = frame_features(arr, cfg, features=[feature])[feature] if arr.ndim == 1 else arr
    if frames.ndim != 2:
        raise MusiclibError(f"segment_matrices expects (rows, n_frames), got shape {frames.shape}")
    return _cut_segments(frames, cfg)


def _cut_segments(frames: np.ndarray, cfg: FeatureConfig, out: np.ndarray | None = None, *,
                  hop_seconds: float | None = None) -> np.ndarray:
    fps = cfg.frames_per_segment
    starts = segment_starts(frames.shape[1], cfg, hop_seconds=hop_seconds)
    if out is None:
        out = np.empty((len(starts), fps, frames.shape[0]), dtype=np.float32)
    for k, s in enumerate(starts):
        out[k] = frames[:, s : s + fps].T
    return out
