"""Store an executed notebook's outputs (tables, figures, the checked verdicts, "What we found") in its source notebook.

The committed notebooks show their reference results on a code host or in JupyterLab without being run; nbval
(--nbval-lax) compares only the `# NBVAL_CHECK_OUTPUT` cells with what is stored. `make report && make
checked-outputs` regenerates every notebook; for one notebook:
    papermill -k python3 -p profile reference NB.ipynb /tmp/run.ipynb && python scripts/store_outputs.py NB.ipynb /tmp/run.ipynb

What is stored is normalised so that re-storing an unchanged notebook changes no byte and nothing about the machine is
committed: papermill's injected-parameters cell and its metadata are dropped (the source's cells and metadata are
kept), execution counts run 1, 2, ... over the code cells, stderr (warnings, progress bars) is dropped, and the
repository's and the results directory's absolute paths become relative; any other absolute path, or the host's
name, left in an output is refused.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from pathlib import Path

import nbformat
from nbformat import NotebookNode

ROOT = Path(__file__).resolve().parents[1]
INJECTED = "injected-parameters"  # papermill's tag on the cell it adds for -p values
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:tmp|home|root|Users|private|var|work|mnt|opt)/[^\s'\"]*")


def _relative_paths(text: str) -> str:
    """The results directory as `results`, the repository as `.`: what a reader's own run would print."""
    results = os.environ.get("MMC_RESULTS_DIR")
    for path, name in ((results, "results"), (str(ROOT), ".")):
        if path:
            text = text.replace(str(Path(path).resolve()), name).replace(path, name)
    return text


def _machine_specific(text: str) -> list[str]:
    host = socket.gethostname()
    return MACHINE_PATH.findall(text) + ([host] if len(host) > 3 and host in text else [])


def _normalise(output: NotebookNode, count: int, where: str) -> NotebookNode | None:
    """The output as committed (None: not committed); an error output or machine-specific text is refused."""
    if output.output_type == "error":
        raise SystemExit(f"{where} failed: {output.ename}: {output.evalue}. Fix it and run the notebook again.")
    if output.output_type == "stream":
        if output.name != "stdout":
            return None
        output.text = _relative_paths(output.text)
        texts = [output.text]
    else:
        if output.output_type == "execute_result":
            output.execution_count = count
        for mime, value in output.data.items():
            if mime.startswith("text/"):
                output.data[mime] = _relative_paths(value)
        texts = [v for m, v in output.data.items() if m.startswith("text/")]
    found = [s for text in texts for s in _machine_specific(text)]
    if found:
        raise SystemExit(f"{where} prints {found[0]!r}, which is specific to this machine: print a path relative "
                         "to the repository or the results directory instead.")
    return output


def store(source_path: str, executed_path: str) -> int:
    """Copy every code cell's outputs from the executed notebook into the source notebook; returns the cell count."""
    source = nbformat.read(source_path, as_version=4)
    executed = nbformat.read(executed_path, as_version=4)
    ran = [c for c in executed.cells if INJECTED not in c.metadata.get("tags", [])]
    code = lambda cells: [(c.cell_type, c.source if c.cell_type == "code" else "") for c in cells]
    if code(ran) != code(source.cells):  # markdown may have changed since: the source's is kept
        raise SystemExit(f"{executed_path} was not executed from the current code of {source_path}: run it again "
                         "(make report).")
    count = 0
    for number, (cell, done) in enumerate(zip(source.cells, ran)):
        if cell.cell_type != "code":
            continue
        count += 1
        where = f"{source_path}, cell {number}"
        outputs = (_normalise(output, count, where) for output in done.outputs)
        cell.outputs = [output for output in outputs if output is not None]
        cell.execution_count = count  # nbval skips comparing cells that look unrun
    source.metadata.pop("papermill", None)
    nbformat.write(source, source_path)
    return count


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    print(f"stored the outputs of {store(sys.argv[1], sys.argv[2])} code cell(s) in {sys.argv[1]}")
