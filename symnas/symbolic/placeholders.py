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
    depth = sn.ordinal([2, 4, 8])        # values with an order: mutation moves to a neighbour

Each placeholder class owns its JSON form (``json_tag``, :meth:`Placeholder.to_json`, :meth:`Placeholder.from_json`,
registered by tag in :data:`JSON_TAGS`); its behaviour as a decision (sampling, mutation, grids, conversions) is
owned by the decision kind of the same ``kind`` name in :mod:`symnas.genome.kinds`. A new kind is one placeholder
class here and one kind class there.
"""
from __future__ import annotations

import math
import threading
from typing import Any, Callable, ClassVar, Iterable, Literal, Optional, Sequence

from symnas.errors import SpaceError

__all__ = [
    "Placeholder", "OneOf", "Ordinal", "ManyOf", "IntRange", "FloatRange", "Permutation", "JSON_TAGS",
    "oneof", "ordinal", "manyof", "intv", "floatv", "boolv", "permutation",
]

#: JSON tag (``"_oneof"``, ...) -> placeholder class; filled by each class that declares a ``json_tag``.
JSON_TAGS: dict[str, type["Placeholder"]] = {}

Encoder = Callable[[Any], Any]


def _where(name: Optional[str]) -> str:
    return f" (decision {name!r})" if name else ""


class Placeholder:
    """Base class of all placeholders. ``name`` ties every use of the placeholder to one decision."""

    __slots__ = ("name", "hints")
    kind: ClassVar[str] = ""
    #: The JSON key that marks this placeholder (``{"_oneof": [...], ...}``); set by every concrete class.
    json_tag: ClassVar[str] = ""
    #: Keys its JSON form may hold besides the tag (anything else is an error naming the key path).
    json_options: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        tag = cls.__dict__.get("json_tag")
        if tag:
            if tag in JSON_TAGS:
                raise SpaceError(f"JSON tag {tag!r} of {cls.__name__} is taken by {JSON_TAGS[tag].__name__}")
            JSON_TAGS[tag] = cls

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
        from symnas.symbolic.spec import fmt_value  # classes by name: nn.GELU

        body = ", ".join(f"{k}={fmt_value(v)}" for k, v in self._fields() if v is not None)
        return f"{type(self).__name__}({body})"

    def _fields(self) -> list[tuple[str, Any]]:
        return [("name", self.name)]

    # -- JSON ---------------------------------------------------------------------------------------------
    def to_json(self, encode: Encoder) -> dict[str, Any]:
        """The JSON-ready form; ``encode`` writes nested values (candidates)."""
        raise NotImplementedError

    @classmethod
    def from_json(cls, j: dict[str, Any], r: Any) -> "Placeholder":
        """Rebuilds the placeholder from :meth:`to_json`'s form, reading each field through ``r``
        (:class:`symnas.symbolic.jsonio.Fields`: checked values, nested values decoded, errors with the key path).
        The keys it may read besides the tag are :attr:`json_options`."""
        raise NotImplementedError

    def _items_json(self, items: tuple, encode: Encoder) -> dict[str, Any]:
        """``{tag: [items], "name": ..., "hints": ...}``: the form of placeholders built as ``cls(items, name,
        hints=...)``, read back by :meth:`_from_items_json`."""
        d: dict[str, Any] = {self.json_tag: [encode(c) for c in items]}
        if self.name is not None:
            d["name"] = self.name
        if self.hints is not None:
            d["hints"] = self.hints
        return d

    @classmethod
    def _from_items_json(cls, j: dict[str, Any], r: Any) -> "Placeholder":
        return cls(r.items(), r.name(), hints=r.hints)  # type: ignore[call-arg]


class OneOf(Placeholder):
    """Choose one of ``candidates``. Candidates may be values, sub-spaces (specs, lists, dicts) or placeholders."""

    __slots__ = ("candidates", "ordered")
    kind = "choice"
    json_tag = "_oneof"
    json_options: ClassVar[frozenset[str]] = frozenset({"name", "ordered", "hints"})

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

    def to_json(self, encode: Encoder) -> dict[str, Any]:
        d: dict[str, Any] = {self.json_tag: [encode(c) for c in self.candidates]}
        if self.name is not None:
            d["name"] = self.name
        if self.ordered:
            d["ordered"] = True
        if self.hints is not None:
            d["hints"] = self.hints
        return d

    @classmethod
    def from_json(cls, j: dict[str, Any], r: Any) -> "Placeholder":
        return OneOf(r.items(), r.name(), ordered=r.flag("ordered", False), hints=r.hints)


class Ordinal(OneOf):
    """One of ``values`` that have an order (``small < medium < large``; ``2 < 4 < 8``).

    Sampled like a choice, mutated to a neighbouring value, and compared by position in conditions
    (``depth >= 4``). Values may be sub-spaces, as for :class:`OneOf`. ``ordered`` is always True, so code that
    knows only :class:`OneOf` treats it as an ordered choice.
    """

    __slots__ = ()
    kind = "ordinal"
    json_tag = "_ordinal"
    json_options: ClassVar[frozenset[str]] = frozenset({"name", "hints"})

    def __init__(self, values: Iterable[Any], name: Optional[str] = None, *, hints: Any = None) -> None:
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise SpaceError(f"ordinal{_where(name)}: values must be a list, got {type(values).__name__}")
        values = tuple(values)
        if not values:
            raise SpaceError(f"ordinal{_where(name)}: empty value list")
        super().__init__(values, name, ordered=True, hints=hints)

    @property
    def values(self) -> tuple:
        """The values, lowest first (the same tuple as ``candidates``)."""
        return self.candidates

    def _key(self) -> tuple:
        return (self.name, self.candidates)

    def _fields(self) -> list[tuple[str, Any]]:
        return [("values", list(self.candidates)), ("name", self.name)]

    def to_json(self, encode: Encoder) -> dict[str, Any]:
        return self._items_json(self.candidates, encode)

    @classmethod
    def from_json(cls, j: dict[str, Any], r: Any) -> "Placeholder":
        return cls._from_items_json(j, r)


class ManyOf(Placeholder):
    """Choose ``k`` of ``candidates`` (a list of k values), optionally distinct and/or sorted by candidate order."""

    __slots__ = ("k", "candidates", "distinct", "sorted")
    kind = "subset"
    json_tag = "_manyof"
    json_options: ClassVar[frozenset[str]] = frozenset({"k", "name", "distinct", "sorted", "hints"})

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

    def to_json(self, encode: Encoder) -> dict[str, Any]:
        d: dict[str, Any] = {self.json_tag: [encode(c) for c in self.candidates], "k": self.k}
        if self.name is not None:
            d["name"] = self.name
        if not self.distinct:
            d["distinct"] = False
        if self.sorted:
            d["sorted"] = True
        if self.hints is not None:
            d["hints"] = self.hints
        return d

    @classmethod
    def from_json(cls, j: dict[str, Any], r: Any) -> "Placeholder":
        return ManyOf(r.integer("k"), r.items(), r.name(), distinct=r.flag("distinct", True),
                      sorted=r.flag("sorted", False), hints=r.hints)


class IntRange(Placeholder):
    """An integer in ``[low, high]`` (both inclusive), on a grid of ``step``, linear or log scale."""

    __slots__ = ("low", "high", "step", "log")
    kind = "int"
    json_tag = "_int"
    json_options: ClassVar[frozenset[str]] = frozenset({"name", "step", "log", "hints"})

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

    def to_json(self, encode: Encoder) -> dict[str, Any]:
        d: dict[str, Any] = {self.json_tag: [self.low, self.high]}
        if self.name is not None:
            d["name"] = self.name
        if self.step != 1:
            d["step"] = self.step
        if self.log:
            d["log"] = True
        if self.hints is not None:
            d["hints"] = self.hints
        return d

    @classmethod
    def from_json(cls, j: dict[str, Any], r: Any) -> "Placeholder":
        lo, hi = r.bounds(integers=True)
        return IntRange(lo, hi, r.name(), step=r.integer("step", 1), log=r.flag("log", False), hints=r.hints)


class FloatRange(Placeholder):
    """A float in ``[low, high]``; ``scale`` is ``'linear'`` or ``'log'``; ``step`` quantises (linear only)."""

    __slots__ = ("low", "high", "scale", "step")
    kind = "float"
    json_tag = "_float"
    json_options: ClassVar[frozenset[str]] = frozenset({"name", "scale", "step", "hints"})

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

    def to_json(self, encode: Encoder) -> dict[str, Any]:
        d: dict[str, Any] = {self.json_tag: [self.low, self.high]}
        if self.name is not None:
            d["name"] = self.name
        if self.scale != "linear":
            d["scale"] = self.scale
        if self.step is not None:
            d["step"] = self.step
        if self.hints is not None:
            d["hints"] = self.hints
        return d

    @classmethod
    def from_json(cls, j: dict[str, Any], r: Any) -> "Placeholder":
        lo, hi = r.bounds(integers=False)
        return FloatRange(lo, hi, r.name(), scale=r.text("scale", "linear"), step=r.number("step"), hints=r.hints)


class Permutation(Placeholder):
    """An ordering of all ``items``."""

    __slots__ = ("items",)
    kind = "perm"
    json_tag = "_perm"
    json_options: ClassVar[frozenset[str]] = frozenset({"name", "hints"})

    def __init__(self, items: Iterable[Any], name: Optional[str] = None, *, hints: Any = None) -> None:
        super().__init__(name, hints)
        self.items = tuple(items)
        if not self.items:
            raise SpaceError(f"permutation{_where(name)}: empty item list")

    def _key(self) -> tuple:
        return (self.name, self.items)

    def _fields(self) -> list[tuple[str, Any]]:
        return [("items", list(self.items)), ("name", self.name)]

    def to_json(self, encode: Encoder) -> dict[str, Any]:
        return self._items_json(self.items, encode)

    @classmethod
    def from_json(cls, j: dict[str, Any], r: Any) -> "Placeholder":
        return cls._from_items_json(j, r)


def oneof(candidates: Sequence[Any], name: Optional[str] = None, *, ordered: bool = False,
          hints: Any = None) -> Any:
    """Choose one of ``candidates``. ``ordered=True`` marks an ordinal choice (mutation moves to neighbours).

    Typed ``Any`` so it can stand wherever a concrete value goes (``kernel_size=sn.oneof([3, 5])``). Inside a
    define-by-run function (:func:`symnas.trace`) it returns the chosen value.
    """
    return _maybe_resolve(OneOf(candidates, name, ordered=ordered, hints=hints))


def ordinal(values: Sequence[Any], name: Optional[str] = None, *, hints: Any = None) -> Any:
    """One of ``values``, which have an order (lowest first): sampled like a choice, mutated to a neighbouring
    value, compared by position in conditions.

    Example::

        width = sn.ordinal([16, 32, 64, 128], name="width")
    """
    return _maybe_resolve(Ordinal(values, name, hints=hints))


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
