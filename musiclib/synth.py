"""The built-in synthetic dataset: procedurally composed and rendered music in ten styles.

Everything here is **synthetic**: no recording, no download. Each clip is composed (key, tempo,
chord progression, melody, drum pattern) and rendered to a 22050 Hz mono waveform from a
seed, so the same seed always gives byte-identical audio on every machine.

A style is a :class:`StyleRecipe`, a recipe over six musical dimensions:

========================  ==========  ===============  =====================  ========  ==========================================  ===========
style                     tempo bpm   rhythm (drums)   harmony                timbre    texture                                     noise
========================  ==========  ===============  =====================  ========  ==========================================  ===========
``pluck_folk_major``      92-112      folk             major, I-V-vi-IV ...   pluck     bass:root_fifth, arp:8, melody              clean
``pluck_folk_minor``      92-112      folk             minor, i-VI-III-VII..  pluck     bass:root_fifth, arp:8, melody              clean
``bell_folk_major``       92-112      folk             major, I-V-vi-IV ...   bell      bass:root_fifth, arp:8, melody              clean
``saw_techno``            122-132     four_on_floor    dorian, i-VII-VI-VII   saw       bass:offbeat, chords:stab, arp:16           clean
``saw_downtempo``         78-92       breakbeat        dorian, i-VII-VI-VII   saw       bass:offbeat, chords:stab, arp:16           clean
``saw_industrial``        122-132     four_on_floor    dorian, i-VII-VI-VII   saw       bass:offbeat, chords:stab, arp:16           distorted
``epiano_jazz``           104-138     swing_ride       major 7ths, ii-V-I     epiano    bass:walk, chords:comp, melody              clean
``epiano_lofi``           72-88       boom_bap         major 7ths, ii-V-I     epiano    bass:walk, chords:comp, melody              vinyl
``pad_ambient_lydian``    60-76       none             lydian, I-II           pad       chords:pad, melody:sparse                   clean
``pad_drone_phrygian``    60-76       none             phrygian dominant      pad       drone, melody:sparse                        clean
========================  ==========  ===============  =====================  ========  ==========================================  ===========

Designed pairs (:data:`STYLE_PAIRS`): styles that differ in only one or two dimensions (three
for the lo-fi pair), so that each feature family has a pair that it separates and the
others confuse.

==========================================  ======================  ===================================================
pair                                        differs in              feature family expected to separate it
==========================================  ======================  ===================================================
pluck_folk_major / pluck_folk_minor         harmony                 chroma only (major vs minor third and sixth)
pluck_folk_major / bell_folk_major          timbre                  MFCC, spectral centroid / flatness / contrast
saw_techno / saw_downtempo                  tempo, rhythm           tempo, onset strength, RMS and ZCR std (and MFCC)
saw_techno / saw_industrial                 noise / distortion      spectral flatness, ZCR, contrast (and MFCC)
epiano_jazz / epiano_lofi                   rhythm, tempo, noise    flatness, rolloff (vinyl), onsets / tempo
pad_ambient_lydian / pad_drone_phrygian     harmony, texture        chroma (mean: scale; std: chord changes), MFCC
==========================================  ======================  ===================================================

The per-clip means of the basic spectral features (ZCR, RMS, centroid, bandwidth, rolloff,
flatness, contrast) cannot tell apart the two harmony pairs; MFCC and chroma can. Measured
with 30 clips of 10 s per style, 5-fold CV: about 70% for a random forest on the seven basic
means, about 93% on mean and std of 20 MFCC and 12 chroma (SYNTH_VERSION 1, seeds 0 and 1).

Within a style every clip varies so the task is not trivial: key (a few tonics per style),
tempo (a range), chord progression (several per style), voicing and inversion, arpeggio
direction, melody (a new motif per section), instrument variant (brightness, decay,
detune, FM ratio, filter cutoff), part levels, which parts play in a section, drum kit and
velocities, noise level, a microphone / mastering tilt EQ, room reverb (RT60 and wet mix)
and output gain.

Each clip's random numbers come from ``np.random.SeedSequence([seed, stable_hash(style),
index])``, so a clip never depends on which other clips are rendered, in which order, or by
how many processes.

Taught in ``notebooks/00_setup_and_data.ipynb``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import scipy.signal

from . import safe_write
from .dsp import attack_ramp as _attack
from .dsp import karplus_strong
from .dsp import midi_hz as _midi_hz
from .dsp import release_ramp as _release
from .dsp import reverb_ir as _reverb_ir
from .dsp import wavetable as _wavetable
from .dsp import wavetable_lookup as _lookup
from .config import SAMPLE_RATE, Profile, get_profile
from .errors import MusiclibError

__all__ = [
    "pair_table",
    "style_table",
    "SYNTH_VERSION",
    "StyleRecipe",
    "STYLES",
    "STYLE_PAIRS",
    "style_names",
    "render_clip",
    "write_dataset",
    "is_complete",
]

SYNTH_VERSION = 1  # bump whenever the audio a seed produces changes
MARKER = "synth.json"

# ---------------------------------------------------------------------------------------
# Musical vocabulary
# ---------------------------------------------------------------------------------------

#: Semitone offsets of each scale's seven degrees from the tonic.
SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "phrygian_dominant": (0, 1, 4, 5, 7, 8, 10),
}

_PITCH_CLASS = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6,
                "Gb": 6, "G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11}

#: Drum patterns: voice -> 16 sixteenth-note steps per bar. ``X`` accent, ``x`` normal,
#: ``o`` ghost, ``-`` rest.
DRUM_PATTERNS: dict[str, dict[str, str]] = {
    "none": {},
    "folk": {
        "kick": "x-------x-------",
        "rim": "----o-------o---",
        "shaker": "xoxoxoxoxoxoxoxo",
    },
    "four_on_floor": {
        "kick": "X---X---X---X---",
        "clap": "----x-------x---",
        "hat": "--x---x---x---x-",
        "shaker": "o-o-o-o-o-o-o-o-",
    },
    "breakbeat": {
        "kick": "X-----x---x-----",
        "snare": "----X-------X--o",
        "hat": "x-x-x-x-x-x-x-xo",
    },
    "swing_ride": {
        "ride": "x---x-x-x---x-x-",
        "kick": "o-------o-------",
        "brush": "----x-------x---",
    },
    "boom_bap": {
        "kick": "X------x-xX-----",
        "snare": "----X-------X---",
        "hat": "x-x-x-x-x-x-x-x-",
    },
}

_STEP_VELOCITY = {"X": 1.0, "x": 0.78, "o": 0.4}

#: Finishes (the noise / distortion dimension): hiss level range in dB below the mix peak,
#: tanh drive range, vinyl crackle, low-pass cutoff range in Hz (None = none).
FINISHES: dict[str, dict] = {
    "clean": {"hiss_db": (-72.0, -45.0), "drive": (0.0, 0.0), "crackle": 0.0, "lowpass": None},
    "vinyl": {"hiss_db": (-38.0, -28.0), "drive": (0.3, 0.8), "crackle": 1.0,
              "lowpass": (2800.0, 5000.0)},
    "distorted": {"hiss_db": (-24.0, -14.0), "drive": (3.0, 9.0), "crackle": 0.0,
                  "lowpass": None},
}


@dataclass(frozen=True)
class StyleRecipe:
    """How one synthetic style is composed and rendered.

    Attributes
    ----------
    name : str
        The label, e.g. ``"pluck_folk_major"``.
    summary : str
        One line for humans.
    bpm : tuple of float
        Tempo range (low, high) in beats per minute; each clip draws one tempo.
    drums : str
        Key of :data:`DRUM_PATTERNS` (the rhythm dimension); ``"none"`` for no drums.
    swing : float
        Delay of the off-beat eighth notes, as a fraction of an eighth (0 = straight, 1/3 =
        triplet feel).
    scale : str
        Key of :data:`SCALES`.
    progressions : tuple of tuple of int
        Chord progressions, one chord root per bar as a 0-based scale degree; each section of
        a clip draws one.
    sevenths : bool
        Four-note seventh chords instead of triads.
    keys : tuple of str
        Tonics a clip may be in (pitch class names).
    timbre : str
        Instrument of every pitched part: ``pluck`` (Karplus-Strong string), ``bell`` (FM),
        ``saw`` (filtered sawtooth), ``epiano`` (FM electric piano) or ``pad`` (additive).
    texture : tuple of str
        Parts, e.g. ``"bass:walk"``, ``"chords:pad"``, ``"arp:16"``, ``"melody"``,
        ``"melody:sparse"``, ``"drone"``.
    finish : str
        Key of :data:`FINISHES` (the noise / distortion dimension).
    reverb : tuple of float
        Range of the room's RT60 in seconds.
    """

    name: str
    summary: str
    bpm: tuple[float, float]
    drums: str
    swing: float
    scale: str
    progressions: tuple[tuple[int, ...], ...]
    sevenths: bool
    keys: tuple[str, ...]
    timbre: str
    texture: tuple[str, ...]
    finish: str
    reverb: tuple[float, float]

    def dimensions(self) -> dict:
        """The recipe as the six musical dimensions (for tables and ``synth.json``)."""
        return {
            "tempo": list(self.bpm),
            "rhythm": f"{self.drums}" + (f" swing {self.swing:.2g}" if self.swing else ""),
            "harmony": f"{self.scale}{' 7ths' if self.sevenths else ''} "
                       f"in {'/'.join(self.keys)}",
            "timbre": self.timbre,
            "texture": list(self.texture),
            "noise": self.finish,
        }


_FOLK = dict(
    bpm=(92.0, 112.0), drums="folk", swing=0.0, scale="major",
    progressions=((0, 4, 5, 3), (0, 3, 4, 0), (0, 5, 3, 4)), sevenths=False,
    keys=("C", "D", "E"), timbre="pluck",
    texture=("bass:root_fifth", "arp:8", "melody"), finish="clean", reverb=(0.3, 1.0),
)
_TECHNO = dict(
    bpm=(122.0, 132.0), drums="four_on_floor", swing=0.0, scale="dorian",
    progressions=((0, 6, 5, 6), (0, 0, 6, 6), (0, 3, 0, 6)), sevenths=False,
    keys=("A", "B", "C", "D"), timbre="saw",
    texture=("bass:offbeat", "chords:stab", "arp:16"), finish="clean", reverb=(0.3, 1.2),
)
_JAZZ = dict(
    bpm=(104.0, 138.0), drums="swing_ride", swing=1 / 3, scale="major",
    progressions=((1, 4, 0, 5), (0, 5, 1, 4), (2, 5, 1, 4)), sevenths=True,
    keys=("F", "G", "Bb", "C"), timbre="epiano",
    texture=("bass:walk", "chords:comp", "melody"), finish="clean", reverb=(0.4, 1.2),
)
_AMBIENT = dict(
    bpm=(60.0, 76.0), drums="none", swing=0.0, scale="lydian",
    progressions=((0, 0, 1, 1), (0, 1, 4, 0), (0, 0, 6, 1)), sevenths=False,
    keys=("C", "D", "E"), timbre="pad",
    texture=("chords:pad", "melody:sparse"), finish="clean", reverb=(1.5, 3.0),
)

_RECIPES = [
    StyleRecipe(name="pluck_folk_major", summary="plucked-string folk in a major key",
                **_FOLK),
    StyleRecipe(name="pluck_folk_minor", summary="the same folk song in a minor key",
                **{**_FOLK, "scale": "minor",
                   "progressions": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6))}),
    StyleRecipe(name="bell_folk_major", summary="the major folk song played on FM bells",
                **{**_FOLK, "timbre": "bell"}),
    StyleRecipe(name="saw_techno", summary="four-on-the-floor techno with filtered saws",
                **_TECHNO),
    StyleRecipe(name="saw_downtempo", summary="the techno parts, slower, over a breakbeat",
                **{**_TECHNO, "bpm": (78.0, 92.0), "drums": "breakbeat"}),
    StyleRecipe(name="saw_industrial", summary="the techno track, distorted and noisy",
                **{**_TECHNO, "finish": "distorted"}),
    StyleRecipe(name="epiano_jazz", summary="swung electric-piano jazz, ii-V-I in 7th chords",
                **_JAZZ),
    StyleRecipe(name="epiano_lofi", summary="the jazz chords as lo-fi hip hop: boom-bap, vinyl",
                **{**_JAZZ, "bpm": (72.0, 88.0), "drums": "boom_bap", "swing": 0.2,
                   "finish": "vinyl"}),
    StyleRecipe(name="pad_ambient_lydian", summary="slow lydian pad chords with a sparse melody",
                **_AMBIENT),
    StyleRecipe(name="pad_drone_phrygian", summary="a tonic drone under a phrygian-dominant melody",
                **{**_AMBIENT, "scale": "phrygian_dominant",
                   "progressions": ((0, 0, 1, 0), (0, 0, 0, 6), (0, 1, 0, 0)),
                   "keys": ("D", "E", "F"), "texture": ("drone", "melody:sparse")}),
]

#: Every built-in style by label.
STYLES: dict[str, StyleRecipe] = {r.name: r for r in _RECIPES}

#: Designed pairs: (style a, style b, dimensions that differ, features expected to separate).
STYLE_PAIRS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("pluck_folk_major", "pluck_folk_minor", ("harmony",), "chroma"),
    ("pluck_folk_major", "bell_folk_major", ("timbre",), "MFCC, spectral centroid"),
    ("saw_techno", "saw_downtempo", ("tempo", "rhythm"), "onset strength / tempo, RMS and ZCR std"),
    ("saw_techno", "saw_industrial", ("noise",), "spectral flatness, ZCR"),
    ("epiano_jazz", "epiano_lofi", ("tempo", "rhythm", "noise"), "flatness, rolloff, onsets"),
    ("pad_ambient_lydian", "pad_drone_phrygian", ("harmony", "texture"), "chroma mean and std"),
)


def style_names() -> list[str]:
    """Labels of the built-in synthetic styles, sorted.

    Returns
    -------
    list of str

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    return sorted(STYLES)


