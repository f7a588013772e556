"""Tree-structured Parzen Estimator (univariate, like Optuna's default), written with numpy on the genome.

After ``n_startup`` random proposals, the observations are split into good (the best ``gamma(n)``) and bad; per
decision, ``n_candidates`` values are drawn from the good density l(x) and the one maximising l(x)/g(x) is kept.
Densities per kind: choice — one kernel per observation plus a uniform prior kernel (Optuna's smoothing); int/float
— Gaussian Parzen windows in the decision's unit (linear or log) scale plus a broad prior component; subset — member
frequencies, drawn without replacement; perm — per-position frequencies. A decision's densities use only
observations where it was active (conditionals). A proposal already made is drawn again from the model, then
replaced by a neighbour, before falling back to a uniform sample.

Example::

    study = sn.Study(space, TPE(seed=0))
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional

import numpy as np

from symnas.algorithms._common import _draw, _draw_without, mutate
from symnas.algorithms.base import Algorithm, Values, register
from symnas.errors import SymnasError
from symnas.genome.table import Decision, Genome

__all__ = ["TPE"]


def default_gamma(n: int) -> int:
    """Optuna's default split: the best ``min(ceil(0.1 n), 25)`` observations are 'good'."""
    return min(int(math.ceil(0.1 * n)), 25)


