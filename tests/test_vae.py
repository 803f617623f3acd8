"""The spectrogram VAE (musiclib.vae): preparation, training, saving, sampling, sound, evaluation.

One tiny VAE is trained once per module (tiny profile: 40 synthetic clips of 4 s, 64 x 128
spectrograms, about 15 s on 2 CPU cores) and shared by the tests that only read it.
"""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

import musiclib as ml
from musiclib import vae as V
from musiclib.errors import MusiclibError


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("vae")
    s = ml.config.settings(profile="tiny", data_dir=root / "data", build_dir=root / "build", seed=0)
    ds = ml.datasets.synthetic(s)
    manifest = ml.splits.assign_splits(ds.manifest, valid_size=0.15, test_size=0.15, seed=0)
    config = V.VAEConfig.for_profile("tiny")
    data = V.prepare(manifest, s, config)
    result = V.train_vae(data, config, seed=0)
    return {"settings": s, "manifest": manifest, "config": config, "data": data, "result": result, "root": root}


@pytest.fixture(scope="module")
def classifier(world):
    """A tiny course classifier (dense network on clip features, 3-s segments), trained once."""
    run = ml.experiments.run("dense_spectral", settings=world["settings"], out_dir=world["root"] / "clf", jobs=1)
    return ml.predict.load_bundle(run.bundle)


# ----------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("profile", ["tiny", "fast", "full"])
def test_profile_shapes_are_divisible_by_the_strides(profile):
    cfg = V.VAEConfig.for_profile(profile)
    assert cfg.frames % 32 == 0 and cfg.bins % 32 == 0
    assert cfg.bins <= cfg.n_fft // 2
    # the segment is exactly as long as the frames it is cut into (or longer: cropped)
    assert cfg.feature_config().frames_per_segment >= cfg.frames


def test_bad_shapes_are_refused():
    with pytest.raises(MusiclibError, match="multiples of 32"):
        V.VAEConfig(frames=100)
    with pytest.raises(MusiclibError, match="filters"):
        V.VAEConfig(filters=(8, 16))
    with pytest.raises(MusiclibError, match="griffinlim_iters"):
        V.VAEConfig(griffinlim_iters=0)


def test_prepared_data_shapes_labels_and_range(world):
    data, cfg = world["data"], world["config"]
    for side in V.SIDES:
        x = data.x[side]
        assert x.dtype == np.float32 and x.shape[1:] == (cfg.frames, cfg.bins)
        assert len(x) == len(data.y[side]) == len(data.meta[side])
        assert 0.0 <= x.min() and x.max() <= 1.0
        assert set(data.meta[side]["split"]) <= {side}
    assert len(data.x["train"]) and len(data.x["test"])
    train = data.x["train"]
    assert train.min() == 0.0 and train.max() == 1.0  # min-max of the training side itself
    assert data.stats["min"] < data.stats["max"]
    assert sorted(set(data.labels)) == data.labels
    # recordings never straddle sides
    assert not set(data.groups("train")) & set(data.groups("test"))


def test_model_output_shape_equals_input(world):
    cfg = world["config"]
    model = V.build_vae(cfg, n_labels=3)
    x = np.random.default_rng(0).random((2, cfg.frames, cfg.bins)).astype(np.float32)
    out = model({"spectrogram": x, "label": np.array([0, 2], np.int32)})
    assert tuple(out.shape) == (2, cfg.frames, cfg.bins, 1)
    assert len([l for l in model.encoder.layers if isinstance(l, keras.layers.Conv2D)]) == 5
    assert len([l for l in model.decoder.layers if isinstance(l, keras.layers.Conv2DTranspose)]) == 5
    # the label reaches every decoder block (FiLM after the dense layer and four transposed convolutions)
    assert len([l for l in model.decoder.layers if isinstance(l, V.FiLM)]) == 5
    assert tuple(model.prior_means.shape) == (3, cfg.latent_dim)  # one prior mean per style


# ----------------------------------------------------------------------------- statistics


