"""Spectrograms as pictures, the way source 004 fed its CNN.

Source 004 trained on spectrogram *images*: colour pictures (RGBA, hence the 4 input
channels of its first convolution) of each clip's spectrogram. A picture keeps the
pattern but loses information a log-mel array has: the absolute level (each picture is
scaled to its own colour range), precision (8 bits per channel, through a colour map that
is not linear in any channel) and resolution (resampled to the picture's size). Notebook
06 trains the same network on both to measure what that costs.

Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
"""

from __future__ import annotations

import numpy as np


def render_image(S_db: np.ndarray, *, size: tuple[int, int] = (128, 128), cmap: str = "magma") -> np.ndarray:
    """Render one spectrogram as an RGBA picture, like saving a plotted spectrogram.

    Parameters
    ----------
    S_db : np.ndarray, shape (frames, bins)
        A log-magnitude spectrogram in dB, **frames first** (the course's segment layout,
        ``(frames, n_mels)``).
    size : (height, width)
        Pixels of the picture.
    cmap : str
        Matplotlib colour map (``specshow``'s default for dB data is ``magma``).

    Returns
    -------
    np.ndarray, uint8, shape (height, width, 4)
        Frequency upwards (row 0 is the highest band), time to the right, as on screen;
        the colour range spans this picture's own minimum to maximum, as a plot's
        automatic colour scale does.
    """
    from matplotlib import colormaps
    from PIL import Image

    S = np.asarray(S_db, dtype=np.float64).T[::-1]  # (bins, frames), high frequencies on top
    lo, hi = float(S.min()), float(S.max())
    scaled = (S - lo) / (hi - lo) if hi > lo else np.zeros_like(S)
    rgba = (colormaps[cmap](scaled) * 255).round().astype(np.uint8)
    picture = Image.fromarray(rgba, mode="RGBA").resize((size[1], size[0]), Image.BILINEAR)
    return np.asarray(picture, dtype=np.uint8)


def render_images(segments_db: np.ndarray, **options) -> np.ndarray:
    """:func:`render_image` for every segment: (n, frames, bins) dB -> (n, h, w, 4) uint8."""
    segments_db = np.asarray(segments_db)
    if segments_db.ndim != 3:
        raise ValueError(f"expected (n_segments, frames, bins), got shape {segments_db.shape}")
    return np.stack([render_image(s, **options) for s in segments_db]) if len(segments_db) else (
        np.zeros((0, *options.get("size", (128, 128)), 4), dtype=np.uint8))
