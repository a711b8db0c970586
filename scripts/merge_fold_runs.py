#!/usr/bin/env python3
"""Merge `gnn train` runs that trained disjoint folds of one split into one run folder.

A 10-fold grid of a slow model can be cut into parts trained side by side (one process per
core, or per machine): each part is `gnn train --splits PART.json` on a splits file holding
some of the folds. This script joins the parts, in the order given, into one run folder that
`gnn eval`, `gnn select` and `gnn compare` read like any finished run:

    python3 scripts/merge_fold_runs.py --out runs/compare-PROTEINS/diffpool \\
        --splits ../shared/datasets/splits/CHEMICAL/PROTEINS_full_splits.json \\
        runs/acc/PROTEINS-diffpool:0-4 runs/acc/PROTEINS-diffpool-folds5-9

Each PART is a run folder, optionally with `:FIRST-LAST`, the part's folds to keep (default:
all of them). Folds are renumbered consecutively in the order given, so the parts must be
given in the order of the full splits file, which the script checks fold by fold: each kept
fold of a part's own splits file (its `run.json` names it) must be the full file's fold at that
place, graph for graph.

The parts must share every training flag but `--splits`, `--out` and `--threads`; the script
refuses otherwise. The summary (mean and population standard deviation of test accuracy, the
median training seconds of epochs 2.. over all folds, total seconds) is recomputed as
`gnn train` computes it. The root model files are the first part's (parameter count only);
`merged_from.json` says where each fold came from.
"""

import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path

# Run flags that may differ between parts: where they were written and how they were run.
PER_PART_FLAGS = {"splits", "out", "threads", "folds"}


def parse_part(text):
    """`DIR` or `DIR:FIRST-LAST` -> (Path, range or None)."""
    if ":" in text:
        folder, folds = text.rsplit(":", 1)
        first, last = (int(v) for v in folds.split("-"))
        if last < first:
            sys.exit(f"error: {text}: empty fold range")
        return Path(folder), range(first, last + 1)
    return Path(text), None


def load(path):
    with open(path) as f:
        return json.load(f)


def split_folds(splits_file):
    """Per fold of an Errica-style splits file: its (train, validation, test) graph indices."""
    folds = []
    for fold in load(splits_file):
        inner = fold["model_selection"][0]
        folds.append((inner["train"], inner["validation"], fold["test"]))
    return folds


def median(values):
    values = sorted(v for v in values if v == v)
    return statistics.median(values) if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="new run folder (must not exist)")
    parser.add_argument("--splits", required=True, type=Path, help="the full splits file")
    parser.add_argument("parts", nargs="+", help="run folders, each optionally DIR:FIRST-LAST")
    args = parser.parse_args()
    if args.out.exists():
        sys.exit(f"error: {args.out} exists")

    expected = split_folds(args.splits)
    parts = [parse_part(p) for p in args.parts]
    first_run = load(parts[0][0] / "run.json")
    first_report = load(parts[0][0] / "metrics.json")
    folds, copies, total_seconds, left_out = [], [], 0.0, set()
    for folder, keep in parts:
        run, report = load(folder / "run.json"), load(folder / "metrics.json")
        for key in sorted(set(run) | set(first_run)):
            if key not in PER_PART_FLAGS and run.get(key) != first_run.get(key):
                sys.exit(f"error: {folder}: --{key} is {run.get(key)!r}, not {first_run.get(key)!r}")
        for key in ("classifier", "training"):
            a, b = dict(report[key]), dict(first_report[key])
            if key == "training":
                a.pop("threads", None), b.pop("threads", None)
            if a != b:
                sys.exit(f"error: {folder}: its {key} configuration differs from the first part's")
        if not run.get("splits"):
            sys.exit(f"error: {folder}: not trained on a splits file (--splits)")
        part_folds = split_folds(run["splits"])
        by_fold = {f["fold"]: f for f in report["fold_results"]}
        wanted = keep if keep is not None else sorted(by_fold)
        for k in wanted:
            if k not in by_fold:
                sys.exit(f"error: {folder}: fold {k} did not finish")
            fold = dict(by_fold[k])
            new = len(folds)
            if new >= len(expected):
                sys.exit(f"error: more folds than {args.splits} holds ({len(expected)})")
            if part_folds[k] != expected[new]:
                sys.exit(
                    f"error: {folder} fold {k} is not fold {new} of {args.splits} "
                    "(parts in the wrong order, or another split)"
                )
            fold["fold"] = new
            folds.append(fold)
            copies.append((folder / f"fold-{k}", f"fold-{new}"))
            total_seconds += fold["seconds"]
        left_out.update(report["left_out"]["graphs"])
    if len(folds) != len(expected):
        sys.exit(f"error: {len(folds)} folds given, {args.splits} holds {len(expected)}")

    accuracies = [f["test_accuracy"] for f in folds]
    times = [e["train_seconds"] for f in folds for e in f["history"][1 if len(f["history"]) > 1 else 0:]]
    merged = dict(first_report)
    merged.update(
        folds=len(folds),
        test_accuracy_mean=statistics.fmean(accuracies),
        test_accuracy_std=statistics.pstdev(accuracies),
        seconds_per_epoch=median(times),
        total_seconds=total_seconds,
        left_out={"max_nodes": first_report["left_out"]["max_nodes"], "graphs": sorted(left_out)},
        fold_results=folds,
        finished=True,
    )
    run = dict(first_run, splits=str(args.splits), out=str(args.out))

    args.out.mkdir(parents=True)
    for src, dst in copies:
        shutil.copytree(src, args.out / dst)
    for name in ("model.json", "model.mpk", "preprocessing.json"):
        if (parts[0][0] / name).exists():
            shutil.copy2(parts[0][0] / name, args.out / name)
    with open(args.out / "run.json", "w") as f:
        json.dump(run, f, indent=2)
        f.write("\n")
    # Where each fold came from, beside the run (run.json keeps `gnn train`'s schema).
    with open(args.out / "merged_from.json", "w") as f:
        json.dump({dst: str(src) for src, dst in copies}, f, indent=2)
        f.write("\n")
    with open(args.out / "metrics.json", "w") as f:
        json.dump(merged, f, indent=2)
        f.write("\n")
    print(
        f"{args.out}: {len(folds)} folds, test accuracy "
        f"{100 * merged['test_accuracy_mean']:.1f} ± {100 * merged['test_accuracy_std']:.1f}, "
        f"{merged['seconds_per_epoch']:.2f} s/epoch (median), {total_seconds:.0f} s in all"
    )


if __name__ == "__main__":
    main()
