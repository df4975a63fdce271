"""A notebook's prose (its markdown cells) names only the datasets and input preprocessing its run shows.

What a notebook runs is read from its stored outputs: the committed notebooks carry the reference profile's outputs
(`make report && make checked-outputs`), so prose written for an earlier run (a dataset since dropped, min-max inputs
since replaced by l2 rows) fails here. A dataset counts as shown when a stored output names it, unless the run says it
was left out; a preprocessing counts as used when a table shows it (its `scaling` column, or a reading named after it).
Prose that says which preprocessing the rows use must name every one the tables show, except in a readings study
(a sensitivity table), where the preprocessing is one of the choices varied and the prose names the rule, not each
reading.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from mmc_core.data import list_datasets

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*/*.ipynb"))
DATASETS = list(list_datasets().name)
PROSE_SCALINGS = {"minmax": r"min-max|minmax", "l2": r"(?<![\w-])l2(?![\w-])", "zscore": r"z-score|zscore"}
TABLE_SCALINGS = {name: rf"(?<![\w-]){name}(?![\w-])" for name in PROSE_SCALINGS}
LEFT_OUT = re.compile(r"^reference: (\S+) left out here", re.MULTILINE)


def _named(patterns: dict[str, str], text: str) -> set[str]:
    return {name for name, pattern in patterns.items() if re.search(pattern, text)}


def _datasets_in(text: str) -> set[str]:
    return _named({name: rf"(?<![\w-]){re.escape(name)}(?![\w-])" for name in DATASETS}, text)


def _output_texts(nb: nbformat.NotebookNode) -> tuple[str, str]:
    """All text the stored outputs show, and the text of the tables alone (results and displays, not prints)."""
    shown, tables = [], []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                shown.append(output.text)
            elif output.output_type in ("execute_result", "display_data"):
                text = output.data.get("text/plain", "")
                shown.append(text + output.data.get("text/markdown", ""))
                tables.append(text)
    return "\n".join(shown), "\n".join(tables)


def prose_problems(nb: nbformat.NotebookNode) -> list[str]:
    """What the notebook's markdown names that its stored run does not show (empty: the prose fits the run)."""
    shown, tables = _output_texts(nb)
    if not shown:
        return ["no stored outputs: run `make report && make checked-outputs`"]
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    run_datasets = _datasets_in(shown) - set(LEFT_OUT.findall(shown))
    problems = [f"names dataset {d}, which the run does not show" for d in sorted(_datasets_in(prose) - run_datasets)]
    said, used = _named(PROSE_SCALINGS, prose), _named(TABLE_SCALINGS, tables)
    problems += [f"names {s} inputs, which no table shows" for s in sorted(said - used)]
    studies_readings = any("sensitivity(" in c.source for c in nb.cells if c.cell_type == "code")
    if said and not studies_readings:
        problems += [f"says which inputs the rows use but not {s}, which a table shows" for s in sorted(used - said)]
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_prose_names_only_what_the_stored_run_shows(path):
    assert not prose_problems(nbformat.read(path, as_version=4)), path


def _with_prose(path: Path, text: str) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = text
    return nb


SDCIB_MAIN = Path(__file__).resolve().parents[1] / "notebooks" / "sdcib" / "01_main_table.ipynb"


def test_stale_sdcib_main_prose_fails():
    """sdcib/01's text before the outputs were stored: five re-test datasets (its claim covers two) and min-max inputs
    for every deep row (SDCIB's Event rows use l2)."""
    stale = ("The claim *SDCIB beats every baseline* is re-tested on Event and on the substitutes (Handwritten, MSRC-v1, "
             "Scene-15, LandUse-21, Wikipedia as an image-text pair). Rows: classical rows on raw features, deep rows on "
             "min-max scaled inputs.")
    problems = prose_problems(_with_prose(SDCIB_MAIN, stale))
    named = {p.split()[2].rstrip(",") for p in problems if p.startswith("names dataset")}
    assert {"Handwritten", "Scene-15", "Wikipedia"} <= named and "Event" not in named and "MSRC-v1" not in named
    assert "says which inputs the rows use but not l2, which a table shows" in problems


def test_prose_of_a_notebook_without_stored_outputs_fails():
    nb = nbformat.read(SDCIB_MAIN, as_version=4)
    for cell in nb.cells:
        cell.pop("outputs", None)
    assert prose_problems(nb) == ["no stored outputs: run `make report && make checked-outputs`"]
