"""Shared helpers: the canonical text of literal values and of decision references, and the decision constructors'
hint conventions (``{"default": v}``, ``{"labels": [...]}``, bool hints).

Example::

    >>> literal([1, "a", (2.5,)])
    '[1, "a", (2.5,)]'
"""
from __future__ import annotations

import json
import math
from typing import Any

from symnas.dsl.parser import KEYWORDS
from symnas.symbolic.placeholders import Placeholder
from symnas.symbolic.spec import Spec

__all__ = ["literal", "is_ident", "is_sym", "CONSTRUCTORS", "RESERVED_CALLS", "collect_named", "DERIVE_PATH",
           "OLD_DERIVE_PATH"]

CONSTRUCTORS = ("choice", "ordinal", "bool", "int", "float", "subset", "permutation")
RESERVED_CALLS = frozenset(CONSTRUCTORS + ("repeat", "value"))


def is_ident(s: Any) -> bool:
    """True if ``s`` can be written as a bare name in a DSL file."""
    return isinstance(s, str) and s.isidentifier() and s.isascii() and s not in KEYWORDS


DERIVE_PATH = "symnas.dsl.interpreter.derive"
OLD_DERIVE_PATH = "symnas.dsl.runtime.derive"  # written by earlier versions; still read and built
_DERIVE_PATHS = (DERIVE_PATH, OLD_DERIVE_PATH)


def is_sym(v: Any) -> bool:
    """True if ``v`` is a derived value (a spec of :func:`symnas.dsl.interpreter.derive`)."""
    return isinstance(v, Spec) and isinstance(v.target, str) and v.target in _DERIVE_PATHS


def literal(v: Any) -> str:
    """The DSL text of a plain value (None, bool, int, float, str, list, tuple, dict of those)."""
    if v is None or isinstance(v, bool):
        return repr(v)
    if isinstance(v, int):
        return repr(v)
    if isinstance(v, float):
        if math.isfinite(v):
            return repr(v)
        return f'float("{v!r}")'
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(literal(x) for x in v) + "]"
    if isinstance(v, tuple):
        if len(v) == 1:
            return "(" + literal(v[0]) + ",)"
        return "(" + ", ".join(literal(x) for x in v) + ")"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{literal(str(k))}: {literal(x)}" for k, x in v.items()) + "}"
    if isinstance(v, Placeholder):
        raise TypeError("placeholder")
    raise TypeError(f"no literal for {type(v).__name__}")


def collect_named(tree: Any, named: dict, where: str) -> None:
    if isinstance(tree, Placeholder):
        if tree.name is not None:
            named.setdefault(tree.name, (tree, where))
        for c in getattr(tree, "candidates", ()) or getattr(tree, "items", ()):
            collect_named(c, named, where)
    elif isinstance(tree, Spec):
        for x in list(tree.args) + list(tree.kwargs.values()):
            collect_named(x, named, where)
    elif isinstance(tree, (list, tuple)):
        for x in tree:
            collect_named(x, named, where)
    elif isinstance(tree, dict):
        for x in tree.values():
            collect_named(x, named, where)
