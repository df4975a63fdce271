"""EAMC, DEMVC and SMCMB (baselines of the DDMC table): they recover planted clusters, name their loss terms, leave a
disabled term out of the minimised total, and their distinctive pieces match hand computations (EAMC's attention
weights and orthogonality term, DEC's target distribution and DEMVC's rotating target view, SMCMB's simplex-
constrained anchor graph and transfer cut). Small networks, few epochs, one thread."""

from __future__ import annotations

import math

import numpy as np
import pytest
from synthetic import two_view_minmax
import torch

from mmc_core.methods import make
from mmc_core.methods.demvc import target_distribution, target_view
from mmc_core.methods.eamc import attention_weights, flipped_orthogonality, kernel_alignment
from mmc_core.methods.smcmb import consensus_graph, simplex_least_squares, transfer_cut
from mmc_core.metrics import accuracy
from mmc_core.seeding import seed_everything

SMALL = {
    "eamc": {"encoder_widths": (32, 16), "attention_widths": (16,), "discriminator_widths": (16,), "lr": 1e-3,
             "attention_lr": 1e-3, "epochs": 20, "batch_size": 60},
    "demvc": {"encoder_widths": (32,), "embedding_dim": 8, "pretrain_epochs": 30, "max_iter": 60,
              "update_interval": 10, "batch_size": 60, "kmeans_n_init": 3},
    "smcmb": {"n_anchors": 20},
}
TERMS = {
    "eamc": {"ddc_1", "ddc_2", "ddc_3", "attention", "generator"},
    "demvc": {"recon", "clustering"},
}


@pytest.fixture(scope="module")
def planted() -> tuple[list[np.ndarray], np.ndarray]:
    return two_view_minmax()


@pytest.fixture(scope="module")
def fits(planted) -> dict[str, list]:
    """Each method fitted on seeds 0-2 through make(name) (labels given to the deep ones, for monitoring only)."""
    views, y = planted
    return {name: [make(name, 3, random_state=seed, **params).fit(views, y) for seed in range(3)]
            for name, params in SMALL.items()}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_recovers_planted_clusters(fits, planted, name):
    accs = [accuracy(planted[1], model.labels_) for model in fits[name]]
    assert np.median(accs) >= 0.9 and min(accs) >= 0.6, accs
    np.testing.assert_array_equal(fits[name][0].predict(planted[0]), fits[name][0].labels_)


def test_reported_labels():
    assert [make(n, 3).reported_as for n in ("eamc", "demvc", "smcmb")] == ["EAMC", "DEMVC", "SMCMB"]
    assert make("smcmb", 3).default_scaling == "none"


