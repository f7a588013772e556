"""Channel widths of an unedited model: which constructor arguments must follow when a tensor's width changes.

:func:`analyse` traces a model built on the ``meta`` device with ``torch.fx`` (shapes propagated from an example
input) and groups the channel dimensions of its tensors into **width groups**: one group per tensor width that can
change together. A convolution's or linear layer's output starts a group; element-wise ops (a residual ``x + y``,
a squeeze-excitation ``x * s``) join the groups they combine; depthwise convolutions, BatchNorm, LayerNorm,
GroupNorm, pooling, activations, flatten/reshape and matmul carry them. Every constructor argument that depends on
a group (``in_channels``, ``num_features``, ``in_features`` of a classifier after ``flatten``, a depthwise conv's
``groups``, ...) is recorded as a formula of the group widths, so a candidate's arguments follow its widths.

A group is **fixed** when its width cannot change without breaking the model: it reaches the model's output, meets
a tensor of fixed size (a parameter used directly, a position embedding), is split by a reshape with hard-coded
sizes (attention heads), or enters an op this analysis does not know (an ``nn.MultiheadAttention``, a functional
op with its own weights). A :class:`Width` rule that touches a fixed group is an error naming the reason.

Example::

    plan = analyse(model_on_meta, (torch.zeros(2, 3, 32, 32, device="meta"),))
    g = plan.producer_group["layer1.0.conv1"]
    plan.args_for({g: 24})      # {'layer1.0.conv1': {'out_channels': 24}, 'layer1.0.bn1': {...}, ...}
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

from symnas.errors import SpaceError
from symnas.symbolic.placeholders import OneOf, Placeholder
from symnas.symbolic.spec import Spec
from symnas.space.widthgraph import GraphWalk, known_layer

__all__ = ["Width", "WidthPlan", "analyse", "make_divisible"]

# A label of one tensor dimension: ``None`` (fixed size) or ``(terms, const)`` with size
# ``const + sum(factor * width[group])``.
Lab = Optional[tuple[tuple[tuple[int, int], ...], int]]


class Width:
    """A width rule: the output width of every module whose path matches ``where`` is a decision.

    Args:
      where: glob over module paths in dotted torch form (``'layer3.*'``, ``'features.*'``).
      mult: a placeholder over multipliers of the original width (``sn.oneof([0.5, 1.0, 1.5])``).
      channels: instead of ``mult``, a placeholder over absolute widths (``sn.oneof([16, 32])``).
      name: one tied decision for all matched groups (e.g. ``'stage3'``); without it there is one decision per
        width group, named after its first producer (``layer3[0].conv1.width``).
      divisor: changed widths are rounded to a multiple of this (grouped convs and GroupNorm add their group
        counts); a multiplier of 1 keeps the original width.
      cls: only modules of this class (e.g. ``nn.Conv2d``) produce matched widths.

    Example::

        sn.Width("layer3.*", sn.oneof([0.5, 1.0, 1.5]), name="stage3", divisor=4)
    """

    def __new__(klass, *args: Any, **kwargs: Any) -> "Width":
        self = super().__new__(klass)
        self.spec = Spec(klass, args, kwargs)  # the rule as written: a patched space's recipe names it in JSON
        return self

    def __init__(self, where: str, mult: Any = None, *, channels: Any = None, name: Optional[str] = None,
                 divisor: int = 1, cls: Optional[type] = None) -> None:
        if (mult is None) == (channels is None):
            raise SpaceError(f"Width({where!r}): give exactly one of mult= or channels=")
        ph = mult if mult is not None else channels
        if not isinstance(ph, Placeholder):
            raise SpaceError(f"Width({where!r}): mult/channels must be a placeholder, e.g. sn.oneof([0.5, 1.0])")
        if not isinstance(ph, OneOf):
            raise SpaceError(f"Width({where!r}): widths are a sn.oneof over numbers (got {type(ph).__name__})")
        for v in ph.candidates:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
                raise SpaceError(f"Width({where!r}): {v!r} is not a positive number")
        if not isinstance(divisor, int) or divisor < 1:
            raise SpaceError(f"Width({where!r}): divisor must be a positive int, got {divisor!r}")
        self.where, self.placeholder, self.absolute = where, ph, channels is not None
        self.name, self.divisor, self.cls = name, divisor, cls

    def width(self, value: Any, base: int, divisor: int) -> int:
        """The width a group of original width ``base`` takes for the decision value ``value`` (1x keeps it)."""
        if not self.absolute and value == 1:
            return base
        target = value if self.absolute else base * value
        return make_divisible(target, divisor)

    def __repr__(self) -> str:
        return f"Width({self.where!r})"


def make_divisible(v: float, divisor: int) -> int:
    """``v`` rounded to the nearest multiple of ``divisor`` (never below ``divisor`` or 10% under ``v``)."""
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new < 0.9 * v:
        new += divisor
    return int(new)


class WidthPlan:
    """The width groups of one model and the constructor arguments that depend on them.

    Attributes:
      base: ``{group: original width}`` (root groups only).
      fixed: ``{group: reason}`` for groups whose width cannot change.
      divisor: ``{group: int}`` every width of the group must be a multiple of.
      producer_group: ``{module path: group}`` for modules whose output width starts a group.
      args: ``{module path: {argument: formula}}``.
    """

    def __init__(self) -> None:
        self._parent: list[int] = []
        self._base: list[int] = []
        self._fixed: dict[int, str] = {}
        self._div: dict[int, int] = {}
        self._producer: dict[str, int] = {}
        self._args: dict[str, dict[str, Any]] = {}
        self._alias: dict[int, Lab] = {}  # root group -> the label its width equals (a concatenation)
        self._output: set[int] = set()    # root groups that reach the model's output

    # -- union-find ---------------------------------------------------------------------------------------
    def new(self, size: int) -> int:
        self._parent.append(len(self._parent))
        self._base.append(int(size))
        return len(self._parent) - 1

    def find(self, g: int) -> int:
        while self._parent[g] != g:
            self._parent[g] = self._parent[self._parent[g]]
            g = self._parent[g]
        return g

    def union(self, a: int, b: int) -> int:
        a, b = self.find(a), self.find(b)
        if a != b:
            lo, hi = min(a, b), max(a, b)
            self._parent[hi] = lo
            if hi in self._fixed and lo not in self._fixed:
                self._fixed[lo] = self._fixed[hi]
            self._div[lo] = _lcm(self._div.get(lo, 1), self._div.get(hi, 1))
        return self.find(a)

    def freeze(self, lab: Lab, reason: str) -> None:
        for g, _ in (lab[0] if lab else ()):
            self._fixed.setdefault(self.find(g), reason)

    def divide(self, lab: Lab, d: int) -> None:
        """Every width ``lab`` takes must be a multiple of ``d`` (``f * w % d == 0`` for one group)."""
        lab = self.norm(lab)
        if lab and len(lab[0]) == 1 and lab[1] == 0:
            (g, f), = lab[0]
            self._div[g] = _lcm(self._div.get(g, 1), d // math.gcd(d, f))
        elif lab:
            self.freeze(lab, f"it must stay a multiple of {d} (groups) and mixes several widths")

    def norm(self, lab: Lab) -> Lab:
        if lab is None:
            return None
        terms: dict[int, int] = {}
        const = lab[1]
        for g, f in lab[0]:
            r = self.find(g)
            alias = self._alias.get(r)
            if alias is None:
                terms[r] = terms.get(r, 0) + f
                continue
            sub = self.norm(alias)
            assert sub is not None
            for g2, f2 in sub[0]:
                terms[g2] = terms.get(g2, 0) + f * f2
            const += f * sub[1]
        return (tuple(sorted(terms.items())), const) if terms else None

    def merge(self, a: Lab, b: Lab, why: str) -> Lab:
        """The label of two dimensions that must have one size."""
        a, b = self.norm(a), self.norm(b)
        if a == b:
            return a
        if a is None or b is None:
            self.freeze(a or b, why)
            return None
        if len(a[0]) == 1 and len(b[0]) == 1 and a[1] == b[1] == 0 and a[0][0][1] == b[0][0][1]:
            return self.norm((((self.union(a[0][0][0], b[0][0][0]), a[0][0][1]),), 0))
        for one, other in ((a, b), (b, a)):  # a producer's width set equal to a sum of widths: it follows them
            if len(one[0]) == 1 and one[1] == 0 and one[0][0][1] == 1 and not self.fixed(one[0][0][0]) \
                    and all(g != one[0][0][0] for g, _ in other[0]):
                self._alias[one[0][0][0]] = other
                return other
        self.freeze(a, why)
        self.freeze(b, why)
        return a

    # -- results ------------------------------------------------------------------------------------------
    @property
    def producer_group(self) -> dict[str, int]:
        return {p: self.find(g) for p, g in self._producer.items()}

    def base(self, g: int) -> int:
        return self._base[self.find(g)]

    def fixed(self, g: int, output_ok: bool = False) -> Optional[str]:
        """Why group ``g`` cannot change (``None`` if it can); with ``output_ok`` a width that reaches the model's
        output may change (a rule that sets it explicitly)."""
        r = self.find(g)
        if r in self._alias:
            return "its width follows other widths it is combined with (a concatenation)"
        if r in self._fixed:
            return self._fixed[r]
        if r in self._output and not output_ok:
            return "it is part of the model's output"
        return None

    def mark_output(self, lab: Lab) -> None:
        """The dimension ``lab`` is part of the model's output (walked last, so the groups are final)."""
        for g, _ in (self.norm(lab) or ((), 0))[0]:
            self._output.add(self.find(g))

    def divisor(self, g: int) -> int:
        return self._div.get(self.find(g), 1)

    def add_producer(self, path: str, g: int) -> None:
        """Module ``path`` writes a tensor whose width starts group ``g``."""
        self._producer[path] = g

    def set_arg(self, path: str, arg: str, formula: Any) -> None:
        if formula is None:
            return
        self._args.setdefault(path, {})[arg] = formula

    def finish(self) -> None:
        """Normalises every formula to root groups (call once the graph is walked)."""
        for args in self._args.values():
            for k, f in list(args.items()):
                args[k] = self._norm_formula(f)
        self._groups_of = {}
        for path, args in self._args.items():
            for k, f in args.items():
                for g in _formula_groups(f):
                    self._groups_of.setdefault(g, []).append((path, k))

    def _norm_formula(self, f: Any) -> Any:
        if isinstance(f, tuple) and f and f[0] == "shape":
            return ("shape", tuple(self.norm(x) if x is not None else None for x in f[1]), f[2], f[3])
        return self.norm(f)

    def paths(self) -> list[str]:
        """Module paths with arguments that depend on a width group."""
        return list(self._args)

    def args_for(self, widths: dict[int, int]) -> dict[str, dict[str, Any]]:
        """``{module path: {argument: value}}`` for the arguments that change when groups take ``widths``."""
        paths = {pk for g in widths for pk in self._groups_of.get(self.find(g), ())}
        w = {self.find(g): v for g, v in widths.items()}
        out: dict[str, dict[str, Any]] = {}
        for path, k in paths:
            out.setdefault(path, {})[k] = _eval_formula(self._args[path][k], w, self._base)
        return out


