"""Metrics against hand-worked cases and scikit-learn."""

import numpy as np
import pytest
from sklearn import metrics as skm

from mmc_core.metrics import METRICS, accuracy, evaluate, pair_f_score, purity


def test_perfect_labelling_under_permutation():
    y = np.array([0, 0, 1, 1, 2, 2])
    m = evaluate(y, np.array([2, 2, 0, 0, 1, 1]))
    assert set(m) == set(METRICS)
    for name in METRICS:
        assert m[name] == pytest.approx(1.0)


def test_hand_worked_case():
    # classes 0,0,0,1,1,1 ; clusters a,a,b,b,b,b
    # contingency: class0 -> (a:2, b:1), class1 -> (a:0, b:3)
    y_true = [0, 0, 0, 1, 1, 1]
    y_pred = [5, 5, 7, 7, 7, 7]
    assert accuracy(y_true, y_pred) == pytest.approx(5 / 6)  # a->0 (2), b->1 (3)
    assert purity(y_true, y_pred) == pytest.approx(5 / 6)  # a: 2, b: 3
    # pairs: same cluster = C(2,2)+C(4,2) = 1+6 = 7; same class = 3+3 = 6; both = C(2,2)+C(3,2) = 1+3 = 4
    p, r = 4 / 7, 4 / 6
    assert pair_f_score(y_true, y_pred) == pytest.approx(2 * p * r / (p + r))
    # rand index: 15 pairs; agreements = both-same (4) + both-different: different class & different cluster
    # different class pairs = 9, of which in different clusters: class0 in a (2) x class1 in b (3) = 6,
    # class0 in b (1) x class1 in a (0) = 0 -> 6. RI = (4 + 6) / 15
    assert evaluate(y_true, y_pred)["ri"] == pytest.approx(10 / 15)


def test_purity_exceeds_accuracy_when_clusters_share_a_class():
    y_true = [0, 0, 0, 0, 1, 1]
    y_pred = [0, 0, 1, 1, 2, 2]  # two clusters of class 0
    assert purity(y_true, y_pred) == pytest.approx(1.0)
    assert accuracy(y_true, y_pred) == pytest.approx(4 / 6)


def test_agrees_with_sklearn_and_nmi_averaging():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 5, 300)
    y_pred = np.where(rng.random(300) < 0.6, y_true, rng.integers(0, 5, 300))
    m = evaluate(y_true, y_pred)
    assert m["nmi"] == pytest.approx(skm.normalized_mutual_info_score(y_true, y_pred))
    assert m["ari"] == pytest.approx(skm.adjusted_rand_score(y_true, y_pred))
    assert m["ri"] == pytest.approx(skm.rand_score(y_true, y_pred))
    geo = evaluate(y_true, y_pred, nmi_average="geometric")["nmi"]
    assert geo == pytest.approx(skm.normalized_mutual_info_score(y_true, y_pred, average_method="geometric"))


def test_accuracy_matches_brute_force_over_permutations():
    from itertools import permutations

    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 4, 60)
    y_pred = rng.integers(0, 4, 60)
    best = max(np.mean(np.array(p)[y_pred] == y_true) for p in permutations(range(4)))
    assert accuracy(y_true, y_pred) == pytest.approx(best)


@pytest.mark.parametrize("seed", range(20))
def test_purity_never_below_accuracy_on_random_labellings(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 200))
    y_true = rng.integers(0, rng.integers(1, 8), n)
    y_pred = rng.integers(0, rng.integers(1, 12), n)
    m = evaluate(y_true, y_pred)
    assert m["pur"] >= m["acc"] - 1e-12
    for name in METRICS:
        assert -1.0 <= m[name] <= 1.0 if name == "ari" else 0.0 <= m[name] <= 1.0


def test_bad_input():
    with pytest.raises(ValueError, match="must match"):
        evaluate([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="empty"):
        evaluate([], [])
