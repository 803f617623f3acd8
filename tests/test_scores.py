"""musiclib.scores: the corpus catalogue and score -> notes (music21 corpus, small pieces only)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from musiclib import scores
from musiclib.errors import MusiclibError
from musiclib.scores import Piece, ScoreError


def _check_notes(result: scores.ScoreNotes, *, n_parts: int, lo: float = 30, hi: float = 90):
    notes = result.notes
    assert notes.dtype == scores.NOTE_DTYPE
    assert len(notes) > 10
    assert np.all(np.diff(notes["start_s"]) >= 0)  # sorted by start
    assert np.all(notes["duration_s"] > 0)
    assert notes["start_s"][0] >= 0
    assert result.n_parts == n_parts == len(result.part_names)
    assert set(np.unique(notes["part"]).tolist()) == set(range(n_parts))
    assert lo <= notes["midi"].min() and notes["midi"].max() <= hi
    assert np.all((notes["velocity"] > 0) & (notes["velocity"] <= 1))
    end = float((notes["start_s"] + notes["duration_s"]).max())
    assert result.seconds == pytest.approx(end)
    assert scores.MIN_SECONDS <= result.seconds <= scores.MAX_SECONDS


def _write_tiny(path, text: str, *, qpm: float | None = None, marks=()):
    """A tinyNotation score written as MusicXML; ``marks`` = (offset, qpm) pairs."""
    from music21 import converter, tempo

    score = converter.parse("tinyNotation: " + text)
    measures = list(score.recurse().getElementsByClass("Measure"))
    if qpm is not None:
        measures[0].insert(0, tempo.MetronomeMark(number=qpm))
    for offset, number in marks:  # offsets at a measure start, in quarters
        measures[int(offset // 4)].insert(offset % 4, tempo.MetronomeMark(number=number))
    score.write("musicxml", fp=str(path))
    return path


SCALE = "4/4 c4 d e f g a b c' c' b a g f e d c"  # 16 quarters


# ---------------------------------------------------------------------------------------
# Catalogue


def test_repertories_table():
    assert list(scores.REPERTORIES) == ["bach", "palestrina", "monteverdi", "trecento",
                                        "quartets", "irish", "german_folk", "chinese_folk"]
    for label, rep in scores.REPERTORIES.items():
        assert rep.label == label and rep.title and rep.licence and rep.corpus
        assert 40 <= rep.default_qpm <= 250
        assert rep.loops == (label in ("irish", "german_folk", "chinese_folk"))
    with pytest.raises(dataclasses_frozen_error()):
        scores.REPERTORIES["bach"].default_qpm = 1.0


def dataclasses_frozen_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


@pytest.mark.parametrize("label", list(scores.REPERTORIES))
def test_list_pieces(label):
    pieces = scores.list_pieces(label)
    assert pieces, label
    assert pieces == scores.list_pieces(label) == sorted(pieces)
    ids = [p.id for p in pieces]
    assert len(set(ids)) == len(ids)
    assert len({p.safe_id for p in pieces}) == len(ids)
    for p in pieces[:: max(1, len(pieces) // 20)]:
        assert p.label == label and p.path.is_file()
        assert "/" not in p.safe_id and "#" not in p.safe_id
        assert (p.number is not None) == p.corpus_path.endswith(".abc")
    assert not any(p.corpus_path.endswith(".rntxt") for p in pieces)


def test_list_pieces_filters():
    bach = {p.id for p in scores.list_pieces("bach")}
    assert "bach/bwv66.6" in bach and "bach/bwv846" not in bach
    assert not bach & {"bach/bwv277"} or all(  # the .krn duplicate is not a second piece
        p.corpus_path.endswith(("mxl", "xml")) for p in scores.list_pieces("bach"))
    german = {p.corpus_path for p in scores.list_pieces("german_folk")}
    assert not any(name in path for path in german
                   for name in ("han", "irl", "test", "lux", "lot", "erk5", "variant"))
    chinese = {p.corpus_path for p in scores.list_pieces("chinese_folk")}
    assert chinese == {"essenFolksong/han1.abc", "essenFolksong/han2.abc"}
    quartets = [p.corpus_path for p in scores.list_pieces("quartets")]
    assert not any(p.startswith("mozart/k545") for p in quartets)
    assert "beethoven/opus18no1/movement1.krn" not in quartets
    assert Piece("chinese_folk", "essenFolksong/han1.abc", 12).id == "essenFolksong/han1#12"
    with pytest.raises(KeyError):
        scores.list_pieces("jazz")


def test_import_is_light():
    code = "import sys, musiclib.scores; print('music21' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------
# Reading corpus pieces


def test_bach_chorale():
    result = scores.read_piece(Piece("bach", "bach/bwv66.6.mxl"))
    _check_notes(result, n_parts=4, lo=36, hi=84)
    assert result.part_names == ["Soprano", "Alto", "Tenor", "Bass"]
    assert result.tempo == "default (bach): quarter = 72"
    # 36 quarters at 72 a minute
    assert result.seconds == pytest.approx(36 * 60 / 72)
    soprano = result.notes[result.notes["part"] == 0]
    assert soprano["midi"].mean() > result.notes[result.notes["part"] == 3]["midi"].mean()


def test_palestrina_movement():
    result = scores.read_piece(Piece("palestrina", "palestrina/Agnus_01.krn"))
    _check_notes(result, n_parts=5, lo=36, hi=84)
    assert "quarter = 200" in result.tempo


def test_essen_song_and_oneill_tune():
    song = scores.read_piece(Piece("german_folk", "essenFolksong/erk10.abc", 5))
    _check_notes(song, n_parts=1, lo=55, hi=85)
    assert song.tempo == "default (german_folk): quarter = 96"
    tune = scores.read_piece(Piece("irish", "oneills1850/0001-0050.abc", 3))
    _check_notes(tune, n_parts=1, lo=50, hi=96)
    assert tune.piece.id == "oneills1850/0001-0050#3"


def test_irish_tempo_by_tune_type():
    reels = [Piece("irish", "oneills1850/1176-1275.abc", 1176)]
    assert reels[0] in scores.list_pieces("irish")
    assert scores._abc_header_field(reels[0].path, 1176, "R") == "Reel"
    result = scores.read_piece(reels[0])
    assert result.tempo == "default (reel): quarter = 200"
    assert scores.read_piece(reels[0], default_qpm=100).seconds == pytest.approx(
        2 * result.seconds)
    # no R: field: the section of O'Neill's book, and for airs the N: tempo note
    air = Piece("irish", "oneills1850/0001-0050.abc", 1)  # N: "Very slow"
    assert scores._tune_kind(air) == "slow air"
    assert scores._tune_kind(Piece("irish", "oneills1850/1376-1475.abc", 1400)) == "reel"
    numbers = [p.number for p in scores.list_pieces("irish")]
    assert len(numbers) == len(set(numbers))


# ---------------------------------------------------------------------------------------
# Tempo, ties, chords


def test_metronome_mark_versus_default(tmp_path):
    marked = scores.read_score_file(_write_tiny(tmp_path / "marked.xml", SCALE, qpm=120))
    assert marked.tempo == "metronome marks: quarter = 120"
    assert marked.seconds == pytest.approx(8.0)
    assert marked.default_qpm is None
    plain = scores.read_score_file(_write_tiny(tmp_path / "plain.xml", SCALE), label="bach")
    assert plain.tempo == "default (bach): quarter = 72"
    assert plain.seconds == pytest.approx(16 * 60 / 72)
    given = scores.read_score_file(tmp_path / "plain.xml", default_qpm=60)
    assert given.tempo == "default (given): quarter = 60"
    assert given.seconds == pytest.approx(16.0)
    np.testing.assert_array_equal(given.notes["midi"], marked.notes["midi"])
    np.testing.assert_allclose(given.notes["start_s"], 2 * marked.notes["start_s"])


def test_tempo_change(tmp_path):
    path = _write_tiny(tmp_path / "change.xml", SCALE, marks=[(0, 60), (8, 120)])
    result = scores.read_score_file(path)
    assert result.tempo == "metronome marks: quarter = 60..120"
    assert result.seconds == pytest.approx(8 * 1.0 + 8 * 0.5)
    assert result.notes["start_s"][8] == pytest.approx(8.0)
    assert result.notes["duration_s"][8] == pytest.approx(0.5)


def test_ties_merged_chords_split_grace_dropped(tmp_path):
    from music21 import chord, meter, note, stream

    part = stream.Part()
    part.append(meter.TimeSignature("4/4"))
    first, second = note.Note("C4", quarterLength=2), note.Note("C4", quarterLength=4)
    from music21 import tie

    first.tie, second.tie = tie.Tie("start"), tie.Tie("stop")
    part.append([first, second])
    part.append(note.Note("D4", quarterLength=1).getGrace())
    part.append(chord.Chord(["E4", "G4", "C5"], quarterLength=2))
    part.append(note.Note("F4", quarterLength=8))
    score = stream.Score([part])
    path = tmp_path / "ties.xml"
    score.write("musicxml", fp=str(path))
    result = scores.read_score_file(path, default_qpm=60)
    notes = result.notes
    assert notes["midi"].tolist() == [60, 64, 67, 72, 65]
    np.testing.assert_allclose(notes["start_s"], [0, 6, 6, 6, 8])
    np.testing.assert_allclose(notes["duration_s"], [6, 2, 2, 2, 8])
    assert result.seconds == pytest.approx(16.0)


# ---------------------------------------------------------------------------------------
# Cache


def test_cache_returns_same_notes_without_parsing(tmp_path, monkeypatch):
    piece = Piece("bach", "bach/bwv66.6.mxl")
    first = scores.read_piece(piece, cache_dir=tmp_path)
    path = scores.cache_path(piece, tmp_path)
    assert path.is_file() and path.parent.name == ".".join(
        scores.MUSIC21_VERSION.split(".")[:2])
    assert path.name == "bach--bwv66.6.npz"

    def no_parse(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(scores, "_parse", no_parse)
    second = scores.read_piece(piece, cache_dir=tmp_path)
    np.testing.assert_array_equal(first.notes, second.notes)
    assert second.notes.dtype == scores.NOTE_DTYPE
    for field in ("n_parts", "seconds", "tempo", "repeats", "part_names", "default_qpm"):
        assert getattr(first, field) == getattr(second, field), field
    # another default tempo: rescaled from the cache, still not parsed
    slower = scores.read_piece(piece, cache_dir=tmp_path, default_qpm=36)
    assert slower.seconds == pytest.approx(2 * first.seconds)
    assert slower.tempo == "default (given): quarter = 36"
    np.testing.assert_allclose(slower.notes["start_s"], 2 * first.notes["start_s"])
    # without the cache the parser is needed
    with pytest.raises(ScoreError, match="parse failure: AssertionError: parsed again"):
        scores.read_piece(piece)


def test_unreadable_cache_file_is_parsed_again(tmp_path):
    piece = Piece("bach", "bach/bwv66.6.mxl")
    path = scores.cache_path(piece, tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an npz")
    result = scores.read_piece(piece, cache_dir=tmp_path)
    assert len(result.notes) > 0
    assert scores.read_piece(piece, cache_dir=tmp_path).seconds == result.seconds


# ---------------------------------------------------------------------------------------
# Bad scores


def _one_line_error(excinfo, path, reason):
    message = str(excinfo.value)
    assert "\n" not in message
    assert message.startswith(f"{path}")
    assert reason in message
    assert isinstance(excinfo.value, MusiclibError)


def test_broken_musicxml(tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text('<?xml version="1.0"?>\n<score-partwise><part-list>\n<oops')
    with pytest.raises(ScoreError) as excinfo:
        scores.read_score_file(path)
    _one_line_error(excinfo, path, "parse failure")


def test_abc_without_notes_and_missing_tune(tmp_path):
    path = tmp_path / "empty.abc"
    path.write_text("X:1\nT:Nothing\nM:4/4\nL:1/4\nK:C\nz4 | z4 |]\n")
    with pytest.raises(ScoreError) as excinfo:
        scores.read_score_file(path, number=1)
    _one_line_error(excinfo, f"{path}#1", "no notes")
    with pytest.raises(ScoreError) as excinfo:
        scores.read_score_file(path, number=7)
    assert str(excinfo.value).startswith(f"{path}#7: ")


def test_missing_file_and_absurd_length(tmp_path):
    with pytest.raises(ScoreError, match="no such file"):
        scores.read_score_file(tmp_path / "nothing.xml")
    short = _write_tiny(tmp_path / "short.xml", "4/4 c4 d", qpm=120)
    with pytest.raises(ScoreError) as excinfo:
        scores.read_score_file(short)
    _one_line_error(excinfo, short, "absurd length")
    silly = _write_tiny(tmp_path / "silly.xml", SCALE, qpm=2000)
    with pytest.raises(ScoreError, match="absurd tempo"):
        scores.read_score_file(silly)


def test_catalogue_reports_errors(tmp_path, monkeypatch):
    bad = tmp_path / "bad.xml"
    bad.write_text("<score-partwise")
    pieces = {"bach": [Piece("bach", "bach/bwv66.6.mxl"), Piece("bach", str(bad))]}
    monkeypatch.setattr(scores, "list_pieces", lambda label: pieces[label])
    frame = scores.catalogue(["bach"], cache_dir=tmp_path / "cache")
    assert list(frame.columns) == list(scores.CATALOGUE_COLUMNS)
    assert frame["error"].tolist()[0] == ""
    assert scores.error_kind(frame["error"].tolist()[1]) == "parse failure"
    assert frame["seconds"][0] == pytest.approx(30.0) and np.isnan(frame["seconds"][1])
    again = scores.catalogue(["bach"], cache_dir=tmp_path / "cache")
    assert again["cached"].tolist() == [True, True]  # the parse failure is kept too
    assert again["error"].tolist() == frame["error"].tolist()
    assert again["seconds"][0] == frame["seconds"][0]
