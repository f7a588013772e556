"""W&B sweep configuration YAML (read).

``log_uniform`` bounds are natural-log exponents (converted to values, ``e**min``); ``log_uniform_values`` are
values; ``int_uniform`` is inclusive; ``q_*`` distributions keep ``q`` as a step on a linear scale. Nested
``parameters`` are namespaces (nested dicts). Distributions without bounds (``normal``, ``log_normal``, ...) raise
FormatError; ``probabilities`` are recorded in ``meta['unsupported']`` and ignored. PyYAML reads ``1e-5`` as a
string: numeric strings are converted.

Example::

    >>> s = loads("parameters:\\n  lr:\\n    distribution: log_uniform_values\\n    min: 1e-5\\n    max: 1e-1\\n")
    >>> s.tree["lr"].low
    1e-05
"""
from __future__ import annotations

import math
from typing import Any

from symnas.dsl.importers.ir import FormatError, read_yaml, unsupported
from symnas.symbolic.placeholders import FloatRange, IntRange, OneOf
from symnas.space.space import Space

__all__ = ["loads"]


def _num(v: Any, w: str) -> Any:
    if isinstance(v, str):
        try:
            return float(v) if any(c in v.lower() for c in ".en") else int(v)
        except ValueError:
            raise FormatError(f"{w}: expected a number, got {v!r}") from None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise FormatError(f"{w}: expected a number, got {v!r}")
    return v


def _param(name: str, spec: Any, notes: list, where: str) -> Any:
    w = f"{where}: parameter {name!r}"
    if not isinstance(spec, dict):
        raise FormatError(f"{w}: expected a mapping, got {spec!r}")
    if "parameters" in spec:
        return {k: _param(f"{name}.{k}", v, notes, where) for k, v in spec["parameters"].items()}
    if "value" in spec:
        return spec["value"]
    if "probabilities" in spec:
        unsupported(notes, "probabilities ignored (uniform choice)", w)
    if "values" in spec:
        return OneOf(list(spec["values"]), name)
    dist = spec.get("distribution")
    if "min" not in spec or "max" not in spec:
        raise FormatError(f"{w}: distribution {dist!r} without min/max cannot be imported")
    lo, hi = _num(spec["min"], f"{w}: min"), _num(spec["max"], f"{w}: max")
    if dist is None:
        dist = "int_uniform" if isinstance(lo, int) and isinstance(hi, int) else "uniform"
    q = _num(spec["q"], f"{w}: q") if "q" in spec else 1
    try:
        if dist == "int_uniform":
            return IntRange(int(lo), int(hi), name)
        if dist == "uniform":
            return FloatRange(lo, hi, name)
        if dist == "q_uniform":
            return FloatRange(lo, hi, name, step=q)
        if dist in ("log_uniform", "log_uniform_values"):
            lo, hi = (math.exp(lo), math.exp(hi)) if dist == "log_uniform" else (lo, hi)
            return FloatRange(lo, hi, name, scale="log")
        if dist in ("q_log_uniform", "q_log_uniform_values"):
            unsupported(notes, f"quantisation q={q} on a log scale ignored", w)
            lo, hi = (math.exp(lo), math.exp(hi)) if dist == "q_log_uniform" else (lo, hi)
            return FloatRange(lo, hi, name, scale="log")
    except FormatError:
        raise
    except Exception as exc:
        raise FormatError(f"{w}: {exc}") from None
    raise FormatError(f"{w}: distribution {dist!r} cannot be imported")


def loads(text: str, where: str = "sweep.yaml") -> Space:
    """Reads a W&B sweep configuration; ``method``, ``metric`` and ``early_terminate`` go to ``meta['sweep']``."""
    d = read_yaml(text, where)
    if not isinstance(d, dict) or not isinstance(d.get("parameters"), dict):
        raise FormatError(f"{where}: a W&B sweep needs a 'parameters' mapping")
    notes: list = []
    tree = {k: _param(k, v, notes, where) for k, v in d["parameters"].items()}
    sweep = {k: d[k] for k in ("method", "metric", "early_terminate", "program") if k in d}
    return Space(tree, str(d.get("name", "wandb")), meta={"format": "wandb", "constraints": [], "conditions": [],
                                                            "unsupported": notes, "sweep": sweep})
