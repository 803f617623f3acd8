"""musiclib.safe_write: a writer killed at any step leaves the old content or the new, never neither."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from musiclib import safe_write

FILE_STEPS = ["file-opened", "file-written", "file-renamed"]
FOLDER_STEPS = ["folder-created", "folder-filled", "old-set-aside", "new-in-place", "old-removed"]

_KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from musiclib import safe_write

    kind, step, target = sys.argv[1:4]

    def checkpoint(name):
        if name == step:
            os.kill(os.getpid(), signal.SIGKILL)

    safe_write._checkpoint = checkpoint
    if kind == "file":
        safe_write.write_file(target, lambda fh: [fh.write(b"new-" * 1000), fh.flush()])
    else:
        def fill(tmp):
            (tmp / "a.txt").write_text("new")
            (tmp / "b.txt").write_text("new")
        safe_write.replace_folder(target, fill)
    """
)


def _run_killed(kind: str, step: str, target: Path) -> int:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", _KILLED_WRITER, kind, step, str(target)], env=env, timeout=120)
    return done.returncode


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("step", FILE_STEPS)
@pytest.mark.parametrize("existed", [True, False])
def test_file_killed_at_each_step_is_old_or_new(tmp_path, step, existed):
    target = tmp_path / "table.csv"
    if existed:
        target.write_bytes(b"old")
    assert _run_killed("file", step, target) == -signal.SIGKILL  # it did reach the step
    content = target.read_bytes() if target.exists() else None
    assert content in ({b"old", b"new-" * 1000} if existed else {None, b"new-" * 1000})
    if step == "file-renamed":
        assert content == b"new-" * 1000
    assert safe_write.clean_stale(tmp_path) == (1 if step != "file-renamed" else 0)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("step", FOLDER_STEPS)
@pytest.mark.parametrize("existed", [True, False])
def test_folder_killed_at_each_step_is_old_or_new(tmp_path, step, existed):
    target = tmp_path / "model"
    if existed:
        target.mkdir()
        (target / "a.txt").write_text("old")
    code = _run_killed("folder", step, target)
    if not existed and step == "old-set-aside":
        assert code == 0  # nothing to set aside: the writer never stops there
    else:
        assert code == -signal.SIGKILL
    assert safe_write.recover_folder(target) == (target if existed or step in ("new-in-place", "old-removed")
                                                 or code == 0 else None)
    if target.exists():
        names = sorted(p.name for p in target.iterdir())
        a = (target / "a.txt").read_text()
        assert (a, names) in ([("old", ["a.txt"])] if existed else []) + [("new", ["a.txt", "b.txt"])]
    else:
        assert not existed  # a folder that existed is never lost
    if step in ("new-in-place", "old-removed") or code == 0:
        assert (target / "b.txt").exists()  # past the rename, the new folder stays
    assert _leftovers(tmp_path) == []


def test_fill_that_raises_leaves_the_old_folder(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "a.txt").write_text("old")

    def fill(tmp):
        (tmp / "a.txt").write_text("new")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        safe_write.replace_folder(target, fill)
    assert (target / "a.txt").read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_a_live_writers_set_aside_folder_is_left_alone(tmp_path):
    """While a writer (here: this process) is between its two renames, a reader must not
    put the old folder back, or the writer's rename would fail."""
    target = tmp_path / "model"
    old = safe_write._sibling(target, safe_write.OLD_MARK)
    old.mkdir()
    assert safe_write.recover_folder(target) is None
    assert old.is_dir()


def test_write_helpers_round_trip(tmp_path):
    import pandas as pd

    safe_write.write_json(tmp_path / "a" / "x.json", {"k": [1, 2]})
    assert (tmp_path / "a" / "x.json").read_text() == '{\n "k": [\n  1,\n  2\n ]\n}\n'
    safe_write.write_csv(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == "a\n1\n"
    safe_write.write_text(tmp_path / "t.txt", "é")
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "é"


def test_temporary_file_renames_on_success_and_removes_on_error(tmp_path):
    target = tmp_path / "sub" / "x.bin"
    with safe_write.temporary_file(target) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(".x.bin.tmp-")
        tmp.write_bytes(b"new")
        assert not target.exists()  # nothing visible until the block ends
    assert target.read_bytes() == b"new"
    with pytest.raises(RuntimeError):
        with safe_write.temporary_file(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["x.bin"]


# ------------------------------------------------------------------ folders with a marker


def _fill_with(params, text="mine"):
    def fill(folder):
        (folder / "a.txt").write_text(text)
        (folder / "done.json").write_text(json.dumps({"params": params, "files": ["a.txt"]}))
    return fill


def test_build_folder_builds_once_and_keeps_a_finished_build(tmp_path):
    target = tmp_path / "built"
    assert safe_write.build_folder(target, _fill_with({"n": 1}), marker="done.json", params={"n": 1})
    assert safe_write.is_finished(target, "done.json", params={"n": 1})
    assert not safe_write.build_folder(target, _fill_with({"n": 1}, "again"), marker="done.json", params={"n": 1})
    assert (target / "a.txt").read_text() == "mine"
    (target / "a.txt").unlink()  # a listed file missing: not finished, built again
    assert not safe_write.is_finished(target, "done.json")
    assert safe_write.build_folder(target, _fill_with({"n": 1}, "new"), marker="done.json", params={"n": 1})
    assert (target / "a.txt").read_text() == "new"
    assert safe_write.build_folder(target, _fill_with({"n": 2}, "two"), marker="done.json", params={"n": 2})
    assert safe_write.read_marker(target, "done.json")["params"] == {"n": 2}


def test_build_folder_keeps_the_copy_another_process_finished_first(tmp_path):
    target = tmp_path / "built"

    def fill(folder):
        _fill_with({"n": 1}, "theirs")(target.mkdir() or target)  # another writer finishes first
        _fill_with({"n": 1}, "ours")(folder)

    assert not safe_write.build_folder(target, fill, marker="done.json", params={"n": 1})
    assert (target / "a.txt").read_text() == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["built"]  # our temporary copy is gone
