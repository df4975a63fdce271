"""SCMVC: Self-weighted contrastive fusion for deep multi-view clustering (Wu et al., IEEE TMM 2024) — the DDMC
table's "SCMVC" baseline, on the shared trainer and blocks.

A hierarchical network separates reconstruction from consistency: per-view autoencoders give low-level features
Z^v (trained by reconstruction); a head shared by the views gives view-consensus features R^v = normalize(Linear(Z^v));
an MLP on the concatenated [Z^1 ... Z^V] gives the global feature H. The contrastive fusion aligns each R^v with H
(InfoNCE), weighted per view by a normalised exp(-MMD(R^v, H)): views whose consensus features sit far from the
global feature weigh less. Labels: K-means on H.

Source: only the abstract (IEEE TMM, doi 10.1109/TMM.2024.3387298) and the README's description could be read here;
the method follows the authors' released code, https://github.com/SongwuJob/SCMVC (train.py, network.py, loss.py,
metric.py, commit 26963ad).
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..deep import Batch, KMeansReadout, Stage, student_t
from ..deep.engine import Ctx
from ..deep.multilevel import PretrainedContrastiveClusterer
from ..kmeans import run_kmeans
from ..losses import info_nce, reconstruction_mse
from ..nn import ViewDecoders, ViewEncoders, mlp
from ..params import Interval, Widths
from . import register


class SCMVCNet(nn.Module):
    """Encoders d_v-widths-feature_dim (ReLU between layers, linear output Z^v), mirrored decoders, the shared
    consensus head R^v = normalize(Linear(Z^v)) and the fusion MLP H = normalize(MLP([Z^1 ... Z^V])) (ReLU between
    its layers, linear output)."""

    def __init__(self, dims: Sequence[int], encoder_widths: Sequence[int], feature_dim: int, high_feature_dim: int,
                 fusion_widths: Sequence[int]):
        super().__init__()
        widths = [*encoder_widths, feature_dim]
        self.encoders = ViewEncoders(dims, widths)
        self.decoders = ViewDecoders(dims, widths)
        self.consensus = nn.Linear(feature_dim, high_feature_dim)
        self.fusion = mlp(len(dims) * feature_dim, [*fusion_widths, high_feature_dim], last_activation=False)

    def forward(self, views: Sequence[torch.Tensor]) -> dict[str, Any]:
        zs = self.encoders(views)
        return {"recons": self.decoders(zs), "zs": zs, "rs": [F.normalize(self.consensus(z), dim=1) for z in zs],
                "H": F.normalize(self.fusion(torch.cat(zs, dim=1)), dim=1)}

    def global_features(self, views: Sequence[torch.Tensor]) -> torch.Tensor:
        return F.normalize(self.fusion(torch.cat(self.encoders(views), dim=1)), dim=1)


def mmd_view_weights(rs: Sequence[torch.Tensor], H: torch.Tensor) -> torch.Tensor:
    """w (V,): w_v proportional to exp(-MMD_v), normalised to sum 1, with MMD_v the linear-kernel maximum mean
    discrepancy between the rows of R^v and of H, (sum R R^T + sum H H^T - 2 sum R H^T) / n^2 = ||mean R^v -
    mean H||^2 (the released code's compute_view_value, written in the cheaper form)."""
    mmd = torch.stack([(r.mean(dim=0) - H.mean(dim=0)).pow(2).sum() for r in rs])
    return torch.softmax(-mmd, dim=0)


@register("scmvc")
class SCMVC(KMeansReadout, PretrainedContrastiveClusterer):
    """SCMVC with its released code's defaults. Stages and loss terms:

    - "pretrain": recon = sum_v mean squared reconstruction error (weight 1);
    - "contrastive": recon (weight 1) and
        contrast = sum_v w_v * InfoNCE(H -> R^v; temperature) (weight 1), one direction: anchor H_i, positive
                   R^v_i, the other samples' R^v_j in the denominator without the positive (the code's
                   ContrastiveLoss); w = mmd_view_weights(R, H) of the batch, computed without gradients.
    After fit, `view_weights_` holds w computed on every training sample.

    Defaults of the released code: pre-training 200 epochs, 50 contrastive epochs (the code sets con_epochs per
    data set between 10 and 100), Adam lr 3e-4, batch 256, encoders d_v-500-500-2000-64 (feature_dim 64),
    high_feature_dim 20, fusion MLP V*64-256-20, temperature 1, K-means with 100 restarts for the labels. `epochs`,
    if given, is split between the two stages in proportion.

    Readings and differences from the released code:
    - Final labels: K-means (kmeans_n_init restarts, the fit's seed) on H after the last epoch. The code evaluates
      K-means on H after every contrastive epoch and reports the epoch of best ACC against the true labels (a
      selection by labels, not copied here); `soft_assign` is the Student-t kernel to the K-means centres
      (argmax = the K-means label; centres in `cluster_centers_`).
    - The code uses one Adam for both stages; the trainer starts each stage with a fresh one. The code drops a
      last incomplete batch (drop_last=True); the trainer keeps it. The code fixes a seed per data set; here the
      fit's random_state.
    """

    reported_as: ClassVar[str] = "SCMVC"
    trains_seeds_together: ClassVar[bool] = True
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "fusion_widths": Widths(allow_empty=True), "temperature": Interval(float, 0, closed="neither"),
        "kmeans_n_init": Interval(int, 1),
    }

    def __init__(self, n_clusters: int, random_state: int | None = 0, pretrain_epochs: int = 200,
                 con_epochs: int = 50, epochs: int | None = None, encoder_widths: Sequence[int] = (500, 500, 2000),
                 feature_dim: int = 64, high_feature_dim: int = 20, fusion_widths: Sequence[int] = (256,),
                 temperature: float = 1.0, kmeans_n_init: int = 100, **kwargs):
        super().__init__(n_clusters, random_state, pretrain_epochs, con_epochs, epochs, encoder_widths, feature_dim,
                         high_feature_dim, **kwargs)
        self.fusion_widths, self.temperature, self.kmeans_n_init = fusion_widths, temperature, kmeans_n_init

    def build(self, dims: list[int]) -> nn.Module:
        return SCMVCNet(dims, self.encoder_widths, self.feature_dim, self.high_feature_dim, self.fusion_widths)

    def contrastive_stages(self, epochs: int) -> list[Stage]:
        return [Stage("contrastive", epochs, self.contrastive_terms, {"contrast": 1.0, "recon": 1.0})]

    def contrastive_terms(self, model: nn.Module, out: dict, batch: Batch, ctx: Ctx) -> dict[str, torch.Tensor]:
        rs, H = out["rs"], out["H"]
        w = mmd_view_weights([r.detach() for r in rs], H.detach())
        contrast = sum(w[v] * info_nce(H, r, self.temperature, positive_in_denominator=False, symmetric=False)
                       for v, r in enumerate(rs))
        return {"contrast": contrast, "recon": reconstruction_mse(batch, out["recons"])}

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The global feature H (what the final K-means clusters)."""
        return model.global_features(views)

    def training_labels(self, data: list[torch.Tensor]) -> np.ndarray:
        """K-means (kmeans_n_init restarts, the fit's seed) on H of the training data; its centres then serve
        soft_assign and predict."""
        emb = self.infer(data, self.embed)
        km = run_kmeans(emb.cpu().numpy(), self.n_clusters, self.seed_, n_init=self.kmeans_n_init)
        self.cluster_centers_ = torch.as_tensor(km.cluster_centers_, dtype=emb.dtype, device=emb.device)
        return student_t(emb, self.cluster_centers_).argmax(dim=1).cpu().numpy()

    def after_fit(self, views) -> None:
        def features(model: nn.Module, chunk: list[torch.Tensor]) -> list[torch.Tensor]:
            out = model(chunk)
            return [*out["rs"], out["H"]]

        rs_and_h = self.infer(self._tensors(views), features)
        self.view_weights_ = mmd_view_weights(rs_and_h[:-1], rs_and_h[-1]).cpu().numpy()
