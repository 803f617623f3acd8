"""Checks of notebook 03's exercises: right, typical wrong, missing and wrong-type answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import musiclib as ml
from musiclib.exercises import mfcc_chroma_mel as ex

SR = 22050


@pytest.fixture(scope="module")
def clip_features():
    """Frame features of a short chord with a fade-out: a log-mel range beyond 80 dB."""
    t = np.arange(2 * SR) / SR
    y = sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0)) * np.exp(-3 * t)
    return ml.features.frame_features((0.2 * y).astype(np.float32), features=["mel", "mfcc"])


def _mfcc(mel, top_db=80.0, norm="ortho", axis=0):
    import librosa
    import scipy.fft

    return scipy.fft.dct(librosa.power_to_db(mel, top_db=top_db), type=2, norm=norm, axis=axis)[:13]


def test_mfcc_by_hand(clip_features):
    config = ml.features.FeatureConfig()
    check = ex.check_mfcc_by_hand
    mel = clip_features["mel"]
    assert check(_mfcc(mel), clip_features, config, quiet=True).right
    no_floor = check(_mfcc(mel, top_db=None), clip_features, config, quiet=True)
    assert no_floor.status == "wrong" and "one step" in no_floor.message and "top_db" in no_floor.message
    no_ortho = check(_mfcc(mel, norm=None), clip_features, config, quiet=True)
    assert no_ortho.status == "wrong" and "one step" in no_ortho.message and "orthonormal" in no_ortho.message
    transposed = check(_mfcc(mel).T, clip_features, config, quiet=True)
    assert transposed.status == "wrong" and "transposed" in transposed.message
    import librosa
    import scipy.fft

    all_rows = check(scipy.fft.dct(librosa.power_to_db(mel, top_db=80.0), type=2, norm="ortho", axis=0),
                     clip_features, config, quiet=True)
    assert all_rows.status == "wrong" and "first 13 rows" in all_rows.message
    assert check(..., clip_features, config, quiet=True).missing
    for bad in ("mfcc", [1, 2, 3]):
        assert check(bad, clip_features, config, quiet=True).status == "wrong"


def _family_table(n_per_class=10, seed=0):
    """Two labels that differ in the 'timbre' columns only; 'harmony' columns are noise."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(["a", "b"], n_per_class)
    timbre = rng.normal(size=(2 * n_per_class, 3)) + 3.0 * (labels == "b")[:, None]
    harmony = rng.normal(size=(2 * n_per_class, 3))
    table = pd.DataFrame(np.hstack([timbre, harmony]), columns=["t1", "t2", "t3", "h1", "h2", "h3"])
    return table.assign(label=labels, group=[f"r{i}" for i in range(2 * n_per_class)], split="train")


def test_better_family():
    table = _family_table()
    families = {"MFCC": ["t1", "t2", "t3"], "chroma": ["h1", "h2", "h3"]}
    check = ex.check_better_family
    right = check("MFCC", table, pair=("a", "b"), families=families, quiet=True)
    assert right.right and "0.5 is chance" in right.message
    assert check("mfcc", table, pair=("a", "b"), families=families, quiet=True).right
    wrong = check("chroma", table, pair=("a", "b"), families=families, quiet=True)
    assert wrong.status == "wrong" and "pair_separability" in wrong.message
    assert check("mel", table, pair=("a", "b"), families=families, quiet=True).status == "wrong"
    assert check(..., table, pair=("a", "b"), families=families, quiet=True).missing
    assert check(0, table, pair=("a", "b"), families=families, quiet=True).status == "wrong"


def _selection():
    return pd.DataFrame({
        "step": [1, 2, 3, 4],
        "added": ["mfcc", "spectral", "chroma", "mel"],
        "cv_accuracy_mean": [0.7, 0.82, 0.83, 0.81],
        "sufficient": [False, True, True, False],
    })


