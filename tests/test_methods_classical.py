"""Classical baselines (KM, AmKM, Ncuts, AmNcuts, CoregMVSC, RMKMC) on planted multi-view data."""

import numpy as np
import pytest
from synthetic import blobs, three_view_blobs
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

from mmc_core import affinity
from mmc_core.methods import available, make, rmkmc
from mmc_core.preprocessing import scale_views

CLASSICAL = {  # registry name -> label in the papers' tables
    "km": "KM",
    "amkm": "AmKM",
    "ncuts": "Ncuts",
    "amncuts": "AmNcuts",
    "coregmvsc": "CoregMVSC",
    "rmkmc": "RMKMC",
}
INDUCTIVE = ["km", "amkm", "rmkmc"]  # can label new samples; the others are transductive
N_PER = 50


def acc(y: np.ndarray, pred: np.ndarray) -> float:
    """Clustering accuracy: best one-to-one matching of predicted clusters to classes (Hungarian)."""
    k = max(y.max(), pred.max()) + 1
    counts = np.zeros((k, k))
    np.add.at(counts, (y, pred), 1)
    rows, cols = linear_sum_assignment(-counts)
    return counts[rows, cols].sum() / y.size


@pytest.fixture(scope="module")
def planted():
    return three_view_blobs(N_PER)


def test_all_classical_methods_registered_with_their_table_labels():
    assert set(CLASSICAL) <= set(available())
    for name, label in CLASSICAL.items():
        est = make(name, 3)
        assert est.reported_as == label
        assert est.per_view == (name in {"km", "ncuts"})


@pytest.mark.parametrize("name", CLASSICAL)
def test_recovers_planted_clusters(name, planted):
    Xs, y = planted
    assert acc(y, make(name, 3, random_state=0).fit_predict(Xs)) >= 0.95


@pytest.mark.parametrize("name", ["km", "ncuts"])
def test_single_view_methods_use_the_chosen_view(name, planted):
    Xs, y = planted
    # Only view 1 carries the clusters (the cleanest planted view); views 0 and 2 are pure noise.
    rng = np.random.default_rng(1)
    noisy = [rng.normal(size=Xs[1].shape), Xs[0], rng.normal(size=Xs[2].shape)]
    assert acc(y, make(name, 3, view=1).fit_predict(noisy)) >= 0.95
    assert acc(y, make(name, 3, view=0).fit_predict(noisy)) < 0.7


@pytest.mark.parametrize("name", CLASSICAL)
def test_deterministic_and_fit_predict_consistent(name, planted):
    Xs, _ = planted
    a = make(name, 3, random_state=3)
    b = make(name, 3, random_state=3)
    labels = a.fit_predict(Xs)
    np.testing.assert_array_equal(labels, b.fit(Xs).labels_)
    np.testing.assert_array_equal(labels, a.labels_)
    np.testing.assert_array_equal(a.predict(Xs), a.labels_)
    np.testing.assert_array_equal(a.predict([X.copy() for X in Xs]), a.labels_)


@pytest.mark.parametrize("name", INDUCTIVE)
def test_inductive_methods_label_new_samples(name, planted):
    Xs, _ = planted
    est = make(name, 3).fit(Xs)
    rows = np.arange(0, 3 * N_PER, 7)
    np.testing.assert_array_equal(est.predict([X[rows] for X in Xs]), est.labels_[rows])


@pytest.mark.parametrize("name", sorted(set(CLASSICAL) - set(INDUCTIVE)))
def test_transductive_methods_refuse_new_samples(name, planted):
    Xs, _ = planted
    est = make(name, 3).fit(Xs)
    with pytest.raises(NotImplementedError, match="transductive"):
        est.predict([X + 1.0 for X in Xs])  # same shapes, different data


@pytest.mark.parametrize("name", CLASSICAL)
def test_bad_input_rejected(name, planted):
    Xs, _ = planted
    est = make(name, 3)
    with pytest.raises(ValueError, match="number of samples"):
        est.fit([Xs[0], Xs[1][:-1], Xs[2]])
    nan = Xs[0].copy()
    nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit([nan, Xs[1], Xs[2]])
    with pytest.raises(ValueError, match="2-D"):
        est.fit([Xs[0][:, 0], Xs[1], Xs[2]])
    with pytest.raises(TypeError, match="list of per-view arrays"):
        est.fit(Xs[0])
    with pytest.raises(RuntimeError, match="not fitted"):
        est.predict(Xs)
    est.fit(Xs)
    with pytest.raises(ValueError, match="features"):
        est.predict([Xs[0][:, :2], Xs[1], Xs[2]])


@pytest.mark.parametrize("name", ["km", "ncuts"])
def test_view_out_of_range(name, planted):
    Xs, _ = planted
    with pytest.raises(ValueError, match="out of range.*3 view"):
        make(name, 3, view=3).fit(Xs)
    with pytest.raises(ValueError, match="view=-1"):
        make(name, 3, view=-1).fit(Xs)


@pytest.mark.parametrize(("name", "params"), [("rmkmc", {"gamma": 1.0}), ("coregmvsc", {"lam": 0.0})])
def test_bad_parameters_rejected(name, params, planted):
    """The bounds that are the methods' own (RMKMC's exponent > 1, CoregMVSC's lambda > 0), refused at fit."""
    with pytest.raises(ValueError, match=f"{next(iter(params))}=.*must be a number >"):
        make(name, 3, **params).fit(planted[0])


