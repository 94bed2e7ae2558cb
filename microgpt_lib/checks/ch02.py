"""Checks for the exercises of chapter 02: derivatives and the autograd engine.

Every check takes `cases=None`: None runs its visible cases; the check cells' hidden blocks pass
other cases, written out in the cell. Expected values come from the library or from formulas here.
"""
import math

from ..autograd import Value, topological_order
from . import all_close, call, close, exercise, fail, fmt, passed


DERIVATIVE_CASES = [
    ("x**3", lambda x: x**3, 2.0, 0.1),
    ("math.exp", math.exp, 0.0, 0.5),
    ("math.sin", math.sin, 1.0, 1e-3),
    ("1/x", lambda x: 1 / x, -0.5, 0.01),
]


@exercise(1, "the derivative by nudging")
def check_derivative(derivative, cases=None):
    """derivative(f, x, h) = (f(x + h) - f(x - h)) / (2 h): the central difference.

    cases: (label, f, x, h) tuples; None: the visible ones, and the default h.
    """
    __tracebackhide__ = True
    visible = cases is None
    for label, f, x, h in DERIVATIVE_CASES if visible else cases:
        name = f"derivative({label}, {x}, h={h})"
        got = call(name, derivative, f, x, h)
        expected = (f(x + h) - f(x - h)) / (2 * h)
        if not isinstance(got, (int, float)) or not close(got, expected, 1e-9):
            fail(name, f"{expected:.6f}", fmt(got) if isinstance(got, float) else repr(got),
                 "nudge x both ways by h, (f(x + h) - f(x - h)), and divide by the distance between them, 2 * h; "
                 "use the h you are given")
    if visible:
        got = call("derivative(x**2, 3.0)", derivative, lambda x: x**2, 3.0)
        if not isinstance(got, (int, float)) or not close(got, 6.0, 1e-5):
            fail("derivative(x**2, 3.0) with the default h", "6.000000", fmt(got), "give h a small default, such as 1e-6")
    passed("derivative", "central differences agree with (f(x+h) - f(x-h)) / 2h")


@exercise(2, "tanh as a new operation")
def check_tanh(tanh, cases=None):
    """tanh(x) -> one new Value: data tanh(x.data), child x, local gradient 1 - tanh(x.data)**2.

    cases: the numbers x to try; None: the visible ones, and tanh inside an expression.
    """
    __tracebackhide__ = True
    for x in [0.5, -2.0, 0.0, 3.0] if cases is None else cases:
        v = Value(x)
        name = f"tanh(Value({x}))"
        out = call(name, tanh, v)
        t = math.tanh(x)
        if not isinstance(out, Value):
            fail(name, "a Value", f"{type(out).__name__} {fmt(out)}", "return Value(data, (x,), (local_grad,), 'tanh')")
        if not close(out.data, t, 1e-9):
            fail(f"{name}.data", f"{t:.6f}", fmt(out.data), "math.tanh(x.data), or (e^2x - 1) / (e^2x + 1)")
        if len(out._children) != 1 or out._children[0] is not v:
            fail(f"{name}._children", "(x,): the one input, so backward can reach it",
                 f"{len(out._children)} children", "Value(t, (x,), (local_grad,), 'tanh'): one new node, its input as the child")
        local = out._local_grads[0] if len(out._local_grads) == 1 else None
        if not isinstance(local, (int, float)) or not close(local, 1 - t**2, 1e-9):
            fail(f"{name}._local_grads", f"({1 - t**2:.6f},)", fmt(tuple(out._local_grads)),
                 "d tanh(x)/dx = 1 - tanh(x)**2: computed from the output t, not from the input x")
        out.backward()
        if not close(v.grad, 1 - t**2, 1e-9):
            fail(f"{name}.backward(), then x.grad", f"{1 - t**2:.6f}", fmt(v.grad), "the local gradient must reach the child")
    if cases is not None:
        passed("tanh", f"{len(cases)} more inputs")
        return
    # inside a bigger expression: y = tanh(a * b + 1) * a
    a, b = Value(0.3), Value(-1.2)
    y = call("tanh(a * b + 1) * a", lambda: tanh(a * b + 1) * a)
    y.backward()
    s = math.tanh(0.3 * -1.2 + 1)
    expected = [s + 0.3 * (1 - s**2) * -1.2, 0.3 * (1 - s**2) * 0.3]
    if not all_close([a.grad, b.grad], expected, 1e-9):
        fail("y = tanh(a * b + 1) * a at a=0.3, b=-1.2: [a.grad, b.grad]", fmt(expected), fmt([a.grad, b.grad]),
             "check the local gradient 1 - t**2 at a point where it is not 1")
    passed("tanh", "its value and local gradient, alone and inside an expression")


