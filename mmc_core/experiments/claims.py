"""Claims of the papers, re-tested: each gets a verdict computed from the reproduced numbers, with its evidence.

The notebooks only call these functions: each named claim function takes the summaries the notebook already has
(experiments.summarize / paper_rows / compare, or the recorded run outputs) and the run's profile, and returns a
Claim. Row names are the runs' labels (make_grid's (name, params, label) entries), e.g. SDCIB.ABLATIONS keys.
At a profile that compares nothing (smoke: a few epochs) every claim is "not testable here".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .profiles import Profile

NOT_TESTABLE = "not testable here"
FIDELITY_TOLERANCE = 0.02  # the Event fidelity target, 2 points (the reference profile's tolerance)
VERDICTS = ("holds", "does not hold", "mixed", "not testable here")


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
    """All checks pass: holds; none: does not hold; some: mixed; no checks (no data): not testable here."""
    if not checks:
        return NOT_TESTABLE
    return "holds" if all(checks) else "does not hold" if not any(checks) else "mixed"


def verdict(checks: Sequence[bool], profile: Profile) -> str:
    """A claim's verdict from its checks; at a profile that compares nothing (smoke) nothing is concluded."""
    return verdict_from(checks) if profile.compares else NOT_TESTABLE


def claims_frame(claims: list[Claim]) -> pd.DataFrame:
    return pd.DataFrame([asdict(c) for c in claims], columns=["paper", "claim", "data", "verdict", "evidence"])


def beats_all(rows: pd.DataFrame, method: str, metric: str = "acc") -> tuple[list[bool], list[str]]:
    """Per dataset: does `method`'s mean beat every other method's mean? rows: one row per (dataset, method)
    (experiments.paper_rows), with `<metric>_mean` columns."""
    checks, evidence = [], []
    for dataset, group in rows.groupby("dataset", sort=False):
        ours = group[group.method_label == method]
        others = group[group.method_label != method]
        if ours.empty or others.empty:
            continue
        best = others.loc[others[f"{metric}_mean"].idxmax()]
        value = float(ours[f"{metric}_mean"].iloc[0])
        checks.append(value > best[f"{metric}_mean"])
        evidence.append(f"{dataset}: {method} {value:.3f} vs best other {best.method_label} {best[f'{metric}_mean']:.3f}")
    return checks, evidence


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


def row_means(summary: pd.DataFrame, metric: str = "acc", column: str = "row") -> pd.DataFrame:
    """Mean `metric` per dataset (index, sorted) and row (columns, sorted): what the ablation claims compare."""
    return summary.pivot_table(index="dataset", columns=column, values=f"{metric}_mean")


def _on(means: pd.DataFrame) -> str:
    """The datasets a claim was tested on, as its `data` field."""
    return ", ".join(means.index)


# Claims shared by the papers -----------------------------------------------------------------------------------

def beats_every_baseline(rows: pd.DataFrame, method: str, datasets: Sequence[str], profile: Profile,
                         narrowed: bool = False, expected: Sequence[str] = ()) -> Claim:
    """The headline claim of `method`'s paper: its mean ACC beats every other row's on every dataset run. rows:
    experiments.paper_rows (KM/Ncuts stand as their oracle best view); narrowed: only some methods were run, and
    the claim then names the rows it covers; expected: the rows the grid asked for — any without a run on some
    dataset (e.g. a baseline too slow to ship) is named in the claim, which then covers only the rows run."""
    checks, evidence = beats_all(rows, method, "acc")
    compared = [d for d in datasets if any(e.startswith(f"{d}: ") for e in evidence)]  # both method and others run
    text = f"{method} beats every baseline (mean ACC; KM/Ncuts as oracle best view)"
    if narrowed:
        text += f" — only the rows run: {', '.join(sorted(set(rows.method_label)))}"
    missing = {d: sorted(set(expected) - set(rows[rows.dataset == d].method_label)) for d in compared}
    missing = {d: m for d, m in missing.items() if m}
    if missing:
        text += " — rows not run: " + "; ".join(f"{d}: {', '.join(m)}" for d, m in missing.items())
    return Claim(method, text, ", ".join(compared), verdict(checks, profile), "; ".join(evidence))


