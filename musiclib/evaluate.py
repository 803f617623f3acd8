"""Scores that say what they were measured on: segment or recording level, and the results
table the course summary reads.

Taught in ``notebooks/02_spectral_features.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    """Precision, recall, F1 and support per class (``sklearn.metrics.classification_report``).

    A score that is undefined -- recall of a class with no true example (support 0),
    precision of a class never predicted -- is NaN, not 0 (``zero_division=np.nan``): a
    class that was not tested has no recall, which is not the same as a recall of 0. The
    averages leave such values out.

    Returns
    -------
    pandas.DataFrame
        One row per label (in ``labels`` order) plus ``macro avg`` and ``weighted avg``:
        ``precision``, ``recall``, ``f1-score``, ``support`` (int: true examples).

    Taught in ``notebooks/04_segments_leakage_balance.ipynb``.
    """
    from sklearn.metrics import classification_report

    report = classification_report(
        y_true, y_pred, labels=list(range(len(labels))), target_names=labels,
        output_dict=True, zero_division=np.nan,
    )
    frame = pd.DataFrame(report).T
    frame["support"] = frame["support"].astype(int)
    return frame.drop(index=[k for k in ("accuracy",) if k in frame.index])


RESULT_KEY = ["experiment", "dataset", "profile", "seed", "split", "balance", "folds", "fold"]


def append_result(row: dict, settings: Settings, *, name: str = "experiments") -> Path:
    """Add one experiment row to ``build/results/<name>.csv`` (atomic).

    A row with the same experiment, dataset, profile, seed, split, balancing and fold
    replaces the older one, so reruns do not pile up duplicates.
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


# ------------------------------------------------------------------ intervals and comparisons
#
# One split with 15 test recordings cannot tell 0.80 from 0.93: one recording is worth 0.067.
# The course therefore reports every accuracy with a 95% interval, and "A beats B" as a
# paired difference with its interval. The interval is a percentile bootstrap over test
# *recordings* (a cluster bootstrap: a recording's segments, and its appearances in several
# repeats, are resampled together), because recordings -- not segments -- are the
# independent units. With K folds by recording every recording is tested exactly once, so
# the pooled accuracy over the folds' test recordings is the mean.

LEVEL = 0.95  # of every interval
N_BOOTSTRAP = 2000  # resamples of every interval
INTERVAL_KIND = "percentile bootstrap over test recordings"

RECORDING_COLUMNS = ["fold", "group", "y_true", "y_pred", "y_pred_vote", "segments", "segments_correct"]


def recording_predictions(proba: np.ndarray, y_true: np.ndarray, groups, *, fold: int = 0) -> pd.DataFrame:
    """One row per test recording: what a model predicted for it, from its segments' probabilities.

    Parameters
    ----------
    proba : np.ndarray, shape (n_rows, n_classes)
        Probabilities of each segment (or clip) of the test side.
    y_true : np.ndarray, shape (n_rows,)
        Integer labels.
    groups : array-like, shape (n_rows,)
        Each row's recording.
    fold : int
        Stored in the ``fold`` column (which fold or repeat this test side belongs to).

    Returns
    -------
    pandas.DataFrame
        :data:`RECORDING_COLUMNS`: ``y_pred`` is the class of the mean probability,
        ``y_pred_vote`` the majority vote; ``segments`` and ``segments_correct`` count the
        recording's rows and how many were right on their own (segment-level accuracy).
    """
    proba = np.asarray(proba, dtype=np.float64)
    y_true = np.asarray(y_true)
    groups = np.asarray(groups)
    codes, uniques = pd.factorize(groups)
    truth, mean_pred = recording_level(proba, y_true, groups, how="mean")
    _, vote_pred = recording_level(proba, y_true, groups, how="vote")
    right = (proba.argmax(axis=1) == y_true).astype(int)
    return pd.DataFrame({
        "fold": int(fold),
        "group": uniques.astype(str),
        "y_true": truth.astype(int),
        "y_pred": mean_pred.astype(int),
        "y_pred_vote": vote_pred.astype(int),
        "segments": np.bincount(codes, minlength=len(uniques)),
        "segments_correct": np.bincount(codes, weights=right, minlength=len(uniques)).astype(int),
    })


