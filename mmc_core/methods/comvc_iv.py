"""CoMVC with IDMC's interest values plugged into its contrastive alignment — the plug-and-play use the IDMC paper
claims but never shows (our construction, not a published method).

Each anchor (sample i of view u) of CoMVC's contrastive term is weighted by w_i^u * mean_{v != u} w_i^v (for two
views exactly IDMC's w_i^u w_i^v of Eq. 17), with w^(v) = mmc_core.interest.batch_interest(h^(v), A, Q^(v)).
CoMVC has no per-view cluster heads, so Q^(v) is its DDC head applied to view v's representation (the fused
representation is a weighted mean in that same space). The weights are rescaled to mean 1 over the batch, so that
only the relative emphasis on samples changes, not the overall strength of the alignment term (IDMC's raw weights
are at most 1/e under the literal Eq. 15 and would mostly shrink the term).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from ..interest import batch_interest
from . import register
from .comvc import CoMVC


@register("comvc_iv")
class CoMVCWithInterest(CoMVC):
    """CoMVC + interest-weighted contrastive anchors. Options of the interest values: knn, lam, fusion,
    label_term (as IDMC); every other parameter as CoMVC."""

    reported_as: ClassVar[str] = "CoMVC+IV"

    def __init__(self, n_clusters: int, random_state: int | None = 0, knn: int = 10, lam: float = 0.05,
                 fusion: str = "bayes", label_term: str = "paper", **kwargs):
        super().__init__(n_clusters, random_state, **kwargs)
        self.knn, self.lam, self.fusion, self.label_term = int(knn), float(lam), fusion, label_term

    def anchor_weights(self, model: nn.Module, out: dict[str, Any]) -> torch.Tensor:
        hs = out["hs"]
        Qs = [model.head(h)[0] for h in hs]
        ws = batch_interest(hs, out["A"], Qs, k=self.knn, lam=self.lam, fusion=self.fusion,
                            label_term=self.label_term)
        total = torch.stack(ws).sum(dim=0)
        per_view = [w * (total - w) / max(len(ws) - 1, 1) for w in ws]
        weights = torch.cat(per_view)
        return weights / weights.mean().clamp_min(torch.finfo(weights.dtype).tiny)
