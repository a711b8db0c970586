//! [`TopKPooling`]: keep the best-scoring nodes of each graph (Gao & Ji; Cangea et al.).

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};
use gnn_core::GraphBatch;
use gnn_core::segment::SegmentBackend;

use crate::error::{PoolError, Result, assert_width};
use crate::pooled::{Pooled, pool_kept_nodes};
use crate::select::{ScoreActivation, SelectTopK, SelectTopKConfig, Selection};

/// Configuration of [`TopKPooling`].
#[derive(Config, Debug)]
pub struct TopKPoolingConfig {
    /// Node features of the input.
    pub d_input: usize,
    /// How many nodes of each graph survive (PyG's `ratio` / `min_score`).
    pub selection: Selection,
    /// Squashing of the score in ratio and count modes (PyG's `nonlinearity`, default tanh).
    #[config(default = "ScoreActivation::Tanh")]
    pub activation: ScoreActivation,
    /// Factor applied to the pooled features (PyG's `multiplier`, default 1).
    #[config(default = 1.0)]
    pub multiplier: f64,
}

/// PyG's `TopKPooling`: Select (`SelectTopK` on the node features), Reduce (`x[perm] · score`),
/// Connect (edges between kept nodes).
///
/// `score = tanh(x·p / ‖p‖)`; per graph the best `ceil(ratio·n)` or `min(k, n)` nodes are kept,
/// or those whose per-graph softmax of `x·p` passes the min-score threshold. The output features
/// are `x[perm] · score[perm] · multiplier`, which is how gradients reach `p`.
///
/// Edge cases: an empty graph stays empty; a graph without edges keeps its selected nodes and no
/// edge; a count larger than a graph keeps the whole graph (reordered by score).
#[derive(Module, Debug)]
pub struct TopKPooling<B: Backend> {
    /// The scorer (PyG `select`).
    pub select: SelectTopK<B>,
    multiplier: f64,
}

impl TopKPoolingConfig {
    /// Builds the layer.
    ///
    /// # Errors
    /// An invalid selection (ratio outside `(0, 1]`, count 0, non-finite min score), a non-finite
    /// multiplier, or `d_input == 0`.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<TopKPooling<B>> {
        if !self.multiplier.is_finite() {
            return Err(PoolError::InvalidMultiplier(self.multiplier));
        }
        let select = SelectTopKConfig::new(self.d_input, self.selection)
            .with_activation(self.activation)
            .init(device)?;
        Ok(TopKPooling {
            select,
            multiplier: self.multiplier,
        })
    }
}

impl<B: SegmentBackend> TopKPooling<B> {
    /// Pools a batch.
    ///
    /// - `graphs`: `x [N, d_input]`, edges `[2, E]` (edge features and weights follow their edges)
    /// - returns the pooled batch with `x [K, d_input]`, `perm [K]`, `score [K]`
    ///
    /// Device reads: one in ratio and count modes (which edges survive), two in min-score mode
    /// (also which nodes survive); none for the sizes, which come from the host counts.
    ///
    /// # Panics
    /// When the batch does not have `d_input` features.
    #[track_caller]
    pub fn forward(&self, graphs: GraphBatch<B>) -> Pooled<B> {
        let score_input = graphs.x().clone();
        self.forward_with_attention(graphs, score_input)
    }

