"""Audio files in, audio files out: load, check, normalise, cut into windows and clips, write.

Everything here works on plain numpy arrays in the librosa convention: ``float32`` samples in
[-1, 1], shape ``(n,)`` for mono and ``(channels, n)`` for multi-channel, sample rates in Hz,
times in seconds.

Decoding is done by soundfile (libsndfile >= 1.1 reads WAV, FLAC, OGG Vorbis/Opus, MP3, AU and
AIFF without ffmpeg) and resampling by soxr. Every problem with a file surfaces as one
exception type, :class:`musiclib.errors.AudioFileError`, whose message is
``"<path>: <reason>"`` on one line, so a batch over a dataset can report it and go on.

Reasons start with one of: ``file not found``, ``not a file``, ``unsupported extension``,
``unreadable``, ``empty``, ``not audio``, ``truncated``, ``non-finite samples``,
``too short``.

Taught in ``notebooks/01_audio_basics.ipynb``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from . import safe_write
from .errors import AudioFileError

SUPPORTED_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".ogg", ".mp3", ".au", ".aiff", ".aif")

BLOCK_FRAMES = 2**16  # frames decoded at a time where memory must stay bounded

# MP3 and Ogg frame counts come from an Xing/LAME tag, a bitrate estimate or the last page's
# granule position, so a small shortfall of decoded frames is not treated as truncation.
_ESTIMATED_LENGTH_FORMATS = frozenset({"MP3", "OGG"})
_ESTIMATE_SLACK = (0.01, 4 * 1152)  # (fraction of the header count, frames): the larger wins

# Reaching an offset, as measured with libsndfile 1.2.2: WAV, FLAC, AU and AIFF seek exactly.
# An MP3 seek lands on the right frame but the decoder has lost its bit reservoir, so the next
# frames decode wrong (errors of 0.5) unless 16 MP3 frames before the target are decoded and
# dropped (8 sufficed in every test file). Ogg Vorbis seeks beyond a few seconds land a few
# hundred samples off (436 in a test file; libsndfile issue #885), so Ogg is decoded from the
# start instead.
_SEEK_PREROLL = {"MP3": 16 * 1152}
_DECODE_FROM_START = frozenset({"OGG"})

_FLOAT_SUBTYPES = frozenset({"FLOAT", "DOUBLE"})

# libsndfile's header log notes a data chunk that claims more bytes than the file holds as
# "data : 441000 (should be 220478)" (WAV), "Data Size : ..." (AU), "SSND : ..." (AIFF).
_SHORT_CHUNK = re.compile(r"^\s*(?:data|Data Size|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.M)
_UNKNOWN_SIZE = 0xFFFFFFF0  # streaming writers put 0xFFFFFFFF ("unknown") in the size field


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says (or, from :func:`check`, what decoding found).

    Attributes
    ----------
    path : Path
    sample_rate : int
        Native rate in Hz.
    channels : int
    frames : int
        Samples per channel.
    duration_s : float
        ``frames / sample_rate``, in seconds.
    format : str
        soundfile's container name: ``"WAV"``, ``"FLAC"``, ``"OGG"``, ``"MP3"``, ``"AU"``, ...
    subtype : str
        soundfile's sample encoding: ``"PCM_16"``, ``"FLOAT"``, ``"VORBIS"``, ...
    """

    path: Path
    sample_rate: int
    channels: int
    frames: int
    duration_s: float
    format: str
    subtype: str


# --------------------------------------------------------------------------------------------
# paths and opening


