"""The ``musiclib`` command: the course run headless, and the library outside the notebooks.

::

    musiclib dataset synth --out DIR [--profile tiny|fast|full] [--seed N]
    musiclib dataset composers [--out DIR] [--profile tiny|fast|full] [--seed N] [--jobs N]
    musiclib dataset info DATASET [--clip-seconds S] [--jobs N]
    musiclib features DATASET --out DIR [--jobs N] [--scheduler ADDR]
    musiclib experiments
    musiclib train DATASET --experiment NAME [--out DIR] [--profile P] [--seed N] [--json]
    musiclib generate MODEL_DIR --n N [--label L] [--seconds S] --out DIR [--json]
    musiclib predict MODEL_DIR FILE... [--top K] [--json]
    musiclib course [--profile P] [--dataset D] [--only NN ...]
    musiclib course student --out DIR [--notebooks DIR]

Errors the user can cause print one line, ``musiclib: <file>: <reason>``, and exit with
status 2 (bad usage or nothing could be done) or 1 (some of the work failed). Heavy
libraries are imported only by the commands that need them, so ``musiclib dataset ...``
never loads TensorFlow.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .config import ENV_DATASET, PROFILES
from .errors import MusiclibError

if TYPE_CHECKING:  # imported when the command runs: `musiclib dataset ...` stays light
    from .features import FeatureConfig

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2


def _settings(args):
    """The command's settings: unlike the notebooks, it uses every recording it is given."""
    from .config import settings

    return settings(
        profile=getattr(args, "profile", None),
        dataset=getattr(args, "dataset", None),
        seed=getattr(args, "seed", None),
        share=False,
    )


def _jobs(value: str) -> int:
    n = int(value)
    if n == -1:
        return os.cpu_count() or 1
    if n < 1:
        raise argparse.ArgumentTypeError("--jobs must be 1 or more (or -1 for every core)")
    return n


def cmd_dataset_synth(args) -> int:
    from . import synth

    s = _settings(args)
    out = Path(args.out) if args.out else s.synthetic_dir
    synth.write_dataset(
        out,
        profile=s.profile,
        seed=s.seed,
        imbalance=args.imbalance,
        long_recordings_per_style=args.long_recordings,
        jobs=args.jobs,
        progress=not args.quiet,
    )
    print(f"synthetic dataset ({s.profile.name}, seed {s.seed}) in {out}")
    return EXIT_OK


def cmd_dataset_composers(args) -> int:
    from . import composers

    s = _settings(args)
    out = Path(args.out) if args.out else s.composers_dir
    composers.write_dataset(out, profile=s.profile, seed=s.seed, cache_dir=s.score_cache_dir,
                            jobs=args.jobs, progress=not args.quiet)
    meta = composers.read_marker(out) or {}
    for label, about in meta.get("labels", {}).items():
        print(f"{label:14s} {about['files']:4d} pieces  {about['title']}")
    for item in meta.get("skipped", []):
        print(f"skipped {item['reason']}")
    print(f"composers dataset ({s.profile.name}, seed {s.seed}, music21 {meta.get('music21_version')}) in {out}")
    return EXIT_OK


