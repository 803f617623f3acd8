"""Checks for the exercises of notebook 06 · Mel-spectrogram CNN and augmentation."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .feedback import Feedback, compare_array, compare_number, describe, registers, right, tell, wrong

__all__ = ["check_applied_transforms", "check_masked_fraction", "check_own_cnn"]

# exercise 06.5: the size asked of the learner's CNN
OWN_CNN_PARAMETERS = (1_000, 50_000)

# audiomentations class name -> the transform's key in ml.augment.PARAMETERS
_CLASS_KEYS = {"addgaussiansnr": "noise", "gain": "gain", "shift": "shift", "pitchshift": "pitch",
               "timestretch": "stretch"}


def applied_counts(strength: str, seeds) -> pd.Series:
    """In how many of ``seeds`` one call of ``ml.augment.waveform_augmenter(strength)``,
    inside ``ml.augment.seeded_global_rng(seed)``, applies each transform.

    Which transforms apply is drawn from the seeded generators and does not depend on the
    signal, so a short silent one is enough.
    """
    from ..augment import PARAMETERS, seeded_global_rng, waveform_augmenter

    augmenter = waveform_augmenter(strength)
    silence = np.zeros(2048, dtype=np.float32)
    counts = np.zeros(len(PARAMETERS[strength]), dtype=int)
    for seed in seeds:
        with seeded_global_rng(int(seed)):
            augmenter(samples=silence, sample_rate=22050)
        counts += [bool(t.parameters.get("should_apply")) for t in augmenter.transforms]
    return pd.Series(counts, index=list(PARAMETERS[strength]), name="applied")


def _key(name) -> str | None:
    text = str(name).strip().lower()
    return text if text in _CLASS_KEYS.values() else _CLASS_KEYS.get(text)


@registers("06.1", "which transforms the strong augmentation applies")
def check_applied_transforms(applied, most_often, *, seeds, strength: str = "strong",
                             quiet: bool = False) -> Feedback:
    """``applied``: for each transform (``noise``, ``gain``, ``shift``, ``pitch``,
    ``stretch``, the keys of ``ml.augment.PARAMETERS``), in how many of ``seeds`` one call of
    ``waveform_augmenter(strength)`` inside ``seeded_global_rng(seed)`` applied it: a dict
    or Series keyed by transform (audiomentations class names are fine too), or five counts
    in that order. ``most_often``: the transform applied most often (any of a tie)."""
    seeds = list(seeds)
    n = len(seeds)
    expected = applied_counts(strength, seeds)
    hint = ("after each call, transform.parameters[\"should_apply\"] of every transform in "
            "augmenter.transforms says whether it ran; add them up over the seeds.")
    if isinstance(applied, (Mapping, pd.Series)):
        keys = {_key(k): k for k in applied.keys()}
        if None in keys or set(keys) != set(expected.index):
            return wrong("06.1", f"applied should have one entry per transform ({', '.join(expected.index)}), got "
                         f"keys {', '.join(map(str, applied.keys()))}; {hint}", quiet=quiet)
        applied = [applied[keys[k]] for k in expected.index]
    elif isinstance(applied, (str, bytes)):
        return wrong("06.1", f"applied should be counts per transform, got {describe(applied)}; {hint}", quiet=quiet)
    result = compare_array("06.1", applied, expected.to_numpy(), what="applied", rtol=0, atol=1e-9,
                           hint=hint, quiet=True)
    if not result.right:
        return tell(result, quiet=quiet)
    if not isinstance(most_often, str) or _key(most_often) is None:
        return wrong("06.1", f"most_often should name one transform ({', '.join(expected.index)}), got "
                     f"{describe(most_often)}.", quiet=quiet)
    top = list(expected.index[expected == expected.max()])
    if _key(most_often) not in top:
        return wrong("06.1", f"{most_often.strip()} ran in {expected[_key(most_often)]} of {n} seeds; "
                     "which of your counts is the largest?", quiet=quiet)
    probability = {k: v["p"] for k, v in _parameters(strength).items()}
    tie = f" (tied with {', '.join(t for t in top if t != _key(most_often))})" if len(top) > 1 else ""
    return right("06.1", f"{_key(most_often)} ran most often{tie}; counts "
                 f"{', '.join(f'{k} {v}' for k, v in expected.items())} of {n} seeds, where "
                 f"p would give on average {', '.join(f'{k} {probability[k] * n:g}' for k in expected.index)}.",
                 quiet=quiet)


def _parameters(strength: str) -> dict:
    from ..augment import PARAMETERS

    return PARAMETERS[strength]


@registers("06.3", "share of a segment SpecAugment masks")
def check_masked_fraction(masked_fraction, *, segment: np.ndarray, masked: np.ndarray,
                          quiet: bool = False) -> Feedback:
    """``masked_fraction``: the share (0-1) of the time-frequency cells of ``masked`` (one or
    more masked copies of ``segment``, shape ``(copies, frames, bins)``) that the layer
    changed, over all copies together."""
    try:
        changed = np.asarray(masked) != np.asarray(segment)
    except ValueError:
        return wrong("06.3", f"masked (shape {np.shape(masked)}) and segment (shape {np.shape(segment)}) do not "
                     "line up; pass the segment and the layer's output for it.", quiet=quiet)
    expected = float(np.mean(changed))
    return compare_number(
        "06.3", masked_fraction, expected, what="masked_fraction", rtol=1e-6, atol=1e-9,
        hint="compare the masked copies with the segment cell by cell (masked != segment) and take the mean: "
             "a share of all cells, between 0 and 1, not a count of cells or of masked bands.",
        praise=f"in training the network sees about {1 - expected:.0%} of each segment, a different part "
               "every batch.", quiet=quiet)


def _layer_kinds(model) -> list[str]:
    """Class names of every layer of ``model``, nested models opened."""
    kinds = []
    for layer in model.layers:
        kinds += _layer_kinds(layer) if hasattr(layer, "layers") else [type(layer).__name__]
    return kinds


@registers("06.5", "your own small CNN on log-mel segments")
def check_own_cnn(model, *, segments: np.ndarray, labels, n_labels: int, quiet: bool = False) -> Feedback:
    """``model``: a Keras model that takes log-mel segments as they are, ``(n, frames,
    bins)`` like ``segments``, has at least two ``Conv2D`` layers and a pooling layer,
    ends in a ``Dense`` softmax of ``n_labels`` units, and has between 1,000 and 50,000
    parameters. A copy of it (the learner's weights stay as they are) is compiled with
    Adam and sparse categorical cross-entropy and trained one epoch on ``segments`` (a few
    log-mel segments, dB) with the label indices ``labels``; the loss must be finite."""
    import time

    import keras

    if not isinstance(model, keras.Model):
        return wrong("06.5", f"model should be a Keras model (keras.Model(inputs, outputs)), got {describe(model)}.",
                     quiet=quiet)
    segments = np.asarray(segments, dtype=np.float32)
    want = (None, *segments.shape[1:])
    got = tuple(model.input_shape) if not isinstance(model.input_shape, list) else model.input_shape
    if got != want:
        return wrong("06.5", f"the input shape is {got}, one log-mel segment is {segments.shape[1:]}: use "
                     f"keras.Input(shape={segments.shape[1:]}) and a Reshape layer inside the model to add the "
                     "channel axis.", quiet=quiet)
    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", None)
    if type(last).__name__ != "Dense" or activation != "softmax":
        return wrong("06.5", f"the last layer is {type(last).__name__}"
                     f"{f' with activation {activation}' if activation else ''}; end with "
                     f"keras.layers.Dense({n_labels}, activation=\"softmax\"): one probability per label.",
                     quiet=quiet)
    if last.units != n_labels:
        return wrong("06.5", f"the output has {last.units} units, there are {n_labels} labels: one unit per label.",
                     quiet=quiet)
    kinds = _layer_kinds(model)
    n_conv = kinds.count("Conv2D")
    if n_conv < 2:
        return wrong("06.5", f"the model has {n_conv} Conv2D layer{'s' if n_conv != 1 else ''}; the exercise asks for "
                     "at least two (each followed by pooling).", quiet=quiet)
    if not any("Pooling" in k for k in kinds):
        return wrong("06.5", "no pooling layer: add MaxPooling2D after a convolution (or GlobalAveragePooling2D "
                     "before the output) so the network summarises over time and frequency.", quiet=quiet)
    n_parameters = int(model.count_params())
    low, high = OWN_CNN_PARAMETERS
    if not low <= n_parameters <= high:
        advice = ("fewer filters, or global average pooling instead of Flatten" if n_parameters > high
                  else "more filters per convolution")
        return wrong("06.5", f"{n_parameters:,} parameters; the exercise asks for {low:,} to {high:,} ({advice}).",
                     quiet=quiet)
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(segments):
        return wrong("06.5", f"{len(labels)} labels for {len(segments)} segments: pass one label index per "
                     "segment.", quiet=quiet)
    trial = keras.models.clone_model(model)
    trial.set_weights(model.get_weights())
    for layer in trial.layers:  # an adapted Normalization keeps its statistics outside its weights
        if isinstance(layer, keras.layers.Normalization):
            layer.finalize_state()
    # eagerly: for a few segments, faster than tracing a graph
    trial.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", run_eagerly=True)
    start = time.perf_counter()
    try:
        history = trial.fit(segments, labels.astype(np.int32), epochs=1, batch_size=16, verbose=0)
    except Exception as err:  # the learner's model: say what failed, never a traceback
        return wrong("06.5", f"one epoch of training failed: {type(err).__name__}: {str(err).splitlines()[0][:160]}",
                     quiet=quiet)
    seconds = time.perf_counter() - start
    loss = float(history.history["loss"][-1])
    if not np.isfinite(loss):
        return wrong("06.5", f"after one epoch the loss is {loss}: normalise the input (a Normalization layer "
                     "adapted to the training segments) and check the learning rate.", quiet=quiet)
    return right("06.5", f"{n_conv} convolutions, {n_parameters:,} parameters (compare with mel_cnn's "
                 f"summary above); one epoch on {len(segments)} segments took {seconds:.1f} s, "
                 f"loss {loss:.2f} (chance level is ln {n_labels} = {np.log(n_labels):.2f}).", quiet=quiet)
