"""Prints any :class:`symnas.Space` (from a file or from Python placeholders) as canonical DSL text such that
``loads(dumps(space)) == space``.

Canonical form: ``space "name"``, ``meta {...}``, one ``name = constructor(...)`` line per named decision (nested
ones first), then either the bindings of a headless (HPO) space or ``build <expr>``, then ``require``/``forbid``.

Example::

    text = dumps(sn.Space({"lr": sn.floatv(1e-4, 1e-1, "lr", scale="log")}, "hpo"))
    # space "hpo"
    # lr = float(0.0001, 0.1, log=True)
"""
from __future__ import annotations

from typing import Any

from symnas.symbolic.jsonio import Ref, encode
from symnas.dsl import nodes as N
from symnas.dsl.decls import hints_for
from symnas.dsl.ops import BUILTINS
from symnas.dsl.parser import parse_expr
from symnas.dsl.values import RESERVED_CALLS, is_ident, is_sym, literal
from symnas.errors import SymnasError
from symnas.symbolic.placeholders import FloatRange, IntRange, ManyOf, OneOf, Permutation, Placeholder
from symnas.space.space import Space
from symnas.symbolic.spec import Spec, is_symbolic, target_path

__all__ = ["dumps", "format_value"]


def _declarable(ph: Placeholder) -> bool:
    return ph.name is not None and is_ident(ph.name) and ph.name not in RESERVED_CALLS


class _Printer:
    def __init__(self) -> None:
        self.decls: dict[str, str] = {}  # name -> constructor text, in dependency order

    def value(self, v: Any) -> str:
        if isinstance(v, Placeholder):
            name = v.name
            if name is not None and _declarable(v):
                if name not in self.decls:
                    self.decls[name] = ""  # reserve (ties refer to the first)
                    self.decls[name] = self.ctor(v, named=True)
                return name
            return self.ctor(v, named=False)
        if is_sym(v) and self._sym_ok(v):
            for ph in v.kwargs["vars"].values():
                self.value(ph)
            return f"({v.kwargs['expr']})"
        if isinstance(v, Spec):
            parts = [self.value(a) for a in v.args]
            for k, x in v.kwargs.items():
                if not is_ident(k):
                    raise SymnasError(f"cannot print argument {k!r} of {v.path}: not a name")
                parts.append(f"{k}={self.value(x)}")
            return f"{self._path(v.path)}({', '.join(parts)})"
        if isinstance(v, Ref):
            return self._path(v.path)
        if isinstance(v, list):
            return "[" + ", ".join(self.value(x) for x in v) + "]"
        if isinstance(v, tuple):
            inner = [self.value(x) for x in v]
            return "(" + inner[0] + ",)" if len(inner) == 1 else "(" + ", ".join(inner) + ")"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{literal(str(k))}: {self.value(x)}" for k, x in v.items()) + "}"
        if isinstance(v, type) or callable(v) and hasattr(v, "__qualname__") and hasattr(v, "__module__"):
            return self._path(target_path(v))
        return literal(v)

    @staticmethod
    def _path(path: str) -> str:
        parts = path.split(".")
        if len(parts) < 2 or not all(is_ident(p) for p in parts):
            raise SymnasError(f"cannot print import path {path!r}: it must be a dotted path of names")
        return path

    @staticmethod
    def _sym_ok(v: Spec) -> bool:
        vars_ = v.kwargs.get("vars")
        if set(v.kwargs) != {"expr", "vars"} or v.args or not isinstance(vars_, dict):
            return False
        if not isinstance(v.kwargs["expr"], str):
            return False
        try:
            parse_expr(v.kwargs["expr"])
        except SymnasError:
            return False
        return all(isinstance(p, Placeholder) and p.name == k and _declarable(p) for k, p in vars_.items())

    def ctor(self, ph: Placeholder, named: bool) -> str:
        args: list[str] = []
        kw: list[str] = []
        expected: Any = None
        if isinstance(ph, OneOf):
            labels = ph.hints.get("labels") if isinstance(ph.hints, dict) else None
            is_bool = list(ph.candidates) == [False, True] and all(type(c) is bool for c in ph.candidates) \
                and not ph.ordered
            if is_bool and (ph.hints == "bool" or isinstance(ph.hints, dict) and set(ph.hints) == {"type", "default"}
                            and ph.hints.get("type") == "bool" and type(ph.hints.get("default")) is bool):
                fname, expected = "bool", ph.hints
                if isinstance(ph.hints, dict):
                    kw.append(f"default={ph.hints['default']!r}")
            else:
                fname = "ordinal" if ph.ordered else "choice"
                use_labels = (isinstance(labels, list) and len(labels) == len(ph.candidates)
                              and len(set(labels)) == len(labels)
                              and all(is_ident(x) and x not in ("default", "name", "hints") for x in labels))
                if use_labels:
                    assert isinstance(labels, list)
                    args = [f"{lab}={self.value(c)}" for lab, c in zip(labels, ph.candidates)]
                else:
                    args = [self.value(c) for c in ph.candidates]
                expected = self._std_hints(ph, kw, labels if use_labels else None)
        elif isinstance(ph, ManyOf):
            fname = "subset"
            args = [str(ph.k)] + [self.value(c) for c in ph.candidates]
            if not ph.distinct:
                kw.append("distinct=False")
            if ph.sorted:
                kw.append("sorted=True")
            expected = self._std_hints(ph, kw, None)
        elif isinstance(ph, IntRange):
            fname = "int"
            args = [str(ph.low), str(ph.high)]
            if ph.step != 1:
                kw.append(f"step={ph.step}")
            if ph.log:
                kw.append("log=True")
            expected = self._std_hints(ph, kw, None)
        elif isinstance(ph, FloatRange):
            fname = "float"
            args = [literal(ph.low), literal(ph.high)]
            if ph.scale == "log":
                kw.append("log=True")
            if ph.step is not None:
                kw.append(f"step={literal(ph.step)}")
            expected = self._std_hints(ph, kw, None)
        elif isinstance(ph, Permutation):
            fname = "permutation"
            args = [self.value(c) for c in ph.items]
            expected = self._std_hints(ph, kw, None)
        else:  # pragma: no cover
            raise SymnasError(f"cannot print placeholder {ph!r}")
        if _json(expected) != _json(ph.hints):
            kw = [k for k in kw if not k.startswith("default=")]
            kw.append(f"hints={self.value(ph.hints)}")
        if not named and ph.name is not None:
            kw.append(f"name={literal(ph.name)}")
        return f"{fname}({', '.join(args + kw)})"

    def _std_hints(self, ph: Placeholder, kw: list, labels: Any) -> Any:
        h = ph.hints
        has_default = isinstance(h, dict) and "default" in h and not is_symbolic(h["default"])
        if has_default:
            kw.append(f"default={self.value(h['default'])}")
        return hints_for(h["default"] if has_default else None, has_default, labels)


