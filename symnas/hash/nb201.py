"""NAS-Bench-201 helpers for hashing: the cell as a DAG and the reference partitions (no torch, no model import).

* :func:`nb201_graph` turns 6 edge ops into the node-labelled DAG that :func:`~symnas.hash.structural_hash`
  reads; :func:`nb201_cell_of` does the same from a candidate description (``description.kwargs['cell']``).
* :func:`reference_key` is the **reference partition** (same function *and* same trainable parameters; 5,234
  classes over the 15,625 cells): ``skip_connect`` is the identity, ``none`` is zero and ``x + 0 = x``,
  ``avg_pool_3x3`` is linear and parameter-free (so ``pool(a + b) = pool(a) + pool(b)``, and it keeps a
  per-channel constant), each ReLU-conv-BN op is its *own parameter instance*: two convs on one input are two
  instances (``f1(x) + f2(x)``), one conv reached twice is one instance counted twice (``2·f(x)``); a conv on a
  zero input is a trainable per-channel constant (its BatchNorm bias), not zero. Equal keys mean isomorphic
  instance graphs. :func:`algebraic_key` is the coarser partition of the previous definition (4,660 classes),
  which merges cells with different parameter counts.
* :func:`official_unique_str` is the official ``to_unique_str`` rule (6,466 classes with ``consider_zero``,
  12,751 without).
* The reduced probe network of the functional hash lives with the model
  (:func:`symnas.models.nasbench201.probe_network`).

Example::

    >>> ops = ("nor_conv_3x3", "none", "skip_connect", "none", "none", "skip_connect")
    >>> reference_key(ops) == reference_key(("nor_conv_3x3",) + ("none",) * 4 + ("skip_connect",))
    False
    >>> adjacency, labels = nb201_graph(ops)
    >>> len(labels)
    10
"""
from __future__ import annotations

import itertools
from collections import Counter
from typing import Any, Sequence, Union

from symnas.errors import SymnasError

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
_LINEAR_POOL = "avg_pool_3x3"


class NB201HashError(SymnasError, ValueError):
    """A NAS-Bench-201 cell could not be read for hashing (wrong length, unknown op, no ``cell`` argument)."""


def _parse_arch_str(s: str, where: str) -> list[str]:
    nodes = s.split("+")
    if len(nodes) != 3:
        raise NB201HashError(f"{where}: cell string {s!r}: expected 3 nodes separated by '+'")
    out = []
    for j, node in enumerate(nodes, start=1):
        tokens = node.strip("|").split("|")
        if not (node.startswith("|") and node.endswith("|")) or len(tokens) != j:
            raise NB201HashError(f"{where}: cell string {s!r}: node {j} {node!r} must look like '|op~i|...|'")
        for i, tok in enumerate(tokens):
            op, sep, src = tok.partition("~")
            if sep != "~" or src != str(i):
                raise NB201HashError(f"{where}: cell string {s!r}: token {tok!r} must be '{op}~{i}'")
            out.append(op)
    return out


def _ops(ops: Union[str, Sequence[Union[str, int]]], where: str = "cell") -> tuple[str, ...]:
    if isinstance(ops, str):
        ops = _parse_arch_str(ops, where)
    seq = list(ops)
    if len(seq) != len(EDGES):
        raise NB201HashError(f"{where}: expected {len(EDGES)} ops (edges {EDGES}), got {len(seq)}: {seq!r}")
    out = []
    for e, op in enumerate(seq):
        if isinstance(op, int) and not isinstance(op, bool) and 0 <= op < len(OPS):
            op = OPS[op]
        if op not in OPS:
            raise NB201HashError(f"{where}[{e}] (edge {EDGES[e][0]}->{EDGES[e][1]}): unknown op {op!r}; "
                                 f"expected one of {', '.join(OPS)}")
        out.append(str(op))
    return tuple(out)


