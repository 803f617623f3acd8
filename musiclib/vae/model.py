"""The Keras model: the :class:`VAE` class, :func:`build_vae`, :class:`KLWarmup` and :func:`train_vae`.

A Keras 3 subclassed :class:`VAE` with its own ``train_step`` and ``test_step``: five
Conv2D encoder layers (3 x 3, stride 2, ReLU, batch normalisation), a mirrored decoder of
five Conv2DTranspose layers ending in a sigmoid, reparameterisation, and the loss
reconstruction + beta x KL with an optional linear KL warm-up (:class:`KLWarmup`);
optionally conditioned on the style label: a one-hot vector joins the encoder's
flattened features and the latent code, modulates every decoder block (:class:`FiLM`),
and picks the mean of a class-conditional prior ``N(m_c, I)``. Spectrograms are ``(n, frames, bins)``
normalised to [0, 1]; the model sees ``(n, frames, bins, 1)``.

The class is registered with Keras as ``"musiclib>VAE"``
(``keras.saving.register_keras_serializable(package="musiclib")``): that name, not this
module's path, is what ``model.keras`` records and what
:func:`musiclib.vae.load` (safe mode) resolves, so moving the class keeps saved models
loadable as long as the name stays.

Taught in ``notebooks/08_vae_generation.ipynb``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..tf_log import quiet as _quiet

_quiet()  # before Keras loads TensorFlow: its C++ log lines stay off the screen

import keras  # noqa: E402
from keras import ops  # noqa: E402

from ..errors import MusiclibError
from .config import N_STRIDES, VAEConfig
from .data import VAEData

BATCHNORM_MOMENTUM = 0.9  # as musiclib.models: few steps per epoch in the small profiles


def _conv_block(layer, x, name):
    """``layer``, then ReLU, then batch normalisation."""
    x = layer(x)
    x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return keras.layers.BatchNormalization(momentum=BATCHNORM_MOMENTUM, name=f"{name}_bn")(x)


def _build_encoder(frames, bins, latent_dim, filters, n_labels):
    """``(n, frames, bins, 1)`` [+ one-hot] -> ``mu``, ``log_var`` ``(n, latent_dim)``."""
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


@keras.saving.register_keras_serializable(package="musiclib")
class FiLM(keras.layers.Layer):
    """Feature-wise linear modulation by a condition: ``x * (1 + gamma(c)) + beta(c)``.

    ``gamma`` and ``beta`` are one Dense layer of the condition ``c`` (e.g. a one-hot
    style label), one value per channel of ``x``, the same at every time and frequency
    (Perez et al., 2018). Initialised at zero, so training starts from the plain decoder
    and learns how much each style rescales and shifts each feature map.

    Inputs: ``[x (n, frames, bins, channels), c (n, d)]``; output: the shape of ``x``.
    """

    def build(self, input_shape):
        channels = int(input_shape[0][-1])
        self.dense = keras.layers.Dense(2 * channels, kernel_initializer="zeros", name="film_dense")
        self.dense.build(input_shape[1])

    def call(self, inputs):
        x, c = inputs
        gamma, beta = ops.split(self.dense(c), 2, axis=-1)
        gamma = ops.expand_dims(ops.expand_dims(gamma, 1), 1)
        beta = ops.expand_dims(ops.expand_dims(beta, 1), 1)
        return x * (1.0 + gamma) + beta

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def _build_decoder(frames, bins, latent_dim, filters, n_labels, film=False):
    """``z (n, latent_dim)`` [+ one-hot] -> ``(n, frames, bins, 1)`` in [0, 1] (sigmoid).

    With ``film``, the one-hot label also modulates every decoder block (:class:`FiLM`
    after each transposed convolution), so the style reaches every resolution and the
    decoder cannot learn to ignore it at the one place it enters.
    """
    z = keras.Input(shape=(latent_dim,), name="z")
    inputs = [z]
    x = z
    onehot = None
    if n_labels:
        onehot = keras.Input(shape=(n_labels,), name="label")
        inputs.append(onehot)
        x = keras.layers.Concatenate(name="dec_condition")([x, onehot])
    step = 2**N_STRIDES
    bottleneck = (frames // step, bins // step, filters[-1])
    x = keras.layers.Dense(int(np.prod(bottleneck)), name="dec_dense")(x)
    x = keras.layers.Reshape(bottleneck, name="dec_reshape")(x)
    if film and onehot is not None:
        x = FiLM(name="dec_film0")([x, onehot])
    for i, f in enumerate(reversed(filters[:-1])):
        x = _conv_block(keras.layers.Conv2DTranspose(f, 3, strides=2, padding="same", name=f"dec_deconv{i + 1}"),
                        x, f"dec{i + 1}")
        if film and onehot is not None:
            x = FiLM(name=f"dec_film{i + 1}")([x, onehot])
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

    Parameters
    ----------
    frames, bins : int
        Input shape (time frames, frequency bins), both multiples of 32.
    latent_dim : int
        Size of the latent code.
    filters : sequence of 5 int
        Filters of the encoder's Conv2D layers; the decoder mirrors them.
    beta : float
        Weight of the KL term.
    n_labels : int
        Number of style labels to condition on; 0: unconditional.
    seed : int
        Seed of the reparameterisation noise (``keras.random.SeedGenerator``).
    film : bool
        A conditional decoder modulates every block with the label (:class:`FiLM`).
    class_prior : bool
        A conditional model's prior is ``N(m_c, I)``, one learnt mean ``m_c`` per label
        (``prior_means``); the KL term is measured from it.
    free_bits : float
        Nats per latent dimension (batch mean) the loss does not charge; the ``kl`` metric
        is the full divergence either way.
    **kwargs
        Passed to ``keras.Model`` (``name``, ...).

    Attributes
    ----------
    encoder : keras.Model
        ``(n, frames, bins, 1)`` [+ one-hot ``(n, n_labels)``] -> ``mu``, ``log_var``,
        each ``(n, latent_dim)``.
    decoder : keras.Model
        ``z (n, latent_dim)`` [+ one-hot] -> ``(n, frames, bins, 1)`` in [0, 1].
    kl_scale : keras.Variable
        Scalar multiplier of the KL weight, set by :class:`KLWarmup`.
    prior_means : keras.Variable or None
        ``(n_labels, latent_dim)``, the class prior's means (None without a class prior).
    """

    def __init__(self, frames=128, bins=256, latent_dim=32, filters=(8, 16, 32, 32, 64), beta=1.0, n_labels=0,
                 seed=0, film=False, class_prior=False, free_bits=0.0, **kwargs):
        super().__init__(**kwargs)
        self.frames, self.bins, self.latent_dim = int(frames), int(bins), int(latent_dim)
        self.filters = tuple(int(f) for f in filters)
        self.beta, self.n_labels, self.seed = float(beta), int(n_labels), int(seed)
        self.film = bool(film) and self.n_labels > 0
        self.class_prior = bool(class_prior) and self.n_labels > 0
        self.free_bits = float(free_bits)
        self.encoder = _build_encoder(self.frames, self.bins, self.latent_dim, self.filters, self.n_labels)
        self.decoder = _build_decoder(self.frames, self.bins, self.latent_dim, self.filters, self.n_labels,
                                      film=self.film)
        # the class-conditional prior p(z | c) = N(m_c, I): one learnt mean per style, zero at first
        self.prior_means = (self.add_weight(shape=(self.n_labels, self.latent_dim), initializer="zeros",
                                            name="prior_means") if self.class_prior else None)
        self.kl_scale = keras.Variable(1.0, trainable=False, name="kl_scale", dtype="float32")
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.mse_tracker = keras.metrics.Mean(name="mse")

    def get_config(self):
        """Keras serialisation: the constructor's arguments (saved in ``model.keras``)."""
        config = super().get_config()
        config.update(frames=self.frames, bins=self.bins, latent_dim=self.latent_dim, filters=list(self.filters),
                      beta=self.beta, n_labels=self.n_labels, seed=self.seed, film=self.film,
                      class_prior=self.class_prior, free_bits=self.free_bits)
        return config

    @property
    def metrics(self):
        """The four trackers (``loss``, ``reconstruction``, ``kl``, ``mse``), reset each epoch."""
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker, self.mse_tracker]

    # -- pieces ----------------------------------------------------------------------------

    def _unpack(self, data):
        """A batch (dict, or ``(dict, ...)`` tuple) -> spectrogram ``(n, frames, bins, 1)``, one-hot or None."""
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
        """Posterior parameters of a batch.

        Parameters
        ----------
        spec : tensor, shape (n, frames, bins, 1)
            Normalised spectrograms in [0, 1].
        onehot : tensor, shape (n, n_labels), optional
            One-hot labels; used only by a conditional model.
        training : bool
            Batch normalisation in training mode.

        Returns
        -------
        mu, log_var : tensors, shape (n, latent_dim)
        """
        return self.encoder([spec, onehot] if self.n_labels else spec, training=training)

    def decode(self, z, onehot=None, training=False):
        """Spectrograms ``(n, frames, bins, 1)`` in [0, 1] of latent codes ``z (n, latent_dim)``
        (and one-hot labels ``(n, n_labels)`` for a conditional model)."""
        return self.decoder([z, onehot] if self.n_labels else z, training=training)

    def _reparameterise(self, mu, log_var):
        eps = keras.random.normal(ops.shape(mu), seed=self.seed_generator)
        return mu + ops.exp(0.5 * log_var) * eps

    def call(self, inputs, training=False):
        """Reconstruct a batch ``{"spectrogram": (n, frames, bins[, 1]), "label": (n,)}``.

        Returns ``(n, frames, bins, 1)`` in [0, 1], decoded from the posterior mean, or from
        a sampled code when ``training``.
        """
        spec, onehot = self._unpack(inputs)
        mu, log_var = self.encode(spec, onehot, training=training)
        z = self._reparameterise(mu, log_var) if training else mu
        return self.decode(z, onehot, training=training)

    def prior_mean(self, onehot):
        """The prior's mean for each example: ``m_c`` of its style (class prior), else zeros.

        Parameters
        ----------
        onehot : tensor, shape (n, n_labels), or None

        Returns
        -------
        tensor, shape (n, latent_dim), or the scalar 0.0 (the standard normal prior)
        """
        if self.prior_means is None or onehot is None:
            return 0.0
        return ops.matmul(ops.cast(onehot, "float32"), self.prior_means)

    def _vae_losses(self, spec, onehot, training):
        """Per-batch means of loss, reconstruction (sum of squares per example), KL, and per-cell MSE."""
        mu, log_var = self.encode(spec, onehot, training=training)
        z = self._reparameterise(mu, log_var)
        out = self.decode(z, onehot, training=training)
        squared = ops.square(spec - out)
        reconstruction = ops.mean(ops.sum(squared, axis=(1, 2, 3)))
        centred = mu - self.prior_mean(onehot)  # mu itself under N(0, I); mu - m_c under the class prior
        kl_dims = ops.mean(-0.5 * (1.0 + log_var - ops.square(centred) - ops.exp(log_var)), axis=0)
        kl = ops.sum(kl_dims)
        # free bits: a latent dimension is not charged for its first free_bits nats (Kingma et al., 2016)
        charged = ops.sum(ops.maximum(kl_dims, self.free_bits)) if self.free_bits > 0 else kl
        loss = reconstruction + self.beta * self.kl_scale * charged
        return loss, reconstruction, kl, ops.mean(squared)

    def _track(self, loss, reconstruction, kl, mse):
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        self.mse_tracker.update_state(mse)
        return {m.name: m.result() for m in self.metrics}

    # -- Keras' training loop --------------------------------------------------------------

    def train_step(self, data):
        """One optimiser step on a batch (``fit`` calls it); returns the tracked metrics."""
        import tensorflow as tf  # the course's backend

        spec, onehot = self._unpack(data)
        with tf.GradientTape() as tape:
            loss, reconstruction, kl, mse = self._vae_losses(spec, onehot, True)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        return self._track(loss, reconstruction, kl, mse)

    def test_step(self, data):
        """The losses of a batch without updating weights (``evaluate`` and validation)."""
        spec, onehot = self._unpack(data)
        return self._track(*self._vae_losses(spec, onehot, False))


