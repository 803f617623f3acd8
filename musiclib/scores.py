"""Real compositions from music21's corpus, read as notes in seconds.

The built-in *composers* dataset plays real music: the notes of compositions that music21
ships in its corpus (Bach chorales, Palestrina masses, Monteverdi madrigals, Trecento songs,
Haydn / Mozart / Beethoven string quartets, O'Neill's Irish fiddle tunes, and German and
Chinese songs of the Essen folk-song collection). What is real is the *composition*: pitches,
rhythms, voices, and where the encoders wrote them, tempo and dynamics. The *sound* is not:
musiclib's own instruments (:mod:`musiclib.instruments`) render the notes, so no recording of
any performer is used.

This module owns the catalogue and the score -> notes step:

- :data:`REPERTORIES` -- the eight classes (label -> :class:`Repertory`), with the corpus
  files of each, its default performance tempo and what the corpus says about its licence.
- :func:`list_pieces` -- the pieces of a class (a file, or one tune ``X:`` of an abc
  collection), from a file listing and a text scan, without parsing any music.
- :func:`read_piece` -- parse one piece with music21 and return its notes as a numpy
  structured array in seconds (:class:`ScoreNotes`), optionally kept in a cache folder so
  each score is parsed once per machine.
- :func:`catalogue` -- every piece of some classes with its length or why it is unusable.

Licences
--------
music21's ``corpus/license.txt`` says that the encodings are distributed "with the permission
of the encoders (and, where needed, the composers or arrangers)", that the compositions are
to its creators' knowledge out of copyright in the United States or licensed for use, and
that "some encodings included in the corpus may not be used for commercial uses or have other
restrictions: please see the licenses embedded in individual compositions or directories".
The compositions themselves are all centuries old (the newest, the Essen songs and O'Neill's
tunes, were collected by the early 20th century) except that the Chinese songs of the Essen
collection include songs of the 1950s-60s. What the files themselves say is recorded per
repertory in :attr:`Repertory.licence`; in short, the Palestrina encodings (Humdrum, John
Miller 2000) and the Essen collection are the restrictive ones (licensing agreement /
non-commercial use only). The dataset is for teaching; anyone redistributing rendered audio
should read those terms.

music21 is imported inside the functions that parse (``import musiclib`` stays light).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import importlib.util
import json
import math
import re
import time
import warnings
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

import numpy as np

from musiclib.errors import MusiclibError

__all__ = [
    "MUSIC21_VERSION",
    "NOTE_DTYPE",
    "REPERTORIES",
    "Piece",
    "Repertory",
    "ScoreError",
    "ScoreNotes",
    "cache_path",
    "catalogue",
    "corpus_root",
    "list_pieces",
    "read_piece",
    "read_score_file",
]

try:
    MUSIC21_VERSION: str = importlib.metadata.version("music21")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - music21 is a dependency
    MUSIC21_VERSION = "0.0"

#: One note per row (the dtype the instruments play): part index (0-based, in score order),
#: onset and length in seconds, MIDI pitch (float: a quarter tone is .5) and velocity 0..1.
from .instruments import NOTE_DTYPE  # noqa: E402  (numpy and scipy only: no music21)

#: Pieces shorter or longer than this (seconds, at the tempo used) are refused.
MIN_SECONDS = 4.0
MAX_SECONDS = 30 * 60.0
#: Tempi outside this range (quarter notes per minute) are refused as absurd.
MIN_QPM, MAX_QPM = 20.0, 500.0
#: Velocity of notes before any dynamic mark (music21's volume scalar of mf is about .6).
DEFAULT_VELOCITY = 0.6
#: Bumped when what the cache holds changes; a cache file of another format is re-parsed.
CACHE_FORMAT = 2


class ScoreError(MusiclibError):
    """A piece that cannot be used: parse failure, no notes, absurd length or tempo.

    Parameters
    ----------
    where : str
        The piece, as ``"<corpus path>[#<X number>]"`` (or the file path for a file outside
        the corpus).
    reason : str
        Why, in a few words.

    The message is ``"<where>: <reason>"`` on one line.
    """

    def __init__(self, where: str, reason: str):
        self.where = str(where)
        self.reason = " ".join(str(reason).split())  # always one line
        super().__init__(f"{self.where}: {self.reason}")


@dataclasses.dataclass(frozen=True)
class Repertory:
    """One class of the composers dataset.

    Attributes
    ----------
    label : str
        Class label (``"bach"``, ...).
    title : str
        What it is, for people.
    composers : tuple of str
        Composers (or "anonymous"/collectors for folk music).
    period : str
        When the music was written or collected.
    corpus : str
        Which corpus files, and what a piece is.
    licence : str
        What the corpus (license files, file headers) says about the encodings.
    loops : bool
        A piece shorter than the excerpt wanted is played again from the start (a song's next
        verse, a tune's repeat). True for folk songs and fiddle tunes.
    default_qpm : float
        Performance tempo in quarter notes (of the notation as encoded) per minute, for
        scores with no metronome mark and no tempo word. The caller scales it per piece.
    tune_qpm : tuple of (str, float)
        Tempi by tune type, taking the place of ``default_qpm`` for tunes of that type (Irish
        reels are much faster than airs). The type is the abc ``R:`` field (lower case) or,
        for O'Neill's tunes without one, the section of the book the number falls in (airs
        1-700, split by the ``N:`` tempo note into slow / moderate / lively; jigs 701-1115;
        slip jigs -1175; reels -1555; hornpipes -1780; set dances -1800; marches -1850).
    """

    label: str
    title: str
    composers: tuple[str, ...]
    period: str
    corpus: str
    licence: str
    loops: bool
    default_qpm: float
    tune_qpm: tuple[tuple[str, float], ...] = ()


_ESSEN_LICENCE = (
    "essenFolksong/license.txt: 'The legal status of the Essen folksong database is unclear, "
    "as the data has been input by many people.' Encoded under Helmut Schaffrath; Ewa "
    "Dahlig-Turek 'has given permission for non-commercial distribution and use of these "
    "files in music21'. ABC conversion by Seymour Schlien, distributed by his permission. "
    "Non-commercial use.")

REPERTORIES: dict[str, Repertory] = {r.label: r for r in (
    Repertory(
        label="bach", title="J. S. Bach, four-part chorales",
        composers=("Johann Sebastian Bach",), period="1720s-1740s",
        corpus="bach/*.mxl and *.xml (one chorale a file; one file per BWV movement where "
               "the corpus has variants; not the .krn duplicates, the .rntxt analyses or "
               "bwv846, a keyboard prelude)",
        licence="No licence text in the files (MusicXML from Finale/MuseScore; the Humdrum "
                "originals name S. Rasmussen 1994, Bach Gesellschaft edition). Covered by "
                "corpus/license.txt only.",
        loops=False, default_qpm=72.0),
    Repertory(
        label="palestrina", title="Palestrina, mass movements",
        composers=("Giovanni Pierluigi da Palestrina",), period="1550s-1590s",
        corpus="palestrina/*.krn (one mass movement or section a file, in the original "
               "note values: the semibreve is the beat)",
        licence="Every file: '!!!YEC: Copyright 2000, John Miller'; 'This file must be "
                "accompanied by the licensing agreement. Rights to all derivative electronic "
                "formats reserved.' (licence at music-cog.ohio-state.edu/HumdrumDatabases/"
                "Palestrina/license.txt). Restrictive: check before redistributing audio.",
        loops=False, default_qpm=200.0),
    Repertory(
        label="monteverdi", title="Monteverdi, madrigals (books 3-5)",
        composers=("Claudio Monteverdi",), period="1592-1605",
        corpus="monteverdi/*.mxl (not the .rntxt analyses); modern halved note values "
               "(the quarter is the minim)",
        licence="No licence text in the files (MusicXML from Finale). Covered by "
                "corpus/license.txt only.",
        loops=False, default_qpm=112.0),
    Repertory(
        label="trecento", title="14th-century Italian polyphony",
        composers=("Francesco Landini", "Jacopo da Bologna", "Giovanni da Cascia",
                   "Johannes Ciconia", "Piero", "anonymous"), period="c. 1330-1420",
        corpus="trecento/*.xml and *.mxl (transcriptions from Polyphonic Music of the "
               "Fourteenth Century, PMFC; a piece in both formats is taken once)",
        licence="Ten files carry an empty '<rights>Copyright (c) </rights>'; no other "
                "licence text. Covered by corpus/license.txt only.",
        loops=False, default_qpm=100.0),
    Repertory(
        label="quartets", title="Haydn, Mozart and Beethoven, string-quartet movements",
        composers=("Joseph Haydn", "Wolfgang Amadeus Mozart", "Ludwig van Beethoven"),
        period="1757-1826",
        corpus="haydn/, mozart/, beethoven/ *.mxl (the .krn of Op. 18 no. 1 duplicate the "
               ".mxl and are left out; mozart/k545 is a piano sonata and is left out)",
        licence="No licence text in the MusicXML files; the Humdrum Op. 18 no. 1 names "
                "Craig Stuart Sapp (2004) as encoder. Covered by corpus/license.txt only.",
        loops=False, default_qpm=120.0),
    Repertory(
        label="irish", title="O'Neill's Music of Ireland (1903 collection of 1850 tunes)",
        composers=("traditional", "Francis O'Neill (collector)"), period="collected c. 1900",
        corpus="oneills1850/*.abc; a piece is one tune (X: number = O'Neill's number); "
               "several files overlap or hold a second transcription of the same tunes: "
               "a number is kept once (first file)",
        licence="No licence text; 'Z:' lines name the volunteer transcribers (Norbert Paap, "
                "Henrik Norbeck, Bob Safranek, Trish O'Neil, ...). Covered by "
                "corpus/license.txt only.",
        loops=True, default_qpm=170.0,
        tune_qpm=(("reel", 200.0), ("hornpipe", 150.0), ("jig", 165.0),
                  ("double jig", 165.0), ("single jig", 165.0), ("slide", 180.0),
                  ("slipjig", 165.0), ("slip jig", 165.0), ("hop jig", 165.0),
                  ("polka", 200.0), ("long dance", 130.0), ("set dance", 130.0),
                  ("march", 110.0), ("set dance", 130.0), ("slow air", 60.0),
                  ("air", 80.0), ("lively air", 112.0))),
    Repertory(
        label="german_folk", title="Essen folk-song collection, German-language songs",
        composers=("traditional",), period="collected 19th-20th century",
        corpus="essenFolksong/{altdeu,ballad,boehme,dva,erk10-30,fink,kinder,zuccal}*.abc; "
               "one song (X: number). Not lot.abc (Lorraine) or lux.abc (Luxembourg), "
               "separate regional collections; not erk5 (Icelandic), folkHaydn, variant0, "
               "irl or the test files",
        licence=_ESSEN_LICENCE, loops=True, default_qpm=96.0),
    Repertory(
        label="chinese_folk", title="Essen folk-song collection, Chinese (Han) songs",
        composers=("traditional",), period="collected 20th century",
        corpus="essenFolksong/han1.abc, han2.abc; one song (X: number)",
        licence=_ESSEN_LICENCE, loops=True, default_qpm=80.0),
)}

# Tempo words of a score's opening (no metronome mark): quarter notes per minute in a meter
# counted in quarters; a meter counted in halves (2/2, 3/2, 4/2) plays 1.5 times as many
# quarters a minute (alla breve), one counted in eighths (6/8, 3/8) about as many.
_TEMPO_WORDS = {
    "grave": 44, "largo": 50, "lento": 56, "adagio": 60, "larghetto": 66, "andante": 80,
    "andantino": 88, "moderato": 104, "maestoso": 92, "allegretto": 112, "allegro": 138,
    "vivace": 152, "presto": 176, "prestissimo": 200,
}
_METER_FACTOR = {1: 2.0, 2: 1.5, 4: 1.0, 8: 1.0, 16: 0.75}


def corpus_root() -> Path:
    """The folder of music21's corpus (``<site-packages>/music21/corpus``), without importing
    music21."""
    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        raise ScoreError("music21", "music21 is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "corpus"


def _version_key() -> str:
    """music21's ``major.minor``: the cache folder name."""
    return ".".join(MUSIC21_VERSION.split(".")[:2])


@dataclasses.dataclass(frozen=True, order=True)
class Piece:
    """One piece: a score file of the corpus, or one tune of an abc collection.

    Attributes
    ----------
    label : str
        Its class.
    corpus_path : str
        Posix path relative to :func:`corpus_root` (``"bach/bwv66.6.mxl"``), or an absolute
        path for a file outside the corpus (:func:`read_score_file`).
    number : int or None
        The tune's ``X:`` number inside an abc collection; None for a file that is one piece.
    """

    label: str
    corpus_path: str
    number: int | None = None

    @property
    def id(self) -> str:
        """Corpus path without extension, plus ``#<X number>``: ``"essenFolksong/han1#12"``.

        It is the piece's group: a split never puts one piece on two sides.
        """
        stem = str(PurePosixPath(self.corpus_path).with_suffix(""))
        return stem if self.number is None else f"{stem}#{self.number}"

    @property
    def group(self) -> str:
        """What a split must keep on one side: the piece, or for Palestrina its whole mass.

        The Palestrina files are sections of movements of about 105 masses, named by the
        mass's number (``Credo_72_a``, ``Credo_72_b``, ``Agnus_II_72``; files without a
        number are one unnumbered mass), so ``"palestrina/mass_72"``. Every other piece is
        its own group (its :attr:`id`).
        """
        if self.label == "palestrina" and self.corpus_path.startswith("palestrina/"):
            number = re.search(r"_(\d+)", PurePosixPath(self.corpus_path).stem)
            return f"palestrina/mass_{int(number.group(1)) if number else 'unnumbered'}"
        return self.id

    @property
    def safe_id(self) -> str:
        """:attr:`id` as a file name: ``/`` -> ``--``, ``#`` -> ``-x``, other characters
        outside ``[A-Za-z0-9._-]`` -> ``_`` (``"essenFolksong--han1-x12"``)."""
        text = self.id.replace("/", "--").replace("#", "-x")
        return re.sub(r"[^A-Za-z0-9._-]", "_", text)

    @property
    def where(self) -> str:
        """The corpus path, plus ``#<X number>`` for a tune: how errors name the piece."""
        return self.corpus_path if self.number is None else f"{self.corpus_path}#{self.number}"

    @property
    def path(self) -> Path:
        """The file on this machine."""
        p = Path(self.corpus_path)
        return p if p.is_absolute() else corpus_root() / p


# ---------------------------------------------------------------------------------------
# Listing


def _files(root: Path, pattern: str) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.glob(pattern) if p.is_file())


