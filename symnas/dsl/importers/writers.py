"""Writers for new-format PCS (SMAC 3) and W&B sweep YAML.

Both take a flat or nested HPO space (dicts of placeholders; nested choices as ``oneof`` over dicts with
``_name``) through :func:`symnas.dsl.importers.ir.from_space` and raise :class:`FormatError` naming what the
format cannot express:

* PCS: quantised ranges (``step``) — PCS has no ``q``; conditions that are not a disjunction of conjunctions of
  ``==`` / ``!=`` / ``<`` / ``>`` / ``in`` comparisons; forbidden clauses other than conjunctions of ``==``.
  A parameter without a default gets ConfigSpace's: the first choice, the midpoint (geometric on a log scale).
* W&B: conditions of any kind (W&B sweeps have none), forbidden clauses, nested namespaces, log-scale integers;
  defaults are not part of a sweep and are reported in a warning rather than written.

Example::

    >>> from symnas.dsl.importers import loads, dump
    >>> print(dump(loads('{"lr": {"_type": "loguniform", "_value": [0.001, 0.1]}}', "nni"), "pcs-new").strip())
    lr real [0.001, 0.1] [0.01] log
"""
from __future__ import annotations

import math
import warnings
from typing import Any

from symnas.dsl.importers.expr import parse
from symnas.dsl.importers.ir import NO_DEFAULT, FormatError, Param, from_space
from symnas.space.space import Space

__all__ = ["dumps_pcs_new", "dumps_wandb"]


def _pcs_value(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    return repr(v) if isinstance(v, float) else str(v)


def _numeric_default(p: Param) -> Any:
    if p.default is not NO_DEFAULT:
        return p.default
    mid = math.exp((math.log(p.low) + math.log(p.high)) / 2) if p.log else (p.low + p.high) / 2
    return int(round(mid)) if p.kind == "int" else float(f"{mid:.12g}")


def _pcs_atom(ast: tuple, what: str) -> str:
    op = ast[0]
    if op in ("==", "!=", "<", ">") and ast[1][0] == "name" and ast[2][0] == "lit":
        return f"{ast[1][1]} {op} {_pcs_value(ast[2][1])}"
    if op == "in" and ast[1][0] == "name" and all(a[0] == "lit" for a in ast[2]):
        return f"{ast[1][1]} in {{{', '.join(_pcs_value(a[1]) for a in ast[2])}}}"
    raise FormatError(f"pcs-new: {what}: cannot write {ast!r} (only ==, !=, <, >, in against literals)")


def _pcs_condition(ast: tuple, what: str) -> str:
    if ast[0] == "or":
        return f"{_pcs_condition(ast[1], what)} || {_pcs_condition(ast[2], what)}"
    if ast[0] == "and":
        if ast[1][0] == "or" or ast[2][0] == "or":
            raise FormatError(f"pcs-new: {what}: an 'or' inside an 'and' cannot be written")
        return f"{_pcs_condition(ast[1], what)} && {_pcs_condition(ast[2], what)}"
    return _pcs_atom(ast, what)


def _conj(ast: tuple) -> list[tuple]:
    return _conj(ast[1]) + _conj(ast[2]) if ast[0] == "and" else [ast]


def dumps_pcs_new(space: Space) -> str:
    """Writes the new PCS format (see the module docstring for what raises)."""
    params, conds, forb = from_space(space, "pcs-new")
    lines = []
    for p in params:
        if p.kind in ("cat", "ord", "const"):
            choices = p.choices
            default = p.default if p.default is not NO_DEFAULT else choices[0]
            kind = "ordinal" if p.kind == "ord" else "categorical"
            lines.append(f"{p.name} {kind} {{{', '.join(_pcs_value(c) for c in choices)}}} [{_pcs_value(default)}]")
            continue
        if p.step is not None:
            raise FormatError(f"pcs-new: decision {p.name!r}: PCS cannot express a quantised range (step {p.step})")
        kind = "integer" if p.kind == "int" else "real"
        lines.append(f"{p.name} {kind} [{_pcs_value(p.low)}, {_pcs_value(p.high)}] "
                     f"[{_pcs_value(_numeric_default(p))}]" + (" log" if p.log else ""))
    for child, exprs in conds.items():
        ast = parse(exprs[0]) if len(exprs) == 1 else parse(" and ".join(f"({e})" for e in exprs))
        lines.append(f"{child} | {_pcs_condition(ast, f'condition of {child!r}')}")
    for e in forb:
        clauses = []
        for a in _conj(parse(e)):
            if not (a[0] == "==" and a[1][0] == "name" and a[2][0] == "lit"):
                raise FormatError(f"pcs-new: forbidden clause {e!r}: only conjunctions of == can be written")
            clauses.append(f"{a[1][1]}={_pcs_value(a[2][1])}")
        lines.append("{" + ", ".join(clauses) + "}")
    return "\n".join(lines) + "\n"


def dumps_wandb(space: Space) -> str:
    """Writes a W&B sweep configuration (``method`` / ``metric`` from ``meta['sweep']`` when present)."""
    import yaml

    params, conds, forb = from_space(space, "wandb")
    if conds:
        raise FormatError(f"wandb: W&B sweeps have no conditional parameters: {sorted(conds)}")
    if forb:
        raise FormatError(f"wandb: W&B sweeps have no forbidden clauses: {forb}")
    out: dict[str, Any] = {}
    dropped = []
    for p in params:
        if p.kind == "const":
            out[p.name] = {"value": p.choices[0]}
            continue
        if p.default is not NO_DEFAULT:
            dropped.append(p.name)
        if p.kind in ("cat", "ord"):
            out[p.name] = {"values": list(p.choices)}
        elif p.log:
            if p.step is not None or p.kind == "int":
                raise FormatError(f"wandb: decision {p.name!r}: W&B has no log-uniform integer or quantised log "
                                  "distribution that reads back exactly")
            out[p.name] = {"distribution": "log_uniform_values", "min": p.low, "max": p.high}
        elif p.kind == "int":
            out[p.name] = ({"distribution": "int_uniform", "min": p.low, "max": p.high} if p.step is None else
                           {"distribution": "q_uniform", "min": p.low, "max": p.high, "q": p.step})
        else:
            out[p.name] = ({"distribution": "uniform", "min": p.low, "max": p.high} if p.step is None else
                           {"distribution": "q_uniform", "min": p.low, "max": p.high, "q": p.step})
    if dropped:
        warnings.warn(f"wandb: defaults are not part of a W&B sweep and were not written: {dropped}", stacklevel=2)
    sweep = dict(space.meta.get("sweep") or {})
    doc = {**sweep, "parameters": out}
    return yaml.safe_dump(doc, sort_keys=False)
