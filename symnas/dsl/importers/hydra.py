"""Hydra sweep overrides (read and write): ``key=choice(a,b)``, ``key=a,b,c``, ``key=range(start, stop[, step])``
(stop exclusive), ``key=interval(lo, hi)``, ``key=int(interval(lo, hi))`` (hi exclusive), ``key=tag(log, ...)``.
One override per line (``#`` comments), or a YAML file with ``hydra.sweeper.params`` (the Optuna/Nevergrad
sweeper form). ``~key`` (deletion) and other functions raise FormatError naming the line.

Example::

    >>> s = loads("optimizer=choice(adam, sgd)\\nlr=tag(log, interval(1e-4, 1e-1))\\nlayers=range(1, 5)\\n")
    >>> s.tree["layers"].high, s.tree["lr"].scale
    (4, 'log')
"""
from __future__ import annotations

import re
from typing import Any

from symnas.dsl.importers.ir import FormatError, from_space, number_or_text
from symnas.symbolic.placeholders import FloatRange, IntRange, OneOf
from symnas.space.space import Space

__all__ = ["loads", "dumps"]

_FN = re.compile(r"(\w+)\((.*)\)\Z", re.S)


def _split(s: str) -> list[str]:
    out, depth, cur, quote = [], 0, "", ""
    for ch in s:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    out.append(cur.strip())
    return out


def _scalar(s: str) -> Any:
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return s[1:-1]
    low = s.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    return number_or_text(s)


def _sweep(key: str, value: str, w: str) -> Any:
    value = value.strip()
    log = False
    m = _FN.match(value)
    if m and m[1] == "tag":
        args = _split(m[2])
        if "log" in args[:-1]:
            log = True
        value = args[-1]
        m = _FN.match(value)
    cast_int = False
    if m and m[1] in ("int", "float"):
        cast_int = m[1] == "int"
        value = m[2].strip()
        m = _FN.match(value)
    try:
        if m and m[1] == "choice":
            return OneOf([_scalar(a) for a in _split(m[2])], key)
        if m and m[1] == "range":
            a = [_scalar(x) for x in _split(m[2])]
            start, stop, step = (a + [1])[:3] if len(a) >= 2 else (0, a[0], 1)
            if all(isinstance(x, int) for x in (start, stop, step)):
                return IntRange(start, stop - 1, key, step=step)
            n = int(round((stop - start) / step))
            return OneOf([start + i * step for i in range(n) if start + i * step < stop], key, ordered=True)
        if m and m[1] == "interval":
            lo, hi = (_scalar(x) for x in _split(m[2]))
            if cast_int:
                return IntRange(int(lo), int(hi) - 1, key, log=log)
            return FloatRange(float(lo), float(hi), key, scale="log" if log else "linear")
    except FormatError:
        raise
    except Exception as exc:
        raise FormatError(f"{w}: {exc}") from None
    if m:
        raise FormatError(f"{w}: sweep function {m[1]!r} cannot be imported")
    parts = _split(value)
    return OneOf([_scalar(p) for p in parts], key) if len(parts) > 1 else _scalar(value)


def loads(text: str, where: str = "overrides.txt") -> Space:
    """Reads Hydra sweep overrides (one per line) or a YAML file with ``hydra.sweeper.params``."""
    items: list[tuple[str, str, str]] = []
    if re.search(r"^\s*hydra\s*:", text, re.M):
        import yaml

        try:
            d = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise FormatError(f"{where}: {exc}") from None
        params = (((d or {}).get("hydra") or {}).get("sweeper") or {}).get("params")
        if not isinstance(params, dict):
            raise FormatError(f"{where}: no hydra.sweeper.params mapping")
        items = [(str(k), str(v), f"{where}: hydra.sweeper.params.{k}") for k, v in params.items()]
    else:
        for ln, line in enumerate(text.splitlines(), 1):
            line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
            if not line:
                continue
            w = f"{where}:{ln}:1"
            if line.startswith("~") or "=" not in line:
                raise FormatError(f"{w}: cannot import override {line!r} (need key=value; deletions unsupported)")
            k, v = line.split("=", 1)
            items.append((k.strip().lstrip("+"), v, w))
    tree = {k: _sweep(k, v, w) for k, v, w in items}
    return Space(tree, "hydra", meta={"format": "hydra", "constraints": [], "conditions": [], "unsupported": []})


def _lit(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, str) and (re.fullmatch(r"[A-Za-z_][\w.\-/]*", v) and v.lower() not in ("true", "false", "null")):
        return v
    return repr(v) if not isinstance(v, str) else "'" + v.replace("'", "\\'") + "'"


def dumps(space: Space) -> str:
    """Writes one override per line. Nesting, conditions and constraints raise FormatError (Hydra's basic
    sweeper has none)."""
    params, conds, forb = from_space(space, "hydra")
    if conds or forb:
        raise FormatError(f"hydra: conditional parameters {sorted(conds)} / forbidden clauses cannot be written")
    lines = []
    for p in params:
        if p.kind in ("cat", "ord"):
            body = f"choice({', '.join(_lit(c) for c in p.choices)})"
        elif p.kind == "const":
            body = _lit(p.choices[0])
        elif p.kind == "int":
            body = (f"tag(log, int(interval({p.low}, {p.high + 1})))" if p.log
                    else f"range({p.low}, {p.high + 1}" + (f", {p.step})" if p.step else ")"))
        else:
            if p.step:
                raise FormatError(f"hydra: {p.name}: a float step cannot be written")
            body = f"interval({p.low!r}, {p.high!r})"
            body = f"tag(log, {body})" if p.log else body
        lines.append(f"{p.name}={body}")
    return "\n".join(lines) + "\n"
