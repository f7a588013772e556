"""Hyper-value placeholders: the choices a user marks in ordinary model code.

Each placeholder stands for one decision of a search space. They are plain, immutable, JSON-friendly values that
mirror PyGlove's hyper primitives (``pg.oneof``, ``pg.manyof``, ``pg.floatv``, ``pg.permutate``; see
:mod:`symnas.space.pyglove` for the conversion both ways) and are validated once, when created.

Example::

    import symnas as sn
    kernel = sn.oneof([3, 5, 7], name="kernel")
    width = sn.intv(16, 128, step=16)
    lr = sn.floatv(1e-4, 1e-1, scale="log")
    ops = sn.manyof(2, ["conv", "pool", "skip"], distinct=True, sorted=True)
"""
from __future__ import annotations

import math
import threading
from typing import Any, Iterable, Literal, Optional, Sequence

from symnas.errors import SpaceError

__all__ = [
    "Placeholder", "OneOf", "ManyOf", "IntRange", "FloatRange", "Permutation",
    "oneof", "manyof", "intv", "floatv", "boolv", "permutation",
]


def _where(name: Optional[str]) -> str:
    return f" (decision {name!r})" if name else ""


class Placeholder:
    """Base class of all placeholders. ``name`` ties every use of the placeholder to one decision."""

    __slots__ = ("name", "hints")
    kind: str = ""

    def __init__(self, name: Optional[str] = None, hints: Any = None) -> None:
        if name is not None and (not isinstance(name, str) or not name):
            raise SpaceError(f"a decision name must be a non-empty string, got {name!r}")
        self.name = name
        self.hints = hints

    def _key(self) -> tuple:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self._key())))

    def __iter__(self):  # Closes the ``nn.Sequential(*choice)`` trap with a clear message.
        raise SpaceError(
            f"{self!r} is a placeholder, not a list: it cannot be unpacked with '*' or iterated while the space is "
            "written. Pass it as one argument instead, e.g. sn.nn.Sequential(stem, sn.manyof(...), head): list "
            "arguments of Sequential are flattened when the candidate is built."
        )

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self._fields() if v is not None)
        return f"{type(self).__name__}({body})"

    def _fields(self) -> list[tuple[str, Any]]:
        return [("name", self.name)]


class OneOf(Placeholder):
    """Choose one of ``candidates``. Candidates may be values, sub-spaces (specs, lists, dicts) or placeholders."""

    __slots__ = ("candidates", "ordered")
    kind = "choice"

    def __init__(self, candidates: Iterable[Any], name: Optional[str] = None, *, ordered: bool = False,
                 hints: Any = None) -> None:
        super().__init__(name, hints)
        if isinstance(candidates, (str, bytes)) or not isinstance(candidates, Iterable):
            raise SpaceError(f"oneof{_where(name)}: candidates must be a list, got {type(candidates).__name__}")
        self.candidates = tuple(candidates)
        if not self.candidates:
            raise SpaceError(f"oneof{_where(name)}: empty candidate list")
        self.ordered = bool(ordered)

    def _key(self) -> tuple:
        return (self.name, self.candidates, self.ordered)

    def _fields(self) -> list[tuple[str, Any]]:
        return [("candidates", list(self.candidates)), ("name", self.name), ("ordered", self.ordered or None)]


class ManyOf(Placeholder):
    """Choose ``k`` of ``candidates`` (a list of k values), optionally distinct and/or sorted by candidate order."""

    __slots__ = ("k", "candidates", "distinct", "sorted")
    kind = "subset"

    def __init__(self, k: int, candidates: Iterable[Any], name: Optional[str] = None, *, distinct: bool = True,
                 sorted: bool = False, hints: Any = None) -> None:  # noqa: A002 - mirrors pg.manyof
        super().__init__(name, hints)
        self.candidates = tuple(candidates)
        if not self.candidates:
            raise SpaceError(f"manyof{_where(name)}: empty candidate list")
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise SpaceError(f"manyof{_where(name)}: k must be a positive int, got {k!r}")
        if distinct and k > len(self.candidates):
            raise SpaceError(f"manyof{_where(name)}: cannot choose {k} distinct of {len(self.candidates)} candidates")
        self.k, self.distinct, self.sorted = k, bool(distinct), bool(sorted)

    def _key(self) -> tuple:
        return (self.name, self.k, self.candidates, self.distinct, self.sorted)

    def _fields(self) -> list[tuple[str, Any]]:
        return [("k", self.k), ("candidates", list(self.candidates)), ("name", self.name),
                ("distinct", self.distinct), ("sorted", self.sorted)]


class IntRange(Placeholder):
    """An integer in ``[low, high]`` (both inclusive), on a grid of ``step``, linear or log scale."""

    __slots__ = ("low", "high", "step", "log")
    kind = "int"

    def __init__(self, low: int, high: int, name: Optional[str] = None, *, step: int = 1, log: bool = False,
                 hints: Any = None) -> None:
        super().__init__(name, hints)
        for arg, v in (("low", low), ("high", high), ("step", step)):
            if not isinstance(v, int) or isinstance(v, bool):
                raise SpaceError(f"intv{_where(name)}: {arg} must be an int, got {v!r}")
        if low > high:
            raise SpaceError(f"intv{_where(name)}: low > high ({low} > {high})")
        if step < 1:
            raise SpaceError(f"intv{_where(name)}: step must be >= 1, got {step}")
        if log and low <= 0:
            raise SpaceError(f"intv{_where(name)}: log scale needs low > 0, got {low}")
        if log and step != 1:
            raise SpaceError(f"intv{_where(name)}: log scale cannot have a step")
        self.low, self.high, self.step, self.log = low, low + (high - low) // step * step, step, bool(log)

    def _key(self) -> tuple:
        return (self.name, self.low, self.high, self.step, self.log)

    def _fields(self) -> list[tuple[str, Any]]:
        return [("low", self.low), ("high", self.high), ("name", self.name),
                ("step", self.step if self.step != 1 else None), ("log", self.log or None)]

    @property
    def count(self) -> int:
        return (self.high - self.low) // self.step + 1


