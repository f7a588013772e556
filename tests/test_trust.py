"""The trust boundary (docs/security.md): no name in a file runs code unless the program allowed it.

Each hostile name is tried through every way in (JSON description, ``{"_ref": ...}`` value, DSL file, store, exported
Python snippet, command line) with a canary: a file the payload would create if it ran. Every attempt must end in a
symnas error and leave no canary.
"""
from __future__ import annotations

import importlib
import json
import os
import pickle
import sqlite3
import subprocess
import sys
import types
from pathlib import Path

import pytest

import symnas as sn
from symnas.errors import BuildError, SymnasError
from symnas.symbolic import spec as spec_mod
from symnas.symbolic.jsonio import Ref
from symnas.symbolic.spec import allow_import, allowed_modules, is_allowed, resolve

ROOT = Path(__file__).resolve().parents[1]

SHELL_PATHS = ["symnas.cli.search.os.system", "symnas.space.spec.inspect.os.system",
               "symnas.symbolic.spec.inspect.os.system", "torch.nn.modules.module.os.system",
               "symnas.models.resnet.register.__globals__", "torch.nn.functional.importlib.import_module",
               "torch.nn.modules.module.torch.load", "symnas.cli.main.sys.modules"]


class _Payload:
    """Unpickling this creates the canary (what ``torch.load(..., weights_only=False)`` would run)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.path}",))


@pytest.fixture
def canary(tmp_path, monkeypatch):
    """``(canary path, hostile calls)``: each call is ``(target, args, kwargs)`` that would create the canary."""
    path = tmp_path / "CANARY"
    evil = tmp_path / "evilmod.py"
    evil.write_text(f"open({str(path)!r}, 'w').write('pwned')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    pkl = tmp_path / "weights.pt"
    pkl.write_bytes(pickle.dumps(_Payload(str(path))))
    calls = [(p, [f"touch {path}"], {}) for p in SHELL_PATHS if p.endswith("system")]
    calls += [("torch.nn.modules.module.torch.load", [str(pkl)], {"weights_only": False}),
              ("torch.nn.functional.importlib.import_module", ["evilmod"], {}),
              ("symnas.symbolic.spec.allow_import", [""], {}),
              ("symnas.space.spec.allow_import", [""], {})]
    before = allowed_modules()
    yield path, calls
    assert allowed_modules() == before, "a file widened the allow-list"
    sys.modules.pop("evilmod", None)
    assert not path.exists(), "hostile input ran code"


def _json_spec(target: str, args: list, kwargs: dict) -> str:
    return json.dumps({"_spec": target, "args": args, "kwargs": kwargs})


def test_json_description(canary):
    path, calls = canary
    for target, args, kwargs in calls:
        desc = sn.from_json(_json_spec(target, args, kwargs))     # reading never resolves
        with pytest.raises(BuildError, match="not allowed|cannot import"):
            sn.build(desc)
        assert not path.exists(), target


def test_ref_value_is_not_an_arbitrary_callable(canary):
    path, calls = canary
    for target, args, kwargs in calls:
        ref = sn.from_json(json.dumps({"_ref": target}))
        assert isinstance(ref, Ref)
        with pytest.raises(BuildError):
            ref(*args, **kwargs)
        with pytest.raises(BuildError):
            sn.build(sn.from_json(json.dumps({"_spec": "torch.nn.modules.container.Sequential",
                                              "args": [{"_ref": target}]})))
        assert not path.exists(), target


def test_dsl_file(canary):
    import symnas.dsl as dsl

    path, calls = canary
    for target, args, kwargs in calls:
        call = ", ".join([json.dumps(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
        text = f"# a hostile file\nbuild {target}({call})\n"
        with pytest.raises(SymnasError, match="not allowed|allow-list|not registered"):
            space = dsl.loads(text, filename="hostile.sns")
            sn.build(space.decode(()))
        assert not path.exists(), target


def _hostile_store(db: Path, description: str, space: dict | None = None) -> None:
    from symnas.store.base import TrialRecord
    from symnas.store.sqlite import SQLiteStore

    with SQLiteStore(str(db)) as store:
        store.open_study("s", space=space or sn.Space([sn.oneof([0, 1])]).to_dict(), objectives={"acc": "max"},
                         algorithm="random")
        store.add_trial("s", TrialRecord(number=0, genome=(0,), state="complete", values=(1.0,),
                                         description=description))


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "symnas.cli.main", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_store_and_export_snippet(canary, tmp_path):
    from symnas.report import export_all, export_python, load_study

    path, calls = canary
    for i, (target, args, kwargs) in enumerate(calls):
        db = tmp_path / f"hostile{i}.db"
        _hostile_store(db, _json_spec(target, args, kwargs))
        view = load_study(str(db))
        desc = view.description(view.best())
        with pytest.raises(BuildError):
            sn.build(desc)
        with pytest.raises(SymnasError, match="neither registered nor allow-listed"):
            export_python(desc)
        out = export_all(desc)
        assert out["python"] is None and target in out["python_error"]
        # A snippet written by hand (or by an older version) still builds through the reader's allow-list.
        snippet = ("import symnas as sn\n"
                   f"description = sn.from_json({_json_spec(target, args, kwargs)!r})\n"
                   "model = sn.build(description, seed=0)\n")
        with pytest.raises(BuildError):
            exec(compile(snippet, "snippet.py", "exec"), {})  # noqa: S102 - the point of the test
        assert not path.exists(), target


def test_cli_export_show_and_search(canary, tmp_path):
    path, calls = canary
    target, args, kwargs = calls[0]
    db = tmp_path / "hostile.db"
    _hostile_store(db, _json_spec(target, args, kwargs))
    p = _cli("export", str(db), "--format", "python", cwd=tmp_path)
    assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1 and target in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
    p = _cli("export", str(db), cwd=tmp_path)
    assert p.returncode == 0 and "(not available:" in p.stdout
    p = _cli("show", str(db), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    for target, args, _ in calls[:2] + calls[-1:]:
        sns = tmp_path / "hostile.sns"
        sns.write_text(f"build {target}({json.dumps(args[0])})\n")
        p = _cli("search", str(sns), "--trials", "2", "--evaluator", "tests.evaluators.faults:square", cwd=ROOT)
        assert p.returncode != 0 and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
        assert "hostile.sns:1:" in p.stderr, p.stderr
    assert not path.exists()


def test_debug_flag_shows_traceback(tmp_path):
    p = _cli("show", str(tmp_path / "missing.db"), "--debug")
    assert p.returncode == 1 and "Traceback" in p.stderr and "no such store file" in p.stderr


def _module_attributes() -> list[tuple[str, str]]:
    """``(module, attr)`` for module-valued attributes of allow-listed modules: the general hostile shape."""
    out = []
    for name in ["torch.nn", "torch.nn.functional", "torch.nn.modules.module", "torch.nn.modules.conv",
                 "torch.nn.init", "symnas.models.resnet", "symnas.models.darts", "symnas.models.nasbench201"]:
        mod = importlib.import_module(name)
        for attr, v in vars(mod).items():
            if isinstance(v, types.ModuleType) and not v.__name__.startswith(name + "."):
                out.append((name, attr))
    return out


def test_no_path_reaches_through_another_module():
    shapes = _module_attributes()
    assert len(shapes) > 10
    for module, attr in shapes:
        inner = getattr(importlib.import_module(module), attr)
        with pytest.raises(BuildError, match="not allowed"):
            resolve(f"{module}.{attr}")
        names = [n for n, v in vars(inner).items() if callable(v) and not n.startswith("_")][:20]
        for n in names:
            with pytest.raises(BuildError):
                resolve(f"{module}.{attr}.{n}")


def test_reexported_and_state_changing_names_are_refused():
    for target in ["torch.nn.functional.handle_torch_function",           # defined in torch.overrides
                   "torch.nn.modules.module.register_module_forward_hook",  # process-wide hook
                   "symnas.models.darts.register", "symnas.models.resnet.BuildError",
                   "torch.nn.modules.conv._ConvNd", "torch.nn.Module.load_state_dict"]:
        with pytest.raises(BuildError):
            resolve(target)
    for prefix in ["", ".", "torch..nn", "a b"]:
        with pytest.raises(SymnasError):
            allow_import(prefix)


def test_legitimate_names_still_resolve(tmp_path, monkeypatch):
    import torch.nn as nn
    import torch.nn.functional as F

    assert resolve("torch.nn.modules.conv.Conv2d") is nn.Conv2d
    assert resolve("torch.nn.Conv2d") is nn.Conv2d
    assert resolve("torch.nn.functional.relu") is F.relu and resolve("torch.nn.functional.gelu") is F.gelu
    assert resolve("symnas.models.resnet.ResNet").__name__ == "ResNet"
    assert resolve("symnas.dsl.runtime.derive")("a * 2", {"a": 3}) == 6
    model = sn.build(sn.from_json(json.dumps({"_spec": "torch.nn.modules.container.Sequential", "args": [
        {"_spec": "torch.nn.modules.linear.Linear", "args": [2, 3]}, {"_spec": "torch.nn.modules.activation.ReLU"}]})))
    assert isinstance(model, nn.Sequential) and isinstance(model[1], nn.ReLU)
    # a user module, allowed by name (with or without the trailing dot), and a registered function
    pkg = tmp_path / "trustpkg_user"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "blocks.py").write_text("import os\n\ndef block(c=1):\n    return ('block', c)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert not is_allowed("trustpkg_user.blocks.block")
    monkeypatch.setattr(spec_mod, "_ALLOWED_PREFIXES", list(spec_mod._ALLOWED_PREFIXES))
    allow_import("trustpkg_user")
    assert sn.build(sn.from_json(_json_spec("trustpkg_user.blocks.block", [4], {}))) == ("block", 4)
    assert not is_allowed("trustpkg_userx.blocks.block")          # a name prefix is not a package prefix
    with pytest.raises(BuildError, match="not allowed"):
        resolve("trustpkg_user.blocks.os")
    with pytest.raises(BuildError, match="not allowed"):
        resolve("trustpkg_user.blocks.os.system")

    def mine(x: int = 0) -> int:
        return x + 1

    sn.register(mine, path="tests_trust.mine")
    assert sn.build(sn.from_json(_json_spec("tests_trust.mine", [1], {}))) == 2


def test_sqlite_rows_stay_data(tmp_path):
    """A store whose trial rows were edited by hand is still read as data (no name is resolved on show)."""
    db = tmp_path / "s.db"
    _hostile_store(db, _json_spec("symnas.cli.search.os.system", ["true"], {}))
    with sqlite3.connect(db) as c:
        c.execute("UPDATE studies SET space=?", (json.dumps({"format": "symnas.space/1", "tree": [{"_oneof": [
            {"_ref": "symnas.cli.search.os.system"}, {"_spec": "symnas.cli.search.os.system", "args": ["true"]}]}]}),))
    p = _cli("show", str(db), cwd=tmp_path)
    assert p.returncode == 0 and "Traceback" not in p.stderr


def test_export_snippet_checks_the_names_inside_a_recipe():
    """A patched or traced candidate's recipe names its factory: that name is checked like any other before a
    snippet is written, and never turned into an allow_import line by itself."""
    from symnas.report.export import export_python
    from symnas.symbolic.spec import Builder, Spec

    hostile = Spec("symnas.candidate.build.built_by", (),
                   {"builder": Builder(Spec("subprocess.run", (["touch", "canary"],), {})), "choices": {}})
    with pytest.raises(sn.SymnasError, match="subprocess.run"):
        export_python(hostile)