def _resample_counts(n_clusters: int, *, n_boot: int, seed: int) -> np.ndarray:
    """``(n_boot, n_clusters)``: how often each cluster is drawn in each bootstrap resample."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=n_boot).astype(np.float64)


def _macro_f1_from_confusions(confusions: np.ndarray) -> np.ndarray:
    """Macro-F1 of each ``(..., C, C)`` confusion matrix (rows true, columns predicted) over
    the classes that occur in it (true or predicted), as ``sklearn.metrics.f1_score`` does."""
    tp = np.diagonal(confusions, axis1=-2, axis2=-1)
    denom = confusions.sum(axis=-1) + confusions.sum(axis=-2)  # 2tp + fp + fn
    present = denom > 0
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp, dtype=np.float64), where=present)
    return f1.sum(axis=-1) / np.maximum(present.sum(axis=-1), 1)


def _percentiles(values: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def interval_summary(recordings: pd.DataFrame, *, n_boot: int = N_BOOTSTRAP, level: float = LEVEL,
                     seed: int = 0) -> dict:
    """Accuracy (recording and segment level) and macro-F1 with their intervals.

    Parameters
    ----------
    recordings : pandas.DataFrame
        :func:`recording_predictions` rows of one or more folds (or repeats), concatenated.

    Returns
    -------
    dict
        For each of ``test_accuracy_recording``, ``test_accuracy_recording_vote``,
        ``test_accuracy_segment`` and ``macro_f1``: ``<name>_mean`` (pooled over every test
        recording; with K folds by recording, the mean over the data), ``<name>_ci_low``,
        ``<name>_ci_high``, and for the two accuracies ``<name>_fold_std`` (standard
        deviation of the per-fold values; 0 with one fold). Also ``n_test_recordings``
        (distinct recordings), ``folds`` (distinct fold values), ``interval`` (its kind,
        level and resamples).
    """
    rec = recordings.reset_index(drop=True)
    if not len(rec):
        raise ValueError("no test recordings to summarise")
    codes, uniques = pd.factorize(rec["group"].astype(str))
    n_clusters = len(uniques)
    w = _resample_counts(n_clusters, n_boot=n_boot, seed=seed)

    def per_cluster(values):  # sum of each recording's rows
        return np.bincount(codes, weights=values, minlength=n_clusters)

    per_row = {
        "test_accuracy_recording": ((rec["y_pred"] == rec["y_true"]).to_numpy(float), np.ones(len(rec))),
        "test_accuracy_recording_vote": ((rec["y_pred_vote"] == rec["y_true"]).to_numpy(float), np.ones(len(rec))),
        "test_accuracy_segment": (rec["segments_correct"].to_numpy(float), rec["segments"].to_numpy(float)),
    }
    out: dict = {}
    for name, (hits, counts) in per_row.items():
        cluster_hits, cluster_counts = per_cluster(hits), per_cluster(counts)
        point = hits.sum() / counts.sum()
        boot = (w @ cluster_hits) / np.maximum(w @ cluster_counts, 1e-12)
        low, high = _percentiles(boot, level)
        out[f"{name}_mean"], out[f"{name}_ci_low"], out[f"{name}_ci_high"] = float(point), low, high
        if name != "test_accuracy_recording_vote":
            per_fold = rec.assign(h=hits, c=counts).groupby("fold")[["h", "c"]].sum()
            values = (per_fold["h"] / per_fold["c"]).to_numpy()
            out[f"{name}_fold_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    n_classes = int(max(rec["y_true"].max(), rec["y_pred"].max())) + 1
    cell = rec["y_true"].to_numpy() * n_classes + rec["y_pred"].to_numpy()
    cells = np.zeros((n_clusters, n_classes * n_classes))
    np.add.at(cells, (codes, cell), 1.0)
    point_conf = cells.sum(axis=0).reshape(n_classes, n_classes)
    boot_conf = (w @ cells).reshape(-1, n_classes, n_classes)
    out["macro_f1_mean"] = float(_macro_f1_from_confusions(point_conf))
    out["macro_f1_ci_low"], out["macro_f1_ci_high"] = _percentiles(_macro_f1_from_confusions(boot_conf), level)
    out["n_test_recordings"] = int(n_clusters)
    out["folds"] = int(rec["fold"].nunique())
    out["interval"] = f"{level:.0%} {INTERVAL_KIND} ({n_boot} resamples)"
    return out


@dataclass
class Comparison:
    """A paired comparison of two experiments on the same test recordings (:func:`paired_comparison`).

    ``difference`` is ``a`` minus ``b`` (recording-level accuracy unless ``metric`` says
    otherwise), with its interval; ``fold_differences`` the per-fold values; ``a_only`` and
    ``b_only`` count the recordings only one of the two got right.
    """

    a: str
    b: str
    metric: str
    a_score: float
    b_score: float
    difference: float
    ci_low: float
    ci_high: float
    n_recordings: int
    folds: int
    fold_differences: list
    a_only: int
    b_only: int
    level: float = LEVEL
    interval: str = INTERVAL_KIND

    @property
    def resolved(self) -> bool:
        """True when the interval of the difference excludes 0 (a measured winner)."""
        return self.ci_low > 0 or self.ci_high < 0

    @property
    def winner(self) -> str | None:
        if not self.resolved:
            return None
        return self.a if self.difference > 0 else self.b

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return {**asdict(self), "resolved": self.resolved, "winner": self.winner}


_METRIC_COLUMNS = {
    "accuracy_recording": ("y_pred", None),
    "accuracy_recording_vote": ("y_pred_vote", None),
    "accuracy_segment": ("segments_correct", "segments"),
    "macro_f1": ("y_pred", None),  # recording level, from the confusion matrix
}


def _confusion_cells(frame: pd.DataFrame, codes: np.ndarray, n_clusters: int, n_classes: int) -> np.ndarray:
    """``(n_clusters, n_classes**2)``: each recording's counts in the cells of the confusion matrix."""
    cell = frame["y_true"].to_numpy(int) * n_classes + frame["y_pred"].to_numpy(int)
    cells = np.zeros((n_clusters, n_classes * n_classes))
    np.add.at(cells, (codes, cell), 1.0)
    return cells


