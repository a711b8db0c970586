//! Reduce: how the features of the selected nodes, or of the nodes of a cluster, combine.

mod cluster;
mod gate;

pub use cluster::{ClusterReduce, reduce_clusters};
pub use gate::gate;
