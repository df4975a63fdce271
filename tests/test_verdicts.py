"""The verdict text the notebooks' checked cells print, the claim checks moved out of notebooks, the reference
profile's reading of the store, and the README's generated blocks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmc_core.experiments import make_grid
from mmc_core.experiments import settings as settings_module
from mmc_core.experiments.claims import converges_early, mass_share
from mmc_core.experiments.readme import render, timings_block
from mmc_core.experiments.profiles import get_profile
from mmc_core.experiments.settings import RunSettings
from mmc_core.experiments.tables import cell_verdict
from mmc_core.experiments.verdicts import cell_table, delta_text, verdict_table


def _cell(dataset, method, variant, metric, reported, reproduced, std, n, collapsed=""):
    """One row of experiments.compare: the verdict and the interval of ours - printed from cell_verdict."""
    verdict, low, high = cell_verdict(reproduced, std, n, reported, 0.02) if n else ("data absent", np.nan, np.nan)
    return {"dataset": dataset, "method": method, "variant": variant, "metric": metric, "reported": reported,
            "reproduced": reproduced, "std": std, "n_seeds": n, "diff": reproduced - reported, "diff_low": low,
            "diff_high": high, "verdict": verdict, "collapsed": collapsed}


def _comparison(collapsed=""):
    return pd.DataFrame([
        _cell("Event", "SDCIB", "", "acc", 0.565, 0.303, 0.038, 20, collapsed),
        _cell("Event", "KM", "L=4", "nmi", 0.2, 0.21, np.nan, 1),
        _cell("IAPR", "SDCIB", "", "acc", 0.5, np.nan, np.nan, 0),
    ])


def test_delta_text_gives_points_and_the_interval():
    assert delta_text(-0.262, -0.27979, -0.24421) == "-26.2 [-28.0, -24.4]"
    assert delta_text(0.01, np.nan, np.nan) == "+1.0 [n<2]"


def test_verdict_table_shows_every_compared_cell_and_counts_the_rest():
    claims = pd.DataFrame([{"claim": "SDCIB wins", "data": "Event", "verdict": "does not hold",
                            "evidence": "Event: SDCIB 0.303 (n=20) vs DealMVC 0.440 (n=20): -0.137 [-0.160, -0.114]"}])
    comparison = _comparison()
    assert list(comparison.verdict) == ["worse", "inconclusive", "data absent"]  # one seed: no interval, no verdict
    text = verdict_table(comparison, claims)
    assert "Δ points [95% CI]" in text
    # 0.303 - 0.565 = -26.2 points, +- t(19) x 0.038 / sqrt(20) = 1.8 points (by hand)
    assert "0.303 ± 0.038 (n=20)" in text and "-26.2 [-28.0, -24.4]" in text and "worse" in text
    assert "KM [L=4]" in text and "0.210 ± 0.000 (n=1)" in text and "+1.0 [n<2]" in text and "inconclusive" in text
    assert "not compared: data absent 1" in text
    assert "claim: SDCIB wins [Event] -> does not hold\n  Event: SDCIB 0.303 (n=20) vs DealMVC" in text
    assert "degenerate partitions" not in text, "the column only appears when some row's runs collapsed"
    # a one-point change of a shipped mean changes the checked text (what nbval compares)
    moved = comparison.copy()
    moved.loc[0, "reproduced"] += 0.01
    assert verdict_table(moved, claims) != text


def test_cell_table_flags_rows_whose_runs_collapse():
    table = cell_table(_comparison(collapsed="3/20 runs < 8 clusters (min 5)"))
    assert list(table["degenerate partitions"]) == ["3/20 runs < 8 clusters (min 5)", ""]
    assert list(table["Δ points [95% CI]"]) == ["-26.2 [-28.0, -24.4]", "+1.0 [n<2]"]
    assert "degenerate partitions" in verdict_table(_comparison(collapsed="3/20 runs < 8 clusters (min 5)"))
    # a comparison saved before the interval columns existed still prints (no interval)
    old = _comparison().drop(columns=["diff_low", "diff_high", "collapsed"])
    assert list(cell_table(old)["Δ points [95% CI]"]) == ["-26.2 [n<2]", "+1.0 [n<2]"]


def test_converges_early_by_hand():
    n = 20
    fast = pd.DataFrame({"total": [10.0] + [1.0] * (n - 1), "acc": [0.5] * n})
    slow = pd.DataFrame({"total": np.linspace(10, 1, n), "acc": [0.5] * n})
    unstable = fast.assign(acc=[0.5, 0.9] * (n // 2))
    assert converges_early(fast)[0] and not converges_early(slow)[0] and not converges_early(unstable)[0]
    assert converges_early(fast.head(4)) is None, "too short a history says nothing"
    assert "100% of the loss decrease" in converges_early(fast)[1]


def test_mass_share_by_hand():
    assert mass_share([1, 0, 0, 0]) == 0.25
    assert mass_share([1, 1, 1, 1]) == 0.5


def test_reference_mode_leaves_out_a_partly_shipped_dataset(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(settings_module, "REFERENCE_RUNS_DIR", tmp_path)
    specs = make_grid(["amkm", "km"], ["Event", "MSRC-v1"], 1, scaling="none")
    shipped = [s for s in specs if s.dataset == "MSRC-v1" or s.method == "amkm"]
    for spec in shipped:
        spec.cache_path(tmp_path).parent.mkdir(parents=True, exist_ok=True)
        spec.cache_path(tmp_path).write_text("{}")
    run = RunSettings(get_profile("reference"), 1, None, ["Event", "MSRC-v1", "Handwritten"], {}, "auto")
    kept = run._shipped_datasets(specs + make_grid(["km"], ["Handwritten"], 1, scaling="none"), partial=False)
    assert {s.dataset for s in kept} == {"MSRC-v1"}
    assert run.datasets == ["MSRC-v1"], "claims must not name a dataset they were not tested on (nor one not shipped)"
    assert "Event left out here" in capsys.readouterr().out
    main_table = RunSettings(get_profile("reference"), 1, None, ["Event", "MSRC-v1", "Handwritten"], {}, "auto")
    kept = main_table._shipped_datasets(specs + make_grid(["km"], ["Handwritten"], 1, scaling="none"), partial=True)
    # a main table shows Event with its missing rows, and still leaves out a dataset with nothing shipped
    assert {s.dataset for s in kept} == {"Event", "MSRC-v1"} and main_table.datasets == ["Event", "MSRC-v1"]


def test_readme_block_markers_may_start_empty():
    text = "<!-- generated:claims -->\n<!-- /generated:claims -->\n"
    assert render(text, {"claims": "new"}) == "<!-- generated:claims -->\nnew\n<!-- /generated:claims -->\n"


def test_readme_blocks_are_replaced_and_markers_required():
    text = "intro\n<!-- generated:claims -->\nold\n<!-- /generated:claims -->\nend\n"
    assert render(text, {"claims": "new"}) == "intro\n<!-- generated:claims -->\nnew\n<!-- /generated:claims -->\nend\n"
    with pytest.raises(ValueError, match="generated:timings"):
        render(text, {"timings": "x"})


def test_timings_come_from_the_records():
    records = [{"method": "sdcib", "dataset": "Event", "provenance": {"wall_seconds": s, "epochs_trained": 100,
                                                                      "device": "cpu", "threads": 1}}
               for s in (100.0, 140.0, 120.0)]
    text = timings_block(records)
    assert "| sdcib" in text and "120" in text and "100.0-140.0" in text and "3 shipped runs" in text
