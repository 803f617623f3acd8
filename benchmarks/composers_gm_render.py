"""Render held-out corpus pieces with a General MIDI SoundFont: the composers transfer check.

A dev tool, not part of musiclib and not part of ``make test``. It runs with a separate tool
environment (``/work/gmvenv``: music21 10.5.1, pretty_midi, numpy, soundfile, optionally
tinysoundfont) plus the ``fluidsynth`` program and a GM SoundFont (FluidR3_GM.sf2 from the
Debian package ``fluid-soundfont-gm``; else pretty_midi's TimGM6mb.sf2).

What it makes: "the same repertories played with sampled instruments" -- for each of the
composers dataset's 8 labels, K pieces of music21's corpus that the dataset did NOT use (by the
dataset's ``composers.json`` manifest, or ``--exclude-file``), each parsed with music21, written
to MIDI, given General MIDI programs per part the way a person would (chorales on organ, choir
or strings; quartets on violin/viola/cello; fiddle tunes on fiddle, flute, accordion ...,
chosen per piece from a seed), rendered with the SoundFont and written as
``<out>/<label>/<safe piece id>.wav`` (22050 Hz, mono, 16-bit, at most ``--seconds`` long).
``<out>/gm_render.json`` lists every file with its programs, window and synth.

Deterministic: the same pieces, programs, windows and samples for the same arguments.

Usage::

    /work/gmvenv/bin/python benchmarks/composers_gm_render.py --out /tmp/gm \
        --manifest /path/to/composers-fast/composers.json --per-label 8 --seed 0
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

LABELS = ("bach", "palestrina", "monteverdi", "trecento", "quartets", "irish",
          "german_folk", "chinese_folk")
SR = 22050
GERMAN_FILES = ("altdeu", "ballad", "boehme", "dva", "erk1", "erk2", "erk3", "fink", "kinder",
                "zuccal")
LOOPING = {"irish", "german_folk", "chinese_folk"}
# Quarter notes per minute for scores without a metronome mark (range drawn per piece).
DEFAULT_QPM = {
    "bach": (66, 90), "palestrina": (110, 150), "monteverdi": (90, 130),
    "trecento": (90, 130), "quartets": (90, 140), "irish": (150, 210),
    "german_folk": (90, 130), "chinese_folk": (70, 110),
}

# ---------------------------------------------------------------------------------------------
# General MIDI programs (0-based) and the ensembles a person would pick per repertory.
# An ensemble is (name, programs from the highest part to the lowest); a single program means
# every part plays it. Parts are ranked by mean pitch, the highest gets the first program.
GM = {
    "piano": 0, "harpsichord": 6, "church_organ": 19, "reed_organ": 20, "accordion": 21,
    "harmonica": 22, "bandoneon": 23, "nylon_guitar": 24, "steel_guitar": 25,
    "violin": 40, "viola": 41, "cello": 42, "contrabass": 43, "harp": 46,
    "strings1": 48, "strings2": 49, "choir_aahs": 52, "voice_oohs": 53, "synth_voice": 54,
    "trumpet": 56, "trombone": 57, "tuba": 58, "french_horn": 60, "brass_section": 61,
    "soprano_sax": 64, "oboe": 68, "english_horn": 69, "bassoon": 70, "clarinet": 71,
    "flute": 73, "recorder": 74, "pan_flute": 75, "shakuhachi": 77, "whistle": 78,
    "ocarina": 79, "banjo": 105, "shamisen": 106, "koto": 107, "bagpipe": 109, "fiddle": 110,
}
_CHOIR = [("choir", ["choir_aahs"]), ("oohs", ["voice_oohs"]),
          ("choir_mixed", ["choir_aahs", "voice_oohs", "voice_oohs", "choir_aahs"])]
_ORGAN = [("organ", ["church_organ"]), ("reed_organ", ["reed_organ"])]
_STRINGS = [("string_ensemble", ["strings1"]), ("string_ensemble2", ["strings2"]),
            ("string_consort", ["violin", "violin", "viola", "cello", "contrabass"])]
_BRASS = [("brass_consort", ["trumpet", "trumpet", "french_horn", "trombone", "tuba"])]
_WINDS = [("wind_consort", ["flute", "oboe", "clarinet", "bassoon", "bassoon"]),
          ("recorders", ["recorder", "recorder", "recorder", "bassoon"])]
ENSEMBLES = {
    "bach": _ORGAN + _CHOIR + _STRINGS + _BRASS + [("piano", ["piano"])],
    "palestrina": _CHOIR + _CHOIR + _ORGAN + _STRINGS[:2] + _BRASS,
    "monteverdi": _CHOIR + _CHOIR + _STRINGS + [("viols_lute", ["viola", "viola", "cello",
                                                               "cello", "nylon_guitar"])],
    "trecento": _CHOIR + _WINDS[1:] + [
        ("voice_fiddle_lute", ["voice_oohs", "viola", "nylon_guitar"]),
        ("voice_harp", ["choir_aahs", "harp", "harp"]),
        ("shawm_band", ["oboe", "english_horn", "bassoon"]),
        ("portative", ["reed_organ", "recorder", "reed_organ"])],
    "quartets": [("quartet", ["violin", "violin", "viola", "cello"])] * 4
                + [("string_orchestra", ["strings1"])],
    "irish": [("fiddle", ["fiddle"]), ("violin", ["violin"]), ("flute", ["flute"]),
              ("whistle", ["whistle"]), ("accordion", ["accordion"]),
              ("concertina", ["bandoneon"]), ("pipes", ["bagpipe"]), ("harp", ["harp"]),
              ("banjo", ["banjo"])],
    "german_folk": [("voice", ["choir_aahs"]), ("oohs", ["voice_oohs"]),
                    ("recorder", ["recorder"]), ("flute", ["flute"]),
                    ("clarinet", ["clarinet"]), ("violin", ["violin"]),
                    ("accordion", ["accordion"]), ("guitar", ["nylon_guitar"]),
                    ("piano", ["piano"]), ("horn", ["french_horn"])],
    "chinese_folk": [("dizi", ["flute"]), ("xiao", ["shakuhachi"]), ("pan_flute", ["pan_flute"]),
                     ("erhu", ["violin"]), ("voice", ["voice_oohs"]),
                     ("pipa", ["shamisen"]), ("zheng", ["koto"]), ("oboe_suona", ["oboe"])],
}


# ---------------------------------------------------------------------------------------------
# The corpus listing (the spec's table) -- used until musiclib.scores.list_pieces exists.

@dataclass(frozen=True)
class Piece:
    """One piece: ``label``, ``score`` (corpus path, posix), ``number`` (abc X:) or None."""
    label: str
    score: str
    number: int | None = None
    title: str = ""
    key: str = ""   # content key: two pieces with one key are the same music (format/edition)

    @property
    def id(self) -> str:
        stem = re.sub(r"\.(mxl|xml|krn|abc|musicxml)$", "", self.score)
        return stem if self.number is None else f"{stem}#{self.number}"


def corpus_root() -> Path:
    from music21 import common
    return Path(common.getCorpusFilePath())


def _abc_tunes(path: Path) -> list[tuple[int, str, str]]:
    """(X number, title, Essen N: code) of each tune in an abc collection, by a text scan."""
    tunes: list[list] = []
    for line in path.read_text(encoding="latin-1").splitlines():
        m = re.match(r"^X:\s*(\d+)", line)
        if m:
            tunes.append([int(m.group(1)), "", ""])
        elif tunes and line.startswith("T:") and not tunes[-1][1]:
            tunes[-1][1] = line[2:].strip()
        elif tunes and line.startswith("N:") and not tunes[-1][2]:
            tunes[-1][2] = line[2:].strip()
    return [tuple(t) for t in tunes]


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _file_key(label: str, rel: str) -> str:
    """Same music, other file: bwv69.6.xml / bwv69.6-a.mxl / bwv277.krn; *_old, *_bak copies."""
    stem = PurePosixPath(rel).with_suffix("").as_posix()
    stem = re.sub(r"(_old|_bak)$", "", stem)
    m = re.match(r"^(bach/bwv\d+(?:\.\d+)?)", stem)
    if label == "bach" and m:
        stem = m.group(1)
    return label + ":" + _norm(stem)


def _tune_key(label: str, number: int, title: str, code: str) -> str:
    # O'Neill's X: is the tune's number in the book (files overlap); Essen tunes have N: codes.
    return label + ":" + (str(number) if label == "irish" else (code or _norm(title)))


def list_pieces(label: str) -> list[Piece]:
    """Every piece of one label, sorted by id, one per content key (our own listing)."""
    root = corpus_root()

    def files(pattern_dir: str, exts: tuple[str, ...]) -> list[Path]:
        return sorted(p for p in (root / pattern_dir).rglob("*") if p.suffix in exts)

    out: list[Piece] = []
    if label in ("bach", "palestrina", "monteverdi", "trecento", "quartets"):
        if label == "bach":
            paths = [p for p in files("bach", (".mxl", ".xml", ".krn"))
                     if p.parent.name == "bach" and p.name.startswith("bwv")
                     and not p.name.startswith("bwv846")]  # the Well-Tempered Clavier
        elif label == "palestrina":
            paths = files("palestrina", (".krn",))
        elif label == "monteverdi":
            paths = files("monteverdi", (".mxl",))
        elif label == "trecento":
            paths = files("trecento", (".xml", ".mxl"))
        else:
            paths = (files("haydn", (".mxl", ".krn"))
                     + [p for p in files("mozart", (".mxl", ".krn"))
                        if "k545" not in p.parts]  # K. 545 is a piano sonata
                     + files("beethoven", (".mxl", ".krn")))
        pref = {".mxl": 0, ".xml": 1, ".krn": 2}
        by_key: dict[str, Path] = {}
        for p in paths:
            rel = p.relative_to(root).as_posix()
            key = _file_key(label, rel)
            if key not in by_key or (pref[p.suffix], len(p.name)) < (
                    pref[by_key[key].suffix], len(by_key[key].name)):
                by_key[key] = p
        for key, p in by_key.items():
            rel = p.relative_to(root).as_posix()
            out.append(Piece(label, rel, None, p.stem, key))
    else:
        if label == "irish":
            paths = files("oneills1850", (".abc",))
        elif label == "german_folk":
            paths = [p for p in files("essenFolksong", (".abc",))
                     if p.name.startswith(GERMAN_FILES)]
        elif label == "chinese_folk":
            paths = [p for p in files("essenFolksong", (".abc",))
                     if p.name in ("han1.abc", "han2.abc")]
        else:
            raise SystemExit(f"composers_gm_render: unknown label {label!r}")
        seen: set[str] = set()
        for p in paths:
            rel = p.relative_to(root).as_posix()
            for number, title, code in _abc_tunes(p):
                key = _tune_key(label, number, title, code)
                if key in seen:
                    continue
                seen.add(key)
                out.append(Piece(label, rel, number, title, key))
    return sorted(out, key=lambda q: q.id)


def _excluded(manifest: Path | None, exclude_file: Path | None) -> tuple[set[str], set[str]]:
    """(ids, score paths without extension) used by the dataset."""
    ids: set[str] = set()
    if manifest is not None:
        data = json.loads(manifest.read_text())
        rows = data if isinstance(data, list) else (data.get("files") or data.get("pieces") or [])
        for row in rows:
            if isinstance(row, str):
                ids.add(row)
                continue
            if row.get("piece"):
                ids.add(row["piece"])
            elif row.get("score"):
                score = re.sub(r"\.(mxl|xml|krn|abc|musicxml)$", "", row["score"])
                ids.add(score if row.get("number") is None else f"{score}#{row['number']}")
        if not ids:
            raise SystemExit(f"{manifest}: no pieces found in the manifest")
    if exclude_file is not None:
        ids |= {ln.strip() for ln in exclude_file.read_text().splitlines() if ln.strip()}
    return ids, {i.split("#")[0] for i in ids}


def held_out_candidates(label: str, excluded_ids: set[str], seed: int) -> tuple[list[Piece], int]:
    """Pieces of ``label`` disjoint from the excluded ones, in a seeded order; and how many left.

    A piece is excluded when its id is used, or when it has the same content key as a used
    piece (the same chorale as .krn and .mxl; the same O'Neill tune number in two files; the
    same Essen code). For repertories of whole files, the score path (minus extension) also
    decides.
    """
    pieces = list_pieces(label)
    used_keys = {p.key for p in pieces if p.id in excluded_ids}
    excluded_stems = {i for i in excluded_ids if "#" not in i}
    free, seen = [], set(used_keys)
    for p in pieces:
        if p.id in excluded_ids or p.key in seen or (p.number is None and p.id in excluded_stems):
            continue
        seen.add(p.key)   # one piece per content key (madrigal.3.1 and madrigal.3.1_old)
        free.append(p)
    rng = np.random.default_rng(_seed_of(seed, "order", label))
    order = rng.permutation(len(free))
    return [free[i] for i in order], len(pieces) - len(free)


# ---------------------------------------------------------------------------------------------
# Rendering

def _seed_of(*parts) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "little")


def safe_id(piece_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", piece_id.replace("/", "__").replace("#", "_n"))


def find_soundfont(given: str | None) -> Path:
    cands = [given] if given else [
        "/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/soundfonts/FluidR3_GM.sf2"]
    if not given:
        try:
            import pretty_midi
            cands.append(str(Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"))
        except ImportError:
            pass
    for c in cands:
        if c and Path(c).is_file():
            return Path(c)
    raise SystemExit(f"composers_gm_render: no GM SoundFont found (tried {cands})")


def _parse(piece: Piece):
    from music21 import converter, corpus
    path = corpus_root() / piece.score
    if piece.number is None:
        return corpus.parse(piece.score)
    return converter.parse(str(path), number=piece.number)


def score_to_notes(piece: Piece, rng: np.random.Generator, where: str = "start"):
    """Parse, expand repeats, set a tempo when the score has none; return pretty_midi parts.

    Returns (list of (mean pitch, [pretty_midi.Note]) per part, seconds, tempo note, whether
    only a window of measures was kept).
    """
    import pretty_midi
    from music21 import midi as m21midi
    from music21 import tempo as m21tempo
    from music21 import stream as m21stream

    score = _parse(piece)
    if not isinstance(score, m21stream.Score):
        s = m21stream.Score()
        s.insert(0, score)
        score = s
    windowed = score.highestTime > EXPAND_MAX_QL
    unexpanded = score
    if windowed:
        # a long movement: only a window of measures is needed (music21's repeat expansion and
        # MIDI writing of a whole Beethoven movement take minutes)
        score = _measure_window(score, where)
    else:
        try:
            expanded = score.expandRepeats()
            if expanded.highestTime > 0:
                score = expanded
        except Exception:   # music21 cannot expand every repeat structure: play as written
            pass
    marks = list(score.recurse().getElementsByClass(m21tempo.MetronomeMark))
    qpm = None
    if marks:
        tempo_note = "score"
    else:
        lo, hi = DEFAULT_QPM[piece.label]
        qpm = float(rng.uniform(lo, hi))
        tempo_note = f"default {qpm:.0f} qpm"

    def with_tempo(sc):
        _unshare(sc)
        if qpm is not None:
            for part in sc.parts:
                part.insert(0, m21tempo.MetronomeMark(number=qpm))
            if not sc.parts:
                sc.insert(0, m21tempo.MetronomeMark(number=qpm))
        return sc

    try:
        mf = m21midi.translate.streamToMidiFile(with_tempo(score))
    except Exception:  # music21 10.5 trips on some expanded abc tunes (a meter "already found")
        if unexpanded is score:
            raise
        score = with_tempo(unexpanded)
        tempo_note += "; repeats as written"
        mf = m21midi.translate.streamToMidiFile(score)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "score.mid"
        mf.open(str(path), "wb")
        mf.write()
        mf.close()
        pm = pretty_midi.PrettyMIDI(str(path))
    parts = []
    for inst in pm.instruments:
        notes = [n for n in inst.notes if n.end > n.start]
        if inst.is_drum or not notes:
            continue
        parts.append((float(np.mean([n.pitch for n in notes])), notes))
    if not parts:
        raise ValueError("no notes")
    seconds = max(n.end for _, notes in parts for n in notes)
    return parts, seconds, tempo_note, windowed


def _unshare(score) -> None:
    """Copy meter/key/tempo objects that sit in two places: music21 10.5's MIDI writer gathers
    them into one conductor stream and fails on one object found twice (some abc tunes)."""
    import copy
    from music21 import key, meter, tempo
    seen: set[int] = set()
    for st in list(score.recurse(streamsOnly=True, includeSelf=True)):
        for el in list(st.getElementsByClass(
                (meter.TimeSignature, key.KeySignature, tempo.MetronomeMark))):
            if id(el) in seen:
                st.replace(el, copy.deepcopy(el))
            seen.add(id(el))


EXPAND_MAX_QL = 480.0   # longer scores: no repeat expansion, a window of measures instead
WINDOW_QL = 240.0       # quarter notes kept (30 s even at 480 qpm)


def _measure_window(score, where: str):
    """The measures of ``score`` covering WINDOW_QL quarter notes from the start (or middle)."""
    part = score.parts[0]
    measures = list(part.getElementsByClass("Measure"))
    if not measures:
        return score
    starts = [m.offset for m in measures]
    total = score.highestTime
    t0 = 0.0 if where == "start" else max(0.0, total / 2 - WINDOW_QL / 2)
    i0 = max(0, int(np.searchsorted(starts, t0, side="right")) - 1)
    i1 = int(np.searchsorted(starts, starts[i0] + WINDOW_QL, side="left"))
    n0 = measures[i0].number
    n1 = measures[min(i1, len(measures) - 1)].number
    window = score.measures(n0, n1)
    if window.highestTime <= 0:
        return score
    # a window may hold half a repeat, which music21's MIDI writer cannot expand: drop repeats
    from music21 import bar, repeat
    for el in list(window.recurse().getElementsByClass((bar.Repeat,
                                                        repeat.RepeatExpression))):
        el.activeSite.remove(el)
    return window


def choose_ensemble(label: str, n_parts: int, rng: np.random.Generator) -> tuple[str, list[int]]:
    """Programs for parts ranked highest to lowest, drawn from the label's ensembles."""
    name, progs = ENSEMBLES[label][int(rng.integers(len(ENSEMBLES[label])))]
    if len(progs) == 1:
        return name, [GM[progs[0]]] * n_parts
    if n_parts <= len(progs):
        # keep the top voices and the bass instrument
        picked = progs[: n_parts - 1] + [progs[-1]] if n_parts > 1 else progs[:1]
    else:
        picked = progs[:-1] + [progs[-2]] * (n_parts - len(progs)) + [progs[-1]]
        # more parts than instruments: repeat the inner voice, bass stays last
    return name, [GM[p] for p in picked]