def _paired_macro_f1(left: pd.DataFrame, right: pd.DataFrame, codes: np.ndarray, n_clusters: int,
                     w: np.ndarray, level: float):
    """Macro-F1 of ``left`` and ``right``, their difference, its bootstrap interval and per-fold values."""
    n_classes = int(max(left["y_true"].max(), left["y_pred"].max(), right["y_pred"].max())) + 1
    ca = _confusion_cells(left, codes, n_clusters, n_classes)
    cb = _confusion_cells(right, codes, n_clusters, n_classes)

    def f1(cells):
        return _macro_f1_from_confusions(cells.reshape(*cells.shape[:-1], n_classes, n_classes))

    fa, fb = float(f1(ca.sum(axis=0))), float(f1(cb.sum(axis=0)))
    low, high = _percentiles(f1(w @ ca) - f1(w @ cb), level)
    folds = left.index.get_level_values("fold").to_numpy()
    per_fold = []
    for f in np.unique(folds):
        rows = folds == f
        one = np.zeros(n_clusters)
        np.add.at(one, codes[rows], 1.0)
        mask = one > 0
        per_fold.append(float(f1(ca[mask].sum(axis=0)) - f1(cb[mask].sum(axis=0))))
    return fa, fb, low, high, per_fold


def paired_comparison(a: pd.DataFrame, b: pd.DataFrame, *, names: tuple[str, str] = ("a", "b"),
                      metric: str = "accuracy_recording", n_boot: int = N_BOOTSTRAP, level: float = LEVEL,
                      seed: int = 0, pair_on: str = "fold") -> Comparison:
    """How much experiment ``a`` beats ``b`` on the same test recordings, with a 95% interval.

    Parameters
    ----------
    a, b : pandas.DataFrame
        :func:`recording_predictions` rows of the two experiments on the **same** folds
        (same recordings, same fold indices; the paired design removes the variation due to
        which recordings were drawn for testing).
    names : (str, str)
        How the two are called in the result.
    metric : {'accuracy_recording', 'accuracy_recording_vote', 'accuracy_segment', 'macro_f1'}
        ``macro_f1`` is recording level (the mean over classes of F1, from the confusion
        matrix of all test recordings; each resample recomputes it).
    pair_on : {'fold', 'recording'}
        ``fold``: the two tables hold the same (fold, recording) rows. ``recording``: each
        recording's rows are pooled over the folds first -- for two protocols that test
        every *segment* once but spread a recording's segments differently over the folds
        (the leaky segment folds of :func:`musiclib.experiments.run_folds` beside the
        folds by recording); only ``accuracy_segment`` is defined then, the two must test
        the same segments of each recording, ``fold_differences`` is empty and ``a_only``
        / ``b_only`` count the recordings with more segments right under ``a`` / ``b``.

    Returns
    -------
    Comparison
        The difference ``a - b`` with a percentile-bootstrap interval over recordings (each
        resample draws recordings and takes both experiments' results on them).

    Raises
    ------
    ValueError
        The two tables do not hold the same (fold, recording) pairs.
    """
    if metric not in _METRIC_COLUMNS:
        raise ValueError(f"metric must be one of {', '.join(_METRIC_COLUMNS)}, got {metric!r}")
    if pair_on == "recording":
        return _paired_by_recording(a, b, names=names, metric=metric, n_boot=n_boot, level=level, seed=seed)
    if pair_on != "fold":
        raise ValueError(f"pair_on must be 'fold' or 'recording', got {pair_on!r}")
    hit_col, count_col = _METRIC_COLUMNS[metric]
    key = ["fold", "group"]
    left = a.assign(group=a["group"].astype(str)).set_index(key).sort_index()
    right = b.assign(group=b["group"].astype(str)).set_index(key).sort_index()
    if not left.index.equals(right.index) or not (left["y_true"] == right["y_true"]).all():
        raise ValueError(f"{names[0]} and {names[1]} were not tested on the same folds and recordings")

    def hits(frame):
        if count_col is None:
            return (frame[hit_col] == frame["y_true"]).to_numpy(float), np.ones(len(frame))
        return frame[hit_col].to_numpy(float), frame[count_col].to_numpy(float)

    (ha, counts), (hb, _) = hits(left), hits(right)
    codes, uniques = pd.factorize(left.index.get_level_values("group"))
    n_clusters = len(uniques)
    w = _resample_counts(n_clusters, n_boot=n_boot, seed=seed)
    folds = left.index.get_level_values("fold").to_numpy()
    if metric == "macro_f1":
        a_score, b_score, low, high, per_fold = _paired_macro_f1(left, right, codes, n_clusters, w, level)
    else:
        diff_hits = np.bincount(codes, weights=ha - hb, minlength=n_clusters)
        cluster_counts = np.bincount(codes, weights=counts, minlength=n_clusters)
        boot = (w @ diff_hits) / np.maximum(w @ cluster_counts, 1e-12)
        low, high = _percentiles(boot, level)
        per_fold = [float((ha[folds == f] - hb[folds == f]).sum() / counts[folds == f].sum())
                    for f in np.unique(folds)]
        a_score, b_score = float(ha.sum() / counts.sum()), float(hb.sum() / counts.sum())
    right_a = (left["y_pred"] == left["y_true"]).to_numpy()
    right_b = (right["y_pred"] == right["y_true"]).to_numpy()
    return Comparison(
        a=names[0], b=names[1], metric=metric,
        a_score=a_score, b_score=b_score,
        difference=a_score - b_score, ci_low=low, ci_high=high,
        n_recordings=int(n_clusters), folds=int(len(per_fold)), fold_differences=per_fold,
        a_only=int((right_a & ~right_b).sum()), b_only=int((right_b & ~right_a).sum()), level=level,
    )