def is_audio_path(path: str | os.PathLike) -> bool:
    """Whether ``path`` names an audio file this module reads, judged by its extension.

    Hidden files, including the macOS resource files ``._name.wav`` that some archives
    carry, are not audio. The file system is not touched.

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    p = Path(path)
    return not p.name.startswith(".") and p.suffix.lower() in SUPPORTED_EXTENSIONS


def _sf_reason(err: BaseException) -> str:
    """The useful words of a soundfile / OS error, without the path it repeats."""
    if isinstance(err, sf.LibsndfileError):
        text = re.sub(r"^Error\s*:\s*", "", err.error_string)  # "Error : flac decoder lost sync"
    elif isinstance(err, OSError) and err.strerror:
        text = err.strerror
    else:
        text = str(err)
    return " ".join(text.split()).rstrip(".") or type(err).__name__


@contextmanager
def _errors_as(path: Path, what: str):
    """Turn any soundfile/libsndfile/OS error raised inside into ``AudioFileError``."""
    try:
        yield
    except AudioFileError:
        raise
    except (RuntimeError, OSError) as err:  # LibsndfileError is a RuntimeError
        raise AudioFileError(path, f"{what}: {_sf_reason(err)}") from err


def _check_path(path: Path) -> None:
    if not path.exists():
        raise AudioFileError(path, "file not found")
    if not path.is_file():
        raise AudioFileError(path, "not a file")
    if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
        shown = path.suffix or "(none)"
        raise AudioFileError(
            path, f"unsupported extension {shown} (supported: {', '.join(SUPPORTED_EXTENSIONS)})"
        )
    try:  # libsndfile only says "System error"; Python knows which one
        with open(path, "rb") as fh:
            first = fh.read(1)
    except OSError as err:
        raise AudioFileError(path, f"unreadable: {_sf_reason(err)}") from err
    if not first:
        raise AudioFileError(path, "empty file (0 bytes)")


def _seconds(frames: float, sr: int) -> str:
    return f"{frames / sr:.2f} s" if sr > 0 else f"{frames:.0f} frames"


def _check_header(path: Path, f: sf.SoundFile) -> None:
    """Truncation that the header alone reveals, before any decoding.

    libsndfile quietly shortens the frame count of a WAV/AU/AIFF whose data chunk runs past
    the end of the file; its header log still records what the header claimed.
    """
    if f.format in _ESTIMATED_LENGTH_FORMATS:
        if f.format == "OGG":
            _check_ogg_tail(path)
        return
    for claimed, present in _SHORT_CHUNK.findall(f.extra_info):
        claimed, present = int(claimed), int(present)
        if present < claimed < _UNKNOWN_SIZE:
            if f.frames > 0:
                promised = f.frames * claimed / present
                detail = f"header promises {_seconds(promised, f.samplerate)}"
            else:
                detail = f"header promises {claimed} bytes of audio"
            raise AudioFileError(
                path, f"truncated: {detail}, file holds {_seconds(f.frames, f.samplerate)}"
            )


def _check_ogg_tail(path: Path) -> None:
    """An Ogg stream ends with a complete page flagged end-of-stream; a cut file does not.

    (libsndfile takes an Ogg file's length from its last complete page, so decoded and
    header frame counts agree even for a file cut in half.)
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 70_000))  # an Ogg page is at most 65,307 bytes
        tail = fh.read()
    pos = tail.rfind(b"OggS")
    while pos >= 0:
        if tail[pos + 4 : pos + 5] == b"\x00":  # stream structure version 0: a page header
            n_seg = tail[pos + 26] if len(tail) > pos + 26 else None
            if n_seg is None or len(tail) < pos + 27 + n_seg:
                raise AudioFileError(path, "truncated: last Ogg page is incomplete")
            end = pos + 27 + n_seg + sum(tail[pos + 27 : pos + 27 + n_seg])
            if end > len(tail):
                raise AudioFileError(path, "truncated: last Ogg page is incomplete")
            if not tail[pos + 5] & 0x04:
                raise AudioFileError(path, "truncated: Ogg stream ends without its last page")
            return
        pos = tail.rfind(b"OggS", 0, pos)
    # no page header in the tail at all (trailing junk?): leave it to the decoder


class _ForwardReader(sf.SoundFile):
    """A ``SoundFile`` whose reads do not seek.

    soundfile seeks to the current position after every read of a seekable file. For MP3,
    libsndfile 1.2.2 turns that into a real decoder seek, which drops the bit reservoir and
    garbles the next frames, so an MP3 read in blocks differs from the same file read at once
    (by up to 0.6 in measurements). Claiming "not seekable" stops soundfile from doing it;
    explicit ``seek`` calls still work.
    """

    def seekable(self) -> bool:
        return False


