"""SEM, SCMVC and SSLNMVC (the DDMC table's deep baselines) on the shared trainer: they recover planted clusters,
name their loss terms, drop a disabled term from the minimised total, and their distinctive terms match a
computation by hand. Small networks, few epochs, one thread."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from synthetic import two_view_minmax

from mmc_core.methods import make
from mmc_core.methods.scmvc import mmd_view_weights
from mmc_core.methods.sem import SEM, cmi_weights, iteration_lengths, self_weighted_contrast
from mmc_core.methods.sslnmvc import SSLNMVC, label_alignment, without_second_activation
from mmc_core.metrics import accuracy
from mmc_core.nn import mlp

NET = {"encoder_widths": (64, 64), "feature_dim": 32, "high_feature_dim": 16, "lr": 1e-3, "epochs": 40,
       "batch_size": 32}
SMALL = {
    "sem": {**NET, "kmeans_n_init": 2},
    "scmvc": {**NET, "fusion_widths": (32,), "kmeans_n_init": 2},
    "sslnmvc": NET,
}
TERMS = {
    "sem": {"recon", "contrast"},
    "scmvc": {"recon", "contrast"},
    "sslnmvc": {"recon", "feature_contrast", "cluster_contrast", "entropy", "label_alignment"},
}


@pytest.fixture(scope="module")
def planted() -> tuple[list[np.ndarray], np.ndarray]:
    return two_view_minmax()


@pytest.fixture(scope="module")
def fitted(planted) -> dict:
    """Each method fitted on seeds 0-2 through make(name)."""
    return {name: [make(name, 3, random_state=s, **params).fit(planted[0]) for s in range(3)]
            for name, params in SMALL.items()}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_recovers_planted_clusters(fitted, planted, name):
    Xs, y = planted
    accs = [accuracy(y, model.labels_) for model in fitted[name]]
    assert np.median(accs) >= 0.9, accs
    model = fitted[name][0]
    np.testing.assert_array_equal(model.predict(Xs), model.labels_)
    assert model.predict_proba(Xs).shape == (180, 3)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_loss_terms_are_named_in_history(fitted, name):
    history = fitted[name][0].history_
    assert TERMS[name] <= set(history.columns) and "total" in history.columns
    assert {f"{t} weight" for t in TERMS[name]} <= set(history.columns)
    assert history[sorted(TERMS[name])].notna().any().all()


@pytest.mark.parametrize("name", sorted(SMALL))
def test_disabled_term_leaves_the_total(planted, name):
    for term in sorted(TERMS[name]):
        model = make(name, 3, random_state=0, **{**SMALL[name], "epochs": 4}, disable=(term,)).fit(planted[0])
        for _, row in model.history_.iterrows():
            terms = [c[: -len(" weight")] for c in model.history_.columns
                     if c.endswith(" weight") and not math.isnan(row[c])]
            active = sum(row[t] * row[f"{t} weight"] for t in terms if t != term)
            assert row["total"] == pytest.approx(active, rel=1e-5, abs=1e-6), (term, row["stage"])
            if term in terms:
                assert np.isfinite(row[term])


def test_reported_labels():
    assert [type(make(n, 3)).reported_as for n in ("sem", "scmvc", "sslnmvc")] == ["SEM", "SCMVC", "SSLNMVC"]


# ------------------------------------------------------------------ SEM


def _code_infonce(a: torch.Tensor, b: torch.Tensor, tau: float) -> torch.Tensor:
    """The released SEM code's InfoNCE, loop by loop: 2n anchors (rows of [a; b]), positive = the other copy of
    the sample, negatives = every row except the anchor and its positive; mean over the 2n anchors."""
    h = torch.cat([F.normalize(a, dim=1), F.normalize(b, dim=1)])
    n = a.shape[0]
    losses = []
    for i in range(2 * n):
        p = (i + n) % (2 * n)
        pos = torch.exp(h[i] @ h[p] / tau)
        neg = sum(torch.exp(h[i] @ h[j] / tau) for j in range(2 * n) if j not in (i, p))
        losses.append(-torch.log(pos / (pos + neg)))
    return torch.stack(losses).mean()


def test_sem_cmi_weights_by_hand():
    same = np.array([0, 0, 1, 1])
    independent = np.array([0, 1, 0, 1])  # NMI(same, independent) = 0
    W = cmi_weights([same, same[::-1].copy(), independent])
    assert W.shape == (3, 3)
    np.testing.assert_allclose(np.diag(W), math.e - 1)
    assert W[0, 1] == pytest.approx(math.e - 1)  # the same partition, relabelled
    assert W[0, 2] == pytest.approx(0.0, abs=1e-12) and W[2, 1] == pytest.approx(0.0, abs=1e-12)
    # 3 balanced clusters against 2: H(a) = log 3, H(b) = log 2, I = (2/3) log 2; arithmetic NMI = 2 I / (H(a) + H(b))
    a, b = np.array([0, 0, 1, 1, 2, 2]), np.array([0, 0, 0, 1, 1, 1])
    h_a, h_b = math.log(3), math.log(2)
    mi = 2 / 6 * math.log((2 / 6) / (2 / 6 * 3 / 6)) * 2 + 2 * (1 / 6) * math.log((1 / 6) / (2 / 6 * 3 / 6))
    assert cmi_weights([a, b])[0, 1] == pytest.approx(math.exp(2 * mi / (h_a + h_b)) - 1)


def test_sem_self_weighted_contrast_by_hand():
    """sum over ordered pairs (m, n), m = n included, of W^{mn} times the code's InfoNCE."""
    g = torch.Generator().manual_seed(0)
    zs = [torch.randn(5, 4, generator=g) for _ in range(2)]
    W = torch.tensor([[1.7, 0.3], [0.3, 0.9]])
    expected = (1.7 * _code_infonce(zs[0], zs[0], 0.7) + 2 * 0.3 * _code_infonce(zs[0], zs[1], 0.7)
                + 0.9 * _code_infonce(zs[1], zs[1], 0.7))
    torch.testing.assert_close(self_weighted_contrast(zs, W, 0.7), expected)
    # a pair of views with W = 0 is not contrasted at all
    W0 = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    torch.testing.assert_close(self_weighted_contrast(zs, W0, 0.7), 2 * _code_infonce(zs[0], zs[1], 0.7))


