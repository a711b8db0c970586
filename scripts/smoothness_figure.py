"""The README's over-smoothing figure from `gnn train` runs (standard library only).

For each run folder given, reads metrics.json and takes, per fold, the over-smoothing gauges of
the epoch whose checkpoint was selected; averages them over folds, per block; prints a table
(Markdown) and draws the mean cosine similarity per block as an SVG line chart, one line per run
(solid for `global`, dashed for the others, one colour per block count).

Usage: python3 scripts/smoothness_figure.py --out docs/smoothness.svg RUN_DIR [RUN_DIR ...]
"""
import argparse
import json
import os

COLOURS = {2: "#1f77b4", 4: "#ff7f0e", 8: "#2ca02c"}


def gauges(run):
    with open(os.path.join(run, "metrics.json")) as f:
        report = json.load(f)
    per_fold = []
    for fold in report["fold_results"]:
        epoch = next(e for e in fold["history"] if e["epoch"] == fold["selected_epoch"])
        per_fold.append(epoch["smoothness"])
    blocks = len(per_fold[0])
    mean = lambda key, k: sum(p[k][key] for p in per_fold) / len(per_fold)
    return dict(
        model=report["model"],
        blocks=blocks,
        accuracy=100 * report["test_accuracy_mean"],
        std=100 * report["test_accuracy_std"],
        cosine=[mean("cosine_similarity", k) for k in range(blocks)],
        energy=[mean("dirichlet_energy", k) for k in range(blocks)],
    )


def svg(runs, path):
    width, height, left, right, top, bottom = 640, 400, 60, 150, 30, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    y_min, y_max = 0.6, 1.0
    max_block = max(r["blocks"] for r in runs)
    x = lambda b: left + (b - 1) / max(max_block - 1, 1) * plot_w
    y = lambda v: top + (y_max - min(max(v, y_min), y_max)) / (y_max - y_min) * plot_h
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">', '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{left}" y="18" font-size="14">Mean pairwise cosine similarity of node embeddings '
           'after each block</text>']
    for i in range(5):
        v = y_min + i * (y_max - y_min) / 4
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.1f}</text>')
    for b in range(1, max_block + 1):
        out.append(f'<text x="{x(b):.1f}" y="{top + plot_h + 18}" text-anchor="middle">{b}</text>')
    out.append(f'<text x="{left + plot_w / 2}" y="{height - 12}" text-anchor="middle">block '
               '(validation graphs of the selected epoch, mean over 10 folds)</text>')
    for i, r in enumerate(runs):
        colour = COLOURS.get(r["blocks"], "#555")
        dash = "" if r["model"] == "global" else ' stroke-dasharray="6 4"'
        points = " ".join(f"{x(k + 1):.1f},{y(c):.1f}" for k, c in enumerate(r["cosine"]))
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        ly = top + 10 + 18 * i
        out.append(f'<line x1="{left + plot_w + 12}" x2="{left + plot_w + 36}" y1="{ly}" y2="{ly}" '
                   f'stroke="{colour}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{left + plot_w + 40}" y="{ly + 4}">{r["model"]}, {r["blocks"]} blocks</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("runs", nargs="+")
    args = ap.parse_args()
    runs = [gauges(r) for r in args.runs]
    print("| model | blocks | test accuracy | cosine similarity per block | Dirichlet energy per block |")
    print("|---|---|---|---|---|")
    for r in runs:
        cos = ", ".join(f"{c:.2f}" for c in r["cosine"])
        energy = ", ".join(f"{e:.1f}" for e in r["energy"])
        print(f"| `{r['model']}` | {r['blocks']} | {r['accuracy']:.1f} ± {r['std']:.1f} | {cos} | {energy} |")
    svg(runs, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
