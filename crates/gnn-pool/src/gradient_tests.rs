//! Gradients of every pooling layer against central finite differences, in float64.

use burn::module::Param;
use burn::tensor::{Tensor, TensorData};
use gnn_core::testing::{F64Backend as B, check_gradient};
use gnn_core::{Graph, GraphBatch};

use crate::readout::{
    AttentionalAggregationConfig, GlobalPool, Set2SetConfig, SortAggregationConfig,
};
use crate::{
    Clustering, SagPoolingConfig, Selection, TopKPoolingConfig, cluster_pool, reduce::ClusterReduce,
};

const TOL: f64 = 1e-6;

/// Three graphs (5 nodes with a cycle, 1 node, 4 nodes path), 3 features, distinct values.
fn graphs() -> GraphBatch<B> {
    let x = |n: usize, shift: f32| {
        (0..n * 3)
            .map(|i| ((i as f32 + shift) * 0.917).sin())
            .collect::<Vec<_>>()
    };
    let ring = [
        (0, 1),
        (1, 2),
        (2, 3),
        (3, 4),
        (4, 0),
        (1, 0),
        (2, 1),
        (3, 2),
        (4, 3),
        (0, 4),
    ];
    let list = [
        Graph::new(5, 3, x(5, 0.0), ring.to_vec()).unwrap(),
        Graph::new(1, 3, x(1, 7.0), vec![]).unwrap(),
        Graph::new(
            4,
            3,
            x(4, 13.0),
            vec![(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2)],
        )
        .unwrap(),
    ];
    GraphBatch::from_graphs(&list, &Default::default()).unwrap()
}

/// `Σ w ⊙ t` with fixed weights, so every output entry matters.
fn weighted(t: Tensor<B, 2>) -> Tensor<B, 1> {
    let [r, c] = t.dims();
    let w: Vec<f64> = (0..r * c)
        .map(|i| ((i * 7 + 3) % 11) as f64 / 5.0 - 1.0)
        .collect();
    (t * Tensor::from_data(TensorData::new(w, [r, c]), &Default::default())).sum()
}

fn with_x(x: Tensor<B, 2>) -> GraphBatch<B> {
    graphs().with_x(x).unwrap()
}

#[test]
fn topk_gradients_reach_features_and_projection() {
    let device = Default::default();
    let x0 = graphs().x().clone();
    for selection in [
        Selection::Ratio(0.5),
        Selection::Count(2),
        Selection::MinScore(0.2),
    ] {
        let pool = TopKPoolingConfig::new(3, selection)
            .init::<B>(&device)
            .unwrap();
        let p0 = pool.select.weight.val();
        let grad = check_gradient(
            "TopK x",
            &x0,
            |x| weighted(pool.forward(with_x(x)).graphs.x().clone()),
            TOL,
        );
        assert!(grad.iter().any(|g| g.abs() > 1e-3));
        let grad = check_gradient(
            "TopK p",
            &p0,
            |p| {
                let mut pool = pool.clone();
                pool.select.weight = Param::from_tensor(p);
                weighted(pool.forward(graphs()).graphs.x().clone())
            },
            TOL,
        );
        assert!(
            grad.iter().all(|g| g.abs() > 1e-6),
            "every projection weight gets a gradient ({selection:?})"
        );
    }
}

#[test]
fn sag_gradients_reach_features_and_the_scoring_gnn() {
    let device = Default::default();
    let x0 = graphs().x().clone();
    let pool = SagPoolingConfig::new(3, Selection::Ratio(0.5))
        .with_sign_weight(false)
        .init::<B>(&device)
        .unwrap();
    check_gradient(
        "SAG x",
        &x0,
        |x| weighted(pool.forward(with_x(x)).graphs.x().clone()),
        TOL,
    );
    let gnn_core::conv::Conv::Graph(conv) = &pool.gnn else {
        unreachable!("GraphConv is the default")
    };
    let w0 = conv.lin_rel.weight.val();
    let grad = check_gradient(
        "SAG lin_rel",
        &w0,
        |w| {
            let mut pool = pool.clone();
            if let gnn_core::conv::Conv::Graph(conv) = &mut pool.gnn {
                conv.lin_rel.weight = Param::from_tensor(w);
            }
            weighted(pool.forward(graphs()).graphs.x().clone())
        },
        TOL,
    );
    assert!(
        grad.iter().any(|g| g.abs() > 1e-3),
        "the scorer's weights get a gradient"
    );
}

#[test]
fn readout_gradients_match_finite_differences() {
    let device = Default::default();
    let x0 = graphs().x().clone();
    let segments = graphs().segments().clone();
    for pool in [
        GlobalPool::Add,
        GlobalPool::Mean,
        GlobalPool::Max,
        GlobalPool::Min,
        GlobalPool::MaxMean,
        GlobalPool::MaxMeanAdd,
    ] {
        check_gradient(
            &format!("{pool:?}"),
            &x0,
            |x| weighted(pool.apply(x, &segments).unwrap()),
            TOL,
        );
    }
    let attention = AttentionalAggregationConfig::new(3)
        .with_d_output(Some(2))
        .init::<B>(&device)
        .unwrap();
    check_gradient(
        "attention",
        &x0,
        |x| weighted(attention.forward(x, &segments).unwrap()),
        TOL,
    );
    let set2set = Set2SetConfig::new(3, 2).init::<B>(&device).unwrap();
    check_gradient(
        "set2set",
        &x0,
        |x| weighted(set2set.forward(x, &segments).unwrap()),
        TOL,
    );
    let sort = SortAggregationConfig::new(3).init().unwrap();
    check_gradient(
        "sort",
        &x0,
        |x| weighted(sort.forward(x, &segments).unwrap()),
        TOL,
    );
}

#[test]
fn cluster_pool_gradients_match_finite_differences() {
    let clustering = Clustering::from_ids(&[0, 0, 1, 1, 2, 3, 4, 4, 5, 5], &graphs()).unwrap();
    let x0 = graphs().x().clone();
    for reduce in [ClusterReduce::Mean, ClusterReduce::Max] {
        check_gradient(
            &format!("{reduce:?}"),
            &x0,
            |x| {
                weighted(
                    cluster_pool(with_x(x), &clustering, reduce, false)
                        .x()
                        .clone(),
                )
            },
            TOL,
        );
    }
}
