"""MFLVC: Multi-level Feature Learning for Contrastive Multi-view Clustering (Xu et al., CVPR'22) — the IDMC
tables' "MFLVC" baseline, on the shared trainer and blocks.

Per-view autoencoders give low-level features Z^v; a shared linear map + L2 normalisation gives high-level
features H^v, a shared linear map + softmax gives cluster assignments Q^v. Three training stages: reconstruction;
reconstruction + feature-level and cluster-level contrast between views; fine-tuning of Q^v on K-means pseudo
labels of H^v. Labels = argmax of the views' mean assignment (the paper's).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from torch import nn

from ..losses import nt_xent
from ..nn import ViewDecoders, ViewEncoders
from ..training import DeepClusterer, Stage
from . import register

CHUNK = 4096  # samples per forward pass when a whole data set goes through the network


class MFLVCNet(nn.Module):
    """Encoders d_v-500-500-2000-feature_dim (ReLU between layers, linear output Z^v), mirrored decoders, and the
    two heads shared by every view: H^v = normalize(Linear(Z^v)), Q^v = softmax(Linear(Z^v))."""

    def __init__(self, dims: Sequence[int], n_clusters: int, encoder_widths: Sequence[int], feature_dim: int,
                 high_feature_dim: int):
        super().__init__()
        widths = [*encoder_widths, feature_dim]
        self.encoders = ViewEncoders(dims, widths)
        self.decoders = ViewDecoders(dims, widths)
        self.feature_head = nn.Linear(feature_dim, high_feature_dim)
        self.label_head = nn.Linear(feature_dim, n_clusters)

    def _high(self, z: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.feature_head(z), dim=1)

    def _assign(self, z: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.label_head(z), dim=1)

    def high_features(self, views: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return [self._high(z) for z in self.encoders(views)]

    def assignments(self, views: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return [self._assign(z) for z in self.encoders(views)]

    def forward(self, views: Sequence[torch.Tensor]) -> dict[str, list[torch.Tensor]]:
        zs = self.encoders(views)
        return {"recons": self.decoders(zs), "hs": [self._high(z) for z in zs], "qs": [self._assign(z) for z in zs]}


def in_chunks(fn: Callable[[list[torch.Tensor]], list[torch.Tensor]], data: list[torch.Tensor]) -> list[torch.Tensor]:
    """fn applied to the whole data set CHUNK samples at a time; per-view outputs concatenated."""
    parts = [fn([X[i:i + CHUNK] for X in data]) for i in range(0, len(data[0]), CHUNK)]
    return [torch.cat(per_view) for per_view in zip(*parts)]


def split_epochs(total: int, parts: Sequence[int]) -> tuple[int, ...]:
    """`total` epochs shared among stages in proportion to `parts` (rounded); a stage of nonzero length keeps at
    least one epoch, a stage of length 0 stays 0."""
    whole = sum(parts)
    return tuple(0 if p == 0 else max(1, round(total * p / whole)) for p in parts)


@dataclass
class PseudoLabels:
    """Per-view K-means pseudo labels of the high-level features H^v at the end of the contrastive stage
    (features min-max scaled per view before K-means, as the published code does).

    The trainer hands a loss function the batch, not its sample indices, so a batch's pseudo labels are
    recomputed: H^v from a frozen copy of the network, scaled with the whole-data statistics, nearest K-means
    centre. They are the same labels for every batch and epoch, as in the paper. `mapping` (per view: pseudo
    label -> label-head cluster) is the Hungarian matching to argmax Q^v, refreshed at every fine-tuning epoch.
    """

    net: MFLVCNet
    lo: list[torch.Tensor]
    span: list[torch.Tensor]
    centers: list[torch.Tensor]
    mapping: list[torch.Tensor]

    @classmethod
    def fit(cls, model: MFLVCNet, data: list[torch.Tensor], n_clusters: int, n_init: int,
            random_state: int | None) -> "PseudoLabels":
        net = copy.deepcopy(model).eval().requires_grad_(False)
        hs = in_chunks(net.high_features, data)
        lo = [H.min(dim=0).values for H in hs]
        span = [H.max(dim=0).values - m for H, m in zip(hs, lo)]
        centers = []
        for H, m, s in zip(hs, lo, span):
            scaled = _scale(H, m, s).cpu().numpy()
            km = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=random_state).fit(scaled)
            centers.append(torch.as_tensor(km.cluster_centers_, dtype=H.dtype, device=H.device))
        identity = [torch.arange(n_clusters, device=data[0].device) for _ in data]
        return cls(net, lo, span, centers, identity)

    def labels(self, views: list[torch.Tensor]) -> list[torch.Tensor]:
        """Pseudo labels (K-means cluster indices) of these samples, per view."""
        hs = self.net.high_features(views)
        return [torch.cdist(_scale(H, m, s), c).argmin(dim=1)
                for H, m, s, c in zip(hs, self.lo, self.span, self.centers)]

    def match(self, model: MFLVCNet, data: list[torch.Tensor]) -> None:
        """Hungarian matching of each view's pseudo labels to the argmax of its current assignments Q^v."""
        k = self.centers[0].shape[0]
        pseudo = in_chunks(self.labels, data)
        preds = [Q.argmax(dim=1) for Q in in_chunks(model.assignments, data)]
        for v, (p, q) in enumerate(zip(pseudo, preds)):
            counts = torch.bincount(p * k + q, minlength=k * k).view(k, k).cpu().numpy()
            rows, cols = linear_sum_assignment(-counts)
            mapping = np.empty(k, dtype=np.int64)
            mapping[rows] = cols
            self.mapping[v] = torch.as_tensor(mapping, device=p.device)

    def targets(self, views: list[torch.Tensor]) -> list[torch.Tensor]:
        """Fine-tuning targets of these samples: matched pseudo labels, per view."""
        return [m[p] for m, p in zip(self.mapping, self.labels(views))]


