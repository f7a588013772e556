"""The machinery behind :func:`symnas.patch`: rules, widths and factory arguments on an unedited model factory.

A patched space has three kinds of decisions:

* **factory arguments** given as placeholders (``sn.patch(f, rules, width_mult=sn.oneof([0.5, 1.0]))``, also
  inside lists, dicts, dataclasses and plain config objects: ``config=BertConfig(hidden_act=sn.oneof([...]))``)
  and placeholders the factory itself calls (define-by-run, as in :func:`symnas.trace`): they may change the
  model's structure;
* **rule decisions** (:class:`~symnas.space.rules.Rule`): one per matched module (or one per rule with ``name=``);
* **width decisions** (:class:`~symnas.space.widths.Width`): one per width group (or per rule with ``name=``).

Discovery runs the factory on the ``meta`` device (no weights) once per structure, exploring the structural
decisions like :func:`symnas.trace` so that a module that only exists for some values gets a conditional
decision. A *plan* per structure records which constructor call (class, k-th construction) sits at which module
path, the rule matches and, when there are width rules, the width groups of :func:`~symnas.space.widths.analyse`.
Building a candidate runs the factory once with hooks on the constructors that must receive other arguments, then
swaps ``replace`` choices in; plans are cached per structure.

Example::

    space = sn.patch(resnet18, [
        sn.Rule(nn.ReLU, replace=sn.oneof([nn.ReLU, nn.GELU])),
        sn.Width("layer3.*", sn.oneof([0.5, 1.0, 1.5]), name="stage3"),
    ], num_classes=10)
"""
from __future__ import annotations

import fnmatch
import inspect
import threading
from collections import OrderedDict
from typing import Any, Callable, Optional, Sequence

from symnas.errors import DecisionError, SpaceError
from symnas.symbolic.placeholders import OneOf, Placeholder
from symnas.symbolic.spec import target_path
from symnas.space.rules import Rule, module_path
from symnas.space.space import Space
from symnas.space.trace import Tracer, _Context, _named
from symnas.space.widths import Width, WidthPlan, analyse
from symnas.space.hooks import Decisions, Hooks, construct, fill, no_inplace, set_module, template

__all__ = ["patch_factory", "PatchedBuilder", "WIDTH_CLASSES"]

_LOCK = threading.RLock()
_PLAN_CACHE = 256

# Arguments of a Rule that set the width a module writes: its consumers follow (a width decision).
PRODUCER_ARGS = ("out_channels", "out_features", "embedding_dim")
# Constructors whose arguments a width decision may change.
WIDTH_CLASSES = ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Linear",
                 "Embedding", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "InstanceNorm1d",
                 "InstanceNorm2d", "InstanceNorm3d", "GroupNorm", "LayerNorm")


# ---------------------------------------------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------------------------------------------
class _Plan:
    """What one structure of the model looks like: paths of constructor calls, rule and width decisions."""

    def __init__(self) -> None:
        self.ck: dict[str, tuple[type, int]] = {}                     # dotted path -> (cls, k)
        self.slots: dict[str, list[tuple[type, int, str, str, Rule]]] = {}
        self.derived: dict[tuple[type, int], dict[str, Callable]] = {}
        self.width: Optional[WidthPlan] = None
        self.width_slots: dict[str, list[tuple[int, Width, int]]] = {}  # name -> [(group, rule, divisor)]
        self.names: list[str] = []
        self.found: dict[str, Placeholder] = {}
        self.record: set[tuple[type, int]] = set()                    # replaced modules whose args keep= reads
        self.used: set[int] = set()                                   # indices of the rules that matched
        self.width_used: set[int] = set()                             # indices of the width rules that matched
        self.rule_widths: dict[str, list[tuple[str, Rule, Placeholder]]] = {}  # Rule(out_channels=...) decisions


def _example(root: Any, example_inputs: Any, device: Any) -> tuple:
    import torch

    if example_inputs is not None:
        xs = example_inputs if isinstance(example_inputs, (tuple, list)) and example_inputs and \
            not isinstance(example_inputs[0], int) else (example_inputs,)
        out = []
        for x in xs:
            if isinstance(x, (tuple, list, torch.Size)):
                x = torch.zeros(*x)
            out.append(x.to(device) if isinstance(x, torch.Tensor) else x)
        return tuple(out)
    from torch import nn

    for m in root.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            d = {nn.Conv1d: 1, nn.Conv2d: 2, nn.Conv3d: 3}[type(m)] if type(m) in (nn.Conv1d, nn.Conv2d,
                                                                                     nn.Conv3d) else 2
            return (torch.zeros(2, m.in_channels, *[32] * d, device=device),)
        if isinstance(m, nn.Embedding):
            return (torch.zeros(2, 8, dtype=torch.long, device=device),)
        if isinstance(m, nn.Linear):
            return (torch.zeros(2, m.in_features, device=device),)
    raise SpaceError("patch: width rules need an example input; pass example_inputs=")


