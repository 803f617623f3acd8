"""Checks for the exercises of notebook 08 · Generating music with a VAE."""

from __future__ import annotations

import math

import numpy as np

from .feedback import Feedback, as_number, compare_number, registers, right, wrong

__all__ = ["check_kl_term", "check_seed_spread", "check_peak_shift", "check_latent_size"]


def _kl_per_segment(vae, x, y) -> np.ndarray:
    from ..vae import encode

    mu, log_var = encode(vae, x, labels=y)
    mu, log_var = mu.astype(np.float64), log_var.astype(np.float64)
    return -0.5 * np.sum(1.0 + log_var - mu**2 - np.exp(log_var), axis=1)


@registers("08.1", "the KL term of held-out segments")
def check_kl_term(kl_test, vae, x_test: np.ndarray, y_test: np.ndarray, *, quiet: bool = False) -> Feedback:
    """``kl_test``: the KL divergence of each segment's Gaussian ``N(mu, exp(log_var))`` from
    ``N(0, I)``, summed over the latent dimensions and averaged over the segments of
    ``x_test`` (labels ``y_test``), in nats — the ``kl`` the training curves show."""
    per_segment = _kl_per_segment(vae, x_test, y_test)
    expected = float(per_segment.mean())
    hint = ("with mu, log_var = ml.vae.encode(vae, x_test, labels=y_test), take "
            "-0.5 * (1 + log_var - mu**2 - exp(log_var)), sum it over the latent dimensions (axis=1), "
            "then average over the segments.")
    value = as_number(kl_test)
    if value is not None and math.isfinite(value) and not math.isclose(value, expected, rel_tol=1e-3):
        latent = _latent_dim(vae)
        if latent > 1 and math.isclose(value * latent, expected, rel_tol=1e-3):
            return wrong("08.1", f"kl_test = {value:.4g} is the mean over the {latent} latent dimensions; "
                         "the KL term sums over them (axis=1) and averages over segments only.", quiet=quiet)
        if len(per_segment) > 1 and math.isclose(value, float(per_segment.sum()), rel_tol=1e-3):
            return wrong("08.1", f"kl_test = {value:.4g} is the sum over all {len(per_segment)} segments; "
                         "average over the segments instead.", quiet=quiet)
        if math.isclose(value, -expected, rel_tol=1e-3):
            return wrong("08.1", f"kl_test = {value:.4g} has the wrong sign: a KL divergence is never "
                         "negative (the formula starts with -0.5).", quiet=quiet)
    return compare_number("08.1", kl_test, expected, what="kl_test", unit="nats per segment", rtol=1e-3,
                          hint=hint, praise=f"about {expected / _latent_dim(vae):.2f} nats per latent dimension: "
                          "how much information the codes carry beyond the prior.", quiet=quiet)


def _latent_dim(vae) -> int:
    return int(getattr(vae, "model", vae).latent_dim)


def _spread(samples: np.ndarray, ddof: int = 0) -> float:
    return float(np.asarray(samples, dtype=np.float64).std(axis=0, ddof=ddof).mean())


@registers("08.2", "how much samples of one style differ between seeds")
def check_seed_spread(seed_spread, vae, *, label, seeds, quiet: bool = False) -> Feedback:
    """``seed_spread``: the standard deviation across the samples drawn with each of ``seeds``
    (one ``ml.vae.sample(vae, 1, label=label, seed=s)`` per seed), per spectrogram cell,
    averaged over all cells; in the normalised [0, 1] units of the spectrograms."""
    from ..vae import sample

    seeds = [int(s) for s in seeds]
    samples = np.stack([sample(vae, 1, label=label, seed=s)[0] for s in seeds])
    expected = _spread(samples)
    value = as_number(seed_spread)
    if value is not None and len(seeds) > 1 and math.isclose(value, _spread(samples, ddof=1), rel_tol=1e-3):
        return right("08.2", f"seed_spread = {value:.4g} (with ddof=1; ddof=0 gives {expected:.4g}).", quiet=quiet)
    hint = (f"stack one ml.vae.sample(vae, 1, label=label, seed=s)[0] for each of the seeds {seeds}, "
            "take .std(axis=0) across the samples (one value per cell), then .mean() of that.")
    if value is not None and math.isfinite(value) and not math.isclose(value, expected, rel_tol=1e-3):
        if math.isclose(value, float(samples.std()), rel_tol=1e-3):
            return wrong("08.2", f"seed_spread = {value:.4g} is the spread over all cells of all samples "
                         "together (it mixes loud and quiet cells); take the std across samples, axis=0, "
                         "then the mean over cells.", quiet=quiet)
    return compare_number("08.2", seed_spread, expected, what="seed_spread", rtol=1e-3, hint=hint,
                          praise=f"across {len(seeds)} seeds (in [0, 1] units; one unit is the whole training "
                          "range in dB).", quiet=quiet)