def converges_fast(histories: Mapping[str, pd.DataFrame], profile: Profile, paper: str, adjective: str = "fast",
                   share: float = 0.8, acc_range: float = 0.05) -> Claim:
    """The "fast/rapid convergence" claim on one run's history per dataset (converges_early); histories too short
    to say anything (smoke) are left out."""
    checked = {name: c for name, h in histories.items() if (c := converges_early(h, share, acc_range)) is not None}
    return Claim(paper, f"{adjective} convergence ({share:.0%} of the loss decrease in the first 20% of epochs, "
                 f"last-quarter ACC range < {acc_range:g})", ", ".join(histories),
                 verdict([ok for ok, _ in checked.values()], profile),
                 "; ".join(f"{name}: {text}" for name, (_, text) in checked.items()) or "too few epochs")


# IDMC ------------------------------------------------------------------------------------------------------------

def idmc_beats_amkm(rows: pd.DataFrame, profile: Profile,
                    on: Sequence[str] = ("Handwritten", "MSRC-v1", "Scene-15")) -> Claim:
    """IDMC's mean ACC beats AmKM on both its raw and its min-max scaled inputs (rows labelled "AmKM" and
    "AmKM (min-max)"), on the datasets of `on` that were run with all three rows."""
    data, checks, evidence = [], [], []
    for d in on:
        r = rows[rows.dataset == d].set_index("method_label").acc_mean
        if not {"IDMC", "AmKM", "AmKM (min-max)"} <= set(r.index):
            continue
        data.append(d)
        checks.append(r["IDMC"] > max(r["AmKM"], r["AmKM (min-max)"]))
        evidence.append(f"{d}: IDMC {r['IDMC']:.3f} vs AmKM raw {r['AmKM']:.3f} / min-max {r['AmKM (min-max)']:.3f}")
    return Claim("IDMC", "IDMC's mean ACC beats AmKM (raw and min-max inputs)",
                 ", ".join(data) or f"none of {', '.join(on)} run", verdict(checks, profile), "; ".join(evidence))


def relative_drop(summary: pd.DataFrame, full: str = "full", metric: str = "acc") -> pd.DataFrame:
    """(full - ablated) / full of the mean `metric`, per dataset and ablation row (the full row left out)."""
    means = row_means(summary, metric)
    return means.rsub(means[full], axis=0).div(means[full], axis=0).drop(columns=full)


def ddc_removal_costs_most(summary: pd.DataFrame, profile: Profile, at_least: float = 0.4,
                           ddc_row: str = "w/o L_DDC") -> Claim:
    """IDMC Table 2: removing L_DDC costs at least `at_least` of the full model's ACC (relative_drop)."""
    drop = relative_drop(summary)
    return Claim("IDMC", f"removing L_DDC costs at least {at_least:.0%} ACC", _on(drop),
                 verdict([drop.loc[d, ddc_row] >= at_least for d in drop.index], profile),
                 "; ".join(f"{d}: {drop.loc[d, ddc_row]:.1%}" for d in drop.index))


def other_removals_cost_little(summary: pd.DataFrame, profile: Profile, below: float = 0.2,
                               ddc_row: str = "w/o L_DDC") -> Claim:
    """IDMC Table 2: removing any other loss (L_recon, L_align, L_KL) costs less than `below` of the ACC."""
    drop = relative_drop(summary)
    cells = [(d, c) for d in drop.index for c in drop.columns if c != ddc_row]
    return Claim("IDMC", f"removing L_recon, L_align or L_KL costs less than {below:.0%} ACC", _on(drop),
                 verdict([drop.loc[d, c] < below for d, c in cells], profile),
                 "; ".join(f"{d} {c}: {drop.loc[d, c]:.1%}" for d, c in cells))


def interest_ablation_ordered(summary: pd.DataFrame, order: Sequence[str], profile: Profile) -> Claim:
    """IDMC Figure 3: mean ACC strictly decreasing from the full model through IDMC-AVG to w/o IV. order: the
    three rows' labels in that order (IDMC.VARIANTS)."""
    acc = row_means(summary)
    return Claim("IDMC", "full > IDMC-AVG > w/o IV (mean ACC)", _on(acc),
                 verdict([ordered({k: acc.loc[d, k] for k in order}) for d in acc.index], profile),
                 "; ".join(f"{d}: " + " / ".join(f"{acc.loc[d, k]:.3f}" for k in order) for d in acc.index))


