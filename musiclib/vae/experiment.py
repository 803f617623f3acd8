"""The whole VAE recipe in one call: what ``musiclib train DATASET --experiment vae`` runs.

:func:`run_vae_experiment` loads the dataset, splits it by recording with the split every
classifier run uses (:func:`musiclib.experiments.run_split`), then
:func:`~musiclib.vae.prepare`, :func:`~musiclib.vae.train_vae`,
:func:`~musiclib.vae.evaluate`, :func:`~musiclib.vae.feature_distances` and
:func:`~musiclib.vae.save`, and appends one row to ``results/vae.csv``.

Taught in ``notebooks/08_vae_generation.ipynb``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from .config import VAEConfig
from .data import prepare
from .io import save
from .metrics import evaluate, feature_distances
from .model import train_vae

FD_CLIPS = 120  # clips a side for the Frechet distances (fewer where the held-out sides have fewer)


def run_vae_experiment(settings=None, *, dataset=None, out_dir: str | os.PathLike | None = None,
                       seed: int | None = None, config: VAEConfig | None = None, jobs: int = 2,
                       save_results: bool = True, verbose: int = 0) -> dict:
    """Load the dataset, split by recording, prepare, train, evaluate, save; one results row.

    What ``musiclib train DATASET --experiment vae`` runs. The model folder (default
    ``build/models/<profile>/<dataset>/vae``) holds ``model.keras`` and ``vae.json``; the row is appended to
    ``build/results/vae.csv`` (not ``experiments.csv``: its columns are a classifier's).

    Parameters
    ----------
    settings : musiclib.config.Settings, optional
        Default :func:`musiclib.config.settings` (environment and profile).
    dataset : str or os.PathLike, optional
        ``"synthetic"`` or a dataset folder; default the settings' dataset.
    out_dir : str or os.PathLike, optional
        The model folder; default ``settings.models_dir / "vae"``.
    seed : int, optional
        Overrides the settings' seed (split, initial weights, sampling).
    config : VAEConfig, optional
        Default :meth:`VAEConfig.for_profile` of the settings' profile.
    jobs : int
        Worker processes for loading and feature extraction.
    save_results : bool
        Append the row to ``settings.results_dir / "vae.csv"``.
    verbose : int
        Keras' ``fit`` verbosity.

    Returns
    -------
    dict
        ``experiment`` ('vae'), ``dataset``, ``profile``, ``seed``, the three held-out
        reconstruction errors (``reconstruction_mse_trained`` / ``_untrained`` /
        ``_mean_baseline``, normalised space) and ``rmse_db_*`` of the same, the final
        ``kl`` and ``val_loss``, the Frechet distances of
        :func:`~musiclib.vae.feature_distances` with ``FD_CLIPS`` clips a side:
        ``feature_distance`` (generated vs real held-out), ``feature_distance_train`` (real
        training vs real held-out, the reference) and ``feature_distance_vocoder`` (real
        through Griffin-Lim vs real), ``feature_distance_clips``, ``parameters``,
        ``epochs``, ``train_seconds``, ``total_seconds``, counts and ``bundle``.
    """
    from .. import datasets, evaluate as ev
    from ..experiments import run_split
    from ..config import settings as default_settings
    from ..models import count_parameters

    began = time.perf_counter()
    s = settings or default_settings()
    if seed is not None:
        s = s.replace(seed=seed)
    if dataset is not None:
        s = s.replace(dataset="synthetic" if str(dataset) == "synthetic" else str(Path(dataset).resolve()))
    cfg = config or VAEConfig.for_profile(s.profile)
    ds = datasets.load(s.dataset, settings=s, jobs=jobs)
    manifest = run_split(ds.manifest, s.seed)  # the split every classifier run uses
    data = prepare(manifest, s, cfg, jobs=jobs)
    result = train_vae(data, cfg, seed=s.seed, verbose=verbose)
    table = evaluate(result, data, seed=s.seed).set_index("model")
    fd = feature_distances(result, data, n=FD_CLIPS, seed=s.seed)
    h = result.history
    row = {
        "experiment": "vae",
        "title": "convolutional VAE of log-spectrograms (composer generation)",
        "dataset": s.dataset,
        "profile": s.profile.name,
        "seed": s.seed,
        "split": "by recording",
        "conditional": bool(result.model.n_labels),
        "reconstruction_mse_trained": float(table.loc["trained", "mse"]),
        "reconstruction_mse_untrained": float(table.loc["untrained", "mse"]),
        "reconstruction_mse_mean_baseline": float(table.loc["mean_spectrogram", "mse"]),
        "rmse_db_trained": float(table.loc["trained", "rmse_db"]),
        "rmse_db_untrained": float(table.loc["untrained", "rmse_db"]),
        "rmse_db_mean_baseline": float(table.loc["mean_spectrogram", "rmse_db"]),
        "final_reconstruction": h["reconstruction"][-1],
        "final_kl": h["kl"][-1],
        "final_val_loss": h.get("val_loss", [np.nan])[-1],
        "feature_distance": fd["generated_vs_real"],
        "feature_distance_train": fd["real_vs_real"],
        "feature_distance_vocoder": fd["vocoder_vs_real"],
        "feature_distance_clips": fd["n"],
        "parameters": count_parameters(result.model),
        "epochs": result.epochs,
        "train_seconds": round(result.seconds, 2),
        "n_train": int(len(data.x["train"])),
        "n_test_segments": int(table.loc["trained", "n_segments"]),
        "input_shape": f"{cfg.frames}x{cfg.bins}",
        "source": "000",
    }
    folder = Path(out_dir) if out_dir else s.models_dir / "vae"
    metrics = {k: row[k] for k in row if k.startswith(("reconstruction_", "rmse_db_", "feature_distance"))}
    row["bundle"] = str(save(result, folder, data=data, extra={
        "metrics": metrics, "history": h,
        "trained_on": {"dataset": s.dataset, "profile": s.profile.name, "seed": s.seed, "split": "by recording"}}))
    row["total_seconds"] = round(time.perf_counter() - began, 2)
    if save_results:
        ev.append_result(row, s, name="vae")
    return row
