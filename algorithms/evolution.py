"""Regularized evolution (aging evolution, Real et al. 2019) on genomes.

A FIFO population of ``population_size`` evaluated genomes; each proposal takes a tournament of
``tournament_size`` members drawn at random, mutates the best one (one decision changed, value types and
conditionals respected: see :func:`symnas.algorithms._common.mutate`), optionally after a uniform crossover with a
second tournament's winner. Each result joins the population and the oldest member leaves. Until the population is
full, proposals are uniform samples. Failed trials (``values=None``) do not join; cached results do (they are
children like any other). With ``avoid_seen`` a child that was already proposed is re-mutated (up to
``max_retries`` times, changing more decisions as the tries go on, then uniform samples), the "re-mutate until
new" variant.

Per-trial cost is O(tournament_size + width): nothing depends on the history length.

Example::

    study = sn.Study(space, RegularizedEvolution(population_size=10, tournament_size=3, seed=0))
    study.optimize(evaluate, n_trials=150)
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from symnas.algorithms._common import crossover as _crossover
from symnas.algorithms._common import mutate
from symnas.algorithms.base import Algorithm, Values, register
from symnas.errors import SymnasError
from symnas.genome.table import Genome

__all__ = ["RegularizedEvolution"]


@register("evolution", "regularized-evolution", example={"population_size": 8, "tournament_size": 3})
class RegularizedEvolution(Algorithm):
    """Aging evolution with tournament selection.

    Args:
      population_size: members kept (FIFO).
      tournament_size: members drawn per tournament (at most the population size).
      crossover: probability (``True`` = 0.5) of crossing two tournament winners before mutating.
      mutation_sigma: Gaussian step of float mutations, as a fraction of the range in the decision's scale.
      avoid_seen: re-mutate children already proposed (keeps a set of proposed genomes).
      max_retries: re-mutations tried before giving up on novelty.
      seed: random seed.

    Example::

        algo = RegularizedEvolution(population_size=10, tournament_size=3, seed=0)
    """

    snapshot_every = 1000  # the snapshot holds the seen set (O(history)); replay covers the events in between

    def __init__(self, population_size: int = 10, tournament_size: int = 3, crossover: float | bool = False, *,
                 mutation_sigma: float = 0.15, avoid_seen: bool = True, max_retries: int = 20,
                 seed: Optional[int] = None) -> None:
        super().__init__(seed)
        if population_size < 1 or not 1 <= tournament_size <= population_size:
            raise SymnasError(f"RegularizedEvolution: need 1 <= tournament_size <= population_size, got "
                              f"tournament_size={tournament_size!r}, population_size={population_size!r}")
        self.population_size, self.tournament_size = int(population_size), int(tournament_size)
        self.crossover = 0.5 if crossover is True else float(crossover or 0.0)
        if not 0.0 <= self.crossover <= 1.0:
            raise SymnasError(f"RegularizedEvolution: crossover must be a bool or a probability, got {crossover!r}")
        self.sigma, self.avoid_seen, self.max_retries = float(mutation_sigma), bool(avoid_seen), int(max_retries)
        self.population: list[tuple[Genome, float]] = []  # ring buffer
        self.head = 0  # index of the oldest member once full
        self.seen: set[Genome] = set()

    def _tournament(self) -> Genome:
        members = self.rng.sample(range(len(self.population)), self.tournament_size)
        best = max(members, key=lambda i: self.population[i][1])
        return self.population[best][0]

    def _propose(self) -> Genome:
        table = self.table
        if len(self.population) < self.population_size:
            g = table.sample(self.rng)
            for _ in range(self.max_retries if self.avoid_seen else 0):
                if g not in self.seen:
                    break
                g = table.sample(self.rng)
        else:
            parent = self._tournament()
            if self.crossover and self.rng.random() < self.crossover:
                parent = _crossover(table, parent, self._tournament(), self.rng)
            g = mutate(table, parent, self.rng, self.sigma)
            if self.avoid_seen and g in self.seen:
                g = self._novel_child(parent, g)
        if self.avoid_seen:
            self.seen.add(g)
        return g

    def _novel_child(self, parent: Genome, g: Genome) -> Genome:
        """Re-mutates ``parent`` until the child is new, with one more decision changed every ``max_retries // 4``
        tries (a parent whose one-step neighbours were all seen does not stall the search), then falls back to
        uniform samples."""
        table, every = self.table, max(1, self.max_retries // 4)
        for attempt in range(1, self.max_retries):
            g = parent
            for _ in range(1 + attempt // every):
                g = mutate(table, g, self.rng, self.sigma)
            if g not in self.seen:
                return g
        for _ in range(self.max_retries):
            g = table.sample(self.rng)
            if g not in self.seen:
                return g
        return g

    def _feedback(self, genome: Genome, values: Values, cached: bool) -> None:
        if values is None:
            return
        member = (tuple(genome), float(values[0]))
        if len(self.population) < self.population_size:
            self.population.append(member)
        else:
            self.population[self.head] = member
            self.head = (self.head + 1) % self.population_size

    def best(self) -> tuple[Genome, float]:
        """The best living member ``(genome, value)``."""
        if not self.population:
            raise SymnasError("RegularizedEvolution.best(): no member yet (no successful feedback)")
        return max(self.population, key=lambda m: m[1])

    def _state(self) -> dict[str, Any]:
        return {"population": [[list(g), v] for g, v in self.population],
                "head": self.head, "seen": [list(g) for g in self.seen]}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        self.population = [(tuple(g), v) for g, v in state["population"]]
        self.head = state["head"]
        self.seen = {tuple(g) for g in state["seen"]}
