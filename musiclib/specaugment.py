"""SpecAugment-style time and frequency masking as a Keras layer.

Kept apart from :mod:`musiclib.augment` because it imports Keras (and TensorFlow), which
``import musiclib.augment`` must not. Import this module (or touch
``ml.augment.SpecAugment``) before ``keras.saving.load_model`` of a model that holds the
layer: importing it registers the class as ``"musiclib>SpecAugment"``.

Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
"""

from __future__ import annotations

from .tf_log import quiet as _quiet

_quiet()  # before Keras loads TensorFlow: its C++ log lines stay off the screen

import keras  # noqa: E402
from keras import ops

__all__ = ["SpecAugment"]


@keras.saving.register_keras_serializable(package="musiclib")
class SpecAugment(keras.layers.Layer):
    """Time and frequency masking of spectrogram-like inputs, in training only.

    For every example of a batch, ``time_masks`` bands of consecutive frames and
    ``freq_masks`` bands of consecutive bins (mel bands, MFCC coefficients, ...) are set
    to a fill value (Park et al., 2019, "SpecAugment", without time warping). Each band's
    width is drawn uniformly from ``0 .. *_mask_width`` and its start uniformly among the
    positions where it fits; bands may overlap. New masks are drawn for every batch.

    With ``training=False`` (``predict``, ``evaluate``, or a plain call) the layer is the
    identity, so a saved model predicts on clean features.

    Parameters
    ----------
    time_masks : int
        Number of time bands per example (0: none).
    time_mask_width : int
        Widest time band, in frames (clipped to the number of frames).
    freq_masks : int
        Number of frequency bands per example (0: none).
    freq_mask_width : int
        Widest frequency band, in bins (clipped to the number of bins).
    mask_value : float or None
        What masked cells become. ``None`` (default): the example's own mean over all its
        frames and bins, which hides the band without adding an unusually loud or quiet
        stripe to unnormalised features (dB mel, MFCC). After per-feature standardisation
        (zero mean) ``0.0`` is the natural choice and gives the same thing.
    seed : int or None
        Seed of a :class:`keras.random.SeedGenerator`: two layers with the same seed draw
        the same masks for the same sequence of batches.

    Input shape
    -----------
    ``(batch, frames, bins)`` or ``(batch, frames, bins, 1)`` -- the layout of
    :meth:`musiclib.features.FeatureSet.segments` (time first).

    Output shape
    ------------
    Same as the input.

    Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """

    def __init__(
        self,
        time_masks: int = 2,
        time_mask_width: int = 20,
        freq_masks: int = 2,
        freq_mask_width: int = 12,
        mask_value: float | None = None,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (("time_masks", time_masks), ("time_mask_width", time_mask_width),
                            ("freq_masks", freq_masks), ("freq_mask_width", freq_mask_width)):
            if isinstance(value, bool) or int(value) != value or int(value) < 0:
                raise ValueError(f"SpecAugment: {name} must be a non-negative integer, got {value!r}")
        self.time_masks = int(time_masks)
        self.time_mask_width = int(time_mask_width)
        self.freq_masks = int(freq_masks)
        self.freq_mask_width = int(freq_mask_width)
        self.mask_value = None if mask_value is None else float(mask_value)
        self.seed = None if seed is None else int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) not in (3, 4) or (len(input_shape) == 4 and input_shape[-1] != 1):
            raise ValueError(
                "SpecAugment expects (batch, frames, bins) or (batch, frames, bins, 1), "
                f"got {tuple(input_shape)}"
            )
        self.built = True

    def _bands(self, batch, length, n_masks: int, max_width: int):
        """Boolean (batch, length): True inside any of ``n_masks`` random bands per row."""
        length_f = ops.cast(length, "float32")
        max_w = ops.minimum(ops.cast(max_width, "float32"), length_f)
        u_w = keras.random.uniform((batch, n_masks), seed=self.seed_generator)
        u_s = keras.random.uniform((batch, n_masks), seed=self.seed_generator)
        width = ops.minimum(ops.floor(u_w * (max_w + 1.0)), max_w)  # 0 .. max_w
        start = ops.floor(u_s * (length_f - width + 1.0))  # 0 .. length - width
        pos = ops.cast(ops.arange(length), "float32")[None, None, :]
        inside = ops.logical_and(pos >= start[:, :, None], pos < (start + width)[:, :, None])
        return ops.any(inside, axis=1)

    def call(self, inputs, training=None):
        if not training or (self.time_masks == 0 and self.freq_masks == 0):
            return inputs
        x = inputs[..., 0] if len(inputs.shape) == 4 else inputs
        shape = ops.shape(x)
        batch, frames, bins = shape[0], shape[1], shape[2]
        mask = ops.zeros((batch, frames, bins), dtype="bool")
        if self.time_masks:
            t = self._bands(batch, frames, self.time_masks, self.time_mask_width)
            mask = ops.logical_or(mask, t[:, :, None])
        if self.freq_masks:
            f = self._bands(batch, bins, self.freq_masks, self.freq_mask_width)
            mask = ops.logical_or(mask, f[:, None, :])
        if self.mask_value is None:
            fill = ops.mean(x, axis=(1, 2), keepdims=True)
        else:
            fill = ops.cast(self.mask_value, x.dtype)
        out = ops.where(mask, ops.cast(fill, x.dtype), x)
        return out[..., None] if len(inputs.shape) == 4 else out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            time_masks=self.time_masks,
            time_mask_width=self.time_mask_width,
            freq_masks=self.freq_masks,
            freq_mask_width=self.freq_mask_width,
            mask_value=self.mask_value,
            seed=self.seed,
        )
        return config
