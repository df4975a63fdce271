"""Where the project keeps its files, and where the user keeps the data."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REGISTRY_FILE = PROJECT_ROOT / "data" / "registry.yaml"
REPORTED_DIR = PROJECT_ROOT / "data" / "reported"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data" / "raw"
DEFAULT_RESULTS_DIR = PROJECT_ROOT / "results"
REFERENCE_DIR = PROJECT_ROOT / "reference"  # the shipped evidence, fingerprinted in its MANIFEST.tsv
REFERENCE_RUNS_DIR = REFERENCE_DIR / "runs"  # the shipped run records (see reference/README.md)
REFERENCE_CONCEPT_RUNS_DIR = REFERENCE_DIR / "multiclust"  # the shipped multiple-clustering runs


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data directory: the argument, else $MMC_DATA_DIR, else <project>/data/raw (what `make data` fills)."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get("MMC_DATA_DIR")
    return Path(env) if env else DEFAULT_DATA_DIR


def results_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The results directory: the argument, else $MMC_RESULTS_DIR, else <project>/results."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get("MMC_RESULTS_DIR")
    return Path(env) if env else DEFAULT_RESULTS_DIR
