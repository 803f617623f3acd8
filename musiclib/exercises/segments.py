"""Checks for the exercises of notebook 04 · Segments, leakage and balance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .feedback import Feedback, as_number, compare_array, compare_number, describe, registers, right, verdict, wrong

__all__ = ["check_segments_per_clip", "check_vote_accuracy", "check_leak_gaps", "check_cnn_block"]

LEAKY, HONEST = "by segment (leaky)", "by recording"

# exercise 04.4: the parameter range the task states, and the layers it asks for
CNN_BLOCK_PARAMETERS = (1_000, 100_000)
CNN_BLOCK_LAYERS = ("Reshape", "Conv2D", "MaxPooling2D", "BatchNormalization")


@registers("04.1", "segments per clip")
def check_segments_per_clip(segments_30s, segments_here, *, meta: pd.DataFrame, config=None,
                            quiet: bool = False) -> Feedback:
    """``segments_30s``: whole segments a 30 s clip gives with ``config`` (a
    :class:`~musiclib.features.FeatureConfig`, default settings when None);
    ``segments_here``: segments of the first clip of ``meta`` (one row per segment, with
    ``track_id``)."""
    from ..features import FeatureConfig, segment_starts

    cfg = config if config is not None else FeatureConfig()
    expected_30 = len(segment_starts(cfg.n_frames(round(30 * cfg.sample_rate)), cfg))
    whole = ("only whole segments count: a piece shorter than segment_seconds is dropped, never padded "
             "(ml.features.segment_starts).")
    first = compare_number("04.1", segments_30s, expected_30, what="segments_30s", rtol=0, quiet=True,
                           hint="count ml.features.segment_starts(config.n_frames(30 * SR), config); " + whole)
    track = meta["track_id"].iloc[0]
    expected_here = int((meta["track_id"] == track).sum())
    here = compare_number("04.1", segments_here, expected_here, what="segments_here", rtol=0, quiet=True,
                          hint=f"count the rows of meta whose track_id is {track!r}; " + whole)
    return verdict("04.1", [first, here], f"a 30 s clip gives {expected_30} segments of {cfg.segment_seconds:g} s, "
                   f"the first clip here {expected_here}: the rest of a clip too short for a whole segment is "
                   "left out.", quiet=quiet)


@registers("04.2", "recording accuracy by majority vote")
def check_vote_accuracy(vote_accuracy, n_differ, *, proba: np.ndarray, y_true: np.ndarray, groups,
                        quiet: bool = False) -> Feedback:
    """``vote_accuracy``: the share (0-1) of test recordings whose majority vote of segment
    predictions is right; ``n_differ``: how many test recordings get a different class by
    vote than by mean probability. ``proba`` (segments x classes), ``y_true`` and
    ``groups`` are the test side's, one row per segment."""
    from ..evaluate import recording_level

    truth, by_vote = recording_level(proba, y_true, groups, how="vote")
    _, by_mean = recording_level(proba, y_true, groups, how="mean")
    expected = float(np.mean(by_vote == truth))
    by_mean_accuracy = float(np.mean(by_mean == truth))
    segment_accuracy = float(np.mean(np.asarray(proba).argmax(axis=1) == np.asarray(y_true)))
    value = as_number(vote_accuracy)
    hint = ('call ml.evaluate.recording_level(proba, y_true, groups, how="vote") and compare its two arrays: '
            "the share of recordings where they agree.")
    if value is not None and not np.isclose(value, expected, atol=1e-9):
        if np.isclose(value, by_mean_accuracy, atol=1e-9):
            return wrong("04.2", f"{value:.3f} is the accuracy by mean probability; pass how=\"vote\".", quiet=quiet)
        if np.isclose(value, segment_accuracy, atol=1e-9):
            return wrong("04.2", f"{value:.3f} is the segment accuracy; score one prediction per recording: {hint}",
                         quiet=quiet)
    first = compare_number("04.2", vote_accuracy, expected, what="vote_accuracy", rtol=0, atol=1e-9,
                           hint=hint, quiet=True)
    differ = int(np.sum(by_vote != by_mean))
    second = compare_number("04.2", n_differ, differ, what="n_differ", rtol=0, quiet=True,
                            hint="count the recordings whose predicted class differs between how=\"vote\" and "
                                 "how=\"mean\" (a count of recordings, not of segments or a share).")
    return verdict("04.2", [first, second], f"by vote {expected:.3f}, by mean probability {by_mean_accuracy:.3f}; "
                   f"the two rules disagree on {differ} of {len(truth)} test recordings.", quiet=quiet)


