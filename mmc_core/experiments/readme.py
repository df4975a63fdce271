"""The documents' generated blocks — the README's verdict summary, docs/claims.md (every claim with its evidence, the
readings ledger, the reporting-protocol study) and docs/timings.md (run timings, the seed benchmark) — written from
the shipped runs and the kept benchmark (reference/bench), never typed.

`python -m mmc_core readme` rewrites the text between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` in
each document from the reference sections (what `make report` writes) and the reference store's provenance;
`--check` fails when a document differs from what the shipped runs give (CI runs it after nbval). Every generated
line outside a table is wrapped to `WIDTH` columns, and tables are laid out narrow, so the documents read in an
ordinary terminal or on a code host.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

import pandas as pd

from ..paths import PROJECT_ROOT
from .benchmark import bench_block
from .markdown import claims_markdown, ledger_markdown, protocol_markdown, verdict_counts, wrap_block
from .report import all_claims, all_ledgers, all_protocols

README = PROJECT_ROOT / "README.md"
CLAIMS_DOC = PROJECT_ROOT / "docs" / "claims.md"
TIMINGS_DOC = PROJECT_ROOT / "docs" / "timings.md"


def summary_block(root: Path) -> str:
    """The README's block: claims by verdict per paper, pointing at the page with every claim and its evidence."""
    claims = all_claims(root)
    if claims.empty:
        return "No claims: run `make report` first."
    return verdict_counts(claims).to_markdown(index=False)


def claims_block(root: Path) -> str:
    claims = all_claims(root)
    return claims_markdown(claims) if not claims.empty else "No claims: run `make report` first."


def ledger_block(root: Path) -> str:
    ledgers = all_ledgers(root)
    return ledger_markdown(ledgers) if not ledgers.empty else "No readings ledger: run `make report` first."


def protocol_block(root: Path) -> str:
    protocols = all_protocols(root)
    return (protocol_markdown(protocols) if not protocols.empty
            else "No reporting-protocol study: run `make report` first.")


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
        "s/run (median)": grouped.wall_seconds.median().round(1),
        "s/run (min-max)": grouped.wall_seconds.agg(lambda w: f"{w.min():.1f}-{w.max():.1f}"),
        "device": grouped.device.agg(lambda d: ", ".join(sorted(set(d)))),
        "threads": grouped.threads.agg(lambda t: ", ".join(map(str, sorted(set(t))))),
    }).reset_index()
    total = rows.wall_seconds.sum() / 3600
    return (table.to_markdown(index=False) + f"\n\n{len(rows)} shipped runs, {total:.1f} CPU-hours in all "
            "(wall time per run as recorded in each run's provenance; several jobs shared the 2 cores).")


