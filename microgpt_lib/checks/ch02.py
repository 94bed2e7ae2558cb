"""Checks for the exercises of chapter 02: derivatives and the autograd engine.

Every check takes `cases=None`: None runs its visible cases; the check cells' hidden blocks pass
other cases, written out in the cell. Expected values come from the library or from formulas here.
"""
import math

from ..autograd import Value, topological_order
from . import all_close, call, close, exercise, fail, fmt, passed


def _grad_at(f, x):
    """d f / d x at x, by the library's backward on a fresh Value."""
    v = Value(x)
    f(v).backward()
    return v.grad


def _second_reference(f, x, h):
    """The central difference, step h, of backward's gradient: (f'(x + h) - f'(x - h)) / 2h."""
    return (_grad_at(f, x + h) - _grad_at(f, x - h)) / (2 * h)


def _nudged_twice(f, x, h):
    """The central difference of central differences of f itself (no backward); None off f's domain."""
    try:
        return (f(Value(x + 2 * h)).data - 2 * f(Value(x)).data + f(Value(x - 2 * h)).data) / (4 * h * h)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None


# (label, f, x, h): f takes a Value and returns a Value; h None means the default h
SECOND_DERIVATIVE_CASES = [
    ("v ** 4", lambda v: v**4, 1.0, 0.1),
    ("v.exp()", lambda v: v.exp(), 0.5, 0.5),
    ("v.log()", lambda v: v.log(), 2.0, 0.01),
    ("v ** 3", lambda v: v**3, -2.0, None),
]


@exercise(1, "the second derivative, by nudging the gradient")
def check_second_derivative(second_derivative, cases=None):
    """second_derivative(f, x, h) = (f'(x + h) - f'(x - h)) / 2h, each f' from backward on a fresh Value.

    cases: (label, f, x, h) tuples, h None for the default; None: SECOND_DERIVATIVE_CASES.
    """
    __tracebackhide__ = True
    hint = ("f'(x + h) is the .grad of a fresh Value(x + h) after backward on f of it (the whole gradient, "
            "not the local one of f's last operation), the same for x - h; then the central difference of "
            "those two gradients, divided by 2 * h")
    for label, f, x, h in SECOND_DERIVATIVE_CASES if cases is None else cases:
        if h is None:
            name = f"second_derivative(lambda v: {label}, {x})"
            got = call(name, second_derivative, f, x, hint=hint)
            expected, tol = _second_reference(f, x, 1e-5), 1e-6
        else:
            name = f"second_derivative(lambda v: {label}, {x}, h={h})"
            got = call(name, second_derivative, f, x, h, hint=hint)
            expected, tol = _second_reference(f, x, h), 1e-9
        if isinstance(got, Value):
            fail(name, "a plain number", f"a Value {fmt(got.data)}",
                 "return a float, computed from the .grad numbers")
        if not isinstance(got, (int, float)) or not close(got, expected, tol):
            advice = hint
            twice = _nudged_twice(f, x, h) if h is not None else None
            if isinstance(got, (int, float)) and h is not None and close(got, 2 * expected, 1e-9):
                advice = "you divided by h, but the two points x - h and x + h are 2 * h apart"
            elif isinstance(got, (int, float)) and h is not None and close(got, -expected, 1e-9):
                advice = "the sign is flipped: f'(x + h) - f'(x - h), the upper gradient first"
            elif isinstance(got, (int, float)) and twice is not None and close(got, twice, 1e-7):
                advice = ("you nudged f twice; nudge only once, the exact gradient f' that backward gives "
                          "at x + h and at x - h")
            fail(name, f"{expected:.6f}", fmt(got) if isinstance(got, float) else repr(got), advice)
    n = len(SECOND_DERIVATIVE_CASES if cases is None else cases)
    passed("second_derivative", f"the slope of backward's gradient on {n} functions")


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


def _maximum_reference(a, b):
    """max(a, b) as one node: the gradient goes to the larger input; on a tie, half to each."""
    b = b if isinstance(b, Value) else Value(b)
    if a.data > b.data:
        local_grads = (1.0, 0.0)
    elif a.data < b.data:
        local_grads = (0.0, 1.0)
    else:
        local_grads = (0.5, 0.5)
    return Value(max(a.data, b.data), (a, b), local_grads, "max")


# (a, b): b a number is passed as a plain number, a Value for a float given as ("Value", x)
MAXIMUM_CASES = [(2.0, -1.0), (-3.0, 0.5), (1.5, 1.5), (0.25, 4.0)]


