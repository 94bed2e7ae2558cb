"""Plausible wrong answers to the exercises of chapter 03: each of WRONG must fail its check cell (hidden
cases included); each of HIDDEN_ONLY must pass the visible check and fail the hidden cases."""

WRONG = {
    "ex03_1_linear": [
        # transposed: one sum per column of w
        '''def linear(x, w):
    return [sum(w[j][i] * x[j] for j in range(len(w))) for i in range(len(x))]
''',
        # off by one: the first row left out
        '''def linear(x, w):
    return [sum(wi * xi for wi, xi in zip(row, x)) for row in w[1:]]
''',
        # every row multiplied by the first input only
        '''def linear(x, w):
    return [sum(wi * x[0] for wi in row) for row in w]
''',
    ],
    "ex03_2_silu": [
        # the local gradient of sigmoid alone: the product rule forgotten
        '''def silu(x):
    s = 1 / (1 + math.exp(-x.data)) if x.data >= 0 else math.exp(x.data) / (1 + math.exp(x.data))
    return Value(x.data * s, (x,), (s * (1 - s),), "silu")
''',
        # only the first term of the product rule: s, as if sigma did not depend on x
        '''def silu(x):
    s = 1 / (1 + math.exp(-x.data)) if x.data >= 0 else math.exp(x.data) / (1 + math.exp(x.data))
    return Value(x.data * s, (x,), (s,), "silu")
''',
        # the input not recorded: backward cannot reach x
        '''def silu(x):
    s = 1 / (1 + math.exp(-x.data)) if x.data >= 0 else math.exp(x.data) / (1 + math.exp(x.data))
    return Value(x.data * s)
''',
        # sigma(-x) for sigma(x): a sign slip
        '''def silu(x):
    s = 1 / (1 + math.exp(x.data)) if x.data <= 0 else math.exp(-x.data) / (1 + math.exp(-x.data))
    return Value(x.data * s, (x,), (s * (1 + x.data * (1 - s)),), "silu")
''',
    ],
    "ex03_3_log_softmax": [
        # the max not subtracted: exp(1000) overflows
        '''def log_softmax(logits):
    total = sum(math.exp(z) for z in logits)
    return [z - math.log(total) for z in logits]
''',
        # the max subtracted inside the exp but not outside the log: every entry off by m
        '''def log_softmax(logits):
    m = max(logits)
    return [z - math.log(sum(math.exp(v - m) for v in logits)) for z in logits]
''',
        # the probabilities, not their logs
        '''def log_softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    return [e / sum(exps) for e in exps]
''',
    ],
    "ex03_4_softmax_nll_grad": [
        # sign error: onehot - p
        '''def softmax_nll_grad(logits, target):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    total = sum(exps)
    grads = [-e / total for e in exps]
    grads[target] += 1
    return grads
''',
        # forgot the one-hot: just p
        '''def softmax_nll_grad(logits, target):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]
''',
        # the 1 subtracted at the wrong place
        '''def softmax_nll_grad(logits, target):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    total = sum(exps)
    grads = [e / total for e in exps]
    grads[target - 1] -= 1
    return grads
''',
    ],
    "ex03_5_rmsnorm_backward": [
        # only the path through x_j: s * dy, as if s were a constant
        '''def rmsnorm_backward(x, dy):
    s = (sum(xi * xi for xi in x) / len(x) + 1e-5) ** -0.5
    return [s * g for g in dy]
''',
        # the path through s with the wrong sign
        '''def rmsnorm_backward(x, dy):
    n = len(x)
    s = (sum(xi * xi for xi in x) / n + 1e-5) ** -0.5
    dot = sum(g * xi for g, xi in zip(dy, x))
    return [s * g + s**3 / n * xj * dot for g, xj in zip(dy, x)]
''',
        # the 1/n of the mean forgotten in ds/dx
        '''def rmsnorm_backward(x, dy):
    n = len(x)
    s = (sum(xi * xi for xi in x) / n + 1e-5) ** -0.5
    dot = sum(g * xi for g, xi in zip(dy, x))
    return [s * g - s**3 * xj * dot for g, xj in zip(dy, x)]
''',
    ],
}

HIDDEN_ONLY = {
    "ex03_1_linear": [
        # games the visible check: rows past the fourth (the largest layer it tries) are dropped
        '''def linear(x, w):
    return [sum(wi * xi for wi, xi in zip(row, x)) for row in w[:4]]
''',
    ],
    "ex03_2_silu": [
        # sigmoid as 1 / (1 + exp(-x)) for every x: right until exp(800) overflows at x = -800
        '''def silu(x):
    s = 1 / (1 + math.exp(-x.data))
    return Value(x.data * s, (x,), (s * (1 + x.data * (1 - s)),), "silu")
''',
    ],
    "ex03_3_log_softmax": [
        # the log of a stable softmax: a probability of exp(-2000) rounds to 0, and log(0) fails
        '''def log_softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    total = sum(exps)
    return [math.log(e / total) for e in exps]
''',
    ],
    "ex03_4_softmax_nll_grad": [
        # not stable: exp(1000) overflows
        '''def softmax_nll_grad(logits, target):
    exps = [math.exp(z) for z in logits]
    total = sum(exps)
    grads = [e / total for e in exps]
    grads[target] -= 1
    return grads
''',
    ],
    "ex03_5_rmsnorm_backward": [
        # the epsilon left out: invisible on ordinary vectors, a division by zero on a vector of zeros
        '''def rmsnorm_backward(x, dy):
    n = len(x)
    s = (sum(xi * xi for xi in x) / n) ** -0.5
    dot = sum(g * xi for g, xi in zip(dy, x))
    return [s * g - s**3 / n * xj * dot for g, xj in zip(dy, x)]
''',
    ],
}
