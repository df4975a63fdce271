"""DDMC: the dominant view is found without labels where it is planted, the method recovers planted clusters, each
ablation row switches off exactly its terms, the Sinkhorn targets are balanced, and the enhanced representation is
the dominant one plus gamma times the others' mean (the fused one, the plain mean)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from synthetic import blobs

from mmc_core.dominance import DominantViewWarning, choose_dominant, view_silhouettes
from mmc_core.losses import sinkhorn_targets
from mmc_core.methods import make
from mmc_core.methods.ddmc import CDL_TERMS, DDMC, FDL_TERMS
from mmc_core.metrics import accuracy
from mmc_core.preprocessing import scale_views

SMALL = {"encoder_widths": (32, 16), "projection_dim": 8, "epochs": 20, "batch_size": 60}


@pytest.fixture(scope="module")
def uneven() -> tuple[list[np.ndarray], np.ndarray]:
    """3 clusters x 60: view 1 clean (the dominant one), view 0 weakly separated, view 2 pure noise."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 60)
    views = [blobs(rng, y, 6, 2.0, 2.0), blobs(rng, y, 8, 8.0, 1.0), rng.normal(size=(180, 5))]
    return scale_views(views, "minmax"), y


def test_silhouette_finds_the_planted_dominant_view(uneven):
    views, _ = uneven
    scores = view_silhouettes(views, 3, seed=0)
    assert int(np.argmax(scores)) == 1 and scores[1] > scores[0] > scores[2] - 0.05
    chosen = choose_dominant(views, 3, seed=0)
    assert (chosen.view, chosen.rule) == (1, "silhouette") and "per view" in chosen.describe()
    assert choose_dominant(views, 3, seed=0, prior=2).view == 2  # a prior wins over the scores
    with pytest.raises(ValueError, match="dominant=3 is out of range"):
        choose_dominant(views, 3, seed=0, prior=3)


def test_ddmc_recovers_planted_clusters_from_the_dominant_view(uneven):
    views, y = uneven
    accs = []
    for seed in range(3):
        model = make("ddmc", 3, random_state=seed, **SMALL).fit(views)
        assert model.dominant_.view == 1
        accs.append(accuracy(y, model.labels_))
    assert np.median(accs) >= 0.9, accs


@pytest.mark.parametrize("row", list(DDMC.ABLATIONS))
def test_each_ablation_row_leaves_exactly_its_terms_out(uneven, row):
    model = make("ddmc", 3, random_state=0, **{**SMALL, "epochs": 2, **DDMC.ABLATIONS[row]}).fit(uneven[0])
    off = set(model.disable)
    expected = {"DDC": set(FDL_TERMS + CDL_TERMS), "DDC+FDL": set(CDL_TERMS), "DDC+CDL": set(FDL_TERMS),
                "full": set()}[row]
    assert off == expected
    last = model.history_.iloc[-1]
    terms = [c[: -len(" weight")] for c in model.history_.columns if c.endswith(" weight")]
    active = sum(last[t] * last[f"{t} weight"] for t in terms if t not in off)
    assert last["total"] == pytest.approx(active, rel=1e-5, abs=1e-6)
    assert all(np.isfinite(last[t]) for t in terms)  # switched-off terms are still recorded


def test_sinkhorn_targets_are_balanced_even_for_skewed_assignments():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(90, 3, generator=g) + torch.tensor([3.0, 0.0, 0.0])  # most mass on cluster 0
    A = torch.softmax(logits, dim=1)
    assert A.sum(dim=0)[0] > 60  # skewed input: cluster 0 gets two thirds and more
    U = sinkhorn_targets(A, n_iters=50, eps=0.5)
    torch.testing.assert_close(U.sum(dim=1), torch.ones(90))
    torch.testing.assert_close(U.sum(dim=0), torch.full((3,), 30.0), atol=0.5, rtol=0)
    # targets keep each sample's preference order where balancing allows: the most confident sample of a cluster
    # keeps it as its target's argmax
    for j in range(3):
        assert int(U[int(A[:, j].argmax())].argmax()) == j


def test_enhanced_representation_is_dominant_plus_gamma_times_the_others_mean():
    torch.manual_seed(0)
    views = [torch.rand(10, 4), torch.rand(10, 5), torch.rand(10, 6)]
    for combine in ("enhance", "fuse"):
        model = make("ddmc", 2, dominant=1, combine=combine, gamma=0.5, **SMALL)
        model.dominant_ = choose_dominant([v.numpy() for v in views], 2, seed=0, prior=1)
        net = model.build([4, 5, 6]).eval()
        with torch.no_grad():
            hs = net.encoders(views)
            expected = hs[1] + 0.5 * (hs[0] + hs[2]) / 2 if combine == "enhance" else (hs[0] + hs[1] + hs[2]) / 3
            torch.testing.assert_close(net.combined(hs), expected)


