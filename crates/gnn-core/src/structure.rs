//! Graph structure on the device: degrees, self loops, GCN normalisation, neighbourhood
//! aggregation. Inputs are assumed valid (a [`GraphBatch`](crate::GraphBatch) guarantees it).

use burn::tensor::{Int, Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

use crate::burn_compat::{reshape, select_1d, select_add_1d, zeros_if_element_free};
use crate::host;
use crate::segment::{Segments, portable::segment_max, scatter_sum};

/// Sources (row 0) and targets (row 1) of an `edge_index` `[2, E]`, each `[E]`.
pub fn endpoints<B: Backend>(
    edge_index: Tensor<B, 2, Int>,
) -> (Tensor<B, 1, Int>, Tensor<B, 1, Int>) {
    let num_edges = edge_index.dims()[1];
    let source = reshape(edge_index.clone().narrow(0, 0, 1), [num_edges]);
    let target = reshape(edge_index.narrow(0, 1, 1), [num_edges]);
    (source, target)
}

/// Weighted count of the entries of `index` per node: `[E] -> [num_nodes]`
/// (in-degree when `index` is the target row). Without weights every entry counts 1.
pub fn degree<B: Backend>(
    index: Tensor<B, 1, Int>,
    num_nodes: usize,
    weight: Option<Tensor<B, 1>>,
) -> Tensor<B, 1> {
    let device = index.device();
    let entries = index.dims()[0];
    if let Some(zeros) = zeros_if_element_free(&[entries], [num_nodes], &device) {
        return zeros;
    }
    let weight = weight.unwrap_or_else(|| Tensor::ones([entries], &device));
    select_add_1d(Tensor::zeros([num_nodes], &device), index, weight)
}

/// Appends one self loop per node to `edge_index`: `[2, E] -> [2, E + num_nodes]`, loops last
/// (as PyG's `add_self_loops`).
pub fn add_self_loops<B: Backend>(
    edge_index: Tensor<B, 2, Int>,
    num_nodes: usize,
) -> Tensor<B, 2, Int> {
    let device = edge_index.device();
    let loops = reshape(
        Tensor::<B, 1, Int>::arange(0..num_nodes as i64, &device),
        [1, num_nodes],
    )
    .repeat_dim(0, 2);
    Tensor::cat(vec![edge_index, loops], 1)
}

/// Symmetric GCN normalisation (PyG's `gcn_norm` with `add_remaining_self_loops`).
///
/// Returns the edges with one self loop per node appended, and for every edge
/// `w_ji / sqrt(deg_j · deg_i)` where `deg` sums the weights into a node, its self loop included.
/// Self loops already present keep their weight (as PyG); rather than removing them from the
/// edge list (which would need a device read) they get weight 0 and their weight moves to the
/// appended loop, which gives the same sums.
pub fn gcn_norm<B: Backend>(
    edge_index: Tensor<B, 2, Int>,
    edge_weight: Option<Tensor<B, 1>>,
    num_nodes: usize,
) -> (Tensor<B, 2, Int>, Tensor<B, 1>) {
    let device = edge_index.device();
    let num_edges = edge_index.dims()[1];
    let weight = edge_weight.unwrap_or_else(|| Tensor::ones([num_edges], &device));
    let (source, target) = endpoints(edge_index.clone());
    let is_loop = source.clone().equal(target).float();
    let loop_weight = if num_edges == 0 {
        Tensor::ones([num_nodes], &device)
    } else {
        let existing = degree(
            source.clone(),
            num_nodes,
            Some(weight.clone() * is_loop.clone()),
        );
        let has_loop = degree(source, num_nodes, Some(is_loop.clone())).greater_elem(0.0);
        Tensor::ones([num_nodes], &device).mask_where(has_loop, existing)
    };
    let weight = Tensor::cat(vec![weight * (is_loop.neg() + 1.0), loop_weight], 0);
    let edge_index = add_self_loops(edge_index, num_nodes);
    let (source, target) = endpoints(edge_index.clone());
    let degree = degree(target.clone(), num_nodes, Some(weight.clone()));
    let inverse_sqrt = degree
        .clone()
        .sqrt()
        .recip()
        .mask_fill(degree.equal_elem(0.0), 0.0);
    let norm = select_1d(inverse_sqrt.clone(), source) * weight * select_1d(inverse_sqrt, target);
    (edge_index, norm)
}

/// How messages arriving at a node are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Aggregation {
    /// Sum of the messages (PyG `aggr="add"`).
    #[default]
    Sum,
    /// Mean of the messages; 0 for a node without in-edges.
    Mean,
    /// Feature-wise maximum; 0 for a node without in-edges.
    Max,
}

