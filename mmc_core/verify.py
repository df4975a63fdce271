"""`make verify`: re-compute a sample of the shipped runs at the full protocol and compare them with their records.

A reviewer does not need to train every run again to trust the store: a stratified sample, re-computed here and
found equal (or, where equality cannot be expected, drawn from the same distribution), shows that the records come
from this code. The sample is drawn from what is in the stores (reference/runs/ and the concept runs in
reference/multiclust/), never from a fixed list of config ids:

1. every method once, the headline cells first: a method's default parameters on a dataset a paper's main table
   prints it on (tier 0), then its default parameters on a stand-in dataset when a main table prints the method
   (tier 1), then other methods' default rows (tier 2), then studies, ablations and derived datasets (tier 3);
   within a tier the papers' own methods first, then the cheapest configuration (recorded wall time). A
   configuration whose comparison cannot be decided (see the rule) comes after every one that can, and only
   configurations whose runs took at most `max_run_s` each are drawn;
2. then the remaining default rows (tiers 0-2, one per method x dataset cell, decidable ones only) in the same
   order, while the budget lasts.
One seed of each chosen configuration is drawn (`sample_seed` fixes which). `budget_s` bounds the sample's recorded
wall time (what the runs took when they were made, on one thread), `limit` its number of runs.

The rule, per re-computed run (the metric is ACC for a run, NMI for a concept run):
- exact: where the result is bit-reproducible, the labels must be identical and the scores (ACC, NMI, PUR, ARI; a
  concept run's NMI and RI) equal to 1e-9. That is a record made on the same kind of CPU (provenance `cpu`, see
  experiments.provenance) with the same thread count, or a classical (not deep) method's run, whose computation has
  no training loop to amplify rounding (tests/test_reference.py relies on it on every CI machine).
- distribution: a deep run re-computed on another kind of CPU (or from a record that names none) drifts in training,
  so it is one new draw of its configuration: its metric must lie in the 99% prediction interval of one new draw
  from the configuration's n shipped draws, mean ± t(0.995, n-1) · sd · sqrt(1 + 1/n) (sd with n-1 degrees of
  freedom), clipped to [0, 1]. For a concept run the draws are its method and parameters on the same concept over
  the planted data's draws. With fewer than 3 draws there is no usable spread and the run is `undecided`. Under
  the null (same code, same distribution) about 1 in 100 such checks fails by chance.
"""

from __future__ import annotations

import json
import math
import platform
import random
import statistics
import textwrap
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from tqdm.auto import tqdm

from .data.tasks import PLANTED
from .experiments.provenance import cpu_identity
from .experiments.reference import iter_records, spec_of
from .experiments.report import run_kind
from .paths import REFERENCE_CONCEPT_RUNS_DIR, REFERENCE_RUNS_DIR
from .reported import MAIN_TABLE, load_reported

DEFAULT_BUDGET_S = 2100.0  # recorded single-thread seconds: every method once (28 of them, 2,040 s), then cheap rows
DEFAULT_MAX_RUN_S = 600.0  # a configuration whose runs took longer when made is left out (ICMVC, DealMVC on Event)
LEVEL = 0.99  # the distribution rule's prediction level
EXACT_TOLERANCE = 1e-9
RUN_SCORES = ("acc", "nmi", "pur", "ari")
CONCEPT_SCORES = ("nmi", "ri")
MIN_DRAWS = 3  # fewer shipped draws give no usable spread (with 2, t(0.995, 1) = 64 makes the interval [0, 1])
DERIVED = "~"  # in a dataset's name: a registered dataset with views degraded (mmc_core.data.derived)
WIDTH = 100  # the summary's columns
THREADS = 1  # every re-computation runs with one BLAS/OpenMP thread, as every shipped record was made


