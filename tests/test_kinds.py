"""Decision kinds as classes: the contract every registered kind keeps, and equality with the per-kind code that
algorithms, the Optuna wrapper, PyGlove interop, the DSL printer and define-by-run tracing still carry (so those
files can switch to the kind methods without a change in behaviour)."""
from __future__ import annotations

import itertools
import json
import math
import random

import pytest

import symnas as sn
from symnas.errors import DecisionError, SpaceError
from symnas.genome.kinds import KINDS, IndexSlots, Kind, kind_named, kind_of, register
from symnas.symbolic.jsonio import decode, encode
from symnas.symbolic.placeholders import JSON_TAGS, Placeholder

# One space with every kind and the variants that change behaviour (step, log, distinct, sorted, ordered).
SPACE = sn.Space({
    "choice": sn.oneof(["a", "b", "c", "d"]),
    "ordered": sn.oneof([1, 2, 3, 4, 5], ordered=True),
    "ordinal": sn.ordinal([2, 4, 8, 16]),
    "one": sn.oneof([7]),
    "int": sn.intv(1, 10),
    "int_step": sn.intv(0, 96, step=16),
    "int_log": sn.intv(1, 1024, log=True),
    "float": sn.floatv(-1.0, 1.0),
    "float_log": sn.floatv(1e-4, 1e-1, scale="log"),
    "float_step": sn.floatv(0.0, 1.0, step=0.125),
    "subset": sn.manyof(2, ["p", "q", "r", "s"]),
    "subset_sorted": sn.manyof(2, ["p", "q", "r", "s"], sorted=True),
    "subset_rep": sn.manyof(3, ["p", "q", "r"], distinct=False),
    "subset_rep_sorted": sn.manyof(2, ["p", "q", "r"], distinct=False, sorted=True),
    "perm": sn.permutation(["x", "y", "z"]),
})
DECISIONS = list(SPACE.table.decisions)
IDS = [d.name for d in DECISIONS]


def test_every_kind_is_registered_once_and_reached_from_its_decisions() -> None:
    assert sorted(KINDS) == ["choice", "float", "int", "ordinal", "perm", "subset"]
    for d in DECISIONS:
        assert d.ops is kind_named(d.kind) and d.ops.name == d.kind
    with pytest.raises(DecisionError, match="unknown decision kind 'nope'"):
        kind_named("nope")
    with pytest.raises(SpaceError, match="already registered"):
        register(type("Again", (Kind,), {"name": "choice"}))


def test_a_placeholder_without_a_kind_is_a_clear_error() -> None:
    class Strange(Placeholder):
        kind = "strange"

        def _key(self) -> tuple:
            return (self.name,)

    with pytest.raises(SpaceError, match="no decision kind 'strange' is registered"):
        kind_of(Strange())
    with pytest.raises(SpaceError, match="no decision kind 'strange'"):
        sn.Space({"x": Strange()})


@pytest.mark.parametrize("d", DECISIONS, ids=IDS)
def test_default_samples_and_mutations_are_valid(d: sn.Decision) -> None:
    assert d.check(d.default) is None
    rng = random.Random(0)
    for _ in range(200):
        g = d.sample(rng)
        assert len(g) == d.width and d.check(g) is None, g
        child = d.mutate(g, rng)
        assert d.check(child) is None, (g, child)
        if d.count() == 1:
            assert child == g
        elif not d.ops.float_genes:  # a float step may land on the same value (8 tries)
            assert child != g


@pytest.mark.parametrize("d", DECISIONS, ids=IDS)
def test_grid_lists_each_value_once_and_matches_count(d: sn.Decision) -> None:
    grid = d.grid(5)
    assert grid and len(set(grid)) == len(grid)
    assert all(d.check(g) is None for g in grid)
    if d.count() <= 5 or not d.ops.numeric:
        assert len(grid) == d.count()
    else:
        assert len(grid) <= 5 and math.isclose(grid[0][0], d.default[0])
    vals = d.ops.values(d)
    if vals is not None:
        assert len(vals) == d.count() and (d.width == 1)


@pytest.mark.parametrize("d", DECISIONS, ids=IDS)
def test_neighbours_are_valid_other_values(d: sn.Decision) -> None:
    rng = random.Random(1)
    for _ in range(20):
        g = d.sample(rng)
        nb = d.neighbours(g)
        assert all(d.check(x) is None and x != g for x in nb)
        if d.ops.numeric and d.step or d.kind in ("ordinal", "choice") and d.n > 1:
            assert nb


