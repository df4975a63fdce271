"""Which device a run trains on, and, where it is not a GPU, why not.

`device="auto"` trains on a CUDA GPU when this process can use one and on the CPU otherwise; `"cuda"` (or `"cuda:N"`)
is refused with the reason when it cannot. A GPU is usable when torch is a CUDA build, sees the GPU (a driver new
enough for the build's CUDA, and inside a container `--gpus all`), and carries kernels for the GPU's generation.
`cpu_fallback_warning` is what a notebook, the command line and the container say when `auto` will train on the CPU
although torch was built for CUDA: the GPU is missing or unusable, and the full profile costs CPU-hours instead.
`gpu_identity` is what a run record keeps about the GPU it trained on (experiments.provenance).
"""

from __future__ import annotations

import re
import subprocess
from functools import lru_cache

import torch

# The oldest NVIDIA driver (Linux) each CUDA major release runs on (NVIDIA's CUDA compatibility table).
MIN_DRIVER = {"11": 450, "12": 525, "13": 580}


class DeviceUnavailable(RuntimeError):
    """A GPU asked for by name cannot be used here; the message says why."""


class CPUFallbackWarning(UserWarning):
    """device='auto' trains on the CPU although torch was built for CUDA."""


def _index(device: str) -> int:
    """The GPU index a device name means ("cuda:1" -> 1; "cuda" and "auto": the current GPU)."""
    return int(device.split(":", 1)[1]) if ":" in device else torch.cuda.current_device()


@lru_cache(maxsize=1)
def driver_version() -> str | None:
    """The NVIDIA driver version as nvidia-smi reports it (None where nvidia-smi is absent or fails)."""
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.split()
    return lines[0] if lines else None


def _driver_problem() -> str:
    """Why a CUDA build of torch sees no GPU, as far as the driver tells."""
    cuda = torch.version.cuda or "?"
    need = MIN_DRIVER.get(cuda.split(".")[0])
    found = driver_version()
    need_text = f"CUDA {cuda} needs NVIDIA driver {need} or newer" if need else f"CUDA {cuda} needs a matching driver"
    if found is None:
        return (f"no NVIDIA driver is visible (no NVIDIA GPU, or a container started without `--gpus all`); "
                f"{need_text}")
    if need and int(found.split(".")[0]) < need:
        return f"NVIDIA driver {found} is too old: {need_text} (update the driver)"
    return f"the GPU is not usable with driver {found} ({need_text}; see `nvidia-smi`)"


def _has_kernels(capability: tuple[int, int], arch_list: list[str]) -> bool:
    """Whether a build compiled for arch_list runs on a GPU of this compute capability: a binary for sm_XY runs on
    capability X.Z with Z >= Y, PTX for compute_XY on any capability >= X.Y (compiled when loaded)."""
    for arch in arch_list:
        match = re.fullmatch(r"(sm|compute)_(\d+)(\d)a?", arch)
        if match is None:
            continue
        built = (int(match[2]), int(match[3]))
        if (match[1] == "sm" and built[0] == capability[0] and built[1] <= capability[1]
                or match[1] == "compute" and built <= capability):
            return True
    return False


def gpu_problem(device: str = "auto") -> str | None:
    """Why this process cannot train on the CUDA GPU `device` names (None: it can)."""
    build = f"torch {torch.__version__}"
    if torch.version.cuda is None:
        return f"{build} is a CPU-only build"
    if not torch.cuda.is_available():
        return f"{build} (CUDA {torch.version.cuda}) finds no usable GPU: {_driver_problem()}"
    index = _index(device)
    if index >= torch.cuda.device_count():
        return f"there is no GPU {index} ({torch.cuda.device_count()} visible)"
    capability = torch.cuda.get_device_capability(index)
    arch_list = torch.cuda.get_arch_list()
    if not _has_kernels(capability, arch_list):
        arch = f"sm_{capability[0]}{capability[1]}"
        return (f"the GPU {torch.cuda.get_device_name(index)} ({arch}) has no kernels in {build}, which is built for "
                f"{', '.join(arch_list)}: install a torch build for {arch}, or use another GPU")
    return None


def resolve_device(device: str) -> torch.device:
    """'auto' = the CUDA GPU when usable, else the CPU; 'cuda'/'cuda:N' when unusable is an error with the reason."""
    if device == "auto":
        return torch.device("cuda" if gpu_problem() is None else "cpu")
    if device.startswith("cuda"):
        problem = gpu_problem(device)
        if problem is not None:
            raise DeviceUnavailable(f"device={device!r} was asked for, but {problem}. Use device='auto' or 'cpu' to train "
                               "on the CPU.")
    return torch.device(device)


def resolved_name(device: str) -> str:
    """What `device` does here, said for a reader: 'trains on cuda:0 (NVIDIA H100 80GB HBM3)', 'trains on cpu (torch
    ... finds no usable GPU: ...)', 'trains on cpu', or 'refused: <why>' for a GPU asked for by name."""
    try:
        resolved = resolve_device(device)
    except DeviceUnavailable as err:
        return f"refused: {err}"
    if resolved.type == "cuda":
        index = resolved.index if resolved.index is not None else torch.cuda.current_device()
        return f"trains on cuda:{index} ({torch.cuda.get_device_name(index)})"
    problem = gpu_problem() if device == "auto" and torch.version.cuda is not None else None
    return f"trains on cpu ({problem})" if problem else "trains on cpu"


def cpu_fallback_warning(device: str, full_profile_hours: float | None = None) -> str | None:
    """The warning for `device` = 'auto' that trains on the CPU although torch is a CUDA build (None: no fallback):
    the reason and, when given, what the full profile then costs (the benchmark's projection)."""
    if device != "auto" or torch.version.cuda is None:
        return None
    problem = gpu_problem()
    if problem is None:
        return None
    cost = (f" The full profile then takes about {full_profile_hours:.0f} CPU-hours (projected from the shipped runs' "
            "recorded times)." if full_profile_hours is not None else "")
    return (f"device='auto' trains on the CPU: {problem}.{cost} Give the container the GPU (`docker run --gpus all`) "
            "or fix the driver, or pass device='cpu' to train on the CPU on purpose.")


def gpu_identity(device: torch.device | str | None) -> dict[str, str]:
    """What a run record keeps about the GPU it trained on: its name, compute capability, the NVIDIA driver and the
    CUDA version torch was built with; nothing for a CPU run."""
    device = torch.device(device) if device is not None else torch.device("cpu")
    if device.type != "cuda":
        return {}
    index = device.index if device.index is not None else torch.cuda.current_device()
    major, minor = torch.cuda.get_device_capability(index)
    return {"gpu": torch.cuda.get_device_name(index), "gpu_arch": f"sm_{major}{minor}",
            "driver": driver_version() or "unknown", "cuda": str(torch.version.cuda)}
