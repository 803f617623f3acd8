"""Saved model bundles, and prediction for any audio file with them.

A **model bundle** is the folder :func:`musiclib.experiments.run` writes in the format
:mod:`musiclib.bundle` defines: ``model.keras`` (the trained network, Keras 3 format) and
``bundle.json`` (labels in output order, the :class:`~musiclib.features.FeatureConfig` and
its hash, the input shape, the experiment, the package versions). :func:`load_bundle`
loads one in Keras *safe mode* (no code is deserialised; the only custom layer,
:class:`musiclib.specaugment.SpecAugment`, is a registered class) and refuses a bundle
whose parts disagree.

:func:`predict_file` then turns any readable file (WAV, FLAC, Ogg, MP3, AU, AIFF; 5 s or an
hour) into exactly the inputs the model was trained on, and aggregates the model's answers
into one label for the recording:

1. The file is decoded in **chunks** of a whole number of segments (60 s by default) with
   :func:`musiclib.audio.iter_clips`, so memory stays bounded whatever the file's length.
   Each chunk is treated as training treated one clip of a recording: its frame features
   (:func:`musiclib.features.frame_features`) are computed on the chunk and cut into
   segments of ``segment_seconds`` (:func:`musiclib.features.segment_matrices`). A chunk of
   ``m`` segments gives exactly ``m`` segments; a last, partial chunk gives the whole
   segments it holds; a file shorter than one segment is zero-padded to one.
2. Each segment is prepared as training prepared it: the bundle's frame feature
   (``features[0]``), in dB if the recipe's ``transform`` is ``"log"``; rendered as an RGBA
   picture scaled to [0, 1] for ``"images"`` recipes. ``"clip"`` recipes (one vector of
   per-clip means and standard deviations) summarise the whole file instead
   (:func:`musiclib.features.clip_summary`, combined exactly over chunks).
3. The recording's label is the class of the **mean probability** over its segments (the
   recording-level number training reports); the majority vote is kept beside it, and so
   is the per-segment timeline.

Taught in ``notebooks/09_predict_your_music.ipynb``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .bundle import BundleError, Inputs, check_versions, load_model, read_info
from .errors import AudioFileError, MusiclibError
from .safe_write import write_file

INPUTS = tuple(Inputs)
DEFAULT_CHUNK_SECONDS = 60.0

_REQUIRED_KEYS = ("labels", "inputs", "features", "input_shape", "feature_config", "feature_config_hash")


# ------------------------------------------------------------------------------------------
# Bundles


def _transform_of(info: dict, folder: Path) -> str | None:
    """The recipe's segment transform: recorded in the bundle, or the experiment's own."""
    if "transform" in info:
        return info["transform"]
    if info["inputs"] == "clip":
        return None
    from .experiments import EXPERIMENTS

    name = info.get("experiment")
    if name not in EXPERIMENTS:
        raise BundleError(folder, f"unknown experiment {name!r} and no 'transform' recorded: "
                                  "cannot tell how its segments were prepared")
    return EXPERIMENTS[name].transform


class Bundle:
    """A loaded model bundle: the Keras model and everything needed to feed it.

    Attributes
    ----------
    folder : Path
        The bundle folder.
    model : keras.Model
        Loaded in safe mode.
    labels : list of str
        Class names in the model's output order.
    config : FeatureConfig
        The feature settings training used.
    info : dict
        ``bundle.json`` as saved by :func:`musiclib.experiments.save_bundle`.

    Use :meth:`load` (or :func:`load_bundle`).

    Taught in ``notebooks/09_predict_your_music.ipynb``.
    """

    def __init__(self, folder, model, labels, config, info, *, transform=None):
        self.folder = Path(folder)
        self.model = model
        self.labels = list(labels)
        self.config = config
        self.info = info
        self.transform = transform

    # -- what the inputs are ---------------------------------------------------------------

    @property
    def inputs(self) -> str:
        """``"clip"``, ``"segments"`` or ``"images"``."""
        return self.info["inputs"]

    @property
    def feature(self) -> str:
        """The frame feature of segment and image inputs (``"mfcc"``, ``"mel"``, ...)."""
        return self.info["features"][0]

    @property
    def columns(self) -> list[str]:
        """The clip summary columns of clip inputs, in model input order."""
        return list(self.info.get("columns") or [])

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One example's shape, without the batch axis: ``(130, 13)`` for MFCC segments."""
        return tuple(int(n) for n in self.info["input_shape"])

    @property
    def segment_seconds(self) -> float:
        return float(self.config.segment_seconds)

    @property
    def experiment(self) -> str | None:
        return self.info.get("experiment")

    def __repr__(self) -> str:
        return (f"Bundle({str(self.folder)!r}, experiment={self.experiment!r}, inputs={self.inputs!r}, "
                f"labels={len(self.labels)}, input_shape={self.input_shape})")

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, folder: str | os.PathLike) -> "Bundle":
        """Load and check a bundle folder.

        Warns (:func:`check_versions`) when keras, tensorflow, librosa or musiclib differ
        in major.minor version from those that saved it.

        Raises
        ------
        BundleError
            One line naming the folder and the reason: not a folder, ``model.keras`` or
            ``bundle.json`` missing, unreadable JSON, an unknown ``format``, a model file
            that does not load, or parts that disagree (the recorded
            ``feature_config_hash`` is not the hash of ``feature_config``; the number of
            labels is not the model's output size; ``input_shape`` is not the model's input
            or not what the feature settings give).

        Taught in ``notebooks/09_predict_your_music.ipynb``.
        """
        from .features import FeatureConfig

        folder = Path(folder).expanduser()
        info = read_info(folder, kind="classifier", required=_REQUIRED_KEYS)
        if info["inputs"] not in INPUTS:
            raise BundleError(folder, f"unknown inputs {info['inputs']!r} (expected one of {', '.join(INPUTS)})")
        # the feature settings must be exactly those the model was trained with
        try:
            config = FeatureConfig.from_dict(info["feature_config"])
        except (MusiclibError, TypeError, ValueError, AttributeError) as err:
            raise BundleError(folder, f"feature_config is not valid: {err}") from None
        if config.config_hash != info["feature_config_hash"]:
            raise BundleError(
                folder,
                f"feature_config does not match its recorded hash ({info['feature_config_hash']!r} "
                f"recorded, {config.config_hash!r} computed): bundle.json was edited or damaged",
            )
        if "segment_seconds" in info and float(info["segment_seconds"]) != config.segment_seconds:
            raise BundleError(folder, f"segment_seconds {info['segment_seconds']} disagrees with "
                                      f"feature_config ({config.segment_seconds})")
        labels = info["labels"]
        if (not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels)
                or len(set(labels)) != len(labels)):
            raise BundleError(folder, "labels must be a non-empty list of distinct names")
        shape = info["input_shape"]
        if not isinstance(shape, list) or not all(isinstance(n, int) and n > 0 for n in shape):
            raise BundleError(folder, f"input_shape must be a list of positive integers, got {shape!r}")
        features = info["features"]
        if not isinstance(features, list) or not features:
            raise BundleError(folder, "features must be a non-empty list")
        transform = _transform_of(info, folder)
        expected = _expected_shape(info, config, folder)
        if expected is not None and tuple(shape) != expected:
            raise BundleError(folder, f"input_shape {shape} is not what the feature settings give "
                                      f"({list(expected)})")

        model = load_model(folder)
        model_in = tuple(model.input_shape[1:]) if not isinstance(model.input_shape, list) else None
        if model_in is None or tuple(shape) != model_in:
            raise BundleError(folder, f"input_shape {shape} does not match the model's input "
                                      f"{list(model_in) if model_in else model.input_shape}")
        n_out = model.output_shape[-1]
        if len(labels) != n_out:
            raise BundleError(folder, f"{len(labels)} labels for a model with {n_out} outputs")
        check_versions(info, folder=folder)
        return cls(folder, model, labels, config, info, transform=transform)


