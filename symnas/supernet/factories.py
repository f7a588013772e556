"""Supernets of patched spaces (``sn.patch``): module choices and sliced widths on an unedited model.

The supernet is the factory's model built once at the **largest** widths, then edited in place:

* every rule decision becomes a choice module at the matched path: a ``replace`` decision a
  :class:`~symnas.supernet.choices.LayerChoice` over the original module and its replacements, constructor-argument
  decisions (kernel sizes, ...) a choice over one module per value (tied decisions share one genome slot);
* every module whose arguments follow a :class:`~symnas.space.widths.Width` decision is wrapped in a
  :class:`SlicedModule` that uses the first channels of its weights (and BatchNorm statistics) for the current
  widths, Once-for-All style; a child's exported state is the slice.

Decisions that change the factory's structure (placeholder factory arguments, define-by-run calls) cannot be
weight-shared; neither can widths in weighted (DARTS) mode.

Traced spaces (``sn.trace``) compile when their decisions are choices among module classes that the function
calls (``sn.oneof([nn.ReLU, nn.GELU], name="act")()``): the function runs once and each call builds a
:class:`~symnas.supernet.choices.LayerChoice` over all candidates (tied names share one genome slot).

Example::

    net = Supernet(sn.patch(resnet18, [sn.Rule(nn.ReLU, replace=sn.oneof([nn.ReLU, nn.GELU])),
                                       sn.Width("layer3.*", sn.oneof([0.5, 1.0]))]))
"""
from __future__ import annotations

import itertools
from typing import Any, Callable, Optional

import torch
from torch import nn
from torch.nn import functional as F

from symnas.space.patching import PatchedBuilder
from symnas.space.trace import Resolver, TracedBuilder
from symnas.symbolic.placeholders import OneOf, Placeholder
from symnas.symbolic.spec import Spec
from symnas.space.rules import module_path
from symnas.space.space import Space
from symnas.supernet.choices import ArchState, LayerChoice, SupernetError

__all__ = ["SlicedModule", "compile_factory_space", "compile_patched", "compile_traced"]

_MAX_COMBOS = 64
_CONV = {nn.Conv1d: F.conv1d, nn.Conv2d: F.conv2d, nn.Conv3d: F.conv3d}
_NORM = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


class _Widths:
    """The current constructor arguments of width-dependent modules, from the supernet's genome."""

    def __init__(self, space: Space, state: ArchState, plan: Any) -> None:
        self.space, self.state, self.plan = space, state, plan
        self.slots: list[tuple[int, int, list]] = []  # (genome slot, decision index, [(group, rule, divisor)])
        for name, groups in plan.width_slots.items():
            d = space.table[name]
            self.slots.append((d.offset, d.index, groups))
        self._key: Optional[tuple] = None
        self._args: dict[str, dict[str, Any]] = {}

    def args(self, path: str) -> dict[str, Any]:
        st = self.state
        for slot, _, _ in self.slots:
            if st.mode(slot) == "weighted":
                raise SupernetError(f"{st.slot_decision[slot].name}: widths are shared by slicing and cannot be "
                                    "mixed in weighted (DARTS) mode; set_mode('fixed' or 'sampled') for them")
        key = tuple(st.genome[s] for s, _, _ in self.slots)
        if key != self._key:
            wp = self.plan.width
            widths = {}
            for slot, index, groups in self.slots:
                value = self.space.choice_value(index, st.genome[slot])
                for g, rule, div in groups:
                    widths[g] = rule.width(value, wp.base(g), div)
            self._args, self._key = wp.args_for(widths), key
        return self._args.get(path, {})