@pytest.mark.parametrize("d", DECISIONS, ids=IDS)
def test_canonical_restores_types_read_from_json(d: sn.Decision) -> None:
    g = d.sample(random.Random(3))
    read = tuple(json.loads(json.dumps([float(x) for x in g])))
    back = d.ops.canonical(d, read)
    assert back == g and d.check(back) is None
    assert [type(x) for x in back] == [type(x) for x in g] or d.kind == "float"


def test_index_slots_describe_the_gene_layout() -> None:
    t = SPACE.table
    assert t["choice"].ops.slots(t["choice"]) == IndexSlots(1, 1, False, False)
    assert t["ordinal"].ops.slots(t["ordinal"]) == IndexSlots(1, 1, False, False)
    assert t["subset_sorted"].ops.slots(t["subset_sorted"]) == IndexSlots(2, 1, True, True)
    assert t["perm"].ops.slots(t["perm"]) == IndexSlots(3, 3, True, False)
    assert t["int"].ops.slots(t["int"]) is None and t["int"].ops.numeric
    assert IndexSlots(3, 3, True, False).row(2) == 2 and IndexSlots(2, 1, True, True).row(1) == 0


def test_conditions_compare_by_order_only_where_there_is_one() -> None:
    t = SPACE.table
    assert t["ordinal"].ops.condition(t["ordinal"], ">=", 1) == {1, 2, 3}
    assert t["ordinal"].ops.condition(t["ordinal"], "<", 1) == {0}
    assert t["int_step"].ops.condition(t["int_step"], ">", 64) == {80, 96}
    assert t["choice"].ops.condition(t["choice"], "!=", 0) == {1, 2, 3}
    with pytest.raises(DecisionError, match="has no order"):
        t["choice"].ops.condition(t["choice"], "<", 2)
    with pytest.raises(DecisionError, match="conditions on a float"):
        t["float"].ops.condition(t["float"], "==", 0.5)
    with pytest.raises(DecisionError, match="unknown comparison"):
        t["ordinal"].ops.condition(t["ordinal"], "=~", 1)


def test_params_and_describe_come_from_the_kinds() -> None:
    g = SPACE.encode({**SPACE.decode(SPACE.table.default_genome), "ordinal": 8, "perm": ["z", "x", "y"]})
    p = SPACE.params(g)
    assert p["ordinal"] == 8 and p["perm"] == ["z", "x", "y"] and p["choice"] == "a" and p["int"] == 1
    text = SPACE.describe()
    assert "{2 < 4 < 8 < 16}" in text and "2 of {'p', 'q', 'r', 's'}" in text and "[0, 96] step 16" in text


# -- the same behaviour as the per-kind code still in other files -------------------------------------------------

def _legacy_kinds(d: sn.Decision) -> bool:
    return d.kind != "ordinal"  # the new kind: those files do not know it yet


def test_table_fill_equals_the_optuna_wrappers_conditional_walk() -> None:
    from tests.spaces_for_tests import cnn_space

    space = cnn_space()
    t = space.table
    for seed in range(30):
        rng = random.Random(seed)
        g = t.fill(lambda d: d.sample(rng))
        assert t.validate(g) == g and g == t.sample(random.Random(seed))


def test_dna_numbers_round_trip() -> None:
    for seed in range(20):
        g = SPACE.sample(seed=seed)
        assert all(d.ops.from_dna(d, d.ops.to_dna(d, g[d.offset:d.offset + d.width])) ==
                   tuple(g[d.offset:d.offset + d.width]) for d in DECISIONS)


def test_dsl_calls_equal_the_printer() -> None:
    from symnas.dsl.printer import format_value
    from symnas.dsl.values import literal

    for ph in SPACE.tree.values():
        fname, args, kw = kind_of(ph).dsl_call(ph, format_value, literal)
        assert f"{fname}({', '.join(args + kw)})" == format_value(ph)


def test_trace_values_equal_define_by_run() -> None:
    from symnas.space.trace import _alternatives, _value

    for ph in SPACE.tree.values():
        k = kind_of(ph)
        assert k.trace_value(ph, None) == _value(ph, None)
        alts = k.trace_alternatives(ph, 32)
        assert alts == _alternatives(ph)
        for gene in alts:
            assert k.trace_value(ph, gene) == _value(ph, gene)


# -- JSON, owned by the placeholder classes ------------------------------------------------------------------------

