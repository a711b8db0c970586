//! Named transforms of host graphs, as PyTorch Geometric's `torch_geometric.transforms` and
//! `utils`: edge clean-up ([`RemoveSelfLoops`], [`Coalesce`]) and degree features
//! ([`OneHotDegree`], [`NormalizedDegree`], or [`DegreeFeatures`] for either).
//!
//! Each is a small value implementing [`GraphTransform`]: [`GraphTransform::apply`] takes one
//! graph, [`GraphTransform::apply_all`] a whole dataset (which matters for
//! [`NormalizedDegree`], whose statistics are taken over all graphs given together).
//! [`Compose`] chains them. Labels, node features, edge features and edge weights are carried
//! through every transform.
//!
//! [`load_tu`](crate::load_tu) applies `RemoveSelfLoops` then `Coalesce` by default (as PyG's
//! `TUDataset` does on read), then degree features when asked for or when the dataset has no
//! node feature; see [`TuOptions`](crate::TuOptions).
//!
//! ```
//! use gnn_core::Graph;
//! use gnn_datasets::transforms::{Coalesce, Compose, GraphTransform, OneHotDegree, RemoveSelfLoops};
//!
//! // Node 0 -> 1 twice, a self loop on 1, then 1 -> 0.
//! let g = Graph::new(2, 0, vec![], vec![(0, 1), (1, 1), (1, 0), (0, 1)])?;
//! let clean = Compose::new()
//!     .then(RemoveSelfLoops)
//!     .then(Coalesce)
//!     .then(OneHotDegree { max_degree: 2 })
//!     .apply(g)?;
//! assert_eq!(clean.edges(), &[(0, 1), (1, 0)]);
//! assert_eq!(clean.node_features(0), &[0.0, 1.0, 0.0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt::Debug;

use gnn_core::Graph;

use super::error::{DataError, Result};

/// A transform of host graphs.
pub trait GraphTransform: Debug {
    /// Transforms one graph.
    ///
    /// # Errors
    /// [`DataError::Graph`] (naming graph 0) when the result is not a valid graph, or the
    /// transform's own errors.
    fn apply(&self, graph: Graph) -> Result<Graph>;

    /// Transforms every graph of a dataset. By default, [`GraphTransform::apply`] on each graph
    /// in turn, a [`DataError::Graph`] naming the graph's position.
    ///
    /// # Errors
    /// Those of [`GraphTransform::apply`].
    fn apply_all(&self, graphs: Vec<Graph>) -> Result<Vec<Graph>> {
        graphs
            .into_iter()
            .enumerate()
            .map(|(index, graph)| self.apply(graph).map_err(|e| e.in_graph(index)))
            .collect()
    }
}

/// Several transforms applied in order (PyG's `Compose`).
///
/// [`GraphTransform::apply_all`] runs each step over the whole dataset before the next step.
#[derive(Debug, Default)]
pub struct Compose {
    steps: Vec<Box<dyn GraphTransform + Send + Sync>>,
}

