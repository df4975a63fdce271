"""IDMC on planted multi-view clusters: recovery, determinism, ablations, inspectable interest values."""

import numpy as np
import pytest
import torch

from mmc_core.methods import make
from mmc_core.methods.idmc import IDMC
from mmc_core.metrics import accuracy
from mmc_core.preprocessing import scale_views

SMALL = {"encoder_widths": (32, 16), "fusion_widths": (16,)}  # for tests of mechanics, not of quality
TERMS = ["recon", "align", "kl", "ddc_1", "ddc_2", "ddc_3"]


def planted(seed: int = 0, n_per: int = 60, sep: float = 6.0) -> tuple[list[np.ndarray], np.ndarray]:
    """3 Gaussian clusters seen by 2 views (20 and 30 features), the first two centres `sep` apart, min-max
    scaled. K-means on the concatenated views recovers them exactly."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), n_per)
    views = []
    for dim in (20, 30):
        centres = rng.normal(size=(3, dim))
        centres *= sep / np.linalg.norm(centres[0] - centres[1])
        views.append(centres[y] + rng.normal(size=(y.size, dim)))
    return scale_views(views, "minmax"), y


@pytest.fixture(scope="module")
def data():
    return planted()


@pytest.fixture(scope="module")
def fitted(data):
    Xs, y = data
    return make("idmc", 3, random_state=0, epochs=20, batch_size=60, keep_interest_parts=True).fit(Xs)


def test_registered_with_its_label():
    model = make("IDMC", 3)
    assert isinstance(model, IDMC) and model.reported_as == "IDMC"
    assert model.fusion == "bayes" and model.interest and model.knn == 10 and model.lam == 0.05 and model.tau == 0.1


def test_recovers_planted_clusters(data, fitted):
    Xs, y = data
    assert accuracy(y, fitted.labels_) >= 0.9
    assert list(fitted.history_.columns[:2]) == ["stage", "epoch"] and set(TERMS) <= set(fitted.history_.columns)


def test_interest_values_after_fit(fitted):
    """The last batch of an epoch over 180 samples in batches of 60 has 60 samples."""
    ws = fitted.last_interest_
    assert len(ws) == 2
    for w in ws:
        assert w.shape == (60,) and w.device.type == "cpu" and not w.requires_grad
        assert (w >= 0).all() and (w <= 1).all() and w.max() > 0
    parts = fitted.last_interest_parts_
    assert len(parts) == 2 and torch.equal(parts[0]["w"], ws[0])
    assert parts[1]["graph"].shape == (60, 60) and (parts[1]["graph"].sum(dim=1) == 10).all()


def test_interest_of_given_samples(data, fitted):
    Xs, _ = data
    batch = [X[:40] for X in Xs]
    ws = fitted.interest_of(batch)
    assert [w.shape for w in ws] == [(40,), (40,)]
    parts = fitted.interest_of(batch, parts=True)
    assert torch.equal(parts[0]["w"], ws[0])
    assert {"E", "S", "theta", "G_tilde", "eta", "eta_tilde", "consistency", "w"} <= set(parts[0])
    with pytest.raises(ValueError, match="views"):
        fitted.interest_of(Xs[:1])


def test_deterministic_for_a_fixed_random_state(data):
    Xs, _ = data
    runs = [make("idmc", 3, random_state=s, epochs=2, **SMALL).fit(Xs) for s in (5, 5, 6)]
    np.testing.assert_array_equal(runs[0].labels_, runs[1].labels_)
    assert runs[0].history_.equals(runs[1].history_)
    assert not runs[0].history_[TERMS].equals(runs[2].history_[TERMS])


@pytest.mark.parametrize("ablation", list(IDMC.ABLATIONS))
def test_each_ablation_runs_and_drops_its_terms(data, ablation):
    Xs, _ = data
    off = IDMC.ABLATIONS[ablation]
    model = make("idmc", 3, random_state=0, epochs=1, disable=off, **SMALL).fit(Xs)
    history = model.history_
    assert set(TERMS) <= set(history.columns)  # disabled terms are still recorded
    active = [name for name in TERMS if name not in off]
    np.testing.assert_allclose(history["total"], history[active].sum(axis=1), rtol=1e-6, atol=1e-6)


def test_disabled_recon_leaves_the_decoders_untrained(data):
    """The decoders enter only the reconstruction term: with it off they get no gradient at all."""
    Xs, _ = data

    def decoders(epochs: int, disable: tuple[str, ...]) -> list[torch.Tensor]:
        model = make("idmc", 3, random_state=0, epochs=epochs, disable=disable, **SMALL).fit(Xs)
        return [p.detach().clone() for p in model.model_.decoders.parameters()]

    untrained, after = decoders(1, ("recon",)), decoders(2, ("recon",))
    assert all(torch.equal(a, b) for a, b in zip(untrained, after))
    trained = decoders(1, ())
    assert not all(torch.equal(a, b) for a, b in zip(untrained, trained))


def test_without_interest_values_all_weights_are_one(data):
    Xs, _ = data
    model = make("idmc", 3, random_state=0, epochs=1, interest=False, **SMALL).fit(Xs)
    assert all(torch.equal(w, torch.ones_like(w)) for w in model.last_interest_)


def test_variants_set_what_figure_3_compares():
    built = {name: make("idmc", 3, **options) for name, options in IDMC.VARIANTS.items()}
    assert {name: (m.fusion, m.interest) for name, m in built.items()} == {
        "IDMC": ("bayes", True), "IDMC-AVG": ("average", True), "IDMC w/o IV": ("bayes", False)}


def test_bad_options_are_clear_errors(data):
    Xs, _ = data
    for bad, shown in (({"fusion": "median"}, "fusion='median'.*'bayes', 'average'"), ({"label_term": "log"}, "label_term"),
                       ({"knn": 0}, "knn=0")):
        with pytest.raises(ValueError, match=shown):
            make("idmc", 3, **bad).fit(Xs)
    with pytest.raises(RuntimeError, match="not fitted"):
        make("idmc", 3).interest_of([np.zeros((4, 2))])
