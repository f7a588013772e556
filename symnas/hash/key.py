"""The functional dedup key of a candidate: everything its training and evaluation depend on.

``candidate_key(trial)`` builds the candidate and walks its description and the built object side by side:

* a **module-valued part** contributes its :func:`~symnas.hash.functional_hash` (function, trainable-parameter
  multiset, hidden torch settings such as dropout rates and norm momentum, see :mod:`symnas.hash.settings`) *and*
  the constructor arguments of its non-torch specs that are not declared inert (``Net(width=64, init='xavier')``:
  ``init`` changes the initial weights, which the probe re-seeds, so it must be in the key unless ``Net`` says it
  is inert), each with its description path;
* any **other value** (learning rate, batch size, epochs, augmentation flags, optimizer specs) enters verbatim.

Constructor arguments of ``torch.*`` classes are never needed: their effect on the function and the parameters
is probed, and their hidden settings are read from the built modules. An argument of another class is *inert*
(left out because the probe sees its whole effect) when the class lists it in ``symnas_inert`` (a tuple of
argument names, or ``'*'``), or when it is named in ``inert=`` (``'Class.arg'``, ``'pkg.mod.Class.arg'`` or a
description path such as ``'net.width'``). A ``build`` other than the candidate's own (a reduced probe network)
only trusts ``inert=``: class declarations describe the class's own build.

Example::

    >>> import torch.nn as nn
    >>> from types import SimpleNamespace as T
    >>> a = T(description={"lr": 0.1}, build=lambda seed=None: {"net": nn.Linear(3, 2), "lr": 0.1})
    >>> b = T(description={"lr": 0.2}, build=lambda seed=None: {"net": nn.Linear(3, 2), "lr": 0.2})
    >>> candidate_key(a, probe=(2, 3)) == candidate_key(b, probe=(2, 3))
    False
"""
from __future__ import annotations

import hashlib
import inspect
import json
import math
from typing import Any, Callable, Iterable, Mapping, Optional, Union

from symnas.errors import SymnasError
from symnas.symbolic.spec import Spec, contains, resolve, target_path

ProbeArg = Union[None, tuple, list, Mapping[str, Any], Callable[[str, Any], Any]]


class CandidateKeyError(SymnasError, ValueError):
    """A candidate could not be keyed (an unhashable value, a part the probe cannot run)."""


def _canon(value: Any, where: str) -> Any:
    """A JSON-able canonical form of a non-module value (verbatim)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return repr(value) if not math.isfinite(value) else value
    if isinstance(value, (list, tuple)):
        return [_canon(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        return {str(k): _canon(v, f"{where}.{k}") for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, Spec):
        args, kwargs = _named_args(value)
        return {"spec": value.path, "args": _canon(args, where), "kwargs": _canon(kwargs, where)}
    path = getattr(value, "path", None)
    if type(value).__name__ == "Ref" and isinstance(path, str):
        return {"ref": path}
    if callable(value) and hasattr(value, "__qualname__"):
        return {"ref": target_path(value)}
    raise CandidateKeyError(f"{where or 'candidate'}: cannot put a {type(value).__name__} into a dedup key; use plain "
                    "values (numbers, strings, lists, dicts), specs or modules")


def _named_args(spec: Spec) -> tuple[list[Any], dict[str, Any]]:
    """Positional arguments bound to parameter names where the target's signature allows."""
    try:
        sig = inspect.signature(resolve(spec.target))
        bound = sig.bind_partial(*spec.args, **spec.kwargs)
        named = dict(bound.arguments)
        var = [n for n, p in sig.parameters.items() if p.kind is inspect.Parameter.VAR_POSITIONAL]
        rest = list(named.pop(var[0], ())) if var else []
        kw = [n for n, p in sig.parameters.items() if p.kind is inspect.Parameter.VAR_KEYWORD]
        if kw:
            named.update(named.pop(kw[0], {}))
        return rest, named
    except (TypeError, ValueError, SymnasError):
        return list(spec.args), dict(spec.kwargs)


def _is_torch(target: Any) -> bool:
    return target_path(target).startswith("torch.")


def _inert_of(target: Any, use_class: bool) -> Union[str, frozenset]:
    if not use_class:
        return frozenset()
    try:
        got = getattr(resolve(target), "symnas_inert", ())
    except SymnasError:
        return frozenset()
    return "*" if got == "*" else frozenset(got)


