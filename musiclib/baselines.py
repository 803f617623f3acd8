"""Classifiers on per-clip feature tables, compared honestly.

The clip-level experiments of source 001 (a dense 128-64-32-N net on the mean of each
frame feature) beside scikit-learn baselines (logistic regression, random forest), all on
one split **by recording**, with scores at recording level. Also the question source 001
asked: which features matter (permutation importance) and what is the smallest feature
set that reaches the best accuracy (forward selection over feature groups).

A *table* here is one row per clip, with the manifest's columns (``label``, ``group``,
``split``) and feature columns such as ``spectral_centroid_mean`` — for example
``FeatureSet.summaries`` from ``musiclib.features``.

Taught in ``notebooks/02_spectral_features.ipynb`` and ``notebooks/03_mfcc_chroma_mel.ipynb``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import evaluate
from .errors import MusiclibError

MODELS = ("logistic_regression", "random_forest", "dense_net")


def feature_columns(
    table: pd.DataFrame, groups: str | Sequence[str], *, stats: Sequence[str] = ("mean",)
) -> list[str]:
    """The summary columns of feature groups or features present in ``table``.

    Parameters
    ----------
    groups : str or list of str
        ``"spectral"`` (the seven baseline features of source 001), ``"mfcc"``,
        ``"chroma"``, ``"mel"``, or single features (``"zcr"``, ``"spectral_centroid"``).
    stats : sequence of str
        ``("mean",)`` as source 001; ``("mean", "std")`` for the GTZAN-CSV style table.

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    from .features import summary_columns

    wanted = summary_columns(groups)
    cols = [c for c in wanted if c.rsplit("_", 1)[1] in stats and c in table.columns]
    if not cols:
        raise MusiclibError(f"the table has no columns for {groups!r} with stats {tuple(stats)}")
    return cols


@dataclass
class Sides:
    """Feature matrices and integer labels of the train / valid / test sides."""

    classes: list[str]
    columns: list[str]
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    groups: dict[str, np.ndarray]


def split_table(
    table: pd.DataFrame, columns: Sequence[str], *, label_col: str = "label", split_col: str = "split"
) -> Sides:
    """Cut a table into train / valid / test matrices along its (leak-checked) split column."""
    from .splits import check_no_leakage

    if split_col not in table or table[split_col].isna().any():
        raise MusiclibError(
            f"the table needs a complete {split_col!r} column: call ml.splits.assign_splits first"
        )
    check_no_leakage(table, split_col=split_col)
    classes = sorted(table[label_col].unique())
    index = {c: i for i, c in enumerate(classes)}
    x, y, groups = {}, {}, {}
    for side in ("train", "valid", "test"):
        part = table[table[split_col] == side]
        x[side] = part[list(columns)].to_numpy(dtype=np.float32)
        y[side] = part[label_col].map(index).to_numpy(dtype=np.int64)
        groups[side] = part["group"].to_numpy()
    if not len(y["train"]) or not len(y["test"]):
        raise MusiclibError("the split has an empty train or test side")
    return Sides(classes, list(columns), x, y, groups)


