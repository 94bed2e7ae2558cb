"""Checks for the exercises of chapter 13 (a modern GPT): a warm-up/stable/decay schedule, clipping by
global norm, LayerNorm's backward, RoPE with interleaved pairs as a `Tensor` operation, and the weights'
moving average started from zero, with its bias correction.

Every check takes `cases=None`: None runs its visible cases; the check cells' hidden blocks pass
other cases, written out in the cell. Expected values come from the library (`modern.lr_at`,
`modern_ops.layernorm`, `modern_ops.rope`) or from finite differences, never from the answer.
"""
import math

import numpy as np

from .. import modern
from ..modern_ops import layernorm, rope
from ..tensor import Tensor
from . import call, close, fail, passed

try:
    from . import exercise
except ImportError:  # the harness of issue 16 adds it; until then a check is its plain function
    def exercise(number, title):
        return lambda check: check


def fmt_list(xs, digits=6):
    return "[" + ", ".join(f"{x:.{digits}g}" for x in list(xs)[:8]) + (", ...]" if len(xs) > 8 else "]")


def as_array(name, got, shape, where, hint):
    __tracebackhide__ = True
    if isinstance(got, Tensor):
        got = got.data
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        fail(name, f"an array of shape {shape} ({where})", type(got).__name__, hint)
    if got.shape != shape:
        fail(name, f"an array of shape {shape} ({where})", f"shape {got.shape}", hint)
    return got


# ---------------------------------------------------------------- exercise 1: a WSD schedule

WSD_CASES = [(10, 1.0, 2, 0.2), (50, 0.01, 5, 0.2), (30, 0.003, 0, 0.2)]  # num_steps, lr, warmup_steps, cooldown


@exercise(1, "a warm-up/stable/decay schedule")
def check_wsd(wsd_lr, cases=None):
    """wsd_lr(step, num_steps, lr, warmup_steps, cooldown_fraction) at every step, against modern.lr_at("wsd").

    cases: (num_steps, lr, warmup_steps, cooldown_fraction) tuples; None: WSD_CASES.
    """
    __tracebackhide__ = True
    name = "wsd_lr"
    for num_steps, lr, warmup_steps, cooldown in WSD_CASES if cases is None else cases:
        expected = [modern.lr_at("wsd", s, num_steps, lr, warmup_steps, cooldown) for s in range(num_steps)]
        where = f"num_steps={num_steps}, lr={lr}, warmup_steps={warmup_steps}, cooldown_fraction={cooldown}"
        got = []
        for step in range(num_steps):
            value = call(name, wsd_lr, step, num_steps, lr, warmup_steps, cooldown)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
                fail(name, f"a number at step {step} ({where})", type(value).__name__, "return lr times a factor")
            got.append(float(value))
        wrong = [s for s in range(num_steps) if not close(got[s], expected[s], 1e-9)]
        if wrong:
            s = wrong[0]
            if s < warmup_steps:
                hint = "warm-up first: lr * (step + 1) / warmup_steps for step < warmup_steps"
            elif expected[s] == lr:
                hint = "the stable part holds lr until the last cooldown_fraction * num_steps steps"
            else:
                hint = ("the decay is lr * (num_steps - step) / (cooldown_fraction * num_steps): it reaches 0 one "
                        "step after the last; use the cooldown_fraction you are given, unrounded")
            fail(f"{name} at step {s} ({where})", f"{expected[s]:.6g} (the schedule: {fmt_list(expected[-6:])} "
                 "for the last 6 steps)", f"{got[s]:.6g} (yours: {fmt_list(got[-6:])})", hint)
    passed(name, "every step of each schedule, as modern.lr_at('wsd', ...)")


# ---------------------------------------------------------------- exercise 2: clipping by global norm

