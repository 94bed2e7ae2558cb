"""Checks for the exercises of chapter 09 (efficiency): fused nodes and the array autograd's backward rules.

Each check compares with an independent computation: the scalar engine's chain of `Value`s, the KV-cache
attention of `microgpt_lib.model`, or plain NumPy written out here. `__tracebackhide__ = True` keeps the
check's own frames out of a learner's traceback.
"""
import math
import random

import numpy as np

from ..autograd import Value, topological_order
from ..model import attention
from ..nn import nll, softmax
from . import call, fail, fmt, passed


def fmt_array(x):
    """A short text form of an array (or of whatever came back instead)."""
    if isinstance(x, np.ndarray):
        flat = np.round(x.ravel()[:6].astype(float), 4).tolist()
        return f"array of shape {x.shape} starting {flat}{' ...' if x.size > 6 else ''}"
    return f"{type(x).__name__} {fmt(x) if isinstance(x, (list, tuple, float)) else repr(x)[:80]}"


def as_array(name, x, shape, what):
    """x as a float array of `shape`, or a failure that says what came back instead."""
    __tracebackhide__ = True
    try:
        array = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        fail(name, f"an array of shape {shape} ({what})", fmt_array(x), "return a NumPy array")
    if array.shape != tuple(shape):
        fail(name, f"an array of shape {tuple(shape)} ({what})", fmt_array(array),
             "a gradient always has the shape of what it is the gradient of")
    return array


# ---------------------------------------------------------------- exercise 1: a fused softmax-NLL node

def check_softmax_nll(softmax_nll):
    """softmax_nll(logits, target) -> one Value: -log softmax(logits)[target], local gradients p - onehot."""
    __tracebackhide__ = True
    name = "softmax_nll"
    rng = random.Random(9)
    cases = [
        ([rng.gauss(0, 1) for _ in range(27)], 4, "27 logits"),
        ([2.0, -1.0, 0.5], 0, "3 logits, the target first"),
        ([0.3, 0.1, -0.4, 1.5], 3, "4 logits, the target last"),
        ([1000.0, 998.0, 990.0, 1001.0], 1, "logits near 1000"),
    ]
    for logits_data, target, what in cases:
        label = f"{name}({what}, target {target})"
        chain_logits = [Value(z) for z in logits_data]
        expected_loss = nll(softmax(chain_logits), target)
        expected_loss.backward()
        expected_grads = [z.grad for z in chain_logits]
        logits = [Value(z) for z in logits_data]
        loss = call(label, softmax_nll, logits, target,
                    hint="subtract the largest logit before exp: math.exp(1000) overflows")
        if not isinstance(loss, Value):
            fail(label, "a Value (one node)", fmt_array(loss), "return Value(loss, tuple(logits), tuple(local_grads), 'softmax_nll')")
        if not math.isclose(loss.data, expected_loss.data, rel_tol=1e-9, abs_tol=1e-12):
            fail(label, f"loss {expected_loss.data:.6f}", fmt(loss.data),
                 "the loss is -log(p[target]) with p = softmax(logits): a positive number, small when p[target] is near 1")
        nodes = topological_order(loss)
        if len(nodes) != len(logits) + 1:
            fail(label, f"one node whose children are the {len(logits)} logits ({len(logits) + 1} nodes in all)",
                 f"a graph of {len(nodes)} nodes", "compute on floats (.data) and make a single Value with the logits as children")
        loss.backward()
        grads = [z.grad for z in logits]
        if not all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) for a, b in zip(grads, expected_grads)):
            fail(f"{label}: the gradients of the logits", fmt(expected_grads), fmt(grads),
                 "dL/dz_i = p_i - 1 for the target and p_i for every other logit: probabilities minus the one-hot target")
    passed(name, "one node; loss and gradients (p - onehot) equal the scalar chain's, logits near 1000 included")


# ---------------------------------------------------------------- exercise 2: matmul's two gradients

def check_matmul_backward(matmul_backward):
    """matmul_backward(a, b, g) -> (dL/da, dL/db) for out = a @ b and g = dL/dout."""
    __tracebackhide__ = True
    name = "matmul_backward"
    gen = np.random.default_rng(3)
    for n, k, m in [(3, 4, 5), (4, 4, 4), (1, 3, 1), (2, 5, 3)]:
        a, b, g = gen.normal(size=(n, k)), gen.normal(size=(k, m)), gen.normal(size=(n, m))
        label = f"{name} for a {n}x{k} @ b {k}x{m}"
        result = call(label, matmul_backward, a.copy(), b.copy(), g.copy(),
                      hint="g has the shape of the output, (n, m); the gradient of a must be (n, k), of b (k, m)")
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            fail(label, "a pair (grad_a, grad_b)", fmt_array(result), "return grad_a, grad_b")
        grad_a = as_array(label + ": grad_a", result[0], a.shape, "the shape of a")
        grad_b = as_array(label + ": grad_b", result[1], b.shape, "the shape of b")
        for what, got, expected, hint in [
            ("grad_a", grad_a, g @ b.T, "out[i, j] = sum_l a[i, l] b[l, j], so dL/da[i, l] = sum_j g[i, j] b[l, j]: g @ b.T"),
            ("grad_b", grad_b, a.T @ g, "dL/db[l, j] = sum_i a[i, l] g[i, j]: a.T @ g"),
        ]:
            if not np.allclose(got, expected, rtol=1e-9, atol=1e-12):
                fail(f"{label}: {what}", fmt_array(expected), fmt_array(got), hint)
    passed(name, "g @ b.T and a.T @ g, on square and non-square shapes")


