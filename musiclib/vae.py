"""A variational autoencoder of log-magnitude spectrograms: the generation task of source 000.

The recipe, each step one function:

1. :func:`prepare` cuts every recording of a split manifest into segments, takes the
   log-magnitude STFT of each (dB, absolute: ``amplitude_to_db(|STFT|, ref=1.0)``, through
   :func:`musiclib.features.extract_dataset` and its cache), crops it to a shape the
   encoder's five stride-2 convolutions divide exactly, and min-max normalises it with the
   minimum and maximum of the **training** side only. Those two numbers travel with the
   model (``vae.json``): a VAE normalised per file cannot be sampled freely, because a
   sample from the prior has no file whose level it could borrow.
2. :func:`build_vae` / :func:`train_vae`: a Keras 3 subclassed :class:`VAE` with its own
   ``train_step`` and ``test_step`` (5 Conv2D encoder layers, a mirrored decoder of 5
   Conv2DTranspose layers, reparameterisation, reconstruction loss + beta x KL with an
   optional linear KL warm-up), optionally conditioned on the style label (a one-hot
   vector joins the encoder's flattened features and the latent code).
3. :func:`sample`, :func:`reconstruct`, :func:`interpolate` and :func:`to_audio` (real
   Griffin-Lim phase estimation, ``librosa.griffinlim``), :func:`generate_files` for the CLI.
4. :func:`evaluate` (held-out reconstruction error against an untrained model and the
   training set's mean spectrogram), :func:`style_agreement` (does a course classifier
   hear the intended style?), :func:`feature_distance` (Frechet distance of MFCC summaries).
5. :func:`run_vae_experiment`: the whole recipe, what ``musiclib train --experiment vae``
   runs.

Shapes: a segment's spectrogram is ``(frames, bins)``, time first like every segment
matrix of the course; the model sees ``(frames, bins, 1)``. The STFT's Nyquist bin is
dropped (``1 + n_fft // 2`` bins -> ``n_fft // 2``) and given back, as silence, before
Griffin-Lim.

Taught in ``notebooks/08_generation_vae.ipynb``.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import keras
import numpy as np
import pandas as pd
from keras import ops

from .errors import MusiclibError

N_STRIDES = 5  # five stride-2 layers: frames and bins must be multiples of 2**5 = 32
SIDES = ("train", "valid", "test")
BATCHNORM_MOMENTUM = 0.9  # as musiclib.models: few steps per epoch in the small profiles


# ------------------------------------------------------------------------------------------
# Settings


@dataclass(frozen=True)
class VAEConfig:
    """Every setting of the VAE recipe.

    Attributes
    ----------
    segment_seconds : float
        Length of a segment. ``frames * hop_length / sample_rate`` makes the segment
        exactly ``frames`` STFT frames long.
    n_fft, hop_length : int
        STFT frame length and hop, in samples. Bins are ``n_fft // 2`` (Nyquist dropped).
    frames, bins : int
        The model's input shape; both multiples of ``2 ** 5``. A segment with more frames
        or bins is cropped, one with fewer is padded with the training minimum.
    latent_dim : int
        Size of the latent code.
    filters : tuple of 5 int
        Filters of the encoder's Conv2D layers (the decoder mirrors them).
    beta : float
        Weight of the KL term (1.0: the plain VAE).
    kl_warmup_epochs : int
        The KL weight rises linearly from ``beta / (kl_warmup_epochs + 1)`` to ``beta``
        over this many epochs (0: no warm-up).
    conditional : bool
        Condition encoder and decoder on the style label (one-hot).
    epochs, batch_size, learning_rate :
        Training (Adam). A fixed number of epochs, no early stopping: with a KL warm-up the
        validation loss of early epochs is not comparable with later ones.
    griffinlim_iters : int
        Iterations of ``librosa.griffinlim`` in :func:`to_audio`.
    sample_rate : int
        Hz.
    """

    segment_seconds: float = 128 * 256 / 22050
    n_fft: int = 512
    hop_length: int = 256
    frames: int = 128
    bins: int = 256
    latent_dim: int = 32
    filters: tuple = (8, 16, 32, 32, 64)
    beta: float = 1.0
    kl_warmup_epochs: int = 5
    conditional: bool = True
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 1e-3
    griffinlim_iters: int = 32
    sample_rate: int = 22050

    def __post_init__(self):
        put = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        for name in ("n_fft", "hop_length", "frames", "bins", "latent_dim", "kl_warmup_epochs", "epochs",
                     "batch_size", "griffinlim_iters", "sample_rate"):
            put(name, int(getattr(self, name)))
        for name in ("segment_seconds", "beta", "learning_rate"):
            put(name, float(getattr(self, name)))
        put("filters", tuple(int(f) for f in self.filters))
        put("conditional", bool(self.conditional))
        problems = []
        if len(self.filters) != N_STRIDES or min(self.filters) < 1:
            problems.append(f"filters must be {N_STRIDES} positive integers")
        step = 2**N_STRIDES
        if self.frames % step or self.bins % step or self.frames < step or self.bins < step:
            problems.append(f"frames and bins must be positive multiples of {step} (got {self.frames} x {self.bins})")
        if self.bins > self.n_fft // 2:
            problems.append(f"bins ({self.bins}) exceeds n_fft // 2 ({self.n_fft // 2})")
        if self.hop_length > self.n_fft:
            problems.append("hop_length must not exceed n_fft")
        if self.segment_seconds <= 0 or self.beta < 0 or self.learning_rate <= 0:
            problems.append("segment_seconds and learning_rate must be positive, beta not negative")
        if self.griffinlim_iters < 1:
            problems.append("griffinlim_iters must be at least 1 (0 would be a zero-phase inverse)")
        if problems:
            raise MusiclibError("VAEConfig: " + "; ".join(problems))

    @classmethod
    def for_profile(cls, profile) -> "VAEConfig":
        """The settings of a profile (``tiny``, ``fast``, ``full``, or a ``Profile``).

        ``tiny`` (tests): 64 x 128 spectrograms (n_fft 256, hop 128, 0.37 s), latent 16.
        ``fast``: 128 x 256 (n_fft 512, hop 256, 1.49 s), latent 32, filters
        8-16-32-32-64, 20 epochs: about 30 s of training on a quiet 2-core CPU (the cost per
        step is dominated by the full-resolution layers, hardly by the filter counts). ``full``: the composer project's 5.94 s segments
        (n_fft 512, hop 256: 512 frames x 256 bins), latent 128, wider filters.
        """
        name = getattr(profile, "name", profile)
        name = str(name or "fast").lower()
        if name == "tiny":
            return cls(segment_seconds=64 * 128 / 22050, n_fft=256, hop_length=128, frames=64, bins=128,
                       latent_dim=16, filters=(8, 16, 16, 32, 32), kl_warmup_epochs=3, epochs=25,
                       batch_size=32, learning_rate=2e-3)
        if name == "fast":
            return cls()
        if name == "full":
            return cls(segment_seconds=5.94, frames=512, bins=256, latent_dim=128,
                       filters=(32, 64, 64, 128, 128), kl_warmup_epochs=10, epochs=60, batch_size=32)
        raise MusiclibError(f"unknown profile {name!r}: choose tiny, fast or full")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["filters"] = list(self.filters)
        return d

    @classmethod
    def from_dict(cls, data) -> "VAEConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise MusiclibError(f"VAEConfig: unknown setting(s) {', '.join(unknown)}")
        return cls(**dict(data))

    def replace(self, **changes) -> "VAEConfig":
        return replace(self, **changes)

    @property
    def segment_samples(self) -> int:
        """Samples of one generated clip: ``(frames - 1) * hop_length``, the length whose
        centred STFT has exactly ``frames`` frames (Griffin-Lim's round trips need it)."""
        return (self.frames - 1) * self.hop_length

    def feature_config(self, sample_rate: int | None = None):
        """The :class:`musiclib.features.FeatureConfig` of the log-spectrogram segments."""
        from .features import FeatureConfig

        return FeatureConfig(sample_rate=sample_rate or self.sample_rate, n_fft=self.n_fft,
                             hop_length=self.hop_length, segment_seconds=self.segment_seconds,
                             logspec_top_db=None,
                             # only the log-spectrogram is used; fewer mel bands keep the
                             # cache's clip summaries free of empty mel filters at small n_fft
                             n_mels=min(128, self.n_fft // 8))


# ------------------------------------------------------------------------------------------
# Data


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
    from . import features, splits

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


# ------------------------------------------------------------------------------------------
# The model


def _conv_block(layer, x, name):
    x = layer(x)
    x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return keras.layers.BatchNormalization(momentum=BATCHNORM_MOMENTUM, name=f"{name}_bn")(x)


def _build_encoder(frames, bins, latent_dim, filters, n_labels):
    spec = keras.Input(shape=(frames, bins, 1), name="spectrogram")
    inputs = [spec]
    x = spec
    for i, f in enumerate(filters):
        x = _conv_block(keras.layers.Conv2D(f, 3, strides=2, padding="same", name=f"enc_conv{i + 1}"), x,
                        f"enc{i + 1}")
    x = keras.layers.Flatten(name="enc_flatten")(x)
    if n_labels:
        onehot = keras.Input(shape=(n_labels,), name="label")
        inputs.append(onehot)
        x = keras.layers.Concatenate(name="enc_condition")([x, onehot])
    mu = keras.layers.Dense(latent_dim, name="mu")(x)
    log_var = keras.layers.Dense(latent_dim, name="log_var")(x)
    return keras.Model(inputs, [mu, log_var], name="encoder")


def _build_decoder(frames, bins, latent_dim, filters, n_labels):
    z = keras.Input(shape=(latent_dim,), name="z")
    inputs = [z]
    x = z
    if n_labels:
        onehot = keras.Input(shape=(n_labels,), name="label")
        inputs.append(onehot)
        x = keras.layers.Concatenate(name="dec_condition")([x, onehot])
    step = 2**N_STRIDES
    bottleneck = (frames // step, bins // step, filters[-1])
    x = keras.layers.Dense(int(np.prod(bottleneck)), name="dec_dense")(x)
    x = keras.layers.Reshape(bottleneck, name="dec_reshape")(x)
    for i, f in enumerate(reversed(filters[:-1])):
        x = _conv_block(keras.layers.Conv2DTranspose(f, 3, strides=2, padding="same", name=f"dec_deconv{i + 1}"),
                        x, f"dec{i + 1}")
    x = keras.layers.Conv2DTranspose(1, 3, strides=2, padding="same", name=f"dec_deconv{N_STRIDES}")(x)
    out = keras.layers.Activation("sigmoid", name="dec_sigmoid")(x)
    return keras.Model(inputs, out, name="decoder")


@keras.saving.register_keras_serializable(package="musiclib")
class VAE(keras.Model):
    """Convolutional VAE of ``(frames, bins)`` spectrograms in [0, 1].

    Inputs are dicts ``{"spectrogram": (n, frames, bins), "label": (n,) int}`` (the label
    is ignored unless ``n_labels > 0``). Per example, the loss is
    ``reconstruction + beta * kl_scale * kl`` with ``reconstruction`` the sum of squared
    errors over all cells (a Gaussian likelihood up to constants) and ``kl`` the KL
    divergence of ``N(mu, sigma)`` from ``N(0, 1)``, summed over latent dimensions;
    ``kl_scale`` (a non-trainable variable, 1.0 unless a warm-up lowers it) is set per
    epoch by :class:`KLWarmup`. Metrics: ``loss``, ``reconstruction``, ``kl`` and ``mse``
    (reconstruction per cell).

    Calling the model returns the reconstruction from the posterior mean (``training``
    false) or from a sampled code (``training`` true).
    """

    def __init__(self, frames=128, bins=256, latent_dim=32, filters=(8, 16, 32, 32, 64), beta=1.0, n_labels=0,
                 seed=0, **kwargs):
        super().__init__(**kwargs)
        self.frames, self.bins, self.latent_dim = int(frames), int(bins), int(latent_dim)
        self.filters = tuple(int(f) for f in filters)
        self.beta, self.n_labels, self.seed = float(beta), int(n_labels), int(seed)
        self.encoder = _build_encoder(self.frames, self.bins, self.latent_dim, self.filters, self.n_labels)
        self.decoder = _build_decoder(self.frames, self.bins, self.latent_dim, self.filters, self.n_labels)
        self.kl_scale = keras.Variable(1.0, trainable=False, name="kl_scale", dtype="float32")
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.mse_tracker = keras.metrics.Mean(name="mse")

    def get_config(self):
        config = super().get_config()
        config.update(frames=self.frames, bins=self.bins, latent_dim=self.latent_dim, filters=list(self.filters),
                      beta=self.beta, n_labels=self.n_labels, seed=self.seed)
        return config

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker, self.mse_tracker]

    # -- pieces ----------------------------------------------------------------------------

    def _unpack(self, data):
        if isinstance(data, (tuple, list)):
            data = data[0]
        spec = data["spectrogram"]
        if len(spec.shape) == 3:
            spec = ops.expand_dims(spec, -1)
        spec = ops.cast(spec, "float32")
        onehot = None
        if self.n_labels:
            onehot = ops.one_hot(ops.cast(ops.reshape(data["label"], (-1,)), "int32"), self.n_labels)
        return spec, onehot

    def encode(self, spec, onehot=None, training=False):
        return self.encoder([spec, onehot] if self.n_labels else spec, training=training)

    def decode(self, z, onehot=None, training=False):
        return self.decoder([z, onehot] if self.n_labels else z, training=training)

    def _reparameterise(self, mu, log_var):
        eps = keras.random.normal(ops.shape(mu), seed=self.seed_generator)
        return mu + ops.exp(0.5 * log_var) * eps

    def call(self, inputs, training=False):
        spec, onehot = self._unpack(inputs)
        mu, log_var = self.encode(spec, onehot, training=training)
        z = self._reparameterise(mu, log_var) if training else mu
        return self.decode(z, onehot, training=training)

    def _vae_losses(self, spec, onehot, training):
        mu, log_var = self.encode(spec, onehot, training=training)
        z = self._reparameterise(mu, log_var)
        out = self.decode(z, onehot, training=training)
        squared = ops.square(spec - out)
        reconstruction = ops.mean(ops.sum(squared, axis=(1, 2, 3)))
        kl = ops.mean(-0.5 * ops.sum(1.0 + log_var - ops.square(mu) - ops.exp(log_var), axis=1))
        loss = reconstruction + self.beta * self.kl_scale * kl
        return loss, reconstruction, kl, ops.mean(squared)

    def _track(self, loss, reconstruction, kl, mse):
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        self.mse_tracker.update_state(mse)
        return {m.name: m.result() for m in self.metrics}

    # -- Keras' training loop --------------------------------------------------------------

    def train_step(self, data):
        import tensorflow as tf  # the course's backend

        spec, onehot = self._unpack(data)
        with tf.GradientTape() as tape:
            loss, reconstruction, kl, mse = self._vae_losses(spec, onehot, True)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        return self._track(loss, reconstruction, kl, mse)

    def test_step(self, data):
        spec, onehot = self._unpack(data)
        return self._track(*self._vae_losses(spec, onehot, False))


class KLWarmup(keras.callbacks.Callback):
    """Raise the model's ``kl_scale`` linearly to 1 over ``epochs`` epochs (then keep it 1)."""

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = int(epochs)

    def on_epoch_begin(self, epoch, logs=None):
        scale = 1.0 if self.epochs <= 0 else min(1.0, (epoch + 1) / (self.epochs + 1))
        self.model.kl_scale.assign(scale)

    def on_train_end(self, logs=None):
        self.model.kl_scale.assign(1.0)


def build_vae(config: VAEConfig | None = None, n_labels: int = 0, *, seed: int = 0) -> VAE:
    """The (built, compiled) :class:`VAE` of ``config``; ``n_labels`` > 0 makes it
    class-conditional (used only when ``config.conditional``)."""
    cfg = config or VAEConfig()
    n = int(n_labels) if cfg.conditional else 0
    model = VAE(frames=cfg.frames, bins=cfg.bins, latent_dim=cfg.latent_dim, filters=cfg.filters, beta=cfg.beta,
                n_labels=n, seed=seed, name="vae")
    model(_inputs(np.zeros((1, cfg.frames, cfg.bins), np.float32), np.zeros(1, np.int32)))  # build
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=cfg.learning_rate))
    return model


def _inputs(x, y=None) -> dict:
    x = np.asarray(x, dtype=np.float32)
    y = np.zeros(len(x), np.int32) if y is None else np.asarray(y, dtype=np.int32).reshape(-1)
    return {"spectrogram": x, "label": y}


# ------------------------------------------------------------------------------------------
# Training, saving, loading


@dataclass
class VAEResult:
    """What :func:`train_vae` returns; usable wherever a loaded VAE is (sample, to_audio...)."""

    model: VAE
    history: dict
    seconds: float
    config: VAEConfig
    stats: dict
    labels: list
    seed: int = 0
    epochs: int = 0


@dataclass
class LoadedVAE:
    """A VAE loaded by :func:`load`: model, settings, normalisation statistics, labels."""

    model: VAE
    config: VAEConfig
    stats: dict
    labels: list
    info: dict = field(default_factory=dict)
    folder: Path | None = None

    @property
    def seed(self) -> int:
        return int(self.info.get("seed", 0))


def train_vae(data: VAEData, config: VAEConfig | None = None, *, seed: int = 0, verbose: int = 0) -> VAEResult:
    """Build and train a VAE on ``data.x["train"]`` (validation loss on ``valid``, if any).

    Returns
    -------
    VAEResult
        ``history``: ``loss``, ``reconstruction``, ``kl``, ``mse`` per epoch, and
        ``val_`` of each when there is a validation side; ``seconds`` of ``fit``.
    """
    from .train import set_seed

    cfg = config or data.config
    if (cfg.frames, cfg.bins) != tuple(data.x["train"].shape[1:]):
        raise MusiclibError(f"config shape {(cfg.frames, cfg.bins)} differs from the data's "
                            f"{tuple(data.x['train'].shape[1:])}")
    set_seed(seed)
    model = build_vae(cfg, len(data.labels), seed=seed)
    valid = (_inputs(data.x["valid"], data.y["valid"]),) if len(data.x["valid"]) else None
    start = time.perf_counter()
    history = model.fit(_inputs(data.x["train"], data.y["train"]), epochs=cfg.epochs, batch_size=cfg.batch_size,
                        shuffle=True, validation_data=valid, callbacks=[KLWarmup(cfg.kl_warmup_epochs)],
                        verbose=verbose)
    seconds = time.perf_counter() - start
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    return VAEResult(model=model, history=hist, seconds=seconds, config=cfg, stats=dict(data.stats),
                     labels=list(data.labels), seed=int(seed), epochs=len(hist.get("loss", [])))


def save(result_or_model, folder: str | os.PathLike, *, data: VAEData | None = None,
         config: VAEConfig | None = None, stats: dict | None = None, labels=None, extra: dict | None = None) -> Path:
    """Write ``model.keras`` and ``vae.json`` into ``folder``, atomically.

    Both go to a temporary sibling folder that then replaces ``folder``.
    ``vae.json`` holds the normalisation statistics (training side), the labels (in
    one-hot order), the input shape, the :class:`VAEConfig`, the package versions and
    ``extra`` (e.g. evaluation numbers). ``data`` supplies stats and labels; or pass them.
    """
    model = getattr(result_or_model, "model", result_or_model)
    cfg = config or getattr(result_or_model, "config", None) or (data.config if data is not None else None)
    stats = stats or (data.stats if data is not None else getattr(result_or_model, "stats", None))
    labels = list(labels if labels is not None else (data.labels if data is not None
                                                      else getattr(result_or_model, "labels", [])))
    if cfg is None or stats is None:
        raise MusiclibError("save needs the VAEConfig and the normalisation statistics (pass data=...)")
    from .bundle import write as write_bundle

    info = {
        "stats": {"min": float(stats["min"]), "max": float(stats["max"])},
        "stats_unit": "dB (amplitude_to_db, ref 1.0), training side only",
        "labels": labels,
        "conditional": bool(model.n_labels),
        "input_shape": [cfg.frames, cfg.bins],
        "config": cfg.to_dict(),
        "seed": int(getattr(result_or_model, "seed", 0)),
        **(extra or {}),
    }
    return write_bundle(folder, model, info, kind="vae")


def load(folder: str | os.PathLike) -> LoadedVAE:
    """Load a folder written by :func:`save` (safe mode, no compile)."""
    from .bundle import load_model, read_info

    folder = Path(folder).expanduser()
    info = read_info(folder, kind="vae", required=("config", "stats", "labels"))
    cfg = VAEConfig.from_dict(info["config"])
    model = load_model(folder)
    if (model.frames, model.bins) != (cfg.frames, cfg.bins):
        raise MusiclibError(f"{folder}: model shape {(model.frames, model.bins)} disagrees with vae.json")
    if model.n_labels and model.n_labels != len(info["labels"]):
        raise MusiclibError(f"{folder}: {len(info['labels'])} labels for a model conditioned on {model.n_labels}")
    return LoadedVAE(model=model, config=cfg, stats=dict(info["stats"]), labels=list(info["labels"]), info=info,
                     folder=folder)


# ------------------------------------------------------------------------------------------
# Use


def _model(vae) -> VAE:
    return getattr(vae, "model", vae)


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
    if not model.n_labels:
        return None
    return np.eye(model.n_labels, dtype=np.float32)[np.asarray(idx, dtype=np.int64)]


def _decode(model: VAE, z: np.ndarray, idx: np.ndarray, batch_size: int = 64) -> np.ndarray:
    parts = []
    for i in range(0, len(z), batch_size):
        oh = _onehot(model, idx[i:i + batch_size])
        args = [z[i:i + batch_size]] + ([oh] if oh is not None else [])
        parts.append(np.asarray(model.decoder(args if len(args) > 1 else args[0], training=False)))
    out = np.concatenate(parts) if parts else np.zeros((0, model.frames, model.bins, 1), np.float32)
    return out[..., 0].astype(np.float32)


def encode(vae, spectrograms: np.ndarray, labels=None, *, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and log-variance of normalised spectrograms ``(n, frames, bins)``."""
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


def sample(vae, n: int, *, label=None, seed: int = 0) -> np.ndarray:
    """``n`` normalised spectrograms ``(n, frames, bins)`` decoded from the prior N(0, I).

    ``label`` (name or index) conditions a conditional VAE; without it labels are cycled.
    The same ``seed`` gives the same spectrograms.
    """
    model = _model(vae)
    z = np.random.default_rng(seed).standard_normal((int(n), model.latent_dim)).astype(np.float32)
    return _decode(model, z, _label_index(vae, label, int(n)))


def reconstruct(vae, spectrograms: np.ndarray, labels=None) -> np.ndarray:
    """Decode the posterior mean of each spectrogram (``labels``: indices, for a
    conditional VAE; default the cycled labels, so pass the true ones)."""
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


def _magnitude(vae, spectrogram: np.ndarray) -> np.ndarray:
    """Normalised ``(frames, bins)`` -> linear magnitude ``(1 + n_fft // 2, frames)``."""
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

    Returns
    -------
    list of np.ndarray
        float32 mono at ``config.sample_rate`` Hz, ``config.segment_samples`` each,
        finite, scaled down to peak 0.99 only if louder.
    """
    import librosa

    cfg = vae.config
    iters = int(n_iter if n_iter is not None else cfg.griffinlim_iters)
    if iters < 1:
        raise MusiclibError("n_iter must be at least 1")
    x = np.asarray(spectrograms, dtype=np.float32)
    x = x[None] if x.ndim == 2 else x
    out = []
    for k, spec in enumerate(x):
        y = librosa.griffinlim(_magnitude(vae, spec), n_iter=iters, hop_length=cfg.hop_length, n_fft=cfg.n_fft,
                               window="hann", center=True, length=cfg.segment_samples,
                               random_state=np.random.default_rng([seed, k]))
        y = np.nan_to_num(np.asarray(y, dtype=np.float32))
        peak = float(np.abs(y).max()) if y.size else 0.0
        if peak > 0.99:
            y = y * (0.99 / peak)
        out.append(y.astype(np.float32))
    return out


def _parts(vae):
    """A loaded VAE from a folder, or the object itself."""
    if isinstance(vae, (str, os.PathLike)):
        return load(vae)
    return vae


def generate_files(folder_or_vae, out_dir: str | os.PathLike, *, n: int, label=None, seed: int = 0) -> list[Path]:
    """Sample ``n`` clips from the prior and write them as WAV files into ``out_dir``.

    Names: ``vae-<label or 'prior'>-<seed>-<k>.wav``. Returns the paths.
    """
    from .audio import write_audio

    vae = _parts(folder_or_vae)
    specs = sample(vae, n, label=label, seed=seed)
    name = "prior" if label is None else (label if isinstance(label, str) else vae.labels[int(label)])
    out_dir = Path(out_dir)
    paths = []
    for k, y in enumerate(to_audio(vae, specs, seed=seed)):
        paths.append(write_audio(out_dir / f"vae-{name}-{seed}-{k:03d}.wav", y, sr=vae.config.sample_rate))
    return paths


# ------------------------------------------------------------------------------------------
# Evaluation


def _held_out(data: VAEData) -> str:
    for side in ("test", "valid"):
        if len(data.x[side]):
            return side
    raise MusiclibError("no held-out segments (test and valid sides are empty)")


def evaluate(vae, data: VAEData, *, seed: int = 0, side: str | None = None) -> pd.DataFrame:
    """Held-out reconstruction error of the trained VAE and two references.

    Rows: ``trained`` (decode the posterior mean), ``untrained`` (the same architecture
    with the initial weights ``seed`` gives, which :func:`train_vae` with that seed started
    from), ``mean_spectrogram`` (the training side's mean normalised spectrogram for every
    segment). Columns: ``mse`` (normalised [0, 1] space), ``rmse_db`` and ``mae_db`` (after
    denormalising), ``n_segments``, ``side``.
    """
    from .train import set_seed

    vae = _parts(vae)
    side = side or _held_out(data)
    x, y = data.x[side], data.y[side]
    model = _model(vae)
    set_seed(seed)
    untrained = build_vae(vae.config, model.n_labels or 0, seed=seed)
    if bool(model.n_labels) != bool(untrained.n_labels):  # config.conditional off but model conditional
        untrained = build_vae(vae.config.replace(conditional=True), model.n_labels, seed=seed)
    mean = np.broadcast_to(data.x["train"].mean(axis=0), x.shape)
    scale = float(vae.stats["max"]) - float(vae.stats["min"])
    rows = []
    for name, pred in (("trained", reconstruct(vae, x, y)),
                       ("untrained", reconstruct(LoadedVAE(untrained, vae.config, vae.stats, vae.labels), x, y)),
                       ("mean_spectrogram", mean)):
        err = pred.astype(np.float64) - x
        rows.append({"model": name, "side": side, "n_segments": int(len(x)), "mse": float(np.mean(err**2)),
                     "rmse_db": float(np.sqrt(np.mean(err**2)) * scale), "mae_db": float(np.mean(np.abs(err)) * scale)})
    return pd.DataFrame(rows)


def _classify_signals(bundle, signals: list[np.ndarray], sr: int) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` of a classifier bundle for in-memory signals.

    Each signal goes through :func:`musiclib.predict.predict_signal` (the features
    ``predict_file`` computes), one mean probability per signal in the bundle's label order.
    A signal shorter than the classifier's segment is **tiled** (repeated) to one segment:
    zero padding would show the classifier half a segment of silence, which none of its
    training segments had.
    """
    from .predict import predict_signal

    need = int(math.ceil(bundle.segment_seconds * sr))
    out = []
    for y in signals:
        y = np.asarray(y, dtype=np.float32)
        if len(y) < need:
            y = np.tile(y, int(math.ceil(need / max(1, len(y)))))[:need]
        prediction = predict_signal(bundle, y, sr, name="generated")
        out.append([prediction.probabilities[label] for label in bundle.labels])
    return np.array(out, dtype=np.float64)


def style_agreement(vae, classifier_bundle, *, n_per_label: int = 5, seed: int = 0) -> pd.DataFrame:
    """Per label, the share of clips generated for it that a classifier assigns to it.

    For a conditional VAE: ``n_per_label`` clips per label are sampled from the prior,
    turned into sound (:func:`to_audio`) and classified with ``classifier_bundle`` (a
    :class:`musiclib.predict.Bundle`, or its folder), the same features as ``predict_file``.
    Columns: ``label``, ``n``, ``agreement`` (share), ``mean_probability`` (of the intended
    label), ``most_predicted``; a last row ``(all)``. Chance is ``1 / n_labels``.
    Labels the classifier does not know get NaN.
    """
    from .predict import Bundle, load_bundle

    vae = _parts(vae)
    bundle = classifier_bundle if isinstance(classifier_bundle, Bundle) else load_bundle(classifier_bundle)
    if not _model(vae).n_labels:
        raise MusiclibError("style_agreement needs a conditional VAE")
    rows = []
    for i, label in enumerate(vae.labels):
        specs = sample(vae, n_per_label, label=i, seed=seed + i)
        proba = _classify_signals(bundle, to_audio(vae, specs, seed=seed), vae.config.sample_rate)
        predicted = [bundle.labels[j] for j in proba.argmax(axis=1)]
        known = label in bundle.labels
        rows.append({
            "label": label, "n": int(n_per_label),
            "agreement": float(np.mean([p == label for p in predicted])) if known else np.nan,
            "mean_probability": float(proba[:, bundle.labels.index(label)].mean()) if known else np.nan,
            "most_predicted": pd.Series(predicted).mode().iloc[0],
        })
    table = pd.DataFrame(rows)
    total = {"label": "(all)", "n": int(table["n"].sum()), "agreement": float(table["agreement"].mean()),
             "mean_probability": float(table["mean_probability"].mean()), "most_predicted": ""}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def mfcc_summaries(vae, spectrograms: np.ndarray, *, n_mfcc: int = 13) -> np.ndarray:
    """Per-clip MFCC means ``(n, n_mfcc)`` computed from normalised spectrograms.

    Denormalise, dB -> power, a mel filter bank (``min(40, bins // 4)`` bands), dB, DCT:
    from the spectrogram itself, so Griffin-Lim's artefacts do not enter.
    """
    import librosa

    cfg = vae.config
    n_mels = max(n_mfcc, min(40, cfg.bins // 4))
    out = []
    for spec in np.asarray(spectrograms, dtype=np.float32):
        power = _magnitude(vae, spec) ** 2
        mel = librosa.feature.melspectrogram(S=power, sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=n_mels)
        mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel, top_db=80.0), n_mfcc=n_mfcc)
        out.append(mfcc.mean(axis=1))
    return np.array(out, dtype=np.float64)


def frechet_distance(a: np.ndarray, b: np.ndarray, *, eps: float = 1e-6) -> float:
    """Frechet distance between Gaussians fitted to the rows of ``a`` and of ``b``:
    ``|mu_a - mu_b|^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2))`` (as FID / FAD)."""
    from scipy import linalg

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    ridge = eps * np.eye(a.shape[1])
    ca, cb = np.cov(a, rowvar=False) + ridge, np.cov(b, rowvar=False) + ridge
    root = linalg.sqrtm(ca @ cb)
    root = np.real(root)
    return float(max(0.0, np.sum((mu_a - mu_b) ** 2) + np.trace(ca + cb - 2.0 * root)))


def feature_distance(vae, data: VAEData, *, n: int = 50, seed: int = 0, side: str | None = None,
                     source: str = "prior") -> float:
    """Frechet distance between MFCC-mean summaries of generated and real held-out clips.

    ``n`` clips are sampled from the prior (labels cycled for a conditional VAE) --
    ``source="reconstruction"`` uses the reconstructions of the real clips instead, and
    ``source="train"`` real *training* clips, a reference for the distance two real sets
    have -- and compared with up to ``n`` random real segments of ``side`` (default test).
    Both sets are summarised by :func:`mfcc_summaries` and standardised with the real
    set's mean and standard deviation per coefficient; the distance is
    :func:`frechet_distance` of those (lower is closer; 0 for identical distributions).
    With a few dozen clips sampling noise alone gives a clearly positive value: compare
    with ``source="train"`` (two real sets) and ``source="reconstruction"``.
    """
    vae = _parts(vae)
    side = side or _held_out(data)
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(data.x[side]))[:n]
    real = data.x[side][pick]
    if source == "prior":
        fake = sample(vae, n, seed=seed)
    elif source == "reconstruction":
        fake = reconstruct(vae, real, data.y[side][pick])
    elif source == "train":
        fake = data.x["train"][rng.permutation(len(data.x["train"]))[:n]]
    else:
        raise MusiclibError("source must be 'prior', 'reconstruction' or 'train'")
    fake_f, real_f = mfcc_summaries(vae, fake), mfcc_summaries(vae, real)
    # standardise by the real clips' spread, so that MFCC 0 (loudness, in tens of dB) does
    # not drown the other coefficients: the distance is then in units of real variation
    mu, sd = real_f.mean(axis=0), real_f.std(axis=0) + 1e-9
    return frechet_distance((fake_f - mu) / sd, (real_f - mu) / sd)


# ------------------------------------------------------------------------------------------
# The recipe


def run_vae_experiment(settings=None, *, dataset=None, out_dir: str | os.PathLike | None = None,
                       seed: int | None = None, config: VAEConfig | None = None, jobs: int = 2,
                       save_results: bool = True, verbose: int = 0) -> dict:
    """Load the dataset, split by recording, prepare, train, evaluate, save; one results row.

    What ``musiclib train DATASET --experiment vae`` runs. The model folder (default
    ``build/models/vae``) holds ``model.keras`` and ``vae.json``; the row is appended to
    ``build/results/vae.csv`` (not ``experiments.csv``: its columns are a classifier's).

    Returns
    -------
    dict
        ``experiment`` ('vae'), ``dataset``, ``profile``, ``seed``, the three held-out
        reconstruction errors (``reconstruction_mse_trained`` / ``_untrained`` /
        ``_mean_baseline``, normalised space) and ``rmse_db_*`` of the same, the final
        ``kl`` and ``val_loss``, ``feature_distance`` (prior vs test) and
        ``feature_distance_train`` (real train vs test, the reference), ``parameters``,
        ``epochs``, ``train_seconds``, ``total_seconds``, counts and ``bundle``.
    """
    from . import datasets, evaluate as ev
    from .experiments import run_split
    from .config import settings as default_settings
    from .models import count_parameters

    began = time.perf_counter()
    s = settings or default_settings()
    if seed is not None:
        s = s.replace(seed=seed)
    if dataset is not None:
        s = s.replace(dataset="synthetic" if str(dataset) == "synthetic" else str(Path(dataset).resolve()))
    cfg = config or VAEConfig.for_profile(s.profile)
    ds = datasets.load(s.dataset, settings=s, jobs=jobs)
    manifest = run_split(ds.manifest, s.seed)  # the split every classifier run uses
    data = prepare(manifest, s, cfg, jobs=jobs)
    result = train_vae(data, cfg, seed=s.seed, verbose=verbose)
    table = evaluate(result, data, seed=s.seed).set_index("model")
    fd = feature_distance(result, data, seed=s.seed)
    fd_ref = feature_distance(result, data, seed=s.seed, source="train")
    h = result.history
    row = {
        "experiment": "vae",
        "title": "convolutional VAE of log-spectrograms (composer generation)",
        "dataset": s.dataset,
        "profile": s.profile.name,
        "seed": s.seed,
        "split": "by recording",
        "conditional": bool(result.model.n_labels),
        "reconstruction_mse_trained": float(table.loc["trained", "mse"]),
        "reconstruction_mse_untrained": float(table.loc["untrained", "mse"]),
        "reconstruction_mse_mean_baseline": float(table.loc["mean_spectrogram", "mse"]),
        "rmse_db_trained": float(table.loc["trained", "rmse_db"]),
        "rmse_db_untrained": float(table.loc["untrained", "rmse_db"]),
        "rmse_db_mean_baseline": float(table.loc["mean_spectrogram", "rmse_db"]),
        "final_reconstruction": h["reconstruction"][-1],
        "final_kl": h["kl"][-1],
        "final_val_loss": h.get("val_loss", [np.nan])[-1],
        "feature_distance": fd,
        "feature_distance_train": fd_ref,
        "parameters": count_parameters(result.model),
        "epochs": result.epochs,
        "train_seconds": round(result.seconds, 2),
        "n_train": int(len(data.x["train"])),
        "n_test_segments": int(table.loc["trained", "n_segments"]),
        "input_shape": f"{cfg.frames}x{cfg.bins}",
        "source": "000",
    }
    folder = Path(out_dir) if out_dir else s.models_dir / "vae"
    metrics = {k: row[k] for k in row if k.startswith(("reconstruction_", "rmse_db_", "feature_distance"))}
    row["bundle"] = str(save(result, folder, data=data, extra={
        "metrics": metrics, "history": h,
        "trained_on": {"dataset": s.dataset, "profile": s.profile.name, "seed": s.seed, "split": "by recording"}}))
    row["total_seconds"] = round(time.perf_counter() - began, 2)
    if save_results:
        ev.append_result(row, s, name="vae")
    return row


__all__ = [
    "VAE", "VAEConfig", "VAEData", "VAEResult", "LoadedVAE", "KLWarmup", "prepare", "normalise", "denormalise",
    "build_vae", "train_vae", "save", "load", "encode", "sample", "reconstruct", "interpolate", "to_audio",
    "generate_files", "evaluate", "style_agreement", "feature_distance", "frechet_distance", "mfcc_summaries",
    "run_vae_experiment",
]
