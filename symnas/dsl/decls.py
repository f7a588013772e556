"""The decision constructors of the language: ``choice``, ``ordinal``, ``bool``, ``int``, ``float``, ``subset``,
``permutation`` and ``repeat``, compiled to the placeholder classes of :mod:`symnas.symbolic.placeholders`.

Defaults and the labels of named alternatives live in the placeholder's ``hints``: ``{"default": v}``,
``{"labels": [...]}``; ``bool()`` gives ``hints="bool"`` like :func:`symnas.boolv`, ``bool(default=v)`` gives
``{"type": "bool", "default": v}``; ``hints=<literal>`` sets them verbatim.

Example (DSL)::

    lr = float(1e-4, 1e-1, log=True, default=1e-3)
    sched = choice(constant={}, cosine={"warmup": int(0, 10)})
    blocks = repeat(Block(c=16), count=choice(2, 3, 4))
"""
from __future__ import annotations


from typing import Any, Optional

from symnas.dsl import limits
from symnas.errors import SymnasError
from symnas.symbolic.placeholders import FloatRange, IntRange, ManyOf, OneOf, Permutation, Placeholder

__all__ = ["CONSTRUCTORS", "construct", "hints_for"]

CONSTRUCTORS = ("choice", "ordinal", "bool", "int", "float", "subset", "permutation")
_ALLOWED = {
    "choice": {"default", "name", "hints"}, "ordinal": {"default", "name", "hints"},
    "bool": {"default", "name", "hints"}, "int": {"step", "log", "default", "name", "hints"},
    "float": {"step", "log", "default", "name", "hints"},
    "subset": {"distinct", "sorted", "default", "name", "hints"}, "permutation": {"default", "name", "hints"},
    "repeat": {"count"},
}
_MAX_REPEAT = 64
_MAX_INT_BOUND = 2**63


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 30 else r[:27] + "..."


def hints_for(default: Any = None, has_default: bool = False, labels: Optional[list] = None) -> Any:
    """The hints a constructor call stores for its ``default=`` and named alternatives."""
    h: dict[str, Any] = {}
    if has_default:
        h["default"] = default
    if labels:
        h["labels"] = list(labels)
    return h or None


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def construct(m: Any, t: Any, fname: str, pos: list, kw: dict, decision_name: Optional[str]) -> Any:
    """Builds the placeholder for one constructor call ``t`` (``m`` is the compiling module, for errors)."""
    m.ev.budget.spend(limits.DECISION_STEPS)  # a decision costs more than an operation
    named_alts = {}
    if fname in ("choice", "ordinal"):
        named_alts = {k: v for k, v in kw.items() if k not in _ALLOWED[fname]}
        kw = {k: v for k, v in kw.items() if k in _ALLOWED[fname]}
    bad = [k for k in kw if k not in _ALLOWED[fname]]
    if bad:
        raise m.err(t, f"{fname}: unknown argument {bad[0]!r}",
                    f"{fname} takes {', '.join(sorted(_ALLOWED[fname])) or 'no keyword arguments'}")
    if fname == "repeat":
        return _repeat(m, t, pos, kw)
    if fname == "float" and len(pos) == 1 and not kw and pos[0] in ("inf", "-inf", "nan"):
        return float(pos[0])  # the non-finite constants, as printed by the printer
    name = kw.pop("name", None)
    if name is not None and not (isinstance(name, str) and name):
        raise m.err(t, f"{fname}: name must be a non-empty string")
    if decision_name is not None:
        if name is not None:
            raise m.err(t, f"{fname}: name= is not allowed here; the decision is named {decision_name!r} by its "
                           "binding")
        name = decision_name
    has_default = "default" in kw
    default = kw.pop("default", None)
    raw_hints = kw.pop("hints", None) if "hints" in kw else _MISSING
    if raw_hints is not _MISSING and has_default:
        raise m.err(t, f"{fname}: give either default= or hints=, not both")
    for k, v in list(kw.items()) + [("bound", x) for x in pos if fname in ("int", "float")]:
        if m.symbolic(v):
            raise m.err(t, f"{fname}: {k} must be known when the file is loaded, not a decision")
    labels = None
    try:
        if fname in ("choice", "ordinal"):
            if named_alts and pos:
                raise m.err(t, f"{fname}: give the alternatives either all by position or all by name")
            cands = list(named_alts.values()) if named_alts else pos
            labels = list(named_alts) if named_alts else None
            if not cands:
                raise m.err(t, f"{fname}: empty choice", f"write {fname}(a, b, ...) with at least one alternative")
            if has_default and not any(_same(default, c) for c in cands):
                if labels and isinstance(default, str) and default in labels:
                    pass
                else:
                    raise m.err(t, f"{fname}: default {default!r} is not one of the alternatives")
            hints = hints_for(default, has_default, labels)
            ph: Placeholder = OneOf(cands, name, ordered=fname == "ordinal", hints=hints)
        elif fname == "bool":
            if pos:
                raise m.err(t, "bool takes no positional arguments", "write bool() or bool(default=True)")
            if has_default and not isinstance(default, bool):
                raise m.err(t, f"bool: type mismatch: default must be True or False, got {default!r}")
            hints = {"type": "bool", "default": default} if has_default else "bool"
            ph = OneOf((False, True), name, hints=hints)
        elif fname in ("int", "float"):
            if len(pos) != 2:
                raise m.err(t, f"{fname} takes two bounds: {fname}(low, high)")
            lo, hi = pos
            log = kw.get("log", False)
            if not isinstance(log, bool):
                raise m.err(t, f"{fname}: log must be True or False")
            if fname == "int":
                step = kw.get("step", 1)
                if not (_is_int(lo) and _is_int(hi) and _is_int(step)):
                    raise m.err(t, f"int: type mismatch: bounds and step must be integers, got "
                                   f"{lo!r}, {hi!r}, step {step!r}", "use float(low, high) for real numbers")
                if max(abs(lo), abs(hi), abs(step)) > _MAX_INT_BOUND:
                    raise m.err(t, f"int: bounds and step must lie within +-2**63, got {_short(lo)}, {_short(hi)}, "
                                   f"step {_short(step)}", "use float(low, high, log=True) for huge ranges")
                ph = IntRange(lo, hi, name, step=step, log=log, hints=hints_for(default, has_default))
                if has_default and not (_is_int(default) and ph.low <= default <= ph.high
                                        and (default - ph.low) % ph.step == 0):
                    raise m.err(t, f"int: default {default!r} is not a value of [{ph.low}, {ph.high}] step {ph.step}")
            else:
                step = kw.get("step")
                if not (_num(lo) and _num(hi)) or step is not None and not _num(step):
                    raise m.err(t, f"float: type mismatch: bounds and step must be numbers, got {lo!r}, {hi!r}")
                ph = FloatRange(lo, hi, name, scale="log" if log else "linear", step=step,
                                hints=hints_for(default, has_default))
                if has_default and not (_num(default) and ph.low <= default <= ph.high):
                    raise m.err(t, f"float: default {default!r} is outside [{ph.low:g}, {ph.high:g}]")
        elif fname == "subset":
            if len(pos) < 2 or not _is_int(pos[0]):
                raise m.err(t, "subset takes a count and the alternatives: subset(k, a, b, ...)")
            for k in ("distinct", "sorted"):
                if not isinstance(kw.get(k, False), bool):
                    raise m.err(t, f"subset: {k} must be True or False")
            ph = ManyOf(pos[0], pos[1:], name, distinct=kw.get("distinct", True), sorted=kw.get("sorted", False),
                        hints=hints_for(default, has_default))
            if has_default and not (isinstance(default, list) and len(default) == ph.k and
                                    all(any(_same(d, c) for c in ph.candidates) for d in default)):
                raise m.err(t, f"subset: default must be a list of {ph.k} of the alternatives")
        else:  # permutation
            if not pos:
                raise m.err(t, "permutation: empty item list", "write permutation(a, b, ...)")
            ph = Permutation(pos, name, hints=hints_for(default, has_default))
            if has_default and not (isinstance(default, list) and sorted(map(repr, default)) ==
                                    sorted(map(repr, pos))):
                raise m.err(t, "permutation: default must be an ordering of the items")
    except SymnasError as e:
        if type(e).__name__ == "DSLError":
            raise
        raise m.err(t, str(e), _hint_for(fname)) from None
    if raw_hints is not _MISSING:
        from symnas.symbolic.jsonio import encode

        try:
            encode(raw_hints)
        except SymnasError:
            raise m.err(t, f"{fname}: hints must be plain values") from None
        ph.hints = raw_hints
    return m.remember(t, ph)


