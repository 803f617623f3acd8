"""Keras 3 model builders, one per experiment of the source projects.

Each builder reads top to bottom like the keras.io examples, returns a compiled
``keras.Model``, and puts input normalisation *inside* the model (a ``Normalization`` layer
adapted on the training side only), so a saved ``.keras`` file carries it and prediction
needs no separate scaler.

Taught in ``notebooks/02_spectral_features.ipynb`` (the dense net on clip features),
``04_segments_leakage_balance.ipynb`` and ``05_mfcc_networks.ipynb`` (the segment networks).
"""

from __future__ import annotations

import numpy as np


# BatchNormalization's moving statistics (what inference uses) follow the batches with
# this momentum. Keras' default, 0.99, needs hundreds of steps to catch up with the
# weights; the fast profile trains ~7 steps per epoch, and a CNN then scores near chance
# at inference while its batch statistics would give ~70% (measured, notebook 05's CNN).
# 0.9 catches up in tens of steps and changes little on GTZAN-sized data.
BATCHNORM_MOMENTUM = 0.9


def _keras():
    # imported on first use: TensorFlow takes seconds to load; quietly (musiclib.tf_log)
    from .tf_log import import_keras

    return import_keras()


def normalization_layer(x_train: np.ndarray, *, axis: int | None = -1):
    """A ``keras.layers.Normalization`` adapted on the training data only.

    Parameters
    ----------
    x_train : np.ndarray, shape (n_examples, ...)
        Training inputs; never the validation or test side (that would leak their
        statistics into the model).
    axis : int or None
        The axis that keeps its own mean and variance (-1: each feature).
    """
    keras = _keras()
    layer = keras.layers.Normalization(axis=axis, name="normalize")
    layer.adapt(np.asarray(x_train, dtype=np.float32))
    return layer


