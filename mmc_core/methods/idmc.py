"""IDMC: Interest-driven Deep Multi-modal Clustering (Zou et al., AAAI'26; see docs/papers.md)."""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np
import torch
from torch import nn

from ..deep import Batch, DeepClusterer
from ..deep.engine import Ctx
from ..interest import FUSIONS, LABEL_TERMS, batch_interest, uniform_interest
from ..losses import ddc_terms, info_nce, weighted_kl
from ..nn import DDCHead, ViewDecoders, ViewEncoders, mlp
from ..params import Boolean, Interval, Options, Widths
from . import register


INTERPRETATION = """Our readings of what the IDMC paper leaves open (docs/readings.md): DDC as in its reference code
(2/(k(k-1)) and the n x n upper triangle of P P^T, not the printed 1/k and triu(P^T P)); "learning rate adaptively
updated" = a step schedule (halved at mid-training); Eq. 15 as the ratio exp(c_i)/zeta the text describes
(label_term="ratio", chosen without labels by seed stability on MSRC-v1: idmc/08; the literal exp(c_i - zeta),
label_term="paper", was the default until then); inputs min-max scaled per feature; encoders 512-512-256 with batch norm, a 256-unit fusion
MLP, a DDC head per view for Q^(v) (network sizes are not in the paper); batch means instead of the printed sums over
samples; the reported run is the last epoch (no label-based model selection)."""

class IDMCNet(nn.Module):
    """Per-view encoders/decoders, a fusion MLP on the concatenated features, a DDC head on the fused
    representation (P) and a DDC head per view (Q^(v))."""

    def __init__(self, dims: Sequence[int], n_clusters: int, encoder_widths: Sequence[int],
                 fusion_widths: Sequence[int]):
        super().__init__()
        d = int(encoder_widths[-1])
        self.encoders = ViewEncoders(dims, encoder_widths, batchnorm=True)
        self.decoders = ViewDecoders(dims, encoder_widths, batchnorm=True)
        self.fusion = mlp(d * len(dims), fusion_widths, batchnorm=True)
        self.head = DDCHead(int(fusion_widths[-1]), n_clusters)
        self.view_heads = nn.ModuleList(DDCHead(d, n_clusters) for _ in dims)

    def forward(self, views: Sequence[torch.Tensor]) -> dict[str, Any]:
        hs = self.encoders(views)
        P, hidden = self.head(self.fusion(torch.cat(hs, dim=1)))
        return {"hs": hs, "recons": self.decoders(hs), "P": P, "hidden": hidden,
                "Qs": [head(h)[0] for head, h in zip(self.view_heads, hs)]}