@register("tpe", example={"n_startup": 5})
class TPE(Algorithm):
    """Univariate TPE.

    Args:
      n_startup: random proposals before the model is used.
      n_candidates: candidates drawn from l(x) per decision.
      gamma: ``n -> number of good observations`` (default :func:`default_gamma`).
      prior_weight: weight of the uniform/broad prior in each density.
      max_retries: when a proposal was already made: model draws, then neighbours, then uniform samples tried
        (this many of each) before the repeat is let through.
      seed: random seed.

    Example::

        algo = TPE(n_startup=10, n_candidates=24, seed=0)
    """

    snapshot_every = 25  # the state holds every observation

    def __init__(self, n_startup: int = 10, n_candidates: int = 24, gamma: Any = default_gamma,
                 prior_weight: float = 1.0, max_retries: int = 10, seed: Optional[int] = None) -> None:
        super().__init__(seed)
        if n_startup < 1 or n_candidates < 1:
            raise SymnasError(f"TPE: n_startup and n_candidates must be >= 1, got {n_startup!r}, {n_candidates!r}")
        self.n_startup, self.n_candidates, self.gamma = int(n_startup), int(n_candidates), gamma
        self.prior_weight, self.max_retries = float(prior_weight), int(max_retries)
        self.obs: list[tuple[Genome, float]] = []
        self.seen: set[Genome] = set()
        self._cache: Optional[tuple[int, list]] = None  # (observations, densities per decision)

    def _feedback(self, genome: Genome, values: Values, cached: bool) -> None:
        if values is not None:
            self.obs.append((tuple(genome), float(values[0])))

    def _propose(self) -> Genome:
        g = self._draw_model()
        # A repeat would only be served from a cache. Draw from the model again, then try a neighbour of the
        # model's proposal, and only then a uniform sample: a converged model keeps proposing near the optimum
        # instead of spending evaluations on random candidates.
        for attempt in range(3 * self.max_retries):
            if g not in self.seen:
                break
            if attempt < self.max_retries:
                g = self._draw_model()
            elif attempt < 2 * self.max_retries:
                g = mutate(self.table, g, self.rng)
            else:
                g = self.table.sample(self.rng)
        self.seen.add(g)
        return g

    def _draw_model(self) -> Genome:
        table = self.table
        if len(self.obs) < self.n_startup:
            return table.sample(self.rng)
        out: list = []
        for d, (good, bad) in zip(table.decisions, self._model()):
            out.extend(self._pick_numeric(d, good, bad) if d.ops.numeric else self._pick(d, good, bad))
        return table.canonical(out)

    def _model(self) -> list[tuple[Any, Any]]:
        """Per decision, the good and bad densities (rebuilt only when an observation was added)."""
        if self._cache is not None and self._cache[0] == len(self.obs):
            return self._cache[1]
        table = self.table
        ranked = sorted(self.obs, key=lambda o: -o[1])
        n_good = max(1, self.gamma(len(ranked)))
        good, bad = [g for g, _ in ranked[:n_good]], [g for g, _ in ranked[n_good:]]
        act_good = [table.active(g) for g in good]
        act_bad = [table.active(g) for g in bad]
        model = []
        for d in table.decisions:
            gs = [g[d.offset:d.offset + d.width] for g, a in zip(good, act_good) if a[d.index]]
            bs = [g[d.offset:d.offset + d.width] for g, a in zip(bad, act_bad) if a[d.index]]
            s = d.ops.slots(d)
            if s is None:
                unit = d.ops.to_unit
                model.append((_parzen(np.array([unit(d, x[0]) for x in gs], dtype=float), self.prior_weight),
                              _parzen(np.array([unit(d, x[0]) for x in bs], dtype=float), self.prior_weight)))
            else:
                rows = s.rows
                model.append(tuple([self._cat(d.n, [x if s.rows == 1 else (x[j],) for x in obs])
                                    for j in range(rows)] for obs in (gs, bs)))
        self._cache = (len(self.obs), model)
        return model

    # -- per-kind densities ---------------------------------------------------------------------------------
    def _pick(self, d: Decision, pl: list, pg: list) -> tuple:
        best: tuple = ()
        best_score = -math.inf
        for _ in range(self.n_candidates):
            s = d.ops.slots(d)
            if s.rows == 1:
                picks = _draw_without(pl[0], s.count, self.rng) if s.distinct else \
                    [_draw(pl[0], self.rng) for _ in range(s.count)]
                score = sum(math.log(pl[0][i] / pg[0][i]) for i in picks)
                cand: tuple = tuple(sorted(picks)) if s.sorted else tuple(picks)
            else:
                free, picks, score = list(range(d.n)), [], 0.0
                for j in range(d.n):
                    i = free[_draw([pl[j][f] for f in free], self.rng)]
                    free.remove(i)
                    picks.append(i)
                    score += math.log(pl[j][i] / pg[j][i])
                cand = tuple(picks)
            if score > best_score:
                best, best_score = cand, score
        return best

    def _cat(self, n: int, rows: list) -> list[float]:
        """A Parzen mixture over ``n`` categories, as Optuna builds it: one kernel per observed category (its mass
        1 on the observation plus ``prior_weight / kernels`` spread evenly) and one uniform prior kernel, averaged.
        """
        w = [0.0] * n
        for r in rows:
            for i in r:
                w[i] += 1.0
        m = sum(w)
        kernels = m + 1.0
        spread = self.prior_weight / kernels
        z = 1.0 + n * spread
        return [((c + m * spread) / z + 1.0 / n) / kernels for c in w]

    def _pick_numeric(self, d: Decision, good: tuple, bad: tuple) -> tuple:
        (mus_l, sig_l, w_l), (mus_g, sig_g, w_g) = good, bad
        comps = [self.rng.choices(range(len(w_l)), weights=list(w_l))[0] for _ in range(self.n_candidates)]
        cands = np.clip([self.rng.gauss(mus_l[c], sig_l[c]) for c in comps], 0.0, 1.0)
        score = _logpdf(cands, mus_l, sig_l, w_l) - _logpdf(cands, mus_g, sig_g, w_g)
        return (d.ops.snap(d, d.ops.from_unit(d, float(cands[int(np.argmax(score))]))),)

    def _state(self) -> dict[str, Any]:
        return {"obs": [[list(g), v] for g, v in self.obs],
                "seen": [list(g) for g in self.seen]}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        self.obs = [(tuple(g), v) for g, v in state["obs"]]
        self._cache = None
        self.seen = {tuple(g) for g in state["seen"]}


def _parzen(u: np.ndarray, prior_weight: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mixture of a broad prior N(0.5, 1) and one Gaussian per observation (Scott's bandwidth, clipped)."""
    n = len(u)
    bw = 1.06 * (float(np.std(u)) if n > 1 else 0.3) * max(n, 1) ** -0.2
    bw = min(max(bw, 0.03), 1.0)
    mus = np.concatenate([[0.5], u])
    sig = np.concatenate([[1.0], np.full(n, bw)])
    w = np.concatenate([[prior_weight], np.ones(n)])
    return mus, sig, w / w.sum()


def _logpdf(x: np.ndarray, mus: np.ndarray, sig: np.ndarray, w: np.ndarray) -> np.ndarray:
    z = (x[:, None] - mus[None, :]) / sig[None, :]
    comp = -0.5 * z * z - np.log(sig)[None, :] + np.log(w)[None, :]
    m = comp.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(comp - m).sum(axis=1, keepdims=True)))[:, 0]
