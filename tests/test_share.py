"""The notebooks' share of a large dataset: drawn by recording and seed, a few seconds each,
labels too small to split left out; the ``musiclib`` command uses everything."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

import musiclib as ml
from musiclib import cli
from musiclib.errors import DatasetError

from audio_factory import make_sine

SR = 22050


@pytest.fixture
def big_folder(tmp_path):
    """Three labels of 12, 7 and 2 recordings of 9 s, one of them unreadable."""
    root = tmp_path / "music"
    for label, n in (("bach", 12), ("chopin", 7), ("solo", 2)):
        for k in range(n):
            make_sine(root / label / f"{label}_{k:02d}.wav", 9.0, SR, freq=200 + 20 * k)
    (root / "chopin" / "chopin_03.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEjunk")  # header fails
    return root


def _share(ds, **kw):
    options = dict(recordings_per_label=4, seconds_per_recording=3.0, seed=0, profile_name="fast")
    return ml.datasets.take_share(ds, **{**options, **kw})


def test_share_draws_whole_recordings_per_label_and_cuts_the_middle(big_folder):
    full = ml.datasets.from_folder(big_folder, check=False)
    ds = _share(full)
    m = ds.manifest
    assert m.groupby("label")["group"].nunique().to_dict() == {"bach": 4, "chopin": 4}
    assert (m["duration_s"] == 3.0).all() and (m["offset_s"] == 3.0).all()  # the middle 3 s of 9 s
    assert set(m["group"]) <= set(full.manifest["group"])
    assert ds.share.splitlines()[0] == (
        "fast: 8 of 20 recordings (4 per label), at most 3 s of each (from its middle); full uses all")
    assert "left out label 'solo': 2 usable recording(s)" in ds.share
    assert "needs at least 3" in ds.share
    assert "share    : fast: 8 of 20" in ds.describe()
    y = ds.load_audio(0)
    assert y.shape == (3 * SR,)


def test_share_depends_on_the_seed_only_and_replaces_unreadable_files(big_folder, tmp_path):
    full = ml.datasets.from_folder(big_folder, check=False)  # headers: the junk file is already out
    a, b = _share(full, seed=1), _share(full, seed=1)
    pd.testing.assert_frame_equal(a.manifest, b.manifest)
    assert not a.manifest.equals(_share(full, seed=2).manifest)
    # a drawn file whose header reads but whose samples are unusable gives way to another one
    bad = Path(a.manifest.loc[a.manifest["label"] == "bach", "path"].iloc[0])
    sf.write(bad, np.full(9 * SR, np.nan, dtype=np.float32), SR, subtype="FLOAT")
    again = _share(ml.datasets.from_folder(big_folder, check=False), seed=1)
    assert "non-finite samples" in dict(zip(again.skipped["path"], again.skipped["reason"]))[str(bad)]
    assert again.manifest.groupby("label")["group"].nunique()["bach"] == 4
    assert str(bad) not in set(again.manifest["path"])


def test_prescribed_split_keeps_every_side_of_every_label(tmp_path):
    rows = []
    for label in ("a", "b"):
        for k in range(30):
            side = "train" if k < 18 else ("valid" if k < 22 else "test")
            rows.append({"track_id": f"{label}{k}", "path": f"/x/{label}{k}.wav", "label": label,
                         "duration_s": 30.0, "sample_rate": SR, "group": f"{label}{k}", "offset_s": 0.0,
                         "split": side})
    ds = ml.datasets.Dataset("gtzan", "gtzan", Path("/x"), pd.DataFrame(rows))
    for seed in range(5):
        m = ml.datasets.take_share(ds, recordings_per_label=4, seconds_per_recording=None, seed=seed,
                                   check=False).manifest
        assert (m.groupby("label")["split"].nunique() == 3).all()
        assert (m.groupby("label")["group"].nunique() == 4).all()
        assert (m["duration_s"] == 30.0).all()


def test_clips_of_a_long_recording_give_its_middle_clip(tmp_path):
    make_sine(tmp_path / "d" / "a" / "long.wav", 50.0, 8000)
    for k in range(3):
        make_sine(tmp_path / "d" / "a" / f"s{k}.wav", 2.0, 8000)
    full = ml.datasets.from_folder(tmp_path / "d", clip_seconds=10.0)
    ds = ml.datasets.take_share(full, recordings_per_label=None, seconds_per_recording=4.0, seed=0)
    long = ds.manifest[ds.manifest["group"] == "a/long"]
    assert len(long) == 1 and long["offset_s"].iloc[0] == pytest.approx(23.0)  # clip 2 of 5, its middle
    assert ds.share.startswith("4 of 4 recordings")


def test_no_splittable_label_is_a_one_line_error(tmp_path):
    make_sine(tmp_path / "d" / "a" / "x.wav", 2.0, 8000)
    make_sine(tmp_path / "d" / "b" / "y.wav", 2.0, 8000)
    with pytest.raises(DatasetError, match="no label has 3 usable recordings"):
        ml.datasets.take_share(ml.datasets.from_folder(tmp_path / "d"), recordings_per_label=4,
                               seconds_per_recording=None)


def test_notebook_settings_take_the_share_and_the_command_takes_all(big_folder, capsys):
    s = ml.config.settings(profile="tiny", dataset=big_folder)
    assert s.share and "tiny takes at most 4 recordings per label and at most 4 s of each" in s.describe()
    notebook = ml.datasets.load(settings=s)
    assert notebook.manifest.groupby("label")["group"].nunique().to_dict() == {"bach": 4, "chopin": 4}
    assert (notebook.manifest["duration_s"] == 4.0).all()
    assert len(ml.datasets.load(big_folder).manifest) == 20  # no settings: the library takes all
    assert len(ml.datasets.load(settings=s, share=False).manifest) == 20
    full = ml.config.settings(profile="full", dataset=big_folder)
    whole = ml.datasets.load(settings=full)
    assert len(whole.manifest) == 18 and (whole.manifest["duration_s"] == 9.0).all()  # solo left out
    assert whole.share.startswith("full: 18 of 20 recordings (6 to 12 per label)")
    assert cli.main(["dataset", "info", str(big_folder), "--profile", "tiny"]) == 0
    printed = capsys.readouterr().out
    assert "rows     : 20 from 20 recordings" in printed and "share" not in printed


def test_synthetic_fast_share_takes_everything(isolated_settings):
    s = ml.config.settings(profile="tiny")
    shared, whole = ml.datasets.load(settings=s), ml.datasets.load(settings=s, share=False)
    pd.testing.assert_frame_equal(shared.manifest, whole.manifest)
    assert shared.share.startswith("tiny: 40 of 40 recordings (4 per label)")
    for p in ml.config.PROFILES.values():  # the synthetic styles of every profile fit its share
        assert p.recordings_per_label is None or p.recordings_per_label >= p.clips_per_style, p.name
        assert p.seconds_per_recording is None or p.seconds_per_recording >= p.clip_seconds, p.name


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """A labelled collection (course_data) and notebook settings for it, tiny profile."""
    from course_data import make_labelled_folder

    root = tmp_path_factory.mktemp("labelled")
    folder = make_labelled_folder(root / "my_music")
    return ml.config.settings(profile="tiny", dataset=folder, data_dir=root / "data", build_dir=root / "build")


def test_best_bundle_trains_when_missing_and_retrains_for_other_data(labelled, tmp_path):
    best, folder = ml.experiments.best_bundle(labelled, default="dense_spectral", jobs=1)
    assert best == "dense_spectral" and (folder / "bundle.json").exists()  # no results yet: the default
    info = json.loads((folder / "bundle.json").read_text())
    assert info["trained_on"]["dataset"] == labelled.dataset and info["labels"] == ["bach", "chopin", "satie"]
    stamp = (folder / "bundle.json").stat().st_mtime_ns
    assert ml.experiments.best_bundle(labelled, default="dense_spectral", jobs=1) == (best, folder)
    assert (folder / "bundle.json").stat().st_mtime_ns == stamp  # current: not trained again
    info["trained_on"]["dataset"] = "synthetic"  # as if a run on other data had left it
    (folder / "bundle.json").write_text(json.dumps(info))
    ml.experiments.best_bundle(labelled, default="dense_spectral", jobs=1)
    assert json.loads((folder / "bundle.json").read_text())["trained_on"]["dataset"] == labelled.dataset


def test_demo_files_are_held_out_recordings_of_the_dataset(labelled, tmp_path):
    _, folder = ml.experiments.best_bundle(labelled, default="dense_spectral", jobs=1)
    bundle = ml.predict.load_bundle(folder)
    paths = ml.predict.demo_files(bundle, tmp_path / "demo", settings=labelled, labels=bundle.labels,
                                  seconds=3.0, formats=(".wav", ".flac"))
    assert [p.name for p in paths] == ["bach_0.wav", "chopin_1.flac", "satie_2.wav"]
    split = ml.experiments.run_split(ml.datasets.load(settings=labelled).manifest, labelled.seed)
    held_out = set(split.loc[split["split"] != "train", "path"])
    for path in paths:
        assert ml.audio.info(path).duration_s == pytest.approx(3.0, abs=0.1)
    # each demo is an excerpt of a held-out recording of its label: its audio is found there
    label_paths = split[(split["label"] == "bach") & split["path"].isin(held_out)]["path"]
    demo = ml.audio.load(paths[0], sr=8000)
    assert any(np.corrcoef(demo[:8000], ml.audio.load(p, sr=8000, offset_s=(ml.audio.info(p).duration_s - 3) / 2,
                                                     duration_s=1.0))[0, 1] > 0.9 for p in label_paths)
    with pytest.raises(ml.errors.MusiclibError, match="no label 'mozart'"):
        ml.predict.demo_files(bundle, tmp_path / "x", settings=labelled, labels=["mozart"], seconds=1.0)
