"""The VAE's data: normalised log-magnitude spectrogram segments of a split manifest.

Taught in ``notebooks/08_vae_generation.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import MusiclibError
from .config import VAEConfig

SIDES = ("train", "valid", "test")


@dataclass
class VAEData:
    """Normalised log-spectrogram segments of every side.

    ``x[side]``: float32 ``(n, frames, bins)`` in [0, 1]; ``y[side]``: label index per
    segment; ``meta[side]``: ``track_id``, ``label``, ``group``, ``split``, ``segment``,
    ``start_s`` per segment; ``stats``: ``{"min": dB, "max": dB}`` of the training side.
    """

    labels: list[str]
    x: dict
    y: dict
    meta: dict
    stats: dict
    config: VAEConfig

    def groups(self, side: str) -> np.ndarray:
        """The recording (group) of every segment of ``side``."""
        return self.meta[side]["group"].to_numpy()


def _fit_shape(x: np.ndarray, frames: int, bins: int, fill: float) -> np.ndarray:
    """Crop or pad ``(n, F, B)`` to ``(n, frames, bins)`` (padding with ``fill``)."""
    n, f, b = x.shape
    out = np.full((n, frames, bins), fill, dtype=np.float32)
    out[:, : min(f, frames), : min(b, bins)] = x[:, :frames, :bins]
    return out


def normalise(db: np.ndarray, stats: dict) -> np.ndarray:
    """dB -> [0, 1] with the saved statistics (values outside the training range are clipped)."""
    lo, hi = float(stats["min"]), float(stats["max"])
    return np.clip((np.asarray(db, dtype=np.float32) - lo) / max(hi - lo, 1e-6), 0.0, 1.0).astype(np.float32)


def denormalise(x: np.ndarray, stats: dict) -> np.ndarray:
    """[0, 1] -> dB, the inverse of :func:`normalise`."""
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
        Where the feature cache lives, the sample rate.
    config : VAEConfig, optional
        Default: :meth:`VAEConfig.for_profile` of the settings' profile.

    Returns
    -------
    VAEData
        ``stats`` holds the minimum and maximum dB of the **training** segments only; every
        side is normalised with them.
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
    stats = {"min": float(seen.min()), "max": float(seen.max())}
    x, y, metas = {}, {}, {}
    for side in SIDES:
        rows = np.flatnonzero(side_of == side)
        part = _fit_shape(x_db[rows], cfg.frames, cfg.bins, stats["min"])
        x[side] = normalise(part, stats)
        y[side] = meta["label"].iloc[rows].map(index).to_numpy(dtype=np.int32)
        metas[side] = meta.iloc[rows].reset_index(drop=True)
    return VAEData(labels=labels, x=x, y=y, meta=metas, stats=stats, config=cfg)