def sklearn_model(name: str, seed: int):
    """An unfitted scikit-learn baseline: ``logistic_regression`` (standardised inputs,
    L2, C=1) or ``random_forest`` (100 trees, scikit-learn's default, seeded: notebook 03 fits
    dozens of forests in its feature selection, and 300 trees measured no better)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "logistic_regression":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
    if name == "random_forest":
        return RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1)
    raise MusiclibError(f"unknown model {name!r}: choose from {', '.join(MODELS)}")


def fit_and_predict(
    name: str, sides: Sides, *, seed: int = 0, epochs: int = 300, patience: int = 30
) -> dict:
    """Train model ``name`` on the train side; return probabilities for valid and test.

    The dense net stops early on the validation loss (on the training loss when there is
    no validation side) and keeps its best weights.

    Returns
    -------
    dict
        ``proba`` (side -> (n, n_classes) array), ``seconds`` (training time),
        ``parameters`` (trainable numbers), ``model``.
    """
    n_classes = len(sides.classes)
    start = time.perf_counter()
    if name == "dense_net":
        from .models import dense_clip_classifier
        from .train import fit, set_seed

        set_seed(seed)  # before building: the initial weights are random too
        model = dense_clip_classifier(sides.x["train"], n_classes)
        validation = (sides.x["valid"], sides.y["valid"]) if len(sides.y["valid"]) else None
        fit(model, sides.x["train"], sides.y["train"], validation=validation,
            epochs=epochs, patience=patience, batch_size=16, seed=seed)
        def predict(x):
            return evaluate.predict_proba(model, x)

        parameters = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    else:
        model = sklearn_model(name, seed)
        model.fit(sides.x["train"], sides.y["train"])
        parameters = sklearn_parameters(model)

        def predict(x):
            # predict_proba's columns follow the classes seen in training; map to all
            proba = np.zeros((len(x), n_classes))
            proba[:, model.classes_] = model.predict_proba(x)
            return proba

    seconds = time.perf_counter() - start
    proba = {side: predict(sides.x[side]) if len(sides.y[side]) else np.zeros((0, n_classes))
             for side in ("valid", "test")}
    return {"proba": proba, "seconds": seconds, "parameters": parameters, "model": model}


def sklearn_parameters(model) -> int:
    """Coefficients of a linear model, or tree nodes of a forest (a fitted scikit-learn model)."""
    est = model[-1] if hasattr(model, "steps") else model
    if hasattr(est, "coef_"):
        return int(est.coef_.size + est.intercept_.size)
    if hasattr(est, "estimators_"):  # a forest: count tree nodes
        return int(sum(t.tree_.node_count for t in est.estimators_))
    return 0


def compare_classifiers(
    table: pd.DataFrame,
    feature_sets: Mapping[str, Sequence[str]],
    *,
    models: Sequence[str] = MODELS,
    seed: int = 0,
    epochs: int = 300,
    label_col: str = "label",
    split_col: str = "split",
) -> pd.DataFrame:
    """Train every model on every feature set; one results row per pair.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per clip with ``label``, ``group``, a complete ``split`` column and the
        feature columns.
    feature_sets : dict of str to list of str
        Name -> columns, e.g. ``{"spectral means": feature_columns(t, "spectral")}``.
    models : sequence of str
        From :data:`MODELS`.

    Returns
    -------
    pandas.DataFrame
        Columns ``features``, ``n_features``, ``model``, ``valid_accuracy``,
        ``test_accuracy`` (clip level), ``test_accuracy_recording`` (mean probability over
        the clips of a recording), ``test_macro_f1``, ``parameters``, ``train_seconds``,
        ``split`` ("by recording"), ``n_train``, ``n_test``, ``seed``.

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    rows = []
    for set_name, columns in feature_sets.items():
        sides = split_table(table, columns, label_col=label_col, split_col=split_col)
        for name in models:
            out = fit_and_predict(name, sides, seed=seed, epochs=epochs)
            test_pred = out["proba"]["test"].argmax(axis=1)
            test = evaluate.scores(sides.y["test"], test_pred)
            rec_true, rec_pred = evaluate.recording_level(
                out["proba"]["test"], sides.y["test"], sides.groups["test"])
            valid = (evaluate.scores(sides.y["valid"], out["proba"]["valid"].argmax(axis=1))["accuracy"]
                     if len(sides.y["valid"]) else np.nan)
            rows.append({
                "features": set_name,
                "n_features": len(columns),
                "model": name,
                "valid_accuracy": valid,
                "test_accuracy": test["accuracy"],
                "test_accuracy_recording": evaluate.scores(rec_true, rec_pred)["accuracy"],
                "test_macro_f1": test["macro_f1"],
                "parameters": out["parameters"],
                "train_seconds": round(out["seconds"], 2),
                "split": "by recording",
                "n_train": len(sides.y["train"]),
                "n_test": len(sides.y["test"]),
                "seed": seed,
            })
    return pd.DataFrame(rows)


