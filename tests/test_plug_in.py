"""IDMC's interest values plugged into CoMVC (comvc_iv): the hook, the weights, planted clusters."""

import numpy as np
import torch

from mmc_core.methods import make
from mmc_core.metrics import accuracy


def _planted(seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), 60)
    Xs = [rng.normal(size=(3, d))[y] * 2 + rng.normal(size=(180, d)) for d in (20, 30)]
    return Xs, y


def test_recovers_planted_clusters():
    Xs, y = _planted()
    est = make("comvc_iv", 3, random_state=0, epochs=15, encoder_widths=(64, 32))
    assert accuracy(y, est.fit_predict(Xs)) >= 0.9
    assert "contrast" in est.history_


def test_anchor_weights_are_interest_products_with_mean_one():
    Xs, _ = _planted()
    est = make("comvc_iv", 3, random_state=0, epochs=1, encoder_widths=(64, 32)).fit(Xs)
    data = [torch.as_tensor(X[:50], dtype=torch.float32) for X in Xs]
    est.model_.eval()
    with torch.no_grad():
        w = est.anchor_weights(est.model_, est.model_(data))
    assert w.shape == (100,) and not w.requires_grad
    assert torch.isclose(w.mean(), torch.tensor(1.0))
    assert torch.allclose(w[:50], w[50:])  # two views: anchor i of either view gets w_i^1 w_i^2 (rescaled)
    plain = make("comvc", 3, random_state=0, epochs=1, encoder_widths=(64, 32)).fit(Xs)
    assert plain.anchor_weights(plain.model_, {}) is None