@register("idmc")
class IDMC(DeepClusterer):
    """Interest-driven deep multi-modal clustering; final labels = argmax of the fused assignment P.

    Network (the paper names its parts but not their sizes; our choices):
    - encoders: one MLP per view, widths `encoder_widths` (default 512-512-256, the DDC-family default, see
      docs/readings.md), ReLU and BatchNorm after every hidden layer, linear output h^(v);
    - decoders: the mirror of each encoder (same widths reversed), linear output x~^(v);
    - fusion: an MLP (`fusion_widths`, default 256, ReLU + BatchNorm) on the concatenated h^(v), giving H;
    - clustering: the DDC head (Linear-ReLU-BatchNorm(100)-Linear-softmax) on H gives P; the same kind of head
      on each h^(v) gives Q^(v).

    Per batch: interest values w^(v) (mmc_core.interest, detached) from (h^(v), P, Q^(v)) in the forward pass, then
    the named terms
      recon = sum_v mean_i w_i^(v) ||x_i^(v) - x~_i^(v)||^2                          (Eq. 16; batch mean)
      align = sum_{u<v} info_nce(h^u, h^v, tau, weights=w^u w^v, positive excluded)  (Eq. 17-18, symmetric)
      kl    = sum_v mean_i w_i^(v) KL(P_i || Q_i^(v))                                  (Eq. 19; both sides trained)
      ddc_1, ddc_2, ddc_3 = DDC on P with the kernel of its head's hidden layer      (Eq. 20, reference-code form)
    summed without weights (the paper calls IDMC parameter-free).

    Options: fusion "bayes" | "average" (IDMC-AVG), interest False (w/o IV: all weights 1), label_term
    "paper" | "ratio" (the two readings of Eq. 15), knn (k of the batch kNN graph), lam (lambda of E), tau
    (contrastive temperature). After each training step, `last_interest_` holds the batch's per-view weights (on
    the training device), and `last_interest_parts_` their intermediates when keep_interest_parts.
    """

    reported_as: ClassVar[str] = "IDMC"
    trains_seeds_together: ClassVar[bool] = True
    cluster_loss: ClassVar[tuple[str, ...]] = ("ddc_1", "ddc_2", "ddc_3")
    default_scaling: ClassVar[str | None] = "minmax"
    ABLATIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        "w/o L_recon": ("recon",),
        "w/o L_align": ("align",),
        "w/o L_KL": ("kl",),
        "w/o L_DDC": ("ddc_1", "ddc_2", "ddc_3"),
        "full": (),
    }
    VARIANTS: ClassVar[dict[str, dict[str, Any]]] = {  # Figure 3: name -> constructor options
        "IDMC": {},
        "IDMC-AVG": {"fusion": "average"},
        "IDMC w/o IV": {"interest": False},
    }

    parameter_constraints: ClassVar[dict[str, Any]] = {
        "fusion": Options(FUSIONS), "interest": Boolean(), "label_term": Options(LABEL_TERMS),
        "knn": Interval(int, 1), "lam": Interval(float, 0, closed="neither"), "tau": Interval(float, 0, closed="neither"),
        "encoder_widths": Widths(), "fusion_widths": Widths(), "keep_interest_parts": Boolean(),
    }

    def __init__(self, n_clusters: int, random_state: int | None = 0, fusion: str = "bayes", interest: bool = True,
                 label_term: str = "ratio", knn: int = 10, lam: float = 0.05, tau: float = 0.1,
                 encoder_widths: Sequence[int] = (512, 512, 256), fusion_widths: Sequence[int] = (256,),
                 keep_interest_parts: bool = False, **kwargs):
        super().__init__(n_clusters, random_state, **kwargs)
        self.fusion, self.interest, self.label_term = fusion, interest, label_term
        self.knn, self.lam, self.tau = knn, lam, tau
        self.encoder_widths, self.fusion_widths = encoder_widths, fusion_widths
        self.keep_interest_parts = keep_interest_parts

    def build(self, dims: list[int]) -> nn.Module:
        return IDMCNet(dims, self.n_clusters, self.encoder_widths, self.fusion_widths)

    def _interest(self, out: dict[str, Any], parts: bool) -> list[torch.Tensor] | list[dict[str, torch.Tensor]]:
        """Per-view interest values of a forward pass (all ones when interest=False)."""
        if not self.interest:
            n, P = out["P"].shape[0], out["P"]
            ones = [uniform_interest(n, P.device, P.dtype) for _ in out["hs"]]
            return [{"w": w} for w in ones] if parts else ones
        return batch_interest(out["hs"], out["P"], out["Qs"], return_parts=parts, k=self.knn, lam=self.lam,
                              fusion=self.fusion, label_term=self.label_term)

    def loss_weights(self) -> dict[str, float]:
        """Every term weighs 1: the paper calls IDMC parameter-free."""
        return {"recon": 1.0, "align": 1.0, "kl": 1.0, "ddc_1": 1.0, "ddc_2": 1.0, "ddc_3": 1.0}

    def after_network(self, out: dict[str, Any], batch: Batch, ctx: Ctx) -> dict[str, Any]:
        """The network's outputs, the batch's interest values ("w", per view) and, when kept, their parts."""
        found = self._interest(out, self.keep_interest_parts)
        if self.keep_interest_parts:
            return {**out, "w": [d["w"] for d in found], "interest_parts": found}
        return {**out, "w": found}

    def after_step(self, model: nn.Module, batch: Batch, out: dict[str, Any], ctx: Ctx) -> None:
        """Keep the batch's interest values (and parts), on the training device (no host sync per batch)."""
        self.last_interest_ = out["w"]
        if self.keep_interest_parts:
            self.last_interest_parts_ = out["interest_parts"]

    def loss_terms(self, model: nn.Module, out: dict[str, Any], batch: Batch, ctx: Ctx) -> dict[str, torch.Tensor]:
        ws, hs, P = out["w"], out["hs"], out["P"]
        recon = sum((w * (x - r).pow(2).sum(dim=1)).mean() for w, x, r in zip(ws, batch, out["recons"]))
        align = P.new_zeros(())
        for u in range(len(hs)):
            for v in range(u + 1, len(hs)):
                align = align + info_nce(hs[u], hs[v], tau=self.tau, weights=ws[u] * ws[v],
                                         positive_in_denominator=False)
        kl = sum(weighted_kl(P, Q, w) for w, Q in zip(ws, out["Qs"]))
        return {"recon": recon, "align": align, "kl": kl, **ddc_terms(P, out["hidden"])}

    def soft_assign(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        return model(views)["P"]

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The fused representation H the DDC head clusters."""
        return model.fusion(torch.cat(model.encoders(views), dim=1))

    def interest_of(self, Xs: Sequence[np.ndarray], parts: bool = False
                    ) -> list[torch.Tensor] | list[dict[str, torch.Tensor]]:
        """Interest values of the given samples, treated as one batch (eval mode, no gradient), per view on the
        CPU: a list of (n,) tensors, or with parts=True a list of dicts of every intermediate (Figure 6)."""
        data = self._as_tensors(Xs)
        self.model_.eval()
        with torch.no_grad():
            found = self._interest(self.model_(data), parts)
        return [{name: t.cpu() for name, t in d.items()} for d in found] if parts else [w.cpu() for w in found]
