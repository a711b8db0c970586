//! [`SegmentBackend`] for Wgpu (`CubeBackend<WgpuRuntime, ..>`, the `Wgpu` type of a build without
//! Burn's `fusion` feature, as this workspace's): the portable defaults.
//!
//! Native CubeCL kernels (one cube per segment) can replace them method by method. A build with `fusion` on makes `Wgpu` a `Fusion<CubeBackend<..>>`, which would need its
//! own (equally empty) implementation.

use burn::backend::wgpu::{BoolElement, CubeBackend, FloatElement, IntElement, WgpuRuntime};

use super::SegmentBackend;

impl<F: FloatElement, I: IntElement, BT: BoolElement> SegmentBackend
    for CubeBackend<WgpuRuntime, F, I, BT>
{
}
