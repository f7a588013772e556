"""Hostile input: resource limits (each a DSLError at file:line:col with a hint, quickly) and safe imports."""
from __future__ import annotations

import os
import time

import pytest

import symnas.dsl as dsl
from symnas.dsl import DSLError, limits
from symnas.errors import SymnasError
from symnas.symbolic.placeholders import FloatRange, IntRange
from symnas.space.space import Space


def _err(text: str, filename: str = "space.sns") -> DSLError:
    t = time.process_time()
    with pytest.raises(DSLError) as info:
        dsl.loads(text, filename=filename)
    assert time.process_time() - t < 2.0, "a limit must stop the work quickly"
    return info.value


@pytest.mark.parametrize("text, line, col, words", [
    ("x = " + "9" * 5000, 1, 5, "number literal too long"),
    ("x = 1" + "0" * 1250, 1, 5, "integer literal too large"),
    ("x = range(10**20)", 1, 5, "range too long"),
    ("let r = range(0, 10**30, 2)\nx = int(1, 2)", 1, 9, "range too long"),
    ("a = bool()\nb = bool()\nrequire reachable([[0, a], [0, b]], 0, 99)", 3, 9, "not one of 0..1"),
    ("x = int(1, 3)\nrequire sum([x for i in range(100000)]) < 0", 2, 9, "too large"),
    ("let n = [[i * j for i in range(100000)] for j in range(100000)]", 1, None, "evaluation too expensive"),
    ("let n = 10 ** 5000", 1, 9, "too large"),
    ("let n = 2.0 ** 100000", 1, 9, "overflow"),
    ("let n = round(5, -10**18)", 1, 9, "round"),
    ("let a = [0] * 100000\nlet b = [a] * 100000\nlet c = b == [[0] * 100000] * 100000", 3, 9, "too large"),
    ("let a = str([[0] * 1000] * 1000)", 1, 9, "too large"),
    ("x = " + "[" * 300 + "1" + "]" * 300, 1, None, "nested too deeply"),
    ("x = " + " + ".join(["1"] * 3000), 1, 5, "nested too deeply"),
    ("x = int(-10**1000, 10**1000)", 1, 5, "2**63"),
    ("x = [choice(1, 2) for i in range(100000)]", 1, None, "too expensive"),
    ("x = [repeat([choice(1, 2)], 10000) for i in range(30)]", 1, None, "too large"),
    ("x = edges()", 1, 5, "edges"),
])
def test_limits_are_clear_errors_at_the_place(text, line, col, words):
    e = _err(text)
    assert words in e.message, str(e)
    assert e.line == line, str(e)
    if col is not None:
        assert e.col == col, str(e)
    assert str(e).startswith(f"space.sns:{line}:")
    assert isinstance(e, SymnasError)


def test_limits_are_hinted():
    assert "hint:" in str(_err("x = range(10**20)"))
    assert "hint:" in str(_err("let n = [[i for i in range(100000)] for j in range(100000)]"))


def test_file_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 100)
    p = tmp_path / "big.sns"
    p.write_text("x = int(1, 2)\n" + "# padding\n" * 20)
    with pytest.raises(DSLError, match="too large"):
        dsl.load(str(p))


def test_non_utf8_file_names_the_byte(tmp_path):
    p = tmp_path / "bad.sns"
    p.write_bytes(b'x = choice(1, 2)\ny = "\xff"\n')
    with pytest.raises(DSLError) as info:
        dsl.load(str(p))
    assert (info.value.line, info.value.col) == (2, 6) and "UTF-8" in str(info.value)


def test_nul_bytes_anywhere(tmp_path):
    with pytest.raises(DSLError):
        dsl.loads("x = 1\x00")
    with pytest.raises(DSLError, match="NUL"):
        dsl.loads('import "a\\x00b.sns" as a', filename=str(tmp_path / "s.sns"))
    with pytest.raises(DSLError):
        dsl.load("a\x00b.sns")


