"""Checks of notebook 06 · Mel-spectrogram CNN and augmentation: right, not yet, no answer, never a traceback."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import musiclib as ml

TRANSFORMS = ["noise", "gain", "shift", "pitch", "stretch"]
CLASSES = ["AddGaussianSNR", "Gain", "Shift", "PitchShift", "TimeStretch"]


@pytest.fixture(scope="module")
def counted():
    """The learner's way: one call per seed on a (short) signal, should_apply read back."""
    y = (0.1 * np.random.default_rng(0).standard_normal(4096)).astype(np.float32)
    augmenter = ml.augment.waveform_augmenter("strong")
    ran = []
    for seed in range(10):
        with ml.augment.seeded_global_rng(seed):
            augmenter(samples=y, sample_rate=22050)
        ran.append([t.parameters["should_apply"] for t in augmenter.transforms])
    return pd.DataFrame(ran, columns=TRANSFORMS).sum()


def test_check_applied_transforms(counted):
    check = ml.exercises.check_applied_transforms
    kw = dict(seeds=range(10), quiet=True)
    top = counted.idxmax()
    assert check(counted, top, **kw).right
    assert check(counted.to_dict(), top.upper(), **kw).right
    assert check(dict(zip(CLASSES, counted)), CLASSES[TRANSFORMS.index(top)], **kw).right  # class names work too
    assert check(list(counted), top, **kw).right  # five counts in PARAMETERS order
    not_top = check(counted, counted.idxmin(), **kw)
    assert not_top.status == "wrong" and "largest" in str(not_top)
    off = check(counted + 1, top, **kw)
    assert off.status == "wrong" and "should_apply" in str(off)
    keys = check({"noise": 1, "gain": 2}, top, **kw)
    assert keys.status == "wrong" and "one entry per transform" in str(keys)
    assert check(counted, "reverb", **kw).status == "wrong"
    assert check(counted, 3, **kw).status == "wrong"
    assert check("shift", top, **kw).status == "wrong"
    assert check(..., top, **kw).missing and check(counted, ..., **kw).missing


def test_check_applied_transforms_other_seeds_and_strength():
    augmenter = ml.augment.waveform_augmenter("light")
    ran = []
    for seed in range(5, 12):
        with ml.augment.seeded_global_rng(seed):
            augmenter(samples=np.zeros(1024, dtype=np.float32), sample_rate=22050)
        ran.append([t.parameters["should_apply"] for t in augmenter.transforms])
    applied = pd.DataFrame(ran, columns=TRANSFORMS).sum()
    tied = list(applied.index[applied == applied.max()])
    for name in tied:  # any of a tie is right
        assert ml.exercises.check_applied_transforms(applied, name, seeds=range(5, 12), strength="light",
                                                     quiet=True).right


def _masked():
    rng = np.random.default_rng(0)
    segment = rng.normal(size=(1, 20, 16)).astype(np.float32)
    masked = np.repeat(segment, 4, axis=0)
    masked[0, :5, :] = segment.mean()  # 80 cells
    masked[1, :, 2:6] = segment.mean()  # 80 cells
    masked[2, :5, 2:6] = segment.mean()  # 20 cells
    return segment, masked, 180 / masked.size


def test_check_masked_fraction():
    segment, masked, fraction = _masked()
    check = ml.exercises.check_masked_fraction
    assert check(fraction, segment=segment, masked=masked, quiet=True).right
    assert check(np.float32(fraction), segment=segment, masked=masked, quiet=True).right
    percent = check(100 * fraction, segment=segment, masked=masked, quiet=True)
    assert percent.status == "wrong" and "factor of 100" in str(percent)
    cells = check(180, segment=segment, masked=masked, quiet=True)
    assert cells.status == "wrong" and "masked != segment" in str(cells)
    assert check(..., segment=segment, masked=masked, quiet=True).missing
    assert check("0.14", segment=segment, masked=masked, quiet=True).status == "wrong"
    assert check([fraction, fraction], segment=segment, masked=masked, quiet=True).status == "wrong"
    mismatch = check(fraction, segment=segment, masked=masked[:, :10, :3], quiet=True)
    assert mismatch.status == "wrong" and "do not line up" in str(mismatch)


def test_check_masked_fraction_on_a_real_layer():
    segment = np.random.default_rng(1).normal(size=(1, 40, 32)).astype(np.float32)
    layer = ml.augment.spec_augment_layer(time_masks=2, time_mask_width=8, freq_masks=2, freq_mask_width=6, seed=0)
    copies = np.repeat(segment, 16, axis=0)
    masked = np.asarray(layer(copies, training=True))
    fraction = float(np.mean(masked != copies))
    assert 0 < fraction < 1
    assert ml.exercises.check_masked_fraction(fraction, segment=segment, masked=masked, quiet=True).right


