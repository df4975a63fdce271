"""The one verdict rule (experiments.uncertainty): Welch's 95% interval of a difference of two rows of seeds decides
every claim's comparison, the t interval of our mean every printed cell. Each test names the bug it would catch."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mmc_core.experiments import claims as c
from mmc_core.experiments.profiles import get_profile
from mmc_core.experiments.tables import NOT_COMPARED, cell_verdict
from mmc_core.experiments.uncertainty import (FAILS, HOLDS, INCONCLUSIVE, NOT_DECIDED, SPANS, TOO_FEW, Comparison,
                                              Row, all_of, any_of, cell_outcome, difference_row, gain_interval,
                                              mean_interval, rows_of, short_rows, welch_interval)

REF, SMOKE = get_profile("reference"), get_profile("smoke")
T_975_DF4 = 2.7764451051977987  # Student's t, 97.5% quantile, 4 degrees of freedom (any t table: 2.776)
T_975_DF2 = 4.302652729911275  # ... 2 degrees of freedom (4.303)
Z_975 = 1.959963984540054  # the normal quantile a wrong implementation would use


def _sample_row(name: str, values: np.ndarray) -> Row:
    return Row(name, float(values.mean()), float(values.std(ddof=1)), len(values))


# Welch's interval ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sizes, scales", [((5, 5), (0.01, 0.01)), ((7, 3), (0.02, 0.005)), ((20, 4), (0.03, 0.1)),
                                           ((2, 2), (0.05, 0.01))])
def test_welch_interval_matches_scipys_welch_test(sizes, scales):
    """Catches: a pooled (equal-variance) standard error or df, a wrong Welch-Satterthwaite formula, std taken with
    ddof=0, a 90%/99% level, a swapped sign (b - a)."""
    rng = np.random.default_rng(sum(sizes))
    a = rng.normal(0.60, scales[0], sizes[0])
    b = rng.normal(0.55, scales[1], sizes[1])
    diff, low, high = welch_interval(_sample_row("a", a), _sample_row("b", b))
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert diff == pytest.approx(a.mean() - b.mean(), rel=1e-12)
    assert (low, high) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_welch_interval_by_hand_uses_students_t_at_three_seeds():
    """Two rows of 3 seeds, std 0.01 each: se = sqrt(2 x 0.01^2 / 3), df = 4 (Welch-Satterthwaite with equal
    variances and n: 2(n - 1)), half-width t(0.975, 4) x se = 0.0227. Catches a normal quantile (half-width 0.0160),
    which would call this +0.020 difference decided."""
    a, b = Row("a", 0.52, 0.01, 3), Row("b", 0.50, 0.01, 3)
    se = math.sqrt(2 * 0.01 ** 2 / 3)
    diff, low, high = welch_interval(a, b)
    assert (diff, low, high) == pytest.approx((0.02, 0.02 - T_975_DF4 * se, 0.02 + T_975_DF4 * se), abs=1e-12)
    assert low < 0 < 0.02 - Z_975 * se, "with z the interval would lie above 0"
    assert Comparison(a, b).outcome == INCONCLUSIVE and Comparison(a, b).reason == SPANS
    # the same difference and spread over 30 seeds is decided
    assert Comparison(Row("a", 0.52, 0.01, 30), Row("b", 0.50, 0.01, 30)).outcome == HOLDS


def test_welch_interval_needs_two_seeds_in_each_row():
    """Catches an interval made up from one seed (std NaN or 0) and a crash on NaN std."""
    for a, b in ((Row("a", 0.9, np.nan, 1), Row("b", 0.1, 0.01, 5)), (Row("a", 0.9, 0.01, 5), Row("b", 0.1, 0.0, 1)),
                 (Row("a", 0.9, np.nan, 5), Row("b", 0.1, 0.01, 5))):
        diff, low, high = welch_interval(a, b)
        assert diff == pytest.approx(0.8) and math.isnan(low) and math.isnan(high)
        comparison = Comparison(a, b)
        assert comparison.outcome == INCONCLUSIVE and comparison.reason == TOO_FEW
        assert comparison.text().endswith("+0.800 [no interval] -> inconclusive: n too small for an interval")


def test_constant_rows_give_an_exact_difference():
    """Both rows identical over their seeds: no division by a zero standard error; the difference is exact."""
    a, b = Row("a", 0.75, 0.0, 5), Row("b", 0.5, 0.0, 5)
    assert welch_interval(a, b) == (0.25, 0.25, 0.25)
    assert Comparison(a, b).outcome == HOLDS and Comparison(b, a).outcome == FAILS
    assert Comparison(a, b, margin=0.25).outcome == INCONCLUSIVE  # exactly on the margin: not above it


def test_mean_interval_is_the_t_interval_of_the_mean():
    """Catches a normal quantile, df = n instead of n - 1, or std instead of std / sqrt(n)."""
    low, high = mean_interval(Row("x", 0.5, 0.01, 3))
    half = T_975_DF2 * 0.01 / math.sqrt(3)
    assert (low, high) == pytest.approx((0.5 - half, 0.5 + half), abs=1e-12)
    values = np.random.default_rng(1).normal(0.4, 0.02, 6)
    ci = stats.ttest_1samp(values, 0.0).confidence_interval(0.95)
    assert mean_interval(_sample_row("x", values)) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert all(math.isnan(v) for v in mean_interval(Row("x", 0.5, np.nan, 1)))


# Comparison outcomes ---------------------------------------------------------------------------------------------

def test_a_comparisons_three_outcomes_against_its_margin():
    """Catches a verdict taken from the means (ignoring the interval) and a margin compared with the wrong bound."""
    a = Row("a", 0.60, 0.01, 5)
    assert Comparison(a, Row("b", 0.55, 0.01, 5)).outcome == HOLDS  # +0.050 [+0.035, +0.065]
    assert Comparison(a, Row("b", 0.65, 0.01, 5)).outcome == FAILS  # -0.050, wholly below 0
    spans = Comparison(a, Row("b", 0.595, 0.01, 5))  # +0.005: the means say a wins; the interval does not
    assert spans.outcome == INCONCLUSIVE and spans.reason == SPANS
    assert Comparison(a, Row("b", 0.55, 0.01, 5)).reason == ""
    # against a margin: +0.050 [+0.035, +0.065] holds above 0.03, spans 0.05, fails below 0.07
    assert [Comparison(a, Row("b", 0.55, 0.01, 5), margin=m).outcome for m in (0.03, 0.05, 0.07)] == [
        HOLDS, INCONCLUSIVE, FAILS]


def test_comparison_text_shows_n_per_row_and_the_interval():
    """Catches evidence that hides n, the interval or the reason."""
    a, b = Row("full", 0.861, 0.02, 5), Row("w/o X", 0.829, 0.01, 3, collapsed=2)
    comparison = Comparison(a, b)
    _, low, high = welch_interval(a, b)
    assert comparison.text() == (f"full 0.861 (n=5) vs w/o X 0.829 (n=3, 2 collapsed): +0.032 [{low:+.3f}, "
                                 f"{high:+.3f}] -> {comparison.outcome}"
                                 + (f": {SPANS}" if comparison.outcome == INCONCLUSIVE else ""))
    scaled = Comparison(a, b, margin=0.1 * a.mean, scale=a.mean)
    assert "+3.7% [" in scaled.text() and "(margin +10%)" in scaled.text() and scaled.outcome == FAILS


def test_all_of_and_any_of():
    """all_of: one failure fails, else one inconclusive part leaves it open; any_of: one hold is enough, it fails
    only when every part fails. Catches a majority vote, or a failure masked by an inconclusive part."""
    assert all_of([HOLDS, HOLDS]) == HOLDS
    assert all_of([HOLDS, INCONCLUSIVE]) == INCONCLUSIVE
    assert all_of([HOLDS, INCONCLUSIVE, FAILS]) == FAILS
    assert all_of([FAILS, HOLDS, HOLDS]) == FAILS
    assert any_of([FAILS, HOLDS]) == HOLDS
    assert any_of([FAILS, INCONCLUSIVE, HOLDS]) == HOLDS
    assert any_of([FAILS, INCONCLUSIVE]) == INCONCLUSIVE
    assert any_of([FAILS, FAILS]) == FAILS
    assert any_of(iter([FAILS])) == FAILS and all_of(iter([HOLDS])) == HOLDS  # generators are consumed once


def test_short_rows_are_named_once():
    """Rows with fewer than 5 seeds are named (where, row, n); a row used twice once; n = 5 is not short."""
    rows = [("Event", Row("full", 0.6, 0.01, 5)), ("Event", Row("remove both", 0.4, 0.01, 3)),
            ("Event", Row("remove both", 0.4, 0.01, 3)), ("MSRC-v1", Row("full", 0.7, np.nan, 1))]
    assert short_rows(rows) == "short rows (n < 5): Event remove both n=3, MSRC-v1 full n=1"
    assert short_rows(rows[:1]) == ""
    assert short_rows([("", Row("share 0.5", 0.1, 0.01, 4))]) == "short rows (n < 5): share 0.5 n=4"


# Printed cells ---------------------------------------------------------------------------------------------------

def test_cell_outcome_four_results():
    """A printed 0.565 with a 2-point tolerance, our rows over 5 seeds at std 0.01 (our mean +- 0.0124). Catches a
    verdict from |mean - printed| alone (0.580 would be "within") and a wrong direction of better/worse."""
    printed, tol = 0.565, 0.02
    verdict, low, high = cell_outcome(Row("ACC", 0.565, 0.01, 5), printed, tol)
    half = T_975_DF4 * 0.01 / math.sqrt(5)
    assert verdict == "within tolerance" and (low, high) == pytest.approx((-half, half))
    assert cell_outcome(Row("ACC", 0.50, 0.01, 5), printed, tol)[0] == "worse"
    assert cell_outcome(Row("ACC", 0.63, 0.01, 5), printed, tol)[0] == "better"
    spans = cell_outcome(Row("ACC", 0.58, 0.01, 5), printed, tol)  # [+0.003, +0.027] crosses +0.02
    assert spans[0] == INCONCLUSIVE and spans[1] < tol < spans[2]
    one = cell_outcome(Row("ACC", 0.565, np.nan, 1), printed, tol)
    assert one[0] == INCONCLUSIVE and math.isnan(one[1]) and math.isnan(one[2])


def test_cell_outcome_uses_students_t_at_three_seeds():
    """Our mean on the printed value, std 0.01 over 3 seeds: t(2) gives +-0.0248, past the 2-point band; a normal
    quantile would give +-0.0113 and call the cell within tolerance."""
    verdict, low, high = cell_outcome(Row("ACC", 0.565, 0.01, 3), 0.565, 0.02)
    assert verdict == INCONCLUSIVE and high == pytest.approx(T_975_DF2 * 0.01 / math.sqrt(3))
    assert Z_975 * 0.01 / math.sqrt(3) < 0.02 < high
    assert cell_outcome(Row("ACC", 0.565, 0.01, 20), 0.565, 0.02)[0] == "within tolerance"


def test_cell_verdict_at_smoke_compares_nothing():
    verdict, low, high = cell_verdict(0.9, 0.01, 5, 0.4, None)
    assert verdict == NOT_COMPARED and math.isnan(low) and math.isnan(high)
    assert cell_verdict(0.9, 0.01, 5.0, 0.4, 0.02)[0] == "better"  # n as the float a frame gives


# The gain's correlation ------------------------------------------------------------------------------------------

def _gains(means: list[float], std: float = 0.02, n: int = 5) -> dict[float, Row]:
    return {s: Row(f"share {s:g}", m, std, n) for s, m in zip((0.0, 0.25, 0.5, 0.75, 1.0), means)}


def test_gain_interval_is_reproducible_and_contains_the_point_estimate():
    """Catches an unseeded bootstrap (a verdict that changes between runs) and an interval not around rho."""
    gains = _gains([0.0, 0.01, 0.03, 0.02, 0.05])
    rho, low, high = gain_interval(gains)
    assert rho == pytest.approx(stats.spearmanr(list(gains), [g.mean for g in gains.values()]).statistic)
    assert gain_interval(gains) == (rho, low, high), "same seed, same interval"
    assert gain_interval(gains, seed=0, draws=4000) == (rho, low, high)
    assert -1.0 <= low <= rho <= high <= 1.0 and low < high
    other = gain_interval(gains, seed=1)
    assert other[0] == rho and -1.0 <= other[1] <= rho <= other[2] <= 1.0


def test_gain_interval_narrows_with_certain_gains_and_needs_two_seeds():
    rho, low, high = gain_interval(_gains([0.0, 0.1, 0.2, 0.3, 0.4], std=0.001))
    assert rho == pytest.approx(1.0) and low == pytest.approx(1.0) and high == pytest.approx(1.0)
    rho, low, high = gain_interval(_gains([0.0, 0.1, 0.2, 0.3, 0.4], n=1))
    assert rho == pytest.approx(1.0) and math.isnan(low) and math.isnan(high)


def test_difference_row_carries_welchs_standard_error():
    """gain_interval draws each gain from mean +- std / sqrt(n): for a difference row that must be Welch's se."""
    a, b = Row("enhance", 0.6, 0.03, 8), Row("fuse", 0.5, 0.01, 4)
    d = difference_row(a, b, "gain")
    assert d.mean == pytest.approx(0.1) and d.n == 4
    assert d.std / math.sqrt(d.n) == pytest.approx(math.sqrt(0.03 ** 2 / 8 + 0.01 ** 2 / 4))
    one = difference_row(a, Row("fuse", 0.5, np.nan, 1), "gain")
    assert one.n == 1 and math.isnan(one.std)