def spec_settings(description: Any, path: str = "", inert: Iterable[str] = (), use_class: bool = True) -> list:
    """``[(path, value)]`` of the constructor arguments of non-torch specs under ``description`` that are not
    declared inert (see the module docstring); specs inside arguments are walked, not listed.

    Example::

        >>> import symnas
        >>> class Net: symnas_inert = ("width",)
        >>> _ = symnas.register(Net, "doc.Net")
        >>> spec_settings(Spec("doc.Net", (), {"width": 8, "init": "xavier"}))
        [('init', 'xavier')]
    """
    declared = frozenset(inert)
    out: list = []

    def walk(x: Any, p: str) -> None:
        if isinstance(x, Spec):
            args, kwargs = _named_args(x)
            items = [(f"[{i}]", v) for i, v in enumerate(args)] + sorted(kwargs.items())
            torch_target = _is_torch(x.target)
            own = _inert_of(x.target, use_class) if not torch_target else "*"
            name, full = x.name, x.path
            for arg, v in items:
                sub = f"{p}.{arg}" if p and not arg.startswith("[") else f"{p}{arg}"
                if contains(v, Spec):
                    walk(v, sub)
                    continue
                if torch_target or own == "*" or arg in own:
                    continue
                if f"{name}.{arg}" in declared or f"{full}.{arg}" in declared or sub in declared:
                    continue
                out.append((sub, _canon(v, sub)))
        elif isinstance(x, (list, tuple)):
            for i, v in enumerate(x):
                walk(v, f"{p}[{i}]")
        elif isinstance(x, Mapping):
            for k, v in sorted(x.items(), key=lambda kv: str(kv[0])):
                walk(v, f"{p}.{k}" if p else str(k))

    walk(description, path)
    return out


def _probe_for(probe: ProbeArg, path: str, module: Any) -> Any:
    if callable(probe) and not isinstance(probe, (tuple, list, Mapping)):
        return probe(path, module)
    if isinstance(probe, Mapping) and "shape" not in probe:
        return probe.get(path, "auto")                     # per-part probes: {"net": (2, 3, 32, 32)}
    return "auto" if probe is None else probe


def candidate_key(trial: Any, *, build: Optional[Callable[[Any], Any]] = None, probe: ProbeArg = None,
                  inert: Iterable[str] = (), bits: int = 20) -> str:
    """The functional dedup key of a trial (32 hex digits); see the module docstring.

    ``build(trial)`` replaces ``trial.build(seed=0)`` (e.g. a reduced probe network); ``probe`` is a shape, a spec
    dict (``{'shape': (2, 16), 'dtype': 'long', 'high': 1000}``), ``{part path: probe}`` or
    ``callable(path, module)``; by default each module's probe is inferred from its first layer.
    """
    from symnas.hash.functional import FunctionalHashError, functional_hash
    import torch.nn as nn

    description = getattr(trial, "description", None)
    built = build(trial) if build is not None else trial.build(seed=0)
    inert = tuple(inert)
    use_class = build is None

    def walk(desc: Any, obj: Any, path: str) -> Any:
        if isinstance(obj, nn.Module):
            try:
                h = functional_hash(obj, _probe_for(probe, path, obj), bits=bits, restore=False)
            except FunctionalHashError as exc:
                raise FunctionalHashError(f"{path or 'candidate'}: {exc}") from None
            return {"module": h, "settings": spec_settings(desc, path, inert, use_class)}
        if isinstance(obj, Mapping):
            d = desc if isinstance(desc, Mapping) else {}
            return {str(k): walk(d.get(k), v, f"{path}.{k}" if path else str(k))
                    for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
        if isinstance(obj, (list, tuple)):
            d = desc if isinstance(desc, (list, tuple)) and len(desc) == len(obj) else [None] * len(obj)
            return [walk(dv, v, f"{path}[{i}]") for i, (dv, v) in enumerate(zip(d, obj))]
        if desc is not None and not isinstance(desc, (bool, int, float, str)) and path not in inert:
            return _canon(desc, path)
        return None if path in inert else _canon(obj, path)

    form = walk(description, built, "")
    return hashlib.blake2b(json.dumps(form, sort_keys=True).encode(), digest_size=16).hexdigest()


__all__ = ["candidate_key", "spec_settings", "CandidateKeyError"]
