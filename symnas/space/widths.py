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
import operator
from typing import Any, Optional, Sequence

from symnas.errors import SpaceError
from symnas.symbolic.placeholders import OneOf, Placeholder

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

    def fixed(self, g: int) -> Optional[str]:
        r = self.find(g)
        if r in self._alias:
            return "its width follows other widths it is combined with (a concatenation)"
        return self._fixed.get(r)

    def divisor(self, g: int) -> int:
        return self._div.get(self.find(g), 1)

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


# ---------------------------------------------------------------------------------------------------------------
# Graph walk
# ---------------------------------------------------------------------------------------------------------------
_ELEMENTWISE = {
    "add", "sub", "mul", "div", "truediv", "floordiv", "iadd", "isub", "imul", "itruediv", "neg", "pow", "relu",
    "relu_", "relu6", "gelu", "silu", "sigmoid", "tanh", "hardswish", "hardsigmoid", "hardtanh", "leaky_relu", "elu",
    "selu", "softplus", "mish", "softmax", "log_softmax", "dropout", "contiguous", "clone", "float", "half",
    "double", "to", "type_as", "detach", "exp", "log", "sqrt", "rsqrt", "abs", "clamp", "clamp_", "masked_fill",
    "where", "maximum", "minimum", "erf", "tanh_", "sigmoid_", "add_", "mul_", "sub_", "div_", "sigmoid_", "expand",
    "expand_as", "hardswish_", "silu_", "gelu_", "celu", "glu_skip", "sign", "square", "reciprocal", "sin", "cos",
    "dropout2d", "alpha_dropout", "feature_alpha_dropout", "hardtanh_", "relu6_", "leaky_relu_", "elu_", "mean_skip",
}
_RESHAPE = {"view", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "view_as", "reshape_as"}
_REDUCE = {"mean", "sum", "amax", "amin", "std", "var", "prod", "logsumexp", "norm"}
_PERMUTE = {"transpose", "permute", "t", "swapaxes", "swapdims", "movedim"}
_MATMUL = {"matmul", "bmm", "mm"}
_NORMS = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "InstanceNorm1d", "InstanceNorm2d",
          "InstanceNorm3d")
_CONVS = ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
_KNOWN = set(_CONVS) | set(_NORMS) | {"Linear", "Embedding", "GroupNorm", "LayerNorm"}


def _known(m: Any) -> Optional[str]:
    """The torch layer ``m`` is (or subclasses, e.g. timm's ``BatchNormAct2d``), if the walk knows it."""
    for cls in type(m).__mro__:
        if cls.__module__.startswith("torch.nn") and cls.__name__ in _KNOWN:
            return cls.__name__
    return None


def _op_name(node: Any) -> str:
    if node.op == "call_method":
        return str(node.target)
    t = node.target
    if t is operator.getitem:
        return "getitem"
    return getattr(t, "__name__", str(t)).lstrip("_")


def _shape(node: Any) -> Optional[tuple[int, ...]]:
    tm = node.meta.get("tensor_meta") if hasattr(node, "meta") else None
    shape = getattr(tm, "shape", None)
    return tuple(int(s) for s in shape) if shape is not None else None


