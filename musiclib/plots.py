"""Figures of the course, drawn with matplotlib, seaborn and ``librosa.display``.

Every plotting function takes an optional ``ax=`` (it draws on a new figure when left out)
and returns the matplotlib ``Axes`` it drew on, or the ``Figure`` for multi-panel plots, so
a notebook can add titles or save it. Nothing here calls ``plt.show()``: Jupyter shows a
figure at the end of the cell.

The two small helpers :func:`stft_db` and :func:`mel_db` compute the dB spectrograms the
figures show; the course's features proper live in ``musiclib.features``.

Taught in ``notebooks/00_setup_and_data.ipynb`` (dataset figures) and
``notebooks/01_audio_basics.ipynb`` (signals and spectrograms).
"""

from __future__ import annotations

import math

import librosa
import librosa.display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .errors import MusiclibError

__all__ = [
    "class_counts",
    "class_means_heatmap",
    "confusion_matrix",
    "class_distributions",
    "correlation_heatmap",
    "durations",
    "feature_curves",
    "feature_matrix",
    "feature_over_spectrogram",
    "image_grid",
    "importance_bars",
    "mel_db",
    "prediction_timeline",
    "projection",
    "results_bars",
    "selection_curve",
    "spectrogram",
    "spectrogram_grid",
    "spectrogram_row",
    "stft_db",
    "training_curves",
    "waveform",
]

_Y_AXES = ("log", "linear", "mel")


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3), layout="constrained")
    return ax


def _signal(y) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"expected a mono signal of shape (n_samples,), got shape {y.shape}")
    if y.size == 0:
        raise ValueError("the signal is empty")
    if not np.issubdtype(y.dtype, np.floating):
        y = y.astype(np.float32)
    return y


# --------------------------------------------------------------------------- signals