def _paired_by_recording(a: pd.DataFrame, b: pd.DataFrame, *, names, metric: str, n_boot: int, level: float,
                         seed: int) -> Comparison:
    """:func:`paired_comparison` with each recording's rows pooled over the folds (``pair_on="recording"``)."""
    if metric != "accuracy_segment":
        raise ValueError("pair_on='recording' compares segment accuracy only (metric='accuracy_segment'): "
                         "a recording split over several folds has no single recording-level prediction")

    def pooled(frame):
        frame = frame.assign(group=frame["group"].astype(str))
        if (frame.groupby("group")["y_true"].nunique() > 1).any():
            raise ValueError("a recording has two different true labels")
        return frame.groupby("group").agg(y_true=("y_true", "first"), segments=("segments", "sum"),
                                          segments_correct=("segments_correct", "sum"),
                                          folds=("fold", "nunique")).sort_index()

    left, right = pooled(a), pooled(b)
    if (not left.index.equals(right.index) or not (left["y_true"] == right["y_true"]).all()
            or not (left["segments"] == right["segments"]).all()):
        raise ValueError(f"{names[0]} and {names[1]} did not test the same segments of the same recordings")
    counts = left["segments"].to_numpy(float)
    ha, hb = left["segments_correct"].to_numpy(float), right["segments_correct"].to_numpy(float)
    w = _resample_counts(len(left), n_boot=n_boot, seed=seed)
    boot = (w @ (ha - hb)) / np.maximum(w @ counts, 1e-12)
    low, high = _percentiles(boot, level)
    a_score, b_score = float(ha.sum() / counts.sum()), float(hb.sum() / counts.sum())
    return Comparison(
        a=names[0], b=names[1], metric=metric, a_score=a_score, b_score=b_score,
        difference=a_score - b_score, ci_low=low, ci_high=high, n_recordings=int(len(left)),
        folds=int(max(a["fold"].nunique(), b["fold"].nunique())), fold_differences=[],
        a_only=int((ha / counts > hb / counts).sum()), b_only=int((hb / counts > ha / counts).sum()), level=level,
    )


