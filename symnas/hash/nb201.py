"""NAS-Bench-201 helpers for hashing: the cell as a DAG, the reference partitions, a reduced probe network.

* :func:`nb201_graph` turns 6 edge ops into the node-labelled DAG that :func:`~symnas.hash.structural_hash`
  reads; :func:`nb201_cell_of` does the same from a candidate description (``description.kwargs['cell']``).
* :func:`reference_key` is the **algebraic reference partition** (4,660 classes over the 15,625 cells):
  ``skip_connect`` is the identity, ``none`` is zero and ``x + 0 = x``, ``avg_pool_3x3`` is linear and
  parameter-free (so ``pool(a + b) = pool(a) + pool(b)``), each ReLU-conv-BN op is its own learnable function of
  its input that maps zero to zero. Sums are multisets (``x + x = 2x`` differs from ``x``).
* :func:`official_unique_str` is the official ``to_unique_str`` rule (6,466 classes with ``consider_zero``,
  12,751 without).
* :func:`reduced_network` builds the NB201 network with few channels and one cell per stage, the cheap probe
  network of the functional hash.

Example::

    >>> ops = ("nor_conv_3x3", "none", "skip_connect", "none", "none", "skip_connect")
    >>> reference_key(ops) == reference_key(("nor_conv_3x3",) + ("none",) * 4 + ("skip_connect",))
    False
    >>> adjacency, labels = nb201_graph(ops)
    >>> len(labels)
    10
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Sequence, Union

from symnas.errors import SymnasError

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
_LINEAR_POOL = "avg_pool_3x3"


class NB201HashError(SymnasError, ValueError):
    """A NAS-Bench-201 cell could not be read for hashing (wrong length, unknown op, no ``cell`` argument)."""


def _ops(ops: Union[str, Sequence[Union[str, int]]], where: str = "cell") -> tuple[str, ...]:
    if isinstance(ops, str):
        from symnas.evaluator.nasbench201 import parse_arch_str

        ops = parse_arch_str(ops)
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


def reference_key(ops: Union[str, Sequence[Union[str, int]]]) -> tuple:
    """The algebraic canonical form of what a NB201 cell computes (see the module docstring).

    The form is a sorted multiset of terms; a term is ``('x',)``, ``('pool', term)`` or
    ``('conv', op, form_of_its_input)``. Equal forms mean equal function families.

    Example::

        >>> a = reference_key(("skip_connect", "skip_connect", "skip_connect", "none", "none", "avg_pool_3x3"))
        >>> b = reference_key(("skip_connect", "none", "none", "avg_pool_3x3", "avg_pool_3x3", "none"))
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


# ------------------------------------------------------------------------------------- probe network
def reduced_network(ops: Union[str, Sequence[Union[str, int]], Any], C: int = 4, N: int = 1,
                    num_classes: int = 10) -> Any:
    """The NB201 network of a cell with ``C`` channels and ``N`` cells per stage (the functional-hash probe).

    Accepts ops, a cell string or a description with ``kwargs['cell']``. Needs
    :mod:`symnas.models.nasbench201`.

    Example::

        >>> net = reduced_network(["nor_conv_3x3"] * 6)   # doctest: +SKIP
    """
    from symnas.models.nasbench201 import NB201Network

    return NB201Network(list(cell_ops_of(ops)), C=C, N=N, num_classes=num_classes)


__all__ = ["nb201_graph", "nb201_cell_of", "cell_ops_of", "reference_key", "official_unique_str",
           "reduced_network", "NB201HashError", "OPS", "EDGES"]
