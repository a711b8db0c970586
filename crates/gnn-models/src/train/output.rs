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
        }
    }
}

/// Synced to Flex in one transaction (one device read per step), as burn-train's own
/// `ClassificationOutput`, so that training (`Autodiff<B>`) and validation (`B`) outputs feed
/// the same metrics.
impl<B: Backend> ItemLazy for GraphClassificationOutput<B> {
    type ItemSync = GraphClassificationOutput<Flex>;

    fn sync(self) -> Self::ItemSync {
        let [output, loss, targets, aux_loss] = Transaction::default()
            .register(self.output)
            .register(self.loss)
            .register(self.targets)
            .register(self.aux_loss)
            .execute()
            .try_into()
            .expect("four tensors registered, four read");
        let device = Default::default();
        GraphClassificationOutput {
            output: Tensor::from_data(output, &device),
            loss: Tensor::from_data(loss, &device),
            targets: Tensor::from_data(targets, &device),
            aux_loss: Tensor::from_data(aux_loss, &device),
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