class _Walker:
    def __init__(self, gm: Any, plan: WidthPlan) -> None:
        self.gm, self.plan = gm, plan
        self.labels: dict[Any, Any] = {}   # node -> list[Lab] (tensor) or list of those (tuple outputs)
        self.modules = dict(gm.named_modules())

    def lab(self, a: Any) -> Optional[list]:
        from torch import fx

        if isinstance(a, fx.Node):
            v = self.labels.get(a)
            return v if isinstance(v, list) and (not v or not isinstance(v[0], list)) else None
        return None

    def tensors(self, node: Any) -> list[Any]:
        from torch import fx

        out: list[Any] = []

        def walk(a: Any) -> None:
            if isinstance(a, fx.Node):
                if _shape(a) is not None:
                    out.append(a)
            elif isinstance(a, (list, tuple)):
                for x in a:
                    walk(x)
            elif isinstance(a, dict):
                for x in a.values():
                    walk(x)

        walk(node.args)
        walk(node.kwargs)
        return out

    def opaque(self, node: Any, what: str) -> None:
        for t in self.tensors(node):
            for lab in self.labels.get(t) or []:
                if isinstance(lab, tuple):
                    self.plan.freeze(lab, f"it enters {what} ({node.name})")
        self.set_fixed(node)

    def set_fixed(self, node: Any) -> None:
        shape = _shape(node)
        self.labels[node] = [None] * len(shape) if shape is not None else None

    def walk(self) -> None:
        for node in self.gm.graph.nodes:
            try:
                self.visit(node)
            except SpaceError:
                raise
            except Exception as e:  # pragma: no cover - defensive: an op this walk misreads
                self.opaque(node, f"{_op_name(node)} (not understood: {type(e).__name__}: {e})")

    def visit(self, node: Any) -> None:
        op = node.op
        if op in ("placeholder", "get_attr"):
            self.set_fixed(node)
            return
        if op == "output":
            for t in self.tensors(node):
                for lab in self.labels.get(t) or []:
                    if isinstance(lab, tuple):
                        self.plan.freeze(lab, "it is part of the model's output")
            return
        if _shape(node) is None and not isinstance(node.meta.get("tensor_meta"), (tuple, list)):
            return  # sizes, ints, None
        if op == "call_module":
            self.module(node, self.modules[node.target], str(node.target))
            return
        self.function(node, _op_name(node))

    # -- modules ------------------------------------------------------------------------------------------
    def module(self, node: Any, m: Any, path: str) -> None:
        name = type(m).__name__
        plan = self.plan
        x = node.args[0] if node.args else None
        xl = self.lab(x)
        out_shape = _shape(node)
        if xl is None or out_shape is None:
            self.opaque(node, f"{name} at {path}")
            return
        name = _known(m) or name
        torch_cls = _known(m) is not None
        if torch_cls and name in _CONVS:
            cin = xl[1] if len(xl) > 1 else None
            groups = int(getattr(m, "groups", 1))
            out = [None] * len(out_shape)
            out[0] = xl[0]
            if groups > 1 and groups == m.in_channels and cin is not None and m.out_channels % groups == 0 \
                    and len(self.plan.norm(cin)[0]) == 1 and self.plan.norm(cin)[1] == 0:  # type: ignore[index]
                (g, f), = self.plan.norm(cin)[0]  # type: ignore[index]
                mult = m.out_channels // groups
                plan.set_arg(path, "in_channels", cin)
                plan.set_arg(path, "groups", cin)
                out[1] = ((( g, f * mult),), 0)
                plan.set_arg(path, "out_channels", out[1])
            else:
                if groups > 1:
                    plan.divide(cin, groups)
                plan.set_arg(path, "in_channels", cin)
                g = plan.new(m.out_channels)
                if groups > 1:
                    plan.divide((((g, 1),), 0), groups)
                plan._producer[path] = g
                out[1] = (((g, 1),), 0)
                plan.set_arg(path, "out_channels", out[1])
            self.labels[node] = out
            return
        if torch_cls and name == "Linear":
            plan.set_arg(path, "in_features", xl[-1])
            g = plan.new(m.out_features)
            plan._producer[path] = g
            plan.set_arg(path, "out_features", (((g, 1),), 0))
            self.labels[node] = list(xl[:-1]) + [(((g, 1),), 0)]
            return
        if torch_cls and name == "Embedding":
            g = plan.new(m.embedding_dim)
            plan._producer[path] = g
            plan.set_arg(path, "embedding_dim", (((g, 1),), 0))
            self.labels[node] = [None] * (len(out_shape) - 1) + [(((g, 1),), 0)]
            return
        if torch_cls and name in _NORMS:
            if len(xl) > 1:
                plan.set_arg(path, "num_features", xl[1])
            self.labels[node] = list(xl)
            return
        if torch_cls and name == "GroupNorm":
            plan.divide(xl[1], m.num_groups)
            plan.set_arg(path, "num_channels", xl[1])
            self.labels[node] = list(xl)
            return
        if torch_cls and name == "LayerNorm":
            k = len(m.normalized_shape)
            shape = _shape(x) or ()
            plan.set_arg(path, "normalized_shape",
                         ("shape", tuple(xl[-k:]), tuple(shape[-k:]), False))
            self.labels[node] = list(xl)
            return
        has_state = any(True for _ in m.parameters(recurse=False)) or any(True for _ in m.buffers(recurse=False))
        if has_state or len(self.tensors(node)) != 1:
            self.opaque(node, f"{name} at {path}")
            return
        if name in ("Flatten", "Unflatten"):
            self.reshape(node, x, f"{name} at {path}")
            return
        self.same_rank(node, x, f"{name} at {path}")

    # -- functions and methods ----------------------------------------------------------------------------
    def function(self, node: Any, name: str) -> None:
        if name == "getitem":
            self.getitem(node)
            return
        tensors = self.tensors(node)
        if not tensors or any(self.lab(t) is None for t in tensors):
            if tensors:
                self.opaque(node, name)
            else:
                self.set_fixed(node)
            return
        if name in _ELEMENTWISE or name in ("adaptive_avg_pool2d", "avg_pool2d", "max_pool2d",
                                             "adaptive_avg_pool1d", "interpolate"):
            if name.endswith("pool2d") or name.endswith("pool1d") or name == "interpolate":
                self.same_rank(node, tensors[0], name)
            else:
                self.broadcast(node, tensors, name)
            return
        if name in _RESHAPE:
            self.reshape(node, tensors[0], name)
            return
        if name in _REDUCE:
            self.reduce(node, tensors[0], name)
            return
        if name in _PERMUTE:
            self.permute(node, tensors[0], name)
            return
        if name in _MATMUL and len(tensors) == 2:
            self.matmul(node, tensors, name)
            return
        if name in ("cat", "concat", "concatenate"):
            self.cat(node, tensors, name)
            return
        if name in ("chunk", "split", "unbind"):
            self.split(node, tensors[0], name)
            return
        if name in ("size", "dim", "numel"):
            return
        self.opaque(node, name)

    def _dim_arg(self, node: Any, pos: int, default: Any = None) -> Any:
        if "dim" in node.kwargs:
            return node.kwargs["dim"]
        return node.args[pos] if len(node.args) > pos else default

    def broadcast(self, node: Any, tensors: list[Any], name: str) -> None:
        shape = _shape(node) or ()
        out: list[Lab] = [None] * len(shape)
        why = f"it is combined with a tensor of fixed size by {name} ({node.name})"
        for i in range(1, len(shape) + 1):
            cur: Any = "unset"
            for t in tensors:
                ts, tl = _shape(t) or (), self.lab(t) or []
                if i > len(ts) or ts[-i] != shape[-i] or (ts[-i] == 1 and shape[-i] == 1):
                    continue
                cur = tl[-i] if cur == "unset" else self.plan.merge(cur, tl[-i], why)
            out[-i] = None if cur == "unset" else self.plan.norm(cur)
        self.labels[node] = out

    def same_rank(self, node: Any, x: Any, name: str) -> None:
        xs, xl, shape = _shape(x) or (), self.lab(x) or [], _shape(node) or ()
        if len(xs) != len(shape):
            self.reshape(node, x, name)
            return
        out: list[Lab] = []
        for s, o, lab in zip(xs, shape, xl):
            if s == o:
                out.append(lab)
            else:
                self.plan.freeze(lab, f"{name} ({node.name}) changes that dimension")
                out.append(None)
        self.labels[node] = out

    def reshape(self, node: Any, x: Any, name: str) -> None:
        xs, xl, shape = _shape(x) or (), self.lab(x) or [], _shape(node) or ()
        out: list[Lab] = [None] * len(shape)
        if math.prod(xs) != math.prod(shape):
            self.opaque(node, name)
            return
        ins = [i for i, s in enumerate(xs) if s != 1]
        outs = [j for j, s in enumerate(shape) if s != 1]
        for i, s in enumerate(xs):
            if s == 1 and xl[i] is not None:
                self.plan.freeze(xl[i], f"{name} ({node.name}) reshapes a dimension of size 1")
        a = b = 0
        while a < len(ins) or b < len(outs):
            ib, ob = [ins[a]] if a < len(ins) else [], [outs[b]] if b < len(outs) else []
            pa = xs[ins[a]] if a < len(ins) else 1
            pb = shape[outs[b]] if b < len(outs) else 1
            a, b = a + 1, b + 1
            while pa != pb:
                if pa < pb and a < len(ins):
                    ib.append(ins[a])
                    pa *= xs[ins[a]]
                    a += 1
                elif pb < pa and b < len(outs):
                    ob.append(outs[b])
                    pb *= shape[outs[b]]
                    b += 1
                else:
                    self.opaque(node, name)
                    return
            labs = [xl[i] for i in ib if xl[i] is not None]
            if not labs:
                continue
            if len(ob) == 1 and len(labs) == 1:
                lab = self.plan.norm(labs[0])
                assert lab is not None
                rest = math.prod(xs[i] for i in ib if xl[i] is None)
                if len(lab[0]) == 1 and lab[1] == 0:
                    (g, f), = lab[0]
                    out[ob[0]] = (((g, f * rest),), 0)
                    continue
                if rest == 1:
                    out[ob[0]] = lab
                    continue
            for lab in labs:
                self.plan.freeze(lab, f"{name} ({node.name}) splits or mixes it with other dimensions "
                                      f"({tuple(xs)} -> {tuple(shape)})")
        self.labels[node] = out

    def reduce(self, node: Any, x: Any, name: str) -> None:
        xs, xl = _shape(x) or (), self.lab(x) or []
        dim = self._dim_arg(node, 1)
        keep = bool(node.kwargs.get("keepdim", node.args[2] if len(node.args) > 2 else False))
        if dim is None:
            dims = set(range(len(xs)))
        else:
            dims = {d % len(xs) for d in (dim if isinstance(dim, (list, tuple)) else [dim])}
        for d in dims:
            self.plan.freeze(xl[d], f"{name} ({node.name}) reduces over it")
        out = [None if i in dims else lab for i, lab in enumerate(xl) if keep or i not in dims]
        if len(out) != len(_shape(node) or ()):
            self.opaque(node, name)
            return
        self.labels[node] = out

    def permute(self, node: Any, x: Any, name: str) -> None:
        xl = list(self.lab(x) or [])
        n = len(xl)
        args = [a for a in node.args[1:]]
        if name == "t":
            order = list(range(n))[::-1]
        elif name == "permute":
            dims = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
            order = [int(d) % n for d in dims]
        elif name == "movedim":
            self.opaque(node, name)
            return
        else:
            a0, a1 = int(args[0]) % n, int(args[1]) % n
            order = list(range(n))
            order[a0], order[a1] = order[a1], order[a0]
        self.labels[node] = [xl[i] for i in order]

    def matmul(self, node: Any, tensors: list[Any], name: str) -> None:
        a, b = self.lab(tensors[0]) or [], self.lab(tensors[1]) or []
        if len(a) < 2 or len(b) < 2:
            self.opaque(node, name)
            return
        self.plan.merge(a[-1], b[-2], f"{name} ({node.name}) contracts it with a fixed dimension")
        shape = _shape(node) or ()
        batch: list[Lab] = []
        for i in range(3, len(shape) + 1):
            la = a[-i] if i <= len(a) else None
            lb = b[-i] if i <= len(b) else None
            batch.insert(0, self.plan.merge(la, lb, f"{name} ({node.name}) batches it with a fixed dimension")
                         if i <= len(a) and i <= len(b) else (la or lb))
        self.labels[node] = batch + [a[-2], b[-1]]

    def cat(self, node: Any, tensors: list[Any], name: str) -> None:
        n = len(_shape(node) or ())
        d = self._dim_arg(node, 1, 0) % n
        out: list[Lab] = [None] * n
        why = f"{name} ({node.name}) joins it with a tensor of fixed size"
        for i in range(n):
            labs = [(self.lab(t) or [None] * n)[i] for t in tensors]
            if i == d:
                terms: list = []
                const = 0
                for t, lab in zip(tensors, labs):
                    if lab is None:
                        const += (_shape(t) or ())[i]
                    else:
                        lab = self.plan.norm(lab)
                        terms += list(lab[0])
                        const += lab[1]
                out[i] = self.plan.norm((tuple(terms), const)) if terms else None
            else:
                cur = labs[0]
                for lab in labs[1:]:
                    cur = self.plan.merge(cur, lab, why)
                out[i] = cur
        self.labels[node] = out

    def split(self, node: Any, x: Any, name: str) -> None:
        xl = self.lab(x) or []
        d = self._dim_arg(node, 2 if name != "unbind" else 1, 0) % max(len(xl), 1)
        self.plan.freeze(xl[d] if xl else None, f"{name} ({node.name}) splits it into pieces of fixed size")
        pieces = node.meta.get("tensor_meta")
        parts = []
        for tm in pieces if isinstance(pieces, (list, tuple)) else []:
            shape = tuple(getattr(tm, "shape", ()))
            lab = list(xl)
            if name == "unbind":
                lab.pop(d)
            else:
                lab[d] = None
            parts.append(lab if len(lab) == len(shape) else [None] * len(shape))
        self.labels[node] = parts

    def getitem(self, node: Any) -> None:
        src, idx = node.args[0], node.args[1]
        v = self.labels.get(src)
        shape = _shape(node)
        if isinstance(v, list) and v and isinstance(v[0], list):  # a piece of a tuple output
            self.labels[node] = v[idx] if isinstance(idx, int) and idx < len(v) else None
            return
        xl = self.lab(src)
        if xl is None or shape is None:
            self.opaque(node, "getitem")
            return
        items = idx if isinstance(idx, tuple) else (idx,)
        if any(not (x is None or x is Ellipsis or isinstance(x, (int, slice))) for x in items):
            self.opaque(node, "indexing")
            return
        if Ellipsis in items:
            k = items.index(Ellipsis)
            used = sum(1 for x in items if x is not None and x is not Ellipsis)
            items = items[:k] + (slice(None),) * (len(xl) - used) + items[k + 1:]
        out: list[Lab] = []
        d = 0
        for it in items:
            if it is None:
                out.append(None)
                continue
            lab = xl[d] if d < len(xl) else None
            if isinstance(it, int):
                self.plan.freeze(lab, f"indexing ({node.name}) picks from it")
            elif it == slice(None):
                out.append(lab)
            else:
                self.plan.freeze(lab, f"slicing ({node.name}) cuts it")
                out.append(None)
            d += 1
        out += xl[d:]
        self.labels[node] = out if len(out) == len(shape) else [None] * len(shape)


def analyse(model: Any, inputs: Sequence[Any], where: str = "model") -> WidthPlan:
    """The width groups of ``model`` (see the module docstring); ``inputs`` are example tensors on its device.

    Raises :class:`SpaceError` when ``torch.fx`` cannot trace the model (data-dependent control flow).
    """
    from torch import fx
    from torch.fx.passes.shape_prop import ShapeProp

    class _Tracer(fx.Tracer):  # subclasses of known layers (timm's BatchNormAct2d, Conv2dSame) are leaves
        def is_leaf_module(self, m: Any, qualname: str) -> bool:
            return _known(m) is not None or super().is_leaf_module(m, qualname)

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
    _Walker(gm, plan).walk()
    plan.finish()
    return plan


def _shapes(inputs: Sequence[Any]) -> str:
    return ", ".join(str(tuple(x.shape)) if hasattr(x, "shape") else repr(x) for x in inputs)
