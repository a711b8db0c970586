use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Tensor, backend::Backend};
use gnn_core::burn_compat;
use gnn_core::segment::SegmentBackend;
use gnn_core::segment::{segment_softmax, segment_sum};
use gnn_core::{GraphBatch, Segments};

use super::check_rows;
use crate::error::{PoolError, Result, assert_width};

/// Configuration of [`AttentionalAggregation`].
#[derive(Config, Debug)]
pub struct AttentionalAggregationConfig {
    /// Node features of the input.
    pub d_input: usize,
    /// Output width of the optional feature network (`None`: no feature network, output width
    /// `d_input`).
    pub d_output: Option<usize>,
}

/// Global soft attention (Li et al.), PyG's `AttentionalAggregation` with linear gate and
/// feature networks: `out_g = Σ_{i ∈ g} softmax_g(gate(x_i)) · nn(x_i)`.
#[derive(Module, Debug)]
pub struct AttentionalAggregation<B: Backend> {
    /// The gate network `d_input → 1` (PyG `gate_nn`).
    pub gate_nn: Linear<B>,
    /// The optional feature network `d_input → d_output` (PyG `nn`).
    pub nn: Option<Linear<B>>,
}

impl AttentionalAggregationConfig {
    /// Builds the layer.
    ///
    /// # Errors
    /// [`PoolError::ZeroWidth`] for a zero width.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<AttentionalAggregation<B>> {
        if self.d_input == 0 || self.d_output == Some(0) {
            return Err(PoolError::ZeroWidth {
                what: "AttentionalAggregation width",
            });
        }
        Ok(AttentionalAggregation {
            gate_nn: LinearConfig::new(self.d_input, 1).init(device),
            nn: self
                .d_output
                .map(|d| LinearConfig::new(self.d_input, d).init(device)),
        })
    }
}

impl<B: SegmentBackend> AttentionalAggregation<B> {
    /// - `x`: `[N, d_input]`, `graphs`: the graph of each node
    /// - returns `[G, d_output]` (`[G, d_input]` without feature network); empty graphs give 0
    ///
    /// # Errors
    /// [`PoolError::RowMismatch`] unless `x` has one row per node of `graphs` (checked on the
    /// host, no device read); [`forward_batch`](Self::forward_batch) cannot fail.
    ///
    /// # Panics
    /// When `x` is not `d_input` wide.
    #[track_caller]
    pub fn forward(&self, x: Tensor<B, 2>, graphs: &Segments<B>) -> Result<Tensor<B, 2>> {
        check_rows("AttentionalAggregation", &x, graphs)?;
        Ok(self.read(x, graphs))
    }

    /// [`forward`](Self::forward) on a batch's node features `[N, d_input]`, which have one row
    /// per node by construction: returns `[G, d_output]`.
    ///
    /// # Panics
    /// When the batch's features are not `d_input` wide.
    #[track_caller]
    pub fn forward_batch(&self, graphs: &GraphBatch<B>) -> Tensor<B, 2> {
        self.read(graphs.x().clone(), graphs.segments())
    }

    #[track_caller]
    fn read(&self, x: Tensor<B, 2>, graphs: &Segments<B>) -> Tensor<B, 2> {
        assert_width(
            "AttentionalAggregation",
            self.gate_nn.weight.dims()[0],
            x.dims()[1],
        );
        let attention = segment_softmax(burn_compat::linear(&self.gate_nn, x.clone()), graphs);
        let values = match &self.nn {
            Some(nn) => burn_compat::linear(nn, x),
            None => x,
        };
        segment_sum(values * attention, graphs)
    }
}
