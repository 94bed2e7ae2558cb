"""Checks for the exercises of chapter 09b (backprop by hand): four backward passes the learner derives.

Every expected value comes from chapter 09's Tensor engine (`microgpt_lib.tensor`), which differentiates
the forward pass through its graph, never from the learner's answer. A check takes `cases=None` (its
visible cases) or a list of cases written out in the notebook's hidden tests.
"""
import warnings

import numpy as np

from ..tensor import Tensor, causal_attention, embedding, linear, log_softmax, rmsnorm
from . import call, fail, passed
from .ch09 import as_array, fmt_array


def quiet_call(name, f, *args, hint):
    """call(), with NumPy's warnings (an overflow, say) reported on stdout, never on stderr."""
    __tracebackhide__ = True
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
        warnings.simplefilter("always")
        result = call(name, f, *args, hint=hint)
    for w in caught:
        print(f"{name}: your code raised a warning: {w.category.__name__}: {w.message}")
    return result


def arrays_of(name, result, count, shapes, what):
    """result as a tuple of `count` float arrays of the given shapes, or a failure that says what came back."""
    __tracebackhide__ = True
    if count == 1:
        result = (result,)
    elif not (isinstance(result, (tuple, list)) and len(result) == count):
        fail(name, f"a tuple of {count} arrays ({what})", fmt_array(result), f"return {what} in this order")
    return [as_array(name, r, s, w) for r, s, w in zip(result, shapes, what.split(", "))]


def compare(name, got, expected, what, hint, tol=1e-9):
    __tracebackhide__ = True
    if not np.all(np.isfinite(got)):
        fail(f"{name}: {what}", fmt_array(expected), fmt_array(got), "some entries are nan or inf: " + hint)
    if not np.allclose(got, expected, rtol=tol, atol=tol):
        fail(f"{name}: {what}", fmt_array(expected), fmt_array(got), hint)


# ---------------------------------------------------------------- exercise 1: rmsnorm with a gain

def check_rmsnorm_gain_backward(rmsnorm_gain_backward, cases=None):
    """rmsnorm_gain_backward(dout, x, gain) -> (dx, dgain) for y = gain * x * (mean(x^2) + 1e-5)^-1/2."""
    __tracebackhide__ = True
    name = "rmsnorm_gain_backward"
    cases = cases or [((5, 8), 1.0, 1), ((3, 16), 2.0, 2)]  # (shape of x, size of x, seed)
    for shape, size, seed in cases:
        gen = np.random.default_rng(seed)
        x, gain, dout = size * gen.normal(size=shape), gen.normal(size=shape[-1]), gen.normal(size=shape)
        tx, tgain = Tensor(x.copy()), Tensor(gain.copy())
        (rmsnorm(tx) * tgain * dout).sum().backward()
        label = f"{name}(x of shape {shape})"
        result = quiet_call(label, rmsnorm_gain_backward, dout.copy(), x.copy(), gain.copy(),
                            hint="compute s per row with keepdims=True, so that it broadcasts over the row")
        dx, dgain = arrays_of(label, result, 2, (shape, gain.shape), "dx, dgain")
        compare(label, dgain, tgain.grad, "dgain",
                "each gain multiplies x * s in every row: its gradient sums dout * x * s over all the leading axes")
        compare(label, dx, tx.grad, "dx",
                "the gain scales dout before rmsnorm's own backward: s * (g - y * mean(g * y)) with g = dout * gain, y = x * s")
    passed(name, f"dx and dgain equal the Tensor engine's on {len(cases)} inputs")


# ---------------------------------------------------------------- exercise 2: softmax-NLL with label smoothing

def check_smoothed_nll(smoothed_nll, cases=None):
    """smoothed_nll(logits, targets, smoothing) -> (loss, dlogits), the mean over rows of -sum_j q_j log p_j."""
    __tracebackhide__ = True
    name = "smoothed_nll"
    cases = cases or [((4, 27), 0.1, 0.0, 1), ((6, 5), 0.2, 0.0, 2)]  # (shape, smoothing, shift of the logits, seed)
    for shape, smoothing, shift, seed in cases:
        gen = np.random.default_rng(seed)
        logits = gen.normal(size=shape) + shift
        targets = gen.integers(0, shape[1], size=shape[0])
        q = np.full(shape, smoothing / shape[1])
        q[np.arange(shape[0]), targets] += 1 - smoothing
        z = Tensor(logits.copy())
        loss = -(log_softmax(z) * q).sum() * (1 / shape[0])
        loss.backward()
        label = f"{name}({shape[0]} rows of {shape[1]} logits{' near ' + str(int(shift)) if shift else ''}, smoothing {smoothing})"
        result = quiet_call(label, smoothed_nll, logits.copy(), targets.copy(), smoothing,
                            hint="subtract each row's largest logit before np.exp")
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            fail(label, "a pair (loss, dlogits)", fmt_array(result), "return loss, dlogits")
        got_loss, dlogits = result
        try:
            got_loss = float(got_loss)
        except (TypeError, ValueError):
            fail(label, f"a number, the loss {float(loss.data):.6f}", fmt_array(got_loss), "the loss is one number: the mean over rows")
        if not np.isclose(got_loss, float(loss.data), rtol=1e-9, atol=1e-9):
            fail(label, f"loss {float(loss.data):.6f}", f"{got_loss:.6f}",
                 "each row's loss is -sum_j q_j log p_j with q = (1 - smoothing) * onehot + smoothing / vocab_size; then the mean")
        dlogits = as_array(label, dlogits, shape, "dlogits")
        compare(label, dlogits, z.grad, "dlogits",
                "the gradient of a row is p - q (the probabilities minus the smoothed target), divided by the number of rows")
    passed(name, f"loss and dlogits equal the Tensor engine's on {len(cases)} inputs")


