"""MFLVC: Multi-level Feature Learning for Contrastive Multi-view Clustering (Xu et al., CVPR'22) — the IDMC
tables' "MFLVC" baseline, on the shared trainer and blocks.

Per-view autoencoders give low-level features Z^v; a shared linear map + L2 normalisation gives high-level
features H^v, a shared linear map + softmax gives cluster assignments Q^v (mmc_core.nn.MultiLevelAutoencoder).
Three training stages (mmc_core.deep.multilevel): reconstruction; reconstruction + feature-level and cluster-level
contrast between views; fine-tuning of Q^v on K-means pseudo labels of H^v. Labels = argmax of the views' mean
assignment (the paper's).
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import torch
from torch import nn

from ..deep import Batch, Stage
from ..deep.engine import Ctx
from ..deep.multilevel import MultiLevelClusterer
from ..losses import cluster_balance, nt_xent, reconstruction_mse
from ..nn import MultiLevelAutoencoder
from ..params import Interval
from . import register


@register("mflvc")
class MFLVC(MultiLevelClusterer):
    """MFLVC in its three published stages, with named loss terms (each of weight 1):

    - "pretrain" and "finetune": recon, finetune_ce (mmc_core.deep.multilevel);
    - "contrastive": recon + feature_contrast + cluster_contrast + entropy, where
        feature_contrast = sum_{m<n} NT-Xent(H^m, H^n; temperature_f) (both directions averaged: the paper's
                           1/2 sum_m sum_{n!=m} l_fc^(mn)),
        cluster_contrast = sum_{m<n} NT-Xent of the cluster columns of Q^m, Q^n (temperature_l), likewise,
        entropy          = sum_v (log K - H(s^v)), s^v = batch mean of Q^v: the paper's sum_j s_j log s_j per view
                           (once per view, as the paper; the published code counts each view once per pair), plus
                           the constant log K that makes it >= 0.

    Defaults of the published code: stages of 200, 50 and 50 epochs, feature_dim 512, high_feature_dim 128,
    temperature_f 0.5, temperature_l 1.0, K-means with 100 restarts (kmeans_n_init); the reported result is the
    last epoch's (no best-ACC-over-epochs selection).
    """

    reported_as: ClassVar[str] = "MFLVC"
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "temperature_f": Interval(float, 0, closed="neither"), "temperature_l": Interval(float, 0, closed="neither"),
    }

    def __init__(self, n_clusters: int, random_state: int | None = 0, pretrain_epochs: int = 200,
                 con_epochs: int = 50, tune_epochs: int = 50, epochs: int | None = None,
                 encoder_widths: Sequence[int] = (500, 500, 2000), feature_dim: int = 512, high_feature_dim: int = 128,
                 temperature_f: float = 0.5, temperature_l: float = 1.0, kmeans_n_init: int = 100, **kwargs):
        super().__init__(n_clusters, random_state, pretrain_epochs, con_epochs, tune_epochs, epochs, encoder_widths,
                         feature_dim, high_feature_dim, kmeans_n_init, **kwargs)
        self.temperature_f, self.temperature_l = temperature_f, temperature_l

    def build(self, dims: list[int]) -> nn.Module:
        if len(dims) < 2:
            raise ValueError("MFLVC contrasts views: it needs at least two views.")
        return MultiLevelAutoencoder(dims, self.n_clusters, self.encoder_widths, self.feature_dim,
                                     self.high_feature_dim)

    def middle_stage(self, epochs: int) -> Stage:
        weights = {"recon": 1.0, "feature_contrast": 1.0, "cluster_contrast": 1.0, "entropy": 1.0}
        return Stage("contrastive", epochs, self.contrastive_terms, weights)

    def contrastive_terms(self, model: nn.Module, out: dict, batch: Batch, ctx: Ctx) -> dict[str, torch.Tensor]:
        hs, qs = out["hs"], out["qs"]
        pairs = [(m, n) for m in range(len(hs)) for n in range(m + 1, len(hs))]
        return {
            "recon": reconstruction_mse(batch, out["recons"]),
            "feature_contrast": sum(nt_xent([hs[m], hs[n]], self.temperature_f) for m, n in pairs),
            "cluster_contrast": sum(nt_xent([qs[m].t(), qs[n].t()], self.temperature_l) for m, n in pairs),
            "entropy": cluster_balance(qs),
        }

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The views' high-level features side by side (what the fine-tuning stage clusters with K-means)."""
        return torch.cat(model.high_features(views), dim=1)