impl Compose {
    /// No step: the identity.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `step` after the steps so far.
    pub fn then(mut self, step: impl GraphTransform + Send + Sync + 'static) -> Self {
        self.steps.push(Box::new(step));
        self
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether there is no step.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl GraphTransform for Compose {
    fn apply(&self, graph: Graph) -> Result<Graph> {
        self.steps.iter().try_fold(graph, |g, step| step.apply(g))
    }

    fn apply_all(&self, graphs: Vec<Graph>) -> Result<Vec<Graph>> {
        self.steps
            .iter()
            .try_fold(graphs, |g, step| step.apply_all(g))
    }
}

/// Drops the edges `(i, i)`, with their features and weights (PyG's `remove_self_loops`).
///
/// The other edges keep their order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoveSelfLoops;

impl GraphTransform for RemoveSelfLoops {
    fn apply(&self, graph: Graph) -> Result<Graph> {
        if graph.edges().iter().all(|&(s, t)| s != t) {
            return Ok(graph);
        }
        let kept: Vec<usize> = (0..graph.num_edges())
            .filter(|&e| graph.edges()[e].0 != graph.edges()[e].1)
            .collect();
        let mut edges = EdgeBuilder::new(&graph, kept.len());
        for e in kept {
            edges.push(&graph, e);
        }
        edges.build(&graph)
    }
}

/// Sorts the edges by `(source, target)` and merges duplicates into one edge, adding up their
/// features and weights (PyG's `coalesce` with its default `reduce="sum"`).
///
/// The sort is stable, so duplicate features are added in their original order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Coalesce;

impl GraphTransform for Coalesce {
    fn apply(&self, graph: Graph) -> Result<Graph> {
        let list = graph.edges();
        if list.windows(2).all(|pair| pair[0] < pair[1]) {
            return Ok(graph);
        }
        let mut order: Vec<usize> = (0..list.len()).collect();
        order.sort_by_key(|&e| list[e]);
        let mut edges = EdgeBuilder::new(&graph, order.len());
        let mut last = None;
        for e in order {
            if last == Some(list[e]) {
                edges.add_to_last(&graph, e);
            } else {
                edges.push(&graph, e);
                last = Some(list[e]);
            }
        }
        edges.build(&graph)
    }
}

/// A new edge list for a graph, copying edge features and weights along.
struct EdgeBuilder {
    edges: Vec<(usize, usize)>,
    attr: Option<(usize, Vec<f32>)>,
    weight: Option<Vec<f32>>,
}

impl EdgeBuilder {
    fn new(graph: &Graph, capacity: usize) -> Self {
        Self {
            edges: Vec::with_capacity(capacity),
            attr: graph
                .edge_attr()
                .map(|a| (a.dim, Vec::with_capacity(capacity * a.dim))),
            weight: graph.edge_weight().map(|_| Vec::with_capacity(capacity)),
        }
    }

    /// Appends edge `e` of `graph`.
    fn push(&mut self, graph: &Graph, e: usize) {
        self.edges.push(graph.edges()[e]);
        if let (Some((dim, values)), Some(attr)) = (&mut self.attr, graph.edge_attr()) {
            values.extend_from_slice(&attr.values[e * *dim..(e + 1) * *dim]);
        }
        if let (Some(weights), Some(w)) = (&mut self.weight, graph.edge_weight()) {
            weights.push(w[e]);
        }
    }

    /// Adds the features and weight of edge `e` of `graph` to the last edge pushed.
    fn add_to_last(&mut self, graph: &Graph, e: usize) {
        if let (Some((dim, values)), Some(attr)) = (&mut self.attr, graph.edge_attr()) {
            let start = values.len() - *dim;
            let row = &attr.values[e * *dim..(e + 1) * *dim];
            for (acc, v) in values[start..].iter_mut().zip(row) {
                *acc += v;
            }
        }
        if let (Some(weights), Some(w)) = (&mut self.weight, graph.edge_weight())
            && let Some(last) = weights.last_mut()
        {
            *last += w[e];
        }
    }

    /// `graph` with the new edges, its nodes, features and label unchanged.
    fn build(self, graph: &Graph) -> Result<Graph> {
        let build = || -> gnn_core::Result<Graph> {
            let mut out = Graph::new(
                graph.num_nodes(),
                graph.num_features(),
                graph.x().to_vec(),
                self.edges,
            )?;
            if let Some((dim, values)) = self.attr {
                out = out.with_edge_attr(dim, values)?;
            }
            if let Some(weights) = self.weight {
                out = out.with_edge_weight(weights)?;
            }
            if let Some(label) = graph.label() {
                out = out.with_label(label);
            }
            Ok(out)
        };
        build().map_err(|source| DataError::Graph { index: 0, source })
    }
}

/// Appends a one-hot encoding of each node's out-degree to its features (PyG's
/// `OneHotDegree(max_degree)`, with `in_degree=False` and `cat=True`).
///
/// The out-degree counts the edges whose source is the node; TU graphs list both directions of
/// every edge, so after [`RemoveSelfLoops`] and [`Coalesce`] it is the number of neighbours.
/// Unlike PyG, which fails on a larger degree, a degree above `max_degree` lands in the last of
/// the `max_degree + 1` buckets.
///
/// `max_degree + 1` may be at most [`MAX_ONE_HOT_WIDTH`](crate::MAX_ONE_HOT_WIDTH), as for label
/// columns; a larger `max_degree` is a [`DataError::InvalidConfig`] (it would allocate that
/// many features per node).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OneHotDegree {
    /// The last bucket; degrees `>= max_degree` land in it.
    pub max_degree: usize,
}

impl GraphTransform for OneHotDegree {
    fn apply(&self, graph: Graph) -> Result<Graph> {
        if self.max_degree >= crate::MAX_ONE_HOT_WIDTH {
            return Err(DataError::InvalidConfig {
                message: format!(
                    "OneHotDegree: max_degree {} needs more than {} one-hot features per node",
                    self.max_degree,
                    crate::MAX_ONE_HOT_WIDTH
                ),
            });
        }
        let width = self.max_degree + 1;
        append_per_node(graph, width, |degree, out| {
            let start = out.len();
            out.resize(start + width, 0.0);
            out[start + degree.min(self.max_degree)] = 1.0;
        })
    }
}

/// Appends one feature, the standardised out-degree `(degree - mean) / std`, to each node's
/// features (the `NormalizedDegree` of PyG's kernel benchmark).
///
/// The mean and the (population) standard deviation are taken over all nodes of the graphs
/// given together: one graph for [`GraphTransform::apply`], the whole dataset for
/// [`GraphTransform::apply_all`]. A zero deviation leaves `degree - mean`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NormalizedDegree;

impl NormalizedDegree {
    fn standardise(graphs: Vec<Graph>) -> Result<Vec<Graph>> {
        let degrees: Vec<Vec<usize>> = graphs.iter().map(out_degrees).collect();
        let count = degrees.iter().map(Vec::len).sum::<usize>().max(1) as f64;
        let mean = degrees.iter().flatten().map(|&d| d as f64).sum::<f64>() / count;
        let var = degrees
            .iter()
            .flatten()
            .map(|&d| (d as f64 - mean).powi(2))
            .sum::<f64>()
            / count;
        let std = var.sqrt();
        let scale = if std > 0.0 { 1.0 / std } else { 1.0 };
        graphs
            .into_iter()
            .enumerate()
            .map(|(index, graph)| {
                append_per_node(graph, 1, |d, out| {
                    out.push(((d as f64 - mean) * scale) as f32)
                })
                .map_err(|e| e.in_graph(index))
            })
            .collect()
    }
}

impl GraphTransform for NormalizedDegree {
    fn apply(&self, graph: Graph) -> Result<Graph> {
        Ok(Self::standardise(vec![graph])?.remove(0))
    }

