//! [`HierarchicalClassifier`]: graph classification by blocks of convolution and pooling.
//!
//! Two architectures share one module:
//!
//! - **hierarchical** (PyG's `examples/proteins_topk_pool.py`, SAGPool_h): `num_blocks` blocks of
//!   `conv → ReLU → pool`, a readout of the pooled graphs after every block, the readouts summed;
//! - **global** (SAGPool_g): `num_blocks` `conv → ReLU` layers on the full graph, their outputs
//!   concatenated, **one** pooling and **one** readout.
//!
//! Both end in the same head: `Linear(r → hidden) → ReLU → Dropout → Linear(hidden → hidden/2)
//! → ReLU → Linear(hidden/2 → classes) → log_softmax`, where `r` is the readout width.
//! The defaults reproduce PyG's example: 3 × [GraphConv 128 → ReLU → TopKPooling 0.8], readout
//! `[global_max ‖ global_mean]`, MLP 256 → 128 → 64 → classes, dropout 0.5.
//!
//! Mean and max readouts forget how many nodes a graph has. Where size predicts the class, a
//! readout with a sum keeps it: [`GlobalPool::MaxMeanAdd`] took 10-fold accuracy on D&D from
//! 72.8 % to 79.3 % for TopK (with weight decay 1e-3; see the README).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};
use gnn_core::GraphBatch;
use gnn_core::conv::{Conv, ConvKind};
use gnn_core::oversmoothing::Smoothness;
use gnn_core::segment::SegmentBackend;
use gnn_pool::{
    GlobalPool, Pooled, SagPooling, SagPoolingConfig, Selection, TopKPooling, TopKPoolingConfig,
};
use serde::{Deserialize, Serialize};

use super::head;
use super::{Gauges, block_convs, record_gauge, validate_sizes};
use crate::error::Result;

/// Which score-based pooling the blocks use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PoolKind {
    /// [`TopKPooling`]: nodes scored by a learned projection of their features.
    #[default]
    TopK,
    /// [`SagPooling`]: nodes scored by a one-channel GNN (self-attention graph pooling).
    Sag,
}

/// How convolutions, pooling and readouts are arranged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Architecture {
    /// `conv → ReLU → pool → readout` per block, readouts summed (PyG example, SAGPool_h).
    #[default]
    Hierarchical,
    /// All `conv → ReLU` outputs concatenated, pooled once, read out once (SAGPool_g).
    Global,
}

/// Configuration of a [`HierarchicalClassifier`].
#[derive(Config, Debug)]
pub struct HierarchicalClassifierConfig {
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
    /// The pooling layer.
    #[config(default = "PoolKind::TopK")]
    pub pool: PoolKind,
    /// How many nodes each pooling keeps.
    #[config(default = "Selection::Ratio(0.8)")]
    pub selection: Selection,
    /// The scoring GNN of SAG pooling. `None` uses the blocks' `conv` kind.
    pub sag_scorer: Option<ConvKind>,
    /// The readout after pooling.
    #[config(default = "GlobalPool::MaxMean")]
    pub readout: GlobalPool,
    /// Hierarchical (readout per block) or global (one pooling on concatenated layers).
    #[config(default = "Architecture::Hierarchical")]
    pub architecture: Architecture,
    /// Dropout probability after the first head layer (training only).
    #[config(default = 0.5)]
    pub dropout: f64,
}

/// A pooling layer of either kind.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum BlockPool<B: Backend> {
    /// TopK pooling.
    TopK(TopKPooling<B>),
    /// SAG pooling.
    Sag(SagPooling<B>),
}

impl<B: SegmentBackend> BlockPool<B> {
    /// Pools a batch (see [`TopKPooling::forward`] and [`SagPooling::forward`]).
    ///
    /// # Panics
    /// When the batch has another width than the layer.
    #[track_caller]
    pub fn forward(&self, graphs: GraphBatch<B>) -> Pooled<B> {
        match self {
            BlockPool::TopK(pool) => pool.forward(graphs),
            BlockPool::Sag(pool) => pool.forward(graphs),
        }
    }
}

