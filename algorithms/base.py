"""The algorithm contract: algorithms see only genomes and values, never a torch model.

An algorithm is set up once with the compiled :class:`~symnas.genome.DecisionTable` of a space, then proposes
genomes and receives feedback. Values arrive oriented so that **larger is better** (the study flips minimised
objectives), as a tuple with one entry per objective, or ``None`` for a failed trial.

:class:`Algorithm` is a template method: the public :meth:`~Algorithm.setup`, :meth:`~Algorithm.propose`,
:meth:`~Algorithm.feedback`, :meth:`~Algorithm.state_dict` and :meth:`~Algorithm.load_state_dict` live here (they
count calls, check value shapes, own the random generator and its state); a subclass writes the hooks
``_propose`` and ``_feedback`` (and ``_setup``, ``_state`` / ``_load_state`` when it keeps state beyond the
generator). :func:`register` puts a class in the registry under one or more names; ``tests/test_algo_contract.py``
runs every registered algorithm through the contract suite.

Example::

    @register("coin")
    class Coin(Algorithm):
        def _propose(self) -> Genome:
            return self.table.sample(self.rng)

        def _feedback(self, genome: Genome, values: Values, cached: bool) -> None:
            pass

    algo = symnas.algorithms.get("coin", seed=0).setup(space.table)
    g = algo.propose()
    algo.feedback(g, (0.91,))
"""
from __future__ import annotations

import abc
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping, Optional, Sequence, TypeVar, Union

from symnas.errors import SymnasError
from symnas.genome.table import DecisionTable, Genome

__all__ = ["Algorithm", "Values", "Entry", "register", "rng_state", "set_rng_state"]

Values = Optional[tuple[float, ...]]


def rng_state(rng: random.Random) -> list:
    """A JSON-able snapshot of a ``random.Random``."""
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def set_rng_state(rng: random.Random, state: Sequence) -> None:
    """Restores a snapshot made by :func:`rng_state`."""
    version, internal, gauss = state
    rng.setstate((version, tuple(internal), gauss))


class _NeedsSetup:
    """``Algorithm.table`` and the call counts before :meth:`Algorithm.setup`: a clear error instead of an
    ``AttributeError``. A non-data descriptor, so the instance attributes set by ``setup`` shadow it at no cost per
    access (``propose`` and ``feedback`` check nothing else to know that the algorithm was set up)."""

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        raise SymnasError(f"{type(obj).__name__}: call setup(table) before propose() or feedback()")