# Rows from a summary ---------------------------------------------------------------------------------------------

def test_rows_of_reads_mean_std_n_and_collapsed_runs():
    summary = pd.DataFrame([
        {"dataset": "Event", "row": "full", "acc_mean": 0.6, "acc_std": 0.01, "n_seeds": 5, "runs_collapsed": 2},
        {"dataset": "Event", "row": "ablated", "acc_mean": 0.5, "acc_std": 0.02, "n_seeds": 3, "runs_collapsed": 0}])
    rows = rows_of(summary)
    assert rows == {"Event": {"full": Row("full", 0.6, 0.01, 5, 2), "ablated": Row("ablated", 0.5, 0.02, 3)}}
    assert rows["Event"]["full"].text() == "full 0.600 (n=5, 2 collapsed)"
    with pytest.raises(ValueError, match="Two summary rows for dataset 'Event', row 'full'"):
        rows_of(pd.concat([summary, summary.head(1)]))
    # a summary without std or n (the old means-only frames) decides nothing
    bare = rows_of(summary[["dataset", "row", "acc_mean"]])["Event"]
    assert bare["full"].n == 1 and math.isnan(bare["full"].std)
    assert Comparison(bare["full"], bare["ablated"]).outcome == INCONCLUSIVE


# Claims: one case for each verdict ------------------------------------------------------------------------------

