"""Kill-and-resume: the CLI search is SIGKILLed at random points (at least 5 times) and restarted until done; no
completed trial is lost and none is evaluated twice (the evaluator logs every evaluation it finishes)."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from symnas.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]
TRIALS = 60


def _cmd(db: Path) -> list[str]:
    return [sys.executable, "-m", "symnas.cli.main", "search", "nasbench201", "--evaluator",
            "tests.evaluators.faults:nb201_logged", "--trials", str(TRIALS), "--seed", "4", "--store", str(db),
            "--dedup", "genome", "--progress", "off"]


def _completed(db: Path) -> dict[int, tuple]:
    return {r.number: (r.genome, r.values) for r in SQLiteStore(db).trials("study") if r.state == "complete"}


def test_sigkill_at_random_points_loses_and_repeats_nothing(tmp_path):
    db, log = tmp_path / "k.db", tmp_path / "evals.log"
    env = dict(os.environ, SYMNAS_EVAL_LOG=str(log), SYMNAS_EVAL_SLEEP="0.02", PYTHONPATH=str(ROOT))
    rng = random.Random(7)
    kills, seen = 0, {}
    for _ in range(40):
        proc = subprocess.Popen(_cmd(db), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if kills < 6:
            # wait for this run to evaluate something, then kill it at a random moment
            start_lines = log.read_text().count("\n") if log.exists() else 0
            deadline = time.time() + 60
            while proc.poll() is None and time.time() < deadline:
                if (log.read_text().count("\n") if log.exists() else 0) > start_lines:
                    break
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.25))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
        _, err = proc.communicate(timeout=120)
        if proc.returncode not in (0, -signal.SIGKILL):
            raise AssertionError(f"search failed (rc {proc.returncode}): {err.decode()[-2000:]}")
        done = _completed(db)
        assert all(done.get(n) == v for n, v in seen.items()), "a completed trial was lost or changed"
        seen = done
        if proc.returncode == 0:
            break
    assert kills >= 5
    records = SQLiteStore(db).trials("study")
    complete = [r for r in records if r.state == "complete"]
    assert len(complete) == TRIALS == len(seen)
    assert len({r.genome for r in complete}) == TRIALS  # dedup: no candidate completed twice
    logged = Counter(line.split()[1] for line in log.read_text().splitlines())
    interrupted = Counter(",".join(map(str, r.genome)) for r in records if r.state == "interrupted")
    for r in complete:
        g = ",".join(map(str, r.genome))
        # evaluated once, plus at most once per run that was killed while it was running
        assert 1 <= logged[g] <= 1 + interrupted[g], (g, logged[g], interrupted[g])
    assert sum(logged.values()) <= TRIALS + sum(interrupted.values())
    assert set(logged) == {",".join(map(str, r.genome)) for r in complete}
