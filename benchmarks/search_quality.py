"""Search quality on NAS-Bench-201 CIFAR-10: symnas's algorithms beside Optuna, PyGlove and random search, under
one protocol.

Protocol (the same for every row):

* A **query** is one evaluation of a cell and costs one unit of the budget (150), repeats included.
* **cached** rows put an exact-cell cache in front of the search: a repeated cell is answered from the cache, free
  (for symnas and for the peers alike; the cache is outside the algorithm). Uncached rows pay for repeats.
* **Noise**: the reward of the k-th query of cell c in run s is one recorded training seed's validation accuracy,
  chosen by ``default_rng((s, c, k))``: the same for every algorithm, so noisy runs pair seed by seed. A cache
  answers a repeat with the first reward it saw.
* The figure is the noise-free mean validation accuracy of the cell the search **ranks best** after n queries
  (its best observed reward; symnas LocalSearch ranks by its mean over repeated measurements).
* Per row: mean ± standard error over the seeds at 50/100/150 queries, the paired Wilcoxon signed-rank test and
  wins/losses of the default search (``symnas local-search``) against the row, the median number of queries until
  the ranked-best cell is the table's optimum (rows that do not reach it in half the seeds show ">150"), and the
  relative improvement over the average architecture of the table (RI, Yang et al. 2020:
  ``100 * (acc - mean_acc) / mean_acc``).
* Settings were tuned on seeds 1000+ (``--tune``), never on the reported seeds 0..N-1. Versions are printed.

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
from typing import Any, Callable, Optional

import numpy as np

import symnas as sn
from symnas import algorithms as A
from symnas.evaluator.benchmark import nasbench201_space
from symnas.evaluator.nasbench201 import NASBench201Table, ops_of

BUDGET = 150
POW5 = np.array([5 ** e for e in range(6)])
DEFAULT = "symnas local-search"


class Bench:
    """The table as arrays indexed by cell code."""

    def __init__(self) -> None:
        self.table = NASBench201Table.load()
        self.acc = np.asarray(self.table.column("val_acc"))
        self.optimum = float(np.nanmax(self.acc))
        self.mean_acc = float(np.nanmean(self.acc))
        self._seeds: dict[int, list[float]] = {}

    def code(self, genome) -> int:
        return int(np.dot(POW5, list(genome)))

    def seeds(self, c: int) -> list[float]:
        s = self._seeds.get(c)
        if s is None:
            s = self._seeds[c] = self.table.seeds(ops_of(c))
        return s


class Oracle:
    """One run's query counter: noise by (run seed, cell, k), and an optional exact-cell cache."""

    def __init__(self, bench: Bench, seed: int, noise: bool, cached: bool) -> None:
        self.bench, self.seed, self.noise, self.cached = bench, seed, noise, cached
        self.count: dict[int, int] = {}
        self.cache: dict[int, float] = {}
        self.evals = 0
        self.ranked: list[int] = []  # the cell ranked best after each query

    def query(self, c: int) -> tuple[float, bool]:
        """The reward of cell ``c`` and whether it cost a query."""
        if self.cached and c in self.cache:
            return self.cache[c], False
        k = self.count.get(c, 0)
        self.count[c] = k + 1
        if self.noise:
            s = self.bench.seeds(c)
            r = float(s[int(np.random.default_rng((self.seed, c, k)).integers(len(s)))])
        else:
            r = float(self.bench.acc[c])
        self.evals += 1
        self.cache.setdefault(c, r)
        return r, True

    @property
    def done(self) -> bool:
        return self.evals >= BUDGET


def drive(oracle: Oracle, ask: Callable[[], Any], cell_of: Callable[[Any], int], tell: Callable[[Any, float], None],
          ranked_best: Optional[Callable[[], Optional[int]]] = None) -> None:
    """The ask/tell loop every row runs: stops at the budget of queries (or after 30x the budget of asks)."""
    best_r, best_c = -math.inf, -1
    for _ in range(30 * BUDGET):
        if oracle.done:
            break
        t = ask()
        c = cell_of(t)
        r, paid = oracle.query(c)
        tell(t, r)
        if r > best_r:
            best_r, best_c = r, c
        if paid:
            rb = ranked_best() if ranked_best is not None else None
            oracle.ranked.append(best_c if rb is None else rb)


