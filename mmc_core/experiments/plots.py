"""Figures the notebooks share. Each function returns a matplotlib Figure that the notebook shows inline and
writes with `save_figure` (results/figures/<paper>/<name>.png and .pdf).

Conventions: bars are horizontal (names stay readable however many rows); a bar is our mean over seeds, with every
seed's value as a dot and the 95% t interval of the mean (the interval the verdicts use, uncertainty.mean_interval)
as its error bar; a paper's printed value is a black diamond; rows that chose something with the labels (the best
single view) are grey and named *oracle*, as the tables name them; a figure resting on fewer than FEW_SEEDS seeds says
so in its title; colour scales of metrics span their whole range (0-1), so that a difference looks as large as it
is; every axis says what it shows and in which unit.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from ..io import atomic_write
from ..paths import results_dir
from .tables import ORACLE_BEST_VIEW
from .uncertainty import Row, mean_interval, welch_interval

FIGURE_FORMATS = ("png", "pdf")
FIGURE_DPI = 100  # modest: the committed report's PNGs (docs/report/figures) stay small
FEW_SEEDS = 3  # a figure resting on fewer seeds says so in its title
ORACLE_COLOUR, OURS_COLOUR = "0.6", "C0"
METRIC_NAMES = {"acc": "ACC", "nmi": "NMI", "pur": "purity", "ari": "ARI", "ri": "RI", "f": "F-score"}


def figures_dir(explicit: str | Path | None = None) -> Path:
    """Where figures go: the argument, else <results>/figures ($MMC_RESULTS_DIR)."""
    return Path(explicit) if explicit is not None else results_dir() / "figures"


def save_figure(fig: Figure, paper: str, name: str, directory: str | Path | None = None) -> list[Path]:
    """Write the figure as <figures>/<paper>/<name>.png and .pdf (each atomically); returns the paths."""
    paths = []
    for fmt in FIGURE_FORMATS:
        path = figures_dir(directory) / paper / f"{name}.{fmt}"
        paths.append(atomic_write(path, lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=FIGURE_DPI,
                                                                           bbox_inches="tight")))
    return paths


def _axis_label(metric: str) -> str:
    return f"{METRIC_NAMES.get(metric, metric)} (fraction)"  # the legend says what bar, line and dots are


def seed_note(counts: "pd.Series | list[int] | int") -> str:
    """What a title says about seeds when some of a figure's rows rest on fewer than FEW_SEEDS ("" otherwise)."""
    counts = [int(c) for c in np.atleast_1d(counts)]
    few = [c for c in counts if c < FEW_SEEDS]
    if not few:
        return ""
    if len(few) == len(counts) and len(set(counts)) == 1:
        return (f"[{counts[0]} seed{'s' if counts[0] > 1 else ''} only: "
                f"{'no interval' if counts[0] == 1 else 'wide intervals'}, differences may be noise]")
    return f"[{len(few)} of {len(counts)} rows from fewer than {FEW_SEEDS} seeds]"


def with_seed_note(title: str, counts: "pd.Series | list[int] | int") -> str:
    """The title with seed_note appended (unchanged when every row has FEW_SEEDS seeds or more)."""
    note = seed_note(counts)
    return f"{title} {note}".strip() if note else title


def is_oracle(variant: object) -> bool:
    """Whether a summary row chose its configuration with the labels (tables.add_best_view's best-view rows)."""
    return isinstance(variant, str) and variant.startswith(ORACLE_BEST_VIEW)


def interval_bars(ax, y: np.ndarray, means: np.ndarray, stds: np.ndarray, counts: np.ndarray) -> None:
    """The 95% t interval of each mean (uncertainty.mean_interval) as a horizontal error bar; none under 2 seeds."""
    for yy, mean, std, n in zip(y, means, stds, counts):
        low, high = mean_interval(Row("", float(mean), float(std), int(n)))
        if np.isfinite(low):
            ax.errorbar([mean], [yy], xerr=[[mean - low], [high - mean]], fmt="none", ecolor="black", capsize=3,
                        lw=1.2, zorder=4)


