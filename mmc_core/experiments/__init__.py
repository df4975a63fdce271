"""Experiment runner, tables, comparisons with the papers, and the reproduction report."""

from .profiles import PROFILES, Profile, get_profile
from .report import build_report, save_section, side_by_side
from .runner import RunSpec, make_grid, run_grid, run_one
from .tables import ORACLE_BEST_VIEW, add_best_view, compare, format_mean_std, paper_rows, summarize

__all__ = [
    "ORACLE_BEST_VIEW", "PROFILES", "Profile", "RunSpec", "add_best_view", "build_report", "compare",
    "format_mean_std", "get_profile", "make_grid", "paper_rows", "run_grid", "run_one", "save_section",
    "side_by_side", "summarize",
]
