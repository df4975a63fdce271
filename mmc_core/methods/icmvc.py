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

import sys
from typing import Any, ClassVar, Sequence

import torch
from torch import nn

from ..deep import Batch, DeepClusterer
from ..deep.engine import Ctx, batch_sizes
from ..losses import cluster_balance, nt_xent
from ..nn import SampleAttentionFusion, mlp, normalized_adjacency
from ..params import Interval, Widths
from . import register

FULL_BATCH = sys.maxsize  # batch_size meaning "the whole data set in one batch" (torch.split keeps one piece)


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
            out = layer(adj @ x)  # A_hat (x W) = (A_hat x) W: propagate (sparse or dense A_hat), then transform
            residual = 0 < i < len(self.layers) - 1 and out.shape == x.shape
            x = out + x if residual else out
        return x


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
        self.fusion = SampleAttentionFusion(len(dims), d, fusion_temperature)

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


def kl_batchmean(target: torch.Tensor, log_input: torch.Tensor) -> torch.Tensor:
    """KL(target || input) averaged over rows: F.kl_div(log_input, target, reduction="batchmean") written out (the
    same ops, so the same bits), which vmap batches where kl_div has no batching rule."""
    return (torch.xlogy(target, target) - target * log_input).sum() / log_input.shape[0]


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
    trains_seeds_together: ClassVar[bool] = True  # its graphs dense when batched (mmc_core.deep.seeds)
    trainer_defaults: ClassVar[dict[str, Any]] = {"epochs": 500, "batch_size": FULL_BATCH, "lr_gamma": 1.0}
    inference_chunk: ClassVar[int | None] = None  # the GCN needs the whole graph: one pass over all samples
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "gcn_widths": Widths(), "knn": Interval(int, 0), "tau_instance": Interval(float, 0, closed="neither"),
        "tau_cluster": Interval(float, 0, closed="neither"),
        "fusion_temperature": Interval(float, 0, closed="neither"), "contrast_batch_size": Interval(int, 2),
    }

    def __init__(self, n_clusters: int, random_state: int | None = 0,
                 gcn_widths: Sequence[int] = (1024, 1024, 1024, 512), knn: int = 10, tau_instance: float = 1.0,
                 tau_cluster: float = 0.5, fusion_temperature: float = 10.0, contrast_batch_size: int = 256,
                 **kwargs):
        super().__init__(n_clusters, random_state, **kwargs)
        self.gcn_widths, self.knn = gcn_widths, knn
        self.tau_instance, self.tau_cluster, self.fusion_temperature = tau_instance, tau_cluster, fusion_temperature
        self.contrast_batch_size = contrast_batch_size

    def build(self, dims: list[int]) -> nn.Module:
        if len(dims) < 2:
            raise ValueError("ICMVC contrasts views: it needs at least two views.")
        return ICMVCNet(dims, self.n_clusters, self.gcn_widths, self.knn, self.fusion_temperature)

    def loss_weights(self) -> dict[str, float]:
        return {"instance_contrast": 1.0, "cluster_contrast": 1.0, "entropy": 1.0, "high_confidence": 1.0}

    def loss_terms(self, model: nn.Module, out: dict[str, Any], batch: Batch, ctx: Ctx) -> dict[str, torch.Tensor]:
        ys, y = out["ys"], out["y"]
        sizes = batch_sizes(batch[0].shape[0], self.contrast_batch_size)  # row slices: no index copied to the device
        chunks = zip(*(torch.split(z, sizes) for z in out["zs"]))
        instance = sum(nt_xent(list(zs), self.tau_instance) for zs in chunks) / len(sizes)
        target = high_confidence_target([*ys, y]).detach()
        return {
            "instance_contrast": instance,
            "cluster_contrast": nt_xent([Y.t() for Y in ys], self.tau_cluster),
            "entropy": cluster_balance(ys),
            "high_confidence": kl_batchmean(target, torch.log(y.clamp_min(1e-12))),
        }

    def soft_assign(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        return model(views)["y"]

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The attention-fused representation h that the cluster head assigns."""
        return model.fusion(model.encode(views))

    def fusion_weights(self, Xs: Sequence) -> torch.Tensor:
        """Per-sample attention weights (n, V) of these views (one graph over all of them)."""
        return self.infer(self._as_tensors(Xs), lambda m, v: m.fusion.weights(m.encode(v)))
