"""Checks of notebook 04 · Segments, leakage and balance: right, not yet, no answer, never a traceback."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import musiclib as ml


def _meta(counts=(3, 3)):
    return pd.DataFrame({"track_id": [f"t{i}" for i, n in enumerate(counts) for _ in range(n)]})


def test_check_segments_per_clip():
    meta, check = _meta(), ml.exercises.check_segments_per_clip
    assert check(10, 3, meta=meta, quiet=True).right
    assert check(np.int64(10), np.int64(3), meta=meta, config=ml.features.FeatureConfig(), quiet=True).right
    # another segment length: 2 s segments, 15 in a 30 s clip
    assert check(15, 3, meta=meta, config=ml.features.FeatureConfig(segment_seconds=2.0), quiet=True).right
    too_many = check(11, 3, meta=meta, quiet=True)
    assert too_many.status == "wrong" and "segment_starts" in str(too_many)
    fractional = check(10, 10 / 3, meta=meta, quiet=True)
    assert fractional.status == "wrong" and "segments_here" in str(fractional) and "whole segments" in str(fractional)
    assert check(..., 3, meta=meta, quiet=True).missing
    assert check(10, ..., meta=meta, quiet=True).missing
    assert check("10", 3, meta=meta, quiet=True).status == "wrong"
    assert check([10], [3, 3], meta=meta, quiet=True).status == "wrong"


def _votes():
    """Three test recordings of three segments: vote and mean disagree on the first."""
    proba = np.array([
        [0.40, 0.35, 0.25], [0.40, 0.35, 0.25], [0.05, 0.90, 0.05],  # true 0: vote 0, mean 1
        [0.10, 0.80, 0.10], [0.10, 0.80, 0.10], [0.10, 0.80, 0.10],  # true 1: both right
        [0.60, 0.10, 0.30], [0.60, 0.10, 0.30], [0.60, 0.10, 0.30],  # true 2: both wrong
    ])
    y = np.repeat([0, 1, 2], 3)
    groups = np.repeat(["a", "b", "c"], 3)
    return dict(proba=proba, y_true=y, groups=groups, quiet=True)


def test_check_vote_accuracy():
    kw, check = _votes(), ml.exercises.check_vote_accuracy
    assert check(2 / 3, 1, **kw).right
    assert check(np.float64(2 / 3), np.int64(1), **kw).right
    by_mean = check(1 / 3, 1, **kw)
    assert by_mean.status == "wrong" and 'how="vote"' in str(by_mean)
    by_segment = check(5 / 9, 1, **kw)
    assert by_segment.status == "wrong" and "segment accuracy" in str(by_segment)
    differ = check(2 / 3, 3, **kw)
    assert differ.status == "wrong" and "n_differ" in str(differ)
    assert check(..., 1, **kw).missing and check(2 / 3, ..., **kw).missing
    assert check("0.67", 1, **kw).status == "wrong"
    assert check([2 / 3, 1 / 3], 1, **kw).status == "wrong"


def _study(accuracy_leaky=(0.9, 0.8, 0.95), accuracy_honest=(0.5, 0.6, 0.4)):
    rows = []
    for seed, (a, b) in enumerate(zip(accuracy_leaky, accuracy_honest)):
        rows += [{"seed": seed, "split": "by segment (leaky)", "accuracy": a},
                 {"seed": seed, "split": "by recording", "accuracy": b}]
    return pd.DataFrame(rows)


def test_check_leak_gaps():
    study, check = _study(), ml.exercises.check_leak_gaps
    expected = pd.Series([0.4, 0.2, 0.55], index=[0, 1, 2])
    assert check(expected, study, quiet=True).right
    assert check(expected.iloc[::-1], study, quiet=True).right  # a Series is aligned by seed
    assert check(expected.to_numpy(), study, quiet=True).right and check(list(expected), study, quiet=True).right
    reversed_sign = check(-expected, study, quiet=True)
    assert reversed_sign.status == "wrong" and "sign is reversed" in str(reversed_sign)
    mean_only = check(expected.mean(), study, quiet=True)
    assert mean_only.status == "wrong" and "one gap per seed" in str(mean_only)
    table = check(study.pivot(index="seed", columns="split", values="accuracy"), study, quiet=True)
    assert table.status == "wrong" and "one number per seed" in str(table)
    assert check(..., study, quiet=True).missing
    assert check("gaps", study, quiet=True).status == "wrong"
    assert check({"a": 1}, study, quiet=True).status == "wrong"


def test_check_leak_gaps_on_a_real_study():
    rng = np.random.default_rng(0)
    meta = pd.DataFrame({"label": np.repeat(["a", "b"], 30), "group": np.repeat([f"r{i}" for i in range(20)], 3)})
    segments = rng.normal(size=(60, 8, 3)) + np.repeat(rng.normal(size=(20, 1, 3)), 3, axis=0)
    study = ml.baselines.split_leak_study(segments, meta, seeds=range(3))
    by_seed = study.pivot(index="seed", columns="split", values="accuracy")
    gaps = by_seed["by segment (leaky)"] - by_seed["by recording"]
    assert ml.exercises.check_leak_gaps(gaps, study, quiet=True).right


@pytest.mark.parametrize("name", ["04.1", "04.2", "04.3", "04.4"])
def test_registered(name):
    assert name in ml.exercises.REGISTRY


def _cnn(shape=(130, 13), n_labels=3, *, filters=(8, 16), reshape=True, batchnorm=True, head="global",
         activation="softmax", units=None, compile=True):
    """The notebook's worked solution of exercise 4, with one thing changed at a time."""
    import keras

    inputs = keras.Input(shape=shape)
    x = keras.layers.Reshape((*shape, 1))(inputs) if reshape else inputs
    for n in filters:
        if reshape:
            x = keras.layers.Conv2D(n, (3, 3), padding="same", activation="relu")(x)
            x = keras.layers.MaxPooling2D((2, 2), padding="same")(x)
        else:  # a 1-d block, to test the "no Conv2D" message
            x = keras.layers.Conv1D(n, 3, padding="same", activation="relu")(x)
            x = keras.layers.MaxPooling1D(2, padding="same")(x)
        if batchnorm:
            x = keras.layers.BatchNormalization()(x)
    pool = keras.layers.GlobalAveragePooling2D() if reshape else keras.layers.GlobalAveragePooling1D()
    x = pool(x) if head == "global" else keras.layers.Dense(256, activation="relu")(keras.layers.Flatten()(x))
    outputs = keras.layers.Dense(units or n_labels, activation=activation)(x)
    model = keras.Model(inputs, outputs)
    if compile:
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def segments():
    rng = np.random.default_rng(0)
    return dict(segments=rng.normal(size=(20, 130, 13)).astype("float32"), labels=np.repeat(["a", "b", "c", "d"], 5),
                quiet=True)


