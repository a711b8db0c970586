use burn::tensor::{Int, Tensor, backend::Backend};
use gnn_core::burn_compat::{select_1d, select_add_1d};
use gnn_core::structure::endpoints;
use gnn_core::{GraphBatch, host};

/// The edges that survive a node selection.
#[derive(Debug, Clone)]
pub struct FilteredEdges<B: Backend> {
    /// Surviving edges `[2, E']`, relabelled to the kept nodes' new ids.
    pub edge_index: Tensor<B, 2, Int>,
    /// Edge features of the surviving edges `[E', D]`.
    pub edge_attr: Option<Tensor<B, 2>>,
    /// Edge weights of the surviving edges `[E']`.
    pub edge_weight: Option<Tensor<B, 1>>,
    /// Surviving edges per graph.
    pub edge_counts: Vec<usize>,
}

/// PyG's `FilterEdges`: keeps the edges whose two ends are both kept and renames node
/// `perm[k]` to `k`. Surviving edges keep their original order (not re-sorted, as PyG).
///
/// - `graphs`: the input batch (its edges, edge features and weights are filtered)
/// - `perm`: kept node ids `[K]`
///
/// Device reads: one (which edges survive: the output size depends on the data), none when the
/// batch has no edge.
pub fn filter_edges<B: Backend>(
    graphs: &GraphBatch<B>,
    perm: &Tensor<B, 1, Int>,
) -> FilteredEdges<B> {
    let device = graphs.device();
    let num_edges = graphs.num_edges();
    let kept = perm.dims()[0];
    if num_edges == 0 || kept == 0 {
        return FilteredEdges {
            edge_index: Tensor::zeros([2, 0], &device),
            edge_attr: graphs
                .edge_attr()
                .map(|a| Tensor::zeros([0, a.dims()[1]], &device)),
            edge_weight: graphs.edge_weight().map(|_| Tensor::zeros([0], &device)),
            edge_counts: vec![0; graphs.num_graphs()],
        };
    }
    // new_id + 1 for kept nodes, 0 for dropped ones (select_assign only supports Add).
    let shifted_id = select_add_1d(
        Tensor::<B, 1, Int>::zeros([graphs.num_nodes()], &device),
        perm.clone(),
        Tensor::arange(1..kept as i64 + 1, &device),
    );
    let (source, target) = endpoints(graphs.edge_index().clone());
    let source = select_1d(shifted_id.clone(), source);
    let target = select_1d(shifted_id, target);
    let survives = host::bools(
        source
            .clone()
            .greater_elem(0)
            .bool_and(target.clone().greater_elem(0)),
    );

    let mut surviving = Vec::new();
    let mut edge_counts = Vec::with_capacity(graphs.num_graphs());
    let mut start = 0;
    for &count in graphs.edge_counts() {
        let before = surviving.len();
        surviving.extend((start..start + count).filter(|&e| survives[e]));
        edge_counts.push(surviving.len() - before);
        start += count;
    }
    let index = host::index_tensor::<B>(&surviving, &device);
    let edge_index = if surviving.is_empty() {
        Tensor::zeros([2, 0], &device)
    } else {
        Tensor::stack::<2>(
            vec![
                select_1d(source, index.clone()),
                select_1d(target, index.clone()),
            ],
            0,
        ) - 1
    };
    let nonempty = !surviving.is_empty();
    FilteredEdges {
        edge_index,
        edge_attr: graphs.edge_attr().map(|a| {
            if nonempty {
                a.clone().select(0, index.clone())
            } else {
                Tensor::zeros([0, a.dims()[1]], &device)
            }
        }),
        edge_weight: graphs.edge_weight().map(|w| {
            if nonempty {
                select_1d(w.clone(), index.clone())
            } else {
                Tensor::zeros([0], &device)
            }
        }),
        edge_counts,
    }
}