class _Patcher:
    def __init__(self, factory: Callable[..., Any], rules: Sequence[Any], args: tuple, kwargs: dict,
                 example_inputs: Any) -> None:
        self.factory = factory
        self.rules = [r for r in rules if isinstance(r, Rule)]
        self.widths = [r for r in rules if isinstance(r, Width)]
        bad = [r for r in rules if not isinstance(r, (Rule, Width))]
        if bad:
            raise SpaceError(f"patch: {bad[0]!r} is not a sn.Rule or sn.Width")
        self.example_inputs = example_inputs
        self.arg_found: dict[str, Placeholder] = {}
        try:
            bound = inspect.signature(factory).bind_partial(*args, **kwargs)
            names = list(bound.arguments)
            pos = [(names[i] if i < len(names) else f"arg{i}") for i in range(len(args))]
        except (TypeError, ValueError):
            pos = [f"arg{i}" for i in range(len(args))]
        self.args = tuple(template(a, n, self.arg_found) for a, n in zip(args, pos))
        self.kwargs = {k: template(v, k, self.arg_found) for k, v in kwargs.items()}
        self.structural: set[str] = set()
        self._plans: OrderedDict[tuple, _Plan] = OrderedDict()
        self.classes: list[type] = list(dict.fromkeys(r.cls for r in self.rules))
        if self.widths or any(a in PRODUCER_ARGS for r in self.rules for a in r.decisions):
            from torch import nn

            self.classes += [getattr(nn, c) for c in WIDTH_CLASSES if getattr(nn, c) not in self.classes]

    def call(self, ctx: _Context) -> Any:
        def value(name: str) -> Any:
            return ctx.resolve(self.arg_found[name])

        return self.factory(*fill(self.args, value), **fill(self.kwargs, value))

    # -- plans --------------------------------------------------------------------------------------------
    def plans(self) -> list[_Plan]:
        """The plans computed so far (one per structure)."""
        return list(self._plans.values())

    def plan(self, values: dict[str, Any], collect: bool) -> _Plan:
        """The plan of the structure ``values`` selects (genes when ``collect``, else a description)."""
        with _LOCK:
            key = (collect,) + tuple(sorted((n, _hashable(values[n])) for n in self.structural if n in values))
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
                return plan
            plan = self._make_plan(values, collect)
            self._plans[key] = plan
            if len(self._plans) > _PLAN_CACHE:
                self._plans.popitem(last=False)
            return plan

    def _make_plan(self, values: dict[str, Any], collect: bool) -> _Plan:
        import torch

        plan = _Plan()
        ctx = _Context(dict(values), collect=collect)
        on_meta = True
        with _LOCK:
            try:
                with ctx, Hooks(self.classes, record_all=True) as hooks, torch.device("meta"):
                    root = self.call(ctx)
            except (SpaceError, DecisionError):
                raise
            except Exception:  # factories that need real tensors while building
                on_meta = False
                ctx = _Context(dict(values), collect=collect)
                with ctx, Hooks(self.classes, record_all=True) as hooks:
                    root = self.call(ctx)
        self.structural.update(ctx.order)
        plan.names = list(ctx.order)
        plan.found = dict(ctx.found)
        if not hasattr(root, "named_modules"):
            raise SpaceError(f"patch: {target_path(self.factory)} returned {type(root).__name__}, not an nn.Module")
        paths = {id(m): p for p, m in root.named_modules(remove_duplicate=False)}
        used = [False] * len(self.rules)
        for cls, k, module, _ in hooks.seen:
            dotted = paths.get(id(module))
            if dotted is None:
                continue
            plan.ck[dotted] = (cls, k)
            pretty = module_path(dotted)
            for ri, rule in enumerate(self.rules):
                if not rule.matches(cls, dotted):
                    continue
                used[ri] = True
                plan.used.add(ri)
                if rule.derived:
                    plan.derived.setdefault((cls, k), {}).update(rule.derived)
                if rule.replace is not None and rule.keep:
                    plan.record.add((cls, k))
                items = [("", rule.replace)] if rule.replace is not None else []
                items += list(rule.decisions.items())
                for arg, ph in items:
                    dname = rule.name and (f"{rule.name}.{arg}" if arg else rule.name) or (
                        f"{pretty}.{arg}" if arg else pretty)
                    if arg in PRODUCER_ARGS and cls.__name__ in WIDTH_CLASSES:
                        if dname not in plan.found:
                            plan.found[dname] = _named(ph, dname)
                            plan.names.append(dname)
                        plan.rule_widths.setdefault(dname, []).append((dotted, rule, ph))
                        continue
                    self._add(plan, dname, ph)
                    plan.slots[dname].append((cls, k, dotted, arg, rule))
        for ri, ok in enumerate(used):
            if not ok and not plan.names:
                raise SpaceError(f"{self.rules[ri]!r} matched no module of the model built by "
                                 f"{target_path(self.factory)}")
        if self.widths or plan.rule_widths:
            self._width_plan(plan, root, on_meta)
            missing = [type(root.get_submodule(p)) for p in plan.width.paths() if p not in plan.ck]
            missing = [c for c in dict.fromkeys(missing) if c not in self.classes]
            if missing:  # subclasses of torch layers (timm's BatchNormAct2d): hook them too and plan again
                self.classes += missing
                return self._make_plan(values, collect)
        return plan

    def _add(self, plan: _Plan, name: str, ph: Placeholder) -> None:
        if name not in plan.slots and name not in plan.width_slots:
            plan.found[name] = _named(ph, name)
            plan.names.append(name)
        plan.slots.setdefault(name, [])

    def _width_plan(self, plan: _Plan, root: Any, on_meta: bool) -> None:
        import torch

        device = torch.device("meta") if on_meta else None
        where = f"patch({target_path(self.factory)})"
        plan.width = wp = analyse(root, _example(root, self.example_inputs, device), where)
        modules = dict(root.named_modules())
        producers = wp.producer_group
        owner: dict[int, tuple[str, Any]] = {}
        for wi, rule in enumerate(self.widths):
            hits = [p for p in producers if fnmatch.fnmatchcase(p, rule.where)
                    and (rule.cls is None or isinstance(modules[p], rule.cls))]
            if hits:
                plan.width_used.add(wi)
            for p in hits:
                g = producers[p]
                reason = wp.fixed(g)
                if reason:
                    raise SpaceError(f"{rule!r}: the width of {module_path(p)} cannot change: {reason}")
                name = rule.name or f"{module_path(p)}.width"
                if g in owner:
                    if owner[g][0] != name and owner[g][1] is not rule:
                        raise SpaceError(
                            f"{rule!r}: {module_path(p)} writes the same tensor width as decision {owner[g][0]!r} "
                            f"(a residual sum or another tied use); give both rules one name= or one rule")
                    continue
                owner[g] = (name, rule)
                if name not in plan.width_slots:
                    if name in plan.slots:
                        raise SpaceError(f"{rule!r}: decision name {name!r} is used by another rule")
                    plan.found[name] = _named(rule.placeholder, name)
                    plan.names.append(name)
                    plan.width_slots[name] = []
                plan.width_slots[name].append((g, rule, _lcm(rule.divisor, wp.divisor(g))))
        for name, hits in plan.rule_widths.items():
            for dotted, rule, ph in hits:
                g = producers.get(dotted)
                if g is None:
                    raise SpaceError(f"{rule!r}: {module_path(dotted)} does not start a tensor width of its own (a "
                                     "depthwise conv follows its input, or the module is not called in forward); "
                                     "decide the width where the tensor is produced")
                reason = wp.fixed(g, output_ok=True)  # set explicitly: the model's output may change too
                if reason:
                    raise SpaceError(f"{rule!r}: the width of {module_path(dotted)} cannot change: {reason}")
                if g in owner and owner[g][0] != name:
                    raise SpaceError(f"{rule!r}: {module_path(dotted)} writes the same tensor width as decision "
                                     f"{owner[g][0]!r} (a residual sum or another tied use); tie them with one name=")
                owner[g] = (name, rule)
                div = wp.divisor(g)
                bad = [v for v in getattr(ph, "candidates", ()) if not isinstance(v, int) or v % div]
                if bad or not isinstance(ph, OneOf):
                    raise SpaceError(f"{rule!r}: widths of {module_path(dotted)} must be a sn.oneof over multiples "
                                     f"of {div} (grouped convolutions or GroupNorm read it), got {ph!r}")
                plan.width_slots.setdefault(name, []).append((g, _Absolute(), div))


