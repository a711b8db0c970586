//! [`SegmentBackend`]: the segment operations as a Burn backend extension, with the portable
//! formulation as the default of every method and native kernels where a backend has them.

use burn::tensor::{
    Int, Tensor,
    backend::{AutodiffBackend, Backend},
};

use super::{Segments, portable};

/// A backend with segment operations over consecutive rows (the nodes of each graph of a batch).
///
/// The same pattern as Burn's `burn-vision` (`VisionBackend`): every method has a default, the
/// portable tensor formulation in [`portable`], which is correct on every backend and with every
/// autodiff wrapper; a backend overrides the methods it has a native kernel for. Implemented here:
///
/// | backend | cargo feature of `gnn-core` | kernels |
/// |---|---|---|
/// | `NdArray<E, I, Q>` | `ndarray` | native loops over the storage, in parallel over segments |
/// | `Flex` | `flex` | the same loops |
/// | `CubeBackend<R, ..>` (`Wgpu` without `fusion`, the build this workspace uses) | `wgpu` | CubeCL kernels, no atomics (bit-identical run to run); the broadcast, the gate and the row projection keep their defaults (a gather, a gather and a product, a product and a row sum) |
/// | `Autodiff<B, C>` of any of them | `autodiff` | the inner backend's forward, a hand-written backward |
///
/// Another backend gets every operation with an empty implementation, since the defaults work
/// everywhere:
///
/// ```text
/// impl gnn_core::segment::SegmentBackend for MyBackend {}
/// ```
///
/// (Rust's orphan rule lets that line live in the crate that defines `MyBackend`, or here.)
/// Layers never call these methods directly but the free functions of [`segment`](super), which
/// guard empty inputs first: a method may assume at least one segment and one feature. Sizes
/// come from the host counts of [`Segments`]; no method reads the device.
pub trait SegmentBackend: Backend {
    /// Whether tensors of this backend may be made on one thread and used on another while
    /// other threads compute: the condition for training the shards of a batch on parallel
    /// threads (`gnn_models::train::data_parallel_step`); without it the shards run one after
    /// another on the calling thread, with the same gradients.
    ///
    /// `true` for NdArray and Flex (plain memory). `false` by default, and for CubeCL backends:
    /// Wgpu on lavapipe (Burn 0.21) gave wrong gradients when shards ran on rayon's threads
    /// (scrambled: other entries' values in the wrong places), in 38 of 40 runs of the
    /// `train::parallel` tests with one rayon worker and 2 of 30 with two. A device sync before
    /// and after each shard did not help, and a smaller test (a matmul, our segment sum and
    /// their backward per thread, read on the main thread) did not fail, so the cause, inside
    /// CubeCL's per-thread streams, was not isolated. A GPU runs one shard's kernels in
    /// parallel anyway.
    const PARALLEL_SHARDS: bool = false;

    /// Sum of the rows of each segment: `[n, F] -> [num_segments, F]`.
    fn segment_sum(x: Tensor<Self, 2>, segments: &Segments<Self>) -> Tensor<Self, 2> {
        portable::segment_sum(x, segments)
    }

    /// Mean of the rows of each segment, 0 for an empty segment: `[n, F] -> [num_segments, F]`.
    fn segment_mean(x: Tensor<Self, 2>, segments: &Segments<Self>) -> Tensor<Self, 2> {
        portable::segment_mean(x, segments)
    }

    /// Feature-wise maximum of each segment, 0 for an empty segment:
    /// `[n, F] -> [num_segments, F]`. The gradient goes to the maximal rows, split evenly among
    /// exact ties ([`segment_extremum_backward`](Self::segment_extremum_backward)).
    fn segment_max(x: Tensor<Self, 2>, segments: &Segments<Self>) -> Tensor<Self, 2> {
        portable::segment_max(x, segments)
    }

    /// Feature-wise minimum of each segment, 0 for an empty segment:
    /// `[n, F] -> [num_segments, F]`, with the gradient of [`segment_max`](Self::segment_max).
    fn segment_min(x: Tensor<Self, 2>, segments: &Segments<Self>) -> Tensor<Self, 2> {
        portable::segment_min(x, segments)
    }

