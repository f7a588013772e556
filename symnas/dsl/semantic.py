"""The semantic pass over a parsed file: its declarations and the static rules that need no evaluation.

Checks, each a :class:`DSLError` at ``file:line:col``: a name bound twice (binding or import alias), a built-in
rebound, more than one ``build``, a positional argument after keyword arguments, an argument given twice, an
attribute read from something other than a name, a call of something that is not a name or a dotted path.

Example::

    decls = check(parse(src), src)
    decls.bindings["x"].value          # the expression bound to x
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from symnas.dsl import nodes as N
from symnas.dsl.errors import DSLError, Source
from symnas.dsl.ops import BUILTINS
from symnas.dsl.values import RESERVED_CALLS

__all__ = ["Declarations", "check"]


@dataclass
class Declarations:
    """What a file declares, in file order."""

    name: Optional[str] = None
    imports: list[N.Import] = field(default_factory=list)
    bindings: dict[str, N.Bind] = field(default_factory=dict)
    build: Optional[N.Build] = None
    constraints: list[N.Constraint] = field(default_factory=list)
    metas: list[N.Meta] = field(default_factory=list)


def _err(src: Source, node: N.Node, message: str, hint: str = "") -> DSLError:
    return src.error(message, node.line, node.col, hint)


def check(module: N.Module, src: Source) -> Declarations:
    """The declarations of ``module``; raises :class:`DSLError` on the first static problem."""
    d = Declarations()
    aliases: set[str] = set()
    for st in module.body:
        if isinstance(st, N.SpaceStmt):
            d.name = st.name
        elif isinstance(st, N.Import):
            if st.alias in aliases or st.alias in d.bindings:
                raise _err(src, st, f"duplicate name {st.alias!r}", "each import needs its own alias")
            aliases.add(st.alias)
            d.imports.append(st)
        elif isinstance(st, N.Bind):
            if st.name in d.bindings or st.name in aliases:
                first = d.bindings.get(st.name)
                where = f" (first defined at line {first.line})" if first else ""
                raise _err(src, st, f"duplicate name {st.name!r}{where}", "each name is bound once per file")
            if st.name in RESERVED_CALLS or st.name in BUILTINS:
                raise _err(src, st, f"{st.name!r} is a built-in function and cannot be rebound", "choose another name")
            d.bindings[st.name] = st
        elif isinstance(st, N.Build):
            if d.build is not None:
                raise _err(src, st, "more than one 'build' statement", "a space has one build expression")
            d.build = st
        elif isinstance(st, N.Constraint):
            d.constraints.append(st)
        elif isinstance(st, N.Meta):
            d.metas.append(st)
    _check_expressions(module, src)
    return d


def _check_expressions(module: N.Module, src: Source) -> None:
    stack: list[N.Node] = list(module.body)
    while stack:
        n = stack.pop()
        if isinstance(n, N.Call):
            seen_kw: set[str] = set()
            for a in n.args:
                if isinstance(a, N.Keyword):
                    if a.name in seen_kw:
                        raise _err(src, a, f"argument {a.name!r} given twice")
                    seen_kw.add(a.name)
                elif seen_kw:
                    raise _err(src, a, "positional argument after keyword arguments")
            if not isinstance(n.func, (N.Name, N.Attribute)):
                raise _err(src, n.func, "this expression cannot be called", "call a builder by its import path")
        elif isinstance(n, N.Attribute):
            base = n.value
            while isinstance(base, N.Attribute):
                base = base.value
            if not isinstance(base, N.Name):
                raise _err(src, n, "attributes can only be read from imports", "write alias.name or a dotted path")
        stack.extend(N.children(n))