@registers("08.3", "level of the loudest cell after normalising a segment by its own min and max")
def check_peak_shift(peak_shift_db, segment: np.ndarray, stats: dict, *, quiet: bool = False) -> Feedback:
    """``peak_shift_db``: how many dB the loudest cell of ``segment`` rises when the segment is
    normalised by its **own** min and max and then turned back into dB with the training
    statistics ``stats`` (as ``to_audio`` does), compared with its true dB values
    ``ml.vae.denormalise(segment, stats)``."""
    from ..vae import denormalise

    db = denormalise(segment, stats).astype(np.float64)
    span = db.max() - db.min()
    own = (db - db.min()) / span if span > 0 else np.zeros_like(db)
    back = denormalise(own, stats).astype(np.float64)
    expected = float(back.max() - db.max())
    value = as_number(peak_shift_db)
    if value is not None and math.isfinite(value) and not math.isclose(value, expected, rel_tol=1e-3, abs_tol=1e-3):
        scale = float(stats["max"]) - float(stats["min"])
        if scale and math.isclose(value * scale, expected, rel_tol=1e-3, abs_tol=1e-3):
            return wrong("08.3", f"peak_shift_db = {value:.4g} is in normalised [0, 1] units; turn both "
                         "versions into dB with ml.vae.denormalise(..., data.stats) before subtracting.",
                         quiet=quiet)
        if math.isclose(value, -expected, rel_tol=1e-3, abs_tol=1e-3):
            return wrong("08.3", "the sign is reversed: subtract the true peak from the re-scaled one "
                         "(positive means louder).", quiet=quiet)
        if math.isclose(value, float(np.mean(back - db)), rel_tol=1e-3, abs_tol=1e-3):
            return wrong("08.3", "that is the average change over all cells; the question is about the "
                         "loudest cell: compare the .max() of the two versions.", quiet=quiet)
    return compare_number(
        "08.3", peak_shift_db, expected, what="peak_shift_db", unit="dB", rtol=1e-3, atol=1e-3,
        hint="take db = ml.vae.denormalise(segment, data.stats), rescale it by its own min and max to [0, 1], "
             "denormalise that with data.stats again, and subtract the maximum of db from its maximum.",
        praise=f"whatever its real level, the segment's loudest cell is pushed up to the loudest of the whole "
               f"training set ({float(stats['max']):.1f} dB) and its quietest down to the training minimum "
               f"({float(stats['min']):.1f} dB).", quiet=quiet)


@registers("08.5", "a VAE with another latent size")
def check_latent_size(model, *, latent_dim: int, config, n_labels: int, quiet: bool = False) -> Feedback:
    """``model``: a VAE built by ``ml.vae.build_vae(config.replace(latent_dim=latent_dim),
    n_labels=n_labels, ...)`` — the same spectrogram shape and conditioning as ``config``
    and ``n_labels``, only the latent size changed; its encoder must give ``mu`` and
    ``log_var`` of shape ``(n, latent_dim)`` and its decoder take ``z`` of that size."""
    from ..vae import VAE

    model = getattr(model, "model", model)  # a VAEResult or LoadedVAE is fine too
    if not isinstance(model, VAE):
        return wrong("08.5", f"expected a VAE from ml.vae.build_vae(...), got {type(model).__name__}.", quiet=quiet)
    shapes = [tuple(t.shape) for t in model.encoder.outputs]
    if model.latent_dim != int(latent_dim) or shapes != [(None, int(latent_dim))] * 2:
        return wrong("08.5", f"its encoder gives mu and log_var of shapes {shapes}, the exercise asks for latent size "
                     f"{latent_dim}: build it from config.replace(latent_dim={latent_dim}).", quiet=quiet)
    if (model.frames, model.bins) != (config.frames, config.bins):
        return wrong("08.5", f"it takes spectrograms of {(model.frames, model.bins)}, the data are "
                     f"{(config.frames, config.bins)}: change only latent_dim in config.replace(...).", quiet=quiet)
    expected_labels = int(n_labels) if config.conditional else 0
    if model.n_labels != expected_labels:
        return wrong("08.5", f"it is conditioned on {model.n_labels} labels, the trained VAE on {expected_labels}: "
                     "pass n_labels=len(data.labels) to build_vae.", quiet=quiet)
    encoder, decoder = model.encoder.count_params(), model.decoder.count_params()
    return right("08.5", f"mu and log_var of shape (n, {latent_dim}); encoder {encoder:,} and decoder {decoder:,} "
                 "parameters — only the layers next to the code (mu, log_var, dec_dense) change size.", quiet=quiet)
