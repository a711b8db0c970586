//! [`SegmentBackend`] for the CPU backends (NdArray, Flex): the kernels of `kernels` run on the
//! tensors' storage, borrowed in place when it is contiguous. A dtype the kernels do not cover
//! (neither `f32` nor `f64`) takes the portable formulation. This file holds the storage access,
//! the segment reductions and the backends' impls; `pooling` the two steps of score-based
//! pooling (the score projection and the gate).

use std::borrow::Cow;

use burn::tensor::{
    Int, Tensor, TensorData, TensorPrimitive,
    backend::{Backend, BackendTypes},
};

use super::{SegmentBackend, Segments, kernels, portable};

mod pooling;

use pooling::{gather_scaled, gather_scaled_backward, row_dot, row_dot_backward};

/// A float tensor's values on the host, row-major.
pub(super) enum Floats<'a> {
    F32(Cow<'a, [f32]>),
    F64(Cow<'a, [f64]>),
}

/// A CPU backend whose float tensors can be read in place.
pub(super) trait HostStorage: Backend {
    /// The values of `tensor` in row-major order; `None` for a dtype other than `f32`/`f64`.
    fn floats(tensor: &<Self as BackendTypes>::FloatTensorPrimitive) -> Option<Floats<'_>>;
}

fn primitive<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> B::FloatTensorPrimitive {
    tensor.into_primitive().tensor()
}

fn from_primitive<B: Backend, const D: usize>(tensor: B::FloatTensorPrimitive) -> Tensor<B, D> {
    Tensor::from_primitive(TensorPrimitive::Float(tensor))
}

/// Uploads a kernel's output (a zero-copy hand-over of the vector on the CPU backends).
fn output<B: Backend, T: burn::tensor::Element, const D: usize>(
    values: Vec<T>,
    shape: [usize; D],
    device: &B::Device,
) -> Tensor<B, D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// Runs `$body` with `$v` bound to the values of one tensor (as `&[f32]` or `&[f64]`), or
/// evaluates `$fallback` when its dtype is neither.
macro_rules! with_floats {
    ($B:ty, $prim:expr, |$v:ident| $body:expr, $fallback:expr) => {{
        let native = match <$B as HostStorage>::floats(&$prim) {
            Some(Floats::F32($v)) => Some($body),
            Some(Floats::F64($v)) => Some($body),
            None => None,
        };
        match native {
            Some(out) => out,
            None => $fallback,
        }
    }};
}

fn sum<B: HostStorage>(x: Tensor<B, 2>, segments: &Segments<B>, mean: bool) -> Tensor<B, 2> {
    let [_, features] = x.dims();
    let device = x.device();
    let shape = [segments.num_segments(), features];
    let x = primitive(x);
    with_floats!(
        B,
        x,
        |v| output(
            kernels::sum(&v, features, segments.offsets(), mean),
            shape,
            &device
        ),
        if mean {
            portable::segment_mean(from_primitive(x), segments)
        } else {
            portable::segment_sum(from_primitive(x), segments)
        }
    )
}

fn extremum<B: HostStorage>(x: Tensor<B, 2>, segments: &Segments<B>, max: bool) -> Tensor<B, 2> {
    let [_, features] = x.dims();
    let device = x.device();
    let shape = [segments.num_segments(), features];
    let x = primitive(x);
    with_floats!(
        B,
        x,
        |v| output(
            kernels::extremum(&v, features, segments.offsets(), max),
            shape,
            &device
        ),
        if max {
            portable::segment_max(from_primitive(x), segments)
        } else {
            portable::segment_min(from_primitive(x), segments)
        }
    )
}

fn extremum_backward<B: HostStorage>(
    x: Tensor<B, 2>,
    extremum: Tensor<B, 2>,
    grad: Tensor<B, 2>,
    segments: &Segments<B>,
) -> Tensor<B, 2> {
    let shape = x.dims();
    let device = x.device();
    let (x, extremum, grad) = (primitive(x), primitive(extremum), primitive(grad));
    let native = match (B::floats(&x), B::floats(&extremum), B::floats(&grad)) {
        (Some(Floats::F32(x)), Some(Floats::F32(e)), Some(Floats::F32(g))) => Some(output(
            kernels::extremum_backward(&x, &e, &g, shape[1], segments.offsets()),
            shape,
            &device,
        )),
        (Some(Floats::F64(x)), Some(Floats::F64(e)), Some(Floats::F64(g))) => Some(output(
            kernels::extremum_backward(&x, &e, &g, shape[1], segments.offsets()),
            shape,
            &device,
        )),
        _ => None,
    };
    native.unwrap_or_else(|| {
        portable::segment_extremum_backward(
            from_primitive(x),
            from_primitive(extremum),
            from_primitive(grad),
            segments,
        )
    })
}

fn broadcast<B: HostStorage>(values: Tensor<B, 2>, segments: &Segments<B>) -> Tensor<B, 2> {
    let [_, features] = values.dims();
    if segments.num_segments() == 1 {
        // One graph: a stride-0 view on the CPU backends, nothing copied.
        return values.expand([segments.num_rows(), features]);
    }
    let device = values.device();
    let shape = [segments.num_rows(), features];
    let values = primitive(values);
    with_floats!(
        B,
        values,
        |v| output(
            kernels::broadcast(&v, features, segments.offsets()),
            shape,
            &device
        ),
        portable::segment_broadcast(from_primitive(values), segments)
    )
}

fn top_k<B: HostStorage>(
    score: Tensor<B, 1>,
    segments: &Segments<B>,
    kept: &[usize],
) -> Tensor<B, 1, Int> {
    let device = score.device();
    let total: usize = kept.iter().sum();
    let score = primitive(score);
    with_floats!(
        B,
        score,
        |v| Tensor::from_data(
            TensorData::new(kernels::top_k(&v, segments.offsets(), kept), [total]),
            &device
        ),
        portable::segment_top_k(from_primitive(score), segments, kept)
    )
}

/// The native [`SegmentBackend`] methods, for a [`HostStorage`] backend.
macro_rules! native_segment_ops {
    () => {
        const PARALLEL_SHARDS: bool = true;

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
            extremum_backward(x, extremum, grad, segments)
        }
        fn segment_broadcast(
            values: Tensor<Self, 2>,
            segments: &Segments<Self>,
        ) -> Tensor<Self, 2> {
            broadcast(values, segments)
        }
        fn segment_top_k(
            score: Tensor<Self, 1>,
            segments: &Segments<Self>,
            kept: &[usize],
        ) -> Tensor<Self, 1, Int> {
            top_k(score, segments, kept)
        }
        fn gather_scaled(
            x: Tensor<Self, 2>,
            perm: Tensor<Self, 1, Int>,
            scale: Tensor<Self, 1>,
        ) -> Tensor<Self, 2> {
            gather_scaled(x, perm, scale)
        }
        fn gather_scaled_backward(
            x: Tensor<Self, 2>,
            perm: Tensor<Self, 1, Int>,
            scale: Tensor<Self, 1>,
            grad: Tensor<Self, 2>,
        ) -> (Tensor<Self, 2>, Tensor<Self, 1>) {
            gather_scaled_backward(x, perm, scale, grad)
        }
        fn row_dot(x: Tensor<Self, 2>, weight: Tensor<Self, 1>) -> Tensor<Self, 1> {
            row_dot(x, weight)
        }
        fn row_dot_backward(
            x: Tensor<Self, 2>,
            weight: Tensor<Self, 1>,
            grad: Tensor<Self, 1>,
        ) -> (Tensor<Self, 2>, Tensor<Self, 1>) {
            row_dot_backward(x, weight, grad)
        }
    };
}

