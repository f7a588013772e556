"""Iterated local search on genomes: first-improvement hill climbing over unseen one-decision neighbours,
restarted from fresh samples at each local optimum.

The neighbourhood of a genome is every genome one decision away (each kind says what "one step" is: another
option of a choice, the adjacent value of an ordinal or an int, one element swapped in or out of a subset, two
items of a permutation swapped; a continuous float gets ``float_neighbours`` perturbations). Children that a
change activates are sampled, inactive ones reset. Neighbours are tried in random order and never twice; the
search moves to the first one that beats the current genome. When every neighbour was tried without a gain, the
current genome is a local optimum and the search restarts from the best of ``restart`` fresh samples.

Noise: after ``4 * reevaluate_every`` results, every ``reevaluate_every`` results the least-measured of the
``top_k`` candidates (by mean) is proposed again, and :meth:`incumbent` ranks by mean. The first repeat tells a
deterministic objective (the same value again) from a noisy one; a deterministic one is never re-measured again.

Local search is reported to be state of the art on NAS benchmarks (White et al., 2020); on the NAS-Bench-201
table it reaches the optimum in about 60 evaluations (median), see BENCHMARKS.md.

Example::

    study = sn.Study(space, LocalSearch(seed=0))
    study.optimize(evaluate, n_trials=150)
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional

from symnas.algorithms.base import Algorithm, Values, register
from symnas.errors import SymnasError
from symnas.genome.table import Genome

__all__ = ["LocalSearch"]

_CLIMB, _SAMPLE = "climb", "sample"


@register("local-search", "local", example={"init": 4})
class LocalSearch(Algorithm):
    """Iterated first-improvement local search with restarts; never proposes a genome twice unless re-measuring
    a noisy top candidate.

    Args:
      init: random samples before the first climb (the climb starts from the best).
      restart: random samples at each restart.
      reevaluate_every: results between re-measurements of a top candidate while the objective may be noisy
        (0: never re-measure; a study with a dedup cache answers repeats from the cache, so use 0 there).
      top_k: how many top candidates share the re-measurements.
      float_neighbours: perturbations that stand for a continuous float decision's neighbours.
      mutation_sigma: the size of those perturbations, as a fraction of the range in the decision's scale.
      seed: random seed.

    Example::

        algo = LocalSearch(init=10, seed=0)
    """

    snapshot_every = 1000  # the snapshot holds what was seen (O(history)); replay covers the events in between

    def __init__(self, init: int = 10, restart: int = 1, *, reevaluate_every: int = 10, top_k: int = 5,
                 float_neighbours: int = 8, mutation_sigma: float = 0.15, seed: Optional[int] = None) -> None:
        super().__init__(seed)
        if init < 1 or restart < 1 or reevaluate_every < 0 or top_k < 1 or float_neighbours < 1:
            raise SymnasError(f"LocalSearch: need init >= 1, restart >= 1, reevaluate_every >= 0, top_k >= 1 and "
                              f"float_neighbours >= 1, got init={init!r}, restart={restart!r}, "
                              f"reevaluate_every={reevaluate_every!r}, top_k={top_k!r}, "
                              f"float_neighbours={float_neighbours!r}")
        self.init, self.restart = int(init), int(restart)
        self.reevaluate_every, self.top_k = int(reevaluate_every), int(top_k)
        self.float_neighbours, self.sigma = int(float_neighbours), float(mutation_sigma)
        self._reset()

    def _reset(self) -> None:
        self.values: dict[Genome, list[float]] = {}   # measured values per genome (failed: empty list)
        self.seen: set[Genome] = set()                 # every genome proposed or told
        self.phase = _SAMPLE
        self.pool: list[Genome] = []                   # samples of the current (re)start
        self.pool_size = self.init
        self.current: Optional[Genome] = None
        self.queue: list[Genome] = []                  # untried neighbours of the current genome
        self.around: set[Genome] = set()               # all neighbours of the current genome
        self.noisy: Optional[bool] = None
        self.since_reevaluation = 0

    def _setup(self) -> None:
        self._reset()

    # -- helpers ------------------------------------------------------------------------------------------------
    def mean(self, g: Genome) -> float:
        vals = self.values.get(g)
        return sum(vals) / len(vals) if vals else -math.inf

    def incumbent(self) -> Optional[Genome]:
        """The genome with the best mean value so far (None before the first result)."""
        measured = [g for g, v in self.values.items() if v]
        return max(measured, key=self.mean) if measured else None

    def _neighbours(self, g: Genome) -> list[Genome]:
        table, rng = self.table, self.rng
        active = table.active(g)
        out: list[Genome] = []
        for d in table.decisions:
            if not active[d.index] or d.count() <= 1:
                continue
            genes = tuple(g[d.offset:d.offset + d.width])
            steps = d.neighbours(genes) or [d.mutate(genes, rng, self.sigma) for _ in range(self.float_neighbours)]
            for new in steps:
                if tuple(new) == genes:
                    continue
                child = list(g)
                child[d.offset:d.offset + d.width] = new
                if table.conditional:
                    now = table.active(tuple(child))
                    for c in table.decisions:
                        if now[c.index] and not active[c.index]:
                            child[c.offset:c.offset + c.width] = c.sample(rng)
                out.append(table.canonical(child))
        rng.shuffle(out)
        return out

    def _climb_from(self, g: Genome) -> None:
        self.phase, self.current = _CLIMB, g
        self.queue = [n for n in self._neighbours(g) if n not in self.seen]
        self.around = set(self.queue)

    def _start_sampling(self, n: int) -> None:
        self.phase, self.pool, self.pool_size, self.queue, self.around = _SAMPLE, [], n, [], set()

    def _fresh_sample(self) -> Genome:
        g = self.table.sample(self.rng)
        for _ in range(50):
            if g not in self.seen:
                break
            g = self.table.sample(self.rng)
        return g

    # -- the contract -------------------------------------------------------------------------------------------
    def _propose(self) -> Genome:
        every = self.reevaluate_every
        if every and self.noisy is not False and self.told >= 4 * every and self.since_reevaluation >= every:
            measured = sorted((g for g, v in self.values.items() if v), key=self.mean, reverse=True)[:self.top_k]
            if measured:
                self.since_reevaluation = 0
                return min(measured, key=lambda g: len(self.values[g]))
        while self.phase == _CLIMB:
            while self.queue:
                g = self.queue.pop()
                if g not in self.seen:
                    self.seen.add(g)
                    return g
            self._start_sampling(self.restart)  # a local optimum: every neighbour was tried
        g = self._fresh_sample()
        self.seen.add(g)
        self.pool.append(g)
        return g

    def _feedback(self, genome: Genome, values: Values, cached: bool) -> None:
        g = tuple(genome)
        self.seen.add(g)
        vals = self.values.setdefault(g, [])
        if values is not None:
            v = float(values[0])
            if vals and self.noisy is None:
                self.noisy = False if cached else v != vals[0]  # a cache answers repeats: nothing to re-measure
            if not cached or not vals:
                vals.append(v)
        self.since_reevaluation += 1
        if self.phase == _CLIMB:
            if self.current is not None and g in self.around and self.mean(g) > self.mean(self.current):
                self._climb_from(g)  # first improvement (a re-measured top candidate is no move)
        elif g in self.pool:
            done = [p for p in self.pool if p in self.values]
            if len(done) >= self.pool_size:
                self._climb_from(max(done, key=self.mean))

    def _state(self) -> dict[str, Any]:
        return {
            "values": [[list(g), v] for g, v in self.values.items()],
            "seen": [list(g) for g in self.seen if g not in self.values],
            "phase": self.phase, "pool": [list(g) for g in self.pool], "pool_size": self.pool_size,
            "current": None if self.current is None else list(self.current),
            "queue": [list(g) for g in self.queue], "around": [list(g) for g in self.around], "noisy": self.noisy,
            "since_reevaluation": self.since_reevaluation,
        }

    def _load_state(self, state: Mapping[str, Any]) -> None:
        self.values = {tuple(g): list(v) for g, v in state["values"]}
        self.seen = set(self.values) | {tuple(g) for g in state["seen"]}
        self.phase, self.pool_size = state["phase"], int(state["pool_size"])
        self.pool = [tuple(g) for g in state["pool"]]
        self.current = None if state["current"] is None else tuple(state["current"])
        self.queue = [tuple(g) for g in state["queue"]]
        self.around = {tuple(g) for g in state["around"]}
        self.noisy, self.since_reevaluation = state["noisy"], int(state["since_reevaluation"])
