"""Audio features of the course, from one shared STFT, and their cached extraction.

Three layers, each usable alone:

1. :func:`frame_features` turns one signal into every frame feature of the course
   (zero-crossing rate, RMS, spectral centroid / bandwidth / rolloff / flatness / contrast,
   mel spectrogram, MFCC, chroma, log-spectrogram). It computes **one** ``librosa.stft`` and
   **one** tuning estimate per signal and derives everything from them, where calling each
   ``librosa.feature`` function on the waveform would compute nine STFTs.
2. :func:`clip_summary` (per-clip mean and standard deviation of every feature row, the
   shape of GTZAN's ``features_30_sec.csv``) and :func:`segment_matrices` (fixed-length
   frame matrices, e.g. the ``130 x 13`` MFCC matrices of 3 s segments).
3. :func:`extract_dataset` runs 1 and 2 over a whole manifest in parallel processes (joblib)
   or on a Dask cluster, with an on-disk cache of float32 ``.npy`` files that an interrupted
   run resumes from. It returns a :class:`FeatureSet`.

Everything that changes a number is a field of :class:`FeatureConfig`; its
:attr:`~FeatureConfig.config_hash` names the cache folder and travels with saved models.

Conventions: signals are float32 mono arrays of shape ``(n,)`` at ``config.sample_rate``
Hz; frame features have shape ``(n_rows, n_frames)`` (librosa's layout), with frame ``t``
centred on sample ``t * hop_length`` when ``center=True``.

Taught in ``notebooks/02_spectral_features.ipynb`` (spectral features, summaries, the
cache) and ``notebooks/03_mfcc_chroma_mel.ipynb`` (MFCC, chroma, mel, segments).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import socket
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import AudioFileError, MusiclibError

# Bump when a change of code (not of FeatureConfig) changes any number this module writes:
# it is part of every config_hash, so old caches are simply not found any more.
FEATURES_VERSION = "1"

ENV_DASK_SCHEDULER = "MUSICLIB_DASK_SCHEDULER"

# Frame features in the order frame_features returns them.
FRAME_FEATURES: tuple[str, ...] = (
    "zcr",
    "rms",
    "spectral_centroid",
    "spectral_bandwidth",
    "spectral_rolloff",
    "spectral_flatness",
    "contrast",
    "mfcc",
    "chroma",
    "mel",
    "logspec",
)

# Named groups for the notebooks (source 001: the 7 baseline features, then MFCC, chroma, mel).
FEATURE_GROUPS: dict[str, list[str]] = {
    "spectral": [
        "zcr",
        "rms",
        "spectral_centroid",
        "spectral_bandwidth",
        "spectral_rolloff",
        "spectral_flatness",
        "contrast",
    ],
    "mfcc": ["mfcc"],
    "chroma": ["chroma"],
    "mel": ["mel"],
    "logspec": ["logspec"],
}

SUMMARY_STATS = ("mean", "std")

_HOST = socket.gethostname().replace("-", "_")
_TMP_MARK = ".tmp-"
_STALE_TMP_S = 24 * 3600.0  # a temp file of another host counts as abandoned after this


# ------------------------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True)
class FeatureConfig:
    """Every setting that changes a feature value.

    Defaults are those of the course's sources (librosa's defaults at 22050 Hz): a 3 s
    segment is ``ceil(3 * 22050 / 512) = 130`` frames, so MFCC segments are ``130 x 13``.

    Attributes
    ----------
    sample_rate : int
        Hz; signals are loaded (resampled) at this rate.
    n_fft : int
        STFT frame length in samples (also the ZCR and RMS frame length).
    hop_length : int
        Samples between frames.
    window : str
        STFT window name (``scipy.signal.get_window``).
    center : bool
        Centre frame ``t`` on sample ``t * hop_length`` (pads the signal).
    pad_mode : str
        Padding of the STFT (and RMS) when ``center``; librosa's default ``"constant"``.
    n_mfcc, n_mels, n_chroma : int
        Rows of MFCC, mel and chroma.
    fmin, fmax : float, float or None
        Mel filter bank range in Hz (``None``: ``sample_rate / 2``).
    top_db : float or None
        Dynamic range of the log-mel spectrogram under the MFCC (``power_to_db``), in dB.
    tuning : float or None
        Chroma tuning in fractions of a chroma bin; ``None`` estimates it once per signal.
    n_bands : int
        Spectral contrast octave bands (the result has ``n_bands + 1`` rows).
    contrast_fmin : float
        Hz, lower edge of the first contrast band.
    contrast_quantile : float
        Quantile that defines peaks and valleys of spectral contrast.
    roll_percent : float
        Spectral rolloff energy fraction.
    logspec_amin : float
        Floor of the magnitude before the log-spectrogram's dB (``amplitude_to_db``).
    logspec_top_db : float or None
        Dynamic range of the log-spectrogram in dB below its maximum; ``None`` keeps the
        absolute dB values (ref 1.0), which dataset-level normalisation needs.
    segment_seconds : float
        Segment length of :func:`segment_matrices` in seconds.
    mel_bins_summary : int or None
        :func:`clip_summary` pools the mel bands into this many contiguous groups (12: the
        "12-bin means" of source 001); ``None`` summarises every band.
    logspec_summary : bool
        Include the log-spectrogram (``1 + n_fft // 2`` rows) in :func:`clip_summary`.
    level_db : float or None
        Every signal is scaled to this RMS level in dB relative to full scale before its
        features are computed (:func:`normalise_level`; -20 dBFS is an RMS of 0.1), so a
        quiet and a loud copy of one recording get the same features and a model cannot
        learn the level a recording was mastered at. ``None`` keeps the level as recorded.

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """

    sample_rate: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    window: str = "hann"
    center: bool = True
    pad_mode: str = "constant"
    n_mfcc: int = 13
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None
    top_db: float | None = 80.0
    n_chroma: int = 12
    tuning: float | None = None
    n_bands: int = 6
    contrast_fmin: float = 200.0
    contrast_quantile: float = 0.02
    roll_percent: float = 0.85
    logspec_amin: float = 1e-5
    logspec_top_db: float | None = None
    segment_seconds: float = 3.0
    mel_bins_summary: int | None = 12
    logspec_summary: bool = False
    level_db: float | None = -20.0

    _INTS = ("sample_rate", "n_fft", "hop_length", "n_mfcc", "n_mels", "n_chroma", "n_bands")
    _FLOATS = ("fmin", "contrast_fmin", "contrast_quantile", "roll_percent", "logspec_amin",
               "segment_seconds")
    _OPT_FLOATS = ("fmax", "top_db", "tuning", "logspec_top_db", "level_db")

    def __post_init__(self):
        # Normalise types so that equal settings give equal JSON (3 and 3.0, numpy ints).
        def put(name, value):
            object.__setattr__(self, name, value)

        for name in self._INTS:
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or int(value) < 1:
                raise MusiclibError(f"FeatureConfig.{name} must be a positive integer, got {value!r}")
            put(name, int(value))
        for name in self._FLOATS:
            put(name, float(getattr(self, name)))
        for name in self._OPT_FLOATS:
            value = getattr(self, name)
            put(name, None if value is None else float(value))
        if self.mel_bins_summary is not None:
            put("mel_bins_summary", int(self.mel_bins_summary))
        put("center", bool(self.center))
        put("logspec_summary", bool(self.logspec_summary))
        put("window", str(self.window))
        put("pad_mode", str(self.pad_mode))
        problems = []
        if self.hop_length > self.n_fft:
            problems.append("hop_length must not exceed n_fft")
        if self.n_mfcc > self.n_mels:
            problems.append("n_mfcc must not exceed n_mels")
        if not 0.0 < self.roll_percent < 1.0:
            problems.append("roll_percent must lie in (0, 1)")
        if not 0.0 < self.contrast_quantile < 0.5:
            problems.append("contrast_quantile must lie in (0, 0.5)")
        if self.segment_seconds <= 0:
            problems.append("segment_seconds must be positive")
        if self.mel_bins_summary is not None and not 1 <= self.mel_bins_summary <= self.n_mels:
            problems.append("mel_bins_summary must lie in 1..n_mels (or be None)")
        nyquist = self.sample_rate / 2
        if self.contrast_fmin * 2.0 ** (self.n_bands - 1) >= nyquist:  # librosa's own limit
            problems.append("contrast_fmin * 2**(n_bands - 1) must stay below sample_rate / 2")
        if problems:
            raise MusiclibError("FeatureConfig: " + "; ".join(problems))

    # -- serialisation ---------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The settings as a plain dict (JSON types only)."""
        return asdict(self)

    def to_json(self, *, indent: int | None = None) -> str:
        """Canonical JSON: sorted keys, so equal configs give equal text."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent,
                          separators=(",", ": ") if indent else (",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping) -> "FeatureConfig":
        """Inverse of :meth:`to_dict`; keys left out take their defaults, unknown keys fail."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise MusiclibError(f"FeatureConfig: unknown setting(s) {', '.join(unknown)}")
        return cls(**dict(data))

    @classmethod
    def from_json(cls, text: str | os.PathLike) -> "FeatureConfig":
        """Inverse of :meth:`to_json`: from JSON text or the path of a JSON file."""
        if isinstance(text, os.PathLike) or (isinstance(text, str) and not text.lstrip().startswith("{")):
            text = Path(text).read_text(encoding="utf-8")
        return cls.from_dict(json.loads(text))

    @property
    def config_hash(self) -> str:
        """12 hex digits of sha256 over :data:`FEATURES_VERSION` and :meth:`to_json`.

        Stable across processes, machines and Python versions; any change of a setting (or
        of FEATURES_VERSION) changes it.
        """
        text = f"musiclib.features/{FEATURES_VERSION}\n{self.to_json()}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]

    # -- derived sizes ---------------------------------------------------------------------

    @property
    def frames_per_segment(self) -> int:
        """``ceil(segment_seconds * sample_rate / hop_length)``: 130 at the defaults."""
        return int(math.ceil(round(self.segment_seconds * self.sample_rate / self.hop_length, 9)))

    def n_frames(self, n_samples: int) -> int:
        """Frames of a signal of ``n_samples`` samples (``1 + n // hop`` when centred)."""
        if self.center:
            return 1 + int(n_samples) // self.hop_length
        return max(0, 1 + (int(n_samples) - self.n_fft) // self.hop_length)

    def n_rows(self, name: str) -> int:
        """Rows of frame feature ``name``."""
        rows = {
            "contrast": self.n_bands + 1,
            "mfcc": self.n_mfcc,
            "chroma": self.n_chroma,
            "mel": self.n_mels,
            "logspec": 1 + self.n_fft // 2,
        }
        if name not in FRAME_FEATURES:
            raise KeyError(f"unknown feature {name!r}: choose from {', '.join(FRAME_FEATURES)}")
        return rows.get(name, 1)


def _config(config: FeatureConfig | Mapping | None) -> FeatureConfig:
    if config is None:
        return FeatureConfig()
    if isinstance(config, FeatureConfig):
        return config
    return FeatureConfig.from_dict(config)


def resolve_features(features: str | Iterable[str] | None) -> list[str]:
    """Frame feature names from names, group names (:data:`FEATURE_GROUPS`) or ``"all"``.

    Returns them in :data:`FRAME_FEATURES` order, without repeats; ``None`` means all.

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    if features is None:
        return list(FRAME_FEATURES)
    if isinstance(features, str):
        features = [features]
    wanted: set[str] = set()
    for name in features:
        if name == "all":
            wanted.update(FRAME_FEATURES)
        elif name in FEATURE_GROUPS:
            wanted.update(FEATURE_GROUPS[name])
        elif name in FRAME_FEATURES:
            wanted.add(name)
        else:
            raise MusiclibError(
                f"unknown feature {name!r}: choose from {', '.join(FRAME_FEATURES)}, "
                f"the groups {', '.join(FEATURE_GROUPS)}, or 'all'"
            )
    return [f for f in FRAME_FEATURES if f in wanted]


# ------------------------------------------------------------------------------------------
# Frame features

_BLAS = None


def _single_threaded_blas():
    """Context in which BLAS (numpy's matrix products) runs on one thread.

    The products of this module are small (128 x 1025 by 1025 x frames); threaded BLAS adds
    only thread wake-ups to them: on the course's shared 2-core VM the mel product of a 10 s
    clip took 1.3 ms with one OpenBLAS thread and, at times, 27 ms with two. Parallelism
    comes from processes instead (:func:`extract_dataset`).
    """
    global _BLAS
    try:
        if _BLAS is None:
            from threadpoolctl import ThreadpoolController

            _BLAS = ThreadpoolController()
        return _BLAS.limit(limits=1, user_api="blas")
    except Exception:  # pragma: no cover - threadpoolctl missing or unable to introspect
        return contextlib.nullcontext()



def estimate_tuning(power: np.ndarray, *, config: FeatureConfig | None = None) -> float:
    """Tuning deviation of a power spectrogram, in fractions of a chroma bin.

    Exactly the estimate ``librosa.feature.chroma_stft`` makes inside every call
    (``librosa.estimate_tuning(S=power, sr=sr, bins_per_octave=n_chroma)``); it is the most
    expensive step of chroma, which is why :func:`frame_features` makes it once per signal.

    Parameters
    ----------
    power : np.ndarray, shape (1 + n_fft // 2, n_frames)
        Power spectrogram ``|STFT|**2``.

    Returns
    -------
    float
        In [-0.5, 0.5).

    Taught in ``notebooks/03_mfcc_chroma_mel.ipynb``.
    """
    import librosa

    cfg = _config(config)
    if not np.any(power):  # digital silence: librosa's answer (0.0), without its warning
        return 0.0
    sr, n_fft = cfg.sample_rate, cfg.n_fft
    # librosa's tuning estimate (piptrack) only keeps peaks below fmax = 4 kHz, yet it does
    # its interpolation over every bin. Handing it just the bins it can use, with sr and
    # n_fft scaled by the same factor, keeps each bin's frequency (k * sr / n_fft) exactly,
    # so the estimate is identical at a third of the cost. The peak threshold is relative
    # to each frame's maximum over *all* bins: pass it explicitly as ``ref``.
    fmax = 4000.0  # piptrack's default
    rows = int(np.ceil(fmax * n_fft / sr)) + 3  # the bins below fmax, their neighbours, 1 spare
    if rows < power.shape[0]:
        n_fft_part = 2 * (rows - 1)
        return float(
            librosa.estimate_tuning(
                S=power[:rows], sr=sr * n_fft_part / n_fft, n_fft=n_fft_part,
                bins_per_octave=cfg.n_chroma, fmax=fmax,
                ref=0.1 * power.max(axis=0, keepdims=True),  # piptrack's threshold x max
            )
        )
    return float(librosa.estimate_tuning(S=power, sr=sr, n_fft=n_fft, bins_per_octave=cfg.n_chroma))


def frame_features(
    y: np.ndarray,
    config: FeatureConfig | None = None,
    *,
    features: str | Iterable[str] | None = None,
    tuning: float | None = None,
) -> dict[str, np.ndarray]:
    """Every frame feature of the course from one STFT of ``y``.

    One ``librosa.stft`` gives the magnitude ``S`` and power ``S**2``; every spectral
    feature is the ``librosa.feature`` function called with ``S=`` and the settings of
    ``config``, so each equals the plain waveform call (see ``tests/test_features.py``):

    ==================  ===========================================================  ======
    key                 computed as                                                  rows
    ==================  ===========================================================  ======
    zcr                 ``zero_crossing_rate(y=y, frame_length=n_fft, hop_length)``  1
    rms                 ``rms(y=y, frame_length=n_fft, hop_length)`` (time domain)   1
    spectral_centroid   ``spectral_centroid(S=S)``                                   1
    spectral_bandwidth  ``spectral_bandwidth(S=S, centroid=...)`` (reuses centroid)  1
    spectral_rolloff    ``spectral_rolloff(S=S, roll_percent)``                      1
    spectral_flatness   ``spectral_flatness(S=S)`` (power 2)                         1
    contrast            ``spectral_contrast(S=S, fmin, n_bands)`` (dB)               n_bands+1
    mel                 ``melspectrogram(S=S**2)`` (power, not dB)                   n_mels
    mfcc                ``mfcc(S=power_to_db(mel, top_db))``                         n_mfcc
    chroma              ``chroma_stft(S=S**2, tuning=t)``, ``t`` estimated once      n_chroma
    logspec             ``amplitude_to_db(S, ref=1.0, amin, top_db)`` (dB)           1+n_fft/2
    ==================  ===========================================================  ======

    ZCR and RMS are computed from the waveform, framed exactly like the STFT
    (``center``), so they have the same frames. RMS is the time-domain definition
    (``sqrt(mean(frame**2))``, what GTZAN's feature tables and ``rms(y=...)`` report): it
    costs as little as ``rms(S=S)``, which would measure the Hann-*windowed* frame instead
    (about 0.61 times the time-domain value for steady sounds, and up to about 30 % off it
    around onsets even after correcting for the window).

    numpy's BLAS runs single-threaded during the call (see ``_single_threaded_blas``): the
    matrix products here are too small to gain from threads, and lose much to them on small
    machines.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal at ``config.sample_rate`` Hz; converted to float32.
    config : FeatureConfig, optional
        Default ``FeatureConfig()``.
    features : str or list of str, optional
        Only these features (names, group names of :data:`FEATURE_GROUPS`, or ``"all"``);
        default all. The STFT is computed once whatever is asked for.
    tuning : float, optional
        Chroma tuning in fractions of a bin; overrides ``config.tuning``. When both are
        ``None`` it is estimated once from the power spectrogram (:func:`estimate_tuning`).

    Returns
    -------
    dict of str to np.ndarray
        float32 arrays of shape ``(rows, n_frames)``, all with the same ``n_frames`` (see
        :meth:`FeatureConfig.n_frames`), keyed in :data:`FRAME_FEATURES` order. Units:
        zcr a fraction of samples, rms in full-scale amplitude, centroid / bandwidth /
        rolloff in Hz, flatness a ratio in [0, 1], contrast in dB, mel in power, mfcc in
        its DCT units of dB, chroma normalised to max 1 per frame, logspec in dB.

    Taught in ``notebooks/02_spectral_features.ipynb`` (zcr to contrast) and
    ``notebooks/03_mfcc_chroma_mel.ipynb`` (mel, mfcc, chroma, logspec).
    """
    import librosa

    cfg = _config(config)
    wanted = set(resolve_features(features))
    y = np.asarray(y)
    if y.ndim != 1:
        raise MusiclibError(f"frame_features expects a mono signal of shape (n,), got shape {y.shape}")
    if y.size == 0:
        raise MusiclibError("frame_features: the signal is empty")
    y = y.astype(np.float32, copy=False)
    if cfg.level_db is not None:
        y = normalise_level(y, cfg.level_db)
    with _single_threaded_blas():
        out = _frame_features(y, cfg, wanted, tuning)
    return {name: np.ascontiguousarray(out[name], dtype=np.float32)
            for name in FRAME_FEATURES if name in out}


SILENCE_RMS = 1e-7  # -140 dBFS: below this a signal counts as silent and keeps its level


def normalise_level(y: np.ndarray, level_db: float = -20.0) -> np.ndarray:
    """``y`` scaled so that its RMS is ``level_db`` dB relative to full scale.

    ``rms = sqrt(mean(y**2))`` over the whole signal; the result is
    ``y * 10**(level_db / 20) / rms``. Every feature after it is then the same for a
    recording played quietly or loudly (up to rounding); only the level's changes within
    the signal remain. A silent signal (RMS below 1e-7) is returned unchanged.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Signal in full-scale units.
    level_db : float
        Target RMS in dBFS (-20 dBFS: RMS 0.1, peaks typically 0.3 to 1).

    Returns
    -------
    np.ndarray, shape (n,)
        A scaled float32 copy (``y`` itself when it is silent).

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    y = np.asarray(y, dtype=np.float32)
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if y.size else 0.0
    if rms < SILENCE_RMS:
        return y
    return y * np.float32(10.0 ** (level_db / 20.0) / rms)


def _zero_crossing_rate(y: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """``librosa.feature.zero_crossing_rate`` with the crossings found once per signal.

    librosa frames the signal first and tests every sample of every frame (each sample
    4 times at hop n_fft / 4). Crossings between neighbouring samples are the same in
    every frame that holds both, so: find them once on the padded signal
    (``librosa.zero_crossings``, same threshold and zero handling), then count per frame
    with a cumulative sum. Identical counts, hence identical rates.
    """
    import librosa

    n_fft, hop = cfg.n_fft, cfg.hop_length
    if cfg.center:
        y = np.pad(y, n_fft // 2, mode="edge")  # librosa's padding for ZCR
    n_frames = 1 + (len(y) - n_fft) // hop
    crossing = librosa.zero_crossings(y, pad=False)  # [j]: between samples j-1 and j
    counts = np.concatenate([[0], np.cumsum(crossing, dtype=np.int64)])
    starts = np.arange(n_frames) * hop
    # a frame [s, s + n_fft) holds the crossings at s+1 .. s+n_fft-1
    per_frame = counts[starts + n_fft] - counts[starts + 1]
    return (per_frame / n_fft).astype(np.float32)[None, :]


def _centroid_bandwidth_rolloff(S: np.ndarray, cfg: FeatureConfig, wanted: set[str]) -> dict:
    """Spectral centroid, bandwidth (p=2) and rolloff of a magnitude spectrogram at once.

    The same definitions as ``librosa.feature.spectral_centroid`` / ``_bandwidth`` /
    ``_rolloff`` (tests compare them), computed from one normalisation and two matrix
    products instead of three separate passes, each of which re-normalises the whole
    spectrogram: 20 ms of the 50 a 10 s clip took. Bandwidth uses
    ``sum p (f - c)^2 = sum p f^2 - c^2`` with ``p`` the normalised spectrum, in float64.
    """
    freqs = np.fft.rfftfreq(cfg.n_fft, d=1.0 / cfg.sample_rate)
    out = {}
    if wanted & {"spectral_centroid", "spectral_bandwidth"}:
        total = S.sum(axis=0, dtype=np.float64)
        # librosa leaves all-zero frames unnormalised: their centroid and bandwidth are 0
        scale = np.divide(1.0, total, out=np.zeros_like(total), where=total > np.finfo(S.dtype).tiny)
        centroid = (freqs @ S.astype(np.float64)) * scale
        if "spectral_centroid" in wanted:
            out["spectral_centroid"] = centroid.astype(np.float32)[None, :]
        if "spectral_bandwidth" in wanted:
            second = ((freqs**2) @ S.astype(np.float64)) * scale
            out["spectral_bandwidth"] = np.sqrt(np.maximum(second - centroid**2, 0.0)).astype(np.float32)[None, :]
    if "spectral_rolloff" in wanted:
        # the lowest frequency below which roll_percent of the frame's magnitude lies
        cumulative = np.cumsum(S, axis=0)
        reached = cumulative >= cfg.roll_percent * cumulative[-1]
        out["spectral_rolloff"] = freqs[reached.argmax(axis=0)].astype(np.float32)[None, :]
    return out


def _frame_features(y: np.ndarray, cfg: FeatureConfig, wanted: set[str], tuning) -> dict:
    import librosa

    sr, n_fft, hop = cfg.sample_rate, cfg.n_fft, cfg.hop_length
    out: dict[str, np.ndarray] = {}
    if "zcr" in wanted:
        out["zcr"] = _zero_crossing_rate(y, cfg)
    if "rms" in wanted:
        out["rms"] = librosa.feature.rms(
            y=y, frame_length=n_fft, hop_length=hop, center=cfg.center, pad_mode=cfg.pad_mode
        )
    spectral = wanted - {"zcr", "rms"}
    if spectral:
        stft = librosa.stft(
            y, n_fft=n_fft, hop_length=hop, window=cfg.window, center=cfg.center,
            pad_mode=cfg.pad_mode,
        )
        S = np.abs(stft)
        del stft
        power = S**2 if spectral & {"mel", "mfcc", "chroma"} else None
        if spectral & {"spectral_centroid", "spectral_bandwidth", "spectral_rolloff"}:
            out.update(_centroid_bandwidth_rolloff(S, cfg, wanted))
        if "spectral_flatness" in wanted:
            out["spectral_flatness"] = librosa.feature.spectral_flatness(S=S, n_fft=n_fft)
        if "contrast" in wanted:
            out["contrast"] = librosa.feature.spectral_contrast(
                S=S, sr=sr, n_fft=n_fft, fmin=cfg.contrast_fmin, n_bands=cfg.n_bands,
                quantile=cfg.contrast_quantile,
            )
        if spectral & {"mel", "mfcc"}:
            mel = librosa.feature.melspectrogram(
                S=power, sr=sr, n_fft=n_fft, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax
            )
            if "mfcc" in wanted:
                out["mfcc"] = librosa.feature.mfcc(
                    S=librosa.power_to_db(mel, top_db=cfg.top_db), n_mfcc=cfg.n_mfcc
                )
            if "mel" in wanted:
                out["mel"] = mel
        if "chroma" in wanted:
            if tuning is None:
                tuning = cfg.tuning
            if tuning is None:
                tuning = estimate_tuning(power, config=cfg)
            out["chroma"] = librosa.feature.chroma_stft(
                S=power, sr=sr, n_fft=n_fft, tuning=tuning, n_chroma=cfg.n_chroma
            )
        if "logspec" in wanted:
            out["logspec"] = librosa.amplitude_to_db(
                S, ref=1.0, amin=cfg.logspec_amin, top_db=cfg.logspec_top_db
            )
    return out


# ------------------------------------------------------------------------------------------
# Summaries and segments


POWER_FLOOR = 1e-10  # power -> dB floor: -100 dB


def power_to_db(x: np.ndarray, *, chunk_rows: int = 1024) -> np.ndarray:
    """Power to decibels, ``10 * log10(max(x, 1e-10))`` (reference 1.0), in place.

    The reference is absolute rather than each clip's maximum, so levels stay comparable
    across clips (a quiet and a loud segment keep their difference). Works a block of
    ``chunk_rows`` rows at a time on any writable float32 array, a ``np.memmap`` of
    segments on disk included, so memory holds one block; other arrays are converted to a
    float32 copy first.

    Parameters
    ----------
    x : np.ndarray, shape (n, ...)
        Power values, e.g. mel segments ``(n_segments, frames, n_mels)``.

    Returns
    -------
    np.ndarray
        ``x`` itself (or its float32 copy), now in dB.

    Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """
    if not (isinstance(x, np.ndarray) and x.dtype == np.float32 and x.flags.writeable):
        x = np.array(x, dtype=np.float32)
    for start in range(0, len(x), max(1, int(chunk_rows))):
        block = x[start:start + chunk_rows]
        np.maximum(block, np.float32(POWER_FLOOR), out=block)
        np.log10(block, out=block)
        block *= np.float32(10.0)
    return x


def _row_names(name: str, n_rows: int) -> list[str]:
    if n_rows == 1:
        return [name]
    width = len(str(n_rows))
    return [f"{name}_{i:0{width}d}" for i in range(1, n_rows + 1)]


def _summary_rows(name: str, config: FeatureConfig) -> int:
    if name == "mel" and config.mel_bins_summary is not None:
        return config.mel_bins_summary
    return config.n_rows(name)


def _summarised(config: FeatureConfig) -> list[str]:
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
    cfg = _config(config)
    summarised = _summarised(cfg)
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
    cfg = _config(config)
    summary: dict[str, float] = {}
    for name in _summarised(cfg):
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


def segment_starts(n_frames: int, config: FeatureConfig | None = None) -> np.ndarray:
    """First frame of every whole segment of a clip of ``n_frames`` frames.

    Segment ``k`` starts at the frame of time ``k * segment_seconds``
    (``floor(k * segment_seconds * sample_rate / hop_length)``) and holds
    :attr:`FeatureConfig.frames_per_segment` frames. Only segments that fit entirely in
    the clip are kept: nothing is padded and no segment reaches into another clip. Because
    3 s is not a whole number of hops (129.2 at the defaults), neighbouring segments may
    share one frame; a 30 s clip (1292 frames) gives 10 segments of 130 frames, as cutting
    the waveform into 3 s pieces first would.

    Returns
    -------
    np.ndarray of int, shape (n_segments,)

    Taught in ``notebooks/03_mfcc_chroma_mel.ipynb``.
    """
    cfg = _config(config)
    step = cfg.segment_seconds * cfg.sample_rate / cfg.hop_length  # frames per segment, real
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
    cfg = _config(config)
    if isinstance(features_or_y, Mapping):
        frames = np.asarray(features_or_y[feature])
    else:
        arr = np.asarray(features_or_y)
        frames = frame_features(arr, cfg, features=[feature])[feature] if arr.ndim == 1 else arr
    if frames.ndim != 2:
        raise MusiclibError(f"segment_matrices expects (rows, n_frames), got shape {frames.shape}")
    return _cut_segments(frames, cfg)


def _cut_segments(frames: np.ndarray, cfg: FeatureConfig, out: np.ndarray | None = None) -> np.ndarray:
    fps = cfg.frames_per_segment
    starts = segment_starts(frames.shape[1], cfg)
    if out is None:
        out = np.empty((len(starts), fps, frames.shape[0]), dtype=np.float32)
    for k, s in enumerate(starts):
        out[k] = frames[:, s : s + fps].T
    return out


# ------------------------------------------------------------------------------------------
# The on-disk cache


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}{_TMP_MARK}{_HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def _atomic_write(path: Path, write) -> None:
    """Write ``path`` through a temporary sibling and ``os.replace``: all or nothing."""
    tmp = _tmp_name(path)
    try:
        with open(tmp, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _write_json(path: Path, data) -> None:
    _atomic_write(path, lambda fh: fh.write(json.dumps(data, indent=1).encode("utf-8")))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _stale(tmp: Path, now: float) -> bool:
    """Whether a temp file was abandoned: its writer (on this host) is dead, or it is old."""
    tail = tmp.name.rsplit(_TMP_MARK, 1)[-1]
    parts = tail.split("-")
    if len(parts) == 3 and parts[0] == _HOST and parts[1].isdigit():
        return not _pid_alive(int(parts[1]))
    try:
        return now - tmp.stat().st_mtime > _STALE_TMP_S
    except OSError:
        return False


def clean_stale_tmp(folder: str | os.PathLike) -> int:
    """Remove temporary files that killed runs left in a feature cache; returns how many.

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    now = time.time()
    for dirpath, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            if _TMP_MARK in name:
                p = Path(dirpath) / name
                if _stale(p, now):
                    with contextlib.suppress(OSError):
                        p.unlink()
                        removed += 1
    return removed


def file_identity(path: str | os.PathLike, *, offset_s: float = 0.0, duration_s: float | None = None) -> dict:
    """What identifies the audio a manifest row stands for: the file's absolute path,
    size and modification time (ns), and the part read (seconds).

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

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    text = json.dumps(dict(identity), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


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
    from . import augment

    return augment.augment_identity(str(strength).strip(), int(seed))


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
    _atomic_write(path, lambda fh: np.save(fh, array, allow_pickle=False))
    return path.stat().st_size


def _extract_one(task: dict) -> dict:
    """Worker: features of one manifest row into its cache entry. Returns a small record.

    Runs in loky worker processes, Dask workers or in-process; never returns arrays.
    """
    from librosa.util.exceptions import ParameterError

    from . import audio

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
            from . import augment

            aug = task["augment"]
            y = augment.augment_signal(
                y, sr=cfg.sample_rate, strength=aug["strength"], seed=aug["seed"]
            )
        feats = frame_features(y, cfg)
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
    _write_json(entry / _SUMMARY_FILE, record)  # written last: marks the entry complete
    return {**base, "status": "computed", "record": record}


# ------------------------------------------------------------------------------------------
# Whole datasets


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
        return list(self.summaries["track_id"])

    def n_frames(self, track_id: str) -> int:
        """Frames of one row's features (``FeatureConfig.n_frames`` of its samples)."""
        return self._entry(track_id)[1]

    def _entry(self, track_id: str) -> tuple[Path, int]:
        try:
            return self._entries[track_id]
        except KeyError:
            raise KeyError(f"no features for track_id {track_id!r}") from None

    def frames(self, track_id: str, name: str = "mfcc") -> np.ndarray:
        """One row's frame feature, memory-mapped read-only from the cache.

        Returns
        -------
        np.memmap, float32, shape (rows, n_frames)

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
        starts = [segment_starts(self.n_frames(t), cfg) for t in table["track_id"]]
        total = int(sum(len(s) for s in starts))
        shape = (total, cfg.frames_per_segment, cfg.n_rows(name))
        if out is not None:
            X = np.lib.format.open_memmap(Path(out), mode="w+", dtype=np.float32, shape=shape)
        else:
            X = np.empty(shape, dtype=np.float32)
        pos = 0
        for track_id, s in zip(table["track_id"], starts):
            if len(s):
                _cut_segments(self.frames(track_id, name), cfg, out=X[pos : pos + len(s)])
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
        Show a tqdm progress bar.
    scheduler : str or dask.distributed.Client, optional
        Run on a Dask cluster instead (default ``$MUSICLIB_DASK_SCHEDULER``): the workers
        must see ``cache_dir`` and the audio files at the same paths, and have musiclib
        installed. ``jobs`` is then ignored.
    features : str or list of str, optional
        Frame features to store (names, :data:`FEATURE_GROUPS` keys or ``"all"``);
        ``None`` or ``()`` stores none (summaries only). The log-spectrogram is by far the
        biggest (1025 rows: 5.3 MB per 30 s clip).

    Returns
    -------
    FeatureSet

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    cfg = _config(config)
    wanted = resolve_features(features) if features is None or len(features) else []
    manifest = manifest.reset_index(drop=True)
    if manifest["track_id"].duplicated().any():
        dup = manifest.loc[manifest["track_id"].duplicated(), "track_id"].iloc[0]
        raise MusiclibError(f"manifest: track_id {dup!r} appears more than once")
    folder = Path(cache_dir).expanduser().absolute() / f"features-{cfg.config_hash}"
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "config.json").is_file():
        _write_json(folder / "config.json", {"features_version": FEATURES_VERSION, **cfg.to_dict()})
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


# ------------------------------------------------------------------------------------------
# The command


def _atomic_csv(frame: pd.DataFrame, path: Path) -> None:
    _atomic_write(path, lambda fh: fh.write(frame.to_csv(index=False).encode("utf-8")))


def run_features_command(
    dataset: str | os.PathLike | None,
    out_dir: str | os.PathLike,
    *,
    jobs: int = 1,
    scheduler=None,
    profile: str | None = None,
    progress: bool = True,
    config: FeatureConfig | None = None,
) -> int:
    """``musiclib features DATASET --out DIR [--jobs N] [--scheduler ADDR]``.

    Loads the dataset (:func:`musiclib.datasets.load`), extracts its features into
    ``out_dir/cache`` and writes ``out_dir/summaries.csv`` (atomically). Prints one line per
    skipped file (``skipped <path>: <reason>``) and a final report such as
    ``features of 80 recordings (0 from cache, 80 computed, 2 skipped) in 12.3 s``.

    Returns
    -------
    int
        0 when at least one recording was extracted; every file that could not be used
        is listed with its reason (as ``musiclib dataset info`` does).

    Raises
    ------
    DatasetError
        When the dataset cannot be loaded or no row could be extracted (the CLI prints it
        on one line and exits with status 2).

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    from . import datasets
    from .config import settings as make_settings
    from .errors import DatasetError

    t0 = time.perf_counter()
    s = make_settings(profile=profile, dataset=dataset, share=False)  # a command: every recording
    # Headers only: extraction decodes every file anyway and reports those it cannot use
    # (truncated, non-finite), and a rerun served from the cache then decodes nothing.
    ds = datasets.load(dataset, settings=s, check=False, jobs=max(1, jobs), progress=progress)
    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    fs = extract_dataset(
        ds.manifest, config, cache_dir=out / "cache", jobs=jobs, progress=progress,
        scheduler=scheduler,
    )
    for path, reason in zip(ds.skipped["path"], ds.skipped["reason"]):
        print(f"skipped {path}: {reason}")
    for path, reason in zip(fs.skipped["path"], fs.skipped["reason"]):
        print(f"skipped {path}: {reason}")
    if not len(fs):
        raise DatasetError(f"{ds.name}: no recording could be extracted ({len(fs.skipped)} skipped)")
    _atomic_csv(fs.summaries, out / "summaries.csv")
    n_skipped = len(ds.skipped) + len(fs.skipped)
    print(f"summaries: {out / 'summaries.csv'}; frame features: {fs.folder}")
    print(
        f"features of {len(fs)} recordings ({fs.stats['cached']} from cache, "
        f"{fs.stats['computed']} computed, {n_skipped} skipped) in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    return 0


__all__ = [
    "ENV_DASK_SCHEDULER",
    "FEATURES_VERSION",
    "FEATURE_GROUPS",
    "FRAME_FEATURES",
    "FeatureConfig",
    "FeatureSet",
    "cache_key",
    "clean_stale_tmp",
    "clip_summary",
    "estimate_tuning",
    "extract_dataset",
    "file_identity",
    "frame_features",
    "normalise_level",
    "power_to_db",
    "resolve_features",
    "run_features_command",
    "segment_matrices",
    "segment_starts",
    "summary_columns",
]
