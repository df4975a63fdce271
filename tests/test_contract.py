"""The contract every registered method keeps, checked over the whole registry (a new method is covered by being
registered): the estimator face, determinism, refit idempotence, planted clusters recovered, every constructor
parameter constrained and a bad value rejected by name, one random_state meaning, and for deep methods, that a
disabled term really leaves the minimised total."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import two_view_minmax

from mmc_core.deep import DeepClusterer
from mmc_core.methods import available, make, method_class
from mmc_core.metrics import accuracy
from mmc_core.params import (Boolean, Device, Interval, Names, Widths, constructor_parameters,
                             merged_constraints)

# Small, fast settings per method (tiny networks, few epochs); the classical methods run with their defaults.
SMALL: dict[str, dict] = {
    "simvc": {"encoder_widths": (32, 16), "epochs": 15, "batch_size": 60},
    "comvc": {"encoder_widths": (32, 16), "epochs": 15, "batch_size": 60},
    "comvc_iv": {"encoder_widths": (32, 16), "epochs": 15, "batch_size": 60},
    "idmc": {"encoder_widths": (32, 16), "fusion_widths": (16,), "epochs": 15, "batch_size": 60},
    "sdcib": {"width": 32, "n_layers": 3, "critic_widths": (16,), "epochs": 25, "batch_size": 45},
    "mflvc": {"encoder_widths": (64, 64), "feature_dim": 32, "high_feature_dim": 16, "lr": 1e-3, "epochs": 40,
              "batch_size": 32, "kmeans_n_init": 2},
    "dealmvc": {"encoder_widths": (64, 64), "feature_dim": 32, "high_feature_dim": 16, "lr": 1e-3, "epochs": 40,
                "batch_size": 32, "kmeans_n_init": 2, "attention_heads": 2},
    "icmvc": {"gcn_widths": (32, 16), "epochs": 30, "lr": 1e-2},
    "divide": {"encoder_widths": (32, 16), "epochs": 30, "batch_size": 60},
    "eamc": {"encoder_widths": (32, 16), "attention_widths": (16,), "discriminator_widths": (16,), "lr": 1e-3, "attention_lr": 1e-3, "epochs": 20, "batch_size": 60},
    "demvc": {"encoder_widths": (32,), "embedding_dim": 8, "pretrain_epochs": 30, "max_iter": 60, "update_interval": 10, "batch_size": 60, "kmeans_n_init": 3},
    "sem": {"encoder_widths": (64, 64), "feature_dim": 32, "high_feature_dim": 16, "lr": 1e-3, "epochs": 40, "batch_size": 32, "kmeans_n_init": 2},
    "scmvc": {"encoder_widths": (64, 64), "feature_dim": 32, "high_feature_dim": 16, "fusion_widths": (32,), "lr": 1e-3, "epochs": 40, "batch_size": 32, "kmeans_n_init": 2},
    "sslnmvc": {"encoder_widths": (64, 64), "feature_dim": 32, "high_feature_dim": 16, "lr": 1e-3, "epochs": 40, "batch_size": 32},
    "ddmc": {"encoder_widths": (32, 16), "projection_dim": 8, "epochs": 20, "batch_size": 60},
}
METHODS = available()


def build(name: str, **params):
    return make(name, **{"n_clusters": 3, **SMALL.get(name, {}), **params})


@pytest.fixture(scope="module")
def planted() -> tuple[list[np.ndarray], np.ndarray]:
    return two_view_minmax()


@pytest.fixture(scope="module")
def fitted(planted) -> dict[str, object]:
    return {name: build(name, random_state=0).fit(planted[0]) for name in METHODS}


def test_every_method_is_covered():
    assert set(SMALL) == {n for n in METHODS if issubclass(method_class(n), DeepClusterer)}


@pytest.mark.parametrize("name", METHODS)
def test_fit_predict_face(fitted, planted, name):
    model, (Xs, _) = fitted[name], planted
    assert isinstance(model.labels_, np.ndarray) and model.labels_.dtype == np.int64
    assert model.labels_.shape == (len(Xs[0]),) and model.labels_.min() >= 0 and model.labels_.max() < 3
    np.testing.assert_array_equal(model.predict(Xs), model.labels_)
    assert isinstance(model.seed_, int)


@pytest.mark.parametrize("name", METHODS)
def test_planted_clusters_are_recovered(fitted, planted, name):
    """Median over seeds 0-2 (SDCIB's consistency term can settle in an optimum merging two clusters: 1 seed in 4
    here), and no seed may collapse to one cluster."""
    Xs, y = planted
    accs = [accuracy(y, fitted[name].labels_)] + [accuracy(y, build(name, random_state=s).fit_predict(Xs))
                                                  for s in (1, 2)]
    assert np.median(accs) >= 0.9 and min(accs) >= 0.6, accs


@pytest.mark.parametrize("name", METHODS)
def test_same_seed_same_partition_and_refit_is_idempotent(fitted, planted, name):
    model = build(name, random_state=0)
    np.testing.assert_array_equal(model.fit_predict(planted[0]), fitted[name].labels_)
    np.testing.assert_array_equal(model.fit_predict(planted[0]), fitted[name].labels_)


@pytest.mark.parametrize("name", METHODS)
def test_random_state_none_draws_a_fresh_seed(planted, name):
    """None means a fresh seed at every fit, for every method (it used to mean 0 for the deep ones)."""
    model = build(name, random_state=None, **({"epochs": 3} if name in SMALL else {}))
    seeds = {model.fit(planted[0]).seed_ for _ in range(2)}
    assert len(seeds) == 2


def bad_values(constraint) -> list:
    """Values a constraint must refuse (for Interval: a non-integral float for int, a string, a bool)."""
    options = constraint if isinstance(constraint, list) else [constraint]
    values: list = ["not-a-value"]
    for c in options:
        if isinstance(c, Interval):
            values += [True] + ([2.7] if c.kind is int else []) + ([c.low - 1] if c.low is not None else [])
        if isinstance(c, (Widths, Names)):
            values += [7]
        if isinstance(c, Widths) and not c.allow_empty:
            values += [()]
        if isinstance(c, Device):
            values += ["gpu", None]
        if isinstance(c, Boolean):
            values += [1]
    return [v for v in values if not any(c.accepts(v) for c in options)]


@pytest.mark.parametrize("name", METHODS)
def test_every_parameter_is_constrained(name):
    cls = method_class(name)
    assert set(constructor_parameters(cls)) <= set(merged_constraints(cls)), "a parameter without a constraint"


@pytest.mark.parametrize("name", METHODS)
def test_bad_parameters_are_rejected_by_name(planted, name):
    cls = method_class(name)
    for param, constraint in merged_constraints(cls).items():
        for value in bad_values(constraint):
            with pytest.raises(ValueError, match=f"parameter {param}="):
                build(name, **{param: value}).fit(planted[0])


def test_silent_truncations_are_gone(planted):
    """The probe's cases: n_clusters 2.7 or True, epochs 2.7, random_state "abc", device None or "gpu"."""
    for params, shown in (({"n_clusters": 2.7}, "n_clusters=2.7"), ({"n_clusters": True}, "n_clusters=True"),
                          ({"epochs": 2.7}, "epochs=2.7"), ({"random_state": "abc"}, "random_state='abc'"),
                          ({"device": None}, "device=None"), ({"device": "gpu"}, "device='gpu'")):
        with pytest.raises(ValueError, match=shown):
            make("simvc", **{"n_clusters": 3, **SMALL["simvc"], **params}).fit(planted[0])