# ------------------------------------------------------------------------------------------------ imports
@pytest.fixture
def folder(tmp_path):
    (tmp_path / "secret.txt").write_text("password=hunter2\n")
    (tmp_path / "common.sns").write_text('act = choice("relu", "gelu")\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "inner.sns").write_text('k = choice(3, 5)\n')
    outside = tmp_path.parent / (tmp_path.name + "_outside")
    outside.mkdir()
    (outside / "other.sns").write_text('w = choice(8, 16)\n')
    return tmp_path


def _load(folder, text: str, **kw):
    p = folder / "main.sns"
    p.write_text(text)
    return dsl.load(str(p), **kw)


@pytest.mark.parametrize("path, words", [
    ("secret.txt", "not a space file"),
    ("/dev/zero", "not a space file"),
    ("/etc/passwd", "not a space file"),
    ("../" + "x_outside/other.sns", "outside"),
    ("/tmp/x.sns", "outside"),
    ("nope.sns", "no such file"),
    ("sub", "not a space file"),
])
def test_imports_read_only_space_files_under_the_folder(folder, path, words):
    with pytest.raises(DSLError) as info:
        _load(folder, f'import "{path}" as s\nx = s.a\n')
    assert words in str(info.value)
    assert "hunter2" not in str(info.value)
    assert (info.value.line, info.value.col) == (1, 8)


def test_import_outside_through_a_symlink_is_refused(folder):
    os.symlink(folder.parent / (folder.name + "_outside") / "other.sns", folder / "link.sns")
    with pytest.raises(DSLError, match="outside"):
        _load(folder, 'import "link.sns" as o\nbuild {"w": o.w}\n')


def test_imports_below_the_folder_and_from_a_search_path(folder):
    s = _load(folder, 'import "sub/inner.sns" as i\nimport "common.sns" as c\nbuild {"k": i.k, "act": c.act}\n')
    assert [d.name for d in s.decisions] == ["k", "act"]
    outside = folder.parent / (folder.name + "_outside")
    with pytest.raises(DSLError, match="outside"):
        _load(folder, 'import "../' + outside.name + '/other.sns" as o\nbuild {"w": o.w}\n')
    s = _load(folder, 'import "other.sns" as o\nbuild {"w": o.w}\n', search_path=[str(outside)])
    assert [d.name for d in s.decisions] == ["w"]


def test_import_size_limit(folder, monkeypatch):
    (folder / "big.sns").write_text("x = int(1, 2)\n" + "#" * 500 + "\n")
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 300)
    with pytest.raises(DSLError, match="too large"):
        _load(folder, 'import "big.sns" as b\n')


def test_import_count_limit(folder, monkeypatch):
    monkeypatch.setattr(limits, "MAX_IMPORTS", 3)
    text = "".join(f'import "common.sns" as c{i}\n' for i in range(5))
    with pytest.raises(DSLError, match="too many imports"):
        _load(folder, text)


# ------------------------------------------------------------------------------------------------ sizes
def test_inspect_prints_huge_sizes():
    tree = {f"x{i}": IntRange(0, 2**40, f"x{i}") for i in range(323)}
    tree["lr"] = FloatRange(1e-4, 1e-1, "lr")
    first = dsl.inspect(Space(tree, "huge")).splitlines()[0]  # the core's size overflows a float: no crash
    assert first.startswith("space 'huge': 324 decisions, size ")
    tree = {f"x{i}": IntRange(0, 2**40, f"x{i}") for i in range(323)}
    assert "size about 2^" in dsl.inspect(Space(tree, "huge")).splitlines()[0]
    tree = {f"x{i}": IntRange(0, 2**40, f"x{i}") for i in range(100)}
    assert "e+" in dsl.inspect(Space(tree, "large")).splitlines()[0]


def test_format_size():
    from symnas.dsl.api import format_size

    assert format_size(576) == "576"
    assert format_size(10**400) == "1e+400"
    assert format_size(float("inf")) == "inf"
    assert format_size(2**50000).startswith("about 2^")
