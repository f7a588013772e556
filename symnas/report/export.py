"""Exporting a candidate: JSON description, DSL text (when ``symnas.dsl.dumps`` exists), a Python snippet.

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
    """The candidate as DSL text via ``symnas.dsl.dumps`` (a space with no choices left).

    Raises :class:`SymnasError` when the DSL module has no ``dumps`` yet.
    """
    import symnas.dsl as dsl

    dumps = getattr(dsl, "dumps", None)
    if dumps is None:
        raise SymnasError("export: symnas.dsl.dumps is not available in this version; use --format json or python")
    from symnas.space.space import Space

    return dumps(Space(description, name=name))


def export_python(description: Any) -> str:
    """A Python snippet that builds the candidate (through the JSON description, so it needs only symnas).

    Example::

        >>> print(export_python([1, 2]).splitlines()[0])
        import symnas as sn
    """
    data = json.loads(__import__("symnas").to_json(description))
    text = json.dumps(data)
    allow = "".join(f"sn.allow_import({m!r})\n" for m in _modules(data))
    if allow:
        allow = ("# the description names code outside torch.nn and symnas: allow its modules (imported when built)\n"
                 + allow)
    return ("import symnas as sn\n\n" + allow +
            f"description = sn.from_json({text!r})\n"
            "model = sn.build(description, seed=0)  # a plain torch module with fresh weights\n"
            "print(model)\n")


def _modules(data: Any) -> list[str]:
    """The module prefixes (``pkg.mod.``) of the targets a JSON description names outside ``torch.nn.``/``symnas.``."""
    found: dict[str, None] = {}
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            for tag in ("_spec", "_ref"):
                path = x.get(tag)
                if isinstance(path, str) and "." in path and not path.startswith(("torch.nn.", "symnas.")) \
                        and "<" not in path:
                    found[path.rsplit(".", 1)[0] + "."] = None
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    return sorted(found)


def export_all(description: Any, name: str = "best") -> dict[str, Any]:
    """``{'json': ..., 'python': ..., 'dsl': text or None, 'dsl_error': reason or None}``."""
    out: dict[str, Any] = {"json": export_json(description), "python": export_python(description)}
    try:
        out["dsl"], out["dsl_error"] = export_dsl(description, name), None
    except Exception as exc:  # noqa: BLE001 - the DSL may not express every description
        out["dsl"], out["dsl_error"] = None, f"{type(exc).__name__}: {exc}"
    return out
