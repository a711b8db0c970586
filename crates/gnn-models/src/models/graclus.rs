//! [`GraclusClassifier`]: convolutions between coarsenings into supernodes by graclus matching.
//!
//! PyG's `examples/mnist_graclus.py` coarsens each graph between convolutions: [`graclus`]
//! pairs every node with at most one neighbour, and [`cluster_pool()`] turns each pair into a
//! supernode (feature-wise maximum, PyG's `max_pool`, by default), so every block roughly
//! halves the graph. The clustering is not learned: it follows the edges (and edge weights)
//! only, so gradients reach the convolutions and the head, never the coarsening.
//!
//! Blocks are `conv → ReLU → graclus → cluster pool`, with a readout of every coarsened batch,
//! the readouts summed, and the same [`MlpHead`] as the other classifiers: this is
//! [`HierarchicalClassifier`] with TopK replaced by graclus, so a comparison measures the
//! pooling. PyG's MNIST example uses SplineConv on pixel positions and one mean readout at
//! the end; the TU graphs this crate trains on have no positions.
//!
//! Device reads: one per block (the edges, which graclus matches on the host).
//!
//! [`HierarchicalClassifier`]: super::HierarchicalClassifier

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use gnn_core::GraphBatch;
use gnn_core::conv::{Conv, ConvKind};
use gnn_core::oversmoothing::Smoothness;
use gnn_pool::reduce::ClusterReduce;
use gnn_pool::{GlobalPool, cluster_pool, graclus};

use super::head::{MlpHead, MlpHeadConfig};
use super::{Gauges, block_convs, sum_of_block_readouts, validate_sizes};
use crate::error::Result;
use gnn_core::segment::SegmentBackend;

/// Configuration of a [`GraclusClassifier`].
#[derive(Config, Debug)]
pub struct GraclusClassifierConfig {
    /// Node features of the input graphs.
    pub d_input: usize,
    /// Number of classes.
    pub num_classes: usize,
    /// Width of every convolution (and of the first head layer; the second is `hidden / 2`).
    #[config(default = 128)]
    pub hidden: usize,
    /// Number of blocks (convolution, then coarsening).
    #[config(default = 3)]
    pub num_blocks: usize,
    /// The message passing layer of every block.
    #[config(default = "ConvKind::Graph")]
    pub conv: ConvKind,
    /// How a supernode's features combine those of its nodes (PyG's `max_pool`: maximum).
    #[config(default = "ClusterReduce::Max")]
    pub reduce: ClusterReduce,
    /// The readout after every coarsening.
    #[config(default = "GlobalPool::MaxMean")]
    pub readout: GlobalPool,
    /// Dropout probability after the first head layer (training only).
    #[config(default = 0.5)]
    pub dropout: f64,
}

impl GraclusClassifierConfig {
    /// Checks the configuration without building anything.
    ///
    /// # Errors
    /// [`ModelError::TooSmall`](crate::ModelError::TooSmall) for a zero width, block count or
    /// class count (or a hidden width of 1), [`ModelError::InvalidDropout`](
    /// crate::ModelError::InvalidDropout) for a dropout outside `[0, 1)`.
    pub fn validate(&self) -> Result<()> {
        validate_sizes(
            self.d_input,
            self.num_classes,
            self.hidden,
            self.num_blocks,
            self.dropout,
        )
    }

    /// Builds the classifier with PyTorch's default initialisation.
    ///
    /// # Errors
    /// As [`validate`](Self::validate).
    pub fn init<B: SegmentBackend>(&self, device: &B::Device) -> Result<GraclusClassifier<B>> {
        self.validate()?;
        let h = self.hidden;
        Ok(GraclusClassifier {
            convs: block_convs(self.conv, self.d_input, h, self.num_blocks, device),
            head: MlpHeadConfig::new(self.readout.output_width(h), h, self.num_classes)
                .with_dropout(self.dropout)
                .init(device),
            reduce: self.reduce,
            readout: self.readout,
            d_input: self.d_input,
        })
    }
}

/// Graph classifier of convolutions, graclus coarsening, summed readouts and an MLP head (see
/// the [module documentation](self)).
#[derive(Module, Debug)]
pub struct GraclusClassifier<B: Backend> {
    /// The convolutions, one per block (`d_input → hidden`, then `hidden → hidden`).
    pub convs: Vec<Conv<B>>,
    /// The classification head.
    pub head: MlpHead<B>,
    #[module(skip)]
    reduce: ClusterReduce,
    #[module(skip)]
    readout: GlobalPool,
    d_input: usize,
}

impl<B: SegmentBackend> GraclusClassifier<B> {
    /// Classifies a batch of graphs.
    ///
    /// - `graphs`: `x [N, d_input]`, edges `[2, E]` (edge weights reach the convolutions and
    ///   guide the matching)
    /// - returns **log-probabilities** `[G, num_classes]`
    ///
    /// A graph without edges keeps its nodes (each its own supernode); an empty graph reads out
    /// as the readout's empty value (zeros). Device reads: one per block (the edges).
    ///
    /// # Panics
    /// When the batch does not have `d_input` node features (a programming error).
    #[track_caller]
    pub fn forward(&self, graphs: GraphBatch<B>) -> Tensor<B, 2> {
        let embedding = self.embed(graphs);
        self.head.forward(embedding)
    }

