"""Instruments for rendering real scores: strings, organ, piano, voice, harpsichord, guitar,
flute, reed, brass, accordion and plucked.

The built-in *composers* dataset plays compositions from music21's corpus on these
instruments (see ``/work/spec/composers_spec.md``). Every instrument renders one part, a numpy
structured array of notes (:data:`NOTE_DTYPE`), note by note with vectorised numpy: each note's
spectrum is one band-limited wavetable (built by :func:`musiclib.dsp.wavetable` for that pitch
and velocity, cached within a part) read at the note's pitch, times an envelope; noises (bow,
breath, chiff, hammer, tongue) are one filtered noise loop per part shaped by the sum of the
notes' noise envelopes. No per-sample Python loop; a four-part chorale renders at about 100
times real time on one core, room and mix included (``python benchmarks/composers.py``).

The models, two sentences each:

``strings``
    A bowed string: a band-limited sawtooth-like harmonic spectrum (1/h) shaped by a
    violin-family body (fixed resonances near 280, 460 and 550 Hz times a size factor, a broad
    bridge hill near 2.5 kHz, a brightness low-pass that opens with velocity), played by
    ``voices`` slightly detuned oscillators (1 solo, 2 desk, 3-4 a section with wider detune).
    A slow bow attack (capped at a third of the note), vibrato
    that fades in after a delay, and a little band-passed bow noise that follows the note.
``organ``
    A pipe organ as additive drawbars: each registration (``principal``, ``flute``,
    ``bourdon``, ``plenum``, ``reed``) sets the levels of harmonics 1, 2, 3, 4, 5, 6 and 8
    (the 8', 4', 2 2/3', 2', 1 3/5', 1 1/3' and 1' ranks; the sounding pitch is the written
    one). The tone does not decay while the key is held; each note starts with a short noisy
    chiff, and an optional slow tremulant modulates the whole part's amplitude.
``piano``
    Hammered strings with slightly inharmonic partials, ``f_n = n f0 sqrt(1 + B n^2)`` with B
    growing with pitch, rendered as three bands of partials (1-4, 5-10, 11 and up), each a
    wavetable stretched to its partials' inharmonic frequencies (the first band to the
    fundamental's, so the pitch is exact). Each band decays in two
    stages (a fast prompt sound, then a slow aftersound; faster for high notes and high
    bands), the hammer spectrum (a comb from the strike point times a roll-off) gets brighter
    with velocity, and a short low thump marks the hammer.
``voice``
    A singer or a choir: a glottal-pulse-like harmonic source (roll-off ``h**-tilt``) filtered
    by the five formants of a vowel (``a e i o u``, tenor values scaled by a voice-size factor,
    blended with a second vowel by ``vowel_mix``), sampled at each harmonic of the note.
    ``voices`` detuned voices (2 a duet, 3-4 a choir with wider detune), delayed vibrato, a
    soft attack and breath noise in the upper formant region.
``harpsichord`` and ``guitar``
    Plucked strings by the Karplus-Strong model (:func:`musiclib.dsp.karplus_strong`, the
    one :mod:`musiclib.synth` uses): the harpsichord plucked near the bridge (bright, long
    ring, a tone that hardly changes with velocity), the guitar further along the string with
    a darker pick that brightens when played louder.
``flute``
    An edge-tone flute (``kind``: ``flute``, ``recorder``, ``pan_flute``, ``shakuhachi``): a
    nearly sinusoidal spectrum (harmonic h at ``brightness**(h-1)``, even harmonics weakened by
    ``even``, brighter when blown harder), a soft attack and delayed vibrato. Breath noise in a
    per-kind band follows the note, with a noisy chiff at its start (strong for the pan flute,
    breathiest for the shakuhachi).
``reed``
    Reed instruments (``kind``: ``clarinet``, ``oboe``, ``bassoon``, ``saxophone``,
    ``bagpipe``): a ``h**-tilt`` source, odd harmonics only below about 2 kHz for the clarinet
    (``even``), times fixed resonances of the bore (the nasal formants of the double reeds:
    oboe near 1.1 and 2.9 kHz, bassoon near 480 Hz and 1.2 kHz, a very bright chanter) and a
    low-pass that opens with velocity. Per-kind vibrato (none for clarinet and bagpipe), a
    quick attack and a little breath noise.
``brass``
    Lip-reed brass (``kind``: ``trumpet``, ``horn``, ``trombone``, ``tuba``; a trumpet may
    carry a straight ``mute``): a harmonic spectrum under a steep low-pass whose cutoff
    grows with velocity (louder = brighter), per kind from a dark horn or tuba to a bright
    trumpet. Each note starts
    on a darker spectrum that blooms into the full one (``bloom`` s) while its pitch rises from
    a slight ``scoop`` below, with a tongued noise at the start.
``accordion``
    A free-reed instrument (``kind``: ``accordion``, ``musette``, ``bandoneon``): a bright
    ``h**-tilt`` reed spectrum through a reed-chamber resonance, with an optional 4' reed an
    octave up, played by 2 reeds slightly detuned (3 for the musette, one in tune, one sharp
    and one flat by ``detune`` cents, the wide beating of the French musette). No vibrato; a
    slow bellows ``swell`` modulates the part's amplitude.
``plucked``
    Other plucked strings by the same Karplus-Strong model (``kind``: ``harp`` plucked mid-string
    with a soft finger and a long ring; ``banjo``, ``shamisen`` and ``koto`` plucked near the
    bridge with a hard pick or plectrum, very bright, and decaying fast). Only the pluck
    position, pick darkness, loss and decay differ from the harpsichord and guitar.

Each instrument has *variants* (:func:`draw_variant`: brightness, attack, decay, vibrato,
detune, vowel, registration, kind ...), so that one instrument name covers many instruments.
Rendering is deterministic: the same notes, variant and generator state give the same array.

Typical use (what the composers dataset does per piece)::

    parts = []
    for p, name in enumerate(instrument_of_each_part):
        v = draw_variant(name, rng)
        parts.append(render_part(notes[notes["part"] == p], name, v, sr=sr,
                                 n_samples=n, rng=rng))
    y = mix_parts(parts, levels, peak=0.9)
    y = add_room(y, rt60=1.2, wet=0.3, sr=sr, rng=rng)
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from .dsp import karplus_strong, midi_hz, reverb_ir, wavetable
from .errors import MusiclibError

__all__ = [
    "NOTE_DTYPE",
    "INSTRUMENTS",
    "INSTRUMENT_RANGES",
    "VOWELS",
    "REGISTRATIONS",
    "KINDS",
    "make_notes",
    "draw_variant",
    "render_part",
    "mix_parts",
    "add_room",
]

#: Structured dtype of a note array (one row per note): ``part`` (int16, part index),
#: ``start_s`` (float64, onset in seconds), ``duration_s`` (float64, sounding length in
#: seconds, without the release tail), ``midi`` (float32, MIDI pitch, 69 = A4 = 440 Hz,
#: fractional = microtonal), ``velocity`` (float32, 0..1).
NOTE_DTYPE = np.dtype([("part", "<i2"), ("start_s", "<f8"), ("duration_s", "<f8"),
                       ("midi", "<f4"), ("velocity", "<f4")])

#: Names of the instruments, in a fixed order.
INSTRUMENTS: tuple[str, ...] = ("strings", "organ", "piano", "voice", "harpsichord", "guitar",
                                 "flute", "reed", "brass", "accordion", "plucked")

#: Comfortable MIDI range (lowest, highest) of each instrument: what a part should fit into
#: when an instrument is chosen for it. Rendering works outside it too.
INSTRUMENT_RANGES: dict[str, tuple[int, int]] = {
    "strings": (36, 100),  # cello C2 .. violin E7
    "organ": (24, 96),
    "piano": (21, 108),
    "voice": (38, 81),  # bass D2 .. soprano A5
    "harpsichord": (29, 89),
    "guitar": (40, 88),
    "flute": (55, 98),  # alto flute / shakuhachi G3 .. flute / recorder D7
    "reed": (34, 91),  # bassoon Bb1 .. oboe / clarinet G6
    "brass": (28, 82),  # tuba E1 .. trumpet Bb5
    "accordion": (41, 93),
    "plucked": (24, 96),  # harp C1 .. ; banjo / shamisen / koto sit inside
}

#: Kinds (the ``kind`` key of a variant) of the instruments that have them.
KINDS: dict[str, tuple[str, ...]] = {
    "flute": ("flute", "recorder", "pan_flute", "shakuhachi"),
    "reed": ("clarinet", "oboe", "bassoon", "saxophone", "bagpipe"),
    "brass": ("trumpet", "horn", "trombone", "tuba"),
    "accordion": ("accordion", "musette", "bandoneon"),
    "plucked": ("harp", "banjo", "shamisen", "koto"),
}

# reed bore / double-reed resonances: (centre Hz, bandwidth Hz, level) per kind
_REED_FORMANTS = {
    "clarinet": ((1500.0, 1200.0, 0.6),),
    "oboe": ((1100.0, 450.0, 3.0), (2900.0, 900.0, 1.2)),
    "bassoon": ((480.0, 220.0, 3.0), (1200.0, 500.0, 1.2)),
    "saxophone": ((650.0, 400.0, 1.5), (1600.0, 900.0, 1.5)),
    "bagpipe": ((1400.0, 700.0, 3.0), (3200.0, 1200.0, 1.5)),
}

#: Vowel formants (tenor): frequencies (Hz), levels (dB) and bandwidths (Hz) of F1..F5.
VOWELS: dict[str, tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]] = {
    "a": ((650, 1080, 2650, 2900, 3250), (0, -6, -7, -8, -22), (80, 90, 120, 130, 140)),
    "e": ((400, 1700, 2600, 3200, 3580), (0, -14, -12, -14, -20), (70, 80, 100, 120, 120)),
    "i": ((290, 1870, 2800, 3250, 3540), (0, -15, -18, -20, -30), (40, 90, 100, 120, 120)),
    "o": ((400, 800, 2600, 2800, 3000), (0, -10, -12, -12, -26), (40, 80, 100, 120, 120)),
    "u": ((350, 600, 2700, 2900, 3300), (0, -20, -17, -14, -26), (40, 60, 100, 120, 120)),
}

#: Organ registrations: drawbar levels 0..8 of harmonics 1, 2, 3, 4, 5, 6, 8.
REGISTRATIONS: dict[str, tuple[int, ...]] = {
    "principal": (8, 6, 3, 5, 0, 2, 3),
    "flute": (8, 5, 0, 2, 0, 0, 0),
    "bourdon": (8, 0, 5, 0, 3, 0, 0),
    "plenum": (8, 7, 6, 7, 4, 5, 6),
    "reed": (7, 8, 7, 6, 6, 5, 4),
}
_DRAWBAR_HARMONICS = np.array([1, 2, 3, 4, 5, 6, 8])

_TABLE_SIZE = 2048
_MASK = _TABLE_SIZE - 1
_RELEASE_S = {"strings": 0.15, "organ": 0.07, "piano": 0.18, "voice": 0.14,
              "harpsichord": 0.06, "guitar": 0.06, "flute": 0.1, "reed": 0.08, "brass": 0.1,
              "accordion": 0.08, "plucked": 0.08}
_PLUCKED = ("harpsichord", "guitar", "plucked")
# level of each instrument: sustained parts at about the same RMS; plucks peak like them
_GAIN = {"strings": 0.3, "organ": 0.25, "piano": 0.45, "voice": 0.3,
         "harpsichord": 1.0, "guitar": 1.3, "flute": 0.22, "reed": 0.22, "brass": 0.22,
         "accordion": 0.3, "plucked": 1.1}
_PIANO_BANDS = ((1, 5), (5, 11), (11, 10_000))  # partials [lo, hi)
_PLUCK_MAX_S = 3.0


# ---------------------------------------------------------------------------------------
# Notes
# ---------------------------------------------------------------------------------------


def make_notes(start_s, duration_s, midi, velocity=0.7, part=0) -> np.ndarray:
    """Build a note array of :data:`NOTE_DTYPE` from columns (handy for tests and benchmarks).

    Parameters
    ----------
    start_s, duration_s : array_like of float, shape (n,)
        Onsets and sounding lengths in seconds.
    midi : array_like of float, shape (n,)
        MIDI pitches.
    velocity : float or array_like, shape (n,)
        0..1.
    part : int or array_like of int, shape (n,)
        Part index.

    Returns
    -------
    np.ndarray of NOTE_DTYPE, shape (n,), sorted by ``start_s`` (stable).
    """
    start_s = np.atleast_1d(np.asarray(start_s, dtype=float))
    n = len(start_s)
    notes = np.zeros(n, dtype=NOTE_DTYPE)
    notes["start_s"] = start_s
    notes["duration_s"] = np.broadcast_to(np.asarray(duration_s, dtype=float), (n,))
    notes["midi"] = np.broadcast_to(np.asarray(midi, dtype=float), (n,))
    notes["velocity"] = np.broadcast_to(np.asarray(velocity, dtype=float), (n,))
    notes["part"] = np.broadcast_to(np.asarray(part), (n,))
    return notes[np.argsort(notes["start_s"], kind="stable")]


# ---------------------------------------------------------------------------------------
# Variants
# ---------------------------------------------------------------------------------------


def _check_name(name) -> str:
    if not isinstance(name, str) or name not in INSTRUMENTS:
        raise MusiclibError(f"unknown instrument {name!r}: choose one of {', '.join(INSTRUMENTS)}")
    return name


def draw_variant(name: str, rng: np.random.Generator) -> dict:
    """Draw one variant of an instrument: the same family, a different instrument and player.

    Parameters
    ----------
    name : str
        One of :data:`INSTRUMENTS`.
    rng : numpy.random.Generator

    Returns
    -------
    dict
        JSON-able (str, float, list of float), with ``"instrument": name`` and the model's
        parameters. Common keys: ``brightness`` (about 0.6..1.6, scales the spectral
        roll-off), ``attack`` (s), ``vibrato_rate`` (Hz), ``vibrato_depth`` (cents),
        ``vibrato_delay`` (s), ``detune`` (cents between the two oscillators). Per instrument:
        strings ``body`` (size of the body resonances: 1 violin, ~0.5 cello), ``bow_noise``;
        organ ``registration``, ``drawbars`` (7 levels), ``chiff``, ``tremulant_rate``,
        ``tremulant_depth`` (0 = off); piano ``inharmonicity`` (B at middle C), ``decay``
        (aftersound time constant at middle C, s), ``prompt`` (fraction of the prompt
        sound), ``strike`` (hammer position as a fraction of the string), ``thump``; voice
        ``vowel``, ``vowel2``, ``vowel_mix``, ``formant_shift``, ``tilt``, ``breath``;
        strings and voice ``voices`` (oscillators, 1..4); harpsichord / guitar / plucked
        ``pluck_pos``, ``dark``, ``loss``, ``decay``. The new families carry ``kind`` (one of
        :data:`KINDS`): flute ``even``, ``breath``, ``chiff``, ``noise_band``; reed ``even``,
        ``tilt``, ``formant_shift``, ``cutoff``, ``breath``; brass ``cutoff``, ``slope``,
        ``bloom``, ``scoop``, ``mute``, ``breath``; accordion ``reeds``, ``tilt``, ``chamber``,
        ``octave``, ``swell_rate``, ``swell_depth``.
    """
    name = _check_name(name)
    u = lambda lo, hi: float(rng.uniform(lo, hi))  # noqa: E731
    v: dict = {"instrument": name}
    if name in KINDS:
        v["kind"] = str(rng.choice(KINDS[name]))
    if name == "strings":
        v.update(brightness=u(0.7, 1.5), body=u(0.5, 1.15), attack=u(0.05, 0.16),
                 vibrato_rate=u(4.8, 6.5), vibrato_depth=u(8.0, 22.0),
                 vibrato_delay=u(0.12, 0.35), detune=u(2.0, 8.0), bow_noise=u(0.01, 0.04))
        r = rng.random()  # solo 15 %, desk 55 %, section 30 %
        v["voices"] = 1 if r < 0.15 else 2 if r < 0.7 else int(rng.integers(3, 5))
        if v["voices"] >= 3:
            v["detune"] = u(8.0, 16.0)  # spread of the section (cents)
    elif name == "organ":
        reg = str(rng.choice(sorted(REGISTRATIONS)))
        bars = np.clip(np.array(REGISTRATIONS[reg]) + rng.integers(-1, 2, 7), 0, 8)
        bars[0] = max(bars[0], 6)  # the 8' rank always speaks: the written pitch
        tremulant = rng.random() < 0.3
        v.update(registration=reg, drawbars=[float(b) for b in bars],
                 attack=u(0.015, 0.05), chiff=u(0.02, 0.12),
                 tremulant_rate=u(5.0, 7.0), tremulant_depth=u(0.08, 0.2) if tremulant else 0.0)
    elif name == "piano":
        v.update(brightness=u(0.7, 1.4), inharmonicity=u(1.5e-4, 5e-4), decay=u(1.5, 4.0),
                 prompt=u(0.55, 0.8), strike=u(0.11, 0.15), thump=u(0.03, 0.1),
                 attack=u(0.002, 0.005))
    elif name == "voice":
        v.update(vowel=str(rng.choice(sorted(VOWELS))), formant_shift=u(0.88, 1.15),
                 tilt=u(1.0, 1.5), attack=u(0.05, 0.14), vibrato_rate=u(4.8, 6.2),
                 vibrato_depth=u(15.0, 40.0), vibrato_delay=u(0.15, 0.4), detune=u(3.0, 12.0),
                 breath=u(0.01, 0.05))
        choir = rng.random() < 0.4
        v.update(vowel2=str(rng.choice(sorted(VOWELS))),
                 vowel_mix=u(0.2, 0.5) if choir else u(0.0, 0.2),
                 voices=int(rng.integers(3, 5)) if choir else 2)
        if choir:
            v["detune"] = u(10.0, 20.0)
    elif name == "harpsichord":
        v.update(pluck_pos=u(0.05, 0.14), dark=u(0.05, 0.3), loss=u(0.08, 0.22), decay=u(2.0, 4.0))
    elif name == "guitar":
        v.update(pluck_pos=u(0.12, 0.3), dark=u(0.6, 1.4), loss=u(0.3, 0.45), decay=u(1.2, 3.0))
    elif name == "flute":
        k = v["kind"]
        lo = {"flute": 1000.0, "recorder": 1500.0, "pan_flute": 600.0, "shakuhachi": 400.0}[k]
        v.update(noise_band=[lo * u(0.8, 1.25), lo * u(5.0, 7.0)])
        if k == "flute":
            v.update(brightness=u(0.12, 0.3), even=u(0.3, 0.7), attack=u(0.04, 0.1),
                     breath=u(0.03, 0.08), chiff=u(0.0, 0.05), vibrato_rate=u(4.5, 6.0),
                     vibrato_depth=u(10.0, 25.0), vibrato_delay=u(0.1, 0.3))
        elif k == "recorder":
            v.update(brightness=u(0.2, 0.35), even=u(0.15, 0.5), attack=u(0.015, 0.04),
                     breath=u(0.01, 0.04), chiff=u(0.08, 0.2), vibrato_rate=u(4.5, 6.0),
                     vibrato_depth=u(0.0, 8.0), vibrato_delay=u(0.2, 0.4))
        elif k == "pan_flute":
            v.update(brightness=u(0.06, 0.18), even=u(0.1, 0.4), attack=u(0.03, 0.08),
                     breath=u(0.08, 0.16), chiff=u(0.15, 0.35), vibrato_rate=u(4.0, 5.5),
                     vibrato_depth=u(4.0, 15.0), vibrato_delay=u(0.15, 0.35))
        else:  # shakuhachi
            v.update(brightness=u(0.1, 0.25), even=u(0.3, 0.8), attack=u(0.06, 0.15),
                     breath=u(0.15, 0.3), chiff=u(0.05, 0.15), vibrato_rate=u(3.0, 5.0),
                     vibrato_depth=u(15.0, 40.0), vibrato_delay=u(0.2, 0.5))
    elif name == "reed":
        k = v["kind"]
        tilt, cutoff, vib, even = {"clarinet": ((0.8, 1.2), (2000, 3500), (0, 4), (0.05, 0.2)),
                                   "oboe": ((0.4, 0.8), (3000, 5000), (8, 20), (0.7, 1.0)),
                                   "bassoon": ((0.6, 1.0), (1500, 3000), (5, 15), (0.7, 1.0)),
                                   "saxophone": ((0.5, 0.9), (2500, 4500), (10, 30), (0.7, 1.0)),
                                   "bagpipe": ((0.2, 0.5), (4000, 7000), (0, 0), (0.8, 1.0))}[k]
        v.update(tilt=u(*tilt), cutoff=u(*cutoff), even=u(*even), formant_shift=u(0.88, 1.12),
                 attack=u(0.008, 0.02) if k == "bagpipe" else u(0.02, 0.06),
                 vibrato_rate=u(4.5, 6.0), vibrato_depth=u(*vib), vibrato_delay=u(0.15, 0.4),
                 breath=u(0.005, 0.03))
    elif name == "brass":
        k = v["kind"]
        cutoff, attack = {"trumpet": ((1400, 2200), (0.015, 0.035)),
                          "horn": ((500, 850), (0.03, 0.07)),
                          "trombone": ((800, 1300), (0.02, 0.05)),
                          "tuba": ((300, 550), (0.04, 0.08))}[k]
        v.update(cutoff=u(*cutoff), slope=u(2.0, 4.0), attack=u(*attack), bloom=u(0.02, 0.08),
                 scoop=u(10.0, 40.0), breath=u(0.005, 0.02),
                 mute=float(k == "trumpet" and rng.random() < 0.3),
                 vibrato_rate=u(4.5, 6.0),
                 vibrato_depth=0.0 if k in ("horn", "tuba") else u(0.0, 12.0),
                 vibrato_delay=u(0.2, 0.5))
    elif name == "accordion":
        k = v["kind"]
        v.update(reeds=3 if k == "musette" else 2,
                 detune={"accordion": u(1.0, 6.0), "musette": u(12.0, 30.0),
                         "bandoneon": u(0.5, 3.0)}[k],
                 tilt=u(1.0, 1.4) if k == "bandoneon" else u(0.6, 1.0),
                 chamber=u(800.0, 2000.0), octave=u(0.3, 0.8) if rng.random() < 0.3 else 0.0,
                 attack=u(0.02, 0.08), swell_rate=u(0.15, 0.5), swell_depth=u(0.05, 0.2),
                 breath=u(0.005, 0.02))
    else:  # plucked
        lo_hi = {"harp": ((0.25, 0.5), (0.8, 1.5), (0.3, 0.45), (2.5, 5.0)),
                 "banjo": ((0.06, 0.12), (0.02, 0.15), (0.1, 0.25), (0.3, 0.7)),
                 "shamisen": ((0.04, 0.1), (0.0, 0.1), (0.05, 0.15), (0.4, 0.9)),
                 "koto": ((0.08, 0.2), (0.2, 0.6), (0.2, 0.35), (1.0, 2.0))}[v["kind"]]
        v.update({key: u(*r) for key, r in zip(("pluck_pos", "dark", "loss", "decay"), lo_hi)})
    return v


# ---------------------------------------------------------------------------------------
# Oscillators and envelopes (per note, vectorised)
# ---------------------------------------------------------------------------------------


def _table(amps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A wavetable normalised to unit RMS, and its first difference (for interpolation)."""
    amps = np.asarray(amps, dtype=float)
    amps = amps / (np.sqrt(0.5 * np.sum(amps ** 2)) + 1e-12)
    t = wavetable(amps, _TABLE_SIZE)
    return t[:-1].copy(), np.diff(t)


