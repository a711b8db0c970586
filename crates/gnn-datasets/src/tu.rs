//! TU Dortmund graph-classification datasets in their text format, read as PyTorch Geometric's
//! `TUDataset` reads them.
//!
//! A dataset `NAME` is a folder of comma-separated text files:
//!
//! | file | lines | content |
//! |---|---|---|
//! | `NAME_A.txt` | one per directed edge | `source, target`, 1-based node ids |
//! | `NAME_graph_indicator.txt` | one per node | 1-based graph id of the node, non-decreasing |
//! | `NAME_graph_labels.txt` | one per graph | class label (any integers) |
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
//!   (`-1, 1` becomes `0, 1`); [`TuDataset::class_values`] keeps the original values.
//! - Self loops are removed and duplicate edges merged, edges sorted by `(source, target)`
//!   (PyG's `remove_self_loops` then `coalesce`); features of merged edges are added up, as
//!   `coalesce` does by default.
//! - Degree features ([`DegreeFeatures`]) are appended on request; a dataset with no node
//!   feature at all (IMDB-BINARY, IMDB-MULTI, REDDIT-BINARY, COLLAB) gets one-hot degrees by
//!   default, see [`TuOptions::degree_features`].
//!
//! Every malformed input gives a [`DataError`] naming the file and the 1-based line.

use std::path::{Path, PathBuf};

use gnn_core::Graph;

use super::error::{DataError, Result};

/// The degree cap of the default degree features: degrees above it share the last bucket.
pub const DEFAULT_MAX_DEGREE: usize = 64;

/// The widest one-hot encoding a label column may ask for (a guard against absurd label values
/// that would otherwise allocate gigabytes).
pub const MAX_ONE_HOT_WIDTH: usize = 1 << 16;

/// Node features computed from the node degree, for datasets without node features.
///
/// The degree is the out-degree (number of edges whose source is the node) after self loops
/// are removed and duplicate edges merged, as PyG's `OneHotDegree` with `in_degree=False`. TU
/// graphs list both directions of every edge, so it equals the number of neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DegreeFeatures {
    /// One-hot degree over `max_degree + 1` buckets `0..=max_degree` (PyG's
    /// `OneHotDegree(max_degree)`). Unlike PyG, which fails on a larger degree, a degree above
    /// `max_degree` is clamped into the last bucket.
    OneHot {
        /// The last bucket; degrees `>= max_degree` land in it.
        max_degree: usize,
    },
    /// One feature, the standardised degree `(degree - mean) / std` with the mean and the
    /// (population) standard deviation taken over all nodes of all graphs given together (the
    /// `NormalizedDegree` of PyG's kernel benchmark). A zero deviation leaves `degree - mean`.
    Scalar,
}

impl DegreeFeatures {
    /// Number of features this transform appends.
    pub fn width(&self) -> usize {
        match self {
            Self::OneHot { max_degree } => max_degree + 1,
            Self::Scalar => 1,
        }
    }
}

/// Appends degree features to every graph (after its existing features, PyG's `cat=True`).
///
/// Labels, edges and edge features are kept.
///
/// # Errors
/// [`DataError::Graph`] if a graph cannot take the new features (it cannot happen for valid
/// graphs; the error is kept rather than a panic).
pub fn append_degree_features(graphs: Vec<Graph>, degree: DegreeFeatures) -> Result<Vec<Graph>> {
    let degrees: Vec<Vec<usize>> = graphs.iter().map(out_degrees).collect();
    let (mean, scale) = match degree {
        DegreeFeatures::OneHot { .. } => (0.0, 1.0),
        DegreeFeatures::Scalar => {
            let count = degrees.iter().map(Vec::len).sum::<usize>().max(1) as f64;
            let mean = degrees.iter().flatten().map(|&d| d as f64).sum::<f64>() / count;
            let var = degrees
                .iter()
                .flatten()
                .map(|&d| (d as f64 - mean).powi(2))
                .sum::<f64>()
                / count;
            let std = var.sqrt();
            (mean, if std > 0.0 { 1.0 / std } else { 1.0 })
        }
    };
    let width = degree.width();
    graphs
        .into_iter()
        .zip(degrees)
        .enumerate()
        .map(|(index, (graph, degrees))| {
            let old = graph.num_features();
            let new = old + width;
            let mut x = Vec::with_capacity(graph.num_nodes() * new);
            for (node, &d) in degrees.iter().enumerate() {
                x.extend_from_slice(graph.node_features(node));
                match degree {
                    DegreeFeatures::OneHot { max_degree } => {
                        let start = x.len();
                        x.resize(start + width, 0.0);
                        x[start + d.min(max_degree)] = 1.0;
                    }
                    DegreeFeatures::Scalar => x.push(((d as f64 - mean) * scale) as f32),
                }
            }
            graph
                .with_features(new, x)
                .map_err(|source| DataError::Graph { index, source })
        })
        .collect()
}