@dataclass(frozen=True)
class Group:
    """The shipped draws of one configuration: the records of one config id (a run), or of one method and parameters
    on one concept over the planted draws (a concept run)."""

    kind: str  # "run" or "concept"
    method: str
    method_label: str
    cell: str  # the dataset (a run) or the concept (a concept run)
    main_row: bool
    records: tuple[tuple[Path, dict[str, Any]], ...]

    @property
    def metric(self) -> str:
        return "acc" if self.kind == "run" else "nmi"

    @property
    def draws(self) -> list[float]:
        return [float(record[self.metric]) for _, record in self.records]

    @property
    def identity(self) -> str:
        """Where its first record is filed in its store (<dataset or task>/<method>/<config id>)."""
        return self.records[0][0].parent.relative_to(self.records[0][0].parents[3]).as_posix()

    @property
    def cost(self) -> float:
        """The median recorded wall time of one of its runs (seconds, one thread)."""
        return statistics.median(recorded_seconds(record) for _, record in self.records)


def recorded_seconds(record: dict[str, Any]) -> float:
    return float(record.get("provenance", {}).get("wall_seconds") or record.get("seconds") or 0.0)


def load_groups(runs_root: Path = REFERENCE_RUNS_DIR, concept_root: Path | None = REFERENCE_CONCEPT_RUNS_DIR
                ) -> list[Group]:
    """Every shipped configuration with its draws, read from the stores as they are."""
    runs: dict[Path, list] = defaultdict(list)
    for path, record in iter_records(runs_root):
        runs[path.parent].append((path, record))
    groups = [Group("run", recs[0][1]["method"], recs[0][1].get("method_label", recs[0][1]["method"]),
                    recs[0][1]["dataset"], run_kind(recs[0][1]) == "main row", tuple(recs)) for recs in runs.values()]
    concepts: dict[tuple, list] = defaultdict(list)
    for path, record in (iter_records(concept_root) if concept_root is not None else ()):
        match = PLANTED.match(record["task"])
        if match is None:
            continue  # a real image set needs CLIP weights: not re-computed here
        key = (record["method"], json.dumps(record["params"], sort_keys=True), record["encoder"], match["concept"])
        concepts[key].append((path, record))
    groups += [Group("concept", key[0], recs[0][1].get("method_label", key[0]), key[3], key[1] == "{}", tuple(recs))
               for key, recs in concepts.items()]
    return groups


def printed_cells() -> tuple[set[tuple[str, str]], set[str]]:
    """The papers' main tables: the (method label, dataset) cells they print, and the method labels they print."""
    reported = load_reported()
    main = reported[reported.apply(lambda r: MAIN_TABLE.get(r.paper) == r.table, axis=1)]
    return set(zip(main.method, main.dataset)), set(main.method)


def tier(group: Group, cells: set[tuple[str, str]], labels: set[str]) -> int:
    """0: a printed main-table cell; 1: a printed method's default row on a stand-in; 2: another default row; 3: other
    parameters (studies, ablations) or a derived dataset (a controlled study's degraded views)."""
    if not group.main_row or DERIVED in group.cell:
        return 3
    if (group.method_label, group.cell) in cells:
        return 0
    return 1 if group.method_label in labels else 2


def is_deep(group: Group) -> bool:
    """Whether the method trains (its results drift with the CPU's rounding): every concept method is treated so."""
    if group.kind == "concept":
        return True
    from .deep import DeepClusterer
    from .methods import method_class

    return issubclass(method_class(group.method), DeepClusterer)


def rule_for(group: Group, record: dict[str, Any], cpu: str) -> str:
    """'exact' where the run is bit-reproducible here (see the module's docstring), else 'distribution'."""
    provenance = record.get("provenance", {})
    same_machine = provenance.get("cpu") == cpu and provenance.get("threads") == THREADS
    return "exact" if same_machine or not is_deep(group) else "distribution"


@dataclass
class Item:
    """One shipped run chosen for re-computation."""

    group: Group
    path: Path
    record: dict[str, Any]
    rule: str
    tier: int

    @property
    def seed(self) -> int:
        return int(self.record["seed"])

    @property
    def cell(self) -> str:
        return self.record["dataset"] if self.group.kind == "run" else self.record["task"]


