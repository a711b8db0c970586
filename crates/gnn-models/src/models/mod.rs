//! The graph classifiers, one file each.
//!
//! - [`global`]: [`GlobalClassifier`], convolutions and global readouts only: the baseline
//!   without local pooling.
//! - [`hierarchical`]: [`HierarchicalClassifier`], convolution and score-based pooling blocks
//!   (PyG's TopK example, SAGPool_h) or one pooling of concatenated layers (SAGPool_g).
//! - [`graclus`]: [`GraclusClassifier`], convolutions between coarsenings into supernodes by
//!   graclus matching and max cluster pooling (PyG's `mnist_graclus.py`): a clustering that is
//!   not learned.
//! - [`diffpool`]: [`DiffPoolClassifier`], PyG's `proteins_diff_pool.py` (dense SAGE GNNs,
//!   two DiffPool poolings, link and entropy losses).
//! - [`mincut`]: [`MinCutClassifier`], PyG's `proteins_mincut_pool.py` (GCN, two MinCut
//!   poolings with dense GraphConvs, mincut and orthogonality losses).
//! - [`head`]: [`MlpHead`], the classification head of the sparse models.

pub mod diffpool;
pub mod global;
pub mod graclus;
pub mod head;
pub mod hierarchical;
pub mod mincut;
#[cfg(test)]
pub(crate) mod test_support;

pub use diffpool::{
    DIFFPOOL_GNNS, DiffPoolClassifier, DiffPoolClassifierConfig, DiffPoolClassifierOutput,
    DiffPoolGnn,
};
pub use mincut::{MinCutClassifier, MinCutClassifierConfig, MinCutClassifierOutput};

pub use global::{GlobalClassifier, GlobalClassifierConfig};
pub use graclus::{GraclusClassifier, GraclusClassifierConfig};
pub use head::{MlpHead, MlpHeadConfig};
pub use hierarchical::{
    Architecture, BlockPool, ClassifierTrace, HierarchicalClassifier, HierarchicalClassifierConfig,
    PoolKind, PoolTrace,
};

use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use gnn_core::GraphBatch;
use gnn_core::conv::{Conv, ConvConfig, ConvKind};
use gnn_core::oversmoothing::{Smoothness, smoothness};
use gnn_pool::GlobalPool;

use crate::error::{ModelError, Result};
use gnn_core::segment::SegmentBackend;

/// Where a forward pass records the over-smoothing gauge of each block's convolution output
/// (`None`: it records nothing and computes nothing extra).
pub(crate) type Gauges<'a, B> = Option<&'a mut Vec<Smoothness<B>>>;

/// Records the gauge of `graphs` (a block's convolution output on the graphs it ran on).
pub(crate) fn record_gauge<B: SegmentBackend>(gauges: &mut Gauges<'_, B>, graphs: &GraphBatch<B>) {
    if let Some(gauges) = gauges.as_deref_mut() {
        // A batch's features have one row per node by construction.
        gauges.push(smoothness(graphs.x().clone(), graphs).expect("one row per node"));
    }
}

/// The blocks of the global and graclus classifiers: for each convolution, `conv → ReLU`
/// (gauged), then `between` (graclus coarsening; the identity without local pooling), then a
/// readout; the readouts summed `[G, r]`.
pub(crate) fn sum_of_block_readouts<B: SegmentBackend>(
    convs: &[Conv<B>],
    readout: GlobalPool,
    graphs: GraphBatch<B>,
    mut gauges: Gauges<'_, B>,
    mut between: impl FnMut(GraphBatch<B>) -> GraphBatch<B>,
) -> Tensor<B, 2> {
    let mut graphs = graphs;
    let mut sum: Option<Tensor<B, 2>> = None;
    for conv in convs {
        let convolved = conv.forward_batch(graphs).map_x(relu);
        record_gauge(&mut gauges, &convolved);
        graphs = between(convolved);
        let read = readout.apply_batch(&graphs);
        sum = Some(sum.map_or(read.clone(), |acc| acc + read));
    }
    sum.expect("a classifier has at least one block (checked by `init`)")
}

