"""The one-line feedback every exercise check gives, and the comparisons checks share.

A check answers in one friendly line, printed where it is called, in one of three voices:

* ``right``   — ``"✓ Exercise 02.1: right — ..."``
* ``wrong``   — ``"✗ Exercise 02.1: not yet — <what differs>; <what to look at>."``
* ``missing`` — ``"… Exercise 02.1: no answer yet — replace the ... in the cell above ..."``

A learner's notebook starts with every answer set to ``...`` (Python's ``Ellipsis``; that is
what the student version of a notebook leaves in place of a solution), so a check must
report a missing answer rather than crash on it. Checks never raise on a wrong answer,
whatever its type: a learner's typo is feedback, not a traceback.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

RIGHT, WRONG, MISSING = "right", "wrong", "missing"
_MARK = {RIGHT: "✓", WRONG: "✗", MISSING: "…"}


@dataclass(frozen=True)
class Feedback:
    """What a check says about one answer.

    Attributes
    ----------
    exercise : str
        ``"NN.k"``: notebook NN, exercise k.
    status : str
        ``"right"``, ``"wrong"`` or ``"missing"``.
    message : str
        The explanation after the status, one line.
    """

    exercise: str
    status: str
    message: str

    @property
    def right(self) -> bool:
        return self.status == RIGHT

    @property
    def missing(self) -> bool:
        return self.status == MISSING

    def __str__(self) -> str:
        voice = {RIGHT: "right", WRONG: "not yet", MISSING: "no answer yet"}[self.status]
        return f"{_MARK[self.status]} Exercise {self.exercise}: {voice} — {self.message}"

    def _ipython_display_(self) -> None:
        # The check printed the line already; showing the returned object again as Out[n]
        # would repeat it.
        return None


@dataclass(frozen=True)
class Exercise:
    """A registered check: which notebook and exercise it belongs to, and what it asks."""

    exercise: str
    title: str
    check: Callable[..., Feedback]

    @property
    def notebook(self) -> str:
        return self.exercise.split(".")[0]


REGISTRY: dict[str, Exercise] = {}


def registers(exercise: str, title: str):
    """Decorator: record a check function under its exercise number (``"02.1"``).

    The registered check reports "no answer yet", naming them, when any of its arguments is
    still ``...``: the answer itself, or something else the learner was to build (a model,
    a folder) that the student version also leaves as ``...``. The check's own body never
    sees a placeholder.
    """

    def wrap(func: Callable[..., Feedback]) -> Callable[..., Feedback]:
        if exercise in REGISTRY:
            first = REGISTRY[exercise].check.__name__
            raise ValueError(f"exercise {exercise} has two checks: {first}, {func.__name__}")
        signature = inspect.signature(func)

        @functools.wraps(func)
        def check(*args, **kwargs) -> Feedback:
            given = signature.bind(*args, **kwargs).arguments
            lacking = [name for name, value in given.items() if is_missing(value)]
            if lacking:
                return missing(exercise, " and ".join(lacking), quiet=bool(given.get("quiet", False)))
            return func(*args, **kwargs)

        REGISTRY[exercise] = Exercise(exercise, title, check)
        return check

    return wrap


def is_missing(answer) -> bool:
    """True for the placeholder of an unanswered exercise (``...``), also inside a tuple."""
    if answer is Ellipsis:
        return True
    return isinstance(answer, tuple) and any(a is Ellipsis for a in answer)


def say(exercise: str, status: str, message: str, *, quiet: bool = False) -> Feedback:
    """Make the feedback, print its line (unless ``quiet``) and return it."""
    message = " ".join(str(message).split())  # always one line
    return tell(Feedback(exercise, status, message), quiet=quiet)


def tell(feedback: Feedback, *, quiet: bool = False) -> Feedback:
    """Print a feedback made quietly (unless ``quiet``) and return it."""
    if not quiet:
        print(feedback)
    return feedback


def verdict(exercise: str, parts: Iterable[Feedback], praise: str, *, quiet: bool = False) -> Feedback:
    """The feedback on an answer in several parts: the first part that is not right, else ``praise``.

    ``parts`` are the quiet comparisons of each part, in the order the learner should fix them.
    """
    for part in parts:
        if not part.right:
            return tell(part, quiet=quiet)
    return right(exercise, praise, quiet=quiet)


def missing(exercise: str, what: str = "your answer", *, quiet: bool = False) -> Feedback:
    """The feedback for an answer still set to ``...``."""
    return say(exercise, MISSING,
               f"replace the ... in the cell above with {what}, run that cell, then this one.", quiet=quiet)


def right(exercise: str, message: str, *, quiet: bool = False) -> Feedback:
    return say(exercise, RIGHT, message, quiet=quiet)


def wrong(exercise: str, message: str, *, quiet: bool = False) -> Feedback:
    return say(exercise, WRONG, message, quiet=quiet)


def as_number(answer) -> float | None:
    """The answer as a float, or None when it is not one number (a list, a string, ...)."""
    if answer is None or isinstance(answer, (bool, np.bool_, str, bytes)):
        return None
    try:
        value = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return None
    if value.size != 1:
        return None
    return float(value.reshape(()))


def _praised(message: str, praise: str) -> str:
    """The right-answer line of a comparison, with the check's own remark appended."""
    return f"{message[:-1]} — {praise}" if praise else message


def describe(answer) -> str:
    """A short repr of an answer for a feedback line (at most 40 characters)."""
    text = repr(answer)
    return text if len(text) <= 40 else text[:37] + "..."


