"""Fuzzing the non-DSL readers: the JSON description reader, every foreign-format importer and the store reader.

Inputs are byte mutations of real files (tests/data/foreign, descriptions of the ready spaces, a store written by a
study) and structure-aware ones (random JSON trees with symnas tags, random PCS / Hydra lines, ConfigSpace and NNI
documents with values replaced, SQLite cells overwritten). Every input must end in a result or a symnas error:
the script counts non-symnas exceptions, inputs over 2 s and the peak memory, and prints them.

Usage::

    nice python benchmarks/fuzz_inputs.py --inputs 100000 --seed 0
    nice python benchmarks/fuzz_inputs.py --inputs 300 --seed 1 --json      # quick run, one JSON line
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import warnings
from typing import Any, Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import symnas as sn  # noqa: E402
from symnas.errors import SymnasError  # noqa: E402

FOREIGN = os.path.join(ROOT, "tests", "data", "foreign")
SLOW_S = 2.0
HARD_S = 10.0
TOKENS = [b"{", b"}", b"[", b"]", b"(", b")", b",", b"|", b"||", b"&&", b" in ", b"==", b">", b"<", b"=", b":",
          b"\n", b"#", b"'", b'"', b"\x00", b"\xff", b"1e999", b"-1", b"0", b"99999999999999999999999", b"nan",
          b"range(0, 1e9)", b"*a", b"&a ", b"_name", b"_type", b"_value", b"_int", b"_spec", b"_ref", b"null",
          b"true", b"Conditionals:", b"Forbidden:", b"log", b"choice(", b"interval(", b"tag(log, ", b"~"]


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:  # noqa: ARG001
    raise _Timeout()


def mutate(data: bytes, rng: random.Random) -> bytes:
    """A few random byte edits: flips, inserted tokens, deletions, duplicated or swapped chunks."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(6)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:
            b[min(i, len(b) - 1)] = rng.randrange(256)
        elif op == 1:
            b[i:i] = rng.choice(TOKENS)
        elif op == 2 and b:
            del b[i:i + rng.randint(1, 16)]
        elif op == 3 and b:
            j = rng.randrange(len(b))
            b[i:i] = b[j:j + rng.randint(1, 64)]
        elif op == 4 and b:
            b[i:i] = bytes([rng.randrange(256)])
        elif op == 5 and len(b) > 2:
            j, k = sorted(rng.sample(range(len(b)), 2))
            b = b[:j] + b[k:]
    return bytes(b)


def random_json(rng: random.Random, depth: int = 0) -> Any:
    tags = ["_spec", "_int", "_float", "_oneof", "_manyof", "_perm", "_tuple", "_dict", "_ref", "_float_value",
            "_type", "_value", "_name", "k", "name", "args", "kwargs", "step", "log", "scale", "hyperparameters",
            "conditions", "forbiddens", "type", "choices", "lower", "upper", "default_value", "values", "child",
            "parent", "value", "clauses", "sequence", "x"]
    r = rng.random()
    if depth > 4 or r < 0.35:
        return rng.choice([None, True, False, 0, 1, -1, 2.5, 1e308, -1e-308, 10 ** 30, "", "x", "a.b.c", "1e-3",
                           "torch.nn.modules.module.torch.load", "nan", "log", "categorical", "uniform_int", "EQ",
                           "AND", "choice", "randint"])
    if r < 0.6:
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(tags): random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def random_pcs(rng: random.Random) -> str:
    names = ["a", "b", "c", "d"]
    lines = []
    for _ in range(rng.randint(1, 8)):
        n = rng.choice(names)
        k = rng.randrange(8)
        if k == 0:
            lines.append(f"{n} categorical {{x, y, {rng.randint(0, 3)}}} [x]")
        elif k == 1:
            lines.append(f"{n} ordinal {{lo, mid, hi}} [{rng.choice(['lo', 'zz'])}]")
        elif k == 2:
            lo = rng.choice([0, 1, -5, 1e-9, 10 ** 20])
            lines.append(f"{n} {rng.choice(['integer', 'real'])} [{lo}, {rng.choice([1, 10, 0, 1e300])}] [1]"
                         + rng.choice(["", " log"]))
        elif k == 3:
            lines.append(f"{n} {{x, y}} [x]")
        elif k == 4:
            lines.append(f"{n} [{rng.randint(-3, 3)}, {rng.randint(-3, 9)}] [{rng.randint(-3, 9)}]" + rng.choice(
                ["", "i", "l", "il"]))
        elif k == 5:
            op = rng.choice(["==", "!=", ">", "<", "in"])
            rhs = "{x, y}" if op == "in" else rng.choice(["x", "lo", "1", "hi"])
            more = rng.choice(["", f" && {rng.choice(names)} == x", f" || {rng.choice(names)} > lo"])
            lines.append(f"{n} | {rng.choice(names)} {op} {rhs}{more}")
        elif k == 6:
            lines.append(f"{{{n}={rng.choice(['x', '1', 'lo'])}, {rng.choice(names)}=y}}")
        else:
            lines.append(rng.choice(["Conditionals:", "Forbidden:", "# comment", ""]))
    return "\n".join(lines) + "\n"


