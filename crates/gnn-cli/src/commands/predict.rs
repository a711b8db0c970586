//! `gnn predict`: a saved model's class probabilities for every graph of a dataset, as CSV or
//! JSON. The graphs need no label: a TU folder without `NAME_graph_labels.txt` is predicted on
//! as well.

use std::io::Write;
use std::path::Path;

use burn::backend::{Flex, NdArray};
use gnn_core::segment::SegmentBackend;
use gnn_core::{Graph, GraphBatch, host};
use gnn_models::Classifier;
use serde::Serialize;

use super::{CommandError, load_graphs};
use crate::atomic::write_atomic;
use crate::cli::{BackendArg, PredictArgs};
use crate::train::{Preprocessing, TrainError, load_model};

/// The prediction for one graph.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// Position of the graph in the dataset, from 0 (TU graph id minus 1).
    pub graph: usize,
    /// The most probable class, `0..num_classes` (a TU dataset's classes are its sorted
    /// distinct label values).
    pub predicted: usize,
    /// The probability of each class.
    pub probabilities: Vec<f64>,
}

/// Loads the model of `args.checkpoint`, prepares the graphs as its training did (attributes,
/// standardisation) and writes one prediction per graph to `--out` (JSON for a `.json` name,
/// else CSV) or as CSV to stdout.
///
/// # Errors
/// A dataset that cannot be read, a model that cannot be loaded or whose input width differs
/// from the graphs' ([`TrainError::FeatureWidth`]), graphs of a labelled dataset with more
/// classes than the model predicts ([`TrainError::TooManyClasses`]), an output file that cannot
/// be written, or `--backend wgpu` without the `wgpu` feature.
pub fn execute(args: &PredictArgs) -> Result<(), CommandError> {
    let preprocessing = Preprocessing::load(&args.checkpoint)?;
    let loaded = load_graphs(
        args.dataset.as_deref(),
        args.data_dir.as_deref(),
        args.use_node_attr || preprocessing.use_node_attributes,
        0,
        0,
    )?;
    let num_classes = loaded.num_classes;
    let graphs = preprocessing.apply_graphs(loaded.graphs)?;
    let predictions = match args.backend {
        BackendArg::Flex => predict_on::<Flex>(args, &graphs, num_classes)?,
        BackendArg::Ndarray => predict_on::<NdArray<f32>>(args, &graphs, num_classes)?,
        BackendArg::Wgpu => predict_wgpu(args, &graphs, num_classes)?,
    };
    match &args.out {
        Some(path) => {
            let mut text = Vec::new();
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            {
                serde_json::to_writer_pretty(&mut text, &predictions)?;
                text.push(b'\n');
            } else {
                write_csv(&mut text, &predictions).map_err(write_error(path))?;
            }
            write_atomic(path, &text).map_err(write_error(path))?;
            eprintln!(
                "{}: {} predictions written to {}",
                loaded.name,
                predictions.len(),
                path.display()
            );
        }
        None => write_csv(&mut std::io::stdout().lock(), &predictions)
            .map_err(write_error(Path::new("<stdout>")))?,
    }
    Ok(())
}

fn write_error(path: &Path) -> impl Fn(std::io::Error) -> CommandError + '_ {
    move |source| CommandError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// `graph,predicted,p0,p1,...`: a header, then one line per graph.
