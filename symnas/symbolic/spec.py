"""Specs: symbolic descriptions of a call (``Block(c=16, kernel=3)``) that hold no weights.

A :class:`Spec` names a *target* (a class or function, kept in memory or by import path) and the arguments to call
it with. Arguments may hold placeholders (then the spec is part of a search space) or only concrete values (then it
is a candidate's description). Building a spec calls the target: that is the one place where torch weights appear.

Three ways to get specs:

* ``@symnas.searchable`` on your own ``nn.Module`` subclass: calling it with a placeholder anywhere in its
  arguments returns a :class:`Spec` instead of a module; ``Block.spec(...)`` always returns one.
* ``symnas.nn.Conv2d(...)``: every ``torch.nn`` module class, always returning a spec.
* ``symnas.spec(fn, *args, **kwargs)`` for any registered callable.

Loading a spec from JSON never imports or runs code: targets stay strings until :func:`resolve` is asked to build
them, and only registered targets or modules on the allow-list (``torch.nn.``, ``symnas.``) are resolved.

Example::

    @sn.searchable
    class Block(nn.Module):
        def __init__(self, c: int, kernel: int = 3):
            super().__init__()
            self.conv = nn.Conv2d(c, c, kernel, padding=kernel // 2)

    space = Block(16, kernel=sn.oneof([3, 5]))   # a Spec, no weights
    model = Block(16, kernel=5)                  # a plain nn.Module
"""
from __future__ import annotations

import importlib
import inspect
from typing import Any, Callable, Mapping, Optional, TypeVar, Union

from symnas.errors import BuildError, SpaceError
from symnas.symbolic.placeholders import Placeholder

__all__ = ["Spec", "spec", "searchable", "register", "resolve", "allow_import", "target_path", "is_symbolic",
           "contains", "Builder", "fmt_value"]

T = TypeVar("T")
_REGISTRY: dict[str, Any] = {}
_ALLOWED_PREFIXES: list[str] = ["torch.nn.", "symnas."]
_SIGNATURES: dict[Any, Optional[inspect.Signature]] = {}


def target_path(target: Any) -> str:
    """The import path that names ``target`` in JSON and DSL files."""
    if isinstance(target, str):
        return target
    path = getattr(target, "__symnas_path__", None)
    if path:
        return path
    return f"{target.__module__}.{target.__qualname__}"


def register(target: T, path: Optional[str] = None) -> T:
    """Allows ``target`` (a class or function) to be built from descriptions; returns it unchanged.

    Usable as a decorator. ``path`` overrides the name used in JSON and DSL files.
    """
    p = path or target_path(target)
    _REGISTRY[p] = target
    if path is not None:
        try:
            target.__symnas_path__ = path  # type: ignore[attr-defined]
        except (AttributeError, TypeError):
            pass
    return target


def allow_import(prefix: str) -> None:
    """Allows targets whose import path starts with ``prefix`` to be imported when a description is built."""
    if prefix not in _ALLOWED_PREFIXES:
        _ALLOWED_PREFIXES.append(prefix)


def resolve(target: Union[str, Any], where: str = "") -> Any:
    """Returns the callable a spec names. Strings are looked up in the registry, then imported if allow-listed."""
    if not isinstance(target, str):
        return target
    hit = _REGISTRY.get(target)
    if hit is not None:
        return hit
    if not any(target.startswith(p) for p in _ALLOWED_PREFIXES):
        raise BuildError(
            f"{where or 'spec'}: builder {target!r} is not registered; decorate it with @symnas.searchable or "
            f"symnas.register(), or allow its module with symnas.allow_import({target.rsplit('.', 1)[0] + '.'!r})"
        )
    module_name, _, attr = target.rpartition(".")
    obj: Any = None
    parts = target.split(".")
    for i in range(len(parts) - 1, 0, -1):  # support nested qualnames (pkg.mod.Outer.Inner)
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            obj = getattr(obj, name, None)
            if obj is None:
                break
        if obj is not None:
            break
    if obj is None:
        raise BuildError(f"{where or 'spec'}: cannot import builder {target!r} (module {module_name!r}, name {attr!r})")
    _REGISTRY[target] = obj
    return obj