def run_symnas(make: Callable[[int], A.Algorithm], seed: int, bench: Bench, noise: bool, cached: bool) -> Oracle:
    o = Oracle(bench, seed, noise, cached)
    algo = make(seed)
    study = sn.Study(nasbench201_space(), algo)
    inc = getattr(algo, "incumbent", None)
    drive(o, study.ask, lambda t: bench.code(t.genome), study.tell,
          (lambda: None if inc() is None else bench.code(inc())) if inc is not None else None)
    return o


def run_pyglove(seed: int, bench: Bench, noise: bool, cached: bool, population: int, tournament: int) -> Oracle:
    import pyglove as pg
    o = Oracle(bench, seed, noise, cached)
    space = pg.List([pg.oneof(list(range(5))) for _ in range(6)])
    algo = pg.evolution.regularized_evolution(population_size=population, tournament_size=tournament, seed=seed)
    it = iter(pg.sample(space, algo, num_examples=30 * BUDGET))
    drive(o, lambda: next(it), lambda x: bench.code(list(x[0])), lambda x, r: x[1](r))
    return o


def run_optuna(sampler: str, seed: int, bench: Bench, noise: bool, cached: bool) -> Oracle:
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    o = Oracle(bench, seed, noise, cached)
    s = optuna.samplers.TPESampler(seed=seed) if sampler == "tpe" else optuna.samplers.RandomSampler(seed=seed)
    study = optuna.create_study(direction="maximize", sampler=s)

    def ask():
        t = study.ask()
        return t, [t.suggest_categorical(f"e{i}", list(range(5))) for i in range(6)]

    drive(o, ask, lambda x: bench.code(x[1]), lambda x, r: study.tell(x[0], r))
    return o


def rows(cfg: dict) -> dict[str, tuple[Callable, tuple[bool, ...]]]:
    """name -> (runner(seed, bench, noise, cached), the cache settings it runs with)."""
    def sym(make):
        return lambda s, b, n, c: run_symnas(make, s, b, n, c)
    both = (False, True)
    return {
        DEFAULT: (sym(lambda s: A.LocalSearch(seed=s)), both),
        "symnas evolution P10 S10": (sym(lambda s: A.RegularizedEvolution(10, 10, seed=s)), both),
        "symnas evolution P10 S3": (sym(lambda s: A.RegularizedEvolution(10, 3, seed=s)), both),
        "symnas TPE": (sym(lambda s: A.TPE(seed=s)), both),
        "symnas random": (sym(lambda s: A.RandomSearch(seed=s)), (False,)),
        "Optuna TPE (defaults)": (lambda s, b, n, c: run_optuna("tpe", s, b, n, c), both),
        "Optuna random": (lambda s, b, n, c: run_optuna("random", s, b, n, c), (False,)),
        "PyGlove evolution P10 S10": (lambda s, b, n, c: run_pyglove(s, b, n, c, 10, 10), (False,)),
    }


def run_all(seeds: list[int], noise: bool, bench: Bench, cfg: dict, only: Optional[set] = None,
            pyglove_seeds: Optional[int] = None) -> dict[str, list[Oracle]]:
    out: dict[str, list[Oracle]] = {}
    for name, (fn, caches) in rows(cfg).items():
        for cached in caches:
            label = f"{name}{' + cache' if cached else ''}"
            if only and name not in only and label not in only:
                continue
            use = seeds[:pyglove_seeds] if name.startswith("PyGlove") and pyglove_seeds else seeds
            t0 = time.process_time()
            out[label] = [fn(s, bench, noise, cached) for s in use]
            print(f"  {label}: {len(use)} seeds, {time.process_time() - t0:.1f} s CPU", file=sys.stderr, flush=True)
    return out


# -- statistics ------------------------------------------------------------------------------------------------
def curve(o: Oracle, bench: Bench) -> np.ndarray:
    acc = [float(bench.acc[c]) for c in o.ranked] or [float("nan")]
    return np.array((acc + [acc[-1]] * BUDGET)[:BUDGET])


def to_optimum(o: Oracle, bench: Bench) -> float:
    for i, c in enumerate(o.ranked):
        if bench.acc[c] >= bench.optimum - 1e-9:
            return float(i + 1)
    return math.inf


def wilcoxon(a: np.ndarray, b: np.ndarray) -> tuple[int, int, float]:
    """Wins, losses and the two-sided paired Wilcoxon signed-rank p of ``a`` against ``b`` (ties dropped)."""
    from scipy.stats import wilcoxon as w
    d = a - b
    wins, losses = int((d > 1e-12).sum()), int((d < -1e-12).sum())
    if wins + losses == 0:
        return wins, losses, 1.0
    return wins, losses, float(w(a, b, zero_method="wilcox").pvalue)


