"""Small audio files for tests, made on the spot (nothing is downloaded).

Reusable from any test module::

    from audio_factory import make_sine, make_bad_files, FORMATS

``make_sine`` writes a sine in any format soundfile writes; ``make_bad_files`` fills a folder
with one file per way a file can be unusable, and says which reason each must be rejected with.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

# case -> (extension, soundfile format, soundfile subtype); every format the course reads
FORMATS: dict[str, tuple[str, str, str]] = {
    "wav_u8": (".wav", "WAV", "PCM_U8"),
    "wav_16": (".wav", "WAV", "PCM_16"),
    "wav_24": (".wav", "WAV", "PCM_24"),
    "wav_32": (".wav", "WAV", "PCM_32"),
    "wav_float": (".wav", "WAV", "FLOAT"),
    "flac": (".flac", "FLAC", "PCM_16"),
    "ogg": (".ogg", "OGG", "VORBIS"),
    "mp3": (".mp3", "MP3", "MPEG_LAYER_III"),
    "au": (".au", "AU", "PCM_16"),  # GTZAN's format: 16-bit big-endian
    "aiff": (".aiff", "AIFF", "PCM_16"),
}
LOSSY = frozenset({"ogg", "mp3"})

# make_bad_files' "short.wav" is 0.25 s: check(path, min_duration_s=BAD_MIN_DURATION_S) rejects it
BAD_MIN_DURATION_S = 1.0


def sine(
    seconds: float,
    sr: int,
    *,
    freq: float = 440.0,
    amplitude: float = 0.5,
    channels: int = 1,
) -> np.ndarray:
    """A sine: ``(n,)``, or ``(channels, n)`` with channel c at ``freq * (c + 1)``."""
    t = np.arange(round(seconds * sr)) / sr
    y = np.stack([amplitude * np.sin(2 * np.pi * freq * (c + 1) * t) for c in range(channels)])
    return (y[0] if channels == 1 else y).astype(np.float32)


def make_sine(
    path: str | Path,
    seconds: float,
    sr: int,
    channels: int = 1,
    *,
    subtype: str | None = None,
    format: str | None = None,
    freq: float = 440.0,
    amplitude: float = 0.5,
) -> Path:
    """Write :func:`sine` to ``path``; format and subtype default from the extension.

    AU files are written big-endian, as GTZAN's are.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    y = sine(seconds, sr, freq=freq, amplitude=amplitude, channels=channels)
    data = y if channels == 1 else y.T
    fmt = format or {".aif": "AIFF"}.get(path.suffix.lower(), path.suffix.lstrip(".").upper())
    endian = "BIG" if fmt == "AU" else None
    sf.write(path, data, sr, format=fmt, subtype=subtype, endian=endian)
    return path


def make_case(
    folder: str | Path, case: str, *, seconds: float = 2.0, sr: int = 44100, **kw
) -> Path:
    """Write the :data:`FORMATS` ``case`` as ``folder/<case><ext>``."""
    ext, fmt, subtype = FORMATS[case]
    return make_sine(Path(folder) / f"{case}{ext}", seconds, sr, subtype=subtype, format=fmt, **kw)


def _cut(path: Path, fraction: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


# file name -> what its AudioFileError message must contain (see make_bad_files)
BAD_FILES: dict[str, str] = {
    "truncated.wav": "truncated",
    "truncated.flac": "truncated",
    "truncated.au": "truncated",
    "truncated.mp3": "truncated",
    "truncated.ogg": "truncated",
    "zero_bytes.wav": "empty",
    "no_frames.wav": "empty",
    "text.wav": "not audio",
    "nan.wav": "non-finite",
    "short.wav": "too short",
    "clip.m4a": "unsupported extension",
}


def make_bad_files(folder: str | Path) -> dict[str, str]:
    """Fill ``folder`` with unusable files; return ``{file name: reason substring}``.

    ``musiclib.audio.check(path, min_duration_s=BAD_MIN_DURATION_S)`` and ``load`` with
    ``min_duration_s=BAD_MIN_DURATION_S`` reject every one with an ``AudioFileError`` whose
    message contains the file name and the reason substring. ``clip.m4a`` is not an audio path
    (``is_audio_path`` is False), so folder scans skip it rather than report it.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sr = 22050
    make_sine(folder / "truncated.wav", 2.0, sr)
    _cut(folder / "truncated.wav", 0.6)  # data chunk claims 2 s, file holds 1.2 s
    make_sine(folder / "truncated.flac", 2.0, sr)
    _cut(folder / "truncated.flac", 0.6)
    make_sine(folder / "truncated.au", 2.0, sr)
    _cut(folder / "truncated.au", 0.6)
    make_sine(folder / "truncated.mp3", 4.0, sr)
    _cut(folder / "truncated.mp3", 0.5)
    make_sine(folder / "truncated.ogg", 4.0, sr)
    _cut(folder / "truncated.ogg", 0.5)
    (folder / "zero_bytes.wav").write_bytes(b"")
    sf.write(folder / "no_frames.wav", np.zeros(0, dtype=np.float32), sr)
    (folder / "text.wav").write_text("this is not audio, only a text file named .wav\n" * 20)
    y = sine(1.5, sr)
    y[sr // 2] = np.nan
    y[sr] = np.inf
    sf.write(folder / "nan.wav", y, sr, subtype="FLOAT")
    make_sine(folder / "short.wav", 0.25, sr)
    make_sine(folder / "clip.m4a", 1.5, sr, format="WAV")  # fine WAV, unsupported name
    return dict(BAD_FILES)

