//! Global pooling (readout): every graph becomes one vector, `[N, F] -> [G, F']`.
//!
//! This is pooling where each graph is a single cluster. The number of graphs always comes from
//! the batch's host counts, never from `max(batch) + 1`: trailing empty graphs are kept, and an
//! empty graph reads out as 0 with gradient 0.
//!
//! Every readout comes in two forms:
//!
//! - PyG's, node features and the graph of each node given apart: `global_max_pool(x,
//!   &segments)`, [`GlobalPool::apply`], `forward(x, &segments)` of the learnable ones. `x` must
//!   have one row per node of `segments`; otherwise the call returns
//!   [`PoolError::RowMismatch`] (checked on the host from the
//!   shapes, no device read) instead of handing a kernel rows it would index out of range.
//! - A [`GraphBatch`](gnn_core::GraphBatch), whose `x` and segments agree by construction:
//!   [`GlobalPool::apply_batch`], `forward_batch(&graphs)`. These cannot fail and return the
//!   tensor; the models of `gnn-models` use them.

mod attention;
mod global;
mod set2set;
mod sort;

use burn::tensor::{Tensor, backend::Backend};
use gnn_core::Segments;

use crate::error::{PoolError, Result};

/// [`PoolError::RowMismatch`] unless `x` has one row per node of `graphs` (shapes only).
fn check_rows<B: Backend>(
    readout: &'static str,
    x: &Tensor<B, 2>,
    graphs: &Segments<B>,
) -> Result<()> {
    let (rows, nodes) = (x.dims()[0], graphs.num_rows());
    if rows == nodes {
        Ok(())
    } else {
        Err(PoolError::RowMismatch {
            readout,
            rows,
            nodes,
        })
    }
}

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
    use crate::PoolError;

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
            let out = pool.apply(x::<B>(device), &s).unwrap();
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
            let out = pool.apply(x::<B>(device), &s).unwrap();
            assert_eq!(out.dims(), [4, pool.output_width(2)], "{pool:?}");
            gnn_core::testing::assert_close(out, &expected, 1e-6, 1e-6);
        }
        // Graph 0 holds rows [1, -2] and [3, 4]: max [3, 4], mean [2, 1], sum [4, 2].
        let first_row = |pool: GlobalPool| {
            host::floats(pool.apply(x::<B>(device), &s).unwrap())[..pool.output_width(2)].to_vec()
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
        let out = attention.forward(x::<B>(device), &s).unwrap();
        assert_eq!(out.dims(), [4, 3]);
        let values = host::floats(out);
        assert!(
            values[3..6].iter().chain(&values[9..]).all(|&v| v == 0.0),
            "empty graphs read out 0"
        );
        let set2set = Set2SetConfig::new(2, 3).init::<B>(device).unwrap();
        assert_eq!(set2set.forward(x::<B>(device), &s).unwrap().dims(), [4, 4]);
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
            .forward(x::<B>(device), &s)
            .unwrap();
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

    /// `x` with more or fewer rows than the segments have nodes: a typed error from every
    /// readout, with no device read; the batch forms agree with the checked ones.
    fn row_mismatch_is_an_error_not_a_panic<B: SegmentBackend>(device: &B::Device) {
        let s = segments::<B>(device);
        let attention = AttentionalAggregationConfig::new(2)
            .init::<B>(device)
            .unwrap();
        let set2set = Set2SetConfig::new(2, 2).init::<B>(device).unwrap();
        let sort = SortAggregationConfig::new(2).init().unwrap();
        for rows in [0, 4, 6, 12] {
            let wrong = || Tensor::<B, 2>::ones([rows, 2], device);
            let before = host::device_reads();
            let results = [
                global_add_pool(wrong(), &s).map(|_| ()),
                global_mean_pool(wrong(), &s).map(|_| ()),
                global_max_pool(wrong(), &s).map(|_| ()),
                global_min_pool(wrong(), &s).map(|_| ()),
                GlobalPool::MaxMeanAdd.apply(wrong(), &s).map(|_| ()),
                attention.forward(wrong(), &s).map(|_| ()),
                set2set.forward(wrong(), &s).map(|_| ()),
                sort.forward(wrong(), &s).map(|_| ()),
            ];
            assert_eq!(host::device_reads(), before, "the check reads no device");
            let readouts = [
                "global_add_pool",
                "global_mean_pool",
                "global_max_pool",
                "global_min_pool",
                "GlobalPool::MaxMeanAdd",
                "AttentionalAggregation",
                "Set2Set",
                "SortAggregation",
            ];
            for (result, readout) in results.into_iter().zip(readouts) {
                assert_eq!(
                    result,
                    Err(PoolError::RowMismatch {
                        readout,
                        rows,
                        nodes: 5
                    })
                );
            }
        }
        assert_eq!(
            global_max_pool(Tensor::<B, 2>::ones([4, 2], device), &s)
                .unwrap_err()
                .to_string(),
            "global_max_pool: x has 4 rows but the batch vector has 5 nodes (one row per node)"
        );

        // The batch forms read the batch's own x and give what the checked forms give.
        let graphs =
            gnn_core::GraphBatch::<B>::from_graphs(&gnn_core::testing::tiny_graphs(3), device)
                .unwrap();
        let (x, s) = (graphs.x().clone(), graphs.segments());
        let attention = AttentionalAggregationConfig::new(3)
            .init::<B>(device)
            .unwrap();
        let set2set = Set2SetConfig::new(3, 2).init::<B>(device).unwrap();
        let pairs = [
            (
                GlobalPool::MaxMeanAdd.apply_batch(&graphs),
                GlobalPool::MaxMeanAdd.apply(x.clone(), s).unwrap(),
            ),
            (
                attention.forward_batch(&graphs),
                attention.forward(x.clone(), s).unwrap(),
            ),
            (
                set2set.forward_batch(&graphs),
                set2set.forward(x.clone(), s).unwrap(),
            ),
            (sort.forward_batch(&graphs), sort.forward(x, s).unwrap()),
        ];
        for (batch_form, checked_form) in pairs {
            assert_eq!(batch_form.dims()[0], 3);
            gnn_core::testing::assert_close(batch_form, &host::floats(checked_form), 0.0, 0.0);
        }
    }

    gnn_core::backend_tests!(
        global_pools_keep_empty_and_trailing_graphs,
        learnable_readouts_give_one_row_per_graph,
        sort_aggregation_sorts_by_the_last_feature_and_pads,
        row_mismatch_is_an_error_not_a_panic,
    );
}