def compare_number(
    exercise: str,
    answer,
    expected: float,
    *,
    what: str,
    unit: str = "",
    rtol: float = 0.01,
    atol: float = 0.0,
    hint: str,
    praise: str = "",
    quiet: bool = False,
) -> Feedback:
    """Check a numeric answer against ``expected`` within ``rtol``/``atol``.

    The wrong-answer line says how far off the answer is and, when it is off by a round
    factor (1000, 60, 2, ...), suggests the usual mistake: units or a missing division.
    ``praise`` (in this and the other comparisons) is appended to the right-answer line: what
    the right answer means.
    """
    if is_missing(answer):
        return missing(exercise, what, quiet=quiet)
    value = as_number(answer)
    if value is None:
        return wrong(exercise, f"{what} should be one number, got {describe(answer)}; {hint}", quiet=quiet)
    unit_text = f" {unit}" if unit else ""
    if not math.isfinite(value):
        return wrong(exercise, f"{what} is {value}; look for a division by zero or a log of 0. {hint}",
                     quiet=quiet)
    if math.isclose(value, expected, rel_tol=rtol, abs_tol=atol):
        return right(exercise, _praised(f"{what} = {value:.6g}{unit_text}.", praise), quiet=quiet)
    factor = _round_factor(value, expected)
    why = f" (off by a factor of {factor}: check the units and what you divide by)" if factor else ""
    return wrong(exercise, f"{what} = {value:.6g}{unit_text} is not it{why}; {hint}", quiet=quiet)


def _round_factor(value: float, expected: float) -> str:
    if value == 0 or expected == 0:
        return ""
    ratio = value / expected
    for factor in (1000, 100, 60, 10, 2):
        for r, text in ((ratio, f"{factor}"), (1 / ratio, f"1/{factor}")):
            if math.isclose(r, factor, rel_tol=0.02):
                return text
    return ""


def compare_array(
    exercise: str,
    answer,
    expected: np.ndarray,
    *,
    what: str,
    rtol: float = 1e-4,
    atol: float = 1e-6,
    hint: str,
    praise: str = "",
    quiet: bool = False,
) -> Feedback:
    """Check an array answer: type, shape (a transposed answer is named as such), values."""
    if is_missing(answer):
        return missing(exercise, what, quiet=quiet)
    try:
        value = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return wrong(exercise, f"{what} should be an array of numbers, got {describe(answer)}; {hint}",
                     quiet=quiet)
    expected = np.asarray(expected, dtype=float)
    squeezed = value.squeeze() if value.size == expected.size else value
    if squeezed.shape != expected.squeeze().shape:
        transposed = value.ndim == 2 and value.T.shape == expected.shape
        why = " — transposed? rows and columns are swapped" if transposed else ""
        return wrong(exercise, f"{what} has shape {value.shape}, expected {expected.shape}{why}; {hint}",
                     quiet=quiet)
    squeezed = squeezed.reshape(expected.shape)
    if not np.all(np.isfinite(squeezed)):
        return wrong(exercise, f"{what} contains NaN or infinite values; look for a division by zero or a log of 0. "
                     f"{hint}", quiet=quiet)
    if np.allclose(squeezed, expected, rtol=rtol, atol=atol):
        return right(exercise, _praised(f"{what} matches, shape {expected.shape}.", praise), quiet=quiet)
    worst = float(np.max(np.abs(squeezed - expected)))
    close = np.isclose(squeezed, expected, rtol=rtol, atol=atol).mean()
    return wrong(exercise, f"{what} differs from the reference by up to {worst:.4g} "
                 f"({close:.0%} of values match); {hint}", quiet=quiet)


def compare_choice(
    exercise: str,
    answer,
    expected: str,
    options: Iterable[str],
    *,
    what: str,
    because: str,
    hint: str,
    quiet: bool = False,
) -> Feedback:
    """Check a one-of-several answer (a label, a feature name), case and spaces ignored."""
    options = list(options)
    if is_missing(answer):
        return missing(exercise, what, quiet=quiet)
    if not isinstance(answer, str):
        return wrong(exercise, f"{what} should be a string, one of {', '.join(options)}; got {describe(answer)}",
                     quiet=quiet)
    given = answer.strip().lower()
    if given not in {o.lower() for o in options}:
        return wrong(exercise, f"{answer!r} is not one of {', '.join(options)}; check the spelling.", quiet=quiet)
    if given == expected.lower():
        return right(exercise, f"{expected}: {because}", quiet=quiet)
    return wrong(exercise, f"it is not {answer}; {hint}", quiet=quiet)


def compare_set(
    exercise: str,
    answer,
    expected: Iterable,
    *,
    what: str,
    hint: str,
    praise: str = "",
    quiet: bool = False,
) -> Feedback:
    """Check an answer that is a collection (list, set, Series, Index) of names, order ignored."""
    if is_missing(answer):
        return missing(exercise, what, quiet=quiet)
    if isinstance(answer, (str, bytes)) or not isinstance(answer, Iterable):
        return wrong(exercise, f"{what} should be a collection (a list or a set), got {describe(answer)}; {hint}",
                     quiet=quiet)
    given, expected = {str(a) for a in answer}, {str(e) for e in expected}
    if given == expected:
        return right(exercise, _praised(f"{what}: all {len(expected)} found.", praise), quiet=quiet)
    lacking, extra = sorted(expected - given), sorted(given - expected)
    parts = []
    if lacking:
        parts.append(f"{len(lacking)} missing (e.g. {lacking[0]})")
    if extra:
        parts.append(f"{len(extra)} that should not be there (e.g. {extra[0]})")
    return wrong(exercise, f"{what}: {' and '.join(parts)}; {hint}", quiet=quiet)
