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

One topic per module; this package re-exports their public names:

- :mod:`.config`: :class:`FeatureConfig`, :data:`FEATURES_VERSION`, the feature names
  and groups, :func:`resolve_features`;
- :mod:`.frames`: :func:`frame_features`, :func:`normalise_level`, :func:`estimate_tuning`;
- :mod:`.summaries`: :func:`clip_summary`, :func:`summary_columns`,
  :func:`segment_starts`, :func:`segment_matrices`, :func:`power_to_db`;
- :mod:`.cache`: :func:`file_identity`, :func:`cache_key`, the cache entries,
  :class:`FeatureSet`, :func:`clean_stale_tmp`;
- :mod:`.extract`: :func:`extract_dataset` and its joblib / Dask runners.

Taught in ``notebooks/02_spectral_features.ipynb`` (spectral features, summaries, the
cache) and ``notebooks/03_mfcc_chroma_mel.ipynb`` (MFCC, chroma, mel, segments).
"""

from ..errors import MusiclibError  # noqa: F401  (was importable from here; tests use it)
from .cache import _HOST, FeatureSet, cache_key, clean_stale_tmp, file_identity  # noqa: F401
from .config import (
    FEATURE_GROUPS,
    FEATURES_VERSION,
    FRAME_FEATURES,
    FeatureConfig,
    as_feature_config,
    resolve_features,
)
from .extract import ENV_DASK_SCHEDULER, _extract_one, extract_dataset  # noqa: F401
from .frames import SILENCE_RMS, estimate_tuning, frame_features, normalise_level
from .summaries import (
    POWER_FLOOR,
    SUMMARY_STATS,
    clip_summary,
    power_to_db,
    segment_matrices,
    segment_starts,
    summary_columns,
)

__all__ = [
    "ENV_DASK_SCHEDULER",
    "FEATURES_VERSION",
    "FEATURE_GROUPS",
    "FRAME_FEATURES",
    "FeatureConfig",
    "FeatureSet",
    "as_feature_config",
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
    "segment_matrices",
    "segment_starts",
    "summary_columns",
]