def render(text: str, blocks: dict[str, str]) -> str:
    """The text with each generated block replaced; a missing marker pair is an error."""
    for name, body in blocks.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n)(?:.*?\n)?(<!-- /generated:{name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"a document lacks the markers <!-- generated:{name} --> ... <!-- /generated:{name} -->.")
        text = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    return text


VERIFY_SUMMARY = PROJECT_ROOT / "reference" / "verify" / "summary.json"


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


def verify_block(summary_path: Path = VERIFY_SUMMARY) -> str:
    """What the shipped `make verify` measurement found (reference/verify/summary.json), and what it shows about
    determinism: runs re-computed bit-equal on the CPU kind that made them, bit-equal on another CPU kind (the
    classical methods), and trained runs on another CPU kind, with how many came out the same and how many only
    within their configuration's prediction interval."""
    if not summary_path.exists():
        return "No verification shipped: run `make verify` and copy results/verify/summary.* to reference/verify/."
    summary = json.loads(summary_path.read_text())
    outcomes, cpu = summary["outcomes"], summary["cpu"]
    counts = summary["counts"]
    methods = sorted({o["method"] for o in outcomes})
    same = [o for o in outcomes if o["rule"] == "exact" and o.get("recorded_cpu") == cpu]
    other_exact = [o for o in outcomes if o["rule"] == "exact" and o.get("recorded_cpu") != cpu]
    drawn = [o for o in outcomes if o["rule"] != "exact"]
    equal = [o for o in drawn if o["recomputed"] == o["shipped"]]
    not_sampled = summary.get("not_sampled") or []
    lines = [
        f"Measured (`reference/verify/summary.md`): {len(outcomes)} shipped runs of {len(methods)} methods re-computed "
        f"({len(same) + len(other_exact)} compared exactly, {len(drawn)} by distribution): {counts.get('pass', 0)} "
        f"pass, {counts.get('FAIL', 0)} FAIL, {counts.get('undecided', 0)} undecided, in "
        f"{_minutes(summary['elapsed_s'])} with {summary['jobs']} process(es) of one thread on {cpu}"
        f" (budget {summary['budget_s']:.0f} recorded seconds"
        + (f"; not sampled: {', '.join(not_sampled)})." if not_sampled else ")."),
        "",
        f"**Determinism**, as far as these runs show it. Same CPU kind and thread count: bit-equal ({len(same)} runs). "
        f"Classical methods on another CPU kind: bit-equal ({len(other_exact)} runs). Deep and concept methods on another CPU "
        f"kind: the same distribution, not always the same labels: of {len(drawn)}, {len(equal)} gave the shipped "
        f"score and {len(drawn) - len(equal)} drifted inside their configuration's 99% prediction interval. "
        "Deep runs depend on the thread count too: every shipped run and `make verify` use one thread per run.",
    ]
    return "\n".join(lines)


def gpu_block(ops_path: Path = PROJECT_ROOT / "reference" / "bench" / "ops.json") -> str:
    """The README's line on the GPU path, from the kept op/sync count: per batching method, 20 seeds together over one
    seed's aten ops per step, and the methods that still sync inside their batch loop."""
    if not ops_path.exists():
        return "No op count kept: run `make bench BENCH_KEEP=1`."
    rows = json.loads(ops_path.read_text())["rows"]
    ratios = [f"{r['method']} {r['together / 1 seed (ops)']:.2f}" for r in rows
              if r["seeds"] == 20 and r["together / 1 seed (ops)"] is not None]
    syncing = sorted({r["method"] for r in rows if r["seeds"] == 1 and r["one by one (syncs/step)"]})
    return (f"Counted on the CPU (aten ops per training step, each a kernel launch on a GPU; details in "
            f"[docs/timings.md](docs/timings.md)): 20 seeds trained together cost, over one seed's step, "
            f"{', '.join(ratios)}; one by one they cost 20 times. Host syncs inside the batch loop: "
            f"{'none' if not syncing else 'none but ' + ', '.join(syncing)}.")


def document_blocks(root: Path, records: list[dict]) -> dict[Path, dict[str, Callable[[], str]]]:
    """Per generated document, its blocks (each computed when asked)."""
    return {
        README: {"summary": lambda: summary_block(root), "verify": verify_block, "gpu": gpu_block},
        CLAIMS_DOC: {"claims": lambda: claims_block(root), "ledger": lambda: ledger_block(root),
                     "protocol": lambda: protocol_block(root)},
        TIMINGS_DOC: {"timings": lambda: timings_block(records), "bench": lambda: bench_block(records)},
    }


def update_documents(root: Path, records: list[dict], check: bool = False,
                     documents: dict[Path, dict[str, Callable[[], str]]] | None = None) -> list[Path]:
    """Write (or, with check, compare) every document's generated blocks; returns the documents that were out of
    date (with check: that differ from what the shipped runs give)."""
    stale = []
    for path, blocks in (documents or document_blocks(root, records)).items():
        text = path.read_text()
        new = render(text, {name: wrap_block(make()) for name, make in blocks.items()})
        if new != text:
            stale.append(path)
            if not check:
                path.write_text(new)
    return stale
