"""Feature settings and feature names: :class:`FeatureConfig` and the lists of features.

Everything that changes a feature value is a field of :class:`FeatureConfig`; its
:attr:`~FeatureConfig.config_hash` (which includes :data:`FEATURES_VERSION`) names the
cache folder and travels with saved models.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..errors import MusiclibError

# Bump when a change of code (not of FeatureConfig) changes any number this module writes:
# it is part of every config_hash, so old caches are simply not found any more.
FEATURES_VERSION = "1"

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
    "spectral": list(FRAME_FEATURES[:7]),  # zcr to contrast
    "mfcc": ["mfcc"],
    "chroma": ["chroma"],
    "mel": ["mel"],
    "logspec": ["logspec"],
}


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
        """The settings as a plain dict (JSON types only), one key per field."""
        return asdict(self)

    def to_json(self, *, indent: int | None = None) -> str:
        """Canonical JSON: sorted keys, so equal configs give equal text.

        Parameters
        ----------
        indent : int, optional
            Pretty-print with this indent; None: one compact line (what
            :attr:`config_hash` hashes).

        Returns
        -------
        str
        """
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent,
                          separators=(",", ": ") if indent else (",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping) -> "FeatureConfig":
        """Inverse of :meth:`to_dict`; keys left out take their defaults, unknown keys fail.

        Parameters
        ----------
        data : dict
            Field names to values.

        Returns
        -------
        FeatureConfig

        Raises
        ------
        MusiclibError
            For an unknown key or an invalid value.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise MusiclibError(f"FeatureConfig: unknown setting(s) {', '.join(unknown)}")
        return cls(**dict(data))

    @classmethod
    def from_json(cls, text: str | os.PathLike) -> "FeatureConfig":
        """Inverse of :meth:`to_json`: from JSON text or the path of a JSON file.

        Parameters
        ----------
        text : str or path
            JSON text (starts with ``{``) or the path of a file holding it.

        Returns
        -------
        FeatureConfig
        """
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
        """Frames of a signal of ``n_samples`` samples (``1 + n // hop`` when centred).

        Parameters
        ----------
        n_samples : int
            Length of the signal in samples at :attr:`sample_rate`.

        Returns
        -------
        int
            Columns of every frame feature of that signal (0 if it is shorter than one
            frame and not centred).
        """
        if self.center:
            return 1 + int(n_samples) // self.hop_length
        return max(0, 1 + (int(n_samples) - self.n_fft) // self.hop_length)

    def n_rows(self, name: str) -> int:
        """Rows of frame feature ``name``.

        Parameters
        ----------
        name : str
            One of :data:`FRAME_FEATURES`.

        Returns
        -------
        int
            1 for the scalar features, ``n_bands + 1`` for contrast, ``n_mfcc``,
            ``n_chroma``, ``n_mels``, and ``1 + n_fft // 2`` for the log-spectrogram.

        Raises
        ------
        KeyError
            For an unknown name.
        """
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


def as_feature_config(config: FeatureConfig | Mapping | None) -> FeatureConfig:
    """The :class:`FeatureConfig` a function was given as ``config``.

    Parameters
    ----------
    config : FeatureConfig, dict or None
        A config (returned as is), its :meth:`~FeatureConfig.to_dict` (e.g. read back from
        a model bundle), or None for the defaults ``FeatureConfig()``.

    Returns
    -------
    FeatureConfig
    """
    if config is None:
        return FeatureConfig()
    if isinstance(config, FeatureConfig):
        return config
    return FeatureConfig.from_dict(config)


def resolve_features(features: str | Iterable[str] | None) -> list[str]:
    """Frame feature names from names, group names (:data:`FEATURE_GROUPS`) or ``"all"``.

    Parameters
    ----------
    features : str or list of str or None
        Feature names, group names, ``"all"``, or a mix; None means all.

    Returns
    -------
    list of str
        In :data:`FRAME_FEATURES` order, without repeats.

    Raises
    ------
    MusiclibError
        For a name that is neither a feature, a group nor ``"all"``.

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
