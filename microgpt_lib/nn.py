"""The building blocks of the model, on lists of `Value`s."""
from .autograd import Value


def matrix(nout, nin, rng, std=0.08):
    """`nout` rows of `nin` parameters, drawn row by row from a Gaussian of spread `std`."""
    return [[Value(rng.gauss(0, std)) for _ in range(nin)] for _ in range(nout)]


def linear(x, w):
    """w @ x: one weighted sum of `x` per row of `w`."""
    return [sum(wi * xi for wi, xi in zip(wo, x)) for wo in w]


def softmax(logits):
    """Probabilities proportional to exp(logit); the max is subtracted so exp cannot overflow."""
    max_val = max(val.data for val in logits)
    exps = [(val - max_val).exp() for val in logits]
    total = sum(exps)
    return [e / total for e in exps]


def rmsnorm(x):
    """x scaled to a root-mean-square of 1 (no learned gain, as in microgpt)."""
    ms = sum(xi * xi for xi in x) / len(x)
    scale = (ms + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def relu(x):
    """max(0, x) for each element."""
    return [xi.relu() for xi in x]


def nll(probs, target):
    """Negative log-likelihood of the `target` id: small when its probability is near 1."""
    return -probs[target].log()
