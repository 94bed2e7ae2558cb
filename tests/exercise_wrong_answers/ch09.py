"""Plausible wrong answers to the exercises of chapter 09; each must fail its check."""

SOFTMAX_NLL_WITH = '''def softmax_nll(logits, target):
    z = [zi.data for zi in logits]
    max_z = {max_z}
    exps = [math.exp(zi - max_z) for zi in z]
    total = sum(exps)
    probs = [e / total for e in exps]
    local_grads = {local_grads}
    return Value({loss}, tuple(logits), tuple(local_grads), "softmax_nll")
'''
RIGHT = dict(max_z="max(z)", local_grads="[p - (i == target) for i, p in enumerate(probs)]", loss="-math.log(probs[target])")

ATTENTION_WITH = '''def causal_attention_weights(q, k):
    T, head_dim = q.shape
    scores = {scores}
    e = np.exp(scores - scores.max(axis={axis}, keepdims=True))
    return e / e.sum(axis={axis}, keepdims=True)
'''
RIGHT_SCORES = "q @ k.T / np.sqrt(head_dim) + np.triu(np.full((T, T), -np.inf), k=1)"

WRONG = {
    "ex09_1_softmax_nll": [
        # the one-hot forgotten: the gradient of log-sum-exp alone
        SOFTMAX_NLL_WITH.format(**{**RIGHT, "local_grads": "list(probs)"}),
        # the sign turned round: onehot - p
        SOFTMAX_NLL_WITH.format(**{**RIGHT, "local_grads": "[(i == target) - p for i, p in enumerate(probs)]"}),
        # the loss without its minus sign
        SOFTMAX_NLL_WITH.format(**{**RIGHT, "loss": "math.log(probs[target])"}),
        # the gradient of -log p with respect to p, not to the logits
        SOFTMAX_NLL_WITH.format(**{**RIGHT, "local_grads": "[-1 / p if i == target else 0.0 for i, p in enumerate(probs)]"}),
        # the max not subtracted: exp(1000) overflows
        SOFTMAX_NLL_WITH.format(**{**RIGHT, "max_z": "0"}),
        # right numbers, but the scalar chain of chapter 03: hundreds of nodes, not one
        '''from microgpt_lib.nn import nll, softmax


def softmax_nll(logits, target):
    return nll(softmax(logits), target)
''',
    ],
    "ex09_2_matmul_backward": [
        # the two gradients swapped
        '''def matmul_backward(a, b, g):
    return a.T @ g, g @ b.T
''',
        # transposes forgotten
        '''def matmul_backward(a, b, g):
    return g @ b, a @ g
''',
        # grad_b transposed: g.T @ a is (m, k)
        '''def matmul_backward(a, b, g):
    return g @ b.T, g.T @ a
''',
        # the other factor itself, as for a product of two numbers
        '''def matmul_backward(a, b, g):
    return b.T * g.sum(), a.T * g.sum()
''',
    ],
    "ex09_3_unbroadcast": [
        # only the axes added in front
        '''def unbroadcast(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    return g
''',
        # only the axes of size 1
        '''def unbroadcast(g, shape):
    for axis, size in enumerate(shape):
        if size == 1:
            g = g.sum(axis=axis, keepdims=True)
    return g
''',
        # the mean instead of the sum
        '''def unbroadcast(g, shape):
    while g.ndim > len(shape):
        g = g.mean(axis=0)
    for axis, size in enumerate(shape):
        if size == 1:
            g = g.mean(axis=axis, keepdims=True)
    return g
''',
        # the stretched axes summed away instead of kept with size 1
        '''def unbroadcast(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis in reversed(range(len(shape))):
        if shape[axis] == 1:
            g = g.sum(axis=axis)
    return g
''',
        # the axes counted from the left: the last axes of g dropped
        '''def unbroadcast(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=-1)
    for axis, size in enumerate(shape):
        if size == 1:
            g = g.sum(axis=axis, keepdims=True)
    return g
''',
    ],
    "ex09_4_embedding_backward": [
        # plain assignment: the last repeat wins
        '''def embedding_backward(g, ids, vocab_size):
    grad = np.zeros((vocab_size, g.shape[1]))
    grad[ids] = g
    return grad
''',
        # += with fancy indexing: NumPy buffers it, one repeat is lost
        '''def embedding_backward(g, ids, vocab_size):
    grad = np.zeros((vocab_size, g.shape[1]))
    grad[ids] += g
    return grad
''',
        # the sum of all positions given to every row
        '''def embedding_backward(g, ids, vocab_size):
    return np.tile(g.sum(axis=0), (vocab_size, 1))
''',
        # each token's rows averaged, not added
        '''def embedding_backward(g, ids, vocab_size):
    grad = np.zeros((vocab_size, g.shape[1]))
    counts = np.zeros(vocab_size)
    np.add.at(grad, ids, g)
    np.add.at(counts, ids, 1)
    return grad / np.maximum(counts, 1)[:, None]
''',
    ],
    "ex09_5_causal_attention_weights": [
        # the diagonal masked too: a position cannot see itself, and position 0 sees nothing (nan)
        ATTENTION_WITH.format(scores="q @ k.T / np.sqrt(head_dim) + np.triu(np.full((T, T), -np.inf), k=0)", axis=1),
        # the past masked instead of the future
        ATTENTION_WITH.format(scores="q @ k.T / np.sqrt(head_dim) + np.tril(np.full((T, T), -np.inf), k=-1)", axis=1),
        # the scale forgotten
        ATTENTION_WITH.format(scores="q @ k.T + np.triu(np.full((T, T), -np.inf), k=1)", axis=1),
        # the mask multiplied in: a future score becomes 0, not -inf, and still gets weight
        ATTENTION_WITH.format(scores="q @ k.T / np.sqrt(head_dim) * np.tril(np.ones((T, T)))", axis=1),
        # softmax down the columns
        ATTENTION_WITH.format(scores=RIGHT_SCORES, axis=0),
        # no mask at all: every position sees the whole name
        ATTENTION_WITH.format(scores="q @ k.T / np.sqrt(head_dim)", axis=1),
    ],
}
