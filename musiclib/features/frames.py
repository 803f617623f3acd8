"""Frame features of one signal, all from one STFT: :func:`frame_features`.

Also :func:`normalise_level` (the level every signal is scaled to first) and
:func:`estimate_tuning` (chroma's tuning, estimated once per signal). numpy's BLAS runs on
one thread meanwhile (``_single_threaded_blas``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import numpy as np

from ..errors import MusiclibError
from .config import FRAME_FEATURES, FeatureConfig, as_feature_config, resolve_features

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

    cfg = as_feature_config(config)
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

    cfg = as_feature_config(config)
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
