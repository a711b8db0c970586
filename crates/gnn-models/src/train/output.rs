//! [`GraphClassificationOutput`]: what a training or validation step hands burn-train, and
//! [`AuxLossMetric`], the burn-train metric of the models' auxiliary losses.

use std::sync::Arc;

use burn::backend::Flex;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, Transaction};
use burn::train::metric::state::{FormatOptions, NumericMetricState};
use burn::train::metric::{
    AccuracyInput, Adaptor, ItemLazy, LossInput, Metric, MetricAttributes, MetricMetadata,
    MetricName, Numeric, NumericAttributes, NumericEntry, SerializedEntry,
};

/// One step's output: burn-train's classification fields (so that its `LossMetric` and
/// `AccuracyMetric` apply) and the model's weighted auxiliary loss (DiffPool's link and
/// entropy losses, MinCut's mincut and orthogonality losses), which [`AuxLossMetric`] reads.
#[derive(Debug, Clone)]
pub struct GraphClassificationOutput<B: Backend> {
    /// The training loss: the NLL plus `aux_loss`, `[1]`.
    pub loss: Tensor<B, 1>,
    /// Log-probabilities `[G, num_classes]`.
    pub output: Tensor<B, 2>,
    /// Class of each graph `[G]`.
    pub targets: Tensor<B, 1, Int>,
    /// The weighted auxiliary loss included in `loss`, `[1]`; 0 for a model without one.
    pub aux_loss: Tensor<B, 1>,
    /// Validation only: per block, the mean cosine similarity and the mean Dirichlet energy
    /// over the batch's graphs, `[1]` each, interleaved (`[cos₁, energy₁, cos₂, …]`); empty
    /// in training and for models without gauges.
    pub smoothness: Vec<Tensor<B, 1>>,
}

impl<B: Backend> GraphClassificationOutput<B> {
    /// The output of a step whose `loss` includes `aux_loss` (`None`: the model has none).
    pub fn new(
        loss: Tensor<B, 1>,
        output: Tensor<B, 2>,
        targets: Tensor<B, 1, Int>,
        aux_loss: Option<Tensor<B, 1>>,
    ) -> Self {
        let aux_loss = aux_loss.unwrap_or_else(|| Tensor::zeros([1], &loss.device()));
        Self {
            loss,
            output,
            targets,
            aux_loss,
            smoothness: Vec::new(),
        }
    }

    /// The output with the blocks' over-smoothing gauges (see the `smoothness` field).
    pub fn with_smoothness(mut self, smoothness: Vec<Tensor<B, 1>>) -> Self {
        self.smoothness = smoothness;
        self
    }
}

/// Synced to Flex in one transaction (one device read per step, gauges included), as burn-train's own
/// `ClassificationOutput`, so that training (`Autodiff<B>`) and validation (`B`) outputs feed
/// the same metrics.
impl<B: Backend> ItemLazy for GraphClassificationOutput<B> {
    type ItemSync = GraphClassificationOutput<Flex>;

    fn sync(self) -> Self::ItemSync {
        let gauges = self.smoothness.len();
        let mut transaction = Transaction::default()
            .register(self.output)
            .register(self.loss)
            .register(self.targets)
            .register(self.aux_loss);
        for gauge in self.smoothness {
            transaction = transaction.register(gauge);
        }
        let mut data = transaction.execute().into_iter();
        let mut next = || data.next().expect("as many tensors read as registered");
        let device = Default::default();
        let (output, loss, targets, aux_loss) = (next(), next(), next(), next());
        GraphClassificationOutput {
            output: Tensor::from_data(output, &device),
            loss: Tensor::from_data(loss, &device),
            targets: Tensor::from_data(targets, &device),
            aux_loss: Tensor::from_data(aux_loss, &device),
            smoothness: (0..gauges)
                .map(|_| Tensor::from_data(next(), &device))
                .collect(),
        }
    }
}

impl<B: Backend> Adaptor<AccuracyInput<B>> for GraphClassificationOutput<B> {
    fn adapt(&self) -> AccuracyInput<B> {
        AccuracyInput::new(self.output.clone(), self.targets.clone())
    }
}

impl<B: Backend> Adaptor<LossInput<B>> for GraphClassificationOutput<B> {
    fn adapt(&self) -> LossInput<B> {
        LossInput::new(self.loss.clone())
    }
}

/// Input of [`AuxLossMetric`]: a step's weighted auxiliary loss `[1]`.
#[derive(Debug, Clone)]
pub struct AuxLossInput<B: Backend> {
    aux_loss: Tensor<B, 1>,
    graphs: usize,
}

impl<B: Backend> Adaptor<AuxLossInput<B>> for GraphClassificationOutput<B> {
    fn adapt(&self) -> AuxLossInput<B> {
        AuxLossInput {
            aux_loss: self.aux_loss.clone(),
            graphs: self.targets.dims()[0],
        }
    }
}

