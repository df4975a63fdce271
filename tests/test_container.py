"""The container's entrypoint: it refuses a results folder it cannot write (saying how to fix it) and runs the
command with a writable HOME."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ENTRYPOINT = Path(__file__).resolve().parents[1] / "docker" / "entrypoint.sh"


def _run(env: dict[str, str], *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(ENTRYPOINT), *command], env={"PATH": os.environ["PATH"], **env},
                          capture_output=True, text=True)


def test_entrypoint_runs_the_command_with_a_writable_home(tmp_path):
    done = _run({"RESULTS_DIR": str(tmp_path), "HOME": "/nonexistent"}, "sh", "-c", "echo $HOME")
    assert done.returncode == 0 and done.stdout.strip() == "/tmp/home"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write any folder; the refusal needs a non-root user")
def test_entrypoint_refuses_an_unwritable_results_folder(tmp_path):
    tmp_path.chmod(0o500)
    try:
        done = _run({"RESULTS_DIR": str(tmp_path), "HOME": str(tmp_path)}, "true")
    finally:
        tmp_path.chmod(0o700)
    assert done.returncode == 1 and "--user" in done.stderr and "chown" in done.stderr
