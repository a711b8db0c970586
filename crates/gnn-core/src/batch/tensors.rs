//! A batch from PyG-style raw tensors, validated on the host.

use burn::tensor::{Int, Tensor, backend::Backend};

use super::GraphBatch;
use crate::error::{GraphError, Result, shape_mismatch};
use crate::host;
use crate::segment::{Segments, counts_from_batch_vector};

impl<B: Backend> GraphBatch<B> {
    /// A batch from raw tensors, PyG style: node features `[N, F]`, `edge_index` `[2, E]` and the
    /// batch vector `[N]`. Reads `edge_index` and `batch` to the host once to validate them.
    ///
    /// # Errors
    /// An unsorted or gappy batch vector, an edge index out of range, an edge joining two
    /// graphs, edges not grouped by graph, or a node count that disagrees with `x`.
    pub fn from_tensors(
        x: Tensor<B, 2>,
        edge_index: Tensor<B, 2, Int>,
        batch: Tensor<B, 1, Int>,
    ) -> Result<Self> {
        let [num_nodes, _] = x.dims();
        if batch.dims()[0] != num_nodes {
            return Err(shape_mismatch(
                "batch vector length (one graph id per node)",
                num_nodes,
                batch.dims()[0],
            ));
        }
        if edge_index.dims()[0] != 2 {
            return Err(shape_mismatch(
                "edge_index rows (sources, targets)",
                2,
                edge_index.dims()[0],
            ));
        }
        let ids = host::ints(batch.clone());
        let counts = counts_from_batch_vector(&ids, None)?;
        let edges = host::ints(edge_index.clone());
        let num_edges = edge_index.dims()[1];
        let mut edge_counts = vec![0; counts.len()];
        let mut previous_graph = 0;
        for edge in 0..num_edges {
            let (s, t) = (edges[edge], edges[num_edges + edge]);
            for (end, index) in [("source", s), ("target", t)] {
                if index < 0 || index as usize >= num_nodes {
                    return Err(GraphError::EdgeIndexOutOfRange {
                        graph: None,
                        edge,
                        end,
                        index,
                        num_nodes,
                    });
                }
            }
            let (gs, gt) = (ids[s as usize] as usize, ids[t as usize] as usize);
            if gs != gt {
                return Err(GraphError::EdgeCrossesGraphs {
                    edge,
                    source_node: s as usize,
                    target_node: t as usize,
                    source_graph: gs,
                    target_graph: gt,
                });
            }
            if gs < previous_graph {
                return Err(GraphError::EdgesNotGrouped {
                    edge,
                    graph: gs,
                    previous_graph,
                });
            }
            previous_graph = gs;
            edge_counts[gs] += 1;
        }
        Ok(Self {
            x,
            edge_index,
            edge_attr: None,
            edge_weight: None,
            nodes: Segments::from_parts_unchecked(batch, counts),
            edge_counts,
            y: None,
        })
    }
}
