"""Repeated evaluation: folds by recording, intervals, paired comparisons and their CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

import musiclib as ml
from musiclib import cli
from musiclib.errors import MusiclibError


def _manifest(labels=4, recordings=6, clips=3):
    rows = [{"track_id": f"{lab}-{r}-{c}", "label": f"l{lab}", "group": f"l{lab}-r{r}"}
            for lab in range(labels) for r in range(recordings) for c in range(clips)]
    return pd.DataFrame(rows)


def _recordings(correct, *, fold=None, y_true=None, segments=1):
    correct = np.asarray(correct, dtype=bool)
    n = len(correct)
    y = np.zeros(n, dtype=int) if y_true is None else np.asarray(y_true)
    pred = np.where(correct, y, (y + 1) % 3)
    return pd.DataFrame({
        "fold": np.arange(n) % 5 if fold is None else fold, "group": [f"r{i}" for i in range(n)], "y_true": y,
        "y_pred": pred, "y_pred_vote": pred, "segments": segments, "segments_correct": correct * segments,
    })


# ------------------------------------------------------------------------------ splits


def test_folds_partition_the_recordings_and_test_every_label():
    manifest = _manifest()
    folds = ml.splits.fold_splits(manifest, folds=3, seed=1)
    assert len(folds) == 3
    tested = pd.concat([f[f["split"] == "test"] for f in folds])
    assert sorted(tested["track_id"]) == sorted(manifest["track_id"])  # every clip tested exactly once
    for f in folds:
        ml.splits.check_no_leakage(f)
        assert (f.index == manifest.index).all()
        for side in ("train", "valid", "test"):
            assert set(f.loc[f["split"] == side, "label"]) == set(manifest["label"]), side
    again = ml.splits.fold_splits(manifest, folds=3, seed=1)
    assert all(a["split"].equals(b["split"]) for a, b in zip(folds, again))
    other = ml.splits.fold_splits(manifest, folds=3, seed=2)
    assert any(not a["split"].equals(b["split"]) for a, b in zip(folds, other))


def test_too_few_recordings_for_the_folds_is_a_one_line_error():
    manifest = _manifest(recordings=6)
    manifest = manifest[~((manifest["label"] == "l2") & (manifest["group"] > "l2-r3"))]  # l2 keeps 4
    with pytest.raises(MusiclibError, match=r"5 folds need at least 5 recordings per label.*'l2' has 4") as err:
        ml.splits.fold_splits(manifest, folds=5)
    assert "\n" not in str(err.value)
    with pytest.raises(MusiclibError, match="at least 2"):
        ml.splits.fold_splits(manifest, folds=1)


def test_repeated_splits_differ_and_each_splits_by_recording():
    manifest = _manifest()
    repeats = ml.splits.repeated_splits(manifest, repeats=3, seed=0)
    assert len(repeats) == 3
    for r in repeats:
        ml.splits.check_no_leakage(r)
    assert not repeats[0]["split"].equals(repeats[1]["split"])


# --------------------------------------------------------------------------- intervals


def test_interval_of_a_known_proportion():
    # 70 of 100 independent recordings right: the 95% interval is close to the normal
    # approximation 0.70 +- 1.96 * sqrt(0.7 * 0.3 / 100) = 0.61 to 0.79
    rng = np.random.default_rng(0)
    summary = ml.evaluate.interval_summary(_recordings(rng.permutation([True] * 70 + [False] * 30)))
    assert summary["test_accuracy_recording_mean"] == pytest.approx(0.70)
    assert summary["test_accuracy_recording_ci_low"] == pytest.approx(0.61, abs=0.02)
    assert summary["test_accuracy_recording_ci_high"] == pytest.approx(0.79, abs=0.02)
    assert summary["n_test_recordings"] == 100 and summary["folds"] == 5
    assert "bootstrap over test recordings" in summary["interval"]


def test_interval_is_degenerate_when_every_recording_agrees_and_narrows_with_more_recordings():
    assert ml.evaluate.interval_summary(_recordings([True] * 20))["test_accuracy_recording_ci_low"] == 1.0
    small = ml.evaluate.interval_summary(_recordings([True, False] * 10))
    large = ml.evaluate.interval_summary(_recordings([True, False] * 200))
    width = {k: s["test_accuracy_recording_ci_high"] - s["test_accuracy_recording_ci_low"]
             for k, s in (("small", small), ("large", large))}
    assert width["large"] < width["small"] / 3


def test_segments_of_one_recording_are_resampled_together():
    # 20 recordings of 10 segments, each recording all right or all wrong: 200 segments but
    # only 20 independent units, so the segment interval is as wide as the recording one.
    summary = ml.evaluate.interval_summary(_recordings([True, False] * 10, segments=10))
    seg = summary["test_accuracy_segment_ci_high"] - summary["test_accuracy_segment_ci_low"]
    rec = summary["test_accuracy_recording_ci_high"] - summary["test_accuracy_recording_ci_low"]
    assert seg == pytest.approx(rec, abs=0.05) and seg > 0.3


def test_macro_f1_matches_scikit_learn():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 60)
    rec = _recordings(rng.random(60) < 0.6, y_true=y)
    summary = ml.evaluate.interval_summary(rec)
    assert summary["macro_f1_mean"] == pytest.approx(f1_score(rec["y_true"], rec["y_pred"], average="macro"))
    assert summary["macro_f1_ci_low"] < summary["macro_f1_mean"] < summary["macro_f1_ci_high"]


def test_recording_predictions_from_segment_probabilities():
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.45, 0.55], [0.2, 0.8], [0.3, 0.7]])
    rec = ml.evaluate.recording_predictions(proba, np.array([0, 0, 0, 1, 1]), ["a", "a", "a", "b", "b"], fold=2)
    assert list(rec["group"]) == ["a", "b"] and (rec["fold"] == 2).all()
    assert list(rec["y_pred"]) == [0, 1]  # mean probability: a = (0.58, 0.42)
    assert list(rec["y_pred_vote"]) == [1, 1]  # two of a's three segments say 1
    assert list(rec["segments"]) == [3, 2] and list(rec["segments_correct"]) == [1, 2]


# -------------------------------------------------------------------------- comparisons


def test_paired_comparison_of_a_clear_winner_and_of_a_tie():
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 3, 80)
    a = _recordings(np.ones(80, dtype=bool), y_true=truth)
    b = _recordings(np.arange(80) % 2 == 0, y_true=truth)
    win = ml.evaluate.paired_comparison(a, b, names=("deep", "baseline"))
    assert win.difference == pytest.approx(0.5) and win.ci_low > 0.3 and win.resolved and win.winner == "deep"
    assert win.a_only == 40 and win.b_only == 0 and len(win.fold_differences) == 5
    assert ml.evaluate.describe(win).startswith("deep beats baseline by 0.50 in recording accuracy (95% interval")
    lose = ml.evaluate.paired_comparison(b, a, names=("baseline", "deep"))
    sentence = ml.evaluate.describe(lose)  # said from the winner's side, with a positive interval
    assert sentence.startswith("deep beats baseline by 0.50") and f"{-lose.ci_high:.2f} to {-lose.ci_low:.2f}" in sentence
    tie = ml.evaluate.paired_comparison(b, b.copy(), names=("x", "y"))
    assert not tie.resolved and tie.winner is None
    assert "not told apart" in ml.evaluate.describe(tie) and "includes 0" in ml.evaluate.describe(tie)
    assert json.dumps(win.to_dict())


def test_pairing_is_tighter_than_two_separate_intervals():
    # b is a with 8 of 100 recordings flipped to wrong: the paired interval sees the 8,
    # two unpaired intervals (each ~ +-0.09) overlap completely
    a = _recordings(np.arange(100) % 4 != 0)
    flipped = a["y_pred"].to_numpy().copy()
    right = np.flatnonzero(a["y_pred"] == a["y_true"])[:8]
    flipped[right] = (flipped[right] + 1) % 3
    b = a.assign(y_pred=flipped)
    c = ml.evaluate.paired_comparison(a, b)
    assert c.difference == pytest.approx(0.08) and c.resolved
    sa, sb = ml.evaluate.interval_summary(a), ml.evaluate.interval_summary(b)
    assert sa["test_accuracy_recording_ci_low"] < sb["test_accuracy_recording_ci_high"]  # unpaired: overlap


def test_comparison_refuses_different_folds():
    a = _recordings([True] * 10)
    with pytest.raises(ValueError, match="same folds"):
        ml.evaluate.paired_comparison(a, a.assign(fold=0))
    with pytest.raises(ValueError, match="metric"):
        ml.evaluate.paired_comparison(a, a, metric="loss")


# ------------------------------------------------------------------ experiments and CLI


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("folds")
    return ml.config.settings(profile="tiny", data_dir=root / "data", build_dir=root / "build", seed=0)


def test_run_folds_tests_every_recording_once_and_keeps_one_row_per_fold(tiny):
    result = ml.experiments.run_folds("logreg_clip", settings=tiny, folds=3, jobs=1)
    manifest = ml.datasets.load("synthetic", settings=tiny).manifest
    assert result.recordings["group"].is_unique
    assert set(result.recordings["group"]) == set(manifest["group"].astype(str))
    assert list(result.rows["fold"]) == [0, 1, 2] and (result.rows["folds"] == 3).all()
    s = result.summary
    assert s["folds"] == 3 and s["n_test_recordings"] == manifest["group"].nunique()
    assert s["test_accuracy_recording_ci_low"] <= s["test_accuracy_recording_mean"] <= s["test_accuracy_recording_ci_high"]
    stored = pd.read_csv(tiny.results_dir / "experiments.csv")
    assert sorted(stored.loc[stored["experiment"] == "logreg_clip", "fold"]) == [0, 1, 2]
    table = ml.experiments.folds_table([result])
    assert table.loc[0, "source"] == "baseline" and table.loc[0, "folds"] == 3
    # the same folds again are read back, not trained again
    assert ml.experiments.run_folds("logreg_clip", settings=tiny, folds=3, jobs=1).recordings.equals(result.recordings)


def test_stored_folds_keep_only_the_recipe_as_it_stands(tiny):
    ml.experiments.run_folds("forest_clip", settings=tiny, folds=2, jobs=1)
    other = ml.experiments.run_folds("forest_clip", settings=tiny, folds=2, jobs=1, balance="class_weight")
    assert (other.rows["balance"] == "class_weight").all()  # kept, under its own name
    stored = [r for r in ml.experiments.stored_folds(tiny) if r.experiment == "forest_clip"]
    assert len(stored) == 1 and (stored[0].rows["balance"] == "none").all()


def test_baselines_are_named_experiments_without_a_bundle(tiny):
    names = ml.experiments.names()
    assert {"logreg_clip", "forest_clip"} <= set(names)
    result = ml.experiments.run("forest_clip", settings=tiny, jobs=1)
    assert result.bundle is None and result.row["parameters"] > 0
    assert result.row["test_accuracy_recording_ci_low"] <= result.row["test_accuracy_recording"]
    assert "forest_clip" in set(ml.experiments.summary(tiny)["experiment"])
    with pytest.raises(MusiclibError, match="clip inputs"):
        ml.experiments.Experiment(name="x", title="x", source="x", reported=None, inputs="segments",
                                  features=("mfcc",), builder="logistic_regression")


def test_cli_train_folds_json_and_compare(tiny, capsys, monkeypatch):
    monkeypatch.setenv("MUSICLIB_DATA_DIR", str(tiny.data_dir))
    monkeypatch.setenv("MUSICLIB_BUILD_DIR", str(tiny.build_dir))
    monkeypatch.setenv("MUSICLIB_PROFILE", "tiny")
    assert cli.main(["train", "synthetic", "--experiment", "forest_clip", "--folds", "2", "--json", "--jobs", "1"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for metric in ("test_accuracy_recording", "test_accuracy_segment", "macro_f1"):
        assert out[f"{metric}_ci_low"] <= out[f"{metric}_mean"] <= out[f"{metric}_ci_high"]
    assert [row["fold"] for row in out["per_fold"]] == [0, 1] and out["folds"] == 2
    assert cli.main(["compare", "synthetic", "forest_clip", "logreg_clip", "--folds", "2", "--json", "--jobs", "1"]) == 0
    cmp_ = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert cmp_["a"] == "forest_clip" and cmp_["ci_low"] <= cmp_["difference"] <= cmp_["ci_high"]
    assert cmp_["folds"] == 2 and cmp_["sentence"].endswith(".")
    assert cli.main(["compare", "synthetic", "forest_clip", "logreg_clip", "--folds", "2", "--jobs", "1", "-q"]) == 0
    assert "forest_clip" in capsys.readouterr().out
    assert cli.main(["train", "synthetic", "--experiment", "cnn_mfcc", "--folds", "9", "--jobs", "1"]) != 0
    assert "9 folds need at least 9 recordings per label" in capsys.readouterr().err
