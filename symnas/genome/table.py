"""The compiled decision table: a flat list of typed decisions with conditional activity.

A space is compiled once into a :class:`DecisionTable`. A **genome** is a flat tuple of numbers with one slot per
gene: a choice stores the candidate index, an int or float its value, a subset ``k`` candidate indices, a
permutation ``n`` item indices. Decisions nested inside a choice's candidate are *conditional*: they are active only
when that candidate is chosen, and inactive decisions hold a canonical value so that equal candidates have equal
genomes.

Example::

    table = space.table
    g = table.sample(random.Random(0))
    assert table.canonical(g) == g
    print(table.decisions[0].path, len(table), table.width)
"""
from __future__ import annotations

import random as _random
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Sequence, Union

from symnas.errors import DecisionError, GenomeError
from symnas.genome.kinds import Kind, kind_named

Gene = Union[int, float]
Genome = tuple  # tuple[Gene, ...]

__all__ = ["Decision", "DecisionTable", "Genome", "Gene"]


@dataclass(eq=False)
class Decision:
    """One decision of a space.

    Attributes:
      index: position in :attr:`DecisionTable.decisions`.
      path: where the decision sits in the space (``stages[2].blocks[0].kernel``).
      name: the user's name, or the path.
      kind: the name of its kind: ``'choice'``, ``'ordinal'``, ``'int'``, ``'float'``, ``'subset'``, ``'perm'``
        (see :mod:`symnas.genome.kinds`); ``ops`` is the kind itself, which owns the per-kind behaviour.
      offset, width: the genome slots ``genome[offset:offset + width]``.
      n: number of candidates (choice, subset, perm).
      labels: short readable labels of the candidates.
      low, high, step, log: numeric bounds (int, float).
      k, distinct, sorted: subset parameters.
      ordered: the candidates have an order (an ordinal, or a choice marked ``ordered``: mutation prefers
        neighbours).
      conditions: the decision is active if any ``(parent_index, allowed_values)`` holds with the parent active;
        empty means always active.
    """

    index: int
    path: str
    name: str
    kind: str
    offset: int
    width: int = 1
    n: int = 0
    labels: tuple[str, ...] = ()
    low: float = 0.0
    high: float = 0.0
    step: Optional[float] = None
    log: bool = False
    k: int = 1
    distinct: bool = True
    sorted: bool = False
    ordered: bool = False
    conditions: list[tuple[int, frozenset]] = field(default_factory=list)
    hints: Any = None

    ops: Kind = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.ops = kind_named(self.kind)

    @property
    def is_categorical(self) -> bool:
        return self.ops.categorical

    @property
    def default(self) -> tuple:
        """Canonical genes of this decision when it is inactive."""
        return self.ops.default(self)

    def count(self) -> float:
        """Number of values of this decision alone (``inf`` for continuous floats)."""
        return self.ops.count(self)

    def sample(self, rng: _random.Random) -> tuple:
        """Draws this decision's genes uniformly."""
        return self.ops.sample(self, rng)

    def check(self, genes: Sequence[Gene]) -> Optional[str]:
        """Returns why ``genes`` do not fit this decision, or ``None``."""
        if len(genes) != self.width:
            return f"expected {self.width} gene(s), got {len(genes)}"
        return self.ops.check(self, genes)

    def mutate(self, genes: tuple, rng: _random.Random, sigma: float = 0.15) -> tuple:
        """A different value of this decision (see the kind's ``mutate``)."""
        return self.ops.mutate(self, genes, rng, sigma)

    def neighbours(self, genes: tuple) -> list[tuple]:
        """The values one step away from ``genes``."""
        return self.ops.neighbours(self, genes)

    def grid(self, resolution: int) -> list[tuple]:
        """Every value (numeric kinds: at most ``resolution`` spread values), as genes."""
        return self.ops.grid(self, resolution)