def _expected_shape(info: dict, config, folder: Path) -> tuple[int, ...] | None:
    """The input shape the recorded feature settings give (None where it cannot be told)."""
    from .features import FRAME_FEATURES, summary_columns

    if info["inputs"] == "clip":
        columns = info.get("columns") or []
        known = set(summary_columns("all", config))
        unknown = [c for c in columns if c not in known]
        if not columns or unknown:
            raise BundleError(folder, "clip bundle without valid summary columns"
                              + (f" (unknown: {', '.join(unknown[:3])})" if unknown else ""))
        return (len(columns),)
    feature = info["features"][0]
    if feature not in FRAME_FEATURES:
        raise BundleError(folder, f"unknown frame feature {feature!r}")
    if info["inputs"] == "segments":
        return (config.frames_per_segment, config.n_rows(feature))
    return None  # images: any picture size, checked against the model


def load_bundle(folder: str | os.PathLike) -> Bundle:
    """Load and check a model bundle folder (see :meth:`Bundle.load`).

    Parameters
    ----------
    folder : str or Path
        A folder holding ``model.keras`` and ``bundle.json``, as written by
        :func:`musiclib.experiments.run` / ``musiclib train``.

    Returns
    -------
    Bundle

    Taught in ``notebooks/09_predict_your_music.ipynb``.
    """
    return Bundle.load(folder)


