"""Model bundles and prediction for any file: formats, lengths, chunking, bad files, the CLI."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from audio_factory import make_bad_files, make_sine

import musiclib as ml
from musiclib import cli
from musiclib.errors import AudioFileError
from musiclib.predict import BundleError, load_bundle, predict_file, predict_files, predict_folder, save_upload

FORMATS = ("wav", "flac", "ogg", "mp3")


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """Three tiny bundles: MFCC segments, clip summaries, and log-mel with SpecAugment."""
    root = tmp_path_factory.mktemp("predict")
    s = ml.config.settings(profile="tiny", data_dir=root / "data", build_dir=root / "build", seed=0)
    out = {}
    for name in ("cnn_mfcc", "dense_spectral", "mel_cnn_augmented"):
        ml.experiments.run(name, settings=s, out_dir=root / "models" / name, jobs=1)
        out[name] = load_bundle(root / "models" / name)
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Synthetic music of 2 s (shorter than a segment) and 10 s in four formats, and a
    3-minute stereo FLAC at 44.1 kHz (resampled, several chunks)."""
    folder = tmp_path_factory.mktemp("music")
    y = ml.synth.render_clip("saw_techno", 10.0, seed=3, index=0)
    paths = {}
    for ext in FORMATS:
        paths[f"10s.{ext}"] = ml.audio.write_audio(folder / f"ten.{ext}", y, sr=22050)
        paths[f"2s.{ext}"] = ml.audio.write_audio(folder / f"two.{ext}", y[: 2 * 22050], sr=22050)
    paths["3min.flac"] = make_sine(folder / "long.flac", 180.0, 44100, channels=2, freq=330.0)
    return paths


