"""PyG parity fixtures for the dense convolutions and the DiffPool / MinCut example models.

Writes two schema-2 fixtures (float64) into tests/fixtures/pyg/:

- f_dense.json: a batch of graphs with 5, 1 (no edge), 3 and 4 nodes. PyG's DenseGraphConv
  (add / mean / max), DenseSAGEConv (normalize off / on), DenseGCNConv (plain, improved,
  add_loop=False), DenseGINConv (fixed eps, train_eps, add_loop=False) on the batch densified
  with to_dense_batch / to_dense_adj (with or without the mask), and the whole models of
  examples/proteins_diff_pool.py and examples/proteins_mincut_pool.py (small widths). The
  one-node graph without edges makes PyG's mincut loss NaN (0 / 0) and 66 of its gradients NaN
  (sqrt differentiated at 0); our documented deviation defines both (see
  `dense_mincut_pool_defined` below), and this op records those defined values, its loss
  including every auxiliary loss. PyG's own NaN loss is kept as `pyg_mincut_loss`.
- g_dense_edges.json: graphs with 5, 2, 3 and 4 nodes, all with edges: both models again,
  their loss including every auxiliary loss, with PyG's own dense_mincut_pool (where the
  deviation changes nothing: the script checks it agrees to 1e-12, gradients included).

Each op records its output, its scalar loss (described in `loss`) and the gradients of that
loss w.r.t. the inputs it uses and every parameter (PyG names). Models run in training mode
(batch norm on batch statistics; the examples have no dropout).

Usage: $PYG_PY crates/gnn-parity/scripts/dense_layers.py [--outdir tests/fixtures/pyg]
"""
from __future__ import annotations

import argparse
import json
import math
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

HERE = os.path.dirname(os.path.abspath(__file__))


def L(t):
    return t.detach().tolist()


def randn(shape, seed, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=g, dtype=torch.float64)


def undirected(pairs):
    return [e for s, t in pairs for e in ((s, t), (t, s))]


def make_case(name, graphs, num_features, seed):
    """`graphs`: list of (num_nodes, local edges)."""
    edges, batch, base = [], [], 0
    for g, (n, local) in enumerate(graphs):
        edges += [(base + s, base + t) for s, t in local]
        batch += [g] * n
        base += n
    N, E, B = base, len(edges), len(graphs)
    gen = torch.Generator().manual_seed(seed + 1)
    return dict(
        name=name, N=N, E=E, B=B, F=num_features,
        x=randn((N, num_features), seed),
        edge_index=torch.tensor(edges, dtype=torch.long).t().reshape(2, E),
        batch=torch.tensor(batch, dtype=torch.long),
        edge_weight=0.5 + torch.rand(E, generator=gen, dtype=torch.float64),
        y=torch.randint(0, 3, (B,), generator=gen),
    )


def set_params(module, seed, scale=0.5):
    params = {}
    for i, (k, p) in enumerate(sorted(module.named_parameters())):
        v = randn(tuple(p.shape), seed + 17 * i, scale)
        with torch.no_grad():
            p.copy_(v)
        params[k] = L(v)
    return params


def record(config, params, module, output, loss_desc, loss, grads_of):
    loss.backward()
    grad = {k: L(t.grad if t.grad is not None else torch.zeros_like(t)) for k, t in grads_of.items()}
    for k, p in module.named_parameters():
        grad[k] = L(p.grad if p.grad is not None else torch.zeros_like(p))
    return dict(config=config, params=params, output=output, loss=loss_desc, grad=grad)


def dense_inputs(case, weighted):
    from torch_geometric.utils import to_dense_adj, to_dense_batch

    x = case["x"].clone().requires_grad_(True)
    ew = case["edge_weight"].clone().requires_grad_(True)
    xd, mask = to_dense_batch(x, case["batch"])
    adj = to_dense_adj(case["edge_index"], case["batch"], ew if weighted else None)
    grads_of = {"x": x, **({"edge_weight": ew} if weighted else {})}
    uses = ["x", "edge_index", "batch"] + (["edge_weight"] if weighted else [])
    return xd, adj, mask, grads_of, uses


