"""Where a run trains: the device is outside a run's identity (a run made on a GPU is the run the reference profile
and the report read), seeds train together by the run's own device, `auto` says loudly when a CUDA build of torch
falls back to the CPU, `cuda` and a GPU without kernels in the build are refused with the reason, and a GPU run's
provenance names the GPU. The GPU is simulated by monkeypatching torch.cuda: these tests run on any machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from mmc_core.deep import device as device_module
from mmc_core.deep.device import CPUFallbackWarning, cpu_fallback_warning, gpu_identity, resolve_device
from mmc_core.experiments import benchmark, make_grid, runner
from mmc_core.experiments import settings as settings_module
from mmc_core.experiments.provenance import run_provenance
from mmc_core.experiments.report import provenance_lines
from mmc_core.experiments.runner import RunSpec, run_grid, runs_on_gpu
from mmc_core.experiments.settings import check_device, resolve_settings
from mmc_core.paths import REFERENCE_RUNS_DIR

H100 = {"name": "NVIDIA H100 80GB HBM3", "capability": (9, 0), "driver": "580.65.06"}


def simulate(monkeypatch, gpu: dict | None, cuda: str | None = "13.0", driver: str | None = None,
             arch_list: tuple[str, ...] = ("sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120")) -> None:
    """torch as a build for `cuda` (None: CPU-only) on a machine with `gpu` (None: none visible) and `driver`."""
    monkeypatch.setattr(torch.version, "cuda", cuda)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu is not None)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: int(gpu is not None))
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_arch_list", lambda: list(arch_list))
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index=0: gpu["capability"])
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: gpu["name"])
    monkeypatch.setattr(device_module, "driver_version", lambda: gpu["driver"] if gpu else driver)


def test_the_device_is_not_part_of_a_runs_identity():
    """auto, cpu and cuda are one computation: one config id, one record (the bug: three ids, GPU runs never read)."""
    ids = {RunSpec("idmc", "MSRC-v1", 0, {"epochs": 5, "device": d}).config_id for d in ("auto", "cpu", "cuda:1")}
    assert len(ids) == 1
    assert RunSpec("idmc", "MSRC-v1", 0, {"epochs": 5, "device": "cuda"}).config["params"] == {"epochs": 5}
    assert RunSpec("idmc", "MSRC-v1", 0, {"epochs": 6}).config_id not in ids  # what it computes still counts


def test_a_gpu_record_is_read_by_the_reference_profile_and_the_report(tmp_path, monkeypatch):
    """A record made with device=cuda on a GPU (simulated: a shipped record with a GPU's provenance) is what a
    notebook at the reference profile reads, with device auto, and the report names its GPU."""
    made_on_gpu = RunSpec("idmc", "MSRC-v1", 0, {"device": "cuda"})
    record = json.loads(made_on_gpu.cache_path(REFERENCE_RUNS_DIR).read_text())
    record["provenance"] = {**record["provenance"], "device": "cuda:0", "gpu": H100["name"],
                            "gpu_arch": "sm_90", "driver": H100["driver"], "cuda": "13.0"}
    target = made_on_gpu.cache_path(tmp_path)
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(record))
    monkeypatch.setattr(settings_module, "REFERENCE_RUNS_DIR", tmp_path)
    run = resolve_settings("reference", 1, None, "MSRC-v1", {"full": ["MSRC-v1"]}, "auto")
    results = run.grid(make_grid([("idmc", run.deep_params())], run.datasets, run.seeds))
    assert len(results) == 1 and results.provenance.iloc[0]["gpu"] == H100["name"]
    assert f"cuda:0 ({H100['name']}, driver {H100['driver']}, CUDA 13.0)" in "\n".join(provenance_lines([record]))


def test_seeds_train_together_by_the_runs_device_not_the_calling_process(monkeypatch):
    """Whether a cell's seeds train together follows where its runs train: a cpu run on a GPU machine does not, an
    auto run there does; a run asked for cuda does even where the caller sees no GPU (its fit then says why)."""
    jobs: list[int] = []
    monkeypatch.setattr(runner, "_run_job", lambda specs, *args: jobs.append(len(specs)) or [])
    simulate(monkeypatch, H100)
    for device, expected in (("cpu", [1, 1, 1]), ("auto", [3])):
        jobs.clear()
        run_grid(make_grid([("idmc", {"epochs": 2, "device": device})], ["MSRC-v1"], 3), cache_dir=None,
                 progress=False)
        assert jobs == expected, device
    simulate(monkeypatch, None)
    assert runs_on_gpu(RunSpec("idmc", "MSRC-v1", 0, {"device": "cuda"}))
    assert not runs_on_gpu(RunSpec("idmc", "MSRC-v1", 0, {"device": "auto"}))


def test_auto_falls_back_to_the_cpu_loudly_when_a_cuda_build_sees_no_gpu(monkeypatch):
    """No --gpus / no driver, and a driver too old for CUDA 13.0: auto trains on the CPU and says so, with the
    reason and the full profile's projected CPU-hours; cuda is refused with the same reason."""
    simulate(monkeypatch, None)
    assert resolve_device("auto").type == "cpu"
    warning = cpu_fallback_warning("auto", 143.0)
    assert "--gpus all" in warning and "580" in warning and "143 CPU-hours" in warning
    with pytest.raises(RuntimeError, match="no usable GPU.*--gpus all"):
        resolve_device("cuda")
    simulate(monkeypatch, None, driver="535.104.05")
    assert "535.104.05 is too old" in cpu_fallback_warning("auto")
    monkeypatch.setattr(benchmark, "full_profile_cpu_hours", lambda: 143.0)
    with pytest.warns(CPUFallbackWarning, match="143 CPU-hours"):
        check_device("auto")
    assert cpu_fallback_warning("cpu") is None  # the CPU asked for by name is no fallback


def test_a_cpu_only_build_is_no_fallback_but_refuses_cuda(monkeypatch):
    simulate(monkeypatch, None, cuda=None)
    assert resolve_device("auto").type == "cpu" and cpu_fallback_warning("auto") is None
    with pytest.raises(RuntimeError, match="CPU-only build"):
        resolve_device("cuda")


@pytest.mark.parametrize("capability, arch_list, usable", [
    ((9, 0), ("sm_75", "sm_90"), True),
    ((8, 6), ("sm_80",), True),  # a binary for 8.0 runs on 8.6
    ((12, 1), ("sm_120",), True),
    ((10, 0), ("sm_80", "compute_90"), True),  # PTX for 9.0 is compiled for 10.0 when loaded
    ((6, 1), ("sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"), False),  # Pascal: no kernels in cu130
    ((9, 0), ("sm_100",), False),
])
def test_a_gpu_without_kernels_in_the_build_is_refused(monkeypatch, capability, arch_list, usable):
    simulate(monkeypatch, {**H100, "name": "some GPU", "capability": capability}, arch_list=arch_list)
    assert resolve_device("auto").type == ("cuda" if usable else "cpu")
    if not usable:
        arch = f"sm_{capability[0]}{capability[1]}"
        assert "no kernels" in cpu_fallback_warning("auto") and arch in cpu_fallback_warning("auto")
        with pytest.raises(RuntimeError, match=f"some GPU \\({arch}\\) has no kernels"):
            resolve_device("cuda:0")


def test_a_notebook_refuses_an_unusable_cuda_at_its_start_and_names_the_device_it_trains_on(monkeypatch):
    simulate(monkeypatch, None)
    with pytest.raises(RuntimeError, match="no usable GPU"):
        resolve_settings("quick", None, None, "MSRC-v1", {"quick": ["MSRC-v1"]}, "cuda")
    simulate(monkeypatch, H100)
    described = resolve_settings("quick", None, None, "MSRC-v1", {"quick": ["MSRC-v1"]}, "auto").describe()
    assert f"device auto: trains on cuda:0 ({H100['name']})" in described
    assert "datasets asked for: MSRC-v1" in described and "left out" not in described  # quick computes all


def test_the_reference_profile_says_a_partly_shipped_dataset_is_left_out_later():
    """describe() runs before the grid: it names the datasets asked for, and says that the grid may leave some out
    (sdcib/01 used to list LandUse-21 as run, then leave it out)."""
    described = resolve_settings("reference", None, None, "Event,LandUse-21", {"full": ["Event"]}, "cpu")
    assert "datasets asked for: Event, LandUse-21" in described.describe()
    assert "the grid below leaves out, and names" in described.describe()


def test_a_gpu_runs_provenance_names_the_gpu_driver_and_cuda(monkeypatch):
    simulate(monkeypatch, H100)
    model = type("Fitted", (), {"device_": torch.device("cuda", 0), "history_": None})()
    provenance = run_provenance(model, "full", 1.0)
    assert provenance["device"] == "cuda:0"
    assert {k: provenance[k] for k in ("gpu", "gpu_arch", "driver", "cuda")} == {
        "gpu": H100["name"], "gpu_arch": "sm_90", "driver": H100["driver"], "cuda": "13.0"}
    assert gpu_identity(torch.device("cpu")) == {}


def test_the_container_entrypoint_says_where_the_runs_will_train(tmp_path):
    """Before the command, the entrypoint names the device DEVICE (or a make argument DEVICE=...) trains on here,
    with the warning or refusal the run would give, and still runs the command; DEVICE=cpu is not checked."""
    entrypoint = Path(__file__).resolve().parents[1] / "docker" / "entrypoint.sh"
    env = {"PATH": os.environ["PATH"], "RESULTS_DIR": str(tmp_path), "MMC_PYTHON": sys.executable}
    done = subprocess.run(["sh", str(entrypoint), "echo", "ran", "DEVICE=cuda:0"], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0 and done.stdout.startswith("ran") and "device cuda:0: " in done.stderr
    done = subprocess.run(["sh", str(entrypoint), "echo", "ran"], env={**env, "DEVICE": "cpu"}, capture_output=True,
                          text=True)
    assert done.returncode == 0 and done.stderr == ""


def test_the_command_line_says_where_a_trained_method_will_train_before_it_runs(monkeypatch, capsys):
    """`python -m mmc_core run`: a CUDA build without a usable GPU warns for auto and refuses cuda (an error line,
    no traceback) before any run; a classical method, which trains nowhere, is not checked."""
    from mmc_core import __main__ as cli

    simulate(monkeypatch, None)
    monkeypatch.setattr(benchmark, "full_profile_cpu_hours", lambda: 143.0)
    ran: list[str] = []
    monkeypatch.setattr(cli, "run_feature_method", lambda args, params: ran.append(args.method) or 0)
    assert cli.main(["run", "simvc", "MSRC-v1", "--param", "device=cuda"]) == 2
    assert "no usable GPU" in capsys.readouterr().err and not ran
    with pytest.warns(CPUFallbackWarning, match="143 CPU-hours"):
        assert cli.main(["run", "simvc", "MSRC-v1"]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", CPUFallbackWarning)
        assert cli.main(["run", "km", "MSRC-v1"]) == 0
    assert ran == ["simvc", "km"]


def test_only_the_full_profile_reads_the_store_for_its_cost(monkeypatch):
    """A smoke or quick run on a CPU fallback is warned without the full profile's projection (reading every shipped
    record would cost each notebook seconds); the full profile's warning carries it."""
    simulate(monkeypatch, None)
    monkeypatch.setattr(benchmark, "full_profile_cpu_hours", lambda: pytest.fail("the store was read"))
    with pytest.warns(CPUFallbackWarning) as caught:
        resolve_settings("smoke", None, None, "MSRC-v1", {"smoke": ["MSRC-v1"]}, "auto")
    assert "CPU-hours" not in str(caught[0].message)
    monkeypatch.setattr(benchmark, "full_profile_cpu_hours", lambda: 143.0)
    with pytest.warns(CPUFallbackWarning, match="143 CPU-hours"):
        resolve_settings("full", None, None, "MSRC-v1", {"full": ["MSRC-v1"]}, "auto")
