//! [`MinCutClassifier`]: PyG's `examples/proteins_mincut_pool.py`, graph classification by two
//! spectral-clustering poolings (Bianchi et al., 2020).
//!
//! `GCNConv → ReLU` on the sparse batch, then `to_dense_batch` / `to_dense_adj` (padded to the
//! batch's largest graph), a linear assignment and [`dense_mincut_pool`]; `DenseGraphConv →
//! ReLU`, a second linear assignment and pooling; a last [`DenseGraphConv`], the mean over
//! clusters, `Linear → ReLU → Linear` and `log_softmax`. The mincut and orthogonality losses of
//! both poolings are added to the training loss, as in the example.
//!
//! Defaults are the example's: hidden width 32, clusters `ceil(0.5 · avg_nodes)` and half of
//! that again, with `avg_nodes = 39` of PROTEINS (20 and 10); see
//! [`MinCutClassifierConfig::clusters_for_average_nodes`].
//!
//! Every step but the convolutions acts graph by graph and the losses are means over graphs,
//! so a graph's output does not depend on the rest of its batch nor on the padding.
//!
//! Edge cases: a graph without edges contributes 0 to the mincut loss and gets finite
//! gradients (PyG: `0 / 0 = NaN` for the whole batch, which stops training; see
//! [`dense_mincut_pool`]); a batch without graphs gives `[0, num_classes]`
//! log-probabilities and zero losses; a batch whose graphs have no node at all pools to
//! clusters of zero features and zero adjacency (losses 0).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::Tensor;
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::backend::Backend;
use gnn_core::GraphBatch;
use gnn_core::burn_compat::reshape;
use gnn_core::conv::{DenseGraphConv, DenseGraphConvConfig, GcnConv, GcnConvConfig};
use gnn_core::segment::to_dense_batch;
use gnn_pool::dense::{dense_mincut_pool, to_dense_adj};

use super::diffpool::check_loss_weight;
use super::weighted_aux_loss;
use crate::error::{ModelError, Result};
use gnn_core::segment::SegmentBackend;

/// Configuration of a [`MinCutClassifier`].
#[derive(Config, Debug)]
pub struct MinCutClassifierConfig {
    /// Node features of the input graphs.
    pub d_input: usize,
    /// Number of classes.
    pub num_classes: usize,
    /// Width of every convolution and of the head's hidden layer (PyG's example: 32).
    #[config(default = 32)]
    pub hidden: usize,
    /// Clusters of the first and the second pooling (PyG's example on PROTEINS: 20 and 10).
    #[config(default = "[20, 10]")]
    pub num_clusters: [usize; 2],
    /// Weight of the mincut and orthogonality losses in the training loss (PyG's example: 1).
    #[config(default = 1.0)]
    pub aux_loss_weight: f64,
}

impl MinCutClassifierConfig {
    /// The example's cluster counts for a dataset of `avg_nodes` nodes per graph (its
    /// `int(num_nodes / num_graphs)`): `ceil(0.5 · avg_nodes)`, then half of that, rounded up.
    pub fn clusters_for_average_nodes(avg_nodes: usize) -> [usize; 2] {
        let first = avg_nodes.div_ceil(2);
        [first, first.div_ceil(2)]
    }

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
    pub fn init<B: SegmentBackend>(&self, device: &B::Device) -> Result<MinCutClassifier<B>> {
        self.validate()?;
        let h = self.hidden;
        let [c1, c2] = self.num_clusters;
        Ok(MinCutClassifier {
            conv1: GcnConvConfig::new(self.d_input, h).init(device),
            pool1: LinearConfig::new(h, c1).init(device),
            conv2: DenseGraphConvConfig::new(h, h).init(device),
            pool2: LinearConfig::new(h, c2).init(device),
            conv3: DenseGraphConvConfig::new(h, h).init(device),
            lin1: LinearConfig::new(h, h).init(device),
            lin2: LinearConfig::new(h, self.num_classes).init(device),
            d_input: self.d_input,
            aux_loss_weight: self.aux_loss_weight,
        })
    }
}

/// The MinCut graph classifier of PyG's example (see the [module documentation](self)).
#[derive(Module, Debug)]
pub struct MinCutClassifier<B: Backend> {
    /// Sparse convolution `d_input → hidden` (PyG `conv1`, a `GCNConv`).
    pub conv1: GcnConv<B>,
    /// Assignment logits of the first pooling (PyG `pool1`).
    pub pool1: Linear<B>,
    /// Dense convolution on the first clusters (PyG `conv2`).
    pub conv2: DenseGraphConv<B>,
    /// Assignment logits of the second pooling (PyG `pool2`).
    pub pool2: Linear<B>,
    /// Dense convolution on the second clusters (PyG `conv3`).
    pub conv3: DenseGraphConv<B>,
    /// Head layer (PyG `lin1`).
    pub lin1: Linear<B>,
    /// Output layer (PyG `lin2`).
    pub lin2: Linear<B>,
    d_input: usize,
    aux_loss_weight: f64,
}

