"""Checks for the exercises of chapter 09 (efficiency): fused nodes and backward rules past the chapter's.

Each check takes `cases=None` (None: its visible cases) and computes every expected value itself, from an
independent computation: the scalar engine's chain of `Value`s, central differences, or plain NumPy written
out here. `__tracebackhide__ = True` keeps the check's own frames out of a learner's traceback.
"""
import math
import random

import numpy as np

from ..autograd import Value, topological_order
from ..nn import nll, rmsnorm, softmax
from . import call, fail, fmt, passed


def plural(n, word, words=None):
    """'1 case', '3 cases'."""
    return f"{n} {word if n == 1 else words or word + 's'}"


def fmt_array(x):
    """A short text form of an array (or of whatever came back instead)."""
    if isinstance(x, np.ndarray):
        flat = np.round(x.ravel()[:6].astype(float), 4).tolist()
        return f"array of shape {x.shape} starting {flat}{' ...' if x.size > 6 else ''}"
    return f"{type(x).__name__} {fmt(x) if isinstance(x, (list, tuple, float)) else repr(x)[:80]}"


def as_array(name, x, shape, what, dtype=np.float64):
    """x as an array of `shape`, or a failure that says what came back instead."""
    __tracebackhide__ = True
    try:
        array = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError):
        fail(name, f"an array of shape {shape} ({what})", fmt_array(x), "return a NumPy array")
    if array.shape != tuple(shape):
        fail(name, f"an array of shape {tuple(shape)} ({what})", fmt_array(array),
             "a gradient always has the shape of what it is the gradient of")
    return array


# ---------------------------------------------------------------- exercise 1: a fused softmax-NLL node

SOFTMAX_NLL_CASES = [
    ([random.Random(9).gauss(0, 1) for _ in range(27)], 4),  # 27 logits
    ([2.0, -1.0, 0.5], 0),  # the target first
    ([0.3, 0.1, -0.4, 1.5], 3),  # the target last
    ([1000.0, 998.0, 990.0, 1001.0], 1),  # logits near 1000
]


def check_softmax_nll(softmax_nll, cases=None):
    """softmax_nll(logits, target) -> one Value: -log softmax(logits)[target], local gradients p - onehot."""
    __tracebackhide__ = True
    name = "softmax_nll"
    cases = SOFTMAX_NLL_CASES if cases is None else cases
    for logits_data, target in cases:
        label = f"{name}({len(logits_data)} logits from {min(logits_data):g} to {max(logits_data):g}, target {target})"
        chain_logits = [Value(z) for z in logits_data]
        m = max(logits_data)  # the scalar chain, shifted as nn.softmax does, so that it never overflows
        expected_loss = nll(softmax([z - m for z in chain_logits]), target)
        expected_loss.backward()
        expected_grads = [z.grad for z in chain_logits]
        logits = [Value(z) for z in logits_data]
        loss = call(label, softmax_nll, logits, target,
                    hint="subtract the largest logit before exp: math.exp overflows above about 709")
        if not isinstance(loss, Value):
            fail(label, "a Value (one node)", fmt_array(loss),
                 "return Value(loss, tuple(logits), tuple(local_grads), 'softmax_nll')")
        if not math.isclose(loss.data, expected_loss.data, rel_tol=1e-9, abs_tol=1e-12):
            fail(label, f"loss {expected_loss.data:.6f}", fmt(loss.data),
                 "the loss is -log(p[target]) with p = softmax(logits): positive, small when p[target] is near 1")
        nodes = topological_order(loss)
        if len(nodes) != len(logits) + 1:
            fail(label, f"one node whose children are the {len(logits)} logits ({len(logits) + 1} nodes in all)",
                 f"a graph of {len(nodes)} nodes", "compute on floats (.data) and make a single Value")
        loss.backward()
        grads = [z.grad for z in logits]
        if not all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) for a, b in zip(grads, expected_grads)):
            fail(f"{label}: the gradients of the logits", fmt(expected_grads), fmt(grads),
                 "dL/dz_i = p_i - 1 for the target and p_i for every other logit")
    passed(name, f"one node; loss and gradients (p - onehot) equal the scalar chain's, {plural(len(cases), 'case')}")


# ---------------------------------------------------------------- exercise 2: a weight shared by a batch

MATMUL_CASES = [((3, 4), (4, 5)), ((2, 3, 4), (4, 5))]  # (shape of a, shape of b)