def permutation_importance_table(
    table: pd.DataFrame,
    columns: Sequence[str],
    *,
    model: str = "random_forest",
    seed: int = 0,
    n_repeats: int = 10,
    side: str = "valid",
) -> pd.DataFrame:
    """How much held-out accuracy drops when one feature column is shuffled.

    Fits ``model`` on the train side and scores on ``side`` (valid by default: the test
    side stays untouched for the final number). Uses
    ``sklearn.inspection.permutation_importance``.

    Returns
    -------
    pandas.DataFrame
        ``feature``, ``importance_mean``, ``importance_std``; most important first.

    Taught in ``notebooks/03_mfcc_chroma_mel.ipynb``.
    """
    from sklearn.inspection import permutation_importance

    sides = split_table(table, columns)
    if not len(sides.y[side]):
        raise MusiclibError(f"the {side} side is empty")
    est = sklearn_model(model, seed).fit(sides.x["train"], sides.y["train"])
    result = permutation_importance(
        est, sides.x[side], sides.y[side], n_repeats=n_repeats, random_state=seed, scoring="accuracy"
    )
    out = pd.DataFrame({
        "feature": list(columns),
        "importance_mean": result.importances_mean,
        "importance_std": result.importances_std,
    })
    return out.sort_values("importance_mean", ascending=False, ignore_index=True)


def cross_validated_accuracy(
    table: pd.DataFrame,
    columns: Sequence[str],
    *,
    model: str = "logistic_regression",
    folds: int = 5,
    seed: int = 0,
    label_col: str = "label",
) -> np.ndarray:
    """Accuracy of each fold of a stratified, grouped k-fold cross-validation.

    Folds never split a recording (``StratifiedGroupKFold``). Pass only the rows a
    choice may look at (train and valid), never the test side.
    """
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_score

    per_class = table.groupby(label_col)["group"].nunique().min()
    k = int(min(folds, per_class))
    if k < 2:
        raise MusiclibError("cross-validation needs at least 2 recordings per class")
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return cross_val_score(
        sklearn_model(model, seed),
        table[list(columns)].to_numpy(dtype=np.float32),
        table[label_col].to_numpy(),
        groups=table["group"].to_numpy(),
        cv=cv,
        scoring="accuracy",
    )


def forward_selection(
    table: pd.DataFrame,
    candidates: Mapping[str, Sequence[str]],
    *,
    model: str = "logistic_regression",
    folds: int = 5,
    seed: int = 0,
    split_col: str = "split",
    tolerance: float = 0.01,
) -> pd.DataFrame:
    """Greedy forward selection over feature *groups*, scored by grouped cross-validation.

    At each step the candidate that raises the cross-validated accuracy most is added.
    Only train and valid rows are used; the test side stays untouched. scikit-learn's
    ``SequentialFeatureSelector`` picks single columns and reports only the final set; the
    course needs the whole curve over named groups (an MFCC block counts as one choice),
    hence this small loop over ``cross_val_score``.

    Parameters
    ----------
    candidates : dict of str to list of str
        Group name -> its columns, e.g. ``{"zcr": ["zcr_mean"], "mfcc": [...13 columns]}``.
    tolerance : float
        A step is ``sufficient`` when its accuracy is within this of the best step.

    Returns
    -------
    pandas.DataFrame
        One row per step: ``step``, ``added``, ``n_groups``, ``n_columns``,
        ``cv_accuracy_mean``, ``cv_accuracy_std``, ``sufficient``; the first sufficient
        step is the smallest feature set that reaches the best accuracy.

    Taught in ``notebooks/03_mfcc_chroma_mel.ipynb``.
    """
    pool = table if split_col not in table else table[table[split_col] != "test"]
    chosen: list[str] = []
    columns: list[str] = []
    rows = []
    remaining = dict(candidates)
    while remaining:
        trials = {
            name: cross_validated_accuracy(pool, columns + list(cols), model=model, folds=folds, seed=seed)
            for name, cols in remaining.items()
        }
        best = max(trials, key=lambda n: (trials[n].mean(), -len(remaining[n])))
        chosen.append(best)
        columns += list(remaining.pop(best))
        rows.append({
            "step": len(chosen),
            "added": best,
            "n_groups": len(chosen),
            "n_columns": len(columns),
            "cv_accuracy_mean": float(trials[best].mean()),
            "cv_accuracy_std": float(trials[best].std()),
        })
    out = pd.DataFrame(rows)
    out["sufficient"] = out["cv_accuracy_mean"] >= out["cv_accuracy_mean"].max() - tolerance
    return out


