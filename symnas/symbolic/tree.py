"""Walking description trees by path: ``get``, ``rebind`` (returns a new tree), ``flatten``."""
from __future__ import annotations

import ast
import re
from typing import Any, Iterator, Mapping

from symnas.errors import DecisionError
from symnas.symbolic.spec import Spec, _signature

__all__ = ["parse_path", "get", "rebind", "items"]

_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(-?\d+)\]|\[('(?:[^'\\]|\\.)*')\]")


def parse_path(path: str) -> list[Any]:
    """``'stages[2].blocks[0].kernel'`` → ``['stages', 2, 'blocks', 0, 'kernel']``."""
    out: list[Any] = []
    pos = 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m:
            raise DecisionError(f"bad path {path!r} at character {pos + 1}")
        if m.group(1) is not None:
            out.append(m.group(1))
        elif m.group(2) is not None:
            out.append(int(m.group(2)))
        else:
            out.append(ast.literal_eval(m.group(3)))
        pos = m.end()
    return out


def _child(node: Any, key: Any, path: str) -> Any:
    try:
        if isinstance(node, Spec):
            return node.kwargs[key] if isinstance(key, str) else node.args[key]
        return node[key]
    except (KeyError, IndexError, TypeError):
        raise DecisionError(f"no value at {path!r} (failed at {key!r})") from None


def get(tree: Any, path: str) -> Any:
    """The value at ``path`` in a description tree."""
    node = tree
    for key in parse_path(path):
        node = _child(node, key, path)
    return node


def _default(node: Spec, key: str, path: str) -> Any:
    """The value of a keyword argument a spec leaves at its default (from the target's signature)."""
    if isinstance(node.target, str):  # read from JSON: the target is not imported here
        raise DecisionError(f"no value at {path!r}: {node.name} leaves {key!r} at its default, and its target "
                            f"{node.path!r} is not imported; give {key!r} in the description or build it first")
    sig = _signature(node.target)
    if sig is not None:
        p = sig.parameters.get(key)
        if p is not None and p.default is not p.empty:
            return p.default
        if p is None and any(q.kind == q.VAR_KEYWORD for q in sig.parameters.values()):
            return _UNSET
        names = ", ".join(n for n in sig.parameters)
        raise DecisionError(f"no value at {path!r}: {node.name} has no argument {key!r} (arguments: {names})")
    return _UNSET


_UNSET = object()


def _replace(node: Any, keys: list[Any], value: Any, path: str) -> Any:
    if not keys:
        return value
    key, rest = keys[0], keys[1:]
    if isinstance(node, Spec) and isinstance(key, str) and key not in node.kwargs:
        child = _default(node, key, path)  # an argument left at its default can be rebound too
        if child is _UNSET and rest:
            raise DecisionError(f"no value at {path!r} (failed at {key!r})")
        new = _replace(child, rest, value, path)
        return Spec(node.target, node.args, {**node.kwargs, key: new})
    if isinstance(node, dict) and not rest and key not in node:
        return {**node, key: value}  # a new entry (e.g. a decision that becomes active)
    new = _replace(_child(node, key, path), rest, value, path)
    if isinstance(node, Spec):
        if isinstance(key, str):
            return Spec(node.target, node.args, {**node.kwargs, key: new})
        args = list(node.args)
        args[key] = new
        return Spec(node.target, tuple(args), node.kwargs)
    if isinstance(node, dict):
        return {**node, key: new}
    seq = list(node)
    seq[key] = new
    return tuple(seq) if isinstance(node, tuple) else seq


def rebind(tree: Any, updates: Mapping[str, Any]) -> Any:
    """A new tree with the values at ``updates``' paths replaced; ``tree`` itself is unchanged."""
    for path, value in updates.items():
        tree = _replace(tree, parse_path(path), value, path)
    return tree


def items(tree: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Yields ``(path, leaf)`` for every leaf value of a description tree."""
    if isinstance(tree, Spec):
        for i, a in enumerate(tree.args):
            yield from items(a, f"{path}[{i}]")
        for k, v in tree.kwargs.items():
            yield from items(v, f"{path}.{k}" if path else k)
    elif isinstance(tree, (list, tuple)):
        for i, v in enumerate(tree):
            yield from items(v, f"{path}[{i}]")
    elif isinstance(tree, dict):
        for k, v in tree.items():
            yield from items(v, f"{path}.{k}" if path else k)
    else:
        yield path, tree
