"""Pareto dominance on value tuples, larger is better in every coordinate (the one implementation in symnas).

It imports nothing; the multi-objective algorithms, ``Study.pareto_front`` and the report's Pareto plot all use
it (the algorithms layer sits below search and report). Callers orient values first (minimised objectives negated).

Example::

    dominates((2, 1), (1, 1))                      # True
    pareto_indices([(1, 1), (2, 0), (0, 0)])       # [0, 1]
    nondominated_sort([(1, 2), (2, 1), (0, 0)])    # [[0, 1], [2]]
"""
from __future__ import annotations

import math
from typing import Sequence

__all__ = ["dominates", "pareto_indices", "nondominated_sort", "crowding"]


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """True if ``a`` Pareto-dominates ``b``: at least as good everywhere and better somewhere."""
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))


def pareto_indices(points: Sequence[Sequence[float]]) -> list[int]:
    """Indices (ascending) of the points no other point dominates; equal points are all kept."""
    return [i for i, p in enumerate(points) if not any(dominates(q, p) for q in points)]


def nondominated_sort(points: Sequence[Sequence[float]]) -> list[list[int]]:
    """Indices of ``points`` split into Pareto fronts (front 0 is :func:`pareto_indices`), each ascending."""
    n = len(points)
    dominated_by: list[list[int]] = [[] for _ in range(n)]
    count = [0] * n
    for i in range(n):
        for j in range(i + 1, n):
            if dominates(points[i], points[j]):
                dominated_by[i].append(j)
                count[j] += 1
            elif dominates(points[j], points[i]):
                dominated_by[j].append(i)
                count[i] += 1
    fronts: list[list[int]] = [[i for i in range(n) if count[i] == 0]]
    k = 0
    while fronts[k]:
        nxt = []
        for i in fronts[k]:
            for j in dominated_by[i]:
                count[j] -= 1
                if count[j] == 0:
                    nxt.append(j)
        k += 1
        fronts.append(sorted(nxt))
    return fronts[:-1]


def crowding(points: Sequence[Sequence[float]], front: Sequence[int]) -> dict[int, float]:
    """NSGA-II crowding distance of each index in ``front`` (boundary points get infinity)."""
    dist = {i: 0.0 for i in front}
    if len(front) <= 2:
        return {i: math.inf for i in front}
    m = len(points[front[0]])
    for k in range(m):
        order = sorted(front, key=lambda i: points[i][k])
        lo, hi = points[order[0]][k], points[order[-1]][k]
        dist[order[0]] = dist[order[-1]] = math.inf
        if hi == lo:
            continue
        for a, i, b in zip(order, order[1:], order[2:]):
            dist[i] += (points[b][k] - points[a][k]) / (hi - lo)
    return dist