class KLWarmup(keras.callbacks.Callback):
    """Raise the model's ``kl_scale`` linearly to 1 over ``epochs`` epochs (then keep it 1).

    At the start of epoch ``e`` (from 0) the scale is ``min(1, (e + 1) / (epochs + 1))``;
    it is set back to 1 when training ends, so evaluation uses the full KL weight.

    Parameters
    ----------
    epochs : int
        Length of the warm-up in epochs; 0 or less: no warm-up (the scale stays 1).
    """

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = int(epochs)

    def on_epoch_begin(self, epoch, logs=None):
        """Set the model's ``kl_scale`` for ``epoch`` (counted from 0)."""
        scale = 1.0 if self.epochs <= 0 else min(1.0, (epoch + 1) / (self.epochs + 1))
        self.model.kl_scale.assign(scale)

    def on_train_end(self, logs=None):
        """Leave the model at the full KL weight (``kl_scale`` 1)."""
        self.model.kl_scale.assign(1.0)


def build_vae(config: VAEConfig | None = None, n_labels: int = 0, *, seed: int = 0) -> VAE:
    """The (built, compiled) :class:`VAE` of ``config``.

    Parameters
    ----------
    config : VAEConfig, optional
        Shape, architecture, beta and learning rate; default ``VAEConfig()`` (``fast``).
    n_labels : int
        Number of style labels; > 0 makes the model class-conditional (used only when
        ``config.conditional``, else the model gets ``n_labels = 0``).
    seed : int
        Seed of the reparameterisation noise. The initial weights come from Keras' global
        seed: call :func:`musiclib.train.set_seed` first for reproducible weights.

    Returns
    -------
    VAE
        Built on a ``(1, frames, bins)`` batch of zeros and compiled with Adam at
        ``config.learning_rate``; named ``"vae"``.
    """
    cfg = config or VAEConfig()
    n = int(n_labels) if cfg.conditional else 0
    model = VAE(frames=cfg.frames, bins=cfg.bins, latent_dim=cfg.latent_dim, filters=cfg.filters, beta=cfg.beta,
                n_labels=n, seed=seed, film=cfg.film, class_prior=cfg.class_prior, free_bits=cfg.free_bits,
                name="vae")
    model(model_inputs(np.zeros((1, cfg.frames, cfg.bins), np.float32), np.zeros(1, np.int32)))  # build
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=cfg.learning_rate))
    return model


