"""Why SDCIB used fewer clusters than asked, and the fix: a per-epoch trace of readings of SDCIB on one dataset.

For every reading (a set of SDCIB parameters) and seed, the trace records after each epoch, on the whole data set and
without labels: the clusters the final partition uses (argmax of the views' mean soft assignment, eval mode), the
entropy of its marginal (mean soft assignment) and the mean per-sample entropy, the same in training mode (batch
statistics of BatchNorm over the whole data set), the clusters each view's own argmax uses, every raw loss term of the
epoch (history_), and per term the norm of its weighted gradient on the encoders and the shared head, on one fixed
probe batch, with the directional derivative of the batch's marginal entropy along the descent step each term
asks for (> 0: the term pushes towards balanced clusters). ACC/NMI against the labels are recorded for information
only: no reading is chosen by them.

    OMP_NUM_THREADS=1 MMC_DATA_DIR=... .venv/bin/python scripts/sdcib_collapse.py   # the fixed set (READINGS), Event
    .venv/bin/python scripts/sdcib_collapse.py --dataset MSRC-v1 --epochs 30 \
        --readings 'old={"balance": "none"}' 'new={}'

The fixed set: the old reading and the new default at 100 epochs, two ablations of the old reading at 30 epochs,
seeds 0-2: about 15 minutes on one thread.

Writes reference/diagnostics/sdcib_collapse.json (records: reading, params, dataset, seed, epoch, clusters_used,
marginal_entropy, sample_entropy, ..., terms) unless --out says otherwise.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmc_core.experiments.runner import RunSpec, _dataset  # noqa: E402
from mmc_core.methods.sdcib import SDCIB  # noqa: E402
from mmc_core.metrics import evaluate  # noqa: E402

TERMS = ("compression", "relevance", "cluster_consistency", "feature_consistency")

# The fixed set the diagnosis relied on: the old reading, the new default, and the ablations that locate the cause.
# Each: (parameters, epochs; None = --epochs). The ablations are short: the collapse is settled by epoch ~10.
READINGS = {
    "new default (balance='sinkhorn')": ({}, None),
    "old (balance='none')": ({"balance": "none"}, None),
    "old, no relevance": ({"balance": "none", "disable": ("relevance",)}, 30),
    "old, no feature consistency": ({"balance": "none", "disable": ("feature_consistency",)}, 30),
}


def entropy(p: torch.Tensor) -> torch.Tensor:
    return -(p.clamp_min(1e-12).log() * p).sum(-1)


class TracedSDCIB(SDCIB):
    """SDCIB whose every epoch ends with a label-free look at its assignments (nothing here changes its training:
    the probes run on a copy of the network, under a forked RNG)."""

    probe_every = 5  # the gradient probe's period in epochs (and the last epoch); the statistics run every epoch

    def _train_epoch(self, stage, nets, optimizer, ctx):
        (record,) = super()._train_epoch(stage, nets, optimizer, ctx)  # one network: its fit
        data = nets.data
        with torch.random.fork_rng():
            record.update(self._assignment_stats(data))
            if ctx["epoch"] % self.probe_every == 0 or ctx["epoch"] == ctx["epochs"] - 1:
                record.update(self._gradient_probe(data, ctx))
        return [record]

    def _assignment_stats(self, data):
        stats = {}
        views_eval = self.infer(data, lambda m, v: torch.stack(m(v)["Y"]))  # (V, n, k)
        trained = copy.deepcopy(self.model_).train()
        with torch.no_grad():
            views_train = torch.stack(trained(data)["Y"])
        for mode, Y in (("", views_eval), ("train_", views_train)):
            mean = Y.mean(0)
            stats[f"{mode}clusters_used"] = int(mean.argmax(1).unique().numel())
            stats[f"{mode}marginal_entropy"] = float(entropy(mean.mean(0)))
            stats[f"{mode}sample_entropy"] = float(entropy(mean).mean())
        stats["view_clusters_used"] = [int(y.argmax(1).unique().numel()) for y in views_eval]
        stats["view_marginal_entropy"] = [float(entropy(y.mean(0))) for y in views_eval]
        stats["cluster_sizes"] = np.bincount(views_eval.mean(0).argmax(1).cpu().numpy(),
                                             minlength=self.n_clusters).tolist()
        return stats

    def _gradient_probe(self, data, ctx):
        """Per term, on a fixed probe batch: |w grad| on the encoders and on the head, and the first-order change of
        the batch's marginal entropy under a unit descent step along -w grad (its dot product with grad H)."""
        net = copy.deepcopy(self.model_).train()
        n = len(data[0])
        idx = torch.randperm(n, generator=torch.Generator().manual_seed(12345))[:min(self.batch_size, n)]
        batch = [X[idx] for X in data]
        params = net.encoder_parameters()
        head = set(map(id, net.head.parameters()))
        torch.manual_seed(0)
        out = net(batch)
        marg = entropy(torch.stack(out["Y"]).mean((0, 1)))
        g_h = torch.autograd.grad(marg, params, retain_graph=True, allow_unused=True)
        terms = self.loss_terms(net, out, batch, ctx)
        weights = self.loss_weights()
        probe = {}
        for name in TERMS:
            if name in self.disable or weights[name] == 0:
                continue
            g = torch.autograd.grad(weights[name] * terms[name], params, retain_graph=True, allow_unused=True)
            norms = [(id(p) in head, float((x ** 2).sum())) for p, x in zip(params, g) if x is not None]
            enc = math.sqrt(sum(v for in_head, v in norms if not in_head))
            hd = math.sqrt(sum(v for in_head, v in norms if in_head))
            dh = -sum(float((x * y).sum()) for x, y in zip(g, g_h) if x is not None and y is not None)
            probe.update({f"grad_encoder {name}": enc, f"grad_head {name}": hd, f"dH_marginal {name}": dh})
        return probe


