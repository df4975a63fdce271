"""Graph-based classical baselines (SwMC, ONMSC) on planted multi-view data, and their building blocks."""

import warnings

import numpy as np
import pytest
from synthetic import blobs, three_view_blobs

from mmc_core.methods import make
from mmc_core.methods.onmsc import _shared_neighbourhood, simplex_qp
from mmc_core.methods.swmc import adaptive_neighbor_graph, project_rows_to_simplex
from mmc_core.metrics import accuracy

GRAPH = {"swmc": "SwMC", "onmsc": "ONMSC"}
N_PER = 50


@pytest.fixture(scope="module")
def planted():
    return three_view_blobs(N_PER)


@pytest.fixture(scope="module")
def with_noise_view():
    """Two informative views and a third of pure noise."""
    rng = np.random.default_rng(2)
    y = np.repeat(np.arange(3), N_PER)
    return [blobs(rng, y, 4, 8.0, 1.0), blobs(rng, y, 7, 8.0, 1.5), rng.normal(size=(y.size, 5))], y


def test_registered_with_table_labels_and_raw_features():
    for name, label in GRAPH.items():
        est = make(name, 3)
        assert est.reported_as == label
        assert est.default_scaling == "none"
        assert not est.per_view


@pytest.mark.parametrize("name", GRAPH)
def test_recovers_planted_clusters(name, planted):
    Xs, y = planted
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # SwMC must reach exactly 3 components, no K-means fallback
        labels = make(name, 3, random_state=0).fit_predict(Xs)
    assert accuracy(y, labels) >= 0.9


@pytest.mark.parametrize("name", GRAPH)
def test_deterministic_and_transductive(name, planted):
    Xs, _ = planted
    a = make(name, 3, random_state=3).fit(Xs)
    np.testing.assert_array_equal(a.labels_, make(name, 3, random_state=3).fit(Xs).labels_)
    np.testing.assert_array_equal(a.predict([X.copy() for X in Xs]), a.labels_)
    with pytest.raises(NotImplementedError, match="transductive"):
        a.predict([X + 1.0 for X in Xs])


def test_swmc_gives_a_pure_noise_view_the_smallest_weight(with_noise_view):
    Xs, y = with_noise_view
    est = make("swmc", 3).fit(Xs)
    assert np.argmin(est.view_weights_) == 2
    assert est.view_weights_.sum() == pytest.approx(1.0)
    assert est.n_components_ == 3
    assert accuracy(y, est.labels_) >= 0.9
    S = est.graph_.toarray()
    np.testing.assert_allclose(S.sum(axis=1), 1.0)  # rows on the simplex
    assert S.min() >= 0 and np.all(np.diag(S) == 0)


def test_swmc_falls_back_to_kmeans_with_a_warning_when_components_differ():
    # 6 tight, far-apart groups and 3 neighbours: every view's graph already has 6 components, so S cannot have 3.
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(6), 10)
    Xs = [100.0 * rng.normal(size=(6, d))[y] + 0.1 * rng.normal(size=(60, d)) for d in (3, 4)]
    with pytest.warns(RuntimeWarning, match="6 connected components.*K-means"):
        est = make("swmc", 3, n_neighbors=3).fit(Xs)
    assert est.n_components_ == 6
    assert np.unique(est.labels_).size == 3


def test_can_graph_closed_form():
    # Sample 0: squared distances 1, 9 to its 2 neighbours, 36 to the third -> (36 - d) / (2 * 36 - 10).
    idx, w = adaptive_neighbor_graph(np.array([[0.0], [1.0], [3.0], [6.0]]), 2)
    np.testing.assert_array_equal(idx[0], [1, 2])
    np.testing.assert_allclose(w[0], [35 / 62, 27 / 62])
    np.testing.assert_array_equal(idx[1], [0, 2])  # squared distances 1, 4, then 25
    np.testing.assert_allclose(w[1], [24 / 45, 21 / 45])
    np.testing.assert_allclose(w.sum(axis=1), 1.0)


def test_simplex_projection_and_qp():
    V = np.array([[0.5, 0.5, 0.0], [2.0, 0.0, 9.0], [0.8, 0.4, -1.0]])
    valid = np.array([[True, True, True], [True, True, False], [True, True, True]])
    expected = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.7, 0.3, 0.0]])
    np.testing.assert_allclose(project_rows_to_simplex(V, valid), expected)
    # With Q = I the QP is the projection of p onto the simplex.
    np.testing.assert_allclose(simplex_qp(np.eye(3), V[2], np.full(3, 1 / 3)), expected[2], atol=1e-7)


def test_onmsc_objective_decreases_and_weights_on_simplex(planted):
    Xs, y = planted
    est = make("onmsc", 3, tol=0.0, max_iter=6).fit(Xs)
    assert est.n_iter_ == 6
    J = np.array(est.objective_)
    assert np.all(np.diff(J) <= 1e-9 * np.abs(J[:-1]))  # exact block updates: J never increases
    assert est.view_weights_.min() >= 0 and est.view_weights_.sum() == pytest.approx(1.0)
    assert est.embedding_.shape == (y.size, 3)


def test_onmsc_shared_neighbourhood_is_symmetric_and_covers_tau():
    rng = np.random.default_rng(0)
    K = np.exp(-rng.random((20, 20)))
    mask = _shared_neighbourhood([K + K.T, K @ K.T], 4)
    assert np.array_equal(mask, mask.T)
    assert not mask.diagonal().any()
    assert mask.sum(axis=1).min() >= 4


@pytest.mark.parametrize(
    ("name", "params", "match"),
    [
        ("swmc", {"n_neighbors": 0}, "n_neighbors"),
        ("swmc", {"max_inner": 0}, "max_inner"),
        ("onmsc", {"lam": -1.0}, "lam"),
        ("onmsc", {"n_neighbors": 0}, "n_neighbors"),
        ("onmsc", {"max_iter": 0}, "max_iter"),
    ],
)
def test_bad_parameters_rejected(name, params, match, planted):
    with pytest.raises(ValueError, match=f"parameter {match}="):
        make(name, 3, **params).fit(planted[0])


@pytest.mark.parametrize(("name", "params"), [("swmc", {"n_neighbors": 149}), ("onmsc", {"n_neighbors": 150})])
def test_neighbourhood_larger_than_data_rejected_at_fit(name, params, planted):
    Xs, _ = planted
    with pytest.raises(ValueError, match="n_neighbors"):
        make(name, 3, **params).fit(Xs)
