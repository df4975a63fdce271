"""SSLNMVC: Self-supervised Semantic Soft Label Learning Network for Deep Multi-view Clustering (IEEE TMM 2025) —
the DDMC table's "SSLNMVC" baseline, on the shared trainer and blocks.

MFLVC's multi-level network (per-view autoencoders giving Z^v; shared heads giving high-level features
H^v = normalize(Linear(Z^v)) and view semantic labels Q^v = softmax(Linear(Z^v))) plus a consensus high-level feature
learning module: a residual MLP on the concatenated [H^1 ... H^V] gives the consensus feature C, and the label head,
applied to C lifted back to the low-level width, gives the view-consensus semantic label P. Training: MFLVC's
feature- and cluster-level contrast between views, and a self-supervised semantic calibration that aligns each
view's label Q^v with the consensus label P (a KL divergence). Labels: argmax P.

Source: the paper text could not be found here; the method follows the authors' released code,
https://github.com/shayeyty/SSLNMVC (train.py, network.py, loss.py, metric.py, commit 74e4e89, whose README names it
the official code of the paper), every choice below stated against it.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, ClassVar, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..deep import Batch, Stage
from ..deep.engine import Ctx
from ..deep.multilevel import PretrainedContrastiveClusterer
from ..losses import cluster_balance, nt_xent, reconstruction_mse
from ..nn import ViewDecoders, ViewEncoders
from ..params import Boolean, Interval
from . import register


def without_second_activation(net: nn.Sequential) -> nn.Sequential:
    """The MLP with the activation after its second linear layer removed (when it has one): the released code's
    encoders and decoders, whose second and third linear layers follow each other directly."""
    layers = list(net)
    linear_seen = 0
    for i, layer in enumerate(layers):
        linear_seen += isinstance(layer, nn.Linear)
        if linear_seen == 2 and isinstance(layer, nn.Linear):
            if i + 1 < len(layers) and not isinstance(layers[i + 1], nn.Linear):
                del layers[i + 1]
            break
    return nn.Sequential(*layers)


class ConsensusModule(nn.Module):
    """The released code's consensus feature of the views' high-level features (width d = high_feature_dim):
    r = ReLU(BN(Linear([H^1 ... H^V]))) (width d); C = r + f(r) with f = Linear(d, d/2, no bias) -> BN -> ReLU ->
    `layers` x [Linear(d/2, d/2, no bias) -> ReLU] -> Linear(d/2, d, no bias)."""

    def __init__(self, n_views: int, width: int, layers: int):
        super().__init__()
        half = width // 2
        self.map = nn.Sequential(nn.Linear(n_views * width, width), nn.BatchNorm1d(width), nn.ReLU())
        blocks: list[nn.Module] = [nn.Linear(width, half, bias=False), nn.BatchNorm1d(half), nn.ReLU()]
        for _ in range(layers):
            blocks += [nn.Linear(half, half, bias=False), nn.ReLU()]
        self.residual = nn.Sequential(*blocks, nn.Linear(half, width, bias=False))

    def forward(self, hs: Sequence[torch.Tensor]) -> torch.Tensor:
        r = self.map(torch.cat(list(hs), dim=1))
        return r + self.residual(r)


class SSLNMVCNet(nn.Module):
    """Encoders d_v-widths-feature_dim and mirrored decoders (ReLU between layers, except after the second linear
    layer unless `second_activation`), shared heads H^v = normalize(Linear(Z^v)) and Q^v = softmax(Linear(Z^v)),
    the consensus module C = ConsensusModule(H), and P = the label head on Linear(C) (high -> feature_dim)."""

    def __init__(self, dims: Sequence[int], n_clusters: int, encoder_widths: Sequence[int], feature_dim: int,
                 high_feature_dim: int, consensus_layers: int, second_activation: bool):
        super().__init__()
        widths = [*encoder_widths, feature_dim]
        self.encoders = ViewEncoders(dims, widths)
        self.decoders = ViewDecoders(dims, widths)
        if not second_activation:
            for stack in (self.encoders, self.decoders):
                for i, net in enumerate(stack):
                    stack[i] = without_second_activation(net)
        self.feature_head = nn.Linear(feature_dim, high_feature_dim)
        self.label_head = nn.Linear(feature_dim, n_clusters)
        self.consensus = ConsensusModule(len(dims), high_feature_dim, consensus_layers)
        self.lift = nn.Linear(high_feature_dim, feature_dim)

    def forward(self, views: Sequence[torch.Tensor]) -> dict[str, Any]:
        zs = self.encoders(views)
        hs = [F.normalize(self.feature_head(z), dim=1) for z in zs]
        C = self.consensus(hs)
        return {"recons": self.decoders(zs), "hs": hs, "qs": [torch.softmax(self.label_head(z), dim=1) for z in zs],
                "C": C, "P": torch.softmax(self.label_head(self.lift(C)), dim=1)}


def label_alignment(qs: Sequence[torch.Tensor], P: torch.Tensor, double_softmax: bool) -> torch.Tensor:
    """sum_v sum_i KL(q_i^v || p_i), summed (not averaged) over the batch as the released code's
    F.kl_div(..., reduction="sum"). double_softmax (the code's): the divergence between softmax(q_i^v) and
    softmax(p_i), a second softmax over the already-softmaxed labels."""
    log_p = torch.log_softmax(P, dim=1) if double_softmax else torch.log(P.clamp_min(torch.finfo(P.dtype).tiny))
    total = P.new_zeros(())
    for Q in qs:
        target = torch.softmax(Q, dim=1) if double_softmax else Q
        total = total + (torch.special.xlogy(target, target) - target * log_p).sum()
    return total


@register("sslnmvc")
class SSLNMVC(PretrainedContrastiveClusterer):
    """SSLNMVC with its released code's defaults. Stages and loss terms:

    - "pretrain": recon = sum_v mean squared reconstruction error (weight 1);
    - "contrastive": recon (weight 1) and, with weight alpha each,
        feature_contrast = sum_{v<w} NT-Xent(H^v, H^w; temperature_f) (both directions averaged, MFLVC's),
        cluster_contrast = sum_{v<w} NT-Xent of the cluster columns of Q^v, Q^w (temperature_l),
        entropy          = sum_{v<w} [(log K - H(s^v)) + (log K - H(s^w))], s^v = batch mean of Q^v (as the code,
                           each view once per pair it is in; MFLVC's term),
      and with weight beta
        label_alignment  = sum_v sum_i KL(q_i^v || p_i) over the batch (`label_alignment`; the calibration of the
                           view-specific labels Q^v with the view-consensus labels P; gradients reach both).

    Defaults of the released code: pre-training 200 epochs, 50 contrastive epochs (its argument default; the code
    sets 10 to 150 per data set), Adam lr 3e-4, batch 256, encoders d_v-500-500-2000-1200 (feature_dim 1200),
    high_feature_dim 200 (also the consensus module's width, as the code requires), one inner consensus layer,
    temperature_f 0.5, temperature_l 1.0, alpha 1, beta 0.05. `epochs`, if given, is split between the two stages
    in proportion.

    Readings and differences from the released code:
    - Kept as released (switchable): the encoders and decoders have no ReLU after their second linear layer
      (second_activation=False), and the alignment compares softmax(Q^v) with softmax(P), a second softmax over the
      already-softmaxed labels (double_softmax=True), which flattens both and weakens the term; the paper text,
      which might say otherwise, could not be read. The KL is summed over the batch, so its scale grows with the
      batch size.
    - Labels: argmax of the consensus label P, the code's evaluation, after the last epoch (the code also keeps the
      last epoch). Batch normalisation in the consensus module uses batch statistics in training and running
      statistics at inference, as the code.
    - The cluster-level contrast's cosine uses F.normalize's eps 1e-12 (mmc_core.losses.nt_xent) where the code's
      torch CosineSimilarity uses 1e-8: a difference only for cluster columns of norm below 1e-8.
    - The code uses one Adam for both stages; the trainer starts each stage with a fresh one. The code drops a last
      incomplete batch (drop_last=True); the trainer keeps it. The code fixes a seed per data set; here the fit's
      random_state.
    `embed` gives the consensus feature C.
    """

    reported_as: ClassVar[str] = "SSLNMVC"
    trains_seeds_together: ClassVar[bool] = True
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "high_feature_dim": Interval(int, 2), "consensus_layers": Interval(int, 0),
        "temperature_f": Interval(float, 0, closed="neither"), "temperature_l": Interval(float, 0, closed="neither"),
        "alpha": Interval(float, 0), "beta": Interval(float, 0), "double_softmax": Boolean(),
        "second_activation": Boolean(),
    }

    def __init__(self, n_clusters: int, random_state: int | None = 0, pretrain_epochs: int = 200,
                 con_epochs: int = 50, epochs: int | None = None, encoder_widths: Sequence[int] = (500, 500, 2000),
                 feature_dim: int = 1200, high_feature_dim: int = 200, consensus_layers: int = 1,
                 temperature_f: float = 0.5, temperature_l: float = 1.0, alpha: float = 1.0, beta: float = 0.05,
                 double_softmax: bool = True, second_activation: bool = False, **kwargs):
        super().__init__(n_clusters, random_state, pretrain_epochs, con_epochs, epochs, encoder_widths, feature_dim,
                         high_feature_dim, **kwargs)
        self.consensus_layers = consensus_layers
        self.temperature_f, self.temperature_l, self.alpha, self.beta = temperature_f, temperature_l, alpha, beta
        self.double_softmax, self.second_activation = double_softmax, second_activation

    def build(self, dims: list[int]) -> nn.Module:
        if len(dims) < 2:
            raise ValueError("SSLNMVC contrasts views: it needs at least two views.")
        return SSLNMVCNet(dims, self.n_clusters, self.encoder_widths, self.feature_dim, self.high_feature_dim,
                          self.consensus_layers, self.second_activation)

    def contrastive_stages(self, epochs: int) -> list[Stage]:
        weights = {"feature_contrast": self.alpha, "cluster_contrast": self.alpha, "entropy": self.alpha,
                   "label_alignment": self.beta, "recon": 1.0}
        return [Stage("contrastive", epochs, self.contrastive_terms, weights)]

    def contrastive_terms(self, model: nn.Module, out: dict, batch: Batch, ctx: Ctx) -> dict[str, torch.Tensor]:
        hs, qs = out["hs"], out["qs"]
        pairs = list(combinations(range(len(hs)), 2))
        return {
            "feature_contrast": sum(nt_xent([hs[v], hs[w]], self.temperature_f) for v, w in pairs),
            "cluster_contrast": sum(nt_xent([qs[v].t(), qs[w].t()], self.temperature_l) for v, w in pairs),
            "entropy": sum(cluster_balance([qs[v], qs[w]]) for v, w in pairs),
            "label_alignment": label_alignment(qs, out["P"], self.double_softmax),
            "recon": reconstruction_mse(batch, out["recons"]),
        }

    def soft_assign(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The view-consensus semantic label P."""
        return model(views)["P"]

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The consensus feature C."""
        return model(views)["C"]