def waveform(y, *, sr: int, ax=None, title: str | None = None, max_points: int = 20000):
    """Plot a mono signal against time.

    Signals longer than ``max_points`` samples are drawn as their envelope: the minimum and
    maximum of each of ``max_points // 2`` equal bins, filled between. That looks the same
    as drawing every sample at screen resolution, and keeps plotting an hour of audio cheap.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        The signal, float (e.g. in [-1, 1]).
    sr : int
        Sample rate in Hz.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when left out.
    title : str, optional
    max_points : int
        Largest number of samples drawn as a line.

    Returns
    -------
    matplotlib.axes.Axes
        x axis in seconds (``0`` to ``n_samples / sr``), y axis the amplitude.

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    y = _signal(y)
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points}")
    ax = _axes(ax)
    n = y.size
    duration = n / sr
    if n <= max_points:
        ax.plot(np.arange(n) / sr, y, linewidth=0.8)
    else:
        n_bins = max_points // 2
        starts = np.linspace(0, n, n_bins, endpoint=False).astype(np.int64)
        # reduceat over bin starts: one pass, no copy of the signal.
        lo = np.minimum.reduceat(y, starts)
        hi = np.maximum.reduceat(y, starts)
        ends = np.append(starts[1:], n)
        t = (starts + ends) / (2 * sr)  # bin centres
        ax.fill_between(t, lo, hi, linewidth=0.5)
    ax.set_xlim(0, duration)
    ax.set_xlabel("Time (s)")
    ax.set_ylabel("Amplitude")
    if title:
        ax.set_title(title)
    return ax


def stft_db(y, *, n_fft: int = 2048, hop_length: int = 512) -> np.ndarray:
    """Magnitude spectrogram in dB relative to its loudest bin.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    n_fft, hop_length : int
        Window length and hop, in samples.

    Returns
    -------
    np.ndarray, float32, shape (1 + n_fft // 2, n_frames)
        ``librosa.amplitude_to_db(|STFT|, ref=np.max)``: 0 dB at the maximum, at most
        80 dB below it.

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    S = np.abs(librosa.stft(_signal(y), n_fft=n_fft, hop_length=hop_length))
    return librosa.amplitude_to_db(S, ref=np.max).astype(np.float32)


def mel_db(
    y, *, sr: int, n_fft: int = 2048, hop_length: int = 512, n_mels: int = 128
) -> np.ndarray:
    """Mel power spectrogram in dB relative to its loudest bin.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    sr : int
        Sample rate in Hz; the mel bands span 0 to ``sr / 2``.
    n_fft, hop_length : int
        Window length and hop, in samples.
    n_mels : int
        Number of mel bands.

    Returns
    -------
    np.ndarray, float32, shape (n_mels, n_frames)
        ``librosa.power_to_db(melspectrogram, ref=np.max)``.

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    M = librosa.feature.melspectrogram(
        y=_signal(y), sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels
    )
    return librosa.power_to_db(M, ref=np.max).astype(np.float32)


def _specshow(S_db, *, sr, hop_length, y_axis, ax):
    if y_axis not in _Y_AXES:
        raise ValueError(f"y_axis must be one of {', '.join(_Y_AXES)}, got {y_axis!r}")
    S_db = np.asarray(S_db)
    if S_db.ndim != 2:
        raise ValueError(f"expected a spectrogram of shape (n_bins, n_frames), got shape {S_db.shape}")
    return librosa.display.specshow(
        S_db, sr=sr, hop_length=hop_length, x_axis="time", y_axis=y_axis, ax=ax
    )


def spectrogram(
    S_db,
    *,
    sr: int,
    hop_length: int = 512,
    y_axis: str = "log",
    ax=None,
    title: str | None = None,
    colorbar: bool = True,
):
    """Show a spectrogram that is already in dB.

    Parameters
    ----------
    S_db : np.ndarray, shape (n_bins, n_frames)
        From :func:`stft_db` (``y_axis='log'`` or ``'linear'``) or :func:`mel_db`
        (``y_axis='mel'``).
    sr : int
        Sample rate in Hz of the signal it came from.
    hop_length : int
        Hop in samples, for the time axis.
    y_axis : {'log', 'linear', 'mel'}
        Frequency axis: log-scaled Hz, linear Hz, or mel bands (labelled in Hz).
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    colorbar : bool
        Add a colour bar labelled in dB.

    Returns
    -------
    matplotlib.axes.Axes
        x axis in seconds, y axis in Hz.

    Taught in ``notebooks/01_audio_basics.ipynb``.
    """
    ax = _axes(ax)
    img = _specshow(S_db, sr=sr, hop_length=hop_length, y_axis=y_axis, ax=ax)
    if colorbar:
        ax.figure.colorbar(img, ax=ax, format="%+2.0f dB")
    if title:
        ax.set_title(title)
    return ax


def spectrogram_row(
    spectrograms: dict,
    *,
    sr: int,
    hop_length: int = 512,
    y_axis: str = "linear",
    cmap: str = "magma",
    vmin: float | None = None,
    vmax: float | None = None,
    panel_width: float = 3.2,
    height: float = 3.0,
):
    """Spectrograms in dB side by side, to be compared: one colour map and one colour scale.

    Unlike calling :func:`spectrogram` per panel (where ``librosa.display`` picks each
    panel's colour map and range from its own values), every panel here shares ``cmap``,
    the same ``vmin``/``vmax`` (default: the lowest and highest value over all panels) and
    the frequency axis, with one colour bar in dB; only the left panel labels frequency
    and time ticks are thinned so that they do not overlap.

    Parameters
    ----------
    spectrograms : dict of str to np.ndarray, shape (n_bins, n_frames)
        Panel title -> spectrogram in dB (e.g. ``ml.vae.denormalise(s, stats).T``).
    sr, hop_length, y_axis
        As :func:`spectrogram`.
    cmap : str
        Matplotlib colour map of every panel.
    vmin, vmax : float, optional
        The colour scale in dB; default the range over all panels.
    panel_width, height : float
        Inches per panel and of the figure.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per panel plus the colour bar.

    Taught in ``notebooks/08_vae_generation.ipynb``.
    """
    from matplotlib.ticker import MaxNLocator

    if not spectrograms:
        raise MusiclibError("spectrogram_row needs at least one spectrogram")
    arrays = {title: np.asarray(s, dtype=float) for title, s in spectrograms.items()}
    low = min(float(np.min(s)) for s in arrays.values()) if vmin is None else float(vmin)
    high = max(float(np.max(s)) for s in arrays.values()) if vmax is None else float(vmax)
    fig, axes = plt.subplots(1, len(arrays), figsize=(panel_width * len(arrays) + 1.2, height),
                             layout="constrained", sharey=True, squeeze=False)
    img = None
    for k, (ax, (title, s)) in enumerate(zip(axes[0], arrays.items())):
        img = _specshow(s, sr=sr, hop_length=hop_length, y_axis=y_axis, ax=ax)
        img.set_cmap(cmap)
        img.set_clim(low, high)
        ax.set_title(title)
        ax.xaxis.set_major_locator(MaxNLocator(3))
        if k:
            ax.set_ylabel("")
    fig.colorbar(img, ax=list(axes[0]), format="%+2.0f dB", label="level (dB)")
    return fig


def spectrogram_grid(
    examples: dict[str, tuple[np.ndarray, int]], *, kind: str = "mel", ncols: int = 4
):
    """One spectrogram per label, side by side: what each style looks like.

    Parameters
    ----------
    examples : dict
        ``{label: (y, sr)}``, a mono signal of shape (n_samples,) and its rate in Hz.
    kind : {'mel', 'log', 'linear'}
        ``'mel'`` shows :func:`mel_db`; ``'log'`` and ``'linear'`` show :func:`stft_db`
        on a log or linear frequency axis.
    ncols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One titled panel per label (in the order of ``examples``), on one shared dB colour
        scale (-80 to 0 dB) with one colour bar; unused panels are hidden.

    Taught in ``notebooks/01_audio_basics.ipynb`` ("listen to each style").
    """
    if kind not in _Y_AXES:
        raise ValueError(f"kind must be one of {', '.join(_Y_AXES)}, got {kind!r}")
    if not examples:
        raise MusiclibError("no examples to show")
    n = len(examples)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows), squeeze=False,
        sharex=True, sharey=True, layout="constrained",
    )
    img = None
    for i, (ax, (label, (y, sr))) in enumerate(zip(axes.flat, examples.items())):
        S = mel_db(y, sr=sr) if kind == "mel" else stft_db(y)
        img = _specshow(S, sr=sr, hop_length=512, y_axis=kind, ax=ax)
        img.set_clim(-80, 0)  # one scale for all panels: every panel is dB below its own max
        ax.set_title(str(label))
        # Label only the outer edges; a panel above a hidden slot is a bottom edge too.
        # (sharex/sharey hide inner tick labels row/column-wise, so set both ways).
        bottom, left = i + ncols >= n, i % ncols == 0
        ax.tick_params(axis="x", labelbottom=bottom)
        ax.tick_params(axis="y", labelleft=left)
        if not bottom:
            ax.set_xlabel("")
        if not left:
            ax.set_ylabel("")
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    fig.colorbar(img, ax=axes, format="%+2.0f dB")
    return fig


# --------------------------------------------------------------------------- datasets


def class_counts(manifest: pd.DataFrame, *, label_col: str = "label", hue: str | None = None, ax=None):
    """Bar chart of the number of rows (recordings or clips) per label.

    Parameters
    ----------
    manifest : pandas.DataFrame
        With ``label_col`` (and ``hue`` when given).
    label_col : str
    hue : str, optional
        A column to split each bar by, e.g. ``'split'`` (bars in ``train, valid, test``
        order).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One bar per label (per label and hue value with ``hue``), labels sorted.

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    _require(manifest, label_col, *([hue] if hue else []))
    ax = _axes(ax)
    order = sorted(pd.unique(manifest[label_col]), key=str)
    hue_order = None
    if hue:
        from .splits import SPLITS

        values = list(pd.unique(manifest[hue].dropna()))
        hue_order = [s for s in SPLITS if s in values] + sorted(
            (v for v in values if v not in SPLITS), key=str
        )
    sns.countplot(data=manifest, x=label_col, hue=hue, order=order, hue_order=hue_order, ax=ax)
    ax.set_xlabel(label_col)
    ax.set_ylabel("Count")
    if len(order) > 6:
        ax.tick_params(axis="x", labelrotation=45)
    return ax


def durations(manifest: pd.DataFrame, *, ax=None, label_col: str = "label", bins: int = 30):
    """Histogram of ``duration_s``, stacked by label.

    Parameters
    ----------
    manifest : pandas.DataFrame
        With ``duration_s`` (seconds) and ``label_col``.
    ax : matplotlib.axes.Axes, optional
    label_col : str
    bins : int

    Returns
    -------
    matplotlib.axes.Axes
        x axis in seconds, y axis the number of rows.

    Taught in ``notebooks/00_setup_and_data.ipynb``.
    """
    _require(manifest, "duration_s", label_col)
    ax = _axes(ax)
    hue_order = sorted(pd.unique(manifest[label_col]), key=str)
    sns.histplot(
        data=manifest, x="duration_s", hue=label_col, hue_order=hue_order,
        multiple="stack", bins=bins, ax=ax,
    )
    ax.set_xlabel("Duration (s)")
    ax.set_ylabel("Count")
    return ax


def _require(frame: pd.DataFrame, *cols: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise MusiclibError(f"manifest has no column {missing[0]!r}")


# --------------------------------------------------------------------------- features


def feature_over_spectrogram(
    S_db,
    feature,
    *,
    sr: int,
    hop_length: int = 512,
    y_axis: str = "log",
    label: str = "feature",
    in_hz: bool = True,
    ax=None,
    title: str | None = None,
):
    """Draw frame features over time on top of their spectrogram.

    Parameters
    ----------
    S_db : np.ndarray, shape (n_bins, n_frames)
        The spectrogram in dB (e.g. :func:`stft_db`).
    feature : np.ndarray of shape (n_frames,) or (1, n_frames), or dict of name to such
        One value per frame, on the same hop; a dict draws several curves (e.g. centroid
        and rolloff), named in the legend.
    in_hz : bool
        True for features measured in Hz (centroid, bandwidth, rolloff): drawn on the
        frequency axis. False for others (ZCR, RMS, flatness): drawn on a second y axis
        at the right.
    label : str
        Legend text when ``feature`` is one array.

    Returns
    -------
    matplotlib.axes.Axes
        The spectrogram's axes.

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    ax = _axes(ax)
    _specshow(S_db, sr=sr, hop_length=hop_length, y_axis=y_axis, ax=ax)
    curves = feature if isinstance(feature, dict) else {label: feature}
    target = ax if in_hz else ax.twinx()
    colors = ["white", "cyan", "lime", "orange"]
    for k, (name, values) in enumerate(curves.items()):
        values = np.asarray(values, dtype=float).reshape(-1)
        if values.size != np.asarray(S_db).shape[1]:
            raise ValueError(
                f"{name} has {values.size} frames, the spectrogram {np.asarray(S_db).shape[1]}"
            )
        times = librosa.frames_to_time(np.arange(values.size), sr=sr, hop_length=hop_length)
        target.plot(times, values, color=colors[k % len(colors)], linewidth=1.5, label=name)
    if not in_hz:
        target.set_ylabel(", ".join(curves))
    target.legend(loc="upper right")
    if title:
        ax.set_title(title)
    return ax


def feature_curves(
    features_by_name: dict,
    names,
    *,
    sr: int,
    hop_length: int = 512,
):
    """Frame features over time, one panel per feature, one line per example.

    Parameters
    ----------
    features_by_name : dict of str to dict of str to np.ndarray
        Example name (e.g. a label) -> the dict ``musiclib.features.frame_features`` gives.
    names : list of str
        Features to draw, e.g. ``["zcr", "rms", "spectral_flatness"]``.

    Returns
    -------
    matplotlib.figure.Figure

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    names = list(names)
    fig, axes = plt.subplots(len(names), 1, figsize=(12, 2.3 * len(names)), layout="constrained",
                             sharex=True, squeeze=False)
    for name, ax in zip(names, axes[:, 0]):
        for example, feats in features_by_name.items():
            values = np.asarray(feats[name], dtype=float).reshape(-1)
            times = librosa.frames_to_time(np.arange(values.size), sr=sr, hop_length=hop_length)
            ax.plot(times, values, linewidth=1, label=example)
        ax.set_ylabel(name)
    axes[0, 0].legend(loc="upper right")
    axes[-1, 0].set_xlabel("time (s)")
    return fig


def class_distributions(
    table: pd.DataFrame,
    columns,
    *,
    label_col: str = "label",
    kind: str = "box",
    ncols: int = 4,
    standardize: bool = False,
):
    """One panel per feature column: its distribution in every class (box or violin plots).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per clip, e.g. ``FeatureSet.summaries``.
    columns : list of str
        Feature columns to show.
    kind : {'box', 'violin'}
    standardize : bool
        Show z-scores, so panels share one scale.

    Returns
    -------
    matplotlib.figure.Figure

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    columns = list(columns)
    _require(table, label_col, *columns)
    if kind not in ("box", "violin"):
        raise ValueError(f"kind must be 'box' or 'violin', got {kind!r}")
    nrows = math.ceil(len(columns) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4 * ncols, 3.2 * nrows), layout="constrained", squeeze=False
    )
    order = sorted(table[label_col].unique())
    draw = sns.boxplot if kind == "box" else sns.violinplot
    for ax, col in zip(axes.flat, columns):
        values = table[col]
        if standardize:
            values = (values - values.mean()) / (values.std() or 1.0)
        draw(x=values, y=table[label_col], order=order, ax=ax, orient="h", color="#7fa7c9")
        ax.set_title(col)
        ax.set_xlabel("z-score" if standardize else col)
        ax.set_ylabel("")
    for ax in list(axes.flat)[len(columns):]:
        ax.set_visible(False)
    return fig


def correlation_heatmap(table: pd.DataFrame, columns, *, ax=None, method: str = "pearson"):
    """Correlation between feature columns, as an annotated heatmap in [-1, 1].

    Strongly correlated features carry the same information: a model gains little from
    the second one.

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    columns = list(columns)
    _require(table, *columns)
    if ax is None:
        size = max(4.0, 0.45 * len(columns) + 2)
        _, ax = plt.subplots(figsize=(size + 1, size), layout="constrained")
    corr = table[columns].corr(method=method)
    sns.heatmap(
        corr, vmin=-1, vmax=1, cmap="RdBu_r", annot=len(columns) <= 14, fmt=".2f",
        square=True, ax=ax, cbar_kws={"label": f"{method} correlation"},
    )
    return ax


def projection(
    table: pd.DataFrame,
    columns,
    *,
    method: str = "pca",
    label_col: str = "label",
    seed: int = 0,
    ax=None,
    title: str | None = None,
):
    """Clip features projected to 2-D (PCA or t-SNE) and coloured by label.

    Features are standardised first, so no single large-valued feature dominates.
    Separate clusters mean the features alone can tell those classes apart.

    Parameters
    ----------
    method : {'pca', 'tsne'}
    seed : int
        t-SNE's random state.

    Returns
    -------
    matplotlib.axes.Axes

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from sklearn.preprocessing import StandardScaler

    columns = list(columns)
    _require(table, label_col, *columns)
    X = StandardScaler().fit_transform(table[columns].to_numpy(dtype=float))
    if method == "pca":
        pca = PCA(n_components=2, random_state=seed)
        xy = pca.fit_transform(X)
        names = [f"PC{k + 1} ({v:.0%} of variance)" for k, v in enumerate(pca.explained_variance_ratio_)]
    elif method == "tsne":
        perplexity = float(min(30.0, max(2.0, (len(X) - 1) / 3)))
        xy = TSNE(n_components=2, perplexity=perplexity, random_state=seed, init="pca").fit_transform(X)
        names = ["t-SNE 1", "t-SNE 2"]
    else:
        raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}")
    ax = ax or plt.subplots(figsize=(6.5, 5), layout="constrained")[1]
    sns.scatterplot(
        x=xy[:, 0], y=xy[:, 1], hue=table[label_col].to_numpy(),
        hue_order=sorted(table[label_col].unique()), ax=ax, s=28,
    )
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.legend(fontsize="small", bbox_to_anchor=(1.02, 1), loc="upper left")
    if title:
        ax.set_title(title)
    return ax


def feature_matrix(
    values,
    *,
    sr: int,
    hop_length: int = 512,
    y_axis: str | None = None,
    ax=None,
    title: str | None = None,
    colorbar: bool = True,
    cmap: str | None = None,
):
    """Show a frame-feature matrix over time: MFCC (``y_axis=None``: coefficient index) or
    chroma (``y_axis="chroma"``: pitch classes C to B).

    Parameters
    ----------
    values : np.ndarray, shape (n_rows, n_frames)

    Taught in ``notebooks/03_mfcc_chroma_mel.ipynb``.
    """
    ax = _axes(ax)
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"expected shape (n_rows, n_frames), got {values.shape}")
    img = librosa.display.specshow(
        values, sr=sr, hop_length=hop_length, x_axis="time", y_axis=y_axis, ax=ax, cmap=cmap
    )
    if y_axis is None:
        ax.set_ylabel("coefficient")
    if colorbar:
        ax.figure.colorbar(img, ax=ax)
    if title:
        ax.set_title(title)
    return ax


def class_means_heatmap(
    table: pd.DataFrame,
    columns,
    *,
    label_col: str = "label",
    standardize: bool = True,
    ax=None,
    title: str | None = None,
    xticklabels=None,
):
    """Mean of each feature column per class, as a heatmap (classes down, features across).

    With ``standardize``, each column is z-scored over all clips first, so one colour
    scale fits features of any unit: red is above the average clip, blue below.

    Taught in ``notebooks/03_mfcc_chroma_mel.ipynb``.
    """
    columns = list(columns)
    _require(table, label_col, *columns)
    values = table[columns].astype(float)
    if standardize:
        values = (values - values.mean()) / values.std().replace(0, 1.0)
    means = values.groupby(table[label_col]).mean()
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6, 0.45 * len(columns) + 3), 0.45 * len(means) + 1.5),
                             layout="constrained")
    sns.heatmap(
        means, cmap="RdBu_r", center=0 if standardize else None, ax=ax,
        xticklabels=xticklabels if xticklabels is not None else columns,
        cbar_kws={"label": "z-score" if standardize else "mean"},
    )
    ax.set_ylabel("")
    if title:
        ax.set_title(title)
    return ax


def importance_bars(importance: pd.DataFrame, *, top: int = 20, ax=None, title: str | None = None):
    """Permutation importances (``musiclib.baselines.permutation_importance_table``) as bars
    with their standard deviation, most important at the top.

    Taught in ``notebooks/03_mfcc_chroma_mel.ipynb``.
    """
    _require(importance, "feature", "importance_mean", "importance_std")
    part = importance.head(top).iloc[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.3 * len(part) + 1.2), layout="constrained")
    ax.barh(part["feature"], part["importance_mean"], xerr=part["importance_std"], color="#7fa7c9")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("drop in held-out accuracy when shuffled")
    if title:
        ax.set_title(title)
    return ax


def selection_curve(selection: pd.DataFrame, *, ax=None, title: str | None = None):
    """Forward selection (``musiclib.baselines.forward_selection``): cross-validated accuracy
    after each added feature group, the smallest sufficient set marked.

    Taught in ``notebooks/03_mfcc_chroma_mel.ipynb``.
    """
    _require(selection, "step", "added", "cv_accuracy_mean", "cv_accuracy_std", "sufficient")
    ax = _axes(ax)
    ax.errorbar(selection["step"], selection["cv_accuracy_mean"], yerr=selection["cv_accuracy_std"],
                marker="o", capsize=3)
    first = selection[selection["sufficient"]].iloc[0]
    ax.scatter([first["step"]], [first["cv_accuracy_mean"]], s=160, facecolors="none",
               edgecolors="red", linewidths=2, zorder=3, label="smallest sufficient set")
    ax.set_xticks(selection["step"], ["+ " + a for a in selection["added"]], rotation=45, ha="right")
    ax.set_ylabel("cross-validated accuracy")
    ax.legend(loc="lower right")
    if title:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- training and results


def training_curves(history: dict, *, metrics=("loss", "accuracy"), title: str | None = None):
    """Two metrics per epoch (loss and accuracy by default), training and validation.

    Parameters
    ----------
    history : dict
        ``FitResult.history`` (Keras' ``History.history``): metric name -> list per epoch.
    metrics : pair of str
        E.g. ``("reconstruction", "kl")`` for the VAE of notebook 08.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels; the epoch with the lowest validation loss (the weights kept by early
        stopping) is marked.

    Taught in ``notebooks/05_mfcc_networks.ipynb``.
    """
    if "loss" not in history:
        raise MusiclibError("history has no 'loss': pass FitResult.history")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.5), layout="constrained")
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, metric in zip(axes, metrics):
        if metric not in history:
            ax.set_visible(False)
            continue
        ax.plot(epochs, history[metric], label="train")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], label="valid")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
    if "val_loss" in history:
        best = int(np.argmin(history["val_loss"])) + 1
        for ax in axes:
            ax.axvline(best, color="grey", linestyle=":", label=f"best epoch ({best})")
    axes[0].legend()
    if title:
        fig.suptitle(title)
    return fig


def confusion_matrix(y_true, y_pred, labels, *, normalize: bool = True, ax=None, title: str | None = None):
    """Confusion matrix (``sklearn.metrics.confusion_matrix``): rows true, columns predicted.

    With ``normalize``, each row sums to 1 (recall per class on the diagonal), so rare and
    common classes read alike.

    Taught in ``notebooks/05_mfcc_networks.ipynb``.
    """
    from sklearn.metrics import confusion_matrix as sk_confusion

    labels = list(labels)
    cm = sk_confusion(y_true, y_pred, labels=list(range(len(labels))))
    if normalize:
        cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    if ax is None:
        size = 0.5 * len(labels) + 2.5
        _, ax = plt.subplots(figsize=(size + 1, size), layout="constrained")
    sns.heatmap(cm, annot=len(labels) <= 12, fmt=".2f" if normalize else "d", cmap="Blues",
                vmin=0, vmax=1 if normalize else None, xticklabels=labels, yticklabels=labels,
                square=True, ax=ax, cbar=False)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    return ax


def _interval_columns(results: pd.DataFrame, metric: str) -> tuple[str, str] | None:
    """The columns of ``metric``'s 95% interval, if ``results`` has them.

    ``test_accuracy_recording`` (a run's row) and ``test_accuracy_recording_mean`` (a row of
    ``ml.experiments.folds_table``) both have theirs in ``test_accuracy_recording_ci_low`` /
    ``_ci_high``.
    """
    base = metric.removesuffix("_mean")
    low, high = f"{base}_ci_low", f"{base}_ci_high"
    return (low, high) if low in results and high in results else None


def results_bars(results: pd.DataFrame, *, x: str = "experiment",
                 metrics=("test_accuracy_segment", "test_accuracy_recording"), ax=None,
                 reported: str | None = "reported_accuracy", title: str | None = None,
                 intervals: bool = True, baselines=None):
    """Grouped bars of accuracies per experiment, with their 95% intervals as error bars and the
    sources' reported number as a marker.

    Parameters
    ----------
    results : pandas.DataFrame
        One row per experiment: ``ml.experiments.summary`` (one split: ``test_accuracy_*``)
        or ``ml.experiments.folds_table`` (K folds: ``test_accuracy_*_mean``).
    metrics : sequence of str
        The bars of each experiment.
    intervals : bool
        Draw an error bar over every bar whose metric has ``<metric>_ci_low`` / ``_ci_high``
        columns (for ``*_mean`` metrics, the interval of the same name without ``_mean``).
    baselines : iterable of str, optional
        Experiments whose tick label says ``(baseline)``; default: the scikit-learn
        baselines of ``ml.experiments`` (``logreg_clip``, ``forest_clip``).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.containers`` holds one bar container per metric (then the error bars).

    Taught in ``notebooks/05_mfcc_networks.ipynb``, ``06_mel_cnn_augmentation`` and ``07_results``.
    """
    metrics = list(metrics)
    _require(results, x, *metrics)
    results = results.reset_index(drop=True)
    long = results.melt(id_vars=[x], value_vars=metrics, var_name="metric", value_name="accuracy")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6, 1.3 * len(results) + 2), 4), layout="constrained")
    sns.barplot(data=long, x=x, y="accuracy", hue="metric", ax=ax, errorbar=None)
    bars = list(ax.containers)[:len(metrics)]
    drew_interval = False
    if intervals:
        for metric, container in zip(metrics, bars):
            columns = _interval_columns(results, metric)
            if columns is None:
                continue
            centres = np.array([p.get_x() + p.get_width() / 2 for p in container.patches])
            values = results[metric].to_numpy(dtype=float)
            low = results[columns[0]].to_numpy(dtype=float)
            high = results[columns[1]].to_numpy(dtype=float)
            known = np.isfinite(values) & np.isfinite(low) & np.isfinite(high)
            if not known.any():
                continue
            errors = np.vstack([values - low, high - values])[:, known].clip(min=0)
            ax.errorbar(centres[known], values[known], yerr=errors, fmt="none", ecolor="black", capsize=3,
                        linewidth=1, label=None if drew_interval else "95% interval")
            drew_interval = True
    if reported and reported in results and results[reported].notna().any():
        ax.scatter(range(len(results)), results[reported], marker="D", color="black", zorder=3,
                   label="reported by the source (other data, leaky split)")
    if baselines is None:
        from .experiments import EXPERIMENTS

        baselines = [n for n, e in EXPERIMENTS.items() if e.is_baseline]
    baselines = set(baselines)
    names = results[x].astype(str).tolist()
    if baselines & set(names):
        ax.set_xticks(range(len(names)), [f"{n}\n(baseline)" if n in baselines else n for n in names])
    ax.set_ylim(0, 1)
    ax.tick_params(axis="x", rotation=30)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    if title:
        ax.set_title(title)
    return ax


def image_grid(images, titles=None, *, ncols: int = 4, size: float = 3.0):
    """Show pictures (``(n, height, width, channels)`` uint8 or floats in [0, 1]) in a grid.

    Taught in ``notebooks/06_mel_cnn_augmentation.ipynb``.
    """
    images = np.asarray(images)
    n = len(images)
    if n == 0:
        raise ValueError("no images to show")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), layout="constrained",
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k < n:
            ax.imshow(images[k])
            if titles is not None:
                ax.set_title(titles[k], fontsize="small")
    return fig


def prediction_timeline(timeline: pd.DataFrame, labels, *, ax=None, title: str | None = None):
    """Class probabilities of every segment of a recording over time, as a heatmap.

    Parameters
    ----------
    timeline : pandas.DataFrame
        ``Prediction.timeline``: ``start_s``, ``end_s`` and one probability column per label.
    labels : list of str
        The model's labels (rows of the heatmap).

    Taught in ``notebooks/09_predict_your_music.ipynb``.
    """
    labels = list(labels)
    _require(timeline, "start_s", "end_s", *labels)
    values = timeline[labels].to_numpy(dtype=float).T  # (labels, segments)
    edges = np.append(timeline["start_s"].to_numpy(dtype=float), float(timeline["end_s"].iloc[-1]))
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.35 * len(labels) + 1.5), layout="constrained")
    mesh = ax.pcolormesh(edges, np.arange(len(labels) + 1), values, cmap="Blues", vmin=0, vmax=1)
    ax.set_yticks(np.arange(len(labels)) + 0.5, labels)
    ax.set_xlabel("time (s)")
    ax.figure.colorbar(mesh, ax=ax, label="probability")
    if title:
        ax.set_title(title)
    return ax
