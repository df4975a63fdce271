"""The report: each figure under the section whose notebook saves it, no time stamp (a fresh clone rebuilds it byte
for byte), the committed copy in docs/report/ checked against a rebuild, and the image cells' verdicts independent of
the data on the machine that reads the shipped runs.

The full check (every notebook in the reference profile without data, then `report --check` against docs/report/)
runs in `make nbval`, which reuses the notebooks' nbval executions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mmc_core.experiments import build_report, save_section
from mmc_core.experiments.report import (DOCS_REPORT_DIR, NOTEBOOKS_DIR, figure_patterns, publish_report,
                                         report_differences, report_files, section_figures)


def _results(tmp_path: Path) -> Path:
    """A results directory with two reference sections and a figure of each (names as their notebooks save them)."""
    root = tmp_path / "results"
    save_section("ddmc_05_convergence", "DDMC convergence", profile="reference", out_dir=root)
    save_section("sdcib_06_convergence", "SDCIB convergence", profile="reference", out_dir=root)
    for key in ("ddmc/convergence_Event", "ddmc/convergence_terms_Event", "sdcib/convergence_Event"):
        (root / "figures" / key).parent.mkdir(parents=True, exist_ok=True)
        (root / "figures" / f"{key}.png").write_bytes(key.encode())
    return root


def test_every_notebook_figure_belongs_to_its_notebooks_section():
    """Catches a figure shown away from its section: a notebook whose save_figure calls are not found."""
    patterns = figure_patterns()
    notebooks_with_figures = [p for p in NOTEBOOKS_DIR.glob("*/*.ipynb") if "save_figure(" in p.read_text()]
    assert sum(map(len, patterns.values())) >= len(notebooks_with_figures) >= 20
    assert "ddmc/convergence_*" in patterns["ddmc_05_convergence"]
    assert "ddmc/uneven_quality" in patterns["ddmc_04_enhance_vs_fuse"]


def test_figures_appear_under_their_sections_and_the_text_has_no_time_stamp(tmp_path):
    """Catches the old layout (every figure in one block at the end) and a build time that makes rebuilds differ."""
    root = _results(tmp_path)
    owned, rest = section_figures(root / "figures", ["ddmc_05_convergence", "sdcib_06_convergence"])
    assert owned["ddmc_05_convergence"] == ["ddmc/convergence_Event", "ddmc/convergence_terms_Event"]
    assert owned["sdcib_06_convergence"] == ["sdcib/convergence_Event"] and rest == []
    text = build_report(root, records=[]).read_text()
    ddmc = text[text.index("## DDMC convergence"):text.index("## SDCIB convergence")]
    assert "![ddmc/convergence_Event](figures/ddmc/convergence_Event.png)" in ddmc
    assert "sdcib/convergence_Event" not in ddmc and "## Figures" not in text
    assert "Built from 2 notebook section(s)" in text and "2026-" not in text
    assert build_report(root, records=[]).read_text() == text


def test_check_names_every_changed_missing_and_stale_file_and_publish_mends_them(tmp_path):
    """Catches a check that passes a stale committed report (changed figure, figure no longer shown)."""
    root, dest = _results(tmp_path), tmp_path / "docs" / "report"
    build_report(root, records=[])
    assert report_differences(root, dest) == sorted(report_files(root))  # nothing committed yet
    publish_report(root, dest)
    assert report_differences(root, dest) == []
    (dest / "figures" / "sdcib" / "convergence_Event.png").write_bytes(b"changed")
    (dest / "figures" / "old.png").write_bytes(b"no longer shown")
    assert report_differences(root, dest) == ["figures/old.png", "figures/sdcib/convergence_Event.png"]
    publish_report(root, dest)
    assert report_differences(root, dest) == [] and not (dest / "figures" / "old.png").exists()


def test_committed_report_shows_only_figures_it_has():
    """Catches a committed REPORT.md linking a PNG that is not committed beside it."""
    if not (DOCS_REPORT_DIR / "REPORT.md").exists():
        pytest.skip("docs/report/REPORT.md is not built yet (make report)")
    files = report_files(DOCS_REPORT_DIR)
    shown = {p.relative_to(DOCS_REPORT_DIR).as_posix() for p in DOCS_REPORT_DIR.glob("figures/**/*.png")}
    assert set(files) - {"REPORT.md"} == shown and shown
    assert "/work/" not in files["REPORT.md"].decode() and "Built 20" not in files["REPORT.md"].decode()


def test_image_cells_without_weights_do_not_depend_on_the_local_data(tmp_path, monkeypatch):
    """Catches the reference report saying "data absent" for image sets the shipped runs' machine had, because the
    machine reading them has no data: without weights the verdict is the same with and without a data directory."""
    from mmc_core.multiclust.compare import compare_concepts

    reported = pd.DataFrame([{"paper": "Multi-DProxy", "table": "main", "dataset": d, "method": "Multi-DProxy",
                              "variant": "colour", "metric": "nmi", "value": 0.5} for d in ("CIFAR-10", "Fruit")])
    verdicts = []
    for data in (tmp_path / "empty", None):
        if data is not None:
            data.mkdir()
            monkeypatch.setenv("MMC_DATA_DIR", str(data))
        else:
            monkeypatch.delenv("MMC_DATA_DIR", raising=False)
        table = compare_concepts(None, reported, 0.02, implemented={"Multi-DProxy"}, weights="absent")
        verdicts.append(list(table.verdict))
    assert verdicts[0] == verdicts[1] == ["weights absent", "data absent"]  # Fruit: no public images at all


def test_a_narrowed_report_neither_publishes_nor_checks_the_committed_one(tmp_path, monkeypatch, capsys):
    """`make report NOTEBOOKS=<two of them>` once overwrote docs/report with a two-section report."""
    from mmc_core.__main__ import main

    docs = tmp_path / "docs-report"
    docs.mkdir()
    monkeypatch.setattr("mmc_core.paths.PROJECT_ROOT", tmp_path)
    root = _results(tmp_path)
    assert main(["report", "--results-dir", str(root), "--publish", "--docs-dir", str(docs)]) == 0
    assert "covers 2 of the" in capsys.readouterr().out and not any(docs.iterdir())
    assert main(["report", "--results-dir", str(root), "--check", "--docs-dir", str(docs)]) == 0
