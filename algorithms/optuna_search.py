"""Optuna's samplers (TPE, random, NSGA-II, ...) driven through Optuna's ask/tell interface on the genome.

Optuna is an optional extra: it is imported when the algorithm is set up, with a clear error if it is missing.
Each decision becomes one Optuna parameter named by its path (subsets and permutations: one categorical per slot,
repaired to stay distinct). Only active decisions are suggested, so conditionals are respected. Optuna's sampler
state is not JSON, so this algorithm resumes by replaying the whole history (``snapshot_every = None``).

Example::

    study = sn.Study(space, OptunaSearch("tpe", seed=0))
"""
from __future__ import annotations

from typing import Any, Mapping, Optional, Union

from symnas.algorithms.base import Algorithm, Values, register
from symnas.errors import SymnasError
from symnas.genome.table import Genome

__all__ = ["OptunaSearch", "OptunaMissing"]


class OptunaMissing(SymnasError, ImportError):
    """Optuna is needed for this algorithm but is not installed."""


def _import_optuna() -> Any:
    try:
        import optuna
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise OptunaMissing("OptunaSearch needs the optional dependency optuna (pip install optuna)") from e
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


@register("optuna-nsga2", sampler="nsga2", example={"population_size": 6})
@register("optuna-random", sampler="random")
@register("optuna-tpe", sampler="tpe", example={"n_startup_trials": 5})
class OptunaSearch(Algorithm):
    """An Optuna sampler as a symnas algorithm.

    Args:
      sampler: ``'tpe'``, ``'random'``, ``'nsga2'``, ``'qmc'``, or an Optuna sampler instance.
      seed: seed passed to the named sampler.
      **sampler_kwargs: passed to the named sampler's constructor.

    Example::

        algo = OptunaSearch("tpe", seed=0, n_startup_trials=10)
    """

    max_objectives = None
    snapshot_every = None  # the sampler's state is not JSON: the study resumes by replaying every ask and tell

    def __init__(self, sampler: Union[str, Any] = "tpe", seed: Optional[int] = None, **sampler_kwargs: Any) -> None:
        super().__init__(seed)
        self.sampler_spec, self.sampler_kwargs = sampler, sampler_kwargs
        self._pending: dict[Genome, list[Any]] = {}

    def _setup(self) -> None:
        optuna = self.optuna = _import_optuna()
        s = self.sampler_spec
        if isinstance(s, str):
            names = {"tpe": optuna.samplers.TPESampler, "random": optuna.samplers.RandomSampler,
                     "nsga2": optuna.samplers.NSGAIISampler, "qmc": optuna.samplers.QMCSampler}
            if s not in names:
                raise SymnasError(f"OptunaSearch: unknown sampler {s!r}; known: {sorted(names)}")
            s = names[s](seed=self.seed, **self.sampler_kwargs)
        self.study = optuna.create_study(directions=["maximize"] * self.num_objectives, sampler=s)

    def _propose(self) -> Genome:
        table = self.table
        trial = self.study.ask()
        g = table.canonical(table.fill(lambda d: d.ops.suggest_optuna(d, trial)))
        self._pending.setdefault(g, []).append(trial)
        return g

    def _feedback(self, genome: Genome, values: Values, cached: bool) -> None:
        queue = self._pending.get(tuple(genome))
        if not queue:
            return  # a re-queued candidate this sampler did not propose
        trial = queue.pop(0)
        if not queue:
            del self._pending[tuple(genome)]
        if values is None:
            self.study.tell(trial, state=self.optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(trial, list(values))

    def _state(self) -> dict[str, Any]:
        return {"replay_only": True}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        if not state.get("replay_only"):
            raise SymnasError("OptunaSearch resumes by replaying history; do not set Study(snapshot_every=...)")
