//! A user's model code: generic over the backend, so it needs none of its own.

use gnn_pool::burn::tensor::Tensor;
use gnn_pool::burn::tensor::backend::Backend;
use gnn_pool::gnn_core::GraphBatch;
use gnn_pool::readout::global_mean_pool;
use gnn_pool::{Selection, TopKPooling, TopKPoolingConfig};

/// One TopK pooling and a mean readout.
pub fn pool_and_read<B: Backend>(graphs: GraphBatch<B>) -> Tensor<B, 2> {
    let device = graphs.x().device();
    let pool: TopKPooling<B> = TopKPoolingConfig::new(graphs.num_features(), Selection::Ratio(0.5))
        .init(&device)
        .expect("a valid ratio");
    let pooled = pool.forward(graphs).expect("the layer's width");
    global_mean_pool(pooled.graphs.x().clone(), pooled.graphs.segments())
}
