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
from typing import Any, Optional, Union

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


MAX_DEPTH = 200
_FLOAT_WORDS = {"nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity"}
# Structural tags and the keys allowed beside them (a placeholder's tag allows its class's ``json_options``).
_OPTIONS = {"_spec": {"args", "kwargs"}, "_tuple": set(), "_dict": set(), "_ref": set(), "_float_value": set(),
            "_builder": set()}


def _bad(path: str, msg: str) -> SymnasError:
    if len(path) > 160:
        path = path[:40] + "..." + path[-110:]
    return SymnasError(f"{path}: {msg}")


def _typed(j: dict, key: str, kinds: Any, path: str, what: str, default: Any = None) -> Any:
    v = j.get(key, default)
    if v is default and key not in j:
        return v
    if not isinstance(v, kinds) or isinstance(v, bool) and bool not in (kinds if isinstance(kinds, tuple) else
                                                                         (kinds,)):
        raise _bad(f"{path}.{key}", f"expected {what}, got {type(v).__name__} {str(v)[:60]!r}")
    return v


def _num(v: Any, path: str) -> Any:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _bad(path, f"expected a number, got {type(v).__name__} {str(v)[:60]!r}")
    return v


def _pair(j: dict, key: str, path: str, kinds: tuple) -> tuple[Any, Any]:
    v = j[key]
    if not isinstance(v, list) or len(v) != 2:
        raise _bad(f"{path}.{key}", f"expected [low, high], got {type(v).__name__} {str(v)[:60]!r}")
    for i, x in enumerate(v):
        _num(x, f"{path}.{key}[{i}]")
        if not isinstance(x, kinds):
            raise _bad(f"{path}.{key}[{i}]", f"expected an integer, got {x!r}")
    return v[0], v[1]


def decode(j: Any, where: str = "json") -> Any:
    """Rebuilds a tree from its JSON-ready form (targets stay import paths: nothing is imported).

    Malformed input (a wrong type under a tag, an unknown tag, nesting deeper than ``MAX_DEPTH``) raises
    :class:`SymnasError` naming the key path, e.g. ``json:$.kwargs.blocks[2]._int: expected [low, high], got int 5``.
    """
    return _decode(j, where + ":$" if where == "json" else where, 0)


