"""Functional and structural hashing over all 15,625 NAS-Bench-201 cells, checked against the reference partition.

Every cell is built as a torch network (``NB201Network`` with reduced channels, one cell per stage) and hashed
from its outputs and trainable-parameter gradients on fixed probe inputs (:func:`symnas.hash.functional_hash`),
never from the cell string. The partition the hash induces is compared with the reference partition
(:func:`reference_key`: same function and same trainable parameters, 5,234 classes): a *split* is a reference
class spread over several hashes, a *merge* a hash shared by several reference classes. The structural hash
(:func:`structural_hash` of the cell DAG) must never merge reference classes. The old algebraic partition
(:func:`algebraic_key`, 4,660 classes) is shown for comparison, with the accuracy spread inside classes against
seed noise from the embedded per-seed table, and a scaling table: hash time / forward time for MLPs of 1e4-1e7
parameters.

Usage::

    python benchmarks/hashing.py                 # all cells, C=4, N=1, probe (2, 3, 8, 8)
    python benchmarks/hashing.py --limit 500 --C 8 --N 2 --probe 1 3 16 16
"""
from __future__ import annotations

import argparse
import itertools
import platform
import random
import time
from collections import defaultdict
from typing import Hashable, Sequence

import torch

from symnas.hash.functional import functional_hash
import statistics

from symnas.evaluator.nasbench201 import NASBench201Table
from symnas.hash.nb201 import OPS, algebraic_key, nb201_graph, official_unique_str, reference_key
from symnas.hash.structural import structural_hash
from symnas.models.nasbench201 import NB201Network, nb201_probe_build


def spread(keys: dict, table: NASBench201Table) -> tuple[int, int, float, float, int]:
    """(multi-member classes, of which with members of different parameter counts, mean within-class SD of member
    mean accuracies, max within-class accuracy gap, classes whose gap exceeds 2 pooled seed SDs)."""
    by: dict[Hashable, list] = defaultdict(list)
    for cell, k in keys.items():
        by[k].append(cell)
    seed_sd = statistics.mean(statistics.stdev(s) for s in (table.seeds(c) for c in keys) if len(s) > 1)
    multi = [v for v in by.values() if len(v) > 1]
    sds, gaps, params, over = [], [], 0, 0
    for v in multi:
        accs = [table.metrics(c)["val_acc"] for c in v]
        sds.append(statistics.stdev(accs))
        gap = max(accs) - min(accs)
        gaps.append(gap)
        over += gap > 2 * seed_sd
        params += len({round(table.metrics(c)["params_mb"], 6) for c in v}) > 1
    return len(multi), params, statistics.mean(sds) if sds else 0.0, max(gaps) if gaps else 0.0, over


def scaling(threads: int) -> list[tuple[int, float, float]]:
    """(parameters, forward ms, hash ms) for MLPs of 1e4..1e7 parameters on a (16, width) probe."""
    import torch.nn as nn

    out = []
    for width in (70, 220, 700, 2230):
        net = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))
        n = sum(p.numel() for p in net.parameters())
        x = torch.randn(16, width)
        t0 = time.perf_counter()
        with torch.no_grad():
            for _ in range(3):
                net(x)
        fwd = (time.perf_counter() - t0) / 3
        t0 = time.perf_counter()
        functional_hash(net, (16, width), restore=False)
        out.append((n, 1e3 * fwd, 1e3 * (time.perf_counter() - t0)))
    return out


