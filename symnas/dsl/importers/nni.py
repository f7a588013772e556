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
import math
from typing import Any

from symnas.dsl.importers.ir import FormatError, _labels, from_space, read_json, unsupported
from symnas.symbolic.placeholders import FloatRange, IntRange, OneOf
from symnas.space.space import Space

__all__ = ["loads", "dumps"]


def _node(spec: Any, path: str, notes: list, where: str) -> Any:
    if not isinstance(spec, dict) or "_type" not in spec or "_value" not in spec:
        raise FormatError(f"{where}: {path}: expected {{'_type': ..., '_value': [...]}}, got {spec!r}")
    t, v = spec["_type"], spec["_value"]
    w = f"{where}: parameter {path!r}"
    if not isinstance(v, list) or t != "choice" and any(isinstance(x, bool) or not isinstance(x, (int, float))
                                                         for x in v):
        raise FormatError(f"{w}: _value of {t!r} must be a list{'' if t == 'choice' else ' of numbers'}, got {v!r:.80}")
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
            return _quantised(t, v, path, notes, w)
    except (IndexError, TypeError) as exc:
        raise FormatError(f"{w}: bad _value {v!r} for {t!r} ({exc})") from None
    except FormatError:
        raise
    except Exception as exc:  # SpaceError from bad bounds
        raise FormatError(f"{w}: {exc}") from None
    raise FormatError(f"{w}: distribution {t!r} cannot be imported (no bounds: normal-family or unknown)")


def _quantised(t: str, v: list, path: str, notes: list, w: str) -> Any:
    """NNI's ``clip(round(x / q) * q, low, high)``: the multiples of q inside [low, high] and both bounds."""
    low, high, q = v[0], v[1], v[2]
    if not (q > 0 and low <= high) or not all(math.isfinite(x) for x in (low, high, q)):
        raise FormatError(f"{w}: bad _value {v!r} for {t!r}")
    first, last = round(low / q), round(high / q)  # NNI (numpy) rounds half to even, like round()
    if last - first > 100_000:
        raise FormatError(f"{w}: {t} {v!r} has more than 100000 values")
    on_grid = low == first * q and high == last * q
    if t == "qloguniform":
        unsupported(notes, "quantised values kept exactly, their log scale ignored (sampled uniformly)", w)
    elif on_grid:
        return FloatRange(low, high, path, step=q)
    vals = sorted({float(min(max(float(f"{k * q:.12g}"), low), high)) for k in range(first, last + 1)})
    return OneOf(vals, path, ordered=True)


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
            labels = _labels(v)
            for i, c in enumerate(v.candidates):
                if isinstance(c, dict):
                    if labels is None:
                        raise FormatError(f"nni: {path}: dict candidates need '_name'")
                    lab = labels[i]
                    out.append({"_name": lab, **{k: node(x, f"{path}.{k}") for k, x in c.items()
                                                 if k != "_name" and not (k == "name" and x == lab)}})
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
