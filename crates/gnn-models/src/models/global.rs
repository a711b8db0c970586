//! [`GlobalClassifier`]: convolutions and global readouts only, no local pooling.
//!
//! The baseline every pooling model must beat (Mesquita et al., *Rethinking pooling in graph
//! neural networks*, 2020, found that many do not). It is [`HierarchicalClassifier`] with the
//! pooling taken out: `num_blocks` blocks of `conv → ReLU`, a readout of every block's node
//! features, the readouts summed, and the same [`MlpHead`]. With the same flags, the two
//! models differ only by the local pooling, so a comparison measures what pooling adds.
//!
//! [`HierarchicalClassifier`]: super::HierarchicalClassifier

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use gnn_core::GraphBatch;
use gnn_core::conv::{Conv, ConvKind};
use gnn_core::oversmoothing::Smoothness;
use gnn_pool::GlobalPool;

use super::head::{MlpHead, MlpHeadConfig};
use super::{Gauges, block_convs, sum_of_block_readouts, validate_sizes};
use crate::error::Result;
use gnn_core::segment::SegmentBackend;

/// Configuration of a [`GlobalClassifier`].
#[derive(Config, Debug)]
pub struct GlobalClassifierConfig {
    /// Node features of the input graphs.
    pub d_input: usize,
    /// Number of classes.
    pub num_classes: usize,
    /// Width of every convolution (and of the first head layer; the second is `hidden / 2`).
    #[config(default = 128)]
    pub hidden: usize,
    /// Number of blocks (convolutions).
    #[config(default = 3)]
    pub num_blocks: usize,
    /// The message passing layer of every block.
    #[config(default = "ConvKind::Graph")]
    pub conv: ConvKind,
    /// The readout of every block.
    #[config(default = "GlobalPool::MaxMean")]
    pub readout: GlobalPool,
    /// Dropout probability after the first head layer (training only).
    #[config(default = 0.5)]
    pub dropout: f64,
}

impl GlobalClassifierConfig {
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
    pub fn init<B: SegmentBackend>(&self, device: &B::Device) -> Result<GlobalClassifier<B>> {
        self.validate()?;
        let h = self.hidden;
        Ok(GlobalClassifier {
            convs: block_convs(self.conv, self.d_input, h, self.num_blocks, device),
            head: MlpHeadConfig::new(self.readout.output_width(h), h, self.num_classes)
                .with_dropout(self.dropout)
                .init(device),
            readout: self.readout,
            d_input: self.d_input,
        })
    }
}

/// Graph classifier of convolutions, summed global readouts and an MLP head (see the
/// [module documentation](self)).
#[derive(Module, Debug)]
pub struct GlobalClassifier<B: Backend> {
    /// The convolutions, one per block (`d_input → hidden`, then `hidden → hidden`).
    pub convs: Vec<Conv<B>>,
    /// The classification head.
    pub head: MlpHead<B>,
    #[module(skip)]
    readout: GlobalPool,
    d_input: usize,
}

impl<B: SegmentBackend> GlobalClassifier<B> {
    /// Classifies a batch of graphs.
    ///
    /// - `graphs`: `x [N, d_input]`, edges `[2, E]` (edge weights reach the convolutions)
    /// - returns **log-probabilities** `[G, num_classes]`
    ///
    /// Device reads: none. Empty graphs read out as the readout's empty value (zeros).
    ///
    /// # Panics
    /// When the batch does not have `d_input` node features (a programming error).
    #[track_caller]
    pub fn forward(&self, graphs: GraphBatch<B>) -> Tensor<B, 2> {
        let embedding = self.embed(graphs);
        self.head.forward(embedding)
    }

    /// The summed readouts `[G, r]` that feed the head.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    #[track_caller]
    pub fn embed(&self, graphs: GraphBatch<B>) -> Tensor<B, 2> {
        self.embed_gauged(graphs, None)
    }

    /// [`forward`](Self::forward), and the over-smoothing gauge of every block's convolution
    /// output (see [`gnn_core::oversmoothing`]), first block first.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    #[track_caller]
    pub fn forward_gauged(&self, graphs: GraphBatch<B>) -> (Tensor<B, 2>, Vec<Smoothness<B>>) {
        let mut gauges = Vec::with_capacity(self.convs.len());
        let embedding = self.embed_gauged(graphs, Some(&mut gauges));
        (self.head.forward(embedding), gauges)
    }

    #[track_caller]
    fn embed_gauged(&self, graphs: GraphBatch<B>, gauges: Gauges<'_, B>) -> Tensor<B, 2> {
        assert!(
            graphs.num_features() == self.d_input,
            "GlobalClassifier was built for {} input features but the input has {}",
            self.d_input,
            graphs.num_features()
        );
        sum_of_block_readouts(&self.convs, self.readout, graphs, gauges, |g| g)
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

    fn classifies_every_graph_including_empty_and_edgeless<B: SegmentBackend>(device: &B::Device) {
        for conv in [
            ConvKind::Graph,
            ConvKind::Gcn,
            ConvKind::Gin,
            ConvKind::Sage,
        ] {
            let model = GlobalClassifierConfig::new(3, 2)
                .with_hidden(8)
                .with_conv(conv)
                .init::<B>(device)
                .expect("valid");
            let mut graphs = tiny_graphs(4);
            // An empty graph in the middle and a single node without edges at the end.
            graphs.insert(2, edge_cases::empty());
            graphs.push(edge_cases::single_node());
            let batch = GraphBatch::<B>::from_graphs(&graphs, device).expect("batch");
            let log_probs = model.forward(batch);
            assert_eq!(log_probs.dims(), [6, 2]);
            let sums = host::floats(log_probs.exp().sum_dim(1));
            assert!(
                sums.iter().all(|s| (s - 1.0).abs() < 1e-5),
                "{conv:?}: {sums:?}"
            );
        }
        let model = GlobalClassifierConfig::new(4, 2)
            .with_hidden(8)
            .init::<B>(device)
            .expect("valid");
        let batch = GraphBatch::<B>::from_graphs(&tiny_graphs(2), device).expect("batch");
        assert_eq!(
            gnn_core::testing::panic_message(|| model.forward(batch)),
            "GlobalClassifier was built for 4 input features but the input has 3"
        );
        for bad in [
            GlobalClassifierConfig::new(3, 2).with_num_blocks(0),
            GlobalClassifierConfig::new(3, 0),
            GlobalClassifierConfig::new(3, 2).with_hidden(1),
            GlobalClassifierConfig::new(3, 2).with_dropout(1.0),
        ] {
            assert!(bad.init::<B>(device).is_err(), "{bad}");
        }
    }

    fn training_lowers_the_loss<B: SegmentAutodiffBackend>(device: &B::Device) {
        let config = GlobalClassifierConfig::new(3, 3)
            .with_hidden(16)
            .with_dropout(0.0);
        trains_on_tiny_graphs::<B, _>(device, |device| {
            crate::Classifier::Global(config.init::<B>(device).expect("valid"))
        });
    }

    gnn_core::backend_tests!(classifies_every_graph_including_empty_and_edgeless);
    gnn_core::autodiff_backend_tests!(training_lowers_the_loss);
}
