"""Parsing ``.sns`` text with lark into a syntax tree; lark's errors become :class:`DSLError` with a hint.

Example::

    tree = parse(Source("x = int(1, 3)", "a.sns"))      # a lark Tree
    expr = parse_expr("a + 1 <= 9")                      # one expression
"""
from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import lark

from symnas.dsl.errors import Source

__all__ = ["parse", "parse_expr", "grammar_text", "KEYWORDS", "position"]

KEYWORDS = frozenset("space import as let build require forbid meta if else for in not and or True False None".split())
_MAX_TEXT = 5_000_000


@functools.lru_cache(maxsize=1)
def grammar_text() -> str:
    """The lark grammar of the language (``symnas/grammar/symnas.lark``)."""
    return resources.files("symnas.grammar").joinpath("symnas.lark").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def _parser() -> lark.Lark:
    return lark.Lark(grammar_text(), parser="lalr", start=["start", "expr_only"], propagate_positions=False,
                     maybe_placeholders=True, cache=False)


_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "LPAR": "'('", "RPAR": "')'", "LSQB": "'['",
    "RSQB": "']'", "LBRACE": "'{'", "RBRACE": "'}'", "COMMA": "','", "EQUAL": "'='", "COLON": "':'",
    "DOT": "'.'", "ADD_OP": "'+'/'-'", "MUL_OP": "'*'", "$END": "end of file",
}


def _expected(names: Any) -> str:
    shown = sorted({_NAMES.get(n, n.lower() if n.isupper() else repr(n)) for n in names})
    return ", ".join(shown[:8]) + (", ..." if len(shown) > 8 else "")


def _run(src: Source, start: str) -> Any:
    if len(src.text) > _MAX_TEXT:
        raise src.error(f"file too large ({len(src.text)} characters)", 1, 1)
    try:
        return _parser().parse(src.text, start=start)
    except lark.exceptions.UnexpectedCharacters as e:
        ch = src.text[e.pos_in_stream] if e.pos_in_stream is not None and e.pos_in_stream < len(src.text) else "?"
        hint = "strings use double or single quotes on one line; comments start with '#'"
        raise src.error(f"unexpected character {ch!r}", e.line, e.column, hint) from None
    except lark.exceptions.UnexpectedEOF as e:
        lines = src.lines or [""]
        raise src.error("unexpected end of file", len(lines), len(lines[-1]) + 1,
                        f"expected {_expected(e.expected)}; is a bracket left open?") from None
    except lark.exceptions.UnexpectedToken as e:
        tok = e.token
        if tok.type == "$END":
            lines = src.lines or [""]
            raise src.error("unexpected end of file", len(lines), len(lines[-1]) + 1,
                            f"expected {_expected(e.expected)}; is a bracket left open?") from None
        hint = f"expected {_expected(e.expected)}"
        if str(tok) in KEYWORDS:
            hint += f"; {str(tok)!r} is a reserved word"
        raise src.error(f"unexpected {str(tok)!r}", tok.line, tok.column, hint) from None
    except lark.exceptions.LarkError as e:  # pragma: no cover - other lark failures
        raise src.error(f"syntax error: {e}", 1, 1) from None
    except RecursionError:
        raise src.error("expression nested too deeply", 1, 1) from None


def parse(src: Source) -> lark.Tree:
    """The syntax tree of a whole file."""
    return _run(src, "start")


@functools.lru_cache(maxsize=4096)
def parse_expr(text: str) -> lark.Tree:
    """The syntax tree of one expression (constraints, derived values); cached by text."""
    return _run(Source(text, "<expr>"), "expr_only").children[0]


def position(node: Any) -> tuple[Any, Any]:
    """``(line, column)`` of the first token under ``node`` (positions are not stored on trees: it halves the
    parse time), or ``(None, None)``."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, lark.Token):
            return n.line, n.column
        if isinstance(n, lark.Tree):
            stack.extend(c for c in reversed(n.children) if c is not None)
    return None, None
