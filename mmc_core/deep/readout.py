"""Final partition by K-means on a deep method's representation (DIVIDE, DealMVC), with soft assignments that agree
with it: Student-t similarities to the K-means centres, whose argmax is the nearest centre."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..kmeans import run_kmeans


def student_t(emb: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Soft assignments q_ij proportional to (1 + ||e_i - c_j||^2)^-1 (DEC's kernel): argmax = nearest centre."""
    q = 1.0 / (1.0 + torch.cdist(emb, centers).pow(2))
    return q / q.sum(dim=1, keepdim=True)


class KMeansReadout:
    """Mixin for a DeepClusterer whose labels are K-means on `embed`: `training_labels` fits the centres (the
    fit's seed) on the training data; `soft_assign` then serves predict_proba / predict (nearest centre)."""

    def soft_assign(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        if not hasattr(self, "cluster_centers_"):
            raise RuntimeError(f"{type(self).__name__} assigns to K-means centres fitted at the end of fit: "
                               "call fit first.")
        return student_t(self.embed(model, views), self.cluster_centers_)

    def training_labels(self, data: list[torch.Tensor]) -> np.ndarray:
        return self.kmeans_labels(self.infer(data, self.embed))

    def kmeans_labels(self, emb: torch.Tensor) -> np.ndarray:
        """Fit the centres on the training representation `emb`; its labels (nearest centre)."""
        km = run_kmeans(emb.cpu().numpy(), self.n_clusters, self.seed_)
        self.cluster_centers_ = torch.as_tensor(km.cluster_centers_, dtype=emb.dtype, device=emb.device)
        return student_t(emb, self.cluster_centers_).argmax(dim=1).cpu().numpy()