class DecisionTable:
    """The flat, ordered decision table of a space (parents always come before their conditional children)."""

    def __init__(self, decisions: list[Decision]) -> None:
        self.decisions = decisions
        self.width = sum(d.width for d in decisions)
        self._by_name: dict[str, Decision] = {}
        for d in decisions:
            self._by_name[d.path] = d
            self._by_name[d.name] = d
        self._defaults = [d.default for d in decisions]  # per decision, so canonical() makes no call per reset
        self._default = tuple(g for genes in self._defaults for g in genes)
        self._slot_kinds = tuple(d.kind for d in decisions for _ in range(d.width))
        self._float_slots = tuple(d.ops.float_genes for d in decisions for _ in range(d.width))
        self.conditional = any(d.conditions for d in decisions)
        self._samplers = [(d.ops.sample, d) for d in decisions]
        # Fast path for tables of one-index decisions (choices, ordinals): one float draw per decision.
        self._choice_sizes = tuple(d.n for d in decisions) if all(d.ops.single_index for d in decisions) else None

    def __len__(self) -> int:
        return len(self.decisions)

    def __iter__(self) -> Iterator[Decision]:
        return iter(self.decisions)

    def __getitem__(self, key: Union[int, str]) -> Decision:
        if isinstance(key, int):
            return self.decisions[key]
        try:
            return self._by_name[key]
        except KeyError:
            close = [n for n in self._by_name if key.split(".")[-1] in n][:3]
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise DecisionError(f"unknown decision {key!r}{hint}") from None

    @property
    def default_genome(self) -> Genome:
        return self._default

    def genes(self, genome: Genome, d: Decision) -> tuple:
        return tuple(genome[d.offset:d.offset + d.width])

    def _holds(self, genome: Sequence[Gene], active: list[bool], d: Decision) -> bool:
        for parent, allowed in d.conditions:
            if not active[parent]:
                continue
            p = self.decisions[parent]
            if p.width == 1:
                if genome[p.offset] in allowed:
                    return True
            elif any(genome[i] in allowed for i in range(p.offset, p.offset + p.width)):
                return True
        return False

    def active(self, genome: Genome) -> list[bool]:
        """Which decisions are active in ``genome``."""
        active = [True] * len(self.decisions)
        if not self.conditional:
            return active
        for d in self.decisions:
            if d.conditions:
                active[d.index] = self._holds(genome, active, d)
        return active

    def sample(self, rng: Optional[_random.Random] = None) -> Genome:
        """A uniformly random genome (each active decision drawn uniformly; inactive ones canonical)."""
        rng = rng or _random.Random()
        if self._choice_sizes is not None and not self.conditional:
            r = rng.random
            return tuple([int(r() * n) for n in self._choice_sizes])
        if not self.conditional:
            out: list[Gene] = []
            for f, d in self._samplers:
                out.extend(f(d, rng))
            return tuple(out)
        genome = list(self._default)
        active = [True] * len(self.decisions)
        for f, d in self._samplers:
            if d.conditions and not self._holds(genome, active, d):
                active[d.index] = False
                continue
            genome[d.offset:d.offset + d.width] = f(d, rng)
        return tuple(genome)

    def fill(self, draw: Callable[[Decision], Sequence[Gene]]) -> Genome:
        """A genome whose active decisions get ``draw(d)``, in table order (parents first, so a decision's activity
        is known when it is drawn); inactive decisions keep their canonical genes and are not drawn.

        This is how a foreign sampler (an Optuna trial, a PyGlove DNA) fills a conditional genome::

            genome = table.fill(lambda d: d.ops.suggest_optuna(d, trial))
        """
        genome = list(self._default)
        active = [True] * len(self.decisions)
        for d in self.decisions:
            if d.conditions and not self._holds(genome, active, d):
                active[d.index] = False
                continue
            genome[d.offset:d.offset + d.width] = draw(d)
        return tuple(genome)

    def canonical(self, genome: Sequence[Gene]) -> Genome:
        """``genome`` with every inactive decision reset to its canonical value."""
        if not self.conditional:
            return tuple(genome)
        genome = list(genome)
        active = [True] * len(self.decisions)
        for d in self.decisions:
            if d.conditions and not self._holds(genome, active, d):
                active[d.index] = False
                genome[d.offset:d.offset + d.width] = self._defaults[d.index]
        return tuple(genome)

    def validate(self, genome: Sequence[Gene]) -> Genome:
        """Checks a genome from outside (a file, a user) and returns it canonicalised; errors name the decision."""
        if len(genome) != self.width:
            raise GenomeError(f"genome has {len(genome)} genes, the space needs {self.width}")
        fs = self._float_slots  # the kinds' canonical types, per slot (Kind.canonical, without a call per decision)
        genome = tuple(int(v) if isinstance(v, float) and not fs[i] and v.is_integer() else v
                       for i, v in enumerate(genome))
        active = self.active(genome)
        for d in self.decisions:
            if active[d.index]:
                why = d.check(genome[d.offset:d.offset + d.width])
                if why:
                    raise GenomeError(f"{d.path}: {why}")
        return self.canonical(genome)

    def kind_at(self, slot: int) -> str:
        """The kind of the decision that owns genome slot ``slot``."""
        if not 0 <= slot < self.width:
            raise GenomeError(f"slot {slot} out of range")
        return self._slot_kinds[slot]

    def values(self, genome: Genome) -> dict[str, Any]:
        """``{name: genes}`` of the active decisions (a scalar for single-gene decisions)."""
        active = self.active(genome)
        return {d.name: (genome[d.offset] if d.width == 1 else tuple(genome[d.offset:d.offset + d.width]))
                for d in self.decisions if active[d.index]}

    def __repr__(self) -> str:
        return f"DecisionTable({len(self.decisions)} decisions, {self.width} genes)"
