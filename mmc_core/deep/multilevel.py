"""The three-stage training of the MFLVC family (MFLVC, DealMVC) on the multi-level autoencoder
(mmc_core.nn.MultiLevelAutoencoder): reconstruction pre-training; the method's own middle stage; fine-tuning of the
views' assignments Q^v on K-means pseudo labels of their high-level features H^v. A method of the family declares
only its network and its middle stage. `PretrainedContrastiveClusterer`, their base: the pre-training followed by a
method's own stages, without the fine-tuning (SEM, SCMVC, SSLNMVC)."""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from torch import nn

from ..kmeans import run_kmeans
from ..losses import reconstruction_mse
from ..params import Interval, NoneValue, Widths
from .engine import Batch, Ctx, DeepClusterer, Stage, split_epochs


def min_max(H: torch.Tensor) -> torch.Tensor:
    """Each column to [0, 1]; a constant column becomes 0."""
    lo = H.min(dim=0).values
    span = H.max(dim=0).values - lo
    return torch.where(span > 0, (H - lo) / span.clamp_min(1e-12), torch.zeros_like(H))


def pseudo_labels(hs: Sequence[torch.Tensor], n_clusters: int, n_init: int, seed: int) -> list[torch.Tensor]:
    """Per view, K-means pseudo labels of the high-level features H^v (each min-max scaled per feature first, as
    the published code): the nearest K-means centre of every sample."""
    labels = []
    for H in hs:
        scaled = min_max(H)
        km = run_kmeans(scaled.cpu().numpy(), n_clusters, seed, n_init=n_init)
        centers = torch.as_tensor(km.cluster_centers_, dtype=H.dtype, device=H.device)
        labels.append(torch.cdist(scaled, centers).argmin(dim=1))
    return labels


def hungarian_mapping(pseudo: torch.Tensor, predicted: torch.Tensor, k: int) -> torch.Tensor:
    """mapping[pseudo label] = the cluster of argmax Q it overlaps most, one-to-one (Hungarian algorithm)."""
    counts = torch.bincount(pseudo * k + predicted, minlength=k * k).view(k, k).cpu().numpy()
    rows, cols = linear_sum_assignment(-counts)
    mapping = np.empty(k, dtype=np.int64)
    mapping[rows] = cols
    return torch.as_tensor(mapping, device=pseudo.device)


class PretrainedContrastiveClusterer(DeepClusterer):
    """Base of the MFLVC-derived methods: a "pretrain" stage (recon = sum_v mean squared reconstruction error, from
    the network's out["recons"]), then the subclass's `contrastive_stages(epochs)` (SEM, SCMVC, SSLNMVC; MFLVC and
    DealMVC add a fine-tuning stage, MultiLevelClusterer). Stage lengths: `stage_lengths()` (default pretrain_epochs
    and `contrastive_epochs()`, itself con_epochs by default); if `epochs` is given it replaces them, split in
    proportion (rounded; every nonzero stage keeps at least one epoch), so a run profile can shorten the method with
    one number. Trainer defaults of the family's published code: Adam lr 3e-4 at a constant rate, batch 256."""

    trainer_defaults: ClassVar[dict[str, Any]] = {"batch_size": 256, "lr": 3e-4, "lr_gamma": 1.0}
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "pretrain_epochs": Interval(int, 0), "con_epochs": Interval(int, 0), "epochs": [NoneValue(), Interval(int, 1)],
        "encoder_widths": Widths(), "feature_dim": Interval(int, 1), "high_feature_dim": Interval(int, 1),
    }

    def __init__(self, n_clusters: int, random_state: int | None, pretrain_epochs: int, con_epochs: int,
                 epochs: int | None, encoder_widths: Sequence[int], feature_dim: int, high_feature_dim: int, **kwargs):
        super().__init__(n_clusters, random_state, **kwargs)
        self.pretrain_epochs, self.con_epochs, self.epochs = pretrain_epochs, con_epochs, epochs
        self.encoder_widths, self.feature_dim, self.high_feature_dim = encoder_widths, feature_dim, high_feature_dim

    def contrastive_epochs(self) -> int:
        """Epochs after pre-training, at the published lengths."""
        return self.con_epochs

    def stage_lengths(self) -> tuple[int, ...]:
        """The published length of every stage: (pretrain, the contrastive part)."""
        return self.pretrain_epochs, self.contrastive_epochs()

    def stage_epochs(self) -> tuple[int, ...]:
        """Epochs of every stage actually run (stage_lengths, or `epochs` split among them)."""
        lengths = self.stage_lengths()
        if sum(lengths) < 1:
            raise ValueError(f"{type(self).__name__}: every stage length {lengths} is 0; give at least one stage an "
                             "epoch.")
        return lengths if self.epochs is None else split_epochs(self.epochs, lengths)

    def contrastive_stages(self, epochs: int) -> list[Stage]:  # pragma: no cover - abstract
        raise NotImplementedError

    def stages(self) -> list[Stage]:
        pre, con = self.stage_epochs()
        return [self.pretrain_stage(pre), *self.contrastive_stages(con)]

    def pretrain_stage(self, epochs: int) -> Stage:
        return Stage("pretrain", epochs, self.pretrain_terms, {"recon": 1.0})

    def pretrain_terms(self, model: nn.Module, out: dict, batch: Batch, ctx: Ctx) -> dict[str, torch.Tensor]:
        return {"recon": reconstruction_mse(batch, out["recons"])}


