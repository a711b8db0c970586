//! gnn-pool
