//! Phase 2 of [`load_tu`](super::load_tu): the checked tables cut into one [`Graph`] per graph
//! id, edges as the file lists them (self loops and duplicates included).

use gnn_core::Graph;

use super::read::TuTables;
use crate::error::{DataError, Result};

/// One graph per graph id, in order, each with its class label (when the dataset has labels),
/// its nodes' feature rows, and
/// its edges (node ids local to the graph) with their feature rows, in file order.
pub(super) fn assemble_graphs(tables: &TuTables) -> Result<Vec<Graph>> {
    let num_graphs = tables.num_graphs;
    let node_dim = tables.node_features.width();
    let edge_dim = tables.edge_features.width();
    let mut edges: Vec<Vec<(usize, usize)>> = vec![Vec::new(); num_graphs];
    let mut edge_features: Vec<Vec<f32>> = vec![Vec::new(); num_graphs];
    for (e, &(s, t)) in tables.edges.iter().enumerate() {
        let g = tables.node_graph[s];
        let offset = tables.node_offsets[g];
        edges[g].push((s - offset, t - offset));
        edge_features[g]
            .extend_from_slice(&tables.edge_features.values[e * edge_dim..(e + 1) * edge_dim]);
    }
    edges
        .into_iter()
        .zip(edge_features)
        .enumerate()
        .map(|(g, (edges, edge_features))| {
            let (start, end) = (tables.node_offsets[g], tables.node_offsets[g + 1]);
            let x = tables.node_features.values[start * node_dim..end * node_dim].to_vec();
            let build = || -> gnn_core::Result<Graph> {
                let graph = Graph::new(end - start, node_dim, x, edges)?;
                let graph = match &tables.classes {
                    Some(classes) => graph.with_label(classes[g]),
                    None => graph,
                };
                if edge_dim > 0 {
                    graph.with_edge_attr(edge_dim, edge_features)
                } else {
                    Ok(graph)
                }
            };
            build().map_err(|source| DataError::Graph { index: g, source })
        })
        .collect()
}
