"""Segment model builders: shapes, normalisation inside the model, .keras round trips,
seeded training, and the regularised / changed variants of the source experiments."""

from __future__ import annotations

import numpy as np
import pytest

import musiclib as ml
from musiclib.errors import MusiclibError

N_CLASSES = 4

# (builder name, options, label): every segment model of sources 002 and 000
SEGMENT_MODELS = [
    ("ann", {}, "ann"),
    ("ann", {"dropout": 0.3, "l2": 1e-4}, "ann_regularised"),
    ("cnn_mfcc", {}, "cnn_mfcc"),
    ("cnn2_mfcc", {"variant": "exp1"}, "cnn2_exp1"),
    ("cnn2_mfcc", {"variant": "exp2"}, "cnn2_exp2"),
    ("lstm_mfcc", {}, "lstm_mfcc"),
]


@pytest.fixture(scope="module")
def segments():
    """24 segments of 130 frames x 13 MFCC, with a mean and scale per coefficient that a
    normalisation adapted on them has to find."""
    rng = np.random.default_rng(0)
    offset = np.linspace(-50, 50, 13, dtype=np.float32)
    scale = np.linspace(1, 20, 13, dtype=np.float32)
    return (rng.normal(size=(24, 130, 13)) * scale + offset).astype(np.float32)


@pytest.fixture(scope="module", params=SEGMENT_MODELS, ids=[m[2] for m in SEGMENT_MODELS])
def built(request, segments):
    name, options, _ = request.param
    ml.train.set_seed(0)
    return ml.models.build(name, segments, N_CLASSES, **options)


def test_builder_outputs_probabilities_and_normalises_inside(built, segments):
    proba = built.predict(segments, verbose=0)
    assert proba.shape == (len(segments), N_CLASSES)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert [layer.name for layer in built.layers][:2] == ["mfcc_segments", "normalize"]
    norm = built.get_layer("normalize")
    # adapted on x_train only: one mean and variance per MFCC coefficient
    np.testing.assert_allclose(np.ravel(norm.mean), segments.mean(axis=(0, 1)), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(np.ravel(norm.variance), segments.var(axis=(0, 1)), rtol=1e-3)
    assert ml.models.count_parameters(built) > 0


# An untrained model has no optimizer slots to save, and Keras says so on load; harmless here.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer:UserWarning")
def test_builder_round_trips_through_a_keras_file(built, segments, tmp_path):
    import keras

    path = tmp_path / f"{built.name}.keras"
    built.save(path)
    again = keras.saving.load_model(path)  # safe_mode, no custom objects
    np.testing.assert_array_equal(again.predict(segments, verbose=0), built.predict(segments, verbose=0))
    assert [layer.name for layer in again.layers] == [layer.name for layer in built.layers]


def _layers_of(model, cls_name):
    return [layer for layer in model.layers if type(layer).__name__ == cls_name]


def test_regularised_ann_has_dropout_and_l2_and_plain_has_neither(segments):
    import keras

    plain = ml.models.ann_segments(segments, N_CLASSES)
    reg = ml.models.ann_segments(segments, N_CLASSES, dropout=0.3, l2=1e-4)
    assert not _layers_of(plain, "Dropout")
    assert all(d.kernel_regularizer is None for d in _layers_of(plain, "Dense"))
    assert [d.rate for d in _layers_of(reg, "Dropout")] == [0.3, 0.3, 0.3]
    hidden = [d for d in _layers_of(reg, "Dense") if d.name != "probabilities"]
    assert [d.units for d in hidden] == [512, 256, 64]
    for d in hidden:
        assert isinstance(d.kernel_regularizer, keras.regularizers.L2)
        assert d.kernel_regularizer.l2 == pytest.approx(1e-4)
    assert reg.get_layer("probabilities").kernel_regularizer is None
    assert ml.models.count_parameters(plain) == ml.models.count_parameters(reg)


def test_cnn2_variants_differ_and_unknown_variant_is_refused(segments):
    exp1 = ml.models.cnn2_mfcc(segments, N_CLASSES, variant="exp1")
    exp2 = ml.models.cnn2_mfcc(segments, N_CLASSES, variant="exp2")
    assert len(_layers_of(exp1, "Conv2D")) == len(_layers_of(exp2, "Conv2D")) == 2
    assert not _layers_of(exp1, "BatchNormalization") and _layers_of(exp1, "Flatten")
    assert len(_layers_of(exp2, "BatchNormalization")) == 2 and _layers_of(exp2, "GlobalAveragePooling2D")
    assert ml.models.count_parameters(exp2) < ml.models.count_parameters(exp1)
    with pytest.raises(MusiclibError, match="exp1, exp2"):
        ml.models.cnn2_mfcc(segments, N_CLASSES, variant="exp3")


def test_build_refuses_unknown_names_and_wrong_shapes(segments):
    with pytest.raises(MusiclibError, match="dense_clip, ann, cnn_mfcc, cnn2_mfcc, lstm_mfcc") as err:
        ml.models.build("nope", segments, N_CLASSES)
    assert "\n" not in str(err.value) and "'nope'" in str(err.value)
    with pytest.raises(MusiclibError, match="frames, coefficients"):
        ml.models.build("cnn_mfcc", segments[:, :, 0], N_CLASSES)  # one MFCC row per segment
    assert ml.models.build("dense_clip", segments[:, 0, :], N_CLASSES).output_shape == (None, N_CLASSES)


def test_input_shape_is_read_from_x_train():
    x = np.random.default_rng(1).normal(size=(6, 20, 5)).astype(np.float32)
    for name, options, _ in SEGMENT_MODELS:
        model = ml.models.build(name, x, 3, **options)
        assert model.input_shape == (None, 20, 5) and model.output_shape == (None, 3)


def _train(name, x, y, seeds, **options):
    runs = []
    for seed in seeds:
        ml.train.set_seed(seed)  # before building: initial weights and dropout seeds
        model = ml.models.build(name, x, N_CLASSES, learning_rate=1e-3, **options)
        ml.train.fit(model, x, y, epochs=3, batch_size=4, seed=seed)
        runs.append((model.get_weights(), model.predict(x, verbose=0)))
    return runs


@pytest.mark.parametrize(
    "name, options, shape",
    [
        ("ann", {"units": (16,), "dropout": 0.3}, (24, 130, 13)),
        ("lstm_mfcc", {"units": (8, 8), "dense": 8}, (8, 20, 13)),
    ],
    ids=["ann", "lstm"],
)
def test_seeded_training_gives_identical_models(name, options, shape):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape).astype(np.float32)
    y = rng.integers(0, N_CLASSES, size=shape[0])
    (w1, p1), (w2, p2), (w3, p3) = _train(name, x, y, seeds=(7, 7, 8), **options)
    assert len(w1) == len(w2)
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(p1, p2)
    assert not np.array_equal(p1, p3)  # and the seed matters


def test_a_model_learns_a_separable_toy_problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 20, 13)).astype(np.float32)
    x[:, :, 0] += np.where(rng.random(128) < 0.5, -1.0, 1.0)[:, None]  # shift coefficient 0
    y = (x[:, :, 0].mean(axis=1) > 0).astype(int)  # class = sign of its mean
    ml.train.set_seed(0)
    model = ml.models.ann_segments(x, 2, units=(16,), learning_rate=1e-3)
    result = ml.train.fit(model, x, y, epochs=8, batch_size=16, seed=0)
    assert result.history["accuracy"][-1] >= 0.9
    assert (model.predict(x, verbose=0).argmax(axis=1) == y).mean() >= 0.9
