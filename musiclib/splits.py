"""Recording- and group-aware splits, class balancing and a leakage check.

A *manifest* is a pandas DataFrame with one row per recording or clip and at least the
columns ``track_id``, ``label`` and ``group`` (the source recording or artist: clips cut
from one long recording share a group). Per-segment frames (many rows per track) carry the
same columns plus ``split`` once it is assigned.

The rule the whole course follows: **split by group first, then cut segments.** Every row of
a group lands on one side (train, valid or test), so a model is never tested on a piece of a
recording it was trained on. :func:`random_segment_split` is the leaky alternative most
source projects used; it is kept only to measure how much it inflates accuracy.

The splitting itself is scikit-learn's :class:`~sklearn.model_selection.StratifiedGroupKFold`;
balancing uses :func:`sklearn.utils.resample` and
:func:`sklearn.utils.class_weight.compute_class_weight`.

Taught in ``notebooks/00_setup_and_data.ipynb`` (splits, leakage check, class counts).
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.utils import resample
from sklearn.utils.class_weight import compute_class_weight

from .errors import LeakageError, MusiclibError

__all__ = [
    "SPLITS",
    "assign_splits",
    "balance_training",
    "check_no_leakage",
    "class_counts",
    "fold_splits",
    "repeated_splits",
    "class_weights",
    "leakage_report",
    "random_segment_folds",
    "random_segment_split",
    "split_frames",
]

SPLITS = ("train", "valid", "test")

# Largest number of folds used to approximate a side's fraction (m folds out of k). Ten keeps
# folds big enough to hold several groups per class, which is what makes them stratified.
_MAX_FOLDS = 10


# --------------------------------------------------------------------------- helpers


def _require_columns(frame: pd.DataFrame, *cols: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise MusiclibError(
            f"manifest has no column {missing[0]!r} (columns: {', '.join(map(str, frame.columns))})"
        )


def _check_fraction(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return value


def _fold_fraction(fraction: float, k_max: int) -> tuple[int, int]:
    """``(m, k)``: take ``m`` folds out of ``k <= k_max`` so that ``m / k`` is closest to ``fraction``.

    Ties go to the smaller ``k`` (bigger folds stratify better). A side needs at least one
    fold and the rest at least one more, so ``1 <= m < k``.
    """
    best = Fraction(fraction).limit_denominator(k_max)
    m, k = best.numerator, best.denominator
    if m == 0 or m == k:  # limit_denominator may return 0/1 or 1/1
        candidates = [(abs(mm / kk - fraction), kk, mm) for kk in range(2, k_max + 1)
                      for mm in range(1, kk)]
        _, k, m = min(candidates)
    return m, k


def _hold_out(
    labels: np.ndarray, groups: np.ndarray, fraction: float, rng: np.random.RandomState
) -> np.ndarray:
    """Boolean mask of the rows held out: whole groups, stratified by label, about ``fraction``."""
    pairs = pd.DataFrame({"label": labels, "group": groups}).drop_duplicates()
    n_groups = pairs["group"].nunique()
    # A fold can only hold a class if the class has a group for it: cap the folds at the
    # largest number of groups in a class (the group-level form of sklearn's own check), so
    # that with few groups per class each fold -- hence each side -- still gets most classes.
    max_per_class = int(pairs["label"].value_counts().max())
    y = labels
    if max_per_class < 2:
        # One group per class: nothing to stratify; split the groups alone.
        y, max_per_class = np.zeros(len(labels), dtype=int), n_groups
    m, k = _fold_fraction(fraction, min(_MAX_FOLDS, n_groups, max_per_class))
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=rng)
    mask = np.zeros(len(labels), dtype=bool)
    with warnings.catch_warnings():
        # "The least populated class has only n members": expected with few recordings in
        # some class; the train-presence repair in assign_splits handles what matters.
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        folds = cv.split(np.zeros(len(labels)), y, groups)
        for _, (_, test_idx) in zip(range(m), folds):
            mask[test_idx] = True
    return mask


def _sides_in_order(values) -> list[str]:
    present = list(dict.fromkeys(values))
    return [s for s in SPLITS if s in present] + sorted(
        (s for s in present if s not in SPLITS), key=str
    )


# --------------------------------------------------------------------------- splitting


def assign_splits(
    manifest: pd.DataFrame,
    *,
    valid_size: float = 0.15,
    test_size: float = 0.15,
    seed: int = 0,
    label_col: str = "label",
    group_col: str = "group",
    respect_existing: bool = True,
) -> pd.DataFrame:
    """Assign every row to ``train``, ``valid`` or ``test``, by group and stratified by label.

    All rows of one group land on one side, so clips or segments of one recording (or one
    artist) never appear in both training and evaluation data. Within that constraint each
    side gets about its share of every label.

    Parameters
    ----------
    manifest : pandas.DataFrame
        One row per recording or clip, with ``label_col`` and ``group_col`` columns
        (and optionally ``split``).
    valid_size, test_size : float
        Fractions of the rows for the validation and test sides, each in ``[0, 1)``; either
        may be 0 (no such side). They are met approximately: see Notes.
    seed : int
        Seed of the shuffling; the same seed gives the same split, whatever the row order.
    label_col, group_col : str
        Columns holding the class label and the group.
    respect_existing : bool
        If True and the manifest already has a complete ``split`` column (e.g. GTZAN's
        standard fault-filtered lists), keep it: its values are checked to be among
        :data:`SPLITS` and its groups for leakage, and nothing is reassigned.

    Returns
    -------
    pandas.DataFrame
        A copy of ``manifest`` (same index and row order) with a ``split`` column.

    Raises
    ------
    MusiclibError
        Missing columns or empty labels/groups; fewer groups than sides asked for; an
        existing ``split`` column that is partly empty or holds unknown values.
    LeakageError
        An existing ``split`` column that puts one group on two sides.
    ValueError
        ``valid_size`` or ``test_size`` outside ``[0, 1)``, or summing to 1 or more.

    Notes
    -----
    The test side is held out first, then the validation side from the rest. Each hold-out
    runs :class:`~sklearn.model_selection.StratifiedGroupKFold` with ``k`` folds and keeps
    ``m`` of them, where ``m / k`` is closest to the asked fraction. ``k`` is at most 10,
    at most the number of groups, and at most the largest number of groups in one class
    (a fold can only hold a class that has a group for it). On a big manifest 0.15 is met
    as 1/7 of the rows, 0.2 as 1/5, 0.3 as 3/10: within a few percent of the asked sizes.

    **Few groups per class.** The cap on ``k`` makes sides coarser but keeps every class
    in them: with 4 recordings per class (the ``tiny`` profile) ``k`` is 4, so test takes
    one recording of every class, valid one more, and train keeps two -- a 50/25/25 split
    instead of 70/15/15. Between about 5 and 10 groups per class the sides are close to the
    asked sizes and a class may miss from valid or test when its groups are fewer than
    ``k``. Presence in ``valid`` and ``test`` is therefore best effort; presence in
    ``train`` is enforced: if the hold-outs took every group of a label, one is moved
    back to train, provided the side it leaves keeps another group (otherwise -- a label
    with a single group -- a ``UserWarning`` says so). Classes with a single group each
    leave nothing to stratify, and the groups are split alone.

    Taught in ``notebooks/00_setup_and_data.ipynb``.

    Examples
    --------
    >>> manifest = assign_splits(manifest, seed=settings.seed)      # doctest: +SKIP
    >>> check_no_leakage(manifest)                                  # doctest: +SKIP
    """
    _require_columns(manifest, label_col, group_col)
    valid_size = _check_fraction("valid_size", valid_size)
    test_size = _check_fraction("test_size", test_size)
    if valid_size + test_size >= 1.0:
        raise ValueError(f"valid_size + test_size must be < 1, got {valid_size + test_size}")
    if len(manifest) == 0:
        raise MusiclibError("cannot split an empty manifest")
    for col in (label_col, group_col):
        n_missing = int(manifest[col].isna().sum())
        if n_missing:
            raise MusiclibError(f"column {col!r} is empty in {n_missing} row(s)")

    out = manifest.copy()
    if respect_existing and "split" in out.columns:
        given = out["split"]
        n_missing = int(given.isna().sum())
        if n_missing == 0:
            bad = sorted(set(given) - set(SPLITS), key=str)
            if bad:
                raise MusiclibError(
                    f"existing 'split' column holds {bad[0]!r}; allowed values: {', '.join(SPLITS)}"
                )
            check_no_leakage(out, group_col=group_col, split_col="split")
            return out
        if n_missing < len(out):
            raise MusiclibError(
                f"existing 'split' column is empty in {n_missing} of {len(out)} rows: "
                "fill it, or pass respect_existing=False to split anew"
            )
        # An all-empty column is a placeholder: assign as if it were absent.

    labels = out[label_col].to_numpy()
    groups = out[group_col].to_numpy()
    n_groups = len(pd.unique(groups))
    n_sides = 1 + (valid_size > 0) + (test_size > 0)
    if n_groups < n_sides:
        raise MusiclibError(
            f"cannot split {n_groups} group(s) into {n_sides} sides: every side needs a whole group"
        )

    rng = np.random.RandomState(seed)
    split = np.full(len(out), "train", dtype=object)
    if test_size > 0:
        split[_hold_out(labels, groups, test_size, rng)] = "test"
    if valid_size > 0:
        rest = split == "train"
        n_rest = len(pd.unique(groups[rest]))
        if n_rest < 2:
            raise MusiclibError(
                f"only {n_rest} group(s) left after the test side: too few for train and valid"
            )
        # The valid fraction is relative to what the test side left over.
        rel = valid_size / (1.0 - test_size)
        held = _hold_out(labels[rest], groups[rest], min(rel, 0.99), rng)
        split[np.flatnonzero(rest)[held]] = "valid"

    _ensure_labels_in_train(split, labels, groups, rng)
    out["split"] = split.astype(str)
    return out


def fold_splits(
    manifest: pd.DataFrame,
    *,
    folds: int,
    seed: int = 0,
    valid_size: float = 0.15,
    label_col: str = "label",
    group_col: str = "group",
) -> list[pd.DataFrame]:
    """K splits by recording whose test sides partition the recordings (K-fold by group).

    The test side of split ``k`` is fold ``k`` of scikit-learn's
    :class:`~sklearn.model_selection.StratifiedGroupKFold` (shuffled with ``seed``), so every
    recording is tested exactly once over the K splits. The validation side (early stopping)
    is held out of the other folds as :func:`assign_splits` does, about ``valid_size`` of
    all rows; the rest is ``train``.

    Parameters
    ----------
    manifest : pandas.DataFrame
        One row per recording or clip with ``label_col`` and ``group_col``; an existing
        ``split`` column is ignored (replaced).
    folds : int
        K, at least 2.
    seed : int
        The same seed gives the same folds.
    valid_size : float
        Share of all rows for the validation side, in ``[0, 1)`` (0: no validation side).

    Returns
    -------
    list of pandas.DataFrame
        K copies of ``manifest`` (same index and order), each with a ``split`` column.

    Raises
    ------
    MusiclibError
        ``folds`` below 2; a label with fewer recordings (groups) than ``folds`` — every
        test side must hold every label, so K folds need K recordings per label; or, rarely,
        folds that still leave a label off some test side.

    Taught in ``notebooks/04_segments_leakage_balance.ipynb``.
    """
    _require_columns(manifest, label_col, group_col)
    folds = int(folds)
    if folds < 2:
        raise MusiclibError(f"folds must be at least 2, got {folds}")
    valid_size = _check_fraction("valid_size", valid_size)
    pairs = manifest[[label_col, group_col]].drop_duplicates()
    per_label = pairs.groupby(label_col)[group_col].nunique()
    too_few = per_label[per_label < folds]
    if len(too_few):
        listed = ", ".join(f"{label!r} has {n}" for label, n in too_few.items())
        raise MusiclibError(
            f"{folds} folds need at least {folds} recordings per label (each fold tests every label): "
            f"{listed}; use fewer folds or repeated splits"
        )
    labels = manifest[label_col].to_numpy()
    groups = manifest[group_col].to_numpy()
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    out = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        for k, (_, test_idx) in enumerate(cv.split(np.zeros(len(labels)), labels, groups)):
            split = np.full(len(labels), "train", dtype=object)
            split[test_idx] = "test"
            missing = sorted(set(labels) - set(labels[test_idx]), key=str)
            if missing:
                raise MusiclibError(
                    f"fold {k} of {folds} (seed {seed}) tests no recording of {', '.join(map(repr, missing))}: "
                    "recordings are too unevenly sized for this many folds; use fewer folds or another seed"
                )
            if valid_size > 0:
                rest = split == "train"
                rel = min(valid_size / (1.0 - 1.0 / folds), 0.99)
                rng = np.random.RandomState(seed + 1000 * (k + 1))
                held = _hold_out(labels[rest], groups[rest], rel, rng)
                split[np.flatnonzero(rest)[held]] = "valid"
                # Train needs every label; only valid gives back (test must stay this fold).
                for label in set(labels) - set(labels[split == "train"]):
                    given = sorted(pd.unique(groups[(split == "valid") & (labels == label)]), key=str)
                    split[groups == given[rng.randint(len(given))]] = "train"
            frame = manifest.copy()
            frame["split"] = split.astype(str)
            out.append(frame)
    return out


def repeated_splits(manifest: pd.DataFrame, *, repeats: int, seed: int = 0, **sizes) -> list[pd.DataFrame]:
    """``repeats`` independent 70/15/15 splits by recording (:func:`assign_splits` with seeds
    ``seed, seed + 1, ...``): test sides overlap, unlike :func:`fold_splits`; ``sizes`` are
    ``valid_size`` / ``test_size``."""
    if int(repeats) < 1:
        raise MusiclibError(f"repeats must be at least 1, got {repeats}")
    return [assign_splits(manifest, seed=seed + i, respect_existing=False, **sizes) for i in range(int(repeats))]


def _ensure_labels_in_train(
    split: np.ndarray, labels: np.ndarray, groups: np.ndarray, rng: np.random.RandomState
) -> None:
    """Move one group back to train for every label the hold-outs took entirely (in place)."""
    in_train = set(labels[split == "train"])
    missing = [lab for lab in pd.unique(labels) if lab not in in_train]
    for lab in missing:
        # Candidates: groups holding this label, on a side that keeps another group after
        # the move. Take from the side with most groups, then at random (seeded).
        best = None
        for side in ("valid", "test"):
            side_groups = pd.unique(groups[split == side])
            cands = pd.unique(groups[(split == side) & (labels == lab)])
            if len(cands) and len(side_groups) > 1 and (best is None or len(side_groups) > best[0]):
                best = (len(side_groups), cands)
        if best is None:
            warnings.warn(
                f"label {lab!r} has too few groups to appear in train", UserWarning, stacklevel=3
            )
            continue
        cands = sorted(best[1], key=str)
        split[groups == cands[rng.randint(len(cands))]] = "train"


def random_segment_split(
    frame: pd.DataFrame,
    *,
    test_size: float = 0.15,
    valid_size: float = 0.15,
    seed: int = 0,
    label_col: str = "label",
) -> pd.DataFrame:
    """LEAKY on purpose: split rows at random, ignoring which recording they come from.

    .. warning::

       **Do not use this to report a result.** This is the segment-level random split of
       most source projects of the course: segments cut from one recording end up in both
       train and test, so the model is tested on material it has (almost) heard, and the
       accuracy is inflated -- often by tens of points. It is kept so that the course can
       *measure* that inflation beside the honest :func:`assign_splits`; run
       :func:`leakage_report` on its output to see the offending groups.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows to split (typically per-segment frames), with ``label_col``.
    test_size, valid_size : float
        Fractions of rows, each in ``[0, 1)``; ``valid_size`` may be 0.
    seed : int
        Seed of the shuffling.
    label_col : str
        Rows are stratified by this column when every label has enough rows; otherwise the
        split is plainly random.

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` with its ``split`` column (re)assigned.

    Taught in ``notebooks/00_setup_and_data.ipynb`` (and measured in the classification
    notebooks, segment level beside recording level).
    """
    from sklearn.model_selection import train_test_split

    _require_columns(frame, label_col)
    valid_size = _check_fraction("valid_size", valid_size)
    test_size = _check_fraction("test_size", test_size)
    if valid_size + test_size >= 1.0:
        raise ValueError(f"valid_size + test_size must be < 1, got {valid_size + test_size}")

    def _split(idx, labels, size, seed):
        try:
            return train_test_split(idx, test_size=size, stratify=labels, random_state=seed)
        except ValueError:  # a label with a single row cannot be stratified
            return train_test_split(idx, test_size=size, random_state=seed)

    out = frame.copy()
    labels = out[label_col].to_numpy()
    idx = np.arange(len(out))
    split = np.full(len(out), "train", dtype=object)
    if test_size > 0:
        idx, test_idx = _split(idx, labels, test_size, seed)
        split[test_idx] = "test"
    if valid_size > 0:
        _, valid_idx = _split(idx, labels[idx], valid_size / (1.0 - test_size), seed + 1)
        split[valid_idx] = "valid"
    out["split"] = split.astype(str)
    return out


def random_segment_folds(
    frame: pd.DataFrame,
    *,
    folds: int,
    seed: int = 0,
    valid_size: float = 0.15,
    label_col: str = "label",
) -> list[pd.DataFrame]:
    """LEAKY on purpose: K folds of the *rows* (segments), ignoring their recordings.

    The K-fold form of :func:`random_segment_split`, to measure the leak across folds beside
    :func:`fold_splits`: the test side of split ``k`` is fold ``k`` of scikit-learn's
    :class:`~sklearn.model_selection.StratifiedKFold` over the rows (shuffled with ``seed``;
    plain :class:`~sklearn.model_selection.KFold` when a label has fewer rows than folds),
    so every row is tested exactly once over the K splits, as every recording is in
    :func:`fold_splits`. The validation side is a random share of the other rows. Segments
    of one recording land on several sides: **do not use this to report a result**.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows to split (per-segment frames) with ``label_col``.
    folds : int
        K, at least 2 and at most the number of rows.
    seed : int
        The same seed gives the same folds.
    valid_size : float
        Share of all rows for the validation side, in ``[0, 1)``.

    Returns
    -------
    list of pandas.DataFrame
        K copies of ``frame``, each with its ``split`` column (re)assigned.

    Taught in ``notebooks/04_segments_leakage_balance.ipynb``.
    """
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    _require_columns(frame, label_col)
    folds = int(folds)
    if folds < 2 or folds > len(frame):
        raise MusiclibError(f"folds must be between 2 and the number of rows ({len(frame)}), got {folds}")
    valid_size = _check_fraction("valid_size", valid_size)
    labels = frame[label_col].to_numpy()
    if pd.Series(labels).value_counts().min() >= folds:
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    else:
        cv = KFold(n_splits=folds, shuffle=True, random_state=seed)
    out = []
    for k, (rest_idx, test_idx) in enumerate(cv.split(np.zeros(len(labels)), labels)):
        split = np.full(len(labels), "train", dtype=object)
        split[test_idx] = "test"
        if valid_size > 0:
            size = min(valid_size / (1.0 - 1.0 / folds), 0.99)
            try:
                _, valid_idx = train_test_split(rest_idx, test_size=size, stratify=labels[rest_idx],
                                                random_state=seed + 1000 * (k + 1))
            except ValueError:  # a label with a single row cannot be stratified
                _, valid_idx = train_test_split(rest_idx, test_size=size, random_state=seed + 1000 * (k + 1))
            split[valid_idx] = "valid"
        part = frame.copy()
        part["split"] = split.astype(str)
        out.append(part)
    return out


# --------------------------------------------------------------------------- checking


def leakage_report(
    frame: pd.DataFrame, *, group_col: str = "group", split_col: str = "split"
) -> pd.DataFrame:
    """The groups that appear on more than one side of a split.

    Parameters
    ----------
    frame : pandas.DataFrame
        A manifest or per-segment frame with ``group_col`` and ``split_col``. Rows with an
        empty split are ignored.

    Returns
    -------
    pandas.DataFrame
        One row per leaking group, in order of first appearance in ``frame``, with columns
        ``group_col``, ``sides`` (e.g. ``"train, test"``), ``n_sides`` and one row count per
        side. Empty (same columns) when the split is clean.

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    _require_columns(frame, group_col, split_col)
    sub = frame[[group_col, split_col]].dropna()
    sides = _sides_in_order(sub[split_col])
    counts = pd.crosstab(sub[group_col], sub[split_col]).reindex(columns=sides)
    counts.columns.name = None
    n_sides = (counts > 0).sum(axis=1)
    leaking = counts[n_sides > 1]
    order = pd.unique(sub[group_col])
    leaking = leaking.reindex([g for g in order if g in leaking.index])
    report = pd.DataFrame(
        {
            group_col: leaking.index.to_numpy(),
            "sides": [", ".join(s for s in sides if row[s] > 0) for _, row in leaking.iterrows()],
            "n_sides": n_sides.reindex(leaking.index).to_numpy(dtype=int),
        }
    )
    for s in sides:
        report[s] = leaking[s].to_numpy(dtype=int)
    return report


def check_no_leakage(
    frame: pd.DataFrame, *, group_col: str = "group", split_col: str = "split"
) -> None:
    """Raise :class:`~musiclib.errors.LeakageError` if a group appears on two sides.

    The message names the first offending group (in row order) and its sides, e.g.
    ``group 'blues.00012' appears in train and test (3 leaking groups in all)``.

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    report = leakage_report(frame, group_col=group_col, split_col=split_col)
    if report.empty:
        return
    first = report.iloc[0]
    sides = first["sides"].split(", ")
    where = sides[0] if len(sides) == 1 else ", ".join(sides[:-1]) + " and " + sides[-1]
    more = f" ({len(report)} leaking groups in all)" if len(report) > 1 else ""
    raise LeakageError(f"group {first[group_col]!r} appears in {where}{more}")


def split_frames(frame: pd.DataFrame, *, split_col: str = "split") -> dict[str, pd.DataFrame]:
    """The rows of each side: ``{'train': ..., 'valid': ..., 'test': ...}``.

    All three keys are always present; a side with no rows (e.g. ``valid_size=0``) maps to
    an empty frame with the same columns. Index and row order are kept.

    Raises
    ------
    MusiclibError
        No ``split_col`` column, or values outside :data:`SPLITS`.

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    if split_col not in frame.columns:
        raise MusiclibError(f"frame has no {split_col!r} column: run assign_splits first")
    bad = sorted(set(frame[split_col].dropna()) - set(SPLITS), key=str)
    if bad:
        raise MusiclibError(f"{split_col!r} column holds {bad[0]!r}; allowed: {', '.join(SPLITS)}")
    return {s: frame[frame[split_col] == s] for s in SPLITS}


# --------------------------------------------------------------------------- balancing


def class_weights(labels) -> dict:
    """Per-class weights that balance the loss, scikit-learn's ``'balanced'`` rule.

    ``weight[c] = n_samples / (n_classes * count[c])``, as
    :func:`sklearn.utils.class_weight.compute_class_weight` computes it.

    Parameters
    ----------
    labels : array-like, shape (n_samples,)
        Training labels, str or int-encoded.

    Returns
    -------
    dict
        ``{label: weight}`` with plain Python keys (``str`` or ``int``, as given) and
        ``float`` weights; for int-encoded labels it is ready for Keras'
        ``fit(class_weight=...)``.

    Taught in ``notebooks/00_setup_and_data.ipynb`` and used by ``musiclib.train``.
    """
    y = np.asarray(labels)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"labels must be a non-empty 1-d sequence, got shape {y.shape}")
    classes = np.unique(y)
    weights = compute_class_weight("balanced", classes=classes, y=y)
    # .item() turns numpy scalars into Python ones, so the dict prints and serialises cleanly.
    return {(c.item() if hasattr(c, "item") else c): float(w) for c, w in zip(classes, weights)}


def balance_training(
    frame: pd.DataFrame,
    *,
    strategy: str = "oversample",
    seed: int = 0,
    label_col: str = "label",
    split_col: str = "split",
) -> pd.DataFrame:
    """Equalise the label counts of the training rows; valid and test rows stay as they are.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with ``label_col`` and ``split_col`` (after :func:`assign_splits`).
    strategy : {'oversample', 'undersample'}
        ``'oversample'`` keeps every training row and adds copies of minority-label rows up
        to the majority count (whole copies first, then a seeded draw without replacement,
        so copies are spread as evenly as possible). ``'undersample'`` keeps a seeded
        random subset of each label, down to the minority count.
    seed : int
        Seed of the draws.

    Returns
    -------
    pandas.DataFrame
        The kept rows in their original order, then (oversample) the added copies. Index
        labels are kept, so copies repeat their original's index (see
        ``result.index.duplicated()``); groups are copied with their rows, so
        :func:`check_no_leakage` still holds.

    Notes
    -----
    Balance *after* splitting, and only the training side: oversampling before the split
    puts copies of one row on both sides.

    Taught in ``notebooks/00_setup_and_data.ipynb``; the composer experiments (seed 000,
    "balanced data") use it.
    """
    if strategy not in ("oversample", "undersample"):
        raise ValueError(f"strategy must be 'oversample' or 'undersample', got {strategy!r}")
    _require_columns(frame, label_col, split_col)
    is_train = (frame[split_col] == "train").to_numpy()
    if not is_train.any():
        raise MusiclibError("no training rows to balance (no row has split == 'train')")
    train_labels = frame.loc[is_train, label_col]
    counts = train_labels.value_counts()
    target = int(counts.max() if strategy == "oversample" else counts.min())
    positions = np.flatnonzero(is_train)

    keep = ~is_train
    extra: list[np.ndarray] = []
    # Sorted labels make the draws independent of the order labels first appear in.
    for i, lab in enumerate(sorted(counts.index, key=str)):
        pos = positions[(train_labels == lab).to_numpy()]
        if strategy == "undersample":
            keep[resample(pos, replace=False, n_samples=target, random_state=seed + i)] = True
            continue
        keep[pos] = True
        n_add = target - len(pos)
        if n_add:
            whole, rest = divmod(n_add, len(pos))
            extra.append(np.tile(pos, whole))
            if rest:
                extra.append(resample(pos, replace=False, n_samples=rest, random_state=seed + i))
    parts = [frame.iloc[np.flatnonzero(keep)]]
    if extra:
        parts.append(frame.iloc[np.concatenate(extra)])
    return pd.concat(parts)


def class_counts(
    frame: pd.DataFrame, *, label_col: str = "label", split_col: str = "split"
) -> pd.DataFrame:
    """A label x split table of row counts, with a ``total`` column.

    Columns are the sides present, in the order of :data:`SPLITS`, then ``total``; rows are
    labels, sorted. Without a ``split_col`` column the table has only ``total``.

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    _require_columns(frame, label_col)
    if split_col in frame.columns:
        table = pd.crosstab(frame[label_col], frame[split_col])
        table = table.reindex(columns=_sides_in_order(frame[split_col].dropna()), fill_value=0)
    else:
        table = pd.DataFrame(index=pd.Index(sorted(pd.unique(frame[label_col])), name=label_col))
    table["total"] = frame[label_col].value_counts().reindex(table.index).to_numpy()
    table.columns.name = split_col if split_col in frame.columns else None
    return table.astype(int)
