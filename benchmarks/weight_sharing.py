"""Weight-sharing benchmark: supernet cost, ranking quality, DARTS on NAS-Bench-201 (issue 6).

Prints three tables:

1. training step time and memory of the supernet (path sampling, and the DARTS mixture for reference) relative to
   the largest standalone child of the digits space. Memory on CPU = parameters + gradients + optimizer state +
   activations saved for backward (counted with ``torch.autograd.graph.saved_tensors_hooks``); on CUDA the peak
   of ``torch.cuda.max_memory_allocated``.
2. Kendall tau between supernet-estimated (single-path one-shot training, BN recalibrated) and standalone-trained
   validation accuracy for ``--candidates`` distinct candidates of the digits space (standalone training runs the
   same ``train_steps`` code).
3. DARTS (first order) on the NAS-Bench-201 space with reduced channels on digits (3-channel 8x8): the argmax cell
   (no guard) and the perturbation-guarded cell, their skip counts and NAS-Bench-201 table validation accuracy.

Usage: ``python benchmarks/weight_sharing.py`` (default: a few minutes on 2 CPU cores);
``--candidates 60 --standalone-steps 600 --darts-steps 1000 --nb201-C 16`` for longer runs; ``--device cuda --amp``.
"""
from __future__ import annotations

import argparse
import random
import time

import torch
from scipy.stats import kendalltau
from torch.nn import functional as F

from symnas.evaluator.benchmark import nasbench201_space
from symnas.evaluator.nasbench201 import NASBench201Table
from symnas.supernet import (
    Supernet,
    darts_search,
    digits_data,
    evaluate,
    resolve_device,
    train_steps,
)
from symnas.supernet.search import child_accuracy
from symnas.supernet.spaces import digits_space


def _bytes(ts) -> int:
    return sum(t.numel() * t.element_size() for t in ts)


