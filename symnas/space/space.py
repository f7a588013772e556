"""A search space: a tree with placeholders, compiled once into a decision table.

Example::

    space = sn.Space(Net(blocks=[Block(16, kernel=sn.oneof([3, 5, 7])) for _ in range(4)]))
    g = space.sample(seed=0)              # a genome: a tuple of numbers
    desc = space.decode(g)                # a description: specs and values, no weights
    assert space.encode(desc) == g
    model = space.build(g, seed=0)        # a plain nn.Module

Spaces made from a patched factory or a traced function (a ``builder``) hold their tree as
``built_by(builder=<recipe>, choices={name: placeholder})``, so a description is a self-contained record that
builds the same model in any process. A space may hold other spaces (``{"net": sn.patch(...), "lr":
sn.floatv(...)}``): their trees and conditions are taken over.
"""
from __future__ import annotations

import random as _random
from typing import Any, Callable, Optional, Sequence

from symnas.candidate.build import build as _build
from symnas.candidate.build import built_by
from symnas.symbolic.jsonio import decode as _json_decode
from symnas.symbolic.jsonio import encode as _json_encode
from symnas.errors import BuildError, DecisionError, GenomeError, SpaceError
from symnas.genome.compile import compile_tree
from symnas.genome.table import DecisionTable, Genome
from symnas.symbolic.spec import Builder, Spec, fmt_value
from symnas.symbolic.tree import parse_path

__all__ = ["Space", "set_constraint_checker"]

_MAX_REJECTIONS = 100_000
# The language of require/forbid predicates lives above this layer (the DSL): the facade installs its checker.
_CONSTRAINT_CHECKER: Optional[Callable[["Space", Genome], list[str]]] = None


def set_constraint_checker(check: Optional[Callable[["Space", Genome], list[str]]]) -> None:
    """Installs the function that evaluates ``meta['constraints']`` (``import symnas`` installs the DSL's)."""
    global _CONSTRAINT_CHECKER
    _CONSTRAINT_CHECKER = check


