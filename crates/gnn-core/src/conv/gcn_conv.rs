use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Int, Tensor, backend::Backend};

use crate::GraphBatch;
use crate::burn_compat;
use crate::structure::{Aggregation, aggregate, gcn_norm};

/// Configuration of a [`GcnConv`].
#[derive(Config, Debug)]
pub struct GcnConvConfig {
    /// Input features per node.
    pub d_input: usize,
    /// Output features per node.
    pub d_output: usize,
    /// Learnable bias added after propagation (PyG default true, initialised to 0).
    #[config(default = true)]
    pub bias: bool,
}

/// The graph convolution of Kipf & Welling, PyG's `GCNConv` (default settings):
/// `x' = D^-1/2 (A + I) D^-1/2 X W + b`, with edge weights in `A` when given.
#[derive(Module, Debug)]
pub struct GcnConv<B: Backend> {
    /// The feature transform `W` (PyG `lin`, no bias).
    pub lin: Linear<B>,
    /// The bias `[d_output]`.
    pub bias: Option<Param<Tensor<B, 1>>>,
}

impl GcnConvConfig {
    /// Builds the layer: Glorot-like Kaiming uniform weight as PyTorch, zero bias as PyG.
    pub fn init<B: Backend>(&self, device: &B::Device) -> GcnConv<B> {
        GcnConv {
            lin: LinearConfig::new(self.d_input, self.d_output)
                .with_bias(false)
                .init(device),
            bias: self
                .bias
                .then(|| Param::from_tensor(Tensor::zeros([self.d_output], device))),
        }
    }
}

