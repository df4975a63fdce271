"""Seeds of one cell trained together: S networks stacked, every step of the trainer batched over the seeds.

Why: the networks are small MLPs on batches of 100-256, so one run at a time leaves a GPU mostly idle (launch
bound); S seeds stacked along a leading dimension make each kernel S times larger instead of S times more kernels.

How (`StackedNetworks`, trained by the trainer's one loop, engine.train_networks): each seed's network is built as
its own `fit` builds it (its seed, its `prepare`), the S networks are stacked (`torch.func.stack_module_state`:
one tensor per parameter and buffer), and each step runs the method's forward pass, its auxiliary loss and its loss
terms under `torch.func.vmap` over the stack (`functional_call`): every op, BatchNorm included, runs once for all
seeds. One copy of the data; each seed's batch order is its own shuffle (its fit's generator), the S orders one
index tensor per step. One Adam over the stacked parameters (Adam is elementwise, so it is each seed's own Adam;
one learning-rate schedule, as the seeds share their settings), and one for the stacked auxiliary modules (SDCIB's
critics, EAMC's discriminators). Random draws in the loss terms (torch.randperm, torch.multinomial: SDCIB's
shuffled pairs, CoMVC's negatives) come from each seed's own stream, the global generator as its sequential fit
finds it (`SeedOps`); graph propagations are dense (`dense_adjacency`: a sparse tensor's size is data-dependent,
which vmap cannot batch). vmap's kernels sum in another order than the sequential fit's (a linear layer is matmul +
add, not addmm): each seed's parameters, history and labels equal its sequential run's within float tolerance
(tests/test_seeds.py), not bit for bit; on the CPU seeds are therefore trained one by one unless asked.

A method opts in with `trains_seeds_together`: no hook but `after_step` (run per seed on its slice of the output),
its own forward pass the default one. Networks that differ in structure between seeds (DDMC's dominant view is
chosen per seed) are trained in groups of equal structure."""

from __future__ import annotations

import copy
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten, tree_unflatten

from ..nn import dense_adjacency
from .engine import Batch, Ctx, DeepClusterer, Stage, batch_sizes, step_auxiliary, train_networks


# ----------------------------------------------------------------- batched linear layers
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
    return [t if t is None or d == 0 else t.movedim(d, 0) if d is not None else t.expand(size, *t.shape)
            for t, d in zip(tensors, dims)]


def _seed_linear_vmap(info, in_dims, x, weight, bias):
    x, weight, bias = _leading((x, weight, bias), in_dims, info.batch_size)
    if x.dim() != 3:
        raise NotImplementedError("seed-batched linear layers take (n, features) inputs per seed.")
    if bias is None:
        bias = weight.new_zeros(weight.shape[:2])
    return stacked_linear(x, weight, bias), 0


seed_linear.register_vmap(_seed_linear_vmap)


# ----------------------------------------------------------------- each seed's random stream under vmap
_DRAWS: list[list[torch.Generator]] = []  # the generators of the seeds being drawn for (innermost last)


def _own_draws() -> Any:
    """Past vmap's check of random ops (randomness="error", kept for any other draw): these are each seed's own."""
    return torch._C._ExcludeDispatchKeyGuard(torch._C.DispatchKeySet(torch._C.DispatchKey.FuncTorchVmapMode))


@torch.library.custom_op("mmc::seed_randperm", mutates_args=())
def seed_randperm(like: torch.Tensor, n: int) -> torch.Tensor:
    """torch.randperm(n) on like's device; under vmap, each seed's from its own generator (`SeedOps`)."""
    return torch.randperm(n, device=like.device)


@seed_randperm.register_fake
def _(like, n):
    return like.new_empty((n,), dtype=torch.int64)


def _seed_randperm_vmap(info, in_dims, like, n):
    with _own_draws():
        return torch.stack([torch.randperm(n, generator=g, device=g.device).to(like.device) for g in _DRAWS[-1]]), 0


seed_randperm.register_vmap(_seed_randperm_vmap)


