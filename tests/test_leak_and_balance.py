"""Notebook 04's measurements: overlapping segments, leaky folds of segments beside folds by
recording, their paired comparison by recording, macro-F1 comparisons and a per-class report
that leaves untested classes undefined."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

import musiclib as ml
from musiclib.errors import MusiclibError

# ------------------------------------------------------------------------ overlapping segments


def test_segment_hop_makes_segments_overlap_and_defaults_to_side_by_side():
    cfg = ml.features.FeatureConfig()
    n = cfg.n_frames(10 * cfg.sample_rate)
    side_by_side = ml.features.segment_starts(n, cfg)
    assert np.array_equal(side_by_side, ml.features.segment_starts(n, cfg, hop_seconds=cfg.segment_seconds))
    assert len(side_by_side) == 3
    overlapping = ml.features.segment_starts(n, cfg, hop_seconds=1.0)
    assert len(overlapping) == 8  # starts at 0, 1, ..., 7 s: each 3 s segment fits in 10 s
    assert np.allclose(overlapping * cfg.hop_length / cfg.sample_rate, np.arange(8), atol=cfg.hop_length / cfg.sample_rate)
    assert (overlapping + cfg.frames_per_segment <= n).all()
    frames = np.random.default_rng(0).normal(size=(13, n)).astype(np.float32)
    cut = ml.features.summaries._cut_segments(frames, cfg, hop_seconds=1.0)
    assert cut.shape == (8, cfg.frames_per_segment, 13)
    assert np.array_equal(cut[1], frames[:, overlapping[1]:overlapping[1] + cfg.frames_per_segment].T)
    with pytest.raises(MusiclibError, match="hop_seconds must be positive"):
        ml.features.segment_starts(n, cfg, hop_seconds=0)


# ------------------------------------------------------------------------ leaky folds


def _segments(labels=3, recordings=4, segments=5):
    return pd.DataFrame([{"track_id": f"l{a}-r{r}", "label": f"l{a}", "group": f"l{a}-r{r}", "segment": s}
                         for a in range(labels) for r in range(recordings) for s in range(segments)])


def test_random_segment_folds_test_every_segment_once_and_leak():
    frame = _segments()
    folds = ml.splits.random_segment_folds(frame, folds=4, seed=3)
    assert len(folds) == 4
    tested = np.concatenate([np.flatnonzero(f["split"].to_numpy() == "test") for f in folds])
    assert sorted(tested) == list(range(len(frame)))  # every segment tested exactly once
    for f in folds:
        assert set(f["split"]) == {"train", "valid", "test"}
        assert set(f.loc[f["split"] == "test", "label"]) == set(frame["label"])  # stratified
        assert len(ml.splits.leakage_report(f)) > 0  # on purpose: recordings on several sides
    again = ml.splits.random_segment_folds(frame, folds=4, seed=3)
    assert all(a["split"].equals(b["split"]) for a, b in zip(folds, again))
    with pytest.raises(MusiclibError, match="folds must be between 2"):
        ml.splits.random_segment_folds(frame, folds=1)


# ------------------------------------------------------------------------ comparisons


def test_pairing_by_recording_pools_each_recordings_segments_over_the_folds():
    # a: every segment right; b: half of each recording's 4 segments right; a's rows spread
    # each recording over two folds, b's hold it in one
    groups = [f"r{i}" for i in range(10)]
    a = pd.DataFrame({"fold": [0, 1] * 10, "group": np.repeat(groups, 2), "y_true": 0, "y_pred": 0,
                      "y_pred_vote": 0, "segments": 2, "segments_correct": 2})
    b = pd.DataFrame({"fold": np.arange(10) % 5, "group": groups, "y_true": 0, "y_pred": 0, "y_pred_vote": 0,
                      "segments": 4, "segments_correct": 2})
    c = ml.evaluate.paired_comparison(a, b, names=("leaky", "honest"), metric="accuracy_segment", pair_on="recording")
    assert c.a_score == 1.0 and c.b_score == 0.5 and c.difference == pytest.approx(0.5)
    assert c.ci_low == pytest.approx(0.5) and c.ci_high == pytest.approx(0.5)  # the same gap on every recording
    assert c.n_recordings == 10 and c.folds == 5 and c.a_only == 10 and c.b_only == 0 and c.resolved
    assert ml.evaluate.describe(c).startswith("leaky beats honest by 0.50 in segment accuracy")
    with pytest.raises(ValueError, match="segment accuracy only"):
        ml.evaluate.paired_comparison(a, b, metric="accuracy_recording", pair_on="recording")
    with pytest.raises(ValueError, match="same segments"):
        ml.evaluate.paired_comparison(a, b.assign(segments=3), metric="accuracy_segment", pair_on="recording")
    with pytest.raises(ValueError, match="pair_on"):
        ml.evaluate.paired_comparison(a, b, pair_on="segment")


def test_paired_macro_f1_matches_scikit_learn():
    rng = np.random.default_rng(0)
    n = 60
    y = np.arange(n) % 3
    pa = np.where(rng.random(n) < 0.9, y, (y + 1) % 3)
    pb = np.where(rng.random(n) < 0.5, y, (y + 2) % 3)
    frame = pd.DataFrame({"fold": np.arange(n) % 3, "group": [f"r{i}" for i in range(n)], "y_true": y,
                          "segments": 1})
    a = frame.assign(y_pred=pa, y_pred_vote=pa, segments_correct=(pa == y).astype(int))
    b = frame.assign(y_pred=pb, y_pred_vote=pb, segments_correct=(pb == y).astype(int))
    c = ml.evaluate.paired_comparison(a, b, names=("weighted", "plain"), metric="macro_f1", seed=1)
    expected = f1_score(y, pa, average="macro") - f1_score(y, pb, average="macro")
    assert c.difference == pytest.approx(expected)
    assert c.a_score == pytest.approx(f1_score(y, pa, average="macro"))
    assert c.ci_low <= c.difference <= c.ci_high and c.resolved
    assert len(c.fold_differences) == 3
    fold0 = frame["fold"] == 0
    assert c.fold_differences[0] == pytest.approx(
        f1_score(y[fold0], pa[fold0], average="macro") - f1_score(y[fold0], pb[fold0], average="macro"))
    assert "recording macro-F1" in ml.evaluate.describe(c)


def test_per_class_report_leaves_an_untested_class_undefined():
    labels = ["a", "b", "c"]
    report = ml.evaluate.per_class_report([0, 0, 1, 1], [0, 1, 1, 1], labels)
    assert report.loc["c", "support"] == 0 and np.isnan(report.loc["c", "recall"])
    assert np.isnan(report.loc["c", "precision"])
    assert report.loc["a", "recall"] == 0.5 and report.loc["b", "recall"] == 1.0
    assert report.loc["macro avg", "recall"] == pytest.approx(0.75)  # over the tested classes
    assert report["support"].dtype.kind == "i"


# ------------------------------------------------------------------------ the experiments


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("leak")
    return ml.config.settings(profile="tiny", data_dir=root / "data", build_dir=root / "build", seed=0)


def test_leaky_and_honest_folds_test_the_same_overlapping_segments(tiny):
    honest = ml.experiments.run_folds("cnn_mfcc", settings=tiny, folds=2, segment_hop=1.0, jobs=1)
    leaky = ml.experiments.run_folds("cnn_mfcc", settings=tiny, folds=2, split="segment", segment_hop=1.0, jobs=1)
    manifest = ml.datasets.load("synthetic", settings=tiny).manifest
    assert honest.recordings["group"].is_unique and len(honest.recordings) == manifest["group"].nunique()
    plain = ml.experiments.run_folds("cnn_mfcc", settings=tiny, folds=2, jobs=1)
    # tiny clips of 4 s: one 3 s segment side by side, two with a 1 s hop
    assert honest.recordings["segments"].sum() == 2 * plain.recordings["segments"].sum()
    assert leaky.recordings["segments"].sum() == honest.recordings["segments"].sum()
    assert set(leaky.rows["split"]) == {"2 folds by segment (leaky), segments every 1 s"}
    assert set(honest.rows["split"]) == {"2 folds by recording, segments every 1 s"}
    c = ml.evaluate.paired_comparison(leaky.recordings, honest.recordings, names=("leaky", "honest"),
                                      metric="accuracy_segment", pair_on="recording")
    assert c.n_recordings == manifest["group"].nunique() and c.folds == 2
    assert c.a_score == pytest.approx(leaky.summary["test_accuracy_segment_mean"])
    assert c.b_score == pytest.approx(honest.summary["test_accuracy_segment_mean"])
    # read back, not trained again; the hop and the split are part of what is cached
    again = ml.experiments.run_folds("cnn_mfcc", settings=tiny, folds=2, split="segment", segment_hop=1.0, jobs=1)
    assert again.recordings.equals(leaky.recordings)
    with pytest.raises(MusiclibError, match="split must be"):
        ml.experiments.run_folds("cnn_mfcc", settings=tiny, folds=2, split="clip", jobs=1)
