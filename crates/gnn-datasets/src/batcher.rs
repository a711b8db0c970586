//! Burn integration: [`GraphDataset`] (a validated `Dataset<Graph>`) and [`GraphBatcher`]
//! (a `Batcher` collating graphs into a [`GraphBatch`]).
//!
//! ```
//! use burn::backend::NdArray;
//! use burn::data::dataloader::DataLoaderBuilder;
//! use gnn_core::GraphBatch;
//! use gnn_datasets::{GraphBatcher, GraphDataset, ba_2motifs};
//!
//! type B = NdArray<f32>;
//! let dataset = GraphDataset::new(ba_2motifs(40, 0)).unwrap();
//! let loader = DataLoaderBuilder::<B, _, GraphBatch<B>>::new(GraphBatcher)
//!     .batch_size(16)
//!     .shuffle(7)
//!     .num_workers(1)
//!     .build(dataset);
//! let sizes: Vec<usize> = loader.iter().map(|batch| batch.num_graphs()).collect();
//! assert_eq!(sizes, vec![16, 16, 8]);
//! ```

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::Dataset;
use burn::tensor::backend::Backend;
use gnn_core::{Graph, GraphBatch};

use crate::error::{DataError, Result};
use crate::split::Fold;
use crate::tu::TuDataset;

/// A list of labelled graphs that can be batched together, checked once when built.
///
/// Every graph has a label, the same number of node features, the same edge feature width (or
/// none), edge weights all or none, and finite values. These are exactly the conditions under
/// which [`GraphBatch::from_graphs`] succeeds, so any selection of these graphs batches without
/// error: this is what lets [`GraphBatcher`] (whose trait method cannot return an error) be
/// used on it safely.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphDataset {
    graphs: Vec<Graph>,
    num_features: usize,
    edge_feature_dim: Option<usize>,
    num_classes: usize,
}

impl GraphDataset {
    /// Validates and wraps `graphs`. The number of classes is the largest label plus one
    /// (0 for no graph).
    ///
    /// # Errors
    /// [`DataError::MissingLabel`], [`DataError::IncompatibleGraph`] (naming what differs from
    /// graph 0) or [`DataError::Graph`] (a non-finite value).
    pub fn new(graphs: Vec<Graph>) -> Result<Self> {
        let first = graphs.first();
        let num_features = first.map_or(0, Graph::num_features);
        let edge_feature_dim = first.and_then(|g| g.edge_attr().map(|a| a.dim));
        let has_weight = first.is_some_and(|g| g.edge_weight().is_some());
        let mut num_classes = 0;
        for (index, g) in graphs.iter().enumerate() {
            let label = g.label().ok_or(DataError::MissingLabel { index })?;
            num_classes = num_classes.max(label + 1);
            let detail = if g.num_features() != num_features {
                format!(
                    "{} node features instead of {num_features}",
                    g.num_features()
                )
            } else if g.edge_attr().map(|a| a.dim) != edge_feature_dim {
                format!(
                    "edge features of width {:?} instead of {:?}",
                    g.edge_attr().map(|a| a.dim),
                    edge_feature_dim
                )
            } else if g.edge_weight().is_some() != has_weight {
                "edge weights present in one graph and absent in the other".to_string()
            } else {
                g.check_finite()
                    .map_err(|source| DataError::Graph { index, source })?;
                continue;
            };
            return Err(DataError::IncompatibleGraph { index, detail });
        }
        Ok(Self {
            graphs,
            num_features,
            edge_feature_dim,
            num_classes,
        })
    }

    /// Sets the number of classes, e.g. to keep a dataset's count in a subset that lacks a
    /// class.
    ///
    /// # Errors
    /// [`DataError::InvalidConfig`] when a label is `>= num_classes`.
    pub fn with_num_classes(mut self, num_classes: usize) -> Result<Self> {
        if num_classes < self.num_classes {
            return Err(DataError::InvalidConfig {
                message: format!(
                    "{num_classes} classes, but a graph has label {}",
                    self.num_classes - 1
                ),
            });
        }
        self.num_classes = num_classes;
        Ok(self)
    }

    /// The graphs.
    pub fn graphs(&self) -> &[Graph] {
        &self.graphs
    }