# ---------------------------------------------------------------- exercise 3: one attention head, written out

def check_head_backward(head_backward, cases=None):
    """head_backward(dout, q, k, v) -> (dq, dk, dv) for one causal head of one name; q, k, v (T, head_dim)."""
    __tracebackhide__ = True
    name = "head_backward"
    cases = cases or [(5, 4, 1), (8, 4, 2)]  # (T, head_dim, seed)
    for T, head_dim, seed in cases:
        gen = np.random.default_rng(seed)
        q, k, v, dout = gen.normal(size=(4, T, head_dim))
        tq, tk, tv = (Tensor(a.copy()[None]) for a in (q, k, v))
        (causal_attention(tq, tk, tv, 1) * dout[None]).sum().backward()
        label = f"{name}(T={T}, head_dim={head_dim})"
        result = quiet_call(label, head_backward, dout.copy(), q.copy(), k.copy(), v.copy(),
                            hint="recompute the forward (scores, mask, softmax) inside your function first")
        dq, dk, dv = arrays_of(label, result, 3, [(T, head_dim)] * 3, "dq, dk, dv")
        compare(label, dv, tv.grad[0], "dv", "out = att @ v, so dv = att.T @ dout")
        compare(label, dq, tq.grad[0], "dq",
                "datt = dout @ v.T; dscores = att * (datt - rowsum(datt * att)); dq = dscores @ k / sqrt(head_dim)")
        compare(label, dk, tk.grad[0], "dk", "dk = dscores.T @ q / sqrt(head_dim), with head_dim = q.shape[1]")
    passed(name, f"dq, dk and dv equal the Tensor engine's on {len(cases)} heads")


# ---------------------------------------------------------------- exercise 4: the MLP with ReLU squared

def check_mlp_relu2_backward(mlp_relu2_backward, cases=None):
    """mlp_relu2_backward(dout, x, w1, w2) -> (dx, dw1, dw2) for y = relu(x w1^T)^2 w2^T, x (..., C)."""
    __tracebackhide__ = True
    name = "mlp_relu2_backward"
    cases = cases or [((5, 4), 1), ((7, 8), 2)]  # (shape of x, seed)
    for shape, seed in cases:
        gen = np.random.default_rng(seed)
        C = shape[-1]
        x, w1, w2 = gen.normal(size=shape), gen.normal(size=(4 * C, C)), gen.normal(size=(C, 4 * C))
        dout = gen.normal(size=shape)
        tx, tw1, tw2 = Tensor(x.copy()), Tensor(w1.copy()), Tensor(w2.copy())
        (linear(linear(tx, tw1).relu() ** 2, tw2) * dout).sum().backward()
        label = f"{name}(x of shape {shape})"
        result = quiet_call(label, mlp_relu2_backward, dout.copy(), x.copy(), w1.copy(), w2.copy(),
                            hint="recompute h = x @ w1.T and a = relu(h)**2 first; then go back one layer at a time")
        dx, dw1, dw2 = arrays_of(label, result, 3, (shape, w1.shape, w2.shape), "dx, dw1, dw2")
        compare(label, dw2, tw2.grad, "dw2", "dw2 = dout^T a, summed over every row (reshape x's leading axes into one)")
        compare(label, dw1, tw1.grad, "dw1", "the derivative of relu(h)**2 is 2 * relu(h): dh = (dout @ w2) * 2 * relu(h); dw1 = dh^T x")
        compare(label, dx, tx.grad, "dx", "dx = dh @ w1, in x's own shape")
    passed(name, f"dx, dw1 and dw2 equal the Tensor engine's on {len(cases)} inputs")


# ---------------------------------------------------------------- exercise 5: one matrix used twice (weight tying)

def check_tied_wte_grad(tied_wte_grad, cases=None):
    """tied_wte_grad(dlogits, x, ids, dx0, vocab_size) -> dwte when wte is both the embedding and lm_head."""
    __tracebackhide__ = True
    name = "tied_wte_grad"
    cases = cases or [([1, 3, 5, 7], 4, 1), ([0, 2, 4, 6, 8, 9], 3, 2)]  # (token ids, n_embd, seed)
    for ids, C, seed in cases:
        gen = np.random.default_rng(seed)
        V, N = 10, len(ids)
        wte, x, dlogits, dx0 = gen.normal(size=(V, C)), gen.normal(size=(N, C)), gen.normal(size=(N, V)), gen.normal(size=(N, C))
        tied = Tensor(wte.copy())
        ((linear(Tensor(x), tied) * dlogits).sum() + (embedding(tied, np.array(ids)) * dx0).sum()).backward()
        label = f"{name}(ids {ids}, n_embd {C})"
        result = quiet_call(label, tied_wte_grad, dlogits.copy(), x.copy(), np.array(ids), dx0.copy(), V,
                            hint="start from np.zeros((vocab_size, n_embd)) and add both uses into it")
        dwte = as_array(label, result, (V, C), "dwte")
        compare(label, dwte, tied.grad, "dwte",
                "wte gets dlogits^T x from lm_head plus, from the embedding, dx0[t] added into row ids[t] for every t "
                "(np.add.at: a repeated token adds twice)")
    passed(name, f"dwte equals the Tensor engine's on {len(cases)} inputs")