def describe(comparison: Comparison, *, digits: int = 2) -> str:
    """One sentence that states what a :class:`Comparison` measured, and no more.

    >>> describe(c)   # doctest: +SKIP
    'mel_cnn_augmented beats mel_cnn by 0.12 in recording accuracy (95% interval 0.03 to 0.21; 5 folds, 160 test recordings).'
    >>> describe(d)   # doctest: +SKIP
    'mel_cnn_augmented and mel_cnn are not told apart: the difference is 0.02 (95% interval -0.06 to 0.10; ...).'
    """
    c = comparison
    what = ("recording macro-F1" if c.metric == "macro_f1"
            else c.metric.replace("accuracy_", "").replace("_", " ") + " accuracy")
    size = f"{c.folds} fold{'s' if c.folds != 1 else ''}, {c.n_recordings} test recordings"
    if c.resolved:
        # said from the winner's side: its lead and the interval of that lead
        flip = c.difference < 0
        winner, loser = (c.b, c.a) if flip else (c.a, c.b)
        low, high = (-c.ci_high, -c.ci_low) if flip else (c.ci_low, c.ci_high)
        return (f"{winner} beats {loser} by {abs(c.difference):.{digits}f} in {what} "
                f"({c.level:.0%} interval {low:.{digits}f} to {high:.{digits}f}; {size}).")
    return (f"{c.a} and {c.b} are not told apart at this size: {c.a} minus {c.b} is "
            f"{c.difference:+.{digits}f} in {what} ({c.level:.0%} interval {c.ci_low:+.{digits}f} to "
            f"{c.ci_high:+.{digits}f}; {size}), an interval that includes 0.")


def describe_score(name: str, summary: dict, *, metric: str = "test_accuracy_recording", digits: int = 2) -> str:
    """``'cnn_mfcc: 0.81 (95% interval 0.74 to 0.87; 5 folds, 160 test recordings)'`` from
    :func:`interval_summary`'s dict."""
    return (f"{name}: {summary[f'{metric}_mean']:.{digits}f} ({LEVEL:.0%} interval "
            f"{summary[f'{metric}_ci_low']:.{digits}f} to {summary[f'{metric}_ci_high']:.{digits}f}; "
            f"{summary['folds']} fold{'s' if summary['folds'] != 1 else ''}, "
            f"{summary['n_test_recordings']} test recordings)")