def seed_dots(ax, y: np.ndarray, values: list[tuple[float, ...]], jitter: float = 0.18) -> None:
    """Every seed's value as a dot on its row (a seaborn scatter plot), spread across the row by a fixed offset per
    seed (not random jitter: the committed figures rebuild byte for byte)."""
    points = pd.DataFrame([(yy + offset, float(v)) for yy, vs in zip(y, values)
                           for v, offset in zip(vs, _spread(len(vs), jitter))], columns=["y", "value"])
    if not points.empty:
        labels = ax.get_xlabel(), ax.get_ylabel()  # seaborn names the axes after the frame's columns
        sns.scatterplot(data=points, x="value", y="y", s=10, color="black", alpha=0.55, linewidth=0, ax=ax,
                        zorder=3, legend=False)
        ax.set(xlabel=labels[0], ylabel=labels[1])


def _spread(n: int, width: float) -> np.ndarray:
    """n offsets within ±width, in an interleaved order so that neighbouring seeds land apart."""
    if n < 2:
        return np.zeros(n)
    return np.linspace(-width, width, n)[np.argsort(np.arange(n) * 0.618 % 1)]


def seed_bars(summary: pd.DataFrame, label: str = "row", metrics: tuple[str, ...] = ("acc", "nmi"),
              comparison: pd.DataFrame | None = None, order: list[str] | None = None,
              printed_line: dict[str, float] | None = None, title: str = "") -> Figure:
    """Horizontal bars of each row's mean over seeds, every seed's value as a dot and the 95% t interval of the mean
    as error bar: one panel per (dataset, metric).

    summary: `tables.summarize` output (columns dataset, method_label, row, variant, <metric>_mean, <metric>_std,
    <metric>_seeds, n_seeds); label names the column the bars are named by, and each bar's name carries its number of
    seeds n. Oracle rows (the best view, chosen with the labels) are grey and named so.
    comparison: `tables.compare` output; where it holds a printed value for a bar (keyed as `compare` keys it:
    dataset, method = method_label, variant = row), the value is drawn as a black diamond on that bar.
    order: the rows top to bottom (default: as they come).
    printed_line: metric -> one printed value that every row is measured against (a dashed vertical line), e.g.
    the paper's number for the method when the rows are readings of its silent choices.
    """
    datasets = list(dict.fromkeys(summary.dataset))
    printed = _printed_values(comparison)
    rows = order or list(dict.fromkeys(summary[label]))
    fig, axes = plt.subplots(len(datasets), len(metrics), squeeze=False, sharex="col",
                             figsize=(3.6 * len(metrics) + 2.3, 0.8 + 0.34 * len(rows) * len(datasets) + 0.6))
    any_oracle = any_printed = False
    for i, dataset in enumerate(datasets):
        part = summary[summary.dataset == dataset].set_index(label, drop=False)
        names = [r for r in rows if r in part.index]
        y = np.arange(len(names))[::-1].astype(float)
        oracle = [is_oracle(part.loc[n].get("variant")) for n in names]
        any_oracle |= any(oracle)
        counts = part.loc[names, "n_seeds"].to_numpy(int)
        for j, metric in enumerate(metrics):
            ax = axes[i, j]
            means = part.loc[names, f"{metric}_mean"].to_numpy(float)
            stds = part.loc[names, f"{metric}_std"].to_numpy(float)  # NaN for one seed: no interval
            ax.barh(y, means, height=0.7, color=[ORACLE_COLOUR if o else OURS_COLOUR for o in oracle], alpha=0.55)
            if f"{metric}_seeds" in part:
                seed_dots(ax, y, list(part.loc[names, f"{metric}_seeds"]))
            interval_bars(ax, y, means, stds, counts)
            marks = [(yy, printed.get((dataset, part.loc[n, "method_label"], part.loc[n, "row"], metric)))
                     for yy, n in zip(y, names)]
            marks = [(yy, v) for yy, v in marks if v is not None]
            if marks:
                any_printed = True
                ax.scatter([v for _, v in marks], [yy for yy, _ in marks], marker="D", s=36, color="black",
                           edgecolor="white", zorder=5)
            if printed_line and metric in printed_line:
                any_printed = True
                ax.axvline(printed_line[metric], ls="--", color="black")
            ticks = [f"{n}{' [oracle]' if o else ''}  (n={c})" for n, o, c in zip(names, oracle, counts)]
            ax.set_yticks(y, ticks if j == 0 else [""] * len(names))
            ax.set_ylim(-0.6, len(names) - 0.4)
            ax.set_ylabel("")
            ax.set_xlim(0, 1)
            ax.grid(axis="x", alpha=0.3)
            ax.set_title(f"{dataset}: {METRIC_NAMES.get(metric, metric)}", fontsize=10)
            ax.set_xlabel(_axis_label(metric) if i == len(datasets) - 1 else "")
    handles = [Patch(color=OURS_COLOUR, alpha=0.55, label="ours: mean over seeds"),
               Line2D([], [], marker="o", ls="", color="black", alpha=0.55, ms=4, label="one seed"),
               Line2D([], [], color="black", marker="|", ms=8, label="95% interval of the mean")]
    if any_oracle:
        handles.append(Patch(color=ORACLE_COLOUR, alpha=0.55, label="oracle: best view picked with the labels"))
    if any_printed:
        handles.append(Line2D([], [], marker="D", ls="--" if printed_line else "", color="black", label="printed"))
    fig.suptitle(with_seed_note(title, summary.n_seeds), fontsize=10.5, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), fontsize=8, ncol=3, frameon=False)
    return fig


