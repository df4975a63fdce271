"""The papers' claims as library functions (experiments.claims): each verdict computed from small hand-made frames
(round made-up means, none taken from a paper: printed values live only in data/reported) that carry means, stds
and seed counts, and each flips when one number moves: from "holds" to "inconclusive" when the 95% interval of a
difference starts to span the margin (a closer mean, a wider spread, fewer seeds), and to "does not hold" when the
interval lies wholly on the wrong side."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmc_core.experiments import claims as c
from mmc_core.experiments.profiles import get_profile

REF, QUICK, SMOKE = get_profile("reference"), get_profile("quick"), get_profile("smoke")
FULL = get_profile("full")
STD, N = 0.01, 5  # the default row: with these, two rows' Welch interval is diff +- 0.0146 (t at 8 df)
HOLDS, FAILS, INCONCLUSIVE, NOT_DECIDED = "holds", "does not hold", "inconclusive", "not decided"

Cell = float | tuple  # a mean, or (mean, std, n) for a row that differs from the default


def _row(value: Cell, std: float = STD, n: int = N) -> dict:
    mean, std, n = value if isinstance(value, tuple) else (value, std, n)
    return {"acc_mean": mean, "acc_std": std, "n_seeds": n}


def _summary(means: dict[str, dict[str, Cell]], column: str = "row", std: float = STD, n: int = N) -> pd.DataFrame:
    """A summary frame from {dataset: {row: mean ACC or (mean, std, n)}}, shaped like experiments.summarize's:
    acc_mean, acc_std and n_seeds (default std and n for the rows given as a bare mean)."""
    return pd.DataFrame([{"dataset": d, column: r, **_row(v, std, n)} for d, rows in means.items()
                         for r, v in rows.items()])


def _comparison(acc: float | None, nmi: float | None, dataset: str = "Event", std: float = STD,
                n: int = N) -> pd.DataFrame:
    """Made-up printed Event cells for SDCIB (ACC 0.500, NMI 0.300: not the paper's, which only data/reported holds)
    next to the given reproductions (None: not run), shaped like experiments.compare's (reproduced, std, n_seeds)."""
    return pd.DataFrame([
        {"dataset": dataset, "method": "SDCIB", "metric": m, "reported": printed,
         "reproduced": np.nan if ours is None else ours, "std": np.nan if ours is None else std,
         "n_seeds": 0 if ours is None else n}
        for m, printed, ours in (("acc", 0.500, acc), ("nmi", 0.300, nmi))
    ] + [{"dataset": "Event", "method": "KM", "metric": "acc", "reported": 0.400, "reproduced": 0.411, "std": STD,
          "n_seeds": N}])


# Event fidelity ------------------------------------------------------------------------------------------------

def test_event_fidelity_is_not_testable_when_event_was_not_run():
    for comparison in (_comparison(None, None), _comparison(0.505, 0.296, dataset="MSRC-v1")):
        claim = c.event_fidelity(comparison, REF)
        assert claim.verdict == "not testable here" and claim.evidence == "Event not run"


def test_event_fidelity_within_and_outside_two_points():
    inside = c.event_fidelity(_comparison(0.505, 0.296), REF)
    assert inside.verdict == HOLDS and inside.claim == "Event: SDCIB reproduces the printed ACC/NMI within 2 points"
    # t(4) = 2.776: our mean +- 0.0124 at std 0.01, n 5 (by hand), relative to the printed value
    assert inside.evidence == ("ACC 0.505 (n=5) vs printed 0.500 (ours - printed in [-0.007, +0.017]): within "
                               "tolerance; NMI 0.296 (n=5) vs printed 0.300 (ours - printed in [-0.016, +0.008]): "
                               "within tolerance")
    # the same means with a wider spread, or too few seeds, no longer fit inside the band: inconclusive
    assert c.event_fidelity(_comparison(0.505, 0.296, std=0.03), REF).verdict == INCONCLUSIVE
    assert c.event_fidelity(_comparison(0.505, 0.296, n=2), REF).verdict == INCONCLUSIVE
    one = c.event_fidelity(_comparison(0.505, 0.296, n=1), REF)
    assert one.verdict == INCONCLUSIVE and "no interval" in one.evidence
    assert "short rows (n < 5): Event ACC n=1, Event NMI n=1" in one.evidence
    # ACC 3.5 points above printed, its whole interval outside the band: "better" is a miss too
    above = c.event_fidelity(_comparison(0.535, 0.296), REF)
    assert above.verdict == FAILS and "ACC 0.535 (n=5) vs printed 0.500" in above.evidence and ": better" in above.evidence
    assert c.event_fidelity(_comparison(0.238, 0.120), REF).verdict == FAILS
    # quick's 20-epoch training is not the papers' protocol: it gives no verdict, not a miss blamed on the method
    assert c.event_fidelity(_comparison(0.535, 0.296), QUICK).verdict == c.NOT_TESTABLE
    loose = c.event_fidelity(_comparison(0.535, 0.296), REF, tolerance=0.05)
    assert loose.verdict == HOLDS and loose.claim.endswith("within 5 points")


def test_event_fidelity_concludes_nothing_at_smoke():
    claim = c.event_fidelity(_comparison(0.238, 0.120), SMOKE)
    assert claim.verdict == "not testable here" and "ACC 0.238" in claim.evidence


def test_every_claim_is_not_testable_at_smoke():
    summary = _summary({"Event": {"full": 0.6, "remove I(Y;Y)": 0.5, "remove I(H;H)": 0.5, "remove both": 0.4,
                                  "no hidden": 0.5}})
    for claim in (c.each_component_contributes(summary, SMOKE), c.removing_both_hurts_most(summary, SMOKE),
                  c.hidden_terms_help(summary, SMOKE)):
        assert claim.verdict == "not testable here"
    assert c.each_component_contributes(summary, REF).verdict == HOLDS


def test_verdicts_are_the_new_five():
    assert c.VERDICTS == (HOLDS, FAILS, INCONCLUSIVE, NOT_DECIDED, "not testable here")
    with pytest.raises(ValueError, match="verdict must be one of"):
        c.Claim("P", "x", "Event", "mixed", "")


# Shared claims -----------------------------------------------------------------------------------------------

def _baselines(dealmvc: Cell) -> pd.DataFrame:
    return _summary({"Event": {"SDCIB": 0.60, "KM": 0.36, "DealMVC": dealmvc}}, column="method_label")


def test_beats_every_baseline_flips_with_the_best_other_row():
    claim = c.beats_every_baseline(_baselines(0.558), "SDCIB", ["Event"], REF)
    assert claim.verdict == HOLDS and claim.data == "Event" and claim.paper == "SDCIB"
    assert claim.evidence == ("Event: vs best other SDCIB 0.600 (n=5) vs DealMVC 0.558 (n=5): +0.042 [+0.027, +0.057] "
                              "-> holds; decisively beats 2 of 2 others")
    closer = c.beats_every_baseline(_baselines(0.59), "SDCIB", ["Event"], REF)  # +0.010: the interval spans 0
    assert closer.verdict == INCONCLUSIVE and "decisively beats 1 of 2 others" in closer.evidence
    assert "interval spans the margin" in closer.evidence
    # the same means, DealMVC spread over 0.05: inconclusive
    assert c.beats_every_baseline(_baselines((0.558, 0.05, 5)), "SDCIB", ["Event"], REF).verdict == INCONCLUSIVE
    assert c.beats_every_baseline(_baselines(0.63), "SDCIB", ["Event"], REF).verdict == FAILS
    narrowed = c.beats_every_baseline(_baselines(0.63), "SDCIB", ["Event"], REF, narrowed=True)
    assert narrowed.claim.endswith("— only the rows run: DealMVC, KM, SDCIB")


def test_beats_every_baseline_names_the_rows_not_run():
    rows = _summary({"MSRC-v1": {"DDMC": 0.7, "KM": 0.6, "SEM": 0.65}}, column="method_label")
    assert c.beats_every_baseline(rows, "DDMC", ["MSRC-v1"], REF).verdict == HOLDS
    claim = c.beats_every_baseline(rows, "DDMC", ["MSRC-v1"], REF, expected=["DDMC", "KM", "SEM", "DEMVC"])
    # whatever the rows run say, a baseline not run leaves the headline claim open
    assert claim.verdict == NOT_DECIDED and claim.evidence.startswith("rows not run: MSRC-v1: DEMVC; ")
    rows.loc[rows.method_label == "SEM", "acc_mean"] = 0.75
    assert c.beats_every_baseline(rows, "DDMC", ["MSRC-v1"], REF).verdict == FAILS
    assert c.beats_every_baseline(rows, "DDMC", ["MSRC-v1"], REF, expected=["DEMVC"]).verdict == NOT_DECIDED


def test_converges_fast_flips_with_a_slow_loss_and_skips_short_runs():
    n = 20
    fast = pd.DataFrame({"total": [10.0] + [1.0] * (n - 1), "acc": [0.5] * n})
    claim = c.converges_fast({"Event": fast, "MSRC-v1": fast.head(3)}, REF, "SDCIB", "rapid")
    assert claim.verdict == HOLDS and claim.data == "Event, MSRC-v1"
    assert claim.claim.startswith("rapid convergence (80% of the loss decrease in the first 20% of epochs, "
                                  "last-quarter ACC range < 0.05)")
    assert claim.evidence.startswith("Event (n=1 run): 100% of the loss decrease") and "MSRC-v1" not in claim.evidence
    slow = fast.assign(total=np.linspace(10, 1, n))
    assert c.converges_fast({"Event": slow}, REF, "IDMC").verdict == FAILS
    # a per-run property: one slow run fails the claim (no "mixed")
    assert c.converges_fast({"Event": fast, "MSRC-v1": slow}, REF, "IDMC").verdict == FAILS
    short = c.converges_fast({"Event": fast.head(3)}, REF, "IDMC")
    assert short.verdict == "not testable here" and short.evidence == "too few epochs"


# IDMC --------------------------------------------------------------------------------------------------------

def _amkm(min_max: Cell) -> pd.DataFrame:
    return _summary({"MSRC-v1": {"IDMC": 0.708, "AmKM": 0.450, "AmKM (min-max)": min_max}}, column="method_label")


def test_idmc_beats_amkm_on_raw_and_min_max_inputs():
    claim = c.idmc_beats_amkm(_amkm(0.680), REF)
    assert claim.verdict == HOLDS and claim.data == "MSRC-v1"
    assert claim.evidence == ("MSRC-v1: IDMC 0.708 (n=5) vs AmKM 0.450 (n=5): +0.258 [+0.243, +0.273] -> holds; "
                              "IDMC 0.708 (n=5) vs AmKM (min-max) 0.680 (n=5): +0.028 [+0.013, +0.043] -> holds")
    assert c.idmc_beats_amkm(_amkm(0.700), REF).verdict == INCONCLUSIVE  # +0.008: the interval spans 0
    assert c.idmc_beats_amkm(_amkm((0.680, 0.04, 5)), REF).verdict == INCONCLUSIVE
    assert c.idmc_beats_amkm(_amkm(0.829), REF).verdict == FAILS
    rows = _amkm(0.829)
    missing = c.idmc_beats_amkm(rows[rows.method_label != "AmKM (min-max)"], REF)
    assert missing.verdict == "not testable here" and missing.data == "none of Handwritten, MSRC-v1, Scene-15, CMU-MOSI run"


def _idmc_ablation(ddc: Cell, kl: Cell) -> pd.DataFrame:
    return _summary({"MSRC-v1": {"full": 0.8, "w/o L_DDC": ddc, "w/o L_KL": kl, "w/o L_align": 0.78,
                                 "w/o L_recon": 0.72}})


def test_relative_drop_is_the_share_of_the_full_models_acc():
    drop = c.relative_drop(_idmc_ablation(0.4, 0.7))
    assert list(drop.columns) == ["w/o L_DDC", "w/o L_KL", "w/o L_align", "w/o L_recon"]
    assert drop.loc["MSRC-v1", "w/o L_DDC"] == pytest.approx(0.5)


def test_removing_ddc_costs_at_least_40_percent():
    claim = c.ddc_removal_costs_most(_idmc_ablation(0.4, 0.7), REF)
    assert claim.verdict == HOLDS
    assert claim.evidence == ("MSRC-v1 w/o L_DDC: costs 50.0%; full 0.800 (n=5) vs w/o L_DDC 0.400 (n=5): "
                              "+50.0% [+48.2%, +51.8%] (margin +40%) -> holds")
    # costs 42.5% of 0.8 (+0.340 against a margin of 0.320): holds at std 0.01, inconclusive at 0.03 or n=2
    assert c.ddc_removal_costs_most(_idmc_ablation(0.46, 0.7), REF).verdict == HOLDS
    assert c.ddc_removal_costs_most(_idmc_ablation((0.46, 0.03, 5), 0.7), REF).verdict == INCONCLUSIVE
    assert c.ddc_removal_costs_most(_idmc_ablation((0.46, 0.01, 2), 0.7), REF).verdict == INCONCLUSIVE
    assert c.ddc_removal_costs_most(_idmc_ablation(0.47, 0.7), REF).verdict == INCONCLUSIVE  # +0.330: spans 0.320
    assert c.ddc_removal_costs_most(_idmc_ablation(0.5, 0.7), REF).verdict == FAILS  # 37.5%, wholly below 40%


def test_removing_another_loss_costs_less_than_20_percent():
    claim = c.other_removals_cost_little(_idmc_ablation(0.4, 0.7), REF)
    assert claim.verdict == HOLDS
    assert claim.evidence.startswith("MSRC-v1 w/o L_KL: costs 12.5%; w/o L_KL 0.700 (n=5) vs full 0.800 (n=5): "
                                     "-12.5% [-14.3%, -10.7%] (margin -20%) -> holds; MSRC-v1 w/o L_align: costs 2.5%")
    assert "MSRC-v1 w/o L_recon: costs 10.0%" in claim.evidence
    assert c.other_removals_cost_little(_idmc_ablation(0.4, 0.64), REF).verdict == INCONCLUSIVE  # costs 20% exactly
    assert c.other_removals_cost_little(_idmc_ablation(0.4, 0.6), REF).verdict == FAILS  # w/o L_KL costs 25%


def test_interest_ablation_order():
    order = ["IDMC", "IDMC-AVG", "IDMC w/o IV"]
    summary = _summary({"MSRC-v1": {"IDMC": 0.85, "IDMC-AVG": 0.8, "IDMC w/o IV": 0.7}})
    claim = c.interest_ablation_ordered(summary, order, REF)
    assert claim.verdict == HOLDS
    assert claim.evidence == ("MSRC-v1: IDMC 0.850 (n=5) vs IDMC-AVG 0.800 (n=5): +0.050 [+0.035, +0.065] -> holds; "
                              "IDMC-AVG 0.800 (n=5) vs IDMC w/o IV 0.700 (n=5): +0.100 [+0.085, +0.115] -> holds")
    summary.loc[2, "acc_mean"] = 0.795
    assert c.interest_ablation_ordered(summary, order, REF).verdict == INCONCLUSIVE
    summary.loc[2, "acc_mean"] = 0.841
    assert c.interest_ablation_ordered(summary, order, REF).verdict == FAILS
    absent = c.interest_ablation_ordered(summary[summary.row != "IDMC-AVG"], order, REF)
    assert absent.verdict == NOT_DECIDED and absent.evidence == "rows not run: MSRC-v1: IDMC-AVG"


def test_interest_sparsity():
    sparse = np.array([[1.0, 1.0] + [0.01] * 8, [1.0, 0.01, 1.0] + [0.01] * 7])
    claim = c.interest_is_sparse({"MSRC-v1": sparse}, REF)
    assert claim.verdict == HOLDS and claim.data == "MSRC-v1"
    assert claim.evidence.startswith("MSRC-v1 (n=1 run, 10 samples per view): half the interest held by 20%, 20% of "
                                     "the batch (per view)")
    flat = sparse.copy()
    flat[1] = np.linspace(0.5, 1.5, 10)  # the second view spreads its interest: half of it on 40% of the batch
    assert c.interest_is_sparse({"MSRC-v1": flat}, REF).verdict == FAILS  # one view fails: no "mixed" any more


def test_interest_plugs_into_comvc():
    summary = _summary({"MSRC-v1": {"CoMVC": 0.719, "CoMVC+IV": 0.786}}, column="method_label")
    claim = c.interest_plugs_in(summary, REF)
    assert claim.verdict == HOLDS
    assert claim.evidence == "MSRC-v1: CoMVC+IV 0.786 (n=5) vs CoMVC 0.719 (n=5): +0.067 [+0.052, +0.082] -> holds"
    summary.loc[1, "acc_std"] = 0.08  # the same gain over a wide spread of the plugged-in runs
    assert c.interest_plugs_in(summary, REF).verdict == INCONCLUSIVE
    summary.loc[1, ["acc_mean", "acc_std"]] = [0.7, STD]
    assert c.interest_plugs_in(summary, REF).verdict == FAILS


# SDCIB -------------------------------------------------------------------------------------------------------

def _layers(values: list[float], std: float = STD) -> pd.DataFrame:
    return _summary({"Event": {f"L={n}": v for n, v in zip(range(2, 8), values)}}, std=std)


LAYERS = [2, 3, 4, 5, 6, 7]
PEAKED = [0.29, 0.32, 0.345, 0.31, 0.28, 0.31]


def test_four_layers_best():
    claim = c.best_layer_count(_layers(PEAKED), LAYERS, REF)
    assert claim.verdict == HOLDS
    assert claim.evidence == ("Event: highest mean L=4; L=4 vs closest: L=4 0.345 (n=5) vs L=3 0.320 (n=5): "
                              "+0.025 [+0.010, +0.040] -> holds")
    assert c.best_layer_count(_layers(PEAKED, std=0.03), LAYERS, REF).verdict == INCONCLUSIVE
    assert c.best_layer_count(_layers(PEAKED[:-1] + [0.35]), LAYERS, REF).verdict == INCONCLUSIVE  # L=7 +0.005
    assert c.best_layer_count(_layers(PEAKED[:-1] + [0.37]), LAYERS, REF).verdict == FAILS
    assert c.best_layer_count(_layers([0.29, 0.32]), [2, 3], REF).verdict == "not testable here"


def test_more_layers_not_necessarily_better():
    claim = c.more_layers_not_better(_layers(PEAKED), LAYERS, REF)
    assert claim.verdict == HOLDS
    assert claim.evidence == ("Event: 0.290, 0.320, 0.345, 0.310, 0.280, 0.310; largest drop with depth: "
                              "L=4 0.345 (n=5) vs L=6 0.280 (n=5): +0.065 [+0.050, +0.080] -> holds")
    # an existential claim: inconclusive when no drop is decisive and not every one is decisively a rise
    assert c.more_layers_not_better(_layers(PEAKED, std=0.1), LAYERS, REF).verdict == INCONCLUSIVE
    assert c.more_layers_not_better(_layers([0.29, 0.32, 0.345, 0.35, 0.36, 0.37]), LAYERS, REF).verdict == INCONCLUSIVE
    increasing = _layers([0.20, 0.25, 0.30, 0.35, 0.40, 0.45])  # every deeper network decisively better
    assert c.more_layers_not_better(increasing, LAYERS, REF).verdict == FAILS


def _sdcib_ablation(both: Cell) -> pd.DataFrame:
    return _summary({"Event": {"full": 0.303, "remove I(Y;Y)": 0.398, "remove I(H;H)": 0.240, "remove both": both},
                     "MSRC-v1": {"full": 0.71, "remove I(Y;Y)": 0.557, "remove I(H;H)": 0.5, "remove both": 0.33}})


def test_removing_both_consistency_terms_hurts_most():
    claim = c.removing_both_hurts_most(_sdcib_ablation(0.20), REF)
    assert claim.verdict == HOLDS and claim.data == "Event, MSRC-v1"
    assert claim.evidence.startswith("Event: full 0.303 (n=5) vs remove both 0.200 (n=5): +0.103 [+0.088, +0.118] "
                                     "-> holds; ")
    assert "; MSRC-v1: full 0.710 (n=5) vs remove both 0.330 (n=5)" in claim.evidence
    assert c.removing_both_hurts_most(_sdcib_ablation(0.237), REF).verdict == INCONCLUSIVE  # 0.003 below I(H;H)
    assert c.removing_both_hurts_most(_sdcib_ablation(0.26), REF).verdict == FAILS
    short = c.removing_both_hurts_most(_sdcib_ablation((0.20, 0.01, 3)), REF)
    assert short.verdict == HOLDS and short.evidence.startswith("short rows (n < 5): Event remove both n=3; Event: ")
    assert "remove both 0.200 (n=3)" in short.evidence


def test_a_row_missing_on_one_dataset_leaves_the_claim_not_decided():
    summary = _sdcib_ablation(0.20)
    summary = summary[~((summary.dataset == "MSRC-v1") & (summary.row == "remove I(H;H)"))]
    claim = c.removing_both_hurts_most(summary, REF)
    assert claim.verdict == NOT_DECIDED and claim.data == "Event, MSRC-v1"
    assert claim.evidence.startswith("rows not run: MSRC-v1: remove I(H;H); Event: full 0.303 (n=5)")
    # even a failing dataset does not decide a claim with rows missing
    assert c.removing_both_hurts_most(summary.assign(acc_mean=summary.acc_mean.where(
        summary.row != "remove both", 0.9)), REF).verdict == NOT_DECIDED


def test_each_component_contributes():
    claim = c.each_component_contributes(_sdcib_ablation(0.237), REF)
    assert claim.verdict == FAILS  # Event: full 0.303 below remove I(Y;Y) 0.398 (MSRC-v1 holds)
    assert claim.evidence.startswith("Event: full 0.303 (n=5) vs remove I(Y;Y) 0.398 (n=5): -0.095 [-0.110, -0.080] "
                                     "-> does not hold; ")
    better = _sdcib_ablation(0.237)
    better.loc[0, "acc_mean"] = 0.45
    assert c.each_component_contributes(better, REF).verdict == HOLDS
    better.loc[0, "acc_mean"] = 0.40  # +0.002 over remove I(Y;Y)
    assert c.each_component_contributes(better, REF).verdict == INCONCLUSIVE


def test_hidden_terms_help():
    summary = _summary({"Event": {"full": 0.303, "no hidden": 0.263}})
    claim = c.hidden_terms_help(summary, REF)
    assert claim.verdict == HOLDS
    assert claim.evidence == "Event: full 0.303 (n=5) vs no hidden 0.263 (n=5): +0.040 [+0.025, +0.055] -> holds"
    summary.loc[1, "n_seeds"] = 1  # one seed of no-hidden: no interval, nothing decided
    one = c.hidden_terms_help(summary, REF)
    assert one.verdict == INCONCLUSIVE and "[no interval] -> inconclusive: n too small for an interval" in one.evidence
    summary.loc[1, ["acc_mean", "n_seeds"]] = [0.31, N]
    assert c.hidden_terms_help(summary, REF).verdict == INCONCLUSIVE
    summary.loc[1, "acc_mean"] = 0.33
    assert c.hidden_terms_help(summary, REF).verdict == FAILS


# DDMC ------------------------------------------------------------------------------------------------------------

def test_ddmc_ablation_order_needs_full_best_and_ddc_worst():
    good = {"full": 0.70, "DDC+FDL": 0.65, "DDC+CDL": 0.66, "DDC": 0.60}
    claim = c.ddmc_ablation_ordered(_summary({"MSRC-v1": good, "Event": good}), REF)
    assert claim.verdict == HOLDS and claim.data == "MSRC-v1, Event"
    assert "MSRC-v1: full 0.700 (n=5) vs DDC+FDL 0.650 (n=5): +0.050 [+0.035, +0.065] -> holds" in claim.evidence
    assert c.ddmc_ablation_ordered(_summary({"MSRC-v1": {**good, "DDC+CDL": 0.71}}), REF).verdict == INCONCLUSIVE
    assert c.ddmc_ablation_ordered(_summary({"MSRC-v1": {**good, "DDC+CDL": 0.73}}), REF).verdict == FAILS
    assert c.ddmc_ablation_ordered(_summary({"MSRC-v1": {**good, "DDC": 0.655}}), REF).verdict == INCONCLUSIVE
    assert c.ddmc_ablation_ordered(_summary({"MSRC-v1": {**good, "DDC": 0.67}}), REF).verdict == FAILS
    one_fails = _summary({"MSRC-v1": good, "Event": {**good, "DDC": 0.99}})  # was "mixed": one failure fails it
    assert c.ddmc_ablation_ordered(one_fails, REF).verdict == FAILS
    one_open = _summary({"MSRC-v1": good, "Event": {**good, "DDC": 0.655}})
    assert c.ddmc_ablation_ordered(one_open, REF).verdict == INCONCLUSIVE


def test_enhancement_beats_fusion_per_dataset():
    summary = _summary({"MSRC-v1": {"enhance": 0.64, "fuse": 0.72}, "Event": {"enhance": 0.50, "fuse": 0.45}})
    claim = c.enhancement_beats_fusion(summary, REF)
    assert claim.verdict == FAILS and "MSRC-v1: enhance 0.640 (n=5) vs fuse 0.720 (n=5)" in claim.evidence
    summary.loc[summary.row == "enhance", "acc_mean"] = 0.9
    assert c.enhancement_beats_fusion(summary, REF).verdict == HOLDS
    summary.loc[(summary.row == "enhance") & (summary.dataset == "MSRC-v1"), "acc_mean"] = 0.73
    assert c.enhancement_beats_fusion(summary, REF).verdict == INCONCLUSIVE


def test_gain_must_grow_with_the_shuffled_share():
    shares = {f"MSRC-v1~shuffled{s:g}": s for s in (0.0, 0.5, 1.0)}

    def summary(gains: list[float], std: float = STD) -> pd.DataFrame:
        return _summary({name: {"enhance": 0.5 + g, "fuse": 0.5} for name, g in zip(shares, gains)}, std=std)

    growing = c.gain_grows_with_unevenness(summary([-0.05, 0.0, 0.08]), shares, REF)
    assert growing.verdict == HOLDS and "share 1: +0.080 (n=5)" in growing.evidence
    assert "Spearman 1.00 [1.00, 1.00] (needs >= 0.7)" in growing.evidence
    # the same means over a wider seed spread: the order of the gains is no longer sure
    assert c.gain_grows_with_unevenness(summary([-0.05, 0.0, 0.08], std=0.05), shares, REF).verdict == INCONCLUSIVE
    assert c.gain_grows_with_unevenness(summary([0.0, 0.01, 0.02]), shares, REF).verdict == INCONCLUSIVE
    assert c.gain_grows_with_unevenness(summary([0.08, 0.0, -0.05]), shares, REF).verdict == FAILS
    assert c.gain_grows_with_unevenness(summary([0.0, 0.1, 0.05]), shares, REF).verdict == FAILS  # rho 0.5
    two = {k: v for k, v in list(shares.items())[:2]}
    assert c.gain_grows_with_unevenness(summary([0.0, 0.1]), two, REF).verdict == "not testable here"
    assert list(c.enhancement_gain_by_share(summary([-0.05, 0.0, 0.08]), shares).round(3)) == [-0.05, 0.0, 0.08]


# Multi-DProxy (planted concepts) -----------------------------------------------------------------------------------

def concept_summary(values: dict[str, tuple[float, float, float, float]], std: float = STD,
                    n: int = N) -> pd.DataFrame:
    """A summarize_concepts-like frame: row -> (NMI asked colour, NMI other when colour asked, same for shape)."""
    rows = []
    for label, (colour, colour_other, shape, shape_other) in values.items():
        for concept, nmi, other in (("colour", colour, colour_other), ("shape", shape, shape_other)):
            rows.append({"label": label, "concept": concept, "nmi_mean": nmi, "nmi_std": std,
                         "other_nmi_mean": other, "other_nmi_std": std, "n_seeds": n})
    return pd.DataFrame(rows)


def test_concept_follows_request_fails_when_the_other_concept_wins():
    followed = concept_summary({"Multi-DProxy": (0.6, 0.01, 0.9, 0.01)})
    assert c.concept_follows_request(followed, FULL).verdict == HOLDS
    assert c.concept_follows_request(concept_summary({"Multi-DProxy": (0.6, 0.01, 0.9, 0.01)}, n=1),
                                     FULL).verdict == INCONCLUSIVE
    dominated = concept_summary({"Multi-DProxy": (0.01, 0.8, 0.9, 0.01)})  # asked colour, got shape
    claim = c.concept_follows_request(dominated, FULL)
    assert claim.verdict == FAILS
    assert ("asked colour: NMI on colour 0.010 (n=5) vs on the other concept 0.800 (n=5): -0.790 [-0.805, -0.775] "
            "-> does not hold") in claim.evidence


def test_full_beats_rows_needs_every_concept_and_row():
    summary = concept_summary({"Multi-DProxy": (0.6, 0, 0.9, 0), "w/o-Dynamic": (0.5, 0, 0.95, 0),
                               "-T": (0.4, 0, 0.8, 0)})
    assert c.full_beats_rows(summary, ["-T"], "x", FULL).verdict == HOLDS
    assert c.full_beats_rows(summary, ["w/o-Dynamic", "-T"], "x", FULL).verdict == FAILS  # shape: 0.95 > 0.9
    assert c.full_beats_rows(summary, ["-T"], "x", FULL).evidence.startswith(
        "colour: Multi-DProxy 0.600 (n=5) vs -T 0.400 (n=5): +0.200 [")
    assert c.full_beats_rows(concept_summary({"Multi-DProxy": (0.6, 0, 0.9, 0), "-T": (0.4, 0, 0.8, 0)}, std=0.2),
                             ["-T"], "x", FULL).verdict == INCONCLUSIVE
    assert c.full_beats_rows(summary, ["w/o-Dynamic"], "x", SMOKE).verdict == c.NOT_TESTABLE


def test_largest_drop_names_the_costliest_row():
    summary = concept_summary({"Multi-DProxy": (0.6, 0, 0.9, 0), "w/o-GFusion": (0.3, 0, 0.5, 0),
                               "w/o-Dynamic": (0.5, 0, 0.2, 0)})
    claim = c.largest_drop(summary, "w/o-GFusion", ["w/o-GFusion", "w/o-Dynamic"], "x", FULL)
    assert claim.verdict == FAILS  # colour: GFusion's drop 0.3 largest; shape: Dynamic's drop 0.7 larger
    assert "colour: NMI drop from the full model w/o-GFusion +0.300, w/o-Dynamic +0.100" in claim.evidence
    summary.loc[(summary.label == "w/o-Dynamic") & (summary.concept == "shape"), "nmi_mean"] = 0.7
    assert c.largest_drop(summary, "w/o-GFusion", ["w/o-GFusion", "w/o-Dynamic"], "x", FULL).verdict == HOLDS
    summary.loc[(summary.label == "w/o-Dynamic") & (summary.concept == "shape"), "nmi_mean"] = 0.505
    assert c.largest_drop(summary, "w/o-GFusion", ["w/o-GFusion", "w/o-Dynamic"], "x", FULL).verdict == INCONCLUSIVE


def test_candidates_converge_counts_runs_with_exactly_the_relevant_words():
    relevant = {"a": {"red", "blue"}, "b": {"red", "blue"}}
    assert c.candidates_converge({"a": ["blue", "red"], "b": ["red", "blue"]}, relevant, FULL).verdict == HOLDS
    claim = c.candidates_converge({"a": ["blue", "red"], "b": ["red", "grey"]}, relevant, FULL)
    assert claim.verdict == FAILS and "1 of 2 runs" in claim.evidence and "b: kept ['grey', 'red']" in claim.evidence


def test_drop_claims_with_a_row_missing_are_not_decided():
    """A dataset without one ablation row (or without the full row) leaves the drop claims not decided, naming the
    row, instead of deciding on the rows it has or failing with a KeyError."""
    partial = pd.concat([_idmc_ablation(0.4, 0.7), _summary({"Event": {"full": 0.6, "w/o L_KL": 0.59}})])
    for claim in (c.ddc_removal_costs_most(partial, REF), c.other_removals_cost_little(partial, REF)):
        assert claim.verdict == NOT_DECIDED and claim.evidence.startswith("rows not run: Event: w/o L_")
    no_full = _summary({"MSRC-v1": {"w/o L_DDC": 0.4, "w/o L_KL": 0.7}})
    assert c.ddc_removal_costs_most(no_full, REF).verdict == NOT_DECIDED


def test_layer_claims_with_one_layer_count_compare_nothing():
    one = _summary({"Event": {"L=4": 0.3}})
    assert c.best_layer_count(one, [4], REF).verdict == "not testable here"
    assert c.more_layers_not_better(one, [4], REF).verdict == "not testable here"
