"""Running an unedited factory with other arguments: placeholder factory arguments and constructor hooks.

* :func:`template` / :func:`fill`: placeholders among a factory's arguments (also inside lists, dicts, dataclasses
  and plain config objects) become named slots, filled with a candidate's values at each call;
* :class:`Hooks`: patches ``__init__`` of some module classes while the factory runs, counts their constructions
  (a construction is identified by ``(class, k)``, the k-th of its class), records final arguments and applies
  overrides and derived arguments;
* :func:`construct`: a ``replace`` choice built from its own defaults plus what ``keep=`` maps.

Example::

    with Hooks([nn.Conv2d], overrides={(nn.Conv2d, 0): {"kernel_size": 5}}):
        model = make_cnn()              # its first Conv2d gets kernel_size=5
"""
from __future__ import annotations

import copy
import dataclasses
import inspect
from typing import Any, Callable, Optional, Sequence

from symnas.errors import DecisionError, SpaceError
from symnas.symbolic.placeholders import Placeholder
from symnas.space.rules import Rule, module_path
from symnas.space.trace import _named

__all__ = ["Decisions", "Hooks", "Slot", "construct", "fill", "has_slot", "no_inplace", "set_module", "template"]


class Slot:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def template(x: Any, where: str, found: dict[str, Placeholder]) -> Any:
    """``x`` with every placeholder replaced by a :class:`Slot` (recorded in ``found``)."""
    if isinstance(x, Placeholder):
        name = x.name or where
        if name in found and _named(found[name], None) != _named(x, None):
            raise SpaceError(f"patch: decision name {name!r} used for two different placeholders")
        found[name] = _named(x, name)
        return Slot(name)
    if isinstance(x, (list, tuple)):
        items = [template(v, f"{where}[{i}]", found) for i, v in enumerate(x)]
        return type(x)(items) if not hasattr(x, "_fields") else type(x)(*items)
    if isinstance(x, dict):
        return {k: template(v, f"{where}.{k}", found) for k, v in x.items()}
    if isinstance(x, type) or callable(x) or not hasattr(x, "__dict__"):
        return x
    fields = [f.name for f in dataclasses.fields(x)] if dataclasses.is_dataclass(x) else list(vars(x))
    changed = {}
    for f in fields:
        v = getattr(x, f)
        t = template(v, f"{where}.{f}", found)
        if t is not v:
            changed[f] = t
    if not changed:
        return x
    out = copy.copy(x)
    for f, v in changed.items():
        object.__setattr__(out, f, v)
    return out


def fill(x: Any, value: Callable[[str], Any]) -> Any:
    if isinstance(x, Slot):
        return value(x.name)
    if isinstance(x, (list, tuple)):
        items = [fill(v, value) for v in x]
        return type(x)(items) if not hasattr(x, "_fields") else type(x)(*items)
    if isinstance(x, dict):
        return {k: fill(v, value) for k, v in x.items()}
    if isinstance(x, type) or callable(x) or not hasattr(x, "__dict__"):
        return x
    fields = [f.name for f in dataclasses.fields(x)] if dataclasses.is_dataclass(x) else list(vars(x))
    if not any(has_slot(getattr(x, f)) for f in fields):
        return x
    out = copy.copy(x)
    for f in fields:
        object.__setattr__(out, f, fill(getattr(x, f), value))
    return out


def has_slot(x: Any) -> bool:
    if isinstance(x, Slot):
        return True
    if isinstance(x, (list, tuple)):
        return any(has_slot(v) for v in x)
    if isinstance(x, dict):
        return any(has_slot(v) for v in x.values())
    if isinstance(x, type) or callable(x) or not hasattr(x, "__dict__"):
        return False
    fields = [f.name for f in dataclasses.fields(x)] if dataclasses.is_dataclass(x) else list(vars(x))
    return any(has_slot(getattr(x, f)) for f in fields)