@torch.library.custom_op("mmc::seed_multinomial", mutates_args=())
def seed_multinomial(weights: torch.Tensor, n: int, replacement: bool) -> torch.Tensor:
    """torch.multinomial; under vmap, each seed's rows drawn from its own generator (`SeedOps`)."""
    return torch.multinomial(weights, n, replacement)


@seed_multinomial.register_fake
def _(weights, n, replacement):
    return weights.new_empty((*weights.shape[:-1], n), dtype=torch.int64)


def _seed_multinomial_vmap(info, in_dims, weights, n, replacement):
    (weights,) = _leading((weights,), in_dims[:1], info.batch_size)
    with _own_draws():
        return torch.stack([torch.multinomial(w, n, replacement, generator=g) for w, g in zip(weights, _DRAWS[-1])]), 0


seed_multinomial.register_vmap(_seed_multinomial_vmap)


class SeedOps(TorchFunctionMode):
    """Within it (inside vmap over the seeds): F.linear runs as `stacked_linear` (one baddbmm per layer and, in its
    backward, the gemms F.linear's backward makes: vmap's own rule adds a dozen view and copy ops per layer), and
    torch.randperm and torch.multinomial draw each seed's values from its own generator, as its sequential fit
    draws them from the global one; `like` is a tensor batched over the seeds (the batch's indices), which carries
    randperm into vmap."""

    def __init__(self, generators: list[torch.Generator], like: torch.Tensor):
        super().__init__()
        self.generators, self.like = generators, like

    def __enter__(self):
        _DRAWS.append(self.generators)
        return super().__enter__()

    def __exit__(self, *exc):
        _DRAWS.pop()
        return super().__exit__(*exc)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.linear:
            return seed_linear(*args, **kwargs)
        if func is torch.randperm and kwargs.get("generator") is None:
            return seed_randperm(self.like, int(args[0]))
        if func is torch.multinomial and kwargs.get("generator") is None:
            names = ("num_samples", "replacement")
            given = {**dict(zip(names, args[1:])), **kwargs}
            return seed_multinomial(args[0], int(given["num_samples"]), bool(given.get("replacement", False)))
        return func(*args, **kwargs)


# ----------------------------------------------------------------- training
def why_not_together(estimator: DeepClusterer) -> str | None:
    """Why the estimator's seeds cannot train as one computation, or None when they can."""
    name = type(estimator).__name__
    for stage in estimator.stages():
        hooks = [h for h in ("on_epoch_start", "before_step") if getattr(stage, h)]
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
    fitted as its own `fit(Xs)` would leave it (model_, history_, labels_ and what after_fit keeps), within float
    tolerance. Raises ValueError naming the reason when they cannot train together (then fit them one by one)."""
    if not estimators:
        return []
    check_one_cell(estimators)
    reason = why_not_together(estimators[0])
    if reason is not None:
        raise ValueError(f"Cannot train these seeds together: {reason}.")
    setups, states, views = [], [], []
    for e in estimators:
        views.append(e._begin_fit(Xs, None))
        setups.append(e._setup(views[-1]))
        states.append(torch.cuda.get_rng_state(e.device_) if e.device_.type == "cuda" else torch.get_rng_state())
    data = setups[0][0]
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(estimators):
        groups.setdefault(_structure(e.model_), []).append(i)
    for members in groups.values():
        nets = StackedNetworks([estimators[i] for i in members], data, [setups[i][1] for i in members],
                               [states[i] for i in members])
        train_networks(nets.estimators, nets, [views[i] for i in members], progress)
    return list(estimators)


class _Call(nn.Module):
    """The network as a submodule, so that functional_call can run any function of it: forward(fn, *args) =
    fn(net, *args)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(self.net, *args)


def per_seed(out: Any, size: int) -> list[Any]:
    """The batched output split into each seed's, by one unbind per tensor."""
    leaves, spec = tree_flatten(out)
    parts = [leaf.unbind(0) for leaf in leaves]
    return [tree_unflatten([part[s] for part in parts], spec) for s in range(size)]


