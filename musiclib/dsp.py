"""Small signal helpers shared by the synthesisers (:mod:`musiclib.synth`, :mod:`musiclib.instruments`).

Plain functions over numpy arrays: pitch conversion, band-limited wavetables and their
interpolated read-out, gate / attack ramps, a synthetic room impulse response and a
vectorised Karplus-Strong string. Nothing here draws random numbers except from the
``numpy.random.Generator`` it is given, so callers stay deterministic.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

__all__ = ["midi_hz", "release_ramp", "attack_ramp", "wavetable", "wavetable_lookup",
           "reverb_ir", "karplus_strong"]


def midi_hz(m):
    """Frequency in Hz of MIDI pitch ``m`` (69 = A4 = 440 Hz); any shape, float64."""
    return 440.0 * 2.0 ** ((np.asarray(m, dtype=float) - 69.0) / 12.0)


def release_ramp(n_gate: int, n_total: int, n_rel: int) -> np.ndarray:
    """Gate envelope, shape (n_total,): 1 until sample ``n_gate``, then a linear fade to 0 over ``n_rel`` samples."""
    t = np.arange(n_total, dtype=float)
    return np.clip((n_gate + n_rel - t) / max(n_rel, 1), 0.0, 1.0)


def attack_ramp(n_total: int, n_att: int) -> np.ndarray:
    """Attack envelope, shape (n_total,): a linear rise from 0 to 1 over ``n_att`` samples, then 1."""
    return np.minimum(np.arange(n_total, dtype=float) / max(n_att, 1), 1.0)


def wavetable(amps: np.ndarray, size: int = 2048) -> np.ndarray:
    """One period of a sum of sine harmonics, plus a guard sample.

    Parameters
    ----------
    amps : array_like, shape (n_harmonics,)
        Amplitude of harmonic h at ``amps[h - 1]``; at most ``size // 2`` harmonics.
    size : int
        Samples per period.

    Returns
    -------
    np.ndarray, float64, shape (size + 1,)
        ``sum_h amps[h-1] * sin(2 pi h k / size)`` for k = 0 .. size (the last sample repeats
        the first, so :func:`wavetable_lookup` can interpolate without wrapping).
    """
    spec = np.zeros(size // 2 + 1, dtype=complex)
    spec[1:len(amps) + 1] = -1j * np.asarray(amps) * size / 2  # sine phase
    table = np.fft.irfft(spec, n=size)
    return np.append(table, table[0])


def wavetable_lookup(table: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """Linear-interpolated read of a :func:`wavetable`.

    Parameters
    ----------
    table : np.ndarray, shape (size + 1,)
        One period plus the guard sample.
    phase : np.ndarray, any shape
        Phase in cycles (any real value; only its fractional part matters).

    Returns
    -------
    np.ndarray, float64, the shape of ``phase``
    """
    size = len(table) - 1
    idx = (phase % 1.0) * size
    i0 = idx.astype(np.int64)
    frac = idx - i0
    return table[i0] * (1.0 - frac) + table[i0 + 1] * frac


def reverb_ir(rt60: float, sr: int, rng) -> np.ndarray:
    """Synthetic room impulse response: decaying noise, -60 dB at ``rt60``, darker as it decays.

    Parameters
    ----------
    rt60 : float
        Reverberation time in seconds (the response is cut at 3 s).
    sr : int
        Sample rate in Hz.
    rng : numpy.random.Generator

    Returns
    -------
    np.ndarray, float64, shape (int(min(rt60, 3) * sr),)
        Unit energy (sum of squares 1).
    """
    n = int(min(rt60, 3.0) * sr)
    t = np.arange(n) / sr
    ir = rng.standard_normal(n) * np.exp(-6.91 * t / rt60)
    ir = scipy.signal.lfilter([0.4], [1.0, -0.6], ir)  # absorption of highs
    ir[: int(0.005 * sr)] *= np.linspace(0, 1, int(0.005 * sr))
    return ir / np.sqrt(np.sum(ir ** 2))


def karplus_strong(f0, n_gate, n_total, vel, sr, rng, v):
    """Karplus-Strong plucked string, solved period by period in the frequency domain.

    The KS recurrence ``y[n] = rho * avg(y[n-L], y[n-L-1])`` multiplies each harmonic of the
    string's period by the loss filter's gain once per period. With the period as a circular
    block of L samples, period k is ``irfft(X * H**k)``: one vectorised (K, L) array instead of
    a per-sample loop. L is rounded down and the result is stretched to the exact pitch.

    Parameters
    ----------
    f0 : float
        Pitch in Hz.
    n_gate, n_total : int
        Samples until the key is released, and samples to render (gate plus a 60 ms damping).
    vel : float
        Velocity 0..1 (level, and brightness of the pick).
    sr : int
        Sample rate in Hz.
    rng : numpy.random.Generator
        Draws the excitation burst.
    v : dict
        ``pluck_pos`` (fraction of the string, 0.05..0.3), ``dark`` (pick darkness, ~0..1.5),
        ``loss`` (loss-filter weight, 0.3..0.5; higher = duller), ``decay`` (T60 scale in s
        at 220 Hz; shorter up high).

    Returns
    -------
    np.ndarray, float64, shape (n_total,)
    """
    period = sr / f0
    L = max(int(period), 4)
    ratio = period / L  # >= 1
    n_raw = int(np.ceil(n_total / ratio)) + 2
    K = n_raw // L + 1
    burst = rng.uniform(-1.0, 1.0, L)
    # the pluck position acts as a comb on the excitation; velocity sets brightness
    p = max(1, int(L * v["pluck_pos"]))
    burst = burst - np.roll(burst, p)
    X = np.fft.rfft(burst)
    X[0] = 0.0
    w = 2.0 * np.pi * np.arange(len(X)) / L
    X *= np.exp(-w * (1.0 - 0.5 * vel) * v["dark"])  # softer picking, darker tone
    s = v["loss"]
    loss = np.sqrt((1 - s) ** 2 + s ** 2 + 2 * s * (1 - s) * np.cos(w))
    rho = 10.0 ** (-3.0 / (f0 * v["decay"] * (220.0 / f0) ** 0.3))  # T60 shorter up high
    logh = np.log(np.maximum(rho * loss, 1e-12))
    Y = X[None, :] * np.exp(np.arange(K)[:, None] * logh[None, :])
    y = np.fft.irfft(Y, n=L, axis=1).reshape(-1)[:n_raw]
    if ratio > 1.0:
        y = np.interp(np.arange(n_total) / ratio, np.arange(n_raw), y)
    else:
        y = y[:n_total]
    y = y / (np.sqrt(np.mean(burst ** 2)) + 1e-9) * 0.5
    return y * release_ramp(n_gate, n_total, int(0.06 * sr)) * vel
