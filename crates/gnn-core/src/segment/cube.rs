//! [`SegmentBackend`] for the CubeCL backends (`CubeBackend<R, ..>`: Wgpu without Burn's `fusion`
//! feature, as this workspace builds it): CubeCL kernels, one unit per (segment, feature) or per
//! row, each looping over its own segment's rows in order.
//!
//! No kernel uses atomics and every output element is written by exactly one unit, which reads
//! its inputs in a fixed order: the results are bit-identical run to run (PyG's CUDA scatter is
//! not, PyG issues #7525 and #3175). Burn's own `select_assign`, the portable segment sum,
//! loops over every row in one unit per feature; here a segment's rows are folded by the units of
//! that segment only.
//!
//! Sizes come from the host offsets of [`Segments`], uploaded with each call (a write, never a
//! read). The broadcast and the scaled gather keep the portable defaults, gathers that are
//! already one unit per output element. A very large graph is folded by a single unit per feature; a two-level
//! scheme would spread it over a cube, and is left for when a GPU run shows the need.
//!
//! A build with `fusion` on makes `Wgpu` a `Fusion<CubeBackend<..>>`, which would need its own
//! implementation (a passthrough, as `burn-vision`'s).

use burn::tensor::{Int, Tensor, TensorPrimitive};
use burn_cubecl::{
    BoolElement, CubeBackend, CubeRuntime, FloatElement, IntElement, kernel::into_contiguous,
    ops::numeric::empty_device, tensor::CubeTensor,
};
use cubecl::{CubeCount, CubeDim};

use super::{SegmentBackend, Segments};
use crate::host;
use kernels::{
    segment_extremum_backward_kernel, segment_extremum_kernel, segment_sum_kernel,
    segment_top_k_kernel,
};

/// Units per cube of the launches (one dimension).
const CUBE_UNITS: u32 = 256;

/// The kernels, in CubeCL's dialect of Rust (its `Tensor` and `Int` are not Burn's).
mod kernels {
    use cubecl::prelude::*;

    /// The (segment, feature) of a unit of a per-(segment, feature) kernel, and the segment's
    /// rows `start..end`.
    #[cube]
    fn unit_span<I: Int>(offsets: &Tensor<I>, features: usize) -> (usize, usize, usize, usize) {
        let segment = ABSOLUTE_POS / features;
        let start = usize::cast_from(offsets[segment]);
        let end = usize::cast_from(offsets[segment + 1]);
        (segment, ABSOLUTE_POS % features, start, end)
    }

    /// Sum (or mean) of each segment's rows, one unit per (segment, feature).
    #[cube(launch_unchecked)]
    pub(super) fn segment_sum_kernel<F: Float, I: Int>(
        x: &Tensor<F>,
        offsets: &Tensor<I>,
        out: &mut Tensor<F>,
        #[comptime] mean: bool,
    ) {
        if ABSOLUTE_POS >= out.shape(0) * out.shape(1) {
            terminate!();
        }
        let (segment, feature, start, end) = unit_span::<I>(offsets, out.shape(1));
        let mut total = F::new(0.0);
        for row in start..end {
            total += x[row * x.stride(0) + feature * x.stride(1)];
        }
        if mean && end > start {
            total /= F::cast_from(end - start);
        }
        out[segment * out.stride(0) + feature * out.stride(1)] = total;
    }

    /// Maximum (or minimum) of each segment's rows, one unit per (segment, feature); a NaN wins, as
    /// PyTorch's `amax`; an empty segment gives 0.
    #[cube(launch_unchecked)]
    pub(super) fn segment_extremum_kernel<F: Float, I: Int>(
        x: &Tensor<F>,
        offsets: &Tensor<I>,
        out: &mut Tensor<F>,
        #[comptime] max: bool,
    ) {
        if ABSOLUTE_POS >= out.shape(0) * out.shape(1) {
            terminate!();
        }
        let (segment, feature, start, end) = unit_span::<I>(offsets, out.shape(1));
        let mut best = F::new(0.0);
        if end > start {
            best = x[start * x.stride(0) + feature * x.stride(1)];
        }
        for row in start + 1..end {
            let value = x[row * x.stride(0) + feature * x.stride(1)];
            let better = if max { value > best } else { value < best };
            if better || bool::cast_from(value.is_nan()) {
                best = value;
            }
            // Once NaN, stay NaN: no comparison with NaN is true, and a later NaN keeps it.
        }
        out[segment * out.stride(0) + feature * out.stride(1)] = best;
    }

