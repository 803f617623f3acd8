"""How good is a trained VAE: reconstruction error, style agreement, Frechet distance of MFCCs.

:func:`evaluate` measures held-out reconstruction error against two references (an
untrained model of the same architecture and the training set's mean spectrogram);
:func:`style_agreement` asks a course classifier whether generated clips sound like the
style they were generated for; :func:`feature_distance` is the Frechet distance
(:func:`frechet_distance`) between MFCC summaries (:func:`mfcc_summaries`) of generated and
real clips, computed from the spectrograms themselves.

Taught in ``notebooks/08_vae_generation.ipynb``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import MusiclibError
from .data import VAEData, normalise
from .generate import reconstruct, sample, to_audio, to_magnitude
from .io import LoadedVAE, _parts
from .model import _model, build_vae


def _held_out(data: VAEData) -> str:
    """The default evaluation side: ``test``, or ``valid`` when the test side is empty."""
    for side in ("test", "valid"):
        if len(data.x[side]):
            return side
    raise MusiclibError("no held-out segments (test and valid sides are empty)")


def evaluate(vae, data: VAEData, *, seed: int = 0, side: str | None = None) -> pd.DataFrame:
    """Held-out reconstruction error of the trained VAE and two references.

    Rows: ``trained`` (decode the posterior mean), ``untrained`` (the same architecture
    with the initial weights ``seed`` gives, which :func:`train_vae` with that seed started
    from), ``mean_spectrogram`` (the training side's mean normalised spectrogram for every
    segment). Columns: ``mse`` (normalised [0, 1] space), ``rmse_db`` and ``mae_db`` (after
    denormalising), ``n_segments``, ``side``.

    Parameters
    ----------
    vae : VAEResult, LoadedVAE, str or os.PathLike
        The trained VAE, or its folder.
    data : VAEData
        From :func:`~musiclib.vae.prepare`, normalised with the same statistics.
    seed : int
        Seed of the untrained reference (:func:`musiclib.train.set_seed`, then
        :func:`~musiclib.vae.build_vae`); the training seed gives the model training began from.
    side : str, optional
        ``"test"``, ``"valid"`` or ``"train"``; default ``test`` (``valid`` if test is empty).

    Returns
    -------
    pandas.DataFrame
        Three rows (``model``: ``trained``, ``untrained``, ``mean_spectrogram``) with
        ``side``, ``n_segments``, ``mse`` (mean squared error per cell in [0, 1] units),
        ``rmse_db`` and ``mae_db`` (the same errors in dB: times ``max - min`` of the stats).

    Raises
    ------
    MusiclibError
        Both held-out sides are empty (and no ``side`` was given).
    """
    from ..train import set_seed

    vae = _parts(vae)
    side = side or _held_out(data)
    x, y = data.x[side], data.y[side]
    model = _model(vae)
    set_seed(seed)
    untrained = build_vae(vae.config, model.n_labels or 0, seed=seed)
    if bool(model.n_labels) != bool(untrained.n_labels):  # config.conditional off but model conditional
        untrained = build_vae(vae.config.replace(conditional=True), model.n_labels, seed=seed)
    mean = np.broadcast_to(data.x["train"].mean(axis=0), x.shape)
    scale = float(vae.stats["max"]) - float(vae.stats["min"])
    rows = []
    for name, pred in (("trained", reconstruct(vae, x, y)),
                       ("untrained", reconstruct(LoadedVAE(untrained, vae.config, vae.stats, vae.labels), x, y)),
                       ("mean_spectrogram", mean)):
        err = pred.astype(np.float64) - x
        rows.append({"model": name, "side": side, "n_segments": int(len(x)), "mse": float(np.mean(err**2)),
                     "rmse_db": float(np.sqrt(np.mean(err**2)) * scale), "mae_db": float(np.mean(np.abs(err)) * scale)})
    return pd.DataFrame(rows)


HELD_OUT = ("valid", "test")  # the real clips generation is judged against: recordings no model trained on


def _classify_signals(bundle, signals: list[np.ndarray], sr: int) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` of a classifier bundle for in-memory signals.

    Each signal goes through :func:`musiclib.predict.predict_signal` (the features
    ``predict_file`` computes), one mean probability per signal in the bundle's label order.
    Signals must be at least one classifier segment long: nothing is tiled or padded
    (:func:`~musiclib.vae.generate_clips` and :func:`real_clips` make them so).
    """
    from ..predict import predict_signal

    need = int(round(bundle.segment_seconds * sr))
    out = []
    for y in signals:
        y = np.asarray(y, dtype=np.float32)
        if len(y) < need:
            raise MusiclibError(f"a clip of {len(y) / sr:.2f} s is shorter than the classifier's segment "
                                f"({bundle.segment_seconds:g} s): generate longer clips")
        prediction = predict_signal(bundle, y, sr, name="generated")
        out.append([prediction.probabilities[label] for label in bundle.labels])
    return np.array(out, dtype=np.float64)


