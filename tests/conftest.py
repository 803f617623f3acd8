"""Shared test set-up: every test gets its own data and build folders and the tiny profile,
so tests never touch the checkout's data/ or build/ and never depend on the caller's env."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display in tests; set here, not via MPLBACKEND, so nbmake kernels keep inline figures

import os
import tempfile

import pytest

# Parsed scores (the composers dataset) are valid for every test: one folder for the whole
# session, inherited by the notebooks nbmake runs, so each score is parsed once per run.
_SCORE_CACHE = None if os.environ.get("MUSICLIB_SCORE_CACHE") else tempfile.mkdtemp(prefix="musiclib-scores-")
if _SCORE_CACHE:
    os.environ["MUSICLIB_SCORE_CACHE"] = _SCORE_CACHE


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, monkeypatch):
    root = tmp_path_factory.mktemp("musiclib")
    monkeypatch.setenv("MUSICLIB_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("MUSICLIB_BUILD_DIR", str(root / "build"))
    monkeypatch.setenv("MUSICLIB_PROFILE", "tiny")
    monkeypatch.delenv("MUSICLIB_DATASET", raising=False)
    monkeypatch.delenv("MUSICLIB_SEED", raising=False)
    return root


# ------------------------------------------------------------------ the course on other data
# Tests that read a background course run: the course on other data, and the website built
# from those runs' executed notebooks (test_site.py). RUN_OF_TEST names each one's run.
COURSE_TESTS = ("test_course_on_your_music.py", "test_site.py")


def _run_order(item) -> tuple:
    """Unit tests first; then the tests of each background run, in the order the runs finish,
    so a test of an early run (the site of the labelled course) uses the main core while a later
    run still goes on."""
    if item.path.name not in COURSE_TESTS:
        return (0,)
    from test_course_on_your_music import RUN_ORDER, RUN_OF_TEST

    run = RUN_OF_TEST.get(item.originalname)
    if run is None:  # a quick test of those files, that reads no run
        return (0,)
    return (1, RUN_ORDER.index(run) if run in RUN_ORDER else len(RUN_ORDER), item.path.name)


def pytest_collection_modifyitems(config, items):
    """The course-on-other-data tests last: their runs go on in the background meanwhile."""
    items.sort(key=_run_order)


def pytest_collection_finish(session):
    """Start the course runs on other data as soon as their tests are collected."""
    tests = {item.originalname for item in session.items if item.path.name in COURSE_TESTS}
    if tests:
        import tempfile
        from pathlib import Path

        from test_course_on_your_music import start_background_courses

        root = Path(tempfile.mkdtemp(prefix="musiclib-your-music-"))
        session.config.stash[_BACKGROUND] = start_background_courses(root, tests)


def pytest_sessionfinish(session):
    if _SCORE_CACHE:
        import shutil

        shutil.rmtree(_SCORE_CACHE, ignore_errors=True)
    runs = session.config.stash.get(_BACKGROUND, None)
    if runs is not None:
        import shutil

        runs.stop()
        shutil.rmtree(runs.root, ignore_errors=True)


_BACKGROUND = pytest.StashKey()


@pytest.fixture(scope="session")
def background_courses(request):
    """The runs started by :func:`pytest_collection_finish` (course_data.BackgroundCourses)."""
    runs = request.config.stash.get(_BACKGROUND, None)
    assert runs is not None, "the course runs were not started (tests/conftest.py)"
    return runs