def _measure(model, step_model, x, y, steps: int, dev, amp: bool, before=None) -> tuple[float, int]:
    """Mean seconds per SGD step and memory (bytes) as described in the module docstring."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
    saved = [0]

    def pack(t):
        saved[0] += t.numel() * t.element_size()
        return t

    def one(i: int, count: bool = False):
        if before is not None:
            before(i)
        opt.zero_grad(set_to_none=True)
        hooks = torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t) if count else _null()
        cast = torch.autocast(dev.type, dtype=torch.float16 if dev.type == "cuda" else torch.bfloat16, enabled=amp)
        with hooks, cast:
            loss = F.cross_entropy(step_model(x), y)
        loss.backward()
        opt.step()

    model.train()
    for i in range(3):
        one(i)
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for i in range(steps):
        one(i)
    if dev.type == "cuda":
        torch.cuda.synchronize()
        return (time.perf_counter() - t0) / steps, torch.cuda.max_memory_allocated()
    dt = (time.perf_counter() - t0) / steps
    one(0, count=True)
    grads = [p.grad for p in params if p.grad is not None]
    state = [v for s in opt.state.values() for v in s.values() if torch.is_tensor(v)]
    return dt, _bytes(params) + _bytes(grads) + _bytes(state) + saved[0]


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *a):
        return None


def cost_table(args, dev) -> None:
    space = digits_space(C=args.C)
    x = torch.randn(args.batch, 1, 8, 8, device=dev)
    y = torch.randint(0, 10, (args.batch,), device=dev)
    conv5 = space.table.decisions[0].labels.index("ConvBNReLU") + 2  # candidate 2 = ConvBNReLU(C, 5)
    largest = tuple(conv5 for _ in space.table.decisions)
    child = space.build(largest, seed=0).to(dev)
    rows = [("largest child " + "-".join(["conv5x5"] * len(largest)), *_measure(child, child, x, y, args.time_steps,
                                                                                 dev, args.amp))]
    net = Supernet(space, mode="sampled", seed=0).to(dev)
    rows.append(("supernet, path sampling", *_measure(net, net, x, y, args.time_steps, dev, args.amp)))
    net = Supernet(space, mode="fixed", seed=0).set_genome(largest).to(dev)
    rows.append(("supernet, fixed on the largest path", *_measure(net, net, x, y, args.time_steps, dev, args.amp)))
    net = Supernet(space, seed=0).set_mode("weighted").to(dev)
    rows.append(("supernet, DARTS mixture", *_measure(net, net, x, y, args.time_steps, dev, args.amp)))
    base_t, base_m = rows[0][1], rows[0][2]
    print(f"\n## Step time and memory (digits space, C={args.C}, batch {args.batch}, device {dev.type}"
          f"{', amp' if args.amp else ''})\n")
    print("| model | ms / step | x child | memory MiB | x child |\n|---|---|---|---|---|")
    for name, t, m in rows:
        print(f"| {name} | {t * 1e3:.2f} | {t / base_t:.2f} | {m / 2**20:.2f} | {m / base_m:.2f} |")


def kendall_table(args, dev) -> None:
    space = digits_space(C=args.C)
    data = digits_data(seed=0)
    rng = random.Random(1)
    genomes: list = []
    while len(genomes) < args.candidates:
        g = space.table.sample(rng)
        if g not in genomes:
            genomes.append(g)
    t0 = time.perf_counter()
    net = Supernet(space, mode="sampled", seed=0).to(dev)
    train_steps(net, data.batches("train", args.batch, seed=0, device=dev), args.supernet_steps, lr=0.05,
                device=dev, amp=args.amp)
    est = [child_accuracy(net, g, data, "val", bn_batches=4) for g in genomes]
    t_super = time.perf_counter() - t0
    t0 = time.perf_counter()
    true = []
    for g in genomes:
        model = space.build(g, seed=0).to(dev)
        train_steps(model, data.batches("train", args.batch, seed=0, device=dev), args.standalone_steps, lr=0.05,
                    device=dev, amp=args.amp)
        true.append(evaluate(model, data.x_val, data.y_val))
    t_alone = time.perf_counter() - t0
    tau, p = kendalltau(est, true)
    print(f"\n## Ranking: supernet vs standalone ({len(genomes)} candidates of {int(space.size)}, digits val)\n")
    print("| supernet steps | standalone steps each | Kendall tau | p-value | supernet acc range | standalone acc "
          "range | supernet s | standalone s |\n|---|---|---|---|---|---|---|---|")
    print(f"| {args.supernet_steps} | {args.standalone_steps} | {tau:.3f} | {p:.2g} | {min(est):.3f}-{max(est):.3f} "
          f"| {min(true):.3f}-{max(true):.3f} | {t_super:.1f} | {t_alone:.1f} |")


def darts_table(args, dev) -> None:
    space = nasbench201_space(C=args.nb201_C, N=args.nb201_N)
    data = digits_data(seed=0, channels=3)
    table = NASBench201Table.load()
    res = darts_search(space, data, steps=args.darts_steps, a_lr=args.a_lr, guard="pt", device=dev, amp=args.amp,
                       seed=0)
    print(f"\n## DARTS on NAS-Bench-201 (C={args.nb201_C}, N={args.nb201_N}, digits 3x8x8, {args.darts_steps} "
          f"steps, arch lr {args.a_lr}, {res.info['seconds']:.0f} s)\n")
    print("| derivation | cell | skip edges | all-skip | NB201 val acc |\n|---|---|---|---|---|")
    for name, g in (("argmax (no guard)", res.info["argmax_genome"]), ("perturbation guard (PT)", res.genome)):
        ops = space.decode(g).kwargs["cell"]
        n_skip = sum(o == "skip_connect" for o in ops)
        print(f"| {name} | {'/'.join(ops)} | {n_skip} | {'yes' if n_skip == 6 else 'no'} | "
              f"{table.metrics(ops)['val_acc']:.2f} |")
    print("\narchitecture weights (softmax; none, skip, conv1x1, conv3x3, avgpool):")
    for k, v in res.info["alphas"].items():
        print(f"  {k}: {v}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    ap.add_argument("--amp", action="store_true", help="mixed precision (bf16 on CPU, fp16 on CUDA)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--C", type=int, default=16)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--time-steps", type=int, default=30)
    ap.add_argument("--candidates", type=int, default=30)
    ap.add_argument("--supernet-steps", type=int, default=1500)
    ap.add_argument("--standalone-steps", type=int, default=300)
    ap.add_argument("--darts-steps", type=int, default=300)
    ap.add_argument("--a-lr", type=float, default=3e-3)
    ap.add_argument("--nb201-C", type=int, default=8)
    ap.add_argument("--nb201-N", type=int, default=1)
    ap.add_argument("--only", choices=("cost", "kendall", "darts"), default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = resolve_device(args.device)
    for name, fn in (("cost", cost_table), ("kendall", kendall_table), ("darts", darts_table)):
        if args.only in (None, name):
            fn(args, dev)


if __name__ == "__main__":
    main()
