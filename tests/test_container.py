"""The container: its entrypoint refuses a results folder it cannot write (saying how to fix it) and runs the command
with a writable HOME; its recipe (Dockerfile, docker/build.sh) gives every entry point the data, results and commit."""

from __future__ import annotations

import os
import re
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
    done = _run({"MMC_RESULTS_DIR": str(tmp_path), "HOME": "/nonexistent"}, "sh", "-c", "echo $HOME")
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
        done = _run({"MMC_RESULTS_DIR": str(results), "HOME": "/nonexistent"}, "true", script=script, prefix=prefix)
    finally:
        shutil.rmtree(box, ignore_errors=True)
    assert done.returncode == 1, done
    assert "--user" in done.stderr and "chown" in done.stderr


# --- Static checks of the image's recipe: every entry point in the image finds the data, results and commit.

ROOT = ENTRYPOINT.parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _image_env() -> dict[str, str]:
    """The variables the Dockerfile's ENV instructions set (continuation lines joined)."""
    env: dict[str, str] = {}
    for instruction in re.findall(r"^ENV ((?:.*\\\n)*.*)$", DOCKERFILE, re.M):
        for name, value in re.findall(r"(\w+)=(\"[^\"]*\"|\S+)", instruction.replace("\\\n", " ")):
            env[name] = value.strip('"')
    return env


def test_image_sets_every_directory_variable_the_library_reads():
    """The library finds data and results only through MMC_* variables: the image must set those, not the
    Makefile's DATA_DIR (which left `python -m mmc_core`, papermill and Lab's kernels without the data)."""
    read = set(re.findall(r'os\.environ\.get\("(MMC_\w+_DIR)"\)', (ROOT / "mmc_core" / "paths.py").read_text()))
    assert read == {"MMC_DATA_DIR", "MMC_RESULTS_DIR"}
    env = _image_env()
    assert read <= set(env), f"the image does not set {sorted(read - set(env))}"
    assert not {"DATA_DIR", "RESULTS_DIR"} & set(env), "Make variables in the image's ENV reach only `make`"
    text = ENTRYPOINT.read_text()
    with_default = set(re.findall(r"\$\{(MMC_\w+):-", text))  # e.g. a test's override of the interpreter
    entrypoint_reads = set(re.findall(r"\$\{?(MMC_\w+)", text)) - with_default
    assert entrypoint_reads <= set(env), f"the entrypoint reads {sorted(entrypoint_reads - set(env))}, unset"


def test_makefile_takes_its_folders_from_the_image_environment():
    """Inside the image, `make` must use the folders the image's environment names (the same ones the library uses)."""
    if not shutil.which("make"):
        pytest.skip("make not installed")
    env = {"PATH": os.environ["PATH"], "MMC_DATA_DIR": "/data-x", "MMC_RESULTS_DIR": "/results-x"}
    database = subprocess.run(["make", "-pn", "help"], cwd=ROOT, env=env, capture_output=True, text=True).stdout
    assert re.search(r"^MMC_DATA_DIR := /data-x$", database, re.M)
    assert re.search(r"^MMC_RESULTS_DIR := /results-x$", database, re.M)
    database = subprocess.run(["make", "-pn", "help", "DATA_DIR=/given"], cwd=ROOT, env=env, capture_output=True,
                              text=True).stdout
    assert re.search(r"^MMC_DATA_DIR := /given$", database, re.M), "a DATA_DIR given to make still wins"


def _documented_runs() -> list[str]:
    """The `docker run` commands of the Dockerfile's header, continuation lines joined."""
    header = "\n".join(line[1:].strip() for line in DOCKERFILE.splitlines() if line.startswith("#"))
    return re.findall(r"docker run (?:.*\\\n)*.*", header)


def test_documented_runs_mount_data_and_results_as_the_user():
    """Each documented `docker run` (the default command and JupyterLab) mounts datasets and results where the
    image looks and runs as the caller, so what it writes (Lab's work included) lands in the caller's folders."""
    env = _image_env()
    runs = _documented_runs()
    assert len(runs) >= 2 and any("make lab" in run for run in runs)
    for run in runs:
        assert '--user "$(id -u):$(id -g)"' in run, run
        assert f":{env['MMC_DATA_DIR']} " in run, f"no datasets mounted at {env['MMC_DATA_DIR']}: {run}"
        assert f":{env['MMC_RESULTS_DIR']}\"" in run, f"no results folder mounted at {env['MMC_RESULTS_DIR']}: {run}"


def test_image_bakes_in_the_commit():
    """.git stays out of the build context, so the commit arrives as a build argument, becomes the MMC_COMMIT that
    provenance falls back on, and docker/build.sh passes it."""
    assert ".git" in (ROOT / ".dockerignore").read_text().split()
    assert re.search(r"^ARG MMC_COMMIT=", DOCKERFILE, re.M)
    assert _image_env().get("MMC_COMMIT") == "${MMC_COMMIT}"
    assert _after_last_copy(r"^ENV MMC_COMMIT="), ("set the commit after the sources are copied: a new commit "
                                                    "then rebuilds no install layer")
    assert '--build-arg MMC_COMMIT="$commit"' in (ROOT / "docker" / "build.sh").read_text()


def _after_last_copy(pattern: str) -> bool:
    """Whether the instruction matching pattern comes after the Dockerfile's last COPY."""
    where = re.search(pattern, DOCKERFILE, re.M)
    copies = [m.start() for m in re.finditer(r"^COPY ", DOCKERFILE, re.M)]
    return bool(where and copies and where.start() > copies[-1])


def test_provenance_falls_back_on_the_baked_in_commit(tmp_path, monkeypatch):
    """Outside a git checkout (the image) a run records $MMC_COMMIT; without it, 'unknown'."""
    from mmc_core.experiments import provenance

    monkeypatch.setattr(provenance, "PROJECT_ROOT", tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.setenv("MMC_COMMIT", "0123abc")
    assert provenance.code_version.__wrapped__() == "0123abc"
    monkeypatch.delenv("MMC_COMMIT")
    assert provenance.code_version.__wrapped__() == "unknown"


def test_image_file_list_leaves_out_environment_and_results(tmp_path):
    """The Dockerfile's .image-files command, run on a small tree: the repository's files, not the virtual
    environment, the package metadata `pip install -e` writes or results (the repository tests read this list)."""
    command = re.search(r"^RUN (find .* > \.image-files)$", DOCKERFILE, re.M)
    assert command, "the Dockerfile must write .image-files"
    for name in ("README.md", "mmc_core/paths.py", ".venv/lib/x.py", "mmc_repro.egg-info/PKG-INFO", "results/r.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    subprocess.run(["sh", "-c", command.group(1)], cwd=tmp_path, check=True)
    listed = set((tmp_path / ".image-files").read_text().split())
    assert listed == {"README.md", "mmc_core/paths.py", ".image-files"}
