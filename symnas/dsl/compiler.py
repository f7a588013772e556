"""Lowering a parsed ``.sns`` file to a :class:`symnas.Space`: the same trees of specs, lists, dicts and placeholders
that the Python front end builds.

Semantics in short (see docs/dsl.md): ``x = choice(...)`` declares decision ``x``; ``let`` binds a helper that is
not part of a headless (HPO) space; names resolve lazily (forward references allowed, cycles are errors);
``build expr`` gives the tree, otherwise the tree is the dict of the non-``let`` bindings; arithmetic on decisions
becomes a derived value; ``require`` / ``forbid`` go to ``space.meta['constraints']``.

:class:`Module` is the file's scope for the one evaluator (:mod:`symnas.dsl.interpreter`): it resolves names to
bindings, imports and decisions, calls decision constructors and builders, and reads import members.

Example::

    space = compile_source(Source('k = choice(3, 5)\\nbuild torch.nn.Conv2d(3, 8, k)', 'a.sns'))
"""
from __future__ import annotations

import difflib
import os
from typing import Any, Optional

from symnas.dsl import decls, limits
from symnas.dsl import nodes as N
from symnas.dsl.errors import DSLError, Source
from symnas.dsl.imports import MISSING as _MISSING
from symnas.dsl.interpreter import Budget, Evaluator, to_text
from symnas.dsl.ops import EvalError
from symnas.dsl.parser import parse
from symnas.dsl.semantic import check
from symnas.errors import SymnasError
from symnas.symbolic.placeholders import Placeholder
from symnas.space.space import Space
from symnas.symbolic.spec import Spec

__all__ = ["compile_source", "Module", "Load"]


class Load:
    """What all files of one load share: the step budget, the decisions named so far, the import count and the
    folders imports may read from."""

    def __init__(self, search_path: tuple[str, ...] = ()) -> None:
        self.budget = Budget(limits.MAX_STEPS)
        self.named: dict[str, tuple[Placeholder, str]] = {}
        self.imports = 0
        self.search_path = search_path


class _Binding:
    __slots__ = ("stmt", "state", "value")

    def __init__(self, stmt: N.Bind) -> None:
        self.stmt, self.state, self.value = stmt, 0, None  # state: 0 new, 1 resolving, 2 done


