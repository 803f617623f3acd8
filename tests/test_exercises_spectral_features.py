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
