//! [`Graph`]: one graph on the host.

use crate::error::{GraphError, Result, shape_mismatch};

/// One graph held on the host, validated on construction.
///
/// Node features are stored row-major as `[num_nodes, num_features]`. Edges are `(source, target)`
/// pairs: messages flow from source to target, as in PyTorch Geometric's `edge_index`. An
/// undirected graph lists both directions.
///
/// ```
/// use gnn_core::Graph;
/// // A path 0 - 1 - 2 with two features per node.
/// let g = Graph::new(3, 2, vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0], vec![(0, 1), (1, 0), (1, 2), (2, 1)])
///     .unwrap()
///     .with_label(1);
/// assert_eq!(g.num_edges(), 4);
/// assert!(Graph::new(2, 1, vec![0.0, 1.0], vec![(0, 2)]).is_err()); // node 2 does not exist
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    num_nodes: usize,
    num_features: usize,
    x: Vec<f32>,
    edges: Vec<(usize, usize)>,
    edge_attr: Option<EdgeAttr>,
    edge_weight: Option<Vec<f32>>,
    label: Option<usize>,
}

/// Edge features `[num_edges, dim]`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeAttr {
    /// Features per edge.
    pub dim: usize,
    /// Row-major values, `num_edges * dim` of them.
    pub values: Vec<f32>,
}

impl Graph {
    /// A graph of `num_nodes` nodes with row-major features `x` (`num_nodes * num_features`
    /// values) and `(source, target)` edges.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] when `x` has the wrong length, and
    /// [`GraphError::EdgeIndexOutOfRange`] when an edge names a node `>= num_nodes`.
    pub fn new(
        num_nodes: usize,
        num_features: usize,
        x: Vec<f32>,
        edges: Vec<(usize, usize)>,
    ) -> Result<Self> {
        if x.len() != num_nodes * num_features {
            return Err(shape_mismatch(
                format!(
                    "node features of a graph with {num_nodes} nodes and {num_features} features"
                ),
                format!("{} values", num_nodes * num_features),
                format!("{} values", x.len()),
            ));
        }
        for (edge, &(source, target)) in edges.iter().enumerate() {
            for (end, index) in [("source", source), ("target", target)] {
                if index >= num_nodes {
                    return Err(GraphError::EdgeIndexOutOfRange {
                        graph: None,
                        edge,
                        end,
                        index: index as i64,
                        num_nodes,
                    });
                }
            }
        }
        Ok(Self {
            num_nodes,
            num_features,
            x,
            edges,
            edge_attr: None,
            edge_weight: None,
            label: None,
        })
    }

    /// A graph from one feature row per node.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] naming the first row whose length differs from row 0, and
    /// the errors of [`Graph::new`].
    pub fn from_rows(rows: &[Vec<f32>], edges: Vec<(usize, usize)>) -> Result<Self> {
        let num_features = rows.first().map_or(0, Vec::len);
        if let Some((i, row)) = rows
            .iter()
            .enumerate()
            .find(|(_, r)| r.len() != num_features)
        {
            return Err(shape_mismatch(
                format!("feature row of node {i}"),
                format!("{num_features} values (as node 0)"),
                format!("{} values", row.len()),
            ));
        }
        Self::new(rows.len(), num_features, rows.concat(), edges)
    }

    /// Adds edge features, row-major `[num_edges, dim]`.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] when `values.len() != num_edges * dim`.
    pub fn with_edge_attr(mut self, dim: usize, values: Vec<f32>) -> Result<Self> {
        if values.len() != self.edges.len() * dim {
            return Err(shape_mismatch(
                format!(
                    "edge features of {} edges with {dim} features",
                    self.edges.len()
                ),
                format!("{} values", self.edges.len() * dim),
                format!("{} values", values.len()),
            ));
        }
        self.edge_attr = Some(EdgeAttr { dim, values });
        Ok(self)
    }

