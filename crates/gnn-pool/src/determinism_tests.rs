//! Run-to-run determinism: the same seeded forward and backward of TopK, SAG and the readouts,
//! twice, gives bit-identical outputs, selections and gradients on every backend (on Wgpu the
//! segment kernels use no atomics; PyG's CUDA scatter is not deterministic, PyG #7525, #3175).

use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData, backend::AutodiffBackend};
use gnn_core::segment::SegmentBackend;
use gnn_core::testing::parameter_gradients;
use gnn_core::{Graph, GraphBatch, host};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::readout::GlobalPool;
use crate::{SagPoolingConfig, Selection, TopKPoolingConfig};

const FEATURES: usize = 16;

/// Graphs of very different sizes (empty ones first, last and in the middle, a single node, one
/// of 600 nodes), ring edges plus random chords, features drawn from few values so that maxima
/// and scores tie exactly.
fn graphs(seed: u64) -> Vec<Graph> {
    let mut rng = StdRng::seed_from_u64(seed);
    [0, 1, 7, 0, 40, 3, 600, 12, 25, 0]
        .into_iter()
        .map(|n: usize| {
            let x: Vec<f32> = (0..n * FEATURES)
                .map(|_| rng.random_range(-4i32..=4) as f32 / 4.0)
                .collect();
            let mut edges: Vec<(usize, usize)> = (0..n)
                .filter(|_| n > 1)
                .flat_map(|i| [(i, (i + 1) % n), ((i + 1) % n, i)])
                .collect();
            for _ in 0..n / 2 {
                let (a, b) = (rng.random_range(0..n), rng.random_range(0..n));
                if a != b {
                    edges.extend([(a, b), (b, a)]);
                }
            }
            Graph::new(n, FEATURES, x, edges).expect("valid graph")
        })
        .collect()
}

/// `Σ w ⊙ t` with fixed weights, so every output entry matters.
fn weighted<B: AutodiffBackend>(t: Tensor<B, 2>) -> Tensor<B, 1> {
    let [rows, cols] = t.dims();
    let w: Vec<f32> = (0..rows * cols)
        .map(|i| ((i * 7 + 3) % 11) as f32 / 5.0 - 1.0)
        .collect();
    (t.clone() * Tensor::from_data(TensorData::new(w, [rows, cols]), &t.device())).sum()
}

/// Everything one run produces, as bit patterns.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    outputs: Vec<Vec<u64>>,
    perms: Vec<Vec<i64>>,
    gradients: Vec<Vec<u64>>,
}

fn bits(values: Vec<f64>) -> Vec<u64> {
    values.into_iter().map(f64::to_bits).collect()
}

fn two_runs_are_bit_identical<B: AutodiffBackend + SegmentBackend>(device: &B::Device) {
    let topk = TopKPoolingConfig::new(FEATURES, Selection::Ratio(0.5))
        .init::<B>(device)
        .expect("valid config");
    let sag = SagPoolingConfig::new(FEATURES, Selection::Ratio(0.5))
        .init::<B>(device)
        .expect("valid config");
    let batch = GraphBatch::<B>::from_graphs(&graphs(5), device).expect("valid batch");
    let run = || {
        let x = batch.x().clone().detach().require_grad();
        let graphs = batch.clone().with_x(x.clone()).expect("same shape");
        let by_topk = topk.forward(graphs.clone());
        let by_sag = sag.forward(graphs.clone());
        let readouts = [
            GlobalPool::MaxMeanAdd.apply_batch(&by_topk.graphs),
            GlobalPool::MaxMeanAdd.apply_batch(&by_sag.graphs),
            GlobalPool::Min.apply_batch(&graphs),
        ];
        let loss = readouts
            .iter()
            .map(|r| weighted(r.clone()))
            .reduce(|a, b| a + b)
            .expect("three readouts");
        let grads = loss.backward();
        let x_grad = x.grad(&grads).map(host::floats).expect("x gets a gradient");
        let params = GradientsParams::from_grads(grads, &topk);
        let mut gradients = vec![bits(x_grad)];
        gradients.extend(parameter_gradients(&topk, &params).into_iter().map(bits));
        let grads = loss_gradients_of_sag(&sag, &batch, x.clone());
        gradients.extend(grads.into_iter().map(bits));
        Run {
            outputs: readouts
                .into_iter()
                .map(|r| bits(host::floats(r.detach())))
                .collect(),
            perms: vec![host::ints(by_topk.perm), host::ints(by_sag.perm)],
            gradients,
        }
    };
    let first = run();
    assert!(
        first
            .gradients
            .iter()
            .flatten()
            .any(|&g| f64::from_bits(g) != 0.0),
        "the check needs gradients that are not all zero"
    );
    for attempt in 0..2 {
        assert!(run() == first, "run {} differs from the first", attempt + 2);
    }
}

/// The gradients of SAG's scoring GNN under a loss of its pooled readout (a second backward:
/// `GradientsParams::from_grads` consumes the gradients of the first).
fn loss_gradients_of_sag<B: AutodiffBackend + SegmentBackend>(
    sag: &crate::SagPooling<B>,
    batch: &GraphBatch<B>,
    x: Tensor<B, 2>,
) -> Vec<Vec<f64>> {
    let graphs = batch.clone().with_x(x).expect("same shape");
    let pooled = sag.forward(graphs);
    let loss = weighted(GlobalPool::MaxMeanAdd.apply_batch(&pooled.graphs));
    let params = GradientsParams::from_grads(loss.backward(), sag);
    parameter_gradients(sag, &params)
}

gnn_core::autodiff_backend_tests!(two_runs_are_bit_identical);
