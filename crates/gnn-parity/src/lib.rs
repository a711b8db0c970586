//! Checking this library against PyTorch Geometric's reference figures.
//!
//! Reads fixtures in the two schemas of the project's PyG parity files (schema 1: the pooling
//! cases; schema 2: every layer around pooling), runs every op a fixture lists on a backend,
//! and compares outputs, integer outputs (exactly) and gradients. Works for fixtures of any size:
//! everything is read from the file (configs, parameters, inputs), nothing is assumed.

use std::collections::BTreeMap;

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor, TensorData};
use gnn_core::GraphBatch;
use gnn_core::conv::{ConvKind, GcnConvConfig, GinConvConfig, GraphConvConfig, SageConvConfig};
use gnn_core::host;
use gnn_core::structure::Aggregation;
use gnn_pool::readout::{AttentionalAggregationConfig, Set2SetConfig, SortAggregationConfig};
use gnn_pool::{
    Clustering, SagPoolingConfig, ScoreActivation, Selection, TopKPoolingConfig, avg_pool, max_pool,
};
use serde_json::Value;

/// An error reading or interpreting a fixture.
#[derive(Debug, thiserror::Error)]
pub enum ParityError {
    /// A field is missing or has the wrong type.
    #[error("fixture field {0} is missing or malformed")]
    Field(String),
    /// The JSON could not be parsed.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The fixture's graph data was rejected.
    #[error("fixture input rejected: {0}")]
    Graph(#[from] gnn_core::GraphError),
    /// A layer rejected the fixture's configuration.
    #[error("layer rejected the fixture's configuration: {0}")]
    Pool(#[from] gnn_pool::PoolError),
}

type Result<T> = std::result::Result<T, ParityError>;

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

/// A float array read from JSON: values (row-major) and shape.
#[derive(Debug, Clone)]
struct Array {
    values: Vec<f64>,
    shape: Vec<usize>,
}

fn array(value: &Value) -> Option<Array> {
    fn walk(value: &Value, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<f64>) -> Option<()> {
        match value {
            Value::Array(items) => {
                if shape.len() == depth {
                    shape.push(items.len());
                } else if shape[depth] != items.len() {
                    return None;
                }
                items
                    .iter()
                    .try_for_each(|item| walk(item, depth + 1, shape, out))
            }
            Value::Number(n) => {
                out.push(n.as_f64()?);
                Some(())
            }
            Value::String(s) if s == "NaN" => {
                out.push(f64::NAN);
                Some(())
            }
            Value::String(s) if s == "Infinity" || s == "-Infinity" => {
                out.push(if s.starts_with('-') {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                });
                Some(())
            }
            Value::Bool(b) => {
                out.push(if *b { 1.0 } else { 0.0 });
                Some(())
            }
            _ => None,
        }
    }
    let mut shape = Vec::new();
    let mut values = Vec::new();
    walk(value, 0, &mut shape, &mut values)?;
    // An empty nested list like [[], []] has shape [2, 0].
    Some(Array { values, shape })
}

fn field<'a>(value: &'a Value, path: &str) -> Result<&'a Value> {
    path.split('.')
        .try_fold(value, |v, key| v.get(key))
        .ok_or_else(|| ParityError::Field(path.to_string()))
}

fn get_array(value: &Value, key: &str) -> Result<Array> {
    value
        .get(key)
        .and_then(array)
        .ok_or_else(|| ParityError::Field(key.to_string()))
}

fn float_tensor<B: AutodiffBackend, const D: usize>(a: &Array, device: &B::Device) -> Tensor<B, D> {
    let mut shape = a.shape.clone();
    shape.resize(D, 1);
    Tensor::from_data(TensorData::new(a.values.clone(), shape), device)
}