# ------------------------------------------------------------------------------------------
# Predictions


@dataclass
class Prediction:
    """What :func:`predict_file` says about one recording.

    Attributes
    ----------
    path : Path
    label : str
        The class of the mean probability over the segments.
    probabilities : dict of str to float
        Mean probability of every label over the segments, highest first (sums to 1).
    vote_label : str
        The most frequent segment label (ties go to the higher mean probability).
    timeline : pandas.DataFrame
        One row per segment, in time order: ``start_s``, ``end_s`` (seconds in the file),
        ``label`` (the segment's top label) and one probability column per label. Clip
        bundles have one row for the whole file.
    duration_s : float
        The file's length in seconds.
    n_segments : int
        Segments the model saw (1 for clip bundles).
    padded : bool
        The file was shorter than one segment and was zero-padded to one.
    top_k : int or None
        How many labels :meth:`to_dict` keeps by default (None: all).

    Taught in ``notebooks/09_predict_your_music.ipynb``.
    """

    path: Path
    label: str
    probabilities: dict
    vote_label: str
    timeline: pd.DataFrame = field(repr=False)
    duration_s: float
    n_segments: int
    padded: bool = False
    top_k: int | None = field(default=None, repr=False)

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most probable labels with their mean probabilities, highest first."""
        return list(self.probabilities.items())[: max(0, int(k))]

    def to_dict(self, top: int | None = None) -> dict:
        """A JSON-ready dict: ``path``, ``label``, ``probability``, ``probabilities`` (the top
        ``top`` labels; default :attr:`top_k`, None: all), ``vote_label``, ``duration_s``,
        ``n_segments``, ``padded``."""
        k = self.top_k if top is None else top
        probabilities = self.probabilities if k is None else dict(self.top(k))
        return {
            "path": str(self.path),
            "label": self.label,
            "probability": float(self.probabilities[self.label]),
            "probabilities": {name: float(p) for name, p in probabilities.items()},
            "vote_label": self.vote_label,
            "duration_s": float(self.duration_s),
            "n_segments": int(self.n_segments),
            "padded": bool(self.padded),
        }


def _whole_segments(bundle: Bundle, chunk_seconds: float) -> float:
    """``chunk_seconds`` rounded down to a whole number of segments (at least one), in seconds."""
    segment = bundle.config.segment_seconds
    return max(1, int(math.floor(chunk_seconds / segment + 1e-9))) * segment


def _chunks(path: Path, bundle: Bundle, chunk_seconds: float) -> Iterator[tuple[float, np.ndarray, bool]]:
    """``(offset_s, y, padded)`` for every chunk of a whole number of segments.

    ``y`` holds only the chunk's real audio (the zero padding :func:`audio.iter_clips` adds
    to a last, partial chunk is cut off again), except for a file shorter than one segment,
    which is padded to one segment (``padded`` True).
    """
    from . import audio

    cfg = bundle.config
    sr = cfg.sample_rate
    clip_seconds = _whole_segments(bundle, chunk_seconds)
    header = audio.info(path)
    native = header.sample_rate
    segment_samples = int(round(cfg.segment_seconds * sr))
    first = True
    for offset, y in audio.iter_clips(path, clip_seconds=clip_seconds, sr=sr):
        start = round(offset * native)
        real = int(round(max(0, header.frames - start) * sr / native))
        y = y[: min(len(y), real)]
        is_only = first and offset + clip_seconds >= header.duration_s - 1e-9
        first = False
        if bundle.inputs == "clip":
            if len(y):
                yield offset, y, False
        elif len(y) >= segment_samples:
            yield offset, y, False
        elif is_only:  # the whole file is shorter than one segment
            yield offset, np.pad(y, (0, segment_samples - len(y))), True
        # else: a tail shorter than a segment, dropped as training drops it


def _combine_summaries(parts: list[tuple[int, dict]]) -> dict[str, float]:
    """Exact mean and std over the frames of several chunks, from each chunk's
    :func:`clip_summary` and frame count (``var = E[x^2] - E[x]^2``, pooled)."""
    if len(parts) == 1:
        return dict(parts[0][1])
    counts = np.array([n for n, _ in parts], dtype=np.float64)
    total = counts.sum()
    out = {}
    for key in parts[0][1]:
        if not key.endswith("_mean"):
            continue
        stem = key[: -len("_mean")]
        means = np.array([s[key] for _, s in parts])
        stds = np.array([s[f"{stem}_std"] for _, s in parts])
        mean = float((counts * means).sum() / total)
        second = float((counts * (stds**2 + means**2)).sum() / total)
        out[key] = mean
        out[f"{stem}_std"] = float(np.sqrt(max(second - mean**2, 0.0)))
    return out


def _clip_groups(bundle: Bundle) -> list[str]:
    from .features import resolve_features

    groups = ["mfcc" if g == "mfcc12" else g for g in bundle.info["features"]]
    return resolve_features(groups)


def _segment_inputs(bundle: Bundle, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs of one chunk's segments and their first frames.

    Returns ``(x, starts)``: ``x`` float32 of shape ``(n, *input_shape)``, ``starts`` int
    frame indices within the chunk.
    """
    from .features import frame_features, power_to_db, segment_matrices, segment_starts

    cfg = bundle.config
    frames = frame_features(y, cfg, features=[bundle.feature])
    starts = segment_starts(frames[bundle.feature].shape[1], cfg)
    x = segment_matrices(frames, cfg, feature=bundle.feature)
    if bundle.transform == "log":
        x = power_to_db(x, out=x)  # x is this call's own float32 array
    if bundle.inputs == "images":
        from .images import render_images

        h, w = bundle.input_shape[:2]
        x = render_images(x, size=(h, w)).astype(np.float32) / 255.0
    return x, starts


