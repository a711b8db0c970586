//! Local (hierarchical) pooling versus global pooling, in the three situations of PyG's
//! explanation, as a Burn program.
//!
//! ```text
//! cargo run --release --example seed_pooling
//! ```
//!
//! 1. One 3-node path graph with 16 features: global mean pooling gives one vector, `[1, 16]`.
//! 2. A batch of a 3-node and a 2-node graph: one vector per graph, `[2, 16]`.
//! 3. Local pooling keeps a smaller graph per graph instead: `Selection::Count(2)` (PyG's
//!    "GraphSizePooling(size=2)") keeps two nodes of each graph and says which; cluster pooling
//!    merges nodes into supernodes.

use burn::backend::Flex;
use burn::tensor::Tensor;
use gnn_core::{Graph, GraphBatch, host};
use gnn_pool::readout::global_mean_pool;
use gnn_pool::{Selection, TopKPoolingConfig, avg_pool, graclus};

type B = Flex;

/// A path `0 - 1 - ... - (n-1)`, both directions of every edge, with `features` features per
/// node whose values make every node distinct.
fn path(n: usize, features: usize, shift: f32) -> Graph {
    let x = (0..n * features)
        .map(|i| ((i as f32 + shift) * 0.37).sin())
        .collect();
    let edges = (1..n).flat_map(|i| [(i - 1, i), (i, i - 1)]).collect();
    Graph::new(n, features, x, edges).expect("a path is a valid graph")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = Default::default();

    // 1. One graph: global pooling maps it to one vector.
    let one = GraphBatch::<B>::from_graphs(&[path(3, 16, 0.0)], &device)?;
    let pooled: Tensor<B, 2> = global_mean_pool(one.x().clone(), one.segments())?;
    println!(
        "1. one 3-node graph, 16 features      -> global mean pool {:?}",
        pooled.dims()
    );

    // 2. A batch of two graphs: one vector per graph.
    let two = GraphBatch::<B>::from_graphs(&[path(3, 16, 0.0), path(2, 16, 100.0)], &device)?;
    let pooled = global_mean_pool(two.x().clone(), two.segments())?;
    println!(
        "2. batch of a 3-node and a 2-node graph -> global mean pool {:?}",
        pooled.dims()
    );

    // 3a. Local pooling: keep exactly 2 nodes of every graph.
    let keep_two = TopKPoolingConfig::new(16, Selection::Count(2)).init::<B>(&device)?;
    let out = keep_two.forward(two.clone());
    println!(
        "3a. TopKPooling(Count(2)): {} nodes in {:?} -> {} nodes in {:?}, kept node ids {:?}, {} edges left",
        two.num_nodes(),
        two.node_counts(),
        out.graphs.num_nodes(),
        out.graphs.node_counts(),
        host::ints(out.perm.clone()),
        out.graphs.num_edges(),
    );
    println!(
        "    the pooled batch is still a batch of graphs: x {:?}",
        out.graphs.x().dims()
    );

    // 3b. Coarsening into supernodes: graclus pairs neighbours, avg_pool merges each pair.
    let clusters = graclus(&two);
    let coarse = avg_pool(two.clone(), &clusters);
    println!(
        "3b. graclus + avg_pool: clusters {:?} -> supernodes per graph {:?}, x {:?}",
        clusters.assignment(),
        coarse.node_counts(),
        coarse.x().dims()
    );
    Ok(())
}