    /// Adds one scalar weight per edge (used by `GraphConv` and `GCNConv`).
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] when there is not one weight per edge.
    pub fn with_edge_weight(mut self, weights: Vec<f32>) -> Result<Self> {
        if weights.len() != self.edges.len() {
            return Err(shape_mismatch(
                "edge weights",
                self.edges.len(),
                weights.len(),
            ));
        }
        self.edge_weight = Some(weights);
        Ok(self)
    }

    /// Sets the graph's class label.
    pub fn with_label(mut self, label: usize) -> Self {
        self.label = Some(label);
        self
    }

    /// Replaces the node features (e.g. to add degree features to a featureless graph).
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] when `x.len() != num_nodes * num_features`.
    pub fn with_features(mut self, num_features: usize, x: Vec<f32>) -> Result<Self> {
        if x.len() != self.num_nodes * num_features {
            return Err(shape_mismatch(
                "replacement node features",
                self.num_nodes * num_features,
                x.len(),
            ));
        }
        self.num_features = num_features;
        self.x = x;
        Ok(self)
    }

    /// Checks that node features, edge features and edge weights are all finite.
    ///
    /// # Errors
    /// [`GraphError::NonFinite`] naming the first offending value.
    pub fn check_finite(&self) -> Result<()> {
        let arrays: [(&'static str, Option<&[f32]>); 3] = [
            ("node features", Some(&self.x)),
            (
                "edge features",
                self.edge_attr.as_ref().map(|a| a.values.as_slice()),
            ),
            ("edge weights", self.edge_weight.as_deref()),
        ];
        for (what, values) in arrays {
            if let Some((position, &v)) = values
                .into_iter()
                .flatten()
                .enumerate()
                .find(|(_, v)| !v.is_finite())
            {
                return Err(GraphError::NonFinite {
                    what,
                    position,
                    value: v as f64,
                });
            }
        }
        Ok(())
    }

    /// Number of nodes.
    pub fn num_nodes(&self) -> usize {
        self.num_nodes
    }
    /// Number of features per node.
    pub fn num_features(&self) -> usize {
        self.num_features
    }
    /// Number of directed edges.
    pub fn num_edges(&self) -> usize {
        self.edges.len()
    }
    /// Row-major node features `[num_nodes, num_features]`.
    pub fn x(&self) -> &[f32] {
        &self.x
    }
    /// Features of node `i`.
    pub fn node_features(&self, i: usize) -> &[f32] {
        &self.x[i * self.num_features..(i + 1) * self.num_features]
    }
    /// `(source, target)` pairs.
    pub fn edges(&self) -> &[(usize, usize)] {
        &self.edges
    }
    /// Edge features, if any.
    pub fn edge_attr(&self) -> Option<&EdgeAttr> {
        self.edge_attr.as_ref()
    }
    /// Edge weights, if any.
    pub fn edge_weight(&self) -> Option<&[f32]> {
        self.edge_weight.as_deref()
    }
    /// Class label, if any.
    pub fn label(&self) -> Option<usize> {
        self.label
    }
    /// Number of edges pointing into each node.
    pub fn in_degrees(&self) -> Vec<usize> {
        let mut degree = vec![0; self.num_nodes];
        for &(_, target) in &self.edges {
            degree[target] += 1;
        }
        degree
    }

    pub(crate) fn from_parts_unchecked(
        num_nodes: usize,
        num_features: usize,
        x: Vec<f32>,
        edges: Vec<(usize, usize)>,
        edge_attr: Option<EdgeAttr>,
        edge_weight: Option<Vec<f32>>,
        label: Option<usize>,
    ) -> Self {
        Self {
            num_nodes,
            num_features,
            x,
            edges,
            edge_attr,
            edge_weight,
            label,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_edges_name_the_edge_and_end() {
        let err = Graph::new(2, 1, vec![0.0, 1.0], vec![(0, 1), (1, 5)]).unwrap_err();
        assert_eq!(
            err,
            GraphError::EdgeIndexOutOfRange {
                graph: None,
                edge: 1,
                end: "target",
                index: 5,
                num_nodes: 2
            }
        );
        assert_eq!(
            err.to_string(),
            "edge 1: target index 5 is out of range for 2 nodes"
        );
        let err = Graph::new(3, 0, vec![], vec![(0, 1), (1, 2), (3, 0)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "edge 2: source index 3 is out of range for 3 nodes"
        );
        // A graph without nodes has no valid index at all.
        assert!(matches!(
            Graph::new(0, 2, vec![], vec![(0, 0)]),
            Err(GraphError::EdgeIndexOutOfRange {
                edge: 0,
                index: 0,
                num_nodes: 0,
                ..
            })
        ));
    }

    #[test]
    fn wrong_lengths_are_shape_mismatches() {
        let err = Graph::new(2, 2, vec![0.0; 3], vec![]).unwrap_err();
        assert!(matches!(err, GraphError::ShapeMismatch { .. }));
        assert!(err.to_string().contains("2 nodes and 2 features"), "{err}");
        assert!(
            err.to_string()
                .contains("expected 4 values, found 3 values"),
            "{err}"
        );

        let g = Graph::new(2, 1, vec![0.0, 1.0], vec![(0, 1)]).unwrap();
        let err = g.clone().with_edge_attr(2, vec![1.0]).unwrap_err();
        assert!(matches!(err, GraphError::ShapeMismatch { .. }));
        assert!(
            err.to_string()
                .contains("edge features of 1 edges with 2 features"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("expected 2 values, found 1 values"),
            "{err}"
        );
        let err = g.clone().with_edge_weight(vec![]).unwrap_err();
        assert_eq!(err.to_string(), "edge weights: expected 1, found 0");
        let err = g.clone().with_features(3, vec![0.0; 5]).unwrap_err();
        assert!(
            err.to_string().contains("replacement node features"),
            "{err}"
        );

        let g = g
            .with_edge_weight(vec![0.5])
            .unwrap()
            .with_edge_attr(2, vec![1.0, 2.0])
            .unwrap();
        assert_eq!(g.edge_weight(), Some(&[0.5][..]));
        assert_eq!(
            g.edge_attr(),
            Some(&EdgeAttr {
                dim: 2,
                values: vec![1.0, 2.0]
            })
        );
        let g = g
            .with_features(3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
            .unwrap();
        assert_eq!(
            (g.num_features(), g.node_features(1)),
            (3, &[4.0, 5.0, 6.0][..])
        );
    }

    #[test]
    fn ragged_rows_name_the_node() {
        let err =
            Graph::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0], vec![3.0]], vec![]).unwrap_err();
        assert!(matches!(err, GraphError::ShapeMismatch { .. }));
        assert_eq!(
            err.to_string(),
            "feature row of node 2: expected 2 values (as node 0), found 1 values"
        );
        let g = Graph::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]], vec![(1, 0)]).unwrap();
        assert_eq!(
            (g.num_nodes(), g.num_features(), g.x()),
            (2, 2, &[1.0, 2.0, 3.0, 4.0][..])
        );
        let empty = Graph::from_rows(&[], vec![]).unwrap();
        assert_eq!(
            (empty.num_nodes(), empty.num_features(), empty.num_edges()),
            (0, 0, 0)
        );
        assert!(Graph::from_rows(&[], vec![(0, 0)]).is_err());
    }

    #[test]
    fn non_finite_values_are_found_on_request() {
        let g = Graph::new(2, 1, vec![0.0, f32::NAN], vec![(0, 1)]).unwrap();
        assert!(matches!(
            g.check_finite(),
            Err(GraphError::NonFinite {
                what: "node features",
                position: 1,
                ..
            })
        ));
        assert_eq!(
            g.check_finite().unwrap_err().to_string(),
            "node features holds a non-finite value (NaN) at position 1"
        );
        let g = Graph::new(2, 1, vec![0.0, 1.0], vec![(0, 1), (1, 0)])
            .unwrap()
            .with_edge_attr(1, vec![1.0, f32::NEG_INFINITY])
            .unwrap();
        assert_eq!(
            g.check_finite(),
            Err(GraphError::NonFinite {
                what: "edge features",
                position: 1,
                value: f64::NEG_INFINITY
            })
        );
        let g = g
            .with_edge_attr(1, vec![1.0, 2.0])
            .unwrap()
            .with_edge_weight(vec![1.0, f32::INFINITY])
            .unwrap();
        assert!(matches!(
            g.check_finite(),
            Err(GraphError::NonFinite {
                what: "edge weights",
                position: 1,
                ..
            })
        ));
        let g = g.with_edge_weight(vec![1.0, 2.0]).unwrap();
        assert_eq!(g.check_finite(), Ok(()));
    }

    #[test]
    fn in_degrees_count_targets() {
        let g = Graph::new(4, 0, vec![], vec![(0, 1), (2, 1), (1, 0), (3, 3)]).unwrap();
        assert_eq!(g.in_degrees(), vec![1, 2, 0, 1]);
    }
}