fn out_degrees(graph: &Graph) -> Vec<usize> {
    let mut degree = vec![0; graph.num_nodes()];
    for &(source, _) in graph.edges() {
        degree[source] += 1;
    }
    degree
}

/// How to read a TU dataset. `TuOptions::default()` reads as PyG's `TUDataset(root, name)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TuOptions {
    /// Put `NAME_node_attributes.txt` in front of the one-hot node labels (PyG's
    /// `use_node_attr`, default false: the file is then not read at all).
    pub use_node_attributes: bool,
    /// Put `NAME_edge_attributes.txt` in front of the one-hot edge labels (PyG's
    /// `use_edge_attr`, default false: the file is then not read at all).
    pub use_edge_attributes: bool,
    /// Degree features appended to the node features. `None` (the default) appends none,
    /// except on a dataset whose nodes would otherwise have no feature at all, which gets
    /// `OneHot { max_degree: min(largest degree in the dataset, DEFAULT_MAX_DEGREE) }`
    /// (degrees above the cap share the last bucket).
    pub degree_features: Option<DegreeFeatures>,
}

impl TuOptions {
    /// PyG's defaults: no attributes, degree features only for featureless datasets.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`TuOptions::use_node_attributes`].
    pub fn with_node_attributes(mut self, yes: bool) -> Self {
        self.use_node_attributes = yes;
        self
    }

    /// Sets [`TuOptions::use_edge_attributes`].
    pub fn with_edge_attributes(mut self, yes: bool) -> Self {
        self.use_edge_attributes = yes;
        self
    }

    /// Sets [`TuOptions::degree_features`].
    pub fn with_degree_features(mut self, degree: DegreeFeatures) -> Self {
        self.degree_features = Some(degree);
        self
    }
}

/// A TU dataset read into host graphs, with what is known about its features.
///
/// Node features are laid out as `[attributes, one-hot labels, degree features]`, edge features
/// as `[attributes, one-hot labels]`; the `num_*` methods give the width of each part.
#[derive(Debug, Clone, PartialEq)]
pub struct TuDataset {
    name: String,
    graphs: Vec<Graph>,
    class_values: Vec<i64>,
    num_node_attributes: usize,
    num_node_labels: usize,
    degree_features: Option<DegreeFeatures>,
    num_edge_attributes: usize,
    num_edge_labels: usize,
}

