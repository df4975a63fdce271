"""Multi-DProxy on planted concepts: the answer is known, so each test names the bug it would catch."""

from __future__ import annotations

import numpy as np
import pytest

from mmc_core.multiclust import kmeans_scores
from mmc_core.multiclust.multidproxy import MultiDProxy, discriminability_weight, halvings, interest_weight
from mmc_core.multiclust.synthetic import planted_concepts

EPOCHS = 120  # short: enough for two prunings and a concept-specific representation on the planted data


@pytest.fixture(scope="module")
def planted():
    return planted_concepts(n=300, seed=1)


@pytest.fixture(scope="module")
def fitted(planted):
    """Multi-DProxy asked for each concept (seed 1)."""
    return {c: MultiDProxy(planted.task(c).n_clusters, random_state=1, epochs=EPOCHS, device="cpu")
            .fit_task(planted.task(c)) for c in ("colour", "shape")}


def test_schedules_follow_the_printed_formulas():
    assert interest_weight(0, 1000) == pytest.approx(0.1)
    assert interest_weight(500, 1000) == pytest.approx(0.3)
    assert interest_weight(1000, 1000) == pytest.approx(0.5)
    assert interest_weight(2000, 1000) == pytest.approx(0.5)  # capped
    assert discriminability_weight(0, 1000) == pytest.approx(0.0)
    assert discriminability_weight(500, 1000) == pytest.approx(0.1)
    assert discriminability_weight(1000, 1000) == pytest.approx(0.2)


def test_history_records_each_epochs_scheduled_weight(fitted):
    """The trainer evaluates a scheduled weight per epoch (a constant weight would leave these columns flat)."""
    history = fitted["colour"].history_
    epochs = np.arange(EPOCHS)
    np.testing.assert_allclose(history["interest weight"], [interest_weight(e, EPOCHS) for e in epochs])
    np.testing.assert_allclose(history["discriminability weight"], [discriminability_weight(e, EPOCHS) for e in epochs])
    expected = history["alignment"] + history["interest weight"] * history["interest"] \
        + history["discriminability weight"] * history["discriminability"]
    np.testing.assert_allclose(history["total"], expected, rtol=1e-5)


@pytest.mark.parametrize("k, m, expected", [(12, 3, 2), (16, 4, 2), (13, 3, 3), (3, 3, 0), (5, 4, 1)])
def test_halvings_take_the_list_down_to_m(k, m, expected):
    assert halvings(k, m) == expected


def test_candidate_management_ends_with_the_relevant_words(planted, fitted):
    for concept, model in fitted.items():
        task = planted.task(concept)
        relevant = {w for w, r in zip(task.candidates, task.relevant) if r}
        assert set(model.active_words_) == relevant
        history = model.candidate_history_
        assert [h["epoch"] for h in history] == [EPOCHS // 3, 2 * EPOCHS // 3]  # R = E / (halvings + 1)
        assert [len(h["kept"]) for h in history] == [len(task.candidates) // 2, task.n_clusters]
        assert set(history[0]["kept"]).isdisjoint(history[0]["dropped"])


def test_each_concept_asked_for_is_the_one_recovered(planted, fitted):
    """Asked for colour (the weaker signal, which K-means on the image features misses), the representation
    clusters by colour and not by shape; asked for shape, by shape and not by colour."""
    for asked, other in (("colour", "shape"), ("shape", "colour")):
        task = planted.task(asked)
        own = kmeans_scores(fitted[asked].features_, planted.labels[asked], task.n_clusters, seeds=(0, 1))["nmi"]
        cross = kmeans_scores(fitted[asked].features_, planted.labels[other], task.n_clusters, seeds=(0, 1))["nmi"]
        assert own > 0.4 and cross < 0.1, (asked, own, cross)
    plain = kmeans_scores(planted.image_features, planted.labels["colour"], 3, seeds=(0, 1))["nmi"]
    ours = kmeans_scores(fitted["colour"].features_, planted.labels["colour"], 3, seeds=(0, 1))["nmi"]
    assert plain < 0.1 < ours


def test_fit_is_deterministic(planted):
    task = planted.task("colour")
    runs = [MultiDProxy(3, random_state=4, epochs=5, device="cpu").fit_task(task).features_ for _ in range(2)]
    np.testing.assert_array_equal(*runs)


def test_static_candidates_are_never_pruned(planted):
    task = planted.task("colour")
    model = MultiDProxy(3, random_state=0, epochs=12, dynamic=False, device="cpu").fit_task(task)
    assert model.candidate_history_ == [] and model.active_words_ == list(task.candidates)


@pytest.mark.parametrize("representation", ["concat", "text", "visual"])
def test_ablation_representations_train(planted, representation):
    task = planted.task("colour")
    model = MultiDProxy(3, random_state=0, epochs=3, representation=representation, device="cpu").fit_task(task)
    assert model.features_.shape == (task.n_samples, task.image_features.shape[1])
    assert np.isfinite(model.features_).all()


def test_text_only_representation_is_the_proxy_side(planted):
    """-T must not see the image feature except through the text side: with the gated layers' text gate closed it
    equals the proxy, a mixture of candidate words (inside their span)."""
    task = planted.task("colour")
    model = MultiDProxy(3, random_state=0, epochs=1, representation="text", layers=1, device="cpu")
    model.set_candidates(task.candidates, task.candidate_features)
    model.fit([task.image_features])
    with __import__("torch").no_grad():
        model.model_.layers[0].text_gate.bias.fill_(-1e4)  # sigmoid -> 0: T^L = T^0 = w
        F = model.transform([task.image_features])
    residual = F - F @ np.linalg.pinv(task.candidate_features) @ task.candidate_features
    assert np.abs(residual).max() < 1e-4


def test_errors_name_the_fix(planted):
    task = planted.task("colour")
    with pytest.raises(RuntimeError, match="fit_task"):
        MultiDProxy(3, epochs=1, device="cpu").fit([task.image_features])
    with pytest.raises(ValueError, match="3 classes but n_clusters=4"):
        MultiDProxy(4, epochs=1, device="cpu").fit_task(task)
    with pytest.raises(ValueError, match="heads=5 must divide"):
        MultiDProxy(3, epochs=1, heads=5, device="cpu").fit_task(task)
    with pytest.raises(ValueError, match="representation"):
        MultiDProxy(3, epochs=1, representation="sum", device="cpu").fit_task(task)
    model = MultiDProxy(3, epochs=1, device="cpu").fit_task(task)
    with pytest.raises(ValueError, match="fitted images"):
        model.transform([task.image_features[:10]])