class Module:
    """One compiled file: its bindings, tree, name, meta and constraints."""

    def __init__(self, src: Source, stack: tuple[str, ...] = (), load: Optional[Load] = None) -> None:
        self.src = src
        self.stack = stack
        self.load = load or Load()
        self.named = self.load.named  # shared across imports
        self.bindings: dict[str, _Binding] = {}
        self.imports: dict[str, Any] = {}  # alias -> imports.Namespace
        self.name: Optional[str] = None
        self.meta: dict = {}
        self.constraints: list[dict] = []
        self.build_node: Optional[N.Expr] = None
        self.ev = Evaluator(self, self.load.budget, self.err)
        self._resolving = 0

    # ------------------------------------------------------------------------------------------ errors
    def err(self, node: Any, message: str, hint: str = "") -> DSLError:
        line, col = (node.line, node.col) if isinstance(node, N.Node) else (None, None)
        return self.src.error(message, line, col, hint)

    def symbolic(self, v: Any) -> bool:
        """True if ``v`` is or contains a decision or a derived value."""
        return self.ev.symbolic(v)

    # ------------------------------------------------------------------------------------------ statements
    def run(self) -> None:
        from symnas.dsl.imports import import_file

        d = check(parse(self.src), self.src)
        self.name = d.name
        for b in d.bindings.values():
            self.bindings[b.name] = _Binding(b)
        for st in d.imports:
            import_file(self, st, st.path, st.alias)
        for c in d.constraints:
            self.constraints.append({"kind": c.kind, "at": c.expr})
        for m in d.metas:
            v = self.ev.ev(m.value)
            if not isinstance(v, dict) or self.symbolic(v):
                raise self.err(m, "meta must be a dict of plain values", 'e.g. meta {"dataset": "cifar10"}')
            self.meta.update(v)
        self.build_node = d.build.value if d.build is not None else None
        for b in self.bindings.values():
            self.resolve(b, b.stmt.value)

    # ------------------------------------------------------------------------------------------ bindings
    def resolve(self, b: _Binding, at: Any) -> Any:
        if b.state == 2:
            return b.value
        if b.state == 1:
            raise self.err(at, f"reference cycle through {b.stmt.name!r}", "a name cannot depend on itself")
        if self._resolving >= limits.MAX_RESOLVE_DEPTH:
            raise self.err(at, f"definitions nested too deeply (more than {limits.MAX_RESOLVE_DEPTH} names each "
                               "needing the next)", "define names before they are used")
        b.state = 1
        self._resolving += 1
        try:
            node = b.stmt.value
            if isinstance(node, N.Call) and isinstance(node.func, N.Name) and node.func.id in decls.CONSTRUCTORS \
                    and node.func.id not in self.bindings:
                b.value = self._guard(node, lambda: self.ev.call(node, decision_name=b.stmt.name))
            else:
                b.value = self.ev.ev(node)
        finally:
            self._resolving -= 1
        b.state = 2
        return b.value

    def _guard(self, node: N.Expr, fn: Any) -> Any:
        try:
            return fn()
        except EvalError as e:
            raise self.err(e.node if e.node is not None else node, e.message, e.hint) from None

    # ------------------------------------------------------------------------------------------ scope protocol
    def lookup(self, name: str, node: Any) -> Any:
        b = self.bindings.get(name)
        if b is not None:
            return self.resolve(b, node)
        if name in self.imports:
            return self.imports[name].tree
        hit = self.named.get(name)  # a decision named with name= (inside a choice, a loop, an import)
        if hit is not None:
            return hit[0]
        return _MISSING

    def unknown(self, node: Any, name: str) -> DSLError:
        known = list(self.ev.loop) + list(self.bindings) + list(self.imports)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "bind it first (x = ...), or write a dotted import path"
        return self.err(node, f"unknown name {name!r}", hint)

    def value_ref(self, ev: Evaluator, t: N.Call, pos: list, kw: dict) -> Any:
        if kw or len(pos) != 1 or not isinstance(pos[0], str):
            raise self.err(t, 'value() takes one decision name, e.g. value("a:b")')
        hit = self.named.get(pos[0])
        if hit is None:
            raise self.err(t, f"unknown decision {pos[0]!r}", "value() names a decision declared earlier")
        return hit[0]

    def call(self, ev: Evaluator, t: N.Call, fname: str, pos: list, kw: dict,
             decision_name: Optional[str] = None) -> Any:
        if fname in decls.CONSTRUCTORS or fname == "repeat":
            return decls.construct(self, t, fname, pos, kw, decision_name)
        from symnas.symbolic.spec import is_registered

        if is_registered(fname):
            return Spec(fname, tuple(pos), kw)
        raise self.unknown(t.func, fname)

    def call_attr(self, ev: Evaluator, t: N.Call, pos: list, kw: dict) -> Any:
        from symnas.symbolic.jsonio import Ref

        target = self.attribute(ev, t.func)  # type: ignore[arg-type]
        if not isinstance(target, Ref):
            raise self.err(t.func, "only builders named by import path can be called")
        return Spec(target.path, tuple(pos), kw)

    def attribute(self, ev: Evaluator, t: N.Attribute) -> Any:
        parts = []
        node: N.Expr = t
        while isinstance(node, N.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, N.Name):  # pragma: no cover - the semantic pass rejects it
            raise self.err(t, "attributes can only be read from imports", "write alias.name or a dotted path")
        root = node.id
        parts.reverse()
        if root in self.imports and root not in ev.loop:
            if len(parts) != 1:
                raise self.err(t, f"{root}.{'.'.join(parts)}: imports have one level of names")
            v = self.imports[root].get(parts[0])
            if v is _MISSING:
                raise self.err(t, f"{root!r} has no name {parts[0]!r}")
            return v
        if root in ev.loop or self.lookup(root, node) is not _MISSING:
            raise self.err(t, f"{root!r} is a value, not an import; it has no attributes")
        from symnas.symbolic.jsonio import Ref

        return Ref(self.check_path(".".join([root] + parts), t))

    def check_path(self, path: str, t: Any) -> str:
        from symnas.symbolic.spec import is_allowed

        if is_allowed(path):
            return path
        raise self.err(t, f"{path!r} is neither registered nor on the import allow-list",
                       "register the builder with symnas.register(), or call symnas.allow_import(module) before "
                       "loading the file; files never import other code (docs/security.md)")

    def remember(self, t: N.Node, ph: Placeholder) -> Placeholder:
        """Checks that a named decision is declared once (or identically) and records it for ``value()``."""
        if ph.name is None:
            return ph
        hit = self.named.get(ph.name)
        if hit is not None and hit[0] != ph:
            raise self.err(t, f"duplicate decision name {ph.name!r} (first declared at {hit[1]})",
                           "decisions sharing a name are one decision and must be identical; rename one")
        if hit is None:
            self.named[ph.name] = (ph, f"{self.src.filename}:{t.line or '?'}")
        return ph

    # ------------------------------------------------------------------------------------------ results
    def tree(self) -> Any:
        if self.build_node is not None:
            return self.ev.ev(self.build_node)
        return {n: self.resolve(b, b.stmt.value) for n, b in self.bindings.items() if not b.stmt.let}

    def compiled_constraints(self) -> list[dict]:
        """``{"kind", "text", "vars", "node", "at"}`` per constraint: the residual expression over decisions (a
        node and its canonical text) and the statement's expression it came from."""
        out = []
        for c in self.constraints:
            if "at" not in c:
                out.append(c)
                continue
            at = c["at"]
            v = self.ev.ev(at)
            vars_: dict[str, Any] = {}
            node = self._guard(at, lambda: self.ev.expr_of(at, v, vars_))
            out.append({"kind": c["kind"], "text": to_text(node), "vars": vars_, "node": node, "at": at})
        return out


