"""The repository stands alone: it cites no file it does not contain, every path its documentation names exists, and
the container keeps the notebooks' inline figures. Fast; needs neither data nor a virtual environment's extras."""

from __future__ import annotations

import re
import subprocess
from functools import lru_cache
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]
THIS = PurePosixPath("tests/test_repository.py")

# References to material outside the repository (a private notes file, paper texts, a sibling workspace) and to
# a tracker's numbering ("issue 3", "the target"), which a reader of the repository cannot follow.
FORBIDDEN = {
    "a private design-notes file": re.compile(r"DESIGN\.md"),
    "a sibling shared/ directory": re.compile(r"\.\./shared\b"),
    "a workspace outside the repository": re.compile(r"/work/shared\b"),
    "a paper text file": re.compile(r"\bpapers/[\w.+-]*\.txt\b"),
    "an issue number": re.compile(r"\b[Ii]ssue\s*#?\d"),
    "an issue": re.compile(r"\b[Tt]he issue's\b"),
}

DOCS = ["README.md", "reference/README.md", "data/reported/README.md", *sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
PATH_PREFIXES = ("notebooks/", "mmc_core/", "docs/", "scripts/", "tests/", "data/", "reference/")
GENERATED = ("results/", "data/raw")  # written by `make reproduce` / `make report` / `make data`, not shipped


IMAGE_FILES = ROOT / ".image-files"  # in the container image (no .git): the files it was built with (Dockerfile)


def require_file_list() -> None:
    """Skip where the repository's files cannot be listed: neither a git checkout nor the container image."""
    if not (ROOT / ".git").exists() and not IMAGE_FILES.exists():
        pytest.skip("neither a git checkout nor the container image (.image-files): no list of the repository's files")


@lru_cache(maxsize=1)
def repository_files() -> frozenset[PurePosixPath]:
    """Files of the working tree that belong to the repository: tracked, or new and not ignored by git; in the
    container image, the files it was built with."""
    if (ROOT / ".git").exists():
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, check=True).stdout.decode("utf-8", "surrogateescape").split("\0")
    else:
        out = IMAGE_FILES.read_text().splitlines()
    names = (PurePosixPath(n) for n in out if n)
    return frozenset(n for n in names if (ROOT / n).is_file())


@lru_cache(maxsize=1)
def repository_dirs() -> frozenset[PurePosixPath]:
    return frozenset(parent for f in repository_files() for parent in f.parents if str(parent) != ".")


def text_of(path: PurePosixPath) -> str | None:
    """The file's text, or None for a binary file (NUL bytes or not UTF-8)."""
    data = (ROOT / path).read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def checked_files() -> list[PurePosixPath]:
    files = []
    for path in sorted(repository_files()):
        if path == THIS or path.parts[:2] == ("reference", "runs"):
            continue
        files.append(path)
    return files


def test_git_lists_the_repository():
    require_file_list()
    assert PurePosixPath("README.md") in repository_files()
    assert THIS in repository_files()


def test_no_reference_to_material_outside_the_repository():
    require_file_list()
    found = []
    for path in checked_files():
        text = text_of(path)
        if text is None:
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            for what, pattern in FORBIDDEN.items():
                if pattern.search(line):
                    found.append(f"{path}:{lineno}: {what}: {line.strip()[:160]}")
    assert not found, ("The repository must stand alone; write what the code relies on into docs/ and point "
                       "there instead:\n" + "\n".join(found))


def _markdown_links(text: str) -> list[str]:
    """Targets of inline Markdown links [text](target), without anchors; external and in-page links left out."""
    targets = []
    for match in re.finditer(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text):
        target = match.group(1).split("#", 1)[0]
        if target and not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            targets.append(target)
    return targets


def _backtick_paths(text: str) -> list[str]:
    """Code spans that look like one repository path: a known top-level folder, no spaces, globs or placeholders."""
    paths = []
    for span in re.findall(r"`([^`\n]+)`", text):
        candidate = span.strip().rstrip(".,;:")
        if not candidate.startswith(PATH_PREFIXES) or re.search(r"[\s*?\[\]{}<>$]", candidate):
            continue
        paths.append(candidate)
    return paths


def _exists(path: PurePosixPath) -> bool:
    return path in repository_files() or path in repository_dirs()


