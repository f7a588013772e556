"""The functional hash of built NAS-Bench-201 networks reproduces the algebraic reference partition."""
from __future__ import annotations

import itertools
import random
from collections import defaultdict

import pytest

from symnas.hash.functional import functional_hash
from symnas.hash.nb201 import OPS, reference_key
from symnas.models.nasbench201 import probe_network as reduced_network

PROBE = (2, 3, 8, 8)


def classes():
    by_ref = defaultdict(list)
    for c in itertools.product(OPS, repeat=6):
        by_ref[reference_key(c)].append(c)
    return list(by_ref.values())


def fhash(cell):
    return functional_hash(reduced_network(cell), PROBE, restore=False)


def check(groups):
    seen = {}
    for g in groups:
        hashes = {fhash(c) for c in g}
        assert len(hashes) == 1, f"reference class split: {g}"
        h = hashes.pop()
        assert h not in seen, f"reference classes merged: {g[0]} and {seen.get(h)}"
        seen[h] = g[0]


def test_sampled_reference_classes_are_neither_split_nor_merged():
    rnd = random.Random(0)
    groups = classes()
    big = sorted((g for g in groups if len(g) > 1), key=len, reverse=True)
    picked = [rnd.sample(g, min(3, len(g))) for g in big[:2] + rnd.sample(big[2:], 5)]
    picked += [g for g in rnd.sample(groups, 10) if len(g) == 1]
    check(picked)


def test_the_zero_class_and_its_neighbours():
    none, skip, c1, c3, pool = OPS
    zero_a = (c3, c3, c3, none, none, none)            # no path to the output
    zero_b = (none,) * 6
    x = (none, none, none, skip, none, none)           # identity
    two_x = (skip, none, none, skip, skip, none)       # 2x
    c3x = (none, none, none, c3, none, none)
    c3_via_node1 = (skip, none, none, none, c3, none)  # conv of node 1 = x: same function
    assert fhash(zero_a) == fhash(zero_b)
    assert len({fhash(zero_a), fhash(x), fhash(two_x), fhash(c3x)}) == 4
    assert fhash(c3x) == fhash(c3_via_node1)


@pytest.mark.slow
def test_all_15625_cells_reproduce_the_4660_reference_classes():
    check(classes())
