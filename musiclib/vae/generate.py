"""Using a trained VAE: encode, sample, reconstruct, interpolate, and Griffin-Lim to sound.

Every function takes ``vae``: a :class:`~musiclib.vae.VAEResult` (from
:func:`~musiclib.vae.train_vae`) or a :class:`~musiclib.vae.LoadedVAE` (from
:func:`~musiclib.vae.load`); those that need no statistics or labels also take the bare
:class:`~musiclib.vae.VAE`. Spectrograms are ``(n, frames, bins)``, time first, normalised
to [0, 1] with the training statistics; a single ``(frames, bins)`` one is accepted where
noted. :func:`to_audio` denormalises to dB, gives back the dropped Nyquist bin (as the
training minimum) and estimates a phase with Griffin-Lim (``librosa.griffinlim``).

Taught in ``notebooks/08_vae_generation.ipynb``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import MusiclibError
from .data import denormalise
from .io import _parts
from .model import VAE, _model


def _label_index(vae, label, n: int) -> np.ndarray:
    """Label indices for ``n`` examples: ``label`` (name or index) for all, or cycled."""
    model = _model(vae)
    labels = list(getattr(vae, "labels", []) or [])
    if label is None:
        return np.arange(n, dtype=np.int32) % max(1, model.n_labels or 1)
    if not model.n_labels:
        raise MusiclibError("this VAE is not conditional: sample without a label")
    if isinstance(label, str):
        if label not in labels:
            raise MusiclibError(f"unknown label {label!r}: choose one of {', '.join(labels)}")
        label = labels.index(label)
    if not 0 <= int(label) < model.n_labels:
        raise MusiclibError(f"label index {label} outside 0..{model.n_labels - 1}")
    return np.full(n, int(label), dtype=np.int32)


def _onehot(model: VAE, idx: np.ndarray):
    """One-hot float32 ``(n, n_labels)`` of label indices, or None for an unconditional model."""
    if not model.n_labels:
        return None
    return np.eye(model.n_labels, dtype=np.float32)[np.asarray(idx, dtype=np.int64)]


def _decode(model: VAE, z: np.ndarray, idx: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Decode codes ``(n, latent_dim)`` with label indices ``(n,)`` to ``(n, frames, bins)`` in [0, 1]."""
    parts = []
    for i in range(0, len(z), batch_size):
        oh = _onehot(model, idx[i:i + batch_size])
        args = [z[i:i + batch_size]] + ([oh] if oh is not None else [])
        parts.append(np.asarray(model.decoder(args if len(args) > 1 else args[0], training=False)))
    out = np.concatenate(parts) if parts else np.zeros((0, model.frames, model.bins, 1), np.float32)
    return out[..., 0].astype(np.float32)