def interest_is_sparse(interest: Mapping[str, np.ndarray], profile: Profile, share: float = 0.25) -> Claim:
    """IDMC Figure 6: on every view, half of a batch's interest is held by at most `share` of its samples.
    interest: dataset -> (views, batch) interest values of one batch (the run output "interest")."""
    checks, evidence = [], []
    for dataset, w in interest.items():
        w = np.asarray(w, dtype=float)
        shares = [mass_share(v) for v in w]
        checks += [s <= share for s in shares]
        evidence.append(f"{dataset}: half the interest held by {', '.join(f'{s:.0%}' for s in shares)} of the batch "
                        f"(per view); max value {w.max():.3f}; view-to-view correlation {np.corrcoef(w).mean():.2f}")
    return Claim("IDMC", f"interest values are sparse (half the interest on <= {share:.0%} of a batch)",
                 ", ".join(interest), verdict(checks, profile), "; ".join(evidence))


def interest_plugs_in(summary: pd.DataFrame, profile: Profile, base: str = "CoMVC") -> Claim:
    """Not in the paper: IDMC's interest values inside another method (`base`) raise its mean ACC. summary: the
    two methods' rows (method_label `base` and its with-interest variant)."""
    acc = row_means(summary, column="method_label")
    plugged = [c for c in acc.columns if c != base][0]
    return Claim("IDMC", f"interest values are plug-and-play: they improve another method ({base})", _on(acc),
                 verdict([acc.loc[d, plugged] > acc.loc[d, base] for d in acc.index], profile),
                 "; ".join(f"{d}: {base} {acc.loc[d, base]:.3f} -> with IV {acc.loc[d, plugged]:.3f}"
                           for d in acc.index))


# SDCIB -----------------------------------------------------------------------------------------------------------

def event_fidelity(comparison: pd.DataFrame, profile: Profile, method: str = "SDCIB", dataset: str = "Event",
                   tolerance: float = FIDELITY_TOLERANCE) -> Claim:
    """`method` reproduces its printed ACC/NMI on `dataset` within `tolerance` (a fixed target, whatever the
    profile's tolerance: docs/protocol.md); nothing is concluded at smoke. comparison: experiments.compare of the
    main table. A dataset that was not run is not testable, not a miss."""
    text = f"{dataset}: {method} reproduces the printed ACC/NMI within {100 * tolerance:g} points"
    cells = comparison[(comparison.dataset == dataset) & (comparison.method == method)
                       & comparison.reproduced.notna()]
    if cells.empty:
        return Claim(method, text, dataset, NOT_TESTABLE, f"{dataset} not run")
    return Claim(method, text, dataset,
                 verdict([abs(c.reproduced - c.reported) <= tolerance for c in cells.itertuples()], profile),
                 "; ".join(f"{c.metric.upper()} {c.reproduced:.3f} vs printed {c.reported:.3f}"
                           for c in cells.itertuples()))


def _layer_means(summary: pd.DataFrame, layers: Sequence[int]) -> pd.DataFrame:
    return row_means(summary)[[f"L={n}" for n in layers]]


def best_layer_count(summary: pd.DataFrame, layers: Sequence[int], profile: Profile, best: int = 4) -> Claim:
    """SDCIB: `best` hidden layers give the best mean ACC among `layers` (rows labelled "L=<n>"); not testable
    when `best` was not run."""
    acc = _layer_means(summary, layers)
    winner = acc.idxmax(axis=1)
    checks = [winner[d] == f"L={best}" for d in acc.index] if best in layers else []
    return Claim("SDCIB", f"{best} hidden layers give the best ACC", _on(acc), verdict(checks, profile),
                 "; ".join(f"{d}: best {winner[d]} ({acc.loc[d].max():.3f})" for d in acc.index))


def more_layers_not_better(summary: pd.DataFrame, layers: Sequence[int], profile: Profile) -> Claim:
    """SDCIB: more layers are not necessarily better: mean ACC is not increasing in L (rows labelled "L=<n>")."""
    acc = _layer_means(summary, layers)
    return Claim("SDCIB", "more layers are not necessarily better (ACC not increasing in L)", _on(acc),
                 verdict([not acc.loc[d].is_monotonic_increasing for d in acc.index], profile),
                 "; ".join(f"{d}: " + ", ".join(f"{v:.3f}" for v in acc.loc[d]) for d in acc.index))


