"""Language features: typed decisions, named alternatives, loops, repeat, derived values, ties, subsets,
permutations, constraints, imports, the builder allow-list."""
from __future__ import annotations

import random

import pytest

import symnas as sn
import symnas.dsl as dsl
from symnas.dsl import DSLError
from symnas.dsl.constraints import check, sample, values
from symnas.symbolic.placeholders import FloatRange, IntRange, ManyOf, OneOf, Permutation


def test_typed_decisions_compile_to_placeholders():
    s = dsl.loads("""
# comments are ignored
a = choice("x", "y")          # categorical
b = ordinal(1, 2, 4)          # ordinal
c = bool()
d = int(8, 64, step=8)
e = int(1, 1024, log=True)
f = float(1e-5, 1e-1, log=True)
g = float(0.0, 1.0, step=0.25)
h = subset(2, "p", "q", "r")
i = permutation(0, 1, 2)
""")
    t = s.tree
    assert t["a"] == OneOf(("x", "y"), "a")
    assert t["b"] == OneOf((1, 2, 4), "b", ordered=True)
    assert t["c"] == sn.boolv("c")
    assert t["d"] == IntRange(8, 64, "d", step=8)
    assert t["e"] == IntRange(1, 1024, "e", log=True)
    assert t["f"] == FloatRange(1e-5, 1e-1, "f", scale="log")
    assert t["g"] == FloatRange(0.0, 1.0, "g", step=0.25)
    assert t["h"] == ManyOf(2, ("p", "q", "r"), "h")
    assert t["i"] == Permutation((0, 1, 2), "i")
    assert s.size == float("inf")


def test_same_tree_as_python_front_end():
    s = dsl.loads("""
k = choice(3, 5)
build torch.nn.modules.container.Sequential(
    torch.nn.modules.conv.Conv2d(in_channels=3, out_channels=8, kernel_size=k),
    choice(torch.nn.modules.activation.ReLU(), torch.nn.modules.activation.GELU(), name="act"),
)""")
    py = sn.Space(sn.nn.Sequential(sn.nn.Conv2d(3, 8, kernel_size=sn.oneof([3, 5], "k")),
                                   sn.oneof([sn.nn.ReLU(), sn.nn.GELU()], "act")))
    assert s == py
    assert [d.name for d in s.decisions] == ["k", "act"]
    m = s.build(s.sample(0), seed=0)
    assert m[0].kernel_size[0] in (3, 5)


def test_named_alternatives_with_nested_decisions():
    s = dsl.loads('opt = choice(sgd={"momentum": float(0, 1)}, adam={"beta": float(0.8, 0.99)})')
    assert [d.path for d in s.decisions] == ["opt", "opt:0.momentum", "opt:1.beta"]
    g = s.encode({"opt": {"beta": 0.9}})
    assert values(s, g) == {"opt": "adam", "opt:0.momentum": None, "opt:1.beta": 0.9}


def test_loops_make_separate_decisions_and_ties_share_one():
    s = dsl.loads("""
let CH = [16, 32, 64]
act = choice("relu", "gelu")            # one decision used by every block (tied)
build [{"c": c, "k": choice(3, 5), "act": act} for c in CH if c > 16]
""")
    assert [d.name for d in s.decisions] == ["[0].k", "act", "[1].k"]
    desc = s.decode(s.sample(3))
    assert [b["c"] for b in desc] == [32, 64]
    assert desc[0]["act"] == desc[1]["act"]


def test_repeat_with_decision_count():
    s = dsl.loads("""
depth = int(1, 3)
build repeat({"k": choice(3, 5)}, depth)
""")
    d = s.table["depth"]
    assert d.kind == "choice" and d.n == 3 and d.ordered
    lengths = {len(s.decode(s.sample(i))) for i in range(40)}
    assert lengths == {1, 2, 3}
    assert s.size == 2 + 4 + 8
    assert dsl.loads(dsl.dumps(s)) == s
    fixed = dsl.loads('build repeat(choice(1, 2), 3)')
    assert len(fixed.decisions) == 3


def test_derived_values_are_evaluated_when_built():
    s = dsl.loads("""
width = ordinal(8, 16)
build torch.nn.Sequential(
    torch.nn.Linear(in_features=4, out_features=width * 2),
    torch.nn.Linear(in_features=width * 2, out_features=max(width - 4, 1)),
)""")
    for i in range(4):
        g = s.sample(i)
        w = s.params(g)["width"]
        m = s.build(g)
        assert m[0].out_features == 2 * w and m[1].out_features == w - 4
    assert dsl.loads(dsl.dumps(s)) == s


