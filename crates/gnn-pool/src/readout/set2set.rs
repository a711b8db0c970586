use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Tensor, backend::Backend};
use gnn_core::burn_compat::sigmoid;
use gnn_core::segment::SegmentBackend;
use gnn_core::segment::{segment_softmax, segment_sum};
use gnn_core::{GraphBatch, Segments};

use super::check_rows;
use crate::error::{PoolError, Result, assert_width};

/// Configuration of [`Set2Set`].
#[derive(Config, Debug)]
pub struct Set2SetConfig {
    /// Node features of the input.
    pub d_input: usize,
    /// Number of attention steps (PyG `processing_steps`).
    pub processing_steps: usize,
}

/// The Set2Set readout of Vinyals et al., PyG's `Set2Set`: an LSTM queries the graph's nodes
/// `processing_steps` times; `[N, F] -> [G, 2F]`.
///
/// Each step: `q = LSTM(q*)`, `a_i = softmax_g(x_i · q_g)`, `r_g = Σ a_i x_i`, `q* = [q ‖ r]`.
/// The LSTM cell is PyTorch's: its two linear maps hold the gates in PyTorch's order
/// (input, forget, cell, output), so `weight_ih`/`weight_hh` port by a transpose.
#[derive(Module, Debug)]
pub struct Set2Set<B: Backend> {
    /// Input-to-gates map `2F → 4F` (PyTorch `weight_ih`, `bias_ih`).
    pub lstm_input: Linear<B>,
    /// Hidden-to-gates map `F → 4F` (PyTorch `weight_hh`, `bias_hh`).
    pub lstm_hidden: Linear<B>,
    processing_steps: usize,
    d_input: usize,
}

impl Set2SetConfig {
    /// Builds the layer with PyTorch's LSTM initialisation `U(-1/√F, 1/√F)`.
    ///
    /// # Errors
    /// [`PoolError::ZeroWidth`] for zero features or zero steps.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<Set2Set<B>> {
        if self.d_input == 0 || self.processing_steps == 0 {
            return Err(PoolError::ZeroWidth {
                what: "Set2Set width and processing_steps",
            });
        }
        let f = self.d_input;
        let bound = 1.0 / (f as f64).sqrt();
        let init = burn::nn::Initializer::Uniform {
            min: -bound,
            max: bound,
        };
        Ok(Set2Set {
            lstm_input: LinearConfig::new(2 * f, 4 * f)
                .with_initializer(init.clone())
                .init(device),
            lstm_hidden: LinearConfig::new(f, 4 * f)
                .with_initializer(init)
                .init(device),
            processing_steps: self.processing_steps,
            d_input: f,
        })
    }
}

impl<B: SegmentBackend> Set2Set<B> {
    /// - `x`: `[N, d_input]`, `graphs`: the graph of each node
    /// - returns `[G, 2 · d_input]`; an empty graph reads out `r = 0`
    ///
    /// # Errors
    /// [`PoolError::RowMismatch`] unless `x` has one row per node of `graphs` (checked on the
    /// host, no device read); [`forward_batch`](Self::forward_batch) cannot fail.
    ///
    /// # Panics
    /// When `x` is not `d_input` wide.
    #[track_caller]
    pub fn forward(&self, x: Tensor<B, 2>, graphs: &Segments<B>) -> Result<Tensor<B, 2>> {
        check_rows("Set2Set", &x, graphs)?;
        Ok(self.read(x, graphs))
    }

    /// [`forward`](Self::forward) on a batch's node features `[N, d_input]`, which have one row
    /// per node by construction: returns `[G, 2 · d_input]`.
    ///
    /// # Panics
    /// When the batch's features are not `d_input` wide.
    #[track_caller]
    pub fn forward_batch(&self, graphs: &GraphBatch<B>) -> Tensor<B, 2> {
        self.read(graphs.x().clone(), graphs.segments())
    }

    #[track_caller]
    fn read(&self, x: Tensor<B, 2>, graphs: &Segments<B>) -> Tensor<B, 2> {
        assert_width("Set2Set", self.d_input, x.dims()[1]);
        let f = self.d_input;
        let num_graphs = graphs.num_segments();
        let device = x.device();
        let mut hidden = Tensor::zeros([num_graphs, f], &device);
        let mut cell = Tensor::zeros([num_graphs, f], &device);
        let mut q_star = Tensor::zeros([num_graphs, 2 * f], &device);
        for _ in 0..self.processing_steps {
            let gates = self.lstm_input.forward(q_star) + self.lstm_hidden.forward(hidden);
            let gate = |i: usize| gates.clone().narrow(1, i * f, f);
            cell = sigmoid(gate(1)) * cell + sigmoid(gate(0)) * gate(2).tanh();
            hidden = sigmoid(gate(3)) * cell.clone().tanh();
            let energy = (x.clone() * hidden.clone().select(0, graphs.ids().clone())).sum_dim(1);
            let attention = segment_softmax(energy, graphs);
            let readout = segment_sum(x.clone() * attention, graphs);
            q_star = Tensor::cat(vec![hidden.clone(), readout], 1);
        }
        q_star
    }
}
