"""Tests of musiclib.features: one-STFT frame features against plain librosa, summaries,
segments, and the cached, parallel extraction of a dataset."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from musiclib import features as F
from musiclib.errors import MusiclibError

SR = 22050
N_FFT = 2048
HOP = 512

# Tolerance of every feature against the plain librosa call:
#     |ours - plain| <= RTOL * |plain| + ATOL_OF_MAX * max|plain|
# Both compute the same operations on the same STFT, so they agree to float32 rounding.
# Measured on noise and synthetic music: bit-identical after a float32 cast when BLAS runs
# with the same thread count; otherwise (frame_features runs BLAS on one thread) the mel
# product sums in another order: worst 1.2e-5 relative (an MFCC near zero) and 1.8e-7 of the
# feature's largest value. The bounds below leave ~10x headroom on the scaled error.
RTOL = 1e-5
ATOL_OF_MAX = 1e-6


def _signal(kind: str, seconds: float = 3.0) -> np.ndarray:
    n = int(seconds * SR)
    rng = np.random.default_rng(0)
    if kind == "noise":
        return (0.1 * rng.standard_normal(n)).astype(np.float32)
    if kind == "chord":  # slightly sharp A minor with an onset and a decaying envelope
        t = np.arange(n) / SR
        y = sum(np.sin(2 * np.pi * f * 1.007 * t) for f in (220.0, 261.63, 329.63))
        env = np.where(t < 0.5, 0.05, np.exp(-(t - 0.5)))
        return (0.2 * env * y + 0.002 * rng.standard_normal(n)).astype(np.float32)
    from musiclib import synth

    return synth.render_clip("epiano_jazz", seconds, seed=1)


def _plain(y: np.ndarray) -> dict[str, np.ndarray]:
    """Every feature the plain way: each librosa function from the waveform."""
    kw = dict(n_fft=N_FFT, hop_length=HOP)
    return {
        "zcr": librosa.feature.zero_crossing_rate(y=y, frame_length=N_FFT, hop_length=HOP),
        "rms": librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP),
        "spectral_centroid": librosa.feature.spectral_centroid(y=y, sr=SR, **kw),
        "spectral_bandwidth": librosa.feature.spectral_bandwidth(y=y, sr=SR, **kw),
        "spectral_rolloff": librosa.feature.spectral_rolloff(y=y, sr=SR, roll_percent=0.85, **kw),
        "spectral_flatness": librosa.feature.spectral_flatness(y=y, **kw),
        "contrast": librosa.feature.spectral_contrast(y=y, sr=SR, fmin=200.0, n_bands=6, **kw),
        "mel": librosa.feature.melspectrogram(y=y, sr=SR, n_mels=128, **kw),
        "mfcc": librosa.feature.mfcc(y=y, sr=SR, n_mfcc=13, **kw),
        "chroma": librosa.feature.chroma_stft(y=y, sr=SR, n_chroma=12, **kw),
        "logspec": librosa.amplitude_to_db(np.abs(librosa.stft(y, **kw)), ref=1.0, top_db=None),
    }


@pytest.fixture(scope="module", params=["noise", "chord", "synth"])
def computed(request):
    y = _signal(request.param)
    # frame_features first scales the signal to FeatureConfig.level_db (-20 dBFS RMS)
    return y, F.frame_features(y), _plain(F.normalise_level(y, -20.0))


# ------------------------------------------------------------------------------ config


def test_config_json_round_trip_and_defaults():
    cfg = F.FeatureConfig()
    assert (cfg.sample_rate, cfg.n_fft, cfg.hop_length, cfg.n_mfcc, cfg.n_mels) == (22050, 2048, 512, 13, 128)
    assert cfg.frames_per_segment == 130
    for other in (
        cfg,
        F.FeatureConfig(n_mfcc=20, fmax=8000, tuning=0.0, mel_bins_summary=None, window="hamming"),
    ):
        assert F.FeatureConfig.from_json(other.to_json()) == other
        assert F.FeatureConfig.from_dict(json.loads(json.dumps(other.to_dict()))) == other
        assert F.FeatureConfig.from_json(other.to_json()).config_hash == other.config_hash


def test_config_from_json_file_and_unknown_keys(tmp_path):
    path = tmp_path / "features.json"
    path.write_text(F.FeatureConfig(n_mels=64).to_json(indent=2))
    assert F.FeatureConfig.from_json(path).n_mels == 64
    assert F.FeatureConfig.from_json(str(path)).n_mels == 64
    with pytest.raises(MusiclibError, match="unknown setting"):
        F.FeatureConfig.from_dict({"n_mfccs": 13})


def test_config_hash_is_stable_across_processes_and_types():
    cfg = F.FeatureConfig()
    assert re.fullmatch(r"[0-9a-f]{12}", cfg.config_hash)
    # equal settings written differently hash the same
    assert F.FeatureConfig(segment_seconds=3, fmin=0, n_fft=np.int64(2048)).config_hash == cfg.config_hash
    code = "from musiclib.features import FeatureConfig; print(FeatureConfig().config_hash)"
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert other.stdout.strip() == cfg.config_hash


def test_config_hash_changes_with_every_setting_and_version(monkeypatch):
    cfg = F.FeatureConfig()
    changed = {
        "sample_rate": 16000, "n_fft": 1024, "hop_length": 256, "window": "hamming",
        "center": False, "pad_mode": "reflect", "n_mfcc": 20, "n_mels": 64, "fmin": 20.0,
        "fmax": 8000.0, "top_db": None, "n_chroma": 24, "tuning": 0.0, "n_bands": 5,
        "contrast_fmin": 100.0, "contrast_quantile": 0.05, "roll_percent": 0.9,
        "logspec_amin": 1e-6, "logspec_top_db": 80.0, "segment_seconds": 5.94,
        "mel_bins_summary": None, "logspec_summary": True, "level_db": None,
    }
    assert set(changed) == {f.name for f in dataclasses.fields(cfg)}
    hashes = {cfg.config_hash}
    for name, value in changed.items():
        hashes.add(dataclasses.replace(cfg, **{name: value}).config_hash)
    assert len(hashes) == len(changed) + 1
    monkeypatch.setattr(F.config, "FEATURES_VERSION", "test")  # read by config_hash
    assert cfg.config_hash not in hashes


def test_config_rejects_bad_settings():
    with pytest.raises(MusiclibError, match="hop_length"):
        F.FeatureConfig(hop_length=4096)
    with pytest.raises(MusiclibError, match="positive integer"):
        F.FeatureConfig(n_mfcc=0)
    with pytest.raises(MusiclibError, match="mel_bins_summary"):
        F.FeatureConfig(mel_bins_summary=500)
    with pytest.raises(dataclasses.FrozenInstanceError):
        F.FeatureConfig().n_fft = 1024


# ---------------------------------------------------------------------- frame features


@pytest.mark.parametrize("name", F.FRAME_FEATURES)
def test_feature_matches_plain_librosa(computed, name):
    _, ours, plain = computed
    expected = plain[name]
    assert ours[name].shape == expected.shape
    np.testing.assert_allclose(
        ours[name], expected, rtol=RTOL, atol=ATOL_OF_MAX * float(np.abs(expected).max()), err_msg=name
    )


def test_shapes_dtypes_and_frames(computed):
    y, ours, _ = computed
    cfg = F.FeatureConfig()
    assert list(ours) == list(F.FRAME_FEATURES)
    n_frames = cfg.n_frames(len(y))
    assert n_frames == 1 + len(y) // HOP
    for name, arr in ours.items():
        assert arr.dtype == np.float32, name
        assert arr.shape == (cfg.n_rows(name), n_frames), name
        assert arr.flags["C_CONTIGUOUS"]
        assert np.isfinite(arr).all(), name
    assert ours["contrast"].shape[0] == 7 and ours["logspec"].shape[0] == 1025


def test_rms_is_the_time_domain_definition():
    """RMS comes from the waveform: sqrt(mean(frame**2)) of zero-padded, centred frames."""
    y = _signal("chord", 2.0)
    as_recorded = F.FeatureConfig(level_db=None)
    ours = F.frame_features(y, as_recorded, features=["rms"])["rms"][0]
    padded = np.pad(y.astype(np.float64), N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    np.testing.assert_allclose(ours, np.sqrt(np.mean(frames**2, axis=1)), rtol=1e-5, atol=1e-9)
    # rms(S=S) would measure the Hann-windowed frame instead: ~0.61 x on steady noise,
    # which is why the module keeps the time-domain value (see frame_features' docstring).
    noise = _signal("noise", 2.0)
    spectral = librosa.feature.rms(S=np.abs(librosa.stft(noise)), frame_length=N_FFT)[0]
    ratio = np.median(spectral[4:-4] / F.frame_features(noise, as_recorded, features="rms")["rms"][0][4:-4])
    window_rms = np.sqrt(np.mean(librosa.filters.get_window("hann", N_FFT) ** 2))
    assert ratio == pytest.approx(window_rms, rel=0.02)


def test_features_do_not_depend_on_the_level():
    """A quiet and a loud copy of one signal get the same features; level_db=None keeps the level."""
    y = _signal("synth", 2.0)
    y = 0.9 * y / np.abs(y).max()
    loud, quiet = F.frame_features(y), F.frame_features(y * (0.05 / 0.9))
    for name in F.FRAME_FEATURES:
        np.testing.assert_allclose(quiet[name], loud[name], rtol=1e-3,
                                   atol=1e-4 * float(np.abs(loud[name]).max()), err_msg=name)
    assert np.sqrt(np.mean(F.normalise_level(y, -20.0).astype(np.float64) ** 2)) == pytest.approx(0.1, rel=1e-5)
    as_recorded = F.FeatureConfig(level_db=None)
    rms = F.frame_features(y, as_recorded, features="rms")["rms"]
    rms_quiet = F.frame_features(y * (0.05 / 0.9), as_recorded, features="rms")["rms"]
    np.testing.assert_allclose(rms_quiet, rms * (0.05 / 0.9), rtol=1e-4)
    silent = np.zeros(4096, dtype=np.float32)
    assert F.normalise_level(silent) is silent


def test_subset_of_features_equals_the_full_computation(computed):
    y, ours, _ = computed
    part = F.frame_features(y, features=["spectral", "chroma"])
    assert list(part) == F.FEATURE_GROUPS["spectral"] + ["chroma"]
    for name, arr in part.items():
        np.testing.assert_array_equal(arr, ours[name])
    with pytest.raises(MusiclibError, match="unknown feature"):
        F.frame_features(y, features=["mfccs"])


def _count_piptrack(monkeypatch) -> list:
    """Count tuning estimates wherever they are made: every one goes through piptrack."""
    pitch = importlib.import_module("librosa.core.pitch")
    calls = []
    real = pitch.piptrack

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pitch, "piptrack", counting)
    return calls


def test_chroma_tuning_is_estimated_once_per_signal(monkeypatch):
    y = _signal("chord", 2.0)
    calls = _count_piptrack(monkeypatch)
    feats = F.frame_features(y)
    assert len(calls) == 1
    assert "chroma" in feats
    calls.clear()
    F.frame_features(y, features=["mfcc", "mel"])  # no chroma, no estimate
    assert calls == []
    F.frame_features(y, F.FeatureConfig(tuning=0.0))  # a known tuning: no estimate
    assert calls == []
    F.frame_features(y, features="chroma", tuning=0.1)
    assert calls == []
    # the plain call makes its own estimate, the same one
    calls.clear()
    librosa.feature.chroma_stft(y=y, sr=SR)
    assert len(calls) == 1
    power = np.abs(librosa.stft(y)) ** 2
    assert F.estimate_tuning(power) == librosa.estimate_tuning(S=power, sr=SR)


def test_frame_features_rejects_bad_signals():
    with pytest.raises(MusiclibError, match="mono"):
        F.frame_features(np.zeros((2, 4096), np.float32))
    with pytest.raises(MusiclibError, match="empty"):
        F.frame_features(np.zeros(0, np.float32))


@pytest.mark.filterwarnings("error")
def test_silence_gives_finite_features():
    feats = F.frame_features(np.zeros(SR, np.float32))
    summary = F.clip_summary(feats)
    assert all(np.isfinite(v) for v in summary.values())


# --------------------------------------------------------------------------- summaries


def test_clip_summary_columns_and_values(computed):
    _, ours, _ = computed
    summary = F.clip_summary(ours)
    assert list(summary) == F.summary_columns("all")
    assert all(isinstance(v, float) and np.isfinite(v) for v in summary.values())
    for key in ("zcr_mean", "zcr_std", "rms_mean", "spectral_centroid_mean", "spectral_flatness_std",
                "contrast_3_mean", "contrast_7_std", "mfcc_01_mean", "mfcc_13_std", "chroma_01_mean",
                "chroma_12_std", "mel_01_mean", "mel_12_std"):
        assert key in summary, key
    assert summary["zcr_mean"] == pytest.approx(float(np.mean(ours["zcr"].astype(np.float64))))
    assert summary["mfcc_02_std"] == pytest.approx(float(np.std(ours["mfcc"][1].astype(np.float64))))
    # mel: dB of the mean power of 12 contiguous groups of bands (first group: bands 0..10)
    first = librosa.power_to_db(ours["mel"][:11].astype(np.float64).mean(axis=0), top_db=None)
    assert summary["mel_01_mean"] == pytest.approx(float(first.mean()))
    assert not any(k.startswith("logspec") for k in summary)


def test_summary_columns_groups_and_options():
    spectral = F.summary_columns("spectral")
    assert len(spectral) == 2 * (6 + 7)
    assert spectral[:4] == ["zcr_mean", "zcr_std", "rms_mean", "rms_std"]
    assert len(F.summary_columns("mfcc")) == 26
    assert len(F.summary_columns("chroma")) == 24
    assert len(F.summary_columns("mel")) == 24
    full = F.FeatureConfig(mel_bins_summary=None, logspec_summary=True)
    assert F.summary_columns("mel", full)[:2] == ["mel_001_mean", "mel_001_std"]
    assert len(F.summary_columns("mel", full)) == 256
    assert len(F.summary_columns("logspec", full)) == 2 * 1025
    assert F.summary_columns("logspec") == []  # not summarised unless asked for
    assert F.summary_columns(["mfcc", "chroma"]) == F.summary_columns("mfcc") + F.summary_columns("chroma")
    y = _signal("noise", 1.0)
    summary = F.clip_summary(F.frame_features(y, full), full)
    assert list(summary) == F.summary_columns("all", full)
    assert set(F.FEATURE_GROUPS) >= {"spectral", "mfcc", "chroma", "mel"}
    assert len(F.FEATURE_GROUPS["spectral"]) == 7


# ---------------------------------------------------------------------------- segments


def test_segment_matrices_of_a_30_s_clip():
    y = (0.1 * np.random.default_rng(1).standard_normal(30 * SR)).astype(np.float32)
    X = F.segment_matrices(y)
    assert X.shape == (10, 130, 13) and X.dtype == np.float32
    mfcc = F.frame_features(y, features="mfcc")["mfcc"]
    assert mfcc.shape[1] == 1292
    starts = F.segment_starts(mfcc.shape[1])
    assert list(starts) == [int(np.floor(k * 3 * SR / HOP)) for k in range(10)]
    for k, s in enumerate(starts):
        np.testing.assert_array_equal(X[k], mfcc[:, s : s + 130].T)
    np.testing.assert_array_equal(F.segment_matrices({"mfcc": mfcc}), X)
    np.testing.assert_array_equal(F.segment_matrices(mfcc), X)
    mel = F.segment_matrices(y, feature="mel")
    assert mel.shape == (10, 130, 128)


def test_segments_never_pad():
    cfg = F.FeatureConfig()
    assert len(F.segment_starts(129, cfg)) == 0
    assert len(F.segment_starts(130, cfg)) == 1
    # a GTZAN clip a little short of 30 s has 9 whole segments, not a padded 10th
    assert len(F.segment_starts(cfg.n_frames(660000), cfg)) == 9
    assert F.segment_matrices(np.zeros((13, 100), np.float32)).shape == (0, 130, 13)
    vae = F.FeatureConfig(segment_seconds=5.94)
    assert vae.frames_per_segment == 256


# --------------------------------------------------------------------- the dataset cache


def _write(path: Path, y: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y, SR, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    """6 clips of 2 s in 2 labels, one long file cut into 2 clips, one unreadable file."""
    root = tmp_path_factory.mktemp("tiny_dataset")
    rng = np.random.default_rng(3)
    rows = []
    for label, freq in (("low", 220.0), ("high", 880.0)):
        for k in range(3):
            t = np.arange(2 * SR) / SR
            y = 0.3 * np.sin(2 * np.pi * freq * (1 + 0.05 * k) * t) + 0.02 * rng.standard_normal(t.size)
            path = _write(root / label / f"{label}.{k:05d}.wav", y.astype(np.float32))
            rows.append(dict(track_id=f"{label}.{k:05d}", path=str(path), label=label, duration_s=2.0,
                             sample_rate=SR, group=f"{label}.{k:05d}", offset_s=0.0, split="train"))
    long = _write(root / "low" / "long.wav", (0.1 * rng.standard_normal(5 * SR)).astype(np.float32))
    for k, off in enumerate((0.0, 2.5)):
        rows.append(dict(track_id=f"low/long@{k:04d}", path=str(long), label="low", duration_s=2.5,
                         sample_rate=SR, group="low/long", offset_s=off, split="test"))
    bad = root / "high" / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEthis is not audio")
    rows.append(dict(track_id="high.broken", path=str(bad), label="high", duration_s=2.0,
                     sample_rate=SR, group="high.broken", offset_s=0.0, split="train"))
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def first_run(tiny_dataset, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache_first")
    return cache, F.extract_dataset(tiny_dataset, cache_dir=cache, jobs=1, progress=False)


def _tmp_files(folder: Path) -> list[Path]:
    return [p for p in Path(folder).rglob("*") if ".tmp-" in p.name]


def test_extract_dataset_skips_unreadable_files_with_reason(first_run, tiny_dataset):
    _, fs = first_run
    assert fs.stats["computed"] == 8 and fs.stats["cached"] == 0 and fs.stats["skipped"] == 1
    assert list(fs.skipped.columns) == ["track_id", "path", "reason"]
    assert fs.skipped["track_id"].tolist() == ["high.broken"]
    assert fs.skipped["path"].iloc[0].endswith("broken.wav")
    from musiclib import audio
    from musiclib.errors import AudioFileError

    with pytest.raises(AudioFileError) as err:  # the reason is audio.load's, word for word
        audio.load(fs.skipped["path"].iloc[0], sr=SR)
    assert fs.skipped["reason"].iloc[0] == err.value.reason
    assert len(fs) == 8
    manifest_cols = list(tiny_dataset.columns)
    assert list(fs.summaries.columns) == manifest_cols + F.summary_columns("all", fs.config)
    assert fs.summaries["track_id"].tolist() == tiny_dataset["track_id"].tolist()[:-1]
    assert np.isfinite(fs.summaries[F.summary_columns("all")].to_numpy()).all()
    assert fs.features == list(F.FRAME_FEATURES)


def test_cached_arrays_equal_frame_features(first_run, tiny_dataset):
    _, fs = first_run
    from musiclib import audio

    row = tiny_dataset.iloc[7]  # the second clip of the long file: offset 2.5 s
    y = audio.load(row["path"], sr=SR, offset_s=row["offset_s"], duration_s=row["duration_s"])
    expected = F.frame_features(y)
    for name in F.FRAME_FEATURES:
        arr = fs.frames(row["track_id"], name)
        assert isinstance(arr, np.memmap) and arr.dtype == np.float32
        np.testing.assert_array_equal(arr, expected[name])
    summary = F.clip_summary(expected)
    got = fs.summaries.set_index("track_id").loc[row["track_id"], list(summary)]
    np.testing.assert_allclose(got.to_numpy(float), list(summary.values()), rtol=1e-12)
    with pytest.raises(KeyError):
        fs.frames("high.broken", "mfcc")


def test_second_run_is_served_from_cache(first_run, tiny_dataset):
    cache, fs = first_run
    again = F.extract_dataset(tiny_dataset, cache_dir=cache, progress=False)
    assert again.stats["cached"] == 8 and again.stats["computed"] == 0 and again.stats["skipped"] == 1
    pd.testing.assert_frame_equal(again.summaries, fs.summaries)
    assert not _tmp_files(cache)
    # a new config has its own folder and computes again
    other = F.extract_dataset(tiny_dataset, F.FeatureConfig(n_mfcc=20), cache_dir=cache,
                              features=["mfcc"], progress=False)
    assert other.stats["computed"] == 8 and other.folder != fs.folder
    assert other.frames("low.00000", "mfcc").shape[0] == 20


def test_a_changed_file_is_recomputed(tiny_dataset, tmp_path):
    manifest = tiny_dataset.iloc[:2].copy()
    src = Path(manifest["path"].iloc[0])
    copy = tmp_path / "copy.wav"
    copy.write_bytes(src.read_bytes())
    manifest.loc[manifest.index[0], "path"] = str(copy)
    as_recorded = F.FeatureConfig(level_db=None)  # so that a quieter copy has other features
    first = F.extract_dataset(manifest, as_recorded, cache_dir=tmp_path / "c", features="mfcc", progress=False)
    y, sr = sf.read(copy, dtype="float32")
    sf.write(copy, 0.5 * y, sr, subtype="PCM_16")
    os.utime(copy, ns=(1, 1))  # even a rewrite within the same mtime tick changes size or mtime
    second = F.extract_dataset(manifest, as_recorded, cache_dir=tmp_path / "c", features="mfcc", progress=False)
    assert (second.stats["computed"], second.stats["cached"]) == (1, 1)
    assert second.summaries["rms_mean"].iloc[0] == pytest.approx(0.5 * first.summaries["rms_mean"].iloc[0], rel=1e-3)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_killed_run_leaves_no_trace_and_resumes(first_run, tiny_dataset, tmp_path):
    src_cache, fs = first_run
    cache = tmp_path / "cache"
    import shutil

    shutil.copytree(src_cache, cache)
    entry = fs._entries["low.00001"][0]
    entry = cache / entry.relative_to(src_cache)
    # what a SIGKILL in the middle of writing this entry leaves: the marker not yet written,
    # a half-written array under its temporary name, and a stale temp file elsewhere
    (entry / "summary.json").unlink()
    (entry / "mel.npy").unlink()
    host = F._HOST
    (entry / f".mel.npy.tmp-{host}-{_dead_pid()}-0badf00d").write_bytes(b"\x93NUMPY half")
    other = next(p for p in entry.parent.iterdir() if p.is_dir() and p != entry)
    (other / f".summary.json.tmp-{host}-{_dead_pid()}-deadbeef").write_text("{")
    old = other / ".mfcc.npy.tmp-otherhost-1-cafecafe"
    old.write_bytes(b"x")
    os.utime(old, (1, 1))
    alive = other / f".mfcc.npy.tmp-{host}-{os.getpid()}-11111111"  # a live writer's: kept
    alive.write_bytes(b"x")

    again = F.extract_dataset(tiny_dataset, cache_dir=cache, progress=False)
    assert (again.stats["computed"], again.stats["cached"]) == (1, 7)
    assert _tmp_files(cache) == [alive]
    alive.unlink()
    pd.testing.assert_frame_equal(again.summaries, fs.summaries)
    np.testing.assert_array_equal(again.frames("low.00001", "mel"), fs.frames("low.00001", "mel"))


def test_interrupted_run_resumes(tiny_dataset, tmp_path, monkeypatch):
    real = F.extract._extract_one
    done = []

    def interrupted(task):
        if len(done) == 3:
            raise KeyboardInterrupt
        done.append(task["track_id"])
        return real(task)

    monkeypatch.setattr(F.extract, "_extract_one", interrupted)  # what the runners call
    with pytest.raises(KeyboardInterrupt):
        F.extract_dataset(tiny_dataset, cache_dir=tmp_path, progress=False)
    monkeypatch.setattr(F.extract, "_extract_one", real)

    # a write interrupted half-way through removes its temporary file
    real_save = np.save
    calls = []

    def killed_save(fh, arr, **kw):
        calls.append(1)
        if len(calls) == 5:
            fh.write(b"\x93NUMPY partial")
            raise KeyboardInterrupt
        return real_save(fh, arr, **kw)

    monkeypatch.setattr(np, "save", killed_save)
    with pytest.raises(KeyboardInterrupt):
        F.extract_dataset(tiny_dataset, cache_dir=tmp_path, progress=False)
    monkeypatch.setattr(np, "save", real_save)
    assert not _tmp_files(tmp_path)

    fs = F.extract_dataset(tiny_dataset, cache_dir=tmp_path, progress=False)
    assert fs.stats["cached"] == 3 and fs.stats["computed"] == 5 and fs.stats["skipped"] == 1
    assert not _tmp_files(tmp_path)


def test_asking_for_more_features_extends_the_entries(tiny_dataset, tmp_path):
    manifest = tiny_dataset.iloc[:3]
    a = F.extract_dataset(manifest, cache_dir=tmp_path, features=["mfcc"], progress=False)
    with pytest.raises(KeyError, match="not stored"):
        a.frames("low.00000", "mel")
    b = F.extract_dataset(manifest, cache_dir=tmp_path, features=["mel", "mfcc"], progress=False)
    assert b.stats["computed"] == 3
    c = F.extract_dataset(manifest, cache_dir=tmp_path, features=["mfcc"], progress=False)
    assert c.stats["cached"] == 3
    d = F.extract_dataset(manifest, cache_dir=tmp_path, features=(), progress=False)
    assert d.stats["cached"] == 3 and d.features == []
    pd.testing.assert_frame_equal(a.summaries, d.summaries)


def test_features_none_stores_nothing_but_summaries(first_run, tiny_dataset, tmp_path):
    _, fs = first_run
    manifest = tiny_dataset.iloc[:2]
    none = F.extract_dataset(manifest, cache_dir=tmp_path, features=None, progress=False)
    assert none.stats["computed"] == 2 and none.features == []
    assert not list(tmp_path.rglob("*.npy"))  # summaries only, as documented
    with pytest.raises(KeyError, match="not stored"):
        none.frames("low.00000", "mfcc")
    pd.testing.assert_frame_equal(none.summaries, fs.summaries.iloc[:2])


def test_logspec_is_computed_only_when_stored_or_summarised(first_run, tiny_dataset, tmp_path, monkeypatch):
    _, fs = first_run
    calls = []
    real = librosa.amplitude_to_db  # frame_features' only use of it is the log-spectrogram

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(librosa, "amplitude_to_db", counting)
    manifest = tiny_dataset.iloc[:3]
    mfcc = F.extract_dataset(manifest, cache_dir=tmp_path / "a", features=["mfcc"], jobs=1, progress=False)
    assert mfcc.stats["computed"] == 3 and calls == []
    pd.testing.assert_frame_equal(mfcc.summaries, fs.summaries.iloc[:3])  # the same numbers
    np.testing.assert_array_equal(mfcc.frames("low.00001", "mfcc"), fs.frames("low.00001", "mfcc"))
    logspec = F.extract_dataset(manifest, cache_dir=tmp_path / "b", features=["logspec"], jobs=1, progress=False)
    assert logspec.stats["computed"] == 3 and len(calls) == 3
    np.testing.assert_array_equal(logspec.frames("low.00001", "logspec"), fs.frames("low.00001", "logspec"))
    summarised = F.FeatureConfig(logspec_summary=True)  # summarised, though not stored
    F.extract_dataset(manifest, summarised, cache_dir=tmp_path / "c", features=(), jobs=1, progress=False)
    assert len(calls) == 6


def test_segments_stream_from_the_cache(first_run, tmp_path):
    _, fs = first_run
    X, meta = fs.segments("mfcc")
    assert X.shape == (0, 130, 13)  # 2 s and 2.5 s clips hold no whole 3 s segment
    assert list(meta.columns) == ["track_id", "label", "group", "split", "segment", "start_s"]
    cfg = F.FeatureConfig(segment_seconds=1.0)  # 44 frames per segment
    fs1 = dataclasses.replace(fs, config=cfg)
    X, meta = fs1.segments("mfcc")
    per_clip = [len(F.segment_starts(fs.n_frames(t), cfg)) for t in fs.track_ids]
    assert X.shape == (sum(per_clip), 44, 13) and X.dtype == np.float32
    assert list(meta.columns) == ["track_id", "label", "group", "split", "segment", "start_s"]
    assert meta["track_id"].tolist() == [t for t, n in zip(fs.track_ids, per_clip) for _ in range(n)]
    first = fs.track_ids[0]
    np.testing.assert_array_equal(X[: per_clip[0]], F.segment_matrices(np.asarray(fs.frames(first, "mfcc")), cfg))
    on_disk, meta2 = fs1.segments("mel", out=tmp_path / "mel_segments.npy")
    assert on_disk.shape == (sum(per_clip), 44, 128)
    np.testing.assert_array_equal(np.load(tmp_path / "mel_segments.npy", mmap_mode="r")[-1], on_disk[-1])
    sub, sub_meta = fs1.segments("mfcc", track_ids=[first])
    assert len(sub) == per_clip[0] and set(sub_meta["track_id"]) == {first}


@pytest.mark.slow
def test_two_processes_give_the_same_result(first_run, tiny_dataset, tmp_path):
    _, fs = first_run
    par = F.extract_dataset(tiny_dataset, cache_dir=tmp_path, jobs=2, progress=False)
    assert par.stats["computed"] == 8
    pd.testing.assert_frame_equal(par.summaries, fs.summaries)
    pd.testing.assert_frame_equal(par.skipped, fs.skipped)
    for t in fs.track_ids:
        np.testing.assert_array_equal(par.frames(t, "chroma"), fs.frames(t, "chroma"))


@pytest.mark.slow
def test_dask_cluster_gives_the_same_result(first_run, tiny_dataset, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    _, fs = first_run
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        monkeypatch.setenv(F.ENV_DASK_SCHEDULER, cluster.scheduler_address)
        via_env = F.extract_dataset(tiny_dataset.iloc[:4], cache_dir=tmp_path / "env", progress=False)
        monkeypatch.delenv(F.ENV_DASK_SCHEDULER)
        with distributed.Client(cluster) as client:
            dask = F.extract_dataset(tiny_dataset, cache_dir=tmp_path / "d", scheduler=client, progress=False)
    assert dask.stats["computed"] == 8 and dask.stats["skipped"] == 1
    pd.testing.assert_frame_equal(dask.summaries, fs.summaries)
    pd.testing.assert_frame_equal(dask.skipped, fs.skipped)
    pd.testing.assert_frame_equal(via_env.summaries, fs.summaries.iloc[:4])


def test_duplicate_track_ids_are_refused(tiny_dataset, tmp_path):
    with pytest.raises(MusiclibError, match="more than once"):
        F.extract_dataset(pd.concat([tiny_dataset, tiny_dataset.iloc[:1]]), cache_dir=tmp_path, progress=False)


# ------------------------------------------------------------------------------ command


def test_run_features_command(tmp_path, capsys):
    from musiclib.cli import run_features_command

    root = tmp_path / "collection"
    for label, freq in (("a", 300.0), ("b", 600.0)):
        for k in range(2):
            t = np.arange(int(1.5 * SR)) / SR
            _write(root / label / f"{k}.wav", (0.3 * np.sin(2 * np.pi * freq * (k + 1) * t)).astype(np.float32))
    (root / "b" / "broken.wav").write_bytes(b"not audio at all")
    out = tmp_path / "out"
    assert run_features_command(str(root), out, jobs=1, scheduler=None, profile="tiny", progress=False) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert any(line.startswith("skipped ") and "broken.wav" in line for line in lines)
    assert re.match(r"features of 4 recordings \(0 from cache, 4 computed, 1 skipped\) in [\d.]+ s", lines[-1])
    table = pd.read_csv(out / "summaries.csv")
    assert len(table) == 4 and "mfcc_13_std" in table.columns
    assert not _tmp_files(out)
    assert run_features_command(str(root), out, jobs=1, scheduler=None, profile="tiny", progress=False) == 0
    assert "(4 from cache, 0 computed, 1 skipped)" in capsys.readouterr().out


def test_no_tensorflow_import(first_run, tiny_dataset, tmp_path):
    """musiclib.features and everything it imports, extraction included, leave TensorFlow out."""
    cache, _ = first_run
    tiny_dataset.to_csv(tmp_path / "manifest.csv", index=False)
    code = (
        "import sys, numpy as np, pandas as pd\n"
        "import musiclib.features as F\n"
        "F.clip_summary(F.frame_features(np.random.default_rng(0).standard_normal(22050).astype('float32')))\n"
        f"m = pd.read_csv({str(tmp_path / 'manifest.csv')!r})\n"
        f"F.extract_dataset(m.iloc[:2], cache_dir={str(tmp_path / 'c')!r}, progress=False)\n"
        f"F.extract_dataset(m, cache_dir={str(cache)!r}, progress=False).segments('mfcc')\n"
        "bad = [m for m in ('tensorflow', 'keras', 'torch') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_features_lists_bad_files_and_reruns_from_cache(tmp_path, capsys):
    """`musiclib features` with files that fail only when decoded (NaN, truncated FLAC)."""
    from audio_factory import make_bad_files, make_sine

    from musiclib import cli

    root = tmp_path / "music"
    for label in ("low", "high"):
        for k in range(2):
            make_sine(root / label / f"{label}{k}.flac", 2.0, 44100, channels=2, freq=300.0 * (k + 1))
    bad = make_bad_files(tmp_path / "bad")
    for name in ("nan.wav", "truncated.flac", "text.wav", "zero_bytes.wav"):
        (root / "low" / name).write_bytes((tmp_path / "bad" / name).read_bytes())
    out = tmp_path / "features"
    assert cli.main(["features", str(root), "--out", str(out), "--jobs", "2", "-q"]) == 0
    printed = capsys.readouterr().out
    for name in ("nan.wav", "truncated.flac", "text.wav", "zero_bytes.wav"):
        line = next(line for line in printed.splitlines() if name in line)
        assert line.startswith("skipped ") and bad[name] in line, line
    assert "features of 4 recordings (0 from cache, 4 computed, 4 skipped)" in printed
    assert cli.main(["features", str(root), "--out", str(out), "--jobs", "1", "-q"]) == 0
    assert "(4 from cache, 0 computed, 4 skipped)" in capsys.readouterr().out
    assert cli.main(["features", str(tmp_path / "nowhere"), "--out", str(out)]) == 2


def test_power_to_db_returns_a_new_array_and_leaves_its_input_alone():
    power = np.abs(np.random.default_rng(0).normal(size=(7, 5, 3))).astype(np.float32)
    power[0] = 0.0
    expected = 10 * np.log10(np.maximum(power, np.float32(1e-10)))
    untouched = power.copy()
    db = F.power_to_db(power, chunk_rows=2)  # several blocks
    assert db is not power and db.dtype == np.float32
    np.testing.assert_array_equal(power, untouched)  # the input is still power
    np.testing.assert_allclose(db, expected, rtol=1e-6)
    assert db[0].min() == pytest.approx(-100.0)
    # converting the same rows twice gives the same dB: nothing is converted twice
    np.testing.assert_array_equal(F.power_to_db(power[:1]), db[:1])
    as_float64 = F.power_to_db(power.astype(np.float64))
    assert as_float64.dtype == np.float32
    np.testing.assert_array_equal(as_float64, db)
    np.testing.assert_array_equal(F.power_to_db(power.tolist()), db)


def test_power_to_db_out_converts_a_memmap_in_place_by_blocks(tmp_path):
    power = np.abs(np.random.default_rng(1).normal(size=(9, 4, 3))).astype(np.float32)
    expected = F.power_to_db(power)
    X = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float32, shape=power.shape)
    X[:] = power
    assert F.power_to_db(X, out=X, chunk_rows=2) is X  # in place, several blocks
    X.flush()
    del X
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), expected)
    with pytest.raises(MusiclibError, match="out must be"):
        F.power_to_db(power, out=np.empty((9, 4, 3), dtype=np.float64))
