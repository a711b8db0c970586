//! Fuzzing [`GraphBatch::from_tensors`]: arbitrary shapes and index values (negative, out of
//! range, unsorted, gappy batch vectors; edges across graphs or out of graph order) give either
//! a consistent batch or a typed [`GraphError`](crate::GraphError), never a panic.

use burn::tensor::{Int, Tensor, TensorData};
use proptest::prelude::*;

use super::GraphBatch;
use crate::graph::Graph;
use crate::host;
use crate::segment::{SegmentBackend, segment_max, segment_sum};
use crate::testing::{Outcome, fuzz};

/// One change that may make valid raw tensors invalid.
#[derive(Debug, Clone)]
enum Mutation {
    /// Overwrite the graph id at `position % N`.
    Id { position: u16, value: i64 },
    /// Overwrite one end of one edge (`position % 2E`).
    EdgeEnd { position: u16, value: i64 },
    /// Swap two edges (may break the grouping by graph).
    SwapEdges(u16, u16),
    /// Add (or remove) rows of `x` (`x` and the batch vector then disagree).
    XRows(i8),
    /// Give `edge_index` this many rows (2 is right).
    EdgeRows(u8),
    /// Drop the last graph id.
    DropId,
}

/// Raw PyG-style tensors on the host: `x` `[rows, features]`, `edge_index` `[edge_rows, E]`,
/// `batch` `[ids.len()]`.
#[derive(Debug, Clone)]
struct RawBatch {
    rows: usize,
    features: usize,
    edge_rows: usize,
    edge_index: Vec<i64>,
    ids: Vec<i64>,
}

/// Index values a user could pass: mostly small (in range or just outside), sometimes extreme
/// (the Int range of every backend: Flex and Wgpu store `i32`).
fn index_value() -> impl Strategy<Value = i64> {
    prop_oneof![
        8 => -2i64..12,
        1 => Just(i64::from(i32::MIN)),
        1 => Just(i64::from(i32::MAX)),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<u16>(), index_value()).prop_map(|(position, value)| Mutation::Id { position, value }),
        3 => (any::<u16>(), index_value())
            .prop_map(|(position, value)| Mutation::EdgeEnd { position, value }),
        1 => (any::<u16>(), any::<u16>()).prop_map(|(a, b)| Mutation::SwapEdges(a, b)),
        1 => (-2i8..3).prop_map(Mutation::XRows),
        1 => (0u8..4).prop_map(Mutation::EdgeRows),
        1 => Just(Mutation::DropId),
    ]
}

/// Valid raw tensors (node counts per graph, edges drawn inside graphs and grouped by graph)
/// with 0 to 3 mutations, or a batch vector and edges of arbitrary values.
fn raw_batch() -> impl Strategy<Value = RawBatch> {
    let valid_then_mutated = (
        proptest::collection::vec(0usize..4, 0..5),
        0usize..3,
        proptest::collection::vec((any::<u16>(), any::<u16>()), 0..8),
        proptest::collection::vec(mutation(), 0..4),
    )
        .prop_map(|(counts, features, edge_seeds, mutations)| {
            let ids: Vec<i64> = counts
                .iter()
                .enumerate()
                .flat_map(|(g, &c)| std::iter::repeat_n(g as i64, c))
                .collect();
            let offsets: Vec<usize> = std::iter::once(0)
                .chain(counts.iter().scan(0, |sum, &c| {
                    *sum += c;
                    Some(*sum)
                }))
                .collect();
            let mut edges: Vec<(usize, i64, i64)> = Vec::new();
            if !ids.is_empty() {
                for &(a, b) in &edge_seeds {
                    let source = usize::from(a) % ids.len();
                    let g = ids[source] as usize;
                    let target = offsets[g] + usize::from(b) % counts[g];
                    edges.push((g, source as i64, target as i64));
                }
            }
            edges.sort_by_key(|&(g, _, _)| g);
            let mut edge_index: Vec<i64> = edges.iter().map(|e| e.1).collect();
            edge_index.extend(edges.iter().map(|e| e.2));
            let mut raw = RawBatch {
                rows: ids.len(),
                features,
                edge_rows: 2,
                edge_index,
                ids,
            };
            for m in mutations {
                apply(&mut raw, m);
            }
            raw
        });
    let arbitrary = (
        proptest::collection::vec(index_value(), 0..8),
        0usize..3,
        0usize..4,
        proptest::collection::vec(index_value(), 0..12),
        -1i8..2,
    )
        .prop_map(|(ids, features, edge_rows, values, delta)| {
            let edge_rows = if edge_rows == 3 { 2 } else { edge_rows };
            let columns = values.len() / edge_rows.max(1);
            RawBatch {
                rows: ids.len().saturating_add_signed(delta.into()),
                features,
                edge_rows,
                edge_index: values[..edge_rows * columns].to_vec(),
                ids,
            }
        });
    prop_oneof![3 => valid_then_mutated, 1 => arbitrary]
}

