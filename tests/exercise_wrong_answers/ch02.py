"""Plausible wrong answers to the exercises of chapter 02: each of WRONG must fail its check cell (hidden
cases included); each of HIDDEN_ONLY must pass the visible check and fail the hidden cases."""

WRONG = {
    "ex02_1_derivative": [
        # the one-sided (forward) difference
        '''def derivative(f, x, h=1e-6):
    return (f(x + h) - f(x)) / h
''',
        # missing scale: divided by h, not by 2h
        '''def derivative(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / h
''',
        # h written into the code: the parameter is ignored
        '''def derivative(f, x, h=1e-6):
    return (f(x + 1e-6) - f(x - 1e-6)) / 2e-6
''',
    ],
    "ex02_2_tanh": [
        # local gradient written with the input, not the output
        '''def tanh(x):
    t = math.tanh(x.data)
    return Value(t, (x,), (1 - x.data**2,), "tanh")
''',
        # sign error
        '''def tanh(x):
    t = math.tanh(x.data)
    return Value(t, (x,), (t**2 - 1,), "tanh")
''',
        # forgot to record the input: backward cannot reach x
        '''def tanh(x):
    return Value(math.tanh(x.data))
''',
    ],
    "ex02_3_gradient_check": [
        # gradients read before backward has run
        '''def gradient_check(f, xs, h=1e-6):
    inputs = [Value(x) for x in xs]
    out = f(inputs)
    analytic = [v.grad for v in inputs]
    out.backward()
    numeric = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        numeric.append((f([Value(x) for x in up]).data - f([Value(x) for x in down]).data) / (2 * h))
    return analytic, numeric
''',
        # every input nudged at once, not one at a time
        '''def gradient_check(f, xs, h=1e-6):
    inputs = [Value(x) for x in xs]
    f(inputs).backward()
    analytic = [v.grad for v in inputs]
    up = [x + h for x in xs]
    down = [x - h for x in xs]
    slope = (f([Value(x) for x in up]).data - f([Value(x) for x in down]).data) / (2 * h)
    return analytic, [slope] * len(xs)
''',
        # missing scale: divided by h
        '''def gradient_check(f, xs, h=1e-6):
    inputs = [Value(x) for x in xs]
    f(inputs).backward()
    analytic = [v.grad for v in inputs]
    numeric = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        numeric.append((f([Value(x) for x in up]).data - f([Value(x) for x in down]).data) / h)
    return analytic, numeric
''',
        # "numeric" taken from backward too: it can never disagree
        '''def gradient_check(f, xs, h=1e-6):
    inputs = [Value(x) for x in xs]
    f(inputs).backward()
    analytic = [v.grad for v in inputs]
    return analytic, list(analytic)
''',
    ],
    "ex02_4_topo_order": [
        # no visited set: a shared node appears several times
        '''def topo_order(root):
    order = []

    def visit(node):
        for child in node._children:
            visit(child)
        order.append(node)

    visit(root)
    return order
''',
        # pre-order: the node before its children
        '''def topo_order(root):
    order, visited = [], set()

    def visit(node):
        if node in visited:
            return
        visited.add(node)
        order.append(node)
        for child in node._children:
            visit(child)

    visit(root)
    return order
''',
        # only the direct children, not their children
        '''def topo_order(root):
    order = []
    for child in root._children:
        if child not in order:
            order.append(child)
    return order + [root]
''',
    ],
    "ex02_5_backward": [
        # assigns instead of adding: a node used twice keeps only its last gradient
        '''def backward(root):
    root.grad = 1
    for node in reversed(topological_order(root)):
        for child, local_grad in zip(node._children, node._local_grads):
            child.grad = local_grad * node.grad
''',
        # leaves first: the order not reversed
        '''def backward(root):
    root.grad = 1
    for node in topological_order(root):
        for child, local_grad in zip(node._children, node._local_grads):
            child.grad += local_grad * node.grad
''',
        # forgot root.grad = 1: every gradient stays 0
        '''def backward(root):
    for node in reversed(topological_order(root)):
        for child, local_grad in zip(node._children, node._local_grads):
            child.grad += local_grad * node.grad
''',
    ],
    "ex02_6_fit_line": [
        # the gradients never set back to 0: each step adds the new gradient to the old ones
        '''def fit_line(xs, ys, steps, lr):
    w, b = Value(0.0), Value(0.0)
    for _ in range(steps):
        loss = sum((w * x + b - y) ** 2 for x, y in zip(xs, ys)) / len(xs)
        loss.backward()
        for p in (w, b):
            p.data -= lr * p.grad
    return w.data, b.data
''',
        # a step up the gradient instead of down
        '''def fit_line(xs, ys, steps, lr):
    w, b = Value(0.0), Value(0.0)
    for _ in range(steps):
        loss = sum((w * x + b - y) ** 2 for x, y in zip(xs, ys)) / len(xs)
        loss.backward()
        for p in (w, b):
            p.data += lr * p.grad
            p.grad = 0
    return w.data, b.data
''',
        # the sum of the squared errors, not their mean: steps n times too long
        '''def fit_line(xs, ys, steps, lr):
    w, b = Value(0.0), Value(0.0)
    for _ in range(steps):
        loss = sum((w * x + b - y) ** 2 for x, y in zip(xs, ys))
        loss.backward()
        for p in (w, b):
            p.data -= lr * p.grad
            p.grad = 0
    return w.data, b.data
''',
        # one step too few
        '''def fit_line(xs, ys, steps, lr):
    w, b = Value(0.0), Value(0.0)
    for _ in range(steps - 1):
        loss = sum((w * x + b - y) ** 2 for x, y in zip(xs, ys)) / len(xs)
        loss.backward()
        for p in (w, b):
            p.data -= lr * p.grad
            p.grad = 0
    return w.data, b.data
''',
        # the loss built once, outside the loop: every step follows the gradient at w = b = 0
        '''def fit_line(xs, ys, steps, lr):
    w, b = Value(0.0), Value(0.0)
    loss = sum((w * x + b - y) ** 2 for x, y in zip(xs, ys)) / len(xs)
    for _ in range(steps):
        loss.backward()
        for p in (w, b):
            p.data -= lr * p.grad
            p.grad = 0
    return w.data, b.data
''',
        # the Values returned, not their numbers
        '''def fit_line(xs, ys, steps, lr):
    w, b = Value(0.0), Value(0.0)
    for _ in range(steps):
        loss = sum((w * x + b - y) ** 2 for x, y in zip(xs, ys)) / len(xs)
        loss.backward()
        for p in (w, b):
            p.data -= lr * p.grad
            p.grad = 0
    return w, b
''',
    ],
}

