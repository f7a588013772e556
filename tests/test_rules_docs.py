"""The examples of docs/patching.md run as written, and the printed decision table is what the page shows."""
from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import types

DOC = os.path.join(os.path.dirname(__file__), "..", "docs", "patching.md")


def test_patching_page_examples_run_and_print_what_the_page_shows() -> None:
    text = open(DOC, encoding="utf-8").read()
    blocks = re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)
    assert len(blocks) >= 3
    shown = re.findall(r"```\n(\[1\].*?)```", text, re.S)[0]
    module = types.ModuleType("docs_patching")  # dataclasses in the examples look their module up
    sys.modules[module.__name__] = module
    env = module.__dict__
    try:
        for block in blocks:  # in order, as one script (later blocks use earlier names)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(block, "docs/patching.md", "exec"), env)  # noqa: S102 - the project's own page
            if "def make_net(" in block:
                assert out.getvalue().split("\n")[:6] == shown.strip("\n").split("\n")
    finally:
        del sys.modules[module.__name__]
