"""Data augmentation: waveform transforms of training recordings, spectrogram masking.

Two kinds, at two places of the pipeline:

1. **Waveform augmentation** (audiomentations): noise, gain, time shift, pitch shift and
   time stretch of the *audio*, before features are computed. :func:`augment_manifest`
   adds augmented copies of the **training** recordings to a manifest (new rows that point
   to the same file, with ``augment`` and ``augment_seed`` columns), and
   :func:`musiclib.features.extract_dataset` renders them through :func:`augment_signal`
   and caches their features like any other row. Copies are made *after* the split, from
   training rows only, and keep their original's ``group``: a copy of a test recording can
   never reach training. :func:`check_augmentation_split` proves it on any manifest,
   summary table or segment table.
2. **SpecAugment** (Park et al., 2019): time and frequency masks on the feature matrix,
   drawn anew for every batch, as a Keras layer active only in training. The layer lives in
   :mod:`musiclib.specaugment` (it imports Keras); this module stays free of TensorFlow, and
   :func:`spec_augment_layer` / ``augment.SpecAugment`` load it on first use.

Order of work in a run::

    manifest = ml.splits.assign_splits(ds.manifest, seed=seed)        # split by recording
    manifest = ml.augment.augment_manifest(manifest, copies=2, strength="light", seed=seed)
    ml.augment.check_augmentation_split(manifest)                      # no copy crosses
    fs = ml.features.extract_dataset(manifest, cache_dir=...)          # renders the copies
    X, meta = fs.segments("mel")                                       # then cut segments

Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
from collections.abc import Iterator

import numpy as np
import pandas as pd

from .errors import LeakageError, MusiclibError

# ``SpecAugment`` is reachable as ``augment.SpecAugment`` (module __getattr__, below) but left
# out of __all__, so that ``from musiclib.augment import *`` does not import Keras either.
__all__ = [
    "AUGMENT_VERSION",
    "PARAMETERS",
    "STRENGTHS",
    "augment_identity",
    "augment_manifest",
    "augment_signal",
    "augmented_mask",
    "check_augmentation_split",
    "seeded_global_rng",
    "spec_augment_layer",
    "waveform_augmenter",
]

STRENGTHS = ("light", "strong")

# Bump when a change of code (not of PARAMETERS) changes what augment_signal returns: it is
# part of every augmented row's cache key (augment_identity), so stale entries are not found.
AUGMENT_VERSION = "1"

#: The augmentation recipe of each strength: transform -> probability and range.
#: ``snr_db`` (AddGaussianSNR), ``gain_db`` (Gain), ``shift`` (Shift, fraction of the clip,
#: rollover), ``semitones`` (PitchShift), ``rate`` (TimeStretch, length unchanged).
#: See :func:`waveform_augmenter` for why each value.
PARAMETERS: dict[str, dict[str, dict]] = {
    "light": {
        "noise": {"p": 0.5, "snr_db": (25.0, 40.0)},
        "gain": {"p": 0.5, "gain_db": (-6.0, 6.0)},
        "shift": {"p": 0.5, "shift": (-0.25, 0.25)},
        "pitch": {"p": 0.3, "semitones": (-1.0, 1.0)},
        "stretch": {"p": 0.3, "rate": (0.95, 1.05)},
    },
    "strong": {
        "noise": {"p": 0.8, "snr_db": (10.0, 30.0)},
        "gain": {"p": 0.8, "gain_db": (-12.0, 12.0)},
        "shift": {"p": 0.8, "shift": (-0.5, 0.5)},
        "pitch": {"p": 0.6, "semitones": (-3.0, 3.0)},
        "stretch": {"p": 0.6, "rate": (0.85, 1.15)},
    },
}

AUGMENT_COL = "augment"
SEED_COL = "augment_seed"
_AUG_MARK = "#aug-"
_MAX_DRAWS = 100


def _check_strength(strength) -> str:
    if strength not in STRENGTHS:
        raise MusiclibError(
            f"augmentation strength must be one of {', '.join(STRENGTHS)}, got {strength!r}"
        )
    return str(strength)


# ------------------------------------------------------------------------------------------
# Waveforms


def waveform_augmenter(strength: str = "light", *, sample_rate: int = 22050):
    """The audiomentations pipeline of one strength.

    Five transforms, in this order, each applied with its own probability ``p`` (so a call
    applies a random subset of them):

    ============  =====================================  =================  =================
    transform     audiomentations class                  light              strong
    ============  =====================================  =================  =================
    noise         ``AddGaussianSNR``                     p 0.5, 25-40 dB    p 0.8, 10-30 dB
    gain          ``Gain``                               p 0.5, +-6 dB      p 0.8, +-12 dB
    time shift    ``Shift`` (fraction, rollover)         p 0.5, +-25 %      p 0.8, +-50 %
    pitch shift   ``PitchShift`` (signalsmith)           p 0.3, +-1 st      p 0.6, +-3 st
    time stretch  ``TimeStretch`` (signalsmith, length   p 0.3, 0.95-1.05   p 0.6, 0.85-1.15
                  unchanged)
    ============  =====================================  =================  =================

    Why these values:

    - **noise** as a signal-to-noise ratio (relative to the clip's own level, so quiet and
      loud clips get the same share): 25-40 dB is barely audible under music, 10-30 dB is
      a clearly hissy recording.
    - **gain**: recording levels differ between sources; it moves RMS and MFCC 0 and leaves
      spectral shapes alone. +-6 dB is a normal mastering difference, +-12 dB a large one.
    - **time shift** in fractions of the clip, with rollover (nothing is lost; a 5 ms fade
      hides the seam): moves where segments start, so the 3 s segments of a copy are not
      those of its original.
    - **pitch shift** in semitones (st): transposition keeps genre and composer; beyond
      about 4 st the timbre (formants) sounds wrong. It moves chroma, so keep it light for
      key-sensitive tasks.
    - **time stretch** as a rate (``> 1`` faster), length unchanged (cropped or padded with
      zeros): tempo varies between performances; +-5 % is inaudible, +-15 % is another take.

    "strong" widens every range and raises every probability; the values live in
    :data:`PARAMETERS`. :func:`augment_signal` adds what a bare ``Compose`` does not: a
    seed, a guarantee that something other than gain was applied, and a peak limit.

    Parameters
    ----------
    strength : {'light', 'strong'}
    sample_rate : int
        Hz; only recorded for the caller (audiomentations takes the rate per call).

    Returns
    -------
    audiomentations.Compose
        Call it as ``augmenter(samples=y, sample_rate=sr)`` with ``y`` float32 of shape
        ``(n,)``. It draws from Python's ``random`` and numpy's global generator: use
        :func:`augment_signal` for seeded, reproducible results.

    Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """
    from audiomentations import AddGaussianSNR, Compose, Gain, PitchShift, Shift, TimeStretch

    par = PARAMETERS[_check_strength(strength)]
    noise, gain, shift, pitch, stretch = (
        par[k] for k in ("noise", "gain", "shift", "pitch", "stretch")
    )
    augmenter = Compose(
        [
            AddGaussianSNR(min_snr_db=noise["snr_db"][0], max_snr_db=noise["snr_db"][1], p=noise["p"]),
            Gain(min_gain_db=gain["gain_db"][0], max_gain_db=gain["gain_db"][1], p=gain["p"]),
            Shift(min_shift=shift["shift"][0], max_shift=shift["shift"][1], shift_unit="fraction",
                  rollover=True, p=shift["p"]),
            PitchShift(min_semitones=pitch["semitones"][0], max_semitones=pitch["semitones"][1],
                       method="signalsmith_stretch", p=pitch["p"]),
            TimeStretch(min_rate=stretch["rate"][0], max_rate=stretch["rate"][1],
                        leave_length_unchanged=True, method="signalsmith_stretch", p=stretch["p"]),
        ],
        p=1.0,
        shuffle=False,
    )
    augmenter.sample_rate = int(sample_rate)
    return augmenter


@contextlib.contextmanager
def seeded_global_rng(seed: int) -> Iterator[None]:
    """Seed Python's ``random`` and numpy's global generator, restoring both on exit.

    audiomentations 0.43 has no per-transform seed or generator argument: every transform
    draws its parameters from ``random`` and its noise from ``np.random``. Inside this
    context both are seeded from ``seed``; on exit the caller's states come back, so the
    caller's own random sequence goes on as if nothing had been drawn. Not thread-safe
    (another thread drawing from the global generators meanwhile would see, and shift,
    the seeded sequence); :func:`musiclib.features.extract_dataset` uses processes.

    Parameters
    ----------
    seed : int
        Any int; numpy gets it as two 32-bit words (``seed mod 2**64``).

    Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """
    seed = int(seed) % 2**64
    py_state = random.getstate()
    np_state = np.random.get_state()
    try:
        random.seed(seed)
        np.random.seed([seed & 0xFFFFFFFF, seed >> 32])
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


def augment_signal(y: np.ndarray, *, sr: int, strength: str, seed: int) -> np.ndarray:
    """One augmented copy of a signal, reproducible for a seed.

    Runs :func:`waveform_augmenter` inside :func:`seeded_global_rng`. When a draw applied
    nothing but (possibly) :class:`~audiomentations.Gain` -- which the peak limit can undo
    -- it draws again (from the same seeded sequence), so every copy differs from its
    original. Finally the copy is scaled down if its peak exceeds 1 (gain and noise can
    push it over); it is never scaled up.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal (any float dtype; computed in float32).
    sr : int
        Sample rate in Hz.
    strength : {'light', 'strong'}
    seed : int
        Same seed, same copy; the caller's ``random`` / ``np.random`` states are untouched.

    Returns
    -------
    np.ndarray, float32, shape (n,)
        Finite, peak ``<= 1``.

    Raises
    ------
    MusiclibError
        Unknown strength, a signal that is not 1-d, or non-finite samples in or out.

    Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """
    strength = _check_strength(strength)
    y = np.asarray(y)
    if y.ndim != 1:
        raise MusiclibError(f"augment_signal expects a mono signal of shape (n,), got shape {y.shape}")
    y = np.ascontiguousarray(y, dtype=np.float32)
    if not np.all(np.isfinite(y)):
        raise MusiclibError("augment_signal: the signal holds non-finite samples")
    n = y.size
    if n == 0:
        return y.copy()
    augmenter = waveform_augmenter(strength, sample_rate=sr)
    with seeded_global_rng(seed):
        for _ in range(_MAX_DRAWS):
            out = augmenter(samples=y, sample_rate=int(sr))
            applied = [t for t in augmenter.transforms if t.parameters.get("should_apply")]
            if any(type(t).__name__ != "Gain" for t in applied):
                break
    out = np.asarray(out, dtype=np.float32)
    if out.size != n:  # the transforms keep the length; guard against library changes
        out = np.pad(out[:n], (0, max(0, n - out.size)))
    if not np.all(np.isfinite(out)):
        raise MusiclibError(f"augment_signal: {strength} augmentation gave non-finite samples (seed {seed})")
    peak = float(np.max(np.abs(out)))
    if peak > 1.0:
        out = out / np.float32(peak)
        np.clip(out, -1.0, 1.0, out=out)
    return np.ascontiguousarray(out, dtype=np.float32)


def augment_identity(strength: str, seed: int) -> dict:
    """What identifies an augmented copy in the feature cache.

    ``strength``, ``seed`` and ``recipe``: 12 hex digits of sha256 over
    :data:`AUGMENT_VERSION`, the strength's :data:`PARAMETERS` and the audiomentations
    version, so that changing the recipe never serves stale features.
    :func:`musiclib.features.extract_dataset` adds it to the row's file identity under the
    key ``"augment"``.

    Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """
    from importlib.metadata import PackageNotFoundError, version

    strength = _check_strength(strength)
    try:
        am_version = version("audiomentations")
    except PackageNotFoundError:  # pragma: no cover
        am_version = "unknown"
    text = json.dumps(
        {"version": AUGMENT_VERSION, "audiomentations": am_version, "parameters": PARAMETERS[strength]},
        sort_keys=True,
    )
    recipe = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return {"strength": strength, "seed": int(seed), "recipe": recipe}


# ------------------------------------------------------------------------------------------
# Manifests


def _copy_seed(seed: int, track_id: str, k: int) -> int:
    """A stable seed per (seed, track_id, copy): sha256, not Python's salted ``hash()``.

    53 bits, so that it survives a trip through float64 (a CSV whose originals have empty
    ``augment_seed`` cells reads back as floats) and stays the same seed.
    """
    text = f"musiclib.augment\n{int(seed)}\n{track_id}\n{int(k)}"
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:16], 16) >> 11


def augmented_mask(frame: pd.DataFrame, *, augment_col: str = AUGMENT_COL) -> np.ndarray:
    """Boolean array: which rows are augmented copies (``augment_col`` set and not empty).

    A frame without ``augment_col`` has none.

    Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """
    if augment_col not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    col = frame[augment_col]
    return (col.notna() & (col.astype(str).str.strip() != "")).to_numpy(dtype=bool)


def augment_manifest(
    manifest: pd.DataFrame,
    *,
    copies: int,
    strength: str,
    seed: int = 0,
    split_col: str = "split",
) -> pd.DataFrame:
    """The manifest plus ``copies`` augmented copies of every **training** recording.

    A copy is a new row pointing at the same audio (``path``, ``offset_s``,
    ``duration_s``) with the same ``label`` and ``group`` and ``split == 'train'``; its
    ``track_id`` is ``f"{track_id}#aug-{strength}-{k}"`` (``k = 0 .. copies - 1``), its
    ``augment`` column names the strength and its ``augment_seed`` is derived from
    ``(seed, track_id, k)`` by sha256, so it is the same in every process and run.
    :func:`musiclib.features.extract_dataset` renders a copy with :func:`augment_signal`.

    Rows of ``valid`` and ``test`` are never copied, and neither are rows that are already
    copies: calling it again with the other strength adds copies of the originals only.

    Parameters
    ----------
    manifest : pandas.DataFrame
        One row per recording or clip, with ``track_id``, ``group`` and a complete
        ``split_col`` (from :func:`musiclib.splits.assign_splits`).
    copies : int
        Augmented copies per training row, ``>= 0``.
    strength : {'light', 'strong'}
        See :func:`waveform_augmenter`.
    seed : int
        Seed of the copies' seeds.
    split_col : str

    Returns
    -------
    pandas.DataFrame
        The original rows (in order, ``augment`` None and ``augment_seed`` <NA> unless
        set already), then the copies (grouped by original, ``k`` ascending), with a
        fresh index. ``augment_seed`` has pandas' nullable ``Int64`` dtype.

    Raises
    ------
    MusiclibError
        Unknown strength, negative copies, missing columns, or a ``split_col`` that is
        missing, partly empty or holds values other than train / valid / test.
    LeakageError
        The input split already puts a training group on another side (so its copies
        would cross): see :func:`check_augmentation_split`.

    Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """
    from .splits import SPLITS

    strength = _check_strength(strength)
    if isinstance(copies, bool) or int(copies) != copies or int(copies) < 0:
        raise MusiclibError(f"copies must be a non-negative integer, got {copies!r}")
    copies = int(copies)
    for col in ("track_id", "group"):
        if col not in manifest.columns:
            raise MusiclibError(f"manifest has no column {col!r}")
    if split_col not in manifest.columns:
        raise MusiclibError(
            f"manifest has no {split_col!r} column: split it first (ml.splits.assign_splits), "
            "then augment the training side"
        )
    n_missing = int(manifest[split_col].isna().sum())
    if n_missing:
        raise MusiclibError(
            f"{split_col!r} column is empty in {n_missing} of {len(manifest)} rows: split every "
            "row before augmenting"
        )
    bad = sorted(set(manifest[split_col]) - set(SPLITS), key=str)
    if bad:
        raise MusiclibError(f"{split_col!r} column holds {bad[0]!r}; allowed: {', '.join(SPLITS)}")
    if manifest["track_id"].duplicated().any():
        dup = manifest.loc[manifest["track_id"].duplicated(), "track_id"].iloc[0]
        raise MusiclibError(f"manifest: track_id {dup!r} appears more than once")

    base = manifest.reset_index(drop=True).copy()
    if AUGMENT_COL not in base.columns:
        base[AUGMENT_COL] = None
    if SEED_COL not in base.columns:
        base[SEED_COL] = pd.array([pd.NA] * len(base), dtype="Int64")
    else:
        base[SEED_COL] = base[SEED_COL].astype("Int64")

    source = base[(base[split_col] == "train").to_numpy() & ~augmented_mask(base)]
    if copies == 0 or source.empty:
        out = base
    else:
        rows = source.loc[source.index.repeat(copies)].reset_index(drop=True)
        ks = np.tile(np.arange(copies), len(source))
        originals = rows["track_id"].astype(str).to_list()
        rows["track_id"] = [f"{t}{_AUG_MARK}{strength}-{k}" for t, k in zip(originals, ks)]
        rows[split_col] = "train"
        rows[AUGMENT_COL] = strength
        rows[SEED_COL] = pd.array([_copy_seed(seed, t, k) for t, k in zip(originals, ks)], dtype="Int64")
        clash = set(rows["track_id"]) & set(base["track_id"])
        if clash:
            raise MusiclibError(
                f"augmented track_id {sorted(clash)[0]!r} already exists: this manifest holds "
                f"{strength} copies already"
            )
        out = pd.concat([base, rows], ignore_index=True)
    check_augmentation_split(out, split_col=split_col)
    return out


def check_augmentation_split(
    frame: pd.DataFrame,
    *,
    group_col: str = "group",
    split_col: str = "split",
    augment_col: str = AUGMENT_COL,
) -> None:
    """Raise :class:`~musiclib.errors.LeakageError` if an augmented copy crosses the split.

    Checks, on a manifest, a feature summary table or a per-segment table:

    1. every augmented row (``augment_col`` set) is on the ``train`` side;
    2. no augmented row's group appears on another side -- i.e. no augmented copy of a
       validation or test recording is in training;
    3. where the copy's original (its ``track_id`` before ``#aug-``) is in ``frame``, the
       original is on the ``train`` side as well.

    The message names the first offending track, e.g. ``augmented copy 'jazz.00012#aug-
    light-0' is on the test side: only training recordings may be augmented``. A frame
    without ``augment_col`` has no augmented rows and passes. (Leaks between un-augmented
    rows are :func:`musiclib.splits.check_no_leakage`'s job.)

    Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """
    aug = augmented_mask(frame, augment_col=augment_col)
    if not aug.any():
        return
    for col in (group_col, split_col):
        if col not in frame.columns:
            raise MusiclibError(f"frame has no column {col!r}")
    ids = frame["track_id"].astype(str) if "track_id" in frame.columns else pd.Series(
        [f"row {i}" for i in frame.index], index=frame.index)
    split = frame[split_col].to_numpy()
    groups = frame[group_col].to_numpy()
    aug_rows = np.flatnonzero(aug)

    off_train = aug_rows[split[aug_rows] != "train"]
    if len(off_train):
        i = off_train[0]
        raise LeakageError(
            f"augmented copy {ids.iloc[i]!r} is on the {split[i]} side: only training recordings "
            f"may be augmented ({len(off_train)} such row(s))"
        )
    held_out = pd.Series(split[split != "train"], index=groups[split != "train"])
    crossing = [i for i in aug_rows if groups[i] in held_out.index]
    if crossing:
        i = crossing[0]
        side = held_out.loc[[groups[i]]].iloc[0]
        raise LeakageError(
            f"augmented copy {ids.iloc[i]!r} is in training but its group {groups[i]!r} is on the "
            f"{side} side: an augmented copy of a held-out recording ({len(crossing)} such row(s))"
        )
    if "track_id" in frame.columns:
        side_of = dict(zip(ids.to_numpy()[~aug], split[~aug]))
        for i in aug_rows:
            origin = ids.iloc[i].split(_AUG_MARK, 1)[0]
            if side_of.get(origin, "train") != "train":
                raise LeakageError(
                    f"augmented copy {ids.iloc[i]!r} is in training but its original {origin!r} is "
                    f"on the {side_of[origin]} side"
                )


# ------------------------------------------------------------------------------------------
# SpecAugment (Keras; loaded on first use)


def spec_augment_layer(
    *,
    time_masks: int = 2,
    time_mask_width: int = 20,
    freq_masks: int = 2,
    freq_mask_width: int = 12,
    mask_value: float | None = None,
    seed: int | None = None,
    **kwargs,
):
    """A :class:`musiclib.specaugment.SpecAugment` layer (imports Keras on first call).

    See that class for the arguments. Taught in
    ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """
    from .specaugment import SpecAugment as layer_class

    return layer_class(
        time_masks=time_masks, time_mask_width=time_mask_width, freq_masks=freq_masks,
        freq_mask_width=freq_mask_width, mask_value=mask_value, seed=seed, **kwargs,
    )


def __getattr__(name: str):
    # ``augment.SpecAugment`` without importing Keras at ``import musiclib.augment``.
    if name == "SpecAugment":
        from .specaugment import SpecAugment

        return SpecAugment
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def parameter_table():
    """:data:`PARAMETERS` as a table: one row per transform, one column per strength.

    Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """
    import pandas as pd

    def cell(spec: dict) -> str:
        ranges = ", ".join(f"{k} {v[0]:g} to {v[1]:g}" for k, v in spec.items() if k != "p")
        return f"p {spec['p']:g}: {ranges}"

    return pd.DataFrame({s: {t: cell(spec) for t, spec in PARAMETERS[s].items()} for s in STRENGTHS})
