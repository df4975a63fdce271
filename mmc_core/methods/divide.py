"""DIVIDE: Decoupled Contrastive Multi-View Clustering with High-Order Random Walks (Lu, Lin, Yang, Peng, Hu, Peng;
AAAI'24) — the SDCIB table's "DIVICE" row (its misspelling of DIVIDE), on the shared trainer and blocks.

Per view an online encoder f^v, a momentum (EMA) copy f_bar^v and a cross-view decoder g^v. Positives are not just
"the same sample": a high-order random walk on the affinity graph of the momentum embeddings weighs every pair, so
samples far apart in the graph but reachable by many paths become positives (out-of-neighbourhood positives) and
near but poorly connected ones stay negatives. The contrast is decoupled: intra-view in the encoder's space
(f^v(x^v) against f_bar^v(x^v)), inter-view in the decoder's space (g^u(f^u(x^u)) against f_bar^v(x^v)). Final
partition: k-means on the learned representation.

The equations are those of the authors' published implementation, which we read alongside the paper's abstract.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..deep import Batch, DeepClusterer, KMeansReadout
from ..deep.engine import Ctx
from ..losses import soft_target_cross_entropy
from ..nn import mlp, symmetric_knn
from ..params import Interval, NoneValue, Widths
from . import register


@torch.no_grad()
def kernel_affinity(z: torch.Tensor, sigma: float, knn: int | None = None) -> torch.Tensor:
    """A_ij = exp(-||z_i - z_j||^2 / sigma) on L2-normalised embeddings (||.||^2 = 2 - 2 cos); with knn, only the
    pairs of the symmetric kNN graph (and the self loops) keep their weight."""
    z = F.normalize(z, dim=1)
    A = torch.exp(-(2.0 - 2.0 * z @ z.t()).clamp_min(0.0) / sigma)
    return A if knn is None else A * symmetric_knn(z, knn)


@torch.no_grad()
def random_walk_targets(affinity: torch.Tensor, steps: int, restart: float, check: bool = True) -> torch.Tensor:
    """W = restart I + (1 - restart) T^steps, T = D^-1 A the walk's transition matrix: row i weighs every sample
    as a positive of anchor i by the probability that a `steps`-step walk from i ends there (plus the restart mass
    on i itself). Rows sum to 1; W_ij = 0 when no walk of that length joins i to j. check=False skips the checks of
    the values (each a host sync on a GPU), for affinities that pass them by construction (`kernel_affinity`'s)."""
    if affinity.ndim != 2 or affinity.shape[0] != affinity.shape[1]:
        raise ValueError(f"affinity must be a square (n, n) matrix, got shape {tuple(affinity.shape)}.")
    if check and (affinity < 0).any():
        raise ValueError("affinity has negative entries; a random walk needs non-negative edge weights.")
    degree = affinity.sum(dim=1, keepdim=True)
    if check and (degree <= 0).any():
        raise ValueError("affinity has a row without any edge: give every sample a self loop or a neighbour.")
    walk = torch.linalg.matrix_power(affinity / degree, int(steps))
    return restart * torch.eye(affinity.shape[0], dtype=affinity.dtype, device=affinity.device) + (1 - restart) * walk


def soft_target_nce(queries: torch.Tensor, keys: torch.Tensor, targets: torch.Tensor, tau: float) -> torch.Tensor:
    """mean_i -sum_j w_ij log softmax_j(cos(q_i, k_j) / tau), w = targets with rows normalised to 1. With identity
    targets it is the one-direction InfoNCE (info_nce(q, k, tau, symmetric=False))."""
    logits = F.normalize(queries, dim=1) @ F.normalize(keys, dim=1).t() / tau
    return soft_target_cross_entropy(logits, targets / targets.sum(dim=1, keepdim=True))


def divide_encoder(in_dim: int, widths: Sequence[int], drop_rate: float) -> nn.Sequential:
    """The published encoder: hidden Linear-BN-ReLU layers, dropout after each but the last hidden layer, then a
    bias-free Linear and a BatchNorm without affine parameters."""
    dims = [int(in_dim), *map(int, widths)]
    layers: list[nn.Module] = []
    hidden = list(zip(dims[:-2], dims[1:-1]))
    for i, (a, b) in enumerate(hidden):
        layers.append(mlp(a, [b], batchnorm=True))
        if drop_rate > 0 and i < len(hidden) - 1:
            layers.append(nn.Dropout(drop_rate))
    layers += [nn.Linear(dims[-2], dims[-1], bias=False), nn.BatchNorm1d(dims[-1], affine=False)]
    return nn.Sequential(*layers)


class DIVIDENet(nn.Module):
    """Online encoders, their momentum copies (no gradient), and cross-view decoders d -> 4d -> d (ReLU)."""

    def __init__(self, dims: Sequence[int], widths: Sequence[int], drop_rate: float):
        super().__init__()
        d = int(widths[-1])
        self.online = nn.ModuleList(divide_encoder(dim, widths, drop_rate) for dim in dims)
        self.target = copy.deepcopy(self.online).requires_grad_(False)
        self.decoders = nn.ModuleList(mlp(d, [4 * d, d], last_activation=False) for _ in dims)

    @torch.no_grad()
    def update_target(self, momentum: float) -> None:
        """theta_bar <- momentum theta_bar + (1 - momentum) theta (parameters; buffers follow their own forwards)."""
        for p_online, p_target in zip(self.online.parameters(), self.target.parameters()):
            p_target.mul_(momentum).add_(p_online.detach(), alpha=1.0 - momentum)

    def target_features(self, views: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return [enc(x) for enc, x in zip(self.target, views)]


@register("divide")
class DIVIDE(KMeansReadout, DeepClusterer):
    """DIVIDE. Per batch, before the forward pass, the momentum encoders take an EMA step; then per view v

      W^v = random_walk_targets(kernel_affinity(f_bar^v(x^v), sigma, knn), steps, restart)   (no gradient)
      intra_view = mean_v       soft_target_nce(f^v(x^v),        f_bar^v(x^v), W^v; tau)
      inter_view = mean_{u != v} soft_target_nce(g^u(f^u(x^u)), f_bar^v(x^v), W^v; tau)

    (two views: the published (l(1,2) + l(2,1)) / 2 and (l_1 + l_2) / 2). Before `start_rectify_epoch` (default:
    half of `epochs`, as the published 100 of 200) W = I: plain InfoNCE, while the embeddings are too young for
    the walk. Labels: k-means (run_kmeans, the method's random_state) on the representation
    normalize([normalize(g^v(f_bar^v(x^v)))]_v), fitted on the training data at the end of training (and at every
    monitored epoch when labels are given to fit). `soft_assign` = Student-t kernel to those k-means centres (argmax
    = the k-means label), so predict on new data is nearest centre; the centres are in `cluster_centers_`.

    The graph: the published code walks on the dense kernel graph of each mini-batch (batch 1024), recomputed at
    every step from the current momentum encoders: "global" in the paper is the high-order walk reaching beyond a
    kNN neighbourhood, within the batch; batch_size >= n makes it the whole data set's graph. knn=None keeps that
    dense graph; knn=k keeps only symmetric kNN edges (a sparser reading of the same walk).

    Defaults (published code and configs): encoders 1024-1024-1024-128, dropout 0.2, tau 0.5, momentum 0.98,
    sigma 0.1, steps 5, restart 0.5, batch 1024, 200 epochs, Adam lr 2e-3 (its base 5e-4 x batch/256), constant.
    Differences: the published run warms the learning rate up over 20 epochs and uses Adam betas (0.9, 0.99) —
    the shared trainer has neither; its hidden Linear layers have no bias (redundant before BatchNorm); its loss
    divides by n^2 (a mean over every pair) — we average over anchors, as a loss per sample; it drops the last
    incomplete batch — the trainer keeps it; it z-scores the inputs — the runner gives deep methods min-max.
    More than two views: every ordered pair of views in inter_view.
    """

    reported_as: ClassVar[str] = "DIVIDE"
    trainer_defaults: ClassVar[dict[str, Any]] = {"epochs": 200, "batch_size": 1024, "lr": 2e-3, "lr_gamma": 1.0}
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "encoder_widths": Widths(), "drop_rate": Interval(float, 0, 1, closed="left"),
        "tau": Interval(float, 0, closed="neither"), "momentum": Interval(float, 0, 1, closed="left"),
        "sigma": Interval(float, 0, closed="neither"), "steps": Interval(int, 1),
        "restart": Interval(float, 0, 1, closed="left"), "knn": [NoneValue(), Interval(int, 1)],
        "start_rectify_epoch": [NoneValue(), Interval(int, 0)],
    }

    def __init__(self, n_clusters: int, random_state: int | None = 0,
                 encoder_widths: Sequence[int] = (1024, 1024, 1024, 128), drop_rate: float = 0.2, tau: float = 0.5,
                 momentum: float = 0.98, sigma: float = 0.1, steps: int = 5, restart: float = 0.5,
                 knn: int | None = None, start_rectify_epoch: int | None = None, **kwargs):
        super().__init__(n_clusters, random_state, **kwargs)
        self.encoder_widths, self.drop_rate, self.tau, self.momentum = encoder_widths, drop_rate, tau, momentum
        self.sigma, self.steps, self.restart, self.knn = sigma, steps, restart, knn
        self.start_rectify_epoch = start_rectify_epoch

    def build(self, dims: list[int]) -> nn.Module:
        if len(dims) < 2:
            raise ValueError("DIVIDE contrasts views: it needs at least two views.")
        return DIVIDENet(dims, self.encoder_widths, self.drop_rate)

    def positives(self, z: torch.Tensor) -> torch.Tensor:
        """W (n, n) of one view's momentum embeddings: the random-walk positive weights (the kernel's affinities are
        non-negative with self loops, so the walk's checks are skipped)."""
        return random_walk_targets(kernel_affinity(z, self.sigma, self.knn), self.steps, self.restart, check=False)

    def loss_weights(self) -> dict[str, float]:
        return {"intra_view": 1.0, "inter_view": 1.0}

    def before_step(self, model: nn.Module, batch: Batch, ctx: Ctx) -> None:
        """The momentum encoders' EMA step, before the batch's forward pass (as the published code)."""
        model.update_target(self.momentum)

    def forward(self, model: nn.Module, batch: Batch, ctx: Ctx) -> dict[str, list[torch.Tensor]]:
        """Online embeddings, their decodings, and (no gradient) the momentum embeddings and positive weights."""
        zs = [enc(x) for enc, x in zip(model.online, batch)]
        ps = [dec(z) for dec, z in zip(model.decoders, zs)]
        rectify_from = self.epochs // 2 if self.start_rectify_epoch is None else self.start_rectify_epoch
        with torch.no_grad():
            targets = model.target_features(batch)
            if ctx["epoch"] >= rectify_from:
                ws = [self.positives(z) for z in targets]
            else:
                ws = [torch.eye(len(z), dtype=z.dtype, device=z.device) for z in targets]
        return {"zs": zs, "ps": ps, "targets": targets, "ws": ws}

    def loss_terms(self, model: nn.Module, out: dict[str, list], batch: Batch, ctx: Ctx) -> dict[str, torch.Tensor]:
        zs, ps, targets, ws = out["zs"], out["ps"], out["targets"], out["ws"]
        V = len(batch)
        pairs = [(u, v) for u in range(V) for v in range(V) if u != v]
        return {
            "intra_view": sum(soft_target_nce(zs[v], targets[v], ws[v], self.tau) for v in range(V)) / V,
            "inter_view": sum(soft_target_nce(ps[u], targets[v], ws[v], self.tau) for u, v in pairs) / len(pairs),
        }

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """normalize([normalize(g^v(f_bar^v(x^v)))]_v): the representation k-means partitions."""
        parts = [F.normalize(dec(z), dim=1) for dec, z in zip(model.decoders, model.target_features(views))]
        return F.normalize(torch.cat(parts, dim=1), dim=1)
