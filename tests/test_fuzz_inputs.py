"""Fuzzing the JSON reader, every importer and the store reader (benchmarks/fuzz_inputs.py): every input ends in a
result or a symnas error, none takes over 2 s. A few hundred inputs by default; 100,000 in the slow run."""
from __future__ import annotations

import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _fuzz():
    spec = importlib.util.spec_from_file_location("fuzz_inputs", os.path.join(ROOT, "benchmarks", "fuzz_inputs.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _check(out: dict, n: int) -> None:
    assert sum(sum(c.values()) for c in out["by_reader"].values()) == n
    assert {"json", "store"} <= set(out["by_reader"]) and sum(k.startswith("import:") for k in out["by_reader"]) >= 5
    assert out["non_symnas_exceptions"] == 0, out["examples"]
    assert out["over_2s"] == 0, out["slow_examples"]
    assert out["peak_rss_mb"] < 4096


def test_fuzz_quick():
    out = _fuzz().run(400, seed=7, log=lambda m: None)
    _check(out, 400)


@pytest.mark.slow
def test_fuzz_100k():
    out = _fuzz().run(100_000, seed=0, log=print)
    print(out["by_reader"], out["peak_rss_mb"])
    _check(out, 100_000)
