//! Padding the rows of each segment into a dense `[num_segments, width, F]` batch.

use burn::tensor::{Bool, Int, Tensor, backend::Backend};

use super::Segments;
use crate::burn_compat::{reshape, zeros_if_element_free};
use crate::host;

/// Where each slot of a padded `[num_segments, width]` layout takes its row from.
#[derive(Debug, Clone)]
pub struct DenseLayout<B: Backend> {
    /// Row index for every slot, `[num_segments * width]`; padding slots hold `n` (the number
    /// of rows), the index of the fill row [`DenseLayout::densify`] appends.
    pub gather: Tensor<B, 1, Int>,
    /// Rows per segment.
    pub counts: Vec<usize>,
    /// Slots per segment: the largest segment size.
    pub width: usize,
}

impl<B: Backend> DenseLayout<B> {
    /// The layout of consecutive segments of the given sizes (rows `0..Σ counts`).
    pub fn new(counts: &[usize], device: &B::Device) -> Self {
        let width = counts.iter().copied().max().unwrap_or(0);
        let rows: usize = counts.iter().sum();
        let mut gather = Vec::with_capacity(counts.len() * width);
        let mut start = 0;
        for &count in counts {
            // Padding slots point one past the last row, where `densify` appends the fill row.
            gather.extend((0..width).map(|slot| if slot < count { start + slot } else { rows }));
            start += count;
        }
        DenseLayout {
            gather: host::index_tensor(&gather, device),
            counts: counts.to_vec(),
            width,
        }
    }

    /// Gathers rows `[n, F]` into `[num_segments, width, F]`, padding slots filled with `fill`.
    ///
    /// One gather from `x` with a fill row appended: no mask is built or broadcast, and the
    /// padding gets no gradient.
    pub fn densify(&self, x: Tensor<B, 2>, fill: f64) -> Tensor<B, 3> {
        let num_segments = self.counts.len();
        let features = x.dims()[1];
        if let Some(zeros) =
            zeros_if_element_free(&[], [num_segments, self.width, features], &x.device())
        {
            return zeros;
        }
        let fill_row = Tensor::full([1, features], fill, &x.device());
        let extended = Tensor::cat(vec![x, fill_row], 0);
        reshape(
            extended.select(0, self.gather.clone()),
            [num_segments, self.width, features],
        )
    }

    /// `[num_segments, width]` mask, `true` on padding slots (built on the host, uploaded).
    pub fn padding(&self, device: &B::Device) -> Tensor<B, 2, Bool> {
        let mask = self
            .counts
            .iter()
            .flat_map(|&count| (0..self.width).map(move |slot| slot >= count))
            .collect();
        host::bool_tensor(mask, [self.counts.len(), self.width], device)
    }
}

/// Pads the rows of each segment into a dense batch, PyG's `to_dense_batch`:
/// `[n, F] -> ([num_segments, max_count, F], mask [num_segments, max_count])`, padding rows are
/// 0 and the mask is `true` on real rows.
pub fn to_dense_batch<B: Backend>(
    x: Tensor<B, 2>,
    segments: &Segments<B>,
) -> (Tensor<B, 3>, Tensor<B, 2, Bool>) {
    let layout = segments.dense_layout();
    let mask = layout.padding(&x.device()).bool_not();
    // No slot (every segment empty): `densify` answers zeros `[num_segments, 0, F]`.
    (layout.densify(x, 0.0), mask)
}
