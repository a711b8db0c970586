//! Losses of the classifiers.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

/// Mean negative log-likelihood of `targets` `[G]` under `log_probs` `[G, C]` (PyTorch's
/// `F.nll_loss`), as a `[1]` tensor. Targets must be below `C` (checked by the caller).
pub fn nll_loss<B: Backend>(log_probs: Tensor<B, 2>, targets: Tensor<B, 1, Int>) -> Tensor<B, 1> {
    let [rows, _] = log_probs.dims();
    log_probs
        .gather(1, gnn_core::burn_compat::reshape(targets, [rows, 1]))
        .mean()
        .neg()
}
