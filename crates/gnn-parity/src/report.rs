//! Verdicts: [`OpReport`], the tolerances, and the checker that compares one op's results with
//! the fixture (floats within the tolerance, NaN equal to NaN; integers exactly; gradients of
//! leaves).

use std::collections::BTreeMap;

use burn::nn::Linear;
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use gnn_core::host;

use crate::fixture::{Array, IntArray};

/// The float64 tolerance: the project's bar for an `f64` port (PyG's own figures are float64).
pub const TOLERANCE_F64: f64 = 1e-9;
/// The float32 tolerance, after casting inputs and weights to `f32`.
pub const TOLERANCE_F32: f64 = 1e-4;

/// The verdict on one op of one fixture.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OpReport {
    /// Fixture case name.
    pub case: String,
    /// Op name in the fixture.
    pub op: String,
    /// Largest absolute error over all float outputs and gradients compared.
    pub max_abs_err: f64,
    /// Whether every integer output (perm, edge_index, batch, counts, masks) matched exactly.
    pub exact_match: bool,
    /// Whether the op passed: errors within tolerance and integers exact.
    pub pass: bool,
    /// Per compared quantity: its max absolute error (integers: 0 or 1 for equal / different).
    #[serde(skip)]
    pub details: BTreeMap<String, f64>,
    /// Why the op could not be run, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsupported: Option<String>,
}

impl OpReport {
    /// A failing report for an op that could not be run, with the reason.
    pub fn unsupported(case: &str, op: &str, why: String) -> Self {
        Self {
            case: case.to_string(),
            op: op.to_string(),
            max_abs_err: f64::INFINITY,
            exact_match: false,
            pass: false,
            details: BTreeMap::new(),
            unsupported: Some(why),
        }
    }
}

/// The largest absolute difference; NaN matches only NaN, a length mismatch is infinite.
fn max_abs_diff(actual: &[f64], expected: &[f64]) -> f64 {
    if actual.len() != expected.len() {
        return f64::INFINITY;
    }
    actual
        .iter()
        .zip(expected)
        .map(|(a, e)| match (a.is_nan(), e.is_nan()) {
            (true, true) => 0.0,
            (false, false) if a == e => 0.0,
            (false, false) => (a - e).abs(),
            _ => f64::INFINITY,
        })
        .fold(0.0, f64::max)
}

/// A parameter whose gradient a fixture records, under PyG's name.
pub(crate) enum Leaf<B: AutodiffBackend> {
    /// Same layout as PyG.
    Matrix(Tensor<B, 2>),
    /// A Burn `Linear` weight `[in, out]`, PyG's `[out, in]` transposed.
    Transposed(Tensor<B, 2>),
    /// A vector.
    Vector(Tensor<B, 1>),
}

/// The leaves of one op with the gradients the fixture expects for them.
pub(crate) struct Leaves<'a, B: AutodiffBackend>(Vec<(String, Leaf<B>, Option<&'a Array>)>);

impl<'a, B: AutodiffBackend> Leaves<'a, B> {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Adds a leaf under PyG's `name`, with its expected gradient.
    pub fn push(&mut self, name: impl Into<String>, leaf: Leaf<B>, expected: Option<&'a Array>) {
        self.0.push((name.into(), leaf, expected));
    }

    /// Adds a Burn `Linear`'s weight (and bias, if it has one) under PyG's names.
    pub fn linear(
        &mut self,
        names: (&str, &str),
        linear: &Linear<B>,
        expected: (Option<&'a Array>, Option<&'a Array>),
    ) {
        self.push(names.0, Leaf::Transposed(linear.weight.val()), expected.0);
        if let Some(bias) = &linear.bias {
            self.push(names.1, Leaf::Vector(bias.val()), expected.1);
        }
    }
}

/// Collects the comparisons of one op.
pub(crate) struct Checker {
    tolerance: f64,
    details: BTreeMap<String, f64>,
    max_abs_err: f64,
    exact_match: bool,
    defined_where_pyg_is_nan: &'static [&'static str],
}

impl Checker {
    pub fn new(tolerance: f64) -> Self {
        Self {
            tolerance,
            details: BTreeMap::new(),
            max_abs_err: 0.0,
            exact_match: true,
            defined_where_pyg_is_nan: &[],
        }
    }

