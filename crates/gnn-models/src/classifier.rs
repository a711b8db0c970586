//! [`Classifier`]: the one type that training, evaluation and prediction use, whatever the
//! model.
//!
//! Each model of [`models`](crate::models) is a variant of [`Classifier`] and of
//! [`ClassifierConfig`], so a training loop, a checkpoint (`ClassifierConfig` is a Burn
//! `Config`, saved as JSON beside the weights) or a prediction command is written once. Adding a
//! model is one file under `models/` and one variant here.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use gnn_core::GraphBatch;
use gnn_core::oversmoothing::Smoothness;
use gnn_core::segment::SegmentBackend;

use crate::error::Result;
use crate::models::{
    DiffPoolClassifier, DiffPoolClassifierConfig, GlobalClassifier, GlobalClassifierConfig,
    GraclusClassifier, GraclusClassifierConfig, HierarchicalClassifier,
    HierarchicalClassifierConfig, MinCutClassifier, MinCutClassifierConfig,
};

/// The configuration of any [`Classifier`].
#[derive(Config, Debug)]
pub enum ClassifierConfig {
    /// A [`HierarchicalClassifier`] (PyG's TopK example, SAGPool_h, SAGPool_g).
    Hierarchical(HierarchicalClassifierConfig),
    /// A [`GlobalClassifier`] (no local pooling: the baseline).
    Global(GlobalClassifierConfig),
    /// A [`GraclusClassifier`] (graclus supernodes, PyG's `mnist_graclus.py`).
    Graclus(GraclusClassifierConfig),
    /// A [`DiffPoolClassifier`] (PyG's `proteins_diff_pool.py`).
    DiffPool(DiffPoolClassifierConfig),
    /// A [`MinCutClassifier`] (PyG's `proteins_mincut_pool.py`).
    MinCut(MinCutClassifierConfig),
}

impl ClassifierConfig {
    /// Node features the model reads.
    pub fn d_input(&self) -> usize {
        match self {
            ClassifierConfig::Hierarchical(config) => config.d_input,
            ClassifierConfig::Global(config) => config.d_input,
            ClassifierConfig::Graclus(config) => config.d_input,
            ClassifierConfig::DiffPool(config) => config.d_input,
            ClassifierConfig::MinCut(config) => config.d_input,
        }
    }

    /// Classes the model predicts.
    pub fn num_classes(&self) -> usize {
        match self {
            ClassifierConfig::Hierarchical(config) => config.num_classes,
            ClassifierConfig::Global(config) => config.num_classes,
            ClassifierConfig::Graclus(config) => config.num_classes,
            ClassifierConfig::DiffPool(config) => config.num_classes,
            ClassifierConfig::MinCut(config) => config.num_classes,
        }
    }

    /// A short name of the model kind, for reports and error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            ClassifierConfig::Hierarchical(_) => "hierarchical",
            ClassifierConfig::Global(_) => "global",
            ClassifierConfig::Graclus(_) => "graclus",
            ClassifierConfig::DiffPool(_) => "diffpool",
            ClassifierConfig::MinCut(_) => "mincut",
        }
    }

    /// Whether a training batch may be cut into shards trained on parallel threads with the
    /// batch's gradients ([`data_parallel_step`](crate::train::data_parallel_step)): false for
    /// DiffPool, whose batch norm normalises with the statistics of the whole batch and updates
    /// running statistics that copies on other threads would not keep.
    pub fn shardable(&self) -> bool {
        !matches!(self, ClassifierConfig::DiffPool(_))
    }

    /// How many over-smoothing gauges [`Classifier::forward_gauged`] returns: the block count
    /// of the sparse models, 0 for the dense ones.
    pub fn gauged_blocks(&self) -> usize {
        match self {
            ClassifierConfig::Hierarchical(config) => config.num_blocks,
            ClassifierConfig::Global(config) => config.num_blocks,
            ClassifierConfig::Graclus(config) => config.num_blocks,
            ClassifierConfig::DiffPool(_) | ClassifierConfig::MinCut(_) => 0,
        }
    }

    /// Whether the model adds an auxiliary loss to the NLL (DiffPool and MinCut with a
    /// non-zero `aux_loss_weight`), i.e. whether
    /// [`Classifier::forward_with_aux_loss`] returns one.
    pub fn has_aux_loss(&self) -> bool {
        match self {
            ClassifierConfig::DiffPool(config) => config.aux_loss_weight != 0.0,
            ClassifierConfig::MinCut(config) => config.aux_loss_weight != 0.0,
            _ => false,
        }
    }

    /// Checks the configuration without building anything.
    ///
    /// # Errors
    /// The model's own [`ModelError`](crate::ModelError).
    pub fn validate(&self) -> Result<()> {
        match self {
            ClassifierConfig::Hierarchical(config) => config.validate(),
            ClassifierConfig::Global(config) => config.validate(),
            ClassifierConfig::Graclus(config) => config.validate(),
            ClassifierConfig::DiffPool(config) => config.validate(),
            ClassifierConfig::MinCut(config) => config.validate(),
        }
    }

    /// Builds the model.
    ///
    /// # Errors
    /// As [`validate`](Self::validate).
    pub fn init<B: SegmentBackend>(&self, device: &B::Device) -> Result<Classifier<B>> {
        Ok(match self {
            ClassifierConfig::Hierarchical(config) => {
                Classifier::Hierarchical(config.init(device)?)
            }
            ClassifierConfig::Global(config) => Classifier::Global(config.init(device)?),
            ClassifierConfig::Graclus(config) => Classifier::Graclus(config.init(device)?),
            ClassifierConfig::DiffPool(config) => Classifier::DiffPool(config.init(device)?),
            ClassifierConfig::MinCut(config) => Classifier::MinCut(config.init(device)?),
        })
    }
}