def test_smallest_set():
    selection = _selection()
    check = ex.check_smallest_set
    assert check(["mfcc", "spectral"], selection, quiet=True).right
    assert check(("spectral", "mfcc"), selection, quiet=True).right  # order ignored
    best = check(["mfcc", "spectral", "chroma"], selection, quiet=True)  # the best step, not the first sufficient
    assert best.status == "wrong" and "sufficient" in best.message
    assert check(["mfcc"], selection, quiet=True).status == "wrong"
    assert check(..., selection, quiet=True).missing
    assert check(["mfcc"], ..., quiet=True).missing
    assert check("mfcc", selection, quiet=True).status == "wrong"
    not_a_table = check(["mfcc"], [1, 2], quiet=True)
    assert not_a_table.status == "wrong" and "forward_selection" in not_a_table.message


def test_rotated_chroma(capsys):
    rng = np.random.default_rng(1)
    means = pd.DataFrame(rng.random((6, 12)), columns=[f"chroma_{k:02d}_mean" for k in range(1, 13)])
    rows = means.to_numpy()
    rotated = np.stack([np.roll(row, -np.argmax(row)) for row in rows])
    check = ex.check_rotated_chroma
    assert check(rotated, means).right
    assert "✓ Exercise 03.4" in capsys.readouterr().out
    assert np.allclose(rotated[:, 0], rows.max(axis=1))
    backwards = check(np.stack([np.roll(row, np.argmax(row)) for row in rows]), means, quiet=True)
    assert backwards.status == "wrong" and "wrong way" in backwards.message
    ordered = check(-np.sort(-rows, axis=1), means, quiet=True)
    assert ordered.status == "wrong" and "sorted" in ordered.message
    unrotated = check(rows, means, quiet=True)
    assert unrotated.status == "wrong" and "np.roll" in unrotated.message
    assert check(rotated.T, means, quiet=True).status == "wrong"
    assert check(..., means, quiet=True).missing
    for bad in ("rotated", [[1, 2], [3]]):
        assert check(bad, means, quiet=True).status == "wrong"


def test_checks_are_registered():
    catalogue = ml.exercises.catalogue()
    assert {"03.1", "03.2", "03.3", "03.4"} <= set(catalogue["exercise"])
    assert set(ex.__all__) <= set(ml.exercises.__all__)


def _dropout_net(sides, rates=(0.3, 0.3, 0.3), widths=(128, 64, 32)):
    import keras

    inputs = keras.Input((len(sides.columns),))
    x = ml.models.normalization_layer(sides.x["train"])(inputs)
    for width, rate in zip(widths, rates):
        x = keras.layers.Dense(width, activation="relu")(x)
        if rate is not None:
            x = keras.layers.Dropout(rate)(x)
    outputs = keras.layers.Dense(len(sides.classes), activation="softmax")(x)
    return keras.Model(inputs, outputs)


def test_dropout_net():
    rng = np.random.default_rng(2)
    columns = [f"f{k}" for k in range(36)]
    table = pd.DataFrame(rng.normal(size=(30, 36)), columns=columns)
    table["label"] = ["a", "b", "c"] * 10
    table["group"] = [f"g{k}" for k in range(30)]
    table["split"] = ["train"] * 18 + ["valid"] * 6 + ["test"] * 6
    sides = ml.baselines.split_table(table, columns)
    right = ex.check_dropout_net(_dropout_net(sides), sides, quiet=True)
    assert right.right and "dropout 0.3 after each" in right.message
    none = ex.check_dropout_net(_dropout_net(sides, rates=(None, None, None)), sides, quiet=True)
    assert none.status == "wrong" and "Dropout(0.3)" in none.message
    other_rate = ex.check_dropout_net(_dropout_net(sides, rates=(0.5, 0.5, 0.5)), sides, quiet=True)
    assert other_rate.status == "wrong" and "0.5" in other_rate.message
    deeper = ex.check_dropout_net(_dropout_net(sides, rates=(0.3,) * 4, widths=(128, 64, 32, 16)), sides, quiet=True)
    assert deeper.status == "wrong" and "hidden Dense layers" in deeper.message
    assert ex.check_dropout_net(..., sides, quiet=True).missing
    assert "03.5" in set(ml.exercises.catalogue()["exercise"])
