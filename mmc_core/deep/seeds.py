"""Seeds of one cell trained together, as one batched computation whose result per seed is its sequential run's.

Why: the networks are small MLPs on batches of 100-256, so one run at a time leaves a GPU mostly idle (launch
bound); S seeds stacked along a leading dimension make each kernel S times larger instead of S times more kernels.

How: each seed's network is built as its own `fit` builds it (its seed, its `prepare`), the S networks are stacked
(`torch.func.stack_module_state`) and the forward pass runs under `torch.func.vmap`; each seed's loss terms are the
method's own, computed on its slice of the output and its own shuffled batch. Each seed's parameters are views of
its slice of the stacked ones, stepped by its own Adam as in its sequential fit (one Adam over the stacked
parameters made the optimizer step several times slower on the CPU: its working set no longer fits in cache). vmap's
own rules for Linear and BatchNorm compute the same values in another order (matmul + add instead of addmm; one
normalisation over S x C channels): the last bits differ and, after tens of epochs, a few labels. So under
`ExactSeedOps` a linear layer runs as baddbmm whose backward makes, per seed, the gemm calls F.linear's backward
makes, and batch norm runs seed by seed. On the CPU with one thread (the project's setting) each seed's parameters,
history and labels then equal its sequential run's bit for bit (tests/test_seeds.py); with several threads or on
CUDA the kernels may split sums differently: equal within float tolerance. A method opts in with
`trains_seeds_together`: its loss terms and its `after_network` and `after_step` hooks (run per seed) use the
forward pass's output and the batch, never the stacked network, and it has no other hooks, but for an
`after_forward` that steps its `auxiliary_modules` (SDCIB's critics, EAMC's discriminators: networks outside the
forward pass, which stay each seed's own and are run seed by seed, on the seed's slice of the output); networks that
differ in structure between seeds (DDMC's dominant view is chosen per seed) are trained in groups of equal
structure."""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten, tree_unflatten
from tqdm.auto import tqdm

from .engine import Batch, DeepClusterer, EpochSelection, epoch_record, index_batches, term_values, weighted_total


# ----------------------------------------------------------------- exact batched operations
@torch.library.custom_op("mmc::stacked_linear", mutates_args=())
def stacked_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """x (S, n, i) @ weight (S, o, i)^T + bias (S, o), per seed the addmm F.linear computes."""
    return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))


@stacked_linear.register_fake
def _(x, weight, bias):
    return x.new_empty((x.shape[0], x.shape[1], weight.shape[1]))


def _stacked_linear_setup(ctx, inputs, output) -> None:
    x, weight, _ = inputs
    ctx.save_for_backward(x, weight)


def _stacked_linear_backward(ctx, grad: torch.Tensor):
    """F.linear's backward, per seed: grad @ W, grad^T @ x (in W's layout), and the sum over the batch; each only
    where it is needed (the first layer's input, the data, needs none)."""
    x, weight = ctx.saved_tensors
    wanted = ctx.needs_input_grad
    return (grad.bmm(weight) if wanted[0] else None, grad.transpose(1, 2).bmm(x) if wanted[1] else None,
            grad.sum(1) if wanted[2] else None)


stacked_linear.register_autograd(_stacked_linear_backward, setup_context=_stacked_linear_setup)


@torch.library.custom_op("mmc::seed_linear", mutates_args=())
def seed_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """F.linear, whose vmap rule is `stacked_linear`."""
    return F.linear(x, weight, bias)


@seed_linear.register_fake
def _(x, weight, bias):
    return x.new_empty((*x.shape[:-1], weight.shape[0]))


def _leading(tensors: Sequence[torch.Tensor | None], dims: Sequence[int | None], size: int) -> list[Any]:
    """Each tensor with its seed dimension first (expanded where it has none); None stays None."""
    return [None if t is None else t.movedim(d, 0) if d is not None else t.expand(size, *t.shape)
            for t, d in zip(tensors, dims)]


def _seed_linear_vmap(info, in_dims, x, weight, bias):
    x, weight, bias = _leading((x, weight, bias), in_dims, info.batch_size)
    if x.dim() != 3:
        raise NotImplementedError("seed-batched linear layers take (n, features) inputs per seed.")
    if bias is None:
        bias = weight.new_zeros(weight.shape[:2])
    return stacked_linear(x, weight, bias), 0


seed_linear.register_vmap(_seed_linear_vmap)