CLIP_CASES = [  # (shapes of the gradients, scale, max_norm, seed)
    ([(2,), (1,)], None, 1.0, 0),  # the chapter's [3, 0] and [4]: norm 5
    ([(5,), (3,), (4,)], 2.0, 1.0, 1),
    ([(6,), (2,)], 0.1, 10.0, 2),  # below the cap: unchanged
]


def clip_inputs(shapes, scale, seed):
    if scale is None:
        return [np.array([3.0, 0.0]), np.array([4.0])]
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) * scale for shape in shapes]


@exercise(2, "clipping by global norm")
def check_clip(clip_by_global_norm, cases=None):
    """clip_by_global_norm(grads, max_norm) -> (clipped grads, norm before clipping); the inputs unchanged.

    cases: (shapes, scale, max_norm, seed) tuples, the gradients drawn from the seed; None: CLIP_CASES.
    """
    __tracebackhide__ = True
    name = "clip_by_global_norm"
    for shapes, scale, max_norm, seed in CLIP_CASES if cases is None else cases:
        grads = clip_inputs(shapes, scale, seed)
        originals = [g.copy() for g in grads]
        norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
        factor = min(1.0, max_norm / norm)
        where = f"gradients of shapes {[g.shape for g in grads]}, global norm {norm:.6g}, max_norm {max_norm}"
        out = call(name, clip_by_global_norm, grads, max_norm)
        if not (isinstance(out, tuple) and len(out) == 2):
            fail(name, f"a pair (clipped gradients, norm) for {where}", type(out).__name__,
                 "return the list of clipped arrays and the norm, as `return clipped, norm`")
        clipped, got_norm = out
        if not all(np.array_equal(g, o) for g, o in zip(grads, originals)):
            fail(name, f"the gradients passed in left as they were ({where})", "they were changed in place",
                 "multiply into new arrays (g * factor), not g *= factor: the caller may still need them")
        try:
            got_norm = float(got_norm)
        except (TypeError, ValueError):
            fail(name, f"the norm {norm:.6g} as a number", type(got_norm).__name__, "one number for all gradients")
        if not close(got_norm, norm, 1e-9):
            fail(name, f"norm {norm:.6g} ({where})", f"{got_norm:.6g}",
                 "the square root of the sum of every gradient's squares, all arrays together, before clipping")
        if not isinstance(clipped, (list, tuple)) or len(clipped) != len(grads):
            fail(name, f"{len(grads)} clipped arrays", repr(type(clipped).__name__), "one clipped array per gradient")
        for i, (g, c) in enumerate(zip(originals, clipped)):
            c = as_array(name, c, g.shape, where, "each clipped gradient keeps its array's shape")
            if not np.allclose(c, g * factor, rtol=1e-12, atol=1e-15):
                hint = ("below max_norm nothing changes" if factor == 1 else
                        "one factor, max_norm / global norm, for every array (not each array by its own norm)")
                fail(f"{name}: array {i} ({where})", fmt_list((g * factor).ravel()), fmt_list(c.ravel()), hint)
    passed(name, "global norms above and below the cap, the inputs untouched")


# ---------------------------------------------------------------- exercise 3: LayerNorm's backward

LAYERNORM_CASES = [((3, 8), 0.0, 0), ((4, 6), 0.0, 1), ((2, 5), 3.0, 2)]  # (shape, offset of x, seed)