@contextmanager
def _open(path: str | os.PathLike) -> Iterator[tuple[sf.SoundFile, AudioInfo]]:
    """Open ``path`` for reading after every check the header allows.

    Yields the open ``SoundFile`` and its header :class:`AudioInfo`. Any soundfile error raised
    in the ``with`` body becomes ``AudioFileError("unreadable: ...")``.
    """
    path = Path(path)
    _check_path(path)
    # Through a Python file object, not the path: given a path, libsndfile also opens a
    # macOS "._<name>" file beside it as a resource fork and fails on an MP3 next to one
    # ("bad resource fork"), which archives made on a Mac carry.
    handle = open(path, "rb")
    try:
        f = _ForwardReader(handle)
    except (RuntimeError, OSError, ValueError) as err:
        handle.close()
        reason = _sf_reason(err)
        if "not recognised" in reason.lower() or "unknown format" in reason.lower():
            raise AudioFileError(path, f"not audio: {reason}") from err
        raise AudioFileError(path, f"unreadable: {reason}") from err
    with handle, f, _errors_as(path, "unreadable"):
        _check_header(path, f)
        if f.frames <= 0:
            raise AudioFileError(path, "empty: no audio frames")
        if f.samplerate <= 0 or f.channels <= 0:
            raise AudioFileError(
                path, f"not audio: header says {f.samplerate} Hz, {f.channels} channels"
            )
        yield f, AudioInfo(
            path=path,
            sample_rate=int(f.samplerate),
            channels=int(f.channels),
            frames=int(f.frames),
            duration_s=f.frames / f.samplerate,
            format=f.format,
            subtype=f.subtype,
        )


def _slack(header: AudioInfo) -> int:
    """How many frames short of the header count decoding may end without being truncated."""
    if header.format not in _ESTIMATED_LENGTH_FORMATS:
        return 0
    fraction, frames = _ESTIMATE_SLACK
    return max(int(fraction * header.frames), frames)


def _raise_truncated(header: AudioInfo, decoded: int, error: BaseException | None = None) -> None:
    sr = header.sample_rate
    promised = f"truncated: header promises {_seconds(header.frames, sr)} ({header.frames} frames)"
    if error is None:
        found = f"decoding stopped at {_seconds(decoded, sr)} ({decoded} frames)"
    else:  # the decoder failed somewhere in the block that starts at `decoded`
        found = f"decoder failed after {_seconds(decoded, sr)}: {_sf_reason(error)}"
    raise AudioFileError(header.path, f"{promised}, {found}")


def _check_finite(header: AudioInfo, block: np.ndarray, first_frame: int) -> None:
    bad = ~np.isfinite(block)
    if bad.any():
        where = first_frame + int(np.flatnonzero(bad.any(axis=-1))[0])
        raise AudioFileError(
            header.path,
            f"non-finite samples: {int(bad.sum())} NaN/inf values, the first at "
            f"{_seconds(where, header.sample_rate)}",
        )


def _decode(
    f: sf.SoundFile, header: AudioInfo, start: int, n: int, out: np.ndarray | None = None
) -> np.ndarray:
    """Decode ``n`` frames from the current position ``start``: ``(frames, channels)``.

    Fewer frames than asked for, beyond the slack the format allows, mean a truncated file.
    """
    try:
        data = f.read(n, dtype="float32", always_2d=True, out=out)
    except (RuntimeError, OSError) as err:  # e.g. "flac decoder lost sync" at a cut
        _raise_truncated(header, start, err)
    if len(data) < n and header.frames - (start + len(data)) > _slack(header):
        _raise_truncated(header, start + len(data))
    return data


def _skip(f: sf.SoundFile, header: AudioInfo, start: int, n: int) -> None:
    """Decode and drop ``n`` frames from the current position ``start``."""
    buf = np.empty((min(n, BLOCK_FRAMES), header.channels), dtype=np.float32)
    while n > 0:
        got = len(_decode(f, header, start, min(n, len(buf)), out=buf))
        if got == 0:
            return
        start, n = start + got, n - got


def _seek(f: sf.SoundFile, header: AudioInfo, frame: int) -> None:
    """Move a freshly opened file to ``frame``, decoding the preroll its format needs."""
    if frame == 0:
        return
    target = 0
    if header.format not in _DECODE_FROM_START:
        target = max(0, frame - _SEEK_PREROLL.get(header.format, 0))
        try:
            f.seek(target)
        except RuntimeError:  # e.g. past an MP3's estimated length: decode from the start
            with _errors_as(header.path, "unreadable"):
                target = f.seek(0)
    _skip(f, header, target, frame - target)