impl TuDataset {
    /// The dataset's name (`NAME` of `NAME_A.txt`).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The graphs, in file order (graph id 1 first), each with its label in `0..num_classes`.
    pub fn graphs(&self) -> &[Graph] {
        &self.graphs
    }
    /// The graphs, taken out.
    pub fn into_graphs(self) -> Vec<Graph> {
        self.graphs
    }
    /// Number of graphs.
    pub fn len(&self) -> usize {
        self.graphs.len()
    }
    /// Whether there is no graph (never true for a dataset read from files).
    pub fn is_empty(&self) -> bool {
        self.graphs.is_empty()
    }
    /// Number of nodes, all graphs together.
    pub fn num_nodes(&self) -> usize {
        self.graphs.iter().map(Graph::num_nodes).sum()
    }
    /// Number of directed edges after self-loop removal and merging, all graphs together.
    pub fn num_edges(&self) -> usize {
        self.graphs.iter().map(Graph::num_edges).sum()
    }
    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.class_values.len()
    }
    /// The original label of each class: class `c` was written as `class_values()[c]`.
    pub fn class_values(&self) -> &[i64] {
        &self.class_values
    }
    /// The graph labels, `0..num_classes`, in graph order.
    pub fn labels(&self) -> Vec<usize> {
        self.graphs.iter().map(|g| g.label().unwrap_or(0)).collect()
    }
    /// Features per node (attributes + one-hot labels + degree features).
    pub fn num_node_features(&self) -> usize {
        self.num_node_attributes + self.num_node_labels + self.num_degree_features()
    }
    /// Node attribute columns in the features (0 unless attributes were asked for).
    pub fn num_node_attributes(&self) -> usize {
        self.num_node_attributes
    }
    /// Width of the one-hot node labels in the features.
    pub fn num_node_labels(&self) -> usize {
        self.num_node_labels
    }
    /// Width of the degree features (0 when none were added).
    pub fn num_degree_features(&self) -> usize {
        self.degree_features.map_or(0, |d| d.width())
    }
    /// The degree features that were added, if any (asked for, or the featureless default).
    pub fn degree_features(&self) -> Option<DegreeFeatures> {
        self.degree_features
    }
    /// Features per edge (attributes + one-hot labels); 0 means the graphs carry no edge
    /// features.
    pub fn num_edge_features(&self) -> usize {
        self.num_edge_attributes + self.num_edge_labels
    }
    /// Edge attribute columns in the edge features.
    pub fn num_edge_attributes(&self) -> usize {
        self.num_edge_attributes
    }
    /// Width of the one-hot edge labels in the edge features.
    pub fn num_edge_labels(&self) -> usize {
        self.num_edge_labels
    }
}

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
/// # Errors
/// [`DataError::MissingFile`] when `NAME_A.txt`, `NAME_graph_indicator.txt` or
/// `NAME_graph_labels.txt` is absent (or an attribute file asked for by `options`), and a
/// file-and-line error for each kind of malformed content: [`DataError::NotANumber`],
/// [`DataError::ColumnCount`], [`DataError::BlankLine`], [`DataError::LineCount`],
/// [`DataError::NodeOutOfRange`], [`DataError::GraphOutOfRange`],
/// [`DataError::IndicatorNotSorted`], [`DataError::EdgeAcrossGraphs`], [`DataError::LabelRange`].
pub fn load_tu(dir: &Path, name: &str, options: &TuOptions) -> Result<TuDataset> {
    let file = |kind: &str| dir.join(format!("{name}_{kind}.txt"));

    // Graph labels: one per graph, remapped to 0..C in sorted order.
    let labels_path = file("graph_labels");
    let graph_labels = read_table::<i64>(&labels_path, Some(1))?;
    if graph_labels.rows == 0 {
        return Err(DataError::EmptyFile { path: labels_path });
    }
    let num_graphs = graph_labels.rows;
    let mut class_values = graph_labels.values.clone();
    class_values.sort_unstable();
    class_values.dedup();
    let classes: Vec<usize> = graph_labels
        .values
        .iter()
        .map(|v| class_values.binary_search(v).unwrap_or(0))
        .collect();

    // Graph indicator: one per node, 1-based, non-decreasing.
    let indicator_path = file("graph_indicator");
    let indicator = read_table::<i64>(&indicator_path, Some(1))?;
    if indicator.rows == 0 {
        return Err(DataError::EmptyFile {
            path: indicator_path,
        });
    }
    let num_nodes = indicator.rows;
    let mut node_graph = Vec::with_capacity(num_nodes);
    let mut previous = 1;
    for (row, &g) in indicator.values.iter().enumerate() {
        if g < 1 || g as u64 > num_graphs as u64 {
            return Err(DataError::GraphOutOfRange {
                path: indicator_path,
                line: row + 1,
                graph: g,
                num_graphs,
            });
        }
        if g < previous {
            return Err(DataError::IndicatorNotSorted {
                path: indicator_path,
                line: row + 1,
                previous,
                found: g,
            });
        }
        previous = g;
        node_graph.push((g - 1) as usize);
    }
    let mut node_offsets = vec![0usize; num_graphs + 1];
    for &g in &node_graph {
        node_offsets[g + 1] += 1;
    }
    for g in 0..num_graphs {
        node_offsets[g + 1] += node_offsets[g];
    }

    // Edges: 1-based node ids, both ends in the same graph.
    let edges_path = file("A");
    let edges = read_table::<i64>(&edges_path, Some(2))?;
    let num_edge_lines = edges.rows;
    let mut sources = Vec::with_capacity(num_edge_lines);
    let mut targets = Vec::with_capacity(num_edge_lines);
    for (row, pair) in edges.values.chunks_exact(2).enumerate() {
        for &node in pair {
            if node < 1 || node as u64 > num_nodes as u64 {
                return Err(DataError::NodeOutOfRange {
                    path: edges_path,
                    line: row + 1,
                    node,
                    num_nodes,
                });
            }
        }
        let (s, t) = ((pair[0] - 1) as usize, (pair[1] - 1) as usize);
        if node_graph[s] != node_graph[t] {
            return Err(DataError::EdgeAcrossGraphs {
                path: edges_path,
                line: row + 1,
                source_node: s + 1,
                target_node: t + 1,
                source_graph: node_graph[s] + 1,
                target_graph: node_graph[t] + 1,
            });
        }
        sources.push(s);
        targets.push(t);
    }

    // Node features: [attributes, one-hot labels].
    let attributes = if options.use_node_attributes {
        optional_table::<f32>(&file("node_attributes"), num_nodes, "one per node")?
    } else {
        None
    };
    let node_labels = optional_table::<i64>(&file("node_labels"), num_nodes, "one per node")?
        .map(|t| one_hot_columns(&file("node_labels"), &t))
        .transpose()?;
    let num_node_attributes = attributes.as_ref().map_or(0, |t| t.cols);
    let num_node_labels = node_labels.as_ref().map_or(0, |t| t.cols);
    let x = concat_columns(num_nodes, attributes.as_ref(), node_labels.as_ref());
    let num_node_features = num_node_attributes + num_node_labels;

    // Edge features: [attributes, one-hot labels], one row per line of NAME_A.txt.
    let edge_attributes = if options.use_edge_attributes {
        optional_table::<f32>(
            &file("edge_attributes"),
            num_edge_lines,
            "one per line of the _A.txt file",
        )?
    } else {
        None
    };
    let edge_labels = optional_table::<i64>(
        &file("edge_labels"),
        num_edge_lines,
        "one per line of the _A.txt file",
    )?
    .map(|t| one_hot_columns(&file("edge_labels"), &t))
    .transpose()?;
    let num_edge_attributes = edge_attributes.as_ref().map_or(0, |t| t.cols);
    let num_edge_labels = edge_labels.as_ref().map_or(0, |t| t.cols);
    let edge_dim = num_edge_attributes + num_edge_labels;
    let edge_features = concat_columns(
        num_edge_lines,
        edge_attributes.as_ref(),
        edge_labels.as_ref(),
    );

    // remove_self_loops + coalesce: sort by (source, target) (stable, so merged features add up
    // in file order), merge duplicates.
    let mut order: Vec<usize> = (0..num_edge_lines)
        .filter(|&e| sources[e] != targets[e])
        .collect();
    order.sort_by_key(|&e| (sources[e], targets[e]));
    let mut graph_edges: Vec<Vec<(usize, usize)>> = vec![Vec::new(); num_graphs];
    let mut graph_edge_features: Vec<Vec<f32>> = vec![Vec::new(); num_graphs];
    let mut last: Option<(usize, usize)> = None;
    for e in order {
        let (s, t) = (sources[e], targets[e]);
        let g = node_graph[s];
        let offset = node_offsets[g];
        let row = &edge_features[e * edge_dim..(e + 1) * edge_dim];
        let features = &mut graph_edge_features[g];
        if last == Some((s, t)) {
            let start = features.len() - edge_dim;
            for (acc, v) in features[start..].iter_mut().zip(row) {
                *acc += v;
            }
        } else {
            graph_edges[g].push((s - offset, t - offset));
            features.extend_from_slice(row);
            last = Some((s, t));
        }
    }

    let mut graphs = Vec::with_capacity(num_graphs);
    for (g, (edges, edge_features)) in graph_edges.into_iter().zip(graph_edge_features).enumerate()
    {
        let (start, end) = (node_offsets[g], node_offsets[g + 1]);
        let features = x[start * num_node_features..end * num_node_features].to_vec();
        let build = || -> gnn_core::Result<Graph> {
            let graph =
                Graph::new(end - start, num_node_features, features, edges)?.with_label(classes[g]);
            if edge_dim > 0 {
                graph.with_edge_attr(edge_dim, edge_features)
            } else {
                Ok(graph)
            }
        };
        graphs.push(build().map_err(|source| DataError::Graph { index: g, source })?);
    }

    let degree_features = options.degree_features.or_else(|| {
        (num_node_features == 0).then(|| {
            let max = graphs.iter().flat_map(out_degrees).max().unwrap_or(0);
            DegreeFeatures::OneHot {
                max_degree: max.min(DEFAULT_MAX_DEGREE),
            }
        })
    });
    if let Some(degree) = degree_features {
        graphs = append_degree_features(graphs, degree)?;
    }

    Ok(TuDataset {
        name: name.to_string(),
        graphs,
        class_values,
        num_node_attributes,
        num_node_labels,
        degree_features,
        num_edge_attributes,
        num_edge_labels,
    })
}