def tornado(table: pd.DataFrame, dataset: str, printed: dict[str, float] | None = None,
            metrics: tuple[str, ...] = ("acc", "nmi"), base: str = "fixed default", title: str = "",
            tags: dict[str, str] | None = None, runs: str = "seeds") -> Figure:
    """How far each reading moves the result from the `base` reading on one dataset: a bar per reading (its mean minus
    the base's, over the same seeds), widest on top, the Welch 95% interval of that difference as error bar (the
    verdicts' rule, uncertainty.welch_interval); a dashed line where the printed value lies. table:
    sensitivity.sensitivity output; tags: reading -> a note after its name (e.g. "label-free choice", "oracle"); runs:
    what the repeated runs are (seeds; draws of planted data)."""
    part = table[(table.dataset == dataset) & (table.reading != base)]
    base_row = table[(table.dataset == dataset) & (table.reading == base)].iloc[0]
    order = part.assign(size=part[f"d_{metrics[0]}"].abs()).sort_values("size").reading.tolist()
    part = part.set_index("reading").loc[order]
    fig, axes = plt.subplots(1, len(metrics), squeeze=False, sharey=True,
                             figsize=(3.8 * len(metrics) + 2.2, 1.2 + 0.34 * len(order)))
    for ax, metric in zip(axes[0], metrics):
        base_run = Row(base, float(base_row[f"{metric}_mean"]), float(base_row[f"{metric}_std"]), int(base_row.seeds))
        intervals = np.array([welch_interval(Row(r, float(part.loc[r, f"{metric}_mean"]),
                                                 float(part.loc[r, f"{metric}_std"]), int(part.loc[r, "seeds"])),
                                             base_run)[1:] for r in order]).reshape(-1, 2)
        delta = part[f"d_{metric}"].to_numpy(float)
        ax.barh(np.arange(len(order)), delta, capsize=3, alpha=0.85,
                xerr=np.nan_to_num(np.abs(intervals.T - delta)), color=["C2" if d > 0 else "C3" for d in delta])
        ax.axvline(0, color="black", lw=0.8)
        if printed and metric in printed:
            ax.axvline(printed[metric] - base_row[f"{metric}_mean"], ls="--", color="black",
                       label=f"printed ({printed[metric]:.3f})")
            ax.legend(loc="lower right", fontsize=8, frameon=False)
        ax.set_yticks(np.arange(len(order)), [f"{r}{f' [{tags[r]}]' if tags and r in tags else ''}  "
                                               f"(n={int(part.loc[r, 'seeds'])})" for r in order])
        base_tag = f" [{tags[base]}]" if tags and base in tags else ""
        ax.set_xlabel(f"{METRIC_NAMES.get(metric, metric)} change\n(the {base}{base_tag}: "
                      f"{base_row[f'{metric}_mean']:.3f})")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))  # few ticks: the panels are narrow
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(with_seed_note(title or f"{dataset}: change from the {base} under each reading",
                                list(part.seeds) + [int(base_row.seeds)]), fontsize=11, x=0.02, ha="left")
    fig.text(0.99, 0.01, f"bars: reading's mean minus the base's over the same {runs}; "
             "error bars: Welch 95% interval of the difference",
             ha="right", va="bottom", fontsize=7, color="0.4")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def _printed_values(comparison: pd.DataFrame | None) -> dict[tuple, float]:
    if comparison is None or comparison.empty:
        return {}
    return {(r.dataset, r.method, r.variant or "", r.metric): float(r.reported) for r in comparison.itertuples()}