# ---------------------------------------------------------------------------------------------------------------
# Constructor hooks
# ---------------------------------------------------------------------------------------------------------------
class Hooks:
    """Patches ``__init__`` of ``classes`` while a factory runs: counts constructions per class, records the final
    arguments of the ``(cls, k)`` in ``record`` (all when ``record_all``), and applies ``overrides`` and ``derived``
    (``(cls, k) -> {arg: f(args, decisions)}``)."""

    def __init__(self, classes: Sequence[type], overrides: Optional[dict] = None, derived: Optional[dict] = None,
                 record: Any = (), record_all: bool = False, decisions: Any = None) -> None:
        self.classes = list(dict.fromkeys(classes))
        self.counter: dict[type, int] = {}
        self.seen: list[tuple[type, int, Any, dict[str, Any]]] = []
        self.overrides = overrides or {}
        self.derived = derived or {}
        self.record, self.record_all, self.decisions = set(record), record_all, decisions
        self._saved: list[tuple[type, Any]] = []

    def __enter__(self) -> "Hooks":
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
                key = (cls, k)
                new, der = hooks.overrides.get(key), hooks.derived.get(key)
                if new or der or hooks.record_all or key in hooks.record:
                    bound = sig.bind(self, *args, **kwargs)
                    bound.apply_defaults()
                    final = {n: v for n, v in bound.arguments.items() if n != "self"}
                    if (new or der) and not var_pos:
                        final.update(new or {})
                        for n, fn in (der or {}).items():
                            final[n] = fn(final, hooks.decisions)
                        extra = final.pop(var_kw, {}) if var_kw else {}
                        args, kwargs = (), {**final, **extra}
                        if var_kw:
                            final[var_kw] = extra
                    hooks.seen.append((cls, k, self, final))
            orig_init(self, *args, **kwargs)

        cls.__init__ = __init__  # type: ignore[misc]


class Decisions(dict):
    """The chosen values by decision name; a module path in torch form (``layer1.0.conv1.kernel_size``) works too.

    Example::

        sn.Rule(nn.Conv2d, where="layer1.0.conv2", kernel_size=lambda a, d: d["layer1.0.conv1.kernel_size"])
    """

    def __missing__(self, key: str) -> Any:
        alt = module_path(key)
        if alt != key and alt in self:
            return self[alt]
        raise DecisionError(f"no decision {key!r} in this candidate (decisions: {', '.join(list(self)[:8])}"
                            f"{', ...' if len(self) > 8 else ''})")


def construct(repl: Any, final: dict[str, Any], rule: Rule, decisions: Any, where: str) -> Any:
    kw: dict[str, Any] = {}
    if rule.keep:
        try:
            accepted = inspect.signature(repl).parameters
            open_kw = any(p.kind == p.VAR_KEYWORD for p in accepted.values())
        except (TypeError, ValueError):
            accepted, open_kw = {}, True
        for k, src in rule.keep.items():
            if not (open_kw or k in accepted):
                continue
            if isinstance(src, str):
                if src in final:
                    kw[k] = final[src]
            else:
                kw[k] = src(final, decisions)
    try:
        return repl(**kw)
    except Exception as e:
        raise SpaceError(f"{where}: constructing the replacement {getattr(repl, '__name__', repl)}"
                         f"({', '.join(f'{k}={v!r}' for k, v in kw.items())}) failed: {type(e).__name__}: {e}; "
                         "map the arguments it needs with keep=") from e


def no_inplace(model: Any) -> None:
    """Turns off ``inplace`` on every module that has the flag (numerically the same): a replacement's backward
    may need its output (``ReLU``, ``Sigmoid``), which an in-place module after it (``Dropout(inplace=True)``,
    ``Hardswish(inplace=True)``) would overwrite."""
    for m in model.modules():
        if getattr(m, "inplace", None) is True:
            m.inplace = False


def set_module(root: Any, dotted: str, module: Any) -> None:
    parent_path, _, attr = dotted.rpartition(".")
    parent = root.get_submodule(parent_path) if parent_path else root
    setattr(parent, attr, module)
