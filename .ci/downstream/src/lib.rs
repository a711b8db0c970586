//! A user's model code: generic over the backend (any with the segment operations, which every
//! backend gets from one empty `impl`), so it needs none of its own.

use gnn_pool::burn::tensor::Tensor;
use gnn_pool::gnn_core::GraphBatch;
use gnn_pool::gnn_core::segment::SegmentBackend;
use gnn_pool::readout::global_mean_pool;
use gnn_pool::{PoolError, Selection, TopKPooling, TopKPoolingConfig};

/// One TopK pooling and a mean readout.
///
/// # Errors
/// [`PoolError`] for an invalid ratio (the readout cannot fail here: `x` and the segments come
/// from one batch).
pub fn pool_and_read<B: SegmentBackend>(
    graphs: GraphBatch<B>,
    ratio: f64,
) -> Result<Tensor<B, 2>, PoolError> {
    let device = graphs.device();
    let pool: TopKPooling<B> =
        TopKPoolingConfig::new(graphs.num_features(), Selection::Ratio(ratio)).init(&device)?;
    let pooled = pool.forward(graphs);
    global_mean_pool(pooled.graphs.x().clone(), pooled.graphs.segments())
}
