//! What [`load_tu`](super::load_tu) is asked for ([`TuOptions`]) and what it gives
//! ([`TuDataset`]).

use gnn_core::Graph;

use crate::transforms::DegreeFeatures;
#[cfg(doc)]
use crate::transforms::{Coalesce, RemoveSelfLoops};

/// How to read a TU dataset. `TuOptions::default()` reads as PyG's `TUDataset(root, name)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TuOptions {
    /// Put `NAME_node_attributes.txt` in front of the one-hot node labels (PyG's
    /// `use_node_attr`, default false: the file is then not read at all).
    pub use_node_attributes: bool,
    /// Put `NAME_edge_attributes.txt` in front of the one-hot edge labels (PyG's
    /// `use_edge_attr`, default false: the file is then not read at all).
    pub use_edge_attributes: bool,
    /// Degree features appended to the node features. `None` (the default) appends none,
    /// except on a dataset whose nodes would otherwise have no feature at all, which gets
    /// `OneHot { max_degree: min(largest degree in the dataset, DEFAULT_MAX_DEGREE) }`
    /// (degrees above the cap share the last bucket).
    pub degree_features: Option<DegreeFeatures>,
    /// Apply [`RemoveSelfLoops`] then [`Coalesce`] to every graph, as PyG's `TUDataset` does
    /// on read (default true). With false, the edges are kept as `NAME_A.txt` lists them, self
    /// loops and duplicates included, and degree features count them.
    pub coalesce: bool,
}

impl Default for TuOptions {
    fn default() -> Self {
        Self {
            use_node_attributes: false,
            use_edge_attributes: false,
            degree_features: None,
            coalesce: true,
        }
    }
}

impl TuOptions {
    /// PyG's defaults: no attributes, edges coalesced, degree features only for featureless
    /// datasets.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`TuOptions::use_node_attributes`].
    pub fn with_node_attributes(mut self, yes: bool) -> Self {
        self.use_node_attributes = yes;
        self
    }

    /// Sets [`TuOptions::use_edge_attributes`].
    pub fn with_edge_attributes(mut self, yes: bool) -> Self {
        self.use_edge_attributes = yes;
        self
    }

    /// Sets [`TuOptions::degree_features`].
    pub fn with_degree_features(mut self, degree: DegreeFeatures) -> Self {
        self.degree_features = Some(degree);
        self
    }

    /// Sets [`TuOptions::coalesce`].
    pub fn with_coalesce(mut self, yes: bool) -> Self {
        self.coalesce = yes;
        self
    }
}

/// A TU dataset read into host graphs, with what is known about its features.
///
/// Node features are laid out as `[attributes, one-hot labels, degree features]`, edge features
/// as `[attributes, one-hot labels]`; the `num_*` methods give the width of each part.
#[derive(Debug, Clone, PartialEq)]
pub struct TuDataset {
    pub(super) name: String,
    pub(super) graphs: Vec<Graph>,
    pub(super) class_values: Vec<i64>,
    pub(super) num_node_attributes: usize,
    pub(super) num_node_labels: usize,
    pub(super) degree_features: Option<DegreeFeatures>,
    pub(super) num_edge_attributes: usize,
    pub(super) num_edge_labels: usize,
}

impl TuDataset {
    /// The dataset's name (`NAME` of `NAME_A.txt`).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The graphs, in file order (graph id 1 first), each with its label in `0..num_classes`
    /// (no label in a dataset without graph labels).
    pub fn graphs(&self) -> &[Graph] {
        &self.graphs
    }
    /// The graphs, taken out.
    pub fn into_graphs(self) -> Vec<Graph> {
        self.graphs
    }
    /// Number of graphs.
    pub fn len(&self) -> usize {
        self.graphs.len()
    }
    /// Whether there is no graph (never true for a dataset read from files).
    pub fn is_empty(&self) -> bool {
        self.graphs.is_empty()
    }
    /// Number of nodes, all graphs together.
    pub fn num_nodes(&self) -> usize {
        self.graphs.iter().map(Graph::num_nodes).sum()
    }
    /// Number of directed edges, all graphs together (after self-loop removal and merging,
    /// unless [`TuOptions::coalesce`] was off).
    pub fn num_edges(&self) -> usize {
        self.graphs.iter().map(Graph::num_edges).sum()
    }
    /// Whether the graphs have class labels (`NAME_graph_labels.txt` was there).
    pub fn is_labelled(&self) -> bool {
        self.graphs.first().is_none_or(|g| g.label().is_some())
    }
    /// Number of classes (0 without graph labels).
    pub fn num_classes(&self) -> usize {
        self.class_values.len()
    }
    /// The original label of each class: class `c` was written as `class_values()[c]`.
    pub fn class_values(&self) -> &[i64] {
        &self.class_values
    }
    /// The graph labels, `0..num_classes`, in graph order.
    pub fn labels(&self) -> Vec<usize> {
        self.graphs.iter().map(|g| g.label().unwrap_or(0)).collect()
    }
    /// Features per node (attributes + one-hot labels + degree features).
    pub fn num_node_features(&self) -> usize {
        self.num_node_attributes + self.num_node_labels + self.num_degree_features()
    }
    /// Node attribute columns in the features (0 unless attributes were asked for).
    pub fn num_node_attributes(&self) -> usize {
        self.num_node_attributes
    }
    /// Width of the one-hot node labels in the features.
    pub fn num_node_labels(&self) -> usize {
        self.num_node_labels
    }
    /// Width of the degree features (0 when none were added).
    pub fn num_degree_features(&self) -> usize {
        self.degree_features.map_or(0, |d| d.width())
    }
    /// The degree features that were added, if any (asked for, or the featureless default).
    pub fn degree_features(&self) -> Option<DegreeFeatures> {
        self.degree_features
    }
    /// Features per edge (attributes + one-hot labels); 0 means the graphs carry no edge
    /// features.
    pub fn num_edge_features(&self) -> usize {
        self.num_edge_attributes + self.num_edge_labels
    }
    /// Edge attribute columns in the edge features.
    pub fn num_edge_attributes(&self) -> usize {
        self.num_edge_attributes
    }
    /// Width of the one-hot edge labels in the edge features.
    pub fn num_edge_labels(&self) -> usize {
        self.num_edge_labels
    }
}
