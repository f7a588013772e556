"""The functional hash of built NAS-Bench-201 networks reproduces the reference partition (same function and same
trainable parameters), computed independently from the cell strings by :func:`reference_key`."""
from __future__ import annotations

import itertools
import random
from collections import defaultdict

import pytest

from symnas.hash.functional import functional_hash
from symnas.hash.nb201 import OPS, algebraic_key, reference_key
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


def test_parameters_count_and_sharing_split_what_the_old_reference_merged():
    none, skip, c1, c3, pool = OPS
    two_convs_on_x = (skip, none, none, c3, c3, none)          # conv_a(x) + conv_b(x): two instances
    one_conv_twice = (c3, none, skip, none, skip, skip)          # n1 = conv(x), out = n1 + n2 = 2·conv(x)
    conv_on_zero = (none, none, none, skip, c1, none)            # x + conv(0): the conv's BN bias trains
    x = (none, none, none, skip, none, none)
    assert algebraic_key(two_convs_on_x) == algebraic_key(one_conv_twice)
    assert reference_key(two_convs_on_x) != reference_key(one_conv_twice)
    assert fhash(two_convs_on_x) != fhash(one_conv_twice)
    assert algebraic_key(conv_on_zero) == algebraic_key(x)
    assert reference_key(conv_on_zero) != reference_key(x) and fhash(conv_on_zero) != fhash(x)
    # a conv of a zero input is its bias whatever its kernel, and a pool keeps a constant
    assert reference_key((none, none, none, skip, c3, none)) == reference_key(conv_on_zero)
    assert fhash((none, none, none, skip, c3, none)) == fhash(conv_on_zero)
    # isomorphic cells (nodes 1 and 2 swap when edge 1->2 is none) still collide
    a, b = (c3, c1, none, none, pool, c3), (c1, c3, none, none, c3, pool)
    assert reference_key(a) == reference_key(b) and fhash(a) == fhash(b)


def test_reference_counts():
    cells = list(itertools.product(OPS, repeat=6))
    assert len({reference_key(c) for c in cells}) == 5234
    assert len({algebraic_key(c) for c in cells}) == 4660


@pytest.mark.slow
def test_all_15625_cells_reproduce_the_5234_reference_classes():
    check(classes())
