//! Using the pooling layers inside your own Burn model.
//!
//! ```text
//! cargo run --release --example custom_model
//! ```
//!
//! A small graph classifier written as a user would: GCN convolution → SAGPooling (keep half of
//! each graph) → attention readout → linear head, trained for a few steps with Burn's Adam on
//! two kinds of random graphs (paths and stars). Everything is an ordinary Burn `Module`, so the
//! same code runs on any backend: change `type Cpu` to switch between CPU and GPU.

use burn::backend::{Autodiff, Flex};
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::activation::relu;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Int, Tensor};
use gnn_core::conv::{GcnConv, GcnConvConfig};
use gnn_core::segment::SegmentBackend;
use gnn_core::{Graph, GraphBatch};
use gnn_pool::readout::{AttentionalAggregation, AttentionalAggregationConfig};
use gnn_pool::{PoolError, SagPooling, SagPoolingConfig, Selection};

type Cpu = Autodiff<Flex>;

/// Convolution, local pooling, global readout, classifier.
#[derive(Module, Debug)]
struct PathOrStar<B: Backend> {
    conv: GcnConv<B>,
    pool: SagPooling<B>,
    readout: AttentionalAggregation<B>,
    head: Linear<B>,
}

impl<B: SegmentBackend> PathOrStar<B> {
    fn new(device: &B::Device) -> Result<Self, PoolError> {
        Ok(Self {
            conv: GcnConvConfig::new(1, 16).init(device),
            pool: SagPoolingConfig::new(16, Selection::Ratio(0.5)).init(device)?,
            readout: AttentionalAggregationConfig::new(16).init(device)?,
            head: LinearConfig::new(16, 2).init(device),
        })
    }

    /// `graphs` with one feature per node → class logits `[num_graphs, 2]`.
    ///
    /// Panics if the graphs do not have one feature per node (as Burn's layers do on a wrong
    /// input width).
    fn forward(&self, graphs: GraphBatch<B>) -> Tensor<B, 2> {
        let graphs = self.conv.forward_batch(graphs).map_x(relu);
        let pooled = self.pool.forward(graphs); // a smaller batch of graphs
        let per_graph = self.readout.forward_batch(&pooled.graphs);
        self.head.forward(per_graph) // one row per graph
    }
}

fn path(n: usize) -> Graph {
    let edges = (1..n).flat_map(|i| [(i - 1, i), (i, i - 1)]).collect();
    Graph::new(n, 1, vec![1.0; n], edges)
        .expect("valid")
        .with_label(0)
}

fn star(n: usize) -> Graph {
    let edges = (1..n).flat_map(|i| [(0, i), (i, 0)]).collect();
    Graph::new(n, 1, vec![1.0; n], edges)
        .expect("valid")
        .with_label(1)
}

fn accuracy<B: AutodiffBackend + SegmentBackend>(
    model: &PathOrStar<B>,
    batch: &GraphBatch<B>,
) -> f64 {
    let logits = model.forward(batch.clone());
    let predicted: Tensor<B, 1, Int> = logits.argmax(1).reshape([batch.num_graphs()]);
    let labels = batch.y().expect("labelled").clone();
    let correct = predicted.equal(labels).int().sum().into_scalar();
    correct.elem::<f64>() / batch.num_graphs() as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = Default::default();
    Cpu::seed(&device, 7);
    let graphs: Vec<Graph> = (5..25).flat_map(|n| [path(n), star(n)]).collect();
    let batch = GraphBatch::<Cpu>::from_graphs(&graphs, &device)?;
    let mut model = PathOrStar::<Cpu>::new(&device)?;
    let mut optimizer = AdamConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    println!("accuracy before training: {:.2}", accuracy(&model, &batch));
    for step in 1..=60 {
        let logits = model.forward(batch.clone());
        let loss = loss_fn.forward(logits, batch.y().expect("labelled").clone());
        if step % 20 == 0 {
            println!(
                "step {step}: loss {:.4}",
                loss.clone().into_scalar().elem::<f64>()
            );
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(1e-2, model, grads);
    }
    println!("accuracy after training:  {:.2}", accuracy(&model, &batch));
    Ok(())
}
