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

import math
import random as _random
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional, Sequence, Union

from symnas.errors import DecisionError, GenomeError

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
      kind: ``'choice'``, ``'int'``, ``'float'``, ``'subset'`` or ``'perm'``.
      offset, width: the genome slots ``genome[offset:offset + width]``.
      n: number of candidates (choice, subset, perm).
      labels: short readable labels of the candidates.
      low, high, step, log: numeric bounds (int, float).
      k, distinct, sorted: subset parameters.
      ordered: the choice's candidates are ordinal (mutation prefers neighbours).
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

    @property
    def is_categorical(self) -> bool:
        return self.kind in ("choice", "subset", "perm")

    @property
    def default(self) -> tuple:
        """Canonical genes of this decision when it is inactive."""
        if self.kind == "choice":
            return (0,)
        if self.kind == "int":
            return (int(self.low),)
        if self.kind == "float":
            return (float(self.low),)
        if self.kind == "subset":
            return tuple(range(self.k)) if self.distinct else (0,) * self.k
        return tuple(range(self.n))

    def count(self) -> float:
        """Number of values of this decision alone (``inf`` for continuous floats)."""
        if self.kind == "choice":
            return self.n
        if self.kind == "int":
            return int((self.high - self.low) // (self.step or 1)) + 1
        if self.kind == "float":
            return math.inf if not self.step else int(round((self.high - self.low) / self.step)) + 1
        if self.kind == "perm":
            return math.factorial(self.n)
        n, k = self.n, self.k
        if self.distinct:
            return math.comb(n, k) if self.sorted else math.perm(n, k)
        return math.comb(n + k - 1, k) if self.sorted else n**k

    def sample(self, rng: _random.Random) -> tuple:
        """Draws this decision's genes uniformly."""
        kind = self.kind
        if kind == "choice":
            return (int(rng.random() * self.n),)
        if kind == "int":
            lo, hi = int(self.low), int(self.high)
            if self.log:
                v = int(math.floor(math.exp(rng.uniform(math.log(lo), math.log(hi + 1)))))
                return (min(max(v, lo), hi),)
            step = int(self.step or 1)
            return (lo + step * rng.randrange((hi - lo) // step + 1),)
        if kind == "float":
            if self.log:
                return (math.exp(rng.uniform(math.log(self.low), math.log(self.high))),)
            if self.step:
                return (self.low + self.step * rng.randrange(int(round((self.high - self.low) / self.step)) + 1),)
            return (rng.uniform(self.low, self.high),)
        if kind == "subset":
            if self.distinct:
                picks = rng.sample(range(self.n), self.k)
            else:
                picks = [rng.randrange(self.n) for _ in range(self.k)]
            return tuple(sorted(picks)) if self.sorted else tuple(picks)
        perm = list(range(self.n))
        rng.shuffle(perm)
        return tuple(perm)

    def check(self, genes: Sequence[Gene]) -> Optional[str]:
        """Returns why ``genes`` do not fit this decision, or ``None``."""
        if len(genes) != self.width:
            return f"expected {self.width} gene(s), got {len(genes)}"
        if self.kind == "choice":
            v = genes[0]
            return None if isinstance(v, int) and 0 <= v < self.n else f"choice index {v!r} not in [0, {self.n})"
        if self.kind in ("int", "float"):
            v = genes[0]
            if self.kind == "int" and (not isinstance(v, int) or isinstance(v, bool)):
                return f"expected an int, got {v!r}"
            if not isinstance(v, (int, float)) or not (self.low <= v <= self.high):
                return f"value {v!r} not in [{self.low:g}, {self.high:g}]"
            if self.kind == "int" and self.step and (v - self.low) % self.step:
                return f"value {v!r} is off the step {self.step:g} grid"
            return None
        if any(not isinstance(v, int) or not 0 <= v < self.n for v in genes):
            return f"indices {tuple(genes)!r} not in [0, {self.n})"
        if self.kind == "perm":
            return None if sorted(genes) == list(range(self.n)) else f"{tuple(genes)!r} is not a permutation"
        if self.distinct and len(set(genes)) != len(genes):
            return f"indices {tuple(genes)!r} are not distinct"
        if self.sorted and list(genes) != sorted(genes):
            return f"indices {tuple(genes)!r} are not sorted"
        return None


class DecisionTable:
    """The flat, ordered decision table of a space (parents always come before their conditional children)."""

    def __init__(self, decisions: list[Decision]) -> None:
        self.decisions = decisions
        self.width = sum(d.width for d in decisions)
        self._by_name: dict[str, Decision] = {}
        for d in decisions:
            self._by_name[d.path] = d
            self._by_name[d.name] = d
        self._default = tuple(g for d in decisions for g in d.default)
        self._slot_kinds = tuple(d.kind for d in decisions for _ in range(d.width))
        self.conditional = any(d.conditions for d in decisions)
        # Fast path for the common all-categorical table: one float draw per decision.
        self._choice_sizes = tuple(d.n for d in decisions) if all(d.kind == "choice" for d in decisions) else None

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
            for d in self.decisions:
                out.extend(d.sample(rng))
            return tuple(out)
        genome = list(self._default)
        active = [True] * len(self.decisions)
        for d in self.decisions:
            if d.conditions and not self._holds(genome, active, d):
                active[d.index] = False
                continue
            genome[d.offset:d.offset + d.width] = d.sample(rng)
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
                genome[d.offset:d.offset + d.width] = d.default
        return tuple(genome)

    def validate(self, genome: Sequence[Gene]) -> Genome:
        """Checks a genome from outside (a file, a user) and returns it canonicalised; errors name the decision."""
        if len(genome) != self.width:
            raise GenomeError(f"genome has {len(genome)} genes, the space needs {self.width}")
        genome = tuple(int(v) if isinstance(v, float) and v.is_integer() and self.kind_at(i) != "float" else v
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
