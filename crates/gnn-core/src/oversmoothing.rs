//! The over-smoothing gauge: how alike the node embeddings of each graph have become.
//!
//! Stacking message passing layers averages neighbours again and again; node embeddings then
//! converge within a graph and stop telling nodes apart (over-smoothing). [`smoothness`]
//! measures it per graph, on any embeddings and their batch, with two standard gauges:
//!
//! - the **mean pairwise cosine similarity** of the graph's node embeddings (1: all parallel,
//!   the smoothed limit; about 0 for unrelated embeddings);
//! - the **Dirichlet energy** over the graph's edges, normalised by its node count,
//!   `E(X) = (1/n) Σ_(i,j)∈E ‖x_i − x_j‖²` over the directed edge list (an undirected edge stored
//!   both ways counts twice), as in Rusch et al., "A survey on oversmoothing in graph neural
//!   networks" (2023): it falls to 0 when neighbours become equal.
//!
//! Edge cases, defined: a graph with fewer than two nodes has no pair, its cosine similarity
//! is 0; a zero embedding has cosine 0 with every other; a graph without edges (or without
//! nodes) has energy 0. [`Smoothness::pairs`] and [`Smoothness::nodes`] say which graphs a gauge
//! covers, so that averages over a dataset can leave the undefined ones out
//! ([`Smoothness::mean_over_graphs`]).
//!
//! Cost: `O(N · F + E · F)`, a handful of tensor ops for the whole batch, no device read: the
//! node and edge counts come from the host-side sizes [`GraphBatch`] keeps.

use burn::tensor::{Tensor, TensorData, backend::Backend};

use crate::burn_compat::zeros_if_element_free;
use crate::segment::{SegmentBackend, Segments, reshape, segment_sum};
use crate::{GraphBatch, GraphError, Result};

/// The gauges of [`smoothness`] for each graph of a batch.
#[derive(Debug, Clone)]
pub struct Smoothness<B: Backend> {
    /// Mean cosine similarity over the graph's ordered node pairs `i ≠ j`, `[G]` (0 for fewer
    /// than two nodes).
    pub cosine_similarity: Tensor<B, 1>,
    /// Dirichlet energy over the graph's edges divided by its node count, `[G]` (0 without
    /// edges).
    pub dirichlet_energy: Tensor<B, 1>,
    /// Node count of each graph (host).
    pub nodes: Vec<usize>,
}

impl<B: Backend> Smoothness<B> {
    /// Ordered node pairs `n (n − 1)` of each graph: the graphs with pairs are those whose
    /// cosine similarity is defined.
    pub fn pairs(&self) -> Vec<usize> {
        self.nodes
            .iter()
            .map(|&n| n * n.saturating_sub(1))
            .collect()
    }

    /// `(cosine similarity, Dirichlet energy)` averaged over graphs, each gauge over the graphs
    /// where it is defined (cosine: two nodes or more; energy: one node or more); `[1]` each,
    /// 0 when no graph qualifies. No device read.
    pub fn mean_over_graphs(&self) -> (Tensor<B, 1>, Tensor<B, 1>) {
        let device = self.cosine_similarity.device();
        let weights = |defined: &dyn Fn(usize) -> bool| {
            let count = self.nodes.iter().filter(|&&n| defined(n)).count().max(1);
            let w: Vec<f64> = self
                .nodes
                .iter()
                .map(|&n| if defined(n) { 1.0 / count as f64 } else { 0.0 })
                .collect();
            Tensor::<B, 1>::from_data(TensorData::new(w, [self.nodes.len()]), &device)
        };
        if self.nodes.is_empty() {
            return (Tensor::zeros([1], &device), Tensor::zeros([1], &device));
        }
        let cosine = (self.cosine_similarity.clone() * weights(&|n| n >= 2)).sum();
        let energy = (self.dirichlet_energy.clone() * weights(&|n| n >= 1)).sum();
        (cosine, energy)
    }
}

