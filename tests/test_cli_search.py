"""The ``symnas`` command end to end, run as a user runs it (subprocesses)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def symnas(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "symnas.cli.main", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[Path, dict]:
    db = tmp_path_factory.mktemp("cli") / "nb.db"
    p = symnas("search", "nasbench201", "--benchmark", "nasbench201", "--trials", "40", "--seed", "1",
               "--store", str(db), "--dedup", "genome", "--json")
    assert p.returncode == 0, p.stderr
    return db, json.loads(p.stdout)


def test_search_json(store):
    db, out = store
    for key in ("best_value", "best_genome", "best_description", "trials", "evaluations", "dedup_hits", "failed"):
        assert key in out
    assert out["evaluations"] == 40 and out["failed"] == 0 and out["trials"] == 40 + out["dedup_hits"]
    assert out["best_description"]["kwargs"]["cell"] and 0 < out["best_value"] < 100
    again = symnas("search", "nasbench201", "--benchmark", "nasbench201", "--trials", "40", "--store", str(db),
                   "--dedup", "genome", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["evaluations"] == 40  # resumed: nothing to do


def test_show_export_plot(store, tmp_path):
    db, out = store
    p = symnas("show", str(db), "--top", "3")
    assert p.returncode == 0 and "complete" in p.stdout and "dedup:" in p.stdout
    assert f"{out['best_value']:.4f}" in p.stdout.splitlines()[6]
    p = symnas("export", str(db), "--format", "json")
    assert p.returncode == 0 and json.loads(p.stdout) == out["best_description"]
    p = symnas("export", str(db), "--format", "python")
    snippet = tmp_path / "snippet.py"
    snippet.write_text(p.stdout.replace("print(model)", "print(type(model).__name__)"))
    built = subprocess.run([sys.executable, str(snippet)], capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert built.returncode == 0 and "NB201Network" in built.stdout, built.stderr
    png = tmp_path / "s.png"
    p = symnas("plot", str(db), "-o", str(png))
    assert p.returncode == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluator_process_backend_with_failures(tmp_path):
    p = symnas("search", "nasbench201", "--evaluator", "tests.evaluators.faults:faulty", "--trials", "10",
               "--workers", "2", "--backend", "process", "--timeout", "1.5", "--json", "--store", str(tmp_path / "f.db"))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["evaluations"] == 10 and out["failed"] == 8 and out["best_value"] in (4.0, 9.0)


def test_help_and_exit_codes(tmp_path, capsys):
    from symnas.cli.main import main  # in-process: each subprocess pays symnas's import time

    p = symnas("--help")
    assert p.returncode == 0 and "usage: symnas" in p.stdout
    for args in (["search"], ["show"], ["export"], ["plot"], ["space"], ["space", "inspect"], ["space", "convert"]):
        assert main([*args, "--help"]) == 0, args
        assert "usage:" in capsys.readouterr().out
    assert main(["search"]) == 2                                   # missing SPACE
    assert main(["search", "nasbench201", "--backend", "gpu"]) == 2
    assert main(["search", "no-such-space", "--benchmark", "nasbench201"]) in (1, 2)
    assert main(["search", "nasbench201", "--evaluator", "nomodule:f"]) == 2
    assert main(["search", "nasbench201", "--algorithm", "no-such-algo"]) == 2
    assert main(["show", str(tmp_path / "missing.db")]) == 1
    assert "no such store file" in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists()


def test_algorithm_options(capsys):
    from symnas.cli.main import main
    from symnas.cli.search import parse_options

    assert parse_options(["population_size=10", "crossover=true", "mutation_sigma=0.1", "name=x y"]) == {
        "population_size": 10, "crossover": True, "mutation_sigma": 0.1, "name": "x y"}
    base = ["search", "nasbench201", "--benchmark", "nasbench201", "--trials", "30", "--json"]
    assert main([*base, "--algorithm", "evolution", "-o", "population_size=5", "-o", "tournament_size=5"]) == 0
    assert json.loads(capsys.readouterr().out)["evaluations"] == 30
    assert main([*base, "--algorithm", "evolution", "-o", "popsize=5"]) == 2
    assert "popsize" in capsys.readouterr().err
    assert main([*base, "--algorithm", "evolution", "-o", "tournament_size=50"]) == 2   # checked by the algorithm
    assert "tournament_size" in capsys.readouterr().err
    assert main([*base, "-o", "5"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_readme_main_job(capsys):
    """The quick start's main job, exactly as README writes it (after the install commands)."""
    import re
    import shlex

    from symnas.cli.main import main

    readme = (ROOT / "README.md").read_text()
    line = next(m for m in re.findall(r"```bash\n(.*?)\n```", readme, re.S) if "symnas search" in m)
    argv = shlex.split(line.split("&& symnas ", 1)[1])
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert re.search(r"\b150 evaluations\b", out) and "best {'value': 91.6066" in out  # README: the table's best
