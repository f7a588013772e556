"""Exporting a candidate: JSON description, DSL text, a Python snippet.

Example::

    view = load_study("runs.db")
    print(export_python(view.description(view.best())))
"""
from __future__ import annotations

import json
from typing import Any

from symnas.errors import SymnasError


__all__ = ["export_json", "export_dsl", "export_python", "export_all"]


def export_json(description: Any) -> str:
    """The description as symnas JSON (``sn.from_json`` reads it back; ``sn.build`` builds it)."""
    from symnas.symbolic.jsonio import to_json

    return json.dumps(json.loads(to_json(description)), indent=2)


def export_dsl(description: Any, name: str = "best") -> str:
    """The candidate as DSL text via ``symnas.dsl.dumps`` (a space with no choices left); raises
    :class:`SymnasError` when the description cannot be written in the DSL (e.g. a builder path that is not a
    dotted name)."""
    from symnas.dsl import dumps
    from symnas.space.space import Space

    return dumps(Space(description, name=name))


def _targets(x: Any, out: list[str]) -> list[str]:
    """Every builder path ``x`` names: specs, class/function references, patched or traced recipes, and the
    options of placeholders left in it."""
    from symnas.symbolic.jsonio import Ref
    from symnas.symbolic.placeholders import Placeholder
    from symnas.symbolic.spec import Builder, Spec

    if isinstance(x, Spec):
        out.append(x.path)
        for v in list(x.args) + list(x.kwargs.values()):
            _targets(v, out)
    elif isinstance(x, Ref):
        out.append(x.path)
    elif isinstance(x, Builder):
        _targets(x.spec, out)
    elif isinstance(x, Placeholder):
        for v in getattr(x, "candidates", None) or getattr(x, "items", None) or ():
            _targets(v, out)
    elif isinstance(x, (list, tuple)):
        for v in x:
            _targets(v, out)
    elif isinstance(x, dict):
        for v in x.values():
            _targets(v, out)
    return out


def _allowed(target: str) -> bool:
    from symnas.errors import BuildError
    from symnas.symbolic.spec import resolve

    try:
        resolve(target)  # imports allow-listed modules only, calls nothing
    except BuildError:
        return False
    return True


def export_python(description: Any) -> str:
    """A Python snippet that builds the candidate (through the JSON description, so it needs only symnas).

    The snippet calls nothing but ``symnas.from_json`` and ``symnas.build``, and ``build`` resolves every builder
    through the registry and allow-list of the process that runs it (docs/security.md). A description naming a
    builder that this process does not allow is refused here, by name, instead of being written out.

    Example::

        >>> print(export_python([1, 2]).splitlines()[0])
        import symnas as sn
    """
    from symnas.symbolic.jsonio import to_json

    targets = set(_targets(description, []))
    refused = sorted(t for t in targets if not _allowed(t))
    if refused:
        raise SymnasError(f"export --format python: the description names builders that are neither registered "
                          f"nor allow-listed: {', '.join(map(repr, refused[:5]))}"
                          f"{' ...' if len(refused) > 5 else ''} (docs/security.md)")
    text = json.dumps(json.loads(to_json(description)))
    allow = "".join(f"sn.allow_import({m!r})\n" for m in _modules(targets))
    if allow:
        allow = ("# the description names code outside the default allow-list, allowed where it was exported: "
                 "allow its modules\n" + allow)
    return ("import symnas as sn\n\n" + allow +
            f"description = sn.from_json({text!r})\n"
            "model = sn.build(description, seed=0)  # a plain torch module with fresh weights\n"
            "print(model)\n")


def _modules(targets: set[str]) -> list[str]:
    """The module prefixes (``pkg.mod.``) of allowed ``targets`` outside ``torch.nn.`` and ``symnas.``: the snippet
    names them, so that the process that runs it allows what this one allowed."""
    return sorted({t.rsplit(".", 1)[0] + "." for t in targets
                   if "." in t and "<" not in t and not t.startswith(("torch.nn.", "symnas."))})


def export_all(description: Any, name: str = "best") -> dict[str, Any]:
    """``{'json': ..., 'python': text or None, 'python_error': reason or None, 'dsl': text or None,
    'dsl_error': reason or None}``."""
    out: dict[str, Any] = {"json": export_json(description)}
    try:
        out["python"], out["python_error"] = export_python(description), None
    except SymnasError as exc:
        out["python"], out["python_error"] = None, str(exc)
    try:
        out["dsl"], out["dsl_error"] = export_dsl(description, name), None
    except Exception as exc:  # noqa: BLE001 - the DSL may not express every description
        out["dsl"], out["dsl_error"] = None, f"{type(exc).__name__}: {exc}"
    return out
