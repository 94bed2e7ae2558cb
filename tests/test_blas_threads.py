"""microgpt_lib asks for one BLAS thread, unless the user chose a number: theirs wins (each case in a fresh process)."""
import os
import subprocess
import sys

import pytest

REPORT = ("from threadpoolctl import threadpool_info; "
          "print(max(p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas'))")
VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def blas_threads(code, **env):
    """The number of BLAS threads after running `code` in a fresh Python, with only `env` of the three set."""
    environment = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    environment.update(env)
    result = subprocess.run([sys.executable, "-c", code + "; " + REPORT], env=environment,
                            capture_output=True, text=True, check=True)
    return int(result.stdout.split()[-1])


def test_one_thread_by_default():
    assert blas_threads("import microgpt_lib.tensor") == 1


def test_one_thread_when_numpy_came_first():
    assert blas_threads("import numpy; import microgpt_lib.tensor") == 1


@pytest.mark.parametrize("variable", ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"])
def test_the_users_variable_wins(variable):
    assert blas_threads("import microgpt_lib.tensor", **{variable: "2"}) == 2


def test_the_users_threadpoolctl_limit_wins():
    code = "import numpy; from threadpoolctl import threadpool_limits; threadpool_limits(3, user_api='blas'); " \
           "import microgpt_lib.tensor"
    assert blas_threads(code) == 3
