"""SiMVC, CoMVC and MFLVC on the shared trainer: they recover planted clusters, are deterministic, name their loss
terms, and CoMVC's negatives never share the anchor's predicted cluster. Small networks, few epochs, one thread."""

from __future__ import annotations

import math

import numpy as np
import pytest
from synthetic import two_view_minmax
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from mmc_core.deep import split_epochs
from mmc_core.deep.multilevel import pseudo_labels
from mmc_core.losses import info_nce, nt_xent
from mmc_core.methods import make
from mmc_core.methods.comvc import negative_mask, sample_negatives
from mmc_core.methods.mflvc import MFLVC
from mmc_core.metrics import accuracy

SMALL = {
    "simvc": {"encoder_widths": (32, 16), "epochs": 15, "batch_size": 60},
    "comvc": {"encoder_widths": (32, 16), "epochs": 15, "batch_size": 60},
    "mflvc": {"encoder_widths": (64, 64), "feature_dim": 32, "high_feature_dim": 16, "lr": 1e-3, "epochs": 40,
              "pretrain_epochs": 10, "con_epochs": 20, "tune_epochs": 5, "batch_size": 32, "kmeans_n_init": 3},
}
TERMS = {
    "simvc": {"ddc_1", "ddc_2", "ddc_3"},
    "comvc": {"ddc_1", "ddc_2", "ddc_3", "contrast"},
    "mflvc": {"recon", "feature_contrast", "cluster_contrast", "entropy", "finetune_ce"},
}


@pytest.fixture(scope="module")
def planted() -> tuple[list[np.ndarray], np.ndarray]:
    return two_view_minmax()


@pytest.fixture(scope="module")
def fitted(planted) -> dict:
    """Each method fitted once through make(name) (labels also given, for the per-epoch monitoring columns)."""
    views, y = planted
    out = {}
    for name, params in SMALL.items():
        model = make(name, n_clusters=3, random_state=0, **params)
        out[name] = (model, model.fit_predict(views, y))
    return out


@pytest.mark.parametrize("name", sorted(SMALL))
def test_recovers_planted_clusters(fitted, planted, name):
    model, labels = fitted[name]
    assert accuracy(planted[1], labels) >= 0.9
    np.testing.assert_array_equal(model.predict(planted[0]), labels)
    assert model.predict_proba(planted[0]).shape == (180, 3)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_loss_terms_are_named_in_history(fitted, name):
    history = fitted[name][0].history_
    assert TERMS[name] <= set(history.columns)
    assert {"acc", "nmi", "pur", "total"} <= set(history.columns)
    assert history[sorted(TERMS[name])].notna().any().all()


def test_reported_labels():
    assert [type(make(n, 3)).reported_as for n in ("simvc", "comvc", "mflvc")] == ["SiMVC", "CoMVC", "MFLVC"]


@pytest.mark.parametrize("name", sorted(SMALL))
def test_deterministic_with_fixed_seed(planted, name):
    params = {**SMALL[name], "epochs": 3}
    runs = [make(name, n_clusters=3, random_state=7, **params) for _ in range(2)]
    labels = [m.fit_predict(planted[0]) for m in runs]
    np.testing.assert_array_equal(labels[0], labels[1])
    np.testing.assert_array_equal(runs[0].history_["total"].to_numpy(), runs[1].history_["total"].to_numpy())


def test_comvc_without_contrast_is_simvc(planted):
    """Switching CoMVC's only extra term off by name leaves SiMVC, step for step (same seed, same network)."""
    params = {**SMALL["simvc"], "epochs": 3}
    simvc = make("simvc", 3, random_state=1, **params).fit(planted[0])
    comvc = make("comvc", 3, random_state=1, disable=("contrast",), **params).fit(planted[0])
    np.testing.assert_allclose(comvc.history_["total"], simvc.history_["total"], rtol=1e-6)
    np.testing.assert_array_equal(comvc.labels_, simvc.labels_)


def test_comvc_unsampled_negatives_runs(planted):
    model = make("comvc", 3, random_state=0, negative_sampling=False, **SMALL["comvc"])
    assert accuracy(planted[1], model.fit_predict(planted[0])) >= 0.9


def test_comvc_negative_mask_excludes_same_cluster():
    pred = torch.tensor([0, 0, 1, 2])  # 4 samples, 2 views -> 8 x 8, order [view 0; view 1]
    mask = negative_mask(pred, n_views=2)
    cluster = [0, 0, 1, 2, 0, 0, 1, 2]
    expected = torch.tensor([[a != b for b in cluster] for a in cluster])
    torch.testing.assert_close(mask, expected)
    assert not mask[0, 4] and not mask[0, 1] and mask[0, 6]  # positive, same-cluster sample, other cluster
    counts = sample_negatives(mask, n_negatives=5)
    assert (counts[~mask] == 0).all()
    torch.testing.assert_close(counts.sum(dim=1), torch.full((8,), 5.0))
    lone = sample_negatives(negative_mask(torch.tensor([1, 1]), 2), 3)  # one cluster only: no negatives at all
    assert (lone == 0).all()


def _simclr(zs: list[torch.Tensor], tau: float) -> torch.Tensor:
    """Loop-by-loop NT-Xent: anchor (u, i), positive (v, i), negatives every (w, j) with j != i."""
    V, n = len(zs), zs[0].shape[0]
    z = [F.normalize(x, dim=1) for x in zs]
    losses = []
    for u in range(V):
        for v in range(V):
            if u == v:
                continue
            for i in range(n):
                pos = torch.exp(z[u][i] @ z[v][i] / tau)
                neg = sum(torch.exp(z[u][i] @ z[w][j] / tau) for w in range(V) for j in range(n) if j != i)
                losses.append(-torch.log(pos / (pos + neg)))
    return torch.stack(losses).mean()


