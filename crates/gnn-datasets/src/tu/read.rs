//! Phase 1 of [`load_tu`](super::load_tu): the files of a dataset read into tables and checked
//! against one another.

use std::path::{Path, PathBuf};

use super::TuOptions;
use super::features::{concat_columns, one_hot_columns};
use super::table::{Table, optional_table, read_table};
use crate::error::{DataError, Result};

/// What the files of a dataset say, checked: every id in range, edges within one graph, one
/// feature row per node and per edge line.
#[derive(Debug)]
pub(super) struct TuTables {
    /// The original label of each class, sorted.
    pub(super) class_values: Vec<i64>,
    /// Each graph's class, `0..class_values.len()`; `None` without `NAME_graph_labels.txt`
    /// (a dataset to predict on).
    pub(super) classes: Option<Vec<usize>>,
    /// Number of graphs.
    pub(super) num_graphs: usize,
    /// `node_offsets[g]..node_offsets[g + 1]`: the (0-based, global) nodes of graph `g`.
    pub(super) node_offsets: Vec<usize>,
    /// The 0-based graph of each node.
    pub(super) node_graph: Vec<usize>,
    /// The edges, one per line of `NAME_A.txt`, in file order, as 0-based global node ids.
    pub(super) edges: Vec<(usize, usize)>,
    /// Node features, `[attributes, one-hot labels]`, one row per node.
    pub(super) node_features: Features,
    /// Edge features, `[attributes, one-hot labels]`, one row per edge line.
    pub(super) edge_features: Features,
}

/// Feature rows made of attribute columns then one-hot label columns.
#[derive(Debug)]
pub(super) struct Features {
    /// Row-major values, `rows * (num_attributes + num_labels)`.
    pub(super) values: Vec<f32>,
    /// Attribute columns.
    pub(super) num_attributes: usize,
    /// One-hot label columns.
    pub(super) num_labels: usize,
}

impl Features {
    /// Values per row.
    pub(super) fn width(&self) -> usize {
        self.num_attributes + self.num_labels
    }
}

/// Reads and checks the files `dir/NAME_*.txt` that `options` asks for.
pub(super) fn read_tables(dir: &Path, name: &str, options: &TuOptions) -> Result<TuTables> {
    let file = |kind: &str| dir.join(format!("{name}_{kind}.txt"));
    let labels = file("graph_labels");
    let (class_values, classes) = if labels.exists() {
        let (values, classes) = read_graph_labels(labels)?;
        (values, Some(classes))
    } else {
        (Vec::new(), None)
    };
    let node_graph = read_graph_indicator(file("graph_indicator"), classes.as_ref().map(Vec::len))?;
    // Without labels, the graphs are those the (sorted) indicator names, up to its last id.
    let num_graphs = classes
        .as_ref()
        .map_or_else(|| node_graph.last().map_or(0, |&g| g + 1), Vec::len);
    let num_nodes = node_graph.len();
    let edges = read_edges(file("A"), &node_graph)?;
    let node_features = read_features(
        options.use_node_attributes.then(|| file("node_attributes")),
        file("node_labels"),
        num_nodes,
        "one per node",
    )?;
    let edge_features = read_features(
        options.use_edge_attributes.then(|| file("edge_attributes")),
        file("edge_labels"),
        edges.len(),
        "one per line of the _A.txt file",
    )?;
    let mut node_offsets = vec![0usize; num_graphs + 1];
    for &g in &node_graph {
        node_offsets[g + 1] += 1;
    }
    for g in 0..num_graphs {
        node_offsets[g + 1] += node_offsets[g];
    }
    Ok(TuTables {
        class_values,
        classes,
        num_graphs,
        node_offsets,
        node_graph,
        edges,
        node_features,
        edge_features,
    })
}

/// Graph labels, one per graph, mapped to `0..C` in the order of their sorted distinct values:
/// `(sorted distinct values, class of each graph)`.
fn read_graph_labels(path: PathBuf) -> Result<(Vec<i64>, Vec<usize>)> {
    let labels = read_table::<i64>(&path, Some(1))?;
    if labels.rows == 0 {
        return Err(DataError::EmptyFile { path });
    }
    let mut class_values = labels.values.clone();
    class_values.sort_unstable();
    class_values.dedup();
    let classes = labels
        .values
        .iter()
        .map(|v| class_values.binary_search(v).unwrap_or(0))
        .collect();
    Ok((class_values, classes))
}

/// The graph indicator, one 1-based graph id per node, non-decreasing: the 0-based graph of
/// each node. Ids above `num_graphs` (the labels' count) are refused; without labels, ids
/// above the number of nodes (more empty graphs than nodes: a corrupt file, and an allocation
/// the file would choose).
fn read_graph_indicator(path: PathBuf, num_graphs: Option<usize>) -> Result<Vec<usize>> {
    let indicator = read_table::<i64>(&path, Some(1))?;
    if indicator.rows == 0 {
        return Err(DataError::EmptyFile { path });
    }
    let limit = num_graphs.unwrap_or(indicator.rows);
    let mut node_graph = Vec::with_capacity(indicator.rows);
    let mut previous = 1;
    for (row, &g) in indicator.values.iter().enumerate() {
        if g < 1 || g as u64 > limit as u64 {
            return Err(DataError::GraphOutOfRange {
                path,
                line: row + 1,
                graph: g,
                num_graphs: limit,
            });
        }
        if g < previous {
            return Err(DataError::IndicatorNotSorted {
                path,
                line: row + 1,
                previous,
                found: g,
            });
        }
        previous = g;
        node_graph.push((g - 1) as usize);
    }
    Ok(node_graph)
}

/// The edges, 1-based node ids with both ends in the same graph: 0-based global pairs in file
/// order.
fn read_edges(path: PathBuf, node_graph: &[usize]) -> Result<Vec<(usize, usize)>> {
    let num_nodes = node_graph.len();
    let table = read_table::<i64>(&path, Some(2))?;
    let mut edges = Vec::with_capacity(table.rows);
    for (row, pair) in table.values.chunks_exact(2).enumerate() {
        for &node in pair {
            if node < 1 || node as u64 > num_nodes as u64 {
                return Err(DataError::NodeOutOfRange {
                    path,
                    line: row + 1,
                    node,
                    num_nodes,
                });
            }
        }
        let (s, t) = ((pair[0] - 1) as usize, (pair[1] - 1) as usize);
        if node_graph[s] != node_graph[t] {
            return Err(DataError::EdgeAcrossGraphs {
                path,
                line: row + 1,
                source_node: s + 1,
                target_node: t + 1,
                source_graph: node_graph[s] + 1,
                target_graph: node_graph[t] + 1,
            });
        }
        edges.push((s, t));
    }
    Ok(edges)
}

/// `[attributes, one-hot labels]` for `rows` rows: the attribute file is read only when given,
/// and either file may be absent.
fn read_features(
    attributes: Option<PathBuf>,
    labels: PathBuf,
    rows: usize,
    what: &'static str,
) -> Result<Features> {
    let attributes: Option<Table<f32>> = match attributes {
        Some(path) => optional_table(&path, rows, what)?,
        None => None,
    };
    let labels = optional_table::<i64>(&labels, rows, what)?
        .map(|t| one_hot_columns(&labels, &t))
        .transpose()?;
    Ok(Features {
        values: concat_columns(rows, attributes.as_ref(), labels.as_ref()),
        num_attributes: attributes.as_ref().map_or(0, |t| t.cols),
        num_labels: labels.as_ref().map_or(0, |t| t.cols),
    })
}