_X_LINE = re.compile(r"^X:\s*(\d+)", re.MULTILINE)
_T_LINE = re.compile(r"^T:\s*(.*)$", re.MULTILINE)


def _abc_tunes(path: Path) -> list[tuple[int, str]]:
    """``(X number, first title)`` of each tune of an abc file, in file order; a number seen
    twice in one file is kept once (music21 can only reach the first)."""
    text = path.read_text(encoding="latin-1")
    starts = [(m.start(), int(m.group(1))) for m in _X_LINE.finditer(text)]
    tunes, seen = [], set()
    for i, (pos, number) in enumerate(starts):
        if number in seen:
            continue
        seen.add(number)
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        title = _T_LINE.search(text, pos, end)
        tunes.append((number, title.group(1).strip() if title else ""))
    return tunes


_BACH_VARIANT = re.compile(r"^(bwv\d+(?:\.\d+)?)")
_GERMAN_FILES = ("altdeu", "ballad", "boehme", "dva", "erk1", "erk2", "erk3", "fink",
                 "kinder", "zuccal")


def _list_files(label: str, root: Path) -> list[str]:
    if label == "bach":
        files = [f for f in _files(root, "bach/*.mxl") + _files(root, "bach/*.xml")
                 if not f.startswith("bach/bwv846")]
        kept, seen = [], set()
        # one file per BWV movement: the plain name first (bwv69.6.xml before bwv69.6-a.mxl)
        for f in sorted(files, key=lambda f: (_BACH_VARIANT.match(Path(f).stem).group(1)
                                              if _BACH_VARIANT.match(Path(f).stem) else f,
                                              "-" in Path(f).stem, f)):
            m = _BACH_VARIANT.match(Path(f).stem)
            key = m.group(1) if m else f
            if key not in seen:
                seen.add(key)
                kept.append(f)
        return sorted(kept)
    if label == "palestrina":
        return _files(root, "palestrina/*.krn")
    if label == "monteverdi":
        return _files(root, "monteverdi/*.mxl")
    if label == "trecento":  # one Kyrie is there as .xml and .mxl: keep the .mxl
        mxl = _files(root, "trecento/*.mxl")
        stems = {str(PurePosixPath(f).with_suffix("")) for f in mxl}
        return sorted(mxl + [f for f in _files(root, "trecento/*.xml")
                             if str(PurePosixPath(f).with_suffix("")) not in stems])
    if label == "quartets":
        files = [f for d in ("haydn", "mozart", "beethoven")
                 for f in _files(root, f"{d}/**/*.mxl") + _files(root, f"{d}/**/*.krn")]
        files = [f for f in files if not f.startswith("mozart/k545/")]
        stems = {str(PurePosixPath(f).with_suffix("")) for f in files if f.endswith(".mxl")}
        return sorted(f for f in files
                      if f.endswith(".mxl") or str(PurePosixPath(f).with_suffix("")) not in stems)
    if label == "irish":
        return _files(root, "oneills1850/*.abc")
    if label == "german_folk":
        return [f for f in _files(root, "essenFolksong/*.abc")
                if PurePosixPath(f).name.startswith(_GERMAN_FILES)]
    if label == "chinese_folk":
        return [f for f in _files(root, "essenFolksong/*.abc")
                if PurePosixPath(f).name.startswith("han")]
    raise KeyError(label)


