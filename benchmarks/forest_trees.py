"""Random forest with 100 or 300 trees: grouped 5-fold CV accuracy over 3 seeds and CPU time, on
clip feature means and stds (`python benchmarks/forest_trees.py synthetic composers`, fast profile).

Measured 2026-11-30 on the fast synthetic styles: 100 trees 0.843, 300 trees 0.837, CPU 5.9 s
against 16.5 s; musiclib.baselines uses 100."""
import sys, time, numpy as np, musiclib as ml
from sklearn.model_selection import StratifiedGroupKFold, cross_val_score
from sklearn.ensemble import RandomForestClassifier
for name in sys.argv[1:]:
    s = ml.config.settings(profile="fast")
    ds = ml.datasets.load(name, settings=s)
    fs = ml.features.extract_dataset(ds.manifest, ml.features.FeatureConfig(), cache_dir=s.cache_dir / "features", jobs=1, features=("all",))
    t = fs.summaries
    cols = ml.baselines.feature_columns(t, ["spectral", "mfcc", "chroma", "mel"], stats=("mean", "std"))
    X, y, g = t[cols].to_numpy(np.float32), t["label"].to_numpy(), t["group"].to_numpy()
    for trees in (100, 300):
        accs = []
        t0 = time.process_time()
        for seed in range(3):
            cv = StratifiedGroupKFold(5, shuffle=True, random_state=seed)
            accs.append(cross_val_score(RandomForestClassifier(n_estimators=trees, random_state=seed), X, y, groups=g, cv=cv).mean())
        print(name, trees, "trees: CV accuracy", np.round(accs, 3), "mean", round(float(np.mean(accs)), 3), "cpu s", round(time.process_time() - t0, 1), flush=True)
