//! [`SegmentBackend`] for `Autodiff<B>`: the inner backend's kernels forward, and a backward
//! written by hand (one inner kernel per operation, no autodiff bookkeeping of the portable
//! formulation's dozen small operations).

use burn::backend::Autodiff;
use burn::backend::autodiff::{
    NodeId,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind, unary},
};
use burn::tensor::{
    Int, Tensor, TensorData, TensorPrimitive,
    backend::{Backend, BackendTypes},
};

use super::{SegmentBackend, Segments};
use crate::burn_compat::reshape;

/// `burn_autodiff`'s tensor primitive, whose type is not exported under its name.
type AutodiffTensor<B> = <Autodiff<B> as BackendTypes>::FloatTensorPrimitive;

/// The segments on the inner backend (Int tensors are not tracked: the same primitive).
fn inner_segments<B: Backend, C: CheckpointStrategy>(
    segments: &Segments<Autodiff<B, C>>,
) -> Segments<B> {
    Segments {
        ids: Tensor::from_primitive(segments.ids.clone().into_primitive()),
        counts: segments.counts.clone(),
        offsets: segments.offsets.clone(),
    }
}

fn tracked<B: Backend, C: CheckpointStrategy, const D: usize>(
    tensor: Tensor<Autodiff<B, C>, D>,
) -> AutodiffTensor<B> {
    tensor.into_primitive().tensor()
}

fn inner<B: Backend, const D: usize>(tensor: B::FloatTensorPrimitive) -> Tensor<B, D> {
    Tensor::from_primitive(TensorPrimitive::Float(tensor))
}

fn wrap<B: Backend, C: CheckpointStrategy, const D: usize>(
    tensor: AutodiffTensor<B>,
) -> Tensor<Autodiff<B, C>, D> {
    Tensor::from_primitive(TensorPrimitive::Float(tensor))
}

/// `1 / count` of every segment `[num_segments, 1]`, in the backend's precision (empty: 1).
fn counts<B: Backend>(segments: &Segments<B>, device: &B::Device) -> Tensor<B, 2> {
    let counts: Vec<f64> = segments.counts.iter().map(|&c| c.max(1) as f64).collect();
    let len = counts.len();
    reshape(
        Tensor::<B, 1>::from_data(TensorData::new(counts, [len]), device),
        [len, 1],
    )
}

/// Backward of a segment sum or mean: the gradient of each segment goes to each of its rows.
#[derive(Debug)]
struct SumBackward;

impl<B: SegmentBackend> Backward<B, 1> for SumBackward {
    /// The segments, and whether the forward was a mean.
    type State = (Segments<B>, bool);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (segments, mean) = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| {
            let grad = inner::<B, 2>(grad);
            let grad = if mean {
                let device = grad.device();
                grad / counts(&segments, &device)
            } else {
                grad
            };
            B::segment_broadcast(grad, &segments)
                .into_primitive()
                .tensor()
        });
    }
}

/// Backward of a segment maximum or minimum: to the extremal rows, split among exact ties.
#[derive(Debug)]
struct ExtremumBackward;

impl<B: SegmentBackend> Backward<B, 1> for ExtremumBackward {
    /// The input, the output and the segments.
    type State = (
        B::FloatTensorPrimitive,
        B::FloatTensorPrimitive,
        Segments<B>,
    );

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (x, extremum, segments) = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| {
            B::segment_extremum_backward(inner(x), inner(extremum), inner(grad), &segments)
                .into_primitive()
                .tensor()
        });
    }
}

/// Backward of a segment broadcast: the segment sum of the rows' gradients.
#[derive(Debug)]
struct BroadcastBackward;

impl<B: SegmentBackend> Backward<B, 1> for BroadcastBackward {
    type State = Segments<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let segments = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| {
            B::segment_sum(inner(grad), &segments)
                .into_primitive()
                .tensor()
        });
    }
}