    /// The summed readouts `[G, r]` that feed the head, and the node count per graph after each
    /// coarsening.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    #[track_caller]
    pub fn embed_traced(&self, graphs: GraphBatch<B>) -> (Tensor<B, 2>, Vec<Vec<usize>>) {
        self.embed_gauged(graphs, None)
    }

    /// [`forward`](Self::forward), and the over-smoothing gauge of every block's convolution
    /// output before its coarsening (see [`gnn_core::oversmoothing`]), first block first.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    #[track_caller]
    pub fn forward_gauged(&self, graphs: GraphBatch<B>) -> (Tensor<B, 2>, Vec<Smoothness<B>>) {
        let mut gauges = Vec::with_capacity(self.convs.len());
        let (embedding, _) = self.embed_gauged(graphs, Some(&mut gauges));
        (self.head.forward(embedding), gauges)
    }

    #[track_caller]
    fn embed_gauged(
        &self,
        graphs: GraphBatch<B>,
        gauges: Gauges<'_, B>,
    ) -> (Tensor<B, 2>, Vec<Vec<usize>>) {
        assert!(
            graphs.num_features() == self.d_input,
            "GraclusClassifier was built for {} input features but the input has {}",
            self.d_input,
            graphs.num_features()
        );
        let mut node_counts = Vec::with_capacity(self.convs.len());
        let embedding = sum_of_block_readouts(&self.convs, self.readout, graphs, gauges, |g| {
            let clustering = graclus(&g);
            let coarse = cluster_pool(g, &clustering, self.reduce, false);
            node_counts.push(coarse.node_counts().to_vec());
            coarse
        });
        (embedding, node_counts)
    }

    fn embed(&self, graphs: GraphBatch<B>) -> Tensor<B, 2> {
        self.embed_traced(graphs).0
    }

    /// [`forward`](Self::forward) with the head's dropout given as a mask (the data-parallel
    /// training step's).
    #[cfg(feature = "train")]
    #[track_caller]
    pub(crate) fn forward_with_head_mask(
        &self,
        graphs: GraphBatch<B>,
        mask: Option<Tensor<B, 2>>,
    ) -> Tensor<B, 2> {
        let embedding = self.embed(graphs);
        self.head.forward_masked(embedding, Some(mask))
    }

    /// Node features the classifier expects.
    pub fn d_input(&self) -> usize {
        self.d_input
    }

    /// Number of classes it predicts.
    pub fn num_classes(&self) -> usize {
        self.head.num_classes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::tests::{edge_cases, trains_on_tiny_graphs};
    use gnn_core::host;
    use gnn_core::segment::SegmentAutodiffBackend;
    use gnn_core::testing::tiny_graphs;

    fn coarsens_every_block_and_classifies_edge_cases<B: SegmentBackend>(device: &B::Device) {
        let model = GraclusClassifierConfig::new(3, 2)
            .with_hidden(8)
            .init::<B>(device)
            .expect("valid");
        let mut graphs = tiny_graphs(5);
        graphs.insert(0, edge_cases::empty());
        graphs.push(edge_cases::single_node());
        let batch = GraphBatch::<B>::from_graphs(&graphs, device).expect("batch");
        let (embedding, counts) = model.embed_traced(batch.clone());
        assert_eq!(embedding.dims(), [7, 16]);
        // Paths of 1..5 nodes (5 with a closing edge): graclus pairs neighbours in id order.
        assert_eq!(counts[0], vec![0, 1, 1, 2, 2, 3, 1]);
        assert_eq!(counts[1], vec![0, 1, 1, 1, 1, 2, 1]);
        assert_eq!(counts[2], vec![0, 1, 1, 1, 1, 1, 1]);
        let sums = host::floats(model.forward(batch).exp().sum_dim(1));
        assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "{sums:?}");
        let wrong = GraphBatch::<B>::from_graphs(&tiny_graphs(2), device).expect("batch");
        let model4 = GraclusClassifierConfig::new(4, 2)
            .with_hidden(8)
            .init::<B>(device)
            .expect("valid");
        assert_eq!(
            gnn_core::testing::panic_message(|| model4.forward(wrong)),
            "GraclusClassifier was built for 4 input features but the input has 3"
        );
        assert!(
            GraclusClassifierConfig::new(3, 2)
                .with_num_blocks(0)
                .init::<B>(device)
                .is_err()
        );
    }

    fn training_lowers_the_loss<B: SegmentAutodiffBackend>(device: &B::Device) {
        for reduce in [ClusterReduce::Max, ClusterReduce::Mean] {
            let config = GraclusClassifierConfig::new(3, 3)
                .with_hidden(16)
                .with_reduce(reduce)
                .with_dropout(0.0);
            trains_on_tiny_graphs::<B, _>(device, |device| {
                crate::Classifier::Graclus(config.init::<B>(device).expect("valid"))
            });
        }
    }

    gnn_core::backend_tests!(coarsens_every_block_and_classifies_edge_cases);
    gnn_core::autodiff_backend_tests!(training_lowers_the_loss);
}
