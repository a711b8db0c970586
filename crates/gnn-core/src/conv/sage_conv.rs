use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Int, Tensor, backend::Backend};

use super::neighbours_plus_root;
use crate::GraphBatch;
use crate::structure::Aggregation;

/// Configuration of a [`SageConv`].
#[derive(Config, Debug)]
pub struct SageConvConfig {
    /// Input features per node.
    pub d_input: usize,
    /// Output features per node.
    pub d_output: usize,
    /// Neighbour aggregation (PyG default mean).
    #[config(default = "Aggregation::Mean")]
    pub aggregation: Aggregation,
}

/// GraphSAGE of Hamilton et al., PyG's `SAGEConv` (default settings):
/// `x'_i = W_l · mean_{j → i} x_j + b + W_r · x_i`.
#[derive(Module, Debug)]
pub struct SageConv<B: Backend> {
    /// Transform of the aggregated neighbours (PyG `lin_l`, with bias).
    pub lin_l: Linear<B>,
    /// Transform of the node itself (PyG `lin_r`, no bias).
    pub lin_r: Linear<B>,
    #[module(skip)]
    aggregation: Aggregation,
}

impl SageConvConfig {
    /// Builds the layer.
    pub fn init<B: Backend>(&self, device: &B::Device) -> SageConv<B> {
        SageConv {
            lin_l: LinearConfig::new(self.d_input, self.d_output).init(device),
            lin_r: LinearConfig::new(self.d_input, self.d_output)
                .with_bias(false)
                .init(device),
            aggregation: self.aggregation,
        }
    }
}

impl<B: Backend> SageConv<B> {
    /// - `x`: `[N, d_input]`
    /// - `edge_index`: `[2, E]`, valid node ids
    /// - `edge_weight`: `[E]`, optional (PyG's SAGEConv takes none; here they scale messages)
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
            &self.lin_l,
            &self.lin_r,
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

    fn sage_conv_matches_hand_computed_values<B: Backend>(device: &B::Device) {
        // Edges 0 -> 1, 2 -> 1, 1 -> 0; node 2 has no in-edge, so its mean is 0.
        // mean = [x1, (x0 + x2) / 2, 0] = [[3, -1], [0.5, 3], [0, 0]].
        let mut conv = SageConvConfig::new(2, 1).init::<B>(device);
        conv.lin_l.weight = Param::from_tensor(Tensor::from_data([[1.0], [2.0]], device));
        conv.lin_l.bias = Some(Param::from_tensor(Tensor::from_data([0.5], device)));
        conv.lin_r.weight = Param::from_tensor(Tensor::from_data([[-1.0], [1.0]], device));
        let x = Tensor::<B, 2>::from_data([[1.0, 2.0], [3.0, -1.0], [0.0, 4.0]], device);
        let before = host::device_reads();
        let out = conv.forward(x, edge_index(&[(0, 1), (2, 1), (1, 0)], device), None);
        assert_eq!(host::device_reads() - before, 0);
        // lin_l(mean) = [1.5, 7, 0.5]; lin_r(x) = [1, -4, 4].
        assert_close(out, &[2.5, 3.0, 4.5], 1e-6, 0.0);
        assert_eq!(
            conv.forward(Tensor::zeros([0, 2], device), edge_index(&[], device), None)
                .dims(),
            [0, 1]
        );
    }

    crate::backend_tests!(sage_conv_matches_hand_computed_values);

    #[test]
    fn sage_conv_gradients_match_finite_differences() {
        let device = gradcheck::device();
        let ei = edge_index::<B64>(&EDGES, &device);
        let x = gradcheck::random_2d::<B64>([NODES, 3], 3, &device);
        let conv = SageConvConfig::new(3, 2).init::<B64>(&device);
        let forward = |conv: &SageConv<B64>, x: Tensor<B64, 2>| {
            weighted_sum(conv.forward(x, ei.clone(), None), 6)
        };
        check_gradient("SageConv w.r.t. x", &x, |x| forward(&conv, x), TOL);
        check_gradient(
            "SageConv w.r.t. lin_l.weight",
            &as_2d(conv.lin_l.weight.val()),
            |v| {
                let mut conv = conv.clone();
                conv.lin_l.weight = param(v, [3, 2]);
                forward(&conv, x.clone())
            },
            TOL,
        );
        check_gradient(
            "SageConv w.r.t. lin_l.bias",
            &as_2d(conv.lin_l.bias.as_ref().unwrap().val()),
            |v| {
                let mut conv = conv.clone();
                conv.lin_l.bias = Some(param(v, [2]));
                forward(&conv, x.clone())
            },
            TOL,
        );
        check_gradient(
            "SageConv w.r.t. lin_r.weight",
            &as_2d(conv.lin_r.weight.val()),
            |v| {
                let mut conv = conv.clone();
                conv.lin_r.weight = param(v, [3, 2]);
                forward(&conv, x.clone())
            },
            TOL,
        );
    }
}
