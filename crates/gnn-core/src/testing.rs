//! Running one generic test body on every backend this build enables.
//!
//! A test is written once as a generic function, then instantiated per backend:
//!
//! ```ignore
//! fn sums_rows<B: Backend>(device: &B::Device) { /* ... */ }
//! fn sums_gradients<B: AutodiffBackend>(device: &B::Device) { /* ... */ }
//! gnn_core::backend_tests!(sums_rows);
//! gnn_core::autodiff_backend_tests!(sums_gradients);
//! ```
//!
//! Each macro makes one module per backend: `ndarray` (`NdArray<f64>`), `flex` (`Flex`, f32) and,
//! when the calling crate's `wgpu` feature is on, `wgpu` (`Wgpu`, f32, any Vulkan/Metal/DX12
//! device, including Mesa's software Vulkan). So every test runs in both precisions.
//!
//! Why `NdArray<f64>` and not `NdArray<f32>`: Burn 0.21 registers one default float dtype per
//! *device type* per process (`burn_backend::get_device_settings`, keyed by the device's
//! `TypeId`), and `NdArray<f32>` and `NdArray<f64>` share `NdArrayDevice`. Whichever precision
//! creates a tensor first wins, and the other then silently computes in it. A test binary must
//! therefore use `NdArray` at a single precision; float-64 gradient checks need `NdArray<f64>`,
//! so that is the one used here, and `NdArray<f32>` runs in a test binary of its own.

/// Instantiates generic `fn name<B: Backend>(device: &B::Device)` tests for every enabled backend.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod ndarray {
            $( #[test] fn $name() { super::$name::<::burn::backend::NdArray<f64>>(&Default::default()); } )*
        }
        mod flex {
            $( #[test] fn $name() { super::$name::<::burn::backend::Flex>(&Default::default()); } )*
        }
        #[cfg(feature = "wgpu")]
        mod wgpu {
            $( #[test] fn $name() { super::$name::<::burn::backend::Wgpu>(&Default::default()); } )*
        }
    };
}

/// Instantiates generic `fn name<B: AutodiffBackend>(device: &B::Device)` tests for the
/// autodiff version of every enabled backend.
#[macro_export]
macro_rules! autodiff_backend_tests {
    ($($name:ident),* $(,)?) => {
        mod autodiff_ndarray {
            $( #[test] fn $name() {
                super::$name::<::burn::backend::Autodiff<::burn::backend::NdArray<f64>>>(&Default::default());
            } )*
        }
        mod autodiff_flex {
            $( #[test] fn $name() {
                super::$name::<::burn::backend::Autodiff<::burn::backend::Flex>>(&Default::default());
            } )*
        }
        #[cfg(feature = "wgpu")]
        mod autodiff_wgpu {
            $( #[test] fn $name() {
                super::$name::<::burn::backend::Autodiff<::burn::backend::Wgpu>>(&Default::default());
            } )*
        }
    };
}

use burn::tensor::{Tensor, backend::Backend};

/// Asserts that two float tensors have the same shape and agree within `atol + rtol·|expected|`,
/// naming the worst entry when they do not.
#[track_caller]
pub fn assert_close<B: Backend, const D: usize>(
    actual: Tensor<B, D>,
    expected: &[f64],
    atol: f64,
    rtol: f64,
) {
    let actual = crate::host::floats(actual);
    assert_eq!(actual.len(), expected.len(), "number of values");
    let worst = actual
        .iter()
        .zip(expected)
        .enumerate()
        .map(|(i, (a, e))| (i, (a - e).abs() - rtol * e.abs(), *a, *e))
        .fold((0, f64::NEG_INFINITY, 0.0, 0.0), |w, c| {
            if c.1 > w.1 || c.1.is_nan() { c } else { w }
        });
    assert!(
        worst.1 <= atol,
        "entry {}: got {}, expected {} (|diff| beyond atol {atol} + rtol {rtol})",
        worst.0,
        worst.2,
        worst.3
    );
}
