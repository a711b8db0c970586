use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};
use gnn_core::burn_compat::{reshape, zeros_if_element_free};
use gnn_core::{GraphBatch, Segments};

use super::check_rows;
use crate::error::{PoolError, Result};

/// Configuration of [`SortAggregation`].
#[derive(Config, Debug)]
pub struct SortAggregationConfig {
    /// Nodes kept per graph.
    pub k: usize,
}

/// The SortPool readout of DGCNN (Zhang et al.), PyG's `SortAggregation`: per graph, nodes
/// sorted by their last feature descending, the first `k` kept (missing rows 0), flattened:
/// `[N, F] -> [G, k·F]`.
#[derive(Module, Debug, Clone)]
pub struct SortAggregation {
    k: usize,
}

impl SortAggregationConfig {
    /// Builds the layer.
    ///
    /// # Errors
    /// [`PoolError::InvalidCount`] when `k == 0`.
    pub fn init(&self) -> Result<SortAggregation> {
        if self.k == 0 {
            return Err(PoolError::InvalidCount);
        }
        Ok(SortAggregation { k: self.k })
    }
}

impl SortAggregation {
    /// - `x`: `[N, F]`, `graphs`: the graph of each node
    /// - returns `[G, k · F]`
    ///
    /// # Errors
    /// [`PoolError::RowMismatch`] unless `x` has one row per node of `graphs` (checked on the
    /// host, no device read); [`forward_batch`](Self::forward_batch) cannot fail.
    pub fn forward<B: Backend>(
        &self,
        x: Tensor<B, 2>,
        graphs: &Segments<B>,
    ) -> Result<Tensor<B, 2>> {
        check_rows("SortAggregation", &x, graphs)?;
        Ok(self.read(x, graphs))
    }

    /// [`forward`](Self::forward) on a batch's node features `[N, F]`, which have one row per
    /// node by construction: returns `[G, k · F]`.
    pub fn forward_batch<B: Backend>(&self, graphs: &GraphBatch<B>) -> Tensor<B, 2> {
        self.read(graphs.x().clone(), graphs.segments())
    }

    fn read<B: Backend>(&self, x: Tensor<B, 2>, graphs: &Segments<B>) -> Tensor<B, 2> {
        let [rows, features] = x.dims();
        let num_graphs = graphs.num_segments();
        let device = x.device();
        let keep = self.k.min(graphs.max_count());
        if let Some(zeros) =
            zeros_if_element_free(&[rows, keep], [num_graphs, self.k * features], &device)
        {
            return zeros;
        }
        let layout = graphs.dense_layout();
        let width = layout.width;
        let key = reshape(
            layout.densify(
                x.clone().narrow(1, features - 1, 1).detach(),
                f64::NEG_INFINITY,
            ),
            [num_graphs, width],
        );
        let order = key.argsort_descending(1).narrow(1, 0, keep);
        // Padding slots hold row index `rows`: a zero row appended to `x`.
        let rows_in_order = reshape(
            reshape(layout.gather.clone(), [num_graphs, width]).gather(1, order),
            [num_graphs * keep],
        );
        let extended = Tensor::cat(vec![x, Tensor::zeros([1, features], &device)], 0);
        let kept = reshape(
            extended.select(0, rows_in_order),
            [num_graphs, keep * features],
        );
        if keep == self.k {
            kept
        } else {
            Tensor::cat(
                vec![
                    kept,
                    Tensor::zeros([num_graphs, (self.k - keep) * features], &device),
                ],
                1,
            )
        }
    }
}