def test_normalisation_statistics_come_from_the_training_side_only(world, tmp_path):
    s, manifest, cfg, data = world["settings"], world["manifest"], world["config"], world["data"]
    sr = s.sample_rate

    def with_replaced(side):
        m = manifest.copy()
        row = m.index[m["split"] == side][0]
        # features are computed at one RMS level, so what stands out is a clip whose energy
        # lies in one partial (within the VAE's bins) sounding for a hundredth of its length
        t = np.arange(int(4.5 * sr)) / sr
        loud = (0.99 * np.sin(2 * np.pi * 500 * t) * (t < 0.045)).astype(np.float32)
        path = ml.audio.write_audio(tmp_path / f"{side}-replaced.wav", loud, sr=sr)
        m.loc[row, "path"] = str(path)
        m.loc[row, "offset_s"] = 0.0
        return V.prepare(m, s, cfg), m.loc[row, "track_id"]

    changed, track = with_replaced("test")
    assert changed.stats == data.stats  # a different test clip leaves the statistics alone ...
    rows = changed.meta["test"]["track_id"] == track
    assert not np.allclose(changed.x["test"][rows.to_numpy()], data.x["test"][rows.to_numpy()])  # ... but is used
    changed_train, _ = with_replaced("train")
    assert changed_train.stats["max"] > data.stats["max"]  # a training clip with a louder partial does change them


# ----------------------------------------------------------------------------- training


def test_train_and_test_steps_report_reconstruction_and_kl(world):
    result, data, cfg = world["result"], world["data"], world["config"]
    h = result.history
    for key in ("loss", "reconstruction", "kl", "mse"):
        assert len(h[key]) == cfg.epochs and np.isfinite(h[key]).all()
        assert len(h["val_" + key]) == cfg.epochs
    assert h["reconstruction"][-1] < h["reconstruction"][0]
    assert min(h["kl"]) > 0
    # test_step on its own
    metrics = result.model.evaluate(V.model_inputs(data.x["test"], data.y["test"]), batch_size=32, verbose=0,
                                    return_dict=True)
    assert {"loss", "reconstruction", "kl", "mse"} <= set(metrics)
    assert metrics["loss"] == pytest.approx(metrics["reconstruction"] + cfg.beta * metrics["kl"], rel=1e-4)
    assert float(result.model.kl_scale.numpy()) == 1.0  # the warm-up ends at the full weight
    assert result.seconds > 0 and result.epochs == cfg.epochs


def test_kl_warmup_raises_the_weight_per_epoch():
    cfg = V.VAEConfig.for_profile("tiny")
    model = V.build_vae(cfg)
    warm = V.KLWarmup(3)
    warm.set_model(model)
    seen = []
    for epoch in range(5):
        warm.on_epoch_begin(epoch)
        seen.append(float(model.kl_scale.numpy()))
    assert seen == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0])


def test_trained_model_beats_untrained_and_mean_baseline(world):
    table = V.evaluate(world["result"], world["data"], seed=0).set_index("model")
    assert list(table.index) == ["trained", "untrained", "mean_spectrogram"]
    trained = table.loc["trained", "mse"]
    # measured on this data: trained 0.0057, mean spectrogram 0.0085, untrained 0.019
    assert trained < 0.9 * table.loc["mean_spectrogram", "mse"]
    assert trained < 0.5 * table.loc["untrained", "mse"]
    assert (table["rmse_db"] > 0).all() and table.loc["trained", "rmse_db"] < table.loc["mean_spectrogram", "rmse_db"]


# ----------------------------------------------------------------------------- save, load, sample


def test_save_load_round_trip_gives_identical_outputs(world, tmp_path):
    result, data = world["result"], world["data"]
    folder = V.save(result, tmp_path / "vae", data=data)
    assert sorted(p.name for p in folder.iterdir()) == ["model.keras", "vae.json"]
    assert not list(tmp_path.glob(".vae.tmp-*"))
    loaded = V.load(folder)
    assert loaded.stats == data.stats and loaded.labels == data.labels and loaded.config == world["config"]
    np.testing.assert_array_equal(V.sample(loaded, 3, seed=5), V.sample(result, 3, seed=5))
    x, y = data.x["test"][:4], data.y["test"][:4]
    np.testing.assert_allclose(V.reconstruct(loaded, x, y), V.reconstruct(result, x, y), atol=1e-6)


