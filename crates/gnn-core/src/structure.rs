//! Graph structure on the device: degrees, self loops, GCN normalisation, neighbourhood
//! aggregation. Inputs are assumed valid (a [`GraphBatch`](crate::GraphBatch) guarantees it).

use burn::tensor::{IndexingUpdateOp, Int, Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

use crate::host;
use crate::segment::scatter_sum;

/// Sources (row 0) and targets (row 1) of an `edge_index` `[2, E]`, each `[E]`.
pub fn endpoints<B: Backend>(edge_index: &Tensor<B, 2, Int>) -> (Tensor<B, 1, Int>, Tensor<B, 1, Int>) {
    let num_edges = edge_index.dims()[1];
    let source = edge_index.clone().narrow(0, 0, 1).reshape([num_edges]);
    let target = edge_index.clone().narrow(0, 1, 1).reshape([num_edges]);
    (source, target)
}

/// Weighted count of the entries of `index` per node: `[E] -> [num_nodes]`
/// (in-degree when `index` is the target row). Without weights every entry counts 1.
pub fn degree<B: Backend>(index: Tensor<B, 1, Int>, num_nodes: usize, weight: Option<Tensor<B, 1>>) -> Tensor<B, 1> {
    let device = index.device();
    let entries = index.dims()[0];
    let zeros = Tensor::zeros([num_nodes], &device);
    if entries == 0 {
        return zeros;
    }
    let weight = weight.unwrap_or_else(|| Tensor::ones([entries], &device));
    zeros.select_assign(0, index, weight, IndexingUpdateOp::Add)
}

/// Appends one self loop per node to `edge_index`: `[2, E] -> [2, E + num_nodes]`, loops last
/// (as PyG's `add_self_loops`).
pub fn add_self_loops<B: Backend>(edge_index: Tensor<B, 2, Int>, num_nodes: usize) -> Tensor<B, 2, Int> {
    let device = edge_index.device();
    let loops = Tensor::<B, 1, Int>::arange(0..num_nodes as i64, &device)
        .unsqueeze_dim::<2>(0)
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
    let (source, target) = endpoints(&edge_index);
    let is_loop = source.clone().equal(target).float();
    let loop_weight = if num_edges == 0 {
        Tensor::ones([num_nodes], &device)
    } else {
        let existing = degree(source.clone(), num_nodes, Some(weight.clone() * is_loop.clone()));
        let has_loop = degree(source, num_nodes, Some(is_loop.clone())).greater_elem(0.0);
        Tensor::ones([num_nodes], &device).mask_where(has_loop, existing)
    };
    let weight = Tensor::cat(vec![weight * (is_loop.neg() + 1.0), loop_weight], 0);
    let edge_index = add_self_loops(edge_index, num_nodes);
    let (source, target) = endpoints(&edge_index);
    let degree = degree(target.clone(), num_nodes, Some(weight.clone()));
    let inverse_sqrt = degree.clone().sqrt().recip().mask_fill(degree.equal_elem(0.0), 0.0);
    let norm = inverse_sqrt.clone().select(0, source) * weight * inverse_sqrt.select(0, target);
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
/// `Sum` and `Mean` make no device read. `Max` reads the largest in-degree (one read): it sorts
/// the edges by target and takes `max_dim` over a padded `[N, max_in_degree, F]` tensor, the
/// formulation that is correct on every backend (see [`segment`](crate::segment)).
pub fn aggregate<B: Backend>(
    x: Tensor<B, 2>,
    edge_index: &Tensor<B, 2, Int>,
    edge_weight: Option<Tensor<B, 1>>,
    aggregation: Aggregation,
) -> Tensor<B, 2> {
    let [num_nodes, features] = x.dims();
    let num_edges = edge_index.dims()[1];
    let device = x.device();
    if num_edges == 0 {
        return Tensor::zeros([num_nodes, features], &device);
    }
    let (source, target) = endpoints(edge_index);
    let mut messages = x.select(0, source);
    if let Some(weight) = edge_weight {
        messages = messages * weight.unsqueeze_dim::<2>(1);
    }
    match aggregation {
        Aggregation::Sum => scatter_sum(messages, target, num_nodes),
        Aggregation::Mean => {
            let count = degree(target.clone(), num_nodes, None).clamp_min(1.0).unsqueeze_dim::<2>(1);
            scatter_sum(messages, target, num_nodes) / count
        }
        Aggregation::Max => max_by_target(messages, target, num_nodes),
    }
}

fn max_by_target<B: Backend>(messages: Tensor<B, 2>, target: Tensor<B, 1, Int>, num_nodes: usize) -> Tensor<B, 2> {
    let [num_edges, features] = messages.dims();
    let device = messages.device();
    let in_degree = degree(target.clone(), num_nodes, None).int();
    let width = host::ints(in_degree.clone().max()).first().copied().unwrap_or(0).max(1) as usize;
    let order = target.clone().argsort(0);
    let sorted_target = target.select(0, order.clone());
    let first_edge = in_degree.clone().cumsum(0) - in_degree.clone();
    let slot = Tensor::<B, 1, Int>::arange(0..num_edges as i64, &device) - first_edge.select(0, sorted_target.clone());
    let dense_index = sorted_target * (width as i64) + slot;
    let dense = scatter_sum(messages.select(0, order), dense_index, num_nodes * width)
        .reshape([num_nodes, width, features]);
    let padding = Tensor::<B, 1, Int>::arange(0..width as i64, &device)
        .unsqueeze_dim::<2>(0)
        .expand([num_nodes, width])
        .greater_equal(in_degree.clone().unsqueeze_dim::<2>(1).expand([num_nodes, width]))
        .unsqueeze_dim::<3>(2)
        .expand([num_nodes, width, features]);
    let max = dense.mask_fill(padding, f64::NEG_INFINITY).max_dim(1).reshape([num_nodes, features]);
    let isolated = in_degree.equal_elem(0).unsqueeze_dim::<2>(1).expand([num_nodes, features]);
    max.mask_fill(isolated, 0.0)
}
