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
them, and only registered targets or public names of allow-listed modules (``torch.nn.``, ``symnas.models.``) are
resolved, each by one attribute lookup (the rule: docs/security.md).

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
import re
import types
from typing import Any, Callable, Mapping, Optional, TypeVar, Union

from symnas.errors import BuildError, SpaceError
from symnas.symbolic.placeholders import Placeholder

__all__ = ["Spec", "spec", "searchable", "register", "resolve", "allow_import", "allowed_modules", "is_allowed",
           "is_registered", "target_path", "is_symbolic", "contains", "Builder", "fmt_value"]

T = TypeVar("T")
_REGISTRY: dict[str, Any] = {}
# Allow-listed modules: a name ``pkg.mod.Name`` resolves when ``pkg.mod`` is one of these modules or inside one.
_ALLOWED_PREFIXES: list[str] = ["torch.nn.", "symnas.models."]
# Single functions of symnas that descriptions written by symnas itself name (the DSL's derived values).
# symnas's own builders that descriptions name by path (each checked like any other target when resolved).
_ALLOWED_TARGETS: set[str] = {"symnas.dsl.interpreter.derive", "symnas.candidate.build.built_by",
                              "symnas.space.rules.patch", "symnas.space.rules.Rule", "symnas.space.trace.TracedBuilder",
                              "symnas.space.widths.Width"}
