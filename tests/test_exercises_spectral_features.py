"""Checks of notebook 02's exercises: right, typical wrong, missing and wrong-type answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import musiclib as ml
from musiclib.exercises import spectral_features as ex

SR = 22050


@pytest.fixture(scope="module")
def signal():
    """Two seconds of a harmonic tone plus a little noise: a centroid that varies per frame."""
    rng = np.random.default_rng(0)
    t = np.arange(2 * SR) / SR
    y = sum(np.sin(2 * np.pi * 220 * k * t) / k for k in range(1, 6)) + 0.05 * rng.standard_normal(t.size)
    return (0.2 * y).astype(np.float32)


def _centroid(y, config, power=1):
    import librosa

    S = np.abs(librosa.stft(y, n_fft=config.n_fft, hop_length=config.hop_length)) ** power
    freqs = librosa.fft_frequencies(sr=config.sample_rate, n_fft=config.n_fft)
    return (freqs[:, None] * S).sum(axis=0) / S.sum(axis=0)


def test_centroid_by_hand(signal):
    config = ml.features.FeatureConfig()
    check = ex.check_centroid_by_hand
    assert check(_centroid(signal, config), signal, config, quiet=True).right
    assert check(_centroid(signal, config)[None, :], signal, config, quiet=True).right  # (1, frames)
    power = check(_centroid(signal, config, power=2), signal, config, quiet=True)
    assert power.status == "wrong" and "magnitude" in power.message
    unnormalised = check(_centroid(signal, config) * 3, signal, config, quiet=True)
    assert unnormalised.status == "wrong" and "divide" in unnormalised.message
    short = check(_centroid(signal, config)[:-3], signal, config, quiet=True)
    assert short.status == "wrong" and "shape" in short.message
    assert check(..., signal, config, quiet=True).missing
    for bad in ("centroid", [1.0, 2.0]):
        assert check(bad, signal, config, quiet=True).status == "wrong"


def _flatness_table():
    return pd.DataFrame({
        "label": ["a"] * 3 + ["b"] * 3 + ["c"] * 2,
        "spectral_flatness_mean": [0.01, 0.02, 0.9, 0.05, 0.06, 0.07, 0.5, 0.6],
    })


def test_flatter_style_follows_the_medians():
    table = _flatness_table()  # a's mean is higher (an outlier), b's median is higher
    check = ex.check_flatter_style
    assert check("b", table, pair=("a", "b"), quiet=True).right
    assert check(" B ", table, pair=("a", "b"), quiet=True).right
    wrong = check("a", table, pair=("a", "b"), quiet=True)
    assert wrong.status == "wrong" and "median" in wrong.message
    assert check("c", table, pair=("a", "c"), quiet=True).right
    assert check("c", table, pair=("a", "b"), quiet=True).status == "wrong"  # not one of the pair
    assert check(..., table, pair=("a", "b"), quiet=True).missing
    assert check(["b"], table, pair=("a", "b"), quiet=True).status == "wrong"


def _results(accuracies, n_test=12):
    return pd.DataFrame({"model": list(accuracies), "test_accuracy": list(accuracies.values()),
                         "n_test": n_test})


def test_accuracy_shift():
    baseline = _results({"logistic_regression": 0.5, "random_forest": 0.75, "dense_net": 0.6})
    resplit = _results({"logistic_regression": 0.75, "random_forest": 0.7})
    check = ex.check_accuracy_shift
    right = check(0.25, baseline, resplit, quiet=True)
    assert right.right and "12 test clips" in right.message
    assert check(np.float64(0.25), baseline, resplit, quiet=True).right
    percent = check(25, baseline, resplit, quiet=True)
    assert percent.status == "wrong" and "fraction" in percent.message
    signed = check(-0.25, baseline, resplit, quiet=True)
    assert signed.status == "wrong" and "absolute" in signed.message
    assert check(0.05, baseline, resplit, quiet=True).status == "wrong"  # the smallest change, not largest
    assert check(..., baseline, resplit, quiet=True).missing
    assert check(0.25, baseline, ..., quiet=True).missing
    assert check("0.25", baseline, resplit, quiet=True).status == "wrong"
    not_a_table = check(0.25, baseline, [0.75, 0.7], quiet=True)
    assert not_a_table.status == "wrong" and "compare_classifiers" in not_a_table.message
    other_models = check(0.25, baseline, _results({"svm": 0.9}), quiet=True)
    assert other_models.status == "wrong"


def test_mean_std_columns(capsys):
    columns = ml.features.summary_columns("spectral")
    table = pd.DataFrame(np.zeros((2, len(columns))), columns=columns).assign(label=["a", "b"])
    check = ex.check_mean_std_columns
    assert check(columns, table).right
    assert "✓ Exercise 02.4" in capsys.readouterr().out
    means = check([c for c in columns if c.endswith("_mean")], table, quiet=True)
    assert means.status == "wrong" and "stats" in means.message
    assert check(columns + ["label"], table, quiet=True).status == "wrong"
    assert check(..., table, quiet=True).missing
    assert check("spectral", table, quiet=True).status == "wrong"


def test_checks_are_registered():
    catalogue = ml.exercises.catalogue()
    assert {"02.1", "02.2", "02.3", "02.4"} <= set(catalogue["exercise"])
    assert set(ex.__all__) <= set(ml.exercises.__all__)


@pytest.fixture(scope="module")
def sides():
    """A small clip-feature table cut by ml.baselines.split_table: 7 features, 3 labels."""
    rng = np.random.default_rng(1)
    columns = [f"f{k}" for k in range(7)]
    table = pd.DataFrame(rng.normal(size=(30, 7)) * [1, 10, 100, 1000, 1, 1, 1], columns=columns)
    table["label"] = ["a", "b", "c"] * 10
    table["group"] = [f"g{k}" for k in range(30)]
    table["split"] = ["train"] * 18 + ["valid"] * 6 + ["test"] * 6
    return ml.baselines.split_table(table, columns)


def _dense_net(sides, widths=(128, 64, 32, 16), *, n_inputs=None, n_outputs=None, activation="softmax",
               normalise=True):
    import keras

    inputs = keras.Input((n_inputs or len(sides.columns),))
    x = ml.models.normalization_layer(sides.x["train"])(inputs) if normalise and not n_inputs else inputs
    for width in widths:
        x = keras.layers.Dense(width, activation="relu")(x)
    outputs = keras.layers.Dense(n_outputs or len(sides.classes), activation=activation)(x)
    return keras.Model(inputs, outputs)


def test_one_more_layer_right_and_trained_one_epoch(sides):
    check = ex.check_one_more_layer
    right = check(_dense_net(sides), sides, quiet=True)
    assert right.right and "4 hidden layers" in right.message and "18 training clips" in right.message
    assert check(_dense_net(sides, (64, 32, 16)), sides, hidden_layers=3, quiet=True).right


def test_one_more_layer_typical_slips(sides):
    check = ex.check_one_more_layer
    source = check(_dense_net(sides, (128, 64, 32)), sides, quiet=True)  # the source's net, no layer added
    assert source.status == "wrong" and "3 hidden Dense layers" in source.message
    inputs = check(_dense_net(sides, n_inputs=13), sides, quiet=True)
    assert inputs.status == "wrong" and "keras.Input((7,))" in inputs.message
    outputs = check(_dense_net(sides, n_outputs=10), sides, quiet=True)
    assert outputs.status == "wrong" and "one per label" in outputs.message
    relu = check(_dense_net(sides, activation="relu"), sides, quiet=True)
    assert relu.status == "wrong" and "softmax" in relu.message
    unnormalised = check(_dense_net(sides, normalise=False), sides, quiet=True)
    assert unnormalised.status == "wrong" and "Normalization" in unnormalised.message
    huge = check(_dense_net(sides, (1024, 512, 256, 128)), sides, quiet=True)
    assert huge.status == "wrong" and "parameters" in huge.message


def test_one_more_layer_missing_and_wrong_types(sides):
    check = ex.check_one_more_layer
    assert check(..., sides, quiet=True).missing
    not_a_model = check([128, 64, 32, 16], sides, quiet=True)
    assert not_a_model.status == "wrong" and "keras.Model" in not_a_model.message
    assert "02.5" in set(ml.exercises.catalogue()["exercise"])
