"""Exporting a candidate: JSON description, DSL text, a Python snippet.

Example::

    view = load_study("runs.db")
    print(export_python(view.description(view.best())))
"""
from __future__ import annotations

import json
from typing import Any


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


def export_python(description: Any) -> str:
    """A Python snippet that builds the candidate (through the JSON description, so it needs only symnas).

    Example::

        >>> print(export_python([1, 2]).splitlines()[0])
        import symnas as sn
    """
    text = json.dumps(json.loads(__import__("symnas").to_json(description)))
    return ("import symnas as sn\n\n"
            f"description = sn.from_json({text!r})\n"
            "model = sn.build(description, seed=0)  # a plain torch module with fresh weights\n"
            "print(model)\n")


def export_all(description: Any, name: str = "best") -> dict[str, Any]:
    """``{'json': ..., 'python': ..., 'dsl': text or None, 'dsl_error': reason or None}``."""
    out: dict[str, Any] = {"json": export_json(description), "python": export_python(description)}
    try:
        out["dsl"], out["dsl_error"] = export_dsl(description, name), None
    except Exception as exc:  # noqa: BLE001 - the DSL may not express every description
        out["dsl"], out["dsl_error"] = None, f"{type(exc).__name__}: {exc}"
    return out
