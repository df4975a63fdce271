"""The multi-level autoencoder of the MFLVC family (MFLVC, DealMVC): per-view encoders give low-level features
Z^v, mirrored decoders reconstruct the views, and two heads shared by every view give high-level features
H^v = normalize(Linear(Z^v)) and cluster assignments Q^v = softmax(Linear(Z^v))."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import ViewDecoders, ViewEncoders


class MultiLevelAutoencoder(nn.Module):
    """Encoders d_v-widths-feature_dim (ReLU between layers, linear output Z^v), mirrored decoders, and the shared
    feature and label heads."""

    def __init__(self, dims: Sequence[int], n_clusters: int, encoder_widths: Sequence[int], feature_dim: int,
                 high_feature_dim: int):
        super().__init__()
        widths = [*encoder_widths, feature_dim]
        self.encoders = ViewEncoders(dims, widths)
        self.decoders = ViewDecoders(dims, widths)
        self.feature_head = nn.Linear(feature_dim, high_feature_dim)
        self.label_head = nn.Linear(feature_dim, n_clusters)

    def high(self, z: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.feature_head(z), dim=1)

    def assign(self, z: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.label_head(z), dim=1)

    def high_features(self, views: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return [self.high(z) for z in self.encoders(views)]

    def assignments(self, views: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return [self.assign(z) for z in self.encoders(views)]

    def forward(self, views: Sequence[torch.Tensor]) -> dict[str, list[torch.Tensor]]:
        zs = self.encoders(views)
        return {"recons": self.decoders(zs), "hs": [self.high(z) for z in zs], "qs": [self.assign(z) for z in zs]}
