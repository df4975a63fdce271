"""Loss terms on soft cluster assignments shared by several methods: the cluster-balance regulariser, soft-target
cross-entropy, balanced (Sinkhorn-Knopp) targets, and the mean squared reconstruction error of every view."""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F


def cluster_balance(assignments: Sequence[torch.Tensor]) -> torch.Tensor:
    """sum_v (log K - H(s^v)), s^v = the batch mean of view v's assignments (n, K): 0 when every view uses all
    clusters equally, log K per view when it puts everything in one (MFLVC's and ICMVC's entropy term, >= 0)."""
    def imbalance(Q: torch.Tensor) -> torch.Tensor:
        s = Q.mean(dim=0)
        return math.log(Q.shape[1]) + torch.special.xlogy(s, s).sum()

    return sum(imbalance(Q) for Q in assignments)


def soft_target_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """mean_i -sum_j targets_ij log softmax_j(logits_i): cross-entropy against soft (row-stochastic) targets;
    with one-hot targets it is the usual cross-entropy (DealMVC's calibration, DIVIDE's random-walk contrast)."""
    return -(targets * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


def reconstruction_mse(views: Sequence[torch.Tensor], reconstructions: Sequence[torch.Tensor]) -> torch.Tensor:
    """sum_v mean squared reconstruction error of view v (per element, as MFLVC's published runs)."""
    return sum(F.mse_loss(r, x) for x, r in zip(views, reconstructions))


@torch.no_grad()
def sinkhorn_targets(assignments: torch.Tensor, n_iters: int = 3, eps: float = 0.05) -> torch.Tensor:
    """Balanced targets for soft assignments (n, K), as SwAV's: the sharpened assignments exp(log A / eps),
    alternately rescaled so that every cluster receives n/K of the mass and every sample a mass of 1 (Sinkhorn-Knopp,
    n_iters rounds). Rows sum to 1; column sums approach n/K (exactly after the final column step, up to the last
    row normalisation). Computed in log space so a small eps cannot overflow."""
    n, k = assignments.shape
    log_q = torch.log(assignments.clamp_min(1e-12)) / eps
    for _ in range(n_iters):
        log_q = log_q - torch.logsumexp(log_q, dim=0, keepdim=True) + math.log(n / k)  # columns: mass n / K
        log_q = log_q - torch.logsumexp(log_q, dim=1, keepdim=True)  # rows: mass 1
    return log_q.exp()
