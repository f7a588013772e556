"""Fuzzing the DSL (benchmarks/fuzz_dsl.py): grammar-aware and byte mutations of every ready space raise only
symnas errors, and none takes more than 2 s of CPU. A few hundred inputs by default, thousands when slow."""
from __future__ import annotations

import importlib.util
import os

import pytest


def _fuzz():
    path = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "fuzz_dsl.py")
    spec = importlib.util.spec_from_file_location("fuzz_dsl", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _check(stats: dict) -> None:
    assert stats["other"] == 0, dict(stats["other_kinds"])
    assert stats["timeouts"] == 0 and stats["slow"] == 0, (stats["max_cpu_s"], stats.get("slowest"))
    assert stats["symnas_errors"] > 0 and stats["loaded"] > 0  # both outcomes occur: the mutations are not trivial


def test_fuzz_few_hundred_inputs():
    _check(_fuzz().run(300, seed=7))


@pytest.mark.slow
def test_fuzz_thousands_of_inputs():
    _check(_fuzz().run(5000, seed=11))


def test_mutations_cover_both_kinds_and_hostile_statements():
    f = _fuzz()
    kinds = [k for k, _ in f.inputs(40, seed=3)]
    assert kinds.count("grammar") == kinds.count("bytes") == 20
    assert any(b"\xff" in d or b"\x00" in d or b"\xc3" in d for _, d in f.inputs(200, seed=3))
