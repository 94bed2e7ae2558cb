"""microgpt, rebuilt piece by piece: the finished pieces of the course, a module per idea.

data -> tokenizer -> autograd -> nn -> model -> optim -> train -> sample -> checkpoint,
with viz for pictures and cli for `python -m microgpt_lib`. Part II adds the faster
engines (fused, tensor, numpy_model), batched training (batch_train), PyTorch (torch_model)
and byte-pair encoding (bpe).
"""
import os

# The NumPy engine multiplies small matrices, where one BLAS thread is faster than several; and
# several threads per process, on a machine already busy (tests in parallel, other programs),
# spin against each other: a 128-wide batch step took 2 s instead of 0.15 s. Your own setting wins.
# It takes effect only if NumPy is not imported yet, so it lives here, before any module imports it.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# any one of them set by you wins: OpenBLAS reads OMP_NUM_THREADS when OPENBLAS_NUM_THREADS is unset
BLAS_THREADS_FROM_USER = any(_var in os.environ for _var in BLAS_THREAD_VARIABLES)
if not BLAS_THREADS_FROM_USER:
    for _var in BLAS_THREAD_VARIABLES:
        os.environ[_var] = "1"

__version__ = "0.1.0"
