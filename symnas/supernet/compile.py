"""Compiles a :class:`~symnas.space.space.Space` into a weight-sharing supernet module.

The compiler walks the space's template nodes (the same compiled space that multi-trial search uses):

* a ``oneof`` / ``manyof`` whose candidates build to ``nn.Module``\\ s becomes a :class:`LayerChoice` holding every
  candidate once, bound to the decision's genome slot;
* a ``oneof`` over plain values becomes a :class:`ValueChoice`; the spec that receives it is built by its
  **supernet hook** if one is registered (:func:`register_supernet`; ``torch.nn.Conv2d`` / ``Linear`` slice the
  largest weight, NAS-Bench-201's network uses a cell of mixed edges), otherwise as **separate candidates**: one
  module per combination of its local value choices (:class:`SpecChoice`, at most ``MAX_COMBOS``);
* everything else is built as in :func:`symnas.build`.

Example::

    supernet = Supernet(space)              # the space of a multi-trial study, unchanged
    supernet.set_mode("weighted")           # DARTS
    child = supernet.extract(genome)        # standalone nn.Module with the supernet's weights
"""
from __future__ import annotations

import itertools
import random as _random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import nn

from symnas.candidate.build import container_args
from symnas.candidate.build import build as _plain_build
from symnas.errors import SymnasError
from symnas.genome.table import Genome
from symnas.genome.template import (
    ChoiceNode,
    Const,
    DictNode,
    ListNode,
    Node,
    SpecNode,
    SubsetNode,
)
from symnas.space.space import Space
from symnas.symbolic.spec import Spec, contains, resolve, target_path
from symnas.supernet.choices import (
    MODES,
    ArchState,
    LayerChoice,
    SupernetError,
    ValueChoice,
)
from symnas.supernet.export import export_state

__all__ = ["MAX_COMBOS", "SpecChoice", "Supernet", "register_supernet", "supernet_hook"]

MAX_COMBOS = 64
_HOOKS: dict[str, Callable[..., nn.Module]] = {}


def register_supernet(target: str | Any, hook: Callable[..., nn.Module]) -> None:
    """Registers ``hook`` as the supernet counterpart of builder ``target`` (a class, function or import path).

    The hook is called with the builder's arguments where every ``oneof`` over plain values is a
    :class:`~symnas.supernet.choices.ValueChoice` (``.values``, ``.index()``, ``.weights()``, ``.layer_choice()``),
    and must return an ``nn.Module`` whose state-dict export (plain modules plus choice modules) yields the keys of
    the standalone ``target(...)`` module.

    Example::

        register_supernet(NB201Network, nb201_supernet)
    """
    _HOOKS[target_path(target)] = hook


def supernet_hook(target: str | Any) -> Callable[..., nn.Module] | None:
    """The hook registered for ``target``, or ``None``."""
    return _HOOKS.get(target_path(target))


def _is_value_choice(node: Node) -> bool:
    return (isinstance(node, ChoiceNode) and all(isinstance(c, Const) for c in node.cands)
            and not any(contains(c.value, Spec) for c in node.cands))  # type: ignore[attr-defined]


def _local_value_choices(nodes: Iterable[Node], out: list[ChoiceNode]) -> None:
    for n in nodes:
        if _is_value_choice(n):
            if all(n.offset != o.offset for o in out):  # type: ignore[attr-defined]
                out.append(n)  # type: ignore[arg-type]
        elif isinstance(n, (ListNode, DictNode)):
            _local_value_choices(n.items, out)


