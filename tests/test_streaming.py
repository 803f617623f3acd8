"""musiclib.streaming: segments on disk, batches read from a memmap, training from them."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from musiclib import features as F
from musiclib import streaming as S

SR = 22050


# ------------------------------------------------------------------------------ helpers


@pytest.fixture
def on_disk(tmp_path):
    """103 rows of (6, 5) float32 in a .npy opened read-only as a memmap, plus labels."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((103, 6, 5)).astype(np.float32)
    y = rng.integers(0, 4, size=103)
    np.save(tmp_path / "x.npy", x)
    return x, np.load(tmp_path / "x.npy", mmap_mode="r"), y


class Guarded:
    """A memmap that refuses to be turned into an array whole, or read more than ``limit``
    rows at a time: what streaming promises never to do."""

    def __init__(self, x, limit):
        self._x, self.limit, self.reads = x, limit, 0
        self.shape, self.dtype = x.shape, x.dtype

    def __len__(self):
        return self.shape[0]

    def __array__(self, *args, **kwargs):
        raise AssertionError("the whole array was converted with np.asarray / np.array")

    def __getitem__(self, key):
        part = self._x[key]
        assert len(part) <= self.limit, f"read {len(part)} rows at once (limit {self.limit})"
        self.reads += 1
        return part


def _all_rows(seq):
    return np.concatenate([seq.batch_indices(i) for i in range(len(seq))])


# ------------------------------------------------------------------------------ import


def test_importing_the_module_does_not_import_tensorflow():
    code = ("import sys, musiclib.streaming as s; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules; "
            "assert callable(s.segments_to_disk)")
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------------ the sequence


@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_equal_the_in_memory_rows(on_disk, shuffle):
    x, mm, y = on_disk
    seq = S.SegmentSequence(mm, y, batch_size=16, shuffle=shuffle, seed=3)
    assert len(seq) == 7  # ceil(103 / 16)
    for i in range(len(seq)):
        rows = seq.batch_indices(i)
        assert np.all(np.diff(rows) > 0)  # ascending file order
        xb, yb = seq[i]
        assert type(xb) is np.ndarray and xb.dtype == np.float32 and xb.flags.writeable
        assert not np.shares_memory(xb, mm)
        np.testing.assert_array_equal(xb, x[rows])
        np.testing.assert_array_equal(yb, y[rows])
        if not shuffle:
            np.testing.assert_array_equal(rows, np.arange(16 * i, min(16 * (i + 1), 103)))
    assert seq[-1][0].shape == (103 - 6 * 16, 6, 5)