    fn apply_all(&self, graphs: Vec<Graph>) -> Result<Vec<Graph>> {
        Self::standardise(graphs)
    }
}

/// Node features computed from the node degree, for datasets without node features: the
/// choice between [`OneHotDegree`] and [`NormalizedDegree`] that
/// [`TuOptions::degree_features`](crate::TuOptions::degree_features) takes. It is a
/// [`GraphTransform`] itself, applying the one it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DegreeFeatures {
    /// One-hot degree over `max_degree + 1` buckets `0..=max_degree`: [`OneHotDegree`].
    OneHot {
        /// The last bucket; degrees `>= max_degree` land in it.
        max_degree: usize,
    },
    /// One feature, the standardised degree over all graphs given together:
    /// [`NormalizedDegree`].
    Scalar,
}

impl DegreeFeatures {
    /// Number of features this transform appends (saturating at `usize::MAX`; applying a
    /// `max_degree` that wide is an error, see [`OneHotDegree`]).
    pub fn width(&self) -> usize {
        match self {
            Self::OneHot { max_degree } => max_degree.saturating_add(1),
            Self::Scalar => 1,
        }
    }
}

impl GraphTransform for DegreeFeatures {
    fn apply(&self, graph: Graph) -> Result<Graph> {
        match *self {
            Self::OneHot { max_degree } => OneHotDegree { max_degree }.apply(graph),
            Self::Scalar => NormalizedDegree.apply(graph),
        }
    }

    fn apply_all(&self, graphs: Vec<Graph>) -> Result<Vec<Graph>> {
        match *self {
            Self::OneHot { max_degree } => OneHotDegree { max_degree }.apply_all(graphs),
            Self::Scalar => NormalizedDegree.apply_all(graphs),
        }
    }
}

