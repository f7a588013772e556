"""Functional and structural hashing over all 15,625 NAS-Bench-201 cells, checked against the reference partition.

Every cell is built as a torch network (``NB201Network`` with reduced channels, one cell per stage) and hashed
from its outputs on fixed probe inputs (:func:`symnas.hash.functional_hash`), never from the cell string. The
partition the hash induces is compared with the algebraic reference partition (:func:`reference_key`, 4,660
classes): a *split* is a reference class spread over several hashes, a *merge* a hash shared by several reference
classes. The structural hash (:func:`structural_hash` of the cell DAG) must never merge reference classes.

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
from symnas.hash.nb201 import OPS, nb201_graph, official_unique_str, reference_key
from symnas.hash.structural import structural_hash
from symnas.models.nasbench201 import NB201Network


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
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    cells = list(itertools.product(OPS, repeat=6))
    if args.limit:
        cells = random.Random(0).sample(cells, args.limit)
    ref = {c: reference_key(c) for c in cells}
    official = {c: official_unique_str(c) for c in cells}

    t0 = time.perf_counter()
    structural = {c: structural_hash(*nb201_graph(c)) for c in cells}
    t_struct = time.perf_counter() - t0

    t_build = t_hash = 0.0
    functional = {}
    for c in cells:
        t0 = time.perf_counter()
        net = NB201Network(list(c), C=args.C, N=args.N)
        t1 = time.perf_counter()
        functional[c] = functional_hash(net, tuple(args.probe), bits=args.bits, restore=False)
        t_hash += time.perf_counter() - t1
        t_build += t1 - t0
    total = t_build + t_hash

    n = len(cells)
    print(f"# NAS-Bench-201 hashing: {n} cells, probe network C={args.C} N={args.N}, probe {tuple(args.probe)}, "
          f"bits={args.bits}, torch threads={args.threads}, {platform.processor() or platform.machine()}")
    print()
    print("| partition | classes | splits vs reference | merges vs reference |")
    print("|---|---|---|---|")
    print(f"| reference (algebraic rule) | {len(set(ref.values()))} | - | - |")
    for name, keys in (("official to_unique_str", official), ("structural hash", structural),
                       ("functional hash", functional)):
        classes, splits, merges = compare(keys, ref)
        print(f"| {name} | {classes} | {splits} | {merges} |")
    print()
    print("| step | total (s) | per cell (ms) |")
    print("|---|---|---|")
    print(f"| structural hash (graph + hash) | {t_struct:.2f} | {1e3 * t_struct / n:.3f} |")
    print(f"| build probe network | {t_build:.1f} | {1e3 * t_build / n:.2f} |")
    print(f"| functional hash (probe forward) | {t_hash:.1f} | {1e3 * t_hash / n:.2f} |")
    print(f"| functional total | {total:.1f} | {1e3 * total / n:.2f} |")


if __name__ == "__main__":
    main()