class SlicedModule(nn.Module):
    """A conv / linear / embedding / norm layer built at its largest size that runs on the first channels the
    current widths give (``inner`` holds the full weights).

    Example::

        SlicedModule(nn.Conv2d(16, 32, 3), "layer1.0.conv1", widths)
    """

    def __init__(self, inner: nn.Module, path: str, widths: Any) -> None:
        super().__init__()
        if not isinstance(inner, tuple(_CONV) + _NORM + (nn.Linear, nn.Embedding, nn.LayerNorm, nn.GroupNorm)):
            raise SupernetError(f"{module_path(path)}: {type(inner).__name__} cannot be sliced for width search")
        if isinstance(inner, tuple(_CONV)) and inner.padding_mode != "zeros":
            raise SupernetError(f"{module_path(path)}: sliced convolutions need padding_mode='zeros'")
        self.inner, self.path, self._widths = inner, path, widths

    def _sizes(self) -> dict[str, Any]:
        return self._widths.args(self.path)

    def _tensors(self) -> dict[str, Optional[torch.Tensor]]:
        m, a = self.inner, self._sizes()
        if isinstance(m, tuple(_CONV)):
            out, cin = a.get("out_channels", m.out_channels), a.get("in_channels", m.in_channels)
            groups = a.get("groups", m.groups)
            return {"weight": m.weight[:out, :cin // groups], "bias": None if m.bias is None else m.bias[:out]}
        if isinstance(m, nn.Linear):
            out, fin = a.get("out_features", m.out_features), a.get("in_features", m.in_features)
            return {"weight": m.weight[:out, :fin], "bias": None if m.bias is None else m.bias[:out]}
        if isinstance(m, nn.Embedding):
            return {"weight": m.weight[:, :a.get("embedding_dim", m.embedding_dim)]}
        if isinstance(m, nn.LayerNorm):
            shape = a.get("normalized_shape", m.normalized_shape)
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            idx = tuple(slice(0, s) for s in shape)
            return {"weight": None if m.weight is None else m.weight[idx],
                    "bias": None if m.bias is None else m.bias[idx]}
        c = a.get("num_channels" if isinstance(m, nn.GroupNorm) else "num_features",
                  m.num_channels if isinstance(m, nn.GroupNorm) else m.num_features)  # type: ignore[union-attr]
        out = {"weight": None if m.weight is None else m.weight[:c], "bias": None if m.bias is None else m.bias[:c]}
        if isinstance(m, _NORM) and m.running_mean is not None:
            out["running_mean"], out["running_var"] = m.running_mean[:c], m.running_var[:c]
            out["num_batches_tracked"] = m.num_batches_tracked
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m, a, t = self.inner, self._sizes(), self._tensors()
        if isinstance(m, tuple(_CONV)):
            groups = a.get("groups", m.groups)
            return _CONV[type(m)](x, t["weight"], t["bias"], m.stride, m.padding, m.dilation, groups)
        if isinstance(m, nn.Linear):
            return F.linear(x, t["weight"], t["bias"])
        if isinstance(m, nn.Embedding):
            return F.embedding(x, t["weight"], m.padding_idx, m.max_norm, m.norm_type, m.scale_grad_by_freq,
                               m.sparse)
        if isinstance(m, nn.LayerNorm):
            shape = t["weight"].shape if t["weight"] is not None else a.get("normalized_shape", m.normalized_shape)
            return F.layer_norm(x, tuple(shape), t["weight"], t["bias"], m.eps)
        if isinstance(m, nn.GroupNorm):
            return F.group_norm(x, m.num_groups, t["weight"], t["bias"], m.eps)
        factor = 0.0 if m.momentum is None else m.momentum
        if self.training and m.track_running_stats:
            m.num_batches_tracked.add_(1)  # type: ignore[union-attr,operator]
            factor = 1.0 / float(m.num_batches_tracked) if m.momentum is None else m.momentum
        use_batch = self.training or m.running_mean is None
        return F.batch_norm(x, t.get("running_mean") if not self.training or m.track_running_stats else None,
                            t.get("running_var") if not self.training or m.track_running_stats else None,
                            t["weight"], t["bias"], use_batch, factor, m.eps)

    def export_state(self, prefix: str, out: dict[str, torch.Tensor]) -> None:
        for k, v in self._tensors().items():
            if v is not None:
                out[prefix + k] = v.detach().clone()


def _choices(description: Any) -> dict[str, Any]:
    """``{decision name: value}`` of a patched space's description (``built_by(builder=..., choices={...})``)."""
    if isinstance(description, Spec):
        return dict(description.kwargs["choices"])
    return dict(description)


def _targets(root: nn.Module, dotted: str) -> list[tuple[Any, str]]:
    """``(parent, attribute)`` of every module at ``dotted``, descending into the candidates of choice modules
    that have the next attribute (an original block inside a replace choice)."""
    parts = dotted.split(".") if dotted else []
    level: list[Any] = [root]
    out: list[tuple[Any, str]] = []
    for i, part in enumerate(parts):
        nxt = []
        for mod in level:
            for host in _hosts(mod, part):
                if i == len(parts) - 1:
                    out.append((host, part))
                else:
                    nxt.append(getattr(host, part))
        level = nxt
    return out


def _is_choice(mod: Any) -> bool:
    return isinstance(mod._modules.get("candidates"), nn.ModuleList) and hasattr(mod, "export_state")


def _hosts(mod: Any, part: str) -> list[Any]:
    if _is_choice(mod) and part not in mod._modules:
        return [h for c in mod.candidates for h in _hosts(c, part)]
    return [mod] if part in mod._modules else []


def compile_patched(space: Space, state: ArchState, seed: Optional[int] = None) -> nn.Module:
    """The supernet module of a patched space (see the module docstring)."""
    builder = space.builder
    if not isinstance(builder, PatchedBuilder):
        raise SupernetError(f"space {space.name!r}: not a patched space")
    t = space.table
    names = {d.name for d in t.decisions}
    varied = [n for n in builder.structural if n in names and t[n].count() > 1]
    if varied:
        raise SupernetError(f"space {space.name!r}: decision {varied[0]!r} changes the model's structure (a factory "
                            "argument or a define-by-run call); a supernet shares weights only across module "
                            "choices and widths: fix it (sn.patch(..., arg=value)) or search it with a multi-trial "
                            "algorithm")
    desc = _choices(space.decode(t.default_genome))
    plan = builder.plan(desc)
    for name in plan.width_slots:  # the largest widths
        d = t[name]
        vals = [space.choice_value(d.index, i) for i in range(d.n)]
        desc[name] = max(vals)
    for name, slots in plan.slots.items():  # the original modules: replacements are choices below
        if slots and not slots[0][3]:
            desc[name] = slots[0][0]
    model, final = builder.build_recorded(desc, seed=seed)
    paths: dict[str, list[tuple[str, Any]]] = {}
    for name, slots in plan.slots.items():
        if name not in names or t[name].kind != "choice":
            raise SupernetError(f"{name}: only choice decisions (sn.oneof) can be weight-shared")
        for cls, k, dotted, arg, rule in slots:
            paths.setdefault(dotted, []).append((name, (cls, k, arg, rule)))
    for dotted in sorted(paths, key=lambda p: -p.count(".")):  # inner choices first
        _choice_at(space, state, builder, model, dotted, paths[dotted], final, desc)
    if plan.width_slots:
        widths = _Widths(space, state, plan)
        for path in plan.width.paths():
            for host, attr in _targets(model, path):
                inner = host._modules[attr]
                if _is_choice(inner):
                    for i, c in enumerate(inner.candidates):
                        inner.candidates[i] = SlicedModule(c, path, widths)
                else:
                    setattr(host, attr, SlicedModule(inner, path, widths))
    return model


def _choice_at(space: Space, state: ArchState, builder: PatchedBuilder, model: nn.Module, dotted: str,
               decisions: list[tuple[str, Any]], final: dict, desc: dict) -> None:
    t = space.table
    ck, args = final.get(dotted, (None, None))
    if args is None:
        raise SupernetError(f"{module_path(dotted)}: its constructor arguments were not recorded")
    arg_dec = [(n, s) for n, s in decisions if s[2]]
    rep_dec = [(n, s) for n, s in decisions if not s[2]]
    targets = _targets(model, dotted)
    for host, attr in targets:
        orig = host._modules[attr]
        current: nn.Module = orig
        if arg_dec:
            current = _arg_choice(space, state, builder, orig, dotted, arg_dec, ck, args, desc)
        for name, (cls, _, _, rule) in rep_dec:
            d = t[name]
            cands = []
            for i in range(d.n):
                repl = space.choice_value(d.index, i)
                cands.append(current if repl is cls else builder.replacement(repl, args, rule, desc, dotted))
            current = LayerChoice(state, d.offset, cands, module_path(dotted))
        setattr(host, attr, current)


def _arg_choice(space: Space, state: ArchState, builder: PatchedBuilder, orig: nn.Module, dotted: str,
                arg_dec: list, ck: Any, args: dict, desc: dict) -> nn.Module:
    t = space.table
    names = list(dict.fromkeys(n for n, _ in arg_dec))
    ds = [t[n] for n in names]
    combos = list(itertools.product(*[range(d.n) for d in ds]))
    if len(combos) > _MAX_COMBOS:
        raise SupernetError(f"{module_path(dotted)}: {len(combos)} combinations of {', '.join(names)}; at most "
                            f"{_MAX_COMBOS} separate candidates are built")
    cls = type(orig)
    mods = []
    for combo in combos:
        d2 = dict(desc)
        kw = dict(args)
        for d, i in zip(ds, combo):
            d2[d.name] = space.choice_value(d.index, i)
            for n, (_, _, arg, _) in arg_dec:
                if n == d.name:
                    kw[arg] = d2[d.name]
        kw = builder.derived_args(ck, kw, d2)
        mods.append(_call(cls, kw, dotted))
    if len(ds) == 1:
        return LayerChoice(state, ds[0].offset, mods, module_path(dotted))
    from symnas.supernet.compile import SpecChoice

    return SpecChoice(state, [d.offset for d in ds], combos, mods, module_path(dotted))


def _call(cls: Callable[..., nn.Module], kw: dict, dotted: str) -> nn.Module:
    try:
        return cls(**kw)
    except Exception as e:
        raise SupernetError(f"{module_path(dotted)}: building the candidate {cls.__name__}(...) failed: "
                            f"{type(e).__name__}: {e}") from e



def compile_factory_space(space: Space, state: ArchState, seed: Optional[int] = None) -> nn.Module:
    """The supernet module of a patched or traced space."""
    if isinstance(space.builder, TracedBuilder):
        return compile_traced(space, state)
    return compile_patched(space, state, seed)


class _ModuleChoice:
    """What a traced ``sn.oneof`` over module classes returns inside the supernet: calling it builds a
    :class:`LayerChoice` over every candidate constructed with the same arguments."""

    def __init__(self, state: ArchState, slot: int, candidates: tuple, name: str) -> None:
        self.state, self.slot, self.candidates, self.name = state, slot, candidates, name

    def __call__(self, *args: Any, **kwargs: Any) -> LayerChoice:
        mods = []
        for c in self.candidates:
            m = c(*args, **kwargs)
            if not isinstance(m, nn.Module):
                raise SupernetError(f"{self.name}: candidate {getattr(c, '__name__', c)!r} does not build an "
                                    "nn.Module; a supernet choice needs module candidates")
            mods.append(m)
        return LayerChoice(self.state, self.slot, mods, self.name)


def compile_traced(space: Space, state: ArchState) -> nn.Module:
    """The supernet module of a traced space whose decisions are choices among module classes."""
    builder = space.builder
    if not isinstance(builder, TracedBuilder):
        raise SupernetError(f"space {space.name!r}: not a traced space")
    t = space.table
    names = {d.name for d in t.decisions}

    def value(name: str, ph: Placeholder) -> Any:
        if name not in names:
            raise SupernetError(f"{name}: decision was not seen while the space was traced")
        d = t[name]
        if isinstance(ph, OneOf) and d.n > 1 and all(callable(c) and not isinstance(c, (int, float, str))
                                                     for c in ph.candidates):
            return _ModuleChoice(state, d.offset, ph.candidates, name)
        if d.count() == 1:
            return ph.candidates[0] if isinstance(ph, OneOf) else d.low
        raise SupernetError(f"{name}: a traced decision over values ({ph!r}) is used as plain Python by the "
                            "function, so its candidates cannot share weights; a traced supernet needs choices "
                            "among module classes that the function calls (sn.oneof([nn.ReLU, nn.GELU])())")

    with Resolver(value):
        model = builder.fn(*builder.args, **builder.kwargs)
    if not isinstance(model, nn.Module):
        raise SupernetError(f"space {space.name!r}: the traced function returned {type(model).__name__}, not an "
                            "nn.Module")
    return model
