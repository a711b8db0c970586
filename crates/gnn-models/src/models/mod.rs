//! The graph classifiers, one file each.
//!
//! - [`hierarchical`]: [`HierarchicalClassifier`], convolution and score-based pooling blocks
//!   (PyG's TopK example, SAGPool_h) or one pooling of concatenated layers (SAGPool_g).

pub mod hierarchical;

pub use hierarchical::{
    Architecture, BlockPool, ClassifierTrace, HierarchicalClassifier, HierarchicalClassifierConfig,
    PoolKind, PoolTrace,
};
