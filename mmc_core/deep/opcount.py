"""Counting what a training step costs a GPU, measured on the CPU: dispatched aten operations (each one kernel launch
on CUDA, where the small networks here are bound by launches) and operations that force a host-device
synchronisation (the host waits for the GPU: a tensor read as a Python number, a data-dependent output size, data
made on the host inside the step).

`DispatchCounter` is a TorchDispatchMode that counts every aten op below autograd (forward and backward alike), and
`SYNCING` names the ops that synchronise on CUDA. `per_step` fits a deep method twice on the same rows with twice as
many batches per epoch the second time, so that the difference is what the batch loop adds: per-epoch work (labels,
schedules, history) cancels out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten

# Ops that make the host wait for the device on CUDA: a value read on the host (`.item()`, `bool(t)`, `float(t)`), an
# output whose size depends on the data (nonzero, boolean indexing, unique, bincount, repeat_interleave without
# output_size), and a tensor made from host data inside the step (lift_fresh: `torch.tensor(...)`, an H2D copy).
SYNCING = {
    "_local_scalar_dense", "nonzero", "nonzero_static", "masked_select", "_unique", "_unique2", "unique_dim",
    "unique_consecutive", "bincount", "repeat_interleave", "equal", "is_nonzero", "lift_fresh", "lift_fresh_copy",
    "boolean mask index",
}


@dataclass
class Counts:
    """Aten ops and syncing ops counted over some code, with the syncing ops by name."""

    ops: int
    syncs: int
    sync_ops: dict[str, int]

    def __sub__(self, other: "Counts") -> "Counts":
        names = Counter(self.sync_ops)
        names.subtract(other.sync_ops)
        return Counts(self.ops - other.ops, self.syncs - other.syncs, {k: v for k, v in names.items() if v})

    def per(self, steps: int) -> "Counts":
        return Counts(round(self.ops / steps), round(self.syncs / steps),
                      {k: round(v / steps, 2) for k, v in self.sync_ops.items()})


def _boolean_mask(args: Sequence[Any]) -> bool:
    """Whether an index op's indices include a boolean tensor."""
    indices = args[1] if len(args) > 1 else ()
    return any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in indices or ())


class DispatchCounter(TorchDispatchMode):
    """Counts the aten ops dispatched while active; `counts()` gives them, syncing ones named. A scalar read inside
    an optimizer's step is not a sync: torch keeps Adam's step counters on the host (capturable=False), and reading
    them is what every optimizer step does on CUDA without waiting for the device."""

    def __init__(self) -> None:
        super().__init__()
        self.ops = Counter()
        self.in_optimizer = 0
        self._hooks: list[Any] = []

    def __enter__(self) -> "DispatchCounter":
        self._hooks = [register_optimizer_step_pre_hook(lambda *_: self._optimizer(+1)),
                       register_optimizer_step_post_hook(lambda *_: self._optimizer(-1))]
        return super().__enter__()

    def __exit__(self, *exc) -> None:
        for hook in self._hooks:
            hook.remove()
        super().__exit__(*exc)

    def _optimizer(self, change: int) -> None:
        self.in_optimizer += change

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name == "_local_scalar_dense" and self.in_optimizer:
            name = "optimizer step counter read"
        elif name in ("index", "index_put", "index_put_") and _boolean_mask(args):
            name = "boolean mask index"  # its output size is the mask's count: nonzero inside the kernel
        self.ops[name] += 1
        return func(*args, **(kwargs or {}))


    def counts(self) -> Counts:
        syncing = {name: n for name, n in self.ops.items() if name in SYNCING}
        return Counts(sum(self.ops.values()), sum(syncing.values()), syncing)


def count(fn: Callable[[], Any]) -> Counts:
    """What running fn dispatches."""
    with DispatchCounter() as counter:
        fn()
    return counter.counts()


def per_step(fit: Callable[[Sequence[np.ndarray], int], Any], views: Sequence[np.ndarray], batch_size: int) -> Counts:
    """Aten ops and syncs per training step of `fit(views, batch_size)` (one epoch): the fit runs on rows making 2
    and then 4 batches of `batch_size`, and the difference is divided by the 2 added steps."""
    two = [np.asarray(v)[: 2 * batch_size] for v in views]
    four = [np.asarray(v)[: 4 * batch_size] for v in views]
    if len(four[0]) < 4 * batch_size:
        raise ValueError(f"per_step needs at least {4 * batch_size} rows for batches of {batch_size}; "
                         f"the views have {len(views[0])}.")
    fit(two, batch_size)  # warm-up: first-call work (imports, caches) is not a step's
    return (count(lambda: fit(four, batch_size)) - count(lambda: fit(two, batch_size))).per(2)
