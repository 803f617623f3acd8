"""The instruments that render real scores (musiclib.instruments)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.signal

from musiclib import instruments as ins
from musiclib.errors import MusiclibError

SR = 22050
SUSTAINED = ("strings", "organ", "voice", "piano")
WINDS = ("flute", "reed", "brass", "accordion")  # sustained, with kinds


def _melody(seconds=1.5, vel=0.7):
    """A short legato line of 6 notes around middle C."""
    d = seconds / 6
    return ins.make_notes(np.arange(6) * d, np.full(6, d), [60, 62, 64, 65, 67, 72], vel)


def _render(name, notes, seconds, seed=0, variant_seed=0, sr=SR):
    v = ins.draw_variant(name, np.random.default_rng(variant_seed))
    return ins.render_part(notes, name, v, sr=sr, n_samples=int(round(seconds * sr)),
                           rng=np.random.default_rng(seed))


def _variant_of_kind(name, kind):
    """The first drawn variant (seed 0, 1, ...) of an instrument's kind."""
    for seed in range(200):
        v = ins.draw_variant(name, np.random.default_rng(seed))
        if v["kind"] == kind:
            return v
    raise AssertionError((name, kind))


def _render_v(name, v, notes, seconds, seed=0):
    return ins.render_part(notes, name, v, sr=SR, n_samples=int(round(seconds * SR)),
                           rng=np.random.default_rng(seed))


def _f0(y, sr, f_expected):
    """Pitch by autocorrelation, searched within a fifth of the expected pitch; parabolic peak."""
    y = (y - y.mean()) * np.hanning(len(y))
    r = np.fft.irfft(np.abs(np.fft.rfft(y, 2 * len(y))) ** 2)
    lo, hi = int(sr / (f_expected * 1.5)), int(sr / (f_expected / 1.5))
    k = lo + int(np.argmax(r[lo:hi]))
    a, b, c = r[k - 1:k + 2]
    return sr / (k + 0.5 * (a - c) / (a - 2 * b + c))


def _rms(y):
    return float(np.sqrt(np.mean(np.asarray(y, dtype=float) ** 2)))


def test_note_dtype_and_make_notes():
    assert ins.NOTE_DTYPE.names == ("part", "start_s", "duration_s", "midi", "velocity")
    assert [ins.NOTE_DTYPE[f].str for f in ins.NOTE_DTYPE.names] == ["<i2", "<f8", "<f8", "<f4", "<f4"]
    notes = ins.make_notes([1.0, 0.5], [0.5, 0.25], [60, 64], [0.5, 0.8], part=2)
    assert notes.dtype == ins.NOTE_DTYPE and list(notes["start_s"]) == [0.5, 1.0]
    assert list(notes["midi"]) == [64, 60] and set(notes["part"]) == {2}


def test_instrument_names_and_ranges():
    assert {"strings", "organ", "piano", "voice"} <= set(ins.INSTRUMENTS)
    assert {"harpsichord", "guitar"} & set(ins.INSTRUMENTS)
    assert set(ins.INSTRUMENT_RANGES) == set(ins.INSTRUMENTS)


@pytest.mark.parametrize("name", ins.INSTRUMENTS)
def test_renders_finite_nonsilent_audio_of_the_right_length(name):
    y = _render(name, _melody(), 2.0)
    assert y.dtype == np.float32 and y.shape == (2 * SR,)
    assert np.all(np.isfinite(y)) and _rms(y) > 0.01 and np.max(np.abs(y)) < 2.0
    # other sample rate, odd length
    y = _render(name, _melody(), 0.77, sr=16000)
    assert y.shape == (round(0.77 * 16000),) and _rms(y) > 0.01


@pytest.mark.parametrize("name", ins.INSTRUMENTS)
def test_deterministic_variants_json_able_and_different(name):
    notes = _melody()
    a, b = _render(name, notes, 1.6, seed=3), _render(name, notes, 1.6, seed=3)
    assert np.array_equal(a, b)
    v0 = ins.draw_variant(name, np.random.default_rng(0))
    v1 = ins.draw_variant(name, np.random.default_rng(1))
    assert v0 == ins.draw_variant(name, np.random.default_rng(0)) and v0 != v1
    assert json.loads(json.dumps(v0)) == v0 and v0["instrument"] == name
    c = _render(name, notes, 1.6, seed=3, variant_seed=1)
    assert not np.allclose(a, c, atol=1e-3)


