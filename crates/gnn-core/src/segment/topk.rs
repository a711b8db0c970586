//! The best rows of each segment by score (portable formulation, for TopK and SAG pooling).

use burn::tensor::{Int, Tensor, TensorData, backend::Backend};

use super::Segments;
use crate::burn_compat::reshape;
use crate::host;

/// The first `kept[s]` rows of each segment `s` by `score [n]` descending, exact ties by
/// ascending row, NaN first (as PyTorch's descending sort), grouped by segment in ascending
/// order: the selected row ids `[Σ kept]` (portable formulation).
///
/// The scores are padded into a `[num_segments, largest]` matrix (padding `-inf`, below every
/// score: `-inf` scores become the lowest finite `f32`), sorted row by row, and exact ties are
/// ordered by a second sort on a unique key. The key must fit the backend's Int type (i32 on
/// some backends), so segments wider than 46,340 rows keep the order the backend returns for
/// ties. The caller guarantees `kept[s] <= counts[s]`. Device reads: none.
pub fn segment_top_k<B: Backend>(
    score: Tensor<B, 1>,
    segments: &Segments<B>,
    kept: &[usize],
) -> Tensor<B, 1, Int> {
    let device = score.device();
    let num_segments = segments.num_segments();
    let total: usize = kept.iter().sum();
    if total == 0 {
        return Tensor::zeros([0], &device);
    }
    let rows = score.dims()[0];
    let layout = segments.dense_layout();
    let width = layout.width;
    let dense = layout.densify(reshape(sort_keys(score), [rows, 1]), f64::NEG_INFINITY);
    let dense = reshape(dense, [num_segments, width]);
    let slots = sort_descending_stable(dense, width);

    // Host-side: the first kept[s] slots of each segment's row, and that segment's first row.
    let mut take = Vec::with_capacity(total);
    let mut offset = Vec::with_capacity(total);
    for (s, &k) in kept.iter().enumerate() {
        take.extend((0..k).map(|slot| s * width + slot));
        offset.extend(std::iter::repeat_n(segments.offsets()[s] as i64, k));
    }
    let local =
        reshape(slots, [num_segments * width]).select(0, host::index_tensor(&take, &device));
    let offset = Tensor::<B, 1, Int>::from_data(TensorData::new(offset, [total]), &device);
    local + offset
}

/// The scores as sort keys that rank every row above the `-inf` padding of the dense layout.
///
/// A padding slot that sorted among the first `k` would become a row id outside its segment:
/// the next segment's row, or past the end (which not every backend bounds-checks). A diverged
/// model scores NaN, which sorts differently on every backend: it ranks first here, as in
/// PyTorch's descending sort. A score of `-inf` becomes the lowest finite `f32`.
fn sort_keys<B: Backend>(score: Tensor<B, 1>) -> Tensor<B, 1> {
    let score = score.detach();
    let is_nan = score.clone().is_nan();
    let is_minus_infinity = score.clone().equal_elem(f64::NEG_INFINITY);
    score
        .mask_fill(is_nan, f64::INFINITY)
        .mask_fill(is_minus_infinity, f32::MIN)
}

/// Slot order of each row of `dense` `[G, W]`, by value descending, exact ties by ascending slot.
///
/// Burn's sorts are unstable, so ties are broken explicitly: a second sort on the unique key
/// `group · W + slot`, where `group` numbers the runs of equal values.
fn sort_descending_stable<B: Backend>(dense: Tensor<B, 2>, width: usize) -> Tensor<B, 2, Int> {
    let (sorted, slots) = dense.sort_descending_with_indices(1);
    if !(2..=46_340).contains(&width) {
        return slots;
    }
    let [rows, _] = sorted.dims();
    let starts_run = sorted
        .clone()
        .narrow(1, 1, width - 1)
        .not_equal(sorted.narrow(1, 0, width - 1))
        .int();
    let group = Tensor::cat(
        vec![Tensor::zeros([rows, 1], &slots.device()), starts_run],
        1,
    )
    .cumsum(1);
    let key = group * (width as i64) + slots.clone();
    slots.gather(1, key.argsort(1))
}
