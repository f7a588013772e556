"""Fuzzing the space language: grammar-aware and byte mutations of every file in spaces/, each loaded from a file
with ``symnas.dsl.load`` and, when it loads, inspected and printed back.

Counts inputs, symnas errors, other exceptions (each a bug: every failure on input must be a symnas error), loads,
inputs over the time limit, the slowest input and the process's peak memory. Non-symnas exceptions and slow inputs
are written to ``--out`` for replay.

Run: ``nice python benchmarks/fuzz_dsl.py --n 20000 [--seed 0] [--limit 2.0] [--out fuzz_failures]``.

Example (as the tests use it)::

    stats = run(300, seed=1)
    assert stats["other"] == 0 and stats["slow"] == 0
"""
from __future__ import annotations

import argparse
import os
import random
import re
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from importlib import resources
from typing import Any, Iterator, Optional

import symnas.dsl as dsl
from symnas.errors import SymnasError

_TOKEN = re.compile(r'''"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|#[^\n]*|\d+\.?\d*(?:[eE][+-]?\d+)?|[A-Za-z_]\w*|\*\*|//|==|!=|<=|>=|[ \t]+|\n|.''')

HOSTILE = [  # fragments inserted between tokens
    "(", ")", "[", "]", "{", "}", ",", ":", ".", "*", "**", "+", "-", "/", "//", "%", "==", "<", "not", "in",
    "and", "or", "if", "else", "for", "=", "\n", "let", "build", "require", "forbid", "import", "as", "meta",
    "space", "choice(", "int(", "float(", "bool()", "subset(", "permutation(", "repeat(", "ordinal(", "value(",
    "range(", "str(", "len(", "sum(", "reachable(", "connected(", "edges(", "10**20", "9" * 5000, "1e999",
    "-1", "0", "True", "None", "'s'", '"t"', "\\", "\x00", "\t", "é", "\u202e", "torch.nn.Linear(", "os.system(",
    "symnas.cli.search.os.system(", "name=", "default=", "log=True", "step=", "count=", "hints=",
]
STATEMENTS = [  # whole statements appended or inserted; {d} is a decision of the file, {n} a fresh name
    "require sum([{d} for i in range(100000)]) < 0",
    "let {n} = range(10**20)",
    "let {n} = [[i for i in range(1000)] for j in range(1000)]",
    "let {n} = [i * j for i in range(100000) for j in range(10)]",
    "let {n} = [0] * 100000\nlet {n}2 = [{n}] * 100000\nrequire {n}2 == [[0] * 100000] * 100000",
    "let {n} = str([[0] * 1000] * 1000)",
    'import "/dev/zero" as {n}',
    'import "secret.txt" as {n}',
    'import "a\\x00b.sns" as {n}',
    'import "../outside.sns" as {n}',
    'import "common.sns" as {n}',
    'import "case.sns" as {n}',
    'import "hp.json" as {n}',
    "require reachable([[0, {d}], [0, 0]], 0, 99)",
    "require connected([[{d}] * 1000] * 1000)",
    "let {n} = " + "(" * 300 + "1" + ")" * 300,
    "let {n} = " + "-" * 3000 + "1",
    "let {n} = " + " + ".join(["1"] * 3000),
    "let {n} = 9 ** 9 ** 9",
    "let {n} = 10 ** 5000",
    "let {n} = 2.0 ** 100000",
    "let {n} = round(5, -10**18)",
    "let {n} = round(1e308, 400)",
    "let {n} = {d} * 2\nrequire {n} > 1e400",
    "{n} = repeat(choice(1, 2), 10000)",
    "{n} = repeat(repeat(choice(1, 2), 1000), choice(*range(60)))",
    "{n} = [choice(1, 2) for i in range(100000)]",
    "{n} = choice(*range(100000))",
    "{n} = int(0, 10**30)",
    "{n} = int(-10**1000, 10**1000)",
    "{n} = float(0, 1e308 * 10)",
    "{n} = subset(50, *range(100))\nrequire len({n}) > 0",
    "forbid {d} != {d}",
    "require {d} == {d} and " + " and ".join(["{d} == {d}"] * 200),
    "meta " + "{" * 200 + "}" * 200,
    "space " + '"' + "x" * 10000 + '"',
]
EXTREME_NUMBERS = ["0", "-1", "10**20", "9" * 1300, "9" * 5000, "1e999", "1e-999", "0.0", "99999999999999999999"]
BYTES = [b"\x00", b"\xff", b"\xc3", b"\xe2\x82", b"\x80", b"\xed\xa0\x80", b"\r", b"\x1b", b"\xef\xbb\xbf"]


