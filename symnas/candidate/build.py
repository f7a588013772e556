"""The torch boundary: a description (specs and values) becomes a plain ``nn.Module`` here and nowhere else.

Building never mutates the description and never reuses weights: every call constructs fresh modules. With a
``seed`` the weights are reproducible, and the global torch RNG state is left as it was.

Patched factories and traced functions describe a candidate as ``built_by(builder=<recipe>, choices={...})``:
the recipe (a :class:`~symnas.symbolic.spec.Builder`) names the factory or function by import path, and the
choices hold the active decisions. Building it makes the builder once per process (through the same registry
and allow-list as every other target) and calls it with the choices, so the same model comes out in any process.

Example::

    model = symnas.build(description, seed=0)      # a plain nn.Module
    same = symnas.build(description, seed=0)       # equal weights, separate tensors
"""
from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any, Optional

from symnas.symbolic.jsonio import Ref, to_json
from symnas.errors import BuildError, SymnasError
from symnas.symbolic.placeholders import Placeholder
from symnas.symbolic.spec import Builder, Spec, resolve, target_path

__all__ = ["build", "container_args", "built_by", "make_builder", "resolve_ref"]

_MADE: "OrderedDict[str, Any]" = OrderedDict()  # recipe JSON -> builder, for descriptions read from JSON
_MADE_MAX = 32

_FLATTEN = {"torch.nn.modules.container.Sequential", "torch.nn.modules.container.ModuleList"}


def _flatten(args: list[Any]) -> list[Any]:
    out: list[Any] = []
    for a in args:
        if isinstance(a, (list, tuple)):
            out.extend(_flatten(list(a)))
        else:
            out.append(a)
    return out


