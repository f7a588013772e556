"""The examples run as a user would run them (quick ones by default, training ones in the slow step)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(script: str, *args: str, timeout: int = 300) -> str:
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", script), *args], capture_output=True,
                         text=True, timeout=timeout, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.mark.parametrize("script, expect", [
    ("patch_existing_model.py", "smallest:"),
    ("custom_ask_tell.py", "budget  20.0 ms: best val_acc"),
    ("nested_search.py", ""),
    ("compose_ppo_evolution.py", ""),
    ("early_stopping.py", ""),
])
def test_quick_examples(script: str, expect: str) -> None:
    assert expect in _run(script)


@pytest.mark.slow
def test_annotate_cnn_trains_on_digits() -> None:
    out = _run("annotate_cnn.py", "--trials", "3", "--epochs", "2")
    best = float(out.split("best:")[1].split()[0])
    assert best > 0.5  # three small CNNs trained briefly on digits beat chance (0.1) by far


@pytest.mark.slow
@pytest.mark.parametrize("script, expect", [("weight_sharing_enas.py", "best genome:"),
                                            ("weight_sharing_darts.py", "guarded ")])
def test_weight_sharing_examples(script: str, expect: str) -> None:
    assert expect in _run(script, timeout=900)
