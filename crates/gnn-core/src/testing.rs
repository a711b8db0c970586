//! Running one generic test body on every backend this build enables, and fuzzing the
//! boundaries where data enters ([`fuzz`](mod@fuzz): bounded property tests over arbitrary inputs).
//!
//! A test is written once as a generic function, then instantiated per backend:
//!
//! ```text
//! fn sums_rows<B: Backend>(device: &B::Device) { /* ... */ }
//! fn sums_gradients<B: AutodiffBackend>(device: &B::Device) { /* ... */ }
//! gnn_core::backend_tests!(sums_rows);
//! gnn_core::autodiff_backend_tests!(sums_gradients);
//! ```
//!
//! Each macro makes one module per backend: `ndarray` (`NdArray<f64>`), `flex` (`Flex`, f32) and,
//! when the calling crate's `test-wgpu` feature is on, `wgpu` (`Wgpu`, f32, any Vulkan/Metal/DX12
//! device, including Mesa's software Vulkan). So every test runs in both precisions.
//!
//! Why `NdArray<f64>` and not `NdArray<f32>`: Burn 0.21 registers one default float dtype per
//! *device type* per process (`burn_backend::get_device_settings`, keyed by the device's
//! `TypeId`), and `NdArray<f32>` and `NdArray<f64>` share `NdArrayDevice`. Whichever precision
//! creates a tensor first wins, and the other then silently computes in it. A test binary must
//! therefore use `NdArray` at a single precision; float-64 gradient checks need `NdArray<f64>`,
//! so that is the one used here, and `NdArray<f32>` runs in a test binary of its own.
//!
//! The `wgpu` tests of a test binary run one at a time ([`wgpu_test_lock`]), while the CPU
//! backends' tests run beside them.

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
        #[cfg(feature = "test-wgpu")]
        mod wgpu {
            $( #[test] fn $name() {
                let _one_at_a_time = $crate::testing::wgpu_test_lock();
                super::$name::<::burn::backend::Wgpu>(&Default::default());
            } )*
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
        #[cfg(feature = "test-wgpu")]
        mod autodiff_wgpu {
            $( #[test] fn $name() {
                let _one_at_a_time = $crate::testing::wgpu_test_lock();
                super::$name::<::burn::backend::Autodiff<::burn::backend::Wgpu>>(&Default::default());
            } )*
        }
    };
}

pub mod fuzz;

/// Held by every `wgpu` test of [`backend_tests!`] and [`autodiff_backend_tests!`] for its whole
/// body, so that a test binary's Wgpu tests run one at a time.
///
/// Why: with cargo's parallel test threads, Wgpu tests (lavapipe) failed now and then, each time
/// a different test: a sharded training step's gradients (traced to tensors used across threads,
/// see `SegmentBackend::PARALLEL_SHARDS`), and once a model's first-layer gradient that was zero
/// or not finite in three initialisations (not seen again in 28 reruns of its test binary).
/// CubeCL gives every thread its own stream on the one device,
/// and Wgpu tests also share the backend's seeded random generator, so tests running side by side
/// change each other's draws. One at a time, each test has the device and the generator to itself.
/// A test that panics poisons the lock; the next test takes it anyway.
pub fn wgpu_test_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub use fuzz::{FuzzReport, Outcome, fuzz, fuzz_cases};

use burn::backend::{Autodiff, NdArray};
use burn::tensor::{Tensor, TensorData, backend::Backend};

use crate::Graph;

/// The float-64 autodiff backend of gradient checks (`Flex` and `Wgpu` are float-32 only).
pub type F64Backend = Autodiff<NdArray<f64>>;
type B64 = F64Backend;

/// Step of the central differences in [`check_gradient`].
pub const FD_STEP: f64 = 1e-6;

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

fn scalar(t: Tensor<B64, 1>) -> f64 {
    assert_eq!(t.dims(), [1], "the loss must be a scalar");
    t.into_data().iter::<f64>().next().expect("one value")
}

