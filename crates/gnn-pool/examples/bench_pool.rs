//! Times the pooling layers on the workloads of PyG's `bench/pyg/micro.py`.
//!
//! ```text
//! cargo run --release --example bench_pool -- --scale S [--backend flex|ndarray|wgpu] [--json]
//!     [--pyg ../shared/bench/pyg/results_micro.json]
//! ```
//!
//! Ops: TopKPooling(64, ratio 0.5), SAGPooling(64, ratio 0.5, GraphConv scorer), global
//! mean/max/add pooling. Modes: `fwd` (inference, no autodiff graph) and `fwd_bwd` (forward under
//! `Autodiff`, then `out.sum().backward()`). Scales: S = the exact PyG inputs from
//! `../shared/bench/pyg/inputs/` (128 graphs, 5,198 nodes); M = 1,024 graphs of U{20..60} nodes;
//! L = one graph of 100,000 nodes and 1,000,000 edge columns; 64 float32 features, mean degree 4.
//! M and L are generated here with the same distributions as PyG's generator (not the same
//! numbers). Prints median and min milliseconds per op; with `--pyg FILE` also the ratio to PyG's
//! medians from that file (measure PyG in the same run for a fair figure).

use std::path::PathBuf;
use std::time::Instant;

use burn::backend::{Autodiff, Flex, NdArray};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use clap::{Parser, ValueEnum};
use gnn_core::GraphBatch;
use gnn_core::segment::{SegmentAutodiffBackend, SegmentBackend};
use gnn_pool::GlobalPool;
use gnn_pool::{SagPoolingConfig, Selection, TopKPoolingConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Scale {
    #[value(name = "S", alias = "s")]
    S,
    #[value(name = "M", alias = "m")]
    M,
    #[value(name = "L", alias = "l")]
    L,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BackendName {
    Flex,
    Ndarray,
    Wgpu,
}

#[derive(Parser, Debug)]
#[command(about = "Times the pooling layers on PyG's micro-benchmark workloads")]
struct Args {
    /// Workload size.
    #[arg(long, value_enum, default_value = "S")]
    scale: Scale,
    /// Backend to time.
    #[arg(long, value_enum, default_value = "flex")]
    backend: BackendName,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    json: bool,
    /// Timed repetitions (default as PyG: S 50, M 30, L 20).
    #[arg(long)]
    repeats: Option<usize>,
    /// PyG's results file, to print our time as a ratio of PyG's.
    #[arg(long)]
    pyg: Option<PathBuf>,
    /// Only these ops (comma-separated names as printed), e.g. for a profile of one.
    #[arg(long, value_delimiter = ',')]
    ops: Vec<String>,
    /// Where PyG's exact S inputs are.
    #[arg(long, default_value = "../shared/bench/pyg/inputs")]
    inputs: PathBuf,
}

struct Workload {
    x: Vec<f32>,
    features: usize,
    edges: Vec<i64>,
    batch: Vec<i64>,
}

fn read_npy<T: npyz::Deserialize>(path: &std::path::Path) -> Result<Vec<T>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(|e| format!("{}: {e}", path.display()))?;
    npy.into_vec()
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn load_s(dir: &std::path::Path) -> Result<Workload, String> {
    let x: Vec<f32> = read_npy(&dir.join("S_x.npy"))?;
    let edges: Vec<i64> = read_npy(&dir.join("S_edge_index.npy"))?;
    let batch: Vec<i64> = read_npy(&dir.join("S_batch.npy"))?;
    let features = x.len() / batch.len();
    Ok(Workload {
        x,
        features,
        edges,
        batch,
    })
}

/// PyG's `make_batched_graphs` distributions: sizes U{20..60} (or fixed), `n · 2` distinct
/// undirected pairs per graph (or fixed), both directions, sorted by (source, target), standard
/// normal features.
fn generate(num_graphs: usize, fixed: Option<(usize, usize)>, seed: u64) -> Workload {
    let mut rng = StdRng::seed_from_u64(seed);
    let features = 64;
    let mut batch = Vec::new();
    let mut pairs: Vec<(i64, i64)> = Vec::new();
    let mut offset = 0i64;
    for g in 0..num_graphs {
        let (n, m) = fixed.unwrap_or_else(|| {
            let n = rng.random_range(20..=60);
            (n, n * 2)
        });
        let mut seen = std::collections::HashSet::with_capacity(m);
        while seen.len() < m {
            let u = rng.random_range(0..n);
            let v = rng.random_range(0..n);
            if u != v {
                seen.insert((u.min(v), u.max(v)));
            }
        }
        for (u, v) in seen {
            pairs.push((u as i64 + offset, v as i64 + offset));
            pairs.push((v as i64 + offset, u as i64 + offset));
        }
        batch.extend(std::iter::repeat_n(g as i64, n));
        offset += n as i64;
    }
    pairs.sort_unstable();
    let edges = pairs
        .iter()
        .map(|p| p.0)
        .chain(pairs.iter().map(|p| p.1))
        .collect();
    let x = (0..batch.len() * features)
        .map(|_| rng.sample::<f32, _>(StandardNormal))
        .collect();
    Workload {
        x,
        features,
        edges,
        batch,
    }
}

fn to_batch<B: Backend>(w: &Workload, device: &B::Device) -> GraphBatch<B> {
    let n = w.batch.len();
    let x = Tensor::from_data(TensorData::new(w.x.clone(), [n, w.features]), device);
    let e = w.edges.len() / 2;
    let edge_index: Tensor<B, 2, Int> =
        Tensor::from_data(TensorData::new(w.edges.clone(), [2, e]), device);
    let batch = Tensor::from_data(TensorData::new(w.batch.clone(), [n]), device);
    GraphBatch::from_tensors(x, edge_index, batch).expect("benchmark inputs are valid")
}

fn time(repeats: usize, warmup: usize, mut f: impl FnMut()) -> (f64, f64) {
    for _ in 0..warmup {
        f();
    }
    let mut times: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let median = if repeats % 2 == 1 {
        times[repeats / 2]
    } else {
        (times[repeats / 2 - 1] + times[repeats / 2]) / 2.0
    };
    (median, times[0])
}

const OPS: [&str; 5] = [
    "topk_pool_r0.5",
    "sag_pool_r0.5",
    "global_mean_pool",
    "global_max_pool",
    "global_add_pool",
];

/// Runs op `name` on `graphs`, returning the output to be summed.
fn run_op<B: SegmentBackend>(
    name: &str,
    graphs: GraphBatch<B>,
    topk: &gnn_pool::TopKPooling<B>,
    sag: &gnn_pool::SagPooling<B>,
) -> Tensor<B, 2> {
    match name {
        "topk_pool_r0.5" => topk.forward(graphs).graphs.x().clone(),
        "sag_pool_r0.5" => sag.forward(graphs).graphs.x().clone(),
        "global_mean_pool" => GlobalPool::Mean.apply_batch(&graphs),
        "global_max_pool" => GlobalPool::Max.apply_batch(&graphs),
        _ => GlobalPool::Add.apply_batch(&graphs),
    }
}

fn bench<B: SegmentAutodiffBackend>(
    args: &Args,
    workload: &Workload,
    scale: &str,
) -> Vec<(String, String, f64, f64)> {
    let device = B::Device::default();
    B::seed(&device, 0);
    let repeats = args.repeats.unwrap_or(match args.scale {
        Scale::S => 50,
        Scale::M => 30,
        Scale::L => 20,
    });
    let warmup = match args.scale {
        Scale::S => 5,
        Scale::M => 3,
        Scale::L => 2,
    };
    let topk = TopKPoolingConfig::new(64, Selection::Ratio(0.5))
        .init::<B>(&device)
        .expect("valid");
    let sag = SagPoolingConfig::new(64, Selection::Ratio(0.5))
        .init::<B>(&device)
        .expect("valid");
    let (topk_inner, sag_inner) = (
        burn::module::AutodiffModule::valid(&topk),
        burn::module::AutodiffModule::valid(&sag),
    );
    let graphs = to_batch::<B>(workload, &device);
    let inner_graphs = to_batch::<B::InnerBackend>(workload, &device);
    let mut results = Vec::new();
    for op in OPS {
        if !args.ops.is_empty() && !args.ops.iter().any(|o| o == op) {
            continue;
        }
        let (median, min) = time(repeats, warmup, || {
            let out = run_op(op, inner_graphs.clone(), &topk_inner, &sag_inner);
            drop(out);
            let _ = B::sync(&device);
        });
        results.push((op.to_string(), "fwd".to_string(), median, min));
        let (median, min) = time(repeats, warmup, || {
            let x = graphs.x().clone().detach().require_grad();
            let input = graphs.clone().with_x(x.clone()).expect("same rows");
            let out = run_op(op, input, &topk, &sag);
            let grads = out.sum().backward();
            // As PyG's script: the gradient is computed, not copied out.
            let _ = x.grad(&grads);
            let _ = B::sync(&device);
        });
        results.push((op.to_string(), "fwd_bwd".to_string(), median, min));
        let _ = scale;
    }
    results
}

fn pyg_median(pyg: &serde_json::Value, scale: &str, op: &str, mode: &str) -> Option<f64> {
    pyg["scales"][scale]["ops"][op][mode]["median_ms"].as_f64()
}

fn main() {
    let args = Args::parse();
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // SAFETY: set before any thread starts; PyG's figures use 2 threads.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", "2") };
    }
    gnn_core::cpu::flush_subnormals();
    gnn_core::cpu::reuse_freed_memory();
    let scale = format!("{:?}", args.scale);
    let workload = match args.scale {
        Scale::S => load_s(&args.inputs).unwrap_or_else(|e| {
            eprintln!("cannot read PyG's S inputs ({e}); pass --inputs DIR");
            std::process::exit(2);
        }),
        Scale::M => generate(1024, None, 2),
        Scale::L => generate(1, Some((100_000, 500_000)), 3),
    };
    let backend = format!("{:?}", args.backend).to_lowercase();
    let results = match args.backend {
        BackendName::Flex => bench::<Autodiff<Flex>>(&args, &workload, &scale),
        BackendName::Ndarray => bench::<Autodiff<NdArray>>(&args, &workload, &scale),
        BackendName::Wgpu => {
            #[cfg(feature = "test-wgpu")]
            {
                bench::<Autodiff<burn::backend::Wgpu>>(&args, &workload, &scale)
            }
            #[cfg(not(feature = "test-wgpu"))]
            {
                eprintln!(
                    "this build has no Wgpu backend: rebuild with --features gnn-pool/test-wgpu"
                );
                std::process::exit(2);
            }
        }
    };
    let pyg: Option<serde_json::Value> = args.pyg.as_ref().map(|path| {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
            eprintln!("{}: {e}", path.display());
            std::process::exit(2);
        });
        serde_json::from_str(&text).unwrap_or_else(|e| {
            eprintln!("{}: {e}", path.display());
            std::process::exit(2);
        })
    });
    if !args.json {
        println!(
            "scale {scale}: {} graphs, {} nodes, {} edge columns, backend {backend}",
            workload.batch.last().map_or(0, |g| g + 1),
            workload.batch.len(),
            workload.edges.len() / 2
        );
        println!("| op | mode | median ms | min ms | PyG median ms | ratio |");
        println!("|---|---|---|---|---|---|");
    }
    for (op, mode, median, min) in results {
        let reference = pyg.as_ref().and_then(|p| pyg_median(p, &scale, &op, &mode));
        if args.json {
            let mut line = serde_json::json!({
                "op": op, "scale": scale, "mode": mode, "backend": backend,
                "median_ms": median, "min_ms": min,
            });
            if let Some(reference) = reference {
                line["pyg_median_ms"] = reference.into();
                line["ratio"] = (median / reference).into();
            }
            println!("{line}");
        } else {
            let (reference, ratio) = reference.map_or(("-".into(), "-".into()), |r| {
                (format!("{r:.3}"), format!("{:.2}", median / r))
            });
            println!("| {op} | {mode} | {median:.3} | {min:.3} | {reference} | {ratio} |");
        }
    }
}