def test_snapshots_show_the_representation_at_the_asked_epochs(uneven):
    model = make("ddmc", 3, random_state=0, snapshot_epochs=[0, 2, 4], **{**SMALL, "epochs": 4}).fit(uneven[0])
    assert sorted(model.snapshots_) == [0, 2, 4]
    assert model.snapshots_[0].shape == (180, 16)
    np.testing.assert_allclose(model.snapshots_[4], model.transform(uneven[0]), rtol=1e-5, atol=1e-6)
    assert not np.allclose(model.snapshots_[0], model.snapshots_[4])


# ----------------------------------------------------------------------------- the silhouette rule's refusals

def test_a_view_cut_to_one_feature_does_not_win_the_silhouette_rule(uneven):
    """A single feature with three tight modes that carry nothing of the clusters: K-means cuts it into three
    intervals of silhouette near 1, so it beat every real view and DDMC clustered it, without a word."""
    views, y = uneven
    rng = np.random.default_rng(1)
    one_feature = (rng.integers(0, 3, size=(len(y), 1)) + 0.02 * rng.normal(size=(len(y), 1))) / 2
    with pytest.warns(DominantViewWarning, match=r"leaves view 3 out: it holds a single feature.*dominant=<view"):
        model = make("ddmc", 3, random_state=0, **{**SMALL, "epochs": 1}).fit([*views, one_feature])
    assert model.dominant_.view == 1
    assert [v for v, _ in model.dominant_.left_out] == [3]
    assert np.isnan(model.dominant_.scores[3]) and "left out: view 3: it holds a single feature" in \
        model.dominant_.describe()


@pytest.mark.parametrize("why, broken", [
    ("it is constant", lambda X: np.zeros_like(X)),
    ("it has 2 distinct rows, fewer than the 3 clusters", lambda X: np.repeat(X[:2], len(X) // 2, axis=0)),
])
def test_a_view_that_cannot_carry_the_clusters_is_left_out_by_name(uneven, why, broken):
    views, _ = uneven
    with pytest.warns(DominantViewWarning, match=f"leaves view 1 out: {why}"):
        chosen = choose_dominant([views[0], broken(views[1]), views[2]], 3, seed=0)
    assert chosen.view != 1 and [v for v, _ in chosen.left_out] == [1]


def test_no_view_able_to_carry_the_clusters_is_an_error_naming_the_rule_and_the_fix(uneven):
    views, _ = uneven
    single = [X[:, :1] for X in views]
    with pytest.raises(ValueError, match=r"highest K-means silhouette\) has no view to compare.*view 0: it holds a "
                                         r"single feature.*Fix: pass the dominant view explicitly \(dominant=<view"):
        make("ddmc", 3, **{**SMALL, "epochs": 1}).fit(single)
    make("ddmc", 3, dominant=0, **{**SMALL, "epochs": 1}).fit(single)  # the fix works


def test_as_many_clusters_as_samples_is_an_error_naming_the_rule_and_the_fix():
    rng = np.random.default_rng(0)
    views = [rng.normal(size=(12, 4)), rng.normal(size=(12, 3))]
    with pytest.raises(ValueError, match=r"highest K-means silhouette\) cannot score view 0 \(12 samples, 12 "
                                         r"clusters\).*Fix: pass the dominant view explicitly"):
        make("ddmc", 12, **{**SMALL, "epochs": 1, "batch_size": 12}).fit(views)


def test_the_dominance_table_shows_the_scores_compared_and_the_views_left_out(uneven, monkeypatch):
    from types import SimpleNamespace

    from mmc_core.experiments import tables

    views, y = uneven
    data = SimpleNamespace(views=[*views, views[1][:, :1]], n_clusters=3, view_names=["a", "b", "c", "d"])
    monkeypatch.setattr(tables, "load_dataset", lambda name: data)
    with pytest.warns(DominantViewWarning):
        table = tables.dominance_table(["MSRC-v1", "Event"])
    row = table.loc["MSRC-v1"]
    assert row["dominant view"] == "1 (b)" and np.isnan(row["silhouette 3 (d)"]) and row["silhouette 1 (b)"] > 0
    assert row["left out"].startswith("3 (d): it holds a single feature")
    # the views scaled as DDMC's runs scale them (Event's bags of words: l2 rows), not min-max everywhere
    assert table.scaling.to_dict() == {"MSRC-v1": "minmax", "Event": "l2"}
