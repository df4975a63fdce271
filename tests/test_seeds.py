"""Seeds trained together (mmc_core.deep.seeds: one batched computation, every op once for all seeds) give, per
seed, what the seed's own sequential fit gives within float tolerance: the same fitted attributes, history within
rtol 1e-4, soft assignments within 1e-3 and labels agreeing (`agree`). The cases are chosen so a difference has
room to grow: several mini-batches with a last short one, BatchNorm, random draws in the loss terms
(each seed's own stream), auxiliary networks, and seeds whose networks differ (DDMC's dominant view is chosen per
seed: seeds of unlike networks train in groups). Parameters are compared through what they compute: a bias before
a BatchNorm has a gradient of pure rounding noise, which Adam turns into full-size steps, so such a bias drifts
apart while the network's outputs do not."""

from __future__ import annotations

import json
import math
from dataclasses import is_dataclass, replace

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import adjusted_rand_score
from synthetic import blobs
from cache_records import records

from mmc_core.deep.seeds import fit_seeds, why_not_together
from mmc_core.experiments import make_grid, run_grid
from mmc_core.methods import available, make, method_class
from mmc_core.methods.ddmc import DDMC
from mmc_core.paths import data_dir
from mmc_core.preprocessing import scale_views

SMALL = {"encoder_widths": (32, 16), "projection_dim": 8, "epochs": 6, "batch_size": 70, "device": "cpu"}
SEEDS = (0, 1, 2, 3)


@pytest.fixture(scope="module")
def views() -> list[np.ndarray]:
    """3 clusters x 60 in three views."""
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(3), 60)
    return scale_views([blobs(rng, y, 6, 3.0, 1.0), blobs(rng, y, 9, 3.0, 1.0), blobs(rng, y, 4, 3.0, 1.0)],
                       "minmax")


def agree(a: np.ndarray, b: np.ndarray) -> bool:
    """Two partitions of the same run, one computed batched: at most 2% of the samples (here 3 of 180; a sample on
    a boundary may flip: ARI 0.97 for one) labelled otherwise, and ARI >= 0.95."""
    return np.mean(a == b) >= 0.98 and adjusted_rand_score(a, b) >= 0.95


