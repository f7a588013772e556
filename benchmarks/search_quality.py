"""Search quality on NAS-Bench-201 CIFAR-10: symnas's algorithms beside PyGlove's regularized evolution, Optuna's
TPE and random search, same budget, same table.

The budget is counted in evaluations performed: symnas runs with a genome dedup cache (a repeated candidate is
served from the cache and costs nothing); the peers re-evaluate repeats and pay for them. The figure reported is
the best validation accuracy (noise-free mean over training seeds) of the candidate each search ranks best after
n evaluations; with ``--noise`` the searches see one training seed's accuracy drawn per evaluation, and the
reported figure is still the mean accuracy of the candidate they rank best. Multi-objective: accuracy x latency on
two devices, hypervolume of the evaluated set (normalised by the table's ranges) for symnas NSGA-II, random search
and Optuna's NSGA-II sampler. Also: per-trial overhead of regularized evolution with 10,000 trials of history
against Optuna's RandomSampler, and PPO's per-trial cost.

Hyperparameters were chosen on seeds 1000+ (``--tune``), never on the reported seeds 0..N-1.

Usage::

    nice python benchmarks/search_quality.py --seeds 100 --out benchmarks/results
    python benchmarks/search_quality.py --quick
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from typing import Callable

import numpy as np

import symnas as sn
from symnas import algorithms as A
from symnas.evaluator.benchmark import nasbench201_space
from symnas.evaluator.nasbench201 import NASBench201Table
from symnas.hash.dedup import Dedup

BUDGET = 150
DEDUP_KEY = "structural"  # set from --dedup
POW5 = np.array([5 ** e for e in range(6)])


class Bench:
    """The table as arrays indexed by cell code, and per-run reward functions."""

    def __init__(self) -> None:
        self.table = NASBench201Table.load()
        self.acc = np.asarray(self.table.column("val_acc"))
        self.time = np.asarray(self.table.column("train_time_s"))
        self.seeds: dict[int, list] = {}

    def code(self, genome) -> int:
        return int(np.dot(POW5, genome))

    def reward(self, c: int, noise_rng) -> float:
        if noise_rng is None:
            return float(self.acc[c])
        s = self.seeds.get(c)
        if s is None:
            from symnas.evaluator.nasbench201 import ops_of
            s = self.seeds[c] = self.table.seeds(ops_of(c))
        return float(s[int(noise_rng.integers(len(s)))])


def curve(codes: list[int], rewards: list[float], bench: Bench) -> tuple[np.ndarray, np.ndarray]:
    """Mean accuracy of the best-ranked candidate after each evaluation, and cumulative simulated time."""
    best_r, best_acc, out, t, times = -math.inf, 0.0, [], 0.0, []
    for c, r in zip(codes, rewards):
        if r > best_r:
            best_r, best_acc = r, float(bench.acc[c])
        t += float(bench.time[c])
        out.append(best_acc)
        times.append(t)
    out = (out + [out[-1]] * BUDGET)[:BUDGET]
    times = (times + [times[-1]] * BUDGET)[:BUDGET]
    return np.array(out), np.array(times)


def run_symnas(make: Callable[[int], A.Algorithm], seed: int, bench: Bench, noise: bool):
    rng = np.random.default_rng((seed, 7)) if noise else None
    codes, rewards = [], []

    def evaluate(trial):
        c = bench.code(trial.genome)
        r = bench.reward(c, rng)
        codes.append(c)
        rewards.append(r)
        return r

    study = sn.Study(nasbench201_space(), make(seed), dedup=Dedup(key=DEDUP_KEY))
    study.optimize(evaluate, n_trials=BUDGET)
    return codes, rewards


def run_pyglove(seed: int, bench: Bench, noise: bool, population: int, tournament: int):
    import pyglove as pg
    rng = np.random.default_rng((seed, 7)) if noise else None
    space = pg.List([pg.oneof(list(range(5))) for _ in range(6)])
    codes, rewards = [], []
    algo = pg.evolution.regularized_evolution(population_size=population, tournament_size=tournament, seed=seed)
    for ops, fb in pg.sample(space, algo, num_examples=BUDGET):
        c = bench.code(list(ops))
        r = bench.reward(c, rng)
        codes.append(c)
        rewards.append(r)
        fb(r)
    return codes, rewards


def run_optuna(sampler: str, seed: int, bench: Bench, noise: bool):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = np.random.default_rng((seed, 7)) if noise else None
    s = optuna.samplers.TPESampler(seed=seed) if sampler == "tpe" else optuna.samplers.RandomSampler(seed=seed)
    study = optuna.create_study(direction="maximize", sampler=s)
    codes, rewards = [], []

    def f(t):
        g = [t.suggest_categorical(f"e{i}", list(range(5))) for i in range(6)]
        c = bench.code(g)
        r = bench.reward(c, rng)
        codes.append(c)
        rewards.append(r)
        return r

    study.optimize(f, n_trials=BUDGET)
    return codes, rewards


def symnas_algorithms(cfg: dict) -> dict[str, Callable[[int], A.Algorithm]]:
    return {
        "symnas evolution": lambda s: A.RegularizedEvolution(cfg["P"], cfg["S"], seed=s),
        "symnas PPO": lambda s: A.PPO(lr=cfg["ppo_lr"], batch_size=cfg["ppo_batch"], epochs=cfg["ppo_epochs"],
                                      entropy=1e-4, baseline_decay=0.9, seed=s),
        "symnas REINFORCE": lambda s: A.Reinforce(lr=cfg["rl_lr"], entropy=1e-4, baseline_decay=0.9, seed=s),
        "symnas TPE": lambda s: A.TPE(seed=s),
        "symnas random": lambda s: A.RandomSearch(seed=s),
    }


def run_all(seeds: list[int], noise: bool, bench: Bench, cfg: dict, peers: bool = True, only=None,
            pyglove_seeds: int | None = None):
    runs: dict[str, list] = {}
    algos = symnas_algorithms(cfg)
    jobs: list[tuple[str, Callable]] = [(n, (lambda m: lambda s: run_symnas(m, s, bench, noise))(m))
                                        for n, m in algos.items()]
    if peers:
        jobs += [("PyGlove evolution", lambda s: run_pyglove(s, bench, noise, cfg["P"], cfg["S"])),
                 ("Optuna TPE", lambda s: run_optuna("tpe", s, bench, noise)),
                 ("Optuna random", lambda s: run_optuna("random", s, bench, noise))]
    for name, fn in jobs:
        if only and name not in only:
            continue
        t0 = time.process_time()
        use = seeds[:pyglove_seeds] if name.startswith("PyGlove") and pyglove_seeds else seeds
        curves = [curve(*fn(s), bench) for s in use]
        runs[name] = curves
        print(f"  {name}: {len(use)} seeds, {time.process_time() - t0:.1f} s CPU", file=sys.stderr, flush=True)
    return runs


def ci95(x: np.ndarray) -> tuple[float, float]:
    m = float(np.mean(x))
    h = 1.96 * float(np.std(x, ddof=1)) / math.sqrt(len(x)) if len(x) > 1 else 0.0
    return m, h


def welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Difference of means ``mean(a) - mean(b)`` and its two-sided p-value (Welch's t, normal approximation: 100
    seeds per side)."""
    d = float(np.mean(a) - np.mean(b))
    se = math.sqrt(float(np.var(a, ddof=1)) / len(a) + float(np.var(b, ddof=1)) / len(b))
    return d, (math.erfc(abs(d) / se / math.sqrt(2.0)) if se > 0 else (0.0 if d else 1.0))


