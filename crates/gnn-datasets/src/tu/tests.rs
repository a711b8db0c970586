//! Tests of [`load_tu`](super::load_tu) as a whole, on small datasets written to a temporary
//! folder.

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
fn without_graph_labels_the_graphs_are_unlabelled_and_training_refuses_them() {
    let dir = tempfile::tempdir().unwrap();
    tiny(dir.path());
    std::fs::remove_file(dir.path().join("T_graph_labels.txt")).unwrap();
    let ds = load_tu(dir.path(), "T", &TuOptions::default()).unwrap();
    assert_eq!((ds.len(), ds.num_nodes(), ds.num_classes()), (2, 5, 0));
    assert!(!ds.is_labelled());
    assert!(ds.graphs().iter().all(|g| g.label().is_none()));
    assert_eq!(ds.graphs()[1].edges(), &[(0, 1), (1, 0)]);
    let labelled = {
        tiny(dir.path());
        load_tu(dir.path(), "T", &TuOptions::default()).unwrap()
    };
    assert!(labelled.is_labelled());
    assert!(matches!(
        crate::GraphDataset::try_from(ds),
        Err(DataError::MissingLabel { index: 0 })
    ));
    // Without labels to count the graphs, an indicator id above the node count is refused
    // before anything is allocated for it.
    std::fs::remove_file(dir.path().join("T_graph_labels.txt")).unwrap();
    write(
        dir.path(),
        "T",
        "graph_indicator",
        "1\n1\n1\n2\n999999999999\n",
    );
    let err = load_tu(dir.path(), "T", &TuOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::GraphOutOfRange {
                line: 5,
                num_graphs: 5,
                ..
            }
        ),
        "{err:?}"
    );
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
    let capped = TuOptions::new().with_degree_features(DegreeFeatures::OneHot { max_degree: 2 });
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

#[test]
fn coalescing_can_be_turned_off_and_is_the_named_transforms() {
    let dir = tempfile::tempdir().unwrap();
    tiny(dir.path());
    let raw = load_tu(dir.path(), "T", &TuOptions::new().with_coalesce(false)).unwrap();
    // As T_A.txt lists them: the duplicate (1, 2) and the self loop (2, 2) are kept.
    assert_eq!(
        raw.graphs()[0].edges(),
        &[
            (0, 1),
            (1, 0),
            (1, 2),
            (2, 1),
            (0, 2),
            (2, 0),
            (0, 1),
            (1, 1)
        ]
    );
    assert_eq!(raw.num_edges(), 10);
    let coalesced = load_tu(dir.path(), "T", &TuOptions::default()).unwrap();
    assert!(TuOptions::default().coalesce);
    let by_hand = Compose::new()
        .then(RemoveSelfLoops)
        .then(Coalesce)
        .apply_all(raw.into_graphs())
        .unwrap();
    assert_eq!(coalesced.graphs(), &by_hand[..]);
}

#[test]
fn without_coalescing_degrees_count_every_listed_edge() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "S", "A", "1,2\n2,1\n1,2\n1,1\n");
    write(dir.path(), "S", "graph_indicator", "1\n1\n");
    write(dir.path(), "S", "graph_labels", "0\n");
    let raw = load_tu(dir.path(), "S", &TuOptions::new().with_coalesce(false)).unwrap();
    assert_eq!(
        raw.degree_features(),
        Some(DegreeFeatures::OneHot { max_degree: 3 })
    );
    assert_eq!(raw.graphs()[0].node_features(0), &[0.0, 0.0, 0.0, 1.0]);
    let clean = load_tu(dir.path(), "S", &TuOptions::default()).unwrap();
    assert_eq!(
        clean.degree_features(),
        Some(DegreeFeatures::OneHot { max_degree: 1 })
    );
    assert_eq!(clean.graphs()[0].x(), &[0.0, 1.0, 0.0, 1.0]);
}
