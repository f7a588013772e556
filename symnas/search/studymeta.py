"""What a study records about itself, and the checks made when it is reopened.

A store keeps, with each study, the space's fingerprint and the algorithm's name, configuration and seed. Reopening
with another space, or another algorithm, is a :class:`~symnas.errors.StoreError` that says what differs; a new
seed is reported (the stored algorithm state goes on, the new seed is not used).

Example::

    >>> import symnas as sn
    >>> space = sn.Space([sn.oneof([1, 2, 3], name="k")])
    >>> len(space_fingerprint(space.to_dict()))
    16
    >>> algorithm_config(sn.algorithms.RegularizedEvolution(population_size=8, seed=0))["population_size"]
    8
"""
from __future__ import annotations

import hashlib
import inspect
import json
from typing import Any, Optional

from symnas.errors import StoreError

__all__ = ["space_fingerprint", "algorithm_config", "study_meta_for", "check_space", "check_algorithm",
           "seed_note"]

_SKIP = ("self", "seed")


def space_fingerprint(space_dict: dict) -> str:
    """A short stable hash of a space's JSON form (canonical: sorted keys, no spaces; an object that is not JSON
    data counts by its type, never by a ``repr`` that may hold a memory address)."""
    text = json.dumps(space_dict, sort_keys=True, separators=(",", ":"),
                      default=lambda o: f"<{type(o).__module__}.{type(o).__qualname__}>")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _jsonable(value: Any) -> Any:
    """``value`` as JSON data, ``...`` (Ellipsis) when it has none (an object, a function)."""
    if hasattr(value, "propose") and hasattr(value, "feedback"):  # a wrapped algorithm (Scalarized, Compose)
        return {"name": type(value).__name__, "config": algorithm_config(value)}
    if isinstance(value, (tuple, list)):
        items = [_jsonable(v) for v in value]
        return ... if any(v is ... for v in items) else items
    if isinstance(value, dict):
        out = {str(k): _jsonable(v) for k, v in value.items()}
        return ... if any(v is ... for v in out.values()) else out
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return ...


def algorithm_config(algorithm: Any) -> dict[str, Any]:
    """The algorithm's constructor arguments that can be read back (JSON data; the seed is kept apart).

    ``algorithm.config()`` when the algorithm defines it; otherwise each ``__init__`` argument found as an
    attribute of the same name (or with a leading underscore) whose value is JSON data.
    """
    own = getattr(algorithm, "config", None)
    if callable(own):
        cfg = own()
        if isinstance(cfg, dict):
            return {k: v for k, v in ((str(k), _jsonable(v)) for k, v in cfg.items() if k != "seed") if v is not ...}
    out: dict[str, Any] = {}
    try:
        params = inspect.signature(type(algorithm).__init__).parameters
    except (TypeError, ValueError):  # pragma: no cover - a builtin __init__
        return out
    for name, p in params.items():
        if name in _SKIP or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        for attr in (name, "_" + name):
            if attr in getattr(algorithm, "__dict__", {}):
                value = _jsonable(getattr(algorithm, attr))
                if value is not ...:
                    out[name] = value
                break
    return out


def study_meta_for(space_dict: dict, algorithm: Any) -> dict[str, Any]:
    """The metadata a new study records: fingerprint, algorithm configuration, seed."""
    seed = getattr(algorithm, "seed", None)
    return {"fingerprint": space_fingerprint(space_dict), "algorithm_config": algorithm_config(algorithm),
            "seed": seed if isinstance(seed, (int, str)) or seed is None else repr(seed)}


def _first_difference(a: Any, b: Any, path: str = "") -> Optional[str]:
    if type(a) is not type(b):
        return path or "(top)"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                return f"{path}.{k}" if path else str(k)
            d = _first_difference(a[k], b[k], f"{path}.{k}" if path else str(k))
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path} (length {len(a)} -> {len(b)})"
        for i, (x, y) in enumerate(zip(a, b)):
            d = _first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else (path or "(top)")


def _decisions(space_dict: dict) -> Optional[dict[str, str]]:
    try:
        from symnas.space.space import Space

        table = Space.from_dict(space_dict).table
    except Exception:  # noqa: BLE001 - a stored space this version cannot read: compare JSON only
        return None
    out = {}
    for d in table.decisions:
        kind, labels = getattr(d, "kind", "?"), list(getattr(d, "labels", ()) or ())
        where = d.path if not getattr(d, "name", None) or d.name == d.path else f"{d.name} at {d.path}"
        if labels:
            shown = ", ".join(labels[:4]) + (", ..." if len(labels) > 4 else "")
            out[where] = f"{kind} of {len(labels)} [{shown}]"
        else:
            out[where] = f"{kind} {getattr(d, 'low', '')}..{getattr(d, 'high', '')}"
    return out


def check_space(where: str, stored: dict[str, Any], space_dict: dict, fingerprint: str) -> None:
    """Raises :class:`StoreError` naming what differs when ``space_dict`` is not the space the study was made with."""
    stored_space = stored.get("space", {})
    old = stored.get("fingerprint") or space_fingerprint(stored_space)
    if old == fingerprint:
        return
    parts = []
    before, after = _decisions(stored_space), _decisions(space_dict)
    if before is not None and after is not None:
        added = [p for p in after if p not in before]
        removed = [p for p in before if p not in after]
        changed = [f"{p} ({before[p]} -> {after[p]})" for p in before if p in after and before[p] != after[p]]
        for label, items in (("decisions added", added), ("decisions removed", removed),
                             ("decisions changed", changed)):
            if items:
                parts.append(f"{label}: {', '.join(items[:5])}" + (f" and {len(items) - 5} more" if len(items) > 5
                                                                     else ""))
    if not parts:
        diff = _first_difference(stored_space, space_dict)
        parts.append(f"first difference at {diff}" if diff else "the space's JSON differs")
    raise StoreError(f"{where} was created with another space ({'; '.join(parts)}; fingerprint {old} stored, "
                     f"{fingerprint} now): open it with its own space, or start a new study name")


def _config_text(config: Optional[dict[str, Any]]) -> str:
    return "(" + ", ".join(f"{k}={v!r}" for k, v in (config or {}).items()) + ")"


def check_algorithm(where: str, stored: dict[str, Any], name: str, config: dict[str, Any]) -> None:
    """Raises :class:`StoreError` when the study was run with another algorithm or configuration."""
    old_name, old_config = stored.get("algorithm"), stored.get("algorithm_config")
    if old_name == name and (old_config is None or old_config == config):
        return
    if old_name != name:
        what = f"{old_name}{_config_text(old_config)}, not {name}{_config_text(config)}"
    else:
        keys = sorted(set(old_config or {}) | set(config))
        what = f"{name} with " + ", ".join(f"{k}={(old_config or {}).get(k, '(unset)')!r} stored, "
                                           f"{config.get(k, '(unset)')!r} now" for k in keys
                                           if (old_config or {}).get(k, ...) != config.get(k, ...))
    raise StoreError(f"{where} was run with {what}: reopen it with the same algorithm, or continue under the new "
                     "one with Study(..., switch_algorithm=True) (symnas search --switch-algorithm)")


def seed_note(where: str, stored: dict[str, Any], seed: Any) -> Optional[str]:
    """The line to report when a study resumes with another seed than it was created with (else ``None``)."""
    old = stored.get("seed")
    if seed is None or "seed" not in stored or old == seed:
        return None
    return (f"{where} resumes from its stored algorithm state, created with seed {old!r}: the new seed {seed!r} is "
            "not used (start a new study name to search with another seed)")