class Space:
    """A search space. ``tree`` holds specs, lists, dicts, values and placeholders; it never holds weights.

    Args:
      tree: the space (e.g. ``Net(...)`` of a ``@searchable`` class called with placeholders, or a dict of
        hyperparameter placeholders).
      name: a label for stores and reports.
      builder: optional callable ``(choices, seed=None, device=None) -> object`` that builds a candidate from
        ``{decision name: value}`` (define-by-run spaces and patched factories set it). It should carry a
        ``spec`` attribute, the recipe that makes it again from JSON (a :class:`~symnas.symbolic.spec.Spec`);
        ``tree`` is then the dict of named placeholders.
      conditions: ``{decision: [(parent decision, allowed values)]}`` beyond those the tree implies.
    """

    def __init__(self, tree: Any, name: str = "space", *, builder: Any = None, meta: Optional[dict] = None,
                 conditions: Optional[dict[str, list[tuple[str, frozenset]]]] = None) -> None:
        conditions = dict(conditions or {})
        tree = _inline(tree, conditions)
        if builder is not None:
            recipe = builder if isinstance(builder, Builder) else Builder(getattr(builder, "spec", builder), builder)
            tree = Spec(built_by, (), {"builder": recipe, "choices": tree})
        self.tree = tree
        self.name = name
        self.root, self.table = compile_tree(tree)
        self._builder = builder
        self.meta = dict(meta or {})
        self._extra_conditions = conditions
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

    def sample(self, seed: Optional[int] = None, rng: Optional[_random.Random] = None, *,
               max_tries: int = _MAX_REJECTIONS, accept: Optional[Callable[[Genome], bool]] = None) -> Genome:
        """A random genome respecting conditionals and, if the space has any, its constraints: the one rejection
        sampler (at most ``max_tries`` draws; ``accept`` replaces :meth:`feasible`, e.g. to bound its work)."""
        rng = rng or _random.Random(seed)
        g = self.table.sample(rng)
        if not self.constrained:
            return g
        ok = accept or self.feasible
        for _ in range(max_tries):
            if ok(g):
                return g
            g = self.table.sample(rng)
        raise SpaceError(f"space {self.name!r}: no genome satisfying its constraints in {max_tries} samples")

    # -- constraints --------------------------------------------------------------------------------------
    @property
    def constrained(self) -> bool:
        """True if ``meta['constraints']`` holds require/forbid predicates (from a DSL file or an importer)."""
        return bool(self.meta.get("constraints"))

    def violations(self, genome: Genome) -> list[str]:
        """The constraints ``genome`` violates (evaluated by the safe expression evaluator of the DSL)."""
        if not self.constrained:
            return []
        if _CONSTRAINT_CHECKER is None:
            raise SpaceError(f"space {self.name!r} has constraints but no constraint checker is installed "
                             "(import symnas to install the DSL's)")
        return _CONSTRAINT_CHECKER(self, genome)

    def feasible(self, genome: Genome) -> bool:
        return not self.violations(genome)

    # -- genome <-> description ---------------------------------------------------------------------------
    def decode(self, genome: Sequence[Any]) -> Any:
        """The description (specs and values) that ``genome`` stands for."""
        if len(genome) != self.table.width:
            raise GenomeError(f"genome has {len(genome)} genes, the space needs {self.table.width}")
        desc = self.root.decode(genome)
        if self._extra_conditions:  # only the active decisions are part of the candidate
            active = self.table.active(genome)
            for index, keys in self._conditioned_keys().items():
                if not active[index]:
                    desc = _without(desc, keys)
        return desc

    def encode(self, description: Any) -> Genome:
        """The canonical genome of a description built by hand (or decoded earlier).

        Inactive decisions may be left out (descriptions show only the active ones); for a patched or traced
        space, the plain ``{decision name: value}`` dict is accepted too. Errors name the first key that does not
        fit.
        """
        if isinstance(self.tree, Spec) and self.tree.target is built_by and isinstance(description, dict):
            description = Spec(built_by, (), {"builder": self.tree.kwargs["builder"], "choices": description})
        filled: dict[int, tuple] = {}
        if self._extra_conditions:
            defaults = self.root.decode(self.table.default_genome)
            for index, keys in self._conditioned_keys().items():
                if _missing(description, keys):
                    description = _with(description, keys, _at(defaults, keys))
                    filled[index] = keys
        genes: dict[int, Any] = {}
        if not self.root.match(description, genes):
            raise SpaceError(f"the description does not fit space {self.name!r}: "
                             f"{_misfit(self.root, description, self.table)}")
        g = list(self.table.default_genome)
        for slot, v in genes.items():
            g[slot] = v
        if filled:
            active = self.table.active(g)
            for index in filled:
                if active[index]:
                    raise SpaceError(f"the description does not fit space {self.name!r}: decision "
                                     f"{self.table.decisions[index].name!r} is active for these values but missing")
        return self.table.validate(g)

    def _conditioned_keys(self) -> dict[int, tuple]:
        """``{decision index: key path}`` of the decisions with conditions of their own (traced spaces)."""
        cache = getattr(self, "_cond_cache", None)
        if cache is None:
            cache = {}
            for name in self._extra_conditions:
                d = self.table[name]
                try:
                    cache[d.index] = tuple(parse_path(d.path))
                except DecisionError:  # inside a choice's candidate: not a key of the description
                    pass
            self._cond_cache = cache
        return cache

    def params(self, genome: Genome) -> dict[str, Any]:
        """``{decision name: value}`` of the active decisions, with choice indices turned into labels."""
        out: dict[str, Any] = {}
        active = self.table.active(genome)
        for d in self.table.decisions:
            if not active[d.index]:
                continue
            out[d.name] = d.ops.param(d, genome[d.offset:d.offset + d.width],
                                      lambda i, d=d: self.choice_value(d.index, i))
        return out

    def choice_value(self, index: int, option: int) -> Any:
        """The candidate value of option ``option`` of decision ``index`` (its label when it is a sub-space)."""
        memo = self.__dict__.setdefault("_choice_values", {})
        key = (index, option)
        if key not in memo:
            memo[key] = self._choice_value(index, option)
        return memo[key]

    def _choice_value(self, index: int, option: int) -> Any:
        node = self._nodes()[index]
        cands = getattr(node, "cands", None) or getattr(node, "items")
        c = cands[option]
        if type(c).__name__ == "DictNode" and "_name" in c.keys:  # a named alternative (foreign formats): its name
            named = c.items[c.keys.index("_name")]
            if not named.has_decisions:
                return named.value
        if not c.has_decisions and isinstance(c.value, dict) and "_name" in c.value:
            return c.value["_name"]
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
    def build(self, genome: Genome, seed: Optional[int] = None, device: Any = None) -> Any:
        """Decodes ``genome`` and builds it (fresh weights; reproducible with ``seed``)."""
        desc = self.decode(genome)
        if self._builder is None and isinstance(desc, dict) and ("factory" in self.meta or "function" in self.meta):
            raise BuildError(f"space {self.name!r} was written without the recipe of its "
                             f"{'factory' if 'factory' in self.meta else 'function'} "
                             f"{self.meta.get('factory') or self.meta.get('function')!r} (an older symnas): its "
                             "candidates cannot be built from JSON; make the space again with sn.patch or sn.trace")
        if self._builder is not None and isinstance(desc, Spec) and desc.target is built_by:
            return self._builder(desc.kwargs["choices"], seed=seed, device=device)
        return _build(desc, seed=seed, device=device)

    @property
    def builder(self) -> Any:
        """The live builder of a patched or traced space (``None`` for spaces of specs)."""
        return self._builder

    # -- JSON ---------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = {"format": "symnas.space/1", "name": self.name, "tree": _json_encode(self.tree), "meta": self.meta}
        if self._extra_conditions:
            d["conditions"] = {child: [[parent, _json_encode(sorted(allowed))] for parent, allowed in conds]
                               for child, conds in self._extra_conditions.items()}
        return d

    def to_json(self) -> str:
        import json

        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d: dict) -> "Space":
        if d.get("format") != "symnas.space/1":
            raise SpaceError(f"not a symnas space (format {d.get('format')!r})")
        conditions = {child: [(parent, frozenset(_json_decode(allowed))) for parent, allowed in conds]
                      for child, conds in (d.get("conditions") or {}).items()}
        return cls(_json_decode(d["tree"]), d.get("name", "space"), meta=d.get("meta"), conditions=conditions)

    @classmethod
    def from_json(cls, text: str) -> "Space":
        import json

        return cls.from_dict(json.loads(text))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Space) and _json_encode(self.tree) == _json_encode(other.tree)
                and self.to_dict().get("conditions") == other.to_dict().get("conditions"))

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __repr__(self) -> str:
        return f"Space({self.name!r}, {len(self.table)} decisions, size={self.size:g})"

    def describe(self) -> str:
        """A table of the decisions: path, kind, options or bounds, condition."""
        lines = []
        for d in self.table.decisions:
            opts = d.ops.describe(d)
            cond = ""
            if d.conditions:
                merged: dict[int, set] = {}
                for p, a in d.conditions:
                    merged.setdefault(p, set()).update(a)
                cond = "  if " + " or ".join(
                    f"{self.table.decisions[p].name} in {sorted(a)}" for p, a in merged.items())
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
        values = d.ops.values(d)
        if values is None:
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
    text = fmt_value(x)
    return text if len(text) < 200 else text[:197] + "..."


