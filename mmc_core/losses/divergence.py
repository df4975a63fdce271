"""KL divergence between soft assignments, per sample, optionally weighted."""

from __future__ import annotations

import torch

EPS = 1e-9


def weighted_kl(P: torch.Tensor, Q: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """mean_i w_i KL(P_i || Q_i) for row-stochastic P, Q (n, k)."""
    kl = (P * (torch.log(P.clamp_min(EPS)) - torch.log(Q.clamp_min(EPS)))).sum(dim=1)
    return (kl * weights).mean() if weights is not None else kl.mean()
