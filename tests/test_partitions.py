"""Every method uses all k clusters where the data has k: a collapsed partition (fewer clusters than asked for) caps
ACC far below what the features allow and must not pass as a plausible score.

- Planted data with k = 8 clusters of unequal sizes: the papers' methods at their own defaults (what the shipped runs
  use), every other method at the contract's small settings (test_contract.SMALL: tiny networks, few epochs).
- A real set: every method's shipped main-row runs on Event (8 classes) use all 8 clusters.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from synthetic import unequal_clusters
from test_contract import SMALL

from mmc_core.experiments.reference import iter_records
from mmc_core.experiments.report import run_kind
from mmc_core.methods import available, make, method_class

PAPER_METHODS = ("idmc", "ddmc", "sdcib")
# Baselines that merge planted clusters at the contract's small settings, each measured (seed 0): a property of the
# method as its authors' code has it (the DDC head of SiMVC/CoMVC merges two clusters in 1 of 2 seeds even at its own
# defaults, 100 epochs), or of the small settings' under-training. The report flags any shipped run that collapses.
MERGE_WHEN_SMALL = {
    "simvc": "DDC head: 6 of 8 (at its defaults, 100 epochs: 8 and 7 of 8 in seeds 0 and 1)",
    "comvc": "DDC head, as SiMVC's: 6 of 8",
    "comvc_iv": "CoMVC's DDC head: 7 of 8",
    "eamc": "7 of 8 (two clusters of 1 sample)",
    "icmvc": "7 of 8",
    "mflvc": "7 of 8 at 40 epochs; 8 of 8 at 120",
}
BASELINES = [m for m in available() if m not in PAPER_METHODS]


def _used(labels: np.ndarray) -> str:
    return f"{len(np.unique(labels))} of 8 clusters: sizes {np.bincount(labels, minlength=8).tolist()}"


@pytest.fixture(scope="module")
def planted() -> tuple[list[np.ndarray], np.ndarray]:
    return unequal_clusters()


def test_planted_data_is_what_the_test_says():
    views, y = unequal_clusters()
    sizes = np.bincount(y)
    assert len(sizes) == 8 and len(set(sizes)) == 8 and sizes.max() / sizes.min() > 3


# An open defect, measured: DDMC at its defaults merges the planted clusters of 40 and 50 samples (seed 0; with 40 to
# 180 samples per cluster it uses all 8 in seeds 0 and 1); on Event it uses all 8 in every shipped run.
OPEN = {"ddmc": "DDMC merges two small planted clusters (40 and 50 samples) at its defaults: 7 of 8"}


@pytest.mark.parametrize("name", [
    pytest.param(m, marks=pytest.mark.xfail(strict=True, reason=OPEN[m])) if m in OPEN else m for m in PAPER_METHODS])
def test_paper_methods_use_every_cluster_at_their_defaults(planted, name):
    views, _ = planted
    labels = make(name, n_clusters=8, random_state=0).fit_predict(views)
    assert len(np.unique(labels)) == 8, f"{name} uses {_used(labels)}"


@pytest.mark.parametrize("name", [
    pytest.param(m, marks=pytest.mark.xfail(strict=True, reason=MERGE_WHEN_SMALL[m])) if m in MERGE_WHEN_SMALL else m
    for m in BASELINES])
def test_every_cluster_is_used_on_planted_data(planted, name):
    views, _ = planted
    params = dict(SMALL.get(name, {}))
    if getattr(method_class(name), "per_view", False):
        params["view"] = 0
    labels = make(name, n_clusters=8, random_state=0, **params).fit_predict(views)
    assert len(np.unique(labels)) == 8, f"{name} uses {_used(labels)}"


def _main_rows_on_event() -> dict[str, list[tuple[str, int, int]]]:
    """Per method, (record, clusters used, k) of its shipped Event runs in the configuration its main row uses (no
    parameter but the device; its own scaling)."""
    rows: dict[str, list[tuple[str, int, int]]] = {}
    for path, record in iter_records():
        if record["dataset"] != "Event" or run_kind(record) != "main row":
            continue
        rows.setdefault(record["method"], []).append((path.name, record["clusters_used"], record["n_clusters"]))
    return rows


def test_every_method_uses_every_cluster_on_a_real_set():
    rows = _main_rows_on_event()
    assert {"km", "ddmc", "sdcib"} <= set(rows), json.dumps(sorted(rows))
    collapsed = {m: [(p, used, k) for p, used, k in runs if used < k] for m, runs in rows.items()}
    collapsed = {m: c for m, c in collapsed.items() if c}
    assert not collapsed, f"main-row runs on Event using fewer clusters than its 8 classes: {collapsed}"