def removing_both_hurts_most(summary: pd.DataFrame, profile: Profile) -> Claim:
    """SDCIB ablation: the row without both consistency terms ("remove both") has the lowest mean ACC."""
    acc = row_means(summary)
    return Claim("SDCIB", "removing both consistency terms hurts most", _on(acc),
                 verdict([acc.loc[d].idxmin() == "remove both" for d in acc.index], profile),
                 "; ".join(f"{d}: worst {acc.loc[d].idxmin()} ({acc.loc[d].min():.3f})" for d in acc.index))


def each_component_contributes(summary: pd.DataFrame, profile: Profile) -> Claim:
    """SDCIB ablation: the full model's mean ACC beats every ablated row's."""
    acc = row_means(summary)
    best_ablation = acc.drop(columns="full").max(axis=1)
    return Claim("SDCIB", "each component contributes (full beats every ablation)", _on(acc),
                 verdict([acc.loc[d, "full"] > best_ablation[d] for d in acc.index], profile),
                 "; ".join(f"{d}: full {acc.loc[d, 'full']:.3f} vs best ablation {best_ablation[d]:.3f}"
                           for d in acc.index))


def hidden_terms_help(summary: pd.DataFrame, profile: Profile) -> Claim:
    """SDCIB: the terms on the hidden layers help: "full" beats "no hidden" (last layer only) in mean ACC."""
    acc = row_means(summary)
    return Claim("SDCIB", "hidden-layer terms help (full beats no-hidden)", _on(acc),
                 verdict([acc.loc[d, "full"] > acc.loc[d, "no hidden"] for d in acc.index], profile),
                 "; ".join(f"{d}: {acc.loc[d, 'full']:.3f} vs {acc.loc[d, 'no hidden']:.3f}" for d in acc.index))


# DDMC ------------------------------------------------------------------------------------------------------------

def ddmc_ablation_ordered(summary: pd.DataFrame, profile: Profile) -> Claim:
    """DDMC ablation: every module helps — the full model beats both one-module rows, and each one-module row beats
    DDC alone (rows: DDMC.ABLATIONS keys), in mean ACC per dataset."""
    acc = row_means(summary)
    checks, evidence = [], []
    for d in acc.index:
        full, fdl, cdl, ddc = (acc.loc[d, r] for r in ("full", "DDC+FDL", "DDC+CDL", "DDC"))
        checks.append(bool(full > max(fdl, cdl) and min(fdl, cdl) > ddc))
        evidence.append(f"{d}: full {full:.3f}, +FDL {fdl:.3f}, +CDL {cdl:.3f}, DDC {ddc:.3f}")
    return Claim("DDMC", "each module helps (full > DDC+FDL, DDC+CDL > DDC alone)", _on(acc),
                 verdict(checks, profile), "; ".join(evidence))


def enhancement_beats_fusion(summary: pd.DataFrame, profile: Profile) -> Claim:
    """DDMC: clustering the enhanced dominant modality beats clustering the fusion of all modalities, in mean ACC
    on every dataset (rows "enhance" and "fuse")."""
    acc = row_means(summary)
    return Claim("DDMC", "enhancing the dominant modality beats fusing all modalities", _on(acc),
                 verdict([acc.loc[d, "enhance"] > acc.loc[d, "fuse"] for d in acc.index], profile),
                 "; ".join(f"{d}: enhance {acc.loc[d, 'enhance']:.3f} vs fuse {acc.loc[d, 'fuse']:.3f}"
                           for d in acc.index))


def enhancement_gain_by_share(summary: pd.DataFrame, shares: Mapping[str, float]) -> pd.Series:
    """Mean ACC of "enhance" minus "fuse" per degraded dataset, indexed by its shuffled share (sorted). shares maps
    the derived dataset names to their share."""
    acc = row_means(summary)
    gain = acc["enhance"] - acc["fuse"]
    return pd.Series({shares[d]: gain[d] for d in acc.index if d in shares}).sort_index()


