"""Helpers shared by the search algorithms: value grids, type-aware mutation (Pareto sorting lives in
:mod:`symnas.algorithms.pareto`).

Example::

    rng = random.Random(0)
    child = mutate(table, parent, rng)           # one decision changed, conditionals repaired
"""
from __future__ import annotations

import random
from typing import Optional, Sequence

from symnas.genome.table import DecisionTable, Genome

__all__ = ["mutate", "crossover", "to_json_genome",
           "from_json_genome"]


def to_json_genome(g: Optional[Sequence]) -> Optional[list]:
    return None if g is None else list(g)


def from_json_genome(g: Optional[Sequence]) -> Optional[tuple]:
    return None if g is None else tuple(g)


def mutate(table: DecisionTable, genome: Genome, rng: random.Random, sigma: float = 0.15) -> Genome:
    """Mutates one active decision of ``genome``; children that become active are sampled afresh, decisions that
    become inactive are reset (``table.canonical``)."""
    active = table.active(genome)
    choices = [d for d in table.decisions if active[d.index] and d.count() > 1]
    if not choices:
        return tuple(genome)
    d = rng.choice(choices)
    g = list(genome)
    g[d.offset:d.offset + d.width] = d.mutate(tuple(genome[d.offset:d.offset + d.width]), rng, sigma)
    if table.conditional:
        now = table.active(tuple(g))
        for c in table.decisions:
            if now[c.index] and not active[c.index]:
                g[c.offset:c.offset + c.width] = c.sample(rng)
        return table.canonical(g)
    return tuple(g)


def crossover(table: DecisionTable, a: Genome, b: Genome, rng: random.Random) -> Genome:
    """Uniform crossover decision by decision (whole decisions are inherited, so subsets/perms stay valid)."""
    g = list(a)
    for d in table.decisions:
        if rng.random() < 0.5:
            g[d.offset:d.offset + d.width] = b[d.offset:d.offset + d.width]
    return table.canonical(g)


def _draw(p: Sequence[float], rng: random.Random) -> int:
    u = rng.random() * sum(p)
    acc = 0.0
    for i, w in enumerate(p):
        acc += w
        if u < acc:
            return i
    return len(p) - 1


def _draw_without(p: Sequence[float], k: int, rng: random.Random) -> list[int]:
    free = list(range(len(p)))
    out = []
    for _ in range(k):
        i = free[_draw([p[j] for j in free], rng)]
        free.remove(i)
        out.append(i)
    return out