def random_hydra(rng: random.Random) -> str:
    vals = ["1", "x", "'q, r'", "[1, 2]", "{a: 1}", "1,2,3", "choice(a, b)", "range(1, 10, 2)", "range(0, 1, 0.1)",
            "range(-5.5, 5.5, step=0.5)", "interval(0, 1)", "tag(log, interval(1e-4, 1))", "int(interval(1, 9))",
            "sort(3, 1, 2)", "shuffle(a, b)", "glob(*)", "range(0, 1e9)", "choice()", "str(choice(1, 2))",
            "range(5, 1)", "[" * 30]
    return "\n".join(f"k{i}={rng.choice(vals)}" for i in range(rng.randint(1, 5))) + "\n"


def _seeds() -> list[tuple[str, bytes]]:
    """``(format, bytes)`` of every foreign test file (format None: detected from the extension)."""
    from symnas.dsl.importers import detect

    out = []
    for dirpath, _, files in os.walk(FOREIGN):
        for f in sorted(files):
            if f == "NOTICE":
                continue
            path = os.path.join(dirpath, f)
            with open(path, "rb") as fh:
                data = fh.read()
            try:
                fmt = detect(data.decode(), path)
            except SymnasError:
                continue
            out.append((fmt, data))
    return out


def _description_seeds() -> list[bytes]:
    import symnas.dsl as dsl

    out = []
    for name in dsl.builtin_spaces():
        space = dsl.load(name)
        out.append(space.to_json().encode())
        out.append(sn.to_json(space.decode(space.sample(0))).encode())
    return out


def _make_store(path: str) -> None:
    space = sn.Space({"lr": sn.floatv(1e-4, 1.0, scale="log"), "act": sn.oneof(["relu", "gelu"]),
                      "net": sn.nn.Linear(4, sn.oneof([2, 3]))})
    from symnas.store.sqlite import SQLiteStore

    with SQLiteStore(path) as store:
        study = sn.Study(space, sn.algorithms.RandomSearch(seed=0), store=store, name="fuzz")
        for i in range(6):
            t = study.ask()
            study.tell(t, float(i) if i != 3 else float("nan"))


def _read_store(path: str) -> None:
    from symnas.report import load_study, show_dict, show_text

    view = load_study(path)
    show_text(view, 5)
    show_dict(view, 5)
    for r in view.records[:3]:
        view.description(r)