@exercise(3, "LayerNorm's backward")
def check_layernorm_backward(layernorm_backward, cases=None):
    """layernorm_backward(x, g) -> dL/dx for y = layernorm(x) over the last axis (eps 1e-5), g = dL/dy.

    cases: (shape, offset, seed) triples, x drawn from the seed plus offset; None: LAYERNORM_CASES.
    """
    __tracebackhide__ = True
    name = "layernorm_backward"
    for shape, offset, seed in LAYERNORM_CASES if cases is None else cases:
        rng = np.random.default_rng(seed)
        x, g = rng.normal(size=shape) + offset, rng.normal(size=shape)
        node = Tensor(x.copy())
        out = layernorm(node)
        (out * g).sum().backward()
        expected = node.grad
        where = f"x of shape {shape}"
        got = as_array(name, call(name, layernorm_backward, x.copy(), g.copy()), shape, where,
                       "the gradient of x has x's shape")
        if not np.allclose(got, expected, rtol=1e-9, atol=1e-11):
            y = out.data
            s = ((x - x.mean(-1, keepdims=True)) ** 2).mean(-1, keepdims=True) + 1e-5
            no_mean = s**-0.5 * (g - y * (g * y).mean(-1, keepdims=True))
            hint = ("the mean of x also depends on every x_j: subtract mean(g) too" if np.allclose(got, no_mean) else
                    "with s = (var + eps)^-1/2 and y the output: s * (g - mean(g) - y * mean(g * y)), means over the "
                    "last axis (keepdims=True)")
            fail(f"{name} ({where})", fmt_list(expected.ravel()), fmt_list(got.ravel()), hint)
        eps = 1e-6  # and against finite differences, one element
        up, down = x.copy(), x.copy()
        up.flat[0] += eps
        down.flat[0] -= eps
        numeric = float(((layernorm(Tensor(up)).data - layernorm(Tensor(down)).data) * g).sum()) / (2 * eps)
        if not close(numeric, float(got.flat[0]), 1e-5):
            fail(f"{name} ({where}), element 0", f"{numeric:.6g} (finite differences)", f"{got.flat[0]:.6g}",
                 "check the formula against the derivation in the statement")
    passed(name, "as modern_ops.layernorm's backward and finite differences")


# ---------------------------------------------------------------- exercise 4: RoPE, interleaved pairs

ROPE_CASES = [(1, 4, 8, 1, 0), (2, 5, 6, 1, 1)]  # (B, T, C, n_head, seed)


def interleaved_reference(x, n_head):
    """The interleaved rotation from the library's half-split one: reorder each head's numbers."""
    B, T, C = x.shape
    head_dim = C // n_head
    order = np.concatenate([np.arange(0, head_dim, 2), np.arange(1, head_dim, 2)])  # pairs (2i, 2i+1) -> halves
    back = np.argsort(order)
    per_head = x.reshape(B, T, n_head, head_dim)[..., order].reshape(B, T, C)
    turned = rope(Tensor(per_head), n_head).data.reshape(B, T, n_head, head_dim)
    return turned[..., back].reshape(B, T, C)