def nb201_graph(ops: Union[str, Sequence[Union[str, int]]]) -> tuple[list[list[int]], list[str]]:
    """The node-labelled DAG of a NB201 cell: nodes ``[input, node1, node2, edge ops x6, output]``.

    Intermediate nodes are summing nodes (label ``sum``), each edge is an op node; pass the result to
    :func:`~symnas.hash.structural_hash`.

    Example::

        >>> adjacency, labels = nb201_graph("|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|")
        >>> labels[3], labels[-1]
        ('skip_connect', 'output')
    """
    names = _ops(ops)
    n = 3 + len(EDGES) + 1
    node = {0: 0, 1: 1, 2: 2, 3: n - 1}
    adjacency = [[0] * n for _ in range(n)]
    labels = ["input", "sum", "sum"] + list(names) + ["output"]
    for e, (i, j) in enumerate(EDGES):
        adjacency[node[i]][3 + e] = 1
        adjacency[3 + e][node[j]] = 1
    return adjacency, labels


def cell_ops_of(description: Any) -> tuple[str, ...]:
    """The 6 op names of a candidate description (``description.kwargs['cell']``), an op sequence or a string.

    Example::

        >>> cell_ops_of(["none"] * 6)[0]
        'none'
    """
    kwargs = getattr(description, "kwargs", None)
    if kwargs is not None:
        try:
            cell = kwargs["cell"]
        except (KeyError, TypeError):
            raise NB201HashError(f"description {type(description).__name__}: no 'cell' argument to hash "
                                 "(the NB201 structural key reads description.kwargs['cell'])") from None
        return _ops(cell, where="description.kwargs['cell']")
    return _ops(description)


def nb201_cell_of(description: Any) -> tuple[list[list[int]], list[str]]:
    """The ``cell_of`` function of the NB201 space for the structural dedup key: description -> DAG.

    Example::

        >>> _, labels = nb201_cell_of(["skip_connect"] * 6)
        >>> labels.count("skip_connect")
        6
    """
    return nb201_graph(cell_ops_of(description))


# ------------------------------------------------------------------------------------- reference rules
def _freeze(c: Counter) -> tuple:
    return tuple(sorted(c.items()))


def algebraic_key(ops: Union[str, Sequence[Union[str, int]]]) -> tuple:
    """The previous (coarser) reference: the algebraic canonical form of what a NB201 cell computes, with
    ReLU-conv-BN ops mapping zero to zero and two convs of one type on one input counted as ``2·conv`` (4,660
    classes; it merges cells with different parameter counts).

    The form is a sorted multiset of terms; a term is ``('x',)``, ``('pool', term)`` or
    ``('conv', op, form_of_its_input)``. Equal forms mean equal function families.

    Example::

        >>> a = algebraic_key(("skip_connect", "skip_connect", "skip_connect", "none", "none", "avg_pool_3x3"))
        >>> b = algebraic_key(("skip_connect", "none", "none", "avg_pool_3x3", "avg_pool_3x3", "none"))
        >>> a == b      # pool(x + x) == pool(x) + pool(x)
        True
    """
    names = _ops(ops)
    nodes: list[Counter] = [Counter({("x",): 1})]
    for j in range(1, 4):
        acc: Counter = Counter()
        for e, (i, jj) in enumerate(EDGES):
            if jj != j:
                continue
            op, src = names[e], nodes[i]
            if op == "none" or not src:
                continue                                  # zero, and every op maps zero to zero
            if op == "skip_connect":
                acc.update(src)
            elif op == _LINEAR_POOL:
                for term, m in src.items():               # linear: distributes over the sum
                    acc[("pool", term)] += m
            else:
                acc[("conv", op, _freeze(src))] += 1
        nodes.append(acc)
    return _freeze(nodes[3])


