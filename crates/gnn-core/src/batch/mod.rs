//! [`GraphBatch`]: a disjoint union of graphs as Burn tensors, PyG's `Batch`.
//!
//! The code follows the data flow: `collate` builds a batch from host [`Graph`]s and splits it
//! back, `tensors` builds one from PyG-style raw tensors (validated), and this file holds the
//! type, the constructors layers use, the setters and the accessors.

mod collate;
mod tensors;

use burn::tensor::{Int, Tensor, backend::Backend};

#[cfg(doc)]
use crate::error::GraphError;
use crate::error::{Result, shape_mismatch};
#[cfg(doc)]
use crate::graph::Graph;
use crate::segment::Segments;

/// A batch of graphs on a device, stored as one big disconnected graph.
///
/// Node ids are batch-wide: graph `g` owns nodes `node_offsets()[g]..node_offsets()[g + 1]`, and
/// its edges come after those of graph `g - 1` (edges are grouped by graph). Sizes are kept on the
/// host, so layers never read the device to learn them. A single graph is a batch of one.
///
/// | field | shape |
/// |---|---|
/// | `x` | `[N, F]` node features |
/// | `edge_index` | `[2, E]` Int: row 0 sources, row 1 targets (messages flow source → target) |
/// | `edge_attr` | `[E, D]`, optional |
/// | `edge_weight` | `[E]`, optional |
/// | `batch` | `[N]` Int, graph id of each node (inside [`Segments`]) |
/// | `y` | `[G]` Int, optional graph labels |
#[derive(Debug, Clone)]
pub struct GraphBatch<B: Backend> {
    x: Tensor<B, 2>,
    edge_index: Tensor<B, 2, Int>,
    edge_attr: Option<Tensor<B, 2>>,
    edge_weight: Option<Tensor<B, 1>>,
    nodes: Segments<B>,
    edge_counts: Vec<usize>,
    y: Option<Tensor<B, 1, Int>>,
}

/// The parts of a [`GraphBatch`], for layers that build a new batch from an old one.
#[derive(Debug, Clone)]
pub struct GraphBatchParts<B: Backend> {
    /// Node features `[N, F]`.
    pub x: Tensor<B, 2>,
    /// Edges `[2, E]`, grouped by graph.
    pub edge_index: Tensor<B, 2, Int>,
    /// Edge features `[E, D]`.
    pub edge_attr: Option<Tensor<B, 2>>,
    /// Edge weights `[E]`.
    pub edge_weight: Option<Tensor<B, 1>>,
    /// Graph id of each node and node counts.
    pub nodes: Segments<B>,
    /// Edges per graph.
    pub edge_counts: Vec<usize>,
    /// Graph labels `[G]`.
    pub y: Option<Tensor<B, 1, Int>>,
}

impl<B: Backend> GraphBatchParts<B> {
    /// Whether the tensor shapes agree with the host counts (no device read).
    fn check_shapes(&self) -> Result<()> {
        let num_nodes = self.nodes.num_rows();
        let num_edges: usize = self.edge_counts.iter().sum();
        if self.edge_counts.len() != self.nodes.num_segments() {
            return Err(shape_mismatch(
                "graphs with edge counts",
                self.nodes.num_segments(),
                self.edge_counts.len(),
            ));
        }
        let checks = [
            ("node feature rows", num_nodes, self.x.dims()[0]),
            ("batch vector length", num_nodes, self.nodes.ids().dims()[0]),
            ("edge_index rows", 2, self.edge_index.dims()[0]),
            ("edge_index columns", num_edges, self.edge_index.dims()[1]),
            (
                "edge_attr rows",
                num_edges,
                self.edge_attr.as_ref().map_or(num_edges, |a| a.dims()[0]),
            ),
            (
                "edge_weight length",
                num_edges,
                self.edge_weight.as_ref().map_or(num_edges, |w| w.dims()[0]),
            ),
            (
                "labels",
                self.nodes.num_segments(),
                self.y
                    .as_ref()
                    .map_or(self.nodes.num_segments(), |y| y.dims()[0]),
            ),
        ];
        for (what, expected, found) in checks {
            if expected != found {
                return Err(shape_mismatch(what, expected, found));
            }
        }
        Ok(())
    }
}

