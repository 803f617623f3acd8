"""The composers transfer check, end to end: does a net trained on the composers dataset label
the same repertories played with sampled instruments (a General MIDI SoundFont)?

A dev tool (not a project dependency, not part of ``make test``). Steps:

1. the composers dataset: reuse ``--dataset-dir`` when its ``composers.json`` is there, else
   build it with ``musiclib dataset composers --profile P --seed S --out DIR``;
2. held-out recordings: ``composers_gm_render.py`` (run by ``--gm-python``, a separate tool
   environment with music21 10.5.1, pretty_midi, soundfile and the fluidsynth program) renders
   ``--per-label`` pieces per label that the manifest does not use, into ``--gm-dir``
   (reused when its ``gm_render.json`` was made from the same manifest, seed and count);
3. per experiment: ``musiclib train DATASET_DIR --experiment NAME --profile P --json`` (own test
   split, recording level) and ``musiclib predict BUNDLE FILES... --json --top 8`` on every held-out
   file; the recording's label is predict's (mean probability over its segments);
4. a table: experiment, own-test accuracy, GM held-out accuracy, chance, ratio to chance,
   seconds -- printed, and rewritten to ``--report`` (markdown) after each experiment; every
   prediction goes to ``<build>/transfer_results.json``.

Run (project venv python; the renderer with the tool venv)::

    .venv/bin/python benchmarks/composers_transfer.py --profile fast \
        --experiments dense_mfcc_chroma_mel,cnn_mfcc,mel_cnn --gm-python /work/gmvenv/bin/python
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = ("bach", "palestrina", "monteverdi", "trecento", "quartets", "irish",
          "german_folk", "chinese_folk")


# General MIDI programs (0-based) near the dataset's instruments, by musiclib instrument name:
# a held-out recording is "in pool" when every part's program is near one the dataset plays.
GM_NEAR = {
    "piano": range(0, 8), "epiano": range(4, 6), "harpsichord": range(6, 7),
    "organ": range(16, 21), "guitar": list(range(24, 32)) + [46, 104, 105, 106, 107],
    "pluck": list(range(24, 32)) + [46, 104, 105, 106, 107],
    "strings": list(range(40, 52)) + [110], "voice": range(52, 55), "bell": range(8, 16),
}


def pool_programs(ds: Path) -> set[int]:
    """GM programs near the instruments the dataset's manifest uses."""
    data = json.loads((ds / "composers.json").read_text())
    names = {p.get("instrument") for f in data.get("files", []) for p in f.get("parts", [])}
    return {prog for name in names for prog in GM_NEAR.get(name, ())}


def sh(cmd: list[str], *, env: dict | None = None, log: Path | None = None) -> str:
    """Run ``cmd``; return stdout; on failure exit with its stderr's last lines."""
    print("$ " + " ".join(map(str, cmd)), flush=True)
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(res.stdout + "\n--- stderr ---\n" + res.stderr)
    if res.returncode != 0:
        tail = "\n".join(res.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{cmd[0]} {cmd[1] if len(cmd) > 1 else ''} failed "
                           f"({res.returncode}):\n{tail}")
    return res.stdout


def ensure_dataset(args, musiclib: str) -> Path:
    ds = Path(args.dataset_dir)
    if (ds / "composers.json").is_file():
        print(f"dataset: reusing {ds}", flush=True)
        return ds
    t = time.perf_counter()
    sh([musiclib, "dataset", "composers", "--profile", args.profile, "--seed", str(args.seed),
        "--out", ds])
    print(f"dataset: built {ds} in {time.perf_counter() - t:.0f} s", flush=True)
    return ds


def ensure_gm(args, ds: Path) -> dict:
    gm = Path(args.gm_dir)
    meta_path = gm / "gm_render.json"
    manifest = (ds / "composers.json").resolve()
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        counts = Counter(f["label"] for f in meta["files"])
        if (meta.get("manifest") == str(manifest) and meta.get("seed") == args.gm_seed
                and all(counts.get(lab, 0) >= min(args.per_label, 1) for lab in LABELS)
                and max(counts.values()) == args.per_label):
            print(f"held-out GM recordings: reusing {gm} ({len(meta['files'])} files)", flush=True)
            return meta
    cmd = [args.gm_python, HERE / "composers_gm_render.py", "--out", gm, "--manifest", manifest,
           "--per-label", str(args.per_label), "--seed", str(args.gm_seed),
           "--where", args.where]
    env = None
    try:  # list pieces exactly as the dataset does (musiclib.scores), when it is there
        import musiclib
        from musiclib import scores  # noqa: F401
        env = {"PYTHONPATH": str(Path(musiclib.__file__).resolve().parents[1])}
        cmd.append("--use-musiclib-scores")
    except ImportError:
        pass
    if args.soundfont:
        cmd += ["--soundfont", args.soundfont]
    t = time.perf_counter()
    sh(cmd, env=env, log=gm.parent / f"{gm.name}-render.log")
    print(f"held-out GM recordings: rendered in {time.perf_counter() - t:.0f} s", flush=True)
    return json.loads(meta_path.read_text())