def compile_source(src: Source, check_constraints: bool = True, search_path: tuple[str, ...] = ()) -> Space:
    """Compiles DSL source text into a :class:`Space` (raises :class:`DSLError` on any problem).

    ``search_path``: folders besides the file's own that ``import`` may read from.
    """
    try:
        return _compile(src, check_constraints, search_path)
    except RecursionError:
        raise src.error("the space is nested too deeply", None, None,
                        "values built from one another form too deep a structure") from None


def _compile(src: Source, check_constraints: bool, search_path: tuple[str, ...]) -> Space:
    load = Load(tuple(search_path))
    m = Module(src, (os.path.realpath(src.filename),) if not src.filename.startswith("<") else (), load)
    m.run()
    tree = m.tree()
    cons = m.compiled_constraints()
    if m.ev.facts(tree)[1] > limits.MAX_TREE_NODES:
        at = m.build_node or max((b.stmt for b in m.bindings.values() if not b.stmt.let),
                                 key=lambda st: m.ev.facts(m.bindings[st.name].value)[1])
        raise m.err(at, f"the space is too large (more than {limits.MAX_TREE_NODES} values in its tree)",
                    "repeat fewer blocks, or split the space")
    name = m.name or (os.path.splitext(os.path.basename(src.filename))[0] if not src.filename.startswith("<")
                      else "space")
    try:
        space = Space(tree, name, meta=m.meta)
    except SymnasError as e:
        raise m.err(m.build_node, f"the space does not compile: {e}",
                    "decisions sharing a name must be identical") from None
    names = {d.name for d in space.decisions}
    kept = []
    for c in cons:
        missing = [v for v in (c["vars"] or {}) if v not in names]
        if missing and c.get("imported"):
            continue  # constrains decisions of an imported file that this space does not use
        if missing:
            raise m.err(c.get("at"), f"constraint names decision {missing[0]!r}, which the space does not use",
                        "constraints may only name decisions that appear in the build expression")
        kept.append(c)
    if kept:
        from symnas.dsl.constraints import attach

        attach(space, [(c["kind"], c["text"], c.get("node")) for c in kept])
    for b in m.bindings.values():
        v, st = b.value, b.stmt
        if m.build_node is not None and not st.let and isinstance(v, Placeholder) and v.name == st.name \
                and v.name not in names:
            raise src.error(f"decision {st.name!r} is declared but not used by build", st.line, st.col,
                            "use it in the build expression, or remove it")
    if space.meta.get("constraints") and check_constraints:
        from symnas.dsl.constraints import find_satisfying

        problem = find_satisfying(space)
        if problem:
            at = next((c.get("at") for c in cons if "at" in c), None)
            raise m.err(at, problem, "relax a require/forbid statement")
    return space