def _agreement_rows(bundle, labels: list, proba: np.ndarray, wanted: np.ndarray) -> pd.DataFrame:
    """One row per label of ``labels``: ``n``, ``agreement``, ``mean_probability``, ``most_predicted``."""
    predicted = np.array([bundle.labels[j] for j in proba.argmax(axis=1)]) if len(proba) else np.array([])
    rows = []
    for i, label in enumerate(labels):
        mine = np.flatnonzero(wanted == i)
        known = label in bundle.labels
        rows.append({
            "label": label, "n": int(len(mine)),
            "agreement": float(np.mean(predicted[mine] == label)) if known and len(mine) else np.nan,
            "mean_probability": (float(proba[mine, bundle.labels.index(label)].mean())
                                 if known and len(mine) else np.nan),
            "most_predicted": pd.Series(predicted[mine]).mode().iloc[0] if len(mine) else "",
        })
    return pd.DataFrame(rows)


def _with_total(table: pd.DataFrame) -> pd.DataFrame:
    total = {"label": "(all)", "n": int(table["n"].sum()), "agreement": float(table["agreement"].mean()),
             "mean_probability": float(table["mean_probability"].mean()), "most_predicted": ""}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def real_clips(data: VAEData, seconds: float, *, sides=HELD_OUT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Consecutive real segments, ``k`` at a time, for clips of ``seconds`` seconds.

    Every recording of ``sides`` is cut into non-overlapping runs of
    ``k = segments_for(config, seconds)`` consecutive segments (a shorter remainder is
    dropped): the real counterpart of :func:`~musiclib.vae.generate_clips`.

    Parameters
    ----------
    data : VAEData
    seconds : float
        Length of each clip in seconds.
    sides : sequence of str
        Default the held-out sides ``("valid", "test")``.

    Returns
    -------
    spectrograms : np.ndarray, float32 (m * k, frames, bins)
        Normalised; rows ``i * k`` to ``i * k + k - 1`` make clip ``i`` (for
        :func:`~musiclib.vae.to_clips`).
    labels : np.ndarray, int32 (m,)
        Label index of each clip.
    groups : np.ndarray (m,)
        Recording of each clip.
    """
    from .generate import segments_for

    k = segments_for(data.config, seconds)
    specs, labels, groups = [], [], []
    for side in sides:
        meta = data.meta[side]
        if not len(meta):
            continue
        order = meta.sort_values(["track_id", "segment"]).index.to_numpy()
        for _, rows in meta.loc[order].groupby("track_id", sort=True).groups.items():
            rows = np.asarray(list(rows))
            for i in range(len(rows) // k):
                run = rows[i * k:(i + 1) * k]
                specs.append(data.x[side][run])
                labels.append(int(data.y[side][run[0]]))
                groups.append(meta.loc[run[0], "group"])
    if not specs:
        return (np.zeros((0, data.config.frames, data.config.bins), np.float32), np.zeros(0, np.int32),
                np.array([], dtype=object))
    return np.concatenate(specs), np.array(labels, np.int32), np.array(groups, dtype=object)


def vocoder_ceiling(vae, data: VAEData, classifier_bundle, *, sides=HELD_OUT, seed: int = 0) -> pd.DataFrame:
    """What Griffin-Lim leaves recognisable: real held-out clips through the same inversion.

    Real held-out clips of the classifier's segment length (:func:`real_clips`) go through
    exactly the path a generated clip takes after the decoder — the normalised, cropped
    spectrogram, :func:`~musiclib.vae.to_clips` (Griffin-Lim) — and are classified like
    generated ones. Generated clips can hardly be recognised more often than these: the
    **ceiling** to judge :func:`style_agreement` against.

    Parameters
    ----------
    vae : VAEResult, LoadedVAE, str or os.PathLike
    data : VAEData
        Normalised with the VAE's statistics.
    classifier_bundle : musiclib.predict.Bundle, str or os.PathLike
    sides : sequence of str
        The real recordings (default valid and test: neither model trained on them).
    seed : int
        Griffin-Lim's initial phase.

    Returns
    -------
    pandas.DataFrame
        As :func:`style_agreement`: ``label``, ``n`` (clips), ``agreement``,
        ``mean_probability``, ``most_predicted``; a last row ``(all)`` (mean over labels).
    """
    from ..predict import Bundle, load_bundle
    from .generate import to_clips

    vae = _parts(vae)
    bundle = classifier_bundle if isinstance(classifier_bundle, Bundle) else load_bundle(classifier_bundle)
    specs, labels, _ = real_clips(data, bundle.segment_seconds, sides=sides)
    clips = to_clips(vae, specs, bundle.segment_seconds, seed=seed)
    proba = _classify_signals(bundle, clips, vae.config.sample_rate)
    return _with_total(_agreement_rows(bundle, list(vae.labels), proba, labels))


def style_agreement(vae, classifier_bundle, *, n_per_label: int = 5, seed: int = 0) -> pd.DataFrame:
    """Per label, the share of clips generated for it that a classifier assigns to it.

    For a conditional VAE: ``n_per_label`` clips per label, each as long as the
    classifier's segment (:func:`~musiclib.vae.generate_clips`: consecutive samples joined,
    one Griffin-Lim run; nothing tiled or padded), classified with ``classifier_bundle``
    (a :class:`musiclib.predict.Bundle`, or its folder), the features ``predict_file``
    computes. Columns: ``label``, ``n``, ``agreement`` (share), ``mean_probability`` (of
    the intended label), ``most_predicted``; a last row ``(all)``. Chance is
    ``1 / n_labels``; the ceiling is :func:`vocoder_ceiling`. Labels the classifier does
    not know get NaN.

    Parameters
    ----------
    vae : VAEResult, LoadedVAE, str or os.PathLike
        A conditional VAE, or its folder.
    classifier_bundle : musiclib.predict.Bundle, str or os.PathLike
        A classifier of the course (:func:`musiclib.predict.load_bundle` loads a folder).
    n_per_label : int
        Clips generated per label.
    seed : int
        Label ``i`` samples with seed ``seed + i``; Griffin-Lim's initial phase uses ``seed``.

    Returns
    -------
    pandas.DataFrame
        One row per VAE label (in ``vae.labels`` order) and a last row ``(all)``: total
        ``n`` and the means of ``agreement`` and ``mean_probability`` over the labels.

    Raises
    ------
    MusiclibError
        The VAE is not conditional.
    """
    from ..predict import Bundle, load_bundle
    from .generate import generate_clips

    vae = _parts(vae)
    bundle = classifier_bundle if isinstance(classifier_bundle, Bundle) else load_bundle(classifier_bundle)
    if not _model(vae).n_labels:
        raise MusiclibError("style_agreement needs a conditional VAE")
    clips, wanted = [], []
    for i in range(len(vae.labels)):
        clips += generate_clips(vae, n_per_label, label=i, seconds=bundle.segment_seconds, seed=seed + i)
        wanted += [i] * int(n_per_label)
    proba = _classify_signals(bundle, clips, vae.config.sample_rate)
    return _with_total(_agreement_rows(bundle, list(vae.labels), proba, np.array(wanted)))


def generation_report(vae, data: VAEData, classifier_bundle, *, n_per_label: int = 20,
                      seed: int = 0) -> pd.DataFrame:
    """Per style: the vocoder's ceiling, the agreement of generated clips, and their ratio.

    Parameters
    ----------
    vae : VAEResult, LoadedVAE, str or os.PathLike
    data : VAEData
    classifier_bundle : musiclib.predict.Bundle, str or os.PathLike
    n_per_label : int
        Clips generated per style.
    seed : int

    Returns
    -------
    pandas.DataFrame
        One row per label and ``(all)``: ``n_real`` and ``ceiling`` (:func:`vocoder_ceiling`),
        ``n_generated`` and ``generated`` (:func:`style_agreement`), ``ratio``
        (generated / ceiling; for ``(all)`` the ratio of the two means, the issue's target).
    """
    from ..predict import Bundle, load_bundle

    bundle = classifier_bundle if isinstance(classifier_bundle, Bundle) else load_bundle(classifier_bundle)
    ceiling = vocoder_ceiling(vae, data, bundle, seed=seed)
    generated = style_agreement(vae, bundle, n_per_label=n_per_label, seed=seed)
    table = pd.DataFrame({"label": ceiling["label"], "n_real": ceiling["n"], "ceiling": ceiling["agreement"],
                          "n_generated": generated["n"], "generated": generated["agreement"],
                          "most_predicted": generated["most_predicted"]})
    with np.errstate(divide="ignore", invalid="ignore"):
        table["ratio"] = table["generated"] / table["ceiling"]
    return table


def mfcc_summaries(vae, spectrograms: np.ndarray, *, n_mfcc: int = 13) -> np.ndarray:
    """Per-clip MFCC means ``(n, n_mfcc)`` computed from normalised spectrograms.

    Denormalise, dB -> power, a mel filter bank (``max(n_mfcc, min(40, bins // 4))``
    bands), dB (``power_to_db``, top 80 dB), DCT: from the spectrogram itself, so
    Griffin-Lim's artefacts do not enter.

    Parameters
    ----------
    vae : VAEResult or LoadedVAE
        Supplies ``config`` (STFT, sample rate in Hz) and ``stats``.
    spectrograms : np.ndarray, shape (n, frames, bins)
        Normalised to [0, 1].
    n_mfcc : int
        Number of coefficients.

    Returns
    -------
    np.ndarray
        float64 ``(n, n_mfcc)``: each clip's MFCCs averaged over its frames.
    """
    import librosa

    cfg = vae.config
    n_mels = max(n_mfcc, min(40, cfg.bins // 4))
    out = []
    for spec in np.asarray(spectrograms, dtype=np.float32):
        power = to_magnitude(vae, spec) ** 2
        mel = librosa.feature.melspectrogram(S=power, sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=n_mels)
        mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel, top_db=80.0), n_mfcc=n_mfcc)
        out.append(mfcc.mean(axis=1))
    return np.array(out, dtype=np.float64)


def frechet_distance(a: np.ndarray, b: np.ndarray, *, eps: float = 1e-6) -> float:
    """Frechet distance between Gaussians fitted to the rows of ``a`` and of ``b``.

    ``|mu_a - mu_b|^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2))`` (as FID / FAD), with the sample
    covariances regularised by ``eps`` on the diagonal.

    Parameters
    ----------
    a, b : np.ndarray, shapes (n_a, d) and (n_b, d)
        One feature vector per row (e.g. :func:`mfcc_summaries`); at least two rows each.
    eps : float
        Ridge added to both covariances' diagonals.

    Returns
    -------
    float
        The distance, in the squared units of the features; >= 0, 0 for identical sets.
    """
    from scipy import linalg

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    ridge = eps * np.eye(a.shape[1])
    ca, cb = np.cov(a, rowvar=False) + ridge, np.cov(b, rowvar=False) + ridge
    root = linalg.sqrtm(ca @ cb)
    root = np.real(root)
    return float(max(0.0, np.sum((mu_a - mu_b) ** 2) + np.trace(ca + cb - 2.0 * root)))


def feature_distance(vae, data: VAEData, *, n: int = 50, seed: int = 0, side: str | None = None,
                     source: str = "prior") -> float:
    """Frechet distance between MFCC-mean summaries of generated and real held-out clips.

    ``n`` clips are sampled from the prior (labels cycled for a conditional VAE) --
    ``source="reconstruction"`` uses the reconstructions of the real clips instead, and
    ``source="train"`` real *training* clips, a reference for the distance two real sets
    have -- and compared with up to ``n`` random real segments of ``side`` (default test).
    Both sets are summarised by :func:`mfcc_summaries` and standardised with the real
    set's mean and standard deviation per coefficient; the distance is
    :func:`frechet_distance` of those (lower is closer; 0 for identical distributions).
    With a few dozen clips sampling noise alone gives a clearly positive value: compare
    with ``source="train"`` (two real sets) and ``source="reconstruction"``.

    Parameters
    ----------
    vae : VAEResult, LoadedVAE, str or os.PathLike
        The trained VAE, or its folder.
    data : VAEData
        The real segments.
    n : int
        Clips per set (the real set has fewer when ``side`` has fewer segments).
    seed : int
        Seed of the choice of real clips and of the prior samples.
    side : str, optional
        The real clips' side; default ``test`` (``valid`` if test is empty).
    source : str
        ``"prior"``, ``"reconstruction"`` or ``"train"``.

    Returns
    -------
    float
        The distance in units of the real clips' per-coefficient spread (dimensionless);
        >= 0.

    Raises
    ------
    MusiclibError
        An unknown ``source``, or no held-out segments.
    """
    vae = _parts(vae)
    side = side or _held_out(data)
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(data.x[side]))[:n]
    real = data.x[side][pick]
    if source == "prior":
        fake = sample(vae, n, seed=seed)
    elif source == "reconstruction":
        fake = reconstruct(vae, real, data.y[side][pick])
    elif source == "train":
        fake = data.x["train"][rng.permutation(len(data.x["train"]))[:n]]
    else:
        raise MusiclibError("source must be 'prior', 'reconstruction' or 'train'")
    fake_f, real_f = mfcc_summaries(vae, fake), mfcc_summaries(vae, real)
    # standardise by the real clips' spread, so that MFCC 0 (loudness, in tens of dB) does
    # not drown the other coefficients: the distance is then in units of real variation
    mu, sd = real_f.mean(axis=0), real_f.std(axis=0) + 1e-9
    return frechet_distance((fake_f - mu) / sd, (real_f - mu) / sd)


def analyse(vae, signals) -> np.ndarray:
    """Normalised spectrograms of sound, made as :func:`~musiclib.vae.prepare` makes them.

    The VAE's STFT (``n_fft``, ``hop_length``, Hann, centred), ``amplitude_to_db(ref=1.0)``
    with the feature cache's ``amin``, cropped to ``(frames, bins)`` and normalised with the
    VAE's statistics: what the model would see of this sound. Signals are not rescaled (use
    Griffin-Lim's output before any peak limit, whose level follows its target).

    Parameters
    ----------
    vae : VAEResult or LoadedVAE
    signals : sequence of np.ndarray
        Mono float signals at ``config.sample_rate``, each at least ``config.segment_samples`` long.

    Returns
    -------
    np.ndarray
        float32 ``(n, frames, bins)`` in [0, 1].
    """
    import librosa

    cfg = vae.config
    amin = cfg.feature_config().logspec_amin
    out = []
    for y in signals:
        magnitude = np.abs(librosa.stft(np.asarray(y, np.float32), n_fft=cfg.n_fft, hop_length=cfg.hop_length,
                                        window="hann", center=True))
        db = librosa.amplitude_to_db(magnitude, ref=1.0, amin=amin, top_db=None).T[: cfg.frames, : cfg.bins]
        full = np.full((cfg.frames, cfg.bins), float(vae.stats["min"]), np.float32)
        full[: db.shape[0], : db.shape[1]] = db
        out.append(normalise(full, vae.stats))
    return np.array(out, dtype=np.float32).reshape(-1, cfg.frames, cfg.bins)


def feature_distances(vae, data: VAEData, *, n: int = 120, seed: int = 0) -> dict:
    """Frechet distances of MFCC summaries, all heard after the same inversion, ``n`` clips a side.

    Four sets of ``n`` one-segment clips, summarised by :func:`mfcc_summaries` of their
    spectrograms, standardised with the mean and spread of the real held-out set:

    - ``real``: ``n`` random held-out segments (valid and test sides, as in :data:`HELD_OUT`);
    - ``real_b``: ``n`` random training segments (other recordings): ``real`` vs ``real_b``
      is the distance two real sets of the same size have (sampling noise and recordings);
    - ``vocoder``: the ``real`` segments through Griffin-Lim and analysed again
      (:func:`analyse`): the distance the inversion alone costs (the ceiling);
    - ``generated``: ``n`` samples from the prior, labels cycled (as many per style),
      through Griffin-Lim and analysed again.

    Parameters
    ----------
    vae : VAEResult, LoadedVAE, str or os.PathLike
    data : VAEData
    n : int
        Clips per set (fewer when a side has fewer segments: see ``n`` in the result).
    seed : int
        The choice of real segments, the prior samples and Griffin-Lim's initial phase.

    Returns
    -------
    dict
        ``n`` (clips per set), ``real_vs_real``, ``vocoder_vs_real``, ``generated_vs_real``
        (dimensionless, in units of the real clips' spread), ``ratio``
        (``generated_vs_real / real_vs_real``; the issue asks at most 1.5).
    """
    from .generate import _griffinlim

    vae = _parts(vae)
    rng = np.random.default_rng(seed)
    held = np.concatenate([data.x[side] for side in HELD_OUT if len(data.x[side])])
    n = int(min(n, len(held), len(data.x["train"])))
    real = held[rng.permutation(len(held))[:n]]
    real_b = data.x["train"][rng.permutation(len(data.x["train"]))[:n]]
    vocoded = analyse(vae, [_griffinlim(vae, x, seed=[seed, i]) for i, x in enumerate(real)])
    fake = analyse(vae, [_griffinlim(vae, x, seed=[seed, i]) for i, x in enumerate(sample(vae, n, seed=seed))])
    feats = {name: mfcc_summaries(vae, x) for name, x in
             (("real", real), ("real_b", real_b), ("vocoder", vocoded), ("generated", fake))}
    mu, sd = feats["real"].mean(axis=0), feats["real"].std(axis=0) + 1e-9
    z = {name: (f - mu) / sd for name, f in feats.items()}
    out = {"n": n,
           "real_vs_real": frechet_distance(z["real_b"], z["real"]),
           "vocoder_vs_real": frechet_distance(z["vocoder"], z["real"]),
           "generated_vs_real": frechet_distance(z["generated"], z["real"])}
    out["ratio"] = out["generated_vs_real"] / max(out["real_vs_real"], 1e-12)
    return out