def _formula_groups(f: Any) -> list[int]:
    if isinstance(f, tuple) and f and f[0] == "shape":
        return [g for x in f[1] if x is not None for g, _ in x[0]]
    return [g for g, _ in f[0]] if f else []


def _eval(lab: Lab, w: dict[int, int], base: list[int]) -> int:
    assert lab is not None
    return lab[1] + sum(f * w.get(g, base[g]) for g, f in lab[0])


def _eval_formula(f: Any, w: dict[int, int], base: list[int]) -> Any:
    if isinstance(f, tuple) and f and f[0] == "shape":
        _, labs, orig, was_int = f
        dims = tuple(_eval(x, w, base) if x is not None else o for x, o in zip(labs, orig))
        return dims[0] if was_int else dims
    return _eval(f, w, base)


def _lcm(a: int, b: int) -> int:
    return a * b // math.gcd(a, b)


def analyse(model: Any, inputs: Sequence[Any], where: str = "model") -> WidthPlan:
    """The width groups of ``model`` (see the module docstring); ``inputs`` are example tensors on its device.

    Raises :class:`SpaceError` when ``torch.fx`` cannot trace the model (data-dependent control flow).
    """
    from torch import fx
    from torch.fx.passes.shape_prop import ShapeProp

    class _Tracer(fx.Tracer):  # subclasses of known layers (timm's BatchNormAct2d, Conv2dSame) are leaves
        def is_leaf_module(self, m: Any, qualname: str) -> bool:
            return known_layer(m) is not None or super().is_leaf_module(m, qualname)

    try:
        graph = _Tracer().trace(model)
        gm = fx.GraphModule(model, graph, type(model).__name__)
    except Exception as e:
        raise SpaceError(f"{where}: width rules need a model that torch.fx can trace, and tracing failed "
                         f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); data-dependent "
                         "control flow in forward() is the usual cause") from e
    try:
        ShapeProp(gm).propagate(*inputs)
    except Exception as e:
        cause = e.__cause__ or e
        first = str(cause).splitlines()[0] if str(cause) else ""
        raise SpaceError(f"{where}: running the model on the example input {_shapes(inputs)} failed "
                         f"({type(cause).__name__}: {first}); pass example_inputs= with a valid input") from e
    plan = WidthPlan()
    GraphWalk(gm, plan).walk()
    plan.finish()
    return plan


def _shapes(inputs: Sequence[Any]) -> str:
    return ", ".join(str(tuple(x.shape)) if hasattr(x, "shape") else repr(x) for x in inputs)