# ---------------------------------------------------------------- exercise 3: unbroadcast

def check_unbroadcast(unbroadcast):
    """unbroadcast(g, shape) -> g summed over the axes that broadcasting added or stretched."""
    __tracebackhide__ = True
    name = "unbroadcast"
    gen = np.random.default_rng(4)
    cases = [  # (shape of g, shape of the input that was broadcast)
        ((3, 4), (3, 4)),  # nothing to undo
        ((3, 4), (4,)),  # a bias added to every row
        ((3, 4), (3, 1)),  # a column stretched
        ((3, 4), (1, 4)),  # a row stretched
        ((2, 3, 4), (3, 4)),  # an axis added in front
        ((2, 3, 4), (3, 1)),  # both
        ((2, 3, 4), (1, 1, 4)),
        ((3, 4), ()),  # a plain number
    ]
    for g_shape, shape in cases:
        g = gen.normal(size=g_shape)
        expected = g
        while expected.ndim > len(shape):
            expected = expected.sum(axis=0)
        for axis, size in enumerate(shape):
            if size == 1:
                expected = expected.sum(axis=axis, keepdims=True)
        label = f"{name}(g of shape {g_shape}, {shape})"
        got = as_array(label, call(label, unbroadcast, g.copy(), shape), shape, "the shape asked for")
        if not np.allclose(got, expected, rtol=1e-9, atol=1e-12):
            fail(label, fmt_array(expected), fmt_array(got),
                 "an input broadcast along an axis was used once per position along it: add up (sum, not mean) "
                 "the gradients over every axis added in front and every axis of size 1 that was stretched")
    passed(name, f"{len(cases)} shapes: axes added in front, axes of size 1 stretched, both, and a plain number")


# ---------------------------------------------------------------- exercise 4: the embedding's scatter-add

def check_embedding_backward(embedding_backward):
    """embedding_backward(g, ids, vocab_size) -> the gradient of the table: row ids[t] gets g[t], repeats added."""
    __tracebackhide__ = True
    name = "embedding_backward"
    gen = np.random.default_rng(5)
    cases = [
        ("'anna' (BOS a n n a)", [26, 0, 13, 13, 0], 27, 4),  # a and n picked twice each
        ("'emet' (BOS e m e t)", [26, 4, 12, 4, 19], 27, 16),
        ("every position the same token", [3, 3, 3], 5, 2),
    ]
    for what, ids, vocab_size, n_embd in cases:
        g = gen.normal(size=(len(ids), n_embd))
        expected = np.zeros((vocab_size, n_embd))
        for t, token_id in enumerate(ids):
            expected[token_id] += g[t]
        label = f"{name} for {what}"
        got = as_array(label, call(label, embedding_backward, g.copy(), np.array(ids), vocab_size),
                       (vocab_size, n_embd), "one row per token of the vocabulary")
        if not np.allclose(got, expected, rtol=1e-9, atol=1e-12):
            fail(label, fmt_array(expected), fmt_array(got),
                 "a token picked at two positions gets the sum of both rows of g; grad[ids] += g keeps only one "
                 "of them (NumPy buffers the repeats): use np.add.at(grad, ids, g) or a loop")
    passed(name, "every row of g added into its token's row, repeats included")


# ---------------------------------------------------------------- exercise 5: causal attention weights

def check_causal_attention_weights(causal_attention_weights):
    """causal_attention_weights(q, k) -> (T, T) weights of one head, row t as the KV cache gives it at position t."""
    __tracebackhide__ = True
    name = "causal_attention_weights"
    gen = np.random.default_rng(6)
    for T, head_dim in [(5, 4), (1, 4), (7, 2), (4, 8)]:
        q, k = gen.normal(size=(T, head_dim)), gen.normal(size=(T, head_dim))
        v = gen.normal(size=(T, head_dim))
        expected = np.zeros((T, T))
        keys, values = [], []
        for t in range(T):  # the scalar model, position by position, its cache growing
            keys.append([Value(x) for x in k[t]])
            values.append([Value(x) for x in v[t]])
            attn_log = []
            attention([Value(x) for x in q[t]], keys, values, 1, attn_log)
            expected[t, : t + 1] = attn_log[0]
        label = f"{name} for {T} positions, head_dim {head_dim}"
        with np.errstate(all="ignore"):  # a wrong mask may make nan; the comparison reports it
            result = call(label, causal_attention_weights, q.copy(), k.copy(),
                          hint="scores (T, T) = q @ k.T / sqrt(head_dim), -inf added above the diagonal, softmax of each row")
        got = as_array(label, result, (T, T), "row t: the weights of position t over positions 0..T-1")
        if not np.allclose(got, expected, rtol=1e-9, atol=1e-12):
            fail(label, fmt_array(expected), fmt_array(got),
                 "row t may only see columns 0..t (itself included): add -inf strictly above the diagonal "
                 "(np.triu(..., k=1)) before a softmax along each row, after dividing the scores by sqrt(head_dim)")
    passed(name, "every row equal to the KV-cache attention at that position, 1 to 7 positions")