REFERENCE = "Optuna TPE"  # the difference column compares each row with this peer


def table_md(runs: dict, title: str) -> str:
    lines = [f"### {title}", "", "| algorithm | seeds | best@50 | best@100 | best@150 (mean ± 95% CI) | "
             f"best@150 − {REFERENCE} (p, Welch) | median time to 150 (s) |", "|---|---|---|---|---|---|---|"]
    ref = np.array([c[0][-1] for c in runs[REFERENCE]]) if REFERENCE in runs else None
    for name, curves in sorted(runs.items(), key=lambda kv: -np.mean([c[0][-1] for c in kv[1]])):
        acc = np.array([c[0] for c in curves])
        fmt = [f"{ci95(acc[:, i])[0]:.3f}" for i in (49, 99)]
        m, h = ci95(acc[:, -1])
        diff = "" if ref is None or name == REFERENCE else "{:+.3f} (p = {:.2g})".format(*welch(acc[:, -1], ref))
        tmed = float(np.median([c[1][-1] for c in curves]))
        lines.append(f"| {name} | {len(curves)} | {fmt[0]} | {fmt[1]} | {m:.3f} ± {h:.3f} | {diff} | {tmed:.0f} |")
    return "\n".join(lines) + "\n"


def plot(runs_by_title: dict, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(runs_by_title), 2, figsize=(13, 4.5 * len(runs_by_title)), squeeze=False)
    for row, (title, runs) in enumerate(runs_by_title.items()):
        ax, bx = axes[row]
        tmax = min(float(np.median([c[1][-1] for c in cs])) for cs in runs.values())
        grid = np.linspace(0, tmax, 200)
        for name, curves in runs.items():
            acc = np.array([c[0] for c in curves])
            m, h = acc.mean(0), 1.96 * acc.std(0, ddof=1) / math.sqrt(len(acc))
            x = np.arange(1, BUDGET + 1)
            ax.plot(x, m, label=name)
            ax.fill_between(x, m - h, m + h, alpha=0.2)
            at = np.array([[c[0][min(np.searchsorted(c[1], t, side="right"), BUDGET - 1)] if t >= c[1][0] else np.nan
                            for t in grid] for c in curves])
            mt = np.nanmean(at, 0)
            bx.plot(grid, mt, label=name)
        for a, xl in ((ax, "unique evaluations"), (bx, "simulated training time (s)")):
            a.set_ylim(89.5, 91.7)
            a.axhline(91.61, color="k", lw=0.5, ls="--")
            a.set_xlabel(xl)
            a.set_ylabel("best validation accuracy (%)")
            a.set_title(title)
            a.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


