"""Make an existing model factory searchable without editing its source.

Rules name a module class (and optionally a module-path pattern) and what to search for each matching module:
``replace`` (a choice of classes) or constructor arguments (placeholders, or functions of the other arguments for
derived values such as padding). :func:`patch` runs the factory once on the ``meta`` device to find the matches
(no weights allocated), and returns a :class:`~symnas.space.space.Space` with one decision per match, named by the
module's path (``features[3].kernel_size``). Building a candidate runs the factory again while the matching
constructors receive the chosen arguments; a ``replace`` choice swaps the built module at its path for the chosen
class, constructed with the original module's arguments that the new class accepts.

Example::

    def make_cnn():                      # written with no knowledge of symnas
        return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())

    space = sn.patch(make_cnn, [
        sn.Rule(nn.ReLU, replace=sn.oneof([nn.ReLU, nn.GELU, nn.SiLU])),
        sn.Rule(nn.Conv2d, kernel_size=sn.oneof([3, 5, 7]), padding=lambda a: a["kernel_size"] // 2),
    ])
    model = space.build(space.sample(seed=0))
"""
from __future__ import annotations

import copy
import fnmatch
import inspect
import re
import threading
from typing import Any, Callable, Optional, Sequence

from symnas.errors import SpaceError
from symnas.symbolic.placeholders import Placeholder
from symnas.space.space import Space
from symnas.symbolic.spec import target_path

__all__ = ["Rule", "patch", "module_path"]

_LOCK = threading.RLock()


class Rule:
    """What to search for every module of class ``cls`` whose path matches ``where`` (a glob, e.g. ``'layer*.0.*'``).

    Args:
      cls: the module class to match (exact class).
      where: glob over the module path in dotted torch form (``features.3``); ``None`` matches every path.
      replace: a placeholder over classes: the module is constructed as the chosen class (with the original
        arguments its constructor accepts).
      name: ties all matches of this rule to one decision with this name.
      **args: constructor arguments: placeholders are decisions; callables ``f(args) -> value`` are derived from the
        final arguments (e.g. ``padding=lambda a: a['kernel_size'] // 2``).
    """

    def __init__(self, cls: type, where: Optional[str] = None, *, replace: Any = None, name: Optional[str] = None,
                 **args: Any) -> None:
        if not isinstance(cls, type):
            raise SpaceError(f"Rule: cls must be a class, got {cls!r}")
        if replace is None and not args:
            raise SpaceError(f"Rule({cls.__name__}): nothing to search (give replace= or constructor arguments)")
        if replace is not None and not isinstance(replace, Placeholder):
            raise SpaceError(f"Rule({cls.__name__}): replace= must be a placeholder, e.g. sn.oneof([...])")
        self.cls, self.where, self.replace, self.name = cls, where, replace, name
        self.decisions = {k: v for k, v in args.items() if isinstance(v, Placeholder)}
        self.derived = {k: v for k, v in args.items() if not isinstance(v, Placeholder)}
        for k, v in self.derived.items():
            if not callable(v):
                raise SpaceError(f"Rule({cls.__name__}): argument {k!r} must be a placeholder or a function of "
                                 f"the arguments, got {v!r}")

    def matches(self, cls: type, path: str) -> bool:
        return cls is self.cls and (self.where is None or fnmatch.fnmatchcase(path, self.where))

    def __repr__(self) -> str:
        where = f", where={self.where!r}" if self.where else ""
        return f"Rule({self.cls.__name__}{where})"


def module_path(dotted: str) -> str:
    """``'stages.2.blocks.0'`` → ``'stages[2].blocks[0]'``."""
    return re.sub(r"(?:^|\.)(\d+)(?=\.|$)", r"[\1]", dotted) if dotted else "root"


class _Hooks:
    """Patches ``__init__`` of the rule classes while a factory runs; counts constructions per class and applies
    argument overrides ``(cls, k) -> {arg: value}`` (with derived arguments computed from the final ones)."""

    def __init__(self, classes: Sequence[type], overrides: Optional[dict] = None,
                 derived: Optional[dict] = None) -> None:
        self.classes = list(dict.fromkeys(classes))
        self.counter: dict[type, int] = {}
        self.seen: list[tuple[type, int, Any, dict[str, Any]]] = []
        self.overrides: dict[tuple[type, int], dict[str, Any]] = overrides or {}
        self.derived: dict[tuple[type, int], dict[str, Callable]] = derived or {}
        self._saved: list[tuple[type, Any]] = []

    def __enter__(self) -> "_Hooks":
        for cls in self.classes:
            self._saved.append((cls, cls.__dict__.get("__init__")))
            self._install(cls)
        return self

    def __exit__(self, *exc: Any) -> None:
        for cls, init in reversed(self._saved):
            if init is None:
                delattr(cls, "__init__")
            else:
                cls.__init__ = init  # type: ignore[misc]

    def _install(self, cls: type) -> None:
        hooks = self
        orig_init = cls.__init__
        sig = inspect.signature(orig_init)
        var_kw = next((n for n, p in sig.parameters.items() if p.kind == p.VAR_KEYWORD), None)
        var_pos = any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values())

        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            if type(self) is cls:
                k = hooks.counter.get(cls, 0)
                hooks.counter[cls] = k + 1
                bound = sig.bind(self, *args, **kwargs)
                bound.apply_defaults()
                final = {n: v for n, v in bound.arguments.items() if n != "self"}
                new = hooks.overrides.get((cls, k))
                if new and not var_pos:
                    final.update(new)
                    for n, fn in hooks.derived.get((cls, k), {}).items():
                        final[n] = fn(final)
                    extra = final.pop(var_kw, {}) if var_kw else {}
                    args, kwargs = (), {**final, **extra}
                    if var_kw:
                        final[var_kw] = extra
                hooks.seen.append((cls, k, self, final))
            orig_init(self, *args, **kwargs)

        cls.__init__ = __init__  # type: ignore[misc]


