"""The flat model every foreign format is read into and written from: parameters, conditions, forbiddens.

:func:`to_space` nests a parameter under a categorical parent when its only condition is ``parent == v`` or
``parent in [..]`` (ConfigSpace, PCS, auto-sklearn ``X:__choice__`` / ``X:v:param`` names); the parent becomes a
``oneof`` over dicts ``{"_name": v, child: ...}``. Conditions that do not fit nesting go to
``meta['conditions']`` (``{"param", "expr"}``), forbidden clauses to ``meta['constraints']`` (``{"kind": "forbid",
"expr"}``). :func:`from_space` walks such a space back into parameters and conditions for the exporters.

Example::

    >>> ps = [Param("kernel", "cat", choices=("rbf", "linear")), Param("gamma", "float", low=1e-3, high=1.0,
    ...       log=True)]
    >>> space = to_space(ps, {"gamma": ["kernel == 'rbf'"]}, [], "svm", "test")
    >>> [d.name for d in space.decisions]
    ['kernel', 'gamma']
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from typing import Any, Optional

from symnas.dsl.importers.expr import ExprError, parse, to_text
from symnas.errors import SymnasError
from symnas.symbolic.placeholders import FloatRange, IntRange, ManyOf, OneOf, Permutation, Placeholder
from symnas.space.space import Space

__all__ = ["FormatError", "Param", "NO_DEFAULT", "to_space", "from_space", "unsupported", "read_yaml", "MAX_NODES",
           "MAX_CHOICES"]

MAX_NODES = 100_000     # values in a foreign file after YAML alias expansion
MAX_CHOICES = 100_000   # options of one enumerated choice (e.g. a Hydra float range)

NO_DEFAULT: Any = type("NoDefault", (), {"__repr__": lambda s: "NO_DEFAULT"})()


class FormatError(SymnasError, ValueError):
    """A foreign file cannot be read or a space cannot be written in a format; the message names the place."""


@dataclass
class Param:
    """One hyperparameter. ``kind``: ``'cat'``, ``'ord'``, ``'int'``, ``'float'`` or ``'const'`` (``choices[0]``)."""

    name: str
    kind: str
    choices: tuple = ()
    low: Any = None
    high: Any = None
    log: bool = False
    step: Any = None
    default: Any = NO_DEFAULT
    extra: dict = field(default_factory=dict)


def number_or_text(s: str) -> Any:
    """``'3'`` → 3, ``'1e-5'`` → 1e-05, anything else the stripped text."""
    s = s.strip()
    for cast in (int, float):
        try:
            return cast(s)
        except ValueError:
            pass
    return s


def read_json(text: str, where: str) -> Any:
    """``json.loads(text)``; a syntax error becomes a :class:`FormatError` at ``where:line:col``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{where}:{exc.lineno}:{exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise FormatError(f"{where}: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise FormatError(f"{where}: {exc}") from None


def _expanded_size(value: Any, limit: int, where: str) -> None:
    """Raises FormatError when ``value`` has more than ``limit`` values counted with repetition (YAML aliases
    share objects: an alias bomb is small in memory and huge when walked), or nests deeper than 100 levels."""
    count = 0
    stack = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        count += 1
        if count > limit:
            raise FormatError(f"{where}: more than {limit} values after expanding YAML aliases (an alias bomb?)",)
        if depth > 100:
            raise FormatError(f"{where}: nested deeper than 100 levels")
        if isinstance(v, dict):
            stack.extend((x, depth + 1) for kv in v.items() for x in kv)
        elif isinstance(v, (list, tuple, set)):
            stack.extend((x, depth + 1) for x in v)


def read_yaml(text: str, where: str) -> Any:
    """``yaml.safe_load(text)`` bounded to :data:`MAX_NODES` values after alias expansion; errors name
    ``where:line:col``."""
    import yaml

    try:
        d = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        msg = str(getattr(exc, "problem", None) or exc).splitlines()[0]
        raise FormatError(f"{where}{loc}: {msg}") from None
    except RecursionError:
        raise FormatError(f"{where}: nested too deeply") from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a timestamp or number PyYAML cannot construct
        raise FormatError(f"{where}: {exc}") from None
    _expanded_size(d, MAX_NODES, where)
    return d


def unsupported(items: list, what: str, where: str) -> None:
    """Records an unsupported construct by name and warns (used where the rest of the file still imports)."""
    items.append(f"{where}: {what}")
    warnings.warn(f"{where}: {what}", stacklevel=3)


def placeholder(p: Param, where: str) -> Any:
    """The placeholder (or constant) for ``p``; ``hints={'default': v}`` when a default is known."""
    hints = None if p.default is NO_DEFAULT else {"default": p.default}
    try:
        if p.kind == "const":
            return p.choices[0]
        if p.kind in ("cat", "ord"):
            return OneOf(list(p.choices), p.name, ordered=p.kind == "ord", hints=hints)
        if p.kind == "int":
            return IntRange(int(p.low), int(p.high), p.name, step=int(p.step or 1), log=p.log, hints=hints)
        if p.kind == "float":
            return FloatRange(float(p.low), float(p.high), p.name, scale="log" if p.log else "linear",
                              step=p.step, hints=hints)
    except SymnasError as exc:
        raise FormatError(f"{where}: parameter {p.name!r}: {exc}") from None
    raise FormatError(f"{where}: parameter {p.name!r}: unknown kind {p.kind!r}")


def _truth(ast: tuple, parent: Param, v: Any, where: str) -> bool:
    """Whether a condition over the one parameter ``parent`` holds when it takes value ``v`` (ordinal parents
    compare by their order, as ConfigSpace does)."""
    op = ast[0]
    if op == "and":
        return _truth(ast[1], parent, v, where) and _truth(ast[2], parent, v, where)
    if op == "or":
        return _truth(ast[1], parent, v, where) or _truth(ast[2], parent, v, where)
    if op == "not":
        return not _truth(ast[1], parent, v, where)
    if op not in ("==", "!=", "<", ">", "<=", ">=", "in") or ast[1][0] != "name":
        raise FormatError(f"{where}: condition {to_text(ast)!r}: expected parameter OP value")
    lits = [a[1] for a in ast[2]] if op == "in" else [ast[2][1]]
    if op == "in":
        return any(_same(v, x) for x in lits)
    if op in ("==", "!="):
        return _same(v, lits[0]) == (op == "==")
    x = lits[0]
    if parent.kind == "ord":
        seq = list(parent.choices)
        idx = [i for i, c in enumerate(seq) if _same(c, x)]
        if not idx:
            raise FormatError(f"{where}: condition {to_text(ast)!r}: {x!r} is not a value of ordinal {parent.name!r}")
        a, b = seq.index(v), idx[0]
    else:
        a, b = v, x
    try:
        return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
    except TypeError:
        raise FormatError(f"{where}: condition {to_text(ast)!r}: cannot compare {v!r} with {x!r}") from None


def _same(a: Any, b: Any) -> bool:
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def _nest_target(ast: tuple, params: dict[str, Param], where: str = "") -> Optional[tuple[str, list]]:
    """(parent, values) when a condition names one categorical or ordinal parent (any comparison, ``in``,
    ``and``/``or``/``not`` of them): the child is active exactly for those parent values."""
    if ast[0] == "lit":
        return None
    found = _names(ast)
    if len(found) != 1:
        return None
    parent = params.get(next(iter(found)))
    if parent is None or parent.kind not in ("cat", "ord"):
        return None
    vals = [v for v in parent.choices if _truth(ast, parent, v, where)]
    return parent.name, vals


def _conj_atoms(ast: tuple) -> list[tuple]:
    return _conj_atoms(ast[1]) + _conj_atoms(ast[2]) if ast[0] == "and" else [ast]


def _nest_conjunction(ast: tuple, params: dict[str, Param], nest: dict[str, tuple[str, list]],
                      where: str) -> Optional[tuple[str, list]]:
    """For ``A op x and B op y`` with B nested (directly or further down) under values of A that all satisfy
    ``A op x``: (B, values of B satisfying its part). ConfigSpace's rule that a child is active only when its
    parents are makes the ancestor's part redundant there."""
    groups: dict[str, tuple] = {}
    for atom in _conj_atoms(ast):
        found = _names(atom)
        if len(found) != 1:
            return None
        n = next(iter(found))
        groups[n] = ("and", groups[n], atom) if n in groups else atom
    allowed = {}
    for n, part in groups.items():
        t = _nest_target(part, params, where)
        if t is None:
            return None
        allowed[n] = t[1]
    for q in groups:
        chain, cur, ok = {}, q, True
        hops = 0
        while cur in nest and hops <= len(params):
            parent, vals = nest[cur]
            chain.setdefault(parent, vals)
            cur, hops = parent, hops + 1
        for p_name in groups:
            if p_name == q:
                continue
            if p_name not in chain or not all(any(_same(v, a) for a in allowed[p_name]) for v in chain[p_name]):
                ok = False
                break
        if ok:
            return q, allowed[q]
    return None


def _disj_atoms(ast: tuple) -> list[tuple]:
    return _disj_atoms(ast[1]) + _disj_atoms(ast[2]) if ast[0] == "or" else [ast]


def _check_cycles(nest: dict[str, tuple[str, list]], where: str) -> None:
    for start in nest:
        seen, cur = {start}, start
        while cur in nest:
            cur = nest[cur][0]
            if cur in seen:
                raise FormatError(f"{where}: conditions form a cycle through {cur!r}")
            seen.add(cur)


def _base(name: str) -> str:
    return name[: -len(":__choice__")] if name.endswith(":__choice__") else name


def to_space(params: list[Param], conditions: dict[str, list[str]], forbiddens: list[str], name: str,
             fmt: str, unsupported_items: Optional[list] = None, where: str = "") -> Space:
    """Builds the space: nests simple conditions, keeps the rest in ``meta`` (see the module docstring)."""
    by_name = {p.name: p for p in params}
    where = where or fmt
    nest: dict[str, tuple[str, list]] = {}
    extra: dict[str, list[tuple[str, list]]] = {}
    other: list[dict] = []
    pending: list[tuple[str, tuple]] = []
    for child, conds in conditions.items():
        if child not in by_name:
            raise FormatError(f"{where}: condition on unknown parameter {child!r}")
        try:
            asts = [parse(c) for c in conds]
        except ExprError as exc:
            raise FormatError(f"{where}: condition of {child!r}: {exc}") from None
        for a in asts:
            for n in _names(a):
                if n not in by_name:
                    raise FormatError(f"{where}: condition of {child!r} names unknown parameter {n!r}")
                if n == child:
                    raise FormatError(f"{where}: the condition of {child!r} names {child!r} itself")
        expr = asts[0]
        for a in asts[1:]:
            expr = ("and", expr, a)
        target = _nest_target(expr, by_name, f"{where}: condition of {child!r}")
        if target is not None and not target[1]:
            raise FormatError(f"{where}: the condition of {child!r} ({to_text(expr)}) is never true")
        if target is not None:
            nest[child] = target
        else:
            pending.append((child, expr))
    while pending:  # conjunctions over a parent and its ancestors: nest under the deepest parent
        progress = False
        for item in list(pending):
            w = f"{where}: condition of {item[0]!r}"
            target = _nest_conjunction(item[1], by_name, nest, w)
            if target is None and item[1][0] == "or":  # a disjunction: the child sits under each disjunct's values
                targets = [_nest_target(d, by_name, w) or _nest_conjunction(d, by_name, nest, w)
                           for d in _disj_atoms(item[1])]
                if all(t is not None and t[1] for t in targets):
                    nest[item[0]] = targets[0]  # type: ignore[assignment]
                    extra[item[0]] = targets[1:]  # type: ignore[assignment]
                    pending.remove(item)
                    progress = True
                    continue
            if target is not None:
                if not target[1]:
                    raise FormatError(f"{where}: the condition of {item[0]!r} ({to_text(item[1])}) is never true")
                nest[item[0]] = target
                pending.remove(item)
                progress = True
        if not progress:
            break
    for child, expr in pending:
        other.append({"param": child, "expr": to_text(expr)})
        if unsupported_items is None:
            unsupported_items = []
        unsupported(unsupported_items, f"the condition {to_text(expr)!r} of {child!r} involves several or "
                    "numeric parameters: it is kept in meta['conditions'] and not applied when sampling",
                    f"{where}: {child!r}")
    _check_cycles(nest, where)
    for child, targets in extra.items():
        for parent, _ in targets:
            cur, hops = parent, 0
            while cur in nest and hops <= len(by_name):
                if cur == child:
                    break
                cur, hops = nest[cur][0], hops + 1
            if cur == child:
                raise FormatError(f"{where}: conditions form a cycle through {child!r}")
    kids: dict[str, dict[Any, list[str]]] = {}
    placements = [(c, t) for c, t in nest.items()] + [(c, t) for c, ts in extra.items() for t in ts]
    for child, (parent, vals) in placements:
        for v in vals:
            kids.setdefault(parent, {}).setdefault(v, []).append(child)

    def key(child: str, parent: Optional[str], v: Any) -> str:
        k = _base(child)
        prefix = f"{_base(parent)}:{v}:" if parent else ""
        return k[len(prefix):] if prefix and k.startswith(prefix) and len(k) > len(prefix) else k

    def node(p: Param) -> Any:
        if p.name not in kids:
            return placeholder(p, where)
        cands = []
        for v in p.choices:
            cand: dict[str, Any] = {"_name": v}
            for c in kids[p.name].get(v, []):
                cand[key(c, p.name, v)] = node(by_name[c])
            cands.append(cand)
        hints = None if p.default is NO_DEFAULT else {"default": p.default}
        return OneOf(cands, p.name, ordered=p.kind == "ord", hints=hints)

    tree = {key(p.name, None, None): node(p) for p in params if p.name not in nest}
    for f in forbiddens:
        try:
            ast = parse(f)
        except ExprError as exc:
            raise FormatError(f"{where}: forbidden clause: {exc}") from None
        bad = [n for n in _names(ast) if n not in by_name]
        if bad:
            raise FormatError(f"{where}: forbidden clause {f!r} names unknown parameter(s) {bad}")
    meta: dict[str, Any] = {"format": fmt,
                            "constraints": [{"kind": "forbid", "expr": to_text(parse(f))} for f in forbiddens],
                            "conditions": other, "unsupported": list(unsupported_items or [])}
    try:
        return Space(tree, name, meta=meta)
    except SymnasError as exc:
        raise FormatError(f"{where}: {exc}") from None


def _names(ast: tuple) -> set[str]:
    from symnas.dsl.importers.expr import names

    return names(ast)


def from_space(space: Space, fmt: str) -> tuple[list[Param], dict[str, list[str]], list[str]]:
    """Parameters, conditions (``{param: [expr]}``) and forbidden expressions of a flat/nested HPO space.

    Raises :class:`FormatError` naming the path of anything ``fmt`` cannot express (specs, lists, subsets).
    """
    params: list[Param] = []
    conds: dict[str, list[str]] = {}
    # name -> (outer conditions, parent, parent values): a child tied under several values of one parent is one
    # parameter with ``parent in [...]``
    under: dict[str, tuple[tuple, Optional[str], list]] = {}
    seen: dict[str, Param] = {}

    def add(param: Param, cond: list[tuple[str, Any]]) -> None:
        outer, last = (tuple(cond[:-1]), cond[-1]) if cond else ((), (None, None))
        if param.name in seen:
            prev = under[param.name]
            if seen[param.name] != param or prev[1] != last[0] or last[0] is None:
                raise FormatError(f"{fmt}: decision {param.name!r} appears in several places that differ (or under "
                                  "different parents); the format has one parameter per name")
            if not any(_same(last[1], x) for x in prev[2]):
                prev[2].append(last[1])
            return
        seen[param.name] = param
        params.append(param)
        under[param.name] = (outer, last[0], [last[1]] if last[0] is not None else [])

    def walk(tree: Any, path: str, cond: list[tuple[str, Any]], label: Any = None) -> None:
        if not isinstance(tree, dict):
            raise FormatError(f"{fmt}: cannot write {type(tree).__name__} at {path or 'the root'}: only dicts of "
                              "hyperparameters (and oneof over dicts with '_name') can be exported")
        for k, v in tree.items():
            if k == "_name" or label is not None and k == "name" and _same(v, label):
                continue  # the alternative's own name (DSL named choices keep it as 'name')
            p = f"{path}.{k}" if path else str(k)
            labels = _labels(v)
            if labels is not None:
                name = v.name or p
                add(Param(name, "ord" if v.ordered else "cat", tuple(labels), default=_default(v)), cond)
                for lab, c in zip(labels, v.candidates):
                    walk(c, f"{p}:{lab}", cond + [(name, lab)], lab)
                continue
            add(_param(v, p, fmt), cond)

    def text(outer: tuple, parent: Optional[str], vals: list) -> list[str]:
        # only the direct parent: a child is active only when its parent is (ConfigSpace's rule), so the
        # ancestors' conditions are implied
        out: list[str] = []
        if parent is not None:
            out.append(f"{_q(parent)} == {_lit(vals[0])}" if len(vals) == 1 else
                       f"{_q(parent)} in [{', '.join(_lit(x) for x in vals)}]")
        return out

    walk(space.tree, "", [])
    for name, (outer, parent, vals) in under.items():
        if parent is not None:
            conds[name] = text(outer, parent, vals)
    forb = [c["expr"] for c in space.meta.get("constraints", []) if c.get("kind") == "forbid"]
    if any(c.get("kind") != "forbid" for c in space.meta.get("constraints", [])):
        raise FormatError(f"{fmt}: 'require' constraints cannot be written; negate them into forbids first")
    for c in space.meta.get("conditions", []):
        conds.setdefault(c["param"], []).append(c["expr"])
    return params, conds, forb


def _labels(v: Any) -> Optional[list]:
    """The names of a choice among dicts: their ``_name``s, or the DSL's labels of a named choice."""
    if not isinstance(v, OneOf) or not v.candidates or not all(isinstance(c, dict) for c in v.candidates):
        return None
    if all("_name" in c for c in v.candidates):
        return [c["_name"] for c in v.candidates]
    labels = v.hints.get("labels") if isinstance(v.hints, dict) else None
    if isinstance(labels, (list, tuple)) and len(labels) == len(v.candidates):
        return list(labels)
    return None


def _q(name: str) -> str:
    return to_text(("name", name))


def _lit(v: Any) -> str:
    return to_text(("lit", v))


def _default(ph: Placeholder) -> Any:
    h = ph.hints
    return h["default"] if isinstance(h, dict) and "default" in h else NO_DEFAULT


def _param(v: Any, path: str, fmt: str) -> Param:
    if not isinstance(v, Placeholder):
        if isinstance(v, (dict, list, tuple)) or not isinstance(v, (str, int, float, bool, type(None))):
            raise FormatError(f"{fmt}: cannot write the value at {path} ({type(v).__name__})")
        return Param(path, "const", (v,))
    name = v.name or path
    if isinstance(v, OneOf):
        if any(isinstance(c, (Placeholder, dict, list, tuple)) for c in v.candidates):
            raise FormatError(f"{fmt}: decision {name!r}: candidates with nested structure cannot be written")
        return Param(name, "ord" if v.ordered else "cat", v.candidates, default=_default(v))
    if isinstance(v, IntRange):
        return Param(name, "int", low=v.low, high=v.high, log=v.log, step=v.step if v.step != 1 else None,
                     default=_default(v))
    if isinstance(v, FloatRange):
        return Param(name, "float", low=v.low, high=v.high, log=v.scale == "log", step=v.step, default=_default(v))
    kind = "subset (manyof)" if isinstance(v, ManyOf) else "permutation" if isinstance(v, Permutation) else "?"
    raise FormatError(f"{fmt}: decision {name!r}: a {kind} cannot be written in this format")
