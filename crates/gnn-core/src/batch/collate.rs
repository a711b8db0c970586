//! Host graphs to a batch on a device and back (PyG's `Batch.from_data_list`, `to_data_list`).

use burn::tensor::{Tensor, TensorData, backend::Backend};

use super::GraphBatch;
use crate::error::{GraphError, Result};
use crate::graph::{EdgeAttr, Graph};
use crate::host;
use crate::segment::Segments;

impl<B: Backend> GraphBatch<B> {
    /// Collates host graphs into one batch on `device`, offsetting edge indices as PyG's
    /// `Batch.from_data_list`. Empty graphs are kept (they own no node and no edge).
    ///
    /// # Errors
    /// [`GraphError::IncompatibleGraphs`] when graphs disagree on the number of node or edge
    /// features, or some have edge weights or labels and others not.
    pub fn from_graphs(graphs: &[Graph], device: &B::Device) -> Result<Self> {
        let first = graphs.first();
        let num_features = first.map_or(0, Graph::num_features);
        let attr_dim = first.and_then(|g| g.edge_attr().map(|a| a.dim));
        let has_weight = first.is_some_and(|g| g.edge_weight().is_some());
        let has_label = first.is_some_and(|g| g.label().is_some());
        for (i, g) in graphs.iter().enumerate().skip(1) {
            let detail = if g.num_features() != num_features {
                format!(
                    "{} node features instead of {num_features}",
                    g.num_features()
                )
            } else if g.edge_attr().map(|a| a.dim) != attr_dim {
                let describe = |dim: Option<usize>| {
                    dim.map_or("no edge features".to_string(), |d| {
                        format!("{d} edge features")
                    })
                };
                format!(
                    "{} instead of {}",
                    describe(g.edge_attr().map(|a| a.dim)),
                    describe(attr_dim)
                )
            } else if g.edge_weight().is_some() != has_weight {
                "edge weights present in one and not the other".to_string()
            } else if g.label().is_some() != has_label {
                "a label present in one and not the other".to_string()
            } else {
                continue;
            };
            return Err(GraphError::IncompatibleGraphs { graph: i, detail });
        }

        let num_nodes: usize = graphs.iter().map(Graph::num_nodes).sum();
        let num_edges: usize = graphs.iter().map(Graph::num_edges).sum();
        let mut x = Vec::with_capacity(num_nodes * num_features);
        let mut sources = Vec::with_capacity(num_edges);
        let mut targets = Vec::with_capacity(num_edges);
        let mut attr = Vec::new();
        let mut weight = Vec::new();
        let mut offset = 0;
        for g in graphs {
            x.extend_from_slice(g.x());
            for &(s, t) in g.edges() {
                sources.push((s + offset) as i64);
                targets.push((t + offset) as i64);
            }
            if let Some(a) = g.edge_attr() {
                attr.extend_from_slice(&a.values);
            }
            if let Some(w) = g.edge_weight() {
                weight.extend_from_slice(w);
            }
            offset += g.num_nodes();
        }
        sources.extend(targets);
        let edge_index = Tensor::from_data(TensorData::new(sources, [2, num_edges]), device);
        let nodes = Segments::from_counts(graphs.iter().map(Graph::num_nodes).collect(), device);
        Ok(Self {
            x: Tensor::from_data(TensorData::new(x, [num_nodes, num_features]), device),
            edge_index,
            edge_attr: attr_dim
                .map(|dim| Tensor::from_data(TensorData::new(attr, [num_edges, dim]), device)),
            edge_weight: has_weight.then(|| host::float_tensor(&weight, device)),
            nodes,
            edge_counts: graphs.iter().map(Graph::num_edges).collect(),
            y: has_label.then(|| {
                let labels: Vec<usize> = graphs.iter().filter_map(Graph::label).collect();
                host::index_tensor(&labels, device)
            }),
        })
    }

    /// Splits the batch back into host graphs (reads every tensor once).
    pub fn to_graphs(&self) -> Vec<Graph> {
        let features = self.num_features();
        let x: Vec<f32> = host::floats(self.x.clone())
            .into_iter()
            .map(|v| v as f32)
            .collect();
        let edges = host::ints(self.edge_index.clone());
        let num_edges = self.num_edges();
        let attr_dim = self.edge_attr.as_ref().map(|a| a.dims()[1]);
        let attr = self.edge_attr.clone().map(host::floats);
        let weight = self.edge_weight.clone().map(host::floats);
        let labels = self.y.clone().map(host::ints);
        let offsets = self.nodes.offsets();
        let mut edge_start = 0;
        (0..self.num_graphs())
            .map(|g| {
                let (start, end) = (offsets[g], offsets[g + 1]);
                let edge_end = edge_start + self.edge_counts[g];
                let range = edge_start..edge_end;
                edge_start = edge_end;
                let pairs = range
                    .clone()
                    .map(|e| {
                        (
                            (edges[e] as usize) - start,
                            (edges[num_edges + e] as usize) - start,
                        )
                    })
                    .collect();
                let to_f32 = |values: &[f64]| values.iter().map(|&v| v as f32).collect::<Vec<_>>();
                Graph::from_parts_unchecked(
                    end - start,
                    features,
                    x[start * features..end * features].to_vec(),
                    pairs,
                    attr_dim.zip(attr.as_ref()).map(|(dim, a)| EdgeAttr {
                        dim,
                        values: to_f32(&a[range.start * dim..range.end * dim]),
                    }),
                    weight.as_ref().map(|w| to_f32(&w[range.clone()])),
                    labels.as_ref().map(|l| l[g] as usize),
                )
            })
            .collect()
    }
}
