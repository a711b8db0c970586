//! Checks shared by the tests of the dense-pooling classifiers.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use gnn_core::{Graph, GraphBatch, host};

use crate::classifier::{Classifier, ClassifierConfig};
use crate::loss::nll_loss;
use gnn_core::segment::{SegmentAutodiffBackend, SegmentBackend};

/// The names of the float parameters of `model` whose gradient is nonzero and finite, and of
/// all of them.
struct GradNorms<'a, B: AutodiffBackend> {
    grads: &'a B::Gradients,
    path: Vec<String>,
    found: Vec<(String, bool)>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for GradNorms<'_, B> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let reached = param
            .val()
            .grad(self.grads)
            .map(|g| host::floats(g.abs().sum())[0])
            .is_some_and(|n| n > 0.0 && n.is_finite());
        self.found.push((self.path.join("."), reached));
    }
}

/// Every parameter of the model `config` builds gets a nonzero, finite gradient of the training
/// loss (NLL + auxiliary loss) in at least one of three initialisations (a ReLU can be dead
/// for every node by chance), and there are at least `min_params` of them.
pub(crate) fn gradients_reach_every_parameter<B: SegmentAutodiffBackend>(
    config: &ClassifierConfig,
    graphs: &[Graph],
    min_params: usize,
    device: &B::Device,
) {
    let batch = GraphBatch::<B>::from_graphs(graphs, device).expect("batch");
    let targets = batch.y().expect("labelled").clone();
    let mut reached: Vec<(String, bool)> = Vec::new();
    for attempt in 0..3 {
        B::seed(device, 11 + attempt);
        let model = config.init::<B>(device).expect("valid");
        let (log_probs, aux) = model.forward_with_aux_loss(batch.clone());
        let loss = nll_loss(log_probs, targets.clone()) + aux.expect("an auxiliary loss");
        let grads = loss.backward();
        let mut visitor = GradNorms::<B> {
            grads: &grads,
            path: Vec::new(),
            found: Vec::new(),
        };
        model.visit(&mut visitor);
        if reached.is_empty() {
            reached = visitor.found.clone();
        }
        for ((_, ok), (_, now)) in reached.iter_mut().zip(&visitor.found) {
            *ok |= now;
        }
    }
    assert!(reached.len() >= min_params, "{} parameters", reached.len());
    // Batch norm's running statistics are state, not parameters.
    reached.retain(|(name, _)| !name.contains("running_"));
    for (name, ok) in &reached {
        assert!(
            *ok,
            "{}: parameter {name} never gets a gradient",
            config.kind()
        );
    }
}

/// Training loss (NLL + auxiliary) before and after `steps` Adam steps on one batch.
pub(crate) fn loss_before_and_after_training<B: SegmentAutodiffBackend>(
    config: &ClassifierConfig,
    graphs: &[Graph],
    steps: usize,
    device: &B::Device,
) -> (f64, f64) {
    B::seed(device, 3);
    let mut model = config.init::<B>(device).expect("valid");
    let batch = GraphBatch::<B>::from_graphs(graphs, device).expect("batch");
    let targets = batch.y().expect("labelled").clone();
    let mut optim = AdamConfig::new().init::<B, Classifier<B>>();
    let loss_of = |model: &Classifier<B>| {
        let (log_probs, aux) = model.forward_with_aux_loss(batch.clone());
        nll_loss(log_probs, targets.clone()) + aux.expect("an auxiliary loss")
    };
    let first = host::floats(loss_of(&model).detach())[0];
    for _ in 0..steps {
        let grads = GradientsParams::from_grads(loss_of(&model).backward(), &model);
        model = optim.step(1e-2, model, grads);
    }
    (first, host::floats(loss_of(&model).detach())[0])
}

/// Log-probabilities of each graph classified alone, concatenated, and of all in one batch.
pub(crate) fn alone_and_together<B: SegmentBackend>(
    model: &Classifier<B>,
    graphs: &[Graph],
    device: &B::Device,
) -> (Vec<f64>, Vec<f64>) {
    let alone = graphs
        .iter()
        .flat_map(|g| {
            let batch = GraphBatch::from_graphs(std::slice::from_ref(g), device).expect("batch");
            host::floats(model.forward(batch))
        })
        .collect();
    let batch = GraphBatch::from_graphs(graphs, device).expect("batch");
    (alone, host::floats(model.forward(batch)))
}

/// Asserts two lists agree within `tol`.
#[track_caller]
pub(crate) fn assert_all_close(actual: &[f64], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len());
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= tol, "entry {i}: {a} vs {e}");
    }
}
