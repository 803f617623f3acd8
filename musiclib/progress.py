"""Progress the reader can see anywhere: a live bar in a terminal, plain lines elsewhere.

A tqdm bar in a notebook is a widget: it needs JavaScript, and a notebook executed headless
(``make course``, nbmake) saves it frozen at 0%. :func:`progress` therefore draws tqdm's
live bar only where a person watches a terminal (``sys.stderr`` is a TTY) and otherwise
prints a few plain lines (:class:`TextProgress`): in a notebook (on stdout, so not in a red
stderr box), in logs and in CI. ``MUSICLIB_PROGRESS`` overrides the choice: ``bar``,
``text`` or ``off``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable

ENV_PROGRESS = "MUSICLIB_PROGRESS"
MODES = ("bar", "text", "off")


def mode() -> str:
    """``"bar"``, ``"text"`` or ``"off"``: ``$MUSICLIB_PROGRESS``, else bar on a terminal."""
    chosen = os.environ.get(ENV_PROGRESS, "").strip().lower()
    if chosen in MODES:
        return chosen
    try:
        return "bar" if sys.stderr.isatty() else "text"
    except (AttributeError, ValueError):  # no stderr, or a closed one
        return "text"


class TextProgress:
    """Progress as a few whole lines: ``features: 120/480 clips (25%), 3.2 s``.

    A line each time another ``step`` of the work is done, at most one per ``min_interval``
    seconds, and always one at the end; a run shorter than ``min_interval`` prints only the
    last. Accepts what the course calls on a tqdm bar: ``update``, ``close``, iteration and
    ``with``.
    """

    def __init__(self, iterable: Iterable | None = None, *, total: int | None = None,
                 desc: str = "", unit: str = "it", initial: int = 0, file=None,
                 step: float = 0.1, min_interval: float = 10.0):
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.iterable = iterable
        self.total = total
        self.desc = desc
        self.unit = unit
        self.n = int(initial)
        self.initial = int(initial)
        self.file = file
        self.step = step
        self.min_interval = min_interval
        self.start = time.perf_counter()
        self._last_line = self.start
        self._steps = max(1, round(1 / step))  # a line each time n crosses k * total / steps
        self._last_step = self._step_of(self.n)
        self._closed = False

    def _stream(self):
        if self.file is not None:
            return self.file
        # in a notebook stdout reads as ordinary output; elsewhere progress goes where tqdm's does
        return sys.stdout if type(sys.stderr).__module__.startswith("ipykernel") else sys.stderr

    def _line(self) -> str:
        units = self.unit if self.unit.endswith("s") else f"{self.unit}s"
        done = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        percent = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        elapsed = time.perf_counter() - self.start
        label = f"{self.desc}: " if self.desc else ""
        return f"{label}{done} {units}{percent}, {elapsed:.1f} s"

    def _step_of(self, n: int) -> int:
        return n * self._steps // self.total if self.total else 0

    def _print(self) -> None:
        stream = self._stream()
        print(self._line(), file=stream, flush=True)
        self._last_line = time.perf_counter()

    def update(self, n: int = 1) -> None:
        self.n += n
        if not self.total:
            return
        step = self._step_of(self.n)
        if step > self._last_step and time.perf_counter() - self._last_line >= self.min_interval:
            self._last_step = step
            if self.n < self.total:  # the last line is close()'s
                self._print()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._print()

    def refresh(self) -> None:  # tqdm's API; lines are printed by update and close
        pass

    def __iter__(self):
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "",
             unit: str = "it", initial: int = 0, disable: bool = False):
    """A progress tracker for ``iterable`` (or ``total`` steps): a tqdm bar or text lines.

    Parameters
    ----------
    iterable : iterable, optional
        Wrap it: iterating advances the progress.
    total, desc, unit, initial
        As tqdm's.
    disable : bool
        No output at all (the caller's ``progress=False``).
    """
    chosen = "off" if disable else mode()
    if chosen == "text":
        return TextProgress(iterable, total=total, desc=desc, unit=unit, initial=initial)
    from tqdm.std import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, initial=initial, disable=chosen == "off")
