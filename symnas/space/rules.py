"""Make an existing model factory searchable without editing its source.

Rules name a module class (and optionally a module-path pattern) and what to search for each matching module:
``replace`` (a choice of classes) or constructor arguments (placeholders, or functions of the other arguments for
derived values such as padding). :func:`patch` runs the factory once on the ``meta`` device to find the matches
(no weights allocated), and returns a :class:`~symnas.space.space.Space` with one decision per match, named by the
module's path (``features[3].kernel_size``). Building a candidate runs the factory again while the matching
constructors receive the chosen arguments; a ``replace`` choice swaps the built module at its path for the chosen
class, constructed from its own defaults plus the arguments ``keep=`` maps. :class:`~symnas.space.widths.Width`
rules make channel widths searchable (consumers follow); placeholders among the factory's own arguments are
decisions too (``sn.patch(factory, rules, width_mult=sn.oneof([0.5, 1.0]))``).

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
from typing import Any, Callable, Optional, Sequence

from symnas.errors import SpaceError
from symnas.symbolic.placeholders import Placeholder
from symnas.space.space import Space
from symnas.symbolic.spec import Spec

__all__ = ["Rule", "patch", "module_path"]


class Rule:
    """What to search for every module of class ``cls`` whose path matches ``where`` (a glob, e.g. ``'layer*.0.*'``).

    Args:
      cls: the module class to match (exact class).
      where: glob over the module path in dotted torch form (``features.3``); ``None`` matches every path.
      replace: a placeholder over classes (or callables returning modules): the module is swapped for the chosen
        one, constructed from its own defaults plus only the arguments ``keep`` maps. Choosing the matched class
        itself keeps the original module.
      keep: what the replacement receives from the replaced module's final constructor arguments: a list of names
        (``keep=["in_features", "out_features"]``, passed where the replacement accepts them) or a dict
        ``{replacement argument: replaced argument name | f(args) | f(args, decisions)}``. Nothing by default:
        ``Rule(nn.Hardswish, replace=sn.oneof([nn.ReLU, nn.GELU]))`` builds ``nn.ReLU()``, not
        ``nn.ReLU(inplace=True)``.
      name: ties all matches of this rule to one decision with this name.
      **args: constructor arguments: placeholders are decisions; callables are derived from the final arguments,
        ``f(args)`` (e.g. ``padding=lambda a: a['kernel_size'] // 2``) or ``f(args, decisions)`` where
        ``decisions[name_or_path]`` reads another module's decision by its name or its module path
        (``d['layer1.0.conv1.kernel_size']`` or ``d['layer1[0].conv1.kernel_size']``).
    """

    def __new__(klass, *args: Any, **kwargs: Any) -> "Rule":
        self = super().__new__(klass)
        self.spec = Spec(klass, args, kwargs)  # the rule as written: a patched space's recipe names it in JSON
        return self

    def __init__(self, cls: type, where: Optional[str] = None, *, replace: Any = None, name: Optional[str] = None,
                 keep: Any = None, **args: Any) -> None:
        if not isinstance(cls, type):
            raise SpaceError(f"Rule: cls must be a class, got {cls!r}")
        if replace is None and not args:
            raise SpaceError(f"Rule({cls.__name__}): nothing to search (give replace= or constructor arguments)")
        if replace is not None and not isinstance(replace, Placeholder):
            raise SpaceError(f"Rule({cls.__name__}): replace= must be a placeholder, e.g. sn.oneof([...])")
        self.cls, self.where, self.replace, self.name = cls, where, replace, name
        self.args, self.keep_given = dict(args), keep  # as given (for printing and serialisation)
        self.keep = _keep_map(cls, keep)
        self.decisions = {k: v for k, v in args.items() if isinstance(v, Placeholder)}
        self.derived = {k: v for k, v in args.items() if not isinstance(v, Placeholder)}
        for k, v in self.derived.items():
            if not callable(v):
                raise SpaceError(f"Rule({cls.__name__}): argument {k!r} must be a placeholder or a function of "
                                 f"the arguments, got {v!r}")
        self.derived = {k: _derived(cls, k, v) for k, v in self.derived.items()}

    def matches(self, cls: type, path: str) -> bool:
        return cls is self.cls and (self.where is None or fnmatch.fnmatchcase(path, self.where))

    def __repr__(self) -> str:
        where = f", where={self.where!r}" if self.where else ""
        return f"Rule({self.cls.__name__}{where})"


def module_path(dotted: str) -> str:
    """``'stages.2.blocks.0'`` → ``'stages[2].blocks[0]'``."""
    return re.sub(r"(?:^|\.)(\d+)(?=\.|$)", r"[\1]", dotted) if dotted else "root"


def patch(factory: Callable[..., Any], rules: Sequence[Any], *args: Any, name: Optional[str] = None,
          example_inputs: Any = None, **kwargs: Any) -> Space:
    """A search space over a plain model factory: one decision per module a rule matches (see
    :mod:`symnas.space.patching`). ``args``/``kwargs`` go to the factory and may hold placeholders.

    Raises :class:`SpaceError` naming any rule that matches nothing.
    """
    from symnas.space.patching import patch_factory

    rules = list(rules)
    recipe_kwargs = {k: _recipe(v) for k, v in kwargs.items()}
    if example_inputs is not None:
        recipe_kwargs["example_inputs"] = example_inputs
    recipe = Spec(patch, (factory, [r.spec for r in rules], *map(_recipe, args)), recipe_kwargs)  # for JSON
    return patch_factory(factory, rules, args, kwargs, name=name, example_inputs=example_inputs, recipe=recipe)


def _recipe(x: Any) -> Any:
    """A factory argument as the recipe records it: a dataclass config becomes a spec of its class."""
    import dataclasses

    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return Spec(type(x), (), {f.name: _recipe(getattr(x, f.name)) for f in dataclasses.fields(x) if f.init})
    if isinstance(x, (list, tuple)) and not hasattr(x, "_fields"):
        return type(x)(_recipe(v) for v in x)
    if isinstance(x, dict):
        return {k: _recipe(v) for k, v in x.items()}
    return x


def _keep_map(cls: type, keep: Any) -> dict[str, Any]:
    if keep is None:
        return {}
    if isinstance(keep, str):
        keep = [keep]
    if isinstance(keep, (list, tuple)):
        if not all(isinstance(k, str) for k in keep):
            raise SpaceError(f"Rule({cls.__name__}): keep= must list argument names, got {keep!r}")
        return {k: k for k in keep}
    if isinstance(keep, dict):
        out = {}
        for k, v in keep.items():
            if not isinstance(k, str) or not (isinstance(v, str) or callable(v)):
                raise SpaceError(f"Rule({cls.__name__}): keep= maps a replacement argument to a replaced "
                                 f"argument name or a function, got {k!r}: {v!r}")
            out[k] = v if isinstance(v, str) else _derived(cls, k, v)
        return out
    raise SpaceError(f"Rule({cls.__name__}): keep= must be a list of names or a dict, got {type(keep).__name__}")


def _derived(cls: type, arg: str, fn: Callable) -> Callable[[dict, Any], Any]:
    """``fn`` as a function of ``(args, decisions)`` whether it takes one or two parameters."""
    try:
        n = sum(1 for p in inspect.signature(fn).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty)
    except (TypeError, ValueError):
        n = 1
    if n == 2:
        return fn
    if n != 1:
        raise SpaceError(f"Rule({cls.__name__}): {arg}= must be a function of (args) or (args, decisions)")
    return lambda a, d: fn(a)


def _renamed(ph: Placeholder, name: str) -> Placeholder:
    out = copy.copy(ph)
    out.name = name
    return out
