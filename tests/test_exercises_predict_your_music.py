"""The checks of notebook 09 · Predict your own music, with a tiny clip-feature bundle."""

from __future__ import annotations

import json
import shutil
import warnings

import pytest

import musiclib as ml

SR = 22050


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("ex09")
    s = ml.config.settings(profile="tiny", data_dir=root / "data", build_dir=root / "build", seed=0)
    ml.experiments.run("dense_spectral", settings=s, out_dir=root / "models" / "dense_spectral", jobs=1)
    return root / "models" / "dense_spectral"


@pytest.fixture(scope="module")
def bundle(bundle_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ml.predict.load_bundle(bundle_dir)


def _copy(path, peak):
    y = ml.synth.render_clip("saw_techno", 4.0, sr=SR, seed=5)
    return ml.audio.write_audio(path, ml.audio.normalize_peak(y, peak=peak), sr=SR)


def test_quiet_label(bundle, tmp_path, capsys):
    E = ml.exercises
    path = _copy(tmp_path / "quiet.wav", 0.05)
    label = ml.predict.predict_file(bundle, path).label
    assert E.check_quiet_label(label, path, bundle).right
    assert "✓ Exercise 09.2" in capsys.readouterr().out
    same = E.check_quiet_label(label, path, bundle, original=label, quiet=True)
    assert same.right and "like the original" in same.message
    other = next(name for name in bundle.labels if name != label)
    assert "the original" in E.check_quiet_label(label, path, bundle, original=other, quiet=True).message
    not_it = E.check_quiet_label(other, path, bundle, quiet=True)
    assert not_it.status == "wrong" and "predict_file" in not_it.message
    level = E.check_quiet_label(label, _copy(tmp_path / "loud.wav", 0.5), bundle, quiet=True)
    assert level.status == "wrong" and "normalize_peak" in level.message
    assert "not one of" in E.check_quiet_label("polka", path, bundle, quiet=True).message
    assert E.check_quiet_label(..., path, bundle, quiet=True).missing
    assert E.check_quiet_label(label, ..., bundle, quiet=True).missing
    assert E.check_quiet_label(3, path, bundle, quiet=True).status == "wrong"
    assert E.check_quiet_label([label], path, bundle, quiet=True).status == "wrong"
    assert "write_audio" in E.check_quiet_label(label, tmp_path / "nowhere.wav", bundle, quiet=True).message


def test_quiet_copy_keeps_its_label_and_probabilities(bundle, tmp_path):
    """09.2 with the original's prediction: the copy at peak 0.05 gets the same label, and
    largest_change is checked against the two predictions (features are level-independent)."""
    E = ml.exercises
    y = ml.synth.render_clip("saw_techno", 4.0, sr=SR, seed=5)
    original = ml.predict.predict_signal(bundle, y, SR)
    path = _copy(tmp_path / "quiet.wav", 0.05)
    copy = ml.predict.predict_file(bundle, path)
    change = max(abs(copy.probabilities[k] - original.probabilities[k]) for k in bundle.labels)
    assert copy.label == original.label and change < 0.05
    feedback = E.check_quiet_label(copy.label, path, bundle, original=original, largest_change=change, quiet=True)
    assert feedback.right and "like the original" in feedback.message and "level_db" in feedback.message
    wrong = E.check_quiet_label(copy.label, path, bundle, original=original, largest_change=change + 0.2, quiet=True)
    assert wrong.status == "wrong" and "largest_change" in wrong.message
    assert E.check_quiet_label(copy.label, path, bundle, original=original, largest_change="0", quiet=True).status == "wrong"
    assert E.check_quiet_label(copy.label, path, bundle, original=original, largest_change=..., quiet=True).missing


def _halve_hop(info):
    info["feature_config"]["hop_length"] //= 2


def _tamper(bundle_dir, folder, change=_halve_hop):
    shutil.copytree(bundle_dir, folder)
    info = json.loads((folder / "bundle.json").read_text())
    change(info)
    (folder / "bundle.json").write_text(json.dumps(info))
    return folder


def test_tampered_bundle(bundle_dir, tmp_path):
    E = ml.exercises
    folder = _tamper(bundle_dir, tmp_path / "copy")
    with pytest.raises(ml.predict.BundleError) as caught:
        ml.predict.load_bundle(folder)
    feedback = E.check_tampered_bundle(caught.value, folder, bundle_dir, quiet=True)
    assert feedback.right and "hash" in feedback.message
    assert E.check_tampered_bundle(str(caught.value), str(folder), bundle_dir, quiet=True).right
    real = E.check_tampered_bundle(caught.value, bundle_dir, bundle_dir, quiet=True)
    assert real.status == "wrong" and "copy" in real.message
    unchanged = _tamper(bundle_dir, tmp_path / "same", change=lambda info: None)
    assert "unchanged" in E.check_tampered_bundle(caught.value, unchanged, bundle_dir, quiet=True).message
    none = E.check_tampered_bundle(None, folder, bundle_dir, quiet=True)
    assert none.status == "wrong" and "BundleError" in none.message
    other = E.check_tampered_bundle(ValueError("something else"), folder, bundle_dir, quiet=True)
    assert other.status == "wrong" and "load_bundle" in other.message
    assert E.check_tampered_bundle(..., folder, bundle_dir, quiet=True).missing
    assert E.check_tampered_bundle(caught.value, ..., bundle_dir, quiet=True).missing
    assert E.check_tampered_bundle(42, folder, bundle_dir, quiet=True).status == "wrong"
    assert E.check_tampered_bundle(caught.value, ["x"], bundle_dir, quiet=True).status == "wrong"
    ml.predict.load_bundle(bundle_dir)  # the real bundle is untouched
