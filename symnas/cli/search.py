"""``symnas search SPACE``: run (or resume) a search and print its result.

Example::

    symnas search nasbench201 --benchmark nasbench201 --algorithm evolution --trials 150 --store runs.db --json
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Any, Callable, Optional

from symnas.errors import SymnasError

__all__ = ["add_parser", "run_search", "load_space", "load_evaluator", "make_algorithm", "parse_options",
           "UsageError"]


class UsageError(SymnasError, ValueError):
    """A bad command line (exit code 2)."""



def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value

def add_parser(sub: Any) -> None:
    p = sub.add_parser("search", help="run or resume a search", description=(
        "Run a search over SPACE (a DSL file or a built-in space name). With --store, rerunning the same command "
        "resumes the study: --trials is the study's total number of evaluations."))
    p.add_argument("space", help="a DSL file or a built-in space name (e.g. nasbench201)")
    p.add_argument("--algorithm", default=None,
                   help="search algorithm name (default: local-search for one objective, nsga2 for several: the "
                        "strongest measured, see BENCHMARKS.md)")
    p.add_argument("-o", "--option", action="append", default=[], metavar="KEY=VALUE",
                   help="an argument of the algorithm, repeatable, value read as JSON where it parses "
                        "(e.g. -o population_size=10 -o tournament_size=10)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--benchmark", choices=["nasbench201"], help="evaluate by table lookup")
    src.add_argument("--evaluator", metavar="MODULE:FUNCTION",
                     help="evaluate with FUNCTION(trial) -> value from an importable module")
    p.add_argument("--table", metavar="FILE", help="another NAS-Bench-201 table (CSV or CSV.gz, same columns)")
    p.add_argument("--metric", default="val_acc",
                   help="benchmark metric(s), comma-separated, e.g. val_acc or val_acc,params_mb")
    p.add_argument("--objectives", metavar="SPEC",
                   help="objective directions, e.g. max, min or acc:max,lat:min (default: max; for several "
                        "--metric values: accuracy-like max, others min)")
    p.add_argument("--trials", type=int, default=100, help="total evaluations of the study (default: 100)")
    p.add_argument("--seed", type=int, default=0, help="seed of the algorithm (default: 0)")
    p.add_argument("--store", metavar="PATH", help="SQLite store file (default: in memory, nothing kept)")
    p.add_argument("--name", default="study", help="study name in the store (default: study)")
    p.add_argument("--switch-algorithm", action="store_true",
                   help="continue a stored study under another --algorithm (or --option) than it was run with; the "
                        "new algorithm learns the stored results")
    p.add_argument("--workers", type=int, default=1, help="parallel evaluations (default: 1)")
    p.add_argument("--backend", choices=["serial", "process", "ray"], default=None,
                   help="executor (default: serial for 1 worker, else process)")
    p.add_argument("--timeout", type=_positive_seconds, help="seconds per evaluation (the trial fails past it)")
    p.add_argument("--isolate", action="store_true",
                   help="serial backend: run each evaluation in a child process (a hard timeout, also against C "
                        "code; a crash is a failed trial, not the end of the search)")
    p.add_argument("--dedup", nargs="?", const="auto", choices=["none", "auto", "genome", "structural", "functional"],
                   default="none",
                   help="serve already-evaluated candidates from the dedup cache; bare --dedup means auto: the "
                        "functional key (same function, parameters and settings; docs/hashing.md), the canonical "
                        "genome where it cannot run (default: none)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the result")
    p.add_argument("--progress", choices=["auto", "on", "off"], default="auto",
                   help="progress bar (auto: only when stdout is a terminal)")
    p.set_defaults(func=run_search)


def load_space(spec: str) -> Any:
    """A DSL file, a foreign-format file or a ready space by name (``nasbench201``, ...) via ``symnas.dsl.load``."""
    from symnas.dsl import load

    return load(spec)


def load_evaluator(spec: str) -> Callable[[Any], Any]:
    """``module:function`` → the function (the current directory is importable, as for ``python -m``)."""
    if ":" not in spec:
        raise UsageError(f"--evaluator: expected MODULE:FUNCTION, got {spec!r}")
    mod, _, fn = spec.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(mod)
    except ImportError as exc:
        raise UsageError(f"--evaluator {spec}: cannot import module {mod!r}: {exc}") from None
    for part in fn.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"--evaluator {spec}: module {mod!r} has no attribute {fn!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise UsageError(f"--evaluator {spec}: {fn!r} is not callable")
    return obj


def parse_options(items: list[str]) -> dict[str, Any]:
    """``['population_size=10', 'crossover=true']`` -> ``{'population_size': 10, 'crossover': True}`` (values
    read as JSON where they parse, else kept as text)."""
    out: dict[str, Any] = {}
    for item in items:
        key, eq, text = item.partition("=")
        if not eq or not key.strip().isidentifier():
            raise UsageError(f"--option {item!r}: expected KEY=VALUE with KEY an argument name, "
                             "e.g. -o population_size=10")
        try:
            out[key.strip()] = json.loads(text)
        except ValueError:
            out[key.strip()] = text
    return out


def make_algorithm(name: str, seed: int, options: Optional[dict[str, Any]] = None) -> Any:
    """``symnas.algorithms.get(name, seed=seed, **options)``; a bad name or argument is a usage error."""
    import symnas.algorithms as algorithms

    try:
        return algorithms.get(name, seed=seed, **(options or {}))
    except SymnasError as exc:
        raise UsageError(f"--algorithm {name}: {exc}") from None


def _objectives(args: argparse.Namespace, metrics: list[str]) -> Any:
    if args.objectives:
        parts = [p.strip() for p in args.objectives.split(",") if p.strip()]
        if len(parts) == 1 and parts[0] in ("max", "min"):
            return parts[0] if len(metrics) == 1 else {metrics[0]: parts[0]}
        out = {}
        for p in parts:
            name, _, d = p.partition(":")
            if d not in ("max", "min"):
                raise UsageError(f"--objectives: expected NAME:max or NAME:min, got {p!r}")
            out[name] = d
        return out
    if args.benchmark and len(metrics) > 1:
        return {m: ("max" if "acc" in m else "min") for m in metrics}
    return "max"


def _dedup(kind: str, store: Any, name: str, space: Any, evaluator: Any = None) -> Any:
    """The dedup cache of ``--dedup``: ``auto`` picks the strongest correct key (the functional key of
    docs/hashing.md: on NAS-Bench-201 spaces hashed on the reduced probe network; elsewhere the candidate key with
    the evaluator's ``input_spec`` or an inferred probe), and the genome key where the functional key cannot run."""
    if kind == "none":
        return None
    from symnas.hash.dedup import Dedup

    description = space.decode(space.table.default_genome)
    nb201 = getattr(description, "path", "") == "symnas.models.nasbench201.NB201Network"
    probe = getattr(evaluator, "input_spec", None)
    options: dict[str, Any] = {}
    if kind in ("auto", "functional"):
        if nb201:
            from symnas.models.nasbench201 import nb201_probe_build

            options = {"build": nb201_probe_build, "probe_shape": (2, 3, 8, 8)}
        else:
            options = {"probe_shape": probe}
        if kind == "auto":
            from types import SimpleNamespace

            genome = space.table.default_genome
            probe_trial = SimpleNamespace(genome=genome, description=description, number=None,
                                          build=lambda seed=None: space.build(genome, seed=seed))
            try:
                Dedup(key="functional", **options).key(probe_trial)
                kind = "functional"
            except SymnasError as exc:
                print(f"--dedup: the functional key cannot run on this space ({exc}); using the genome key",
                      file=sys.stderr)
                kind, options = "genome", {}
    elif kind == "structural" and not nb201:
        raise UsageError("--dedup structural: this space has no cell the structural key can read (NAS-Bench-201 "
                         "cells only from the CLI); use --dedup functional or genome")
    cache = store.cache(name) if store is not None and store.supports("cache") else None
    return Dedup(key=kind, cache=cache, **options)


def run_search(args: argparse.Namespace) -> int:
    import symnas as sn
    from symnas.runtime import run

    if args.trials < 0 or args.workers < 1:
        raise UsageError("search: --trials must be >= 0 and --workers >= 1")
    space = load_space(args.space)
    metrics = [m.strip() for m in args.metric.split(",") if m.strip()]
    if args.evaluator:
        evaluator = load_evaluator(args.evaluator)
    elif args.benchmark == "nasbench201" or args.space == "nasbench201":
        from symnas.evaluator.benchmark import NASBench201Evaluator

        if args.table and not os.path.isfile(args.table):
            raise UsageError(f"--table: no such file {args.table!r}")
        evaluator = NASBench201Evaluator(table=args.table, metrics=metrics if len(metrics) > 1 else metrics[0])
    else:
        raise UsageError("search: give --benchmark nasbench201 or --evaluator MODULE:FUNCTION")
    store = None
    if args.store:
        from symnas.store.sqlite import SQLiteStore

        store = SQLiteStore(args.store)
    objectives = _objectives(args, metrics)
    name = args.algorithm or ("nsga2" if isinstance(objectives, dict) and len(objectives) > 1 else "local-search")
    algorithm = make_algorithm(name, args.seed, parse_options(args.option))
    study = sn.Study(space, algorithm, objectives=objectives, store=store, name=args.name,
                     dedup=_dedup(args.dedup, store, args.name, space, evaluator),
                     switch_algorithm=args.switch_algorithm)
    backend = args.backend or ("serial" if args.workers == 1 else "process")
    remaining = max(0, args.trials - study.stats["evaluations"])
    progress = {"auto": None, "on": True, "off": False}[args.progress]
    interrupted = False
    try:
        run(study, evaluator, remaining, backend=backend, workers=args.workers, timeout=args.timeout,
            progress=progress, isolate=args.isolate)
    except KeyboardInterrupt:
        interrupted = True
    result = _result(study)
    result["interrupted"] = interrupted
    if args.json:
        print(json.dumps(result))
    else:
        _print_result(result)
    return 130 if interrupted else 0


def _result(study: Any) -> dict[str, Any]:
    s = study.summary()
    out: dict[str, Any] = {"study": study.name, "objectives": study.objectives.to_dict(), "trials": s["trials"],
                           "evaluations": s["evaluations"], "dedup_hits": s["cached"], "failed": s["failed"],
                           "requeued": s["requeued"], "best_value": None, "best_values": None, "best_trial": None,
                           "best_genome": None, "best_params": None, "best_description": None}
    try:
        best = study.best_trial
    except SymnasError:
        return out
    from symnas.symbolic.jsonio import to_json

    out.update(best_value=best.values[0], best_values=dict(zip(study.objectives.names, best.values)),
               best_trial=best.number, best_genome=list(best.genome), best_params=best.params,
               best_description=json.loads(to_json(best.description)))
    if len(study.objectives) > 1:
        out["pareto_front"] = [{"trial": t.number, "values": list(t.values)} for t in study.pareto_front()]
    return out


def _print_result(r: dict[str, Any]) -> None:
    print(f"study {r['study']!r}: {r['trials']} trials, {r['evaluations']} evaluations, {r['dedup_hits']} dedup "
          f"hits, {r['failed']} failed" + (" (interrupted)" if r.get("interrupted") else ""))
    if r["best_value"] is None:
        print("no completed trial")
        return
    print(f"best {r['best_values']} (trial {r['best_trial']})")
    print("params: " + ", ".join(f"{k}={v}" for k, v in r["best_params"].items()))