/// Appends degree features to every graph (after its existing features, PyG's `cat=True`):
/// `degree.apply_all(graphs)`.
///
/// Labels, edges and edge features are kept.
///
/// # Errors
/// [`DataError::Graph`] if a graph cannot take the new features (it cannot happen for valid
/// graphs; the error is kept rather than a panic).
pub fn append_degree_features(graphs: Vec<Graph>, degree: DegreeFeatures) -> Result<Vec<Graph>> {
    degree.apply_all(graphs)
}

/// The out-degree of each node: the number of edges whose source it is.
pub(crate) fn out_degrees(graph: &Graph) -> Vec<usize> {
    let mut degree = vec![0; graph.num_nodes()];
    for &(source, _) in graph.edges() {
        degree[source] += 1;
    }
    degree
}

/// `graph` with `width` more features per node, written by `encode(out_degree, row)`.
fn append_per_node(
    graph: Graph,
    width: usize,
    encode: impl Fn(usize, &mut Vec<f32>),
) -> Result<Graph> {
    let new = graph.num_features() + width;
    let mut x = Vec::with_capacity(graph.num_nodes() * new);
    for (node, degree) in out_degrees(&graph).into_iter().enumerate() {
        x.extend_from_slice(graph.node_features(node));
        encode(degree, &mut x);
    }
    graph
        .with_features(new, x)
        .map_err(|source| DataError::Graph { index: 0, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three nodes with one feature each, label 1; edges with one feature (their number) and a
    /// weight (10 + their number): (1, 0), (0, 1), (0, 0), (0, 1), (2, 1).
    fn messy() -> Graph {
        Graph::new(
            3,
            1,
            vec![7.0, 8.0, 9.0],
            vec![(1, 0), (0, 1), (0, 0), (0, 1), (2, 1)],
        )
        .unwrap()
        .with_edge_attr(1, vec![1.0, 2.0, 3.0, 4.0, 5.0])
        .unwrap()
        .with_edge_weight(vec![11.0, 12.0, 13.0, 14.0, 15.0])
        .unwrap()
        .with_label(1)
    }

    #[test]
    fn remove_self_loops_drops_them_with_their_features_and_keeps_the_rest() {
        let g = RemoveSelfLoops.apply(messy()).unwrap();
        assert_eq!(g.edges(), &[(1, 0), (0, 1), (0, 1), (2, 1)]);
        assert_eq!(g.edge_attr().unwrap().values, vec![1.0, 2.0, 4.0, 5.0]);
        assert_eq!(g.edge_weight().unwrap(), &[11.0, 12.0, 14.0, 15.0]);
        assert_eq!((g.x(), g.label()), (&[7.0, 8.0, 9.0][..], Some(1)));
        let clean = Graph::new(2, 0, vec![], vec![(0, 1)]).unwrap();
        assert_eq!(RemoveSelfLoops.apply(clean.clone()).unwrap(), clean);
    }

    #[test]
    fn coalesce_sorts_and_adds_up_duplicates() {
        let g = Coalesce.apply(messy()).unwrap();
        assert_eq!(g.edges(), &[(0, 0), (0, 1), (1, 0), (2, 1)]);
        assert_eq!(g.edge_attr().unwrap().values, vec![3.0, 6.0, 1.0, 5.0]);
        assert_eq!(g.edge_weight().unwrap(), &[13.0, 26.0, 11.0, 15.0]);
        assert_eq!((g.x(), g.label()), (&[7.0, 8.0, 9.0][..], Some(1)));
        // Already coalesced: unchanged, and idempotent.
        assert_eq!(Coalesce.apply(g.clone()).unwrap(), g);
    }

    #[test]
    fn compose_applies_in_order() {
        let both = Compose::new().then(RemoveSelfLoops).then(Coalesce);
        assert_eq!(both.len(), 2);
        assert!(Compose::new().is_empty());
        let g = both.apply(messy()).unwrap();
        assert_eq!(g.edges(), &[(0, 1), (1, 0), (2, 1)]);
        assert_eq!(g.edge_attr().unwrap().values, vec![6.0, 1.0, 5.0]);
        let all = both.apply_all(vec![messy(), messy()]).unwrap();
        assert_eq!(all, vec![g.clone(), g]);
        assert_eq!(Compose::new().apply(messy()).unwrap(), messy());
    }

    #[test]
    fn one_hot_degree_appends_clamped_buckets() {
        let g = Compose::new()
            .then(RemoveSelfLoops)
            .then(Coalesce)
            .apply(messy())
            .unwrap();
        // Out-degrees 1, 1, 1.
        let one_hot = OneHotDegree { max_degree: 2 }.apply(g.clone()).unwrap();
        assert_eq!(one_hot.num_features(), 4);
        assert_eq!(one_hot.node_features(0), &[7.0, 0.0, 1.0, 0.0]);
        let capped = OneHotDegree { max_degree: 0 }.apply(messy()).unwrap();
        // Node 0 has out-degree 3 in the messy graph: clamped into bucket 0.
        assert_eq!(capped.node_features(0), &[7.0, 1.0]);
        assert_eq!(capped.node_features(2), &[9.0, 1.0]);
        assert_eq!(capped.edges(), messy().edges());
        assert_eq!(
            DegreeFeatures::OneHot { max_degree: 2 }.apply(g).unwrap(),
            one_hot
        );
    }

    /// Found by `tu::fuzz`: `max_degree + 1` overflowed (a panic) at `usize::MAX`, and a huge
    /// `max_degree` allocated that many features per node.
    #[test]
    fn one_hot_degree_wider_than_the_one_hot_limit_is_an_error() {
        for max_degree in [crate::MAX_ONE_HOT_WIDTH, 1 << 40, usize::MAX] {
            let err = OneHotDegree { max_degree }.apply(messy()).unwrap_err();
            assert!(matches!(err, DataError::InvalidConfig { .. }), "{err:?}");
            assert!(err.to_string().contains("max_degree"), "{err}");
        }
        assert_eq!(
            DegreeFeatures::OneHot {
                max_degree: usize::MAX
            }
            .width(),
            usize::MAX
        );
        let widest = OneHotDegree {
            max_degree: crate::MAX_ONE_HOT_WIDTH - 1,
        };
        assert_eq!(
            widest.apply(messy()).unwrap().num_features(),
            messy().num_features() + crate::MAX_ONE_HOT_WIDTH
        );
    }

    #[test]
    fn normalized_degree_standardises_over_the_graphs_given_together() {
        let star = Graph::new(3, 0, vec![], vec![(0, 1), (1, 0), (0, 2), (2, 0)]).unwrap();
        let lone = Graph::new(1, 0, vec![], vec![]).unwrap();
        let one = NormalizedDegree.apply(star.clone()).unwrap();
        // Degrees 2, 1, 1: mean 4/3, std sqrt(2)/3.
        let x = one.x();
        assert!((x[0] - 2f32.sqrt()).abs() < 1e-6 && (x[1] + 0.5f32.sqrt()).abs() < 1e-6);
        let all = NormalizedDegree.apply_all(vec![star, lone]).unwrap();
        // Degrees 2, 1, 1, 0: mean 1, std sqrt(1/2).
        let values: Vec<f32> = all.iter().flat_map(|g| g.x().to_vec()).collect();
        let s = 2f32.sqrt();
        for (v, want) in values.iter().zip([s, 0.0, 0.0, -s]) {
            assert!((v - want).abs() < 1e-6, "{values:?}");
        }
        let flat = NormalizedDegree
            .apply(Graph::new(2, 0, vec![], vec![]).unwrap())
            .unwrap();
        assert_eq!(flat.x(), &[0.0, 0.0]);
        assert_eq!(
            append_degree_features(all.clone(), DegreeFeatures::Scalar)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn errors_in_apply_all_name_the_graph() {
        let err = DataError::Graph {
            index: 0,
            source: gnn_core::GraphError::NonFinite {
                what: "node features",
                position: 0,
                value: f64::NAN,
            },
        };
        assert!(matches!(err.in_graph(4), DataError::Graph { index: 4, .. }));
        assert_eq!(DegreeFeatures::Scalar.width(), 1);
        assert_eq!(DegreeFeatures::OneHot { max_degree: 3 }.width(), 4);
        assert_eq!(out_degrees(&messy()), vec![3, 1, 1]);
    }
}