/// A table of numbers read from a text file: `rows x cols` values, row-major.
#[derive(Debug)]
struct Table<T> {
    values: Vec<T>,
    rows: usize,
    cols: usize,
}

/// A number one field of a TU file can hold.
trait Field: Sized + Copy {
    /// Words for the error message.
    const EXPECTED: &'static str;
    fn parse(text: &str) -> Option<Self>;
}

impl Field for i64 {
    const EXPECTED: &'static str = "an integer";
    fn parse(text: &str) -> Option<Self> {
        text.parse::<i64>().ok().or_else(|| {
            // Integral decimals such as "2.0" or "1e3", as PyG reads floats then casts.
            let v = text.parse::<f64>().ok()?;
            (v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64)
        })
    }
}

impl Field for f32 {
    const EXPECTED: &'static str = "a finite number";
    fn parse(text: &str) -> Option<Self> {
        text.parse::<f32>().ok().filter(|v| v.is_finite())
    }
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DataError::MissingFile {
            path: path.to_path_buf(),
        },
        _ => DataError::io(path, e),
    })
}

/// Reads a required table. `cols`: the column count the format fixes, or `None` to take it
/// from the first line.
fn read_table<T: Field>(path: &Path, cols: Option<usize>) -> Result<Table<T>> {
    let text = read_text(path)?;
    parse_table(path, &text, cols)
}

