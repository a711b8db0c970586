//! The fixture schema: typed structs for the file envelope, the shared input, arrays and the
//! per-op envelope, and [`parse_fixture`], which reads both schema versions.
//!
//! Schema 1 (the pooling cases, `/work/shared/parity/README.md`) and schema 2 (every layer,
//! `layers/README.md`) share one layout: `{schema_version, case, input, ops: {name: OP}}` with
//! `OP = {config: {op, uses?, ..}, params, output, grad, ...}`. Each op's body (config, params,
//! output, grad) is decoded here, at parse time, into the typed struct its handler in `ops/`
//! declares, so a malformed op is a [`ParityError::Op`] naming the op.

use std::any::Any;
use std::collections::BTreeMap;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::{ParityError, Result};

/// A float array read from JSON: values in row-major order and shape (a scalar has shape `[]`).
///
/// Python's `NaN` / `Infinity` / `-Infinity` tokens are read as those values, booleans as 1 / 0.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Array {
    /// The values, row-major.
    pub values: Vec<f64>,
    /// The shape, outer dimension first.
    pub shape: Vec<usize>,
}

/// An integer array (indices, counts, masks) read from JSON: booleans read as 1 / 0.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IntArray {
    /// The values, row-major.
    pub values: Vec<i64>,
    /// The shape, outer dimension first.
    pub shape: Vec<usize>,
}

/// Walks a nested JSON list, checking it is rectangular, and converts each leaf.
fn walk<T>(
    value: &Value,
    leaf: &impl Fn(&Value) -> Option<T>,
) -> std::result::Result<(Vec<T>, Vec<usize>), String> {
    struct State<T> {
        shape: Vec<usize>,
        leaf_depth: Option<usize>,
        out: Vec<T>,
    }
    fn go<T>(
        value: &Value,
        depth: usize,
        leaf: &impl Fn(&Value) -> Option<T>,
        state: &mut State<T>,
    ) -> std::result::Result<(), String> {
        match value {
            Value::Array(items) => {
                if state.leaf_depth.is_some_and(|d| depth >= d) {
                    return Err(format!("ragged array: a list at depth {depth}"));
                }
                if state.shape.len() == depth {
                    state.shape.push(items.len());
                } else if state.shape[depth] != items.len() {
                    return Err(format!(
                        "ragged array: a list at depth {depth} has {} items, expected {}",
                        items.len(),
                        state.shape[depth]
                    ));
                }
                items
                    .iter()
                    .try_for_each(|item| go(item, depth + 1, leaf, state))
            }
            other => {
                if state.leaf_depth.is_some_and(|d| d != depth) || depth < state.shape.len() {
                    return Err(format!("ragged array: a scalar at depth {depth}"));
                }
                state.leaf_depth = Some(depth);
                let v = leaf(other).ok_or_else(|| format!("unexpected array element {other}"))?;
                state.out.push(v);
                Ok(())
            }
        }
    }
    let mut state = State {
        shape: Vec::new(),
        leaf_depth: None,
        out: Vec::new(),
    };
    go(value, 0, leaf, &mut state)?;
    if state.out.len() != state.shape.iter().product::<usize>() {
        return Err("ragged array: lists of different depths".into());
    }
    Ok((state.out, state.shape))
}

fn float_leaf(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if s == "NaN" => Some(f64::NAN),
        Value::String(s) if s == "Infinity" => Some(f64::INFINITY),
        Value::String(s) if s == "-Infinity" => Some(f64::NEG_INFINITY),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

fn int_leaf(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

impl<'de> Deserialize<'de> for Array {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let (values, shape) = walk(&Value::deserialize(deserializer)?, &float_leaf)
            .map_err(|e| D::Error::custom(format!("float array: {e}")))?;
        Ok(Self { values, shape })
    }
}

impl<'de> Deserialize<'de> for IntArray {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let (values, shape) = walk(&Value::deserialize(deserializer)?, &int_leaf)
            .map_err(|e| D::Error::custom(format!("integer array: {e}")))?;
        Ok(Self { values, shape })
    }
}

