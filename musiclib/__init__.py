"""musiclib: the library behind the music classification and generation course.

Import it as ``import musiclib as ml``. Submodules load on first use (``ml.audio``,
``ml.datasets``, ...), so ``import musiclib`` stays fast and never pulls in TensorFlow.
In a Jupyter kernel it also makes TensorFlow's C++ log lines stay out of the notebook
(:mod:`musiclib.tf_log`; no TensorFlow is imported for that).
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
    "composers",
    "config",
    "course",
    "datasets",
    "dsp",
    "errors",
    "evaluate",
    "exercises",
    "experiments",
    "features",
    "images",
    "instruments",
    "models",
    "plots",
    "predict",
    "progress",
    "safe_write",
    "scores",
    "show",
    "specaugment",
    "splits",
    "streaming",
    "student",
    "synth",
    "tf_log",
    "train",
    "vae",
    "website",
)

__all__ = list(_SUBMODULES) + ["__version__"]

# A notebook imports musiclib in its first cell, before any `import keras` of its own: the
# filter goes in now so TensorFlow's start-up lines never reach the notebook. Elsewhere it
# waits for musiclib's first Keras import (tf_log.import_keras).
from . import tf_log as _tf_log  # noqa: E402  (os, re, select, threading: no TensorFlow)

if _tf_log.in_kernel():
    _tf_log.quiet()


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'musiclib' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))
