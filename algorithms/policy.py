"""A small torch policy over a decision table: independent logits per decision (TuNAS-style factorisation).

Why independent logits: one logit vector per decision is what the NAS-Bench-201 REINFORCE reference uses (a 6x5
table), it needs no sequence model, every sample and every log-probability is a handful of vectorised ops, and it
never sees torch modules of the candidate (genome only). Decisions that are inactive in a genome (conditionals)
contribute nothing to its log-probability, so children are learned only from samples where they mattered.

Parameterisation per decision kind:
  * choice: ``n`` logits;
  * int / float: discretised bins (every value when there are at most ``max_bins``, otherwise ``max_bins`` equal
    bins in the decision's own linear or log scale, the value drawn uniformly inside the chosen bin);
  * subset: ``n`` logits, ``k`` draws without replacement when distinct (Plackett-Luce);
  * permutation: an ``n x n`` table, position ``i`` draws from the items still free.

Example::

    pol = LogitPolicy(space.table)
    g = pol.sample(random.Random(0))
    lp = pol.log_prob([g])          # a torch tensor with a gradient
"""
from __future__ import annotations

import math
import random
from typing import Any, Sequence

import torch

from symnas.algorithms._common import _draw, _draw_without
from symnas.genome.table import Decision, DecisionTable, Genome

__all__ = ["LogitPolicy"]


class LogitPolicy:
    """Independent logits per decision, stored as float64 tensors (exact JSON round trip)."""

    def __init__(self, table: DecisionTable, max_bins: int = 16) -> None:
        self.table = table
        self.max_bins = max_bins
        self.values: list[Any] = []  # per numeric decision: exact value list, or None (interval bins)
        self.params: list[torch.Tensor] = []
        for d in table.decisions:
            vals = None
            s = d.ops.slots(d)
            if s is not None and s.rows == 1:
                shape: tuple = (d.n,)
            elif s is not None:
                shape = (s.rows, d.n)
            else:
                c = d.count()
                if c <= max_bins:
                    vals = [v for (v,) in d.grid(max_bins)]
                    shape = (len(vals),)
                else:
                    shape = (max_bins,)
            self.values.append(vals)
            self.params.append(torch.zeros(shape, dtype=torch.float64, requires_grad=True))
        self._probs: list[list] | None = None

    # -- numeric bins ----------------------------------------------------------------------------------------
    def _bin(self, d: Decision, v: Any) -> int:
        vals = self.values[d.index]
        if vals is not None:
            try:
                return vals.index(v)
            except ValueError:
                return min(range(len(vals)), key=lambda i: abs(vals[i] - v))
        return min(int(d.ops.to_unit(d, v) * self.max_bins), self.max_bins - 1)

    def _from_bin(self, d: Decision, b: int, rng: random.Random) -> Any:
        vals = self.values[d.index]
        if vals is not None:
            return vals[b]
        return d.ops.snap(d, d.ops.from_unit(d, (b + rng.random()) / self.max_bins))

    # -- sampling --------------------------------------------------------------------------------------------
    def invalidate(self) -> None:
        """Forgets cached probabilities (call after changing the parameters)."""
        self._probs = None

    def probs(self) -> list[list]:
        if self._probs is None:
            with torch.no_grad():
                self._probs = [torch.softmax(p, dim=-1).tolist() for p in self.params]
        return self._probs

    def sample(self, rng: random.Random) -> Genome:
        """Draws one genome (every decision drawn, then inactive ones reset to canonical values)."""
        probs = self.probs()
        g: list = []
        for d, p in zip(self.table.decisions, probs):
            s = d.ops.slots(d)
            if s is None:
                g.append(self._from_bin(d, _draw(p, rng), rng))
            elif s.rows == 1:
                if s.distinct:
                    picks = _draw_without(p, s.count, rng)
                else:
                    picks = [_draw(p, rng) for _ in range(s.count)]
                g.extend(sorted(picks) if s.sorted else picks)
            else:
                free = list(range(d.n))
                out = []
                for row in p:
                    w = [row[i] for i in free]
                    i = free[_draw(w, rng)]
                    free.remove(i)
                    out.append(i)
                g.extend(out)
        return self.table.canonical(g)

    # -- log-probability and entropy -------------------------------------------------------------------------
    def log_prob(self, genomes: Sequence[Genome]) -> torch.Tensor:
        """Log-probabilities of ``genomes`` under the policy (shape ``[len(genomes)]``, differentiable)."""
        B = len(genomes)
        actives = [self.table.active(g) for g in genomes]
        total = torch.zeros(B, dtype=torch.float64)
        for d, logits in zip(self.table.decisions, self.params):
            mask = torch.tensor([a[d.index] for a in actives], dtype=torch.float64)
            if not bool(mask.any()):
                continue
            o = d.offset
            s = d.ops.slots(d)
            if s is None or s.count == 1:
                idx = [g[o] if s is not None else self._bin(d, g[o]) for g in genomes]
                lp = torch.log_softmax(logits, -1)[torch.tensor(idx)]
            else:
                rows = s.count
                lp = torch.zeros(B, dtype=torch.float64)
                chosen = torch.zeros(B, d.n, dtype=torch.bool)
                for j in range(rows):
                    idx = torch.tensor([g[o + j] for g in genomes])
                    lg = (logits if s.rows == 1 else logits[j]).expand(B, d.n)
                    if s.distinct:
                        lg = lg.masked_fill(chosen, -math.inf)
                    lp = lp + torch.log_softmax(lg, -1).gather(1, idx[:, None])[:, 0]
                    chosen = chosen.clone()
                    chosen[torch.arange(B), idx] = True
            total = total + mask * lp
        return total

    def entropy(self) -> torch.Tensor:
        """Sum of the per-decision (per-row) entropies."""
        h = torch.zeros((), dtype=torch.float64)
        for p in self.params:
            lp = torch.log_softmax(p, -1)
            h = h - (lp.exp() * lp).sum()
        return h

    # -- state -----------------------------------------------------------------------------------------------
    def state(self) -> list:
        return [p.detach().tolist() for p in self.params]

    def load(self, state: list) -> None:
        with torch.no_grad():
            for p, s in zip(self.params, state):
                p.copy_(torch.tensor(s, dtype=torch.float64))
        self.invalidate()
