//! Select: which nodes survive (top-k by a score) or which cluster each node joins.

mod cluster;
#[cfg(test)]
mod fuzz;
mod graclus;
mod topk;

pub use cluster::Clustering;
pub use graclus::graclus;
pub use topk::{KeptNodes, ScoreActivation, SelectTopK, SelectTopKConfig, Selection, select_top_k};