def test_gaussian_affinity_median_bandwidth():
    # Squared distances 1, 9, 4 -> median 4 = sigma^2 -> K_ij = exp(-d_ij^2 / 8).
    K = affinity.gaussian_affinity(np.array([[0.0], [1.0], [3.0]]))
    expected = np.exp(-np.array([[0, 1, 9], [1, 0, 4], [9, 4, 0]]) / 8.0)
    np.testing.assert_allclose(K, expected)


@pytest.mark.filterwarnings("ignore:Graph is not fully connected")  # kNN graph of well-separated blobs
def test_sparse_knn_affinity_above_dense_max(planted, monkeypatch):
    Xs, y = planted
    monkeypatch.setattr(affinity, "DENSE_MAX", 100)
    W = affinity.gaussian_affinity(Xs[0])
    assert sp.issparse(W)
    assert (W != W.T).nnz == 0
    assert W.nnz <= 2 * affinity.N_NEIGHBORS * y.size
    assert acc(y, make("ncuts", 3).fit_predict(Xs)) >= 0.95
    assert acc(y, make("coregmvsc", 3).fit_predict(Xs)) >= 0.95


def test_normalized_affinity():
    L = affinity.normalized_affinity(np.array([[1.0, 0.5], [0.5, 1.0]]))
    np.testing.assert_allclose(L, np.array([[1.0, 0.5], [0.5, 1.0]]) / 1.5)


def test_coreg_lanczos_path_matches_dense_eigensolver(planted, monkeypatch):
    Xs, _ = planted
    dense = make("coregmvsc", 3).fit_predict(Xs)
    monkeypatch.setattr(affinity, "EIGH_DENSE_MAX", 0)
    assert acc(dense, make("coregmvsc", 3).fit_predict(Xs)) == 1.0


def test_coreg_beats_single_view_spectral_on_complementary_views():
    """View 0 isolates A and only weakly splits B from C; view 1 isolates B and weakly splits A from C."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 60)
    means = [np.array([[8.0, 0.0], [0.0, 1.0], [0.0, -1.0]]), np.array([[0.0, -1.0], [8.0, 0.0], [0.0, 1.0]])]
    Xs = [m[y] + rng.normal(size=(y.size, 2)) for m in means]
    single = [acc(y, make("ncuts", 3, view=v).fit_predict(Xs)) for v in (0, 1)]
    est = make("coregmvsc", 3).fit(Xs)
    assert max(single) < 0.95  # each view alone is ambiguous
    assert acc(y, est.labels_) >= 0.95
    assert acc(y, est.labels_) >= max(single)
    assert est.objective_[-1] >= est.objective_[0]  # alternating maximisation


def test_rmkmc_down_weights_a_pure_noise_view():
    rng = np.random.default_rng(2)
    y = np.repeat(np.arange(3), N_PER)
    views = [blobs(rng, y, 4, 5.0, 1.0), blobs(rng, y, 6, 5.0, 1.0), rng.normal(size=(y.size, 4))]
    est = make("rmkmc", 3).fit(scale_views(views, "zscore"))  # equal per-feature variance in every view
    assert np.argmin(est.view_weights_) == 2
    assert est.view_weights_.sum() == pytest.approx(1.0)
    assert acc(y, est.labels_) >= 0.95
    assert np.all(np.diff(est.objective_) <= 1e-9 * np.abs(est.objective_[:-1]))  # J never increases


def test_rmkmc_view_weights_formula():
    # gamma = 2: alpha_v proportional to (2 H_v)^-1 -> H = [1, 2] gives [2/3, 1/3].
    np.testing.assert_allclose(rmkmc._view_weights(np.array([1.0, 2.0]), 2.0), [2 / 3, 1 / 3])


def test_fill_empty_clusters_moves_the_worst_sample_deterministically():
    labels = np.array([0, 0, 0, 1])  # cluster 2 is empty
    cost = np.array([[1.0, 5, 5], [3.0, 5, 5], [3.0, 5, 5], [9.0, 9, 9]])
    # Sample 3 has the largest own cost but is alone in cluster 1; samples 1 and 2 tie -> the first moves.
    np.testing.assert_array_equal(rmkmc.fill_empty_clusters(labels, cost), [0, 2, 0, 1])
    np.testing.assert_array_equal(labels, [0, 0, 0, 1])  # input untouched


@pytest.mark.parametrize("name", sorted(CLASSICAL) + ["onmsc", "swmc", "smcmb"])
def test_values_beyond_float32_are_refused_as_by_the_deep_methods(name, planted):
    """1e200 used to give one cluster and numpy overflow warnings; now the deep methods' error, naming the fix."""
    views, _ = planted
    huge = [views[0] * 1e200] + views[1:]
    with pytest.raises(ValueError, match=r"View 0 has values up to \|x\| = .*e\+2\d\d, beyond float32's range.*"
                                         r"Scale the features first"):
        make(name, 3).fit(huge)
    assert len(np.unique(make(name, 3, scaling="minmax").fit_predict(huge))) == 3  # scaled into range first


def test_all_constant_views_warn_that_the_partition_follows_the_row_order():
    constant = [np.full((6, 2), 3.0), np.full((6, 1), -1.0)]
    with pytest.warns(UserWarning, match=r"View 0 is constant .*every view is, so the partition follows the order "
                                         r"of the rows, not the data"):
        labels = make("amkm", 2).fit_predict(constant)
    assert len(labels) == 6  # warned, not refused
    with pytest.warns(UserWarning, match=r"View 1 is constant .*the partition comes from the other views alone"):
        make("amkm", 2).fit([np.arange(12.0).reshape(6, 2), np.full((6, 1), -1.0)])
