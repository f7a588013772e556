"""ENAS-style and DARTS-style searches over a supernet compiled from a space.

* :func:`enas_search`: alternates shared-weight SGD on paths sampled from the controller (uniform during a warm-up)
  with controller updates (REINFORCE by default, any :class:`~symnas.algorithms.base.Algorithm` works) rewarded by
  the sampled child's accuracy on a validation batch; derives the result by sampling ``k`` candidates from the
  controller and keeping the best on the validation split.
* :func:`darts_search`: softmax (optionally Gumbel) relaxation, first-order alternating updates (architecture
  logits with Adam on validation batches, weights with SGD on training batches), then discretisation. The collapse
  guard (``guard='pt'``, default) is perturbation-based selection (DARTS-PT, Wang et al. 2021): each choice keeps
  the candidate whose removal from the trained supernet lowers validation accuracy most, instead of the largest
  logit, which parameter-free skip connections win in collapsed runs. ``guard='none'`` is plain argmax.

Example::

    result = darts_search(nasbench201_space(C=8, N=1), digits_data(channels=3), steps=300)
    print(result.description, result.info["argmax_genome"])
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.nn import functional as F

from symnas.genome.table import Genome
from symnas.space.space import Space
from symnas.supernet.choices import SupernetError
from symnas.supernet.compile import Supernet
from symnas.supernet.data import Data
from symnas.supernet.train import (
    autocast,
    evaluate,
    recalibrate_bn,
    resolve_device,
    train_steps,
)

__all__ = ["SearchResult", "child_accuracy", "darts_search", "default_controller", "enas_search"]


@dataclass
class SearchResult:
    """The outcome of a weight-sharing search: genome, description and the trained supernet."""

    genome: Genome
    supernet: Supernet
    info: dict = field(default_factory=dict)

    @property
    def description(self) -> Any:
        return self.supernet.space.decode(self.genome)

    def export(self, inherit: bool = True, seed: int | None = None) -> torch.nn.Module:
        """The standalone child (weights copied from the supernet with ``inherit``, else fresh)."""
        return self.supernet.extract(self.genome, inherit=inherit, seed=seed)


def default_controller(seed: int | None = None) -> Any:
    """REINFORCE over independent logits (lr 0.1, EMA baseline 0.9).

    Example::

        ctl = default_controller(seed=0).setup(space.table)
    """
    from symnas.algorithms.reinforce import Reinforce

    return Reinforce(lr=0.1, entropy=1e-4, baseline_decay=0.9, seed=seed)


def child_accuracy(net: Supernet, genome: Sequence[Any], data: Data, split: str = "val", bn_batches: int = 4,
                   seed: int = 0) -> float:
    """Accuracy of child ``genome`` inside the supernet (fixed path, BatchNorm statistics recalibrated).

    Example::

        acc = child_accuracy(supernet, space.sample(seed=0), data)
    """
    modes = dict(net.state.modes)
    net.set_mode("fixed").set_genome(genome)
    dev = next(net.parameters()).device
    if bn_batches:
        recalibrate_bn(net, data.batches("train", 128, seed=seed, device=dev), bn_batches)
    x, y = data.split(split)
    acc = evaluate(net, x, y)
    net.state.modes = modes
    return acc


def enas_search(space: Space, data: Data, *, controller: Any = None, steps: int = 600, batch_size: int = 64,
                lr: float = 0.05, warmup: float = 0.25, ctrl_every: int = 5, ctrl_samples: int = 1,
                k: int = 20, bn_batches: int = 4, device: Any = "auto", amp: bool = False,
                seed: int = 0) -> SearchResult:
    """ENAS-style search: shared weights on sampled paths, controller on validation batches, best of ``k``.

    ``warmup``: fraction of steps trained on uniformly sampled paths before the controller learns (TuNAS).

    Example::

        res = enas_search(space, digits_data(), steps=600, k=20)
        model = res.export(inherit=True)
    """
    dev = resolve_device(device)
    net = Supernet(space, mode="fixed", seed=seed).to(dev)
    ctl = controller if controller is not None else default_controller(seed)
    ctl.setup(space.table, 1)
    val = data.batches("val", 256, seed=seed + 1, device=dev)
    n_warm = int(warmup * steps)
    rewards: list[float] = []
    t0 = time.perf_counter()

    def before(i: int) -> None:
        g = space.table.sample(net.rng) if i < n_warm else ctl.propose()
        net.set_genome(g)
        if i >= n_warm and (i - n_warm) % ctrl_every == 0:
            net.eval()
            for _ in range(ctrl_samples):
                cg = ctl.propose()
                net.set_genome(cg)
                xv, yv = next(val)
                with torch.no_grad(), autocast(dev, amp):
                    r = float((net(xv).argmax(-1) == yv).float().mean())
                ctl.feedback(cg, (r,))  # outside no_grad: policy-gradient controllers use autograd
                rewards.append(r)
            net.set_genome(g)
            net.train()

    losses = train_steps(net, data.batches("train", batch_size, seed=seed, device=dev), steps, lr=lr,
                         params=net.weight_parameters(), before_step=before, device=dev, amp=amp)
    seen: dict[Genome, float] = {}
    for _ in range(4 * k):
        if len(seen) >= k:
            break
        g = space.table.canonical(ctl.propose())
        if g not in seen:
            seen[g] = child_accuracy(net, g, data, "val", bn_batches, seed)
    best = max(seen, key=seen.get)  # type: ignore[arg-type]
    net.set_mode("fixed").set_genome(best)
    return SearchResult(best, net, {"val_acc_in_supernet": seen[best], "candidates": seen, "losses": losses,
                                    "rewards": rewards, "controller": type(ctl).__name__,
                                    "seconds": time.perf_counter() - t0})


def perturbation_select(net: Supernet, data: Data, n_val: int = 512, exclude: Sequence[str] = ()) -> Genome:
    """DARTS-PT selection: for each choice (in table order) keep the candidate whose masking lowers supernet
    validation accuracy most; earlier choices are discretised (others masked) before later ones are scored.

    Example::

        genome = perturbation_select(supernet, data)    # supernet trained in weighted mode
    """
    x, y = data.split("val")
    x, y = x[:n_val], y[:n_val]
    g = list(net.derive(exclude))
    st = net.state
    saved = {s: set(m) for s, m in st.masks.items()}
    try:
        for d in net.space.table.decisions:
            if not d.ops.single_index or st.mode(d.offset) != "weighted":
                continue
            s = d.offset
            cands = [j for j in range(d.n) if net.space.choice_value(d.index, j) not in exclude
                     and d.labels[j] not in exclude] or list(range(d.n))
            scores = {}
            for j in cands:
                st.masks[s] = set(saved.get(s, set())) | {j}
                scores[j] = _batch_stat_accuracy(net, x, y)
            pick = min(cands, key=lambda j: scores[j])
            g[s] = pick
            st.masks[s] = {j for j in range(d.n) if j != pick}
    finally:
        st.masks = saved
    return net.space.table.canonical(g)


@torch.no_grad()
def _batch_stat_accuracy(net: Supernet, x: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy with BatchNorm on batch statistics (mixture statistics change when a candidate is masked);
    the running statistics are restored afterwards."""
    dev = next(net.parameters()).device
    buffers = {k: b.clone() for k, b in net.named_buffers()}
    was = net.training
    net.train()
    acc = float((net(x.to(dev)).argmax(-1) == y.to(dev)).float().mean())
    net.train(was)
    for k, b in net.named_buffers():
        b.copy_(buffers[k])
    return acc


