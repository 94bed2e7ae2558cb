"""Plausible wrong answers to the exercises of chapter 02: each of WRONG must fail its check cell (hidden
cases included); each of HIDDEN_ONLY must pass the visible check and fail the hidden cases."""

WRONG = {
    "ex02_1_second_derivative": [
        # divided by h: the two points x - h and x + h are 2h apart
        '''def second_derivative(f, x, h=1e-5):
    def grad_at(x):
        v = Value(x)
        f(v).backward()
        return v.grad

    return (grad_at(x + h) - grad_at(x - h)) / h
''',
        # one Value nudged in place, its gradient not set back to 0: the second backward adds to the first
        '''def second_derivative(f, x, h=1e-5):
    v = Value(x + h)
    f(v).backward()
    up = v.grad
    v.data = x - h
    f(v).backward()
    down = v.grad
    return (up - down) / (2 * h)
''',
        # f nudged twice, never backward: the central difference of central differences, step h each time
        '''def second_derivative(f, x, h=1e-5):
    def slope(x):
        return (f(Value(x + h)).data - f(Value(x - h)).data) / (2 * h)

    return (slope(x + h) - slope(x - h)) / (2 * h)
''',
        # the difference the wrong way round: f'(x - h) - f'(x + h)
        '''def second_derivative(f, x, h=1e-5):
    def grad_at(x):
        v = Value(x)
        f(v).backward()
        return v.grad

    return (grad_at(x - h) - grad_at(x + h)) / (2 * h)
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
    "ex02_4_maximum": [
        # built from relu: the right value, but at a tie the whole gradient goes to b
        '''def maximum(a, b):
    return (a - b).relu() + b
''',
        # the tie settled by >=: all of the gradient to a, none to b
        '''def maximum(a, b):
    b = b if isinstance(b, Value) else Value(b)
    local_grads = (1.0, 0.0) if a.data >= b.data else (0.0, 1.0)
    return Value(max(a.data, b.data), (a, b), local_grads, "max")
''',
        # relu's local gradient for each input (is it above 0?), not max's (is it the larger one?)
        '''def maximum(a, b):
    b = b if isinstance(b, Value) else Value(b)
    return Value(max(a.data, b.data), (a, b), (float(a.data > 0), float(b.data > 0)), "max")
''',
        # a tie gives each input the whole gradient, 1 and 1: twice the slope in all
        '''def maximum(a, b):
    b = b if isinstance(b, Value) else Value(b)
    if a.data == b.data:
        local_grads = (1.0, 1.0)
    else:
        local_grads = (1.0, 0.0) if a.data > b.data else (0.0, 1.0)
    return Value(max(a.data, b.data), (a, b), local_grads, "max")
''',
    ],
    "ex02_5_topo_order": [
        # recursive, as the chapter's build_topo: right, and cycles found, but a RecursionError 5,000 deep
        '''def topo_order(root):
    order, started, finished = [], set(), set()

    def visit(node):
        if node in started:
            raise ValueError("the graph has a cycle")
        if node in finished:
            return
        started.add(node)
        for child in node._children:
            visit(child)
        started.remove(node)
        finished.add(node)
        order.append(node)

    visit(root)
    return order
''',
        # a node reached twice taken for a cycle: a shared node (b = a * a) is not one
        '''def topo_order(root):
    order, visited = [], {root}
    stack = [(root, iter(root._children))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child in visited:
                raise ValueError("the graph has a cycle")
            visited.add(child)
            stack.append((child, iter(child._children)))
            break
        else:
            stack.pop()
            order.append(node)
    return order
''',
        # the library's order, with no cycle check: a graph with a cycle gets an order anyway
        '''def topo_order(root):
    order, visited = [], {root}
    stack = [(root, iter(root._children))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child not in visited:
                visited.add(child)
                stack.append((child, iter(child._children)))
                break
        else:
            stack.pop()
            order.append(node)
    return order
''',
        # each node appended when it is pushed (pre-order): parents before their children
        '''def topo_order(root):
    order, started, finished = [root], {root}, set()
    stack = [(root, iter(root._children))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child in started:
                raise ValueError("the graph has a cycle")
            if child not in finished:
                started.add(child)
                order.append(child)
                stack.append((child, iter(child._children)))
                break
        else:
            stack.pop()
            started.remove(node)
            finished.add(node)
    return order
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
    "ex02_1_second_derivative": [
        # the local gradient of f's last operation taken for the whole gradient: right only when f is
        # a single operation on v, as in every visible case, wrong for (v * v + 1).log()
        '''def second_derivative(f, x, h=1e-5):
    def grad_at(x):
        return f(Value(x))._local_grads[0]

    return (grad_at(x + h) - grad_at(x - h)) / (2 * h)
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
    "ex02_4_maximum": [
        # a plain number b not wrapped in a Value: right for two Values, as in every visible case,
        # and an AttributeError on maximum(x, 0)
        '''def maximum(a, b):
    if a.data > b.data:
        local_grads = (1.0, 0.0)
    elif a.data < b.data:
        local_grads = (0.0, 1.0)
    else:
        local_grads = (0.5, 0.5)
    return Value(max(a.data, b.data), (a, b), local_grads, "max")
''',
    ],
    "ex02_5_topo_order": [
        # a cycle looked for only through the root (a child that is root): right for the visible cycle,
        # blind to one further down
        '''def topo_order(root):
    order, visited = [], {root}
    stack = [(root, iter(root._children))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child is root:
                raise ValueError("the graph has a cycle through the root")
            if child not in visited:
                visited.add(child)
                stack.append((child, iter(child._children)))
                break
        else:
            stack.pop()
            order.append(node)
    return order
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