def conv_op(case, seed, module, cfg, weighted=True, masked=True, **forward_kw):
    module = module.double()
    params = set_params(module, seed)
    xd, adj, mask, grads_of, uses = dense_inputs(case, weighted)
    out = module(xd, adj, mask if masked else None, **forward_kw)
    cfg = dict(cfg, uses=uses, mask=masked,
               note="x and adj from to_dense_batch / to_dense_adj of the input "
                    + ("(edge_weight as values)" if weighted else "(binary)"))
    return record(cfg, params, module, dict(x=L(out)), "sum of output.x", out.sum(), grads_of)


def conv_ops(case, s):
    from torch_geometric.nn import DenseGCNConv, DenseGINConv, DenseGraphConv, DenseSAGEConv

    Fx = case["F"]
    mlp = lambda: torch.nn.Sequential(torch.nn.Linear(Fx, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))  # noqa: E731
    graph = lambda aggr: dict(op="DenseGraphConv", in_channels=Fx, out_channels=3, aggr=aggr, bias=True)  # noqa: E731
    sage = lambda norm: dict(op="DenseSAGEConv", in_channels=Fx, out_channels=3, normalize=norm, bias=True)  # noqa
    gcn = lambda imp, loop: dict(op="DenseGCNConv", in_channels=Fx, out_channels=3, improved=imp,  # noqa: E731
                                 add_loop=loop, bias=True)
    gin = lambda eps, train, loop: dict(op="DenseGINConv", nn="Linear(F,5) -> ReLU -> Linear(5,3)",  # noqa: E731
                                        d_hidden=5, out_channels=3, eps=eps, train_eps=train, add_loop=loop)
    return {
        "dense_graph_conv_add": conv_op(case, s + 1, DenseGraphConv(Fx, 3, aggr="add"), graph("add")),
        "dense_graph_conv_mean": conv_op(case, s + 2, DenseGraphConv(Fx, 3, aggr="mean"), graph("mean")),
        "dense_graph_conv_max": conv_op(case, s + 3, DenseGraphConv(Fx, 3, aggr="max"), graph("max"),
                                        masked=False),
        "dense_sage_conv": conv_op(case, s + 4, DenseSAGEConv(Fx, 3), sage(False), weighted=False),
        "dense_sage_conv_normalize": conv_op(case, s + 5, DenseSAGEConv(Fx, 3, normalize=True), sage(True),
                                             weighted=False),
        "dense_gcn_conv": conv_op(case, s + 6, DenseGCNConv(Fx, 3), gcn(False, True)),
        "dense_gcn_conv_improved": conv_op(case, s + 7, DenseGCNConv(Fx, 3, improved=True), gcn(True, True)),
        "dense_gcn_conv_no_loop": conv_op(case, s + 8, DenseGCNConv(Fx, 3), gcn(False, False), add_loop=False),
        "dense_gin_conv": conv_op(case, s + 9, DenseGINConv(mlp(), eps=0.25), gin(0.25, False, True)),
        "dense_gin_conv_train_eps": conv_op(case, s + 10, DenseGINConv(mlp(), train_eps=True),
                                            gin(0.0, True, True)),
        "dense_gin_conv_no_loop": conv_op(case, s + 11, DenseGINConv(mlp()), gin(0.0, False, False),
                                          masked=False, add_loop=False),
    }


class DiffPoolGNN(torch.nn.Module):
    """examples/proteins_diff_pool.py, class GNN (verbatim up to names)."""

    def __init__(self, in_channels, hidden_channels, out_channels, normalize=False, lin=True):
        super().__init__()
        from torch_geometric.nn import DenseSAGEConv
        self.conv1 = DenseSAGEConv(in_channels, hidden_channels, normalize)
        self.bn1 = torch.nn.BatchNorm1d(hidden_channels)
        self.conv2 = DenseSAGEConv(hidden_channels, hidden_channels, normalize)
        self.bn2 = torch.nn.BatchNorm1d(hidden_channels)
        self.conv3 = DenseSAGEConv(hidden_channels, out_channels, normalize)
        self.bn3 = torch.nn.BatchNorm1d(out_channels)
        self.lin = torch.nn.Linear(2 * hidden_channels + out_channels, out_channels) if lin else None

    def bn(self, i, x):
        batch_size, num_nodes, num_channels = x.size()
        x = x.view(-1, num_channels)
        x = getattr(self, f'bn{i}')(x)
        return x.view(batch_size, num_nodes, num_channels)

    def forward(self, x, adj, mask=None):
        x1 = self.bn(1, self.conv1(x, adj, mask).relu())
        x2 = self.bn(2, self.conv2(x1, adj, mask).relu())
        x3 = self.bn(3, self.conv3(x2, adj, mask).relu())
        x = torch.cat([x1, x2, x3], dim=-1)
        if self.lin is not None:
            x = self.lin(x).relu()
        return x


