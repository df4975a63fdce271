"""The trainer every deep method shares: a deep method is a DeepClusterer subclass that says how to build its
network, which named loss terms a batch gives, and how to read cluster assignments off the network.

What the trainer does, once for all methods: seeding of every RNG, CPU/CUDA selection, shuffled mini-batches,
Adam with a step learning-rate schedule, training stages (e.g. MFLVC's pre-train / contrastive / fine-tune),
switching loss terms off by name (ablations), a per-epoch history of every term (and, when labels are given to
`fit` for monitoring, of ACC/NMI/PUR — never used for training or selection), tqdm progress, and label-free
model selection (last epoch, or the epoch of lowest total loss).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from ..methods.base import MultiViewClusterer
from ..metrics import evaluate
from ..seeding import seed_everything

LossFn = Callable[[nn.Module, list[torch.Tensor], dict[str, Any]], dict[str, torch.Tensor]]


@dataclass
class Stage:
    """A phase of training: its name, number of epochs, and the function giving a batch's named loss terms."""

    name: str
    epochs: int
    loss_terms: LossFn
    lr: float | None = None  # None: the method's lr
    on_epoch_start: Callable[[nn.Module, list[torch.Tensor], dict[str, Any]], None] | None = field(default=None)


def resolve_device(device: str) -> torch.device:
    """'auto' = CUDA when available, else CPU; 'cuda' without a GPU is a clear error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("device='cuda' was asked for but no CUDA GPU is visible; use device='auto' or 'cpu'.")
    return torch.device(device)


class DeepClusterer(MultiViewClusterer):
    """Base class of the deep methods. Subclasses implement:

    - `build(dims)` -> nn.Module, the network for views of these input dims;
    - `stages()` -> list[Stage] (default: one stage "train" of `epochs` epochs with `loss_terms`), or just
      `loss_terms(model, batch, ctx)` -> dict of named scalar tensors (their sum is minimised);
    - `soft_assign(model, views)` -> (n, k) tensor of cluster probabilities (in eval mode, no grad).
    `ctx` carries the epoch, the stage, the number of epochs and anything a method keeps between batches.
    """

    default_scaling = None  # the dataset's (min-max for the MFLVC-family default)

    def __init__(
        self,
        n_clusters: int,
        random_state: int | None = 0,
        epochs: int = 100,
        batch_size: int = 100,
        lr: float = 1e-3,
        lr_step: int | None = None,
        lr_gamma: float = 0.5,
        disable: Sequence[str] = (),
        selection: str = "last",
        device: str = "auto",
        progress: bool = False,
    ):
        super().__init__(n_clusters, random_state)
        if selection not in ("last", "min_loss"):
            raise ValueError(f"selection must be 'last' or 'min_loss' (label-free), got {selection!r}.")
        if epochs < 1 or batch_size < 2:
            raise ValueError(f"Need epochs >= 1 and batch_size >= 2, got epochs={epochs}, batch_size={batch_size}.")
        self.epochs = int(epochs)
        self.batch_size = int(batch_size)
        self.lr = float(lr)
        self.lr_step = lr_step
        self.lr_gamma = float(lr_gamma)
        self.disable = tuple(disable)
        self.selection = selection
        self.device = device
        self.progress = progress

    # ----------------------------------------------------------------- what a method provides
    def build(self, dims: list[int]) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    def loss_terms(self, model: nn.Module, batch: list[torch.Tensor], ctx: dict[str, Any]) -> dict[str, torch.Tensor]:
        raise NotImplementedError  # pragma: no cover - abstract

    def stages(self) -> list[Stage]:
        return [Stage("train", self.epochs, self.loss_terms)]

    def soft_assign(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def trainable_parameters(self, model: nn.Module) -> list[nn.Parameter]:
        """The parameters the trainer's optimizer updates; a method with parts trained otherwise (SDCIB's
        mutual-information critics, stepped by the method itself) leaves them out."""
        return list(model.parameters())

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The representation the method clusters (e.g. the fused features), for t-SNE plots."""
        raise NotImplementedError(f"{type(self).__name__} does not define the representation it clusters.")

    # ----------------------------------------------------------------- training
    def _fit(self, views: list[np.ndarray]) -> None:
        """Train on the views. Labels given to `fit`, if any, only fill ACC/NMI/PUR per epoch in `history_`."""
        y = self._monitor_labels
        n = views[0].shape[0]
        seed_everything(self.random_state or 0)
        generator = torch.Generator().manual_seed(self.random_state or 0)  # batch shuffling
        self.device_ = resolve_device(self.device)
        data = [torch.as_tensor(X, dtype=torch.float32, device=self.device_) for X in views]
        self.model_ = self.build([X.shape[1] for X in views]).to(self.device_)
        records: list[dict[str, Any]] = []
        best_loss, best_state = float("inf"), None
        ctx: dict[str, Any] = {"n_samples": n}
        stages = self.stages()
        self._check_disable(stages, data)
        total_epochs = sum(s.epochs for s in stages)
        bar = tqdm(total=total_epochs, desc=type(self).__name__, disable=not self.progress, unit="epoch")
        for stage in stages:
            optimizer = torch.optim.Adam(self.trainable_parameters(self.model_), lr=stage.lr or self.lr)
            step = self.lr_step or max(stage.epochs // 2, 1)
            schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=step, gamma=self.lr_gamma)
            for epoch in range(stage.epochs):
                ctx.update(stage=stage.name, epoch=epoch, epochs=stage.epochs)
                if stage.on_epoch_start is not None:
                    with torch.no_grad():
                        stage.on_epoch_start(self.model_, data, ctx)
                sums = self._train_epoch(stage, data, optimizer, generator, ctx)
                schedule.step()
                record = {"stage": stage.name, "epoch": epoch, **sums}
                if y is not None:
                    record.update({k: v for k, v in evaluate(y, self._predict_tensor(data)).items()
                                   if k in ("acc", "nmi", "pur")})
                records.append(record)
                is_last_stage = stage is stages[-1]
                if self.selection == "min_loss" and is_last_stage and sums["total"] < best_loss:
                    best_loss, best_state = sums["total"], copy.deepcopy(self.model_.state_dict())
                bar.update()
                bar.set_postfix_str(f"{stage.name} loss {sums['total']:.4f}")
        bar.close()
        if best_state is not None:
            self.model_.load_state_dict(best_state)
        self.history_ = pd.DataFrame.from_records(records)
        self.labels_ = self._predict_tensor(data)

    def _check_disable(self, stages: list[Stage], data: list[torch.Tensor]) -> None:
        """Every name in `disable` must be a loss term of this method (checked on one forward pass)."""
        if not self.disable:
            return
        known: set[str] = set()
        self.model_.eval()
        with torch.no_grad():
            probe = [X[: min(len(X), self.batch_size)] for X in data]
            for stage in stages:
                known |= set(stage.loss_terms(self.model_, probe, {"stage": stage.name, "epoch": 0,
                                                                  "epochs": stage.epochs, "probe": True}))
        unknown = set(self.disable) - known
        if unknown:
            raise ValueError(f"disable={sorted(unknown)} names no loss term of {type(self).__name__}; "
                             f"its terms are {sorted(known)}.")

    def _batches(self, n: int, generator: torch.Generator) -> list[torch.Tensor]:
        """Shuffled index batches; a last batch of one sample joins the previous one (BatchNorm needs 2)."""
        order = torch.randperm(n, generator=generator)
        batches = list(torch.split(order, self.batch_size))
        if len(batches) > 1 and len(batches[-1]) < 2:
            batches[-2] = torch.cat([batches[-2], batches.pop()])
        return batches

    def _train_epoch(self, stage: Stage, data, optimizer, generator, ctx) -> dict[str, float]:
        self.model_.train()
        sums: dict[str, float] = {}
        batches = self._batches(len(data[0]), generator)
        for idx in batches:
            idx = idx.to(self.device_)
            terms = stage.loss_terms(self.model_, [X[idx] for X in data], ctx)
            active = {k: v for k, v in terms.items() if k not in self.disable}
            loss = sum(active.values()) if active else None
            if loss is not None and loss.requires_grad:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach()) / len(batches)
            sums["total"] = sums.get("total", 0.0) + (float(loss.detach()) if loss is not None else 0.0) / len(batches)
        return sums

    # ----------------------------------------------------------------- prediction
    def _predict_tensor(self, data: list[torch.Tensor]) -> np.ndarray:
        return self.predict_proba_tensor(data).argmax(dim=1).cpu().numpy()

    def predict_proba_tensor(self, data: list[torch.Tensor]) -> torch.Tensor:
        """Soft assignments of the whole data set."""
        return self._no_grad_chunks(data, self.soft_assign)

    def _no_grad_chunks(self, data: list[torch.Tensor], fn) -> torch.Tensor:
        """fn(model, views) over the data in chunks of 2048 samples, in eval mode, without gradients."""
        self.model_.eval()
        with torch.no_grad():
            return torch.cat([fn(self.model_, [X[i:i + 2048] for X in data]) for i in range(0, len(data[0]), 2048)])

    def _as_tensors(self, Xs: Sequence[np.ndarray]) -> list[torch.Tensor]:
        return [torch.as_tensor(X, dtype=torch.float32, device=self.device_) for X in self._check_fitted_views(Xs)]

    def predict_proba(self, Xs: Sequence[np.ndarray]) -> np.ndarray:
        """Cluster probabilities (n, k) of new or fitted data."""
        return self.predict_proba_tensor(self._as_tensors(Xs)).cpu().numpy()

    def transform(self, Xs: Sequence[np.ndarray]) -> np.ndarray:
        """The representation the method clusters, (n, d), for visualisation."""
        return self._no_grad_chunks(self._as_tensors(Xs), self.embed).cpu().numpy()

    def _predict(self, views: list[np.ndarray]) -> np.ndarray:
        return self.predict_proba(views).argmax(axis=1)
