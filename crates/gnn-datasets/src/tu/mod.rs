//! TU Dortmund graph-classification datasets in their text format, read as PyTorch Geometric's
//! `TUDataset` reads them.
//!
//! A dataset `NAME` is a folder of comma-separated text files:
//!
//! | file | lines | content |
//! |---|---|---|
//! | `NAME_A.txt` | one per directed edge | `source, target`, 1-based node ids |
//! | `NAME_graph_indicator.txt` | one per node | 1-based graph id of the node, non-decreasing |
//! | `NAME_graph_labels.txt` (optional) | one per graph | class label (any integers) |
//! | `NAME_node_labels.txt` (optional) | one per node | one or more integer label columns |
//! | `NAME_node_attributes.txt` (optional) | one per node | real attribute columns |
//! | `NAME_edge_labels.txt` (optional) | one per line of `NAME_A.txt` | integer label columns |
//! | `NAME_edge_attributes.txt` (optional) | one per line of `NAME_A.txt` | real attribute columns |
//!
//! What the reader does, as PyG 2.x's `read_tu_data` and `TUDataset` do:
//!
//! - Fields may be separated by `", "`, `","` or, on lines without a comma, by whitespace;
//!   spaces, tabs, `\r` and one trailing separator are tolerated. Blank lines are allowed at the
//!   end of a file only. Integer columns also accept integral decimals (`"2.0"`).
//! - Node labels: each column is shifted so that its minimum is 0 and one-hot encoded over
//!   `max + 1` values; several columns are encoded one by one and concatenated.
//! - Node attributes are used only with [`TuOptions::use_node_attributes`] (PyG's
//!   `use_node_attr`, default false). Then `x = [attributes, one-hot labels]`.
//! - Edge labels are one-hot encoded as node labels, into the edges' features. Edge attributes
//!   are used only with [`TuOptions::use_edge_attributes`]; then `edge_attr = [attributes,
//!   one-hot labels]`.
//! - Graph labels are mapped to `0..C` in the order of their sorted distinct values
//!   (`-1, 1` becomes `0, 1`); [`TuDataset::class_values`] keeps the original values. Without
//!   `NAME_graph_labels.txt` (graphs to predict on) the graphs have no label, the graph ids of
//!   the indicator say how many there are (a trailing graph without nodes cannot be told
//!   apart), and [`TuDataset::is_labelled`] is false; training refuses such a dataset
//!   ([`DataError::MissingLabel`]).
//! - Then transforms, named and applied in this order (see [`crate::transforms`]):
//!   [`RemoveSelfLoops`] and [`Coalesce`] (edges sorted by `(source, target)`, duplicates
//!   merged with their features added up, as PyG's `TUDataset` does on read; off with
//!   [`TuOptions::coalesce`]), then degree features ([`DegreeFeatures`]) on request; a dataset
//!   with no node feature at all (IMDB-BINARY, IMDB-MULTI, REDDIT-BINARY, COLLAB) gets one-hot
//!   degrees by default, see [`TuOptions::degree_features`].
//!
//! Every malformed input gives a [`DataError`] naming the file and the 1-based line. A fuzz test
//! (`tu::fuzz`, see the README's "Robustness") writes arbitrary bytes and mutated valid files
//! as every file of a dataset and checks that reading gives a consistent dataset or an error,
//! never a panic.
//!
//! [`load_tu`] runs in three phases, one submodule each: the files are read into checked tables
//! (`read`, with the text parser in `table` and the one-hot columns in `features`), cut into
//! graphs (`assemble`), and transformed.

use std::path::{Path, PathBuf};

use gnn_core::Graph;

use crate::error::{DataError, Result};
use crate::transforms::{Coalesce, Compose, GraphTransform, RemoveSelfLoops, out_degrees};

mod assemble;
mod dataset;
mod features;
#[cfg(test)]
mod fuzz;
mod read;
mod table;
#[cfg(test)]
mod tests;

pub use crate::transforms::{DegreeFeatures, append_degree_features};
pub use dataset::{TuDataset, TuOptions};
pub use features::MAX_ONE_HOT_WIDTH;

/// The degree cap of the default degree features: degrees above it share the last bucket.
pub const DEFAULT_MAX_DEGREE: usize = 64;

