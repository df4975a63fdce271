"""The documents a reader opens first stay readable and complete: the README is one screen of entry (length and
width bounded), the handbook names every notebook, package and Make target, the generated blocks wrap instead of
widening, and the artifact carries its license and citation metadata. Fast; needs no data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mmc_core.experiments import markdown
from mmc_core.experiments import readme as docs

ROOT = Path(__file__).resolve().parents[1]
README_MAX_LINES = 160
MAX_WIDTH = 120
READ_FIRST = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, line) of a markdown file outside fenced code blocks."""
    lines, fenced = [], False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, line))
    return lines


def test_the_readme_is_one_screen_of_entry():
    assert len((ROOT / "README.md").read_text().splitlines()) <= README_MAX_LINES


@pytest.mark.parametrize("name", READ_FIRST)
def test_no_line_is_wider_than_a_terminal(name):
    wide = [f"{name}:{n} ({len(line)} columns)" for n, line in prose_lines(ROOT / name) if len(line) > MAX_WIDTH]
    assert not wide, f"lines over {MAX_WIDTH} columns: {wide[:5]}"


def test_the_handbook_names_every_notebook_package_and_make_target():
    usage = (ROOT / "docs/usage.md").read_text()
    notebooks = sorted(str(p.relative_to(ROOT / "notebooks").with_suffix(""))
                       for p in (ROOT / "notebooks").glob("*/*.ipynb"))
    missing = [nb for nb in notebooks if f"`{nb}`" not in usage]
    assert not missing, f"docs/usage.md's notebook table lacks {missing}"
    packages = sorted(p.parent.name for p in (ROOT / "mmc_core").glob("*/__init__.py"))
    layout = usage[usage.index("## Layout"):]
    assert not [p for p in packages if f"{p}/" not in layout], "docs/usage.md's Layout lacks a package of mmc_core"
    phony = re.search(r"^\.PHONY:(.*)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    commands = usage[usage.index("## Commands"):usage.index("## Data")]
    internal = {"unit", "smoke", "nbval", "checked-outputs", "clean", "help"}  # steps of `make test` / maintenance
    assert not [t for t in phony if t not in internal and f"make {t}" not in commands], \
        "docs/usage.md's Commands lack a Make target"


def test_the_makefile_and_handbook_name_exactly_the_methods_that_train_seeds_together():
    """Fails when a method starts or stops batching its seeds and the two lists are not updated."""
    from mmc_core.methods import available, method_class

    together = {method_class(m).reported_as for m in available()
                if getattr(method_class(m), "trains_seeds_together", False)}
    makefile = (ROOT / "Makefile").read_text()
    listed = re.search(r"where the method can \(([^;]*);", makefile.replace("\n# ", " ")).group(1)
    assert set(listed.split(", ")) == together, "the Makefile's SEEDS_TOGETHER comment"
    usage = " ".join((ROOT / "docs/usage.md").read_text().split())
    listed = re.search(r"`\)\. ([A-Za-z, ]*) train together;", usage).group(1).replace(" and ", ", ")
    assert set(listed.split(", ")) == together, "docs/usage.md's seeds-together section"


def test_the_readme_links_every_document_it_names():
    text = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if not target.startswith(("http", "<")):
            assert (ROOT / target).exists(), f"README links a missing file: {target}"


def test_license_and_citation_metadata_agree_with_the_package():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    zenodo = json.loads((ROOT / ".zenodo.json").read_text())
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    assert citation["version"] == zenodo["version"] == version
    assert citation["license"] == zenodo["license"] == "MIT"
    cited = {ref["title"] for ref in citation["references"]}
    assert len(cited) == 4 and any("Interest-driven" in t for t in cited) and any("Proxy" in t for t in cited)


def test_generated_prose_wraps_instead_of_widening():
    long_item = "- **inconclusive**: " + "; ".join(f"row {i}: 0.5 (n=5) vs 0.4 (n=5): +0.1 [-0.1, +0.3]" for i in
                                                    range(12))
    wrapped = markdown.wrap_block("intro\n" + long_item + "\n| a | table row stays |")
    assert max(len(line) for line in wrapped.splitlines()) <= markdown.WIDTH
    assert wrapped.splitlines()[2].startswith("  ") and wrapped.endswith("| a | table row stays |")


def test_a_claim_row_states_its_seed_counts_and_short_title():
    assert markdown.seed_counts("A 0.5 (n=5) vs B 0.4 (n=20, 1 collapsed); C (n=5)") == "5-20"
    assert markdown.seed_counts("10 of 10 runs end with exactly the relevant words") == "-"
    assert markdown.short_claim("rapid convergence (80% of the loss decrease in 20% of epochs)") == "rapid convergence"


def test_the_summary_counts_every_verdict_per_paper(tmp_path, monkeypatch):
    claims = pd.DataFrame({"paper": ["A", "A", "B"], "claim": ["x", "y", "z"], "data": "", "section": "s",
                           "verdict": ["holds", "inconclusive", "not decided"], "evidence": ""})
    monkeypatch.setattr(docs, "all_claims", lambda root: claims)
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in docs.summary_block(tmp_path).splitlines()]
    header, by_paper = rows[0], {row[0]: dict(zip(rows[0], row)) for row in rows[2:]}
    assert header[:5] == ["paper", "claims", "holds", "inconclusive", "not decided"]  # verdicts in a fixed order
    assert by_paper["A"]["claims"] == "2" and by_paper["A"]["inconclusive"] == "1" and by_paper["B"]["holds"] == "0"