def test_sampling_is_reproducible_and_in_range(world):
    result, cfg = world["result"], world["config"]
    a = V.sample(result, 4, seed=1)
    assert a.shape == (4, cfg.frames, cfg.bins)
    np.testing.assert_array_equal(a, V.sample(result, 4, seed=1))
    assert not np.allclose(a, V.sample(result, 4, seed=2))
    assert 0.0 <= a.min() and a.max() <= 1.0


def test_conditional_sampling_uses_the_label(world):
    result, data = world["result"], world["data"]
    assert result.model.n_labels == len(data.labels)
    a = V.sample(result, 4, label=data.labels[0], seed=3)
    b = V.sample(result, 4, label=data.labels[1], seed=3)
    assert np.abs(a - b).mean() > 1e-3
    np.testing.assert_array_equal(a, V.sample(result, 4, label=0, seed=3))  # by name or index
    with pytest.raises(MusiclibError, match="unknown label"):
        V.sample(result, 1, label="no-such-style")
    plain = V.build_vae(world["config"].replace(conditional=False), n_labels=len(data.labels))
    assert plain.n_labels == 0
    with pytest.raises(MusiclibError, match="not conditional"):
        V.sample(plain, 1, label=0)


def test_interpolation_ends_at_the_two_reconstructions(world):
    result, data = world["result"], world["data"]
    x, y = data.x["test"], data.y["test"]
    path = V.interpolate(result, x[0], x[-1], steps=5, label_a=y[0], label_b=y[-1])
    assert path.shape == (5,) + x.shape[1:]
    np.testing.assert_allclose(path[0], V.reconstruct(result, x[:1], y[:1])[0], atol=1e-5)
    np.testing.assert_allclose(path[-1], V.reconstruct(result, x[-1:], y[-1:])[0], atol=1e-5)


# ----------------------------------------------------------------------------- sound


def test_generated_wavs_are_finite_audible_and_the_right_length(world, tmp_path):
    result, data, cfg = world["result"], world["data"], world["config"]
    folder = V.save(result, tmp_path / "vae", data=data)
    paths = V.generate_files(folder, tmp_path / "out", n=3, label=data.labels[2], seed=0, seconds=None)
    assert len(paths) == 3 and all(p.suffix == ".wav" for p in paths)
    for p in paths:
        y, sr = sf.read(p, dtype="float32")
        assert sr == cfg.sample_rate == 22050
        assert len(y) == cfg.segment_samples == (cfg.frames - 1) * cfg.hop_length
        assert np.isfinite(y).all() and np.abs(y).max() <= 1.0
        assert np.sqrt(np.mean(y**2)) > 1e-4  # not silent
    assert V.generate_files(folder, tmp_path / "out2", n=2, seed=0, seconds=None)[0].name.startswith("vae-prior-")


def test_griffin_lim_is_real_phase_estimation(world, monkeypatch):
    import librosa

    result, data, cfg = world["result"], world["data"], world["config"]
    calls = []
    real = librosa.griffinlim

    def spy(S, **kwargs):
        calls.append(kwargs["n_iter"])
        return real(S, **kwargs)

    monkeypatch.setattr(librosa, "griffinlim", spy)
    spec = data.x["test"][0]
    (y,) = V.to_audio(result, spec)
    assert calls == [cfg.griffinlim_iters] and cfg.griffinlim_iters >= 16
    assert y.dtype == np.float32 and np.isfinite(y).all() and np.abs(y).max() <= 1.0
    # its magnitude matches the target better than the zero-phase inverse's does
    target = V.to_magnitude(result, spec)
    zero = librosa.istft(target.astype(np.complex64), hop_length=cfg.hop_length, n_fft=cfg.n_fft,
                         length=cfg.segment_samples)

    def error(signal):  # spectral convergence after the best overall gain (to_audio may scale down)
        got = np.abs(librosa.stft(signal, n_fft=cfg.n_fft, hop_length=cfg.hop_length))[:, : target.shape[1]]
        gain = np.sum(got * target) / np.sum(got * got)
        return np.linalg.norm(gain * got - target) / np.linalg.norm(target)

    assert error(y) < 0.8 * error(zero)
    assert np.abs(np.corrcoef(y, zero)[0, 1]) < 0.9  # not the zero-phase signal, rescaled