def sources() -> dict[str, str]:
    """The text of every ready space (spaces/*.sns)."""
    root = resources.files("symnas.spaces")
    return {n: root.joinpath(n + ".sns").read_text(encoding="utf-8") for n in dsl.builtin_spaces()}


def _names(tokens: list[str]) -> list[str]:
    return [t for t in tokens if re.fullmatch(r"[A-Za-z_]\w*", t)] or ["x"]


def _decisions(text: str) -> list[str]:
    return re.findall(r"^(\w+) = (?:choice|int|float|bool|ordinal|subset|permutation)\(", text, re.M) or ["x"]


def grammar_mutation(text: str, others: list[str], rng: random.Random) -> str:
    """A token-level mutation of ``text``: delete, repeat, swap, replace or insert tokens, extreme numbers, names
    of the file, lines of other files and hostile statements."""
    toks = _TOKEN.findall(text)
    names = _names(toks)
    decisions = _decisions(text)
    for _ in range(rng.choice([1, 1, 1, 2, 3, 5])):
        op = rng.randrange(10)
        i = rng.randrange(len(toks) + 1)
        if op == 0 and toks:
            del toks[min(i, len(toks) - 1)]
        elif op == 1 and toks:
            j = min(i, len(toks) - 1)
            toks.insert(j, toks[j])
        elif op == 2 and len(toks) > 1:
            a, b = rng.randrange(len(toks)), rng.randrange(len(toks))
            toks[a], toks[b] = toks[b], toks[a]
        elif op == 3 and toks:
            toks[min(i, len(toks) - 1)] = rng.choice(toks)
        elif op == 4:
            toks.insert(i, rng.choice(HOSTILE))
        elif op == 5:
            nums = [k for k, t in enumerate(toks) if t[:1].isdigit()]
            if nums:
                toks[rng.choice(nums)] = rng.choice(EXTREME_NUMBERS)
        elif op == 6:
            ids = [k for k, t in enumerate(toks) if re.fullmatch(r"[A-Za-z_]\w*", t)]
            if ids:
                toks[rng.choice(ids)] = rng.choice(names + ["range", "value", "choice", "repeat", "len"])
        elif op == 7:
            lines = rng.choice(others).splitlines() or [""]
            toks.insert(i, "\n" + rng.choice(lines) + "\n")
        else:
            st = rng.choice(STATEMENTS).format(d=rng.choice(decisions), n=f"fz{rng.randrange(1000)}")
            if op == 8:
                toks.append("\n" + st + "\n")
            else:  # before the build statement (or anywhere)
                text2 = "".join(toks)
                k = text2.find("\nbuild ")
                text2 = text2[:k + 1] + st + "\n" + text2[k + 1:] if k >= 0 else text2 + "\n" + st
                toks = _TOKEN.findall(text2)
    return "".join(toks)


def byte_mutation(data: bytes, rng: random.Random) -> bytes:
    """A byte-level mutation: flipped bits, inserted odd bytes (NUL, invalid UTF-8), deleted or repeated ranges,
    truncation."""
    b = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 4, 8])):
        op = rng.randrange(6)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:
            k = min(i, len(b) - 1)
            b[k] ^= 1 << rng.randrange(8)
        elif op == 1:
            b[i:i] = rng.choice(BYTES)
        elif op == 2:
            del b[i:i + rng.randrange(1, 40)]
        elif op == 3:
            j = rng.randrange(len(b) + 1)
            lo, hi = min(i, j), max(i, j)
            b[hi:hi] = b[lo:lo + min(hi - lo, 200)] * rng.randrange(1, 4)
        elif op == 4:
            del b[i:]
        else:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
    return bytes(b)


def inputs(n: int, seed: int = 0) -> Iterator[tuple[str, bytes]]:
    """``n`` fuzz inputs ``(kind, bytes)``, half grammar-aware, half byte mutations, over every ready space."""
    rng = random.Random(seed)
    src = sources()
    texts = list(src.values())
    for k in range(n):
        text = texts[k % len(texts)]
        if k % 2 == 0:
            yield "grammar", grammar_mutation(text, texts, rng).encode("utf-8", "surrogatepass")
        else:
            base = text if rng.random() < 0.7 else grammar_mutation(text, texts, rng)
            yield "bytes", byte_mutation(base.encode("utf-8", "surrogatepass"), rng)


class _Timeout(BaseException):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout()


