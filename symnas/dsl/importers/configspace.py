"""ConfigSpace formats without ConfigSpace: its JSON (read and write), classic PCS and new PCS (read).

Example::

    >>> s = loads_pcs("kernel {rbf, poly} [rbf]\\ndegree [2, 5] [3]i\\ndegree | kernel in {poly}\\n")
    >>> [d.name for d in s.decisions]
    ['kernel', 'degree']
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterator, cast

from symnas.dsl.importers.expr import literal, to_text
from symnas.dsl.importers.ir import (NO_DEFAULT, FormatError, Param, from_space, number_or_text, read_json,
                                     to_space, unsupported)
from symnas.space.space import Space

__all__ = ["loads_json", "dumps_json", "loads_pcs", "loads_pcs_new"]

_REL = {"EQ": "==", "NEQ": "!=", "LT": "<", "GT": ">"}
_LAMBDA = {"LESS": "<", "EQUALS": "==", "GREATER": ">"}


def _n(name: str) -> str:
    return to_text(("name", name))


def _num(v: Any, where: str) -> Any:
    if isinstance(v, str):
        try:
            return float(v) if any(c in v for c in ".eE") else int(v)
        except ValueError:
            raise FormatError(f"{where}: expected a number, got {v!r}") from None
    return v


def _cond_json(c: dict, where: str) -> tuple[str, list[str]]:
    """(child, conjunction of expressions) of one ConfigSpace JSON condition."""
    t = c.get("type")
    if t in ("AND", "OR"):
        parts = [_cond_json(x, where) for x in c.get("conditions", [])]
        if not parts:
            raise FormatError(f"{where}: empty {t} condition")
        if t == "AND":
            return parts[0][0], [e for p in parts for e in p[1]]
        return parts[0][0], [" or ".join("(" + " and ".join(p[1]) + ")" for p in parts)]
    child, parent = cast(str, c.get("child")), cast(str, c.get("parent"))  # names: strings in ConfigSpace JSON
    if t == "IN":
        return child, [f"{_n(parent)} in [{', '.join(literal(v) for v in c['values'])}]"]
    if t in _REL:
        return child, [f"{_n(parent)} {_REL[t]} {literal(c['value'])}"]
    raise FormatError(f"{where}: condition on {child!r}: unsupported condition type {t!r}")


_REL_OPS = {"LT": "<", "LE": "<=", "EQ": "==", "GT": ">", "GE": ">="}
_LAMBDA.update({"LESSEQUAL": "<=", "GREATEREQUAL": ">="})


def _forbid_json(f: Any, where: str, params: dict) -> str:
    """The expression of a ConfigSpace forbidden clause of any kind (EQUALS, IN, AND, OR, CLAUSE_LT/LE/GT/GE,
    RELATION_LT/LE/EQ/GT/GE and the legacy RELATION). A CLAUSE on an ordinal compares by its order, as
    ConfigSpace does: it is written as ``in`` over the values it forbids."""
    if not isinstance(f, dict):
        raise FormatError(f"{where}: a forbidden clause must be an object, got {f!r:.60}")
    t = f.get("type")
    if t in ("AND", "OR"):
        parts = f.get("clauses")
        if not isinstance(parts, list) or not parts:
            raise FormatError(f"{where}: an empty {t} forbidden clause")
        return f" {t.lower()} ".join(f"({_forbid_json(x, where, params)})" for x in parts)
    if t == "EQUALS":
        return f"{_n(f['name'])} == {literal(f['value'])}"
    if t == "IN":
        return f"{_n(f['name'])} in [{', '.join(literal(v) for v in f['values'])}]"
    if isinstance(t, str) and t.startswith("CLAUSE_") and t[7:] in _REL_OPS:
        op, name, value = _REL_OPS[t[7:]], f["name"], f["value"]
        p = params.get(name)
        if p is not None and p.kind == "ord":
            seq = list(p.choices)
            if value not in seq:
                raise FormatError(f"{where}: forbidden clause on {name!r}: {value!r} is not in its sequence")
            k = seq.index(value)
            hit = [v for i, v in enumerate(seq) if {"<": i < k, "<=": i <= k, "==": i == k, ">": i > k,
                                                    ">=": i >= k}[op]]
            return f"{_n(name)} in [{', '.join(literal(v) for v in hit)}]" if hit else "False"
        return f"{_n(name)} {op} {literal(value)}"
    if isinstance(t, str) and t.startswith("RELATION_") and t[9:] in _REL_OPS:
        return f"{_n(f['left'])} {_REL_OPS[t[9:]]} {_n(f['right'])}"
    if t == "RELATION" and f.get("lambda") in _LAMBDA:
        return f"{_n(f['left'])} {_LAMBDA[f['lambda']]} {_n(f['right'])}"
    raise FormatError(f"{where}: unsupported forbidden clause type {t!r}")


def loads_json(text: str, where: str = "configspace.json") -> Space:
    """Reads ConfigSpace's JSON (``ConfigSpace.read_and_write.json``); see docs/formats.md for the mapping."""
    d = read_json(text, where)
    if not isinstance(d, dict) or "hyperparameters" not in d:
        raise FormatError(f"{where}: not a ConfigSpace JSON file (no 'hyperparameters')")
    params, notes = [], []
    if not isinstance(d["hyperparameters"], list):
        raise FormatError(f"{where}: 'hyperparameters' must be a list")
    for h in d["hyperparameters"]:
        if not isinstance(h, dict):
            raise FormatError(f"{where}: every hyperparameter must be an object, got {h!r:.60}")
        name, t = h.get("name"), h.get("type")
        w = f"{where}: hyperparameter {name!r}"
        default = h.get("default", h.get("default_value", NO_DEFAULT))  # 0.4 JSON: default; 1.x: default_value
        if not isinstance(h, dict) or not isinstance(name, str):
            raise FormatError(f"{where}: every hyperparameter needs a 'name' (text)")
        if t == "categorical":
            params.append(Param(name, "cat", tuple(h["choices"]), default=default))
            if h.get("weights"):
                unsupported(notes, "categorical weights ignored", w)
        elif t == "ordinal":
            params.append(Param(name, "ord", tuple(h["sequence"]), default=default))
        elif t == "constant":
            params.append(Param(name, "const", (h["value"],)))
        elif t in ("uniform_float", "uniform_int", "normal_float", "normal_int", "beta_float", "beta_int"):
            if "lower" not in h or "upper" not in h:
                raise FormatError(f"{w}: a {t} without bounds cannot be imported")
            if not t.startswith("uniform"):
                unsupported(notes, f"{t.split('_')[0]} prior ignored (imported as uniform over its bounds)", w)
            kind = "int" if t.endswith("_int") else "float"
            q = h.get("q")
            step = None
            if q not in (None, 0):
                if h.get("log"):
                    unsupported(notes, f"quantisation q={q} on a log scale ignored", w)
                else:
                    step = int(q) if kind == "int" else float(q)
            params.append(Param(name, kind, low=h["lower"], high=h["upper"], log=bool(h.get("log")), step=step,
                                default=default))
        else:
            raise FormatError(f"{w}: unsupported hyperparameter type {t!r}")
    conds: dict[str, list[str]] = {}
    for c in d.get("conditions", []) if isinstance(d.get("conditions", []), list) else []:
        child, exprs = _cond_json(c, where)
        conds.setdefault(child, []).extend(exprs)
    by_name = {p.name: p for p in params}
    forbiddens = d.get("forbiddens", [])
    conditions = d.get("conditions", [])
    if not isinstance(forbiddens, list) or not isinstance(conditions, list):
        raise FormatError(f"{where}: 'conditions' and 'forbiddens' must be lists")
    forb = [_forbid_json(f, where, by_name) for f in forbiddens]
    return to_space(params, conds, forb, d.get("name") or "configspace", "configspace-json", notes, where)


