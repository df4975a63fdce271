"""DealMVC: Dual Contrastive Calibration for Multi-View Clustering (Yang et al., ACM MM'23) — the IDMC and SDCIB
tables' "DealMVC" baseline, on the shared trainer and MFLVC's backbone (the authors build DealMVC on MFLVC).

Per-view autoencoders give Z^v; shared heads give high-level features H^v = normalize(Linear(Z^v)) and view
assignments Q^v = softmax(Linear(Z^v)). An attention fusion of the views gives the global feature H. Two
calibrations align a feature similarity graph S with a high-confidence pseudo-label graph G (cross-entropy
-sum_j G_ij log S_ij): globally on the fused feature, locally between the features of every pair of views.
Stages: reconstruction pre-training; calibration (+ reconstruction); MFLVC's fine-tuning on K-means pseudo labels.
Labels: K-means on the fused feature (default), or the released code's argmax of the views' mean assignment.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, ClassVar, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..deep import Batch, KMeansReadout, Stage
from ..deep.engine import Ctx
from ..deep.multilevel import MultiLevelClusterer
from ..losses import reconstruction_mse, soft_target_cross_entropy
from ..nn import MultiLevelAutoencoder, ViewAttentionFusion
from ..params import Interval, Options
from . import register


class DealMVCNet(MultiLevelAutoencoder):
    """The multi-level autoencoder (encoders, mirrored decoders, shared feature and label heads) plus the attention
    fusion of the views (mmc_core.nn.ViewAttentionFusion)."""

    def __init__(self, dims: Sequence[int], n_clusters: int, encoder_widths: Sequence[int], feature_dim: int,
                 high_feature_dim: int, heads: int, prior_width: int, dropout: float):
        super().__init__(dims, n_clusters, encoder_widths, feature_dim, high_feature_dim)
        self.fusion = ViewAttentionFusion(len(dims), high_feature_dim, heads, prior_width, dropout)

    def global_features(self, views: Sequence[torch.Tensor]) -> torch.Tensor:
        """The fused high-level feature H of these samples."""
        zs = self.encoders(views)
        return self.fusion([self.high(z) for z in zs], [self.assign(z) for z in zs])[0]


def pseudo_label_graph(P: torch.Tensor, R: torch.Tensor, threshold: float) -> torch.Tensor:
    """High-confidence pseudo-label graph between the rows of two assignment matrices (n, k): G_ij = p_i . r_j,
    the diagonal (same sample) set to 1, entries below `threshold` set to 0, rows normalised to sum 1."""
    G = (P @ R.t()).masked_fill(torch.eye(P.shape[0], dtype=torch.bool, device=P.device), 1.0)
    G = G * (G >= threshold).to(G.dtype)
    return G / G.sum(dim=1, keepdim=True)


def calibration_loss(graph: torch.Tensor, A: torch.Tensor, B: torch.Tensor, temperature: float) -> torch.Tensor:
    """Contrastive calibration: mean_i -sum_j graph_ij log S_ij, S_ij = softmax_j(a_i . b_j / temperature), the
    feature similarity graph between the rows of A and B. With graph = identity it is InfoNCE (positive = the same
    sample, every other sample a negative)."""
    return soft_target_cross_entropy(A @ B.t() / temperature, graph)


@register("dealmvc")
class DealMVC(KMeansReadout, MultiLevelClusterer):
    """DealMVC in three stages (mmc_core.deep.multilevel), with named loss terms (each of weight 1):

    - "pretrain":    recon = sum_v mean squared reconstruction error of view v (MFLVC's);
    - "calibration": recon + local_calibration + global_calibration + graph_consistency, where
        local_calibration  = sum_{v<w} calibration_loss(G^{vw}, H^v, H^w), G^{vw} = pseudo_label_graph(Q^v, Q^w),
        global_calibration = calibration_loss(G, H, H), H the fused feature, G = pseudo_label_graph(P, P) with P
                             the fused assignments,
        graph_consistency  = sum_{v<w} mean squared difference between G and G^{vw} (the released code's
                             "same prediction" term, which makes the global and local pseudo-label graphs agree);
    - "finetune":    finetune_ce, the cross-entropy of Q^v against K-means pseudo labels of H^v (as MFLVC).

    Defaults are the released code's: stages of 300, 100 and 50 epochs (`epochs`, if given, is split among them
    in that proportion, as MFLVC), Adam lr 3e-4 at a constant rate, batch 256, encoders d_v-500-500-2000-512,
    high_feature_dim 512, threshold 0.8, similarity temperature 1 (the code's exp(h_i . h_j)), attention with 8
    heads and dropout 0.5, prior net width 32, K-means with 100 restarts.

    Readings where the paper's text and the released code leave a choice (only the abstract and the released
    code could be consulted here; every choice below is ours and is stated so it can be revisited):
    - The pseudo-label graphs are not detached: the calibration and consistency terms also train the label head,
      as in the released code (detached, graph_consistency would have no gradient at all). Entries under the
      threshold carry no gradient.
    - Fusion: the code's view token is each sample's mean over H^v's features, a vector as long as the batch, so
      its attention only works at one batch size; we take the batch mean of H^v (a d-vector per view). The code
      also never updates the attention and prior nets (their optimisers never step) and detaches the weights
      (.item()); here they are trained jointly by the calibration losses. Its weights sum to 1/V (the softmax times
      the initial 1/V) and its fused feature is not normalised; ours is normalised, so that the global graph S is
      a cosine-similarity graph like the local ones. Trained weights need this: unnormalised, the global term is
      lowest when all weight sits on one view (a convex combination of unit vectors is longest at a corner), and on
      Event (seed 0) the weights did go to one view.
    - Global assignments P: the code applies the label head (trained on Z^v) to the fused high-level feature,
      which only fits when feature_dim == high_feature_dim; we fuse the views' assignments with the same weights.
    - Local calibration over the pairs v < w, one direction (as the code). graph_consistency over every pair (the
      code's loop covers all pairs only for two or three views).
    - Numerics: log_softmax instead of the code's log(S + 1e-7). The trainer keeps a last smaller batch (the code
      drops it) and fine-tunes with mini-batches (the code: one full-data batch per epoch).
    - Final labels (`labels_from`). "kmeans" (default): K-means (run_kmeans, the method's random_state) on the
      fused feature H of the training data after the last epoch, the paper's "global cross-view feature";
      `soft_assign` is then the Student-t kernel to those centres (argmax = the K-means label, so predict on new
      data is nearest centre; centres in `cluster_centers_`). "assignments": argmax of the views' mean assignment
      Q^v, the released code's evaluation (MFLVC's). Nothing in DealMVC aligns the cluster indices of different
      views' Q^v (the local graphs set the same-sample entry to 1 whatever q_i^v . q_i^w, and cross-view entries
      of permuted views fall under the threshold), and the fine-tuning matches each view's pseudo labels to its
      own argmax: the views' indices can end up permuted and their mean assignment then mixes clusters (seen on
      planted data), which K-means on H does not suffer from.
    The reported result is the last epoch's; `embed` gives the fused feature H.
    """

    reported_as: ClassVar[str] = "DealMVC"
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "threshold": Interval(float, 0, 1, closed="right"), "temperature": Interval(float, 0, closed="neither"),
        "attention_heads": Interval(int, 1), "attention_dropout": Interval(float, 0, 1, closed="left"),
        "prior_width": Interval(int, 1), "labels_from": Options(("kmeans", "assignments")),
    }

    def __init__(self, n_clusters: int, random_state: int | None = 0, pretrain_epochs: int = 300,
                 con_epochs: int = 100, tune_epochs: int = 50, epochs: int | None = None,
                 encoder_widths: Sequence[int] = (500, 500, 2000), feature_dim: int = 512, high_feature_dim: int = 512,
                 threshold: float = 0.8, temperature: float = 1.0, attention_heads: int = 8,
                 attention_dropout: float = 0.5, prior_width: int = 32, kmeans_n_init: int = 100,
                 labels_from: str = "kmeans", **kwargs):
        super().__init__(n_clusters, random_state, pretrain_epochs, con_epochs, tune_epochs, epochs, encoder_widths,
                         feature_dim, high_feature_dim, kmeans_n_init, **kwargs)
        self.threshold, self.temperature = threshold, temperature
        self.attention_heads, self.attention_dropout, self.prior_width = attention_heads, attention_dropout, prior_width
        self.labels_from = labels_from

    def build(self, dims: list[int]) -> nn.Module:
        if len(dims) < 2:
            raise ValueError("DealMVC calibrates pairs of views: it needs at least two views.")
        if self.high_feature_dim % self.attention_heads:
            raise ValueError(f"DealMVC: attention_heads={self.attention_heads} must divide "
                             f"high_feature_dim={self.high_feature_dim}.")
        return DealMVCNet(dims, self.n_clusters, self.encoder_widths, self.feature_dim, self.high_feature_dim,
                          self.attention_heads, self.prior_width, self.attention_dropout)

    def middle_stage(self, epochs: int) -> Stage:
        weights = {"recon": 1.0, "local_calibration": 1.0, "global_calibration": 1.0, "graph_consistency": 1.0}
        return Stage("calibration", epochs, self.calibration_terms, weights)

    def calibration_terms(self, model: nn.Module, out: dict, batch: Batch, ctx: Ctx) -> dict[str, torch.Tensor]:
        hs, qs = out["hs"], out["qs"]
        fused_h, fused_q = model.fusion(hs, qs)
        pairs = list(combinations(range(len(hs)), 2))
        local_graphs = [pseudo_label_graph(qs[v], qs[w], self.threshold) for v, w in pairs]
        global_graph = pseudo_label_graph(fused_q, fused_q, self.threshold)
        return {
            "recon": reconstruction_mse(batch, out["recons"]),
            "local_calibration": sum(calibration_loss(G, hs[v], hs[w], self.temperature)
                                     for G, (v, w) in zip(local_graphs, pairs)),
            "global_calibration": calibration_loss(global_graph, fused_h, fused_h, self.temperature),
            "graph_consistency": sum(F.mse_loss(global_graph, G) for G in local_graphs),
        }

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The fused high-level feature H (the global cross-view feature of the global calibration)."""
        return model.global_features(views)

    def soft_assign(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        if self.labels_from == "assignments":
            return MultiLevelClusterer.soft_assign(self, model, views)
        return KMeansReadout.soft_assign(self, model, views)

    def training_labels(self, data: list[torch.Tensor]) -> np.ndarray:
        """With labels_from="kmeans", K-means on the fused feature of the training data, whose centres then serve
        soft_assign and predict; else the views' mean assignment."""
        if self.labels_from == "assignments":
            return MultiLevelClusterer.training_labels(self, data)
        return KMeansReadout.training_labels(self, data)