fn sum<B: SegmentBackend, C: CheckpointStrategy>(
    x: Tensor<Autodiff<B, C>, 2>,
    segments: &Segments<Autodiff<B, C>>,
    mean: bool,
) -> Tensor<Autodiff<B, C>, 2> {
    let x = tracked(x);
    let segments = inner_segments(segments);
    let forward = |x: B::FloatTensorPrimitive, segments: &Segments<B>| {
        let x = inner(x);
        let out = if mean {
            B::segment_mean(x, segments)
        } else {
            B::segment_sum(x, segments)
        };
        out.into_primitive().tensor()
    };
    let out = match SumBackward
        .prepare::<C>([x.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let out = forward(x.primitive, &segments);
            prep.finish((segments, mean), out)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(x.primitive, &segments)),
    };
    wrap(out)
}

fn extremum<B: SegmentBackend, C: CheckpointStrategy>(
    x: Tensor<Autodiff<B, C>, 2>,
    segments: &Segments<Autodiff<B, C>>,
    max: bool,
) -> Tensor<Autodiff<B, C>, 2> {
    let x = tracked(x);
    let segments = inner_segments(segments);
    let forward = |x: B::FloatTensorPrimitive, segments: &Segments<B>| {
        let x = inner(x);
        let out = if max {
            B::segment_max(x, segments)
        } else {
            B::segment_min(x, segments)
        };
        out.into_primitive().tensor()
    };
    let out = match ExtremumBackward
        .prepare::<C>([x.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let out = forward(x.primitive.clone(), &segments);
            prep.finish((x.primitive, out.clone(), segments), out)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(x.primitive, &segments)),
    };
    wrap(out)
}

fn broadcast<B: SegmentBackend, C: CheckpointStrategy>(
    values: Tensor<Autodiff<B, C>, 2>,
    segments: &Segments<Autodiff<B, C>>,
) -> Tensor<Autodiff<B, C>, 2> {
    let values = tracked(values);
    let segments = inner_segments(segments);
    let forward = |values: B::FloatTensorPrimitive, segments: &Segments<B>| {
        B::segment_broadcast(inner(values), segments)
            .into_primitive()
            .tensor()
    };
    let out = match BroadcastBackward
        .prepare::<C>([values.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let out = forward(values.primitive, &segments);
            prep.finish(segments, out)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(values.primitive, &segments)),
    };
    wrap(out)
}

/// Hands the two gradients of a two-input operation to the inputs that are tracked.
fn register_both<B: Backend, const D1: usize, const D2: usize>(
    grads: &mut Gradients,
    inputs: [Option<NodeId>; 2],
    (first, second): (Tensor<B, D1>, Tensor<B, D2>),
) {
    if let Some(id) = inputs[0] {
        grads.register::<B>(id, first.into_primitive().tensor());
    }
    if let Some(id) = inputs[1] {
        grads.register::<B>(id, second.into_primitive().tensor());
    }
}

/// Backward of a scaled gather: one inner kernel gives both gradients.
#[derive(Debug)]
struct GatherScaledBackward;

impl<B: SegmentBackend> Backward<B, 2> for GatherScaledBackward {
    /// The rows, the ids and the scales of the forward.
    type State = (
        B::FloatTensorPrimitive,
        B::IntTensorPrimitive,
        B::FloatTensorPrimitive,
    );

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (x, perm, scale) = ops.state;
        let grad = grads.consume::<B>(&ops.node);
        let gradients = B::gather_scaled_backward(
            inner(x),
            Tensor::from_primitive(perm),
            inner(scale),
            inner(grad),
        );
        register_both::<B, 2, 1>(grads, ops.parents.map(|p| p.map(|n| n.id)), gradients);
    }
}