def _inline(tree: Any, conditions: dict) -> Any:
    """``tree`` with every :class:`Space` inside replaced by its tree (its conditions join ``conditions``)."""
    if isinstance(tree, Space):
        if tree.constrained:
            raise SpaceError(f"space {tree.name!r} has constraints: it cannot be placed inside another space "
                             "(write its constraints in the outer space instead)")
        for child, conds in tree._extra_conditions.items():
            conditions.setdefault(child, []).extend(conds)
        return tree.tree
    if isinstance(tree, list):
        return [_inline(v, conditions) for v in tree]
    if isinstance(tree, tuple):
        return tuple(_inline(v, conditions) for v in tree)
    if isinstance(tree, dict):
        return {k: _inline(v, conditions) for k, v in tree.items()}
    if isinstance(tree, Spec) and (any(isinstance(v, Space) for v in tree.kwargs.values())
                                   or any(isinstance(v, Space) for v in tree.args)):
        return Spec(tree.target, tuple(_inline(a, conditions) for a in tree.args),
                    {k: _inline(v, conditions) for k, v in tree.kwargs.items()})
    return tree


def _child(node: Any, key: Any) -> Any:
    return (node.kwargs[key] if isinstance(key, str) else node.args[key]) if isinstance(node, Spec) else node[key]


def _missing(tree: Any, keys: tuple) -> bool:
    """True if the last key of ``keys`` is absent from its (present) dict."""
    node = tree
    for k in keys[:-1]:
        try:
            node = _child(node, k)
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(node, dict) and keys[-1] not in node


def _at(tree: Any, keys: tuple) -> Any:
    for k in keys:
        tree = _child(tree, k)
    return tree


