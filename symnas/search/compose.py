"""Compose now lives with the other composite algorithms in :mod:`symnas.algorithms.compose`; this name is kept
for existing imports.

Example::

    from symnas.algorithms import Compose
"""
from symnas.algorithms.compose import Compose, sub_table

__all__ = ["Compose", "sub_table"]
