"""The decision-kind contract and its registry.

A *kind* is everything symnas knows about one sort of decision: how a placeholder of that kind compiles into the
flat genome table, its canonical (default) genes, how many values it has, how to sample, check, canonicalise,
mutate and enumerate it, its neighbours, how conditions compare its values, and how it converts to Optuna,
PyGlove and the DSL. Each kind is one subclass of :class:`Kind`, registered by its ``name`` (the
``Placeholder.kind`` / ``Decision.kind`` string) with :func:`register`.

Kinds are stateless: their methods take the :class:`~symnas.genome.table.Decision` (or the placeholder) they act
on. A decision reaches its kind as ``d.ops`` (set once when the decision is made), so callers never branch on
``d.kind``::

    genes = d.ops.sample(d, rng)
    child = d.ops.mutate(d, genes, rng)
    grid = d.ops.grid(d, resolution=5)

Adding a kind: a placeholder class in :mod:`symnas.symbolic.placeholders` (its JSON form) and a ``Kind`` subclass
decorated with :func:`register` (see :class:`~symnas.genome.kinds.categorical.OrdinalKind`), plus its tests.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator, Optional, Sequence, TypeVar

from symnas.errors import DecisionError, SpaceError

if TYPE_CHECKING:  # pragma: no cover
    from symnas.genome.table import Decision
    from symnas.genome.template import Node
    from symnas.symbolic.placeholders import Placeholder

__all__ = ["Kind", "IndexSlots", "KINDS", "register", "kind_named", "kind_of", "OPS"]

#: Comparison operators a condition may use; the ordered ones only on kinds whose values have an order.
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}
_ORDER_OPS = ("<", "<=", ">", ">=")


@dataclass(frozen=True)
class IndexSlots:
    """How an index-valued decision lays out its genes, for algorithms that model candidate probabilities.

    Attributes:
      count: genes, each an index in ``[0, n)`` (1 for a choice, ``k`` for a subset, ``n`` for a permutation).
      rows: probability rows: 1 (every gene draws from the same ``n`` candidates) or ``count`` (one per gene).
      distinct: genes never repeat an index (drawn without replacement).
      sorted: genes are kept in ascending order.
    """

    count: int
    rows: int
    distinct: bool
    sorted: bool

    def row(self, j: int) -> int:
        """The probability row of gene ``j``."""
        return 0 if self.rows == 1 else j


class Kind:
    """Behaviour of one decision kind. Subclasses set ``name`` and ``placeholder`` and override what differs.

    Class attributes:
      name: the kind's name (``Placeholder.kind`` and ``Decision.kind``).
      categorical: genes are candidate indices.
      numeric: one gene, a number on a (linear or log) scale: :meth:`to_unit`, :meth:`from_unit`, :meth:`snap`.
      single_index: one gene, an index drawn uniformly from ``[0, n)`` as ``int(rng.random() * n)``; tables made
        only of such decisions take the one-draw-per-decision fast path.
      ordered: values have an order, so conditions may compare with ``<``, ``<=``, ``>``, ``>=``.
      float_genes: genes are floats (all other kinds keep integral floats read from files as ints).
    """

    name: ClassVar[str] = ""
    categorical: ClassVar[bool] = False
    numeric: ClassVar[bool] = False
    single_index: ClassVar[bool] = False
    ordered: ClassVar[bool] = False
    float_genes: ClassVar[bool] = False
    #: Lower tries first when a PyGlove value is converted back (a more specific kind before its base).

    # -- compile ----------------------------------------------------------------------------------------------
    def compile(self, c: Any, ph: "Placeholder", path: str, cond: Optional[tuple[int, frozenset]]) -> "Node":
        """The template node of ``ph`` at ``path``; ``c`` is the compiler (``c.new_decision(ph, path, cond,
        **fields)`` adds a decision, ``c.walk(value, path, cond)`` compiles a nested value)."""
        raise NotImplementedError

    # -- genes ------------------------------------------------------------------------------------------------
    def default(self, d: "Decision") -> tuple:
        """Canonical genes of ``d`` when it is inactive."""
        raise NotImplementedError

    def count(self, d: "Decision") -> float:
        """Number of values of ``d`` alone (``inf`` for continuous floats)."""
        raise NotImplementedError

    def sample(self, d: "Decision", rng: random.Random) -> tuple:
        """Genes drawn uniformly."""
        raise NotImplementedError

    def check(self, d: "Decision", genes: Sequence[Any]) -> Optional[str]:
        """Why ``genes`` do not fit ``d``, or None. The caller has checked ``len(genes) == d.width``."""
        raise NotImplementedError

    def canonical(self, d: "Decision", genes: Sequence[Any]) -> tuple:
        """``genes`` read from outside (JSON turns ints into floats) in their canonical Python types."""
        if self.float_genes:
            return tuple(genes)
        return tuple(int(v) if isinstance(v, float) and v.is_integer() else v for v in genes)

    def mutate(self, d: "Decision", genes: tuple, rng: random.Random, sigma: float = 0.15) -> tuple:
        """A different value (the same genes when there is none; a float may, rarely, not find one)."""
        raise NotImplementedError

    def neighbours(self, d: "Decision", genes: tuple) -> list[tuple]:
        """The values one step away from ``genes`` (empty for a continuous float)."""
        raise NotImplementedError

    def grid(self, d: "Decision", resolution: int) -> list[tuple]:
        """Every value as genes, in order; numeric kinds use at most ``resolution`` spread values."""
        it = self.enumerate(d)
        if it is None:
            raise DecisionError(f"{d.path}: a {self.name} decision cannot be enumerated")
        return list(it)

    def enumerate(self, d: "Decision") -> Optional[Iterator[tuple]]:
        """Every value as genes, lazily and in order (``itertools.islice`` it to bound the work); None when the
        values cannot be listed (a continuous float)."""
        vals = self.values(d)
        return None if vals is None else ((v,) for v in vals)

    def values(self, d: "Decision") -> Optional[list]:
        """Every value of a one-gene decision, in order, if they can be listed exactly; else None."""
        return None

    def placeholder_values(self, ph: "Placeholder") -> Optional[list]:
        """Every concrete value of the placeholder ``ph``, in order, if it has finitely many and none of them holds
        a decision or a spec (e.g. the counts a DSL ``repeat`` may take); else None."""
        return None

    def slots(self, d: "Decision") -> Optional[IndexSlots]:
        """The index layout of a categorical decision (None for numeric kinds)."""
        return None

    def condition(self, d: "Decision", op: str, gene: Any) -> frozenset:
        """The gene values ``v`` of ``d`` for which ``v <op> gene`` holds: the allowed set of a condition on ``d``.

        ``==``/``!=`` work on every listable kind; ``<``, ``<=``, ``>``, ``>=`` only on ordered ones (an ordinal
        compares positions, an int its values)."""
        if op not in OPS:
            raise DecisionError(f"{d.path}: unknown comparison {op!r}")
        if op in _ORDER_OPS and not self.ordered:
            raise DecisionError(f"{d.path}: a {self.name} decision has no order; use == or != (or an ordinal)")
        vals = self.values(d)
        if vals is None:
            raise DecisionError(f"{d.path}: conditions on a {self.name} decision")
        f = OPS[op]
        return frozenset(v for v in vals if f(v, gene))

    # -- description ------------------------------------------------------------------------------------------
    def param(self, d: "Decision", genes: Sequence[Any], option: Callable[[int], Any]) -> Any:
        """The readable value of ``genes`` (``option(i)`` is candidate ``i``'s value or label)."""
        return genes[0]

    def describe(self, d: "Decision") -> str:
        """The options or bounds column of ``Space.describe``."""
        raise NotImplementedError

    # -- conversions ------------------------------------------------------------------------------------------
    def suggest_optuna(self, d: "Decision", trial: Any) -> tuple:
        """Genes suggested by an Optuna ``trial`` (parameter names are ``d.path``, ``d.path[j]`` per gene)."""
        raise NotImplementedError

    def to_dna(self, d: "Decision", genes: Sequence[Any]) -> list:
        """The numbers of ``genes`` in PyGlove's DNA of the converted space."""
        return list(genes)

    def from_dna(self, d: "Decision", numbers: Sequence[Any]) -> tuple:
        """Genes from the numbers :meth:`to_dna` gives."""
        return tuple(numbers)

    def dsl_call(self, ph: "Placeholder", value: Callable[[Any], str],
                 literal: Callable[[Any], str]) -> tuple[str, list[str], list[str]]:
        """``(function, positional args, keyword args)`` of ``ph`` in the DSL, without name and hints; ``value``
        prints a nested value, ``literal`` a number or string."""
        raise NotImplementedError

    def trace_value(self, ph: "Placeholder", gene: Any) -> Any:
        """The concrete value of ``ph`` in a define-by-run trace for ``gene`` (None: the default)."""
        raise NotImplementedError

    def trace_alternatives(self, ph: "Placeholder", limit: int) -> list:
        """The genes a define-by-run exploration tries for ``ph`` (empty: not explored)."""
        return []

    def __repr__(self) -> str:
        return f"<kind {self.name!r}>"


KINDS: dict[str, Kind] = {}
_K = TypeVar("_K", bound=type)


def register(cls: _K) -> _K:
    """Class decorator: registers one instance of a :class:`Kind` subclass under its ``name``."""
    name = getattr(cls, "name", "")
    if not name:
        raise SpaceError(f"kind {cls.__name__} has no name")
    if name in KINDS:
        raise SpaceError(f"decision kind {name!r} is already registered ({type(KINDS[name]).__name__})")
    KINDS[name] = cls()
    return cls


def kind_named(name: str) -> Kind:
    """The kind registered as ``name``."""
    try:
        return KINDS[name]
    except KeyError:
        raise DecisionError(f"unknown decision kind {name!r}; known: {', '.join(sorted(KINDS))}") from None


def kind_of(ph: "Placeholder") -> Kind:
    """The kind of a placeholder."""
    k = KINDS.get(ph.kind)
    if k is None:
        raise SpaceError(f"unsupported placeholder {ph!r}: no decision kind {ph.kind!r} is registered")
    return k

