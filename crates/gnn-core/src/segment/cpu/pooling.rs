//! The CPU wrappers of the two steps of score-based pooling, forward and backward: the score
//! projection ([`row_dot`](crate::segment::row_dot)) and the gate
//! ([`gather_scaled`](crate::segment::gather_scaled)).

use burn::tensor::{Int, Tensor, backend::Backend};

use super::{Floats, HostStorage, from_primitive, output, primitive};
use crate::segment::{gather_kernels, portable, project_kernels};

/// The ids of an Int tensor of a CPU backend (a copy in memory, no device involved).
fn ids<B: Backend>(perm: Tensor<B, 1, Int>) -> Vec<i64> {
    perm.into_data().iter::<i64>().collect()
}

pub(super) fn gather_scaled<B: HostStorage>(
    x: Tensor<B, 2>,
    perm: Tensor<B, 1, Int>,
    scale: Tensor<B, 1>,
) -> Tensor<B, 2> {
    let [_, features] = x.dims();
    let device = x.device();
    let ids = ids(perm.clone());
    let shape = [ids.len(), features];
    let (x, scale) = (primitive(x), primitive(scale));
    let native = match (B::floats(&x), B::floats(&scale)) {
        (Some(Floats::F32(x)), Some(Floats::F32(s))) => Some(output(
            gather_kernels::gather_scaled(&x, features, &ids, &s),
            shape,
            &device,
        )),
        (Some(Floats::F64(x)), Some(Floats::F64(s))) => Some(output(
            gather_kernels::gather_scaled(&x, features, &ids, &s),
            shape,
            &device,
        )),
        _ => None,
    };
    native
        .unwrap_or_else(|| portable::gather_scaled(from_primitive(x), perm, from_primitive(scale)))
}

pub(super) fn gather_scaled_backward<B: HostStorage>(
    x: Tensor<B, 2>,
    perm: Tensor<B, 1, Int>,
    scale: Tensor<B, 1>,
    grad: Tensor<B, 2>,
) -> (Tensor<B, 2>, Tensor<B, 1>) {
    let shape = x.dims();
    let device = x.device();
    let ids = ids(perm.clone());
    let k = ids.len();
    let (x, scale, grad) = (primitive(x), primitive(scale), primitive(grad));
    let native = match (B::floats(&x), B::floats(&scale), B::floats(&grad)) {
        (Some(Floats::F32(x)), Some(Floats::F32(s)), Some(Floats::F32(g))) => {
            let (d_x, d_s) = gather_kernels::gather_scaled_backward(&x, shape[1], &ids, &s, &g);
            Some((output(d_x, shape, &device), output(d_s, [k], &device)))
        }
        (Some(Floats::F64(x)), Some(Floats::F64(s)), Some(Floats::F64(g))) => {
            let (d_x, d_s) = gather_kernels::gather_scaled_backward(&x, shape[1], &ids, &s, &g);
            Some((output(d_x, shape, &device), output(d_s, [k], &device)))
        }
        _ => None,
    };
    native.unwrap_or_else(|| {
        portable::gather_scaled_backward(
            from_primitive(x),
            perm,
            from_primitive(scale),
            from_primitive(grad),
        )
    })
}

pub(super) fn row_dot<B: HostStorage>(x: Tensor<B, 2>, weight: Tensor<B, 1>) -> Tensor<B, 1> {
    let [rows, _] = x.dims();
    let device = x.device();
    let (x, weight) = (primitive(x), primitive(weight));
    let native = match (B::floats(&x), B::floats(&weight)) {
        (Some(Floats::F32(x)), Some(Floats::F32(w))) => {
            Some(output(project_kernels::row_dot(&x, &w), [rows], &device))
        }
        (Some(Floats::F64(x)), Some(Floats::F64(w))) => {
            Some(output(project_kernels::row_dot(&x, &w), [rows], &device))
        }
        _ => None,
    };
    native.unwrap_or_else(|| portable::row_dot(from_primitive(x), from_primitive(weight)))
}

pub(super) fn row_dot_backward<B: HostStorage>(
    x: Tensor<B, 2>,
    weight: Tensor<B, 1>,
    grad: Tensor<B, 1>,
) -> (Tensor<B, 2>, Tensor<B, 1>) {
    let shape = x.dims();
    let device = x.device();
    let (x, weight, grad) = (primitive(x), primitive(weight), primitive(grad));
    let native = match (B::floats(&x), B::floats(&weight), B::floats(&grad)) {
        (Some(Floats::F32(x)), Some(Floats::F32(w)), Some(Floats::F32(g))) => {
            let (d_x, d_w) = project_kernels::row_dot_backward(&x, &w, &g);
            Some((
                output(d_x, shape, &device),
                output(d_w, [shape[1]], &device),
            ))
        }
        (Some(Floats::F64(x)), Some(Floats::F64(w)), Some(Floats::F64(g))) => {
            let (d_x, d_w) = project_kernels::row_dot_backward(&x, &w, &g);
            Some((
                output(d_x, shape, &device),
                output(d_w, [shape[1]], &device),
            ))
        }
        _ => None,
    };
    native.unwrap_or_else(|| {
        portable::row_dot_backward(
            from_primitive(x),
            from_primitive(weight),
            from_primitive(grad),
        )
    })
}