#[cfg(feature = "ndarray")]
mod ndarray {
    use burn::backend::NdArray;
    use burn::backend::ndarray::{
        FloatNdArrayElement, IntNdArrayElement, NdArrayTensor, QuantElement, SharedArray,
    };

    use super::*;

    impl<E: FloatNdArrayElement, I: IntNdArrayElement, Q: QuantElement> HostStorage for NdArray<E, I, Q>
    where
        NdArrayTensor: From<SharedArray<E>> + From<SharedArray<I>>,
    {
        fn floats(tensor: &NdArrayTensor) -> Option<Floats<'_>> {
            match tensor {
                NdArrayTensor::F32(storage) => {
                    let view = storage.view();
                    Some(Floats::F32(match view.to_slice() {
                        Some(slice) => Cow::Borrowed(slice),
                        None => Cow::Owned(view.iter().copied().collect()),
                    }))
                }
                NdArrayTensor::F64(storage) => {
                    let view = storage.view();
                    Some(Floats::F64(match view.to_slice() {
                        Some(slice) => Cow::Borrowed(slice),
                        None => Cow::Owned(view.iter().copied().collect()),
                    }))
                }
                _ => None,
            }
        }
    }

    impl<E: FloatNdArrayElement, I: IntNdArrayElement, Q: QuantElement> SegmentBackend
        for NdArray<E, I, Q>
    where
        NdArrayTensor: From<SharedArray<E>> + From<SharedArray<I>>,
    {
        native_segment_ops!();
    }
}

#[cfg(feature = "flex")]
mod flex {
    use burn::backend::Flex;
    use burn::backend::flex::FlexTensor;
    use burn::tensor::DType;

    use super::*;

    impl HostStorage for Flex {
        fn floats(tensor: &FlexTensor) -> Option<Floats<'_>> {
            match tensor.dtype() {
                DType::F32 => Some(Floats::F32(match tensor.as_slice::<f32>() {
                    Some(slice) => Cow::Borrowed(slice),
                    None => Cow::Owned(tensor.to_contiguous().as_slice::<f32>()?.to_vec()),
                })),
                DType::F64 => Some(Floats::F64(match tensor.as_slice::<f64>() {
                    Some(slice) => Cow::Borrowed(slice),
                    None => Cow::Owned(tensor.to_contiguous().as_slice::<f64>()?.to_vec()),
                })),
                _ => None,
            }
        }
    }

    impl SegmentBackend for Flex {
        native_segment_ops!();
    }
}