def _normal(path: PurePosixPath) -> PurePosixPath | None:
    """The path with '.' and '..' resolved lexically; None when it leaves the repository."""
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part != ".":
            parts.append(part)
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def _generated(path: PurePosixPath) -> bool:
    return any(str(path) == g.rstrip("/") or str(path).startswith(g.rstrip("/") + "/") for g in GENERATED)


@pytest.mark.parametrize("doc", DOCS)
def test_documented_paths_exist(doc):
    require_file_list()
    text = (ROOT / doc).read_text()
    here = PurePosixPath(doc).parent
    missing = []
    for target in _markdown_links(text):
        path = _normal(here / target)
        if path is None:
            missing.append(f"link ({target}) leaves the repository")
        elif not _generated(path) and not _exists(path):
            missing.append(f"link ({target}) -> {path}")
    for span in _backtick_paths(text):
        path = _normal(PurePosixPath(span))
        if path is not None and not _generated(path) and not _exists(path):
            missing.append(f"`{span}`")
    assert not missing, f"{doc} names paths the repository does not contain:\n" + "\n".join(missing)


def test_path_extraction_sees_links_and_code_spans():
    text = ("See [the protocol](docs/protocol.md#profiles), [a site](https://example.org), [top](#scope), "
            "`mmc_core/metrics.py`, `data/reported/*.csv`, `runs/<dataset>/x.json`, `make test`.")
    assert _markdown_links(text) == ["docs/protocol.md"]
    assert _backtick_paths(text) == ["mmc_core/metrics.py"]
    assert _normal(PurePosixPath("docs/../README.md")) == PurePosixPath("README.md")
    assert _normal(PurePosixPath("../x")) is None


def test_forbidden_patterns_catch_what_they_should():
    def hits(line):
        return [what for what, pattern in FORBIDDEN.items() if pattern.search(line)]

    assert hits("see " + "DESIGN" + ".md section 3")
    assert hits("cp ../" + "shared/data/raw .")
    assert hits("full text in " + "papers/IDMC" + ".txt")
    assert hits("as " + "issue 3" + " asks")
    assert hits("The " + "issue's" + " target is 2 points")
    assert not hits("shared trainer and blocks; the issue of scale; see docs/papers.md")


def test_dockerfile_sets_no_matplotlib_backend():
    """A backend in the image's environment (e.g. Agg) stops notebooks in its JupyterLab from showing figures."""
    lines = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in lines if "MPLBACKEND" in line], "the Dockerfile must not set MPLBACKEND"


def package_imports() -> dict[str, set[str]]:
    """For every top-level unit of mmc_core (a subpackage or a module), the other units it imports."""
    import ast

    root = ROOT / "mmc_core"
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        unit = parts[0]
        package = parts[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = list(package)[: len(package) - (node.level - 1)] if node.level > 1 else list(package)
                target = [*base, *(node.module.split(".") if node.module else [])]
                names = [target] if node.module else [[*base, alias.name] for alias in node.names]
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                names = [m.split(".")[1:] for m in modules if m.startswith("mmc_core.")]
            else:
                continue
            for target in names:
                if target and target[0] != unit:
                    graph.setdefault(unit, set()).add(target[0])
    return graph


def test_no_import_cycle_between_packages():
    """The layers import downwards only: e.g. the deep engine never imports a method, data never imports methods."""
    graph = package_imports()
    assert "methods" not in graph.get("deep", set()) and "methods" not in graph.get("data", set())

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})) for nxt in graph.get(start, ()))

    cycles = sorted(unit for unit in graph if reaches(unit, unit, {unit}))
    assert not cycles, {unit: sorted(graph[unit]) for unit in cycles}


def private_imports_across_units() -> list[str]:
    """'module: name from unit' for each private name (one leading underscore) a module of mmc_core imports from
    another top-level unit (a private helper of data/ used by encoders/ would be one)."""
    import ast

    root = ROOT / "mmc_core"
    found = []
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.module and not node.level:
                continue
            if node.level:
                base = list(parts[:-1])[: len(parts) - node.level]
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module.startswith("mmc_core."):
                target = node.module.split(".")[1:]
            else:
                continue
            private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
            if target and target[0] != parts[0] and private:
                found += [f"{'/'.join(parts)}: {name} from {'.'.join(target)}" for name in private]
    return found


def test_no_private_name_is_imported_across_packages():
    assert not private_imports_across_units()
