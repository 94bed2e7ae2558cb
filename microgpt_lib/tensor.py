"""An autograd engine over NumPy arrays: chapter 02's `Value`, with an array in each node.

Each operation computes its result and, side by side, how a gradient flows back to each
input. For a scalar that was one local derivative per child; for arrays the local
derivative is a Jacobian matrix far too big to build, so each node keeps a function
`backward(grad) -> (grad of child 1, grad of child 2, ...)`, the vector-Jacobian product.
`backward` then runs them in reverse topological order, exactly as `Value.backward` does.
"""
import os

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from . import BLAS_THREADS_FROM_USER
from .autograd import topological_order


def machine_cores():
    """The CPU cores this process may run on (what a BLAS uses by default)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def limit_blas_threads():
    """One BLAS thread, unless you chose a number yourself.

    This engine multiplies small matrices, where more threads only wait for each other, and on a busy
    machine they spin against other programs (a 128-wide batch step: 2 s instead of 0.15 s).
    microgpt_lib/__init__ asks for one thread through the environment, which a NumPy imported before
    microgpt_lib never read; so the BLAS is limited here too, but only if it still has its default
    number of threads (one per core): an environment variable of yours (OPENBLAS_NUM_THREADS,
    OMP_NUM_THREADS, MKL_NUM_THREADS) or a threadpoolctl limit you set before this import wins.
    """
    if BLAS_THREADS_FROM_USER:
        return
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    if all(pool["num_threads"] == machine_cores() for pool in blas):
        threadpool_limits(1, user_api="blas")


limit_blas_threads()


class Tensor:
    """An array in a computation graph, with the gradient of the output with respect to it."""

    __slots__ = ("data", "grad", "_children", "_backward", "_op")

    def __init__(self, data, children=(), backward=None, op=""):
        self.data = data if isinstance(data, np.ndarray) else np.asarray(data, dtype=np.float64)
        self.grad = None  # an array of data's shape once backward has reached this node
        self._children = children
        self._backward = backward  # grad of this node -> grads of the children, in order
        self._op = op

    @property
    def shape(self):
        return self.data.shape

    # primitives: the value and the way back, side by side
    def __add__(self, other):
        other = as_tensor(other)
        return Tensor(self.data + other.data, (self, other),
                      lambda g: (unbroadcast(g, self.shape), unbroadcast(g, other.shape)), "+")

    def __mul__(self, other):
        other = as_tensor(other)
        return Tensor(self.data * other.data, (self, other),
                      lambda g: (unbroadcast(g * other.data, self.shape), unbroadcast(g * self.data, other.shape)), "*")

    def __matmul__(self, other):
        # (..., n, k) @ (..., k, m): d/da = g @ b^T, d/db = a^T @ g
        other = as_tensor(other)
        return Tensor(self.data @ other.data, (self, other),
                      lambda g: (unbroadcast(g @ other.data.swapaxes(-1, -2), self.shape),
                                 unbroadcast(self.data.swapaxes(-1, -2) @ g, other.shape)), "@")

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            raise TypeError(f"the exponent must be a plain number, got {type(k).__name__}")
        return Tensor(self.data**k, (self,), lambda g: (g * (k * self.data ** (k - 1)),), f"**{k}")

    def exp(self):
        out = np.exp(self.data)
        return Tensor(out, (self,), lambda g: (g * out,), "exp")

    def log(self):
        return Tensor(np.log(self.data), (self,), lambda g: (g / self.data,), "log")

    def relu(self):
        return Tensor(np.maximum(self.data, 0.0), (self,), lambda g: (g * (self.data > 0),), "relu")

    def sum(self, axis=None, keepdims=False):
        # every element counts once: the gradient is copied back to each
        def backward(g):
            if axis is not None and not keepdims:
                g = np.expand_dims(g, axis)
            return (np.broadcast_to(g, self.shape),)

        return Tensor(self.data.sum(axis=axis, keepdims=keepdims), (self,), backward, "sum")

    def reshape(self, *shape):
        return Tensor(self.data.reshape(*shape), (self,), lambda g: (g.reshape(self.shape),), "reshape")

    def transpose(self, *axes):
        inverse = np.argsort(axes)
        return Tensor(self.data.transpose(*axes), (self,), lambda g: (g.transpose(*inverse),), "transpose")

    # derived operations, built from the primitives
    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-as_tensor(other))

    def __truediv__(self, other):
        return self * as_tensor(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def backward(self):
        """Fill in `.grad` of every node below this one with d(self)/d(node); self must be one number."""
        if self.data.size != 1:
            raise ValueError(f"backward starts from a single number (a loss), not an array of shape {self.shape}")
        self.grad = np.ones_like(self.data)
        for node in reversed(topological_order(self)):
            if node._backward is None or node.grad is None:
                continue
            for child, child_grad in zip(node._children, node._backward(node.grad)):
                child.grad = child_grad if child.grad is None else child.grad + child_grad

    def __repr__(self):
        return f"Tensor(shape={self.shape}, op={self._op!r})"


def as_tensor(x):
    """`x` itself if it is a Tensor, else a constant Tensor holding it."""
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x, dtype=np.float64))


def unbroadcast(grad, shape):
    """Sum `grad` over the axes that broadcasting stretched, so it has `shape` again."""
    if grad.shape == shape:
        return grad
    while grad.ndim > len(shape):  # leading axes that were added
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):  # axes of size 1 that were stretched
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


# operations with more than one array or index input


def embedding(table, ids):
    """Rows `ids` of `table` (any shape of ids). Backward adds each row's gradient back, repeats included."""
    ids = np.asarray(ids)

    def backward(g):
        grad = np.zeros_like(table.data)
        np.add.at(grad, ids, g)  # a scatter-add: a row picked twice gets both gradients
        return (grad,)

    return Tensor(table.data[ids], (table,), backward, "embedding")


