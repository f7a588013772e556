"""Search algorithms. Each sees only the decision table and genomes, never a torch model.

Example::

    algo = symnas.algorithms.RandomSearch(seed=0)
"""
from symnas.algorithms.base import Algorithm
from symnas.algorithms.random import RandomSearch

__all__ = ["Algorithm", "RandomSearch"]
