"""Search algorithms. Each sees only the decision table and genomes, never a torch model.

``get(name, **kwargs)`` resolves a registry name (``'random'``, ``'evolution'``, ``'ppo'``, ``'reinforce'``,
``'tpe'``, ``'optuna-tpe'``, ``'optuna-random'``, ``'nsga2'``, ``'optuna-nsga2'``, ``'grid'``).

Example::

    algo = symnas.algorithms.RandomSearch(seed=0)
    algo = symnas.algorithms.get("evolution", population_size=10, tournament_size=3, seed=0)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from symnas.algorithms.base import Algorithm
from symnas.algorithms.evolution import RegularizedEvolution
from symnas.algorithms.grid import GridSearch
from symnas.algorithms.multiobjective import NSGA2, ParetoArchive, Scalarized
from symnas.algorithms.optuna_search import OptunaMissing, OptunaSearch
from symnas.algorithms.random import RandomSearch
from symnas.algorithms.tpe import TPE
from symnas.errors import SymnasError

if TYPE_CHECKING:  # imported lazily by __getattr__ at runtime, so that importing symnas does not import torch
    from symnas.algorithms.reinforce import PPO, Reinforce

__all__ = ["Algorithm", "RandomSearch", "RegularizedEvolution", "Reinforce", "PPO", "TPE", "NSGA2", "Scalarized",
           "ParetoArchive", "GridSearch", "OptunaSearch", "OptunaMissing", "get", "names", "REGISTRY"]

REGISTRY: dict[str, Callable[..., Algorithm]] = {
    "random": RandomSearch,
    "evolution": RegularizedEvolution,
    "regularized-evolution": RegularizedEvolution,
    "ppo": lambda **kw: _controller("PPO")(**kw),
    "reinforce": lambda **kw: _controller("Reinforce")(**kw),
    "tpe": TPE,
    "optuna-tpe": lambda **kw: OptunaSearch("tpe", **kw),
    "optuna-random": lambda **kw: OptunaSearch("random", **kw),
    "optuna-nsga2": lambda **kw: OptunaSearch("nsga2", **kw),
    "nsga2": NSGA2,
    "grid": GridSearch,
}


def _controller(name: str) -> Any:
    from symnas.algorithms import reinforce  # torch is imported here, not when symnas is imported

    return getattr(reinforce, name)


def __getattr__(name: str) -> Any:
    if name in ("PPO", "Reinforce"):
        return _controller(name)
    raise AttributeError(f"module 'symnas.algorithms' has no attribute {name!r}")


def names() -> list[str]:
    """The registry's algorithm names."""
    return sorted(REGISTRY)


def get(name: str, **kwargs: Any) -> Algorithm:
    """An algorithm by registry name, constructed with ``kwargs``.

    Example::

        algo = get("ppo", lr=0.1, seed=0)
    """
    key = str(name).lower().replace("_", "-")
    if key not in REGISTRY:
        raise SymnasError(f"unknown algorithm {name!r}; known: {', '.join(names())}")
    try:
        return REGISTRY[key](**kwargs)
    except TypeError as e:
        raise SymnasError(f"algorithm {name!r}: bad arguments {sorted(kwargs)}: {e}") from None