/// Finds the dataset name in a folder from its `NAME_A.txt` file.
///
/// # Errors
/// [`DataError::Io`] when the folder cannot be listed, [`DataError::NoDataset`] when no such
/// file is there, [`DataError::AmbiguousDataset`] when there are several.
pub fn find_dataset_name(dir: &Path) -> Result<String> {
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| DataError::io(dir, e))?;
        let file_name = entry.file_name();
        if let Some(name) = file_name.to_str().and_then(|f| f.strip_suffix("_A.txt"))
            && !name.is_empty()
        {
            names.push(name.to_string());
        }
    }
    names.sort();
    match names.len() {
        0 => Err(DataError::NoDataset {
            dir: dir.to_path_buf(),
        }),
        1 => Ok(names.remove(0)),
        _ => Err(DataError::AmbiguousDataset {
            dir: dir.to_path_buf(),
            names,
        }),
    }
}

/// Reads the TU dataset in `dir` (the `--data-dir DIR` case), its name found from the one
/// `NAME_A.txt` there.
///
/// # Errors
/// Those of [`find_dataset_name`] and [`load_tu`].
pub fn load_tu_dir(dir: &Path, options: &TuOptions) -> Result<TuDataset> {
    let name = find_dataset_name(dir)?;
    load_tu(dir, &name, options)
}

/// Reads the TU dataset `name` from the files `dir/NAME_*.txt`.
///
/// The files are read and checked ([`TuOptions::use_node_attributes`] and
/// [`TuOptions::use_edge_attributes`] say which), cut into one graph per graph id, then
/// transformed: [`RemoveSelfLoops`] and [`Coalesce`] unless [`TuOptions::coalesce`] is off,
/// then the degree features of [`TuOptions::degree_features`].
///
/// # Errors
/// [`DataError::MissingFile`] when `NAME_A.txt` or `NAME_graph_indicator.txt` is absent (or an
/// attribute file asked for by `options`), and a
/// file-and-line error for each kind of malformed content: [`DataError::NotANumber`],
/// [`DataError::ColumnCount`], [`DataError::BlankLine`], [`DataError::LineCount`],
/// [`DataError::NodeOutOfRange`], [`DataError::GraphOutOfRange`],
/// [`DataError::IndicatorNotSorted`], [`DataError::EdgeAcrossGraphs`], [`DataError::LabelRange`].
pub fn load_tu(dir: &Path, name: &str, options: &TuOptions) -> Result<TuDataset> {
    let tables = read::read_tables(dir, name, options)?;
    let graphs = assemble::assemble_graphs(&tables)?;
    let (graphs, degree_features) = transform(graphs, options, tables.node_features.width() == 0)?;
    Ok(TuDataset {
        name: name.to_string(),
        graphs,
        class_values: tables.class_values,
        num_node_attributes: tables.node_features.num_attributes,
        num_node_labels: tables.node_features.num_labels,
        degree_features,
        num_edge_attributes: tables.edge_features.num_attributes,
        num_edge_labels: tables.edge_features.num_labels,
    })
}

/// Phase 3 of [`load_tu`]: the edge transforms, then the degree features (those asked for, or
/// the default ones of a `featureless` dataset), which are returned with the graphs.
fn transform(
    graphs: Vec<Graph>,
    options: &TuOptions,
    featureless: bool,
) -> Result<(Vec<Graph>, Option<DegreeFeatures>)> {
    let edges = if options.coalesce {
        Compose::new().then(RemoveSelfLoops).then(Coalesce)
    } else {
        Compose::new()
    };
    let graphs = edges.apply_all(graphs)?;
    let degree = options.degree_features.or_else(|| {
        featureless.then(|| DegreeFeatures::OneHot {
            max_degree: graphs
                .iter()
                .flat_map(out_degrees)
                .max()
                .unwrap_or(0)
                .min(DEFAULT_MAX_DEGREE),
        })
    });
    match degree {
        Some(degree) => Ok((degree.apply_all(graphs)?, Some(degree))),
        None => Ok((graphs, None)),
    }
}

/// The paths of the files of dataset `name` in `dir` that exist, for listing and diagnostics.
pub fn dataset_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    [
        "A",
        "graph_indicator",
        "graph_labels",
        "node_labels",
        "node_attributes",
        "edge_labels",
        "edge_attributes",
    ]
    .iter()
    .map(|kind| dir.join(format!("{name}_{kind}.txt")))
    .filter(|p| p.is_file())
    .collect()
}
