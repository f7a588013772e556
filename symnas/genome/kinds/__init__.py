"""Decision kinds as classes: each kind owns its behaviour (see :mod:`symnas.genome.kinds.base`).

Built in: ``choice``, ``ordinal``, ``subset``, ``perm`` (:mod:`~symnas.genome.kinds.categorical`), ``int`` and
``float`` (:mod:`~symnas.genome.kinds.numeric`).

Example::

    from symnas.genome.kinds import KINDS, kind_named
    sorted(KINDS)                        # ['choice', 'float', 'int', 'ordinal', 'perm', 'subset']
    d = space.table["depth"]
    d.ops is kind_named(d.kind)          # a decision carries its kind
    d.ops.neighbours(d, (1,))            # [(0,), (2,)] for an ordinal of three or more values
"""
from symnas.genome.kinds.base import KINDS, OPS, IndexSlots, Kind, kind_named, kind_of, register
from symnas.genome.kinds.categorical import ChoiceKind, OrdinalKind, PermutationKind, SubsetKind, label_of
from symnas.genome.kinds.numeric import FloatKind, IntKind, NumericKind

__all__ = ["KINDS", "OPS", "IndexSlots", "Kind", "register", "kind_named", "kind_of",
           "ChoiceKind", "OrdinalKind", "SubsetKind", "PermutationKind", "NumericKind", "IntKind", "FloatKind",
           "label_of"]