@torch.library.custom_op("mmc::seed_batch_norm", mutates_args=("running_mean", "running_var"))
def seed_batch_norm(x: torch.Tensor, running_mean: torch.Tensor | None, running_var: torch.Tensor | None,
                    weight: torch.Tensor | None, bias: torch.Tensor | None, training: bool, momentum: float,
                    eps: float) -> torch.Tensor:
    """F.batch_norm, whose vmap rule normalises seed by seed."""
    return F.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)


@seed_batch_norm.register_fake
def _(x, running_mean, running_var, weight, bias, training, momentum, eps):
    return torch.empty_like(x)


def _seed_batch_norm_vmap(info, in_dims, x, running_mean, running_var, weight, bias, training, momentum, eps):
    size = info.batch_size
    x, *per_seed = _leading((x, running_mean, running_var, weight, bias), in_dims[:5], size)
    out = [F.batch_norm(x[s], *(None if t is None else t[s] for t in per_seed), training, momentum, eps)
           for s in range(size)]
    return torch.stack(out), 0


seed_batch_norm.register_vmap(_seed_batch_norm_vmap)


class ExactSeedOps(TorchFunctionMode):
    """Within it, F.linear and F.batch_norm go through the ops above (the same values outside vmap)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.linear:
            return seed_linear(*args, **kwargs)
        if func is F.batch_norm:
            names = ("running_mean", "running_var", "weight", "bias", "training", "momentum", "eps")
            values = dict(zip(names, args[1:]), **kwargs)
            defaults = {"weight": None, "bias": None, "training": False, "momentum": 0.1, "eps": 1e-5}
            return seed_batch_norm(args[0], **{**defaults, **values})
        return func(*args, **kwargs)


# ----------------------------------------------------------------- training
def why_not_together(estimator: DeepClusterer) -> str | None:
    """Why the estimator's seeds cannot train as one computation, or None when they can."""
    name = type(estimator).__name__
    auxiliary = type(estimator).auxiliary_modules
    for stage in estimator.stages():
        hooks = [h for h in ("on_epoch_start", "before_step", "after_forward") if getattr(stage, h)
                 and not (h == "after_forward" and auxiliary)]
        if stage.forward is not None and getattr(stage.forward, "__func__", None) is not DeepClusterer.forward:
            hooks.insert(0, "its own forward pass")
        if hooks:
            return f"{name}'s stage {stage.name!r} has {', '.join(hooks)}, acting on one network"
    if not getattr(type(estimator), "trains_seeds_together", False):
        return f"{name}: {type(estimator).seeds_apart}"
    if estimator.selection != "last":
        return f"selection={estimator.selection!r} keeps a per-seed best state; only 'last' trains together"
    if estimator.snapshot_epochs:
        return "snapshot_epochs asks for per-seed representations during training"
    return None


def check_one_cell(estimators: Sequence[Any]) -> None:
    """fit_seeds' precondition, each breach a ValueError naming what differs: distinct deep estimators (one object
    given twice would end with a fit that is not its own), of one method, with the same parameters but for
    random_state, and no seed twice (two equal seeds are one run)."""
    not_deep = [f"{i} ({type(e).__name__})" for i, e in enumerate(estimators) if not isinstance(e, DeepClusterer)]
    if not_deep:
        raise ValueError(f"fit_seeds trains deep methods only; estimator {', '.join(not_deep)} is not one: fit it "
                         "with its own fit(Xs).")
    positions: dict[int, list[int]] = {}
    for i, e in enumerate(estimators):
        positions.setdefault(id(e), []).append(i)
    repeated = [p for p in positions.values() if len(p) > 1]
    if repeated:
        raise ValueError(f"fit_seeds was given the same estimator object more than once (positions {repeated[0]}): "
                         "make one estimator per seed, e.g. [make(name, random_state=s, ...) for s in seeds].")
    first = estimators[0]
    kinds = sorted({type(e).__name__ for e in estimators})
    if len(kinds) > 1:
        raise ValueError(f"fit_seeds takes estimators of one method; given {', '.join(kinds)}: fit them separately.")
    settings = [{k: v for k, v in vars(e).items() if k != "random_state"} for e in estimators]
    differing = sorted({k for s in settings for k in s.keys() | settings[0].keys()
                        if repr(s.get(k)) != repr(settings[0].get(k))})
    if differing:
        raise ValueError(f"fit_seeds takes estimators that differ only in random_state; these also differ in "
                         f"{', '.join(differing)}: fit them separately.")
    seeds = [e.random_state for e in estimators if isinstance(e.random_state, int)]
    if len(set(seeds)) < len(seeds):
        raise ValueError(f"fit_seeds was given a random_state more than once ({seeds}): equal seeds are one run.")


