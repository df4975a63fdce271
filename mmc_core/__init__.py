"""mmc_core: the library behind the mmc-repro artifact (data, metrics, methods, experiments)."""

__version__ = "0.1.0"