/// A dense model's auxiliary loss for the training step: `weight · (first + second)`, `None`
/// with weight 0 (the model then trains on the NLL alone, as PyG's DiffPool example).
pub(crate) fn weighted_aux_loss<B: SegmentBackend>(
    weight: f64,
    first: &Tensor<B, 1>,
    second: &Tensor<B, 1>,
) -> Option<Tensor<B, 1>> {
    (weight != 0.0).then(|| (first.clone() + second.clone()) * weight)
}

/// The convolutions of `num_blocks` blocks: `d_input → hidden`, then `hidden → hidden`.
pub(crate) fn block_convs<B: SegmentBackend>(
    kind: ConvKind,
    d_input: usize,
    hidden: usize,
    num_blocks: usize,
    device: &B::Device,
) -> Vec<Conv<B>> {
    (0..num_blocks)
        .map(|i| ConvConfig::new(kind, if i == 0 { d_input } else { hidden }, hidden).init(device))
        .collect()
}

/// The checks every block-and-head classifier shares: positive input width, class and block
/// counts, a hidden width of at least 2 (the second head layer is `hidden / 2` wide), a dropout
/// in `[0, 1)`.
pub(crate) fn validate_sizes(
    d_input: usize,
    num_classes: usize,
    hidden: usize,
    num_blocks: usize,
    dropout: f64,
) -> Result<()> {
    for (what, value, min) in [
        ("input width", d_input, 1),
        ("number of classes", num_classes, 1),
        ("hidden width", hidden, 2),
        ("number of blocks", num_blocks, 1),
    ] {
        if value < min {
            return Err(ModelError::TooSmall { what, min, value });
        }
    }
    if !(0.0..1.0).contains(&dropout) {
        return Err(ModelError::InvalidDropout(dropout));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use burn::module::AutodiffModule;
    use burn::optim::{AdamConfig, GradientsParams, Optimizer};
    use gnn_core::segment::SegmentAutodiffBackend;
    use gnn_core::testing::tiny_graphs;
    use gnn_core::{GraphBatch, host};

    use crate::{Classifier, nll_loss};

    /// Graphs at the edges of what a classifier must take, with 3 features.
    pub(crate) mod edge_cases {
        use gnn_core::Graph;

        /// A graph without nodes.
        pub(crate) fn empty() -> Graph {
            Graph::new(0, 3, vec![], vec![])
                .expect("empty graph")
                .with_label(0)
        }

        /// One node, no edges.
        pub(crate) fn single_node() -> Graph {
            Graph::new(1, 3, vec![1.0, -0.5, 0.25], vec![])
                .expect("one node")
                .with_label(1)
        }
    }

    /// Forty Adam steps on twelve tiny graphs lower the training loss of the model `build`
    /// makes (seeded), and the inference model agrees with the trained one.
    pub(crate) fn trains_on_tiny_graphs<B: SegmentAutodiffBackend, F>(device: &B::Device, build: F)
    where
        F: Fn(&B::Device) -> Classifier<B>,
    {
        B::seed(device, 3);
        let mut model = build(device);
        let batch = GraphBatch::<B>::from_graphs(&tiny_graphs(12), device).expect("batch");
        let targets = batch.y().expect("labelled").clone();
        let mut optim = AdamConfig::new().init();
        let mut losses = Vec::new();
        for _ in 0..40 {
            let loss = nll_loss(model.forward(batch.clone()), targets.clone());
            losses.push(host::floats(loss.clone())[0]);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(1e-2, model, grads);
        }
        let (first, last) = (losses[0], losses[losses.len() - 1]);
        assert!(
            last.is_finite() && last < 0.8 * first,
            "loss {first} → {last}: {losses:?}"
        );
        let valid = model.valid();
        let inner =
            GraphBatch::<B::InnerBackend>::from_graphs(&tiny_graphs(12), device).expect("batch");
        assert_eq!(valid.forward(inner).dims(), [12, model.num_classes()]);
    }
}