def test_check_cnn_block_right(segments):
    check = ml.exercises.check_cnn_block
    model = _cnn(n_labels=4)
    before = [w.copy() for w in model.get_weights()]
    feedback = check(model, **segments)
    assert feedback.right and "loss" in str(feedback) and "4 labels" in str(feedback), feedback
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # trained a copy only


def test_check_cnn_block_wrong(segments):
    check = ml.exercises.check_cnn_block
    cases = {
        "swapped": (_cnn((13, 130), 4), "swapped"),
        "units": (_cnn(n_labels=3), "Dense(4"),
        "linear": (_cnn(n_labels=4, activation="linear"), "softmax"),
        "no batchnorm": (_cnn(n_labels=4, batchnorm=False), "BatchNormalization"),
        "no conv2d": (_cnn(n_labels=4, reshape=False), "Conv2D"),
        "too big": (_cnn(n_labels=4, head="flatten"), "GlobalAveragePooling2D"),
        "too small": (_cnn(n_labels=4, filters=(2,)), "more filters"),
        "not compiled": (_cnn(n_labels=4, compile=False), "compile"),
    }
    for name, (model, words) in cases.items():
        feedback = check(model, **segments)
        assert feedback.status == "wrong" and words in str(feedback), (name, str(feedback))
    assert check("a model", **segments).status == "wrong"
    assert check(None, **segments).status == "wrong"
    assert check(..., **segments).missing


def test_check_cnn_block_copies_an_adapted_normalization(segments):
    import keras

    x = segments["segments"] * 1000.0 + 500.0  # raw MFCC-like scale: without normalising, the loss would explode
    norm = keras.layers.Normalization(axis=-1)
    norm.adapt(x)
    inputs = keras.Input(shape=x.shape[1:])
    h = keras.layers.Reshape((*x.shape[1:], 1))(norm(inputs))
    h = keras.layers.BatchNormalization()(keras.layers.MaxPooling2D(2)(keras.layers.Conv2D(64, 3, activation="relu")(h)))
    outputs = keras.layers.Dense(4, activation="softmax")(keras.layers.GlobalAveragePooling2D()(h))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    feedback = ml.exercises.check_cnn_block(model, segments=x, labels=segments["labels"], quiet=True)
    assert feedback.right, feedback
    assert float(str(feedback).split("loss ")[1].split(" ")[0]) < 3 * np.log(4), feedback
