import pathlib
import random

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
REFERENCE_DIR = ROOT / "tests" / "data" / "reference"  # copies of the specification's reference runs
SPEC_REFERENCE_DIR = ROOT.parent / "shared" / "reference"  # the specification itself, where it sits beside us


def reference_file(name):
    return REFERENCE_DIR / name


@pytest.fixture
def rng():
    return random.Random(42)
