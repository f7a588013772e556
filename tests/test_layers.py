"""The import graph of the installed package: one-way layers, no cycles, no private names across packages.

The allowed order is written here once (README, "How it fits together", shows the same table): a package may
import packages of lower layers only; packages of one layer are independent of each other. Every ``import``
statement counts, the ones inside functions too: a lazy import is still a dependency.
"""
from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from typing import Iterator

import pytest

import symnas
import symnas.algorithms

# Lowest first. "__init__" is the public facade (``symnas/__init__.py``), "errors" is ``symnas/errors.py``.
LAYERS: list[tuple[str, ...]] = [
    ("errors",),
    ("symbolic",),                       # placeholders, specs, sn.nn layer specs, tree edits, JSON
    ("genome",),                         # decision table, templates, compile a tree into a table
    ("candidate",),                      # build a description into objects (the one place weights appear)
    ("space",),                          # Space, rules (patch), trace, PyGlove interop, cell encodings
    ("dsl", "algorithms", "store"),      # DSL and importers; algorithms (see genomes only); stores
    ("hash", "models"),                  # functional/structural keys and the dedup cache; ready model families
    ("search",),                         # Study, Trial, pruners, composition
    ("evaluator",),                      # evaluators (tables, training)
    ("supernet", "runtime"),             # weight sharing; executors and the search loop
    ("report",),                         # show, export, plots
    ("__init__",),                       # the public facade (re-exports only)
    ("cli",),                            # the command line
]
LEVEL = {name: i for i, layer in enumerate(LAYERS) for name in layer}


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    names: tuple[str, ...]
    where: str

    def __str__(self) -> str:
        return f"{self.where}: {self.src} -> {self.dst} {', '.join(self.names)}".rstrip()


def _files(package_dir: str) -> Iterator[str]:
    for dirpath, _, files in os.walk(package_dir):
        for f in sorted(files):
            if f.endswith(".py"):
                yield os.path.join(dirpath, f)


def package_of(module: str) -> str:
    """``symnas.space.rules`` -> ``space``; ``symnas`` -> ``__init__``; ``symnas.errors`` -> ``errors``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def edges(roots: dict[str, str]) -> list[Edge]:
    """Every import of a symnas module by a module of another symnas package, under ``roots`` (package -> dir)."""
    out: list[Edge] = []
    for top, directory in roots.items():
        for path in _files(directory):
            rel = os.path.relpath(path, directory)
            inner = rel[:-3].replace(os.sep, ".")
            module = f"{top}.{inner}".removesuffix(".__init__")
            src = package_of(module) if top == "symnas" else top.split(".")[1]
            tree = ast.parse(open(path, encoding="utf-8").read(), path)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    targets = [(a.name, ()) for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    targets = [(node.module, tuple(a.name for a in node.names))]
                else:
                    continue
                for mod, names in targets:
                    if mod.split(".")[0] != "symnas":
                        continue
                    dst = package_of(mod)
                    if dst != src:
                        out.append(Edge(src, dst, names, f"{top}/{rel}:{node.lineno}"))
    return out


def violations(all_edges: list[Edge]) -> list[str]:
    bad = []
    for e in all_edges:
        if e.src not in LEVEL or e.dst not in LEVEL:
            bad.append(f"{e}: package not placed in LAYERS (add it to the table in tests/test_layers.py)")
        elif LEVEL[e.dst] >= LEVEL[e.src]:
            kind = "sideways" if LEVEL[e.dst] == LEVEL[e.src] else "upward"
            bad.append(f"{e}: {kind} import ({e.src} is layer {LEVEL[e.src]}, {e.dst} is layer {LEVEL[e.dst]})")
        private = [n for n in e.names if n.startswith("_") and not n.startswith("__")]
        if private:
            bad.append(f"{e}: private name(s) {', '.join(private)} used across packages")
    return bad


def installed_roots() -> dict[str, str]:
    return {"symnas": os.path.dirname(symnas.__file__),
            "symnas.algorithms": os.path.dirname(symnas.algorithms.__file__)}


def test_every_import_goes_down_a_layer():
    found = edges(installed_roots())
    assert found, "no cross-package import found: the walker is broken"
    bad = violations(found)
    assert not bad, "import graph breaks the layer order:\n" + "\n".join(bad)


def test_every_package_is_placed():
    root = os.path.dirname(symnas.__file__)
    packages = {d for d in os.listdir(root) if os.path.isfile(os.path.join(root, d, "__init__.py"))}
    packages |= {f[:-3] for f in os.listdir(root) if f.endswith(".py")}
    packages |= {"algorithms"}
    missing = sorted(p for p in packages if p not in LEVEL and p not in {"grammar", "spaces"})
    assert not missing, f"packages missing from LAYERS: {missing}"


@pytest.mark.parametrize("src,dst,names,expect", [
    ("store", "hash", (), "upward"),
    ("dsl", "store", (), "sideways"),
    ("space", "genome", (), None),
    ("supernet", "candidate", ("_flatten",), "private"),
])
def test_checker_flags_what_it_should(src, dst, names, expect):
    bad = violations([Edge(src, dst, names, "x.py:1")])
    if expect is None:
        assert bad == []
    else:
        assert len(bad) == 1 and expect in bad[0]
