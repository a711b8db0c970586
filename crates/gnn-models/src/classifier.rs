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
use gnn_core::segment::SegmentBackend;

use crate::error::Result;
use crate::models::{HierarchicalClassifier, HierarchicalClassifierConfig};

/// The configuration of any [`Classifier`].
#[derive(Config, Debug)]
pub enum ClassifierConfig {
    /// A [`HierarchicalClassifier`] (PyG's TopK example, SAGPool_h, SAGPool_g).
    Hierarchical(HierarchicalClassifierConfig),
}

impl ClassifierConfig {
    /// Node features the model reads.
    pub fn d_input(&self) -> usize {
        match self {
            ClassifierConfig::Hierarchical(config) => config.d_input,
        }
    }

    /// Classes the model predicts.
    pub fn num_classes(&self) -> usize {
        match self {
            ClassifierConfig::Hierarchical(config) => config.num_classes,
        }
    }

    /// A short name of the model kind, for reports and error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            ClassifierConfig::Hierarchical(_) => "hierarchical",
        }
    }

    /// Checks the configuration without building anything.
    ///
    /// # Errors
    /// The model's own [`ModelError`](crate::ModelError).
    pub fn validate(&self) -> Result<()> {
        match self {
            ClassifierConfig::Hierarchical(config) => config.validate(),
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
        })
    }
}

impl From<HierarchicalClassifierConfig> for ClassifierConfig {
    fn from(config: HierarchicalClassifierConfig) -> Self {
        ClassifierConfig::Hierarchical(config)
    }
}

/// Any graph classifier of this crate: log-probabilities of the classes of each graph.
#[derive(Module, Debug)]
pub enum Classifier<B: Backend> {
    /// A [`HierarchicalClassifier`].
    Hierarchical(HierarchicalClassifier<B>),
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
        match self {
            Classifier::Hierarchical(model) => model.forward(graphs),
        }
    }

    /// Node features the model reads.
    pub fn d_input(&self) -> usize {
        match self {
            Classifier::Hierarchical(model) => model.d_input(),
        }
    }

    /// Classes the model predicts.
    pub fn num_classes(&self) -> usize {
        match self {
            Classifier::Hierarchical(model) => model.num_classes(),
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
        }
    }

    /// [`forward`](Self::forward) with the head's dropout given as a mask from
    /// [`head_dropout_mask`](Self::head_dropout_mask) (rows of this shard).
    #[cfg(feature = "train")]
    pub(crate) fn forward_with_head_mask(
        &self,
        graphs: GraphBatch<B>,
        mask: Option<Tensor<B, 2>>,
    ) -> Tensor<B, 2> {
        match self {
            Classifier::Hierarchical(model) => model.forward_with_head_mask(graphs, mask),
        }
    }
}

impl<B: Backend> From<HierarchicalClassifier<B>> for Classifier<B> {
    fn from(model: HierarchicalClassifier<B>) -> Self {
        Classifier::Hierarchical(model)
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
        let Classifier::Hierarchical(inner) = &model;
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

    gnn_core::backend_tests!(wraps_the_model_it_holds);
}
