//! Shared by the parity test binaries.

use burn::tensor::backend::AutodiffBackend;
use gnn_core::segment::SegmentBackend;
use gnn_parity::{Fixture, OpReport, parse_fixture, run_fixture};

pub const FIXTURES: [&str; 5] = [
    "a_path3",
    "b_two_graphs",
    "c_random8",
    "d_ties",
    "e_layers10",
];

/// The text of the project's fixture `name`.
pub fn fixture_text(name: &str) -> String {
    let path = format!(
        "{}/../../tests/fixtures/pyg/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn fixture(name: &str) -> Fixture {
    parse_fixture(&fixture_text(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn failures(reports: &[OpReport]) -> Vec<String> {
    reports
        .iter()
        .filter(|r| !r.pass)
        .map(|r| {
            format!(
                "{}/{}: err {:e}, exact {}, {:?} {:?}",
                r.case, r.op, r.max_abs_err, r.exact_match, r.unsupported, r.details
            )
        })
        .collect()
}

/// Ops whose integer outputs are not defined in float32: in `classifier_topk` the scores of
/// blocks 2 and 3 differ by as little as 8.2e-10 and 7.8e-14 inside a graph (float64, measured
/// from the fixture's weights), so float32 sees exact ties there and may keep or order other
/// nodes than PyG's float64 run. The float64 test checks them.
pub const NOT_DEFINED_IN_FLOAT32: [&str; 1] = ["e_layers10/classifier_topk"];

pub fn check_all<B: AutodiffBackend + SegmentBackend>(tolerance: f64, skip: &[&str]) {
    let device = Default::default();
    let mut failed = Vec::new();
    let mut ran = 0;
    for name in FIXTURES {
        let reports = run_fixture::<B>(&fixture(name), tolerance, &device).expect("fixture runs");
        let reports: Vec<OpReport> = reports
            .into_iter()
            .filter(|r| !skip.contains(&format!("{}/{}", r.case, r.op).as_str()))
            .collect();
        ran += reports.len();
        failed.extend(failures(&reports));
    }
    assert!(ran >= 45, "only {ran} ops ran");
    assert!(
        failed.is_empty(),
        "{} ops failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