def _scale(H: torch.Tensor, lo: torch.Tensor, span: torch.Tensor) -> torch.Tensor:
    """Min-max scaling with given statistics; a constant feature becomes 0."""
    return torch.where(span > 0, (H - lo) / span.clamp_min(1e-12), torch.zeros_like(H))


@register("mflvc")
class MFLVC(DeepClusterer):
    """MFLVC in its three published stages (`stages()`), with named loss terms:

    - "pretrain":    recon = sum_v mean squared error of x^v's reconstruction (per element, as the published runs;
                     the paper's equation writes the per-sample squared norm);
    - "contrastive": recon + feature_contrast + cluster_contrast + entropy, where
        feature_contrast = sum_{m<n} NT-Xent(H^m, H^n; temperature_f) (both directions averaged: the paper's
                           1/2 sum_m sum_{n!=m} l_fc^(mn)),
        cluster_contrast = sum_{m<n} NT-Xent of the cluster columns of Q^m, Q^n (temperature_l), likewise,
        entropy          = sum_v (log K - H(s^v)), s^v = batch mean of Q^v: the paper's sum_j s_j log s_j per view
                           (once per view, as the paper; the published code counts each view once per pair), plus
                           the constant log K that makes it >= 0;
    - "finetune":    finetune_ce = sum_v cross-entropy of Q^v against the view's K-means pseudo labels of H^v
                     (computed once, at the start of the stage), matched to argmax Q^v by the Hungarian algorithm
                     at every epoch. The paper's -sum P log Q; the published code applies cross_entropy to the
                     already-softmaxed Q (a double softmax), which we do not copy.

    Stage lengths: pretrain_epochs, con_epochs, tune_epochs (paper/code defaults 200, 50, 50). If `epochs` is
    given, it replaces them: `epochs` split in proportion to the three (rounded; every nonzero stage keeps at
    least one epoch), so a run profile can shorten MFLVC with one number. Defaults of the published code: Adam lr
    3e-4, batch 256, constant learning rate (lr_gamma=1.0), feature_dim 512, high_feature_dim 128,
    temperature_f 0.5, temperature_l 1.0, K-means with 100 restarts (kmeans_n_init). Differences from that code:
    the trainer gives every stage a fresh Adam state, keeps a last smaller batch instead of dropping it, and
    fine-tunes with mini-batches (the code uses one full-data batch per epoch). The reported result is the last
    epoch's (no best-ACC-over-epochs selection).
    """

    reported_as: ClassVar[str] = "MFLVC"

    def __init__(
        self,
        n_clusters: int,
        random_state: int | None = 0,
        pretrain_epochs: int = 200,
        con_epochs: int = 50,
        tune_epochs: int = 50,
        epochs: int | None = None,
        encoder_widths: Sequence[int] = (500, 500, 2000),
        feature_dim: int = 512,
        high_feature_dim: int = 128,
        temperature_f: float = 0.5,
        temperature_l: float = 1.0,
        kmeans_n_init: int = 100,
        **kwargs,
    ):
        stage_lengths = (pretrain_epochs, con_epochs, tune_epochs)
        if any(int(e) != e or e < 0 for e in stage_lengths) or sum(stage_lengths) < 1:
            raise ValueError("pretrain_epochs, con_epochs and tune_epochs must be integers >= 0 with a positive "
                             f"sum, got {stage_lengths}.")
        kwargs.setdefault("batch_size", 256)
        kwargs.setdefault("lr", 3e-4)
        kwargs.setdefault("lr_gamma", 1.0)
        super().__init__(n_clusters, random_state, epochs=sum(stage_lengths) if epochs is None else epochs, **kwargs)
        if temperature_f <= 0 or temperature_l <= 0:
            raise ValueError(f"Temperatures must be > 0, got temperature_f={temperature_f}, "
                             f"temperature_l={temperature_l}.")
        if kmeans_n_init < 1 or feature_dim < 1 or high_feature_dim < 1:
            raise ValueError("kmeans_n_init, feature_dim and high_feature_dim must be >= 1.")
        self.pretrain_epochs, self.con_epochs, self.tune_epochs = (int(e) for e in stage_lengths)
        self.epochs = epochs
        self.encoder_widths = tuple(int(w) for w in encoder_widths)
        self.feature_dim = int(feature_dim)
        self.high_feature_dim = int(high_feature_dim)
        self.temperature_f = float(temperature_f)
        self.temperature_l = float(temperature_l)
        self.kmeans_n_init = int(kmeans_n_init)

    def stage_epochs(self) -> tuple[int, int, int]:
        """Epochs of (pretrain, contrastive, finetune) actually run."""
        lengths = (self.pretrain_epochs, self.con_epochs, self.tune_epochs)
        return lengths if self.epochs is None else split_epochs(self.epochs, lengths)

    def build(self, dims: list[int]) -> nn.Module:
        if len(dims) < 2:
            raise ValueError("MFLVC contrasts views: it needs at least two views.")
        return MFLVCNet(dims, self.n_clusters, self.encoder_widths, self.feature_dim, self.high_feature_dim)

    def stages(self) -> list[Stage]:
        pre, con, tune = self.stage_epochs()
        return [Stage("pretrain", pre, self.pretrain_terms),
                Stage("contrastive", con, self.contrastive_terms),
                Stage("finetune", tune, self.finetune_terms, on_epoch_start=self._start_finetune_epoch)]

    # ----------------------------------------------------------------- loss terms of each stage
    def pretrain_terms(self, model: nn.Module, batch: list[torch.Tensor], ctx: dict[str, Any]
                       ) -> dict[str, torch.Tensor]:
        return {"recon": _recon(batch, model(batch)["recons"])}

    def contrastive_terms(self, model: nn.Module, batch: list[torch.Tensor], ctx: dict[str, Any]
                          ) -> dict[str, torch.Tensor]:
        out = model(batch)
        hs, qs = out["hs"], out["qs"]
        pairs = [(m, n) for m in range(len(hs)) for n in range(m + 1, len(hs))]
        k = qs[0].shape[1]
        return {
            "recon": _recon(batch, out["recons"]),
            "feature_contrast": sum(nt_xent([hs[m], hs[n]], self.temperature_f) for m, n in pairs),
            "cluster_contrast": sum(nt_xent([qs[m].t(), qs[n].t()], self.temperature_l) for m, n in pairs),
            "entropy": sum(math.log(k) + torch.special.xlogy(s, s).sum() for s in (Q.mean(dim=0) for Q in qs)),
        }

    def finetune_terms(self, model: nn.Module, batch: list[torch.Tensor], ctx: dict[str, Any]
                       ) -> dict[str, torch.Tensor]:
        if "pseudo_labels" not in ctx:
            if ctx.get("probe"):  # the trainer's check of `disable` names, before any training
                return {"finetune_ce": batch[0].new_zeros(())}
            raise RuntimeError("MFLVC fine-tuning ran before its pseudo labels were computed.")
        with torch.no_grad():
            targets = ctx["pseudo_labels"].targets(batch)
        qs = model.assignments(batch)
        return {"finetune_ce": sum(F.nll_loss(torch.log(Q.clamp_min(1e-12)), t) for Q, t in zip(qs, targets))}

    def _start_finetune_epoch(self, model: nn.Module, data: list[torch.Tensor], ctx: dict[str, Any]) -> None:
        """First epoch: K-means pseudo labels of the high-level features; every epoch: Hungarian matching."""
        if ctx["epoch"] == 0:
            ctx["pseudo_labels"] = PseudoLabels.fit(model, data, self.n_clusters, self.kmeans_n_init,
                                                    self.random_state)
        ctx["pseudo_labels"].match(model, data)

    def soft_assign(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack(model.assignments(views)).mean(dim=0)

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The views' high-level features side by side (what the fine-tuning stage clusters with K-means)."""
        return torch.cat(model.high_features(views), dim=1)


def _recon(batch: list[torch.Tensor], recons: list[torch.Tensor]) -> torch.Tensor:
    """sum_v mean squared reconstruction error of view v (per element)."""
    return sum(F.mse_loss(r, x) for x, r in zip(batch, recons))