def close(a, b) -> bool:
    """Fitted state equal within float tolerance: tensors, arrays, frames, containers and dataclasses."""
    if isinstance(a, (torch.Tensor, np.ndarray)):
        a, b = np.asarray(torch.as_tensor(a).cpu()), np.asarray(torch.as_tensor(b).cpu())
        return a.shape == b.shape and (np.allclose(a, b, rtol=1e-4, atol=1e-5, equal_nan=True) if a.dtype.kind == "f"
                                       else agree(a, b) if a.ndim == 1 else np.array_equal(a, b))
    if isinstance(a, float):
        return math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-5)
    if isinstance(a, pd.DataFrame):
        return list(a.columns) == list(b.columns) and all(close(a[c].to_numpy(), b[c].to_numpy()) if
                                                          a[c].dtype.kind == "f" else a[c].equals(b[c]) for c in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if is_dataclass(a):
        return close(vars(a), vars(b))
    return a == b


def assert_close_fit(together, alone, views) -> None:
    """Every fitted attribute (name ending in _) there and close, the labels agreeing, the network computing the
    same soft assignments."""
    fitted = {k for k in vars(alone) if k.endswith("_") and not k.startswith("_")}
    assert fitted == {k for k in vars(together) if k.endswith("_") and not k.startswith("_")}
    assert together.model_.state_dict().keys() == alone.model_.state_dict().keys()
    assert agree(alone.labels_, together.labels_)
    assert np.allclose(together.predict_proba(views), alone.predict_proba(views), atol=1e-3)
    for key in fitted - {"model_", "labels_"}:
        assert close(getattr(together, key), getattr(alone, key)), f"{key} differs"


TOGETHER = {  # every method that declares trains_seeds_together, at a small size
    "ddmc": SMALL,
    "idmc": {"encoder_widths": (32, 16), "fusion_widths": (16,), "epochs": 6, "batch_size": 70, "device": "cpu"},
    "simvc": {"encoder_widths": (32, 16), "epochs": 6, "batch_size": 70, "device": "cpu"},
    "comvc": {"encoder_widths": (32, 16), "epochs": 6, "batch_size": 70, "device": "cpu"},  # draws negatives
    "scmvc": {"encoder_widths": (32, 16), "feature_dim": 16, "high_feature_dim": 8, "fusion_widths": (16,),
              "epochs": 6, "batch_size": 70, "kmeans_n_init": 2, "device": "cpu"},  # two stages
    "sslnmvc": {"encoder_widths": (32, 16), "feature_dim": 16, "high_feature_dim": 8, "epochs": 6, "batch_size": 70,
                "device": "cpu"},
    # critics stacked and stepped on auxiliary_loss, drawing shuffled pairs; BatchNorm in encoders and critics
    "sdcib": {"n_layers": 2, "width": 16, "critic_widths": (8,), "epochs": 6, "batch_size": 70, "device": "cpu"},
    "eamc": {"encoder_widths": (32, 16), "attention_widths": (8,), "discriminator_widths": (16,), "epochs": 6,
             "batch_size": 70, "lr": 1e-3, "device": "cpu"},  # discriminators stacked, stepped on auxiliary_loss
    # a kNN graph per batch: dense when batched, sparse one by one on the CPU
    "icmvc": {"gcn_widths": (32, 16), "contrast_batch_size": 32, "epochs": 6, "batch_size": 70, "device": "cpu"},
}


def test_every_method_that_trains_seeds_together_is_tested():
    declared = {name for name in available() if getattr(method_class(name), "trains_seeds_together", False)}
    assert declared == set(TOGETHER)


@pytest.mark.parametrize("method", sorted(TOGETHER))
def test_seeds_together_equal_their_sequential_runs(method, views):
    """A short fit (one epoch of three batches; two stages of one for SCMVC): the seeds' rounding differences grow
    with every Adam step (seen: soft assignments 1e-3 apart after nine steps, a boundary sample flipped)."""
    params = {**TOGETHER[method], "epochs": 1}
    together = fit_seeds([make(method, 3, random_state=s, **params) for s in SEEDS], views)
    alone = [make(method, 3, random_state=s, **params).fit(views) for s in SEEDS]
    for t, a in zip(together, alone):
        assert_close_fit(t, a, views)


class AlternatingDominant(DDMC):
    """DDMC whose dominant view follows the seed's parity: two network structures among the seeds."""

    def prepare(self, views: list[np.ndarray]) -> None:
        super().prepare(views)
        self.dominant_ = replace(self.dominant_, view=self.seed_ % 2)


def test_networks_of_different_structure_train_in_groups(views):
    params = {**SMALL, "epochs": 1}
    together = fit_seeds([AlternatingDominant(3, random_state=s, **params) for s in SEEDS], views)
    assert [t.dominant_.view for t in together] == [0, 1, 0, 1]
    for t, s in zip(together, SEEDS):
        assert_close_fit(t, AlternatingDominant(3, random_state=s, **params).fit(views), views)


def test_methods_that_cannot_train_together_say_why(views):
    assert "on_epoch_start, before_step, acting on one network" in why_not_together(make("demvc", 3))
    assert "anchor weights apply the network's head" in why_not_together(make("comvc_iv", 3))
    assert "selection='min_loss'" in why_not_together(make("ddmc", 3, selection="min_loss"))
    with pytest.raises(ValueError, match="Cannot train these seeds together"):
        fit_seeds([make("demvc", 3, random_state=s) for s in SEEDS], views)
    with pytest.raises(ValueError, match="only in random_state; these also differ in alpha"):
        fit_seeds([make("ddmc", 3, random_state=0, **SMALL), make("ddmc", 3, random_state=1, alpha=0.5, **SMALL)],
                  views)


def test_seeds_together_refuse_what_they_cannot_do(views):
    """Each case used to fit silently or fail deep inside: one object twice (it ended with a fit not its own), a
    classical estimator (an AttributeError), two methods, one seed twice."""
    e = make("ddmc", 3, random_state=0, **SMALL)
    with pytest.raises(ValueError, match=r"same estimator object more than once \(positions \[0, 1\]\)"):
        fit_seeds([e, e], views)
    assert not hasattr(e, "labels_")  # refused before anything was fitted
    with pytest.raises(ValueError, match=r"deep methods only; estimator 1 \(KMeansSingleView\) is not one"):
        fit_seeds([make("ddmc", 3, random_state=0, **SMALL), make("km", 3, random_state=1)], views)
    with pytest.raises(ValueError, match="one method; given DDMC, IDMC"):
        fit_seeds([make("ddmc", 3, random_state=0, **SMALL), make("idmc", 3, random_state=1, device="cpu")], views)
    with pytest.raises(ValueError, match=r"random_state more than once \(\[2, 2\]\)"):
        fit_seeds([make("ddmc", 3, random_state=2, **SMALL), make("ddmc", 3, random_state=2, **SMALL)], views)


def test_run_together_refuses_runs_of_different_cells():
    """Given runs of two datasets (or scalings) it trained all on the first one's data and filed the records under
    the others' names."""
    from mmc_core.experiments.runner import RunSpec, run_together

    base = {"epochs": 2}
    with pytest.raises(ValueError, match="also differ in dataset"):
        run_together([RunSpec("ddmc", "MSRC-v1", 0, base), RunSpec("ddmc", "Event", 1, base)])
    with pytest.raises(ValueError, match="also differ in scaling"):
        run_together([RunSpec("ddmc", "MSRC-v1", 0, base, "minmax"), RunSpec("ddmc", "MSRC-v1", 1, base, "l2")])
    with pytest.raises(ValueError, match="also differ in method, parameters"):
        run_together([RunSpec("ddmc", "MSRC-v1", 0, base), RunSpec("idmc", "MSRC-v1", 1, {})])
    with pytest.raises(ValueError, match="a seed more than once"):
        run_together([RunSpec("ddmc", "MSRC-v1", 0, base), RunSpec("ddmc", "MSRC-v1", 0, base)])


def test_a_grid_with_seeds_together_writes_the_records_of_the_sequential_grid(tmp_path, monkeypatch):
    """The runner groups a cell's seeds (DDMC's and IDMC's here; K-means stays one by one) and files each seed's
    record as the sequential grid does: the same records with the same fields, identity and settings, labels that
    agree (trained batched, within float tolerance); with the jobs in two processes, the very same records."""
    small = {"encoder_widths": [32, 16], "epochs": 3}
    specs = make_grid([("ddmc", {**small, "projection_dim": 8}), ("idmc", {**small, "fusion_widths": [16]}), "amkm"],
                      ["MSRC-v1"], 3)
    run_grid(specs, cache_dir=tmp_path / "alone", data_dir=data_dir(), progress=False, seeds_together=False)
    monkeypatch.setenv("MMC_SEEDS_TOGETHER", "1")  # how `make reproduce SEEDS_TOGETHER=1` asks for it
    run_grid(specs, cache_dir=tmp_path / "together", data_dir=data_dir(), progress=False)
    together = {p.relative_to(tmp_path / "together"): json.loads(p.read_text())
                for p in (tmp_path / "together").rglob("seed*.json")}
    assert len(together) == 9
    assert sorted(r["provenance"].get("seeds_trained_together", []) != [] for r in together.values()) == \
        [False] * 3 + [True] * 6
    alone = records(tmp_path / "alone")
    assert records(tmp_path / "together").keys() == alone.keys()
    for path, record in records(tmp_path / "together").items():
        assert record.keys() == alone[path].keys()
        assert all(record[k] == alone[path][k] for k in ("config_id", "dataset", "method", "params", "seed"))
        assert agree(np.array(record["labels"]), np.array(alone[path]["labels"]))
    # In two processes (on a GPU, concurrent runs sharing it) a cell is one job, each other run one job.
    run_grid(specs, cache_dir=tmp_path / "processes", data_dir=data_dir(), progress=False, n_jobs=2)
    assert records(tmp_path / "processes") == records(tmp_path / "together")
    assert [r["provenance"].get("seeds_trained_together") for r in together.values()] == \
        [json.loads((tmp_path / "processes" / path).read_text())["provenance"].get("seeds_trained_together")
         for path in together]
