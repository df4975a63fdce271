"""The readings study: silent choices as data, sensitivity tables, the label-free choice, the ledger, and the data
rule that SDCIB's preprocessing now follows."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from mmc_core.data import get_entry, list_datasets, load_dataset
from mmc_core.experiments import RunSpec
from mmc_core.experiments.claims import Claim
from mmc_core.experiments.plots import tornado
from mmc_core.experiments.selection import preprocessing_rule
from mmc_core.experiments.sensitivity import (LEDGER_COLUMNS, adopted_fit, agreement, claims_by_column,
                                              claims_by_reading, influential_pairs, ledger, reading_specs, select, sensitivity,
                                              sensitivity_study)
from mmc_core.experiments.silent_choices import (FIXED_DEFAULT, SILENT_CHOICES, paired_reading, silent_choices,
                                                 study_readings)

STABLE = np.repeat(np.arange(8), 4)  # Event has k = 8


def runs(dataset: str, reading: str, scaling: str, accs: list[float], stable: bool, seeds=None) -> list[dict]:
    rng = np.random.default_rng(len(reading))
    out = []
    for seed, acc in zip(seeds or range(len(accs)), accs):
        labels = STABLE if stable else rng.integers(8, size=32)
        out.append({"dataset": dataset, "label": reading, "scaling": scaling, "seed": seed, "acc": acc,
                    "nmi": acc / 2, "labels": list(labels), "method_label": "SDCIB", "method": "sdcib",
                    "params": {}, "seconds": 1.0})
    return out


@pytest.fixture
def study() -> pd.DataFrame:
    rows = (runs("Event", FIXED_DEFAULT, "minmax", [0.30, 0.32, 0.28], stable=False)
            + runs("Event", "l2-normalised rows", "l2", [0.50, 0.52, 0.48], stable=True)
            + runs("Event", "width 512", "minmax", [0.60, 0.61, 0.59], stable=True))
    return pd.DataFrame(rows)


def test_sensitivity_measures_each_reading_against_the_fixed_default_on_the_same_seeds(study):
    table = sensitivity(study).set_index("reading")
    assert table.loc["l2-normalised rows", "d_acc"] == pytest.approx(0.20)
    assert table.loc["width 512", "d_nmi"] == pytest.approx(0.15)
    assert table.loc[FIXED_DEFAULT, "d_acc"] == 0
    assert table.loc["l2-normalised rows", "stability"] == pytest.approx(1.0)
    assert table.loc[FIXED_DEFAULT, "stability"] < 0.2
    assert table.loc[FIXED_DEFAULT, "partition_change"] == pytest.approx(0.0)  # measured against itself
    assert table.loc["width 512", "partition_change"] > 0.8  # stable partitions vs the default's random ones
    with pytest.raises(ValueError, match="other seeds"):
        sensitivity(pd.concat([study, pd.DataFrame(runs("Event", "tau 1.0", "minmax", [0.3, 0.3, 0.3], True,
                                                             seeds=[5, 6, 7]))]))
    with pytest.raises(ValueError, match="keep_labels"):
        sensitivity(study.drop(columns="labels"))
    with pytest.raises(ValueError, match="base reading"):
        sensitivity(study[study.label != FIXED_DEFAULT])


def test_the_data_rule_restricts_the_label_free_choice_and_the_oracle_is_kept_apart(study):
    table = sensitivity(study)
    by_rule = select(table, {"Event": "l2"}).iloc[0]
    assert by_rule["label-free choice"] == "l2-normalised rows"  # the only reading on the rule's scaling
    assert by_rule["oracle choice"] == "width 512"  # the highest ACC, by labels
    assert not by_rule["label-free = oracle"]
    assert by_rule["label-free cost"] == pytest.approx(0.10)
    stable_tie = select(table).iloc[0]  # no rule: the most stable of every reading
    assert stable_tie["label-free choice"] in {"l2-normalised rows", "width 512"}
    collapsed = table.copy()
    collapsed.loc[collapsed.reading == "l2-normalised rows", "clusters_used"] = 1.0  # all in one cluster: stable
    assert select(collapsed).iloc[0]["stability choice"] == "width 512"  # ... but passed over
    with pytest.raises(ValueError, match="no reading ran on it"):
        select(table, {"Event": "zscore"})
    assert "label-free choice = oracle on 0 of 1" in agreement(select(table, {"Event": "l2"}))


def test_the_adopted_default_is_compared_with_each_datasets_label_free_choice(study):
    table = sensitivity(study)
    choice = select(table, {"Event": "l2"})  # picks l2-normalised rows
    assert adopted_fit(table, choice, "l2-normalised rows").endswith("Event: picks the default")
    assert "Event: picks l2-normalised rows (0.500) over the default width 512 (0.600)" in adopted_fit(
        table, choice, "width 512")
    with pytest.raises(ValueError, match="not run on every dataset"):
        adopted_fit(table, choice, "tau 1.0")


def test_the_ledger_shows_four_columns_and_how_far_the_printed_value_is(study):
    table = sensitivity(study)
    out = ledger(table, select(table, {"Event": "l2"}), {("Event", "acc"): 0.565, ("Event", "nmi"): 0.364},
                 "SDCIB", "SDCIB")
    assert list(out.cell) == ["ACC", "NMI"]
    acc = out.iloc[0]
    assert acc[LEDGER_COLUMNS[0]] == "0.565"
    assert acc[LEDGER_COLUMNS[1]].startswith(f"{FIXED_DEFAULT}: 0.300 ± 0.020")
    assert acc[LEDGER_COLUMNS[2]].startswith("l2-normalised rows: 0.500")
    assert acc[LEDGER_COLUMNS[3]].startswith("width 512: 0.600")
    assert acc["label-free - printed"] == pytest.approx(-0.065)
    assert acc["best reading - printed"] == pytest.approx(0.035)
    substitute = ledger(table, select(table, {"Event": "l2"}), {}, "IDMC", "IDMC").iloc[0]  # no printed cell
    assert substitute[LEDGER_COLUMNS[0]] == "not printed (substitute)" and np.isnan(substitute["label-free - printed"])


def test_claims_are_retested_with_the_methods_row_from_each_column(study):
    table = sensitivity(study)
    choice = select(table, {"Event": "l2"})
    mine = {r: pd.DataFrame({"dataset": ["Event"], "method_label": ["SDCIB"], "acc_mean": [m]})
            for r, m in table.set_index("reading").acc_mean.items()}
    others = pd.DataFrame({"dataset": ["Event"], "method_label": ["KM"], "acc_mean": [0.55]})

    def test(rows):
        r = rows.set_index("method_label").acc_mean
        ok = r["SDCIB"] > r["KM"]
        return [Claim("SDCIB", "beats KM", "Event", "holds" if ok else "does not hold", f"{r['SDCIB']:.2f}")]

    out = claims_by_column(choice, mine, others, test, "SDCIB").iloc[0]
    assert out.cell == "claim: beats KM" and out.dataset == "Event"
    assert out[LEDGER_COLUMNS[0]] == "claimed by the paper"
    assert out[LEDGER_COLUMNS[1]] == f"does not hold ({FIXED_DEFAULT}): 0.30"
    assert out[LEDGER_COLUMNS[2]] == "does not hold (l2-normalised rows): 0.50"
    assert out[LEDGER_COLUMNS[3]] == "holds (width 512): 0.60"


def test_baseline_departures_are_silent_choices_that_no_study_runs():
    from mmc_core.experiments.report import baseline_departure_lines
    from mmc_core.experiments.silent_choices import PAPER_METHODS, baseline_departures

    table = baseline_departures()
    assert list(table.columns) == ["method", "choice", "ours", "authors'", "why"]
    assert not set(table.method) & set(PAPER_METHODS)
    assert {"eamc", "sem", "sslnmvc", "demvc", "multimap"} <= set(table.method)
    assert (table[["choice", "ours", "authors'", "why"]] != "").all().all()
    baselines = [c for c in SILENT_CHOICES if c.method not in PAPER_METHODS]
    assert all(not c.studied for c in baselines)  # no study runs them: the papers' studies are unchanged
    eamc = silent_choices("eamc").set_index("choice")
    assert "6e-5" in eamc.loc["learning rates", "alternatives"] and "1e-5" in eamc.loc["learning rates", "adopted"]
    for name in ("sslnmvc", "demvc"):
        assert silent_choices(name).why.str.contains("differs only").any()
    text = "\n".join(baseline_departure_lines())
    assert text.startswith("## Baselines: departures from the authors' code")
    assert max(len(line) for line in text.splitlines()) <= 100, "readable in a 100-column terminal"
    assert all(f"**{m}**" in text for m in set(table.method))


def test_silent_choices_are_data_and_studies_change_one_choice_at_a_time():
    table = silent_choices("sdcib")
    assert {"choice", "adopted", "alternatives", "why", "chosen by", "studied"} <= set(table.columns)
    readings = study_readings("sdcib")
    assert next(iter(readings)) == FIXED_DEFAULT and readings[FIXED_DEFAULT].scaling == "minmax"
    width = readings["width 512"]  # the fixed default's parameters (balance="none", as studied) plus the change
    assert width.scaling == "minmax" and width.params == {"balance": "none", "width": 512}
    assert readings["l2-normalised rows"].scaling == "l2"
    assert readings["l2-normalised rows"].params == {"balance": "none"}
    only = study_readings("sdcib", "input preprocessing")
    assert set(only) == {FIXED_DEFAULT, "l2-normalised rows", "z-scored features", "raw features"}
    names = [r.name for c in SILENT_CHOICES for r in c.studied if c.method == "sdcib"]
    assert len(names) == len(set(names)), "a reading name must be unique: it labels the runs"
    with pytest.raises(ValueError, match="No readings study"):
        study_readings("simvc")
    with pytest.raises(ValueError, match="No studied readings"):
        study_readings("sdcib", "model selection")
    idmc = study_readings("idmc")  # the fixed default stays the printed Eq. 15 after the ratio became the default
    assert idmc[FIXED_DEFAULT].params == {"label_term": "paper"} and idmc["Eq. 15 as a ratio"].params == {
        "label_term": "ratio"}
    with pytest.raises(ValueError, match="No silent choices"):
        silent_choices("nope")
    specs = reading_specs("sdcib", only, ["Event"], 2, {"epochs": 3})
    assert len(specs) == 8 and {s.label for s in specs} == set(only)
    assert {s.resolved_scaling() for s in specs} == {"minmax", "l2", "zscore", "none"}
    assert all(s.params["epochs"] == 3 for s in specs)


def test_sdcib_follows_the_data_rule_and_explicit_scaling_still_wins():
    assert RunSpec("sdcib", "Event", 0).resolved_scaling() == "l2"
    assert RunSpec("sdcib", "MSRC-v1", 0).resolved_scaling() == "minmax"
    assert RunSpec("sdcib", "Event", 0, scaling="minmax").resolved_scaling() == "minmax"
    assert RunSpec("idmc", "Event", 0).resolved_scaling() == "minmax"  # the rule was adopted for SDCIB only


@pytest.mark.parametrize("name", [n for n in list_datasets().query("available and kind == 'multiview'").name])
def test_the_registry_flag_is_what_the_rule_finds_in_the_files(name):
    views = load_dataset(name).views
    assert get_entry(name).bag_of_words == (preprocessing_rule(views) == "l2"), (
        f"{name}: set bag_of_words: {preprocessing_rule(views) == 'l2'} in data/registry.yaml")


def test_tornado_draws_one_bar_per_reading_and_the_printed_line(study):
    matplotlib.use("Agg")
    fig = tornado(sensitivity(study), "Event", {"acc": 0.565})
    acc_axis = fig.axes[0]
    assert len(acc_axis.patches) == 2  # the two readings other than the fixed default
    assert [round(p.get_width(), 3) for p in acc_axis.patches] == [0.2, 0.3]  # widest on top
    dashed = [line for line in acc_axis.lines if line.get_linestyle() == "--"]
    assert dashed and dashed[0].get_xdata()[0] == pytest.approx(0.565 - 0.30)


def test_claims_by_reading_marks_the_verdicts_a_reading_changes():
    def claims(acc):
        return lambda: [Claim("SDCIB", "full beats no-hidden", "Event", "holds" if acc > 0.3 else "does not hold",
                              f"{acc:.2f}"),
                        Claim("SDCIB", "rapid convergence", "Event", "holds", "fast")]

    out = claims_by_reading({LEDGER_COLUMNS[1]: ("min-max", claims(0.2)), LEDGER_COLUMNS[2]: ("l2", claims(0.5))},
                            "SDCIB").set_index("cell")
    assert out.loc["claim: full beats no-hidden", LEDGER_COLUMNS[1]] == "does not hold (min-max): 0.20"
    assert out.loc["claim: full beats no-hidden", LEDGER_COLUMNS[2]] == "holds (l2): 0.50"
    assert out.loc["claim: full beats no-hidden", LEDGER_COLUMNS[3]] == "not run under this reading"
    assert out["verdict changed"].to_dict() == {"claim: full beats no-hidden": True, "claim: rapid convergence": False}


def test_a_tie_in_stability_keeps_the_fixed_default(study):
    table = sensitivity(study.sample(frac=1.0, random_state=0))  # the runs' order does not matter
    assert list(table.reading) == [FIXED_DEFAULT, "l2-normalised rows", "width 512"]
    table["stability"] = 0.5  # every reading as stable as the others
    assert select(table).iloc[0]["stability choice"] == FIXED_DEFAULT


def test_the_readings_that_change_the_partitions_most_are_paired_one_per_choice():
    table = pd.DataFrame({"dataset": "Event", "reading": [FIXED_DEFAULT, "width 512", "width 128", "l2-normalised rows",
                                                          "alpha 0.8", "tau 1.0"],
                          "partition_change": [0.0, 0.9, 0.8, 0.7, 0.5, 0.1]})
    pairs = influential_pairs("sdcib", table, "Event")  # width 128: the width is already in, by width 512
    assert list(pairs) == ["width 512 + l2-normalised rows", "width 512 + alpha 0.8", "l2-normalised rows + alpha 0.8"]
    both = pairs["width 512 + l2-normalised rows"]
    assert both.scaling == "l2" and both.params == {"balance": "none", "width": 512}
    assert pairs["width 512 + alpha 0.8"].scaling == "minmax"
    with pytest.raises(ValueError, match="fixed default"):
        paired_reading("idmc", "Eq. 15 as a ratio", FIXED_DEFAULT)
    with pytest.raises(ValueError, match="one choice"):
        paired_reading("sdcib", "width 512", "width 128")
    with pytest.raises(ValueError, match="fewer than two"):
        influential_pairs("sdcib", table[table.reading.isin([FIXED_DEFAULT, "width 512", "width 128"])], "Event")


def test_a_pair_keeps_both_changes_when_the_fixed_default_names_the_parameter_one_of_them_changes():
    # DDMC's fixed default names beta 0.1: "beta 1" must survive being paired second or first
    for first, second in (("alpha 1", "beta 1"), ("beta 1", "alpha 1")):
        assert paired_reading("ddmc", first, second).params == {"alpha": 1.0, "beta": 1.0}
    assert paired_reading("ddmc", "alpha 1", "tau 1.0").params == {"alpha": 1.0, "beta": 0.1, "tau": 1.0}


def test_a_pair_can_be_the_oracle_but_never_the_label_free_choice(study):
    pair = pd.DataFrame(runs("Event", "l2-normalised rows + width 512", "l2", [0.9, 0.9, 0.9], stable=True))
    shaky_l2 = study.assign(labels=[list(np.random.default_rng(i).integers(8, size=32)) if r == "l2-normalised rows"
                                    else p for i, (r, p) in enumerate(zip(study.label, study.labels))])
    choice = select(sensitivity(pd.concat([shaky_l2, pair], ignore_index=True)), {"Event": "l2"}).iloc[0]
    assert choice["label-free choice"] == "l2-normalised rows"  # the pair is more stable, on the rule's scaling
    assert choice["stability choice"] == "width 512"
    assert choice["oracle choice"] == "l2-normalised rows + width 512"


def test_a_study_runs_the_pairs_of_its_own_single_readings_on_each_dataset():
    stable = {FIXED_DEFAULT: False, "l2-normalised rows": True, "width 512": True}

    class Run:  # the runner's face: grid(specs) -> one row per run, deep_params()
        asked: list[list[RunSpec]] = []

        def deep_params(self):
            return {"epochs": 2}

        def grid(self, specs, n_jobs=1, keep_labels=False):
            self.asked.append(specs)
            return pd.DataFrame([r for s in specs for r in runs(s.dataset, s.label, s.resolved_scaling(), [0.3],
                                                                 stable.get(s.label, True), seeds=[s.seed])])

    readings = {name: study_readings("sdcib")[name] for name in stable}
    results = sensitivity_study(Run(), "sdcib", ["Event"], 3, readings=readings)
    singles, pairs = Run.asked
    assert {s.label for s in singles} == set(stable) and all(s.params["epochs"] == 2 for s in singles)
    assert {s.label for s in pairs} == {"l2-normalised rows + width 512"} and {s.seed for s in pairs} == {0, 1, 2}
    assert len(results) == 4 * 3 and set(sensitivity(results).reading) == set(stable) | {s.label for s in pairs}


def test_multidproxy_readings_are_measured_per_asked_concept_against_the_held_out_choice():
    from mmc_core.multiclust import study
    from mmc_core.multiclust.summary import concept_sensitivity, held_out_choice

    summary = pd.DataFrame({"dataset": "Planted", "label": [FIXED_DEFAULT, "sigma 1.0"] * 2,
                            "concept": ["colour", "colour", "shape", "shape"], "nmi_mean": [0.6, 0.7, 0.9, 0.8],
                            "nmi_std": 0.05, "other_nmi_mean": 0.01, "n_seeds": 5})
    table = concept_sensitivity(summary, FIXED_DEFAULT).set_index(["dataset", "reading"])
    assert table.loc[("planted, asked colour", "sigma 1.0"), "d_nmi"] == pytest.approx(0.1)
    assert table.loc[("planted, asked shape", "sigma 1.0"), "d_nmi"] == pytest.approx(-0.1)
    choice = held_out_choice(table.reset_index(), FIXED_DEFAULT).set_index("dataset")
    assert choice.loc["planted, asked colour", "oracle choice"] == "sigma 1.0"
    assert choice.loc["planted, asked shape", "oracle choice"] == FIXED_DEFAULT
    out = ledger(table.reset_index(), choice.reset_index(), {}, "Multi-DProxy", "Multi-DProxy", metrics=("nmi",))
    assert list(out.cell) == ["NMI", "NMI"] and out[LEDGER_COLUMNS[3]].iloc[0].startswith("sigma 1.0: 0.700")
    with pytest.raises(ValueError, match="base reading"):
        concept_sensitivity(summary[summary.label != FIXED_DEFAULT], FIXED_DEFAULT)
    # the fixed default is the ablation table's full row: the same runs, not a second set
    fixed = {r.config_id for r in study.sensitivity_runs((1,)) if r.label == FIXED_DEFAULT}
    assert fixed == {r.config_id for r in study.ablation_runs((1,)) if r.label == "Multi-DProxy"}
    assert len(study.sensitivity_runs((1, 2))) == 2 * 2 * len(study_readings("multidproxy"))


def test_a_readings_study_shows_its_own_datasets_in_the_reference_profile():
    from mmc_core.experiments.settings import resolve_settings

    every = resolve_settings("reference", None, None, None, {"full": ["Event"]})
    own = resolve_settings("reference", None, None, None, {"full": ["Event"]}, every_shipped=False)
    assert own.datasets == ["Event"] and {"Event", "3Sources", "BBCSport"} <= set(every.datasets)