def table_md(runs: dict[str, list[Oracle]], bench: Bench, title: str) -> str:
    lines = [f"### {title}", "",
             f"| search | seeds | best@50 | best@100 | best@150 (mean ± se) | RI@150 | median queries to optimum | "
             f"{DEFAULT} vs row: Δ@150, wins/losses, Wilcoxon p |", "|---|---|---|---|---|---|---|---|"]
    curves = {k: np.array([curve(o, bench) for o in v]) for k, v in runs.items()}
    ref = curves.get(DEFAULT)
    for name in sorted(curves, key=lambda k: -curves[k][:, -1].mean()):
        c = curves[name]
        final = c[:, -1]
        se = final.std(ddof=1) / math.sqrt(len(final)) if len(final) > 1 else 0.0
        ri = 100 * (final.mean() - bench.mean_acc) / bench.mean_acc
        med = float(np.median([to_optimum(o, bench) for o in runs[name]]))
        med_s = ">150" if math.isinf(med) else f"{med:.0f}"
        cmp = ""
        if ref is not None and name != DEFAULT and len(ref) == len(c):
            wins, losses, p = wilcoxon(ref[:, -1], final)
            cmp = f"{ref[:, -1].mean() - final.mean():+.3f}, {wins}/{losses}, p = {p:.2g}"
        lines.append(f"| {name} | {len(c)} | {c[:, 49].mean():.3f} | {c[:, 99].mean():.3f} | {final.mean():.3f} ± "
                     f"{se:.3f} | {ri:.2f} | {med_s} | {cmp} |")
    return "\n".join(lines) + "\n"


