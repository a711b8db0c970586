use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Int, Tensor, backend::Backend};

use super::neighbours_plus_root;
use crate::GraphBatch;
use crate::structure::Aggregation;

/// Configuration of a [`GraphConv`].
#[derive(Config, Debug)]
pub struct GraphConvConfig {
    /// Input features per node.
    pub d_input: usize,
    /// Output features per node.
    pub d_output: usize,
    /// How neighbour messages are combined (PyG's `aggr`, default sum).
    #[config(default = "Aggregation::Sum")]
    pub aggregation: Aggregation,
    /// Bias of the neighbour transform (PyG's `bias`, default true).
    #[config(default = true)]
    pub bias: bool,
}

/// The graph convolution of Morris et al. (k-GNN), PyG's `GraphConv`:
/// `x'_i = W_rel · ⊕_{j → i} e_ji · x_j + b + W_root · x_i`.
#[derive(Module, Debug)]
pub struct GraphConv<B: Backend> {
    /// Transform of the aggregated neighbours (PyG `lin_rel`, with bias).
    pub lin_rel: Linear<B>,
    /// Transform of the node itself (PyG `lin_root`, no bias).
    pub lin_root: Linear<B>,
    #[module(skip)]
    aggregation: Aggregation,
}

impl GraphConvConfig {
    /// Builds the layer with PyTorch's default (Kaiming uniform) initialisation.
    pub fn init<B: Backend>(&self, device: &B::Device) -> GraphConv<B> {
        GraphConv {
            lin_rel: LinearConfig::new(self.d_input, self.d_output)
                .with_bias(self.bias)
                .init(device),
            lin_root: LinearConfig::new(self.d_input, self.d_output)
                .with_bias(false)
                .init(device),
            aggregation: self.aggregation,
        }
    }
}

impl<B: Backend> GraphConv<B> {
    /// - `x`: `[N, d_input]`
    /// - `edge_index`: `[2, E]`, valid node ids
    /// - `edge_weight`: `[E]`, optional
    /// - returns `[N, d_output]`
    ///
    /// Device reads: none, except one with [`Aggregation::Max`].
    pub fn forward(
        &self,
        x: Tensor<B, 2>,
        edge_index: Tensor<B, 2, Int>,
        edge_weight: Option<Tensor<B, 1>>,
    ) -> Tensor<B, 2> {
        neighbours_plus_root(
            &self.lin_rel,
            &self.lin_root,
            x,
            edge_index,
            edge_weight,
            self.aggregation,
        )
    }

