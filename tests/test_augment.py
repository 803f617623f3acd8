"""Tests of musiclib.augment (waveform augmentation of training recordings, the split check),
augmented rows in features.extract_dataset, and the SpecAugment layer.

The central one is ``test_no_augmented_copy_of_a_held_out_recording_reaches_training``: from
a synthetic dataset through split, augmentation, feature extraction and segment cutting,
every augmented segment is on the training side and belongs to a training recording."""

from __future__ import annotations

import io
import random
import subprocess
import sys

import librosa
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st

import musiclib.augment as A
from musiclib import config, datasets, features as F, splits
from musiclib.errors import LeakageError, MusiclibError

SR = 22050


def _music(seconds: float = 2.0, seed: int = 0) -> np.ndarray:
    """A few decaying harmonic notes plus a little noise, peak 0.5."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    y = np.zeros(n)
    for k, f0 in enumerate((220.0, 277.2, 329.6, 440.0)):
        start = k * n // 4
        env = np.exp(-3.0 * np.clip(t - t[start], 0, None)) * (t >= t[start])
        for h in (1, 2, 3):
            y += env * np.sin(2 * np.pi * h * f0 * t) / h
    y += 0.01 * rng.standard_normal(n)
    return (0.5 * y / np.max(np.abs(y))).astype(np.float32)


def _logmel(y: np.ndarray) -> np.ndarray:
    return librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=SR, n_mels=64), ref=1.0, top_db=None)


# ------------------------------------------------------------------------------ signals


@pytest.mark.parametrize("strength", A.STRENGTHS)
def test_augment_signal_shape_dtype_peak_and_differs(strength):
    y = _music()
    for seed in range(6):
        out = A.augment_signal(y, sr=SR, strength=strength, seed=seed)
        assert out.dtype == np.float32 and out.shape == y.shape
        assert np.all(np.isfinite(out))
        assert np.max(np.abs(out)) <= 1.0
        assert not np.allclose(out, y, atol=1e-4), f"{strength} seed {seed} left the signal unchanged"


def test_augment_signal_limits_the_peak():
    y = np.clip(3.0 * _music(), -1, 1).astype(np.float32)  # peak 1 already: gain/noise go over
    for seed in range(8):
        out = A.augment_signal(y, sr=SR, strength="strong", seed=seed)
        assert np.max(np.abs(out)) <= 1.0


def test_strong_changes_more_than_light():
    y = _music()
    ref = _logmel(y)
    dist = {s: np.mean([np.mean(np.abs(_logmel(A.augment_signal(y, sr=SR, strength=s, seed=k)) - ref))
                        for k in range(5)])  # 5 seeds: strong is ~4x light
            for s in A.STRENGTHS}
    assert dist["strong"] > 1.3 * dist["light"], dist


def test_augment_signal_is_seeded_and_leaves_global_rngs_alone():
    y = _music()
    np.random.seed(123)
    random.seed(456)
    np_before = np.random.get_state()
    py_before = random.getstate()
    a = A.augment_signal(y, sr=SR, strength="light", seed=7)
    assert random.getstate() == py_before
    after = np.random.get_state()
    assert np.array_equal(after[1], np_before[1]) and after[2:] == np_before[2:]
    b = A.augment_signal(y, sr=SR, strength="light", seed=7)
    np.testing.assert_array_equal(a, b)
    others = [A.augment_signal(y, sr=SR, strength="light", seed=s) for s in (8, 9, 10)]
    assert all(not np.array_equal(a, o) for o in others)
    # The caller's sequence goes on as if nothing had been drawn.
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    A.augment_signal(y, sr=SR, strength="strong", seed=1)
    np.testing.assert_array_equal(np.random.random(3), expected)


def test_augment_signal_rejects_bad_input():
    with pytest.raises(MusiclibError, match="strength"):
        A.augment_signal(_music(), sr=SR, strength="medium", seed=0)
    with pytest.raises(MusiclibError, match="shape"):
        A.augment_signal(np.zeros((2, 100), np.float32), sr=SR, strength="light", seed=0)
    bad = _music()
    bad[10] = np.nan
    with pytest.raises(MusiclibError, match="non-finite"):
        A.augment_signal(bad, sr=SR, strength="light", seed=0)


def test_waveform_augmenter_holds_the_five_transforms():
    for strength in A.STRENGTHS:
        names = [type(t).__name__ for t in A.waveform_augmenter(strength).transforms]
        assert names == ["AddGaussianSNR", "Gain", "Shift", "PitchShift", "TimeStretch"]
    light, strong = A.PARAMETERS["light"], A.PARAMETERS["strong"]
    for name in light:  # strong: higher p, and ranges that contain light's
        assert strong[name]["p"] > light[name]["p"]
        (key,) = [k for k in light[name] if k != "p"]
        lo_l, hi_l = light[name][key]
        lo_s, hi_s = strong[name][key]
        assert hi_s - lo_s > hi_l - lo_l


def test_importing_augment_does_not_import_keras():
    code = ("import sys, musiclib.augment as A; "
            "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules, 'keras imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------------ manifests


def _manifest(n_groups: int = 12, clips_per_group: int = 2, n_labels: int = 3) -> pd.DataFrame:
    rows = []
    for g in range(n_groups):
        for c in range(clips_per_group):
            rows.append(dict(track_id=f"g{g:02d}@{c}", path=f"/data/g{g:02d}.wav", label=f"l{g % n_labels}",
                             group=f"g{g:02d}", offset_s=3.0 * c, duration_s=3.0))
    return pd.DataFrame(rows)


def test_augment_manifest_copies_only_training_rows():
    m = splits.assign_splits(_manifest(), seed=0)
    out = A.augment_manifest(m, copies=3, strength="strong", seed=5)
    n_train = int((m["split"] == "train").sum())
    assert len(out) == len(m) + 3 * n_train
    orig, aug = out.iloc[: len(m)], out.iloc[len(m):]
    pd.testing.assert_frame_equal(orig[m.columns].reset_index(drop=True), m.reset_index(drop=True))
    assert orig["augment"].isna().all() and orig["augment_seed"].isna().all()
    assert (aug["augment"] == "strong").all() and (aug["split"] == "train").all()
    assert out["track_id"].is_unique
    assert aug["augment_seed"].is_unique and aug["augment_seed"].notna().all()
    # Every copy keeps its original's path, label, group and part.
    src = aug["track_id"].str.split("#aug-").str[0]
    assert set(src) == set(m.loc[m["split"] == "train", "track_id"])
    assert (src.value_counts() == 3).all()
    by_id = m.set_index("track_id")
    for col in ("path", "label", "group", "offset_s", "duration_s"):
        assert (aug[col].to_numpy() == by_id.loc[src, col].to_numpy()).all(), col
    assert set(aug["group"]) <= set(m.loc[m["split"] == "train", "group"])
    assert aug["track_id"].iloc[0].endswith("#aug-strong-0")
    A.check_augmentation_split(out)
    splits.check_no_leakage(out)


def test_augment_manifest_seeds_are_stable_and_strengths_compose():
    m = splits.assign_splits(_manifest(), seed=0)
    a = A.augment_manifest(m, copies=2, strength="light", seed=1)
    b = A.augment_manifest(m.sample(frac=1.0, random_state=3), copies=2, strength="light", seed=1)
    seeds_a = dict(zip(a["track_id"], a["augment_seed"]))
    seeds_b = dict(zip(b["track_id"], b["augment_seed"]))
    assert seeds_a == seeds_b  # independent of row order (sha256 of seed, track_id, k)
    c = A.augment_manifest(m, copies=2, strength="light", seed=2)
    aug = a["augment"].notna()
    assert set(a.loc[aug, "augment_seed"]).isdisjoint(set(c.loc[c["augment"].notna(), "augment_seed"]))
    both = A.augment_manifest(a, copies=1, strength="strong", seed=1)  # copies originals only
    n_train = int((m["split"] == "train").sum())
    assert len(both) == len(m) + 3 * n_train
    assert not both["track_id"].str.contains("#aug-light-0#aug").any()
    with pytest.raises(MusiclibError, match="already"):
        A.augment_manifest(a, copies=1, strength="light", seed=1)
    assert len(A.augment_manifest(m, copies=0, strength="light")) == len(m)
    # Seeds stay below 2**53: a CSV round trip (floats, as originals leave empty cells) keeps them.
    assert (a.loc[aug, "augment_seed"] < 2**53).all()
    back = pd.read_csv(io.StringIO(a.to_csv(index=False)))
    assert back["augment_seed"].dtype == np.float64
    np.testing.assert_array_equal(back.loc[aug, "augment_seed"].astype("int64"),
                                  a.loc[aug, "augment_seed"].astype("int64"))


def test_augment_manifest_needs_a_complete_split():
    m = _manifest()
    with pytest.raises(MusiclibError, match="split"):
        A.augment_manifest(m, copies=1, strength="light")
    m2 = splits.assign_splits(m, seed=0)
    m2.loc[0, "split"] = None
    with pytest.raises(MusiclibError, match="empty"):
        A.augment_manifest(m2, copies=1, strength="light")
    m3 = splits.assign_splits(m, seed=0)
    m3.loc[0, "split"] = "holdout"
    with pytest.raises(MusiclibError, match="holdout"):
        A.augment_manifest(m3, copies=1, strength="light")
    with pytest.raises(MusiclibError, match="copies"):
        A.augment_manifest(splits.assign_splits(m, seed=0), copies=-1, strength="light")
    with pytest.raises(MusiclibError, match="strength"):
        A.augment_manifest(splits.assign_splits(m, seed=0), copies=1, strength="huge")


def test_augment_manifest_refuses_a_leaking_split():
    m = splits.assign_splits(_manifest(), seed=0)
    test_group = m.loc[m["split"] == "test", "group"].iloc[0]
    m.loc[m.index[m["split"] == "train"][0], "group"] = test_group  # one train clip of a test group
    with pytest.raises(LeakageError, match=repr(test_group)):
        A.augment_manifest(m, copies=1, strength="light")


@pytest.mark.filterwarnings("ignore:label .* has too few groups:UserWarning")
@hyp_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_groups=st.integers(6, 30),
    clips_per_group=st.integers(1, 4),
    n_labels=st.integers(1, 4),
    split_seed=st.integers(0, 2**16),
    copies=st.integers(1, 3),
    strength=st.sampled_from(A.STRENGTHS),
    fractions=st.sampled_from([(0.15, 0.15), (0.2, 0.2), (0.0, 0.3), (0.25, 0.0)]),
)
def test_property_augmented_rows_never_cross_the_split(n_groups, clips_per_group, n_labels, split_seed,
                                                       copies, strength, fractions):
    m = _manifest(n_groups, clips_per_group, n_labels)
    valid_size, test_size = fractions
    try:
        m = splits.assign_splits(m, valid_size=valid_size, test_size=test_size, seed=split_seed)
    except MusiclibError:
        return  # too few groups for the sides asked: not this property's business
    out = A.augment_manifest(m, copies=copies, strength=strength, seed=split_seed)
    aug = A.augmented_mask(out)
    held_out_groups = set(out.loc[out["split"] != "train", "group"])
    assert (out.loc[aug, "split"] == "train").all()
    assert held_out_groups.isdisjoint(out.loc[aug, "group"])
    assert aug.sum() == copies * (m["split"] == "train").sum()
    A.check_augmentation_split(out)
    splits.check_no_leakage(out)


def test_check_augmentation_split_names_the_track():
    m = splits.assign_splits(_manifest(), seed=0)
    out = A.augment_manifest(m, copies=1, strength="light", seed=0)
    # An augmented row labelled test.
    bad = out.copy()
    i = int(np.flatnonzero(A.augmented_mask(bad))[0])
    bad.loc[i, "split"] = "test"
    with pytest.raises(LeakageError, match=rf"{bad.loc[i, 'track_id']!r}.*test side"):
        A.check_augmentation_split(bad)
    # An augmented copy of a test recording, in training.
    t = m[m["split"] == "test"].iloc[0]
    forged = pd.DataFrame([{**t.to_dict(), "track_id": f"{t.track_id}#aug-light-0", "split": "train",
                            "augment": "light", "augment_seed": 1}])
    bad2 = pd.concat([out, forged], ignore_index=True)
    with pytest.raises(LeakageError, match=rf"{t.track_id}#aug-light-0.*{t.group!r}.*test side"):
        A.check_augmentation_split(bad2)
    # Same, with the group renamed to hide it: the original's track_id still gives it away.
    forged["group"] = "innocent"
    with pytest.raises(LeakageError, match=rf"original {t.track_id!r}"):
        A.check_augmentation_split(pd.concat([out, forged], ignore_index=True))
    A.check_augmentation_split(m)  # nothing augmented: passes


# ------------------------------------------------------------------------------ features


@pytest.fixture(scope="module")
def synthetic_split(tmp_path_factory):
    """A tiny synthetic dataset (4 styles x 4 clips of 3 s), split by recording."""
    root = tmp_path_factory.mktemp("augment_data")
    s = config.settings(profile="tiny", data_dir=root / "data", build_dir=root / "build", seed=0)
    styles = ["bell_folk_major", "epiano_jazz", "saw_techno", "pad_ambient_lydian"]
    ds = datasets.synthetic(s, out_dir=root / "synthetic", styles=styles, clip_seconds=3.0)
    manifest = splits.assign_splits(ds.manifest, seed=0)
    return root, manifest


@pytest.fixture(scope="module")
def augmented_run(synthetic_split):
    root, manifest = synthetic_split
    cache = root / "cache"
    plain = F.extract_dataset(manifest, cache_dir=cache, features="mfcc", progress=False)
    aug_manifest = A.augment_manifest(manifest, copies=2, strength="light", seed=0)
    aug_manifest = A.augment_manifest(aug_manifest, copies=1, strength="strong", seed=0)
    fs = F.extract_dataset(aug_manifest, cache_dir=cache, features="mfcc", progress=False)
    return manifest, aug_manifest, plain, fs, cache


def test_no_augmented_copy_of_a_held_out_recording_reaches_training(augmented_run):
    manifest, aug_manifest, _, fs, _ = augmented_run
    assert set(manifest["split"]) == {"train", "valid", "test"}
    assert fs.stats["skipped"] == 0 and len(fs) == len(aug_manifest)
    assert "augment" in fs.summaries.columns
    X, meta = fs.segments("mfcc")
    assert len(X) == len(meta) and "augment" in meta.columns
    is_aug = A.augmented_mask(meta)
    assert is_aug.any()
    # 1. every segment of an augmented track is on the training side;
    assert (meta.loc[is_aug, "split"] == "train").all()
    # 2. no group of valid/test appears among the augmented rows (manifest, summaries, segments);
    held_out = set(manifest.loc[manifest["split"] != "train", "group"])
    for frame in (aug_manifest, fs.summaries, meta):
        assert held_out.isdisjoint(frame.loc[A.augmented_mask(frame), "group"])
        # and every valid/test row is an original, untouched recording.
        assert not A.augmented_mask(frame)[(frame["split"] != "train").to_numpy()].any()
    # 3. the checks pass on every table of the run;
    for frame in (aug_manifest, fs.summaries, meta):
        A.check_augmentation_split(frame)
        splits.check_no_leakage(frame)
    # 4. and a tampered table fails, naming the track.
    test_row = meta[meta["split"] == "test"].iloc[0]
    forged = test_row.copy()
    forged["track_id"] = f"{test_row.track_id}#aug-strong-0"
    forged["augment"] = "strong"
    forged["split"] = "train"
    tampered = pd.concat([meta, forged.to_frame().T], ignore_index=True)
    with pytest.raises(LeakageError, match=rf"{forged.track_id}.*{test_row.group!r}.*test side"):
        A.check_augmentation_split(tampered)
    relabelled = meta.copy()
    j = int(np.flatnonzero(is_aug)[0])
    relabelled.loc[j, "split"] = "test"
    with pytest.raises(LeakageError, match=rf"{relabelled.loc[j, 'track_id']!r}.*test side"):
        A.check_augmentation_split(relabelled)


def test_extract_dataset_renders_and_caches_augmented_rows(augmented_run):
    manifest, aug_manifest, plain, fs, cache = augmented_run
    n_copies = int(A.augmented_mask(aug_manifest).sum())
    assert n_copies == 3 * int((manifest["split"] == "train").sum())
    # The originals came from the cache the plain run wrote; only the copies were computed.
    assert fs.stats["cached"] == len(manifest) and fs.stats["computed"] == n_copies
    # The originals' entries are the very files of the plain run (keys unchanged) ...
    for t in manifest["track_id"]:
        assert fs._entry(t)[0] == plain._entry(t)[0]
        row = manifest.set_index("track_id").loc[t]
        ident = F.file_identity(row["path"], offset_s=row["offset_s"], duration_s=row["duration_s"])
        assert fs._entry(t)[0].name == F.cache_key(ident)
    # ... and every copy has its own entry, with features of its own.
    entries = {fs._entry(t)[0] for t in aug_manifest["track_id"]}
    assert len(entries) == len(aug_manifest)
    for t in aug_manifest.loc[A.augmented_mask(aug_manifest), "track_id"]:
        original = t.split("#aug-")[0]
        a, b = np.asarray(fs.frames(t, "mfcc")), np.asarray(fs.frames(original, "mfcc"))
        assert a.shape == b.shape and not np.allclose(a, b)
    # Two copies of one recording differ from each other too.
    t0 = manifest.loc[manifest["split"] == "train", "track_id"].iloc[0]
    c0, c1 = (np.asarray(fs.frames(f"{t0}#aug-light-{k}", "mfcc")) for k in (0, 1))
    assert not np.allclose(c0, c1)
    # The stored feature is augment_signal's copy, nothing else.
    row = aug_manifest.set_index("track_id").loc[f"{t0}#aug-light-0"]
    from musiclib import audio

    y = audio.load(row["path"], sr=fs.config.sample_rate, offset_s=row["offset_s"],
                   duration_s=row["duration_s"])
    y = A.augment_signal(y, sr=fs.config.sample_rate, strength="light", seed=int(row["augment_seed"]))
    expected = F.frame_features(y, fs.config, features=["mfcc"])["mfcc"]
    np.testing.assert_allclose(c0, expected, rtol=1e-4, atol=1e-3)
    # A second run is served from the cache entirely.
    again = F.extract_dataset(aug_manifest, cache_dir=cache, features="mfcc", progress=False)
    assert again.stats["computed"] == 0 and again.stats["cached"] == len(aug_manifest)
    np.testing.assert_array_equal(np.asarray(again.frames(f"{t0}#aug-light-0", "mfcc")), c0)


def test_extract_dataset_wants_a_seed_for_augmented_rows(synthetic_split, tmp_path):
    _, manifest = synthetic_split
    m = A.augment_manifest(manifest.iloc[:4].assign(split="train"), copies=1, strength="light")
    m.loc[m["augment"].notna(), "augment_seed"] = pd.NA
    with pytest.raises(MusiclibError, match="augment_seed"):
        F.extract_dataset(m, cache_dir=tmp_path, features="mfcc", progress=False)
    m2 = manifest.iloc[:2].assign(augment="", augment_seed=pd.NA)  # empty: not augmented
    plain = F.extract_dataset(manifest.iloc[:2], cache_dir=tmp_path, features="mfcc", progress=False)
    blank = F.extract_dataset(m2, cache_dir=tmp_path, features="mfcc", progress=False)
    assert blank.stats["computed"] == 0
    assert [blank._entry(t)[0] for t in m2["track_id"]] == [plain._entry(t)[0] for t in m2["track_id"]]


# ------------------------------------------------------------------------------ SpecAugment


@pytest.fixture(scope="module")
def keras_mod():
    keras = pytest.importorskip("keras")
    from musiclib import specaugment  # noqa: F401  (registers the layer)

    return keras


def _masked_structure(x: np.ndarray, out: np.ndarray):
    """Per example: the fully replaced frames and bins; checks that nothing else changed."""
    changed = out != x
    rows = changed.all(axis=2)  # (batch, frames)
    cols = changed.all(axis=1)  # (batch, bins)
    explained = rows[:, :, None] | cols[:, None, :]
    assert not (changed & ~explained).any(), "cells changed outside whole frames / bins"
    return rows, cols


def test_spec_augment_is_identity_outside_training(keras_mod):
    x = np.random.default_rng(0).standard_normal((4, 40, 16)).astype(np.float32)
    layer = A.spec_augment_layer(time_masks=2, time_mask_width=8, freq_masks=2, freq_mask_width=4, seed=1)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)


def test_spec_augment_masks_frames_and_bins_in_training(keras_mod):
    x = np.random.default_rng(0).standard_normal((8, 40, 16)).astype(np.float32) + 5.0
    layer = A.SpecAugment(time_masks=2, time_mask_width=8, freq_masks=2, freq_mask_width=4, seed=1)
    out = np.asarray(layer(x, training=True))
    rows, cols = _masked_structure(x, out)
    assert rows.any() and cols.any()
    assert rows.sum(axis=1).max() <= 16 and cols.sum(axis=1).max() <= 8  # at most 2 bands each
    assert (~rows).any() and (~cols).any()
    # The fill is the example's own mean (the default mask_value=None).
    mean = x.mean(axis=(1, 2))
    for b in range(len(x)):
        filled = out[b][rows[b][:, None] | cols[b][None, :]]
        np.testing.assert_allclose(filled, mean[b], rtol=1e-5)
    # A constant fill, and the (batch, frames, bins, 1) layout.
    layer0 = A.SpecAugment(time_masks=1, time_mask_width=10, freq_masks=1, freq_mask_width=5,
                           mask_value=0.0, seed=3)
    out4 = np.asarray(layer0(x[..., None], training=True))
    assert out4.shape == x[..., None].shape
    rows4, cols4 = _masked_structure(x, out4[..., 0])
    assert rows4.any() and cols4.any()
    assert np.all(out4[..., 0][rows4[:, :, None] | cols4[:, None, :]] == 0.0)


def test_spec_augment_is_seeded(keras_mod):
    x = np.random.default_rng(1).standard_normal((6, 30, 12)).astype(np.float32)
    kw = dict(time_masks=2, time_mask_width=6, freq_masks=2, freq_mask_width=3)
    a = np.asarray(A.SpecAugment(seed=11, **kw)(x, training=True))
    b = np.asarray(A.SpecAugment(seed=11, **kw)(x, training=True))
    c = np.asarray(A.SpecAugment(seed=12, **kw)(x, training=True))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    layer = A.SpecAugment(seed=11, **kw)
    first, second = (np.asarray(layer(x, training=True)) for _ in range(2))
    assert not np.array_equal(first, second)  # new masks for every batch


def test_spec_augment_trains_saves_and_loads(keras_mod, tmp_path):
    keras = keras_mod
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(2).standard_normal((16, 30, 12)).astype(np.float32)
    y = np.arange(16) % 2
    model = keras.Sequential([
        keras.Input((30, 12)),
        A.spec_augment_layer(time_masks=2, time_mask_width=5, freq_masks=1, freq_mask_width=3, seed=4),
        keras.layers.Flatten(),
        keras.layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=5, epochs=1, verbose=0)  # compiled graph, last batch smaller
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # safe_mode=True by default
    layer = loaded.layers[0]
    assert type(layer).__name__ == "SpecAugment"
    assert layer.get_config() == {**model.layers[0].get_config()}
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_augmented_rows_are_the_same_in_worker_processes(augmented_run, tmp_path):
    _, aug_manifest, _, fs, _ = augmented_run
    some = aug_manifest[A.augmented_mask(aug_manifest)].iloc[:3]
    par = F.extract_dataset(some, cache_dir=tmp_path, features="mfcc", jobs=2, progress=False)
    assert par.stats["computed"] == 3
    for t in some["track_id"]:
        assert par._entry(t)[0].name == fs._entry(t)[0].name
        np.testing.assert_array_equal(np.asarray(par.frames(t, "mfcc")), np.asarray(fs.frames(t, "mfcc")))
