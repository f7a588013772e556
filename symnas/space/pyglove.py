"""PyGlove interop: symnas placeholders are PyGlove's hyper primitives in a lighter form.

:func:`from_pyglove` turns a PyGlove hyper value tree (``pg.oneof``, ``pg.manyof``, ``pg.floatv``,
``pg.permutate``, inside ``pg.Dict``/``pg.List`` or plain containers) into a symnas space tree, so spaces written
with PyGlove run on symnas's compiled genome; :func:`to_pyglove` goes back. :func:`genome_to_dna` /
:func:`dna_to_genome` translate between a symnas genome and the ``pg.DNA`` of the equivalent PyGlove space (the
decision order is the same depth-first order), so PyGlove's algorithms and symnas's can be compared on one space.

Example::

    import pyglove as pg
    space = sn.Space(from_pyglove(pg.Dict(x=pg.oneof([1, 2]), lr=pg.floatv(1e-3, 1e-1, scale="log"))))
    dna = genome_to_dna(space, space.sample(seed=0))
"""
from __future__ import annotations

from typing import Any

from symnas.errors import SpaceError
from symnas.genome.table import Genome
from symnas.symbolic.placeholders import FloatRange, IntRange, ManyOf, OneOf, Ordinal, Permutation
from symnas.space.space import Space
from symnas.symbolic.spec import Spec

__all__ = ["from_pyglove", "to_pyglove", "genome_to_dna", "dna_to_genome"]


def _pg() -> Any:
    import pyglove as pg

    return pg


_TAG = "symnas"  # key in a PyGlove primitive's hints holding what PyGlove itself has no field for


def _extras(hints: Any) -> dict:
    return dict(hints[_TAG]) if isinstance(hints, dict) and isinstance(hints.get(_TAG), dict) else {}


def _user_hints(hints: Any) -> Any:
    if isinstance(hints, dict) and _TAG in hints:
        return _extras(hints).get("hints")
    return hints


def from_pyglove(value: Any) -> Any:
    """A symnas space tree from a PyGlove hyper value tree (the inverse of :func:`to_pyglove`).

    ``pg.Dict(_call=path, ...)`` becomes a :class:`Spec` of ``path``; what :func:`to_pyglove` kept in a
    primitive's ``hints`` (integer ranges, float steps, ordered choices, permutations, symnas hints) is restored.
    """
    pg = _pg()
    if isinstance(value, pg.hyper.HyperPrimitive):
        extra, hints = _extras(value.hints), _user_hints(value.hints)
    if isinstance(value, pg.hyper.ManyOf) and not isinstance(value, pg.hyper.OneOf):
        cands = [from_pyglove(c) for c in value.candidates]
        if extra.get("kind") == "perm" or (isinstance(value.hints, dict) and value.hints.get("permutation")):
            return Permutation(cands, value.name, hints=hints)
        return ManyOf(value.num_choices, cands, value.name, distinct=value.choices_distinct,
                      sorted=value.choices_sorted, hints=hints)
    if isinstance(value, pg.hyper.OneOf):
        if extra.get("kind") == "int":
            low, high, step, log = extra["range"]
            return IntRange(low, high, value.name, step=step, log=log, hints=hints)
        if extra.get("kind") == "ordinal":
            return Ordinal([from_pyglove(c) for c in value.candidates], value.name, hints=hints)
        return OneOf([from_pyglove(c) for c in value.candidates], value.name, ordered=bool(extra.get("ordered")),
                     hints=hints)
    if isinstance(value, pg.hyper.Float):
        return FloatRange(value.min_value, value.max_value, value.name, scale=value.scale or "linear",
                          step=extra.get("step"), hints=hints)
    if isinstance(value, pg.hyper.HyperPrimitive):
        raise SpaceError(f"PyGlove hyper primitive {type(value).__name__} has no symnas counterpart")
    if isinstance(value, pg.Object) and not isinstance(value, (pg.Dict, pg.List)):
        kwargs = {k: from_pyglove(v) for k, v in value.sym_init_args.items()}
        return Spec(type(value), (), kwargs)
    if isinstance(value, (dict, pg.Dict)):
        if "_call" in value:
            args = tuple(from_pyglove(a) for a in value.get("_args", ()))
            return Spec(value["_call"], args,
                        {str(k): from_pyglove(v) for k, v in value.items() if k not in ("_call", "_args")})
        if set(value) == {"_tuple"}:
            return tuple(from_pyglove(v) for v in value["_tuple"])
        return {str(k): from_pyglove(v) for k, v in value.items()}
    if isinstance(value, (list, pg.List)):
        return [from_pyglove(v) for v in value]
    if isinstance(value, tuple):
        return tuple(from_pyglove(v) for v in value)
    return value


def _hints(ph: Any, **extra: Any) -> Any:
    extra = {k: v for k, v in extra.items() if v not in (None, False)}
    if ph.hints is not None:
        extra["hints"] = ph.hints
    return {_TAG: extra} if extra else None


