"""musiclib.bundle: one format for every saved model, and model folders per profile and dataset."""

import json

import keras
import numpy as np
import pytest

import musiclib as ml
from musiclib.bundle import BundleError


@pytest.fixture(scope="module")
def tiny_model():
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))


def test_write_and_read_a_bundle(tiny_model, tmp_path):
    folder = ml.bundle.write(tmp_path / "m", tiny_model, {"labels": ["a", "b"], "format": 99}, kind="classifier")
    assert sorted(p.name for p in folder.iterdir()) == ["bundle.json", "model.keras"]
    info = ml.bundle.read_info(folder, kind="classifier", required=("labels",))
    assert info["format"] == ml.bundle.FORMAT and info["kind"] == "classifier" and info["labels"] == ["a", "b"]
    assert set(info["versions"]) >= {"keras", "tensorflow", "librosa", "musiclib"}
    x = np.ones((1, 4), np.float32)
    np.testing.assert_allclose(ml.bundle.load_model(folder).predict(x, verbose=0), tiny_model.predict(x, verbose=0))
    with pytest.raises(BundleError, match="lacks columns"):
        ml.bundle.read_info(folder, kind="classifier", required=("columns",))
    with pytest.raises(BundleError, match=r"vae\.json and model\.keras missing|vae\.json missing.*classifier bundle"):
        ml.bundle.read_info(folder, kind="vae")


def test_an_older_or_unknown_format_is_refused_in_one_line(tiny_model, tmp_path):
    folder = ml.bundle.write(tmp_path / "m", tiny_model, {"labels": ["a", "b"]}, kind="classifier")
    info = json.loads((folder / "bundle.json").read_text())
    for fmt, reason in ((1, r"format 1 \(features at the recording's own level\) is older .* train it again"),
                        (7, "unknown bundle format 7")):
        (folder / "bundle.json").write_text(json.dumps({**info, "format": fmt}))
        with pytest.raises(BundleError, match=reason) as caught:
            ml.bundle.read_info(folder, kind="classifier")
        assert str(caught.value).startswith(f"{folder}: ") and "\n" not in str(caught.value)
    (folder / "bundle.json").write_text(json.dumps({**info, "kind": "vae"}))
    with pytest.raises(BundleError, match="describes a 'vae' bundle"):
        ml.bundle.read_info(folder, kind="classifier")


def test_a_write_killed_between_its_renames_is_undone_on_read(tiny_model, tmp_path):
    """The set-aside copy of a dead writer is put back by the next read (see test_safe_write)."""
    folder = ml.bundle.write(tmp_path / "m", tiny_model, {"labels": ["a", "b"]}, kind="classifier")
    aside = tmp_path / f".m.old-{ml.safe_write.HOST}-999999999-deadbeef"  # a pid that cannot run
    folder.rename(aside)
    assert ml.bundle.read_info(folder, kind="classifier")["labels"] == ["a", "b"]
    assert not aside.exists()


def test_model_folders_per_profile_and_dataset(tmp_path):
    def models_dir(profile, dataset):
        return ml.config.settings(profile=profile, dataset=dataset, build_dir=tmp_path / "build").models_dir

    assert models_dir("tiny", "synthetic") == tmp_path / "build" / "models" / "tiny" / "synthetic"
    assert models_dir("tiny", "synthetic") != models_dir("fast", "synthetic")
    a, b = tmp_path / "one" / "gtzan", tmp_path / "two" / "gtzan"
    assert models_dir("fast", str(a)).parent == tmp_path / "build" / "models" / "fast"
    assert models_dir("fast", str(a)).name.startswith("gtzan-") and len(models_dir("fast", str(a)).name) == 12
    assert models_dir("fast", str(a)) != models_dir("fast", str(b))  # same name, other folder
    assert models_dir("fast", str(a)) == models_dir("fast", str(a / ".." / "gtzan"))  # one folder, one name