impl From<HierarchicalClassifierConfig> for ClassifierConfig {
    fn from(config: HierarchicalClassifierConfig) -> Self {
        ClassifierConfig::Hierarchical(config)
    }
}

impl From<DiffPoolClassifierConfig> for ClassifierConfig {
    fn from(config: DiffPoolClassifierConfig) -> Self {
        ClassifierConfig::DiffPool(config)
    }
}

impl From<MinCutClassifierConfig> for ClassifierConfig {
    fn from(config: MinCutClassifierConfig) -> Self {
        ClassifierConfig::MinCut(config)
    }
}

/// Any graph classifier of this crate: log-probabilities of the classes of each graph.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Classifier<B: Backend> {
    /// A [`HierarchicalClassifier`].
    Hierarchical(HierarchicalClassifier<B>),
    /// A [`GlobalClassifier`].
    Global(GlobalClassifier<B>),
    /// A [`GraclusClassifier`].
    Graclus(GraclusClassifier<B>),
    /// A [`DiffPoolClassifier`].
    DiffPool(DiffPoolClassifier<B>),
    /// A [`MinCutClassifier`].
    MinCut(MinCutClassifier<B>),
}

impl<B: SegmentBackend> Classifier<B> {
    /// Classifies a batch of graphs.
    ///
    /// - `graphs`: `x [N, d_input]`, edges `[2, E]`; labels are not used
    /// - returns **log-probabilities** `[G, num_classes]`
    ///
    /// Dropout is active only on an autodiff backend (Burn's rule): evaluate on
    /// [`AutodiffModule::valid`](burn::module::AutodiffModule::valid).
    ///
    /// # Panics
    /// When the batch does not have `d_input` node features (a programming error: check the data
    /// once, where it enters, against [`d_input`](Self::d_input)).
    pub fn forward(&self, graphs: GraphBatch<B>) -> Tensor<B, 2> {
        self.forward_with_aux_loss(graphs).0
    }

    /// [`forward`](Self::forward) and the model's weighted auxiliary loss `[1]`, which the
    /// training step adds to the NLL: DiffPool's link and entropy losses, MinCut's mincut and
    /// orthogonality losses, each times the model's `aux_loss_weight`; `None` for models
    /// without one (or with weight 0).
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_with_aux_loss(
        &self,
        graphs: GraphBatch<B>,
    ) -> (Tensor<B, 2>, Option<Tensor<B, 1>>) {
        match self {
            Classifier::Hierarchical(model) => (model.forward(graphs), None),
            Classifier::Global(model) => (model.forward(graphs), None),
            Classifier::Graclus(model) => (model.forward(graphs), None),
            Classifier::DiffPool(model) => {
                let out = model.forward(graphs);
                let aux = model.aux_loss(&out);
                (out.log_probs, aux)
            }
            Classifier::MinCut(model) => {
                let out = model.forward(graphs);
                let aux = model.aux_loss(&out);
                (out.log_probs, aux)
            }
        }
    }