    /// The gradient of a maximum or minimum, one unit per (segment, feature): counts the rows equal
    /// to the extremum, then gives each its share of the gradient and every other row 0.
    #[cube(launch_unchecked)]
    pub(super) fn segment_extremum_backward_kernel<F: Float, I: Int>(
        x: &Tensor<F>,
        extremum: &Tensor<F>,
        grad: &Tensor<F>,
        offsets: &Tensor<I>,
        out: &mut Tensor<F>,
    ) {
        if ABSOLUTE_POS >= extremum.shape(0) * extremum.shape(1) {
            terminate!();
        }
        let (segment, feature, start, end) = unit_span::<I>(offsets, extremum.shape(1));
        let best = extremum[segment * extremum.stride(0) + feature * extremum.stride(1)];
        // Counted in floats: exact up to 2^24 tied rows.
        let mut ties = F::new(0.0);
        for row in start..end {
            if x[row * x.stride(0) + feature * x.stride(1)] == best {
                ties += F::new(1.0);
            }
        }
        if ties == F::new(0.0) {
            // Only a NaN extremum matches no row; its gradient goes nowhere, as on the CPU.
            ties = F::new(1.0);
        }
        let share = grad[segment * grad.stride(0) + feature * grad.stride(1)] / ties;
        for row in start..end {
            let tied = x[row * x.stride(0) + feature * x.stride(1)] == best;
            out[row * out.stride(0) + feature * out.stride(1)] =
                if tied { share } else { F::new(0.0) };
        }
    }

    /// The sort key of a score: NaN ranks first, tied with `+inf` (PyTorch's descending sort),
    /// and `-inf` as the lowest finite `f32` (as the portable formulation and the CPU kernels).
    /// As a pair (`top`, `value`), since CubeCL 0.10's WGSL has no infinity literal: `top` for NaN
    /// and `+inf` (above every finite value), otherwise the value, clamped to the finite range.
    #[cube]
    fn top_k_key<F: Float>(score: F) -> (bool, F) {
        let top = bool::cast_from(score.is_nan()) || score > F::max_value();
        let mut value = score;
        if top {
            value = F::new(0.0);
        } else if score < F::min_value() {
            value = F::min_value();
        }
        (top, value)
    }

    /// Segmented top-k by rank, one unit per row: a row's rank in its segment is the number of rows
    /// before it in the order (key descending, ties by ascending row); a row of rank below its
    /// segment's `kept` count writes its id at that place. Ranks are distinct, so every output
    /// place is written by exactly one unit.
    #[cube(launch_unchecked)]
    pub(super) fn segment_top_k_kernel<F: Float, I: Int>(
        score: &Tensor<F>,
        segment_ids: &Tensor<I>,
        offsets: &Tensor<I>,
        kept_offsets: &Tensor<I>,
        out: &mut Tensor<I>,
    ) {
        let row = ABSOLUTE_POS;
        if row >= score.shape(0) {
            terminate!();
        }
        let segment = usize::cast_from(segment_ids[row]);
        let start = usize::cast_from(offsets[segment]);
        let end = usize::cast_from(offsets[segment + 1]);
        let first_kept = usize::cast_from(kept_offsets[segment]);
        let kept = usize::cast_from(kept_offsets[segment + 1]) - first_kept;
        let (top, value) = top_k_key::<F>(score[row * score.stride(0)]);
        let mut rank = 0usize;
        for other in start..end {
            let (other_top, other_value) = top_k_key::<F>(score[other * score.stride(0)]);
            let higher = (other_top && !top) || (other_top == top && other_value > value);
            let tied = other_top == top && other_value == value;
            if higher || (tied && other < row) {
                rank += 1;
            }
        }
        if rank < kept {
            out[first_kept + rank] = I::cast_from(row);
        }
    }
}

fn float_primitive<B: burn::tensor::backend::Backend, const D: usize>(
    tensor: Tensor<B, D>,
) -> B::FloatTensorPrimitive {
    tensor.into_primitive().tensor()
}

/// Cubes of [`CUBE_UNITS`] units covering `units` units.
fn launch_shape(units: usize) -> (CubeCount, CubeDim) {
    let cubes = units.div_ceil(CUBE_UNITS as usize).max(1);
    (
        CubeCount::new_1d(u32::try_from(cubes).expect("a launch of fewer than 2^32 cubes")),
        CubeDim::new_1d(CUBE_UNITS),
    )
}

/// The Burn backend of a runtime and its element types.
type Cube<R, F, I, BT> = CubeBackend<R, F, I, BT>;

/// A host index vector on the device, as the backend's int elements.
fn indices<R: CubeRuntime, F: FloatElement, I: IntElement, BT: BoolElement>(
    values: &[usize],
    device: &R::Device,
) -> CubeTensor<R> {
    host::index_tensor::<Cube<R, F, I, BT>>(values, device).into_primitive()
}

/// A kernel over a `[num_segments, F]` output, one unit per element: `launch` gets the launch
/// shape, `x` (contiguous), the segment offsets and the output.
fn per_segment_feature<R: CubeRuntime, F: FloatElement, I: IntElement, BT: BoolElement>(
    x: Tensor<Cube<R, F, I, BT>, 2>,
    segments: &Segments<Cube<R, F, I, BT>>,
    launch: impl FnOnce(CubeCount, CubeDim, CubeTensor<R>, CubeTensor<R>, CubeTensor<R>),
) -> Tensor<Cube<R, F, I, BT>, 2> {
    let [_, features] = x.dims();
    let device = x.device();
    let x = into_contiguous(float_primitive(x));
    let offsets = indices::<R, F, I, BT>(segments.offsets(), &device);
    let shape = [segments.num_segments(), features];
    let out = empty_device::<R, F>(x.client.clone(), device, shape.into());
    let (count, dim) = launch_shape(shape[0] * shape[1]);
    launch(count, dim, x, offsets, out.clone());
    Tensor::from_primitive(TensorPrimitive::Float(out))
}

