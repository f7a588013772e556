"""Hydra sweeps read as Hydra reads them: Hydra's own override parser is the oracle where it is installed."""
from __future__ import annotations

import itertools

import pytest

from symnas.dsl.importers import FormatError, loads
from symnas.symbolic.placeholders import FloatRange, IntRange, OneOf

OVERRIDES = ["a=1", "a=1e-3", "a=1_000", "a=abc-def/x", "a='quoted, text'", "a=true", "a=null", "a=[1, 2, x]",
             "a={k: 1, j: [a, b]}", "a=1,2,3", "a=x,y", "a=[1,2],[3,4]", "a={a:1},{a:2}", "a=choice(a, b, 'c d')",
             "a=choice([1, 2], [3])", "a=range(5)", "a=range(2, 10, 2)", "a=range(-5.5, 5.5, step=0.5)",
             "a=range(0, 1, 0.1)", "a=range(10, 0, -3)", "a=range(start=1, stop=4)", "a=range(1.5, 4)",
             "a=sort(3, 1, 2)", "a=sort(3, 1, 2, reverse=true)", "a=shuffle(a, b, c)", "a=sort(range(1, 4))",
             "a=int(choice(1.5, 2.5))", "a=str(choice(1, 2))", "a=choice(True, FALSE)", "a=-1.5e2,+3,.5",
             "a=interval(0, 1)", "a=tag(log, interval(1e-4, 1))", "a=int(interval(1, 5))"]


def _values(space):
    v = space.tree["a"]
    if isinstance(v, OneOf):
        return sorted(map(repr, v.candidates))
    if isinstance(v, IntRange):
        return sorted(map(repr, range(v.low, v.high + 1, v.step)))
    if isinstance(v, FloatRange):
        return ("interval", v.low, v.high, v.scale)
    return repr(v)


def _oracle(text):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    o = OverridesParser.create().parse_override(text)
    v = o.value()
    kind = type(v).__name__
    if kind == "IntervalSweep":
        return ("interval", float(v.start), float(v.end), "log" if "log" in v.tags else "linear")
    if o.is_sweep_override():
        return sorted(map(repr, itertools.islice(o.sweep_iterator(), 100_001)))
    return repr(v)


@pytest.mark.parametrize("text", OVERRIDES)
def test_values_as_hydra_reads_them(text):
    pytest.importorskip("hydra")
    space = loads(text + "\n", "hydra")
    got, want = _values(space), _oracle(text)
    if text == "a=int(interval(1, 5))":
        assert space.tree["a"] == IntRange(1, 4, "a")     # Hydra: start <= x < end, cast to int
        return
    assert got == want


@pytest.mark.parametrize("text,match", [("a=glob(*)", "glob"), ("a=range(0, 1e9)", "more than"),
                                        ("a=choice(choice(1,2),3)", "nesting"), ("a=range(1, 2, 0)", "step"),
                                        ("a=[1, 2", r"expected '\]'"), ("a='open", "unterminated"),
                                        ("a=foo(1)", "'foo'"), ("~a", "deletions"), ("a=range(5, 1)", "empty"),
                                        ("a=" + "[" * 60 + "]" * 60, "nested")])
def test_refused_by_name(text, match):
    with pytest.raises(FormatError, match=match):
        loads(text + "\n", "hydra")


def test_sweeper_yaml_forms():
    optuna = loads("defaults:\n  - override hydra/sweeper: optuna\nhydra:\n  sweeper:\n    params:\n"
                   "      x: range(1, 10, 3)\n      y: range(0.0, 1.0, step=0.25)\n      z: int(interval(1, 5))\n"
                   "      w: choice(a, b)\n", "hydra")
    assert optuna.tree["x"] == IntRange(1, 10, "x", step=3)            # inclusive stop
    assert optuna.tree["y"] == FloatRange(0.0, 1.0, "y", step=0.25)
    assert optuna.tree["z"] == IntRange(1, 5, "z")
    ng = loads("hydra:\n  sweeper:\n    _target_: hydra_plugins.hydra_nevergrad_sweeper.NevergradSweeper\n"
               "    parametrization:\n      db: [mnist, cifar]\n      lr: {lower: 0.001, upper: 1.0, log: true}\n"
               "      bs: {lower: 4, upper: 16, integer: true}\n      drop: interval(0, 1)\n", "hydra")
    assert ng.tree["db"].candidates == ("mnist", "cifar") and ng.tree["lr"].scale == "log"
    assert ng.tree["bs"] == IntRange(4, 16, "bs")
    with pytest.raises(FormatError, match="unbounded"):
        loads("hydra:\n  sweeper:\n    parametrization:\n      lr: {init: 0.02, step: 2.0, log: true}\n", "hydra")
    ax = loads("hydra:\n  sweeper:\n    ax_config:\n      params:\n        x: {type: range, bounds: [-5.0, 10.0]}\n"
               "        n: {type: range, bounds: [1, 8], log_scale: true}\n        c: {type: choice, values: [a, b]}\n"
               "        f: {type: fixed, value: 3}\n", "hydra")
    assert ax.tree["x"] == FloatRange(-5.0, 10.0, "x") and ax.tree["n"] == IntRange(1, 8, "n", log=True)
    assert ax.tree["c"].candidates == ("a", "b") and ax.tree["f"] == 3
