"""DEMVC: Deep Embedded Multi-View Clustering with Collaborative Training (Xu, Ren, Li, Pan, Zhu, Xu; Information
Sciences 573, 2021; arXiv:2007.13067) — the DDMC table's "DEMVC" baseline, on the shared trainer and blocks.

Sources: the paper's abstract (its full text was not available to this project): per-view deep autoencoders learn
the embedded representations individually; the feature representations and cluster assignments of all views are
then learned collaboratively; a consistency strategy initialises the cluster centres. The authors' public code fixes
everything else (https://github.com/SubmissionsIn/DEMVC, DEMVC.py and main.py; Keras; read, not copied).

Per view v: an autoencoder x^v -> z^v -> x_hat^v (d_v-500-500-2000-10, ReLU hidden layers, linear embedding and
output) and a DEC clustering layer with trainable centres mu^v: q^v_ij proportional to (1 + ||z^v_i - mu^v_j||^2)^-1
(Student's t, alpha = 1). Training:
1. "pretrain": every autoencoder on its mean squared reconstruction error.
2. "cluster": K-means on the embeddings of one view (the "referred" view) gives the centres of every view's
   clustering layer (the consistency strategy: all views start from the same centres, so their cluster indices
   agree). Every `update_interval` iterations (mini-batches) the target P = DEC's target distribution of one view's
   assignments over the whole data set, p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j'), f_j = sum_i q_ij, is
   computed and given to every view (collaborative training); the view that supplies P cycles through the views,
   starting from the referred one. Each iteration minimises, over a mini-batch,
       sum_v [clustering_weight * KL(P || Q^v) + recon_weight * MSE(x^v, x_hat^v)],
   i.e. the encoders, decoders and centres of every view are trained towards the same target.
Labels: argmax of the views' summed (equivalently mean) assignments (the code's final "mean" prediction; it also
prints each view's own).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Sequence

import numpy as np
import torch
from torch import nn

from ..deep import Batch, DeepClusterer, Stage, index_batches, split_epochs, student_t
from ..deep.engine import Ctx
from ..kmeans import run_kmeans
from ..losses import reconstruction_mse, weighted_kl
from ..nn import ViewDecoders, ViewEncoders
from ..params import Boolean, Interval, NoneValue, Widths
from . import register


@torch.no_grad()
def target_distribution(Q: torch.Tensor) -> torch.Tensor:
    """DEC's auxiliary target: p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j'), f_j = sum_i q_ij (soft cluster
    frequencies). Sharpens each row and discounts large clusters; rows sum to 1."""
    weight = Q.pow(2) / Q.sum(dim=0, keepdim=True)
    return weight / weight.sum(dim=1, keepdim=True)


def target_view(n_views: int, refresh: int, reference_view: int | None) -> int:
    """The view whose assignments give the shared target at refresh r = 0, 1, ...: the referred view first, then
    the next ones in turn (the code's q_index; view 0 first when there is no referred view)."""
    return ((reference_view or 0) + refresh) % n_views


class DEMVCNet(nn.Module):
    """Per view: encoder d_v-widths-embedding_dim (ReLU between layers, linear embedding), the mirrored decoder
    (linear output) and the clustering layer's centres (k, embedding_dim). Keras' initial weights: the same uniform
    bound 1/sqrt(fan_in) as torch's default for the weights, zero biases."""

    def __init__(self, dims: Sequence[int], n_clusters: int, encoder_widths: Sequence[int], embedding_dim: int):
        super().__init__()
        widths = [*encoder_widths, embedding_dim]
        self.encoders = ViewEncoders(dims, widths)
        self.decoders = ViewDecoders(dims, widths)
        self.centers = nn.ParameterList(nn.Parameter(torch.zeros(n_clusters, embedding_dim)) for _ in dims)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)

    def assignments(self, views: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return [student_t(z, mu) for z, mu in zip(self.encoders(views), self.centers)]

    def forward(self, views: Sequence[torch.Tensor]) -> dict[str, list[torch.Tensor]]:
        zs = self.encoders(views)
        return {"zs": zs, "recons": self.decoders(zs), "qs": [student_t(z, mu) for z, mu in zip(zs, self.centers)]}


@register("demvc")
class DEMVC(DeepClusterer):
    """DEMVC (see the module docstring). Stages and named loss terms (raw value, weight):
      "pretrain": recon      = sum_v mean squared reconstruction error                      (1)
      "cluster":  clustering = sum_v mean_i KL(P_i || Q^v_i), P the shared target           (clustering_weight)
                  recon      = sum_v mean squared reconstruction error                      (recon_weight)
    The centres are set at the start of "cluster" (the `on_epoch_start` hook); the target is refreshed every
    `update_interval` iterations in the `before_step` hook, from the data set's assignments of the current model.
    disable=("recon",) in the cluster stage gives the code's "DEC" variant (Idec = 0); collaborative=False gives
    every view its own target (the code's Coo = 0); reference_view=None gives every view the K-means centres of
    its own embeddings (the code's K12q = 0).

    Defaults (the published main.py): autoencoders 500-500-2000-10, 500 pre-training epochs, 20000 clustering
    iterations (`max_iter`), target refreshed every 200 iterations, clustering_weight 0.1 (lc), recon_weight 1.0
    (Idec), referred view 0 (the code's first view), collaborative training on, K-means with 100 restarts, Adam
    lr 1e-3 (Keras' default) at a constant rate, batch 256. The cluster stage runs ceil(max_iter / batches per
    epoch) epochs (rounded up to whole epochs). If `epochs` is given it replaces both stage lengths, split in
    proportion to them (as the MFLVC family), so a run profile can shorten the method with one number.

    Differences from the code: the trainer shuffles the mini-batches of the cluster stage too (the code's clustering
    loop walks the samples in their stored order, a last incomplete batch included, as here) and gives each stage a
    fresh Adam (epsilon 1e-8 for Keras' 1e-7); the KL takes the log of P and Q clamped at 1e-9
    (mmc_core.losses.weighted_kl) where Keras clips both to [1e-7, 1] (a difference only for assignments below
    1e-7); K-means is mmc_core.kmeans (k-means++, kmeans_n_init restarts, as the code's scikit-learn call) on the
    referred view only (the code also runs it on the other views, for printing). The code's convolutional
    autoencoders for image views are not provided: its fully connected ones serve every vector data set.
    """

    reported_as: ClassVar[str] = "DEMVC"
    trainer_defaults: ClassVar[dict[str, Any]] = {"batch_size": 256, "lr": 1e-3, "lr_gamma": 1.0}
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "pretrain_epochs": Interval(int, 0), "max_iter": Interval(int, 0), "epochs": [NoneValue(), Interval(int, 1)],
        "encoder_widths": Widths(), "embedding_dim": Interval(int, 1), "update_interval": Interval(int, 1),
        "clustering_weight": Interval(float, 0), "recon_weight": Interval(float, 0),
        "reference_view": [NoneValue(), Interval(int, 0)], "collaborative": Boolean(),
        "kmeans_n_init": Interval(int, 1),
    }

    def __init__(self, n_clusters: int, random_state: int | None = 0, pretrain_epochs: int = 500,
                 max_iter: int = 20000, epochs: int | None = None, encoder_widths: Sequence[int] = (500, 500, 2000),
                 embedding_dim: int = 10, update_interval: int = 200, clustering_weight: float = 0.1,
                 recon_weight: float = 1.0, reference_view: int | None = 0, collaborative: bool = True,
                 kmeans_n_init: int = 100, **kwargs):
        super().__init__(n_clusters, random_state, **kwargs)
        self.pretrain_epochs, self.max_iter, self.epochs = pretrain_epochs, max_iter, epochs
        self.encoder_widths, self.embedding_dim = encoder_widths, embedding_dim
        self.update_interval, self.clustering_weight, self.recon_weight = (update_interval, clustering_weight,
                                                                           recon_weight)
        self.reference_view, self.collaborative, self.kmeans_n_init = reference_view, collaborative, kmeans_n_init

    def build(self, dims: list[int]) -> nn.Module:
        if self.reference_view is not None and self.reference_view >= len(dims):
            raise ValueError(f"reference_view={self.reference_view} is out of range: the data has {len(dims)} "
                             f"view(s), valid indices 0..{len(dims) - 1}.")
        return DEMVCNet(dims, self.n_clusters, self.encoder_widths, self.embedding_dim)

    # ----------------------------------------------------------------- stages
    def stage_epochs(self) -> tuple[int, int]:
        """Epochs of (pretrain, cluster) actually run; the cluster stage covers max_iter mini-batches (before fit,
        when the data size is unknown, one batch per epoch is assumed)."""
        n = getattr(self, "_n_train", None)
        per_epoch = len(index_batches(n, self.batch_size, None)) if n else 1
        lengths = (self.pretrain_epochs, math.ceil(self.max_iter / per_epoch))
        if sum(lengths) < 1:
            raise ValueError("DEMVC: pretrain_epochs and max_iter are both 0; give at least one stage some training.")
        return lengths if self.epochs is None else split_epochs(self.epochs, lengths)

    def stages(self) -> list[Stage]:
        pre, cluster = self.stage_epochs()
        return [Stage("pretrain", pre, self.pretrain_terms, {"recon": 1.0}),
                Stage("cluster", cluster, self.cluster_terms,
                      {"clustering": self.clustering_weight, "recon": self.recon_weight},
                      on_epoch_start=self.initialize_centers, before_step=self.refresh_target)]

    def prepare(self, views: list[np.ndarray]) -> None:
        self._n_train = len(views[0])

    # ----------------------------------------------------------------- hooks
    def initialize_centers(self, model: nn.Module, data: list[torch.Tensor], ctx: Ctx) -> None:
        """First cluster epoch: every view's centres from K-means on the referred view's embeddings (or each view
        its own, reference_view=None); the iteration counter starts."""
        if ctx["epoch"] != 0:
            return
        zs = self.infer(data, lambda m, v: m.encoders(v))
        sources = range(len(zs)) if self.reference_view is None else [self.reference_view] * len(zs)
        fitted: dict[int, torch.Tensor] = {}
        for v, source in enumerate(sources):
            if source not in fitted:
                km = run_kmeans(zs[source].cpu().numpy(), self.n_clusters, self.seed_, n_init=self.kmeans_n_init)
                fitted[source] = torch.as_tensor(km.cluster_centers_, dtype=zs[source].dtype)
            model.centers[v].copy_(fitted[source].to(model.centers[v].device))
        model.train()
        ctx.update(data=data, iteration=0, refreshes=0)

    def refresh_target(self, model: nn.Module, batch: Batch, ctx: Ctx) -> None:
        """Every update_interval iterations (from the first): the target P of every sample, from the assignments
        of the view whose turn it is (each view its own, without collaborative training)."""
        if ctx["iteration"] % self.update_interval == 0:
            qs = self.infer(ctx["data"], lambda m, v: m.assignments(v))
            model.train()
            if self.collaborative:
                P = target_distribution(qs[target_view(len(qs), ctx["refreshes"], self.reference_view)])
                ctx["targets"] = [P] * len(qs)
            else:
                ctx["targets"] = [target_distribution(Q) for Q in qs]
            ctx["refreshes"] += 1
        ctx["iteration"] += 1

    # ----------------------------------------------------------------- terms
    def pretrain_terms(self, model: nn.Module, out: dict, batch: Batch, ctx: Ctx) -> dict[str, torch.Tensor]:
        return {"recon": reconstruction_mse(batch, out["recons"])}

    def cluster_terms(self, model: nn.Module, out: dict, batch: Batch, ctx: Ctx) -> dict[str, torch.Tensor]:
        targets = [P[batch.index] for P in ctx["targets"]]
        return {"clustering": sum(weighted_kl(P, Q) for P, Q in zip(targets, out["qs"])),
                "recon": reconstruction_mse(batch, out["recons"])}

    # ----------------------------------------------------------------- readout
    def soft_assign(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The views' mean assignment (argmax = the code's argmax of the summed assignments)."""
        return torch.stack(model.assignments(views)).mean(dim=0)

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The views' embeddings z^v side by side."""
        return torch.cat(model.encoders(views), dim=1)
