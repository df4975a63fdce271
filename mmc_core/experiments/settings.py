"""What a notebook's parameters cell resolves to: profile, seeds, epochs, datasets present and absent."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import pandas as pd

from ..data import list_datasets
from ..data.derived import split_derived
from ..deep.device import CPUFallbackWarning, cpu_fallback_warning, resolve_device, resolved_name
from ..params import Device
from ..paths import REFERENCE_RUNS_DIR
from .profiles import PROFILES, Profile, get_profile
from .runner import RunSpec, run_grid


@dataclass(frozen=True)
class RunSettings:
    profile: Profile
    seeds: int
    epochs: int | None  # None: the method's own (the paper's) number of epochs
    datasets: list[str]  # present here, will run
    absent: dict[str, str]  # asked for but absent here -> how to obtain it
    device: str

    @property
    def protocol(self) -> str:
        """The profile whose runs this one stands for: the reference store holds full-profile runs."""
        return "full" if self.profile.name == "reference" else self.profile.name

    def grid(self, specs: list[RunSpec], n_jobs: int = 1, keep_labels: bool = False, partial: bool = False
             ) -> pd.DataFrame:
        """Run the specs under this profile (cache in the results directory, profile recorded with each run), or,
        in the reference profile, read them from the shipped reference store without computing anything. Each run
        carries its spec's label (the row it stands for; see runner.label_runs). partial=True (a main table whose
        claim names the rows it covers) keeps a dataset on which only some configurations are shipped; otherwise
        such a dataset is left out (_shipped_datasets)."""
        if not self.profile.computes:
            specs = self._shipped_datasets(specs, partial)
            results = run_grid(specs, cache_dir=REFERENCE_RUNS_DIR, progress=False, keep_labels=keep_labels,
                               compute=False)
            if results.empty:
                raise ValueError("No shipped reference run matches this notebook's runs (reference/runs/ holds "
                                 "none of them): run it with profile='full' instead, or ship its runs "
                                 "(reference/README.md says how).")
            return results
        return run_grid(specs, n_jobs=n_jobs, keep_labels=keep_labels, profile=self.profile.name)

    def _shipped_datasets(self, specs: list[RunSpec], partial: bool) -> list[RunSpec]:
        """The specs of the datasets this grid can show from the shipped runs, which are also left in `datasets`
        (so a claim names only the datasets it was tested on): a dataset with none of the grid's configurations
        shipped is left out silently (another notebook's runs); one with only some of them is left out and said so,
        unless `partial` (then its missing rows show as "not run")."""
        configs: dict[str, set[str]] = {}
        shipped: dict[str, set[str]] = {}
        for spec in specs:
            configs.setdefault(spec.dataset, set()).add(spec.config_id)
            if spec.cache_path(REFERENCE_RUNS_DIR).exists():
                shipped.setdefault(spec.dataset, set()).add(spec.config_id)
        keep = {d for d, c in configs.items() if len(shipped.get(d, ())) == len(c) or (partial and d in shipped)}
        for dataset in configs:
            if dataset not in keep and dataset in shipped:
                print(f"reference: {dataset} left out here, only {len(shipped[dataset])} of this grid's "
                      f"{len(configs[dataset])} configurations are shipped")
        self.datasets[:] = [d for d in self.datasets if d in keep or d not in configs]
        return [s for s in specs if s.dataset in keep]

    def deep_params(self, **params) -> dict:
        """Trainer parameters for a deep method under this profile (epochs only when the profile shortens them; the
        device, which is not part of a run's identity: runner.identity_params)."""
        return trainer_params(self.epochs, self.device, **params)

    def describe(self) -> str:
        source = ("shipped reference runs (reference/runs/), nothing computed; up to " if not self.profile.computes
                  else "")
        tolerance = self.profile.tolerance if self.profile.compares else "none (short training: not compared)"
        used = resolved_name(self.device) if self.profile.computes else "nothing computed"
        lines = [f"profile {self.profile.name}: {source}{self.seeds} seeds, epochs "
                 f"{self.epochs or 'as in the paper'}, tolerance {tolerance}",
                 f"device {self.device}: {used}",
                 f"datasets asked for: {', '.join(self.datasets) or 'none'}"]
        if not self.profile.computes:
            lines.append("  (the grid below leaves out, and names, any of them with only some of its runs shipped)")
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


def trainer_params(epochs: int | None, device: str, **params: Any) -> dict[str, Any]:
    """A trained method's parameters under a profile: the epochs only when the profile shortens them (None: the
    method's own), the device, then the row's own parameters (which win)."""
    return {**({"epochs": epochs} if epochs is not None else {}), "device": device, **params}


def whole_number(name: str, value: Any, default: int | None) -> int | None:
    """None, or a whole number >= 1; papermill's -p passes '5' through as an int, but a raw string of digits is
    accepted too. Anything else (0, 2.5, 'abc', True) is refused naming the parameter, instead of failing later
    or, for 0, silently running the profile's default."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if value is None or (isinstance(value, Integral) and not isinstance(value, bool) and value >= 1):
        return None if value is None else int(value)
    raise ValueError(f"{name}={value!r} is not valid: {name} must be a whole number >= 1 (e.g. -p {name} 5), or None "
                     f"for the profile's ({default if default is not None else 'the method default'}).")


def check_choice(profile: Any, device: Any) -> None:
    """Refuse an unknown profile or device name, with the choices and an example."""
    if not isinstance(profile, str) or profile not in PROFILES:
        raise ValueError(f"profile={profile!r} is not valid: profile must be one of {', '.join(PROFILES)} "
                         "(e.g. -p profile quick).")
    if not Device().accepts(device):
        raise ValueError(f"device={device!r} is not valid: device must be auto, cpu, cuda or cuda:N "
                         "(e.g. -p device cpu or -p device cuda:0).")


def device_warning(device: str, with_cost: bool = True) -> str | None:
    """The warning that `device` = 'auto' trains on the CPU although torch was built for CUDA, with_cost: with what the
    full profile then costs there (benchmark.full_profile_cpu_hours: it reads the shipped runs, seconds); None when
    it does not."""
    if not with_cost or cpu_fallback_warning(device) is None:  # checked first: the projection reads the store
        return cpu_fallback_warning(device)
    from .benchmark import full_profile_cpu_hours

    return cpu_fallback_warning(device, full_profile_cpu_hours())


def check_device(device: str, with_cost: bool = True) -> None:
    """At the start of a computation (a notebook's parameters, the command line): refuse a GPU asked for by name that
    cannot be used, with the reason, and warn loudly (CPUFallbackWarning) when `auto` will train on the CPU although
    torch was built for CUDA (with_cost: with the full profile's projected CPU-hours)."""
    if device.startswith("cuda"):
        resolve_device(device)
    message = device_warning(device, with_cost)
    if message is not None:
        warnings.warn(message, CPUFallbackWarning, stacklevel=3)


def resolve_settings(
    profile: str,
    seeds: int | None,
    epochs: int | None,
    datasets: list[str] | str | None,
    default_datasets: dict[str, list[str]],
    device: str = "auto",
    every_shipped: bool = True,
) -> RunSettings:
    """Fill None parameters from the profile; split the datasets into present and absent (with how to get them).

    default_datasets maps a profile name to its datasets (the smoke profile runs a small one). every_shipped: in the
    reference profile, show every dataset with shipped runs unless datasets are named (False: a study of fixed
    datasets, such as the readings notebooks, shows its own). Every parameter is checked first, so a bad `-p` value is
    refused by name rather than failing somewhere in the runs."""
    check_choice(profile, device)
    prof = get_profile(profile)
    if prof.computes:
        check_device(device, with_cost=prof.name == "full")  # the full profile's cost, where that is what runs
    seeds = whole_number("seeds", seeds, prof.seeds)
    epochs = whole_number("epochs", epochs, prof.epochs)
    protocol = "full" if prof.name == "reference" else prof.name
    wanted = _names(datasets) if datasets else list(default_datasets[protocol])  # "Event" or "Event,MSRC-v1"
    registry = list_datasets().set_index("name")
    unknown = [d for d in wanted if d not in registry.index]
    if unknown:
        raise ValueError(f"Unknown dataset(s) {unknown}; see `python -m mmc_core datasets`.")
    if prof.computes:
        present = [d for d in wanted if registry.loc[d, "available"]]
    else:  # reference: a dataset is there when runs on it are shipped (the data itself is not needed), and
        # unless datasets were named, every dataset with shipped runs is shown (substitutes run narrowed)
        shipped = sorted(p.name for p in REFERENCE_RUNS_DIR.glob("*")  # derived (controlled) data sets are the
                         if p.is_dir() and split_derived(p.name)[1] is None)  # notebooks' own, never shown by default
        wanted += [] if datasets or not every_shipped else [d for d in shipped if d not in wanted]
        present = [d for d in wanted if d in shipped]
    absent = {d: registry.loc[d, "how_to_obtain"] for d in wanted if not registry.loc[d, "available"]}
    return RunSettings(prof, seeds if seeds is not None else prof.seeds,
                       epochs if epochs is not None else prof.epochs, present, absent, device)