/// A forward pass of a [`MinCutClassifier`].
#[derive(Debug, Clone)]
pub struct MinCutClassifierOutput<B: Backend> {
    /// Log-probabilities `[G, num_classes]`.
    pub log_probs: Tensor<B, 2>,
    /// Sum of the two poolings' mincut losses, `[1]` (a graph without edges contributes 0).
    pub mincut_loss: Tensor<B, 1>,
    /// Sum of the two poolings' orthogonality losses, `[1]`.
    pub ortho_loss: Tensor<B, 1>,
}

impl<B: SegmentBackend> MinCutClassifier<B> {
    /// Classifies a batch of graphs.
    ///
    /// - `graphs`: `x [N, d_input]`, edges `[2, E]` (edge weights, when present, reach the
    ///   GCN and are the entries of the dense adjacency); labels are not used
    /// - returns log-probabilities `[G, num_classes]` and the two auxiliary losses
    ///
    /// Device reads: none.
    ///
    /// # Panics
    /// When a batch with graphs does not have `d_input` node features (a batch without graphs
    /// has no width to check).
    #[track_caller]
    pub fn forward(&self, graphs: GraphBatch<B>) -> MinCutClassifierOutput<B> {
        let device = graphs.x().device();
        let num_graphs = graphs.num_graphs();
        let zero = || Tensor::<B, 1>::zeros([1], &device);
        if num_graphs == 0 {
            return MinCutClassifierOutput {
                log_probs: Tensor::zeros([0, self.num_classes()], &device),
                mincut_loss: zero(),
                ortho_loss: zero(),
            };
        }
        assert!(
            graphs.num_features() == self.d_input,
            "MinCutClassifier was built for {} input features but the input has {}",
            self.d_input,
            graphs.num_features()
        );
        let [hidden, c1] = self.pool1.weight.dims();
        let (x, adj, mc1, o1) = if graphs.num_nodes() == 0 {
            (
                Tensor::zeros([num_graphs, c1, hidden], &device),
                Tensor::zeros([num_graphs, c1, c1], &device),
                zero(),
                zero(),
            )
        } else {
            let x = relu(self.conv1.forward(
                graphs.x().clone(),
                graphs.edge_index().clone(),
                graphs.edge_weight().cloned(),
            ));
            let (x, mask) = to_dense_batch(x, graphs.segments());
            let adj = to_dense_adj(
                graphs.edge_index().clone(),
                graphs.segments(),
                graphs.edge_weight().cloned(),
            );
            let s = self.pool1.forward(x.clone());
            let pooled = dense_mincut_pool(x, adj, s, Some(mask));
            (pooled.x, pooled.adj, pooled.mincut_loss, pooled.ortho_loss)
        };
        let x = relu(self.conv2.forward(x, adj.clone(), None));
        let s = self.pool2.forward(x.clone());
        let pooled = dense_mincut_pool(x, adj, s, None);
        let x = self.conv3.forward(pooled.x, pooled.adj, None);
        let x = reshape(x.mean_dim(1), [num_graphs, hidden]);
        let x = relu(self.lin1.forward(x));
        MinCutClassifierOutput {
            log_probs: log_softmax(self.lin2.forward(x), 1),
            mincut_loss: mc1 + pooled.mincut_loss,
            ortho_loss: o1 + pooled.ortho_loss,
        }
    }