class Algorithm(abc.ABC):
    """Base class of search algorithms (propose / feedback, with JSON state that can be saved and restored).

    Subclasses implement :meth:`_propose` and :meth:`_feedback`, and if they keep state beyond ``self.rng``,
    :meth:`_state` / :meth:`_load_state` (JSON-serialisable dicts, no pickles). Class attributes declare the rest
    of the contract: :attr:`max_objectives`, :attr:`snapshot_every`, :attr:`unsupported_kinds`.

    Attributes:
      seed: the seed given.
      rng: the algorithm's ``random.Random`` (seeded with ``seed``; saved and restored with the state).
      table: the decision table (set by :meth:`setup`).
      num_objectives: number of objectives (set by :meth:`setup`).
      proposed, told: genomes proposed and results received so far (from :meth:`setup` on).
    """

    #: Number of objectives this algorithm can handle (``None``: any).
    max_objectives: ClassVar[Optional[int]] = 1
    #: Snapshot policy: the study saves :meth:`state_dict` after every ``snapshot_every`` tells and, when it
    #: resumes, replays the asks and tells recorded after the last snapshot. Large values suit algorithms whose
    #: state grows with the history and whose replay is cheap; ``None`` means the state cannot be captured (the
    #: study never snapshots and resumes by replaying the whole history).
    snapshot_every: Optional[int] = 1
    #: Decision kinds (``'choice'``, ``'int'``, ``'float'``, ``'subset'``, ``'perm'``) this algorithm cannot search;
    #: :meth:`setup` refuses a table holding one with a :class:`~symnas.errors.SymnasError` naming the decision.
    unsupported_kinds: ClassVar[frozenset[str]] = frozenset()
    #: The registry name (set by :func:`register` to its first name; empty for a class not registered).
    name: ClassVar[str] = ""

    if TYPE_CHECKING:
        table: DecisionTable
        proposed: int
        told: int
    else:
        table = proposed = told = _NeedsSetup()

    def __init__(self, seed: Optional[int] = None) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.num_objectives = 1

    # -- the template ------------------------------------------------------------------------------------------
    def setup(self, table: DecisionTable, num_objectives: int = 1) -> "Algorithm":
        """Binds the algorithm to a compiled decision table. Called once before the first proposal."""
        cls = type(self).__name__
        if self.max_objectives is not None and num_objectives > self.max_objectives:
            raise SymnasError(
                f"{cls} handles at most {self.max_objectives} objective(s), got {num_objectives}; "
                "use a multi-objective algorithm (e.g. NSGA2) or scalarise the objectives"
            )
        if self.unsupported_kinds:
            for d in table.decisions:
                if d.kind in self.unsupported_kinds:
                    raise SymnasError(f"{cls} cannot search decision {d.path!r} (kind {d.kind!r}); it does not "
                                      f"support {sorted(self.unsupported_kinds)}: use another algorithm")
        self.table = table
        self.num_objectives = int(num_objectives)
        self._setup()
        self.proposed = self.told = 0
        return self

    def propose(self) -> Genome:
        """Returns the next genome to evaluate."""
        self.proposed += 1
        return self._propose()

    def propose_batch(self, n: int) -> list[Genome]:
        """Returns ``n`` proposals (algorithms with batched policies override :meth:`_propose_batch`)."""
        self.proposed += n
        return self._propose_batch(n)

    def feedback(self, genome: Genome, values: Values, *, cached: bool = False) -> None:
        """Receives the result of a proposal. ``values`` is ``None`` for a failed trial, else one value per
        objective (oriented: larger is better).

        ``cached`` is true when the result was served from the dedup cache instead of a new evaluation.
        """
        if values is not None and len(values) != self.num_objectives:
            raise SymnasError(f"{type(self).__name__}.feedback: expected {self.num_objectives} value(s) (one per "
                              f"objective) or None, got {values!r}")
        self.told += 1
        self._feedback(genome, values, cached)

    def state_dict(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot: the generator, the call counts and :meth:`_state`."""
        state = self._state()
        state["rng"] = rng_state(self.rng)
        state["proposed"], state["told"] = self.proposed, self.told
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restores a snapshot made by :meth:`state_dict` (on an algorithm set up with the same table)."""
        if "rng" in state:
            set_rng_state(self.rng, state["rng"])
        self.proposed, self.told = int(state.get("proposed", 0)), int(state.get("told", 0))
        self._load_state(state)

    def replay(self, history: Sequence[tuple[Genome, Values]]) -> None:
        """Feeds a recorded history back (resuming without a snapshot). Default: feedback in order."""
        for genome, values in history:
            self.feedback(genome, values)

    # -- hooks -------------------------------------------------------------------------------------------------
    def _setup(self) -> None:
        """Called by :meth:`setup` once ``self.table`` and ``self.num_objectives`` are set."""

    @abc.abstractmethod
    def _propose(self) -> Genome:
        """The next genome: valid for ``self.table`` and canonical (inactive decisions at their defaults)."""

    def _propose_batch(self, n: int) -> list[Genome]:
        return [self._propose() for _ in range(n)]

    @abc.abstractmethod
    def _feedback(self, genome: Genome, values: Values, cached: bool) -> None:
        """The result of a proposal (``values`` already checked: ``None`` or one value per objective)."""

    def _state(self) -> dict[str, Any]:
        """State beyond ``self.rng`` and the call counts (JSON-serialisable; keys ``rng``, ``proposed`` and
        ``told`` are the base's)."""
        return {}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        """Restores what :meth:`_state` saved."""


A = TypeVar("A", bound="type[Algorithm]")


@dataclass(frozen=True)
class Entry:
    """A registry entry: a class, the keyword arguments its name fixes, and how the contract suite builds it.

    ``example`` is ``None`` (``cls(seed=seed)``), a dict of small settings for tests, or ``seed -> Algorithm``.
    """

    name: str
    cls: type[Algorithm]
    preset: Mapping[str, Any] = field(default_factory=dict)
    example: Union[None, Mapping[str, Any], Callable[[int], Algorithm]] = None

    def __call__(self, **kwargs: Any) -> Algorithm:
        return self.cls(**{**self.preset, **kwargs})

    def make_example(self, seed: int) -> Algorithm:
        """An instance with the settings the contract suite uses."""
        if callable(self.example):
            return self.example(seed)
        return self(**{**(self.example or {}), "seed": seed})


_REGISTRY: dict[str, Entry] = {}


def register(name: str, *aliases: str, example: Union[None, Mapping[str, Any], Callable[[int], Algorithm]] = None,
             **preset: Any) -> Callable[[A], A]:
    """Class decorator: makes ``symnas.algorithms.get(name)`` (and each alias) construct the class, with ``preset``
    keyword arguments fixed by the name. Stack it to register one class under several presets.

    Example::

        @register("optuna-tpe", sampler="tpe")
        @register("optuna-random", sampler="random")
        class OptunaSearch(Algorithm): ...
    """
    def deco(cls: A) -> A:
        if not (isinstance(cls, type) and issubclass(cls, Algorithm)):
            raise SymnasError(f"register({name!r}): {cls!r} is not an Algorithm subclass")
        for n in (name, *aliases):
            old = _REGISTRY.get(n)
            if old is not None and (old.cls.__module__, old.cls.__qualname__) != (cls.__module__, cls.__qualname__):
                raise SymnasError(f"algorithm name {n!r} is already registered by {old.cls.__qualname__}")
            _REGISTRY[n] = Entry(n, cls, dict(preset), example)
        if "name" not in cls.__dict__:
            cls.name = name
        return cls
    return deco
