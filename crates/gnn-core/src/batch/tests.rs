use burn::tensor::{Int, Tensor, TensorData, backend::Backend};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::error::GraphError;
use crate::graph::Graph;
use crate::host;

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

fn map_x_keeps_one_row_per_node<B: Backend>(device: &B::Device) {
    let graphs = GraphBatch::<B>::from_graphs(&crate::testing::tiny_graphs(3), device).unwrap();
    assert!(graphs.num_nodes() > 1);
    let doubled = graphs.clone().map_x(|x| x * 2.0);
    crate::testing::assert_close(
        doubled.x().clone(),
        &host::floats(graphs.x().clone() * 2.0),
        0.0,
        0.0,
    );
    assert_eq!(doubled.node_counts(), graphs.node_counts());
    let message = crate::testing::panic_message(|| graphs.clone().map_x(|x| x.narrow(0, 0, 1)));
    assert!(message.starts_with("GraphBatch::map_x"), "{message}");
}

fn from_parts_unchecked_rebuilds_and_checks_in_debug<B: Backend>(device: &B::Device) {
    let graphs = GraphBatch::<B>::from_graphs(&crate::testing::tiny_graphs(3), device).unwrap();
    let rebuilt = GraphBatch::from_parts_unchecked(graphs.clone().into_parts());
    assert_eq!(rebuilt.node_counts(), graphs.node_counts());
    assert_eq!(rebuilt.edge_counts(), graphs.edge_counts());
    if cfg!(debug_assertions) {
        let mut parts = graphs.into_parts();
        parts.edge_counts.push(0);
        let message = crate::testing::panic_message(|| GraphBatch::from_parts_unchecked(parts));
        assert!(message.contains("inconsistent parts"), "{message}");
    }
}

crate::backend_tests!(
    map_x_keeps_one_row_per_node,
    from_parts_unchecked_rebuilds_and_checks_in_debug,
    from_graphs_then_to_graphs_is_the_identity,
    batch_of_empty_graphs_has_no_rows,
    from_tensors_counts_nodes_and_edges_with_two_reads,
    from_tensors_rejects_bad_input_by_name,
    from_graphs_rejects_mismatched_graphs,
    batch_setters_check_lengths,
);
