//! [`MlpHead`]: the classification head every classifier of this crate ends in.
//!
//! `Linear(r → hidden) → ReLU → Dropout → Linear(hidden → hidden/2) → ReLU →
//! Linear(hidden/2 → classes) → log_softmax`, PyG's `proteins_topk_pool.py` head. Sharing it
//! makes a comparison of the models a comparison of what comes before the head.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};

/// Configuration of an [`MlpHead`].
#[derive(Config, Debug)]
pub struct MlpHeadConfig {
    /// Width of the graph embedding it reads.
    pub d_input: usize,
    /// Width of the first layer (the second is `hidden / 2`).
    pub hidden: usize,
    /// Number of classes.
    pub num_classes: usize,
    /// Dropout probability after the first layer (training only).
    #[config(default = 0.5)]
    pub dropout: f64,
}

impl MlpHeadConfig {
    /// Builds the head with PyTorch's default initialisation. The caller validates the sizes
    /// (`hidden ≥ 2`, `num_classes ≥ 1`) and the dropout.
    pub fn init<B: Backend>(&self, device: &B::Device) -> MlpHead<B> {
        MlpHead {
            lin1: LinearConfig::new(self.d_input, self.hidden).init(device),
            lin2: LinearConfig::new(self.hidden, self.hidden / 2).init(device),
            lin3: LinearConfig::new(self.hidden / 2, self.num_classes).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

/// Three linear layers with ReLU and dropout, ending in `log_softmax` (see the
/// [module documentation](self)).
#[derive(Module, Debug)]
pub struct MlpHead<B: Backend> {
    /// First layer (PyG `lin1`).
    pub lin1: Linear<B>,
    /// Second layer (PyG `lin2`).
    pub lin2: Linear<B>,
    /// Output layer (PyG `lin3`).
    pub lin3: Linear<B>,
    dropout: Dropout,
}

impl<B: Backend> MlpHead<B> {
    /// `embedding [G, r]` → log-probabilities `[G, num_classes]`. Dropout is active only on an
    /// autodiff backend (Burn's rule).
    pub fn forward(&self, embedding: Tensor<B, 2>) -> Tensor<B, 2> {
        self.forward_masked(embedding, None)
    }

    /// Classes it predicts.
    pub fn num_classes(&self) -> usize {
        self.lin3.weight.dims()[1]
    }

    /// The scaled dropout mask for `num_graphs` graphs (see [`dropout_mask`]).
    pub(crate) fn dropout_mask(
        &self,
        num_graphs: usize,
        device: &B::Device,
    ) -> Option<Tensor<B, 2>> {
        dropout_mask(&self.lin1, self.dropout.prob, num_graphs, device)
    }

    /// [`forward`](Self::forward); `mask`: `None` draws the dropout, `Some(m)` applies `m`
    /// (see [`forward_head`]).
    #[track_caller]
    pub(crate) fn forward_masked(
        &self,
        embedding: Tensor<B, 2>,
        mask: Option<Option<Tensor<B, 2>>>,
    ) -> Tensor<B, 2> {
        forward_head(
            [&self.lin1, &self.lin2, &self.lin3],
            self.dropout.prob,
            embedding,
            mask,
        )
    }
}

/// The scaled dropout mask after `lin1` for `num_graphs` graphs, `[num_graphs, hidden]`
/// (entries `0` or `1 / (1 - p)`), drawn from the backend's generator as Burn's `Dropout` draws
/// it; `None` off an autodiff backend or when `p = 0`.
///
/// Drawing the mask apart from the forward pass lets the data-parallel training step (feature
/// `train`) draw it once per batch on one thread, so that training on shards of a batch in
/// parallel stays reproducible. A training concern: not part of the public API.
pub(crate) fn dropout_mask<B: Backend>(
    lin1: &Linear<B>,
    prob: f64,
    num_graphs: usize,
    device: &B::Device,
) -> Option<Tensor<B, 2>> {
    if !B::ad_enabled(device) || prob == 0.0 {
        return None;
    }
    let keep = 1.0 - prob;
    let width = lin1.weight.dims()[1];
    Some(Tensor::random([num_graphs, width], Distribution::Bernoulli(keep), device) * (1.0 / keep))
}

/// The head's computation on `embedding [G, r]`, for the layers `[lin1, lin2, lin3]`; `mask`:
/// `None` draws the dropout mask, `Some(None)` applies none, `Some(Some(m))` applies `m`.
///
/// # Panics
/// For a mask of another shape than `[G, hidden]` (the training step cuts the batch's mask by
/// the shards' graph counts, so it never is).
#[track_caller]
pub(crate) fn forward_head<B: Backend>(
    [lin1, lin2, lin3]: [&Linear<B>; 3],
    prob: f64,
    embedding: Tensor<B, 2>,
    mask: Option<Option<Tensor<B, 2>>>,
) -> Tensor<B, 2> {
    let x = relu(lin1.forward(embedding));
    let mask = mask.unwrap_or_else(|| dropout_mask(lin1, prob, x.dims()[0], &x.device()));
    let x = match mask {
        Some(mask) => {
            assert!(
                mask.dims() == x.dims(),
                "the head dropout mask must be {:?} (graphs, hidden), it is {:?}",
                x.dims(),
                mask.dims()
            );
            x * mask
        }
        None => x,
    };
    log_softmax(lin3.forward(relu(lin2.forward(x))), 1)
}