def dense_clip_classifier(
    x_train: np.ndarray,
    n_classes: int,
    *,
    units: tuple[int, ...] = (128, 64, 32),
    learning_rate: float = 1e-3,
    dropout: float = 0.0,
):
    """The dense net of source 001: clip-feature vector -> 128 -> 64 -> 32 -> classes.

    Parameters
    ----------
    x_train : np.ndarray, shape (n_clips, n_features)
        Training features; sets the input size and adapts the normalisation layer.
    n_classes : int
    units : tuple of int
        Hidden layer widths (ReLU).
    learning_rate : float
        Adam's learning rate.
    dropout : float
        Dropout after each hidden layer (0: none, as in the source).

    Returns
    -------
    keras.Model
        Compiled with sparse categorical cross-entropy; outputs class probabilities,
        shape (n, n_classes).

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    keras = _keras()
    x_train = np.asarray(x_train, dtype=np.float32)
    inputs = keras.Input(shape=(x_train.shape[1],), name="clip_features")
    x = normalization_layer(x_train)(inputs)
    for k, width in enumerate(units, start=1):
        x = keras.layers.Dense(width, activation="relu", name=f"dense_{k}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{k}")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name="dense_clip_features")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


# ---------------------------------------------------------------------------------------------
# Segment models: one 3 s segment of MFCC frames, shape (frames, coefficients), per example.
# Sources 002 (GTZAN cut into 10 segments per clip) and 000 (11 composers, experiments 1-2).
# ---------------------------------------------------------------------------------------------


def _compile(model, learning_rate: float):
    """Adam at ``learning_rate``, sparse categorical cross-entropy, accuracy: every builder."""
    keras = _keras()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _segment_inputs(x_train: np.ndarray):
    """The input of a segment model and its normalised output.

    Returns ``(x_train as float32, inputs, normalised)``: the ``keras.Input`` takes
    ``(frames, coefficients)`` read from ``x_train.shape`` and the ``"normalize"`` layer keeps
    one mean and variance per coefficient (``axis=-1``), adapted on ``x_train`` only.
    """
    from .errors import MusiclibError

    keras = _keras()
    x_train = np.asarray(x_train, dtype=np.float32)
    if x_train.ndim != 3 or min(x_train.shape) < 1:
        raise MusiclibError(
            f"segment models take x_train of shape (n_segments, frames, coefficients); "
            f"got {x_train.shape}"
        )
    inputs = keras.Input(shape=x_train.shape[1:], name="mfcc_segments")
    normalised = normalization_layer(x_train, axis=-1)(inputs)
    return x_train, inputs, normalised


def ann_segments(
    x_train: np.ndarray,
    n_classes: int,
    *,
    units: tuple[int, ...] = (512, 256, 64),
    dropout: float = 0.0,
    l2: float = 0.0,
    learning_rate: float = 1e-4,
):
    """The dense net of source 002 on one MFCC segment: flatten -> 512 -> 256 -> 64 -> classes.

    With the defaults it is the source's plain "ANN" (61.98%); with ``dropout=0.3`` and
    ``l2=1e-4`` (an L2 kernel regulariser on every hidden layer and a dropout layer after
    each) it is its "ANN with dropouts and L2 regularisation" (68.00%). Both numbers were
    reported on GTZAN with a segment-level random split, which leaks segments of one
    recording into both sides; not comparable with the course's split by recording.

    Parameters
    ----------
    x_train : np.ndarray, shape (n_segments, frames, n_mfcc)
        Training segments (the source: 130 frames x 13 MFCC, 3 s at hop 512); sets the input
        shape and adapts the normalisation layer (one mean and variance per coefficient).
    n_classes : int
    units : tuple of int
        Hidden layer widths (ReLU).
    dropout : float
        Dropout after each hidden layer (0: none).
    l2 : float
        L2 factor of each hidden layer's kernel regulariser (0: none).
    learning_rate : float
        Adam's learning rate (the source: 1e-4, 100 epochs).

    Returns
    -------
    keras.Model
        Compiled; input ``(n, frames, n_mfcc)``, output class probabilities ``(n, n_classes)``.

    Taught in ``notebooks/05_mfcc_networks.ipynb``.
    """
    keras = _keras()
    x_train, inputs, x = _segment_inputs(x_train)
    x = keras.layers.Flatten(name="flatten")(x)
    for k, width in enumerate(units, start=1):
        x = keras.layers.Dense(
            width,
            activation="relu",
            kernel_regularizer=keras.regularizers.L2(l2) if l2 else None,
            name=f"dense_{k}",
        )(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{k}")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    name = "ann_segments_regularised" if (dropout or l2) else "ann_segments"
    return _compile(keras.Model(inputs, outputs, name=name), learning_rate)


def cnn_mfcc(
    x_train: np.ndarray,
    n_classes: int,
    *,
    filters: int = 32,
    blocks: int = 3,
    dense: int = 64,
    dropout: float = 0.3,
    learning_rate: float = 1e-4,
):
    """The shallow CNN of source 002: the MFCC segment seen as a one-channel image.

    Each block is Conv2D (``filters`` kernels, 3 x 3; 2 x 2 in the last block, ReLU) ->
    MaxPooling2D (3 x 3, strides 2; 2 x 2 in the last block, as the source lists) ->
    BatchNormalization; then flatten -> dense ``dense`` (ReLU) -> dropout -> classes. The source
    reported 73.97% on GTZAN with a segment-level random split, which leaks segments of one
    recording into both sides; not comparable with the course's split by recording.

    Two choices the source leaves open: its list shows no dropout, but the tutorial it
    credits (Valerio Velardo, The Sound of AI) has dropout 0.3 after the dense layer, kept
    here; and it gives no padding for the convolutions, so they use ``padding="same"``,
    which keeps every block usable on segments with fewer frames or coefficients. Batch
    normalisation uses momentum :data:`BATCHNORM_MOMENTUM` (0.9, not Keras' 0.99), so its
    inference statistics keep up on small datasets.

    Parameters
    ----------
    x_train : np.ndarray, shape (n_segments, frames, n_mfcc)
        Training segments; set the input shape and adapt the normalisation layer (one mean
        and variance per coefficient, applied before the reshape to ``(frames, n_mfcc, 1)``).
    n_classes : int
    filters : int
        Kernels per convolution.
    blocks : int
        Convolution blocks (>= 1); the last one uses 2 x 2 kernels and pooling.
    dense : int
        Width of the dense layer before the output.
    dropout : float
        Dropout after the dense layer (0: none).
    learning_rate : float
        Adam's learning rate (the source: 1e-4, 100 epochs).

    Returns
    -------
    keras.Model
        Compiled; input ``(n, frames, n_mfcc)``, output class probabilities ``(n, n_classes)``.

    Taught in ``notebooks/05_mfcc_networks.ipynb``.
    """
    keras = _keras()
    x_train, inputs, x = _segment_inputs(x_train)
    frames, coeffs = x_train.shape[1:]
    x = keras.layers.Reshape((frames, coeffs, 1), name="as_image")(x)
    for k in range(1, blocks + 1):
        size = 2 if k == blocks else 3
        x = keras.layers.Conv2D(
            filters, (size, size), activation="relu", padding="same", name=f"conv_{k}"
        )(x)
        x = keras.layers.MaxPooling2D(
            (size, size), strides=(2, 2), padding="same", name=f"pool_{k}"
        )(x)
        x = keras.layers.BatchNormalization(momentum=BATCHNORM_MOMENTUM, name=f"batchnorm_{k}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(dense, activation="relu", name="dense")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return _compile(keras.Model(inputs, outputs, name="cnn_mfcc"), learning_rate)


CNN2_VARIANTS = ("exp1", "exp2")


def cnn2_mfcc(
    x_train: np.ndarray,
    n_classes: int,
    *,
    variant: str = "exp1",
    learning_rate: float = 1e-4,
):
    """The two-convolution CNN of source 000 (11 composers), experiments 1 and 2.

    ``"exp1"``: Conv2D 32 (3 x 3, ReLU) -> MaxPooling 2 x 2 -> Conv2D 64 (3 x 3, ReLU) ->
    MaxPooling 2 x 2 -> flatten -> dense 64 (ReLU) -> classes. The source reported 54.9%
    test accuracy with it on its unbalanced composer data.

    ``"exp2"``: the "changed model" the source used with balanced data (56.0%). The source
    says only that it modified the architecture, not how; the course's reading keeps the
    same two convolutions and adds what a learner would try first against over-fitting:
    BatchNormalization after each convolution, global average pooling instead of
    flatten (on 130 x 13 segments: 24 thousand trainable parameters instead of 560
    thousand), and dropout 0.3 before and after the dense layer.

    Both numbers come from the source's own 11-composer recordings cut into pieces, with a
    split the source does not describe (pieces of one recording most likely on both
    sides); not comparable with the course's split by recording. In the source, the gain
    from exp1 to exp2 mixes two changes (balancing and the model); the course separates them.

    Parameters
    ----------
    x_train : np.ndarray, shape (n_segments, frames, n_mfcc)
        Training segments; set the input shape and adapt the normalisation layer (one mean
        and variance per coefficient).
    n_classes : int
    variant : {"exp1", "exp2"}
    learning_rate : float
        Adam's learning rate (the source does not give it: Keras' default of 1e-3 is likely;
        1e-4 here, as in the other segment models).

    Returns
    -------
    keras.Model
        Compiled; input ``(n, frames, n_mfcc)``, output class probabilities ``(n, n_classes)``.

    Raises
    ------
    MusiclibError
        ``variant`` is not one of ``CNN2_VARIANTS``.

    Taught in ``notebooks/04_segments_leakage_balance.ipynb``.
    """
    from .errors import MusiclibError

    if variant not in CNN2_VARIANTS:
        raise MusiclibError(
            f"unknown cnn2_mfcc variant {variant!r}: choose one of {', '.join(CNN2_VARIANTS)}"
        )
    keras = _keras()
    changed = variant == "exp2"
    x_train, inputs, x = _segment_inputs(x_train)
    frames, coeffs = x_train.shape[1:]
    x = keras.layers.Reshape((frames, coeffs, 1), name="as_image")(x)
    for k, filters in enumerate((32, 64), start=1):
        if changed:  # convolution -> batch norm -> ReLU
            x = keras.layers.Conv2D(filters, (3, 3), padding="same", name=f"conv_{k}")(x)
            x = keras.layers.BatchNormalization(momentum=BATCHNORM_MOMENTUM, name=f"batchnorm_{k}")(x)
            x = keras.layers.Activation("relu", name=f"relu_{k}")(x)
        else:
            x = keras.layers.Conv2D(
                filters, (3, 3), activation="relu", padding="same", name=f"conv_{k}"
            )(x)
        x = keras.layers.MaxPooling2D((2, 2), padding="same", name=f"pool_{k}")(x)
    if changed:
        x = keras.layers.GlobalAveragePooling2D(name="global_average")(x)
        x = keras.layers.Dropout(0.3, name="dropout_1")(x)
    else:
        x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(64, activation="relu", name="dense")(x)
    if changed:
        x = keras.layers.Dropout(0.3, name="dropout_2")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return _compile(keras.Model(inputs, outputs, name=f"cnn2_mfcc_{variant}"), learning_rate)


def lstm_mfcc(
    x_train: np.ndarray,
    n_classes: int,
    *,
    units: tuple[int, ...] = (64, 64),
    dense: int = 64,
    dropout: float = 0.3,
    learning_rate: float = 1e-4,
):
    """The stacked LSTM of source 002: the MFCC segment read frame by frame.

    LSTM 64 (returns the whole sequence) -> LSTM 64 (returns its last state) -> dense
    ``dense`` (ReLU) -> dropout -> classes. The source reported 66.60% on GTZAN with a
    segment-level random split, which leaks segments of one recording into both sides;
    not comparable with the course's split by recording.

    Parameters
    ----------
    x_train : np.ndarray, shape (n_segments, frames, n_mfcc)
        Training segments; set the input shape and adapt the normalisation layer (one mean
        and variance per coefficient).
    n_classes : int
    units : tuple of int
        Units of each stacked LSTM layer; all but the last return their whole sequence.
    dense : int
        Width of the dense layer before the output.
    dropout : float
        Dropout after the dense layer (0: none).
    learning_rate : float
        Adam's learning rate (the source: 1e-4, 100 epochs).

    Returns
    -------
    keras.Model
        Compiled; input ``(n, frames, n_mfcc)``, output class probabilities ``(n, n_classes)``.

    Taught in ``notebooks/05_mfcc_networks.ipynb``.
    """
    keras = _keras()
    x_train, inputs, x = _segment_inputs(x_train)
    for k, width in enumerate(units, start=1):
        x = keras.layers.LSTM(width, return_sequences=k < len(units), name=f"lstm_{k}")(x)
    x = keras.layers.Dense(dense, activation="relu", name="dense")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return _compile(keras.Model(inputs, outputs, name="lstm_mfcc"), learning_rate)


def mel_cnn(
    x_train: np.ndarray,
    n_classes: int,
    *,
    filters: tuple[int, ...] = (8, 16, 32),
    dense: int = 64,
    dropout: float = 0.3,
    input_pool: int = 2,
    spec_augment: dict | None = None,
    learning_rate: float = 1e-3,
):
    """A CNN on log-mel segments: composer experiments 3-5 and the paper's classifier.

    The composer project (source 000) moved from MFCC to mel spectrograms in experiment 3
    (62.5% on its 11 composers) and added augmentation in experiments 4 and 5 (67.6%,
    73.2%); the paper (source 003) reports 81.4% with a CNN on mel spectrograms. Neither
    gives its architecture, so this is the course's reading, in the keras.io style: per
    mel-band normalisation, optionally SpecAugment masking (training only), then blocks of
    Conv2D (3 x 3, ReLU, same padding) -> BatchNormalization -> MaxPooling 2 x 2, global
    average pooling (a few hundred weights instead of a large flatten: the data are small),
    dropout, a dense layer and the classes. Reported numbers are on other data and splits.

    Parameters
    ----------
    x_train : np.ndarray, shape (n_segments, frames, n_mels)
        Training log-mel segments (dB); adapt the normalisation (one mean and variance per
        mel band). A sample of the training side is enough for data that does not fit in
        memory.
    filters : tuple of int
        Kernels per block; one block per entry.
    input_pool : int
        Average-pool the input by this factor in time and frequency first (2: a 3 s segment
        of 130 frames x 128 bands becomes 65 x 64), a quarter of the computation for the
        CPU-sized course; 1 keeps the full resolution.
    spec_augment : dict, optional
        Options of ``musiclib.specaugment.SpecAugment`` (e.g. ``{"time_masks": 2,
        "freq_masks": 2}``); None: no masking.

    Returns
    -------
    keras.Model
        Compiled; input ``(n, frames, n_mels)``, output class probabilities.

    Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """
    keras = _keras()
    x_train, inputs, x = _segment_inputs(x_train)
    frames, bins = x_train.shape[1:]
    if spec_augment:
        from .specaugment import SpecAugment

        x = SpecAugment(**spec_augment, name="spec_augment")(x)
    x = keras.layers.Reshape((frames, bins, 1), name="as_image")(x)
    if input_pool > 1:
        x = keras.layers.AveragePooling2D(input_pool, padding="same", name="input_pool")(x)
    for k, width in enumerate(filters, start=1):
        x = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name=f"conv_{k}")(x)
        x = keras.layers.BatchNormalization(momentum=BATCHNORM_MOMENTUM, name=f"batchnorm_{k}")(x)
        x = keras.layers.MaxPooling2D(2, padding="same", name=f"pool_{k}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="average")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    x = keras.layers.Dense(dense, activation="relu", name="dense")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return _compile(keras.Model(inputs, outputs, name="mel_cnn"), learning_rate)


def image_cnn(
    x_train: np.ndarray,
    n_classes: int,
    *,
    learning_rate: float = 1e-3,
):
    """The small CNN of source 004 (3 convolutions + 2 dense layers), in Keras.

    Source 004 fed PyTorch ``Conv2d(4, 8, 3, stride 2) -> MaxPool(3, 2) -> Conv2d(8, 16, 4,
    stride 2) -> MaxPool(3, 2) -> Conv2d(16, 24, 5, stride 2) -> MaxPool(3, 2) -> Linear 64 ->
    Linear 10`` with leaky ReLU on RGBA pictures of spectrograms (4 channels) and reported
    about 30% training and 20% test accuracy on GTZAN. The same layers here, with ``same``
    padding so that small inputs keep a spatial extent, take either such pictures
    (``(n, height, width, 4)``, values in [0, 1]) or the log-mel array itself
    (``(n, frames, n_mels)``, one channel): the comparison of notebook 06.

    Parameters
    ----------
    x_train : np.ndarray, shape (n, height, width, channels) or (n, frames, n_mels)
        Adapts the input normalisation (per channel, or per mel band for arrays).

    Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """
    from .errors import MusiclibError

    keras = _keras()
    x_train = np.asarray(x_train, dtype=np.float32)
    if x_train.ndim == 3:  # a log-mel array: normalise per band, then one channel
        x_train, inputs, x = _segment_inputs(x_train)
        x = keras.layers.Reshape((*x_train.shape[1:], 1), name="as_image")(x)
    elif x_train.ndim == 4:
        inputs = keras.Input(shape=x_train.shape[1:], name="picture")
        x = normalization_layer(x_train.reshape(-1, x_train.shape[-1]))(inputs)
    else:
        raise MusiclibError(f"image_cnn takes (n, h, w, channels) or (n, frames, bins), got {x_train.shape}")
    leaky = keras.layers.LeakyReLU
    for k, (width, kernel) in enumerate([(8, 3), (16, 4), (24, 5)], start=1):
        x = keras.layers.Conv2D(width, kernel, strides=2, padding="same", name=f"conv_{k}")(x)
        x = leaky(name=f"leaky_{k}")(x)
        x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool_{k}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(64, name="dense")(x)
    x = leaky(name="leaky_dense")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return _compile(keras.Model(inputs, outputs, name="image_cnn"), learning_rate)


BUILDERS = {
    "dense_clip": dense_clip_classifier,
    "ann": ann_segments,
    "cnn_mfcc": cnn_mfcc,
    "cnn2_mfcc": cnn2_mfcc,
    "lstm_mfcc": lstm_mfcc,
    "mel_cnn": mel_cnn,
    "image_cnn": image_cnn,
}
"""Builder name -> builder; every builder takes ``(x_train, n_classes, **options)``."""


def build(name: str, x_train: np.ndarray, n_classes: int, **options):
    """Build the model called ``name`` (a key of :data:`BUILDERS`) with ``options``.

    Raises
    ------
    MusiclibError
        ``name`` is not a known builder; the message lists the known names.

    Taught in ``notebooks/05_mfcc_networks.ipynb``.
    """
    from .errors import MusiclibError

    if name not in BUILDERS:
        raise MusiclibError(f"unknown model {name!r}: choose one of {', '.join(BUILDERS)}")
    return BUILDERS[name](x_train, n_classes, **options)


def count_parameters(model) -> int:
    """The number of trainable parameters of ``model`` (the normalisation's statistics and
    batch normalisation's moving averages are not trained, so not counted)."""
    return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