def darts_search(space: Space, data: Data, *, steps: int = 300, batch_size: int = 64, w_lr: float = 0.025,
                 a_lr: float = 3e-4, a_wd: float = 1e-3, guard: str = "pt", gumbel: bool = False, tau: float = 1.0,
                 exclude: Sequence[str] = (), device: Any = "auto", amp: bool = False,
                 seed: int = 0) -> SearchResult:
    """DARTS-style first-order search; ``guard`` is ``'pt'`` (perturbation-based selection) or ``'none'``.

    Example::

        res = darts_search(nasbench201_space(C=8, N=1), digits_data(channels=3), steps=300, a_lr=3e-3)
        res.genome, res.info["argmax_genome"]
    """
    if guard not in ("pt", "none"):
        raise SupernetError(f"darts_search: unknown guard {guard!r} (expected 'pt' or 'none')")
    dev = resolve_device(device)
    net = Supernet(space, seed=seed).to(dev)
    net.set_mode("weighted", gumbel=gumbel, tau=tau)
    a_opt = torch.optim.Adam(net.arch_parameters(), lr=a_lr, betas=(0.5, 0.999), weight_decay=a_wd)
    val = data.batches("val", batch_size, seed=seed + 1, device=dev)
    t0 = time.perf_counter()

    def before(i: int) -> None:  # first-order architecture step on a validation batch
        xv, yv = next(val)
        a_opt.zero_grad(set_to_none=True)
        with autocast(dev, amp):
            loss = F.cross_entropy(net(xv), yv)
        loss.backward()
        a_opt.step()
        for p in net.weight_parameters():
            p.grad = None

    losses = train_steps(net, data.batches("train", batch_size, seed=seed, device=dev), steps, lr=w_lr,
                         params=net.weight_parameters(), before_step=before, device=dev, amp=amp)
    argmax = net.derive(exclude)
    genome = perturbation_select(net, data, exclude=exclude) if guard == "pt" else argmax
    return SearchResult(genome, net, {"argmax_genome": argmax, "alphas": net.arch_weights(), "losses": losses,
                                      "guard": guard, "seconds": time.perf_counter() - t0})