# -- multi-objective ---------------------------------------------------------------------------------------
def hypervolume2(points: np.ndarray) -> float:
    """Hypervolume of 2-D points (both maximised, normalised to [0, 1], reference (0, 0))."""
    pts = points[np.argsort(-points[:, 0])]
    hv, best_y = 0.0, 0.0
    for x, y in pts:
        if y > best_y:
            hv += x * (y - best_y)
            best_y = y
    return hv


def run_mo(seeds: list[int], bench: Bench, device: str) -> dict[str, list[float]]:
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    lat = np.asarray(bench.table.column(device))
    ok = ~np.isnan(lat) & ~np.isnan(bench.acc)
    a_lo, a_hi = np.nanmin(bench.acc[ok]), np.nanmax(bench.acc[ok])
    l_lo, l_hi = np.nanmin(lat[ok]), np.nanmax(lat[ok])

    def norm(c: int) -> tuple[float, float]:
        return ((bench.acc[c] - a_lo) / (a_hi - a_lo), (l_hi - lat[c]) / (l_hi - l_lo))

    out: dict[str, list[float]] = {"symnas NSGA-II": [], "symnas random": [], "Optuna NSGA-II": []}
    for s in seeds:
        for name, algo in (("symnas NSGA-II", A.NSGA2(population_size=20, seed=s)),
                           ("symnas random", A.RandomSearch(seed=s))):
            pts = []

            def f(trial):
                c = bench.code(trial.genome)
                pts.append(norm(c))
                return (float(bench.acc[c]), float(lat[c]))

            sn.Study(nasbench201_space(), algo, objectives={"acc": "max", "lat": "min"},
                     dedup=Dedup(key=DEDUP_KEY)).optimize(f, n_trials=BUDGET)
            out[name].append(hypervolume2(np.array(pts)))
        st = optuna.create_study(directions=["maximize", "minimize"],
                                 sampler=optuna.samplers.NSGAIISampler(seed=s, population_size=20))
        pts = []

        def g(t):
            c = bench.code([t.suggest_categorical(f"e{i}", list(range(5))) for i in range(6)])
            pts.append(norm(c))
            return float(bench.acc[c]), float(lat[c])

        st.optimize(g, n_trials=BUDGET)
        out["Optuna NSGA-II"].append(hypervolume2(np.array(pts)))
    allpts = np.array([norm(c) for c in np.nonzero(ok)[0]])
    out["(true front of the table)"] = [hypervolume2(allpts)]
    return out


