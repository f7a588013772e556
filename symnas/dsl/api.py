"""The public functions of :mod:`symnas.dsl` (used by the ``symnas`` command line too).

Example::

    space = load("nasbench201")                 # a ready space, or a path to a .sns file
    print(inspect(space))
    text = dumps(space)
    assert loads(text) == space
"""
from __future__ import annotations

import os
import random
from importlib import resources
from typing import Any

from symnas.dsl.compiler import compile_source
from symnas.dsl.errors import DSLError, Source
from symnas.dsl.printer import dumps as _dumps
from symnas.errors import SymnasError
from symnas.space.space import Space

__all__ = ["load", "loads", "dumps", "inspect", "builtin_spaces", "convert"]


def loads(text: str, filename: str = "<string>") -> Space:
    """Compiles DSL ``text`` into a :class:`Space`; every problem raises :class:`DSLError` (``file:line:col``)."""
    if not isinstance(text, str):
        raise DSLError(f"expected DSL text (str), got {type(text).__name__}", filename)
    return compile_source(Source(text, filename))


def builtin_spaces() -> list[str]:
    """Names of the ready spaces shipped in ``symnas.spaces`` (``nasbench201``, ``hpo``, ...)."""
    root = resources.files("symnas.spaces")
    return sorted(p.name[:-4] for p in root.iterdir() if p.name.endswith(".sns"))


def load(path_or_name: str) -> Space:
    """Loads a ``.sns`` file by path, or a ready space by name (see :func:`builtin_spaces`)."""
    p = os.fspath(path_or_name)
    if os.path.isfile(p):
        if not p.endswith(".sns"):
            return _foreign(p)
        with open(p, encoding="utf-8") as f:
            return loads(f.read(), p)
    if p in builtin_spaces():
        res = resources.files("symnas.spaces").joinpath(p + ".sns")
        with resources.as_file(res) as real:
            return loads(real.read_text(encoding="utf-8"), str(real))
    raise DSLError(f"no such space file or ready space: {p!r}", p,
                   hint="ready spaces: " + ", ".join(builtin_spaces()))


def _importers() -> Any:
    try:
        from symnas.dsl import importers  # type: ignore[attr-defined]
    except ImportError:
        return None
    return importers


def _foreign(path: str) -> Space:
    imp = _importers()
    if imp is None or not hasattr(imp, "load"):
        raise DSLError(f"{path!r} is not a .sns file and the foreign-format importers are not available", path)
    space = imp.load(path)
    if not isinstance(space, Space):
        raise DSLError(f"the importer for {path!r} returned {type(space).__name__}, not a Space", path)
    return space


def dumps(space: Space) -> str:
    """The canonical DSL text of ``space``; ``loads(dumps(space)) == space``."""
    if not isinstance(space, Space):
        raise DSLError(f"dumps needs a Space, got {type(space).__name__}")
    return _dumps(space)


def inspect(space: Space, seed: int = 0) -> str:
    """A readable report: decisions (kind, options or bounds, conditions), size, constraints and one sample."""
    from symnas.symbolic.jsonio import to_json
    from symnas.dsl.constraints import check, constraints_of, sample

    size = space.size
    try:
        shown = f"{size:g}"
    except OverflowError:  # an exact int beyond float range (hundreds of decisions)
        shown = f"~1e{len(str(size)) - 1}"
    lines = [f"space {space.name!r}: {len(space.decisions)} decisions, size {shown}"
             + (" (before constraints)" if constraints_of(space) else "")]
    lines.append(space.describe())
    for c in constraints_of(space):
        lines.append(f"{c['kind']} {c['expr']}")
    try:
        g = sample(space, rng=random.Random(seed), max_tries=2000) if constraints_of(space) else space.sample(seed)
        lines.append(f"sample (seed {seed}): {space.params(g)}")
        text = to_json(space.decode(g))
        lines.append("description: " + (text if len(text) < 400 else text[:397] + "..."))
        bad = check(space, g)
        if bad:  # pragma: no cover - sample() only returns satisfying genomes
            lines.append(f"violations: {bad}")
    except SymnasError as e:
        lines.append(f"sample: {e}")
    return "\n".join(lines)


def convert(src_path: str, fmt: str) -> str:
    """Reads a space (``.sns`` or a foreign format the importers know) and writes it as ``fmt``.

    ``fmt='sns'`` gives DSL text, ``'json'`` the symnas JSON; other formats go through
    ``symnas.dsl.importers.dump(space, fmt)`` when that module provides it.
    """
    space = load(src_path)
    if fmt in ("sns", "dsl"):
        return dumps(space)
    if fmt == "json":
        return space.to_json()
    imp = _importers()
    if imp is None or not hasattr(imp, "dump"):
        raise DSLError(f"cannot write format {fmt!r}: the exporters (symnas.dsl.importers.dump) are not available",
                       src_path, hint="formats always available: sns, json")
    return imp.dump(space, fmt)