def dumps_json(space: Space) -> str:
    """Writes ConfigSpace JSON. Conditions must be conjunctions of ``==``/``in`` comparisons with a literal (what
    nesting produces); forbiddens must be ``and`` of ``==``/``in``; anything else raises FormatError."""
    from symnas.dsl.importers.expr import parse

    params, conds, forb = from_space(space, "configspace-json")
    hps = []
    for p in params:
        h: dict[str, Any] = {"name": p.name}
        if p.kind == "cat":
            h.update(type="categorical", choices=list(p.choices), weights=None)
        elif p.kind == "ord":
            h.update(type="ordinal", sequence=list(p.choices))
        elif p.kind == "const":
            h.update(type="constant", value=p.choices[0])
        elif p.step is not None:  # ConfigSpace 1.x has no quantisation: the exact values as an ordinal
            n = int((p.high - p.low) // p.step) + 1 if p.step > 0 else 0
            if p.log or not 0 < n <= 10_000:
                raise FormatError(f"configspace-json: decision {p.name!r}: a quantised range (step {p.step}"
                                  f"{', log scale' if p.log else ''}) has no ConfigSpace 1.x form")
            seq = [p.low + i * p.step if p.kind == "int" else float(f"{p.low + i * p.step:.12g}") for i in range(n)]
            h.update(type="ordinal", sequence=seq)
            if p.default is not NO_DEFAULT and p.default not in seq:
                raise FormatError(f"configspace-json: decision {p.name!r}: default {p.default!r} is not on the grid")
        else:
            h.update(type=f"uniform_{p.kind}", log=p.log, lower=p.low, upper=p.high)
        if p.default is not NO_DEFAULT:
            h["default_value"] = p.default
        hps.append(h)

    def atom(ast: tuple, what: str) -> dict:
        if ast[0] == "==" and ast[1][0] == "name" and ast[2][0] == "lit":
            return {"name": ast[1][1], "value": ast[2][1]}
        if ast[0] == "in" and ast[1][0] == "name" and all(a[0] == "lit" for a in ast[2]):
            return {"name": ast[1][1], "values": [a[1] for a in ast[2]]}
        raise FormatError(f"configspace-json: {what} {to_text(ast)!r} is not an == / in comparison")

    def conj(ast: tuple) -> list[tuple]:
        return conj(ast[1]) + conj(ast[2]) if ast[0] == "and" else [ast]

    conditions = []
    for child, es in conds.items():
        parts = []
        for e in es:
            for a in conj(parse(e)):
                x = atom(a, f"condition of {child!r}")
                parts.append({"child": child, "parent": x["name"], "type": "EQ" if "value" in x else "IN",
                              **({"value": x["value"]} if "value" in x else {"values": x["values"]})})
        conditions.append(parts[0] if len(parts) == 1 else {"child": child, "type": "AND", "conditions": parts})
    ops = {v: k for k, v in _REL_OPS.items()}

    def forbidden(ast: tuple) -> dict:
        if ast[0] in ("and", "or"):
            parts: list[dict] = []
            for side in ast[1:]:
                x = forbidden(side)
                parts.extend(x["clauses"] if x["type"] == ast[0].upper() else [x])
            return {"type": ast[0].upper(), "clauses": parts}
        if ast[0] in ops and ast[0] != "==" and ast[1][0] == "name" and ast[2][0] == "lit":
            return {"type": f"CLAUSE_{ops[ast[0]]}", "name": ast[1][1], "value": ast[2][1]}
        if ast[0] in ops and ast[1][0] == "name" and ast[2][0] == "name":
            return {"type": f"RELATION_{ops[ast[0]]}", "left": ast[1][1], "right": ast[2][1]}
        c = atom(ast, "forbidden clause")
        return {"type": "EQUALS" if "value" in c else "IN", **c}

    forbiddens = [forbidden(parse(e)) for e in forb]
    return json.dumps({"name": space.name, "hyperparameters": hps, "conditions": conditions,
                       "forbiddens": forbiddens, "json_format_version": 0.4}, indent=2)  # 1.x names


_VAL = r"[^,{}\[\]\s]+"


_value = number_or_text


_SECTION = re.compile(r"(Conditionals|Forbidden|Forbiddens|Conditions)\s*:\s*\Z", re.I)


def _pcs_statements(text: str, where: str, forbidden: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """The ``(place, line)`` of each parameter or condition line of a PCS file (comments, blank lines and the
    ``Conditionals:`` / ``Forbidden:`` section headers of classic PCS skipped); forbidden clauses ``{a=x, b=y}``,
    written alike in both PCS dialects, go to ``forbidden`` as ``(place, body)``, read once all parameters are
    known (declaration order does not matter)."""
    for i, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        w = f"{where}:{i}:1"
        if _SECTION.match(line):
            continue
        if line.startswith("{"):
            if not line.endswith("}"):
                raise FormatError(f"{w}: a forbidden clause reads {{a=x, b=y}}: {line!r}")
            forbidden.append((w, line[1:-1].strip()))
        elif line:
            yield w, line


def _forbid_pcs(params: dict, body: str, where: str) -> str:
    parts = []
    for item in body.split(","):
        if "=" not in item:
            raise FormatError(f"{where}: forbidden clause item {item.strip()!r} is not name=value")
        k, v = item.split("=", 1)
        parts.append(f"{_n(k.strip())} == {literal(_typed(params, k.strip(), v, where))}")
    return " and ".join(parts)


def _typed(params: dict, name: str, v: str, where: str) -> Any:
    """A value of parameter ``name`` as ConfigSpace's PCS readers type it: text for categorical and ordinal
    parameters, int or float for numeric ones."""
    p = params.get(name)
    if p is None:
        raise FormatError(f"{where}: unknown parameter {name!r}")
    v = v.strip()
    if p.kind in ("cat", "ord", "const"):
        return v
    try:
        return int(v) if p.kind == "int" else float(v)
    except ValueError:
        raise FormatError(f"{where}: {v!r} is not a value of {p.kind} parameter {name!r}") from None


def _number(text: str, cast: Any, w: str, line: str) -> Any:
    try:
        v = _value(text)
        if isinstance(v, str) or cast is int and isinstance(v, float) and v != int(v):
            raise ValueError(text)
        return cast(v)
    except (ValueError, OverflowError):
        raise FormatError(f"{w}: bad numeric value {text.strip()!r} in {line!r}") from None


def loads_pcs(text: str, where: str = "space.pcs") -> Space:
    """Reads the classic PCS format (SMAC 2 / ParamILS): ``name {a, b} [a]``, ``name [lo, hi] [d]`` with ``i``
    (integer) and ``l`` (log) flags, ``child | parent in {a, b}`` (several lines for a child are ANDed) and
    ``{a=1, b=2}`` forbidden combinations, optionally under ``Conditionals:`` / ``Forbidden:`` headers.
    Categorical values are text, as ConfigSpace reads them."""
    params: dict[str, Param] = {}
    conds: dict[str, list[str]] = {}
    forb: list[tuple[str, str]] = []
    cond_lines: list[tuple[str, str]] = []
    for w, line in _pcs_statements(text, where, forb):
        if "|" in line:
            cond_lines.append((w, line))
        elif m := re.fullmatch(r"(\S+)\s*\{(.*)\}\s*\[(.*)\]", line):
            choices = tuple(v.strip() for v in m[2].split(","))
            params[m[1]] = Param(m[1], "cat", choices, default=m[3].strip())
        elif m := re.fullmatch(r"(\S+)\s*\[(.*),(.*)\]\s*\[(.*)\]\s*([il]*)", line):
            kind = "int" if "i" in m[5] else "float"
            cast = int if kind == "int" else float
            lo, hi, d = (_number(x, cast, w, line) for x in (m[2], m[3], m[4]))
            params[m[1]] = Param(m[1], kind, low=lo, high=hi, log="l" in m[5], default=d)
        else:
            raise FormatError(f"{w}: cannot read PCS line {line!r}")
    for w, line in cond_lines:
        m = re.fullmatch(r"(\S+)\s*\|\s*(\S+)\s+in\s*\{(.*)\}", line)
        if not m:
            raise FormatError(f"{w}: classic PCS conditions must read 'child | parent in {{a, b}}': {line!r}")
        vals = [_typed(params, m[2], v, w) for v in m[3].split(",")]
        conds.setdefault(m[1], []).append(f"{_n(m[2])} in [{', '.join(literal(v) for v in vals)}]")
    return to_space(list(params.values()), conds, [_forbid_pcs(params, b, w) for w, b in forb], "pcs", "pcs", [],
                    where)


_NEW_COND = re.compile(r"\s*(\S+?)\s*(==|!=|<|>|\s+in\s+)\s*(\{[^}]*\}|\S+)\s*")


def loads_pcs_new(text: str, where: str = "space.pcs") -> Space:
    """Reads the new PCS format (SMAC 3): ``name categorical {a, b} [a]``, ``name ordinal {..} [..]``,
    ``name integer|real [lo, hi] [d] log``, conditions ``child | a == x && b in {y, z} || c > 1`` and
    forbiddens ``{a=x, b=y}``. Categorical and ordinal values are text, as ConfigSpace reads them; conditions and
    forbiddens may come before the parameters they name."""
    params: dict[str, Param] = {}
    conds: dict[str, list[str]] = {}
    forb: list[tuple[str, str]] = []
    cond_lines: list[tuple[str, str]] = []
    for w, line in _pcs_statements(text, where, forb):
        if "|" in line:
            cond_lines.append((w, line))
        elif m := re.fullmatch(r"(\S+)\s+(categorical|ordinal)\s*\{(.*)\}\s*\[(.*)\]", line):
            choices = tuple(v.strip() for v in m[3].split(","))
            params[m[1]] = Param(m[1], "cat" if m[2] == "categorical" else "ord", choices, default=m[4].strip())
            if len(choices) == 1:
                params[m[1]] = Param(m[1], "const", choices)
        elif m := re.fullmatch(r"(\S+)\s+(integer|real)\s*\[(.*),(.*)\]\s*\[(.*)\](\s*log)?", line):
            cast = int if m[2] == "integer" else float
            lo, hi, d = (_number(x, cast, w, line) for x in (m[3], m[4], m[5]))
            params[m[1]] = Param(m[1], "int" if cast is int else "float", low=lo, high=hi, log=bool(m[6]),
                                 default=d)
        else:
            raise FormatError(f"{w}: cannot read PCS line {line!r}")
    for w, line in cond_lines:
        child, rest = (x.strip() for x in line.split("|", 1))
        ors = []
        for disj in rest.split("||"):
            ands = []
            for atom in disj.split("&&"):
                m = _NEW_COND.fullmatch(atom)
                if not m:
                    raise FormatError(f"{w}: cannot read condition {atom.strip()!r}")
                if m[3].startswith("{"):
                    vals = [_typed(params, m[1], v, w) for v in m[3].strip("{}").split(",")]
                    ands.append(f"{_n(m[1])} in [{', '.join(literal(v) for v in vals)}]")
                else:
                    ands.append(f"{_n(m[1])} {m[2].strip()} {literal(_typed(params, m[1], m[3], w))}")
            ors.append(" and ".join(ands))
        expr = ors[0] if len(ors) == 1 else " or ".join(f"({o})" for o in ors)
        conds.setdefault(child, []).append(expr)
    return to_space(list(params.values()), conds, [_forbid_pcs(params, b, w) for w, b in forb], "pcs", "pcs-new",
                    [], where)