def predict_file(bundle: Bundle, path: str | os.PathLike, *,
                 chunk_seconds: float = DEFAULT_CHUNK_SECONDS) -> Prediction:
    """Predict the label of one audio file of any supported format and length.

    Parameters
    ----------
    bundle : Bundle
        From :func:`load_bundle`.
    path : str or Path
        A ``.wav``, ``.flac``, ``.ogg``, ``.mp3``, ``.au`` or ``.aiff`` file.
    chunk_seconds : float
        Seconds decoded at a time, rounded down to a whole number of segments (at least
        one). Memory holds one chunk's signal and features (about 25 MB at 60 s), never
        the whole file. Each chunk's features are computed as training computed a clip's.

    Returns
    -------
    Prediction
        ``label`` (mean probability over segments), ``probabilities`` (label -> mean
        probability, highest first), ``vote_label``, the per-segment ``timeline``,
        ``duration_s``, ``n_segments`` and ``padded`` (a file shorter than one segment is
        zero-padded to one).

    Raises
    ------
    AudioFileError
        ``"<path>: <reason>"`` on one line: missing, not audio, truncated, non-finite, ...

    Taught in ``notebooks/09_predict_your_music.ipynb``.
    """
    from . import audio

    path = Path(path)
    if chunk_seconds <= 0:
        raise ValueError(f"chunk_seconds must be positive, got {chunk_seconds!r}")
    duration = audio.info(path).duration_s
    return _predict_chunks(bundle, _chunks(path, bundle, chunk_seconds), path, duration)


