"""Store the outputs of a notebook's `# NBVAL_CHECK_OUTPUT` cells, taken from an executed copy, in the source notebook.

nbval (--nbval-lax) compares only those cells' outputs with what is stored, so after changing a checked cell run:
    papermill -k python3 NB.ipynb /tmp/run.ipynb && python scripts/store_checked_outputs.py NB.ipynb /tmp/run.ipynb
Every other cell of the source notebook is left without outputs (notebooks are committed clean).
"""

from __future__ import annotations

import sys

import nbformat

MARK = "# NBVAL_CHECK_OUTPUT"


def store(source_path: str, executed_path: str) -> int:
    source = nbformat.read(source_path, as_version=4)
    executed = nbformat.read(executed_path, as_version=4)
    executed_checked = [c for c in executed.cells if c.cell_type == "code" and c.source.startswith(MARK)]
    source_checked = [c for c in source.cells if c.cell_type == "code" and c.source.startswith(MARK)]
    if len(executed_checked) != len(source_checked):
        raise SystemExit(f"{executed_path} has {len(executed_checked)} checked cells, {source_path} "
                         f"{len(source_checked)}: run the current notebook first.")
    for cell in source.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    for src, done in zip(source_checked, executed_checked):
        if src.source != done.source:
            raise SystemExit("A checked cell differs between the two notebooks: run the current notebook first.")
        errors = [o for o in done.outputs if o.output_type == "error"]
        if errors:
            raise SystemExit(f"The checked cell failed in {executed_path}: {errors[0].ename}: {errors[0].evalue}")
        src.outputs = [o for o in done.outputs if o.output_type == "stream" and o.name == "stdout"]
        src.execution_count = done.execution_count  # nbval skips comparing cells that look unrun
    nbformat.write(source, source_path)
    return len(source_checked)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    print(f"stored outputs of {store(sys.argv[1], sys.argv[2])} checked cell(s) in {sys.argv[1]}")