def _json(v: Any) -> Any:
    try:
        return encode(v)
    except SymnasError:
        return repr(v)


def format_value(tree: Any) -> str:
    """The DSL text of one tree value, with named decisions written inline (``name=``)."""
    p = _Printer()
    return p.value(tree)


def _headless(tree: Any, p: _Printer) -> bool:
    if not isinstance(tree, dict) or not tree:
        return False
    names: set = set()
    _names(tree, names)
    for k, v in tree.items():
        if not is_ident(k) or k in RESERVED_CALLS:
            return False
        if isinstance(v, Placeholder) and v.name != k or not (isinstance(v, Placeholder) and v.name == k) and \
                k in names:
            return False
    return True


def _names(v: Any, out: set) -> None:
    if isinstance(v, Placeholder):
        if v.name is not None:
            out.add(v.name)
        for c in getattr(v, "candidates", ()) or getattr(v, "items", ()):
            _names(c, out)
        if isinstance(v.hints, (dict, list)):
            _names(v.hints, out)
    elif isinstance(v, Spec):
        for x in list(v.args) + list(v.kwargs.values()):
            _names(x, out)
    elif isinstance(v, (list, tuple)):
        for x in v:
            _names(x, out)
    elif isinstance(v, dict):
        for x in v.values():
            _names(x, out)


def dumps(space: Space) -> str:
    """Canonical DSL text of ``space`` (a comment-free, deterministic form)."""
    p = _Printer()
    tree = space.tree
    out: list[str] = []
    if space.name:
        out.append(f"space {literal(space.name)}")
    meta = {k: v for k, v in space.meta.items() if k != "constraints"}
    cons = space.meta.get("constraints") or []
    printable, kept = [], []
    names = {d.name for d in space.decisions if is_ident(d.name)}
    for c in cons:
        if _printable_constraint(c, names):
            printable.append(c)
        else:
            kept.append(c)
    if kept:
        meta["constraints"] = kept
    if meta:
        out.append(f"meta {p.value(meta)}")
    body: list[str] = []
    if _headless(tree, p):
        entries = {}
        for k, v in tree.items():
            if isinstance(v, Placeholder) and v.name == k:
                p.decls[k] = p.decls.get(k) or ""
                p.decls[k] = p.ctor(v, named=True)
                entries[k] = None
            else:
                entries[k] = p.value(v)
        for name, text in p.decls.items():
            if name in entries and entries[name] is None:
                body.append(f"{name} = {text}")
            elif name in entries:
                raise SymnasError(f"cannot print: {name!r} is both a decision and an entry")
            else:
                body.append(f"let {name} = {text}")
        body.extend(f"{k} = {v}" for k, v in entries.items() if v is not None)
    else:
        expr = p.value(tree)
        body.extend(f"{name} = {text}" for name, text in p.decls.items())
        body.append(f"build {expr}")
    out.extend(body)
    out.extend(f"{c['kind']} {c['expr']}" for c in printable)
    return "\n".join(out) + "\n"


def _printable_constraint(c: Any, names: set) -> bool:
    """True if a constraint can be written as a require/forbid line that loads back (DSL syntax, known names)."""
    if not isinstance(c, dict) or set(c) != {"kind", "expr"} or c["kind"] not in ("require", "forbid") or \
            not isinstance(c["expr"], str):
        return False
    try:
        tree = parse_expr(c["expr"])
    except SymnasError:
        return False
    loop_vars = set()
    stack: list[N.Node] = [tree]
    found: list[N.Node] = []
    while stack:
        n = stack.pop()
        found.append(n)
        if isinstance(n, N.ListComp):
            loop_vars.add(n.var)
        stack.extend(N.children(n))
    called = {id(n.func) for n in found if isinstance(n, N.Call)}
    for n in found:
        if isinstance(n, N.Call):
            if not isinstance(n.func, N.Name) or n.func.id not in BUILTINS and n.func.id != "value":
                return False
        elif isinstance(n, N.Name) and n.id not in names and n.id not in loop_vars and id(n) not in called:
            return False
        elif isinstance(n, N.Attribute):
            return False
    return True