# ---------------------------------------------------------------------------------------
# Small DSP helpers
# ---------------------------------------------------------------------------------------


def style_table():
    """The recipe of every style as a table: one row per style, one column per dimension.

    Returns
    -------
    pandas.DataFrame
        Index: style names; columns: tempo (bpm range), rhythm, harmony, timbre, texture,
        noise.

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    import pandas as pd

    rows = {}
    for name in style_names():
        dims = STYLES[name].dimensions()
        dims["tempo"] = "{:g}-{:g}".format(*dims["tempo"])
        dims["texture"] = ", ".join(dims["texture"])
        rows[name] = dims
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("style")


def pair_table():
    """The designed pairs of styles, what separates them, and which features should tell.

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    import pandas as pd

    return pd.DataFrame(
        [(a, b, ", ".join(dims), feats) for a, b, dims, feats in STYLE_PAIRS],
        columns=["style_a", "style_b", "differs_in", "expected_to_separate"],
    )


def _lowpass_ba(fc: float, q: float, sr: int):
    """RBJ cookbook biquad low-pass coefficients (cheaper than a filter-design call per note)."""
    w0 = 2.0 * np.pi * min(fc, 0.45 * sr) / sr
    alpha = np.sin(w0) / (2.0 * q)
    cw = np.cos(w0)
    b = np.array([(1 - cw) / 2, 1 - cw, (1 - cw) / 2])
    a = np.array([1 + alpha, -2 * cw, 1 - alpha])
    return b / a[0], a / a[0]


