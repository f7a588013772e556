"""The ``symnas`` command: ``search``, ``show``, ``export``, ``plot`` and ``space inspect|convert``.

Exit codes: 0 success, 1 runtime failure (a bad store, an evaluator that cannot run, ...), 2 usage error,
130 interrupted (Ctrl-C; the store stays consistent and the search resumes when run again). A failure prints one
line on stderr. ``show``, ``export`` and ``plot`` open the store read-only and never change it.

Example::

    symnas search nasbench201 --benchmark nasbench201 --algorithm evolution --trials 150 --store runs.db
    symnas show runs.db --top 5
    symnas export runs.db --format python
    symnas plot runs.db -o search.png
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Optional, Sequence

from symnas.errors import SymnasError

__all__ = ["main", "build_parser", "one_line"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``symnas`` command (every subcommand has ``--help``)."""
    from symnas.cli import search

    parser = argparse.ArgumentParser(prog="symnas", description="Neural architecture search on PyTorch.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--debug", action="store_true",
                        help="on an error, print the full message and the traceback (anywhere on the line)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    search.add_parser(sub)

    p = sub.add_parser("show", help="top trials, statuses and dedup statistics of a store",
                       description="Show a stored study: top-k table, trial statuses, dedup statistics.")
    p.add_argument("store", help="SQLite store file")
    p.add_argument("--name", help="study name (default: the last created)")
    p.add_argument("--top", type=int, default=10, help="rows of the table (default: 10)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_show)

    p = sub.add_parser("export", help="the best candidate as JSON, DSL and a Python snippet",
                       description="Export the best candidate (or --trial N) of a stored study.")
    p.add_argument("store", help="SQLite store file")
    p.add_argument("--name", help="study name (default: the last created)")
    p.add_argument("--trial", type=int, help="export this trial instead of the best")
    p.add_argument("--format", choices=["all", "json", "dsl", "python"], default="all",
                   help="what to print (default: all three)")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.add_argument("--allow-import", action="append", default=[], metavar="MODULE",
                   help="allow builders of this module or package (repeatable): the Python snippet of a description "
                        "naming code outside torch.nn and symnas.models needs your word for it (docs/security.md)")
    p.set_defaults(func=_export)

    p = sub.add_parser("plot", help="search curve (and Pareto front) as PNG",
                       description="Plot a stored study: search curve and, for several objectives, Pareto front.")
    p.add_argument("store", help="SQLite store file")
    p.add_argument("--name", help="study name (default: the last created)")
    p.add_argument("-o", "--output", default="search.png", help="PNG file (default: search.png)")
    p.set_defaults(func=_plot)

    sp = sub.add_parser("space", help="inspect or convert search-space files",
                        description="Search-space files: inspect or convert (via symnas.dsl).")
    ssub = sp.add_subparsers(dest="space_command", metavar="ACTION")
    p = ssub.add_parser("inspect", help="decisions, sizes and structure of a space",
                        description="Print what symnas.dsl.inspect says about a space file or built-in name.")
    p.add_argument("file", help="space file or built-in name")
    p.set_defaults(func=_space_inspect)
    p = ssub.add_parser("convert", help="convert a space file to another format",
                        description="Convert a space file with symnas.dsl.convert.")
    p.add_argument("file", help="space file")
    p.add_argument("--to", required=True, dest="fmt", metavar="FORMAT", help="target format")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.set_defaults(func=_space_convert)
    sp.set_defaults(func=lambda a: _usage(sp))
    return parser


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _write(text: str, path: Optional[str]) -> None:
    if path:
        with open(path, "w") as f:
            f.write(text if text.endswith("\n") else text + "\n")
    else:
        print(text)


def _show(args: argparse.Namespace) -> int:
    from symnas.report import load_study, show_dict, show_text

    view = load_study(args.store, args.name)
    print(json.dumps(show_dict(view, args.top)) if args.json else show_text(view, args.top))
    return 0


def _export(args: argparse.Namespace) -> int:
    from symnas.report import export_all, load_study
    from symnas.symbolic.spec import allow_import

    for module in args.allow_import:
        allow_import(module)
    view = load_study(args.store, args.name)
    if args.trial is None:
        rec = view.best()
    else:
        recs = [r for r in view.records if r.number == args.trial]
        if not recs:
            raise SymnasError(f"export: study {view.name!r} has no trial {args.trial}")
        rec = recs[0]
    out = export_all(view.description(rec), name=f"{view.name}_trial{rec.number}")
    if args.format == "dsl" and out["dsl"] is None:
        raise SymnasError(f"export --format dsl: {out['dsl_error']}")
    if args.format == "python" and out["python"] is None:
        raise SymnasError(out["python_error"])
    if args.format != "all":
        _write(out[args.format], args.output)
        return 0
    parts = [f"# trial {rec.number} of study {view.name!r}: {dict(zip(view.objectives, rec.values or ()))}",
             "## JSON", out["json"], "## DSL", out["dsl"] if out["dsl"] is not None else f"(not available: "
             f"{out['dsl_error']})", "## Python", out["python"] if out["python"] is not None else
             f"(not available: {out['python_error']})"]
    _write("\n".join(parts), args.output)
    return 0


def _plot(args: argparse.Namespace) -> int:
    from symnas.report import load_study, plot_study

    print(plot_study(load_study(args.store, args.name), args.output))
    return 0


def _space_inspect(args: argparse.Namespace) -> int:
    from symnas.dsl import inspect, load

    print(inspect(load(args.file)))
    return 0


def _space_convert(args: argparse.Namespace) -> int:
    from symnas.dsl import convert

    _write(convert(args.file, args.fmt), args.output)
    return 0


def one_line(exc: BaseException) -> str:
    """An error as one line: its first line, with any ``hint:`` lines appended (the source excerpt and caret of a
    DSL error are left for ``--debug``).

    Example::

        >>> one_line(ValueError("f.sns:2:1: unexpected 'b'\\n    b=3\\n    ^\\n  hint: expected ')'"))
        "f.sns:2:1: unexpected 'b' (hint: expected ')')"
    """
    lines = str(exc).splitlines() or [type(exc).__name__]
    hints = [ln.strip()[5:].strip() for ln in lines[1:] if ln.strip().startswith("hint:")]
    return lines[0] + "".join(f" (hint: {h})" for h in hints)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the command line; returns the exit code (0 ok, 1 runtime failure, 2 usage, 130 interrupted).

    Every error is printed as one line ``symnas COMMAND: error: ...``; ``--debug`` prints the whole message and
    the traceback instead.
    """
    import traceback

    from symnas.cli.search import UsageError

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help exits 0, usage errors 2
        return int(exc.code or 0)
    if args.version:
        import symnas

        print(symnas.__version__)
        return 0
    if not getattr(args, "func", None):
        return _usage(parser)

    def report(exc: BaseException, kind: str = "error") -> None:
        if debug:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        print(f"symnas {args.command}: {kind}: {str(exc) if debug else one_line(exc)}", file=sys.stderr)

    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        report(exc)
        return 2
    except SymnasError as exc:
        report(exc)
        return 1
    except KeyboardInterrupt:
        print(f"symnas {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except OSError as exc:  # a file that cannot be opened or written
        report(exc)
        return 1
    except Exception as exc:  # noqa: BLE001 - a bug, still one line unless --debug
        if not debug:
            print(f"symnas {args.command}: internal error: {type(exc).__name__}: {one_line(exc)} (run with "
                  "--debug for the traceback)", file=sys.stderr)
        else:
            report(exc, "internal error")
        return 1


if __name__ == "__main__":
    sys.exit(main())
