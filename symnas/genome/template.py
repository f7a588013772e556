"""Template nodes: the compiled form of a space tree, used to decode genomes and encode descriptions fast.

Compiling a space produces one node per place in the tree. ``decode(genome)`` walks the nodes and returns a plain
description tree (specs, lists, dicts, values) with no placeholders; ``match(value, genes)`` does the reverse for a
hand-built description. Subtrees without decisions decode to one shared, precomputed value.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from symnas.genome.table import Decision
from symnas.symbolic.spec import Spec

__all__ = ["Node", "Const", "ListNode", "DictNode", "SpecNode", "ChoiceNode", "SubsetNode", "ValueNode",
           "PermNode"]


class Node:
    __slots__ = ("path",)
    has_decisions = True

    def decode(self, g: Sequence[Any]) -> Any:
        raise NotImplementedError

    def match(self, value: Any, genes: dict[int, Any]) -> bool:
        """Writes genes (slot -> value) that make ``decode`` return ``value``; False if it cannot."""
        raise NotImplementedError

    def size(self, seen: set[int]) -> float:
        raise NotImplementedError


class Const(Node):
    __slots__ = ("value",)
    has_decisions = False

    def __init__(self, value: Any, path: str = "") -> None:
        self.value, self.path = value, path

    def decode(self, g: Sequence[Any]) -> Any:
        return self.value

    def match(self, value: Any, genes: dict[int, Any]) -> bool:
        if value is self.value:
            return True
        try:
            if not bool(value == self.value):
                return False
        except Exception:  # e.g. tensors compared elementwise
            return False
        if isinstance(value, (bool, int, float)) or isinstance(self.value, (bool, int, float)):
            return type(value) is type(self.value)  # 1, 1.0 and True are different values here
        return True

    def size(self, seen: set[int]) -> float:
        return 1


def _try(node: Node, value: Any, genes: dict[int, Any]) -> bool:
    trial = dict(genes)
    if node.match(value, trial):
        genes.update(trial)
        return True
    return False


class ListNode(Node):
    __slots__ = ("items", "tuple")

    def __init__(self, items: list[Node], is_tuple: bool, path: str) -> None:
        self.items, self.tuple, self.path = items, is_tuple, path

    def decode(self, g: Sequence[Any]) -> Any:
        out = [n.decode(g) for n in self.items]
        return tuple(out) if self.tuple else out

    def match(self, value: Any, genes: dict[int, Any]) -> bool:
        if not isinstance(value, (list, tuple)) or len(value) != len(self.items):
            return False
        return all(n.match(v, genes) for n, v in zip(self.items, value))

    def size(self, seen: set[int]) -> float:
        return math.prod(n.size(seen) for n in self.items)


class DictNode(Node):
    __slots__ = ("keys", "items")

    def __init__(self, keys: list[str], items: list[Node], path: str) -> None:
        self.keys, self.items, self.path = keys, items, path

    def decode(self, g: Sequence[Any]) -> Any:
        return {k: n.decode(g) for k, n in zip(self.keys, self.items)}

    def match(self, value: Any, genes: dict[int, Any]) -> bool:
        if not isinstance(value, dict) or set(value) != set(self.keys):
            return False
        return all(n.match(value[k], genes) for k, n in zip(self.keys, self.items))

    def size(self, seen: set[int]) -> float:
        return math.prod(n.size(seen) for n in self.items)


class SpecNode(Node):
    __slots__ = ("target", "args", "keys", "kwargs")

    def __init__(self, target: Any, args: list[Node], keys: list[str], kwargs: list[Node], path: str) -> None:
        self.target, self.args, self.keys, self.kwargs, self.path = target, args, keys, kwargs, path

    def decode(self, g: Sequence[Any]) -> Any:
        return Spec(self.target, tuple(n.decode(g) for n in self.args),
                    {k: n.decode(g) for k, n in zip(self.keys, self.kwargs)})

    def match(self, value: Any, genes: dict[int, Any]) -> bool:
        if not isinstance(value, Spec) or value.path != Spec(self.target).path:
            return False
        if len(value.args) != len(self.args) or set(value.kwargs) != set(self.keys):
            return False
        return (all(n.match(v, genes) for n, v in zip(self.args, value.args))
                and all(n.match(value.kwargs[k], genes) for k, n in zip(self.keys, self.kwargs)))

    def size(self, seen: set[int]) -> float:
        return math.prod(n.size(seen) for n in self.args) * math.prod(n.size(seen) for n in self.kwargs)


class ChoiceNode(Node):
    __slots__ = ("decision", "cands", "offset")

    def __init__(self, decision: Decision, cands: list[Node], path: str) -> None:
        self.decision, self.cands, self.offset, self.path = decision, cands, decision.offset, path

    def decode(self, g: Sequence[Any]) -> Any:
        return self.cands[g[self.offset]].decode(g)

    def match(self, value: Any, genes: dict[int, Any]) -> bool:
        fixed = genes.get(self.offset)
        order = [fixed] if fixed is not None else range(len(self.cands))
        for i in order:
            trial = dict(genes)
            trial[self.offset] = i
            if self.cands[i].match(value, trial):
                genes.update(trial)
                return True
        return False

    def size(self, seen: set[int]) -> float:
        if self.decision.index in seen:
            return 1
        seen.add(self.decision.index)
        if not any(c.has_decisions for c in self.cands):
            return len(self.cands)  # plain values: no branch to copy the seen set for (keeps this linear)
        total, after = 0, set(seen)
        for c in self.cands:  # alternatives: a decision tied across them counts in each one taken
            branch = set(seen)
            total += c.size(branch)
            after |= branch
        seen |= after
        return total


class SubsetNode(Node):
    __slots__ = ("decision", "cands", "offset")

    def __init__(self, decision: Decision, cands: list[Node], path: str) -> None:
        self.decision, self.cands, self.offset, self.path = decision, cands, decision.offset, path

    def decode(self, g: Sequence[Any]) -> Any:
        o = self.offset
        return [self.cands[g[o + i]].decode(g) for i in range(self.decision.k)]

    def match(self, value: Any, genes: dict[int, Any]) -> bool:
        d = self.decision
        if not isinstance(value, (list, tuple)) or len(value) != d.k:
            return False
        picks: list[int] = []
        for v in value:
            for i, c in enumerate(self.cands):
                if (not d.distinct or i not in picks) and _try(c, v, genes):
                    picks.append(i)
                    break
            else:
                return False
        if d.sorted and picks != sorted(picks):
            return False
        for i, p in enumerate(picks):
            if genes.get(self.offset + i, p) != p:
                return False
            genes[self.offset + i] = p
        return True

    def size(self, seen: set[int]) -> float:
        d = self.decision
        if d.index in seen:
            return 1
        seen.add(d.index)
        sizes = [c.size(seen) for c in self.cands]
        if all(s == 1 for s in sizes):
            return d.count()
        return _subset_size(sizes, d.k, d.distinct, d.sorted)


def _subset_size(sizes: list[float], k: int, distinct: bool, is_sorted: bool) -> float:
    """Exact count of k-selections where picking candidate i contributes ``sizes[i]`` sub-choices."""
    if any(math.isinf(s) for s in sizes):
        return math.inf
    if not distinct and not is_sorted:
        return sum(sizes) ** k
    # e[j]: elementary (distinct) or complete (repetition) symmetric polynomial of degree j.
    e: list[float] = [1, *[0] * k]
    for s in sizes:
        if distinct:
            for j in range(k, 0, -1):
                e[j] += e[j - 1] * s
        else:
            for j in range(1, k + 1):
                e[j] += e[j - 1] * s
    return e[k] * (math.factorial(k) if (distinct and not is_sorted) else 1)


class ValueNode(Node):
    __slots__ = ("decision", "offset", "is_int")

    def __init__(self, decision: Decision, path: str) -> None:
        self.decision, self.offset, self.path = decision, decision.offset, path
        self.is_int = not decision.ops.float_genes

    def decode(self, g: Sequence[Any]) -> Any:
        return g[self.offset]

    def match(self, value: Any, genes: dict[int, Any]) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.is_int and not (isinstance(value, int) or float(value).is_integer()):
            return False
        value = int(value) if self.is_int else float(value)
        if self.decision.check((value,)) is not None:
            return False
        if self.offset in genes and genes[self.offset] != value:
            return False
        genes[self.offset] = value
        return True

    def size(self, seen: set[int]) -> float:
        if self.decision.index in seen:
            return 1
        seen.add(self.decision.index)
        return self.decision.count()


class PermNode(Node):
    __slots__ = ("decision", "items", "offset")

    def __init__(self, decision: Decision, items: list[Node], path: str) -> None:
        self.decision, self.items, self.offset, self.path = decision, items, decision.offset, path

    def decode(self, g: Sequence[Any]) -> Any:
        o = self.offset
        return [self.items[g[o + i]].decode(g) for i in range(self.decision.n)]

    def match(self, value: Any, genes: dict[int, Any]) -> bool:
        if not isinstance(value, (list, tuple)) or len(value) != len(self.items):
            return False
        picks: list[int] = []
        for v in value:
            for i, c in enumerate(self.items):
                if i not in picks and _try(c, v, genes):
                    picks.append(i)
                    break
            else:
                return False
        for i, p in enumerate(picks):
            genes[self.offset + i] = p
        return True

    def size(self, seen: set[int]) -> float:
        if self.decision.index in seen:
            return 1
        seen.add(self.decision.index)
        return math.factorial(len(self.items)) * math.prod(c.size(seen) for c in self.items)
