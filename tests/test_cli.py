"""The command line as a user meets it: every listing within 100 columns (--wide: whole), `methods` with a header and
whole descriptions, concept methods runnable (`run multidproxy Planted1@colour`), and a clear error, naming what is
missing and how to get it, where a run cannot start (an image set given to a feature method, no CLIP weights)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

from mmc_core import __main__ as cli
from mmc_core.experiments import make_grid, runner
from test_user_images import fruit

WIDTH = 100
CONCEPT_METHODS = ("kmeans-clip", "clip-gpt", "clip-label", "multimap", "multidproxy")


@pytest.fixture(autouse=True)
def terminal_of_100_columns(monkeypatch, tmp_path):
    """A 100-column terminal, and results (caches, CLIP features) kept out of the project's results/."""
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    monkeypatch.setenv("MMC_RESULTS_DIR", str(tmp_path / "results"))


def run_cli(capsys, argv: list[str]) -> str:
    assert cli.main(argv) == 0
    return capsys.readouterr().out


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def fail(capsys, argv: list[str]) -> str:
    """The one-line error of a refused command (exit 2, no traceback)."""
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    line = err.splitlines()[-1]
    assert line.startswith("error: ") and line.endswith("(--debug shows the traceback)"), err
    return line


# ------------------------------------------------------------------------------------------------ listings


@pytest.mark.parametrize("argv", [["datasets"], ["datasets", "--sources"], ["methods"]])
def test_every_listing_fits_100_columns(capsys, argv):
    assert widest(run_cli(capsys, argv)) <= WIDTH


def test_wide_prints_every_method_on_one_whole_line(capsys):
    text = run_cli(capsys, ["methods", "--wide"])
    assert widest(text) > WIDTH
    assert next(line for line in text.splitlines() if line.startswith("ddmc ")).endswith("of all modalities.")


def _entries(text: str) -> dict[str, str]:
    """method name -> its listing entry (the lines below a header, up to a blank line), continuation lines joined."""
    entries: dict[str, str] = {}
    name = None
    in_table = False
    for line in text.splitlines():
        if not line:
            in_table = False
        elif line.startswith("method "):
            in_table = True
        elif in_table and line.startswith(" "):
            entries[name] += " " + line.strip()
        elif in_table:
            name = line.split()[0]
            entries[name] = line
    return entries


def test_methods_lists_the_concept_methods_under_a_header_with_whole_descriptions(capsys):
    text = run_cli(capsys, ["methods"])
    assert len(re.findall(r"^method +reported as +description$", text, re.M)) == 2  # feature and concept methods
    entries = _entries(text)
    assert set(CONCEPT_METHODS) <= set(entries) and {"km", "ddmc", "mflvc"} <= set(entries)
    assert "Multi-DProxy" in entries["multidproxy"] and "K-means (CLIP)" in entries["kmeans-clip"]
    cut = {name: entry for name, entry in entries.items() if not entry.endswith((".", ".)"))}
    assert not cut, cut  # e.g. "MFLVC in its three published stages, with named loss terms (each of weight 1):"


# ------------------------------------------------------------------------------------------------ feature runs


def test_a_feature_method_on_an_image_set_says_to_use_a_concept_method(capsys):
    err = fail(capsys, ["run", "km", "CMUface", "--seeds", "1", "--no-cache"])  # was "'NoneType' has no len()"
    assert "CMUface is an image set" in err and "run multidproxy CMUface@" in err
    with pytest.raises(ValueError, match="CMUface is an image set"):
        make_grid(["km"], ["CMUface"], 1)


def test_a_feature_method_on_a_dataset_without_public_file_says_how_to_obtain_it(capsys):
    err = fail(capsys, ["run", "km", "Crosstask", "--seeds", "1", "--no-cache"])  # was "'NoneType' has no len()"
    assert "Crosstask" in err and "How to obtain" in err


