"""Fitting Keras models the way the course does: seeded, early-stopped, history kept.

Taught in ``notebooks/02_spectral_features.ipynb``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .tf_log import import_keras as _import_keras


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and the backend, and make TensorFlow's ops deterministic, so
    the same seed gives the same trained model twice on the same machine."""
    keras = _import_keras()

    keras.utils.set_random_seed(int(seed))
    try:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    except (ImportError, AttributeError):  # another Keras backend
        pass


@dataclass
class FitResult:
    """What :func:`fit` returns: the model (best weights restored) and how it got there."""

    model: object
    history: dict = field(default_factory=dict)  # metric name -> list, one value per epoch
    epochs: int = 0  # epochs run before early stopping
    best_epoch: int = 0  # 1-based epoch whose weights were restored
    seconds: float = 0.0
    n_train: int = 0  # training examples per epoch (after balancing and augmentation)


def fit(
    model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    epochs: int = 100,
    batch_size: int = 32,
    patience: int = 15,
    class_weight: dict | None = None,
    seed: int = 0,
    verbose: int = 0,
) -> FitResult:
    """Fit ``model`` with early stopping on the validation loss, restoring the best weights.

    Parameters
    ----------
    model : keras.Model
        Compiled.
    x_train, y_train : np.ndarray
        Inputs ``(n, ...)`` and integer labels ``(n,)``.
    validation : (x, y), optional
        The validation side; without it, early stopping watches the training loss.
    epochs : int
        At most this many passes over the training data.
    patience : int
        Epochs without improvement before stopping.
    class_weight : dict, optional
        Label index -> weight (see ``musiclib.splits.class_weights``).
    seed : int
        Seeds everything random in training (see :func:`set_seed`).

    Returns
    -------
    FitResult
    """
    return fit_early_stopped(
        model,
        np.asarray(x_train, dtype=np.float32),
        np.asarray(y_train),
        validation_data=None
        if validation is None
        else (np.asarray(validation[0], dtype=np.float32), np.asarray(validation[1])),
        epochs=epochs,
        patience=patience,
        class_weight=class_weight,
        seed=seed,
        verbose=verbose,
        batch_size=batch_size,
        shuffle=True,
    )


def fit_early_stopped(
    model,
    x,
    y=None,
    *,
    validation_data=None,
    epochs: int,
    patience: int,
    class_weight: dict | None,
    seed: int,
    verbose: int,
    **fit_options,
) -> FitResult:
    """The one training loop of the course: seed, ``model.fit`` with early stopping that
    restores the best weights (on ``val_loss``, or ``loss`` without validation data), and
    a :class:`FitResult`. ``x`` and ``validation_data`` are what ``keras.Model.fit`` takes:
    arrays (:func:`fit`) or a ``keras.utils.PyDataset`` (``musiclib.streaming``).
    """
    keras = _import_keras()

    set_seed(seed)
    monitor = "val_loss" if validation_data is not None else "loss"
    stopper = keras.callbacks.EarlyStopping(monitor=monitor, patience=patience, restore_best_weights=True)
    start = time.perf_counter()
    history = model.fit(
        x, y, validation_data=validation_data, epochs=epochs, class_weight=class_weight,
        callbacks=[stopper], verbose=verbose, **fit_options,
    )
    seconds = time.perf_counter() - start
    losses = history.history[monitor]
    return FitResult(
        model=model,
        history=dict(history.history),
        epochs=len(losses),
        best_epoch=int(np.argmin(losses)) + 1,
        seconds=seconds,
    )