def _structure(model: nn.Module) -> str:
    """What must agree for networks to be stacked: every module's type and its plain (non-tensor) attributes."""
    return repr([(name, type(m).__name__, sorted((k, repr(v)) for k, v in vars(m).items() if not k.startswith("_")))
                 for name, m in model.named_modules()])


def fit_seeds(estimators: Sequence[DeepClusterer], Xs: Sequence[np.ndarray],
              progress: bool = False) -> list[DeepClusterer]:
    """Fit estimators that differ only in `random_state` on the same views, their seeds trained together; each ends
    fitted as its own `fit(Xs)` would leave it (model_, history_, labels_). Raises ValueError naming the reason when
    they cannot train together (then fit them one by one)."""
    if not estimators:
        return []
    check_one_cell(estimators)
    first = estimators[0]
    reason = why_not_together(first)
    if reason is not None:
        raise ValueError(f"Cannot train these seeds together: {reason}.")
    setups, states, views = [], [], []
    for e in estimators:
        views.append(e._begin_fit(Xs, None))
        setups.append(e._setup(views[-1]))
        states.append(SeedRandomState.capture(e.device_))  # the global RNG as the seed's own fit finds it
    data = setups[0][0]
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(estimators):
        groups.setdefault(_structure(e.model_), []).append(i)
    for members in groups.values():
        _train_together([estimators[i] for i in members], data, [setups[i][1] for i in members],
                        [states[i] for i in members], progress)
    for e, own in zip(estimators, views):
        e.snapshots_ = {}
        e.labels_ = np.asarray(e.training_labels(data), dtype=np.int64)
        e.after_fit(own)
    return list(estimators)


@dataclass
class SeedRandomState:
    """One seed's state of torch's global generator (and CUDA's, on a CUDA device): loss terms that draw (CoMVC's
    negative sampling) draw, per seed, what they draw in its sequential fit."""

    cpu: torch.Tensor
    cuda: torch.Tensor | None

    @classmethod
    def capture(cls, device: torch.device) -> "SeedRandomState":
        return cls(torch.get_rng_state(), torch.cuda.get_rng_state(device) if device.type == "cuda" else None)

    @contextmanager
    def active(self, device: torch.device) -> Iterator[None]:
        """Within it the global generator continues this seed's stream; on leaving, the state is kept."""
        torch.set_rng_state(self.cpu)
        if self.cuda is not None:
            torch.cuda.set_rng_state(self.cuda, device)
        try:
            yield
        finally:
            now = SeedRandomState.capture(device)
            self.cpu, self.cuda = now.cpu, now.cuda


def share_parameters(estimators: Sequence[DeepClusterer], stacked: dict[str, torch.Tensor]) -> None:
    """Make each seed's parameters views of its slice of the stacked ones: the forward pass reads the stack, each
    seed's own Adam (as in its sequential fit: same parameter groups, same per-tensor updates, a cache-sized working
    set) updates its slice in place. Parameters outside the stack (auxiliary modules) stay as they are."""
    for s, e in enumerate(estimators):
        for name, parameter in list(e.model_.named_parameters()):
            if name not in stacked:
                continue
            owner, _, attribute = name.rpartition(".")
            module = e.model_.get_submodule(owner)
            module._parameters[attribute] = nn.Parameter(stacked[name].detach()[s], parameter.requires_grad)


def per_seed(out: Any, size: int) -> list[Any]:
    """The batched output split into each seed's, by one unbind per tensor: its backward stacks the seeds' gradients,
    where indexing seed by seed would add S zero-padded full-size gradients (S^2 memory traffic)."""
    leaves, spec = tree_flatten(out)
    parts = [leaf.unbind(0) for leaf in leaves]
    return [tree_unflatten([part[s] for part in parts], spec) for s in range(size)]