@pytest.mark.parametrize("name", ["cnn_mfcc", "dense_spectral", "mel_cnn_augmented"])
def test_predictions_of_every_format_and_length(bundles, files, name):
    bundle = bundles[name]
    for key, path in files.items():
        p = predict_file(bundle, path)
        assert p.label in bundle.labels and p.vote_label in bundle.labels
        assert list(p.probabilities) == sorted(p.probabilities, key=p.probabilities.get, reverse=True)
        assert set(p.probabilities) == set(bundle.labels)
        assert sum(p.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
        assert p.label == next(iter(p.probabilities)) and p.top(2)[0][0] == p.label
        tl = p.timeline
        assert list(tl.columns[:3]) == ["start_s", "end_s", "label"] and list(tl.columns[3:]) == bundle.labels
        assert len(tl) == p.n_segments and np.all(np.diff(tl["start_s"]) > 0)
        np.testing.assert_allclose(tl[bundle.labels].sum(axis=1), 1.0, atol=1e-5)
        length = key.split(".")[0]
        assert p.duration_s == pytest.approx({"2s": 2.0, "10s": 10.0, "3min": 180.0}[length], abs=0.1)
        if bundle.inputs == "clip":  # one vector for the whole file
            assert p.n_segments == 1 and not p.padded
        else:
            assert p.n_segments == {"2s": 1, "10s": 3, "3min": 60}[length] and p.padded == (length == "2s")
        json.dumps(p.to_dict())  # JSON-ready


def test_specaugment_bundle_loads_in_safe_mode(bundles):
    model = bundles["mel_cnn_augmented"].model
    assert any(isinstance(layer, ml.specaugment.SpecAugment) for layer in model.layers)
    assert bundles["mel_cnn_augmented"].transform == "log"


@pytest.mark.parametrize("name", ["cnn_mfcc", "dense_spectral", "mel_cnn_augmented"])
def test_chunked_prediction_equals_whole(bundles, files, name):
    """One segment per chunk or the whole file at once: the same segments (to within one
    hop), the same answers (features differ only in the frames at chunk edges)."""
    bundle = bundles[name]
    hop_s = bundle.config.hop_length / bundle.config.sample_rate
    whole = predict_file(bundle, files["10s.wav"], chunk_seconds=60.0)
    small = predict_file(bundle, files["10s.wav"], chunk_seconds=3.0)
    assert small.n_segments == whole.n_segments
    np.testing.assert_allclose(small.timeline["start_s"], whole.timeline["start_s"], atol=hop_s)
    np.testing.assert_allclose(small.timeline[bundle.labels], whole.timeline[bundle.labels], atol=0.03)
    assert small.label == whole.label


def test_long_file_is_read_in_bounded_chunks(bundles, files, monkeypatch):
    seen = []
    original = ml.features.frame_features

    def spy(y, *args, **kwargs):
        seen.append(len(y))
        return original(y, *args, **kwargs)

    monkeypatch.setattr(ml.features, "frame_features", spy)
    p = predict_file(bundles["cnn_mfcc"], files["3min.flac"], chunk_seconds=60.0)
    assert p.n_segments == 60 and len(seen) == 3 and max(seen) == 60 * 22050
    starts = p.timeline["start_s"].to_numpy()
    np.testing.assert_allclose(starts, np.arange(60) * 3.0, atol=512 / 22050)


def test_bad_files_name_the_file_and_reason(bundles, tmp_path):
    reasons = make_bad_files(tmp_path)
    for name in ("truncated.flac", "truncated.mp3", "text.wav"):
        with pytest.raises(AudioFileError) as info:
            predict_file(bundles["cnn_mfcc"], tmp_path / name)
        message = str(info.value)
        assert name in message and reasons[name] in message and "\n" not in message


def test_predict_files_and_folder_go_on_after_a_bad_file(bundles, files, tmp_path):
    folder = tmp_path / "mine"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(files["10s.mp3"], folder / "a.mp3")
    shutil.copy(files["2s.ogg"], folder / "sub" / "b.ogg")
    (folder / "broken.wav").write_text("not audio")
    # skipped, not reported (not named after a.mp3: libsndfile then fails on a.mp3 itself)
    (folder / "._c.mp3").write_bytes(b"macOS resource fork")
    (folder / "notes.txt").write_text("not an audio path")
    bundle = bundles["cnn_mfcc"]
    preds, errors = predict_files(bundle, [folder / "a.mp3", folder / "broken.wav", folder / "sub" / "b.ogg"])
    assert [p.path.name for p in preds] == ["a.mp3", "b.ogg"]
    assert [(p.name, r.split(":")[0]) for p, r in errors] == [("broken.wav", "not audio")]
    table = predict_folder(bundle, folder)
    assert isinstance(table, pd.DataFrame)
    assert [n.split("/")[-1] for n in table["path"]] == ["a.mp3", "broken.wav", "b.ogg"]
    assert {"label", "probability", "second_label", "third_probability", "error"} <= set(table.columns)
    bad = table.set_index(table["path"].str.split("/").str[-1])
    assert bad.loc["broken.wav", "error"].startswith("not audio") and pd.isna(bad.loc["broken.wav", "label"])
    assert bad.loc["a.mp3", "error"] == "" and bad.loc["a.mp3", "label"] in bundle.labels
    assert len(predict_folder(bundle, folder, recursive=False)) == 2


def test_cli_predict_table_json_and_exit_status(bundles, files, tmp_path, capsys):
    model_dir = str(bundles["cnn_mfcc"].folder)
    good = [str(files["10s.flac"]), str(files["2s.mp3"])]
    assert cli.main(["predict", model_dir, *good]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["file", "top"] and len(out) == 3 and "(padded)" in out[2]
    bad = tmp_path / "broken.wav"
    bad.write_text("not audio")
    assert cli.main(["predict", model_dir, good[0], str(bad), good[1], "--json", "--top", "2"]) == 1
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [d["path"] for d in lines] == [good[0], str(bad), good[1]]
    assert len(lines[0]["probabilities"]) == 2 and lines[0]["n_segments"] == 3
    assert {"label", "vote_label", "duration_s"} <= set(lines[2]) and lines[1]["error"].startswith("not audio")
    assert captured.err.strip() == f"musiclib: {bad}: {lines[1]['error']}"


def _tampered(bundle, tmp_path, change):
    folder = tmp_path / "tampered"
    shutil.copytree(bundle.folder, folder)
    info = json.loads((folder / "bundle.json").read_text())
    change(info)
    (folder / "bundle.json").write_text(json.dumps(info))
    return folder


def test_cli_refuses_a_folder_that_is_not_a_bundle_or_was_tampered_with(bundles, files, tmp_path, capsys):
    bundle = bundles["cnn_mfcc"]
    song = str(files["10s.wav"])
    assert cli.main(["predict", str(tmp_path), song]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"musiclib: {tmp_path}: not a model bundle: bundle.json and model.keras missing"
    cases = {
        "hash": lambda info: info["feature_config"].update(n_mfcc=20),
        "labels": lambda info: info.update(labels=info["labels"][:-1]),
    }
    for reason, change in cases.items():
        folder = _tampered(bundle, tmp_path / reason, change)
        assert cli.main(["predict", str(folder), song]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"musiclib: {folder}: ") and reason in err and "\n" not in err


def test_bundle_checks(bundles, tmp_path):
    bundle = bundles["dense_spectral"]
    cases = {
        "unknown bundle format": lambda info: info.update(format=99),
        "does not match the model's input": lambda info: info.update(
            columns=info["columns"][:-1], input_shape=[info["input_shape"][0] - 1]),
    }
    for k, (reason, change) in enumerate(cases.items()):
        with pytest.raises(BundleError, match=reason):
            load_bundle(_tampered(bundle, tmp_path / str(k), change))
    folder = _tampered(bundle, tmp_path / "json", lambda info: None)
    (folder / "bundle.json").write_text("{not json")
    with pytest.raises(BundleError, match="not readable JSON"):
        load_bundle(folder)
    folder = _tampered(bundle, tmp_path / "model", lambda info: None)
    (folder / "model.keras").write_bytes(b"not a zip")
    with pytest.raises(BundleError, match="model.keras does not load"):
        load_bundle(folder)
    old = _tampered(bundle, tmp_path / "old", lambda info: info["versions"].update(keras="2.0.1"))
    with pytest.warns(UserWarning, match=r"saved with keras 2\.0\.1, this is keras"):
        assert load_bundle(old).labels == bundle.labels


def test_save_upload_keeps_a_safe_name_inside_the_folder(files, tmp_path):
    data = files["2s.wav"].read_bytes()
    path = save_upload("../../etc/My Song (live).WAV", memoryview(data), tmp_path / "uploads")
    assert path == tmp_path / "uploads" / "My_Song__live_.WAV" and path.read_bytes() == data
    assert ml.audio.info(path).duration_s == pytest.approx(2.0)
    with pytest.raises(AudioFileError, match="unsupported extension .exe"):
        save_upload("tool.exe", b"MZ", tmp_path / "uploads")


@pytest.mark.parametrize("name", ["cnn_mfcc", "dense_spectral", "mel_cnn_augmented"])
def test_predict_signal_equals_predict_file(bundles, files, name):
    bundle = bundles[name]
    for key in ("10s.wav", "2s.wav"):
        y, sr = ml.audio.load(files[key], sr=22050), 22050
        from_file = predict_file(bundle, files[key])
        from_signal = ml.predict.predict_signal(bundle, y, sr, name=key)
        assert from_signal.label == from_file.label and from_signal.padded == from_file.padded
        for label in bundle.labels:
            assert from_signal.probabilities[label] == pytest.approx(from_file.probabilities[label], abs=1e-5)
    with pytest.raises(ml.errors.MusiclibError, match="non-finite"):
        ml.predict.predict_signal(bundle, np.full(22050, np.nan, dtype=np.float32), 22050)


@pytest.mark.parametrize("name", ["cnn_mfcc", "dense_spectral", "mel_cnn_augmented"])
def test_prediction_does_not_depend_on_the_level(bundles, tmp_path, name):
    """One recording at peaks 0.05, 0.3 and 0.9 (16-bit files): the same label, and every
    probability within 0.05 (features are computed at one RMS level, FeatureConfig.level_db)."""
    bundle = bundles[name]
    for style, seed in (("saw_techno", 11), (bundle.labels[-1], 12)):
        y = ml.synth.render_clip(style, 8.0, seed=seed, index=0) if style in ml.synth.STYLES else None
        if y is None:
            continue
        y = y / np.abs(y).max()
        predictions = [predict_file(bundle, ml.audio.write_audio(tmp_path / f"{style}-{peak}.wav", peak * y, sr=22050))
                       for peak in (0.05, 0.3, 0.9)]
        assert len({p.label for p in predictions}) == 1, [p.probabilities for p in predictions]
        for label in bundle.labels:
            values = [p.probabilities[label] for p in predictions]
            assert max(values) - min(values) < 0.05, (style, label, values)