    /// [`forward_with_aux_loss`](Self::forward_with_aux_loss), and the over-smoothing gauge of
    /// every block's convolution output (see [`gnn_core::oversmoothing`]), first block first,
    /// for the models of sparse blocks (`global`, hierarchical, `graclus`); the dense models
    /// (DiffPool, MinCut) record none.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    #[allow(clippy::type_complexity)]
    pub fn forward_gauged(
        &self,
        graphs: GraphBatch<B>,
    ) -> (Tensor<B, 2>, Option<Tensor<B, 1>>, Vec<Smoothness<B>>) {
        let (log_probs, gauges) = match self {
            Classifier::Hierarchical(model) => model.forward_gauged(graphs),
            Classifier::Global(model) => model.forward_gauged(graphs),
            Classifier::Graclus(model) => model.forward_gauged(graphs),
            Classifier::DiffPool(_) | Classifier::MinCut(_) => {
                let (log_probs, aux) = self.forward_with_aux_loss(graphs);
                return (log_probs, aux, Vec::new());
            }
        };
        (log_probs, None, gauges)
    }

    /// As [`ClassifierConfig::shardable`].
    pub fn shardable(&self) -> bool {
        !matches!(self, Classifier::DiffPool(_))
    }

    /// Node features the model reads.
    pub fn d_input(&self) -> usize {
        match self {
            Classifier::Hierarchical(model) => model.d_input(),
            Classifier::Global(model) => model.d_input(),
            Classifier::Graclus(model) => model.d_input(),
            Classifier::DiffPool(model) => model.d_input(),
            Classifier::MinCut(model) => model.d_input(),
        }
    }

    /// Classes the model predicts.
    pub fn num_classes(&self) -> usize {
        match self {
            Classifier::Hierarchical(model) => model.num_classes(),
            Classifier::Global(model) => model.num_classes(),
            Classifier::Graclus(model) => model.num_classes(),
            Classifier::DiffPool(model) => model.num_classes(),
            Classifier::MinCut(model) => model.num_classes(),
        }
    }

    /// The head's dropout mask for a whole batch, drawn once so that data-parallel shards
    /// share it (`None`: no dropout).
    #[cfg(feature = "train")]
    pub(crate) fn head_dropout_mask(
        &self,
        num_graphs: usize,
        device: &B::Device,
    ) -> Option<Tensor<B, 2>> {
        match self {
            Classifier::Hierarchical(model) => model.head_dropout_mask(num_graphs, device),
            Classifier::Global(model) => model.head.dropout_mask(num_graphs, device),
            Classifier::Graclus(model) => model.head.dropout_mask(num_graphs, device),
            Classifier::DiffPool(_) | Classifier::MinCut(_) => None,
        }
    }

    /// [`forward_with_aux_loss`](Self::forward_with_aux_loss) with the head's dropout given as
    /// a mask from [`head_dropout_mask`](Self::head_dropout_mask) (rows of this shard; models
    /// without head dropout ignore it).
    #[cfg(feature = "train")]
    pub(crate) fn forward_with_head_mask(
        &self,
        graphs: GraphBatch<B>,
        mask: Option<Tensor<B, 2>>,
    ) -> (Tensor<B, 2>, Option<Tensor<B, 1>>) {
        match self {
            Classifier::Hierarchical(model) => (model.forward_with_head_mask(graphs, mask), None),
            Classifier::Global(model) => (model.forward_with_head_mask(graphs, mask), None),
            Classifier::Graclus(model) => (model.forward_with_head_mask(graphs, mask), None),
            Classifier::DiffPool(_) | Classifier::MinCut(_) => self.forward_with_aux_loss(graphs),
        }
    }
}

impl From<GlobalClassifierConfig> for ClassifierConfig {
    fn from(config: GlobalClassifierConfig) -> Self {
        ClassifierConfig::Global(config)
    }
}

impl From<GraclusClassifierConfig> for ClassifierConfig {
    fn from(config: GraclusClassifierConfig) -> Self {
        ClassifierConfig::Graclus(config)
    }
}

impl<B: Backend> From<HierarchicalClassifier<B>> for Classifier<B> {
    fn from(model: HierarchicalClassifier<B>) -> Self {
        Classifier::Hierarchical(model)
    }
}

