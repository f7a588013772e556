"""The typed syntax tree (positions), the semantic pass, the one evaluator, constraints as trees, the one sampler."""
from __future__ import annotations

import random

import pytest

import symnas as sn
import symnas.dsl as dsl
from symnas.dsl import DSLError
from symnas.dsl import nodes as N
from symnas.dsl.constraints import check, constraint_node, sample
from symnas.dsl.errors import Source
from symnas.dsl.interpreter import derive, evaluate, to_text
from symnas.dsl.parser import parse, parse_expr
from symnas.symbolic.spec import Spec


def test_parse_gives_typed_nodes_with_positions():
    m = parse(Source('space "s"\nlet C = 4\nx = choice(1, C * 2)\nrequire x > 1\nbuild {"x": x}\n', "a.sns"))
    assert [type(s).__name__ for s in m.body] == ["SpaceStmt", "Bind", "Bind", "Constraint", "Build"]
    bind = m.body[2]
    assert isinstance(bind, N.Bind) and (bind.name, bind.line, bind.col, bind.let) == ("x", 3, 1, False)
    call = bind.value
    assert isinstance(call, N.Call) and isinstance(call.func, N.Name) and (call.line, call.col) == (3, 5)
    arg = call.args[1]
    assert isinstance(arg, N.BinOp) and arg.op == "*" and (arg.line, arg.col) == (3, 15)
    cons = m.body[3]
    assert isinstance(cons, N.Constraint) and cons.kind == "require" and isinstance(cons.expr, N.Compare)


def test_every_construct_has_a_node():
    e = parse_expr('[f(*a, k=1) for v in x.y if not v] + (1,) + {"k": -b[0] ** 2} if p and q or r in s else '
                   '"t" not in u')
    kinds = set()
    stack = [e]
    while stack:
        n = stack.pop()
        kinds.add(type(n).__name__)
        stack.extend(N.children(n))
    assert kinds >= {"IfExp", "BoolOp", "Compare", "BinOp", "ListComp", "Call", "Starred", "Keyword", "Attribute",
                     "UnaryOp", "TupleExpr", "DictExpr", "Subscript", "Name", "Literal"}


def test_canonical_text_round_trips():
    for text in ["(a + b) <= 5", "a == b", "not a", "(edges([[0, a], [0, 0]])) <= 9", 'value("blk:0.k") == 2',
                 "(a if b else c) + 1", "[(x * 2) for x in [1, 2] if (x > 1)]", "-a"]:
        assert to_text(parse_expr(text)) == text


def test_semantic_pass_errors():
    for text, words in [("x = f(a=1, 2)", "positional argument after keyword"), ("x = f(a=1, a=2)", "given twice"),
                        ("x = [1][0].y", "attributes can only be read from imports"),
                        ("x = (1)(2)", "cannot be called"), ("range = 3", "cannot be rebound"),
                        ("build 1\nbuild 2", "more than one 'build'")]:
        with pytest.raises(DSLError, match=words):
            dsl.loads(text)


def test_one_evaluator_serves_values_and_derived_values():
    assert evaluate("a * 2 + 1", {"a": 3}) == 7
    assert evaluate('[x for x in range(4) if x != value("a:b")]', {"a:b": 1}) == [0, 2, 3]
    assert derive("(c * 2) + 1", {"c": 16}) == 33
    with pytest.raises(DSLError, match="unknown function"):
        evaluate("open(1)", {})
    s = dsl.loads("w = choice(8, 16)\nlet d = w * 2\nbuild torch.nn.Linear(in_features=d, out_features=w + 1)")
    spec = s.tree.kwargs["in_features"]
    assert isinstance(spec, Spec) and spec.kwargs["expr"] == "w * 2"
    for i in range(4):
        m = s.build(s.sample(i))
        assert m.in_features == 2 * (m.out_features - 1)


def test_descriptions_written_with_the_old_derive_path_still_build():
    desc = Spec("symnas.dsl.runtime.derive", (), {"expr": "a * 3", "vars": {"a": 2}})
    assert sn.build(desc) == 6


def test_constraints_keep_the_compiled_tree():
    s = dsl.loads("a = int(0, 5)\nb = int(0, 5)\nrequire a + b <= 5")
    text = s.meta["constraints"][0]["expr"]
    assert text == "(a + b) <= 5"
    assert parse_expr(text) is parse_expr(text)  # one tree per text and process (never parsed per check)
    node, names = constraint_node(text)
    assert isinstance(node, N.Compare) and names == ["a", "b"]


def test_foreign_constraints_translate_to_the_same_tree():
    s = sn.Space({"k": sn.oneof(["rbf", "poly"], "k"), "c:d": sn.oneof([1, 2, 3], "c:d"),
                  "opt": sn.oneof([{"m": sn.oneof([0, 1], "m")}, {}], "opt")}, "f")
    s.meta["constraints"] = [{"kind": "forbid", "expr": "k == 'rbf' and c:d in [1, 2]"},
                             {"kind": "forbid", "expr": "m != 0"}]
    node, names = constraint_node("k == 'rbf' and c:d in [1, 2]")
    assert isinstance(node, N.BoolOp) and names == ["k", "c:d"]
    rng = random.Random(0)
    for _ in range(50):
        p = s.params(sample(s, rng=rng))
        assert not (p["k"] == "rbf" and p["c:d"] in (1, 2))
        assert p.get("m", 0) == 0  # m inactive: "m != 0" is false (the foreign rule), so allowed


def test_one_rejection_sampler_behind_space_sample():
    s = dsl.loads("a = int(0, 9)\nb = int(0, 9)\nrequire a + b == 9")
    for i in range(10):
        g = s.sample(i)
        assert g == sample(s, rng=random.Random(i)) and check(s, g) == []
    tight = sn.Space({"a": sn.oneof([1, 2], "a")}, "t")
    tight.meta["constraints"] = [{"kind": "require", "expr": "a > 5"}]
    with pytest.raises(DSLError, match="no genome satisfying the constraints found .*in 10 samples"):
        sample(tight, seed=0, max_tries=10)
