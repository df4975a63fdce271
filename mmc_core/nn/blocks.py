"""MLP building blocks. Widths are parameters so each method can use its paper's network."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def mlp(
    in_dim: int,
    widths: Sequence[int],
    activation: str = "relu",
    batchnorm: bool = False,
    last_activation: bool = True,
) -> nn.Sequential:
    """Linear layers of the given widths; after each: [BatchNorm1d] -> activation (the last only if asked)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}.")
    layers: list[nn.Module] = []
    dims = [int(in_dim), *map(int, widths)]
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(dims) - 2 or last_activation:
            if batchnorm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class ViewEncoders(nn.ModuleList):
    """One MLP encoder per view: X^(v) (n, d_v) -> H^(v) (n, widths[-1])."""

    def __init__(self, dims: Sequence[int], widths: Sequence[int], batchnorm: bool = False,
                 last_activation: bool = False):
        super().__init__([mlp(d, widths, batchnorm=batchnorm, last_activation=last_activation) for d in dims])

    def forward(self, views: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return [enc(x) for enc, x in zip(self, views)]


class ViewDecoders(nn.ModuleList):
    """One MLP decoder per view, the mirror of the encoder: H^(v) -> reconstruction of X^(v)."""

    def __init__(self, dims: Sequence[int], widths: Sequence[int], batchnorm: bool = False):
        rev = list(widths)[::-1]
        super().__init__([mlp(rev[0], [*rev[1:], d], batchnorm=batchnorm, last_activation=False) for d in dims])

    def forward(self, hidden: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return [dec(h) for dec, h in zip(self, hidden)]


class DDCHead(nn.Module):
    """The DDC clustering head: Linear(d, 100) -> ReLU -> BatchNorm1d = hidden; Linear(100, k) -> softmax = A.

    Returns (A, hidden): the DDC loss needs the hidden layer for its kernel.
    """

    def __init__(self, in_dim: int, n_clusters: int, hidden: int = 100):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.BatchNorm1d(hidden))
        self.output = nn.Linear(hidden, n_clusters)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.hidden(x)
        return torch.softmax(self.output(h), dim=1), h