def test_sem_weights_per_iteration_and_stage_layout(planted):
    assert iteration_lengths(400, 4) == [100] * 4 and iteration_lengths(5, 4) == [2, 1, 1, 1]
    assert iteration_lengths(2, 4) == [1, 1, 0, 0]
    assert SEM(3).stage_epochs() == (100, 400)
    model = make("sem", 3, **{**SMALL["sem"], "epochs": None, "pretrain_epochs": 2, "con_epochs": 2, "iterations": 3})
    model.fit(planted[0])
    assert model.history_.stage.tolist() == ["pretrain"] * 2 + [f"contrastive_{i}" for i in (1, 1, 2, 2, 3, 3)]
    assert len(model.view_weights_) == 3  # one W per iteration, from H^v then Z^v
    for W in model.view_weights_:
        np.testing.assert_allclose(np.diag(W), math.e - 1)
        assert np.allclose(W, W.T) and (W >= 0).all() and (W <= math.e - 1 + 1e-9).all()


def test_sem_kmeans_switches_to_minibatch_above_the_codes_threshold():
    """The released metric.py: MiniBatchKMeans (batches of 5000) on more than 10,000 samples, K-means otherwise."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    from mmc_core.methods.sem import MINIBATCH_SIZE, sem_kmeans

    X = np.random.default_rng(0).standard_normal((40, 3))
    assert SEM(3).minibatch_kmeans_above == 10000 and MINIBATCH_SIZE == 5000
    assert type(sem_kmeans(X, 3, 0, 2, 10000)) is KMeans
    small = sem_kmeans(X, 3, 0, 2, 39)
    assert type(small) is MiniBatchKMeans and small.batch_size == MINIBATCH_SIZE and small.n_init == 2
    assert type(sem_kmeans(X, 3, 0, 2, None)) is KMeans
    with pytest.raises(ValueError, match="minibatch_kmeans_above"):
        make("sem", 3, minibatch_kmeans_above=0).fit([X, X])


# ------------------------------------------------------------------ SCMVC


def test_scmvc_mmd_weights_by_hand():
    """w_v = exp(-||mean R^v - mean H||^2) / sum_u exp(-||mean R^u - mean H||^2); the code's sum form agrees."""
    H = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    r1 = H.clone()  # same mean: MMD 0
    r2 = torch.tensor([[1.0, 0.0], [1.0, 0.0]])  # mean (1, 0) vs (0.5, 0.5): MMD 0.5
    w = mmd_view_weights([r1, r2], H)
    torch.testing.assert_close(w, torch.tensor([1.0, math.exp(-0.5)]) / (1 + math.exp(-0.5)))
    g = torch.Generator().manual_seed(1)
    rs, H = [torch.randn(6, 3, generator=g) for _ in range(3)], torch.randn(6, 3, generator=g)
    code = torch.stack([torch.exp(-((r @ r.t()).sum() + (H @ H.t()).sum() - 2 * (r @ H.t()).sum()) / 36)
                        for r in rs])
    torch.testing.assert_close(mmd_view_weights(rs, H), code / code.sum())


