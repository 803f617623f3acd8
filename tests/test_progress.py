"""Progress: a tqdm bar on a terminal, a few plain lines in notebooks and logs."""

from __future__ import annotations

import io

from musiclib import progress as pg


def test_mode_follows_the_environment_then_the_terminal(monkeypatch):
    for chosen in pg.MODES:
        monkeypatch.setenv(pg.ENV_PROGRESS, chosen)
        assert pg.mode() == chosen
    monkeypatch.delenv(pg.ENV_PROGRESS)
    assert pg.mode() == "text"  # pytest's captured stderr is no terminal


def test_text_progress_prints_whole_lines_and_always_the_last(monkeypatch):
    monkeypatch.setenv(pg.ENV_PROGRESS, "text")
    out = io.StringIO()
    bar = pg.TextProgress(total=40, desc="features", unit="clip", initial=10, file=out, min_interval=0.0)
    with bar:
        for _ in range(30):
            bar.update(1)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and len(lines) <= 11
    assert lines[-1].startswith("features: 40/40 clips (100%), ")
    assert lines[0].startswith("features: 12/40 clips (30%)")  # the first step after the 10 done before

    quiet = io.StringIO()  # a run shorter than min_interval: only the last line
    assert list(pg.TextProgress(range(5), desc="synth", unit="file", file=quiet)) == [0, 1, 2, 3, 4]
    assert quiet.getvalue().splitlines() == [quiet.getvalue().splitlines()[-1]]
    assert quiet.getvalue().startswith("synth: 5/5 files (100%), ")


def test_progress_picks_text_off_or_bar(monkeypatch, capsys):
    monkeypatch.setenv(pg.ENV_PROGRESS, "text")
    assert isinstance(pg.progress(range(3), desc="x"), pg.TextProgress)
    assert not isinstance(pg.progress(range(3), desc="x", disable=True), pg.TextProgress)
    monkeypatch.setenv(pg.ENV_PROGRESS, "off")
    assert list(pg.progress(range(3), desc="x")) == [0, 1, 2]
    assert capsys.readouterr().err == ""