def _decode(j: Any, path: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise _bad(path, f"nested deeper than {MAX_DEPTH} levels")
    d = depth + 1
    if isinstance(j, list):
        return [_decode(v, f"{path}[{i}]", d) for i, v in enumerate(j)]
    if isinstance(j, float) and not math.isfinite(j):
        return j
    if j is None or isinstance(j, (bool, int, float, str)):
        return j
    if not isinstance(j, dict):
        raise _bad(path, f"not a JSON value: {type(j).__name__}")
    tags = [k for k in j if isinstance(k, str) and (k in _OPTIONS or k in JSON_TAGS)]
    if not tags:
        bad = [k for k in j if not isinstance(k, str) or k.startswith("_")]
        if bad:
            raise _bad(path, f"unknown tag {bad[0]!r}")
        return {k: _decode(v, f"{path}.{k}", d) for k, v in j.items()}
    tag = tags[0]
    options = _OPTIONS[tag] if tag in _OPTIONS else JSON_TAGS[tag].json_options
    extra = [k for k in j if k != tag and k not in options]
    if extra:
        raise _bad(path, f"unexpected key {extra[0]!r} beside {tag!r}")
    try:
        return _tagged(j, tag, path, d)
    except SymnasError as e:
        if str(e).startswith(path[:40]):
            raise
        raise _bad(path, str(e)) from None


def _items(j: dict, tag: str, path: str, d: int) -> list:
    v = j[tag]
    if not isinstance(v, list):
        raise _bad(f"{path}.{tag}", f"expected a list, got {type(v).__name__} {str(v)[:60]!r}")
    return [_decode(x, f"{path}.{tag}[{i}]", d) for i, x in enumerate(v)]


def _tagged(j: dict, tag: str, path: str, d: int) -> Any:
    if tag == "_spec":
        target = _typed(j, "_spec", str, path, "an import path (text)")
        args = _typed(j, "args", list, path, "a list", ())
        kwargs = _typed(j, "kwargs", dict, path, "an object", {})
        return Spec(target, tuple(_decode(a, f"{path}.args[{i}]", d) for i, a in enumerate(args)),
                    {k: _decode(v, f"{path}.kwargs.{k}", d) for k, v in kwargs.items()})
    if tag == "_tuple":
        return tuple(_items(j, tag, path, d))
    if tag == "_dict":
        body = _typed(j, "_dict", dict, path, "an object")
        return {k: _decode(v, f"{path}._dict.{k}", d) for k, v in body.items()}
    if tag == "_ref":
        return Ref(_typed(j, "_ref", str, path, "an import path (text)"))
    if tag == "_builder":
        return Builder(_decode(j["_builder"], f"{path}._builder", d))
    if tag == "_float_value":
        text = _typed(j, "_float_value", str, path, "'nan', 'inf' or '-inf'")
        if text.strip().lower() not in _FLOAT_WORDS:
            raise _bad(f"{path}._float_value", f"expected 'nan', 'inf' or '-inf', got {text[:60]!r}")
        return float(text)
    return JSON_TAGS[tag].from_json(j, Fields(j, tag, path, d))


class Fields:
    """What a placeholder's ``from_json`` reads its form through: each field checked, errors naming the key path.

    Example::

        @classmethod
        def from_json(cls, j, r):          # {"_oneof": [...], "name": "act"}
            return OneOf(r.items(), r.name(), ordered=r.flag("ordered", False), hints=r.hints)
    """

    def __init__(self, j: dict, tag: str, path: str, depth: int) -> None:
        self.j, self.tag, self.path, self.depth = j, tag, path, depth
        self.hints = j.get("hints")

    def items(self) -> list:
        """The tag's list, each item decoded."""
        return _items(self.j, self.tag, self.path, self.depth)

    def name(self) -> Optional[str]:
        return _typed(self.j, "name", (str, type(None)), self.path, "a name (text)")

    def flag(self, key: str, default: bool) -> bool:
        return _typed(self.j, key, bool, self.path, "true or false", default)

    def integer(self, key: str, default: Optional[int] = None) -> Any:
        if default is None and key not in self.j:
            raise _bad(self.path, f"{self.tag!r} needs {key!r}")
        return _typed(self.j, key, int, self.path, "an integer", default)

    def text(self, key: str, default: str) -> str:
        return _typed(self.j, key, str, self.path, "text", default)

    def number(self, key: str) -> Any:
        """An optional number (None when absent)."""
        v = self.j.get(key)
        return None if v is None else _num(v, f"{self.path}.{key}")

    def bounds(self, integers: bool) -> tuple[Any, Any]:
        """The tag's ``[low, high]``."""
        return _pair(self.j, self.tag, self.path, (int,) if integers else (int, float))


def to_json(tree: Any, indent: int | None = None) -> str:
    """Serialises a space or description tree."""
    return json.dumps(encode(tree), indent=indent)


def from_json(text: Union[str, bytes]) -> Any:
    """Reads a tree written by :func:`to_json`; malformed text is a :class:`SymnasError` naming the key path."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise SymnasError(f"json: not UTF-8 text (byte {e.start})") from None
    if not isinstance(text, str):
        raise SymnasError(f"json: expected text, got {type(text).__name__}")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise SymnasError(f"json:{e.lineno}:{e.colno}: {e.msg}") from None
    except RecursionError:
        raise SymnasError("json: nested too deeply") from None
    except ValueError as e:  # e.g. an integer literal with too many digits
        raise SymnasError(f"json: {e}") from None
    return decode(value)
