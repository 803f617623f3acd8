"""Named experiments: every recipe runs, splits by recording, is repeatable, saves a bundle."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import musiclib as ml
from musiclib import cli
from musiclib.errors import MusiclibError

ROW_KEYS = {"experiment", "test_accuracy_recording", "test_accuracy_segment", "macro_f1", "train_seconds"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("experiments")
    return ml.config.settings(profile="tiny", data_dir=root / "data", build_dir=root / "build", seed=0)


@pytest.mark.parametrize("name", ml.experiments.names())
def test_every_experiment_runs_and_splits_by_recording(tiny, name):
    result = ml.experiments.run(name, settings=tiny, save=False, jobs=1)
    row = result.row
    assert ROW_KEYS <= set(row) and row["experiment"] == name and row["split"] == "by recording"
    for key in ("test_accuracy_segment", "test_accuracy_recording", "test_accuracy_recording_vote", "macro_f1"):
        assert 0.0 <= row[key] <= 1.0
    everything = pd.concat(result.data.meta.values(), ignore_index=True)
    ml.splits.check_no_leakage(everything)  # no recording on two sides
    assert row["n_test_recordings"] == result.data.meta["test"]["group"].nunique() > 0
    assert result.proba["test"].shape == (len(result.data.y["test"]), len(result.data.labels))
    assert row["reported_accuracy"] == ml.experiments.get(name).reported
    augmented = {side: m["track_id"].str.contains("#aug-").sum() for side, m in result.data.meta.items()}
    if ml.experiments.get(name).augment:  # copies of training recordings, on the training side only
        assert augmented["train"] > 0 and augmented["valid"] == augmented["test"] == 0
        ml.augment.check_augmentation_split(everything)
    else:
        assert sum(augmented.values()) == 0


def test_augmentation_refuses_the_segment_split(tiny):
    with pytest.raises(MusiclibError, match="segment split"):
        ml.experiments.run("mel_cnn_augmented", settings=tiny, split="segment", save=False, jobs=1)


def test_same_seed_same_numbers_and_another_seed_differs(tiny):
    first = ml.experiments.run("cnn_mfcc", settings=tiny, save=False, jobs=1)
    again = ml.experiments.run("cnn_mfcc", settings=tiny, save=False, jobs=1)
    np.testing.assert_array_equal(first.proba["test"], again.proba["test"])
    assert first.row["test_accuracy_recording"] == again.row["test_accuracy_recording"]
    other = ml.experiments.run("cnn_mfcc", settings=tiny.replace(seed=1), save=False, jobs=1)
    assert not np.array_equal(first.data.meta["test"]["track_id"], other.data.meta["test"]["track_id"])


def test_segment_split_leaks_on_purpose(tiny):
    result = ml.experiments.run("ann_mfcc", settings=tiny.replace(profile="fast"), split="segment",
                                save=False, jobs=2)
    assert result.row["split"] == "by segment (leaky)"
    everything = pd.concat(result.data.meta.values(), ignore_index=True)
    assert len(ml.splits.leakage_report(everything)) > 0


def test_bundle_and_results_table(tiny, tmp_path):
    import keras

    out = tmp_path / "bundle"
    result = ml.experiments.run("ann_mfcc_regularized", settings=tiny, out_dir=out, jobs=1)
    assert sorted(p.name for p in out.iterdir()) == ["bundle.json", "model.keras"]
    bundle = json.loads((out / "bundle.json").read_text())
    assert bundle["experiment"] == "ann_mfcc_regularized" and bundle["labels"] == result.data.labels
    assert bundle["feature_config_hash"] == ml.features.FeatureConfig.from_dict(bundle["feature_config"]).config_hash
    assert bundle["input_shape"] == [130, 13] and bundle["versions"]["keras"]
    assert bundle["metrics"]["test_accuracy_recording"] == result.row["test_accuracy_recording"]
    model = keras.saving.load_model(out / "model.keras")  # safe mode: no custom objects needed
    np.testing.assert_allclose(ml.evaluate.predict_proba(model, result.data.x["test"]), result.proba["test"],
                               rtol=1e-5, atol=1e-6)
    assert not list(tmp_path.glob(".bundle.tmp*"))
    # one row per (experiment, dataset, profile, seed, split, balance): a rerun replaces it
    ml.experiments.run("ann_mfcc_regularized", settings=tiny, out_dir=out, jobs=1)
    table = pd.read_csv(tiny.results_dir / "experiments.csv")
    assert (table["experiment"] == "ann_mfcc_regularized").sum() == 1
    summary = ml.experiments.summary(tiny)
    assert summary["experiment"].tolist() == ["ann_mfcc_regularized"]
    assert summary.loc[0, "reported_accuracy"] == 0.68 and summary.loc[0, "split"] == "by recording"


def test_unbalanced_variant_and_balancing(tiny):
    exp = ml.experiments.get("cnn2_mfcc_unbalanced")
    data = ml.experiments.experiment_dataset(exp, tiny)
    counts = data.manifest["label"].value_counts()
    # the rarest keeps a quarter of the commonest's clips, and at least K = profile.folds of
    # them, so that K folds by recording test every style
    folds = tiny.profile.folds
    assert counts.min() == folds and counts.max() == max(tiny.profile.clips_per_style, 4 * folds)
    assert len(ml.splits.fold_splits(data.manifest, folds=folds, seed=0)) == folds
    manifest = ml.splits.assign_splits(data.manifest, seed=0)
    prepared = ml.experiments.prepare(exp, manifest, tiny, jobs=2)
    x, y, weights = ml.experiments._balanced(prepared, "class_weight", 0)
    assert len(weights) == len(prepared.labels) and max(weights.values()) > 1 > min(weights.values())
    x, y, weights = ml.experiments._balanced(prepared, "oversample", 0)
    assert weights is None and len(set(np.bincount(y))) == 1 and len(x) == len(y)
    with pytest.raises(MusiclibError, match="balance"):
        ml.experiments._balanced(prepared, "smote", 0)


def test_unknown_experiment_is_a_one_line_error(tiny):
    with pytest.raises(MusiclibError, match="unknown experiment 'nope'"):
        ml.experiments.run("nope", settings=tiny)


def test_cli_train_json_last_line_and_experiments_list(tiny, capsys, monkeypatch):
    monkeypatch.setenv("MUSICLIB_DATA_DIR", str(tiny.data_dir))
    monkeypatch.setenv("MUSICLIB_BUILD_DIR", str(tiny.build_dir))
    assert cli.main(["experiments"]) == 0
    assert "cnn_mfcc" in capsys.readouterr().out
    assert cli.main(["train", "synthetic", "--experiment", "dense_spectral", "--profile", "tiny",
                     "--jobs", "1", "--json"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert ROW_KEYS <= set(row) and row["bundle"].endswith("dense_spectral")
    assert cli.main(["train", "synthetic", "--experiment", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("musiclib: unknown experiment") and "\n" not in err


def test_cli_train_on_a_labelled_folder_of_mixed_files(tmp_path, capsys, monkeypatch):
    """A user's collection: formats, rates and lengths vary, one file is broken."""
    from audio_factory import make_sine

    monkeypatch.setenv("MUSICLIB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICLIB_BUILD_DIR", str(tmp_path / "build"))
    root = tmp_path / "collection"
    rng = np.random.default_rng(0)
    for label, base in (("low", 220.0), ("high", 1760.0)):
        for k, ext in enumerate([".wav", ".flac", ".mp3", ".ogg", ".wav", ".flac"]):
            seconds = float(rng.uniform(3.5, 9.0))
            make_sine(root / label / f"take{k}{ext}", seconds, 44100 if k % 2 else 22050,
                      channels=1 + k % 2, freq=base * (1 + 0.1 * k))
    (root / "high" / "broken.wav").write_text("not audio")
    nan = make_sine(root / "low" / "nan.wav", 4.0, 22050, subtype="FLOAT")  # fails only when decoded
    y, sr = __import__("soundfile").read(nan)
    y[100] = np.nan
    __import__("soundfile").write(nan, y, sr, subtype="FLOAT")
    assert cli.main(["train", str(root), "--experiment", "cnn_mfcc", "--profile", "tiny", "--jobs", "1",
                     "--json"]) == 0
    printed = capsys.readouterr()
    row = json.loads(printed.out.strip().splitlines()[-1])
    assert "skipped" in printed.err and "broken.wav" in printed.err and "nan.wav: non-finite" in printed.err
    assert row["n_skipped_files"] == 2
    assert row["dataset"] == str(root.resolve()) and row["split"] == "by recording"
    assert 0.0 <= row["test_accuracy_recording"] <= 1.0 and row["n_test_recordings"] >= 2
    # the default model folder: build/models/<profile>/<folder name>-<hash of its path>/<experiment>
    (folder,) = (tmp_path / "build" / "models" / "tiny").iterdir()
    assert re.fullmatch(r"collection-[0-9a-f]{6}", folder.name)
    bundle = json.loads((folder / "cnn_mfcc" / "bundle.json").read_text())
    assert bundle["labels"] == ["high", "low"] and bundle["format"] == ml.bundle.FORMAT
    assert bundle["trained_on"]["n_skipped_files"] == 2  # the bundle and the results table say so too
    results = pd.read_csv(tmp_path / "build" / "results" / "experiments.csv")
    assert results["n_skipped_files"].tolist() == [2]


def test_streamed_training_reads_segments_from_disk_and_cleans_up(tiny):
    result = ml.experiments.run("mel_cnn_augmented", settings=tiny, stream=True, save=False, jobs=1)
    assert result.data.x["train"] is None and result.data.source is None  # streamed, then released
    assert result.row["n_train"] == len(result.data.y["train"])
    assert result.proba["test"].shape == (len(result.data.y["test"]), len(result.data.labels))
    assert not list((tiny.cache_dir / "segments").glob("*.npy"))  # the run's array is gone
    again = ml.experiments.run("mel_cnn_augmented", settings=tiny, stream=True, save=False, jobs=1)
    np.testing.assert_array_equal(result.proba["test"], again.proba["test"])  # seeded
