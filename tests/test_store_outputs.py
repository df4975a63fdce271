"""scripts/store_outputs.py: what `make checked-outputs` stores from an executed notebook, and what it refuses."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("store_outputs", ROOT / "scripts" / "store_outputs.py")
store_outputs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(store_outputs)


def _source() -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_markdown_cell("# Title"), new_code_cell("profile = 'reference'"),
                             new_code_cell("print(run.describe())"), new_code_cell("table")])
    nb.cells[1].metadata["tags"] = ["parameters"]
    return nb


def _executed(printed: str = "datasets run: Event\n") -> nbformat.NotebookNode:
    nb = _source()
    injected = new_code_cell("profile = \"reference\"\n", metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(2, injected)
    nb.metadata["papermill"] = {"duration": 5.8, "input_path": "x.ipynb"}
    for number, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = number + 1
        cell.metadata["execution"] = {"iopub.execute_input": "2026-12-06T06:27:32Z"}
    nb.cells[3].outputs = [new_output("stream", name="stdout", text=printed),
                           new_output("stream", name="stderr", text="UserWarning: something\n")]
    nb.cells[4].outputs = [new_output("execute_result", {"text/plain": "a table"}, execution_count=4)]
    return nb


def _store(tmp_path: Path, executed: nbformat.NotebookNode, source: nbformat.NotebookNode | None = None
           ) -> nbformat.NotebookNode:
    nbformat.write(source or _source(), tmp_path / "nb.ipynb")
    nbformat.write(executed, tmp_path / "run.ipynb")
    store_outputs.store(str(tmp_path / "nb.ipynb"), str(tmp_path / "run.ipynb"))
    return nbformat.read(tmp_path / "nb.ipynb", as_version=4)


def test_outputs_are_stored_without_papermill_stderr_or_its_cell_numbers(tmp_path):
    stored = _store(tmp_path, _executed())
    code = [c for c in stored.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2, 3]  # the injected cell neither stored nor counted
    assert code[1].outputs == [new_output("stream", name="stdout", text="datasets run: Event\n")]
    assert code[2].outputs[0].execution_count == 3
    assert "papermill" not in stored.metadata and not any("execution" in c.metadata for c in stored.cells)
    assert code[0].metadata == {"tags": ["parameters"]}


def test_storing_the_same_run_twice_changes_no_byte(tmp_path):
    _store(tmp_path, _executed())
    first = (tmp_path / "nb.ipynb").read_bytes()
    store_outputs.store(str(tmp_path / "nb.ipynb"), str(tmp_path / "run.ipynb"))
    assert (tmp_path / "nb.ipynb").read_bytes() == first


def test_the_repository_and_results_paths_become_relative(tmp_path, monkeypatch):
    monkeypatch.setenv("MMC_RESULTS_DIR", str(tmp_path / "res"))
    stored = _store(tmp_path, _executed(f"saved {tmp_path}/res/figures/a.png, read {ROOT}/reference/runs\n"))
    assert stored.cells[2].outputs[0].text == "saved results/figures/a.png, read ./reference/runs\n"


def test_another_absolute_path_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="specific to this machine"):
        _store(tmp_path, _executed("cache in /home/someone/cache\n"))


def test_a_run_of_other_code_is_refused_but_changed_prose_is_kept(tmp_path):
    edited = _source()
    edited.cells[0].source = "# A better title"
    assert _store(tmp_path, _executed(), edited).cells[0].source == "# A better title"
    edited.cells[3].source = "table.round(3)"
    with pytest.raises(SystemExit, match="not executed from the current code"):
        _store(tmp_path, _executed(), edited)


def test_an_error_output_is_refused(tmp_path):
    executed = _executed()
    executed.cells[4].outputs = [new_output("error", ename="ValueError", evalue="no run", traceback=[])]
    with pytest.raises(SystemExit, match="ValueError: no run"):
        _store(tmp_path, executed)