@pytest.mark.parametrize("V", [2, 3])
def test_nt_xent_matches_the_definition(V):
    g = torch.Generator().manual_seed(V)
    zs = [torch.randn(5, 4, generator=g) for _ in range(V)]
    torch.testing.assert_close(nt_xent(zs, 0.5), _simclr(zs, 0.5))


def test_nt_xent_draws_negatives_from_every_view_not_only_the_pair():
    """Two views: the pairwise (DeepMVC) form and ours agree; three: ours has more negatives, so a larger loss."""
    g = torch.Generator().manual_seed(7)
    zs = [torch.randn(5, 4, generator=g) for _ in range(3)]
    pairwise = sum(nt_xent([zs[u], zs[v]], 0.5) for u in range(3) for v in range(u + 1, 3)) / 3
    torch.testing.assert_close(nt_xent(zs[:2], 0.5), _simclr(zs[:2], 0.5))
    assert float(nt_xent(zs, 0.5)) > float(pairwise) + 0.1


def test_info_nce_negative_weights_mask_and_count():
    """Weights multiply each negative's term in the denominator; the positive is counted once."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    assert torch.isclose(info_nce(a, b, 0.2, negative_weights=torch.ones(4, 4)), info_nce(a, b, 0.2))
    assert torch.isclose(info_nce(a, b, 0.2, negative_weights=torch.zeros(4, 4)), torch.tensor(0.0), atol=1e-6)
    w = torch.tensor([[0.0, 2.0, 0.0, 1.0], [1.0, 5.0, 0.0, 0.0], [3.0, 1.0, 7.0, 1.0], [0.0, 0.0, 1.0, 0.0]])
    s = F.normalize(a, dim=1) @ F.normalize(b, dim=1).t() / 0.2
    rows = [torch.log(torch.exp(s[i, i]) + sum(w[i, j] * torch.exp(s[i, j]) for j in range(4) if j != i)) - s[i, i]
            for i in range(4)]
    torch.testing.assert_close(info_nce(a, b, 0.2, symmetric=False, negative_weights=w), torch.stack(rows).mean())


def test_mflvc_entropy_term_is_kl_to_uniform():
    """All mass on one cluster gives log K per view (the term is sum_v KL(s^v || uniform))."""
    model = MFLVC(3, pretrain_epochs=1, con_epochs=1, tune_epochs=1)
    net = model.build([2, 2])
    net.label_head.weight.data.zero_()
    net.label_head.bias.data = torch.tensor([50.0, 0.0, 0.0])
    batch = [torch.rand(6, 2), torch.rand(6, 2)]
    with torch.no_grad():
        entropy = model.contrastive_terms(net, net(batch), batch, {})["entropy"]
        assert math.isclose(float(entropy), 2 * math.log(3), rel_tol=1e-4)
        net.label_head.bias.data.zero_()  # every sample uniform over the clusters: balanced, term 0
        assert abs(float(model.contrastive_terms(net, net(batch), batch, {})["entropy"])) < 1e-6


def test_mflvc_epoch_split():
    assert split_epochs(300, (200, 50, 50)) == (200, 50, 50)
    assert split_epochs(20, (200, 50, 50)) == (13, 3, 3)
    assert split_epochs(2, (200, 50, 50)) == (1, 1, 1)
    assert split_epochs(10, (200, 50, 0)) == (8, 2, 0)
    assert MFLVC(3).stage_epochs() == (200, 50, 50)
    assert MFLVC(3, epochs=20).stage_epochs() == (13, 3, 3)
    history = make("mflvc", 3, **{**SMALL["mflvc"], "epochs": None}).fit(
        [np.random.default_rng(0).random((40, 4)) for _ in range(2)]).history_
    assert history.groupby("stage", sort=False).size().to_dict() == {"pretrain": 10, "contrastive": 20, "finetune": 5}


def test_mflvc_pseudo_labels_are_kmeans_of_the_scaled_high_features():
    """Per view, the pseudo labels are the K-means partition of the min-max scaled high-level features."""
    torch.manual_seed(0)
    model = MFLVC(3, encoder_widths=(16,), feature_dim=8, high_feature_dim=4, kmeans_n_init=2)
    net = model.build([5, 6])
    data = [torch.rand(50, 5), torch.rand(50, 6)]
    with torch.no_grad():
        hs = net.high_features(data)
        labels = pseudo_labels(hs, 3, n_init=2, seed=0)
    for H, found in zip(hs, labels):
        scaled = (H - H.min(0).values) / (H.max(0).values - H.min(0).values)
        expected = KMeans(3, n_init=2, random_state=0).fit(scaled.numpy()).labels_
        assert adjusted_rand_score(expected, found.numpy()) == 1.0


def test_bad_input_errors(planted):
    with pytest.raises(ValueError, match="disable"):
        make("mflvc", 3, disable=("nope",), **SMALL["mflvc"]).fit(planted[0])
    with pytest.raises(ValueError, match="at least two views"):
        make("mflvc", 3, **SMALL["mflvc"]).fit(planted[0][:1])
    with pytest.raises(ValueError, match="tau"):
        make("comvc", 3, tau=0).fit(planted[0])
    with pytest.raises(ValueError, match="con_epochs"):
        make("mflvc", 3, con_epochs=-1).fit(planted[0])