impl Array {
    /// The array as one scalar: its only value.
    pub fn scalar(value: f64) -> Self {
        Self {
            values: vec![value],
            shape: vec![],
        }
    }

    /// The number of dimensions.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// The number of rows of a matrix (a PyTorch `Linear` weight's output width), or
    /// [`ParityError::Shape`] naming `field` if the array is not a matrix.
    pub fn rows(&self, field: &str) -> Result<usize> {
        match self.shape[..] {
            [rows, _] => Ok(rows),
            _ => Err(ParityError::Shape {
                field: field.to_string(),
                expected: "[out][in]".into(),
                found: self.shape.clone(),
            }),
        }
    }
}

impl IntArray {
    /// A one-element array (a count).
    pub fn scalar(value: i64) -> Self {
        Self {
            values: vec![value],
            shape: vec![1],
        }
    }
}

/// The input shared by all ops of a fixture (`"input"`).
#[derive(Debug, Clone, Deserialize)]
pub struct Input {
    /// Node features `[N][F]`.
    pub x: Array,
    /// Edges `[2][E]`, row 0 the source, row 1 the target.
    pub edge_index: IntArray,
    /// Graph id of each node `[N]`, non-decreasing.
    pub batch: IntArray,
    /// Edge weights `[E]` (schema 2).
    pub edge_weight: Option<Array>,
    /// Edge features `[E][D]` (schema 2).
    pub edge_attr: Option<Array>,
    /// Cluster id of each node `[N]`, for cluster pooling (schema 2).
    pub cluster: Option<IntArray>,
    /// Graph labels `[B]`, for the classifier (schema 2).
    pub y: Option<IntArray>,
    /// Number of nodes, informational.
    pub num_nodes: Option<usize>,
    /// Number of features, informational.
    pub num_features: Option<usize>,
    /// Number of graphs, informational.
    pub num_graphs: Option<usize>,
    /// Number of edges, informational.
    pub num_edges: Option<usize>,
}

impl Input {
    /// Checks the shapes the runner relies on.
    fn validate(mut self) -> Result<Self> {
        let bad = |field: &str, want: &str, shape: &[usize]| ParityError::Shape {
            field: format!("input.{field}"),
            expected: want.to_string(),
            found: shape.to_vec(),
        };
        if self.x.rank() != 2 {
            return Err(bad("x", "[N][F]", &self.x.shape));
        }
        if self.edge_index.shape.len() == 1 && self.edge_index.values.is_empty() {
            // `[]` for an empty edge set.
            self.edge_index.shape = vec![2, 0];
        }
        if self.edge_index.shape.len() != 2 || self.edge_index.shape[0] != 2 {
            return Err(bad("edge_index", "[2][E]", &self.edge_index.shape));
        }
        let n = self.x.shape[0];
        if self.batch.shape != [n] {
            return Err(bad("batch", "[N]", &self.batch.shape));
        }
        if let Some(cluster) = &self.cluster
            && cluster.shape != [n]
        {
            return Err(bad("cluster", "[N]", &cluster.shape));
        }
        Ok(self)
    }
}

