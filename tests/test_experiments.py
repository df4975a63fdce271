"""Runner cache/resume, summaries, comparisons with the reported tables, and the report."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from mmc_core.data import list_datasets
from mmc_core.experiments.report import degenerate_partitions, paper_layout, summary_table
from mmc_core.experiments import (ORACLE_BEST_VIEW, add_best_view, build_report, compare, get_profile, make_grid,
                                  run_grid, save_section, summarize)
from mmc_core.experiments import runner
from mmc_core.experiments import settings as settings_module
from mmc_core.experiments.settings import RunSettings, choose_methods, resolve_settings
from mmc_core.io import atomic_write_text

DATASET = "Synthetic3d"  # 600 x 3 views of 3 features: every run takes milliseconds


@pytest.fixture()
def needs_data():
    """For the tests that run methods on DATASET (the hand-made summaries, comparisons and reports need no data)."""
    if not list_datasets().set_index("name").loc[DATASET, "available"]:
        pytest.skip(f"{DATASET} is not in the data directory (run `make data`)")


@pytest.fixture()
def needs_event():
    if not list_datasets().set_index("name").loc["Event", "available"]:
        pytest.skip("Event is not in the data directory (run `make data`)")


def test_grid_expands_single_view_methods_and_seeds():
    specs = make_grid(["km", ("amkm", {})], [DATASET], 2, base_seed=10)
    km = [s for s in specs if s.method == "km"]
    assert sorted({s.params["view"] for s in km}) == [0, 1, 2]
    assert sorted({s.seed for s in specs}) == [10, 11]
    assert len(specs) == 3 * 2 + 2
    assert len({(s.config_id, s.seed) for s in specs}) == len(specs)


def test_cache_resumes_after_interruption_and_never_recomputes(tmp_path, monkeypatch, needs_data):
    specs = make_grid(["amkm"], [DATASET], 4)
    calls, killed = [], []
    real = runner.run_one

    def flaky(spec, data_dir=None, profile=None):
        calls.append(spec.seed)
        if spec.seed == 2 and not killed:
            killed.append(True)
            raise RuntimeError("killed half-way")  # the run dies in the middle of the grid
        return real(spec, data_dir, profile)

    monkeypatch.setattr(runner, "run_one", flaky)
    with pytest.raises(RuntimeError, match="half-way"):
        run_grid(specs, cache_dir=tmp_path, progress=False)
    cached = sorted(p.name for p in tmp_path.rglob("seed*.json"))
    assert cached == ["seed0.json", "seed1.json"]
    assert not list(tmp_path.rglob("*.tmp")), "an interrupted run must leave no half-written file"
    calls.clear()
    frame = run_grid(specs, cache_dir=tmp_path, progress=False)
    assert calls == [2, 3], "only the missing runs are computed"
    assert sorted(frame.seed) == [0, 1, 2, 3]
    calls.clear()
    run_grid(specs, cache_dir=tmp_path, progress=False)
    assert calls == []


def test_cached_result_is_the_computed_one(tmp_path, needs_data):
    spec = make_grid(["amkm"], [DATASET], 1)[0]
    fresh = run_grid([spec], cache_dir=tmp_path, progress=False).iloc[0]
    stored = json.loads(spec.cache_path(tmp_path).read_text())
    assert stored["acc"] == pytest.approx(fresh["acc"])
    assert 0.0 <= fresh["acc"] <= 1.0 and fresh["method_label"] == "AmKM" and fresh["scaling"] == "none"
    assert set(stored["provenance"]) >= {"commit", "profile", "epochs_trained", "device", "threads", "wall_seconds",
                                         "packages"}


def test_a_record_filed_under_another_run_is_refused(tmp_path, needs_data):
    first, second = make_grid(["amkm"], [DATASET], 2)
    run_grid([first], cache_dir=tmp_path, progress=False)
    second.cache_path(tmp_path).write_bytes(first.cache_path(tmp_path).read_bytes())  # a copied record
    with pytest.raises(ValueError, match="is not the run it is filed under"):
        run_grid([second], cache_dir=tmp_path, progress=False)
    second.cache_path(tmp_path).write_text("{half")
    with pytest.raises(ValueError, match=str(second.cache_path(tmp_path).name)):
        run_grid([second], cache_dir=tmp_path, progress=False)


def test_reading_without_computing_leaves_missing_runs_out(tmp_path, needs_data):
    specs = make_grid(["amkm"], [DATASET], 3)
    run_grid(specs[:2], cache_dir=tmp_path, progress=False)
    frame = run_grid(specs, cache_dir=tmp_path, progress=False, compute=False)
    assert sorted(frame.seed) == [0, 1]
    assert not specs[2].cache_path(tmp_path).exists()


def test_recorded_outputs_are_part_of_the_run_identity(tmp_path, needs_data):
    plain = make_grid([("simvc", {"epochs": 2})], [DATASET], 1)[0]
    with_history = make_grid([("simvc", {"epochs": 2})], [DATASET], 1, outputs=("history",))[0]
    assert plain.config_id != with_history.config_id
    frame = run_grid([with_history], cache_dir=tmp_path, progress=False, keep_labels=True)
    history = frame.output_data.iloc[0]["history"]
    assert len(history["total"]) == 2 and len(history["acc"]) == 2  # labels scored each epoch
    with pytest.raises(ValueError, match="Unknown run output"):
        make_grid(["km"], [DATASET], 1, outputs=("pictures",))[0].config_id


def test_parallel_workers_give_the_same_results(tmp_path, needs_data):
    specs = make_grid(["km"], [DATASET], 2)
    serial = run_grid(specs, cache_dir=None, progress=False).sort_values(["config_id", "seed"])
    parallel = run_grid(specs, cache_dir=None, n_jobs=2, progress=False).sort_values(["config_id", "seed"])
    np.testing.assert_allclose(serial.acc.to_numpy(), parallel.acc.to_numpy())


def _results(rows):
    base = {"method": "km", "method_label": "KM", "dataset": "Event", "scaling": "none", "seconds": 1.0,
            "nmi": 0.1, "pur": 0.5, "ari": 0.0, "ri": 0.5, "f": 0.3}
    return pd.DataFrame([{**base, **r} for r in rows])


def _seeds(values, **fields):
    return [{"seed": i, "acc": v, **fields} for i, v in enumerate(values)]


VIEW1 = [0.415, 0.418, 0.42, 0.422, 0.425]  # mean 0.42, its 95% interval +- 0.0047 (t at 4 df)


def test_summary_best_view_is_marked_oracle_and_compared():
    results = _results(_seeds([0.30, 0.31, 0.32, 0.31, 0.30], params={"view": 0})
                       + _seeds(VIEW1, params={"view": 1}))
    summary = add_best_view(summarize(results))
    best = summary[summary.variant.str.startswith(ORACLE_BEST_VIEW)]
    assert len(best) == 1 and best.acc_mean.iloc[0] == pytest.approx(0.42) and best.n_seeds.iloc[0] == 5
    assert best.acc_std.iloc[0] == pytest.approx(np.std(VIEW1, ddof=1))
    reported = pd.DataFrame([
        {"paper": "P", "table": "t", "dataset": "Event", "method": "KM", "metric": m, "value": v, "variant": ""}
        for m, v in (("acc", 0.41), ("nmi", 0.30), ("pur", 0.40), ("ri", 0.51))] + [
        {"paper": "P", "table": "t", "dataset": "Gone", "method": "KM", "metric": "acc", "value": 0.5, "variant": ""},
        {"paper": "P", "table": "t", "dataset": "Event", "method": "XYZ", "metric": "acc", "value": 0.5,
         "variant": ""},
        {"paper": "P", "table": "t", "dataset": "Event", "method": "AmKM", "metric": "acc", "value": 0.5,
         "variant": ""},
    ])
    comp = compare(summary, reported, tolerance=0.02, implemented={"KM", "AmKM"}, available={"Event"})
    # ACC 0.420 +- 0.005 inside 0.41 +- 0.02; NMI 0.1 and PUR 0.5 constant over seeds, wholly outside; RI 0.5
    # exactly 1 point under 0.51 with no spread: inside the band
    assert list(comp.verdict) == ["within tolerance", "worse", "better", "within tolerance", "data absent",
                                  "reported only", "not run"]
    assert comp["diff"].iloc[0] == pytest.approx(0.01)
    half = 2.7764451 * np.std(VIEW1, ddof=1) / np.sqrt(5)
    assert (comp.diff_low.iloc[0], comp.diff_high.iloc[0]) == pytest.approx((0.01 - half, 0.01 + half))
    assert comp.diff_low.iloc[4:].isna().all() and list(comp.n_seeds) == [5, 5, 5, 5, 0, 0, 0]
    assert (comp.collapsed == "").all(), "no partition fields: nothing flagged"
    # the same means over two seeds: the ACC interval (t at 1 df) no longer fits the band
    two = add_best_view(summarize(results[results.seed < 2]))
    assert compare(two, reported.head(1), tolerance=0.02).verdict.iloc[0] == "inconclusive"


def test_summary_counts_runs_whose_partitions_collapse():
    results = _results(_seeds(VIEW1, params={}, n_clusters=8, clusters_used=8)
                       + _seeds([0.3, 0.31, 0.29], params={}, method="amkm", method_label="AmKM", n_clusters=8)
                       ).assign(clusters_used=[8, 8, 7, 8, 5, 8, 8, 8])
    summary = summarize(results).set_index("method_label")
    assert summary.loc["KM", "runs_collapsed"] == 2 and summary.loc["KM", "min_clusters_used"] == 5
    assert summary.loc["AmKM", "runs_collapsed"] == 0 and summary.loc["AmKM", "n_clusters"] == 8
    assert "runs_collapsed" not in summarize(_results(_seeds(VIEW1, params={}))).columns
    reported = pd.DataFrame([{"paper": "P", "table": "t", "dataset": "Event", "method": m, "metric": "acc",
                              "value": 0.42, "variant": ""} for m in ("KM", "AmKM")])
    comp = compare(summary.reset_index(), reported, tolerance=0.02)
    assert list(comp.collapsed) == ["2/5 runs < 8 clusters (min 5)", ""]


def test_ablation_rows_match_reported_variants():
    results = _results(
        _seeds([0.6, 0.605, 0.595], method="idmc", method_label="IDMC", params={"disable": []}, label="full")
        + _seeds([0.5, 0.505, 0.495], method="idmc", method_label="IDMC", params={"disable": ["kl"]},
                 label="w/o L_KL"))
    summary = summarize(results)  # rows are the runs' labels
    reported = pd.DataFrame([
        {"paper": "P", "table": "t", "dataset": "Event", "method": "IDMC", "metric": "acc", "value": v,
         "variant": name} for name, v in (("full", 0.6), ("w/o L_KL", 0.45))])
    comp = compare(summary, reported, tolerance=0.02)
    assert list(comp.reproduced) == pytest.approx([0.6, 0.5])
    assert list(comp.verdict) == ["within tolerance", "better"]
    one_seed = compare(summarize(results[results.seed == 0]), reported, tolerance=0.02)
    assert list(one_seed.verdict) == ["inconclusive", "inconclusive"], "one seed gives no interval: no verdict"
    assert list(one_seed.reproduced) == [0.6, 0.5] and one_seed.diff_low.isna().all()


def test_report_collects_sections(tmp_path):
    comp = pd.DataFrame([{"paper": "P", "table": "t", "dataset": "Event", "method": "KM", "variant": "",
                          "metric": "acc", "reported": 0.4, "reproduced": 0.41, "std": 0.01, "n_seeds": 2,
                          "diff": 0.01, "diff_low": -0.08, "diff_high": 0.1, "verdict": "inconclusive",
                          "collapsed": "", "erratum": False},
                         {"paper": "P", "table": "t", "dataset": "IAPR", "method": "KM", "variant": "",
                          "metric": "acc", "reported": 0.5, "reproduced": None, "std": None, "n_seeds": 0,
                          "diff": None, "diff_low": None, "diff_high": None, "verdict": "data absent",
                          "collapsed": "", "erratum": False}])
    claims = pd.DataFrame([{"paper": "P", "claim": "ours wins", "data": "Event", "verdict": "inconclusive",
                            "evidence": "Event: KM 0.410 (n=2) vs AmKM 0.400 (n=2): +0.010 [-0.120, +0.140]"}])
    for name in ("a_section", "b_section"):
        save_section(name, f"Section {name}", comparison=comp, claims=claims, notes="our reading: X",
                     profile="full", out_dir=tmp_path)
    text = build_report(tmp_path, records=[]).read_text()
    assert text.index("## Summary") < text.index("## Claims") < text.index("## Section a_section")
    assert text.count("our reading: X") == 1, "each interpretation is printed once"
    summary = text[text.index("## Summary"):text.index("## Claims")]
    assert "| P " in summary and "ours wins" in text and "**Printed cells**" in summary and "inconclusive" in summary.split("**Claims**")[0]
    assert "## Degenerate partitions" in text and "Every run of every method x dataset cell (0) uses all k" in text
    table = text[text.index("## Section a_section"):text.index("## Section b_section")]
    assert "0.410 ± 0.010 (2)" in table and "+1.0 [-8.0, +10.0] ?" in table and "Data absent here: IAPR" in table
    assert text.index("## Baselines: departures from the authors' code") < text.index("## Provenance")


def _collapsed_comparison():
    cell = {"paper": "P", "table": "t", "dataset": "Event", "variant": "", "metric": "acc", "reported": 0.4,
            "std": 0.01, "n_seeds": 5, "erratum": False}
    return pd.DataFrame([
        {**cell, "method": "KM", "reproduced": 0.41, "diff": 0.01, "diff_low": -0.002, "diff_high": 0.022,
         "verdict": "inconclusive", "collapsed": ""},
        {**cell, "method": "AmKM", "reproduced": 0.30, "diff": -0.1, "diff_low": -0.112, "diff_high": -0.088,
         "verdict": "worse", "collapsed": "2/5 runs < 8 clusters (min 5)"},
        {**cell, "method": "SEM", "reproduced": 0.40, "diff": 0.0, "diff_low": -0.012, "diff_high": 0.012,
         "verdict": "within tolerance", "collapsed": ""}])


def test_summary_table_counts_the_new_verdicts():
    claims = pd.DataFrame([{"paper": "P", "claim": f"claim {v}", "data": "Event", "verdict": v, "evidence": ""}
                           for v in ("holds", "does not hold", "inconclusive", "inconclusive", "not decided",
                                     "not testable here")])
    counts = summary_table(_collapsed_comparison(), claims).iloc[0]
    assert counts["cells compared"] == 3 and counts["inconclusive cells"] == 1 and counts["worse"] == 1
    assert counts["within tolerance"] == 1 and counts["better"] == 0
    assert (counts["claims hold"], counts["do not hold"], counts["inconclusive"], counts["not decided"],
            counts["untestable here"]) == (1, 1, 2, 1, 1)
    assert "mixed" not in counts.index


def test_paper_layout_shows_intervals_and_flags_collapsed_rows():
    table = "\n".join(paper_layout(_collapsed_comparison()))
    assert "-10.0 [-11.2, -8.8] ✗" in table and "+1.0 [-0.2, +2.2] ?" in table and "+0.0 [-1.2, +1.2] " in table
    assert "⚠ partitions" in table and "2/5 runs < 8 clusters (min 5)" in table
    assert "⚠ partitions" not in "\n".join(paper_layout(_collapsed_comparison().assign(collapsed="")))


@pytest.mark.parametrize("rows", [[0], [0, 1, 2]], ids=["none collapsed", "one collapsed after one not"])
def test_a_saved_section_flags_exactly_the_collapsed_rows(tmp_path, rows):
    """A section read back from CSV has NaN where a row has no note: only real notes are flagged (no empty column,
    no TypeError when a collapsed row follows one without)."""
    comp = _collapsed_comparison().iloc[rows]
    save_section("a", "A", comparison=comp, profile="full", out_dir=tmp_path)
    table = build_report(tmp_path, records=[]).read_text()
    table = table[table.index("## A"):]
    assert ("⚠ partitions" in table) == (1 in rows)


def test_degenerate_partitions_lists_the_cells_with_collapsed_runs():
    def record(method, dataset, used, k=8):
        return {"method": method.lower(), "method_label": method, "dataset": dataset, "n_clusters": k,
                "clusters_used": used}

    records = ([record("KM", "Event", u) for u in (8, 5, 8, 7)] + [record("AmKM", "Event", 8)] * 3
               + [record("KM", "MSRC-v1", u, k=7) for u in (7, 7)] + [{"method": "old", "dataset": "Event"}])
    table = degenerate_partitions(records)
    assert table.to_dict("records") == [{"method": "KM", "dataset": "Event", "runs of": "main row", "k": 8, "runs": 4,
                                         "runs using < k": 2, "clusters used (min / median / max)": "5 / 7.5 / 8"}]
    assert degenerate_partitions([record("KM", "Event", 8)]).empty and degenerate_partitions([]).empty


def test_report_shows_substitute_datasets_and_embeds_figures(tmp_path):
    comp = pd.DataFrame([{"paper": "P", "table": "t", "dataset": "IAPR", "method": "KM", "variant": "",
                          "metric": "acc", "reported": 0.5, "reproduced": None, "std": None, "n_seeds": 0,
                          "diff": None, "verdict": "data absent", "erratum": False}])
    summary = pd.DataFrame([{"dataset": "MSRC-v1", "method": "KM", "acc": "0.730 ± 0.020"}])
    save_section("a", "A", comparison=comp, summary=summary, profile="full", out_dir=tmp_path)
    (tmp_path / "figures" / "idmc").mkdir(parents=True)
    (tmp_path / "figures" / "idmc" / "fig4.png").write_bytes(b"")
    text = build_report(tmp_path, records=[]).read_text()
    section = text[text.index("## A"):text.index("## Other figures")]  # no notebook saves idmc/fig4
    assert "Data absent here: IAPR" in section and "| MSRC-v1 " in section and "0.730 ± 0.020" in section
    assert "![idmc/fig4](figures/idmc/fig4.png)" in text


def test_smoke_profile_gives_no_fidelity_verdict(tmp_path):
    summary = summarize(_results([{"method": "km", "method_label": "KM", "seed": 0, "acc": 0.9, "params": {}}]))
    reported = pd.DataFrame([{"paper": "P", "table": "t", "dataset": "Event", "method": "KM", "metric": "acc",
                              "value": 0.4, "variant": ""}])
    comp = compare(summary, reported, tolerance=get_profile("smoke").tolerance)
    assert list(comp.verdict) == ["short training: not compared"]
    save_section("s", "S", comparison=comp, profile="smoke", out_dir=tmp_path)
    text = build_report(tmp_path, records=[]).read_text()
    assert "**Smoke profile**" in text
    counts = summary_table(comp, pd.DataFrame(columns=["paper", "verdict"])).iloc[0]
    assert counts["short training: not compared"] == 1 and counts["cells compared"] == 0 and counts["worse"] == 0


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")

    class Boom(Exception):
        pass

    from mmc_core.io import atomic_write

    def half_write(tmp):
        tmp.write_text("half")
        raise Boom

    with pytest.raises(Boom):
        atomic_write(target, half_write)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(ValueError, match="smoke, quick, full"):
        get_profile("fast")


def test_settings_accept_datasets_as_a_comma_separated_string(needs_event):
    """papermill's -p passes strings: "Event,MSRC-v1" means two datasets, not a list of characters."""
    defaults = {"smoke": ["MSRC-v1"], "quick": ["MSRC-v1"], "full": ["MSRC-v1"]}
    run = resolve_settings("smoke", None, None, "Event, Caltech-2V", defaults)
    assert run.datasets == ["Event"] and list(run.absent) == ["Caltech-2V"]
    assert resolve_settings("smoke", None, None, None, defaults).datasets == ["MSRC-v1"]
    with pytest.raises(ValueError, match="Unknown dataset"):
        resolve_settings("smoke", None, None, "Evnt", defaults)