def plot(runs_by_title: dict[str, dict[str, list[Oracle]]], bench: Bench, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(runs_by_title), figsize=(7 * len(runs_by_title), 5), squeeze=False)
    for ax, (title, runs) in zip(axes[0], runs_by_title.items()):
        for name, oracles in runs.items():
            acc = np.array([curve(o, bench) for o in oracles])
            m, h = acc.mean(0), acc.std(0, ddof=1) / math.sqrt(len(acc))
            x = np.arange(1, BUDGET + 1)
            ax.plot(x, m, label=name, lw=2 if name == DEFAULT else 1)
            ax.fill_between(x, m - h, m + h, alpha=0.15)
        ax.set_ylim(90.6, 91.65)
        ax.axhline(bench.optimum, color="k", lw=0.5, ls="--")
        ax.set_xlabel("queries (repeats cost one unless the row is cached)")
        ax.set_ylabel("mean accuracy of the ranked-best cell (%)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
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

            sn.Study(nasbench201_space(), algo, objectives={"acc": "max", "lat": "min"}).optimize(f, n_trials=BUDGET)
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
    for n_obs in (150,):
        ls = A.LocalSearch(seed=0).setup(table)
        for _ in range(n_obs):
            g = ls.propose()
            ls.feedback(g, (float(rng.random()),))
        t0 = time.perf_counter()
        reps = 200
        for _ in range(reps):
            g = ls.propose()
            ls.feedback(g, (float(rng.random()),))
        lines.append(f"| symnas LocalSearch propose+feedback after {n_obs} observations (next {reps}) | "
                     f"{(time.perf_counter() - t0) / reps * 1e3:.3f} |")
    for name, a in (("PPO (batch 8, 4 epochs)", A.PPO(seed=0)), ("REINFORCE", A.Reinforce(lr=0.5, seed=0))):
        a.setup(table)
        t0 = time.perf_counter()
        for _ in range(400):
            g = a.propose()
            a.feedback(g, (float(rng.random()),))
        lines.append(f"| symnas {name} propose+feedback (6x5 logits) | {(time.perf_counter() - t0) / 400 * 1e3:.3f} |")
    return lines


def versions() -> str:
    import importlib.metadata as md
    out = []
    for pkg in ("symnas", "optuna", "pyglove", "numpy", "torch"):
        try:
            out.append(f"{pkg} {md.version(pkg)}")
        except md.PackageNotFoundError:
            out.append(f"{pkg} (not installed)")
    return ", ".join(out)


def tune(bench: Bench, n: int) -> None:
    """Settings sweep on seeds 1000..1000+n-1 (never the reported seeds)."""
    seeds = list(range(1000, 1000 + n))
    for noise in (False, True):
        for init in (5, 10, 20):
            for restart in (1, 5):
                for every in (0, 10):
                    runs = [run_symnas(lambda s: A.LocalSearch(init, restart, reevaluate_every=every, seed=s), s,
                                       bench, noise, False) for s in seeds]
                    acc = np.array([curve(o, bench)[-1] for o in runs])
                    print(f"noise={noise} LocalSearch init={init} restart={restart} reevaluate_every={every}: "
                          f"{acc.mean():.3f} ± {acc.std(ddof=1) / math.sqrt(len(acc)):.3f}", flush=True)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=100)
    p.add_argument("--noise-seeds", type=int, default=None, help="seeds for the noisy-reward table (default --seeds)")
    p.add_argument("--mo-seeds", type=int, default=None, help="seeds for the multi-objective part (default --seeds)")
    p.add_argument("--pyglove-seeds", type=int, default=None, help="fewer seeds for PyGlove (~25 ms per query)")
    p.add_argument("--only", default="", help="comma-separated row names to run (default: all)")
    p.add_argument("--quick", action="store_true", help="5 seeds, no overhead measurement")
    p.add_argument("--tune", action="store_true", help="settings sweep on seeds 1000+ (symnas LocalSearch)")
    p.add_argument("--skip", default="", help="comma-separated parts to skip: noise,mo,overhead,plot")
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    args = p.parse_args(argv)
    n = 5 if args.quick else args.seeds
    skip = set(filter(None, args.skip.split(",")))
    only = set(filter(None, args.only.split(","))) or None
    if args.quick:
        skip.add("overhead")
    bench = Bench()
    cfg: dict = {}
    if args.tune:
        tune(bench, n)
        return
    os.makedirs(args.out, exist_ok=True)
    seeds = list(range(n))
    md = [f"# Search quality on NAS-Bench-201 CIFAR-10 ({BUDGET} queries per run)", "",
          f"Versions: {versions()}. Reported seeds 0..{n - 1}; table optimum {bench.optimum:.3f}, "
          f"average architecture {bench.mean_acc:.3f}.", ""]
    titles: dict[str, dict[str, list[Oracle]]] = {}
    print("noise-free", file=sys.stderr)
    titles["noise-free reward"] = run_all(seeds, False, bench, cfg, only, args.pyglove_seeds)
    md.append(table_md(titles["noise-free reward"], bench, f"Noise-free reward, {n} seeds"))
    if "noise" not in skip:
        ns = list(range(args.noise_seeds if args.noise_seeds and not args.quick else n))
        print("noisy", file=sys.stderr)
        titles["noisy reward"] = run_all(ns, True, bench, cfg, only, args.pyglove_seeds)
        md.append(table_md(titles["noisy reward"], bench,
                           f"Noisy reward (the k-th query of a cell returns one training seed chosen by (run, cell, "
                           f"k)), {len(ns)} seeds"))
    if "mo" not in skip:
        ms = list(range(args.mo_seeds if args.mo_seeds and not args.quick else n))
        for dev in ("lat_1080ti_1", "lat_titanx_1"):
            dev = dev if dev in bench.table.metric_names else bench.table.metric_names[4]
            print("multi-objective", dev, file=sys.stderr)
            hv = run_mo(ms, bench, dev)
            md += [f"### Hypervolume, accuracy x {dev} ({len(ms)} seeds, {BUDGET} queries each, repeats paid by "
                   "every side; normalised, ref (worst, worst))", "",
                   "| algorithm | hypervolume (mean ± 95% CI) |", "|---|---|"]
            for k, v in hv.items():
                arr = np.array(v)
                h = 1.96 * arr.std(ddof=1) / math.sqrt(len(arr)) if len(arr) > 1 else 0.0
                md.append(f"| {k} | {arr.mean():.4f} ± {h:.4f} |")
            md.append("")
    if "overhead" not in skip:
        print("overhead", file=sys.stderr)
        md += ["### Per-trial overhead (trivial objective)", ""] + overhead() + [""]
    if "plot" not in skip:
        png = os.path.join(args.out, "search_quality.png")
        plot(titles, bench, png)
        md.append(f"Curves: `{os.path.basename(png)}`.")
    text = "\n".join(md)
    print(text)
    with open(os.path.join(args.out, "search_quality.md"), "w") as fh:
        fh.write(text + "\n")


if __name__ == "__main__":
    main()
