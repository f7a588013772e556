"""The NAS-Bench-201 cell space: six edges, five ops, cell codes and the official cell strings.

Pure Python (plus numpy), no torch and no table: the encoding that the NB201 network (:mod:`symnas.models`), its
hashes (:mod:`symnas.hash`), its supernet and the tabular evaluator (:mod:`symnas.evaluator.nasbench201`) share.
A cell has six edges (:data:`EDGES`, the order of the official cell string) and one of five ops (:data:`OPS`) per
edge. The integer **cell code** is ``sum(op_index[e] * 5**e for e in range(6))`` (edge 0 least significant).

Example::

    >>> code(['skip_connect'] + ['none'] * 5)
    1
    >>> arch_str(ops_of(1))
    '|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|'
"""
from __future__ import annotations

import itertools
from typing import Any, Sequence, Union

import numpy as np

from symnas.errors import SymnasError

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
NUM_CELLS = len(OPS) ** len(EDGES)  # 15,625

Ops = Union[str, Sequence[Union[str, int]]]
OP_INDEX = {name: i for i, name in enumerate(OPS)}
EDGE_WEIGHTS: tuple[int, ...] = tuple(5 ** e for e in range(len(EDGES)))
_CODE_CACHE: dict[tuple, int] = {}
_OPS_TABLE: list[tuple[str, ...]] = []  # code -> ops, filled on first use


class NASBench201Error(SymnasError, ValueError):
    """Bad NAS-Bench-201 input: a malformed cell string, an unknown op, a bad code or a bad table file."""


# ----------------------------------------------------------------------------------------------- cells
def _op_index(op: Any, edge: int) -> int:
    if isinstance(op, str):
        i = OP_INDEX.get(op)
        if i is None:
            raise NASBench201Error(f"edge {edge} {EDGES[edge][0]}->{EDGES[edge][1]}: unknown op {op!r} "
                                   f"(expected one of {', '.join(OPS)})")
        return i
    if isinstance(op, (int, np.integer)) and not isinstance(op, bool) and 0 <= op < len(OPS):
        return int(op)
    raise NASBench201Error(f"edge {edge} {EDGES[edge][0]}->{EDGES[edge][1]}: unknown op {op!r} "
                           f"(expected an op name or an index in 0..{len(OPS) - 1})")


def _slow_code(ops: Ops) -> int:
    if isinstance(ops, str):
        ops = parse_arch_str(ops)
    try:
        seq = list(ops)
    except TypeError:
        raise NASBench201Error(f"ops: expected 6 op names/indices or a cell string, got {ops!r}") from None
    if len(seq) != len(EDGES):
        raise NASBench201Error(f"ops: expected {len(EDGES)} ops (one per edge), got {len(seq)}: {seq!r}")
    return sum(_op_index(op, e) * EDGE_WEIGHTS[e] for e, op in enumerate(seq))


def code(ops: Ops) -> int:
    """The integer cell code of ``ops`` (6 op names or indices, or an official cell string).

    Example::

        >>> code(['skip_connect'] + ['none'] * 5), code((0, 0, 0, 0, 0, 4))
        (1, 12500)
    """
    try:
        return _CODE_CACHE[ops]  # type: ignore[index]
    except (KeyError, TypeError):
        pass
    c = _slow_code(ops)
    if isinstance(ops, tuple) and len(_CODE_CACHE) < 4 * NUM_CELLS:
        _CODE_CACHE[ops] = c
    return c


def ops_of(cell_code: int) -> tuple[str, ...]:
    """The 6 op names of a cell code (inverse of :func:`code`).

    Example::

        >>> ops_of(1)
        ('skip_connect', 'none', 'none', 'none', 'none', 'none')
    """
    if isinstance(cell_code, bool) or not isinstance(cell_code, (int, np.integer)) \
            or not 0 <= cell_code < NUM_CELLS:
        raise NASBench201Error(f"cell code: expected an int in 0..{NUM_CELLS - 1}, got {cell_code!r}")
    if not _OPS_TABLE:
        _OPS_TABLE.extend(tuple(reversed(p)) for p in itertools.product(OPS, repeat=len(EDGES)))
    return _OPS_TABLE[cell_code]


def arch_str(ops: Sequence[Union[str, int]]) -> str:
    """The official cell string of 6 ops (names or indices), edges in :data:`EDGES` order.

    Example::

        >>> arch_str([3, 3, 1, 0, 0, 4])
        '|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|'
    """
    names = ops_of(_slow_code(ops))
    parts, e = [], 0
    for j in (1, 2, 3):
        parts.append("|" + "|".join(f"{names[e + i]}~{i}" for i in range(j)) + "|")
        e += j
    return "+".join(parts)


def parse_arch_str(s: str) -> tuple[str, ...]:
    """Parse an official cell string into 6 op names (edge order of :data:`EDGES`).

    Errors name the bad token and its character position.

    Example::

        >>> parse_arch_str('|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|')
        ('nor_conv_3x3', 'none', 'skip_connect', 'none', 'none', 'avg_pool_3x3')
    """
    if not isinstance(s, str):
        raise NASBench201Error(f"cell string: expected str, got {type(s).__name__}")
    nodes = s.split("+")
    if len(nodes) != 3:
        raise NASBench201Error(f"cell string {s!r}: expected 3 nodes separated by '+', got {len(nodes)}")
    out: list[str] = []
    pos = 0
    for j, node in enumerate(nodes, start=1):
        if len(node) < 2 or node[0] != "|" or node[-1] != "|":
            raise NASBench201Error(f"cell string {s!r}, char {pos}: node {j} {node!r} must look like '|op~i|...|'")
        tokens = node[1:-1].split("|")
        if len(tokens) != j:
            raise NASBench201Error(f"cell string {s!r}, char {pos}: node {j} needs {j} inputs, got {len(tokens)}")
        tpos = pos + 1
        for i, tok in enumerate(tokens):
            op, sep, src = tok.partition("~")
            where = f"cell string {s!r}, char {tpos}, token {tok!r} (node {j}, input {i})"
            if not sep or src != str(i):
                raise NASBench201Error(f"{where}: expected 'op~{i}'")
            if op not in OP_INDEX:
                raise NASBench201Error(f"{where}: unknown op {op!r} (expected one of {', '.join(OPS)})")
            out.append(op)
            tpos += len(tok) + 1
        pos += len(node) + 1
    return tuple(out)
