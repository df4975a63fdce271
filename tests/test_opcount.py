"""The op/sync counter that stands in for a GPU profile on the CPU: it must see a host sync where one is (a scalar
read, a data-dependent size), not where none is (Adam's host-side step counter), and per_step must count only what
the batch loop adds."""

from __future__ import annotations

import numpy as np
import torch

from mmc_core.deep.opcount import count, per_step


def test_scalar_reads_and_data_dependent_sizes_are_syncs():
    x = torch.randn(8)
    counts = count(lambda: (float(x.sum()), x[x > 0], torch.tensor([1.0, 2.0])))
    assert counts.sync_ops == {"_local_scalar_dense": 1, "boolean mask index": 1, "lift_fresh": 1}
    assert count(lambda: torch.exp(x) + 1).syncs == 0


def test_adams_host_step_counter_is_not_a_sync():
    w = torch.nn.Parameter(torch.randn(4, 4))
    optimizer = torch.optim.Adam([w], lr=0.1)

    def step():
        optimizer.zero_grad()
        (w ** 2).sum().backward()
        optimizer.step()

    step()  # state created
    assert count(step).syncs == 0


def test_per_step_counts_what_one_more_batch_adds():
    """A fit with a fixed per-epoch cost and one scalar read per batch: per_step sees 1 sync and the batch's ops."""
    def fit(views, batch_size):
        data = torch.as_tensor(views[0])
        _ = data.mean() * 2  # per-epoch work, cancels out
        for batch in torch.split(data, batch_size):
            float((batch ** 2).sum())

    steps = per_step(fit, [np.ones((40, 3), dtype=np.float32)], batch_size=10)
    assert steps.syncs == 1 and steps.sync_ops == {"_local_scalar_dense": 1}
    assert 1 <= steps.ops <= 5
