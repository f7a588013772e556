"""Hydra sweeps (read and write): override lines as Hydra's override grammar reads them, and the sweeper YAML forms
of the Optuna, Nevergrad and Ax sweepers.

Override lines (``key=value``, one per line, ``#`` comments; ``+key`` / ``++key`` add): values are primitives
(``1``, ``1e-3``, ``1_000``, ``true``, ``null``, ``'quoted'``, ``abc-def/x``), lists ``[1, 2]`` and dicts
``{a: 1, b: x}`` (constants), and sweeps: ``a,b,c`` and ``choice(a, b)`` (a choice; list/dict options stay lists and
dicts), ``range(start, stop, step)`` (stop exclusive, as Hydra's basic sweeper; float steps enumerate the values
Hydra's ``FloatRange`` yields, exactly), ``interval(lo, hi)`` (a float range; ``int(interval(lo, hi))`` takes
``lo .. hi - 1``), ``tag(log, ...)`` (log scale), ``sort(...)`` (options sorted; ``reverse=true``), ``shuffle(...)``
(the same options), casts ``int/float/str/bool(...)``. ``glob(...)`` needs the options of a config group, which a
sweep file does not hold, and ``~key`` deletes: both raise FormatError naming the line.

Sweeper YAML: ``hydra.sweeper.params`` (Optuna: ``range`` stop and ``int(interval)`` upper bound *inclusive*, as the
Optuna sweeper samples them; the basic sweeper: exclusive), ``hydra.sweeper.parametrization`` (Nevergrad: override
strings, lists = choices, ``{lower, upper, log, integer}`` scalars; an unbounded ``{init, step}`` scalar raises
FormatError by name) and ``hydra.sweeper.ax_config.params`` (Ax: ``type: range | choice | fixed``).

Example::

    >>> s = loads("optimizer=choice(adam, sgd)\\nlr=tag(log, interval(1e-4, 1e-1))\\nlayers=range(1, 5)\\n")
    >>> s.tree["layers"].high, s.tree["lr"].scale
    (4, 'log')
"""
from __future__ import annotations

import decimal
import math
import re
from dataclasses import dataclass, field
from typing import Any

from symnas.dsl.importers.ir import MAX_CHOICES, FormatError, from_space, read_yaml
from symnas.errors import SymnasError
from symnas.symbolic.placeholders import FloatRange, IntRange, OneOf
from symnas.space.space import Space

__all__ = ["loads", "dumps", "parse_value"]

_INT = re.compile(r"[+-]?(?:0|[1-9](?:_?\d)*)\Z")
_FLOAT = re.compile(r"[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.|\d(?:_?\d)*(?=[eE]))(?:[eE][+-]?\d+)?\Z"
                    r"|[+-]?(?:inf|nan)\Z", re.I)
_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STOP = ",)]}"


@dataclass
class _Sweep:
    kind: str                      # choice | range | interval
    items: list = field(default_factory=list)
    start: Any = None
    stop: Any = None
    step: Any = 1
    tags: set = field(default_factory=set)
    cast: Any = None
    reverse: bool = False
    sort: bool = False