def container_args(path: str, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """For ``nn.Sequential``/``nn.ModuleList`` targets (by import ``path``), flattens nested lists of modules.

    Block lists of variable length are lists inside the container's arguments; the container wants them spread.
    ``kwargs['modules']`` is flattened in place; the (flattened) positional arguments are returned.

    Example::

        >>> container_args("torch.nn.modules.container.Sequential", [1, [2, 3]], {})
        [1, 2, 3]
    """
    if path not in _FLATTEN:
        return args
    if "modules" in kwargs:
        kwargs["modules"] = _flatten(list(kwargs["modules"]))
    return _flatten(args)


def resolve_ref(target: Any, where: str = "") -> Any:
    """``resolve(target)`` with a clear error for lambdas and local functions, which have no importable name.

    Example::

        >>> import torch.nn as nn
        >>> resolve_ref("torch.nn.GELU") is nn.GELU
        True
    """
    try:
        return resolve(target, where)
    except BuildError:
        path = target_path(target)
        if path.startswith("__main__."):  # a worker process imported the main script as __mp_main__
            try:
                return resolve("__mp_main__." + path[len("__main__."):], where)
            except BuildError:
                pass
        if "<lambda>" in path or "<locals>" in path:
            raise BuildError(
                f"{where or 'spec'}: {path!r} is a lambda or a local function: it has no importable name, so a "
                "description read from JSON cannot call it. Define it at module level (its module allowed with "
                "symnas.allow_import) or register it under a name with symnas.register(fn, 'pkg.name') in every "
                "process that builds") from None
        raise


def _each(x: Any, path: str, fn: Any) -> Any:
    """A list, tuple or dict rebuilt with ``fn(item, item_path)`` for each item."""
    if isinstance(x, list):
        return [fn(v, f"{path}[{i}]") for i, v in enumerate(x)]
    if isinstance(x, tuple):
        return tuple(fn(v, f"{path}[{i}]") for i, v in enumerate(x))
    return {k: fn(v, f"{path}.{k}" if path else k) for k, v in x.items()}


def _resolve_refs(x: Any, path: str) -> Any:
    """``x`` with every :class:`Ref` (also inside specs' arguments and placeholders' options) resolved; specs and
    placeholders stay symbolic."""
    if isinstance(x, Ref):
        return resolve_ref(x.path, path)
    if isinstance(x, Spec):
        return Spec(x.target, tuple(_resolve_refs(a, f"{path}[{i}]") for i, a in enumerate(x.args)),
                    {k: _resolve_refs(v, f"{path}.{k}" if path else k) for k, v in x.kwargs.items()})
    if isinstance(x, (list, tuple, dict)):
        return _each(x, path, _resolve_refs)
    if isinstance(x, Placeholder):
        out = x
        for attr in ("candidates", "items"):
            opts = getattr(x, attr, None)
            if isinstance(opts, (list, tuple)) and any(isinstance(o, (Ref, Spec, list, tuple, dict)) for o in opts):
                if out is x:
                    out = copy.copy(x)
                setattr(out, attr, type(opts)(_resolve_refs(o, f"{path}:{i}") for i, o in enumerate(opts)))
        return out
    return x


def _make(x: Any, path: str) -> Any:
    """Builds a recipe: specs are called and references resolved, placeholders are passed on as they are."""
    if isinstance(x, Spec):
        fn = resolve_ref(x.target, path or x.name)
        args = [_make(a, f"{path}[{i}]") for i, a in enumerate(x.args)]
        kwargs = {k: _make(v, f"{path}.{k}" if path else k) for k, v in x.kwargs.items()}
        try:
            return fn(*args, **kwargs)
        except SymnasError:
            raise
        except Exception as e:
            raise BuildError(f"{path or 'builder'}: making {x.name} failed: {type(e).__name__}: {e}") from e
    if isinstance(x, (list, tuple)):
        out = [_make(v, f"{path}[{i}]") for i, v in enumerate(x)]
        return tuple(out) if isinstance(x, tuple) else out
    if isinstance(x, dict):
        return {k: _make(v, f"{path}.{k}" if path else k) for k, v in x.items()}
    return _resolve_refs(x, path)


def make_builder(builder: Builder, where: str = "builder") -> Any:
    """The live builder callable a :class:`Builder` recipe names (made once per process and recipe).

    Example::

        fn = make_builder(description.kwargs["builder"])
        model = fn(description.kwargs["choices"])
    """
    if builder.made is not None:
        return builder.made
    try:
        key: Optional[str] = to_json(builder.spec)
    except SymnasError:
        key = None
    made = _MADE.get(key) if key is not None else None
    if made is None:
        made = _make(builder.spec, where)
        made = getattr(made, "builder", None) or made  # a recipe may give a space (patch) or the builder itself
        if not callable(made):
            raise BuildError(f"{where}: the recipe {builder!r} made {type(made).__name__}, not a builder")
        if key is not None:
            _MADE[key] = made
            while len(_MADE) > _MADE_MAX:
                _MADE.popitem(last=False)
    builder.made = made
    return made


def built_by(builder: Any, choices: dict[str, Any]) -> Any:
    """Builds a candidate of a patched factory or traced function: ``builder(choices)`` (see the module docstring).

    ``builder`` is a :class:`Builder` recipe or a live builder; ``choices`` maps decision names to values.
    """
    fn = make_builder(builder) if isinstance(builder, Builder) else builder
    return fn(choices)


def _build(x: Any, path: str) -> Any:
    if isinstance(x, Spec):
        fn = resolve_ref(x.target, path or x.name)
        if fn is built_by:  # the choices go to the builder as they are (specs stay specs, references resolved)
            where = f"{path}.builder" if path else "builder"
            b = x.kwargs.get("builder")
            live = make_builder(b, where) if isinstance(b, Builder) else _build(b, where)
            choices = _resolve_refs(x.kwargs.get("choices", {}), f"{path}.choices" if path else "choices")
            try:
                return built_by(live, choices)
            except SymnasError:
                raise
            except Exception as e:  # name the place, keep the cause
                raise BuildError(f"{path or 'root'}: building with {b!r} failed: {type(e).__name__}: {e}") from e
        args = [_build(a, f"{path}[{i}]") for i, a in enumerate(x.args)]
        kwargs = {k: _build(v, f"{path}.{k}" if path else k) for k, v in x.kwargs.items()}
        args = container_args(x.path, args, kwargs)
        try:
            return fn(*args, **kwargs)
        except SymnasError:
            raise
        except Exception as e:  # name the place, keep the cause
            raise BuildError(f"{path or 'root'}: building {x.name} failed: {type(e).__name__}: {e}") from e
    if isinstance(x, (list, tuple, dict)):
        return _each(x, path, _build)
    if isinstance(x, Ref):
        return resolve_ref(x.path, path)
    if isinstance(x, Builder):
        return make_builder(x, path or "builder")
    if isinstance(x, Placeholder):
        raise BuildError(f"{path or 'root'}: unresolved decision {x!r}; build a candidate, not the space")
    return x


def build(description: Any, seed: Optional[int] = None, device: Any = None) -> Any:
    """Builds ``description`` into torch objects (fresh weights; reproducible with ``seed``)."""
    if seed is None:
        out = _build(description, "")
    else:
        import torch

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            out = _build(description, "")
    if device is not None and hasattr(out, "to"):
        out = out.to(device)
    return out
