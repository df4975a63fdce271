"""A notebook's "What we found" (experiments.findings) says what its verdicts say, and nothing it was not given."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmc_core.experiments.claims import Claim, claims_frame
from mmc_core.experiments.findings import findings_markdown, ledger_lines, what_we_found
from mmc_core.experiments.sensitivity import LEDGER_COLUMNS


def _comparison() -> pd.DataFrame:
    return pd.DataFrame({"dataset": ["Event", "Event", "Event", "MSRC-v1", "IAPR", "IAPR"],
                         "verdict": ["worse", "better", "worse", "within tolerance", "data absent", "data absent"]})


def test_comparison_counts_only_compared_cells_and_names_their_datasets():
    text = findings_markdown(comparison=_comparison())
    assert "- Printed cells compared: **4** on Event, MSRC-v1: worse 2, better 1, within tolerance 1." in text
    assert "- Printed cells not compared: data absent 2." in text


def test_nothing_compared_says_so():
    text = findings_markdown(comparison=_comparison()[lambda c: c.verdict == "data absent"])
    assert text.splitlines()[0] == "- No printed cell compared."


def test_each_claim_gets_its_own_verdict():
    claims = claims_frame([Claim("SDCIB", "SDCIB beats every baseline", "Event, MSRC-v1", "does not hold", "e"),
                           Claim("SDCIB", "convergence is rapid", "Event", "holds", "e")])
    assert findings_markdown(claims=claims).splitlines() == [
        "- *SDCIB beats every baseline* (Event, MSRC-v1): **does not hold**",
        "- *convergence is rapid* (Event): **holds**"]


def _ledger() -> pd.DataFrame:
    printed, fixed, chosen, oracle = LEDGER_COLUMNS
    return pd.DataFrame([
        {"dataset": "Event", "cell": "ACC", printed: "0.565", fixed: "default: 0.400 ± 0.030",
         chosen: "l2 rows: 0.465 ± 0.041", oracle: "width 512: 0.520 ± 0.020", "label-free - printed": -0.1,
         "best reading - printed": -0.045},
        {"dataset": "3Sources", "cell": "ACC", printed: "not printed (substitute)", fixed: "default: 0.5 ± 0.1",
         chosen: "l2 rows: 0.610 ± 0.020", oracle: "tf-idf: 0.650 ± 0.010", "label-free - printed": np.nan,
         "best reading - printed": np.nan},
        {"dataset": "Event", "cell": "claim: each component contributes", printed: "claimed by the paper",
         fixed: "not decided (min-max): rows missing", chosen: "does not hold (l2): -0.02 [-0.05, 0.01]",
         oracle: "not run under this reading", "verdict changed": True},
    ])


def test_ledger_lines_set_the_label_free_choice_against_the_print_the_oracle_and_the_claims():
    assert ledger_lines(_ledger()) == [
        "Event ACC: printed 0.565; label-free choice l2 rows: 0.465 ± 0.041 (-0.100 from the print); best reading "
        "-0.045 from the print",
        "3Sources ACC (not printed): label-free choice l2 rows: 0.610 ± 0.020; oracle tf-idf: 0.650 ± 0.010",
        "*each component contributes* (Event): fixed default **not decided**; label-free selected **does not hold** "
        "(verdict changed)"]


def test_grid_reports_the_spread_and_where_its_ends_lie():
    grid = pd.DataFrame({"dataset": ["MSRC-v1"] * 3, "alpha": [0.1, 0.1, 1.0], "beta": [0.1, 1.0, 1.0],
                         "acc_mean": [0.50, 0.72, 0.41], "n_seeds": [1, 1, 1]})
    assert findings_markdown(grid=grid) == ("- MSRC-v1: ACC over the 3 (alpha, beta) cells (mean of 1 seed(s) each) "
                                            "from 0.410 (alpha 1, beta 1) to 0.720 (alpha 0.1, beta 1): range **0.310**")


def test_a_picture_names_its_runs_and_claims_nothing():
    runs = pd.DataFrame({"dataset": ["MSRC-v1"], "method_label": ["DDMC"], "seed": [0], "acc": [0.9312]})
    assert findings_markdown(drawn=runs) == "- A picture, not a claim: drawn from DDMC on MSRC-v1, seed 0 (ACC 0.931)."


def test_notes_follow_and_nothing_given_is_refused():
    assert findings_markdown(comparison=_comparison(), notes=["agreement 2 of 3"]).endswith("\n- agreement 2 of 3")
    with pytest.raises(ValueError, match="Nothing to report"):
        findings_markdown()


def test_notebooks_get_it_as_markdown():
    shown = what_we_found(comparison=_comparison())
    assert shown._repr_markdown_() == findings_markdown(comparison=_comparison())
