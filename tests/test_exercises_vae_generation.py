"""The checks of notebook 08 · Generating music with a VAE, on an untrained tiny VAE."""

from __future__ import annotations

import numpy as np
import pytest

import musiclib as ml


@pytest.fixture(scope="module")
def world():
    config = ml.vae.VAEConfig.for_profile("tiny")
    ml.train.set_seed(0)
    model = ml.vae.build_vae(config, n_labels=3, seed=0)  # untrained: the checks only need its maps
    stats = {"min": -100.0, "max": 40.0}
    vae = ml.vae.LoadedVAE(model, config, stats, ["a", "b", "c"])
    rng = np.random.default_rng(0)
    x = rng.uniform(0.2, 0.7, size=(4, config.frames, config.bins)).astype(np.float32)
    return {"vae": vae, "x": x, "y": np.array([0, 1, 2, 0], np.int32), "stats": stats}


def test_kl_term(world):
    E, vae, x, y = ml.exercises, world["vae"], world["x"], world["y"]
    mu, log_var = ml.vae.encode(vae, x, labels=y)
    per_dim = -0.5 * (1 + log_var - mu**2 - np.exp(log_var))
    kl = per_dim.sum(axis=1).mean()
    assert E.check_kl_term(kl, vae, x, y, quiet=True).right
    averaged = E.check_kl_term(per_dim.mean(), vae, x, y, quiet=True)
    assert averaged.status == "wrong" and "sums over them" in averaged.message
    summed = E.check_kl_term(per_dim.sum(), vae, x, y, quiet=True)
    assert summed.status == "wrong" and "average over the segments" in summed.message
    assert "sign" in E.check_kl_term(-kl, vae, x, y, quiet=True).message
    assert "-0.5" in E.check_kl_term(kl + 5, vae, x, y, quiet=True).message
    assert E.check_kl_term(..., vae, x, y, quiet=True).missing
    for bad in ("12", [kl, kl]):
        feedback = E.check_kl_term(bad, vae, x, y, quiet=True)
        assert feedback.status == "wrong" and "one number" in feedback.message


def test_seed_spread(world, capsys):
    E, vae = ml.exercises, world["vae"]
    samples = np.stack([ml.vae.sample(vae, 1, label="b", seed=s)[0] for s in range(3, 8)])
    spread = samples.std(axis=0).mean()
    assert E.check_seed_spread(spread, vae, label="b", seeds=range(3, 8)).right
    assert capsys.readouterr().out.startswith("✓ Exercise 08.2")
    assert E.check_seed_spread(samples.std(axis=0, ddof=1).mean(), vae, label="b", seeds=range(3, 8), quiet=True).right
    flat = E.check_seed_spread(samples.std(), vae, label="b", seeds=range(3, 8), quiet=True)
    assert flat.status == "wrong" and "axis=0" in flat.message
    off = E.check_seed_spread(1.5 * spread, vae, label="b", seeds=range(3, 8), quiet=True)
    assert off.status == "wrong" and "for each of the seeds [3, 4, 5, 6, 7]" in off.message
    assert E.check_seed_spread(..., vae, label="b", seeds=range(3, 8), quiet=True).missing
    assert E.check_seed_spread("small", vae, label="b", seeds=range(3, 8), quiet=True).status == "wrong"


def test_peak_shift(world):
    E, segment, stats = ml.exercises, world["x"][0], world["stats"]
    db = ml.vae.denormalise(segment, stats)
    own = (db - db.min()) / (db.max() - db.min())
    back = ml.vae.denormalise(own, stats)
    shift = back.max() - db.max()
    assert shift == pytest.approx(40.0 - db.max(), abs=1e-3) and shift > 5
    assert E.check_peak_shift(shift, segment, stats, quiet=True).right
    normalised_units = E.check_peak_shift(own.max() - segment.max(), segment, stats, quiet=True)
    assert normalised_units.status == "wrong" and "denormalise" in normalised_units.message
    assert "reversed" in E.check_peak_shift(-shift, segment, stats, quiet=True).message
    mean = E.check_peak_shift(np.mean(back - db), segment, stats, quiet=True)
    assert mean.status == "wrong" and "max()" in mean.message
    assert E.check_peak_shift(..., segment, stats, quiet=True).missing
    for bad in ("12 dB", [1.0, 2.0]):
        assert E.check_peak_shift(bad, segment, stats, quiet=True).status == "wrong"


def test_latent_size(world):
    config = ml.vae.VAEConfig.for_profile("tiny")
    check = ml.exercises.check_latent_size
    small = ml.vae.build_vae(config.replace(latent_dim=4), n_labels=3, seed=0)
    good = check(small, latent_dim=4, config=config, n_labels=3, quiet=True)
    assert good.right and "(n, 4)" in good.message
    assert check(world["vae"], latent_dim=config.latent_dim, config=config, n_labels=3, quiet=True).right  # LoadedVAE
    same = check(world["vae"], latent_dim=4, config=config, n_labels=3, quiet=True)
    assert same.status == "wrong" and "latent_dim=4" in same.message
    unconditional = check(ml.vae.build_vae(config.replace(latent_dim=4), n_labels=0, seed=0), latent_dim=4,
                          config=config, n_labels=3, quiet=True)
    assert unconditional.status == "wrong" and "n_labels" in unconditional.message
    assert check(..., latent_dim=4, config=config, n_labels=3, quiet=True).missing
    assert check("vae", latent_dim=4, config=config, n_labels=3, quiet=True).status == "wrong"
