"""``symnas.nn``: every ``torch.nn`` module class as a spec factory.

``sn.nn.Conv2d(3, 16, kernel_size=sn.oneof([3, 5]))`` returns a :class:`~symnas.symbolic.spec.Spec`, never a module,
so built-in layers can be used inside spaces and choices without sharing weights between candidates.
``sn.nn.Sequential`` flattens list arguments when built, so ``sn.nn.Sequential(stem, sn.manyof(2, blocks))``
works where ``nn.Sequential(*pg.manyof(...))`` fails.
"""
from __future__ import annotations

from typing import Any, Callable

from symnas.symbolic.spec import spec

_CACHE: dict[str, Callable[..., Any]] = {}


def _factory(cls: type) -> Callable[..., Any]:
    def make(*args: Any, **kwargs: Any) -> Any:
        return spec(cls, *args, **kwargs)

    make.__name__ = cls.__name__
    make.__qualname__ = cls.__name__
    make.__doc__ = f"Spec factory for ``torch.nn.{cls.__name__}``."
    make.target = cls  # type: ignore[attr-defined]
    return make


def __getattr__(name: str) -> Callable[..., Any]:
    if name in _CACHE:
        return _CACHE[name]
    if name.startswith("__"):
        raise AttributeError(name)
    import torch.nn as _tnn  # imported on first use: `import symnas` stays light

    cls = getattr(_tnn, name, None)
    if not (isinstance(cls, type) and issubclass(cls, _tnn.Module)):
        raise AttributeError(f"symnas.nn has no module class {name!r} (torch.nn.{name} is not an nn.Module class)")
    _CACHE[name] = _factory(cls)
    return _CACHE[name]