def test_choose_methods_narrows_in_the_notebooks_order():
    """`-p methods idmc,amkm` runs those two, in the notebook's order; None runs all; a typo is a clear error."""
    available = ["km", "amkm", "simvc", "idmc"]
    assert choose_methods(None, available) == available
    assert choose_methods("IDMC, amkm", available) == ["amkm", "idmc"]
    assert choose_methods(["simvc"], available) == ["simvc"]
    with pytest.raises(ValueError, match="idmcc"):
        choose_methods("idmcc", available)
    with pytest.raises(ValueError, match="nothing"):
        choose_methods("", available)


def test_a_label_names_the_row_but_not_the_run():
    """A label is not part of a run's identity: config id and cache path, hence the shipped runs' ids, stay as
    they were without it."""
    params = {"device": "auto", "disable": ("feature_consistency",)}
    plain = make_grid([("sdcib", params)], ["Event"], 1)[0]
    labelled = make_grid([("sdcib", params, "remove I(H;H)")], ["Event"], 1)[0]
    assert labelled.label == "remove I(H;H)" and plain.label is None and "label" not in labelled.config
    assert labelled.config_id == plain.config_id
    shipped = sorted(settings_module.REFERENCE_RUNS_DIR.rglob("seed0.json"))
    assert shipped, "reference/runs/ holds shipped runs"
    for path in shipped:
        record = json.loads(path.read_text())
        spec = runner.RunSpec(record["method"], record["dataset"], 0, record["params"], record["scaling"],
                              tuple(record.get("outputs", ())), label="a row")
        assert spec.cache_path(settings_module.REFERENCE_RUNS_DIR) == path, "a labelled spec finds its shipped run"