fn sum<R: CubeRuntime, F: FloatElement, I: IntElement, BT: BoolElement>(
    x: Tensor<Cube<R, F, I, BT>, 2>,
    segments: &Segments<Cube<R, F, I, BT>>,
    mean: bool,
) -> Tensor<Cube<R, F, I, BT>, 2> {
    per_segment_feature(x, segments, |count, dim, x, offsets, out| {
        let client = x.client.clone();
        // SAFETY: every unit checks its position against the output's size, and the offsets
        // (host-built, non-decreasing, ending at the row count) keep every read inside `x`.
        unsafe {
            segment_sum_kernel::launch_unchecked::<F, I, R>(
                &client,
                count,
                dim,
                x.into_tensor_arg(),
                offsets.into_tensor_arg(),
                out.into_tensor_arg(),
                mean,
            )
        }
    })
}

fn extremum<R: CubeRuntime, F: FloatElement, I: IntElement, BT: BoolElement>(
    x: Tensor<Cube<R, F, I, BT>, 2>,
    segments: &Segments<Cube<R, F, I, BT>>,
    max: bool,
) -> Tensor<Cube<R, F, I, BT>, 2> {
    per_segment_feature(x, segments, |count, dim, x, offsets, out| {
        let client = x.client.clone();
        // SAFETY: as in `sum`.
        unsafe {
            segment_extremum_kernel::launch_unchecked::<F, I, R>(
                &client,
                count,
                dim,
                x.into_tensor_arg(),
                offsets.into_tensor_arg(),
                out.into_tensor_arg(),
                max,
            )
        }
    })
}

impl<R, F, I, BT> SegmentBackend for CubeBackend<R, F, I, BT>
where
    R: CubeRuntime,
    F: FloatElement,
    I: IntElement,
    BT: BoolElement,
{
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

    fn segment_extremum_backward(
        x: Tensor<Self, 2>,
        extremum: Tensor<Self, 2>,
        grad: Tensor<Self, 2>,
        segments: &Segments<Self>,
    ) -> Tensor<Self, 2> {
        let [rows, features] = x.dims();
        let device = x.device();
        let x = into_contiguous(float_primitive(x));
        let extremum = into_contiguous(float_primitive(extremum));
        let grad = into_contiguous(float_primitive(grad));
        let offsets = indices::<R, F, I, BT>(segments.offsets(), &device);
        let client = x.client.clone();
        let out = empty_device::<R, F>(client.clone(), device, [rows, features].into());
        let (count, dim) = launch_shape(segments.num_segments() * features);
        // SAFETY: every unit checks its position against the extremum's size; the offsets
        // cover every row exactly once, so every output element is written by one unit.
        unsafe {
            segment_extremum_backward_kernel::launch_unchecked::<F, I, R>(
                &client,
                count,
                dim,
                x.into_tensor_arg(),
                extremum.into_tensor_arg(),
                grad.into_tensor_arg(),
                offsets.into_tensor_arg(),
                out.clone().into_tensor_arg(),
            )
        }
        Tensor::from_primitive(TensorPrimitive::Float(out))
    }

    fn segment_top_k(
        score: Tensor<Self, 1>,
        segments: &Segments<Self>,
        kept: &[usize],
    ) -> Tensor<Self, 1, Int> {
        let [rows] = score.dims();
        let device = score.device();
        let score = into_contiguous(float_primitive(score));
        let offsets = indices::<R, F, I, BT>(segments.offsets(), &device);
        let kept_offsets: Vec<usize> = std::iter::once(0)
            .chain(kept.iter().scan(0, |total, &k| {
                *total += k;
                Some(*total)
            }))
            .collect();
        let total = *kept_offsets.last().unwrap_or(&0);
        let kept_offsets = indices::<R, F, I, BT>(&kept_offsets, &device);
        let segment_ids = into_contiguous(segments.ids().clone().into_primitive());
        let client = score.client.clone();
        let out = empty_device::<R, I>(client.clone(), device, [total].into());
        let (count, dim) = launch_shape(rows);
        // SAFETY: every unit checks its row against the score's size; the caller checked
        // `kept[s] <= counts[s]`, so `first_kept + rank < kept_offsets[s + 1] <= total`.
        unsafe {
            segment_top_k_kernel::launch_unchecked::<F, I, R>(
                &client,
                count,
                dim,
                score.into_tensor_arg(),
                segment_ids.into_tensor_arg(),
                offsets.into_tensor_arg(),
                kept_offsets.into_tensor_arg(),
                out.clone().into_tensor_arg(),
            )
        }
        Tensor::from_primitive(out)
    }
}