@functools.lru_cache(maxsize=None)
def _list_pieces(label: str, root: str) -> tuple[Piece, ...]:
    rootp = Path(root)
    files = _list_files(label, rootp)
    if not all(f.endswith(".abc") for f in files):
        return tuple(Piece(label, f) for f in files)
    pieces, seen = [], set()
    for f in files:
        for number, title in _abc_tunes(rootp / f):
            # O'Neill's files overlap (tune 550 is in two files; 732-758 are there in two
            # transcriptions): the number is O'Neill's, one number is one tune
            if label == "irish":
                if number in seen:
                    continue
                seen.add(number)
            pieces.append(Piece(label, f, number))
    return tuple(sorted(pieces))


def list_pieces(label: str) -> list[Piece]:
    """The pieces of one class, sorted and deterministic.

    Cheap: a file listing plus a text scan of the abc collections' ``X:`` lines; no music is
    parsed (so a listed piece may still fail in :func:`read_piece`).

    Parameters
    ----------
    label : str
        A key of :data:`REPERTORIES`.

    Returns
    -------
    list of Piece
        Sorted by (corpus path, number).
    """
    if label not in REPERTORIES:
        raise KeyError(f"unknown composers label {label!r}; known: {', '.join(REPERTORIES)}")
    return list(_list_pieces(label, str(corpus_root())))


