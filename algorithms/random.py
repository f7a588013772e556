"""Random search: every active decision drawn uniformly, conditionals respected.

Example::

    study = sn.Study(space, sn.algorithms.RandomSearch(seed=0))
"""
from __future__ import annotations

from symnas.algorithms.base import Algorithm, Values, register
from symnas.genome.table import Genome

__all__ = ["RandomSearch"]


@register("random")
class RandomSearch(Algorithm):
    """Uniform random proposals. Feedback is ignored; the state is the random generator's (kept by the base)."""

    max_objectives = None
    #: Replaying proposals is cheap, so the study snapshots the generator only every 1,000 tells and replays the
    #: asks recorded after the snapshot when it resumes.
    snapshot_every = 1000

    def _propose(self) -> Genome:
        return self.table.sample(self.rng)

    def _feedback(self, genome: Genome, values: Values, cached: bool) -> None:
        return None