/// Reads an optional table that must have `rows` lines; `None` when the file is absent.
fn optional_table<T: Field>(
    path: &Path,
    rows: usize,
    what: &'static str,
) -> Result<Option<Table<T>>> {
    if !path.exists() {
        return Ok(None);
    }
    let table = read_table::<T>(path, None)?;
    if table.rows != rows {
        return Err(DataError::LineCount {
            path: path.to_path_buf(),
            expected: rows,
            found: table.rows,
            what,
        });
    }
    Ok(Some(table))
}

fn parse_table<T: Field>(path: &Path, text: &str, mut cols: Option<usize>) -> Result<Table<T>> {
    let mut values = Vec::with_capacity(text.len() / 4);
    let mut rows = 0;
    let mut first_blank: Option<usize> = None;
    for (index, raw) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = raw.trim();
        if line.is_empty() {
            first_blank.get_or_insert(line_number);
            continue;
        }
        if let Some(blank) = first_blank {
            return Err(DataError::BlankLine {
                path: path.to_path_buf(),
                line: blank,
            });
        }
        let before = values.len();
        let mut push = |column: usize, field: &str| -> Result<()> {
            match T::parse(field) {
                Some(v) => {
                    values.push(v);
                    Ok(())
                }
                None => Err(DataError::NotANumber {
                    path: path.to_path_buf(),
                    line: line_number,
                    column,
                    field: field.to_string(),
                    expected: T::EXPECTED,
                }),
            }
        };
        // One trailing separator is tolerated ("1, 2,").
        let line = line.strip_suffix(',').map_or(line, str::trim_end);
        if line.contains(',') {
            for (i, field) in line.split(',').enumerate() {
                push(i + 1, field.trim())?;
            }
        } else {
            for (i, field) in line.split_whitespace().enumerate() {
                push(i + 1, field)?;
            }
        }
        let found = values.len() - before;
        match cols {
            None => cols = Some(found),
            Some(expected) if expected != found => {
                return Err(DataError::ColumnCount {
                    path: path.to_path_buf(),
                    line: line_number,
                    expected,
                    found,
                });
            }
            Some(_) => {}
        }
        rows += 1;
    }
    Ok(Table {
        values,
        rows,
        cols: cols.unwrap_or(0),
    })
}

/// One-hot encodes each integer column (shifted so its minimum is 0, over `max + 1` values) and
/// concatenates the encodings, as PyG does with node and edge labels.
fn one_hot_columns(path: &Path, table: &Table<i64>) -> Result<Table<f32>> {
    let mut ranges = Vec::with_capacity(table.cols);
    for c in 0..table.cols {
        let column = table.values.iter().skip(c).step_by(table.cols);
        let min = column.clone().copied().min().unwrap_or(0);
        let max = column.copied().max().unwrap_or(0);
        let width = max.abs_diff(min).saturating_add(1);
        if width > MAX_ONE_HOT_WIDTH as u64 {
            return Err(DataError::LabelRange {
                path: path.to_path_buf(),
                column: c + 1,
                min,
                max,
                limit: MAX_ONE_HOT_WIDTH,
            });
        }
        ranges.push((min, width as usize));
    }
    let width: usize = ranges.iter().map(|&(_, w)| w).sum();
    let mut values = vec![0.0; table.rows * width];
    for (row, labels) in table.values.chunks_exact(table.cols.max(1)).enumerate() {
        let mut offset = row * width;
        for (&label, &(min, w)) in labels.iter().zip(&ranges) {
            values[offset + (label - min) as usize] = 1.0;
            offset += w;
        }
    }
    Ok(Table {
        values,
        rows: table.rows,
        cols: width,
    })
}

