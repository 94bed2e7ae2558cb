"""The order of the test run (root conftest.py): the long tests first, so that both workers of
`make test` stay busy to the end instead of one running the minutes-long reference run alone."""
import importlib.util
import subprocess
import sys
import types

import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
root_conftest = importlib.util.module_from_spec(spec)
spec.loader.exec_module(root_conftest)


class FakeItem:
    def __init__(self, nodeid, slow=False):
        self.nodeid = nodeid
        self.slow = slow

    def get_closest_marker(self, name):
        return object() if name == "slow" and self.slow else None


def test_long_tests_first_order():
    items = (
        [FakeItem(f"tests/test_many.py::test_{i}") for i in range(5)]
        + [FakeItem("notebooks/02_fast.ipynb::Cell 0"), FakeItem("notebooks/02_fast.ipynb::Cell 1")]
        + [FakeItem("notebooks/09_long.ipynb::Cell 0"), FakeItem("notebooks/09_long.ipynb::Cell 1")]
        + [FakeItem("tests/test_big_run.py::test_quick"), FakeItem("tests/test_big_run.py::test_run", slow=True)]
        + [FakeItem("tests/test_few.py::test_0")]
    )
    ordered = root_conftest.long_tests_first(items, known_slow=("notebooks/09_long.ipynb",))
    assert [item.nodeid for item in ordered] == [
        "tests/test_big_run.py::test_quick",  # a scope with a slow test goes first, whole and in order
        "tests/test_big_run.py::test_run",
        "notebooks/09_long.ipynb::Cell 0",  # then the known slow notebooks, cells in order
        "notebooks/09_long.ipynb::Cell 1",
        *[f"tests/test_many.py::test_{i}" for i in range(5)],  # then the rest, largest first
        "notebooks/02_fast.ipynb::Cell 0",
        "notebooks/02_fast.ipynb::Cell 1",
        "tests/test_few.py::test_0",
    ]
    assert sorted(item.nodeid for item in ordered) == sorted(item.nodeid for item in items)


def test_xdist_keeps_the_order():
    config = types.SimpleNamespace(option=types.SimpleNamespace(loadscopereorder=True))
    root_conftest.pytest_configure(config)
    assert config.option.loadscopereorder is False


def test_known_slow_notebooks_exist():
    missing = [path for path in root_conftest.KNOWN_SLOW_NOTEBOOKS if not (ROOT / path).is_file()]
    assert not missing, f"KNOWN_SLOW_NOTEBOOKS in conftest.py names notebooks that do not exist: {missing}"


def collected_files(*options):
    """The files of the collected tests, in the order of the run, each once."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:xdist", *options, "tests", "notebooks"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode in (0, 5), result.stdout[-3000:] + result.stderr[-3000:]  # 5: none selected
    return list(dict.fromkeys(line.split("::", 1)[0] for line in result.stdout.splitlines() if "::" in line))


def test_collection_puts_the_slow_tests_first():
    """The real collection: every file with a test marked slow comes before every other file."""
    order = collected_files()
    slow = collected_files("-m", "slow")
    assert "tests/test_reference_1000.py" in slow
    first = set(slow) | set(root_conftest.KNOWN_SLOW_NOTEBOOKS)
    assert set(order[: len(first)]) == first, f"the run starts with {order[:len(first)]}, not with {sorted(first)}"
    assert set(order[: len(slow)]) == set(slow), f"the run starts with {order[:len(slow)]}, not with {slow}"


def test_exercise_tests_go_one_chapter_per_unit():
    scope_of = root_conftest.scope_of
    assert scope_of("tests/test_exercises.py::test_stub_fails[08_microgpt-ex08_5_save_and_resume]") == \
        "tests/test_exercises.py::08_microgpt"
    assert scope_of("tests/test_exercises.py::test_wrong_answer_fails[07_sampling-ex07_4_greedy_name-wrong2]") == \
        "tests/test_exercises.py::07_sampling"
    assert scope_of("tests/test_exercises.py::test_no_execution_timestamps[07_sampling]") == "tests/test_exercises.py::07_sampling"
    assert scope_of("tests/test_exercises.py::test_exercises_up_to_date") == "tests/test_exercises.py"
    assert scope_of("tests/test_cli.py::test_run[fused-x]") == "tests/test_cli.py"  # other modules: xdist's loadscope
    assert scope_of("notebooks/06_training.ipynb::Cell 3") == "notebooks/06_training.ipynb"


def test_a_kernel_that_dies_while_starting_is_started_again():
    """conftest's wrapper of nbval's start_new_kernel: a start that fails is tried again, up to the limit."""
    root = root_conftest
    calls = []

    def start(fails):
        def flaky(*args, **kwargs):
            calls.append(args)
            if len(calls) <= fails:
                raise RuntimeError("Kernel died before replying to kernel_info")
            return "kernel", "client"
        return flaky

    assert root.start_kernel_retrying(start(2), attempts=3)("python") == ("kernel", "client")
    assert len(calls) == 3
    calls.clear()
    with pytest.raises(RuntimeError, match="Kernel died"):
        root.start_kernel_retrying(start(3), attempts=3)("python")
    assert len(calls) == 3
    import nbval.kernel

    assert nbval.kernel.start_new_kernel.attempts == root.KERNEL_START_ATTEMPTS  # installed for the run
