"""The building blocks of a supernet: the shared architecture state and the choice modules that read it.

Every categorical genome slot (a ``oneof`` gene, or one of the ``k`` genes of a ``manyof``) has one mode:

* ``fixed``: the candidate index in :attr:`ArchState.genome` is used (one path).
* ``sampled``: like fixed, but the supernet draws a new genome before each training forward (ENAS / single-path
  one-shot); in eval mode the current genome is used.
* ``weighted``: a softmax mixture of all candidates with one architecture parameter per candidate (DARTS); with
  ``gumbel=True`` a Gumbel-softmax sample at temperature ``tau``, drawn once per forward so tied uses agree.

Example::

    st = ArchState(space.table)
    layer = LayerChoice(st, slot=0, candidates=[nn.Conv2d(4, 4, 3, padding=1), nn.Identity()], path="block")
    st.genome[0] = 1            # fixed: the Identity path
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional, cast

import torch
from torch import nn
from torch.nn import functional as F

from symnas.errors import SymnasError
from symnas.genome.table import Decision, DecisionTable

__all__ = ["MODES", "ArchState", "LayerChoice", "SupernetError", "ValueChoice"]

MODES = ("fixed", "sampled", "weighted")


class SupernetError(SymnasError, ValueError):
    """A space cannot be compiled into a supernet, or a supernet is misused; the message names the decision."""


class ArchState:
    """The architecture state shared by every choice module of one supernet.

    Attributes:
      table: the decision table of the space.
      genome: the current genome (a list; choice genes are candidate indices).
      modes: ``{slot: mode}`` for the categorical slots.
      alpha: ``{slot: Parameter}`` architecture logits (set by the supernet).
      masks: ``{slot: set of disabled candidate indices}`` (weighted mode; used by perturbation-based selection).

    Example::

        st = ArchState(space.table)
        st.modes[0] = "weighted"
    """

    def __init__(self, table: DecisionTable) -> None:
        self.table = table
        self.genome: list[Any] = list(table.default_genome)
        self.slot_decision: dict[int, Decision] = {}
        for d in table.decisions:
            slots = d.ops.slots(d)
            if slots is not None and slots.rows == 1:  # every gene picks one of the same candidates
                for i in range(d.width):
                    self.slot_decision[d.offset + i] = d
        self.modes: dict[int, str] = {s: "fixed" for s in self.slot_decision}
        self.alpha: dict[int, nn.Parameter] = {}
        self.masks: dict[int, set[int]] = {}
        self.gumbel = False
        self.tau = 1.0
        self._cache: dict[int, torch.Tensor] = {}

    def n_options(self, slot: int) -> int:
        return self.slot_decision[slot].n

    def mode(self, slot: int) -> str:
        return self.modes.get(slot, "fixed")

    def index(self, slot: int) -> int:
        return int(self.genome[slot])

    def new_forward(self) -> None:
        """Forgets the per-forward weight samples (called by the supernet at the start of each forward)."""
        self._cache.clear()

    def weights(self, slot: int) -> torch.Tensor:
        """Mixture weights of ``slot`` (softmax of its logits, masked candidates get weight 0)."""
        w = self._cache.get(slot)
        if w is not None:
            return w
        a = self.alpha[slot]
        mask = self.masks.get(slot)
        if mask:
            keep = torch.ones_like(a, dtype=torch.bool)
            keep[list(mask)] = False
            a = a.masked_fill(~keep, float("-inf"))
        if self.gumbel:
            g = -torch.empty_like(a).exponential_().log()
            w = F.softmax((a + g) / self.tau, dim=-1)
        else:
            w = F.softmax(a / self.tau, dim=-1)
        self._cache[slot] = w
        return w

    def active(self, slot: int) -> list[int]:
        """Candidate indices that take part in the mixture of ``slot``."""
        mask = self.masks.get(slot, ())
        return [i for i in range(self.n_options(slot)) if i not in mask]


class LayerChoice(nn.Module):
    """A choice among sub-modules: holds every candidate once (``candidates[i]``) and runs the chosen one(s).

    Its export maps ``<prefix>.candidates.<i>.<rest>`` to ``<prefix>.<rest>``: the standalone child has the chosen
    module where the supernet has this choice.

    Example::

        choice = LayerChoice(state, 0, [nn.Linear(4, 4), nn.Identity()], path="layer")
    """

    def __init__(self, state: ArchState, slot: int, candidates: Sequence[nn.Module], path: str = "") -> None:
        super().__init__()
        self._state = state
        self.slot = slot
        self.path = path
        self.candidates = nn.ModuleList(candidates)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        st = self._state
        if st.mode(self.slot) != "weighted":
            return self.candidates[st.index(self.slot)](*args, **kwargs)
        w = st.weights(self.slot)
        out = None
        for i in st.active(self.slot):
            y = self.candidates[i](*args, **kwargs) * w[i]
            out = y if out is None else out + y
        return out

    def export_state(self, prefix: str, out: dict[str, torch.Tensor]) -> None:
        from symnas.supernet.export import export_state

        export_state(self.candidates[self._state.index(self.slot)], prefix, out)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name.startswith("_") or name in ("candidates", "slot", "path"):
                raise
            # attributes every candidate agrees on (e.g. out_channels read by a parent module)
            cands = cast(Optional[nn.ModuleList], self._modules.get("candidates"))
            vals = [getattr(c, name, _MISSING) for c in (cands or [])]
            if vals and all(v is not _MISSING for v in vals) and all(_same(v, vals[0]) for v in vals):
                return vals[0]
            raise

    def extra_repr(self) -> str:
        return f"path={self.path!r}, slot={self.slot}"


_MISSING = object()


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError, RuntimeError):  # e.g. tensors compared elementwise
        return a is b


class ValueChoice:
    """A choice among plain values (op names, kernel sizes, widths), handed to a supernet builder hook.

    A hook (see :func:`symnas.supernet.register_supernet`) receives one ``ValueChoice`` wherever the space has a
    ``oneof`` over values, and reads the current choice or the mixture weights:

    Example::

        def my_hook(ops, C):                         # ops: list of ValueChoice
            return MyCell([v.layer_choice([make_op(o, C) for o in v.values]) for v in ops])
    """

    def __init__(self, state: ArchState, slot: int, values: Sequence[Any], path: str) -> None:
        self.state, self.slot, self.values, self.path = state, slot, list(values), path

    @property
    def decision(self) -> Decision:
        return self.state.slot_decision[self.slot]

    def mode(self) -> str:
        return self.state.mode(self.slot)

    def index(self) -> int:
        """Index of the current candidate (fixed / sampled modes)."""
        return self.state.index(self.slot)

    def value(self) -> Any:
        return self.values[self.index()]

    def weights(self) -> torch.Tensor | None:
        """Mixture weights in weighted mode, ``None`` otherwise."""
        return self.state.weights(self.slot) if self.mode() == "weighted" else None

    def layer_choice(self, modules: Sequence[nn.Module]) -> LayerChoice:
        """A :class:`LayerChoice` over ``modules`` (one per value, same order) driven by this decision."""
        if len(modules) != len(self.values):
            raise SupernetError(f"{self.path}: layer_choice needs {len(self.values)} modules, got {len(modules)}")
        return LayerChoice(self.state, self.slot, modules, self.path)

    def __repr__(self) -> str:
        return f"ValueChoice({self.path!r}, {self.values!r})"
