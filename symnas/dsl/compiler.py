"""Compiles a parsed ``.sns`` file into a :class:`symnas.Space`: the same trees of specs, lists, dicts and
placeholders that the Python front end builds.

Semantics in short (see docs/dsl.md): ``x = choice(...)`` declares decision ``x``; ``let`` binds a helper that is
not part of a headless (HPO) space; names resolve lazily (forward references allowed, cycles are errors);
``build expr`` gives the tree, otherwise the tree is the dict of the non-``let`` bindings; arithmetic on decisions
becomes a derived value; ``require`` / ``forbid`` go to ``space.meta['constraints']``.

Example::

    space = compile_source(Source('k = choice(3, 5)\\nbuild torch.nn.Conv2d(3, 8, k)', 'a.sns'))
"""
from __future__ import annotations

import difflib
import os
from typing import Any, Optional, cast

import lark

from symnas.dsl import decls
from symnas.dsl.errors import DSLError, Source
from symnas.dsl.parser import parse, position
from symnas.dsl.runtime import (BUILTINS, DERIVE_PATH, LITERALS, EvalError, binop, compare, eval_literal, getitem,
                                string, unary)
from symnas.dsl.imports import MISSING as _MISSING
from symnas.dsl.values import RESERVED_CALLS, has_symbolic, is_ident, is_sym, literal, scalar_sym
from symnas.errors import SymnasError
from symnas.symbolic.placeholders import Placeholder
from symnas.space.space import Space
from symnas.symbolic.spec import Spec

__all__ = ["compile_source", "Module"]



class _Binding:
    __slots__ = ("name", "node", "let", "state", "value", "line", "col")

    def __init__(self, name: str, node: Any, let: bool, line: Optional[int], col: Optional[int]) -> None:
        self.name, self.node, self.let, self.line, self.col = name, node, let, line, col
        self.state, self.value = 0, None  # 0 new, 1 resolving, 2 done


