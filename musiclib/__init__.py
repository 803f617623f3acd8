"""musiclib: the library behind the music classification and generation course.

Import it as ``import musiclib as ml``. Submodules load on first use (``ml.audio``,
``ml.datasets``, ...), so ``import musiclib`` stays fast and never pulls in TensorFlow.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "audio",
    "augment",
    "baselines",
    "bundle",
    "cli",
    "config",
    "course",
    "datasets",
    "errors",
    "evaluate",
    "exercises",
    "experiments",
    "features",
    "images",
    "models",
    "plots",
    "predict",
    "safe_write",
    "show",
    "specaugment",
    "splits",
    "streaming",
    "student",
    "synth",
    "train",
    "vae",
)

__all__ = list(_SUBMODULES) + ["__version__"]


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'musiclib' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))
