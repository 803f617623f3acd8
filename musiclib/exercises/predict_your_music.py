"""Checks for the exercises of notebook 09 · Predict your own music."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .feedback import Feedback, describe, registers, right, wrong

__all__ = ["check_quiet_label", "check_tampered_bundle"]


@registers("09.2", "the label of a quieter copy")
def check_quiet_label(quiet_label, quiet_path, bundle, *, peak: float = 0.05, original=None,
                      largest_change=None, quiet: bool = False) -> Feedback:
    """``quiet_label``: the label ``ml.predict.predict_file(bundle, quiet_path)`` gives, where
    ``quiet_path`` is the audio file of the copy normalised to peak ``peak`` (linear, e.g.
    0.05). ``original``: the :class:`~musiclib.predict.Prediction` of the original signal
    (or just its label), to say whether the two agree. ``largest_change``: the largest
    absolute difference of any label's probability between the original's prediction and
    the copy's (checked when ``original`` is a Prediction)."""
    from ..audio import load
    from ..errors import MusiclibError
    from ..predict import Prediction, predict_file

    if not isinstance(quiet_path, (str, os.PathLike)) or not Path(quiet_path).is_file():
        return wrong("09.2", f"quiet_path should be the path of the file you wrote, got {describe(quiet_path)}; "
                     "ml.audio.write_audio returns it.", quiet=quiet)
    try:
        copy = load(quiet_path, sr=None)
    except (MusiclibError, OSError, ValueError) as err:
        return wrong("09.2", f"quiet_path cannot be read as audio ({err}); write it with ml.audio.write_audio.",
                     quiet=quiet)
    found = float(np.abs(copy).max()) if copy.size else 0.0
    if not 0.8 * peak <= found <= 1.2 * peak:
        return wrong("09.2", f"the copy's peak is {found:.3f}, not about {peak}; scale the signal with "
                     f"ml.audio.normalize_peak(y, peak={peak}) before writing it.", quiet=quiet)
    labels = list(bundle.labels)
    if not isinstance(quiet_label, str):
        return wrong("09.2", f"quiet_label should be a label (a string such as {labels[0]!r}), got "
                     f"{describe(quiet_label)}; take the .label of ml.predict.predict_file(bundle, quiet_path).",
                     quiet=quiet)
    if quiet_label.strip() not in labels:
        return wrong("09.2", f"{quiet_label!r} is not one of the bundle's labels; take the .label of "
                     "ml.predict.predict_file(bundle, quiet_path).", quiet=quiet)
    copy_prediction = predict_file(bundle, quiet_path)
    expected = copy_prediction.label
    if quiet_label.strip() != expected:
        return wrong("09.2", f"the model does not answer {quiet_label} for the quiet copy; predict the file at "
                     "quiet_path with ml.predict.predict_file(bundle, quiet_path) and take its .label.", quiet=quiet)
    change_text = ""
    if isinstance(original, Prediction) and largest_change is not None:
        truth = max(abs(copy_prediction.probabilities[k] - original.probabilities[k]) for k in labels)
        if isinstance(largest_change, bool) or not isinstance(largest_change, (int, float, np.floating)):
            return wrong("09.2", f"largest_change should be a number, got {describe(largest_change)}; take the "
                         "largest absolute difference of the two predictions' probabilities.", quiet=quiet)
        if not abs(float(largest_change) - truth) <= 1e-4 + 0.05 * truth:
            return wrong("09.2", f"largest_change is {float(largest_change):.4f}, but the probabilities of the two "
                         "predictions differ by up to another amount; subtract pd.Series(...probabilities) of one "
                         "from the other and take the largest absolute value.", quiet=quiet)
        change_text = f"; no probability moved by more than {truth:.4f}"
    original_label = original.label if isinstance(original, Prediction) else original
    level_db = getattr(bundle.config, "level_db", None)
    why = (f": the features are computed on each signal scaled to {level_db:g} dBFS RMS "
           "(bundle.config.level_db), so the level cannot change the answer" if level_db is not None else "")
    if original_label is None:
        return right("09.2", f"the quiet copy is predicted {expected}{change_text}{why}.", quiet=quiet)
    if expected == original_label:
        return right("09.2", f"the quiet copy is predicted {expected}, like the original{change_text}{why}.",
                     quiet=quiet)
    return right("09.2", f"the quiet copy is predicted {expected}, the original {original_label}: the level changed "
                 "the answer — explain why below.", quiet=quiet)


def _feature_config(folder: Path):
    try:
        return json.loads((folder / "bundle.json").read_text(encoding="utf-8")).get("feature_config")
    except (OSError, ValueError, AttributeError):
        return None


@registers("09.3", "what load_bundle says about a tampered bundle")
def check_tampered_bundle(refusal, tampered_dir, bundle_dir, *, quiet: bool = False) -> Feedback:
    """``refusal``: the error ``ml.predict.load_bundle(tampered_dir)`` raised (the exception,
    or its message ``str(err)``), where ``tampered_dir`` is a **copy** of ``bundle_dir`` whose
    ``bundle.json`` has one number of ``feature_config`` changed."""
    import warnings

    from ..predict import BundleError, load_bundle

    if not isinstance(tampered_dir, (str, os.PathLike)) or not Path(tampered_dir).is_dir():
        return wrong("09.3", f"tampered_dir should be the folder of your copy, got {describe(tampered_dir)}; "
                     "make it with shutil.copytree(bundle_dir, ...).", quiet=quiet)
    tampered, original = Path(tampered_dir).resolve(), Path(bundle_dir).resolve()
    if tampered == original:
        return wrong("09.3", "tampered_dir is the real bundle: never edit it; copy it first with "
                     "shutil.copytree(bundle_dir, a_new_folder) and change the copy.", quiet=quiet)
    changed, before = _feature_config(tampered), _feature_config(original)
    if changed is None:
        return wrong("09.3", "the copy's bundle.json is missing or not readable JSON; write it back with "
                     "json.dumps after changing one number of feature_config.", quiet=quiet)
    if changed == before:
        return wrong("09.3", "the copy's feature_config is unchanged; change one number in it (e.g. hop_length) "
                     "and write bundle.json back.", quiet=quiet)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            load_bundle(tampered_dir)
    except BundleError as err:
        reason = err.reason
    else:
        return wrong("09.3", "the copy still loads: change a number of feature_config without touching "
                     "feature_config_hash.", quiet=quiet)
    if refusal is None:
        return wrong("09.3", "refusal is None: load_bundle raised an error; catch it (except "
                     "ml.predict.BundleError as err) and store it: refusal = err.", quiet=quiet)
    if isinstance(refusal, BaseException):
        text = str(refusal)
    elif isinstance(refusal, str):
        text = refusal
    else:
        return wrong("09.3", f"refusal should be the error you caught or its message, got {describe(refusal)}; "
                     "inside except ml.predict.BundleError as err, set refusal = err.", quiet=quiet)
    if not " ".join(text.split()).endswith(reason):
        return wrong("09.3", "that is not what load_bundle says about this copy; call "
                     "ml.predict.load_bundle(tampered_dir) inside try/except and store the error you catch.",
                     quiet=quiet)
    return right("09.3", f"load_bundle refuses: {reason}", quiet=quiet)
