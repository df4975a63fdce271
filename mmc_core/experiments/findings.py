"""A notebook's "What we found": its verdicts rendered as a few lines of markdown, never typed by hand.

Each notebook passes what it already computed (the comparison with the printed cells, the claims frame, a readings
ledger, an alpha/beta grid, or the runs a picture was drawn from) to `what_we_found`; the committed notebook shows the
result from the shipped runs, and nbval checks it, so the summary a reader sees on a code host cannot drift from the
verdicts.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from IPython.display import Markdown

from .claims import VERDICTS
from .sensitivity import LEDGER_COLUMNS
from .verdicts import UNCOMPARED


def _counts(verdicts: pd.Series) -> str:
    """'better 11, worse 9' in order of frequency (ties by name, so the text is stable)."""
    counts = verdicts.value_counts()
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{verdict} {n}" for verdict, n in ordered)


def _datasets(frame: pd.DataFrame) -> str:
    return ", ".join(dict.fromkeys(frame.dataset))


def comparison_lines(comparison: pd.DataFrame) -> list[str]:
    """How many printed cells were compared, on which datasets, and their verdicts; the others counted by reason."""
    done = comparison[~comparison.verdict.isin(UNCOMPARED)]
    rest = comparison[comparison.verdict.isin(UNCOMPARED)]
    lines = [f"Printed cells compared: **{len(done)}** on {_datasets(done)}: {_counts(done.verdict)}."
             if len(done) else "No printed cell compared."]
    if len(rest):
        lines.append(f"Printed cells not compared: {_counts(rest.verdict)}.")
    return lines


def claim_lines(claims: pd.DataFrame) -> list[str]:
    """One line per claim: the claim, the data it was tested on, its verdict."""
    return [f"*{c.claim}* ({c.data}): **{c.verdict}**" for c in claims.itertuples()]


def _verdict_of(cell: str) -> str:
    """The verdict a ledger's claim cell starts with ("does not hold (l2): evidence"), or the cell itself."""
    return next((v for v in sorted(VERDICTS, key=len, reverse=True) if cell.startswith(v)), cell)


def ledger_lines(ledger: pd.DataFrame) -> list[str]:
    """Per ledger row: for a printed cell, the label-free choice and the best reading against the print; for a
    substitute, the label-free choice against the oracle; for a claim, its verdict under each reading."""
    fixed, chosen, oracle = LEDGER_COLUMNS[1:]
    lines = []
    for row in ledger.to_dict("records"):
        if str(row["cell"]).startswith("claim: "):
            verdicts = [f"{column} **{_verdict_of(str(row[column]))}**" for column in (fixed, chosen)]
            change = "verdict changed" if row.get("verdict changed") else "verdict unchanged"
            lines.append(f"*{row['cell'][len('claim: '):]}* ({row['dataset']}): {'; '.join(verdicts)} ({change})")
        elif pd.isna(row.get("label-free - printed")):
            lines.append(f"{row['dataset']} {row['cell']} (not printed): label-free choice {row[chosen]}; "
                         f"oracle {row[oracle]}")
        else:
            lines.append(f"{row['dataset']} {row['cell']}: printed {row[LEDGER_COLUMNS[0]]}; label-free choice "
                         f"{row[chosen]} ({row['label-free - printed']:+.3f} from the print); best reading "
                         f"{row['best reading - printed']:+.3f} from the print")
    return lines


def grid_lines(summary: pd.DataFrame, params: Sequence[str] = ("alpha", "beta"), metric: str = "acc") -> list[str]:
    """Per dataset: the lowest and highest mean of `metric` over the grid's cells, where each lies, and the range."""
    lines = []
    for dataset, part in summary.groupby("dataset", sort=False):
        low, high = part.loc[part[f"{metric}_mean"].idxmin()], part.loc[part[f"{metric}_mean"].idxmax()]
        at = lambda r: ", ".join(f"{p} {r[p]:g}" for p in params)
        lines.append(f"{dataset}: {metric.upper()} over the {len(part)} ({', '.join(params)}) cells (mean of "
                     f"{int(part.n_seeds.min())} seed(s) each) from {low[f'{metric}_mean']:.3f} ({at(low)}) to "
                     f"{high[f'{metric}_mean']:.3f} ({at(high)}): range "
                     f"**{high[f'{metric}_mean'] - low[f'{metric}_mean']:.3f}**")
    return lines


def drawn_lines(runs: pd.DataFrame) -> list[str]:
    """The runs a picture was drawn from: no claim is tested on it."""
    drawn = "; ".join(f"{r.method_label} on {r.dataset}, seed {r.seed} (ACC {r.acc:.3f})" for r in runs.itertuples())
    return [f"A picture, not a claim: drawn from {drawn}."]


def findings_markdown(comparison: pd.DataFrame | None = None, claims: pd.DataFrame | None = None,
                      ledger: pd.DataFrame | None = None, grid: pd.DataFrame | None = None,
                      drawn: pd.DataFrame | None = None, notes: Sequence[str] = ()) -> str:
    """The findings as a markdown list: the printed cells' verdicts, each claim's verdict, a readings ledger, a
    hyper-parameter grid's spread or the runs a picture shows, then `notes` (lines the notebook computed, such as
    sensitivity.agreement)."""
    lines = ((comparison_lines(comparison) if comparison is not None else [])
             + (claim_lines(claims) if claims is not None else [])
             + (ledger_lines(ledger) if ledger is not None else [])
             + (grid_lines(grid) if grid is not None else [])
             + (drawn_lines(drawn) if drawn is not None else [])
             + list(notes))
    if not lines:
        raise ValueError("Nothing to report: pass the notebook's comparison, claims, ledger, grid or drawn runs.")
    return "\n".join(f"- {line}" for line in lines)


def what_we_found(comparison: pd.DataFrame | None = None, claims: pd.DataFrame | None = None,
                  ledger: pd.DataFrame | None = None, grid: pd.DataFrame | None = None,
                  drawn: pd.DataFrame | None = None, notes: Sequence[str] = ()) -> Markdown:
    """findings_markdown, displayed as markdown by Jupyter (and by code hosts, from the stored output)."""
    return Markdown(findings_markdown(comparison, claims, ledger, grid, drawn, notes))
