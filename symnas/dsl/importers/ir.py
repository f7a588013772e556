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

__all__ = ["FormatError", "Param", "NO_DEFAULT", "to_space", "from_space", "unsupported"]

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


def _nest_target(ast: tuple, params: dict[str, Param]) -> Optional[tuple[str, list]]:
    """(parent, values) when a condition is ``parent == v`` or ``parent in [..]`` with a categorical parent."""
    if ast[0] in ("==", "in") and ast[1][0] == "name" and ast[1][1] in params:
        parent = params[ast[1][1]]
        if parent.kind not in ("cat", "ord"):
            return None
        vals = [ast[2][1]] if ast[0] == "==" and ast[2][0] == "lit" else (
            [a[1] for a in ast[2]] if ast[0] == "in" and all(a[0] == "lit" for a in ast[2]) else None)
        if vals is not None and all(v in parent.choices for v in vals):
            return parent.name, vals
    return None


def _base(name: str) -> str:
    return name[: -len(":__choice__")] if name.endswith(":__choice__") else name


def to_space(params: list[Param], conditions: dict[str, list[str]], forbiddens: list[str], name: str,
             fmt: str, unsupported_items: Optional[list] = None, where: str = "") -> Space:
    """Builds the space: nests simple conditions, keeps the rest in ``meta`` (see the module docstring)."""
    by_name = {p.name: p for p in params}
    where = where or fmt
    nest: dict[str, tuple[str, list]] = {}
    other: list[dict] = []
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
        target = _nest_target(asts[0], by_name) if len(asts) == 1 else None
        if target is not None:
            nest[child] = target
        else:
            expr = asts[0]
            for a in asts[1:]:
                expr = ("and", expr, a)
            other.append({"param": child, "expr": to_text(expr)})
    kids: dict[str, dict[Any, list[str]]] = {}
    for child, (parent, vals) in nest.items():
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

    def walk(tree: Any, path: str, cond: list[str]) -> None:
        if not isinstance(tree, dict):
            raise FormatError(f"{fmt}: cannot write {type(tree).__name__} at {path or 'the root'}: only dicts of "
                              "hyperparameters (and oneof over dicts with '_name') can be exported")
        for k, v in tree.items():
            if k == "_name":
                continue
            p = f"{path}.{k}" if path else str(k)
            if isinstance(v, OneOf) and v.candidates and all(isinstance(c, dict) and "_name" in c
                                                              for c in v.candidates):
                name = v.name or p
                params.append(Param(name, "ord" if v.ordered else "cat", tuple(c["_name"] for c in v.candidates),
                                    default=_default(v)))
                if cond:
                    conds[name] = list(cond)
                for c in v.candidates:
                    walk(c, f"{p}:{c['_name']}", cond + [f"{_q(name)} == {_lit(c['_name'])}"])
                continue
            params.append(_param(v, p, fmt))
            if cond:
                conds[params[-1].name] = list(cond)

    walk(space.tree, "", [])
    forb = [c["expr"] for c in space.meta.get("constraints", []) if c.get("kind") == "forbid"]
    if any(c.get("kind") != "forbid" for c in space.meta.get("constraints", [])):
        raise FormatError(f"{fmt}: 'require' constraints cannot be written; negate them into forbids first")
    for c in space.meta.get("conditions", []):
        conds.setdefault(c["param"], []).append(c["expr"])
    return params, conds, forb


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
