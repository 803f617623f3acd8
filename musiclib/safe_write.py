"""Writing files and folders so that a reader never finds half of one.

Every file musiclib writes (features in the cache, CSV tables, WAV files, executed
notebooks, model bundles, the synthetic dataset) goes through this module:

- :func:`write_file` writes a hidden temporary sibling and renames it over the target
  (``os.replace`` is atomic on one file system): a reader finds the old file or the new
  one, and a killed writer leaves at most a temporary file, which :func:`clean_stale`
  removes once its writer is dead. :func:`temporary_file` does the same for writers that
  need a file name (a ``np.memmap``).
- :func:`replace_folder` builds a whole folder under a temporary name, sets the old one
  aside, renames the new one in and then deletes the old one. A kill between "set aside"
  and "rename in" leaves no folder under the target name for a moment; the next
  :func:`recover_folder` (which every loader of such a folder calls) renames the set-aside
  copy back. So after a kill at any step the next load finds the old folder or the new
  one, never neither (``tests/test_safe_write.py`` kills a writer at each step).

Temporary and set-aside names carry the host and the writer's process id
(``.<name>.tmp-<host>-<pid>-<random>``, ``.<name>.old-<host>-<pid>-<random>``), so a
cleaner on the same host can tell a live writer's files from a dead one's.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

HOST = socket.gethostname().replace("-", "_")
TMP_MARK = ".tmp-"
OLD_MARK = ".old-"
STALE_AFTER_S = 24 * 3600.0
"""A temporary file written on another host counts as abandoned after this many seconds."""


def _checkpoint(step: str) -> None:
    """A no-op marking each step of a write; the kill test replaces it to stop a writer there."""


def _sibling(path: Path, mark: str) -> Path:
    return path.with_name(f".{path.name}{mark}{HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def temporary_name(path: str | os.PathLike) -> Path:
    """A hidden, unique sibling of ``path`` to write into before renaming it over ``path``."""
    return _sibling(Path(path), TMP_MARK)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (``True`` when we may not ask)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists but belongs to someone else
        return True
    return True


def _writer(name: str, mark: str) -> tuple[str, int] | None:
    """``(host, pid)`` encoded in a temporary or set-aside name, or None."""
    parts = name.rsplit(mark, 1)[-1].split("-")
    if len(parts) == 3 and parts[1].isdigit():
        return parts[0], int(parts[1])
    return None


def is_abandoned(path: str | os.PathLike, *, now: float | None = None) -> bool:
    """Whether a temporary or set-aside file or folder was left by a writer that is gone.

    On this host: its writer's process is dead (and it is not this process). From another
    host: it is older than :data:`STALE_AFTER_S`.
    """
    path = Path(path)
    mark = OLD_MARK if OLD_MARK in path.name else TMP_MARK
    writer = _writer(path.name, mark)
    if writer is not None and writer[0] == HOST:
        return writer[1] != os.getpid() and not pid_alive(writer[1])
    try:
        return (now or time.time()) - path.stat().st_mtime > STALE_AFTER_S
    except OSError:
        return False


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def clean_stale(folder: str | os.PathLike) -> int:
    """Remove the temporary files and folders that killed writers left in ``folder`` and below.

    Set-aside folders (``.old-``) are left to :func:`recover_folder`, which may still need
    them. Returns how many entries were removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    now = time.time()
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in list(dirnames) + list(filenames):
            if TMP_MARK in name and name.startswith("."):
                p = Path(dirpath) / name
                if is_abandoned(p, now=now):
                    _remove(p)
                    removed += 1
                    if name in dirnames:
                        dirnames.remove(name)
    return removed


