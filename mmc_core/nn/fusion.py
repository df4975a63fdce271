"""Fusion of the views' representations: a learned weighted mean (SiMVC/CoMVC), attention over view tokens
(DealMVC's, one weight per view) and per-sample attention (ICMVC's, one weight per view and sample)."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import mlp


class WeightedMeanFusion(nn.Module):
    """SiMVC/CoMVC fusion: sum_v w_v h^(v) with w = softmax(learnable logits), initialised to equal weights."""

    def __init__(self, n_views: int):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(int(n_views)))

    @property
    def weights(self) -> torch.Tensor:
        """The views' fusion weights (positive, summing to 1)."""
        return torch.softmax(self.logits, dim=0)

    def forward(self, hidden: Sequence[torch.Tensor]) -> torch.Tensor:
        if len(hidden) != self.logits.shape[0]:
            raise ValueError(f"Fusion built for {self.logits.shape[0]} views was given {len(hidden)}.")
        return sum(w * h for w, h in zip(self.weights, hidden))


class ViewAttentionFusion(nn.Module):
    """One weight per view: r = softmax_v(a_v * b_v); fused feature normalize(sum_v r_v H^v), and the same weights
    fuse the views' assignments (DealMVC's fusion mechanism).

    a_v (attention): multi-head self-attention over V view tokens, token v = the batch mean of H^v, then a linear
    score per view. b_v (the learned "view sampling distribution"): a GELU feed-forward net applied to the uniform
    distribution over the views.
    """

    def __init__(self, n_views: int, dim: int, heads: int, prior_width: int, dropout: float):
        super().__init__()
        self.attention = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.score = nn.Linear(dim, 1)
        self.prior = nn.Sequential(nn.Linear(n_views, prior_width), nn.GELU(), nn.Linear(prior_width, n_views))
        self.register_buffer("uniform", torch.full((n_views,), 1.0 / n_views))

    def weights(self, hs: Sequence[torch.Tensor]) -> torch.Tensor:
        """The views' fusion weights (V,), positive, summing to 1."""
        tokens = torch.stack([h.mean(dim=0) for h in hs]).unsqueeze(0)  # (1, V, d): one token per view
        attended, _ = self.attention(tokens, tokens, tokens, need_weights=False)
        return torch.softmax(self.score(attended[0]).squeeze(1) * self.prior(self.uniform), dim=0)

    def forward(self, hs: Sequence[torch.Tensor], qs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(fused feature, fused assignments): the r-weighted sums of the views' H^v (L2-normalised) and Q^v."""
        r = self.weights(hs)
        return F.normalize(sum(w * h for w, h in zip(r, hs)), dim=1), sum(w * q for w, q in zip(r, qs))


class SampleAttentionFusion(nn.Module):
    """One weight per view and sample: a = softmax(sigmoid(MLP([h^1, ..., h^V])) / temperature), h = sum_v a_v h^v
    (ICMVC's instance-level attention)."""

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