def check_matmul_backward(matmul_backward, cases=None):
    """matmul_backward(a, b, g) -> (dL/da, dL/db) for out = a @ b, a of shape (..., n, k), b of shape (k, m)."""
    __tracebackhide__ = True
    name = "matmul_backward"
    cases = MATMUL_CASES if cases is None else cases
    gen = np.random.default_rng(3)
    for a_shape, b_shape in cases:
        a, b = gen.normal(size=a_shape), gen.normal(size=b_shape)
        g = gen.normal(size=(a @ b).shape)
        expected_a = g @ b.T
        expected_b = np.zeros(b_shape)  # every row of every batch element used b: add up all their products
        for index in np.ndindex(a_shape[:-2]):
            expected_b += a[index].T @ g[index]
        label = f"{name} for a {a_shape} @ b {b_shape}"
        result = call(label, matmul_backward, a.copy(), b.copy(), g.copy(),
                      hint="g has the shape of a @ b; each gradient has the shape of its input")
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            fail(label, "a pair (grad_a, grad_b)", fmt_array(result), "return grad_a, grad_b")
        grad_a = as_array(label + ": grad_a", result[0], a_shape, "the shape of a")
        grad_b = as_array(label + ": grad_b", result[1], b_shape, "the shape of b: one weight matrix, shared")
        if not np.allclose(grad_a, expected_a, rtol=1e-9, atol=1e-12):
            fail(f"{label}: grad_a", fmt_array(expected_a), fmt_array(grad_a),
                 "dL/da[..., i, l] = sum_j g[..., i, j] b[l, j]: g @ b.T, batch by batch")
        if not np.allclose(grad_b, expected_b, rtol=1e-9, atol=1e-12):
            fail(f"{label}: grad_b", fmt_array(expected_b), fmt_array(grad_b),
                 "b was used by every matrix of the batch: add up a.T @ g over every leading axis, "
                 "however many there are (reshape a and g to 2-D rows first, or sum over the axes)")
    passed(name, f"g @ b.T, and a.T @ g summed over the batch, {plural(len(cases), 'shape')}")


# ---------------------------------------------------------------- exercise 3: a fused scalar rmsnorm

RMSNORM_CASES = [[random.Random(5).gauss(0, 1) for _ in range(16)], [3 * random.Random(6).gauss(0, 1) for _ in range(16)]]


def check_rmsnorm_fused(rmsnorm_fused, cases=None):
    """rmsnorm_fused(x) -> n Values, each one node over all of x, equal to nn.rmsnorm with the same gradients."""
    __tracebackhide__ = True
    name = "rmsnorm_fused"
    cases = RMSNORM_CASES if cases is None else cases
    for x_data in cases:
        n = len(x_data)
        label = f"{name} of {n} numbers (largest |x| {max(abs(v) for v in x_data):.3g})"
        weights = [(-1) ** i * (i + 1) / n for i in range(n)]  # L = sum_i w_i y_i: a wrong gradient shows
        x_chain = [Value(v) for v in x_data]
        y_chain = rmsnorm(x_chain)
        sum(w * y for w, y in zip(weights, y_chain)).backward()
        x = [Value(v) for v in x_data]
        y = call(label, rmsnorm_fused, x, hint="s = (mean of x squared + 1e-5) ** -0.5 on floats; y_i = s * x_i")
        if not isinstance(y, (list, tuple)) or len(y) != n or not all(isinstance(v, Value) for v in y):
            fail(label, f"a list of {n} Values", fmt_array(y), "one output Value per input")
        got = [v.data for v in y]
        if not all(math.isclose(a, b.data, rel_tol=1e-9, abs_tol=1e-12) for a, b in zip(got, y_chain)):
            fail(label, fmt([v.data for v in y_chain]), fmt(got),
                 "y_i = x_i / sqrt(mean(x**2) + 1e-5): the mean over the n numbers, eps inside the root")
        loss = sum(w * v for w, v in zip(weights, y))
        inputs = {id(v) for v in x}
        if any({id(child) for child in node._children} != inputs for node in y):
            fail(label, "each output one node whose children are the n inputs",
                 f"outputs built from other nodes ({len(topological_order(y[0]))} nodes below y[0])",
                 "compute on floats and make each y_i a single Value(data, tuple(x), local_grads)")
        loss.backward()
        grads = [v.grad for v in x]
        expected = [v.grad for v in x_chain]
        if not all(math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-10) for a, b in zip(grads, expected)):
            fail(f"{label}: the gradients of x", fmt(expected), fmt(grads),
                 "dy_i/dx_j = s [i == j] - s**3 x_i x_j / n: each output depends on every input through s")
    passed(name, f"each output one node; values and gradients equal nn.rmsnorm's, {plural(len(cases), 'vector')}")