_MISSING = object()


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _hint_for(fname: str) -> str:
    return {"int": "write int(low, high) with low <= high (both inclusive)",
            "float": "write float(low, high) with low <= high; log=True needs low > 0",
            "subset": "subset(k, a, b, ...) picks k of the alternatives"}.get(fname, "")


def _repeat(m: Any, t: Any, pos: list, kw: dict) -> Any:
    if len(pos) == 2 and "count" not in kw:
        body, count = pos
    elif len(pos) == 1 and "count" in kw:
        body, count = pos[0], kw["count"]
    else:
        raise m.err(t, "repeat takes a body and a count: repeat(block, count)")
    if _is_int(count):
        if not 0 <= count <= 10_000:
            raise m.err(t, f"repeat: count {count} out of range [0, 10000]")
        m.ev.budget.spend(count)
        return [body] * count
    if isinstance(count, IntRange):
        counts = list(range(count.low, count.high + 1, count.step))
    elif isinstance(count, OneOf) and all(_is_int(c) for c in count.candidates):
        counts = list(count.candidates)
    else:
        raise m.err(t, "repeat: count must be an int, an int(...) decision or a choice of ints")
    if len(counts) > _MAX_REPEAT or any(c < 0 or c > 1000 for c in counts):
        raise m.err(t, f"repeat: at most {_MAX_REPEAT} counts between 0 and 1000")
    m.ev.budget.spend(sum(counts))
    ph = OneOf([[body] * n for n in counts], count.name, ordered=True)
    return _remember_repeat(m, t, ph, count)


def _remember_repeat(m: Any, t: Any, ph: Placeholder, count: Placeholder) -> Placeholder:
    if ph.name is not None:
        hit = m.named.get(ph.name)
        if hit is not None and hit[0] == count:
            m.named[ph.name] = (ph, hit[1])  # the count decision becomes the repeat choice
        else:
            return m.remember(t, ph)
    return ph