class _Absolute:
    """A rule's constructor-argument decision on a produced width: the chosen value is the width."""

    def width(self, value: Any, base: int, divisor: int) -> int:
        return int(value)


def _lcm(a: int, b: int) -> int:
    import math

    return a * b // math.gcd(a, b)


def _hashable(v: Any) -> Any:
    try:
        hash(v)
        return v
    except TypeError:
        return repr(v)


class _Explorer(Tracer):
    """The structural exploration of :class:`~symnas.space.trace.Tracer` over patch plans."""

    def __init__(self, patcher: _Patcher) -> None:
        super().__init__(patcher.factory, (), {})
        self.patcher = patcher

    def run(self, assign: dict[str, Any]) -> list[str]:
        self.runs += 1
        if self.runs > 20000:
            raise SpaceError(f"patch({target_path(self.fn)}): too many structures to explore; name the decisions")
        plan = self.patcher.plan(assign, collect=True)
        for n in plan.names:
            if n in self.found and n in plan.found and self.found[n] != plan.found[n]:
                raise SpaceError(f"{n}: decision name used for two different placeholders")
        self.found.update(plan.found)
        return list(plan.names)


class PatchedBuilder:
    """Builds a candidate of a patched space: runs the factory with the chosen arguments (see module docstring)."""

    def __init__(self, patcher: _Patcher) -> None:
        self.patcher = patcher

    def overrides(self, description: dict[str, Any]) -> tuple[_Plan, dict, dict, dict, dict[str, int]]:
        """``(plan, overrides, derived, replace, widths)`` for a description (used by the supernet, too)."""
        p = self.patcher
        plan = p.plan(description, collect=False)
        overrides: dict[tuple[type, int], dict[str, Any]] = {}
        replace: dict[str, tuple[Any, Rule, tuple[type, int]]] = {}
        for name, slots in plan.slots.items():
            if name not in description:
                continue
            value = description[name]
            for cls, k, dotted, arg, rule in slots:
                if arg:
                    overrides.setdefault((cls, k), {})[arg] = value
                elif value is not cls:
                    replace[dotted] = (value, rule, (cls, k))
        widths: dict[int, int] = {}
        if plan.width is not None:
            wp = plan.width
            for name, slots in plan.width_slots.items():
                if name not in description:
                    continue
                for g, rule, div in slots:
                    w = rule.width(description[name], wp.base(g), div)
                    if w != wp.base(g):
                        widths[g] = w
            if widths:
                for path, args in wp.args_for(widths).items():
                    ck = plan.ck.get(path)
                    if ck is None:
                        raise SpaceError(f"{module_path(path)}: its width follows a decision but it was not "
                                         "constructed by the factory while the space was patched")
                    overrides.setdefault(ck, {}).update(args)
        return plan, overrides, plan.derived, replace, widths

    @property
    def structural(self) -> list[str]:
        """Names of the decisions that change the model's structure (factory arguments, define-by-run calls)."""
        return sorted(self.patcher.structural)

    def plan(self, description: dict[str, Any]) -> _Plan:
        """The plan (paths, rule slots, width groups) of the structure ``description`` selects."""
        return self.patcher.plan(description, collect=False)

    def replacement(self, repl: Any, final: dict[str, Any], rule: Rule, description: dict[str, Any],
                    dotted: str) -> Any:
        """The module ``repl`` that replaces the module at ``dotted`` (final arguments ``final``)."""
        return construct(repl, final, rule, Decisions(description), module_path(dotted))

    def derived_args(self, ck: tuple[type, int], final: dict[str, Any], description: dict[str, Any]) -> dict:
        """``final`` with the derived arguments of constructor call ``ck`` recomputed."""
        out = dict(final)
        for n, fn in self.patcher.plan(description, collect=False).derived.get(ck, {}).items():
            out[n] = fn(out, Decisions(description))
        return out

    def build_recorded(self, description: dict[str, Any], seed: Optional[int] = None
                       ) -> tuple[Any, dict[str, tuple[tuple[type, int], dict[str, Any]]]]:
        """Builds like calling the builder, without applying ``replace`` choices, and returns the final
        constructor arguments of every hooked module: ``(model, {dotted path: ((cls, k), args)})``."""
        import torch

        with _LOCK, torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            model, hooks = self._run(description, record_all=True)
        paths = {id(m): p for p, m in model.named_modules(remove_duplicate=False)}
        out = {paths[id(m)]: ((c, k), f) for c, k, m, f in hooks.seen if id(m) in paths}
        return model, out

    def _run(self, description: dict[str, Any], record_all: bool = False) -> tuple[Any, Any]:
        p = self.patcher
        plan, overrides, derived, _, _ = self.overrides(description)
        decisions = Decisions(description)
        classes = list(dict.fromkeys([ck[0] for ck in overrides] + [ck[0] for ck in derived]
                                     + [ck[0] for ck in plan.record] + (p.classes if record_all else [])))
        with _LOCK, _Context(dict(description), collect=False) as ctx, \
                Hooks(classes, overrides, derived, record=plan.record, decisions=decisions,
                       record_all=record_all) as hooks:
            model = p.call(ctx)
        return model, hooks

    def __call__(self, description: dict[str, Any], seed: Optional[int] = None, device: Any = None) -> Any:
        import torch

        plan, _, _, replace, _ = self.overrides(description)
        decisions = Decisions(description)
        with _LOCK, torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            model, hooks = self._run(description)
            if replace:
                final = {id(m): f for _, _, m, f in hooks.seen}
                for dotted, (repl, rule, _) in replace.items():
                    old = model.get_submodule(dotted)
                    new = construct(repl, final.get(id(old), {}), rule, decisions, module_path(dotted))
                    set_module(model, dotted, new)
                no_inplace(model)
        return model.to(device) if device is not None else model


