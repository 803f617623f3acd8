"""The VAE's data: normalised log-magnitude spectrogram segments of a split manifest.

:func:`prepare` cuts every recording into segments, takes the log-magnitude STFT of each
(absolute dB, ``amplitude_to_db(|STFT|, ref=1.0)``, through
:func:`musiclib.features.extract_dataset` and its cache), crops it to the model's
``(frames, bins)`` and min-max normalises every side with the minimum and maximum dB of the
**training** side only (:func:`normalise`; :func:`denormalise` is its inverse). Those two
numbers travel with the model (``vae.json``): a sample from the prior has no file whose
level it could borrow.

Taught in ``notebooks/08_vae_generation.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import MusiclibError
from .config import VAEConfig

SIDES = ("train", "valid", "test")  # the sides of a split, in the order VAEData holds them


@dataclass
class VAEData:
    """Normalised log-spectrogram segments of every side; what :func:`prepare` returns.

    Attributes
    ----------
    labels : list of str
        The style labels, sorted; a label index (``y``, the one-hot order) points into it.
    x : dict of str to np.ndarray
        Per side (``"train"``, ``"valid"``, ``"test"``): float32 ``(n, frames, bins)``
        normalised to [0, 1] with ``stats`` (time first, frequency second; ``n`` may be 0).
    y : dict of str to np.ndarray
        Per side: int32 ``(n,)`` label index of each segment.
    meta : dict of str to pandas.DataFrame
        Per side: one row per segment with ``track_id``, ``label``, ``group``, ``split``,
        ``segment``, ``start_s`` (seconds into the recording).
    stats : dict
        ``{"min": dB, "max": dB}`` of the training side's segments (the part the model sees).
    config : VAEConfig
        The settings the segments were made with.
    """

    labels: list[str]
    x: dict
    y: dict
    meta: dict
    stats: dict
    config: VAEConfig

    def groups(self, side: str) -> np.ndarray:
        """The recording (group) of every segment of ``side``.

        Parameters
        ----------
        side : str
            ``"train"``, ``"valid"`` or ``"test"``.

        Returns
        -------
        np.ndarray, shape (n,)
            ``meta[side]["group"]``, aligned with ``x[side]``.
        """
        return self.meta[side]["group"].to_numpy()


def _fit_shape(x: np.ndarray, frames: int, bins: int, fill: float) -> np.ndarray:
    """Crop or pad ``(n, F, B)`` to ``(n, frames, bins)`` (padding with ``fill``)."""
    n, f, b = x.shape
    out = np.full((n, frames, bins), fill, dtype=np.float32)
    out[:, : min(f, frames), : min(b, bins)] = x[:, :frames, :bins]
    return out


def normalise(db: np.ndarray, stats: dict) -> np.ndarray:
    """dB -> [0, 1] with the training statistics.

    Parameters
    ----------
    db : np.ndarray
        Log-magnitude spectrogram(s) in dB, any shape (e.g. ``(n, frames, bins)``).
    stats : dict
        ``{"min": dB, "max": dB}``, e.g. ``VAEData.stats`` or a loaded VAE's ``stats``.

    Returns
    -------
    np.ndarray
        float32, the shape of ``db``: ``(db - min) / (max - min)``, clipped to [0, 1]
        (values outside the training range are clipped).
    """
    lo, hi = float(stats["min"]), float(stats["max"])
    return np.clip((np.asarray(db, dtype=np.float32) - lo) / max(hi - lo, 1e-6), 0.0, 1.0).astype(np.float32)


def denormalise(x: np.ndarray, stats: dict) -> np.ndarray:
    """[0, 1] -> dB, the inverse of :func:`normalise`.

    Parameters
    ----------
    x : np.ndarray
        Normalised spectrogram(s), any shape (e.g. ``(n, frames, bins)``), values in [0, 1].
    stats : dict
        ``{"min": dB, "max": dB}`` the spectrograms were normalised with.

    Returns
    -------
    np.ndarray
        float32 dB (``amplitude_to_db`` with ``ref=1.0``), the shape of ``x``:
        ``x * (max - min) + min``.
    """
    lo, hi = float(stats["min"]), float(stats["max"])
    return (np.asarray(x, dtype=np.float32) * (hi - lo) + lo).astype(np.float32)


def prepare(manifest: pd.DataFrame, settings, config: VAEConfig | None = None, *, jobs: int = 1) -> VAEData:
    """Log-spectrogram segments of a split manifest, normalised with training statistics.

    Parameters
    ----------
    manifest : pandas.DataFrame
        With a complete ``split`` column made by recording
        (:func:`musiclib.splits.assign_splits`).
    settings : musiclib.config.Settings
        Where the feature cache lives (``cache_dir / "features"``), the sample rate in Hz.
    config : VAEConfig, optional
        Default: :meth:`VAEConfig.for_profile` of the settings' profile.
    jobs : int
        Worker processes for the feature extraction.

    Returns
    -------
    VAEData
        ``x[side]`` float32 ``(n, frames, bins)`` in [0, 1]: each segment's spectrogram
        cropped to ``(frames, bins)`` (the Nyquist bin dropped), or padded with the training
        minimum where shorter. ``stats`` holds the minimum and maximum dB of the **training**
        segments only (the minimum raised to ``max - config.dynamic_range_db`` where that is
        higher: quieter cells become 0); every side is normalised with them.

    Raises
    ------
    MusiclibError
        The ``split`` column is missing or incomplete, a recording straddles sides, or the
        split left no training segment.
    """
    from .. import features, splits

    cfg = config or VAEConfig.for_profile(settings.profile)
    if "split" not in manifest or manifest["split"].isna().any():
        raise MusiclibError("prepare needs a complete 'split' column (musiclib.splits.assign_splits)")
    fcfg = cfg.feature_config(settings.sample_rate)
    fs = features.extract_dataset(manifest, fcfg, cache_dir=settings.cache_dir / "features", jobs=jobs,
                                  progress=False, features=("logspec",))
    x_db, meta = fs.segments("logspec")
    splits.check_no_leakage(meta)
    labels = sorted(manifest["label"].unique())
    index = {c: i for i, c in enumerate(labels)}
    side_of = meta["split"].to_numpy()
    train_rows = np.flatnonzero(side_of == "train")
    if not len(train_rows):
        raise MusiclibError("the split left no training segment")
    # the statistics of the training side only, over the part the model sees
    seen = x_db[train_rows, : cfg.frames, : cfg.bins]
    top = float(seen.max())
    # the floor: the training minimum, or dynamic_range_db below the maximum if that is higher
    stats = {"min": max(float(seen.min()), top - cfg.dynamic_range_db), "max": top}
    x, y, metas = {}, {}, {}
    for side in SIDES:
        rows = np.flatnonzero(side_of == side)
        part = _fit_shape(x_db[rows], cfg.frames, cfg.bins, stats["min"])
        x[side] = normalise(part, stats)
        y[side] = meta["label"].iloc[rows].map(index).to_numpy(dtype=np.int32)
        metas[side] = meta.iloc[rows].reset_index(drop=True)
    return VAEData(labels=labels, x=x, y=y, meta=metas, stats=stats, config=cfg)
