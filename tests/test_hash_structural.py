"""Structural hash: isomorphism invariance, sensitivity, and the NAS-Bench-201 partitions."""
from __future__ import annotations

import itertools
import random
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symnas.hash.nb201 import (OPS, algebraic_key, cell_ops_of, nb201_cell_of, nb201_graph,
                               official_unique_str, reference_key)
from symnas.hash.structural import StructuralHashError, structural_hash

LABELS = ["conv3x3", "conv1x1", "maxpool", "skip", "none"]


@st.composite
def dags(draw, max_inner: int = 5):
    """A random node-labelled DAG: node 0 input, node n-1 output, inner nodes in between."""
    inner = draw(st.integers(1, max_inner))
    n = inner + 2
    adj = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            adj[i][j] = draw(st.integers(0, 2))
    labels = ["input"] + [draw(st.sampled_from(LABELS)) for _ in range(inner)] + ["output"]
    return adj, labels


def permuted(adj, labels, perm):
    """Renumbers inner nodes: new node perm[i] is old node i (input and output stay)."""
    n = len(labels)
    full = [0] + [p + 1 for p in perm] + [n - 1]
    new_adj = [[0] * n for _ in range(n)]
    new_labels = [None] * n
    for i in range(n):
        new_labels[full[i]] = labels[i]
        for j in range(n):
            new_adj[full[i]][full[j]] = adj[i][j]
    return new_adj, new_labels


@settings(max_examples=150, deadline=None)
@given(dags(), st.randoms(use_true_random=False))
def test_renumbering_nodes_never_changes_the_hash(dag, rnd):
    adj, labels = dag
    perm = list(range(len(labels) - 2))
    rnd.shuffle(perm)
    assert structural_hash(adj, labels) == structural_hash(*permuted(adj, labels, perm))


def live_nodes(adj, labels):
    """Nodes on an input->output path through non-zero nodes (a 'none' node outputs zero: nothing flows past it)."""
    n = len(labels)
    fwd = {0}
    for j in range(1, n):
        if labels[j] != "none" and any(adj[i][j] and i in fwd for i in range(j)):
            fwd.add(j)
    bwd = {n - 1}
    for i in range(n - 2, -1, -1):
        if labels[i] != "none" and any(adj[i][j] and j in bwd for j in range(i + 1, n)):
            bwd.add(i)
    return [v for v in range(1, n - 1) if v in fwd and v in bwd]


@settings(max_examples=150, deadline=None)
@given(dags(), st.data())
def test_changing_one_reachable_op_changes_the_hash(dag, data):
    adj, labels = dag
    ops = [v for v in live_nodes(adj, labels) if labels[v] in ("conv3x3", "conv1x1", "maxpool")]
    if not ops:
        return
    v = data.draw(st.sampled_from(ops))
    new = data.draw(st.sampled_from([x for x in ("conv3x3", "conv1x1", "maxpool") if x != labels[v]]))
    changed = list(labels)
    changed[v] = new
    assert structural_hash(adj, labels) != structural_hash(adj, changed)


