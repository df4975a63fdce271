"""Interest values (IDMC Eq. 2-15) on hand-built batches with known answers."""

import math

import numpy as np
import pytest
import torch

from mmc_core.interest import (
    average_fusion,
    batch_interest,
    bayesian_fusion,
    feature_similarity,
    interest_values,
    knn_graph,
    label_similarity,
    uniform_interest,
)


def t(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


def soft(n: int, k: int = 3, seed: int = 0) -> torch.Tensor:
    return torch.softmax(torch.randn(n, k, generator=torch.Generator().manual_seed(seed), dtype=torch.float64), 1)


LINE = t([[0.0], [1.0], [3.0], [7.0]])  # nearest neighbours: 0->1, 1->0, 3->1, 7->3


def test_similarities_known_values():
    E = feature_similarity(t([[0.0, 0.0], [3.0, 4.0]]), lam=0.05)
    assert float(E[0, 1]) == pytest.approx(math.exp(-0.05 * 25))
    assert torch.allclose(torch.diagonal(E), torch.ones(2, dtype=torch.float64))
    S = label_similarity(t([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]))
    assert float(S[0, 1]) == pytest.approx(1 / math.sqrt(2))
    assert float(S[0, 2]) == pytest.approx(0.0)
    assert float(S[2, 2]) == pytest.approx(1.0)


def test_knn_graph_neighbours_no_self_loops_k_per_row():
    g = knn_graph(LINE, k=1)
    expected = np.zeros((4, 4), dtype=bool)
    expected[[0, 1, 2, 3], [1, 0, 1, 2]] = True
    np.testing.assert_array_equal(g.numpy(), expected)
    h = torch.randn(30, 4, generator=torch.Generator().manual_seed(1))
    g = knn_graph(h, k=10)
    assert not g.diagonal().any()
    assert (g.sum(dim=1) == 10).all()
    small = knn_graph(h[:5], k=10)  # k capped at n - 1: everyone links everyone else
    assert (small.sum(dim=1) == 4).all() and not small.diagonal().any()
    with pytest.raises(ValueError, match="positive integer"):
        knn_graph(h, k=0)


def test_bayesian_fusion_follows_the_confident_source():
    """Proposition 1: E = 0.99 is near-certain, S = 0.5 is uninformative; the posterior mean stays near E."""
    E, S = t([0.99]), t([0.5])
    theta = float(bayesian_fusion(E, S))
    # n^E = 1/0.0099, n^S = 1/0.25 (eps negligible): (100 + 2) / (101.0101 + 4)
    assert theta == pytest.approx(102 / (1 / 0.0099 + 4), rel=1e-4)
    assert abs(theta - 0.99) < abs(float(average_fusion(E, S)) - 0.99)
    assert float(bayesian_fusion(S, E)) == pytest.approx(theta)  # symmetric in its two sources
    low = float(bayesian_fusion(t([0.01]), t([0.5])))  # confident dissimilarity also dominates
    assert low == pytest.approx(1 - theta, rel=1e-4) and low < 0.03


def test_fusion_of_equal_values_is_that_value():
    x = t(np.linspace(0.01, 0.99, 25))
    assert torch.allclose(bayesian_fusion(x, x), x)
    assert torch.allclose(average_fusion(x, x), x)


def test_average_fusion_is_the_mean():
    E, S = t([[0.2, 0.9], [0.4, 0.1]]), t([[0.6, 0.5], [0.0, 1.0]])
    assert torch.allclose(average_fusion(E, S), (E + S) / 2)


def test_interest_values_known_answer_on_a_line():
    """k = 1 on 0, 1, 3, 7: in-degrees 1, 2, 1, 0 -> median 1 -> eta~ = 1, 1, 1, 0. With q = p every
    consistency is cos = 1: the ratio reading leaves eta~, the literal Eq. 15 multiplies by exp(1 - e)."""
    p = soft(4)
    parts = interest_values(LINE, p, p, k=1, label_term="ratio", return_parts=True)
    np.testing.assert_allclose(parts["eta"].numpy(), [1, 2, 1, 0])
    np.testing.assert_allclose(parts["eta_tilde"].numpy(), [1, 1, 1, 0])
    np.testing.assert_allclose(parts["w"].numpy(), [1, 1, 1, 0], atol=1e-12)
    literal = interest_values(LINE, p, p, k=1, label_term="paper")
    np.testing.assert_allclose(literal.numpy(), np.array([1, 1, 1, 0]) * math.exp(1 - math.e), rtol=1e-9)


def test_hub_receives_the_most_interest():
    """A centre surrounded by 5 points at radius 1 (neighbouring outer points are 1.18 apart) is everyone's
    nearest neighbour, so it collects the most votes."""
    angles = np.arange(5) * 2 * np.pi / 5
    h = t(np.vstack([[0.0, 0.0], np.c_[np.cos(angles), np.sin(angles)]]))
    p = soft(6)
    eta = interest_values(h, p, p, k=1, return_parts=True)["eta"]
    assert float(eta[0]) == pytest.approx(5.0) and float(eta[1:].max()) == pytest.approx(1.0)
    for fusion in ("bayes", "average"):
        parts = interest_values(h, p, p, k=2, fusion=fusion, return_parts=True)
        assert int(parts["eta"].argmax()) == 0
        assert float(parts["eta"][0]) > 1.5 * float(parts["eta"][1:].max())
        assert torch.allclose(parts["G_tilde"].sum(dim=1), torch.ones(6, dtype=torch.float64))


def test_median_cap():
    h = torch.randn(51, 5, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    parts = interest_values(h, soft(51), soft(51, seed=1), k=5, return_parts=True)
    eta, eta_tilde = parts["eta"], parts["eta_tilde"]
    assert (eta_tilde <= 1).all()
    assert int((eta_tilde == 1).sum()) >= 51 / 2
    below = eta < eta.median()
    assert torch.allclose(eta_tilde[below], eta[below] / eta.median())


@pytest.mark.parametrize("label_term", ["paper", "ratio"])
def test_weights_at_most_one(label_term):
    h = 3 * torch.randn(40, 8, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    p, q = soft(40), soft(40, seed=2)
    parts = interest_values(h, p, q, label_term=label_term, return_parts=True)
    w = parts["w"]
    assert w.shape == (40,) and (w >= 0).all() and (w <= 1).all()
    if label_term == "paper":  # exp(c - max exp(c)) <= exp(c - e^c) <= 1/e
        assert (w <= 1 / math.e + 1e-12).all()
    else:  # the most consistent sample keeps its full vote share: consistency 1, so w = eta~ there (and <= 1)
        top = int(torch.argmax(torch.cosine_similarity(p, q, dim=1)))
        assert float(parts["consistency"][top]) == pytest.approx(1.0, abs=1e-12)
        assert float(w[top]) == pytest.approx(float(parts["eta_tilde"][top]), abs=1e-12)


def test_the_two_readings_differ_by_a_batch_constant():
    """exp(c - zeta) = exp(c)/zeta * zeta exp(-zeta): the literal Eq. 15 is the ratio reading times one scalar."""
    h = torch.randn(30, 4, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    p, q = soft(30), soft(30, seed=7)
    paper = interest_values(h, p, q, label_term="paper", return_parts=True)
    ratio = interest_values(h, p, q, label_term="ratio")
    zeta = float(torch.exp(torch.cosine_similarity(p, q, dim=1)).max())
    assert torch.allclose(paper["w"], ratio * zeta * math.exp(-zeta))


def test_values_carry_no_gradient():
    h = torch.randn(20, 4, requires_grad=True)
    logits = torch.randn(20, 3, requires_grad=True)
    p, q = torch.softmax(logits, 1), torch.softmax(2 * logits, 1)
    parts = interest_values(h, p, q, k=3, return_parts=True)
    assert all(not v.requires_grad for v in parts.values())
    assert not interest_values(h, p, q).requires_grad
    assert not bayesian_fusion(feature_similarity(h), label_similarity(p)).requires_grad


def test_batch_interest_is_per_view():
    hs = [torch.randn(12, 4), torch.randn(12, 6)]
    P, Qs = soft(12).float(), [soft(12, seed=1).float(), soft(12, seed=2).float()]
    ws = batch_interest(hs, P, Qs, k=3)
    assert len(ws) == 2
    assert torch.allclose(ws[1], interest_values(hs[1], P, Qs[1], k=3))
    with pytest.raises(ValueError, match="per-view"):
        batch_interest(hs, P, Qs[:1])


def test_uniform_interest_and_bad_options():
    assert torch.equal(uniform_interest(5), torch.ones(5))
    h, p = torch.randn(6, 2), soft(6).float()
    with pytest.raises(ValueError, match="fusion"):
        interest_values(h, p, p, fusion="mean")
    with pytest.raises(ValueError, match="label_term"):
        interest_values(h, p, p, label_term="max")
    with pytest.raises(ValueError, match="same samples"):
        interest_values(h, p[:5], p[:5])