def test_scmvc_contrast_by_hand():
    """contrast = sum_v w_v * mean_i -log(e^{s_ii} / sum_{j != i} e^{s_ij}), s = H R^v^T / tau: one direction,
    the positive left out of the denominator (the released code's ContrastiveLoss)."""
    model = make("scmvc", 3, **SMALL["scmvc"])
    torch.manual_seed(0)
    net = model.build([4, 5])
    batch = [torch.rand(6, 4), torch.rand(6, 5)]
    with torch.no_grad():
        out = net(batch)
        terms = model.contrastive_terms(net, out, batch, {})
    w = mmd_view_weights(out["rs"], out["H"])
    expected = 0.0
    for v, r in enumerate(out["rs"]):
        s = out["H"] @ r.t()  # temperature 1
        rows = [-torch.log(torch.exp(s[i, i]) / sum(torch.exp(s[i, j]) for j in range(6) if j != i))
                for i in range(6)]
        expected = expected + w[v] * torch.stack(rows).mean()
    torch.testing.assert_close(terms["contrast"], expected)
    assert set(terms) == {"contrast", "recon"}


def test_scmvc_view_weights_after_fit(fitted):
    w = fitted["scmvc"][0].view_weights_
    assert w.shape == (2,) and w.sum() == pytest.approx(1.0, abs=1e-6) and (w > 0).all()


# ------------------------------------------------------------------ SSLNMVC


def test_sslnmvc_label_alignment_by_hand():
    """The released code's F.kl_div(log_softmax(P), softmax(Q^v), reduction="sum"), summed over views; and the
    single-softmax reading, KL(Q^v || P) summed over the batch."""
    Q1 = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    Q2 = torch.tensor([[0.3, 0.3, 0.4], [0.5, 0.25, 0.25]])
    P = torch.tensor([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])

    def kl(p, q):  # sum over the batch of sum_k p log(p / q)
        return sum(float(p[i, k] * math.log(p[i, k] / q[i, k])) for i in range(2) for k in range(3))

    double = kl(F.softmax(Q1, 1), F.softmax(P, 1)) + kl(F.softmax(Q2, 1), F.softmax(P, 1))
    assert float(label_alignment([Q1, Q2], P, double_softmax=True)) == pytest.approx(double, rel=1e-5)
    reference = sum(F.kl_div(F.log_softmax(P, 1), F.softmax(Q, 1), reduction="sum") for Q in (Q1, Q2))
    assert float(label_alignment([Q1, Q2], P, double_softmax=True)) == pytest.approx(float(reference), rel=1e-5)
    single = kl(Q1, P) + kl(Q2, P)
    assert float(label_alignment([Q1, Q2], P, double_softmax=False)) == pytest.approx(single, rel=1e-5)
    assert float(label_alignment([P], P, double_softmax=False)) == pytest.approx(0.0, abs=1e-6)
    assert double < single  # the second softmax flattens both sides


def test_sslnmvc_entropy_counts_each_view_once_per_pair():
    """Three views, all mass on one cluster: each view's log K counted once per pair it is in (V - 1 = 2 times)."""
    model = SSLNMVC(3, encoder_widths=(8,), feature_dim=8, high_feature_dim=4)
    net = model.build([2, 2, 2])
    net.label_head.weight.data.zero_()
    net.label_head.bias.data = torch.tensor([50.0, 0.0, 0.0])
    batch = [torch.rand(6, 2) for _ in range(3)]
    with torch.no_grad():
        entropy = model.contrastive_terms(net, net(batch), batch, {})["entropy"]
    assert float(entropy) == pytest.approx(3 * 2 * math.log(3), rel=1e-4)


def test_sslnmvc_released_encoder_has_no_second_activation():
    net = without_second_activation(mlp(10, [5, 6, 7, 3], last_activation=False))
    kinds = [type(layer).__name__ for layer in net]
    assert kinds == ["Linear", "ReLU", "Linear", "Linear", "ReLU", "Linear"]
    full = SSLNMVC(3, encoder_widths=(5, 6), feature_dim=4, high_feature_dim=4, second_activation=True).build([3, 3])
    released = SSLNMVC(3, encoder_widths=(5, 6), feature_dim=4, high_feature_dim=4).build([3, 3])
    count = lambda net: sum(isinstance(m, torch.nn.ReLU) for m in net.encoders[0])  # noqa: E731
    assert (count(full), count(released)) == (2, 1)