def model_inputs(x, y=None) -> dict:
    """The input dict the :class:`VAE` takes (``fit``, ``evaluate``, calling it).

    Parameters
    ----------
    x : array_like, shape (n, frames, bins)
        Normalised spectrograms in [0, 1].
    y : array_like of int, shape (n,), optional
        Label indices; default zeros (ignored by an unconditional model).

    Returns
    -------
    dict
        ``{"spectrogram": float32 (n, frames, bins), "label": int32 (n,)}``.
    """
    x = np.asarray(x, dtype=np.float32)
    y = np.zeros(len(x), np.int32) if y is None else np.asarray(y, dtype=np.int32).reshape(-1)
    return {"spectrogram": x, "label": y}


@dataclass
class VAEResult:
    """What :func:`train_vae` returns; usable wherever a loaded VAE is (sample, to_audio...).

    Attributes
    ----------
    model : VAE
        The trained model.
    history : dict of str to list of float
        Per epoch: ``loss``, ``reconstruction``, ``kl``, ``mse`` and, with a validation
        side, ``val_`` of each.
    seconds : float
        Wall-clock seconds of ``fit``.
    config : VAEConfig
    stats : dict
        ``{"min": dB, "max": dB}``: the training normalisation, needed to turn outputs
        back into dB.
    labels : list of str
        Style labels in one-hot order.
    seed : int
    epochs : int
        Epochs run.
    """

    model: VAE
    history: dict
    seconds: float
    config: VAEConfig
    stats: dict
    labels: list
    seed: int = 0
    epochs: int = 0