/// The over-smoothing gauges of node embeddings `x` `[N, F]` on the graphs of `graphs` (whose
/// structure, not features, is used: `x` is typically a layer's output on that batch).
///
/// Device reads: none.
///
/// # Errors
/// [`GraphError::ShapeMismatch`] when `x` does not have one row per node of `graphs`.
pub fn smoothness<B: SegmentBackend>(
    x: Tensor<B, 2>,
    graphs: &GraphBatch<B>,
) -> Result<Smoothness<B>> {
    let [rows, features] = x.dims();
    if rows != graphs.num_nodes() {
        return Err(GraphError::ShapeMismatch {
            what: "embedding rows".into(),
            expected: format!("{} (the batch's nodes)", graphs.num_nodes()),
            found: rows.to_string(),
        });
    }
    let device = x.device();
    let num_graphs = graphs.num_graphs();
    let nodes = graphs.node_counts().to_vec();
    let per_graph = |values: Vec<f64>| {
        Tensor::<B, 1>::from_data(TensorData::new(values, [num_graphs]), &device)
    };

    let cosine_similarity = match zeros_if_element_free(&[rows, features], [num_graphs], &device) {
        Some(zeros) => zeros,
        None => {
            // Σ_{i≠j} u_i·u_j = ‖Σ_i u_i‖² − Σ_i ‖u_i‖², with u the unit rows (0 for a zero row).
            let norm = x.clone().powf_scalar(2.0).sum_dim(1).sqrt(); // [N, 1]
            let zero = norm.clone().equal_elem(0.0);
            let unit = x.clone() / norm.mask_fill(zero.clone(), 1.0).expand([rows, features]);
            let unit_rows = Tensor::<B, 2>::ones([rows, 1], &device).mask_fill(zero, 0.0);
            let sum = segment_sum(unit, graphs.segments()); // [G, F]
            let squared = reshape(sum.powf_scalar(2.0).sum_dim(1), [num_graphs]);
            let self_pairs = reshape(segment_sum(unit_rows, graphs.segments()), [num_graphs]);
            let inverse_pairs = nodes
                .iter()
                .map(|&n| match n * n.saturating_sub(1) {
                    0 => 0.0,
                    pairs => 1.0 / pairs as f64,
                })
                .collect();
            (squared - self_pairs) * per_graph(inverse_pairs)
        }
    };

    let edges = graphs.num_edges();
    let dirichlet_energy =
        match zeros_if_element_free(&[rows, edges, features], [num_graphs], &device) {
            Some(zeros) => zeros,
            None => {
                // Edges are grouped by graph: their segments come from the host's edge counts.
                let edge_segments = Segments::from_counts(graphs.edge_counts().to_vec(), &device);
                let index = graphs.edge_index();
                let source = reshape(index.clone().narrow(0, 0, 1), [edges]);
                let target = reshape(index.clone().narrow(0, 1, 1), [edges]);
                let difference = x.clone().select(0, source) - x.select(0, target);
                let squared = difference.powf_scalar(2.0).sum_dim(1); // [E, 1]
                let per_node = nodes.iter().map(|&n| 1.0 / n.max(1) as f64).collect();
                reshape(segment_sum(squared, &edge_segments), [num_graphs]) * per_graph(per_node)
            }
        };
    Ok(Smoothness {
        cosine_similarity,
        dirichlet_energy,
        nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Graph, host};

    fn graphs() -> Vec<Graph> {
        vec![
            // Unit rows (1,0), (0,1), (1,1)/√2: cosines 0, 1/√2, 1/√2; edges 0–1 and 1–2 both
            // ways: ‖x0 − x1‖² = 2, ‖x1 − x2‖² = 1.
            Graph::new(
                3,
                2,
                vec![1., 0., 0., 1., 1., 1.],
                vec![(0, 1), (1, 0), (1, 2), (2, 1)],
            )
            .unwrap(),
            Graph::new(1, 2, vec![3., 4.], vec![]).unwrap(),
            Graph::new(0, 2, vec![], vec![]).unwrap(),
            // A zero embedding, and one directed edge.
            Graph::new(2, 2, vec![2., 0., 0., 0.], vec![(0, 1)]).unwrap(),
            // Parallel embeddings, no edge.
            Graph::new(2, 2, vec![1., 2., 2., 4.], vec![]).unwrap(),
        ]
    }

    fn gauges_match_hand_computed_values<B: SegmentBackend>(device: &B::Device) {
        let batch = GraphBatch::<B>::from_graphs(&graphs(), device).unwrap();
        let before = host::device_reads();
        let gauge = smoothness(batch.x().clone(), &batch).unwrap();
        let (mean_cosine, mean_energy) = gauge.mean_over_graphs();
        assert_eq!(host::device_reads(), before, "no device read");
        let close = |actual: Vec<f64>, expected: &[f64]| {
            assert_eq!(actual.len(), expected.len());
            for (a, e) in actual.iter().zip(expected) {
                assert!((a - e).abs() < 1e-6, "{actual:?} vs {expected:?}");
            }
        };
        let third = 2f64.sqrt() / 3.0; // 2 · (2 / √2) ordered pairs over 6
        close(
            host::floats(gauge.cosine_similarity.clone()),
            &[third, 0.0, 0.0, 0.0, 1.0],
        );
        // (2·2 + 2·1) / 3; none; none; 4 / 2; no edge.
        close(
            host::floats(gauge.dirichlet_energy.clone()),
            &[2.0, 0.0, 0.0, 2.0, 0.0],
        );
        assert_eq!(gauge.pairs(), vec![6, 0, 0, 2, 2]);
        // Cosine over the graphs with two nodes or more, energy over those with a node.
        close(host::floats(mean_cosine), &[(third + 1.0) / 3.0]);
        close(host::floats(mean_energy), &[1.0]);
    }

    fn batches_without_graphs_nodes_or_edges<B: SegmentBackend>(device: &B::Device) {
        let none = GraphBatch::<B>::from_graphs(&[], device).unwrap();
        let gauge = smoothness(none.x().clone(), &none).unwrap();
        assert_eq!(gauge.cosine_similarity.dims(), [0]);
        let (cosine, energy) = gauge.mean_over_graphs();
        assert_eq!(host::floats(cosine), vec![0.0]);
        assert_eq!(host::floats(energy), vec![0.0]);

        let empty = Graph::new(0, 2, vec![], vec![]).unwrap();
        let single = Graph::new(1, 2, vec![1., 1.], vec![]).unwrap();
        let batch = GraphBatch::<B>::from_graphs(&[empty.clone(), empty, single], device).unwrap();
        let gauge = smoothness(batch.x().clone(), &batch).unwrap();
        assert_eq!(host::floats(gauge.cosine_similarity), vec![0.0; 3]);
        assert_eq!(host::floats(gauge.dirichlet_energy), vec![0.0; 3]);

        let error = smoothness(Tensor::<B, 2>::zeros([2, 2], device), &batch).unwrap_err();
        assert_eq!(
            error.to_string(),
            "embedding rows: expected 1 (the batch's nodes), found 2"
        );
    }

    crate::backend_tests!(
        gauges_match_hand_computed_values,
        batches_without_graphs_nodes_or_edges
    );
}