    /// The auxiliary loss the training step adds to the NLL (`None` with weight 0):
    /// `aux_loss_weight · (mincut + orthogonality)` of `output`.
    pub fn aux_loss(&self, output: &MinCutClassifierOutput<B>) -> Option<Tensor<B, 1>> {
        weighted_aux_loss(
            self.aux_loss_weight,
            &output.mincut_loss,
            &output.ortho_loss,
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

    fn config() -> MinCutClassifierConfig {
        MinCutClassifierConfig::new(3, 3)
            .with_hidden(8)
            .with_num_clusters([4, 2])
    }

    /// Graphs of 2..7 nodes, all with edges.
    fn with_edges() -> Vec<Graph> {
        tiny_graphs(7).split_off(1)
    }

    fn mincut_shapes_losses_and_edge_cases<B: SegmentBackend>(device: &B::Device) {
        assert_eq!(
            MinCutClassifierConfig::clusters_for_average_nodes(39),
            [20, 10]
        );
        assert_eq!(config().num_clusters, [4, 2]);
        let model = config().init::<B>(device).expect("valid");
        let graphs = GraphBatch::<B>::from_graphs(&with_edges(), device).expect("batch");
        let before = host::device_reads();
        let out = model.forward(graphs.clone());
        assert_eq!(host::device_reads() - before, 0);
        assert_eq!(out.log_probs.dims(), [6, 3]);
        let sums = host::floats(out.log_probs.clone().exp().sum_dim(1));
        assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "{sums:?}");
        // -tr(SᵀAS)/tr(SᵀDS) lies in [-1, 0] per graph and pooling; ortho in [0, √2].
        let mincut = host::floats(out.mincut_loss.clone())[0];
        let ortho = host::floats(out.ortho_loss.clone())[0];
        assert!((-2.0..=0.0).contains(&mincut), "{mincut}");
        assert!((0.0..=2.0 * 2f64.sqrt()).contains(&ortho), "{ortho}");
        let aux = host::floats(model.aux_loss(&out).expect("weight 1"))[0];
        assert!((aux - mincut - ortho).abs() < 1e-6);

        // A one-node graph without edges contributes 0 to the mincut loss (PyG: NaN).
        let out = model.forward(GraphBatch::from_graphs(&tiny_graphs(7), device).expect("batch"));
        let mincut_all = host::floats(out.mincut_loss)[0];
        assert!((-2.0..0.0).contains(&mincut_all), "{mincut_all}");
        assert!(host::floats(out.ortho_loss)[0].is_finite());
        assert!(host::floats(out.log_probs).iter().all(|v| v.is_finite()));

        let none = model.forward(GraphBatch::from_graphs(&[], device).expect("empty batch"));
        assert_eq!(none.log_probs.dims(), [0, 3]);
        assert_eq!(host::floats(none.ortho_loss), vec![0.0]);
        let empty = Graph::new(0, 3, vec![], vec![]).unwrap();
        let out = model.forward(GraphBatch::from_graphs(&[empty], device).expect("batch"));
        assert_eq!(out.log_probs.dims(), [1, 3]);
        assert!(host::floats(out.log_probs).iter().all(|v| v.is_finite()));

        let wide = MinCutClassifierConfig::new(4, 2)
            .with_hidden(8)
            .init::<B>(device)
            .unwrap();
        assert_eq!(
            panic_message(|| wide.forward(graphs)),
            "MinCutClassifier was built for 4 input features but the input has 3"
        );
        assert!(config().with_hidden(0).init::<B>(device).is_err());
        assert!(config().with_aux_loss_weight(f64::NAN).validate().is_err());
    }

    /// Every step acts graph by graph: a graph's log-probabilities do not depend on the rest
    /// of its batch nor on the padding (the masks hold).
    fn mincut_graphs_do_not_see_each_other<B: SegmentBackend>(device: &B::Device) {
        let model = Classifier::from(config().init::<B>(device).expect("valid"));
        let (alone, together) = alone_and_together(&model, &tiny_graphs(7), device);
        assert_all_close(&together, &alone, 1e-4);
    }

    fn mincut_gradients_reach_every_parameter<B: SegmentAutodiffBackend>(device: &B::Device) {
        let config = ClassifierConfig::from(config());
        // conv1 (2) + pool1 (2) + conv2 (3) + pool2 (2) + conv3 (3) + lin1 (2) + lin2 (2).
        gradients_reach_every_parameter::<B>(&config, &with_edges(), 16, device);
        // With a graph without edges among them, too (tiny_graphs(7)[0] has one node).
        gradients_reach_every_parameter::<B>(&config, &tiny_graphs(7), 16, device);
    }

    gnn_core::backend_tests!(
        mincut_shapes_losses_and_edge_cases,
        mincut_graphs_do_not_see_each_other
    );
    gnn_core::autodiff_backend_tests!(mincut_gradients_reach_every_parameter);

    #[test]
    fn mincut_training_reduces_the_loss() {
        type B = burn::backend::Autodiff<burn::backend::NdArray<f64>>;
        let config = ClassifierConfig::from(config());
        let (first, last) =
            loss_before_and_after_training::<B>(&config, &tiny_graphs(7), 15, &Default::default());
        assert!(last < first, "loss {first} -> {last}");
    }
}
