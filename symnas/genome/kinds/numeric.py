"""Numeric kinds: int and float ranges. One gene, the value itself, on a linear or log scale.

Example::

    from symnas.genome.kinds import kind_named
    ints = kind_named("int")
    ints.snap(d, 7.4)            # onto the decision's step grid, inside its bounds
    ints.grid(d, resolution=5)   # every value if there are at most 5, else 5 spread values
"""
from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

from symnas.genome.kinds.base import Kind, register
from symnas.symbolic.placeholders import FloatRange, IntRange

if TYPE_CHECKING:  # pragma: no cover
    from symnas.genome.table import Decision
    from symnas.genome.template import Node
    from symnas.symbolic.placeholders import Placeholder

__all__ = ["NumericKind", "IntKind", "FloatKind"]


class NumericKind(Kind):
    """Shared by int and float: the unit scale, snapping, grids, Gaussian-free parts of mutation."""

    numeric = True
    ordered = True

    def compile(self, c: Any, ph: "Placeholder", path: str, cond: Optional[tuple[int, frozenset]]) -> "Node":
        from symnas.genome.template import ValueNode

        d = c.new_decision(ph, path, cond, kind=self.name, **self.fields(ph))
        return ValueNode(d, path)

    def fields(self, ph: "Placeholder") -> dict[str, Any]:
        raise NotImplementedError

    def default(self, d: "Decision") -> tuple:
        return (self.cast(d.low),)

    def cast(self, v: Any) -> Any:
        raise NotImplementedError

    def to_unit(self, d: "Decision", v: float) -> float:
        """Position of ``v`` in [0, 1] of the decision's scale."""
        if d.high == d.low:
            return 0.0
        if d.log:
            return (math.log(v) - math.log(d.low)) / (math.log(d.high) - math.log(d.low))
        return (v - d.low) / (d.high - d.low)

    def from_unit(self, d: "Decision", u: float) -> float:
        """The value at ``u`` in [0, 1] of the decision's scale (clipped, not snapped)."""
        u = min(max(u, 0.0), 1.0)
        if d.log:
            return math.exp(math.log(d.low) + u * (math.log(d.high) - math.log(d.low)))
        return d.low + u * (d.high - d.low)

    def snap(self, d: "Decision", v: float) -> Any:
        """``v`` clipped into the bounds and onto the step grid."""
        raise NotImplementedError

    def grid(self, d: "Decision", resolution: int) -> list[tuple]:
        """Every value if there are at most ``resolution``, else ``resolution`` points evenly spread in the
        decision's scale (ends included)."""
        vals = self.values(d)
        if vals is not None and len(vals) <= resolution:
            return [(v,) for v in vals]
        if resolution <= 1:
            return [(self.snap(d, self.from_unit(d, 0.5)),)]
        out: list = []
        for i in range(resolution):
            v = self.snap(d, self.from_unit(d, i / (resolution - 1)))
            if v not in out:
                out.append(v)
        return [(v,) for v in out]

    def placeholder_values(self, ph: "Placeholder") -> Optional[list]:
        assert isinstance(ph, (IntRange, FloatRange))
        if isinstance(ph, IntRange):
            return list(range(ph.low, ph.high + 1, ph.step))
        if ph.step is None:
            return None
        return [ph.low + i * ph.step for i in range(int(round((ph.high - ph.low) / ph.step)) + 1)]

    def describe(self, d: "Decision") -> str:
        return f"[{d.low:g}, {d.high:g}]" + (" log" if d.log else "") + \
            (f" step {d.step:g}" if d.step and d.step != 1 else "")


