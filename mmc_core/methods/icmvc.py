"""ICMVC: Incomplete Contrastive Multi-View Clustering with High-Confidence Guiding (Chao, Jiang, Chu; AAAI'24) — the
SDCIB table's "ICMVC" baseline, on the shared trainer and blocks.

Per view, a graph convolutional encoder on the view's kNN graph gives h^v; a per-view projector gives z^v for an
instance-level contrast; one cluster head shared by every view gives soft assignments y^v (cluster-level contrast);
an instance-level attention fuses the h^v into h, whose assignment y is guided towards the high-confidence target
built from max(y^1, ..., y^V, y). Labels = argmax y.

Complete data (the case of every data set here): the paper's multi-view consistency relation transfer fills the
similarity rows of a sample missing in view v with that sample's rows from an observed view; with no view missing it
is the identity, so each view's graph is its own kNN graph and the GCN encoders see complete features. What remains
is exactly what the published code runs at missing rate 0: GCN encoders on per-view kNN graphs, the two contrastive
terms, attention fusion and high-confidence guiding.
"""

from __future__ import annotations

import math
import sys
from typing import Any, ClassVar, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..interest import knn_graph
from ..losses import nt_xent
from ..nn import mlp
from ..training import DeepClusterer
from . import register

FULL_BATCH = sys.maxsize  # batch_size meaning "the whole data set in one batch" (torch.split keeps one piece)


