"""CoMVC: Contrastive Multi-View Clustering (Trosten et al., CVPR'21) — SiMVC plus a selective contrastive
alignment of the views' representations; the IDMC/DDMC tables' "CoMVC" baseline.

contrast = delta * min_v(w_v) * NT-Xent over the encoder outputs (cosine similarity, temperature tau), where w are
the fusion weights (detached: the weight scales the alignment, it is not a way to lower the loss) and, with
negative sampling, each anchor's negatives are drawn only among samples predicted in another cluster.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from ..losses import ddc_terms, nt_xent
from . import register
from .simvc import SiMVC


def negative_mask(pred: torch.Tensor, n_views: int) -> torch.Tensor:
    """(V n, V n) boolean: True where column j may be a negative of anchor i, i.e. their predicted clusters differ.

    Rows and columns are the samples of every view in the order [view 0; view 1; ...]; a sample's cluster is the
    fused prediction `pred` (n,), the same in every view. Same-cluster pairs (the anchor and its positives
    included) are never negatives.
    """
    cluster = pred.repeat(n_views)
    return cluster[:, None] != cluster[None, :]


def sample_negatives(mask: torch.Tensor, n_negatives: int) -> torch.Tensor:
    """Counts (V n, V n) of n_negatives draws with replacement per anchor, uniform over the anchor's allowed
    columns in `mask` (CoMVC's negative sampling). An anchor with no allowed column gets no negatives (its
    contrastive term is then 0). Uses torch's global RNG, which the trainer seeds."""
    counts = torch.zeros(mask.shape, dtype=torch.float32, device=mask.device)
    rows = mask.any(dim=1)
    if rows.any():
        drawn = torch.multinomial(mask[rows].float(), n_negatives, replacement=True)
        counts[rows] = counts[rows].scatter_add(1, drawn, torch.ones_like(drawn, dtype=counts.dtype))
    return counts


@register("comvc")
class CoMVC(SiMVC):
    """CoMVC. Loss terms: ddc_1, ddc_2, ddc_3 (as SiMVC) and contrast; labels = argmax of the fused assignments.

    contrast = delta * min(w) * mean over anchors (sample i of view u) and positives (sample i of view v != u) of
    -log(e^{s_pos} / (e^{s_pos} + sum_neg e^{s_neg})), s = cos / tau, over the encoder outputs (no projection
    head, as the reference configurations).
    - negative_sampling=True (the paper's): per anchor, floor(negative_samples_ratio * V * batch) negatives drawn
      with replacement among the samples of every view predicted (argmax of the fused assignments, detached) in a
      different cluster than the anchor (with more than two views, one draw per anchor serves all its positives;
      the authors' code draws per anchor-positive pair).
    - negative_sampling=False: every other sample of every view is a negative (SimCLR's NT-Xent).
    The authors' code sums the two directions in the unsampled case and averages them in the sampled one; we
    average in both so that the option changes only the negatives. Defaults tau=0.1, delta=0.1,
    negative_samples_ratio=0.25 are the reference's; other parameters as SiMVC.
    """

    reported_as: ClassVar[str] = "CoMVC"

    def __init__(self, n_clusters: int, random_state: int | None = 0, tau: float = 0.1, delta: float = 0.1,
                 negative_sampling: bool = True, negative_samples_ratio: float = 0.25, **kwargs):
        super().__init__(n_clusters, random_state, **kwargs)
        if tau <= 0 or delta < 0:
            raise ValueError(f"Need tau > 0 and delta >= 0, got tau={tau}, delta={delta}.")
        if negative_samples_ratio <= 0:
            raise ValueError(f"negative_samples_ratio must be > 0 (negatives per anchor / (views x batch)), "
                             f"got {negative_samples_ratio}.")
        self.tau = float(tau)
        self.delta = float(delta)
        self.negative_sampling = bool(negative_sampling)
        self.negative_samples_ratio = float(negative_samples_ratio)

    def loss_terms(self, model: nn.Module, batch: list[torch.Tensor], ctx: dict[str, Any]) -> dict[str, torch.Tensor]:
        if len(batch) < 2:
            raise ValueError("CoMVC contrasts views: it needs at least two views (use SiMVC for one).")
        out = model(batch)
        terms = ddc_terms(out["A"], out["hidden"])
        counts = None
        if self.negative_sampling:
            n_views, n = len(batch), batch[0].shape[0]
            mask = negative_mask(out["A"].detach().argmax(dim=1), n_views)
            counts = sample_negatives(mask, max(1, int(self.negative_samples_ratio * n_views * n)))
        weight = self.delta * model.fusion.weights.detach().min()
        terms["contrast"] = weight * nt_xent(out["hs"], self.tau, negative_weights=counts,
                                             anchor_weights=self.anchor_weights(model, out))
        return terms

    def anchor_weights(self, model: nn.Module, out: dict[str, Any]) -> torch.Tensor | None:
        """Per-anchor weights (V n,) of the contrastive term; None = every anchor counts the same (CoMVC).
        The hook through which another method's sample weighting is plugged in (comvc_iv)."""
        return None