def test_a_feature_method_on_a_concept_task_names_the_concept_methods(capsys):
    err = fail(capsys, ["run", "km", "Planted1@colour", "--seeds", "1", "--no-cache"])
    assert "km is a feature method" in err and "run kmeans-clip Planted1@colour" in err


def test_a_feature_run_table_fits_100_columns_and_wide_prints_it_whole(capsys, monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    views = [rng.normal(size=(30, 4)).astype(np.float32) for _ in range(5)]  # MSRC-v1 has five views
    monkeypatch.setattr(runner, "load_dataset", lambda *args, **kwargs: SimpleNamespace(
        views=views, labels=np.arange(30) % 3, n_clusters=3))
    argv = ["run", "km", "MSRC-v1", "--seeds", "2", "--no-cache", "--data-dir", str(tmp_path)]  # its own data cache
    text = run_cli(capsys, argv)
    assert widest(text) <= WIDTH  # was 152 columns
    assert "dataset MSRC-v1, method KM" in text and "view=4" in text
    wide = run_cli(capsys, argv + ["--wide"])
    assert re.search(r"^best view \(oracle: picked by ACC against labels\): view=\d ", wide, re.M)


# ------------------------------------------------------------------------------------------------ concept runs


@pytest.mark.parametrize("method", ["kmeans-clip", "multidproxy"])
def test_a_concept_method_runs_on_the_planted_data(capsys, method):
    text = run_cli(capsys, ["run", method, "Planted1@colour", "--seeds", "1", "--param", "epochs=2", "--no-cache"]
                   if method == "multidproxy" else ["run", method, "Planted1@colour", "--seeds", "1", "--no-cache"])
    assert widest(text) <= WIDTH
    row = next(line for line in text.splitlines() if line.startswith("Planted "))
    assert cli.concept_methods()[method][1] in row and "colour" in row
    assert "No paper reports the planted data" in text


def test_a_concept_method_needs_a_task_not_a_set(capsys):
    err = fail(capsys, ["run", "multidproxy", "CMUface", "--no-cache"])
    assert "CMUface@<concept>" in err and "identity, pose, emotion, glasses" in err
    err = fail(capsys, ["run", "multidproxy", "Synthetic3d", "--no-cache"])
    assert "Synthetic3d is a multi-view dataset" in err and "run km Synthetic3d" in err


def test_an_image_task_without_its_images_says_how_to_obtain_them(capsys, tmp_path):
    err = fail(capsys, ["run", "multidproxy", "CMUface@pose", "--data-dir", str(tmp_path), "--no-cache"])
    assert "CMUface" in err and "python -m mmc_core.data.fetch CMUface" in err


def test_an_image_task_without_clip_weights_says_how_to_provide_them(capsys, tmp_path):
    fruit(tmp_path)
    err = fail(capsys, ["run", "multidproxy", "Fruit@color", "--data-dir", str(tmp_path), "--no-cache"])
    assert "Fruit@color is a task on real images" in err and "no CLIP weights were given" in err
    assert "--clip-weights PATH" in err and "make weights" in err and "--clip-weights none" in err
    err = fail(capsys, ["run", "multidproxy", "Fruit@color", "--data-dir", str(tmp_path), "--no-cache",
                        "--clip-weights", str(tmp_path / "absent.pt")])
    assert "absent.pt does not exist" in err


def test_an_image_task_runs_on_a_random_tiny_encoder_and_says_the_numbers_mean_nothing(capsys, tmp_path):
    fruit(tmp_path)
    text = run_cli(capsys, ["run", "clip-label", "Fruit@color", "--data-dir", str(tmp_path), "--no-cache",
                            "--seeds", "1", "--clip-model", "mmc-tiny-clip", "--clip-weights", "none"])
    assert widest(text) <= WIDTH
    assert "RANDOM weights" in text and re.search(r"^Fruit +CLIP_label +color ", text, re.M)