def cmd_dataset_info(args) -> int:
    from . import datasets

    ds = datasets.load(
        args.dataset,
        settings=_settings(args),
        clip_seconds=args.clip_seconds,
        check=not args.headers_only,
        jobs=args.jobs,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    print(ds.describe())
    if args.manifest:
        from . import safe_write

        path = safe_write.write_csv(ds.manifest, args.manifest)
        print(f"manifest written to {path}")
    return EXIT_OK


def run_features_command(
    dataset: str | os.PathLike | None,
    out_dir: str | os.PathLike,
    *,
    jobs: int = 1,
    scheduler=None,
    profile: str | None = None,
    progress: bool = True,
    config: FeatureConfig | None = None,
) -> int:
    """``musiclib features DATASET --out DIR [--jobs N] [--scheduler ADDR]``.

    Loads the dataset (:func:`musiclib.datasets.load`), extracts its features into
    ``out_dir/cache`` and writes ``out_dir/summaries.csv`` (atomically). Prints one line per
    skipped file (``skipped <path>: <reason>``) and a final report such as
    ``features of 80 recordings (0 from cache, 80 computed, 2 skipped) in 12.3 s``.

    Parameters
    ----------
    dataset : str or path, optional
        What :func:`musiclib.datasets.load` accepts (a folder, a manifest CSV, a dataset
        name); None: the profile's default dataset.
    out_dir : path
        Folder of ``summaries.csv`` and of the feature cache (``out_dir/cache``).
    jobs : int
        Worker processes for loading and extraction (``-1``: every core).
    scheduler : str or dask.distributed.Client, optional
        Extract on a Dask cluster (see :func:`musiclib.features.extract_dataset`).
    profile : str, optional
        ``tiny``, ``fast`` or ``full`` (default ``$MUSICLIB_PROFILE``).
    progress : bool
        Show progress bars.
    config : musiclib.features.FeatureConfig, optional
        Feature settings (default ``FeatureConfig()``).

    Returns
    -------
    int
        0 when at least one recording was extracted; every file that could not be used
        is listed with its reason (as ``musiclib dataset info`` does).

    Raises
    ------
    DatasetError
        When the dataset cannot be loaded or no row could be extracted (the CLI prints it
        on one line and exits with status 2).

    Taught in ``notebooks/02_spectral_features.ipynb``.
    """
    from . import datasets, safe_write
    from .config import settings as make_settings
    from .errors import DatasetError
    from .features import extract_dataset

    t0 = time.perf_counter()
    s = make_settings(profile=profile, dataset=dataset, share=False)  # a command: every recording
    # Headers only: extraction decodes every file anyway and reports those it cannot use
    # (truncated, non-finite), and a rerun served from the cache then decodes nothing.
    ds = datasets.load(dataset, settings=s, check=False, jobs=max(1, jobs), progress=progress)
    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    fs = extract_dataset(
        ds.manifest, config, cache_dir=out / "cache", jobs=jobs, progress=progress,
        scheduler=scheduler,
    )
    for path, reason in zip(ds.skipped["path"], ds.skipped["reason"]):
        print(f"skipped {path}: {reason}")
    for path, reason in zip(fs.skipped["path"], fs.skipped["reason"]):
        print(f"skipped {path}: {reason}")
    if not len(fs):
        raise DatasetError(f"{ds.name}: no recording could be extracted ({len(fs.skipped)} skipped)")
    safe_write.write_csv(fs.summaries, out / "summaries.csv")
    n_skipped = len(ds.skipped) + len(fs.skipped)
    print(f"summaries: {out / 'summaries.csv'}; frame features: {fs.folder}")
    print(
        f"features of {len(fs)} recordings ({fs.stats['cached']} from cache, "
        f"{fs.stats['computed']} computed, {n_skipped} skipped) in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    return 0


def cmd_features(args) -> int:
    return run_features_command(
        args.dataset,
        args.out,
        jobs=args.jobs,
        scheduler=args.scheduler,
        profile=args.profile,
        progress=not args.quiet and sys.stderr.isatty(),
    )


def cmd_experiments(args) -> int:
    from . import experiments

    table = experiments.table()
    table.loc[len(table)] = {"experiment": "vae", "title": "log-spectrogram VAE: generation (musiclib generate)",
                             "source": "000", "notebook": "08_vae_generation"}
    if args.json:
        print(table.to_json(orient="records"))
    else:
        print(table[["experiment", "source", "reported_accuracy", "title"]].to_string(index=False))
    return EXIT_OK


def cmd_train(args) -> int:
    import json

    from . import experiments

    s = _settings(args)
    if args.experiment == "vae" and args.folds is not None:
        raise MusiclibError("--folds evaluates classifiers; the VAE (generation) trains on one split")
    if args.experiment == "vae":  # generation, not classification: its own recipe and row
        from . import vae

        row = vae.run_vae_experiment(s, dataset=args.dataset, out_dir=args.out, seed=s.seed)
        row = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        if args.json:
            print(json.dumps(row, default=str))
        else:
            print(
                f"vae on {row['dataset']} ({row['profile']}, seed {row['seed']}): held-out reconstruction MSE "
                f"{row['reconstruction_mse_trained']:.4f} (untrained {row['reconstruction_mse_untrained']:.4f}, "
                f"mean spectrogram {row['reconstruction_mse_mean_baseline']:.4f}); "
                f"{row['train_seconds']:.0f} s; bundle {row['bundle']}"
            )
        return EXIT_OK
    if args.folds is not None:
        return _train_folds(args, s)
    result = experiments.run(
        args.experiment,
        args.dataset,
        settings=s,
        split=args.split,
        out_dir=args.out,
        jobs=args.jobs,
        verbose=0 if args.json or args.quiet else 2,
    )
    for path, reason in zip(result.skipped["path"], result.skipped["reason"]):
        print(f"musiclib: skipped {path}: {reason}", file=sys.stderr)
    row = {k: (None if isinstance(v, float) and v != v else v) for k, v in result.row.items()}
    row["bundle"] = str(result.bundle) if result.bundle else None
    saved = f"bundle {row['bundle']}" if result.bundle else "no bundle (a scikit-learn baseline)"
    if args.json:
        print(json.dumps(row))  # the last line: one JSON object
    else:
        print(
            f"{row['experiment']} on {row['dataset']} ({row['profile']}, seed {row['seed']}, split {row['split']}):\n"
            f"  test accuracy  segment {row['test_accuracy_segment']:.3f}  recording {row['test_accuracy_recording']:.3f}"
            f"  (vote {row['test_accuracy_recording_vote']:.3f})  macro-F1 {row['macro_f1']:.3f}\n"
            f"  95% interval of the recording accuracy {row['test_accuracy_recording_ci_low']:.3f} to "
            f"{row['test_accuracy_recording_ci_high']:.3f} over {row['n_test_recordings']} test recordings "
            f"(one split; --folds K for more)\n"
            f"  {row['parameters']} parameters, {row['epochs']} epochs, {row['train_seconds']:.1f} s; {saved}"
        )
    return EXIT_OK


def _fold_progress(args):
    if args.json or args.quiet:
        return None
    return lambda k, folds: print(f"musiclib: fold {k + 1} of {folds}", file=sys.stderr, flush=True)


def _train_folds(args, s) -> int:
    """``musiclib train DATASET --experiment NAME --folds K``: K folds by recording, one row
    per fold in the results table, mean and 95% interval printed (no bundle)."""
    import json

    from . import evaluate, experiments

    if args.split != "recording":
        raise MusiclibError("--folds splits by recording; it cannot be combined with --split segment")
    result = experiments.run_folds(args.experiment, args.dataset, folds=args.folds, settings=s, jobs=args.jobs,
                                   reuse=False, progress=_fold_progress(args))
    for path, reason in zip(result.skipped["path"], result.skipped["reason"]):
        print(f"musiclib: skipped {path}: {reason}", file=sys.stderr)
    if args.json:
        per_fold = [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
                    for row in result.rows.to_dict(orient="records")]
        print(json.dumps({**result.summary, "per_fold": per_fold}))  # the last line: one JSON object
    else:
        summary = result.summary
        print(f"{args.experiment} on {summary['dataset']} ({summary['profile']}, seed {summary['seed']}, "
              f"{summary['folds']} folds by recording, {summary['interval']}):")
        for metric, title in (("test_accuracy_recording", "recording accuracy"),
                              ("test_accuracy_segment", "segment accuracy"), ("macro_f1", "macro-F1")):
            print(f"  {title:<19}{evaluate.describe_score('', summary, metric=metric)[2:]}")
        print(f"  per fold (recording): " + " ".join(f"{v:.3f}" for v in result.rows["test_accuracy_recording"]))
        print(f"  {summary['train_seconds']:.1f} s of training over the folds; no bundle (see musiclib train without --folds)")
    return EXIT_OK


def cmd_compare(args) -> int:
    """``musiclib compare DATASET A B --folds K``: the paired difference A - B with its interval."""
    import json

    from . import evaluate, experiments

    s = _settings(args)
    for name in (args.a, args.b):
        experiments.get(name)  # an unknown name fails before anything trains
    progress = _fold_progress(args)
    results = []
    for name in (args.a, args.b):
        if progress is not None:
            print(f"musiclib: {name}", file=sys.stderr, flush=True)
        results.append(experiments.run_folds(name, args.dataset, folds=args.folds, settings=s, jobs=args.jobs,
                                             reuse=not args.retrain, progress=progress))
    comparison = evaluate.paired_comparison(results[0].recordings, results[1].recordings, names=(args.a, args.b),
                                            metric=args.metric, seed=s.seed)
    sentence = evaluate.describe(comparison)
    if args.json:
        print(json.dumps({**comparison.to_dict(), "sentence": sentence,
                          args.a: results[0].summary, args.b: results[1].summary}))
    else:
        for r in results:
            print(f"  {r.describe()}")
        print(sentence)
    return EXIT_OK


def cmd_predict(args) -> int:
    """``musiclib predict MODEL_DIR FILE... [--top K] [--json]``: a table (or one JSON object
    per line per file); unreadable files on stderr, then status 1; a bad bundle: status 2."""
    import json
    import warnings

    import pandas as pd

    from . import predict

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bundle = predict.load_bundle(args.model_dir)  # BundleError: one line, status 2
    for w in caught:
        print(f"musiclib: warning: {' '.join(str(w.message).split())}", file=sys.stderr)
    rows, failed = [], 0
    for path in args.files:
        predictions, errors = predict.predict_files(bundle, [path], top=args.top)
        for bad, reason in errors:
            failed += 1
            print(f"musiclib: {bad}: {reason}", file=sys.stderr)
            if args.json:
                print(json.dumps({"path": str(bad), "error": reason}), flush=True)
        for p in predictions:
            if args.json:
                print(json.dumps(p.to_dict(top=args.top)), flush=True)
            else:
                row = {"file": str(p.path)}
                for k, (label, prob) in enumerate(p.top(args.top), start=1):
                    row[f"top {k}" if args.top > 1 else "label"] = f"{label} {prob:.2f}"
                row["duration"] = f"{p.duration_s:.1f} s"
                row["segments"] = f"{p.n_segments}{' (padded)' if p.padded else ''}"
                rows.append(row)
    if rows:
        table = pd.DataFrame(rows).fillna("").astype(str)
        widths = {c: max(len(c), table[c].str.len().max()) for c in table}
        print("  ".join(c.ljust(widths[c]) for c in table).rstrip())
        for row in table.itertuples(index=False):
            print("  ".join(v.ljust(widths[c]) for c, v in zip(table, row)).rstrip())
    return EXIT_PARTIAL if failed else EXIT_OK


def _positive_int(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return n


def _at_least_two(value: str) -> int:
    n = int(value)
    if n < 2:
        raise argparse.ArgumentTypeError("must be 2 or more")
    return n


def _positive_float(value: str) -> float:
    x = float(value)
    if not x > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return x


def cmd_generate(args) -> int:
    """``musiclib generate MODEL_DIR --n N [--label L] [--seconds S] --out DIR [--json]``: N clips
    of S seconds (consecutive decoded segments joined, one Griffin-Lim run each), so that
    ``musiclib predict`` judges them whole; ``--json``: one object with the files and the
    model's labels."""
    import json

    from . import vae

    model = vae.load(args.model_dir)  # a bad folder: one line, status 2
    paths = vae.generate_files(model, args.out, n=args.n, label=args.label, seed=args.seed or 0,
                               seconds=args.seconds)
    if args.json:
        print(json.dumps({"model_dir": str(args.model_dir), "label": args.label, "labels": list(model.labels),
                          "n": len(paths), "seconds": args.seconds, "sample_rate": model.config.sample_rate,
                          "seed": args.seed or 0, "files": [str(p) for p in paths]}), flush=True)
        return EXIT_OK
    for path in paths:
        print(path)
    print(f"{len(paths)} clips of {args.seconds:g} s written to {args.out}")
    return EXIT_OK


def cmd_course(args) -> int:
    from . import course

    s = _settings(args)
    notebooks = None
    if args.only:
        every = course.find_notebooks(args.notebooks)
        notebooks = [p for p in every if any(p.name.startswith(k) for k in args.only)]
        if not notebooks:
            raise MusiclibError(f"no notebook matches {' '.join(args.only)}")
    runs = course.run_course(
        settings=s,
        notebooks=notebooks,
        notebooks_dir=args.notebooks,
        out_dir=args.out,
        timeout=args.timeout,
        progress=not args.quiet,
        # no dataset named: each notebook uses its own default (composers in 05-07)
        dataset_chosen=bool(args.dataset or os.environ.get(ENV_DATASET, "").strip()),
    )
    total = sum(r.seconds for r in runs)
    failed = [r for r in runs if r.status != "ok"]
    print(f"{len(runs) - len(failed)} notebooks ok, {len(failed)} failed, {total:.0f} s in all")
    return EXIT_PARTIAL if failed else EXIT_OK


def cmd_course_student(args) -> int:
    from . import student

    paths = student.write_student_versions(args.out, notebooks_dir=args.notebooks)
    for path in paths:
        print(path)
    print(f"{len(paths)} student notebooks written to {Path(args.out)} (solutions replaced, hidden tests removed)")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="musiclib",
        description="Music classification and generation course: datasets, features, models.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"musiclib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p, *, dataset=False):
        p.add_argument("--profile", choices=sorted(PROFILES), help="default: $MUSICLIB_PROFILE or fast")
        p.add_argument("--seed", type=int, help="default: $MUSICLIB_SEED or 0")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress display")
        if dataset:
            p.add_argument("--dataset", help="synthetic, composers, a GTZAN folder or a folder of label sub-folders")

    ds = sub.add_parser("dataset", help="make or inspect a dataset")
    ds_sub = ds.add_subparsers(dest="dataset_command", required=True, metavar="ACTION")

    synth = ds_sub.add_parser("synth", help="render the built-in synthetic styles")
    synth.add_argument("--out", help="folder to write (default: the data folder of the settings)")
    synth.add_argument("--jobs", type=_jobs, default=1, help="processes (-1: every core)")
    synth.add_argument("--imbalance", type=float, default=None,
                       help="make class counts unbalanced: each style keeps this share of the previous one's clips")
    synth.add_argument("--long-recordings", type=int, default=None,
                       help="also render this many recordings of several minutes per style")
    common(synth)
    synth.set_defaults(func=cmd_dataset_synth)

    comp = ds_sub.add_parser("composers", help="render the built-in composers dataset (real scores from music21's corpus)")
    comp.add_argument("--out", help="folder to write (default: the data folder of the settings)")
    comp.add_argument("--jobs", type=_jobs, default=1, help="processes (-1: every core)")
    common(comp)
    comp.set_defaults(func=cmd_dataset_composers)

    info = ds_sub.add_parser("info", help="counts per label, durations, and every file that cannot be read")
    info.add_argument("dataset", nargs="?", default=None,
                      help="synthetic, composers, a GTZAN folder or a folder of label sub-folders (default: $MUSICLIB_DATASET)")
    info.add_argument("--clip-seconds", type=float, default=None, help="cut longer recordings into clips")
    info.add_argument("--headers-only", action="store_true", help="read headers only (fast, finds fewer problems)")
    info.add_argument("--jobs", type=_jobs, default=2, help="files checked at once (-1: every core)")
    info.add_argument("--manifest", help="also write the manifest table to this CSV file")
    common(info)
    info.set_defaults(func=cmd_dataset_info)

    feat = sub.add_parser("features", help="extract every feature of a dataset, cached (no TensorFlow)")
    feat.add_argument("dataset", help="synthetic, composers, a GTZAN folder or a folder of label sub-folders")
    feat.add_argument("--out", required=True, help="folder for summaries.csv and the feature cache")
    feat.add_argument("--jobs", type=_jobs, default=os.cpu_count() or 1,
                      help="worker processes (default: every core)")
    feat.add_argument("--scheduler", default=None,
                      help="a dask.distributed scheduler address (default: $MUSICLIB_DASK_SCHEDULER)")
    common(feat)
    feat.set_defaults(func=cmd_features)

    exps = sub.add_parser("experiments", help="list the experiments of the source projects")
    exps.add_argument("--json", action="store_true", help="one JSON list")
    exps.set_defaults(func=cmd_experiments)

    train = sub.add_parser("train", help="run one experiment: train, evaluate, save a model bundle")
    train.add_argument("dataset", help="synthetic, composers, a GTZAN folder or a folder of label sub-folders")
    train.add_argument("--experiment", required=True, help="a name from `musiclib experiments` (or vae)")
    train.add_argument("--out", help="model bundle folder (default: build/models/<profile>/<dataset>/<experiment>)")
    train.add_argument("--split", choices=("recording", "segment"), default="recording",
                       help="recording (default); segment = the leaky split of the sources, for comparison")
    train.add_argument("--jobs", type=_jobs, default=os.cpu_count() or 1, help="feature extraction processes")
    train.add_argument("--folds", type=_at_least_two, default=None, metavar="K",
                       help="K folds by recording: mean and 95%% interval over every recording (no bundle); "
                            "default: one 70/15/15 split and a bundle")
    train.add_argument("--json", action="store_true", help="print the results row as one JSON object, last")
    common(train)
    train.set_defaults(func=cmd_train)

    cmp_ = sub.add_parser("compare", help="paired comparison of two experiments on the same K folds by recording")
    cmp_.add_argument("dataset", help="synthetic, composers, a GTZAN folder or a folder of label sub-folders")
    cmp_.add_argument("a", metavar="NAME_A", help="an experiment of `musiclib experiments`")
    cmp_.add_argument("b", metavar="NAME_B", help="the experiment it is compared with")
    cmp_.add_argument("--folds", type=_at_least_two, default=5, metavar="K", help="folds by recording (default 5)")
    cmp_.add_argument("--metric", default="accuracy_recording",
                      choices=("accuracy_recording", "accuracy_recording_vote", "accuracy_segment"))
    cmp_.add_argument("--retrain", action="store_true",
                      help="train both again even if they already ran on these folds (build/results/folds)")
    cmp_.add_argument("--jobs", type=_jobs, default=os.cpu_count() or 1, help="feature extraction processes")
    cmp_.add_argument("--json", action="store_true", help="print the comparison as one JSON object, last")
    common(cmp_)
    cmp_.set_defaults(func=cmd_compare)

    pred = sub.add_parser("predict", help="top labels with probabilities for audio files, from a model bundle")
    pred.add_argument("model_dir", metavar="MODEL_DIR", help="a model bundle folder (model.keras + bundle.json)")
    pred.add_argument("files", metavar="FILE", nargs="+", help="audio files (wav, flac, ogg, mp3, au, aiff; any length)")
    pred.add_argument("--top", type=_positive_int, default=3, help="labels shown per file (default 3)")
    pred.add_argument("--json", action="store_true", help="one JSON object per line per file")
    pred.set_defaults(func=cmd_predict)

    gen = sub.add_parser("generate", help="generate new clips with a trained VAE (musiclib train --experiment vae)")
    gen.add_argument("model_dir", help="the VAE folder written by `musiclib train DATASET --experiment vae`")
    gen.add_argument("--n", type=_positive_int, default=4, help="clips to generate")
    gen.add_argument("--label", default=None, help="the style to generate (conditional VAE); default: from the prior")
    gen.add_argument("--seconds", type=_positive_float, default=3.0,
                     help="length of each clip in seconds: consecutive decoded segments joined (default 3, "
                          "the course classifiers' segment, so `musiclib predict` judges them without tiling)")
    gen.add_argument("--out", required=True, help="folder for the WAV files")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--json", action="store_true", help="print one JSON object: the files and the model's labels")
    gen.set_defaults(func=cmd_generate)

    crs = sub.add_parser("course", help="execute every notebook in order and write build/course")
    crs.add_argument("--only", nargs="+", metavar="NN", help="run only notebooks whose names start so (e.g. 00 01)")
    crs.add_argument("--notebooks", help="folder of the notebooks (default: the checkout's notebooks/)")
    crs.add_argument("--out", help="default: build/course")
    crs.add_argument("--timeout", type=int, default=900, help="seconds one cell may take")
    common(crs, dataset=True)
    crs.set_defaults(func=cmd_course)
    crs_sub = crs.add_subparsers(dest="course_command", metavar="ACTION", title="actions",
                                 description="without an action: execute every notebook")
    stu = crs_sub.add_parser("student", help="write the notebooks with solutions replaced by placeholders")
    stu.add_argument("--out", required=True, help="folder for the student notebooks (not notebooks/)")
    stu.add_argument("--notebooks", help="folder of the instructor notebooks (default: the checkout's notebooks/)")
    stu.set_defaults(func=cmd_course_student)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except MusiclibError as err:
        print(f"musiclib: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("musiclib: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
