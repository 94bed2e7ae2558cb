"""Checks for the exercises of chapter 03: the building blocks and what they lead to (linear, a new
operation silu, a stable log-softmax, the gradient of softmax and the loss, rmsnorm's backward).

Every check takes `cases=None`: None runs its visible cases; the check cells' hidden blocks pass
other cases, written out in the cell. Expected values come from the library (`nn`, `Value.backward`)
or from formulas here, never from the answer.
"""
import math
import random

from .. import nn
from ..autograd import Value
from . import all_close, call, close, exercise, fail, fmt, passed

STABLE_HINT = "subtract the largest logit from every logit before exp: exp then never sees more than 0"


def values(numbers):
    """Fresh Values (leaves) for a list of numbers, or for a list of rows of numbers."""
    return [values(x) if isinstance(x, list) else Value(x) for x in numbers]


def leaves(nested):
    """The Values of a (nested) list, in order."""
    return [v for x in nested for v in (leaves(x) if isinstance(x, list) else [x])]


def expect_values(name, out, n, hint, type_hint):
    """`out` must be a list of `n` Values; returns their data."""
    __tracebackhide__ = True
    if not isinstance(out, list) or not all(isinstance(v, Value) for v in out):
        kind = type(out).__name__ if not isinstance(out, list) else "a list holding " + ", ".join(
            sorted({type(v).__name__ for v in out}))
        fail(name, f"a list of {n} Values", kind, type_hint)
    if len(out) != n:
        fail(name, f"{n} outputs", f"{len(out)}", hint)
    return [v.data for v in out]


def weighted_sum(out, seed=7):
    """A scalar of the outputs with fixed, different weights, to back-propagate through them."""
    weights = [random.Random(seed + i).uniform(-1, 1) for i in range(len(out))]
    return sum((w * v for w, v in zip(weights, out)), Value(0.0))


def compare(name, mine, reference, make_inputs, hint, grad_hint, tol=1e-9):
    """Run `mine` and `reference` on the same fresh inputs; compare outputs, then gradients.

    (Chapter 04's checks use it too.)
    """
    __tracebackhide__ = True
    inputs, ref_inputs = make_inputs(), make_inputs()
    ref_out = reference(*ref_inputs)
    out = call(name, mine, *inputs, hint=hint)
    got = expect_values(name, out, len(ref_out), hint, grad_hint)
    expected = [v.data for v in ref_out]
    if not all_close(got, expected, tol):
        fail(name, fmt(expected), fmt(got), hint)
    weighted_sum(out).backward()
    weighted_sum(ref_out).backward()
    got_grads = [v.grad for v in leaves(inputs)]
    expected_grads = [v.grad for v in leaves(ref_inputs)]
    if not all_close(got_grads, expected_grads, max(tol, 1e-7)):
        fail(f"{name}: the gradients of its inputs after backward", fmt(expected_grads), fmt(got_grads), grad_hint)


def expect_floats(name, got, n):
    __tracebackhide__ = True
    if not isinstance(got, list) or not all(isinstance(g, (int, float)) and not isinstance(g, bool) for g in got):
        fail(name, f"a list of {n} floats", type(got).__name__ if not isinstance(got, list) else
             "a list holding " + ", ".join(sorted({type(g).__name__ for g in got})),
             "plain Python floats (math.exp, math.log), no Value: the formula, not backward")
    if len(got) != n:
        fail(name, f"{n} numbers", f"{len(got)}", "one number per input")


# ---------------------------------------------------------------- exercise 1: linear

LINEAR_CASES = [  # (nout, nin, seed): w of nout x nin and x of nin, drawn from the seed
    (2, 3, 3), (4, 4, 4), (1, 2, 5), (3, 1, 6),
]


def linear_inputs(nout, nin, seed):
    rng = random.Random(seed)
    xs = [round(rng.uniform(-2, 2), 2) for _ in range(nin)]
    ws = [[round(rng.uniform(-1, 1), 2) for _ in range(nin)] for _ in range(nout)]
    return xs, ws


