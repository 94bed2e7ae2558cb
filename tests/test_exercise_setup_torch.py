"""Chapter 10's exercises without torch: the setup cell stops with one line that says how to install it.

Without it, nbgrader's autograde ran every cell, each failed on `torch`, and every student, the solution
included, scored 0 with no word of why.
"""
import importlib.util
import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("notebook", ["solutions/10_pytorch/10_solutions.ipynb", "exercises/10_pytorch/10_exercises.ipynb"])
def test_setup_cell_names_the_missing_torch(notebook, monkeypatch):
    cells = json.loads((ROOT / notebook).read_text(encoding="utf-8"))["cells"]
    setup = next(c for c in cells if c["cell_type"] == "code")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real_find_spec(name, *a))
    with pytest.raises(ModuleNotFoundError) as raised:
        exec(compile("".join(setup["source"]), "<setup cell>", "exec"), {"__name__": "__main__"})
    message = str(raised.value)
    assert "\n" not in message and "make torch" in message, message