///
/// # Errors
/// Those of `out`.
pub fn write_csv(out: &mut impl Write, predictions: &[Prediction]) -> std::io::Result<()> {
    let classes = predictions.first().map_or(0, |p| p.probabilities.len());
    write!(out, "graph,predicted")?;
    for c in 0..classes {
        write!(out, ",p{c}")?;
    }
    writeln!(out)?;
    for p in predictions {
        write!(out, "{},{}", p.graph, p.predicted)?;
        for probability in &p.probabilities {
            write!(out, ",{probability}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn predict_on<B: SegmentBackend>(
    args: &PredictArgs,
    graphs: &[Graph],
    num_classes: usize,
) -> Result<Vec<Prediction>, CommandError> {
    let device = B::Device::default();
    let (model, _) = load_model::<B>(&args.checkpoint, &device)?;
    Ok(predict(
        &model,
        graphs,
        num_classes,
        args.batch_size,
        &device,
    )?)
}

#[cfg(feature = "wgpu")]
fn predict_wgpu(
    args: &PredictArgs,
    graphs: &[Graph],
    num_classes: usize,
) -> Result<Vec<Prediction>, CommandError> {
    predict_on::<burn::backend::Wgpu>(args, graphs, num_classes)
}

#[cfg(not(feature = "wgpu"))]
fn predict_wgpu(
    _args: &PredictArgs,
    _graphs: &[Graph],
    _num_classes: usize,
) -> Result<Vec<Prediction>, CommandError> {
    // `cli::parse` refuses `--backend wgpu` in a build without the feature.
    Err(CommandError::NoWgpu)
}

/// The predictions of `model` for `graphs`, in batches of `batch_size`. `num_classes`: the
/// classes of the graphs' labels (0 without labels), which must not exceed the model's.
///
/// Device reads: one per batch (the probabilities).
///
/// # Errors
/// [`TrainError::FeatureWidth`] when the graphs' width is not the model's input width,
/// [`TrainError::TooManyClasses`], or [`TrainError::Graph`] for graphs that cannot be batched
/// together (different widths).
pub fn predict<B: SegmentBackend>(
    model: &Classifier<B>,
    graphs: &[Graph],
    num_classes: usize,
    batch_size: usize,
    device: &B::Device,
) -> Result<Vec<Prediction>, TrainError> {
    if let Some(first) = graphs.first()
        && first.num_features() != model.d_input()
    {
        return Err(TrainError::FeatureWidth {
            model: model.d_input(),
            data: first.num_features(),
        });
    }
    if num_classes > model.num_classes() {
        return Err(TrainError::TooManyClasses {
            model: model.num_classes(),
            data: num_classes,
        });
    }
    let classes = model.num_classes();
    let mut predictions = Vec::with_capacity(graphs.len());
    for chunk in graphs.chunks(batch_size.max(1)) {
        let batch = GraphBatch::<B>::from_graphs(chunk, device)?;
        let probabilities = host::floats(model.forward(batch).exp());
        for row in probabilities.chunks(classes) {
            // The first of equally probable classes, as `argmax`.
            let predicted = row
                .iter()
                .enumerate()
                .fold(0, |best, (c, &p)| if p > row[best] { c } else { best });
            predictions.push(Prediction {
                graph: predictions.len(),
                predicted,
                probabilities: row.to_vec(),
            });
        }
    }
    Ok(predictions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gnn_core::testing::tiny_graphs;
    use gnn_models::{ClassifierConfig, GlobalClassifierConfig};

    use crate::train::save_model;

    fn unlabelled(count: usize) -> Vec<Graph> {
        tiny_graphs(count)
            .into_iter()
            .map(|g| {
                Graph::new(
                    g.num_nodes(),
                    g.num_features(),
                    g.x().to_vec(),
                    g.edges().to_vec(),
                )
                .expect("valid")
            })
            .collect()
    }

    fn predicts_probabilities_for_unlabelled_graphs<B: SegmentBackend>(device: &B::Device) {
        let config = ClassifierConfig::from(GlobalClassifierConfig::new(3, 4).with_hidden(8));
        let model = config.init::<B>(device).expect("valid");
        let graphs = unlabelled(7);
        let predictions = predict(&model, &graphs, 0, 3, device).expect("fits");
        assert_eq!(predictions.len(), 7);
        let forward = host::floats(
            model
                .forward(GraphBatch::from_graphs(&graphs, device).expect("batch"))
                .exp(),
        );
        for (p, row) in predictions.iter().zip(forward.chunks(4)) {
            assert_eq!(p.probabilities.len(), 4);
            assert!((p.probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-5);
            for (a, b) in p.probabilities.iter().zip(row) {
                assert!((a - b).abs() < 1e-6, "{a} vs {b}");
            }
            let best = p.probabilities[p.predicted];
            assert!(p.probabilities.iter().all(|&q| q <= best));
        }
        assert_eq!(
            predictions.iter().map(|p| p.graph).collect::<Vec<_>>(),
            (0..7).collect::<Vec<_>>()
        );
        assert!(
            predict(&model, &[], 0, 3, device)
                .expect("nothing")
                .is_empty()
        );
        let wide = vec![Graph::new(1, 5, vec![0.0; 5], vec![]).expect("graph")];
        assert!(matches!(
            predict(&model, &wide, 0, 3, device),
            Err(TrainError::FeatureWidth { model: 3, data: 5 })
        ));
        assert!(matches!(
            predict(&model, &graphs, 6, 3, device),
            Err(TrainError::TooManyClasses { model: 4, data: 6 })
        ));
        // CSV: a header, then one line per graph; JSON reads back.
        let mut csv = Vec::new();
        write_csv(&mut csv, &predictions).expect("writes");
        let text = String::from_utf8(csv).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "graph,predicted,p0,p1,p2,p3");
        assert_eq!(lines.len(), 8);
        assert!(lines[3].starts_with(&format!("2,{},", predictions[2].predicted)));
    }

    /// The command end to end: a saved model, a TU folder without graph labels, JSON out.
    #[test]
    fn the_command_writes_json_for_a_tu_folder_without_labels() {
        type B = NdArray<f32>;
        let device = Default::default();
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("U");
        std::fs::create_dir(&data).expect("dir");
        let file = |kind: &str, text: &str| {
            std::fs::write(data.join(format!("U_{kind}.txt")), text).expect("writes")
        };
        file("A", "1, 2\n2, 1\n3, 4\n4, 3\n");
        file("graph_indicator", "1\n1\n2\n2\n3\n");
        file("node_labels", "0\n1\n2\n0\n1\n");
        let config = ClassifierConfig::from(GlobalClassifierConfig::new(3, 2).with_hidden(8));
        let model = config.init::<B>(&device).expect("valid");
        let checkpoint = dir.path().join("model");
        std::fs::create_dir(&checkpoint).expect("dir");
        save_model(model, &config, &checkpoint).expect("saves");
        let out = dir.path().join("predictions.json");
        let args = PredictArgs {
            checkpoint: checkpoint.clone(),
            data_dir: Some(data.clone()),
            dataset: None,
            use_node_attr: false,
            out: Some(out.clone()),
            batch_size: 2,
            backend: BackendArg::Ndarray,
        };
        execute(&args).expect("predicts");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("json");
        let rows = json.as_array().expect("array");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2]["graph"], 2);
        assert_eq!(rows[0]["probabilities"].as_array().expect("list").len(), 2);
        // A model of another input width gets the typed error, not a panic.
        let other = ClassifierConfig::from(GlobalClassifierConfig::new(4, 2).with_hidden(8));
        save_model(
            other.init::<B>(&device).expect("valid"),
            &other,
            &checkpoint,
        )
        .expect("saves");
        assert!(matches!(
            execute(&args),
            Err(CommandError::Train(TrainError::FeatureWidth {
                model: 4,
                data: 3
            }))
        ));
    }

    gnn_core::backend_tests!(predicts_probabilities_for_unlabelled_graphs);
}
