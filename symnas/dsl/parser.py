"""Parsing ``.sns`` text into the typed syntax tree of :mod:`symnas.dsl.nodes`.

lark's LALR parser runs with a Transformer applied during the parse (no intermediate parse tree): each grammar
rule becomes one node dataclass carrying the ``line``/``col`` of its first token. lark's errors, over-long number
literals, bad string escapes and over-deep nesting become :class:`DSLError` with ``file:line:col`` and a hint.

Example::

    module = parse(Source("x = int(1, 3)", "a.sns"))     # nodes.Module
    expr = parse_expr("a + 1 <= 9")                      # nodes.Compare
"""
from __future__ import annotations

import functools
from importlib import resources
from typing import Any, Optional

import lark

from symnas.dsl import limits
from symnas.dsl import nodes as N
from symnas.dsl.errors import Source

__all__ = ["parse", "parse_expr", "grammar_text", "KEYWORDS", "string", "number"]

KEYWORDS = frozenset("space import as let build require forbid meta if else for in not and or True False None".split())


class _At(Exception):
    """Internal: a problem found while building nodes, at ``line:col`` (the parse turns it into a DSLError)."""

    def __init__(self, message: str, line: Optional[int], col: Optional[int], hint: str = "") -> None:
        super().__init__(message)
        self.message, self.line, self.col, self.hint = message, line, col, hint


@functools.lru_cache(maxsize=1)
def grammar_text() -> str:
    """The lark grammar of the language (``symnas/grammar/symnas.lark``)."""
    return resources.files("symnas.grammar").joinpath("symnas.lark").read_text(encoding="utf-8")


def number(text: str, line: Optional[int] = None, col: Optional[int] = None) -> Any:
    """The int or float a NUMBER token stands for (bounded: :data:`limits.MAX_NUMBER_DIGITS`)."""
    if len(text) > limits.MAX_NUMBER_DIGITS:
        raise _At(f"number literal too long ({len(text)} characters, at most {limits.MAX_NUMBER_DIGITS})", line, col,
                  f"integers are limited to {limits.MAX_INT_BITS} bits")
    if any(ch in text for ch in ".eE"):
        return float(text)
    v = int(text)
    if v.bit_length() > limits.MAX_INT_BITS:
        raise _At(f"integer literal too large ({v.bit_length()} bits, at most {limits.MAX_INT_BITS})", line, col,
                  "use a float (1e400 is inf) or a smaller number")
    return v


def string(text: str, line: Optional[int] = None, col: Optional[int] = None) -> str:
    """The value of a STRING token (Python escapes; never evaluates code)."""
    if "\\" not in text and len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]  # no escapes: the fast path
    import ast

    try:
        v = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise _At(f"bad string literal {text[:40]}", line, col, "escapes are those of Python strings") from None
    if not isinstance(v, str):  # pragma: no cover - the token regex only admits string literals
        raise _At(f"bad string literal {text[:40]}", line, col)
    return v


def _pos(children: Any) -> tuple[Optional[int], Optional[int], int, int]:
    """(line, col) of the first child that has a place, 1 + the deepest child's depth, 1 + the children's sizes."""
    line = col = None
    depth = 0
    size = 1
    for c in children:
        if c is None:
            continue
        if isinstance(c, lark.Token):
            if line is None:
                line, col = c.line, c.column
        else:
            if line is None and c.line is not None:
                line, col = c.line, c.col
            if c.depth > depth:
                depth = c.depth
            size += c.size
    depth += 1
    if depth > limits.MAX_DEPTH:
        raise _At(f"expression nested too deeply (more than {limits.MAX_DEPTH} levels)", line, col,
                  "split it into named parts: let part = ...")
    return line, col, depth, size


def _tok(t: lark.Token) -> tuple[int, int]:
    return t.line, t.column  # type: ignore[return-value]