class SpecChoice(nn.Module):
    """Separate candidates for a spec with local value choices: one module per combination of their values.

    Example::

        # Block(c=8, act=sn.oneof([nn.ReLU, nn.GELU])) compiles to SpecChoice with 2 Block modules
    """

    def __init__(self, state: ArchState, slots: Sequence[int], combos: Sequence[tuple[int, ...]],
                 modules: Sequence[nn.Module], path: str) -> None:
        super().__init__()
        self._state = state
        self.slots = list(slots)
        self.combos = [tuple(c) for c in combos]
        self._index = {c: i for i, c in enumerate(self.combos)}
        self.candidates = nn.ModuleList(modules)
        self.path = path

    def _current(self) -> int:
        return self._index[tuple(self._state.index(s) for s in self.slots)]

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        st = self._state
        if not any(st.mode(s) == "weighted" for s in self.slots):
            return self.candidates[self._current()](*args, **kwargs)
        out = None
        for combo, m in zip(self.combos, self.candidates):
            w = None
            for s, i in zip(self.slots, combo):
                if st.mode(s) == "weighted":
                    if i in st.masks.get(s, ()):
                        w = None
                        break
                    wi = st.weights(s)[i]
                    w = wi if w is None else w * wi
                elif st.index(s) != i:
                    w = None
                    break
                else:
                    w = w if w is not None else 1.0
            if w is None:
                continue
            y = m(*args, **kwargs) * w
            out = y if out is None else out + y
        return out

    def export_state(self, prefix: str, out: dict[str, torch.Tensor]) -> None:
        export_state(self.candidates[self._current()], prefix, out)


class _Compiler:
    def __init__(self, state: ArchState) -> None:
        self.state = state

    def build(self, node: Node, fixed: dict[int, int]) -> Any:
        if isinstance(node, Const):
            return _plain_build(node.value)
        if isinstance(node, ListNode):
            out = [self.build(n, fixed) for n in node.items]
            return tuple(out) if node.tuple else out
        if isinstance(node, DictNode):
            return {k: self.build(n, fixed) for k, n in zip(node.keys, node.items)}
        if isinstance(node, ChoiceNode):
            return self.choice(node, node.offset, node.cands, fixed)
        if isinstance(node, SubsetNode):
            return [self.choice(node, node.offset + i, node.cands, fixed) for i in range(node.decision.k)]
        if isinstance(node, SpecNode):
            return self.spec(node, fixed)
        raise SupernetError(f"{node.path or 'root'}: {type(node).__name__} decisions ("
                            f"{getattr(getattr(node, 'decision', None), 'kind', '?')}) cannot be weight-shared; "
                            "use sn.oneof over the values instead")

    def choice(self, node: Node, slot: int, cands: list[Node], fixed: dict[int, int]) -> Any:
        if slot in fixed:
            return self.build(cands[fixed[slot]], fixed)
        path = node.path
        if all(isinstance(c, Const) and not contains(c.value, Spec) for c in cands):
            return ValueChoice(self.state, slot, [c.value for c in cands], path)  # type: ignore[attr-defined]
        built = [self.build(c, fixed) for c in cands]
        bad = [i for i, b in enumerate(built) if not isinstance(b, nn.Module)]
        if bad:
            raise SupernetError(f"{path}: candidate {bad[0]} ({self.state.slot_decision[slot].labels[bad[0]]}) "
                                "does not build to an nn.Module; a supernet choice needs module candidates or "
                                "plain values")
        return LayerChoice(self.state, slot, built, path)

    def spec(self, node: SpecNode, fixed: dict[int, int]) -> Any:
        hook = supernet_hook(node.target)
        local: list[ChoiceNode] = []
        if hook is None:
            _local_value_choices(list(node.args) + list(node.kwargs), local)
            local = [c for c in local if c.offset not in fixed]
        if local:
            slots = [c.offset for c in local]
            combos = list(itertools.product(*[range(len(c.cands)) for c in local]))
            if len(combos) > MAX_COMBOS:
                raise SupernetError(
                    f"{node.path or 'root'}: {len(combos)} combinations of value choices "
                    f"({', '.join(c.decision.name for c in local)}) for {Spec(node.target).name}; at most "
                    f"{MAX_COMBOS} separate candidates are built. Register a supernet hook for this builder "
                    "(symnas.supernet.register_supernet)")
            mods = [self.spec(node, {**fixed, **dict(zip(slots, combo))}) for combo in combos]
            bad = [m for m in mods if not isinstance(m, nn.Module)]
            if bad:
                raise SupernetError(f"{node.path or 'root'}: {Spec(node.target).name} does not build an nn.Module;"
                                    " its value choices cannot be weight-shared")
            return SpecChoice(self.state, slots, combos, mods, node.path)
        args = [self.build(n, fixed) for n in node.args]
        kwargs = {k: self.build(n, fixed) for k, n in zip(node.keys, node.kwargs)}
        fn = hook or resolve(node.target, node.path or "root")
        if hook is None:
            args = container_args(target_path(node.target), args, kwargs)
        try:
            return fn(*args, **kwargs)
        except SymnasError:
            raise
        except Exception as e:
            raise SupernetError(f"{node.path or 'root'}: building the supernet of {Spec(node.target).name} "
                                f"failed: {type(e).__name__}: {e}") from e


