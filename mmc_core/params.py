"""Declarative parameter constraints, checked at fit by every estimator (the idea of scikit-learn's
`_parameter_constraints`, written small): a class states what each constructor parameter accepts, once, and a bad
value is an error that names the parameter, the value and what would be accepted — never a silent truncation.

Each estimator class has `parameter_constraints: dict[name, constraint or list of alternatives]`; the dicts of its
base classes are merged in (a subclass may override an entry). `validate_params(estimator)` checks them all.
"""

from __future__ import annotations

import inspect
import numbers
import re
from dataclasses import dataclass
from typing import Any, Iterable


class Constraint:
    """One kind of accepted value: `accepts(value)` and a phrase for the error message."""

    def accepts(self, value: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def __str__(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


def _is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass(frozen=True)
class Interval(Constraint):
    """A number of type `kind` (int: integers only, never a float like 2.7 or a bool; float: any real number) in
    [low, high]; `closed` says which ends are included ("both", "left", "right", "neither"); None = unbounded."""

    kind: type
    low: float | None = None
    high: float | None = None
    closed: str = "both"

    def accepts(self, value: Any) -> bool:
        if not (_is_integer(value) if self.kind is int else _is_real(value)) or value != value:  # NaN
            return False
        low_ok = self.low is None or (value >= self.low if self.closed in ("both", "left") else value > self.low)
        high_ok = self.high is None or (value <= self.high if self.closed in ("both", "right") else value < self.high)
        return low_ok and high_ok

    def __str__(self) -> str:
        kind = "an integer" if self.kind is int else "a number"
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        if self.low is not None and self.high is None:
            return f"{kind} {'>=' if left == '[' else '>'} {self.low}"
        if self.high is not None and self.low is None:
            return f"{kind} {'<=' if right == ']' else '<'} {self.high}"
        if self.low is None:
            return kind
        return f"{kind} in {left}{self.low}, {self.high}{right}"


@dataclass(frozen=True)
class Options(Constraint):
    """One of the listed values."""

    values: tuple

    def accepts(self, value: Any) -> bool:
        return any(value == v and type(value) is type(v) for v in self.values)

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


class Boolean(Constraint):
    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)

    def __str__(self) -> str:
        return "True or False"


class NoneValue(Constraint):
    def accepts(self, value: Any) -> bool:
        return value is None

    def __str__(self) -> str:
        return "None"


@dataclass(frozen=True)
class Widths(Constraint):
    """Layer widths: a non-empty list or tuple of integers >= 1 (e.g. (512, 512, 256))."""

    allow_empty: bool = False

    def accepts(self, value: Any) -> bool:
        return (isinstance(value, (list, tuple)) and (self.allow_empty or len(value) > 0)
                and all(_is_integer(w) and w >= 1 for w in value))

    def __str__(self) -> str:
        return "a list of integer widths >= 1" + ("" if self.allow_empty else ", at least one (e.g. (512, 256))")


class EpochList(Constraint):
    """A list or tuple of epoch numbers (integers >= 0), possibly empty."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (list, tuple)) and all(_is_integer(e) and e >= 0 for e in value)

    def __str__(self) -> str:
        return "a list of epoch numbers (integers >= 0)"


class Names(Constraint):
    """A list or tuple of strings (e.g. the loss terms to disable)."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)

    def __str__(self) -> str:
        return "a list of names (strings)"


class Device(Constraint):
    """A torch device name: "auto" (CUDA when available), "cpu", "cuda" or "cuda:N"."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and re.fullmatch(r"auto|cpu|cuda(:\d+)?", value) is not None

    def __str__(self) -> str:
        return "'auto', 'cpu', 'cuda' or 'cuda:N'"


SEED = [NoneValue(), Interval(int, 0, 2**32 - 1)]  # random_state: None draws a fresh seed at fit


def merged_constraints(cls: type) -> dict[str, Any]:
    """The parameter constraints of a class and of its bases (the most derived entry wins)."""
    merged: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        merged.update(vars(klass).get("parameter_constraints", {}))
    return merged


def constructor_parameters(cls: type) -> list[str]:
    """Names of every parameter the class's constructors accept, down the chain of **kwargs."""
    names: list[str] = []
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names += [p.name for p in params if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
                  and p.name not in names]
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names


def validate_params(estimator: Any) -> None:
    """Check every constrained parameter of the estimator; the first bad one is a ValueError naming it."""
    cls = type(estimator)
    for name, allowed in merged_constraints(cls).items():
        options: Iterable[Constraint] = allowed if isinstance(allowed, list) else [allowed]
        value = getattr(estimator, name)
        if not any(c.accepts(value) for c in options):
            raise ValueError(f"{cls.__name__}: parameter {name}={value!r} is invalid; it must be "
                             f"{' or '.join(str(c) for c in options)}.")