def test_labels_come_from_the_specs_not_the_stored_records(tmp_path, monkeypatch, needs_data):
    specs = make_grid(["amkm"], [DATASET], 2)
    run_grid(specs, cache_dir=tmp_path / "store", progress=False)  # stored without labels
    assert all("label" not in json.loads(s.cache_path(tmp_path / "store").read_text()) for s in specs)
    labelled = make_grid([("amkm", {}, "AmKM row")], [DATASET], 2)
    monkeypatch.setattr(settings_module, "REFERENCE_RUNS_DIR", tmp_path / "store")
    read = RunSettings(get_profile("reference"), 2, None, [DATASET], {}, "auto").grid(labelled)
    assert list(read.label) == ["AmKM row"] * 2 and list(summarize(read).row) == ["AmKM row"]
    monkeypatch.setenv("MMC_RESULTS_DIR", str(tmp_path / "results"))
    computed = RunSettings(get_profile("smoke"), 1, 2, [DATASET], {}, "auto").grid(labelled[:1])
    assert list(computed.label) == ["AmKM row"]
    assert list(summarize(run_grid(specs, cache_dir=tmp_path / "store", progress=False)).row) == [""]
    with pytest.raises(ValueError, match="two labels"):
        runner.label_runs(read, labelled + make_grid([("amkm", {}, "another row")], [DATASET], 1))


