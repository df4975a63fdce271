"""The trainer every deep method shares, and the contract between them.

The method contract. What every deep method (a `DeepClusterer` subclass) provides, the six points:
1. `build(dims)` -> nn.Module, its network;
2. its training: `stages()` -> [Stage] (each naming its loss terms with their weights and the function giving a
   batch's raw term values), or for one stage just `loss_terms(model, out, batch, ctx)` and `loss_weights()`;
3. `soft_assign(model, views)` -> (n, k) probabilities;  4. `embed(model, views)`, the representation it clusters;
5. `prepare(views)`, settled from the data before the network is built;  6. `after_fit(views)`, what it keeps.
What a method may override where it needs it: `forward(model, batch, ctx)` (the training forward pass) and the
hooks `on_epoch_start`, `before_step`, `after_step` (methods or Stage fields), `trainable_parameters(model)`
(Adam's parameter groups), `training_labels(data)` (a readout that is not the argmax); class attributes
`trainer_defaults`, `inference_chunk`, `cluster_loss`.
What batching the seeds strictly needs (mmc_core.deep.seeds), and nothing else does:
- `trains_seeds_together` (with `seeds_apart`, the reason when not): the method's forward pass, `after_network`
  and loss terms run under torch.func.vmap, so they may not act on the model outside of what they compute;
- `after_network(out, batch, ctx)`: what the default forward pass derives from the network's output (IDMC's
  interest values), batched with it, where an own `forward` would not batch;
- `auxiliary_modules`, `auxiliary_loss(model, out, batch, ctx)`, `auxiliary_optimizer()`: networks outside the
  forward pass trained on their own objective (SDCIB's critics, EAMC's discriminators), stepped by the trainer so
  that they stack with the rest.

Per batch the trainer runs: before_step(model, batch, ctx) -> out = forward(model, batch, ctx) (default
after_network(model(batch), batch, ctx)) -> one Adam step of the auxiliary modules on auxiliary_loss(model, out,
batch, ctx) -> terms(model, out, batch, ctx) -> the weighted sum of the terms not disabled is minimised ->
after_step(model, batch, out, ctx). on_epoch_start(model, data, ctx) runs, without gradients, before each epoch.
Side effects (EMA updates, pseudo-label refreshes, kept interest values) live in hooks only: `terms` computes
values. A batch (`Batch`) is the list of its views' rows and carries their sample indices (`batch.index`), so
per-sample state (pseudo labels) is looked up, not recomputed.

One loop (`train_networks`) trains S >= 1 networks: a fit is S = 1 (`OneNetwork`), seeds trained together are S
stacked networks (mmc_core.deep.seeds.StackedNetworks), every step batched over them. What the trainer does once for
all methods: seeding, CPU/CUDA selection, shuffled mini-batches (the epoch's order copied to the device once),
Adam with a step learning-rate schedule per stage, switching terms off by name (ablations), a per-epoch history of
every raw term, its weight and the minimised total (accumulated on the device: no host sync per batch), per-epoch
ACC/NMI/PUR when labels are given to `fit` (never used for training or selection), tqdm progress, label-free model
selection (last epoch, or lowest total loss), and chunked inference.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Mapping, Protocol, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from ..estimator import MultiViewClusterer
from ..metrics import evaluate
from ..params import Boolean, Device, EpochList, Interval, Names, NoneValue, Options
from ..preprocessing import check_float32_range
from ..seeding import seed_everything
from .device import resolve_device

Ctx = dict[str, Any]


class Batch(list):
    """The rows of one mini-batch, one tensor per view, with `index`: their sample indices in the data set."""

    def __init__(self, views: Sequence[torch.Tensor], index: torch.Tensor):
        super().__init__(views)
        self.index = index


TermsFn = Callable[[nn.Module, Any, Batch, Ctx], dict[str, torch.Tensor]]
Hook = Callable[..., None]
Weight = float | Callable[[int, int], float]  # a constant, or a schedule: weight(epoch, epochs of the stage)


@dataclass
class Stage:
    """A phase of training. `weights` names every loss term the stage gives, with its weight in the minimised
    total: a constant, or a schedule `weight(epoch, epochs)` evaluated at the start of each epoch (history keeps the
    raw values and each epoch's weights); `terms(model, out, batch, ctx)` computes the raw values from the forward
    pass `out`. Hooks, optional: see the module docstring. lr None: the method's."""

    name: str
    epochs: int
    terms: TermsFn
    weights: Mapping[str, Weight]
    forward: Callable[[nn.Module, Batch, Ctx], Any] | None = None
    lr: float | None = None
    on_epoch_start: Hook | None = None
    before_step: Hook | None = None
    after_step: Hook | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The stage's loss terms, in the order `terms` gives them."""
        return tuple(self.weights)

    def weights_at(self, epoch: int) -> dict[str, float]:
        """Every term's weight in epoch `epoch` of the stage."""
        return {name: float(w(epoch, self.epochs) if callable(w) else w) for name, w in self.weights.items()}


def split_epochs(total: int, parts: Sequence[int]) -> tuple[int, ...]:
    """`total` epochs shared among stages in proportion to `parts` (rounded); a stage of nonzero length keeps at
    least one epoch, a stage of length 0 stays 0."""
    whole = sum(parts)
    return tuple(0 if p == 0 else max(1, round(total * p / whole)) for p in parts)


def batch_sizes(n: int, size: int) -> list[int]:
    """The sizes of n samples' batches of `size`; a last batch of one sample joins the one before it (BatchNorm and
    contrastive terms need two samples), so every sample is in exactly one."""
    sizes = [size] * (n // size) + ([n % size] if n % size else [])
    if len(sizes) > 1 and sizes[-1] < 2:
        sizes[-2:] = [sizes[-2] + sizes[-1]]
    return sizes


def index_batches(n: int, size: int, generator: torch.Generator | None,
                  device: torch.device | str = "cpu") -> list[torch.Tensor]:
    """Index batches (`batch_sizes`) of a shuffle drawn with `generator` on the CPU (in order without one), on
    `device`: the order is copied there once, so the batch loop makes no host-to-device copy."""
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    return list(torch.split(order.to(device), batch_sizes(n, size)))


def weighted_total(terms: Mapping[str, torch.Tensor], active: Sequence[tuple[str, float]]) -> torch.Tensor:
    """The minimised loss: the active terms, each times its weight (a weight of 1 adds the term as it is)."""
    return sum(terms[name] if w == 1.0 else w * terms[name] for name, w in active)


def term_values(stage: Stage, terms: Mapping[str, torch.Tensor], total: Any, device: torch.device) -> torch.Tensor:
    """A batch's raw terms and total as float64 on the device, the last dimension the terms (summed over an epoch
    without host sync): a vector for one network, (S, terms + 1) for S stacked ones."""
    values = [terms[name].detach() for name in stage.names]
    total = torch.as_tensor(total).detach()
    values.append(total.expand_as(values[0]) if values and total.dim() < values[0].dim() else total)
    return torch.stack([v.to(device=device, dtype=torch.float64) for v in values], dim=-1)


def epoch_record(stage: Stage, means: Sequence[float], weights: Mapping[str, float]) -> dict[str, float]:
    """An epoch's history row: the mean raw terms, the total and each term's weight."""
    record = dict(zip([*stage.names, "total"], means))
    record.update({f"{name} weight": w for name, w in weights.items()})
    return record


def step_auxiliary(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    """One step of the auxiliary modules on their loss (S stacked networks' losses summed: each its own gradient)."""
    optimizer.zero_grad(set_to_none=True)
    (loss if loss.dim() == 0 else loss.sum()).backward()
    optimizer.step()


class Networks(Protocol):
    """What `train_networks` trains: one network (`OneNetwork`) or S stacked ones (mmc_core.deep.seeds)."""

    data: list[torch.Tensor]
    shape: tuple[int, ...]  # () for one network, (S,) for S

    def optimizer(self, stage: Stage) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]: ...

    def train(self) -> None: ...

    def batches(self) -> list[torch.Tensor]: ...

    def step(self, stage: Stage, idx: torch.Tensor, ctx: Ctx) -> tuple[dict[str, torch.Tensor], Any]: ...

    def after_step(self, stage: Stage, step: Any, ctx: Ctx) -> None: ...

    def seed(self, s: int) -> "DeepClusterer": ...

    def finish(self) -> None: ...


class OneNetwork:
    """One estimator's network, trained as its `fit` trains it: the S = 1 case of `train_networks`."""

    shape: tuple[int, ...] = ()

    def __init__(self, estimator: "DeepClusterer", data: list[torch.Tensor], generator: torch.Generator):
        self.estimator, self.data, self.generator = estimator, data, generator
        model = estimator.model_
        self.auxiliary = estimator._auxiliary_optimizer(
            [p for name in estimator.auxiliary_modules for p in model.get_submodule(name).parameters()])

    def optimizer(self, stage: Stage) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
        return self.estimator._optimizer(stage)

    def train(self) -> None:
        self.estimator.model_.train()

    def batches(self) -> list[torch.Tensor]:
        e = self.estimator
        return index_batches(len(self.data[0]), e.batch_size, self.generator, e.device_)

    def step(self, stage: Stage, idx: torch.Tensor, ctx: Ctx) -> tuple[dict[str, torch.Tensor], Any]:
        """Hooks, forward pass, auxiliary step and loss terms of one batch; the batch and output for `after_step`."""
        e, model = self.estimator, self.estimator.model_
        batch = Batch([X[idx] for X in self.data], idx)
        if stage.before_step is not None:
            stage.before_step(model, batch, ctx)
        out = (stage.forward or e.forward)(model, batch, ctx)
        if self.auxiliary is not None:
            step_auxiliary(self.auxiliary, e.auxiliary_loss(model, out, batch, ctx))
        return e._checked_terms(stage, stage.terms(model, out, batch, ctx)), (batch, out)

    def after_step(self, stage: Stage, step: Any, ctx: Ctx) -> None:
        stage.after_step(self.estimator.model_, *step, ctx)

    def seed(self, s: int) -> "DeepClusterer":
        """The estimator of network s, its network as trained so far."""
        return self.estimator

    def finish(self) -> None:
        """Nothing to hand back: the estimator's network is the one trained."""


def train_networks(estimators: Sequence["DeepClusterer"], nets: Networks, views: Sequence[list[np.ndarray]],
                   progress: bool) -> None:
    """The trainer's loop, for the S >= 1 networks of `nets` (S estimators of one method, differing only in their
    seed): stages, epochs (`DeepClusterer._train_epoch`: every step one batch per network), learning-rate
    schedules, per-epoch history, monitored scores, label-free epoch selection, snapshots; at the end each estimator
    fitted as its own `fit` leaves it (history_, epoch_labels_, labels_, what `after_fit` keeps)."""
    first, data = estimators[0], nets.data
    stages = first.stages()
    first._check_disable(stages)
    ctx: Ctx = {"n_samples": len(data[0])}
    records: list[list[dict[str, Any]]] = [[] for _ in estimators]
    best: list[tuple[float, Any]] = [(float("inf"), None) for _ in estimators]
    selections = [EpochSelection(e) for e in estimators]
    for e in estimators:
        e.snapshots_ = {}
    name = type(first).__name__ + (f" x{len(estimators)} seeds" if len(estimators) > 1 else "")
    bar = tqdm(total=sum(s.epochs for s in stages), desc=name, disable=not progress, unit="epoch")
    for stage in stages:
        optimizer, schedule = nets.optimizer(stage)
        for epoch in range(stage.epochs):
            ctx.update(stage=stage.name, epoch=epoch, epochs=stage.epochs)
            for e in estimators:
                e._snapshot(data, len(records[0]))
            if stage.on_epoch_start is not None:
                with torch.no_grad():
                    stage.on_epoch_start(first.model_, data, ctx)
            rows = first._train_epoch(stage, nets, optimizer, ctx)
            schedule.step()
            for s, (e, row) in enumerate(zip(estimators, rows)):
                record = {"stage": stage.name, "epoch": epoch, **row}
                if e._monitor_labels is not None:
                    scores = evaluate(e._monitor_labels, nets.seed(s).training_labels(data))
                    record.update({k: scores[k] for k in ("acc", "nmi", "pur")})
                records[s].append(record)
                if e.selection == "min_loss" and stage is stages[-1] and record["total"] < best[s][0]:
                    best[s] = (record["total"], copy.deepcopy(nets.seed(s).model_.state_dict()))
                if stage is stages[-1]:
                    selections[s].update(record, len(records[s]) - 1, lambda s=s: nets.seed(s).labels_now(data))
            bar.update()
            bar.set_postfix_str(f"{stage.name} loss {records[0][-1]['total']:.4f}")
    bar.close()
    nets.finish()
    for e, rows, (_, state), selection, own in zip(estimators, records, best, selections, views):
        e._snapshot(data, len(rows))
        if state is not None:
            e.model_.load_state_dict(state)
        e.history_ = pd.DataFrame.from_records(rows)
        e.epoch_labels_ = selection.chosen
        e.labels_ = e.training_labels(data)
        e.after_fit(own)


class EpochSelection:
    """The partitions label-free epoch selection would report, kept while training: per criterion, the last-stage
    epoch with the lowest value and its labels ("min_total": the minimised total; "min_cluster_loss": the sum of the
    method's `cluster_loss` terms, the DDC loss the IDMC/DDMC/SDCIB group's code selects its epoch by). The labels
    are computed only when a criterion improves, in eval mode without gradients, so training is not changed; only
    for methods whose partition is the argmax of their soft assignments (a K-means readout would refit per epoch)."""

    def __init__(self, method: "DeepClusterer"):
        self.criteria: dict[str, tuple[str, ...]] = {}
        if type(method).training_labels is DeepClusterer.training_labels:
            self.criteria["min_total"] = ("total",)
            if method.cluster_loss:
                self.criteria["min_cluster_loss"] = tuple(method.cluster_loss)
        self.best: dict[str, float] = {}
        self.chosen: dict[str, dict[str, Any]] = {}

    def update(self, record: Mapping[str, float], epoch: int, labels: Callable[[], np.ndarray]) -> None:
        """Record epoch `epoch` (counted over all stages) where it lowers a criterion; labels() gives its partition."""
        partition = None
        for name, terms in self.criteria.items():
            value = float(sum(record[t] for t in terms))
            if value < self.best.get(name, float("inf")):
                partition = labels() if partition is None else partition
                self.best[name] = value
                self.chosen[name] = {"epoch": epoch, "value": value, "labels": np.asarray(partition)}


class DeepClusterer(MultiViewClusterer):
    """Base class of the deep methods (the contract is in the module docstring). Class attributes:
    `trainer_defaults` (the method's own defaults of the trainer parameters, e.g. {"batch_size": 256}),
    `inference_chunk` (samples per forward pass at inference; None = all at once, for methods whose forward pass
    links the samples, e.g. a graph over them), `trains_seeds_together` (True where the method's seeds may be
    trained as one batched computation, mmc_core.deep.seeds: its forward pass, `after_network` and loss terms run
    under torch.func.vmap over the stacked networks, it has no hook but `after_step`, and it draws random numbers
    only with torch.randperm and torch.multinomial), `seeds_apart` (why not, where no hook says it) and
    `auxiliary_modules` (names of the network's submodules its forward pass does not use, trained by the trainer
    with their own Adam, `auxiliary_optimizer()`, on `auxiliary_loss` after each forward pass and read by the loss
    terms: SDCIB's critics, EAMC's discriminators)."""

    trainer_defaults: ClassVar[dict[str, Any]] = {}
    inference_chunk: ClassVar[int | None] = 2048
    trains_seeds_together: ClassVar[bool] = False  # seeds of a cell can train as one batched computation
    seeds_apart: ClassVar[str] = "its loss terms use the network"  # why not, where no hook says it
    auxiliary_modules: ClassVar[tuple[str, ...]] = ()  # submodules outside the forward pass, on auxiliary_loss
    cluster_loss: ClassVar[tuple[str, ...]] = ()  # the terms that train the cluster head (the DDC loss of IDMC/DDMC)
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "epochs": Interval(int, 1), "batch_size": Interval(int, 2), "lr": Interval(float, 0, closed="neither"),
        "lr_step": [NoneValue(), Interval(int, 1)], "lr_gamma": Interval(float, 0, 1, closed="right"),
        "disable": Names(), "selection": Options(("last", "min_loss")), "device": Device(), "progress": Boolean(),
        "snapshot_epochs": EpochList(),
    }
    on_epoch_start: Hook | None = None
    before_step: Hook | None = None
    after_step: Hook | None = None

    def __init__(
        self,
        n_clusters: int,
        random_state: int | None = 0,
        epochs: int | None = None,
        batch_size: int | None = None,
        lr: float | None = None,
        lr_step: int | None = None,
        lr_gamma: float | None = None,
        disable: Sequence[str] = (),
        selection: str = "last",
        device: str = "auto",
        progress: bool = False,
        snapshot_epochs: Sequence[int] = (),
        scaling: str | None = None,
    ):
        super().__init__(n_clusters, random_state, scaling)
        given = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "lr_gamma": lr_gamma}
        defaults = {"epochs": 100, "batch_size": 100, "lr": 1e-3, "lr_gamma": 0.5, **type(self).trainer_defaults}
        for name, value in given.items():
            setattr(self, name, defaults[name] if value is None else value)
        self.lr_step = lr_step
        self.disable = tuple(disable) if isinstance(disable, (list, tuple)) else disable
        self.selection = selection
        self.device = device
        self.progress = progress
        self.snapshot_epochs = snapshot_epochs

    # ----------------------------------------------------------------- what a method provides
    def prepare(self, views: list[np.ndarray]) -> None:
        """What a method settles from the data before its network is built (e.g. DDMC's dominant view)."""

    def after_fit(self, views: list[np.ndarray]) -> None:
        """What a method keeps from the trained network besides its labels (e.g. SiMVC's fusion weights)."""

    def build(self, dims: list[int]) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    def loss_terms(self, model: nn.Module, out: Any, batch: Batch, ctx: Ctx) -> dict[str, torch.Tensor]:
        raise NotImplementedError  # pragma: no cover - abstract

    def loss_weights(self) -> dict[str, float]:  # pragma: no cover - abstract
        """The one-stage method's loss terms and their weights."""
        raise NotImplementedError

    def forward(self, model: nn.Module, batch: Batch, ctx: Ctx) -> Any:
        """The training forward pass of a batch (default: the network's, then `after_network`)."""
        return self.after_network(model(batch), batch, ctx)

    def after_network(self, out: Any, batch: Batch, ctx: Ctx) -> Any:
        """What the method derives from the network's output without touching the network (IDMC's interest values),
        added to it; default: the output as it is."""
        return out

    def stages(self) -> list[Stage]:
        return [Stage("train", self.epochs, self.loss_terms, self.loss_weights(), self.forward,
                      on_epoch_start=self.on_epoch_start, before_step=self.before_step, after_step=self.after_step)]

    def soft_assign(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def auxiliary_loss(self, model: nn.Module, out: Any, batch: Batch, ctx: Ctx) -> torch.Tensor:  # pragma: no cover
        """What the `auxiliary_modules` minimise at each step, from the forward pass's output (detached)."""
        raise NotImplementedError(f"{type(self).__name__} names auxiliary_modules but gives no auxiliary_loss.")

    def auxiliary_optimizer(self) -> dict[str, Any]:
        """The Adam options (lr, betas) of the `auxiliary_modules`; default: the method's learning rate."""
        return {"lr": self.lr}

    def trainable_parameters(self, model: nn.Module) -> list[nn.Parameter] | list[dict[str, Any]]:
        """What the trainer's optimizer updates: parameters, or Adam parameter groups (dicts with their own lr or
        betas, e.g. EAMC's); parts trained otherwise (SDCIB's critics, EAMC's discriminators, stepped in a hook) are
        left out."""
        return list(model.parameters())

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The representation the method clusters (e.g. the fused features), for t-SNE plots."""
        raise NotImplementedError(f"{type(self).__name__} does not define the representation it clusters.")

    def training_labels(self, data: list[torch.Tensor]) -> np.ndarray:
        """The partition of the training data (default: argmax of the soft assignments)."""
        return self.predict_proba_tensor(data).argmax(dim=1).cpu().numpy()

    def labels_now(self, data: list[torch.Tensor]) -> np.ndarray:
        """The partition of the training data at this point of training, the network left in the mode it was in
        (an epoch hook that runs the network in train mode must find it so)."""
        training = self.model_.training
        labels = self.training_labels(data)
        self.model_.train(training)
        return labels

    # ----------------------------------------------------------------- training
    def _fit(self, views: list[np.ndarray]) -> None:
        """Train on the views: `train_networks` over this one network (S = 1). Labels given to `fit`, if any, only
        fill ACC/NMI/PUR per epoch in `history_`. The representation (`embed`) of the training data is kept in
        `snapshots_[e]` before each epoch e listed in `snapshot_epochs` (counted over all stages from 0; the number of
        epochs in all = after the last one)."""
        data, generator = self._setup(views)
        train_networks([self], OneNetwork(self, data, generator), [views], self.progress)

    def _optimizer(self, stage: Stage, parameters: Any = None
                   ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
        """A stage's Adam over `parameters` (default: `trainable_parameters` of the network), and its step schedule
        (halving at mid-stage by default)."""
        parameters = self.trainable_parameters(self.model_) if parameters is None else parameters
        optimizer = torch.optim.Adam(parameters, lr=stage.lr or self.lr)
        step = self.lr_step or max(stage.epochs // 2, 1)
        return optimizer, torch.optim.lr_scheduler.StepLR(optimizer, step_size=step, gamma=self.lr_gamma)

    def _auxiliary_optimizer(self, parameters: Sequence[torch.Tensor]) -> torch.optim.Optimizer | None:
        """The Adam of the `auxiliary_modules` (None without them), one for the whole fit."""
        return torch.optim.Adam(parameters, **self.auxiliary_optimizer()) if self.auxiliary_modules else None

    def _setup(self, views: list[np.ndarray]) -> tuple[list[torch.Tensor], torch.Generator]:
        """Before training: the method's `prepare`, the seeded network on its device, the data as tensors there and
        the generator that shuffles the batches."""
        check_float32_range(views)
        self.prepare(views)
        seed_everything(self.seed_)
        generator = torch.Generator().manual_seed(self.seed_)  # batch shuffling
        self.device_ = resolve_device(self.device)
        data = [torch.as_tensor(X, dtype=torch.float32, device=self.device_) for X in views]
        self.model_ = self.build([X.shape[1] for X in views]).to(self.device_)
        return data, generator

    def _snapshot(self, data: list[torch.Tensor], epoch: int) -> None:
        if epoch in self.snapshot_epochs:
            self.snapshots_[epoch] = self.infer(data, self.embed).cpu().numpy()

    def _check_disable(self, stages: list[Stage]) -> None:
        """Every name in `disable` must be a loss term some stage declares."""
        known = {name for stage in stages for name in stage.names}
        unknown = set(self.disable) - known
        if unknown:
            raise ValueError(f"disable={sorted(unknown)} names no loss term of {type(self).__name__}; "
                             f"its terms are {sorted(known)}.")

    def _train_epoch(self, stage: Stage, nets: "Networks", optimizer: torch.optim.Optimizer,
                     ctx: Ctx) -> list[dict[str, float]]:
        """One pass over each network's shuffled batches, every step one batch per network: forward, auxiliary
        step, terms, the weighted total minimised (the S networks' totals summed: each network's gradient is its
        own), `after_step`. Returns, per network, the epoch means of the raw terms, their weights and the total
        (one host transfer for all)."""
        nets.train()
        weights = stage.weights_at(ctx["epoch"])
        active = [(name, w) for name, w in weights.items() if name not in self.disable]
        batches = nets.batches()
        sums = torch.zeros((*nets.shape, len(stage.names) + 1), dtype=torch.float64, device=self.device_)
        for idx in batches:
            terms, step = nets.step(stage, idx, ctx)
            loss = weighted_total(terms, active)
            if isinstance(loss, torch.Tensor) and loss.requires_grad:
                optimizer.zero_grad(set_to_none=True)
                (loss if loss.dim() == 0 else loss.sum()).backward()
                optimizer.step()
            if stage.after_step is not None:
                nets.after_step(stage, step, ctx)
            sums += term_values(stage, terms, loss, self.device_)
        means = (sums / len(batches)).tolist()
        return [epoch_record(stage, row, weights) for row in (means if nets.shape else [means])]

    def _checked_terms(self, stage: Stage, terms: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The terms a stage's `terms` gave, checked against the names the stage declares."""
        if tuple(terms) != stage.names:
            raise RuntimeError(f"{type(self).__name__} stage {stage.name!r} gave terms {list(terms)}, "
                               f"but declares {list(stage.names)}.")
        return terms

    # ----------------------------------------------------------------- inference
    def infer(self, data: list[torch.Tensor], fn: Callable[[nn.Module, list[torch.Tensor]], Any]) -> Any:
        """fn(model, views) over the whole data set, in eval mode and without gradients, `inference_chunk` samples
        at a time; a tensor result is concatenated, a list of per-view tensors concatenated view by view."""
        self.model_.eval()
        n, size = len(data[0]), self.inference_chunk or len(data[0])
        with torch.no_grad():
            parts = [fn(self.model_, [X[i:i + size] for X in data]) for i in range(0, n, size)]
        if isinstance(parts[0], torch.Tensor):
            return torch.cat(parts)
        return [torch.cat(per_view) for per_view in zip(*parts)]

    def predict_proba_tensor(self, data: list[torch.Tensor]) -> torch.Tensor:
        """Soft assignments of the whole data set."""
        return self.infer(data, self.soft_assign)

    def _tensors(self, views: list[np.ndarray]) -> list[torch.Tensor]:
        """Views already checked and scaled (as `fit` and `_predict` hold them), as tensors on the model's device."""
        return [torch.as_tensor(X, dtype=torch.float32, device=self.device_) for X in views]

    def _as_tensors(self, Xs: Sequence[np.ndarray]) -> list[torch.Tensor]:
        """New data as tensors the network reads: checked and scaled as at fit (`_check_fitted_views`)."""
        return self._tensors(self._check_fitted_views(Xs))

    def predict_proba(self, Xs: Sequence[np.ndarray]) -> np.ndarray:
        """Cluster probabilities (n, k) of new or fitted data."""
        return self.predict_proba_tensor(self._as_tensors(Xs)).cpu().numpy()

    def transform(self, Xs: Sequence[np.ndarray]) -> np.ndarray:
        """The representation the method clusters, (n, d), for visualisation."""
        return self.infer(self._as_tensors(Xs), self.embed).cpu().numpy()

    def _predict(self, views: list[np.ndarray]) -> np.ndarray:
        return self.predict_proba_tensor(self._tensors(views)).argmax(dim=1).cpu().numpy()
