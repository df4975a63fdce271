"""Seeding of every random number generator a run uses, written once."""

from __future__ import annotations

import random
import sys

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed python, numpy and (when it is loaded) torch, CPU and CUDA, so a run is repeatable."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
