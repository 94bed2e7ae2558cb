"""The full reference run (about 5 minutes): microgpt's 1000 steps, and the shipped checkpoint rebuilt."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT, reference_file


@pytest.mark.slow
def test_1000_step_reference_run_and_shipped_checkpoint(tmp_path):
    """The command that made data/microgpt_default_1000.json prints the reference and rebuilds it exactly."""
    rebuilt = tmp_path / "rebuilt.json"
    result = subprocess.run([sys.executable, "-m", "microgpt_lib", "train", "--save", str(rebuilt)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    expected = reference_file("microgpt_default_steps1000.txt").read_text().splitlines()
    got = result.stdout.splitlines()
    differing = [(i + 1, e, g) for i, (e, g) in enumerate(zip(expected, got)) if e != g]
    assert len(got) == len(expected) and not differing, f"first differing lines: {differing[:5]}"
    shipped = json.loads((ROOT / "data" / "microgpt_default_1000.json").read_text())
    assert json.loads(rebuilt.read_text()) == shipped  # weights, loss history, config, vocabulary: exactly
