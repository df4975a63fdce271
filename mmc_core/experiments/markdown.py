"""Markdown for reading: prose wrapped to WIDTH columns, tables kept within MAX_WIDTH (empty columns dropped, then
split into several tables that repeat the identifying columns), and the claims, readings ledger and
reporting-protocol study laid out as short tables with their evidence in lists. The README's generated blocks, the
docs pages and the report all render through here, so none of them grows a 600-column row.
"""

from __future__ import annotations

import re
import textwrap

import pandas as pd

WIDTH = 116  # generated prose wraps here
MAX_WIDTH = 120  # no table line is wider (unless one column alone is)
VERDICT_ORDER = ["holds", "does not hold", "inconclusive", "not decided", "not testable here"]


def wrap(text: str, indent: str = "", first: str | None = None) -> str:
    """One paragraph or list item wrapped to WIDTH columns (`first` prefixes the first line, `indent` the others)."""
    return textwrap.fill(text, WIDTH, initial_indent=first if first is not None else indent,
                         subsequent_indent=indent, break_on_hyphens=False, break_long_words=False)


def wrap_block(block: str) -> str:
    """A generated block with every over-long prose line wrapped (table rows are left as they are)."""
    lines = []
    for line in block.splitlines():
        if len(line) <= WIDTH or line.startswith("|"):
            lines.append(line)
            continue
        bullet = re.match(r"(\s*(?:[-*]|\d+\.)\s+)", line)
        indent = " " * len(bullet.group(1)) if bullet else re.match(r"\s*", line).group(0)
        lines.append(wrap(line.strip() if not bullet else line[len(bullet.group(1)):],
                          indent, bullet.group(1) if bullet else indent))
    return "\n".join(lines)


def seed_counts(evidence: str) -> str:
    """The range of seeds per row a claim's evidence names (`n=5` ... `n=20`), e.g. "5-20"; "-" where none."""
    counts = sorted({int(n) for n in re.findall(r"\bn=(\d+)", evidence)})
    if not counts:
        return "-"
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"


def short_claim(claim: str) -> str:
    """A claim without its parenthesised details, for the one-row-per-claim table (the evidence below keeps them)."""
    return claim.split(" (")[0]


def widest(text: str) -> int:
    return max(map(len, text.splitlines()), default=0)


def narrow_table(frame: pd.DataFrame, keys: int | None = None, width: int = MAX_WIDTH, **markdown) -> str:
    """The frame as markdown tables within `width` columns: empty columns dropped, then, if still too wide, the
    columns after the first `keys` (default: the leading text columns, at most 3) split over several tables that each
    repeat those identifying columns."""
    frame = frame.reset_index(drop=True)
    filled = frame.fillna("").astype(str).apply(lambda c: c.str.strip())
    frame = frame[[c for c in frame.columns if (filled[c] != "").any()]]
    text = frame.to_markdown(index=False, **markdown)
    if widest(text) <= width or len(frame.columns) < 2:
        return text
    if keys is None:
        keys = next((i for i, c in enumerate(frame.columns) if pd.api.types.is_numeric_dtype(frame[c])),
                    len(frame.columns))
        keys = max(1, min(keys, 3))
    ids, rest = list(frame.columns[:keys]), list(frame.columns[keys:])
    groups, chunk = [], []
    for column in rest:
        if chunk and widest(frame[ids + chunk + [column]].to_markdown(index=False, **markdown)) > width:
            groups.append(chunk)
            chunk = []
        chunk.append(column)
    groups.append(chunk)
    return "\n\n".join(frame[ids + group].to_markdown(index=False, **markdown) for group in groups)


def verdict_counts(claims: pd.DataFrame) -> pd.DataFrame:
    """Per paper, its claims by verdict (the README's summary)."""
    table = pd.crosstab(claims.paper, claims.verdict)
    table = table[[v for v in VERDICT_ORDER if v in table] + [v for v in table if v not in VERDICT_ORDER]]
    table.insert(0, "claims", table.sum(axis=1))
    return table.reset_index()


def claims_markdown(claims: pd.DataFrame, heading: str = "###") -> str:
    """Per paper, a table with one short row per claim (verdict, seeds per row, claim), then each claim's evidence
    below it as a list: every row's n and every comparison's 95% interval, one comparison per line."""
    parts = []
    for paper, group in claims.groupby("paper", sort=False):
        group = group.reset_index(drop=True)
        table = pd.DataFrame({"#": range(1, len(group) + 1), "verdict": group.verdict,
                              "n per row": group.evidence.map(seed_counts), "claim": group.claim.map(short_claim)})
        evidence = []
        for number, c in enumerate(group.itertuples(), start=1):
            evidence.append(wrap(f"**{number}. {c.claim}** — {c.verdict}; data: {c.data}; notebook `{c.section}`",
                                 "  ", "- "))
            evidence += [wrap(item.strip(), "    ", "  - ") for item in c.evidence.split("; ") if item.strip()]
        parts.append(f"{heading} {paper}\n\n" + table.to_markdown(index=False) + "\n\nEvidence:\n\n" + "\n".join(evidence))
    return "\n\n".join(parts)


LEDGER_READINGS = {"fixed default": "fixed default", "label-free selected": "label-free",
                   "oracle (by labels, not adopted)": "oracle (labels, not adopted)"}


def ledger_markdown(ledgers: pd.DataFrame) -> str:
    """The readings ledger, one item per cell: the printed value, then ours under the fixed default, the label-free
    choice and the oracle, each on its own line."""
    items = []
    for row in ledgers.to_dict("records"):
        head = (f"**{row['method']} · {row['dataset']} · {row['cell']}** ({row['seeds']} seeds; printed: "
                f"{row['printed']}; notebook `{row['section']}`)")
        items.append(wrap(head, "  ", "- "))
        for column, name in LEDGER_READINGS.items():
            value = str(row.get(column, "")).replace(f"{column}: ", "")
            if value:
                items.append(wrap(f"{name}: {value}", "    ", "  - "))
        gaps = [f"{c} {row[c]}" for c in ("label-free - printed", "best reading - printed") if row.get(c, "") != ""]
        if row.get("verdict changed", "") != "":
            gaps.append(f"verdict changed: {row['verdict changed']}")
        if gaps:
            items.append(wrap("; ".join(gaps), "    ", "  - "))
    return "\n".join(items)


def protocol_markdown(protocols: pd.DataFrame) -> str:
    """The reporting-protocol study, per dataset one item per reading: how the runs are reported, ACC and NMI, the
    difference from the print and the share of the gap it closes; oracle rows say so in their title."""
    parts = []
    for (dataset, section), group in protocols.groupby(["dataset", "section"], sort=False):
        first = group.iloc[0]
        lines = [f"{dataset} (notebook `{section}`; printed ACC {first['printed ACC']}, NMI {first['printed NMI']}):",
                 ""]
        for row in group.to_dict("records"):
            oracle = " — *oracle*, not adopted" if str(row["selection"]).startswith("oracle") else ""
            lines.append(wrap(f"**{row['reading']}, {row['reported as']}**{oracle} ({row['runs']} runs): ACC "
                              f"{row['ACC']}, NMI (geometric) {row['NMI (geometric)']}; ACC - printed "
                              f"{row['ACC - printed']}, gap closed {row['ACC gap closed']}", "  ", "- "))
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


