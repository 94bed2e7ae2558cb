"""Checks for the exercises of chapter 03: the building blocks (linear, softmax, rmsnorm, nll)."""
import math
import random

from .. import nn
from ..autograd import Value
from . import all_close, call, close, fail, fmt, passed

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
    """Run `mine` and `reference` on the same fresh inputs; compare outputs, then gradients."""
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


def check_linear(linear):
    """linear(x, w) = w @ x, one output per row of w, as Values."""
    __tracebackhide__ = True
    rng = random.Random(3)
    for nout, nin in [(2, 3), (4, 4), (1, 2), (3, 1)]:
        xs = [round(rng.uniform(-2, 2), 2) for _ in range(nin)]
        ws = [[round(rng.uniform(-1, 1), 2) for _ in range(nin)] for _ in range(nout)]
        compare(f"linear(x of {nin}, w of {nout}x{nin}) with x={xs}, w={ws}", linear, nn.linear,
                lambda: (values(xs), values(ws)),
                f"output i is sum over j of w[i][j] * x[j]: one number per row of w, so {nout} here",
                "build the outputs from Value operations (* and +) so backward can go through them")
    passed("linear", "w @ x with its gradients, square and not")


def check_softmax(softmax):
    """softmax(logits) -> probabilities as Values, stable for large logits."""
    __tracebackhide__ = True
    cases = [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0, 0.0], [-1.5, 0.3], [5.0],
             [1000.0, 1001.0, 999.0], [-1000.0, -1002.0], [-400.0, 400.0, 0.0]]
    for logits in cases:
        large = max(abs(x) for x in logits) > 100
        compare(f"softmax({logits})", softmax, nn.softmax, lambda: (values(logits),),
                STABLE_HINT if large else "exp of each logit, divided by the sum of all of them",
                "build the probabilities from Value operations ((logit - max).exp(), /) so gradients flow back")
    passed("softmax", "sums to 1, matches the library with its gradients, and survives logits of 1000 and -1000")


def check_rmsnorm(rmsnorm):
    """rmsnorm(x) = x / sqrt(mean(x**2) + 1e-5), as Values."""
    __tracebackhide__ = True
    # tiny inputs, where the 1e-5 matters, come early: elsewhere it moves the result by under 1e-5
    cases = [[1.0, 2.0, 3.0, 4.0], [1e-3, -2e-3, 5e-4], [-0.5, 0.5], [3.0], [2.0, 2.5, 3.0], [0.0, 0.0]]
    for x in cases:
        compare(f"rmsnorm({x})", rmsnorm, nn.rmsnorm, lambda: (values(x),),
                "divide each element by sqrt(mean of the squares + 1e-5): the mean, not the sum, the 1e-5 "
                "inside the root, and no subtraction of the mean (that is layer norm)",
                "use Value operations (x * x, sum, ** -0.5, *) so gradients flow back", tol=1e-5)
    passed("rmsnorm", "a root-mean-square of 1, the 1e-5 kept, gradients included")


def check_cross_entropy(cross_entropy):
    """cross_entropy(logits, target) = -log(softmax(logits)[target]), as one Value."""
    __tracebackhide__ = True
    cases = [([2.0, -1.0, 0.5], 0), ([2.0, -1.0, 0.5], 2), ([0.0] * 27, 5), ([50.0, 0.0, -50.0], 1), ([0.3, 0.1], 1)]
    for logits, target in cases:
        name = f"cross_entropy({fmt(logits)}, target={target})"
        inputs, ref_inputs = values(logits), values(logits)
        ref = nn.nll(nn.softmax(ref_inputs), target)
        out = call(name, cross_entropy, inputs, target,
                   hint="probs = softmax(logits) (the library's), then -probs[target].log()")
        if not isinstance(out, Value):
            fail(name, "one Value", type(out).__name__, "return -probs[target].log(): a single Value")
        if not close(out.data, ref.data, 1e-9):
            fail(name, f"{ref.data:.6f}", fmt(out.data),
                 "-log of the probability of the target: small when it is near 1, ln(vocab_size) for uniform logits; "
                 "mind the sign and the index")
        out.backward()
        ref.backward()
        if not all_close([v.grad for v in inputs], [v.grad for v in ref_inputs], 1e-7):
            fail(f"{name}: gradients of the logits", fmt([v.grad for v in ref_inputs]), fmt([v.grad for v in inputs]),
                 "use Value operations all the way (softmax, .log(), minus) so backward reaches the logits")
    passed("cross_entropy", f"ln 27 = {math.log(27):.4f} for uniform logits over 27 tokens, gradients included")


def check_softmax_nll_grad(softmax_nll_grad):
    """softmax_nll_grad(logits, target) -> the gradient p - onehot(target), plain floats."""
    __tracebackhide__ = True
    cases = [([1.0, 2.0, 3.0], 0), ([1.0, 2.0, 3.0], 2), ([0.0] * 5, 3), ([-0.7, 0.2, 1.9, 0.4], 1),
             ([1000.0, 1000.5, 998.0], 2), ([-1000.0, -999.0], 0)]
    for logits, target in cases:
        name = f"softmax_nll_grad({fmt(logits)}, target={target})"
        large = max(abs(x) for x in logits) > 100
        got = call(name, softmax_nll_grad, list(logits), target,
                   hint=STABLE_HINT if large else "compute p = softmax(logits) with math.exp, then subtract 1 at the target")
        inputs = values(logits)
        nn.nll(nn.softmax(inputs), target).backward()
        expected = [v.grad for v in inputs]
        if not isinstance(got, list) or not all(isinstance(g, (int, float)) for g in got):
            fail(name, "a list of floats", type(got).__name__, "plain Python floats, no Value: the formula, not backward")
        if not all_close(got, expected, 1e-7):
            fail(name, fmt(expected), fmt(got),
                 "d loss / d logit_i = p_i - (1 if i == target else 0): every entry is p_i, "
                 "and the target's is 1 less" + ("; " + STABLE_HINT if large else ""))
    passed("softmax_nll_grad", "p - onehot(target) equals what backward finds, large logits included")