def test_every_placeholder_class_has_a_json_tag_and_round_trips() -> None:
    assert set(JSON_TAGS) == {"_oneof", "_ordinal", "_manyof", "_int", "_float", "_perm"}
    for ph in SPACE.tree.values():
        assert JSON_TAGS[next(iter(encode(ph)))] is type(ph)
        back = decode(json.loads(json.dumps(encode(ph))))
        assert back == ph and type(back) is type(ph)


@pytest.mark.parametrize("text, expected", [
    ('{"_oneof": [1, 2], "name": "k", "ordered": true, "hints": "x"}', sn.oneof([1, 2], "k", ordered=True, hints="x")),
    ('{"_manyof": ["a", "b", "c"], "k": 2, "distinct": false, "sorted": true}',
     sn.manyof(2, ["a", "b", "c"], distinct=False, sorted=True)),
    ('{"_int": [0, 64], "name": "w", "step": 16}', sn.intv(0, 64, "w", step=16)),
    ('{"_int": [1, 64], "log": true}', sn.intv(1, 64, log=True)),
    ('{"_float": [0.001, 1.0], "scale": "log"}', sn.floatv(0.001, 1.0, scale="log")),
    ('{"_float": [0.0, 1.0], "step": 0.5, "hints": {"default": 0.5}}',
     sn.floatv(0.0, 1.0, step=0.5, hints={"default": 0.5})),
    ('{"_perm": [{"_tuple": [1, 2]}, 3], "name": "p"}', sn.permutation([(1, 2), 3], "p")),
])
def test_json_written_before_the_kinds_reads_and_writes_the_same(text: str, expected: Placeholder) -> None:
    assert sn.from_json(text) == expected
    assert json.loads(sn.to_json(expected)) == json.loads(text)
    assert sn.to_json(expected) == json.dumps(json.loads(text))  # key order too: space hashes depend on it


def test_a_json_tag_cannot_be_taken_twice() -> None:
    with pytest.raises(SpaceError, match="JSON tag '_int' of Twice is taken by IntRange"):
        type("Twice", (Placeholder,), {"json_tag": "_int", "__slots__": ()})


def test_sizes_and_counts_unchanged() -> None:
    t = SPACE.table
    assert t["subset"].count() == 12 and t["subset_sorted"].count() == 6
    assert t["subset_rep"].count() == 27 and t["subset_rep_sorted"].count() == 6
    assert t["perm"].count() == 6 and t["int_step"].count() == 7 and t["float_step"].count() == 9
    assert math.isinf(t["float"].count()) and t["ordinal"].count() == 4
    assert math.isinf(SPACE.size)
    finite = sn.Space({k: v for k, v in SPACE.tree.items() if not k.startswith("float") or k == "float_step"})
    assert finite.size == math.prod(d.count() for d in finite.table.decisions)
    assert list(itertools.islice(iter(finite.table), 1))[0].kind == "choice"


@pytest.mark.parametrize("d", DECISIONS, ids=IDS)
def test_enumerate_is_lazy_and_agrees_with_grid(d: sn.Decision) -> None:
    it = d.ops.enumerate(d)
    if it is None:
        assert d.ops.float_genes and not d.step and math.isinf(d.count())
        with pytest.raises(DecisionError, match="cannot be enumerated"):
            Kind.grid(d.ops, d, 3)  # the listing grid; numeric kinds override it with spread values
        return
    assert not isinstance(it, list)
    listed = list(it)
    assert len(listed) == d.count() and all(d.check(g) is None for g in listed)
    assert listed == d.grid(10**9)


def test_placeholder_values() -> None:
    vals = {k: kind_of(ph).placeholder_values(ph) for k, ph in SPACE.tree.items()}
    assert vals["choice"] == ["a", "b", "c", "d"] and vals["ordinal"] == [2, 4, 8, 16]
    assert vals["int_step"] == [0, 16, 32, 48, 64, 80, 96] and vals["float_step"][:3] == [0.0, 0.125, 0.25]
    assert vals["float"] is None and vals["subset"] is None and vals["perm"] is None
    nested = sn.oneof([1, {"x": sn.intv(1, 2)}])
    assert kind_of(nested).placeholder_values(nested) is None


def test_a_subset_condition_tests_membership_only() -> None:
    d = SPACE.table["subset"]
    assert d.ops.condition(d, "==", 2) == {2}
    with pytest.raises(DecisionError, match="only test membership"):
        d.ops.condition(d, "<", 2)
