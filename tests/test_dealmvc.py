"""DealMVC on planted multi-view clusters: recovery with 2 and 3 views, determinism, named loss terms and their
ablation, the pseudo-label graph and calibration loss against their definitions, clear errors. Small networks,
few epochs, one torch thread."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmc_core.losses import info_nce
from mmc_core.methods import make
from mmc_core.methods.dealmvc import calibration_loss, pseudo_label_graph
from mmc_core.metrics import accuracy
from mmc_core.preprocessing import scale_views

SMALL = {"encoder_widths": (64, 64), "feature_dim": 32, "high_feature_dim": 16, "lr": 1e-3, "batch_size": 32,
         "pretrain_epochs": 8, "con_epochs": 8, "tune_epochs": 4, "kmeans_n_init": 3}
CALIBRATION_TERMS = ["recon", "local_calibration", "global_calibration", "graph_consistency"]


def planted(n_views: int, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """3 clusters x 60 samples seen by n_views views (20, 30, 25 features): centre + unit Gaussian noise, min-max."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), 60)
    views = [2.0 * rng.normal(size=(3, d))[y] + rng.normal(size=(180, d)) for d in (20, 30, 25)[:n_views]]
    return scale_views(views, "minmax"), y


@pytest.fixture(scope="module")
def fitted() -> dict[int, tuple]:
    """One fit per number of views, through make("dealmvc"); no labels reach fit."""
    out = {}
    for V in (2, 3):
        views, y = planted(V)
        model = make("dealmvc", n_clusters=3, random_state=0, **SMALL)
        out[V] = (model, model.fit_predict(views), views, y)
    return out


@pytest.mark.parametrize("V", [2, 3])
def test_recovers_planted_clusters(fitted, V):
    model, labels, views, y = fitted[V]
    assert accuracy(y, labels) >= 0.9
    np.testing.assert_array_equal(model.predict(views), labels)
    proba = model.predict_proba(views)
    assert proba.shape == (180, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    fused = model.transform(views)  # the global feature: unit rows, like every view's H^v
    assert fused.shape == (180, SMALL["high_feature_dim"])
    np.testing.assert_allclose(np.linalg.norm(fused, axis=1), 1.0, rtol=1e-5)


def test_stages_and_named_terms(fitted):
    history = fitted[3][0].history_
    assert history.groupby("stage", sort=False).size().to_dict() == {"pretrain": 8, "calibration": 8, "finetune": 4}
    calibration = history[history.stage == "calibration"]
    assert calibration[CALIBRATION_TERMS].notna().all().all()
    np.testing.assert_allclose(calibration["total"], calibration[CALIBRATION_TERMS].sum(axis=1), rtol=1e-5)
    assert history.loc[history.stage == "finetune", "finetune_ce"].notna().all()


def test_disable_removes_a_term():
    """Disabled, a term is still recorded but no longer part of the minimised total, and training changes."""
    views, _ = planted(2)
    params = {**SMALL, "pretrain_epochs": 2, "con_epochs": 3, "tune_epochs": 0}
    full = make("dealmvc", 3, random_state=1, **params).fit(views).history_
    ablated = make("dealmvc", 3, random_state=1, disable=("global_calibration",), **params).fit(views).history_
    calibration = ablated[ablated.stage == "calibration"]
    kept = [t for t in CALIBRATION_TERMS if t != "global_calibration"]
    np.testing.assert_allclose(calibration["total"], calibration[kept].sum(axis=1), rtol=1e-5)
    assert (calibration["global_calibration"] > 0).all()
    np.testing.assert_allclose(full["total"][:2], ablated["total"][:2], rtol=1e-6)  # pretraining is unaffected
    assert not np.allclose(full["recon"][2:], ablated["recon"][2:])


def test_deterministic_with_fixed_seed():
    views, _ = planted(3)
    params = {**SMALL, "pretrain_epochs": 2, "con_epochs": 2, "tune_epochs": 1}
    runs = [make("dealmvc", 3, random_state=7, **params) for _ in range(2)]
    labels = [m.fit_predict(views) for m in runs]
    np.testing.assert_array_equal(labels[0], labels[1])
    np.testing.assert_array_equal(runs[0].history_["total"].to_numpy(), runs[1].history_["total"].to_numpy())
    other = make("dealmvc", 3, random_state=8, **params).fit(views)
    assert not np.array_equal(other.history_["total"].to_numpy(), runs[0].history_["total"].to_numpy())


def test_released_evaluation_reads_view_assignments():
    """labels_from="assignments": labels = argmax of the views' mean assignment (MFLVC's soft_assign)."""
    views, _ = planted(2)
    model = make("dealmvc", 3, random_state=0, labels_from="assignments",
                 **{**SMALL, "pretrain_epochs": 2, "con_epochs": 2, "tune_epochs": 1}).fit(views)
    data = [torch.as_tensor(X) for X in views]
    model.model_.eval()
    with torch.no_grad():
        mean_q = torch.stack(model.model_.assignments(data)).mean(dim=0)
    np.testing.assert_array_equal(model.labels_, mean_q.argmax(dim=1).numpy())
    assert not hasattr(model, "cluster_centers_")


def test_pseudo_label_graph_definition():
    P = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.5, 0.5]])
    G = pseudo_label_graph(P, P, threshold=0.8)
    # p0.p1 = 0.9 kept, p0.p3 = 0.5 and p1.p3 = 0.5 dropped, p2 alone; diagonal 1 (p3.p3 = 0.5 would be dropped)
    expected = torch.tensor([[1.0, 0.9, 0.0, 0.0], [0.9, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    torch.testing.assert_close(G, expected / expected.sum(dim=1, keepdim=True))
    Q = torch.tensor([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])  # another view, its clusters swapped
    expected = torch.tensor([[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.9, 0.9], [1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    torch.testing.assert_close(pseudo_label_graph(P, Q, threshold=0.8), expected / expected.sum(dim=1, keepdim=True))


def test_calibration_loss_definition():
    g = torch.Generator().manual_seed(0)
    A = torch.nn.functional.normalize(torch.randn(6, 4, generator=g), dim=1)
    B = torch.nn.functional.normalize(torch.randn(6, 4, generator=g), dim=1)
    # identity graph: one-direction InfoNCE (positive = the same sample, every other sample a negative)
    torch.testing.assert_close(calibration_loss(torch.eye(6), A, B, 0.5), info_nce(A, B, 0.5, symmetric=False))
    graph = torch.rand(6, 6, generator=g)
    graph = graph / graph.sum(dim=1, keepdim=True)
    S = torch.exp(A @ B.t()) / torch.exp(A @ B.t()).sum(dim=1, keepdim=True)
    torch.testing.assert_close(calibration_loss(graph, A, B, 1.0), -(graph * torch.log(S)).sum(dim=1).mean())


def test_reported_label_and_errors():
    assert type(make("dealmvc", 3)).reported_as == "DealMVC"
    views, _ = planted(2)
    with pytest.raises(ValueError, match="at least two views"):
        make("dealmvc", 3, **SMALL).fit(views[:1])
    with pytest.raises(ValueError, match="global_calibrations"):
        make("dealmvc", 3, disable=("global_calibrations",), **SMALL).fit(views)
    for bad in ({"threshold": 1.5}, {"attention_heads": 4, "high_feature_dim": 10}, {"labels_from": "head"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            make("dealmvc", 3, **{**SMALL, **bad}).fit(views)
    model = make("dealmvc", 3, **SMALL)
    with pytest.raises(RuntimeError, match="K-means centres"):
        model.soft_assign(model.build([20, 30]), [torch.as_tensor(X) for X in views])
