"""Plausible wrong answers to the exercises of chapter 03; each must fail its check."""

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
    "ex03_2_softmax": [
        # the max is not subtracted: exp(1000) overflows
        '''def softmax(logits):
    exps = [v.exp() for v in logits]
    total = sum(exps)
    return [e / total for e in exps]
''',
        # the min subtracted instead of the max: exp(800) still overflows
        '''def softmax(logits):
    m = min(v.data for v in logits)
    exps = [(v - m).exp() for v in logits]
    total = sum(exps)
    return [e / total for e in exps]
''',
        # plain floats with math.exp: right numbers, but no graph to back-propagate through
        '''import math


def softmax(logits):
    m = max(v.data for v in logits)
    exps = [math.exp(v.data - m) for v in logits]
    total = sum(exps)
    return [Value(e / total) for e in exps]
''',
        # divided by the largest exp, not by the sum
        '''def softmax(logits):
    m = max(v.data for v in logits)
    exps = [(v - m).exp() for v in logits]
    return [e / max(exps, key=lambda e: e.data) for e in exps]
''',
    ],
    "ex03_3_rmsnorm": [
        # the sum of squares, not the mean: missing 1/n
        '''def rmsnorm(x):
    ms = sum(xi * xi for xi in x)
    scale = (ms + 1e-5) ** -0.5
    return [xi * scale for xi in x]
''',
        # no epsilon
        '''def rmsnorm(x):
    ms = sum(xi * xi for xi in x) / len(x)
    scale = ms ** -0.5
    return [xi * scale for xi in x]
''',
        # layer norm: the mean subtracted first
        '''def rmsnorm(x):
    mean = sum(x) / len(x)
    centered = [xi - mean for xi in x]
    var = sum(c * c for c in centered) / len(x)
    scale = (var + 1e-5) ** -0.5
    return [c * scale for c in centered]
''',
        # multiplied by the root mean square instead of divided
        '''def rmsnorm(x):
    ms = sum(xi * xi for xi in x) / len(x)
    scale = (ms + 1e-5) ** 0.5
    return [xi * scale for xi in x]
''',
    ],
    "ex03_4_cross_entropy": [
        # sign error: the log-likelihood
        '''def cross_entropy(logits, target):
    probs = nn.softmax(logits)
    return probs[target].log()
''',
        # off by one: the token before the target
        '''def cross_entropy(logits, target):
    probs = nn.softmax(logits)
    return -probs[target - 1].log()
''',
        # 1 - p instead of -log p
        '''def cross_entropy(logits, target):
    probs = nn.softmax(logits)
    return 1 - probs[target]
''',
    ],
    "ex03_5_softmax_nll_grad": [
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
        # not stable: exp(1000) overflows
        '''def softmax_nll_grad(logits, target):
    exps = [math.exp(z) for z in logits]
    total = sum(exps)
    grads = [e / total for e in exps]
    grads[target] -= 1
    return grads
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
}