def test_dead_branch_identity_and_zero_do_not_count():
    # input -> conv -> output, plus a dead conv off the input, plus a conv fed only by a zero op
    base = structural_hash([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3", "output"])
    dead = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert structural_hash(dead, ["input", "conv3x3", "conv1x1", "output"]) == base
    ident = [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert structural_hash(ident, ["input", "skip", "conv3x3", "output"]) == base
    zero_fed = [[0, 1, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0] * 5]
    # a pool fed only by a zero op is zero; a conv fed only by zero is its trainable (BatchNorm) bias, not zero
    assert structural_hash(zero_fed, ["input", "conv3x3", "none", "avg_pool_3x3", "output"]) == base
    assert structural_hash(zero_fed, ["input", "conv3x3", "none", "conv1x1", "output"]) != base


def test_one_instance_used_twice_differs_from_two_instances():
    # 2·f(x): one conv whose output reaches the output along two paths; f1(x) + f2(x): two convs on x
    shared = [[0, 1, 0, 0], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    two = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert structural_hash(shared, ["input", "conv3x3", "skip", "output"]) != \
        structural_hash(two, ["input", "conv3x3", "conv3x3", "output"])
    # ... while two convs on x swapped in numbering still collide
    assert structural_hash(two, ["input", "conv3x3", "conv1x1", "output"]) == \
        structural_hash(two, ["input", "conv1x1", "conv3x3", "output"])


def test_multiplicity_counts_x_plus_x_is_not_x():
    one = structural_hash([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3", "output"])
    two = structural_hash([[0, 1, 0], [0, 0, 2], [0, 0, 0]], ["input", "conv3x3", "output"])
    assert one != two


def test_errors_name_the_place():
    with pytest.raises(StructuralHashError, match="trial 7 cell: the cell has a cycle"):
        structural_hash([[0, 1, 0], [0, 0, 1], [0, 1, 0]], ["input", "a", "output"], where="trial 7 cell")
    with pytest.raises(StructuralHashError, match="2x2"):
        structural_hash([[0]], ["input", "output"])


def test_nb201_reference_partition_counts():
    cells = list(itertools.product(OPS, repeat=6))
    ref = {c: reference_key(c) for c in cells}
    algebraic = {c: algebraic_key(c) for c in cells}
    official = {c: official_unique_str(c) for c in cells}
    assert len(set(ref.values())) == 5234
    assert len(set(algebraic.values())) == 4660
    assert len(set(official.values())) == 6466
    assert len({official_unique_str(c, consider_zero=False) for c in cells}) == 12751
    inside = defaultdict(set)
    for c in cells:
        inside[official[c]].add(algebraic[c])
    assert all(len(v) == 1 for v in inside.values())      # each official class inside one algebraic class
    refines = defaultdict(set)
    for c in cells:
        refines[ref[c]].add(algebraic[c])
    assert all(len(v) == 1 for v in refines.values())     # the reference refines the algebraic partition


def test_nb201_structural_hash_never_merges_reference_classes():
    cells = list(itertools.product(OPS, repeat=6))
    classes = defaultdict(set)
    for c in cells:
        classes[structural_hash(*nb201_graph(c))].add(reference_key(c))
    assert all(len(v) == 1 for v in classes.values())
    assert 5234 <= len(classes) < 15625


def test_nb201_known_pairs():
    skip, none, c3, pool = "skip_connect", "none", "nor_conv_3x3", "avg_pool_3x3"
    # conv on edge 0->3 only  ==  conv on 0->1 then skip 1->3
    a = structural_hash(*nb201_graph((none, none, none, c3, none, none)))
    b = structural_hash(*nb201_graph((c3, none, none, none, skip, none)))
    assert a == b
    # a dead branch (node 2 not feeding node 3) does not count
    c = structural_hash(*nb201_graph((c3, pool, c3, none, skip, none)))
    assert a == c
    # x vs 2x
    assert structural_hash(*nb201_graph((skip, none, none, skip, skip, none))) != \
        structural_hash(*nb201_graph((none, none, none, skip, none, none)))


def test_nb201_cell_of_reads_the_description():
    class Spec:
        kwargs = {"cell": ["nor_conv_1x1"] * 6, "C": 16}
    assert cell_ops_of(Spec()) == ("nor_conv_1x1",) * 6
    assert nb201_cell_of(Spec()) == nb201_graph(["nor_conv_1x1"] * 6)
    with pytest.raises(Exception, match=r"description.kwargs\['cell'\]\[2\]"):
        cell_ops_of(type("S", (), {"kwargs": {"cell": ["none", "none", "conv", "none", "none", "none"]}})())


def test_random_cell_strings_round_trip():
    rnd = random.Random(0)
    from symnas.evaluator.nasbench201 import arch_str
    for _ in range(20):
        ops = tuple(rnd.choice(OPS) for _ in range(6))
        assert reference_key(arch_str(ops)) == reference_key(ops)
