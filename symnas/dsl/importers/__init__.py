"""Foreign search-space formats: ConfigSpace JSON / classic PCS / new PCS, NNI, W&B sweeps, Hydra overrides.

``load(path, fmt=None)`` picks the reader by ``fmt``, else by extension and content; ``loads(text, fmt)`` reads
text; ``dump(space, fmt)`` writes the formats that have an exporter (``configspace-json``, ``pcs-new``, ``nni``,
``hydra``, ``wandb``).
Formats: ``configspace-json``, ``pcs``, ``pcs-new``, ``nni``, ``wandb``, ``hydra``. See docs/formats.md.

Example::

    >>> space = loads('{"lr": {"_type": "loguniform", "_value": [0.001, 0.1]}}', "nni")
    >>> dump(space, "hydra")
    'lr=tag(log, interval(0.001, 0.1))\\n'
"""
from __future__ import annotations

import json
import os
from typing import Optional

from symnas.dsl.importers import configspace, hydra, nni, wandb, writers
from symnas.dsl.importers.ir import FormatError
from symnas.space.space import Space

__all__ = ["FORMATS", "FormatError", "load", "loads", "dump", "detect"]

_READERS = {"configspace-json": configspace.loads_json, "pcs": configspace.loads_pcs,
            "pcs-new": configspace.loads_pcs_new, "nni": nni.loads, "wandb": wandb.loads, "hydra": hydra.loads}
_WRITERS = {"configspace-json": configspace.dumps_json, "pcs-new": writers.dumps_pcs_new, "nni": nni.dumps,
            "hydra": hydra.dumps, "wandb": writers.dumps_wandb}
FORMATS = tuple(_READERS)


def detect(text: str, path: str = "") -> str:
    """Guesses the format from the file name and content; raises FormatError when it cannot tell."""
    ext = os.path.splitext(path)[1].lower()
    if ext == ".pcs":
        words = [ln.split() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith(("#", "{"))]
        new = any(len(w) > 1 and w[1] in ("categorical", "ordinal", "integer", "real") for w in words)
        return "pcs-new" if new else "pcs"
    if ext == ".json" or text.lstrip().startswith("{"):
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormatError(f"{path or '<text>'}:{exc.lineno}:{exc.colno}: {exc.msg}") from None
        return "configspace-json" if isinstance(d, dict) and "hyperparameters" in d else "nni"
    if ext in (".yaml", ".yml"):
        return "hydra" if "sweeper" in text and "hydra" in text else "wandb"
    if ext in (".txt", ".overrides", ".hydra"):
        return "hydra"
    raise FormatError(f"{path or '<text>'}: cannot tell the format; pass fmt= (one of {list(FORMATS)})")


def loads(text: str, fmt: str, where: Optional[str] = None) -> Space:
    """Reads ``text`` in format ``fmt`` into a space (``meta``: format, constraints, conditions, unsupported)."""
    if fmt not in _READERS:
        raise FormatError(f"unknown format {fmt!r}: one of {list(FORMATS)}")
    return _READERS[fmt](text, where or f"<{fmt}>")


def load(path: str, fmt: Optional[str] = None) -> Space:
    """Reads a file; ``fmt`` defaults to :func:`detect`. Errors name the file (and line:col where known)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise FormatError(f"{path}: cannot read ({exc.strerror})") from None
    return loads(text, fmt or detect(text, path), where=os.path.basename(path))


def dump(space: Space, fmt: str) -> str:
    """Writes ``space`` in ``fmt``; raises FormatError naming what the format cannot express."""
    if fmt not in _WRITERS:
        raise FormatError(f"no exporter for format {fmt!r}: one of {list(_WRITERS)}")
    return _WRITERS[fmt](space)
