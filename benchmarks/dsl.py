"""Parse + compile time of DSL files: a generated 1,000-decision file (goal < 1 s) and each ready space.

Run: ``python benchmarks/dsl.py [--repeat 5]``; prints a markdown table (median and min of the repeats, seconds).
Parse = lark parsing of the text; load = parse + compile into a Space (including the constraint
satisfiability check for files that have constraints); dumps = printing the space back to text.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time
from importlib import resources

import symnas.dsl as dsl
from symnas.dsl.errors import Source
from symnas.dsl.parser import _parser, parse


def generated(n: int = 1000, seed: int = 0) -> str:
    """A space file with ``n`` decisions of every kind, some nested in choices, used by a build expression."""
    rng = random.Random(seed)
    lines = ['space "generated"', "let OPS = [\"conv\", \"pool\", \"skip\", \"zero\"]"]
    names = []
    i = 0
    while i < n:
        kinds = ["choice", "ordinal", "bool", "int", "float", "subset"] + (["nested"] if n - i >= 3 else [])
        kind = rng.choice(kinds)
        name = f"d{i}"
        if kind == "choice":
            lines.append(f"{name} = choice(*OPS)")
        elif kind == "ordinal":
            lines.append(f"{name} = ordinal(16, 32, 64, default=32)")
        elif kind == "bool":
            lines.append(f"{name} = bool()")
        elif kind == "int":
            lines.append(f"{name} = int(1, 64, step={rng.randint(1, 4)})")
        elif kind == "float":
            lines.append(f"{name} = float(1e-5, 1e-1, log=True)")
        elif kind == "subset":
            lines.append(f"{name} = subset(2, *OPS, sorted=True)")
        else:  # a choice with two nested decisions: 3 decisions
            lines.append(f"{name} = choice(a={{\"k\": int(1, 9)}}, b={{\"k\": float(0.0, 1.0)}})")
            i += 2
        names.append(name)
        i += 1
    lines.append("build {" + ", ".join(f'"{x}": {x}' for x in names) + "}")
    return "\n".join(lines) + "\n"


def timeit(fn, repeat: int, clock=time.perf_counter) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t = clock()
        fn()
        times.append(clock() - t)
    return statistics.median(times), min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    t = time.perf_counter()
    _parser()
    print(f"building the lark parser once per process: {time.perf_counter() - t:.3f} s\n")
    files = {"generated (1,000 decisions)": generated()}
    root = resources.files("symnas.spaces")
    for name in dsl.builtin_spaces():
        files[f"spaces/{name}.sns"] = root.joinpath(name + ".sns").read_text(encoding="utf-8")
    print("| file | lines | decisions | parse s (median / min) | load s (median / min) | load CPU s (median) "
          "| dumps s (median) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, text in files.items():
        space = dsl.loads(text)
        p_med, p_min = timeit(lambda: parse(Source(text)), args.repeat)
        l_med, l_min = timeit(lambda: dsl.loads(text), args.repeat)
        c_med, _ = timeit(lambda: dsl.loads(text), args.repeat, time.process_time)
        d_med, _ = timeit(lambda: dsl.dumps(space), args.repeat)
        print(f"| {label} | {text.count(chr(10))} | {len(space.decisions)} | {p_med:.4f} / {p_min:.4f} | "
              f"{l_med:.4f} / {l_min:.4f} | {c_med:.4f} | {d_med:.4f} |")


if __name__ == "__main__":
    main()