def heatmap(grid: pd.DataFrame, title: str, colorbar: str, seeds: int, fmt: str = ".3f",
            scale: tuple[float, float] = (0.0, 1.0)) -> Figure:
    """A table of values as an annotated heatmap (seaborn) on a fixed colour scale (default 0-1, a metric's whole
    range), so that a difference looks as large as it is: a scale fitted to the grid would stretch the seed-to-seed
    noise of a few seeds into apparent structure. seeds: how many seeds each cell's value rests on (said in the
    title when fewer than FEW_SEEDS); the colour bar says what and in which unit."""
    fig, ax = plt.subplots(figsize=(1.1 * grid.shape[1] + 2.5, 0.6 * grid.shape[0] + 1.5))
    sns.heatmap(grid.astype(float), ax=ax, cmap="viridis", vmin=scale[0], vmax=scale[1], annot=True, fmt=fmt,
                annot_kws={"fontsize": 8}, linewidths=0.5, linecolor="white", cbar_kws={"label": colorbar})
    ax.set_xlabel(str(grid.columns.name or ""))
    ax.set_ylabel(str(grid.index.name or ""))
    ax.tick_params(axis="y", rotation=0)
    ax.set_title(with_seed_note(title, seeds), fontsize=10)
    fig.tight_layout()
    return fig


def interest_heatmap(weights: np.ndarray, title: str) -> Figure:
    """IDMC's interest values, views x samples of one batch of one run, on a colour scale from 0 to the largest
    value; the title says it is one seed."""
    weights = np.asarray(weights, dtype=float)
    fig, ax = plt.subplots(figsize=(10, 0.5 * weights.shape[0] + 1.6))
    image = ax.imshow(weights, cmap="magma", vmin=0, vmax=weights.max(), aspect="auto", interpolation="nearest")
    ax.set_yticks(range(weights.shape[0]), [f"view {v + 1}" for v in range(weights.shape[0])])
    ax.set_xlabel("sample in the batch")
    fig.colorbar(image, ax=ax, label="interest value w (per sample and view)", pad=0.01)
    ax.set_title(with_seed_note(title, 1), fontsize=10)
    fig.tight_layout()
    return fig


