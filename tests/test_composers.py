"""The built-in composers dataset: excerpts, performances, the writer, the loader and the CLI.

One tiny dataset (8 labels x 4 pieces x 4 s) is rendered once per module through the CLI;
its parsed scores are cached for the session (tests/conftest.py: ``MUSICLIB_SCORE_CACHE``),
so the determinism check renders again without parsing again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from musiclib import cli, composers, datasets
from musiclib.config import settings
from musiclib.instruments import INSTRUMENTS, NOTE_DTYPE
from musiclib.scores import REPERTORIES, ScoreError


def _notes(starts, durations, midi=60.0, part=0):
    a = np.zeros(len(starts), dtype=NOTE_DTYPE)
    a["start_s"], a["duration_s"], a["midi"], a["velocity"], a["part"] = starts, durations, midi, 0.8, part
    return a


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """``musiclib dataset composers --profile tiny --seed 0`` into a fresh folder (seed 0: the
    pieces the notebooks' tiny runs parse too)."""
    root = tmp_path_factory.mktemp("composers")
    out = root / "first"
    assert cli.main(["dataset", "composers", "--out", str(out), "--profile", "tiny", "--seed", "0",
                     "--jobs", "2", "-q"]) == 0
    return root, out


# ------------------------------------------------------------------------- excerpts


def test_a_short_folk_tune_is_played_again_until_the_excerpt_is_full():
    tune = _notes([0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0])
    out, start, passes = composers.excerpt_notes(tune, 4.0, 10.0, loops=True, rng=np.random.default_rng(0))
    assert (start, passes) == (0.0, 3)
    assert len(out) == 10 and out["start_s"].max() == 9.0
    assert np.all(out["start_s"] + out["duration_s"] <= 10.0 + 1e-9)


def test_a_piece_that_does_not_loop_ends_where_it_ends():
    piece = _notes([0.0, 1.0, 2.0], [1.0, 1.0, 1.0])
    out, start, passes = composers.excerpt_notes(piece, 3.0, 10.0, loops=False, rng=np.random.default_rng(0))
    assert (start, passes, len(out)) == (0.0, 1, 3)


def test_a_long_piece_gives_an_excerpt_that_starts_on_a_note():
    starts = np.arange(0.0, 100.0, 0.5)
    piece = _notes(starts, np.full(len(starts), 2.0))
    for seed in range(5):
        out, start, _ = composers.excerpt_notes(piece, 102.0, 10.0, loops=False, rng=np.random.default_rng(seed))
        assert start in set(starts) and start <= 92.0
        assert out["start_s"].min() == 0.0 and out["start_s"].max() < 10.0
        assert np.all(out["start_s"] + out["duration_s"] <= 10.0 + 1e-9)


def test_transposition_folds_notes_back_into_the_instruments_range():
    midi = np.array([22.0, 60.0, 99.0], dtype=np.float32)
    assert composers._transpose(midi, 3).tolist() == [25.0, 63.0, 90.0]
    assert composers._transpose(midi, -3).tolist() == [31.0, 57.0, 96.0]


def test_performances_are_drawn_from_one_pool_for_every_class():
    draws = [composers.draw_performance(4, np.random.default_rng(k)) for k in range(60)]
    assert composers.draw_performance(4, np.random.default_rng(3)) == draws[3]  # deterministic
    used = {p["instrument"] for d in draws for p in d["parts"]}
    assert used == set(composers.POOL) and set(composers.POOL) <= set(INSTRUMENTS)
    assert {d["ensemble"] for d in draws} == {"one instrument", "mixed"}
    assert all(len(d["parts"]) == 4 and -3 <= d["transpose"] <= 3 for d in draws)
    json.dumps(draws)  # the manifest stores them


def test_each_label_cycles_through_every_lead_instrument():
    n = len(composers.POOL)
    for label in ("bach", "quartets"):
        leads = composers.lead_instruments(label, 0, 2 * n + 1)
        assert sorted(leads[:n]) == sorted(composers.POOL) and leads[n:2 * n] == leads[:n]
    assert composers.lead_instruments("bach", 0, n) != composers.lead_instruments("quartets", 0, n)
    for k in range(20):
        perf = composers.draw_performance(4, np.random.default_rng(k), lead="organ")
        names = [p["instrument"] for p in perf["parts"]]
        assert names[0] == "organ" and (perf["ensemble"] == "mixed" or set(names) == {"organ"})


# ------------------------------------------------------------------------- the dataset


def test_tiny_has_every_label_with_its_pieces_and_their_scores(tiny):
    _, out = tiny
    meta = composers.read_marker(out)
    assert composers.is_complete(out)
    assert len(meta["labels"]) >= 6 and set(meta["labels"]) == set(REPERTORIES)
    assert meta["music21_version"].startswith("10.")
    files = meta["files"]
    for label in REPERTORIES:
        mine = [f for f in files if f["label"] == label]
        assert len(mine) == 4, label
        for f in mine:
            assert (out / f["path"]).is_file()
            assert f["score"] and f["licence"] and f["parts"] and f["seconds"] > 0
            assert f["piece"].startswith(f["score"].rsplit(".", 1)[0])
    assert len({f["piece"] for f in files}) == len(files)  # one file per piece


def test_the_same_seed_gives_byte_identical_files(tiny):
    root, out = tiny
    again = root / "second"
    assert cli.main(["dataset", "composers", "--out", str(again), "--profile", "tiny", "--seed", "0", "-q"]) == 0
    first, second = _digest(out), _digest(again)
    assert first == second and len(first) >= 33


def test_loaded_clips_keep_their_piece_as_group(tiny):
    _, out = tiny
    s = settings(profile="tiny", dataset="composers", seed=0, share=False)
    ds = datasets.composers(s, out_dir=out)  # already complete: nothing is rendered again
    m = ds.manifest
    assert ds.kind == "composers" and len(ds.labels) == len(REPERTORIES)
    for col in ("piece", "score", "number", "score_offset_s", "instruments", "licence"):
        assert col in m
    assert m["piece"].notna().all() and m.groupby("piece")["group"].nunique().max() == 1
    mixed = m[m["label"] != "palestrina"]
    assert (mixed.groupby("group")["piece"].nunique() == 1).all()  # elsewhere a group is a piece
    masses = m.loc[m["label"] == "palestrina", "group"]
    assert masses.str.fullmatch(r"palestrina/mass_(\d+|unnumbered)").all()
    from musiclib.splits import assign_splits

    split = assign_splits(m, seed=0)
    sides = split.groupby("piece")["split"].nunique()
    assert sides.max() == 1  # a split by recording never puts one piece on two sides


def test_a_score_that_fails_is_listed_and_replaced(tmp_path, monkeypatch):
    import musiclib.scores as scores

    order = composers.choose_pieces("bach", 0, small_scores=True)  # as the tiny profile draws
    bad = order[0]
    real = scores.read_piece

    def read(piece, **kw):
        if piece.id == bad.id:
            raise ScoreError(piece.where, "repeats that cannot be expanded (test)")
        return real(piece, **kw)

    monkeypatch.setattr(scores, "read_piece", read)
    out = composers.write_dataset(tmp_path / "c", profile="tiny", seed=0, labels=["bach"],
                                  pieces_per_label=2, cache_dir=tmp_path / "cache")
    meta = composers.read_marker(out)
    assert [f["piece"] for f in meta["files"]] == [p.id for p in order[1:3]]
    assert meta["skipped"] == [{"label": "bach", "piece": bad.id, "score": bad.corpus_path, "number": None,
                                "reason": f"{bad.corpus_path}: repeats that cannot be expanded (test)"}]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # nothing half-written


def test_unknown_label_and_foreign_folder_are_refused(tmp_path):
    with pytest.raises(Exception, match="unknown composers label 'mozart_only'"):
        composers.write_dataset(tmp_path / "x", profile="tiny", labels=["mozart_only"])
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    with pytest.raises(Exception, match="is not a composers dataset"):
        composers.write_dataset(tmp_path / "mine", profile="tiny", labels=["bach"], pieces_per_label=1)


def test_cli_info_describes_the_composers(tiny, capsys):
    # `dataset info composers` builds (or finds) the settings' own copy; the scores are cached
    assert cli.main(["dataset", "info", "composers", "--profile", "tiny", "--seed", "0", "-q"]) == 0
    text = capsys.readouterr().out
    assert "composers" in text and "bach" in text and "chinese_folk" in text


def test_palestrina_sections_of_one_mass_share_a_group():
    from musiclib.scores import Piece

    groups = {Piece("palestrina", f"palestrina/{n}.krn").group
              for n in ("Credo_72_a", "Credo_72_b", "Agnus_II_72", "Kyrie_72")}
    assert groups == {"palestrina/mass_72"}
    assert Piece("palestrina", "palestrina/Credo_a.krn").group == "palestrina/mass_unnumbered"
    assert Piece("bach", "bach/bwv66.6.mxl").group == "bach/bwv66.6"


def test_settings_know_the_built_in_name():
    s = settings(dataset="Composers")
    assert s.dataset == "composers" and s.is_built_in and not s.is_synthetic
    assert s.dataset_name == "composers" and s.composers_dir.name == "tiny-seed0"
    assert settings(default_dataset="composers").dataset == "composers"
    os.environ["MUSICLIB_DATASET"] = "synthetic"
    try:
        assert settings(default_dataset="composers").dataset == "synthetic"  # the variable wins
    finally:
        del os.environ["MUSICLIB_DATASET"]