/// The part of an op's `config` every op has.
#[derive(Debug, Clone, Deserialize)]
struct ConfigHead {
    op: String,
    #[serde(default)]
    uses: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct OpHead {
    config: ConfigHead,
}

/// One op of a fixture.
#[derive(Debug)]
pub struct OpEntry {
    /// The op's name in the fixture (the key under `ops`).
    pub name: String,
    /// The op kind (`config.op`), e.g. `TopKPooling`.
    pub kind: String,
    /// The optional inputs the op reads (`config.uses`, schema 2; empty in schema 1).
    pub uses: Vec<String>,
    /// The typed body, decoded by the op kind's handler; `None` for kinds this library lacks.
    pub(crate) body: Option<Box<dyn Any + Send + Sync>>,
}

impl OpEntry {
    /// Whether this library has a handler for the op's kind.
    pub fn is_supported(&self) -> bool {
        self.body.is_some()
    }
}

/// A whole fixture file.
#[derive(Debug)]
pub struct Fixture {
    /// 1 (pooling cases) or 2 (every layer).
    pub schema_version: u64,
    /// The case name (`"unnamed"` when the file has none).
    pub case: String,
    /// The file's description, if any.
    pub description: Option<String>,
    /// The dtype PyG computed in (`"float64"`).
    pub float_dtype: Option<String>,
    /// The shared input.
    pub input: Input,
    /// The ops, in name order.
    pub ops: Vec<OpEntry>,
}

#[derive(Deserialize)]
struct Envelope {
    schema_version: Option<u64>,
    case: Option<String>,
    description: Option<String>,
    float_dtype: Option<String>,
    input: Option<Value>,
    ops: Option<BTreeMap<String, Value>>,
}

/// The schema versions this runner reads.
pub const SCHEMA_VERSIONS: [u64; 2] = [1, 2];

/// Replaces Python's bare `NaN`, `Infinity`, `-Infinity` tokens (not JSON) by strings.
fn quote_non_finite(text: &str) -> String {
    let mut fixed = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            in_string = c != '"' || escaped;
            escaped = c == '\\' && !escaped;
        } else if c == '"' {
            in_string = true;
        } else {
            let token = ["-Infinity", "Infinity", "NaN"]
                .into_iter()
                .find(|t| rest.starts_with(t));
            if let Some(token) = token {
                fixed.push('"');
                fixed.push_str(token);
                fixed.push('"');
                rest = &rest[token.len()..];
                continue;
            }
        }
        fixed.push(c);
        rest = &rest[c.len_utf8()..];
    }
    fixed
}

/// Decodes an op body into the typed struct `T`.
pub(crate) fn decode<T: DeserializeOwned + Send + Sync + 'static>(
    body: Value,
) -> std::result::Result<Box<dyn Any + Send + Sync>, serde_json::Error> {
    Ok(Box::new(serde_json::from_value::<T>(body)?))
}

/// Parses a fixture file's text (schema 1 or 2) into a typed [`Fixture`]. Python's `json`
/// writes `NaN` and `Infinity` as bare tokens, which JSON does not allow: they are read as those
/// values. Every op of a kind this library implements is decoded into its typed form here; ops of
/// other kinds are kept (with [`OpEntry::is_supported`] false) and reported as unsupported.
///
/// # Errors
/// [`ParityError::Json`] for text that is not JSON, [`ParityError::SchemaVersion`] for another
/// schema, [`ParityError::Missing`] for a missing `input` or `ops`, [`ParityError::Input`] /
/// [`ParityError::Shape`] for a malformed input, and [`ParityError::Op`] for a malformed op.
pub fn parse_fixture(text: &str) -> Result<Fixture> {
    let envelope: Envelope = serde_json::from_str(&quote_non_finite(text))?;
    let schema_version = envelope
        .schema_version
        .ok_or_else(|| ParityError::Missing("schema_version".into()))?;
    if !SCHEMA_VERSIONS.contains(&schema_version) {
        return Err(ParityError::SchemaVersion(schema_version));
    }
    let input = envelope
        .input
        .ok_or_else(|| ParityError::Missing("input".into()))?;
    let input = Input::deserialize(input)
        .map_err(ParityError::Input)?
        .validate()?;
    let mut ops = Vec::new();
    for (name, body) in envelope
        .ops
        .ok_or_else(|| ParityError::Missing("ops".into()))?
    {
        let op_error = |source| ParityError::Op {
            op: name.clone(),
            source,
        };
        let head = OpHead::deserialize(&body).map_err(op_error)?;
        let body = crate::ops::decode(&head.config.op, body)
            .transpose()
            .map_err(op_error)?;
        ops.push(OpEntry {
            name,
            kind: head.config.op,
            uses: head.config.uses,
            body,
        });
    }
    Ok(Fixture {
        schema_version,
        case: envelope.case.unwrap_or_else(|| "unnamed".into()),
        description: envelope.description,
        float_dtype: envelope.float_dtype,
        input,
        ops,
    })
}

/// The array of an optional field the op needs, or [`ParityError::Missing`] naming it.
pub(crate) fn required<'a>(array: &'a Option<Array>, field: &str) -> Result<&'a Array> {
    array
        .as_ref()
        .ok_or_else(|| ParityError::Missing(field.to_string()))
}