class Module:
    """One compiled file: its bindings, tree, name, meta and constraints."""

    def __init__(self, src: Source, stack: tuple[str, ...] = (), named: Optional[dict] = None) -> None:
        self.src = src
        self.stack = stack
        self.bindings: dict[str, _Binding] = {}
        self.imports: dict[str, Any] = {}  # alias -> imports.Namespace
        self.named: dict[str, tuple[Placeholder, str]] = {} if named is None else named  # shared across imports
        self.name: Optional[str] = None
        self.meta: dict = {}
        self.constraints: list[dict] = []
        self.build_node: Any = None
        self.loop: dict[str, Any] = {}

    # ------------------------------------------------------------------------------------------ errors
    def err(self, node: Any, message: str, hint: str = "") -> DSLError:
        line, col = position(node) if node is not None else (None, None)
        return self.src.error(message, line, col, hint)

    # ------------------------------------------------------------------------------------------ statements
    def run(self) -> None:
        tree = parse(self.src)
        builds = []
        for st in tree.children:
            kind = st.data
            c = st.children
            if kind == "space_stmt":
                self.name = self.str_of(c[0])
            elif kind == "import_stmt":
                self.do_import(st, self.str_of(c[0]), str(c[1]))
            elif kind in ("let_stmt", "bind_stmt"):
                name = str(c[0])
                if name in self.bindings or name in self.imports:
                    first = self.bindings.get(name)
                    where = f" (first defined at line {first.line})" if first else ""
                    raise self.err(c[0], f"duplicate name {name!r}{where}", "each name is bound once per file")
                if name in RESERVED_CALLS or name in BUILTINS:
                    raise self.err(c[0], f"{name!r} is a built-in function and cannot be rebound",
                                   "choose another name")
                tok = cast(lark.Token, c[0])  # the bound NAME
                self.bindings[name] = _Binding(name, c[1], kind == "let_stmt", tok.line, tok.column)
            elif kind == "build_stmt":
                builds.append(st)
            elif kind in ("require_stmt", "forbid_stmt"):
                self.constraints.append({"kind": kind[:-5], "node": c[0]})
            elif kind == "meta_stmt":
                m = self.ev(c[0])
                if not isinstance(m, dict) or has_symbolic(m, deep=True):
                    raise self.err(st, "meta must be a dict of plain values", 'e.g. meta {"dataset": "cifar10"}')
                self.meta.update(m)
        if len(builds) > 1:
            raise self.err(builds[1], "more than one 'build' statement", "a space has one build expression")
        self.build_node = builds[0].children[0] if builds else None
        for b in self.bindings.values():
            self.resolve(b, b.node)

    def str_of(self, tok: Any) -> str:
        try:
            return string(str(tok))
        except EvalError as e:
            raise self.err(tok, e.message) from None

    def do_import(self, st: Any, path: str, alias: str) -> None:
        from symnas.dsl.imports import import_file

        import_file(self, st, path, alias)

    # ------------------------------------------------------------------------------------------ bindings
    def resolve(self, b: _Binding, at: Any) -> Any:
        if b.state == 2:
            return b.value
        if b.state == 1:
            raise self.err(at, f"reference cycle through {b.name!r}", "a name cannot depend on itself")
        b.state = 1
        node = b.node
        if node.data == "call" and node.children[0].data == "name" and \
                str(node.children[0].children[0]) in decls.CONSTRUCTORS and \
                str(node.children[0].children[0]) not in self.bindings:
            b.value = self.call(node, decision_name=b.name)
        else:
            b.value = self.ev(node)
        b.state = 2
        return b.value

    def lookup(self, name: str, node: Any) -> Any:
        if name in self.loop:
            return self.loop[name]
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
        known = list(self.loop) + list(self.bindings) + list(self.imports)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "bind it first (x = ...), or write a dotted import path"
        return self.err(node, f"unknown name {name!r}", hint)

    # ------------------------------------------------------------------------------------------ expressions
    def ev(self, t: Any) -> Any:
        try:
            return self._ev(t)
        except EvalError as e:
            raise self.err(e.node if e.node is not None else t, e.message, e.hint) from None
        except RecursionError:
            raise self.err(t, "expression nested too deeply") from None

    def _ev(self, t: Any) -> Any:
        d, c = t.data, t.children
        if d in LITERALS:
            return eval_literal(t, self.ev)
        if d == "name":
            v = self.lookup(str(c[0]), t)
            if v is _MISSING:
                raise self.unknown(t, str(c[0]))
            return v
        if d == "getattr":
            return self.attr(t)
        if d == "listcomp":
            return self.listcomp(t)
        if d == "call":
            return self.call(t)
        if d in ("binop", "pow"):
            a, b = self.ev(c[0]), self.ev(c[2])
            op = "**" if d == "pow" else str(c[1])
            if scalar_sym(a) or scalar_sym(b):
                return self.sym(t, [a, b], lambda x, y: f"{x} {op} {y}")
            return binop(op, a, b)
        if d == "unary":
            a = self.ev(c[1])
            if scalar_sym(a):
                return self.sym(t, [a], lambda x: f"{c[0]}{x}")
            return unary(str(c[0]), a)
        if d == "compare":
            vals = [self.ev(x) for x in c[::2]]
            ops = [" ".join(str(x) for x in o.children) for o in c[1::2]]
            if any(has_symbolic(v, deep=True) for v in vals):
                def fmt(*xs: str) -> str:
                    out = xs[0]
                    for o, x in zip(ops, xs[1:]):
                        out += f" {o} {x}"
                    return out
                return self.sym(t, vals, fmt)
            return all(compare(o, vals[i], vals[i + 1]) for i, o in enumerate(ops))
        if d in ("and_", "or_"):
            a, b = self.ev(c[0]), self.ev(c[1])
            if scalar_sym(a) or scalar_sym(b):
                word = d[:-1]
                return self.sym(t, [a, b], lambda x, y: f"{x} {word} {y}")
            return (a and b) if d == "and_" else (a or b)
        if d == "not_":
            a = self.ev(c[0])
            return self.sym(t, [a], lambda x: f"not {x}") if scalar_sym(a) else not a
        if d == "ifexp":
            a, cond, b = self.ev(c[0]), self.ev(c[1]), self.ev(c[2])
            if scalar_sym(cond):
                return self.sym(t, [a, cond, b], lambda x, y, z: f"{x} if {y} else {z}")
            return a if cond else b
        if d == "getitem":
            a, i = self.ev(c[0]), self.ev(c[1])
            if scalar_sym(a) or scalar_sym(i):
                return self.sym(t, [a, i], lambda x, y: f"{x}[{y}]")
            return getitem(a, i)
        raise self.err(t, f"unsupported syntax {d!r}")  # pragma: no cover

    def attr(self, t: Any) -> Any:
        parts = []
        node = t
        while node.data == "getattr":
            parts.append(str(node.children[1]))
            node = node.children[0]
        if node.data != "name":
            raise self.err(t, "attributes can only be read from imports", "write alias.name or a dotted path")
        root = str(node.children[0])
        parts.reverse()
        if root in self.imports and root not in self.loop:
            if len(parts) != 1:
                raise self.err(t, f"{root}.{'.'.join(parts)}: imports have one level of names")
            v = self.imports[root].get(parts[0])
            if v is _MISSING:
                raise self.err(t, f"{root!r} has no name {parts[0]!r}")
            return v
        if self.lookup(root, node) is not _MISSING:
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

    def listcomp(self, t: Any) -> Any:
        body, var, it, cond = t.children
        seq = self.ev(it)
        if has_symbolic(seq, deep=False) or not isinstance(seq, (list, tuple)):
            raise self.err(it, "a 'for' loop needs a list known when the file is loaded",
                           "to repeat a block a chosen number of times, use repeat(block, count_decision)")
        name = str(var)
        saved = self.loop.get(name, _MISSING)
        out = []
        try:
            for v in seq:
                self.loop[name] = v
                if cond is not None:
                    ok = self.ev(cond)
                    if has_symbolic(ok, deep=False):
                        raise self.err(cond, "a loop filter must be known when the file is loaded")
                    if not ok:
                        continue
                out.append(self.ev(body))
        finally:
            if saved is _MISSING:
                self.loop.pop(name, None)
            else:
                self.loop[name] = saved
        return out

    def call(self, t: Any, decision_name: Optional[str] = None) -> Any:
        fn, argnode = t.children
        pos: list = []
        kw: dict = {}
        for a in (argnode.children if argnode is not None else []):
            if a is None:
                continue
            if a.data == "stararg":
                if kw:
                    raise self.err(a, "positional argument after keyword arguments")
                seq = self.ev(a.children[1])
                if not isinstance(seq, (list, tuple)):
                    raise self.err(a, "type mismatch: '*' needs a list known when the file is loaded")
                pos.extend(seq)
            elif a.data == "kwarg":
                k = str(a.children[0])
                if k in kw:
                    raise self.err(a, f"argument {k!r} given twice")
                kw[k] = self.ev(a.children[1])
            else:
                if kw:
                    raise self.err(a, "positional argument after keyword arguments")
                pos.append(self.ev(a))
        if fn.data == "name":
            fname = str(fn.children[0])
            if self.lookup(fname, fn) is not _MISSING:
                raise self.err(fn, f"{fname!r} is a value, not a function")
            if fname in decls.CONSTRUCTORS or fname == "repeat":
                return decls.construct(self, t, fname, pos, kw, decision_name)
            if fname == "value":
                return self.value_ref(t, pos, kw)
            if fname in BUILTINS:
                if kw:
                    raise self.err(t, f"{fname}: keyword arguments are not supported")
                if any(has_symbolic(a, deep=True) for a in pos):
                    return self.sym(t, pos, lambda *xs: f"{fname}({', '.join(xs)})")
                try:
                    return BUILTINS[fname](*pos)
                except EvalError as e:
                    raise self.err(t, e.message, e.hint) from None
            from symnas.symbolic import spec as _spec

            if fname in _spec._REGISTRY:
                return Spec(fname, tuple(pos), kw)
            raise self.unknown(fn, fname)
        if fn.data == "getattr":
            target = self.attr(fn)
            from symnas.symbolic.jsonio import Ref

            if not isinstance(target, Ref):
                raise self.err(fn, "only builders named by import path can be called")
            if target.path == DERIVE_PATH:
                return Spec(DERIVE_PATH, tuple(pos), kw)
            return Spec(target.path, tuple(pos), kw)
        raise self.err(fn, "this expression cannot be called", "call a builder by its import path")

    def value_ref(self, t: Any, pos: list, kw: dict) -> Any:
        if kw or len(pos) != 1 or not isinstance(pos[0], str):
            raise self.err(t, 'value() takes one decision name, e.g. value("a:b")')
        hit = self.named.get(pos[0])
        if hit is None:
            raise self.err(t, f"unknown decision {pos[0]!r}", "value() names a decision declared earlier")
        return hit[0]

    # ------------------------------------------------------------------------------------------ derived values
    def sym(self, t: Any, operands: list, fmt: Any) -> Spec:
        vars_: dict[str, Any] = {}
        texts = [self.text(t, v, vars_) for v in operands]
        return Spec(DERIVE_PATH, (), {"expr": fmt(*texts), "vars": vars_})

    def text(self, t: Any, v: Any, vars_: dict) -> str:
        if isinstance(v, Placeholder):
            if v.name is None:
                raise self.err(t, "an unnamed decision cannot be used in an expression",
                               "bind it to a name first: x = choice(...), then use x")
            vars_[v.name] = v
            return v.name if is_ident(v.name) else f"value({literal(v.name)})"
        if is_sym(v):
            vs = v.kwargs.get("vars") or {}
            vars_.update(vs)
            return f"({v.kwargs['expr']})"
        if isinstance(v, (list, tuple)):
            inner = [self.text(t, x, vars_) for x in v]
            if isinstance(v, list):
                return "[" + ", ".join(inner) + "]"
            return "(" + inner[0] + ",)" if len(inner) == 1 else "(" + ", ".join(inner) + ")"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{literal(k)}: {self.text(t, x, vars_)}" for k, x in v.items()) + "}"
        try:
            return literal(v)
        except TypeError:
            raise self.err(t, f"type mismatch: a {type(v).__name__} cannot be used in an expression",
                           "expressions compute with numbers, strings, booleans, lists and decisions") from None

    # ------------------------------------------------------------------------------------------ results
    def tree(self) -> Any:
        if self.build_node is not None:
            return self.ev(self.build_node)
        return {n: self.resolve(b, b.node) for n, b in self.bindings.items() if not b.let}

    def compiled_constraints(self) -> list[dict]:
        out = []
        for c in self.constraints:
            if "node" not in c:
                out.append(c)
                continue
            v = self.ev(c["node"])
            vars_: dict[str, Any] = {}
            text = self.text(c["node"], v, vars_)
            if text.startswith("(") and text.endswith(")") and is_sym(v):
                text = v.kwargs["expr"]
            out.append({"kind": c["kind"], "text": text, "vars": vars_, "node": c["node"]})
        return out


def compile_source(src: Source, check_constraints: bool = True) -> Space:
    """Compiles DSL source text into a :class:`Space` (raises :class:`DSLError` on any problem)."""
    m = Module(src, (os.path.normpath(src.filename),) if not src.filename.startswith("<") else ())
    m.run()
    tree = m.tree()
    cons = m.compiled_constraints()
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
            raise m.err(c.get("node"), f"constraint names decision {missing[0]!r}, which the space does not use",
                        "constraints may only name decisions that appear in the build expression")
        kept.append({"kind": c["kind"], "expr": c["text"]})
    if kept:
        space.meta["constraints"] = list(space.meta.get("constraints") or []) + kept
    for b in m.bindings.values():
        v = b.value
        if m.build_node is not None and not b.let and isinstance(v, Placeholder) and v.name == b.name \
                and v.name not in names:
            raise src.error(f"decision {b.name!r} is declared but not used by build", b.line, b.col,
                            "use it in the build expression, or remove it")
    if space.meta.get("constraints") and check_constraints:
        from symnas.dsl.constraints import find_satisfying

        problem = find_satisfying(space)
        if problem:
            node = next((c.get("node") for c in cons if "node" in c), None)
            raise m.err(node, problem, "relax a require/forbid statement")
    return space
