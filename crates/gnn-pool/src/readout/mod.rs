//! Global pooling (readout): every graph becomes one vector, `[N, F] -> [G, F']`.
//!
//! This is pooling where each graph is a single cluster. The number of graphs always comes from
//! the batch's host counts, never from `max(batch) + 1`: trailing empty graphs are kept, and an
//! empty graph reads out as 0 with gradient 0.

mod attention;
mod global;
mod set2set;
mod sort;

pub use attention::{AttentionalAggregation, AttentionalAggregationConfig};
pub use global::{GlobalPool, global_add_pool, global_max_pool, global_mean_pool, global_min_pool};
pub use set2set::{Set2Set, Set2SetConfig};
pub use sort::{SortAggregation, SortAggregationConfig};

#[cfg(test)]
mod tests {
    use burn::tensor::{Tensor, TensorData};
    use gnn_core::segment::SegmentBackend;
    use gnn_core::{Segments, host};

    use super::*;

    /// Segments `[2, 0, 3, 0]`: an empty graph in the middle and one at the end.
    fn segments<B: SegmentBackend>(device: &B::Device) -> Segments<B> {
        Segments::from_counts(vec![2, 0, 3, 0], device)
    }

    fn x<B: SegmentBackend>(device: &B::Device) -> Tensor<B, 2> {
        let values: Vec<f32> = vec![1.0, -2.0, 3.0, 4.0, -5.0, 6.0, 0.5, 0.25, 2.0, -1.0];
        Tensor::from_data(TensorData::new(values, [5, 2]), device)
    }

    fn global_pools_keep_empty_and_trailing_graphs<B: SegmentBackend>(device: &B::Device) {
        let s = segments::<B>(device);
        let cases = [
            (
                GlobalPool::Add,
                vec![4.0, 2.0, 0.0, 0.0, -2.5, 5.25, 0.0, 0.0],
            ),
            (
                GlobalPool::Mean,
                vec![2.0, 1.0, 0.0, 0.0, -2.5 / 3.0, 1.75, 0.0, 0.0],
            ),
            (
                GlobalPool::Max,
                vec![3.0, 4.0, 0.0, 0.0, 2.0, 6.0, 0.0, 0.0],
            ),
            (
                GlobalPool::Min,
                vec![1.0, -2.0, 0.0, 0.0, -5.0, -1.0, 0.0, 0.0],
            ),
        ];
        for (pool, expected) in &cases {
            let out = pool.apply(x::<B>(device), &s);
            assert_eq!(out.dims(), [4, 2], "{pool:?}");
            gnn_core::testing::assert_close(out, expected, 1e-6, 1e-6);
        }
        for pool in [
            GlobalPool::MaxMean,
            GlobalPool::MaxAdd,
            GlobalPool::MaxMeanAdd,
        ] {
            let singles: Vec<&Vec<f64>> = pool
                .parts()
                .iter()
                .map(|part| &cases.iter().find(|(p, _)| p == part).unwrap().1)
                .collect();
            // Row g of a concatenation is row g of each part, side by side.
            let expected: Vec<f64> = (0..4)
                .flat_map(|g| {
                    singles
                        .iter()
                        .flat_map(move |single| single[2 * g..2 * g + 2].to_vec())
                })
                .collect();
            let out = pool.apply(x::<B>(device), &s);
            assert_eq!(out.dims(), [4, pool.output_width(2)], "{pool:?}");
            gnn_core::testing::assert_close(out, &expected, 1e-6, 1e-6);
        }
        // Graph 0 holds rows [1, -2] and [3, 4]: max [3, 4], mean [2, 1], sum [4, 2].
        let first_row = |pool: GlobalPool| {
            host::floats(pool.apply(x::<B>(device), &s))[..pool.output_width(2)].to_vec()
        };
        assert_eq!(first_row(GlobalPool::MaxMean), [3.0, 4.0, 2.0, 1.0]);
        assert_eq!(first_row(GlobalPool::MaxAdd), [3.0, 4.0, 4.0, 2.0]);
        assert_eq!(
            first_row(GlobalPool::MaxMeanAdd),
            [3.0, 4.0, 2.0, 1.0, 4.0, 2.0]
        );
        assert_eq!(GlobalPool::MaxMean.output_width(3), 6);
        assert_eq!(GlobalPool::MaxMeanAdd.output_width(3), 9);
    }

    fn learnable_readouts_give_one_row_per_graph<B: SegmentBackend>(device: &B::Device) {
        let s = segments::<B>(device);
        let attention = AttentionalAggregationConfig::new(2)
            .with_d_output(Some(3))
            .init::<B>(device)
            .unwrap();
        let out = attention.forward(x::<B>(device), &s);
        assert_eq!(out.dims(), [4, 3]);
        let values = host::floats(out);
        assert!(
            values[3..6].iter().chain(&values[9..]).all(|&v| v == 0.0),
            "empty graphs read out 0"
        );
        let set2set = Set2SetConfig::new(2, 3).init::<B>(device).unwrap();
        assert_eq!(set2set.forward(x::<B>(device), &s).dims(), [4, 4]);
        assert_eq!(
            gnn_core::testing::panic_message(|| set2set.forward(x::<B>(device).narrow(1, 0, 1), &s)),
            "Set2Set was built for 2 input features but the input has 1"
        );
        assert_eq!(
            gnn_core::testing::panic_message(
                || attention.forward(x::<B>(device).narrow(1, 0, 1), &s)
            ),
            "AttentionalAggregation was built for 2 input features but the input has 1"
        );
    }

    fn sort_aggregation_sorts_by_the_last_feature_and_pads<B: SegmentBackend>(device: &B::Device) {
        let s = segments::<B>(device);
        let out = SortAggregationConfig::new(3)
            .init()
            .unwrap()
            .forward(x::<B>(device), &s);
        assert_eq!(out.dims(), [4, 6]);
        let expected = [
            3.0, 4.0, 1.0, -2.0, 0.0,
            0.0, // graph 0: by last feature 4 > -2, one row of padding
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, // empty
            -5.0, 6.0, 0.5, 0.25, 2.0, -1.0, // graph 2: 6 > 0.25 > -1
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        ];
        gnn_core::testing::assert_close(out, &expected, 0.0, 0.0);
        assert!(SortAggregationConfig::new(0).init().is_err());
    }

    gnn_core::backend_tests!(
        global_pools_keep_empty_and_trailing_graphs,
        learnable_readouts_give_one_row_per_graph,
        sort_aggregation_sorts_by_the_last_feature_and_pads,
    );
}