def run(n: int, seed: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    from symnas.dsl.importers import loads

    rng = random.Random(seed)
    seeds = _seeds()
    descs = _description_seeds()
    tmp = tempfile.mkdtemp(prefix="symnas-fuzz-")
    base_store = os.path.join(tmp, "base.db")
    _make_store(base_store)
    with open(base_store, "rb") as f:
        store_bytes = f.read()
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    bad: list[dict] = []
    slow: list[dict] = []
    old = signal.signal(signal.SIGALRM, _alarm)
    warnings.simplefilter("ignore")
    t_start = time.time()
    try:
        for i in range(n):
            kind = rng.random()
            target: Callable[[], Any]
            if kind < 0.25:
                reader = "json"
                text = (mutate(rng.choice(descs), rng) if rng.random() < 0.6 else
                        json.dumps(random_json(rng)).encode())
                sample = text

                def target(text: bytes = text) -> Any:
                    return sn.from_json(text)
            elif kind < 0.9:
                fmt, data = rng.choice(seeds)
                r = rng.random()
                if r < 0.6:
                    text = mutate(data, rng)
                elif fmt in ("pcs", "pcs-new"):
                    text = random_pcs(rng).encode()
                elif fmt == "hydra" and r < 0.8:
                    text = random_hydra(rng).encode()
                elif fmt in ("configspace-json", "nni", "symnas-json"):
                    try:
                        doc = json.loads(data)
                        _replace(doc, rng)
                        text = json.dumps(doc).encode()
                    except ValueError:
                        text = mutate(data, rng)
                else:
                    text = mutate(data, rng)
                reader = f"import:{fmt}"
                sample = text

                def target(text: bytes = text, fmt: str = fmt) -> Any:
                    try:
                        s = text.decode("utf-8")
                    except UnicodeDecodeError:
                        return None  # files are decoded by importers.load, which reports it (tested apart)
                    space = loads(s, fmt, where="fuzz")
                    _ = space.size
                    return space
            else:
                reader = "store"
                path = os.path.join(tmp, f"f{i}.db")
                for old_file in os.listdir(tmp):
                    if old_file.startswith("f"):
                        os.remove(os.path.join(tmp, old_file))
                if rng.random() < 0.5:
                    with open(path, "wb") as f:
                        f.write(mutate(store_bytes, rng) if rng.random() < 0.5 else _page_noise(store_bytes, rng))
                else:
                    shutil.copyfile(base_store, path)
                    _poke_cells(path, rng)
                sample = b"<store>"

                def target(path: str = path) -> Any:
                    return _read_store(path)
            t0 = time.time()
            signal.setitimer(signal.ITIMER_REAL, HARD_S)
            try:
                target()
                outcome = "ok"
            except SymnasError:
                outcome = "symnas error"
            except _Timeout:
                outcome = "timeout"
            except RecursionError as e:
                outcome = f"other: {type(e).__name__}"
            except Exception as e:  # noqa: BLE001 - what the fuzz looks for
                outcome = f"other: {type(e).__name__}"
                if len(bad) < 20:
                    bad.append({"reader": reader, "error": f"{type(e).__name__}: {str(e)[:200]}",
                                "input": sample[:300].decode("utf-8", "replace")})
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            dt = time.time() - t0
            if dt > SLOW_S:
                outcome = outcome if outcome == "timeout" else outcome + " (slow)"
                if len(slow) < 20:
                    slow.append({"reader": reader, "seconds": round(dt, 2),
                                 "input": sample[:300].decode("utf-8", "replace")})
            counts[reader][outcome] += 1
            if (i + 1) % 10000 == 0:
                log(f"{i + 1} inputs, {time.time() - t_start:.0f} s")
    finally:
        signal.signal(signal.SIGALRM, old)
        shutil.rmtree(tmp, ignore_errors=True)
    total = collections.Counter()
    for c in counts.values():
        total.update(c)
    others = sum(v for k, v in total.items() if k.startswith("other"))
    slow_n = sum(v for k, v in total.items() if "slow" in k or k == "timeout")
    return {"inputs": n, "seed": seed, "seconds": round(time.time() - t_start, 1),
            "by_reader": {k: dict(v) for k, v in sorted(counts.items())}, "non_symnas_exceptions": others,
            "over_2s": slow_n, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "examples": bad, "slow_examples": slow}


def _replace(doc: Any, rng: random.Random) -> None:
    """Replaces a few values deep in a JSON document by random ones (structure-aware mutation)."""
    for _ in range(rng.randint(1, 3)):
        node, parent, key = doc, None, None
        for _ in range(rng.randint(1, 6)):
            if isinstance(node, dict) and node:
                parent, key = node, rng.choice(list(node))
            elif isinstance(node, list) and node:
                parent, key = node, rng.randrange(len(node))
            else:
                break
            node = parent[key]
        if parent is not None:
            parent[key] = random_json(rng, 3)


def _page_noise(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    start = rng.randrange(len(b))
    for i in range(start, min(len(b), start + rng.randint(1, 512))):
        b[i] = rng.randrange(256)
    return bytes(b[:rng.randint(0, len(b))] if rng.random() < 0.2 else b)


def _poke_cells(path: str, rng: random.Random) -> None:
    values = [None, "", "{", "[]", "{}", "null", "nan", '{"format": "symnas.space/1"}', json.dumps(random_json(rng)),
              "x" * 10, -1, 10 ** 18, 1.5, b"\xff\x00"]
    try:
        _poke(path, rng, values)
    except sqlite3.Error:
        pass


def _poke(path: str, rng: random.Random, values: list) -> None:
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for _ in range(rng.randint(1, 4)):
            t = rng.choice(tables)
            cols = [r[1] for r in db.execute(f"PRAGMA table_info({t})")]
            c = rng.choice(cols)
            try:
                db.execute(f'UPDATE {t} SET "{c}"=? WHERE rowid IN (SELECT rowid FROM {t} ORDER BY random() LIMIT 1)',
                           (rng.choice(values),))
            except sqlite3.Error:
                pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    out = run(args.inputs, args.seed, log=lambda m: print(m, file=sys.stderr))
    if args.json:
        print(json.dumps(out))
        return
    print(f"{out['inputs']} inputs in {out['seconds']} s (seed {out['seed']})")
    for reader, c in out["by_reader"].items():
        print(f"  {reader:24s} " + ", ".join(f"{k}: {v}" for k, v in sorted(c.items())))
    print(f"non-symnas exceptions: {out['non_symnas_exceptions']}, inputs over {SLOW_S:g} s: {out['over_2s']}, "
          f"peak RSS: {out['peak_rss_mb']} MB")
    for e in out["examples"][:10]:
        print("  example:", json.dumps(e)[:400])
    for e in out["slow_examples"][:5]:
        print("  slow:", json.dumps(e)[:400])


if __name__ == "__main__":
    main()
