//! [`GraphBatch`]: a disjoint union of graphs as Burn tensors, PyG's `Batch`.

use burn::tensor::{Int, Tensor, TensorData, backend::Backend};

use crate::error::{GraphError, Result, shape_mismatch};
use crate::graph::{EdgeAttr, Graph};
use crate::host;
use crate::segment::{Segments, counts_from_batch_vector};

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

    /// Builds a batch from parts a layer produced; only the shapes are checked (no device read).
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] when the tensor shapes disagree with the host counts.
    pub fn from_parts(parts: GraphBatchParts<B>) -> Result<Self> {
        let num_nodes = parts.nodes.num_rows();
        let num_edges: usize = parts.edge_counts.iter().sum();
        if parts.edge_counts.len() != parts.nodes.num_segments() {
            return Err(shape_mismatch(
                "graphs with edge counts",
                parts.nodes.num_segments(),
                parts.edge_counts.len(),
            ));
        }
        let checks = [
            ("node feature rows", num_nodes, parts.x.dims()[0]),
            (
                "batch vector length",
                num_nodes,
                parts.nodes.ids().dims()[0],
            ),
            ("edge_index rows", 2, parts.edge_index.dims()[0]),
            ("edge_index columns", num_edges, parts.edge_index.dims()[1]),
            (
                "edge_attr rows",
                num_edges,
                parts.edge_attr.as_ref().map_or(num_edges, |a| a.dims()[0]),
            ),
            (
                "edge_weight length",
                num_edges,
                parts
                    .edge_weight
                    .as_ref()
                    .map_or(num_edges, |w| w.dims()[0]),
            ),
            (
                "labels",
                parts.nodes.num_segments(),
                parts
                    .y
                    .as_ref()
                    .map_or(parts.nodes.num_segments(), |y| y.dims()[0]),
            ),
        ];
        for (what, expected, found) in checks {
            if expected != found {
                return Err(shape_mismatch(what, expected, found));
            }
        }
        Ok(Self {
            x: parts.x,
            edge_index: parts.edge_index,
            edge_attr: parts.edge_attr,
            edge_weight: parts.edge_weight,
            nodes: parts.nodes,
            edge_counts: parts.edge_counts,
            y: parts.y,
        })
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
mod tests {
    use burn::tensor::{Int, Tensor, TensorData, backend::Backend};
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    /// What a random batch looks like; each graph is `(nodes, edges, seed of its values)`.
    #[derive(Debug, Clone)]
    struct BatchSpec {
        features: usize,
        attr_dim: Option<usize>,
        weights: bool,
        labels: bool,
        graphs: Vec<(usize, usize, u64)>,
    }

    fn batch_spec() -> impl Strategy<Value = BatchSpec> {
        (
            0usize..3,
            proptest::option::of(0usize..3),
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec((0usize..5, 0usize..7, any::<u64>()), 0..6),
        )
            .prop_map(|(features, attr_dim, weights, labels, graphs)| BatchSpec {
                features,
                attr_dim,
                weights,
                labels,
                graphs,
            })
    }

    fn build(spec: &BatchSpec) -> Vec<Graph> {
        spec.graphs
            .iter()
            .map(|&(n, m, seed)| {
                let mut rng = StdRng::seed_from_u64(seed);
                let m = if n == 0 { 0 } else { m };
                let x = (0..n * spec.features)
                    .map(|_| rng.random_range(-10.0f32..10.0))
                    .collect();
                let edges = (0..m)
                    .map(|_| (rng.random_range(0..n), rng.random_range(0..n)))
                    .collect();
                let mut g = Graph::new(n, spec.features, x, edges).unwrap();
                if let Some(dim) = spec.attr_dim {
                    g = g
                        .with_edge_attr(
                            dim,
                            (0..m * dim)
                                .map(|_| rng.random_range(-1.0f32..1.0))
                                .collect(),
                        )
                        .unwrap();
                }
                if spec.weights {
                    g = g
                        .with_edge_weight((0..m).map(|_| rng.random_range(0.0f32..2.0)).collect())
                        .unwrap();
                }
                if spec.labels {
                    g = g.with_label(rng.random_range(0..4));
                }
                g
            })
            .collect()
    }

    fn from_graphs_then_to_graphs_is_the_identity<B: Backend>(device: &B::Device) {
        let config = Config {
            cases: 32,
            failure_persistence: None,
            ..Config::default()
        };
        TestRunner::new(config)
            .run(&batch_spec(), |spec| {
                let graphs = build(&spec);
                let batch = GraphBatch::<B>::from_graphs(&graphs, device).unwrap();
                let counts: Vec<usize> = graphs.iter().map(Graph::num_nodes).collect();
                let edge_counts: Vec<usize> = graphs.iter().map(Graph::num_edges).collect();
                prop_assert_eq!(batch.num_graphs(), graphs.len());
                prop_assert_eq!(batch.node_counts(), &counts[..]);
                prop_assert_eq!(batch.edge_counts(), &edge_counts[..]);
                prop_assert_eq!(batch.num_nodes(), counts.iter().sum::<usize>());
                prop_assert_eq!(batch.num_edges(), edge_counts.iter().sum::<usize>());
                // No graph: nothing tells the number of features, which is then 0.
                let features = if graphs.is_empty() { 0 } else { spec.features };
                prop_assert_eq!(batch.num_features(), features);
                prop_assert_eq!(batch.x().dims(), [batch.num_nodes(), features]);
                prop_assert_eq!(batch.edge_index().dims(), [2, batch.num_edges()]);
                prop_assert_eq!(
                    batch.edge_attr().map(|a| a.dims()[1]),
                    spec.attr_dim.filter(|_| !graphs.is_empty())
                );
                // Batch-wide ids: graph g's nodes follow those of graphs 0..g.
                let mut ids = Vec::new();
                let (mut sources, mut targets, mut offset) = (Vec::new(), Vec::new(), 0);
                for (g, graph) in graphs.iter().enumerate() {
                    ids.extend(std::iter::repeat_n(g as i64, graph.num_nodes()));
                    sources.extend(graph.edges().iter().map(|&(s, _)| (s + offset) as i64));
                    targets.extend(graph.edges().iter().map(|&(_, t)| (t + offset) as i64));
                    prop_assert_eq!(batch.node_offsets()[g], offset);
                    offset += graph.num_nodes();
                }
                prop_assert_eq!(batch.node_offsets().last().copied(), Some(offset));
                prop_assert_eq!(host::ints(batch.batch().clone()), ids);
                sources.extend(targets);
                prop_assert_eq!(host::ints(batch.edge_index().clone()), sources);
                prop_assert_eq!(batch.to_graphs(), graphs);
                Ok(())
            })
            .unwrap();
    }

    fn graph(n: usize, edges: Vec<(usize, usize)>) -> Graph {
        Graph::new(n, 1, (0..n).map(|i| i as f32).collect(), edges).unwrap()
    }

    fn batch_of_empty_graphs_has_no_rows<B: Backend>(device: &B::Device) {
        let graphs = vec![Graph::new(0, 3, vec![], vec![]).unwrap(); 3];
        let batch = GraphBatch::<B>::from_graphs(&graphs, device).unwrap();
        assert_eq!(
            (batch.num_graphs(), batch.num_nodes(), batch.num_edges()),
            (3, 0, 0)
        );
        assert_eq!(batch.x().dims(), [0, 3]);
        assert_eq!(batch.node_offsets(), &[0, 0, 0, 0]);
        assert_eq!(batch.to_graphs(), graphs);

        let none = GraphBatch::<B>::from_graphs(&[], device).unwrap();
        assert_eq!(
            (none.num_graphs(), none.num_nodes(), none.num_edges()),
            (0, 0, 0)
        );
        assert!(none.to_graphs().is_empty());

        // The same through raw tensors: N = 0 and E = 0 make a batch of no graph.
        let x = Tensor::<B, 2>::zeros([0, 2], device);
        let edge_index = Tensor::<B, 2, Int>::zeros([2, 0], device);
        let ids = Tensor::<B, 1, Int>::zeros([0], device);
        let batch = GraphBatch::from_tensors(x, edge_index, ids).unwrap();
        assert_eq!(
            (batch.num_graphs(), batch.num_nodes(), batch.num_edges()),
            (0, 0, 0)
        );
    }

    fn from_tensors_counts_nodes_and_edges_with_two_reads<B: Backend>(device: &B::Device) {
        let x = Tensor::<B, 2>::from_data([[1.0], [2.0], [3.0], [4.0], [5.0]], device);
        let edge_index = Tensor::<B, 2, Int>::from_data([[0, 1, 2, 4], [1, 0, 3, 2]], device);
        let ids = Tensor::<B, 1, Int>::from_data([0, 0, 1, 1, 1], device);
        let before = host::device_reads();
        let batch = GraphBatch::from_tensors(x, edge_index, ids).unwrap();
        assert_eq!(
            host::device_reads() - before,
            2,
            "from_tensors reads batch and edge_index once each"
        );
        assert_eq!(batch.node_counts(), &[2, 3]);
        assert_eq!(batch.edge_counts(), &[2, 2]);
        assert_eq!(batch.node_offsets(), &[0, 2, 5]);
        let graphs = batch.to_graphs();
        assert_eq!(graphs[1].edges(), &[(0, 1), (2, 0)]);
        assert_eq!(graphs[1].x(), &[3.0, 4.0, 5.0]);
    }

    fn from_tensors<B: Backend>(
        x_rows: usize,
        edges: &[[i64; 2]],
        ids: &[i64],
        device: &B::Device,
    ) -> Result<GraphBatch<B>> {
        let x = Tensor::<B, 2>::ones([x_rows, 1], device);
        let mut flat: Vec<i64> = edges.iter().map(|e| e[0]).collect();
        flat.extend(edges.iter().map(|e| e[1]));
        let edge_index = Tensor::from_data(TensorData::new(flat, [2, edges.len()]), device);
        let ids = Tensor::from_data(TensorData::new(ids.to_vec(), [ids.len()]), device);
        GraphBatch::from_tensors(x, edge_index, ids)
    }

    fn from_tensors_rejects_bad_input_by_name<B: Backend>(device: &B::Device) {
        let err = from_tensors::<B>(3, &[[0, 1], [1, 3]], &[0, 0, 0], device).unwrap_err();
        assert_eq!(
            err,
            GraphError::EdgeIndexOutOfRange {
                graph: None,
                edge: 1,
                end: "target",
                index: 3,
                num_nodes: 3
            }
        );
        assert_eq!(
            err.to_string(),
            "edge 1: target index 3 is out of range for 3 nodes"
        );
        let err = from_tensors::<B>(3, &[[0, 1], [-1, 2]], &[0, 0, 0], device).unwrap_err();
        assert_eq!(
            err.to_string(),
            "edge 1: source index -1 is out of range for 3 nodes"
        );

        let err = from_tensors::<B>(3, &[], &[0, 1, 0], device).unwrap_err();
        assert_eq!(
            err,
            GraphError::BatchNotSorted {
                position: 2,
                previous: 1,
                found: 0
            }
        );
        assert_eq!(
            err.to_string(),
            "batch vector is not sorted: position 2 has graph 0 after graph 1"
        );

        let err = from_tensors::<B>(3, &[], &[0, 0, 2], device).unwrap_err();
        assert_eq!(err, GraphError::BatchGap { missing: 1 });
        assert!(
            err.to_string()
                .starts_with("batch vector has a gap: graph id 1 has no node"),
            "{err}"
        );
        let err = from_tensors::<B>(2, &[], &[1, 1], device).unwrap_err();
        assert_eq!(err, GraphError::BatchGap { missing: 0 });

        let err = from_tensors::<B>(3, &[], &[0, -2, 0], device).unwrap_err();
        assert_eq!(
            err,
            GraphError::NegativeGraphId {
                position: 1,
                found: -2
            }
        );
        assert_eq!(
            err.to_string(),
            "batch vector position 1 holds the negative graph id -2"
        );

        let err = from_tensors::<B>(4, &[[0, 1], [1, 2]], &[0, 0, 1, 1], device).unwrap_err();
        assert_eq!(
            err,
            GraphError::EdgeCrossesGraphs {
                edge: 1,
                source_node: 1,
                target_node: 2,
                source_graph: 0,
                target_graph: 1
            }
        );
        assert_eq!(
            err.to_string(),
            "edge 1 joins node 1 of graph 0 to node 2 of graph 1"
        );

        let err = from_tensors::<B>(4, &[[2, 3], [0, 1]], &[0, 0, 1, 1], device).unwrap_err();
        assert_eq!(
            err,
            GraphError::EdgesNotGrouped {
                edge: 1,
                graph: 0,
                previous_graph: 1
            }
        );
        assert!(
            err.to_string()
                .starts_with("edge 1 belongs to graph 0 but follows edges of graph 1"),
            "{err}"
        );

        let err = from_tensors::<B>(4, &[], &[0, 0, 1], device).unwrap_err();
        assert!(matches!(err, GraphError::ShapeMismatch { .. }));
        assert_eq!(
            err.to_string(),
            "batch vector length (one graph id per node): expected 4, found 3"
        );

        let x = Tensor::<B, 2>::ones([2, 1], device);
        let edge_index = Tensor::<B, 2, Int>::zeros([3, 1], device);
        let ids = Tensor::<B, 1, Int>::zeros([2], device);
        let err = GraphBatch::from_tensors(x, edge_index, ids).unwrap_err();
        assert_eq!(
            err.to_string(),
            "edge_index rows (sources, targets): expected 2, found 3"
        );
    }

    fn from_graphs_rejects_mismatched_graphs<B: Backend>(device: &B::Device) {
        let base = graph(2, vec![(0, 1)]);
        let check = |graphs: &[Graph], index: usize, detail: &str| {
            let err = GraphBatch::<B>::from_graphs(graphs, device).unwrap_err();
            assert_eq!(
                err,
                GraphError::IncompatibleGraphs {
                    graph: index,
                    detail: detail.to_string()
                }
            );
            assert!(
                err.to_string()
                    .starts_with(&format!("graph {index} does not match graph 0")),
                "{err}"
            );
        };
        let wide = Graph::new(2, 2, vec![0.0; 4], vec![]).unwrap();
        check(
            &[base.clone(), base.clone(), wide],
            2,
            "2 node features instead of 1",
        );
        let with_attr = base.clone().with_edge_attr(3, vec![0.0; 3]).unwrap();
        check(
            &[base.clone(), with_attr.clone()],
            1,
            "3 edge features instead of no edge features",
        );
        let other_attr = base.clone().with_edge_attr(2, vec![0.0; 2]).unwrap();
        check(
            &[with_attr, other_attr],
            1,
            "2 edge features instead of 3 edge features",
        );
        let weighted = base.clone().with_edge_weight(vec![1.0]).unwrap();
        check(
            &[weighted, base.clone()],
            1,
            "edge weights present in one and not the other",
        );
        check(
            &[base.clone(), base.clone().with_label(1)],
            1,
            "a label present in one and not the other",
        );
    }

    fn batch_setters_check_lengths<B: Backend>(device: &B::Device) {
        let batch = GraphBatch::<B>::from_graphs(
            &[graph(2, vec![(0, 1)]), graph(3, vec![(0, 2), (2, 1)])],
            device,
        )
        .unwrap();
        let err = batch
            .clone()
            .with_edge_attr(Tensor::zeros([2, 4], device))
            .unwrap_err();
        assert_eq!(err.to_string(), "edge_attr rows: expected 3, found 2");
        let err = batch
            .clone()
            .with_edge_weight(Tensor::zeros([4], device))
            .unwrap_err();
        assert_eq!(err.to_string(), "edge weights: expected 3, found 4");
        let err = batch
            .clone()
            .with_y(Tensor::zeros([3], device))
            .unwrap_err();
        assert_eq!(err.to_string(), "labels: expected 2, found 3");
        let err = batch
            .clone()
            .with_x(Tensor::zeros([4, 1], device))
            .unwrap_err();
        assert_eq!(err.to_string(), "node feature rows: expected 5, found 4");

        let batch = batch
            .with_edge_attr(Tensor::zeros([3, 4], device))
            .unwrap()
            .with_edge_weight(Tensor::ones([3], device))
            .unwrap()
            .with_y(Tensor::from_data([1, 0], device))
            .unwrap()
            .with_x(Tensor::ones([5, 7], device))
            .unwrap();
        assert_eq!(batch.num_features(), 7);
        let graphs = batch.to_graphs();
        assert_eq!(graphs[1].label(), Some(0));
        assert_eq!(graphs[1].edge_weight(), Some(&[1.0, 1.0][..]));
        assert_eq!(graphs[1].edge_attr().map(|a| a.values.len()), Some(8));

        // from_parts(into_parts) is the identity, and checks every length against the counts.
        let rebuilt = GraphBatch::from_parts(batch.clone().into_parts()).unwrap();
        assert_eq!(rebuilt.to_graphs(), graphs);
        let mut parts = batch.clone().into_parts();
        parts.edge_counts = vec![1, 1];
        assert_eq!(
            GraphBatch::from_parts(parts).unwrap_err().to_string(),
            "edge_index columns: expected 2, found 3"
        );
        let mut parts = batch.clone().into_parts();
        parts.edge_counts = vec![3];
        assert_eq!(
            GraphBatch::from_parts(parts).unwrap_err().to_string(),
            "graphs with edge counts: expected 2, found 1"
        );
        let mut parts = batch.clone().into_parts();
        parts.edge_weight = Some(Tensor::ones([2], device));
        assert_eq!(
            GraphBatch::from_parts(parts).unwrap_err().to_string(),
            "edge_weight length: expected 3, found 2"
        );
        let mut parts = batch.into_parts();
        parts.x = Tensor::ones([6, 7], device);
        assert_eq!(
            GraphBatch::from_parts(parts).unwrap_err().to_string(),
            "node feature rows: expected 5, found 6"
        );
    }

    crate::backend_tests!(
        from_graphs_then_to_graphs_is_the_identity,
        batch_of_empty_graphs_has_no_rows,
        from_tensors_counts_nodes_and_edges_with_two_reads,
        from_tensors_rejects_bad_input_by_name,
        from_graphs_rejects_mismatched_graphs,
        batch_setters_check_lengths,
    );
}
