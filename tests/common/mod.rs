//! Shared by the parity test binaries.

use burn::tensor::backend::AutodiffBackend;
use gnn_models::parity::{OpReport, parse_fixture, run_fixture};

pub const FIXTURES: [&str; 5] = [
    "a_path3",
    "b_two_graphs",
    "c_random8",
    "d_ties",
    "e_layers10",
];

pub fn fixture(name: &str) -> serde_json::Value {
    let path = format!(
        "{}/../../tests/fixtures/pyg/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_fixture(&text).expect("fixture parses")
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

pub fn check_all<B: AutodiffBackend>(tolerance: f64) {
    let device = Default::default();
    let mut failed = Vec::new();
    let mut ran = 0;
    for name in FIXTURES {
        let reports = run_fixture::<B>(&fixture(name), tolerance, &device).expect("fixture runs");
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
