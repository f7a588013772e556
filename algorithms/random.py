"""Random search: every active decision drawn uniformly, conditionals respected.

Example::

    study = sn.Study(space, sn.algorithms.RandomSearch(seed=0))
"""
from __future__ import annotations

import random
from typing import Any, Optional

from symnas.algorithms.base import Algorithm, Values
from symnas.genome.table import Genome

__all__ = ["RandomSearch"]


class RandomSearch(Algorithm):
    """Uniform random proposals. Feedback is ignored; the state is the random generator's."""

    max_objectives = None
    #: Replaying proposals is cheap, so the study snapshots the generator only every 1,000 tells and replays the
    #: asks recorded after the snapshot when it resumes.
    snapshot_every = 1000

    def __init__(self, seed: Optional[int] = None) -> None:
        super().__init__(seed)
        self.rng = random.Random(seed)

    def propose(self) -> Genome:
        return self.table.sample(self.rng)  # type: ignore[union-attr]

    def feedback(self, genome: Genome, values: Values, *, cached: bool = False) -> None:
        return None

    def state_dict(self) -> dict[str, Any]:
        version, internal, gauss = self.rng.getstate()
        return {"rng": [version, list(internal), gauss]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))
