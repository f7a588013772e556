"""Define-by-run spaces: placeholders called inside code that builds modules dynamically.

Inside a function traced with :func:`trace`, ``sn.oneof(...)``, ``sn.intv(...)`` and the other placeholders return
concrete values instead of placeholders, so ordinary Python control flow (a loop whose length is a choice, a branch
on a choice) can depend on them. Tracing runs the function on the ``meta`` device (no weights) several times to
discover every decision and when it is active: a decision that only appears for some values of another becomes
conditional on it. Decisions are named by ``name=`` or, failing that, by call site and occurrence
(``make_net:14#2``).

Example::

    def make_net():
        depth = sn.intv(1, 3, name="depth")
        layers = [nn.Linear(16, 16)]
        for i in range(depth):
            layers += [nn.Linear(16, 16), sn.oneof([nn.ReLU, nn.GELU], name=f"act{i}")()]
        return nn.Sequential(*layers)

    space = sn.trace(make_net)        # act1 is active when depth >= 2, act2 when depth == 3
    model = space.build(space.sample(seed=0))
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Optional

from symnas.errors import DecisionError, SpaceError
from symnas.symbolic.placeholders import (FloatRange, IntRange, ManyOf, OneOf, Permutation, Placeholder, active_resolver,
                                          set_active_resolver)
from symnas.space.space import Space
from symnas.symbolic.spec import Spec, target_path

__all__ = ["trace", "current", "Tracer", "TracedBuilder", "Resolver"]

_MAX_RUNS = 2000
_MAX_INT_VALUES = 32


def current() -> Optional["_Context"]:
    """The active define-by-run context of this thread, if any."""
    return active_resolver()


class _Context:
    """Resolves placeholders during one run: from an assignment (collect) or a description (apply)."""

    def __init__(self, values: dict[str, Any], collect: bool) -> None:
        self.values = values
        self.collect = collect
        self.order: list[str] = []
        self.found: dict[str, Placeholder] = {}
        self.sites: dict[str, int] = {}

    def __enter__(self) -> "_Context":
        self.outer = current()
        set_active_resolver(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        set_active_resolver(self.outer)

    def name_of(self, ph: Placeholder) -> str:
        if ph.name:
            return ph.name
        frame = sys._getframe(4)  # the caller of sn.oneof(...)
        site = f"{frame.f_code.co_name}:{frame.f_lineno}"
        n = self.sites.get(site, 0)
        self.sites[site] = n + 1
        return f"{site}#{n}"

    def resolve(self, ph: Placeholder) -> Any:
        name = self.name_of(ph)
        if name not in self.found:
            self.found[name] = ph
            self.order.append(name)
        elif self.found[name] != _named(ph, self.found[name].name):
            raise SpaceError(f"{name}: decision name used for two different placeholders")
        if not self.collect:
            if name not in self.values:
                raise DecisionError(f"{name}: decision was not seen while the space was traced (the traced "
                                    "function must make the same decisions for the same values)")
            return self.values[name]
        return _value(ph, self.values.get(name))


def _named(ph: Placeholder, name: Optional[str]) -> Placeholder:
    import copy

    out = copy.copy(ph)
    out.name = name
    return out


def _value(ph: Placeholder, gene: Any) -> Any:
    """The concrete value of ``ph`` for an exploration gene (``None``: the default)."""
    if isinstance(ph, OneOf):
        return ph.candidates[gene or 0]
    if isinstance(ph, IntRange):
        return ph.low if gene is None else gene
    if isinstance(ph, FloatRange):
        return ph.low if gene is None else gene
    if isinstance(ph, ManyOf):
        return list(ph.candidates[: ph.k]) if ph.distinct else [ph.candidates[0]] * ph.k
    if isinstance(ph, Permutation):
        return list(ph.items)
    raise SpaceError(f"unsupported placeholder {ph!r}")


def _alternatives(ph: Placeholder) -> list[Any]:
    if isinstance(ph, OneOf):
        return list(range(len(ph.candidates)))
    if isinstance(ph, IntRange) and ph.count <= _MAX_INT_VALUES:
        return list(range(ph.low, ph.high + 1, ph.step))
    return []


class Tracer:
    """Discovers the decisions of a define-by-run function and the conditions under which each is active."""

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.runs = 0

    def run(self, assign: dict[str, Any]) -> list[str]:
        import torch

        self.runs += 1
        if self.runs > _MAX_RUNS:
            raise SpaceError(f"trace({target_path(self.fn)}): more than {_MAX_RUNS} runs to explore the space; "
                             "name the decisions and keep conditional nesting shallow")
        with _Context(assign, collect=True) as ctx:
            try:
                with torch.device("meta"):
                    self.fn(*self.args, **self.kwargs)
            except (SpaceError, DecisionError):
                raise
            except Exception:
                self.fn(*self.args, **self.kwargs)
        self.found.update(ctx.found)
        return ctx.order

    def explore(self) -> tuple[list[str], dict[str, Placeholder], dict[str, tuple[str, frozenset]]]:
        self.found: dict[str, Placeholder] = {}
        base = self.run({})
        order = list(base)
        parent: dict[str, tuple[str, frozenset]] = {}
        self._explore({}, base, base, order, parent)
        return order, self.found, parent

    def _explore(self, assign: dict[str, Any], full: list[str], names: list[str], order: list[str],
                 parent: dict[str, tuple[str, frozenset]]) -> None:
        """Varies each decision of ``names`` (with ``assign`` fixed; ``full`` is the run under ``assign``)."""
        present_in = set(full)
        for d in names:
            alts = _alternatives(self.found[d])
            if len(alts) < 2:
                continue
            seen_with: dict[str, set] = {}
            for v in alts:
                trial = {**assign, d: v}
                got = self.run(trial) if v != assign.get(d, alts[0]) else full
                for n in got:
                    seen_with.setdefault(n, set()).add(v)
                new = [n for n in got if n not in order]
                if new:
                    for n in new:
                        order.insert(self._after(order, d, got, n), n)
                    self._explore(trial, got, new, order, parent)
            for n, vals in seen_with.items():
                if n == d or len(vals) == len(alts):
                    continue
                genes = frozenset(vals)
                if n in parent and parent[n][0] != d:
                    if n in present_in or parent[n][0] in seen_with:
                        continue  # already explained by an outer decision
                    raise SpaceError(f"{n}: active under conditions on both {parent[n][0]!r} and {d!r}; "
                                     "define-by-run spaces support one parent decision per decision")
                parent[n] = (d, genes | parent.get(n, (d, frozenset()))[1])

    @staticmethod
    def _after(order: list[str], parent: str, got: list[str], name: str) -> int:
        """Insert position keeping the run's call order and parents before children."""
        i = got.index(name)
        prev = [n for n in got[:i] if n in order]
        pos = max([order.index(parent)] + [order.index(n) for n in prev]) + 1
        return pos