class Supernet(nn.Module):
    """A weight-sharing supernet compiled from a space: every candidate's weights live in it once.

    Args:
      space: the search space (the same object a multi-trial :class:`~symnas.search.study.Study` uses).
      mode: initial mode of every choice (``fixed``, ``sampled`` or ``weighted``).
      seed: seeds the weight initialisation and the path sampler.

    Example::

        net = Supernet(space, mode="sampled")
        logits = net(x)                       # a fresh uniformly sampled path per training forward
        net.set_genome(space.sample(seed=1)); net.set_mode("fixed")
        child = net.extract(net.genome)       # standalone, weights copied
    """

    def __init__(self, space: Space, mode: str = "fixed", seed: int | None = None) -> None:
        super().__init__()
        if not isinstance(space, Space):
            space = Space(space)
        self.space = space
        self.state = ArchState(space.table)
        self.rng = _random.Random(seed)
        self.sampler: Callable[[], Genome] = lambda: space.table.sample(self.rng)
        ctx = torch.random.fork_rng(devices=[]) if seed is not None else _Null()
        with ctx:
            if seed is not None:
                torch.manual_seed(seed)
            if space.builder is not None:  # patched factories and traced functions
                from symnas.supernet.factories import compile_factory_space

                model = compile_factory_space(space, self.state, seed)
            else:
                model = _Compiler(self.state).build(space.root, {})
        if not isinstance(model, nn.Module):
            raise SupernetError(f"space {space.name!r}: the root does not build to an nn.Module "
                                f"(got {type(model).__name__})")
        self.model = model
        self.alpha = nn.ParameterDict({f"g{s}": nn.Parameter(torch.zeros(d.n))
                                       for s, d in self.state.slot_decision.items()})
        self.state.alpha = {s: self.alpha[f"g{s}"] for s in self.state.slot_decision}
        self.set_mode(mode)

    # -- architecture state ------------------------------------------------------------------------------
    @property
    def genome(self) -> Genome:
        return tuple(self.state.genome)

    def set_genome(self, genome: Sequence[Any]) -> Supernet:
        """Sets the current path (validated against the space)."""
        self.state.genome = list(self.space.table.validate(tuple(genome)))
        return self

    def _slots(self, decisions: Iterable[str | int] | None) -> list[int]:
        if decisions is None:
            return list(self.state.slot_decision)
        out = []
        for key in decisions:
            d = self.space.table[key]
            slots = d.ops.slots(d)
            if slots is None or slots.rows != 1:
                raise SupernetError(f"{d.path}: only choice decisions have modes (this one is {d.kind})")
            out.extend(range(d.offset, d.offset + d.width))
        return out

    def set_mode(self, mode: str, decisions: Iterable[str | int] | None = None, *, gumbel: bool = False,
                 tau: float = 1.0) -> Supernet:
        """Sets the mode of the given decisions (names, paths or indices; all by default); ``gumbel`` and ``tau``
        apply to weighted mode (shared by all weighted decisions)."""
        if mode not in MODES:
            raise SupernetError(f"unknown supernet mode {mode!r}; expected one of {', '.join(MODES)}")
        for s in self._slots(decisions):
            self.state.modes[s] = mode
        if mode == "weighted":
            self.state.gumbel, self.state.tau = gumbel, tau
        return self

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        st = self.state
        if self.training and any(m == "sampled" for m in st.modes.values()):
            g = self.sampler()
            for s, m in st.modes.items():
                if m == "sampled":
                    st.genome[s] = g[s]
            st.genome = list(self.space.table.canonical(st.genome))
        st.new_forward()
        return self.model(*args, **kwargs)

    def weight_parameters(self) -> list[nn.Parameter]:
        """The shared network weights (not the architecture logits)."""
        return list(self.model.parameters())

    def arch_parameters(self) -> list[nn.Parameter]:
        """The architecture logits, one vector per categorical genome slot."""
        return list(self.alpha.values())

    def arch_weights(self) -> dict[str, list[float]]:
        """``{decision name (slot suffix for manyof): softmax weights}`` for reports."""
        out = {}
        for s, d in self.state.slot_decision.items():
            key = d.name if d.width == 1 else f"{d.name}[{s - d.offset}]"
            out[key] = [round(float(v), 4) for v in torch.softmax(self.alpha[f"g{s}"].detach(), -1)]
        return out

    def derive(self, exclude: Sequence[str] = ()) -> Genome:
        """Discretises the architecture logits: argmax per choice (labels in ``exclude`` skipped where another
        candidate remains; distinct/sorted ``manyof`` constraints respected)."""
        g = list(self.state.genome)
        for d in self.space.table.decisions:
            slots = d.ops.slots(d)
            if slots is None or slots.rows != 1:
                continue
            taken: list[int] = []
            for i in range(d.width):
                a = self.alpha[f"g{d.offset + i}"].detach().float().clone()
                for j, lab in enumerate(d.labels):
                    if _excluded(self.space, d.index, j, lab, exclude) and len(exclude) < d.n:
                        a[j] = float("-inf")
                if slots.distinct:
                    for j in taken:
                        a[j] = float("-inf")
                pick = int(torch.argmax(a))
                taken.append(pick)
                g[d.offset + i] = pick
            if slots.sorted:
                g[d.offset:d.offset + d.width] = sorted(taken)
        return self.space.table.canonical(g)

    # -- export -------------------------------------------------------------------------------------------
    def child_state_dict(self, genome: Sequence[Any]) -> dict[str, torch.Tensor]:
        """The state dict of the standalone child ``genome`` (copies of the supernet's weights / slices)."""
        saved = self.state.genome
        self.set_genome(genome)
        try:
            out: dict[str, torch.Tensor] = {}
            export_state(self.model, "", out)
            return out
        finally:
            self.state.genome = saved

    def extract(self, genome: Sequence[Any], inherit: bool = True, seed: int | None = None) -> nn.Module:
        """Builds the standalone child of ``genome`` (``space.build``); with ``inherit`` its weights are copied
        from the supernet, otherwise freshly initialised (seeded)."""
        genome = self.space.table.validate(tuple(genome))
        child = self.space.build(genome, seed=seed)
        if inherit:
            sd = self.child_state_dict(genome)
            dev = next(iter(sd.values())).device if sd else None
            missing, unexpected = child.load_state_dict(sd, strict=False)
            if missing or unexpected:
                raise SupernetError(f"space {self.space.name!r}: the supernet export does not match the child "
                                    f"(missing {missing[:4]}, unexpected {unexpected[:4]}); a supernet hook "
                                    "produced keys that differ from the builder's module")
            if dev is not None:
                child = child.to(dev)
        return child


def _excluded(space: Space, index: int, option: int, label: str, exclude: Sequence[Any]) -> bool:
    if label in exclude:
        return True
    try:
        return space.choice_value(index, option) in exclude
    except (TypeError, ValueError, RuntimeError, AttributeError):
        return False


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *a: object) -> None:
        return None
