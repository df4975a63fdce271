"""What a notebook's parameters cell resolves to: profile, seeds, epochs, datasets present and absent."""

from __future__ import annotations

from dataclasses import dataclass

from ..data import list_datasets
from .claims import verdict_from
from .profiles import Profile, get_profile


@dataclass(frozen=True)
class RunSettings:
    profile: Profile
    seeds: int
    epochs: int | None  # None: the method's own (the paper's) number of epochs
    datasets: list[str]  # present here, will run
    absent: dict[str, str]  # asked for but absent here -> how to obtain it
    device: str

    def deep_params(self, **params) -> dict:
        """Trainer parameters for a deep method under this profile (epochs only when the profile shortens them)."""
        return {**({"epochs": self.epochs} if self.epochs is not None else {}), "device": self.device, **params}

    def verdict(self, checks: list[bool]) -> str:
        """A claim's verdict from its checks; at the smoke profile (a few epochs, 2 seeds) nothing is concluded."""
        return "not testable here" if self.profile.name == "smoke" else verdict_from(checks)

    def describe(self) -> str:
        lines = [f"profile {self.profile.name}: {self.seeds} seeds, epochs "
                 f"{self.epochs or 'as in the paper'}, device {self.device}, tolerance {self.profile.tolerance}",
                 f"datasets run: {', '.join(self.datasets) or 'none'}"]
        lines += [f"absent here: {name} — {how}" for name, how in self.absent.items()]
        return "\n".join(lines)


def _names(value: list[str] | str) -> list[str]:
    """A list of names from a list or a comma-separated string (papermill -p passes strings)."""
    if isinstance(value, str):
        return [name.strip() for name in value.split(",") if name.strip()]
    return list(value)


def choose_methods(requested: list[str] | str | None, available: list[str]) -> list[str]:
    """The methods a notebook runs: all of `available` for None, else the requested ones (a list or a
    comma-separated string such as "idmc,amkm"), kept in the notebook's order; unknown names are an error."""
    if requested is None:
        return list(available)
    wanted = [name.lower() for name in _names(requested)]
    unknown = sorted(set(wanted) - set(available))
    if unknown or not wanted:
        raise ValueError(f"methods={requested!r}: {unknown or 'nothing'} is not among this notebook's methods "
                         f"{', '.join(available)}; pass a subset (e.g. \"{available[-1]},{available[0]}\") or None.")
    return [name for name in available if name in wanted]


def resolve_settings(
    profile: str,
    seeds: int | None,
    epochs: int | None,
    datasets: list[str] | str | None,
    default_datasets: dict[str, list[str]],
    device: str = "auto",
) -> RunSettings:
    """Fill None parameters from the profile; split the datasets into present and absent (with how to get them).

    default_datasets maps a profile name to its datasets (the smoke profile runs a small one)."""
    prof = get_profile(profile)
    wanted = _names(datasets) if datasets else list(default_datasets[prof.name])  # "Event" or "Event,MSRC-v1"
    registry = list_datasets().set_index("name")
    unknown = [d for d in wanted if d not in registry.index]
    if unknown:
        raise ValueError(f"Unknown dataset(s) {unknown}; see `python -m mmc_core datasets`.")
    present = [d for d in wanted if registry.loc[d, "available"]]
    absent = {d: registry.loc[d, "how_to_obtain"] for d in wanted if not registry.loc[d, "available"]}
    return RunSettings(prof, seeds or prof.seeds, epochs if epochs is not None else prof.epochs, present, absent,
                       device)
