"""The checks of notebook 07 · Results, on a small hand-made results table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import musiclib as ml


@pytest.fixture
def results():
    return pd.DataFrame({
        "experiment": ["dense_spectral", "cnn_mfcc", "mel_cnn", "lstm_mfcc"],
        "test_accuracy_segment": [0.60, 0.80, 0.75, 0.70],
        "test_accuracy_recording": [0.60, 0.90, 0.80, 0.70],
        "test_accuracy_recording_vote": [0.60, 0.85, 0.80, 0.65],
        "parameters": [12_000, 84_000, 8_000, 57_000],
        "n_test_recordings": [20, 20, 20, 20],
    })


def test_most_efficient(results):
    E = ml.exercises
    assert E.check_most_efficient("mel_cnn", results, quiet=True).right
    assert E.check_most_efficient(" mel_cnn ", results, quiet=True).right
    best = E.check_most_efficient("cnn_mfcc", results, quiet=True)
    assert best.status == "wrong" and "most accurate" in best.message and "parameters" in best.message
    smallest = results.assign(parameters=[5_000, 84_000, 8_000, 57_000])  # smallest is not the winner here
    small = E.check_most_efficient("dense_spectral", smallest.assign(test_accuracy_recording=[0.1, 0.9, 0.8, 0.7]),
                                   quiet=True)
    assert small.status == "wrong" and "smallest" in small.message
    assert "not an experiment" in E.check_most_efficient("resnet", results, quiet=True).message
    assert E.check_most_efficient(..., results, quiet=True).missing
    for bad in (2, ["mel_cnn"], results.iloc[2]):
        feedback = E.check_most_efficient(bad, results, quiet=True)
        assert feedback.status == "wrong" and "string" in feedback.message


def test_vote_gain(results):
    E = ml.exercises
    gain = results["test_accuracy_recording_vote"] - results["test_accuracy_segment"]
    assert E.check_vote_gain(gain, results, quiet=True).right
    assert E.check_vote_gain(gain.to_numpy(), results, quiet=True).right
    by_name = gain.set_axis(results["experiment"])
    assert E.check_vote_gain(by_name.iloc[::-1], results, quiet=True).right  # aligned by name
    reversed_ = E.check_vote_gain(-gain, results, quiet=True)
    assert reversed_.status == "wrong" and "reversed" in reversed_.message
    mean = E.check_vote_gain(results["test_accuracy_recording"] - results["test_accuracy_segment"], results,
                             quiet=True)
    assert mean.status == "wrong" and "test_accuracy_recording_vote" in mean.message
    assert "%" in E.check_vote_gain(100 * gain, results, quiet=True).message
    assert "shape" in E.check_vote_gain(gain[:2], results, quiet=True).message
    assert E.check_vote_gain(..., results, quiet=True).missing
    for bad in ("0.1", [0.1, "x"]):
        assert E.check_vote_gain(bad, results, quiet=True).status == "wrong"
    unchanged = results.assign(test_accuracy_recording_vote=results["test_accuracy_segment"])
    assert E.check_vote_gain(np.zeros(len(results)), unchanged, quiet=True).right  # all zero: no % confusion


def test_within_noise(results, capsys):
    E = ml.exercises
    p, n = 0.9, 20
    se = np.sqrt(p * (1 - p) / n)  # 0.067: 0.766 and up
    assert p - 2 * se == pytest.approx(0.7658, abs=1e-3)
    feedback = E.check_within_noise(["cnn_mfcc", "mel_cnn"], results)
    assert feedback.right and capsys.readouterr().out.startswith("✓ Exercise 07.3")
    assert E.check_within_noise(pd.Series(["mel_cnn", "cnn_mfcc"]), results, quiet=True).right
    without_best = E.check_within_noise(["mel_cnn"], results, quiet=True)
    assert without_best.status == "wrong" and "missing" in without_best.message and "sqrt" in without_best.message
    too_many = E.check_within_noise(["cnn_mfcc", "mel_cnn", "lstm_mfcc"], results, quiet=True)
    assert too_many.status == "wrong" and "should not be there" in too_many.message
    assert E.check_within_noise(..., results, quiet=True).missing
    for bad in ("cnn_mfcc", 3):
        assert E.check_within_noise(bad, results, quiet=True).status == "wrong"
    perfect = results.assign(test_accuracy_recording=[1.0, 1.0, 0.95, 0.7])  # se 0: ties only
    assert E.check_within_noise({"dense_spectral", "cnn_mfcc"}, perfect, quiet=True).right


def test_empty_table_is_feedback_not_an_error():
    empty = pd.DataFrame(columns=["experiment", "test_accuracy_recording", "parameters"])
    assert ml.exercises.check_most_efficient("x", empty, quiet=True).status == "wrong"
    assert ml.exercises.check_vote_gain([0.1], empty, quiet=True).status == "wrong"
    assert ml.exercises.check_within_noise(["x"], empty, quiet=True).status == "wrong"