def _finish(
    header: AudioInfo, data: np.ndarray, start: int, *, sr: int | None, mono: bool
) -> np.ndarray:
    """Check, mix down and resample decoded ``(frames, channels)``; return librosa's shape."""
    _check_finite(header, data, start)
    if mono:
        data = data.mean(axis=1, keepdims=True, dtype=np.float32)
    if sr is not None and sr != header.sample_rate and len(data):
        data = soxr.resample(data, header.sample_rate, sr, quality="HQ")
    out = data[:, 0] if mono else data.T
    return np.ascontiguousarray(out, dtype=np.float32)


def _check_sr(sr: int | None) -> None:
    if sr is not None and (not float(sr).is_integer() or sr <= 0):
        raise ValueError(f"sample rate must be a positive integer number of Hz, got {sr!r}")


def _check_min_duration(info: AudioInfo, min_duration_s: float) -> None:
    if info.duration_s < min_duration_s:
        raise AudioFileError(
            info.path, f"too short: {info.duration_s:.2f} s, the minimum is {min_duration_s:g} s"
        )


# --------------------------------------------------------------------------------------------
# reading


def info(path: str | os.PathLike) -> AudioInfo:
    """Read a file's header: rate, channels, length, format. Fast: nothing is decoded.

    A WAV/AU/AIFF data chunk that runs past the end of the file and an Ogg file without its
    last page are reported here already; a truncated FLAC or MP3 shows only when decoded
    (:func:`check`, :func:`load`).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    AudioInfo
        ``frames`` is the header's count (an estimate for some MP3 files).

    Raises
    ------
    AudioFileError
        Missing, unreadable, empty, not audio, truncated, unsupported extension.

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    with _open(path) as (_, header):
        return header


def check(path: str | os.PathLike, *, min_duration_s: float = 0.0) -> AudioInfo:
    """Decode a whole file, block by block, to prove it is usable.

    Memory stays bounded (``BLOCK_FRAMES`` frames at a time) whatever the file's length.

    Parameters
    ----------
    path : str or Path
    min_duration_s : float
        Shortest acceptable duration, in seconds.

    Returns
    -------
    AudioInfo
        With ``frames`` and ``duration_s`` as actually decoded.

    Raises
    ------
    AudioFileError
        Everything :func:`info` raises, and: decoding fails or stops before the header's frame
        count ("truncated"; MP3/Ogg counts are estimates and get 1% slack), NaN or inf samples
        ("non-finite samples"), shorter than ``min_duration_s`` ("too short").

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    with _open(path) as (f, header):
        buf = np.empty((BLOCK_FRAMES, header.channels), dtype=np.float32)
        decoded = 0
        while len(block := _decode(f, header, decoded, BLOCK_FRAMES, out=buf)):
            _check_finite(header, block, decoded)
            decoded += len(block)
        if header.frames - decoded > _slack(header):
            _raise_truncated(header, decoded)
        if decoded == 0:
            raise AudioFileError(header.path, "empty: no audio frames decoded")
        found = AudioInfo(
            path=header.path,
            sample_rate=header.sample_rate,
            channels=header.channels,
            frames=decoded,
            duration_s=decoded / header.sample_rate,
            format=header.format,
            subtype=header.subtype,
        )
        _check_min_duration(found, min_duration_s)
        return found