    /// The graphs, taken out.
    pub fn into_graphs(self) -> Vec<Graph> {
        self.graphs
    }

    /// Features per node, the same for every graph.
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// Features per edge, `None` when the graphs have none.
    pub fn edge_feature_dim(&self) -> Option<usize> {
        self.edge_feature_dim
    }

    /// Number of classes (labels are `0..num_classes`).
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// The label of each graph.
    pub fn labels(&self) -> Vec<usize> {
        self.graphs.iter().map(|g| g.label().unwrap_or(0)).collect()
    }

    /// The graphs at `indices` (in that order), keeping the number of classes.
    ///
    /// # Errors
    /// [`DataError::IndexOutOfRange`].
    pub fn subset(&self, indices: &[usize]) -> Result<Self> {
        let graphs = indices
            .iter()
            .map(|&index| {
                self.graphs
                    .get(index)
                    .cloned()
                    .ok_or(DataError::IndexOutOfRange {
                        index,
                        len: self.graphs.len(),
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            graphs,
            ..self.clone_meta()
        })
    }

    /// The `(train, valid, test)` datasets of a fold, after checking it ([`Fold::validate`]).
    ///
    /// # Errors
    /// Those of [`Fold::validate`].
    pub fn split(&self, fold: &Fold) -> Result<(Self, Self, Self)> {
        fold.validate(0, self.graphs.len())?;
        Ok((
            self.subset(&fold.train)?,
            self.subset(&fold.valid)?,
            self.subset(&fold.test)?,
        ))
    }

    fn clone_meta(&self) -> Self {
        Self {
            graphs: Vec::new(),
            num_features: self.num_features,
            edge_feature_dim: self.edge_feature_dim,
            num_classes: self.num_classes,
        }
    }
}

impl TryFrom<TuDataset> for GraphDataset {
    type Error = DataError;

    /// Keeps the TU dataset's number of classes.
    fn try_from(dataset: TuDataset) -> Result<Self> {
        let num_classes = dataset.num_classes();
        Self::new(dataset.into_graphs())?.with_num_classes(num_classes)
    }
}

impl Dataset<Graph> for GraphDataset {
    fn get(&self, index: usize) -> Option<Graph> {
        self.graphs.get(index).cloned()
    }

    fn len(&self) -> usize {
        self.graphs.len()
    }
}

/// Collates graphs into a [`GraphBatch`] with labels `y`, for Burn's `DataLoaderBuilder`.
///
/// # Panics
/// When the graphs of one batch cannot be batched together (different feature widths, a
/// missing label, ...). This cannot happen with graphs drawn from a [`GraphDataset`], which
/// checked at construction every condition [`GraphBatch::from_graphs`] needs; Burn's
/// `Batcher::batch` cannot return an error, so other graphs should go through
/// [`GraphDataset::new`] or [`GraphBatch::from_graphs`] directly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GraphBatcher;

impl<B: Backend> Batcher<B, Graph, GraphBatch<B>> for GraphBatcher {
    fn batch(&self, items: Vec<Graph>, device: &B::Device) -> GraphBatch<B> {
        GraphBatch::from_graphs(&items, device).unwrap_or_else(|e| {
            panic!("graphs cannot be batched together ({e}); build the dataset with GraphDataset::new, which checks this")
        })
    }
}

#[cfg(test)]
mod tests {
    use burn::data::dataloader::DataLoaderBuilder;
    use burn::tensor::{ElementConversion, Int, Tensor};

    use super::*;
    use crate::synthetic::ba_2motifs;

    fn graph(features: usize, label: Option<usize>) -> Graph {
        let g = Graph::new(2, features, vec![1.0; 2 * features], vec![(0, 1), (1, 0)]).unwrap();
        match label {
            Some(l) => g.with_label(l),
            None => g,
        }
    }

    #[test]
    fn construction_checks_what_batching_needs() {
        let ok = GraphDataset::new(vec![graph(3, Some(0)), graph(3, Some(2))]).unwrap();
        assert_eq!((ok.num_features(), ok.num_classes(), ok.len()), (3, 3, 2));
        assert_eq!(ok.edge_feature_dim(), None);
        assert!(matches!(
            GraphDataset::new(vec![graph(3, Some(0)), graph(3, None)]),
            Err(DataError::MissingLabel { index: 1 })
        ));
        let err = GraphDataset::new(vec![graph(3, Some(0)), graph(4, Some(0))]).unwrap_err();
        assert!(
            matches!(err, DataError::IncompatibleGraph { index: 1, .. }),
            "{err:?}"
        );
        let with_attr = graph(3, Some(0)).with_edge_attr(1, vec![0.0, 1.0]).unwrap();
        assert!(matches!(
            GraphDataset::new(vec![graph(3, Some(0)), with_attr]),
            Err(DataError::IncompatibleGraph { index: 1, .. })
        ));
        let nan = Graph::new(1, 1, vec![f32::NAN], vec![])
            .unwrap()
            .with_label(0);
        assert!(matches!(
            GraphDataset::new(vec![nan]),
            Err(DataError::Graph { index: 0, .. })
        ));
        assert!(GraphDataset::new(Vec::new()).unwrap().is_empty());
    }

    #[test]
    fn subsets_and_splits_keep_the_class_count() {
        let ds = GraphDataset::new(ba_2motifs(10, 1)).unwrap();
        let sub = ds.subset(&[0, 2, 4]).unwrap();
        assert_eq!(sub.labels(), vec![0, 0, 0]);
        assert_eq!(sub.num_classes(), 2);
        assert!(matches!(
            ds.subset(&[10]),
            Err(DataError::IndexOutOfRange { index: 10, len: 10 })
        ));
        let fold = Fold {
            train: vec![0, 1, 2, 3, 4, 5],
            valid: vec![6, 7],
            test: vec![8, 9],
        };
        let (train, valid, test) = ds.split(&fold).unwrap();
        assert_eq!((train.len(), valid.len(), test.len()), (6, 2, 2));
        let overlapping = Fold {
            test: vec![0],
            ..fold
        };
        assert!(matches!(
            ds.split(&overlapping),
            Err(DataError::SplitOverlap { .. })
        ));
        assert!(ds.clone().with_num_classes(1).is_err());
        assert_eq!(ds.with_num_classes(5).unwrap().num_classes(), 5);
    }

    fn loads_batches_with_labels<B: Backend>(device: &B::Device) {
        let dataset = GraphDataset::new(ba_2motifs(30, 5)).unwrap();
        let total_nodes: usize = dataset.graphs().iter().map(Graph::num_nodes).sum();
        let loader = DataLoaderBuilder::<B, Graph, GraphBatch<B>>::new(GraphBatcher)
            .batch_size(8)
            .shuffle(11)
            .num_workers(2)
            .set_device(device.clone())
            .build(dataset);
        let batches: Vec<GraphBatch<B>> = loader.iter().collect();
        let mut sizes: Vec<usize> = batches.iter().map(GraphBatch::num_graphs).collect();
        sizes.sort_unstable();
        assert_eq!(sizes, vec![6, 8, 8, 8]);
        assert_eq!(
            batches.iter().map(GraphBatch::num_nodes).sum::<usize>(),
            total_nodes
        );
        let mut ones = 0;
        for batch in &batches {
            assert_eq!(batch.num_features(), 8);
            let y: Tensor<B, 1, Int> = batch.y().expect("labels are batched").clone();
            assert_eq!(y.dims(), [batch.num_graphs()]);
            ones += y.sum().into_scalar().elem::<i64>();
        }
        assert_eq!(ones, 15, "15 cycles among 30 graphs");
    }

    #[test]
    fn a_tu_dataset_converts_keeping_its_classes() {
        let dir = tempfile::tempdir().unwrap();
        let write = |kind: &str, text: &str| {
            std::fs::write(dir.path().join(format!("Z_{kind}.txt")), text).unwrap()
        };
        write("A", "1, 2\n2, 1\n");
        write("graph_indicator", "1\n1\n2\n");
        write("graph_labels", "3\n7\n");
        let tu = crate::tu::load_tu(dir.path(), "Z", &Default::default()).unwrap();
        let ds = GraphDataset::try_from(tu).unwrap();
        assert_eq!(ds.num_classes(), 2);
        assert_eq!(ds.num_features(), 2, "one-hot degree 0..=1 by default");
    }

    gnn_core::backend_tests!(loads_batches_with_labels);
}
