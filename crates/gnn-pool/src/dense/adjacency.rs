use burn::tensor::{Int, Tensor, backend::Backend};
use gnn_core::burn_compat::{reshape, select_1d, zeros_if_element_free};
use gnn_core::segment::scatter_sum;
use gnn_core::structure::endpoints;
use gnn_core::{Segments, host};

/// Dense adjacency of every graph, PyG's `to_dense_adj`: `[G, max_n, max_n]` with entry
/// `[g, source, target]` (local ids) the sum of the weights of the edges between them (1 per
/// edge without weights). Differentiable in the weights; no device read.
///
/// - `edge_index`: `[2, E]` (batch-wide ids), `graphs`: node segments, `edge_weight`: `[E]`
pub fn to_dense_adj<B: Backend>(
    edge_index: Tensor<B, 2, Int>,
    graphs: &Segments<B>,
    edge_weight: Option<Tensor<B, 1>>,
) -> Tensor<B, 3> {
    let device = graphs.device();
    let num_graphs = graphs.num_segments();
    let width = graphs.max_count();
    let num_edges = edge_index.dims()[1];
    if let Some(zeros) = zeros_if_element_free(&[num_edges], [num_graphs, width, width], &device) {
        return zeros;
    }
    let local: Vec<usize> = graphs
        .offsets()
        .windows(2)
        .flat_map(|w| 0..(w[1] - w[0]))
        .collect();
    let local = host::index_tensor::<B>(&local, &device);
    let (source, target) = endpoints(edge_index);
    let graph = select_1d(graphs.ids().clone(), source.clone());
    let flat = (graph * (width as i64) + select_1d(local.clone(), source)) * (width as i64)
        + select_1d(local, target);
    let weight = edge_weight.unwrap_or_else(|| Tensor::ones([num_edges], &device));
    reshape(
        scatter_sum(
            weight.unsqueeze_dim::<2>(1),
            flat,
            num_graphs * width * width,
        ),
        [num_graphs, width, width],
    )
}