class StackedNetworks:
    """The networks of S seeds stacked, trained by engine.train_networks as one (module docstring)."""

    def __init__(self, estimators: Sequence[DeepClusterer], data: list[torch.Tensor],
                 generators: Sequence[torch.Generator], rng_states: Sequence[torch.Tensor]):
        first = self.first = estimators[0]
        self.estimators, self.data, self.generators = list(estimators), data, list(generators)
        self.shape = (len(estimators),)
        self.params, self.buffers = stack_module_state([e.model_ for e in estimators])
        self.call = _Call(copy.deepcopy(first.model_))
        self.draws = [torch.Generator(first.device_).set_state(state) for state in rng_states]
        self.names = {id(p): name for name, p in first.model_.named_parameters()}
        self.stages = [{stage.name: stage for stage in e.stages()} for e in estimators]  # per seed, for after_step
        prefixes = tuple(f"{name}." for name in first.auxiliary_modules)
        self.auxiliary = first._auxiliary_optimizer(
            [t for name, t in self.params.items() if name.startswith(prefixes)])

    def optimizer(self, stage: Stage) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
        """The first seed's optimizer (its parameter groups, lr, betas) over the stacked parameters."""
        given = self.first.trainable_parameters(self.first.model_)
        stacked = lambda ps: [self.params[self.names[id(p)]] for p in ps]  # noqa: E731
        groups = [{**g, "params": stacked(g["params"])} for g in given] if isinstance(given[0], dict) \
            else stacked(given)
        return self.first._optimizer(stage, groups)

    def train(self) -> None:
        self.call.train()

    def batches(self) -> list[torch.Tensor]:
        """Each seed's shuffle (as its fit draws it), the S orders copied to the device once: (S, size) per step."""
        n = len(self.data[0])
        orders = torch.stack([torch.randperm(n, generator=g) for g in self.generators]).to(self.first.device_)
        return list(torch.split(orders, batch_sizes(n, self.first.batch_size), dim=1))

    def _vmapped(self, fn: Callable[..., Any], views: list[torch.Tensor], idx: torch.Tensor, *extra: Any) -> Any:
        """fn(model, batch, *extra) for every seed at once: its network, its batch, its slice of `extra`."""
        def one(params, buffers, views, idx, *extra):
            state = {f"net.{name}": t for name, t in {**params, **buffers}.items()}
            with SeedOps(self.draws, idx), dense_adjacency():  # a sparse graph cannot be batched
                return functional_call(self.call, state, (fn, Batch(views, idx), *extra))

        return vmap(one, randomness="error")(self.params, self.buffers, views, idx, *extra)

    def step(self, stage: Stage, idx: torch.Tensor, ctx: Ctx) -> tuple[dict[str, torch.Tensor], Any]:
        """Forward pass, auxiliary step and loss terms of every seed's batch, each batched over the seeds."""
        e, views = self.first, [X[idx] for X in self.data]
        out = self._vmapped(lambda model, batch: (stage.forward or e.forward)(model, batch, ctx), views, idx)
        if self.auxiliary is not None:
            step_auxiliary(self.auxiliary, self._vmapped(
                lambda model, batch, out: e.auxiliary_loss(model, out, batch, ctx), views, idx, out))
        terms = self._vmapped(lambda model, batch, out: e._checked_terms(stage, stage.terms(model, out, batch, ctx)),
                              views, idx, out)
        return terms, (views, idx, out)

    def after_step(self, stage: Stage, step: Any, ctx: Ctx) -> None:
        """Each seed's own `after_step`, on its batch and its slice of the output."""
        for e, own, (views, idx, out) in zip(self.estimators, self.stages, per_seed(step, self.shape[0])):
            own[stage.name].after_step(e.model_, Batch(views, idx), out, ctx)

    def seed(self, s: int) -> DeepClusterer:
        """Seed s's estimator, its network holding the seed's slice of the stack."""
        e = self.estimators[s]
        with torch.no_grad():
            for name, tensor in [*e.model_.named_parameters(), *e.model_.named_buffers()]:
                stacked = self.params.get(name, self.buffers.get(name))
                if stacked is not None:
                    tensor.copy_(stacked[s])
        return e

    def finish(self) -> None:
        """Every seed's network holds its trained slice."""
        for s in range(self.shape[0]):
            self.seed(s)