impl<B: Backend> GraphBatch<B> {
    /// Builds a batch from parts a layer produced; only the shapes are checked (no device read).
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] when the tensor shapes disagree with the host counts.
    pub fn from_parts(parts: GraphBatchParts<B>) -> Result<Self> {
        parts.check_shapes()?;
        Ok(Self::from_parts_unchecked(parts))
    }

    /// Builds a batch from parts that are consistent by construction, without checking them.
    ///
    /// For layers that derive every part from a valid batch (pooling keeps some nodes and the
    /// edges between them, coarsening merges clusters): the shapes agree with the host counts
    /// because the layer computed both. Debug builds still check the shapes (as
    /// [`from_parts`](Self::from_parts) does, no device read) and panic on a mismatch; release
    /// builds trust the caller, and inconsistent parts then give wrong results or panics later.
    /// Parts that come from user data go through [`from_parts`](Self::from_parts).
    #[track_caller]
    pub fn from_parts_unchecked(parts: GraphBatchParts<B>) -> Self {
        #[cfg(debug_assertions)]
        if let Err(error) = parts.check_shapes() {
            panic!("GraphBatch::from_parts_unchecked got inconsistent parts: {error}");
        }
        Self {
            x: parts.x,
            edge_index: parts.edge_index,
            edge_attr: parts.edge_attr,
            edge_weight: parts.edge_weight,
            nodes: parts.nodes,
            edge_counts: parts.edge_counts,
            y: parts.y,
        }
    }

    /// Takes the batch apart (cheap: tensors are reference counted).
    pub fn into_parts(self) -> GraphBatchParts<B> {
        GraphBatchParts {
            x: self.x,
            edge_index: self.edge_index,
            edge_attr: self.edge_attr,
            edge_weight: self.edge_weight,
            nodes: self.nodes,
            edge_counts: self.edge_counts,
            y: self.y,
        }
    }

    /// Adds edge features `[E, D]`.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] unless there is one row per edge.
    pub fn with_edge_attr(mut self, edge_attr: Tensor<B, 2>) -> Result<Self> {
        if edge_attr.dims()[0] != self.num_edges() {
            return Err(shape_mismatch(
                "edge_attr rows",
                self.num_edges(),
                edge_attr.dims()[0],
            ));
        }
        self.edge_attr = Some(edge_attr);
        Ok(self)
    }

    /// Adds edge weights `[E]`.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] unless there is one weight per edge.
    pub fn with_edge_weight(mut self, edge_weight: Tensor<B, 1>) -> Result<Self> {
        if edge_weight.dims()[0] != self.num_edges() {
            return Err(shape_mismatch(
                "edge weights",
                self.num_edges(),
                edge_weight.dims()[0],
            ));
        }
        self.edge_weight = Some(edge_weight);
        Ok(self)
    }

    /// Adds graph labels `[G]`.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] unless there is one label per graph.
    pub fn with_y(mut self, y: Tensor<B, 1, Int>) -> Result<Self> {
        if y.dims()[0] != self.num_graphs() {
            return Err(shape_mismatch("labels", self.num_graphs(), y.dims()[0]));
        }
        self.y = Some(y);
        Ok(self)
    }

    /// Replaces the node features, e.g. by a convolution's output `[N, F']`.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] unless there is one row per node.
    pub fn with_x(mut self, x: Tensor<B, 2>) -> Result<Self> {
        if x.dims()[0] != self.num_nodes() {
            return Err(shape_mismatch(
                "node feature rows",
                self.num_nodes(),
                x.dims()[0],
            ));
        }
        self.x = x;
        Ok(self)
    }

    /// Replaces the node features by `f(x)`, a function of the current ones that keeps one row
    /// per node (a convolution's output, an activation): `graphs.map_x(relu)`.
    ///
    /// For a tensor from elsewhere, [`with_x`](Self::with_x) checks the row count and returns
    /// an error instead.
    ///
    /// # Panics
    /// When `f` changes the number of rows.
    #[track_caller]
    pub fn map_x(mut self, f: impl FnOnce(Tensor<B, 2>) -> Tensor<B, 2>) -> Self {
        let rows = self.num_nodes();
        self.x = f(self.x);
        assert!(
            self.x.dims()[0] == rows,
            "GraphBatch::map_x: the function must keep one row per node ({rows} rows), it \
             returned {:?}",
            self.x.dims()
        );
        self
    }

    /// Node features `[N, F]`.
    pub fn x(&self) -> &Tensor<B, 2> {
        &self.x
    }
    /// Edges `[2, E]`.
    pub fn edge_index(&self) -> &Tensor<B, 2, Int> {
        &self.edge_index
    }
    /// Edge features `[E, D]`.
    pub fn edge_attr(&self) -> Option<&Tensor<B, 2>> {
        self.edge_attr.as_ref()
    }
    /// Edge weights `[E]`.
    pub fn edge_weight(&self) -> Option<&Tensor<B, 1>> {
        self.edge_weight.as_ref()
    }
    /// Graph labels `[G]`.
    pub fn y(&self) -> Option<&Tensor<B, 1, Int>> {
        self.y.as_ref()
    }
    /// The batch vector `[N]` (graph id of each node).
    pub fn batch(&self) -> &Tensor<B, 1, Int> {
        self.nodes.ids()
    }
    /// The nodes grouped by graph, with host counts: what segment operations and readouts take.
    pub fn segments(&self) -> &Segments<B> {
        &self.nodes
    }
    /// Nodes per graph.
    pub fn node_counts(&self) -> &[usize] {
        self.nodes.counts()
    }
    /// First node of each graph, and `N` at the end (PyG's `ptr`).
    pub fn node_offsets(&self) -> &[usize] {
        self.nodes.offsets()
    }
    /// Edges per graph.
    pub fn edge_counts(&self) -> &[usize] {
        &self.edge_counts
    }
    /// Number of graphs.
    pub fn num_graphs(&self) -> usize {
        self.nodes.num_segments()
    }
    /// Number of nodes, all graphs together.
    pub fn num_nodes(&self) -> usize {
        self.nodes.num_rows()
    }
    /// Number of edges, all graphs together.
    pub fn num_edges(&self) -> usize {
        self.edge_index.dims()[1]
    }
    /// Features per node.
    pub fn num_features(&self) -> usize {
        self.x.dims()[1]
    }
    /// The device the batch lives on.
    pub fn device(&self) -> B::Device {
        self.x.device()
    }
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
