"""A run grid on a Dask cluster (here a 2-worker LocalCluster) gives the same cache as the local run, and resumes."""

from __future__ import annotations

import json

import pytest
from cache_records import records

from mmc_core.experiments import make_grid, run_grid
from mmc_core.paths import data_dir

distributed = pytest.importorskip("dask.distributed")

def test_a_grid_on_a_local_cluster_matches_the_local_cache_and_resumes(tmp_path):
    specs = make_grid(["amkm", "coregmvsc", "ncuts"], ["MSRC-v1"], 2)
    run_grid(specs, cache_dir=tmp_path / "local", data_dir=data_dir(), progress=False)
    cache = tmp_path / "dask"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        run_grid(specs[:3], cache_dir=cache, data_dir=data_dir(), progress=False, scheduler=client)  # interrupted
        before = {p: p.stat().st_mtime_ns for p in cache.rglob("seed*.json")}
        frame = run_grid(specs, cache_dir=cache, data_dir=data_dir(), progress=False, scheduler=client)
        workers = {json.loads(p.read_text())["provenance"]["machine"] for p in cache.rglob("seed*.json")}
    assert len(frame) == len(specs) and len(before) == 3 and workers
    assert all(p.stat().st_mtime_ns == t for p, t in before.items()), "a cached run was recomputed on resume"
    assert records(cache) == records(tmp_path / "local")


def test_the_scheduler_comes_from_the_environment(tmp_path, monkeypatch):
    """`make reproduce DASK_SCHEDULER=...` reaches run_grid through $MMC_DASK_SCHEDULER: an address that nothing
    listens on must be tried (and fail), not ignored."""
    import dask

    monkeypatch.setenv("MMC_DASK_SCHEDULER", "tcp://127.0.0.1:9")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), pytest.raises(OSError):
        run_grid(make_grid(["amkm"], ["MSRC-v1"], 1), cache_dir=tmp_path, progress=False)


def test_a_concept_grid_on_a_local_cluster_matches_the_local_records(tmp_path, monkeypatch):
    """Concept runs (multiclust) take the same Dask path: computed on the worker (never by the parent's run_one),
    with the records a local run writes; a run that cannot be pickled to a worker, or loses its task builder, seed
    or label there, fails here."""
    from mmc_core.multiclust import runs

    grid = [runs.ConceptRun(method, "Planted2@shape", seed, params, label=method.upper()) for seed in (1, 2)
            for method, params in [("clip-gpt", {}), ("multidproxy", {"epochs": 1, "device": "cpu"})]]
    local = runs.run_concepts(grid, root=tmp_path / "local", progress=False)
    monkeypatch.setattr(runs, "run_one", lambda *a: pytest.fail("a concept run was computed outside the cluster"))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        frame = runs.run_concepts(grid, root=tmp_path / "dask", progress=False, scheduler=client)
    assert records(tmp_path / "dask") == records(tmp_path / "local") and len(frame) == len(grid)
    assert sorted(frame.label) == sorted(local.label) == ["CLIP-GPT"] * 2 + ["MULTIDPROXY"] * 2
