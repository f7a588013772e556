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
from symnas.symbolic.placeholders import FloatRange, IntRange, ManyOf, OneOf, Permutation
from symnas.space.space import Space
from symnas.symbolic.spec import Spec

__all__ = ["from_pyglove", "to_pyglove", "genome_to_dna", "dna_to_genome"]


def _pg() -> Any:
    import pyglove as pg

    return pg


def from_pyglove(value: Any) -> Any:
    """A symnas space tree from a PyGlove hyper value tree."""
    pg = _pg()
    if isinstance(value, pg.hyper.ManyOf) and not isinstance(value, pg.hyper.OneOf):
        cands = [from_pyglove(c) for c in value.candidates]
        if value.num_choices == len(cands) and value.choices_distinct and not value.choices_sorted and \
                isinstance(value.hints, dict) and value.hints.get("permutation"):
            return Permutation(cands, value.name)
        return ManyOf(value.num_choices, cands, value.name, distinct=value.choices_distinct,
                      sorted=value.choices_sorted)
    if isinstance(value, pg.hyper.OneOf):
        return OneOf([from_pyglove(c) for c in value.candidates], value.name)
    if isinstance(value, pg.hyper.Float):
        return FloatRange(value.min_value, value.max_value, value.name, scale=value.scale or "linear")
    if isinstance(value, pg.hyper.HyperPrimitive):
        raise SpaceError(f"PyGlove hyper primitive {type(value).__name__} has no symnas counterpart")
    if isinstance(value, pg.Object) and not isinstance(value, (pg.Dict, pg.List)):
        kwargs = {k: from_pyglove(v) for k, v in value.sym_init_args.items()}
        return Spec(type(value), (), kwargs)
    if isinstance(value, (dict, pg.Dict)):
        return {str(k): from_pyglove(v) for k, v in value.items()}
    if isinstance(value, (list, pg.List)):
        return [from_pyglove(v) for v in value]
    if isinstance(value, tuple):
        return tuple(from_pyglove(v) for v in value)
    return value


def to_pyglove(tree: Any) -> Any:
    """A PyGlove hyper value tree (``pg.Dict``/``pg.List`` with hyper primitives) from a symnas space tree.

    Specs become ``pg.Dict(_call=<import path>, **kwargs)``; int ranges become ``pg.oneof`` over their values.
    """
    pg = _pg()
    if isinstance(tree, OneOf):
        return pg.oneof([to_pyglove(c) for c in tree.candidates], name=tree.name)
    if isinstance(tree, ManyOf):
        return pg.manyof(tree.k, [to_pyglove(c) for c in tree.candidates], distinct=tree.distinct,
                         sorted=tree.sorted, name=tree.name)
    if isinstance(tree, Permutation):
        return pg.permutate([to_pyglove(c) for c in tree.items], name=tree.name)
    if isinstance(tree, FloatRange):
        return pg.floatv(tree.low, tree.high, scale=None if tree.scale == "linear" else tree.scale, name=tree.name)
    if isinstance(tree, IntRange):
        return pg.oneof(list(range(tree.low, tree.high + 1, tree.step)), name=tree.name)
    if isinstance(tree, Spec):
        return pg.Dict(_call=tree.path, **{k: to_pyglove(v) for k, v in tree.kwargs.items()},
                       **({"_args": pg.List([to_pyglove(a) for a in tree.args])} if tree.args else {}))
    if isinstance(tree, dict):
        return pg.Dict({k: to_pyglove(v) for k, v in tree.items()})
    if isinstance(tree, (list, tuple)):
        return pg.List([to_pyglove(v) for v in tree])
    return tree


def _flat_dna(space: Space, genome: Genome) -> list[Any]:
    """Depth-first values in PyGlove's DNA order (a choice's value followed by its chosen candidate's DNA)."""
    table = space.table
    active = table.active(genome)
    out: list[Any] = []
    for d in table.decisions:
        if not active[d.index]:
            continue
        genes = genome[d.offset:d.offset + d.width]
        if d.kind == "int":
            out.append((genes[0] - int(d.low)) // int(d.step or 1))
        else:
            out.extend(genes)
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
    genome = list(table.default_genome)
    it = iter(numbers)
    active = [True] * len(table.decisions)
    for d in table.decisions:
        if d.conditions and not table._holds(tuple(genome), active, d):
            active[d.index] = False
            continue
        vals = [next(it) for _ in range(d.width)]
        if d.kind == "int":
            vals = [int(d.low) + int(vals[0]) * int(d.step or 1)]
        genome[d.offset:d.offset + d.width] = vals
    return table.validate(genome)