def _prepare(folder: str) -> str:
    with open(os.path.join(folder, "secret.txt"), "w") as f:
        f.write("password=hunter2\n")
    with open(os.path.join(folder, "common.sns"), "w") as f:
        f.write('act = choice("relu", "gelu")\nlet WIDTH = 32\nrequire act != "x"\n')
    with open(os.path.join(folder, "hp.json"), "w") as f:
        f.write('{"lr": {"_type": "loguniform", "_value": [0.0001, 0.1]}}')
    return os.path.join(folder, "case.sns")


def run_one(path: str, data: bytes) -> Optional[BaseException]:
    """Loads ``data`` as a space file; if it loads, inspects and prints it. Returns the exception, if any."""
    with open(path, "wb") as f:
        f.write(data)
    try:
        space = dsl.load(path)
        dsl.inspect(space)
        dsl.dumps(space)
    except BaseException as e:  # noqa: BLE001 - classified by the caller
        if isinstance(e, (KeyboardInterrupt, _Timeout)):
            raise
        return e
    return None


def run(n: int, seed: int = 0, limit: float = 2.0, hard_limit: float = 20.0, out: Optional[str] = None,
        quiet: bool = True) -> dict[str, Any]:
    """Runs ``n`` inputs; returns the counts (see the module docstring)."""
    stats: dict[str, Any] = {"inputs": 0, "loaded": 0, "symnas_errors": 0, "other": 0, "slow": 0, "timeouts": 0,
                             "max_s": 0.0, "max_cpu_s": 0.0, "other_kinds": Counter(), "by_kind": Counter()}
    # the hard limit counts CPU time (SIGPROF), so a busy machine does not turn a fast input into a timeout
    old = signal.signal(signal.SIGPROF, _alarm) if hasattr(signal, "SIGPROF") else None
    with tempfile.TemporaryDirectory() as tmp:
        path = _prepare(tmp)
        for k, (kind, data) in enumerate(inputs(n, seed)):
            stats["inputs"] += 1
            stats["by_kind"][kind] += 1
            t, c = time.perf_counter(), time.process_time()
            timed_out = False
            try:
                if old is not None:
                    signal.setitimer(signal.ITIMER_PROF, hard_limit)
                e = run_one(path, data)
            except _Timeout:
                e, timed_out = None, True
            finally:
                if old is not None:
                    signal.setitimer(signal.ITIMER_PROF, 0)
            dt, dc = time.perf_counter() - t, time.process_time() - c
            stats["max_s"] = max(stats["max_s"], dt)
            if dc > stats["max_cpu_s"]:
                stats["max_cpu_s"], stats["slowest"] = dc, k
                if out:
                    os.makedirs(out, exist_ok=True)
                    with open(os.path.join(out, "slowest.sns"), "wb") as f:
                        f.write(data)
            bad = None
            if timed_out:
                stats["timeouts"] += 1
                bad = f"timeout ({dc:.1f} s CPU, {dt:.1f} s wall)"
            elif e is None:
                stats["loaded"] += 1
            elif isinstance(e, SymnasError):
                stats["symnas_errors"] += 1
            else:
                stats["other"] += 1
                stats["other_kinds"][type(e).__name__] += 1
                bad = f"{type(e).__name__}: {str(e)[:200]}"
            if dc > limit:
                stats["slow"] += 1
                bad = bad or f"slow: {dc:.2f} s CPU"
            if bad and out:
                os.makedirs(out, exist_ok=True)
                with open(os.path.join(out, f"case{k}.sns"), "wb") as f:
                    f.write(data)
                with open(os.path.join(out, f"case{k}.txt"), "w") as f:
                    f.write(bad + "\n")
            if bad and not quiet:
                print(f"input {k} ({kind}): {bad}", file=sys.stderr)
    if old is not None:
        signal.signal(signal.SIGPROF, old)
    stats["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return stats


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=float, default=2.0, help="seconds (CPU) above which an input counts as slow")
    ap.add_argument("--out", default=None, help="folder for failing and slow inputs")
    args = ap.parse_args()
    t = time.perf_counter()
    s = run(args.n, args.seed, args.limit, out=args.out, quiet=False)
    print(f"inputs: {s['inputs']} ({dict(s['by_kind'])})")
    print(f"loaded: {s['loaded']}")
    print(f"symnas errors: {s['symnas_errors']}")
    print(f"non-symnas exceptions: {s['other']} {dict(s['other_kinds'])}")
    print(f"timeouts (20 s CPU): {s['timeouts']}")
    print(f"inputs over {args.limit:g} s CPU: {s['slow']}")
    print(f"max time per input: {s['max_s']:.3f} s wall, {s['max_cpu_s']:.3f} s CPU (input {s.get('slowest')})")
    print(f"peak memory (max RSS of the process): {s['peak_rss_mb']:.0f} MB")
    print(f"total: {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
