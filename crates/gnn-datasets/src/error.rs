//! [`DataError`]: everything that can go wrong while reading, fetching, splitting or batching data.

use std::path::PathBuf;

use gnn_core::GraphError;
use thiserror::Error;

/// Result alias of the data layer.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

/// Everything that can be wrong with a dataset on disk, a download, a split or a set of graphs.
///
/// Errors about a file name the file and, where there is one, the 1-based line number, so that
/// `path:line` can be pasted into an editor.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DataError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A file the format requires is absent.
    #[error("{}: required file is missing", path.display())]
    MissingFile {
        /// The expected path.
        path: PathBuf,
    },
    /// A required file holds no data line.
    #[error("{}: file is empty", path.display())]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// A field is not a number (or not an integer where one is required).
    #[error("{}:{line}: column {column}: {field:?} is not {expected}", path.display())]
    NotANumber {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 1-based column number.
        column: usize,
        /// The offending text.
        field: String,
        /// What was expected, e.g. `"an integer"`.
        expected: &'static str,
    },
    /// A line has a different number of columns than the format (or the first line) says.
    #[error("{}:{line}: expected {expected} column(s), found {found}", path.display())]
    ColumnCount {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Columns expected.
        expected: usize,
        /// Columns found.
        found: usize,
    },
    /// A blank line in the middle of a file (blank lines are only allowed at its end).
    #[error("{}:{line}: blank line before the end of the file", path.display())]
    BlankLine {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// Integer labels span too wide a range to be one-hot encoded.
    #[error("{}: column {column}: labels span {min}..={max}, too wide a range to one-hot encode (at most {limit} values)", path.display())]
    LabelRange {
        /// The file.
        path: PathBuf,
        /// 1-based column number.
        column: usize,
        /// Smallest label.
        min: i64,
        /// Largest label.
        max: i64,
        /// The largest number of distinct values accepted.
        limit: usize,
    },
    /// A file has more or fewer lines than another file of the dataset says it must.
    #[error("{}: expected {expected} line(s) ({what}), found {found}", path.display())]
    LineCount {
        /// The file.
        path: PathBuf,
        /// Data lines expected.
        expected: usize,
        /// Data lines found.
        found: usize,
        /// Why that many, e.g. `"one per node"`.
        what: &'static str,
    },
    /// An edge names a node id outside `1..=num_nodes` (TU node ids are 1-based).
    #[error("{}:{line}: node id {node} is out of range 1..={num_nodes}", path.display())]
    NodeOutOfRange {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The offending (1-based) node id.
        node: i64,
        /// Number of nodes in the dataset.
        num_nodes: usize,
    },
    /// The graph indicator names a graph outside `1..=num_graphs` (graph ids are 1-based).
    #[error("{}:{line}: graph id {graph} is out of range 1..={num_graphs}", path.display())]
    GraphOutOfRange {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The offending (1-based) graph id.
        graph: i64,
        /// Number of graphs (lines of the graph label file).
        num_graphs: usize,
    },
    /// The graph indicator must be non-decreasing: the nodes of a graph are contiguous.
    #[error("{}:{line}: graph indicator is not sorted: graph {found} after graph {previous}", path.display())]
    IndicatorNotSorted {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The graph id on the line before.
        previous: i64,
        /// The graph id on this line.
        found: i64,
    },
    /// An edge joins nodes of two different graphs.
    #[error("{}:{line}: edge ({source_node}, {target_node}) joins graph {source_graph} to graph {target_graph}", path.display())]
    EdgeAcrossGraphs {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 1-based source node id.
        source_node: usize,
        /// 1-based target node id.
        target_node: usize,
        /// 1-based graph of the source.
        source_graph: usize,
        /// 1-based graph of the target.
        target_graph: usize,
    },
    /// A folder holds no `NAME_A.txt`.
    #[error("{}: no TU dataset found (no file named NAME_A.txt)", dir.display())]
    NoDataset {
        /// The folder searched.
        dir: PathBuf,
    },
    /// A folder holds several `NAME_A.txt` files.
    #[error("{}: several TU datasets found ({}); name the one to load", dir.display(), names.join(", "))]
    AmbiguousDataset {
        /// The folder searched.
        dir: PathBuf,
        /// The names found.
        names: Vec<String>,
    },
    /// A dataset name that cannot be a TU dataset (only ASCII letters, digits, `_` and `-`).
    #[error("{name:?} is not a valid dataset name (use ASCII letters, digits, '_' and '-')")]
    InvalidName {
        /// The name given.
        name: String,
    },
    /// A dataset is not in the cache, and this build cannot download it (the `download`
    /// feature of `gnn-datasets` is off).
    #[error("dataset {name} is not in the cache ({}) and downloading is off (the `download` feature of gnn-datasets is not enabled); put the files there or enable the feature", dir.display())]
    NotCached {
        /// The dataset requested.
        name: String,
        /// Where its files were looked for, `CACHE/NAME`.
        dir: PathBuf,
    },
    /// No cache folder could be chosen: `GNN_DATA_DIR` is unset and the platform has no user
    /// cache folder (no home directory).
    #[error("no dataset cache folder: set GNN_DATA_DIR (the platform has no user cache folder)")]
    NoCacheDir,
    /// The server answered with an HTTP error status.
    #[error("{url}: HTTP status {status}")]
    HttpStatus {
        /// The address requested.
        url: String,
        /// The status code, e.g. 404.
        status: u16,
    },
    /// The download failed (connection, TLS, timeout, truncated body...).
    #[error("{url}: download failed: {message}")]
    Download {
        /// The address requested.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The downloaded archive is not a valid zip file, or an entry could not be unpacked.
    #[error("{url}: bad zip archive: {message}")]
    BadArchive {
        /// Where the archive came from.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The archive unpacked but holds no `NAME_A.txt` for the requested name.
    #[error("{url}: archive holds no {name}_A.txt")]
    ArchiveWithoutDataset {
        /// Where the archive came from.
        url: String,
        /// The dataset requested.
        name: String,
    },
    /// A split file is not valid JSON of the expected shape.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A split refers to a graph that does not exist.
    #[error("fold {fold}: {set} index {index} is out of range for {num_graphs} graphs")]
    SplitIndexOutOfRange {
        /// 0-based fold number.
        fold: usize,
        /// `"train"`, `"valid"` or `"test"`.
        set: &'static str,
        /// The offending index.
        index: usize,
        /// Number of graphs.
        num_graphs: usize,
    },
    /// A graph appears twice in one set or in two sets of a fold.
    #[error("fold {fold}: graph {index} is in {first} and in {second}")]
    SplitOverlap {
        /// 0-based fold number.
        fold: usize,
        /// The set it appears in first.
        first: &'static str,
        /// The set it appears in again (equal to `first` for a duplicate).
        second: &'static str,
        /// The graph index.
        index: usize,
    },
    /// Split parameters that make no sense (k < 2, fractions not summing to 1, ...).
    #[error("invalid split: {message}")]
    InvalidSplit {
        /// What is wrong.
        message: String,
    },
    /// An index into a dataset is out of range.
    #[error("index {index} is out of range for a dataset of {len} graphs")]
    IndexOutOfRange {
        /// The offending index.
        index: usize,
        /// Number of graphs.
        len: usize,
    },
    /// A generator or transform was given parameters that make no sense.
    #[error("invalid configuration: {message}")]
    InvalidConfig {
        /// What is wrong.
        message: String,
    },
    /// A node attribute to standardise is NaN or infinite.
    #[error("graph {graph}, node {node}: attribute {column} is {value}, not a finite number")]
    NonFiniteAttribute {
        /// Position of the graph.
        graph: usize,
        /// Node within the graph.
        node: usize,
        /// Attribute column.
        column: usize,
        /// The value.
        value: f32,
    },
    /// A graph has fewer node features than a transform needs.
    #[error("graph {graph} has {found} node features, fewer than the {needed} needed")]
    TooFewFeatures {
        /// Position of the graph.
        graph: usize,
        /// Its node features.
        found: usize,
        /// The features needed.
        needed: usize,
    },
    /// A graph lacks a class label, which a classification dataset needs.
    #[error("graph {index} has no label")]
    MissingLabel {
        /// Position of the graph in the dataset.
        index: usize,
    },
    /// A graph cannot be batched with the first one (different feature widths, ...).
    #[error("graph {index} is incompatible with graph 0: {detail}")]
    IncompatibleGraph {
        /// Position of the graph in the dataset.
        index: usize,
        /// What differs.
        detail: String,
    },
    /// A graph holds an invalid value (non-finite feature, ...), or could not be built.
    #[error("graph {index}: {source}")]
    Graph {
        /// Position of the graph in the dataset.
        index: usize,
        /// The error from `gnn-core`.
        #[source]
        source: GraphError,
    },
}

impl DataError {
    /// The same error, a [`DataError::Graph`] naming the graph at `index` (other errors are
    /// returned unchanged).
    pub(crate) fn in_graph(self, index: usize) -> Self {
        match self {
            Self::Graph { source, .. } => Self::Graph { index, source },
            other => other,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
