//! Fuzzing [`load_tu`]: arbitrary bytes, and valid datasets with random formatting and
//! mutations, as the contents of each TU file (`NAME_A.txt`, `NAME_graph_indicator.txt`,
//! `NAME_graph_labels.txt`, node and edge labels and attributes, each possibly absent), under
//! random [`TuOptions`]. Either a consistent dataset or a typed [`DataError`], never a panic.

use std::path::Path;

use gnn_core::testing::{Outcome, fuzz};
use proptest::prelude::*;

use super::*;

/// The files of a dataset, in this order.
const KINDS: [&str; 7] = [
    "A",
    "graph_indicator",
    "graph_labels",
    "node_labels",
    "node_attributes",
    "edge_labels",
    "edge_attributes",
];

/// What one fuzz input writes and asks for: the contents of each file of [`KINDS`] (`None`:
/// absent) and the reading options.
#[derive(Clone)]
struct TuCase {
    files: [Option<Vec<u8>>; 7],
    options: TuOptions,
}

impl std::fmt::Debug for TuCase {
    /// The files as text (lossy), so that a failing input reads like the files.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("TuCase");
        for (kind, file) in KINDS.iter().zip(&self.files) {
            s.field(kind, &file.as_ref().map(|b| String::from_utf8_lossy(b)));
        }
        s.field("options", &self.options).finish()
    }
}

/// One edit of a file's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the byte at `position % len`.
    Byte { position: u16, byte: u8 },
    /// Insert a token at `position % (len + 1)`.
    Insert { position: u16, token: &'static str },
    /// Cut the file at `position % (len + 1)`.
    Truncate { position: u16 },
    /// Remove the line `line % lines`.
    DeleteLine { line: u16 },
    /// Repeat the line `line % lines`.
    DuplicateLine { line: u16 },
}

/// Tokens that stress the number parser and the line structure.
const TOKENS: [&str; 18] = [
    ",",
    ", ",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\n\n",
    "-",
    "0",
    "-1",
    "2.0",
    "1.5",
    "1e3",
    "nan",
    "inf",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999",
];

/// A valid dataset: graph sizes (0 allowed), labels, edges inside graphs, optional label and
/// attribute columns; written with random separators and line endings.
#[derive(Debug, Clone)]
struct Spec {
    nodes_per_graph: Vec<usize>,
    graph_labels: Vec<i64>,
    edge_seeds: Vec<(u16, u16)>,
    node_label_columns: Vec<Vec<i64>>,
    node_attribute_columns: usize,
    edge_label_columns: Vec<Vec<i64>>,
    edge_attribute_columns: usize,
    style: (u8, bool, bool, u8),
}

fn label() -> impl Strategy<Value = i64> {
    prop_oneof![
        10 => -2i64..6,
        1 => Just(70_000i64),
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        proptest::collection::vec(0usize..5, 1..5),
        proptest::collection::vec(label(), 4),
        proptest::collection::vec((any::<u16>(), any::<u16>()), 0..12),
        proptest::collection::vec(proptest::collection::vec(label(), 1..4), 0..3),
        0usize..3,
        proptest::collection::vec(proptest::collection::vec(label(), 1..4), 0..3),
        0usize..3,
        (0u8..4, any::<bool>(), any::<bool>(), 0u8..3),
    )
        .prop_map(
            |(
                nodes_per_graph,
                graph_labels,
                edge_seeds,
                node_label_columns,
                node_attribute_columns,
                edge_label_columns,
                edge_attribute_columns,
                style,
            )| Spec {
                nodes_per_graph,
                graph_labels,
                edge_seeds,
                node_label_columns,
                node_attribute_columns,
                edge_label_columns,
                edge_attribute_columns,
                style,
            },
        )
}

/// Writes a table: `style = (separator, trailing separator, CRLF, trailing blank lines)`.
fn table(rows: impl Iterator<Item = Vec<String>>, style: (u8, bool, bool, u8)) -> Vec<u8> {
    let separator = [", ", ",", " ", "\t"][usize::from(style.0)];
    let newline = if style.2 { "\r\n" } else { "\n" };
    let mut text = String::new();
    for row in rows {
        text.push_str(&row.join(separator));
        if style.1 {
            text.push(',');
        }
        text.push_str(newline);
    }
    for _ in 0..style.3 {
        text.push_str(newline);
    }
    text.into_bytes()
}