def _with(tree: Any, keys: tuple, value: Any) -> Any:
    """A copy of ``tree`` with ``value`` at ``keys`` (copies along the path only)."""
    if not keys:
        return value
    k, rest = keys[0], keys[1:]
    if isinstance(tree, Spec):
        if isinstance(k, str):
            return Spec(tree.target, tree.args, {**tree.kwargs, k: _with(tree.kwargs[k], rest, value)})
        args = list(tree.args)
        args[k] = _with(args[k], rest, value)
        return Spec(tree.target, tuple(args), tree.kwargs)
    if isinstance(tree, dict):
        return {**tree, k: _with(tree.get(k), rest, value)}
    seq = list(tree)
    seq[k] = _with(seq[k], rest, value)
    return tuple(seq) if isinstance(tree, tuple) else seq


def _without(tree: Any, keys: tuple) -> Any:
    """A copy of ``tree`` without the dict entry at ``keys``."""
    if len(keys) == 1:
        if isinstance(tree, dict):
            return {k: v for k, v in tree.items() if k != keys[0]}
        return tree
    k, rest = keys[0], keys[1:]
    try:
        child = _child(tree, k)
    except (KeyError, IndexError, TypeError):
        return tree
    return _with(tree, (k,), _without(child, rest))


def _misfit(node: Any, value: Any, table: DecisionTable, path: str = "") -> str:
    """Why ``value`` does not fit the compiled ``node``: the first key or decision that does not fit."""
    where = path or "the root"
    kind = type(node).__name__
    if kind == "DictNode":
        if not isinstance(value, dict):
            return f"{where}: expected a dict with keys {node.keys}, got {_short(value)}"
        for k in node.keys:
            if k not in value:
                return f"{_key(path, k)}: missing"
        for k in value:
            if k not in node.keys:
                return f"{_key(path, k)}: unknown key (the space has {', '.join(map(repr, node.keys))})"
        for k, n in zip(node.keys, node.items):
            if not n.match(value[k], {}):
                return _misfit(n, value[k], table, _key(path, k))
    elif kind == "SpecNode":
        want = Spec(node.target).path
        if not isinstance(value, Spec) or value.path != want:
            return f"{where}: expected {want.rsplit('.', 1)[-1]}(...), got {_short(value)}"
        for i, (n, v) in enumerate(zip(node.args, value.args)):
            if not n.match(v, {}):
                return _misfit(n, v, table, f"{path}[{i}]")
        if len(value.args) != len(node.args):
            return f"{where}: {len(value.args)} positional arguments, the space has {len(node.args)}"
        for k in node.keys:
            if k not in value.kwargs:
                return f"{_key(path, k)}: missing"
        for k in value.kwargs:
            if k not in node.keys:
                return f"{_key(path, k)}: unknown argument (the space has {', '.join(map(repr, node.keys))})"
        for k, n in zip(node.keys, node.kwargs):
            if not n.match(value.kwargs[k], {}):
                return _misfit(n, value.kwargs[k], table, _key(path, k))
    elif kind == "ListNode":
        if not isinstance(value, (list, tuple)) or len(value) != len(node.items):
            return f"{where}: expected a list of {len(node.items)}, got {_short(value)}"
        for i, (n, v) in enumerate(zip(node.items, value)):
            if not n.match(v, {}):
                return _misfit(n, v, table, f"{path}[{i}]")
    elif kind == "Const":
        return f"{where}: expected {_short(node.value)}, got {_short(value)}"
    elif hasattr(node, "decision"):
        d = node.decision
        cands = getattr(node, "cands", None)
        if d.kind == "choice" and cands and any(c.has_decisions for c in cands):
            # a choice among sub-spaces: the reason of the candidate that fits deepest
            reasons = [(i, _misfit(c, value, table, path)) for i, c in enumerate(cands) if not c.match(value, {})]
            if len(reasons) == len(cands):
                i, best = max(reasons, key=lambda r: len(r[1].split(": ", 1)[0]))
                if len(best.split(": ", 1)[0]) > len(where):
                    return f"{best} (in option {d.labels[i]} of decision {d.name!r})"
        if d.kind in ("int", "float"):
            return f"{where} (decision {d.name!r}): {_short(value)} is not a {d.kind} in [{d.low:g}, {d.high:g}]"
        return (f"{where} (decision {d.name!r}): {_short(value)} fits none of its options "
                f"{{{', '.join(d.labels[:8])}{', ...' if d.n > 8 else ''}}}")
    return f"{where}: the values of tied decisions disagree ({_short(value)})"


def _key(path: str, key: str) -> str:
    if not path:
        return key if key.isidentifier() else f"[{key!r}]"
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]"
