"""Settings for the whole test run, the notebooks' kernels included (they inherit this environment),
and the order of the tests: the long ones first, so that `make test`'s two workers finish together."""
import os

import pytest

# A matplotlib backend named in the environment (by a shell profile, or by a test) would replace the
# notebooks' inline backend, and every plot cell would lose the output strict nbval expects.
os.environ.pop("MPLBACKEND", None)
# Set iteration order must not vary between runs; `make test` sets this too, plain `pytest` gets it here.
os.environ["PYTHONHASHSEED"] = "0"

# ------------------------------------------------------------------ a kernel that dies while starting
#
# nbval starts one kernel per notebook. Once in a fresh-clone run of `make test` on 2 workers, a kernel
# died before answering its first message ("Kernel died before replying to kernel_info"), and all 11
# cells of that notebook (solutions/07_sampling) errored although nothing in it had changed; the usual
# cause is a race for the random TCP ports that jupyter_client picks for each kernel while other
# processes (the other worker's kernel, the torchrun tests) open ports too. A kernel that fails to
# start is started again, up to KERNEL_START_ATTEMPTS times in all; a kernel that starts and then fails
# a cell is not retried.
KERNEL_START_ATTEMPTS = 3


def start_kernel_retrying(start, attempts=KERNEL_START_ATTEMPTS):
    """`start` (nbval's start_new_kernel), called again when the kernel dies before it is ready."""

    def start_new_kernel(*args, **kwargs):
        for attempt in range(1, attempts + 1):
            try:
                return start(*args, **kwargs)
            except RuntimeError:
                if attempt == attempts:
                    raise

    start_new_kernel.attempts = attempts
    return start_new_kernel


try:
    import nbval.kernel
except ImportError:  # nbval is in the course environment; a bare `pytest tests` elsewhere runs without it
    pass
else:
    if not hasattr(nbval.kernel.start_new_kernel, "attempts"):  # once, however often this file is loaded
        nbval.kernel.start_new_kernel = start_kernel_retrying(nbval.kernel.start_new_kernel)

# ------------------------------------------------------------------ scheduling: the long tests first
#
# `make test` runs `pytest -n 2 --dist loadscope`: each worker takes a whole module (or notebook) at a
# time, in the order of the queue. If a minutes-long module comes last, one worker runs it alone
# while the other idles. So the queue starts with the long ones:
#   1. every module or notebook holding a test marked `slow` (a new slow test only needs the marker);
#   2. the notebooks known to take long under nbval (KNOWN_SLOW_NOTEBOOKS; about a minute or more);
#   3. the rest, largest first (by number of tests, as xdist itself orders them).
# pytest_collection_modifyitems puts the items in this order (also without xdist), and xdist is told
# to keep it (--no-loadscope-reorder) instead of re-sorting the modules by their number of tests.
# The exercise tests, minutes of them, go one chapter per unit (SPLIT_BY_CHAPTER).
# tests/test_schedule.py checks the order.

# paths from the repository root; seconds under nbval on one core, measured from the notebooks' own
# execution times (cell metadata) and `pytest --durations`
KNOWN_SLOW_NOTEBOOKS = (
    "notebooks/06_training.ipynb",  # about 90 s: trains for hundreds of steps
    "notebooks/07_sampling.ipynb",  # about 25 s
    "notebooks/04_attention.ipynb",  # about 20 s
    "notebooks/08_microgpt.ipynb",  # about 20 s
    "notebooks/09_efficiency.ipynb",  # about 55 s: times every engine, the 1000-step run with NumPy
    "notebooks/12_bpe.ipynb",  # about 45 s: trains four small models
    "notebooks/10_pytorch.ipynb",  # about 35 s
    "notebooks/11_scaling_up.ipynb",  # about 25 s
    "notebooks/13_modern_gpt.ipynb",  # about 30 s: gradient checks, one small ablation live (6 runs)
    "notebooks/14_pytorch_at_scale.ipynb",  # about 30 s: times the engines, starts 2 processes with torchrun
)


# modules whose tests need not share a worker, split into one unit per chapter (the first part of
# the parameter id, "08_microgpt" in test_solution_passes[08_microgpt-ex08_5_save_and_resume]), so
# that minutes of exercise checks spread over both workers
SPLIT_BY_CHAPTER = ("tests/test_exercises.py",)


def scope_of(nodeid):
    """The unit one worker takes: the module, class or notebook of a test (xdist's loadscope), or one
    chapter of a module of SPLIT_BY_CHAPTER."""
    path, _, rest = nodeid.partition("::")
    if path in SPLIT_BY_CHAPTER and "[" in rest:
        return f"{path}::{rest.split('[', 1)[1].split('-', 1)[0].rstrip(']')}"
    return nodeid.rsplit("::", 1)[0]


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: `make test`'s --dist loadscope, with our units
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ChapterScopeScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return scope_of(nodeid)

    return ChapterScopeScheduling(config, log)


def file_of(nodeid):
    return nodeid.split("::", 1)[0]


def schedule_rank(scope_items, known_slow=KNOWN_SLOW_NOTEBOOKS):
    """0 for a scope with a test marked slow, 1 for a known slow notebook, 2 for the rest."""
    if any(item.get_closest_marker("slow") is not None for item in scope_items):
        return 0
    if file_of(scope_items[0].nodeid) in known_slow:
        return 1
    return 2


def long_tests_first(items, known_slow=KNOWN_SLOW_NOTEBOOKS):
    """`items` reordered scope by scope: slow-marked, then known slow notebooks, then largest first.

    The order inside a scope is kept (a notebook's cells run in order in one kernel), and ties keep
    the collection order.
    """
    scopes = {}
    for item in items:
        scopes.setdefault(scope_of(item.nodeid), []).append(item)
    ordered = sorted(
        enumerate(scopes.values()),
        key=lambda pair: (schedule_rank(pair[1], known_slow), -len(pair[1]), pair[0]),
    )
    return [item for _, scope_items in ordered for item in scope_items]


@pytest.hookimpl(trylast=True)  # after any other hook that adds markers (a notebook marked slow, say)
def pytest_collection_modifyitems(config, items):
    skip_torch_chapter_without_torch(items)
    items[:] = long_tests_first(items)


# ------------------------------------------------------------------ chapters 10 and 14 need torch (an optional extra)
#
# `make test` installs torch first (make torch). Where it is absent anyway (plain pytest in the conda
# environment, say), chapters 10's and 14's notebooks and exercise tests are skipped with the reason, and
# the run ends by saying so; tests/test_torch_model.py, test_torch_train.py and test_torch_cli.py skip
# themselves with the same reason.
NO_TORCH = "torch is not installed: make torch"
TORCH_CHAPTERS = ("10_pytorch", "14_pytorch_at_scale")


def torch_installed():
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def needs_torch(nodeid):
    return any(chapter in nodeid for chapter in TORCH_CHAPTERS)


def skip_torch_chapter_without_torch(items):
    if torch_installed():
        return
    for item in items:
        if needs_torch(item.nodeid):
            item.add_marker(pytest.mark.skip(reason=NO_TORCH))


def pytest_terminal_summary(terminalreporter):
    if not torch_installed():
        terminalreporter.write_line(f"chapters 10 and 14 (PyTorch) were skipped: {NO_TORCH}", yellow=True)


def pytest_configure(config):
    # xdist (3.6 and newer) would sort the modules by their number of tests again; keep ours
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False