def _noise_burst(rng, n, sr, band, tau_s, attack_s=0.0005):
    """Band-limited noise with an exponential decay (drums, reverb tails)."""
    x = rng.standard_normal(n)
    lo, hi = band
    if lo and hi:
        sos = scipy.signal.butter(2, [lo, min(hi, 0.45 * sr)], btype="bandpass", fs=sr, output="sos")
    elif lo:
        sos = scipy.signal.butter(2, lo, btype="highpass", fs=sr, output="sos")
    else:
        sos = scipy.signal.butter(2, min(hi, 0.45 * sr), btype="lowpass", fs=sr, output="sos")
    x = scipy.signal.sosfilt(sos, x)
    t = np.arange(n) / sr
    return x / (np.std(x) + 1e-12) * np.exp(-t / tau_s) * _attack(n, int(attack_s * sr))


# ---------------------------------------------------------------------------------------
# Instruments (timbre dimension). Each renders one note: f0 in Hz, gate and total length in
# samples, velocity in 0..1, and a dict of per-clip variant parameters.
# ---------------------------------------------------------------------------------------


_pluck = karplus_strong  # Karplus-Strong string (musiclib.dsp)


def _fm(f0, n_total, sr, ratio, index, tau_index):
    t = np.arange(n_total) / sr
    mod = index * np.exp(-t / tau_index) * np.sin(2 * np.pi * f0 * ratio * t)
    return np.sin(2 * np.pi * f0 * t + mod), t


def _bell(f0, n_gate, n_total, vel, sr, rng, v):
    """FM bell: inharmonic modulator ratio, modulation index that decays with the note."""
    y, t = _fm(f0, n_total, sr, v["ratio"], v["index"] * (0.5 + vel), v["tau_index"])
    env = np.exp(-t / v["decay"]) * _attack(n_total, int(0.002 * sr))
    return 0.55 * y * env * _release(n_gate, n_total, int(0.15 * sr)) * vel


def _epiano(f0, n_gate, n_total, vel, sr, rng, v):
    """FM electric piano: a 1:1 pair for the body plus a quickly fading high 'tine'."""
    body, t = _fm(f0, n_total, sr, 1.0, v["index"] * (0.4 + vel), 0.25)
    tine = np.sin(2 * np.pi * f0 * v["tine_ratio"] * t) * np.exp(-t / 0.04)
    env = np.exp(-t / v["decay"]) * _attack(n_total, int(0.003 * sr))
    y = body * env + v["tine"] * vel * tine
    return 0.5 * y * _release(n_gate, n_total, int(0.08 * sr)) * vel


