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
from typing import Any, Sequence

from symnas.dsl import limits
from symnas.dsl.compiler import compile_source
from symnas.dsl.errors import DSLError, Source
from symnas.dsl.imports import read_text
from symnas.dsl.printer import dumps as _dumps
from symnas.errors import SymnasError
from symnas.space.space import Space

__all__ = ["load", "loads", "dumps", "inspect", "builtin_spaces", "convert", "format_size"]


def loads(text: str, filename: str = "<string>", search_path: Sequence[str] = ()) -> Space:
    """Compiles DSL ``text`` into a :class:`Space`; every problem raises :class:`DSLError` (``file:line:col``).

    ``import`` statements read files under the folder of ``filename`` (the current folder for ``<string>``) or
    under a folder of ``search_path``.
    """
    if not isinstance(text, str):
        raise DSLError(f"expected DSL text (str), got {type(text).__name__}", filename)
    return compile_source(Source(text, filename), search_path=tuple(os.fspath(p) for p in search_path))


def builtin_spaces() -> list[str]:
    """Names of the ready spaces shipped in ``symnas.spaces`` (``nasbench201``, ``hpo``, ...)."""
    root = resources.files("symnas.spaces")
    return sorted(p.name[:-4] for p in root.iterdir() if p.name.endswith(".sns"))


def load(path_or_name: str, search_path: Sequence[str] = ()) -> Space:
    """Loads a ``.sns`` file by path (or a foreign format the importers know), or a ready space by name (see
    :func:`builtin_spaces`). Files are read only up to :data:`symnas.dsl.limits.MAX_FILE_BYTES` and must be UTF-8.
    """
    p = os.fspath(path_or_name)
    if not isinstance(p, str) or "\0" in p:
        raise DSLError(f"bad space path {str(p)[:80]!r}", "<path>")
    if os.path.isfile(p):
        text = read_text(p)
        if not p.endswith(".sns"):
            return _foreign(p, text)
        return loads(text, p, search_path)
    if p in builtin_spaces():
        res = resources.files("symnas.spaces").joinpath(p + ".sns")
        with resources.as_file(res) as real:
            return loads(real.read_text(encoding="utf-8"), str(real))
    raise DSLError(f"no such space file or ready space: {p!r}", p,
                   hint="ready spaces: " + ", ".join(builtin_spaces()))


def _foreign(path: str, text: str) -> Space:
    from symnas.dsl import importers

    space = importers.loads(text, importers.detect(text, path), where=os.path.basename(path))
    if not isinstance(space, Space):  # pragma: no cover - the importers return spaces
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
    from symnas.dsl.interpreter import Budget

    try:
        size = format_size(space.size)
    except (OverflowError, ValueError, ArithmeticError):
        size = "too large to compute"
    lines = [f"space {space.name!r}: {len(space.decisions)} decisions, size {size}"
             + (" (before constraints)" if constraints_of(space) else "")]
    lines.append(space.describe())
    for c in constraints_of(space):
        lines.append(f"{c['kind']} {c['expr']}")
    try:
        g = sample(space, rng=random.Random(seed), max_tries=limits.SAT_TRIES,
                   budget=Budget(limits.MAX_SAT_STEPS, "drawing a sample for inspect"))
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
    ``symnas.dsl.importers.dump(space, fmt)``.
    """
    space = load(src_path)
    if fmt in ("sns", "dsl"):
        return dumps(space)
    if fmt == "json":
        return space.to_json()
    from symnas.dsl import importers

    return importers.dump(space, fmt)


def format_size(n: Any) -> str:
    """A space size for people: ``576``, ``1.2e+20``, ``inf``, or ``about 2^5000`` (never an OverflowError).

    Example::

        >>> format_size(576), format_size(10**400), format_size(float("inf"))
        ('576', '1e+400', 'inf')
    """
    if isinstance(n, int) and not isinstance(n, bool):
        if n < 10**15:
            return f"{n:g}" if n < 10**6 else f"{float(n):g}"
        bits = n.bit_length()
        if bits > 12_000:
            return f"about 2^{bits - 1}"
        digits = str(n)
        mant = f"{int(digits[:6]) / 10**5:.5g}"
        return f"{mant}e+{len(digits) - 1}"
    try:
        return f"{float(n):g}"
    except (TypeError, ValueError, OverflowError):
        return str(n)[:40]