# ---------------------------------------------------------------------------------------
# Notes


@dataclasses.dataclass
class ScoreNotes:
    """The notes of one piece, in seconds.

    Attributes
    ----------
    piece : Piece
    notes : np.ndarray, structured, shape (n_notes,), dtype :data:`NOTE_DTYPE`
        Fields ``part`` (int16, 0 .. n_parts - 1), ``start_s`` and ``duration_s`` (float64,
        seconds, durations > 0), ``midi`` (float32, MIDI pitch), ``velocity`` (float32, 0..1
        from the score's dynamics, :data:`DEFAULT_VELOCITY` before any). Sorted by start,
        then part, then pitch. A chord is several notes; tied notes are one note; grace notes
        are left out.
    n_parts : int
        Parts that have notes.
    seconds : float
        End of the last note, seconds.
    tempo : str
        Where the tempo came from: ``"metronome marks: quarter = 60..120"``,
        ``"tempo word 'Presto': quarter = 176"``, ``"default (palestrina): quarter = 200"``,
        ``"default (reel): quarter = 200"`` or ``"default (given): quarter = 90"``.
    repeats : str
        ``"expanded"`` or ``"as written: <why>"`` (``"as written: no repeat marks"``; abc
        tunes are never expanded: ``"as written: abc tune, looped by the dataset"``).
    part_names : list of str
        Names of the parts from the score (``"Soprano"``, ``"Violin I"``), ``"Part <n>"``
        where the score names none; length ``n_parts``.
    parse_s, extract_s : float
        Seconds spent parsing the file and turning it into notes (NaN when read from the
        cache).
    default_qpm : float or None
        The default tempo the times were computed with, or None where the score's marks or
        tempo word set it.
    """

    piece: Piece
    notes: np.ndarray
    n_parts: int
    seconds: float
    tempo: str
    repeats: str
    part_names: list[str]
    parse_s: float = math.nan
    extract_s: float = math.nan
    default_qpm: float | None = None


def _abc_header_field(path: Path, number: int, field: str) -> str | None:
    """The value of header ``field`` (``"R"``) in tune ``X: number`` of an abc file."""
    text = path.read_text(encoding="latin-1")
    m = re.search(rf"^X:\s*{number}\s*$", text, re.MULTILINE)
    if m is None:
        return None
    nxt = _X_LINE.search(text, m.end())
    block = text[m.end(): nxt.start() if nxt else len(text)]
    f = re.search(rf"^{field}:\s*(.*?)\s*$", block, re.MULTILINE)
    return f.group(1) if f else None


def _parse(path: Path, number: int | None):
    from music21 import converter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if number is None:
            return converter.parse(path, forceSource=True)
        return converter.parse(path, number=number, forceSource=True)


def _has_repeats(score) -> bool:
    from music21 import bar, repeat

    parts = list(score.parts) or [score]
    return any(isinstance(el, (bar.Repeat, repeat.RepeatExpression))
               for el in parts[0].recurse())


#: Scores longer than this as written (quarter notes) keep their repeats unexpanded: an
#: excerpt of a long movement never needs them, and music21 takes seconds to expand them
#: (11.7 s of the 16 s that Mozart's K. 458/iv costs).
EXPAND_MAX_QL = 480.0


def _expand(score) -> tuple[object, str]:
    if not _has_repeats(score):
        return score, "as written: no repeat marks"
    if float(score.highestTime) > EXPAND_MAX_QL:
        return score, f"as written: longer than {EXPAND_MAX_QL:g} quarter notes, repeats not expanded"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expanded = score.expandRepeats()
    except Exception as exc:  # music21's ExpanderException and relatives
        return score, "as written: " + (" ".join(str(exc).split())[:120] or type(exc).__name__)
    return expanded, "expanded"


def _part_rows(part, index: int, marks: list, words: list) -> list[tuple]:
    """One pass over a part's flattened elements: notes (ties merged), dynamics, tempo."""
    from music21 import chord, dynamics, expressions, note, tempo

    rows: list[list] = []  # [part, start_ql, dur_ql, midi, velocity]
    open_ties: dict[float, int] = {}
    velocity = DEFAULT_VELOCITY
    for el in part.flatten():
        if isinstance(el, note.NotRest):
            dur = el.duration
            if dur.isGrace:
                continue
            ql = float(dur.quarterLength)
            if ql <= 0:
                continue
            start = float(el.offset)
            if isinstance(el, note.Note):
                members = ((el.pitch.ps, el.tie),)
            elif isinstance(el, chord.Chord):
                members = tuple((n.pitch.ps, n.tie if n.tie is not None else el.tie)
                                for n in el.notes)
            else:  # unpitched percussion
                continue
            vel = velocity
            for midi, tie in members:
                kind = tie.type if tie is not None else None
                if kind in ("stop", "continue") and midi in open_ties:
                    row = rows[open_ties[midi]]
                    row[2] = max(row[2], start + ql - row[1])
                    if kind == "stop":
                        del open_ties[midi]
                    continue
                rows.append([index, start, ql, midi, vel])
                if kind in ("start", "continue"):
                    open_ties[midi] = len(rows) - 1
                else:
                    open_ties.pop(midi, None)
        elif isinstance(el, dynamics.Dynamic):
            scalar = el.volumeScalar
            if scalar is not None:
                velocity = float(min(max(scalar, 0.05), 1.0))
        elif isinstance(el, tempo.MetronomeMark):
            if el.number is not None and not el.numberImplicit:
                marks.append((float(el.offset), float(el.getQuarterBPM()), index))
            elif el.text and float(el.offset) < 8:
                words.append((float(el.offset), str(el.text)))
        elif isinstance(el, (expressions.TextExpression, tempo.TempoText)) and float(el.offset) < 8:
            words.append((float(el.offset), str(el.content if hasattr(el, "content") else el.text)))
    return rows


def _meter_denominator(score) -> int:
    from music21 import meter

    parts = list(score.parts) or [score]
    ts = parts[0].recurse().getElementsByClass(meter.TimeSignature).first()
    return int(ts.denominator) if ts is not None else 4


def _word_qpm(words: list, denominator: int) -> tuple[str, float] | None:
    for _, text in sorted(words):
        first = re.split(r"[^a-zà-ÿ]+", text.strip().lower())
        first = [w for w in first if w]
        if first and first[0] in _TEMPO_WORDS:
            qpm = _TEMPO_WORDS[first[0]] * _METER_FACTOR.get(denominator, 1.0)
            return text.strip(), qpm
    return None


def _seconds(ql: np.ndarray, marks: list[tuple[float, float]]) -> np.ndarray:
    """Quarter-note offsets -> seconds through a piecewise-constant tempo map."""
    at = np.array([m[0] for m in marks])
    qpm = np.array([m[1] for m in marks])
    at[0] = 0.0  # the first mark holds from the start (a mark in a pickup bar)
    seg_s = np.concatenate([[0.0], np.cumsum(np.diff(at) * 60.0 / qpm[:-1])])
    k = np.searchsorted(at, ql, side="right") - 1
    return seg_s[k] + (ql - at[k]) * 60.0 / qpm[k]


def _extract(score, piece: Piece, default: tuple[str, float]) -> ScoreNotes:
    """Notes of a parsed (and expanded) score in seconds; ``default`` = (source, qpm)."""
    parts = list(score.parts) or [score]
    marks: list = []
    words: list = []
    rows: list = []
    names: list[str] = []
    kept = 0
    for part in parts:
        part_rows = _part_rows(part, kept, marks, words if kept == 0 else [])
        if part_rows:
            rows.extend(part_rows)
            names.append(str(part.partName or f"Part {kept + 1}"))
            kept += 1
    if not rows:
        raise ScoreError(piece.where, "no notes")
    table = np.array(rows, dtype=np.float64)  # (n, 5)
    start_ql, end_ql = table[:, 1], table[:, 1] + table[:, 2]
    default_qpm: float | None = None
    if marks:
        marks.sort(key=lambda m: (m[0], m[2]))
        merged: list[tuple[float, float]] = []
        for at, qpm, _ in marks:
            if merged and abs(merged[-1][0] - at) < 1e-9:
                continue  # the same mark in another part
            if merged and merged[-1][1] == qpm:
                continue
            merged.append((at, qpm))
        lo, hi = min(q for _, q in merged), max(q for _, q in merged)
        tempo_text = (f"metronome marks: quarter = {lo:g}" if lo == hi
                      else f"metronome marks: quarter = {lo:g}..{hi:g}")
    else:
        word = _word_qpm(words, _meter_denominator(score))
        if word is not None:
            lo = hi = word[1]
            tempo_text = f"tempo word {word[0]!r}: quarter = {word[1]:g}"
        else:
            lo = hi = default_qpm = float(default[1])
            tempo_text = f"default ({default[0]}): quarter = {default_qpm:g}"
        merged = [(0.0, lo)]
    if not (MIN_QPM <= lo and hi <= MAX_QPM):
        raise ScoreError(piece.where, f"absurd tempo: {tempo_text}")
    start_s = _seconds(start_ql, merged)
    end_s = _seconds(end_ql, merged)
    notes = np.empty(len(table), dtype=NOTE_DTYPE)
    notes["part"] = table[:, 0]
    notes["start_s"] = start_s
    notes["duration_s"] = end_s - start_s
    notes["midi"] = table[:, 3]
    notes["velocity"] = table[:, 4]
    notes = notes[np.lexsort((notes["midi"], notes["part"], notes["start_s"]))]
    seconds = float(end_s.max())
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise ScoreError(piece.where, f"absurd length: {seconds:.1f} s ({tempo_text})")
    return ScoreNotes(piece=piece, notes=notes, n_parts=kept, seconds=seconds,
                      tempo=tempo_text, repeats="", part_names=names, default_qpm=default_qpm)


def _default_tempo(piece: Piece, default_qpm: float | None) -> tuple[str, float]:
    if default_qpm is not None:
        return "given", float(default_qpm)
    rep = REPERTORIES.get(piece.label)
    if rep is None:
        return "musiclib", 100.0
    if rep.tune_qpm and piece.number is not None:
        kind = _tune_kind(piece)
        for name, qpm in rep.tune_qpm:
            if kind == name:
                return name, qpm
    return rep.label, rep.default_qpm


# O'Neill's Music of Ireland, by section: (last number, tune type)
_ONEILL_SECTIONS = ((700, "air"), (1115, "jig"), (1175, "slip jig"), (1555, "reel"),
                    (1780, "hornpipe"), (1800, "set dance"), (1850, "march"))
_SLOW_WORDS = ("slow", "tender", "feeling", "plaintive", "mournful", "sad", "lament")
_LIVELY_WORDS = ("lively", "spirit", "animated", "brisk", "quick", "gay", "cheerful")


def _tune_kind(piece: Piece) -> str | None:
    """An abc tune's type: its ``R:`` field, else (O'Neill) its section of the book."""
    kind = _abc_header_field(piece.path, piece.number, "R")
    if kind and kind.strip():
        return kind.strip().lower()
    if piece.label != "irish" or piece.number is None:
        return None
    for last, name in _ONEILL_SECTIONS:
        if piece.number <= last:
            break
    else:
        return None
    if name == "air":
        note = (_abc_header_field(piece.path, piece.number, "N") or "").lower()
        if any(w in note for w in _SLOW_WORDS):
            return "slow air"
        if any(w in note for w in _LIVELY_WORDS):
            return "lively air"
    return name


def read_score_file(path: str | Path, *, number: int | None = None, label: str = "",
                    default_qpm: float | None = None) -> ScoreNotes:
    """Parse one score file (any format music21 reads) into notes in seconds.

    The lower level of :func:`read_piece`, for files outside the corpus.

    Parameters
    ----------
    path : str or Path
        The file (MusicXML, .mxl, Humdrum .krn, abc, ...).
    number : int, optional
        The tune's ``X:`` number in an abc collection.
    label : str
        A key of :data:`REPERTORIES` whose default tempo applies, or ``""``.
    default_qpm : float, optional
        Tempo (quarter notes per minute) where the score has no metronome mark and no tempo
        word; default: the repertory's.

    Returns
    -------
    ScoreNotes

    Raises
    ------
    ScoreError
        ``"<path>[#n]: <reason>"``: file missing or unparsable, no notes, absurd length
        (< 4 s or > 30 min) or tempo.
    """
    path = Path(path)
    root = corpus_root()
    try:
        corpus_path = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        corpus_path = str(path)
    piece = Piece(label, corpus_path, number)
    return _read(piece, default_qpm)


def _read(piece: Piece, default_qpm: float | None) -> ScoreNotes:
    path = piece.path
    if not path.is_file():
        raise ScoreError(piece.where, "no such file")
    t0 = time.perf_counter()
    try:
        score = _parse(path, piece.number)
    except ScoreError:
        raise
    except Exception as exc:
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise ScoreError(piece.where, f"parse failure: {type(exc).__name__}: {reason}") from exc
    if score is None or not hasattr(score, "flatten"):
        raise ScoreError(piece.where, "parse failure: music21 returned no score")
    t1 = time.perf_counter()
    if path.suffix.lower() == ".abc":
        # music21's expansion of abc repeats can run away (a 30 s jig became 37 min), and
        # the dataset loops folk tunes and songs anyway
        repeats = "as written: abc tune, looped by the dataset"
    else:
        written = float(score.highestTime)
        expanded, repeats = _expand(score)
        if repeats == "expanded" and float(expanded.highestTime) > 4 * written:
            repeats = (f"as written: expansion {float(expanded.highestTime) / written:.1f} "
                       f"times the written length")
        else:
            score = expanded
    result = _extract(score, piece, _default_tempo(piece, default_qpm))
    result.repeats = repeats
    result.parse_s, result.extract_s = t1 - t0, time.perf_counter() - t1
    return result


# ---------------------------------------------------------------------------------------
# Cache


def cache_path(piece: Piece, cache_dir: str | Path) -> Path:
    """``<cache_dir>/<music21 major.minor>/<piece.safe_id>.npz``."""
    return Path(cache_dir) / _version_key() / f"{piece.safe_id}.npz"


def _save(result: ScoreNotes, path: Path) -> None:
    from musiclib import safe_write

    meta = {"format": CACHE_FORMAT, "music21": MUSIC21_VERSION, "id": result.piece.id,
            "n_parts": result.n_parts, "seconds": result.seconds, "tempo": result.tempo,
            "repeats": result.repeats, "part_names": result.part_names,
            "default_qpm": result.default_qpm}
    safe_write.write_file(path, lambda fh: np.savez(fh, notes=result.notes,
                                                    meta=np.array(json.dumps(meta))))


def _load(piece: Piece, path: Path, default_qpm: float | None) -> ScoreNotes | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            notes = data["notes"]
            meta = json.loads(str(data["meta"]))
    except (OSError, ValueError, KeyError):
        return None  # unreadable: parse again
    if meta.get("format") != CACHE_FORMAT or meta.get("id") != piece.id \
            or notes.dtype != NOTE_DTYPE:
        return None
    if meta.get("error"):  # a parse failure or a score without notes, kept too
        raise ScoreError(piece.where, meta["error"])
    result = ScoreNotes(piece=piece, notes=notes, n_parts=int(meta["n_parts"]),
                        seconds=float(meta["seconds"]), tempo=meta["tempo"],
                        repeats=meta["repeats"], part_names=list(meta["part_names"]),
                        default_qpm=meta["default_qpm"])
    wanted = _default_tempo(piece, default_qpm) if result.default_qpm is not None else None
    if wanted is not None and wanted[1] != result.default_qpm:
        # the cached times were made at another default tempo (one constant tempo): rescale
        scale = result.default_qpm / wanted[1]
        notes = notes.copy()
        notes["start_s"] *= scale
        notes["duration_s"] *= scale
        result.notes, result.seconds = notes, result.seconds * scale
        result.tempo = f"default ({wanted[0]}): quarter = {wanted[1]:g}"
        result.default_qpm = wanted[1]
        if not MIN_SECONDS <= result.seconds <= MAX_SECONDS:
            raise ScoreError(piece.where, f"absurd length: {result.seconds:.1f} s "
                                          f"({result.tempo})")
    return result


