"""The container's entrypoint: it refuses a results folder it cannot write (saying how to fix it) and runs the
command with a writable HOME."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ENTRYPOINT = Path(__file__).resolve().parents[1] / "docker" / "entrypoint.sh"


def _run(env: dict[str, str], *command: str, script: Path = ENTRYPOINT, prefix: tuple[str, ...] = ()
         ) -> subprocess.CompletedProcess:
    """The entrypoint running `command` (prefix: e.g. setpriv, to run it as another user)."""
    return subprocess.run([*prefix, "sh", str(script), *command], env={"PATH": os.environ["PATH"], **env},
                          capture_output=True, text=True)


def test_entrypoint_runs_the_command_with_a_writable_home(tmp_path):
    done = _run({"RESULTS_DIR": str(tmp_path), "HOME": "/nonexistent"}, "sh", "-c", "echo $HOME")
    assert done.returncode == 0 and done.stdout.strip() == "/tmp/home"


def test_entrypoint_refuses_an_unwritable_results_folder():
    """Run as an unprivileged user (root can write anything): through setpriv when the tests run as root."""
    box = Path(tempfile.mkdtemp(prefix="mmc-entrypoint-", dir="/tmp"))
    try:
        box.chmod(0o755)
        script = box / "entrypoint.sh"
        shutil.copyfile(ENTRYPOINT, script)
        script.chmod(0o755)
        results = box / "results"
        results.mkdir(mode=0o555)
        results.chmod(0o555)
        prefix: tuple[str, ...] = ()
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                pytest.skip("running as root without setpriv: cannot run the entrypoint as an unprivileged user")
            prefix = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
        done = _run({"RESULTS_DIR": str(results), "HOME": "/nonexistent"}, "true", script=script, prefix=prefix)
    finally:
        shutil.rmtree(box, ignore_errors=True)
    assert done.returncode == 1, done
    assert "--user" in done.stderr and "chown" in done.stderr
