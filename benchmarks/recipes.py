"""Recipes on K folds by recording: accuracy with intervals, and paired differences.

Runs named experiments of ``musiclib.experiments`` on the same K folds by recording
(``ml.experiments.run_folds``: StratifiedGroupKFold, every recording tested once) of any
labelled folder or built-in dataset, and prints each one's recording-level accuracy (mean
probability, and majority vote) with its 95% interval, then paired differences with theirs
(``ml.evaluate.paired_comparison``): every experiment against the first one named (put the
baseline first), and each augmented recipe against the same recipe without augmentation.

    python benchmarks/recipes.py --dataset composers --folds 5 \
        --experiments logreg_clip,mel_cnn,mel_cnn_augmented [--profile fast] [--seed 0] [--out runs.json]

A folder is used as ``musiclib train`` uses it. Folds already run
with the same recipe, data, profile, seed and K are read back from ``build/results/folds``
(``--retrain`` trains again). Measured on the composers (fast, 5 folds, seed 0) in issue 12's
closing note: logreg_clip 0.34, mel_cnn 0.43, mel_cnn_augmented 0.30.
"""

from __future__ import annotations

import argparse
import json
import time

import musiclib as ml


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="synthetic", help="synthetic, composers or a labelled folder")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--experiments", default="logreg_clip,mel_cnn,mel_cnn_augmented",
                        help="comma-separated names; the first is the reference of the paired differences")
    parser.add_argument("--profile", default="fast")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument("--out", help="write every summary and comparison as JSON here")
    args = parser.parse_args(argv)

    settings = ml.config.settings(profile=args.profile, seed=args.seed)
    names = [n.strip() for n in args.experiments.split(",") if n.strip()]
    results = {}
    for name in names:
        start = time.perf_counter()
        result = ml.experiments.run_folds(name, args.dataset, folds=args.folds, settings=settings, jobs=args.jobs,
                                          reuse=not args.retrain)
        results[name] = result
        s = result.summary
        print(f"{result.describe()}  vote {s['test_accuracy_recording_vote_mean']:.3f}  "
              f"train {s['train_seconds'] / args.folds:.0f} s/fold  ({time.perf_counter() - start:.0f} s wall)",
              flush=True)

    pairs = [(name, names[0]) for name in names[1:]]
    for name in names:
        plain = ml.experiments.get(name)
        if plain.augment:
            base = next((n for n in names if n != name and not ml.experiments.get(n).augment
                         and ml.experiments.get(n).builder == plain.builder), None)
            if base and (name, base) not in pairs:
                pairs.append((name, base))
    comparisons = []
    for a, b in pairs:
        c = ml.evaluate.paired_comparison(results[a].recordings, results[b].recordings, names=(a, b),
                                          seed=args.seed)
        comparisons.append(c)
        print(ml.evaluate.describe(c, digits=3))
    if args.out:
        ml.safe_write.write_json(args.out, {"summaries": {n: r.summary for n, r in results.items()},
                                            "comparisons": [c.to_dict() for c in comparisons]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