/// Aggregates neighbour features at every target node: `out_i = ⊕_{j → i} w_ji · x_j`,
/// `x [N, F] -> [N, F]`.
///
/// `Sum` and `Mean` make no device read. `Max` reads the in-degrees (one read): it sorts the
/// edges by target and takes the portable [`segment_max`] over them (the message passing layers
/// are generic over any `Backend`), so its gradient splits among exactly tied messages as PyG's
/// (and as [`segment_max`] everywhere else).
pub fn aggregate<B: Backend>(
    x: Tensor<B, 2>,
    edge_index: Tensor<B, 2, Int>,
    edge_weight: Option<Tensor<B, 1>>,
    aggregation: Aggregation,
) -> Tensor<B, 2> {
    let [num_nodes, features] = x.dims();
    let num_edges = edge_index.dims()[1];
    if let Some(zeros) =
        zeros_if_element_free(&[num_edges, features], [num_nodes, features], &x.device())
    {
        return zeros;
    }
    let (source, target) = endpoints(edge_index);
    let mut messages = x.select(0, source);
    if let Some(weight) = edge_weight {
        messages = messages * weight.unsqueeze_dim::<2>(1);
    }
    match aggregation {
        Aggregation::Sum => scatter_sum(messages, target, num_nodes),
        Aggregation::Mean => {
            let count = degree(target.clone(), num_nodes, None)
                .clamp_min(1.0)
                .unsqueeze_dim::<2>(1);
            scatter_sum(messages, target, num_nodes) / count
        }
        Aggregation::Max => max_by_target(messages, target, num_nodes),
    }
}