def _central(f, xs, i, h):
    up, down = list(xs), list(xs)
    up[i] += h
    down[i] -= h
    return (f([Value(x) for x in up]).data - f([Value(x) for x in down]).data) / (2 * h)


def _bad_square(v):
    """v**2 with a wrong local gradient (v instead of 2v): a bug for the checker to find."""
    return Value(v.data**2, (v,), (v.data,), "bad**2")


GRADIENT_CHECK_CASES = [
    ("v[0] * v[1] + v[1].exp()", lambda v: v[0] * v[1] + v[1].exp(), [1.5, -0.5], 1e-6),
    ("v[0] ** 3 * v[1]", lambda v: v[0] ** 3 * v[1], [2.0, 0.5], 0.1),
    ("(v[0] * v[0] + v[1]).log() + v[2] * v[0]", lambda v: (v[0] * v[0] + v[1]).log() + v[2] * v[0], [0.7, 2.0, -1.3], 1e-3),
    ("(v[0] - v[1]).relu() * v[0]", lambda v: (v[0] - v[1]).relu() * v[0], [2.0, 0.5], 1e-4),
]


def _backward_grads(f, xs):
    """The reference analytic gradients: the library's backward."""
    inputs = [Value(x) for x in xs]
    f(inputs).backward()
    return [v.grad for v in inputs]


@exercise(3, "a gradient checker")
def check_gradient_check(gradient_check, cases=None):
    """gradient_check(f, xs, h) -> (analytic, numeric): backward's gradients and central differences.

    cases: (label, f, xs, h) tuples; None: the visible ones, and an operation with a bug to catch.
    """
    __tracebackhide__ = True
    for label, f, xs, h in GRADIENT_CHECK_CASES if cases is None else cases:
        name = f"gradient_check(lambda v: {label}, {xs}, h={h})"
        got = call(name, gradient_check, f, list(xs), h)
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            fail(name, "a pair (analytic, numeric)", repr(got)[:80], "return analytic, numeric: two lists, one number per x")
        analytic, numeric = list(got[0]), list(got[1])
        exact = _backward_grads(f, xs)
        if not all_close(analytic, exact, 1e-9):
            fail(f"{name}: analytic", fmt(exact), fmt(analytic),
                 "wrap each x in a Value, call f on them, call .backward() on the result, then read each .grad")
        expected = [_central(f, xs, i, h) for i in range(len(xs))]
        if not all_close(numeric, expected, 1e-7):
            fail(f"{name}: numeric", fmt(expected), fmt(numeric),
                 "for each i, move only xs[i], by +h and by -h, evaluate f on fresh Values, and divide the difference by 2 * h")
    if cases is not None:
        passed("gradient_check", f"{len(cases)} more functions")
        return
    # a Value operation with a bug: the two columns must disagree, or the checker could not find it
    xs = [1.5, -2.0]
    name = f"gradient_check(lambda v: bad_square(v[0]) + v[1], {xs})"
    analytic, numeric = call(name, gradient_check, lambda v: _bad_square(v[0]) + v[1], list(xs), 1e-6)
    if not (all_close(analytic, [1.5, 1.0], 1e-9) and all_close(numeric, [3.0, 1.0], 1e-5)):
        fail(f"{name}, where bad_square has the wrong local gradient v (not 2v)", "analytic [1.5, 1], numeric [3, 1]",
             f"analytic {fmt(list(analytic))}, numeric {fmt(list(numeric))}",
             "the numeric gradient must come from evaluating f only, never from .grad")
    passed("gradient_check", "it agrees on correct operations, and catches a wrong local gradient: 1.5 against 3.0")