class TracedBuilder:
    """Builds a candidate of a traced function: runs ``fn(*args, **kwargs)`` with the chosen values.

    ``spec`` is its recipe: the function named by import path, so a description read from JSON builds in any
    process where the function's module is registered or allowed (``sn.allow_import``).

    Example::

        b = TracedBuilder(make_net)
        model = b({"depth": 2, "act0": nn.GELU, "act1": nn.ReLU}, seed=0)
    """

    def __init__(self, fn: Callable[..., Any], args: Any = (), kwargs: Optional[dict] = None) -> None:
        self.fn, self.args, self.kwargs = fn, tuple(args), dict(kwargs or {})
        self.spec = Spec(TracedBuilder, (), {"fn": fn, "args": list(self.args), "kwargs": dict(self.kwargs)})

    def __repr__(self) -> str:
        return f"TracedBuilder({target_path(self.fn)})"

    def __call__(self, description: dict[str, Any], seed: Optional[int] = None, device: Any = None) -> Any:
        import torch

        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            with _Context(dict(description), collect=False):
                out = self.fn(*self.args, **self.kwargs)
        return out.to(device) if device is not None and hasattr(out, "to") else out


def trace(fn: Callable[..., Any], *args: Any, name: Optional[str] = None, **kwargs: Any) -> Space:
    """Traces a define-by-run function into a space (see the module docstring)."""
    order, found, parent = Tracer(fn, args, kwargs).explore()
    if not order:
        raise SpaceError(f"trace({target_path(fn)}): the function called no placeholder")
    tree = {n: _named(found[n], n) for n in order}
    conditions = {}
    for n, (p, vals) in parent.items():
        conditions[n] = [(p, vals if isinstance(found[p], OneOf) else frozenset(vals))]
    return Space(tree, name=name or getattr(fn, "__name__", "traced"), builder=TracedBuilder(fn, args, kwargs),
                 conditions=conditions, meta={"function": target_path(fn)})


class Resolver(_Context):
    """A define-by-run context whose placeholders resolve to ``value(name, placeholder)``; names are those
    :func:`trace` gives (``name=`` or call site). The supernet compiler uses it to build choice modules.

    Example::

        with Resolver(lambda name, ph: ph.candidates[0]):
            model = make_net()
    """

    def __init__(self, value: Callable[[str, Placeholder], Any]) -> None:
        super().__init__({}, collect=False)
        self._value = value

    def resolve(self, ph: Placeholder) -> Any:
        return self._value(self.name_of(ph), ph)