fn apply(raw: &mut RawBatch, mutation: Mutation) {
    let num_edges = raw.edge_index.len() / raw.edge_rows.max(1);
    match mutation {
        Mutation::Id { position, value } if !raw.ids.is_empty() => {
            let n = raw.ids.len();
            raw.ids[usize::from(position) % n] = value;
        }
        Mutation::EdgeEnd { position, value } if !raw.edge_index.is_empty() => {
            let n = raw.edge_index.len();
            raw.edge_index[usize::from(position) % n] = value;
        }
        Mutation::SwapEdges(a, b) if num_edges > 0 && raw.edge_rows > 0 => {
            let (a, b) = (usize::from(a) % num_edges, usize::from(b) % num_edges);
            for row in 0..raw.edge_rows {
                raw.edge_index
                    .swap(row * num_edges + a, row * num_edges + b);
            }
        }
        Mutation::XRows(delta) => raw.rows = raw.rows.saturating_add_signed(delta.into()),
        Mutation::EdgeRows(rows) => {
            let rows = usize::from(rows);
            raw.edge_index.resize(rows * num_edges, 0);
            raw.edge_rows = rows;
        }
        Mutation::DropId => {
            raw.ids.pop();
        }
        _ => {}
    }
}

/// What `from_tensors` must give for valid input, worked out on the host: the node counts
/// per graph, or `None` when the batch vector is invalid.
fn expected_counts(ids: &[i64]) -> Option<Vec<usize>> {
    let mut counts: Vec<usize> = Vec::new();
    for (i, &id) in ids.iter().enumerate() {
        let id = usize::try_from(id).ok()?;
        if i > 0 && (id as i64) < ids[i - 1] {
            return None;
        }
        if id > counts.len() {
            return None;
        }
        if id == counts.len() {
            counts.push(0);
        }
        counts[id] += 1;
    }
    Some(counts)
}

fn check<B: SegmentBackend>(raw: RawBatch, device: &B::Device) -> Result<Outcome, TestCaseError> {
    let x_values: Vec<f32> = (0..raw.rows * raw.features)
        .map(|i| (i % 7) as f32 - 3.0)
        .collect();
    let x = Tensor::<B, 2>::from_data(TensorData::new(x_values, [raw.rows, raw.features]), device);
    let num_edges = raw.edge_index.len() / raw.edge_rows.max(1);
    let edge_index = Tensor::<B, 2, Int>::from_data(
        TensorData::new(raw.edge_index.clone(), [raw.edge_rows, num_edges]),
        device,
    );
    let ids =
        Tensor::<B, 1, Int>::from_data(TensorData::new(raw.ids.clone(), [raw.ids.len()]), device);
    let batch = match GraphBatch::from_tensors(x, edge_index, ids) {
        Ok(batch) => batch,
        Err(error) => {
            prop_assert!(!error.to_string().is_empty());
            return Ok(Outcome::Rejected);
        }
    };
    // Accepted: the input was valid, and the batch says what it holds.
    let counts = expected_counts(&raw.ids);
    prop_assert!(counts.is_some(), "an invalid batch vector was accepted");
    prop_assert_eq!(batch.node_counts(), &counts.unwrap()[..]);
    prop_assert_eq!(raw.rows, raw.ids.len());
    prop_assert_eq!(raw.edge_rows, 2);
    prop_assert_eq!(batch.num_nodes(), raw.rows);
    prop_assert_eq!(batch.num_edges(), num_edges);
    prop_assert_eq!(batch.edge_counts().iter().sum::<usize>(), num_edges);
    let (sources, targets) = raw.edge_index.split_at(num_edges);
    let mut edge = 0;
    for (g, &count) in batch.edge_counts().iter().enumerate() {
        for e in edge..edge + count {
            for node in [sources[e], targets[e]] {
                prop_assert!(node >= 0 && (node as usize) < raw.rows);
                prop_assert_eq!(
                    raw.ids[node as usize],
                    g as i64,
                    "edge {} in graph {}",
                    e,
                    g
                );
            }
        }
        edge += count;
    }
    // Every graph passes `Graph`'s own checks, and segment reductions run on the batch.
    for graph in batch.to_graphs() {
        let rebuilt = Graph::new(
            graph.num_nodes(),
            graph.num_features(),
            graph.x().to_vec(),
            graph.edges().to_vec(),
        );
        prop_assert!(rebuilt.is_ok(), "{:?}", rebuilt);
    }
    let graphs = batch.num_graphs();
    prop_assert_eq!(
        segment_sum(batch.x().clone(), batch.segments()).dims(),
        [graphs, raw.features]
    );
    let max = segment_max(batch.x().clone(), batch.segments());
    prop_assert_eq!(max.dims(), [graphs, raw.features]);
    prop_assert!(host::floats(max).iter().all(|v| v.is_finite()));
    Ok(Outcome::Accepted)
}

fn fuzz_from_tensors<B: SegmentBackend>(device: &B::Device) {
    let device = device.clone();
    fuzz(
        &format!("GraphBatch::from_tensors on {}", B::name(&device)),
        1000,
        raw_batch(),
        move |raw| check::<B>(raw, &device),
    );
}

crate::backend_tests!(fuzz_from_tensors);