def _own_cnn(frames=40, bins=32, n_labels=4, *, widths=(8, 16), pool=True, units=None, activation="softmax",
             input_shape=None, flatten=False):
    """The worked solution of exercise 5, with the knobs a learner gets wrong."""
    keras = pytest.importorskip("keras")
    inputs = keras.Input(shape=input_shape or (frames, bins))
    x = keras.layers.Reshape((frames, bins, 1))(inputs) if input_shape is None else inputs
    for width in widths:
        x = keras.layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        if pool:
            x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x) if flatten else keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(units or n_labels, activation=activation)(x)
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def few_segments():
    rng = np.random.default_rng(0)
    return rng.normal(-40, 10, size=(12, 40, 32)).astype(np.float32), rng.integers(0, 4, 12)


def test_check_own_cnn(few_segments):
    x, y = few_segments
    check = ml.exercises.check_own_cnn
    kw = dict(segments=x, labels=y, n_labels=4, quiet=True)
    model = _own_cnn()
    before = [w.copy() for w in model.get_weights()]
    good = check(model, **kw)
    assert good.right and "parameters" in str(good)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # a copy is trained
    assert check(..., **kw).missing
    assert check("cnn", **kw).status == "wrong"
    shape = check(_own_cnn(input_shape=(40, 32, 1)), **kw)
    assert shape.status == "wrong" and "Reshape" in str(shape)
    relu = check(_own_cnn(activation="relu"), **kw)
    assert relu.status == "wrong" and "softmax" in str(relu)
    units = check(_own_cnn(units=10), **kw)
    assert units.status == "wrong" and "one unit per label" in str(units)
    one_conv = check(_own_cnn(widths=(16,)), **kw)
    assert one_conv.status == "wrong" and "at least two" in str(one_conv)
    big = check(_own_cnn(widths=(64, 128), flatten=True), **kw)
    assert big.status == "wrong" and "parameters" in str(big) and "Flatten" in str(big)
    small = check(_own_cnn(widths=(2, 2)), **kw)
    assert small.status == "wrong" and "more filters" in str(small)
    lengths = check(model, segments=x, labels=y[:5], n_labels=4, quiet=True)
    assert lengths.status == "wrong" and "one label index per segment" in str(lengths)


def test_check_own_cnn_wants_pooling(few_segments):
    keras = pytest.importorskip("keras")
    x, y = few_segments
    inputs = keras.Input(shape=(40, 32))
    h = keras.layers.Reshape((40, 32, 1))(inputs)
    h = keras.layers.Conv2D(4, 3, strides=4, activation="relu")(h)
    h = keras.layers.Conv2D(8, 3, strides=4, activation="relu")(h)
    outputs = keras.layers.Dense(4, activation="softmax")(keras.layers.Flatten()(h))
    feedback = ml.exercises.check_own_cnn(keras.Model(inputs, outputs), segments=x, labels=y, n_labels=4, quiet=True)
    assert feedback.status == "wrong" and "pooling" in str(feedback)


@pytest.mark.parametrize("name", ["06.1", "06.3", "06.5"])
def test_registered(name):
    assert name in ml.exercises.REGISTRY


def test_check_own_cnn_trains_the_copy_with_its_adapted_normalisation(few_segments):
    """A clone of an adapted Normalization layer must keep its statistics: else dB inputs
    around -40 reach the network unscaled and the loss after one epoch is far above chance."""
    keras = pytest.importorskip("keras")
    x, y = few_segments
    per_band = keras.layers.Normalization(axis=-1)
    per_band.adapt(x)
    inputs = keras.Input(shape=x.shape[1:])
    h = keras.layers.Reshape((*x.shape[1:], 1))(per_band(inputs))
    for width in (8, 16):
        h = keras.layers.MaxPooling2D(2)(keras.layers.Conv2D(width, 3, padding="same", activation="relu")(h))
    outputs = keras.layers.Dense(4, activation="softmax")(keras.layers.GlobalAveragePooling2D()(h))
    feedback = ml.exercises.check_own_cnn(keras.Model(inputs, outputs), segments=x, labels=y, n_labels=4, quiet=True)
    assert feedback.right
    loss = float(feedback.message.split("loss ")[1].split(" ")[0])
    assert loss < 2 * np.log(4), feedback.message
