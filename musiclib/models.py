"""Keras 3 model builders, one per experiment of the source projects.

Each builder reads top to bottom like the keras.io examples, returns a compiled
``keras.Model``, and puts input normalisation *inside* the model (a ``Normalization`` layer
adapted on the training side only), so a saved ``.keras`` file carries it and prediction
needs no separate scaler.

Taught in ``notebooks/02_spectral_features.ipynb`` (the dense net on clip features).
"""

from __future__ import annotations

import numpy as np


def _keras():
    import keras  # imported on first use: TensorFlow takes seconds to load

    return keras


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
