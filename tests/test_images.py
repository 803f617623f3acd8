"""Spectrogram pictures as source 004 made them: what they keep and what they lose."""

import numpy as np
import pytest

from musiclib import images


def test_picture_shape_orientation_and_own_colour_scale():
    S = np.zeros((130, 128))  # (frames, bins)
    S[:, 120:] = -10.0  # loud at the top bands ...
    S[:, :120] = -70.0
    picture = images.render_image(S, size=(64, 64))
    assert picture.shape == (64, 64, 4) and picture.dtype == np.uint8
    assert picture[0].mean() > picture[-1].mean()  # ... drawn at the top of the picture
    # each picture spans its own colour range: a quieter copy looks the same (level is lost)
    np.testing.assert_array_equal(images.render_image(S - 30.0, size=(64, 64)), picture)


def test_render_images_batches_and_rejects_bad_shapes():
    batch = images.render_images(np.random.default_rng(0).normal(size=(3, 20, 16)), size=(16, 16))
    assert batch.shape == (3, 16, 16, 4)
    assert images.render_images(np.zeros((0, 20, 16)), size=(16, 16)).shape == (0, 16, 16, 4)
    with pytest.raises(ValueError):
        images.render_images(np.zeros((20, 16)))