def _harmonic_osc(f0, n_total, sr, amps, detune_cents, vib=0.0):
    """Two detuned band-limited wavetable oscillators (harmonics above Nyquist dropped)."""
    nh = int(min(len(amps), 0.45 * sr / (f0 * 2 ** (abs(detune_cents) / 1200))))
    table = _wavetable(amps[:max(nh, 1)])
    t = np.arange(n_total) / sr
    out = np.zeros(n_total)
    for d, ph in ((detune_cents, 0.0), (-detune_cents, 0.37)):
        f = f0 * 2 ** (d / 1200)
        if vib:
            phase = ph + np.cumsum(f * (1 + vib * np.sin(2 * np.pi * 5.0 * t))) / sr
        else:
            phase = ph + f * t
        out += _lookup(table, phase)
    return 0.5 * out


_SAW_AMPS = 1.0 / np.arange(1, 200)


def _saw(f0, n_gate, n_total, vel, sr, rng, v):
    """Detuned sawtooth through a resonant low-pass whose cutoff follows velocity."""
    y = _harmonic_osc(f0, n_total, sr, _SAW_AMPS, v["detune"])
    fc = v["cutoff"] * (0.5 + vel) * rng.uniform(0.8, 1.25)
    b, a = _lowpass_ba(max(fc, 1.5 * f0), v["q"], sr)
    y = scipy.signal.lfilter(b, a, y)
    env = _attack(n_total, int(0.004 * sr)) * (v["sustain"] + (1 - v["sustain"]) * np.exp(
        -np.arange(n_total) / (0.12 * sr)))
    return 0.45 * y * env * _release(n_gate, n_total, int(0.03 * sr)) * vel


def _pad(f0, n_gate, n_total, vel, sr, rng, v):
    """Additive pad: soft harmonic roll-off, slow attack and release, a little vibrato."""
    y = _harmonic_osc(f0, n_total, sr, v["amps"], v["detune"], vib=0.003)
    env = _attack(n_total, int(v["attack"] * sr))
    return 0.5 * y * env * _release(n_gate, n_total, int(0.5 * sr)) * vel


_INSTRUMENTS = {"pluck": _pluck, "bell": _bell, "saw": _saw, "epiano": _epiano, "pad": _pad}
_RELEASE_S = {"pluck": 0.06, "bell": 0.15, "saw": 0.03, "epiano": 0.08, "pad": 0.5}


def _instrument_variant(timbre: str, rng) -> dict:
    """Per-clip instrument variant: the same instrument family, a different instrument."""
    if timbre == "pluck":
        return {"pluck_pos": rng.uniform(0.08, 0.3), "dark": rng.uniform(0.2, 1.2),
                "loss": rng.uniform(0.35, 0.5), "decay": rng.uniform(1.0, 3.0)}
    if timbre == "bell":
        return {"ratio": float(rng.choice([1.4, 2.0, 2.76, 3.5])), "index": rng.uniform(1.0, 3.0),
                "tau_index": rng.uniform(0.15, 0.6), "decay": rng.uniform(0.6, 1.8)}
    if timbre == "epiano":
        return {"index": rng.uniform(0.8, 2.2), "tine_ratio": float(rng.choice([7.0, 11.0, 14.0])),
                "tine": rng.uniform(0.05, 0.3), "decay": rng.uniform(0.8, 2.0)}
    if timbre == "saw":
        return {"detune": rng.uniform(3.0, 15.0), "cutoff": rng.uniform(700.0, 3500.0),
                "q": rng.uniform(0.7, 4.0), "sustain": rng.uniform(0.3, 0.8)}
    if timbre == "pad":
        h = np.arange(1, 25)
        odd = np.where(h % 2 == 1, 1.0, rng.uniform(0.2, 1.0))
        return {"amps": odd / h ** rng.uniform(1.3, 2.5), "detune": rng.uniform(4.0, 12.0),
                "attack": rng.uniform(0.15, 0.6)}
    raise MusiclibError(f"unknown timbre {timbre!r}")


# ---------------------------------------------------------------------------------------
# Drum kit (one-shot samples drawn per clip, then placed at pattern steps)
# ---------------------------------------------------------------------------------------


def _drum_kit(voices, sr, rng) -> dict[str, np.ndarray]:
    kit = {}
    for name in voices:
        if name == "kick":
            n = int(0.4 * sr)
            t = np.arange(n) / sr
            f_hi, f_lo = rng.uniform(110, 180), rng.uniform(42, 62)
            tau_f = rng.uniform(0.025, 0.06)
            f = f_lo + (f_hi - f_lo) * np.exp(-t / tau_f)
            body = np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / rng.uniform(0.12, 0.3))
            click = _noise_burst(rng, n, sr, (1000, 8000), 0.003) * rng.uniform(0.05, 0.25)
            kit[name] = body + click
        elif name == "snare":
            n = int(0.3 * sr)
            t = np.arange(n) / sr
            tone = np.sin(2 * np.pi * rng.uniform(170, 230) * t) * np.exp(-t / 0.06)
            kit[name] = 0.5 * tone + 0.6 * _noise_burst(rng, n, sr, (rng.uniform(900, 1800), 0), rng.uniform(0.06, 0.14))
        elif name == "clap":
            n = int(0.3 * sr)
            x = _noise_burst(rng, n, sr, (900, 3000), rng.uniform(0.06, 0.12))
            t = np.arange(n) / sr
            gaps = (t < 0.01) | ((t > 0.012) & (t < 0.02)) | (t > 0.024)
            kit[name] = 0.7 * x * gaps
        elif name == "hat":
            n = int(0.12 * sr)
            kit[name] = 0.35 * _noise_burst(rng, n, sr, (rng.uniform(6000, 9000), 0), rng.uniform(0.012, 0.035))
        elif name == "shaker":
            n = int(0.1 * sr)
            kit[name] = 0.25 * _noise_burst(rng, n, sr, (3000, 9000), rng.uniform(0.02, 0.045), attack_s=0.008)
        elif name == "rim":
            n = int(0.08 * sr)
            t = np.arange(n) / sr
            kit[name] = 0.4 * (np.sin(2 * np.pi * rng.uniform(400, 600) * t) * np.exp(-t / 0.012)
                               + 0.4 * _noise_burst(rng, n, sr, (2000, 6000), 0.008))
        elif name == "ride":
            n = int(1.0 * sr)
            t = np.arange(n) / sr
            fs = rng.uniform(300, 600) * np.array([1.0, 1.47, 2.09, 2.56, 3.71, 5.03])
            tone = np.sin(2 * np.pi * fs[:, None] * t[None, :]).sum(0) / 6.0
            ring = (0.6 * tone * np.exp(-t / 0.5)
                    + _noise_burst(rng, n, sr, (5000, 0), rng.uniform(0.2, 0.5)))
            kit[name] = 0.22 * ring
        elif name == "brush":
            n = int(0.25 * sr)
            kit[name] = 0.25 * _noise_burst(rng, n, sr, (1500, 7000), rng.uniform(0.05, 0.1), attack_s=0.02)
        else:  # pragma: no cover - patterns only name the voices above
            raise MusiclibError(f"unknown drum voice {name!r}")
    return kit