/// Column `c` of a label table for `rows` rows: its values, cycled.
fn label_rows(columns: &[Vec<i64>], rows: usize) -> impl Iterator<Item = Vec<String>> + '_ {
    (0..rows).map(move |r| columns.iter().map(|c| c[r % c.len()].to_string()).collect())
}

fn attribute_rows(columns: usize, rows: usize) -> impl Iterator<Item = Vec<String>> {
    (0..rows).map(move |r| {
        (0..columns)
            .map(|c| format!("{}", (r * 3 + c) as f32 * 0.25 - 1.0))
            .collect()
    })
}

fn render(spec: &Spec) -> [Option<Vec<u8>>; 7] {
    let offsets: Vec<usize> = std::iter::once(0)
        .chain(spec.nodes_per_graph.iter().scan(0, |sum, &n| {
            *sum += n;
            Some(*sum)
        }))
        .collect();
    let num_nodes = *offsets.last().unwrap_or(&0);
    let node_graph: Vec<usize> = spec
        .nodes_per_graph
        .iter()
        .enumerate()
        .flat_map(|(g, &n)| std::iter::repeat_n(g, n))
        .collect();
    let edges: Vec<(usize, usize)> = if num_nodes == 0 {
        Vec::new()
    } else {
        spec.edge_seeds
            .iter()
            .map(|&(a, b)| {
                let s = usize::from(a) % num_nodes;
                let g = node_graph[s];
                (s, offsets[g] + usize::from(b) % spec.nodes_per_graph[g])
            })
            .collect()
    };
    let optional = |columns: usize, file: Vec<u8>| (columns > 0).then_some(file);
    [
        Some(table(
            edges
                .iter()
                .map(|&(s, t)| vec![(s + 1).to_string(), (t + 1).to_string()]),
            spec.style,
        )),
        Some(table(
            node_graph.iter().map(|g| vec![(g + 1).to_string()]),
            spec.style,
        )),
        Some(table(
            (0..spec.nodes_per_graph.len())
                .map(|g| vec![spec.graph_labels[g % spec.graph_labels.len()].to_string()]),
            spec.style,
        )),
        optional(
            spec.node_label_columns.len(),
            table(label_rows(&spec.node_label_columns, num_nodes), spec.style),
        ),
        optional(
            spec.node_attribute_columns,
            table(
                attribute_rows(spec.node_attribute_columns, num_nodes),
                spec.style,
            ),
        ),
        optional(
            spec.edge_label_columns.len(),
            table(
                label_rows(&spec.edge_label_columns, edges.len()),
                spec.style,
            ),
        ),
        optional(
            spec.edge_attribute_columns,
            table(
                attribute_rows(spec.edge_attribute_columns, edges.len()),
                spec.style,
            ),
        ),
    ]
}

fn mutate(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len();
    match *mutation {
        Mutation::Byte { position, byte } if len > 0 => bytes[usize::from(position) % len] = byte,
        Mutation::Insert { position, token } => {
            let at = usize::from(position) % (len + 1);
            bytes.splice(at..at, token.bytes());
        }
        Mutation::Truncate { position } => bytes.truncate(usize::from(position) % (len + 1)),
        Mutation::DeleteLine { line } | Mutation::DuplicateLine { line } => {
            let mut lines: Vec<Vec<u8>> =
                bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
            let i = usize::from(line) % lines.len();
            if matches!(mutation, Mutation::DeleteLine { .. }) {
                lines.remove(i);
            } else {
                lines.insert(i, lines[i].clone());
            }
            *bytes = lines.join(&b'\n');
        }
        Mutation::Byte { .. } => {}
    }
}

fn mutation() -> impl Strategy<Value = (usize, Mutation)> {
    let edit = prop_oneof![
        (any::<u16>(), any::<u8>()).prop_map(|(position, byte)| Mutation::Byte { position, byte }),
        (any::<u16>(), proptest::sample::select(&TOKENS[..]))
            .prop_map(|(position, token)| Mutation::Insert { position, token }),
        any::<u16>().prop_map(|position| Mutation::Truncate { position }),
        any::<u16>().prop_map(|line| Mutation::DeleteLine { line }),
        any::<u16>().prop_map(|line| Mutation::DuplicateLine { line }),
    ];
    (0..KINDS.len(), edit)
}