def select_sample(groups: Iterable[Group], budget_s: float = DEFAULT_BUDGET_S, limit: int | None = None,
                  sample_seed: int = 0, max_run_s: float = DEFAULT_MAX_RUN_S, cpu: str | None = None,
                  cells: tuple[set[tuple[str, str]], set[str]] | None = None) -> list[Item]:
    """The sample (module docstring): every method once, headline first, then the other default rows, within
    `budget_s` recorded seconds and `limit` runs. `cpu`: the CPU kind here (default this machine's); `cells`: the
    printed cells and methods (default the papers')."""
    cpu = cpu if cpu is not None else cpu_identity()
    printed, labels = cells if cells is not None else printed_cells()
    groups = [g for g in groups if g.cost <= max_run_s]
    def draw(group: Group) -> Item:
        """One of the configuration's seeds, fixed by sample_seed and the configuration's identity (not by the budget
        or where the checkout lives)."""
        chooser = random.Random(f"{sample_seed}/{group.kind}/{group.identity}")
        path, record = sorted(group.records, key=lambda pr: pr[1]["seed"])[chooser.randrange(len(group.records))]
        return Item(group, path, record, rule_for(group, record, cpu), tier(group, printed, labels))

    def decidable(group: Group) -> bool:
        return all(rule_for(group, r, cpu) == "exact" or len(group.records) >= MIN_DRAWS for _, r in group.records)

    def order(group: Group) -> tuple:
        own = group.method_label in MAIN_TABLE
        return not decidable(group), tier(group, printed, labels), not own, group.cost, group.cell, group.method

    ranked = sorted(groups, key=order)
    first: dict[tuple[str, str], Group] = {}
    for group in ranked:
        first.setdefault((group.kind, group.method), group)
    seen_cells = {(g.kind, g.method, g.cell) for g in first.values()}
    rest, cells_taken = [], set(seen_cells)
    for group in ranked:
        key = (group.kind, group.method, group.cell)
        if tier(group, printed, labels) <= 2 and decidable(group) and key not in cells_taken:
            cells_taken.add(key)
            rest.append(group)
    sample, spent = [], 0.0
    for group in [*sorted(first.values(), key=order), *rest]:
        if limit is not None and len(sample) >= limit:
            break
        if spent + group.cost > budget_s:
            continue
        sample.append(draw(group))
        spent += group.cost
    return sample


def prediction_interval(values: list[float], level: float = LEVEL) -> tuple[float, float] | None:
    """The `level` prediction interval of one new draw from the draws `values` (t-based, clipped to [0, 1]); None
    with fewer than MIN_DRAWS draws."""
    from scipy import stats

    n = len(values)
    if n < MIN_DRAWS:
        return None
    mean, sd = statistics.fmean(values), statistics.stdev(values)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * sd * math.sqrt(1 + 1 / n)
    return max(0.0, mean - half), min(1.0, mean + half)


def exact_differences(shipped: dict[str, Any], again: dict[str, Any], scores: tuple[str, ...]) -> list[str]:
    """What differs between a record and its re-computation (empty: identical labels and equal scores)."""
    problems = []
    if shipped.get("labels") != again.get("labels"):
        problems.append("labels differ")
    problems += [f"{k} {shipped.get(k)} != {again.get(k)}" for k in scores
                 if shipped.get(k) is None or again.get(k) is None
                 or not math.isclose(shipped[k], again[k], rel_tol=0.0, abs_tol=EXACT_TOLERANCE)]
    return problems


@dataclass
class Outcome:
    """A re-computed run judged against its record: `result` is pass, FAIL, undecided or skipped."""

    kind: str
    method: str
    dataset: str
    seed: int
    metric: str
    shipped: float
    recomputed: float | None
    rule: str
    interval: tuple[float, float] | None
    n_draws: int
    result: str
    detail: str
    tier: int
    record: str
    recorded_cpu: str | None
    recorded_s: float
    seconds: float | None


