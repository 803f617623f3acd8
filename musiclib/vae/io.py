"""Saving and loading a trained VAE: a folder with ``model.keras`` and ``vae.json``.

``model.keras`` is the Keras 3 file of the :class:`~musiclib.vae.VAE` (registered as
``"musiclib>VAE"``, loaded in safe mode); ``vae.json`` holds what the model alone cannot
tell: the normalisation statistics in dB (training side only), the labels in one-hot
order, the input shape ``[frames, bins]``, the :class:`~musiclib.vae.VAEConfig`, the seed
and the package versions. The folder is a bundle of kind ``"vae"`` in the format of
:mod:`musiclib.bundle`: :func:`save` writes it as a whole (:func:`musiclib.bundle.write`),
:func:`load` reads it back into a :class:`LoadedVAE` and refuses a folder whose parts
disagree.

Taught in ``notebooks/08_vae_generation.ipynb``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..bundle import load_model, read_info
from ..bundle import write as write_bundle
from ..errors import MusiclibError
from .config import VAEConfig
from .data import VAEData
from .model import VAE


@dataclass
class LoadedVAE:
    """A VAE loaded by :func:`load`: model, settings, normalisation statistics, labels.

    Usable wherever a :class:`~musiclib.vae.VAEResult` is (:func:`~musiclib.vae.sample`,
    :func:`~musiclib.vae.to_audio`, :func:`~musiclib.vae.evaluate`, ...).

    Attributes
    ----------
    model : VAE
        The Keras model (not compiled).
    config : VAEConfig
    stats : dict
        ``{"min": dB, "max": dB}`` of the training side: the normalisation of its inputs
        and outputs.
    labels : list of str
        Style labels in one-hot order.
    info : dict
        The whole ``vae.json`` (``metrics``, ``history``, ``versions``... when saved).
    folder : pathlib.Path or None
        Where it was loaded from.
    """

    model: VAE
    config: VAEConfig
    stats: dict
    labels: list
    info: dict = field(default_factory=dict)
    folder: Path | None = None

    @property
    def seed(self) -> int:
        """The training seed recorded in ``vae.json`` (0 if none)."""
        return int(self.info.get("seed", 0))


def save(result_or_model, folder: str | os.PathLike, *, data: VAEData | None = None,
         config: VAEConfig | None = None, stats: dict | None = None, labels=None, extra: dict | None = None) -> Path:
    """Write ``model.keras`` and ``vae.json`` into ``folder``, replacing it as a whole.

    ``vae.json`` holds the normalisation statistics (training side), the labels (in
    one-hot order), the input shape, the :class:`VAEConfig`, the package versions and
    ``extra`` (e.g. evaluation numbers). ``data`` supplies stats and labels; or pass them.

    Parameters
    ----------
    result_or_model : VAEResult, LoadedVAE or VAE
        What to save; a result also supplies config, stats, labels and seed.
    folder : str or os.PathLike
        The folder to (re)place; its parent is created.
    data : VAEData, optional
        Supplies ``stats`` and ``labels`` (and the config if no other does).
    config : VAEConfig, optional
        Default the result's config, else ``data.config``.
    stats : dict, optional
        ``{"min": dB, "max": dB}``; default ``data.stats``, else the result's.
    labels : list of str, optional
        Default ``data.labels``, else the result's, else none.
    extra : dict, optional
        More keys for ``vae.json`` (JSON-serialisable), e.g. ``metrics`` and ``history``.

    Returns
    -------
    pathlib.Path
        The folder written.

    Raises
    ------
    MusiclibError
        No config or no statistics could be found.
    """
    model = getattr(result_or_model, "model", result_or_model)
    cfg = config or getattr(result_or_model, "config", None) or (data.config if data is not None else None)
    stats = stats or (data.stats if data is not None else getattr(result_or_model, "stats", None))
    labels = list(labels if labels is not None else (data.labels if data is not None
                                                      else getattr(result_or_model, "labels", [])))
    if cfg is None or stats is None:
        raise MusiclibError("save needs the VAEConfig and the normalisation statistics (pass data=...)")
    return _write_folder(folder, model, cfg, stats, labels, int(getattr(result_or_model, "seed", 0)), extra)


def _write_folder(folder, model, cfg: VAEConfig, stats: dict, labels: list, seed: int, extra: dict | None) -> Path:
    """The one place that knows ``vae.json``'s own keys; :func:`musiclib.bundle.write` adds
    the format, the kind, the package versions and the time, and writes both files."""
    info = {
        "stats": {"min": float(stats["min"]), "max": float(stats["max"])},
        "stats_unit": "dB (amplitude_to_db, ref 1.0, of each signal scaled to FeatureConfig.level_db), "
                      "training side only",
        "labels": labels,
        "conditional": bool(model.n_labels),
        "input_shape": [cfg.frames, cfg.bins],
        "config": cfg.to_dict(),
        "seed": seed,
        **(extra or {}),
    }
    return write_bundle(folder, model, info, kind="vae")


def load(folder: str | os.PathLike) -> LoadedVAE:
    """Load a folder written by :func:`save` (safe mode, no compile).

    Parameters
    ----------
    folder : str or os.PathLike
        Holding ``model.keras`` and ``vae.json`` (``~`` is expanded).

    Returns
    -------
    LoadedVAE

    Raises
    ------
    musiclib.bundle.BundleError
        Not a VAE bundle (a file missing, unreadable JSON, another format or kind, a
        required key missing; :func:`musiclib.bundle.read_info`), or a model that does not
        load.
    MusiclibError
        ``vae.json`` has an unknown setting, or the model's shape or number of labels
        disagrees with it.
    """
    folder = Path(folder).expanduser()
    info = read_info(folder, kind="vae", required=("config", "stats", "labels"))
    cfg = VAEConfig.from_dict(info["config"])
    model = load_model(folder)
    if (model.frames, model.bins) != (cfg.frames, cfg.bins):
        raise MusiclibError(f"{folder}: model shape {(model.frames, model.bins)} disagrees with vae.json")
    if model.n_labels and model.n_labels != len(info["labels"]):
        raise MusiclibError(f"{folder}: {len(info['labels'])} labels for a model conditioned on {model.n_labels}")
    return LoadedVAE(model=model, config=cfg, stats=dict(info["stats"]), labels=list(info["labels"]), info=info,
                     folder=folder)


def _parts(vae):
    """A loaded VAE from a folder (:func:`load`), or the object itself."""
    if isinstance(vae, (str, os.PathLike)):
        return load(vae)
    return vae