def encode(vae, spectrograms: np.ndarray, labels=None, *, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and log-variance of normalised spectrograms.

    Parameters
    ----------
    vae : VAEResult, LoadedVAE or VAE
        The trained VAE.
    spectrograms : np.ndarray, shape (n, frames, bins) or (frames, bins)
        Normalised to [0, 1] with the VAE's training statistics.
    labels : array_like of int, shape (n,), optional
        Label indices, for a conditional VAE; default the labels cycled ``0, 1, 2, ...``
        (so pass the true ones).
    batch_size : int
        Spectrograms per call of the encoder.

    Returns
    -------
    mu, log_var : np.ndarray, each float32 (n, latent_dim)
        Mean and log-variance (natural log) of the Gaussian posterior of each spectrogram.
    """
    model = _model(vae)
    x = np.asarray(spectrograms, dtype=np.float32)
    if x.ndim == 2:
        x = x[None]
    idx = _label_index(vae, None, len(x)) if labels is None else np.asarray(labels, np.int32).reshape(-1)
    mus, lvs = [], []
    for i in range(0, len(x), batch_size):
        oh = _onehot(model, idx[i:i + batch_size])
        spec = x[i:i + batch_size, ..., None]
        mu, lv = model.encoder([spec, oh] if oh is not None else spec, training=False)
        mus.append(np.asarray(mu))
        lvs.append(np.asarray(lv))
    return np.concatenate(mus), np.concatenate(lvs)


def _prior_means(model: VAE, idx: np.ndarray) -> np.ndarray:
    """The prior's mean ``(n, latent_dim)`` for label indices: ``m_c`` (class prior) or zeros."""
    if getattr(model, "prior_means", None) is None:
        return np.zeros((len(idx), model.latent_dim), np.float32)
    return np.asarray(model.prior_means)[np.asarray(idx, dtype=np.int64)].astype(np.float32)


def sample(vae, n: int, *, label=None, seed: int = 0, temperature: float | None = None) -> np.ndarray:
    """``n`` normalised spectrograms ``(n, frames, bins)`` decoded from the prior.

    The prior is N(0, I), or N(m_c, I) for a model with a class-conditional prior
    (``config.class_prior``): codes are drawn around the learnt mean of the style asked for.
    ``label`` (name or index) conditions a conditional VAE; without it labels are cycled.
    The same ``seed`` gives the same spectrograms.

    Parameters
    ----------
    vae : VAEResult, LoadedVAE or VAE
        The trained VAE.
    n : int
        Number of spectrograms.
    label : str or int, optional
        Style name (one of ``vae.labels``) or label index, for every sample; default the
        labels cycled ``0, 1, 2, ...`` (all 0 for an unconditional VAE).
    seed : int
        Seed of the latent codes (``np.random.default_rng(seed)``).
    temperature : float, optional
        Spread of the codes around the prior's mean: ``z = m + temperature * eps``;
        default ``config.temperature`` of a trained VAE (1: the prior itself; below 1 trades
        variety for typical samples, as "truncation" does in image generation).

    Returns
    -------
    np.ndarray
        float32 ``(n, frames, bins)`` in [0, 1]; :func:`to_audio` makes sound of them,
        :func:`~musiclib.vae.denormalise` dB.

    Raises
    ------
    MusiclibError
        A label for an unconditional VAE, an unknown label name, or an index out of range.
    """
    model = _model(vae)
    idx = _label_index(vae, label, int(n))
    if temperature is None:
        temperature = getattr(getattr(vae, "config", None), "temperature", 1.0)
    z = np.random.default_rng(seed).standard_normal((int(n), model.latent_dim)).astype(np.float32)
    return _decode(model, _prior_means(model, idx) + np.float32(temperature) * z, idx)


def reconstruct(vae, spectrograms: np.ndarray, labels=None) -> np.ndarray:
    """Decode the posterior mean of each spectrogram.

    Parameters
    ----------
    vae : VAEResult, LoadedVAE or VAE
        The trained VAE.
    spectrograms : np.ndarray, shape (n, frames, bins) or (frames, bins)
        Normalised to [0, 1].
    labels : array_like of int, shape (n,), optional
        Label indices, for a conditional VAE; default the cycled labels, so pass the true
        ones.

    Returns
    -------
    np.ndarray
        float32 ``(n, frames, bins)`` in [0, 1].
    """
    model = _model(vae)
    x = np.asarray(spectrograms, dtype=np.float32)
    x = x[None] if x.ndim == 2 else x
    idx = _label_index(vae, None, len(x)) if labels is None else np.asarray(labels, np.int32).reshape(-1)
    mu, _ = encode(vae, x, idx)
    return _decode(model, mu, idx)


def interpolate(vae, a: np.ndarray, b: np.ndarray, *, steps: int = 8, label_a=None, label_b=None) -> np.ndarray:
    """Spectrograms decoded along the straight line between the codes of ``a`` and ``b``.

    Returns ``(steps, frames, bins)``: the first is ``a``'s reconstruction, the last
    ``b``'s. For a conditional VAE the one-hot label is interpolated too (label indices
    ``label_a`` / ``label_b``; default 0).

    Parameters
    ----------
    vae : VAEResult, LoadedVAE or VAE
        The trained VAE.
    a, b : np.ndarray, shape (frames, bins) or (1, frames, bins)
        The two end points, normalised to [0, 1].
    steps : int
        Number of spectrograms on the line, ends included.
    label_a, label_b : int, optional
        Label indices of ``a`` and ``b`` (not names); default 0.

    Returns
    -------
    np.ndarray
        float32 ``(steps, frames, bins)`` in [0, 1], decoded from the codes
        ``(1 - t) mu_a + t mu_b`` for ``t`` evenly spaced in [0, 1].
    """
    model = _model(vae)
    la = np.array([0 if label_a is None else int(label_a)], np.int32)
    lb = np.array([0 if label_b is None else int(label_b)], np.int32)
    za, _ = encode(vae, np.asarray(a)[None] if np.ndim(a) == 2 else a, la)
    zb, _ = encode(vae, np.asarray(b)[None] if np.ndim(b) == 2 else b, lb)
    t = np.linspace(0.0, 1.0, int(steps), dtype=np.float32)[:, None]
    z = (1 - t) * za + t * zb
    if model.n_labels:
        oh = (1 - t) * _onehot(model, la) + t * _onehot(model, lb)
        out = model.decoder([z, oh], training=False)
    else:
        out = model.decoder(z, training=False)
    return np.asarray(out)[..., 0].astype(np.float32)


def to_magnitude(vae, spectrogram: np.ndarray) -> np.ndarray:
    """Normalised spectrogram -> the linear STFT magnitude Griffin-Lim inverts.

    Denormalised to dB with ``vae.stats``, transposed to frequency first, the dropped bins
    (``bins`` up to ``1 + n_fft // 2``, at least the Nyquist bin) filled with the training
    minimum, and ``librosa.db_to_amplitude(..., ref=1.0)``.

    Parameters
    ----------
    vae : VAEResult or LoadedVAE
        Supplies ``config`` (``n_fft``) and ``stats``.
    spectrogram : np.ndarray, shape (frames, bins)
        One normalised spectrogram in [0, 1].

    Returns
    -------
    np.ndarray
        float32 linear magnitude ``(1 + n_fft // 2, frames)`` (``|STFT|``, full scale 1).
    """
    import librosa

    cfg, stats = vae.config, vae.stats
    db = denormalise(spectrogram, stats).T  # (bins, frames)
    full = np.full((cfg.n_fft // 2 + 1, db.shape[1]), float(stats["min"]), dtype=np.float32)
    full[: db.shape[0]] = db  # the dropped bins (Nyquist) come back as the training minimum
    return librosa.db_to_amplitude(full, ref=1.0).astype(np.float32)


def to_audio(vae, spectrograms: np.ndarray, *, n_iter: int | None = None, seed: int = 0) -> list[np.ndarray]:
    """Waveforms of normalised spectrograms, by Griffin-Lim phase estimation.

    Each spectrogram is denormalised with the saved training statistics, turned from dB to
    magnitude, and inverted with ``librosa.griffinlim`` (``n_iter`` iterations, default
    ``config.griffinlim_iters``, random initial phase seeded by ``seed``): a real phase
    estimate, not the zero-phase inverse STFT that sounds like a buzz.

    Parameters
    ----------
    vae : VAEResult or LoadedVAE
        Supplies ``config`` (STFT, sample rate, iterations) and ``stats``.
    spectrograms : np.ndarray, shape (n, frames, bins) or (frames, bins)
        Normalised to [0, 1] (e.g. from :func:`sample` or :func:`reconstruct`).
    n_iter : int, optional
        Griffin-Lim iterations; default ``config.griffinlim_iters``.
    seed : int
        Seed of the initial random phase (clip ``k`` uses ``default_rng([seed, k])``).

    Returns
    -------
    list of np.ndarray
        float32 mono at ``config.sample_rate`` Hz, ``config.segment_samples`` each,
        finite, scaled down to peak 0.99 only if louder.

    Raises
    ------
    MusiclibError
        ``n_iter`` below 1.
    """
    x = np.asarray(spectrograms, dtype=np.float32)
    x = x[None] if x.ndim == 2 else x
    return [_limit(_griffinlim(vae, spec, n_iter=n_iter, seed=[seed, k])) for k, spec in enumerate(x)]


def _limit(y: np.ndarray) -> np.ndarray:
    """Scale down to peak 0.99 only if louder."""
    peak = float(np.abs(y).max()) if y.size else 0.0
    return (y * (0.99 / peak) if peak > 0.99 else y).astype(np.float32)


def _griffinlim(vae, spectrogram: np.ndarray, *, n_iter: int | None = None, seed=0,
                length: int | None = None) -> np.ndarray:
    """Griffin-Lim of one normalised spectrogram ``(frames, bins)`` (any number of frames), not
    rescaled: ``(frames - 1) * hop_length`` samples unless ``length`` says otherwise."""
    import librosa

    cfg = vae.config
    iters = int(n_iter if n_iter is not None else cfg.griffinlim_iters)
    if iters < 1:
        raise MusiclibError("n_iter must be at least 1")
    spectrogram = np.asarray(spectrogram, dtype=np.float32)
    y = librosa.griffinlim(to_magnitude(vae, spectrogram), n_iter=iters, hop_length=cfg.hop_length,
                           n_fft=cfg.n_fft, window="hann", center=True,
                           length=int(length or (len(spectrogram) - 1) * cfg.hop_length),
                           random_state=np.random.default_rng(seed))
    return np.nan_to_num(np.asarray(y, dtype=np.float32))


def segments_for(config, seconds: float) -> int:
    """How many consecutive segments make a clip of at least ``seconds`` seconds.

    Parameters
    ----------
    config : VAEConfig
    seconds : float
        The clip's length in seconds (e.g. a classifier's segment, 3.0).

    Returns
    -------
    int
        The smallest ``k`` whose ``k * frames`` frames give Griffin-Lim at least
        ``seconds * sample_rate`` samples: ``(k * frames - 1) * hop_length >= seconds * sr``.
    """
    need = int(round(float(seconds) * config.sample_rate))
    return max(1, int(np.ceil((need / config.hop_length + 1) / config.frames)))


def to_clips(vae, spectrograms: np.ndarray, seconds: float, *, n_iter: int | None = None,
             seed: int = 0) -> list[np.ndarray]:
    """Clips of exactly ``seconds`` seconds, each from consecutive spectrograms joined in time.

    ``spectrograms`` ``(n * k, frames, bins)`` are taken ``k`` at a time
    (``k = segments_for(config, seconds)``), joined along time into one
    ``(k * frames, bins)`` spectrogram, inverted by one Griffin-Lim run (one consistent
    phase across the joins) and cut to ``round(seconds * sample_rate)`` samples. A clip as
    long as a classifier's segment is judged without tiling or padding.

    Parameters
    ----------
    vae : VAEResult or LoadedVAE
    spectrograms : np.ndarray, shape (n * k, frames, bins)
        Normalised to [0, 1]; consecutive groups of ``k`` make one clip (a remainder is dropped).
    seconds : float
        Length of each clip in seconds.
    n_iter : int, optional
        Griffin-Lim iterations; default ``config.griffinlim_iters``.
    seed : int
        Seed of the initial phase (clip ``i`` uses ``default_rng([seed, i])``).

    Returns
    -------
    list of np.ndarray
        ``n`` float32 clips at ``config.sample_rate`` Hz, ``round(seconds * sample_rate)``
        samples each, scaled down to peak 0.99 only if louder.
    """
    cfg = vae.config
    k = segments_for(cfg, seconds)
    need = int(round(float(seconds) * cfg.sample_rate))
    x = np.asarray(spectrograms, dtype=np.float32)
    x = x[None] if x.ndim == 2 else x
    out = []
    for i in range(len(x) // k):
        joined = np.concatenate(list(x[i * k:(i + 1) * k]), axis=0)
        out.append(_limit(_griffinlim(vae, joined, n_iter=n_iter, seed=[seed, i])[:need]))
    return out


def generate_clips(vae, n: int, *, label=None, seconds: float = 3.0, seed: int = 0) -> list[np.ndarray]:
    """``n`` new clips of ``seconds`` seconds: consecutive samples of one style, joined and inverted.

    :func:`sample` draws ``n * k`` spectrograms (``k = segments_for(config, seconds)``) of
    ``label`` with ``seed``; :func:`to_clips` joins each ``k`` in time and inverts them
    with Griffin-Lim. With ``seconds`` equal to a classifier's segment (3 s in the course)
    the classifier hears whole clips, neither tiled nor padded.

    Parameters
    ----------
    vae : VAEResult or LoadedVAE
    n : int
        Number of clips.
    label : str or int, optional
        Style name or index for every clip; default the labels cycled (per segment).
    seconds : float
        Length of each clip in seconds.
    seed : int
        Seed of the latent codes and of Griffin-Lim's initial phase.

    Returns
    -------
    list of np.ndarray
        ``n`` float32 mono clips, ``round(seconds * sample_rate)`` samples each.
    """
    if float(seconds) <= 0:
        raise MusiclibError("seconds must be positive")
    k = segments_for(vae.config, seconds)
    return to_clips(vae, sample(vae, int(n) * k, label=label, seed=seed), seconds, seed=seed)


def generate_files(folder_or_vae, out_dir: str | os.PathLike, *, n: int, label=None, seed: int = 0,
                   seconds: float | None = 3.0) -> list[Path]:
    """Generate ``n`` clips and write them as WAV files into ``out_dir``.

    What ``musiclib generate`` runs: :func:`generate_clips` (``seconds`` long: consecutive
    samples joined, one Griffin-Lim run each), then :func:`musiclib.audio.write_audio`.

    Parameters
    ----------
    folder_or_vae : str, os.PathLike, VAEResult or LoadedVAE
        A folder written by :func:`~musiclib.vae.save` (loaded with
        :func:`~musiclib.vae.load`), or a VAE in memory.
    out_dir : str or os.PathLike
        Where the WAV files go.
    n : int
        Number of clips.
    label : str or int, optional
        Style name or index for every clip; default the labels cycled.
    seed : int
        Seed of the latent codes and of Griffin-Lim's initial phase.
    seconds : float or None
        Length of each clip in seconds (default 3, the course classifiers' segment);
        None: one segment of the VAE, ``config.segment_samples`` samples.

    Returns
    -------
    list of pathlib.Path
        ``out_dir / "vae-<label or 'prior'>-<seed>-<k>.wav"`` (``k`` three digits), mono
        audio at ``config.sample_rate`` Hz.
    """
    from ..audio import write_audio

    vae = _parts(folder_or_vae)
    if seconds is None:
        clips = to_audio(vae, sample(vae, n, label=label, seed=seed), seed=seed)
    else:
        clips = generate_clips(vae, n, label=label, seconds=seconds, seed=seed)
    name = "prior" if label is None else (label if isinstance(label, str) else vae.labels[int(label)])
    out_dir = Path(out_dir)
    paths = []
    for k, y in enumerate(clips):
        paths.append(write_audio(out_dir / f"vae-{name}-{seed}-{k:03d}.wav", y, sr=vae.config.sample_rate))
    return paths