/// Graph classifier of convolutions, score-based pooling, readouts and an MLP head (see the
/// [module documentation](self)).
#[derive(Module, Debug)]
pub struct HierarchicalClassifier<B: Backend> {
    /// The convolutions, one per block (`d_input → hidden`, then `hidden → hidden`).
    pub convs: Vec<Conv<B>>,
    /// The poolings: one per block (hierarchical) or a single one (global).
    pub pools: Vec<BlockPool<B>>,
    /// First head layer (PyG `lin1`).
    pub lin1: Linear<B>,
    /// Second head layer (PyG `lin2`).
    pub lin2: Linear<B>,
    /// Output layer (PyG `lin3`).
    pub lin3: Linear<B>,
    dropout: Dropout,
    #[module(skip)]
    readout: GlobalPool,
    #[module(skip)]
    architecture: Architecture,
    d_input: usize,
}

/// One pooling step of a forward pass, for inspection and parity checks.
#[derive(Debug, Clone)]
pub struct PoolTrace<B: Backend> {
    /// Input node id (within this pooling's input) of each kept node `[K]` (PyG's `perm`).
    pub perm: Tensor<B, 1, Int>,
    /// Kept nodes per graph.
    pub node_counts: Vec<usize>,
    /// Kept edges per graph.
    pub edge_counts: Vec<usize>,
}

/// A forward pass with its pooling steps.
#[derive(Debug, Clone)]
pub struct ClassifierTrace<B: Backend> {
    /// Log-probabilities `[G, num_classes]`.
    pub log_probs: Tensor<B, 2>,
    /// The summed (hierarchical) or single (global) readout `[G, r]` that feeds the head.
    pub embedding: Tensor<B, 2>,
    /// Each pooling, in order.
    pub pools: Vec<PoolTrace<B>>,
}

impl HierarchicalClassifierConfig {
    /// Width of the readout that feeds the head.
    pub fn readout_width(&self) -> usize {
        let pooled = match self.architecture {
            Architecture::Hierarchical => self.hidden,
            Architecture::Global => self.hidden * self.num_blocks,
        };
        self.readout.output_width(pooled)
    }

    /// Checks the configuration without building anything.
    ///
    /// # Errors
    /// [`ModelError::TooSmall`](crate::ModelError::TooSmall) for a zero width, block count or class count (and a hidden width
    /// of 1, which would leave the second head layer empty), [`ModelError::InvalidDropout`](crate::ModelError::InvalidDropout) for
    /// a dropout outside `[0, 1)`, [`ModelError::Pool`](crate::ModelError::Pool) for an invalid selection.
    pub fn validate(&self) -> Result<()> {
        validate_sizes(
            self.d_input,
            self.num_classes,
            self.hidden,
            self.num_blocks,
            self.dropout,
        )?;
        Ok(self.selection.validate()?)
    }

    /// Builds the classifier with PyTorch's default initialisation.
    ///
    /// # Errors
    /// As [`validate`](Self::validate).
    pub fn init<B: SegmentBackend>(&self, device: &B::Device) -> Result<HierarchicalClassifier<B>> {
        self.validate()?;
        let h = self.hidden;
        let convs = block_convs(self.conv, self.d_input, h, self.num_blocks, device);
        let pool_width = match self.architecture {
            Architecture::Hierarchical => h,
            Architecture::Global => h * self.num_blocks,
        };
        let num_pools = match self.architecture {
            Architecture::Hierarchical => self.num_blocks,
            Architecture::Global => 1,
        };
        let pools = (0..num_pools)
            .map(|_| self.init_pool(pool_width, device))
            .collect::<Result<Vec<_>>>()?;
        Ok(HierarchicalClassifier {
            convs,
            pools,
            lin1: LinearConfig::new(self.readout_width(), h).init(device),
            lin2: LinearConfig::new(h, h / 2).init(device),
            lin3: LinearConfig::new(h / 2, self.num_classes).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            readout: self.readout,
            architecture: self.architecture,
            d_input: self.d_input,
        })
    }

    /// The scoring GNN SAG pooling uses (see [`sag_scorer`](Self::sag_scorer)).
    pub fn scorer(&self) -> ConvKind {
        match (self.sag_scorer, self.conv) {
            (Some(kind), _) => kind,
            (None, kind) => kind,
        }
    }