@registers("04.3", "leaky minus honest accuracy, seed by seed")
def check_leak_gaps(gaps, study: pd.DataFrame, *, quiet: bool = False) -> Feedback:
    """``gaps``: for each seed of ``study`` (the table of ``ml.baselines.split_leak_study``),
    in increasing seed order, the 1-NN test accuracy of the split by segment minus that of
    the split by recording. A Series indexed by seed, an array or a list."""
    table = study.pivot(index="seed", columns="split", values="accuracy").sort_index()
    expected = (table[LEAKY] - table[HONEST]).to_numpy()
    if isinstance(gaps, pd.DataFrame):
        return wrong("04.3", f"gaps should be one number per seed (a Series or an array), got a table with "
                     f"columns {list(gaps.columns)[:3]}; subtract the by-recording column from the leaky one.",
                     quiet=quiet)
    if isinstance(gaps, pd.Series) and set(gaps.index) == set(table.index):
        gaps = gaps.reindex(table.index)
    if isinstance(gaps, (str, bytes, dict)):
        return wrong("04.3", f"gaps should be an array or Series of numbers, got {describe(gaps)}; "
                     "pivot study by seed and split, then subtract.", quiet=quiet)
    hint = ('pivot study (index "seed", columns "split", values "accuracy") and take '
            f'"{LEAKY}" minus "{HONEST}", one gap per seed.')
    try:
        reversed_sign = np.allclose(np.asarray(gaps, dtype=float).reshape(-1), -expected)
    except (TypeError, ValueError):
        reversed_sign = False
    if reversed_sign and not np.allclose(expected, 0):
        return wrong("04.3", "the sign is reversed: take the leaky accuracy minus the honest one, so that a "
                     "positive gap means the leak inflated the score.", quiet=quiet)
    return compare_array("04.3", gaps, expected, what="gaps", hint=hint, quiet=quiet,
                         praise=f"{len(expected)} gaps from {expected.min():+.3f} to {expected.max():+.3f}, mean "
                         f"{expected.mean():+.3f}; positive on {int((expected > 0).sum())} of {len(expected)} seeds.")


