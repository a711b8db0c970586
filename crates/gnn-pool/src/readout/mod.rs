//! Global pooling (readout): every graph becomes one vector, `[N, F] -> [G, F']`.
//!
//! This is pooling where each graph is a single cluster. The number of graphs always comes from
//! the batch's host counts, never from `max(batch) + 1`: trailing empty graphs are kept, and an
//! empty graph reads out as 0 with gradient 0.

mod attention;
mod global;
mod set2set;
mod sort;

pub use attention::{AttentionalAggregation, AttentionalAggregationConfig};
pub use global::{GlobalPool, global_add_pool, global_max_pool, global_mean_pool, global_min_pool};
pub use set2set::{Set2Set, Set2SetConfig};
pub use sort::{SortAggregation, SortAggregationConfig};
