//! [`GraphClassificationOutput`]: what a training or validation step hands burn-train, and
//! [`StepMetric`], the burn-train metric of its scalars beyond loss and accuracy: the models'
//! auxiliary losses and the blocks' over-smoothing gauges.

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
/// entropy losses, MinCut's mincut and orthogonality losses) and, in validation, the blocks'
/// over-smoothing gauges, which [`StepMetric`]s read.
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

/// burn-train's name of the auxiliary loss metric ([`StepMetric::aux_loss`]).
pub const AUX_LOSS_METRIC: &str = "Auxiliary loss";

/// Which over-smoothing gauge a [`StepMetric::smoothness`] follows.
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

/// Input of a [`StepMetric`]: a step's scalars `[1]` each (the auxiliary loss, then the
/// gauges of [`GraphClassificationOutput::smoothness`]) and its graph count.
#[derive(Debug, Clone)]
pub struct StepScalars<B: Backend> {
    scalars: Vec<Tensor<B, 1>>,
    graphs: usize,
}

impl<B: Backend> Adaptor<StepScalars<B>> for GraphClassificationOutput<B> {
    fn adapt(&self) -> StepScalars<B> {
        StepScalars {
            scalars: std::iter::once(self.aux_loss.clone())
                .chain(self.smoothness.iter().cloned())
                .collect(),
            graphs: self.targets.dims()[0],
        }
    }
}

/// One scalar of every step (see [`StepScalars`]), averaged over an epoch's batches weighted
/// by their graph counts: the weighted auxiliary loss ([`aux_loss`](Self::aux_loss), register
/// it for training and validation next to burn-train's `LossMetric`, which includes it) or
/// one block's over-smoothing gauge ([`smoothness`](Self::smoothness), a validation metric).
#[derive(Clone)]
pub struct StepMetric<B: Backend> {
    name: Arc<String>,
    index: usize,
    state: NumericMetricState,
    _backend: std::marker::PhantomData<B>,
}

impl<B: Backend> StepMetric<B> {
    fn new(name: String, index: usize) -> Self {
        Self {
            name: Arc::new(name),
            index,
            state: NumericMetricState::default(),
            _backend: std::marker::PhantomData,
        }
    }

    /// The weighted auxiliary loss, named [`AUX_LOSS_METRIC`].
    pub fn aux_loss() -> Self {
        Self::new(AUX_LOSS_METRIC.to_string(), 0)
    }

    /// `gauge` after block `block` (from 1), named by [`Gauge::metric_name`].
    pub fn smoothness(block: usize, gauge: Gauge) -> Self {
        let offset = match gauge {
            Gauge::CosineSimilarity => 0,
            Gauge::DirichletEnergy => 1,
        };
        Self::new(
            gauge.metric_name(block),
            1 + 2 * block.saturating_sub(1) + offset,
        )
    }
}

impl<B: Backend> Metric for StepMetric<B> {
    type Input = StepScalars<B>;

    fn update(&mut self, input: &Self::Input, _metadata: &MetricMetadata) -> SerializedEntry {
        // One value of a synced (host) tensor; NaN when the step carries no such scalar (a
        // model without gauges).
        let value = input
            .scalars
            .get(self.index)
            .and_then(|scalar| scalar.clone().into_data().iter::<f64>().next())
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

impl<B: Backend> Numeric for StepMetric<B> {
    fn value(&self) -> NumericEntry {
        self.state.current_value()
    }

    fn running_value(&self) -> NumericEntry {
        self.state.running_value()
    }
}
