#!/usr/bin/env bash
# Times the pooling layers against PyTorch Geometric, back to back, and prints one ratio table.
#
#   PYG_PY=/path/to/python crates/gnn-pool/examples/compare_pyg.sh [--scales S,M,L] [--backend flex]
#
# For each scale, runs PyG's `../shared/bench/pyg/micro.py` (2 threads) and then our
# `bench_pool --scale X --json` (2 rayon threads), each under GNU time for its peak RSS, and
# prints the medians, the ratio ours / PyG (fwd and fwd+bwd; below 1 we are faster) and the peak
# RSS of both processes at each scale. Without `PYG_PY` it prints our figures alone.
# Run from anywhere; the shared benchmark folder defaults to the checkout's `../shared/bench/pyg`
# (override with `PYG_BENCH=DIR`). Builds `bench_pool` in release first (`cargo build
# --workspace --release --examples`, honouring `CARGO_TARGET_DIR`).
set -euo pipefail

scales="S,M,L"
backend="flex"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --scales) scales="$2"; shift 2 ;;
        --backend) backend="$2"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
bench_dir="${PYG_BENCH:-$root/../shared/bench/pyg}"
target="${CARGO_TARGET_DIR:-$root/target}"
# Raw results (PyG's JSON, our JSON lines, peak RSS in KiB) go to `$KEEP` when set.
if [[ -n "${KEEP:-}" ]]; then
    work="$KEEP"
    mkdir -p "$work"
else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi

if [[ ! -x /usr/bin/time ]]; then
    echo "GNU time (/usr/bin/time) is needed for the peak RSS" >&2
    exit 2
fi

(cd "$root" && cargo build --quiet --workspace --release --examples)
ours="$target/release/examples/bench_pool"

IFS=',' read -r -a scale_list <<< "$scales"
for scale in "${scale_list[@]}"; do
    if [[ -n "${PYG_PY:-}" ]]; then
        echo "PyG, scale $scale ..." >&2
        (cd "$bench_dir" && /usr/bin/time -f "%M" -o "$work/pyg_$scale.rss" \
            "$PYG_PY" micro.py --threads 2 --scales "$scale" --dump-scales "" \
            --out "$work/pyg_$scale.json" > "$work/pyg_$scale.log" 2>&1) || {
            echo "micro.py failed, see its log:" >&2
            cat "$work/pyg_$scale.log" >&2
            exit 1
        }
    fi
    echo "ours ($backend), scale $scale ..." >&2
    (cd "$root" && RAYON_NUM_THREADS=2 /usr/bin/time -f "%M" -o "$work/ours_$scale.rss" \
        "$ours" --scale "$scale" --backend "$backend" --json --inputs "$bench_dir/inputs" \
        > "$work/ours_$scale.jsonl")
done

python3 - "$work" "$scales" "${PYG_PY:+pyg}" <<'EOF'
import json, os, sys

work, scales, with_pyg = sys.argv[1], sys.argv[2].split(","), sys.argv[3] == "pyg"
ops = ["topk_pool_r0.5", "sag_pool_r0.5", "global_mean_pool", "global_max_pool", "global_add_pool"]
modes = [("fwd", "fwd"), ("fwd_bwd", "fwd+bwd")]
ours, pyg, rss = {}, {}, {}
for s in scales:
    for line in open(os.path.join(work, f"ours_{s}.jsonl")):
        r = json.loads(line)
        ours[(s, r["op"], r["mode"])] = r["median_ms"]
    rss[("ours", s)] = int(open(os.path.join(work, f"ours_{s}.rss")).read().split()[-1]) / 1024
    if with_pyg:
        res = json.load(open(os.path.join(work, f"pyg_{s}.json")))
        for op, modes_ms in res["scales"][s]["ops"].items():
            for mode, v in modes_ms.items():
                if isinstance(v, dict) and "median_ms" in v:
                    pyg[(s, op, mode)] = v["median_ms"]
        rss[("pyg", s)] = int(open(os.path.join(work, f"pyg_{s}.rss")).read().split()[-1]) / 1024

cols = [(s, m, label) for s in scales for m, label in modes]
if with_pyg:
    print("Ours / PyG, median times (below 1: we are faster)\n")
else:
    print("Our median milliseconds (PYG_PY unset: no PyG figures)\n")
print("| op | " + " | ".join(f"{s} {label}" for s, _, label in cols) + " |")
print("|---|" + "---|" * len(cols))
worst = 0.0
for op in ops:
    cells = []
    for s, m, _ in cols:
        o = ours.get((s, op, m))
        if with_pyg:
            p = pyg.get((s, op, m))
            if o is None or p is None:
                cells.append("-")
            else:
                worst = max(worst, o / p)
                cells.append(f"{o / p:.2f}")
        else:
            cells.append("-" if o is None else f"{o:.3f}")
    print(f"| {op} | " + " | ".join(cells) + " |")
if with_pyg:
    print("\n| op | " + " | ".join(f"{s} {label} ours/PyG ms" for s, _, label in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for op in ops:
        cells = []
        for s, m, _ in cols:
            o, p = ours.get((s, op, m)), pyg.get((s, op, m))
            cells.append("-" if o is None or p is None else f"{o:.3f} / {p:.3f}")
        print(f"| {op} | " + " | ".join(cells) + " |")
print()
for s in scales:
    line = f"peak RSS at {s}: ours {rss[('ours', s)]:.0f} MiB"
    if with_pyg:
        line += f", PyG {rss[('pyg', s)]:.0f} MiB"
    print(line)
if with_pyg:
    print(f"\nworst ratio {worst:.2f} (bar 1.0, goal 0.5)")
EOF