def pair_separability(
    table: pd.DataFrame,
    pairs: Sequence[tuple[str, str]],
    candidates: Mapping[str, Sequence[str]],
    *,
    folds: int = 5,
    seed: int = 0,
    split_col: str = "split",
    label_col: str = "label",
) -> pd.DataFrame:
    """How well each feature group alone tells apart each pair of classes.

    For every pair, a logistic regression on one candidate group at a time, scored by
    grouped cross-validation on the train and valid rows of those two classes (0.5 is
    chance). Shows *which* features separate *which* styles.

    Returns
    -------
    pandas.DataFrame
        Index ``"a / b"`` per pair; one column per candidate; cross-validated accuracy.

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    pool = table if split_col not in table else table[table[split_col] != "test"]
    rows = {}
    for a, b in pairs:
        both = pool[pool[label_col].isin([a, b])]
        if both[label_col].nunique() < 2:
            raise MusiclibError(f"pair {a!r} / {b!r}: both labels must be in the table")
        rows[f"{a} / {b}"] = {
            name: float(cross_validated_accuracy(both, cols, folds=folds, seed=seed).mean())
            for name, cols in candidates.items()
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def split_leak_study(
    segments: np.ndarray,
    meta: pd.DataFrame,
    *,
    seeds=range(10),
    valid_size: float = 0.15,
    test_size: float = 0.15,
) -> pd.DataFrame:
    """How much a random split of segments inflates accuracy, and why, over many seeds.

    For each seed, the segments are split twice — at random (the leaky protocol of most
    source projects) and by recording (``assign_splits`` on the segments' ``group``) — and a
    1-nearest-neighbour classifier is scored on each test side. A nearest-neighbour model
    is the purest memoriser: when the nearest training segment of a test segment comes from
    the *same recording*, its label is right for free. The share of such test segments is
    the leak, measured directly.

    Parameters
    ----------
    segments : np.ndarray, shape (n_segments, frames, coeffs)
        E.g. ``FeatureSet.segments("mfcc")[0]``; each is summarised by its mean and standard
        deviation over frames.
    meta : pandas.DataFrame
        One row per segment with ``label`` and ``group``.
    seeds : iterable of int

    Returns
    -------
    pandas.DataFrame
        One row per seed and split: ``seed``, ``split`` (``by segment (leaky)`` or
        ``by recording``), ``accuracy``, ``nearest_from_same_recording`` (share of test
        segments), ``n_test``.

    Taught in ``notebooks/04_segments_leakage_balance.ipynb``.
    """
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.preprocessing import StandardScaler

    from .splits import assign_splits, random_segment_split

    segments = np.asarray(segments, dtype=np.float32)
    summary = np.concatenate([segments.mean(axis=1), segments.std(axis=1)], axis=1)
    base = meta[["label", "group"]].reset_index(drop=True)
    rows = []
    for seed in seeds:
        for name, frame in (
            ("by segment (leaky)", random_segment_split(base, valid_size=valid_size, test_size=test_size, seed=seed)),
            ("by recording", assign_splits(base, valid_size=valid_size, test_size=test_size, seed=seed,
                                           respect_existing=False)),
        ):
            train = (frame["split"] == "train").to_numpy()
            test = (frame["split"] == "test").to_numpy()
            scaler = StandardScaler().fit(summary[train])
            knn = KNeighborsClassifier(n_neighbors=1).fit(scaler.transform(summary[train]), frame["label"][train])
            x_test = scaler.transform(summary[test])
            nearest = knn.kneighbors(x_test, n_neighbors=1, return_distance=False)[:, 0]
            same = frame["group"].to_numpy()[train][nearest] == frame["group"].to_numpy()[test]
            rows.append({
                "seed": seed,
                "split": name,
                "accuracy": float((knn.predict(x_test) == frame["label"][test]).mean()),
                "nearest_from_same_recording": float(same.mean()),
                "n_test": int(test.sum()),
            })
    return pd.DataFrame(rows)