def _read(tab: tuple[np.ndarray, np.ndarray], phase: np.ndarray) -> np.ndarray:
    """Read a :func:`_table` at ``phase`` (cycles, >= 0) with linear interpolation."""
    table, diff = tab
    x = phase * _TABLE_SIZE
    i = x.astype(np.int64)
    frac = x - i
    i &= _MASK
    return table[i] + frac * diff[i]


def _n_harmonics(f0: float, sr: int, headroom: float = 1.0) -> int:
    """Harmonics of ``f0`` below 0.45 sr (with ``headroom`` for vibrato / detune)."""
    return int(np.clip(0.45 * sr / (f0 * headroom), 1, _TABLE_SIZE // 2 - 1))


def _envelope(n: int, n_att: int, n_gate: int, n_rel: int) -> np.ndarray:
    """Attack ramp, hold, then a linear release after the gate; shape (n,), float64."""
    env = np.ones(n)
    a = min(n_att, n_gate, n)
    if a > 0:
        env[:a] = np.arange(1, a + 1) / a
    if n_gate < n:
        r = np.arange(1, n - n_gate + 1, dtype=float)
        r *= -1.0 / max(n_rel, 1)
        r += 1.0
        env[n_gate:] = np.maximum(r, 0.0)  # 1 - i / n_rel
    return env


def _phase(f0: float, n: int, sr: int, rng, v: dict | None) -> np.ndarray:
    """Phase in cycles of a note at ``f0`` Hz, with delayed vibrato when ``v`` has one."""
    phase = np.arange(n) * (f0 / sr)
    phase += rng.random()
    if v is not None and v.get("vibrato_depth", 0.0) > 0:
        delay = v["vibrato_delay"]
        k = int(delay * sr)
        if k < n:  # notes shorter than the delay get no vibrato (and cost nothing)
            rate = v["vibrato_rate"] * (1.0 + 0.1 * (rng.random() - 0.5))
            # phase of f0 * (1 + depth cos(2 pi rate t)), depth ramping in over 0.3 s; float32
            # is plenty for this small offset (a few cycles) and makes the sine 5x cheaper
            tv = np.arange(k, n, dtype=np.float32) * np.float32(1.0 / sr)
            depth = np.minimum((tv - np.float32(delay)) * np.float32(1 / 0.3), np.float32(1.0))
            depth *= np.float32(f0 * (2.0 ** (v["vibrato_depth"] / 1200.0) - 1.0) / (2 * np.pi * rate))
            depth *= np.sin(tv * np.float32(2 * np.pi * rate) + np.float32(rng.random() * 6.28))
            phase[k:] += depth
    return phase


def _two_voices(tab, phase: np.ndarray, detune_cents: float, rng) -> np.ndarray:
    """Two oscillators, one ``detune_cents`` above the other (same vibrato), averaged."""
    c = 2.0 ** (detune_cents / 1200.0)
    return 0.5 * (_read(tab, phase) + _read(tab, phase * c + rng.random()))


def _voices(tab, phase: np.ndarray, detune_cents: float, k: int, rng) -> np.ndarray:
    """``k`` oscillators spread evenly over ``detune_cents`` (same vibrato), at the RMS of
    :func:`_two_voices` (``k = 2`` is exactly it)."""
    if k == 2:
        return _two_voices(tab, phase, detune_cents, rng)
    if k <= 1:
        return _read(tab, phase) * np.sqrt(0.5)
    out = _read(tab, phase)
    for c in np.linspace(-0.5, 0.5, k)[1:] * detune_cents:
        out += _read(tab, phase * 2.0 ** (c / 1200.0) + rng.random())
    out *= 1.0 / np.sqrt(2.0 * k)
    return out


def _lowpass(f, fc, order=2.0):
    return 1.0 / np.sqrt(1.0 + (f / fc) ** (2.0 * order))


def _lorentz(f, fc, bw):
    return 1.0 / np.sqrt(1.0 + ((f - fc) / (0.5 * bw)) ** 2)


# ---------------------------------------------------------------------------------------
# The instruments: each renders one note and returns (tone, noise envelope or None)
# ---------------------------------------------------------------------------------------


class _Part:
    """State of one part's rendering: variant, sample rate, generator, wavetable cache."""

    def __init__(self, name, v, sr, rng):
        self.name, self.v, self.sr, self.rng = name, v, sr, rng
        self.cache: dict = {}

    def tables(self, midi: float, vel: float, build):
        """The note's wavetable(s) from ``build(f0, vel)``, cached per semitone and 0.1 of velocity.

        A table only fixes the spectrum's shape (read at the exact pitch later), so tables
        built at the nearest semitone and velocity step sound the same and are built once.
        """
        m, q = int(round(midi)), round(float(vel), 1)
        tab = self.cache.get((m, q))
        if tab is None:
            tab = self.cache[(m, q)] = build(float(midi_hz(m)), q)
        return tab


def _strings_table(p: _Part, f0: float, vel: float):
    v, sr = p.v, p.sr
    h = np.arange(1, _n_harmonics(f0, sr, 1.03) + 1)
    f = h * f0
    s = v["body"]
    body = (0.4 + 1.2 * _lorentz(f, 280 * s, 60 * s) + 0.9 * _lorentz(f, 460 * s, 80 * s)
            + 1.0 * _lorentz(f, 550 * s, 100 * s) + 1.5 * _lorentz(f, 2500 * s, 1500 * s))
    high = 1.0 / (1.0 + (f / (3500.0 * v["brightness"] * (0.6 + 0.6 * vel))) ** 2)
    low = (f / (180 * s)) ** 2 / (1.0 + (f / (180 * s)) ** 2)  # below the body: weak
    return _table(body * high * low / h)


def _strings(p: _Part, midi, n, n_gate, vel):
    v, sr = p.v, p.sr
    f0 = float(midi_hz(midi))
    tab = p.tables(midi, vel, lambda f, vv: _strings_table(p, f, vv))
    tone = _voices(tab, _phase(f0, n, sr, p.rng, v), v["detune"], v.get("voices", 2), p.rng)
    n_att = int(min(v["attack"], n_gate / sr / 3.0) * sr)  # fast notes: a shorter bow attack
    env = _envelope(n, max(n_att, int(0.012 * sr)), n_gate, int(_RELEASE_S["strings"] * sr))
    noise = env * (v["bow_noise"] * (0.5 + vel))
    k = min(n, int(0.06 * sr))  # a little scratch as the bow catches the string
    noise[:k] += 2 * v["bow_noise"] * np.exp(-np.arange(k) / (0.015 * sr))
    return tone * env, noise


def _organ_table(p: _Part, f0: float, vel: float):
    bars = np.asarray(p.v["drawbars"], dtype=float)
    amps = np.where(bars > 0, 10.0 ** ((bars - 8.0) * 3.0 / 20.0), 0.0)
    nh = _n_harmonics(f0, p.sr)
    a = np.zeros(max(int(_DRAWBAR_HARMONICS.max()), 1))
    for hh, amp in zip(_DRAWBAR_HARMONICS, amps):
        a[hh - 1] += amp
    a[nh:] = 0.0
    if not a.any():  # pragma: no cover - the 8' rank always speaks
        a[0] = 1.0
    return _table(a)


def _organ(p: _Part, midi, n, n_gate, vel):
    v, sr = p.v, p.sr
    f0 = float(midi_hz(midi))
    tab = p.tables(midi, 1.0, lambda f, vv: _organ_table(p, f, vv))
    tone = _read(tab, _phase(f0, n, sr, p.rng, None))
    env = _envelope(n, int(v["attack"] * sr), n_gate, int(_RELEASE_S["organ"] * sr))
    k = min(n, int(0.08 * sr))
    noise = np.zeros(n)
    noise[:k] = v["chiff"] * np.exp(-np.arange(k) / (0.02 * sr))
    noise += 0.04 * v["chiff"] * env  # wind
    return tone * env, noise


def _piano_tables(p: _Part, f0: float, vel: float):
    v, sr = p.v, p.sr
    midi = 69.0 + 12.0 * np.log2(f0 / 440.0)
    B = v["inharmonicity"] * 2.0 ** (0.8 * (midi - 60.0) / 12.0)
    h = np.arange(1, _TABLE_SIZE // 2)
    f = h * f0 * np.sqrt(1.0 + B * h ** 2)
    nh = max(int(np.sum(f < 0.45 * sr)), 1)
    h = h[:nh]
    roll = 2.5 - 1.0 * vel * v["brightness"]  # louder = brighter
    amps = (0.25 + np.abs(np.sin(np.pi * h * v["strike"]))) / h ** max(roll, 0.6)
    amps = amps / np.sqrt(np.sum(amps ** 2))
    bands = []
    for b, (lo, hi) in enumerate(_PIANO_BANDS):
        if lo > nh:
            break
        a = np.zeros(min(hi, nh + 1) - 1)
        a[lo - 1:] = amps[lo - 1:min(hi, nh + 1) - 1]
        hc = 0.5 * (lo + min(hi, nh + 1) - 1)
        stretch = float(np.sqrt(1.0 + B * (lo if lo == 1 else hc) ** 2))
        level = float(np.sqrt(np.sum(a ** 2)))
        tau2 = v["decay"] * 2.0 ** (-0.6 * (midi - 60.0) / 12.0) / (1.0 + 0.6 * b)
        bands.append((_table(a), stretch, level, tau2))
    return bands


def _piano(p: _Part, midi, n, n_gate, vel):
    v, sr = p.v, p.sr
    f0 = float(midi_hz(midi))
    bands = p.tables(midi, vel, lambda f, vv: _piano_tables(p, f, vv))
    phase = _phase(f0, n, sr, p.rng, None)
    tone = np.zeros(n)
    hop = 32  # the decays are smooth: envelopes on a coarse grid, held for 32 samples
    tc = np.arange(0, n, hop) / sr
    w = v["prompt"]
    for tab, stretch, level, tau2 in bands:
        env = level * (w * np.exp(-tc / (0.12 * tau2)) + (1 - w) * np.exp(-tc / tau2))
        tone += _read(tab, phase * stretch) * np.repeat(env, hop)[:n]
    env = _envelope(n, int(v["attack"] * sr), n_gate, int(_RELEASE_S["piano"] * sr))
    k = min(n, int(0.05 * sr))
    noise = np.zeros(n)
    noise[:k] = v["thump"] * vel * np.exp(-np.arange(k) / (0.01 * sr))
    return tone * env, noise


def _piano_length(p: _Part, midi: float) -> float:
    """Seconds after which a piano note is inaudible (-60 dB of its slowest band)."""
    return 6.9 * p.v["decay"] * 2.0 ** (-0.6 * (midi - 60.0) / 12.0) + 0.05


def _voice_table(p: _Part, f0: float, vel: float):
    v, sr = p.v, p.sr
    h = np.arange(1, _n_harmonics(f0, sr, 1.06) + 1)
    f = h * f0
    s = v["formant_shift"]

    def formants(vowel):
        freqs, levels, bws = VOWELS[vowel]
        return sum(10.0 ** (lv / 20.0) * _lorentz(f, fc * s, bw * s)
                   for fc, lv, bw in zip(freqs, levels, bws))

    m = v.get("vowel_mix", 0.0)
    filt = 0.01 + (1.0 - m) * formants(v["vowel"])
    if m > 0:
        filt = filt + m * formants(v["vowel2"])
    return _table(filt / h ** (v["tilt"] - 0.3 * vel))


def _voice(p: _Part, midi, n, n_gate, vel):
    v, sr = p.v, p.sr
    f0 = float(midi_hz(midi))
    tab = p.tables(midi, vel, lambda f, vv: _voice_table(p, f, vv))
    tone = _voices(tab, _phase(f0, n, sr, p.rng, v), v["detune"], v.get("voices", 2), p.rng)
    n_att = int(min(v["attack"], n_gate / sr / 3.0) * sr)
    env = _envelope(n, max(n_att, int(0.015 * sr)), n_gate, int(_RELEASE_S["voice"] * sr))
    return tone * env, env * v["breath"]


def _pluck(p: _Part, midi, n, n_gate, vel):
    f0 = float(midi_hz(midi))
    # the pick's brightness follows velocity (a harpsichord's hardly does); the level is set
    # by render_part like every instrument's, so karplus_strong's own velocity gain is undone
    vk = 0.75 + 0.25 * vel if p.name == "harpsichord" else max(vel, 0.05)
    n_full = min(n_gate + int(_RELEASE_S[p.name] * p.sr), int(_PLUCK_MAX_S * p.sr))
    y = karplus_strong(f0, n_gate, max(n_full, 1), vk, p.sr, p.rng, p.v) / vk
    if len(y) < n:
        y = np.concatenate([y, np.zeros(n - len(y))])
    return y[:n], None


def _sustain_env(p: _Part, n, n_gate, floor_s=0.01):
    """Attack (at most a third of the note, at least ``floor_s``), hold, release."""
    sr = p.sr
    n_att = int(min(p.v["attack"], n_gate / sr / 3.0) * sr)
    return _envelope(n, max(n_att, int(floor_s * sr)), n_gate, int(_RELEASE_S[p.name] * sr))


def _burst(noise, level, tau_s, sr):
    """Add an exponentially decaying burst (chiff, tonguing) to a note's noise envelope."""
    k = min(len(noise), int(5 * tau_s * sr))
    noise[:k] += level * np.exp(-np.arange(k) / (tau_s * sr))
    return noise


def _flute_table(p: _Part, f0: float, vel: float):
    v = p.v
    h = np.arange(1, _n_harmonics(f0, p.sr, 1.03) + 1)
    a = (v["brightness"] * (0.6 + 0.8 * vel)) ** (h - 1.0)  # blown harder: more overtones
    a[1::2] *= v["even"]
    return _table(a)


def _flute(p: _Part, midi, n, n_gate, vel):
    v, sr = p.v, p.sr
    f0 = float(midi_hz(midi))
    tab = p.tables(midi, vel, lambda f, vv: _flute_table(p, f, vv))
    env = _sustain_env(p, n, n_gate)
    tone = _read(tab, _phase(f0, n, sr, p.rng, v))
    return tone * env, _burst(env * v["breath"], v["chiff"], 0.015, sr)


def _reed_table(p: _Part, f0: float, vel: float):
    v = p.v
    h = np.arange(1, _n_harmonics(f0, p.sr, 1.02) + 1)
    f = h * f0
    s = v["formant_shift"]
    a = h ** -v["tilt"] * _lowpass(f, v["cutoff"] * (0.45 + 0.8 * vel), 2.0)
    a[1::2] *= np.where(f[1::2] < 2000.0 * s, v["even"], 1.0)  # a cylinder's odd harmonics
    a *= 0.3 + sum(g * _lorentz(f, fc * s, bw * s) for fc, bw, g in _REED_FORMANTS[v["kind"]])
    return _table(a)


def _reed(p: _Part, midi, n, n_gate, vel):
    v, sr = p.v, p.sr
    f0 = float(midi_hz(midi))
    tab = p.tables(midi, vel, lambda f, vv: _reed_table(p, f, vv))
    env = _sustain_env(p, n, n_gate, 0.006)
    tone = _read(tab, _phase(f0, n, sr, p.rng, v))
    return tone * env, _burst(env * v["breath"], 3 * v["breath"], 0.01, sr)


def _brass_tables(p: _Part, f0: float, vel: float):
    """(attack spectrum, full spectrum): the cutoff grows with velocity; the attack's is lower."""
    v = p.v
    h = np.arange(1, _n_harmonics(f0, p.sr, 1.03) + 1)
    f = h * f0
    fc = v["cutoff"] * (0.3 + 0.9 * vel)
    base = h ** -0.3
    if v.get("mute", 0.0) > 0:  # a straight mute: weak low partials, a nasal peak
        x = (f / 900.0) ** 2
        base = base * x / (1.0 + x) * (1.0 + 2.0 * _lorentz(f, 1800.0, 900.0))
    return (_table(base * _lowpass(f, 0.35 * fc, v["slope"])),
            _table(base * _lowpass(f, fc, v["slope"])))


def _brass(p: _Part, midi, n, n_gate, vel):
    v, sr = p.v, p.sr
    f0 = float(midi_hz(midi))
    dark, bright = p.tables(midi, vel, lambda f, vv: _brass_tables(p, f, vv))
    phase = _phase(f0, n, sr, p.rng, v)
    tau = 0.025  # the lips settle: the pitch rises from `scoop` cents below
    k = min(n, int(6 * tau * sr))
    t = np.arange(k) / sr
    phase[:k] -= f0 * np.log(2.0) * v["scoop"] / 1200.0 * tau * (1.0 - np.exp(-t / tau))
    phase[k:] -= f0 * np.log(2.0) * v["scoop"] / 1200.0 * tau
    tone = _read(bright, phase)
    lag = v["bloom"] * (1.3 - 0.6 * vel)  # louder: a faster bloom
    k = min(n, int(5 * lag * sr))
    if k > 0:
        x = np.exp(-np.arange(k) / (lag * sr))
        tone[:k] += x * (_read(dark, phase[:k]) - tone[:k])
    env = _sustain_env(p, n, n_gate, 0.008)
    # hardly any steady breath in brass: mostly the tongue's noise at the start
    return tone * env, _burst(env * (0.2 * v["breath"]), 6 * v["breath"], 0.012, sr)


def _accordion_table(p: _Part, f0: float, vel: float):
    v = p.v
    h = np.arange(1, _n_harmonics(f0, p.sr, 1.03) + 1)
    f = h * f0
    a = h ** -(v["tilt"] - 0.3 * vel) * (0.5 + _lorentz(f, v["chamber"], 0.8 * v["chamber"]))
    a *= _lowpass(f, 5000.0, 1.0)
    if v["octave"] > 0:  # a 4' reed: the even harmonics, an octave up
        a[1::2] += v["octave"] * a[:len(a) // 2]
    return _table(a)


def _accordion(p: _Part, midi, n, n_gate, vel):
    v, sr = p.v, p.sr
    f0 = float(midi_hz(midi))
    tab = p.tables(midi, vel, lambda f, vv: _accordion_table(p, f, vv))
    phase = _phase(f0, n, sr, p.rng, None)
    if v["reeds"] >= 3:  # musette: one reed in tune, one sharp, one flat
        tone = _voices(tab, phase, 2.0 * v["detune"], 3, p.rng)
    else:
        tone = _two_voices(tab, phase, v["detune"], p.rng)
    env = _sustain_env(p, n, n_gate)
    return tone * env, env * v["breath"]


_RENDER = {"strings": _strings, "organ": _organ, "piano": _piano, "voice": _voice,
           "harpsichord": _pluck, "guitar": _pluck, "flute": _flute, "reed": _reed,
           "brass": _brass, "accordion": _accordion, "plucked": _pluck}
# noise colour of each instrument: band (Hz) of the part's noise loop (a variant's
# ``noise_band`` overrides it)
_NOISE_BAND = {"strings": (2000.0, 7000.0), "organ": (800.0, 5000.0), "piano": (40.0, 600.0),
               "voice": (1500.0, 6000.0), "reed": (1200.0, 6000.0), "brass": (400.0, 4000.0),
               "accordion": (1000.0, 5000.0), "flute": (1000.0, 7000.0)}


def _noise_loop(band, n, sr, rng) -> np.ndarray:
    """Band-passed unit-RMS noise of length n: a loop of at most 1.5 s, tiled."""
    m = max(min(n, int(1.5 * sr)), 1)
    x = rng.standard_normal(m + 2048)
    lo, hi = band
    sos = scipy.signal.butter(2, [lo, min(hi, 0.45 * sr)], btype="bandpass", fs=sr, output="sos")
    x = scipy.signal.sosfilt(sos, x)[2048:]  # skip the filter's start-up
    x /= np.sqrt(np.mean(x ** 2)) + 1e-12
    return np.resize(x, n)


# ---------------------------------------------------------------------------------------
# Public rendering
# ---------------------------------------------------------------------------------------


def _check_notes(notes) -> np.ndarray:
    names = getattr(getattr(notes, "dtype", None), "names", None) or ()
    missing = [f for f in ("start_s", "duration_s", "midi", "velocity") if f not in names]
    if not isinstance(notes, np.ndarray) or missing:
        raise MusiclibError(f"notes must be a structured array of NOTE_DTYPE (fields {NOTE_DTYPE.names}), "
                            f"got {type(notes).__name__}{' missing ' + ', '.join(missing) if names else ''}")
    notes = notes.reshape(-1)
    for f in ("start_s", "duration_s", "midi", "velocity"):
        if not np.all(np.isfinite(notes[f])):
            raise MusiclibError(f"notes: non-finite {f}")
    if np.any(notes["duration_s"] < 0) or np.any((notes["velocity"] < 0) | (notes["velocity"] > 1)):
        raise MusiclibError("notes: negative duration_s or velocity outside 0..1")
    if np.any((notes["midi"] < 0) | (notes["midi"] > 135)):
        raise MusiclibError("notes: midi pitch outside 0..135")
    return notes


def render_part(notes: np.ndarray, name: str, variant: dict, *, sr: int, n_samples: int,
                rng: np.random.Generator) -> np.ndarray:
    """Render one part's notes on one instrument.

    Parameters
    ----------
    notes : np.ndarray of :data:`NOTE_DTYPE`, shape (n_notes,)
        The part's notes (the ``part`` field is ignored; several parts on one instrument can
        be rendered together). Times in seconds from the start of the buffer; pitches in MIDI
        (already transposed by the caller). Any order; zero-length notes sound for 16 samples.
    name : str
        One of :data:`INSTRUMENTS`.
    variant : dict
        From :func:`draw_variant` for the same instrument (JSON-able, so it can be stored in a
        manifest and read back).
    sr : int
        Sample rate in Hz (>= 4000).
    n_samples : int
        Length of the result in samples. Notes that start at or after it are skipped, notes
        (and release tails) that run past it are cut; notes that start before 0 sound from
        sample 0 on, as if the buffer were an excerpt.
    rng : numpy.random.Generator
        Oscillator phases, vibrato phases, noise, plucks. The same notes, variant and
        generator state give the same array.

    Returns
    -------
    np.ndarray, float32, shape (n_samples,)
        The part, unnormalised: a forte note peaks below about 1 and a legato part of
        sustained notes at velocity 0.7 has an RMS near 0.15 (plucked parts about 0.05,
        their notes fade); use :func:`mix_parts` to balance and normalise parts. Each note sounds for its duration
        plus a short release tail (60-180 ms, so that legato lines overlap smoothly); the
        piano and plucked strings also stop when their decay has faded out.

    Raises
    ------
    MusiclibError
        Unknown instrument, a variant of another instrument, bad notes, ``sr`` or
        ``n_samples``.
    """
    name = _check_name(name)
    if not isinstance(variant, dict) or variant.get("instrument", name) != name:
        raise MusiclibError(f"variant is not a {name} variant: {variant!r:.80}")
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr < 4000:
        raise MusiclibError(f"sr must be an integer sample rate >= 4000 Hz, got {sr!r}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 0:
        raise MusiclibError(f"n_samples must be an integer >= 0, got {n_samples!r}")
    if not isinstance(rng, np.random.Generator):
        raise MusiclibError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    notes = _check_notes(notes)
    sr, n_samples = int(sr), int(n_samples)
    out = np.zeros(n_samples)
    if n_samples == 0 or len(notes) == 0:
        return out.astype(np.float32)
    part = _Part(name, variant, sr, rng)
    render = _RENDER[name]
    band = tuple(variant["noise_band"]) if "noise_band" in variant else _NOISE_BAND.get(name)
    noise_env = np.zeros(n_samples) if band else None
    n_rel = int(_RELEASE_S[name] * sr)
    gain = _GAIN[name]
    for start, dur, midi, vel in zip(notes["start_s"].tolist(), notes["duration_s"].tolist(),
                                     notes["midi"].tolist(), notes["velocity"].tolist()):
        i0 = int(round(start * sr))
        if i0 >= n_samples:
            continue
        n_gate = max(int(round(dur * sr)), 16)
        n_total = n_gate + n_rel
        if name == "piano":
            n_total = min(n_total, int(_piano_length(part, midi) * sr))
        elif name in _PLUCKED:
            n_total = min(n_total, int(_PLUCK_MAX_S * sr))
        if i0 + n_total <= 0:
            continue
        n = min(n_total, n_samples - i0)  # cut at the end of the buffer
        tone, noise = render(part, midi, n, n_gate, vel)
        a = max(i0, 0)
        out[a:i0 + n] += (gain * vel) * tone[a - i0:]
        if noise is not None:
            noise_env[a:i0 + n] += (gain * vel) * noise[a - i0:]
    if noise_env is not None:
        out += noise_env * _noise_loop(band, n_samples, sr, rng)
    if name == "organ" and variant["tremulant_depth"] > 0:
        t = np.arange(n_samples) * (2 * np.pi * variant["tremulant_rate"] / sr)
        out *= 1.0 + variant["tremulant_depth"] * np.sin(t + rng.random() * 6.28)
    if name == "accordion" and variant["swell_depth"] > 0:  # the bellows
        t = np.arange(n_samples) * (2 * np.pi * variant["swell_rate"] / sr)
        out *= 1.0 + variant["swell_depth"] * np.sin(t + rng.random() * 6.28)
    return out.astype(np.float32)


def mix_parts(parts, levels=None, *, peak: float = 0.9) -> np.ndarray:
    """Sum rendered parts with gains and normalise the mix to a peak.

    Parameters
    ----------
    parts : sequence of np.ndarray, each shape (n,)
        Rendered parts (:func:`render_part`), all the same length.
    levels : sequence of float, optional
        Linear gain of each part (not dB; e.g. ``10 ** (rng.uniform(-6, 0, n_parts) / 20)``).
        Default: 1 for every part.
    peak : float
        Peak absolute value of the result (> 0, full scale = 1).

    Returns
    -------
    np.ndarray, float32, shape (n,)
        The mix, scaled so that ``max(abs(y)) == peak``; all zeros when the parts are silent.
    """
    parts = [np.asarray(p, dtype=np.float32).reshape(-1) for p in parts]
    if not parts:
        raise MusiclibError("mix_parts needs at least one part")
    n = len(parts[0])
    if any(len(p) != n for p in parts):
        raise MusiclibError(f"mix_parts: parts differ in length ({sorted({len(p) for p in parts})})")
    levels = [1.0] * len(parts) if levels is None else [float(g) for g in levels]
    if len(levels) != len(parts):
        raise MusiclibError(f"mix_parts: {len(levels)} levels for {len(parts)} parts")
    if not (np.isfinite(peak) and peak > 0):
        raise MusiclibError(f"peak must be positive, got {peak!r}")
    y = np.zeros(n, dtype=np.float32)
    for p, g in zip(parts, levels):
        y += np.float32(g) * p
    m = float(np.max(np.abs(y))) if n else 0.0
    if m < 1e-12:
        return np.zeros(n, dtype=np.float32)
    y *= np.float32(peak / m)
    return y


def add_room(y: np.ndarray, *, rt60: float, wet: float, sr: int,
             rng: np.random.Generator) -> np.ndarray:
    """Put a signal in a synthetic room (the same impulse response as :mod:`musiclib.synth`).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Dry signal.
    rt60 : float
        Reverberation time in seconds (> 0; the response is cut at 3 s): ~0.3 small room,
        ~1.5 hall, ~3 church.
    wet : float
        Mix of the reverberant signal, 0..1 (``(1 - wet) * dry + wet * reverb``).
    sr : int
        Sample rate in Hz.
    rng : numpy.random.Generator
        Draws the impulse response.

    Returns
    -------
    np.ndarray, float32, shape (n,)
        Same length as ``y`` (the tail after the end is dropped); the level is not
        renormalised (the impulse response has unit energy, so the loudness stays similar).
    """
    if not (np.isfinite(rt60) and rt60 > 0):
        raise MusiclibError(f"rt60 must be positive seconds, got {rt60!r}")
    if not (np.isfinite(wet) and 0 <= wet <= 1):
        raise MusiclibError(f"wet must be in 0..1, got {wet!r}")
    y = np.asarray(y, dtype=float).reshape(-1)
    ir = reverb_ir(float(rt60), int(sr), rng)
    if len(y) == 0 or len(ir) == 0:
        return y.astype(np.float32)
    y = y.astype(np.float32)
    # float32 FFT convolution: 4x faster than float64, ~1e-7 relative error
    rev = scipy.signal.fftconvolve(y, ir.astype(np.float32))[:len(y)]
    rev *= np.float32(wet)
    rev += np.float32(1.0 - wet) * y
    return rev.astype(np.float32, copy=False)
