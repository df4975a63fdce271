"""A run cache's records without the fields that may differ between two computations of the same runs."""

from __future__ import annotations

import json
from pathlib import Path

VOLATILE = ("seconds", "provenance")  # wall time and where and how it ran


def records(root: Path) -> dict[str, dict]:
    """Every record under root, by its path relative to root, less the volatile fields."""
    return {str(p.relative_to(root)): {k: v for k, v in json.loads(p.read_text()).items() if k not in VOLATILE}
            for p in sorted(root.rglob("seed*.json"))}
