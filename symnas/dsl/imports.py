"""``import "file" as alias`` in space files: other ``.sns`` files (compiled with their own bindings) and foreign
formats through ``symnas.dsl.importers``.

An import reads only a regular file with a space extension (:data:`limits.IMPORT_EXTENSIONS`: ``.sns`` and the
foreign formats' ``.json``, ``.pcs``, ``.yaml``, ``.yml``, ``.hydra``, ``.overrides``) that lies, after symbolic
links are resolved, under the importing file's folder or a folder of the explicit search path, and that is at most
:data:`limits.MAX_FILE_BYTES` long and valid UTF-8. A file of a string source (``loads``) imports from the current
folder. At most :data:`limits.MAX_IMPORTS` files are imported by one load.

Example (DSL)::

    import "common.sns" as common        # common.width is the binding `width` of common.sns
    import "search_space.json" as nni    # nni.lr is the entry `lr` of the imported space's dict
"""
from __future__ import annotations

import os
from typing import Any, Optional

from symnas.dsl import limits
from symnas.dsl.errors import DSLError, Source
from symnas.dsl.interpreter import MISSING
from symnas.dsl.values import collect_named
from symnas.errors import SymnasError
from symnas.space.space import Space

__all__ = ["Namespace", "import_file", "MISSING", "read_text"]



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


def read_text(path: str, what: str = "space file") -> str:
    """The text of a file, at most :data:`limits.MAX_FILE_BYTES` long and valid UTF-8; else a :class:`DSLError`
    naming the file (and, for bad UTF-8, the line and column of the first bad byte)."""
    if "\0" in path:
        raise DSLError(f"bad path {path[:80]!r}: it contains a NUL character", "<path>")
    try:
        with open(path, "rb") as f:
            data = f.read(limits.MAX_FILE_BYTES + 1)
    except OSError as e:
        raise DSLError(f"cannot read {what} {path!r}: {e.strerror or e}", path) from None
    if len(data) > limits.MAX_FILE_BYTES:
        raise DSLError(f"{what} too large (more than {limits.MAX_FILE_BYTES} bytes)", path,
                       hint="split the space into files joined by import")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        head = data[:e.start]
        line = head.count(b"\n") + 1
        col = e.start - (head.rfind(b"\n") + 1) + 1
        raise DSLError(f"not UTF-8 text (byte 0x{data[e.start]:02x})", path, line, col,
                       hint="save the file as UTF-8") from None


def _roots(m: Any) -> list[str]:
    base = os.path.dirname(m.src.filename) if not m.src.filename.startswith("<") else os.getcwd()
    return [os.path.realpath(base or ".")] + [os.path.realpath(p) for p in m.load.search_path]


def _locate(m: Any, st: Any, path: str) -> str:
    """The real path an import statement may read, or a DSLError saying why not."""
    if "\0" in path:
        raise m.err(st, "import path contains a NUL character")
    ext = os.path.splitext(path)[1].lower()
    if ext not in limits.IMPORT_EXTENSIONS:
        raise m.err(st, f"cannot import {path!r}: not a space file", "imports read files ending in "
                    + ", ".join(limits.IMPORT_EXTENSIONS))
    roots = _roots(m)
    for root in roots:
        full = os.path.realpath(os.path.join(root, path))
        if os.path.commonpath([full, root]) != root:
            continue
        if os.path.exists(full):
            if not os.path.isfile(full):
                raise m.err(st, f"cannot import {path!r}: not a regular file")
            return full
    if os.path.isabs(path) or any(os.path.commonpath([os.path.realpath(os.path.join(r, path)), r]) != r
                                  for r in roots[:1]):
        raise m.err(st, f"cannot import {path!r}: it lies outside the importing file's folder",
                    "imports read files under the importing file's folder (or a folder given as search path)")
    raise m.err(st, f"cannot read {path!r}: no such file", "paths are relative to this file")


def import_file(m: Any, st: Any, path: str, alias: str) -> None:
    """Runs one import statement ``st`` of module ``m`` (a :class:`symnas.dsl.compiler.Module`)."""
    from symnas.dsl.compiler import Module

    full = _locate(m, st, path)
    if full in m.stack:
        raise m.err(st, f"import cycle: {' -> '.join(m.stack + (full,))}", "remove one of the imports")
    m.load.imports += 1
    if m.load.imports > limits.MAX_IMPORTS:
        raise m.err(st, f"too many imports (more than {limits.MAX_IMPORTS} files in one load)")
    try:
        text = read_text(full, "imported file")
    except DSLError as e:
        raise m.err(st, f"cannot import {path!r}: {e.message}", e.hint) from None
    if full.endswith(".sns"):
        sub = Module(Source(text, full), m.stack + (full,), m.load)
        sub.run()
        tree = sub.tree()
        m.constraints.extend({"kind": c["kind"], "text": c["text"], "vars": c["vars"], "node": c["node"],
                              "imported": True} for c in sub.compiled_constraints())

        def members(name: str, sub: Any = sub) -> Any:
            b = sub.bindings.get(name)
            return MISSING if b is None else sub.resolve(b, b.stmt.value)
        m.imports[alias] = Namespace(alias, tree, members)
        return
    from symnas.dsl import importers
    from symnas.dsl.constraints import constraint_node

    try:
        space = importers.loads(text, importers.detect(text, full), where=os.path.basename(full))
    except SymnasError as e:
        raise m.err(st, f"importing {path!r} failed: {e}") from None
    tree = space.tree if isinstance(space, Space) else space
    meta = getattr(space, "meta", {}) or {}
    for c in meta.get("constraints", []):
        try:
            node, names = constraint_node(c["expr"])
        except SymnasError as e:
            raise m.err(st, f"importing {path!r} failed: {e}") from None
        m.constraints.append({"kind": c["kind"], "text": c["expr"], "vars": {n: None for n in names},
                              "node": node, "imported": True})
    collect_named(tree, m.named, full)
    m.imports[alias] = Namespace(alias, tree)