def predict_signal(bundle: Bundle, y: np.ndarray, sr: int, *, name: str = "signal",
                   chunk_seconds: float = DEFAULT_CHUNK_SECONDS) -> Prediction:
    """Predict the label of a signal already in memory, exactly as :func:`predict_file` would
    predict a file holding it.

    Parameters
    ----------
    bundle : Bundle
        From :func:`load_bundle`.
    y : np.ndarray, shape (n,)
        Mono signal in full-scale units; its level does not matter (features are computed
        on the signal scaled to the bundle's ``FeatureConfig.level_db``).
    sr : int
        Its sample rate in Hz; resampled to the bundle's rate when different.
    name : str
        What :attr:`Prediction.path` shows for it.
    chunk_seconds : float
        As in :func:`predict_file`.

    Returns
    -------
    Prediction
        As :func:`predict_file`'s; a signal shorter than one segment is zero-padded to one.

    Raises
    ------
    MusiclibError
        The signal is not one-dimensional, is empty or holds non-finite values.
    """
    from .audio import resample

    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or y.size == 0:
        raise MusiclibError(f"{name}: predict_signal expects a non-empty mono signal of shape (n,), got {y.shape}")
    if not np.isfinite(y).all():
        raise MusiclibError(f"{name}: the signal holds non-finite values")
    if chunk_seconds <= 0:
        raise ValueError(f"chunk_seconds must be positive, got {chunk_seconds!r}")
    cfg = bundle.config
    if int(sr) != cfg.sample_rate:
        y = resample(y, orig_sr=int(sr), target_sr=cfg.sample_rate)
    duration = len(y) / cfg.sample_rate
    return _predict_chunks(bundle, _signal_chunks(y, bundle, chunk_seconds), Path(name), duration)


def _signal_chunks(y: np.ndarray, bundle: Bundle, chunk_seconds: float) -> Iterator[tuple[float, np.ndarray, bool]]:
    """:func:`_chunks` for a signal in memory at the bundle's sample rate."""
    cfg = bundle.config
    sr = cfg.sample_rate
    chunk = int(round(_whole_segments(bundle, chunk_seconds) * sr))
    segment_samples = int(round(cfg.segment_seconds * sr))
    if bundle.inputs != "clip" and len(y) < segment_samples:
        yield 0.0, np.pad(y, (0, segment_samples - len(y))), True
        return
    for start in range(0, len(y), chunk):
        part = y[start:start + chunk]
        if bundle.inputs == "clip" or len(part) >= segment_samples:
            yield start / sr, part, False


def _predict_chunks(bundle: Bundle, chunks: Iterable[tuple[float, np.ndarray, bool]], path: Path,
                    duration: float) -> Prediction:
    """The :class:`Prediction` for one recording from its chunks ``(offset_s, y, padded)``."""
    from librosa.util.exceptions import ParameterError

    from . import evaluate
    from .features import clip_summary, frame_features

    cfg = bundle.config
    sr, hop = cfg.sample_rate, cfg.hop_length
    probas, starts_s, padded = [], [], False
    summaries: list[tuple[int, dict]] = []
    try:
        for offset, y, was_padded in chunks:
            padded = padded or was_padded
            if bundle.inputs == "clip":
                feats = frame_features(y, cfg, features=_clip_groups(bundle))
                summaries.append((next(iter(feats.values())).shape[1], clip_summary(feats, cfg)))
                continue
            x, starts = _segment_inputs(bundle, y)
            if len(x):
                probas.append(evaluate.predict_proba(bundle.model, x))
                starts_s.append(offset + starts * hop / sr)
    except AudioFileError:
        raise
    except (MusiclibError, ParameterError, ValueError, FloatingPointError) as err:
        raise AudioFileError(path, f"features failed: {err}") from err

    if bundle.inputs == "clip":
        if not summaries:
            raise AudioFileError(path, "empty: no audio decoded")
        summary = _combine_summaries(summaries)
        x = np.array([[summary[c] for c in bundle.columns]], dtype=np.float32)
        proba = evaluate.predict_proba(bundle.model, x)
        start = np.zeros(1)
        end = np.array([duration])
    else:
        if not probas:  # cannot happen for a readable file: a short one is padded
            raise AudioFileError(path, "empty: no segment could be cut")
        proba = np.concatenate(probas)
        start = np.concatenate(starts_s)
        end = np.minimum(start + cfg.segment_seconds, duration)

    mean = proba.astype(np.float64).mean(axis=0)
    mean /= mean.sum()
    _, vote = evaluate.recording_level(proba, np.zeros(len(proba), int), np.zeros(len(proba), int), how="vote")
    labels = bundle.labels
    order = np.argsort(-mean, kind="stable")
    timeline = pd.DataFrame({"start_s": start, "end_s": end,
                             "label": [labels[i] for i in proba.argmax(axis=1)]})
    for i, name in enumerate(labels):
        timeline[name] = proba[:, i]
    return Prediction(
        path=path,
        label=labels[int(order[0])],
        probabilities={labels[i]: float(mean[i]) for i in order},
        vote_label=labels[int(vote[0])],
        timeline=timeline,
        duration_s=float(duration),
        n_segments=int(len(proba)),
        padded=padded,
    )


