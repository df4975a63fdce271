"""Where a run record comes from: the code's commit, the machine's threads and device, the package versions.

Every record the runner writes carries this block, so a shipped reference run says how it was made and a
reviewer can tell whether a re-run is comparable (results are bit-reproducible only at the same thread count).
"""

from __future__ import annotations

import os
import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from ..deep.device import gpu_identity
from ..paths import PROJECT_ROOT

PACKAGES = ("torch", "numpy", "scipy", "scikit-learn", "pandas")


@lru_cache(maxsize=1)
def code_version() -> str:
    """The git commit of the checkout, with '+dirty' when tracked files under mmc_core differ from it; outside git
    (the container image has no .git), $MMC_COMMIT, which the image's build sets; else 'unknown'."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", "mmc_core")
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("MMC_COMMIT") or "unknown"
    return commit + ("+dirty" if dirty else "")


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


@lru_cache(maxsize=1)
def cpu_identity() -> str:
    """The CPU model and its widest vector instruction set: deep runs repeat bit for bit only on the same kind of
    CPU (matrix kernels sum in a different order on another), so a record says where it was computed."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")),
                 platform.machine())
    flags = next((set(line.split(":", 1)[1].split()) for line in info.splitlines() if line.startswith("flags")),
                 set())
    isa = next((name for name in ("avx512f", "avx2", "avx") if name in flags), "no avx")
    return f"{model}, {isa}"


def thread_count() -> int:
    """Threads of the BLAS/OpenMP pools the run used (the largest pool, as threadpoolctl sees them)."""
    from threadpoolctl import threadpool_info

    counts = [pool["num_threads"] for pool in threadpool_info()]
    return max(counts, default=1)


def run_provenance(model: Any, profile: str | None, wall_seconds: float) -> dict[str, Any]:
    """The provenance block of one run: commit, profile, epochs actually trained, device (the one it trained on;
    on a GPU also its name, compute capability, the NVIDIA driver and torch's CUDA), threads, wall time, package
    versions, machine and CPU kind."""
    history = getattr(model, "history_", None)
    device = getattr(model, "device_", None)
    return {
        "commit": code_version(),
        "profile": profile,
        "epochs_trained": int(len(history)) if history is not None else None,
        "device": str(device) if device is not None else "cpu",
        **gpu_identity(device),
        "threads": thread_count(),
        "wall_seconds": round(wall_seconds, 3),
        "packages": package_versions(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "cpu": cpu_identity(),
    }
