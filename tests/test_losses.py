"""Shared loss terms (DDC, InfoNCE, weighted KL) against hand computations on tiny examples."""

import numpy as np
import pytest
import torch

from mmc_core.losses import ddc_terms, gaussian_kernel, info_nce, weighted_kl
from mmc_core.losses.ddc import cauchy_schwarz_divergence

A = np.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.1, 0.9]])
HIDDEN = np.array([[0.0, 0.0], [0.0, 1.0], [3.0, 0.0], [3.0, 1.0]])


def t(x: np.ndarray) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


def hand_kernel(h: np.ndarray, rel_sigma: float = 0.15) -> np.ndarray:
    """exp(-D / (2 sigma^2)), sigma^2 = rel_sigma * median(D) over all n^2 entries; torch.median (as in the
    reference code) takes the lower of the two middle values."""
    D = ((h[:, None, :] - h[None, :, :]) ** 2).sum(-1)
    median = np.sort(D.ravel())[(D.size - 1) // 2]
    return np.exp(-D / (2 * rel_sigma * median))


def hand_cs(A: np.ndarray, K: np.ndarray) -> float:
    """2/(k(k-1)) sum_{i<j} a_i'K a_j / sqrt(a_i'K a_i a_j'K a_j), columns a_i, written as a loop."""
    k = A.shape[1]
    total = 0.0
    for i in range(k):
        for j in range(i + 1, k):
            a, b = A[:, i], A[:, j]
            total += (a @ K @ b) / np.sqrt((a @ K @ a) * (b @ K @ b))
    return 2 * total / (k * (k - 1))


def test_cauchy_schwarz_keeps_a_near_empty_cluster_as_the_reference_does():
    """A cluster of mass ~1e-6 (self-similarity 4e-12, under the 1e-9 floor): the reference floors only the
    numerator (1e-9) and the product of the self-similarities (1e-18), so its ratios stay those of the data
    (0.707 here); flooring the self-similarity itself would give 0.045 and reward emptying the cluster."""
    A = np.array([[1.0, 0.0, 1e-6], [1.0, 0.0, 1e-6], [0.0, 1.0, 1e-6], [0.0, 1.0, 1e-6]])
    K = np.eye(4)
    gram = A.T @ K @ A
    expected = 0.0
    for i in range(3):
        for j in range(i + 1, 3):
            expected += max(gram[i, j], 1e-9) / np.sqrt(max(gram[i, i] * gram[j, j], 1e-18))
    expected *= 2 / (3 * 2)
    floored_diagonal = sum(max(gram[i, j], 1e-9) / np.sqrt(max(gram[i, i], 1e-9) * max(gram[j, j], 1e-9))
                           for i in range(3) for j in range(i + 1, 3)) / 3
    assert abs(expected - floored_diagonal) > 0.4  # the two floorings disagree here: the case tells them apart
    assert float(cauchy_schwarz_divergence(t(A), t(K))) == pytest.approx(expected, rel=1e-9)


def test_gaussian_kernel_matches_hand_computation():
    # D's entries sorted: 0 x4, 1 x4, 9 x4, 10 x4 -> lower median 1 -> sigma^2 = 0.15
    K = hand_kernel(HIDDEN)
    assert K[0, 1] == pytest.approx(np.exp(-1 / 0.3))
    np.testing.assert_allclose(gaussian_kernel(t(HIDDEN)).numpy(), K, rtol=1e-12)


def test_ddc_terms_match_hand_computation():
    K = hand_kernel(HIDDEN)
    n = len(A)
    ddc_2 = sum(A[i] @ A[j] for i in range(n) for j in range(i + 1, n)) * 2 / (n * (n - 1))
    M = np.exp(-((A[:, None, :] - np.eye(2)[None, :, :]) ** 2).sum(-1))
    terms = ddc_terms(t(A), t(HIDDEN))
    assert float(terms["ddc_1"]) == pytest.approx(hand_cs(A, K), rel=1e-9)
    assert float(terms["ddc_2"]) == pytest.approx(ddc_2, rel=1e-12)
    assert float(terms["ddc_3"]) == pytest.approx(hand_cs(M, K), rel=1e-9)
    assert float(cauchy_schwarz_divergence(t(A), t(K))) == pytest.approx(hand_cs(A, K), rel=1e-9)


def test_ddc_separated_clusters():
    """One-hot assignments of two far-apart groups: no kernel mass between clusters -> ddc_1 = 0. ddc_2 (the
    reference code's n x n form) counts same-cluster pairs: 2 of 6 pairs here, and 0 when all rows differ."""
    hidden = t(np.array([[0.0, 0.0], [0.0, 0.1], [100.0, 0.0], [100.0, 0.1]]))
    onehot = t(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
    terms = ddc_terms(onehot, hidden)
    assert float(terms["ddc_1"]) == pytest.approx(0.0, abs=1e-6)
    assert float(terms["ddc_2"]) == pytest.approx(2 / 6)
    distinct = ddc_terms(t(np.eye(3)), t(np.array([[0.0, 0.0], [50.0, 0.0], [0.0, 50.0]])))
    assert float(distinct["ddc_2"]) == 0.0
    overlapping = ddc_terms(t(A), t(HIDDEN))
    assert float(overlapping["ddc_1"]) > 0.01


ZA = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
ZB = np.array([[1.0, 0.2], [0.1, 1.0], [-1.0, 1.0]])


def hand_info_nce(za: np.ndarray, zb: np.ndarray, tau: float, w: np.ndarray, with_positive: bool) -> float:
    """Both directions of -w_i log(exp(s_ii) / sum_j exp(s_ij)), averaged; the sum skips j = i if asked."""
    unit = lambda z: z / np.linalg.norm(z, axis=1, keepdims=True)  # noqa: E731
    s = unit(za) @ unit(zb).T / tau
    out = 0.0
    for sim in (s, s.T):
        terms = []
        for i in range(len(sim)):
            others = [np.exp(sim[i, j]) for j in range(len(sim)) if with_positive or j != i]
            terms.append(-w[i] * np.log(np.exp(sim[i, i]) / sum(others)))
        out += np.mean(terms) / 2
    return out


@pytest.mark.parametrize("with_positive", [True, False])
def test_info_nce_matches_hand_computation(with_positive):
    ones = np.ones(3)
    got = info_nce(t(ZA), t(ZB), tau=0.5, positive_in_denominator=with_positive)
    assert float(got) == pytest.approx(hand_info_nce(ZA, ZB, 0.5, ones, with_positive), rel=1e-10)
    w = np.array([0.2, 1.0, 0.5])
    got_w = info_nce(t(ZA), t(ZB), tau=0.5, weights=t(w), positive_in_denominator=with_positive)
    assert float(got_w) == pytest.approx(hand_info_nce(ZA, ZB, 0.5, w, with_positive), rel=1e-10)


def test_info_nce_weights_scale_the_loss():
    plain = float(info_nce(t(ZA), t(ZB), tau=0.1))
    assert float(info_nce(t(ZA), t(ZB), tau=0.1, weights=t(np.full(3, 2.0)))) == pytest.approx(2 * plain)
    assert float(info_nce(t(ZA), t(ZB), tau=0.1, weights=t(np.zeros(3)))) == 0.0


def test_info_nce_one_direction_and_shape_check():
    one = float(info_nce(t(ZA), t(ZB), tau=0.5, symmetric=False))
    back = float(info_nce(t(ZB), t(ZA), tau=0.5, symmetric=False))
    assert float(info_nce(t(ZA), t(ZB), tau=0.5)) == pytest.approx((one + back) / 2)
    with pytest.raises(ValueError, match="same shape"):
        info_nce(t(ZA), t(ZB[:2]))


def test_weighted_kl_zero_for_equal_distributions():
    P = t(np.array([[0.7, 0.3], [0.5, 0.5], [0.0, 1.0]]))
    assert float(weighted_kl(P, P)) == pytest.approx(0.0, abs=1e-12)


def test_weighted_kl_closed_form():
    P = np.array([[0.7, 0.3], [0.5, 0.5]])
    Q = np.array([[0.4, 0.6], [0.9, 0.1]])
    kl = (P * np.log(P / Q)).sum(axis=1)  # 0.7 ln(7/4) + 0.3 ln(1/2); 0.5 ln(5/9) + 0.5 ln 5
    assert kl[0] == pytest.approx(0.7 * np.log(1.75) + 0.3 * np.log(0.5))
    assert float(weighted_kl(t(P), t(Q))) == pytest.approx(kl.mean(), rel=1e-12)
    w = np.array([1.0, 0.5])
    assert float(weighted_kl(t(P), t(Q), t(w))) == pytest.approx((w * kl).mean(), rel=1e-12)