class _Parser:
    """A recursive-descent reader of one override value (Hydra's ``value`` rule)."""

    def __init__(self, text: str, where: str) -> None:
        self.s, self.i, self.where = text, 0, where

    def err(self, msg: str) -> FormatError:
        return FormatError(f"{self.where}: {msg} (at column {self.i + 1} of {self.s[:80]!r})")

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def peek(self) -> str:
        self.ws()
        return self.s[self.i] if self.i < len(self.s) else ""

    def value(self) -> Any:
        first = self.element(0)
        items = [first]
        while self.peek() == ",":
            self.i += 1
            items.append(self.element(0))
            if len(items) > MAX_CHOICES:
                raise self.err(f"more than {MAX_CHOICES} options")
        if self.peek():
            raise self.err(f"unexpected {self.peek()!r}")
        if len(items) == 1:
            return first
        if any(isinstance(x, _Sweep) for x in items):
            raise self.err("a sweep cannot be an option of a simple choice")
        return _Sweep("choice", items)

    def element(self, depth: int) -> Any:
        if depth > 50:
            raise self.err("nested deeper than 50 levels")
        c = self.peek()
        if c == "[":
            self.i += 1
            out = []
            if self.peek() != "]":
                while True:
                    out.append(self._const(self.element(depth + 1)))
                    if self.peek() != ",":
                        break
                    self.i += 1
            if self.peek() != "]":
                raise self.err("expected ']'")
            self.i += 1
            return out
        if c == "{":
            self.i += 1
            d: dict = {}
            if self.peek() != "}":
                while True:
                    key = self.primitive(stop=":,}")
                    if self.peek() != ":":
                        raise self.err("expected ':' in a dict")
                    self.i += 1
                    d[str(key)] = self._const(self.element(depth + 1))
                    if self.peek() != ",":
                        break
                    self.i += 1
            if self.peek() != "}":
                raise self.err("expected '}'")
            self.i += 1
            return d
        if c in "'\"":
            return self.quoted(c)
        m = _ID.match(self.s, self.i)
        if m:
            j = m.end()
            while j < len(self.s) and self.s[j] in " \t":
                j += 1
            if j < len(self.s) and self.s[j] == "(":
                self.i = j + 1
                return self.function(m.group(), depth)
        return self.primitive()

    def _const(self, v: Any) -> Any:
        if isinstance(v, _Sweep):
            raise self.err("a sweep cannot be nested in a list or dict")
        return v

    def quoted(self, q: str) -> str:
        self.i += 1
        out = []
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch == "\\" and self.i + 1 < len(self.s) and self.s[self.i + 1] in (q, "\\"):
                out.append(self.s[self.i + 1])
                self.i += 2
                continue
            if ch == q:
                self.i += 1
                return "".join(out)
            out.append(ch)
            self.i += 1
        raise self.err("unterminated quoted string")

    def primitive(self, stop: str = _STOP) -> Any:
        self.ws()
        j = self.i
        while j < len(self.s) and self.s[j] not in stop and self.s[j] not in "([{'\"":
            j += 1
        text = self.s[self.i:j].strip()
        if not text:
            raise self.err("expected a value")
        self.i = j
        return _scalar(text)

    def function(self, name: str, depth: int) -> Any:
        args: list = []
        kwargs: dict = {}
        if self.peek() != ")":
            while True:
                self.ws()
                m = _ID.match(self.s, self.i)
                j = m.end() if m else self.i
                while j < len(self.s) and self.s[j] in " \t":
                    j += 1
                if m and j < len(self.s) and self.s[j] == "=":
                    self.i = j + 1
                    kwargs[m.group()] = self.element(depth + 1)
                else:
                    if kwargs:
                        raise self.err(f"{name}(): a positional argument after a keyword argument")
                    args.append(self.element(depth + 1))
                if self.peek() != ",":
                    break
                self.i += 1
                if len(args) > MAX_CHOICES:
                    raise self.err(f"more than {MAX_CHOICES} arguments")
        if self.peek() != ")":
            raise self.err(f"expected ')' to close {name}(")
        self.i += 1
        return _call(name, args, kwargs, self)


def _scalar(text: str) -> Any:
    """Hydra's primitive: int, float, bool, null, else the text."""
    if _INT.match(text):
        digits = text.replace("_", "")
        if len(digits) > 4000:
            raise FormatError(f"integer literal with {len(digits)} digits")
        return int(digits)
    if _FLOAT.match(text):
        return float(text.replace("_", ""))
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    return text


def _num(v: Any, what: str, p: _Parser) -> Any:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise p.err(f"{what} must be a number, got {v!r}")
    return v


