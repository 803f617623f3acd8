"""A quiet TensorFlow: its C++ log lines kept out of notebooks, terminals and logs.

TensorFlow's C++ code writes straight to file descriptor 2, past Python's ``sys.stderr``:
at ``import tensorflow`` (``cudart_stub.cc ... Could not find cuda drivers``,
``cpu_feature_guard.cc ... rebuild TensorFlow``, absl's "All log messages before
absl::InitializeLog() is called ..."), and later, at the first graph execution or
``tf.data`` pipeline (``cuda_platform.cc ... failed call to cuInit``, ``node_def_util.cc``,
``remapper failed``). ``TF_CPP_MIN_LOG_LEVEL=2`` hides TensorFlow's own INFO and WARNING
lines but not these: they come from absl and XLA before TensorFlow reads it.

:func:`quiet` does two things, once per process:

1. sets ``TF_CPP_MIN_LOG_LEVEL=2`` (unless already set) for TensorFlow to read when it loads;
2. puts a filter on file descriptor 2: a pipe takes fd 2's place and a daemon thread copies
   every line to the original fd 2 *except* TensorFlow's chatter (:func:`is_noise`): its C++
   INFO and WARNING lines (:func:`is_tf_log_line`) and the ERROR lines known to be harmless
   (cuInit failing on a machine without an NVIDIA GPU, ``use_unbounded_threadpool``,
   ``remapper failed``, factories registered twice). Other ERROR and every FATAL line pass,
   as does everything else (Python tracebacks, ``print(..., file=sys.stderr)``, other
   libraries' warnings), unchanged; what is left in the pipe is flushed at exit.

In a Jupyter kernel, fd 2 is ipykernel's own pipe (ipykernel >= 6 forwards fd-level output
to the notebook and to the terminal that started the kernel); the filter sits in front of it,
so TensorFlow's lines reach neither, while Python's ``sys.stderr`` (sent by ipykernel over
its own channel) and real errors still do. ``import musiclib`` installs it when it runs in a
kernel (it costs a pipe and a thread, no TensorFlow), so a notebook's own ``import keras``
after ``import musiclib as ml`` is quiet too; elsewhere (CLI, scripts) it is installed the
first time musiclib imports Keras, through :func:`import_keras`.

Nothing hides a GPU: ``CUDA_VISIBLE_DEVICES`` is left alone (setting it to ``""`` on a
machine without a GPU was measured not to stop these lines anyway), and a failing cuInit
is dropped only where no NVIDIA device exists (no ``/dev/nvidia*``, no ``nvidia-smi``). Set
``MUSICLIB_TF_LOG=all`` to see every line again (debugging TensorFlow itself).
"""

from __future__ import annotations

import atexit
import glob
import os
import re
import select
import shutil
import sys
import threading
from functools import lru_cache

ENV_TF_LOG = "MUSICLIB_TF_LOG"

# absl / TensorFlow C++ log line: severity letter, MMDD, time, thread id, file:line]. Before
# absl is initialised the time reads 00:00:<seconds since 1970>, hence \d+ for the seconds.
_TF_LINE = re.compile(
    rb"^\s*(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags)"
)

# ERROR lines TensorFlow 2.x prints on every healthy run (the cuInit one: only without a GPU)
_HARMLESS_ERRORS = re.compile(
    rb"node_def_util\.cc.*use_unbounded_threadpool"
    rb"|remapper failed"
    rb"|Unable to register cu(?:DNN|FFT|BLAS) factory"
    rb"|computation placer already registered"
)
_NO_GPU_ERRORS = re.compile(rb"failed call to cuInit|cuda_diagnostics")

_lock = threading.Lock()
_filter: "_Fd2Filter | None" = None


def is_tf_log_line(line: bytes | str) -> bool:
    """True for a line in the format of TensorFlow's C++ logging (absl), whatever its level."""
    if isinstance(line, str):
        line = line.encode("utf-8", "replace")
    return bool(_TF_LINE.match(line))


@lru_cache(maxsize=1)
def has_nvidia_gpu() -> bool:
    """True where an NVIDIA device or its driver's tool is present (then nothing GPU-related
    is dropped)."""
    return bool(glob.glob("/dev/nvidia[0-9]*")) or shutil.which("nvidia-smi") is not None