def linear(x, w):
    """x @ w^T over the last axis of x: one weighted sum of x per row of w (w is nout x nin)."""
    # every position of every name is a row of one 2-D matrix: NumPy hands 2-D products to BLAS,
    # while a 3-D array times a transposed matrix takes a slow generic loop (10x slower on batches)
    x2 = x.data.reshape(-1, x.shape[-1])
    nout = w.shape[0]

    def backward(g):
        g2 = g.reshape(-1, nout)
        return (g2 @ w.data).reshape(x.shape), g2.T @ x2

    return Tensor((x2 @ w.data.T).reshape(*x.shape[:-1], nout), (x, w), backward, "linear")


def softmax(z, axis=-1):
    """exp(z) / sum(exp(z)) along `axis`; the max is subtracted first, so exp cannot overflow."""
    e = np.exp(z.data - z.data.max(axis=axis, keepdims=True))
    probs = e / e.sum(axis=axis, keepdims=True)
    # dp_i/dz_j = p_i (δij - p_j), so the gradient of z is p * (g - sum(g * p))
    return Tensor(probs, (z,), lambda g: (probs * (g - (g * probs).sum(axis=axis, keepdims=True)),), "softmax")


def log_softmax(z, axis=-1):
    """log(softmax(z)), computed as z - max - log(sum(exp(z - max))), which never takes log(0)."""
    shifted = z.data - z.data.max(axis=axis, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    probs = np.exp(out)
    # d out_i / dz_j = δij - p_j, so the gradient of z is g - p * sum(g)
    return Tensor(out, (z,), lambda g: (g - probs * g.sum(axis=axis, keepdims=True),), "log_softmax")


def pick(x, ids):
    """x[..., ids] along the last axis, one entry per row (the log-probability of each target)."""
    ids = np.asarray(ids)
    rows = np.indices(ids.shape)

    def backward(g):
        grad = np.zeros_like(x.data)
        grad[(*rows, ids)] = g  # each row picked one entry: a plain scatter
        return (grad,)

    return Tensor(x.data[(*rows, ids)], (x,), backward, "pick")


def rmsnorm(x, eps=1e-5):
    """x * (mean(x^2) + eps)^-1/2 over the last axis, fused into one node.

    With s = (mean(x^2) + eps)^-1/2: dy_i/dx_j = s δij - s^3 x_i x_j / n, so the gradient of x
    is s g - s^3 x mean(g x).
    """
    n = x.shape[-1]
    scale = ((x.data * x.data).sum(axis=-1, keepdims=True) / n + eps) ** -0.5

    def backward(g):
        return (scale * g - scale**3 * x.data * ((g * x.data).sum(axis=-1, keepdims=True) / n),)

    return Tensor(x.data * scale, (x,), backward, "rmsnorm")


def causal_attention(q, k, v, n_head):
    """Causal self-attention of every head at once, fused into one node: q, k, v (B, T, C) -> (B, T, C).

    Head h is the slice h*head_dim:(h+1)*head_dim of each vector, as in the scalar model.
    Forward, per head: w = softmax(q k^T / sqrt(head_dim) + mask), out = w v, where the mask
    is -inf above the diagonal (a position never sees its future). Backward, from g = dL/dout:
    dL/dw = g v^T, dL/dv = w^T g, dL/dscores = w * (dL/dw - sum(dL/dw * w)) (the softmax's
    rule), dL/dq = dL/dscores k / sqrt(head_dim), dL/dk = dL/dscores^T q / sqrt(head_dim).
    """
    B, T, C = q.shape
    head_dim = C // n_head
    scale = (head_dim**0.5) ** -1  # microgpt divides by sqrt(head_dim): x / y is x * y**-1

    def split_heads(x):  # (B, T, C) -> (B, n_head, T, head_dim)
        return x.reshape(B, T, n_head, head_dim).transpose(0, 2, 1, 3)

    def merge_heads(x):  # (B, n_head, T, head_dim) -> (B, T, C)
        return x.transpose(0, 2, 1, 3).reshape(B, T, C)

    qh, kh, vh = split_heads(q.data), split_heads(k.data), split_heads(v.data)
    scores = (qh @ kh.swapaxes(-1, -2)) * scale + np.triu(np.full((T, T), -np.inf), k=1)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    attn_weights = e / e.sum(axis=-1, keepdims=True)  # (B, n_head, T, T), 0 above the diagonal

    def backward(g):
        gh = split_heads(g)
        g_weights = gh @ vh.swapaxes(-1, -2)
        g_scores = attn_weights * (g_weights - (g_weights * attn_weights).sum(axis=-1, keepdims=True)) * scale
        return merge_heads(g_scores @ kh), merge_heads(g_scores.swapaxes(-1, -2) @ qh), merge_heads(attn_weights.swapaxes(-1, -2) @ gh)

    return Tensor(merge_heads(attn_weights @ vh), (q, k, v), backward, "attention")