def test_check_names_each_stale_document(tmp_path):
    stale, fresh = tmp_path / "stale.md", tmp_path / "fresh.md"
    stale.write_text("<!-- generated:a -->\nold\n<!-- /generated:a -->\n")
    fresh.write_text("<!-- generated:b -->\nsame\n<!-- /generated:b -->\n")
    documents = {stale: {"a": lambda: "new"}, fresh: {"b": lambda: "same"}}
    assert docs.update_documents(tmp_path, [], check=True, documents=documents) == [stale]
    assert "old" in stale.read_text()  # --check writes nothing
    assert docs.update_documents(tmp_path, [], documents=documents) == [stale] and "new" in stale.read_text()


def test_a_wide_table_is_split_repeating_its_identifying_columns():
    frame = pd.DataFrame({"dataset": ["Event", "MSRC-v1"], "method": ["SDCIB", "DDMC"], "empty": ["", ""],
                          **{f"a long score column {i}": [0.5, 0.25] for i in range(8)}})
    text = markdown.narrow_table(frame)
    tables = text.split("\n\n")
    assert len(tables) > 1 and markdown.widest(text) <= markdown.MAX_WIDTH
    assert all(t.startswith("| dataset   | method   |") for t in tables) and "empty" not in text
    assert sum(t.splitlines()[0].count("a long score column") for t in tables) == 8  # no column lost


def test_the_gpu_line_comes_from_the_kept_op_count(tmp_path):
    ops = tmp_path / "ops.json"
    rows = [{"method": "ddmc", "seeds": 20, "together / 1 seed (ops)": 1.19, "one by one (syncs/step)": 0},
            {"method": "ddmc", "seeds": 1, "together / 1 seed (ops)": 1.18, "one by one (syncs/step)": 0},
            {"method": "icmvc", "seeds": 1, "together / 1 seed (ops)": None, "one by one (syncs/step)": 3},
            {"method": "icmvc", "seeds": 20, "together / 1 seed (ops)": None, "one by one (syncs/step)": 60}]
    ops.write_text(json.dumps({"rows": rows}))
    line = docs.gpu_block(ops)
    assert "ddmc 1.19" in line and "icmvc 1" not in line and "none but icmvc" in line
    assert "No op count kept" in docs.gpu_block(tmp_path / "absent.json")


def test_the_readme_states_the_driver_this_torch_build_needs():
    """Fails when the lock moves torch to another CUDA major version and the README keeps the old driver minimum."""
    import torch

    from mmc_core.deep.device import MIN_DRIVER

    if torch.version.cuda is None:
        pytest.skip("a CPU-only torch build: no driver needed")
    driver = MIN_DRIVER[torch.version.cuda.split(".")[0]]
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"NVIDIA driver {driver} or newer" in readme