def run(reading: str, params: dict, dataset: str, seed: int, epochs: int, labels_for_info: bool = True):
    spec = RunSpec("sdcib", dataset, seed, {})
    views, labels, k = _dataset(dataset, None)
    model = TracedSDCIB(k, random_state=seed, epochs=epochs, device="cpu", scaling=spec.resolved_scaling(), **params)
    start = time.perf_counter()
    model.fit(views, y=labels if labels_for_info else None)
    seconds = time.perf_counter() - start
    rows = []
    for rec in model.history_.to_dict("records"):
        row = {"reading": reading, "params": {k_: list(v) if isinstance(v, tuple) else v for k_, v in params.items()},
               "dataset": dataset, "seed": seed, **rec}
        rows.append(row)
    final = evaluate(labels, model.labels_)
    rows[-1].update({"final_clusters_used": int(np.unique(model.labels_).size), "seconds": seconds,
                     "final_acc_info_only": final["acc"], "final_nmi_info_only": final["nmi"]})
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="Event")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--readings", nargs="+", default=list(READINGS),
                        help="names from READINGS, or NAME=JSON parameters")
    parser.add_argument("--out", default=str(ROOT / "reference" / "diagnostics" / "sdcib_collapse.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    chosen = {}
    for r in args.readings:
        if r in READINGS:
            chosen[r] = READINGS[r]
        else:
            name, spec = r.split("=", 1)
            chosen[name] = (json.loads(spec), None)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"dataset": args.dataset, "seeds": args.seeds,
            "readings": {name: {"params": p, "epochs": e or args.epochs} for name, (p, e) in chosen.items()},
            "torch_threads": torch.get_num_threads(),
            "note": "ACC/NMI are recorded for information only; no reading was chosen by them."}
    rows = []
    jobs = [(name, p, e or args.epochs, s) for name, (p, e) in chosen.items() for s in args.seeds]
    for name, p, epochs, seed in tqdm(jobs, desc="SDCIB trace", unit="run"):
        got = run(name, p, args.dataset, seed, epochs)
        rows += got
        last = got[-1]
        tqdm.write(f"{name:40s} seed {seed}: clusters {last['final_clusters_used']}/{len(last['cluster_sizes'])} "
                   f"H(marginal) {last['marginal_entropy']:.3f} sizes {last['cluster_sizes']} "
                   f"(acc {last['final_acc_info_only']:.3f}, info only) {last['seconds']:.0f}s")
        out.write_text(json.dumps({"meta": meta, "records": rows}, indent=1, default=str))  # after every run
    print(f"wrote {len(rows)} records to {out}")


if __name__ == "__main__":
    main()
