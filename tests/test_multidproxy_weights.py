"""A user with a CLIP weights file gets Multi-DProxy's paper-comparable tables through `make reproduce` and one
variable (CLIP_WEIGHTS). Shown with a stand-in file: a state dict of the tiny test config, which the encoder treats
like any real checkpoint (weights id = the file's sha256), so the printed cells on the staged image sets are compared.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
import torch

from mmc_core.experiments.tables import NOT_COMPARED
from mmc_core.paths import PROJECT_ROOT, data_dir

NOTEBOOK = "notebooks/multidproxy/03_zero_shot.ipynb"  # the cheapest notebook with printed cells on staged images


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    import open_clip

    from mmc_core.encoders import load_encoder

    load_encoder("mmc-tiny-clip", "none")  # registers the tiny config
    path = tmp_path_factory.mktemp("weights") / "stand-in.pt"
    torch.save(open_clip.create_model("mmc-tiny-clip").state_dict(), path)
    return path


@pytest.mark.skipif(not (data_dir() / "cifar10" / "MANIFEST.sha256").exists(), reason="CIFAR-10 is not staged here")
def test_make_reproduce_with_a_weights_file_compares_the_printed_cells(stand_in, tmp_path):
    results = tmp_path / "results"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(
        ["make", "-o", "data", "reproduce", f"PY={sys.executable}", "PROFILE=quick", "SEEDS=1",
         f"NOTEBOOKS={NOTEBOOK}", f"CLIP_WEIGHTS={stand_in}", "CLIP_MODEL=mmc-tiny-clip",
         f"RESULTS_DIR={results}", f"DATA_DIR={data_dir()}"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    comparison = pd.read_csv(results / "sections" / "multidproxy_03_zero_shot" / "comparison.csv")
    cifar = comparison[comparison.dataset == "CIFAR-10"]
    # reproduced, not "weights absent"; quick's short training gives the cells no verdict
    assert len(cifar) == 3 and (cifar.verdict == NOT_COMPARED).all() and cifar.reproduced.notna().all(), cifar
    assert (comparison[comparison.dataset != "CIFAR-10"].verdict == "data absent").all()  # Fruit, Stanford Cars


def test_without_weights_the_printed_cells_say_so():
    """The same notebook's stored reference output: no weights, no number compared, and the reason named."""
    import nbformat

    book = nbformat.read(PROJECT_ROOT / NOTEBOOK, as_version=4)
    checked = next(c for c in book.cells if c.cell_type == "code" and c.source.startswith("# NBVAL_CHECK_OUTPUT"))
    text = "".join(o.get("text", "") for o in checked.outputs)
    assert "weights absent 3" in text and "no printed cell compared" in text