def check_disjoint(ds: Path, meta: dict) -> None:
    """Stop when a held-out piece is one of the dataset's (by id and by score path + number)."""
    data = json.loads((ds / "composers.json").read_text())
    rows = data if isinstance(data, list) else (data.get("files") or data.get("pieces") or [])
    used_ids = {r.get("piece") for r in rows if isinstance(r, dict)}
    used_scores = {(r.get("score"), r.get("number")) for r in rows if isinstance(r, dict)}
    for f in meta["files"]:
        if f["piece"] in used_ids or (f["score"], f["number"]) in used_scores:
            raise SystemExit(f"held-out piece {f['piece']} is in the dataset: not disjoint")


def run_experiment(name: str, args, musiclib: str, ds: Path, meta: dict, build: Path) -> dict:
    env = {"MUSICLIB_BUILD_DIR": str(build)}
    bundle = build / "models" / args.profile / "composers" / name
    log = build / "logs" / f"train_{name}.log"
    row = None
    if args.reuse_bundles and (bundle / "bundle.json").is_file() and log.is_file():
        lines = [ln for ln in log.read_text().split("\n--- stderr ---")[0].splitlines()
                 if ln.startswith("{")]
        row = json.loads(lines[-1]) if lines else None
    if row is not None:
        print(f"{name}: reusing the bundle {bundle} (trained in {row['train_seconds']:.0f} s)")
        train_s = float(row["train_seconds"])
    else:
        t = time.perf_counter()
        out = sh([musiclib, "train", ds, "--experiment", name, "--profile", args.profile,
                  "--seed", str(args.seed), "--out", bundle, "--json", "-q"]
                 + (["--jobs", str(args.jobs)] if args.jobs else []), env=env, log=log)
        train_s = time.perf_counter() - t
        row = json.loads(out.strip().splitlines()[-1])
    gm = Path(args.gm_dir)
    files = [gm / f["path"] for f in meta["files"]]
    t = time.perf_counter()
    out = sh([musiclib, "predict", row.get("bundle") or bundle, *files, "--json", "--top", "8"],
             env=env, log=build / "logs" / f"predict_{name}.log")
    predict_s = time.perf_counter() - t
    preds = {}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            p = json.loads(line)
            preds[str(Path(p["path"]).resolve())] = p
    per_label: dict[str, list[int]] = defaultdict(list)
    per_ens: dict[str, list[int]] = defaultdict(list)
    confusion: dict[str, Counter] = defaultdict(Counter)
    details, vote_hits = [], []
    pool = pool_programs(ds)
    for f, path in zip(meta["files"], files):
        p = preds.get(str(path.resolve()))
        if p is None or "error" in p:
            raise SystemExit(f"{path}: no prediction ({p and p.get('error')})")
        hit = int(p["label"] == f["label"])
        per_label[f["label"]].append(hit)
        per_ens[f"{f['label']}:{f['ensemble']}"].append(hit)
        confusion[f["label"]][p["label"]] += 1
        vote_hits.append(int(p["vote_label"] == f["label"]))
        details.append({"piece": f["piece"], "label": f["label"], "ensemble": f["ensemble"],
                        "in_pool": all(prog in pool for prog in f["programs"]),
                        "predicted": p["label"], "probability": p["probability"],
                        "p_true": p["probabilities"].get(f["label"], 0.0)})
    n = len(details)
    acc = sum(d["predicted"] == d["label"] for d in details) / n
    labels_in = [lab for lab in LABELS if per_label.get(lab)]
    bundle_json = Path(row.get("bundle") or bundle) / "bundle.json"
    n_labels = len(LABELS)
    if bundle_json.is_file():
        n_labels = len(json.loads(bundle_json.read_text()).get("labels") or LABELS)
    chance = 1.0 / n_labels
    return {
        "experiment": name,
        "own_test_recording": row.get("test_accuracy_recording"),
        "own_test_segment": row.get("test_accuracy_segment"),
        "gm_recording": acc,
        "gm_recording_vote": sum(vote_hits) / n,
        "gm_n": n,
        "chance": chance,
        "ratio": acc / chance,
        "gm_in_pool": _acc([d for d in details if d["in_pool"]]),
        "gm_out_of_pool": _acc([d for d in details if not d["in_pool"]]),
        "gm_per_label": {lab: sum(per_label[lab]) / len(per_label[lab]) for lab in labels_in},
        "gm_per_ensemble": {k: [sum(v), len(v)] for k, v in sorted(per_ens.items())},
        "gm_confusion": {lab: dict(confusion[lab]) for lab in labels_in},
        "train_s": train_s, "predict_s": predict_s, "epochs": row.get("epochs"),
        "bundle": row.get("bundle"), "details": details,
    }


