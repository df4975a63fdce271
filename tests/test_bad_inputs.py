"""Bad inputs found by a probe that used to fail silently: each is now a clear error (or warning) that names the
cause and the fix. Small inputs made here; no data, network or GPU needed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from mmc_core import __main__ as cli
from mmc_core import reported
from mmc_core.data import UnknownDatasetError, canonical_name, get_entry, load_dataset
from mmc_core.data import fetch as fetch_mod
from mmc_core.data.registry import is_available
from mmc_core.deep import index_batches
from mmc_core.experiments import runner
from mmc_core.experiments.runner import RunSpec, read_record, run_grid
from mmc_core.io import atomic_write_text
from mmc_core.methods import make
from mmc_core.metrics import evaluate
from mmc_core.paths import PROJECT_ROOT, REPORTED_DIR, data_dir
from mmc_core.preprocessing import check_float32_range, scale_views
from mmc_core.reported import MANIFEST, ReportedDataError, load_reported, verify_manifest, write_manifest


# ----------------------------------------------------------------------------------------------- 1. metrics


@pytest.mark.parametrize("y_true, y_pred, error, message", [
    (None, None, TypeError, "y_true is None; expected a 1-D array"),
    ([0, 1], None, TypeError, "y_pred is None"),
    (3, 7, TypeError, "y_true is the scalar 3; expected a 1-D array"),
    (np.zeros((2, 2)), np.zeros((2, 2)), ValueError, r"y_true has shape \(2, 2\); expected a 1-D array.*ravel"),
    ([0, 1, 1], [[0], [1], [1]], ValueError, r"y_pred has shape \(3, 1\)"),
    ([0, 1, 1], [0, 1], ValueError, "y_true has 3 labels but y_pred has 2"),
    ([], [], ValueError, "empty"),
])
def test_evaluate_refuses_what_is_not_two_label_vectors(y_true, y_pred, error, message):
    with pytest.raises(error, match=message):
        evaluate(y_true, y_pred)


def test_evaluate_still_scores_label_vectors():
    assert evaluate([0, 0, 1, 1], np.array([1, 1, 0, 0]))["acc"] == 1.0


# ----------------------------------------------------------------------------------------------- 2. reported CSVs


@pytest.fixture
def reported_copy(tmp_path) -> Path:
    """A copy of data/reported (CSVs and manifest) to damage."""
    for path in [*REPORTED_DIR.glob("*.csv"), REPORTED_DIR / MANIFEST]:
        shutil.copyfile(path, tmp_path / path.name)
    return tmp_path


def test_shipped_csvs_match_their_manifest():
    verify_manifest(REPORTED_DIR)
    assert set(json.loads((REPORTED_DIR / MANIFEST).read_text())) == {p.name for p in REPORTED_DIR.glob("*.csv")}


def test_truncated_csv_is_refused_naming_the_file_and_both_fixes(reported_copy):
    path = reported_copy / "idmc.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-40]))  # still a valid CSV: without the manifest it loads with 40 cells missing
    with pytest.raises(ReportedDataError) as info:
        load_reported(directory=reported_copy)
    message = str(info.value)
    assert str(path) in message and f"{len(lines) - 41} data rows" in message
    assert f"git checkout -- {path}" in message and "python -m mmc_core reported --write-manifest" in message


def test_intended_edit_is_accepted_once_the_manifest_is_rewritten(reported_copy):
    path = reported_copy / "idmc.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-40]))
    write_manifest(reported_copy)
    assert json.loads((reported_copy / MANIFEST).read_text())["idmc.csv"]["rows"] == len(lines) - 41
    assert len(load_reported(directory=reported_copy)) == len(load_reported()) - 40


def test_stray_and_missing_csvs_are_refused(reported_copy):
    shutil.copyfile(reported_copy / "ddmc.csv", reported_copy / "extra.csv")
    with pytest.raises(ReportedDataError, match=r"extra\.csv is not listed in .*MANIFEST\.json.*--write-manifest"):
        load_reported(directory=reported_copy)
    (reported_copy / "extra.csv").unlink()
    (reported_copy / "sdcib.csv").unlink()
    with pytest.raises(ReportedDataError, match=r"sdcib\.csv is listed in .* but missing.*git checkout"):
        load_reported(directory=reported_copy)


def test_the_reported_directory_must_have_its_manifest(reported_copy, monkeypatch):
    (reported_copy / MANIFEST).unlink()
    monkeypatch.setattr(reported, "REPORTED_DIR", reported_copy)
    with pytest.raises(ReportedDataError, match=r"MANIFEST\.json cannot be read.*git checkout.*--write-manifest"):
        load_reported(directory=reported_copy)


def test_cli_checks_the_reported_files(capsys):
    assert cli.main(["reported"]) == 0
    assert "every file matching its MANIFEST.json" in capsys.readouterr().out


# ----------------------------------------------------------------------------------------------- 3. command line


def _fail(capsys, argv: list[str]) -> str:
    """Run the CLI, expect exit status 2 and no traceback, return its one-line error (the last line of stderr,
    after any progress bar)."""
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.endswith("\n"), err
    line = err.splitlines()[-1]
    assert line.startswith("error: ") and line.endswith("(--debug shows the traceback)"), err
    return line


def test_cli_unknown_dataset_is_one_line_with_the_close_match(capsys):
    err = _fail(capsys, ["run", "km", "Evnt", "--seeds", "1", "--no-cache"])
    assert "unknown dataset 'Evnt'" in err and "Did you mean Event" in err and not err.startswith("error: '")


def test_cli_absent_dataset_is_one_line_with_how_to_fetch(capsys, tmp_path):
    err = _fail(capsys, ["run", "km", "MSRC-v1", "--seeds", "1", "--no-cache", "--data-dir", str(tmp_path)])
    assert "MSRC-v1" in err and "missing file" in err and "python -m mmc_core.data.fetch MSRC-v1" in err


def test_cli_bad_parameter_is_one_line_naming_it(capsys, monkeypatch):
    rng = np.random.default_rng(0)
    views = [rng.normal(size=(20, 3)).astype(np.float32), rng.normal(size=(20, 2)).astype(np.float32)]
    monkeypatch.setattr(runner, "_dataset", lambda *args: (views, np.arange(20) % 2, 2))
    err = _fail(capsys, ["run", "km", "MSRC-v1", "--seeds", "1", "--no-cache", "--param", "epochs=abc"])
    assert "epochs" in err


def test_cli_debug_shows_the_error_itself():
    with pytest.raises(UnknownDatasetError):
        cli.main(["--debug", "run", "km", "Evnt", "--seeds", "1", "--no-cache"])


def test_cli_report_refuses_a_missing_results_dir_without_creating_it(tmp_path):
    typo = tmp_path / "typo"
    done = subprocess.run([sys.executable, "-m", "mmc_core", "report", "--results-dir", str(typo)],
                          capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert f"results directory {typo} does not exist" in done.stderr and "--results-dir" in done.stderr
    assert not typo.exists()


def test_cli_report_refuses_a_results_dir_without_sections(tmp_path, capsys):
    err = _fail(capsys, ["report", "--results-dir", str(tmp_path)])
    assert "holds no notebook sections" in err and "make report" in err
    assert not (tmp_path / "REPORT.md").exists()


# ----------------------------------------------------------------------------------------------- 4. dataset names


def test_dataset_names_are_canonical_everywhere(tmp_path):
    assert canonical_name("event") == canonical_name("EVENT") == canonical_name("Event") == "Event"
    assert canonical_name("msrc_v1") == "MSRC-v1"
    assert get_entry("event").name == "Event"
    spec = RunSpec("km", "event", 0)
    assert spec.dataset == "Event" and spec.config["dataset"] == "Event"
    assert spec.cache_path(tmp_path).relative_to(tmp_path).parts[0] == "Event"
    assert spec.config_id == RunSpec("km", "Event", 0).config_id


def test_unknown_dataset_name_lists_close_matches():
    with pytest.raises(UnknownDatasetError, match="unknown dataset 'evnet'. Did you mean Event"):
        canonical_name("evnet")
    with pytest.raises(UnknownDatasetError, match="Did you mean"):
        RunSpec("km", "Evnt", 0)


@pytest.mark.skipif(not is_available(get_entry("MSRC-v1"), data_dir()), reason="MSRC-v1 not staged in the data dir")
def test_loaded_dataset_carries_the_canonical_name():
    assert load_dataset("msrc-V1").name == "MSRC-v1"


# ----------------------------------------------------------------------------------------------- 5. result cache


@pytest.fixture
def spec() -> RunSpec:
    return RunSpec("km", "MSRC-v1", 0)


def test_half_written_record_names_the_file(spec, tmp_path):
    path = spec.cache_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text('{"method": "km", "datas')
    with pytest.raises(ValueError, match=rf"Run record {path} cannot be read.*delete it to recompute"):
        read_record(spec, path)


def test_foreign_record_names_the_file(spec, tmp_path):
    other = RunSpec("km", "MSRC-v1", 1)
    path = spec.cache_path(tmp_path)
    atomic_write_text(path, json.dumps({**other.config, "seed": 1, "acc": 0.5}))
    with pytest.raises(ValueError, match=rf"Run record {path} is not the run it is filed under.*delete it"):
        run_grid([spec], cache_dir=tmp_path, progress=False, compute=False)


def test_json_list_record_names_the_file(spec, tmp_path):
    path = spec.cache_path(tmp_path)
    atomic_write_text(path, "[1, 2]")
    with pytest.raises(ValueError, match=rf"Run record {path} holds a JSON list, not a run record.*delete it"):
        read_record(spec, path)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_written_files_are_readable_as_the_umask_allows(tmp_path, umask, mode):
    before = os.umask(umask)
    try:
        path = atomic_write_text(tmp_path / "record.json", "{}")
    finally:
        os.umask(before)
    assert path.stat().st_mode & 0o777 == mode


def _never_run(*args, **kwargs):
    raise AssertionError("a run was computed although its record could not be stored")


def test_unwritable_cache_is_refused_before_any_run(spec, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o555)
    monkeypatch.setattr(runner, "run_one", _never_run)
    if os.geteuid() == 0:  # root writes anywhere: stand in the refusal an ordinary user gets from the kernel
        monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    try:
        with pytest.raises(PermissionError, match=rf"directory {cache} is not writable: set MMC_RESULTS_DIR"):
            run_grid([spec], cache_dir=cache, progress=False)
    finally:
        cache.chmod(0o755)


def test_uncreatable_cache_is_refused_before_any_run(spec, tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    cache = tmp_path / "file" / "cache"  # under a regular file: not even root can create it
    monkeypatch.setattr(runner, "run_one", _never_run)
    with pytest.raises(PermissionError, match=rf"Cannot create the directory {cache}.*set MMC_RESULTS_DIR"):
        run_grid([spec], cache_dir=cache, progress=False)


def test_reading_a_cache_needs_no_write_access(spec, tmp_path):
    cache = tmp_path / "absent"
    assert run_grid([spec], cache_dir=cache, progress=False, compute=False).empty
    assert not cache.exists()


# ----------------------------------------------------------------------------------------------- 6. fetch leftovers


def test_fetch_removes_its_own_stale_part_leftovers(tmp_path):
    folder = tmp_path / "Event"
    (folder / ".view1.mat.k2j4.part").mkdir(parents=True)
    (folder / ".view1.mat.k2j4.part" / "x").write_text("")
    (folder / ".view2.mat.a9x1.part").write_bytes(b"half")
    kept = [folder / ".other.mat.a9x1.part", folder / "view1.mat.part", tmp_path / ".Event.zz.part"]
    for path in kept:
        path.write_text("")
    (result,) = fetch_mod.fetch(["Event"], data_dir=tmp_path, download=False)
    assert result.status == "failed"  # nothing to fetch from here; the clean-up came first
    assert "removed 2 leftover(s) of an interrupted fetch: .view1.mat.k2j4.part, .view2.mat.a9x1.part" in result.detail
    assert sorted(folder.iterdir()) == sorted(p for p in kept if p.parent == folder)
    assert all(p.exists() for p in kept)


# ----------------------------------------------------------------------------------------------- 7-8. view values


def test_constant_view_is_warned_about_by_index():
    """Every method warns at fit (a constant view's partition would come from the row order, not the data)."""
    varied = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [4.0, 5.0]])  # one constant column: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make("amkm", 2).fit([varied])
    for name in ("amkm", "simvc"):
        with pytest.warns(UserWarning, match=r"View 1 is constant \(every feature has zero variance"):
            labels = make(name, 2, **({"epochs": 1} if name == "simvc" else {})).fit_predict(
                [varied, np.full((4, 4), 7.0)])
        assert len(labels) == 4  # warned, not refused