    fn init_pool<B: SegmentBackend>(
        &self,
        width: usize,
        device: &B::Device,
    ) -> Result<BlockPool<B>> {
        Ok(match self.pool {
            PoolKind::TopK => {
                BlockPool::TopK(TopKPoolingConfig::new(width, self.selection).init(device)?)
            }
            PoolKind::Sag => BlockPool::Sag(
                SagPoolingConfig::new(width, self.selection)
                    .with_scorer(self.scorer())
                    .init(device)?,
            ),
        })
    }
}

impl<B: SegmentBackend> HierarchicalClassifier<B> {
    /// Classifies a batch of graphs.
    ///
    /// - `graphs`: `x [N, d_input]`, edges `[2, E]` (edge weights, when present, reach the
    ///   convolutions); labels are not used
    /// - returns **log-probabilities** `[G, num_classes]` (`log_softmax` of the logits, as PyG's
    ///   example), so the loss is the negative log-likelihood and `exp` gives probabilities
    ///
    /// Dropout is active only on an autodiff backend (Burn's rule): evaluate on
    /// [`AutodiffModule::valid`](burn::module::AutodiffModule::valid).
    ///
    /// # Panics
    /// When the batch does not have `d_input` node features (a programming error: the model and
    /// the data disagree). Every later width is fixed by construction (convolutions output
    /// `hidden` features, which is the pooling width).
    #[track_caller]
    pub fn forward(&self, graphs: GraphBatch<B>) -> Tensor<B, 2> {
        self.forward_traced(graphs).log_probs
    }

    /// The head's scaled dropout mask for `num_graphs` graphs (see [`head::dropout_mask`]).
    pub(crate) fn head_dropout_mask(
        &self,
        num_graphs: usize,
        device: &B::Device,
    ) -> Option<Tensor<B, 2>> {
        head::dropout_mask(&self.lin1, self.dropout.prob, num_graphs, device)
    }

    /// As [`forward`](Self::forward), with the head's dropout given as a mask
    /// `[G, hidden]` from [`head_dropout_mask`](Self::head_dropout_mask) (`None`: no dropout),
    /// for the data-parallel training step.
    ///
    /// # Panics
    /// As [`forward`](Self::forward), and for a mask of another shape than `[G, hidden]` (the
    /// training step cuts the batch's mask by the shards' graph counts, so it never is).
    #[cfg(any(test, feature = "train"))]
    #[track_caller]
    pub(crate) fn forward_with_head_mask(
        &self,
        graphs: GraphBatch<B>,
        mask: Option<Tensor<B, 2>>,
    ) -> Tensor<B, 2> {
        self.forward_inner(graphs, Some(mask), None).log_probs
    }

    /// [`forward`](Self::forward), and the over-smoothing gauge of every block's convolution
    /// output, on the graphs it ran on, before pooling (see [`gnn_core::oversmoothing`]), first
    /// block first.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    #[track_caller]
    pub fn forward_gauged(&self, graphs: GraphBatch<B>) -> (Tensor<B, 2>, Vec<Smoothness<B>>) {
        let mut gauges = Vec::with_capacity(self.convs.len());
        let trace = self.forward_inner(graphs, None, Some(&mut gauges));
        (trace.log_probs, gauges)
    }

    /// As [`forward`](Self::forward), also returning the readout and every pooling's `perm`
    /// and kept node and edge counts.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    #[track_caller]
    pub fn forward_traced(&self, graphs: GraphBatch<B>) -> ClassifierTrace<B> {
        self.forward_inner(graphs, None, None)
    }

