"""Every way in survives every boundary: {annotated, DSL, patched, traced, mixed dict} × {JSON round trip, SQLite
store reopened in a fresh process, `symnas export` snippet run in a fresh process, serial / process-pool / Ray
worker} build the same model (class tree, parameter shapes, outputs for the same build seed)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.portable_models for worker processes

import symnas as sn  # noqa: E402
from symnas.runtime import ProcessExecutor, SerialExecutor, ray_available, run  # noqa: E402
from symnas.store.sqlite import SQLiteStore  # noqa: E402
from tests import portable_models as pm  # noqa: E402

SEEDS = (0, 1, 2)  # genomes per kind: sampled with these seeds
FRESH_TIMEOUT = 300


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


def _each(kinds, fn):
    """``{kind: fn(kind)}``, a kind that fails keeping its exception (raised by :func:`_get` in its own test)."""
    out = {}
    for k in kinds:
        try:
            out[k] = fn(k)
        except Exception as exc:  # noqa: BLE001 - reported by that kind's test
            out[k] = exc
    return out


def _get(results, kind):
    got = results[kind]
    if isinstance(got, Exception):
        raise got
    return got


def _python(code: str, *args: str) -> str:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, env=_env(),
                         timeout=FRESH_TIMEOUT)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.fixture(scope="module")
def spaces():
    return _each(pm.KINDS, lambda k: pm.SPACES[k]())


@pytest.fixture(scope="module")
def genomes(spaces):
    return _each(pm.KINDS, lambda k: [_get(spaces, k).sample(seed=i) for i in SEEDS])


class _Expected:
    """What the original process builds for a kind and genome (memoised)."""

    def __init__(self, spaces):
        self.spaces, self.memo = spaces, {}

    def __call__(self, kind, genome):
        key = (kind, tuple(genome))
        if key not in self.memo:
            self.memo[key] = pm.signature(_get(self.spaces, kind).build(tuple(genome), seed=0))
        return self.memo[key]


@pytest.fixture(scope="module")
def expected(spaces, one_torch_thread):
    return _Expected(spaces)


@pytest.fixture(scope="module")
def stores(tmp_path_factory, spaces):
    """One SQLite store per kind with a few trials (the first one best)."""
    def make(k):
        path = str(tmp_path_factory.mktemp("stores") / f"{k}.db")
        study = sn.Study(_get(spaces, k), sn.algorithms.RandomSearch(seed=0), objectives="max",
                         store=SQLiteStore(path), name=k)
        genomes = []
        for i in range(len(SEEDS)):
            trial = study.ask()
            genomes.append(tuple(trial.genome))
            study.tell(trial, float(len(SEEDS) - i))
        return path, genomes

    return _each(pm.KINDS, make)


_REOPEN = """
import json, sys
import symnas as sn
from symnas.report import load_study
sn.allow_import("tests.portable_models.")   # the factories' module: the user's one step
from tests.portable_models import signature
out = {}
for kind, path in json.loads(sys.argv[1]).items():
    try:
        view = load_study(path)
        space = view.space
        out[kind] = [[list(r.genome), signature(space.build(r.genome, seed=0)),
                      signature(sn.build(view.description(r), seed=0))]
                     for r in sorted(view.records, key=lambda r: r.number)]
    except Exception as exc:
        out[kind] = {"error": f"{type(exc).__name__}: {exc}"}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def reopened(stores):
    paths = {k: v[0] for k, v in stores.items() if not isinstance(v, Exception)}
    got = json.loads(_python(_REOPEN, json.dumps(paths)).strip().splitlines()[-1])
    return _each(pm.KINDS, lambda k: _unwrap(got[k]) if k in got else _get(stores, k))


def _unwrap(got):
    if isinstance(got, dict) and "error" in got:
        raise AssertionError(f"in the fresh process: {got['error']}")
    return got


_SNIPPETS = """
import json, subprocess, sys
from symnas.cli.main import main
import contextlib, io
out = {}
for kind, path in json.loads(sys.argv[1]).items():
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            assert main(["export", path, "--format", "python", "--allow-import", "tests.portable_models"]) == 0
        out[kind] = buf.getvalue()
    except Exception as exc:
        out[kind] = {"error": f"{type(exc).__name__}: {exc}"}
print(json.dumps(out))
"""

_RUN_SNIPPET = """
import json, sys
{snippet}
from tests.portable_models import signature
print("SIGNATURE " + json.dumps(signature(model)))
"""


