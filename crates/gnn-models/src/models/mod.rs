//! The graph classifiers, one file each.
//!
//! - [`hierarchical`]: [`HierarchicalClassifier`], convolution and score-based pooling blocks
//!   (PyG's TopK example, SAGPool_h) or one pooling of concatenated layers (SAGPool_g).
//! - [`diffpool`]: [`DiffPoolClassifier`], PyG's `proteins_diff_pool.py` (dense SAGE GNNs,
//!   two DiffPool poolings, link and entropy losses).
//! - [`mincut`]: [`MinCutClassifier`], PyG's `proteins_mincut_pool.py` (GCN, two MinCut
//!   poolings with dense GraphConvs, mincut and orthogonality losses).

pub mod diffpool;
pub mod hierarchical;
pub mod mincut;
#[cfg(test)]
pub(crate) mod test_support;

pub use diffpool::{
    DIFFPOOL_GNNS, DiffPoolClassifier, DiffPoolClassifierConfig, DiffPoolClassifierOutput,
    DiffPoolGnn,
};
pub use mincut::{MinCutClassifier, MinCutClassifierConfig, MinCutClassifierOutput};

pub use hierarchical::{
    Architecture, BlockPool, ClassifierTrace, HierarchicalClassifier, HierarchicalClassifierConfig,
    PoolKind, PoolTrace,
};