def test_every_row_once_per_epoch_and_only_the_given_indices(on_disk):
    _, mm, y = on_disk
    side = np.flatnonzero(np.arange(103) % 3 != 0)  # e.g. the train side's rows
    seq = S.SegmentSequence(mm, y, batch_size=8, shuffle=True, seed=1, indices=side)
    assert len(seq) == -(-len(side) // 8)
    for _ in range(3):
        served = _all_rows(seq)
        assert len(served) == len(side)
        np.testing.assert_array_equal(np.sort(served), side)
        seq.on_epoch_end()


def test_shuffling_is_reproducible_and_changes_every_epoch(on_disk):
    _, mm, y = on_disk
    a = S.SegmentSequence(mm, y, batch_size=10, seed=7)
    b = S.SegmentSequence(mm, y, batch_size=10, seed=7)
    other = S.SegmentSequence(mm, y, batch_size=10, seed=8)
    epochs_a, epochs_b = [], []
    for _ in range(3):
        epochs_a.append(_all_rows(a))
        epochs_b.append(_all_rows(b))
        a.on_epoch_end()
        b.on_epoch_end()
    for ea, eb in zip(epochs_a, epochs_b):
        np.testing.assert_array_equal(ea, eb)
    assert not np.array_equal(epochs_a[0], epochs_a[1])
    assert not np.array_equal(epochs_a[1], epochs_a[2])
    assert not np.array_equal(epochs_a[0], _all_rows(other))
    a.reset()
    np.testing.assert_array_equal(_all_rows(a), epochs_a[0])


def test_the_memmap_is_never_copied_whole(on_disk):
    x, mm, y = on_disk
    guarded = Guarded(mm, limit=16)
    seq = S.SegmentSequence(guarded, y, batch_size=16, seed=0)
    for i in range(len(seq)):
        np.testing.assert_array_equal(seq[i][0], x[seq.batch_indices(i)])
    consecutive = S.SegmentSequence(guarded, y, batch_size=16, shuffle=False)
    np.testing.assert_array_equal(consecutive[2][0], x[32:48])
    sample = S.sample_rows(guarded, indices=np.arange(50), n=16, seed=0)
    assert sample.shape == (16, 6, 5)
    assert guarded.reads == len(seq) + 2  # one read per batch, nothing else


def test_a_loaded_memmap_is_read_through_its_file_and_views_still_work(on_disk, tmp_path):
    x, mm, y = on_disk
    assert S._file_backed(mm) == (mm.filename, mm.offset)  # np.load(mmap_mode="r"): preadv
    rows = np.array([0, 1, 2, 7, 50, 51, 102])
    got = S._gather(mm, rows)
    assert type(got) is np.ndarray and not np.shares_memory(got, mm)
    np.testing.assert_array_equal(got, x[rows])
    view = mm[10:]  # a view: not the file's layout from offset 0, read by indexing instead
    assert S._file_backed(view) is None
    seq = S.SegmentSequence(view, y[10:], batch_size=9, seed=0)
    np.testing.assert_array_equal(seq[0][0], x[10:][seq.batch_indices(0)])
    cow = np.load(tmp_path / "x.npy", mmap_mode="c")  # copy-on-write: its data are not the file's
    cow[1] = 7.0
    assert S._file_backed(cow) is None
    np.testing.assert_array_equal(S._gather(cow, np.array([1, 3]))[0], np.full((6, 5), 7.0))


def test_a_sequence_keeps_reading_its_file_when_the_path_is_replaced(on_disk, tmp_path):
    x, mm, y = on_disk
    seq = S.SegmentSequence(mm, y, batch_size=16, shuffle=False)
    np.save(tmp_path / "other.npy", np.zeros_like(x))
    os.replace(tmp_path / "other.npy", tmp_path / "x.npy")  # e.g. segments_to_disk run again
    np.testing.assert_array_equal(seq[1][0], x[16:32])


def test_augment_is_applied_to_each_batch(on_disk):
    x, mm, y = on_disk
    seq = S.SegmentSequence(mm, y, batch_size=32, shuffle=False, augment=lambda b: b * 2.0)
    np.testing.assert_allclose(seq[1][0], 2.0 * x[32:64])


def test_bad_arguments_are_refused(on_disk):
    _, mm, y = on_disk
    with pytest.raises(F.MusiclibError):
        S.SegmentSequence(mm, y[:-1])
    with pytest.raises(F.MusiclibError):
        S.SegmentSequence(mm, y, indices=[0, 103])
    with pytest.raises(F.MusiclibError):
        S.SegmentSequence(mm, y, batch_size=0)


def test_a_pickled_sequence_reopens_its_file_instead_of_copying_it(tmp_path):
    x = np.random.default_rng(1).standard_normal((103, 60, 50)).astype(np.float32)  # 1.2 MB
    y = np.zeros(103, dtype=np.int64)
    np.save(tmp_path / "big.npy", x)
    mm = np.load(tmp_path / "big.npy", mmap_mode="r")
    seq = S.SegmentSequence(mm, y, batch_size=16, seed=2)
    blob = pickle.dumps(seq)
    assert len(blob) < 20_000  # labels and orders, not the segments
    again = pickle.loads(blob)
    assert isinstance(again.x, np.memmap) and S._file_backed(again.x) is not None
    np.testing.assert_array_equal(again[0][0], seq[0][0])


# ------------------------------------------------------------------------------ training


def _separable(n=240, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    x = rng.standard_normal((n, 8, 4)).astype(np.float32)
    x[np.arange(n), :, y] += 3.0  # class k: band k is loud
    return x, y


def _tiny_model(seed=0):
    import keras

    from musiclib.train import set_seed

    set_seed(seed)
    inputs = keras.Input(shape=(8, 4))
    h = keras.layers.Flatten()(inputs)
    h = keras.layers.Dense(16, activation="relu")(h)
    outputs = keras.layers.Dense(3, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_streaming_learns_and_is_reproducible(tmp_path):
    x, y = _separable()
    np.save(tmp_path / "x.npy", x)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    train_rows, valid_rows = np.arange(0, 180), np.arange(180, 240)
    train = S.SegmentSequence(mm, y, batch_size=16, seed=4, indices=train_rows)
    valid = S.SegmentSequence(mm, y, batch_size=64, shuffle=False, indices=valid_rows)

    weights, results = [], []
    for _ in range(2):
        model = _tiny_model()
        result = S.fit_streaming(model, train, validation=valid, epochs=6, patience=10, seed=1)
        weights.append([w.copy() for w in model.get_weights()])
        results.append(result)
    assert results[0].epochs == 6 and 1 <= results[0].best_epoch <= 6
    assert results[0].history["accuracy"][-1] > 0.9
    assert "val_loss" in results[0].history
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)

    proba = S.predict_streaming(model, mm, indices=train_rows)
    assert (proba.argmax(1) == y[train_rows]).mean() > 0.9


def test_fit_streaming_takes_class_weights_and_no_validation(on_disk):
    x, y = _separable(n=64)
    seq = S.SegmentSequence(x, y, batch_size=32, seed=0)
    result = S.fit_streaming(_tiny_model(), seq, epochs=1, class_weight={0: 1.0, 1: 2.0, 2: 0.5})
    assert result.epochs == 1 and "loss" in result.history


def test_predict_streaming_equals_direct_predictions(on_disk):
    import keras

    x, y = _separable(n=70, seed=2)
    model = _tiny_model()
    direct = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(S.predict_streaming(model, x, batch_size=16), direct, rtol=1e-5, atol=1e-6)
    rows = np.random.default_rng(0).permutation(70)[:50]  # any order, subset
    guarded = Guarded(x, limit=16)
    np.testing.assert_allclose(S.predict_streaming(model, guarded, indices=rows, batch_size=16),
                               direct[rows], rtol=1e-5, atol=1e-6)
    assert S.predict_streaming(model, x, indices=[]).shape == (0, 3)


# ------------------------------------------------------------------------------ on disk


@pytest.fixture(scope="module")
def mel_set(tmp_path_factory):
    """Mel features of 3 short clips (one of them silent: exercises the log floor)."""
    root = tmp_path_factory.mktemp("clips")
    rng = np.random.default_rng(5)
    rows = []
    for k, (label, seconds) in enumerate([("a", 7.0), ("b", 6.5), ("a", 3.2)]):
        t = np.arange(int(seconds * SR)) / SR
        y = 0.3 * np.sin(2 * np.pi * 220 * (k + 1) * t) + 0.01 * rng.standard_normal(t.size)
        if k == 2:
            y[:] = 0.0
        path = root / f"clip{k}.wav"
        sf.write(path, y.astype(np.float32), SR, subtype="FLOAT")
        rows.append(dict(track_id=f"clip{k}", path=str(path), label=label, duration_s=seconds,
                         sample_rate=SR, group=f"clip{k}", offset_s=0.0, split="train"))
    manifest = pd.DataFrame(rows)
    return F.extract_dataset(manifest, cache_dir=root / "cache", features=["mel"], progress=False)


def _tmp_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if ".tmp-" in p.name]


def test_segments_to_disk_log_equals_in_memory_db(mel_set, tmp_path, monkeypatch):
    monkeypatch.setattr(S, "_CHUNK_BYTES", 3 * 130 * 128 * 4)  # 3 rows a chunk: several chunks
    expected, meta_mem = mel_set.segments("mel")
    expected = 10 * np.log10(np.maximum(expected, np.float32(1e-10)))
    out = tmp_path / "seg" / "logmel.npy"
    X, meta = S.segments_to_disk(mel_set, "mel", out, transform="log")
    assert isinstance(X, np.memmap) and X.mode == "r" and X.dtype == np.float32
    assert X.shape == expected.shape == (2 + 2 + 1, 130, 128)
    np.testing.assert_allclose(X, expected, rtol=1e-6, atol=1e-4)
    assert X[-1].min() == pytest.approx(-100.0)  # the silent clip sits at the floor
    pd.testing.assert_frame_equal(meta, meta_mem)
    assert _tmp_files(out.parent) == []
    assert sorted(p.name for p in out.parent.iterdir()) == ["logmel.npy"]


def test_segments_to_disk_plain_and_some_tracks(mel_set, tmp_path):
    X, meta = S.segments_to_disk(mel_set, "mel", tmp_path / "mel.npy", track_ids=["clip1"])
    expected, _ = mel_set.segments("mel", track_ids=["clip1"])
    np.testing.assert_array_equal(X, expected)
    assert list(meta["track_id"]) == ["clip1", "clip1"]


def test_segments_to_disk_leaves_nothing_behind_when_it_fails(mel_set, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(F, "power_to_db", boom)
    with pytest.raises(RuntimeError):
        S.segments_to_disk(mel_set, "mel", tmp_path / "x.npy", transform="log")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(F.MusiclibError):
        S.segments_to_disk(mel_set, "mel", tmp_path / "x.npy", transform="sqrt")