def symmetric_knn(x: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean (n, n) graph: i ~ j when either is among the other's k nearest neighbours (Euclidean), plus self loops.
    k = 0 leaves only the self loops. Shared by ICMVC (its GCN graph) and DIVIDE (its optional kNN affinity)."""
    if isinstance(k, bool) or int(k) != k or k < 0:
        raise ValueError(f"k must be a non-negative integer number of neighbours, got {k!r}.")
    n = x.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=x.device)
    if k == 0 or n < 2:
        return eye
    mask = knn_graph(x, int(k))
    return mask | mask.t() | eye


@torch.no_grad()
def normalized_adjacency(x: torch.Tensor, k: int) -> torch.Tensor:
    """Sparse D^-1/2 (A + I) D^-1/2 of the symmetric kNN graph A of the rows of x (the standard GCN propagation)."""
    graph = symmetric_knn(x, k)
    rows, cols = graph.nonzero(as_tuple=True)
    deg = graph.sum(dim=1).to(x.dtype)
    values = deg[rows].rsqrt() * deg[cols].rsqrt()
    return torch.sparse_coo_tensor(torch.stack([rows, cols]), values, graph.shape, is_coalesced=True,
                                   check_invariants=False)  # nonzero() lists (row, col) sorted, once each


class GCNEncoder(nn.Module):
    """Graph convolutional layers x <- act(BN(A_hat x W + b)), the last one linear (no BN, no activation); a layer
    whose input and output widths agree adds its input (residual, as the published code)."""

    def __init__(self, in_dim: int, widths: Sequence[int]):
        super().__init__()
        dims = [int(in_dim), *map(int, widths)]
        hidden = [mlp(a, [b], batchnorm=True) for a, b in zip(dims[:-2], dims[1:-1])]
        self.layers = nn.ModuleList([*hidden, nn.Linear(dims[-2], dims[-1])])

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            out = layer(torch.sparse.mm(adj, x))  # A_hat (x W) = (A_hat x) W: propagate, then transform
            residual = 0 < i < len(self.layers) - 1 and out.shape == x.shape
            x = out + x if residual else out
        return x


class AttentionFusion(nn.Module):
    """Instance-level attention: a = softmax(sigmoid(MLP([h^1, ..., h^V])) / temperature), h = sum_v a_v h^v."""

    def __init__(self, n_views: int, dim: int, temperature: float):
        super().__init__()
        width = n_views * dim
        self.score = nn.Sequential(mlp(width, [width, width], batchnorm=True), nn.Linear(width, n_views))
        self.temperature = temperature

    def weights(self, hs: Sequence[torch.Tensor]) -> torch.Tensor:
        """(n, V) per-sample view weights, rows summing to 1."""
        return torch.softmax(torch.sigmoid(self.score(torch.cat(list(hs), dim=1))) / self.temperature, dim=1)

    def forward(self, hs: Sequence[torch.Tensor]) -> torch.Tensor:
        a = self.weights(hs)
        return sum(a[:, v:v + 1] * h for v, h in enumerate(hs))


class ICMVCNet(nn.Module):
    """GCN encoders, per-view instance projectors (Linear-BN-ReLU), one cluster head for every view and for the fused
    representation (Linear-BN-ReLU-Linear-softmax), and the attention fusion."""

    def __init__(self, dims: Sequence[int], n_clusters: int, gcn_widths: Sequence[int], knn: int,
                 fusion_temperature: float):
        super().__init__()
        d = int(gcn_widths[-1])
        self.knn = knn
        self.encoders = nn.ModuleList(GCNEncoder(dim, gcn_widths) for dim in dims)
        self.projectors = nn.ModuleList(mlp(d, [d], batchnorm=True) for _ in dims)
        self.cluster_head = nn.Sequential(mlp(d, [d], batchnorm=True), nn.Linear(d, n_clusters))
        self.fusion = AttentionFusion(len(dims), d, fusion_temperature)

    def encode(self, views: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """h^v of every view, each on the kNN graph of that view's samples (the samples given, as one graph)."""
        return [enc(x, normalized_adjacency(x, self.knn)) for enc, x in zip(self.encoders, views)]

    def assign(self, h: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.cluster_head(h), dim=1)

    def forward(self, views: Sequence[torch.Tensor]) -> dict[str, Any]:
        hs = self.encode(views)
        h = self.fusion(hs)
        return {"hs": hs, "zs": [proj(x) for proj, x in zip(self.projectors, hs)], "ys": [self.assign(x) for x in hs],
                "h": h, "y": self.assign(h)}


def high_confidence_target(ys: Sequence[torch.Tensor]) -> torch.Tensor:
    """The guiding target: q = elementwise max of the assignments, sharpened p_ij = q_ij^2 / sum_j q_ij^2."""
    q = torch.stack(list(ys)).amax(dim=0)
    q2 = q.pow(2)
    return q2 / q2.sum(dim=1, keepdim=True)


def chunk_indices(n: int, size: int) -> list[torch.Tensor]:
    """Consecutive index chunks of `size`; a last chunk of one sample joins the previous one (a contrast needs 2)."""
    chunks = list(torch.split(torch.arange(n), size))
    if len(chunks) > 1 and len(chunks[-1]) < 2:
        chunks[-2] = torch.cat([chunks[-2], chunks.pop()])
    return chunks


@register("icmvc")
class ICMVC(DeepClusterer):
    """ICMVC on complete data (module docstring). Named loss terms, summed with weight 1 (the published code's
    lambda_1 = lambda_2 = lambda_3 = 1):

      instance_contrast = NT-Xent(z^1, ..., z^V; tau_instance), averaged over chunks of `contrast_batch_size` samples
                          of the (shuffled) batch;
      cluster_contrast  = NT-Xent of the assignment columns (clusters) of y^1, ..., y^V (tau_cluster, cosine);
      entropy           = sum_v (log K - H(mean_i y_i^v)): the cluster-level term's balance regulariser, >= 0;
      high_confidence   = KL(P || y), P = high_confidence_target(y^1, ..., y^V, y) detached (batch mean).

    Graph: per view, the kNN graph (k = `knn`, Euclidean: the heat-kernel similarity exp(-||x_i - x_j||^2 / 2) of
    the published code ranks neighbours the same way) of the samples in the batch, union-symmetrised, with self
    loops, normalised D^-1/2 (A + I) D^-1/2 (the standard GCN propagation of Kipf & Welling). With the default
    batch_size=FULL_BATCH every step sees the whole data set, so the graph is the whole-data graph (the published
    code trains full-batch); a smaller batch_size gives each batch its own graph. Prediction builds the graph of all
    the samples it is given, in one pass. The equations are read from the authors' published code and the paper's
    abstract.

    Defaults of the published code: GCN widths 1024-1024-1024-512 (its latent width is 128, 256 or 512 by data set;
    512 as for Scene-15 and Handwritten), knn 10, tau_instance 1.0, tau_cluster 0.5, attention temperature 10,
    contrast chunks of 256, Adam lr 1e-3 constant (lr_gamma=1.0), 500 epochs. Readings and differences: the code
    normalises A + I by rows (L2) — we use the standard symmetric normalisation; the code sums the instance loss over
    its chunks — we average them (a per-batch loss whose scale does not grow with n); more than two views: NT-Xent
    over all views at once, the attention scores V weights, the maximum runs over every view. Labels = argmax y of
    the fused representation (what the published code evaluates); the reported run is the last epoch.
    """

    reported_as: ClassVar[str] = "ICMVC"

    def __init__(
        self,
        n_clusters: int,
        random_state: int | None = 0,
        gcn_widths: Sequence[int] = (1024, 1024, 1024, 512),
        knn: int = 10,
        tau_instance: float = 1.0,
        tau_cluster: float = 0.5,
        fusion_temperature: float = 10.0,
        contrast_batch_size: int = 256,
        **kwargs,
    ):
        kwargs.setdefault("epochs", 500)
        kwargs.setdefault("batch_size", FULL_BATCH)
        kwargs.setdefault("lr_gamma", 1.0)
        super().__init__(n_clusters, random_state, **kwargs)
        if not gcn_widths:
            raise ValueError("gcn_widths needs at least one layer, e.g. (1024, 1024, 1024, 512).")
        if isinstance(knn, bool) or int(knn) != knn or knn < 0:
            raise ValueError(f"knn must be a non-negative integer (0: no graph, each sample alone), got {knn!r}.")
        if tau_instance <= 0 or tau_cluster <= 0 or fusion_temperature <= 0:
            raise ValueError(f"Temperatures must be > 0, got tau_instance={tau_instance}, tau_cluster={tau_cluster}, "
                             f"fusion_temperature={fusion_temperature}.")
        if contrast_batch_size < 2:
            raise ValueError(f"contrast_batch_size must be >= 2, got {contrast_batch_size}.")
        self.gcn_widths = tuple(int(w) for w in gcn_widths)
        self.knn = int(knn)
        self.tau_instance = float(tau_instance)
        self.tau_cluster = float(tau_cluster)
        self.fusion_temperature = float(fusion_temperature)
        self.contrast_batch_size = int(contrast_batch_size)

    def build(self, dims: list[int]) -> nn.Module:
        if len(dims) < 2:
            raise ValueError("ICMVC contrasts views: it needs at least two views.")
        return ICMVCNet(dims, self.n_clusters, self.gcn_widths, self.knn, self.fusion_temperature)

    def loss_terms(self, model: nn.Module, batch: list[torch.Tensor], ctx: dict[str, Any]) -> dict[str, torch.Tensor]:
        out = model(batch)
        ys, y = out["ys"], out["y"]
        chunks = chunk_indices(batch[0].shape[0], self.contrast_batch_size)
        instance = sum(nt_xent([z[idx] for z in out["zs"]], self.tau_instance) for idx in chunks) / len(chunks)
        k = y.shape[1]
        target = high_confidence_target([*ys, y]).detach()
        return {
            "instance_contrast": instance,
            "cluster_contrast": nt_xent([Y.t() for Y in ys], self.tau_cluster),
            "entropy": sum(math.log(k) + torch.special.xlogy(s, s).sum() for s in (Y.mean(dim=0) for Y in ys)),
            "high_confidence": F.kl_div(torch.log(y.clamp_min(1e-12)), target, reduction="batchmean"),
        }

    def soft_assign(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        return model(views)["y"]

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The attention-fused representation h that the cluster head assigns."""
        return model.fusion(model.encode(views))

    def fusion_weights(self, Xs: Sequence) -> torch.Tensor:
        """Per-sample attention weights (n, V) of these views (one graph over all of them)."""
        return self._no_grad_chunks(self._as_tensors(Xs), lambda m, v: m.fusion.weights(m.encode(v)))

    def _no_grad_chunks(self, data: list[torch.Tensor], fn) -> torch.Tensor:
        """One pass over all the samples: the GCN needs the whole graph (the trainer's chunks would cut it)."""
        self.model_.eval()
        with torch.no_grad():
            return fn(self.model_, data)
