"""Compiles a space tree (specs, lists, dicts, placeholders) into a decision table and template nodes.

Paths follow the tree: keyword arguments and dict keys with ``.``, list items with ``[i]``, and the decisions inside a
choice's candidate ``i`` with ``:i`` (``block:1.kernel`` is the kernel of candidate 1 of ``block``). A placeholder
with a ``name`` is one decision wherever it appears (tied decisions). Each placeholder is compiled by its decision
kind (:meth:`symnas.genome.kinds.Kind.compile`), which adds its decision with :meth:`_Compiler.new_decision` and
compiles its candidates with :meth:`_Compiler.walk`.
"""
from __future__ import annotations

from typing import Any, Optional

from symnas.errors import SpaceError
from symnas.genome.table import Decision, DecisionTable
from symnas.genome.kinds import kind_of, label_of
from symnas.genome.template import Const, DictNode, ListNode, Node, SpecNode
from symnas.symbolic.placeholders import Placeholder
from symnas.symbolic.spec import Spec

__all__ = ["compile_tree", "label_of"]

_SCALARS = (type(None), bool, int, float, str, bytes)


def _join(path: str, key: str) -> str:
    if not path:
        return key
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]"


class _Compiler:
    def __init__(self) -> None:
        self.decisions: list[Decision] = []
        self.offset = 0
        self.named: dict[str, tuple[Placeholder, Node]] = {}
        self.paths: set[str] = set()

    def new_decision(self, ph: Placeholder, path: str, cond: Optional[tuple[int, frozenset]], **kw: Any) -> Decision:
        path = path or "value"
        name = ph.name or path
        if name in self.paths or (ph.name is None and path in self.named):
            raise SpaceError(f"{path}: duplicate decision name {name!r}")
        self.paths.add(name)
        d = Decision(index=len(self.decisions), path=path, name=name, offset=self.offset, hints=ph.hints, **kw)
        if cond is not None:
            d.conditions.append(cond)
        self.decisions.append(d)
        self.offset += d.width
        return d

    def walk(self, x: Any, path: str, cond: Optional[tuple[int, frozenset]]) -> Node:
        if isinstance(x, Placeholder):
            return self.placeholder(x, path, cond)
        if isinstance(x, Spec):
            args = [self.walk(a, f"{path}[{i}]", cond) for i, a in enumerate(x.args)]
            keys = list(x.kwargs)
            kwargs = [self.walk(x.kwargs[k], _join(path, k), cond) for k in keys]
            node: Node = SpecNode(x.target, args, keys, kwargs, path)
            if not any(n.has_decisions for n in args + kwargs):
                return Const(node.decode(()), path)
            return node
        if isinstance(x, (list, tuple)):
            items = [self.walk(v, f"{path}[{i}]", cond) for i, v in enumerate(x)]
            node = ListNode(items, isinstance(x, tuple), path)
            return node if any(n.has_decisions for n in items) else Const(node.decode(()), path)
        if isinstance(x, dict):
            keys = list(x)
            for k in keys:
                if not isinstance(k, str):
                    raise SpaceError(f"{path or 'space'}: dict keys must be strings, got {k!r}")
            items = [self.walk(x[k], _join(path, k), cond) for k in keys]
            node = DictNode(keys, items, path)
            return node if any(n.has_decisions for n in items) else Const(node.decode(()), path)
        if _is_module(x):
            cls = type(x)
            how = (f"symnas.nn.{cls.__name__}(...)" if cls.__module__.startswith("torch.nn")
                   else f"{cls.__name__}.spec(...) (decorate the class with @symnas.searchable)")
            raise SpaceError(
                f"{path or 'space'}: a built nn.Module ({cls.__name__}) cannot be placed in a space: its weights "
                f"would be shared by every candidate. Describe it instead: {how}"
            )
        return Const(x, path)

    def placeholder(self, ph: Placeholder, path: str, cond: Optional[tuple[int, frozenset]]) -> Node:
        if ph.name is not None and ph.name in self.named:
            first, node = self.named[ph.name]
            if first != ph:
                raise SpaceError(f"{path}: decision name {ph.name!r} is already used by a different decision "
                                 f"({first!r}); tied decisions must be identical")
            d: Decision = node.decision  # type: ignore[attr-defined]
            if cond is None:
                d.conditions.clear()
            elif d.conditions:
                d.conditions.append(cond)
            return node
        node = kind_of(ph).compile(self, ph, path, cond)
        if ph.name is not None:
            self.named[ph.name] = (ph, node)
        return node


def _is_module(x: Any) -> bool:
    mod = type(x).__module__
    if not mod.startswith("torch") and "Module" not in {c.__name__ for c in type(x).__mro__}:
        return False
    try:
        import torch.nn as tnn
    except ImportError:  # pragma: no cover
        return False
    return isinstance(x, tnn.Module)


def compile_tree(tree: Any) -> tuple[Node, DecisionTable]:
    """Compiles ``tree`` into its root template node and decision table."""
    c = _Compiler()
    root = c.walk(tree, "", None)
    return root, DecisionTable(c.decisions)
