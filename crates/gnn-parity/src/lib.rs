//! Checking this library against PyTorch Geometric's reference figures.
//!
//! Reads fixtures in the two schemas of the project's PyG parity files (schema 1: the pooling
//! cases; schema 2: every layer around pooling) into typed structs ([`fixture`]), runs every op
//! a fixture lists on a backend (one handler per op family, in `ops/`), and compares outputs,
//! integer outputs (exactly) and gradients ([`report`]). Works for fixtures of any size:
//! everything is read from the file (configs, parameters, inputs), nothing is assumed.
//!
//! Adding a fixture kind: a new file under `src/ops/` with a type implementing the crate's
//! `ParityOp` trait (its typed body, an `OpBody<Config, Params, Output, Grads>`, and a `run` that
//! builds the layer from the params, runs it once and records the comparisons), plus one line in
//! `ops::with_handler` mapping the fixture's `config.op` to it. Kinds without a handler are
//! reported as unsupported.
//!
//! ```no_run
//! use burn::backend::{Autodiff, NdArray};
//! use gnn_parity::{TOLERANCE_F64, parse_fixture, run_fixture};
//!
//! let text = std::fs::read_to_string("tests/fixtures/pyg/a_path3.json").unwrap();
//! let fixture = parse_fixture(&text).unwrap();
//! let device = Default::default();
//! for report in run_fixture::<Autodiff<NdArray<f64>>>(&fixture, TOLERANCE_F64, &device).unwrap() {
//!     assert!(report.pass, "{report:?}");
//! }
//! ```

use burn::tensor::backend::AutodiffBackend;
use gnn_core::segment::SegmentBackend;

pub mod fixture;
mod ops;
pub mod report;
mod tensors;

pub use fixture::{Array, Fixture, Input, IntArray, OpEntry, parse_fixture};
pub use report::{OpReport, TOLERANCE_F32, TOLERANCE_F64};

/// An error reading or interpreting a fixture.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParityError {
    /// The text is not JSON, or the file's envelope has a field of the wrong type.
    #[error("invalid fixture JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The file's `schema_version` is not one this runner reads.
    #[error("schema_version {0} is not supported (this runner reads 1 and 2)")]
    SchemaVersion(u64),
    /// A required field is missing.
    #[error("fixture field {0} is missing")]
    Missing(String),
    /// The `input` object does not match the schema.
    #[error("fixture input is malformed: {0}")]
    Input(#[source] serde_json::Error),
    /// An array has the wrong shape.
    #[error("{field} has shape {found:?}, expected {expected}")]
    Shape {
        /// The field, e.g. `input.batch`.
        field: String,
        /// The expected shape, in words.
        expected: String,
        /// The shape found.
        found: Vec<usize>,
    },
    /// An op's body (config, params, output or grad) does not match its kind's schema.
    #[error("op {op} is malformed: {source}")]
    Op {
        /// The op's name in the fixture.
        op: String,
        /// What is wrong.
        #[source]
        source: serde_json::Error,
    },
    /// The op, or this configuration of it, is not implemented by this library.
    #[error("not implemented by this library: {0}")]
    Unsupported(String),
    /// The fixture's graph data was rejected.
    #[error("fixture input rejected: {0}")]
    Graph(#[from] gnn_core::GraphError),
    /// A layer rejected the fixture's configuration.
    #[error("layer rejected the fixture's configuration: {0}")]
    Pool(#[from] gnn_pool::PoolError),
    /// A model's configuration is invalid.
    #[error("model: {0}")]
    Model(#[from] gnn_models::ModelError),
}

/// This crate's result type.
pub type Result<T> = std::result::Result<T, ParityError>;

/// Runs every op of one fixture on backend `B` and reports each. Ops this library does not
/// implement, and ops whose run fails, are reported as failing with the reason in
/// [`OpReport::unsupported`].
///
/// `tolerance` is the largest absolute error allowed ([`TOLERANCE_F64`] in float64,
/// [`TOLERANCE_F32`] in float32); integer outputs must match exactly.
///
/// # Errors
/// None at present (a parsed fixture's input is valid); kept for inputs a backend rejects.
pub fn run_fixture<B: AutodiffBackend + SegmentBackend>(
    fixture: &Fixture,
    tolerance: f64,
    device: &B::Device,
) -> Result<Vec<OpReport>> {
    let mut reports = Vec::new();
    for op in &fixture.ops {
        let Some(body) = &op.body else {
            reports.push(OpReport::unsupported(
                &fixture.case,
                &op.name,
                format!("op {} not implemented by this library", op.kind),
            ));
            continue;
        };
        let cx = ops::Context {
            inputs: tensors::Inputs::<B>::new(&fixture.input, device),
            uses: &op.uses,
            device,
        };
        let mut check = report::Checker::new(tolerance);
        let report = match ops::run(&op.kind, body.as_ref(), &cx, &mut check) {
            Ok(()) => check.report(&fixture.case, &op.name),
            Err(e) => OpReport::unsupported(&fixture.case, &op.name, e.to_string()),
        };
        reports.push(report);
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, NdArray};

    use super::*;

    #[test]
    fn unknown_ops_are_reported_not_run_and_known_ones_are_checked() {
        let text = r#"{"schema_version": 1, "case": "tiny",
            "input": {"x": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], "edge_index": [[], []],
                      "batch": [0, 0, 1]},
            "ops": {
              "sum": {"config": {"op": "global_add_pool"}, "params": {},
                      "output": {"x": [[4.0, 6.0], [5.0, 6.0]]},
                      "grad": {"x": [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]}},
              "wrong": {"config": {"op": "global_max_pool"}, "params": {},
                        "output": {"x": [[3.0, 4.0], [5.0, 7.0]]}},
              "later": {"config": {"op": "FancyPool", "k": 3}, "output": {}}
            }}"#;
        let fixture = parse_fixture(text).unwrap();
        let device = Default::default();
        let reports =
            run_fixture::<Autodiff<NdArray<f64>>>(&fixture, TOLERANCE_F64, &device).unwrap();
        let by_op = |op: &str| reports.iter().find(|r| r.op == op).unwrap();
        let later = by_op("later");
        assert!(!later.pass && later.unsupported.as_deref().unwrap().contains("FancyPool"));
        assert!(by_op("sum").pass, "{:?}", by_op("sum"));
        assert_eq!(by_op("sum").details.len(), 2);
        let wrong = by_op("wrong");
        assert!(!wrong.pass && wrong.unsupported.is_none());
        assert_eq!(wrong.max_abs_err, 1.0);
    }

    #[test]
    fn a_missing_param_is_an_error_naming_the_op() {
        let text = r#"{"schema_version": 2, "case": "tiny",
            "input": {"x": [[1.0]], "edge_index": [[], []], "batch": [0]},
            "ops": {"conv": {"config": {"op": "GraphConv"}, "params": {"lin_rel.weight": [[1.0]]},
                             "output": {"x": [[1.0]]}}}}"#;
        let err = parse_fixture(text).unwrap_err();
        assert!(
            matches!(&err, ParityError::Op { op, .. } if op == "conv"),
            "{err}"
        );
        assert!(err.to_string().contains("lin_rel.bias"), "{err}");
    }
}
