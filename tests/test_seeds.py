"""Seeds trained together (mmc_core.deep.seeds) give, per seed, what the seed's own sequential fit gives: the same
parameters and buffers, history and labels, bit for bit on the CPU with one thread. The cases are chosen so a
difference has room to grow: several epochs, several mini-batches with a last short one, BatchNorm, and seeds whose
networks differ (DDMC's dominant view is chosen per seed: seeds of unlike networks train in groups)."""

from __future__ import annotations

import json
from dataclasses import is_dataclass, replace

import numpy as np
import pandas as pd
import pytest
import torch
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


@pytest.fixture(autouse=True)
def one_thread():
    """Bit equality holds for one thread (the project's setting): a multi-threaded gemm may split sums differently."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def views() -> list[np.ndarray]:
    """3 clusters x 60 in three views."""
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(3), 60)
    return scale_views([blobs(rng, y, 6, 3.0, 1.0), blobs(rng, y, 9, 3.0, 1.0), blobs(rng, y, 4, 3.0, 1.0)],
                       "minmax")


def same(a, b) -> bool:
    """Exact equality of fitted state: tensors, arrays, frames, containers and dataclasses, element by element."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, pd.DataFrame):
        return a.equals(b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if is_dataclass(a):
        return same(vars(a), vars(b))
    return a == b


def assert_same_fit(together, alone) -> None:
    """Every fitted attribute (name ending in _) equal, the network's parameters and buffers included."""
    fitted = {k for k in vars(alone) if k.endswith("_") and not k.startswith("_")}
    assert fitted == {k for k in vars(together) if k.endswith("_") and not k.startswith("_")}
    for key in fitted:
        if key == "model_":
            mine, theirs = together.model_.state_dict(), alone.model_.state_dict()
            assert mine.keys() == theirs.keys()
            assert all(torch.equal(mine[k], theirs[k]) for k in theirs), "parameters or buffers differ"
        else:
            assert same(getattr(together, key), getattr(alone, key)), f"{key} differs"


TOGETHER = {  # every method that declares trains_seeds_together, at a small size
    "ddmc": SMALL,
    "idmc": {"encoder_widths": (32, 16), "fusion_widths": (16,), "epochs": 6, "batch_size": 70, "device": "cpu"},
    "simvc": {"encoder_widths": (32, 16), "epochs": 6, "batch_size": 70, "device": "cpu"},
    "comvc": {"encoder_widths": (32, 16), "epochs": 6, "batch_size": 70, "device": "cpu"},  # draws negatives
    "scmvc": {"encoder_widths": (32, 16), "feature_dim": 16, "high_feature_dim": 8, "fusion_widths": (16,),
              "epochs": 6, "batch_size": 70, "kmeans_n_init": 2, "device": "cpu"},  # two stages
    "sslnmvc": {"encoder_widths": (32, 16), "feature_dim": 16, "high_feature_dim": 8, "epochs": 6, "batch_size": 70,
                "device": "cpu"},
    # critics stepped per seed in after_forward, drawing shuffled pairs; BatchNorm in encoders and critics
    "sdcib": {"n_layers": 2, "width": 16, "critic_widths": (8,), "epochs": 6, "batch_size": 70, "device": "cpu"},
    "eamc": {"encoder_widths": (32, 16), "attention_widths": (8,), "discriminator_widths": (16,), "epochs": 6,
             "batch_size": 70, "lr": 1e-3, "device": "cpu"},  # discriminators stepped per seed in after_forward
}


def test_every_method_that_trains_seeds_together_is_tested():
    declared = {name for name in available() if getattr(method_class(name), "trains_seeds_together", False)}
    assert declared == set(TOGETHER)


@pytest.mark.parametrize("method", sorted(TOGETHER))
def test_seeds_together_equal_their_sequential_runs(method, views):
    together = fit_seeds([make(method, 3, random_state=s, **TOGETHER[method]) for s in SEEDS], views)
    alone = [make(method, 3, random_state=s, **TOGETHER[method]).fit(views) for s in SEEDS]
    for t, a in zip(together, alone):
        assert_same_fit(t, a)
    assert np.array_equal(together[0].predict(views), alone[0].predict(views))


class AlternatingDominant(DDMC):
    """DDMC whose dominant view follows the seed's parity: two network structures among the seeds."""

    def prepare(self, views: list[np.ndarray]) -> None:
        super().prepare(views)
        self.dominant_ = replace(self.dominant_, view=self.seed_ % 2)


def test_networks_of_different_structure_train_in_groups(views):
    together = fit_seeds([AlternatingDominant(3, random_state=s, **SMALL) for s in SEEDS], views)
    assert [t.dominant_.view for t in together] == [0, 1, 0, 1]
    for t, s in zip(together, SEEDS):
        assert_same_fit(t, AlternatingDominant(3, random_state=s, **SMALL).fit(views))


def test_methods_that_cannot_train_together_say_why(views):
    assert "on_epoch_start, before_step, acting on one network" in why_not_together(make("demvc", 3))
    assert "sparse kNN graph" in why_not_together(make("icmvc", 3))
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
    record as the sequential grid does: only the timing and the provenance may differ; so it does with the jobs in
    two processes."""
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
    assert records(tmp_path / "together") == records(tmp_path / "alone")
    # In two processes (on a GPU, concurrent runs sharing it) a cell is one job, each other run one job.
    run_grid(specs, cache_dir=tmp_path / "processes", data_dir=data_dir(), progress=False, n_jobs=2)
    assert records(tmp_path / "processes") == records(tmp_path / "alone")
    assert [r["provenance"].get("seeds_trained_together") for r in together.values()] == \
        [json.loads((tmp_path / "processes" / path).read_text())["provenance"].get("seeds_trained_together")
         for path in together]
