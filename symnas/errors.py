"""The project's error types. Every error a user can cause is a :class:`SymnasError`.

Messages name the place: a decision path (``stages[2].blocks[0].kernel``), a rule, a trial number, or
``file:line:col`` for DSL sources.
"""
from __future__ import annotations


class SymnasError(Exception):
    """Base class of every error symnas raises on bad input."""


class SpaceError(SymnasError, ValueError):
    """A search space or placeholder is malformed (empty choices, bad bounds, built modules inside a space)."""


class DecisionError(SymnasError, KeyError):
    """An unknown decision name/path, or a value that does not fit a decision."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else ""


class GenomeError(SymnasError, ValueError):
    """A genome does not fit the decision table it is used with."""


class BuildError(SymnasError, RuntimeError):
    """A description could not be turned into a torch module."""


class TrialError(SymnasError, RuntimeError):
    """Misuse of the ask/tell protocol: telling a trial twice, wrong number of objectives, unknown trial."""


class StoreError(SymnasError, RuntimeError):
    """A store could not be read or written."""
