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


@pytest.mark.parametrize("name", ["06.1", "06.3"])
def test_registered(name):
    assert name in ml.exercises.REGISTRY
