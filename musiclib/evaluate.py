"""Scores that say what they were measured on: segment or recording level, and the results
table the course summary reads.

Taught in ``notebooks/02_spectral_features.ipynb``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .config import Settings


def recording_level(
    proba: np.ndarray, y_true: np.ndarray, groups, *, how: str = "mean"
) -> tuple[np.ndarray, np.ndarray]:
    """Aggregate per-row (segment or clip) predictions into one per recording.

    Parameters
    ----------
    proba : np.ndarray, shape (n_rows, n_classes)
        Class probabilities of each row.
    y_true : np.ndarray, shape (n_rows,)
        Integer labels; all rows of one recording share theirs.
    groups : array-like, shape (n_rows,)
        The recording (``group``) of each row.
    how : {'mean', 'vote'}
        ``mean``: the class of the mean probability; ``vote``: the most frequent row
        prediction (ties go to the higher mean probability).

    Returns
    -------
    (y_true_rec, y_pred_rec) : two np.ndarray of shape (n_recordings,)
    """
    proba = np.asarray(proba, dtype=np.float64)
    frame = pd.DataFrame({"group": np.asarray(groups), "y": np.asarray(y_true)})
    codes, uniques = pd.factorize(frame["group"])
    n_rec, n_classes = len(uniques), proba.shape[1]
    mean = np.zeros((n_rec, n_classes))
    np.add.at(mean, codes, proba)
    mean /= np.bincount(codes, minlength=n_rec)[:, None]
    if how == "mean":
        pred = mean.argmax(axis=1)
    elif how == "vote":
        votes = np.zeros((n_rec, n_classes))
        np.add.at(votes, (codes, proba.argmax(axis=1)), 1.0)
        pred = (votes + 1e-6 * mean).argmax(axis=1)  # mean probability breaks ties
    else:
        raise ValueError(f"how must be 'mean' or 'vote', got {how!r}")
    truth = frame.groupby(codes)["y"].first().to_numpy()
    return truth, pred


def scores(y_true, y_pred) -> dict[str, float]:
    """Accuracy and macro-F1 (``sklearn.metrics``)."""
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
    }


def save_results(rows: pd.DataFrame, name: str, settings: Settings) -> Path:
    """Write experiment rows to ``build/results/<name>.csv`` (atomic), where
    ``musiclib course`` collects them into ``build/course/results.md``.

    Rows gain ``dataset``, ``profile`` and ``seed`` columns if they lack them.
    """
    rows = rows.copy()
    for col, value in (("dataset", settings.dataset), ("profile", settings.profile.name), ("seed", settings.seed)):
        if col not in rows:
            rows[col] = value
    path = Path(settings.results_dir) / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    rows.to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path
