"""What the composers dataset has to draw from: every corpus piece parsed once, per label.

Usage::

    python benchmarks/composers_catalogue.py [--labels bach,irish] [--cache DIR] [--csv FILE] [--sample N]

Prints a markdown table, per label: pieces listed, pieces parsed OK, total minutes and median
piece length (at the repertory's default tempo, or the score's marks), median parse and
extraction seconds per piece (of the pieces parsed now, not read from the cache), then the
failures by reason. With ``--cache`` the notes are kept (``musiclib.scores.read_piece``), so
a second run parses nothing and the dataset writer reuses them. With ``--sample N`` at most N
pieces per label are read (drawn at random) and a label's minutes are estimated as the sample's
mean length times the pieces listed (the ``minutes`` column says ``~`` then).
"""

from __future__ import annotations

import argparse
import os
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import time  # noqa: E402

from musiclib import scores  # noqa: E402


def table(frame, listed: dict[str, int] | None = None) -> str:
    """The per-label summary of a :func:`musiclib.scores.catalogue` frame, as markdown.

    ``listed`` (label -> pieces listed) marks a sampled catalogue: the label's minutes are
    then estimated from the sample's usable share and mean length."""
    lines = ["| label | listed | usable | failed | minutes | median s | parse s/piece | "
             "extract s/piece | parts |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for label, group in frame.groupby("label", sort=False):
        ok = group[group["error"] == ""]
        n_listed = (listed or {}).get(label, len(group))
        minutes = ok["seconds"].sum() / 60 * n_listed / len(group)
        minutes_text = f"{minutes:.0f}" if n_listed == len(group) else f"~{minutes:.0f}"
        parts = sorted(ok["n_parts"].unique().tolist())
        parts_text = (f"{parts[0]}" if len(parts) == 1
                      else f"{parts[0]}-{parts[-1]}" if parts else "-")
        lines.append(
            f"| {label} | {n_listed} | {len(ok)} of {len(group)} read | {len(group) - len(ok)} | "
            f"{minutes_text} | {ok['seconds'].median():.0f} | "
            f"{group['parse_s'].median():.3f} | {group['extract_s'].median():.3f} | "
            f"{parts_text} |")
    failed = frame[frame["error"] != ""]
    lines.append("")
    if failed.empty:
        lines.append("No failures.")
    else:
        lines.append("Failures by reason:")
        lines.append("")
        kinds = failed.assign(kind=failed["error"].map(scores.error_kind))
        for (label, kind), group in kinds.groupby(["label", "kind"], sort=False):
            example = group.iloc[0]
            lines.append(f"- {label}: {kind} x {len(group)} (e.g. {example['id']}: "
                         f"{example['error'][:140]})")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", default=",".join(scores.REPERTORIES),
                    help="comma-separated labels (default: all)")
    ap.add_argument("--cache", default=None, help="notes cache folder")
    ap.add_argument("--csv", default=None, help="also write the whole catalogue here")
    ap.add_argument("--sample", type=int, default=None, help="read at most N pieces per label")
    args = ap.parse_args(argv)
    labels = [x for x in args.labels.split(",") if x]
    t0 = time.perf_counter()
    frame = scores.catalogue(labels, cache_dir=args.cache, progress=True, sample=args.sample)
    listed = {label: len(scores.list_pieces(label)) for label in labels}
    wall = time.perf_counter() - t0
    if args.csv:
        from musiclib import safe_write

        safe_write.write_csv(frame, args.csv)
    print(f"music21 {scores.MUSIC21_VERSION}; {len(frame)} pieces in {wall:.0f} s "
          f"({int(frame['cached'].sum())} from the cache)\n")
    print(table(frame, listed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