impl<B: Backend> GcnConv<B> {
    /// - `x`: `[N, d_input]`
    /// - `edge_index`: `[2, E]`, valid node ids
    /// - `edge_weight`: `[E]`, optional (1 for every edge when absent)
    /// - returns `[N, d_output]`
    ///
    /// Device reads: none.
    pub fn forward(
        &self,
        x: Tensor<B, 2>,
        edge_index: Tensor<B, 2, Int>,
        edge_weight: Option<Tensor<B, 1>>,
    ) -> Tensor<B, 2> {
        if let Some(empty) = super::no_nodes(&x, &self.lin) {
            return empty;
        }
        let num_nodes = x.dims()[0];
        let (edge_index, norm) = gcn_norm(edge_index, edge_weight, num_nodes);
        let out = aggregate(
            burn_compat::linear(&self.lin, x),
            edge_index,
            Some(norm),
            Aggregation::Sum,
        );
        match &self.bias {
            Some(bias) => out + bias.val().unsqueeze_dim::<2>(0),
            None => out,
        }
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
    use super::*;
    use crate::gradcheck::{
        self, B64, EDGES, NODES, TOL, as_2d, check_gradient, edge_index, param, weighted_sum,
    };
    use crate::host;
    use crate::testing::assert_close;

    /// Edges 0 -> 1, 2 -> 1, 1 -> 0 with `W = [[1, 0], [-1, 2]]` (`[d_input, d_output]`) and
    /// `b = [0.5, -1]`; `h = x W = [[-1, 4], [4, -2], [-4, 8]]`.
    fn tiny<B: Backend>(weight: Option<[f64; 3]>, device: &B::Device) -> Tensor<B, 2> {
        let mut conv = GcnConvConfig::new(2, 2).init::<B>(device);
        conv.lin.weight = Param::from_tensor(Tensor::from_data([[1.0, 0.0], [-1.0, 2.0]], device));
        conv.bias = Some(Param::from_tensor(Tensor::from_data([0.5, -1.0], device)));
        let x = Tensor::<B, 2>::from_data([[1.0, 2.0], [3.0, -1.0], [0.0, 4.0]], device);
        let weight = weight.map(|w| Tensor::<B, 1>::from_data(w, device));
        conv.forward(x, edge_index(&[(0, 1), (2, 1), (1, 0)], device), weight)
    }

    fn gcn_conv_matches_hand_computed_values<B: Backend>(device: &B::Device) {
        let (h0, h1, h2) = ([-1.0, 4.0], [4.0, -2.0], [-4.0, 8.0]);
        let b = [0.5, -1.0];
        let row = |terms: &[(f64, [f64; 2])]| -> [f64; 2] {
            let mut out = b;
            for (scale, h) in terms {
                out[0] += scale * h[0];
                out[1] += scale * h[1];
            }
            out
        };
        // Unweighted, self loops of weight 1: deg = [2, 3, 1].
        let expected = [
            row(&[(1.0 / 6f64.sqrt(), h1), (0.5, h0)]),
            row(&[
                (1.0 / 6f64.sqrt(), h0),
                (1.0 / 3f64.sqrt(), h2),
                (1.0 / 3.0, h1),
            ]),
            row(&[(1.0, h2)]),
        ];
        assert_close(tiny::<B>(None, device), expected.as_flattened(), 1e-5, 1e-6);
        // Weights 2, 0.5, 1: deg = [1 + 1, 2 + 0.5 + 1, 1].
        let expected = [
            row(&[(1.0 / 7f64.sqrt(), h1), (0.5, h0)]),
            row(&[
                (2.0 / 7f64.sqrt(), h0),
                (0.5 / 3.5f64.sqrt(), h2),
                (1.0 / 3.5, h1),
            ]),
            row(&[(1.0, h2)]),
        ];
        assert_close(
            tiny::<B>(Some([2.0, 0.5, 1.0]), device),
            expected.as_flattened(),
            1e-5,
            1e-6,
        );
    }

    fn gcn_conv_reads_nothing_and_handles_empty_graphs<B: Backend>(device: &B::Device) {
        let conv = GcnConvConfig::new(3, 2).init::<B>(device);
        let x = gradcheck::random_2d::<B>([NODES, 3], 1, device);
        let before = host::device_reads();
        let out = conv.forward(x.clone(), edge_index(&EDGES, device), None);
        assert_eq!(host::device_reads() - before, 0);
        assert_eq!(out.dims(), [NODES, 2]);
        assert_eq!(
            conv.forward(Tensor::zeros([0, 3], device), edge_index(&[], device), None)
                .dims(),
            [0, 2]
        );
        // E = 0: every node is its own only neighbour, with norm 1.
        let out = conv.forward(x.clone(), edge_index(&[], device), None);
        assert_close(out, &host::floats(conv.lin.forward(x)), 1e-6, 1e-6);
    }

    crate::backend_tests!(
        gcn_conv_matches_hand_computed_values,
        gcn_conv_reads_nothing_and_handles_empty_graphs
    );

    #[test]
    fn gcn_conv_gradients_match_finite_differences() {
        let device = gradcheck::device();
        let ei = edge_index::<B64>(&EDGES, &device);
        let e = EDGES.len();
        let x = gradcheck::random_2d::<B64>([NODES, 3], 3, &device);
        let w = gradcheck::tensor::<B64, 2>(&gradcheck::uniform(e, 0.5, 1.5, 4), [1, e], &device);
        let mut conv = GcnConvConfig::new(3, 2).init::<B64>(&device);
        // A non-zero bias, so that its gradient is not checked only at the origin.
        conv.bias = Some(param(gradcheck::random_2d([1, 2], 5, &device), [2]));
        for weighted in [false, true] {
            let forward = |conv: &GcnConv<B64>, x: Tensor<B64, 2>, w: Tensor<B64, 2>| {
                let w = w.reshape([e]);
                weighted_sum(conv.forward(x, ei.clone(), weighted.then_some(w)), 6)
            };
            let name = |what: &str| format!("GcnConv (weighted: {weighted}) w.r.t. {what}");
            check_gradient(&name("x"), &x, |x| forward(&conv, x, w.clone()), TOL);
            if weighted {
                check_gradient(
                    &name("edge_weight"),
                    &w,
                    |w| forward(&conv, x.clone(), w),
                    TOL,
                );
            }
            check_gradient(
                &name("lin.weight"),
                &as_2d(conv.lin.weight.val()),
                |v| {
                    let mut conv = conv.clone();
                    conv.lin.weight = param(v, [3, 2]);
                    forward(&conv, x.clone(), w.clone())
                },
                TOL,
            );
            check_gradient(
                &name("bias"),
                &as_2d(conv.bias.as_ref().unwrap().val()),
                |v| {
                    let mut conv = conv.clone();
                    conv.bias = Some(param(v, [2]));
                    forward(&conv, x.clone(), w.clone())
                },
                TOL,
            );
        }
    }
}