    /// The batch with its node features replaced by [`forward`](Self::forward) of them, on the
    /// batch's own edges and edge weights: `[N, d_input] → [N, d_output]`.
    pub fn forward_batch(&self, graphs: GraphBatch<B>) -> GraphBatch<B> {
        super::on_batch(graphs, |x, edge_index, edge_weight| {
            self.forward(x, edge_index, edge_weight)
        })
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Param;

    use super::*;
    use crate::gradcheck::{
        self, B64, EDGES, NODES, TOL, as_2d, check_gradient, edge_index, param, weighted_sum,
    };
    use crate::host;
    use crate::testing::assert_close;

    /// Three nodes, edges 0 -> 1 (weight 2), 2 -> 1 (weight 0.5), 1 -> 0 (weight 1); node 2 has
    /// no in-edge. `W_rel = [[1, 0], [-1, 2]]`, `b = [0.5, -1]`, `W_root = [[2, 1], [0, 1]]`
    /// (rows are inputs, as Burn's `[d_input, d_output]`).
    fn tiny<B: Backend>(aggregation: Aggregation, device: &B::Device) -> Tensor<B, 2> {
        let mut conv = GraphConvConfig::new(2, 2)
            .with_aggregation(aggregation)
            .init::<B>(device);
        conv.lin_rel.weight =
            Param::from_tensor(Tensor::from_data([[1.0, 0.0], [-1.0, 2.0]], device));
        conv.lin_rel.bias = Some(Param::from_tensor(Tensor::from_data([0.5, -1.0], device)));
        conv.lin_root.weight =
            Param::from_tensor(Tensor::from_data([[2.0, 1.0], [0.0, 1.0]], device));
        let x = Tensor::<B, 2>::from_data([[1.0, 2.0], [3.0, -1.0], [0.0, 4.0]], device);
        let weight = Tensor::<B, 1>::from_data([2.0, 0.5, 1.0], device);
        conv.forward(
            x,
            edge_index(&[(0, 1), (2, 1), (1, 0)], device),
            Some(weight),
        )
    }

    fn graph_conv_matches_hand_computed_values<B: Backend>(device: &B::Device) {
        // Sum: agg = [x1, 2 x0 + 0.5 x2, 0] = [[3, -1], [2, 6], [0, 0]];
        // agg W_rel + b = [[4.5, -3], [-3.5, 11], [0.5, -1]]; x W_root = [[2, 3], [6, 2], [0, 4]].
        assert_close(
            tiny::<B>(Aggregation::Sum, device),
            &[6.5, 0.0, 2.5, 13.0, 0.5, 3.0],
            1e-6,
            0.0,
        );
        // Mean: agg1 = [1, 3], agg1 W_rel + b = [-1.5, 5].
        assert_close(
            tiny::<B>(Aggregation::Mean, device),
            &[6.5, 0.0, 4.5, 7.0, 0.5, 3.0],
            1e-6,
            0.0,
        );
        // Max of the weighted messages [2, 4] and [0, 2]: agg1 = [2, 4], agg1 W_rel + b = [-1.5, 7].
        assert_close(
            tiny::<B>(Aggregation::Max, device),
            &[6.5, 0.0, 4.5, 9.0, 0.5, 3.0],
            1e-6,
            0.0,
        );
    }

    fn graph_conv_device_reads<B: Backend>(device: &B::Device) {
        let x = gradcheck::random_2d::<B>([NODES, 3], 1, device);
        let ei = edge_index::<B>(&EDGES, device);
        for (aggregation, reads) in [
            (Aggregation::Sum, 0),
            (Aggregation::Mean, 0),
            (Aggregation::Max, 1),
        ] {
            let conv = GraphConvConfig::new(3, 2)
                .with_aggregation(aggregation)
                .init::<B>(device);
            let before = host::device_reads();
            let out = conv.forward(x.clone(), ei.clone(), None);
            assert_eq!(
                host::device_reads() - before,
                reads,
                "GraphConv {aggregation:?}"
            );
            assert_eq!(out.dims(), [NODES, 2]);
        }
    }

    fn graph_conv_handles_empty_graphs<B: Backend>(device: &B::Device) {
        for aggregation in [Aggregation::Sum, Aggregation::Mean, Aggregation::Max] {
            let conv = GraphConvConfig::new(3, 2)
                .with_aggregation(aggregation)
                .init::<B>(device);
            let out = conv.forward(Tensor::zeros([0, 3], device), edge_index(&[], device), None);
            assert_eq!(out.dims(), [0, 2]);
            // E = 0: only the root term and the bias remain.
            let x = gradcheck::random_2d::<B>([4, 3], 2, device);
            let out = conv.forward(x.clone(), edge_index(&[], device), None);
            let expected = host::floats(
                conv.lin_root.forward(x)
                    + conv.lin_rel.bias.as_ref().unwrap().val().unsqueeze_dim(0),
            );
            assert_close(out, &expected, 1e-6, 1e-6);
        }
    }

    crate::backend_tests!(
        graph_conv_matches_hand_computed_values,
        graph_conv_device_reads,
        graph_conv_handles_empty_graphs
    );

    #[test]
    fn graph_conv_gradients_match_finite_differences() {
        let device = gradcheck::device();
        let ei = edge_index::<B64>(&EDGES, &device);
        let x = gradcheck::random_2d::<B64>([NODES, 3], 3, &device);
        let w = gradcheck::tensor::<B64, 2>(
            &gradcheck::uniform(EDGES.len(), 0.5, 1.5, 4),
            [1, EDGES.len()],
            &device,
        );
        let e = EDGES.len();
        for aggregation in [Aggregation::Sum, Aggregation::Mean, Aggregation::Max] {
            let conv = GraphConvConfig::new(3, 2)
                .with_aggregation(aggregation)
                .init::<B64>(&device);
            let forward = |conv: &GraphConv<B64>, x: Tensor<B64, 2>, w: Tensor<B64, 2>| {
                weighted_sum(conv.forward(x, ei.clone(), Some(w.reshape([e]))), 6)
            };
            let name = |what: &str| format!("GraphConv {aggregation:?} w.r.t. {what}");
            check_gradient(&name("x"), &x, |x| forward(&conv, x, w.clone()), TOL);
            check_gradient(
                &name("edge_weight"),
                &w,
                |w| forward(&conv, x.clone(), w),
                TOL,
            );
            let at = as_2d(conv.lin_rel.weight.val());
            check_gradient(
                &name("lin_rel.weight"),
                &at,
                |v| {
                    let mut conv = conv.clone();
                    conv.lin_rel.weight = param(v, [3, 2]);
                    forward(&conv, x.clone(), w.clone())
                },
                TOL,
            );
            let at = as_2d(conv.lin_rel.bias.as_ref().unwrap().val());
            check_gradient(
                &name("lin_rel.bias"),
                &at,
                |v| {
                    let mut conv = conv.clone();
                    conv.lin_rel.bias = Some(param(v, [2]));
                    forward(&conv, x.clone(), w.clone())
                },
                TOL,
            );
            let at = as_2d(conv.lin_root.weight.val());
            check_gradient(
                &name("lin_root.weight"),
                &at,
                |v| {
                    let mut conv = conv.clone();
                    conv.lin_root.weight = param(v, [3, 2]);
                    forward(&conv, x.clone(), w.clone())
                },
                TOL,
            );
        }
    }
}