def is_noise(line: bytes | str) -> bool:
    """True for a line the filter drops: TensorFlow's INFO/WARNING lines, absl's start-up
    notice and its continuation, and the known harmless ERROR lines. Never a FATAL line."""
    if isinstance(line, str):
        line = line.encode("utf-8", "replace")
    if not is_tf_log_line(line):
        return False
    severity = line.lstrip()[:1]
    if severity == b"F":
        return False
    if severity == b"E":
        return bool(_HARMLESS_ERRORS.search(line)) or (
            not has_nvidia_gpu() and bool(_NO_GPU_ERRORS.search(line)))
    return True


def disabled() -> bool:
    """``MUSICLIB_TF_LOG=all`` (or ``1``, ``show``) turns the filter off."""
    return os.environ.get(ENV_TF_LOG, "").strip().lower() in {"all", "1", "show", "verbose"}


def in_kernel() -> bool:
    """True inside a Jupyter (ipykernel) kernel; cheap, imports nothing."""
    return type(sys.stderr).__module__.startswith("ipykernel")


def _pytest_owns_fd2() -> bool:
    # pytest's fd capture swaps fd 2 around every test; a filter installed under it would
    # end up writing into a capture file. (ipykernel skips its fd watch there too.)
    return "_pytest" in sys.modules


class _Fd2Filter:
    """A pipe on fd 2 and a thread copying all but TensorFlow's log lines to the old fd 2."""

    def __init__(self) -> None:
        self.downstream = os.dup(2)
        read_end, write_end = os.pipe()
        self.read_end = read_end
        self.pipe_id = os.fstat(write_end)[1:3]  # (inode, device) of the pipe
        self.dropped = 0
        try:
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - a closed or odd stderr: nothing to flush
            pass
        os.dup2(write_end, 2)
        os.close(write_end)  # fd 2 is now the pipe's only write end here
        self.thread = threading.Thread(target=self._pump, name="musiclib-tf-log", daemon=True)
        self.thread.start()

    def _write(self, data: bytes) -> None:
        while data:
            try:
                n = os.write(self.downstream, data)
            except OSError:  # the original stderr is gone: nothing more to do
                return
            data = data[n:]

    def _emit(self, line: bytes) -> None:
        if is_noise(line):
            self.dropped += 1
        else:
            self._write(line)

    def _pump(self) -> None:
        buffer = b""
        try:
            while True:
                # a partial line (a prompt, a progress bar) is let through after 0.2 s
                ready, _, _ = select.select([self.read_end], [], [], 0.2 if buffer else None)
                if not ready:
                    self._write(buffer)
                    buffer = b""
                    continue
                chunk = os.read(self.read_end, 65536)
                if not chunk:
                    break
                buffer += chunk
                # "\0" ends a piece too: ipykernel writes one to wake its own reader at shutdown
                lines = re.split(rb"(?<=[\n\r\0])", buffer)
                buffer = lines.pop()
                for line in lines:
                    self._emit(line)
            if buffer:
                self._emit(buffer)
        except Exception:  # noqa: BLE001 - never let the filter swallow stderr
            self._write(buffer)
            self.restore()

    def installed(self) -> bool:
        try:
            return os.fstat(2)[1:3] == self.pipe_id
        except OSError:
            return False

    def restore(self, timeout: float = 0.5) -> None:
        """Put the original fd 2 back and let the thread pass on what is left in the pipe."""
        try:
            sys.stderr.flush()
        except Exception:  # noqa: BLE001
            pass
        if self.installed():
            os.dup2(self.downstream, 2)  # closes the pipe's write end: the thread sees EOF
        if threading.current_thread() is not self.thread:
            # child processes that still hold the pipe keep it open: do not wait for them
            self.thread.join(timeout)


def install_filter() -> bool:
    """Filter fd 2 (see the module's doc); True when a filter is in place afterwards."""
    global _filter
    with _lock:
        if _filter is not None and _filter.installed():
            return True
        if disabled() or _pytest_owns_fd2():
            return False
        try:
            _filter = _Fd2Filter()
        except OSError:  # no fd 2 (a daemon), too many open files: stay as we are
            return False
        atexit.register(_filter.restore)
        return True


def set_environment() -> None:
    """Set what TensorFlow reads at import; only where the user has not set it."""
    if not disabled():
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def quiet() -> None:
    """Make TensorFlow quiet in this process (idempotent; call before importing it)."""
    set_environment()
    install_filter()


def import_keras():
    """``import keras`` the quiet way: :func:`quiet` first. Returns the module."""
    quiet()
    import keras

    return keras


def dropped_lines() -> int:
    """How many TensorFlow log lines the filter has dropped so far in this process."""
    return _filter.dropped if _filter is not None else 0
