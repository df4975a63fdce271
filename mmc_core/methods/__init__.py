"""Registry of clustering methods: `make(name, n_clusters, random_state=0, **params)`."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Callable

from ..estimator import MultiViewClusterer, SingleViewClusterer, check_views
from ..params import constructor_parameters

_REGISTRY: dict[str, type[MultiViewClusterer]] = {}


def register(name: str) -> Callable[[type[MultiViewClusterer]], type[MultiViewClusterer]]:
    """Class decorator: make the estimator available as `make(name, ...)`."""

    def deco(cls: type[MultiViewClusterer]) -> type[MultiViewClusterer]:
        key = name.lower()
        if key in _REGISTRY:
            raise ValueError(f"Method name {name!r} registered twice.")
        _REGISTRY[key] = cls
        cls.registry_name = key
        return cls

    return deco


def available() -> list[str]:
    """Names accepted by `make`."""
    _import_all()
    return sorted(_REGISTRY)


def method_class(name: str) -> type[MultiViewClusterer]:
    """The estimator class registered as `name` (case-insensitive)."""
    _import_all()
    key = name.lower()
    if key not in _REGISTRY:
        raise KeyError(f"Unknown method {name!r}. Available: {', '.join(sorted(_REGISTRY))}.")
    return _REGISTRY[key]


def make(name: str, n_clusters: int, random_state: int | None = 0, **params) -> MultiViewClusterer:
    """Build the method `name` (case-insensitive) with its parameters; a parameter it does not take is an error
    that lists the ones it does (their values are checked at fit)."""
    cls = method_class(name)
    accepted = constructor_parameters(cls)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(f"{cls.__name__} takes no parameter {', '.join(unknown)}; its parameters are "
                         f"{', '.join(accepted)}.")
    return cls(n_clusters=n_clusters, random_state=random_state, **params)


def _import_all() -> None:
    """Import every module of this package so their @register decorators run (a new method is just a new file)."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


__all__ = [
    "MultiViewClusterer", "SingleViewClusterer", "available", "check_views", "make", "method_class", "register",
]