def contains(value: Any, kinds: Union[type, tuple[type, ...]]) -> bool:
    """True if ``value`` is, or holds in its lists, tuples and dict values, an instance of ``kinds`` (specs are
    not looked into)."""
    if isinstance(value, kinds):
        return True
    if isinstance(value, (list, tuple)):
        return any(contains(v, kinds) for v in value)
    if isinstance(value, dict):
        return any(contains(v, kinds) for v in value.values())
    return False


def is_symbolic(value: Any) -> bool:
    """True if ``value`` contains a placeholder or a spec (so a searchable call must return a spec)."""
    return contains(value, (Placeholder, Spec))


def _signature(fn: Any) -> Optional[inspect.Signature]:
    try:
        return _SIGNATURES[fn]
    except KeyError:
        pass
    except TypeError:  # unhashable
        return None
    try:
        if isinstance(fn, type) and fn.__init__ is not object.__init__:
            sig: Optional[inspect.Signature] = inspect.signature(fn.__init__)
            params = list(sig.parameters.values())[1:]  # drop self
            sig = sig.replace(parameters=params)
        else:
            sig = inspect.signature(fn)
    except (TypeError, ValueError):
        sig = None
    _SIGNATURES[fn] = sig
    return sig


def _bind(fn: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Moves positional arguments to keywords where the signature allows: paths then read ``blocks[0].kernel``."""
    if not args or isinstance(fn, str):
        return args, kwargs
    sig = _signature(fn)
    if sig is None:
        return args, kwargs
    params = [p for p in sig.parameters.values() if p.name != "self"]
    out = dict()
    rest: list[Any] = []
    i = 0
    for p in params:
        if i >= len(args):
            break
        if p.kind in (p.POSITIONAL_OR_KEYWORD,):
            out[p.name] = args[i]
            i += 1
        elif p.kind == p.VAR_POSITIONAL:
            rest = list(args[i:])
            i = len(args)
            break
        else:
            break
    if i < len(args) and not rest:
        raise SpaceError(f"{target_path(fn)}: too many positional arguments ({len(args)})")
    for k in kwargs:
        if k in out:
            raise SpaceError(f"{target_path(fn)}: argument {k!r} given twice")
    out.update(kwargs)
    return tuple(rest), out


class Spec:
    """A symbolic call: ``target(*args, **kwargs)`` with placeholders allowed in the arguments.

    Specs are immutable values: equal when target path and arguments are equal; :meth:`rebind` returns a new
    spec. A spec with no placeholders is a candidate's description; :meth:`build` turns it into a module.
    """

    __slots__ = ("target", "args", "kwargs", "_hash")

    def __init__(self, target: Any, args: tuple = (), kwargs: Optional[Mapping[str, Any]] = None) -> None:
        self.target = target
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        self._hash: Optional[int] = None

    @property
    def path(self) -> str:
        """The target's import path."""
        return target_path(self.target)

    @property
    def name(self) -> str:
        """The target's short name (``Conv2d``)."""
        return self.path.rsplit(".", 1)[-1]

    def __getitem__(self, key: Union[str, int]) -> Any:
        return self.kwargs[key] if isinstance(key, str) else self.args[key]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Spec):
            return NotImplemented
        return (self.path == other.path and self.args == other.args and self.kwargs == other.kwargs)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self.path, _freeze(self.args), _freeze(self.kwargs)))
        return self._hash

    def __repr__(self) -> str:
        parts = [fmt_value(a) for a in self.args] + [f"{k}={fmt_value(v)}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"

    def __iter__(self):
        raise SpaceError(f"{self!r} is a spec, not a list: it cannot be unpacked with '*'")

    def rebind(self, updates: Optional[Mapping[str, Any]] = None, **kw: Any) -> "Spec":
        """Returns a copy with the values at the given paths replaced (``{'blocks[0].kernel': 5}``)."""
        from symnas.symbolic.tree import rebind

        return rebind(self, {**(updates or {}), **kw})

    def to_json(self) -> str:
        from symnas.symbolic.jsonio import to_json

        return to_json(self)


class Builder:
    """A builder named by a spec: building ``spec`` gives a callable ``(choices, seed=None, device=None) -> object``
    (or a space whose ``builder`` is one). Patched factories and traced functions are recorded this way, so their
    candidates build from JSON in any process. The space compiler treats it as one opaque value: placeholders in
    the recipe (a rule's options) are data, not decisions.

    Example::

        b = Builder(Spec(TracedBuilder, (), {"fn": make_net, "args": [], "kwargs": {}}))
        assert from_json(to_json(b)) == b
    """

    __slots__ = ("spec", "made")

    def __init__(self, spec: Any, made: Any = None) -> None:
        self.spec = spec
        self.made = made  # the live builder object, once made (in the process that wrote the space: at once)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Builder) and self.spec == other.spec

    def __hash__(self) -> int:
        return hash(("Builder", self.spec))

    def __repr__(self) -> str:
        sp = self.spec
        if isinstance(sp, Spec):
            values = list(sp.args) + list(sp.kwargs.values())
            first = fmt_value(values[0]) + (", ..." if len(values) > 1 else "") if values else ""
            return f"{sp.name}({first})"
        return fmt_value(sp)


def fmt_value(v: Any) -> str:
    """A short readable form of a description value: classes and functions by name (``nn.GELU``, ``make_cnn``),
    containers element by element, everything else by ``repr``.

    Example::

        >>> import torch.nn as nn
        >>> fmt_value([nn.GELU, 3, "a"])
        "[nn.GELU, 3, 'a']"
    """
    if isinstance(v, (Spec, Builder, Placeholder)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(fmt_value(x) for x in v) + "]"
    if isinstance(v, tuple):
        return "(" + ", ".join(fmt_value(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k!r}: {fmt_value(x)}" for k, x in v.items()) + "}"
    path = getattr(v, "path", None) if type(v).__name__ == "Ref" else None
    if path is None and (isinstance(v, type) or inspect.isfunction(v) or inspect.isbuiltin(v)):
        try:
            path = target_path(v)
        except AttributeError:
            path = None
    if isinstance(path, str):
        if path.startswith("torch.nn."):
            return "nn." + path.rsplit(".", 1)[-1]
        return path.rsplit(".", 1)[-1]
    return repr(v)


def _freeze(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return tuple(_freeze(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    try:
        hash(v)
        return v
    except TypeError:
        return repr(v)


def spec(target: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A spec calling ``target`` with the given arguments (positional ones bound to parameter names)."""
    args, kwargs = _bind(target, args, kwargs)
    return Spec(target, args, kwargs)


def searchable(cls: type[T]) -> type[T]:
    """Class decorator: the class accepts placeholders in its constructor and becomes a buildable target.

    Calling the class with a placeholder or spec anywhere in its arguments returns a :class:`Spec` (no
    ``__init__``, no weights); with concrete arguments it constructs the module as usual. ``cls.spec(...)``
    always returns a spec.
    """
    register(cls)
    original_new = cls.__new__

    def __new__(klass, *args, **kwargs):  # type: ignore[no-untyped-def]
        if is_symbolic(args) or is_symbolic(kwargs):
            return spec(klass, *args, **kwargs)
        if original_new is object.__new__:
            return object.__new__(klass)
        return original_new(klass, *args, **kwargs)

    cls.__new__ = staticmethod(__new__)  # type: ignore[assignment]
    cls.spec = classmethod(lambda klass, *a, **k: spec(klass, *a, **k))  # type: ignore[attr-defined]
    return cls