@exercise(1, "a linear layer")
def check_linear(linear, cases=None):
    """linear(x, w) = w @ x, one output per row of w, as Values, with their gradients.

    cases: (nout, nin, seed) triples; None: LINEAR_CASES.
    """
    __tracebackhide__ = True
    for nout, nin, seed in LINEAR_CASES if cases is None else cases:
        xs, ws = linear_inputs(nout, nin, seed)
        name = f"linear(x of {nin}, w of {nout}x{nin}) with x={xs}, w={fmt(ws)}"
        hint = f"output i is sum over j of w[i][j] * x[j]: one number per row of w, so {nout} here"
        grad_hint = "build the outputs from Value operations (* and +) so backward can go through them"
        compare(name, linear, nn.linear, lambda: (values(xs), values(ws)), hint, grad_hint)
    passed("linear", "w @ x with its gradients, square and not")


# ---------------------------------------------------------------- exercise 2: silu, a new operation

def sigmoid(x):
    """1 / (1 + e^-x) without overflow: e^-x is only computed for x >= 0."""
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


@exercise(2, "a new operation: silu")
def check_silu(silu, cases=None):
    """silu(x) -> one new Value: data x * sigmoid(x), child x, local gradient s * (1 + x * (1 - s)).

    cases: the numbers x to try; None: the visible ones, and silu inside an expression.
    """
    __tracebackhide__ = True
    for x in [0.5, -1.5, 0.0, 3.0, -4.0] if cases is None else cases:
        v = Value(x)
        name = f"silu(Value({x}))"
        out = call(name, silu, v, hint="s = sigmoid(x.data), computed so that exp never overflows")
        s = sigmoid(x)
        data, local = x * s, s * (1 + x * (1 - s))
        if not isinstance(out, Value):
            fail(name, "a Value", f"{type(out).__name__} {fmt(out)}", "return Value(data, (x,), (local_grad,), 'silu')")
        if not close(out.data, data, 1e-9):
            fail(f"{name}.data", f"{data:.6g}", fmt(out.data),
                 "x times sigmoid(x), with sigmoid(x) = 1 / (1 + exp(-x)); for a very negative x use "
                 "exp(x) / (1 + exp(x)), which does not overflow")
        if len(out._children) != 1 or out._children[0] is not v:
            fail(f"{name}._children", "(x,): the one input, so backward can reach it", f"{len(out._children)} children",
                 "Value(y, (x,), (local_grad,), 'silu'): one new node, its input as the child")
        got_local = out._local_grads[0] if len(out._local_grads) == 1 else None
        if not isinstance(got_local, (int, float)) or not close(got_local, local, 1e-9):
            fail(f"{name}._local_grads", f"({local:.6g},)", fmt(tuple(out._local_grads)),
                 "the product rule on x * s(x), with s'(x) = s (1 - s): d/dx = s + x s (1 - s)")
    if cases is not None:
        passed("silu", f"{len(cases)} more inputs")
        return
    a, b = Value(0.7), Value(-1.1)
    y = call("silu(a * b) * a", lambda: silu(a * b) * a)
    y.backward()
    z = 0.7 * -1.1
    s = sigmoid(z)
    dz = s * (1 + z * (1 - s))
    expected = [z * s + 0.7 * dz * -1.1, 0.7 * dz * 0.7]
    if not all_close([a.grad, b.grad], expected, 1e-9):
        fail("y = silu(a * b) * a at a=0.7, b=-1.1: [a.grad, b.grad]", fmt(expected), fmt([a.grad, b.grad]),
             "check the local gradient at a point where x is not 0")
    passed("silu", "its value and local gradient, alone and inside an expression")


# ---------------------------------------------------------------- exercise 3: a stable log-softmax

LOG_SOFTMAX_CASES = [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0, 0.0], [-1.5, 0.3], [5.0], [1000.0, 1001.0, 999.0],
                     [-1000.0, -1002.0], [10.0, -300.0, 0.0]]


def reference_log_softmax(logits):
    m = max(logits)
    lse = m + math.log(sum(math.exp(z - m) for z in logits))
    return [z - lse for z in logits]


@exercise(3, "a log-softmax that never overflows")
def check_log_softmax(log_softmax, cases=None):
    """log_softmax(logits) -> log p_i = z_i - m - log(sum_j exp(z_j - m)), plain floats, any logits.

    cases: lists of logits; None: LOG_SOFTMAX_CASES.
    """
    __tracebackhide__ = True
    for logits in LOG_SOFTMAX_CASES if cases is None else cases:
        name = f"log_softmax({fmt(logits)})"
        got = call(name, log_softmax, list(logits),
                   hint=STABLE_HINT + "; never take the log of a probability, which can round to 0")
        expected = reference_log_softmax(logits)
        expect_floats(name, got, len(logits))
        if not all_close(got, expected, 1e-9):
            fail(name, fmt(expected), fmt(got),
                 "log p_i = z_i - m - log(sum over j of exp(z_j - m)), with m the largest logit: "
                 "subtract m inside the exp and outside the log alike")
    passed("log_softmax", "z - m - log(sum of exp(z - m)), logits of 1000 and far apart included")


