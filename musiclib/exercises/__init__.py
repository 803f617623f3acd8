"""Checks for the exercises of the course notebooks.

Every exercise with a checkable answer has a function here, named after what it checks
(``ml.exercises.check_clip_duration``). A notebook calls it after the learner's cell::

    feedback = ml.exercises.check_clip_duration(duration_s, y=y, sr=SR, row=row)

and it prints one friendly line — right, not yet (with what to look at), or no answer yet
— and returns a :class:`Feedback` (``feedback.right``, ``feedback.status``). Checks compute
the expected answer from the same inputs the learner used, never from stored numbers, so
they hold for every dataset, profile and seed.

``catalogue()`` lists every check by notebook and exercise number. The student versions of
the notebooks (``musiclib course student --out DIR``, :mod:`musiclib.student`) keep these
calls and replace the solutions above them with ``...``.

One module per notebook; importing this package never imports TensorFlow.
"""

from __future__ import annotations

import pandas as pd

from . import (  # noqa: F401  (importing registers the checks)
    audio_basics,
    mel_cnn,
    mfcc_chroma_mel,
    mfcc_networks,
    predict_your_music,
    results,
    segments,
    setup_and_data,
    spectral_features,
    vae_generation,
)
from .feedback import REGISTRY, Exercise, Feedback, is_missing

_TOPICS = (setup_and_data, audio_basics, spectral_features, mfcc_chroma_mel, segments, mfcc_networks,
           mel_cnn, results, vae_generation, predict_your_music)

for _topic in _TOPICS:
    globals().update({name: getattr(_topic, name) for name in _topic.__all__})

__all__ = ["Exercise", "Feedback", "REGISTRY", "catalogue", "is_missing"] + [
    name for topic in _TOPICS for name in topic.__all__]


def catalogue() -> pd.DataFrame:
    """One row per checkable exercise: ``exercise`` ("02.1"), ``notebook``, ``title``, ``check``."""
    rows = [{"exercise": e.exercise, "notebook": e.notebook, "title": e.title, "check": e.check.__name__}
            for e in REGISTRY.values()]
    table = pd.DataFrame(rows, columns=["exercise", "notebook", "title", "check"])
    order = table["exercise"].map(lambda k: tuple(int(p) for p in k.split(".")))
    return table.iloc[order.argsort().to_numpy()].reset_index(drop=True)