def _call(name: str, args: list, kwargs: dict, p: _Parser) -> Any:
    def one_sweep() -> Any:
        sweeps = [a for a in args if isinstance(a, _Sweep)] + ([kwargs["sweep"]] if "sweep" in kwargs else [])
        return sweeps[0] if len(sweeps) == 1 and len(args) <= 1 else None

    if name == "choice":
        if kwargs or any(isinstance(a, _Sweep) for a in args):
            raise p.err("choice() takes plain options (nesting choices is not supported by Hydra)")
        if not args:
            raise p.err("choice() needs at least one option")
        return _Sweep("choice", list(args))
    if name == "range":
        allowed = {"start", "stop", "step"}
        if set(kwargs) - allowed or len(args) > 3:
            raise p.err("range(start, stop, step) takes at most three numbers")
        names = ["start", "stop", "step"] if len(args) != 1 or "stop" in kwargs else ["stop"]
        vals = dict(zip(names, args), **kwargs)
        if "stop" not in vals:
            if "start" not in vals:
                raise p.err("range() needs a stop")
            vals["stop"], vals["start"] = vals.pop("start"), 0
        start, stop, step = (_num(vals.get(k, d), f"range {k}", p) for k, d in
                             (("start", 0), ("stop", None), ("step", 1)))
        if step == 0:
            raise p.err("range() step must not be 0")
        return _Sweep("range", start=start, stop=stop, step=step)
    if name == "interval":
        if set(kwargs) - {"start", "end"} or len(args) + len(kwargs) != 2:
            raise p.err("interval(start, end) takes two numbers")
        vals = dict(zip(["start", "end"], args), **kwargs)
        return _Sweep("interval", start=_num(vals["start"], "interval start", p),
                      stop=_num(vals["end"], "interval end", p))
    if name == "tag":
        sweep = kwargs.get("sweep", args[-1] if args and isinstance(args[-1], _Sweep) else None)
        if not isinstance(sweep, _Sweep):
            raise p.err("tag(...) needs a sweep as its last argument")
        sweep.tags |= {str(a) for a in (args if "sweep" in kwargs else args[:-1])}
        return sweep
    if name in ("sort", "shuffle"):
        sweep = one_sweep()
        if sweep is None:
            items = kwargs.get("list", args)
            if not isinstance(items, list) or any(isinstance(a, _Sweep) for a in items):
                raise p.err(f"{name}() takes plain options or one sweep")
            if name == "sort" and len(args) == 1 and isinstance(args[0], list):
                items = args[0]
            sweep = _Sweep("choice", list(items))
        if name == "sort":
            if sweep.kind == "interval":
                raise p.err("an interval cannot be sorted")
            sweep.sort, sweep.reverse = True, bool(kwargs.get("reverse", False))
        return sweep
    if name in ("int", "float", "str", "bool"):
        if len(args) != 1 or kwargs:
            raise p.err(f"{name}() takes one argument")
        x = args[0]
        if isinstance(x, _Sweep):
            x.cast = name
            return x
        return _cast(name, x, p)
    if name == "glob":
        raise p.err("glob() selects options of a config group, which a sweep file does not list; write the options "
                    "with choice(...)")
    raise p.err(f"sweep function {name!r} cannot be imported")


def _cast(name: str, x: Any, p: Any) -> Any:
    try:
        if name == "int":
            return int(x) if not isinstance(x, str) else int(float(x))
        if name == "float":
            return float(x)
        if name == "str":
            return x if isinstance(x, str) else ("true" if x is True else "false" if x is False else str(x))
        if isinstance(x, str):
            if x.lower() not in ("true", "false"):
                raise ValueError(f"cannot cast {x!r} to bool")
            return x.lower() == "true"
        return bool(x)
    except (ValueError, TypeError, OverflowError) as exc:
        raise p.err(f"{name}({x!r}): {exc}") from None


def parse_value(text: str, where: str = "<override>") -> Any:
    """The value of one override as Hydra's grammar reads it: a Python value or a sweep description.

    Example::

        >>> parse_value("[1, 2],[3]").items
        [[1, 2], [3]]
    """
    return _Parser(text, where).value()


