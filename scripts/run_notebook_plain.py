"""Run a notebook's code cells in one plain Python process, without Jupyter (papermill, a kernel): for a machine that
has the library's needs but not Jupyter's, such as the one scripts/gpu_check.sh runs on. Parameters are set as
papermill sets them (-p NAME VALUE, applied after the cell tagged `parameters`); each cell's printed output and its
last expression's value go to stdout under the cell's number; the first error stops the run (exit status 1).

    python scripts/run_notebook_plain.py NOTEBOOK [-p NAME VALUE ...]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
from pathlib import Path
from typing import Any


def literal(text: str) -> Any:
    """A -p value as papermill reads it: a Python literal (5, 2.5, None, True), else the text itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def show(*values: Any) -> None:
    """What Jupyter would display: a table as text, anything else as its repr."""
    for value in values:
        print(value.to_string() if hasattr(value, "to_string") else repr(value))


def run_cell(source: str, namespace: dict[str, Any], name: str) -> None:
    """Execute a cell; show its last expression's value, as Jupyter does."""
    tree = ast.parse(source, name)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, name, "exec"), namespace)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), name, "eval"), namespace)
        if value is not None:
            show(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")  # figures are drawn, not shown
    notebook = args.notebook.resolve()
    cells = [cell for cell in json.loads(notebook.read_text())["cells"] if cell["cell_type"] == "code"]
    os.chdir(notebook.parent)  # as papermill --cwd runs the notebooks (Makefile)
    namespace: dict[str, Any] = {"__name__": "__main__", "display": show}
    for number, cell in enumerate(cells, 1):
        print(f"--- {notebook.name}, cell {number} of {len(cells)}", flush=True)
        run_cell("".join(cell["source"]), namespace, f"{notebook.name}[{number}]")
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            namespace.update({name: literal(value) for name, value in args.p})
    return 0


if __name__ == "__main__":
    sys.exit(main())