@pytest.mark.parametrize("name", SUSTAINED)
@pytest.mark.parametrize("midi", [57, 69])
def test_pitch_is_right(name, midi):
    f_expected = 440.0 * 2 ** ((midi - 69) / 12)
    for variant_seed in (0, 1):
        y = _render(name, ins.make_notes([0.0], [1.6], [midi], 0.8), 1.6, variant_seed=variant_seed)
        f = _f0(y[int(0.5 * SR):int(1.5 * SR)], SR, f_expected)
        assert abs(f / f_expected - 1) < 0.01, (name, midi, variant_seed, f)


def test_pluck_pitch_is_right():
    for name in {"harpsichord", "guitar"} & set(ins.INSTRUMENTS):
        y = _render(name, ins.make_notes([0.0], [1.0], [57], 0.8), 1.0)
        assert abs(_f0(y[int(0.05 * SR):int(0.55 * SR)], SR, 220.0) / 220.0 - 1) < 0.01
    for kind in ins.KINDS["plucked"]:
        v = _variant_of_kind("plucked", kind)
        for midi in (57, 69):
            f_expected = 440.0 * 2 ** ((midi - 69) / 12)
            y = _render_v("plucked", v, ins.make_notes([0.0], [1.0], [midi], 0.8), 0.6)
            f = _f0(y[int(0.05 * SR):int(0.55 * SR)], SR, f_expected)
            assert abs(f / f_expected - 1) < 0.01, (kind, midi, f)


@pytest.mark.parametrize("name", WINDS)
def test_wind_pitch_is_right_for_every_kind(name):
    midis = (69, 81) if name == "flute" else (57, 69)  # A4 (and A5 / A3 where they play)
    for kind in ins.KINDS[name]:
        v = _variant_of_kind(name, kind)
        for midi in midis:
            f_expected = 440.0 * 2 ** ((midi - 69) / 12)
            y = _render_v(name, v, ins.make_notes([0.0], [1.3], [midi], 0.8), 1.3)
            f = _f0(y[int(0.5 * SR):int(1.2 * SR)], SR, f_expected)
            assert abs(f / f_expected - 1) < 0.01, (name, kind, midi, f)


@pytest.mark.parametrize("name", WINDS + ("plucked",))
def test_kinds_are_variants_that_sound_different(name):
    rng = np.random.default_rng(0)
    drawn = [ins.draw_variant(name, rng) for _ in range(60)]
    assert {v["kind"] for v in drawn} == set(ins.KINDS[name])
    assert all(v["instrument"] == name and json.loads(json.dumps(v)) == v for v in drawn)
    notes = _melody(1.0)
    ys = [_render_v(name, _variant_of_kind(name, k), notes, 1.0) for k in ins.KINDS[name][:2]]
    assert not np.allclose(ys[0], ys[1], atol=1e-3)


def test_sections_and_choirs_are_variants():
    rng = np.random.default_rng(0)
    strings = [ins.draw_variant("strings", rng) for _ in range(40)]
    voices = [ins.draw_variant("voice", rng) for _ in range(40)]
    assert {v["voices"] for v in strings} == {1, 2, 3, 4}
    assert {v["voices"] for v in voices} == {2, 3, 4}
    assert any(v["vowel_mix"] > 0.2 for v in voices)
    # a section / choir renders at about the level of a desk / duet, at the same pitch
    for name, vs in (("strings", strings), ("voice", voices)):
        by = {v["voices"]: v for v in vs}
        notes = ins.make_notes([0.0], [1.3], [69], 0.8)
        y2, y4 = (_render_v(name, by[k], notes, 1.3) for k in (2, 4))
        assert 0.5 < _rms(y4) / _rms(y2) < 2.0
        assert abs(_f0(y4[int(0.5 * SR):int(1.2 * SR)], SR, 440.0) / 440.0 - 1) < 0.01


def _steady_centroid(y):
    y = y[int(0.1 * SR):int(0.9 * SR)]
    mag = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return np.sum(np.fft.rfftfreq(len(y), 1 / SR) * mag) / np.sum(mag)


