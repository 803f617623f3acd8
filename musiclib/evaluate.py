"""Scores that say what they were measured on: segment or recording level, and the results
table the course summary reads.

Taught in ``notebooks/02_spectral_features.ipynb``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import safe_write
from .config import Settings
from .tf_log import import_keras as _import_keras


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
    return safe_write.write_csv(rows, Path(settings.results_dir) / f"{name}.csv")


def predict_proba(model, x: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """Class probabilities of a Keras model, shape (n, n_classes), in batches.

    Calls the model directly (inference mode) rather than ``model.predict``: no new
    compiled function per model, so a notebook that trains several stays quiet.
    """
    keras = _import_keras()

    x = np.asarray(x, dtype=np.float32)
    n_out = model.output_shape[-1]
    if not len(x):
        return np.zeros((0, n_out), dtype=np.float32)
    parts = [keras.ops.convert_to_numpy(model(x[i:i + batch_size], training=False))
             for i in range(0, len(x), batch_size)]
    return np.concatenate(parts).astype(np.float32)


def evaluate_split(proba: np.ndarray, y_true: np.ndarray, groups) -> dict[str, float]:
    """Segment-level and recording-level scores of one side.

    Returns
    -------
    dict
        ``accuracy_segment``, ``macro_f1_segment``, ``accuracy_recording`` (mean
        probability over each recording's segments), ``accuracy_recording_vote``
        (majority vote), ``macro_f1_recording``.
    """
    seg = scores(y_true, np.asarray(proba).argmax(axis=1))
    rec_true, rec_mean = recording_level(proba, y_true, groups, how="mean")
    _, rec_vote = recording_level(proba, y_true, groups, how="vote")
    rec = scores(rec_true, rec_mean)
    return {
        "accuracy_segment": seg["accuracy"],
        "macro_f1_segment": seg["macro_f1"],
        "accuracy_recording": rec["accuracy"],
        "accuracy_recording_vote": scores(rec_true, rec_vote)["accuracy"],
        "macro_f1_recording": rec["macro_f1"],
    }


def per_class_report(y_true, y_pred, labels: list[str]) -> pd.DataFrame:
    """Precision, recall, F1 and support per class (``sklearn.metrics.classification_report``)."""
    from sklearn.metrics import classification_report

    report = classification_report(
        y_true, y_pred, labels=list(range(len(labels))), target_names=labels,
        output_dict=True, zero_division=0,
    )
    frame = pd.DataFrame(report).T
    frame["support"] = frame["support"].astype(int)
    return frame.drop(index=[k for k in ("accuracy",) if k in frame.index])


RESULT_KEY = ["experiment", "dataset", "profile", "seed", "split", "balance"]


def append_result(row: dict, settings: Settings, *, name: str = "experiments") -> Path:
    """Add one experiment row to ``build/results/<name>.csv`` (atomic).

    A row with the same experiment, dataset, profile, seed, split and balancing replaces
    the older one, so reruns do not pile up duplicates.
    """
    path = Path(settings.results_dir) / f"{name}.csv"
    new = pd.DataFrame([row])
    if path.exists():
        old = pd.read_csv(path)
        key = [k for k in RESULT_KEY if k in old and k in new]
        if key:
            same = (old[key].astype(str) == new[key].astype(str).iloc[0]).all(axis=1)
            old = old.loc[~same]
        new = pd.concat([old, new], ignore_index=True)
    return safe_write.write_csv(new, path)