@exercise(4, "RoPE with interleaved pairs")
def check_rope_interleaved(rope_interleaved, cases=None):
    """rope_interleaved(x, n_head) -> a Tensor: pairs (2i, 2i+1) of each head turned; its backward checked.

    cases: (B, T, C, n_head, seed) tuples; None: ROPE_CASES.
    """
    __tracebackhide__ = True
    name = "rope_interleaved"
    for B, T, C, n_head, seed in ROPE_CASES if cases is None else cases:
        rng = np.random.default_rng(seed)
        x_data, w = rng.normal(size=(B, T, C)), rng.normal(size=(B, T, C))
        where = f"x of shape {(B, T, C)}, n_head={n_head}"
        x = Tensor(x_data.copy())
        out = call(name, rope_interleaved, x, n_head)
        if not isinstance(out, Tensor):
            fail(name, f"a Tensor ({where})", type(out).__name__,
                 "return Tensor(forward value, (x,), backward, 'rope'), backward a function of g")
        expected = interleaved_reference(x_data, n_head)
        got = as_array(name, out, (B, T, C), where, "the output has x's shape")
        if not np.allclose(got, expected, rtol=1e-12, atol=1e-12):
            hint = ("pair i of a head turns by t * 10000^(-2i / head_dim), head_dim = C // n_head (not C)"
                    if np.allclose(got[:, 0], expected[:, 0]) else
                    "position 0 is not turned at all; y[2i] = x[2i] cos + x[2i+1] sin, y[2i+1] = -x[2i] sin + "
                    "x[2i+1] cos")
            fail(f"{name} ({where})", fmt_list(expected.ravel()[C:]), fmt_list(got.ravel()[C:]), hint)
        try:
            (out * w).sum().backward()
        except Exception as err:  # noqa: BLE001  (the learner's backward, whatever it raises)
            fail(name, f"a backward that runs ({where})", f"{type(err).__name__}: {err}",
                 "backward(g) returns a tuple with one array, the gradient of x: (grad_x,)")
        # the gradient of sum(w * rope(x)) is rope's transpose applied to w: finite differences give it exactly
        numeric = np.zeros_like(x_data)
        for j in np.ndindex(x_data.shape):
            up, down = x_data.copy(), x_data.copy()
            up[j] += 1e-6
            down[j] -= 1e-6
            numeric[j] = ((interleaved_reference(up, n_head) - interleaved_reference(down, n_head)) * w).sum() / 2e-6
        grad = x.grad
        if grad is None or np.shape(grad) != x_data.shape or not np.allclose(grad, numeric, rtol=1e-6, atol=1e-8):
            fail(f"{name}: the gradient of x ({where})", fmt_list(numeric.ravel()[C:]),
                 "nothing" if grad is None else fmt_list(np.ravel(grad)[C:]),
                 "a rotation's transpose turns back: g[2i] cos - g[2i+1] sin, g[2i] sin + g[2i+1] cos")
    passed(name, "the forward against the library's rope, the backward against finite differences")


# ---------------------------------------------------------------- exercise 5: the weights' average from zero

AVERAGE_CASES = [(5, (3,), 0.9, 0), (20, (4,), 0.9, 1)]  # (steps, shape of the weights, d, seed)


def average_inputs(steps, shape, seed):
    """`steps` arrays of `shape`: the weights after each step of a random walk (as training moves them)."""
    rng = np.random.default_rng(seed)
    return list(np.cumsum(rng.normal(size=(steps, *shape)), axis=0))


@exercise(5, "the weights' average, started from zero")
def check_average(average_weights, cases=None):
    """average_weights(weights, d) -> a_T / (1 - d^T), a_0 = 0, a_t = d a_(t-1) + (1 - d) w_t; inputs unchanged.

    cases: (steps, shape, d, seed) tuples, the weights a random walk drawn from the seed; None: AVERAGE_CASES.
    Each case is also run on constant weights, which the corrected average must give back exactly.
    """
    __tracebackhide__ = True
    name = "average_weights"
    for steps, shape, d, seed in AVERAGE_CASES if cases is None else cases:
        walk = average_inputs(steps, shape, seed)
        for weights, what in ((walk, "a random walk"), ([walk[-1].copy() for _ in walk], "constant weights")):
            originals = [w.copy() for w in weights]
            average = np.zeros(shape)
            for w in originals:
                average = d * average + (1 - d) * w
            expected = average / (1 - d**steps)
            where = f"{steps} steps of {what} of shape {shape}, d={d}"
            got = as_array(name, call(name, average_weights, weights, d), shape, where,
                           "return one array, the weights' shape")
            if not all(np.array_equal(w, o) for w, o in zip(weights, originals)):
                fail(name, f"the weights passed in left as they were ({where})", "they were changed in place",
                     "make new arrays (a = d * a + ...), not a *= d on one of the weights")
            if not np.allclose(got, expected, rtol=1e-12, atol=1e-12):
                hint = ("constant weights must come back exactly: divide by 1 - d**T, the sum of the "
                        "coefficients" if what == "constant weights" else
                        "a starts at zeros; after each of the T weights a = d a + (1 - d) w; then a / (1 - d**T)")
                fail(f"{name} ({where})", fmt_list(expected.ravel()), fmt_list(got.ravel()), hint)
    passed(name, "random walks and constant weights, the inputs untouched")