def _construct(repl: Any, given: dict[str, Any]) -> Any:
    try:
        accepted = inspect.signature(repl).parameters
    except (TypeError, ValueError):
        accepted = {}
    return repl(**{n: v for n, v in given.items() if n in accepted})


def _set_module(root: Any, dotted: str, module: Any) -> None:
    parent_path, _, attr = dotted.rpartition(".")
    parent = root.get_submodule(parent_path) if parent_path else root
    setattr(parent, attr, module)


class _Patched:
    """The builder of a patched space: runs the factory with the chosen values."""

    def __init__(self, factory: Callable[..., Any], args: tuple, kwargs: dict, rules: Sequence[Rule],
                 slots: dict[str, list[tuple[type, int, str, str, Rule]]]) -> None:
        self.factory, self.args, self.kwargs, self.rules, self.slots = factory, args, kwargs, rules, slots

    def __call__(self, description: dict[str, Any], seed: Optional[int] = None, device: Any = None) -> Any:
        import torch

        overrides: dict[tuple[type, int], dict[str, Any]] = {}
        derived: dict[tuple[type, int], dict[str, Callable]] = {}
        replace: dict[str, Any] = {}
        for name, value in description.items():
            for cls, k, dotted, arg, rule in self.slots[name]:
                if arg:
                    overrides.setdefault((cls, k), {})[arg] = value
                    if rule.derived:
                        derived[(cls, k)] = rule.derived
                else:
                    replace[dotted] = value
        with _LOCK, torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            with _Hooks([r.cls for r in self.rules], overrides, derived) as hooks:
                model = self.factory(*self.args, **self.kwargs)
            if replace:
                final_args = {id(m): final for _, _, m, final in hooks.seen}
                for dotted, repl in replace.items():
                    old = model.get_submodule(dotted)
                    if type(old) is not repl:
                        _set_module(model, dotted, _construct(repl, final_args.get(id(old), {})))
        return model.to(device) if device is not None else model


def patch(factory: Callable[..., Any], rules: Sequence[Rule], *args: Any, name: Optional[str] = None,
          **kwargs: Any) -> Space:
    """A search space over a plain model factory: one decision per module a rule matches.

    ``args``/``kwargs`` are passed to the factory. Raises :class:`SpaceError` naming any rule that matches nothing.
    """
    import torch

    rules = list(rules)
    try:
        with _LOCK, _Hooks([r.cls for r in rules]) as hooks, torch.device("meta"):
            root = factory(*args, **kwargs)
    except Exception:  # factories that need real tensors while building
        with _LOCK, _Hooks([r.cls for r in rules]) as hooks:
            root = factory(*args, **kwargs)
    if not hasattr(root, "named_modules"):
        raise SpaceError(f"patch: {target_path(factory)} returned {type(root).__name__}, not an nn.Module")
    paths = {id(m): p for p, m in root.named_modules(remove_duplicate=False)}
    tree: dict[str, Any] = {}
    slots: dict[str, list[tuple[type, int, str, str, Rule]]] = {}
    used = [False] * len(rules)
    for cls, k, module, _ in hooks.seen:
        dotted = paths.get(id(module))
        if dotted is None:
            continue
        pretty = module_path(dotted)
        for ri, rule in enumerate(rules):
            if not rule.matches(cls, dotted):
                continue
            used[ri] = True
            items = [("", rule.replace)] if rule.replace is not None else []
            items += list(rule.decisions.items())
            for arg, ph in items:
                dname = rule.name and (f"{rule.name}.{arg}" if arg else rule.name) or (
                    f"{pretty}.{arg}" if arg else pretty)
                if dname not in tree:
                    tree[dname] = _renamed(ph, dname)
                    slots[dname] = []
                slots[dname].append((cls, k, dotted, arg, rule))
    for ri, ok in enumerate(used):
        if not ok:
            raise SpaceError(f"{rules[ri]!r} matched no module of the model built by {target_path(factory)}")
    builder = _Patched(factory, args, kwargs, rules, slots)
    return Space(tree, name=name or getattr(factory, "__name__", "patched"), builder=builder,
                 meta={"factory": target_path(factory)})


def _renamed(ph: Placeholder, name: str) -> Placeholder:
    out = copy.copy(ph)
    out.name = name
    return out
