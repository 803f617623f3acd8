"""Tests of musiclib.plots: structure of the figures (labels, limits, artists), not pixels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display in tests or CI

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection, QuadMesh  # noqa: E402

from musiclib import plots  # noqa: E402
from musiclib.errors import MusiclibError  # noqa: E402

SR = 22050


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def tone(seconds=1.0, freq=440.0, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def manifest():
    rng = np.random.default_rng(0)
    labels = ["rock"] * 6 + ["blues"] * 4 + ["jazz"] * 2
    return pd.DataFrame(
        {
            "track_id": [f"t{i}" for i in range(len(labels))],
            "label": labels,
            "group": [f"t{i}" for i in range(len(labels))],
            "duration_s": rng.uniform(20, 30, len(labels)),
            "split": (["train", "train", "test"] * 4),
        }
    )


# --------------------------------------------------------------------------- waveform


def test_waveform_short_signal_draws_every_sample():
    y = tone(0.5)
    ax = plots.waveform(y, sr=SR, title="A4")
    (line,) = ax.get_lines()
    assert len(line.get_xdata()) == y.size
    assert ax.get_xlim() == pytest.approx((0, y.size / SR))
    assert ax.get_xlabel() == "Time (s)" and ax.get_ylabel() == "Amplitude"
    assert ax.get_title() == "A4"


def test_waveform_long_signal_is_an_envelope():
    y = tone(60.0)  # 1.3 M samples
    y[SR * 30] = 0.99  # a click must survive the downsampling
    ax = plots.waveform(y, sr=SR, max_points=2000)
    assert not ax.get_lines()
    (env,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    xy = env.get_paths()[0].vertices
    assert len(xy) <= 2 * 2000 + 10
    assert xy[:, 1].max() == pytest.approx(0.99)
    assert xy[:, 1].min() == pytest.approx(-0.5, abs=1e-3)
    assert ax.get_xlim() == pytest.approx((0, 60.0))


def test_waveform_draws_on_a_given_axes_and_rejects_stereo():
    fig, (a, b) = plt.subplots(2)
    assert plots.waveform(tone(0.1), sr=SR, ax=b) is b
    assert not a.get_lines()
    with pytest.raises(ValueError, match="mono"):
        plots.waveform(np.zeros((2, 100)), sr=SR)


# --------------------------------------------------------------------------- spectrograms


def test_stft_db_shape_dtype_and_range():
    S = plots.stft_db(tone(1.0), n_fft=1024, hop_length=256)
    assert S.dtype == np.float32
    assert S.shape == (1 + 1024 // 2, 1 + SR // 256)
    assert S.max() == pytest.approx(0.0) and S.min() >= -80.0 - 1e-3
    # The loudest bin is the 440 Hz one.
    peak_hz = np.argmax(S[:, S.shape[1] // 2]) * SR / 1024
    assert abs(peak_hz - 440) < SR / 1024


def test_mel_db_shape_dtype():
    M = plots.mel_db(tone(1.0), sr=SR, n_mels=64)
    assert M.dtype == np.float32
    assert M.shape == (64, 1 + SR // 512)
    assert M.max() == pytest.approx(0.0)


def test_silence_is_not_an_error():
    assert np.isfinite(plots.stft_db(np.zeros(4096, dtype=np.float32))).all()


@pytest.mark.parametrize("y_axis", ["log", "linear", "mel"])
def test_spectrogram_axes(y_axis):
    y = tone(2.0)
    S = plots.mel_db(y, sr=SR) if y_axis == "mel" else plots.stft_db(y)
    ax = plots.spectrogram(S, sr=SR, y_axis=y_axis, title="tone")
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert ax.get_xlabel() == "Time"
    assert ax.get_ylabel() == "Hz"
    assert ax.get_xlim()[1] == pytest.approx(S.shape[1] * 512 / SR, rel=0.02)
    assert ax.get_ylim()[1] == pytest.approx(SR / 2, rel=0.02)  # mel: edge of the top band
    assert ax.get_title() == "tone"
    assert len(ax.figure.axes) == 2  # the colour bar
    assert mesh.get_array().size == S.size


def test_spectrogram_without_colorbar_and_bad_axis():
    fig, ax = plt.subplots()
    plots.spectrogram(plots.stft_db(tone(0.5)), sr=SR, ax=ax, colorbar=False)
    assert len(fig.axes) == 1
    with pytest.raises(ValueError, match="y_axis"):
        plots.spectrogram(np.zeros((10, 10)), sr=SR, y_axis="bark")


def test_spectrogram_grid_one_panel_per_label():
    examples = {name: (tone(1.0, f), SR) for name, f in [("a", 220), ("b", 440), ("c", 880),
                                                          ("d", 1760), ("e", 3520)]}
    fig = plots.spectrogram_grid(examples, kind="mel", ncols=3)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert [ax.get_title() for ax in panels] == list(examples)
    hidden = [ax for ax in fig.axes if not ax.get_visible()]
    assert len(hidden) == 1  # 2 x 3 grid, 5 examples
    assert len(fig.axes) == 6 + 1  # panels plus one colour bar
    fig.canvas.draw()
    # Time labels on the bottom edge, including the panel above the hidden slot.
    with_time = [ax.get_title() for ax in panels if any(t.get_visible() and t.get_text()
                                                         for t in ax.get_xticklabels())]
    assert with_time == ["c", "d", "e"]
    meshes = [c for ax in panels for c in ax.collections if isinstance(c, QuadMesh)]
    assert {m.get_clim() for m in meshes} == {(-80, 0)}
    with pytest.raises(ValueError, match="kind"):
        plots.spectrogram_grid(examples, kind="cqt")
    with pytest.raises(MusiclibError):
        plots.spectrogram_grid({})


def test_spectrogram_row_shares_colour_map_and_scale():
    quiet = plots.stft_db(tone(0.5)) - 60.0  # all negative: librosa alone would pick another map
    loud = np.abs(plots.stft_db(tone(0.5, 880))) + 5.0  # all positive
    fig = plots.spectrogram_row({"quiet": quiet, "loud": loud}, sr=SR)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["quiet", "loud"]
    assert len(fig.axes) == 3  # two panels and one colour bar
    meshes = [c for ax in panels for c in ax.collections if isinstance(c, QuadMesh)]
    assert {m.get_cmap().name for m in meshes} == {"magma"}
    expected = (pytest.approx(quiet.min()), pytest.approx(loud.max()))
    assert all(m.get_clim() == expected for m in meshes)
    assert panels[0].get_ylabel() == "Hz" and panels[1].get_ylabel() == ""
    fixed = plots.spectrogram_row({"a": quiet}, sr=SR, vmin=-100, vmax=0, cmap="viridis")
    (mesh,) = [c for c in fixed.axes[0].collections if isinstance(c, QuadMesh)]
    assert mesh.get_clim() == (-100, 0) and mesh.get_cmap().name == "viridis"
    with pytest.raises(MusiclibError):
        plots.spectrogram_row({}, sr=SR)


# --------------------------------------------------------------------------- datasets


def test_class_counts_bars():
    m = manifest()
    ax = plots.class_counts(m)
    heights = [p.get_height() for p in ax.patches]
    assert heights == [4, 2, 6]  # blues, jazz, rock: sorted labels
    assert [t.get_text() for t in ax.get_xticklabels()] == ["blues", "jazz", "rock"]
    assert ax.get_ylabel() == "Count"


def test_class_counts_by_split():
    m = manifest()
    ax = plots.class_counts(m, hue="split")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "test"]
    bars = [p for p in ax.patches if p.get_height() > 0]
    assert sum(p.get_height() for p in bars) == len(m)
    with pytest.raises(MusiclibError, match="'genre'"):
        plots.class_counts(m, label_col="genre")


def test_durations_histogram():
    m = manifest()
    ax = plots.durations(m, bins=5)
    assert ax.get_xlabel() == "Duration (s)"
    assert sum(p.get_height() for p in ax.patches) == len(m)
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["blues", "jazz", "rock"]
    lo, hi = ax.get_xlim()
    assert lo <= m.duration_s.min() and hi >= m.duration_s.max()


def test_durations_all_equal_and_missing_column():
    m = manifest().assign(duration_s=10.0)  # the synthetic dataset: every clip 10 s
    ax = plots.durations(m)
    assert sum(p.get_height() for p in ax.patches) == len(m)
    with pytest.raises(MusiclibError, match="duration_s"):
        plots.durations(m.drop(columns="duration_s"))


# --------------------------------------------------------------------------- feature figures


@pytest.fixture
def clip_table():
    rng = np.random.default_rng(0)
    n = 60
    labels = np.repeat(["bright", "dark", "noisy"], n // 3)
    centroid = np.where(labels == "bright", 3000.0, 800.0) + rng.normal(0, 100, n)
    return pd.DataFrame({
        "label": labels,
        "centroid": centroid,
        "rolloff": 1.8 * centroid + rng.normal(0, 50, n),  # strongly correlated with centroid
        "flatness": np.where(labels == "noisy", 0.5, 0.05) + rng.normal(0, 0.01, n),
    })


def test_feature_over_spectrogram_draws_the_feature_line():
    S_db = plots.stft_db(tone(1.0))
    centroid = np.full(S_db.shape[1], 440.0)
    ax = plots.feature_over_spectrogram(S_db, centroid, sr=SR, label="centroid")
    assert ax.lines and np.allclose(ax.lines[0].get_ydata(), 440.0)
    ax2 = plots.feature_over_spectrogram(S_db, centroid[None, :] / 1000, sr=SR, in_hz=False, label="zcr")
    assert len(ax2.figure.axes) == 2  # spectrogram + twin axis
    with pytest.raises(ValueError, match="frames"):
        plots.feature_over_spectrogram(S_db, centroid[:-1], sr=SR)


@pytest.mark.parametrize("kind", ["box", "violin"])
def test_class_distributions_one_panel_per_feature(clip_table, kind):
    fig = plots.class_distributions(clip_table, ["centroid", "rolloff", "flatness"], kind=kind, ncols=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["centroid", "rolloff", "flatness"]
    assert [t.get_text() for t in visible[0].get_yticklabels()] == ["bright", "dark", "noisy"]
    with pytest.raises(MusiclibError, match="nope"):
        plots.class_distributions(clip_table, ["nope"])


def test_correlation_heatmap_shows_the_correlation(clip_table):
    ax = plots.correlation_heatmap(clip_table, ["centroid", "rolloff", "flatness"])
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 9 and texts[0] == "1.00"
    assert float(texts[1]) > 0.95  # centroid vs rolloff


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_projection_colours_by_label(clip_table, method):
    ax = plots.projection(clip_table, ["centroid", "rolloff", "flatness"], method=method, seed=0)
    offsets = ax.collections[0].get_offsets()
    assert offsets.shape == (len(clip_table), 2)
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["bright", "dark", "noisy"]
    if method == "pca":
        assert "variance" in ax.get_xlabel()


def test_feature_matrix_labels_coefficients_or_pitch_classes():
    ax = plots.feature_matrix(np.random.default_rng(0).normal(size=(13, 50)), sr=SR)
    assert ax.get_ylabel() == "coefficient"
    ax = plots.feature_matrix(np.random.default_rng(0).random((12, 50)), sr=SR, y_axis="chroma")
    assert "C" in [t.get_text() for t in ax.get_yticklabels()]
    with pytest.raises(ValueError):
        plots.feature_matrix(np.zeros(5), sr=SR)


def test_class_means_heatmap_has_one_row_per_class(clip_table):
    ax = plots.class_means_heatmap(clip_table, ["centroid", "flatness"])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["bright", "dark", "noisy"]
    mesh = ax.collections[0].get_array()
    assert mesh.size == 6 and mesh.max() > 0 > mesh.min()  # z-scores around 0


def test_importance_bars_and_selection_curve():
    imp = pd.DataFrame({"feature": ["a", "b", "c"], "importance_mean": [0.3, 0.1, 0.0],
                        "importance_std": [0.05, 0.02, 0.01]})
    ax = plots.importance_bars(imp, top=2)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]  # most important on top
    sel = pd.DataFrame({"step": [1, 2, 3], "added": ["mfcc", "chroma", "zcr"],
                        "cv_accuracy_mean": [0.8, 0.9, 0.905], "cv_accuracy_std": [0.05] * 3,
                        "sufficient": [False, True, True]})
    ax = plots.selection_curve(sel)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["+ mfcc", "+ chroma", "+ zcr"]
    assert ax.collections[-1].get_offsets()[0].tolist() == [2.0, 0.9]


def test_feature_over_spectrogram_draws_several_curves_and_feature_curves():
    S_db = plots.stft_db(tone(1.0))
    n = S_db.shape[1]
    ax = plots.feature_over_spectrogram(S_db, {"centroid": np.full(n, 440.0), "rolloff": np.full(n, 900.0)}, sr=SR)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["centroid", "rolloff"]
    fig = plots.feature_curves({"a": {"zcr": np.zeros((1, n)), "rms": np.ones((1, n))},
                                "b": {"zcr": np.ones((1, n)), "rms": np.zeros((1, n))}}, ["zcr", "rms"], sr=SR)
    assert [ax.get_ylabel() for ax in fig.axes] == ["zcr", "rms"] and len(fig.axes[0].lines) == 2


def test_training_curves_mark_the_best_epoch():
    history = {"loss": [1.0, 0.6, 0.5, 0.45], "val_loss": [1.1, 0.7, 0.8, 0.9],
               "accuracy": [0.3, 0.6, 0.7, 0.8], "val_accuracy": [0.3, 0.5, 0.5, 0.45]}
    fig = plots.training_curves(history)
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
    assert fig.axes[0].lines[-1].get_xdata()[0] == 2  # lowest validation loss at epoch 2
    with pytest.raises(MusiclibError):
        plots.training_curves({"acc": [1]})


def test_confusion_matrix_rows_are_recall():
    ax = plots.confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1], ["a", "b"])
    values = [t.get_text() for t in ax.texts]
    assert values == ["0.50", "0.50", "0.00", "1.00"]
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"


def test_results_bars_show_reported_numbers():
    results = pd.DataFrame({"experiment": ["a", "b"], "test_accuracy_segment": [0.5, 0.7],
                            "test_accuracy_recording": [0.6, 0.8], "reported_accuracy": [0.62, None]})
    ax = plots.results_bars(results)
    assert len(ax.patches) >= 4 and ax.get_ylim() == (0, 1)


def test_results_bars_draw_intervals_and_name_the_baseline():
    results = pd.DataFrame({"experiment": ["logreg_clip", "cnn_mfcc"], "test_accuracy_segment": [0.5, 0.7],
                            "test_accuracy_recording": [0.6, 0.8], "test_accuracy_recording_ci_low": [0.4, 0.7],
                            "test_accuracy_recording_ci_high": [0.75, 0.95], "reported_accuracy": [None, 0.74]})
    ax = plots.results_bars(results)
    bars = [container for container in ax.containers if hasattr(container, "patches")]
    recording = bars[1].patches  # the second metric's bars
    lines = [c for c in ax.containers if type(c).__name__ == "ErrorbarContainer"]
    assert len(lines) == 1  # only the recording level has an interval
    segments = lines[0].lines[2][0].get_segments()  # the vertical bars, one per experiment
    assert [tuple(np.round(seg[:, 1], 3)) for seg in segments] == [(0.4, 0.75), (0.7, 0.95)]
    assert [round(seg[0, 0], 3) for seg in segments] == [round(p.get_x() + p.get_width() / 2, 3) for p in recording]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["logreg_clip\n(baseline)", "cnn_mfcc"]
    assert "95% interval" in [t.get_text() for t in ax.get_legend().get_texts()]
    # a folds table: the mean's interval, without the "_mean"
    folds = pd.DataFrame({"experiment": ["a"], "test_accuracy_recording_mean": [0.5],
                          "test_accuracy_recording_ci_low": [0.3], "test_accuracy_recording_ci_high": [0.6]})
    ax = plots.results_bars(folds, metrics=["test_accuracy_recording_mean"], baselines=())
    line = [c for c in ax.containers if type(c).__name__ == "ErrorbarContainer"][0]
    assert tuple(np.round(line.lines[2][0].get_segments()[0][:, 1], 3)) == (0.3, 0.6)
    assert plots.results_bars(folds, metrics=["test_accuracy_recording_mean"], intervals=False).containers[1:] == []


def test_image_grid_shows_every_picture():
    fig = plots.image_grid(np.zeros((3, 8, 8, 4), np.uint8), ["a", "b", "c"], ncols=2)
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == ["a", "b", "c"] and len(fig.axes) == 4


def test_prediction_timeline_one_row_per_label():
    timeline = pd.DataFrame({"start_s": [0.0, 3.0, 6.0], "end_s": [3.0, 6.0, 9.0],
                             "a": [0.9, 0.2, 0.5], "b": [0.1, 0.8, 0.5]})
    ax = plots.prediction_timeline(timeline, ["a", "b"])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert ax.collections[0].get_array().size == 6 and ax.get_xlim() == (0.0, 9.0)