def reference_key(ops: Union[str, Sequence[Union[str, int]]]) -> tuple:
    """The reference canonical form: same function and same trainable parameters (see the module docstring).

    A value is a multiset of terms ``(pools, base)``: ``base`` is ``'x'`` or a parameter instance, ``pools`` the
    number of ``avg_pool_3x3`` applied to it (a constant instance absorbs pools). An instance is
    ``('conv', op, input value)`` or ``('const',)`` (a conv on a zero input: its BatchNorm bias). The key is the
    minimum serialisation of the live instance graph over the relabellings that keep each instance's downward
    hash, i.e. a canonical form of the graph up to isomorphism.

    Example::

        >>> two_instances = reference_key(("skip_connect", "none", "none", "nor_conv_3x3", "nor_conv_3x3", "none"))
        >>> one_instance_twice = reference_key(("nor_conv_3x3", "none", "skip_connect", "none", "skip_connect",
        ...                                     "skip_connect"))
        >>> two_instances == one_instance_twice
        False
    """
    names = _ops(ops)
    inst: list[tuple] = []                              # (label, value) with value = {(pools, base): count}
    nodes: list[Counter] = [Counter({(0, "x"): 1})]
    for j in range(1, 4):
        acc: Counter = Counter()
        for e, (i, jj) in enumerate(EDGES):
            if jj != j or names[e] == "none":
                continue
            op, src = names[e], nodes[i]
            if op == "skip_connect":
                acc.update(src)
            elif op == _LINEAR_POOL:
                for (k, b), m in src.items():
                    const = b != "x" and inst[b][0] == ("const",)
                    acc[(k if const else k + 1, b)] += m
            else:
                inst.append((("conv", op), dict(src)) if src else (("const",), {}))
                acc[(0, len(inst) - 1)] += 1
        nodes.append(acc)
    out = dict(nodes[3])
    live: set[int] = set()
    stack = [b for (_, b) in out if b != "x"]
    while stack:
        b = stack.pop()
        if b not in live:
            live.add(b)
            stack.extend(bb for (_, bb) in inst[b][1] if bb != "x")
    down: dict[int, str] = {}

    def dh(b: Any) -> str:
        if b == "x":
            return "x"
        if b not in down:
            label, value = inst[b]
            down[b] = repr((label, sorted((k, dh(bb), m) for (k, bb), m in value.items())))
        return down[b]

    groups: dict[str, list[int]] = {}
    for b in sorted(live):
        groups.setdefault(dh(b), []).append(b)
    ordered = sorted(groups.items())
    best: Any = None
    for perm in itertools.product(*(itertools.permutations(g) for _, g in ordered)):
        order = [b for g in perm for b in g]
        label_of = {b: n for n, b in enumerate(order)}

        def ser(value: dict) -> tuple:
            return tuple(sorted((k, -1 if bb == "x" else label_of[bb], m) for (k, bb), m in value.items()))

        form = (tuple((inst[b][0], ser(inst[b][1])) for b in order), ser(out))
        if best is None or form < best:
            best = form
    return best


def official_unique_str(ops: Union[str, Sequence[Union[str, int]]], consider_zero: bool = True) -> str:
    """The official NAS-Bench-201 ``to_unique_str`` of a cell (6,466 classes with ``consider_zero``).

    Example::

        >>> official_unique_str(("skip_connect",) + ("none",) * 5)
        '#+#+#'
    """
    names = _ops(ops)
    nodes = {0: "0"}
    for j in range(1, 4):
        cur = []
        for e, (i, jj) in enumerate(EDGES):
            if jj != j:
                continue
            op = names[e]
            if consider_zero and (op == "none" or nodes[i] == "#"):
                x = "#"
            elif op == "skip_connect":
                x = nodes[i]
            else:
                x = "(" + nodes[i] + ")@" + op
            cur.append(x)
        nodes[j] = "+".join(sorted(cur))
    return nodes[3]


__all__ = ["nb201_graph", "nb201_cell_of", "cell_ops_of", "reference_key", "algebraic_key", "official_unique_str",
           "NB201HashError", "OPS", "EDGES"]
