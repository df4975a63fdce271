"""The seed benchmark and the full profile's projection: what `make bench` measures and what the README states."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from synthetic import two_view_minmax

from mmc_core.experiments import benchmark
from mmc_core.deep import DeepClusterer
from mmc_core.experiments.benchmark import (OPS_TARGET, bench_block, full_profile_estimate,
                                            measure_case, measure_ops, merge_bench)
from mmc_core.methods import available, make, method_class

ROOT = Path(__file__).resolve().parents[1]


def record(method: str, dataset: str, config: str, seconds: float) -> dict:
    return {"method": method, "dataset": dataset, "config_id": config, "provenance": {"wall_seconds": seconds}}


STAMP = {"date": "2026-12-05", "commit": "abc1234"}
BENCH = {"device": "CPU: test", "device_kind": "cpu", "torch": "2", "threads": 1, "epochs": 3,
         "rows": [{**STAMP, "method": "ddmc", "dataset": "Event", "seeds": 20, "one by one (s/epoch)": 2.0,
                   "together (s/epoch)": 1.0, "together / one by one": 0.5, "S seeds together / 1 seed": 10.0,
                   "why not together": None},
                  {**STAMP, "method": "icmvc", "dataset": "Event", "seeds": 1, "one by one (s/epoch)": 1.0,
                   "together (s/epoch)": None, "together / one by one": None, "S seeds together / 1 seed": None,
                   "why not together": "ICMVC: its forward pass builds a sparse kNN graph per batch"}]}


def test_projection_counts_20_seeds_per_cell_at_the_median_cost_and_applies_the_measured_ratio():
    records = [record("ddmc", "Event", "a", s) for s in (10, 30, 20)] + [record("ddmc", "MSRC-v1", "b", 36)] + \
        [record("icmvc", "Event", "c", 180)]
    table = full_profile_estimate(records, BENCH).set_index("method")
    assert table.loc["ddmc", "cells"] == 2 and table.loc["ddmc", "runs"] == 40
    assert table.loc["ddmc", "hours one by one"] == pytest.approx(round((20 + 36) * 20 / 3600, 2))
    assert table.loc["ddmc", "hours, seeds together"] == pytest.approx(round((20 + 36) * 20 / 3600 * 0.5, 2))
    assert table.loc["icmvc", "hours, seeds together"] == table.loc["icmvc", "hours one by one"] == 1.0
    assert table.loc["all", "runs"] == 60


def test_the_readme_block_names_device_date_and_commit(tmp_path, monkeypatch):
    monkeypatch.setattr(benchmark, "BENCH_DIR", tmp_path)
    assert "No benchmark kept" in bench_block([])
    (tmp_path / "cpu.json").write_text(json.dumps(BENCH))
    block = bench_block([record("ddmc", "Event", "a", 36)])
    assert "**CPU: test**" in block and "2026-12-05" in block and "abc1234" in block
    assert "ICMVC: its forward pass" in block and "Full profile, projected" in block


def test_measure_case_times_both_ways_or_says_why_not():
    views, _ = two_view_minmax()
    rows = measure_case("simvc", "planted", views, 3, (1, 2), 1, "cpu")
    assert [r["seeds"] for r in rows] == [1, 2] and all(r["together (s/epoch)"] > 0 for r in rows)
    assert rows[1]["S seeds together / 1 seed"] == pytest.approx(rows[1]["together (s/epoch)"] / rows[0][
        "one by one (s/epoch)"], abs=0.01)
    (alone,) = measure_case("demvc", "planted", views, 3, (1, 2), 1, "cpu")
    assert alone["together (s/epoch)"] is None and "acting on one network" in alone["why not together"]


def test_keeping_a_remeasured_method_replaces_only_its_rows_and_stamps_them(tmp_path, monkeypatch):
    again = {**BENCH, "rows": [{**BENCH["rows"][0], "together (s/epoch)": 1.5, "date": "2026-12-06",
                                "commit": "def5678"}]}
    merged = merge_bench(BENCH, again)
    assert [(r["method"], r["commit"]) for r in merged["rows"]] == [("ddmc", "def5678"), ("icmvc", "abc1234")]
    assert merge_bench(BENCH, {**again, "epochs": 5})["rows"] == again["rows"]  # other settings: a new table
    monkeypatch.setattr(benchmark, "BENCH_DIR", tmp_path)
    (tmp_path / "cpu.json").write_text(json.dumps(merged))
    block = bench_block([])
    assert "measured 2026-12-05, 2026-12-06 at commit abc1234, def5678" in block and "| 1.5 " in block


def small_params(method: str) -> dict:
    """Narrow networks where the method has the parameters (the op count depends on the layers, not their width)."""
    from test_seeds import TOGETHER

    return {k: v for k, v in TOGETHER.get(method, {}).items() if k not in ("epochs", "batch_size", "device")}


DEEP = [m for m in available() if issubclass(method_class(m), DeepClusterer)]


@pytest.fixture(scope="module")
def op_rows() -> dict[str, list[dict]]:
    rows = np.random.default_rng(0).permutation(180)[:64]  # 4 batches of 16, from every cluster
    views = [v[rows] for v in two_view_minmax()[0]]
    return {m: measure_ops(m, "planted", views, 3, (1, 20), batch_size=16, params=small_params(m)) for m in DEEP}


def test_seeds_together_cost_at_most_one_and_a_half_seeds_ops(op_rows):
    """20 seeds trained together launch at most OPS_TARGET times one seed's kernels per step: fails where a part of
    the step runs once per seed (a loss term outside vmap, an op vmap has no rule for, per-seed Adam)."""
    batching = {m: rows[-1] for m, rows in op_rows.items() if rows[-1]["why not together"] is None}
    assert {"ddmc", "idmc", "sdcib", "simvc"} <= set(batching)
    over = {m: row["together / 1 seed (ops)"] for m, row in batching.items()
            if row["together / 1 seed (ops)"] > OPS_TARGET}
    assert not over, f"ops per step of 20 seeds together over one seed's: {over}"


def test_no_method_syncs_the_host_in_its_batch_loop(op_rows):
    """A scalar read, a boolean mask, a nonzero or a tensor from host data per step, one seed or 20 together, fails
    (ICMVC's sparse graph would: its nonzero, were the count not on the dense path a GPU runs)."""
    syncing = {m: (row["syncing ops (1 seed)"], row["syncing ops (together)"]) for m, rows in op_rows.items()
               for row in rows if row["one by one (syncs/step)"] or row["together (syncs/step)"]}
    assert not syncing, f"host syncs per step: {syncing}"


def test_the_cpu_graph_is_sparse_and_would_sync_a_gpu(op_rows):
    """The count is of the GPU's path: on the CPU ICMVC's graph is sparse (the shipped runs' product), and its
    nonzero is what the dense form removes; fails if measure_ops stops counting the dense path."""
    from mmc_core.deep.opcount import per_step

    rows = np.random.default_rng(0).permutation(180)[:64]
    views = [v[rows] for v in two_view_minmax()[0]]
    fit = lambda rows, size: make("icmvc", 3, random_state=0, **{**small_params("icmvc"), "epochs": 1,  # noqa: E731
                                                                  "batch_size": size, "device": "cpu"}).fit(rows)
    assert per_step(fit, views, 16).sync_ops == {"nonzero": 2}  # one per view and step


def test_the_op_block_shows_the_counts_the_syncs_left_and_fits_the_documents(tmp_path, monkeypatch):
    monkeypatch.setattr(benchmark, "BENCH_DIR", tmp_path)
    assert "No op count kept" in bench_block([])
    row = {"method": "icmvc", "dataset": "Event", "seeds": 20, "batch": 128, "one by one (ops/step)": 35500,
           "together (ops/step)": None, "together / 1 seed (ops)": None, "one by one (syncs/step)": 60,
           "together (syncs/step)": None, "syncing ops (1 seed)": {"nonzero": 3.0}, "syncing ops (together)": None,
           "why not together": "ICMVC: a sparse kNN graph per batch"}
    (tmp_path / "ops.json").write_text(json.dumps({"torch": "2", "date": "2026-12-06", "commit": "abc1234",
                                                   "rows": [row]}))
    block = bench_block([])
    assert "| icmvc    |  20 |        35500 | -" in block and "commit abc1234" in block
    assert "`icmvc`: nonzero 3" in block and "a sparse kNN graph per batch" in block
    assert max(len(line) for line in block.splitlines()) <= 120


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a usable GPU")
def test_bench_resolves_its_device_as_runs_do_and_refuses_cuda_without_a_gpu():
    """`--device cuda` with no usable GPU stops at once with the reason (it used to test torch.cuda.is_available()
    only after counting ops, and `auto` fell back to the CPU without a word)."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench.py"), "--device", "cuda", "--ops-only"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stderr.startswith("bench: device='cuda' was asked for, but")
    assert "Traceback" not in result.stderr
