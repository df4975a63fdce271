"""ICMVC and DIVIDE on the shared trainer: they recover planted clusters in 3 views, are deterministic, name and
switch off their loss terms; DIVIDE's random-walk positives follow the graph (never across disconnected parts, but
beyond direct neighbours); ICMVC's graph, fusion and high-confidence target are as defined. Small nets, one thread."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmc_core.losses import info_nce
from mmc_core.methods import make
from mmc_core.methods.divide import DIVIDE, kernel_affinity, random_walk_targets, soft_target_nce
from mmc_core.methods.icmvc import ICMVC, high_confidence_target, kl_batchmean
from mmc_core.nn import dense_adjacency, normalized_adjacency, symmetric_knn
from mmc_core.metrics import accuracy
from mmc_core.preprocessing import scale_views

SMALL = {
    "icmvc": {"gcn_widths": (32, 16), "epochs": 30, "lr": 1e-2},  # full batch: one step per epoch
    "divide": {"encoder_widths": (32, 16), "epochs": 30, "batch_size": 60},
}
TERMS = {
    "icmvc": {"instance_contrast", "cluster_contrast", "entropy", "high_confidence"},
    "divide": {"intra_view", "inter_view"},
}


@pytest.fixture(scope="module")
def planted() -> tuple[list[np.ndarray], np.ndarray]:
    """3 clusters x 60 samples, three views (20, 30, 25 features): cluster centre + unit Gaussian noise, min-max."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 60)
    views = [2.0 * rng.normal(size=(3, d))[y] + rng.normal(size=(180, d)) for d in (20, 30, 25)]
    return scale_views(views, "minmax"), y


@pytest.fixture(scope="module")
def fitted(planted) -> dict:
    """Each method fitted once (labels given only for the per-epoch monitoring columns)."""
    views, y = planted
    return {name: make(name, 3, random_state=0, **params).fit(views, y) for name, params in SMALL.items()}


def test_registered_with_published_defaults():
    icmvc, divide = make("icmvc", 8), make("DIVIDE", 8)
    assert isinstance(icmvc, ICMVC) and icmvc.reported_as == "ICMVC"
    assert isinstance(divide, DIVIDE) and divide.reported_as == "DIVIDE"
    assert (icmvc.epochs, icmvc.lr, icmvc.knn, icmvc.tau_instance, icmvc.tau_cluster) == (500, 1e-3, 10, 1.0, 0.5)
    assert (divide.epochs, divide.batch_size, divide.start_rectify_epoch, divide.steps) == (200, 1024, None, 5)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_recovers_planted_clusters(fitted, planted, name):
    views, y = planted
    model = fitted[name]
    assert accuracy(y, model.labels_) >= 0.9
    np.testing.assert_array_equal(model.predict(views), model.labels_)
    proba = model.predict_proba(views)
    assert proba.shape == (180, 3) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(proba.argmax(axis=1), model.labels_)
    assert model.transform(views).shape[0] == 180


@pytest.mark.parametrize("name", sorted(SMALL))
def test_loss_terms_are_named_in_history(fitted, name):
    history = fitted[name].history_
    assert TERMS[name] <= set(history.columns) and {"acc", "nmi", "pur", "total"} <= set(history.columns)
    assert history[sorted(TERMS[name])].notna().all().all()
    assert len(history) == SMALL[name]["epochs"]


@pytest.mark.parametrize("name", sorted(SMALL))
def test_deterministic_per_random_state(planted, name):
    views = planted[0][:2]  # two views: the other case of the view loops
    params = {**SMALL[name], "epochs": 3}
    runs = [make(name, 3, random_state=seed, **params).fit(views) for seed in (7, 7, 8)]
    np.testing.assert_array_equal(runs[0].labels_, runs[1].labels_)
    np.testing.assert_array_equal(runs[0].history_["total"], runs[1].history_["total"])
    assert not np.array_equal(runs[0].history_["total"], runs[2].history_["total"])


@pytest.mark.parametrize("name, term", [("icmvc", "high_confidence"), ("divide", "inter_view")])
def test_disable_removes_a_term_from_the_objective(planted, name, term):
    params = {**SMALL[name], "epochs": 2}
    history = make(name, 3, disable=(term,), **params).fit(planted[0]).history_
    others = sorted(TERMS[name] - {term})
    np.testing.assert_allclose(history["total"], history[others].sum(axis=1), rtol=1e-5)
    assert (history[term] > 0).all()  # still recorded, not optimised
    with pytest.raises(ValueError, match="disable"):
        make(name, 3, disable=("recon",), **params).fit(planted[0])


