//! `NdArray<f32>` in a process of its own: Burn 0.21 registers one float dtype per device type
//! per process, so `NdArray<f32>` cannot share a test binary with the `NdArray<f64>` tests
//! (see `gnn_core::testing`).

mod common;

use burn::backend::{Autodiff, NdArray};

#[test]
fn float32_ndarray_matches_pyg() {
    common::check_all::<Autodiff<NdArray<f32>>>(
        gnn_parity::TOLERANCE_F32,
        &common::NOT_DEFINED_IN_FLOAT32,
    );
}