def predict_files(bundle: Bundle, paths: Iterable[str | os.PathLike], *, top: int | None = 3,
                  chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
                  ) -> tuple[list[Prediction], list[tuple[Path, str]]]:
    """:func:`predict_file` for every path, going on after a file that cannot be used.

    Parameters
    ----------
    bundle : Bundle
    paths : iterable of str or Path
    top : int or None
        Labels each prediction's :meth:`Prediction.to_dict` keeps by default (its
        ``top_k``); None keeps all. Every prediction holds every label's probability.
    chunk_seconds : float
        See :func:`predict_file`.

    Returns
    -------
    predictions : list of Prediction
        In the order of ``paths``, the unusable files left out.
    errors : list of (Path, str)
        Each unusable file with its one-line reason.

    Taught in ``notebooks/09_predict_your_music.ipynb``.
    """
    predictions, errors = [], []
    for p in paths:
        try:
            prediction = predict_file(bundle, p, chunk_seconds=chunk_seconds)
        except AudioFileError as err:
            errors.append((Path(p), err.reason))
            continue
        prediction.top_k = top
        predictions.append(prediction)
    return predictions, errors


def _ordinal(k: int) -> str:
    return {2: "second", 3: "third", 4: "fourth", 5: "fifth"}.get(k, f"label{k}")


