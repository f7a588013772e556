"""NNI ``search_space.json`` (read and write), including ``_name`` nesting inside ``choice``.

``randint [lo, hi)`` becomes ``intv(lo, hi - 1)``; ``quniform``/``qloguniform`` keep ``q`` as a step where the
scale is linear (a log-scale q is recorded in ``meta['unsupported']``); normal-family distributions have no bounds
and raise :class:`FormatError` naming the parameter.

Example::

    >>> s = loads('{"lr": {"_type": "loguniform", "_value": [0.0001, 0.1]}, '
    ...           '"layers": {"_type": "randint", "_value": [1, 5]}}')
    >>> s.tree["layers"].high
    4
"""
from __future__ import annotations

import json
from typing import Any

from symnas.dsl.importers.ir import FormatError, from_space, read_json, unsupported
from symnas.symbolic.placeholders import FloatRange, IntRange, OneOf
from symnas.space.space import Space

__all__ = ["loads", "dumps"]


def _node(spec: Any, path: str, notes: list, where: str) -> Any:
    if not isinstance(spec, dict) or "_type" not in spec or "_value" not in spec:
        raise FormatError(f"{where}: {path}: expected {{'_type': ..., '_value': [...]}}, got {spec!r}")
    t, v = spec["_type"], spec["_value"]
    w = f"{where}: parameter {path!r}"
    try:
        if t == "choice":
            cands = []
            for i, c in enumerate(v):
                if isinstance(c, dict) and "_name" in c:
                    cands.append({"_name": c["_name"], **{k: _node(x, f"{path}:{c['_name']}.{k}", notes, where)
                                                          for k, x in c.items() if k != "_name"}})
                else:
                    cands.append(c)
            return OneOf(cands, path)
        if t == "randint":
            return IntRange(int(v[0]), int(v[1]) - 1, path)
        if t in ("uniform", "loguniform"):
            return FloatRange(v[0], v[1], path, scale="log" if t == "loguniform" else "linear")
        if t in ("quniform", "qloguniform"):
            if t == "qloguniform":
                unsupported(notes, f"quantisation q={v[2]} on a log scale ignored", w)
                return FloatRange(v[0], v[1], path, scale="log")
            if (v[0] / v[2]) != round(v[0] / v[2]):
                unsupported(notes, f"NNI rounds to multiples of q={v[2]}, the grid here starts at {v[0]}", w)
            return FloatRange(v[0], v[1], path, step=v[2])
    except (IndexError, TypeError) as exc:
        raise FormatError(f"{w}: bad _value {v!r} for {t!r} ({exc})") from None
    except FormatError:
        raise
    except Exception as exc:  # SpaceError from bad bounds
        raise FormatError(f"{w}: {exc}") from None
    raise FormatError(f"{w}: distribution {t!r} cannot be imported (no bounds: normal-family or unknown)")


def loads(text: str, where: str = "search_space.json") -> Space:
    """Reads an NNI search space (JSON text). Decision names are the keys (``model:cnn.kernel`` inside choices)."""
    d = read_json(text, where)
    if not isinstance(d, dict):
        raise FormatError(f"{where}: the search space must be a JSON object")
    notes: list = []
    tree = {k: _node(v, k, notes, where) for k, v in d.items()}
    try:
        return Space(tree, "nni", meta={"format": "nni", "constraints": [], "conditions": [], "unsupported": notes})
    except Exception as exc:
        raise FormatError(f"{where}: {exc}") from None


def dumps(space: Space) -> str:
    """Writes an NNI search space. Nesting becomes ``_name`` dicts; forbiddens, non-nesting conditions, int log
    scales and int steps raise FormatError (NNI cannot express them)."""
    if space.meta.get("constraints") or space.meta.get("conditions"):
        raise FormatError("nni: constraints / conditions that are not nesting cannot be written to NNI")

    def node(v: Any, path: str) -> Any:
        if isinstance(v, OneOf):
            out = []
            for c in v.candidates:
                if isinstance(c, dict):
                    if "_name" not in c:
                        raise FormatError(f"nni: {path}: dict candidates need '_name'")
                    out.append({"_name": c["_name"], **{k: node(x, f"{path}.{k}") for k, x in c.items()
                                                        if k != "_name"}})
                else:
                    out.append(c)
            return {"_type": "choice", "_value": out}
        if isinstance(v, IntRange):
            if v.log or v.step != 1:
                raise FormatError(f"nni: {v.name or path}: an int range with log scale or step has no NNI type")
            return {"_type": "randint", "_value": [v.low, v.high + 1]}
        if isinstance(v, FloatRange):
            t = ("q" if v.step else "") + ("loguniform" if v.scale == "log" else "uniform")
            return {"_type": t, "_value": [v.low, v.high] + ([v.step] if v.step else [])}
        return {"_type": "choice", "_value": [_const(v, path)]}

    from_space(space, "nni")  # validates that the space is a (nested) dict of hyperparameters
    return json.dumps({k: node(v, k) for k, v in space.tree.items()}, indent=2)


def _const(v: Any, path: str) -> Any:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    raise FormatError(f"nni: cannot write {type(v).__name__} at {path}")
