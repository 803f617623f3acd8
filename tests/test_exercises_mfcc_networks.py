"""Checks of notebook 05 · Networks on MFCC segments: right, not yet, no answer, never a traceback."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import musiclib as ml


def _results():
    return pd.DataFrame({"experiment": ["ann_mfcc", "ann_mfcc_regularized", "cnn_mfcc", "lstm_mfcc"],
                         "parameters": [1_014_218, 1_014_218, 84_234, 57_802]})


def test_check_parameter_extremes():
    results, check = _results(), ml.exercises.check_parameter_extremes
    assert check("ann_mfcc", "lstm_mfcc", results, quiet=True).right
    tied = check(" ANN_mfcc_regularized ", "lstm_mfcc", results, quiet=True)  # either of a tie
    assert tied.right and "tied with ann_mfcc" in str(tied)
    swapped = check("lstm_mfcc", "ann_mfcc", results, quiet=True)
    assert swapped.status == "wrong" and "not the most" in str(swapped) and "parameters" in str(swapped)
    cnn = check("ann_mfcc", "cnn_mfcc", results, quiet=True)
    assert cnn.status == "wrong" and "not the fewest" in str(cnn)
    unknown = check("ann", "lstm_mfcc", results, quiet=True)
    assert unknown.status == "wrong" and "not an experiment" in str(unknown)
    assert check(1_014_218, "lstm_mfcc", results, quiet=True).status == "wrong"
    assert check(["ann_mfcc"], "lstm_mfcc", results, quiet=True).status == "wrong"
    assert check(..., "lstm_mfcc", results, quiet=True).missing and check("ann_mfcc", ..., results, quiet=True).missing


@pytest.fixture(scope="module")
def layers():
    import keras

    dense = keras.layers.Dense(8, name="dense_1")
    dense.build((None, 20))
    conv = keras.layers.Conv2D(4, (3, 3), name="conv_1")
    conv.build((None, 10, 10, 1))
    return dict(dense_layer=dense, conv_layer=conv, quiet=True)


def test_check_layer_parameters(layers):
    check = ml.exercises.check_layer_parameters
    assert check(20 * 8 + 8, 3 * 3 * 1 * 4 + 4, **layers).right
    no_bias = check(20 * 8, 40, **layers)
    assert no_bias.status == "wrong" and "biases" in str(no_bias)
    conv_no_bias = check(168, 36, **layers)
    assert conv_no_bias.status == "wrong" and "biases" in str(conv_no_bias)
    wrong_dense = check(20 * 8 * 2, 40, **layers)
    assert wrong_dense.status == "wrong" and "inputs x units" in str(wrong_dense)
    wrong_conv = check(168, 9 * 4 * 4 + 4, **layers)
    assert wrong_conv.status == "wrong" and "kernel height x width" in str(wrong_conv)
    assert check(..., 40, **layers).missing and check(168, ..., **layers).missing
    assert check("168", 40, **layers).status == "wrong"
    assert check([168], [40, 1], **layers).status == "wrong"


@pytest.fixture(scope="module")
def deeper():
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = {side: rng.normal(size=(n, 6, 3)).astype(np.float32) for side, n in (("train", 12), ("test", 12))}
    y = {"train": np.repeat([0, 1], 6), "test": np.repeat([0, 1], 6)}
    meta = {side: pd.DataFrame({"group": np.repeat([f"{side}{i}" for i in range(4)], 3)}) for side in x}
    data = SimpleNamespace(x=x, y=y, meta=meta, labels=["a", "b"])
    model = ml.models.ann_segments(x["train"], 2, units=(16, 32))
    scores = ml.evaluate.evaluate_split(ml.evaluate.predict_proba(model, x["test"]), y["test"], meta["test"]["group"])
    return model, data, scores


def test_check_deeper_ann(deeper):
    model, data, scores = deeper
    check = ml.exercises.check_deeper_ann
    assert check(scores["accuracy_recording"], model=model, data=data, quiet=True).right
    if not np.isclose(scores["accuracy_segment"], scores["accuracy_recording"]):  # seeded: 0.42 and 0.5 here
        segment = check(scores["accuracy_segment"], model=model, data=data, quiet=True)
        assert segment.status == "wrong" and "segment accuracy" in str(segment)
    off = check(scores["accuracy_recording"] + 0.5, model=model, data=data, quiet=True)
    assert off.status == "wrong" and "evaluate_split" in str(off)
    shallow = ml.models.ann_segments(data.x["train"], 2, units=(16,))
    no_layer = check(scores["accuracy_recording"], model=shallow, data=data, quiet=True)
    assert no_layer.status == "wrong" and "units=(512, 256, 64, 32)" in str(no_layer)
    streamed = SimpleNamespace(x=None, y=data.y, meta=data.meta)
    assert check(0.5, model=model, data=streamed, quiet=True).status == "wrong"
    assert check(..., model=..., data=..., quiet=True).missing
    assert check("0.5", model=model, data=data, quiet=True).status == "wrong"
    assert check(0.5, model="a model", data=data, quiet=True).status == "wrong"


@pytest.fixture(scope="module")
def segments():
    rng = np.random.default_rng(0)
    return rng.normal(size=(20, 12, 5)).astype(np.float32), np.arange(20) % 3


def _recurrent(x, n_classes, *, wrap=True, units=32, activation="softmax", compiled=True, loss=None):
    import keras

    inputs = keras.Input(shape=x.shape[1:])
    h = ml.models.normalization_layer(x)(inputs)
    lstm = keras.layers.LSTM(units)
    h = keras.layers.Bidirectional(lstm)(h) if wrap else lstm(h)
    outputs = keras.layers.Dense(n_classes, activation=activation)(h)
    model = keras.Model(inputs, outputs)
    if compiled:
        model.compile(optimizer="adam", loss=loss or "sparse_categorical_crossentropy")
    return model


def test_check_bidirectional_lstm(segments):
    x, y = segments
    check = ml.exercises.check_bidirectional_lstm
    model = _recurrent(x, 3)
    before = [w.copy() for w in model.get_weights()]
    good = check(model, x=x, y=y, n_classes=3, quiet=True)
    assert good.right, good
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # trained a copy
    shape = check(model, x=x[:, :6], y=y, n_classes=3, quiet=True)
    assert shape.status == "wrong" and "input" in str(shape)
    classes = check(model, x=x, y=y, n_classes=4, quiet=True)
    assert classes.status == "wrong" and "output shape" in str(classes)
    relu = check(_recurrent(x, 3, activation="relu"), x=x, y=y, n_classes=3, quiet=True)
    assert relu.status == "wrong" and "softmax" in str(relu)
    plain = check(_recurrent(x, 3, wrap=False), x=x, y=y, n_classes=3, quiet=True)
    assert plain.status == "wrong" and "not wrapped in keras.layers.Bidirectional" in str(plain)
    big = check(_recurrent(x, 3, units=128), x=x, y=y, n_classes=3, quiet=True)
    assert big.status == "wrong" and "trainable parameters" in str(big)
    loose = check(_recurrent(x, 3, compiled=False), x=x, y=y, n_classes=3, quiet=True)
    assert loose.status == "wrong" and "not compiled" in str(loose)
    one_hot = check(_recurrent(x, 3, loss="categorical_crossentropy"), x=x, y=y, n_classes=3, quiet=True)
    assert one_hot.status == "wrong" and "training failed" in str(one_hot)
    assert check("a model", x=x, y=y, n_classes=3, quiet=True).status == "wrong"
    assert check(..., x=x, y=y, n_classes=3, quiet=True).missing


@pytest.mark.parametrize("name", ["05.1", "05.2", "05.3", "05.4"])
def test_registered(name):
    assert name in ml.exercises.REGISTRY
