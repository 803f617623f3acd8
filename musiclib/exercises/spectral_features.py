"""Checks for the exercises of notebook 02 · Spectral features."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .feedback import (
    Feedback,
    as_number,
    compare_array,
    compare_choice,
    compare_number,
    compare_set,
    describe,
    registers,
    right,
    tell,
    wrong,
)

__all__ = ["check_centroid_by_hand", "check_flatter_style", "check_accuracy_shift", "check_mean_std_columns",
           "check_one_more_layer"]


@registers("02.1", "spectral centroid by hand")
def check_centroid_by_hand(centroid, y: np.ndarray, config=None, *, quiet: bool = False) -> Feedback:
    """``centroid``: the spectral centroid of signal ``y`` in Hz, one value per STFT frame.

    Shape ``(n_frames,)`` (``(1, n_frames)`` is accepted too): the magnitude-weighted mean of
    the bin frequencies of ``np.abs(librosa.stft(y))`` with the FFT size and hop of
    ``config`` (a :class:`~musiclib.features.FeatureConfig`; default settings when None).
    The reference is ``ml.features.frame_features(y, config)["spectral_centroid"]``.
    """
    from ..features import as_feature_config, frame_features

    cfg = as_feature_config(config)
    y = np.asarray(y, dtype=np.float32)
    expected = frame_features(y, cfg, features="spectral_centroid")["spectral_centroid"][0]
    hint = ("weight every bin frequency (librosa.fft_frequencies(sr=SR, n_fft=config.n_fft)) by the "
            "magnitude np.abs(librosa.stft(y, n_fft=config.n_fft, hop_length=config.hop_length)) and "
            "divide by the sum of the magnitudes of the frame (axis=0: frequency runs down the rows).")
    feedback = compare_array("02.1", centroid, expected, what="centroid", rtol=1e-3, atol=1e-2, hint=hint,
                             praise="your centroid and musiclib's agree, frame by frame.", quiet=True)
    if feedback.status == "wrong" and _matches_power_weighting(centroid, y, cfg):
        return wrong("02.1", "centroid is weighted by the power |X|² — the centroid weights each "
                     "frequency by the magnitude |X| (np.abs of the STFT, not squared).", quiet=quiet)
    return tell(feedback, quiet=quiet)


def _matches_power_weighting(centroid, y: np.ndarray, cfg) -> bool:
    """True when ``centroid`` is the power-weighted mean frequency (a usual slip)."""
    import librosa

    try:
        value = np.asarray(centroid, dtype=float).squeeze()
    except (TypeError, ValueError):
        return False
    power = np.abs(librosa.stft(y, n_fft=cfg.n_fft, hop_length=cfg.hop_length, window=cfg.window,
                                center=cfg.center, pad_mode=cfg.pad_mode)).astype(np.float64) ** 2
    freqs = np.fft.rfftfreq(cfg.n_fft, d=1.0 / cfg.sample_rate)
    weighted = (freqs @ power) / np.maximum(power.sum(axis=0), 1e-30)
    return value.shape == weighted.shape and bool(np.allclose(value, weighted, rtol=1e-3, atol=1e-2))


@registers("02.2", "which style has the flatter spectrum")
def check_flatter_style(flatter, table: pd.DataFrame, pair: Sequence[str], *,
                        column: str = "spectral_flatness_mean", quiet: bool = False) -> Feedback:
    """``flatter``: the label of ``pair`` whose clips have the higher median of ``column``.

    The expected answer is computed from ``table`` (one row per clip, a ``label`` column), so
    it holds for any dataset, profile and seed.
    """
    pair = [str(p) for p in pair]
    medians = table[table["label"].isin(pair)].groupby("label")[column].median().reindex(pair)
    expected = str(medians.idxmax())
    other = pair[1] if expected == pair[0] else pair[0]
    return compare_choice(
        "02.2", flatter, expected, pair, what="flatter",
        because=f"median flatness {medians[expected]:.3g} against {medians[other]:.3g} for {other} — "
                "the more noise-like spectrum (noise, distortion, drums) is the flatter one.",
        hint=f'compute table.groupby("label")["{column}"].median() and compare the two labels.',
        quiet=quiet)


@registers("02.3", "how far the test accuracy moves with another split")
def check_accuracy_shift(accuracy_shift, baseline: pd.DataFrame, resplit: pd.DataFrame, *,
                         quiet: bool = False) -> Feedback:
    """``accuracy_shift``: the largest change of ``test_accuracy`` of one model between two splits.

    A fraction (0.1 for 10 points), taken as an absolute value, over the models present in
    both ``baseline`` and ``resplit`` (the tables ``ml.baselines.compare_classifiers``
    returns for the first and the second split).
    """
    if not isinstance(resplit, pd.DataFrame) or not {"model", "test_accuracy"} <= set(resplit.columns):
        return wrong("02.3", f"resplit should be the table ml.baselines.compare_classifiers returns, got "
                     f"{describe(resplit)}; train on the re-split table and keep what it returns.", quiet=quiet)
    before = baseline.groupby("model")["test_accuracy"].first()
    after = resplit.groupby("model")["test_accuracy"].first()
    common = before.index.intersection(after.index)
    if common.empty:
        return wrong("02.3", "resplit has none of the models of baseline; train the same models "
                     f"({', '.join(before.index)}).", quiet=quiet)
    change = (after[common] - before[common]).abs()
    expected = float(change.max())
    value = as_number(accuracy_shift)
    if value is not None and value < 0 and abs(-value - expected) <= 1e-6:
        return wrong("02.3", "accuracy_shift is negative; take the absolute value of each change "
                     "before the largest.", quiet=quiet)
    n_test = int(resplit["n_test"].iloc[0]) if "n_test" in resplit else None
    per_clip = f"; one of its {n_test} test clips is {100 / n_test:.1f} points" if n_test else ""
    return compare_number(
        "02.3", accuracy_shift, expected, what="accuracy_shift", rtol=0, atol=1e-6,
        hint="for each model take |test_accuracy on the new split - test_accuracy in baseline|, then the "
             "largest (a fraction, not percent).",
        praise=f"the test accuracy of {change.idxmax()} moved by {expected:.3f} with nothing changed but the "
               f"split{per_clip}.", quiet=quiet)


@registers("02.4", "mean and std columns of the spectral features")
def check_mean_std_columns(columns, table: pd.DataFrame, *, quiet: bool = False) -> Feedback:
    """``columns``: the names of the mean and the std column of every spectral feature in ``table``."""
    from ..baselines import feature_columns

    expected = feature_columns(table, "spectral", stats=("mean", "std"))
    return compare_set(
        "02.4", columns, expected, what="mean and std columns",
        hint='ml.baselines.feature_columns(table, "spectral", stats=("mean", "std")) lists both.',
        quiet=quiet)


PARAMETER_RANGE = (1_000, 100_000)  # what a dense net on a few dozen clip features should cost


@registers("02.5", "one more layer: a dense net written by hand")
def check_one_more_layer(model, sides, *, hidden_layers: int = 4, parameter_range: tuple[int, int] = PARAMETER_RANGE,
                         quiet: bool = False) -> Feedback:
    """``model``: a Keras model of source 001's dense net on clip features, with ``hidden_layers`` hidden layers.

    ``sides`` is what ``ml.baselines.split_table(table, columns)`` returns. The model must take
    one row of ``sides.columns`` (input shape ``(None, len(sides.columns))``), end in a softmax
    Dense layer with one unit per label of ``sides.classes``, hold ``hidden_layers + 1`` Dense
    layers in all, and have between ``parameter_range[0]`` and ``parameter_range[1]``
    parameters. It is then trained for one epoch on the training side (compiled with Adam and
    sparse categorical cross-entropy first when it is not compiled yet): the loss must be finite.
    """
    return check_dense_clip_model("02.5", model, sides, hidden_layers=hidden_layers,
                                  parameter_range=parameter_range, quiet=quiet)


def check_dense_clip_model(exercise: str, model, sides, *, hidden_layers: int,
                           parameter_range: tuple[int, int] = PARAMETER_RANGE, dropout: float | None = None,
                           quiet: bool = False) -> Feedback:
    """The checks of an exercise where the learner writes a dense net on clip features.

    The model must take one row of ``sides.columns``, start with a Normalization layer, end in
    a softmax Dense layer with one unit per label, hold ``hidden_layers`` hidden Dense layers,
    and (with ``dropout``) a Dropout layer of that rate after each of them; its parameter
    count must lie in ``parameter_range``; one epoch on the training side must give a finite
    loss. Used by exercises 02.5 and 03.5.
    """
    import keras

    if not isinstance(model, keras.Model):
        return wrong(exercise, f"model should be a keras.Model, got {describe(model)}; end with "
                     "keras.Model(inputs, outputs).", quiet=quiet)
    n_features, n_classes = len(sides.columns), len(sides.classes)
    shape = tuple(model.inputs[0].shape)
    if len(model.inputs) != 1 or shape[1:] != (n_features,):
        return wrong(exercise, f"the input has shape {shape}; one clip is a row of {n_features} feature "
                     f"columns: keras.Input(({n_features},)).", quiet=quiet)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if not dense or dense[-1] is not model.layers[-1]:
        return wrong(exercise, "the model should end with a Dense layer: "
                     f"keras.layers.Dense({n_classes}, activation=\"softmax\").", quiet=quiet)
    last = dense[-1]
    if last.units != n_classes:
        return wrong(exercise, f"the output layer has {last.units} units; it needs one per label, "
                     f"{n_classes} (len(sides.classes)).", quiet=quiet)
    if getattr(last.activation, "__name__", "") != "softmax":
        return wrong(exercise, f"the output activation is {getattr(last.activation, '__name__', last.activation)}; "
                     "use softmax, so the outputs are probabilities that sum to 1.", quiet=quiet)
    if len(dense) != hidden_layers + 1:
        return wrong(exercise, f"the model has {len(dense) - 1} hidden Dense layers; the exercise asks for "
                     f"{hidden_layers} (plus the softmax output).", quiet=quiet)
    if not any(isinstance(layer, keras.layers.Normalization) for layer in model.layers):
        return wrong(exercise, "no Normalization layer: the features have very different scales (Hz next to "
                     "ratios); put ml.models.normalization_layer(sides.x[\"train\"]) right after the input.",
                     quiet=quiet)
    if dropout is not None:
        rates = [float(layer.rate) for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
        if len(rates) != hidden_layers or not np.allclose(rates, dropout):
            return wrong(exercise, f"found {len(rates)} Dropout layers with rates {rates}; the exercise asks for "
                         f"keras.layers.Dropout({dropout}) after each of the {hidden_layers} hidden layers.",
                         quiet=quiet)
    parameters = int(model.count_params())
    low, high = parameter_range
    if not low <= parameters <= high:
        return wrong(exercise, f"the model has {parameters:,} parameters, outside {low:,} to {high:,}; "
                     "use widths like 128, 64, 32.", quiet=quiet)
    if not getattr(model, "compiled", False):
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    try:
        history = model.fit(sides.x["train"], sides.y["train"], epochs=1, batch_size=16, verbose=0)
    except Exception as err:  # a learner's model may fail in many ways: say how, never raise
        return wrong(exercise, f"training one epoch failed: {type(err).__name__}: {str(err)[:160]}", quiet=quiet)
    loss = float(history.history["loss"][-1])
    if not np.isfinite(loss):
        return wrong(exercise, f"one epoch of training gave the loss {loss}; check the normalisation "
                     "layer and the softmax output.", quiet=quiet)
    extra = f", dropout {dropout} after each" if dropout is not None else ""
    return right(exercise, f"{hidden_layers} hidden layers{extra}, {parameters:,} parameters, {n_classes} softmax "
                 f"outputs; one epoch on {len(sides.y['train'])} training clips: loss {loss:.2f}.", quiet=quiet)