def judge(item: Item, again: dict[str, Any]) -> Outcome:
    """The rule applied to one re-computation (module docstring)."""
    metric = item.group.metric
    draws = item.group.draws
    interval, detail = None, ""
    if item.rule == "exact":
        problems = exact_differences(item.record, again, RUN_SCORES if item.group.kind == "run" else CONCEPT_SCORES)
        result, detail = ("pass", "") if not problems else ("FAIL", "; ".join(problems))
    else:
        interval = prediction_interval(draws)
        if interval is None:
            result, detail = "undecided", f"{len(draws)} shipped draw(s): no usable spread"
        else:
            inside = interval[0] <= again[metric] <= interval[1]
            result = "pass" if inside else "FAIL"
            detail = "" if inside else f"{metric} outside the {LEVEL:.0%} prediction interval"
    return _outcome(item, again.get(metric), result, detail, interval, again.get("seconds"))


def _outcome(item: Item, recomputed: float | None, result: str, detail: str,
             interval: tuple[float, float] | None = None, seconds: float | None = None) -> Outcome:
    root = REFERENCE_RUNS_DIR.parent
    path = item.path.relative_to(root) if item.path.is_relative_to(root) else item.path
    return Outcome(item.group.kind, item.group.method, item.cell, item.seed, item.group.metric,
                   float(item.record[item.group.metric]), recomputed, item.rule, interval, len(item.group.records),
                   result, detail, item.tier, str(path), item.record.get("provenance", {}).get("cpu"),
                   recorded_seconds(item.record), seconds)


