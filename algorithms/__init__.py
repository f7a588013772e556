"""Search algorithms. Each sees only the decision table and genomes, never a torch model.

Every algorithm is one class registered by the :func:`register` decorator (see :mod:`symnas.algorithms.base` for
the contract); ``get(name, **kwargs)`` constructs one by registry name (``'local-search'``, ``'random'``,
``'evolution'``, ``'ppo'``, ``'reinforce'``, ``'tpe'``, ``'optuna-tpe'``, ``'optuna-random'``, ``'nsga2'``,
``'optuna-nsga2'``, ``'grid'``, ``'compose'``, ``'scalarized'``, and any module added to this package), and
``registry()`` lists them all.

Example::

    algo = symnas.algorithms.RandomSearch(seed=0)
    algo = symnas.algorithms.get("evolution", population_size=10, tournament_size=3, seed=0)
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any

from symnas.algorithms.base import _REGISTRY, Algorithm, Entry, register
from symnas.algorithms.compose import Compose, Scalarized
from symnas.algorithms.evolution import RegularizedEvolution
from symnas.algorithms.grid import GridSearch
from symnas.algorithms.local import LocalSearch
from symnas.algorithms.multiobjective import NSGA2, ParetoArchive
from symnas.algorithms.optuna_search import OptunaMissing, OptunaSearch
from symnas.algorithms.random import RandomSearch
from symnas.algorithms.tpe import TPE
from symnas.errors import SymnasError

if TYPE_CHECKING:  # imported lazily by __getattr__ at runtime, so that importing symnas does not import torch
    from symnas.algorithms.reinforce import PPO, Reinforce

__all__ = ["Algorithm", "LocalSearch", "RandomSearch", "RegularizedEvolution", "Reinforce", "PPO", "TPE", "NSGA2", "Scalarized",
           "Compose", "ParetoArchive", "GridSearch", "OptunaSearch", "OptunaMissing", "Entry", "register", "registry",
           "get", "names"]

_discovered = False


def _discover() -> None:
    """Imports every module of this package once, so that each registered class is in the registry (modules that
    import torch are imported only here, never by ``import symnas``)."""
    global _discovered
    if not _discovered:
        for mod in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{mod.name}")
        _discovered = True


def __getattr__(name: str) -> Any:
    if name in ("PPO", "Reinforce"):
        from symnas.algorithms import reinforce  # torch is imported here, not when symnas is imported

        return getattr(reinforce, name)
    raise AttributeError(f"module 'symnas.algorithms' has no attribute {name!r}")


def registry() -> dict[str, Entry]:
    """``{name: Entry}`` of every registered algorithm (aliases included), after importing every module here.

    Example::

        for name, entry in registry().items():
            algo = entry.make_example(seed=0)      # what the contract suite runs
    """
    _discover()
    return dict(_REGISTRY)


def names() -> list[str]:
    """The registry's algorithm names."""
    return sorted(registry())


def get(name: str, **kwargs: Any) -> Algorithm:
    """An algorithm by registry name, constructed with ``kwargs``.

    Example::

        algo = get("ppo", lr=0.1, seed=0)
    """
    key = str(name).lower().replace("_", "-")
    entry = _REGISTRY.get(key) or registry().get(key)
    if entry is None:
        raise SymnasError(f"unknown algorithm {name!r}; known: {', '.join(names())}")
    try:
        return entry(**kwargs)
    except TypeError as e:
        raise SymnasError(f"algorithm {name!r}: bad arguments {sorted(kwargs)}: {e}") from None