DEEP = sorted(SMALL)


@pytest.mark.parametrize("name", DEEP)
def test_total_is_the_weighted_sum_of_the_active_terms(fitted, name):
    history = fitted[name].history_
    for stage, rows in history.groupby("stage", sort=False):
        terms = [c[: -len(" weight")] for c in rows.columns if c.endswith(" weight") and rows[c].notna().all()]
        last = rows.iloc[-1]
        expected = sum(last[t] * last[f"{t} weight"] for t in terms)
        assert last["total"] == pytest.approx(expected, rel=1e-5, abs=1e-6), stage


@pytest.mark.parametrize("name", DEEP)
def test_each_disabled_term_leaves_the_total(planted, name):
    """Per term: disabled, it is still recorded, but the minimised total no longer contains it."""
    for stage in build(name, epochs=3).stages():
        for term in stage.names:
            fitted_model = build(name, random_state=0, epochs=3, disable=(term,)).fit(planted[0])
            rows = fitted_model.history_[fitted_model.history_.stage == stage.name]
            if rows.empty:
                continue
            last = rows.iloc[-1]
            active = sum(last[t] * last[f"{t} weight"] for t in stage.names if t != term)
            assert last["total"] == pytest.approx(active, rel=1e-5, abs=1e-6), (stage.name, term)
            assert np.isfinite(last[term])


def test_unknown_disable_names_the_method_terms(planted):
    with pytest.raises(ValueError, match="names no loss term of SiMVC; its terms are"):
        build("simvc", disable=("contrast",)).fit(planted[0])