# ------------------------------------------------------------------------------------------------ DIVIDE parts


def two_cliques() -> torch.Tensor:
    """Affinity of two disconnected cliques {0, 1, 2} and {3, 4, 5, 6} with unequal weights and self loops."""
    A = torch.zeros(7, 7, dtype=torch.float64)
    A[:3, :3] = torch.tensor([[1.0, 2.0, 0.5], [2.0, 1.0, 1.0], [0.5, 1.0, 1.0]])
    A[3:, 3:] = 1.0 + torch.arange(16, dtype=torch.float64).view(4, 4) % 3
    return A


def test_random_walk_positives_never_cross_disconnected_parts():
    W = random_walk_targets(two_cliques(), steps=5, restart=0.5)
    assert (W[:3, 3:] == 0).all() and (W[3:, :3] == 0).all()
    assert (W[:3, :3] > 0).all() and (W[3:, 3:] > 0).all()
    torch.testing.assert_close(W.sum(dim=1), torch.ones(7, dtype=W.dtype))
    assert (torch.diagonal(W) >= 0.5).all()


def test_random_walk_reaches_beyond_direct_neighbours():
    """Path 0-1-2-3: a 1-step walk never links 0 and 2; a 2-step walk makes 2 a positive of 0 (high order)."""
    A = torch.eye(4) + torch.diag(torch.ones(3), 1) + torch.diag(torch.ones(3), -1)
    assert random_walk_targets(A, steps=1, restart=0.0)[0, 2] == 0
    assert random_walk_targets(A, steps=2, restart=0.0)[0, 2] > 0
    assert random_walk_targets(A, steps=2, restart=0.0)[0, 3] == 0
    assert random_walk_targets(A, steps=3, restart=0.0)[0, 3] > 0


def test_positives_of_two_separated_groups_of_embeddings():
    g = torch.Generator().manual_seed(0)
    z = torch.cat([torch.tensor([5.0, 0.0]) + 0.1 * torch.randn(4, 2, generator=g),
                   torch.tensor([0.0, 5.0]) + 0.1 * torch.randn(4, 2, generator=g)])
    W = random_walk_targets(kernel_affinity(z, sigma=0.1, knn=2), steps=5, restart=0.5)  # kNN: disconnected
    assert (W[:4, 4:] == 0).all() and (W[:4, :4] > 0).all()
    dense = random_walk_targets(kernel_affinity(z, sigma=0.1), steps=5, restart=0.5)  # dense kernel (published)
    assert dense[:4, 4:].max() < 1e-6 < dense[:4, :4].min()


def test_soft_target_nce_with_identity_targets_is_info_nce():
    g = torch.Generator().manual_seed(1)
    q, k = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    torch.testing.assert_close(soft_target_nce(q, k, torch.eye(6), 0.5), info_nce(q, k, 0.5, symmetric=False))
    uniform = soft_target_nce(q, k, torch.ones(6, 6), 0.5)  # every sample a positive: mean cross-entropy
    s = torch.nn.functional.normalize(q, dim=1) @ torch.nn.functional.normalize(k, dim=1).t() / 0.5
    torch.testing.assert_close(uniform, -torch.log_softmax(s, dim=1).mean())


def test_divide_walk_starts_at_start_rectify_epoch():
    """Before start_rectify_epoch the positives are the sample itself: the intra-view term is plain InfoNCE."""
    model = DIVIDE(3, encoder_widths=(8, 4), start_rectify_epoch=5)
    net = model.build([5, 6]).eval()
    batch = [torch.rand(20, 5), torch.rand(20, 6)]
    with torch.no_grad():
        warm = model.loss_terms(net, model.forward(net, batch, {"epoch": 4}), batch, {})
        walk = model.loss_terms(net, model.forward(net, batch, {"epoch": 5}), batch, {})
        zs, targets = [e(x) for e, x in zip(net.online, batch)], net.target_features(batch)
        plain = sum(info_nce(z, t, model.tau, symmetric=False) for z, t in zip(zs, targets)) / 2
    torch.testing.assert_close(warm["intra_view"], plain)
    assert not torch.isclose(walk["intra_view"], plain)


def test_divide_momentum_encoders_and_kmeans_readout(fitted, planted):
    model = fitted["divide"]
    net = model.model_
    assert not any(p.requires_grad for p in net.target.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(net.online.parameters(), net.target.parameters()))
    emb = model.transform(planted[0])
    assert model.cluster_centers_.shape == (3, emb.shape[1]) and np.allclose(np.linalg.norm(emb, axis=1), 1.0)
    nearest = np.linalg.norm(emb[:, None] - model.cluster_centers_.numpy()[None], axis=2).argmin(axis=1)
    np.testing.assert_array_equal(nearest, model.labels_)


