"""The torch boundary: a description (specs and values) becomes a plain ``nn.Module`` here and nowhere else.

Building never mutates the description and never reuses weights: every call constructs fresh modules. With a
``seed`` the weights are reproducible, and the global torch RNG state is left as it was.

Example::

    model = symnas.build(description, seed=0)      # a plain nn.Module
    same = symnas.build(description, seed=0)       # equal weights, separate tensors
"""
from __future__ import annotations

from typing import Any, Optional

from symnas.symbolic.jsonio import Ref
from symnas.errors import BuildError, SymnasError
from symnas.symbolic.placeholders import Placeholder
from symnas.symbolic.spec import Spec, resolve

__all__ = ["build", "container_args"]

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


def _build(x: Any, path: str) -> Any:
    if isinstance(x, Spec):
        fn = resolve(x.target, path or x.name)
        args = [_build(a, f"{path}[{i}]") for i, a in enumerate(x.args)]
        kwargs = {k: _build(v, f"{path}.{k}" if path else k) for k, v in x.kwargs.items()}
        args = container_args(x.path, args, kwargs)
        try:
            return fn(*args, **kwargs)
        except SymnasError:
            raise
        except Exception as e:  # name the place, keep the cause
            raise BuildError(f"{path or 'root'}: building {x.name} failed: {type(e).__name__}: {e}") from e
    if isinstance(x, list):
        return [_build(v, f"{path}[{i}]") for i, v in enumerate(x)]
    if isinstance(x, tuple):
        return tuple(_build(v, f"{path}[{i}]") for i, v in enumerate(x))
    if isinstance(x, dict):
        return {k: _build(v, f"{path}.{k}" if path else k) for k, v in x.items()}
    if isinstance(x, Ref):
        return resolve(x.path, path)
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