class _ToAST(lark.Transformer):
    """Grammar rule -> node. Keyword tokens are filtered by lark; optional parts come as ``None``."""

    # ------------------------------------------------------------------------------------------ statements
    def start(self, c: list) -> N.Module:
        return N.Module(1, 1, tuple(c))

    def expr_only(self, c: list) -> Any:
        return c[0]

    def space_stmt(self, c: list) -> N.SpaceStmt:
        line, col = _tok(c[0])
        return N.SpaceStmt(line, col, string(str(c[0]), line, col))

    def import_stmt(self, c: list) -> N.Import:
        line, col = _tok(c[0])
        return N.Import(line, col, string(str(c[0]), line, col), str(c[1]))

    def let_stmt(self, c: list) -> N.Bind:
        line, col = _tok(c[0])
        return N.Bind(line, col, str(c[0]), c[1], True)

    def bind_stmt(self, c: list) -> N.Bind:
        line, col = _tok(c[0])
        return N.Bind(line, col, str(c[0]), c[1], False)

    def build_stmt(self, c: list) -> N.Build:
        return N.Build(c[0].line, c[0].col, c[0])

    def require_stmt(self, c: list) -> N.Constraint:
        return N.Constraint(c[0].line, c[0].col, "require", c[0])

    def forbid_stmt(self, c: list) -> N.Constraint:
        return N.Constraint(c[0].line, c[0].col, "forbid", c[0])

    def meta_stmt(self, c: list) -> N.Meta:
        return N.Meta(c[0].line, c[0].col, c[0])

    # ------------------------------------------------------------------------------------------ operators
    def ifexp(self, c: list) -> N.IfExp:
        line, col, d, z = _pos(c)
        return N.IfExp(line, col, c[0], c[1], c[2], depth=d, size=z)

    def or_(self, c: list) -> N.BoolOp:
        line, col, d, z = _pos(c)
        return N.BoolOp(line, col, "or", c[0], c[1], depth=d, size=z)

    def and_(self, c: list) -> N.BoolOp:
        line, col, d, z = _pos(c)
        return N.BoolOp(line, col, "and", c[0], c[1], depth=d, size=z)

    def not_(self, c: list) -> N.UnaryOp:
        line, col, d, z = _pos(c)
        return N.UnaryOp(line, col, "not", c[0], depth=d, size=z)

    def comp_op(self, c: list) -> str:
        return " ".join(str(x) for x in c)

    def compare(self, c: list) -> N.Compare:
        exprs = c[::2]
        line, col, d, z = _pos(exprs)
        return N.Compare(line, col, c[0], tuple(c[1::2]), tuple(c[2::2]), depth=d, size=z)

    def binop(self, c: list) -> N.BinOp:
        line, col, d, z = _pos(c)
        return N.BinOp(line, col, str(c[1]), c[0], c[2], depth=d, size=z)

    def pow(self, c: list) -> N.BinOp:
        line, col, d, z = _pos(c)
        return N.BinOp(line, col, "**", c[0], c[2], depth=d, size=z)

    def unary(self, c: list) -> N.UnaryOp:
        line, col, d, z = _pos(c)
        return N.UnaryOp(line, col, str(c[0]), c[1], depth=d, size=z)

    # ------------------------------------------------------------------------------------------ postfix
    def call(self, c: list) -> N.Call:
        args = tuple(c[1]) if c[1] is not None else ()
        line, col, d, z = _pos([c[0], *args])
        return N.Call(line, col, c[0], args, depth=d, size=z)

    def args(self, c: list) -> list:
        return [a for a in c if a is not None]

    def kwarg(self, c: list) -> N.Keyword:
        line, col = _tok(c[0])
        _, _, d, z = _pos(c[1:])
        return N.Keyword(line, col, str(c[0]), c[1], depth=d, size=z)

    def stararg(self, c: list) -> N.Starred:
        line, col = _tok(c[0])
        _, _, d, z = _pos(c[1:])
        return N.Starred(line, col, c[1], depth=d, size=z)

    def getitem(self, c: list) -> N.Subscript:
        line, col, d, z = _pos(c)
        return N.Subscript(line, col, c[0], c[1], depth=d, size=z)

    def getattr(self, c: list) -> N.Attribute:
        line, col, d, z = _pos(c)
        return N.Attribute(line, col, c[0], str(c[1]), depth=d, size=z)

    # ------------------------------------------------------------------------------------------ atoms
    def number(self, c: list) -> N.Literal:
        line, col = _tok(c[0])
        return N.Literal(line, col, number(str(c[0]), line, col))

    def string(self, c: list) -> N.Literal:
        line, col = _tok(c[0])
        return N.Literal(line, col, string(str(c[0]), line, col))

    def name(self, c: list) -> N.Name:
        line, col = _tok(c[0])
        return N.Name(line, col, str(c[0]))

    def true(self, c: list) -> N.Literal:
        return N.Literal(None, None, True)

    def false(self, c: list) -> N.Literal:
        return N.Literal(None, None, False)

    def none(self, c: list) -> N.Literal:
        return N.Literal(None, None, None)

    def list(self, c: list) -> N.ListExpr:
        items = tuple(x for x in c if x is not None)
        line, col, d, z = _pos(items)
        return N.ListExpr(line, col, items, depth=d, size=z)

    def tuple(self, c: list) -> N.TupleExpr:
        items = tuple(x for x in c if x is not None)
        line, col, d, z = _pos(items)
        return N.TupleExpr(line, col, items, depth=d, size=z)

    def dict(self, c: list) -> N.DictExpr:
        pairs = [p for p in c if p is not None]
        line, col, d, z = _pos([x for p in pairs for x in p])
        return N.DictExpr(line, col, tuple(p[0] for p in pairs), tuple(p[1] for p in pairs), depth=d, size=z)

    def pair(self, c: list) -> tuple:
        return (c[0], c[1])

    def listcomp(self, c: list) -> N.ListComp:
        body, var, it, cond = c
        line, col, d, z = _pos([body, it, cond])
        return N.ListComp(line, col, body, str(var), it, cond, depth=d, size=z)


