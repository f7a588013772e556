"""Foreign search-space formats: ConfigSpace JSON / classic PCS / new PCS, NNI, W&B sweeps, Hydra overrides.

``load(path, fmt=None)`` picks the reader by ``fmt``, else by extension and content; ``loads(text, fmt)`` reads
text; ``dump(space, fmt)`` writes the formats that have an exporter (``configspace-json``, ``pcs-new``, ``nni``,
``hydra``, ``wandb``).
Formats: ``configspace-json``, ``pcs``, ``pcs-new``, ``nni``, ``wandb``, ``hydra`` and ``symnas-json`` (what
``symnas space convert --to json`` writes). See docs/formats.md.

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
from symnas.dsl.importers.ir import FormatError, read_json
from symnas.errors import SymnasError
from symnas.space.space import Space
from symnas.symbolic.jsonio import decode

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
        except (RecursionError, ValueError):
            raise FormatError(f"{path or '<text>'}: malformed JSON (nested too deeply or a number too long)") from None
        if isinstance(d, dict) and d.get("format") == "symnas.space/1":
            return "symnas-json"
        return "configspace-json" if isinstance(d, dict) and "hyperparameters" in d else "nni"
    if ext in (".yaml", ".yml"):
        return "hydra" if "sweeper" in text and "hydra" in text else "wandb"
    if ext in (".txt", ".overrides", ".hydra"):
        return "hydra"
    raise FormatError(f"{path or '<text>'}: cannot tell the format; pass fmt= (one of {list(FORMATS)})")


MAX_BYTES = 10_000_000  # a foreign file larger than this is refused before it is read


def _symnas_json(text: str, where: str) -> Space:
    d = read_json(text, where)
    if not isinstance(d, dict) or d.get("format") != "symnas.space/1" or "tree" not in d:
        raise FormatError(f"{where}: not a symnas space JSON file (no 'format': 'symnas.space/1' and 'tree')")
    try:
        return Space(decode(d["tree"], f"{where}:$.tree"), str(d.get("name", "space")),
                     meta=d.get("meta") if isinstance(d.get("meta"), dict) else None)
    except FormatError:
        raise
    except SymnasError as exc:
        raise FormatError(f"{where}: {exc}") from None


_READERS["symnas-json"] = _symnas_json
FORMATS = tuple(_READERS)


def loads(text: str, fmt: str, where: Optional[str] = None) -> Space:
    """Reads ``text`` in format ``fmt`` into a space (``meta``: format, constraints, conditions, unsupported).

    Every failure is a :class:`FormatError` (a :class:`~symnas.errors.SymnasError`) naming ``where`` (and
    ``line:col`` or the key where known), whatever the bytes.
    """
    if fmt not in _READERS:
        raise FormatError(f"unknown format {fmt!r}: one of {list(FORMATS)}")
    where = where or f"<{fmt}>"
    if not isinstance(text, str):
        raise FormatError(f"{where}: expected text, got {type(text).__name__}")
    if len(text) > MAX_BYTES:
        raise FormatError(f"{where}: {len(text)} characters; foreign files are read up to {MAX_BYTES}")
    try:
        return _READERS[fmt](text, where)
    except SymnasError as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError(f"{where}: {exc}") from None
    except RecursionError:
        raise FormatError(f"{where}: nested too deeply") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, ZeroDivisionError) as exc:
        # the last line of defence: a reader missed a check; still one error naming the file
        raise FormatError(f"{where}: malformed {fmt} input ({type(exc).__name__}: {exc})") from None


def load(path: str, fmt: Optional[str] = None) -> Space:
    """Reads a file; ``fmt`` defaults to :func:`detect`. Errors name the file (and line:col where known)."""
    try:
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            raise FormatError(f"{path}: {size} bytes; foreign files are read up to {MAX_BYTES}")
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise FormatError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return loads(text, fmt or detect(text, path), where=os.path.basename(path))


def dump(space: Space, fmt: str) -> str:
    """Writes ``space`` in ``fmt``; raises FormatError naming what the format cannot express."""
    if fmt not in _WRITERS:
        raise FormatError(f"no exporter for format {fmt!r}: one of {list(_WRITERS)}")
    return _WRITERS[fmt](space)
