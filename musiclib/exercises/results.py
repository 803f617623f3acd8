"""Checks for the exercises of notebook 07 · Results."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .feedback import Feedback, compare_array, compare_set, describe, registers, right, wrong

__all__ = ["check_most_efficient", "check_vote_gain", "check_within_noise"]


def _rows_ok(results: pd.DataFrame, columns: list[str]) -> bool:
    return isinstance(results, pd.DataFrame) and len(results) > 0 and set(columns) <= set(results.columns)


@registers("07.1", "best accuracy per parameter")
def check_most_efficient(most_efficient, results: pd.DataFrame, *, quiet: bool = False) -> Feedback:
    """``most_efficient``: the ``experiment`` name (a string) with the highest
    ``test_accuracy_recording / parameters`` in ``results`` (ties: any of them)."""
    columns = ["experiment", "test_accuracy_recording", "parameters"]
    if not _rows_ok(results, columns):
        return wrong("07.1", "the results table passed to the check has no experiments; run the cells of "
                     "sections 1-3 first.", quiet=quiet)
    names = results["experiment"].astype(str).tolist()
    if not isinstance(most_efficient, str):
        return wrong("07.1", f"most_efficient should be an experiment name (a string such as {names[0]!r}), "
                     f"got {describe(most_efficient)}; take results.loc[ratio.idxmax(), \"experiment\"].",
                     quiet=quiet)
    given = most_efficient.strip()
    if given not in names:
        return wrong("07.1", f"{given!r} is not an experiment of the table; copy a name from its "
                     "experiment column.", quiet=quiet)
    ratio = results["test_accuracy_recording"].astype(float) / results["parameters"].astype(float)
    winners = set(results.loc[np.isclose(ratio, ratio.max(), rtol=1e-9, atol=0), "experiment"].astype(str))
    if given in winners:
        row = results[results["experiment"].astype(str) == given].iloc[0]
        return right("07.1", f"{given}: {row['test_accuracy_recording']:.3f} accuracy with "
                     f"{int(row['parameters']):,} parameters ({1e4 * ratio.max():.3g} per 10,000 parameters).",
                     quiet=quiet)
    accurate = set(results.loc[results["test_accuracy_recording"] == results["test_accuracy_recording"].max(),
                               "experiment"].astype(str))
    smallest = set(results.loc[results["parameters"] == results["parameters"].min(), "experiment"].astype(str))
    if given in accurate:
        why = "that is the most accurate experiment, not the most accurate per parameter"
    elif given in smallest:
        why = "that is the smallest model, but not the one with the most accuracy per parameter"
    elif given == results.loc[ratio.idxmin(), "experiment"]:
        why = "that is the lowest ratio: take the largest (idxmax, not idxmin)"
    else:
        why = f"{given} does not have the highest ratio"
    return wrong("07.1", f"{why}; divide test_accuracy_recording by parameters and take the experiment of "
                 "the largest value.", quiet=quiet)


def _per_experiment(answer, results: pd.DataFrame):
    """A Series indexed by experiment names is aligned to the table's rows; anything else is
    taken in the table's row order."""
    if isinstance(answer, pd.Series) and set(map(str, answer.index)) == set(results["experiment"].astype(str)):
        return answer.set_axis(answer.index.map(str)).reindex(results["experiment"].astype(str)).to_numpy()
    if isinstance(answer, pd.Series):
        return answer.to_numpy()
    return answer


@registers("07.2", "what majority voting adds to segment accuracy")
def check_vote_gain(vote_gain, results: pd.DataFrame, *, quiet: bool = False) -> Feedback:
    """``vote_gain``: for every experiment, ``test_accuracy_recording_vote`` minus
    ``test_accuracy_segment`` (a fraction, not %), one value per row of ``results`` — a
    Series indexed by experiment, or an array in the table's row order."""
    columns = ["experiment", "test_accuracy_segment", "test_accuracy_recording_vote", "test_accuracy_recording"]
    if not _rows_ok(results, columns):
        return wrong("07.2", "the results table passed to the check has no experiments; run the cells of "
                     "sections 1-3 first.", quiet=quiet)
    if isinstance(vote_gain, (str, bytes)):
        return wrong("07.2", f"vote_gain should be numbers, one per experiment, got {describe(vote_gain)}; "
                     "subtract two columns of results.", quiet=quiet)
    value = _per_experiment(vote_gain, results)
    segment = results["test_accuracy_segment"].to_numpy(dtype=float)
    vote = results["test_accuracy_recording_vote"].to_numpy(dtype=float)
    mean_proba = results["test_accuracy_recording"].to_numpy(dtype=float)
    hint = "subtract the test_accuracy_segment column from the test_accuracy_recording_vote column."
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        array = None
    if (array is not None and array.shape == segment.shape and np.all(np.isfinite(array))
            and not np.allclose(array, vote - segment, atol=1e-9)):
        if np.allclose(array, segment - vote, atol=1e-9):
            return wrong("07.2", "the signs are reversed: a gain is recording-level (vote) minus segment "
                         "accuracy.", quiet=quiet)
        if np.allclose(array, mean_proba - segment, atol=1e-9):
            return wrong("07.2", "that is the gain of averaging probabilities (test_accuracy_recording); the "
                         "vote is in test_accuracy_recording_vote.", quiet=quiet)
        if np.allclose(array / 100, vote - segment, atol=1e-9):
            return wrong("07.2", "give the gain as a fraction of 1 (like the accuracy columns), not in %.",
                         quiet=quiet)
    gain = vote - segment
    return compare_array("07.2", value, gain, what="vote_gain", atol=1e-9, hint=hint, quiet=quiet,
                         praise=f"voting changes accuracy by {gain.min():+.3f} to {gain.max():+.3f} "
                         f"({int((gain > 1e-9).sum())} experiments gain, {int((np.abs(gain) <= 1e-9).sum())} "
                         "unchanged).")


@registers("07.3", "experiments within two standard errors of the best")
def check_within_noise(within_noise, results: pd.DataFrame, *, quiet: bool = False) -> Feedback:
    """``within_noise``: the names of the experiments whose ``test_accuracy_recording`` is at
    least ``p - 2 * sqrt(p * (1 - p) / n)``, with ``p`` the best recording accuracy and ``n``
    that best experiment's ``n_test_recordings`` (the best one included)."""
    columns = ["experiment", "test_accuracy_recording", "n_test_recordings"]
    if not _rows_ok(results, columns):
        return wrong("07.3", "the results table passed to the check has no experiments; run the cells of "
                     "sections 1-3 first.", quiet=quiet)
    accuracy = results["test_accuracy_recording"].astype(float)
    top = accuracy.idxmax()
    p, n = float(accuracy[top]), int(results.loc[top, "n_test_recordings"])
    se = math.sqrt(p * (1 - p) / n)
    expected = results.loc[accuracy >= p - 2 * se - 1e-12, "experiment"].astype(str)
    if isinstance(within_noise, pd.DataFrame) and "experiment" in within_noise:
        within_noise = within_noise["experiment"]
    return compare_set(
        "07.3", within_noise, expected, what="experiments within two standard errors of the best",
        hint=f"the standard error is sqrt(p * (1 - p) / n) with p = {p:.3f} (the best accuracy) and n = {n} "
             "(its n_test_recordings); keep every experiment whose test_accuracy_recording is at least "
             "p - 2 * se, the best one included.",
        praise=f"{len(expected)} of {len(results)} experiments lie within 2 x {se:.3f} of the best ({p:.3f}): "
               "one split cannot rank them.", quiet=quiet)
