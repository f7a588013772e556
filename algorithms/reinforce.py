"""Policy-gradient controllers over the decision table: REINFORCE and PPO.

Both use :class:`~symnas.algorithms.policy.LogitPolicy` (independent logits per decision, ints/floats as
discretised bins; see that module for why), an exponential-moving-average reward baseline, an entropy bonus and
Adam (written out here so that its state is plain JSON). Rewards are the first objective (larger is better);
failed trials (``values=None``) are skipped unless ``failure_reward`` is given; results served from a dedup cache
are used like any other sample of the policy (they are samples of it).

Example::

    study = sn.Study(space, Reinforce(lr=0.5, seed=0))
    study.optimize(evaluate, n_trials=150)
    ctl = PPO(lr=0.1, clip=0.2, epochs=4, batch_size=8, seed=0)
    genomes = ctl.setup(space.table).propose_batch(8)        # one batch from the current policy
"""
from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import torch

from symnas.algorithms.base import Algorithm, Values, register
from symnas.algorithms.policy import LogitPolicy
from symnas.errors import SymnasError
from symnas.genome.table import Genome

__all__ = ["Reinforce", "PPO"]


@register("reinforce", example={"lr": 0.2})
class Reinforce(Algorithm):
    """REINFORCE with an EMA baseline: after every ``batch_size`` rewards, one Adam step on
    ``-mean((r - b) * log pi(a)) - entropy * H(pi)``.

    Args:
      lr: Adam learning rate (the NAS-Bench-201 reference uses 0.5 on its 6x5 logit table).
      entropy: weight of the entropy bonus.
      baseline_decay: EMA decay of the reward baseline (the baseline is updated before the advantage is taken,
        as in the NAS-Bench-201 reference).
      batch_size: rewards per update.
      betas: Adam's betas (TuNAS uses beta1 = 0).
      max_bins: bins for ints/floats with more values than this.
      failure_reward: reward given to failed trials (default: they are skipped).
      avoid_seen: redraw a sample already proposed (up to ``max_retries`` times), then fall back to a uniform
        sample, so that a converged policy still explores new candidates instead of repeating cached ones.
      seed: seed of the sampling generator.

    Example::

        algo = Reinforce(lr=0.5, entropy=1e-4, baseline_decay=0.9, seed=0)
    """

    def __init__(self, lr: float = 0.1, entropy: float = 1e-4, baseline_decay: float = 0.9, *,
                 batch_size: int = 1, betas: tuple[float, float] = (0.9, 0.999), max_bins: int = 16,
                 failure_reward: Optional[float] = None, avoid_seen: bool = True, max_retries: int = 20,
                 seed: Optional[int] = None) -> None:
        super().__init__(seed)
        for name, v in (("lr", lr), ("batch_size", batch_size), ("max_bins", max_bins)):
            if not v > 0:
                raise SymnasError(f"{type(self).__name__}: {name} must be positive, got {v!r}")
        if not 0.0 <= baseline_decay < 1.0:
            raise SymnasError(f"{type(self).__name__}: baseline_decay must be in [0, 1), got {baseline_decay!r}")
        self.lr, self.entropy_weight, self.baseline_decay = float(lr), float(entropy), float(baseline_decay)
        self.batch_size, self.betas, self.max_bins = int(batch_size), tuple(betas), int(max_bins)
        self.failure_reward = failure_reward
        self.baseline: Optional[float] = None
        self.buffer: list[tuple[Genome, float]] = []  # (genome, advantage)
        self.updates = 0
        self.avoid_seen, self.max_retries = bool(avoid_seen), int(max_retries)
        self.seen: set[Genome] = set()

    def _setup(self) -> None:
        self.policy = LogitPolicy(self.table, self.max_bins)
        self._m = [torch.zeros_like(p) for p in self.policy.params]
        self._v = [torch.zeros_like(p) for p in self.policy.params]

    # -- ask --------------------------------------------------------------------------------------------------
    def _propose(self) -> Genome:
        g = self.policy.sample(self.rng)
        if self.avoid_seen:
            for _ in range(self.max_retries):
                if g not in self.seen:
                    break
                g = self.policy.sample(self.rng)
            else:
                g = self.table.sample(self.rng)
            self.seen.add(g)
        return g

    def _propose_batch(self, n: int) -> list[Genome]:
        """``n`` samples of the current policy (it changes only when feedback completes a batch)."""
        return [self._propose() for _ in range(n)]

    # -- tell -------------------------------------------------------------------------------------------------
    def _feedback(self, genome: Genome, values: Values, cached: bool) -> None:
        if values is None:
            if self.failure_reward is None:
                return
            r = float(self.failure_reward)
        else:
            r = float(values[0])
        self.baseline = r if self.baseline is None else \
            self.baseline_decay * self.baseline + (1.0 - self.baseline_decay) * r
        self.buffer.append((tuple(genome), r - self.baseline))
        if len(self.buffer) >= self.batch_size:
            self._update(self.buffer)
            self.buffer = []

    def _loss(self, genomes: Sequence[Genome], adv: torch.Tensor, old: Optional[torch.Tensor]) -> torch.Tensor:
        return -(adv * self.policy.log_prob(genomes)).mean() - self.entropy_weight * self.policy.entropy()

    def _update(self, batch: Sequence[tuple[Genome, float]]) -> None:
        genomes = [g for g, _ in batch]
        adv = torch.tensor([a for _, a in batch], dtype=torch.float64)
        old = None
        if getattr(self, "epochs", 1) > 1 or isinstance(self, PPO):
            with torch.no_grad():
                old = self.policy.log_prob(genomes)
        for _ in range(getattr(self, "epochs", 1)):
            loss = self._loss(genomes, adv, old)
            grads = torch.autograd.grad(loss, self.policy.params, allow_unused=True)
            self._adam(grads)
        self.policy.invalidate()

    def _adam(self, grads: Sequence[Optional[torch.Tensor]]) -> None:
        self.updates += 1
        b1, b2 = self.betas
        t = self.updates
        with torch.no_grad():
            for p, g, m, v in zip(self.policy.params, grads, self._m, self._v):
                if g is None:
                    continue
                m.mul_(b1).add_(g, alpha=1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                mhat = m / (1 - b1 ** t)
                vhat = v / (1 - b2 ** t)
                p.sub_(self.lr * mhat / (vhat.sqrt() + 1e-8))

    # -- state ------------------------------------------------------------------------------------------------
    def probabilities(self) -> list[list]:
        """The policy's current probabilities, one list (or table) per decision."""
        return self.policy.probs()

    def _state(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "updates": self.updates,
                "buffer": [[list(g), a] for g, a in self.buffer], "params": self.policy.state(),
                "m": [x.tolist() for x in self._m], "v": [x.tolist() for x in self._v],
                "seen": [list(g) for g in self.seen]}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        self.baseline, self.updates = state["baseline"], state["updates"]
        self.buffer = [(tuple(g), a) for g, a in state["buffer"]]
        self.policy.load(state["params"])
        self._m = [torch.tensor(x, dtype=torch.float64) for x in state["m"]]
        self._v = [torch.tensor(x, dtype=torch.float64) for x in state["v"]]
        self.seen = {tuple(g) for g in state.get("seen", [])}


@register("ppo", example={"lr": 0.2, "batch_size": 4, "epochs": 2})
class PPO(Reinforce):
    """PPO with a clipped surrogate: every ``batch_size`` rewards, ``epochs`` Adam steps on
    ``-mean(min(rho * A, clip(rho, 1 - clip, 1 + clip) * A)) - entropy * H`` with ``rho = pi(a) / pi_old(a)``,
    ``pi_old`` the policy that drew the batch and ``A = r - b`` (EMA baseline).

    Example::

        algo = PPO(lr=0.1, clip=0.2, epochs=4, batch_size=8, seed=0)
    """

    def __init__(self, lr: float = 0.1, entropy: float = 1e-4, baseline_decay: float = 0.9, *, clip: float = 0.2,
                 epochs: int = 4, batch_size: int = 8, betas: tuple[float, float] = (0.9, 0.999),
                 max_bins: int = 16, failure_reward: Optional[float] = None, avoid_seen: bool = True,
                 max_retries: int = 20, seed: Optional[int] = None) -> None:
        super().__init__(lr, entropy, baseline_decay, batch_size=batch_size, betas=betas, max_bins=max_bins,
                         failure_reward=failure_reward, avoid_seen=avoid_seen, max_retries=max_retries, seed=seed)
        if not clip > 0 or not epochs >= 1:
            raise SymnasError(f"PPO: clip must be > 0 and epochs >= 1, got clip={clip!r}, epochs={epochs!r}")
        self.clip, self.epochs = float(clip), int(epochs)

    def _loss(self, genomes: Sequence[Genome], adv: torch.Tensor, old: Optional[torch.Tensor]) -> torch.Tensor:
        assert old is not None  # _update computes the old log-probabilities for PPO
        ratio = torch.exp(self.policy.log_prob(genomes) - old)
        surr = torch.minimum(ratio * adv, torch.clamp(ratio, 1 - self.clip, 1 + self.clip) * adv)
        return -surr.mean() - self.entropy_weight * self.policy.entropy()
