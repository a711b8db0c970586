//! gnn-models