# -- overhead ----------------------------------------------------------------------------------------------
def overhead(history: int = 10_000, measure: int = 2_000) -> list[str]:
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    table = nasbench201_space().table
    rng = np.random.default_rng(0)
    lines = ["| what | per-trial time (ms) |", "|---|---|"]
    algo = A.RegularizedEvolution(10, 10, seed=0).setup(table)
    for _ in range(history):
        g = algo.propose()
        algo.feedback(g, (float(rng.random()),))
    t0 = time.perf_counter()
    for _ in range(measure):
        g = algo.propose()
        algo.feedback(g, (float(rng.random()),))
    lines.append(f"| symnas evolution propose+feedback, {history} history | {(time.perf_counter() - t0) / measure * 1e3:.3f} |")
    study = sn.Study(nasbench201_space(), A.RegularizedEvolution(10, 10, seed=0))
    study.optimize(lambda t: float(rng.random()), history)
    t0 = time.perf_counter()
    study.optimize(lambda t: float(rng.random()), measure)
    lines.append(f"| symnas evolution in a Study (ask+tell, MemoryStore), {history} history | "
                 f"{(time.perf_counter() - t0) / measure * 1e3:.3f} |")
    ost = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))

    def f(t):
        [t.suggest_categorical(f"e{i}", list(range(5))) for i in range(6)]
        return float(rng.random())

    ost.optimize(f, n_trials=history)
    t0 = time.perf_counter()
    ost.optimize(f, n_trials=measure)
    lines.append(f"| Optuna RandomSampler in-memory, {history} history | {(time.perf_counter() - t0) / measure * 1e3:.3f} |")
    t0 = time.perf_counter()
    sn.Study(nasbench201_space(), A.TPE(seed=0)).optimize(lambda t: float(rng.random()), BUDGET)
    lines.append(f"| symnas TPE in a Study, {BUDGET} trials | {(time.perf_counter() - t0) / BUDGET * 1e3:.3f} |")
    t0 = time.perf_counter()
    optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0)).optimize(f, n_trials=BUDGET)
    lines.append(f"| Optuna TPESampler in-memory, {BUDGET} trials | {(time.perf_counter() - t0) / BUDGET * 1e3:.3f} |")
    for name, a in (("PPO (batch 8, 4 epochs)", A.PPO(seed=0)), ("REINFORCE", A.Reinforce(lr=0.5, seed=0))):
        a.setup(table)
        t0 = time.perf_counter()
        for _ in range(400):
            g = a.propose()
            a.feedback(g, (float(rng.random()),))
        lines.append(f"| symnas {name} propose+feedback (6x5 logits) | {(time.perf_counter() - t0) / 400 * 1e3:.3f} |")
    return lines


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=100)
    p.add_argument("--dedup", choices=["genome", "structural"], default="structural",
                   help="symnas's dedup key: exact genome repeats, or isomorphic cells (NAS-Bench-201 structural hash)")
    p.add_argument("--noise-seeds", type=int, default=None, help="seeds for the noisy-reward table (default --seeds)")
    p.add_argument("--mo-seeds", type=int, default=None, help="seeds for the multi-objective part (default --seeds)")
    p.add_argument("--pyglove-seeds", type=int, default=None, help="fewer seeds for PyGlove (~60 ms per trial)")
    p.add_argument("--quick", action="store_true", help="5 seeds, no overhead measurement")
    p.add_argument("--tune", action="store_true", help="hyperparameter sweep on seeds 1000+ (symnas only)")
    p.add_argument("--skip", default="", help="comma-separated parts to skip: noise,mo,overhead,plot")
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    args = p.parse_args(argv)
    global DEDUP_KEY
    DEDUP_KEY = args.dedup
    n = 5 if args.quick else args.seeds
    skip = set(filter(None, args.skip.split(",")))
    if args.quick:
        skip.add("overhead")
    bench = Bench()
    cfg = {"P": 10, "S": 10, "ppo_lr": 0.1, "ppo_batch": 4, "ppo_epochs": 4, "rl_lr": 0.5}  # from --tune (seeds 1000+)
    if args.tune:
        seeds = list(range(1000, 1000 + n))
        grid = [(P, S) for P in (8, 10, 12, 16, 20, 30, 50) for S in sorted({3, 5, 7, 10, P}) if S <= P]
        for P, S in grid:
            c = dict(cfg, P=P, S=S)
            r = run_all(seeds, False, bench, c, peers=False, only={"symnas evolution"})
            print(f"evolution P={P} S={S}: {np.mean([x[0][-1] for x in r['symnas evolution']]):.3f}")
        for lr, b, e in ((0.05, 8, 4), (0.1, 8, 4), (0.2, 8, 4), (0.1, 4, 4), (0.2, 4, 2)):
            c = dict(cfg, ppo_lr=lr, ppo_batch=b, ppo_epochs=e)
            r = run_all(seeds, False, bench, c, peers=False, only={"symnas PPO"})
            print(f"PPO lr={lr} batch={b} epochs={e}: {np.mean([x[0][-1] for x in r['symnas PPO']]):.3f}")
        return
    os.makedirs(args.out, exist_ok=True)
    seeds = list(range(n))
    md = [f"# Search quality on NAS-Bench-201 CIFAR-10 ({BUDGET} evaluations)", "",
          f"Settings: {cfg}; symnas dedup key: {DEDUP_KEY}; reported seeds 0..{n - 1}.", ""]
    titles = {}
    print("noise-free", file=sys.stderr)
    titles["noise-free mean accuracy as reward"] = run_all(seeds, False, bench, cfg, pyglove_seeds=args.pyglove_seeds)
    md.append(table_md(titles["noise-free mean accuracy as reward"], f"Noise-free reward, {n} seeds"))
    if "noise" not in skip:
        ns = list(range(args.noise_seeds if args.noise_seeds and not args.quick else n))
        print("noisy", file=sys.stderr)
        titles["noisy reward (one training seed drawn)"] = run_all(ns, True, bench, cfg, pyglove_seeds=args.pyglove_seeds)
        md.append(table_md(titles["noisy reward (one training seed drawn)"],
                           f"Noisy reward (one seed drawn per evaluation), {len(ns)} seeds; figure = mean accuracy "
                           "of the candidate ranked best"))
    if "mo" not in skip:
        ms = list(range(args.mo_seeds if args.mo_seeds and not args.quick else n))
        for dev in ("lat_1080ti_1", "lat_titanx_1"):
            dev = dev if dev in bench.table.metric_names else bench.table.metric_names[4]
            print("multi-objective", dev, file=sys.stderr)
            hv = run_mo(ms, bench, dev)
            md += [f"### Hypervolume, accuracy x {dev} ({len(ms)} seeds, normalised, ref (worst, worst))", "",
                   "| algorithm | hypervolume (mean ± 95% CI) |", "|---|---|"]
            for k, v in hv.items():
                m, h = ci95(np.array(v))
                md.append(f"| {k} | {m:.4f} ± {h:.4f} |")
            md.append("")
    if "overhead" not in skip:
        print("overhead", file=sys.stderr)
        md += ["### Per-trial overhead (trivial objective)", ""] + overhead() + [""]
    if "plot" not in skip:
        png = os.path.join(args.out, "search_quality.png")
        plot(titles, png)
        md.append(f"Curves: `{os.path.basename(png)}`.")
    text = "\n".join(md)
    print(text)
    with open(os.path.join(args.out, "search_quality.md"), "w") as fh:
        fh.write(text + "\n")


if __name__ == "__main__":
    main()
