"""Mutual-information estimators and bounds, in nats (SDCIB; reusable by DDMC).

- `NeuralMIEstimator`: a critic T(x, y) trained to maximise a lower bound on I(X; Y) for continuous pairs —
  MINE's Donsker-Varadhan bound E_P[T] - log E_Q[e^T] with the moving-average gradient correction of Belghazi et
  al. (2018, section 3.2), or the Jensen-Shannon bound of Hjelm et al. (2019). Samples of the product of marginals
  Q are the batch's pairs with y shuffled.
- `iic_mutual_information`: exact I(Y^a; Y^b) of two soft assignments through their (symmetrised) joint, as IIC
  (Ji et al., 2019).
- `infonce_mutual_information`: the InfoNCE lower bound log n - L_NCE with a fixed cosine critic (no training).
- `gaussian_channel_information`: an upper bound on I(X; H + noise) for a deterministic encoder H = f(X) with
  Gaussian noise of variance noise_std^2 added per unit: I <= 1/2 sum_d log(1 + Var(H_d) / noise_std^2) (maximum
  entropy of a Gaussian with H's per-unit variances; the noise entropy is exact). Averaged over units, so that a
  layer's width does not set its weight in a loss.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from ..nn.blocks import mlp
from .contrastive import info_nce

EPS = 1e-9
BOUNDS = ("mine", "jsd")


def shuffled(y: torch.Tensor) -> torch.Tensor:
    """The rows of y in a random order (torch's global RNG): pairs (x_i, y_pi(i)) sample the product of marginals."""
    return y[torch.randperm(y.shape[0], device=y.device)]


def donsker_varadhan(t_joint: torch.Tensor, t_marginal: torch.Tensor) -> torch.Tensor:
    """E_P[T] - log E_Q[e^T] (a lower bound on the KL between P and Q, here on the mutual information)."""
    return t_joint.mean() - (torch.logsumexp(t_marginal, dim=0) - math.log(t_marginal.shape[0]))


def jensen_shannon(t_joint: torch.Tensor, t_marginal: torch.Tensor) -> torch.Tensor:
    """E_P[-softplus(-T)] - E_Q[softplus(T)]: the Jensen-Shannon bound (Deep InfoMax); larger = more dependent."""
    return -nn.functional.softplus(-t_joint).mean() - nn.functional.softplus(t_marginal).mean()


def with_value(surrogate: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """A tensor equal to `value` whose gradient is the surrogate's (so a loss history shows nats)."""
    return surrogate - surrogate.detach() + value


class NeuralMIEstimator(nn.Module):
    """A critic T(x, y) = MLP([x, y]) -> scalar, and the bound it maximises.

    `forward(x, y)` returns (objective, estimate):
    - objective: the differentiable quantity to maximise, for the critic's update and for an encoder that
      wants I(X; Y) large (or small). Its value is the Donsker-Varadhan estimate in nats; its gradient is, for
      bound="mine", that of E_P[T] - E_Q[e^T] / m with m the moving average of E_Q[e^T] (MINE's bias-corrected
      gradient), and for bound="jsd" that of the JSD bound.
    - estimate: the same Donsker-Varadhan value, detached, for monitoring.
    The moving average is updated only when `update_average=True` (the critic's step), with rate `ema_rate`.
    """

    def __init__(self, dim_x: int, dim_y: int, hidden: Sequence[int] = (128, 128), bound: str = "mine",
                 ema_rate: float = 0.01):
        super().__init__()
        if bound not in BOUNDS:
            raise ValueError(f"bound must be one of {BOUNDS}, got {bound!r}.")
        if not 0.0 < ema_rate < 1.0:
            raise ValueError(f"ema_rate must be in (0, 1), got {ema_rate}.")
        self.bound = bound
        self.ema_rate = float(ema_rate)
        self.critic = nn.Sequential(mlp(dim_x + dim_y, hidden), nn.Linear(int(hidden[-1]), 1))
        self.register_buffer("log_average", torch.tensor(float("nan")))  # log of the moving average of E_Q[e^T]

    def scores(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Critic values on the joint pairs (x_i, y_i) and on shuffled pairs (x_i, y_pi(i))."""
        if x.shape[0] != y.shape[0] or x.shape[0] < 2:
            raise ValueError(f"Need the same number (>= 2) of x and y samples, got {x.shape[0]} and {y.shape[0]}.")
        t_joint = self.critic(torch.cat([x, y], dim=1)).squeeze(1)
        t_marginal = self.critic(torch.cat([x, shuffled(y)], dim=1)).squeeze(1)
        return t_joint, t_marginal

    def forward(self, x: torch.Tensor, y: torch.Tensor, update_average: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor]:
        t_joint, t_marginal = self.scores(x, y)
        estimate = donsker_varadhan(t_joint, t_marginal).detach()
        if self.bound == "jsd":
            return with_value(jensen_shannon(t_joint, t_marginal), estimate), estimate
        log_mean_exp = torch.logsumexp(t_marginal, dim=0) - math.log(t_marginal.shape[0])
        if update_average:  # tensor ops only: no host sync per step (a NaN average = none yet)
            with torch.no_grad():
                new, r = log_mean_exp.detach(), self.ema_rate
                moved = torch.logaddexp(self.log_average + math.log1p(-r), new + math.log(r))  # (1 - r) m + r e^new
                self.log_average.copy_(torch.where(torch.isnan(self.log_average), new, moved))
        log_m = torch.where(torch.isnan(self.log_average), log_mean_exp.detach(), self.log_average)
        return with_value(t_joint.mean() - torch.exp(log_mean_exp - log_m), estimate), estimate


def iic_mutual_information(p: torch.Tensor, q: torch.Tensor, symmetric: bool = True) -> torch.Tensor:
    """Exact I(Y^a; Y^b) from paired soft assignments p, q (n, k): joint P = p^T q / n (symmetrised when asked,
    as IIC does for two views of the same samples), MI = sum P log(P / (P_a P_b)). Between 0 and log k."""
    if p.shape != q.shape:
        raise ValueError(f"Soft assignments must have the same shape, got {tuple(p.shape)} and {tuple(q.shape)}.")
    joint = p.t() @ q / p.shape[0]
    if symmetric:
        joint = 0.5 * (joint + joint.t())
    joint = joint.clamp_min(EPS)
    joint = joint / joint.sum()
    pa, pb = joint.sum(dim=1, keepdim=True), joint.sum(dim=0, keepdim=True)
    return (joint * (joint.log() - pa.log() - pb.log())).sum()


def infonce_mutual_information(z_a: torch.Tensor, z_b: torch.Tensor, tau: float = 0.5) -> torch.Tensor:
    """InfoNCE lower bound on I(Z^a; Z^b): log n - (symmetric) InfoNCE with cosine similarity / tau; <= log n."""
    return math.log(z_a.shape[0]) - info_nce(z_a, z_b, tau)


def gaussian_channel_information(h: torch.Tensor, noise_std: float = 1.0) -> torch.Tensor:
    """Upper bound on I(X; H + N(0, noise_std^2 I)) per unit of H (n, d): mean_d 1/2 log(1 + Var(H_d) / s^2)."""
    if noise_std <= 0:
        raise ValueError(f"noise_std must be > 0, got {noise_std}.")
    return 0.5 * torch.log1p(h.var(dim=0, unbiased=False) / noise_std ** 2).mean()