@exercise(4, "max(a, b) and its gradient on a tie")
def check_maximum(maximum, cases=None):
    """maximum(a, b) -> one new Value: max of the two, the gradient to the larger, half each on a tie.

    cases: (a, b) pairs of numbers, b a Value unless it is an int (then passed as a plain number);
    None: MAXIMUM_CASES (all Values), and maximum inside an expression.
    """
    __tracebackhide__ = True
    for x, y in MAXIMUM_CASES if cases is None else cases:
        a, ref_a = Value(float(x)), Value(float(x))
        b, ref_b = (y, y) if isinstance(y, int) else (Value(y), Value(y))
        shown = repr(y) if isinstance(y, int) else f"Value({y})"
        name = f"maximum(Value({float(x)}), {shown})"
        hint = ("a plain number b is wrapped first, as __add__ does: Value(b)" if isinstance(y, int)
                else "run your function on this input yourself and read the error")
        out = call(name, maximum, a, b, hint=hint)
        ref = _maximum_reference(ref_a, ref_b)
        if not isinstance(out, Value):
            fail(name, "a Value", f"{type(out).__name__} {fmt(out)}",
                 "return Value(data, (a, b), (local_a, local_b), 'max')")
        if not close(out.data, ref.data, 1e-12):
            fail(f"{name}.data", f"{ref.data:g}", fmt(out.data), "the larger of a.data and b.data")
        out.backward()
        ref.backward()
        got = [a.grad] + ([b.grad] if isinstance(b, Value) else [])
        expected = [ref_a.grad] + ([ref_b.grad] if isinstance(ref_b, Value) else [])
        if not all_close(got, expected, 1e-12):
            fail(f"{name}, then backward: the gradients of " + ("[a, b]" if len(got) == 2 else "[a]"),
                 fmt(expected), fmt(got),
                 "the whole gradient goes to the larger input, none to the other; on a tie, 0.5 to each "
                 "(not 1 to each, nor all to one of them)")
    if cases is not None:
        passed("maximum", f"{len(cases)} more pairs")
        return
    # inside an expression: y = maximum(a * b, a + b) * a, a used three times
    a, b = Value(0.5), Value(3.0)
    y = call("maximum(a * b, a + b) * a", lambda: maximum(a * b, a + b) * a)
    y.backward()
    ref_a, ref_b = Value(0.5), Value(3.0)
    (_maximum_reference(ref_a * ref_b, ref_a + ref_b) * ref_a).backward()
    if not all_close([a.grad, b.grad], [ref_a.grad, ref_b.grad], 1e-12):
        fail("y = maximum(a * b, a + b) * a at a=0.5, b=3: [a.grad, b.grad]", fmt([ref_a.grad, ref_b.grad]),
             fmt([a.grad, b.grad]), "record both inputs as children, so backward reaches the larger one")
    passed("maximum", "its value and gradients, a tie split in half, and inside an expression")


def _deep_chain(x):
    """x + 1 + 1 + ..., 5,000 additions deep: far more nested calls than Python allows."""
    y = x
    for _ in range(5_000):
        y = y + 1
    return y


# (label, build, leaf numbers, loop): build(*leaves) makes the root from fresh Values of the numbers;
# loop None, or (i, j): node j of the topological order gets node i, which comes after it, as one
# more child, which closes a cycle (i = -1 is the root: a cycle through the root)
GRAPHS = [
    ("a single Value", lambda a: a, [2.0], None),
    ("(b + a) * b with b = a * a", lambda a: (lambda b: (b + a) * b)(a * a), [2.0], None),
    ("a chain of 5,000 additions", _deep_chain, [1.0], None),
    ("(b + a) * b with b = a * a, and the root made a child of b", lambda a: (lambda b: (b + a) * b)(a * a),
     [2.0], (-1, 1)),
]


def _close_loop(root, loop):
    nodes = topological_order(root)
    i, j = loop
    upper, lower = nodes[i], nodes[j]
    lower._children = tuple(lower._children) + (upper,)
    lower._local_grads = tuple(lower._local_grads) + (0.0,)
    return lower, upper


def _order_or_error(topo_order):
    def run(root):
        try:
            return topo_order(root), None
        except ValueError as err:
            return None, err
    run.__name__ = getattr(topo_order, "__name__", "topo_order")
    return run


@exercise(5, "a topological order without recursion, which finds cycles")
def check_topo_order(topo_order, cases=None):
    """topo_order(root) -> every node below root once, each after its children, with no recursion;
    ValueError if the graph has a cycle.

    cases: (label, build, leaf numbers, loop) tuples, as GRAPHS; None: GRAPHS.
    """
    __tracebackhide__ = True
    run = _order_or_error(topo_order)
    for label, build, numbers, loop in GRAPHS if cases is None else cases:
        root = build(*[Value(x) for x in numbers])
        name = f"topo_order(root) for {label}"
        if loop is not None:
            lower, upper = _close_loop(root, loop)
            got, err = call(name, run, root)
            if err is None:
                where = "through the root" if upper is root else "below the root, not through it"
                fail(name, "a ValueError: the graph has a cycle " + where,
                     f"a list of {len(got)} nodes" if isinstance(got, list) else repr(got)[:60],
                     "a cycle is a child that is still on the path you are exploring (started, not finished): "
                     "keep those nodes apart from the finished ones, and raise ValueError when you meet one")
            continue
        got, err = call(name, run, root,
                        hint="a graph thousands of levels deep stops a recursive search at about 1,000 nested "
                             "calls (RecursionError): keep your own stack of nodes to return to")
        if err is not None:
            fail(name, "an order (this graph has no cycle)", f"ValueError: {err}",
                 "a node reached twice is shared, not a cycle: a cycle is a child that is still on the path "
                 "you are exploring")
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
                    fail(name, "every node after all of its children",
                         f"a node ({node._op or 'leaf'}) before one of its children",
                         "add a node to the list only after all its children are in it (post-order)")
    n = len(GRAPHS if cases is None else cases)
    passed("topo_order", f"every node once, children first, 5,000 levels deep, cycles found, on {n} graphs"
           if cases is None else f"{n} more graphs")


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