class DiffPoolNet(torch.nn.Module):
    """examples/proteins_diff_pool.py, class Net, with widths and cluster counts as arguments."""

    def __init__(self, num_features, num_classes, hidden, clusters):
        super().__init__()
        from torch_geometric.nn import dense_diff_pool
        self.pool = dense_diff_pool
        self.gnn1_pool = DiffPoolGNN(num_features, hidden, clusters[0])
        self.gnn1_embed = DiffPoolGNN(num_features, hidden, hidden, lin=False)
        self.gnn2_pool = DiffPoolGNN(3 * hidden, hidden, clusters[1])
        self.gnn2_embed = DiffPoolGNN(3 * hidden, hidden, hidden, lin=False)
        self.gnn3_embed = DiffPoolGNN(3 * hidden, hidden, hidden, lin=False)
        self.lin1 = torch.nn.Linear(3 * hidden, hidden)
        self.lin2 = torch.nn.Linear(hidden, num_classes)

    def forward(self, x, adj, mask=None):
        s = self.gnn1_pool(x, adj, mask)
        x = self.gnn1_embed(x, adj, mask)
        x, adj, l1, e1 = self.pool(x, adj, s, mask)
        s = self.gnn2_pool(x, adj)
        x = self.gnn2_embed(x, adj)
        x, adj, l2, e2 = self.pool(x, adj, s)
        x = self.gnn3_embed(x, adj)
        x = x.mean(dim=1)
        x = self.lin1(x).relu()
        x = self.lin2(x)
        return F.log_softmax(x, dim=-1), l1 + l2, e1 + e2


def _trace(x):
    return torch.einsum('ijj->i', x)


def dense_mincut_pool_defined(x, adj, s, mask=None):
    """PyG 2.8's dense_mincut_pool (temperature 1), line for line, with the deviation our
    `gnn_pool::dense::dense_mincut_pool` documents, where PyG gives NaN:
    - a graph whose tr(S^T D S) is 0 (no edges) contributes 0 to the mincut loss (PyG: 0 / 0);
    - a graph without nodes contributes 0 to the orthogonality loss (PyG: 0 / 0);
    - the pooled adjacency's row sums of 0 (a graph without edges) are normalised by 1, not
      sqrt(0) + 1e-15 (PyG: the same zeros, but NaN gradients from sqrt at 0, and 1e15
      derivatives that two poolings chain to inf in float32);
    - sqrt is differentiated as 0 at 0 in the orthogonality norm.
    Values elsewhere are PyG's, bit for bit in float64."""
    (batch_size, num_nodes, _), k = x.size(), s.size(-1)
    s = torch.softmax(s, dim=-1)
    if mask is not None:
        mask = mask.view(batch_size, num_nodes, 1).to(x.dtype)
        x, s = x * mask, s * mask
    out = torch.matmul(s.transpose(1, 2), x)
    out_adj = torch.matmul(torch.matmul(s.transpose(1, 2), adj), s)

    def ratio_or_zero(num, den):
        undefined = den == 0
        return torch.where(undefined, torch.zeros_like(num), num / torch.where(undefined, torch.ones_like(den), den))

    def sqrt_or_zero(t):
        zero = t == 0
        return torch.where(zero, torch.zeros_like(t), torch.sqrt(torch.where(zero, torch.ones_like(t), t)))

    mincut_num = _trace(out_adj)
    d = torch.diag_embed(torch.einsum('ijk->ij', adj))
    mincut_den = _trace(torch.matmul(torch.matmul(s.transpose(1, 2), d), s))
    mincut_loss = torch.mean(-ratio_or_zero(mincut_num, mincut_den))

    ss = torch.matmul(s.transpose(1, 2), s)
    i_s = torch.eye(k).type_as(ss)
    ss_norm = sqrt_or_zero((ss * ss).sum(dim=(-1, -2), keepdim=True))
    no_nodes = ss_norm == 0
    diff = ss / torch.where(no_nodes, torch.ones_like(ss_norm), ss_norm) - i_s / torch.norm(i_s)
    ortho = sqrt_or_zero((diff * diff).sum(dim=(-1, -2)))
    ortho_loss = torch.mean(torch.where(no_nodes.view(-1), torch.zeros_like(ortho), ortho))

    ind = torch.arange(k, device=out_adj.device)
    out_adj = out_adj.clone()
    out_adj[:, ind, ind] = 0
    row_sum = torch.einsum('ijk->ij', out_adj)
    isolated = row_sum == 0
    d = torch.where(isolated, torch.ones_like(row_sum),
                    torch.sqrt(torch.where(isolated, torch.ones_like(row_sum), row_sum)) + 1e-15)[:, None]
    out_adj = (out_adj / d) / d.transpose(1, 2)
    return out, out_adj, mincut_loss, ortho_loss


