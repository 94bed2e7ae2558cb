import pathlib
import random

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
# ../shared/reference beside the repository (the course's specification), else the copies in tests/data
REFERENCE_DIRS = (ROOT.parent / "shared" / "reference", ROOT / "tests" / "data" / "reference")


def reference_file(name):
    for folder in REFERENCE_DIRS:
        if (folder / name).is_file():
            return folder / name
    pytest.skip(f"reference run {name} not found in {REFERENCE_DIRS}")


@pytest.fixture
def rng():
    return random.Random(42)
