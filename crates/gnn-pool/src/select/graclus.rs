use burn::tensor::backend::Backend;
use gnn_core::{GraphBatch, host};

use super::Clustering;

/// Greedy graph matching (Dhillon et al.'s Graclus, PyG's `graclus`): every node is paired with
/// at most one neighbour, giving clusters of one or two nodes that roughly halve each graph.
///
/// Nodes are visited in ascending id; an unmatched node joins the unmatched neighbour (edges
/// taken as undirected) with the largest edge weight (1 without weights), ties to the lowest id,
/// and stays alone when none is left. PyG visits nodes in random order; this order is
/// deterministic. Reads the edges (and weights) once.
pub fn graclus<B: Backend>(graphs: &GraphBatch<B>) -> Clustering {
    let n = graphs.num_nodes();
    let e = graphs.num_edges();
    let edges = if e == 0 {
        Vec::new()
    } else {
        host::ints(graphs.edge_index().clone())
    };
    let weights = graphs.edge_weight().map(|w| host::floats(w.clone()));
    let mut neighbours: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for edge in 0..e {
        let (s, t) = (edges[edge] as usize, edges[e + edge] as usize);
        let w = weights.as_ref().map_or(1.0, |w| w[edge]);
        if s != t {
            neighbours[s].push((t, w));
            neighbours[t].push((s, w));
        }
    }
    let mut cluster = vec![usize::MAX; n];
    for u in 0..n {
        if cluster[u] != usize::MAX {
            continue;
        }
        cluster[u] = u;
        let best = neighbours[u]
            .iter()
            .filter(|(v, _)| cluster[*v] == usize::MAX)
            .fold(None::<(usize, f64)>, |best, &(v, w)| match best {
                Some((bv, bw)) if bw > w || (bw == w && bv < v) => Some((bv, bw)),
                _ => Some((v, w)),
            });
        if let Some((v, _)) = best {
            cluster[v] = u;
        }
    }
    let ids: Vec<i64> = cluster.into_iter().map(|c| c as i64).collect();
    Clustering::from_ids(&ids, graphs)
        .expect("matched nodes are neighbours, so in one graph, and ids ascend")
}