# ---------------------------------------------------------------- exercise 4: softmax and the loss, by formula

SOFTMAX_NLL_GRAD_CASES = [([1.0, 2.0, 3.0], 0), ([1.0, 2.0, 3.0], 2), ([0.0] * 5, 3), ([-0.7, 0.2, 1.9, 0.4], 1)]


@exercise(4, "the gradient of softmax and the loss, by formula")
def check_softmax_nll_grad(softmax_nll_grad, cases=None):
    """softmax_nll_grad(logits, target) -> the gradient p - onehot(target), plain floats.

    cases: (logits, target) pairs; None: SOFTMAX_NLL_GRAD_CASES.
    """
    __tracebackhide__ = True
    for logits, target in SOFTMAX_NLL_GRAD_CASES if cases is None else cases:
        name = f"softmax_nll_grad({fmt(logits)}, target={target})"
        large = max(abs(x) for x in logits) > 100
        got = call(name, softmax_nll_grad, list(logits), target,
                   hint=STABLE_HINT if large else "compute p = softmax(logits) with math.exp, then subtract 1 at the target")
        inputs = values(logits)
        nn.nll(nn.softmax(inputs), target).backward()
        expected = [v.grad for v in inputs]
        expect_floats(name, got, len(logits))
        if not all_close(got, expected, 1e-7):
            fail(name, fmt(expected), fmt(got),
                 "d loss / d logit_i = p_i - (1 if i == target else 0): every entry is p_i, "
                 "and the target's is 1 less" + ("; " + STABLE_HINT if large else ""))
    passed("softmax_nll_grad", "p - onehot(target) equals what backward finds")


# ---------------------------------------------------------------- exercise 5: rmsnorm's backward

RMSNORM_BACKWARD_CASES = [
    ([1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.25, 2.0]),
    ([-2.5, 2.5], [1.0, 1.0]),
    ([3.0], [2.0]),
    ([2.0, 2.5, -3.0], [0.1, -0.2, 0.3]),
]


def reference_rmsnorm_grad(x, dy):
    """d(sum_i dy_i * rmsnorm(x)_i) / dx, by the library's rmsnorm and backward."""
    inputs = values(x)
    out = nn.rmsnorm(inputs)
    sum((g * v for g, v in zip(dy, out)), Value(0.0)).backward()
    return [v.grad for v in inputs]


@exercise(5, "rmsnorm's backward, derived by hand")
def check_rmsnorm_backward(rmsnorm_backward, cases=None):
    """rmsnorm_backward(x, dy) -> dx, plain floats, equal to backward through nn.rmsnorm.

    cases: (x, dy) pairs; None: RMSNORM_BACKWARD_CASES.
    """
    __tracebackhide__ = True
    for x, dy in RMSNORM_BACKWARD_CASES if cases is None else cases:
        name = f"rmsnorm_backward(x={fmt(x)}, dy={fmt(dy)})"
        got = call(name, rmsnorm_backward, list(x), list(dy),
                   hint="s = (mean of x**2 + 1e-5) ** -0.5; dx_j = s * dy_j - s**3 / n * x_j * sum_i(dy_i * x_i)")
        expected = reference_rmsnorm_grad(x, dy)
        expect_floats(name, got, len(x))
        if not all_close(got, expected, 1e-6):
            first_term = [((sum(v * v for v in x) / len(x) + 1e-5) ** -0.5) * g for g in dy]
            hint = ("y_i = x_i * s depends on x_j twice: through x_i (when i = j) and through s, which every "
                    "y_i shares; ds/dx_j = -s**3 * x_j / n")
            if all_close(got, first_term, 1e-6):
                hint = "you have s * dy, the path through x_i only; add the path through s: " + hint
            fail(name, fmt(expected), fmt(got), hint + " (the 1e-5 stays inside the root)")
    passed("rmsnorm_backward", "your formula gives what backward finds through nn.rmsnorm")
