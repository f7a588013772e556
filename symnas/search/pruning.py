"""Early stopping: raise :class:`TrialPruned` from an evaluation when ``trial.should_prune()`` says so."""
from __future__ import annotations

from symnas.errors import SymnasError

__all__ = ["TrialPruned"]


class TrialPruned(SymnasError):
    """Raised inside an evaluation function to stop a trial early; the study records it as pruned."""