/// `[a, b]` column-wise, either part optional, for `rows` rows.
fn concat_columns(rows: usize, a: Option<&Table<f32>>, b: Option<&Table<f32>>) -> Vec<f32> {
    let (ca, cb) = (a.map_or(0, |t| t.cols), b.map_or(0, |t| t.cols));
    match (a, b) {
        (None, None) => Vec::new(),
        (Some(t), None) | (None, Some(t)) => t.values.clone(),
        (Some(a), Some(b)) => {
            let mut out = Vec::with_capacity(rows * (ca + cb));
            for r in 0..rows {
                out.extend_from_slice(&a.values[r * ca..(r + 1) * ca]);
                out.extend_from_slice(&b.values[r * cb..(r + 1) * cb]);
            }
            out
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, kind: &str, text: &str) {
        std::fs::write(dir.join(format!("{name}_{kind}.txt")), text).unwrap();
    }

    /// Two graphs: a triangle (graph 1, label 5) with a duplicated edge line and a self loop, and a
    /// path of two nodes (graph 2, label -1).
    fn tiny(dir: &Path) {
        write(
            dir,
            "T",
            "A",
            "1, 2\n2, 1\n2,3\n3,2\n1 , 3\n3, 1\n1, 2\n2, 2\n4, 5\n5, 4\n",
        );
        write(dir, "T", "graph_indicator", "1\n1\n1\n2\n2\n");
        write(dir, "T", "graph_labels", "5\n-1\n\n");
        write(dir, "T", "node_labels", "1\n2\n3\n1\n3\n");
    }

    #[test]
    fn reads_like_pyg_one_hot_labels_remapped_classes_merged_edges() {
        let dir = tempfile::tempdir().unwrap();
        tiny(dir.path());
        let ds = load_tu(dir.path(), "T", &TuOptions::default()).unwrap();
        assert_eq!(ds.len(), 2);
        assert_eq!(ds.num_nodes(), 5);
        assert_eq!(ds.class_values(), &[-1, 5]);
        assert_eq!(ds.labels(), vec![1, 0]);
        assert_eq!(ds.num_node_features(), 3);
        assert_eq!(ds.degree_features(), None);
        let g = &ds.graphs()[0];
        // Duplicate (1, 2) merged, self loop (2, 2) dropped, sorted by (source, target).
        assert_eq!(g.edges(), &[(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]);
        assert_eq!(g.x(), &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        assert!(g.edge_attr().is_none());
        let h = &ds.graphs()[1];
        assert_eq!(h.edges(), &[(0, 1), (1, 0)]);
        assert_eq!(h.x(), &[1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn attributes_come_first_and_only_on_request() {
        let dir = tempfile::tempdir().unwrap();
        tiny(dir.path());
        write(
            dir.path(),
            "T",
            "node_attributes",
            "0.5, 1\n1.5, 2\n2.5,3\n3.5 ,4\n4.5, 5\n",
        );
        let plain = load_tu(dir.path(), "T", &TuOptions::default()).unwrap();
        assert_eq!(plain.num_node_features(), 3);
        let ds = load_tu_dir(dir.path(), &TuOptions::new().with_node_attributes(true)).unwrap();
        assert_eq!(ds.name(), "T");
        assert_eq!((ds.num_node_attributes(), ds.num_node_labels()), (2, 3));
        assert_eq!(
            ds.graphs()[1].x(),
            &[3.5, 4.0, 1.0, 0.0, 0.0, 4.5, 5.0, 0.0, 0.0, 1.0]
        );
    }

    #[test]
    fn several_label_columns_are_one_hot_each_and_concatenated() {
        let dir = tempfile::tempdir().unwrap();
        tiny(dir.path());
        write(
            dir.path(),
            "T",
            "node_labels",
            "0, 10\n1, 12\n0, 11\n1, 10\n0, 10\n",
        );
        let ds = load_tu(dir.path(), "T", &TuOptions::default()).unwrap();
        assert_eq!(ds.num_node_labels(), 2 + 3);
        assert_eq!(ds.graphs()[0].node_features(1), &[0.0, 1.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn edge_labels_follow_their_edges_and_duplicates_add_up() {
        let dir = tempfile::tempdir().unwrap();
        tiny(dir.path());
        // One label per line of T_A.txt; line 7 duplicates line 1 with the same label.
        write(
            dir.path(),
            "T",
            "edge_labels",
            "1\n1\n2\n2\n3\n3\n1\n2\n1\n1\n",
        );
        write(
            dir.path(),
            "T",
            "edge_attributes",
            "9\n9\n9\n9\n9\n9\n9\n9\n9\n9\n",
        );
        let ds = load_tu(dir.path(), "T", &TuOptions::default()).unwrap();
        assert_eq!((ds.num_edge_attributes(), ds.num_edge_labels()), (0, 3));
        let attr = ds.graphs()[0].edge_attr().unwrap();
        assert_eq!(attr.dim, 3);
        // (0, 1): two lines with label 1 summed; (0, 2): label 3; (1, 2): label 2.
        assert_eq!(
            &attr.values[..9],
            &[2.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
        );
        assert_eq!(&attr.values[9..12], &[0.0, 1.0, 0.0]);
        let with_attr = load_tu(
            dir.path(),
            "T",
            &TuOptions::new().with_edge_attributes(true),
        )
        .unwrap();
        assert_eq!(with_attr.num_edge_features(), 4);
        assert_eq!(
            &with_attr.graphs()[1].edge_attr().unwrap().values[..4],
            &[9.0, 1.0, 0.0, 0.0]
        );
    }

    #[test]
    fn featureless_datasets_get_clamped_one_hot_degrees() {
        let dir = tempfile::tempdir().unwrap();
        // A star with 4 leaves and one isolated node.
        write(
            dir.path(),
            "S",
            "A",
            "1,2\n2,1\n1,3\n3,1\n1,4\n4,1\n1,5\n5,1\n",
        );
        write(dir.path(), "S", "graph_indicator", "1\n1\n1\n1\n1\n1\n");
        write(dir.path(), "S", "graph_labels", "0\n");
        let ds = load_tu(dir.path(), "S", &TuOptions::default()).unwrap();
        assert_eq!(
            ds.degree_features(),
            Some(DegreeFeatures::OneHot { max_degree: 4 })
        );
        assert_eq!(ds.num_node_features(), 5);
        assert_eq!(ds.graphs()[0].node_features(0), &[0.0, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!(ds.graphs()[0].node_features(5), &[1.0, 0.0, 0.0, 0.0, 0.0]);
        let capped =
            TuOptions::new().with_degree_features(DegreeFeatures::OneHot { max_degree: 2 });
        let ds = load_tu(dir.path(), "S", &capped).unwrap();
        assert_eq!(ds.graphs()[0].node_features(0), &[0.0, 0.0, 1.0]);
        assert_eq!(ds.graphs()[0].node_features(1), &[0.0, 1.0, 0.0]);
        let scalar = load_tu(
            dir.path(),
            "S",
            &TuOptions::new().with_degree_features(DegreeFeatures::Scalar),
        )
        .unwrap();
        let x = scalar.graphs()[0].x();
        let mean = x.iter().sum::<f32>() / 6.0;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 6.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5, "{x:?}");
        assert!(x[0] > x[1] && x[1] > x[5]);
    }

    #[test]
    fn gaps_in_the_indicator_give_empty_graphs() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "G", "A", "");
        write(dir.path(), "G", "graph_indicator", "1\n3\n");
        write(dir.path(), "G", "graph_labels", "0\n1\n0\n");
        write(dir.path(), "G", "node_labels", "0\n0\n");
        let ds = load_tu(dir.path(), "G", &TuOptions::default()).unwrap();
        let nodes: Vec<usize> = ds.graphs().iter().map(Graph::num_nodes).collect();
        assert_eq!(nodes, vec![1, 0, 1]);
    }

    fn error_of(files: &[(&str, &str)]) -> (DataError, String) {
        let dir = tempfile::tempdir().unwrap();
        tiny(dir.path());
        for (kind, text) in files {
            write(dir.path(), "T", kind, text);
        }
        let err = load_tu(dir.path(), "T", &TuOptions::default()).unwrap_err();
        let message = err.to_string();
        (err, message)
    }

    #[test]
    fn malformed_files_name_the_file_and_line() {
        let (err, msg) = error_of(&[("A", "1, 2\n2, x\n")]);
        assert!(
            matches!(
                err,
                DataError::NotANumber {
                    line: 2,
                    column: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            msg.contains("T_A.txt:2: column 2: \"x\" is not an integer"),
            "{msg}"
        );

        let (err, msg) = error_of(&[("A", "1, 2\n2, 1, 3\n")]);
        assert!(
            matches!(
                err,
                DataError::ColumnCount {
                    line: 2,
                    expected: 2,
                    found: 3,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(msg.contains("T_A.txt:2:"), "{msg}");

        let (err, msg) = error_of(&[("A", "1, 2\n2, 6\n")]);
        assert!(
            matches!(
                err,
                DataError::NodeOutOfRange {
                    line: 2,
                    node: 6,
                    num_nodes: 5,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            msg.contains("T_A.txt:2: node id 6 is out of range 1..=5"),
            "{msg}"
        );

        let (err, _) = error_of(&[("A", "0, 1\n")]);
        assert!(
            matches!(
                err,
                DataError::NodeOutOfRange {
                    line: 1,
                    node: 0,
                    ..
                }
            ),
            "{err:?}"
        );

        let (err, msg) = error_of(&[("A", "1, 2\n3, 4\n")]);
        assert!(
            matches!(
                err,
                DataError::EdgeAcrossGraphs {
                    line: 2,
                    source_graph: 1,
                    target_graph: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(msg.contains("T_A.txt:2:"), "{msg}");

        let (err, msg) = error_of(&[("graph_indicator", "1\n2\n1\n2\n2\n")]);
        assert!(
            matches!(
                err,
                DataError::IndicatorNotSorted {
                    line: 3,
                    previous: 2,
                    found: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            msg.contains("T_graph_indicator.txt:3: graph indicator is not sorted"),
            "{msg}"
        );

        let (err, _) = error_of(&[("graph_indicator", "1\n1\n1\n2\n3\n")]);
        assert!(
            matches!(
                err,
                DataError::GraphOutOfRange {
                    line: 5,
                    graph: 3,
                    num_graphs: 2,
                    ..
                }
            ),
            "{err:?}"
        );

        let (err, msg) = error_of(&[("node_labels", "1\n2\n3\n")]);
        assert!(
            matches!(
                err,
                DataError::LineCount {
                    expected: 5,
                    found: 3,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(msg.contains("T_node_labels.txt"), "{msg}");

        let (err, _) = error_of(&[("graph_labels", "1\n\n2\n")]);
        assert!(
            matches!(err, DataError::BlankLine { line: 2, .. }),
            "{err:?}"
        );

        let (err, _) = error_of(&[("graph_labels", "1.5\n2\n")]);
        assert!(
            matches!(err, DataError::NotANumber { line: 1, .. }),
            "{err:?}"
        );

        let (err, _) = error_of(&[("graph_labels", "\n")]);
        assert!(matches!(err, DataError::EmptyFile { .. }), "{err:?}");

        let (err, _) = error_of(&[("node_labels", "1\n2\n3\n1\n99999999\n")]);
        assert!(
            matches!(err, DataError::LabelRange { column: 1, .. }),
            "{err:?}"
        );

        let dir = tempfile::tempdir().unwrap();
        tiny(dir.path());
        std::fs::remove_file(dir.path().join("T_graph_indicator.txt")).unwrap();
        let err = load_tu(dir.path(), "T", &TuOptions::default()).unwrap_err();
        assert!(
            matches!(&err, DataError::MissingFile { path } if path.ends_with("T_graph_indicator.txt")),
            "{err:?}"
        );
    }

    #[test]
    fn separators_whitespace_crlf_and_integral_decimals_are_tolerated() {
        let dir = tempfile::tempdir().unwrap();
        tiny(dir.path());
        write(
            dir.path(),
            "T",
            "A",
            "1,2\r\n 2 ,\t1 \r\n2 3\n3 2,\n4, 5\n5, 4\n\n\n",
        );
        write(dir.path(), "T", "node_labels", "1.0\n2\n3e0\n1\n3\n");
        let ds = load_tu(dir.path(), "T", &TuOptions::default()).unwrap();
        assert_eq!(ds.graphs()[0].edges(), &[(0, 1), (1, 0), (1, 2), (2, 1)]);
        assert_eq!(ds.num_node_labels(), 3);
    }

    #[test]
    fn the_name_is_found_from_the_a_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            find_dataset_name(dir.path()),
            Err(DataError::NoDataset { .. })
        ));
        tiny(dir.path());
        assert_eq!(find_dataset_name(dir.path()).unwrap(), "T");
        assert_eq!(dataset_files(dir.path(), "T").len(), 4);
        write(dir.path(), "U", "A", "");
        let err = find_dataset_name(dir.path()).unwrap_err();
        assert!(
            matches!(&err, DataError::AmbiguousDataset { names, .. } if names == &["T", "U"]),
            "{err:?}"
        );
    }
}
