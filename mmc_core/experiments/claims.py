"""Claims of the papers, re-tested: each gets a verdict computed from the reproduced numbers, with its evidence.

The notebooks only call these functions: each named claim function takes the summaries the notebook already has
(experiments.summarize / paper_rows / compare, or the recorded run outputs) and the run's profile, and returns a
Claim. Row names are the runs' labels (make_grid's (name, params, label) entries), e.g. SDCIB.ABLATIONS keys.
Every comparison of two rows is decided by one rule (experiments.uncertainty): Welch's 95% interval of the
difference of the means, "holds" / "does not hold" / "inconclusive", the evidence giving each row's n and the
interval; a claim with rows not run is "not decided". At a profile that compares nothing (smoke: a few epochs) every
claim is "not testable here".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .profiles import Profile
from .uncertainty import (FAILS, HOLDS, INCONCLUSIVE, NOT_DECIDED, Comparison, Row, all_of, any_of, cell_outcome,
                          difference_row, gain_interval, rows_of, short_rows)

NOT_TESTABLE = "not testable here"
FIDELITY_TOLERANCE = 0.02  # the Event fidelity target, 2 points (the reference profile's tolerance)
VERDICTS = (HOLDS, FAILS, INCONCLUSIVE, NOT_DECIDED, NOT_TESTABLE)


@dataclass(frozen=True)
class Claim:
    paper: str
    claim: str
    data: str
    verdict: str
    evidence: str

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}.")


def verdict_from(checks: Sequence[bool]) -> str:
    """For per-run checks with no interval (a property every run must have): all pass: holds; any fails: does not
    hold; no checks (no data): not testable here."""
    if not checks:
        return NOT_TESTABLE
    return HOLDS if all(checks) else FAILS


def verdict(checks: Sequence[bool], profile: Profile) -> str:
    """A claim's verdict from per-run checks; at a profile that compares nothing (smoke) nothing is concluded."""
    return verdict_from(checks) if profile.compares else NOT_TESTABLE


def decided(outcome: str, parts: int, profile: Profile, missing: str = "") -> str:
    """A claim's verdict from its comparisons' combined outcome (uncertainty.all_of / any_of): not testable at
    smoke or with nothing compared, not decided when rows are missing."""
    if not profile.compares or (not parts and not missing):
        return NOT_TESTABLE
    return NOT_DECIDED if missing else outcome


def evidence(parts: Sequence[str], rows: Sequence[tuple[str, Row]] = (), missing: str = "") -> str:
    """A claim's evidence: rows not run, short rows (n < 5), then each part."""
    lead = [text for text in (missing, short_rows(rows)) if text]
    return "; ".join(lead + list(parts))


def claims_frame(claims: list[Claim]) -> pd.DataFrame:
    return pd.DataFrame([asdict(c) for c in claims], columns=["paper", "claim", "data", "verdict", "evidence"])


def _compare_all(tests: Sequence[Comparison]) -> str:
    return all_of(t.outcome for t in tests)


def _rows_used(where: str, tests: Sequence[Comparison]) -> list[tuple[str, Row]]:
    return [(where, r) for t in tests for r in (t.a, t.b)]


def beats_all(rows: pd.DataFrame, method: str, metric: str = "acc") -> tuple[list[str], list[str], list]:
    """Per dataset: does `method` beat every other method (Welch comparisons of its row with each other row)? rows:
    one row per (dataset, method) (experiments.paper_rows). Returns per dataset its outcome and evidence (the
    comparison with the best other mean, and how many others it beats decisively), and the rows used."""
    outcomes, texts, used = [], [], []
    for dataset, table in rows_of(rows, column="method_label", metric=metric).items():
        ours = table.get(method)
        others = [r for name, r in table.items() if name != method]
        if ours is None or not others:
            continue
        tests = [Comparison(ours, other) for other in others]
        best = max(tests, key=lambda t: t.b.mean)
        outcome = _compare_all(tests)
        beaten = sum(t.outcome == HOLDS for t in tests)
        outcomes.append(outcome)
        texts.append(f"{dataset}: vs best other {best.text()}; decisively beats {beaten} of {len(tests)} others")
        used += _rows_used(dataset, tests)
    return outcomes, texts, used


