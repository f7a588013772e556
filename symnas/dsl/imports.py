"""``import "file" as alias`` in space files: other ``.sns`` files (compiled with their own bindings) and foreign
formats through ``symnas.dsl.importers.load(path)`` when that module is present.

Example (DSL)::

    import "common.sns" as common        # common.width is the binding `width` of common.sns
    import "search_space.json" as nni    # nni.lr is the entry `lr` of the imported space's dict
"""
from __future__ import annotations

import os
from typing import Any, Optional

from symnas.dsl.errors import Source
from symnas.dsl.values import collect_named
from symnas.errors import SymnasError
from symnas.space.space import Space

__all__ = ["Namespace", "import_file", "MISSING"]

MISSING = object()


class Namespace:
    """An imported file: ``alias.x`` reads its binding (DSL) or its dict entry (foreign formats)."""

    def __init__(self, alias: str, tree: Any, members: Optional[Any] = None) -> None:
        self.alias, self.tree, self.members = alias, tree, members

    def get(self, name: str) -> Any:
        if self.members is not None:
            return self.members(name)
        if isinstance(self.tree, dict) and name in self.tree:
            return self.tree[name]
        return MISSING


def import_file(m: Any, st: Any, path: str, alias: str) -> None:
    """Runs one import statement ``st`` of module ``m`` (a :class:`symnas.dsl.compiler.Module`)."""
    from symnas.dsl.compiler import Module

    if alias in m.imports or alias in m.bindings:
        raise m.err(st, f"duplicate name {alias!r}", "each import needs its own alias")
    base = os.path.dirname(m.src.filename) if not m.src.filename.startswith("<") else os.getcwd()
    full = os.path.normpath(os.path.join(base, path))
    if full in m.stack:
        raise m.err(st, f"import cycle: {' -> '.join(m.stack + (full,))}", "remove one of the imports")
    if full.endswith(".sns"):
        try:
            with open(full, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise m.err(st, f"cannot read {path!r}: {e.strerror}", "paths are relative to this file") from None
        sub = Module(Source(text, full), m.stack + (full,), m.named)
        sub.run()
        tree = sub.tree()
        m.constraints.extend({"kind": c["kind"], "text": c["text"], "vars": c["vars"], "imported": True}
                             for c in sub.compiled_constraints())

        def members(name: str, sub: Any = sub) -> Any:
            b = sub.bindings.get(name)
            return MISSING if b is None else sub.resolve(b, b.node)
        m.imports[alias] = Namespace(alias, tree, members)
        return
    try:
        from symnas.dsl import importers  # type: ignore[attr-defined]
        load = importers.load
    except (ImportError, AttributeError):
        raise m.err(st, f"cannot import {path!r}: foreign formats need symnas.dsl.importers, which is not "
                        "available", "import .sns files, or install the importers") from None
    try:
        space = load(full)
    except SymnasError as e:
        raise m.err(st, f"importing {path!r} failed: {e}") from None
    tree = space.tree if isinstance(space, Space) else space
    meta = getattr(space, "meta", {}) or {}
    for c in meta.get("constraints", []):
        m.constraints.append({"kind": c["kind"], "text": c["expr"], "vars": _names(c["expr"]), "imported": True})
    collect_named(tree, m.named, full)
    m.imports[alias] = Namespace(alias, tree)


def _names(expr: str) -> Optional[dict]:
    """The decision names a foreign constraint mentions (``{name: None}``), or None if they cannot be told."""
    try:
        from symnas.dsl.importers import expr as foreign  # type: ignore[attr-defined]

        return {n: None for n in foreign.names(foreign.parse(expr))}
    except (ImportError, AttributeError, SymnasError):
        return None