def test_brass_is_brighter_when_louder_and_blooms():
    for kind in ins.KINDS["brass"]:
        v = _variant_of_kind("brass", kind)
        midi = 45 if kind == "tuba" else 57
        soft, loud = (_render_v("brass", v, ins.make_notes([0.0], [1.0], [midi], vel), 1.0)
                      for vel in (0.25, 0.9))
        assert _steady_centroid(loud) > 1.2 * _steady_centroid(soft), kind
    # the attack is darker than the sustained tone (the spectrum blooms)
    v = dict(_variant_of_kind("brass", "trumpet"), bloom=0.08, breath=0.0, mute=0.0)
    y = _render_v("brass", v, ins.make_notes([0.0], [1.0], [57], 0.9), 1.0)
    hi = lambda seg: _rms(scipy.signal.sosfilt(  # noqa: E731
        scipy.signal.butter(4, 1500, "highpass", fs=SR, output="sos"), seg)) / _rms(seg)
    assert hi(y[200:int(0.04 * SR)]) < 0.7 * hi(y[int(0.5 * SR):int(0.9 * SR)])


def test_clarinet_is_odd_and_oboe_is_not():
    def even_odd(kind):
        v = dict(_variant_of_kind("reed", kind), vibrato_depth=0.0, breath=0.0)
        y = _render_v("reed", v, ins.make_notes([0.0], [1.0], [50], 0.8), 1.0)[int(0.2 * SR):]
        mag = np.abs(np.fft.rfft(y * np.hanning(len(y))))
        f = np.fft.rfftfreq(len(y), 1 / SR)
        amp = [mag[np.abs(f - h * 146.83) < 5].max() for h in range(1, 7)]
        return (amp[1] + amp[3] + amp[5]) / (amp[0] + amp[2] + amp[4])

    assert even_odd("clarinet") < 0.35 < even_odd("oboe")


def test_notes_outside_the_buffer_are_cut():
    n = SR  # one second
    inside = ins.make_notes([0.2], [0.3], [64], 0.7)
    late = ins.make_notes([0.2, 1.0, 3.0], [0.3, 0.5, 0.5], [64, 67, 71], 0.7)
    v = ins.draw_variant("strings", np.random.default_rng(0))
    render = lambda notes: ins.render_part(notes, "strings", v, sr=SR, n_samples=n,  # noqa: E731
                                           rng=np.random.default_rng(5))
    a, b = render(inside), render(late)
    assert a.shape == b.shape == (n,) and np.array_equal(a, b)  # notes at / after the end: nothing
    # a note running past the end is cut (it still sounds at the end), one before 0 sounds from 0
    y = render(ins.make_notes([0.8], [2.0], [64], 0.7))
    assert _rms(y[:int(0.75 * SR)]) == 0.0 and _rms(y[-2000:]) > 0.01
    y = render(ins.make_notes([-0.5], [1.0], [64], 0.7))
    assert _rms(y[:2000]) > 0.01 and _rms(y[int(0.7 * SR):]) == 0.0
    # a note's release tail is short: silence soon after the note ends
    y = render(ins.make_notes([0.1], [0.3], [64], 0.7))
    assert _rms(y[int(0.45 * SR):int(0.5 * SR)]) > 0 and _rms(y[int(0.7 * SR):]) == 0.0


