"""Exception types of musiclib.

Every error that a learner or a CLI user can cause carries a one-line message that names the
file (or dataset) and the reason, so a batch can report it and go on with the good files.
"""

from __future__ import annotations

from pathlib import Path


class MusiclibError(Exception):
    """Base class of every error musiclib raises on purpose."""


class AudioFileError(MusiclibError):
    """An audio file that cannot be used.

    Parameters
    ----------
    path : str or Path
        The file.
    reason : str
        Why it cannot be used, in a few words ("empty file", "not audio: ...",
        "non-finite samples", "truncated: ...", "too short: ...").

    The message is ``"<path>: <reason>"`` on one line.
    """

    def __init__(self, path: str | Path, reason: str):
        self.path = Path(path)
        self.reason = " ".join(str(reason).split())  # always one line
        super().__init__(f"{self.path}: {self.reason}")


class DatasetError(MusiclibError):
    """A dataset that cannot be used at all (missing folder, no usable file, no labels)."""


class LeakageError(MusiclibError):
    """A recording or group that appears on two sides of a split."""
