"""Per-trial framework overhead of the ask/tell loop, and the cost of materialising + building a model.

Side by side in one run: symnas random search, Optuna's RandomSampler (in-memory) and PyGlove (``pg.sample`` with
``pg.geno.Random``), on (a) a 20-decision categorical space and (b) a conditional space; the objective is trivial
so only the framework's own time is measured. Then the time to materialise a description and build the
``nn.Module`` of a 20-block model: symnas vs PyGlove's decode of the same space vs plain torch construction.

    python benchmarks/overhead.py                 # 10,000 trials for symnas/Optuna, 1,000 for PyGlove
    python benchmarks/overhead.py --quick
"""
from __future__ import annotations

import argparse
import random
import statistics
import time
import warnings

import symnas as sn


def cat_space_sn(n: int = 20) -> sn.Space:
    return sn.Space({f"d{i}": sn.oneof(list(range(5))) for i in range(n)})


def cond_space_sn(n: int = 5) -> sn.Space:
    return sn.Space({f"layer{i}": sn.oneof([
        {"kind": "conv", "kernel": sn.oneof([3, 5, 7]), "width": sn.oneof([16, 32, 64])},
        {"kind": "pool", "type": sn.oneof(["max", "avg"])},
        {"kind": "mlp", "ratio": sn.floatv(1.0, 4.0)},
    ]) for i in range(n)})


def run_symnas(space: sn.Space, trials: int) -> float:
    study = sn.Study(space, sn.algorithms.RandomSearch(seed=0))
    t = time.perf_counter()
    for _ in range(trials):
        trial = study.ask()
        study.tell(trial, 1.0)
    return (time.perf_counter() - t) / trials


def run_optuna(kind: str, trials: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), direction="maximize")

    def ask_tell() -> None:
        tr = study.ask()
        if kind == "cat":
            for i in range(20):
                tr.suggest_categorical(f"d{i}", list(range(5)))
        else:
            for i in range(5):
                k = tr.suggest_categorical(f"layer{i}", ["conv", "pool", "mlp"])
                if k == "conv":
                    tr.suggest_categorical(f"layer{i}.kernel", [3, 5, 7])
                    tr.suggest_categorical(f"layer{i}.width", [16, 32, 64])
                elif k == "pool":
                    tr.suggest_categorical(f"layer{i}.type", ["max", "avg"])
                else:
                    tr.suggest_float(f"layer{i}.ratio", 1.0, 4.0)
        study.tell(tr, 1.0)

    t = time.perf_counter()
    for _ in range(trials):
        ask_tell()
    return (time.perf_counter() - t) / trials


def run_pyglove(kind: str, trials: int) -> float:
    import pyglove as pg

    if kind == "cat":
        space = pg.Dict({f"d{i}": pg.oneof(list(range(5))) for i in range(20)})
    else:
        space = pg.Dict({f"layer{i}": pg.oneof([
            pg.Dict(kind="conv", kernel=pg.oneof([3, 5, 7]), width=pg.oneof([16, 32, 64])),
            pg.Dict(kind="pool", type=pg.oneof(["max", "avg"])),
            pg.Dict(kind="mlp", ratio=pg.floatv(1.0, 4.0)),
        ]) for i in range(5)})
    t = time.perf_counter()
    for _, feedback in pg.sample(space, pg.geno.Random(seed=0), num_examples=trials):
        feedback(1.0)
    return (time.perf_counter() - t) / trials


# ---------------------------------------------------------------------------------------------- building
def build_benchmark(repeats: int) -> dict[str, float]:
    import pyglove as pg
    import torch
    import torch.nn as nn

    class Block(nn.Module):
        def __init__(self, c: int, kernel: int = 3, act: type = nn.ReLU) -> None:
            super().__init__()
            self.conv = nn.Conv2d(c, c, kernel, padding=kernel // 2)
            self.bn = nn.BatchNorm2d(c)
            self.act = act()

        def forward(self, x):  # pragma: no cover - not run
            return self.act(self.bn(self.conv(x)))

    class Net(nn.Module):
        def __init__(self, blocks: list) -> None:
            super().__init__()
            self.blocks = nn.Sequential(*blocks)

    SBlock, SNet = sn.searchable(type("Block", (Block,), {})), sn.searchable(type("Net", (Net,), {}))
    acts = [nn.ReLU, nn.GELU, nn.SiLU]
    space = sn.Space(SNet(blocks=[SBlock(16, kernel=sn.oneof([3, 5, 7]), act=sn.oneof(acts)) for _ in range(20)]))
    genomes = [space.sample(seed=s) for s in range(repeats)]

    PBlock, PNet = pg.symbolize(type("PBlock", (Block,), {})), pg.symbolize(type("PNet", (Net,), {}))
    pspace = PNet(blocks=[PBlock(16, kernel=pg.oneof([3, 5, 7]), act=pg.oneof(acts)) for _ in range(20)])
    spec = pg.dna_spec(pspace)
    dnas = [pg.random_dna(spec, random.Random(s)) for s in range(repeats)]

    def timed(fn, items) -> float:
        times = []
        for it in items:
            t = time.perf_counter()
            fn(it)
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    torch.set_num_threads(1)
    out = {
        "symnas decode (description only)": timed(space.decode, genomes),
        "symnas decode + build": timed(lambda g: space.build(g), genomes),
        "PyGlove materialize (decode; builds the modules)": timed(lambda d: pg.materialize(pspace, d), dnas),
        "plain torch construction": timed(
            lambda g: Net([Block(16, kernel=k, act=a) for k, a in
                           ((3 + 2 * g[2 * i], acts[g[2 * i + 1]]) for i in range(20))]), genomes),
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--pg-trials", type=int, default=1_000, help="PyGlove is ~50x slower: fewer trials")
    ap.add_argument("--build-repeats", type=int, default=30)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.trials, args.pg_trials, args.build_repeats = 1000, 100, 5
    warnings.filterwarnings("ignore")

    print(f"Per-trial ask+tell overhead (random search, trivial objective; symnas/Optuna {args.trials} trials, "
          f"PyGlove {args.pg_trials})")
    print(f"{'space':<14} {'symnas':>10} {'Optuna':>10} {'PyGlove':>10} {'Optuna/symnas':>14} {'PyGlove/symnas':>15}")
    for kind, space in (("categorical20", cat_space_sn()), ("conditional", cond_space_sn())):
        k = "cat" if kind.startswith("cat") else "cond"
        s = run_symnas(space, args.trials)
        o = run_optuna(k, args.trials)
        p = run_pyglove(k, args.pg_trials)
        print(f"{kind:<14} {s * 1e3:>8.3f}ms {o * 1e3:>8.3f}ms {p * 1e3:>8.2f}ms {o / s:>13.1f}x {p / s:>14.1f}x")

    print(f"\nMaterialise + build a 20-block model (median of {args.build_repeats})")
    res = build_benchmark(args.build_repeats)
    base = res["plain torch construction"]
    for name, t in res.items():
        print(f"{name:<52} {t * 1e3:>8.2f} ms   {t / base:>6.2f}x plain torch")


if __name__ == "__main__":
    main()