class FloatRange(Placeholder):
    """A float in ``[low, high]``; ``scale`` is ``'linear'`` or ``'log'``; ``step`` quantises (linear only)."""

    __slots__ = ("low", "high", "scale", "step")
    kind = "float"

    def __init__(self, low: float, high: float, name: Optional[str] = None, *,
                 scale: Literal["linear", "log"] = "linear", step: Optional[float] = None, hints: Any = None) -> None:
        super().__init__(name, hints)
        for arg, v in (("low", low), ("high", high)):
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                raise SpaceError(f"floatv{_where(name)}: {arg} must be a finite number, got {v!r}")
        if low > high:
            raise SpaceError(f"floatv{_where(name)}: low > high ({low} > {high})")
        if scale not in ("linear", "log"):
            raise SpaceError(f"floatv{_where(name)}: scale must be 'linear' or 'log', got {scale!r}")
        if scale == "log" and low <= 0:
            raise SpaceError(f"floatv{_where(name)}: log scale needs low > 0, got {low}")
        if step is not None:
            if scale == "log":
                raise SpaceError(f"floatv{_where(name)}: log scale cannot have a step")
            if not isinstance(step, (int, float)) or step <= 0:
                raise SpaceError(f"floatv{_where(name)}: step must be > 0, got {step!r}")
            step = float(step)
        self.low, self.high, self.scale, self.step = float(low), float(high), scale, step

    def _key(self) -> tuple:
        return (self.name, self.low, self.high, self.scale, self.step)

    def _fields(self) -> list[tuple[str, Any]]:
        return [("low", self.low), ("high", self.high), ("name", self.name),
                ("scale", self.scale if self.scale != "linear" else None), ("step", self.step)]


class Permutation(Placeholder):
    """An ordering of all ``items``."""

    __slots__ = ("items",)
    kind = "perm"

    def __init__(self, items: Iterable[Any], name: Optional[str] = None, *, hints: Any = None) -> None:
        super().__init__(name, hints)
        self.items = tuple(items)
        if not self.items:
            raise SpaceError(f"permutation{_where(name)}: empty item list")

    def _key(self) -> tuple:
        return (self.name, self.items)

    def _fields(self) -> list[tuple[str, Any]]:
        return [("items", list(self.items)), ("name", self.name)]


def oneof(candidates: Sequence[Any], name: Optional[str] = None, *, ordered: bool = False,
          hints: Any = None) -> Any:
    """Choose one of ``candidates``. ``ordered=True`` marks an ordinal choice (mutation moves to neighbours).

    Typed ``Any`` so it can stand wherever a concrete value goes (``kernel_size=sn.oneof([3, 5])``). Inside a
    define-by-run function (:func:`symnas.trace`) it returns the chosen value.
    """
    return _maybe_resolve(OneOf(candidates, name, ordered=ordered, hints=hints))


def manyof(k: int, candidates: Sequence[Any], name: Optional[str] = None, *, distinct: bool = True,
           sorted: bool = False, hints: Any = None) -> Any:  # noqa: A002
    """Choose ``k`` of ``candidates``; the value is a list of length k."""
    return _maybe_resolve(ManyOf(k, candidates, name, distinct=distinct, sorted=sorted, hints=hints))


def intv(low: int, high: int, name: Optional[str] = None, *, step: int = 1, log: bool = False,
         hints: Any = None) -> Any:
    """An integer in ``[low, high]`` inclusive."""
    return _maybe_resolve(IntRange(low, high, name, step=step, log=log, hints=hints))


def floatv(low: float, high: float, name: Optional[str] = None, *, scale: Literal["linear", "log"] = "linear",
           step: Optional[float] = None, hints: Any = None) -> Any:
    """A float in ``[low, high]`` on a linear or log scale."""
    return _maybe_resolve(FloatRange(low, high, name, scale=scale, step=step, hints=hints))


def boolv(name: Optional[str] = None) -> Any:
    """A boolean decision (``oneof([False, True])``)."""
    return _maybe_resolve(OneOf((False, True), name, hints="bool"))


def permutation(items: Sequence[Any], name: Optional[str] = None, *, hints: Any = None) -> Any:
    """An ordering of ``items``; the value is a list."""
    return _maybe_resolve(Permutation(items, name, hints=hints))


_TRACE = threading.local()


def active_resolver() -> Any:
    """The define-by-run context of this thread (set by :func:`symnas.trace`), or None."""
    return getattr(_TRACE, "ctx", None)


def set_active_resolver(ctx: Any) -> None:
    """Installs (or, with None, removes) this thread's define-by-run context; used by :mod:`symnas.space.trace`."""
    _TRACE.ctx = ctx


def _maybe_resolve(ph: Placeholder) -> Any:
    """Inside a define-by-run trace, a placeholder call returns a concrete value."""
    ctx = active_resolver()
    return ph if ctx is None else ctx.resolve(ph)