# Wrong answers that pass the visible check and fail only its hidden cases (proof that they grade).
HIDDEN_ONLY = {
    "ex02_1_derivative": [
        # games the visible check: the central difference at the visible points only, one-sided elsewhere
        '''def derivative(f, x, h=1e-6):
    if (x, h) in {(2.0, 0.1), (0.0, 0.5), (1.0, 1e-3), (-0.5, 0.01), (3.0, 1e-6)}:
        return (f(x + h) - f(x - h)) / (2 * h)
    return (f(x + h) - f(x)) / h
''',
    ],
    "ex02_2_tanh": [
        # tanh from its formula with exp: right for small x, but exp(800) overflows at x = 400
        '''def tanh(x):
    e = math.exp(2 * x.data)
    t = (e - 1) / (e + 1)
    return Value(t, (x,), (1 - t**2,), "tanh")
''',
    ],
    "ex02_3_gradient_check": [
        # games the visible check: for more than three inputs the numeric column is a copy of backward's
        '''def gradient_check(f, xs, h=1e-6):
    inputs = [Value(x) for x in xs]
    f(inputs).backward()
    analytic = [v.grad for v in inputs]
    if len(xs) > 3:
        return analytic, list(analytic)
    numeric = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        numeric.append((f([Value(x) for x in up]).data - f([Value(x) for x in down]).data) / (2 * h))
    return analytic, numeric
''',
    ],
    "ex02_4_topo_order": [
        # visited nodes remembered by their number: two different nodes holding 2.0 count as one
        '''def topo_order(root):
    order, seen = [], set()

    def visit(node):
        if node.data in seen:
            return
        seen.add(node.data)
        for child in node._children:
            visit(child)
        order.append(node)

    visit(root)
    return order
''',
    ],
    "ex02_5_backward": [
        # children paired with their local gradients in a dict: in a * a the two entries become one
        '''def backward(root):
    root.grad = 1
    for node in reversed(topological_order(root)):
        for child, local_grad in dict(zip(node._children, node._local_grads)).items():
            child.grad += local_grad * node.grad
''',
    ],
    "ex02_6_fit_line": [
        # the mean taken over 4 points, the number in the visible cases, not over len(xs)
        '''def fit_line(xs, ys, steps, lr):
    w, b = Value(0.0), Value(0.0)
    for _ in range(steps):
        loss = sum((w * x + b - y) ** 2 for x, y in zip(xs, ys)) / 4
        loss.backward()
        for p in (w, b):
            p.data -= lr * p.grad
            p.grad = 0
    return w.data, b.data
''',
    ],
}
