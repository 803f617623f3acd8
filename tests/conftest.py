"""Shared test set-up: every test gets its own data and build folders and the tiny profile,
so tests never touch the checkout's data/ or build/ and never depend on the caller's env."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display in tests; set here, not via MPLBACKEND, so nbmake kernels keep inline figures

import pytest


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, monkeypatch):
    root = tmp_path_factory.mktemp("musiclib")
    monkeypatch.setenv("MUSICLIB_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("MUSICLIB_BUILD_DIR", str(root / "build"))
    monkeypatch.setenv("MUSICLIB_PROFILE", "tiny")
    monkeypatch.delenv("MUSICLIB_DATASET", raising=False)
    monkeypatch.delenv("MUSICLIB_SEED", raising=False)
    return root