fn int_tensor<B: AutodiffBackend, const D: usize>(
    a: &Array,
    device: &B::Device,
) -> Tensor<B, D, Int> {
    let values: Vec<i64> = a.values.iter().map(|&v| v as i64).collect();
    let mut shape = a.shape.clone();
    shape.resize(D, 1);
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// Sets a Burn `Linear` from PyTorch's `weight [out][in]` and optional `bias [out]`.
fn set_linear<B: AutodiffBackend>(
    linear: &mut Linear<B>,
    weight: &Array,
    bias: Option<&Array>,
    device: &B::Device,
) {
    let w: Tensor<B, 2> = float_tensor(weight, device);
    linear.weight = Param::from_tensor(w.transpose());
    linear.bias = bias.map(|b| Param::from_tensor(float_tensor::<B, 1>(b, device)));
}

/// Collects results of one op.
struct Checker {
    tolerance: f64,
    details: BTreeMap<String, f64>,
    max_abs_err: f64,
    exact_match: bool,
}

impl Checker {
    fn new(tolerance: f64) -> Self {
        Self {
            tolerance,
            details: BTreeMap::new(),
            max_abs_err: 0.0,
            exact_match: true,
        }
    }

    fn floats(&mut self, name: &str, actual: Vec<f64>, expected: Option<Array>) {
        let Some(expected) = expected else { return };
        let err = if actual.len() != expected.values.len() {
            f64::INFINITY
        } else {
            actual
                .iter()
                .zip(&expected.values)
                .map(|(a, e)| match (a.is_nan(), e.is_nan()) {
                    (true, true) => 0.0,
                    (false, false) if a == e => 0.0,
                    (false, false) => (a - e).abs(),
                    _ => f64::INFINITY,
                })
                .fold(0.0, f64::max)
        };
        self.details.insert(name.to_string(), err);
        self.max_abs_err = self.max_abs_err.max(err);
    }

    fn float_tensor<B: AutodiffBackend, const D: usize>(
        &mut self,
        name: &str,
        actual: Tensor<B, D>,
        expected: Option<Array>,
    ) {
        self.floats(name, host::floats(actual), expected);
    }

    fn ints(&mut self, name: &str, actual: Vec<i64>, expected: Option<Array>) {
        let Some(expected) = expected else { return };
        let expected: Vec<i64> = expected.values.iter().map(|&v| v as i64).collect();
        let equal = actual == expected;
        self.details
            .insert(name.to_string(), if equal { 0.0 } else { 1.0 });
        self.exact_match &= equal;
    }

    fn grad<B: AutodiffBackend, const D: usize>(
        &mut self,
        name: &str,
        tensor: &Tensor<B, D>,
        grads: &B::Gradients,
        expected: &Value,
    ) {
        let Some(expected) = expected.get(name).and_then(array) else {
            return;
        };
        let actual = tensor
            .grad(grads)
            .map(host::floats)
            .unwrap_or_else(|| vec![0.0; expected.values.len()]);
        self.floats(&format!("grad.{name}"), actual, Some(expected));
    }

    fn leaves<B: AutodiffBackend>(
        &mut self,
        leaves: &[Leaf<B>],
        grads: &B::Gradients,
        expected: &Value,
    ) {
        for leaf in leaves {
            match leaf {
                Leaf::Matrix(name, t) => self.grad(name, t, grads, expected),
                Leaf::Vector(name, t) => self.grad(name, t, grads, expected),
                Leaf::Transposed(name, t) => {
                    let Some(want) = expected.get(*name).and_then(array) else {
                        continue;
                    };
                    let actual = t
                        .grad(grads)
                        .map(|g| host::floats(g.transpose()))
                        .unwrap_or_else(|| vec![0.0; want.values.len()]);
                    self.floats(&format!("grad.{name}"), actual, Some(want));
                }
            }
        }
    }

    fn report(self, case: &str, op: &str) -> OpReport {
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

/// A parameter whose gradient a fixture records, under PyG's name.
enum Leaf<B: AutodiffBackend> {
    /// Same layout as PyG.
    Matrix(&'static str, Tensor<B, 2>),
    /// A Burn `Linear` weight `[in, out]`, PyG's transposed.
    Transposed(&'static str, Tensor<B, 2>),
    /// A vector.
    Vector(&'static str, Tensor<B, 1>),
}

/// The shared input of a fixture, as tensors on one device (float inputs require gradients).
struct Inputs<B: AutodiffBackend> {
    x: Tensor<B, 2>,
    edge_index: Tensor<B, 2, Int>,
    batch: Tensor<B, 1, Int>,
    edge_weight: Option<Tensor<B, 1>>,
    edge_attr: Option<Tensor<B, 2>>,
    cluster: Option<Vec<i64>>,
    y: Option<Tensor<B, 1, Int>>,
}

impl<B: AutodiffBackend> Inputs<B> {
    fn read(input: &Value, device: &B::Device) -> Result<Self> {
        let optional_float = |key: &str| input.get(key).and_then(array);
        Ok(Self {
            x: float_tensor::<B, 2>(&get_array(input, "x")?, device).require_grad(),
            edge_index: int_tensor(&edge_index_array(input)?, device),
            batch: int_tensor(&get_array(input, "batch")?, device),
            edge_weight: optional_float("edge_weight")
                .map(|a| float_tensor::<B, 1>(&a, device).require_grad()),
            edge_attr: optional_float("edge_attr")
                .map(|a| float_tensor::<B, 2>(&a, device).require_grad()),
            cluster: optional_float("cluster")
                .map(|a| a.values.iter().map(|&v| v as i64).collect()),
            y: optional_float("y").map(|a| int_tensor(&a, device)),
        })
    }

    /// The batch with the optional inputs the op `uses` (schema 2), or none (schema 1).
    fn batch(&self, uses: &[String]) -> Result<GraphBatch<B>> {
        let mut graphs =
            GraphBatch::from_tensors(self.x.clone(), self.edge_index.clone(), self.batch.clone())?;
        let used = |name: &str| uses.iter().any(|u| u == name);
        if let (true, Some(w)) = (used("edge_weight"), &self.edge_weight) {
            graphs = graphs.with_edge_weight(w.clone())?;
        }
        if let (true, Some(a)) = (used("edge_attr"), &self.edge_attr) {
            graphs = graphs.with_edge_attr(a.clone())?;
        }
        if let (true, Some(y)) = (used("y"), &self.y) {
            graphs = graphs.with_y(y.clone())?;
        }
        Ok(graphs)
    }
}

fn edge_index_array(input: &Value) -> Result<Array> {
    let mut a = get_array(input, "edge_index")?;
    if a.shape.len() == 1 {
        // `[[], []]` parses as shape [2] with no values.
        a.shape = vec![2, 0];
    }
    Ok(a)
}

/// Parses a fixture file's text. Python's `json` writes `NaN` and `Infinity` as bare tokens,
/// which JSON does not allow: they are read as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`
/// and compared as those values.
///
/// # Errors
/// Text that is not JSON even then.
pub fn parse_fixture(text: &str) -> Result<Value> {
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
    Ok(serde_json::from_str(&fixed)?)
}

/// Runs every op of one fixture on backend `B` and reports each. Ops this library does not
/// implement are reported as failing with the reason in `unsupported`.
///
/// `tolerance` is the largest absolute error allowed (1e-9 in float64, about 1e-4 in float32).
///
/// # Errors
/// A fixture whose input cannot be read at all.
pub fn run_fixture<B: AutodiffBackend>(
    fixture: &Value,
    tolerance: f64,
    device: &B::Device,
) -> Result<Vec<OpReport>> {
    let case = fixture
        .get("case")
        .and_then(Value::as_str)
        .unwrap_or("unnamed")
        .to_string();
    let input = field(fixture, "input")?;
    let ops = field(fixture, "ops")?
        .as_object()
        .ok_or_else(|| ParityError::Field("ops".into()))?;
    let mut reports = Vec::new();
    for (name, op) in ops {
        let inputs = Inputs::<B>::read(input, device)?;
        let report = match run_op(&inputs, op, tolerance, device) {
            Ok(Some(checker)) => checker.report(&case, name),
            Ok(None) => unsupported(&case, name, "op not implemented by this library".into()),
            Err(e) => unsupported(&case, name, e.to_string()),
        };
        reports.push(report);
    }
    Ok(reports)
}

fn unsupported(case: &str, op: &str, why: String) -> OpReport {
    OpReport {
        case: case.to_string(),
        op: op.to_string(),
        max_abs_err: f64::INFINITY,
        exact_match: false,
        pass: false,
        details: BTreeMap::new(),
        unsupported: Some(why),
    }
}

fn uses(config: &Value) -> Vec<String> {
    config
        .get("uses")
        .and_then(Value::as_array)
        .map(|u| {
            u.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn selection(config: &Value) -> Result<Selection> {
    if let Some(min_score) = config.get("min_score").and_then(Value::as_f64) {
        return Ok(Selection::MinScore(min_score));
    }
    let ratio = config
        .get("ratio")
        .and_then(Value::as_f64)
        .ok_or_else(|| ParityError::Field("config.ratio".into()))?;
    let is_int = config.get("ratio_type").and_then(Value::as_str) == Some("int");
    // PyG: an int ratio, or any ratio >= 1, is a node count.
    Ok(if is_int || ratio >= 1.0 {
        Selection::Count(ratio as usize)
    } else {
        Selection::Ratio(ratio)
    })
}

fn activation(config: &Value) -> ScoreActivation {
    match config.get("nonlinearity").and_then(Value::as_str) {
        Some("sigmoid") => ScoreActivation::Sigmoid,
        _ => ScoreActivation::Tanh,
    }
}

fn run_op<B: AutodiffBackend>(
    inputs: &Inputs<B>,
    op: &Value,
    tolerance: f64,
    device: &B::Device,
) -> Result<Option<Checker>> {
    let config = field(op, "config")?;
    let kind = config.get("op").and_then(Value::as_str).unwrap_or_default();
    let params = op.get("params").cloned().unwrap_or(Value::Null);
    let param = |name: &str| get_array(&params, name);
    let output = field(op, "output")?;
    let expected = |name: &str| output.get(name).and_then(array);
    let grad = op.get("grad").cloned().unwrap_or(Value::Null);
    let uses = uses(config);
    let mut check = Checker::new(tolerance);
    let features = inputs.x.dims()[1];

    match kind {
        "TopKPooling" | "SAGPooling" => {
            let graphs = inputs.batch(&uses)?;
            let multiplier = config
                .get("multiplier")
                .and_then(Value::as_f64)
                .unwrap_or(1.0);
            let (pooled, leaves): (_, Vec<Leaf<B>>) = if kind == "TopKPooling" {
                let mut layer = TopKPoolingConfig::new(features, selection(config)?)
                    .with_activation(activation(config))
                    .with_multiplier(multiplier)
                    .init::<B>(device)?;
                layer.select.weight =
                    Param::from_tensor(float_tensor(&param("select.weight")?, device));
                let w = layer.select.weight.val();
                (
                    layer.forward(graphs)?,
                    vec![Leaf::Matrix("select.weight", w)],
                )
            } else {
                let gnn = config
                    .get("GNN")
                    .and_then(Value::as_str)
                    .unwrap_or("GraphConv");
                let scorer = if gnn.starts_with("GCNConv") {
                    ConvKind::Gcn
                } else {
                    ConvKind::Graph
                };
                let mut layer = SagPoolingConfig::new(features, selection(config)?)
                    .with_scorer(scorer)
                    .with_activation(activation(config))
                    .with_multiplier(multiplier)
                    .init::<B>(device)?;
                let mut weights: Vec<Leaf<B>> = Vec::new();
                match &mut layer.gnn {
                    gnn_core::conv::Conv::Graph(conv) => {
                        set_linear(
                            &mut conv.lin_rel,
                            &param("gnn.lin_rel.weight")?,
                            Some(&param("gnn.lin_rel.bias")?),
                            device,
                        );
                        set_linear(
                            &mut conv.lin_root,
                            &param("gnn.lin_root.weight")?,
                            None,
                            device,
                        );
                        weights.push(Leaf::Transposed(
                            "gnn.lin_rel.weight",
                            conv.lin_rel.weight.val(),
                        ));
                        weights.push(Leaf::Vector(
                            "gnn.lin_rel.bias",
                            conv.lin_rel.bias.as_ref().expect("set above").val(),
                        ));
                        weights.push(Leaf::Transposed(
                            "gnn.lin_root.weight",
                            conv.lin_root.weight.val(),
                        ));
                    }
                    gnn_core::conv::Conv::Gcn(conv) => {
                        set_linear(&mut conv.lin, &param("gnn.lin.weight")?, None, device);
                        conv.bias = Some(Param::from_tensor(float_tensor(
                            &param("gnn.bias")?,
                            device,
                        )));
                        weights.push(Leaf::Transposed("gnn.lin.weight", conv.lin.weight.val()));
                        weights.push(Leaf::Vector(
                            "gnn.bias",
                            conv.bias.as_ref().expect("set above").val(),
                        ));
                    }
                    _ => return Ok(None),
                }
                let select = layer
                    .select
                    .as_mut()
                    .expect("PyG's SAGPooling has a select weight");
                select.weight = Param::from_tensor(float_tensor(&param("select.weight")?, device));
                weights.push(Leaf::Matrix("select.weight", select.weight.val()));
                (layer.forward(graphs)?, weights)
            };
            let out = &pooled.graphs;
            let mut loss = out.x().clone().sum();
            if let Some(attr) = out.edge_attr() {
                loss = loss + attr.clone().sum();
            }
            check.float_tensor("x", out.x().clone(), expected("x"));
            check.float_tensor("score", pooled.score.clone(), expected("score"));
            check.ints("perm", host::ints(pooled.perm.clone()), expected("perm"));
            check.ints("batch", host::ints(out.batch().clone()), expected("batch"));
            check.ints(
                "edge_index",
                host::ints(out.edge_index().clone()),
                expected("edge_index"),
            );
            let counts: Vec<i64> = out.node_counts().iter().map(|&c| c as i64).collect();
            check.ints("k_per_graph", counts, expected("k_per_graph"));
            if let Some(attr) = out.edge_attr() {
                check.float_tensor("edge_attr", attr.clone(), expected("edge_attr"));
            }
            let grads = loss.backward();
            check.grad("x", &inputs.x, &grads, &grad);
            if let Some(attr) = &inputs.edge_attr {
                check.grad("edge_attr", attr, &grads, &grad);
            }
            check.leaves(&leaves, &grads, &grad);
        }
        "global_add_pool" | "global_mean_pool" | "global_max_pool" => {
            let graphs = inputs.batch(&uses)?;
            let pool = match kind {
                "global_add_pool" => gnn_pool::GlobalPool::Add,
                "global_mean_pool" => gnn_pool::GlobalPool::Mean,
                _ => gnn_pool::GlobalPool::Max,
            };
            let out = pool.apply(inputs.x.clone(), graphs.segments());
            check.float_tensor("x", out.clone(), expected("x"));
            let grads = out.sum().backward();
            check.grad("x", &inputs.x, &grads, &grad);
        }
        "GraphConv" | "GCNConv" | "GINConv" | "SAGEConv" => {
            let out_channels = config
                .get("out_channels")
                .and_then(Value::as_u64)
                .map(|v| v as usize);
            let graphs = inputs.batch(&uses)?;
            let mut leaves: Vec<Leaf<B>> = Vec::new();
            let out = match kind {
                "GraphConv" => {
                    let aggregation = match config.get("aggr").and_then(Value::as_str) {
                        Some("mean") => Aggregation::Mean,
                        Some("max") => Aggregation::Max,
                        _ => Aggregation::Sum,
                    };
                    let w = param("lin_rel.weight")?;
                    let mut conv = GraphConvConfig::new(features, w.shape[0])
                        .with_aggregation(aggregation)
                        .init::<B>(device);
                    set_linear(&mut conv.lin_rel, &w, Some(&param("lin_rel.bias")?), device);
                    set_linear(&mut conv.lin_root, &param("lin_root.weight")?, None, device);
                    leaves.push(Leaf::Transposed(
                        "lin_rel.weight",
                        conv.lin_rel.weight.val(),
                    ));
                    leaves.push(Leaf::Vector(
                        "lin_rel.bias",
                        conv.lin_rel.bias.as_ref().expect("set").val(),
                    ));
                    leaves.push(Leaf::Transposed(
                        "lin_root.weight",
                        conv.lin_root.weight.val(),
                    ));
                    conv.forward(inputs.x.clone(), graphs.edge_index(), graphs.edge_weight())
                }
                "GCNConv" => {
                    let w = param("lin.weight")?;
                    let mut conv = GcnConvConfig::new(features, out_channels.unwrap_or(w.shape[0]))
                        .init::<B>(device);
                    set_linear(&mut conv.lin, &w, None, device);
                    conv.bias = Some(Param::from_tensor(float_tensor(&param("bias")?, device)));
                    leaves.push(Leaf::Transposed("lin.weight", conv.lin.weight.val()));
                    leaves.push(Leaf::Vector("bias", conv.bias.as_ref().expect("set").val()));
                    conv.forward(inputs.x.clone(), graphs.edge_index(), graphs.edge_weight())
                }
                "GINConv" => {
                    let w0 = param("nn.0.weight")?;
                    let w2 = param("nn.2.weight")?;
                    let train_eps = config
                        .get("train_eps")
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    let eps = if train_eps {
                        param("eps")?.values[0]
                    } else {
                        config.get("eps").and_then(Value::as_f64).unwrap_or(0.0)
                    };
                    let mut conv = GinConvConfig::new(features, w2.shape[0])
                        .with_d_hidden(Some(w0.shape[0]))
                        .with_eps(eps)
                        .with_train_eps(train_eps)
                        .init::<B>(device);
                    set_linear(&mut conv.mlp_in, &w0, Some(&param("nn.0.bias")?), device);
                    set_linear(&mut conv.mlp_out, &w2, Some(&param("nn.2.bias")?), device);
                    if train_eps {
                        conv.eps = Some(Param::from_tensor(float_tensor(&param("eps")?, device)));
                        leaves.push(Leaf::Vector("eps", conv.eps.as_ref().expect("set").val()));
                    }
                    leaves.push(Leaf::Transposed("nn.0.weight", conv.mlp_in.weight.val()));
                    leaves.push(Leaf::Vector(
                        "nn.0.bias",
                        conv.mlp_in.bias.as_ref().expect("set").val(),
                    ));
                    leaves.push(Leaf::Transposed("nn.2.weight", conv.mlp_out.weight.val()));
                    leaves.push(Leaf::Vector(
                        "nn.2.bias",
                        conv.mlp_out.bias.as_ref().expect("set").val(),
                    ));
                    conv.forward(inputs.x.clone(), graphs.edge_index(), graphs.edge_weight())
                }
                _ => {
                    let w = param("lin_l.weight")?;
                    let mut conv = SageConvConfig::new(features, w.shape[0]).init::<B>(device);
                    set_linear(&mut conv.lin_l, &w, Some(&param("lin_l.bias")?), device);
                    set_linear(&mut conv.lin_r, &param("lin_r.weight")?, None, device);
                    leaves.push(Leaf::Transposed("lin_l.weight", conv.lin_l.weight.val()));
                    leaves.push(Leaf::Vector(
                        "lin_l.bias",
                        conv.lin_l.bias.as_ref().expect("set").val(),
                    ));
                    leaves.push(Leaf::Transposed("lin_r.weight", conv.lin_r.weight.val()));
                    conv.forward(inputs.x.clone(), graphs.edge_index(), graphs.edge_weight())
                }
            };
            check.float_tensor("x", out.clone(), expected("x"));
            let grads = out.sum().backward();
            check.grad("x", &inputs.x, &grads, &grad);
            if let Some(w) = &inputs.edge_weight {
                check.grad("edge_weight", w, &grads, &grad);
            }
            check.leaves(&leaves, &grads, &grad);
        }
        "avg_pool" | "max_pool" => {
            let graphs = inputs.batch(&uses)?;
            let cluster = inputs
                .cluster
                .as_ref()
                .ok_or_else(|| ParityError::Field("input.cluster".into()))?;
            let clustering = Clustering::from_ids(cluster, &graphs)?;
            let out = if kind == "avg_pool" {
                avg_pool(graphs, &clustering)
            } else {
                max_pool(graphs, &clustering)
            };
            let mut loss = out.x().clone().sum();
            check.float_tensor("x", out.x().clone(), expected("x"));
            check.ints(
                "edge_index",
                host::ints(out.edge_index().clone()),
                expected("edge_index"),
            );
            check.ints("batch", host::ints(out.batch().clone()), expected("batch"));
            if let Some(attr) = out.edge_attr() {
                check.float_tensor("edge_attr", attr.clone(), expected("edge_attr"));
                loss = loss + attr.clone().sum();
            }
            let grads = loss.backward();
            check.grad("x", &inputs.x, &grads, &grad);
            if let Some(attr) = &inputs.edge_attr {
                check.grad("edge_attr", attr, &grads, &grad);
            }
        }
        "AttentionalAggregation" => {
            let graphs = inputs.batch(&uses)?;
            let nn_weight = param("nn.weight").ok();
            let mut layer = AttentionalAggregationConfig::new(features)
                .with_d_output(nn_weight.as_ref().map(|w| w.shape[0]))
                .init::<B>(device)?;
            set_linear(
                &mut layer.gate_nn,
                &param("gate_nn.weight")?,
                Some(&param("gate_nn.bias")?),
                device,
            );
            let mut leaves = vec![
                Leaf::Transposed("gate_nn.weight", layer.gate_nn.weight.val()),
                Leaf::Vector(
                    "gate_nn.bias",
                    layer.gate_nn.bias.as_ref().expect("set").val(),
                ),
            ];
            if let (Some(nn), Some(w)) = (layer.nn.as_mut(), nn_weight.as_ref()) {
                set_linear(nn, w, Some(&param("nn.bias")?), device);
                leaves.push(Leaf::Transposed("nn.weight", nn.weight.val()));
                leaves.push(Leaf::Vector(
                    "nn.bias",
                    nn.bias.as_ref().expect("set").val(),
                ));
            }
            let out = layer.forward(inputs.x.clone(), graphs.segments())?;
            check.float_tensor("x", out.clone(), expected("x"));
            let grads = out.sum().backward();
            check.grad("x", &inputs.x, &grads, &grad);
            check.leaves(&leaves, &grads, &grad);
        }
        "Set2Set" => {
            let graphs = inputs.batch(&uses)?;
            let steps = config
                .get("processing_steps")
                .and_then(Value::as_u64)
                .unwrap_or(3) as usize;
            let mut layer = Set2SetConfig::new(features, steps).init::<B>(device)?;
            set_linear(
                &mut layer.lstm_input,
                &param("lstm.weight_ih_l0")?,
                Some(&param("lstm.bias_ih_l0")?),
                device,
            );
            set_linear(
                &mut layer.lstm_hidden,
                &param("lstm.weight_hh_l0")?,
                Some(&param("lstm.bias_hh_l0")?),
                device,
            );
            let leaves = vec![
                Leaf::Transposed("lstm.weight_ih_l0", layer.lstm_input.weight.val()),
                Leaf::Transposed("lstm.weight_hh_l0", layer.lstm_hidden.weight.val()),
                Leaf::Vector(
                    "lstm.bias_ih_l0",
                    layer.lstm_input.bias.as_ref().expect("set").val(),
                ),
                Leaf::Vector(
                    "lstm.bias_hh_l0",
                    layer.lstm_hidden.bias.as_ref().expect("set").val(),
                ),
            ];
            let out = layer.forward(inputs.x.clone(), graphs.segments())?;
            check.float_tensor("x", out.clone(), expected("x"));
            let grads = out.sum().backward();
            check.grad("x", &inputs.x, &grads, &grad);
            check.leaves(&leaves, &grads, &grad);
        }
        "SortAggregation" => {
            let graphs = inputs.batch(&uses)?;
            let k = config.get("k").and_then(Value::as_u64).unwrap_or(1) as usize;
            let out = SortAggregationConfig::new(k)
                .init()?
                .forward(inputs.x.clone(), graphs.segments());
            check.float_tensor("x", out.clone(), expected("x"));
            let grads = out.sum().backward();
            check.grad("x", &inputs.x, &grads, &grad);
        }
        "to_dense_batch" => {
            let graphs = inputs.batch(&uses)?;
            let (dense, mask) =
                gnn_core::segment::to_dense_batch(inputs.x.clone(), graphs.segments());
            check.float_tensor("x", dense, expected("x"));
            check.ints("mask", host::ints(mask.int()), expected("mask"));
        }
        "to_dense_adj" => {
            let graphs = inputs.batch(&uses)?;
            let adj = gnn_pool::dense::to_dense_adj(
                graphs.edge_index(),
                graphs.segments(),
                graphs.edge_weight().cloned(),
            );
            check.float_tensor("adj", adj, expected("adj"));
        }
        "dense_diff_pool" | "dense_mincut_pool" => {
            let graphs = inputs.batch(&uses)?;
            let (dense_x, mask) =
                gnn_core::segment::to_dense_batch(inputs.x.clone(), graphs.segments());
            let adj = gnn_pool::dense::to_dense_adj(
                graphs.edge_index(),
                graphs.segments(),
                graphs.edge_weight().cloned(),
            );
            let s: Tensor<B, 3> = float_tensor(&param("s")?, device).require_grad();
            let (x, adj, losses) = if kind == "dense_diff_pool" {
                let out = gnn_pool::dense::dense_diff_pool(dense_x, adj, s.clone(), Some(mask));
                (
                    out.x,
                    out.adj,
                    [("link_loss", out.link_loss), ("ent_loss", out.entropy_loss)],
                )
            } else {
                let out = gnn_pool::dense::dense_mincut_pool(dense_x, adj, s.clone(), Some(mask));
                (
                    out.x,
                    out.adj,
                    [
                        ("mincut_loss", out.mincut_loss),
                        ("ortho_loss", out.ortho_loss),
                    ],
                )
            };
            check.float_tensor("x", x.clone(), expected("x"));
            check.float_tensor("adj", adj.clone(), expected("adj"));
            let mut loss = x.sum() + adj.sum();
            for (name, value) in losses {
                check.float_tensor(name, value.clone(), expected(name));
                loss = loss + value;
            }
            let grads = loss.backward();
            check.grad("x", &inputs.x, &grads, &grad);
            if let Some(w) = &inputs.edge_weight {
                check.grad("edge_weight", w, &grads, &grad);
            }
            check.grad("s", &s, &grads, &grad);
        }
        "HierarchicalClassifier" => {
            // PyG's examples/proteins_topk_pool.py in eval mode (dropout off).
            const CONV: [[&str; 3]; 4] = [
                [
                    "conv1.lin_rel.weight",
                    "conv1.lin_rel.bias",
                    "conv1.lin_root.weight",
                ],
                [
                    "conv2.lin_rel.weight",
                    "conv2.lin_rel.bias",
                    "conv2.lin_root.weight",
                ],
                [
                    "conv3.lin_rel.weight",
                    "conv3.lin_rel.bias",
                    "conv3.lin_root.weight",
                ],
                [
                    "conv4.lin_rel.weight",
                    "conv4.lin_rel.bias",
                    "conv4.lin_root.weight",
                ],
            ];
            const POOL: [&str; 4] = [
                "pool1.select.weight",
                "pool2.select.weight",
                "pool3.select.weight",
                "pool4.select.weight",
            ];
            const HEAD: [[&str; 2]; 3] = [
                ["lin1.weight", "lin1.bias"],
                ["lin2.weight", "lin2.bias"],
                ["lin3.weight", "lin3.bias"],
            ];
            let conv = config
                .get("conv")
                .and_then(Value::as_str)
                .unwrap_or("GraphConv(add)");
            if !conv.starts_with("GraphConv") {
                return Ok(None);
            }
            let hidden = config
                .get("hidden")
                .and_then(Value::as_u64)
                .ok_or_else(|| ParityError::Field("config.hidden".into()))?
                as usize;
            let classes = config
                .get("num_classes")
                .and_then(Value::as_u64)
                .ok_or_else(|| ParityError::Field("config.num_classes".into()))?
                as usize;
            let blocks = CONV
                .iter()
                .take_while(|names| params.get(names[0]).is_some())
                .count();
            let mlp: Vec<u64> = config
                .get("mlp")
                .and_then(Value::as_array)
                .map(|m| m.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default();
            let classifier_config =
                gnn_models::HierarchicalClassifierConfig::new(features, classes)
                    .with_hidden(hidden)
                    .with_num_blocks(blocks)
                    .with_selection(selection(config)?)
                    .with_dropout(0.0);
            let head: Vec<u64> = [
                classifier_config.readout_width(),
                hidden,
                hidden / 2,
                classes,
            ]
            .iter()
            .map(|&w| w as u64)
            .collect();
            if blocks == 0 || blocks == CONV.len() || (!mlp.is_empty() && mlp != head) {
                return Ok(None);
            }
            let mut model = classifier_config.init::<B>(device)?;
            let mut leaves: Vec<Leaf<B>> = Vec::new();
            for (conv, [rel_w, rel_b, root_w]) in model.convs.iter_mut().zip(CONV) {
                let gnn_core::conv::Conv::Graph(conv) = conv else {
                    return Ok(None);
                };
                set_linear(
                    &mut conv.lin_rel,
                    &param(rel_w)?,
                    Some(&param(rel_b)?),
                    device,
                );
                set_linear(&mut conv.lin_root, &param(root_w)?, None, device);
                leaves.push(Leaf::Transposed(rel_w, conv.lin_rel.weight.val()));
                leaves.push(Leaf::Vector(
                    rel_b,
                    conv.lin_rel.bias.as_ref().expect("set above").val(),
                ));
                leaves.push(Leaf::Transposed(root_w, conv.lin_root.weight.val()));
            }
            for (pool, name) in model.pools.iter_mut().zip(POOL) {
                let gnn_models::BlockPool::TopK(pool) = pool else {
                    return Ok(None);
                };
                pool.select.weight = Param::from_tensor(float_tensor(&param(name)?, device));
                leaves.push(Leaf::Matrix(name, pool.select.weight.val()));
            }
            for (linear, [w, b]) in [&mut model.lin1, &mut model.lin2, &mut model.lin3]
                .into_iter()
                .zip(HEAD)
            {
                set_linear(linear, &param(w)?, Some(&param(b)?), device);
                leaves.push(Leaf::Transposed(w, linear.weight.val()));
                leaves.push(Leaf::Vector(
                    b,
                    linear.bias.as_ref().expect("set above").val(),
                ));
            }
            let y = inputs
                .y
                .clone()
                .ok_or_else(|| ParityError::Field("input.y".into()))?;
            let trace = model.forward_traced(inputs.batch(&uses)?)?;
            let loss = gnn_models::nll_loss(trace.log_probs.clone(), y);
            check.float_tensor("log_probs", trace.log_probs.clone(), expected("log_probs"));
            check.float_tensor("nll_loss", loss.clone(), expected("nll_loss"));
            let expected_blocks = output
                .get("blocks")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let block_count = |n: usize| {
                Some(Array {
                    values: vec![n as f64],
                    shape: vec![1],
                })
            };
            check.ints(
                "blocks",
                vec![trace.pools.len() as i64],
                block_count(expected_blocks.len()),
            );
            for (i, (block, want)) in trace.pools.iter().zip(&expected_blocks).enumerate() {
                let count = |name: &str| want.get(name).and_then(array);
                check.ints(
                    &format!("block{}.perm", i + 1),
                    host::ints(block.perm.clone()),
                    count("perm"),
                );
                let nodes: usize = block.node_counts.iter().sum();
                let edges: usize = block.edge_counts.iter().sum();
                check.ints(
                    &format!("block{}.num_nodes", i + 1),
                    vec![nodes as i64],
                    count("num_nodes"),
                );
                check.ints(
                    &format!("block{}.num_edges", i + 1),
                    vec![edges as i64],
                    count("num_edges"),
                );
            }
            let grads = loss.backward();
            check.grad("x", &inputs.x, &grads, &grad);
            check.leaves(&leaves, &grads, &grad);
        }
        _ => return Ok(None),
    }
    Ok(Some(check))
}
