"""Multi-objective search: NSGA-II, and the Pareto archive it shares with
:class:`~symnas.algorithms.compose.Scalarized` (preference-weighted scalarisation).

Values arrive oriented larger-is-better (the study flips minimised objectives).

Example::

    study = sn.Study(space, NSGA2(population_size=20, seed=0), objectives={"acc": "max", "lat": "min"})
    study.optimize(evaluate, n_trials=200)
    front = study.algorithm.pareto_front()          # [(genome, values), ...]
"""
from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from symnas.algorithms._common import crossover, mutate
from symnas.algorithms.base import Algorithm, Values, register
from symnas.errors import SymnasError
from symnas.genome.table import Genome
from symnas.algorithms.pareto import crowding, dominates, nondominated_sort

__all__ = ["NSGA2", "ParetoArchive"]


class ParetoArchive:
    """The non-dominated set of everything fed to it (each genome once).

    Example::

        a = ParetoArchive(); a.add((0,), (1.0, 2.0)); a.add((1,), (0.5, 1.0)); len(a.front) == 1
    """

    def __init__(self) -> None:
        self.front: list[tuple[Genome, tuple[float, ...]]] = []

    def add(self, genome: Genome, values: Sequence[float]) -> bool:
        v = tuple(float(x) for x in values)
        g = tuple(genome)
        for h, w in self.front:
            if dominates(w, v) or (h == g):
                return False
        self.front = [(h, w) for h, w in self.front if not dominates(v, w)] + [(g, v)]
        return True

    def state(self) -> list:
        return [[list(g), list(v)] for g, v in self.front]

    def load(self, state: list) -> None:
        self.front = [(tuple(g), tuple(v)) for g, v in state]


@register("nsga2", example={"population_size": 6})
class NSGA2(Algorithm):
    """NSGA-II: generations of ``population_size`` children made by binary tournaments on (Pareto rank,
    crowding distance), uniform crossover (probability ``crossover``) and type-aware mutation; survivors chosen
    from parents + children by non-dominated sorting and crowding. Failed children are dropped.

    Example::

        algo = NSGA2(population_size=20, crossover=0.9, seed=0)
    """

    max_objectives = None

    def __init__(self, population_size: int = 20, crossover: float = 0.9, *, mutation_sigma: float = 0.15,
                 seed: Optional[int] = None) -> None:
        super().__init__(seed)
        if population_size < 2:
            raise SymnasError(f"NSGA2: population_size must be >= 2, got {population_size!r}")
        self.population_size, self.crossover, self.sigma = int(population_size), float(crossover), mutation_sigma
        self.parents: list[tuple[Genome, tuple]] = []
        self.children: list[tuple[Genome, tuple]] = []
        self.archive = ParetoArchive()
        self._rank: dict[int, tuple[int, float]] = {}

    def _rank_parents(self) -> None:
        pts = [v for _, v in self.parents]
        self._rank = {}
        for r, front in enumerate(nondominated_sort(pts)):
            cd = crowding(pts, front)
            for i in front:
                self._rank[i] = (r, cd[i])

    def _select(self) -> Genome:
        a, b = self.rng.randrange(len(self.parents)), self.rng.randrange(len(self.parents))
        ka, kb = self._rank[a], self._rank[b]
        better = a if (ka[0], -ka[1]) <= (kb[0], -kb[1]) else b
        return self.parents[better][0]

    def _propose(self) -> Genome:
        if len(self.parents) < 2:
            return self.table.sample(self.rng)
        if not self._rank:
            self._rank_parents()
        p = self._select()
        if self.rng.random() < self.crossover:
            p = crossover(self.table, p, self._select(), self.rng)
        return mutate(self.table, p, self.rng, self.sigma)

    def _feedback(self, genome: Genome, values: Values, cached: bool) -> None:
        if values is None:
            return
        v = tuple(float(x) for x in values)
        self.archive.add(genome, v)
        if len(self.parents) < self.population_size and not self.children:
            self.parents.append((tuple(genome), v))
            self._rank = {}
            return
        self.children.append((tuple(genome), v))
        if len(self.children) >= self.population_size:
            pool = self.parents + self.children
            pts = [w for _, w in pool]
            survivors: list[int] = []
            for front in nondominated_sort(pts):
                if len(survivors) + len(front) <= self.population_size:
                    survivors += front
                else:
                    cd = crowding(pts, front)
                    survivors += sorted(front, key=lambda i: -cd[i])[:self.population_size - len(survivors)]
                    break
            self.parents = [pool[i] for i in survivors]
            self.children = []
            self._rank = {}

    def pareto_front(self) -> list[tuple[Genome, tuple[float, ...]]]:
        """Non-dominated ``(genome, oriented values)`` among everything evaluated."""
        return list(self.archive.front)

    def _state(self) -> dict[str, Any]:
        return {"parents": [[list(g), list(v)] for g, v in self.parents],
                "children": [[list(g), list(v)] for g, v in self.children], "archive": self.archive.state()}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        self.parents = [(tuple(g), tuple(v)) for g, v in state["parents"]]
        self.children = [(tuple(g), tuple(v)) for g, v in state["children"]]
        self.archive.load(state["archive"])
        self._rank = {}