@functools.lru_cache(maxsize=1)
def _parser() -> lark.Lark:
    return lark.Lark(grammar_text(), parser="lalr", start=["start", "expr_only"], propagate_positions=False,
                     maybe_placeholders=True, cache=False, transformer=_ToAST())


_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "LPAR": "'('", "RPAR": "')'", "LSQB": "'['",
    "RSQB": "']'", "LBRACE": "'{'", "RBRACE": "'}'", "COMMA": "','", "EQUAL": "'='", "COLON": "':'",
    "DOT": "'.'", "ADD_OP": "'+'/'-'", "MUL_OP": "'*'", "$END": "end of file",
}


def _expected(names: Any) -> str:
    shown = sorted({_NAMES.get(n, n.lower() if n.isupper() else repr(n)) for n in names})
    return ", ".join(shown[:8]) + (", ..." if len(shown) > 8 else "")


def _run(src: Source, start: str) -> Any:
    if len(src.text) > limits.MAX_FILE_BYTES:
        raise src.error(f"file too large ({len(src.text)} characters, at most {limits.MAX_FILE_BYTES})", 1, 1,
                        "split the space into files joined by import")
    try:
        return _parser().parse(src.text, start=start)
    except _At as e:
        raise src.error(e.message, e.line, e.col, e.hint) from None
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
        raise src.error(f"syntax error: {str(e)[:200]}", 1, 1) from None
    except RecursionError:  # pragma: no cover - nesting is bounded by MAX_DEPTH above
        raise src.error("expression nested too deeply", 1, 1) from None


def parse(src: Source) -> N.Module:
    """The syntax tree of a whole file."""
    return _run(src, "start")


_EXPR_CACHE: dict[str, N.Expr] = {}
_EXPR_CACHE_SIZE = 4096


def parse_expr(text: str, where: str = "<expr>") -> N.Expr:
    """The syntax tree of one expression (constraints and derived values stored as text); cached by text."""
    hit = _EXPR_CACHE.get(text)
    if hit is not None:
        return hit
    node = _run(Source(text, where), "expr_only")
    remember_expr(text, node)
    return node


def remember_expr(text: str, node: N.Expr) -> None:
    """Records that ``text`` is the canonical text of ``node`` (so it is never parsed again in this process)."""
    if len(_EXPR_CACHE) >= _EXPR_CACHE_SIZE:
        _EXPR_CACHE.clear()
    _EXPR_CACHE[text] = node

