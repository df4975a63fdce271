"""SEM: Self-weighted contrastive learning among multiple views for mitigating representation degeneration (Xu et
al., NeurIPS 2023) — the DDMC table's "SEM" baseline, on the shared trainer and blocks.

Per-view autoencoders give hidden features H^v (regularised by reconstruction); per-view linear heads + L2
normalisation give contrastive features Z^v. Every pair of views (m, n) is contrasted with InfoNCE, weighted by
W^{mn} = exp(CMI(m, n)) - 1, the class mutual information of the two views: the NMI between K-means partitions of
their features, recomputed once per "bi-level" iteration (from H^v after pre-training, then from Z^v). Labels:
K-means on the views' contrastive features side by side [Z^1 ... Z^V].

Source: only the abstract (openreview.net/forum?id=X8dbFcAox2) and fragments of the appendix could be read here; the
method follows the authors' released code, https://github.com/SubmissionsIn/SEM (train.py, network.py, loss.py,
metric.py, commit 5ccaa63), with its default options (InfoNCE, CMI weights, plain autoencoder).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, ClassVar, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import normalized_mutual_info_score
from torch import nn

from ..deep import Batch, KMeansReadout, Stage, student_t
from ..deep.engine import Ctx
from ..deep.multilevel import PretrainedContrastiveClusterer
from ..kmeans import run_kmeans
from ..losses import nt_xent, reconstruction_mse
from ..nn import ViewDecoders, ViewEncoders
from ..params import Interval, NoneValue
from . import register


class SEMNet(nn.Module):
    """Encoders d_v-widths-feature_dim (ReLU between layers, linear output H^v), mirrored decoders, and one linear
    head per view (not shared, as the released code) giving Z^v = normalize(Linear_v(H^v))."""

    def __init__(self, dims: Sequence[int], encoder_widths: Sequence[int], feature_dim: int, high_feature_dim: int):
        super().__init__()
        widths = [*encoder_widths, feature_dim]
        self.encoders = ViewEncoders(dims, widths)
        self.decoders = ViewDecoders(dims, widths)
        self.heads = nn.ModuleList(nn.Linear(feature_dim, high_feature_dim) for _ in dims)

    def hidden_features(self, views: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return self.encoders(views)

    def contrastive_features(self, views: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return [F.normalize(head(h), dim=1) for head, h in zip(self.heads, self.encoders(views))]

    def forward(self, views: Sequence[torch.Tensor]) -> dict[str, list[torch.Tensor]]:
        hs = self.encoders(views)
        return {"recons": self.decoders(hs), "hs": hs,
                "zs": [F.normalize(head(h), dim=1) for head, h in zip(self.heads, hs)]}


MINIBATCH_SIZE = 5000  # the released code's MiniBatchKMeans batch (metric.py)


def sem_kmeans(X: np.ndarray, n_clusters: int, seed: int | None, n_init: int,
               minibatch_above: int | None) -> KMeans | MiniBatchKMeans:
    """SEM's K-means, as the released code's metric.py: scikit-learn's MiniBatchKMeans (batches of 5000, n_init
    restarts) on more than `minibatch_above` samples, full K-means (mmc_core.kmeans) otherwise; None: always full."""
    if minibatch_above is not None and len(X) > minibatch_above:
        return MiniBatchKMeans(n_clusters=n_clusters, batch_size=MINIBATCH_SIZE, n_init=n_init,
                               random_state=seed).fit(X)
    return run_kmeans(X, n_clusters, seed, n_init=n_init)


def cmi_weights(partitions: Sequence[np.ndarray]) -> np.ndarray:
    """W (V, V), W^{mn} = exp(NMI(partition m, partition n)) - 1 (arithmetic NMI, sklearn's default as in the
    released code): in [0, e - 1], e - 1 on the diagonal."""
    V = len(partitions)
    W = np.empty((V, V))
    for m in range(V):
        for n in range(V):
            W[m, n] = math.exp(normalized_mutual_info_score(partitions[m], partitions[n])) - 1.0
    return W


def self_weighted_contrast(zs: Sequence[torch.Tensor], W: torch.Tensor, tau: float) -> torch.Tensor:
    """sum over every ordered pair of views (m, n), m = n included, of W^{mn} * NT-Xent(Z^m, Z^n; tau) (the two
    directions averaged, every other sample of both views a negative: the released code's InfoNCE). With m = n the
    positive is the sample itself and the term only pushes apart different samples of the view."""
    V = len(zs)
    total = zs[0].new_zeros(())
    for m in range(V):
        for n in range(m, V):
            weight = W[m, m] if m == n else W[m, n] + W[n, m]  # NT-Xent is symmetric in (m, n)
            total = total + weight * nt_xent([zs[m], zs[n]], tau)
    return total


def iteration_lengths(total: int, iterations: int) -> list[int]:
    """`total` epochs shared among `iterations` as evenly as possible, the earlier ones one longer."""
    base, extra = divmod(total, iterations)
    return [base + (i < extra) for i in range(iterations)]


@register("sem")
class SEM(KMeansReadout, PretrainedContrastiveClusterer):
    """SEM with its released code's defaults (InfoNCE + CMI weights + autoencoder). Stages and loss terms:

    - "pretrain": recon = sum_v mean squared reconstruction error (weight 1);
    - "contrastive_1" ... "contrastive_<iterations>" (the bi-level iterations), each of con_epochs epochs:
        contrast = sum_m sum_n W^{mn} NT-Xent(Z^m, Z^n; temperature) over every ordered pair of views, the pairs
                   m = n included (as the released code's loop), weight 1;
        recon    = as above, weight `lam` (the code's Lambda).
      W is computed at the start of each iteration without gradients: per view, K-means (n_clusters clusters,
      kmeans_n_init restarts, the fit's seed) on H^v of every sample for the first iteration, on Z^v for the later
      ones; W^{mn} = exp(NMI) - 1 between the views' partitions (`cmi_weights`). After fit, `view_weights_` lists the
      W of each iteration.

    Defaults of the released code (train.py's arguments): pre-training 100 epochs, 4 iterations of 100 contrastive
    epochs (the code sets other lengths per data set: DHA 1 x 300, CCV 4 x 50, YoutubeVideo 1 x 25, NUSWIDE 4 x 25,
    Caltech 3 or 4 x 100), Adam lr 3e-4, batch 256, encoders d_v-500-500-2000-512, high_feature_dim 128,
    temperature 1.0, lam 1, K-means with 100 restarts for the weights and for the final labels. `epochs`, if given,
    is split between pre-training and the contrastive epochs in proportion, the latter shared evenly among the
    iterations (an iteration left with no epoch is skipped). Above `minibatch_kmeans_above` samples (10,000, as the
    code) every K-means is scikit-learn's MiniBatchKMeans with batches of 5000 (`sem_kmeans`); None keeps full K-means.

    Readings and differences from the released code:
    - The code re-creates its Adam optimiser after every contrastive epoch ("this code matters"); here every
      contrastive epoch is a one-epoch stage, which gives it a fresh Adam state (so `history_`'s "epoch" is 0 in
      those stages; the stage name says the iteration). The code carries the pre-training Adam state into the first
      contrastive epoch; the trainer starts it fresh.
    - The code's other options are not implemented: contrastive losses PSCL and RINCE, weights from JSD or MMD,
      denoising or masked autoencoders, and times_for_K (clusters per view for the weights; 1 here).
    - Final labels: K-means on [Z^1 ... Z^V] after the last epoch, the code's reported evaluation; `soft_assign` is
      the Student-t kernel to those centres (argmax = the K-means label; centres in `cluster_centers_`). The
      reported result is the last epoch's (the code keeps no best epoch either).
    - The trainer keeps a last smaller batch (so does the code: drop_last=False) but joins a last single sample to
      the batch before it.
    """

    reported_as: ClassVar[str] = "SEM"
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "iterations": Interval(int, 1), "temperature": Interval(float, 0, closed="neither"), "lam": Interval(float, 0),
        "kmeans_n_init": Interval(int, 1), "minibatch_kmeans_above": [NoneValue(), Interval(int, 1)],
    }

    def __init__(self, n_clusters: int, random_state: int | None = 0, pretrain_epochs: int = 100,
                 con_epochs: int = 100, iterations: int = 4, epochs: int | None = None,
                 encoder_widths: Sequence[int] = (500, 500, 2000), feature_dim: int = 512, high_feature_dim: int = 128,
                 temperature: float = 1.0, lam: float = 1.0, kmeans_n_init: int = 100,
                 minibatch_kmeans_above: int | None = 10000, **kwargs):
        super().__init__(n_clusters, random_state, pretrain_epochs, con_epochs, epochs, encoder_widths, feature_dim,
                         high_feature_dim, **kwargs)
        self.iterations, self.temperature, self.lam, self.kmeans_n_init = iterations, temperature, lam, kmeans_n_init
        self.minibatch_kmeans_above = minibatch_kmeans_above

    def build(self, dims: list[int]) -> nn.Module:
        if len(dims) < 2:
            raise ValueError("SEM contrasts views: it needs at least two views.")
        return SEMNet(dims, self.encoder_widths, self.feature_dim, self.high_feature_dim)

    def contrastive_epochs(self) -> int:
        return self.con_epochs * self.iterations

    def contrastive_stages(self, epochs: int) -> list[Stage]:
        weights = {"contrast": 1.0, "recon": self.lam}
        stages = []
        for it, length in enumerate(iteration_lengths(epochs, self.iterations)):
            for epoch in range(length):
                hook = partial(self.refresh_view_weights, iteration=it) if epoch == 0 else None
                stages.append(Stage(f"contrastive_{it + 1}", 1, self.contrastive_terms, weights,
                                    on_epoch_start=hook))
        return stages

    def refresh_view_weights(self, model: nn.Module, data: list[torch.Tensor], ctx: Ctx, iteration: int) -> None:
        """Start of a bi-level iteration: W from K-means partitions of every sample's H^v (first iteration) or Z^v."""
        features = self.infer(data, lambda m, v: m.hidden_features(v) if iteration == 0 else m.contrastive_features(v))
        partitions = [sem_kmeans(X.cpu().numpy(), self.n_clusters, self.seed_, self.kmeans_n_init,
                                 self.minibatch_kmeans_above).labels_ for X in features]
        W = cmi_weights(partitions)
        ctx["view_weights"] = torch.as_tensor(W, dtype=data[0].dtype, device=data[0].device)
        self.view_weights_ = [W] if iteration == 0 else [*self.view_weights_, W]

    def contrastive_terms(self, model: nn.Module, out: dict, batch: Batch, ctx: Ctx) -> dict[str, torch.Tensor]:
        return {"contrast": self_weighted_contrast(out["zs"], ctx["view_weights"], self.temperature),
                "recon": reconstruction_mse(batch, out["recons"])}

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The views' contrastive features side by side, [Z^1 ... Z^V] (what the final K-means clusters)."""
        return torch.cat(model.contrastive_features(views), dim=1)

    def training_labels(self, data: list[torch.Tensor]) -> np.ndarray:
        """K-means (kmeans_n_init restarts, the fit's seed) on [Z^1 ... Z^V] of the training data; its centres then
        serve soft_assign and predict."""
        emb = self.infer(data, self.embed)
        km = sem_kmeans(emb.cpu().numpy(), self.n_clusters, self.seed_, self.kmeans_n_init, self.minibatch_kmeans_above)
        self.cluster_centers_ = torch.as_tensor(km.cluster_centers_, dtype=emb.dtype, device=emb.device)
        return student_t(emb, self.cluster_centers_).argmax(dim=1).cpu().numpy()