def test_constant_folding_and_let():
    s = dsl.loads("let C = 4\nlet WIDTHS = [C * 2 ** i for i in range(3)]\nw = choice(*WIDTHS)\nn = C + 1")
    assert s.tree == {"w": OneOf((4, 8, 16), "w"), "n": 5}


def test_constraints_in_meta_and_check():
    s = dsl.loads("""
a = int(0, 5)
b = int(0, 5)
require a + b <= 5
forbid a == b
""")
    assert s.meta["constraints"] == [{"kind": "require", "expr": "(a + b) <= 5"},
                                     {"kind": "forbid", "expr": "a == b"}]
    assert check(s, s.encode({"a": 1, "b": 2})) == []
    assert check(s, s.encode({"a": 3, "b": 3})) == ["require (a + b) <= 5", "forbid a == b"]
    rng = random.Random(0)
    for _ in range(20):
        p = s.params(sample(s, rng=rng))
        assert p["a"] + p["b"] <= 5 and p["a"] != p["b"]


def test_constraint_on_inactive_decision_and_dag_reachability():
    s = dsl.loads("""
opt = choice(sgd={"m": float(0, 1, name="m")}, adam={})
e01 = bool()
e12 = bool()
let M = [[0, e01, 0], [0, 0, e12], [0, 0, 0]]
require reachable(M, 0, 2)
forbid m != None and m > 0.5
""")
    for i in range(30):
        g = s.sample(i)
        v = values(s, g)
        ok = v["e01"] and v["e12"] and not (v["m"] is not None and v["m"] > 0.5)
        assert (check(s, g) == []) == bool(ok)


def test_import_of_other_dsl_files(tmp_path):
    (tmp_path / "common.sns").write_text('act = choice("relu", "gelu")\nlet WIDTH = 32\n')
    (tmp_path / "net.sns").write_text(
        'import "common.sns" as c\nbuild {"act": c.act, "width": c.WIDTH * 2, "k": choice(3, 5)}\n')
    s = dsl.load(str(tmp_path / "net.sns"))
    assert [d.name for d in s.decisions] == ["act", "k"]
    assert s.decode(s.sample(0))["width"] == 64
    assert s.name == "net"


def test_import_of_foreign_format_goes_through_importers(tmp_path):
    (tmp_path / "search_space.json").write_text(
        '{"lr": {"_type": "loguniform", "_value": [0.0001, 0.1]}, "bs": {"_type": "choice", "_value": [16, 32]}}')
    (tmp_path / "hp.sns").write_text('import "search_space.json" as nni\nlr = nni.lr\nbatch = nni.bs\n')
    s = dsl.load(str(tmp_path / "hp.sns"))
    assert sorted(d.name for d in s.decisions) == ["bs", "lr"]


def test_builder_allow_list_and_registry():
    with pytest.raises(DSLError, match="allow-list"):
        dsl.loads("build subprocess.run(args=[\"ls\"])")

    def my_block(c: int = 1) -> dict:
        return {"c": c}

    sn.register(my_block, path="tests_dsl.my_block")
    s = dsl.loads("build tests_dsl.my_block(c=int(1, 3))")
    assert s.build(s.sample(0))["c"] in (1, 2, 3)


def test_value_refers_to_any_decision_name():
    s = dsl.loads('x = [choice(1, 2, name="blk:0.k")]\nrequire value("blk:0.k") == 2')
    assert all(s.params(sample(s, seed=i))["blk:0.k"] == 2 for i in range(5))
    assert dsl.loads(dsl.dumps(s)) == s


def test_inspect_and_convert(tmp_path):
    text = dsl.inspect(dsl.load("transformer"))
    assert "num_heads" in text and "size 576" in text and "sample (seed 0)" in text
    p = tmp_path / "r.sns"
    p.write_text(dsl.dumps(dsl.load("resnet")))
    assert dsl.loads(dsl.convert(str(p), "sns")) == dsl.load("resnet")
    assert sn.Space.from_json(dsl.convert(str(p), "json")) == dsl.load("resnet")


def test_keywords_can_be_argument_names():
    s = dsl.loads("build torch.nn.Linear(meta=1, space=2, build=choice(1, 2))")
    assert s.tree.kwargs["meta"] == 1 and s.tree.kwargs["space"] == 2


def test_dsl_error_for_non_text():
    with pytest.raises(DSLError):
        dsl.loads(b"x = 1")  # type: ignore[arg-type]
