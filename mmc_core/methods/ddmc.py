"""DDMC: Diversity-oriented Deep Multi-modal Clustering (Wang, Yang, Wang, Hu, Xu; NeurIPS'25, known from its slides;
see docs/papers.md): cluster the dominant modality, enhanced by what the other modalities add, instead of a fusion
of all modalities.

Objective (minimised): L = L_DDC + alpha L_FDL + beta L_CDL, with
    L_FDL = L1 + L2,  L1 = I(X^dm; D^dm) + sum_{m != dm} I(X^m; Z^m) + sum_{m != dm} I(Z^m; D^dm),
                      L2 = 1/2 sum_{m != dm} (l^{dm,m} + l^{m,dm})   (cross-view contrast, both directions)
    L_CDL = L4 - L3,  L3 = sum_{m != dm} I(A^m; A^dm),  L4 = sum_m CE(A^m, A_U^m)  (uniform-constrained targets)
and DDC on the enhanced dominant modality.
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np
import torch
from torch import nn

from ..deep import Batch, DeepClusterer
from ..deep.engine import Ctx
from ..dominance import DominantView, choose_dominant
from ..losses import (ddc_terms, gaussian_channel_information, iic_mutual_information, info_nce,
                      infonce_mutual_information, sinkhorn_targets, soft_target_cross_entropy)
from ..nn import DDCHead, ViewEncoders, mlp
from ..params import Interval, NoneValue, Options, Widths
from ..preprocessing import BY_FEATURE_TYPE
from . import register

INTERPRETATION = """Our readings of what the DDMC slides leave open (docs/readings.md): the dominant modality is a
prior when one is given, else the view whose own K-means partition has the highest silhouette on its scaled features
(no labels); per view an MLP encoder (512-512-256, BatchNorm, ReLU; linear output) gives D^dm for the dominant view
and Z^m for the others; the enhanced dominant modality is E = D^dm + gamma * mean_{m != dm} Z^m with gamma = 0.5
fixed (the dominant representation keeps twice the weight of the others' mean; the slides do not say how D^dm is
augmented), and the "fuse" variant clusters the equal-weight mean of every view's representation instead; I(X; .) by
the Gaussian-channel upper bound (as SDCIB's compression term), I(Z^m; D^dm) by the InfoNCE estimate with a fixed
cosine critic, floored at 0 as a mutual information is (minimised: the other views are pushed towards carrying what
the dominant does not, not towards anti-alignment), the contrast L2 as InfoNCE between 128-d linear projections of
D^dm and Z^m (so that alignment and diversity act on different spaces), temperature 0.5 for both; A^m a
linear-softmax cluster head per view; I(A^m; A^dm) exact through the joint of the soft assignments (IIC); the
uniform-constrained targets A_U^m by balanced Sinkhorn-Knopp (3 rounds, eps 0.05, as SwAV), detached; the DDC head
and loss as the reference code on E; final partition the argmax of the DDC head; alpha = 0.1 (not printed; set
before any run so that the diversity terms do not swamp the DDC loss: in the first epoch of the convergence runs
their sum is 8 to 15 times it); beta = 1, chosen without labels by seed stability in the readings study (ddmc/07; it
was 0.1 before); 100 epochs, batch 256, Adam 1e-3 halved at mid-training; inputs by the label-free data rule
(bag-of-words views: per-row l2, otherwise per-feature min-max; it was min-max everywhere before); the reported run
is the last epoch."""

FDL_TERMS = ("compression", "redundancy", "contrast")  # L1 = compression + redundancy, L2 = contrast
CDL_TERMS = ("balance", "agreement")  # L4 = balance, -L3 = agreement
COMBINE = ("enhance", "fuse")


class DDMCNet(nn.Module):
    """Per-view encoders; per view a linear projection (for the contrast) and a linear-softmax cluster head (A^m); the
    DDC head on the combined representation."""

    def __init__(self, dims: Sequence[int], n_clusters: int, encoder_widths: Sequence[int], projection_dim: int,
                 dominant: int, combine: str, gamma: float):
        super().__init__()
        d = int(encoder_widths[-1])
        self.dominant, self.combine, self.gamma = dominant, combine, gamma
        self.encoders = ViewEncoders(dims, encoder_widths, batchnorm=True)
        self.projectors = nn.ModuleList(nn.Linear(d, projection_dim) for _ in dims)
        self.cluster_heads = nn.ModuleList(nn.Sequential(mlp(d, [n_clusters], last_activation=False),
                                                         nn.Softmax(dim=1)) for _ in dims)
        self.head = DDCHead(d, n_clusters)

    def combined(self, hs: Sequence[torch.Tensor]) -> torch.Tensor:
        """E: the dominant representation plus gamma times the mean of the others ("enhance"), or the mean of every
        view's representation ("fuse")."""
        if self.combine == "fuse":
            return torch.stack(list(hs)).mean(dim=0)
        others = [h for m, h in enumerate(hs) if m != self.dominant]
        if not others:
            return hs[self.dominant]
        return hs[self.dominant] + self.gamma * torch.stack(others).mean(dim=0)

    def forward(self, views: Sequence[torch.Tensor]) -> dict[str, Any]:
        hs = self.encoders(views)
        Q, hidden = self.head(self.combined(hs))
        return {"hs": hs, "ps": [proj(h) for proj, h in zip(self.projectors, hs)],
                "As": [head(h) for head, h in zip(self.cluster_heads, hs)], "Q": Q, "hidden": hidden}


@register("ddmc")
class DDMC(DeepClusterer):
    """DDMC (module docstring and INTERPRETATION). Named loss terms (raw value, weight), each switchable off by
    `disable`:
      ddc_1, ddc_2, ddc_3 = the DDC loss on E                                        weight 1
      compression = I(X^dm; D^dm) + sum_{m != dm} I(X^m; Z^m)  (Gaussian channel)   weight alpha  } L1
      redundancy  = sum_{m != dm} max(0, I(Z^m; D^dm))         (InfoNCE estimate)   weight alpha  }
      contrast    = sum_{m != dm} InfoNCE(p(D^dm), p(Z^m)), both directions averaged weight alpha    L2
      balance     = sum_m CE(A^m, Sinkhorn(A^m))                                   weight beta      L4
      agreement   = -sum_{m != dm} I(A^m; A^dm)                (exact, IIC)         weight beta      -L3
    The slides' ablation rows are ABLATIONS; "fuse all modalities" is combine="fuse". Parameters: dominant (a prior
    view index; None = chosen by silhouette at fit), alpha, beta, combine, gamma (weight of the other views' mean in
    E), tau, encoder_widths, projection_dim, sinkhorn_iters, sinkhorn_eps; trainer parameters via **kwargs. After
    fit: `dominant_` (a DominantView: the view, the rule, the per-view silhouettes, the views the rule left out as
    unable to carry a clustering, each warned about: mmc_core.dominance).
    """

    reported_as: ClassVar[str] = "DDMC"
    default_scaling: ClassVar[str | None] = BY_FEATURE_TYPE  # l2 rows for bags of words, else min-max (label-free)
    trainer_defaults: ClassVar[dict[str, Any]] = {"batch_size": 256}
    trains_seeds_together: ClassVar[bool] = True
    cluster_loss: ClassVar[tuple[str, ...]] = ("ddc_1", "ddc_2", "ddc_3")
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "dominant": [NoneValue(), Interval(int, 0)], "alpha": Interval(float, 0), "beta": Interval(float, 0),
        "combine": Options(COMBINE), "gamma": Interval(float, 0), "tau": Interval(float, 0, closed="neither"),
        "encoder_widths": Widths(),
        "projection_dim": Interval(int, 1), "sinkhorn_iters": Interval(int, 1),
        "sinkhorn_eps": Interval(float, 0, closed="neither"),
    }
    ABLATIONS: ClassVar[dict[str, dict[str, Any]]] = {  # the slides' ablation rows (as data/reported names them)
        "DDC": {"disable": list(FDL_TERMS + CDL_TERMS)},
        "DDC+FDL": {"disable": list(CDL_TERMS)},
        "DDC+CDL": {"disable": list(FDL_TERMS)},
        "full": {},
    }

    def __init__(self, n_clusters: int, random_state: int | None = 0, dominant: int | None = None,
                 alpha: float = 0.1, beta: float = 1.0, combine: str = "enhance", gamma: float = 0.5, tau: float = 0.5,
                 encoder_widths: Sequence[int] = (512, 512, 256), projection_dim: int = 128, sinkhorn_iters: int = 3,
                 sinkhorn_eps: float = 0.05, **kwargs):
        super().__init__(n_clusters, random_state, **kwargs)
        self.dominant, self.alpha, self.beta, self.combine, self.gamma = dominant, alpha, beta, combine, gamma
        self.tau = tau
        self.encoder_widths, self.projection_dim = encoder_widths, projection_dim
        self.sinkhorn_iters, self.sinkhorn_eps = sinkhorn_iters, sinkhorn_eps

    def prepare(self, views: list[np.ndarray]) -> None:
        self.dominant_: DominantView = choose_dominant(views, self.n_clusters, self.seed_, self.dominant)

    def build(self, dims: list[int]) -> nn.Module:
        return DDMCNet(dims, self.n_clusters, self.encoder_widths, self.projection_dim, self.dominant_.view,
                       self.combine, self.gamma)

    def loss_weights(self) -> dict[str, float]:
        return {"ddc_1": 1.0, "ddc_2": 1.0, "ddc_3": 1.0, "compression": self.alpha, "redundancy": self.alpha,
                "contrast": self.alpha, "balance": self.beta, "agreement": self.beta}

    def loss_terms(self, model: nn.Module, out: dict[str, Any], batch: Batch, ctx: Ctx) -> dict[str, torch.Tensor]:
        hs, ps, As, dm = out["hs"], out["ps"], out["As"], self.dominant_.view
        others = [m for m in range(len(hs)) if m != dm]
        zero = out["Q"].new_zeros(())
        return {
            **ddc_terms(out["Q"], out["hidden"]),
            "compression": sum((gaussian_channel_information(h) for h in hs), zero),
            "redundancy": sum((infonce_mutual_information(hs[m], hs[dm], self.tau).clamp_min(0.0) for m in others),
                              zero),
            "contrast": sum((info_nce(ps[dm], ps[m], self.tau) for m in others), zero),
            "balance": sum((soft_target_cross_entropy(torch.log(A.clamp_min(1e-12)),
                                                      sinkhorn_targets(A, self.sinkhorn_iters, self.sinkhorn_eps))
                            for A in As), zero),
            "agreement": -sum((iic_mutual_information(As[m], As[dm]) for m in others), zero),
        }

    def soft_assign(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        return model(views)["Q"]

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """E, the (enhanced or fused) representation the DDC head clusters."""
        return model.combined(model.encoders(views))