def recompute(item: Item, data_dir: str | None = None) -> dict[str, Any]:
    """The item's run computed again from its record's identity, without any cache, on one thread."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(THREADS):
        if item.group.kind == "run":
            from .experiments.runner import run_one

            return run_one(spec_of(item.record), data_dir, profile="verify")
        from .multiclust.runs import ConceptRun, planted_task, run_one as run_concept

        record = item.record
        run = ConceptRun(record["method"], record["task"], int(record["seed"]), record["params"], record["encoder"])
        return run_concept(run, planted_task(run.task), "verify")


def _checked(item: Item, data_dir: str | None) -> Outcome:
    """One item recomputed and judged; data absent here skips it, any other error fails it."""
    from .data.registry import DatasetUnavailable

    start = time.perf_counter()
    try:
        return judge(item, recompute(item, data_dir))
    except (DatasetUnavailable, FileNotFoundError) as err:
        return _outcome(item, None, "skipped", f"data absent: {err}"[:200])
    except Exception as err:  # noqa: BLE001 - a run that no longer computes is a failed verification, reported
        return _outcome(item, None, "FAIL", f"{type(err).__name__}: {err}"[:200], seconds=time.perf_counter() - start)


@dataclass
class Verification:
    outcomes: list[Outcome]
    elapsed_s: float
    jobs: int
    cpu: str
    budget_s: float
    max_run_s: float
    not_sampled: list[str] = field(default_factory=list)  # methods in the stores the sample left out

    @property
    def counts(self) -> dict[str, int]:
        counts = {"pass": 0, "FAIL": 0, "undecided": 0, "skipped": 0}
        for outcome in self.outcomes:
            counts[outcome.result] += 1
        return counts

    @property
    def ok(self) -> bool:
        """No run failed, and at least one passed (a sample skipped whole, data absent, verifies nothing)."""
        return self.counts["FAIL"] == 0 and self.counts["pass"] > 0


def _outcomes(sample: list[Item], jobs: int, data_dir: str | None) -> Iterator[tuple[int, Outcome]]:
    """(position in the sample, outcome) as each run finishes, in `jobs` processes."""
    if jobs == 1:
        yield from ((i, _checked(item, data_dir)) for i, item in enumerate(sample))
        return
    from joblib import Parallel, delayed

    yield from Parallel(n_jobs=jobs, return_as="generator_unordered")(delayed(_checked_at)(i, item, data_dir)
                                                                      for i, item in enumerate(sample))


def _checked_at(position: int, item: Item, data_dir: str | None) -> tuple[int, Outcome]:
    return position, _checked(item, data_dir)


def verify(budget_s: float | None = None, limit: int | None = None, jobs: int = 1, sample_seed: int = 0,
           max_run_s: float = DEFAULT_MAX_RUN_S, data_dir: str | None = None, progress: bool = True,
           runs_root: Path = REFERENCE_RUNS_DIR, concept_root: Path | None = REFERENCE_CONCEPT_RUNS_DIR
           ) -> Verification:
    """Draw the sample from the stores, re-compute it (`jobs` processes, one thread each) and judge every run.
    budget_s: None for DEFAULT_BUDGET_S."""
    start = time.perf_counter()
    budget_s = DEFAULT_BUDGET_S if budget_s is None else budget_s
    groups = load_groups(runs_root, concept_root)
    sample = select_sample(groups, budget_s, limit, sample_seed, max_run_s)
    finished: dict[int, Outcome] = {}
    with tqdm(total=len(sample), desc="verify", unit="run", disable=not progress) as bar:
        for i, outcome in _outcomes(sample, jobs, data_dir):
            finished[i] = outcome
            failed = sum(o.result == "FAIL" for o in finished.values())
            bar.set_postfix_str(f"{failed} FAIL; last {outcome.method} {outcome.dataset} {outcome.result}")
            bar.update(1)
    outcomes = [finished[i] for i in sorted(finished)]
    sampled = {(item.group.kind, item.group.method) for item in sample}
    left_out = sorted({g.method for g in groups if (g.kind, g.method) not in sampled})
    return Verification(outcomes, time.perf_counter() - start, jobs, cpu_identity(), budget_s, max_run_s, left_out)


def _rule_text(outcome: Outcome) -> str:
    if outcome.rule == "exact":
        return "exact"
    if outcome.interval is None:
        return f"PI{LEVEL:.0%} n={outcome.n_draws}"
    return f"PI [{outcome.interval[0]:.3f},{outcome.interval[1]:.3f}] n={outcome.n_draws}"


def summary_table(verification: Verification) -> str:
    """The reviewer's table (at most 100 columns) and totals."""
    header = ("method", "dataset", "seed", "metric", "shipped", "recomputed", "rule", "result")
    rows = [header] + [(o.method, o.dataset, str(o.seed), o.metric, f"{o.shipped:.4f}",
                        "-" if o.recomputed is None else f"{o.recomputed:.4f}", _rule_text(o), o.result)
                       for o in verification.outcomes]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if i in (2, 4, 5) else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
             .rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    counts = verification.counts
    n = len(verification.outcomes)
    exact = sum(o.rule == "exact" for o in verification.outcomes)
    minutes, seconds = divmod(round(verification.elapsed_s), 60)
    lines += ["", f"{n} shipped runs re-computed ({exact} exact, {n - exact} distribution): {counts['pass']} pass, "
                  f"{counts['FAIL']} FAIL, {counts['undecided']} undecided, {counts['skipped']} skipped",
              f"elapsed {minutes} min {seconds:02d} s with {verification.jobs} process(es), {THREADS} thread each, "
              f"on {verification.cpu}"]
    if verification.not_sampled:
        lines += textwrap.wrap(f"methods not sampled (budget {verification.budget_s:.0f} s, runs up to "
                               f"{verification.max_run_s:.0f} s): " + ", ".join(verification.not_sampled), WIDTH)
    for o in verification.outcomes:
        if o.detail and o.result != "pass":
            lines += textwrap.wrap(f"{o.result}: {o.record}: {o.detail}", WIDTH, subsequent_indent="  ")
    return "\n".join(lines)


def write_summary(verification: Verification, out_dir: str | Path) -> tuple[Path, Path]:
    """summary.md (the table in a code block, with the rule) and summary.json (every outcome) under out_dir."""
    from .io import atomic_write_json, atomic_write_text

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = ("# make verify\n\nShipped runs re-computed at the full protocol and compared with their records "
            "(rule: `mmc_core/verify.py`).\n\n```\n" + summary_table(verification) + "\n```\n")
    md = atomic_write_text(out / "summary.md", text)
    payload = {"elapsed_s": round(verification.elapsed_s, 1), "jobs": verification.jobs, "threads": THREADS,
               "cpu": verification.cpu, "machine": platform.machine(), "budget_s": verification.budget_s,
               "max_run_s": verification.max_run_s,
               "level": LEVEL, "counts": verification.counts, "not_sampled": verification.not_sampled,
               "outcomes": [asdict(o) for o in verification.outcomes]}
    return md, atomic_write_json(out / "summary.json", payload)