    /// The forward pass; `mask`: `None` draws the head's dropout, `Some(m)` applies `m`;
    /// `gauges`: where to record each block's over-smoothing gauge.
    #[track_caller]
    fn forward_inner(
        &self,
        graphs: GraphBatch<B>,
        mask: Option<Option<Tensor<B, 2>>>,
        mut gauges: Gauges<'_, B>,
    ) -> ClassifierTrace<B> {
        assert!(
            graphs.num_features() == self.d_input,
            "HierarchicalClassifier was built for {} input features but the input has {}",
            self.d_input,
            graphs.num_features()
        );
        let mut traces = Vec::with_capacity(self.pools.len());
        let mut record = |pooled: &Pooled<B>| {
            traces.push(PoolTrace {
                perm: pooled.perm.clone(),
                node_counts: pooled.graphs.node_counts().to_vec(),
                edge_counts: pooled.graphs.edge_counts().to_vec(),
            })
        };
        let embedding = match self.architecture {
            Architecture::Hierarchical => {
                let mut graphs = graphs;
                let mut sum: Option<Tensor<B, 2>> = None;
                for (conv, pool) in self.convs.iter().zip(&self.pools) {
                    let convolved = conv.forward_batch(graphs).map_x(relu);
                    record_gauge(&mut gauges, &convolved);
                    let pooled = pool.forward(convolved);
                    record(&pooled);
                    let read = self.readout.apply_batch(&pooled.graphs);
                    sum = Some(match sum {
                        Some(acc) => acc + read,
                        None => read,
                    });
                    graphs = pooled.graphs;
                }
                // `init` builds at least one block (validated), so `sum` is set.
                sum.expect("a classifier has at least one block (checked by `init`)")
            }
            Architecture::Global => {
                let mut layers = Vec::with_capacity(self.convs.len());
                let mut graphs = graphs;
                for conv in &self.convs {
                    graphs = conv.forward_batch(graphs).map_x(relu);
                    record_gauge(&mut gauges, &graphs);
                    layers.push(graphs.x().clone());
                }
                let pool = self
                    .pools
                    .first()
                    .expect("a classifier has at least one pooling (checked by `init`)");
                let pooled = pool.forward(graphs.map_x(|_| Tensor::cat(layers, 1)));
                record(&pooled);
                self.readout.apply_batch(&pooled.graphs)
            }
        };
        let log_probs = head::forward_head(
            [&self.lin1, &self.lin2, &self.lin3],
            self.dropout.prob,
            embedding.clone(),
            mask,
        );
        ClassifierTrace {
            log_probs,
            embedding,
            pools: traces,
        }
    }

    /// Node features the classifier expects.
    pub fn d_input(&self) -> usize {
        self.d_input
    }

    /// Number of classes it predicts.
    pub fn num_classes(&self) -> usize {
        self.lin3.weight.dims()[1]
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::loss::nll_loss;
    use burn::module::{ModuleVisitor, Param};
    use burn::tensor::backend::AutodiffBackend;
    use gnn_core::host;

    pub(crate) use gnn_core::testing::tiny_graphs;

    fn variants() -> Vec<HierarchicalClassifierConfig> {
        let mut out = Vec::new();
        for conv in [
            ConvKind::Graph,
            ConvKind::Gcn,
            ConvKind::Gin,
            ConvKind::Sage,
        ] {
            for (pool, arch) in [
                (PoolKind::TopK, Architecture::Hierarchical),
                (PoolKind::Sag, Architecture::Hierarchical),
                (PoolKind::Sag, Architecture::Global),
            ] {
                out.push(
                    HierarchicalClassifierConfig::new(3, 3)
                        .with_hidden(8)
                        .with_conv(conv)
                        .with_pool(pool)
                        .with_architecture(arch),
                );
            }
        }
        out
    }

    fn output_shapes_for_every_variant<B: SegmentBackend>(device: &B::Device) {
        let graphs = GraphBatch::<B>::from_graphs(&tiny_graphs(5), device).expect("batch");
        for config in variants() {
            let model = config.init::<B>(device).expect("valid config");
            let trace = model.forward_traced(graphs.clone());
            assert_eq!(trace.log_probs.dims(), [5, 3], "{config}");
            assert_eq!(
                trace.embedding.dims(),
                [5, config.readout_width()],
                "{config}"
            );
            let expected_pools = if config.architecture == Architecture::Global {
                1
            } else {
                3
            };
            assert_eq!(trace.pools.len(), expected_pools);
            // Probabilities sum to one.
            let sums = host::floats(trace.log_probs.exp().sum_dim(1));
            assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "{sums:?}");
            // Ratio 0.8 keeps ceil(0.8 n) nodes per graph.
            assert_eq!(trace.pools[0].node_counts, vec![1, 2, 3, 4, 4]);
        }
    }

