"""The model-bundle format: one folder per trained model, shared by every kind of model.

A bundle folder holds two files:

- ``model.keras`` (:data:`MODEL_FILE`): the network in Keras 3 format, loaded in *safe
  mode* (no code is deserialised; musiclib's own layers and models are registered
  classes);
- a JSON description (:data:`INFO_FILES`): ``bundle.json`` for a classifier
  (:func:`musiclib.experiments.save_bundle`, read by :func:`musiclib.predict.load_bundle`),
  ``vae.json`` for a VAE (:func:`musiclib.vae.save` / :func:`musiclib.vae.load`).

Every description has these keys, written by :func:`write`:

==========  ===================================================================
``format``  :data:`FORMAT`, the version of this schema (see :data:`FORMAT_CHANGES`)
``kind``    ``"classifier"`` or ``"vae"``
``versions`` the versions of the packages the model depends on (:func:`package_versions`)
``created`` local time of writing, ISO 8601
==========  ===================================================================

and whatever its kind adds (labels in output order, the feature settings, the input
shape, metrics, where it was trained). :func:`write` replaces the whole folder at once
(:func:`musiclib.safe_write.replace_folder`): a reader never finds a model with another
model's description, and after a killed write :func:`read_info` finds the old bundle or
the new one.
"""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from enum import StrEnum
from pathlib import Path

from . import safe_write
from .errors import MusiclibError
from .tf_log import import_keras as _import_keras

FORMAT = 2
"""The bundle schema this musiclib writes and reads."""

FORMAT_CHANGES = {
    1: "features at the recording's own level",
    2: "features computed on each signal scaled to FeatureConfig.level_db (level-independent)",
}
"""What each format meant; a bundle of an older format is refused with its line."""

MODEL_FILE = "model.keras"
INFO_FILES = {"classifier": "bundle.json", "vae": "vae.json"}
KINDS = tuple(INFO_FILES)
VERSIONED_PACKAGES = ("musiclib", "keras", "tensorflow", "librosa", "numpy", "scikit-learn")
CHECKED_VERSIONS = ("keras", "tensorflow", "librosa", "musiclib")
"""Packages whose major.minor version must match the saving one, else a warning."""


class Inputs(StrEnum):
    """What a classifier's input is (``inputs`` in ``bundle.json``)."""

    CLIP = "clip"  # one vector of per-clip feature means and standard deviations
    SEGMENTS = "segments"  # (frames, rows) matrices of one frame feature, segment_seconds long
    IMAGES = "images"  # such segments rendered as RGBA pictures scaled to [0, 1]


class BundleError(MusiclibError):
    """A folder that is not a usable model bundle.

    The message is ``"<folder>: <reason>"`` on one line.
    """

    def __init__(self, folder: str | os.PathLike, reason: str):
        self.folder = Path(folder)
        self.reason = " ".join(str(reason).split())
        super().__init__(f"{self.folder}: {self.reason}")


def _kind(kind: str) -> str:
    if kind not in INFO_FILES:
        raise ValueError(f"unknown bundle kind {kind!r}: choose one of {', '.join(KINDS)}")
    return kind


