"""Every experiment of the source projects as a named, reproducible recipe.

A recipe fixes the data (which dataset variant, which features, clip vectors or segment
matrices), the split, the model and its training; :func:`run` executes it and returns one
results row, saves a **model bundle** (``model.keras`` + ``bundle.json``) and appends the
row to the course's results table. Notebooks, ``musiclib train`` and the course summary all
call this one function, so a number in a notebook and a number from the CLI are the same
number.

Every run splits **by recording** first (unless asked for the leaky segment split, on
purpose, to measure the leak), then cuts segments, and reports accuracy at segment level
and at recording level (mean probability, and majority vote, over a recording's segments).

Taught in ``notebooks/04_segments_leakage_balance.ipynb`` and ``notebooks/05_mfcc_networks.ipynb``.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd

from . import evaluate
from .bundle import Inputs
from .bundle import read_info as read_bundle_info
from .bundle import write as write_bundle
from .config import Settings
from .config import settings as default_settings
from .errors import MusiclibError

# The split of every run: by recording, 70 / 15 / 15 (musiclib.splits.assign_splits).
VALID_SIZE = 0.15
TEST_SIZE = 0.15
IMBALANCE = 0.25  # the rarest synthetic style keeps this share of the commonest one's clips


class Balance(StrEnum):
    """How training is balanced across labels (training side only)."""

    CLASS_WEIGHT = "class_weight"  # each label's loss weighted by its inverse frequency
    OVERSAMPLE = "oversample"  # rarer labels' examples repeated up to the commonest count


class DataVariant(StrEnum):
    """Which version of the dataset an experiment trains on."""

    AS_IS = "as_is"
    IMBALANCED = "imbalanced"  # synthetic only: label counts fall geometrically to IMBALANCE


class Transform(StrEnum):
    """What segment features become before the model."""

    LOG = "log"  # power (mel) to dB: features.power_to_db


def _choice(kind: type[StrEnum], field_name: str, value, *, optional: bool = False):
    """``value`` as a member of ``kind`` (None allowed when ``optional``), else a one-line error."""
    if value is None and optional:
        return None
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in kind) + (", None" if optional else "")
        raise MusiclibError(f"Experiment.{field_name} must be one of {allowed}, got {value!r}") from None


@dataclass(frozen=True, kw_only=True)
class Experiment:
    """One experiment of a source project, built with keyword arguments.

    Attributes
    ----------
    name : str
        Its name in ``musiclib experiments``.
    title : str
        One line for tables.
    source : str
        Which seed project (``000`` composers, ``001`` GTZAN clip features, ``002`` GTZAN
        MFCC segments, ``004`` spectrogram pictures).
    reported : float or None
        The accuracy the source reported, on its own data and (usually leaky) split.
    inputs : Inputs
        ``"clip"`` (one feature vector per clip), ``"segments"`` (frame matrices) or
        ``"images"`` (segments rendered as pictures).
    features : tuple of str
        Feature groups (clip inputs, e.g. ``("spectral",)``) or one frame feature
        (segment inputs, ``("mfcc",)``).
    builder : str
        A key of ``musiclib.models.BUILDERS``.
    options : tuple of (str, value)
        Builder options.
    balance : Balance or None
        None, ``"class_weight"`` or ``"oversample"`` (training side only).
    data : DataVariant
        ``"as_is"`` or ``"imbalanced"`` (for the synthetic dataset: a variant whose class
        counts fall geometrically to :data:`IMBALANCE` of the largest; a real collection is
        used as it is).
    notebook : str
        The notebook that teaches it.
    batch_size : int
        Training batch size.
    transform : Transform or None
        ``"log"``: segment features are power (mel) and become dB before the model.
    augment : str or None
        Waveform augmentation strength (``musiclib.augment.STRENGTHS``) for training
        recordings only; ``copies`` augmented copies of each.
    copies : int
        Augmented copies per training recording (with ``augment``).
    stats : tuple of str
        Clip inputs: which summary statistics of each feature (``("mean",)`` as source 001,
        ``("mean", "std")`` for the baselines).

    ``builder`` is a Keras model of ``musiclib.models.BUILDERS`` or a scikit-learn baseline
    of :data:`SKLEARN_BUILDERS` (clip inputs only; no model bundle is saved for those).

    Strings are accepted for the typed choices and checked when the experiment is made: a
    wrong value fails at once with the allowed ones.
    """

    name: str
    title: str
    source: str
    reported: float | None
    inputs: Inputs
    features: tuple[str, ...]
    builder: str
    options: tuple = ()
    balance: Balance | None = None
    data: DataVariant = DataVariant.AS_IS
    notebook: str = "05_mfcc_networks"
    batch_size: int = 32
    transform: Transform | None = None
    augment: str | None = None
    copies: int = 0
    stats: tuple[str, ...] = ("mean",)

    @property
    def is_baseline(self) -> bool:
        """A scikit-learn model on clip statistics, the reference a deep model must beat."""
        return self.builder in SKLEARN_BUILDERS

    def __post_init__(self):
        from .augment import STRENGTHS
        from .models import BUILDERS

        put = functools.partial(object.__setattr__, self)
        put("inputs", _choice(Inputs, "inputs", self.inputs))
        put("balance", _choice(Balance, "balance", self.balance, optional=True))
        put("data", _choice(DataVariant, "data", self.data))
        put("transform", _choice(Transform, "transform", self.transform, optional=True))
        put("features", tuple(self.features))
        put("stats", tuple(self.stats))
        problems = []
        if self.builder not in BUILDERS and self.builder not in SKLEARN_BUILDERS:
            problems.append(f"builder {self.builder!r} is not one of {', '.join([*BUILDERS, *SKLEARN_BUILDERS])}")
        if self.builder in SKLEARN_BUILDERS and self.inputs != Inputs.CLIP:
            problems.append(f"the scikit-learn builder {self.builder!r} takes clip inputs")
        if self.augment is not None and self.augment not in STRENGTHS:
            problems.append(f"augment {self.augment!r} is not one of {', '.join(STRENGTHS)}")
        if (self.augment is None) != (self.copies == 0):
            problems.append("augment and copies go together (a strength and at least one copy, or neither)")
        if not self.features:
            problems.append("features must name at least one feature")
        if problems:
            raise MusiclibError(f"Experiment {self.name!r}: " + "; ".join(problems))


# Baselines a reviewer asks for beside every deep model (musiclib.baselines fits them).
SKLEARN_BUILDERS = ("logistic_regression", "random_forest")

_SPEC_AUGMENT_LIGHT = {"time_masks": 1, "time_mask_width": 12, "freq_masks": 1, "freq_mask_width": 10}
_SPEC_AUGMENT_STRONG = {"time_masks": 2, "time_mask_width": 12, "freq_masks": 2, "freq_mask_width": 10}

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in [
        Experiment(name="logreg_clip", title="baseline: logistic regression on clip MFCC means and stds",
                   source="baseline", reported=None, inputs="clip", features=("mfcc",),
                   builder="logistic_regression", stats=("mean", "std"), notebook="07_results"),
        Experiment(name="forest_clip",
                   title="baseline: random forest on every clip feature's mean and std", source="baseline",
                   reported=None, inputs="clip", features=("spectral", "mfcc", "chroma", "mel"),
                   builder="random_forest", stats=("mean", "std"), notebook="07_results"),
        Experiment(name="dense_spectral", title="dense 128-64-32 on 7 spectral means", source="001", reported=None,
                   inputs="clip", features=("spectral",), builder="dense_clip", notebook="02_spectral_features",
                   batch_size=16),
        Experiment(name="dense_mfcc_chroma_mel", title="dense 128-64-32 on MFCC, chroma, mel 12-bin means",
                   source="001", reported=None, inputs="clip", features=("mfcc12", "chroma", "mel"),
                   builder="dense_clip", notebook="03_mfcc_chroma_mel", batch_size=16),
        Experiment(name="ann_mfcc", title="ANN 512-256-64 on 130 x 13 MFCC", source="002", reported=0.6198,
                   inputs="segments", features=("mfcc",), builder="ann"),
        Experiment(name="ann_mfcc_regularized", title="ANN with dropout 0.3 and L2 1e-4", source="002",
                   reported=0.6800, inputs="segments", features=("mfcc",), builder="ann",
                   options=(("dropout", 0.3), ("l2", 1e-4))),
        Experiment(name="cnn_mfcc", title="CNN 3 x (Conv 32 + MaxPool + BatchNorm) + Dense 64", source="002",
                   reported=0.7397, inputs="segments", features=("mfcc",), builder="cnn_mfcc"),
        Experiment(name="lstm_mfcc", title="stacked LSTM 64-64 + Dense 64", source="002", reported=0.6660,
                   inputs="segments", features=("mfcc",), builder="lstm_mfcc"),
        Experiment(name="cnn2_mfcc_unbalanced", title="2-conv CNN on MFCC, unbalanced data (composer exp. 1)",
                   source="000", reported=0.5489, inputs="segments", features=("mfcc",), builder="cnn2_mfcc",
                   options=(("variant", "exp1"),), data="imbalanced", notebook="04_segments_leakage_balance"),
        Experiment(name="cnn2_mfcc_balanced",
                   title="changed 2-conv CNN, balanced by class weights (composer exp. 2)", source="000",
                   reported=0.5596, inputs="segments", features=("mfcc",), builder="cnn2_mfcc",
                   options=(("variant", "exp2"),), balance="class_weight", data="imbalanced",
                   notebook="04_segments_leakage_balance"),
        Experiment(name="mel_cnn", title="CNN on log-mel segments (composer exp. 3)", source="000", reported=0.6253,
                   inputs="segments", features=("mel",), builder="mel_cnn", options=(("learning_rate", 3e-3),),
                   notebook="06_mel_cnn_augmentation", transform="log"),
        Experiment(name="mel_cnn_augmented",
                   title="mel CNN + light augmentation, 1 copy, SpecAugment (composer exp. 4)", source="000",
                   reported=0.6758, inputs="segments", features=("mel",), builder="mel_cnn",
                   options=(("spec_augment", _SPEC_AUGMENT_LIGHT), ("learning_rate", 3e-3)),
                   notebook="06_mel_cnn_augmentation", transform="log", augment="light", copies=1),
        Experiment(name="mel_cnn_augmented_more",
                   title="mel CNN + strong augmentation, 2 copies, SpecAugment (composer exp. 5)", source="000",
                   reported=0.7316, inputs="segments", features=("mel",), builder="mel_cnn",
                   options=(("spec_augment", _SPEC_AUGMENT_STRONG), ("learning_rate", 3e-3)),
                   notebook="06_mel_cnn_augmentation", transform="log", augment="strong", copies=2),
        Experiment(name="image_cnn", title="source 004 CNN on RGBA spectrogram pictures", source="004",
                   reported=0.20, inputs="images", features=("mel",), builder="image_cnn",
                   notebook="06_mel_cnn_augmentation", transform="log"),
        Experiment(name="image_cnn_array", title="the same CNN on the log-mel array itself", source="004",
                   reported=None, inputs="segments", features=("mel",), builder="image_cnn",
                   notebook="06_mel_cnn_augmentation", transform="log"),
    ]
}


def names() -> list[str]:
    """The names ``musiclib train --experiment`` accepts."""
    return list(EXPERIMENTS)


def get(name: str) -> Experiment:
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise MusiclibError(f"unknown experiment {name!r}: choose one of {', '.join(EXPERIMENTS)}") from None


def table() -> pd.DataFrame:
    """Every experiment with its source and the number the source reported."""
    return pd.DataFrame(
        [{"experiment": e.name, "title": e.title, "source": e.source, "reported_accuracy": e.reported,
          "inputs": e.inputs, "model": e.builder, "balance": e.balance or "", "data": e.data,
          "notebook": e.notebook} for e in EXPERIMENTS.values()]
    )


# ---------------------------------------------------------------------------------- data


@dataclass
class PreparedData:
    """Model inputs of every side, with what each row is.

    ``x[side]``: float32, (n, n_features) for clip inputs or (n, frames, coeffs) for
    segments; ``y[side]``: int labels; ``meta[side]``: one row per example with
    ``track_id``, ``label``, ``group``, ``split``.
    """

    labels: list[str]
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    meta: dict[str, pd.DataFrame]
    feature_config: object
    columns: list[str] = field(default_factory=list)
    split: str = "by recording"
    # streaming (the full profile): x[side] is None; the segments stay in an on-disk array
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["path", "reason"]))
    source: np.ndarray | None = None  # memory-mapped (n_segments, frames, bins)
    rows: dict = field(default_factory=dict)  # side -> row indices into source
    y_all: np.ndarray | None = None  # labels of every row of source

    @property
    def streamed(self) -> bool:
        return self.source is not None


def experiment_dataset(experiment: Experiment, settings: Settings, *, dataset=None, jobs: int = 1):
    """The dataset an experiment runs on (``dataset`` overrides the settings' choice).

    The unbalanced synthetic variant keeps the profile's ``clips_per_style`` for the
    commonest style, or more where the rarest would otherwise have fewer recordings than
    the profile's ``folds``: K folds by recording test every style on every test side
    (:func:`musiclib.splits.fold_splits`), which needs K recordings of the rarest.
    """
    import math

    from . import datasets

    name = str(dataset) if dataset is not None else settings.dataset
    if name == "synthetic" and experiment.data == "imbalanced":
        folder = settings.data_dir / "synthetic" / f"{settings.profile.name}-seed{settings.seed}-imbalanced"
        commonest = max(settings.profile.clips_per_style, math.ceil(settings.profile.folds / IMBALANCE - 1e-9))
        return datasets.synthetic(settings, out_dir=folder, imbalance=IMBALANCE, jobs=jobs,
                                  clips_per_style=commonest)
    # A full check (every file decoded) although extraction decodes again: the split is made
    # from this list, and a file that fails only when decoded must not take a place in it.
    return datasets.load(name, settings=settings, jobs=jobs)


def run_split(manifest: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The split by recording every run uses (70 / 15 / 15 with ``seed``): notebooks call it
    to find the recordings a saved model never trained on."""
    from . import splits

    return splits.assign_splits(manifest, valid_size=VALID_SIZE, test_size=TEST_SIZE, seed=seed)


def _clip_columns(table_: pd.DataFrame, groups: tuple[str, ...], stats: tuple[str, ...] = ("mean",)) -> list[str]:
    from .baselines import feature_columns

    cols: list[str] = []
    for g in groups:
        if g == "mfcc12":  # source 001 kept 12 MFCC means
            cols += feature_columns(table_, "mfcc")[:12]
        else:
            cols += feature_columns(table_, g, stats=stats)
    return cols


def prepare(
    experiment: Experiment,
    manifest: pd.DataFrame,
    settings: Settings,
    *,
    split: str = "recording",
    jobs: int = 1,
    progress: bool = False,
    stream: bool = False,
    segment_hop: float | None = None,
    fold: tuple[int, int] | None = None,
) -> PreparedData:
    """Features of a manifest, split and shaped for the experiment's model.

    Parameters
    ----------
    manifest : pandas.DataFrame
        With a complete ``split`` column made by recording (``ml.splits.assign_splits``).
    split : {'recording', 'segment'}
        ``segment`` re-splits the *segments* at random, ignoring recordings: the leaky
        protocol of most source projects, kept to measure the leak (notebook 04).
    stream : bool
        Keep segment inputs in an on-disk array (``musiclib.streaming``) rather than in
        memory: ``x`` is then None and ``source`` / ``rows`` say where each side lies.
    segment_hop : float, optional
        Seconds between segment starts (default: the segment length, segments side by
        side as the sources cut them). Shorter: overlapping segments
        (:func:`musiclib.features.segment_starts`).
    fold : (int, int), optional
        With ``split="segment"``: ``(k, K)`` takes fold ``k`` of K leaky folds of the
        segments (:func:`musiclib.splits.random_segment_folds`) instead of one random split.
    """
    from . import features, splits

    if experiment.augment:
        from .augment import augment_manifest, check_augmentation_split

        if split == "segment":
            raise MusiclibError(
                f"{experiment.name}: augmentation cannot be combined with the segment split "
                "(a random re-split would put augmented copies on the valid and test sides)"
            )
        # copies of training recordings only; they keep their recording's group
        manifest = augment_manifest(manifest, copies=experiment.copies, strength=experiment.augment,
                                    seed=settings.seed)
        check_augmentation_split(manifest)
    fs = features.extract_dataset(
        manifest, features.FeatureConfig(), cache_dir=settings.cache_dir / "features",
        jobs=jobs, progress=progress,
        # segment models need one frame feature; clip vectors need every summary
        features=("all",) if experiment.inputs == "clip" else (experiment.features[0],),
    )
    stream = stream and experiment.inputs == "segments"
    if experiment.inputs == "clip":
        table_ = fs.summaries
        columns = _clip_columns(table_, experiment.features, experiment.stats)
        x_all = table_[columns].to_numpy(dtype=np.float32)
        meta = table_[["track_id", "label", "group", "split"]].reset_index(drop=True)
    else:
        columns = []
        if stream:
            from .streaming import segments_to_disk

            path = settings.cache_dir / "segments" / f"{experiment.name}-{fs.config.config_hash}-{os.getpid()}.npy"
            x_all, meta = segments_to_disk(fs, experiment.features[0], path, transform=experiment.transform,
                                           hop_seconds=segment_hop)
        else:
            x_all, meta = fs.segments(experiment.features[0], hop_seconds=segment_hop)
            if experiment.transform == "log":
                # in place where it can be (no second copy of every segment in memory)
                in_place = isinstance(x_all, np.ndarray) and x_all.dtype == np.float32 and x_all.flags.writeable
                x_all = features.power_to_db(x_all, out=x_all if in_place else None)
        if experiment.inputs == "images":
            from .images import render_images

            x_all = render_images(x_all).astype(np.float32) / 255.0
    if split == "segment":
        if fold is None:
            meta = splits.random_segment_split(meta, seed=settings.seed)
        else:
            k, n_folds = fold
            meta = splits.random_segment_folds(meta, folds=n_folds, seed=settings.seed, valid_size=VALID_SIZE)[k]
        split_name = "by segment (leaky)"
    elif split == "recording":
        splits.check_no_leakage(meta)
        if experiment.augment:
            check_augmentation_split(meta)  # every augmented segment is on the train side
        split_name = "by recording"
    else:
        raise MusiclibError(f"split must be 'recording' or 'segment', got {split!r}")
    if segment_hop is not None and experiment.inputs != "clip":
        split_name += f", segments every {segment_hop:g} s"
    labels = sorted(manifest["label"].unique())
    index = {c: i for i, c in enumerate(labels)}
    y_all = meta["label"].map(index).to_numpy(dtype=np.int64)
    x, y, metas, side_rows = {}, {}, {}, {}
    for side in ("train", "valid", "test"):
        rows = np.flatnonzero(meta["split"].to_numpy() == side)
        side_rows[side] = rows
        x[side] = None if stream else x_all[rows]  # indexing a memmap would load it
        y[side] = y_all[rows]
        metas[side] = meta.iloc[rows].reset_index(drop=True)
    if not len(y["train"]) or not len(y["test"]):
        raise MusiclibError("the split left the train or the test side empty")
    return PreparedData(labels, x, y, metas, fs.config, columns, split_name,
                        skipped=fs.skipped[["path", "reason"]].drop_duplicates(),
                        source=x_all if stream else None, rows=side_rows, y_all=y_all)


def _balanced(data: PreparedData, how: str | None, seed: int):
    """Training inputs and class weights after the experiment's balancing.

    Returns ``(x, y, class_weight)``; for streamed data ``x`` is the training rows of
    ``data.source`` (row indices, repeated where oversampled) instead of an array.
    """
    from . import splits

    rows = data.rows["train"]
    y = data.y["train"]
    how = _choice(Balance, "balance", how, optional=True)
    if how in (None, Balance.CLASS_WEIGHT):
        weights = None
        if how == "class_weight":
            weights = {int(k): float(v) for k, v in splits.class_weights(y).items()}
        return (rows if data.streamed else data.x["train"]), y, weights
    # Balance.OVERSAMPLE
    frame = pd.DataFrame({"row": np.arange(len(y)), "label": y, "split": "train"})
    picked = splits.balance_training(frame, strategy="oversample", seed=seed)["row"].to_numpy()
    return (rows[picked] if data.streamed else data.x["train"][picked]), y[picked], None


# ---------------------------------------------------------------------------------- running


@dataclass
class RunResult:
    """What :func:`run` returns."""

    row: dict  # the results row (see run)
    model: object
    history: dict
    data: PreparedData
    proba: dict  # side -> (n, n_classes) probabilities for valid and test
    bundle: Path | None = None
    skipped: pd.DataFrame | None = None  # path, reason: files the run could not use
    recordings: pd.DataFrame | None = None  # test recordings' predictions (evaluate.recording_predictions)


def save_bundle(folder: str | os.PathLike, model, *, experiment: Experiment, data: PreparedData,
                row: dict, settings: Settings) -> Path:
    """Write the classifier's bundle (:mod:`musiclib.bundle`): ``model.keras`` and ``bundle.json``.

    :func:`musiclib.bundle.write` replaces ``folder`` as a whole, so a reader never finds a
    model without its description or the reverse. ``bundle.json`` records the labels (in
    output order), the feature settings and their hash, the input shape, the experiment,
    the metrics, what it was trained on and the package versions: everything prediction
    needs to turn a new file into the same inputs.
    """
    cfg = data.feature_config
    bundle = {
        "experiment": experiment.name,
        "title": experiment.title,
        "labels": data.labels,
        "inputs": experiment.inputs,
        "features": list(experiment.features),
        "transform": experiment.transform,
        "columns": data.columns,
        "input_shape": list(model.input_shape[1:]),
        "feature_config": cfg.to_dict(),
        "feature_config_hash": cfg.config_hash,
        "segment_seconds": cfg.segment_seconds,
        "metrics": {k: row[k] for k in row if k.startswith(("test_", "valid_", "macro_f1"))},
        "trained_on": {"dataset": settings.dataset, "profile": settings.profile.name,
                       "seed": settings.seed, "split": data.split,
                       "n_skipped_files": row.get("n_skipped_files")},
    }
    return write_bundle(folder, model, bundle, kind="classifier")


def _train_baseline(experiment: Experiment, data: PreparedData, x_train, y_train, seed: int):
    """Fit a scikit-learn baseline (``musiclib.baselines``) and predict valid and test."""
    import time

    from .baselines import sklearn_model
    from .train import FitResult

    model = sklearn_model(experiment.builder, seed)
    start = time.perf_counter()
    model.fit(x_train, y_train)
    seconds = time.perf_counter() - start
    n_classes = len(data.labels)

    def proba_of(x):
        out = np.zeros((len(x), n_classes), dtype=np.float32)
        if len(x):  # predict_proba's columns are the classes seen in training
            out[:, model.classes_] = model.predict_proba(x)
        return out

    result = FitResult(model=model, seconds=seconds, n_train=int(len(y_train)))
    return model, result, {side: proba_of(data.x[side]) for side in ("valid", "test")}


def parameters_of(model) -> int:
    """Trainable numbers of a Keras model, or coefficients / tree nodes of a scikit-learn one."""
    from .baselines import sklearn_parameters
    from .models import count_parameters

    return count_parameters(model) if hasattr(model, "trainable_weights") else sklearn_parameters(model)


def _train(experiment: Experiment, data: PreparedData, how, s: Settings, verbose: int):
    """Build, fit and predict, in memory or streamed from ``data.source``.

    Returns ``(model, FitResult with n_train set, {side: probabilities})``.
    """
    from .models import build
    from .train import fit, set_seed

    x_train, y_train, class_weight = _balanced(data, how, s.seed)
    if experiment.is_baseline:
        return _train_baseline(experiment, data, x_train, y_train, s.seed)
    options = dict(experiment.options)
    if experiment.builder != "dense_clip" and s.profile.learning_rate is not None:
        options.setdefault("learning_rate", s.profile.learning_rate)  # a recipe's own rate wins
    fit_options = dict(epochs=s.profile.max_epochs, patience=s.profile.patience,
                       class_weight=class_weight, seed=s.seed, verbose=verbose)
    set_seed(s.seed)  # before building: initial weights are random too
    if data.streamed:
        from .streaming import SegmentSequence, fit_streaming, predict_streaming, sample_rows

        # the normalisation is adapted on a sample of training segments, never the whole file
        model = build(experiment.builder, sample_rows(data.source, indices=x_train, seed=s.seed),
                      len(data.labels), **options)
        train = SegmentSequence(data.source, data.y_all, batch_size=experiment.batch_size, seed=s.seed,
                                indices=x_train)
        valid = (SegmentSequence(data.source, data.y_all, batch_size=256, shuffle=False, indices=data.rows["valid"])
                 if len(data.rows["valid"]) else None)
        result = fit_streaming(model, train, validation=valid, **fit_options)
        proba = {side: predict_streaming(model, data.source, indices=data.rows[side]) for side in ("valid", "test")}
    else:
        model = build(experiment.builder, x_train, len(data.labels), **options)
        validation = (data.x["valid"], data.y["valid"]) if len(data.y["valid"]) else None
        result = fit(model, x_train, y_train, validation=validation, batch_size=experiment.batch_size,
                     **fit_options)
        proba = {side: evaluate.predict_proba(model, data.x[side]) for side in ("valid", "test")}
    result.n_train = int(len(y_train))
    return model, result, proba


def _resolved_settings(settings, *, profile=None, seed=None, dataset=None) -> Settings:
    s = settings or default_settings()
    if profile is not None:
        s = s.replace(profile=profile)
    if seed is not None:
        s = s.replace(seed=seed)
    if dataset is not None:
        s = s.replace(dataset="synthetic" if str(dataset) == "synthetic" else str(Path(dataset).resolve()))
    return s


def _recipe_balance(experiment: Experiment, balance):
    return experiment.balance if balance == "recipe" else _choice(Balance, "balance", balance, optional=True)


def _evaluate_once(experiment: Experiment, manifest: pd.DataFrame, s: Settings, *, how, split: str, jobs: int,
                   stream: bool, verbose: int, fold: int = 0, folds: int = 1, segment_hop: float | None = None):
    """Prepare, train and score one split of ``manifest`` (its ``split`` column).

    Returns ``(row, model, FitResult, PreparedData, proba, recordings)``; ``recordings`` is
    :func:`musiclib.evaluate.recording_predictions` of the test side.
    """
    leaky_fold = (fold, folds) if split == "segment" and folds > 1 else None
    data = prepare(experiment, manifest, s, split=split, jobs=jobs, stream=stream, segment_hop=segment_hop,
                   fold=leaky_fold)
    try:
        model, result, proba = _train(experiment, data, how, s, verbose)
    finally:
        if data.streamed:  # the on-disk segment array was made for this run only
            path = Path(data.source.filename)
            del data.source
            data.source = None
            path.unlink(missing_ok=True)
    test = evaluate.evaluate_split(proba["test"], data.y["test"], data.meta["test"]["group"])
    valid = (evaluate.evaluate_split(proba["valid"], data.y["valid"], data.meta["valid"]["group"])
             if len(data.y["valid"]) else {})
    recordings = evaluate.recording_predictions(proba["test"], data.y["test"], data.meta["test"]["group"], fold=fold)
    spread = evaluate.interval_summary(recordings, seed=s.seed)
    row = {
        "experiment": experiment.name,
        "title": experiment.title,
        "dataset": s.dataset,
        "profile": s.profile.name,
        "seed": s.seed,
        "split": data.split,
        "folds": int(folds),
        "fold": int(fold),
        "balance": str(how) if how else "none",
        "test_accuracy_segment": test["accuracy_segment"],
        "test_accuracy_recording": test["accuracy_recording"],
        "test_accuracy_recording_ci_low": spread["test_accuracy_recording_ci_low"],
        "test_accuracy_recording_ci_high": spread["test_accuracy_recording_ci_high"],
        "test_accuracy_recording_vote": test["accuracy_recording_vote"],
        "macro_f1": test["macro_f1_recording"],
        "macro_f1_segment": test["macro_f1_segment"],
        "valid_accuracy_segment": valid.get("accuracy_segment", np.nan),
        "parameters": parameters_of(model),
        "epochs": result.epochs,
        "train_seconds": round(result.seconds, 2),
        "n_train": int(result.n_train),
        "n_test_segments": int(len(data.y["test"])),
        "n_test_recordings": int(data.meta["test"]["group"].nunique()),
        "reported_accuracy": experiment.reported,
        "source": experiment.source,
    }
    return row, model, result, data, proba, recordings


def run(
    name: str,
    dataset=None,
    *,
    settings: Settings | None = None,
    profile: str | None = None,
    seed: int | None = None,
    split: str = "recording",
    balance: str | None = "recipe",
    out_dir: str | os.PathLike | None = None,
    save: bool = True,
    jobs: int = 2,
    stream: bool | None = None,
    verbose: int = 0,
    segment_hop: float | None = None,
) -> RunResult:
    """Run experiment ``name`` on one split (70 / 15 / 15 by recording) and return its
    results row, model and history.

    Parameters
    ----------
    name : str
        See :func:`names`.
    dataset : str or path, optional
        Default: the settings' dataset (``$MUSICLIB_DATASET`` or ``synthetic``).
    profile, seed : optional
        Override the settings.
    split : {'recording', 'segment'}
        ``segment`` is the leaky split of the sources, for comparison only.
    balance : 'recipe', None, 'class_weight' or 'oversample'
        The recipe's balancing (default), or another.
    out_dir : path, optional
        Where the model bundle goes (default ``settings.models_dir / experiment``:
        ``build/models/<profile>/<dataset>/<experiment>``). Baselines (scikit-learn) save
        no bundle.
    save : bool
        Save the bundle and append the row to ``build/results/experiments.csv``.
    stream : bool, optional
        Train segment models from an on-disk array in batches (bounded memory); default:
        the profile's ``stream`` (on for ``full``).
    segment_hop : float, optional
        Seconds between segment starts (default: the segment length, no overlap).

    Returns
    -------
    RunResult
        ``row`` has ``experiment``, ``dataset``, ``profile``, ``seed``, ``split``,
        ``folds`` (1) and ``fold`` (0), ``test_accuracy_segment``,
        ``test_accuracy_recording`` (mean probability per recording) with
        ``test_accuracy_recording_ci_low`` / ``_ci_high`` (95% bootstrap interval over the
        test recordings), ``test_accuracy_recording_vote``, ``macro_f1`` (recording level),
        ``valid_accuracy_segment``, ``parameters``, ``epochs``, ``train_seconds``, counts,
        and ``reported_accuracy`` (the source's own number, on other data). For K folds
        and intervals over them see :func:`run_folds`.
    """
    experiment = get(name)
    s = _resolved_settings(settings, profile=profile, seed=seed, dataset=dataset)
    how = _recipe_balance(experiment, balance)
    ds = experiment_dataset(experiment, s, jobs=jobs)
    manifest = run_split(ds.manifest, s.seed)
    use_stream = s.profile.stream if stream is None else stream
    row, model, result, data, proba, recordings = _evaluate_once(
        experiment, manifest, s, how=how, split=split, jobs=jobs, stream=use_stream, verbose=verbose,
        segment_hop=segment_hop)
    skipped = pd.concat([ds.skipped, data.skipped], ignore_index=True).drop_duplicates()
    row["n_skipped_files"] = int(len(skipped))  # before saving: the bundle and the CSV have it
    bundle = None
    if save:
        if not experiment.is_baseline:  # a bundle holds a Keras model
            bundle = save_bundle(Path(out_dir) if out_dir else s.models_dir / experiment.name, model,
                                 experiment=experiment, data=data, row=row, settings=s)
        evaluate.append_result(row, s)
    return RunResult(row=row, model=model, history=result.history, data=data, proba=proba, bundle=bundle,
                     skipped=skipped, recordings=recordings)


# ---------------------------------------------------------------------------------- folds


@dataclass
class FoldsResult:
    """What :func:`run_folds` returns.

    ``rows``: one results row per fold (as :func:`run`'s, with ``fold`` and ``folds``);
    ``recordings``: every test recording's prediction (:func:`musiclib.evaluate.recording_predictions`,
    ``fold`` column set); ``summary``: :func:`musiclib.evaluate.interval_summary` of them
    plus ``experiment``, ``dataset``, ``profile``, ``seed``, ``train_seconds`` (all folds).
    """

    experiment: str
    rows: pd.DataFrame
    recordings: pd.DataFrame
    summary: dict
    skipped: pd.DataFrame | None = None

    def describe(self, metric: str = "test_accuracy_recording") -> str:
        """``'mel_cnn: 0.62 (95% interval 0.55 to 0.69; 5 folds, 160 test recordings)'``."""
        return evaluate.describe_score(self.experiment, self.summary, metric=metric)


def _folds_path(experiment: Experiment, s: Settings, manifest: pd.DataFrame, folds: int, how, *,
                split: str = "recording", segment_hop: float | None = None) -> Path:
    """Where the per-recording predictions of these folds are kept: one file per experiment
    recipe, dataset content, profile, seed and K (and split and segment hop when not the
    defaults), so a change of any of them trains anew."""
    import hashlib

    protocol = [] if split == "recording" and segment_hop is None else [f"split={split}", f"hop={segment_hop}"]
    key = "|".join([repr(experiment), str(how), s.profile.name, str(s.seed), str(folds), *protocol,
                    s.dataset, *manifest.sort_values("track_id")[["track_id", "label", "group"]]
                    .astype(str).agg("/".join, axis=1)])
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    return Path(s.results_dir) / "folds" / f"{experiment.name}-k{folds}-{digest}.csv"


def run_folds(
    name: str,
    dataset=None,
    *,
    folds: int = 5,
    settings: Settings | None = None,
    profile: str | None = None,
    seed: int | None = None,
    balance: str | None = "recipe",
    split: str = "recording",
    segment_hop: float | None = None,
    save: bool = True,
    reuse: bool = True,
    jobs: int = 2,
    stream: bool | None = None,
    verbose: int = 0,
    progress=None,
) -> FoldsResult:
    """Run experiment ``name`` on K folds by recording and summarise with 95% intervals.

    The folds are :func:`musiclib.splits.fold_splits` (StratifiedGroupKFold with the seed):
    every recording is tested once, every fold tests every label. Each fold trains a model
    from scratch with the profile's settings; no bundle is saved (a fold's model saw less
    data than :func:`run`'s).

    Parameters
    ----------
    folds : int
        K (at least 2, at most the fewest recordings of a label).
    split : {'recording', 'segment'}
        ``segment``: the leaky protocol, K folds of the *segments* ignoring their recordings
        (:func:`musiclib.splits.random_segment_folds`), to measure the leak (notebook 04).
        Every segment is tested once, as with ``recording``; a recording's segments are
        spread over several folds, so its ``recordings`` rows are per (fold, recording) and
        only the segment-level scores compare with the honest ones.
    segment_hop : float, optional
        Seconds between segment starts (default: the segment length, no overlap); shorter
        makes neighbouring segments share audio.
    save : bool
        Append each fold's row (with its ``fold`` index) to ``build/results/experiments.csv``
        and keep the per-recording predictions under ``build/results/folds/``.
    reuse : bool
        If this experiment already ran on these folds (same recipe, data, profile, seed
        and K), read its predictions instead of training again.
    progress : callable, optional
        Called with ``(fold, folds)`` before each fold trains.

    Returns
    -------
    FoldsResult
    """
    experiment = get(name)
    s = _resolved_settings(settings, profile=profile, seed=seed, dataset=dataset)
    how = _recipe_balance(experiment, balance)
    ds = experiment_dataset(experiment, s, jobs=jobs)
    if split not in ("recording", "segment"):
        raise MusiclibError(f"split must be 'recording' or 'segment', got {split!r}")
    path = _folds_path(experiment, s, ds.manifest, folds, how, split=split, segment_hop=segment_hop)
    rows_path = path.with_suffix(".rows.csv")
    if reuse and path.exists() and rows_path.exists():
        recordings, rows = pd.read_csv(path), pd.read_csv(rows_path)
    else:
        use_stream = s.profile.stream if stream is None else stream
        fold_rows, parts = [], []
        for k, manifest in enumerate(splits_for_folds(ds.manifest, folds=folds, seed=s.seed)):
            if progress is not None:
                progress(k, folds)
            row, _model, _result, _data, _proba, recordings = _evaluate_once(
                experiment, manifest, s, how=how, split=split, jobs=jobs, stream=use_stream,
                verbose=verbose, fold=k, folds=folds, segment_hop=segment_hop)
            row["split"] = f"{folds} folds " + ("by recording" if split == "recording" else "by segment (leaky)")
            if segment_hop is not None:  # its own rows in the results table
                row["split"] += f", segments every {segment_hop:g} s"
            row["n_skipped_files"] = int(len(ds.skipped))
            fold_rows.append(row)
            parts.append(recordings)
            if save:
                evaluate.append_result(row, s)
        rows, recordings = pd.DataFrame(fold_rows), pd.concat(parts, ignore_index=True)
        if save:
            from . import safe_write

            safe_write.write_csv(rows, rows_path)
            safe_write.write_csv(recordings, path)
    summary = evaluate.interval_summary(recordings, seed=s.seed)
    summary.update(experiment=experiment.name, dataset=s.dataset, profile=s.profile.name, seed=s.seed,
                   train_seconds=float(rows["train_seconds"].sum()))
    return FoldsResult(experiment.name, rows, recordings, summary, skipped=ds.skipped)


def splits_for_folds(manifest: pd.DataFrame, *, folds: int, seed: int) -> list[pd.DataFrame]:
    """The K fold splits every fold run uses (:func:`musiclib.splits.fold_splits`, valid 15%)."""
    from . import splits

    return splits.fold_splits(manifest, folds=folds, seed=seed, valid_size=VALID_SIZE)


def compare(
    name_a: str,
    name_b: str,
    dataset=None,
    *,
    folds: int = 5,
    settings: Settings | None = None,
    metric: str = "accuracy_recording",
    **options,
) -> evaluate.Comparison:
    """Paired comparison of two experiments on the same K folds by recording.

    Runs (or reuses, see :func:`run_folds`) both experiments on the same folds and returns
    :func:`musiclib.evaluate.paired_comparison` of their test recordings: ``a - b`` with a
    95% interval. ``evaluate.describe(result)`` says it in one sentence.
    """
    s = settings or default_settings()
    a = run_folds(name_a, dataset, folds=folds, settings=s, **options)
    b = run_folds(name_b, dataset, folds=folds, settings=s, **options)
    return evaluate.paired_comparison(a.recordings, b.recordings, names=(name_a, name_b), metric=metric,
                                      seed=s.seed if options.get("seed") is None else options["seed"])


def best_bundle(settings: Settings | None = None, *, default: str = "mel_cnn_augmented_more",
                jobs: int = 2) -> tuple[str, Path]:
    """The best classifier of this run and its model bundle, trained now if need be.

    "Best" is the highest recording-level test accuracy among the experiments of
    :func:`summary` (this dataset, profile and seed); ``default`` when none has run yet.
    The bundle in ``settings.models_dir`` is used only if it was trained on this dataset,
    profile and seed; otherwise (missing, or left by a run on other data) the experiment
    runs again.

    Returns
    -------
    (str, Path)
        The experiment's name and its bundle folder.

    Taught in ``notebooks/08_vae_generation.ipynb`` and ``notebooks/09_predict_your_music.ipynb``.
    """
    s = settings or default_settings()
    results = summary(s)
    results = results[~results["experiment"].map(lambda n: EXPERIMENTS[n].is_baseline)]  # no bundle
    best = (str(results.loc[results["test_accuracy_recording"].idxmax(), "experiment"])
            if len(results) and results["test_accuracy_recording"].notna().any() else default)
    folder = s.models_dir / best
    try:
        trained_on = read_bundle_info(folder, kind="classifier", required=("trained_on",))["trained_on"]
        current = (trained_on["dataset"] == s.dataset and trained_on["profile"] == s.profile.name
                   and int(trained_on["seed"]) == s.seed)
    except (MusiclibError, KeyError, TypeError, ValueError):  # missing, older format, damaged: train again
        current = False
    if not current:
        run(best, settings=s, jobs=jobs)
    return best, folder


SUMMARY_COLUMNS = [
    "experiment", "source", "title", "test_accuracy_segment", "test_accuracy_recording",
    "test_accuracy_recording_ci_low", "test_accuracy_recording_ci_high",
    "test_accuracy_recording_vote", "macro_f1", "parameters", "train_seconds", "epochs",
    "n_test_recordings", "folds", "reported_accuracy", "split", "dataset", "profile", "seed",
]


def summary(
    settings: Settings | None = None,
    *,
    names: list[str] | None = None,
    run_missing: bool = False,
    jobs: int = 2,
) -> pd.DataFrame:
    """One results row per experiment, for the settings' dataset, profile and seed.

    Reads ``build/results/experiments.csv`` (written by :func:`run`), keeping the rows
    split by recording with each recipe's own balancing. With ``run_missing``, runs the
    experiments that have no such row yet.

    Returns
    -------
    pandas.DataFrame
        :data:`SUMMARY_COLUMNS`, one row per experiment, in :func:`names` order; the
        sources' reported accuracies beside ours, on other data and splits.

    Taught in ``notebooks/07_results.ipynb``.
    """
    s = settings or default_settings()
    wanted = names or list(EXPERIMENTS)
    path = Path(s.results_dir) / "experiments.csv"

    def stored() -> pd.DataFrame:
        if not path.exists():
            return pd.DataFrame(columns=SUMMARY_COLUMNS)
        table_ = pd.read_csv(path)
        keep = (
            (table_["dataset"].astype(str) == s.dataset)
            & (table_["profile"] == s.profile.name)
            & (table_["seed"] == s.seed)
            & (table_["split"] == "by recording")
        )
        table_ = table_[keep]
        recipe_balance = table_["experiment"].map(lambda n: (EXPERIMENTS[n].balance or "none") if n in EXPERIMENTS else "")
        return table_[table_["balance"] == recipe_balance].drop_duplicates("experiment", keep="last")

    rows = stored()
    if run_missing:
        for name in wanted:
            if name not in set(rows["experiment"]):
                run(name, settings=s, jobs=jobs)
        rows = stored()
    rows = rows.set_index("experiment").reindex([n for n in wanted if n in set(rows["experiment"])])
    rows = rows.reset_index()
    for column, attribute in (("source", "source"), ("title", "title"), ("reported_accuracy", "reported")):
        rows[column] = rows["experiment"].map(lambda n: getattr(EXPERIMENTS[n], attribute))
    return rows[[c for c in SUMMARY_COLUMNS if c in rows]]


FOLDS_COLUMNS = [
    "experiment", "source", "title", "folds", "n_test_recordings",
    "test_accuracy_recording_mean", "test_accuracy_recording_ci_low", "test_accuracy_recording_ci_high",
    "test_accuracy_recording_fold_std", "test_accuracy_segment_mean", "test_accuracy_segment_ci_low",
    "test_accuracy_segment_ci_high", "macro_f1_mean", "macro_f1_ci_low", "macro_f1_ci_high",
    "train_seconds", "reported_accuracy", "dataset", "profile", "seed",
]


def folds_table(results) -> pd.DataFrame:
    """One row per :class:`FoldsResult`: mean and 95% interval of each score, K, the number of
    test recordings, training time over all folds, and the source's reported accuracy.

    Taught in ``notebooks/07_results.ipynb``.
    """
    rows = []
    for r in results:
        e = get(r.experiment)
        rows.append({**r.summary, "experiment": e.name, "source": e.source, "title": e.title,
                     "reported_accuracy": e.reported})
    return pd.DataFrame(rows, columns=FOLDS_COLUMNS)


def stored_folds(settings: Settings | None = None, *, names: list[str] | None = None) -> list[FoldsResult]:
    """Every K-fold run kept under ``build/results/folds/`` for the settings' dataset, profile
    and seed (what :func:`run_folds` saved), newest first per experiment and K, without
    training anything.

    Returns
    -------
    list of FoldsResult
        In :func:`names` order, then by K; :func:`folds_table` turns them into a table.

    Taught in ``notebooks/07_results.ipynb``; ``musiclib course`` writes them to ``results.md``.
    """
    s = settings or default_settings()
    folder = Path(s.results_dir) / "folds"
    found: dict[tuple[str, int], tuple[float, Path, pd.DataFrame]] = {}
    for rows_path in sorted(folder.glob("*.rows.csv")) if folder.is_dir() else []:
        recordings_path = rows_path.with_name(rows_path.name.removesuffix(".rows.csv") + ".csv")
        if not recordings_path.exists():
            continue
        try:
            rows = pd.read_csv(rows_path)
        except (OSError, ValueError, pd.errors.ParserError):  # damaged: leave it out
            continue
        if not len(rows) or not {"experiment", "dataset", "profile", "seed", "folds"} <= set(rows.columns):
            continue
        first = rows.iloc[0]
        name = str(first["experiment"])
        if (name not in EXPERIMENTS or (names is not None and name not in names)
                or str(first["dataset"]) != s.dataset or first["profile"] != s.profile.name
                or int(first["seed"]) != s.seed):
            continue
        # only the recipe as it stands: not notebook 04's leaky or overlapping-segment folds,
        # nor a run with other balancing, which are kept beside it under their own names
        if (str(first.get("split")) != f"{int(first['folds'])} folds by recording"
                or str(first.get("balance")) != str(EXPERIMENTS[name].balance or "none")):
            continue
        key, mtime = (name, int(first["folds"])), recordings_path.stat().st_mtime
        if key not in found or mtime > found[key][0]:
            found[key] = (mtime, recordings_path, rows)
    order = list(EXPERIMENTS)
    results = []
    for (name, _k), (_mtime, path, rows) in sorted(found.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])):
        recordings = pd.read_csv(path)
        summary_ = evaluate.interval_summary(recordings, seed=s.seed)
        summary_.update(experiment=name, dataset=s.dataset, profile=s.profile.name, seed=s.seed,
                        train_seconds=float(rows["train_seconds"].sum()))
        results.append(FoldsResult(name, rows, recordings, summary_))
    return results


