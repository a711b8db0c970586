//! Fuzzing [`Clustering::from_ids`]: arbitrary cluster ids (negative, huge, repeated across
//! graphs, out of graph order, a wrong count) for batches of random graphs give either a
//! consistent clustering or [`PoolError::InvalidClusters`], never a panic; an accepted
//! clustering then pools its batch ([`avg_pool`], [`max_pool`]) into one node per cluster.

use burn::tensor::backend::Backend;
use gnn_core::segment::SegmentBackend;
use gnn_core::testing::{Outcome, fuzz};
use gnn_core::{Graph, GraphBatch};
use proptest::prelude::*;

use super::Clustering;
use crate::error::PoolError;
use crate::{avg_pool, max_pool};

/// A batch (nodes per graph, edges as seeds) and the cluster ids to check against it.
#[derive(Debug, Clone)]
struct ClusterCase {
    nodes_per_graph: Vec<usize>,
    edge_seeds: Vec<(u16, u16)>,
    ids: Vec<i64>,
}

fn id() -> impl Strategy<Value = i64> {
    prop_oneof![
        8 => -1i64..12,
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
    ]
}

/// Ids that are valid by construction (clusters inside graphs, ascending with the graphs,
/// with gaps), then possibly edited; or ids drawn at random.
fn cluster_case() -> impl Strategy<Value = ClusterCase> {
    let graphs = (
        proptest::collection::vec(0usize..5, 0..5),
        proptest::collection::vec((any::<u16>(), any::<u16>()), 0..10),
    );
    let valid_then_edited = (
        graphs.clone(),
        proptest::collection::vec(0i64..3, 20),
        proptest::collection::vec((any::<u16>(), id()), 0..3),
        -1i8..2,
    )
        .prop_map(|((nodes_per_graph, edge_seeds), steps, edits, resize)| {
            // Within a graph, ids grow by 0..3 from node to node; a new graph starts above the
            // last id of the one before, so clusters never span graphs.
            let mut ids = Vec::new();
            let mut next = 0i64;
            for &n in &nodes_per_graph {
                for _ in 0..n {
                    next += steps[ids.len() % steps.len()];
                    ids.push(next);
                }
                next += 1;
            }
            for (position, value) in edits {
                if !ids.is_empty() {
                    let n = ids.len();
                    ids[usize::from(position) % n] = value;
                }
            }
            match resize {
                -1 => {
                    ids.pop();
                }
                1 => ids.push(0),
                _ => {}
            }
            ClusterCase {
                nodes_per_graph,
                edge_seeds,
                ids,
            }
        });
    let random = (graphs, proptest::collection::vec(id(), 0..14)).prop_map(
        |((nodes_per_graph, edge_seeds), ids)| ClusterCase {
            nodes_per_graph,
            edge_seeds,
            ids,
        },
    );
    prop_oneof![3 => valid_then_edited, 1 => random]
}

fn batch<B: Backend>(case: &ClusterCase, device: &B::Device) -> GraphBatch<B> {
    let graphs: Vec<Graph> = case
        .nodes_per_graph
        .iter()
        .enumerate()
        .map(|(g, &n)| {
            let edges = if n == 0 {
                Vec::new()
            } else {
                case.edge_seeds
                    .iter()
                    .skip(g)
                    .step_by(case.nodes_per_graph.len())
                    .map(|&(a, b)| (usize::from(a) % n, usize::from(b) % n))
                    .collect()
            };
            let x = (0..n * 2).map(|i| (i % 5) as f32 - 2.0).collect();
            Graph::new(n, 2, x, edges).expect("a valid graph")
        })
        .collect();
    GraphBatch::from_graphs(&graphs, device).expect("graphs of one width")
}

fn check<B: SegmentBackend>(
    case: ClusterCase,
    device: &B::Device,
) -> Result<Outcome, TestCaseError> {
    let graphs = batch::<B>(&case, device);
    let clustering = match Clustering::from_ids(&case.ids, &graphs) {
        Ok(clustering) => clustering,
        Err(error) => {
            prop_assert!(
                matches!(error, PoolError::InvalidClusters(_)),
                "{:?}",
                error
            );
            prop_assert!(!error.to_string().is_empty());
            return Ok(Outcome::Rejected);
        }
    };
    let n = graphs.num_nodes();
    let c = clustering.num_clusters();
    let assignment = clustering.assignment();
    prop_assert_eq!(case.ids.len(), n);
    prop_assert_eq!(assignment.len(), n);
    prop_assert!(assignment.iter().all(|&a| a < c));
    // Relabelling keeps the order of the ids, and every cluster has a node.
    for i in 0..n {
        for j in 0..n {
            prop_assert_eq!(
                case.ids[i].cmp(&case.ids[j]),
                assignment[i].cmp(&assignment[j])
            );
        }
    }
    prop_assert!(clustering.cluster_sizes().iter().all(|&s| s > 0));
    prop_assert_eq!(clustering.cluster_sizes().iter().sum::<usize>(), n);
    for (cluster, &size) in clustering.cluster_sizes().iter().enumerate() {
        prop_assert_eq!(assignment.iter().filter(|&&a| a == cluster).count(), size);
    }
    // Each cluster in one graph, clusters in graph order, counted per graph.
    prop_assert_eq!(clustering.clusters_per_graph().len(), graphs.num_graphs());
    prop_assert_eq!(clustering.clusters_per_graph().iter().sum::<usize>(), c);
    let mut first_cluster = 0;
    for (g, window) in graphs.node_offsets().windows(2).enumerate() {
        let count = clustering.clusters_per_graph()[g];
        for &a in &assignment[window[0]..window[1]] {
            prop_assert!((first_cluster..first_cluster + count).contains(&a));
        }
        first_cluster += count;
    }
    // A batch of no graph has no feature.
    let features = graphs.num_features();
    for pooled in [
        avg_pool(graphs.clone(), &clustering),
        max_pool(graphs, &clustering),
    ] {
        prop_assert_eq!(pooled.node_counts(), clustering.clusters_per_graph());
        prop_assert_eq!(pooled.x().dims(), [c, features]);
    }
    Ok(Outcome::Accepted)
}

fn fuzz_clustering_from_ids<B: SegmentBackend>(device: &B::Device) {
    let device = device.clone();
    fuzz(
        &format!("Clustering::from_ids on {}", B::name(&device)),
        1000,
        cluster_case(),
        move |case| check::<B>(case, &device),
    );
}

gnn_core::backend_tests!(fuzz_clustering_from_ids);