class MinCutNet(torch.nn.Module):
    """examples/proteins_mincut_pool.py, class Net, with the cluster counts and the pooling
    function (PyG's, or PyG's with our deviation) as arguments."""

    def __init__(self, in_channels, out_channels, hidden_channels, clusters, pool=None):
        super().__init__()
        from torch_geometric.nn import DenseGraphConv, GCNConv, dense_mincut_pool
        self.mincut_pool = pool or dense_mincut_pool
        self.conv1 = GCNConv(in_channels, hidden_channels)
        self.pool1 = torch.nn.Linear(hidden_channels, clusters[0])
        self.conv2 = DenseGraphConv(hidden_channels, hidden_channels)
        self.pool2 = torch.nn.Linear(hidden_channels, clusters[1])
        self.conv3 = DenseGraphConv(hidden_channels, hidden_channels)
        self.lin1 = torch.nn.Linear(hidden_channels, hidden_channels)
        self.lin2 = torch.nn.Linear(hidden_channels, out_channels)

    def forward(self, x, edge_index, batch):
        from torch_geometric.utils import to_dense_adj, to_dense_batch
        x = self.conv1(x, edge_index).relu()
        x, mask = to_dense_batch(x, batch)
        adj = to_dense_adj(edge_index, batch)
        s = self.pool1(x)
        x, adj, mc1, o1 = self.mincut_pool(x, adj, s, mask)
        x = self.conv2(x, adj).relu()
        s = self.pool2(x)
        x, adj, mc2, o2 = self.mincut_pool(x, adj, s)
        x = self.conv3(x, adj)
        x = x.mean(dim=1)
        x = self.lin1(x).relu()
        x = self.lin2(x)
        return F.log_softmax(x, dim=-1), mc1 + mc2, o1 + o2


def finite(v):
    return float(v)


def diffpool_op(case, seed, hidden=4, clusters=(3, 2)):
    model = DiffPoolNet(case["F"], 3, hidden, clusters).double().train()
    params = set_params(model, seed)
    xd, adj, mask, grads_of, uses = dense_inputs(case, weighted=False)
    logp, link, ent = model(xd, adj, mask)
    nll = F.nll_loss(logp, case["y"])
    loss = nll + link + ent
    cfg = dict(op="DiffPoolClassifier", reference="PyG examples/proteins_diff_pool.py", in_channels=case["F"],
               hidden=hidden, num_clusters=list(clusters), num_classes=3, mode="train (batch statistics)",
               uses=uses + ["y"], loss_terms=["nll", "link", "entropy"],
               note="x, adj, mask from to_dense_batch / to_dense_adj of the input, padded to the batch's largest "
                    "graph")
    out = dict(log_probs=L(logp), nll_loss=float(nll), link_loss=finite(link), entropy_loss=finite(ent))
    return record(cfg, params, model, out, "nll_loss + link_loss + entropy_loss", loss, grads_of)


def mincut_run(case, seed, pool, hidden, clusters):
    """One forward and backward of MinCutNet; returns (model, params, x, outputs, loss)."""
    model = MinCutNet(case["F"], 3, hidden, clusters, pool).double().train()
    params = set_params(model, seed)
    x = case["x"].clone().requires_grad_(True)
    logp, mc, ortho = model(x, case["edge_index"], case["batch"])
    nll = F.nll_loss(logp, case["y"])
    out = dict(log_probs=L(logp), nll_loss=float(nll), mincut_loss=float(mc), ortho_loss=float(ortho))
    return model, params, x, out, nll + ortho + mc