/// burn-train's name of [`AuxLossMetric`].
pub const AUX_LOSS_METRIC: &str = "Auxiliary loss";

/// The mean weighted auxiliary loss over an epoch's batches (weighted by batch size), named
/// [`AUX_LOSS_METRIC`]: register it for a model with an auxiliary loss, next to
/// burn-train's `LossMetric` (which includes it).
#[derive(Clone)]
pub struct AuxLossMetric<B: Backend> {
    name: Arc<String>,
    state: NumericMetricState,
    _backend: std::marker::PhantomData<B>,
}

impl<B: Backend> AuxLossMetric<B> {
    /// The metric, with no batch seen.
    pub fn new() -> Self {
        Self {
            name: Arc::new(AUX_LOSS_METRIC.to_string()),
            state: NumericMetricState::default(),
            _backend: std::marker::PhantomData,
        }
    }
}

impl<B: Backend> Default for AuxLossMetric<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend> Metric for AuxLossMetric<B> {
    type Input = AuxLossInput<B>;

    fn update(&mut self, input: &Self::Input, _metadata: &MetricMetadata) -> SerializedEntry {
        // One read of one value per batch, as burn-train's `LossMetric` does for the loss.
        let value = input
            .aux_loss
            .clone()
            .into_data()
            .iter::<f64>()
            .next()
            .unwrap_or(f64::NAN);
        self.state.update(
            value,
            input.graphs,
            FormatOptions::new(self.name()).precision(4),
        )
    }

    fn clear(&mut self) {
        self.state.reset()
    }

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: None,
            higher_is_better: false,
        }
        .into()
    }
}

impl<B: Backend> Numeric for AuxLossMetric<B> {
    fn value(&self) -> NumericEntry {
        self.state.current_value()
    }

    fn running_value(&self) -> NumericEntry {
        self.state.running_value()
    }
}

/// Which over-smoothing gauge a [`SmoothnessMetric`] follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gauge {
    /// The mean pairwise cosine similarity of node embeddings.
    CosineSimilarity,
    /// The Dirichlet energy over the edges, per node.
    DirichletEnergy,
}

impl Gauge {
    /// The metric's name for `block` (from 1) in burn-train's events, e.g.
    /// `Cosine similarity, block 2`.
    pub fn metric_name(self, block: usize) -> String {
        match self {
            Gauge::CosineSimilarity => format!("Cosine similarity, block {block}"),
            Gauge::DirichletEnergy => format!("Dirichlet energy, block {block}"),
        }
    }
}

/// Input of [`SmoothnessMetric`]: a validation step's gauges (see
/// [`GraphClassificationOutput::smoothness`]) and its graph count.
#[derive(Debug, Clone)]
pub struct SmoothnessInput<B: Backend> {
    gauges: Vec<Tensor<B, 1>>,
    graphs: usize,
}

impl<B: Backend> Adaptor<SmoothnessInput<B>> for GraphClassificationOutput<B> {
    fn adapt(&self) -> SmoothnessInput<B> {
        SmoothnessInput {
            gauges: self.smoothness.clone(),
            graphs: self.targets.dims()[0],
        }
    }
}

/// One block's over-smoothing gauge on the validation graphs, averaged over an epoch's batches
/// (weighted by batch size): register one per block and [`Gauge`] as a validation metric.
#[derive(Clone)]
pub struct SmoothnessMetric<B: Backend> {
    name: Arc<String>,
    index: usize,
    state: NumericMetricState,
    _backend: std::marker::PhantomData<B>,
}

impl<B: Backend> SmoothnessMetric<B> {
    /// The metric of `gauge` after block `block` (from 1).
    pub fn new(block: usize, gauge: Gauge) -> Self {
        let offset = match gauge {
            Gauge::CosineSimilarity => 0,
            Gauge::DirichletEnergy => 1,
        };
        Self {
            name: Arc::new(gauge.metric_name(block)),
            index: 2 * block.saturating_sub(1) + offset,
            state: NumericMetricState::default(),
            _backend: std::marker::PhantomData,
        }
    }
}

impl<B: Backend> Metric for SmoothnessMetric<B> {
    type Input = SmoothnessInput<B>;

    fn update(&mut self, input: &Self::Input, _metadata: &MetricMetadata) -> SerializedEntry {
        // NaN when the step carries no gauge for this block (a model without them).
        let value = input
            .gauges
            .get(self.index)
            .and_then(|gauge| gauge.clone().into_data().iter::<f64>().next())
            .unwrap_or(f64::NAN);
        self.state.update(
            value,
            input.graphs,
            FormatOptions::new(self.name()).precision(4),
        )
    }

    fn clear(&mut self) {
        self.state.reset()
    }

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: None,
            higher_is_better: false,
        }
        .into()
    }
}

impl<B: Backend> Numeric for SmoothnessMetric<B> {
    fn value(&self) -> NumericEntry {
        self.state.current_value()
    }

    fn running_value(&self) -> NumericEntry {
        self.state.running_value()
    }
}