def train_vae(data: VAEData, config: VAEConfig | None = None, *, seed: int = 0, verbose: int = 0) -> VAEResult:
    """Build and train a VAE on ``data.x["train"]`` (validation loss on ``valid``, if any).

    A fixed number of epochs (``config.epochs``, no early stopping), batches of
    ``config.batch_size``, shuffled, with a :class:`KLWarmup` of ``config.kl_warmup_epochs``.

    Parameters
    ----------
    data : VAEData
        From :func:`~musiclib.vae.prepare`; ``x[side]`` is ``(n, frames, bins)`` in [0, 1].
    config : VAEConfig, optional
        Default ``data.config``; its ``(frames, bins)`` must be the data's.
    seed : int
        Seeds Python, NumPy and Keras (:func:`musiclib.train.set_seed`) and the model's
        noise; the same seed gives the same initial weights.
    verbose : int
        Keras' ``fit`` verbosity.

    Returns
    -------
    VAEResult
        ``history``: ``loss``, ``reconstruction``, ``kl``, ``mse`` per epoch, and
        ``val_`` of each when there is a validation side; ``seconds`` of ``fit``.

    Raises
    ------
    MusiclibError
        The config's shape differs from the data's.
    """
    from ..train import set_seed

    cfg = config or data.config
    if (cfg.frames, cfg.bins) != tuple(data.x["train"].shape[1:]):
        raise MusiclibError(f"config shape {(cfg.frames, cfg.bins)} differs from the data's "
                            f"{tuple(data.x['train'].shape[1:])}")
    set_seed(seed)
    model = build_vae(cfg, len(data.labels), seed=seed)
    valid = (model_inputs(data.x["valid"], data.y["valid"]),) if len(data.x["valid"]) else None
    start = time.perf_counter()
    history = model.fit(model_inputs(data.x["train"], data.y["train"]), epochs=cfg.epochs, batch_size=cfg.batch_size,
                        shuffle=True, validation_data=valid, callbacks=[KLWarmup(cfg.kl_warmup_epochs)],
                        verbose=verbose)
    seconds = time.perf_counter() - start
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    return VAEResult(model=model, history=hist, seconds=seconds, config=cfg, stats=dict(data.stats),
                     labels=list(data.labels), seed=int(seed), epochs=len(hist.get("loss", [])))


def _model(vae) -> VAE:
    """The Keras model of a :class:`VAEResult`, a loaded VAE, or the model itself."""
    return getattr(vae, "model", vae)