@register
class IntKind(NumericKind):
    """An integer in ``[low, high]`` on a ``step`` grid or a log scale (``sn.intv``)."""

    name = "int"

    def fields(self, ph: "Placeholder") -> dict[str, Any]:
        assert isinstance(ph, IntRange)
        return {"low": ph.low, "high": ph.high, "step": ph.step, "log": ph.log}

    def cast(self, v: Any) -> Any:
        return int(v)

    def count(self, d: "Decision") -> float:
        return int((d.high - d.low) // (d.step or 1)) + 1

    def sample(self, d: "Decision", rng: random.Random) -> tuple:
        lo, hi = int(d.low), int(d.high)
        if d.log:
            v = int(math.floor(math.exp(rng.uniform(math.log(lo), math.log(hi + 1)))))
            return (min(max(v, lo), hi),)
        step = int(d.step or 1)
        return (lo + step * rng.randrange((hi - lo) // step + 1),)

    def check(self, d: "Decision", genes: Sequence[Any]) -> Optional[str]:
        v = genes[0]
        if not isinstance(v, int) or isinstance(v, bool):
            return f"expected an int, got {v!r}"
        if not (d.low <= v <= d.high):
            return f"value {v!r} not in [{d.low:g}, {d.high:g}]"
        if d.step and (v - d.low) % d.step:
            return f"value {v!r} is off the step {d.step:g} grid"
        return None

    def snap(self, d: "Decision", v: float) -> Any:
        step = int(d.step or 1)
        lo, hi = int(d.low), int(d.high)
        i = lo + step * int(round((v - lo) / step)) if not d.log else int(round(v))
        return min(max(i, lo), hi - ((hi - lo) % step))

    def values(self, d: "Decision") -> Optional[list]:
        return list(range(int(d.low), int(d.high) + 1, int(d.step or 1)))

    def mutate(self, d: "Decision", genes: tuple, rng: random.Random, sigma: float = 0.15) -> tuple:
        """A neighbour (±1 step, rarely farther); on a log scale a Gaussian step of ``sigma`` of the range."""
        lo, hi, step = int(d.low), int(d.high), int(d.step or 1)
        if hi - lo < step:
            return genes
        v = genes[0]
        if d.log:
            nv = self.snap(d, math.exp(math.log(max(v, 1e-12)) + rng.gauss(0.0, sigma) *
                                       (math.log(d.high) - math.log(d.low))))
            if nv == v:
                nv = v + 1 if v + 1 <= hi else v - 1
            return (nv,)
        mult = 1 if rng.random() < 0.8 else rng.randint(2, max(2, (hi - lo) // step))
        nv = v + mult * step if rng.random() < 0.5 else v - mult * step
        if not lo <= nv <= hi:
            nv = v - mult * step if lo <= v - mult * step else v + mult * step
        return (min(max(nv, lo), hi),)

    def neighbours(self, d: "Decision", genes: tuple) -> list[tuple]:
        step = int(d.step or 1)
        return [(v,) for v in (genes[0] - step, genes[0] + step) if d.low <= v <= d.high]

    def suggest_optuna(self, d: "Decision", trial: Any) -> tuple:
        if d.log:
            return (trial.suggest_int(d.path, int(d.low), int(d.high), log=True),)
        return (trial.suggest_int(d.path, int(d.low), int(d.high), step=int(d.step or 1)),)

    def to_dna(self, d: "Decision", genes: Sequence[Any]) -> list:
        return [(genes[0] - int(d.low)) // int(d.step or 1)]

    def from_dna(self, d: "Decision", numbers: Sequence[Any]) -> tuple:
        return (int(d.low) + int(numbers[0]) * int(d.step or 1),)

    def dsl_call(self, ph: "Placeholder", value: Callable[[Any], str],
                 literal: Callable[[Any], str]) -> tuple[str, list[str], list[str]]:
        assert isinstance(ph, IntRange)
        kw = ([f"step={ph.step}"] if ph.step != 1 else []) + (["log=True"] if ph.log else [])
        return "int", [str(ph.low), str(ph.high)], kw

    def trace_value(self, ph: "Placeholder", gene: Any) -> Any:
        assert isinstance(ph, IntRange)
        return ph.low if gene is None else gene

    def trace_alternatives(self, ph: "Placeholder", limit: int) -> list:
        assert isinstance(ph, IntRange)
        return list(range(ph.low, ph.high + 1, ph.step)) if ph.count <= limit else []


@register
class FloatKind(NumericKind):
    """A float in ``[low, high]``, linear (optionally quantised by ``step``) or log (``sn.floatv``)."""

    name = "float"
    float_genes = True

    def fields(self, ph: "Placeholder") -> dict[str, Any]:
        assert isinstance(ph, FloatRange)
        return {"low": ph.low, "high": ph.high, "step": ph.step, "log": ph.scale == "log"}

    def cast(self, v: Any) -> Any:
        return float(v)

    def count(self, d: "Decision") -> float:
        return math.inf if not d.step else int(round((d.high - d.low) / d.step)) + 1

    def sample(self, d: "Decision", rng: random.Random) -> tuple:
        if d.log:
            return (math.exp(rng.uniform(math.log(d.low), math.log(d.high))),)
        if d.step:
            return (d.low + d.step * rng.randrange(int(round((d.high - d.low) / d.step)) + 1),)
        return (rng.uniform(d.low, d.high),)

    def check(self, d: "Decision", genes: Sequence[Any]) -> Optional[str]:
        v = genes[0]
        if not isinstance(v, (int, float)) or not (d.low <= v <= d.high):
            return f"value {v!r} not in [{d.low:g}, {d.high:g}]"
        return None

    def snap(self, d: "Decision", v: float) -> Any:
        if d.step:
            n = int(round((d.high - d.low) / d.step))
            i = min(max(int(round((v - d.low) / d.step)), 0), n)
            return d.low + i * d.step
        return min(max(float(v), d.low), d.high)

    def values(self, d: "Decision") -> Optional[list]:
        if not d.step:
            return None
        return [d.low + i * d.step for i in range(int(self.count(d)))]

    def mutate(self, d: "Decision", genes: tuple, rng: random.Random, sigma: float = 0.15) -> tuple:
        """A Gaussian step of ``sigma`` of the range in the decision's own (log or linear) scale."""
        if d.high == d.low:
            return genes
        for _ in range(8):
            nv = self.snap(d, self.from_unit(d, self.to_unit(d, genes[0]) + rng.gauss(0.0, sigma)))
            if nv != genes[0]:
                return (nv,)
        return genes

    def neighbours(self, d: "Decision", genes: tuple) -> list[tuple]:
        if not d.step:
            return []
        return [(self.snap(d, v),) for v in (genes[0] - d.step, genes[0] + d.step) if d.low <= v <= d.high]

    def suggest_optuna(self, d: "Decision", trial: Any) -> tuple:
        if d.step and not d.log:
            return (trial.suggest_float(d.path, d.low, d.high, step=d.step),)
        return (trial.suggest_float(d.path, d.low, d.high, log=d.log),)

    def dsl_call(self, ph: "Placeholder", value: Callable[[Any], str],
                 literal: Callable[[Any], str]) -> tuple[str, list[str], list[str]]:
        assert isinstance(ph, FloatRange)
        kw = (["log=True"] if ph.scale == "log" else []) + ([f"step={literal(ph.step)}"] if ph.step is not None
                                                            else [])
        return "float", [literal(ph.low), literal(ph.high)], kw

    def trace_value(self, ph: "Placeholder", gene: Any) -> Any:
        assert isinstance(ph, FloatRange)
        return ph.low if gene is None else gene