def _summary(rows: dict[str, dict[str, tuple[float, float, int]]], column: str = "row") -> pd.DataFrame:
    return pd.DataFrame([{"dataset": d, column: r, "acc_mean": m, "acc_std": s, "n_seeds": n}
                         for d, table in rows.items() for r, (m, s, n) in table.items()])


@pytest.mark.parametrize("no_hidden, verdict, reason", [
    ((0.263, 0.01, 5), HOLDS, ""),  # +0.040 [+0.025, +0.055]
    ((0.330, 0.01, 5), FAILS, ""),  # -0.027, wholly below 0
    ((0.300, 0.01, 5), INCONCLUSIVE, SPANS),  # +0.003: the interval spans 0
    ((0.263, 0.01, 1), INCONCLUSIVE, TOO_FEW),  # one seed: no interval
])
def test_a_pairwise_claim_for_each_outcome(no_hidden, verdict, reason):
    summary = _summary({"Event": {"full": (0.303, 0.01, 5), "no hidden": no_hidden}})
    claim = c.hidden_terms_help(summary, REF)
    assert claim.verdict == verdict
    full, other = Row("full", 0.303, 0.01, 5), Row("no hidden", *no_hidden)
    _, low, high = welch_interval(full, other)
    interval = "[no interval]" if math.isnan(low) else f"[{low:+.3f}, {high:+.3f}]"
    assert f"full 0.303 (n=5) vs no hidden {no_hidden[0]:.3f} (n={no_hidden[2]}): " in claim.evidence
    assert f"{0.303 - no_hidden[0]:+.3f} {interval} -> {verdict}" + (f": {reason}" if reason else "") in claim.evidence
    assert claim.evidence.startswith("short rows (n < 5): Event no hidden n=1; ") == (no_hidden[2] == 1)


