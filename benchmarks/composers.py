"""Speed of the composers dataset's rendering, on one core.

Usage::

    python benchmarks/composers.py [--seconds 30] [--repeats 5] [--min-speed 50]

Sections (each prints its own table; the score-parsing section is measured separately from
rendering, since a dataset caches parsed notes):

1. ``instruments``: each instrument of :mod:`musiclib.instruments` playing a four-part
   chorale-like texture of synthetic notes (about 200 notes per 30 s), including
   :func:`~musiclib.instruments.mix_parts` and :func:`~musiclib.instruments.add_room`.
2. ``textures``: mixed four-part textures (a different instrument per part, as the dataset
   draws them): the chorale, and a dense string-quartet allegro (about 20 notes per second
   over the four parts).
3. ``scores`` (skipped with ``--no-scores``): one real piece per label of the composers
   dataset (the first the ``tiny`` profile draws with seed 0): music21's parse time (no
   cache), then :func:`musiclib.composers.render_piece` of a ``--seconds`` excerpt exactly as
   the dataset writer performs it, as a multiple of real time.

Speed is the audio length divided by the median wall time of ``--repeats`` renders, as a
multiple of real time ("strings: 312x real time"). Exits with status 1 when the mixed chorale
is below ``--min-speed`` (the dataset needs 50x). No music21 is needed: the notes are made up.
"""

from __future__ import annotations

import argparse
import os
import sys

# one core: keep numpy / scipy from using a thread pool (must happen before importing numpy)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from musiclib import instruments as ins  # noqa: E402

SR = 22050


# ---------------------------------------------------------------------------------------
# Synthetic scores
# ---------------------------------------------------------------------------------------


def chorale_notes(seconds: float, rng, notes_per_30s: int = 200) -> np.ndarray:
    """Four parts (soprano, alto, tenor, bass) of mostly quarter and half notes, legato."""
    rows = []
    per_part = max(1, int(round(notes_per_30s * seconds / 30.0 / 4)))
    for p, centre in enumerate((72, 65, 59, 48)):
        durs = rng.choice([0.5, 0.5, 0.5, 1.0, 0.25, 0.25, 1.5], size=per_part)
        durs *= seconds / durs.sum()
        starts = np.concatenate([[0.0], np.cumsum(durs)[:-1]])
        pitch = centre + np.clip(np.cumsum(rng.integers(-2, 3, per_part)), -6, 6)
        vel = rng.uniform(0.55, 0.85, per_part)
        rows.append(ins.make_notes(starts, durs * 0.97, pitch, vel, part=p))
    return _merge(rows)


def quartet_notes(seconds: float, rng, notes_per_s: float = 20.0) -> np.ndarray:
    """A dense string-quartet allegro: running sixteenths in the first violin, eighths below."""
    share = np.array([0.4, 0.25, 0.2, 0.15])  # of the notes per part
    rows = []
    for p, (centre, s) in enumerate(zip((79, 72, 62, 48), share)):
        n = max(1, int(round(notes_per_s * seconds * s)))
        d = seconds / n
        starts = np.arange(n) * d
        pitch = centre + np.clip(np.cumsum(rng.integers(-3, 4, n)), -9, 9)
        rows.append(ins.make_notes(starts, np.full(n, d * 0.9), pitch,
                                   rng.uniform(0.5, 0.95, n), part=p))
    return _merge(rows)


def _merge(rows):
    notes = np.concatenate(rows)
    return notes[np.argsort(notes["start_s"], kind="stable")]


# ---------------------------------------------------------------------------------------
# Rendering (what the dataset writer does per excerpt)
# ---------------------------------------------------------------------------------------


def render_mix(notes: np.ndarray, names, seconds: float, rng) -> np.ndarray:
    """Render every part on its instrument, mix at random levels, add a room."""
    n = int(round(seconds * SR))
    parts = []
    for p, name in enumerate(names):
        v = ins.draw_variant(name, rng)
        parts.append(ins.render_part(notes[notes["part"] == p], name, v, sr=SR, n_samples=n, rng=rng))
    y = ins.mix_parts(parts, 10 ** (rng.uniform(-6, 0, len(parts)) / 20), peak=0.9)
    return ins.add_room(y, rt60=rng.uniform(0.8, 2.5), wet=rng.uniform(0.15, 0.4), sr=SR, rng=rng)


