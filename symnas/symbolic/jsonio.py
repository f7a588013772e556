"""JSON for spaces and descriptions. Reading never imports or runs code.

Format: plain JSON values as themselves; ``{"_spec": "pkg.mod.Class", "args": [...], "kwargs": {...}}`` for a spec;
``{"_ref": "torch.nn.modules.activation.ReLU"}`` for a class or function used as a value (resolved lazily through
the registry / allow-list when built); ``{"_tuple": [...]}``; ``{"_dict": {...}}`` for a dict whose keys start with
``_``; placeholders as ``{"_oneof": [...]}``, ``{"_ordinal": [...]}``, ``{"_manyof": [...], "k": 2}``,
``{"_int": [lo, hi]}``, ``{"_float": [lo, hi]}``, ``{"_perm": [...]}`` with their options (each placeholder class
writes and reads its own form, see :data:`symnas.symbolic.placeholders.JSON_TAGS`); non-finite floats as
``{"_float_value": "nan"}``;
``{"_builder": <spec>}`` for the recipe of a patched factory or traced function (:class:`~symnas.symbolic.spec.Builder`).

Example::

    text = symnas.to_json(description)
    assert symnas.from_json(text) == description
"""
from __future__ import annotations

import json
import math
from typing import Any

from symnas.errors import SymnasError
from symnas.symbolic.placeholders import JSON_TAGS, Placeholder
from symnas.symbolic.spec import Builder, Spec, target_path

__all__ = ["to_json", "from_json", "encode", "decode", "Ref"]


class Ref:
    """A class or function named by import path (a value, not a call). Equal to the object it names."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Ref):
            return other.path == self.path
        if callable(other):
            return target_path(other) == self.path
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.path)

    def __repr__(self) -> str:
        return f"Ref({self.path!r})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from symnas.symbolic.spec import resolve

        return resolve(self.path)(*args, **kwargs)


def encode(x: Any) -> Any:
    """The JSON-ready form of a space or description tree."""
    if x is None or isinstance(x, (bool, int, str)):
        return x
    if isinstance(x, float):
        return x if math.isfinite(x) else {"_float_value": repr(x)}
    if isinstance(x, Spec):
        d: dict[str, Any] = {"_spec": x.path}
        if x.args:
            d["args"] = [encode(a) for a in x.args]
        if x.kwargs:
            d["kwargs"] = {k: encode(v) for k, v in x.kwargs.items()}
        return d
    if isinstance(x, list):
        return [encode(v) for v in x]
    if isinstance(x, tuple):
        return {"_tuple": [encode(v) for v in x]}
    if isinstance(x, dict):
        body = {str(k): encode(v) for k, v in x.items()}
        return {"_dict": body} if any(k.startswith("_") for k in body) else body
    if isinstance(x, Ref):
        return {"_ref": x.path}
    if isinstance(x, Builder):
        return {"_builder": encode(x.spec)}
    if isinstance(x, Placeholder):
        return x.to_json(encode)
    if isinstance(x, type) or callable(x) and hasattr(x, "__qualname__") and hasattr(x, "__module__"):
        return {"_ref": target_path(x)}
    raise SymnasError(f"cannot write {type(x).__name__} value {x!r} as JSON")


def decode(j: Any, where: str = "json") -> Any:
    """Rebuilds a tree from its JSON-ready form (targets stay import paths: nothing is imported)."""
    if isinstance(j, list):
        return [decode(v, where) for v in j]
    if not isinstance(j, dict):
        return j
    if "_spec" in j:
        return Spec(j["_spec"], tuple(decode(a, where) for a in j.get("args", ())),
                    {k: decode(v, where) for k, v in j.get("kwargs", {}).items()})
    if "_tuple" in j:
        return tuple(decode(v, where) for v in j["_tuple"])
    if "_dict" in j:
        return {k: decode(v, where) for k, v in j["_dict"].items()}
    if "_ref" in j:
        return Ref(j["_ref"])
    if "_builder" in j:
        return Builder(decode(j["_builder"], where))
    if "_float_value" in j:
        return float(j["_float_value"])
    for key in j:
        cls = JSON_TAGS.get(key)
        if cls is not None:
            return cls.from_json(j, lambda v: decode(v, where))
    bad = [k for k in j if k.startswith("_")]
    if bad:
        raise SymnasError(f"{where}: unknown tag {bad[0]!r}")
    return {k: decode(v, where) for k, v in j.items()}


def to_json(tree: Any, indent: int | None = None) -> str:
    """Serialises a space or description tree."""
    return json.dumps(encode(tree), indent=indent)


def from_json(text: str) -> Any:
    """Reads a tree written by :func:`to_json`."""
    try:
        return decode(json.loads(text))
    except json.JSONDecodeError as e:
        raise SymnasError(f"json:{e.lineno}:{e.colno}: {e.msg}") from None