DEFAULTS = {"smoke": ["MSRC-v1"], "quick": ["MSRC-v1"], "full": ["MSRC-v1"]}


@pytest.mark.parametrize("name", ["seeds", "epochs"])
@pytest.mark.parametrize("bad", ["abc", 2.5, 0, -1, True])
def test_settings_refuse_a_bad_count_naming_it(name, bad):
    """`-p seeds abc`, `-p seeds 2.5` and `-p seeds 0` are refused by name, with the value and a good example."""
    counts = {"seeds": None, "epochs": None, name: bad}
    with pytest.raises(ValueError, match=re.escape(f"{name}={bad!r} is not valid") + rf".*e\.g\. -p {name} 5"):
        resolve_settings("smoke", counts["seeds"], counts["epochs"], None, DEFAULTS)


def test_settings_take_counts_as_papermill_passes_them():
    run = resolve_settings("smoke", "3", 4, None, DEFAULTS)
    assert (run.seeds, run.epochs) == (3, 4)
    run = resolve_settings("full", None, None, None, DEFAULTS)
    assert (run.seeds, run.epochs) == (20, None), "None takes the profile's"


def test_settings_refuse_an_unknown_device_or_profile():
    for good in ("auto", "cpu", "cuda", "cuda:1"):  # at reference nothing trains: a GPU absent here is no error
        assert resolve_settings("reference", None, None, None, DEFAULTS, good).device == good
    for bad in ("gpu", "cuda:", "CPU", 0):
        with pytest.raises(ValueError, match=re.escape(f"device={bad!r} is not valid") + r".*-p device cpu"):
            resolve_settings("smoke", None, None, None, DEFAULTS, bad)
    with pytest.raises(ValueError, match=r"profile='fast' is not valid.*smoke, quick, full, reference.*-p profile"):
        resolve_settings("fast", None, None, None, DEFAULTS)
