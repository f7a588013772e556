"""The user pages' examples run: each page's ```python blocks, in order, as one script in a fresh process; and
README's example output is what the code prints."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["annotating", "patching", "tracing", "study", "stores", "runtime", "cli", "exporting"]
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(text: str) -> list[str]:
    return [m.group(1) for m in _BLOCK.finditer(text)]


@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run(page: str, tmp_path: Path) -> None:
    blocks = python_blocks((ROOT / "docs" / f"{page}.md").read_text(encoding="utf-8"))
    assert blocks, f"docs/{page}.md has no python example"
    script = tmp_path / f"example_{page}.py"
    script.write_text("\n\n".join(blocks), encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(tmp_path)] + [p for p in env.get("PYTHONPATH", "").split(
        os.pathsep) if p])
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=540)
    assert out.returncode == 0, f"docs/{page}.md:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"


def test_every_user_page_is_in_the_index() -> None:
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    for page in PAGES:
        assert f"]({page}.md)" in index, page


def test_readme_example_prints_what_it_says(one_torch_thread) -> None:
    """README's short example, run with a stand-in for training; its comment is a description of that space in
    exactly the form ``print`` gives, and the printed line has that form too."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = next(b for b in python_blocks(readme) if "study.best_trial.description" in b)
    comment = re.search(r"print\(study\.best_trial\.description\)\s+# (.+)$", block, re.M).group(1).strip()
    ns: dict = {"train_and_score": lambda model: float(sum(p.numel() for p in model.parameters()))}
    buf = io.StringIO()
    with redirect_stdout(buf):
        exec(compile(block, "README.md", "exec"), ns)  # noqa: S102 - the project's own README
    printed = buf.getvalue().strip().splitlines()[-1]
    import torch.nn as nn

    names = {"Net": ns["Net"].spec, "Block": ns["Block"].spec, "nn": nn}
    for text in (comment, printed):
        desc = eval(text, names)  # noqa: S307 - the project's own README
        assert repr(desc) == text
        ns["space"].encode(desc)  # a candidate of the README's space
    assert printed == repr(ns["study"].best_trial.description)
