//! Moving small index data between the host and a device, and counting device-to-host reads.
//!
//! Every device-to-host read this library makes goes through [`ints`], [`floats`] or [`bools`],
//! which count it per thread. Layers document how many reads their forward pass makes, and tests
//! check those figures with [`device_reads`]: a read stalls a GPU pipeline, so each one must be
//! needed (for example, the number of edges that survive pooling depends on the data).

use std::cell::Cell;

use burn::tensor::{Bool, Int, Tensor, TensorData, backend::Backend};

thread_local! {
    static DEVICE_READS: Cell<usize> = const { Cell::new(0) };
}

/// Number of device-to-host reads this library has made on the current thread so far.
pub fn device_reads() -> usize {
    DEVICE_READS.with(Cell::get)
}

fn count_read() {
    DEVICE_READS.with(|reads| reads.set(reads.get() + 1));
}

/// Reads an Int tensor to the host (one counted read), whatever the backend's Int dtype.
pub fn ints<B: Backend, const D: usize>(tensor: Tensor<B, D, Int>) -> Vec<i64> {
    count_read();
    tensor.into_data().iter::<i64>().collect()
}

/// Reads a Float tensor to the host as `f64` (one counted read).
pub fn floats<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> Vec<f64> {
    count_read();
    tensor.into_data().iter::<f64>().collect()
}

/// Reads a Bool tensor to the host (one counted read).
pub fn bools<B: Backend, const D: usize>(tensor: Tensor<B, D, Bool>) -> Vec<bool> {
    // Through Int: backends store Bool differently (native bytes or u32), Int reads are uniform.
    ints(tensor.int()).into_iter().map(|v| v != 0).collect()
}

/// Uploads host indices as a 1-D Int tensor (converted to the backend's Int dtype).
pub fn index_tensor<B: Backend>(indices: &[usize], device: &B::Device) -> Tensor<B, 1, Int> {
    let values: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
    Tensor::from_data(TensorData::new(values, [indices.len()]), device)
}

/// Uploads host values as a 1-D Float tensor.
pub fn float_tensor<B: Backend>(values: &[f32], device: &B::Device) -> Tensor<B, 1> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}

/// Uploads a host mask as a 2-D Bool tensor of the given shape.
pub fn bool_tensor<B: Backend>(
    values: Vec<bool>,
    shape: [usize; 2],
    device: &B::Device,
) -> Tensor<B, 2, Bool> {
    Tensor::from_data(TensorData::new(values, shape), device)
}