def compare(keys: dict, ref: dict) -> tuple[int, int, int]:
    """(classes, splits, merges) of the partition ``keys`` against the partition ``ref`` (both cell -> key)."""
    by_ref: dict[Hashable, set] = defaultdict(set)
    by_key: dict[Hashable, set] = defaultdict(set)
    for cell, k in keys.items():
        by_ref[ref[cell]].add(k)
        by_key[k].add(ref[cell])
    splits = sum(1 for v in by_ref.values() if len(v) > 1)
    merges = sum(1 for v in by_key.values() if len(v) > 1)
    return len(by_key), splits, merges


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--C", type=int, default=4, help="channels of the probe network (NB201 default 16)")
    ap.add_argument("--N", type=int, default=1, help="cells per stage of the probe network (NB201 default 5)")
    ap.add_argument("--probe", type=int, nargs="+", default=[2, 3, 8, 8], help="probe input shape")
    ap.add_argument("--bits", type=int, default=20, help="rounding precision (fractional bits)")
    ap.add_argument("--limit", type=int, default=0, help="hash only a random sample of this many cells")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--fresh", action="store_true", help="build each probe network afresh (default: rewire one)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    cells = list(itertools.product(OPS, repeat=6))
    if args.limit:
        cells = random.Random(0).sample(cells, args.limit)
    ref = {c: reference_key(c) for c in cells}
    algebraic = {c: algebraic_key(c) for c in cells}
    official = {c: official_unique_str(c) for c in cells}

    t0 = time.perf_counter()
    structural = {c: structural_hash(*nb201_graph(c)) for c in cells}
    t_struct = time.perf_counter() - t0

    t_build = t_hash = 0.0
    functional = {}
    cpu0 = time.process_time()
    for c in cells:
        t0 = time.perf_counter()
        net = (nb201_probe_build(c, C=args.C, N=args.N) if not args.fresh
               else NB201Network(list(c), C=args.C, N=args.N))
        t1 = time.perf_counter()
        functional[c] = functional_hash(net, tuple(args.probe), bits=args.bits, restore=False)
        t_hash += time.perf_counter() - t1
        t_build += t1 - t0
    total = t_build + t_hash
    cpu = time.process_time() - cpu0

    n = len(cells)
    print(f"# NAS-Bench-201 hashing: {n} cells, probe network C={args.C} N={args.N}, probe {tuple(args.probe)}, "
          f"bits={args.bits}, torch threads={args.threads}, {platform.processor() or platform.machine()}")
    print()
    print("| partition | classes | splits vs reference | merges vs reference |")
    print("|---|---|---|---|")
    print(f"| reference (same function and parameters) | {len(set(ref.values()))} | - | - |")
    for name, keys in (("old algebraic reference", algebraic), ("official to_unique_str", official),
                       ("structural hash", structural), ("functional hash", functional)):
        classes, splits, merges = compare(keys, ref)
        print(f"| {name} | {classes} | {splits} | {merges} |")
    print()
    print("| step | total (s) | per cell (ms) |")
    print("|---|---|---|")
    print(f"| structural hash (graph + hash) | {t_struct:.2f} | {1e3 * t_struct / n:.3f} |")
    print(f"| {'build' if args.fresh else 'rewire'} probe network | {t_build:.1f} | {1e3 * t_build / n:.2f} |")
    print(f"| functional hash (probe forward) | {t_hash:.1f} | {1e3 * t_hash / n:.2f} |")
    print(f"| functional total | {total:.1f} | {1e3 * total / n:.2f} |")
    print(f"| functional total, CPU time of this process | {cpu:.1f} | {1e3 * cpu / n:.2f} |")
    table = NASBench201Table.load()
    print()
    print("| partition | multi-member classes | with differing table params_mb (dead branches count there) | mean "
          "within-class SD of mean acc (pp) | max within-class gap (pp) | classes with gap > 2 seed SDs |")
    print("|---|---|---|---|---|---|")
    for name, keys in (("reference (new)", ref), ("old algebraic", algebraic), ("structural hash", structural),
                       ("functional hash", functional)):
        m, p, sd, gap, over = spread(keys, table)
        print(f"| {name} | {m} | {p} | {sd:.3f} | {gap:.2f} | {over} |")
    seed_sd = statistics.mean(statistics.stdev(s) for s in (table.seeds(c) for c in cells) if len(s) > 1)
    print(f"\nseed noise: mean per-cell SD over seeds = {seed_sd:.3f} pp")
    print()
    print("| parameters | forward (ms) | hash (ms) | hash / forward |")
    print("|---|---|---|---|")
    for n_params, fwd, h in scaling(args.threads):
        print(f"| {n_params:,} | {fwd:.2f} | {h:.2f} | {h / fwd:.1f} |")


if __name__ == "__main__":
    main()
