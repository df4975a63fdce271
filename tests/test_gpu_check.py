"""The prepared GPU check (scripts/gpu_check.sh) runs end to end here, on the CPU with tiny settings (one method, one
seed, one epoch, the smoke profile on a 600-sample dataset), so its first call on a GPU cannot fail on a typo, and
what it writes comes back from the device machine (at most 8 files, no folder inside)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = {"DEVICE": "cpu", "PROFILE": "smoke", "DATASETS": "Synthetic3d", "METHODS": "simvc,amkm", "BENCH_SEEDS": "1",
        "BENCH_EPOCHS": "1", "BENCH_METHODS": "simvc", "BENCH_KEEP": "", "PY": sys.executable}


def test_the_gpu_check_runs_every_step_and_writes_one_folder(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(["sh", str(ROOT / "scripts" / "gpu_check.sh"), str(out)], env={**os.environ, **TINY},
                          capture_output=True, text=True, timeout=300)
    summary = (out / "summary.txt").read_text()
    assert done.returncode == 0, summary + done.stderr
    for step in ("device", "cuda-tests", "bench", "notebook"):
        assert f"{step}: exit 0," in summary
    assert summary.rstrip().endswith("all steps passed: yes")
    assert sorted(p.name for p in out.iterdir()) == ["bench.log", "cuda-tests.log", "device.log", "notebook.log",
                                                     "results.tar.gz", "summary.txt"]
    assert "device cpu: trains on cpu" in (out / "device.log").read_text()
    bench = (out / "bench.log").read_text()
    assert "simvc on Event, 1 seed(s)" in bench and "1 by 1 ops" not in bench  # timings only: the op count is the CPU's
    with tarfile.open(out / "results.tar.gz") as archive:
        records = [json.load(archive.extractfile(m)) for m in archive.getmembers() if m.name.endswith(".json")
                   and "/cache/" in m.name]
    assert {r["method"] for r in records} == {"simvc", "amkm"}
    assert all(r["provenance"]["device"] == "cpu" and r["provenance"]["profile"] == "smoke" for r in records)