    /// For the quantities `names`, where we document a deviation that defines what PyG leaves
    /// NaN (MinCut on a graph without edges), accepts a finite value where the fixture has NaN.
    /// Every other entry is compared as usual; the count of accepted entries is reported under
    /// `"{name} (defined where PyG is NaN)"`.
    pub fn defined_where_pyg_is_nan(&mut self, names: &'static [&'static str]) {
        self.defined_where_pyg_is_nan = names;
    }

    /// Compares float values with the expected array, if the fixture has one.
    pub fn floats(&mut self, name: &str, mut actual: Vec<f64>, expected: Option<&Array>) {
        let Some(expected) = expected else { return };
        if self.defined_where_pyg_is_nan.contains(&name) && actual.len() == expected.values.len() {
            let mut defined = 0;
            for (a, e) in actual.iter_mut().zip(&expected.values) {
                if e.is_nan() && a.is_finite() {
                    *a = f64::NAN;
                    defined += 1;
                }
            }
            if defined > 0 {
                self.details
                    .insert(format!("{name} (defined where PyG is NaN)"), defined as f64);
            }
        }
        let err = max_abs_diff(&actual, &expected.values);
        self.details.insert(name.to_string(), err);
        self.max_abs_err = self.max_abs_err.max(err);
    }

    /// Compares a float tensor with the expected array, if the fixture has one.
    pub fn tensor<B: AutodiffBackend, const D: usize>(
        &mut self,
        name: &str,
        actual: Tensor<B, D>,
        expected: Option<&Array>,
    ) {
        if expected.is_some() {
            self.floats(name, host::floats(actual), expected);
        }
    }

    /// Compares integers exactly, if the fixture has them.
    pub fn ints(&mut self, name: &str, actual: Vec<i64>, expected: Option<&IntArray>) {
        let Some(expected) = expected else { return };
        let equal = actual == expected.values;
        self.details
            .insert(name.to_string(), if equal { 0.0 } else { 1.0 });
        self.exact_match &= equal;
    }

    /// Compares an integer tensor exactly, if the fixture has it.
    pub fn int_tensor<B: AutodiffBackend, const D: usize>(
        &mut self,
        name: &str,
        actual: Tensor<B, D, burn::tensor::Int>,
        expected: Option<&IntArray>,
    ) {
        if expected.is_some() {
            self.ints(name, host::ints(actual), expected);
        }
    }

    /// Compares the gradient of `tensor` (zero when it got none) as `grad.{name}`.
    pub fn grad<B: AutodiffBackend, const D: usize>(
        &mut self,
        name: &str,
        tensor: &Tensor<B, D>,
        grads: &B::Gradients,
        expected: Option<&Array>,
    ) {
        let Some(expected) = expected else { return };
        let actual = tensor
            .grad(grads)
            .map(host::floats)
            .unwrap_or_else(|| vec![0.0; expected.values.len()]);
        self.floats(&format!("grad.{name}"), actual, Some(expected));
    }

    /// Compares the gradients of every leaf.
    pub fn leaves<B: AutodiffBackend>(&mut self, leaves: &Leaves<'_, B>, grads: &B::Gradients) {
        for (name, leaf, expected) in &leaves.0 {
            match leaf {
                Leaf::Matrix(t) => self.grad(name, t, grads, *expected),
                Leaf::Vector(t) => self.grad(name, t, grads, *expected),
                Leaf::Transposed(t) => {
                    let Some(want) = expected else { continue };
                    let actual = t
                        .grad(grads)
                        .map(|g| host::floats(g.transpose()))
                        .unwrap_or_else(|| vec![0.0; want.values.len()]);
                    self.floats(&format!("grad.{name}"), actual, Some(want));
                }
            }
        }
    }

    /// The verdict.
    pub fn report(self, case: &str, op: &str) -> OpReport {
        OpReport {
            case: case.to_string(),
            op: op.to_string(),
            pass: self.exact_match && self.max_abs_err <= self.tolerance,
            max_abs_err: self.max_abs_err,
            exact_match: self.exact_match,
            details: self.details,
            unsupported: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_matches_only_nan_and_lengths_must_agree() {
        assert_eq!(max_abs_diff(&[f64::NAN, 1.0], &[f64::NAN, 1.5]), 0.5);
        assert_eq!(max_abs_diff(&[f64::NAN], &[0.0]), f64::INFINITY);
        assert_eq!(max_abs_diff(&[1.0], &[1.0, 2.0]), f64::INFINITY);
        assert_eq!(max_abs_diff(&[f64::INFINITY], &[f64::INFINITY]), 0.0);
    }

    #[test]
    fn a_documented_deviation_accepts_finite_values_only_where_pyg_is_nan() {
        let pyg = Array {
            values: vec![f64::NAN, 2.0],
            shape: vec![2],
        };
        let mut c = Checker::new(1e-9);
        c.defined_where_pyg_is_nan(&["loss"]);
        c.floats("loss", vec![-0.5, 2.0], Some(&pyg));
        let report = c.report("c", "o");
        assert!(report.pass);
        assert_eq!(report.details["loss (defined where PyG is NaN)"], 1.0);
        // A wrong value where PyG is finite still fails, and so does NaN where PyG is not.
        let mut c = Checker::new(1e-9);
        c.defined_where_pyg_is_nan(&["loss"]);
        c.floats("loss", vec![-0.5, 2.5], Some(&pyg));
        assert!(!c.report("c", "o").pass);
        let mut c = Checker::new(1e-9);
        c.defined_where_pyg_is_nan(&["loss"]);
        c.floats(
            "loss",
            vec![1.0, f64::NAN],
            Some(&Array {
                values: vec![1.0, 2.0],
                shape: vec![2],
            }),
        );
        assert!(!c.report("c", "o").pass);
        // Other quantities keep NaN == NaN only.
        let mut c = Checker::new(1e-9);
        c.floats("loss", vec![-0.5, 2.0], Some(&pyg));
        assert!(!c.report("c", "o").pass);
    }

    #[test]
    fn integers_are_exact() {
        let mut c = Checker::new(1e-9);
        c.floats("a", vec![1.0], Some(&Array::scalar(1.0 + 1e-12)));
        c.ints(
            "b",
            vec![1, 2],
            Some(&IntArray {
                values: vec![1, 2],
                shape: vec![2],
            }),
        );
        assert!(c.report("c", "o").pass);
        let mut c = Checker::new(1e-9);
        c.ints(
            "b",
            vec![1, 3],
            Some(&IntArray {
                values: vec![1, 2],
                shape: vec![2],
            }),
        );
        let r = c.report("c", "o");
        assert!(!r.pass && !r.exact_match && r.unsupported.is_none());
    }
}
