"""Time and quality of the spectrogram VAE in a profile, for a few settings.

    python benchmarks/vae.py [--profile fast] [--epochs 20] [--filters 8,16,32,32,64 ...]

Prints, per setting: training seconds, seconds per epoch, and the held-out reconstruction
MSE of the trained model, the untrained one and the mean-spectrogram baseline.
"""

from __future__ import annotations

import argparse
import time

import musiclib as ml
from musiclib import vae as V


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="fast")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--latent", type=int, default=None)
    parser.add_argument("--filters", nargs="*", default=[], help="comma-separated 5-tuples to compare")
    args = parser.parse_args()
    s = ml.config.settings(profile=args.profile)
    base = V.VAEConfig.for_profile(args.profile)
    changes = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                 ("latent_dim", args.latent)) if v is not None}
    base = base.replace(**changes)
    start = time.perf_counter()
    ds = ml.datasets.load(s.dataset, settings=s, jobs=2)
    manifest = ml.splits.assign_splits(ds.manifest, valid_size=0.15, test_size=0.15, seed=s.seed)
    data = V.prepare(manifest, s, base, jobs=2)
    print(f"prepare: {time.perf_counter() - start:.1f} s, train {data.x['train'].shape}, test {data.x['test'].shape}")
    for text in args.filters or [",".join(map(str, base.filters))]:
        cfg = base.replace(filters=tuple(int(f) for f in text.split(",")))
        result = V.train_vae(data, cfg, seed=s.seed)
        table = V.evaluate(result, data, seed=s.seed).set_index("model")["mse"]
        print(f"filters {text:>18}  epochs {cfg.epochs}  batch {cfg.batch_size}  latent {cfg.latent_dim}: "
              f"{result.seconds:6.1f} s ({result.seconds / cfg.epochs:.2f} s/epoch)  "
              f"mse trained {table['trained']:.5f}  untrained {table['untrained']:.5f}  "
              f"mean {table['mean_spectrogram']:.5f}")


if __name__ == "__main__":
    main()