    /// Pools a batch, scoring the nodes by a separate attention input `[N, d_input]` instead of
    /// their features (PyG's `attn` argument).
    ///
    /// # Panics
    /// When `attention` or the batch is not `d_input` wide.
    #[track_caller]
    pub fn forward_with_attention(
        &self,
        graphs: GraphBatch<B>,
        attention: Tensor<B, 2>,
    ) -> Pooled<B> {
        let d_input = self.select.weight.dims()[1];
        assert_width("TopKPooling", d_input, graphs.num_features());
        assert_width(
            "TopKPooling (attention input)",
            d_input,
            attention.dims()[1],
        );
        let kept = self.select.forward(attention, graphs.segments());
        pool_kept_nodes(graphs, kept, self.multiplier)
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Param;
    use burn::tensor::{Tensor, TensorData, backend::Backend};
    use gnn_core::{Graph, GraphBatch, host};

    use super::*;

    /// Graph 0: path of 4 nodes; graph 1: empty; graph 2: one node; graph 3: 3 nodes, no edge.
    fn mixed_batch<B: SegmentBackend>(device: &B::Device) -> GraphBatch<B> {
        let x = |n: usize, shift: f32| {
            (0..n * 2)
                .map(|i| ((i as f32 + shift) * 0.71).sin())
                .collect::<Vec<_>>()
        };
        let graphs = [
            Graph::new(
                4,
                2,
                x(4, 0.0),
                vec![(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2)],
            )
            .unwrap(),
            Graph::new(0, 2, vec![], vec![]).unwrap(),
            Graph::new(1, 2, x(1, 10.0), vec![]).unwrap(),
            Graph::new(3, 2, x(3, 20.0), vec![]).unwrap(),
        ];
        GraphBatch::from_graphs(&graphs, device).unwrap()
    }

    fn layer<B: Backend>(selection: Selection, device: &B::Device) -> TopKPooling<B> {
        let mut pool = TopKPoolingConfig::new(2, selection)
            .init::<B>(device)
            .unwrap();
        pool.select.weight = Param::from_tensor(Tensor::from_data(
            TensorData::new(vec![0.6f32, -0.8], [1, 2]),
            device,
        ));
        pool
    }

    /// Scores recomputed on the host: tanh(x·p / |p|), |p| = 1.
    fn host_scores<B: Backend>(graphs: &GraphBatch<B>) -> Vec<f64> {
        let x = host::floats(graphs.x().clone());
        x.chunks(2)
            .map(|r| (0.6 * r[0] - 0.8 * r[1]).tanh())
            .collect()
    }

    fn keeps_best_nodes_per_graph<B: SegmentBackend>(device: &B::Device) {
        let graphs = mixed_batch::<B>(device);
        let scores = host_scores(&graphs);
        for (selection, kept) in [
            (Selection::Ratio(0.5), vec![2, 0, 1, 2]),
            (Selection::Ratio(1.0), vec![4, 0, 1, 3]),
            (Selection::Count(2), vec![2, 0, 1, 2]),
            (Selection::Count(10), vec![4, 0, 1, 3]),
        ] {
            let out = layer::<B>(selection, device).forward(graphs.clone());
            assert_eq!(out.graphs.node_counts(), kept.as_slice(), "{selection:?}");
            assert_eq!(out.graphs.num_graphs(), 4, "empty graphs are kept");
            let mut expected = Vec::new();
            for (g, w) in graphs.node_offsets().windows(2).enumerate() {
                let mut nodes: Vec<usize> = (w[0]..w[1]).collect();
                nodes.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
                expected.extend(nodes.into_iter().take(kept[g]).map(|n| n as i64));
            }
            assert_eq!(host::ints(out.perm.clone()), expected, "{selection:?}");
            let kept_scores: Vec<f64> = expected.iter().map(|&n| scores[n as usize]).collect();
            gnn_core::testing::assert_close(out.score.clone(), &kept_scores, 1e-5, 1e-5);
            let x = host::floats(graphs.x().clone());
            let gated: Vec<f64> = expected
                .iter()
                .flat_map(|&n| {
                    let score = scores[n as usize];
                    x[n as usize * 2..n as usize * 2 + 2]
                        .iter()
                        .map(move |v| v * score)
                })
                .collect();
            gnn_core::testing::assert_close(out.graphs.x().clone(), &gated, 1e-5, 1e-5);
            let batch: Vec<i64> = kept
                .iter()
                .enumerate()
                .flat_map(|(g, &k)| std::iter::repeat_n(g as i64, k))
                .collect();
            assert_eq!(host::ints(out.graphs.batch().clone()), batch);
        }
    }

    fn edges_follow_the_kept_nodes<B: SegmentBackend>(device: &B::Device) {
        let graphs = mixed_batch::<B>(device);
        let out = layer::<B>(Selection::Count(3), device).forward(graphs.clone());
        let perm: Vec<i64> = host::ints(out.perm.clone());
        let new_id = |node: i64| perm.iter().position(|&p| p == node).map(|p| p as i64);
        let edges = host::ints(graphs.edge_index().clone());
        let e = graphs.num_edges();
        let expected: Vec<(i64, i64)> = (0..e)
            .filter_map(|i| Some((new_id(edges[i])?, new_id(edges[e + i])?)))
            .collect();
        let got = host::ints(out.graphs.edge_index().clone());
        let e2 = out.graphs.num_edges();
        let got: Vec<(i64, i64)> = (0..e2).map(|i| (got[i], got[e2 + i])).collect();
        assert_eq!(got, expected);
        assert_eq!(out.graphs.edge_counts(), &[expected.len(), 0, 0, 0]);
    }

    fn min_score_keeps_the_best_of_every_graph<B: SegmentBackend>(device: &B::Device) {
        let graphs = mixed_batch::<B>(device);
        let out = layer::<B>(Selection::MinScore(0.9), device).forward(graphs.clone());
        // With a threshold above every softmax score, only each graph's best node survives.
        assert_eq!(out.graphs.node_counts(), &[1, 0, 1, 1]);
        let perm = host::ints(out.perm);
        assert!(
            perm.windows(2).all(|w| w[0] < w[1]),
            "ascending node order: {perm:?}"
        );
        let out = layer::<B>(Selection::MinScore(0.0), device).forward(graphs);
        assert_eq!(
            out.graphs.node_counts(),
            &[4, 0, 1, 3],
            "a zero threshold keeps every node"
        );
    }

    fn device_reads_are_only_the_data_dependent_ones<B: SegmentBackend>(device: &B::Device) {
        let graphs = mixed_batch::<B>(device);
        let pool = layer::<B>(Selection::Ratio(0.5), device);
        let before = host::device_reads();
        let _ = pool.forward(graphs.clone());
        assert_eq!(
            host::device_reads() - before,
            1,
            "ratio mode: the surviving edges only"
        );
        let no_edges = GraphBatch::from_graphs(&graphs.to_graphs()[2..], device).unwrap();
        let before = host::device_reads();
        let _ = pool.forward(no_edges);
        assert_eq!(host::device_reads() - before, 0, "no edge, nothing to read");
        let pool = layer::<B>(Selection::MinScore(0.1), device);
        let before = host::device_reads();
        let _ = pool.forward(graphs);
        assert_eq!(
            host::device_reads() - before,
            2,
            "min-score mode: kept nodes and surviving edges"
        );
    }

    fn ties_go_to_the_lower_node_id<B: SegmentBackend>(device: &B::Device) {
        // Six nodes in two graphs with pairwise equal scores.
        let rows = [
            [1.0f32, 0.0],
            [1.0, 0.0],
            [0.5, 0.0],
            [0.5, 0.0],
            [2.0, 0.0],
            [2.0, 0.0],
        ];
        let graphs = [
            Graph::from_rows(
                &rows[..4].iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
                vec![],
            )
            .unwrap(),
            Graph::from_rows(
                &rows[4..].iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
                vec![],
            )
            .unwrap(),
        ];
        let graphs = GraphBatch::<B>::from_graphs(&graphs, device).unwrap();
        let mut pool = TopKPoolingConfig::new(2, Selection::Count(3))
            .init::<B>(device)
            .unwrap();
        pool.select.weight = Param::from_tensor(Tensor::from_data(
            TensorData::new(vec![1.0f32, 0.0], [1, 2]),
            device,
        ));
        let out = pool.forward(graphs);
        assert_eq!(host::ints(out.perm), vec![0, 1, 2, 4, 5]);
    }

    fn nan_and_infinite_scores_never_select_padding<B: SegmentBackend>(device: &B::Device) {
        // Graphs of 3 and 2 nodes: the dense layout pads graph 1 with one -inf slot.
        let segments = gnn_core::Segments::<B>::from_counts(vec![3, 2], device);
        let score = Tensor::<B, 1>::from_data(
            TensorData::new(
                vec![
                    f32::NAN,
                    0.5,
                    f32::NEG_INFINITY,
                    f32::NEG_INFINITY,
                    f32::NAN,
                ],
                [5],
            ),
            device,
        );
        let kept = crate::select::select_top_k(score, &segments, Selection::Count(3));
        // NaN first (PyTorch's descending order), -inf last, never a padding slot.
        assert_eq!(host::ints(kept.perm), vec![0, 1, 2, 4, 3]);
        assert_eq!(kept.segments.counts(), &[3, 2]);

        // A projection of norm 0 scores every node 0/0 = NaN, in PyG too.
        let graphs = mixed_batch::<B>(device);
        let mut pool = layer::<B>(Selection::Ratio(0.5), device);
        pool.select.weight = Param::from_tensor(Tensor::zeros([1, 2], device));
        let out = pool.forward(graphs);
        assert_eq!(host::ints(out.perm), vec![0, 1, 4, 5, 6]);
    }

    fn wrong_width_panics<B: SegmentBackend>(device: &B::Device) {
        let graphs = mixed_batch::<B>(device);
        let pool = TopKPoolingConfig::new(3, Selection::Ratio(0.5))
            .init::<B>(device)
            .unwrap();
        assert_eq!(
            gnn_core::testing::panic_message(|| pool.forward(graphs)),
            "TopKPooling was built for 3 input features but the input has 2"
        );
    }

    fn invalid_configurations_are_rejected<B: SegmentBackend>(device: &B::Device) {
        for (selection, error) in [
            (Selection::Ratio(0.0), PoolError::InvalidRatio(0.0)),
            (Selection::Ratio(1.5), PoolError::InvalidRatio(1.5)),
            (Selection::Ratio(-0.1), PoolError::InvalidRatio(-0.1)),
            (Selection::Count(0), PoolError::InvalidCount),
        ] {
            assert_eq!(
                TopKPoolingConfig::new(4, selection)
                    .init::<B>(device)
                    .unwrap_err(),
                error
            );
        }
        assert!(matches!(
            TopKPoolingConfig::new(4, Selection::Ratio(f64::NAN)).init::<B>(device),
            Err(PoolError::InvalidRatio(_))
        ));
        assert!(matches!(
            TopKPoolingConfig::new(4, Selection::MinScore(f64::INFINITY)).init::<B>(device),
            Err(PoolError::InvalidMinScore(_))
        ));
        assert_eq!(
            TopKPoolingConfig::new(0, Selection::Count(1))
                .init::<B>(device)
                .unwrap_err(),
            PoolError::ZeroWidth {
                what: "score input width"
            }
        );
        assert!(
            TopKPoolingConfig::new(4, Selection::Count(1))
                .with_multiplier(f64::NAN)
                .init::<B>(device)
                .is_err()
        );
    }

    gnn_core::backend_tests!(
        keeps_best_nodes_per_graph,
        edges_follow_the_kept_nodes,
        min_score_keeps_the_best_of_every_graph,
        device_reads_are_only_the_data_dependent_ones,
        ties_go_to_the_lower_node_id,
        nan_and_infinite_scores_never_select_padding,
        wrong_width_panics,
        invalid_configurations_are_rejected,
    );
}