def _inner_conditions(plan: _Plan, order: list[str], conditions: dict) -> None:
    """A decision on modules inside a module that a ``replace`` decision may swap out is active only while the
    original class is chosen (``layer1[1].conv1.kernel_size`` when ``layer1[1]`` stays a BasicBlock)."""
    pos = {n: i for i, n in enumerate(order)}
    for rname, rslots in plan.slots.items():
        if len(rslots) != 1 or rslots[0][3] or rname not in pos:
            continue
        cls, _, dotted, _, rule = rslots[0]
        keep = frozenset(i for i, c in enumerate(rule.replace.candidates) if c is cls)
        if not keep or len(keep) == len(rule.replace.candidates):
            continue
        for name, slots in plan.slots.items():
            if name in conditions or name not in pos or pos[name] < pos[rname]:
                continue
            if slots and all(s[2].startswith(dotted + ".") for s in slots):
                conditions[name] = [(rname, keep)]


def patch_factory(factory: Callable[..., Any], rules: Sequence[Any], args: tuple = (), kwargs: Optional[dict] = None,
                  *, name: Optional[str] = None, example_inputs: Any = None, recipe: Any = None) -> Space:
    """The space of :func:`symnas.patch` (see the module docstring)."""
    rules = list(rules)
    patcher = _Patcher(factory, rules, tuple(args), dict(kwargs or {}), example_inputs)
    explorer = _Explorer(patcher)
    order, found, parent = explorer.explore()
    plan = patcher.plan({}, collect=True)
    used = set().union(*(pl.used for pl in patcher.plans()))
    for ri, rule in enumerate(patcher.rules):
        if ri not in used:
            raise SpaceError(f"{rule!r} matched no module of the model built by {target_path(factory)}")
    wused = set().union(*(pl.width_used for pl in patcher.plans()))
    for wi, wrule in enumerate(patcher.widths):
        if wi not in wused:
            raise SpaceError(f"{wrule!r} matched no module that produces a width (convolutions, linear layers, "
                             f"embeddings) in the model built by {target_path(factory)}")
    if not order:
        raise SpaceError(f"patch({target_path(factory)}): no decisions (give rules, widths or placeholder "
                         "arguments)")
    tree = {n: _named(found[n], n) for n in order}
    conditions = {n: [(p, vals if isinstance(found[p], OneOf) else frozenset(vals))] for n, (p, vals) in
                  parent.items()}
    _inner_conditions(plan, order, conditions)
    builder = PatchedBuilder(patcher)
    if recipe is not None:
        builder.spec = recipe  # how the space is made again from JSON (see Space)
    return Space(tree, name=name or getattr(factory, "__name__", "patched"), builder=builder,
                 conditions=conditions, meta={"factory": target_path(factory)})