def load(
    path: str | os.PathLike,
    *,
    sr: int | None = 22050,
    mono: bool = True,
    offset_s: float = 0.0,
    duration_s: float | None = None,
    min_duration_s: float = 0.0,
) -> np.ndarray:
    """Load (part of) an audio file as float32 at a given sample rate.

    The file is seeked to ``offset_s`` and only the requested part is decoded, with two
    exceptions where libsndfile's seeks are not exact: MP3 decodes (and drops) 16 MP3 frames
    before ``offset_s``, Ogg decodes from the start. :func:`iter_clips` walks through a long
    file without seeking.

    Parameters
    ----------
    path : str or Path
        A ``.wav``, ``.flac``, ``.ogg``, ``.mp3``, ``.au`` or ``.aiff`` file; integer samples of
        8 to 32 bits or float.
    sr : int or None
        Target sample rate in Hz (soxr, "HQ"); ``None`` keeps the file's own rate.
    mono : bool
        Average the channels.
    offset_s : float
        Where to start, in seconds. At or past the end gives an empty array.
    duration_s : float or None
        How much to read, in seconds; ``None`` reads to the end.
    min_duration_s : float
        The whole file (not the part read) must be at least this long, in seconds.

    Returns
    -------
    y : np.ndarray, float32
        Shape ``(n,)`` if ``mono``, else ``(channels, n)``; ``n`` is about
        ``duration * sr``.

    Raises
    ------
    AudioFileError
        Missing, unreadable, empty, not audio, unsupported extension, truncated within the
        part read, non-finite samples in it, too short.

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    _check_sr(sr)
    if offset_s < 0 or (duration_s is not None and duration_s < 0):
        raise ValueError(f"offset_s and duration_s must be >= 0, got {offset_s}, {duration_s}")
    with _open(path) as (f, header):
        _check_min_duration(header, min_duration_s)
        start = min(round(offset_s * header.sample_rate), header.frames)
        n = header.frames - start
        if duration_s is not None:
            n = min(n, round(duration_s * header.sample_rate))
        _seek(f, header, start)
        return _finish(header, _decode(f, header, start, n), start, sr=sr, mono=mono)


# --------------------------------------------------------------------------------------------
# signals


def to_mono(y: np.ndarray) -> np.ndarray:
    """Mix channels down by averaging them.

    Parameters
    ----------
    y : np.ndarray
        ``(channels, n)`` or ``(n,)``.

    Returns
    -------
    np.ndarray
        ``(n,)``: the mean over channels as float32; a ``(n,)`` input is returned unchanged.

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    y = np.asarray(y)
    if y.ndim == 1:
        return y
    if y.ndim != 2:
        raise ValueError(f"expected shape (n,) or (channels, n), got {y.shape}")
    return y.mean(axis=0, dtype=np.float64).astype(np.float32)