def arrange(piece: Piece, parts, seconds: float, rng: np.random.Generator, *,
            excerpt_s: float, where: str, windowed: bool = False):
    """Pick programs, loop short folk pieces, cut the window; return a pretty_midi object + info."""
    import pretty_midi

    ranked = sorted(range(len(parts)), key=lambda i: -parts[i][0])
    ens_name, progs = choose_ensemble(piece.label, len(parts), rng)
    prog_of = {part_i: progs[r] for r, part_i in enumerate(ranked)}
    events = [(i, n) for i, (_, notes) in enumerate(parts) for n in notes]
    total = seconds
    if piece.label in LOOPING and seconds < excerpt_s:
        # strophic songs and fiddle tunes: the next verse / the tune again, after a short breath
        period = seconds + float(rng.uniform(0.0, 0.6))
        reps = int(np.ceil(excerpt_s / period))
        events = [(i, pretty_midi.Note(n.velocity, n.pitch, n.start + k * period,
                                       n.end + k * period))
                  for k in range(reps) for i, n in events]
        total = reps * period
    t0 = 0.0
    if where == "middle" and total > excerpt_s and not windowed:
        mid = (total - excerpt_s) / 2
        onsets = np.array(sorted({round(n.start, 4) for _, n in events}))
        t0 = float(onsets[np.argmin(np.abs(onsets - mid))])
    t1 = min(total, t0 + excerpt_s)
    vel_scale = float(rng.uniform(0.8, 1.1))
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    insts: dict[int, pretty_midi.Instrument] = {}
    for i, n in events:
        if n.end <= t0 or n.start >= t1:
            continue
        if i not in insts:
            insts[i] = pretty_midi.Instrument(program=prog_of[i], name=f"part{i}")
        insts[i].notes.append(pretty_midi.Note(
            int(np.clip(round(n.velocity * vel_scale), 20, 127)), n.pitch,
            max(0.0, n.start - t0), min(t1, n.end) - t0))
    if not insts:
        raise ValueError("no notes in the window")
    pm.instruments = [insts[i] for i in sorted(insts)]
    # GM channel 9 is drums: pretty_midi assigns channels skipping 9 itself.
    info = {"ensemble": ens_name, "programs": [prog_of[i] for i in sorted(insts)],
            "window_s": [round(t0, 3), round(t1, 3)], "piece_seconds": round(seconds, 3),
            "looped": bool(total > seconds), "n_parts": len(parts)}
    return pm, t1 - t0, info


