//! Building tensors from fixture arrays, loading PyTorch `Linear` weights into Burn modules, and
//! the fixture's shared input as tensors ([`Inputs`]).

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor, TensorData};
use gnn_core::GraphBatch;

use crate::Result;
use crate::fixture::{Array, Input, IntArray};

/// A float tensor of rank `D` from an array (missing trailing dimensions are 1).
pub(crate) fn float_tensor<B: AutodiffBackend, const D: usize>(
    a: &Array,
    device: &B::Device,
) -> Tensor<B, D> {
    let mut shape = a.shape.clone();
    shape.resize(D, 1);
    Tensor::from_data(TensorData::new(a.values.clone(), shape), device)
}

/// An integer tensor of rank `D` from an array (missing trailing dimensions are 1).
pub(crate) fn int_tensor<B: AutodiffBackend, const D: usize>(
    a: &IntArray,
    device: &B::Device,
) -> Tensor<B, D, Int> {
    let mut shape = a.shape.clone();
    shape.resize(D, 1);
    Tensor::from_data(TensorData::new(a.values.clone(), shape), device)
}

/// A parameter holding the array as it is (PyG's layout).
pub(crate) fn param<B: AutodiffBackend, const D: usize>(
    a: &Array,
    device: &B::Device,
) -> Param<Tensor<B, D>> {
    Param::from_tensor(float_tensor(a, device))
}

/// Sets a Burn `Linear` from PyTorch's `weight [out][in]` and optional `bias [out]`.
pub(crate) fn set_linear<B: AutodiffBackend>(
    linear: &mut Linear<B>,
    weight: &Array,
    bias: Option<&Array>,
    device: &B::Device,
) {
    let w: Tensor<B, 2> = float_tensor(weight, device);
    linear.weight = Param::from_tensor(w.transpose());
    linear.bias = bias.map(|b| param::<B, 1>(b, device));
}

/// The shared input of a fixture as tensors on one device (float inputs require gradients).
pub(crate) struct Inputs<B: AutodiffBackend> {
    /// Node features `[N, F]`.
    pub x: Tensor<B, 2>,
    pub edge_index: Tensor<B, 2, Int>,
    pub batch: Tensor<B, 1, Int>,
    pub edge_weight: Option<Tensor<B, 1>>,
    pub edge_attr: Option<Tensor<B, 2>>,
    pub cluster: Option<Vec<i64>>,
    pub y: Option<Tensor<B, 1, Int>>,
}

impl<B: AutodiffBackend> Inputs<B> {
    /// Fresh tensors (fresh gradient leaves) for the input.
    pub fn new(input: &Input, device: &B::Device) -> Self {
        Self {
            x: float_tensor::<B, 2>(&input.x, device).require_grad(),
            edge_index: int_tensor(&input.edge_index, device),
            batch: int_tensor(&input.batch, device),
            edge_weight: input
                .edge_weight
                .as_ref()
                .map(|a| float_tensor::<B, 1>(a, device).require_grad()),
            edge_attr: input
                .edge_attr
                .as_ref()
                .map(|a| float_tensor::<B, 2>(a, device).require_grad()),
            cluster: input.cluster.as_ref().map(|a| a.values.clone()),
            y: input.y.as_ref().map(|a| int_tensor(a, device)),
        }
    }

    /// The number of input features.
    pub fn features(&self) -> usize {
        self.x.dims()[1]
    }

    /// The batch with the optional inputs the op `uses` (schema 2), or none (schema 1).
    pub fn graphs(&self, uses: &[String]) -> Result<GraphBatch<B>> {
        let mut graphs =
            GraphBatch::from_tensors(self.x.clone(), self.edge_index.clone(), self.batch.clone())?;
        let used = |name: &str| uses.iter().any(|u| u == name);
        if let (true, Some(w)) = (used("edge_weight"), &self.edge_weight) {
            graphs = graphs.with_edge_weight(w.clone())?;
        }
        if let (true, Some(a)) = (used("edge_attr"), &self.edge_attr) {
            graphs = graphs.with_edge_attr(a.clone())?;
        }
        if let (true, Some(y)) = (used("y"), &self.y) {
            graphs = graphs.with_y(y.clone())?;
        }
        Ok(graphs)
    }
}
