"""The shipped diagnosis traces (reference/diagnostics/): per reading, seed and epoch, what a method's partition
looked like during training, measured without labels (scripts/sdcib_collapse.py writes SDCIB's)."""

from __future__ import annotations

import json

import pandas as pd

from ..paths import PROJECT_ROOT

DIAGNOSTICS_DIR = PROJECT_ROOT / "reference" / "diagnostics"


def collapse_trace(name: str = "sdcib_collapse") -> pd.DataFrame:
    """One row per (reading, seed, epoch) of a shipped trace: clusters used, marginal and per-sample entropy, the raw
    loss terms; a missing trace names the script that writes it."""
    path = DIAGNOSTICS_DIR / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is not here; `python scripts/{name}.py` writes it.")
    return pd.DataFrame(json.loads(path.read_text())["records"])