def _float_range(start: Any, stop: Any, step: Any, where: str) -> list:
    """The values Hydra's ``FloatRange`` yields (decimal arithmetic, stop exclusive), bounded."""
    d0, d1, ds = (decimal.Decimal(x) for x in (start, stop, step))
    n = (d1 - d0) / ds
    if not n.is_finite() or n > MAX_CHOICES:
        raise FormatError(f"{where}: range({start}, {stop}, step={step}) has more than {MAX_CHOICES} values")
    out, v = [], d0
    while (v < d1) if ds > 0 else (v > d1):
        out.append(float(v))
        v += ds
    return out


def _placeholder(key: str, v: Any, where: str, inclusive: bool) -> Any:
    if not isinstance(v, _Sweep):
        return v
    log = "log" in v.tags
    if v.kind == "choice":
        items = [_cast(v.cast, x, _Parser("", where)) for x in v.items] if v.cast else list(v.items)
        if v.sort:
            try:
                items = sorted(items, reverse=v.reverse)
            except TypeError:
                raise FormatError(f"{where}: sort() of options that do not compare: {items!r}") from None
        return OneOf(items, key)
    if v.kind == "range":
        start, stop, step = v.start, v.stop, v.step
        ints = all(isinstance(x, int) for x in (start, stop, step)) and v.cast != "float"
        if inclusive:  # the Optuna sweeper: IntDistribution / FloatDistribution(low, high, step)
            if step <= 0 or start > stop:
                raise FormatError(f"{where}: range({start}, {stop}, {step}) is empty for the Optuna sweeper")
            if ints:
                return IntRange(start, start + (stop - start) // step * step, key, step=step, log=log)
            return FloatRange(float(start), float(stop), key, step=float(step), scale="log" if log else "linear")
        if ints and step > 0:
            if stop <= start:
                raise FormatError(f"{where}: range({start}, {stop}, {step}) is empty")
            return IntRange(start, start + (stop - 1 - start) // step * step, key, step=step)
        if ints:
            vals: list = list(range(start, stop, step))
            if len(vals) > MAX_CHOICES:
                raise FormatError(f"{where}: range({start}, {stop}, {step}) has more than {MAX_CHOICES} values")
        else:
            vals = _float_range(start, stop, step, where)
        if v.cast:
            vals = [_cast(v.cast, x, _Parser("", where)) for x in vals]
        if not vals:
            raise FormatError(f"{where}: range({start}, {stop}, {step}) is empty")
        if v.sort:
            vals = sorted(vals, reverse=v.reverse)
        return OneOf(vals, key, ordered=True)
    lo, hi = v.start, v.stop
    if v.cast == "int" or "int" in v.tags:
        lo_i, hi_i = math.ceil(lo), math.floor(hi) if inclusive else math.ceil(hi) - 1
        return IntRange(int(lo_i), int(hi_i), key, log=log)
    return FloatRange(float(lo), float(hi), key, scale="log" if log else "linear")


def _yaml_items(d: Any, where: str) -> tuple[list[tuple[str, Any, str]], bool]:
    """(key, value, place) of the sweeper YAML and whether ranges are inclusive (the Optuna sweeper)."""
    hydra = d.get("hydra") if isinstance(d, dict) else None
    sweeper = hydra.get("sweeper") if isinstance(hydra, dict) else None
    if not isinstance(sweeper, dict):
        raise FormatError(f"{where}: no hydra.sweeper mapping")
    text = repr(d.get("defaults", "")) + str(sweeper.get("_target_", ""))
    optuna = "optuna" in text.lower() or "sampler" in sweeper
    for key in ("params", "parametrization"):
        params = sweeper.get(key)
        if isinstance(params, dict):
            return [(str(k), v, f"{where}: hydra.sweeper.{key}.{k}") for k, v in params.items()], optuna
    ax = sweeper.get("ax_config")
    if isinstance(ax, dict) and isinstance(ax.get("params"), dict):
        return [(str(k), ("ax", v), f"{where}: hydra.sweeper.ax_config.params.{k}")
                for k, v in ax["params"].items()], True
    raise FormatError(f"{where}: no hydra.sweeper.params, parametrization or ax_config.params mapping")


def _structured(key: str, v: Any, w: str, inclusive: bool) -> Any:
    """A YAML (not override-string) value of the Nevergrad or Ax sweeper, or a plain constant."""
    if isinstance(v, tuple) and v and v[0] == "ax":
        spec = v[1]
        if not isinstance(spec, dict):
            raise FormatError(f"{w}: expected a mapping with 'type'")
        t = spec.get("type")
        if t == "fixed":
            return spec.get("value")
        if t == "choice":
            vals = spec.get("values")
            if not isinstance(vals, list) or not vals:
                raise FormatError(f"{w}: a choice needs a non-empty 'values' list")
            return OneOf(vals, key, ordered=bool(spec.get("is_ordered", False)))
        if t == "range":
            b = spec.get("bounds")
            if not isinstance(b, list) or len(b) != 2 or any(isinstance(x, bool) or not isinstance(x, (int, float))
                                                             for x in b):
                raise FormatError(f"{w}: a range needs 'bounds: [low, high]'")
            log = bool(spec.get("log_scale", False))
            as_int = spec.get("value_type") == "int" or spec.get("value_type") is None and all(
                isinstance(x, int) for x in b)
            if as_int:
                return IntRange(int(b[0]), int(b[1]), key, log=log)
            return FloatRange(float(b[0]), float(b[1]), key, scale="log" if log else "linear")
        raise FormatError(f"{w}: Ax parameter type {t!r} cannot be imported")
    if isinstance(v, list):
        if not v:
            raise FormatError(f"{w}: an empty list of options")
        return OneOf(v, key)
    if isinstance(v, dict):
        if "lower" in v and "upper" in v:
            lo, hi = v["lower"], v["upper"]
            if any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in (lo, hi)):
                raise FormatError(f"{w}: lower/upper must be numbers")
            log = bool(v.get("log", False))
            if v.get("integer"):
                return IntRange(math.ceil(lo), math.floor(hi), key, log=log)
            return FloatRange(float(lo), float(hi), key, scale="log" if log else "linear")
        if "init" in v:
            raise FormatError(f"{w}: a Nevergrad scalar with init/step and no lower/upper is unbounded; symnas "
                              "samples bounded spaces only (add lower and upper)")
        raise FormatError(f"{w}: cannot import the mapping {sorted(map(str, v))}")
    if isinstance(v, str):
        return _placeholder(key, parse_value(v, w), w, inclusive)
    return v


def loads(text: str, where: str = "overrides.txt") -> Space:
    """Reads Hydra sweep overrides (one per line) or a sweeper YAML file (see the module docstring)."""
    tree: dict[str, Any] = {}
    if re.search(r"^\s*hydra\s*:", text, re.M):
        d = read_yaml(text, where)
        if not isinstance(d, dict):
            raise FormatError(f"{where}: expected a YAML mapping with hydra.sweeper")
        items, inclusive = _yaml_items(d, where)
        for k, v, w in items:
            tree[k] = _structured(k, v, w, inclusive)
    else:
        for ln, line in enumerate(text.splitlines(), 1):
            line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
            if not line:
                continue
            w = f"{where}:{ln}:1"
            if line.startswith("~") or "=" not in line:
                raise FormatError(f"{w}: cannot import override {line!r} (need key=value; deletions unsupported)")
            k, v = line.split("=", 1)
            key = k.strip().lstrip("+")
            if not key:
                raise FormatError(f"{w}: an override needs a key")
            tree[key] = _placeholder(key, parse_value(v, w), w, False)
    try:
        return Space(tree, "hydra", meta={"format": "hydra", "constraints": [], "conditions": [], "unsupported": []})
    except FormatError:
        raise
    except SymnasError as exc:
        raise FormatError(f"{where}: {exc}") from None


def _lit(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, list):
        return "[" + ", ".join(_lit(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_lit(str(k))}: {_lit(x)}" for k, x in v.items()) + "}"
    if isinstance(v, str):
        if re.fullmatch(r"[A-Za-z_][\w.\-/]*", v) and _scalar(v) == v and not re.fullmatch(r"(?i)inf|nan", v):
            return v
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return repr(v)


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
