//! [`DiffPoolClassifier`]: PyG's `examples/proteins_diff_pool.py`, hierarchical graph
//! classification by two differentiable poolings (Ying et al., 2018).
//!
//! The batch is padded to `[G, N, F]` with `N` its largest graph (`to_dense_batch`,
//! `to_dense_adj`). Each level has two GNNs of three [`DenseSageConv`]s, each followed by ReLU
//! and batch normalisation over all `G · N` node slots (padding included, as PyG's
//! `BatchNorm1d` on the padded tensor): an **embedding** GNN (the three layers concatenated,
//! `3 · hidden` features) and an **assignment** GNN (the same plus a linear layer with ReLU to
//! the number of clusters). [`dense_diff_pool`] pools them; after the second pooling a third
//! embedding GNN, the mean over clusters, `Linear → ReLU → Linear` and `log_softmax`.
//!
//! The defaults are the example's: hidden width 64, clusters `ceil(0.25 · 150) = 38` then
//! `ceil(0.25 · 38) = 10` (the example's `max_nodes = 150`; the padding itself comes from the
//! batch, never from a dataset-wide maximum).
//!
//! Batch normalisation uses the batch's statistics on an autodiff backend (training) and the
//! running ones otherwise (Burn's rule, [`BatchNorm`]), so the output of a graph depends on
//! the other graphs of its training batch and on the padding, as in PyG; the link and entropy
//! losses are batch-wide too. Training on shards of a batch in parallel
//! ([`data_parallel_step`](crate::train::data_parallel_step)) therefore trains on each shard
//! as its own batch.
//!
//! Edge cases: a graph with one node or no edges is padding-free input like any other; a batch
//! without graphs gives `[0, num_classes]` log-probabilities and zero losses; a batch whose
//! graphs have no node at all pools to clusters of zero features and zero adjacency (losses 0).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Tensor};
use gnn_core::GraphBatch;
use gnn_core::burn_compat::reshape;
use gnn_core::conv::{DenseSageConv, DenseSageConvConfig};
use gnn_core::segment::to_dense_batch;
use gnn_pool::dense::{dense_diff_pool, to_dense_adj};

use super::weighted_aux_loss;
use crate::error::{ModelError, Result};
use gnn_core::segment::SegmentBackend;

/// Configuration of a [`DiffPoolClassifier`].
#[derive(Config, Debug)]
pub struct DiffPoolClassifierConfig {
    /// Node features of the input graphs.
    pub d_input: usize,
    /// Number of classes.
    pub num_classes: usize,
    /// Width of every convolution and of the head's hidden layer (PyG's example: 64).
    #[config(default = 64)]
    pub hidden: usize,
    /// Clusters of the first and the second pooling (PyG's example: 38 and 10).
    #[config(default = "[38, 10]")]
    pub num_clusters: [usize; 2],
    /// Weight of the link prediction and entropy losses in the training loss. PyG's example
    /// reports them but trains on the NLL alone (weight 0); the DiffPool paper adds them
    /// (weight 1, the default).
    #[config(default = 1.0)]
    pub aux_loss_weight: f64,
}

/// PyG's `GNN` block of the example: three [`DenseSageConv`] → ReLU → batch norm, the outputs
/// concatenated, and for the assignment GNN a final `Linear → ReLU`.
#[derive(Module, Debug)]
pub struct DiffPoolGnn<B: Backend> {
    /// First convolution (`d_input → hidden`).
    pub conv1: DenseSageConv<B>,
    /// Batch norm after it.
    pub bn1: BatchNorm<B>,
    /// Second convolution (`hidden → hidden`).
    pub conv2: DenseSageConv<B>,
    /// Batch norm after it.
    pub bn2: BatchNorm<B>,
    /// Third convolution (`hidden → d_output`).
    pub conv3: DenseSageConv<B>,
    /// Batch norm after it.
    pub bn3: BatchNorm<B>,
    /// `Linear(2 · hidden + d_output → d_output)` of the assignment GNN (PyG's `lin`).
    pub lin: Option<Linear<B>>,
}

impl<B: SegmentBackend> DiffPoolGnn<B> {
    fn new(d_input: usize, hidden: usize, d_output: usize, lin: bool, device: &B::Device) -> Self {
        let conv = |i, o| DenseSageConvConfig::new(i, o).init(device);
        let bn = |c| BatchNormConfig::new(c).init(device);
        Self {
            conv1: conv(d_input, hidden),
            bn1: bn(hidden),
            conv2: conv(hidden, hidden),
            bn2: bn(hidden),
            conv3: conv(hidden, d_output),
            bn3: bn(d_output),
            lin: lin.then(|| LinearConfig::new(2 * hidden + d_output, d_output).init(device)),
        }
    }

