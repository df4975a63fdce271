"""Run profiles: how much compute a reproduction spends, and how strictly it is compared with the papers.

smoke  — a minute per notebook: 2 seeds, a few epochs; comparisons are shown but only their structure is asserted.
quick  — 5 seeds, shortened training (20 epochs): shows that every notebook trains and what its tables look like,
         but gives no verdicts, since the papers' numbers are for 100-1,000 epochs (to check the shipped numbers
         cheaply, `make verify` re-computes a sample of them at the full protocol).
full   — the papers' protocol (20 seeds, full training); fidelity checks asserted with the tight tolerance.
reference — the full profile's runs, read from the shipped reference store (`reference/runs/`) instead of computed:
         every seed shipped for a cell (up to 20) is used, a cell with no shipped run is "not run". Seconds per
         notebook; what nbval checks and what `make report` summarises.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    seeds: int
    epochs: int | None  # None: the method's own default (the paper's)
    tolerance: float | None  # |reproduced - reported| within this (fraction) is "within tolerance"; None: no verdict
    assert_fidelity: bool  # do the notebooks' fidelity checks fail the run when missed?
    computes: bool = True  # False: read runs from the reference store, never train (profile "reference")

    @property
    def compares(self) -> bool:
        """Whether cells and claims get verdicts: not at smoke, where a few epochs say nothing."""
        return self.tolerance is not None


PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", seeds=2, epochs=2, tolerance=None, assert_fidelity=False),
    "quick": Profile("quick", seeds=5, epochs=20, tolerance=None, assert_fidelity=False),
    "full": Profile("full", seeds=20, epochs=None, tolerance=0.02, assert_fidelity=True),
    "reference": Profile("reference", seeds=20, epochs=None, tolerance=0.02, assert_fidelity=True, computes=False),
}


def get_profile(name: str) -> Profile:
    """The named profile; a clear error for anything else."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"Unknown profile {name!r}; choose one of {', '.join(PROFILES)}.") from None