# Paths that earlier versions wrote, read as where the builder lives now.
_MOVED: dict[str, str] = {"symnas.dsl.runtime.derive": "symnas.dsl.interpreter.derive"}
_RESOLVED: dict[str, Any] = {}
_SIGNATURES: dict[Any, Optional[inspect.Signature]] = {}
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
# Names that change process-wide state (global module hooks): refused even in an allowed module.
_REFUSED_NAME_PREFIXES = ("register_module_",)


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

    Example::

        >>> def my_block(c: int = 8): ...
        >>> _ = register(my_block, path="mylib.my_block")
        >>> is_allowed("mylib.my_block")
        True
    """
    p = path or target_path(target)
    _REGISTRY[p] = target
    if path is not None:
        try:
            target.__symnas_path__ = path  # type: ignore[attr-defined]
        except (AttributeError, TypeError):
            pass
    return target


def _module_name(prefix: str) -> str:
    name = prefix[:-1] if prefix.endswith(".") else prefix
    if not name or not all(_IDENT.match(p) for p in name.split(".")):
        raise SpaceError(f"allow_import({prefix!r}): give a module or package name such as 'mylib.blocks' "
                         "(an empty or partial name would allow every module)")
    return name


def allow_import(prefix: str) -> None:
    """Allows builders defined in the module or package ``prefix`` (``"mylib."`` or ``"mylib"``; its submodules
    too) to be imported when a description is built. Files can never call this (see docs/security.md).

    Example::

        >>> allow_import("mylib.blocks")
        >>> is_allowed("mylib.blocks.resnet.Bottleneck")
        True
    """
    p = _module_name(prefix) + "."
    if p not in _ALLOWED_PREFIXES:
        _ALLOWED_PREFIXES.append(p)


def is_registered(path: str) -> bool:
    """True if ``path`` names a builder registered with :func:`register` or ``@searchable``."""
    return path in _REGISTRY


def allowed_modules() -> tuple[str, ...]:
    """The allow-listed module prefixes (``('torch.nn.', 'symnas.models.', ...)``)."""
    return tuple(_ALLOWED_PREFIXES)


def _in_allowed_module(module: str) -> bool:
    return any((module + ".").startswith(p) for p in _ALLOWED_PREFIXES)


def is_allowed(path: str) -> bool:
    """True if ``path`` may name a builder: it is registered, or it is ``module.Name`` with ``module`` an
    allow-listed module and ``Name`` a public name. Checks the text only: nothing is imported.

    Example::

        >>> is_allowed("torch.nn.modules.conv.Conv2d"), is_allowed("symnas.cli.search.os.system")
        (True, False)
    """
    if not isinstance(path, str):
        return False
    path = _MOVED.get(path, path)
    if path in _REGISTRY or path in _RESOLVED or path in _ALLOWED_TARGETS:
        return True
    module, _, name = path.rpartition(".")
    if not module or not _IDENT.match(name) or name.startswith(_REFUSED_NAME_PREFIXES):
        return False
    return all(_IDENT.match(p) for p in module.split(".")) and _in_allowed_module(module)


def _refuse(where: str, target: str, why: str) -> BuildError:
    return BuildError(
        f"{where or 'spec'}: builder {target!r} is not allowed ({why}); decorate it with @symnas.searchable or "
        f"symnas.register(), or allow its module in your program with symnas.allow_import('module.name') "
        "(see docs/security.md)")


def resolve(target: Union[str, Any], where: str = "") -> Any:
    """Returns the callable a spec names: the trust boundary between files and code (docs/security.md).

    A string is looked up in the registry (``@searchable``, :func:`register`); otherwise it must be
    ``module.Name`` with ``module`` an allow-listed module, which is imported and whose attribute ``Name`` is
    looked up once. The object found must be a class or function defined in an allow-listed module (a C builtin:
    of the same top-level package); modules, re-exports from elsewhere and symnas's own allow-list functions are
    refused. Nothing else a file names is ever imported or called.

    Example::

        >>> resolve("torch.nn.modules.activation.ReLU").__name__
        'ReLU'
    """
    if not isinstance(target, str):
        return target
    target = _MOVED.get(target, target)
    hit = _REGISTRY.get(target)
    if hit is None:
        hit = _RESOLVED.get(target)
    if hit is not None:
        return hit
    if not is_allowed(target):
        raise _refuse(where, target, "not registered and not a public name in an allow-listed module")
    module_name, _, attr = target.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if "is not a package" not in str(e):
            raise BuildError(f"{where or 'spec'}: cannot import builder {target!r}: no module {e.name!r}") from None
        raise _refuse(where, target, f"{module_name!r} is not a module: a name is looked up once in an "
                      "allow-listed module, never through another module's attributes") from None
    except Exception as e:  # noqa: BLE001 - an allowed module that fails to import is still a build error
        raise BuildError(f"{where or 'spec'}: cannot import builder {target!r}: module {module_name!r} "
                         f"is not importable ({type(e).__name__}: {e})") from None
    if not isinstance(module, types.ModuleType) or getattr(module, "__name__", None) != module_name:
        raise _refuse(where, target, f"{module_name!r} is not a module")
    obj = getattr(module, attr, _MISSING)  # one lookup (a lazy module may define it in __getattr__)
    if obj is _MISSING:
        raise BuildError(f"{where or 'spec'}: cannot import builder {target!r}: module {module_name!r} has no "
                         f"name {attr!r}")
    _check_object(obj, target, module_name, where)
    _RESOLVED[target] = obj
    return obj


_MISSING = object()


def _check_object(obj: Any, target: str, module_name: str, where: str) -> None:
    if obj in _NEVER_BUILD:
        raise _refuse(where, target, "it changes what files may build")
    if isinstance(obj, types.ModuleType):
        raise _refuse(where, target, "it is a module, not a class or function")
    home = getattr(obj, "__module__", None)
    if isinstance(obj, types.BuiltinFunctionType):
        if not isinstance(home, str) or home.split(".")[0] != module_name.split(".")[0]:
            raise _refuse(where, target, f"a builtin of {home!r} re-exported by {module_name!r}")
        return
    if not isinstance(obj, (type, types.FunctionType)):
        raise _refuse(where, target, f"a {type(obj).__name__} object, not a class or function")
    if not isinstance(home, str) or not (home == module_name or _in_allowed_module(home)):
        raise _refuse(where, target, f"defined in {home!r}, which is not allow-listed")


def contains(value: Any, kinds: Union[type, tuple[type, ...]]) -> bool:
    """True if ``value`` is, or holds in its lists, tuples and mapping values, an instance of ``kinds`` (specs are
    not looked into)."""
    if isinstance(value, kinds):
        return True
    if isinstance(value, (list, tuple)):
        return any(contains(v, kinds) for v in value)
    if isinstance(value, Mapping):
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


# Functions that widen what files may build: never a build target, whatever the allow-list says.
_NEVER_BUILD: frozenset = frozenset({allow_import, register, resolve, searchable, spec, is_allowed})