def gain_grows_with_unevenness(summary: pd.DataFrame, shares: Mapping[str, float], profile: Profile,
                               min_correlation: float = 0.7) -> Claim:
    """The controlled test of "most where modality quality is uneven": as a growing share of the other views' rows
    is shuffled (the dominant view intact), enhancement's ACC advantage over fusion grows — Spearman correlation of
    gain with share >= min_correlation and a larger gain at the largest share than at the smallest."""
    gain = enhancement_gain_by_share(summary, shares)
    if len(gain) < 3:
        return Claim("DDMC", "enhancement's advantage grows as modality quality becomes uneven (controlled)",
                     ", ".join(shares), NOT_TESTABLE, "fewer than three quality levels run")
    rho = float(pd.Series(gain.index).corr(pd.Series(gain.to_numpy()), method="spearman"))
    ok = rho >= min_correlation and gain.iloc[-1] > gain.iloc[0]
    evidence = (", ".join(f"share {s:g}: {g:+.3f}" for s, g in gain.items())
                + f"; Spearman {rho:.2f} (needs >= {min_correlation:g})")
    return Claim("DDMC", "enhancement's advantage grows as modality quality becomes uneven (controlled)",
                 ", ".join(shares), verdict([ok], profile), evidence)


# Multi-DProxy (controlled: planted concepts) ------------------------------------------------------------------------

def _concept_means(summary: pd.DataFrame, metric: str = "nmi_mean") -> pd.DataFrame:
    """Mean NMI on the asked concept: rows = concepts, columns = the summary's labels (multiclust.summarize_concepts)."""
    return summary.pivot(index="concept", columns="label", values=metric)


def _concepts(means: pd.DataFrame) -> str:
    return f"planted data, concepts {', '.join(means.index)}"


def concept_follows_request(summary: pd.DataFrame, profile: Profile, row: str = "Multi-DProxy") -> Claim:
    """Personalization: asked for a concept, the representation clusters by it and not by the set's other concept
    (mean NMI on the asked concept above the mean NMI on the other, per concept)."""
    own, other = _concept_means(summary), _concept_means(summary, "other_nmi_mean")
    checks = [bool(own.loc[c, row] > other.loc[c, row]) for c in own.index]
    evidence = "; ".join(f"asked {c}: NMI {own.loc[c, row]:.3f} on it vs {other.loc[c, row]:.3f} on the other concept"
                         for c in own.index)
    return Claim("Multi-DProxy", f"{row}'s clustering follows the concept the user asks for", _concepts(own),
                 verdict(checks, profile), evidence)


def candidates_converge(active: Mapping[str, Sequence[str]], relevant: Mapping[str, set[str]],
                        profile: Profile) -> Claim:
    """Dynamic candidate management ends with the M relevant words: active maps each run (task and seed) to its
    surviving words, relevant each run to its task's relevant words."""
    checks = [set(words) == relevant[run] for run, words in active.items()]
    wrong = [f"{run}: kept {sorted(active[run])}" for run, ok in zip(active, checks) if not ok]
    evidence = f"{sum(checks)} of {len(checks)} runs end with exactly the relevant words" + (
        f"; {'; '.join(wrong)}" if wrong else "")
    return Claim("Multi-DProxy", "candidate management converges to the M relevant words", "planted data",
                 verdict(checks, profile), evidence)


def full_beats_rows(summary: pd.DataFrame, rows: Sequence[str], claim: str, profile: Profile,
                    full: str = "Multi-DProxy") -> Claim:
    """The full model's mean NMI beats each of `rows` on every concept."""
    means = _concept_means(summary)
    checks = [bool(means.loc[c, full] > means.loc[c, r]) for c in means.index for r in rows]
    evidence = "; ".join(f"{c}: full {means.loc[c, full]:.3f} vs " + ", ".join(f"{r} {means.loc[c, r]:.3f}"
                                                                          for r in rows) for c in means.index)
    return Claim("Multi-DProxy", claim, _concepts(means), verdict(checks, profile), evidence)


def largest_drop(summary: pd.DataFrame, row: str, rows: Sequence[str], claim: str, profile: Profile,
                 full: str = "Multi-DProxy") -> Claim:
    """Removing `row`'s component costs the most NMI among the ablation `rows`, on every concept."""
    means = _concept_means(summary)
    checks, evidence = [], []
    for c in means.index:
        drops = {r: means.loc[c, full] - means.loc[c, r] for r in rows}
        checks.append(max(drops, key=drops.get) == row and drops[row] > 0)
        evidence.append(f"{c}: " + ", ".join(f"{r} {d:+.3f}" for r, d in sorted(drops.items(), key=lambda x: -x[1])))
    return Claim("Multi-DProxy", claim, _concepts(means), verdict(checks, profile),
                 "NMI drop from the full model; " + "; ".join(evidence))
