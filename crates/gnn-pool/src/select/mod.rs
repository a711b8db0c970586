//! Select: which nodes survive (top-k by a score) or which cluster each node joins.

mod cluster;
mod graclus;
mod topk;

pub use cluster::Clustering;
pub use graclus::graclus;
pub use topk::{KeptNodes, ScoreActivation, Selection, SelectTopK, SelectTopKConfig, select_top_k, sigmoid};
