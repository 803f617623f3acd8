"""The exercise checks: one friendly line, right / not yet / no answer yet, never a traceback.

Checks of notebooks 02-09 have their own files (test_exercises_<topic>.py); this one covers
the shared feedback helpers, notebooks 00-01, and that notebooks and checks agree.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import musiclib as ml
from musiclib.exercises import feedback as fb

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


# --- the feedback line --------------------------------------------------------------------------


def test_feedback_prints_one_line_and_reports_status(capsys):
    result = fb.right("01.1", "duration_s = 4 s.\nsecond line")
    printed = capsys.readouterr().out
    assert printed == "✓ Exercise 01.1: right — duration_s = 4 s. second line\n"
    assert result.right and not result.missing and result.status == "right"
    assert str(fb.wrong("01.1", "x", quiet=True)).startswith("✗ Exercise 01.1: not yet — x")
    assert str(fb.missing("01.1", quiet=True)).startswith("… Exercise 01.1: no answer yet — replace the ...")
    assert capsys.readouterr().out == ""  # quiet prints nothing


def test_is_missing():
    assert fb.is_missing(...) and fb.is_missing((1, ...))
    assert not fb.is_missing(None) and not fb.is_missing(0) and not fb.is_missing(np.zeros(3))


@pytest.mark.parametrize("answer, status, words", [
    (...,          "missing", "no answer yet"),
    (2.0,          "right",   "x = 2"),
    (np.float32(2.0), "right", "x = 2"),
    (np.array([2.0]), "right", "x = 2"),
    (2000.0,       "wrong",   "factor of 1000"),
    (1.0,          "wrong",   "factor of 1/2"),
    (3.3,          "wrong",   "is not it; the hint"),
    ("2",          "wrong",   "should be one number, got '2'"),
    ([1, 2],       "wrong",   "should be one number"),
    (None,         "wrong",   "should be one number"),
    (float("nan"), "wrong",   "division by zero"),
    (True,         "wrong",   "should be one number"),
])
def test_compare_number(answer, status, words):
    result = fb.compare_number("99.1", answer, 2.0, what="x", hint="the hint.", quiet=True)
    assert result.status == status and words in str(result), str(result)


@pytest.mark.parametrize("answer, status, words", [
    (np.arange(6.0).reshape(2, 3), "right", "matches, shape (2, 3)"),
    (np.arange(6.0).reshape(2, 3)[None], "right", "matches"),  # an extra axis of length 1 is fine
    (np.arange(6.0).reshape(2, 3).T, "wrong", "transposed"),
    (np.arange(6.0).reshape(2, 3) + 0.5, "wrong", "differs from the reference by up to 0.5"),
    (np.full((2, 3), np.nan), "wrong", "NaN"),
    (np.arange(4.0), "wrong", "has shape (4,), expected (2, 3)"),
    ("abc", "wrong", "array of numbers"),
    (..., "missing", "no answer yet"),
])
def test_compare_array(answer, status, words):
    result = fb.compare_array("99.2", answer, np.arange(6.0).reshape(2, 3), what="S", hint="h.", quiet=True)
    assert result.status == status and words in str(result), str(result)


def test_compare_set_and_choice():
    expected = ["a", "b", "c"]
    assert fb.compare_set("99.3", pd.Series(["c", "b", "a"]), expected, what="w", hint="h", quiet=True).right
    result = fb.compare_set("99.3", {"a", "b", "z"}, expected, what="w", hint="h", quiet=True)
    assert result.status == "wrong" and "1 missing (e.g. c)" in str(result) and "(e.g. z)" in str(result)
    assert "collection" in str(fb.compare_set("99.3", "abc", expected, what="w", hint="h", quiet=True))
    assert "collection" in str(fb.compare_set("99.3", 3, expected, what="w", hint="h", quiet=True))

    choice = dict(options=["saw_techno", "saw_industrial"], what="the style", because="noise.", hint="look.",
                  quiet=True)
    assert fb.compare_choice("99.4", " Saw_Industrial ", "saw_industrial", **choice).right
    assert "it is not saw_techno; look." in str(fb.compare_choice("99.4", "saw_techno", "saw_industrial", **choice))
    assert "check the spelling" in str(fb.compare_choice("99.4", "techno", "saw_industrial", **choice))
    assert "should be a string" in str(fb.compare_choice("99.4", 3, "saw_industrial", **choice))
    assert fb.compare_choice("99.4", ..., "saw_industrial", **choice).missing


def test_praise_is_appended_to_the_right_line_only():
    kw = dict(what="x", hint="the hint.", praise="a louder clip.", quiet=True)
    assert str(fb.compare_number("99.5", 2.0, 2.0, **kw)).endswith("x = 2 — a louder clip.")
    assert "louder" not in str(fb.compare_number("99.5", 3.0, 2.0, **kw))
    assert str(fb.compare_set("99.5", ["a"], ["a"], **kw)).endswith("x: all 1 found — a louder clip.")


def test_verdict_names_the_first_part_that_is_not_right(capsys):
    first = fb.compare_number("99.6", 1.0, 1.0, what="a", hint="h.", quiet=True)
    second = fb.compare_number("99.6", 5.0, 2.0, what="b", hint="look at b.", quiet=True)
    result = fb.verdict("99.6", [first, second], "both right.")
    assert result is second and capsys.readouterr().out == f"{second}\n"
    assert fb.verdict("99.6", [first, first], "both right.", quiet=True).message == "both right."


def test_feedback_is_not_displayed_twice_in_a_notebook():
    # The check prints; IPython must not show the returned object as Out[n] as well.
    assert fb.Feedback("00.1", "right", "x")._ipython_display_() is None


def test_importing_the_checks_loads_neither_tensorflow_nor_librosa():
    code = ("import sys, musiclib.exercises, musiclib.student; "
            "assert not {'tensorflow', 'keras', 'librosa'} & set(sys.modules), 'heavy import'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_check_reports_every_argument_still_left_as_placeholder(capsys):
    y = np.zeros(22050, dtype=np.float32)
    result = ml.exercises.check_clip_duration(..., y=..., sr=22050)
    assert result.missing and "with duration_s and y," in str(result)
    assert capsys.readouterr().out == f"{result}\n"
    assert ml.exercises.check_clip_duration(1.0, y=y, sr=22050, quiet=True).right
    assert ml.exercises.check_clip_duration.__name__ == "check_clip_duration"


def test_registering_twice_is_an_error():
    with pytest.raises(ValueError, match="two checks"):
        fb.registers("00.1", "again")(lambda answer: None)


# --- notebooks 00 and 01 ------------------------------------------------------------------------


def _manifest(n_per_label=6, labels=("a", "b", "c")):
    rows = [{"track_id": f"{lab}.{i:05d}", "label": lab, "group": f"{lab}.{i:05d}", "duration_s": 30.0 + i}
            for lab in labels for i in range(n_per_label)]
    return pd.DataFrame(rows)


def test_check_total_seconds():
    manifest = _manifest()
    total = manifest["duration_s"].sum()
    assert ml.exercises.check_total_seconds(total, manifest, quiet=True).right
    assert "duration_s column" in str(ml.exercises.check_total_seconds(total / 3, manifest, quiet=True))
    assert ml.exercises.check_total_seconds(..., manifest, quiet=True).missing
    assert ml.exercises.check_total_seconds(manifest["duration_s"], manifest, quiet=True).status == "wrong"


def test_check_clips_per_style():
    tiny = ml.config.PROFILES["tiny"].clips_per_style
    assert ml.exercises.check_clips_per_style(tiny, quiet=True).right
    assert ml.exercises.check_clips_per_style(ml.config.PROFILES["full"].clips_per_style, profile="full",
                                              quiet=True).right
    assert "ml.config.PROFILES" in str(ml.exercises.check_clips_per_style(tiny + 1, quiet=True))


def test_check_moved_recordings():
    manifest = _manifest(n_per_label=10)
    a = ml.splits.assign_splits(manifest, valid_size=0.2, test_size=0.2, seed=0)
    b = ml.splits.assign_splits(manifest, valid_size=0.2, test_size=0.2, seed=1)
    moved = a.loc[a["split"] != b["split"], "group"].tolist()
    assert moved, "two seeds should move some recordings"
    assert ml.exercises.check_moved_recordings(moved, manifest, seeds=(0, 1), quiet=True).right
    result = ml.exercises.check_moved_recordings(moved[1:], manifest, seeds=(0, 1), quiet=True)
    assert result.status == "wrong" and "1 missing" in str(result)
    assert ml.exercises.check_moved_recordings(..., manifest, seeds=(0, 1), quiet=True).missing


def test_check_clip_duration():
    y = np.zeros(3 * 22050, dtype=np.float32)
    assert ml.exercises.check_clip_duration(3.0, y=y, sr=22050, quiet=True).right
    assert "factor of 1000" in str(ml.exercises.check_clip_duration(3000.0, y=y, sr=22050, quiet=True))
    assert "y.shape[0]" in str(ml.exercises.check_clip_duration(y.shape[0], y=y, sr=22050, quiet=True))


def test_check_stft_resolution():
    kw = dict(sr=22050, n_fft=4096, hop_length=1024, quiet=True)
    assert ml.exercises.check_stft_resolution(22050 / 4096, 1000 * 1024 / 22050, **kw).right
    halved = ml.exercises.check_stft_resolution(22050 / 2048, 1000 * 1024 / 22050, **kw)
    assert halved.status == "wrong" and "sr / n_fft" in str(halved)
    seconds = ml.exercises.check_stft_resolution(22050 / 4096, 1024 / 22050, **kw)
    assert "factor of 1/1000" in str(seconds)
    assert ml.exercises.check_stft_resolution(..., 46.4, **kw).missing


def test_check_strongest_frequencies_from_a_real_resampling():
    t = np.arange(44100) / 44100
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    found = {}
    for rate in (8000, 800):
        z = ml.audio.resample(tone, orig_sr=44100, target_sr=rate)
        found[rate] = np.argmax(np.abs(np.fft.rfft(z))) * rate / z.size
    assert ml.exercises.check_strongest_frequencies(found[8000], found[800], quiet=True).right
    assert "Nyquist" in str(ml.exercises.check_strongest_frequencies(found[8000], 440.0, quiet=True))
    assert ml.exercises.check_strongest_frequencies(880.0, found[800], quiet=True).status == "wrong"
    assert ml.exercises.check_strongest_frequencies(found[8000], ..., quiet=True).missing


# --- notebooks and checks agree -----------------------------------------------------------------


def _cells(path):
    return [(c["cell_type"], "".join(c["source"])) for c in json.loads(path.read_text())["cells"]]


def _exercise_numbers(path) -> list[int]:
    found = []
    for kind, text in _cells(path):
        if kind == "markdown":
            found += [int(k) for k in re.findall(r"^### Exercise (\d+) ·", text, flags=re.M)]
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_two_to_five_exercises_each_with_a_solution(path):
    numbers = _exercise_numbers(path)
    assert 2 <= len(numbers) <= 5 and numbers == list(range(1, len(numbers) + 1)), f"{path.name}: {numbers}"
    current, solved = None, set()
    for kind, text in _cells(path):
        heading = re.search(r"^### Exercise (\d+) ·", text, flags=re.M) if kind == "markdown" else None
        if heading:
            current = int(heading.group(1))
        if current and any(ml.student.marker(line) == "BEGIN SOLUTION" for line in text.splitlines()):
            solved.add(current)
    assert solved == set(numbers), f"{path.name}: exercises without a worked solution: {set(numbers) - solved}"


def _check_calls(path):
    """(exercise number of the section, check function name) for each check call in a notebook."""
    calls, current = [], None
    for kind, text in _cells(path):
        heading = re.search(r"^### Exercise (\d+) ·", text, flags=re.M) if kind == "markdown" else None
        if heading:
            current = int(heading.group(1))
        if kind == "code":
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.Attribute) and node.attr.startswith("check_"):
                    calls.append((current, node.attr))
    return calls


def test_notebooks_call_every_registered_check_under_its_own_exercise():
    catalogue = ml.exercises.catalogue()
    assert catalogue["exercise"].is_unique and len(catalogue) >= 20
    called = {}
    for path in NOTEBOOKS:
        for number, name in _check_calls(path):
            called[name] = f"{path.name[:2]}.{number}"
    for row in catalogue.itertuples():
        assert row.check in called, f"{row.check} ({row.exercise}) is called by no notebook"
        assert called[row.check] == row.exercise, \
            f"{row.check} is registered as {row.exercise}, used in {called[row.check]}"
    for path in NOTEBOOKS:
        assert _check_calls(path), f"{path.name}: no checkable exercise"


def test_every_check_cell_asserts_in_hidden_tests_only():
    """The instructor run fails if a solution stops being right; the student run must not."""
    for path in NOTEBOOKS:
        for kind, text in _cells(path):
            if kind == "code" and "ml.exercises.check_" in text:
                hidden = re.search(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", text, flags=re.S)
                assert hidden and "assert" in hidden.group(1), f"{path.name}: check cell without hidden assert:\n{text}"
                outside = text.replace(hidden.group(0), "")
                assert "assert" not in outside, f"{path.name}: an assert a student would hit:\n{text}"