@pytest.mark.parametrize("name", ins.INSTRUMENTS)
def test_no_notes_give_silence(name):
    empty = np.zeros(0, dtype=ins.NOTE_DTYPE)
    y = _render(name, empty, 0.5)
    assert y.dtype == np.float32 and y.shape == (SR // 2,) and not y.any()
    assert _render(name, _melody(), 0.0).shape == (0,)


def test_piano_decays_and_organ_does_not():
    notes = ins.make_notes([0.0], [3.0], [60], 0.8)
    for name, lo, hi in (("piano", 0.0, 0.5), ("organ", 0.9, 1.1)):
        y = _render(name, notes, 3.0)
        ratio = _rms(y[int(2.2 * SR):int(2.9 * SR)]) / _rms(y[int(0.1 * SR):int(0.8 * SR)])
        assert lo <= ratio <= hi, (name, ratio)


@pytest.mark.parametrize("name", ins.INSTRUMENTS)
def test_velocity_changes_level(name):
    soft, loud = (_render(name, _melody(vel=v), 1.6) for v in (0.25, 0.9))
    assert _rms(loud) > 2.0 * _rms(soft)


def test_piano_is_brighter_when_louder():
    def centroid(y):
        mag = np.abs(np.fft.rfft(y))
        return np.sum(np.fft.rfftfreq(len(y), 1 / SR) * mag) / np.sum(mag)

    soft, loud = (_render("piano", ins.make_notes([0.0], [1.0], [60], v), 1.0) for v in (0.2, 1.0))
    assert centroid(loud) > 1.2 * centroid(soft)


def test_spectral_centroids_differ_between_instruments():
    notes = _melody(3.0)

    def centroid(y):  # frame-wise, magnitude, mean over sounding frames (like the course's)
        f, _, z = scipy.signal.stft(y, SR, nperseg=2048, noverlap=1024)
        mag = np.abs(z)
        c = (f[:, None] * mag).sum(0) / (mag.sum(0) + 1e-12)
        e = mag.sum(0)
        return float(np.mean(c[e > 0.05 * e.max()]))

    first = ("strings", "organ", "piano", "voice", "harpsichord", "guitar")
    med = {name: np.median([centroid(_render(name, notes, 3.0, variant_seed=s)) for s in range(3)])
           for name in first if name in ins.INSTRUMENTS}
    assert max(med.values()) > 2.0 * min(med.values()), med
    assert med["piano"] < med["strings"] and med["organ"] < med["strings"], med
    if "harpsichord" in med:
        assert med["harpsichord"] == max(med.values()), med


def test_organ_tremulant_and_voice_vowels_are_variants():
    rng = np.random.default_rng(0)
    organs = [ins.draw_variant("organ", rng) for _ in range(40)]
    assert {o["registration"] for o in organs} == set(ins.REGISTRATIONS)
    assert any(o["tremulant_depth"] > 0 for o in organs) and any(o["tremulant_depth"] == 0 for o in organs)
    assert {ins.draw_variant("voice", rng)["vowel"] for _ in range(40)} == set(ins.VOWELS)


def test_mix_parts_levels_and_peak():
    a = np.array([0.5, -0.25, 0.0], dtype=np.float32)
    b = np.array([0.0, 0.25, 0.1], dtype=np.float32)
    y = ins.mix_parts([a, b], [2.0, 1.0], peak=0.5)
    assert y.dtype == np.float32 and np.allclose(y, np.array([1.0, -0.25, 0.1]) * 0.5)
    assert np.allclose(ins.mix_parts([a, b]), (a + b) / 0.5 * 0.9)
    assert not ins.mix_parts([np.zeros(4), np.zeros(4)]).any()
    with pytest.raises(MusiclibError, match="levels"):
        ins.mix_parts([a, b], [1.0])
    with pytest.raises(MusiclibError, match="length"):
        ins.mix_parts([a, np.zeros(5)])


def test_add_room():
    y = _render("organ", _melody(), 1.5)
    dry = ins.add_room(y, rt60=1.0, wet=0.0, sr=SR, rng=np.random.default_rng(0))
    assert dry.dtype == np.float32 and np.allclose(dry, y, atol=1e-6)
    w1 = ins.add_room(y, rt60=1.0, wet=0.4, sr=SR, rng=np.random.default_rng(0))
    w2 = ins.add_room(y, rt60=1.0, wet=0.4, sr=SR, rng=np.random.default_rng(0))
    assert w1.shape == y.shape and np.array_equal(w1, w2) and not np.allclose(w1, y, atol=1e-3)
    with pytest.raises(MusiclibError, match="wet"):
        ins.add_room(y, rt60=1.0, wet=1.5, sr=SR, rng=np.random.default_rng(0))


def test_bad_arguments_raise_one_line_errors():
    notes, rng = _melody(), np.random.default_rng(0)
    v = ins.draw_variant("strings", rng)
    with pytest.raises(MusiclibError, match="unknown instrument 'kazoo'"):
        ins.draw_variant("kazoo", rng)
    with pytest.raises(MusiclibError, match="not a organ variant"):
        ins.render_part(notes, "organ", v, sr=SR, n_samples=100, rng=rng)
    with pytest.raises(MusiclibError, match="structured array"):
        ins.render_part(np.zeros((3, 4)), "strings", v, sr=SR, n_samples=100, rng=rng)
    bad = notes.copy()
    bad["midi"][0] = np.nan
    with pytest.raises(MusiclibError, match="non-finite midi"):
        ins.render_part(bad, "strings", v, sr=SR, n_samples=100, rng=rng)
    with pytest.raises(MusiclibError, match="n_samples"):
        ins.render_part(notes, "strings", v, sr=SR, n_samples=-1, rng=rng)
    with pytest.raises(MusiclibError, match="sr must"):
        ins.render_part(notes, "strings", v, sr=100, n_samples=100, rng=rng)