fn gather_scaled<B: SegmentBackend, C: CheckpointStrategy>(
    x: Tensor<Autodiff<B, C>, 2>,
    perm: Tensor<Autodiff<B, C>, 1, Int>,
    scale: Tensor<Autodiff<B, C>, 1>,
) -> Tensor<Autodiff<B, C>, 2> {
    let (x, scale) = (tracked(x), tracked(scale));
    let perm: B::IntTensorPrimitive = perm.into_primitive();
    let forward = |x: B::FloatTensorPrimitive, perm: B::IntTensorPrimitive, scale| {
        B::gather_scaled(inner(x), Tensor::from_primitive(perm), inner(scale))
            .into_primitive()
            .tensor()
    };
    let out = match GatherScaledBackward
        .prepare::<C>([x.node.clone(), scale.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let out = forward(x.primitive.clone(), perm.clone(), scale.primitive.clone());
            prep.finish((x.primitive, perm, scale.primitive), out)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(x.primitive, perm, scale.primitive)),
    };
    wrap(out)
}

/// Backward of [`SegmentBackend::row_dot`]: both gradients from one inner kernel.
#[derive(Debug)]
struct RowDotBackward;

impl<B: SegmentBackend> Backward<B, 2> for RowDotBackward {
    /// The rows and the weight of the forward.
    type State = (B::FloatTensorPrimitive, B::FloatTensorPrimitive);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (x, weight) = ops.state;
        let grad = grads.consume::<B>(&ops.node);
        let gradients = B::row_dot_backward(inner(x), inner(weight), inner(grad));
        register_both::<B, 2, 1>(grads, ops.parents.map(|p| p.map(|n| n.id)), gradients);
    }
}

fn row_dot<B: SegmentBackend, C: CheckpointStrategy>(
    x: Tensor<Autodiff<B, C>, 2>,
    weight: Tensor<Autodiff<B, C>, 1>,
) -> Tensor<Autodiff<B, C>, 1> {
    let (x, weight) = (tracked(x), tracked(weight));
    let forward = |x: B::FloatTensorPrimitive, weight: B::FloatTensorPrimitive| {
        B::row_dot(inner(x), inner(weight))
            .into_primitive()
            .tensor()
    };
    let out = match RowDotBackward
        .prepare::<C>([x.node.clone(), weight.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let out = forward(x.primitive.clone(), weight.primitive.clone());
            prep.finish((x.primitive, weight.primitive), out)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(x.primitive, weight.primitive)),
    };
    wrap(out)
}

impl<B: SegmentBackend, C: CheckpointStrategy> SegmentBackend for Autodiff<B, C> {
    const PARALLEL_SHARDS: bool = B::PARALLEL_SHARDS;

    fn segment_sum(x: Tensor<Self, 2>, segments: &Segments<Self>) -> Tensor<Self, 2> {
        sum(x, segments, false)
    }

    fn segment_mean(x: Tensor<Self, 2>, segments: &Segments<Self>) -> Tensor<Self, 2> {
        sum(x, segments, true)
    }

    fn segment_max(x: Tensor<Self, 2>, segments: &Segments<Self>) -> Tensor<Self, 2> {
        extremum(x, segments, true)
    }

    fn segment_min(x: Tensor<Self, 2>, segments: &Segments<Self>) -> Tensor<Self, 2> {
        extremum(x, segments, false)
    }

    fn segment_broadcast(values: Tensor<Self, 2>, segments: &Segments<Self>) -> Tensor<Self, 2> {
        broadcast(values, segments)
    }

    fn segment_top_k(
        score: Tensor<Self, 1>,
        segments: &Segments<Self>,
        kept: &[usize],
    ) -> Tensor<Self, 1, Int> {
        let score = inner::<B, 1>(tracked(score).primitive);
        let perm = B::segment_top_k(score, &inner_segments(segments), kept);
        Tensor::from_primitive(perm.into_primitive())
    }

    fn gather_scaled(
        x: Tensor<Self, 2>,
        perm: Tensor<Self, 1, Int>,
        scale: Tensor<Self, 1>,
    ) -> Tensor<Self, 2> {
        gather_scaled(x, perm, scale)
    }

    fn row_dot(x: Tensor<Self, 2>, weight: Tensor<Self, 1>) -> Tensor<Self, 1> {
        row_dot(x, weight)
    }
}