@registers("04.4", "a CNN block for MFCC segments")
def check_cnn_block(model, *, segments, labels, quiet: bool = False) -> Feedback:
    """``model``: a compiled Keras model for MFCC segments. ``segments`` (n, frames,
    coefficients) are the segments it is for and ``labels`` their labels (one per segment).

    Right when: the input takes one segment (``segments.shape[1:]``); the last layer is a
    softmax with one unit per distinct label; it has a ``Reshape`` to ``(frames,
    coefficients, 1)`` and at least one ``Conv2D``, ``MaxPooling2D`` and
    ``BatchNormalization``; its parameter count lies in :data:`CNN_BLOCK_PARAMETERS`; and a
    copy of it trains one epoch on a few segments to a finite loss (the learner's model is
    left untouched).
    """
    import keras

    segments = np.asarray(segments, dtype=np.float32)
    names, codes = np.unique(np.asarray(labels).astype(str), return_inverse=True)
    shape, n_labels = tuple(segments.shape[1:]), len(names)
    if not isinstance(model, keras.Model):
        return wrong("04.4", f"my_cnn should be a Keras model (keras.Model(inputs, outputs) or keras.Sequential), "
                     f"got {describe(model)}.", quiet=quiet)
    try:
        input_shape, output_shape = tuple(model.input_shape[1:]), tuple(model.output_shape[1:])
    except (AttributeError, ValueError):  # a Sequential without an Input is not built yet
        return wrong("04.4", f"the model has no input shape yet; start it with keras.Input(shape={shape}).",
                     quiet=quiet)
    if input_shape != shape:
        flipped = " (frames and coefficients swapped?)" if input_shape == shape[::-1] else ""
        return wrong("04.4", f"the input takes {input_shape}, one segment is {shape}{flipped}: "
                     "use keras.Input(shape=X.shape[1:]).", quiet=quiet)
    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", None)
    if output_shape != (n_labels,) or activation != "softmax":
        return wrong("04.4", f"the output is {output_shape} with activation {activation!r}; end with "
                     f"keras.layers.Dense({n_labels}, activation=\"softmax\"): one probability per label.",
                     quiet=quiet)
    kinds = {type(layer).__name__ for layer in model.layers}
    lacking = [kind for kind in CNN_BLOCK_LAYERS if kind not in kinds]
    if lacking:
        return wrong("04.4", f"the model has no {', no '.join(lacking)} layer; the block is Reshape to "
                     f"{shape + (1,)}, then Conv2D -> MaxPooling2D -> BatchNormalization.", quiet=quiet)
    reshape = next(layer for layer in model.layers if type(layer).__name__ == "Reshape")
    reshaped = tuple(getattr(reshape, "target_shape", ()))
    if reshaped != shape + (1,):
        return wrong("04.4", f"the Reshape gives {reshaped}; Conv2D wants the segment as a "
                     f"one-channel picture, {shape + (1,)}.", quiet=quiet)
    n_parameters = int(model.count_params())
    low, high = CNN_BLOCK_PARAMETERS
    if not low <= n_parameters <= high:
        how = ("fewer filters, or GlobalAveragePooling2D instead of Flatten before the last Dense" if n_parameters > high
               else "more filters or a second block")
        return wrong("04.4", f"{n_parameters:,} parameters, outside {low:,} to {high:,}: try {how}.", quiet=quiet)
    if not getattr(model, "compiled", False):
        return wrong("04.4", "the model is not compiled: call my_cnn.compile(optimizer=\"adam\", "
                     "loss=\"sparse_categorical_crossentropy\", metrics=[\"accuracy\"]).", quiet=quiet)
    few = np.linspace(0, len(segments) - 1, min(32, len(segments))).astype(int)
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    for layer in copy.layers:  # an adapted Normalization rebuilds its mean and variance from the copied weights
        if type(layer).__name__ == "Normalization":
            layer.finalize_state()
    # eagerly: two small batches run faster than tracing a graph for them
    copy.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", run_eagerly=True)
    try:
        loss = float(copy.fit(segments[few], codes[few], epochs=1, batch_size=16, verbose=0).history["loss"][-1])
    except Exception as err:  # a learner's model may fail in many ways: say which, never a traceback
        return wrong("04.4", f"one epoch on {len(few)} segments failed: {type(err).__name__}: "
                     f"{str(err).splitlines()[0][:120]}", quiet=quiet)
    if not np.isfinite(loss):
        return wrong("04.4", f"one epoch on {len(few)} segments gave the loss {loss}; normalise the inputs "
                     "(a Normalization or BatchNormalization layer first) or lower the learning rate.", quiet=quiet)
    convs = sum(type(layer).__name__ == "Conv2D" for layer in model.layers)
    return right("04.4", f"input {shape}, {convs} Conv2D layer(s), softmax over {n_labels} labels, "
                 f"{n_parameters:,} parameters; one epoch on {len(few)} segments: loss {loss:.3f} "
                 f"(chance level is ln {n_labels} = {np.log(n_labels):.3f}).", quiet=quiet)
