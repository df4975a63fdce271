"""SiMVC: Simple Multi-View Clustering (Trosten et al., CVPR'21, "Reconsidering Representation Alignment for
Multi-view Clustering") — the IDMC/DDMC tables' "SiMVC" baseline, on the shared blocks.

Per-view MLP encoders, a weighted mean of the views' representations (learned softmax weights), the DDC head on
the fused representation, and the three DDC loss terms. No alignment of the views' representations.
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import torch
from torch import nn

from ..losses import ddc_terms
from ..nn import DDCHead, ViewEncoders, WeightedMeanFusion
from ..training import DeepClusterer
from . import register


class SiMVCNet(nn.Module):
    """Encoders (ReLU after every layer, no batch norm, as the reference MLP) -> weighted-mean fusion -> DDC head."""

    def __init__(self, dims: Sequence[int], n_clusters: int, encoder_widths: Sequence[int]):
        super().__init__()
        self.encoders = ViewEncoders(dims, encoder_widths, last_activation=True)
        self.fusion = WeightedMeanFusion(len(dims))
        self.head = DDCHead(int(encoder_widths[-1]), n_clusters)

    def forward(self, views: Sequence[torch.Tensor]) -> dict[str, Any]:
        hs = self.encoders(views)
        A, hidden = self.head(self.fusion(hs))
        return {"hs": hs, "A": A, "hidden": hidden}


@register("simvc")
class SiMVC(DeepClusterer):
    """SiMVC. Loss terms: ddc_1, ddc_2, ddc_3 on the fused representation's assignments A; labels = argmax A.

    Defaults are the reference setting (docs/readings.md, "SiMVC"): encoders 512-512-256, Adam lr 1e-3, batch 100,
    100 epochs, constant learning rate (lr_gamma=1.0: the reference uses no scheduler). Trainer parameters
    (epochs, batch_size, lr, lr_step, lr_gamma, disable, selection, device, progress) pass through **kwargs.
    After fit, `fusion_weights_` holds the learned view weights.
    """

    reported_as: ClassVar[str] = "SiMVC"

    def __init__(self, n_clusters: int, random_state: int | None = 0,
                 encoder_widths: Sequence[int] = (512, 512, 256), **kwargs):
        kwargs.setdefault("lr_gamma", 1.0)
        super().__init__(n_clusters, random_state, **kwargs)
        if not encoder_widths:
            raise ValueError("encoder_widths needs at least one layer, e.g. (512, 512, 256).")
        self.encoder_widths = tuple(int(w) for w in encoder_widths)

    def build(self, dims: list[int]) -> nn.Module:
        return SiMVCNet(dims, self.n_clusters, self.encoder_widths)

    def loss_terms(self, model: nn.Module, batch: list[torch.Tensor], ctx: dict[str, Any]) -> dict[str, torch.Tensor]:
        out = model(batch)
        return ddc_terms(out["A"], out["hidden"])

    def soft_assign(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        return model(views)["A"]

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The fused representation the DDC head clusters."""
        return model.fusion(model.encoders(views))

    def _fit(self, views) -> None:
        super()._fit(views)
        self.fusion_weights_ = self.model_.fusion.weights.detach().cpu().numpy()