@pytest.mark.parametrize("name", sorted(TERMS))
def test_terms_named_in_history(fits, name):
    history = fits[name][0].history_
    assert TERMS[name] <= set(history.columns) and "total" in history.columns
    assert {f"{t} weight" for t in TERMS[name]} <= set(history.columns)
    assert history[sorted(TERMS[name])].notna().any().all()


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)`")  # a stage with no active term
@pytest.mark.parametrize("name", sorted(TERMS))
def test_disabling_a_term_removes_it_from_the_total(planted, name):
    params = {**SMALL[name], **({"pretrain_epochs": 2, "max_iter": 6} if name == "demvc" else {"epochs": 2})}
    for term in sorted(TERMS[name]):
        history = make(name, 3, random_state=0, disable=(term,), **params).fit(planted[0]).history_
        for _, rows in history.groupby("stage", sort=False):
            last = rows.iloc[-1]
            terms = [c[: -len(" weight")] for c in rows.columns if c.endswith(" weight") and rows[c].notna().all()]
            active = sum(last[t] * last[f"{t} weight"] for t in terms if t != term)
            assert last["total"] == pytest.approx(active, rel=1e-5, abs=1e-6), (term, terms)
            if term in terms:
                assert np.isfinite(last[term])


# ----------------------------------------------------------------------------------------------------------- EAMC
def test_eamc_attention_weights_by_hand():
    """w = mean_i softmax(sigmoid(s_i) / tau): row (0, 0) gives (1/2, 1/2); row (0, log 3) has sigmoids
    (1/2, 3/4), over tau = 1/4 (2, 3), softmax (1, e) / (1 + e)."""
    scores = torch.tensor([[0.0, 0.0], [0.0, math.log(3.0)]])
    w = attention_weights(scores, tau=0.25)
    expected = torch.tensor([(0.5 + 1 / (1 + math.e)) / 2, (0.5 + math.e / (1 + math.e)) / 2])
    torch.testing.assert_close(w, expected)


def test_eamc_orthogonality_and_kernel_alignment_by_hand():
    A = torch.tensor([[1.0, 0.0], [0.5, 0.5]])  # A^T A = [[1.25, .25], [.25, .25]]: 2/(k(k-1)) * .25
    assert flipped_orthogonality(A).item() == pytest.approx(0.25)
    h = torch.randn(6, 3)  # two identical views fused with any weights summing to 1: the kernels agree exactly
    assert kernel_alignment(h, [h, h], torch.tensor([0.3, 0.7]), 0.15).item() == pytest.approx(0.0, abs=1e-10)


def test_eamc_discriminators_are_trained_apart(fits):
    model = fits["eamc"][0]
    groups = model.trainable_parameters(model.model_)
    in_trainer = {id(p) for g in groups for p in g["params"]}
    assert not any(id(p) in in_trainer for p in model.model_.discriminators.parameters())
    assert groups[1]["lr"] == model.attention_lr and groups[0]["betas"] == (0.95, 0.999)
    seed_everything(0)  # as the trainer does before build(): the same initial weights
    initial = model.build([20, 30])
    assert not torch.allclose(model.model_.discriminators[0][-1].weight, initial.discriminators[0][-1].weight)
    assert model.fusion_weights_.shape == (2,) and model.fusion_weights_.sum() == pytest.approx(1.0, abs=1e-6)


# ---------------------------------------------------------------------------------------------------------- DEMVC
def test_dec_target_distribution_by_hand():
    """f = (1.3, 0.7); row 1: (.25/1.3, .25/.7) normalised = (.35, .65); row 2: (.64/1.3, .04/.7) -> (.896, .104)."""
    Q = torch.tensor([[0.5, 0.5], [0.8, 0.2]])
    torch.testing.assert_close(target_distribution(Q), torch.tensor([[0.35, 0.65], [0.896, 0.104]]))


def test_demvc_target_view_rotates_from_the_referred_view():
    assert [target_view(3, r, 1) for r in range(4)] == [1, 2, 0, 1]
    assert [target_view(2, r, None) for r in range(3)] == [0, 1, 0]


def test_demvc_centres_shared_and_target_refreshed_on_schedule(planted):
    model = make("demvc", 3, random_state=0, **SMALL["demvc"])
    model.seed_ = 0
    net = model.build([20, 30])
    model.model_ = net
    data = [torch.as_tensor(X, dtype=torch.float32) for X in planted[0]]
    ctx = {"epoch": 0}
    with torch.no_grad():
        model.initialize_centers(net, data, ctx)
    torch.testing.assert_close(net.centers[0], net.centers[1])  # every view starts from the referred view's centres
    refreshes = []
    for _ in range(25):
        model.refresh_target(net, None, ctx)
        refreshes.append(ctx["refreshes"])
    assert refreshes[0] == 1 and refreshes[10] == 2 and refreshes[20] == 3 and refreshes[-1] == 3
    P = ctx["targets"]
    assert P[0] is P[1]  # collaborative: one target for every view
    torch.testing.assert_close(P[0].sum(dim=1), torch.ones(180))


# ---------------------------------------------------------------------------------------------------------- SMCMB
def test_smcmb_anchor_graph_by_hand():
    """Anchors 0 and 1 on a line: min (x - z2)^2 + beta (z1^2 + z2^2), z1 + z2 = 1, z >= 0 has
    z2 = (x + beta) / (1 + 2 beta), clipped to [0, 1]."""
    H, beta = np.array([[0.0], [1.0]]), 0.5
    Z = simplex_least_squares(np.array([[0.3], [2.0], [-1.0]]), H, beta)
    np.testing.assert_allclose(Z, [[0.6, 0.4], [0.0, 1.0], [1.0, 0.0]], atol=1e-6)


def test_smcmb_transfer_cut_and_consensus_graph():
    B = np.zeros((6, 5))  # samples 0-2 use anchors 0-1, samples 3-5 anchors 2-3; anchor 4 is unused
    B[:3, :2] = [[0.7, 0.3], [0.5, 0.5], [0.2, 0.8]]
    B[3:, 2:4] = [[0.6, 0.4], [0.1, 0.9], [0.5, 0.5]]
    labels = transfer_cut(B, 2, seed=0, n_init=2)
    assert len(set(labels[:3])) == 1 and len(set(labels[3:])) == 1 and labels[0] != labels[3]
    G = consensus_graph(np.array([[0, 1], [0, 0], [1, 1]])).toarray()
    np.testing.assert_array_equal(G, [[1, 0, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]])


def test_smcmb_keeps_its_base_clusterings(fits):
    model = fits["smcmb"][0]
    assert model.base_labels_.shape == (180, 2 * model.n_anchor_sets)
    assert len(model.anchors_) == 2 * model.n_anchor_sets and model.anchors_[0].shape == (20, 20)