def to_pyglove(tree: Any) -> Any:
    """A PyGlove hyper value tree (``pg.Dict``/``pg.List`` with hyper primitives) from a symnas space or tree.

    Specs become ``pg.Dict(_call=<import path>, **kwargs)``, tuples ``pg.Dict(_tuple=[...])``; int ranges become
    ``pg.oneof`` over their values. What PyGlove has no field for (the int range, a float step, an ordered choice,
    a permutation, symnas hints) is kept in the primitive's ``hints``, so ``from_pyglove(to_pyglove(t)) == t``.

    Raises :class:`SpaceError` for what PyGlove cannot express: tied decisions (one ``name`` used twice) and
    conditions inferred by :func:`symnas.trace` (pass the space to get that check).
    """
    if isinstance(tree, Space):
        if tree._extra_conditions:
            first = next(iter(tree._extra_conditions))
            raise SpaceError(f"to_pyglove: space {tree.name!r} has conditions inferred by tracing (e.g. on "
                             f"{first!r}); PyGlove cannot express conditions outside its choices' candidates")
        tree = tree.tree
    return _to_pg(tree, {})


def _to_pg(tree: Any, names: dict[str, Any]) -> Any:
    pg = _pg()
    if isinstance(tree, (OneOf, ManyOf, Permutation, FloatRange, IntRange)) and tree.name is not None:
        if tree.name in names:
            raise SpaceError(f"to_pyglove: decision name {tree.name!r} is used twice (tied decisions); PyGlove "
                             "requires distinct names, so a space with ties cannot be expressed in PyGlove")
        names[tree.name] = tree
    if isinstance(tree, Ordinal):
        return pg.oneof([_to_pg(c, names) for c in tree.candidates], name=tree.name, hints=_hints(tree, kind="ordinal"))
    if isinstance(tree, OneOf):
        return pg.oneof([_to_pg(c, names) for c in tree.candidates], name=tree.name,
                        hints=_hints(tree, ordered=tree.ordered))
    if isinstance(tree, ManyOf):
        return pg.manyof(tree.k, [_to_pg(c, names) for c in tree.candidates], distinct=tree.distinct,
                         sorted=tree.sorted, name=tree.name, hints=_hints(tree))
    if isinstance(tree, Permutation):
        return pg.permutate([_to_pg(c, names) for c in tree.items], name=tree.name,
                            hints=_hints(tree, kind="perm"))
    if isinstance(tree, FloatRange):
        return pg.floatv(tree.low, tree.high, scale=None if tree.scale == "linear" else tree.scale, name=tree.name,
                         hints=_hints(tree, step=tree.step))
    if isinstance(tree, IntRange):
        return pg.oneof(list(range(tree.low, tree.high + 1, tree.step)), name=tree.name,
                        hints=_hints(tree, kind="int", range=[tree.low, tree.high, tree.step, tree.log]))
    if isinstance(tree, Spec):
        return pg.Dict(_call=tree.path, **{k: _to_pg(v, names) for k, v in tree.kwargs.items()},
                       **({"_args": pg.List([_to_pg(a, names) for a in tree.args])} if tree.args else {}))
    if isinstance(tree, dict):
        return pg.Dict({k: _to_pg(v, names) for k, v in tree.items()})
    if isinstance(tree, tuple):
        return pg.Dict(_tuple=pg.List([_to_pg(v, names) for v in tree]))
    if isinstance(tree, list):
        return pg.List([_to_pg(v, names) for v in tree])
    return tree


def _flat_dna(space: Space, genome: Genome) -> list[Any]:
    """Depth-first values in PyGlove's DNA order (a choice's value followed by its chosen candidate's DNA)."""
    table = space.table
    active = table.active(genome)
    out: list[Any] = []
    for d in table.decisions:
        if not active[d.index]:
            continue
        out.extend(d.ops.to_dna(d, genome[d.offset:d.offset + d.width]))
    return out


def genome_to_dna(space: Space, genome: Genome) -> Any:
    """The ``pg.DNA`` that selects the same candidate in ``pg.dna_spec(to_pyglove(space.tree))``."""
    pg = _pg()
    spec = pg.dna_spec(to_pyglove(space.tree))
    dna = pg.DNA.from_numbers(_flat_dna(space, genome), spec)
    return dna


def dna_to_genome(space: Space, dna: Any) -> Genome:
    """The symnas genome of a ``pg.DNA`` over the equivalent PyGlove space."""
    pg = _pg()
    spec = pg.dna_spec(to_pyglove(space.tree))
    dna.use_spec(spec)
    numbers = dna.to_numbers()
    table = space.table
    it = iter(numbers)
    return table.validate(table.fill(lambda d: d.ops.from_dna(d, [next(it) for _ in range(d.width)])))