def tsne_panels(panels: list[tuple[str, np.ndarray, np.ndarray]], title: str, legend: str = "true class"
                ) -> Figure:
    """Scatter panels of 2-d t-SNE coordinates of one run each, one per (panel title, xy, classes); one legend for
    the classes; the title says each panel is one seed."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.4), squeeze=False)
    classes = sorted({int(c) for _, _, cls in panels for c in np.unique(cls)})
    cmap = plt.get_cmap("tab20" if len(classes) > 10 else "tab10")
    for ax, (name, xy, cls) in zip(axes[0], panels):
        xy, cls = np.asarray(xy), np.asarray(cls)
        for k, c in enumerate(classes):
            mask = cls == c
            ax.scatter(xy[mask, 0], xy[mask, 1], s=6, color=cmap(k % cmap.N), label=str(c))
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("t-SNE 1")
        ax.set_ylabel("t-SNE 2")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, title=legend, loc="center right", fontsize=8, markerscale=2,
               ncol=1 + len(classes) // 21, frameon=False)
    fig.suptitle(with_seed_note(title, 1), fontsize=11)
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    return fig


METRIC_STYLES = {"acc": dict(lw=2.4, ls="-", zorder=5), "nmi": dict(lw=1.4, ls="--", zorder=4),
                 "pur": dict(lw=1.4, ls=":", zorder=3)}  # ACC on top and widest: purity often runs on top of it


def convergence(history: pd.DataFrame, metrics: tuple[str, ...] = ("acc", "nmi", "pur"), title: str = "") -> Figure:
    """Total loss (left axis) and the monitored metrics (right axis) per epoch of one run; labels only score each
    epoch. The metrics differ in line style as well as colour, ACC drawn last, so a metric running on another stays
    visible; the title says it is one seed."""
    fig, ax_loss = plt.subplots(figsize=(7, 3.8))
    epochs = np.arange(1, len(history) + 1)
    ax_loss.plot(epochs, history["total"], color="black", label="total loss")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("total loss (weighted sum of the terms)")
    ax_metric = ax_loss.twinx()
    for k, m in enumerate(sorted((m for m in metrics if m in history), key=lambda m: m == "acc")):
        ax_metric.plot(epochs, history[m], color=f"C{list(metrics).index(m)}", label=METRIC_NAMES.get(m, m),
                       **METRIC_STYLES.get(m, {}))
    ax_metric.set_ylabel("metric (fraction)")
    ax_metric.set_ylim(0, 1)
    handles = ax_loss.get_legend_handles_labels()[0] + ax_metric.get_legend_handles_labels()[0]
    ax_loss.legend(handles, [h.get_label() for h in handles], fontsize=8, loc="upper center",
                   bbox_to_anchor=(0.5, -0.15), ncol=len(handles), frameon=False)
    ax_loss.set_title(with_seed_note(title, 1), fontsize=10)
    fig.tight_layout()
    return fig


def lines(frame: pd.DataFrame, title: str, xlabel: str, ylabel: str, reference: dict[str, float] | None = None,
          seeds: int | None = None) -> Figure:
    """Columns of a frame as curves over its index; reference draws labelled horizontal lines (name -> value);
    seeds: how many seeds the curves rest on (said in the title when fewer than FEW_SEEDS; None: not seeds)."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for column in frame.columns:
        ax.plot(frame.index, frame[column], label=str(column))
    for k, (name, value) in enumerate((reference or {}).items()):
        ax.axhline(value, ls="--", color="grey", alpha=0.5 + 0.5 * (k == 0), label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.set_title(title if seeds is None else with_seed_note(title, seeds), fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def share_curves(summary: pd.DataFrame, shares: dict[str, float], rows: tuple[str, str] = ("enhance", "fuse"),
                 metric: str = "acc", title: str = "") -> Figure:
    """A controlled test over the share of a dataset's other views' rows shuffled (ddmc/04): left, each row's mean
    over seeds per share with its 95% t interval and every seed as a dot (n in the legend); right, the gain (first row
    minus second) with its Welch 95% interval, the comparison the claim decides. summary: tables.summarize output
    on the derived datasets; shares: derived dataset name -> share shuffled."""
    part = summary[summary.dataset.isin(shares)].assign(share=lambda t: t.dataset.map(shares)).sort_values("share")
    name = METRIC_NAMES.get(metric, metric)
    fig, (ax, ax_gain) = plt.subplots(1, 2, figsize=(11, 3.9))
    step = np.diff(sorted(set(part.share))).min() if part.share.nunique() > 1 else 1.0
    by_row = {}
    for k, row in enumerate(rows):
        sub = part[part.row == row]
        by_row[row] = {float(r.share): Row(row, float(r[f"{metric}_mean"]), float(r[f"{metric}_std"]), int(r.n_seeds))
                       for _, r in sub.iterrows()}
        offset = (k - 0.5) * 0.06 * step  # the rows side by side at each share
        intervals = np.array([mean_interval(by_row[row][s]) for s in sub.share])
        ax.errorbar(sub.share + offset, sub[f"{metric}_mean"], fmt="-o", ms=4, color=f"C{k}", capsize=3,
                    yerr=np.abs(intervals.T - sub[f"{metric}_mean"].to_numpy()), label=f"{row} "
                    f"(n={'-'.join(map(str, sorted({int(sub.n_seeds.min()), int(sub.n_seeds.max())})))} per share)")
        if f"{metric}_seeds" in sub:
            xs = [s + offset for s, vs in zip(sub.share, sub[f"{metric}_seeds"]) for _ in vs]
            ax.scatter(xs, [v for vs in sub[f"{metric}_seeds"] for v in vs], s=9, color=f"C{k}", alpha=0.45,
                       zorder=3)
    ax.set(xlabel="share of the other views' rows shuffled", ylabel=f"{name} (fraction)")
    ax.set_title(f"{name} per row: mean, 95% interval, dots seeds", fontsize=9)
    ax.legend(fontsize=8, frameon=False)
    first, second = rows
    common = sorted(set(by_row[first]) & set(by_row[second]))
    gains = np.array([welch_interval(by_row[first][s], by_row[second][s]) for s in common])
    if len(common):
        ax_gain.errorbar(common, gains[:, 0], yerr=np.abs(gains[:, 1:].T - gains[:, 0]), fmt="-o", ms=4,
                         color="C2", capsize=3, label=f"{first} - {second}: mean, Welch 95% interval")
    ax_gain.axhline(0, color="black", lw=0.8)
    ax_gain.set(xlabel="share of the other views' rows shuffled", ylabel=f"{name} gain (fraction)")
    ax_gain.set_title(f"gain of {first} over {second}", fontsize=9)
    ax_gain.legend(fontsize=8, frameon=False)
    for a in (ax, ax_gain):
        a.grid(alpha=0.3)
    fig.suptitle(with_seed_note(title, part.n_seeds), fontsize=11, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def protocol_bars(table: pd.DataFrame, title: str = "") -> Figure:
    """ACC of one dataset's runs under each reporting protocol and training reading (protocol.protocol_ledger): a
    bar per row, the 95% t interval of the mean as error bar where the row is a mean over its runs, grey for oracle
    rows (the labels choose), the printed ACC as a dashed line."""
    rows = table.iloc[::-1]
    mean = rows.ACC.map(lambda s: float(str(s).split(" ± ")[0])).to_numpy()
    std = rows.ACC.map(lambda s: float(str(s).split(" ± ")[1]) if " ± " in str(s) else np.nan).to_numpy()
    half = np.array([np.nan_to_num(m - mean_interval(Row("", m, sd, int(n)))[0]) for m, sd, n in
                     zip(mean, std, rows.runs)])
    oracle = rows.selection.str.startswith("oracle").to_numpy()
    fig, ax = plt.subplots(figsize=(8.5, 1.0 + 0.32 * len(rows)))
    ax.barh(np.arange(len(rows)), mean, xerr=half, capsize=3, alpha=0.85,
            color=["0.6" if o else "C0" for o in oracle])
    names = [f"{reading}: {how}" + (" [oracle]" if o else "") + f"  (n={n})"
             for reading, how, n, o in zip(rows.reading, rows["reported as"], rows.runs, oracle)]
    ax.set_yticks(np.arange(len(rows)), names, fontsize=8)
    if "printed ACC" in rows and pd.notna(rows["printed ACC"].iloc[0]):
        ax.axvline(rows["printed ACC"].iloc[0], ls="--", color="black",
                   label=f"printed ({rows['printed ACC'].iloc[0]:.3f})")
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.set_xlabel("ACC (mean over seeds, error bar: 95% interval; 'best of N': the one run chosen)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(with_seed_note(title, [int(n) for n in rows.runs]), fontsize=11, loc="left")
    fig.tight_layout()
    return fig


def collapse_trace_figure(trace: pd.DataFrame, k: int, title: str = "") -> Figure:
    """Clusters used by the partition and the entropy of its marginal, per epoch, one line per reading and seed
    (experiments.diagnostics.collapse_trace): where a partition loses clusters, and whether they come back."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    colours = {reading: f"C{i}" for i, reading in enumerate(dict.fromkeys(trace.reading))}
    for (reading, seed), run in trace.groupby(["reading", "seed"], sort=False):
        style = dict(color=colours[reading], alpha=0.8, lw=1.2, label=reading if seed == trace.seed.min() else None)
        axes[0].plot(run.epoch + 1, run.clusters_used, **style)
        axes[1].plot(run.epoch + 1, run.marginal_entropy, **style)
    axes[0].axhline(k, ls="--", color="black", lw=0.8)
    axes[0].set_ylabel(f"clusters used (of {k})")
    axes[1].axhline(np.log(k), ls="--", color="black", lw=0.8)
    axes[1].set_ylabel("marginal entropy (nats)")
    axes[1].set_title(f"entropy of the partition's cluster shares (log {k}: equal shares)", fontsize=9)
    axes[0].set_title("clusters the argmax partition uses", fontsize=9)
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, frameon=False, loc="lower right")
    fig.suptitle(with_seed_note(title, trace.groupby("reading").seed.nunique()), fontsize=11, x=0.02, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig
