"""The built-in composers dataset: real compositions from music21's corpus, rendered offline.

What is **real** here is the music: the notes of scores by Bach, Palestrina, Monteverdi,
the Italian Trecento, Haydn, Mozart and Beethoven, and of Irish, German and Chinese folk
tunes, as encoded in the corpus that ships with ``music21`` (see :mod:`musiclib.scores` for
the classes, the pieces and their licences). What is **not** real is the performance: the
instruments (:mod:`musiclib.instruments`), the tempo, the key, the balance and the room are
drawn per piece from one pool shared by every class, so a model has to learn the music —
harmony, counterpoint, rhythm, form — and cannot learn "the organ means Bach".

Each piece gives one WAV file: an excerpt of ``seconds_per_piece`` seconds (a folk tune or
song shorter than that is played again from the start, as its next verse would be; other
pieces are cut where they end). The loader cuts the files into clips of the profile's clip
length, and every clip keeps its piece as ``group``, so a split by recording never puts one
piece on two sides.

Per piece, from ``np.random.SeedSequence([seed, stable_hash(piece id)])`` — so a piece's
audio never depends on which other pieces are drawn, in which order or by how many processes:

==================  ===========================================================================
tempo               the score's metronome marks (or its repertory's usual tempo) x 0.9-1.1
transposition       -3 to +3 semitones
instruments         a lead instrument for the top part (each label cycles through the whole
                    :data:`POOL` in its own order, so no label is linked to an instrument),
                    played by every part (40%) or with the other parts drawn from the pool
                    (60%); each part with its own variant
balance             each part +-3 dB
room                RT60 0.3-2.5 s, 10-45% wet
level               peak between -11 and -1 dBFS
excerpt             where the excerpt starts (a note onset) in a piece longer than needed
==================  ===========================================================================

Layout: ``out_dir/<label>/<piece>.wav`` (16-bit PCM, 22050 Hz, mono) and
``out_dir/composers.json``, written last: parameters, the music21 version, every file with its
score (corpus path and tune number), excerpt offset, tempo, transposition, instruments, room and
licence, and every score that was skipped with the reason.

Taught in ``notebooks/00_setup_and_data.ipynb``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from . import safe_write
from .config import SAMPLE_RATE, Profile, get_profile
from .errors import MusiclibError

__all__ = [
    "COMPOSERS_VERSION",
    "MARKER",
    "POOL",
    "choose_pieces",
    "draw_performance",
    "lead_instruments",
    "excerpt_notes",
    "render_piece",
    "write_dataset",
    "is_complete",
    "read_marker",
    "manifest_extras",
]

COMPOSERS_VERSION = 3  # bump whenever the audio a seed produces changes
MARKER = "composers.json"

TEMPO_SCALE = (0.9, 1.1)
TRANSPOSE_SEMITONES = (-3, 3)
ONE_INSTRUMENT_SHARE = 0.4
PART_LEVEL_DB = 3.0
RT60_S = (0.3, 2.5)
WET = (0.10, 0.45)
PEAK_DBFS = (-11.0, -1.0)
MIDI_RANGE = (24.0, 100.0)  # transposed notes are folded back into this range by octaves
#: The instruments a piece is played on (:mod:`musiclib.instruments`), the same for every class.
POOL = ("strings", "organ", "piano", "voice", "harpsichord", "guitar", "flute", "reed", "brass",
        "accordion", "plucked")


def _stable_hash(text: str) -> int:
    from .synth import stable_hash

    return stable_hash(text)


def _rng(seed: int, kind: str, name: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), _stable_hash(f"composers/{kind}/{name}")]))


def safe_name(piece_id: str) -> str:
    """A file-name-safe form of a piece id: ``essenFolksong/han1#12`` -> ``essenFolksong_han1_12``."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", piece_id).strip("._")


# ---------------------------------------------------------------------------------------
# Choosing and performing pieces
# ---------------------------------------------------------------------------------------


def choose_pieces(label: str, seed: int, *, small_scores: bool = False) -> list:
    """The pieces of ``label`` in the order the dataset draws them with ``seed``.

    The dataset takes the first pieces of this order that read and render; a failing one is
    replaced by the next. The order depends only on ``(seed, label, small_scores)``.

    Parameters
    ----------
    label : str
    seed : int
    small_scores : bool
        Draw only among the smaller half of the label's score files (at least 8 pieces), as
        the ``tiny`` profile does: music21's parsing time grows with the file (a Beethoven
        movement takes seconds, a chorale a tenth of one). Tunes of one abc collection share
        a file and count as small when the collection is.

    Returns
    -------
    list of musiclib.scores.Piece
    """
    from .scores import list_pieces

    pieces = list_pieces(label)
    if small_scores:
        by_size = sorted(pieces, key=lambda p: (p.path.stat().st_size, p.id))
        keep = {p.id for p in by_size[:max(8, (len(by_size) + 1) // 2)]}
        pieces = [p for p in pieces if p.id in keep]
    order = _rng(seed, "draw", label).permutation(len(pieces))
    return [pieces[i] for i in order]


def lead_instruments(label: str, seed: int, n: int) -> list[str]:
    """The lead instrument of each of a label's first ``n`` pieces (in draw order).

    Every label cycles through the whole pool in its own shuffled order, so with few pieces
    per label each label still gets each instrument about equally often: drawn independently
    per piece, 12 pieces leave chance links between a label and an instrument that a network
    learns (measured: "organ or strings means quartets" sent 21 of 64 recordings played with
    a General MIDI SoundFont to ``quartets``).

    Returns
    -------
    list of str
        Names of :data:`POOL`.
    """
    order = _rng(seed, "lead", label).permutation(len(POOL))
    return [POOL[int(order[k % len(POOL)])] for k in range(n)]


def draw_performance(n_parts: int, rng: np.random.Generator, *, lead: str | None = None) -> dict:
    """How one piece is played: tempo scale, transposition, an instrument per part, balance,
    room and level, drawn from one pool shared by every class (:data:`POOL`).

    Parameters
    ----------
    n_parts : int
        Parts (voices) of the score.
    rng : numpy.random.Generator
    lead : str, optional
        The instrument of the first (top) part, and of every part when one instrument plays
        them all (:func:`lead_instruments`); default: drawn from the pool.

    Returns
    -------
    dict
        JSON-able: ``tempo_scale`` (>1 is faster), ``transpose`` (semitones),
        ``ensemble`` (``"one instrument"`` or ``"mixed"``), ``parts`` (one dict per part:
        ``instrument``, ``variant``, ``level_db``), ``rt60_s``, ``wet``, ``peak_dbfs``.
    """
    from .instruments import draw_variant

    tempo_scale = float(rng.uniform(*TEMPO_SCALE))
    transpose = int(rng.integers(TRANSPOSE_SEMITONES[0], TRANSPOSE_SEMITONES[1] + 1))
    one = bool(rng.random() < ONE_INSTRUMENT_SHARE)
    drawn = str(POOL[int(rng.integers(len(POOL)))])
    shared = drawn if lead is None else lead
    parts = []
    for k in range(max(int(n_parts), 1)):
        name = shared if (one or k == 0) else str(POOL[int(rng.integers(len(POOL)))])
        parts.append({"instrument": name, "variant": draw_variant(name, rng),
                      "level_db": float(rng.uniform(-PART_LEVEL_DB, PART_LEVEL_DB))})
    return {
        "tempo_scale": tempo_scale,
        "transpose": transpose,
        "ensemble": "one instrument" if one else "mixed",
        "parts": parts,
        "rt60_s": float(rng.uniform(*RT60_S)),
        "wet": float(rng.uniform(*WET)),
        "peak_dbfs": float(rng.uniform(*PEAK_DBFS)),
    }


def excerpt_notes(notes: np.ndarray, piece_seconds: float, span_s: float, *, loops: bool,
                  rng: np.random.Generator) -> tuple[np.ndarray, float, int]:
    """The notes of an excerpt of ``span_s`` seconds of score time, starting at 0.

    Parameters
    ----------
    notes : structured array (:data:`musiclib.instruments.NOTE_DTYPE`)
        The whole piece, times in score seconds.
    piece_seconds : float
        The piece's length (end of its last note).
    span_s : float
        Seconds of score time wanted.
    loops : bool
        Play a piece shorter than ``span_s`` again from the start (folk songs, dance tunes).
    rng : numpy.random.Generator
        Draws where a longer piece's excerpt starts: a note onset.

    Returns
    -------
    notes : structured array
        The excerpt's notes, times from the excerpt's start; notes running past the end are
        shortened.
    start_s : float
        Where the excerpt starts in the piece (score seconds).
    passes : int
        How many times the piece is played (1 unless it loops).
    """
    if piece_seconds > span_s:
        onsets = np.unique(notes["start_s"][notes["start_s"] <= piece_seconds - span_s])
        start = float(onsets[int(rng.integers(len(onsets)))]) if len(onsets) else 0.0
        passes = 1
    else:
        start = 0.0
        passes = int(np.ceil(span_s / piece_seconds)) if loops else 1
    copies = []
    for k in range(passes):
        c = notes.copy()
        c["start_s"] = c["start_s"] + k * piece_seconds - start
        copies.append(c)
    out = np.concatenate(copies)
    out = out[(out["start_s"] >= -1e-9) & (out["start_s"] < span_s)]
    out["start_s"] = np.maximum(out["start_s"], 0.0)
    out["duration_s"] = np.minimum(out["duration_s"], span_s - out["start_s"])
    return out, start, passes


def _transpose(midi: np.ndarray, semitones: int) -> np.ndarray:
    m = midi + semitones
    lo, hi = MIDI_RANGE
    m = np.where(m < lo, m + 12 * np.ceil((lo - m) / 12), m)
    return np.where(m > hi, m - 12 * np.ceil((m - hi) / 12), m).astype(midi.dtype)


def render_piece(score, seconds: float, *, seed: int, loops: bool, lead: str | None = None,
                 sr: int = SAMPLE_RATE) -> tuple[np.ndarray, dict]:
    """Perform an excerpt of a piece: ``seconds`` of audio, or less when a piece that does not
    loop ends sooner.

    Parameters
    ----------
    score : musiclib.scores.ScoreNotes
        The piece's notes (times in score seconds).
    seconds : float
        Length of the excerpt in seconds of audio.
    seed : int
        Dataset seed; the piece's own draws come from ``(seed, piece id)``.
    loops : bool
        Whether the piece's repertory is played again when it is shorter (folk tunes).
    lead : str, optional
        The lead instrument (:func:`lead_instruments`); default: drawn.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    y : np.ndarray, float32, shape (n,)
        Mono waveform, ``n <= round(seconds * sr)``, peak at the drawn level.
    info : dict
        The performance (:func:`draw_performance`) plus ``score_offset_s`` (where the excerpt
        starts in the score, seconds at the score's tempo), ``passes`` and ``seconds``.
    """
    from .instruments import add_room, mix_parts, render_part

    rng = _rng(seed, "piece", score.piece.id)
    perf = draw_performance(score.n_parts, rng, lead=lead)
    span = float(seconds) * perf["tempo_scale"]  # score seconds that fill `seconds` of audio
    notes, start, passes = excerpt_notes(score.notes, score.seconds, span, loops=loops, rng=rng)
    notes["start_s"] = notes["start_s"] / perf["tempo_scale"]
    notes["duration_s"] = notes["duration_s"] / perf["tempo_scale"]
    notes["midi"] = _transpose(notes["midi"], perf["transpose"])
    audio_s = min(float(seconds), (passes * score.seconds - start) / perf["tempo_scale"])
    n = int(round(audio_s * sr))
    tail = int(0.5 * sr)  # release tails and the room ring on past the last note ...
    parts = []
    for k, part in enumerate(perf["parts"]):
        these = notes[notes["part"] == k]
        parts.append(render_part(these, part["instrument"], part["variant"], sr=sr,
                                 n_samples=n + tail, rng=rng))
    mix = mix_parts(parts, [10 ** (p["level_db"] / 20) for p in perf["parts"]])
    mix = add_room(mix, rt60=perf["rt60_s"], wet=perf["wet"], sr=sr, rng=rng)
    y = mix[:n] - np.mean(mix[:n])  # ... but the excerpt ends where its notes end
    peak = float(np.max(np.abs(y))) if n else 0.0
    if peak < 1e-9:
        raise MusiclibError(f"{score.piece.id}: the excerpt at {start:.1f} s is silent")
    y = (y * (10 ** (perf["peak_dbfs"] / 20) / peak)).astype(np.float32)
    info = {**perf, "score_offset_s": round(start, 4), "passes": passes, "seconds": round(n / sr, 4)}
    return y, info


# ---------------------------------------------------------------------------------------
# Writing the dataset
# ---------------------------------------------------------------------------------------


def read_marker(out_dir) -> dict | None:
    """The ``composers.json`` of a dataset folder, or None."""
    return safe_write.read_marker(out_dir, MARKER)


def is_complete(out_dir) -> bool:
    """Whether ``out_dir`` holds a finished composers dataset of this :data:`COMPOSERS_VERSION`:
    its marker (written last) and every file it lists (:func:`musiclib.safe_write.is_finished`)."""
    if not safe_write.is_finished(out_dir, MARKER):
        return False
    return read_marker(out_dir).get("composers_version") == COMPOSERS_VERSION


def _make_one(piece, label: str, lead: str, seconds: float, min_seconds: float, seed: int,
              loops: bool, cache_dir, folder: str) -> dict:
    """Read, perform and write one piece; a dict describing the file, or ``{"error": ...}``."""
    import soundfile as sf

    from .scores import ScoreError, read_piece

    try:
        score = read_piece(piece, cache_dir=cache_dir)
        y, info = render_piece(score, seconds, seed=seed, loops=loops, lead=lead)
    except (ScoreError, MusiclibError) as err:
        return {"piece": piece.id, "error": str(err)}
    except Exception as err:  # music21 raises many kinds; one bad score must not stop a batch
        return {"piece": piece.id, "error": f"{piece.id}: {type(err).__name__}: {err}"}
    if len(y) < min_seconds * SAMPLE_RATE:
        return {"piece": piece.id, "error": f"{piece.id}: {len(y) / SAMPLE_RATE:.1f} s of music, "
                                             f"shorter than one clip ({min_seconds:g} s)"}
    rel = f"{label}/{safe_name(piece.id)}.wav"
    sf.write(str(Path(folder) / rel), y, SAMPLE_RATE, subtype="PCM_16", format="WAV")
    return {"path": rel, "label": label, "piece": piece.id, "group": piece.group, "score": piece.corpus_path,
            "number": piece.number, "n_parts": int(score.n_parts), "part_names": list(score.part_names),
            "piece_seconds": round(float(score.seconds), 3), "tempo": score.tempo,
            "repeats": score.repeats, **info}


def write_dataset(out_dir, *, profile: str | Profile | None = None, seed: int = 0,
                  labels=None, pieces_per_label: int | None = None,
                  seconds_per_piece: float | None = None, cache_dir=None, jobs: int = 1,
                  progress: bool = False) -> Path:
    """Render the composers dataset into a folder of label sub-folders.

    Per label, pieces are taken in :func:`choose_pieces` order; a score that fails to parse
    or render (or is shorter than one clip) is skipped, listed with its reason in the marker,
    and replaced by the next piece. The folder is rendered under a temporary name and put in
    place at the end (:func:`musiclib.safe_write.replace_folder`): an interrupted run leaves
    nothing half-written. A folder that already holds this dataset with the same parameters
    is kept as it is.

    Parameters
    ----------
    out_dir : path
        Target folder.
    profile : str or Profile
        Gives ``pieces_per_label`` (``profile.composer_pieces``), ``seconds_per_piece``
        (``profile.composer_seconds``) and the clip length.
    seed : int
        Dataset seed (>= 0): which pieces, and how each is performed.
    labels : list of str, optional
        A subset of :data:`musiclib.scores.REPERTORIES` (default: all).
    pieces_per_label, seconds_per_piece : optional
        Override the profile's.
    cache_dir : path, optional
        Where parsed scores are kept (:func:`musiclib.scores.read_piece`), so that each score
        is parsed once per machine.
    jobs : int
        Worker processes (joblib); the files are identical for any value.
    progress : bool
        Show progress (:func:`musiclib.progress.progress`).

    Returns
    -------
    Path
        ``out_dir``.

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    from .scores import MUSIC21_VERSION, REPERTORIES

    out_dir = Path(out_dir).expanduser().absolute()
    prof = get_profile(profile)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise MusiclibError(f"seed must be a non-negative integer, got {seed!r}")
    n_pieces = int(prof.composer_pieces if pieces_per_label is None else pieces_per_label)
    seconds = float(prof.composer_seconds if seconds_per_piece is None else seconds_per_piece)
    if n_pieces < 1 or not np.isfinite(seconds) or seconds <= 0:
        raise MusiclibError(f"pieces per label must be >= 1 and seconds per piece > 0, got {n_pieces}, {seconds}")
    names = list(REPERTORIES) if labels is None else ([labels] if isinstance(labels, str) else list(labels))
    for name in names:
        if name not in REPERTORIES:
            raise MusiclibError(f"unknown composers label {name!r}: choose from {', '.join(REPERTORIES)}")
    min_seconds = min(prof.clip_seconds, seconds)
    params = {"composers_version": COMPOSERS_VERSION, "music21": MUSIC21_VERSION.split(".")[0],
              "profile": prof.name, "seed": int(seed), "sample_rate": SAMPLE_RATE, "labels": names,
              "pieces_per_label": n_pieces, "seconds_per_piece": seconds, "min_seconds": min_seconds,
              "small_scores": bool(prof.composer_small_scores)}
    if safe_write.is_finished(out_dir, MARKER, params=params):
        return out_dir
    if out_dir.exists() and not (out_dir / MARKER).is_file():
        if not out_dir.is_dir() or any(p.name not in REPERTORIES and not p.name.startswith(".")
                                       for p in out_dir.iterdir()):
            raise MusiclibError(f"{out_dir}: exists and is not a composers dataset; "
                                "choose another folder or remove it")
    small = bool(prof.composer_small_scores)
    orders = {label: choose_pieces(label, int(seed), small_scores=small) for label in names}
    leads = {label: lead_instruments(label, int(seed), len(orders[label])) for label in names}
    jobs = max(int(jobs), 1)

    def render(folder: Path) -> None:
        for label in names:
            (folder / label).mkdir(parents=True)
        files: dict[str, list[dict]] = {label: [] for label in names}
        skipped: list[dict] = []
        taken = {label: 0 for label in names}  # how far down each label's order we went
        bar = None
        if progress:
            from .progress import progress as tqdm

            bar = tqdm(total=n_pieces * len(names), desc=f"composers {out_dir.name}", unit="piece")
        while True:
            # one round: as many more pieces per label as are still missing (a prefix of the order)
            calls = []
            for label in names:
                missing = n_pieces - len(files[label])
                more = orders[label][taken[label]:taken[label] + missing]
                calls += [(p, label, leads[label][taken[label] + k]) for k, p in enumerate(more)]
                taken[label] += len(more)
            if not calls:
                break
            args = [(p, label, lead, seconds, min_seconds, int(seed), REPERTORIES[label].loops, cache_dir,
                     str(folder)) for p, label, lead in calls]
            if jobs == 1:
                results = [_make_one(*a) for a in args]
            else:
                from joblib import Parallel, delayed

                results = Parallel(n_jobs=jobs)(delayed(_make_one)(*a) for a in args)
            for (piece, label, _), res in zip(calls, results):
                if "error" in res:
                    skipped.append({"label": label, "piece": piece.id, "score": piece.corpus_path,
                                    "number": piece.number, "reason": res["error"]})
                else:
                    res["licence"] = REPERTORIES[label].licence
                    files[label].append(res)
                    if bar is not None:
                        bar.update(1)
        if bar is not None:
            bar.close()
        meta = {
            "description": "real compositions from music21's corpus, performed by musiclib's "
                           "instruments (musiclib.composers)",
            "composers_version": COMPOSERS_VERSION,
            "music21_version": MUSIC21_VERSION,
            "profile": prof.name,
            "seed": int(seed),
            "params": params,
            "labels": {label: {"title": REPERTORIES[label].title, "composers": REPERTORIES[label].composers,
                               "licence": REPERTORIES[label].licence, "files": len(files[label]),
                               "pieces_available": len(orders[label])} for label in names},
            "files": [f for label in names for f in files[label]],
            "skipped": skipped,
        }
        with open(folder / MARKER, "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=1)

    safe_write.build_folder(out_dir, render, marker=MARKER, params=params)
    return out_dir


def manifest_extras(out_dir, manifest):
    """Add the composers columns to a manifest of ``out_dir``'s files.

    ``group`` becomes the piece's group (:attr:`musiclib.scores.Piece.group`: the piece, or a
    Palestrina movement's mass), and the columns are added: ``piece`` (its id), ``score``
    (corpus path), ``number`` (tune in an abc
    collection), ``score_offset_s`` (where the row starts in the score, seconds at the score's
    tempo), ``instruments`` (one per part, comma-separated) and ``licence``.

    Parameters
    ----------
    out_dir : path
        A complete composers dataset.
    manifest : pandas.DataFrame
        Its manifest (:mod:`musiclib.datasets`), one row per clip.

    Returns
    -------
    pandas.DataFrame
        A copy with the columns added.
    """
    meta = read_marker(out_dir) or {"files": []}
    root = Path(out_dir).resolve()
    by_path = {str((root / f["path"]).resolve()): f for f in meta["files"]}
    out = manifest.copy()
    rows = [by_path.get(str(Path(p).resolve()), {}) for p in out["path"]]
    out["group"] = [r.get("group", g) for r, g in zip(rows, out["group"])]
    out["piece"] = [r.get("piece") for r in rows]
    out["score"] = [r.get("score") for r in rows]
    out["number"] = [r.get("number") for r in rows]
    out["score_offset_s"] = [round(r.get("score_offset_s", 0.0) + off * r.get("tempo_scale", 1.0), 3)
                             for r, off in zip(rows, out["offset_s"].fillna(0.0))]
    out["instruments"] = [", ".join(p["instrument"] for p in r.get("parts", [])) for r in rows]
    out["licence"] = [r.get("licence") for r in rows]
    return out
