"""SiMVC and CoMVC (Trosten et al., CVPR'21, "Reconsidering Representation Alignment for Multi-view Clustering") —
the IDMC/DDMC tables' "SiMVC" and "CoMVC" baselines — and CoMVC with IDMC's interest values plugged into its
alignment (our construction for IDMC's plug-and-play claim, "comvc_iv").

SiMVC: per-view MLP encoders, a weighted mean of the views' representations (learned softmax weights), the DDC head
on the fused representation and the three DDC loss terms; no alignment of the views. CoMVC adds a selective
contrastive alignment: contrast = min_v(w_v) * NT-Xent over the encoder outputs (cosine similarity, temperature
tau), with weight delta in the loss, where w are the fusion weights (detached: the weight scales the alignment, it
is not a way to lower the loss) and, with negative sampling, each anchor's negatives are drawn only among samples
predicted in another cluster.
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import torch
from torch import nn

from ..deep import Batch, DeepClusterer
from ..deep.engine import Ctx
from ..interest import FUSIONS, LABEL_TERMS, batch_interest
from ..losses import ddc_terms, nt_xent
from ..nn import DDCHead, ViewEncoders, WeightedMeanFusion
from ..params import Boolean, Interval, Options, Widths
from . import register

POSITIVE = Interval(float, 0, closed="neither")


class SiMVCNet(nn.Module):
    """Encoders (ReLU after every layer, no batch norm, as the reference MLP) -> weighted-mean fusion -> DDC head."""

    def __init__(self, dims: Sequence[int], n_clusters: int, encoder_widths: Sequence[int]):
        super().__init__()
        self.encoders = ViewEncoders(dims, encoder_widths, last_activation=True)
        self.fusion = WeightedMeanFusion(len(dims))
        self.head = DDCHead(int(encoder_widths[-1]), n_clusters)

    def forward(self, views: Sequence[torch.Tensor]) -> dict[str, Any]:
        hs = self.encoders(views)
        A, hidden = self.head(self.fusion(hs))
        return {"hs": hs, "A": A, "hidden": hidden, "fusion_weights": self.fusion.weights}


@register("simvc")
class SiMVC(DeepClusterer):
    """SiMVC. Loss terms: ddc_1, ddc_2, ddc_3 on the fused representation's assignments A (weight 1 each);
    labels = argmax A.

    Defaults are the reference setting (docs/readings.md, "SiMVC"): encoders 512-512-256, Adam lr 1e-3, batch 100,
    100 epochs, constant learning rate (lr_gamma=1.0: the reference uses no scheduler). Trainer parameters
    (epochs, batch_size, lr, lr_step, lr_gamma, disable, selection, device, progress) pass through **kwargs.
    After fit, `fusion_weights_` holds the learned view weights.
    """

    reported_as: ClassVar[str] = "SiMVC"
    trainer_defaults: ClassVar[dict[str, Any]] = {"lr_gamma": 1.0}
    trains_seeds_together: ClassVar[bool] = True
    parameter_constraints: ClassVar[dict[str, Any]] = {"encoder_widths": Widths()}

    def __init__(self, n_clusters: int, random_state: int | None = 0,
                 encoder_widths: Sequence[int] = (512, 512, 256), **kwargs):
        super().__init__(n_clusters, random_state, **kwargs)
        self.encoder_widths = encoder_widths

    def build(self, dims: list[int]) -> nn.Module:
        return SiMVCNet(dims, self.n_clusters, self.encoder_widths)

    def loss_weights(self) -> dict[str, float]:
        return {"ddc_1": 1.0, "ddc_2": 1.0, "ddc_3": 1.0}

    def loss_terms(self, model: nn.Module, out: dict, batch: Batch, ctx: Ctx) -> dict[str, torch.Tensor]:
        return ddc_terms(out["A"], out["hidden"])

    def soft_assign(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        return model(views)["A"]

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The fused representation the DDC head clusters."""
        return model.fusion(model.encoders(views))

    def after_fit(self, views) -> None:
        self.fusion_weights_ = self.model_.fusion.weights.detach().cpu().numpy()


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
    contrastive term is then 0). Uses torch's global RNG, which the trainer seeds.

    Without a host sync, every row draws (a row without allowed column from all columns, its counts then zeroed).
    In `negative_mask`'s masks a row has no allowed column only when the batch's predictions are all one cluster,
    and then no row has one; so a step draws what drawing from the allowed rows only would draw, except that such a
    one-cluster step now advances the generator too (it drew nothing before)."""
    rows = mask.any(dim=1, keepdim=True)
    weights = (mask | ~rows).float()
    drawn = torch.multinomial(weights, n_negatives, replacement=True)
    counts = torch.zeros(mask.shape, dtype=torch.float32, device=mask.device)
    return counts.scatter_add(1, drawn, torch.ones_like(drawn, dtype=counts.dtype)) * rows


@register("comvc")
class CoMVC(SiMVC):
    """CoMVC. Loss terms: ddc_1, ddc_2, ddc_3 (as SiMVC, weight 1) and contrast (weight delta); labels = argmax of
    the fused assignments.

    contrast = min(w) * mean over anchors (sample i of view u) and positives (sample i of view v != u) of
    -log(e^{s_pos} / (e^{s_pos} + sum_neg e^{s_neg})), s = cos / tau, over the encoder outputs (no projection
    head, as the reference configurations).
    - negative_sampling=True (the paper's): per anchor, floor(negative_samples_ratio * V * batch) negatives drawn
      with replacement among the samples of every view predicted (argmax of the fused assignments, detached) in a
      different cluster than the anchor (with more than two views, one draw per anchor serves all its positives;
      the authors' code draws per anchor-positive pair).
    - negative_sampling=False: every other sample of every view is a negative (SimCLR's NT-Xent).
    With more than two views, each anchor's negatives come from every view (mmc_core.losses.nt_xent), where the
    reference code contrasts one pair of views at a time with negatives from that pair only. The authors' code
    sums the two directions in the unsampled case and averages them in the sampled one; we average in both so that
    the option changes only the negatives. Defaults tau=0.1, delta=0.1, negative_samples_ratio=0.25 are the
    reference's; other parameters as SiMVC.
    """

    reported_as: ClassVar[str] = "CoMVC"
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "tau": POSITIVE, "delta": Interval(float, 0), "negative_sampling": Boolean(),
        "negative_samples_ratio": POSITIVE,
    }

    def __init__(self, n_clusters: int, random_state: int | None = 0, tau: float = 0.1, delta: float = 0.1,
                 negative_sampling: bool = True, negative_samples_ratio: float = 0.25, **kwargs):
        super().__init__(n_clusters, random_state, **kwargs)
        self.tau, self.delta = tau, delta
        self.negative_sampling, self.negative_samples_ratio = negative_sampling, negative_samples_ratio

    def build(self, dims: list[int]) -> nn.Module:
        if len(dims) < 2:
            raise ValueError(f"{type(self).__name__} contrasts views: it needs at least two views (use SiMVC for one).")
        return super().build(dims)

    def loss_weights(self) -> dict[str, float]:
        return {**super().loss_weights(), "contrast": self.delta}

    def loss_terms(self, model: nn.Module, out: dict, batch: Batch, ctx: Ctx) -> dict[str, torch.Tensor]:
        terms = ddc_terms(out["A"], out["hidden"])
        counts = None
        if self.negative_sampling:
            n_views, n = len(batch), batch[0].shape[0]
            mask = negative_mask(out["A"].detach().argmax(dim=1), n_views)
            counts = sample_negatives(mask, max(1, int(self.negative_samples_ratio * n_views * n)))
        terms["contrast"] = out["fusion_weights"].detach().min() * nt_xent(
            out["hs"], self.tau, negative_weights=counts, anchor_weights=self.anchor_weights(model, out))
        return terms

    def anchor_weights(self, model: nn.Module, out: dict[str, Any]) -> torch.Tensor | None:
        """Per-anchor weights (V n,) of the contrastive term; None = every anchor counts the same (CoMVC)."""
        return None


@register("comvc_iv")
class CoMVCWithInterest(CoMVC):
    """CoMVC + interest-weighted contrastive anchors — the plug-and-play use the IDMC paper claims but never shows
    (our construction, not a published method).

    Each anchor (sample i of view u) of CoMVC's contrastive term is weighted by w_i^u * mean_{v != u} w_i^v (for two
    views exactly IDMC's w_i^u w_i^v of Eq. 17), with w^(v) = mmc_core.interest.batch_interest(h^(v), A, Q^(v)).
    CoMVC has no per-view cluster heads, so Q^(v) is its DDC head applied to view v's representation (the fused
    representation is a weighted mean in that same space). The weights are rescaled to mean 1 over the batch, so
    that only the relative emphasis on samples changes, not the overall strength of the alignment term (IDMC's raw
    weights are at most 1/e under the literal Eq. 15 and would mostly shrink the term). Options of the interest
    values: knn, lam, fusion, label_term (as IDMC, whose default it shares); every other parameter as CoMVC.
    """

    reported_as: ClassVar[str] = "CoMVC+IV"
    trains_seeds_together: ClassVar[bool] = False
    seeds_apart: ClassVar[str] = "its anchor weights apply the network's head to each view inside the loss"
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "knn": Interval(int, 1), "lam": POSITIVE, "fusion": Options(FUSIONS), "label_term": Options(LABEL_TERMS),
    }

    def __init__(self, n_clusters: int, random_state: int | None = 0, knn: int = 10, lam: float = 0.05,
                 fusion: str = "bayes", label_term: str = "ratio", **kwargs):
        super().__init__(n_clusters, random_state, **kwargs)
        self.knn, self.lam, self.fusion, self.label_term = knn, lam, fusion, label_term

    def anchor_weights(self, model: nn.Module, out: dict[str, Any]) -> torch.Tensor:
        hs = out["hs"]
        Qs = [model.head(h)[0] for h in hs]
        ws = batch_interest(hs, out["A"], Qs, k=self.knn, lam=self.lam, fusion=self.fusion,
                            label_term=self.label_term)
        total = torch.stack(ws).sum(dim=0)
        per_view = [w * (total - w) / max(len(ws) - 1, 1) for w in ws]
        weights = torch.cat(per_view)
        return weights / weights.mean().clamp_min(torch.finfo(weights.dtype).tiny)