def speed(fn, seconds: float, repeats: int) -> tuple[float, float]:
    """(median wall time in s, multiple of real time) of ``repeats`` calls of ``fn(i)``."""
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    med = float(np.median(times))
    return med, seconds / med


def _row(label: str, notes: np.ndarray, seconds: float, med: float, x: float) -> None:
    print(f"{label:38s} {len(notes):5d} notes  {seconds:5.1f} s audio  median {med:6.3f} s"
          f"  {x:6.0f}x real time")


def scores_section(secs: float, repeats: int) -> None:
    """Parse (once, no cache) and render (median of ``repeats``) one piece per label."""
    from musiclib import composers
    from musiclib.scores import REPERTORIES, read_piece

    print("== scores: one piece per label; parsing (music21) apart from rendering ==")
    print(f"{'label':13s} {'piece':42s} {'parse':>7s} {'notes':>6s} {'render':>8s}  x real time")
    for label, rep in REPERTORIES.items():
        piece = composers.choose_pieces(label, 0, small_scores=True)[0]
        t0 = time.perf_counter()
        score = read_piece(piece)  # no cache_dir: music21 parses the file
        parse_s = time.perf_counter() - t0
        audio_s = [0.0]

        def render(i, score=score, rep=rep):
            y, _ = composers.render_piece(score, secs, seed=i, loops=rep.loops)
            audio_s[0] = len(y) / SR

        med, _ = speed(render, secs, repeats)
        print(f"{label:13s} {piece.id[:42]:42s} {parse_s:6.2f}s {len(score.notes):6d} {med:7.3f}s"
              f"  {audio_s[0] / med:6.0f}x")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="excerpt length (s)")
    ap.add_argument("--repeats", type=int, default=5, help="renders per row (median)")
    ap.add_argument("--min-speed", type=float, default=50.0, help="required x real time")
    ap.add_argument("--no-scores", action="store_true", help="skip the real scores (music21)")
    args = ap.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        except OSError:
            pass
    secs = args.seconds
    rng = np.random.default_rng(0)
    chorale = chorale_notes(secs, rng)
    quartet = quartet_notes(secs, rng)
    render_mix(chorale_notes(2.0, rng), ins.INSTRUMENTS[:4], 2.0, rng)  # warm-up

    print("== instruments: a four-part chorale on one instrument, with mix and room ==")
    for name in ins.INSTRUMENTS:
        med, x = speed(lambda i: render_mix(chorale, [name] * 4, secs, np.random.default_rng(i)),
                       secs, args.repeats)
        _row(f"{name}:", chorale, secs, med, x)

    print("== textures: a different instrument per part, with mix and room ==")
    pools = {"chorale (strings/organ/piano/voice)": (chorale, ("voice", "strings", "organ", "piano")),
             "chorale (flute/reed/brass/accordion)":
                 (chorale, ("flute", "reed", "brass", "accordion")),
             "chorale (plucked/strings/voice/brass)":
                 (chorale, ("plucked", "strings", "voice", "brass")),
             "chorale (slowest: 4 x piano)": (chorale, ("piano",) * 4),
             "quartet allegro (4 x strings)": (quartet, ("strings",) * 4),
             "quartet allegro (mixed)": (quartet, ("strings", "piano", "voice", "harpsichord"))}
    chorale_speed = None
    for label, (notes, names) in pools.items():
        med, x = speed(lambda i: render_mix(notes, names, secs, np.random.default_rng(i)),
                       secs, args.repeats)
        _row(label, notes, secs, med, x)
        if chorale_speed is None:
            chorale_speed = x

    if not args.no_scores:
        scores_section(secs, args.repeats)

    if chorale_speed < args.min_speed:
        print(f"FAIL: the mixed chorale renders at {chorale_speed:.0f}x real time, below the "
              f"required {args.min_speed:.0f}x", file=sys.stderr)
        return 1
    print(f"ok: the mixed chorale renders at {chorale_speed:.0f}x real time "
          f"(required {args.min_speed:.0f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
