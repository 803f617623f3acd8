"""Tests of musiclib.synth, the built-in synthetic dataset (tiny sizes: seconds in all)."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest
import soundfile as sf

from musiclib import safe_write, synth
from musiclib.config import Profile
from musiclib.errors import MusiclibError

SR = 22050
FEW = ["pluck_folk_major", "saw_techno"]


def _tree_bytes(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_at_least_eight_styles_with_tidy_labels():
    names = synth.style_names()
    assert len(names) >= 8
    assert names == sorted(synth.STYLES)
    for name, recipe in synth.STYLES.items():
        assert recipe.name == name
        assert name.islower() and " " not in name and name.replace("_", "").isalpha()
        assert dataclasses.is_dataclass(recipe)
        with pytest.raises(dataclasses.FrozenInstanceError):
            recipe.name = "other"  # type: ignore[misc]


def test_designed_pairs_differ_only_in_their_dimensions():
    # dimension name -> recipe fields it covers
    fields = {"tempo": {"bpm"}, "rhythm": {"drums", "swing"},
              "harmony": {"scale", "progressions", "sevenths", "keys"},
              "timbre": {"timbre"}, "texture": {"texture"}, "noise": {"finish"}}
    ignore = {"name", "summary"}
    for a, b, dims, _features in synth.STYLE_PAIRS:
        ra, rb = dataclasses.asdict(synth.STYLES[a]), dataclasses.asdict(synth.STYLES[b])
        differing = {k for k in ra if k not in ignore and ra[k] != rb[k]}
        allowed = set().union(*(fields[d] for d in dims))
        assert differing and differing <= allowed, (a, b, differing)
        assert a in synth.__doc__ and b in synth.__doc__


@pytest.mark.parametrize("style", synth.style_names())
def test_render_clip_shape_dtype_level(style):
    y = synth.render_clip(style, 2.0, seed=3, index=1)
    assert y.dtype == np.float32 and y.shape == (round(2.0 * SR),)
    assert np.all(np.isfinite(y))
    assert 0.05 < np.max(np.abs(y)) <= 1.0
    assert np.sqrt(np.mean(y.astype(float) ** 2)) > 1e-3  # not silent


def test_render_clip_length_rounds_and_other_rate():
    assert synth.render_clip("bell_folk_major", 0.3333, seed=0).shape == (round(0.3333 * SR),)
    assert synth.render_clip("bell_folk_major", 1.0, sr=16000).shape == (16000,)


def test_render_clip_deterministic_and_seed_dependent():
    a = synth.render_clip("epiano_lofi", 2.0, seed=7, index=2)
    b = synth.render_clip("epiano_lofi", 2.0, seed=7, index=2)
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, synth.render_clip("epiano_lofi", 2.0, seed=8, index=2))
    assert not np.array_equal(a, synth.render_clip("epiano_lofi", 2.0, seed=7, index=3))


def test_unknown_style_and_bad_arguments_raise():
    with pytest.raises(MusiclibError, match="unknown synthetic style"):
        synth.render_clip("polka", 1.0)
    for kwargs in ({"seconds": 0}, {"seconds": -1.0}, {"seconds": float("nan")}):
        with pytest.raises(MusiclibError):
            synth.render_clip("saw_techno", **kwargs)
    with pytest.raises(MusiclibError):
        synth.render_clip("saw_techno", 1.0, seed=-1)


def test_write_dataset_bad_arguments_raise(tmp_path):
    bad = [{"styles": ["polka"]}, {"clips_per_style": 0}, {"clip_seconds": -2},
           {"imbalance": 1.5}, {"imbalance": 0}, {"jobs": 0}, {"profile": "huge"}]
    for kwargs in bad:
        with pytest.raises(MusiclibError) as info:
            synth.write_dataset(tmp_path / "d", **{"clips_per_style": 1, "clip_seconds": 0.5, **kwargs})
        assert "\n" not in str(info.value)
    assert not (tmp_path / "d").exists()


def test_write_dataset_layout_marker_and_determinism(tmp_path):
    kw = dict(profile="tiny", seed=1, clips_per_style=2, clip_seconds=2.0, styles=FEW)
    a = synth.write_dataset(tmp_path / "a", **kw)
    b = synth.write_dataset(tmp_path / "b", **kw)
    c = synth.write_dataset(tmp_path / "c", jobs=2, **kw)
    assert synth.is_complete(a)
    assert sorted(os.listdir(tmp_path)) == ["a", "b", "c"]  # no temporary folder left
    files = sorted(p.relative_to(a).as_posix() for p in a.rglob("*.wav"))
    assert files == [f"{s}/{s}.{i:05d}.wav" for s in sorted(FEW) for i in range(2)]
    info = sf.info(str(a / files[0]))
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (SR, 1, "PCM_16", 2 * SR)
    assert _tree_bytes(a) == _tree_bytes(b) == _tree_bytes(c)
    meta = json.loads((a / "synth.json").read_text())
    assert meta["synth_version"] == synth.SYNTH_VERSION
    assert meta["seed"] == 1 and meta["counts"] == {s: 2 for s in FEW}
    assert set(meta["recipes"]) == set(FEW)
    # a clip does not depend on how many others were rendered
    y, sr = sf.read(str(a / "saw_techno/saw_techno.00001.wav"), dtype="float32")
    ref = synth.render_clip("saw_techno", 2.0, seed=1, index=1)
    assert np.max(np.abs(y - ref)) <= 1.0 / 32768 + 1e-6


def test_write_dataset_is_skipped_when_complete_and_redone_when_changed(tmp_path):
    kw = dict(clips_per_style=1, clip_seconds=1.0, styles=["pad_drone_phrygian"])
    out = synth.write_dataset(tmp_path / "d", **kw)
    marker = out / "synth.json"
    stamp = marker.stat().st_mtime_ns
    synth.write_dataset(out, **kw)
    assert marker.stat().st_mtime_ns == stamp  # nothing rewritten
    synth.write_dataset(out, **{**kw, "seed": 5})
    assert json.loads(marker.read_text())["seed"] == 5
    assert sorted(os.listdir(tmp_path)) == ["d"]


def test_imbalance_gives_decreasing_counts(tmp_path):
    names = synth.style_names()[:5]
    out = synth.write_dataset(tmp_path / "d", clips_per_style=6, clip_seconds=0.5,
                              imbalance=1 / 6, styles=names)
    counts = [len(list((out / s).glob(f"{s}.*.wav"))) for s in names]
    assert counts[0] == 6 and counts[-1] == 1
    assert all(x >= y for x, y in zip(counts, counts[1:])) and len(set(counts)) > 2
    assert json.loads((out / "synth.json").read_text())["counts"] == dict(zip(names, counts))


def test_long_recordings_have_the_asked_length(tmp_path):
    prof = Profile(name="test", clips_per_style=1, clip_seconds=0.5,
                   long_recordings_per_style=1, long_recording_seconds=3.0)
    out = synth.write_dataset(tmp_path / "d", profile=prof, styles=["epiano_jazz"])
    assert sf.info(str(out / "epiano_jazz/epiano_jazz.long.00000.wav")).frames == 3 * SR
    out = synth.write_dataset(tmp_path / "e", profile=prof, styles=["epiano_jazz"],
                              long_recording_seconds=4.5)
    assert sf.info(str(out / "epiano_jazz/epiano_jazz.long.00000.wav")).frames == round(4.5 * SR)


def test_is_complete_false_for_missing_or_half_made(tmp_path):
    assert not synth.is_complete(tmp_path / "missing")
    half = tmp_path / "half"
    (half / "saw_techno").mkdir(parents=True)
    sf.write(str(half / "saw_techno/saw_techno.00000.wav"), np.zeros(100), SR)
    assert not synth.is_complete(half)
    (half / "synth.json").write_text("{not json")
    assert not synth.is_complete(half)
    # a finished dataset with a file removed is not complete either
    out = synth.write_dataset(tmp_path / "d", clips_per_style=2, clip_seconds=0.5, styles=["saw_techno"])
    (out / "saw_techno/saw_techno.00001.wav").unlink()
    assert not synth.is_complete(out)
    # and writing it again repairs it
    synth.write_dataset(out, clips_per_style=2, clip_seconds=0.5, styles=["saw_techno"])
    assert synth.is_complete(out)


def test_interrupted_run_leaves_nothing_and_stale_tmp_is_cleaned(tmp_path, monkeypatch):
    calls = []

    def boom(*args):
        calls.append(args)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(synth, "_write_one", boom)
    with pytest.raises(KeyboardInterrupt):
        synth.write_dataset(tmp_path / "d", clips_per_style=3, clip_seconds=0.5, styles=["saw_techno"])
    assert os.listdir(tmp_path) == []
    monkeypatch.undo()
    # left by a process that no longer exists (safe_write's names carry host and pid)
    stale = tmp_path / f".d.tmp-{safe_write.HOST}-999999999-0badf00d"
    stale.mkdir()
    synth.write_dataset(tmp_path / "d", clips_per_style=1, clip_seconds=0.5, styles=["saw_techno"])
    assert os.listdir(tmp_path) == ["d"]


def test_a_dataset_set_aside_by_a_killed_swap_is_recovered(tmp_path):
    out = synth.write_dataset(tmp_path / "d", clips_per_style=1, clip_seconds=0.5, styles=["saw_techno"])
    # a writer killed between setting the old folder aside and renaming its new one in
    os.replace(out, tmp_path / f".d.old-{safe_write.HOST}-999999999-0badf00d")
    assert synth.is_complete(out)
    assert os.listdir(tmp_path) == ["d"]


def test_refuses_to_replace_a_foreign_folder(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("precious")
    with pytest.raises(MusiclibError, match="not a synthetic dataset"):
        synth.write_dataset(tmp_path / "mine", clips_per_style=1, clip_seconds=0.5, styles=["saw_techno"])
    assert (tmp_path / "mine" / "thesis.txt").read_text() == "precious"


def test_style_and_pair_tables_describe_every_style():
    table = synth.style_table()
    assert list(table.index) == synth.style_names()
    assert {"tempo", "rhythm", "harmony", "timbre", "texture", "noise"} <= set(table.columns)
    pairs = synth.pair_table()
    assert len(pairs) == len(synth.STYLE_PAIRS)
    assert set(pairs["style_a"]) | set(pairs["style_b"]) <= set(synth.style_names())