@contextlib.contextmanager
def temporary_file(path: str | os.PathLike) -> Iterator[Path]:
    """Context giving a temporary sibling of ``path`` to write; renamed over ``path`` at the end.

    For writers that need a file name rather than an open file (``np.lib.format.open_memmap``,
    libraries that write by name). When the block ends normally the temporary file is
    renamed over ``path`` (``os.replace``); when it raises, the temporary file is removed.
    Close (or, for a memmap, delete) what writes to it before the block ends. The parent
    folder is created.

    Example: ``with temporary_file("x.npy") as tmp: X = open_memmap(tmp, ...); ...; del X``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        yield tmp
        _checkpoint("file-written")
        os.replace(tmp, path)
        _checkpoint("file-renamed")
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_file(path: str | os.PathLike, content: bytes | str | Callable[[BinaryIO], object]) -> Path:
    """Write ``path`` all or nothing: into a temporary sibling, then ``os.replace``.

    ``content`` is bytes, text (written as UTF-8) or a function that writes to an open
    binary file, e.g. ``lambda fh: np.save(fh, array)``. The parent folder is created.
    Returns ``path``.
    """
    with temporary_file(path) as tmp:
        with open(tmp, "wb") as fh:
            _checkpoint("file-opened")
            if isinstance(content, str):
                fh.write(content.encode("utf-8"))
            elif isinstance(content, (bytes, bytearray, memoryview)):
                fh.write(content)
            else:
                content(fh)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """:func:`write_file` for text (UTF-8)."""
    return write_file(path, text)


def write_json(path: str | os.PathLike, data, *, indent: int = 1) -> Path:
    """:func:`write_file` for a JSON document (with a trailing newline)."""
    return write_file(path, json.dumps(data, indent=indent) + "\n")


def write_csv(frame, path: str | os.PathLike, **to_csv) -> Path:
    """:func:`write_file` for a pandas DataFrame; ``to_csv`` defaults to ``index=False``."""
    to_csv.setdefault("index", False)
    return write_file(path, frame.to_csv(**to_csv))


def _set_aside(folder: Path) -> list[Path]:
    """Sibling copies of ``folder`` set aside by writers, newest first."""
    olds = [p for p in folder.parent.glob(f".{folder.name}{OLD_MARK}*") if p.is_dir()]
    return sorted(olds, key=lambda p: p.stat().st_mtime, reverse=True)


def recover_folder(folder: str | os.PathLike) -> Path | None:
    """Undo what a killed :func:`replace_folder` left; call it before reading ``folder``.

    When ``folder`` is missing and a dead writer set a copy of it aside, that copy is
    renamed back. Abandoned set-aside and temporary siblings are removed. Returns
    ``folder`` when it exists afterwards, else None.
    """
    folder = Path(folder)
    if not folder.parent.is_dir():
        return None
    for old in _set_aside(folder):
        if not is_abandoned(old):
            continue  # a live writer's: it renames its new folder in and deletes this
        if not folder.exists():
            try:
                os.replace(old, folder)
            except OSError:
                pass  # another reader restored a copy first; this one goes on the next call
            continue
        _remove(old)
    for tmp in folder.parent.glob(f".{folder.name}{TMP_MARK}*"):
        if is_abandoned(tmp):
            _remove(tmp)
    return folder if folder.exists() else None


def replace_folder(folder: str | os.PathLike, fill: Callable[[Path], object]) -> Path:
    """Build a folder with ``fill(tmp_folder)`` and put it in place of ``folder``.

    Steps: make a temporary sibling; ``fill`` it; set the old ``folder`` aside (rename);
    rename the new one in; delete the old one. If ``fill`` raises, nothing changes. A
    reader that calls :func:`recover_folder` first finds the old folder or the new one
    after a kill at any step. Returns ``folder``.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    recover_folder(folder)
    tmp = _sibling(folder, TMP_MARK)
    tmp.mkdir()
    set_aside: list[Path] = []
    try:
        _checkpoint("folder-created")
        fill(tmp)
        _checkpoint("folder-filled")
        for attempt in range(5):
            if folder.exists():
                old = _sibling(folder, OLD_MARK)
                os.replace(folder, old)
                set_aside.append(old)
                _checkpoint("old-set-aside")
            try:
                os.replace(tmp, folder)
                break
            except OSError:
                # another writer renamed its folder in between: set that one aside too
                if attempt == 4 or not folder.exists():
                    raise
        _checkpoint("new-in-place")
    except BaseException:
        if set_aside and not folder.exists():
            os.replace(set_aside.pop(0), folder)  # put the old folder back
        shutil.rmtree(tmp, ignore_errors=True)
        for old in set_aside:
            shutil.rmtree(old, ignore_errors=True)
        raise
    for old in set_aside:
        shutil.rmtree(old, ignore_errors=True)
    _checkpoint("old-removed")
    return folder


# ---------------------------------------------------------------------------------------
# Folders that carry a marker: the built-in datasets


def read_marker(folder: str | os.PathLike, name: str) -> dict | None:
    """The JSON marker a finished folder carries (written last), or None if it has none.

    A marker is a JSON object with ``params`` (what the folder was built from) and ``files``
    (the files it holds: relative paths, or objects with a ``path``).
    """
    try:
        with open(Path(folder) / name, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and "params" in meta else None


def is_finished(folder: str | os.PathLike, name: str, *, params: dict | None = None) -> bool:
    """Whether ``folder`` holds a finished build: its marker ``name`` and every file it lists.

    A writer killed in the middle of :func:`replace_folder` is undone first
    (:func:`recover_folder`). With ``params``, the marker's must equal them.
    """
    folder = Path(folder)
    recover_folder(folder)
    meta = read_marker(folder, name)
    if meta is None or (params is not None and meta["params"] != params):
        return False
    return all((folder / (f if isinstance(f, str) else f["path"])).is_file() for f in meta.get("files", []))


class _FinishedByAnother(Exception):
    """Raised inside a build when another process finished the same folder first."""


def build_folder(folder: str | os.PathLike, fill: Callable[[Path], object], *, marker: str,
                 params: dict) -> bool:
    """Build ``folder`` with ``fill`` (which writes the marker last) unless it is finished.

    Nothing happens when ``folder`` already holds a finished build of ``params``
    (:func:`is_finished`). Otherwise the folder is built under a temporary name and put in
    place (:func:`replace_folder`); if another process finishes the same build meanwhile,
    its copy is kept and ours is dropped.

    Returns
    -------
    bool
        True when this call built the folder.
    """
    if is_finished(folder, marker, params=params):  # or by an earlier call of this process
        return False

    def fill_unless_finished(tmp: Path) -> None:
        fill(tmp)
        if is_finished(folder, marker, params=params):
            raise _FinishedByAnother  # keep theirs: nothing to swap

    try:
        replace_folder(folder, fill_unless_finished)
    except _FinishedByAnother:
        return False
    except OSError:
        if not is_finished(folder, marker, params=params):
            raise
        return False
    return True


__all__ = [
    "HOST",
    "STALE_AFTER_S",
    "TMP_MARK",
    "build_folder",
    "clean_stale",
    "is_abandoned",
    "is_finished",
    "pid_alive",
    "read_marker",
    "recover_folder",
    "replace_folder",
    "temporary_file",
    "temporary_name",
    "write_csv",
    "write_file",
    "write_json",
    "write_text",
]