impl<B: Backend> From<DiffPoolClassifier<B>> for Classifier<B> {
    fn from(model: DiffPoolClassifier<B>) -> Self {
        Classifier::DiffPool(model)
    }
}

impl<B: Backend> From<MinCutClassifier<B>> for Classifier<B> {
    fn from(model: MinCutClassifier<B>) -> Self {
        Classifier::MinCut(model)
    }
}

#[cfg(test)]
mod tests {
    use gnn_core::testing::tiny_graphs;
    use gnn_core::{GraphBatch, host};

    use super::*;

    /// The one type computes what the model it wraps computes, and its configuration reads
    /// back from JSON to the same model kind and sizes.
    fn wraps_the_model_it_holds<B: SegmentBackend>(device: &B::Device) {
        let config = ClassifierConfig::from(HierarchicalClassifierConfig::new(3, 4).with_hidden(8));
        assert_eq!(
            (config.d_input(), config.num_classes(), config.kind()),
            (3, 4, "hierarchical")
        );
        let read = ClassifierConfig::load_binary(config.to_string().as_bytes()).expect("reads");
        assert_eq!((read.d_input(), read.num_classes()), (3, 4));
        let model = config.init::<B>(device).expect("valid");
        assert_eq!((model.d_input(), model.num_classes()), (3, 4));
        let batch = GraphBatch::<B>::from_graphs(&tiny_graphs(5), device).expect("batch");
        let Classifier::Hierarchical(inner) = &model else {
            panic!("a hierarchical configuration builds a hierarchical model")
        };
        assert_eq!(
            host::floats(model.forward(batch.clone())),
            host::floats(inner.forward(batch))
        );
        let invalid = ClassifierConfig::from(HierarchicalClassifierConfig::new(3, 0));
        assert!(matches!(
            invalid.init::<B>(device),
            Err(crate::ModelError::TooSmall {
                what: "number of classes",
                ..
            })
        ));
    }

    /// Every model of sparse blocks gauges each block, on every graph of the batch, and its
    /// log-probabilities are those of `forward`; the dense models gauge nothing.
    fn gauges_every_block<B: SegmentBackend>(device: &B::Device) {
        use crate::models::{
            DiffPoolClassifierConfig, GlobalClassifierConfig, GraclusClassifierConfig,
        };
        let graphs = tiny_graphs(6);
        let batch = GraphBatch::<B>::from_graphs(&graphs, device).expect("batch");
        for config in [
            ClassifierConfig::from(HierarchicalClassifierConfig::new(3, 2).with_hidden(8)),
            HierarchicalClassifierConfig::new(3, 2)
                .with_hidden(8)
                .with_architecture(crate::models::Architecture::Global)
                .into(),
            GlobalClassifierConfig::new(3, 2)
                .with_hidden(8)
                .with_num_blocks(4)
                .into(),
            GraclusClassifierConfig::new(3, 2).with_hidden(8).into(),
            DiffPoolClassifierConfig::new(3, 2).with_hidden(8).into(),
        ] {
            let model = config.init::<B>(device).expect("valid");
            let before = host::device_reads();
            let (log_probs, _, gauges) = model.forward_gauged(batch.clone());
            let gauged_reads = host::device_reads() - before;
            let before = host::device_reads();
            let plain = model.forward(batch.clone());
            // The gauges add no device read (graclus reads its edges either way).
            assert_eq!(
                gauged_reads,
                host::device_reads() - before,
                "{}",
                config.kind()
            );
            assert_eq!(gauges.len(), config.gauged_blocks(), "{}", config.kind());
            assert_eq!(host::floats(log_probs), host::floats(plain));
            for gauge in &gauges {
                assert_eq!(gauge.cosine_similarity.dims(), [graphs.len()]);
                let cosine = host::floats(gauge.cosine_similarity.clone());
                let energy = host::floats(gauge.dirichlet_energy.clone());
                assert!(
                    cosine
                        .iter()
                        .all(|c| (-1.0 - 1e-5..=1.0 + 1e-5).contains(c))
                );
                assert!(energy.iter().all(|e| *e >= 0.0 && e.is_finite()));
            }
        }
    }

    gnn_core::backend_tests!(wraps_the_model_it_holds, gauges_every_block);
}
