//! The values of the command line's enumerated flags (`--model`, `--conv`, `--readout`,
//! `--backend`) and what each stands for.

use clap::ValueEnum;
use gnn_core::conv::ConvKind;
use gnn_pool::GlobalPool;

/// Model kinds on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelArg {
    /// No local pooling: convolutions and global readouts only (the baseline).
    Global,
    /// Hierarchical TopK pooling (PyG's proteins_topk_pool example).
    Topk,
    /// Hierarchical SAG pooling (SAGPool_h).
    Sag,
    /// Global SAG pooling (SAGPool_g): concatenated layers, one pooling.
    SagGlobal,
    /// Graclus supernodes with max cluster pooling (PyG's mnist_graclus example).
    Graclus,
    /// DiffPool (PyG's proteins_diff_pool example, its widths; the hierarchical flags do not
    /// apply).
    Diffpool,
    /// MinCut pooling (PyG's proteins_mincut_pool example, its widths and PROTEINS' cluster
    /// counts; the hierarchical flags do not apply).
    Mincut,
}

/// Convolutions on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConvArg {
    /// GraphConv (sum aggregation).
    Graph,
    /// GCNConv.
    Gcn,
    /// GINConv.
    Gin,
    /// SAGEConv.
    Sage,
}

/// Readouts on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadoutArg {
    /// `[max ‖ mean]` (PyG's example, SAGPool).
    MaxMean,
    /// `[max ‖ sum]`: keeps the graph's size.
    MaxAdd,
    /// `[max ‖ mean ‖ sum]`.
    MaxMeanAdd,
    /// Sum.
    Add,
    /// Mean.
    Mean,
    /// Maximum.
    Max,
}

impl ReadoutArg {
    /// The name written in reports: the flag's value.
    pub fn name(self) -> String {
        self.to_possible_value()
            .map_or_else(String::new, |value| value.get_name().to_owned())
    }

    /// The readout.
    pub fn pool(self) -> GlobalPool {
        match self {
            ReadoutArg::MaxMean => GlobalPool::MaxMean,
            ReadoutArg::MaxAdd => GlobalPool::MaxAdd,
            ReadoutArg::MaxMeanAdd => GlobalPool::MaxMeanAdd,
            ReadoutArg::Add => GlobalPool::Add,
            ReadoutArg::Mean => GlobalPool::Mean,
            ReadoutArg::Max => GlobalPool::Max,
        }
    }
}

/// Backends on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendArg {
    /// Burn's NdArray CPU backend.
    Ndarray,
    /// Burn's Flex CPU backend (the default, fastest here).
    Flex,
    /// Burn's Wgpu backend (builds with the `wgpu` feature only).
    Wgpu,
}

impl ModelArg {
    /// The name written in reports.
    pub fn name(self) -> &'static str {
        match self {
            ModelArg::Global => "global",
            ModelArg::Topk => "topk",
            ModelArg::Sag => "sag",
            ModelArg::SagGlobal => "sag-global",
            ModelArg::Graclus => "graclus",
            ModelArg::Diffpool => "diffpool",
            ModelArg::Mincut => "mincut",
        }
    }
}

impl ConvArg {
    /// The layer kind.
    pub fn kind(self) -> ConvKind {
        match self {
            ConvArg::Graph => ConvKind::Graph,
            ConvArg::Gcn => ConvKind::Gcn,
            ConvArg::Gin => ConvKind::Gin,
            ConvArg::Sage => ConvKind::Sage,
        }
    }

    /// The name written in reports.
    pub fn name(self) -> &'static str {
        match self {
            ConvArg::Graph => "graph",
            ConvArg::Gcn => "gcn",
            ConvArg::Gin => "gin",
            ConvArg::Sage => "sage",
        }
    }
}

impl BackendArg {
    /// The name written in reports.
    pub fn name(self) -> &'static str {
        match self {
            BackendArg::Ndarray => "ndarray",
            BackendArg::Flex => "flex",
            BackendArg::Wgpu => "wgpu",
        }
    }
}