def test_not_decided_when_an_expected_baseline_was_not_run():
    rows = _summary({"MSRC-v1": {"DDMC": (0.7, 0.01, 5), "KM": (0.6, 0.01, 5)}}, column="method_label")
    assert c.beats_every_baseline(rows, "DDMC", ["MSRC-v1"], REF, expected=["DDMC", "KM"]).verdict == HOLDS
    claim = c.beats_every_baseline(rows, "DDMC", ["MSRC-v1"], REF, expected=["DDMC", "KM", "DEMVC"])
    assert claim.verdict == NOT_DECIDED and claim.evidence.startswith("rows not run: MSRC-v1: DEMVC; MSRC-v1: ")


def test_not_decided_when_a_pairwise_row_is_absent_on_one_dataset():
    summary = _summary({"Event": {"full": (0.303, 0.01, 5), "no hidden": (0.263, 0.01, 5)},
                        "MSRC-v1": {"full": (0.7, 0.01, 5)}})
    claim = c.hidden_terms_help(summary, REF)
    assert claim.verdict == NOT_DECIDED and claim.data == "Event, MSRC-v1"
    assert claim.evidence.startswith("rows not run: MSRC-v1: no hidden; Event: full 0.303 (n=5)")


def test_not_testable_at_smoke_whatever_the_rows_say():
    summary = _summary({"Event": {"full": (0.303, 0.01, 5), "no hidden": (0.263, 0.01, 5)}})
    claim = c.hidden_terms_help(summary, SMOKE)
    assert claim.verdict == "not testable here" and "-> holds" in claim.evidence
    assert c.decided(HOLDS, 0, REF) == "not testable here", "nothing compared: nothing concluded"
    assert c.decided(FAILS, 1, REF, missing="rows not run: x") == NOT_DECIDED
