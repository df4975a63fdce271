"""What the concept methods (Multi-DProxy, Multi-MaP) share: they learn on a ConceptTask (its labels unused), keep
one proxy per fitted image, so they embed only the images they were fitted on (transductive), and cluster
`features_`, their representation of those images, with K-means."""

from __future__ import annotations

import numpy as np
import torch

from ..deep import DeepClusterer, KMeansReadout
from .task import ConceptTask


class ConceptClusterer(KMeansReadout, DeepClusterer):
    """Base of a concept method: `fit_task(task)` checks the task against n_clusters, hands it to `take_task` (the
    method keeps the words, prompt encoder ... it needs) and fits on the image features; after fit, `features_` is
    the representation K-means clustered. Their inputs are unit-norm CLIP (or planted) features, used as they are:
    scaling them would move them off the sphere the text prompts live on."""

    default_scaling = "none"

    def fit_task(self, task: ConceptTask) -> "ConceptClusterer":
        """Learn on the task's image features and words (its labels are not used)."""
        if task.n_clusters != self.n_clusters:
            raise ValueError(f"{task.name} has {task.n_clusters} classes but n_clusters={self.n_clusters}.")
        self.take_task(task)
        return self.fit([task.image_features])

    def take_task(self, task: ConceptTask) -> None:
        """Keep what the method needs of the task before fit."""
        raise NotImplementedError

    def training_labels(self, data: list[torch.Tensor]) -> np.ndarray:
        emb = self.infer(data, self.embed)
        self.features_ = emb.cpu().numpy()
        return self.kmeans_labels(emb)

    def check_fitted_images(self, n_fitted: int, n: int) -> None:
        """The proxies belong to the fitted images: other images cannot be embedded."""
        if n != n_fitted:
            raise ValueError(f"{type(self).__name__}'s proxies belong to the {n_fitted} fitted images; it cannot "
                             f"embed {n} other ones (refit on them).")