def _chain(x):
    """x, then 30 times: (previous * 1.1) + x."""
    out = x
    for _ in range(30):
        out = out * 1.1 + x
    return out


# (label, build, leaf numbers): build(*leaves) makes the root from fresh Values of the numbers
GRAPHS = [
    ("a single Value", lambda a: a, [2.0]),
    ("(b + a) * b with b = a * a", lambda a: (lambda b: (b + a) * b)(a * a), [2.0]),
    ("(x * 3 + 1).exp() * x", lambda x: (x * 3 + 1).exp() * x, [0.5]),
]


def graph(build, numbers):
    return build(*[Value(x) for x in numbers])


@exercise(4, "a topological order")
def check_topological_order(topo_order, cases=None):
    """topo_order(root) -> every node below root once, each after all of its children.

    cases: (label, build, leaf numbers) tuples, as GRAPHS; None: GRAPHS.
    """
    __tracebackhide__ = True
    for label, build, numbers in GRAPHS if cases is None else cases:
        root = graph(build, numbers)
        name = f"topo_order(root) for {label}"
        got = call(name, topo_order, root)
        expected = topological_order(root)
        if not isinstance(got, list):
            fail(name, "a list of Values", type(got).__name__, "collect the nodes in a list and return it")
        ids = [id(node) for node in got]
        if len(ids) != len(set(ids)):
            fail(name, f"{len(expected)} nodes, each once", f"{len(ids)} nodes, only {len(set(ids))} different",
                 "keep a set of visited nodes, and skip a node you have seen (a node can have several parents)")
        if set(ids) != {id(node) for node in expected}:
            fail(name, f"the {len(expected)} nodes below root, root included", f"{len(ids)} nodes",
                 "visit every child, the children's children, and so on, and add root itself at the end")
        position = {id(node): i for i, node in enumerate(got)}
        for node in got:
            for child in node._children:
                if position[id(child)] > position[id(node)]:
                    fail(name, "every node after all of its children", f"a node ({node._op or 'leaf'}) before one of its children",
                         "add a node to the list only after all its children are in it (post-order)")
        if got[-1] is not root:
            fail(name, "root last", "another node last", "root is added after everything below it")
    passed("topo_order", f"every node once, children first, on {len(GRAPHS if cases is None else cases)} graphs")


# (label, build, leaf numbers), as GRAPHS; no node has the same child twice here (the hidden cases' a * a does)
EXPRESSIONS = [
    ("L = (a * b + c) * -2", lambda a, b, c: (a * b + c) * -2, [2.0, -3.0, 10.0]),
    ("(a * b + a).exp() * a", lambda a, b: (a * b + a).exp() * a, [0.8, -0.6]),
    ("r = (p * q + 1).log(); (r * p - q).relu() / q + r", lambda p, q: (((p * q + 1).log() * p - q).relu() / q
                                                                      + (p * q + 1).log()), [1.5, 0.4]),
]


@exercise(5, "backward")
def check_backward(backward, cases=None):
    """backward(root) fills .grad of every node with d(root)/d(node), like Value.backward.

    cases: (label, build, leaf numbers) tuples, as EXPRESSIONS; None: EXPRESSIONS.
    """
    __tracebackhide__ = True
    for label, build, numbers in EXPRESSIONS if cases is None else cases:
        root = graph(build, numbers)
        call(f"backward(root) of {label}", backward, root)
        ref_root = graph(build, numbers)
        ref_root.backward()
        nodes, ref_nodes = topological_order(root), topological_order(ref_root)
        for k, (node, ref) in enumerate(zip(nodes, ref_nodes)):
            if not close(node.grad, ref.grad, 1e-9):
                what = f"leaf {k} (data {ref.data:g})" if not ref._children else f"the node {ref._op} (data {ref.data:.4g})"
                fail(f"backward(root) of {label} at {numbers}: the grad of {what}", f"{ref.grad:.6f}", fmt(float(node.grad)),
                     "set root.grad = 1, then for each node of reversed(topological_order(root)) add "
                     "local_grad * node.grad to each child's grad, pair by pair (add with +=: a node used twice, "
                     "even twice by the same node as in a * a, gets both)")
        if not close(root.grad, 1.0):
            fail(f"backward(root) of {label}: root.grad", "1", fmt(root.grad), "d(root)/d(root) = 1: start there")
    passed("backward", f"the same gradients as Value.backward on {len(EXPRESSIONS if cases is None else cases)} graphs")


