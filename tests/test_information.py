"""Mutual-information estimators against closed forms: MINE / JSD critics on correlated Gaussians
(I = -d/2 log(1 - rho^2)), IIC's exact MI on hand-computed joints, the InfoNCE bound's range, and the Gaussian-channel
bound on a hand-worked variance."""

from __future__ import annotations

import math

import pytest
import torch

from mmc_core.losses import (NeuralMIEstimator, gaussian_channel_information, iic_mutual_information,
                             infonce_mutual_information)

MI_TOLERANCE = 0.1  # nats: |estimate - closed form| after 1000 critic steps, evaluated on 20000 fresh pairs


def correlated_gaussians(n: int, rho: float, d: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """d independent pairs of standard normals with correlation rho: I(X; Y) = -d/2 log(1 - rho^2)."""
    x = torch.randn(n, d)
    return x, rho * x + math.sqrt(1.0 - rho ** 2) * torch.randn(n, d)


def trained_estimate(bound: str, rho: float, steps: int = 1000) -> float:
    torch.manual_seed(0)
    estimator = NeuralMIEstimator(2, 2, hidden=(64, 64), bound=bound)
    optimizer = torch.optim.Adam(estimator.parameters(), lr=1e-3)
    for _ in range(steps):
        objective, _ = estimator(*correlated_gaussians(256, rho), update_average=True)
        optimizer.zero_grad()
        (-objective).backward()
        optimizer.step()
    with torch.no_grad():
        return float(estimator(*correlated_gaussians(20000, rho))[1])


@pytest.mark.parametrize("bound,rho", [("mine", 0.0), ("mine", 0.8), ("jsd", 0.8)])
def test_critic_recovers_gaussian_mutual_information(bound, rho):
    truth = -math.log(1.0 - rho ** 2)  # d = 2
    assert abs(trained_estimate(bound, rho) - truth) < MI_TOLERANCE


def test_objective_value_is_the_dv_estimate_and_average_moves_only_when_asked():
    torch.manual_seed(1)
    estimator = NeuralMIEstimator(2, 2, hidden=(8,))
    x, y = correlated_gaussians(64, 0.5)
    torch.manual_seed(2)
    objective, estimate = estimator(x, y)
    assert torch.isnan(estimator.log_average)  # not updated without update_average
    assert objective.item() == pytest.approx(estimate.item(), abs=1e-6) and objective.requires_grad
    estimator(x, y, update_average=True)
    first = estimator.log_average.clone()
    assert torch.isfinite(first)
    estimator(x * 3, y, update_average=True)
    assert estimator.log_average != first


def test_bad_estimator_parameters_are_named():
    with pytest.raises(ValueError, match="bound"):
        NeuralMIEstimator(2, 2, bound="nwj")
    with pytest.raises(ValueError, match="ema_rate"):
        NeuralMIEstimator(2, 2, ema_rate=1.0)
    with pytest.raises(ValueError, match="same number"):
        NeuralMIEstimator(2, 2)(torch.zeros(4, 2), torch.zeros(3, 2))


def test_iic_identical_balanced_one_hot_gives_log_k():
    labels = torch.arange(12) % 3
    p = torch.nn.functional.one_hot(labels, 3).float()
    assert iic_mutual_information(p, p).item() == pytest.approx(math.log(3), abs=1e-5)


def test_iic_independent_assignments_give_zero():
    p = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    q = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert iic_mutual_information(p, q).item() == pytest.approx(0.0, abs=1e-6)


def test_iic_hand_worked_joint():
    # four samples: (a, a), (a, a), (a, b), (b, b) -> joint [[1/2, 1/4], [0, 1/4]]; unsymmetrised
    p = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    q = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    # marginals p_a = (3/4, 1/4), p_b = (1/2, 1/2): MI = 1/2 log(4/3) + 1/4 log(2/3) + 1/4 log 2
    expected = 0.5 * math.log(4 / 3) + 0.25 * math.log(2 / 3) + 0.25 * math.log(2)
    assert iic_mutual_information(p, q, symmetric=False).item() == pytest.approx(expected, abs=1e-5)
    # symmetrised joint [[1/2, 1/8], [1/8, 1/4]], both marginals (5/8, 3/8)
    sym = [[0.5, 0.125], [0.125, 0.25]]
    m = [0.625, 0.375]
    expected_sym = sum(sym[i][j] * math.log(sym[i][j] / (m[i] * m[j])) for i in range(2) for j in range(2))
    assert iic_mutual_information(p, q).item() == pytest.approx(expected_sym, abs=1e-5)


def test_infonce_bound_is_at_most_log_n_and_larger_for_aligned_views():
    torch.manual_seed(0)
    z = torch.randn(32, 8)
    aligned = infonce_mutual_information(z, z + 0.01 * torch.randn(32, 8), tau=0.1)
    unrelated = infonce_mutual_information(z, torch.randn(32, 8), tau=0.1)
    assert aligned.item() <= math.log(32) + 1e-6
    assert aligned.item() > unrelated.item() + 1.0


def test_gaussian_channel_bound_hand_worked():
    h = torch.tensor([[0.0, 1.0], [2.0, 1.0]])  # unit variances (population): 1 and 0
    expected = 0.5 * (0.5 * math.log(1 + 1 / 0.25) + 0.0)  # mean over the two units, noise_std 0.5
    assert gaussian_channel_information(h, noise_std=0.5).item() == pytest.approx(expected, abs=1e-6)
    with pytest.raises(ValueError, match="noise_std"):
        gaussian_channel_information(h, noise_std=0.0)
