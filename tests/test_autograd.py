"""Every Value operation: its value and gradient against central differences and by hand."""
import math
import random
import sys

import pytest

from microgpt_lib.autograd import Value, topological_order

H = 1e-6


def central_difference(f, xs, i):
    up, down = list(xs), list(xs)
    up[i] += H
    down[i] -= H
    return (f(*up) - f(*down)) / (2 * H)


def log(x):
    return x.log() if isinstance(x, Value) else math.log(x)


def exp(x):
    return x.exp() if isinstance(x, Value) else math.exp(x)


def relu(x):
    return x.relu() if isinstance(x, Value) else max(0.0, x)


# (name, function of Values or floats, inputs, hand-derived gradient)
CASES = [
    ("a + b", lambda a, b: a + b, (2.0, -3.0), lambda a, b: (1, 1)),
    ("a * b", lambda a, b: a * b, (2.0, -3.0), lambda a, b: (b, a)),
    ("a ** 3", lambda a: a**3, (1.5,), lambda a: (3 * a**2,)),
    ("a ** -0.5", lambda a: a**-0.5, (2.0,), lambda a: (-0.5 * a**-1.5,)),
    ("log a", log, (0.7,), lambda a: (1 / a,)),
    ("exp a", exp, (0.3,), lambda a: (math.exp(a),)),
    ("relu a > 0", relu, (0.8,), lambda a: (1.0,)),
    ("relu a < 0", relu, (-0.8,), lambda a: (0.0,)),
    ("-a", lambda a: -a, (2.5,), lambda a: (-1,)),
    ("a - b", lambda a, b: a - b, (2.0, -3.0), lambda a, b: (1, -1)),
    ("a / b", lambda a, b: a / b, (2.0, -3.0), lambda a, b: (1 / b, -a / b**2)),
    ("2 + a (radd)", lambda a: 2 + a, (0.4,), lambda a: (1,)),
    ("2 * a (rmul)", lambda a: 2 * a, (0.4,), lambda a: (2,)),
    ("2 - a (rsub)", lambda a: 2 - a, (0.4,), lambda a: (-1,)),
    ("2 / a (rtruediv)", lambda a: 2 / a, (0.4,), lambda a: (-2 / a**2,)),
    ("a - 2", lambda a: a - 2, (0.4,), lambda a: (1,)),
    ("a / 2", lambda a: a / 2, (0.4,), lambda a: (0.5,)),
    ("a * a (reused)", lambda a: a * a, (-1.5,), lambda a: (2 * a,)),
    ("mixed", lambda a, b: exp(a * b + b**2) / (1 + relu(a)) - log(a), (0.3, -0.4), None),
]


@pytest.mark.parametrize("name, f, xs, by_hand", CASES, ids=[c[0] for c in CASES])
def test_operation(name, f, xs, by_hand):
    values = [Value(x) for x in xs]
    out = f(*values)
    assert out.data == pytest.approx(f(*xs), rel=1e-12)
    out.backward()
    for i, v in enumerate(values):
        assert v.grad == pytest.approx(central_difference(f, xs, i), rel=1e-5, abs=1e-8), f"d/d{'ab'[i]} of {name}"
        if by_hand is not None:
            assert v.grad == pytest.approx(by_hand(*xs)[i], rel=1e-12, abs=1e-15)


def test_derived_operations_are_built_from_primitives():
    a, b = Value(2.0), Value(4.0)
    assert (a / b)._op == "*" and (a / b)._children[1]._op == "**-1"
    assert (a - b)._op == "+" and (a - b)._children[1]._op == "*"
    assert (-a)._op == "*" and (-a)._children[1].data == -1


def test_gradients_accumulate_over_every_use():
    a = Value(3.0)
    out = a * a + a  # d/da = 2a + 1
    out.backward()
    assert a.grad == 7.0


def test_exponent_must_be_a_number():
    with pytest.raises(TypeError, match="exponent must be a plain number"):
        Value(2.0) ** Value(3.0)


def test_backward_does_not_recurse():
    x = Value(1.0)
    out = x
    for _ in range(100_000):
        out = out + 1.0
    limit = sys.getrecursionlimit()
    out.backward()
    assert sys.getrecursionlimit() == limit
    assert x.grad == 1 and out.data == 100_001.0


def recursive_order(root):
    """micrograd's recursive topological sort, the reference the iterative one must match."""
    order, visited = [], set()

    def build(v):
        if v not in visited:
            visited.add(v)
            for child in v._children:
                build(child)
            order.append(v)

    build(root)
    return order


def test_topological_order_matches_the_recursive_one():
    rng = random.Random(0)
    nodes = [Value(rng.uniform(-1, 1)) for _ in range(6)]
    for _ in range(60):  # a random graph with much sharing of nodes
        a, b = rng.choice(nodes), rng.choice(nodes)
        nodes.append(rng.choice([lambda: a + b, lambda: a * b, lambda: (a * b).relu(), lambda: a - b])())
    root = sum(nodes[-10:])
    order = topological_order(root)
    assert order == recursive_order(root)
    position = {node: i for i, node in enumerate(order)}
    assert all(position[c] < position[n] for n in order for c in n._children)