# ----------------------------------------------------------------------------- evaluation


def test_feature_distance_is_finite_and_zero_for_identical_sets(world):
    result, data = world["result"], world["data"]
    d = V.feature_distance(result, data, n=30, seed=0)
    assert np.isfinite(d) and d >= 0
    a = np.random.default_rng(0).normal(size=(40, 5))
    assert V.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert V.frechet_distance(a, a + 3.0) == pytest.approx(5 * 9.0, rel=1e-6)


def test_style_agreement_with_a_course_classifier(world, classifier):
    table = V.style_agreement(world["result"], classifier, n_per_label=1, seed=0)
    labels = world["data"].labels
    assert list(table["label"]) == labels + ["(all)"]
    assert table["agreement"].between(0, 1).all() and (table["n"].iloc[:-1] == 1).all()
    assert set(table["most_predicted"].iloc[:-1]) <= set(classifier.labels)


def test_clips_are_as_long_as_asked_and_the_classifier_hears_them_whole(world, classifier, monkeypatch):
    import musiclib.predict as P

    result, cfg = world["result"], world["config"]
    k = V.segments_for(cfg, 3.0)
    assert (k * cfg.frames - 1) * cfg.hop_length >= 3.0 * cfg.sample_rate > ((k - 1) * cfg.frames - 1) * cfg.hop_length
    clips = V.generate_clips(result, 2, label=1, seconds=1.0, seed=0)
    assert [len(c) for c in clips] == [cfg.sample_rate] * 2 and all(np.isfinite(c).all() for c in clips)
    seen = []
    real = P.predict_signal
    monkeypatch.setattr(P, "predict_signal", lambda b, y, sr, **kw: seen.append(len(y)) or real(b, y, sr, **kw))
    V.style_agreement(result, classifier, n_per_label=1, seed=0)
    assert set(seen) == {int(round(classifier.segment_seconds * cfg.sample_rate))}  # no tiling, no padding
    with pytest.raises(MusiclibError, match="shorter than the classifier"):
        V.metrics._classify_signals(classifier, clips, cfg.sample_rate)


