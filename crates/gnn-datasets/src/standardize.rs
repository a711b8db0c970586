//! [`Standardize`]: continuous node attributes scaled to zero mean and unit variance, with
//! statistics fitted on the training graphs only.
//!
//! TU attributes come in their own units (ENZYMES' 18 attributes reach ~140 in magnitude),
//! which stalls training next to one-hot labels in `[0, 1]`. The statistics are fitted on the
//! training split alone (fitting them on the test graphs would leak them), saved with the
//! model and applied unchanged to validation, test and prediction graphs.

use gnn_core::Graph;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::transforms::GraphTransform;

/// Per-column `(x - mean) / std` of the first `mean.len()` node feature columns (the TU
/// attributes, which come first); the other columns (one-hot labels, degree features) pass
/// unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardize {
    /// Mean of each standardised column over the fitted nodes.
    pub mean: Vec<f64>,
    /// Population standard deviation of each column; a constant column keeps 1, so it is only
    /// centred.
    pub std: Vec<f64>,
}

impl Standardize {
    /// Fits the statistics of the first `columns` node feature columns over every node of
    /// `graphs` (a training split). Graphs without nodes count for nothing; with no node at
    /// all, the transform is the identity (mean 0, std 1).
    ///
    /// # Errors
    /// [`DataError::TooFewFeatures`] when a graph has fewer than `columns` features,
    /// [`DataError::NonFiniteAttribute`] for a NaN or infinite value.
    pub fn fit(graphs: &[Graph], columns: usize) -> Result<Self> {
        let mut sum = vec![0.0f64; columns];
        let mut count = 0usize;
        for (index, graph) in graphs.iter().enumerate() {
            Self::check_width(graph, columns, index)?;
            for node in 0..graph.num_nodes() {
                for (c, &v) in graph.node_features(node)[..columns].iter().enumerate() {
                    if !v.is_finite() {
                        return Err(DataError::NonFiniteAttribute {
                            graph: index,
                            node,
                            column: c,
                            value: v,
                        });
                    }
                    sum[c] += f64::from(v);
                }
            }
            count += graph.num_nodes();
        }
        let n = count.max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let mut squares = vec![0.0f64; columns];
        for graph in graphs {
            for node in 0..graph.num_nodes() {
                for (c, &v) in graph.node_features(node)[..columns].iter().enumerate() {
                    squares[c] += (f64::from(v) - mean[c]).powi(2);
                }
            }
        }
        let std = squares
            .iter()
            .map(|s| (s / n).sqrt())
            .map(|s| if s > 0.0 { s } else { 1.0 })
            .collect();
        Ok(Self { mean, std })
    }

    /// Number of columns it standardises.
    pub fn columns(&self) -> usize {
        self.mean.len()
    }

    fn check_width(graph: &Graph, columns: usize, index: usize) -> Result<()> {
        if graph.num_features() < columns {
            return Err(DataError::TooFewFeatures {
                graph: index,
                found: graph.num_features(),
                needed: columns,
            });
        }
        Ok(())
    }
}

impl GraphTransform for Standardize {
    fn apply(&self, graph: Graph) -> Result<Graph> {
        Self::check_width(&graph, self.columns(), 0)?;
        let width = graph.num_features();
        let mut x = graph.x().to_vec();
        for row in x.chunks_mut(width.max(1)) {
            for (c, value) in row[..self.columns()].iter_mut().enumerate() {
                *value = ((f64::from(*value) - self.mean[c]) / self.std[c]) as f32;
            }
        }
        graph
            .with_features(width, x)
            .map_err(|source| DataError::Graph { index: 0, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(rows: &[[f32; 3]]) -> Graph {
        let x = rows.iter().flatten().copied().collect();
        Graph::new(rows.len(), 3, x, vec![]).unwrap().with_label(0)
    }

    #[test]
    fn fits_on_the_given_graphs_and_leaves_other_columns() {
        let train = [
            graph(&[[1.0, 10.0, 1.0], [3.0, 10.0, 0.0]]),
            graph(&[]),
            graph(&[[5.0, 10.0, 1.0]]),
        ];
        let scaler = Standardize::fit(&train, 2).unwrap();
        // Column 0: mean 3, population std sqrt(8/3); column 1 is constant: std kept at 1.
        assert_eq!(scaler.mean, vec![3.0, 10.0]);
        assert!((scaler.std[0] - (8.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(scaler.std[1], 1.0);
        let fitted = scaler.apply_all(train.to_vec()).unwrap();
        let column0: Vec<f32> = fitted
            .iter()
            .flat_map(|g| (0..g.num_nodes()).map(move |n| g.node_features(n)[0]))
            .collect();
        let mean: f32 = column0.iter().sum::<f32>() / 3.0;
        let var: f32 = column0.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 3.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5, "{column0:?}");
        assert_eq!(&fitted[0].node_features(1)[1..], &[0.0, 0.0]);
        // A graph not fitted on gets the training statistics, not its own.
        let test = scaler.apply(graph(&[[3.0, 12.0, 1.0]])).unwrap();
        assert_eq!(test.node_features(0), &[0.0, 2.0, 1.0]);
        assert_eq!(test.label(), Some(0));
        let json = serde_json::to_string(&scaler).unwrap();
        assert_eq!(serde_json::from_str::<Standardize>(&json).unwrap(), scaler);
    }

    #[test]
    fn refuses_narrow_graphs_and_non_finite_values_and_fits_nothing_as_identity() {
        let narrow = Graph::new(1, 1, vec![1.0], vec![]).unwrap();
        assert!(matches!(
            Standardize::fit(std::slice::from_ref(&narrow), 2),
            Err(DataError::TooFewFeatures {
                graph: 0,
                found: 1,
                needed: 2
            })
        ));
        let scaler = Standardize::fit(&[graph(&[[1.0, 2.0, 3.0]])], 2).unwrap();
        assert!(scaler.apply(narrow).is_err());
        let nan = graph(&[[f32::NAN, 0.0, 0.0]]);
        assert!(matches!(
            Standardize::fit(&[nan], 1),
            Err(DataError::NonFiniteAttribute { column: 0, .. })
        ));
        let identity = Standardize::fit(&[], 2).unwrap();
        assert_eq!(
            (identity.mean.clone(), identity.std.clone()),
            (vec![0.0; 2], vec![1.0; 2])
        );
        let g = graph(&[[4.0, 5.0, 6.0]]);
        assert_eq!(identity.apply(g.clone()).unwrap(), g);
    }
}