@pytest.fixture(scope="module")
def exported(stores):
    """The `symnas export --format python` snippet of each store's best trial, each run in a fresh process."""
    paths = {k: v[0] for k, v in stores.items() if not isinstance(v, Exception)}
    snippets = json.loads(_python(_SNIPPETS, json.dumps(paths)).strip().splitlines()[-1])

    def run_snippet(kind):
        text = _unwrap(snippets[kind]) if kind in snippets else _get(stores, kind)
        stdout = _python(_RUN_SNIPPET.format(snippet=text))
        return text, json.loads(stdout.split("SIGNATURE ", 1)[1])

    return _each(pm.KINDS, run_snippet)


def _run_workers(spaces, executor):
    """Runs a few trials of each kind through `symnas.runtime.run` on ``executor``; the workers record signatures."""
    def one(k):
        study = sn.Study(_get(spaces, k), sn.algorithms.RandomSearch(seed=0), objectives="max", name=k)
        run(study, pm.evaluate_signature, len(SEEDS), executor=executor)
        recs = sorted(study.records, key=lambda r: r.number)
        assert len(recs) == len(SEEDS) and all(r.state == "complete" for r in recs), [r.error for r in recs]
        return [(tuple(r.genome), r.user_attrs["signature"]) for r in recs]

    return _each(pm.KINDS, one)


@pytest.fixture(scope="module")
def serial_workers(spaces):
    return _run_workers(spaces, SerialExecutor())


@pytest.fixture(scope="module")
def process_workers(spaces):
    with ProcessExecutor(max_workers=1, timeout=120) as ex:
        return _run_workers(spaces, ex)


@pytest.fixture(scope="module")
def ray_workers(spaces):
    import ray

    from symnas.runtime import RayExecutor

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if not ray.is_initialized():  # as tests/test_runtime_executors.py does: one Ray for the session
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=80 * 1024 * 1024)
    with RayExecutor(max_workers=1, timeout=120) as ex:
        return _run_workers(spaces, ex)


def _same(got, want, where):
    """Equal class tree and parameter shapes; outputs equal (to float rounding across processes)."""
    if isinstance(want, dict) and "classes" in want:
        assert isinstance(got, dict) and "classes" in got, f"{where}: got {got!r:.200}, not a model"
        assert got["classes"] == want["classes"], where
        assert got["shapes"] == want["shapes"], where
        assert got["out"] == pytest.approx(want["out"], rel=1e-6, abs=1e-7), where
    elif isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), f"{where}: {got!r:.200}"
        for k in want:
            _same(got[k], want[k], f"{where}.{k}")
    else:
        assert got == want, where


@pytest.mark.parametrize("kind", pm.KINDS)
def test_json_round_trip(kind, spaces, genomes, expected):
    original = _get(spaces, kind)
    space = sn.Space.from_json(original.to_json())
    assert space == original and space.table.conditional == original.table.conditional
    for g in _get(genomes, kind):
        want = expected(kind, g)
        _same(pm.signature(space.build(g, seed=0)), want, f"{kind}: Space.from_json(...).build")
        desc = sn.from_json(sn.to_json(original.decode(g)))
        assert desc == original.decode(g) and space.encode(desc) == tuple(g)
        _same(pm.signature(sn.build(desc, seed=0)), want, f"{kind}: sn.build(sn.from_json(description))")


@pytest.mark.parametrize("kind", pm.KINDS)
def test_store_reopened_in_a_fresh_process(kind, reopened, expected):
    assert len(_get(reopened, kind)) == len(SEEDS)
    for genome, from_space, from_description in _get(reopened, kind):
        want = expected(kind, genome)
        _same(from_space, want, f"{kind}: store space .build")
        _same(from_description, want, f"{kind}: store description")


@pytest.mark.parametrize("kind", pm.KINDS)
def test_export_snippet_in_a_fresh_process(kind, exported, stores, expected):
    text, got = _get(exported, kind)
    _same(got, expected(kind, _get(stores, kind)[1][0]), f"{kind}: symnas export snippet")  # the best: the first trial
    if kind in ("patched", "traced", "mixed", "annotated"):
        assert 'sn.allow_import("tests.portable_models.")' in text.replace("'", '"')


@pytest.mark.parametrize("kind", pm.KINDS)
def test_serial_worker(kind, serial_workers, expected):
    for genome, got in _get(serial_workers, kind):
        _same(got, expected(kind, genome), f"{kind}: serial worker")


@pytest.mark.parametrize("kind", pm.KINDS)
def test_process_pool_worker(kind, process_workers, expected):
    for genome, got in _get(process_workers, kind):
        _same(got, expected(kind, genome), f"{kind}: process-pool worker")


@pytest.mark.ray
@pytest.mark.skipif(not ray_available(), reason="Ray is not installed (the optional extra symnas[ray])")
@pytest.mark.parametrize("kind", pm.KINDS)
def test_ray_worker(kind, ray_workers, expected):
    for genome, got in _get(ray_workers, kind):
        _same(got, expected(kind, genome), f"{kind}: Ray worker")