def read_piece(piece: Piece, *, cache_dir: str | Path | None = None,
               default_qpm: float | None = None) -> ScoreNotes:
    """The notes of one corpus piece, in seconds.

    Parses with music21 (an abc tune by its ``X:`` number), expands repeats where music21
    can (else keeps the score as written and says why in ``repeats``; abc tunes are kept as
    written, the dataset loops them), takes every part's
    notes and chords (a chord is several notes), merges ties, drops grace notes, and times
    the notes from the score's metronome marks (a piecewise-constant tempo map), else from a
    tempo word at its start ("Allegro"), else from the default tempo.

    Parameters
    ----------
    piece : Piece
        From :func:`list_pieces`.
    cache_dir : str or Path, optional
        Keep the notes in ``<cache_dir>/<music21 major.minor>/<safe id>.npz`` (written with
        :mod:`musiclib.safe_write`) and read them back next time: same result, no parsing.
        A parse failure or a score without notes is kept too (the same ScoreError again).
    default_qpm : float, optional
        Quarter notes per minute for a score with no mark and no tempo word; default: the
        repertory's (:attr:`Repertory.default_qpm`, or the tune type's for Irish tunes). A
        cached piece timed at another default is rescaled, not re-parsed.

    Returns
    -------
    ScoreNotes

    Raises
    ------
    ScoreError
        One line ``"<corpus path>[#n]: <reason>"``: parse failure, no notes, absurd length
        (< 4 s or > 30 min) or absurd tempo (quarter < 20 or > 500 per minute).
    """
    if cache_dir is None:
        return _read(piece, default_qpm)
    path = cache_path(piece, cache_dir)
    if path.is_file():
        cached = _load(piece, path, default_qpm)
        if cached is not None:
            return cached
    try:
        result = _read(piece, default_qpm)
    except ScoreError as exc:
        # what does not depend on the tempo is kept, so a bad score is parsed once too
        if exc.reason.startswith(_CACHED_ERRORS):
            _save_error(piece, exc.reason, path)
        raise
    _save(result, path)
    return result


_CACHED_ERRORS = ("parse failure", "no notes")


def _save_error(piece: Piece, reason: str, path: Path) -> None:
    from musiclib import safe_write

    meta = {"format": CACHE_FORMAT, "music21": MUSIC21_VERSION, "id": piece.id,
            "error": reason}
    safe_write.write_file(path, lambda fh: np.savez(fh, notes=np.empty(0, NOTE_DTYPE),
                                                    meta=np.array(json.dumps(meta))))


# ---------------------------------------------------------------------------------------
# Catalogue

CATALOGUE_COLUMNS = ("label", "id", "corpus_path", "number", "n_parts", "n_notes", "seconds",
                     "tempo", "repeats", "parse_s", "extract_s", "cached", "error")


def catalogue(labels: Iterable[str] | None = None, *, cache_dir: str | Path | None = None,
              progress: bool = False, sample: int | None = None, seed: int = 0):
    """Every piece of some classes, read once: its length, or why it cannot be used.

    Parameters
    ----------
    labels : iterable of str, optional
        Keys of :data:`REPERTORIES`; default all, in table order.
    cache_dir : str or Path, optional
        As :func:`read_piece`: with it, a second catalogue parses nothing.
    progress : bool
        Show progress (:func:`musiclib.progress.progress`).
    sample : int, optional
        Read at most this many pieces per label, drawn at random with ``seed`` (the big folk
        collections hold thousands); None reads every piece.

    Returns
    -------
    pandas.DataFrame
        One row per piece read, columns :data:`CATALOGUE_COLUMNS`: ``label``, ``id``,
        ``corpus_path``, ``number`` (abc X number or <NA>), ``n_parts``, ``n_notes``,
        ``seconds`` (at the default tempo; NaN on error), ``tempo``, ``repeats``,
        ``parse_s`` / ``extract_s`` (seconds; NaN when cached or failed), ``cached``
        (bool), ``error`` (the :class:`ScoreError` reason, ``""`` when usable).
    """
    import pandas as pd

    from musiclib.progress import progress as progress_bar

    labels = list(REPERTORIES) if labels is None else list(labels)
    pieces = []
    for label in labels:
        listed = list_pieces(label)
        if sample is not None and len(listed) > sample:
            keep = np.random.default_rng([seed, len(listed)]).choice(len(listed), sample, replace=False)
            listed = [listed[i] for i in sorted(keep)]
        pieces += listed
    rows = []
    for piece in progress_bar(pieces, desc="scores", unit="piece", disable=not progress):
        cached = cache_dir is not None and cache_path(piece, cache_dir).is_file()
        row = dict(label=piece.label, id=piece.id, corpus_path=piece.corpus_path,
                   number=piece.number, n_parts=0, n_notes=0, seconds=math.nan, tempo="",
                   repeats="", parse_s=math.nan, extract_s=math.nan, cached=cached, error="")
        try:
            notes = read_piece(piece, cache_dir=cache_dir)
        except ScoreError as exc:
            row["error"] = exc.reason
        else:
            row.update(n_parts=notes.n_parts, n_notes=len(notes.notes), seconds=notes.seconds,
                       tempo=notes.tempo, repeats=notes.repeats, parse_s=notes.parse_s,
                       extract_s=notes.extract_s)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(CATALOGUE_COLUMNS))
    frame["number"] = frame["number"].astype("Int64")
    return frame


def error_kind(reason: str) -> str:
    """The kind of a :class:`ScoreError` reason, for tallies: its text before the first
    ``:`` (``"parse failure"``, ``"absurd length"``, ``"no notes"``, ...)."""
    return reason.split(":", 1)[0].strip()