def predict_folder(bundle: Bundle, folder: str | os.PathLike, *, recursive: bool = True,
                   top: int = 3, chunk_seconds: float = DEFAULT_CHUNK_SECONDS) -> pd.DataFrame:
    """Predict every audio file of a folder into one table.

    Files are those :func:`musiclib.audio.is_audio_path` accepts (hidden and macOS ``._*``
    files are skipped), in sorted order; sub-folders too when ``recursive``.

    Returns
    -------
    pandas.DataFrame
        One row per file: ``path``, ``label``, ``probability``, then ``second_label``,
        ``second_probability``, ``third_label``, ``third_probability`` (up to ``top``
        labels), ``vote_label``, ``duration_s``, ``n_segments``, ``padded`` and
        ``error`` (empty for files predicted; the reason, with the other columns empty,
        for files that could not be used).

    Raises
    ------
    MusiclibError
        ``folder`` is not a folder.

    Taught in ``notebooks/09_predict_your_music.ipynb``.
    """
    from .audio import is_audio_path

    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise MusiclibError(f"{folder}: not a folder")
    found = folder.rglob("*") if recursive else folder.iterdir()
    paths = sorted(p for p in found if p.is_file() and is_audio_path(p)
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    predictions, errors = predict_files(bundle, paths, top=top, chunk_seconds=chunk_seconds)
    label_columns = ["label", "probability"]
    for k in range(2, top + 1):
        label_columns += [f"{_ordinal(k)}_label", f"{_ordinal(k)}_probability"]
    columns = ["path", *label_columns, "vote_label", "duration_s", "n_segments", "padded", "error"]
    rows = {}
    for p in predictions:
        row = {"path": str(p.path), "vote_label": p.vote_label, "duration_s": p.duration_s,
               "n_segments": p.n_segments, "padded": p.padded, "error": ""}
        for k, (name, prob) in enumerate(p.top(top), start=1):
            prefix = "" if k == 1 else f"{_ordinal(k)}_"
            row[f"{prefix}label"], row[f"{prefix}probability"] = name, prob
        rows[str(p.path)] = row
    for path, reason in errors:
        rows[str(path)] = {"path": str(path), "error": reason}
    table = pd.DataFrame([rows[str(p)] for p in paths], columns=columns)
    return table


def save_upload(name: str, content, folder: str | os.PathLike) -> Path:
    """Save an uploaded file (e.g. from an ``ipywidgets.FileUpload``) into ``folder``.

    Parameters
    ----------
    name : str
        The file name the user gave; only its last component is kept, with characters
        other than letters, digits, ``.``, ``-`` and ``_`` replaced by ``_`` (so an upload
        can never write outside ``folder``).
    content : bytes, bytearray or memoryview
        The file's bytes.
    folder : str or Path
        Created if missing.

    Returns
    -------
    Path
        The saved file, written atomically (a temporary name, then renamed).

    Raises
    ------
    AudioFileError
        The name has no supported audio extension.

    Taught in ``notebooks/09_predict_your_music.ipynb``.
    """
    from .audio import SUPPORTED_EXTENSIONS

    base = re.sub(r"[^A-Za-z0-9._-]", "_", Path(str(name).replace("\\", "/")).name).lstrip(".")
    if Path(base).suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise AudioFileError(name, f"unsupported extension {Path(base).suffix or '(none)'} "
                                   f"(supported: {', '.join(SUPPORTED_EXTENSIONS)})")
    return write_file(Path(folder).expanduser() / base, bytes(content))


def demo_files(
    bundle: Bundle,
    folder: str | os.PathLike,
    *,
    settings,
    labels: Sequence[str],
    seconds: float,
    formats: Sequence[str] = (".mp3",),
    seed: int = 0,
) -> list[Path]:
    """Recordings the model never trained on, one per label, written for a demo.

    On the built-in synthetic styles, new clips are rendered with seeds the dataset never
    used (``seed``, ``seed + 1``, ...). On any other dataset (GTZAN, your own folder), they
    are excerpts of recordings from the **test side** of the split every run uses
    (:func:`musiclib.experiments.run_split`; the valid side when a label has no test
    recording): real music of the dataset that the model has not seen.

    Parameters
    ----------
    bundle : Bundle
        Its labels must include ``labels``.
    folder : path
        Where the files go (created if missing); named ``<label>_<k><ext>``.
    settings : musiclib.config.Settings
        The run's settings (dataset, profile, seed) that trained the bundle.
    labels : sequence of str
        One file per label, in this order.
    seconds : float
        Length of each file (at most the recording's length; an excerpt from its middle).
    formats : sequence of str
        Extensions, used in turn (``.mp3``, ``.flac``, ``.ogg``, ``.wav``).

    Returns
    -------
    list of Path

    Taught in ``notebooks/09_predict_your_music.ipynb``.
    """
    from . import audio, datasets
    from .experiments import run_split

    unknown = [label for label in labels if label not in bundle.labels]
    if unknown:
        raise MusiclibError(f"{bundle.folder}: no label {unknown[0]!r} (labels: {', '.join(bundle.labels)})")
    folder = Path(folder).expanduser()
    sr = int(bundle.config.sample_rate)
    held_out = None
    if settings.dataset != "synthetic":
        manifest = run_split(datasets.load(settings=settings).manifest, settings.seed)
        held_out = manifest[manifest["split"] != "train"].sort_values("split", key=lambda c: c != "test")
    paths = []
    for k, label in enumerate(labels):
        ext = formats[k % len(formats)]
        if held_out is None:
            from . import synth

            y = synth.render_clip(label, seconds, sr=sr, seed=seed + k)
        else:
            rows = held_out[held_out["label"] == label]
            if not len(rows):
                raise MusiclibError(f"{settings.dataset}: no held-out recording of {label!r}")
            info = audio.info(rows["path"].iloc[0])
            offset = max(0.0, (info.duration_s - seconds) / 2)
            y = audio.load(rows["path"].iloc[0], sr=sr, offset_s=offset, duration_s=seconds)
        paths.append(audio.write_audio(folder / f"{label}_{k}{ext}", y, sr=sr))
    return paths


__all__ = [
    "Bundle",
    "BundleError",
    "Prediction",
    "check_versions",
    "demo_files",
    "load_bundle",
    "predict_file",
    "predict_files",
    "predict_folder",
    "predict_signal",
    "save_upload",
]