    /// - `x`: `[G, N, d_input]`, `adj`: `[G, N, N]`, `mask`: `[G, N]` (optional)
    /// - returns `[G, N, 2 · hidden + d_output]` (embedding) or `[G, N, d_output]` (with `lin`)
    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        adj: Tensor<B, 3>,
        mask: Option<Tensor<B, 2, Bool>>,
    ) -> Tensor<B, 3> {
        let x1 = batch_norm(
            &self.bn1,
            relu(self.conv1.forward(x, adj.clone(), mask.clone())),
        );
        let x2 = batch_norm(
            &self.bn2,
            relu(self.conv2.forward(x1.clone(), adj.clone(), mask.clone())),
        );
        let x3 = batch_norm(&self.bn3, relu(self.conv3.forward(x2.clone(), adj, mask)));
        let x = Tensor::cat(vec![x1, x2, x3], 2);
        match &self.lin {
            Some(lin) => relu(lin.forward(x)),
            None => x,
        }
    }
}

/// Batch norm over the `G · N` rows of `[G, N, C]` (PyG's `x.view(-1, C)`).
fn batch_norm<B: SegmentBackend>(bn: &BatchNorm<B>, x: Tensor<B, 3>) -> Tensor<B, 3> {
    let [g, n, c] = x.dims();
    reshape(bn.forward(reshape(x, [g * n, c])), [g, n, c])
}

/// PyG's names of the GNNs in [`DiffPoolClassifier::gnns`], in order.
pub const DIFFPOOL_GNNS: [&str; 5] = [
    "gnn1_pool",
    "gnn1_embed",
    "gnn2_pool",
    "gnn2_embed",
    "gnn3_embed",
];

/// The DiffPool graph classifier of PyG's example (see the [module documentation](self)).
#[derive(Module, Debug)]
pub struct DiffPoolClassifier<B: Backend> {
    /// The five GNNs, in the order of [`DIFFPOOL_GNNS`] (PyG's `gnn1_pool`, `gnn1_embed`,
    /// `gnn2_pool`, `gnn2_embed`, `gnn3_embed`). Kept on the heap: inline, they would make
    /// [`Classifier`](crate::Classifier) tens of kilobytes, which overflows test threads' stacks
    /// in debug builds of a training loop.
    pub gnns: Vec<DiffPoolGnn<B>>,
    /// Head layer `3 · hidden → hidden` (PyG `lin1`).
    pub lin1: Linear<B>,
    /// Output layer `hidden → classes` (PyG `lin2`).
    pub lin2: Linear<B>,
    d_input: usize,
    num_clusters: usize,
    aux_loss_weight: f64,
}

/// A forward pass of a [`DiffPoolClassifier`].
#[derive(Debug, Clone)]
pub struct DiffPoolClassifierOutput<B: Backend> {
    /// Log-probabilities `[G, num_classes]`.
    pub log_probs: Tensor<B, 2>,
    /// Sum of the two poolings' link prediction losses, `[1]`.
    pub link_loss: Tensor<B, 1>,
    /// Sum of the two poolings' entropy losses, `[1]`.
    pub entropy_loss: Tensor<B, 1>,
}

impl DiffPoolClassifierConfig {
    /// Checks the configuration without building anything.
    ///
    /// # Errors
    /// [`ModelError::TooSmall`] for a zero input width, class count, hidden width or cluster
    /// count; [`ModelError::InvalidLossWeight`] for a negative or non-finite loss weight.
    pub fn validate(&self) -> Result<()> {
        for (what, value) in [
            ("input width", self.d_input),
            ("number of classes", self.num_classes),
            ("hidden width", self.hidden),
            ("number of clusters", self.num_clusters[0]),
            ("number of clusters", self.num_clusters[1]),
        ] {
            if value < 1 {
                return Err(ModelError::TooSmall {
                    what,
                    min: 1,
                    value,
                });
            }
        }
        check_loss_weight(self.aux_loss_weight)
    }