def resample(y: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """Change the sample rate with soxr ("HQ": band-limited, no aliasing).

    Parameters
    ----------
    y : np.ndarray
        ``(n,)`` or ``(channels, n)``.
    orig_sr, target_sr : int
        Rates in Hz.

    Returns
    -------
    np.ndarray, float32
        Same number of dimensions; ``n`` becomes about ``n * target_sr / orig_sr``.

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    _check_sr(orig_sr)
    _check_sr(target_sr)
    y = np.asarray(y, dtype=np.float32)
    if y.ndim not in (1, 2):
        raise ValueError(f"expected shape (n,) or (channels, n), got {y.shape}")
    if orig_sr == target_sr:
        return y.copy()
    # soxr wants time first: (n,) or (n, channels)
    out = soxr.resample(y if y.ndim == 1 else y.T, orig_sr, target_sr, quality="HQ")
    return np.ascontiguousarray(out if y.ndim == 1 else out.T, dtype=np.float32)


def _dbfs(level: float) -> float:
    return 20.0 * np.log10(level) if level > 0 else -np.inf


def normalize_peak(y: np.ndarray, *, peak: float = 1.0, silence_dbfs: float = -80.0) -> np.ndarray:
    """Scale so that the largest absolute sample is ``peak``.

    Parameters
    ----------
    y : np.ndarray
        Any shape; all channels share one gain.
    peak : float
        Target peak, linear (1.0 is full scale).
    silence_dbfs : float
        A signal whose peak is below this level (dBFS) is silence (or dither) and is returned
        unchanged, so it is not blown up to full-scale noise; all zeros stay all zeros.

    Returns
    -------
    np.ndarray, float32
        A new array of the same shape, never NaN.

    Raises
    ------
    ValueError
        ``y`` holds NaN or inf.

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    y = np.asarray(y, dtype=np.float32)
    top = float(np.max(np.abs(y))) if y.size else 0.0
    if not np.isfinite(top):
        raise ValueError("cannot normalise a signal with NaN or inf samples")
    if top == 0.0 or _dbfs(top) < silence_dbfs:
        return y.copy()
    return (y * np.float64(peak / top)).astype(np.float32)  # float64 gain: no overflow


def normalize_loudness(
    y: np.ndarray,
    *,
    target_dbfs: float = -20.0,
    max_peak: float = 1.0,
    silence_dbfs: float = -80.0,
) -> np.ndarray:
    """Scale to a target RMS level, without letting the peak exceed ``max_peak``.

    Levels are ``20 * log10(RMS)`` over all samples (a full-scale sine is -3 dBFS).

    Parameters
    ----------
    y : np.ndarray
        Any shape; all channels share one gain.
    target_dbfs : float
        Wanted RMS level in dBFS.
    max_peak : float
        Largest allowed absolute sample. When reaching ``target_dbfs`` would exceed it, the
        gain is lowered until the peak is exactly ``max_peak`` (so the result is quieter than
        the target; nothing is clipped or distorted).
    silence_dbfs : float
        Signals quieter than this (RMS, dBFS), all zeros included, are returned unchanged.

    Returns
    -------
    np.ndarray, float32
        A new array of the same shape, never NaN.

    Raises
    ------
    ValueError
        ``y`` holds NaN or inf.

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    y = np.asarray(y, dtype=np.float32)
    if not y.size:
        return y.copy()
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    if not np.isfinite(rms):
        raise ValueError("cannot normalise a signal with NaN or inf samples")
    level = _dbfs(rms)
    if rms == 0.0 or level < silence_dbfs:
        return y.copy()
    gain = 10.0 ** ((target_dbfs - level) / 20.0)
    top = float(np.max(np.abs(y))) * gain
    if top > max_peak:
        gain *= max_peak / top
    return np.clip(y * np.float64(gain), -max_peak, max_peak).astype(np.float32)


def _n_windows(n: int, length: int, hop: int, pad: bool) -> int:
    """Windows of ``length`` every ``hop`` over ``n`` samples (see :func:`frame_windows`)."""
    full = (n - length) // hop + 1 if n >= length else 0
    # one zero-padded window more if samples after the last full window are in no window
    tail = n > (full - 1) * hop + length if full else n > 0
    return full + int(pad and tail and full * hop < n)


def frame_windows(
    y: np.ndarray, *, length: int, hop: int | None = None, pad: bool = True
) -> np.ndarray:
    """Cut a signal into fixed-length windows, with optional overlap and padding.

    Window ``k`` is ``y[k * hop : k * hop + length]``.

    Parameters
    ----------
    y : np.ndarray
        ``(n,)``.
    length : int
        Window length in samples.
    hop : int or None
        Samples between window starts; defaults to ``length`` (no overlap); ``hop < length``
        overlaps.
    pad : bool
        ``True``: samples after the last full window go into one more window, zero-padded
        (a signal shorter than ``length`` gives one window). ``False``: they are dropped.

    Returns
    -------
    np.ndarray, float32
        ``(n_windows, length)``, a copy; ``n_windows`` may be 0 (empty signal, or
        ``pad=False`` and ``n < length``).

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected a mono signal of shape (n,), got {y.shape}")
    hop = length if hop is None else hop
    if length < 1 or hop < 1:
        raise ValueError(f"length and hop must be >= 1, got {length}, {hop}")
    count = _n_windows(len(y), length, hop, pad)
    need = (count - 1) * hop + length if count else 0
    if need > len(y):
        y = np.pad(y, (0, need - len(y)))
    if count == 0:
        return np.zeros((0, length), dtype=np.float32)
    views = np.lib.stride_tricks.sliding_window_view(y, length)[::hop]
    return np.array(views[:count], dtype=np.float32)


# --------------------------------------------------------------------------------------------
# long recordings


def clip_offsets(
    duration_s: float,
    *,
    clip_seconds: float,
    hop_seconds: float | None = None,
    min_last_seconds: float = 0.0,
) -> list[float]:
    """Start times of the clips :func:`iter_clips` cuts from a recording.

    Clips start every ``hop_seconds``; every clip that fits whole is kept. Audio after the
    last whole clip goes into one last clip, zero-padded, if it is at least
    ``min_last_seconds`` long.

    Parameters
    ----------
    duration_s : float
        Length of the recording, in seconds.
    clip_seconds : float
        Length of every clip, in seconds.
    hop_seconds : float or None
        Seconds between clip starts; defaults to ``clip_seconds`` (no overlap).
    min_last_seconds : float
        Shortest audio a last, partial clip may hold, in seconds.

    Returns
    -------
    list of float
        Offsets in seconds, ascending.

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    hop = clip_seconds if hop_seconds is None else hop_seconds
    if clip_seconds <= 0 or hop <= 0:
        raise ValueError(f"clip_seconds and hop_seconds must be > 0, got {clip_seconds}, {hop}")
    if duration_s < 0 or min_last_seconds < 0:
        raise ValueError("duration_s and min_last_seconds must be >= 0")
    eps = 1e-9 * max(1.0, duration_s)  # float slack, far below one sample
    full = 0
    if duration_s + eps >= clip_seconds:
        full = int(np.floor((duration_s - clip_seconds + eps) / hop)) + 1
    offsets = [k * hop for k in range(full)]
    covered = (full - 1) * hop + clip_seconds if full else 0.0
    last = full * hop
    rest = duration_s - last
    if duration_s - covered > eps and rest > eps and rest + eps >= min_last_seconds:
        offsets.append(last)
    return offsets


def iter_clips(
    path: str | os.PathLike,
    *,
    clip_seconds: float,
    sr: int | None = 22050,
    hop_seconds: float | None = None,
    min_last_seconds: float = 0.0,
    mono: bool = True,
) -> Iterator[tuple[float, np.ndarray]]:
    """Cut a long recording into clips, reading one clip at a time from disk.

    The file is decoded once, front to back; memory holds about two clips, never the whole
    recording, so an hour-long file is fine. Each clip is what
    ``load(path, sr=sr, mono=mono, offset_s=offset, duration_s=clip_seconds)`` returns,
    zero-padded (or trimmed) to ``round(clip_seconds * sr)`` samples.

    Parameters
    ----------
    path : str or Path
    clip_seconds : float
        Clip length, in seconds.
    sr : int or None
        Target sample rate in Hz; ``None`` keeps the file's rate.
    hop_seconds : float or None
        Seconds between clip starts; defaults to ``clip_seconds`` (no overlap).
    min_last_seconds : float
        A last, partial clip is kept (zero-padded) only if it holds at least this much audio.
    mono : bool
        Average the channels.

    Yields
    ------
    offset_s : float
        Where the clip starts in the recording, in seconds (see :func:`clip_offsets`).
    clip : np.ndarray, float32
        ``(n,)`` if ``mono``, else ``(channels, n)``.

    Raises
    ------
    AudioFileError
        As :func:`load`, when opening or when reaching a damaged part.

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    _check_sr(sr)
    with _open(path) as (f, header):
        native = header.sample_rate
        size = round(clip_seconds * (native if sr is None else sr))
        # Read forward only, keeping the decoded frames from the current clip's start on:
        # overlapping clips reuse them, and nothing seeks (an MP3 seek would need a preroll).
        kept = np.zeros((0, header.channels), dtype=np.float32)
        kept_start = 0  # native frame of kept[0]; the file position is at the end of kept
        for offset in clip_offsets(
            header.duration_s,
            clip_seconds=clip_seconds,
            hop_seconds=hop_seconds,
            min_last_seconds=min_last_seconds,
        ):
            start = round(offset * native)
            stop = min(start + round(clip_seconds * native), header.frames)
            end = kept_start + len(kept)
            if start >= end:  # no overlap with the last clip (a gap if hop > clip)
                _skip(f, header, end, start - end)
                kept = kept[:0]
            else:
                kept = kept[start - kept_start :]
            kept_start = start
            end = start + len(kept)
            if stop > end:
                kept = np.concatenate([kept, _decode(f, header, end, stop - end)])
            clip = _finish(header, kept, start, sr=sr, mono=mono)
            if clip.shape[-1] != size:
                width = [(0, 0)] * (clip.ndim - 1) + [(0, max(0, size - clip.shape[-1]))]
                clip = np.pad(clip[..., :size], width)
            yield offset, clip


def cut_file(
    path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    clip_seconds: float,
    sr: int = 22050,
    normalize: str | None = "peak",
    min_last_seconds: float = 0.0,
) -> list[Path]:
    """Cut a recording into normalised mono WAV clips.

    The pipeline of the composer-classification source project: cut a large file into pieces,
    convert each to WAV at one sample rate, normalise each piece.

    Parameters
    ----------
    path : str or Path
        The recording, in any format :func:`load` reads.
    out_dir : str or Path
        Where the clips go (created if missing).
    clip_seconds : float
        Clip length, in seconds.
    sr : int
        Sample rate of the clips, in Hz.
    normalize : {"peak", "loudness", None}
        Per clip: :func:`normalize_peak`, :func:`normalize_loudness` (defaults), or nothing.
    min_last_seconds : float
        See :func:`iter_clips`.

    Returns
    -------
    list of Path
        ``out_dir/<stem>.<k:04d>.wav`` for k = 0, 1, ...: 16-bit PCM WAV files.

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    norms = {"peak": normalize_peak, "loudness": normalize_loudness, None: None}
    if normalize not in norms:
        raise ValueError(f"normalize must be 'peak', 'loudness' or None, got {normalize!r}")
    stem = Path(path).stem
    written = []
    for k, (_, clip) in enumerate(
        iter_clips(path, clip_seconds=clip_seconds, sr=sr, min_last_seconds=min_last_seconds)
    ):
        if norms[normalize] is not None:
            clip = norms[normalize](clip)
        written.append(write_wav(Path(out_dir) / f"{stem}.{k:04d}.wav", clip, sr=sr))
    return written


# --------------------------------------------------------------------------------------------
# writing


# The container soundfile writes for each extension, and the subtype used when none is given.
_WRITE_FORMATS = {
    ".wav": ("WAV", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".ogg": ("OGG", "VORBIS"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),
    ".au": ("AU", "PCM_16"),
    ".aiff": ("AIFF", "PCM_16"),
    ".aif": ("AIFF", "PCM_16"),
}


def write_audio(
    path: str | os.PathLike,
    y: np.ndarray,
    *,
    sr: int,
    subtype: str | None = None,
    format: str | None = None,
) -> Path:
    """Write an audio file atomically, in the format its extension names.

    The samples go to a temporary file in the same folder, which then replaces ``path``, so
    readers never see a half-written file. WAV, FLAC, Ogg Vorbis, MP3, AU and AIFF are
    written by soundfile (no ffmpeg needed).

    Parameters
    ----------
    path : str or Path
        Destination; the extension picks the format; missing parent folders are created.
    y : np.ndarray
        ``(n,)`` or ``(channels, n)``, float in [-1, 1].
    sr : int
        Sample rate in Hz.
    subtype : str, optional
        soundfile subtype: ``"PCM_16"`` (the default for lossless formats), ``"PCM_24"``,
        ``"FLOAT"``, ... Integer subtypes and lossy codecs clip the samples to [-1, 1] first.
    format : str, optional
        A soundfile format (``"WAV"``, ``"FLAC"``, ...) to use whatever the extension says.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    AudioFileError
        Non-finite samples (nothing is written), or the file cannot be written.

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    path = Path(path)
    _check_sr(sr)
    if format is not None:
        fmt = format.upper()
        default_subtype = sf.default_subtype(fmt)
    else:
        try:
            fmt, default_subtype = _WRITE_FORMATS[path.suffix.lower()]
        except KeyError:
            raise ValueError(
                f"{path}: cannot write {path.suffix or 'files without an extension'} "
                f"(writable: {', '.join(_WRITE_FORMATS)})"
            ) from None
    subtype = (subtype or default_subtype).upper()
    if not sf.check_format(fmt, subtype):
        raise ValueError(f"{fmt} files cannot hold subtype {subtype!r}")
    y = np.asarray(y, dtype=np.float32)
    if y.ndim not in (1, 2):
        raise ValueError(f"expected shape (n,) or (channels, n), got {y.shape}")
    if not np.isfinite(y).all():
        bad = int((~np.isfinite(y)).sum())
        raise AudioFileError(path, f"non-finite samples: refusing to write {bad} NaN/inf values")
    if subtype not in _FLOAT_SUBTYPES:
        y = np.clip(y, -1.0, 1.0)
    data = y if y.ndim == 1 else y.T  # soundfile wants (n, channels)
    def write(fh) -> None:
        sf.write(fh, data, int(sr), format=fmt, subtype=subtype)
        fh.flush()
        os.fsync(fh.fileno())  # on disk before the rename makes it visible

    with _errors_as(path, "cannot write"):
        # a hidden temporary sibling renamed into place: dataset scans (is_audio_path) skip it
        safe_write.write_file(path, write)
    return path


def write_wav(
    path: str | os.PathLike, y: np.ndarray, *, sr: int, subtype: str = "PCM_16"
) -> Path:
    """Write a WAV file atomically (see :func:`write_audio`), whatever ``path``'s extension.

    ``subtype`` is a soundfile WAV subtype: ``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``, ...

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    return write_audio(path, y, sr=sr, subtype=subtype, format="WAV")