def synthesize(pm, sf2: Path, synth: str, seconds: float, tmp: Path) -> np.ndarray:
    """Mono float32 at SR of a pretty_midi object, ``seconds`` long."""
    n = int(round(seconds * SR))
    if synth == "fluidsynth":
        import soundfile as sf
        mid, wav = tmp / "x.mid", tmp / "x.wav"
        pm.write(str(mid))
        cmd = ["fluidsynth", "-ni", "-q", "-g", "0.5", "-r", str(SR), "-T", "wav",
               "-F", str(wav), str(sf2), str(mid)]
        # fluidsynth 2.3's fast render sometimes never ends (a player that stays "playing"):
        # it writes in order, so stop it once the file holds the excerpt plus a 2 s tail
        want = 64 + (n + 2 * SR) * 4   # stereo int16
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        t_end = time.monotonic() + 120
        while proc.poll() is None:
            if (wav.is_file() and wav.stat().st_size >= want) or time.monotonic() > t_end:
                proc.kill()
                proc.wait()
                break
            time.sleep(0.05)
        if not wav.is_file():
            raise RuntimeError(f"fluidsynth failed: {proc.stderr.read().decode()[:200]}")
        proc.stderr.close()
        raw = wav.read_bytes()
        at = raw.find(b"data", 0, 4096)
        if at < 0:
            raise RuntimeError("fluidsynth wrote no WAV data chunk")
        pcm = np.frombuffer(raw[at + 8:], dtype="<i2")
        pcm = pcm[: len(pcm) // 2 * 2].reshape(-1, 2).astype(np.float32) / 32768.0
        y = pcm.mean(axis=1)
        wav.unlink()
    else:
        import tinysoundfont
        tsf = tinysoundfont.Synth(samplerate=SR, gain=-6)
        sfid = tsf.sfload(str(sf2))
        events = []
        for ch, inst in enumerate(pm.instruments):
            ch = ch if ch < 9 else ch + 1
            tsf.program_select(ch, sfid, 0, inst.program)
            for note in inst.notes:
                events.append((note.start, 1, ch, note.pitch, note.velocity))
                events.append((note.end, 0, ch, note.pitch, 0))
        events.sort()
        out = np.zeros(n + SR, dtype=np.float32)
        pos = 0
        for t, on, ch, pitch, vel in events + [(seconds, -1, 0, 0, 0)]:
            target = min(int(round(t * SR)), len(out))
            if target > pos:
                buf = np.frombuffer(tsf.generate(target - pos), dtype=np.float32)
                out[pos:target] = buf.reshape(-1, 2).mean(axis=1)
                pos = target
            if on == 1:
                tsf.noteon(ch, pitch, vel)
            elif on == 0:
                tsf.noteoff(ch, pitch)
        y = out[:pos]
    y = y[:n]
    if len(y) < n:
        y = np.pad(y, (0, n - len(y)))
    return y.astype(np.float32)


def write_wav(path: Path, y: np.ndarray, peak_db: float) -> None:
    import soundfile as sf
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    if peak <= 0:
        raise ValueError("silent rendering")
    y = y / peak * 10 ** (peak_db / 20)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.wav")
    sf.write(str(tmp), y, SR, subtype="PCM_16")
    os.replace(tmp, path)


def render_label(label: str, k: int, excluded: set[str], args, sf2: Path, synth: str,
                 tmp: Path) -> list[dict]:
    cands, n_excl = held_out_candidates(label, excluded, args.seed)
    rows: list[dict] = []
    skipped = 0
    for piece in cands:
        if len(rows) >= k:
            break
        rng = np.random.default_rng(_seed_of(args.seed, piece.id))
        t = time.perf_counter()
        try:
            parts, seconds, tempo_note, windowed = score_to_notes(piece, rng, args.where)
            if seconds < 4:
                raise ValueError(f"too short ({seconds:.1f} s)")
            pm, dur, info = arrange(piece, parts, seconds, rng, excerpt_s=args.seconds,
                                    where=args.where, windowed=windowed)
            y = synthesize(pm, sf2, synth, dur, tmp)
            out = Path(args.out) / label / f"{safe_id(piece.id)}.wav"
            write_wav(out, y, float(rng.uniform(-6.0, -1.0)))
        except Exception as exc:  # a score music21 cannot read or play: take the next one
            skipped += 1
            print(f"  skip {piece.id}: {type(exc).__name__}: {str(exc)[:120]}", file=sys.stderr)
            continue
        row = {"label": label, "piece": piece.id, "score": piece.score, "number": piece.number,
               "title": piece.title, "path": f"{label}/{out.name}", "seconds": round(dur, 3),
               "tempo": tempo_note, "synth": synth, **info}
        rows.append(row)
        print(f"  {label:13s} {piece.id:50s} {row['ensemble']:18s} {dur:5.1f} s "
              f"({time.perf_counter() - t:4.1f} s)", flush=True)
    print(f"{label}: {len(rows)} rendered, {skipped} skipped, {n_excl} excluded as the "
          f"dataset's, {len(cands)} candidates", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output folder (one subfolder per label)")
    ap.add_argument("--manifest", type=Path, help="the dataset's composers.json (pieces to avoid)")
    ap.add_argument("--exclude-file", type=Path, help="piece ids to avoid, one a line")
    ap.add_argument("--per-label", type=int, default=8, help="pieces per label (default 8)")
    ap.add_argument("--labels", default=",".join(LABELS), help="comma-separated labels")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=30.0, help="excerpt length (default 30)")
    ap.add_argument("--where", choices=("start", "middle"), default="start",
                    help="excerpt from the start (default) or the middle of each piece")
    ap.add_argument("--soundfont", help="a GM .sf2 (default FluidR3_GM, else TimGM6mb)")
    ap.add_argument("--synth", choices=("auto", "fluidsynth", "tinysoundfont"), default="auto")
    ap.add_argument("--use-musiclib-scores", action="store_true",
                    help="list pieces with musiclib.scores.list_pieces (needs it importable)")
    args = ap.parse_args(argv)
    if args.manifest is None and args.exclude_file is None:
        ap.error("give --manifest or --exclude-file: held-out pieces must avoid the dataset's")
    import warnings
    warnings.filterwarnings("ignore")   # music21's notes on overfull measures etc.
    import music21
    if music21.__version__ != "10.5.1":
        print(f"warning: music21 {music21.__version__}, the dataset uses 10.5.1", file=sys.stderr)
    if args.use_musiclib_scores:
        _use_musiclib_listing()
    sf2 = find_soundfont(args.soundfont)
    synth = args.synth
    if synth == "auto":
        synth = "fluidsynth" if shutil.which("fluidsynth") else "tinysoundfont"
    excluded, _ = _excluded(args.manifest, args.exclude_file)
    print(f"soundfont {sf2} via {synth}; {len(excluded)} dataset pieces excluded", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label in args.labels.split(","):
            rows += render_label(label, args.per_label, excluded, args, sf2, synth, Path(tmp))
    meta = {"soundfont": sf2.name, "synth": synth, "seed": args.seed, "sr": SR,
            "seconds": args.seconds, "where": args.where, "music21": music21.__version__,
            "manifest": str(args.manifest) if args.manifest else None, "files": rows}
    (out / "gm_render.json").write_text(json.dumps(meta, indent=1))
    print(f"wrote {len(rows)} files under {out}")
    return 0


def _use_musiclib_listing() -> None:
    """Swap our listing for musiclib.scores.list_pieces (the dataset's); content keys ours."""
    global list_pieces
    from musiclib import scores  # needs PYTHONPATH to a musiclib checkout
    if scores.MUSIC21_VERSION != __import__("music21").__version__:
        raise SystemExit(f"musiclib.scores uses music21 {scores.MUSIC21_VERSION}, this "
                         f"environment {__import__('music21').__version__}: listings may differ")
    root = corpus_root()
    tunes: dict[str, dict[int, tuple[str, str]]] = {}

    def theirs(label: str) -> list[Piece]:
        out = []
        for q in scores.list_pieces(label):
            if q.number is None:
                out.append(Piece(label, q.corpus_path, None, PurePosixPath(q.corpus_path).stem,
                                 _file_key(label, q.corpus_path)))
                continue
            if q.corpus_path not in tunes:
                tunes[q.corpus_path] = {n: (t, c) for n, t, c in
                                        reversed(_abc_tunes(root / q.corpus_path))}
            title, code = tunes[q.corpus_path].get(q.number, ("", ""))
            out.append(Piece(label, q.corpus_path, q.number, title,
                             _tune_key(label, q.number, title, code)))
        return sorted(out, key=lambda p: p.id)

    list_pieces = theirs


if __name__ == "__main__":
    sys.exit(main())
