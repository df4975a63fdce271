"""Every deep method trains on a CUDA GPU when one is present (the container's purpose): a few epochs each, on the
device, with its outputs back on the host. Skipped, with the reason, on a machine without one."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from synthetic import two_view_minmax
from test_contract import SMALL
from test_seeds import SEEDS, TOGETHER, assert_close_fit, views  # noqa: F401 (views: a fixture)

from mmc_core.deep import DeepClusterer
from mmc_core.deep.seeds import fit_seeds
from mmc_core.methods import available, make, method_class
from mmc_core.multiclust.multidproxy import MultiDProxy
from mmc_core.multiclust.multimap import MultiMaP
from mmc_core.multiclust.synthetic import planted_concepts

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
DEEP = [name for name in available() if issubclass(method_class(name), DeepClusterer)]


@pytest.mark.parametrize("name", DEEP)
def test_deep_method_trains_on_cuda(name):
    views, _ = two_view_minmax()
    model = make(name, n_clusters=3, random_state=0, **{**SMALL[name], "device": "cuda"})
    labels = model.fit_predict(views)
    assert model.device_.type == "cuda" and next(model.model_.parameters()).is_cuda
    assert isinstance(labels, np.ndarray) and labels.shape == (len(views[0]),)


@pytest.mark.parametrize("name", DEEP)
def test_no_host_sync_inside_the_batch_loop_on_cuda(name):
    """CUDA's own sync detector confirms the CPU op count (tests/test_benchmark.py): the syncs it reports
    (set_sync_debug_mode "warn") in a fit of 4 batches minus those of a fit of 2 are what 2 training steps add, and
    must be none; per-epoch syncs (labels, history, schedules) cancel out."""
    views, _ = two_view_minmax()
    params = {**SMALL[name], "epochs": 1, "batch_size": 16, "device": "cuda"}

    def syncs(rows: int) -> int:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            try:
                make(name, n_clusters=3, random_state=0, **params).fit([v[:rows] for v in views])
            finally:
                torch.cuda.set_sync_debug_mode("default")
        return sum("synchronizing CUDA operation" in str(w.message) for w in caught)

    syncs(32)  # warm-up: first-call work is not a step's
    assert syncs(64) - syncs(32) == 0


@pytest.mark.parametrize("cls", [MultiDProxy, MultiMaP])
def test_concept_method_trains_on_cuda(cls):
    task = planted_concepts(n=200, seed=1).task("colour")
    model = cls(task.n_clusters, random_state=0, epochs=3, device="cuda").fit_task(task)
    assert model.device_.type == "cuda" and isinstance(model.features_, np.ndarray)
    assert model.features_.shape[0] == task.n_samples


@pytest.mark.parametrize("name", sorted(TOGETHER))
def test_seeds_together_on_cuda_match_their_runs_within_float_tolerance(name, views):
    """tests/test_seeds.py's check on CUDA, whose kernels pick their own reduction order: the same settings (one epoch
    of three batches) and assertions (labels agreeing, soft assignments within 1e-3, every fitted attribute close).
    Parameters are compared through what they compute: a bias before a BatchNorm drifts by Adam's full-size steps on
    a gradient of rounding noise (on the CPU, 2 epochs left such biases 7.5e-3 apart while the outputs agreed)."""
    params = {**TOGETHER[name], "epochs": 1, "device": "cuda"}
    together = fit_seeds([make(name, 3, random_state=s, **params) for s in SEEDS], views)
    assert all(t.device_.type == "cuda" for t in together)
    for fitted, seed in zip(together, SEEDS):
        assert_close_fit(fitted, make(name, 3, random_state=seed, **params).fit(views), views)


def test_auto_trains_on_this_gpu_and_its_runs_name_it():
    """On a usable GPU `auto` picks it (no CPU fallback, no refusal: this build has kernels for it), and a run's
    provenance names the GPU, its compute capability, the driver and torch's CUDA."""
    from mmc_core.deep.device import cpu_fallback_warning, gpu_problem
    from mmc_core.experiments.provenance import run_provenance

    assert gpu_problem("cuda") is None and cpu_fallback_warning("auto") is None
    views, _ = two_view_minmax()
    model = make("simvc", n_clusters=3, random_state=0, **{**SMALL["simvc"], "device": "auto"}).fit(views)
    provenance = run_provenance(model, "smoke", 1.0)
    major, minor = torch.cuda.get_device_capability()
    assert provenance["device"].startswith("cuda") and provenance["gpu"] == torch.cuda.get_device_name()
    assert provenance["gpu_arch"] == f"sm_{major}{minor}" and provenance["cuda"] == torch.version.cuda
    assert provenance["driver"] != "unknown"  # nvidia-smi answered
