//! Parity with PyTorch Geometric on the reference fixtures in `tests/fixtures/pyg/`.
//!
//! Float64 (`NdArray<f64>`): every output and gradient within 1e-9 (one op within 5e-9, see
//! `common::LOOSER_IN_FLOAT64`), integer outputs exact.
//! Float32 (Flex, and Wgpu with the `wgpu` feature): within 1e-4 after casting inputs and
//! weights. `NdArray<f32>` runs in `ndarray_f32.rs`: Burn 0.21 lets a process use `NdArray` at one
//! precision only (see `gnn_core::testing`).

use burn::backend::{Autodiff, NdArray};

mod common;

use common::{check_all, fixture};
use gnn_parity::{TOLERANCE_F32, TOLERANCE_F64};

#[test]
fn float64_matches_pyg() {
    let looser: Vec<&str> = common::LOOSER_IN_FLOAT64
        .iter()
        .map(|(op, _)| *op)
        .collect();
    check_all::<Autodiff<NdArray<f64>>>(TOLERANCE_F64, &looser);
    common::check_looser::<Autodiff<NdArray<f64>>>();
}

#[test]
fn float32_flex_matches_pyg() {
    check_all::<Autodiff<burn::backend::Flex>>(TOLERANCE_F32, &common::NOT_DEFINED_IN_FLOAT32);
}

#[cfg(feature = "test-wgpu")]
#[test]
fn float32_wgpu_matches_pyg() {
    check_all::<Autodiff<burn::backend::Wgpu>>(TOLERANCE_F32, &common::NOT_DEFINED_IN_FLOAT32);
}

/// On exact score ties PyG's order is undefined; ours is: score descending, then node id
/// ascending. Check that rule on the tie fixture against scores recomputed from its inputs.
#[test]
fn ties_are_broken_by_lower_node_id() {
    use burn::module::Param;
    use burn::tensor::{Tensor, TensorData};
    use gnn_core::{GraphBatch, host};
    use gnn_pool::{Selection, TopKPoolingConfig};
    type B = NdArray<f64>;
    let device = Default::default();
    let ties = fixture("d_ties");
    let input = &ties.input;
    let (n, f) = (input.x.shape[0], input.x.shape[1]);
    let rows: Vec<Vec<f64>> = input.x.values.chunks(f).map(<[f64]>::to_vec).collect();
    let x = Tensor::<B, 2>::from_data(TensorData::new(input.x.values.clone(), [n, f]), &device);
    let edge_index = Tensor::from_data(
        TensorData::new(
            input.edge_index.values.clone(),
            input.edge_index.shape.clone(),
        ),
        &device,
    );
    let graphs = GraphBatch::from_tensors(
        x,
        edge_index,
        Tensor::from_data(TensorData::new(input.batch.values.clone(), [n]), &device),
    )
    .unwrap();
    // The op bodies are typed inside the runner; read the projection straight from the JSON.
    let raw: serde_json::Value = serde_json::from_str(&common::fixture_text("d_ties")).unwrap();
    let weight: Vec<Vec<f64>> =
        serde_json::from_value(raw["ops"]["topk_ratio_0.5"]["params"]["select.weight"].clone())
            .unwrap();

    for selection in [
        Selection::Ratio(0.5),
        Selection::Count(4),
        Selection::Ratio(1.0),
    ] {
        let mut pool = TopKPoolingConfig::new(f, selection)
            .init::<B>(&device)
            .unwrap();
        pool.select.weight = Param::from_tensor(Tensor::from_data(
            TensorData::new(weight.concat(), [1, f]),
            &device,
        ));
        let norm: f64 = weight[0].iter().map(|w| w * w).sum::<f64>().sqrt();
        let scores: Vec<f64> = rows
            .iter()
            .map(|r| (r.iter().zip(&weight[0]).map(|(a, b)| a * b).sum::<f64>() / norm).tanh())
            .collect();
        let distinct: std::collections::BTreeSet<u64> =
            scores.iter().map(|s| s.to_bits()).collect();
        assert!(distinct.len() < n, "the fixture must contain ties");
        let mut expected: Vec<usize> = (0..n).collect();
        expected.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        expected.truncate(selection.kept(n).unwrap());
        let pooled = pool.forward(graphs.clone());
        let perm: Vec<usize> = host::ints(pooled.perm)
            .into_iter()
            .map(|p| p as usize)
            .collect();
        assert_eq!(perm, expected, "{selection:?}");
    }
}
