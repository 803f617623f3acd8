"""Checks for the exercises of notebook 03 · MFCC, chroma and mel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .feedback import Feedback, compare_array, compare_choice, compare_set, describe, registers, tell, wrong

__all__ = ["check_mfcc_by_hand", "check_better_family", "check_smallest_set", "check_rotated_chroma",
           "check_dropout_net"]


@registers("03.1", "MFCC by hand from the mel spectrogram")
def check_mfcc_by_hand(mfcc_by_hand, features: Mapping[str, np.ndarray], config=None, *,
                       quiet: bool = False) -> Feedback:
    """``mfcc_by_hand``: MFCCs computed from ``features["mel"]``, shape ``(n_mfcc, n_frames)``.

    ``features`` is one clip's ``ml.features.frame_features`` dict; the reference is its
    ``"mfcc"``: ``librosa.power_to_db(mel, top_db=config.top_db)``, then a type-2 DCT with
    ``norm="ortho"`` along the mel axis, first ``config.n_mfcc`` rows (``config`` a
    :class:`~musiclib.features.FeatureConfig`; default settings when None).
    """
    from ..features import as_feature_config

    cfg = as_feature_config(config)
    expected = np.asarray(features["mfcc"], dtype=np.float64)
    hint = (f"take librosa.power_to_db(mel, top_db={cfg.top_db}) (dB relative to 1.0, at most "
            f"{cfg.top_db} dB below the loudest value), then scipy.fft.dct(..., type=2, norm='ortho', axis=0) "
            f"and keep the first {cfg.n_mfcc} rows.")
    feedback = compare_array("03.1", mfcc_by_hand, expected, what="mfcc_by_hand", rtol=1e-4, atol=2e-3,
                             hint=hint, praise="the MFCC is a DCT of the log-mel spectrum.", quiet=True)
    slip = None if feedback.right else _mfcc_slip(mfcc_by_hand, features["mel"], cfg, expected.shape)
    return wrong("03.1", slip, quiet=quiet) if slip else tell(feedback, quiet=quiet)


def _mfcc_slip(answer, mel, cfg, shape) -> str | None:
    """Name a usual mistake when ``answer`` matches it: no dB floor, no orthonormal DCT."""
    import librosa
    import scipy.fft

    try:
        value = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if value.shape != shape:
        return None
    n = shape[0]
    mel = np.asarray(mel, dtype=np.float32)
    slips = {
        "the dB values were not limited to top_db below the maximum: pass "
        f"top_db={cfg.top_db} to librosa.power_to_db (ml.features.power_to_db has no such limit).":
            scipy.fft.dct(librosa.power_to_db(mel, top_db=None), type=2, norm="ortho", axis=0)[:n],
        "the DCT is not orthonormal: pass norm='ortho' to scipy.fft.dct.":
            scipy.fft.dct(librosa.power_to_db(mel, top_db=cfg.top_db), type=2, axis=0)[:n],
        "the DCT ran along time: frequency (mel bands) runs down the rows, so use axis=0.":
            scipy.fft.dct(librosa.power_to_db(mel, top_db=cfg.top_db), type=2, norm="ortho", axis=1)[:n],
    }
    for text, wrong_value in slips.items():
        if wrong_value.shape == shape and np.allclose(value, wrong_value, rtol=1e-4, atol=2e-3):
            return f"mfcc_by_hand is off in one step — {text}"
    return None


@registers("03.2", "which family separates a timbre pair")
def check_better_family(better_family, table: pd.DataFrame, pair: Sequence[str],
                        families: Mapping[str, Sequence[str]], *, seed: int = 0,
                        quiet: bool = False) -> Feedback:
    """``better_family``: the name (a key of ``families``) of the family that separates ``pair`` best.

    Scored as in the notebook: ``ml.baselines.pair_separability`` (a logistic regression per
    family, grouped cross-validation on the train and valid rows of the two labels).
    """
    from ..baselines import pair_separability

    names = list(families)
    scores = pair_separability(table, [tuple(pair)], families, seed=seed).iloc[0]
    expected = str(scores.idxmax())
    listing = ", ".join(f"{name} {scores[name]:.2f}" for name in names)
    return compare_choice(
        "03.2", better_family, expected, names, what="better_family",
        because=f"cross-validated accuracy on {pair[0]} / {pair[1]}: {listing} (0.5 is chance).",
        hint="run ml.baselines.pair_separability on this pair with these families (seed=SEED) "
             "and take the column with the highest accuracy.", quiet=quiet)


@registers("03.3", "smallest sufficient feature set of a forward selection")
def check_smallest_set(smallest_set, selection: pd.DataFrame, *, quiet: bool = False) -> Feedback:
    """``smallest_set``: the groups (a list of names) up to the first ``sufficient`` step of ``selection``.

    ``selection`` is the table ``ml.baselines.forward_selection`` returned (your run with
    the other model); order of the names is ignored.
    """
    if not isinstance(selection, pd.DataFrame) or not {"step", "added", "sufficient"} <= set(selection.columns):
        return wrong("03.3", f"selection should be the table ml.baselines.forward_selection returns, got "
                     f"{describe(selection)}.", quiet=quiet)
    first = selection[selection["sufficient"]].iloc[0]
    expected = selection["added"].iloc[: int(first["step"])].tolist()
    return compare_set(
        "03.3", smallest_set, expected, what="smallest_set",
        hint="take the first row whose sufficient column is True, and every group added up to that step "
             "(the added column, rows 1..step).", quiet=quiet)


@registers("03.4", "key-invariant chroma: rotate to the strongest pitch class")
def check_rotated_chroma(rotated, chroma_means, *, quiet: bool = False) -> Feedback:
    """``rotated``: each row of ``chroma_means`` rotated so its strongest pitch class comes first.

    ``chroma_means`` is ``(n_clips, 12)`` (e.g. ``table[chroma]``); the answer has the same
    shape, row ``i`` equal to ``np.roll(row_i, -np.argmax(row_i))``: column 0 the strongest
    pitch class, column k the pitch class k semitones above it.
    """
    values = np.asarray(chroma_means, dtype=np.float64)
    shift = values.argmax(axis=1)
    rows = np.arange(values.shape[1])
    expected = values[np.arange(len(values))[:, None], (rows[None, :] + shift[:, None]) % values.shape[1]]
    hint = "for each clip, np.roll(row, -np.argmax(row)): the strongest pitch class to column 0, order kept."
    feedback = compare_array("03.4", rotated, expected, what="rotated", rtol=1e-6, atol=1e-9, hint=hint,
                             praise="column k is now 'k semitones above the strongest pitch class', whatever "
                             "the key.", quiet=True)
    if feedback.status == "wrong":
        try:
            value = np.asarray(rotated, dtype=np.float64)
        except (TypeError, ValueError):
            value = None
        if value is not None and value.shape == values.shape:
            backwards = values[np.arange(len(values))[:, None], (rows[None, :] - shift[:, None]) % values.shape[1]]
            if np.allclose(value, backwards):
                return wrong("03.4", "rotated turned the wrong way: the strongest pitch class must land in "
                             "column 0; roll by -np.argmax(row), not +.", quiet=quiet)
            if np.allclose(value, -np.sort(-values, axis=1)):
                return wrong("03.4", "rotated is sorted, which throws away which interval each value sits "
                             "at; rotate (np.roll) instead, keeping the circular order of the pitch classes.",
                             quiet=quiet)
    return tell(feedback, quiet=quiet)


@registers("03.5", "the dense net with dropout, written by hand")
def check_dropout_net(model, sides, *, dropout: float = 0.3, quiet: bool = False) -> Feedback:
    """``model``: source 001's dense net 128-64-32 on ``sides.columns`` (the MFCC, chroma and
    mel means), with ``keras.layers.Dropout(dropout)`` after each hidden layer.

    ``sides`` is what ``ml.baselines.split_table(table, columns)`` returns. The checks are
    those of exercise 02.5 (input, normalisation, softmax output, parameters, one epoch of
    training) plus the Dropout layers.
    """
    from .spectral_features import check_dense_clip_model

    return check_dense_clip_model("03.5", model, sides, hidden_layers=3, dropout=dropout, quiet=quiet)