# ---------------------------------------------------------------- exercise 4: layernorm's backward

LAYERNORM_CASES = [((3, 8), None), ((1, 16), None)]  # (shape of x, eps or None for the default)


def layernorm(x, eps):
    mu = x.mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(axis=-1, keepdims=True) + eps)


def check_layernorm_backward(layernorm_backward, cases=None):
    """layernorm_backward(x, g, eps=1e-5) -> dL/dx for y = layernorm(x) along the last axis, against differences."""
    __tracebackhide__ = True
    name = "layernorm_backward"
    cases = LAYERNORM_CASES if cases is None else cases
    gen = np.random.default_rng(7)
    for shape, eps in cases:
        x, g = gen.normal(size=shape) * 2 + 0.5, gen.normal(size=shape)
        eps_used = 1e-5 if eps is None else eps
        expected = np.zeros(shape)
        h = 1e-6
        for index in np.ndindex(shape):  # central differences of sum(layernorm(x) * g)
            up, down = x.copy(), x.copy()
            up[index] += h
            down[index] -= h
            expected[index] = ((layernorm(up, eps_used) - layernorm(down, eps_used)) * g).sum() / (2 * h)
        label = f"{name} for x of shape {shape}" + ("" if eps is None else f", eps={eps}")
        args = (x.copy(), g.copy()) if eps is None else (x.copy(), g.copy(), eps)
        got = as_array(label, call(label, layernorm_backward, *args,
                                   hint="xhat = (x - mean) * s with s = 1 / sqrt(var + eps), along the last axis"),
                       shape, "the shape of x")
        if not np.allclose(got, expected, rtol=1e-5, atol=1e-7):
            fail(label, fmt_array(expected), fmt_array(got),
                 "dx = s * (g - mean(g) - xhat * mean(g * xhat)), every mean along the last axis (axis=-1, "
                 "keepdims=True), with the eps you were given")
    passed(name, f"equal to central differences, {plural(len(cases), 'shape')}")


# ---------------------------------------------------------------- exercise 5: a padded batch

PAD_CASES = [([[26, 4, 12, 4, 19, 26], [26, 7, 20, 1, 4, 17, 24, 26], [26, 0, 26]], 16, 0)]


def check_pad_batch(pad_batch, cases=None):
    """pad_batch(token_lists, block_size, pad_id) -> (inputs, targets, mask), each (B, T)."""
    __tracebackhide__ = True
    name = "pad_batch"
    cases = PAD_CASES if cases is None else cases
    for token_lists, block_size, pad_id in cases:
        lengths = [min(block_size, len(tokens) - 1) for tokens in token_lists]
        B, T = len(token_lists), max(lengths)
        inputs, targets = np.full((B, T), pad_id), np.full((B, T), pad_id)
        mask = np.zeros((B, T))
        for b, (tokens, n) in enumerate(zip(token_lists, lengths)):
            inputs[b, :n], targets[b, :n], mask[b, :n] = tokens[:n], tokens[1 : n + 1], 1.0
        label = f"{name} of {B} names (lengths {[len(t) for t in token_lists]}), block_size {block_size}, pad_id {pad_id}"
        result = call(label, pad_batch, [list(t) for t in token_lists], block_size, pad_id,
                      hint="T is the longest name's number of predictions, at most block_size")
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            fail(label, "a triple (inputs, targets, mask)", fmt_array(result), "return inputs, targets, mask")
        for what, got, want in zip(("inputs", "targets", "mask"), result, (inputs, targets, mask)):
            array = as_array(f"{label}: {what}", got, (B, T), "one row per name, one column per position", dtype=None)
            if not np.array_equal(array, want):
                fail(f"{label}: {what}", want.tolist(), array.tolist(),
                     "row b: the name's first n tokens as inputs, the next n as targets, n = min(block_size, "
                     "len - 1); the rest of the row pad_id (inputs, targets) and 0 (mask)")
        if not np.issubdtype(np.asarray(result[0]).dtype, np.integer):
            fail(f"{label}: inputs", "whole numbers (an integer array: they index the embedding)",
                 f"dtype {np.asarray(result[0]).dtype}", "np.full((B, T), pad_id) makes integers")
    passed(name, f"inputs, targets and mask, {plural(len(cases), 'batch', 'batches')}")