def ordered(means: dict[str, float]) -> bool:
    """True when the values are strictly decreasing in the given order (e.g. full > AVG > w/o IV)."""
    values = list(means.values())
    return all(a > b for a, b in zip(values, values[1:]))


def converges_early(history: pd.DataFrame, share: float = 0.8, acc_range: float = 0.05) -> tuple[bool, str] | None:
    """The "fast/rapid convergence" check on one run's history: at least `share` of the total loss decrease
    happens in the first 20% of epochs, and ACC varies by less than `acc_range` over the last quarter.
    None when the run is too short (< 5 epochs) to say anything."""
    n = len(history)
    if n < 5:
        return None
    drop_total = history.total.iloc[0] - history.total.min()
    early = history.total.iloc[0] - history.total.iloc[: max(1, n // 5)].min()
    late_acc = history.acc.iloc[-max(1, n // 4):]
    spread = late_acc.max() - late_acc.min()
    ok = bool(drop_total > 0 and early >= share * drop_total and spread < acc_range)
    return ok, (f"{early / drop_total if drop_total > 0 else 0:.0%} of the loss decrease in the first 20% of "
                f"epochs; last-quarter ACC range {spread:.3f}")


def mass_share(weights) -> float:
    """Fraction of samples that together hold half of the total weight (small = sparse)."""
    s = np.sort(np.asarray(weights, dtype=float))[::-1]
    return float((np.searchsorted(np.cumsum(s), 0.5 * s.sum()) + 1) / len(s))


def _on(table: Mapping[str, object]) -> str:
    """The datasets a claim was tested on, as its `data` field."""
    return ", ".join(table)


def _pairwise_claim(paper: str, text: str, summary: pd.DataFrame, pairs: Sequence[tuple[str, str]],
                    profile: Profile, metric: str = "acc", column: str = "row") -> Claim:
    """A claim that row a beats row b for every (a, b) of `pairs`, on every dataset of the summary. A dataset
    missing a row leaves the claim not decided, naming the row."""
    table = rows_of(summary, column=column, metric=metric)
    outcomes, parts, used, missing = [], [], [], []
    for dataset, rows in table.items():
        absent = sorted({name for pair in pairs for name in pair} - set(rows))
        if absent:
            missing.append(f"{dataset}: {', '.join(absent)}")
            continue
        tests = [Comparison(rows[a], rows[b]) for a, b in pairs]
        outcomes.append(_compare_all(tests))
        parts.append(f"{dataset}: " + "; ".join(t.text() for t in tests))
        used += _rows_used(dataset, tests)
    gap = f"rows not run: {'; '.join(missing)}" if missing else ""
    return Claim(paper, text, _on(table), decided(all_of(outcomes), len(outcomes), profile, gap),
                 evidence(parts, used, gap))


# Claims shared by the papers -----------------------------------------------------------------------------------

def beats_every_baseline(rows: pd.DataFrame, method: str, datasets: Sequence[str], profile: Profile,
                         narrowed: bool = False, expected: Sequence[str] = ()) -> Claim:
    """The headline claim of `method`'s paper: its mean ACC beats every other row's on every dataset run (each
    comparison decided by its interval). rows: experiments.paper_rows (KM/Ncuts stand as their oracle best view);
    narrowed: only some methods were run, and the claim then names the rows it covers; expected: the rows the grid
    asked for — any without a run on some dataset (e.g. a baseline too slow to ship) is named, and the claim is then
    not decided."""
    outcomes, texts, used = beats_all(rows, method, "acc")
    compared = [d for d in datasets if any(e.startswith(f"{d}: ") for e in texts)]  # both method and others run
    text = f"{method} beats every baseline (mean ACC; KM/Ncuts as oracle best view)"
    if narrowed:
        text += f" — only the rows run: {', '.join(sorted(set(rows.method_label)))}"
    missing = {d: sorted(set(expected) - set(rows[rows.dataset == d].method_label)) for d in compared}
    gap = "; ".join(f"{d}: {', '.join(m)}" for d, m in missing.items() if m)
    gap = f"rows not run: {gap}" if gap else ""
    return Claim(method, text, ", ".join(compared), decided(all_of(outcomes), len(outcomes), profile, gap),
                 evidence(texts, used, gap))


def converges_fast(histories: Mapping[str, pd.DataFrame], profile: Profile, paper: str, adjective: str = "fast",
                   share: float = 0.8, acc_range: float = 0.05) -> Claim:
    """The "fast/rapid convergence" claim on one run's history per dataset (converges_early: a property of each
    run, checked per run, no interval); histories too short to say anything (smoke) are left out."""
    checked = {name: c for name, h in histories.items() if (c := converges_early(h, share, acc_range)) is not None}
    return Claim(paper, f"{adjective} convergence ({share:.0%} of the loss decrease in the first 20% of epochs, "
                 f"last-quarter ACC range < {acc_range:g})", ", ".join(histories),
                 verdict([ok for ok, _ in checked.values()], profile),
                 "; ".join(f"{name} (n=1 run): {text}" for name, (_, text) in checked.items()) or "too few epochs")


# IDMC ------------------------------------------------------------------------------------------------------------

def idmc_beats_amkm(rows: pd.DataFrame, profile: Profile,
                    on: Sequence[str] = ("Handwritten", "MSRC-v1", "Scene-15", "CMU-MOSI")) -> Claim:
    """IDMC's mean ACC beats AmKM on both its raw and its min-max scaled inputs (rows labelled "AmKM" and
    "AmKM (min-max)"), on the datasets of `on` that were run with all three rows (CMU-MOSI: the one substitute whose
    views are genuinely different modalities, as IDMC's own datasets')."""
    table = rows_of(rows, column="method_label")
    data, outcomes, parts, used = [], [], [], []
    for d in on:
        r = table.get(d, {})
        if not {"IDMC", "AmKM", "AmKM (min-max)"} <= set(r):
            continue
        data.append(d)
        tests = [Comparison(r["IDMC"], r["AmKM"]), Comparison(r["IDMC"], r["AmKM (min-max)"])]
        outcomes.append(_compare_all(tests))
        parts.append(f"{d}: " + "; ".join(t.text() for t in tests))
        used += _rows_used(d, tests)
    return Claim("IDMC", "IDMC's mean ACC beats AmKM (raw and min-max inputs)",
                 ", ".join(data) or f"none of {', '.join(on)} run", decided(all_of(outcomes), len(outcomes), profile),
                 evidence(parts, used))


def _drop_claim(summary: pd.DataFrame, rows: Sequence[str], text: str, profile: Profile, share: float,
                at_least: bool, full: str = "full") -> Claim:
    """Removing each of `rows` costs at least (at_least) / less than `share` of the full model's mean ACC: the
    Welch interval of full - ablated against share x full's mean, shown as a share of it."""
    table = rows_of(summary)
    outcomes, parts, used, missing = [], [], [], []
    for dataset, r in table.items():
        absent = [name for name in [full, *rows] if name not in r]
        if absent:
            missing.append(f"{dataset}: {', '.join(absent)}")
            continue
        for name in rows:
            f, a = r[full], r[name]
            test = (Comparison(f, a, margin=share * f.mean, scale=f.mean) if at_least
                    else Comparison(a, f, margin=-share * f.mean, scale=f.mean))
            outcomes.append(test.outcome)
            parts.append(f"{dataset} {name}: costs {(f.mean - a.mean) / f.mean:.1%}; {test.text()}")
            used += _rows_used(dataset, [test])
    gap = f"rows not run: {'; '.join(missing)}" if missing else ""
    return Claim("IDMC", text, _on(table), decided(all_of(outcomes), len(outcomes), profile, gap),
                 evidence(parts, used, gap))


def relative_drop(summary: pd.DataFrame, full: str = "full", metric: str = "acc") -> pd.DataFrame:
    """(full - ablated) / full of the mean `metric`, per dataset and ablation row (the full row left out)."""
    means = summary.pivot_table(index="dataset", columns="row", values=f"{metric}_mean")
    return means.rsub(means[full], axis=0).div(means[full], axis=0).drop(columns=full)


def ddc_removal_costs_most(summary: pd.DataFrame, profile: Profile, at_least: float = 0.4,
                           ddc_row: str = "w/o L_DDC") -> Claim:
    """IDMC Table 2: removing L_DDC costs at least `at_least` of the full model's ACC."""
    return _drop_claim(summary, [ddc_row], f"removing L_DDC costs at least {at_least:.0%} ACC", profile, at_least,
                       at_least=True)


def other_removals_cost_little(summary: pd.DataFrame, profile: Profile, below: float = 0.2,
                               ddc_row: str = "w/o L_DDC") -> Claim:
    """IDMC Table 2: removing any other loss (L_recon, L_align, L_KL) costs less than `below` of the ACC."""
    others = sorted(set(summary.row) - {"full", ddc_row})
    return _drop_claim(summary, others, f"removing L_recon, L_align or L_KL costs less than {below:.0%} ACC",
                       profile, below, at_least=False)


def interest_ablation_ordered(summary: pd.DataFrame, order: Sequence[str], profile: Profile) -> Claim:
    """IDMC Figure 3: mean ACC strictly decreasing from the full model through IDMC-AVG to w/o IV. order: the
    three rows' labels in that order (IDMC.VARIANTS)."""
    pairs = list(zip(order, order[1:]))
    return _pairwise_claim("IDMC", "full > IDMC-AVG > w/o IV (mean ACC)", summary, pairs, profile)


def interest_is_sparse(interest: Mapping[str, np.ndarray], profile: Profile, share: float = 0.25) -> Claim:
    """IDMC Figure 6: on every view, half of a batch's interest is held by at most `share` of its samples.
    interest: dataset -> (views, batch) interest values of one batch (the run output "interest"): a property of
    each view's values, checked per view, no interval."""
    checks, parts = [], []
    for dataset, w in interest.items():
        w = np.asarray(w, dtype=float)
        shares = [mass_share(v) for v in w]
        checks += [s <= share for s in shares]
        parts.append(f"{dataset} (n=1 run, {w.shape[1]} samples per view): half the interest held by "
                     f"{', '.join(f'{s:.0%}' for s in shares)} of the batch (per view); max value {w.max():.3f}; "
                     f"view-to-view correlation {np.corrcoef(w).mean():.2f}")
    return Claim("IDMC", f"interest values are sparse (half the interest on <= {share:.0%} of a batch)",
                 ", ".join(interest), verdict(checks, profile), "; ".join(parts))


def interest_plugs_in(summary: pd.DataFrame, profile: Profile, base: str = "CoMVC") -> Claim:
    """Not in the paper: IDMC's interest values inside another method (`base`) raise its mean ACC. summary: the
    two methods' rows (method_label `base` and its with-interest variant)."""
    plugged = next(m for m in dict.fromkeys(summary.method_label) if m != base)
    return _pairwise_claim("IDMC", f"interest values are plug-and-play: they improve another method ({base})",
                           summary, [(plugged, base)], profile, column="method_label")


# SDCIB -----------------------------------------------------------------------------------------------------------

def event_fidelity(comparison: pd.DataFrame, profile: Profile, method: str = "SDCIB", dataset: str = "Event",
                   tolerance: float = FIDELITY_TOLERANCE) -> Claim:
    """`method` reproduces its printed ACC/NMI on `dataset` within `tolerance` (a fixed target, whatever the
    profile's tolerance: docs/protocol.md): per cell, the 95% interval of our mean must lie inside printed +-
    tolerance (uncertainty.cell_outcome); nothing is concluded at smoke. comparison: experiments.compare of the main
    table. A dataset that was not run is not testable, not a miss."""
    text = f"{dataset}: {method} reproduces the printed ACC/NMI within {100 * tolerance:g} points"
    cells = comparison[(comparison.dataset == dataset) & (comparison.method == method)
                       & comparison.reproduced.notna()]
    if cells.empty:
        return Claim(method, text, dataset, NOT_TESTABLE, f"{dataset} not run")
    outcomes, parts = [], []
    for c in cells.itertuples():
        row = Row(c.metric.upper(), c.reproduced, getattr(c, "std", np.nan), int(getattr(c, "n_seeds", 1)))
        cell, low, high = cell_outcome(row, c.reported, tolerance)
        outcomes.append(HOLDS if cell == "within tolerance" else INCONCLUSIVE if cell == INCONCLUSIVE else FAILS)
        interval = "no interval" if np.isnan(low) else f"ours - printed in [{low:+.3f}, {high:+.3f}]"
        parts.append(f"{row.text()} vs printed {c.reported:.3f} ({interval}): {cell}")
    rows = [(dataset, Row(c.metric.upper(), c.reproduced, np.nan, int(getattr(c, "n_seeds", 1))))
            for c in cells.itertuples()]
    return Claim(method, text, dataset, decided(all_of(outcomes), len(outcomes), profile), evidence(parts, rows))


def _layer_rows(summary: pd.DataFrame, layers: Sequence[int]) -> dict[str, dict[str, Row]]:
    wanted = [f"L={n}" for n in layers]
    return {d: {k: r[k] for k in wanted if k in r} for d, r in rows_of(summary).items()}


def best_layer_count(summary: pd.DataFrame, layers: Sequence[int], profile: Profile, best: int = 4) -> Claim:
    """SDCIB: `best` hidden layers give the best mean ACC among `layers` (rows labelled "L=<n>"): L=best beats every
    other count, each by its interval; not testable when `best` was not run."""
    table = _layer_rows(summary, layers)
    outcomes, parts, used = [], [], []
    for d, rows in table.items():
        if f"L={best}" not in rows or len(rows) < 2:
            continue
        tests = [Comparison(rows[f"L={best}"], r) for k, r in rows.items() if k != f"L={best}"]
        outcomes.append(_compare_all(tests))
        winner = max(rows.values(), key=lambda r: r.mean)
        closest = max(tests, key=lambda t: t.b.mean)
        parts.append(f"{d}: highest mean {winner.name}; L={best} vs closest: {closest.text()}")
        used += _rows_used(d, tests)
    return Claim("SDCIB", f"{best} hidden layers give the best ACC", _on(table),
                 decided(all_of(outcomes), len(outcomes), profile), evidence(parts, used))


def more_layers_not_better(summary: pd.DataFrame, layers: Sequence[int], profile: Profile) -> Claim:
    """SDCIB: more layers are not necessarily better: some deeper network does worse than a shallower one (a
    decisive drop between some L < L'), per dataset."""
    table = _layer_rows(summary, layers)
    outcomes, parts, used = [], [], []
    for d, rows in table.items():
        names = list(rows)
        tests = [Comparison(rows[a], rows[b]) for i, a in enumerate(names) for b in names[i + 1:]]
        if not tests:  # one layer count: nothing to compare
            continue
        outcomes.append(any_of(t.outcome for t in tests))
        largest = max(tests, key=lambda t: t.diff)
        parts.append(f"{d}: " + ", ".join(f"{r.mean:.3f}" for r in rows.values())
                     + f"; largest drop with depth: {largest.text()}")
        used += _rows_used(d, tests)
    return Claim("SDCIB", "more layers are not necessarily better (some deeper network does worse)", _on(table),
                 decided(all_of(outcomes), len(outcomes), profile), evidence(parts, used))


def removing_both_hurts_most(summary: pd.DataFrame, profile: Profile) -> Claim:
    """SDCIB ablation: the row without both consistency terms ("remove both") is below every other row."""
    others = [r for r in dict.fromkeys(summary.row) if r != "remove both"]
    return _pairwise_claim("SDCIB", "removing both consistency terms hurts most", summary,
                           [(r, "remove both") for r in others], profile)


def each_component_contributes(summary: pd.DataFrame, profile: Profile) -> Claim:
    """SDCIB ablation: the full model beats every ablated row."""
    ablations = [r for r in dict.fromkeys(summary.row) if r != "full"]
    return _pairwise_claim("SDCIB", "each component contributes (full beats every ablation)", summary,
                           [("full", r) for r in ablations], profile)


def hidden_terms_help(summary: pd.DataFrame, profile: Profile) -> Claim:
    """SDCIB: the terms on the hidden layers help: "full" beats "no hidden" (last layer only)."""
    return _pairwise_claim("SDCIB", "hidden-layer terms help (full beats no-hidden)", summary,
                           [("full", "no hidden")], profile)


# DDMC ------------------------------------------------------------------------------------------------------------

def ddmc_ablation_ordered(summary: pd.DataFrame, profile: Profile) -> Claim:
    """DDMC ablation: every module helps — the full model beats both one-module rows, and each one-module row beats
    DDC alone (rows: DDMC.ABLATIONS keys), per dataset."""
    pairs = [("full", "DDC+FDL"), ("full", "DDC+CDL"), ("DDC+FDL", "DDC"), ("DDC+CDL", "DDC")]
    return _pairwise_claim("DDMC", "each module helps (full > DDC+FDL, DDC+CDL > DDC alone)", summary, pairs,
                           profile)


def enhancement_beats_fusion(summary: pd.DataFrame, profile: Profile) -> Claim:
    """DDMC: clustering the enhanced dominant modality beats clustering the fusion of all modalities, on every
    dataset (rows "enhance" and "fuse")."""
    return _pairwise_claim("DDMC", "enhancing the dominant modality beats fusing all modalities", summary,
                           [("enhance", "fuse")], profile)


def enhancement_gain_by_share(summary: pd.DataFrame, shares: Mapping[str, float]) -> pd.Series:
    """Mean ACC of "enhance" minus "fuse" per degraded dataset, indexed by its shuffled share (sorted). shares maps
    the derived dataset names to their share."""
    gains = _gains(summary, shares)
    return pd.Series({s: g.mean for s, g in gains.items()}).sort_index()


def _gains(summary: pd.DataFrame, shares: Mapping[str, float]) -> dict[float, Row]:
    table = rows_of(summary)
    return {shares[d]: difference_row(r["enhance"], r["fuse"], f"share {shares[d]:g}")
            for d, r in table.items() if d in shares}


def gain_grows_with_unevenness(summary: pd.DataFrame, shares: Mapping[str, float], profile: Profile,
                               min_correlation: float = 0.7) -> Claim:
    """The controlled test of "most where modality quality is uneven": as a growing share of the other views' rows
    is shuffled (the dominant view intact), enhancement's ACC advantage over fusion grows — the Spearman correlation
    of gain with share, with its 95% interval under the gains' seed uncertainty (uncertainty.gain_interval): holds
    when the whole interval is >= min_correlation, does not hold when it is wholly below."""
    text = "enhancement's advantage grows as modality quality becomes uneven (controlled)"
    gains = _gains(summary, shares)
    if len(gains) < 3:
        return Claim("DDMC", text, ", ".join(shares), NOT_TESTABLE, "fewer than three quality levels run")
    rho, low, high = gain_interval(gains)
    outcome = (INCONCLUSIVE if np.isnan(low) else HOLDS if low >= min_correlation
               else FAILS if high < min_correlation else INCONCLUSIVE)
    parts = [", ".join(f"share {s:g}: {g.mean:+.3f} (n={g.n})" for s, g in sorted(gains.items()))
             + f"; Spearman {rho:.2f} [{low:.2f}, {high:.2f}] (needs >= {min_correlation:g})"]
    return Claim("DDMC", text, ", ".join(shares), decided(outcome, 1, profile),
                 evidence(parts, [("", g) for g in gains.values()]))


# Multi-DProxy (controlled: planted concepts) ------------------------------------------------------------------------

def _concepts(table: Mapping[str, object]) -> str:
    return f"planted data, concepts {', '.join(table)}"


def concept_follows_request(summary: pd.DataFrame, profile: Profile, row: str = "Multi-DProxy") -> Claim:
    """Personalization: asked for a concept, the representation clusters by it and not by the set's other concept
    (NMI on the asked concept above NMI on the other, per concept, by the interval of the difference)."""
    own = rows_of(summary, "concept", "label", "nmi")
    other = rows_of(summary, "concept", "label", "other_nmi")
    outcomes, parts, used = [], [], []
    for concept in own:
        test = Comparison(Row(f"NMI on {concept}", own[concept][row].mean, own[concept][row].std,
                              own[concept][row].n),
                          Row("on the other concept", other[concept][row].mean, other[concept][row].std,
                              other[concept][row].n))
        outcomes.append(test.outcome)
        parts.append(f"asked {concept}: {test.text()}")
        used += _rows_used(concept, [test])
    return Claim("Multi-DProxy", f"{row}'s clustering follows the concept the user asks for", _concepts(own),
                 decided(all_of(outcomes), len(outcomes), profile), evidence(parts, used))


def candidates_converge(active: Mapping[str, Sequence[str]], relevant: Mapping[str, set[str]],
                        profile: Profile) -> Claim:
    """Dynamic candidate management ends with the M relevant words: active maps each run (task and seed) to its
    surviving words, relevant each run to its task's relevant words (a property of each run, checked per run)."""
    checks = [set(words) == relevant[run] for run, words in active.items()]
    wrong = [f"{run}: kept {sorted(active[run])}" for run, ok in zip(active, checks) if not ok]
    text = f"{sum(checks)} of {len(checks)} runs end with exactly the relevant words" + (
        f"; {'; '.join(wrong)}" if wrong else "")
    return Claim("Multi-DProxy", "candidate management converges to the M relevant words", "planted data",
                 verdict(checks, profile), text)


def full_beats_rows(summary: pd.DataFrame, rows: Sequence[str], claim: str, profile: Profile,
                    full: str = "Multi-DProxy") -> Claim:
    """The full model's NMI beats each of `rows` on every concept, each by the interval of the difference."""
    table = rows_of(summary, "concept", "label", "nmi")
    outcomes, parts, used = [], [], []
    for concept, r in table.items():
        tests = [Comparison(r[full], r[name]) for name in rows]
        outcomes.append(_compare_all(tests))
        parts.append(f"{concept}: " + "; ".join(t.text() for t in tests))
        used += _rows_used(concept, tests)
    return Claim("Multi-DProxy", claim, _concepts(table), decided(all_of(outcomes), len(outcomes), profile),
                 evidence(parts, used))


def largest_drop(summary: pd.DataFrame, row: str, rows: Sequence[str], claim: str, profile: Profile,
                 full: str = "Multi-DProxy") -> Claim:
    """Removing `row`'s component costs the most NMI among the ablation `rows`, on every concept: the full model
    beats `row`, and every other ablation row beats `row`, each by its interval."""
    table = rows_of(summary, "concept", "label", "nmi")
    outcomes, parts, used = [], [], []
    for concept, r in table.items():
        tests = [Comparison(r[full], r[row])] + [Comparison(r[o], r[row]) for o in rows if o != row]
        outcomes.append(_compare_all(tests))
        drops = sorted(((o, r[full].mean - r[o].mean) for o in rows), key=lambda x: -x[1])
        parts.append(f"{concept}: NMI drop from the full model " + ", ".join(f"{o} {d:+.3f}" for o, d in drops)
                     + "; " + "; ".join(t.text() for t in tests))
        used += _rows_used(concept, tests)
    return Claim("Multi-DProxy", claim, _concepts(table), decided(all_of(outcomes), len(outcomes), profile),
                 evidence(parts, used))