    /// Builds the classifier with PyTorch's default initialisation.
    ///
    /// # Errors
    /// As [`validate`](Self::validate).
    pub fn init<B: SegmentBackend>(&self, device: &B::Device) -> Result<DiffPoolClassifier<B>> {
        self.validate()?;
        let (f, h) = (self.d_input, self.hidden);
        let [c1, c2] = self.num_clusters;
        Ok(DiffPoolClassifier {
            gnns: vec![
                DiffPoolGnn::new(f, h, c1, true, device),
                DiffPoolGnn::new(f, h, h, false, device),
                DiffPoolGnn::new(3 * h, h, c2, true, device),
                DiffPoolGnn::new(3 * h, h, h, false, device),
                DiffPoolGnn::new(3 * h, h, h, false, device),
            ],
            lin1: LinearConfig::new(3 * h, h).init(device),
            lin2: LinearConfig::new(h, self.num_classes).init(device),
            d_input: f,
            num_clusters: c1,
            aux_loss_weight: self.aux_loss_weight,
        })
    }
}

/// A loss weight must be finite and not negative.
pub(crate) fn check_loss_weight(weight: f64) -> Result<()> {
    if weight.is_finite() && weight >= 0.0 {
        Ok(())
    } else {
        Err(ModelError::InvalidLossWeight(weight))
    }
}

impl<B: SegmentBackend> DiffPoolClassifier<B> {
    /// Classifies a batch of graphs.
    ///
    /// - `graphs`: `x [N, d_input]`, edges `[2, E]` (edge weights, when present, are the
    ///   entries of the dense adjacency); labels are not used
    /// - returns log-probabilities `[G, num_classes]` and the two auxiliary losses
    ///
    /// Device reads: none.
    ///
    /// # Panics
    /// When a batch with graphs does not have `d_input` node features (a batch without graphs
    /// has no width to check).
    #[track_caller]
    pub fn forward(&self, graphs: GraphBatch<B>) -> DiffPoolClassifierOutput<B> {
        let device = graphs.x().device();
        let num_graphs = graphs.num_graphs();
        let zero = || Tensor::<B, 1>::zeros([1], &device);
        if num_graphs == 0 {
            return DiffPoolClassifierOutput {
                log_probs: Tensor::zeros([0, self.num_classes()], &device),
                link_loss: zero(),
                entropy_loss: zero(),
            };
        }
        assert!(
            graphs.num_features() == self.d_input,
            "DiffPoolClassifier was built for {} input features but the input has {}",
            self.d_input,
            graphs.num_features()
        );
        let [gnn1_pool, gnn1_embed, gnn2_pool, gnn2_embed, gnn3_embed] = &self.gnns[..] else {
            panic!("DiffPoolClassifier holds five GNNs (built by its config)");
        };
        let width = 3 * self.lin1.weight.dims()[1];
        let (x, adj, l1, e1) = if graphs.num_nodes() == 0 {
            let c = self.num_clusters;
            (
                Tensor::zeros([num_graphs, c, width], &device),
                Tensor::zeros([num_graphs, c, c], &device),
                zero(),
                zero(),
            )
        } else {
            let adj = to_dense_adj(
                graphs.edge_index().clone(),
                graphs.segments(),
                graphs.edge_weight().cloned(),
            );
            let (x, mask) = to_dense_batch(graphs.x().clone(), graphs.segments());
            let s = gnn1_pool.forward(x.clone(), adj.clone(), Some(mask.clone()));
            let x = gnn1_embed.forward(x, adj.clone(), Some(mask.clone()));
            let pooled = dense_diff_pool(x, adj, s, Some(mask));
            (pooled.x, pooled.adj, pooled.link_loss, pooled.entropy_loss)
        };
        let s = gnn2_pool.forward(x.clone(), adj.clone(), None);
        let x = gnn2_embed.forward(x, adj.clone(), None);
        let pooled = dense_diff_pool(x, adj, s, None);
        let x = gnn3_embed.forward(pooled.x, pooled.adj, None);
        let x = reshape(x.mean_dim(1), [num_graphs, width]);
        let x = relu(self.lin1.forward(x));
        DiffPoolClassifierOutput {
            log_probs: log_softmax(self.lin2.forward(x), 1),
            link_loss: l1 + pooled.link_loss,
            entropy_loss: e1 + pooled.entropy_loss,
        }
    }

    /// The auxiliary loss the training step adds to the NLL (`None` with weight 0):
    /// `aux_loss_weight · (link + entropy)` of `output`.
    pub fn aux_loss(&self, output: &DiffPoolClassifierOutput<B>) -> Option<Tensor<B, 1>> {
        weighted_aux_loss(
            self.aux_loss_weight,
            &output.link_loss,
            &output.entropy_loss,
        )
    }

    /// Node features the classifier expects.
    pub fn d_input(&self) -> usize {
        self.d_input
    }

    /// Number of classes it predicts.
    pub fn num_classes(&self) -> usize {
        self.lin2.weight.dims()[1]
    }
}

