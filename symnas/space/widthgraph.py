"""The graph walk behind :func:`symnas.space.widths.analyse`: how each op carries, joins or fixes channel widths.

Element-wise ops join the widths they combine (broadcast from the right); reshapes map dimensions by their
products (a flatten multiplies a width by the spatial size, a split into heads fixes it); reductions, permutes,
matmul, concatenation, chunk/split and indexing have their own rules; known torch layers (and their subclasses)
are leaves; anything else that receives a width fixes it, with the op named as the reason.

Example::

    GraphWalk(graph_module, plan).walk()       # fills plan (a WidthPlan)
"""
from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING, Any, Optional

from symnas.errors import SpaceError

if TYPE_CHECKING:
    from symnas.space.widths import WidthPlan

__all__ = ["GraphWalk", "known_layer"]

Lab = Optional[tuple[tuple[tuple[int, int], ...], int]]


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


def known_layer(m: Any) -> Optional[str]:
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


class GraphWalk:
    """Labels every tensor dimension of a traced graph with a formula of width groups (see
    :mod:`symnas.space.widths`) and records the constructor arguments that depend on them in a ``WidthPlan``."""

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
                        self.plan.mark_output(lab)
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
        name = known_layer(m) or name
        torch_cls = known_layer(m) is not None
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
                plan.add_producer(path, g)
                out[1] = (((g, 1),), 0)
                plan.set_arg(path, "out_channels", out[1])
            self.labels[node] = out
            return
        if torch_cls and name == "Linear":
            plan.set_arg(path, "in_features", xl[-1])
            g = plan.new(m.out_features)
            plan.add_producer(path, g)
            plan.set_arg(path, "out_features", (((g, 1),), 0))
            self.labels[node] = list(xl[:-1]) + [(((g, 1),), 0)]
            return
        if torch_cls and name == "Embedding":
            g = plan.new(m.embedding_dim)
            plan.add_producer(path, g)
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