fn options() -> impl Strategy<Value = TuOptions> {
    let degree = prop_oneof![
        2 => Just(None),
        2 => (0usize..6).prop_map(|max_degree| Some(DegreeFeatures::OneHot { max_degree })),
        1 => Just(Some(DegreeFeatures::Scalar)),
        1 => proptest::sample::select(vec![MAX_ONE_HOT_WIDTH, 1 << 40, usize::MAX])
            .prop_map(|max_degree| Some(DegreeFeatures::OneHot { max_degree })),
    ];
    (any::<bool>(), any::<bool>(), any::<bool>(), degree).prop_map(
        |(nodes, edges, coalesce, degree)| TuOptions {
            use_node_attributes: nodes,
            use_edge_attributes: edges,
            degree_features: degree,
            coalesce,
        },
    )
}

/// Arbitrary bytes in every file (each present or not).
fn arbitrary_files() -> impl Strategy<Value = [Option<Vec<u8>>; 7]> {
    let file = || {
        proptest::option::weighted(
            0.8,
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..48),
                // Bytes from the alphabet of the format, more likely to parse.
                proptest::collection::vec(
                    proptest::sample::select(b"0123456789-, \n\t.e\r".to_vec()),
                    0..48
                ),
            ],
        )
    };
    [file(), file(), file(), file(), file(), file(), file()]
}

fn tu_case() -> impl Strategy<Value = TuCase> {
    let mutated =
        (spec(), proptest::collection::vec(mutation(), 0..4)).prop_map(|(spec, mutations)| {
            let mut files = render(&spec);
            for (file, mutation) in &mutations {
                if let Some(bytes) = &mut files[*file] {
                    mutate(bytes, mutation);
                }
            }
            files
        });
    let files = prop_oneof![3 => mutated, 1 => arbitrary_files()];
    (files, options()).prop_map(|(files, options)| TuCase { files, options })
}

/// What a dataset read without error must satisfy.
fn check_dataset(ds: &TuDataset) -> Result<(), TestCaseError> {
    prop_assert!(!ds.is_empty());
    prop_assert!(ds.class_values().windows(2).all(|w| w[0] < w[1]));
    let features = ds.num_node_features();
    let edge_features = ds.num_edge_features();
    for graph in ds.graphs() {
        prop_assert_eq!(graph.num_features(), features);
        prop_assert_eq!(graph.x().len(), graph.num_nodes() * features);
        prop_assert!(graph.x().iter().all(|v| v.is_finite()));
        prop_assert!(graph.label().is_some_and(|l| l < ds.num_classes()));
        prop_assert!(
            graph
                .edges()
                .iter()
                .all(|&(s, t)| s < graph.num_nodes() && t < graph.num_nodes())
        );
        match graph.edge_attr() {
            Some(attr) => {
                prop_assert_eq!(attr.dim, edge_features);
                prop_assert_eq!(attr.values.len(), graph.num_edges() * edge_features);
            }
            None => prop_assert_eq!(edge_features, 0),
        }
    }
    Ok(())
}

fn check(case: TuCase, dir: &Path) -> Result<Outcome, TestCaseError> {
    for (kind, file) in KINDS.iter().zip(&case.files) {
        let path = dir.join(format!("F_{kind}.txt"));
        match file {
            Some(bytes) => std::fs::write(&path, bytes).expect("write to the temporary folder"),
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let result = load_tu(dir, "F", &case.options);
    match &result {
        Ok(ds) => check_dataset(ds)?,
        Err(error) => prop_assert!(!error.to_string().is_empty()),
    }
    Ok(Outcome::of(&result))
}

#[test]
fn fuzz_load_tu() {
    // Each input writes up to 7 files: in memory (tmpfs) where there is one, so that a busy
    // disk does not slow the test down.
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("a temporary folder");
    let path = dir.path().to_path_buf();
    fuzz("load_tu (TU files)", 1000, tu_case(), move |case| {
        check(case, &path)
    });
}