/// Checks the autodiff gradient of `loss` at `at` against central finite differences (step
/// [`FD_STEP`]): every entry must satisfy `|autodiff − fd| <= tol · (1 + |fd|)`. Returns the autodiff
/// gradient (zeros when `loss` does not depend on its argument).
///
/// `loss` is called once on a tracked copy of `at` (for the autodiff gradient) and twice per
/// entry on untracked perturbed copies. To check a parameter of a module, let `loss` put its
/// argument into a clone of the module (`Param::from_tensor`), reshaping it as needed.
#[track_caller]
pub fn check_gradient(
    what: &str,
    at: &Tensor<B64, 2>,
    loss: impl Fn(Tensor<B64, 2>) -> Tensor<B64, 1>,
    tol: f64,
) -> Vec<f64> {
    let shape = at.dims();
    let values: Vec<f64> = at.to_data().iter::<f64>().collect();
    let dev = Default::default();
    let tracked =
        Tensor::<B64, 2>::from_data(TensorData::new(values.clone(), shape), &dev).require_grad();
    let grads = loss(tracked.clone()).backward();
    let analytic: Vec<f64> = match tracked.grad(&grads) {
        Some(g) => g.into_data().iter::<f64>().collect(),
        None => vec![0.0; values.len()],
    };
    assert_eq!(analytic.len(), values.len(), "{what}: gradient shape");
    for i in 0..values.len() {
        let mut shifted = values.clone();
        shifted[i] = values[i] + FD_STEP;
        let plus = scalar(loss(Tensor::from_data(
            TensorData::new(shifted.clone(), shape),
            &dev,
        )));
        shifted[i] = values[i] - FD_STEP;
        let minus = scalar(loss(Tensor::from_data(
            TensorData::new(shifted.clone(), shape),
            &dev,
        )));
        let numeric = (plus - minus) / (2.0 * FD_STEP);
        let diff = (analytic[i] - numeric).abs();
        assert!(
            diff <= tol * (1.0 + numeric.abs()),
            "{what}: d loss / d entry {i} of {shape:?}: autodiff {}, finite differences {numeric} (|diff| {diff:e})",
            analytic[i]
        );
    }
    analytic
}

/// Small graphs of 1..7 nodes with 3 features, labels 0..2.
pub fn tiny_graphs(count: usize) -> Vec<Graph> {
    (0..count)
        .map(|g| {
            let n = 1 + g % 7;
            let x = (0..n * 3)
                .map(|i| ((i * 7 + g * 3) % 11) as f32 / 11.0 - 0.3)
                .collect();
            let mut edges = Vec::new();
            for i in 1..n {
                edges.push((i - 1, i));
                edges.push((i, i - 1));
            }
            if n > 3 {
                edges.push((0, n - 1));
                edges.push((n - 1, 0));
            }
            Graph::new(n, 3, x, edges)
                .expect("valid graph")
                .with_label(g % 3)
        })
        .collect()
}

/// The message of the panic `f` raises, for tests of programming errors (a layer given an
/// input of the wrong width) inside the generic bodies of [`backend_tests!`], where
/// `#[should_panic]` cannot go.
///
/// # Panics
/// When `f` returns without panicking.
pub fn panic_message<R>(f: impl FnOnce() -> R) -> String {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic, the call returned"),
        Err(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    }
}

/// Every parameter's gradient in `grads`, flattened, in the module's visiting order (empty for
/// a parameter without one): for tests that compare the gradients of two runs.
pub fn parameter_gradients<B, M>(module: &M, grads: &burn::optim::GradientsParams) -> Vec<Vec<f64>>
where
    B: burn::tensor::backend::AutodiffBackend,
    M: burn::module::Module<B>,
{
    struct Collect<'a> {
        grads: &'a burn::optim::GradientsParams,
        found: Vec<Vec<f64>>,
    }
    impl<B: burn::tensor::backend::AutodiffBackend> burn::module::ModuleVisitor<B> for Collect<'_> {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<B, D>>) {
            let grad = self
                .grads
                .get::<B::InnerBackend, D>(param.id)
                .map(crate::host::floats)
                .unwrap_or_default();
            self.found.push(grad);
        }
    }
    let mut collect = Collect {
        grads,
        found: Vec::new(),
    };
    module.visit(&mut collect);
    collect.found
}