# ---------------------------------------------------------------------------------------
# Composition: a clip is a list of note events (start s, length s, MIDI pitch, velocity)
# per part, composed bar by bar in sections of 4 or 8 bars.
# ---------------------------------------------------------------------------------------


class _Key:
    def __init__(self, scale, tonic_pc):
        self.scale = SCALES[scale]
        self.tonic = tonic_pc

    def midi(self, degree, octave_base):
        """MIDI pitch of a scale degree (any integer) above the tonic in ``octave_base``'s octave."""
        d = int(degree)
        return octave_base + self.tonic + 12 * (d // 7) + self.scale[d % 7]

    def chord(self, root_degree, sevenths):
        return [root_degree + 2 * i for i in range(4 if sevenths else 3)]


def _swing(step, swing, step_s):
    """Time in seconds of a 16th step; off-beat eighths are delayed by ``swing``."""
    t = step * step_s
    if swing and step % 4 == 2:
        t += swing * 2 * step_s
    return t


_MELODY_CELLS = ([4], [2, 2], [3, 1], [1, 1, 2], [2, 1, 1], [1, 1, 1, 1], [6, 2], [8])
_MELODY_W = np.array([3, 4, 2, 1.5, 1.5, 1, 1.5, 1.0])
_SPARSE_CELLS = ([8], [4, 4], [6, 2], [16], [12, 4])
_SPARSE_W = np.array([3, 3, 1.5, 1.5, 1.0])
_STAB_PATTERNS = ("--x--x----x--x--", "x--x--x---x-----", "--x---x---x---x-", "x-----x-----x---")


def _compose(recipe: StyleRecipe, n_bars: int, key: _Key, bar_s: float, swing: float, rng):
    """Note events of every pitched part: dict part -> list of (start, dur, midi, vel)."""
    step_s = bar_s / 16.0
    parts = {p: [] for p in recipe.texture}
    arp_dir = rng.choice(["up", "down", "updown", "alberti"])
    inversion = int(rng.integers(0, 3))
    part_gain = {p: 10 ** (rng.uniform(-4, 2) / 20) for p in recipe.texture}
    bar = 0
    while bar < n_bars:
        sec_len = int(rng.choice([4, 8]))
        prog = recipe.progressions[int(rng.integers(len(recipe.progressions)))]
        active = {p: (i == 0 or rng.random() < 0.85) for i, p in enumerate(recipe.texture)}
        # one two-bar melody motif per section: rhythm in 16th steps and scale-degree steps
        melody_sparse = any(p == "melody:sparse" for p in recipe.texture)
        cells, w = (_SPARSE_CELLS, _SPARSE_W) if melody_sparse else (_MELODY_CELLS, _MELODY_W)
        rhythm = []
        while sum(rhythm) < 32:
            rhythm.extend(cells[int(rng.choice(len(cells), p=w / w.sum()))])
        motion = rng.choice([-2, -1, -1, 0, 1, 1, 2, 3, -3], size=len(rhythm))
        rests = rng.random(len(rhythm)) < (0.25 if melody_sparse else 0.15)
        deg = int(rng.choice([0, 2, 4]))
        for b in range(bar, min(bar + sec_len, n_bars)):
            root = prog[(b - bar) % len(prog)]
            chord = key.chord(root, recipe.sevenths)
            t0 = b * bar_s
            for part in recipe.texture:
                if not active[part]:
                    continue
                kind, _, opt = part.partition(":")
                ev = parts[part]
                g = part_gain[part]
                if kind == "bass":
                    r = key.midi(root, 36) - (12 if key.midi(root, 36) > 47 else 0)
                    if opt == "root_fifth":
                        fifth = r + key.midi(root + 4, 36) - key.midi(root, 36)
                        for beat, m in ((0, r), (2, fifth)):
                            ev.append((t0 + beat * 4 * step_s, 2 * 4 * step_s, m, 0.8 * g))
                    elif opt == "offbeat":
                        for s in range(2, 16, 4):
                            ev.append((t0 + s * step_s, 1.6 * step_s, r, rng.uniform(0.7, 0.95) * g))
                    elif opt == "walk":
                        nxt = prog[(b - bar + 1) % len(prog)]
                        target = key.midi(nxt, 36) - (12 if key.midi(nxt, 36) > 47 else 0)
                        tones = [r, r + (key.midi(root + 2, 36) - key.midi(root, 36)),
                                 r + (key.midi(root + 4, 36) - key.midi(root, 36)),
                                 target + int(rng.choice([-1, 1, 2]))]
                        for beat, m in enumerate(tones):
                            ev.append((t0 + _swing(4 * beat, 0, step_s), 3.6 * step_s, m,
                                       rng.uniform(0.65, 0.9) * g))
                elif kind == "chords":
                    pitches = sorted(key.midi(d, 48) for d in chord)
                    for _ in range(inversion):
                        pitches = pitches[1:] + [pitches[0] + 12]
                    if opt == "pad":
                        hits = [(0, 16)]
                    elif opt == "stab":
                        pat = _STAB_PATTERNS[(b // 2 + inversion) % len(_STAB_PATTERNS)]
                        hits = [(s, 1.5) for s, c in enumerate(pat) if c == "x"]
                    else:  # comp: two or three syncopated jazz hits a bar
                        starts = sorted(rng.choice([0, 3, 6, 8, 10, 11, 14], size=int(rng.integers(2, 4)), replace=False))
                        hits = [(s, float(rng.choice([1.5, 2.5, 4.0]))) for s in starts]
                    for s, d in hits:
                        v = rng.uniform(0.5, 0.8) * g
                        for m in pitches:
                            ev.append((t0 + _swing(s, swing, step_s), d * step_s, m, v / len(pitches) ** 0.5))
                elif kind == "arp":
                    step = 2 if opt == "8" else 1
                    tones = [key.midi(d, 60) for d in chord] + [key.midi(chord[0] + 7, 60)]
                    seq = {"up": tones, "down": tones[::-1], "updown": tones + tones[-2:0:-1],
                           "alberti": [tones[0], tones[2], tones[1], tones[2]]}[arp_dir]
                    for i, s in enumerate(range(0, 16, step)):
                        ev.append((t0 + _swing(s, swing, step_s), step * step_s * 2.5, seq[i % len(seq)],
                                   (0.75 if s % 4 == 0 else 0.55) * rng.uniform(0.85, 1.0) * g))
                elif kind == "drone":
                    if b == bar:
                        dur = min(sec_len, n_bars - bar) * bar_s
                        for m in (key.midi(0, 36), key.midi(4, 48), key.midi(0, 48)):
                            ev.append((t0, dur, m, 0.5 * g))
                elif kind == "melody":
                    pos = 16 * ((b - bar) % 2)
                    acc = 0
                    for i, (d, mv) in enumerate(zip(rhythm, motion)):
                        if acc >= pos + 16:
                            break
                        if acc >= pos:
                            deg = int(np.clip(deg + mv, -1, 11))
                            if acc % 4 == 0:  # strong positions: move to the nearest chord tone
                                cands = [c + 7 * o for c in chord for o in (-1, 0, 1)]
                                deg = int(min(cands, key=lambda c: (abs(c - deg), c)))
                                deg = int(np.clip(deg, -1, 11))
                            if not rests[i]:
                                ev.append((t0 + _swing(acc - pos, swing, step_s), d * step_s * 0.95,
                                           key.midi(deg, 60),
                                           rng.uniform(0.7, 1.0) * (1.0 if acc % 4 == 0 else 0.85) * g))
                        acc += d
        bar += sec_len
    return parts


# ---------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------


def stable_hash(text: str) -> int:
    """A process-independent 64-bit hash (Python's ``hash()`` is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")


_stable_hash = stable_hash


def _rng_for(seed: int, style: str, index: int, kind: str = "clip") -> np.random.Generator:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise MusiclibError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
        raise MusiclibError(f"index must be a non-negative integer, got {index!r}")
    return np.random.default_rng(np.random.SeedSequence([int(seed), _stable_hash(f"{style}/{kind}"), int(index)]))


def _recipe(style: str) -> StyleRecipe:
    try:
        return STYLES[style]
    except (KeyError, TypeError):
        raise MusiclibError(
            f"unknown synthetic style {style!r}: choose one of {', '.join(style_names())}"
        ) from None


def _place(buf, start, y):
    """Add ``y`` into ``buf`` from sample ``start`` (either end may fall outside)."""
    if start >= len(buf) or start + len(y) <= 0:
        return
    a, b = max(start, 0), min(start + len(y), len(buf))
    buf[a:b] += y[a - start:b - start]


def _render(recipe: StyleRecipe, seconds: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    n_out = int(round(seconds * sr))
    bpm = rng.uniform(*recipe.bpm)
    bar_s = 4 * 60.0 / bpm
    step_s = bar_s / 16
    swing = recipe.swing * rng.uniform(0.8, 1.0)
    key = _Key(recipe.scale, _PITCH_CLASS[recipe.keys[int(rng.integers(len(recipe.keys)))]])
    pre = rng.uniform(0, bar_s)  # the clip starts somewhere inside a bar
    n_pre = int(pre * sr)
    n_buf = n_pre + n_out + int(0.5 * sr)
    n_bars = int(np.ceil((n_pre + n_out) / sr / bar_s)) + 1

    # pitched parts
    parts = _compose(recipe, n_bars, key, bar_s, swing, rng)
    inst = _INSTRUMENTS[recipe.timbre]
    variant = _instrument_variant(recipe.timbre, rng)
    rel = _RELEASE_S[recipe.timbre]
    music = np.zeros(n_buf)
    max_len = {"pluck": 3.0, "bell": 4.0, "epiano": 3.0}.get(recipe.timbre)
    for part, events in parts.items():
        for start, dur, midi, vel in events:
            i0 = int(round(start * sr))
            if i0 >= n_buf:
                continue
            n_gate = max(int(dur * sr), 16)
            n_total = min(n_gate + int(rel * sr), n_buf - i0 + 1)
            if max_len is not None:  # decaying instruments: stop once inaudible
                n_total = min(n_total, int(max_len * sr))
            if n_total <= 0 or i0 + n_total <= 0:
                continue
            _place(music, i0, inst(float(_midi_hz(midi)), n_gate, n_total, vel, sr, rng, variant))

    # drums
    drums = np.zeros(n_buf)
    pattern = DRUM_PATTERNS[recipe.drums]
    if pattern:
        kit = _drum_kit(pattern, sr, rng)
        jitter_s = rng.uniform(0.0, 0.008)
        for b in range(n_bars):
            if b % 8 == 7 and rng.random() < 0.3:
                continue  # a break
            thin = rng.random() < 0.2  # some bars drop the hats / shakers
            for voice, steps in pattern.items():
                if thin and voice in ("hat", "shaker"):
                    continue
                for s, c in enumerate(steps):
                    if c == "-":
                        continue
                    t = b * bar_s + _swing(s, swing, step_s) + rng.normal(0, jitter_s)
                    vel = _STEP_VELOCITY[c] * rng.uniform(0.75, 1.05)
                    _place(drums, int(round(t * sr)), kit[voice] * vel)
    mix = music * 10 ** (rng.uniform(-3, 3) / 20)
    if pattern:
        mix = mix + drums * 10 ** (rng.uniform(-6, 1) / 20)

    # finish: distortion, lo-fi filtering, noise
    fin = FINISHES[recipe.finish]
    peak = np.max(np.abs(mix)) + 1e-9
    mix = mix / peak
    drive = rng.uniform(*fin["drive"])
    if drive > 0:
        mix = np.tanh(drive * mix) / np.tanh(drive)
    if fin["lowpass"]:
        sos = scipy.signal.butter(2, rng.uniform(*fin["lowpass"]), fs=sr, output="sos")
        mix = scipy.signal.sosfilt(sos, mix)
    hiss = rng.standard_normal(n_buf) * 10 ** (rng.uniform(*fin["hiss_db"]) / 20)
    if recipe.finish == "vinyl":
        hiss = scipy.signal.lfilter([1.0], [1.0, -0.9], hiss) * 0.3  # pinkish
        n_clicks = rng.poisson(rng.uniform(3, 15) * n_buf / sr)
        pos = rng.integers(0, n_buf, n_clicks)
        hiss[pos] += rng.normal(0, 0.15, n_clicks)
    mix = mix + hiss

    # microphone / mastering colour: a random high-shelf tilt of -9..+6 dB above ~1.5 kHz,
    # so brightness alone does not give the style away
    lp = scipy.signal.lfilter([1 - 0.65], [1.0, -0.65], mix)
    mix = lp + (mix - lp) * 10 ** (rng.uniform(-9, 6) / 20)

    # room
    rt60 = rng.uniform(*recipe.reverb)
    wet = rng.uniform(0.08, 0.35) if recipe.reverb[1] < 2 else rng.uniform(0.3, 0.5)
    ir = _reverb_ir(rt60, sr, rng)
    mix = (1 - wet) * mix + wet * scipy.signal.oaconvolve(mix, ir)[:n_buf]

    y = mix[n_pre:n_pre + n_out]
    y = y - np.mean(y)
    peak = np.max(np.abs(y))
    if peak < 1e-9:  # pragma: no cover - every style always plays something
        return np.zeros(n_out, dtype=np.float32)
    # output gain: a peak between -11 and -1 dBFS, never clipping
    return (y * (10 ** (rng.uniform(-11, -1) / 20) / peak)).astype(np.float32)


def render_clip(style: str, seconds: float, *, sr: int = SAMPLE_RATE, seed: int = 0,
                index: int = 0) -> np.ndarray:
    """Compose and render one clip of a synthetic style.

    Parameters
    ----------
    style : str
        A label of :data:`STYLES`, e.g. ``"pluck_folk_major"``.
    seconds : float
        Length in seconds (> 0).
    sr : int
        Sample rate in Hz (default 22050).
    seed : int
        Dataset seed (>= 0).
    index : int
        Clip number within the style (>= 0). The clip depends only on
        ``(seed, style, index)``, never on other clips.

    Returns
    -------
    np.ndarray, float32, shape (n,)
        Mono waveform, ``n == round(seconds * sr)``, peak below full scale (at most -1 dBFS).

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    return _render_recording(style, seconds, sr=sr, seed=seed, index=index, kind="clip")


def _render_recording(style, seconds, *, sr, seed, index, kind):
    recipe = _recipe(style)
    try:
        seconds = float(seconds)
    except (TypeError, ValueError):
        raise MusiclibError(f"seconds must be a number, got {seconds!r}") from None
    if not np.isfinite(seconds) or seconds <= 0 or int(round(seconds * sr)) < 1:
        raise MusiclibError(f"seconds must be positive, got {seconds!r}")
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr < 4000:
        raise MusiclibError(f"sr must be an integer sample rate >= 4000 Hz, got {sr!r}")
    return _render(recipe, seconds, int(sr), _rng_for(seed, style, index, kind))


# ---------------------------------------------------------------------------------------
# Writing a dataset
# ---------------------------------------------------------------------------------------


def _counts(n: int, styles: list[str], imbalance: float | None) -> dict[str, int]:
    """Clips per style: all ``n``, or decaying geometrically down to ``n * imbalance``."""
    if imbalance is None or imbalance == 1.0 or len(styles) == 1:
        return {s: n for s in styles}
    k = len(styles) - 1
    return {s: max(1, int(round(n * imbalance ** (i / k)))) for i, s in enumerate(styles)}


def _write_one(path: str, style: str, seconds: float, seed: int, index: int, kind: str) -> None:
    import soundfile as sf

    y = _render_recording(style, seconds, sr=SAMPLE_RATE, seed=seed, index=index, kind=kind)
    sf.write(path, y, SAMPLE_RATE, subtype="PCM_16", format="WAV")


def is_complete(out_dir) -> bool:
    """Whether ``out_dir`` holds a finished synthetic dataset.

    A dataset is finished when its ``synth.json`` marker (written last) is readable, comes
    from this :data:`SYNTH_VERSION`, and every file it lists is present
    (:func:`musiclib.safe_write.is_finished`).

    Parameters
    ----------
    out_dir : str or Path

    Returns
    -------
    bool

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    if not safe_write.is_finished(out_dir, MARKER):
        return False
    return safe_write.read_marker(out_dir, MARKER).get("synth_version") == SYNTH_VERSION


def _positive_int(name, value, *, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (0 if allow_zero else 1):
        raise MusiclibError(f"{name} must be an integer >= {0 if allow_zero else 1}, got {value!r}")
    return int(value)


def _positive_float(name, value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise MusiclibError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise MusiclibError(f"{name} must be positive, got {value!r}")
    return value


def write_dataset(out_dir, *, profile: str | Profile | None = None, seed: int = 0,
                  clips_per_style: int | None = None, clip_seconds: float | None = None,
                  imbalance: float | None = None, long_recordings_per_style: int | None = None,
                  long_recording_seconds: float | None = None, styles=None, jobs: int = 1,
                  progress: bool = False) -> Path:
    """Render the synthetic dataset into a GTZAN-like folder.

    Layout: ``out_dir/<style>/<style>.00000.wav`` ... (16-bit PCM WAV, 22050 Hz, mono), long
    recordings as ``out_dir/<style>/<style>.long.00000.wav``, and ``out_dir/synth.json``
    (parameters, counts, recipes, :data:`SYNTH_VERSION`), written last. The folder is
    rendered into a temporary sibling and put in place of the old one at the end
    (:func:`musiclib.safe_write.replace_folder`), so an interrupted run never leaves a
    half-written dataset, and temporary folders of killed runs are removed. If another
    process finishes the same dataset first, its copy is kept. If ``out_dir`` already
    holds a complete dataset with the same parameters, nothing is rendered.

    Parameters
    ----------
    out_dir : str or Path
        Target folder (replaced if it holds a synthetic dataset with other parameters).
    profile : str or Profile
        ``tiny``, ``fast`` or ``full`` (see :mod:`musiclib.config`; default: ``$MUSICLIB_PROFILE``
        or ``fast``); gives the defaults below.
    seed : int
        Dataset seed (>= 0). Clip ``i`` of a style is identical for any count, styles or jobs.
    clips_per_style : int, optional
        Clips per style (default: the profile's).
    clip_seconds : float, optional
        Length of each clip in seconds (default: the profile's).
    imbalance : float in (0, 1], optional
        Unbalanced classes: the first style (in the order of ``styles``) keeps
        ``clips_per_style`` clips, the counts decay geometrically and the last style gets
        ``round(clips_per_style * imbalance)`` (at least 1). ``None`` or 1: balanced.
    long_recordings_per_style : int, optional
        Recordings of several minutes per style, to practise cutting (default: the profile's).
    long_recording_seconds : float, optional
        Their length in seconds (default: the profile's).
    styles : list of str, optional
        Subset of :func:`style_names` (default: all).
    jobs : int
        Worker processes (joblib); the files are identical for any value.
    progress : bool
        Show progress: a tqdm bar in a terminal, a few text lines in a notebook or a log
        (:func:`musiclib.progress.progress`).

    Returns
    -------
    Path
        ``out_dir``.

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    out_dir = Path(out_dir).expanduser().absolute()
    prof = get_profile(profile)
    seed = _positive_int("seed", seed, allow_zero=True)
    n_clips = _positive_int("clips_per_style", prof.clips_per_style if clips_per_style is None else clips_per_style)
    secs = _positive_float("clip_seconds", prof.clip_seconds if clip_seconds is None else clip_seconds)
    n_long = _positive_int("long_recordings_per_style",
                           prof.long_recordings_per_style if long_recordings_per_style is None
                           else long_recordings_per_style, allow_zero=True)
    long_secs = _positive_float("long_recording_seconds", prof.long_recording_seconds
                                if long_recording_seconds is None else long_recording_seconds)
    if imbalance is not None:
        imbalance = _positive_float("imbalance", imbalance)
        if imbalance > 1:
            raise MusiclibError(f"imbalance must be in (0, 1], got {imbalance!r}")
    jobs = _positive_int("jobs", jobs)
    if styles is None:
        names = style_names()
    else:
        names = [styles] if isinstance(styles, str) else list(styles)
        for s in names:
            _recipe(s)
        if not names or len(set(names)) != len(names):
            raise MusiclibError(f"styles must be a non-empty list without repeats, got {styles!r}")

    counts = _counts(n_clips, names, imbalance)
    params = {
        "synth_version": SYNTH_VERSION, "profile": prof.name, "seed": seed,
        "sample_rate": SAMPLE_RATE, "clip_seconds": secs, "clips_per_style": n_clips,
        "imbalance": imbalance, "styles": names,
        "long_recordings_per_style": n_long, "long_recording_seconds": long_secs,
    }
    if safe_write.is_finished(out_dir, MARKER, params=params):  # or by an earlier call of this process
        return out_dir
    if out_dir.exists() and not (out_dir / MARKER).is_file():
        if not out_dir.is_dir() or any(p.name not in STYLES and not p.name.startswith(".")
                                       for p in out_dir.iterdir()):
            raise MusiclibError(f"{out_dir}: exists and is not a synthetic dataset; "
                                "choose another folder or remove it")

    tasks = []  # (relative path, style, seconds, index, kind)
    for s in names:
        tasks += [(f"{s}/{s}.{i:05d}.wav", s, secs, i, "clip") for i in range(counts[s])]
        tasks += [(f"{s}/{s}.long.{i:05d}.wav", s, long_secs, i, "long") for i in range(n_long)]

    def render(folder: Path) -> None:
        for s in names:
            (folder / s).mkdir(parents=True)
        calls = ((str(folder / rel), s, sec, seed, i, kind) for rel, s, sec, i, kind in tasks)
        if jobs == 1:
            results = (_write_one(*c) for c in calls)
        else:
            from joblib import Parallel, delayed

            results = Parallel(n_jobs=jobs, return_as="generator")(delayed(_write_one)(*c) for c in calls)
        if progress:
            from .progress import progress as tqdm  # a bar in a terminal, text lines elsewhere

            results = tqdm(results, total=len(tasks), desc=f"synth {out_dir.name}", unit="file")
        for _ in results:
            pass
        meta = {
            "description": "synthetic music, procedurally composed and rendered by musiclib.synth",
            "synth_version": SYNTH_VERSION,
            "profile": prof.name,
            "seed": seed,
            "params": params,
            "counts": counts,
            "long_counts": {s: n_long for s in names},
            "recipes": {s: {"summary": STYLES[s].summary, **STYLES[s].dimensions(),
                            "recipe": asdict(STYLES[s])} for s in names},
            "files": [t[0] for t in tasks],
        }
        with open(folder / MARKER, "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=1)

    safe_write.build_folder(out_dir, render, marker=MARKER, params=params)
    return out_dir
