"""Datasets shaped like a learner's own music, made on the spot from the synthetic styles.

``make_labelled_folder`` is a collection as people keep one: labels that are not style
names, nested folders, mp3 / flac / ogg / wav, one long recording, unbalanced, and a label
with a single recording (too few to split). ``make_gtzan`` writes GTZAN's two common layouts:
the original archive (``genres/<genre>/<genre>.000NN.au`` beside macOS ``._*`` files) and the
Kaggle one (``Data/genres_original/<genre>/<genre>.000NN.wav`` with an unreadable
``jazz.00054.wav``). Nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import soundfile as sf

import musiclib as ml

SR = 22050
FORMATS = (".wav", ".mp3", ".flac", ".ogg")

# label of the collection -> (synthetic style that plays it, recordings)
LABELLED = {
    "bach": ("pluck_folk_major", 6),
    "chopin": ("epiano_jazz", 4),
    "satie": ("pad_ambient_lydian", 3),
    "solo": ("saw_techno", 1),  # one recording: too few to split, left out with a note
}
LONG_SECONDS = 40.0


def _write(path: Path, y, *, sr: int = SR) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return ml.audio.write_audio(path, y, sr=sr)


def make_labelled_folder(root: str | Path, *, seconds: float = 6.0, seed: int = 7) -> Path:
    """A labelled collection (see the module docstring); returns ``root``."""
    root = Path(root)
    k = 0
    for label, (style, n) in LABELLED.items():
        for i in range(n):
            ext = FORMATS[k % len(FORMATS)]
            sub = "nocturnes/" if label == "chopin" and i % 2 else ""
            y = ml.synth.render_clip(style, seconds, sr=SR, seed=seed, index=i)
            _write(root / label / f"{sub}{label}_{i:02d}{ext}", y)
            k += 1
    long = ml.synth.render_clip(LABELLED["bach"][0], LONG_SECONDS, sr=SR, seed=seed, index=99)
    _write(root / "bach" / "long_concert.flac", long)
    (root / "notes.txt").write_text("not audio, not in a label folder: ignored\n")
    return root


def make_gtzan(root: str | Path, *, layout: str, genres: dict[str, str], per_genre: int = 4,
               seconds: float = 6.0, seed: int = 11) -> Path:
    """GTZAN in the ``"original"`` or ``"kaggle"`` layout; ``genres`` maps genre -> style."""
    root = Path(root)
    if layout == "original":
        parent, ext = root / "genres", ".au"
    elif layout == "kaggle":
        parent, ext = root / "Data" / "genres_original", ".wav"
    else:
        raise ValueError(layout)
    for genre, style in genres.items():
        for i in range(per_genre):
            path = parent / genre / f"{genre}.{i:05d}{ext}"
            path.parent.mkdir(parents=True, exist_ok=True)
            y = ml.synth.render_clip(style, seconds, sr=SR, seed=seed, index=i)
            if ext == ".au":  # GTZAN's own format: 16-bit big-endian AU
                sf.write(path, y, SR, format="AU", subtype="PCM_16", endian="BIG")
            else:
                _write(path, y)
            if layout == "original":  # what a copy made on macOS carries beside each file
                (path.parent / f"._{path.name}").write_bytes(b"\x00\x05\x16\x07" + b"\x00" * 60)
    if layout == "kaggle" and "jazz" in genres:
        (parent / "jazz" / "jazz.00054.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEjunk")
    return root


class BackgroundCourses:
    """``musiclib course`` runs on other data, one after another in a background thread.

    The course on other data takes minutes of one core, and pytest runs on one core: the
    session starts these runs as soon as it has collected their tests (``tests/conftest.py``),
    the unit tests and nbmake go on meanwhile, and the tests of
    ``test_course_on_your_music.py`` (collected last) wait for their run. Each run is a
    process of its own with its own data and build folders and its environment passed
    explicitly, so nothing of the test process leaks into it.

    ``jobs``: name -> (dataset folder, extra ``musiclib course`` arguments...).
    """

    def __init__(self, root: Path, jobs: dict[str, tuple]):
        import threading

        self.root = Path(root)
        self.jobs = jobs
        self.results: dict[str, tuple[int, str, Path]] = {}
        self.done = {name: threading.Event() for name in jobs}
        self._process = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run_all, name="background-courses", daemon=True)

    def start(self) -> "BackgroundCourses":
        self._thread.start()
        return self

    def _run_all(self) -> None:
        import os
        import subprocess
        import sys

        for name, (dataset, *args) in self.jobs.items():
            out = self.root / name / "course"
            env = {**os.environ, "MUSICLIB_DATA_DIR": str(self.root / name / "data"),
                   "MUSICLIB_BUILD_DIR": str(self.root / name / "build"), "MUSICLIB_PROFILE": "tiny",
                   "MUSICLIB_DATASET": str(dataset), "MUSICLIB_SEED": "0",
                   # one thread each for TensorFlow and BLAS: the other core is the test session's
                   "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1",
                   "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                   # librosa's numba functions compile into a cache of these runs' own: processes
                   # that compile into one cache at once (a fresh .venv) can crash each other
                   "NUMBA_CACHE_DIR": str(self.root / "numba-cache")}
            log = "not run: the session stopped first"
            status = -1
            if not self._stopped:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "musiclib", "course", "--out", str(out), "-q", *args],
                    env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                    start_new_session=True)  # its own process group: stop() ends its kernels too
                log, _ = self._process.communicate()
                status = self._process.returncode
            self.results[name] = (status, log, out)
            self.done[name].set()

    def result(self, name: str, timeout: float = 1800.0) -> tuple[int, str, Path]:
        """``(exit status, output, course folder)`` of run ``name``, once it has finished."""
        if not self.done[name].wait(timeout):
            raise TimeoutError(f"the course run {name!r} did not finish within {timeout:.0f} s")
        return self.results[name]

    def stop(self) -> None:
        import os
        import signal

        self._stopped = True
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
