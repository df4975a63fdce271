"""The README's generated blocks: the claims table, the timings and the seed benchmark, written from the shipped runs
and the kept benchmark (reference/bench), never typed.

`python -m mmc_core readme` rewrites the text between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` in
README.md from the reference sections (what `make report` writes) and the reference store's provenance;
`--check` fails when the README differs from what the shipped runs give (CI runs it after nbval).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..paths import PROJECT_ROOT
from .benchmark import bench_block
from .report import all_claims, all_ledgers, all_protocols

README = PROJECT_ROOT / "README.md"


def claims_block(root: Path) -> str:
    """Per paper, a count of verdicts, then one item per claim: its verdict, what is claimed, on which data, in which
    notebook, and the evidence (each row's n, each comparison's 95% interval) on an indented line — a list, so that
    long evidence wraps instead of widening a table."""
    claims = all_claims(root)
    if claims.empty:
        return "No claims: run `make report` first."
    lines = []
    for paper, group in claims.groupby("paper", sort=False):
        counts = ", ".join(f"{n} {v}" for v, n in group.verdict.value_counts().items())
        lines += [f"**{paper}** ({counts})", ""]
        for c in group.itertuples():
            lines.append(f"- **{c.verdict}**: {c.claim} [{c.data}] (`{c.section}`)")
            if c.evidence:
                lines.append(f"  <br>{c.evidence}")
        lines.append("")
    return "\n".join(lines).rstrip()


def ledger_block(root: Path) -> str:
    ledgers = all_ledgers(root)
    if ledgers.empty:
        return "No readings ledger: run `make report` first."
    return ledgers.rename(columns={"section": "notebook"}).to_markdown(index=False)


def protocol_block(root: Path) -> str:
    protocols = all_protocols(root)
    if protocols.empty:
        return "No reporting-protocol study: run `make report` first."
    return protocols.rename(columns={"section": "notebook"}).to_markdown(index=False)


def timings_block(records: list[dict]) -> str:
    """Seconds per run of the shipped runs, per method and dataset, with how they were measured."""
    rows = pd.DataFrame([{"method": r["method"], "dataset": r["dataset"], **r["provenance"]} for r in records
                         if "provenance" in r])
    if rows.empty:
        return "No shipped runs."
    grouped = rows.groupby(["method", "dataset"], sort=True)
    table = pd.DataFrame({
        "runs": grouped.size(),
        "epochs": grouped.epochs_trained.agg(lambda e: "-" if e.isna().all() else "/".join(map(str, sorted(
            set(e.dropna().astype(int)))))),
        "s per run (median)": grouped.wall_seconds.median().round(1),
        "s per run (min-max)": grouped.wall_seconds.agg(lambda w: f"{w.min():.1f}-{w.max():.1f}"),
        "device": grouped.device.agg(lambda d: ", ".join(sorted(set(d)))),
        "threads": grouped.threads.agg(lambda t: ", ".join(map(str, sorted(set(t))))),
    }).reset_index()
    total = rows.wall_seconds.sum() / 3600
    return (table.to_markdown(index=False) + f"\n\n{len(rows)} shipped runs, {total:.1f} CPU-hours in all "
            "(wall time per run as recorded in each run's provenance; several jobs shared the 2 cores).")


def render(text: str, blocks: dict[str, str]) -> str:
    """The README text with each generated block replaced; a missing marker pair is an error."""
    for name, body in blocks.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n)(?:.*?\n)?(<!-- /generated:{name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"README.md lacks the markers <!-- generated:{name} --> ... <!-- /generated:{name} -->.")
        text = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    return text


def update_readme(root: Path, records: list[dict], check: bool = False, readme: Path = README) -> bool:
    """Write (or, with check, compare) the README's generated blocks; True when the README is up to date."""
    text = readme.read_text()
    new = render(text, {"claims": claims_block(root), "ledger": ledger_block(root), "protocol": protocol_block(root),
                         "timings": timings_block(records), "bench": bench_block(records)})
    if check:
        return new == text
    if new != text:
        readme.write_text(new)
    return True