class MultiLevelClusterer(PretrainedContrastiveClusterer):
    """Base of the MFLVC family: PretrainedContrastiveClusterer's stages, then "finetune". Stages "pretrain" (recon),
    the subclass's `middle_stage(epochs)`, and "finetune":

      recon       = sum_v mean squared error of x^v's reconstruction (per element, as the published runs);
      finetune_ce = sum_v cross-entropy of Q^v against the view's K-means pseudo labels of H^v (computed once, at
                    the start of the stage, from every sample), matched to argmax Q^v by the Hungarian algorithm at
                    every epoch. The paper's -sum P log Q; the published code applies cross_entropy to the
                    already-softmaxed Q (a double softmax), which we do not copy.

    Stage lengths: pretrain_epochs, con_epochs, tune_epochs (`epochs`, if given, split among the three). The
    trainer gives every stage a fresh Adam state, keeps a last smaller batch instead of dropping it, and
    fine-tunes with mini-batches (the code uses one full-data batch per epoch).
    """

    parameter_constraints: ClassVar[dict[str, Any]] = {"tune_epochs": Interval(int, 0),
                                                       "kmeans_n_init": Interval(int, 1)}

    def __init__(self, n_clusters: int, random_state: int | None, pretrain_epochs: int, con_epochs: int,
                 tune_epochs: int, epochs: int | None, encoder_widths: Sequence[int], feature_dim: int,
                 high_feature_dim: int, kmeans_n_init: int, **kwargs):
        super().__init__(n_clusters, random_state, pretrain_epochs, con_epochs, epochs, encoder_widths, feature_dim,
                         high_feature_dim, **kwargs)
        self.tune_epochs, self.kmeans_n_init = tune_epochs, kmeans_n_init

    def stage_lengths(self) -> tuple[int, ...]:
        """The published lengths of (pretrain, middle, finetune)."""
        return self.pretrain_epochs, self.con_epochs, self.tune_epochs

    def middle_stage(self, epochs: int) -> Stage:  # pragma: no cover - abstract
        raise NotImplementedError

    def stages(self) -> list[Stage]:
        pre, middle, tune = self.stage_epochs()
        return [self.pretrain_stage(pre), self.middle_stage(middle),
                Stage("finetune", tune, self.finetune_terms, {"finetune_ce": 1.0}, forward=self.assignments,
                      on_epoch_start=self.refresh_pseudo_labels)]

    def assignments(self, model: nn.Module, batch: Batch, ctx: Ctx) -> list[torch.Tensor]:
        return model.assignments(batch)

    def refresh_pseudo_labels(self, model: nn.Module, data: list[torch.Tensor], ctx: Ctx) -> None:
        """First fine-tuning epoch: K-means pseudo labels of every sample; every epoch: the Hungarian matching of
        each view's pseudo labels to the argmax of its current assignments."""
        if ctx["epoch"] == 0:
            ctx["pseudo_labels"] = pseudo_labels(self.infer(data, lambda m, v: m.high_features(v)), self.n_clusters,
                                                 self.kmeans_n_init, self.seed_)
        predicted = [Q.argmax(dim=1) for Q in self.infer(data, lambda m, v: m.assignments(v))]
        ctx["pseudo_mapping"] = [hungarian_mapping(p, q, self.n_clusters)
                                 for p, q in zip(ctx["pseudo_labels"], predicted)]

    def finetune_terms(self, model: nn.Module, qs: list[torch.Tensor], batch: Batch, ctx: Ctx
                       ) -> dict[str, torch.Tensor]:
        targets = [mapping[labels[batch.index]] for mapping, labels in zip(ctx["pseudo_mapping"],
                                                                           ctx["pseudo_labels"])]
        return {"finetune_ce": sum(F.nll_loss(torch.log(Q.clamp_min(1e-12)), t) for Q, t in zip(qs, targets))}

    def soft_assign(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The views' mean assignment (MFLVC's labels)."""
        return torch.stack(model.assignments(views)).mean(dim=0)
