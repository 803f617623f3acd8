"""Manifests from labelled folders and GTZAN layouts; `musiclib dataset info`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

import musiclib as ml
from musiclib import cli
from musiclib.datasets import GTZAN_GENRES, MANIFEST_COLUMNS
from musiclib.errors import DatasetError

from audio_factory import make_bad_files, make_sine

SR = 22050


def _gtzan(root: Path, *, per_genre: int = 2, ext: str = ".wav") -> Path:
    """A GTZAN-shaped tree of 1-s files, with the faults real copies have."""
    for genre in GTZAN_GENRES:
        for k in range(per_genre):
            make_sine(root / genre / f"{genre}.{k:05d}{ext}", 1.0, SR, freq=200 + 30 * k)
    (root / "jazz" / "jazz.00054.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")
    (root / "blues" / "._blues.00000.wav").write_bytes(b"\x00\x05\x16\x07 mac resource fork")
    return root


@pytest.fixture
def mixed_folder(tmp_path):
    """Good files of every kind the issue names, plus every bad kind, under two labels."""
    root = tmp_path / "collection"
    make_sine(root / "strings" / "a.mp3", 3.0, SR)
    make_sine(root / "strings" / "b.flac", 3.0, SR)
    make_sine(root / "strings" / "deep" / "nested" / "c.ogg", 3.0, SR)
    make_sine(root / "winds" / "u8.wav", 2.0, SR, subtype="PCM_U8")
    make_sine(root / "winds" / "i24.wav", 2.0, SR, subtype="PCM_24")
    make_sine(root / "winds" / "stereo44k.wav", 2.0, 44100, channels=2)
    make_sine(root / "winds" / "long.wav", 95.0, 8000)
    expected_bad = make_bad_files(root / "winds" / "bad")
    (root / "loose.wav").write_bytes(b"")  # no label folder
    return root, expected_bad


def test_folder_manifest_counts_good_and_names_every_bad_file(mixed_folder):
    root, expected_bad = mixed_folder
    ds = ml.datasets.from_folder(root, min_duration_s=1.0)
    m = ds.manifest
    assert list(m.columns) == MANIFEST_COLUMNS
    assert ds.labels == ["strings", "winds"]
    assert len(m) == 7 and m["track_id"].is_unique and m["group"].is_unique
    assert m.set_index("track_id").loc["strings/deep/nested/c", "label"] == "strings"
    assert m.set_index("track_id").loc["winds/stereo44k", "sample_rate"] == 44100
    assert m.set_index("track_id").loc["winds/long", "duration_s"] == pytest.approx(95.0)
    skipped = dict(zip(ds.skipped["path"].map(lambda p: Path(p).name), ds.skipped["reason"]))
    for name, reason in expected_bad.items():
        if name.endswith(".m4a"):
            assert name not in skipped  # not an audio extension: never scanned
        else:
            assert reason in skipped[name], (name, skipped.get(name))
    assert "no label" in skipped["loose.wav"]
    text = ds.describe()
    assert "labels   : 2" in text and "truncated.wav" in text


def test_long_recordings_become_clips_of_one_group(mixed_folder):
    root, _ = mixed_folder
    ds = ml.datasets.from_folder(root, clip_seconds=30.0, min_last_seconds=1.0, min_duration_s=1.0)
    clips = ds.manifest[ds.manifest["group"] == "winds/long"]
    assert list(clips["offset_s"]) == [0.0, 30.0, 60.0, 90.0]
    assert list(clips["track_id"]) == [f"winds/long@{k:04d}" for k in range(4)]
    assert clips["duration_s"].tolist() == pytest.approx([30, 30, 30, 5])
    y = ds.load_audio("winds/long@0003", sr=SR)
    assert y.shape == (5 * SR,) and np.isfinite(y).all()
    # splits keep all clips of the recording on one side
    split = ml.splits.assign_splits(ds.manifest, valid_size=0.0, test_size=0.3, seed=0)
    assert split.loc[split["group"] == "winds/long", "split"].nunique() == 1


def test_gtzan_original_layout_with_faults(tmp_path):
    _gtzan(tmp_path / "gtzan" / "genres", ext=".au")
    ds = ml.datasets.load(tmp_path / "gtzan")
    assert ds.kind == "gtzan" and ds.labels == sorted(GTZAN_GENRES)
    assert len(ds.manifest) == 20 and ds.manifest["track_id"].str.match(r"^[a-z]+\.\d{5}$").all()
    assert set(ds.manifest["group"]) == set(ds.manifest["track_id"])
    assert ds.manifest["split"].isna().all()
    (bad_path, reason), = ds.skipped.itertuples(index=False)
    assert Path(bad_path).name == "jazz.00054.wav" and "known fault" in reason
    assert "._blues" not in " ".join(ds.skipped["path"])


def test_gtzan_kaggle_layout_honours_filtered_split_lists(tmp_path):
    root = tmp_path / "kaggle"
    _gtzan(root / "Data" / "genres_original", per_genre=3)
    lists = {"train": [0], "valid": [1], "test": [2]}
    for split, nums in lists.items():
        lines = [f"{g}/{g}.{n:05d}.wav" for g in GTZAN_GENRES for n in nums if (g, n) != ("rock", 2)]
        (root / f"{split}_filtered.txt").write_text("\n".join(lines) + "\n")
    ds = ml.datasets.load(root)
    m = ds.manifest.set_index("track_id")
    assert ds.kind == "gtzan" and len(ds.labels) == 10
    assert m.loc["blues.00000", "split"] == "train" and m.loc["pop.00002", "split"] == "test"
    assert "rock.00002" not in m.index  # left out by the lists, reported
    reasons = dict(zip(ds.skipped["path"].map(lambda p: Path(p).name), ds.skipped["reason"]))
    assert "left out" in reasons["rock.00002.wav"] and "jazz.00054.wav" in reasons
    assert "split    : prescribed" in ds.describe()
    kept = ml.splits.assign_splits(ds.manifest, seed=0)  # the prescribed split is kept
    assert (kept["split"] == ds.manifest["split"]).all()


def test_incomplete_split_lists_are_an_error(tmp_path):
    _gtzan(tmp_path / "g")
    (tmp_path / "g" / "train_filtered.txt").write_text("blues/blues.00000.wav\n")
    with pytest.raises(DatasetError, match="valid_filtered.txt"):
        ml.datasets.load(tmp_path / "g")


def test_unusable_datasets_raise_one_line_errors(tmp_path):
    with pytest.raises(DatasetError, match="no such folder"):
        ml.datasets.load(tmp_path / "missing")
    (tmp_path / "empty" / "label").mkdir(parents=True)
    with pytest.raises(DatasetError, match="no audio files"):
        ml.datasets.load(tmp_path / "empty")
    (tmp_path / "allbad" / "x").mkdir(parents=True)
    (tmp_path / "allbad" / "x" / "a.wav").write_text("text")
    with pytest.raises(DatasetError, match="none of 1 audio files") as err:
        ml.datasets.load(tmp_path / "allbad")
    assert "\n" not in str(err.value)


def test_headers_only_is_faster_and_finds_less(mixed_folder):
    root, _ = mixed_folder
    full = ml.datasets.from_folder(root, min_duration_s=1.0)
    quick = ml.datasets.from_folder(root, min_duration_s=1.0, check=False)
    assert len(quick.skipped) < len(full.skipped)  # e.g. NaN samples need decoding


def test_parallel_probe_gives_the_same_manifest(mixed_folder):
    root, _ = mixed_folder
    one = ml.datasets.from_folder(root, jobs=1, min_duration_s=1.0)
    two = ml.datasets.from_folder(root, jobs=2, min_duration_s=1.0)
    pd.testing.assert_frame_equal(one.manifest, two.manifest)
    pd.testing.assert_frame_equal(one.skipped, two.skipped)


# ---------------------------------------------------------------------- the CLI


def test_cli_dataset_info_on_mixed_folder(mixed_folder, tmp_path, capsys):
    root, expected_bad = mixed_folder
    manifest_csv = tmp_path / "out" / "manifest.csv"
    assert cli.main(["dataset", "info", str(root), "--manifest", str(manifest_csv), "-q"]) == 0
    out = capsys.readouterr().out
    assert "labels   : 2" in out
    for name in expected_bad:
        if not name.endswith(".m4a"):
            assert name in out
    assert len(pd.read_csv(manifest_csv)) == 7


def test_cli_dataset_info_on_gtzan(tmp_path, capsys):
    _gtzan(tmp_path / "genres")
    assert cli.main(["dataset", "info", str(tmp_path), "-q"]) == 0
    out = capsys.readouterr().out
    assert "labels   : 10" in out and "jazz.00054.wav" in out and "skipped 1 file" in out


def test_cli_errors_are_one_line_with_status_2(tmp_path, capsys):
    assert cli.main(["dataset", "info", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("musiclib: ") and "nowhere" in err and "\n" not in err


def test_dataset_commands_do_not_import_tensorflow(mixed_folder):
    root, _ = mixed_folder
    code = (
        "import sys; from musiclib import cli; "
        f"rc = cli.main(['dataset', 'info', {str(root)!r}, '-q']); "
        "print('TF', 'tensorflow' in sys.modules, rc)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "TF False 0"


def test_cli_synth_twice_gives_identical_files_and_loads(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert cli.main(["dataset", "synth", "--profile", "tiny", "--seed", "1", "--out", str(out), "-q"]) == 0
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b and len([f for f in files_a if f.suffix == ".wav"]) >= 8 * 4
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    ds = ml.datasets.from_folder(a)
    assert len(ds.labels) >= 8 and len(ds.skipped) == 0
    assert cli.main(["dataset", "info", str(a), "-q"]) == 0
    assert f"labels   : {len(ds.labels)}" in capsys.readouterr().out


def test_synthetic_dataset_follows_the_settings(isolated_settings):
    ds = ml.datasets.load(settings=ml.config.settings())  # tiny profile from the environment
    assert ds.kind == "synthetic" and ds.root == ml.config.settings().synthetic_dir
    assert ds.manifest.groupby("label").size().eq(ml.config.PROFILES["tiny"].clips_per_style).all()
    assert ds.manifest["duration_s"].eq(ml.config.PROFILES["tiny"].clip_seconds).all()
    y = ds.load_audio(0)
    assert y.dtype == np.float32 and y.shape == (int(4.0 * SR),)
