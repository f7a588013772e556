"""A search space: a tree with placeholders, compiled once into a decision table.

Example::

    space = sn.Space(Net(blocks=[Block(16, kernel=sn.oneof([3, 5, 7])) for _ in range(4)]))
    g = space.sample(seed=0)              # a genome: a tuple of numbers
    desc = space.decode(g)                # a description: specs and values, no weights
    assert space.encode(desc) == g
    model = space.build(g, seed=0)        # a plain nn.Module
"""
from __future__ import annotations

import random as _random
from typing import Any, Optional, Sequence

from symnas.candidate.build import build as _build
from symnas.symbolic.jsonio import decode as _json_decode
from symnas.symbolic.jsonio import encode as _json_encode
from symnas.errors import GenomeError, SpaceError
from symnas.genome.compile import compile_tree
from symnas.genome.table import DecisionTable, Genome

__all__ = ["Space"]

_MAX_REJECTIONS = 100_000


class Space:
    """A search space. ``tree`` holds specs, lists, dicts, values and placeholders; it never holds weights.

    Args:
      tree: the space (e.g. ``Net(...)`` of a ``@searchable`` class called with placeholders, or a dict of
        hyperparameter placeholders).
      name: a label for stores and reports.
      builder: optional callable ``description -> object`` used by :meth:`build` instead of building specs
        (define-by-run spaces and patched factories set it).
    """

    def __init__(self, tree: Any, name: str = "space", *, builder: Any = None, meta: Optional[dict] = None,
                 conditions: Optional[dict[str, list[tuple[str, frozenset]]]] = None) -> None:
        self.tree = tree
        self.name = name
        self.root, self.table = compile_tree(tree)
        self._builder = builder
        self.meta = dict(meta or {})
        self._extra_conditions = conditions or {}
        for child, conds in self._extra_conditions.items():
            d = self.table[child]
            for parent, allowed in conds:
                p = self.table[parent]
                if p.index >= d.index:
                    raise SpaceError(f"{child}: its condition's decision {parent!r} must come before it")
                d.conditions.append((p.index, frozenset(allowed)))
            self.table.conditional = True

    # -- sizes and sampling -------------------------------------------------------------------------------
    @property
    def size(self) -> float:
        """Exact number of distinct candidates (``inf`` with continuous floats)."""
        if self._extra_conditions:
            return _forest_size(self.table)
        return self.root.size(set())

    @property
    def decisions(self):  # -> list[Decision]
        return self.table.decisions

    def sample(self, seed: Optional[int] = None, rng: Optional[_random.Random] = None) -> Genome:
        """A random genome respecting conditionals and, if the space has any, its constraints (by rejection)."""
        rng = rng or _random.Random(seed)
        g = self.table.sample(rng)
        if not self.constrained:
            return g
        for _ in range(_MAX_REJECTIONS):
            if self.feasible(g):
                return g
            g = self.table.sample(rng)
        raise SpaceError(f"space {self.name!r}: no genome satisfying its constraints in {_MAX_REJECTIONS} samples")

    # -- constraints --------------------------------------------------------------------------------------
    @property
    def constrained(self) -> bool:
        """True if ``meta['constraints']`` holds require/forbid predicates (from a DSL file or an importer)."""
        return bool(self.meta.get("constraints"))

    def violations(self, genome: Genome) -> list[str]:
        """The constraints ``genome`` violates (evaluated by the safe expression evaluator of the DSL)."""
        if not self.constrained:
            return []
        from symnas.dsl.constraints import check

        return check(self, genome)

    def feasible(self, genome: Genome) -> bool:
        return not self.violations(genome)

    # -- genome <-> description ---------------------------------------------------------------------------
    def decode(self, genome: Sequence[Any]) -> Any:
        """The description (specs and values) that ``genome`` stands for."""
        if len(genome) != self.table.width:
            raise GenomeError(f"genome has {len(genome)} genes, the space needs {self.table.width}")
        return self.root.decode(genome)

    def encode(self, description: Any) -> Genome:
        """The canonical genome of a description built by hand (or decoded earlier)."""
        genes: dict[int, Any] = {}
        if not self.root.match(description, genes):
            raise SpaceError(f"the description does not fit space {self.name!r}: {_short(description)}")
        g = list(self.table.default_genome)
        for slot, v in genes.items():
            g[slot] = v
        return self.table.validate(g)

    def params(self, genome: Genome) -> dict[str, Any]:
        """``{decision name: value}`` of the active decisions, with choice indices turned into labels."""
        out: dict[str, Any] = {}
        active = self.table.active(genome)
        for d in self.table.decisions:
            if not active[d.index]:
                continue
            genes = genome[d.offset:d.offset + d.width]
            if d.kind == "choice":
                out[d.name] = self.choice_value(d.index, genes[0])
            elif d.kind in ("subset", "perm"):
                out[d.name] = [self.choice_value(d.index, i) for i in genes]
            else:
                out[d.name] = genes[0]
        return out

    def choice_value(self, index: int, option: int) -> Any:
        """The candidate value of option ``option`` of decision ``index`` (its label when it is a sub-space)."""
        node = self._nodes()[index]
        cands = getattr(node, "cands", None) or getattr(node, "items")
        c = cands[option]
        return c.value if not c.has_decisions else self.table.decisions[index].labels[option]

    def _nodes(self) -> dict[int, Any]:
        cache = getattr(self, "_node_cache", None)
        if cache is None:
            cache = {}
            stack = [self.root]
            while stack:
                n = stack.pop()
                d = getattr(n, "decision", None)
                if d is not None:
                    cache.setdefault(d.index, n)
                for attr in ("items", "args", "kwargs", "cands"):
                    stack.extend(getattr(n, attr, None) or [])
            self._node_cache = cache
        return cache

    # -- building -----------------------------------------------------------------------------------------
    @property
    def builder(self) -> Any:
        """The builder of a patched or traced space (``None`` for a space of specs)."""
        return self._builder

    def build(self, genome: Genome, seed: Optional[int] = None, device: Any = None) -> Any:
        """Decodes ``genome`` and builds it (fresh weights; reproducible with ``seed``)."""
        desc = self.decode(genome)
        if self._builder is not None:
            return self._builder(desc, seed=seed, device=device)
        return _build(desc, seed=seed, device=device)

    # -- JSON ---------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"format": "symnas.space/1", "name": self.name, "tree": _json_encode(self.tree), "meta": self.meta}

    def to_json(self) -> str:
        import json

        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d: dict) -> "Space":
        if d.get("format") != "symnas.space/1":
            raise SpaceError(f"not a symnas space (format {d.get('format')!r})")
        return cls(_json_decode(d["tree"]), d.get("name", "space"), meta=d.get("meta"))

    @classmethod
    def from_json(cls, text: str) -> "Space":
        import json

        return cls.from_dict(json.loads(text))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Space) and _json_encode(self.tree) == _json_encode(other.tree)

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __repr__(self) -> str:
        return f"Space({self.name!r}, {len(self.table)} decisions, size={self.size:g})"

    def describe(self) -> str:
        """A table of the decisions: path, kind, options or bounds, condition."""
        lines = []
        for d in self.table.decisions:
            if d.kind in ("choice", "subset", "perm"):
                opts = "{" + ", ".join(d.labels[:8]) + (", ..." if d.n > 8 else "") + "}"
                if d.kind == "subset":
                    opts = f"{d.k} of {opts}"
            else:
                opts = f"[{d.low:g}, {d.high:g}]" + (" log" if d.log else "") + (f" step {d.step:g}" if d.step and d.step != 1 else "")
            cond = ""
            if d.conditions:
                cond = "  if " + " or ".join(
                    f"{self.table.decisions[p].name} in {sorted(a)}" for p, a in d.conditions)
            lines.append(f"{d.name:<40} {d.kind:<7} {opts}{cond}")
        return "\n".join(lines)


def _forest_size(table: DecisionTable) -> float:
    """Size of a space whose decisions each have at most one parent condition (define-by-run spaces)."""
    children: dict[int, list] = {}
    roots = []
    for d in table.decisions:
        if len(d.conditions) > 1:
            raise SpaceError(f"{d.name}: size of a space with several conditions on one decision is not computed")
        if d.conditions:
            children.setdefault(d.conditions[0][0], []).append(d)
        else:
            roots.append(d)

    def count(d: Any) -> float:
        kids = children.get(d.index, [])
        if not kids:
            return d.count()
        if d.kind == "choice":
            values: list = list(range(d.n))
        elif d.kind == "int":
            values = list(range(int(d.low), int(d.high) + 1, int(d.step or 1)))
        else:
            raise SpaceError(f"{d.name}: conditions on a {d.kind} decision")
        total = 0.0
        for v in values:
            prod = 1.0
            for c in kids:
                prod *= count(c) if v in c.conditions[0][1] else 1
            total += prod
        return total

    out = 1.0
    for d in roots:
        out *= count(d)
    return int(out) if out != float("inf") else out


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) < 200 else text[:197] + "..."
