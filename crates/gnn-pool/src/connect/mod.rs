//! Connect: how edges follow when nodes are dropped or merged.

mod coarsen;
mod filter;

pub use coarsen::{CoarsenedEdges, coarsen_edges};
pub use filter::{FilteredEdges, filter_edges};
