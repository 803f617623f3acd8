"""Clip-feature classifiers: recording-level scores, seeded training, selection, results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import musiclib as ml
from musiclib.errors import LeakageError, MusiclibError


@pytest.fixture(scope="module")
def table():
    """Three classes, 20 recordings each; two informative features and one of noise."""
    rng = np.random.default_rng(0)
    rows = []
    for c, label in enumerate(["a", "b", "c"]):
        for r in range(20):
            rows.append({
                "track_id": f"{label}{r}", "label": label, "group": f"{label}{r}",
                "spectral_centroid_mean": 1000.0 * (c + 1) + rng.normal(0, 150),
                "zcr_mean": 0.05 * (c % 2) + rng.normal(0, 0.01),
                "rms_mean": rng.normal(0, 1),
            })
    frame = pd.DataFrame(rows)
    return ml.splits.assign_splits(frame, valid_size=0.2, test_size=0.2, seed=0)


def test_recording_level_mean_and_vote():
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.45, 0.55], [0.2, 0.8], [0.3, 0.7]])
    y = np.array([0, 0, 0, 1, 1])
    groups = ["r1", "r1", "r1", "r2", "r2"]
    truth, mean_pred = ml.evaluate.recording_level(proba, y, groups, how="mean")
    assert truth.tolist() == [0, 1] and mean_pred.tolist() == [0, 1]  # mean of r1: 0.58 vs 0.42
    _, vote_pred = ml.evaluate.recording_level(proba, y, groups, how="vote")
    assert vote_pred.tolist() == [1, 1]  # r1: two of three segments vote 1
    assert ml.evaluate.scores([0, 1], [1, 1]) == {"accuracy": 0.5, "macro_f1": pytest.approx(1 / 3)}


def test_feature_columns_pick_groups_and_stats(table):
    assert ml.baselines.feature_columns(table, "spectral") == ["zcr_mean", "rms_mean", "spectral_centroid_mean"]
    with pytest.raises(MusiclibError, match="no columns"):
        ml.baselines.feature_columns(table, "mfcc")


def test_split_table_refuses_leaks_and_missing_splits(table):
    leaky = table.copy()
    leaky.loc[leaky.index[0], "group"] = leaky.loc[leaky["split"] == "test", "group"].iloc[0]
    with pytest.raises(LeakageError):
        ml.baselines.split_table(leaky, ["zcr_mean"])
    with pytest.raises(MusiclibError, match="assign_splits"):
        ml.baselines.split_table(table.drop(columns="split"), ["zcr_mean"])


def test_compare_classifiers_scores_every_pair(table):
    sets = {"centroid": ["spectral_centroid_mean"], "noise": ["rms_mean"]}
    result = ml.baselines.compare_classifiers(
        table, sets, models=("logistic_regression", "random_forest"), seed=0)
    assert len(result) == 4 and set(result["split"]) == {"by recording"}
    good = result[result["features"] == "centroid"]["test_accuracy"]
    bad = result[result["features"] == "noise"]["test_accuracy"]
    assert good.min() >= 0.75 and bad.max() <= 0.6  # informative beats noise
    assert (result["test_accuracy"] == result["test_accuracy_recording"]).all()  # one clip per recording


def test_dense_net_is_seeded_and_carries_its_normalisation(table, tmp_path):
    cols = ["spectral_centroid_mean", "zcr_mean"]
    sides = ml.baselines.split_table(table, cols)
    first = ml.baselines.fit_and_predict("dense_net", sides, seed=3, epochs=40)
    second = ml.baselines.fit_and_predict("dense_net", sides, seed=3, epochs=40)
    np.testing.assert_allclose(first["proba"]["test"], second["proba"]["test"], rtol=1e-5, atol=1e-6)
    assert (first["proba"]["test"].argmax(1) == sides.y["test"]).mean() >= 0.75
    model = first["model"]
    assert [layer.name for layer in model.layers][:2] == ["clip_features", "normalize"]
    import keras

    path = tmp_path / "dense.keras"
    model.save(path)
    again = keras.saving.load_model(path)
    np.testing.assert_allclose(again.predict(sides.x["test"], verbose=0), first["proba"]["test"], rtol=1e-5, atol=1e-6)


def test_train_fit_early_stops_and_restores_best(table):
    sides = ml.baselines.split_table(table, ["rms_mean"])  # noise: validation loss soon rises
    model = ml.models.dense_clip_classifier(sides.x["train"], 3)
    result = ml.train.fit(model, sides.x["train"], sides.y["train"],
                          validation=(sides.x["valid"], sides.y["valid"]), epochs=300, patience=5, seed=0)
    assert result.epochs < 300 and result.best_epoch == result.epochs - 5
    assert len(result.history["val_loss"]) == result.epochs


def test_permutation_importance_finds_the_informative_feature(table):
    imp = ml.baselines.permutation_importance_table(
        table, ["rms_mean", "spectral_centroid_mean", "zcr_mean"], seed=0, n_repeats=5)
    assert imp["feature"].iloc[-1] == "rms_mean"  # the noise column matters least
    by_feature = imp.set_index("feature")["importance_mean"]
    assert by_feature["spectral_centroid_mean"] > 0.1 and by_feature["rms_mean"] < 0.05


def test_forward_selection_adds_the_best_group_first_and_never_sees_test(table):
    candidates = {"noise": ["rms_mean"], "centroid": ["spectral_centroid_mean"], "zcr": ["zcr_mean"]}
    sel = ml.baselines.forward_selection(table, candidates, folds=4, seed=0)
    assert sel["added"].iloc[0] == "centroid" and sel["n_groups"].tolist() == [1, 2, 3]
    assert sel["sufficient"].any()
    poisoned = table.copy()
    poisoned.loc[poisoned["split"] == "test", "spectral_centroid_mean"] = np.nan  # would crash if used
    pd.testing.assert_frame_equal(sel, ml.baselines.forward_selection(poisoned, candidates, folds=4, seed=0))


def test_save_results_is_collected_by_the_course(table):
    settings = ml.config.settings()
    rows = pd.DataFrame([{"experiment": "x", "test_accuracy": 0.5}])
    path = ml.evaluate.save_results(rows, "02_spectral_features", settings)
    saved = pd.read_csv(path)
    assert saved.loc[0, "profile"] == "tiny" and saved.loc[0, "dataset"] == "synthetic"
    ml.course.write_results([ml.course.NotebookRun("02_x.ipynb", "ok", 1.0, 3)], settings, settings.build_dir / "c")
    assert "## 02_spectral_features" in (settings.build_dir / "c" / "results.md").read_text()


def test_pair_separability_shows_which_feature_separates_which_pair(table):
    sep = ml.baselines.pair_separability(
        table, [("a", "b"), ("a", "c")], {"zcr": ["zcr_mean"], "noise": ["rms_mean"]}, folds=4, seed=0)
    assert list(sep.index) == ["a / b", "a / c"] and list(sep.columns) == ["zcr", "noise"]
    assert sep.loc["a / b", "zcr"] >= 0.9  # zcr differs between a and b ...
    assert sep.loc["a / c", "zcr"] <= 0.75  # ... but not between a and c
    with pytest.raises(MusiclibError, match="both labels"):
        ml.baselines.pair_separability(table, [("a", "zzz")], {"zcr": ["zcr_mean"]})


def test_split_leak_study_measures_the_leak():
    """Recordings whose segments look alike: the leaky split finds siblings, the honest one never."""
    rng = np.random.default_rng(0)
    n_rec, per = 40, 6
    centres = rng.normal(0, 1, (n_rec, 4))  # each recording has its own sound ...
    labels = np.repeat(np.arange(n_rec) % 2, per)  # ... unrelated to its label
    spread = np.repeat(rng.uniform(0.2, 1.0, (n_rec, 4)), per, axis=0)[:, None, :]  # and its own spread
    X = np.repeat(centres, per, axis=0)[:, None, :] + spread * rng.normal(0, 1, (n_rec * per, 64, 4))
    meta = pd.DataFrame({"label": labels.astype(str), "group": np.repeat([f"r{i}" for i in range(n_rec)], per)})
    study = ml.baselines.split_leak_study(X, meta, seeds=range(3))
    by = study.groupby("split")[["accuracy", "nearest_from_same_recording"]].mean()
    assert by.loc["by recording", "nearest_from_same_recording"] == 0.0
    assert by.loc["by segment (leaky)", "nearest_from_same_recording"] > 0.8
    assert by.loc["by segment (leaky)", "accuracy"] > 0.8 > by.loc["by recording", "accuracy"] + 0.2