# ------------------------------------------------------------------------------------------------- ICMVC parts


def test_icmvc_graph_is_the_normalised_symmetric_knn_graph():
    x = torch.tensor([[0.0], [1.0], [3.0], [7.0], [7.5]])
    A = symmetric_knn(x, 1)  # nearest: 0->1, 1->0, 2->1, 3->4, 4->3; symmetrised; self loops
    expected = torch.eye(5, dtype=torch.bool)
    for i, j in [(0, 1), (1, 2), (3, 4)]:
        expected[i, j] = expected[j, i] = True
    assert torch.equal(A, expected)
    d = A.sum(dim=1).float()
    torch.testing.assert_close(normalized_adjacency(x, 1).to_dense(), A.float() / torch.sqrt(torch.outer(d, d)))
    torch.testing.assert_close(normalized_adjacency(x, 0).to_dense(), torch.eye(5))  # knn=0: GCN = MLP


def test_icmvc_graph_is_sparse_on_the_cpu_dense_when_asked_and_both_propagate_alike():
    """The CPU keeps the sparse product of the shipped runs; `dense_adjacency` (a GPU's form, and seeds batched under
    vmap) gives the same matrix, and a propagation that agrees within float rounding, gradients included."""
    x = torch.rand(300, 12, generator=torch.Generator().manual_seed(0))
    sparse = normalized_adjacency(x, 10)
    with dense_adjacency():
        dense = normalized_adjacency(x, 10)
    assert sparse.is_sparse and not dense.is_sparse and dense.shape == (300, 300)
    assert torch.equal(sparse.to_dense(), dense)
    w = torch.randn(12, 8, requires_grad=True)
    grads = []
    for adj in (sparse, dense):
        out = adj @ (x @ w)
        (grad,) = torch.autograd.grad(out.square().sum(), w)
        grads.append((out, grad))
    torch.testing.assert_close(grads[0], grads[1])
    assert normalized_adjacency(x, 10).is_sparse  # the context ended: sparse again


def test_icmvc_guiding_kl_is_kl_div_bit_for_bit():
    """The written-out KL (batchable) gives kl_div's bits: the shipped ICMVC runs are unchanged by it."""
    g = torch.Generator().manual_seed(1)
    y = torch.softmax(3 * torch.randn(50, 6, generator=g), dim=1)
    target = high_confidence_target([torch.softmax(torch.randn(50, 6, generator=g), dim=1), y])
    log_y = torch.log(y.clamp_min(1e-12))
    assert torch.equal(kl_batchmean(target, log_y), F.kl_div(log_y, target, reduction="batchmean"))


def test_icmvc_high_confidence_target_and_fusion(fitted, planted):
    ys = [torch.tensor([[0.6, 0.4], [0.1, 0.9]]), torch.tensor([[0.2, 0.8], [0.3, 0.7]])]
    torch.testing.assert_close(high_confidence_target(ys), torch.tensor([[0.36, 0.64], [0.09 / 0.9, 0.81 / 0.9]]))
    weights = fitted["icmvc"].fusion_weights(planted[0])
    assert weights.shape == (180, 3) and torch.allclose(weights.sum(dim=1), torch.ones(180))


def test_bad_input_errors(planted):
    one_view = planted[0][:1]
    for name in SMALL:
        with pytest.raises(ValueError, match="at least two views"):
            make(name, 3, **SMALL[name]).fit(one_view)
    bad = [("icmvc", {"tau_instance": 0}), ("icmvc", {"knn": -1}), ("icmvc", {"contrast_batch_size": 1}),
           ("icmvc", {"gcn_widths": ()}), ("divide", {"restart": 1.0}), ("divide", {"steps": 0}),
           ("divide", {"momentum": 1.0}), ("divide", {"knn": 0}), ("divide", {"sigma": -1.0})]
    for name, params in bad:
        with pytest.raises(ValueError, match=next(iter(params))):
            make(name, 3, **params).fit(planted[0])
    with pytest.raises(ValueError, match="negative"):
        random_walk_targets(-two_cliques(), 2, 0.5)
    with pytest.raises(ValueError, match="square"):
        random_walk_targets(torch.ones(3, 4), 2, 0.5)
    with pytest.raises(ValueError, match="without any edge"):
        random_walk_targets(torch.zeros(3, 3), 2, 0.5)
    with pytest.raises(RuntimeError, match="not fitted"):
        make("divide", 3).predict(planted[0])