def test_deep_methods_refuse_values_beyond_float32():
    """Unscaled (scaling="none"); their default min-max scaling brings such values into range first."""
    with pytest.raises(ValueError, match=r"View 0 has values up to \|x\| = 1e\+39"):
        make("simvc", 2, epochs=1, scaling="none").fit([np.array([[1.0], [1e39], [0.0], [2.0]])])


@pytest.mark.parametrize("n", [201, 101, 7, 3])
def test_every_sample_is_in_exactly_one_batch(n):
    """n % batch_size == 1 used to train one batch twice and another never; n == batch_size + 1 raised IndexError."""
    batches = index_batches(n, 100 if n > 100 else 2, torch.Generator().manual_seed(0))
    assert sorted(torch.cat(batches).tolist()) == list(range(n))
    assert min(len(b) for b in batches) >= 2


def test_values_beyond_float32_are_refused_with_the_fix():
    views = [np.arange(6.0).reshape(3, 2), np.array([[1.0], [-1e39], [0.0]])]
    with pytest.raises(ValueError, match=r"View 1 has values up to \|x\| = 1e\+39, beyond float32.*Scale the features"):
        check_float32_range(views)
    with pytest.raises(ValueError, match="View 1 has values up to"):
        scale_views(views, "none")
    out = scale_views(views, "minmax")  # scaled into range first: fine
    assert all(np.isfinite(o).all() for o in out)
    check_float32_range([np.float32([[3.4e38]])])