/// Feature-wise maximum of the messages arriving at each node, 0 for a node without in-edges.
///
/// The edges are sorted by target, so that the messages of each node are one segment of
/// [`segment_max`]: one implementation of the maximum for the whole library, which splits the
/// gradient among exactly tied messages as PyG does. The in-degrees are read once (the segment
/// sizes must be known on the host).
fn max_by_target<B: Backend>(
    messages: Tensor<B, 2>,
    target: Tensor<B, 1, Int>,
    num_nodes: usize,
) -> Tensor<B, 2> {
    let in_degree = host::ints(degree(target.clone(), num_nodes, None).int());
    let counts = in_degree.into_iter().map(|d| d as usize).collect();
    let order = target.clone().argsort(0);
    let sorted_target = target.select(0, order.clone());
    let by_target = Segments::from_parts_unchecked(sorted_target, counts);
    segment_max(messages.select(0, order), &by_target)
}

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;
    use burn::tensor::backend::AutodiffBackend;

    use super::*;
    use crate::gradcheck::{self, B64, TOL, check_gradient, weighted_sum};
    use crate::testing::assert_close;

    fn edge_index<B: Backend>(edges: &[(usize, usize)], device: &B::Device) -> Tensor<B, 2, Int> {
        let mut flat: Vec<i64> = edges.iter().map(|&(s, _)| s as i64).collect();
        flat.extend(edges.iter().map(|&(_, t)| t as i64));
        Tensor::from_data(TensorData::new(flat, [2, edges.len()]), device)
    }

    fn edges_of<B: Backend>(edge_index: Tensor<B, 2, Int>) -> Vec<(usize, usize)> {
        let flat = host::ints(edge_index);
        let e = flat.len() / 2;
        (0..e)
            .map(|i| (flat[i] as usize, flat[e + i] as usize))
            .collect()
    }

    // The shared test graph: node 5 has out-edges only, node 6 is isolated, node 1 has a
    // duplicate in-edge.
    use crate::gradcheck::{EDGES, NODES as N};
    const F: usize = 3;

    fn weights() -> Vec<f64> {
        gradcheck::uniform(EDGES.len(), 0.5, 1.5, 21)
            .into_iter()
            .map(|v| v as f32 as f64)
            .collect()
    }

    fn features() -> Vec<f64> {
        gradcheck::uniform(N * F, -2.0, 2.0, 22)
            .into_iter()
            .map(|v| v as f32 as f64)
            .collect()
    }

    fn degree_counts_and_sums_weights<B: Backend>(device: &B::Device) {
        let (_, target) = endpoints(edge_index::<B>(&EDGES, device));
        assert_close(
            degree(target.clone(), N, None),
            &[1.0, 4.0, 1.0, 2.0, 1.0, 0.0, 0.0],
            0.0,
            0.0,
        );
        let w = weights();
        let mut expected = [0.0; N];
        for (&(_, t), w) in EDGES.iter().zip(&w) {
            expected[t] += w;
        }
        let weighted = degree(
            target,
            N,
            Some(gradcheck::tensor(&w, [EDGES.len()], device)),
        );
        assert_close(weighted, &expected, 1e-6, 1e-6);
        // E = 0: every degree is 0.
        let (_, none) = endpoints(edge_index::<B>(&[], device));
        assert_close(degree(none, 4, None), &[0.0; 4], 0.0, 0.0);
        assert_eq!(
            degree::<B>(host::index_tensor(&[], device), 0, None).dims(),
            [0]
        );
    }

    fn self_loops_are_appended_last<B: Backend>(device: &B::Device) {
        let looped = add_self_loops(edge_index::<B>(&[(0, 1), (2, 0)], device), 3);
        assert_eq!(
            edges_of(looped),
            vec![(0, 1), (2, 0), (0, 0), (1, 1), (2, 2)]
        );
        let looped = add_self_loops(edge_index::<B>(&[], device), 2);
        assert_eq!(edges_of(looped), vec![(0, 0), (1, 1)]);
        let looped = add_self_loops(edge_index::<B>(&[], device), 0);
        assert_eq!(looped.dims(), [2, 0]);
    }

    /// PyG's `gcn_norm` on the host, as a dense `[N, N]` matrix `A[source][target]`.
    fn dense_gcn(num_nodes: usize, edges: &[(usize, usize)], weight: &[f64]) -> Vec<f64> {
        // add_remaining_self_loops: existing loops keep their weight, other nodes get 1.
        let mut loop_weight = vec![1.0; num_nodes];
        let mut kept = Vec::new();
        for (&(s, t), &w) in edges.iter().zip(weight) {
            if s == t {
                loop_weight[s] = w;
            } else {
                kept.push((s, t, w));
            }
        }
        kept.extend((0..num_nodes).map(|i| (i, i, loop_weight[i])));
        let mut deg = vec![0.0; num_nodes];
        for &(_, t, w) in &kept {
            deg[t] += w;
        }
        let inv = |d: f64| if d == 0.0 { 0.0 } else { 1.0 / d.sqrt() };
        let mut dense = vec![0.0; num_nodes * num_nodes];
        for (s, t, w) in kept {
            dense[s * num_nodes + t] += inv(deg[s]) * w * inv(deg[t]);
        }
        dense
    }

    fn densify<B: Backend>(
        num_nodes: usize,
        edge_index: Tensor<B, 2, Int>,
        norm: Tensor<B, 1>,
    ) -> Vec<f64> {
        let mut dense = vec![0.0; num_nodes * num_nodes];
        for ((s, t), w) in edges_of(edge_index).into_iter().zip(host::floats(norm)) {
            dense[s * num_nodes + t] += w;
        }
        dense
    }

    fn gcn_norm_matches_pyg<B: Backend>(device: &B::Device) {
        // Hand-computed, with a self loop already present (2 -> 2, weight 3): PyG keeps its weight.
        // deg = [1 (loop), 2 + 1 (loop), 0.5 + 3]; the old loop gets 0 and the appended one 3.
        let ei = edge_index::<B>(&[(0, 1), (1, 2), (2, 2)], device);
        let w = Tensor::<B, 1>::from_data([2.0, 0.5, 3.0], device);
        let (looped, norm) = gcn_norm(ei, Some(w), 3);
        assert_eq!(
            edges_of(looped),
            vec![(0, 1), (1, 2), (2, 2), (0, 0), (1, 1), (2, 2)]
        );
        let (d1, d2) = (3.0f64, 3.5f64);
        assert_close(
            norm,
            &[
                2.0 / d1.sqrt(),
                0.5 / (d1 * d2).sqrt(),
                0.0,
                1.0,
                1.0 / d1,
                3.0 / d2,
            ],
            1e-6,
            1e-6,
        );
        // Unweighted with a self loop: it keeps weight 1 and is not doubled.
        let (looped, norm) = gcn_norm(edge_index::<B>(&[(0, 0), (0, 1)], device), None, 2);
        let dense = densify(2, looped, norm);
        assert_close(
            gradcheck::tensor::<B, 1>(&dense, [4], device),
            &[1.0, 1.0 / 2f64.sqrt(), 0.0, 0.5],
            1e-6,
            1e-6,
        );

        // Random graph against the host formula, weighted and not.
        let w = weights();
        for weighted in [false, true] {
            let weight = weighted.then(|| gradcheck::tensor::<B, 1>(&w, [EDGES.len()], device));
            let (looped, norm) = gcn_norm(edge_index::<B>(&EDGES, device), weight, N);
            assert_eq!(looped.dims(), [2, EDGES.len() + N]);
            let ones = vec![1.0; EDGES.len()];
            let expected = dense_gcn(N, &EDGES, if weighted { &w } else { &ones });
            assert_close(
                gradcheck::tensor::<B, 1>(&densify(N, looped, norm), [N * N], device),
                &expected,
                1e-6,
                1e-5,
            );
        }

        // E = 0: only self loops, each of norm 1; N = 0: nothing.
        let (looped, norm) = gcn_norm(edge_index::<B>(&[], device), None, 3);
        assert_eq!(edges_of(looped), vec![(0, 0), (1, 1), (2, 2)]);
        assert_close(norm, &[1.0; 3], 0.0, 0.0);
        let (looped, norm) = gcn_norm(edge_index::<B>(&[], device), None, 0);
        assert_eq!((looped.dims(), norm.dims()), ([2, 0], [0]));
    }

    /// `out_i = ⊕_{j → i} w_ji x_j` on the host, 0 where no edge arrives.
    fn aggregate_reference(
        x: &[f64],
        weight: Option<&[f64]>,
        aggregation: Aggregation,
    ) -> Vec<f64> {
        let mut messages: Vec<Vec<Vec<f64>>> = vec![Vec::new(); N];
        for (e, &(s, t)) in EDGES.iter().enumerate() {
            let w = weight.map_or(1.0, |w| w[e]);
            messages[t].push((0..F).map(|f| w * x[s * F + f]).collect());
        }
        messages
            .iter()
            .flat_map(|incoming| {
                (0..F).map(move |f| {
                    let column = incoming.iter().map(|m| m[f]);
                    match (incoming.len(), aggregation) {
                        (0, _) => 0.0,
                        (_, Aggregation::Sum) => column.sum(),
                        (n, Aggregation::Mean) => column.sum::<f64>() / n as f64,
                        (_, Aggregation::Max) => column.fold(f64::NEG_INFINITY, f64::max),
                    }
                })
            })
            .collect()
    }

    fn aggregate_matches_host_reference<B: Backend>(device: &B::Device) {
        let (x, w) = (features(), weights());
        for aggregation in [Aggregation::Sum, Aggregation::Mean, Aggregation::Max] {
            for weighted in [false, true] {
                let weight = weighted.then(|| gradcheck::tensor::<B, 1>(&w, [EDGES.len()], device));
                let out = aggregate(
                    gradcheck::tensor(&x, [N, F], device),
                    edge_index(&EDGES, device),
                    weight,
                    aggregation,
                );
                let expected = aggregate_reference(&x, weighted.then_some(&w[..]), aggregation);
                assert_eq!(out.dims(), [N, F]);
                assert_close(out, &expected, 1e-6, 1e-5);
            }
        }
        // All messages negative: Max must still give 0 (not the -inf padding or a max with 0) to
        // nodes without in-edges, and the true (negative) maximum elsewhere.
        let x: Vec<f64> = features().iter().map(|v| -v.abs() - 0.5).collect();
        let out = aggregate(
            gradcheck::tensor::<B, 2>(&x, [N, F], device),
            edge_index(&EDGES, device),
            None,
            Aggregation::Max,
        );
        assert_close(
            out,
            &aggregate_reference(&x, None, Aggregation::Max),
            1e-6,
            1e-5,
        );
    }

    fn aggregate_handles_empty_graphs<B: Backend>(device: &B::Device) {
        for aggregation in [Aggregation::Sum, Aggregation::Mean, Aggregation::Max] {
            // E = 0.
            let out = aggregate(
                Tensor::<B, 2>::ones([3, 2], device),
                edge_index(&[], device),
                None,
                aggregation,
            );
            assert_close(out, &[0.0; 6], 0.0, 0.0);
            // N = 0.
            let out = aggregate(
                Tensor::<B, 2>::ones([0, 2], device),
                edge_index(&[], device),
                None,
                aggregation,
            );
            assert_eq!(out.dims(), [0, 2]);
            // F = 0.
            let out = aggregate(
                Tensor::<B, 2>::ones([2, 0], device),
                edge_index(&[(0, 1)], device),
                None,
                aggregation,
            );
            assert_eq!(out.dims(), [2, 0]);
        }
    }

    fn aggregate_device_reads<B: Backend>(device: &B::Device) {
        let x = gradcheck::tensor::<B, 2>(&features(), [N, F], device);
        let ei = edge_index::<B>(&EDGES, device);
        for (aggregation, reads) in [
            (Aggregation::Sum, 0),
            (Aggregation::Mean, 0),
            (Aggregation::Max, 1),
        ] {
            let before = host::device_reads();
            let out = aggregate(x.clone(), ei.clone(), None, aggregation);
            assert_eq!(host::device_reads() - before, reads, "{aggregation:?}");
            assert_eq!(out.dims(), [N, F]);
        }
        let before = host::device_reads();
        let (looped, norm) = gcn_norm(ei.clone(), None, N);
        let _ = (
            add_self_loops(ei.clone(), N),
            degree(endpoints(ei.clone()).1, N, None),
        );
        assert_eq!(
            host::device_reads() - before,
            0,
            "gcn_norm, add_self_loops and degree read nothing"
        );
        assert_eq!(
            (looped.dims(), norm.dims()),
            ([2, EDGES.len() + N], [EDGES.len() + N])
        );
    }

    /// Exact ties split the gradient evenly, as PyG's `scatter_reduce(amax)` and as
    /// [`segment_max`] everywhere else.
    fn max_aggregation_splits_the_gradient_among_ties<B: AutodiffBackend>(device: &B::Device) {
        // Nodes 0 and 2 send to node 1; they tie on feature 0, node 0 wins feature 1.
        let x =
            Tensor::<B, 2>::from_data([[1.0, 2.0], [0.0, 0.0], [1.0, -1.0]], device).require_grad();
        let out = aggregate(
            x.clone(),
            edge_index(&[(0, 1), (2, 1)], device),
            None,
            Aggregation::Max,
        );
        let grad = x.grad(&out.sum().backward()).map(host::floats).unwrap();
        assert_eq!(grad, vec![0.5, 1.0, 0.0, 0.0, 0.5, 0.0]);
    }

    crate::autodiff_backend_tests!(max_aggregation_splits_the_gradient_among_ties);

    crate::backend_tests!(
        degree_counts_and_sums_weights,
        self_loops_are_appended_last,
        gcn_norm_matches_pyg,
        aggregate_matches_host_reference,
        aggregate_handles_empty_graphs,
        aggregate_device_reads,
    );

    #[test]
    fn aggregate_and_gcn_norm_gradients_match_finite_differences() {
        let device = gradcheck::device();
        let ei = edge_index::<B64>(&EDGES, &device);
        let x = gradcheck::tensor::<B64, 2>(&features(), [N, F], &device);
        let w = gradcheck::tensor::<B64, 2>(&weights(), [1, EDGES.len()], &device);
        let e = EDGES.len();
        for aggregation in [Aggregation::Sum, Aggregation::Mean, Aggregation::Max] {
            let name = format!("aggregate {aggregation:?}");
            check_gradient(
                &format!("{name} w.r.t. x"),
                &x,
                |x| weighted_sum(aggregate(x, ei.clone(), None, aggregation), 1),
                TOL,
            );
            let weight = w.clone().reshape([e]);
            check_gradient(
                &format!("{name} w.r.t. x, weighted"),
                &x,
                |x| {
                    weighted_sum(
                        aggregate(x, ei.clone(), Some(weight.clone()), aggregation),
                        2,
                    )
                },
                TOL,
            );
            check_gradient(
                &format!("{name} w.r.t. edge weights"),
                &w,
                |w| {
                    weighted_sum(
                        aggregate(x.clone(), ei.clone(), Some(w.reshape([e])), aggregation),
                        3,
                    )
                },
                TOL,
            );
        }
        // With an existing self loop (2 -> 2), whose weight moves to the appended loop.
        let with_loop = edge_index::<B64>(&[(0, 1), (1, 2), (2, 2), (3, 0)], &device);
        let w4 = gradcheck::tensor::<B64, 2>(&[2.0, 0.5, 3.0, 0.7], [1, 4], &device);
        check_gradient(
            "gcn_norm w.r.t. edge weights",
            &w4,
            |w| weighted_sum(gcn_norm(with_loop.clone(), Some(w.reshape([4])), 4).1, 4),
            TOL,
        );
        check_gradient(
            "gcn_norm w.r.t. edge weights",
            &w,
            |w| weighted_sum(gcn_norm(ei.clone(), Some(w.reshape([e])), N).1, 5),
            TOL,
        );
        check_gradient(
            "degree w.r.t. weights",
            &w,
            |w| weighted_sum(degree(endpoints(ei.clone()).1, N, Some(w.reshape([e]))), 6),
            TOL,
        );
    }
}