def _train_together(estimators: Sequence[DeepClusterer], data: list[torch.Tensor],
                    generators: Sequence[torch.Generator], states: Sequence[SeedRandomState], progress: bool) -> None:
    """The trainer's loop (engine.DeepClusterer._fit without epoch or before-step hooks) over stacked networks: each
    seed's parameters train in place in its `model_`; its BatchNorm statistics are copied back at the end, its
    history kept in `history_`."""
    first, size, n = estimators[0], len(estimators), len(data[0])
    device = first.device_
    auxiliary = tuple(f"{name}." for name in type(first).auxiliary_modules)
    params, buffers = (  # the auxiliary modules stay each seed's own
        {name: tensor for name, tensor in stacked.items() if not name.startswith(auxiliary)}
        for stacked in stack_module_state([e.model_ for e in estimators]))
    share_parameters(estimators, params)
    template = copy.deepcopy(first.model_).to("meta")
    forward = vmap(lambda p, b, views: functional_call(template, (p, b), (views,)), randomness="error")
    stages = [e.stages() for e in estimators]
    for e, own in zip(estimators, stages):
        e._check_disable(own)
    records: list[list[dict[str, Any]]] = [[] for _ in estimators]
    selections = [EpochSelection(e) for e in estimators]
    ctxs: list[dict[str, Any]] = [{"n_samples": n} for _ in estimators]  # each seed's, kept over the fit as in `fit`
    models = [e.model_ if auxiliary else None for e in estimators]  # what hooks and terms get (None: never read)
    bar = tqdm(total=sum(s.epochs for s in stages[0]), desc=f"{type(first).__name__} x{size} seeds",
               disable=not progress, unit="epoch")
    for k, stage in enumerate(stages[0]):
        optimizers, schedules = zip(*(e._optimizer(own[k]) for e, own in zip(estimators, stages)))
        for epoch in range(stage.epochs):
            for ctx in ctxs:
                ctx.update(stage=stage.name, epoch=epoch, epochs=stage.epochs)
            weights = stage.weights_at(epoch)
            active = [(name, w) for name, w in weights.items() if name not in first.disable]
            batches = list(zip(*(index_batches(n, first.batch_size, g) for g in generators)))
            sums = torch.zeros(size, len(stage.names) + 1, dtype=torch.float64, device=device)
            for idx in batches:
                idx = [i.to(device) for i in idx]
                views = [torch.stack([X[i] for i in idx]) for X in data]
                with ExactSeedOps():
                    out = forward(params, buffers, views)
                total: Any = 0
                outs = per_seed(out, size)
                seed_batches = [Batch([v[s] for v in views], idx[s]) for s in range(size)]
                for s, (e, batch) in enumerate(zip(estimators, seed_batches)):
                    own = stages[s][k]
                    with states[s].active(device):
                        outs[s] = e.after_network(outs[s], batch, ctxs[s])
                        if own.after_forward is not None:
                            own.after_forward(models[s], batch, outs[s], ctxs[s])
                        terms = e._checked_terms(own, own.terms(models[s], outs[s], batch, ctxs[s]))
                    loss = weighted_total(terms, active)
                    sums[s] += term_values(own, terms, loss, device)
                    total = total + loss
                if isinstance(total, torch.Tensor) and total.requires_grad:
                    for stacked in params.values():
                        stacked.grad = None
                    total.backward()
                    for s, (e, optimizer) in enumerate(zip(estimators, optimizers)):
                        for name, parameter in e.model_.named_parameters():  # unused in this stage: no grad
                            if name in params:
                                parameter.grad = None if params[name].grad is None else params[name].grad[s]
                        optimizer.step()
                for s, batch in enumerate(seed_batches):
                    if stages[s][k].after_step is not None:
                        stages[s][k].after_step(models[s], batch, outs[s], ctxs[s])
            for schedule in schedules:
                schedule.step()
            for s in range(size):
                records[s].append({"stage": stage.name, "epoch": epoch,
                                   **epoch_record(stage, sums[s] / len(batches), weights)})
                if k == len(stages[0]) - 1:
                    selections[s].update(records[s][-1], len(records[s]) - 1,
                                         lambda s=s: _labels_now(estimators[s], s, buffers, data))
            bar.update()
    bar.close()
    with torch.no_grad():
        for s, e in enumerate(estimators):
            for name, tensor in e.model_.named_buffers():
                if name in buffers:
                    tensor.copy_(buffers[name][s])
    for e in estimators:  # each network its own storage again
        for module in e.model_.modules():
            for name, parameter in module._parameters.items():
                if parameter is not None:
                    module._parameters[name] = nn.Parameter(parameter.detach().clone(), parameter.requires_grad)
    for e, rows, selection in zip(estimators, records, selections):
        e.history_ = pd.DataFrame.from_records(rows)
        e.epoch_labels_ = selection.chosen


def _labels_now(estimator: DeepClusterer, s: int, buffers: dict[str, torch.Tensor],
                data: list[torch.Tensor]) -> np.ndarray:
    """Seed s's partition mid-training: its parameters are views of the stack already; its buffers (BatchNorm
    statistics) are copied from the stack first."""
    with torch.no_grad():
        for name, tensor in estimator.model_.named_buffers():
            if name in buffers:
                tensor.copy_(buffers[name][s])
    return estimator.labels_now(data)