def folds_as_rows(table_: pd.DataFrame) -> pd.DataFrame:
    """A :func:`folds_table` in the columns of :func:`summary` (the mean over every test
    recording of the K folds is the row's accuracy; ``split`` says ``K folds by recording``),
    so one-split rows and K-fold rows can share one results file."""
    renamed = table_.rename(columns={"test_accuracy_recording_mean": "test_accuracy_recording",
                                     "test_accuracy_segment_mean": "test_accuracy_segment",
                                     "macro_f1_mean": "macro_f1"})
    renamed["split"] = renamed["folds"].map(lambda k: f"{int(k)} folds by recording")
    return renamed[[c for c in SUMMARY_COLUMNS if c in renamed]]


def mark_comparable(table_: pd.DataFrame) -> pd.DataFrame:
    """``table_`` (one row per experiment, :func:`summary` or :func:`folds_as_rows`) with two
    more columns: ``data`` (the dataset variant the recipe trains on: ``as_is``, or the
    ``imbalanced`` synthetic variant of notebook 04) and ``comparable``: True for the rows
    measured on the same data with the same number of test recordings (the most common among
    the ``as_is`` rows), the rows whose numbers may be set side by side.

    Taught in ``notebooks/07_results.ipynb``.
    """
    out = table_.copy()
    out["data"] = out["experiment"].map(lambda n: str(EXPERIMENTS[n].data) if n in EXPERIMENTS else "")
    n = out["n_test_recordings"] if "n_test_recordings" in out else pd.Series(np.nan, index=out.index)
    as_is = out["data"] == DataVariant.AS_IS
    usual = n[as_is].dropna().mode()
    out["comparable"] = as_is & (n == usual.iloc[0]) if len(usual) else as_is  # n unknown: the data decides
    return out