    /// The gradient of a segment maximum or minimum: `grad [num_segments, F]` goes to the rows
    /// of `x [n, F]` equal to their segment's `extremum [num_segments, F]`, split evenly among
    /// exact ties (PyG's `scatter_reduce(amax)`), `[n, F]`.
    ///
    /// Autodiff wrappers call it in the backward of [`segment_max`](Self::segment_max) and
    /// [`segment_min`](Self::segment_min). It takes the extremum rather than an arg index:
    /// splitting among ties needs the comparison with every row anyway, and an arg index would
    /// give the whole gradient to one row (not PyG's gradient).
    fn segment_extremum_backward(
        x: Tensor<Self, 2>,
        extremum: Tensor<Self, 2>,
        grad: Tensor<Self, 2>,
        segments: &Segments<Self>,
    ) -> Tensor<Self, 2> {
        portable::segment_extremum_backward(x, extremum, grad, segments)
    }

    /// Every row takes its segment's row of `values`: `[num_segments, F] -> [n, F]` (the
    /// gradient of a segment sum, and the broadcast of a per-segment statistic).
    fn segment_broadcast(values: Tensor<Self, 2>, segments: &Segments<Self>) -> Tensor<Self, 2> {
        portable::segment_broadcast(values, segments)
    }

    /// Rows `perm [k]` of `x [n, F]`, each scaled by its `scale [k]`: `[k, F]` (the reduction
    /// of score-based pooling). `perm` holds ids below `n`, checked by the caller.
    fn gather_scaled(
        x: Tensor<Self, 2>,
        perm: Tensor<Self, 1, Int>,
        scale: Tensor<Self, 1>,
    ) -> Tensor<Self, 2> {
        portable::gather_scaled(x, perm, scale)
    }

    /// The gradient of [`gather_scaled`](Self::gather_scaled) for `grad [k, F]`:
    /// `(∂x [n, F], ∂scale [k])`. Autodiff wrappers call it in the backward.
    fn gather_scaled_backward(
        x: Tensor<Self, 2>,
        perm: Tensor<Self, 1, Int>,
        scale: Tensor<Self, 1>,
        grad: Tensor<Self, 2>,
    ) -> (Tensor<Self, 2>, Tensor<Self, 1>) {
        portable::gather_scaled_backward(x, perm, scale, grad)
    }

    /// Every row of `x [n, F]` dotted with `weight [F]`: `[n]` (the projection that scores the
    /// nodes of TopK pooling).
    fn row_dot(x: Tensor<Self, 2>, weight: Tensor<Self, 1>) -> Tensor<Self, 1> {
        portable::row_dot(x, weight)
    }

    /// The gradient of [`row_dot`](Self::row_dot) for `grad [n]`: `(∂x [n, F], ∂weight [F])`.
    /// Autodiff wrappers call it in the backward.
    fn row_dot_backward(
        x: Tensor<Self, 2>,
        weight: Tensor<Self, 1>,
        grad: Tensor<Self, 1>,
    ) -> (Tensor<Self, 2>, Tensor<Self, 1>) {
        portable::row_dot_backward(x, weight, grad)
    }

    /// The first `kept[s]` rows of each segment `s` by `score [n]` descending, exact ties by
    /// ascending row, NaN first (as PyTorch's descending sort; `-inf` ranks as the lowest finite
    /// `f32`), grouped by segment in ascending order: the selected row ids `[Σ kept]`. Not
    /// differentiable (ids); `kept[s] <= counts[s]`, checked by the caller.
    fn segment_top_k(
        score: Tensor<Self, 1>,
        segments: &Segments<Self>,
        kept: &[usize],
    ) -> Tensor<Self, 1, Int> {
        portable::segment_top_k(score, segments, kept)
    }
}

/// An autodiff backend whose inner backend has the segment operations too: the bound of a
/// training loop, which runs the model on `B` and validates it on `B::InnerBackend`
/// (`burn-train`'s `Learner` needs both).
///
/// Implemented for every such backend; with the `autodiff` feature, `Autodiff<B>` of any
/// [`SegmentBackend`] `B` is one.
pub trait SegmentAutodiffBackend:
    AutodiffBackend<InnerBackend: SegmentBackend> + SegmentBackend
{
}

impl<B> SegmentAutodiffBackend for B
where
    B: AutodiffBackend + SegmentBackend,
    B::InnerBackend: SegmentBackend,
{
}
