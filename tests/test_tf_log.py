"""A quiet TensorFlow: its C++ log lines are dropped from fd 2, everything else passes.

The filter is tested in subprocesses: pytest owns fd 2 in its own process (its capture swaps
it around every test), so musiclib never installs the filter there.
"""

from __future__ import annotations

import os
import subprocess
import sys


import musiclib as ml
from musiclib.tf_log import has_nvidia_gpu, is_noise, is_tf_log_line

# lines TensorFlow 2.21 wrote on this course's CPU machines (import, first fit, tf.data)
TF_LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795995767.365855   18289 cudart_stub.cc:31] Could not find cuda drivers on your "
    "machine, GPU will not be used.",
    "I0000 00:00:1795995768.425740   18289 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with "
    "the appropriate compiler flags.",
    "E0000 00:00:1795995785.647376   18289 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
    "E1129 23:41:07.123456   18301 node_def_util.cc:680] NodeDef mentions attribute "
    "use_unbounded_threadpool which is not in the op definition",
    "W1129 23:41:07.5   18301 meta_optimizer.cc:966] remapper failed: INVALID_ARGUMENT: ...",
]
if has_nvidia_gpu():  # with a GPU, a failing cuInit is a real problem: it is kept
    TF_LINES = [line for line in TF_LINES if "cuInit" not in line]
# TensorFlow's own format, but errors that matter: never dropped
KEPT_TF_LINES = [
    "F0000 00:00:1795995785.647376   18289 tensor_shape.cc:401] Check failed: d >= 0 (-1 vs. 0)",
    "E1129 23:41:07.123456   18301 bfc_allocator.cc:485] Allocator ran out of memory",
]
OTHER_LINES = [
    "Traceback (most recent call last):",
    "ValueError: I0000 is not a number",
    "UserWarning: n_fft=2048 is too large for input signal of length=1000",
    "E: something else",
    "To enable the following instructions, read the manual.",
]


def _tf_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if is_tf_log_line(line)]


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTEST_CURRENT_TEST")}
    return {**env, **extra}


def test_the_pattern_knows_tensorflow_lines_from_others():
    assert all(is_tf_log_line(line) and is_noise(line) for line in TF_LINES)
    assert all(is_tf_log_line(line) and not is_noise(line) for line in KEPT_TF_LINES)
    assert not any(is_tf_log_line(line) or is_noise(line) for line in OTHER_LINES)


def test_the_filter_drops_tf_lines_and_passes_everything_else():
    tf = "".join(line + "\n" for line in TF_LINES)
    kept = "".join(line + "\n" for line in KEPT_TF_LINES)
    code = f"""
import os, sys
from musiclib import tf_log
assert tf_log.install_filter()
os.write(2, {tf!r}.encode())
os.write(2, b"an ordinary line\\n")
os.write(2, {kept!r}.encode())
print("a Python warning", file=sys.stderr)
os.write(2, {tf!r}.encode() + b"mixed in one write\\n")
os.write(2, b"a prompt without newline: ")
sys.stdout.write("stdout untouched\\n")
raise SystemExit("an error at exit stays visible")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=60)
    assert done.returncode == 1
    assert done.stdout == "stdout untouched\n"
    assert done.stderr == ("an ordinary line\n" + kept + "a Python warning\nmixed in one write\n"
                           "a prompt without newline: an error at exit stays visible\n")


def test_musiclib_tf_log_all_shows_every_line():
    code = ("import os\nfrom musiclib import tf_log\nassert not tf_log.install_filter()\n"
            f"os.write(2, {TF_LINES[1]!r}.encode() + b'\\n')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(MUSICLIB_TF_LOG="all"), timeout=60)
    assert done.returncode == 0 and TF_LINES[1] in done.stderr


def test_not_installed_under_pytest_and_import_musiclib_stays_tf_free():
    assert not ml.tf_log.install_filter()  # pytest's capture owns fd 2 here
    code = "import sys, musiclib\nprint('tensorflow' in sys.modules, musiclib.tf_log._filter)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=60)
    assert done.stdout.split() == ["False", "None"]  # outside a kernel: nothing until Keras loads


def test_cli_train_prints_no_tf_line():
    """``musiclib train`` imports Keras through musiclib and trains (tiny: 3 epochs) in a
    process of its own, as a user runs it: no TensorFlow line on its stdout or stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "musiclib", "train", "synthetic", "--experiment", "dense_spectral",
         "--profile", "tiny", "--jobs", "1"],
        capture_output=True, text=True, env=_env(), timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert _tf_lines(done.stdout + done.stderr) == [], done.stderr[-2000:]
    assert "test accuracy" in done.stdout
