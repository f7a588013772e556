"""Helpers shared by the search algorithms: value grids, type-aware mutation (Pareto sorting lives in
:mod:`symnas.algorithms.pareto`).

Example::

    rng = random.Random(0)
    child = mutate(table, parent, rng)           # one decision changed, conditionals repaired
"""
from __future__ import annotations

import math
import random
from typing import Any, Optional, Sequence

from symnas.genome.table import Decision, DecisionTable, Genome

__all__ = ["grid_values", "mutate", "mutate_decision", "crossover", "to_json_genome",
           "from_json_genome"]


def to_json_genome(g: Optional[Sequence]) -> Optional[list]:
    return None if g is None else list(g)


def from_json_genome(g: Optional[Sequence]) -> Optional[tuple]:
    return None if g is None else tuple(g)


def _to_unit(d: Decision, v: float) -> float:
    """Position of a numeric value in [0, 1] of its decision's scale."""
    if d.high == d.low:
        return 0.0
    if d.log:
        return (math.log(v) - math.log(d.low)) / (math.log(d.high) - math.log(d.low))
    return (v - d.low) / (d.high - d.low)


def _from_unit(d: Decision, u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    if d.log:
        return math.exp(math.log(d.low) + u * (math.log(d.high) - math.log(d.low)))
    return d.low + u * (d.high - d.low)


def snap(d: Decision, v: float) -> Any:
    """Clips ``v`` into the decision's bounds and onto its step grid (ints become ints)."""
    if d.kind == "int":
        step = int(d.step or 1)
        lo, hi = int(d.low), int(d.high)
        i = lo + step * int(round((v - lo) / step)) if not d.log else int(round(v))
        return min(max(i, lo), hi - ((hi - lo) % step))
    if d.step:
        n = int(round((d.high - d.low) / d.step))
        i = min(max(int(round((v - d.low) / d.step)), 0), n)
        return d.low + i * d.step
    return min(max(float(v), d.low), d.high)


def grid_values(d: Decision, resolution: int) -> list:
    """The values of an int/float decision on a grid: every value if there are at most ``resolution``, else
    ``resolution`` points evenly spread in the decision's scale (ends included)."""
    count = d.count()
    if d.kind == "int" and count <= resolution:
        step = int(d.step or 1)
        return list(range(int(d.low), int(d.high) + 1, step))
    if d.kind == "float" and d.step and count <= resolution:
        return [d.low + i * d.step for i in range(int(count))]
    if resolution <= 1:
        return [snap(d, _from_unit(d, 0.5))]
    out = []
    for i in range(resolution):
        v = snap(d, _from_unit(d, i / (resolution - 1)))
        if v not in out:
            out.append(v)
    return out


def mutate_decision(d: Decision, genes: tuple, rng: random.Random, sigma: float = 0.15) -> tuple:
    """A different value for one decision, respecting its type.

    Ordinal choices and ints move to a neighbour (±1 step, rarely farther); unordered choices jump to another
    candidate; floats get a Gaussian step of ``sigma`` of their range in their own (log or linear) scale; subsets
    swap one member for a non-member (kept distinct/sorted as declared); permutations swap two positions.
    """
    kind = d.kind
    if kind == "choice":
        if d.n < 2:
            return genes
        v = genes[0]
        if d.ordered:
            step = 1 if rng.random() < 0.8 else rng.randint(2, max(2, d.n - 1))
            nv = v + step if rng.random() < 0.5 else v - step
            if not 0 <= nv < d.n:
                nv = v - step if 0 <= v - step < d.n else min(max(v + step, 0), d.n - 1)
            return (nv,) if nv != v else ((v + 1) % d.n,)
        nv = rng.randrange(d.n - 1)
        return (nv + 1 if nv >= v else nv,)
    if kind == "int":
        lo, hi, step = int(d.low), int(d.high), int(d.step or 1)
        if hi - lo < step:
            return genes
        v = genes[0]
        if d.log:
            nv = snap(d, math.exp(math.log(max(v, 1e-12)) + rng.gauss(0.0, sigma) *
                                  (math.log(d.high) - math.log(d.low))))
            if nv == v:
                nv = v + 1 if v + 1 <= hi else v - 1
            return (nv,)
        mult = 1 if rng.random() < 0.8 else rng.randint(2, max(2, (hi - lo) // step))
        nv = v + mult * step if rng.random() < 0.5 else v - mult * step
        if not lo <= nv <= hi:
            nv = v - mult * step if lo <= v - mult * step else v + mult * step
        return (min(max(nv, lo), hi),)
    if kind == "float":
        if d.high == d.low:
            return genes
        for _ in range(8):
            nv = snap(d, _from_unit(d, _to_unit(d, genes[0]) + rng.gauss(0.0, sigma)))
            if nv != genes[0]:
                return (nv,)
        return genes
    if kind == "subset":
        g = list(genes)
        pos = rng.randrange(len(g))
        if d.distinct:
            free = [i for i in range(d.n) if i not in g]
            if not free:
                return genes
            g[pos] = rng.choice(free)
        else:
            nv = rng.randrange(d.n - 1) if d.n > 1 else g[pos]
            g[pos] = nv + 1 if d.n > 1 and nv >= g[pos] else nv
        return tuple(sorted(g)) if d.sorted else tuple(g)
    # permutation
    if d.n < 2:
        return genes
    g = list(genes)
    i, j = rng.sample(range(d.n), 2)
    g[i], g[j] = g[j], g[i]
    return tuple(g)


def mutate(table: DecisionTable, genome: Genome, rng: random.Random, sigma: float = 0.15) -> Genome:
    """Mutates one active decision of ``genome``; children that become active are sampled afresh, decisions that
    become inactive are reset (``table.canonical``)."""
    active = table.active(genome)
    choices = [d for d in table.decisions if active[d.index] and d.count() > 1]
    if not choices:
        return tuple(genome)
    d = rng.choice(choices)
    g = list(genome)
    g[d.offset:d.offset + d.width] = mutate_decision(d, tuple(genome[d.offset:d.offset + d.width]), rng, sigma)
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