#[cfg(test)]
mod tests {
    use gnn_core::segment::SegmentAutodiffBackend;
    use gnn_core::testing::{panic_message, tiny_graphs};
    use gnn_core::{Graph, host};

    use super::*;
    use crate::classifier::{Classifier, ClassifierConfig};
    use crate::models::test_support::{
        alone_and_together, assert_all_close, gradients_reach_every_parameter,
        loss_before_and_after_training,
    };

    fn config() -> DiffPoolClassifierConfig {
        DiffPoolClassifierConfig::new(3, 3)
            .with_hidden(8)
            .with_num_clusters([4, 2])
    }

    /// Sizes 1..7 (the first graph one node without edges): shapes, probabilities, losses.
    fn diffpool_shapes_losses_and_edge_cases<B: SegmentBackend>(device: &B::Device) {
        let model = config().init::<B>(device).expect("valid");
        let graphs = GraphBatch::<B>::from_graphs(&tiny_graphs(7), device).expect("batch");
        let before = host::device_reads();
        let out = model.forward(graphs.clone());
        assert_eq!(host::device_reads() - before, 0);
        assert_eq!(out.log_probs.dims(), [7, 3]);
        let sums = host::floats(out.log_probs.clone().exp().sum_dim(1));
        assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "{sums:?}");
        for loss in [&out.link_loss, &out.entropy_loss] {
            let value = host::floats(loss.clone());
            assert!(
                value.len() == 1 && value[0].is_finite() && value[0] >= 0.0,
                "{value:?}"
            );
        }
        let aux = host::floats(model.aux_loss(&out).expect("weight 1"))[0];
        let sum = host::floats(out.link_loss + out.entropy_loss)[0];
        assert!((aux - sum).abs() < 1e-6);
        let unweighted = config()
            .with_aux_loss_weight(0.0)
            .init::<B>(device)
            .unwrap();
        assert!(
            unweighted
                .aux_loss(&unweighted.forward(graphs.clone()))
                .is_none()
        );

        let none = model.forward(GraphBatch::from_graphs(&[], device).expect("empty batch"));
        assert_eq!(none.log_probs.dims(), [0, 3]);
        assert_eq!(host::floats(none.link_loss), vec![0.0]);
        let empty = Graph::new(0, 3, vec![], vec![]).unwrap();
        let out =
            model.forward(GraphBatch::from_graphs(&[empty.clone(), empty], device).expect("batch"));
        assert_eq!(out.log_probs.dims(), [2, 3]);
        assert!(host::floats(out.log_probs).iter().all(|v| v.is_finite()));

        let wide = DiffPoolClassifierConfig::new(4, 2)
            .with_hidden(8)
            .init::<B>(device)
            .unwrap();
        assert_eq!(
            panic_message(|| wide.forward(graphs)),
            "DiffPoolClassifier was built for 4 input features but the input has 3"
        );
        assert!(
            config()
                .with_num_clusters([0, 2])
                .init::<B>(device)
                .is_err()
        );
        assert!(matches!(
            config().with_aux_loss_weight(-1.0).validate(),
            Err(ModelError::InvalidLossWeight(_))
        ));
    }

    /// Off autodiff, batch norm uses its running statistics, so a graph's log-probabilities
    /// do not depend on the other graphs of its batch nor on the padding: the masks hold.
    fn diffpool_graphs_do_not_see_each_other_in_inference<B: SegmentBackend>(device: &B::Device) {
        let model = Classifier::from(config().init::<B>(device).expect("valid"));
        let (alone, together) = alone_and_together(&model, &tiny_graphs(7), device);
        assert_all_close(&together, &alone, 1e-4);
    }

    fn diffpool_gradients_reach_every_parameter<B: SegmentAutodiffBackend>(device: &B::Device) {
        let config = ClassifierConfig::from(config());
        // 5 GNNs × (3 convs × 3 + 3 norms × 2) + 2 lins × 2 + 2 assignment lins × 2.
        gradients_reach_every_parameter::<B>(&config, &tiny_graphs(9), 83, device);
    }

    gnn_core::backend_tests!(
        diffpool_shapes_losses_and_edge_cases,
        diffpool_graphs_do_not_see_each_other_in_inference
    );
    gnn_core::autodiff_backend_tests!(diffpool_gradients_reach_every_parameter);

    #[test]
    fn diffpool_training_reduces_the_loss() {
        type B = burn::backend::Autodiff<burn::backend::NdArray<f64>>;
        let config = ClassifierConfig::from(config());
        let (first, last) =
            loss_before_and_after_training::<B>(&config, &tiny_graphs(12), 15, &Default::default());
        assert!(last < first, "loss {first} -> {last}");
    }
}