def mincut_op(case, seed, defined, hidden=4, clusters=(3, 2)):
    """The example model; `defined`: with dense_mincut_pool_defined instead of PyG's."""
    pool = dense_mincut_pool_defined if defined else None
    model, params, x, out, loss = mincut_run(case, seed, pool, hidden, clusters)
    note = ("dense_mincut_pool with the documented deviation from PyG (dense_mincut_pool_defined): a graph "
            "without edges contributes 0 to the mincut loss, sqrt is differentiated as 0 at 0; PyG's own "
            "mincut loss is pyg_mincut_loss (NaN)" if defined else "PyG's dense_mincut_pool")
    if defined:
        _, _, _, pyg_out, _ = mincut_run(case, seed, None, hidden, clusters)
        out["pyg_mincut_loss"] = pyg_out["mincut_loss"]
        for key in ("log_probs", "nll_loss", "ortho_loss"):
            assert pyg_out[key] == out[key], key
    cfg = dict(op="MinCutClassifier", reference="PyG examples/proteins_mincut_pool.py", in_channels=case["F"],
               hidden=hidden, num_clusters=list(clusters), num_classes=3, uses=["x", "edge_index", "batch", "y"],
               loss_terms=["nll", "ortho", "mincut"], note=note)
    return record(cfg, params, model, out, "nll_loss + ortho_loss + mincut_loss", loss, {"x": x})


def check_deviation_changes_nothing_with_edges(case, seed, hidden=4, clusters=(3, 2)):
    """On graphs that all have edges, PyG's dense_mincut_pool and ours agree (values and
    gradients, 1e-12)."""
    runs = []
    for pool in (None, dense_mincut_pool_defined):
        model, _, x, out, loss = mincut_run(case, seed, pool, hidden, clusters)
        loss.backward()
        grads = [x.grad] + [p.grad for _, p in sorted(model.named_parameters())]
        runs.append((out, grads))
    (a, ga), (b, gb) = runs
    for key in a:
        assert torch.allclose(torch.tensor(a[key]), torch.tensor(b[key]), atol=1e-12, rtol=0), key
    for u, v in zip(ga, gb):
        assert torch.allclose(u, v, atol=1e-12, rtol=0)


def write(case, ops, outdir):
    import torch_geometric
    doc = dict(
        schema_version=2, case=case["name"], generated_by="crates/gnn-parity/scripts/dense_layers.py",
        versions=dict(torch=torch.__version__, torch_geometric=torch_geometric.__version__),
        float_dtype="float64", index_dtype="int64",
        input=dict(num_nodes=case["N"], num_features=case["F"], num_graphs=case["B"], num_edges=case["E"],
                   x=L(case["x"]), edge_index=L(case["edge_index"]), batch=L(case["batch"]),
                   edge_weight=L(case["edge_weight"]), y=L(case["y"])),
        ops=ops,
    )
    path = os.path.join(outdir, f"{case['name']}.json")
    with open(path, "w") as f:
        json.dump(doc, f)
        f.write("\n")
    print(f"wrote {os.path.normpath(path)}: N={case['N']} E={case['E']} B={case['B']}, {len(ops)} ops")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--outdir", default=os.path.join(HERE, "..", "..", "..", "tests", "fixtures", "pyg"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    cycle = undirected([(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2)])
    path3 = undirected([(0, 1), (1, 2)])
    star = undirected([(0, 1), (0, 2), (0, 3)]) + [(2, 3)]

    case = make_case("f_dense", [(5, cycle), (1, []), (3, path3), (4, star)], 4, seed=31)
    ops = conv_ops(case, 3100)
    ops["diffpool_model"] = diffpool_op(case, 3200)
    ops["mincut_model"] = mincut_op(case, 3300, defined=True)
    assert math.isnan(ops["mincut_model"]["output"]["pyg_mincut_loss"])
    write(case, ops, args.outdir)

    case = make_case("g_dense_edges", [(5, cycle), (2, undirected([(0, 1)])), (3, path3), (4, star)], 4, seed=41)
    check_deviation_changes_nothing_with_edges(case, 4300)
    ops = {"diffpool_model": diffpool_op(case, 4200), "mincut_model": mincut_op(case, 4300, defined=False)}
    write(case, ops, args.outdir)


if __name__ == "__main__":
    main()