def _fit_line_reference(xs, ys, steps, lr):
    """Gradient descent on the mean squared error of w*x + b from w = b = 0, in plain floats."""
    w = b = 0.0
    n = len(xs)
    for _ in range(steps):
        errors = [w * x + b - y for x, y in zip(xs, ys)]
        grad_w = sum(2 * e * x for e, x in zip(errors, xs)) / n
        grad_b = sum(2 * e for e in errors) / n
        w, b = w - lr * grad_w, b - lr * grad_b
    return w, b


FIT_LINE_CASES = [
    ([0.0, 1.0, 2.0, 3.0], [1.0, 3.0, 5.0, 7.0], 1, 0.1, "one step from w = b = 0"),
    ([0.0, 1.0, 2.0, 3.0], [1.0, 3.0, 5.0, 7.0], 3, 0.1, "three steps"),
    ([-1.0, 0.5, 2.0, 3.5], [2.0, 0.0, -1.5, -2.5], 4, 0.05, "four steps, a falling line"),
]


@exercise(6, "your engine learns a line")
def check_fit_line(fit_line, cases=None):
    """fit_line(xs, ys, steps, lr) -> (w, b): `steps` steps of gradient descent with Value and backward.

    cases: (xs, ys, steps, lr, label) tuples; None: FIT_LINE_CASES, and 300 steps find y = 2x + 1.
    """
    __tracebackhide__ = True
    hint_step = ("each step: the loss from the current w and b, loss.backward(), then w.data -= lr * w.grad "
                 "(the same for b), then w.grad = b.grad = 0")
    for xs, ys, steps, lr, label in FIT_LINE_CASES if cases is None else cases:
        name = f"fit_line({xs}, {ys}, steps={steps}, lr={lr})"
        got = call(name, fit_line, list(xs), list(ys), steps, lr, hint=hint_step)
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            fail(name, "a pair (w, b)", repr(got)[:80], "return w.data, b.data")
        if not all(isinstance(v, (int, float)) for v in got):
            fail(name, "two plain numbers", f"{type(got[0]).__name__}, {type(got[1]).__name__}",
                 "return w.data, b.data, not the Values")
        expected = _fit_line_reference(xs, ys, steps, lr)
        if not all_close(got, expected, 1e-9):
            advice = hint_step
            if steps == 1:
                advice = ("the loss is the mean of (w * x + b - y) ** 2 over the points (divide the sum by n), "
                          "and a step goes against the gradient: w.data -= lr * w.grad")
            elif all_close(got, _fit_line_reference(xs, ys, steps - 1, lr), 1e-9):
                advice = f"you took {steps - 1} steps: take exactly `steps`"
            fail(f"{name} ({label})", f"(w, b) = {fmt(list(expected))}", fmt(list(got)),
                 advice + ("; backward adds to .grad, so a gradient that is not set back to 0 is added to the next "
                           "step's" if steps > 1 else ""))
    if cases is not None:
        passed("fit_line", f"{len(cases)} more runs of gradient descent")
        return
    # enough steps find the line through the points: y = 2x + 1
    xs, ys = [0.0, 1.0, 2.0, 3.0], [1.0, 3.0, 5.0, 7.0]
    w, b = call("fit_line(..., steps=300, lr=0.1)", fit_line, xs, ys, 300, 0.1)
    if not all_close([w, b], [2.0, 1.0], 1e-4):
        fail("fit_line on the points of y = 2x + 1, 300 steps of lr 0.1", "(w, b) close to (2, 1)", fmt([w, b]), hint_step)
    passed("fit_line", f"the same steps as gradient descent by hand, and y = {w:.4f} x + {b:.4f} on the points of y = 2x + 1")