def _acc(rows: list[dict]) -> list:
    """[accuracy, n] of some prediction details."""
    return [sum(d["predicted"] == d["label"] for d in rows) / len(rows) if rows else None,
            len(rows)]


def table_md(results: list[dict], args, meta: dict | None, ds: Path | None) -> str:
    lines = [
        "# Composers transfer check (GM SoundFont held-out recordings)",
        "",
        f"Profile `{args.profile}`, seed {args.seed}; dataset `{ds}`; held-out: "
        f"{meta and len(meta['files'])} GM recordings ({args.per_label} per label, "
        f"{meta and meta.get('soundfont')} via {meta and meta.get('synth')}, "
        f"{meta and meta.get('seconds')} s from the {meta and meta.get('where')}), pieces disjoint "
        "from the dataset's manifest. Accuracies are recording level (predict's label: mean "
        "probability over segments). Acceptance: GM accuracy >= 2 x chance.",
        "",
        "| experiment | own test acc (rec) | GM held-out acc (rec) | GM acc (vote) | chance | "
        "ratio to chance | >= 2x | train s | predict s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        own = r["own_test_recording"]
        lines.append(
            f"| {r['experiment']} | {own if own is None else f'{own:.3f}'} | "
            f"{r['gm_recording']:.3f} ({round(r['gm_recording'] * r['gm_n'])}/{r['gm_n']}) | "
            f"{r['gm_recording_vote']:.3f} | {r['chance']:.3f} | {r['ratio']:.2f} | "
            f"{'yes' if r['ratio'] >= 2 else 'no'} | {r['train_s']:.0f} | {r['predict_s']:.0f} |")
    if results:
        lines += ["", "GM held-out accuracy per label:", "",
                  "| experiment | " + " | ".join(LABELS) + " |",
                  "|---|" + "---|" * len(LABELS)]
        for r in results:
            lines.append(f"| {r['experiment']} | " + " | ".join(
                f"{r['gm_per_label'].get(lab, float('nan')):.2f}" for lab in LABELS) + " |")
        lines += ["", "GM held-out accuracy by timbre: recordings whose every GM program is near "
                  "an instrument of the dataset's pool (organ, strings, voice, piano, "
                  "harpsichord, guitar/plucked) vs the rest (winds, brass, accordion, pipes):", "",
                  "| experiment | in pool | out of pool |", "|---|---|---|"]
        for r in results:
            a, b = r["gm_in_pool"], r["gm_out_of_pool"]
            fmt = lambda x: "n/a" if x[0] is None else f"{x[0]:.3f} (n={x[1]})"  # noqa: E731
            lines.append(f"| {r['experiment']} | {fmt(a)} | {fmt(b)} |")
        if ds is not None and (ds / "composers.json").is_file():
            data = json.loads((ds / "composers.json").read_text())
            per: dict[str, Counter] = defaultdict(Counter)
            for f in data.get("files", []):
                for part in f.get("parts", []):
                    per[f["label"]][part.get("instrument")] += 1
            names = sorted({n for c in per.values() for n in c})
            lines += ["", "The dataset's instruments: parts played by each, per label (a timbre "
                      "that one label gets far more often is a shortcut the net can learn):", "",
                      "| label | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
            for lab in LABELS:
                if lab in per:
                    lines.append(f"| {lab} | " + " | ".join(str(per[lab][n]) for n in names)
                                 + " |")
        lines += ["", "Where GM recordings went (true label -> predicted counts):", ""]
        for r in results:
            lines.append(f"- **{r['experiment']}**: " + "; ".join(
                f"{lab} -> " + ", ".join(f"{k} {v}" for k, v in
                                       sorted(c.items(), key=lambda kv: -kv[1]))
                for lab, c in r["gm_confusion"].items()))
    lines += ["", f"_Updated {time.strftime('%Y-%m-%d %H:%M:%S')}; run: `python "
              "benchmarks/composers_transfer.py --profile "
              f"{args.profile} --experiments {args.experiments} --gm-python {args.gm_python}`_", ""]
    return "\n".join(lines)


def print_table(results: list[dict]) -> None:
    print(f"\n{'experiment':24s} {'own test':>9s} {'GM held-out':>12s} {'chance':>7s} "
          f"{'ratio':>6s} {'seconds':>8s}")
    for r in results:
        own = r["own_test_recording"]
        own_s = "n/a" if own is None else f"{own:.3f}"
        print(f"{r['experiment']:24s} {own_s:>9s} {r['gm_recording']:12.3f} "
              f"{r['chance']:7.3f} {r['ratio']:6.2f} {r['train_s'] + r['predict_s']:8.0f}",
              flush=True)


def report_only(args, build: Path) -> int:
    """Recompute the timbre split from saved results (older runs lack it) and write the report."""
    ds = Path(args.dataset_dir)
    meta = json.loads((Path(args.gm_dir) / "gm_render.json").read_text())
    results = json.loads((build / "transfer_results.json").read_text())
    pool = pool_programs(ds)
    progs = {f["piece"]: f["programs"] for f in meta["files"]}
    for r in results:
        for d in r["details"]:
            d["in_pool"] = all(p in pool for p in progs[d["piece"]])
        r["gm_in_pool"] = _acc([d for d in r["details"] if d["in_pool"]])
        r["gm_out_of_pool"] = _acc([d for d in r["details"] if not d["in_pool"]])
    print_table(results)
    if args.report:
        Path(args.report).write_text(table_md(results, args, meta, ds))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="fast")
    ap.add_argument("--experiments", required=True, help="comma-separated experiment names")
    ap.add_argument("--gm-python", required=True, help="python of the tool venv (renderer)")
    ap.add_argument("--seed", type=int, default=0, help="dataset and training seed")
    ap.add_argument("--gm-seed", type=int, default=0, help="held-out piece / program seed")
    ap.add_argument("--per-label", type=int, default=8)
    ap.add_argument("--where", choices=("start", "middle"), default="start")
    ap.add_argument("--soundfont")
    ap.add_argument("--build-dir", default="build/transfer",
                    help="MUSICLIB_BUILD_DIR for training; results JSON and logs go here")
    ap.add_argument("--dataset-dir", help="default: <build-dir>/composers-<profile>")
    ap.add_argument("--gm-dir", help="default: <build-dir>/gm-heldout")
    ap.add_argument("--report", help="markdown file rewritten after each experiment")
    ap.add_argument("--jobs", type=int)
    ap.add_argument("--reuse-bundles", action="store_true",
                    help="predict with bundles an earlier run trained (same build dir)")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite --report from <build-dir>/transfer_results.json; no training")
    ap.add_argument("--musiclib", default=str(Path(sys.executable).parent / "musiclib"),
                    help="the musiclib command (default: beside this python)")
    args = ap.parse_args(argv)
    build = Path(args.build_dir).resolve()
    args.dataset_dir = args.dataset_dir or str(build / f"composers-{args.profile}")
    args.gm_dir = args.gm_dir or str(build / "gm-heldout")
    if args.report_only:
        return report_only(args, build)
    ds = ensure_dataset(args, args.musiclib)
    meta = ensure_gm(args, ds)
    check_disjoint(ds, meta)
    results_path = build / "transfer_results.json"
    results: list[dict] = []
    for name in [e.strip() for e in args.experiments.split(",") if e.strip()]:
        try:
            results.append(run_experiment(name, args, args.musiclib, ds, meta, build))
        except RuntimeError as exc:
            print(f"experiment {name} failed: {exc}", file=sys.stderr, flush=True)
            continue
        print_table(results)
        results_path.parent.mkdir(parents=True, exist_ok=True)
        results_path.write_text(json.dumps(results, indent=1))
        if args.report:
            Path(args.report).write_text(table_md(results, args, meta, ds))
    if not results:
        return 1
    best = max(results, key=lambda r: r["gm_recording"])
    print(f"\nbest transfer: {best['experiment']} {best['gm_recording']:.3f} "
          f"({best['ratio']:.2f} x chance); results {results_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