/// The common layout of an op's body, with the op's own config `C`, parameters `P`, outputs `O`
/// and gradients `G` (`G`'s fields are usually `Option`s: a gradient a fixture lacks is not
/// compared).
#[derive(Debug, Clone, Deserialize)]
#[serde(
    bound = "C: Deserialize<'de>, P: Deserialize<'de>, O: Deserialize<'de>, G: Deserialize<'de> + Default"
)]
pub(crate) struct OpBody<C, P, O, G> {
    /// Constructor arguments.
    pub config: C,
    /// Values written into the module before the forward.
    pub params: P,
    /// Forward results.
    pub output: O,
    /// Gradients of the op's loss.
    #[serde(default)]
    pub grad: G,
}

/// The parameters of ops without any (`"params": {}`).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct NoParams {}

/// Gradients of ops whose only differentiable input is `x`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct XGrad {
    /// d loss / d x.
    pub x: Option<Array>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_keep_shape_and_non_finite_values() {
        let a: Array = serde_json::from_str(r#"[[1, "NaN"], [true, "-Infinity"]]"#).unwrap();
        assert_eq!(a.shape, [2, 2]);
        assert!(a.values[1].is_nan());
        assert_eq!(a.values[2], 1.0);
        let e: IntArray = serde_json::from_str("[[], []]").unwrap();
        assert_eq!(e.shape, [2, 0]);
        let s: Array = serde_json::from_str("2.5").unwrap();
        assert_eq!((s.values, s.shape), (vec![2.5], vec![]));
    }

    #[test]
    fn ragged_and_non_integer_arrays_are_rejected() {
        assert!(serde_json::from_str::<Array>("[[1, 2], [3]]").is_err());
        assert!(serde_json::from_str::<Array>("[[1, 2], 3]").is_err());
        assert!(serde_json::from_str::<Array>("[1, [2]]").is_err());
        assert!(serde_json::from_str::<IntArray>("[1.5]").is_err());
    }

    #[test]
    fn python_tokens_outside_strings_are_quoted() {
        let fixed = quote_non_finite(r#"{"a": NaN, "b": "NaN x", "c": [-Infinity, Infinity]}"#);
        assert_eq!(
            fixed,
            r#"{"a": "NaN", "b": "NaN x", "c": ["-Infinity", "Infinity"]}"#
        );
    }

    fn minimal(ops: &str) -> String {
        format!(
            r#"{{"schema_version": 2, "case": "t", "input": {{"x": [[1.0], [2.0]],
            "edge_index": [[0], [1]], "batch": [0, 0]}}, "ops": {ops}}}"#
        )
    }

    #[test]
    fn unknown_ops_parse_as_unsupported() {
        let f = parse_fixture(&minimal(
            r#"{"z": {"config": {"op": "Nope"}, "output": {}}}"#,
        ))
        .unwrap();
        assert_eq!(f.case, "t");
        assert!(!f.ops[0].is_supported());
    }

    #[test]
    fn malformed_files_name_what_is_wrong() {
        let err = parse_fixture(&minimal(
            r#"{"g": {"config": {"op": "global_add_pool"}, "output": {"x": [[1], 2]}}}"#,
        ))
        .unwrap_err();
        assert!(
            matches!(&err, ParityError::Op { op, .. } if op == "g"),
            "{err}"
        );
        assert!(err.to_string().contains("ragged"), "{err}");
        let err = parse_fixture(r#"{"schema_version": 7}"#).unwrap_err();
        assert!(matches!(err, ParityError::SchemaVersion(7)));
        let err = parse_fixture(r#"{"schema_version": 1, "ops": {}}"#).unwrap_err();
        assert!(matches!(&err, ParityError::Missing(f) if f == "input"));
        let text = minimal("{}").replace("\"batch\": [0, 0]", "\"batch\": [0]");
        assert!(matches!(
            parse_fixture(&text).unwrap_err(),
            ParityError::Shape { .. }
        ));
        assert!(matches!(
            parse_fixture("{").unwrap_err(),
            ParityError::Json(_)
        ));
    }
}
