"""musiclib.audio: loading every format, rejecting every kind of bad file, normalising,
windows and clips, writing. All audio is made in tmp_path by tests/audio_factory.py."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from audio_factory import (  # noqa: E402
    BAD_FILES,
    BAD_MIN_DURATION_S,
    FORMATS,
    LOSSY,
    make_bad_files,
    make_case,
    make_sine,
    sine,
)

from musiclib import audio  # noqa: E402
from musiclib.errors import AudioFileError  # noqa: E402

SR = 22050


def _peak_hz(y: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.fft.rfftfreq(len(y), 1 / sr)[np.argmax(spectrum)])


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    return folder, make_bad_files(folder)


# --------------------------------------------------------------------------------------------
# paths


@pytest.mark.parametrize(
    "name, expected",
    [
        ("a.wav", True),
        ("A.WAV", True),
        ("x/y/blues.00001.au", True),
        ("song.Mp3", True),
        ("take.aif", True),
        ("._blues.00001.wav", False),  # macOS resource file
        (".hidden.flac", False),
        ("notes.txt", False),
        ("clip.m4a", False),
        ("wav", False),
    ],
)
def test_is_audio_path(name, expected):
    assert audio.is_audio_path(name) is expected


# --------------------------------------------------------------------------------------------
# every format loads


@pytest.mark.parametrize("case", sorted(FORMATS))
def test_every_format_loads_as_mono_float32_at_target_rate(tmp_path, case):
    path = make_case(tmp_path, case, seconds=2.0, sr=44100)
    y = audio.load(path, sr=SR)
    assert y.dtype == np.float32 and y.ndim == 1
    assert np.isfinite(y).all()
    ref = sine(2.0, SR)
    slack = 2048 if case in LOSSY else 1  # codec padding
    assert abs(len(y) - len(ref)) <= slack
    n = min(len(y), len(ref))
    corr = np.corrcoef(y[:n], ref[:n])[0, 1]
    assert corr > (0.98 if case in LOSSY else 0.999), corr
    assert audio.info(path).frames == 88200
    assert audio.check(path).frames == pytest.approx(88200, abs=slack)


def test_au_is_big_endian_16_bit_like_gtzan(tmp_path):
    path = make_case(tmp_path, "au", seconds=1.0, sr=SR)
    assert path.read_bytes()[:4] == b".snd"  # big-endian AU magic
    meta = audio.info(path)
    assert (meta.format, meta.subtype, meta.sample_rate) == ("AU", "PCM_16", SR)
    np.testing.assert_allclose(audio.load(path, sr=None), sine(1.0, SR), atol=1e-4)


def test_stereo_44k_to_mono_22k(tmp_path):
    path = make_sine(tmp_path / "st.wav", 3.0, 44100, channels=2, subtype="PCM_24")
    both = audio.load(path, sr=SR, mono=False)
    assert both.shape[0] == 2 and both.dtype == np.float32
    assert abs(both.shape[1] - 3 * SR) <= 1
    y = audio.load(path, sr=SR)
    assert y.shape == (both.shape[1],)
    np.testing.assert_allclose(y, both.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(audio.to_mono(both), y, atol=1e-6)
    assert _peak_hz(both[0], SR) == pytest.approx(440, abs=1)
    assert _peak_hz(both[1], SR) == pytest.approx(880, abs=1)


def test_load_sr_none_keeps_native_rate(tmp_path):
    path = make_sine(tmp_path / "a.flac", 1.0, 16000)
    assert audio.load(path, sr=None).shape == (16000,)


def test_to_mono_leaves_mono_alone():
    y = np.arange(5, dtype=np.float32)
    assert audio.to_mono(y) is y


@pytest.mark.parametrize("orig, target", [(48000, 22050), (8000, 22050), (44100, 22050)])
def test_resample_keeps_the_frequency(orig, target):
    y = sine(1.0, orig, freq=1000.0)
    out = audio.resample(y, orig_sr=orig, target_sr=target)
    assert out.dtype == np.float32
    assert abs(len(out) - target) <= 1
    assert _peak_hz(out, target) == pytest.approx(1000, abs=2)
    two = audio.resample(np.stack([y, y]), orig_sr=orig, target_sr=target)
    assert two.shape == (2, len(out))
    np.testing.assert_allclose(two[1], out, atol=1e-6)


def _chirp_file(folder: Path, case: str, seconds: float = 6.0, sr: int = SR) -> Path:
    """A chirp (so a wrong position shows) in the FORMATS ``case``."""
    t = np.arange(round(seconds * sr)) / sr
    chirp = (0.5 * np.sin(2 * np.pi * (200 + 150 * t) * t)).astype(np.float32)
    ext, fmt, subtype = FORMATS[case]
    path = folder / f"chirp{ext}"
    sf.write(path, chirp, sr, format=fmt, subtype=subtype)
    return path


@pytest.mark.parametrize("case", ["wav_16", "flac", "ogg", "mp3", "au"])
def test_load_seeks_to_offset(tmp_path, case):
    path = _chirp_file(tmp_path, case, seconds=12.0)
    full = audio.load(path, sr=None)
    for offset in (0.3, 2.5, 4.2, 7.77, 10.1):  # libsndfile's Ogg seeks go wrong after ~4 s
        part = audio.load(path, sr=None, offset_s=offset, duration_s=1.5)
        start = round(offset * SR)
        assert part.shape == (round(1.5 * SR),)
        # MP3: a seek loses the decoder's bit reservoir; load must decode a preroll first
        np.testing.assert_allclose(part, full[start : start + len(part)], atol=1e-6)
    assert audio.load(path, sr=None, offset_s=99.0).shape == (0,)


def test_mp3_decoded_in_blocks_equals_one_read(tmp_path):
    # soundfile seeks after every read; libsndfile 1.2.2 then garbles the next MP3 frames
    path = _chirp_file(tmp_path, "mp3", seconds=12.0)
    whole, _ = sf.read(path, dtype="float32")
    clips = np.concatenate([c for _, c in audio.iter_clips(path, clip_seconds=1.0, sr=None)])
    np.testing.assert_allclose(clips[: len(whole)], whole, atol=1e-6)
    assert audio.check(path).frames == len(whole)


# --------------------------------------------------------------------------------------------
# bad files


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_raise_audiofileerror_with_name_and_reason(bad_dir, name):
    folder, reasons = bad_dir
    path = folder / name
    for call in (
        lambda: audio.check(path, min_duration_s=BAD_MIN_DURATION_S),
        lambda: audio.load(path, min_duration_s=BAD_MIN_DURATION_S),
    ):
        with pytest.raises(AudioFileError) as caught:
            call()
        message = str(caught.value)
        assert name in message and reasons[name] in message, message
        assert "\n" not in message
        assert caught.value.path == path


@pytest.mark.parametrize(
    "name", ["truncated.wav", "truncated.au", "truncated.ogg", "zero_bytes.wav", "text.wav"]
)
def test_info_already_rejects_what_the_header_shows(bad_dir, name):
    folder, reasons = bad_dir
    with pytest.raises(AudioFileError, match=reasons[name]):
        audio.info(folder / name)


def test_truncated_wav_says_how_much_is_missing(bad_dir):
    folder, _ = bad_dir
    with pytest.raises(AudioFileError, match=r"promises 2\.00 s, file holds 1\.20 s"):
        audio.load(folder / "truncated.wav")


def test_truncated_flac_cut_at_a_frame_boundary(tmp_path):
    # a cut that leaves whole FLAC frames decodes cleanly: only the frame count shows it
    path = make_sine(tmp_path / "long.flac", 4.0, SR)
    data = path.read_bytes()
    middle = len(data) // 2
    frame_start = data.index(b"\xff\xf8", middle)  # FLAC frame sync code, fixed block size
    path.write_bytes(data[:frame_start])
    with pytest.raises(AudioFileError, match="truncated"):
        audio.check(path)


def test_missing_file_directory_and_unreadable(tmp_path):
    with pytest.raises(AudioFileError, match="missing.wav: file not found"):
        audio.load(tmp_path / "missing.wav")
    (tmp_path / "dir.wav").mkdir()
    with pytest.raises(AudioFileError, match="not a file"):
        audio.info(tmp_path / "dir.wav")
    locked = make_sine(tmp_path / "locked.wav", 0.5, SR)
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):  # running as root
            pytest.skip("cannot make a file unreadable as root")
        with pytest.raises(AudioFileError, match="unreadable: Permission denied"):
            audio.info(locked)
    finally:
        locked.chmod(0o644)


def test_min_duration(tmp_path):
    path = make_sine(tmp_path / "a.wav", 1.5, SR)
    assert len(audio.load(path, min_duration_s=1.5)) == round(1.5 * SR)
    with pytest.raises(AudioFileError, match=r"too short: 1\.50 s"):
        audio.load(path, min_duration_s=2.0)


def test_no_raw_soundfile_error_escapes(tmp_path):
    # garbage after a valid RIFF header: libsndfile's own errors must come out wrapped
    path = tmp_path / "garbage.wav"
    noise = np.random.default_rng(0).integers(0, 256, 200, dtype=np.uint8).tobytes()
    path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + noise)
    with pytest.raises(AudioFileError):
        audio.check(path)


# --------------------------------------------------------------------------------------------
# normalisation


@pytest.mark.parametrize("shape", [(1000,), (2, 1000), (0,)])
def test_silence_stays_silence(shape):
    zeros = np.zeros(shape, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for out in (audio.normalize_peak(zeros), audio.normalize_loudness(zeros)):
            assert out.shape == zeros.shape and out.dtype == np.float32
            assert not np.any(out) and np.isfinite(out).all()


def test_normalize_peak():
    y = sine(1.0, SR, amplitude=0.1)
    out = audio.normalize_peak(y, peak=0.9)
    assert np.abs(out).max() == pytest.approx(0.9, rel=1e-6)
    assert np.abs(y).max() == pytest.approx(0.1, rel=1e-3)  # input untouched
    dither = np.full(100, 1e-6, dtype=np.float32)  # -120 dBFS: not amplified to noise
    np.testing.assert_array_equal(audio.normalize_peak(dither), dither)
    denormal = np.full(10, 1e-44, dtype=np.float32)
    assert np.isfinite(audio.normalize_peak(denormal, silence_dbfs=-np.inf)).all()


@pytest.mark.parametrize("target", [-30.0, -20.0, -12.0])
def test_normalize_loudness_reaches_target(target):
    y = sine(1.0, SR, amplitude=0.05)
    out = audio.normalize_loudness(y, target_dbfs=target)
    level = 20 * np.log10(np.sqrt(np.mean(out.astype(np.float64) ** 2)))
    assert level == pytest.approx(target, abs=0.5)
    assert np.abs(out).max() <= 1.0


def test_normalize_loudness_respects_max_peak():
    clicks = np.zeros(SR, dtype=np.float32)
    clicks[::2000] = 0.5  # huge crest factor: -20 dBFS RMS would need peaks far above 1
    out = audio.normalize_loudness(clicks, target_dbfs=-20.0, max_peak=0.8)
    assert np.abs(out).max() == pytest.approx(0.8, rel=1e-6)
    quiet = np.full(100, 1e-5, dtype=np.float32)  # -100 dBFS: below silence_dbfs
    out = audio.normalize_loudness(quiet)
    np.testing.assert_array_equal(out, quiet)
    assert out is not quiet


# --------------------------------------------------------------------------------------------
# windows


@pytest.mark.parametrize(
    "n, length, hop, pad, expected",
    [
        (100, 10, None, True, 10),
        (105, 10, None, True, 11),
        (105, 10, None, False, 10),
        (5, 10, None, True, 1),
        (5, 10, None, False, 0),
        (0, 10, None, True, 0),
        (100, 10, 5, True, 19),
        (102, 10, 5, True, 20),
        (102, 10, 5, False, 19),
    ],
)
def test_frame_windows_shapes(n, length, hop, pad, expected):
    out = audio.frame_windows(np.ones(n), length=length, hop=hop, pad=pad)
    assert out.shape == (expected, length) and out.dtype == np.float32


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(0, 400),
    length=st.integers(1, 64),
    hop=st.integers(1, 80),
    pad=st.booleans(),
)
def test_frame_windows_property(n, length, hop, pad):
    y = np.arange(1, n + 1, dtype=np.float32)  # no zeros: padding is recognisable
    out = audio.frame_windows(y, length=length, hop=hop, pad=pad)
    full = (n - length) // hop + 1 if n >= length else 0
    assert out.shape[1] == length
    assert out.shape[0] in (full, full + 1)
    if not pad:
        assert out.shape[0] == full
    for k, window in enumerate(out):
        part = y[k * hop : k * hop + length]
        np.testing.assert_array_equal(window[: len(part)], part)
        assert not window[len(part) :].any()
    # with padding, every sample lies in some window unless it falls in a gap (hop > length)
    if pad and n and hop <= length:
        assert (out.shape[0] - 1) * hop + length >= n


# --------------------------------------------------------------------------------------------
# long recordings


def test_clip_offsets():
    assert audio.clip_offsets(30.0, clip_seconds=10.0) == [0.0, 10.0, 20.0]
    assert audio.clip_offsets(25.0, clip_seconds=10.0) == [0.0, 10.0, 20.0]
    assert audio.clip_offsets(25.0, clip_seconds=10.0, min_last_seconds=6.0) == [0.0, 10.0]
    assert audio.clip_offsets(25.0, clip_seconds=10.0, hop_seconds=5.0) == [0, 5, 10, 15]
    assert audio.clip_offsets(27.0, clip_seconds=10.0, hop_seconds=5.0) == [0, 5, 10, 15, 20]
    assert audio.clip_offsets(4.0, clip_seconds=10.0) == [0.0]
    assert audio.clip_offsets(4.0, clip_seconds=10.0, min_last_seconds=5.0) == []
    assert audio.clip_offsets(0.0, clip_seconds=10.0) == []
    # 3 x 0.1 s is not exactly 0.3 s in floats: no ghost clip of 1e-17 s
    assert len(audio.clip_offsets(0.3, clip_seconds=0.1)) == 3


def test_iter_clips_long_file_matches_load(tmp_path):
    native = 44100
    seconds = 200.0  # several minutes, stereo, resampled on the way
    rng = np.random.default_rng(0)
    y = (0.3 * rng.standard_normal((round(seconds * native), 2))).astype(np.float32)
    path = tmp_path / "long.wav"
    sf.write(path, y, native, subtype="PCM_16")
    clip_s, hop_s = 30.0, 20.0
    kw = dict(clip_seconds=clip_s, hop_seconds=hop_s, min_last_seconds=5.0)
    got = list(audio.iter_clips(path, **kw))
    offsets = [o for o, _ in got]
    assert offsets == audio.clip_offsets(seconds, **kw)
    assert offsets == [0, 20, 40, 60, 80, 100, 120, 140, 160, 180]
    assert all(c.shape == (round(clip_s * SR),) and c.dtype == np.float32 for _, c in got)
    for offset, clip in (got[0], got[4], got[-1]):
        ref = audio.load(path, sr=SR, offset_s=offset, duration_s=clip_s)
        np.testing.assert_array_equal(clip[: len(ref)], ref)
        assert not clip[len(ref) :].any()  # the last clip (20 s of audio) is zero-padded
    assert not got[-1][1][round(20.5 * SR) :].any()
    stereo = next(audio.iter_clips(path, clip_seconds=clip_s, mono=False))[1]
    assert stereo.shape == (2, round(clip_s * SR))


@pytest.mark.parametrize("case", ["mp3", "ogg", "flac"])
def test_iter_clips_overlap_and_gaps_match_load(tmp_path, case):
    path = _chirp_file(tmp_path, case, seconds=10.0)
    for hop in (0.75, 2.5):  # overlapping clips, then gaps between clips
        got = list(audio.iter_clips(path, clip_seconds=1.5, sr=16000, hop_seconds=hop))
        assert [o for o, _ in got] == audio.clip_offsets(10.0, clip_seconds=1.5, hop_seconds=hop)
        for offset, clip in got:
            ref = audio.load(path, sr=16000, offset_s=offset, duration_s=1.5)
            assert clip.shape == (24000,)
            np.testing.assert_allclose(clip[: len(ref)], ref, atol=1e-5)


def test_iter_clips_reports_a_cut_in_the_middle(tmp_path):
    path = make_sine(tmp_path / "cut.mp3", 20.0, SR)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    clips = audio.iter_clips(path, clip_seconds=5.0)
    next(clips)  # the first 5 s are there
    with pytest.raises(AudioFileError, match="truncated"):
        list(clips)


def test_cut_file(tmp_path):
    src = make_sine(tmp_path / "in" / "opus 1.flac", 25.0, 44100, amplitude=0.2)
    out = tmp_path / "clips"
    paths = audio.cut_file(src, out, clip_seconds=10.0)
    assert [p.name for p in paths] == [f"opus 1.{k:04d}.wav" for k in range(3)]
    assert sorted(out.iterdir()) == paths
    for p in paths:
        meta = audio.info(p)
        assert (meta.sample_rate, meta.channels, meta.frames) == (SR, 1, 10 * SR)
        assert meta.subtype == "PCM_16"
        assert np.abs(audio.load(p, sr=None)).max() == pytest.approx(1.0, abs=1e-3)
    assert len(audio.cut_file(src, tmp_path / "c2", clip_seconds=10.0, min_last_seconds=6.0)) == 2
    loud = audio.cut_file(src, tmp_path / "c3", clip_seconds=10.0, normalize="loudness")
    y = audio.load(loud[0], sr=None)
    assert 20 * np.log10(np.sqrt(np.mean(y.astype(np.float64) ** 2))) == pytest.approx(-20, abs=0.5)
    with pytest.raises(ValueError):
        audio.cut_file(src, out, clip_seconds=10.0, normalize="rms")


# --------------------------------------------------------------------------------------------
# writing


def test_write_wav_round_trip_and_atomic(tmp_path):
    y = sine(1.0, SR, channels=2)
    path = audio.write_wav(tmp_path / "new" / "deeper" / "x.wav", y, sr=SR, subtype="PCM_24")
    assert path.exists()
    np.testing.assert_allclose(audio.load(path, sr=None, mono=False), y, atol=1e-6)
    assert os.listdir(path.parent) == ["x.wav"]  # no temporary file left behind
    audio.write_wav(path, y[0], sr=SR)  # replaces
    assert audio.info(path).channels == 1
    assert os.listdir(path.parent) == ["x.wav"]


def test_write_wav_refuses_non_finite_and_keeps_the_old_file(tmp_path):
    path = audio.write_wav(tmp_path / "x.wav", sine(0.5, SR), sr=SR)
    before = path.read_bytes()
    bad = sine(0.5, SR)
    bad[10] = np.nan
    with pytest.raises(AudioFileError, match="x.wav: non-finite samples"):
        audio.write_wav(path, bad, sr=SR)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["x.wav"]


def test_write_wav_clips_integer_subtypes_only(tmp_path):
    y = np.array([0.0, 1.5, -2.0, 0.5], dtype=np.float32)
    clipped = audio.load(audio.write_wav(tmp_path / "i.wav", y, sr=SR), sr=None)
    np.testing.assert_allclose(clipped, [0, 1, -1, 0.5], atol=1e-4)
    kept = audio.load(audio.write_wav(tmp_path / "f.wav", y, sr=SR, subtype="FLOAT"), sr=None)
    np.testing.assert_array_equal(kept, y)


def test_write_wav_cannot_write(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AudioFileError, match="cannot write"):
        audio.write_wav(blocker / "x.wav", np.zeros(10), sr=SR)


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg", ".mp3", ".au", ".aiff"])
def test_write_audio_picks_the_format_from_the_extension(tmp_path, ext):
    y = sine(1.0, SR)
    path = audio.write_audio(tmp_path / f"x{ext}", y, sr=SR)
    back = audio.load(path, sr=SR)
    assert audio.info(path).format == {".aiff": "AIFF"}.get(ext, ext[1:].upper())
    assert abs(back.size - y.size) <= 3000 and np.isfinite(back).all()
    assert not list(tmp_path.glob(".*.tmp"))
    with pytest.raises(ValueError, match="cannot write .m4a"):
        audio.write_audio(tmp_path / "x.m4a", y, sr=SR)


def test_a_macos_resource_fork_beside_a_file_does_not_shadow_it(tmp_path):
    """libsndfile opens "._name" beside "name" as a resource fork when given a path."""
    for ext in (".mp3", ".wav", ".flac"):
        path = audio.write_audio(tmp_path / f"song{ext}", sine(1.0, SR), sr=SR)
        (tmp_path / f"._song{ext}").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(200))
        assert audio.info(path).frames > 0
        assert audio.check(path).frames > 0 and audio.load(path, sr=SR).size > 0