    fn rejects_wrong_width_and_bad_config<B: SegmentBackend>(device: &B::Device) {
        let model = HierarchicalClassifierConfig::new(4, 2)
            .with_hidden(8)
            .init::<B>(device)
            .expect("valid");
        let graphs = GraphBatch::<B>::from_graphs(&tiny_graphs(3), device).expect("batch");
        assert_eq!(
            gnn_core::testing::panic_message(|| model.forward(graphs)),
            "HierarchicalClassifier was built for 4 input features but the input has 3"
        );
        assert!(
            HierarchicalClassifierConfig::new(3, 2)
                .with_num_blocks(0)
                .init::<B>(device)
                .is_err()
        );
        assert!(
            HierarchicalClassifierConfig::new(3, 2)
                .with_selection(Selection::Ratio(1.5))
                .init::<B>(device)
                .is_err()
        );
        assert!(
            HierarchicalClassifierConfig::new(3, 2)
                .with_dropout(1.0)
                .init::<B>(device)
                .is_err()
        );
        let model = HierarchicalClassifierConfig::new(3, 2)
            .with_hidden(8)
            .init::<B>(device)
            .expect("valid");
        let graphs = GraphBatch::<B>::from_graphs(&tiny_graphs(3), device).expect("batch");
        let short_mask = Tensor::ones([2, 8], device);
        let message = gnn_core::testing::panic_message(|| {
            model.forward_with_head_mask(graphs, Some(short_mask))
        });
        assert!(message.contains("head dropout mask"), "{message}");
    }

    /// Collects the gradient norm of every float parameter, with its module path.
    struct GradNorms<'a, B: AutodiffBackend> {
        grads: &'a B::Gradients,
        path: Vec<String>,
        found: Vec<(String, Option<f64>)>,
    }

    impl<B: AutodiffBackend> ModuleVisitor<B> for GradNorms<'_, B> {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            let norm = param
                .val()
                .grad(self.grads)
                .map(|g| host::floats(g.abs().sum())[0]);
            self.found.push((self.path.join("."), norm));
        }
    }

    /// Every parameter gets a nonzero, finite gradient. A random initialisation can leave a
    /// ReLU dead for every node (then the layers below it get exactly zero), and tests share the
    /// backend's random generator, so each parameter must receive a gradient in at least one of
    /// three initialisations: this checks that the gradient path exists, not init luck.
    fn gradients_reach_every_parameter<B: AutodiffBackend + SegmentBackend>(device: &B::Device) {
        let graphs = GraphBatch::<B>::from_graphs(&tiny_graphs(12), device).expect("batch");
        let targets = graphs.y().expect("labelled").clone();
        for config in variants() {
            let mut reached: Vec<(String, bool)> = Vec::new();
            for attempt in 0..3 {
                B::seed(device, 7 + attempt);
                // Dropout off so that no unit of the head is zeroed by chance.
                let model = config
                    .clone()
                    .with_dropout(0.0)
                    .init::<B>(device)
                    .expect("valid");
                let log_probs = model.forward(graphs.clone());
                let grads = nll_loss(log_probs, targets.clone()).backward();
                let mut visitor = GradNorms::<B> {
                    grads: &grads,
                    path: Vec::new(),
                    found: Vec::new(),
                };
                model.visit(&mut visitor);
                if reached.is_empty() {
                    reached = visitor
                        .found
                        .iter()
                        .map(|(name, _)| (name.clone(), false))
                        .collect();
                }
                for ((_, ok), (_, norm)) in reached.iter_mut().zip(&visitor.found) {
                    *ok |= norm.is_some_and(|n| n > 0.0 && n.is_finite());
                }
            }
            assert!(reached.len() >= 10, "{config}");
            for (name, ok) in &reached {
                // SAGPooling's sign weight `s/|s|` has gradient 0 by construction (see gnn-pool).
                let sign_weight = config.pool == PoolKind::Sag && name.contains("select");
                assert!(
                    *ok || sign_weight,
                    "{config}: parameter {name} never gets a gradient"
                );
            }
            let pooling = reached
                .iter()
                .filter(|(n, ok)| n.contains("pools") && *ok)
                .count();
            assert!(pooling > 0, "{config}: no pooling weight gets a gradient");
        }
    }

    gnn_core::backend_tests!(
        output_shapes_for_every_variant,
        rejects_wrong_width_and_bad_config
    );
    gnn_core::autodiff_backend_tests!(gradients_reach_every_parameter);
}
