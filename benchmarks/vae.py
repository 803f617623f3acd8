"""Generation you can recognise: the VAE's measures of issue 15 in a profile, on a dataset.

    python benchmarks/vae.py [--profile fast] [--dataset synthetic] [--classifier cnn_mfcc]
                             [--n-per-label 20] [--fd-clips 120] [--set key=value ...]

Trains the VAE of the profile (``VAEConfig.for_profile``, changed by ``--set``, e.g.
``--set beta=2 latent_dim=16``) on the split every classifier uses, then prints:

- training seconds and held-out reconstruction error against the untrained model and the
  mean spectrogram;
- per style, the **vocoder's ceiling** (real held-out clips of the classifier's segment
  length, their normalised spectrograms through the same Griffin-Lim) and the agreement of
  ``--n-per-label`` generated clips of the same length, both classified by the course
  classifier ``--classifier`` (trained now if this profile, dataset and seed have none), and
  their ratio; the mean ratio is the issue's target (at least 0.7, no style at 0);
- Frechet distances of MFCC summaries with ``--fd-clips`` clips a side: real vs real
  (held out vs training recordings), vocoder vs real, generated vs real, and the ratio of
  generated to real-vs-real (target at most 1.5).

One line of JSON with every number closes the output (``--json-out FILE`` also writes it).
"""

from __future__ import annotations

import argparse
import json
import time

import musiclib as ml
from musiclib import vae as V


def _value(text: str):
    if text in ("true", "false"):
        return text == "true"
    try:
        return json.loads(text)
    except ValueError:
        return text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="fast")
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--classifier", default="cnn_mfcc", help="a course experiment, judge of the styles")
    parser.add_argument("--n-per-label", type=int, default=20)
    parser.add_argument("--fd-clips", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="VAEConfig changes")
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args()
    s = ml.config.settings(profile=args.profile, seed=args.seed).replace(dataset=args.dataset)
    changes = dict(kv.split("=", 1) for kv in args.set)
    cfg = V.VAEConfig.for_profile(args.profile).replace(**{k: _value(v) for k, v in changes.items()})
    began = time.perf_counter()
    ds = ml.datasets.load(s.dataset, settings=s, jobs=2)
    manifest = ml.experiments.run_split(ds.manifest, s.seed)  # the classifiers' split
    data = V.prepare(manifest, s, cfg, jobs=2)
    print(f"{args.dataset} / {args.profile} / seed {s.seed}: segments "
          f"{ {k: len(v) for k, v in data.x.items()} } of {cfg.frames} x {cfg.bins}, changes {changes or 'none'}")
    result = V.train_vae(data, cfg, seed=s.seed)
    mse = V.evaluate(result, data, seed=s.seed).set_index("model")["mse"]
    print(f"training: {result.seconds:.0f} s, {result.epochs} epochs; held-out mse trained {mse['trained']:.5f}, "
          f"untrained {mse['untrained']:.5f}, mean spectrogram {mse['mean_spectrogram']:.5f}")
    folder = s.models_dir / args.classifier
    try:
        bundle = ml.predict.load_bundle(folder)
    except ml.errors.MusiclibError:
        ml.experiments.run(args.classifier, settings=s, jobs=2)
        bundle = ml.predict.load_bundle(folder)
    report = V.generation_report(result, data, bundle, n_per_label=args.n_per_label, seed=s.seed)
    print(f"\nstyle agreement, classifier {args.classifier} ({bundle.segment_seconds:g}-s clips, held-out "
          f"recordings for the ceiling, {args.n_per_label} generated clips per style):")
    print(report.round(2).to_string(index=False))
    ceiling, generated = report["ceiling"].mean(), report["generated"].mean()
    print(f"mean over styles: ceiling {ceiling:.3f}, generated {generated:.3f}, ratio {generated / ceiling:.3f}; "
          f"styles at 0: {int((report['generated'] == 0).sum())}")
    fd = V.feature_distances(result, data, n=args.fd_clips, seed=s.seed)
    print(f"\nFrechet distance of MFCC summaries, {fd['n']} clips a side: real vs real {fd['real_vs_real']:.2f}, "
          f"vocoder vs real {fd['vocoder_vs_real']:.2f}, generated vs real {fd['generated_vs_real']:.2f} "
          f"(ratio to real vs real {fd['ratio']:.2f})")
    out = {"dataset": args.dataset, "profile": args.profile, "seed": s.seed, "classifier": args.classifier,
           "changes": changes, "train_seconds": round(result.seconds, 1), "epochs": result.epochs,
           "per_style": report.to_dict(orient="records"), "ceiling_mean": ceiling, "generated_mean": generated,
           "agreement_ratio": generated / ceiling, "feature_distance": fd,
           "total_seconds": round(time.perf_counter() - began, 1)}
    print(json.dumps(out, default=float))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(out, f, default=float, indent=1)


if __name__ == "__main__":
    main()
