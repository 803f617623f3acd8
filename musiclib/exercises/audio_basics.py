"""Checks for the exercises of notebook 01 · Audio basics."""

from __future__ import annotations

import numpy as np

from .feedback import Feedback, as_number, compare_number, registers, right, tell, verdict, wrong

__all__ = ["check_clip_duration", "check_stft_resolution", "check_strongest_frequencies"]


@registers("01.1", "duration from samples and sample rate")
def check_clip_duration(duration_s, y: np.ndarray, sr: int, *, quiet: bool = False) -> Feedback:
    """``duration_s``: the length of signal ``y`` (samples at ``sr`` Hz) in seconds."""
    return compare_number(
        "01.1", duration_s, y.shape[0] / sr, what="duration_s", unit="s", rtol=1e-6,
        hint="divide the number of samples (y.shape[0]) by the samples per second.", quiet=quiet)


@registers("01.2", "frequency and time resolution of an STFT")
def check_stft_resolution(hz_per_bin, ms_per_frame, *, sr: int, n_fft: int, hop_length: int,
                          quiet: bool = False) -> Feedback:
    """``hz_per_bin``: Hz between two STFT bins; ``ms_per_frame``: ms between two frame starts."""
    freq = compare_number("01.2", hz_per_bin, sr / n_fft, what="hz_per_bin", unit="Hz", quiet=True,
                          hint=f"the {n_fft // 2 + 1} bins span 0 Hz to sr/2, so they are sr / n_fft apart.")
    time = compare_number("01.2", ms_per_frame, 1000 * hop_length / sr, what="ms_per_frame", unit="ms",
                          quiet=True, hint="frames start hop_length samples apart; convert samples to ms.")
    return verdict("01.2", [freq, time], f"{freq.message[:-1]} and {time.message[:-1]}: finer pitch detail, "
                   "coarser timing than n_fft=2048, hop_length=512.", quiet=quiet)


@registers("01.3", "strongest frequency after resampling a 440 Hz tone")
def check_strongest_frequencies(at_8000, at_800, *, quiet: bool = False) -> Feedback:
    """``at_8000``, ``at_800``: the strongest frequency (Hz) of the 440 Hz tone resampled to each rate."""
    first = compare_number("01.3", at_8000, 440.0, what="the strongest frequency at 8000 Hz", unit="Hz",
                           atol=2.0, rtol=0, quiet=True,
                           hint="take np.argmax of np.abs(np.fft.rfft(z)) and multiply by rate / z.size.")
    if not first.right:
        return tell(first, quiet=quiet)
    low = as_number(at_800)
    if low is None or not 0 <= low <= 400:
        return wrong("01.3", f"at 800 Hz you found {at_800!r}, but nothing above 400 Hz (the Nyquist frequency "
                     "of 800 Hz) can exist there; compute it from the resampled signal and its own rate.",
                     quiet=quiet)
    return right("01.3", f"440 Hz survives at 8000 Hz; at 800 Hz the strongest is {float(at_800):.0f} Hz "
                 "because 440 Hz lies above the Nyquist frequency (400 Hz) and the anti-aliasing "
                 "filter removed it: what is left is filter residue.", quiet=quiet)
