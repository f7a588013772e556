"""Errors: file:line:col, the offending line with a caret, a hint; fuzzing raises only SymnasError, never hangs."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symnas.dsl as dsl
from symnas.dsl import DSLError
from symnas.errors import SymnasError


def _err(text: str) -> DSLError:
    with pytest.raises(DSLError) as info:
        dsl.loads(text, filename="space.sns")
    return info.value


@pytest.mark.parametrize("text, line, col, words", [
    ("a = choice(1, 2)\nbuild torch.nn.Linear(in_features=a, out_features=b)", 2, 51, "unknown name 'b'"),
    ("a = int(5, 1)", 1, 5, "low > high"),
    ("a = int(1.5, 3)", 1, 5, "type mismatch"),
    ("a = float(0.0, 1.0, log=True)", 1, 5, "log scale needs low > 0"),
    ("a = choice()", 1, 5, "empty choice"),
    ("a = choice(1, 2)\na = choice(3)", 2, 1, "duplicate name 'a'"),
    ("x = [choice(1, 2, name=\"k\"), choice(3, 4, name=\"k\")]", 1, 30, "duplicate decision name 'k'"),
    ("a = b\nb = c\nc = a", 3, 5, "reference cycle"),
    ("a = choice(1, 2, default=3)", 1, 5, "default 3 is not one of"),
    ("a = int(0, 9)\nrequire a > 100", 2, 9, "no point"),
    ("a = int(0, 9)\nbuild os.system(a)", 2, 7, "neither registered nor on the import allow-list"),
    ("a = int(0, 9)\nb = int(0, 9)\nbuild torch.nn.Linear(in_features=a, out_features=a)", 2, 1,
     "declared but not used"),
    ("a = choice(1, 2\nb = 3", 2, 1, "unexpected"),
    ("a = 1 +* 2", 1, 8, "unexpected"),
    ("a = 'abc", 1, 5, "unexpected character"),
    ("a = choice(1, 2)\nb = [c for c in a]", 2, 17, "known when the file is loaded"),
    ("a = int(0, 3, foo=1)", 1, 5, "unknown argument 'foo'"),
    ("a = bool(default=1)", 1, 5, "type mismatch"),
    ("a = 1 / 0", 1, 5, "division by zero"),
    ("a = \"x\" - 1", 1, 5, "type mismatch"),
    ("a = choice(1, 2)\nb = [choice(3, 4)] \nc = b * a", 3, 5, "unnamed decision cannot be used"),
    ("import \"nope.sns\" as n", 1, 8, "cannot read"),
    ("a = 9 ** 9 ** 9", 1, 5, "too large"),
    ("a = choice(1, 2)\nrequire zz > 1", 2, 9, "unknown name 'zz'"),
    ("a = {\"x\": 1,\n     2: 3}", 2, 6, "dict keys must be strings"),
])
def test_error_names_place_with_caret_and_hint(text, line, col, words):
    e = _err(text)
    assert (e.line, e.col) == (line, col), str(e)
    assert words in str(e)
    msg = str(e)
    assert msg.startswith(f"space.sns:{line}:{col}: ")
    shown, caret = msg.split("\n")[1:3]
    assert shown.strip() == text.splitlines()[line - 1].strip()
    assert caret.index("^") - 4 == col - 1  # 4 spaces of indent
    assert isinstance(e, SymnasError)


def test_hints_are_given():
    assert "did you mean 'width'" in str(_err("width = int(1, 4)\nbuild torch.nn.Linear(in_features=widht)"))
    assert "hint:" in str(_err("a = int(5, 1)"))


def test_unsatisfiable_small_space_is_checked_exactly():
    e = _err("a = choice(1, 2, 3)\nb = bool()\nrequire a > 2 and not b\nforbid a == 3")
    assert "no point of the 6" in str(e)


def test_import_cycle(tmp_path):
    (tmp_path / "a.sns").write_text('import "b.sns" as b\nx = int(1, 2)\n')
    (tmp_path / "b.sns").write_text('import "a.sns" as a\ny = int(1, 2)\n')
    with pytest.raises(DSLError, match="import cycle"):
        dsl.load(str(tmp_path / "a.sns"))


def test_unknown_builtin_space():
    with pytest.raises(DSLError, match="ready spaces: .*nasbench201"):
        dsl.load("no_such_space")


TOKENS = st.sampled_from([
    "a", "b", "x", "=", "let", "build", "require", "forbid", "space", "import", "as", "meta", "(", ")", "[", "]",
    "{", "}", ",", ":", ".", "*", "**", "+", "-", "/", "//", "%", "==", "<", "not", "in", "and", "or", "if",
    "else", "for", "choice", "int", "float", "bool", "subset", "permutation", "repeat", "ordinal", "value",
    "range", "str", "connected", "1", "0", "2.5", "1e-3", "'s'", '"t"', "True", "None", "\n", "#c\n",
    "torch.nn.Linear", "default=", "name=", "log=True", "step=",
])


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TOKENS, max_size=30).map(" ".join))
def test_fuzz_token_soup_only_raises_dsl_errors(text):
    try:
        dsl.loads(text)
    except SymnasError:
        pass


@settings(max_examples=200, deadline=2000)
@given(st.text(max_size=60))
def test_fuzz_any_text_only_raises_dsl_errors(text):
    try:
        dsl.loads(text)
    except SymnasError:
        pass


@settings(max_examples=200, deadline=2000)
@given(st.text(alphabet="abcx=()[]{},:*+-1 2\n'\"#.<>", max_size=40))
def test_fuzz_expression_evaluator(text):
    from symnas.dsl.interpreter import evaluate

    try:
        evaluate(text, {"a": 1, "b": [1, 2], "x": "s"})
    except SymnasError:
        pass


def _ready_texts() -> list[str]:
    from importlib import resources

    root = resources.files("symnas.spaces")
    return [root.joinpath(n + ".sns").read_text(encoding="utf-8") for n in dsl.builtin_spaces()]


@settings(max_examples=150, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 6), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 8),
                                             st.sampled_from(["", "(", ")", "[", "]", ",", "x", "0", "=", "*",
                                                              "\n", "choice(", "-1", "\"", "if", "for"])),
                                   min_size=1, max_size=3))
def test_fuzz_mutated_ready_spaces_only_raise_dsl_errors(which, edits):
    text = _ready_texts()[which]
    for pos, cut, insert in edits:  # delete `cut` characters at `pos` and insert a fragment
        pos %= len(text) + 1
        text = text[:pos] + insert + text[pos + cut:]
    try:
        dsl.loads(text)
    except SymnasError:
        pass