def info_file(kind: str) -> str:
    """The description's file name for a kind of bundle (``"bundle.json"``, ``"vae.json"``)."""
    return INFO_FILES[_kind(kind)]


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a saved model depends on (None: not installed)."""
    from importlib import metadata

    out: dict[str, str | None] = {}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _major_minor(version: str | None) -> tuple[int, ...] | None:
    match = re.match(r"\s*(\d+)\.(\d+)", str(version or ""))
    return (int(match[1]), int(match[2])) if match else None


def check_versions(info: dict, *, folder: str | os.PathLike = "bundle") -> list[str]:
    """Warn where a bundle was saved with another major.minor of a package than installed.

    Compares ``info["versions"]`` with the installed keras, tensorflow, librosa and
    musiclib (:data:`CHECKED_VERSIONS`); each difference becomes one
    :func:`warnings.warn` (``UserWarning``) of one line, such as ``"bundle
    build/models/fast/synthetic/cnn_mfcc was saved with keras 3.10.0, this is keras
    3.15.0: predictions may differ"``. Packages missing on either side are skipped.

    Returns
    -------
    list of str
        The warning messages (empty when everything matches).

    Taught in ``notebooks/09_predict_your_music.ipynb``.
    """
    recorded = info.get("versions") or {}
    installed = package_versions()
    messages = []
    for name in CHECKED_VERSIONS:
        saved, here = recorded.get(name), installed.get(name)
        a, b = _major_minor(saved), _major_minor(here)
        if a is not None and b is not None and a != b:
            messages.append(f"bundle {folder} was saved with {name} {saved}, this is {name} {here}: "
                            "predictions may differ")
    for message in messages:
        warnings.warn(message, UserWarning, stacklevel=3)
    return messages


def write(folder: str | os.PathLike, model, info: dict, *, kind: str) -> Path:
    """Write a bundle: ``model.keras`` and the kind's JSON description, replacing ``folder``.

    Parameters
    ----------
    folder : str or Path
        The bundle folder; an existing one is replaced as a whole.
    model : keras.Model
        Saved with ``model.save`` (Keras 3 format).
    info : dict
        The kind's own keys (JSON types only). ``format``, ``kind``, ``versions`` and
        ``created`` are added (and override keys of those names).
    kind : str
        ``"classifier"`` or ``"vae"``.

    Returns
    -------
    Path
        ``folder``.
    """
    name = info_file(kind)
    description = {**info, "format": FORMAT, "kind": kind, "versions": package_versions(),
                   "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    text = json.dumps(description, indent=2) + "\n"  # fails before anything is written

    def fill(tmp: Path) -> None:
        model.save(tmp / MODEL_FILE)
        (tmp / name).write_text(text, encoding="utf-8")

    return safe_write.replace_folder(folder, fill)


def read_info(folder: str | os.PathLike, *, kind: str, required: tuple[str, ...] = ()) -> dict:
    """The description of a bundle folder, after checking that it is one of this kind.

    Undoes what a killed :func:`write` left first (:func:`musiclib.safe_write.recover_folder`).

    Parameters
    ----------
    folder : str or Path
    kind : str
        ``"classifier"`` or ``"vae"``.
    required : tuple of str
        Keys the description must have besides ``format``.

    Returns
    -------
    dict
        The parsed JSON description.

    Raises
    ------
    BundleError
        One line naming the folder and the reason: not found, not a folder, a file
        missing, unreadable JSON, another kind, a format this musiclib does not read (an
        older one names what changed: train the model again), a required key missing.
    """
    name = info_file(kind)
    folder = Path(folder).expanduser()
    safe_write.recover_folder(folder)
    if not folder.exists():
        raise BundleError(folder, "not a model bundle: folder not found")
    if not folder.is_dir():
        raise BundleError(folder, "not a model bundle: not a folder")
    missing = [n for n in (name, MODEL_FILE) if not (folder / n).is_file()]
    if missing:
        other = [k for k, n in INFO_FILES.items() if k != kind and (folder / n).is_file()]
        hint = f" (it holds a {other[0]} bundle)" if other else ""
        raise BundleError(folder, f"not a model bundle: {' and '.join(missing)} missing{hint}")
    try:
        info = json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise BundleError(folder, f"{name} is not readable JSON: {err}") from None
    if not isinstance(info, dict):
        raise BundleError(folder, f"{name} is not a JSON object")
    if "format" not in info:
        raise BundleError(folder, f"{name} lacks format")
    found = info["format"]
    if found != FORMAT:
        if isinstance(found, int) and found in FORMAT_CHANGES and found < FORMAT:
            raise BundleError(folder, f"bundle format {found} ({FORMAT_CHANGES[found]}) is older than this "
                                      f"musiclib's format {FORMAT} ({FORMAT_CHANGES[FORMAT]}): train it again")
        raise BundleError(folder, f"unknown bundle format {found!r} (this musiclib reads format {FORMAT})")
    if info.get("kind", kind) != kind:
        raise BundleError(folder, f"{name} describes a {info['kind']!r} bundle, not a {kind!r} one")
    absent = [k for k in required if k not in info]
    if absent:
        raise BundleError(folder, f"{name} lacks {', '.join(absent)}")
    return info


def load_model(folder: str | os.PathLike):
    """Load ``model.keras`` of a bundle folder in safe mode, without compiling it.

    musiclib's own layers (:class:`musiclib.specaugment.SpecAugment`) and models
    (:class:`musiclib.vae.VAE`) are registered classes, so safe mode needs no code.

    Raises
    ------
    BundleError
        The file does not load (damaged, a foreign layer, a ``Lambda`` refused by safe mode).
    """
    keras = _import_keras()

    from . import specaugment  # noqa: F401  registers musiclib>SpecAugment for safe mode

    folder = Path(folder)
    try:
        return keras.saving.load_model(folder / MODEL_FILE, compile=False, safe_mode=True)
    except Exception as err:
        text = " ".join(str(err).split())
        if len(text) > 300:
            text = text[:300] + "..."
        raise BundleError(folder, f"{MODEL_FILE} does not load: {type(err).__name__}: {text}") from None


__all__ = [
    "CHECKED_VERSIONS",
    "FORMAT",
    "FORMAT_CHANGES",
    "INFO_FILES",
    "Inputs",
    "KINDS",
    "MODEL_FILE",
    "BundleError",
    "check_versions",
    "info_file",
    "load_model",
    "package_versions",
    "read_info",
    "write",
]