def test_vocoder_ceiling_passes_real_held_out_clips_through_griffin_lim(world, classifier, monkeypatch):
    result, data, cfg = world["result"], world["data"], world["config"]
    specs, labels, groups = V.real_clips(data, classifier.segment_seconds)
    k = V.segments_for(cfg, classifier.segment_seconds)
    assert len(specs) == k * len(labels) and len(labels) > 0
    held_out = set(data.groups("valid")) | set(data.groups("test"))
    assert set(groups) <= held_out  # recordings neither model trained on
    # each clip is k consecutive segments of one recording
    first = data.meta["test"].sort_values(["track_id", "segment"]).iloc[:k]
    assert first["track_id"].nunique() == 1 and list(first["segment"]) == list(range(k))
    in_clips = [i for i in range(len(labels)) if np.array_equal(specs[i * k:(i + 1) * k],
                                                               data.x["test"][first.index.to_numpy()])]
    assert len(in_clips) == 1
    calls = []
    real = V.generate._griffinlim
    monkeypatch.setattr(V.generate, "_griffinlim", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    table = V.vocoder_ceiling(result, data, classifier, seed=0)
    assert len(calls) == len(labels)  # every real clip went through the same inversion
    assert list(table["label"]) == data.labels + ["(all)"]
    assert table["n"].iloc[-1] == len(labels) and table["agreement"].iloc[:-1].dropna().between(0, 1).all()
    report = V.generation_report(result, data, classifier, n_per_label=1, seed=0)
    assert {"ceiling", "generated", "ratio", "n_real", "n_generated"} <= set(report.columns)


def test_feature_distances_of_generated_vocoded_and_real_sets(world):
    result, data = world["result"], world["data"]
    fd = V.feature_distances(result, data, n=24, seed=0)
    assert fd["n"] == 24
    for key in ("real_vs_real", "vocoder_vs_real", "generated_vs_real"):
        assert np.isfinite(fd[key]) and fd[key] >= 0
    assert fd["ratio"] == pytest.approx(fd["generated_vs_real"] / fd["real_vs_real"])
    # analysing a real segment's own inversion gives back (roughly) the segment
    x = data.x["test"][:1]
    again = V.analyse(result, [V.generate._griffinlim(result, x[0], seed=0)])
    assert again.shape == x.shape and np.abs(again - x).mean() < 0.1


def test_conditioning_changes_the_output_by_a_clear_margin(world):
    result, data = world["result"], world["data"]
    model = result.model
    z = np.random.default_rng(0).standard_normal((8, model.latent_dim)).astype(np.float32)
    outs = [V.generate._decode(model, z, np.full(8, i, np.int32)) for i in range(len(data.labels))]
    between = np.mean([np.abs(outs[i] - outs[j]).mean() for i in range(len(outs)) for j in range(i)])
    within = np.mean([np.abs(o[:4] - o[4:]).mean() for o in outs])  # other codes, same label
    # the same codes decoded with another label differ at least as much as other codes of
    # one label do: the decoder uses the label, it does not ignore it
    assert between > 0.02 and between > within, (between, within)
    # and the class prior has moved each style's mean away from the origin
    assert np.linalg.norm(np.asarray(model.prior_means), axis=1).min() > 0


def test_cli_train_vae_writes_a_results_row_and_a_loadable_folder(world, tmp_path, capsys, monkeypatch):
    """``musiclib train synthetic --experiment vae`` (run_vae_experiment): 2 epochs, on the
    module's dataset and feature cache."""
    import json

    from musiclib import cli

    monkeypatch.setenv("MUSICLIB_DATA_DIR", str(world["root"] / "data"))  # the module's dataset and cache
    monkeypatch.setenv("MUSICLIB_BUILD_DIR", str(tmp_path / "build"))
    short = classmethod(lambda cls, profile: V.VAEConfig(**{**world["config"].to_dict(), "epochs": 2}))
    monkeypatch.setattr(V.VAEConfig, "for_profile", short)
    out = tmp_path / "vae"
    assert cli.main(["train", "synthetic", "--experiment", "vae", "--profile", "tiny", "--out", str(out), "--json"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("experiment", "dataset", "profile", "seed", "reconstruction_mse_trained",
                "reconstruction_mse_untrained", "reconstruction_mse_mean_baseline", "train_seconds", "bundle"):
        assert key in row
    assert row["experiment"] == "vae" and row["profile"] == "tiny" and row["epochs"] == 2
    assert row["reconstruction_mse_trained"] < row["reconstruction_mse_untrained"]
    loaded = V.load(out)
    assert loaded.info["metrics"]["reconstruction_mse_trained"] == row["reconstruction_mse_trained"]
    table = pd.read_csv(tmp_path / "build" / "results" / "vae.csv")
    assert list(table["experiment"]) == ["vae"]


def test_cli_generate_writes_clips_of_the_asked_length(world, tmp_path, capsys):
    import json

    from musiclib import cli

    result, data = world["result"], world["data"]
    folder = V.save(result, tmp_path / "vae", data=data)
    label = data.labels[1]
    assert cli.main(["generate", str(folder), "--n", "2", "--label", label, "--seconds", "1.5",
                     "--out", str(tmp_path / "wavs"), "--json"]) == 0
    said = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert said["labels"] == data.labels and said["label"] == label and said["n"] == 2 and said["seconds"] == 1.5
    wavs = sorted((tmp_path / "wavs").glob("*.wav"))
    assert [str(w) for w in wavs] == sorted(said["files"])
    for wav in wavs:
        y, sr = sf.read(wav)
        assert sr == 22050 and len(y) == int(round(1.5 * sr)) and np.isfinite(y).all() and np.abs(y).max() > 1e-3
    # default: 3 s, the course classifiers' segment
    assert cli.main(["generate", str(folder), "--n", "1", "--label", label, "--out", str(tmp_path / "w3")]) == 0
    (three,) = (tmp_path / "w3").glob("*.wav")
    assert sf.info(three).frames == 3 * 22050
    assert cli.main(["generate", str(folder), "--n", "1", "--label", "no_such_style", "--out", str(tmp_path / "w2")]) == 2
    assert "no_such_style" in capsys.readouterr().err
